//! `iris-freeze run -- CMD`: freeze, CMD, always thaw, against the simulator. Each CMD checks
//! from inside that the simulator is frozen (IsWDSuspendedExt through `iris session`: exit 5).

use std::fs;
use std::path::PathBuf;
use std::process::Child;
use std::time::Duration;

use crate::common::{self, Env, alive, finish, wait_until};

/// A shell line that fails unless IRIS is frozen now and the cycle is in the environment.
const CHECK_FROZEN: &str = r#"iris session IRIS -U%SYS '##Class(Backup.General).IsWDSuspendedExt()'; rc=$?
test "$rc" = 5 || { echo "not frozen: $rc"; exit 9; }
test -n "$IRIS_FREEZE_ID" || { echo "no IRIS_FREEZE_ID"; exit 9; }
test "$IRIS_FREEZE_INSTANCES" = IRIS || { echo "IRIS_FREEZE_INSTANCES=$IRIS_FREEZE_INSTANCES"; exit 9; }"#;

fn one_instance() -> Env {
    let env = Env::new();
    env.iris("IRIS");
    env
}

/// The history's `cmd` line.
fn cmd_event(env: &Env) -> serde_json::Value {
    env.history_events()
        .into_iter()
        .find(|e| e["event"] == "cmd")
        .unwrap_or_else(|| panic!("no cmd line in {:?}", env.history_events()))
}

/// Runs a CMD that starts a grandchild (after `prelude`) and outlives a 1s --cmd-timeout: exit
/// 1, thawed. Returns the run and the grandchild's pid.
fn past_the_cmd_timeout(env: &Env, prelude: &str) -> (common::Run, i32) {
    let pidfile = env.tmp.path().join("grandchild.pid");
    let script = format!("{prelude}sleep 300 & echo $! > {}; wait", pidfile.display());
    let r = env.run(&["run", "--cmd-timeout", "1", "--", "sh", "-c", &script]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    let grandchild: i32 = fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (r, grandchild)
}

#[test]
fn cmd_runs_frozen_with_the_cycle_in_its_environment_then_thaws() {
    let env = one_instance();
    let script = format!("{CHECK_FROZEN}\necho \"id=$IRIS_FREEZE_ID\"; echo to-stderr >&2");
    let r = env.run(&["run", "--", "sh", "-c", &script]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"), "thawed after CMD");
    // CMD's stdio is run's own.
    assert!(r.stdout.contains("id=2"), "{}", r.text());
    assert!(r.stderr.contains("to-stderr"), "{}", r.text());
    let events = env.history_events();
    let id = events[0]["id"].as_str().unwrap().to_string();
    assert!(r.stdout.contains(&format!("id={id}")), "{}", r.text());
    assert_eq!(env.history_kinds(), ["freeze", "cmd", "thaw"]);
    assert!(events.iter().all(|e| e["id"] == id.as_str()));
    let cmd = cmd_event(&env);
    assert_eq!(cmd["cmd"]["code"], 0);
    assert!(
        cmd["cmd"]["argv"]
            .as_str()
            .unwrap()
            .starts_with("sh -c 'iris session")
    );
    assert_eq!(events[2]["instances"][0]["verdict"], "consistent");
    // `history` shows it.
    let h = env.run(&["history"]);
    assert!(
        h.stdout.contains("cmd: sh -c 'iris session"),
        "{}",
        h.text()
    );
    assert!(h.stdout.contains("exit 0"), "{}", h.text());
}

#[test]
fn a_failing_cmd_is_exit_1_and_thawed() {
    let env = one_instance();
    let script = format!("{CHECK_FROZEN}\nexit 3");
    let r = env.run(&["run", "--", "sh", "-c", &script]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    assert_eq!(env.calls("IRIS", "thaw"), 1);
    assert_eq!(cmd_event(&env)["cmd"]["code"], 3);
    assert!(r.stdout.contains("CMD exit 3"), "{}", r.text());
}

/// Nothing was frozen, so nothing was thawed nor recorded.
fn nothing_happened(env: &Env, r: &common::Run) {
    assert_eq!(r.code, 1, "{}", r.text());
    assert_eq!(env.calls("IRIS", "freeze"), 0, "{}", r.text());
    assert_eq!(env.calls("IRIS", "thaw"), 0, "{}", r.text());
    assert!(
        env.history_events().is_empty(),
        "{:?}",
        env.history_events()
    );
    assert!(
        r.stdout.contains("CMD not run, nothing frozen"),
        "{}",
        r.text()
    );
}

#[test]
fn a_cmd_not_found_is_named_before_anything_is_frozen() {
    let env = one_instance();
    let r = env.run(&["run", "--", "no-such-snapshot-tool", "x"]);
    nothing_happened(&env, &r);
    assert!(
        r.stdout
            .contains("cannot run \"no-such-snapshot-tool\": not found in PATH"),
        "{}",
        r.text()
    );
    assert!(
        env.log_text()
            .contains("cannot run \"no-such-snapshot-tool\""),
        "{}",
        env.log_text()
    );
}

#[test]
fn an_option_after_the_double_dash_is_named_before_anything_is_frozen() {
    let env = one_instance();
    for args in [
        &["run", "--", "-i", "IRIS", "true"][..],
        &["run", "--", "--cmd-timeout", "5", "true"][..],
    ] {
        let r = env.run(args);
        nothing_happened(&env, &r);
        assert!(
            r.stdout
                .contains("looks like an option of run put after `--`"),
            "{}",
            r.text()
        );
    }
}

#[test]
fn a_cmd_past_its_timeout_is_killed_with_its_group_and_thawed() {
    let env = one_instance();
    let (r, grandchild) = past_the_cmd_timeout(&env, "");
    assert!(
        wait_until(Duration::from_secs(10), || !alive(grandchild)),
        "the grandchild {grandchild} outlived the timeout"
    );
    let cmd = cmd_event(&env);
    assert_eq!(cmd["cmd"]["timed_out"], true);
    assert_eq!(cmd["cmd"]["signal"], "SIGTERM");
    assert!(r.stdout.contains("timed out"), "{}", r.text());
}

#[test]
fn sigterm_to_run_reaches_cmd_and_the_thaw_still_comes() {
    let env = one_instance();
    let marker = env.tmp.path().join("cmd-started");
    let got = env.tmp.path().join("cmd-got-term");
    let script = format!(
        "trap 'touch {}; exit 143' TERM; touch {}; while :; do sleep 0.1; done",
        got.display(),
        marker.display()
    );
    let child = env.spawn(&["run", "--", "sh", "-c", &script]);
    assert!(wait_until(Duration::from_secs(30), || marker.exists()));
    assert!(env.frozen("IRIS"));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let r = finish(child);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(got.exists(), "CMD did not get the SIGTERM");
    assert!(!env.frozen("IRIS"));
    assert_eq!(cmd_event(&env)["cmd"]["code"], 143);
    assert!(env.log_text().contains("passed on to CMD's process group"));
}

#[test]
fn a_failed_freeze_never_runs_cmd() {
    let env = one_instance();
    env.fault("IRIS", "freeze=fail");
    let marker = env.tmp.path().join("cmd-ran");
    let r = env.run(&["run", "--", "touch", marker.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(!marker.exists(), "CMD ran after a failed freeze");
    assert!(!env.frozen("IRIS"));
    assert!(r.stdout.contains("CMD not run"), "{}", r.text());
}

#[test]
fn cmd_ok_but_a_verdict_not_consistent_is_exit_2() {
    let env = one_instance();
    // Someone resumes IRIS while CMD runs: the thaw hears "not suspended".
    let frozen_file = env.sim.join("IRIS/frozen");
    let script = format!("{CHECK_FROZEN}\nrm {}", frozen_file.display());
    let r = env.run(&["run", "--", "sh", "-c", &script]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    assert_eq!(cmd_event(&env)["cmd"]["code"], 0);
    assert!(r.stdout.contains("not consistent"), "{}", r.text());
}

#[test]
fn the_cmd_timeout_comes_from_the_environment_too_and_is_checked() {
    let env = one_instance();
    let r = env.run_env(&["run", "--", "true"], &[("IRIS_FREEZE_CMD_TIMEOUT", "0")]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stderr.contains("IRIS_FREEZE_CMD_TIMEOUT"), "{}", r.text());
    assert_eq!(env.calls("IRIS", "freeze"), 0);
}

#[test]
fn without_cmd_run_is_a_usage_error() {
    let env = one_instance();
    let r = env.run(&["run"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert_eq!(env.calls("IRIS", "freeze"), 0);
}

#[test]
fn the_config_file_sets_the_cmd_timeout() {
    let env = one_instance();
    env.config("cmd_timeout = 1\n");
    let r = env.run(&["run", "--", "sleep", "60"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert_eq!(cmd_event(&env)["cmd"]["timed_out"], true);
    assert!(!env.frozen("IRIS"));
}

#[test]
fn by_default_cmd_gets_what_max_freeze_leaves_and_the_thaw_beats_the_watchdog() {
    let env = one_instance();
    // --max-freeze 8: the margin is a quarter, 2 s; CMD is killed about 6 s after the freeze.
    let r = env.run(&["run", "--max-freeze", "8", "--", "sleep", "60"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    assert_eq!(cmd_event(&env)["cmd"]["timed_out"], true);
    let events = env.history_events();
    assert_eq!(
        env.history_kinds(),
        ["freeze", "cmd", "thaw"],
        "our thaw, not the watchdog's"
    );
    assert_eq!(events[2]["instances"][0]["verdict"], "consistent");
    assert!(env.log_text().contains("what --max-freeze (8s) leaves"));
}

#[test]
fn a_group_that_ignores_sigterm_is_killed_after_the_grace() {
    let env = one_instance();
    let (_, grandchild) = past_the_cmd_timeout(&env, "trap '' TERM; ");
    assert!(wait_until(Duration::from_secs(10), || !alive(grandchild)));
    assert_eq!(cmd_event(&env)["cmd"]["signal"], "SIGKILL");
}

#[test]
fn a_cmd_that_is_not_executable_is_named_before_anything_is_frozen() {
    let env = one_instance();
    let script = env.tmp.path().join("snap.sh");
    fs::write(&script, "#!/bin/sh\nexit 0\n").unwrap();
    let r = env.run(&["run", "--", script.to_str().unwrap()]);
    nothing_happened(&env, &r);
    assert!(r.stdout.contains("snap.sh"), "{}", r.text());
    assert!(r.stdout.contains("not an executable file"), "{}", r.text());
}

#[test]
fn cmd_reads_runs_stdin() {
    use std::io::Write;
    let env = one_instance();
    let mut c = env.command(std::path::Path::new(common::BIN));
    c.args(["run", "--", "sh", "-c", "read line; echo \"got $line\""])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = common::spawn(&mut c);
    child.stdin.take().unwrap().write_all(b"hello\n").unwrap();
    let r = finish(child);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stdout.contains("got hello"), "{}", r.text());
}

#[test]
fn a_thaw_from_elsewhere_while_cmd_runs_is_exit_2() {
    let env = one_instance();
    // CMD thaws the cycle itself (as a post hook firing early would).
    let script = format!(
        "{CHECK_FROZEN}\nenv -u IRIS_FREEZE_INSTANCES {} thaw",
        common::BIN
    );
    let r = env.run(&["run", "--", "sh", "-c", &script]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    assert!(
        r.stdout
            .contains("another `iris-freeze thaw` thawed it while CMD ran: not consistent"),
        "{}",
        r.text()
    );
    // The thaw itself said whose snapshot it ended.
    assert!(
        env.log_text()
            .contains("is running its CMD under this freeze: thawed it anyway"),
        "{}",
        env.log_text()
    );
}

/// Starts `run` with a CMD that says it started, then waits until `release` exists; returns
/// once CMD runs, with the run and `release`.
fn held_run(env: &Env, tag: &str) -> (Child, PathBuf) {
    let started = env.tmp.path().join(format!("{tag}-started"));
    let release = env.tmp.path().join(format!("{tag}-release"));
    let script = format!(
        "touch {}; while [ ! -e {} ]; do sleep 0.05; done",
        started.display(),
        release.display()
    );
    let run = env.spawn(&["run", "--", "sh", "-c", &script]);
    assert!(wait_until(LIMIT, || started.exists()), "CMD never started");
    (run, release)
}

/// `run --timeout 2 -- touch MARKER`, refused: exit 1, and its CMD never ran.
fn refused_run(env: &Env) -> common::Run {
    let marker = env.tmp.path().join("refused-cmd-ran");
    let r = env.run(&[
        "run",
        "--timeout",
        "2",
        "--",
        "touch",
        marker.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(!marker.exists(), "the refused run's CMD ran: {}", r.text());
    r
}

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn a_second_run_during_cmd_waits_then_refuses_and_never_joins_the_cycle() {
    let env = one_instance();
    let (first, release) = held_run(&env, "first");
    let r = refused_run(&env);
    assert!(
        r.text().contains("another `iris-freeze run` (pid"),
        "{}",
        r.text()
    );
    assert!(r.text().contains("CMD not run"), "{}", r.text());
    assert!(
        env.frozen("IRIS"),
        "the second run thawed under the first's CMD"
    );
    assert_eq!(env.calls("IRIS", "freeze"), 1);
    fs::write(&release, "").unwrap();
    let r = finish(first);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
}

#[test]
fn a_second_run_waits_for_the_first_to_thaw_then_takes_its_own_cycle() {
    let env = one_instance();
    let (first, release) = held_run(&env, "first");
    let second = env.spawn(&["run", "--timeout", "60", "--", "sh", "-c", CHECK_FROZEN]);
    assert!(
        wait_until(LIMIT, || env.log_text().contains(
            "(its CMD, then its thaw): a freeze now would be thawed by it in the middle of the \
             snapshot: waiting before this run"
        )),
        "{}",
        env.log_text()
    );
    fs::write(&release, "").unwrap();
    let r1 = finish(first);
    let r2 = finish(second);
    assert_eq!(r1.code, 0, "{}", r1.text());
    assert_eq!(r2.code, 0, "{}", r2.text());
    assert!(!env.frozen("IRIS"));
    let events = env.history_events();
    assert_eq!(
        env.history_kinds(),
        ["freeze", "cmd", "thaw", "freeze", "cmd", "thaw"]
    );
    assert_ne!(events[0]["id"], events[3]["id"]);
    assert!(
        events
            .iter()
            .all(|e| e["instances"].as_array().is_none_or(|a| a
                .iter()
                .all(|i| i["verdict"].is_null() || i["verdict"] == "consistent")))
    );
}

#[test]
fn a_freeze_during_cmd_waits_then_refuses_and_the_run_stays_consistent() {
    let env = one_instance();
    let (run, release) = held_run(&env, "run");
    let r = env.run(&["freeze", "--timeout", "2"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        r.text()
            .contains("holds the instances frozen while its CMD runs"),
        "{}",
        r.text()
    );
    assert!(r.text().contains("nothing was frozen"), "{}", r.text());
    fs::write(&release, "").unwrap();
    let r = finish(run);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    assert_eq!(env.history_kinds(), ["freeze", "cmd", "thaw"]);
}

#[test]
fn a_run_never_takes_over_an_earlier_freeze_it_would_thaw_under() {
    let env = one_instance();
    assert_eq!(env.run(&["freeze"]).code, 0);
    let r = refused_run(&env);
    assert!(
        r.text()
            .contains("frozen by an earlier iris-freeze `freeze`"),
        "{}",
        r.text()
    );
    // The earlier freeze is untouched: its own thaw ends it, consistent.
    assert!(env.frozen("IRIS"));
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 0, "{}", r.text());
}

#[test]
fn the_watchdog_thawing_during_cmd_is_named_and_exit_2() {
    let env = one_instance();
    // CMD outlives --max-freeze: it waits, from inside, until IRIS is thawed under it.
    let script = "while :; do iris session IRIS -U%SYS '##Class(Backup.General).IsWDSuspendedExt()'; \
                  test $? = 5 || exit 0; sleep 0.1; done";
    let r = env.run(&[
        "run",
        "--max-freeze",
        "2",
        "--cmd-timeout",
        "50",
        "--",
        "sh",
        "-c",
        script,
    ]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(
        env.log_text()
            .contains("the watchdog auto-thawed it while CMD ran"),
        "{}",
        env.log_text()
    );
    // The summary says it once, with one exit code, and blames no other thaw.
    let summary = r.stdout.lines().last().unwrap_or_default();
    assert_eq!(summary.matches("auto-thawed").count(), 1, "{}", r.text());
    assert_eq!(summary.matches("(exit").count(), 1, "{}", r.text());
    assert!(summary.ends_with("(exit 2)"), "{}", r.text());
    assert!(!summary.contains("another"), "{}", r.text());
    assert!(!env.frozen("IRIS"));
}

/// `snap-tool` in `dir` (created with `mode`): a script that leaves `marker` behind when run.
fn tool_in(dir: &std::path::Path, mode: u32, marker: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    fs::create_dir_all(dir).unwrap();
    fs::set_permissions(dir, fs::Permissions::from_mode(mode)).unwrap();
    let tool = dir.join("snap-tool");
    fs::write(
        &tool,
        format!("#!/bin/sh\ntouch '{}'\nexit 0\n", marker.display()),
    )
    .unwrap();
    fs::set_permissions(&tool, fs::Permissions::from_mode(0o755)).unwrap();
}

/// `run -- snap-tool` with `path` as PATH, from the working directory `cwd`.
fn run_with_path(env: &Env, path: &str, cwd: &std::path::Path) -> common::Run {
    let mut c = env.command(std::path::Path::new(common::BIN));
    c.args(["run", "--", "snap-tool"])
        .env("PATH", path)
        .current_dir(cwd)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    finish(common::spawn(&mut c))
}

/// CMD is found on PATH as sudo's secure_path would: a directory others can write, an empty
/// entry or a relative one never gives root a program; a trusted directory later on PATH does.
#[test]
fn cmd_is_found_only_in_path_dirs_no_other_user_can_write() {
    let env = one_instance();
    let tmp = env.tmp.path();
    let bin = env.bin.display();
    let planted = tmp.join("PLANTED-RAN");
    let shared = tmp.join("shared");
    tool_in(&shared, 0o777, &planted);
    let here = tmp.join("here");
    tool_in(&here, 0o755, &planted);

    let only_untrusted = [
        (
            format!("{}:{bin}:/usr/bin:/bin", shared.display()),
            "mode 777",
        ),
        (format!(":{bin}:/usr/bin:/bin"), "an empty PATH entry"),
        (
            format!(".:{bin}:/usr/bin:/bin"),
            "the relative PATH entry \".\"",
        ),
    ];
    for (path, why) in &only_untrusted {
        let r = run_with_path(&env, path, &here);
        nothing_happened(&env, &r);
        assert!(!planted.exists(), "PATH={path}: root ran a planted program");
        for said in [*why, "give CMD as an absolute path"] {
            assert!(r.stderr.contains(said), "PATH={path}: {}", r.text());
        }
    }

    // The same name in a trusted directory later on PATH is the one run.
    let trusted_ran = tmp.join("TRUSTED-RAN");
    let trusted = tmp.join("trusted");
    tool_in(&trusted, 0o755, &trusted_ran);
    let path = format!(
        ".:{}:{}:{bin}:/usr/bin:/bin",
        shared.display(),
        trusted.display()
    );
    let r = run_with_path(&env, &path, &here);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(trusted_ran.exists(), "{}", r.text());
    assert!(!planted.exists(), "root ran a planted program");
    assert!(!env.frozen("IRIS"));
}

/// A PATH with no absolute entry has nothing to search: the working directory's program is
/// neither run nor said to be found in PATH, only named as what the relative entry would give.
#[test]
fn a_path_of_relative_entries_only_searches_nothing() {
    let env = one_instance();
    let planted = env.tmp.path().join("PLANTED-RAN");
    let here = env.tmp.path().join("here");
    tool_in(&here, 0o755, &planted);
    for (path, why) in [
        (".", "the relative PATH entry \".\""),
        ("", "an empty PATH entry"),
    ] {
        let r = run_with_path(&env, path, &here);
        nothing_happened(&env, &r);
        assert!(
            !planted.exists(),
            "PATH={path:?}: root ran a planted program"
        );
        assert!(r.stderr.contains(why), "PATH={path:?}: {}", r.text());
        assert!(
            !r.stderr.contains("found in PATH"),
            "PATH={path:?}: {}",
            r.text()
        );
    }
}

/// A snapshot step CMD puts in the background is still under the freeze when it ends: the
/// thaw waits for it.
#[test]
fn the_thaw_waits_for_what_cmd_left_running_in_the_background() {
    let env = one_instance();
    let rc = env.tmp.path().join("rc-in-background");
    let script = format!(
        "(sleep 2; iris session IRIS -U%SYS '##Class(Backup.General).IsWDSuspendedExt()'; \
         echo $? > '{}') >/dev/null 2>&1 & exit 0",
        rc.display()
    );
    let r = env.run(&["run", "--", "sh", "-c", &script]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    let answered = fs::read_to_string(&rc).unwrap_or_default();
    assert_eq!(
        answered.trim(),
        "5",
        "the background step ran thawed:\n{}",
        r.text()
    );
    let log = env.log_text();
    assert!(log.contains("left processes running"), "{log}");
    assert!(log.contains("what CMD left running has ended"), "{log}");
    let thaw = env.history_events_of("thaw");
    assert_eq!(thaw[0]["instances"][0]["verdict"], "consistent");
}

/// What CMD left running past its deadline, in its process group or out of it (setsid), is
/// killed before the thaw, and the run says the snapshot is not consistent.
#[test]
fn what_cmd_left_running_past_its_deadline_is_killed_and_not_consistent() {
    for how in ["", "setsid "] {
        let env = one_instance();
        let pidfile = env.tmp.path().join("background.pid");
        let script = format!(
            "{how}sh -c 'echo $$ > \"{}\"; exec sleep 300' >/dev/null 2>&1 & exit 0",
            pidfile.display()
        );
        let r = env.run(&["run", "--cmd-timeout", "2", "--", "sh", "-c", &script]);
        let pid: i32 = fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let ended = wait_until(Duration::from_secs(10), || !alive(pid));
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
        assert!(
            ended,
            "{how}: the background process outlived the run: {}",
            r.text()
        );
        assert_eq!(r.code, 1, "{how}: {}", r.text());
        assert!(r.stdout.contains("not consistent"), "{how}: {}", r.text());
        assert!(!env.frozen("IRIS"));
        let log = env.log_text();
        assert!(
            log.contains("what CMD left running") && log.contains("killed"),
            "{how}: {log}"
        );
        assert_eq!(cmd_event(&env)["cmd"]["timed_out"], true, "{how}");
        // The history's verdict of the cycle says it too, not `consistent`.
        let h = env.run(&["history"]);
        assert!(
            h.stdout.contains("(timed out): not consistent"),
            "{how}: {}",
            h.text()
        );
        // Killed before the thaw: the thaw is the last thing the log has.
        let killed_at = log.find("still runs at its deadline").unwrap();
        let thawed_at = log.rfind("event=thaw").unwrap_or(0);
        assert!(killed_at < thawed_at, "{how}: {log}");
    }
}
