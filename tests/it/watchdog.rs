//! The watchdog thaws from the plan it was armed with: the programs the freeze found (however
//! it found them), re-checked at the deadline, then discovery, then the names it guards. Every
//! failure on the way is said in the log, the history and the journal, with the command that
//! thaws.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::Duration;

use crate::common::{self, Env, simulator, wait_until};

const LIMIT: Duration = Duration::from_secs(60);

/// The simulator's programs in a directory of their own, off PATH and off the default
/// directories: only `--bin-dirs` (or its variable, or the config file) finds them.
fn programs_elsewhere(env: &Env) -> PathBuf {
    let dir = env.tmp.path().join("opt-iris/bin");
    fs::create_dir_all(&dir).unwrap();
    for p in ["iris", "csession", "ccontrol"] {
        let _ = fs::remove_file(env.bin.join(p));
        symlink(simulator(), dir.join(p)).unwrap();
    }
    dir
}

fn text(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

/// Every journal entry sent to `socket` so far, as its raw text.
fn journal(socket: &UnixDatagram) -> Vec<String> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 17];
    while let Ok(n) = socket.recv(&mut buf) {
        out.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    out
}

fn listen(env: &Env) -> UnixDatagram {
    let s = UnixDatagram::bind(env.journal_socket()).unwrap();
    s.set_nonblocking(true).unwrap();
    s
}

#[test]
fn the_watchdog_thaws_iris_found_through_bin_dirs() {
    let env = Env::new();
    env.iris("IRIS");
    let dir = programs_elsewhere(&env);
    let r = env.run(&["freeze", "--bin-dirs", text(&dir), "--max-freeze", "3"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    auto_thawed_iris(&env);
    let r = env.run(&["thaw", "--bin-dirs", text(&dir)]);
    assert_eq!(r.code, 2, "{}", r.text());
}

#[test]
fn a_state_naming_a_refused_instance_is_damaged_and_the_watchdog_still_thaws() {
    let env = Env::new();
    env.iris("IRIS");
    let r = env.run(&["freeze", "--max-freeze", "3"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let text = fs::read_to_string(env.state_file()).unwrap();
    fs::write(
        env.state_file(),
        text.replace("\"IRIS\":", "\"IRIS;\\nX\":"),
    )
    .unwrap();
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stderr.contains("damaged"), "{}", r.text());
    assert!(
        r.stderr.contains("iris-freeze thaw --instance IRIS"),
        "the exact recovery command: {}",
        r.text()
    );
    assert!(
        env.frozen("IRIS"),
        "a thaw of a damaged state thaws nothing"
    );
    auto_thawed_iris(&env);
}

#[test]
fn a_thaw_uses_the_programs_the_freeze_recorded_and_searches_nothing_first() {
    let env = Env::new();
    env.iris("IRIS");
    let dir = programs_elsewhere(&env);
    let r = env.run(&["freeze", "--bin-dirs", text(&dir), "--max-freeze", "300"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let before = env.call_lines().len();
    // No --bin-dirs now: only the recorded program can reach IRIS.
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    let first: Vec<String> = env.call_lines()[before]
        .split_whitespace()
        .skip(2)
        .take(3)
        .map(String::from)
        .collect();
    assert_eq!(first, ["IRIS", "thaw", "start"], "{:?}", env.call_lines());
}

/// A freeze of IRIS whose programs are in `dirs` (first found first), due in 3 s; returns the
/// number of qlist calls made so far.
fn freeze_with(env: &Env, dirs: &str, extra: &[&str]) -> usize {
    let mut args = vec!["freeze", "--bin-dirs", dirs, "--max-freeze", "3"];
    args.extend(extra);
    let r = env.run(&args);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    env.calls("-", "qlist")
}

/// A second directory with the simulator's programs, for discovery to find when the first is
/// gone or refused.
fn second_dir(env: &Env) -> PathBuf {
    let dir = env.tmp.path().join("second/bin");
    fs::create_dir_all(&dir).unwrap();
    for p in ["iris", "csession", "ccontrol"] {
        symlink(simulator(), dir.join(p)).unwrap();
    }
    dir
}

fn thawed_by_the_watchdog(env: &Env) {
    assert!(
        wait_until(LIMIT, || !env.frozen("IRIS")),
        "the watchdog never thawed IRIS: {}",
        env.log_text()
    );
    assert!(
        wait_until(LIMIT, || env
            .history_events_of("auto-thaw")
            .iter()
            .any(|e| e["exit"] == 2)),
        "{:?}",
        env.history_events()
    );
}

/// The watchdog thawed IRIS, recorded it, and its last word says so; returns the log.
fn auto_thawed_iris(env: &Env) -> String {
    thawed_by_the_watchdog(env);
    common::assert_watchdog_thawed(env, &["IRIS"])
}

#[test]
fn an_unreadable_state_is_thawed_from_the_plan_with_no_search() {
    let env = Env::new();
    env.iris("IRIS");
    let dir = programs_elsewhere(&env);
    let qlists = freeze_with(&env, text(&dir), &[]);
    fs::write(env.state_file(), b"\x00{not json").unwrap();
    let log = auto_thawed_iris(&env);
    assert!(log.contains("damaged"), "{log}");
    assert_eq!(
        env.calls("-", "qlist"),
        qlists,
        "the plan needs no discovery"
    );
}

/// A freeze whose programs are in a first directory, with a second one discovery also finds;
/// `spoil` then does something to the first; the watchdog must thaw with the second. Returns
/// the first directory and the log.
fn thawed_through_the_second_dir(spoil: impl FnOnce(&std::path::Path)) -> (PathBuf, String) {
    let env = Env::new();
    env.iris("IRIS");
    let first = programs_elsewhere(&env);
    let second = second_dir(&env);
    let dirs = format!("{}:{}", text(&first), text(&second));
    freeze_with(&env, &dirs, &[]);
    assert!(
        env.state_json()["instances"]["IRIS"]["session"]["program"]
            .as_str()
            .unwrap()
            .starts_with(text(&first))
    );
    spoil(&first);
    let log = auto_thawed_iris(&env);
    assert!(
        log.contains(&format!("thawing with {}/iris instead", text(&second))),
        "{log}"
    );
    (first, log)
}

#[test]
fn a_deleted_recorded_program_falls_back_to_discovery() {
    let (first, log) = thawed_through_the_second_dir(|first| fs::remove_dir_all(first).unwrap());
    let gone = format!("the recorded program {}/iris is gone", text(&first));
    assert!(log.contains(&gone), "{log}");
}

#[test]
fn a_recorded_program_others_can_now_change_is_refused_and_discovery_thaws() {
    // Anyone could now replace the recorded `iris`.
    let (_, log) = thawed_through_the_second_dir(|first| {
        fs::set_permissions(first, fs::Permissions::from_mode(0o777)).unwrap()
    });
    assert!(log.contains("refusing to run"), "{log}");
}

#[test]
fn an_unwritable_log_never_stops_the_thaw_and_the_history_and_journal_have_it() {
    let env = Env::new();
    env.iris("IRIS");
    let socket = listen(&env);
    let dir = programs_elsewhere(&env);
    freeze_with(&env, text(&dir), &[]);
    fs::remove_file(&env.log).unwrap();
    fs::create_dir(&env.log).unwrap();
    thawed_by_the_watchdog(&env);
    assert!(
        wait_until(LIMIT, || journal(&socket)
            .iter()
            .any(|e| e.contains("AUTO-THAW done: thawed IRIS"))),
        "no journal entry"
    );
}

#[test]
fn an_unwritable_history_never_stops_the_thaw_and_the_log_says_so() {
    let env = Env::new();
    env.iris("IRIS");
    let dir = programs_elsewhere(&env);
    freeze_with(&env, text(&dir), &[]);
    fs::remove_file(env.history()).unwrap();
    fs::create_dir(env.history()).unwrap();
    let log = common::assert_watchdog_thawed(&env, &["IRIS"]);
    assert!(log.contains("missing from the history"), "{log}");
}

#[test]
fn a_journal_socket_gone_never_stops_the_thaw() {
    let env = Env::new();
    env.iris("IRIS");
    let socket = listen(&env);
    let dir = programs_elsewhere(&env);
    freeze_with(&env, text(&dir), &[]);
    assert!(!journal(&socket).is_empty(), "the freeze sent entries");
    drop(socket);
    fs::remove_file(env.journal_socket()).unwrap();
    auto_thawed_iris(&env);
}

/// The programs gone for good: no way is left. The log, the history, the journal and the
/// metrics say so, with the commands that thaw it; they work once the programs are back.
fn no_way_left(log_broken: bool) {
    let env = Env::new();
    env.iris("IRIS");
    let socket = listen(&env);
    let dir = programs_elsewhere(&env);
    let metrics = env.tmp.path().join("metrics/iris_freeze.prom");
    fs::create_dir_all(metrics.parent().unwrap()).unwrap();
    freeze_with(&env, text(&dir), &["--metrics-file", text(&metrics)]);
    for p in ["iris", "csession", "ccontrol"] {
        fs::remove_file(dir.join(p)).unwrap();
    }
    if log_broken {
        fs::remove_file(&env.log).unwrap();
        fs::create_dir(&env.log).unwrap();
    }
    let by_hand = "iris session IRIS -U%SYS '##Class(Backup.General).ExternalThaw()'";
    let ours = "iris-freeze thaw --instance IRIS";
    assert!(
        wait_until(LIMIT, || env
            .history_events_of("auto-thaw")
            .iter()
            .any(|e| e["exit"] == 1)),
        "{}",
        env.log_text()
    );
    let events = env.history_events_of("auto-thaw");
    let line = &events[0]["instances"][0];
    assert_eq!(line["result"], "failed", "{line}");
    let verdict = line["verdict"].as_str().unwrap();
    assert!(
        verdict.contains(by_hand) && verdict.contains(ours),
        "{verdict}"
    );
    let mut entries = Vec::new();
    assert!(
        wait_until(LIMIT, || {
            entries.extend(journal(&socket));
            entries.iter().any(|e| {
                e.contains("AUTO-THAW FAILED: IRIS MAY STILL BE FROZEN")
                    && e.contains(by_hand)
                    && e.contains(ours)
            })
        }),
        "{entries:#?}"
    );
    assert!(
        entries.iter().any(|e| e.contains("could not thaw IRIS")),
        "{entries:#?}"
    );
    if !log_broken {
        let log = env.log_text();
        assert!(log.contains("could not thaw IRIS"), "{log}");
        assert!(
            log.contains("AUTO-THAW FAILED: IRIS MAY STILL BE FROZEN")
                && log.contains(by_hand)
                && log.contains(ours),
            "{log}"
        );
    }
    assert!(
        wait_until(LIMIT, || {
            let m = fs::read_to_string(&metrics).unwrap_or_default();
            m.contains("iris_freeze_frozen{iris_instance=\"IRIS\"} 1")
                && m.contains("iris_freeze_auto_thaws_total 1")
        }),
        "{}",
        fs::read_to_string(&metrics).unwrap_or_default()
    );
    assert!(env.frozen("IRIS"));
    // The programs back: the command it gave thaws it.
    for p in ["iris", "csession", "ccontrol"] {
        symlink(simulator(), dir.join(p)).unwrap();
    }
    let r = env.run(&["thaw", "--instance", "IRIS", "--bin-dirs", text(&dir)]);
    assert!(r.code == 0 || r.code == 2, "{}", r.text());
    assert!(!env.frozen("IRIS"));
}

#[test]
fn with_no_way_left_the_failure_and_its_fix_are_in_the_log_history_journal_and_metrics() {
    no_way_left(false);
}

#[test]
fn with_no_way_left_and_the_log_broken_the_history_and_journal_still_say_it() {
    no_way_left(true);
}

#[test]
fn every_setting_reaches_freeze_thaw_and_the_detached_watchdog_each_way() {
    common::settings::run_table(false);
}

#[test]
fn an_instance_stopped_under_a_damaged_state_is_found_down_and_not_frozen() {
    let env = Env::new();
    env.iris("IRIS").iris("B");
    let r = env.run(&["freeze", "--max-freeze", "3"]);
    assert_eq!(r.code, 0, "{}", r.text());
    // B stops (a stopped instance is not frozen); the state is damaged.
    env.add("B", &["product=IRIS", "status=down"]);
    env.thaw_externally("B");
    fs::write(env.state_file(), "{\"instances\": {").unwrap();
    let log = common::assert_watchdog_thawed(&env, &["IRIS"]);
    assert!(
        log.contains("AUTO-THAW done: thawed IRIS; down, so not frozen: B"),
        "{log}"
    );
}

#[test]
fn a_state_dir_refused_when_the_watchdog_starts_still_leaves_it_its_plan() {
    let env = Env::new();
    env.iris("IRIS");
    let dir = programs_elsewhere(&env);
    let r = env.run(&["freeze", "--bin-dirs", text(&dir), "--max-freeze", "300"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let plan = format!("--plan={}", env.state_json()["instances"]);
    // Anyone could now swap the state: no watchdog may read it. One started now (as by the
    // freeze, with its plan) still thaws at its deadline.
    fs::set_permissions(&env.state, fs::Permissions::from_mode(0o777)).unwrap();
    let now = (chrono::Local::now().timestamp_millis() + 500).to_string();
    let r = env.run(&[
        "__watchdog",
        "--token",
        "t",
        "--deadline-ms",
        &now,
        "--log-file",
        text(&env.log),
        &plan,
    ]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(!env.frozen("IRIS"), "{}", env.log_text());
    let log = common::assert_watchdog_thawed(&env, &["IRIS"]);
    assert!(log.contains("cannot open the state dir"), "{log}");
    assert_eq!(env.history_events_of("auto-thaw").len(), 1);
    fs::set_permissions(&env.state, fs::Permissions::from_mode(0o700)).unwrap();
}

/// `kill`, `systemctl stop` or a shutdown before the deadline: the watchdog thaws at once rather
/// than die armed, and says it was stopped. Each stop signal, with a deadline far away.
#[test]
fn a_stopped_watchdog_thaws_at_once_and_says_why() {
    use nix::sys::signal::{Signal, kill};
    for sig in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        let env = Env::new();
        env.iris("IRIS");
        let dir = programs_elsewhere(&env);
        let r = env.run(&["freeze", "--bin-dirs", text(&dir), "--max-freeze", "500"]);
        assert_eq!(r.code, 0, "{}", r.text());
        let pid = env.watchdog_pid().expect("a watchdog pid in the state");
        kill(nix::unistd::Pid::from_raw(pid), sig).unwrap();
        // Minutes before its deadline: only the signal can make it thaw now.
        thawed_by_the_watchdog(&env);
        let log = common::assert_watchdog_thawed_in(&env, &env.log, &["IRIS"], &format!("{sig}: "));
        let stopped = format!(
            "the watchdog was stopped ({}) before its deadline",
            sig.as_str()
        );
        assert!(log.contains(&stopped), "{sig}: {log}");
        let r = env.run(&["thaw", "--bin-dirs", text(&dir)]);
        assert_eq!(r.code, 2, "{sig}: {}", r.text());
    }
}

/// A second freeze re-arms: it names its new watchdog's token, then starts it. Killed between
/// the two (here: while systemd-run hangs), the first watchdog must still guard what the first
/// freeze froze, and thaw it at its deadline.
#[test]
fn a_freeze_killed_while_re_arming_leaves_the_earlier_watchdog_armed() {
    let env = Env::new();
    env.iris("IRIS");
    let r = env.run(&["freeze", "--max-freeze", "4"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let first = env.watchdog_pid().expect("the first freeze's watchdog");

    // A systemd whose systemd-run never returns: the re-arming freeze stops inside it.
    let runtime = env.tmp.path().join("run-systemd-system");
    fs::create_dir_all(&runtime).unwrap();
    let started = env.tmp.path().join("systemd-run.started");
    let run = env.bin.join("systemd-run");
    fs::write(
        &run,
        format!("#!/bin/sh\n: > '{}'\nexec sleep 30\n", started.display()),
    )
    .unwrap();
    fs::set_permissions(&run, fs::Permissions::from_mode(0o755)).unwrap();
    let ctl = env.bin.join("systemctl");
    fs::write(&ctl, "#!/bin/sh\nexit 1\n").unwrap();
    fs::set_permissions(&ctl, fs::Permissions::from_mode(0o755)).unwrap();
    let mut c = env.command(std::path::Path::new(common::BIN));
    c.env_remove("IRIS_FREEZE_NO_SYSTEMD")
        .env("IRIS_FREEZE_SYSTEMD_DIR", &runtime)
        .env("IRIS_FREEZE_SYSTEMD_BIN_DIR", &env.bin)
        .args(["freeze", "--max-freeze", "300"]);
    let mut second = common::spawn(&mut c);
    assert!(
        wait_until(LIMIT, || started.exists()),
        "the second freeze never reached systemd-run: {}",
        env.log_text()
    );
    second.kill().unwrap();
    second.wait().unwrap();
    // The new token is in the state; the first watchdog must not take that as a disarm.
    assert!(
        common::alive(first),
        "the first watchdog left: {}",
        env.log_text()
    );
    common::assert_watchdog_thawed(&env, &["IRIS"]);
}
