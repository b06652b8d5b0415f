//! End-to-end: the real iris-freeze binary against the IRIS simulator, one test per path a user
//! can meet (success, each failure, each timeout, each signal of a child).

use std::fs;
use std::os::unix::fs::PermissionsExt;

use crate::common::{self, Env};

fn assert_one_line(out: &str) {
    assert!(
        out.lines().count() <= 1,
        "more than one stdout line:\n{out}"
    );
}

/// The clean cycle, the one scenario every other test varies: one IRIS instance frozen, then
/// thawed. What the user sees, the log, the state, the freeze marker, and the history that
/// `history` and `status` read back, all under one cycle id, with the verdict consistent.
#[test]
fn freeze_then_thaw_one_iris_instance() {
    let env = Env::new();
    env.iris("IRIS");
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    assert_one_line(&r.stdout);
    assert!(r.stdout.contains("frozen: IRIS"), "{}", r.text());
    assert!(env.state_file().exists());
    let log = env.log_text();
    assert!(log.contains("inst=IRIS event=frozen rc=5"), "{log}");
    // The journal file a restore starts from is kept.
    assert!(
        log.contains("Start a journal restore for this backup with journal file"),
        "{log}"
    );
    let id = env.state_json()["cycle"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(id.len(), "20261201T115512Z-3fa2".len(), "{id}");
    // The freeze marker text carries the cycle id.
    let exprs = fs::read_to_string(env.sim.join("exprs.log")).unwrap();
    let want = format!("IRIS ##Class(Backup.General).ExternalFreeze(\"\",\"{id}\")");
    assert!(exprs.contains(&want), "{exprs}");
    // The freeze's history line is there before the freeze exits: the snapshot holds it.
    let freeze = env.history_events_of("freeze");
    assert_eq!(freeze.len(), 1, "{freeze:?}");
    assert_eq!(freeze[0]["id"], id.as_str());
    assert_eq!(freeze[0]["by"], "freeze");
    let inst = &freeze[0]["instances"][0];
    assert_eq!(
        inst["journal_file"],
        "/usr/irissys/mgr/journal/20261125.002"
    );
    assert_eq!(
        inst["restore_from"],
        "/usr/irissys/mgr/journal/20261125.002"
    );
    assert_eq!(inst["product"], "IRIS");

    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    assert_one_line(&r.stdout);
    assert!(env.recorded().is_empty(), "{:?}", env.recorded());
    let log = env.log_text();
    assert!(log.contains("inst=IRIS event=thawed rc=0"), "{log}");
    assert!(log.contains("was frozen by iris-freeze for"), "{log}");
    let thaw = env.history_events_of("thaw");
    assert_eq!(thaw.len(), 1);
    assert_eq!(thaw[0]["id"], id.as_str());
    assert_eq!(thaw[0]["instances"][0]["verdict"], "consistent");
    assert!(thaw[0]["instances"][0]["frozen_secs"].as_f64().is_some());

    let r = env.run(&["history", "--json"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let cycles: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let c = &cycles[0];
    assert_eq!(c["id"], id.as_str());
    assert_eq!(c["ended"], "thawed");
    assert_eq!(c["verdict"], "consistent");
    assert_eq!(c["instances"][0]["verdict"], "consistent");
    assert_eq!(
        c["instances"][0]["journal_file"],
        "/usr/irissys/mgr/journal/20261125.002"
    );
    let r = env.run(&["history"]);
    assert!(
        r.stdout.contains(&id) && r.stdout.contains("consistent"),
        "{}",
        r.text()
    );
    let r = env.run(&["status", "--json"]);
    let s: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(s["last_cycle"]["id"], id.as_str(), "{}", r.text());
    assert_eq!(s["last_cycle"]["verdict"], "consistent");
}

#[test]
fn log_lines_have_the_documented_fields() {
    let env = Env::new();
    env.iris("IRIS");
    assert_eq!(env.run(&["freeze"]).code, 0);
    let log = env.log_text();
    let line = log.lines().find(|l| l.contains("event=frozen")).unwrap();
    let f: Vec<&str> = line.split(' ').collect();
    // RFC 3339 with milliseconds and an offset.
    assert_eq!(f[0].len(), "2026-11-25T12:00:00.123+00:00".len(), "{line}");
    assert!(
        f[0].contains('T') && (f[0].ends_with(":00") || f[0].contains('+') || f[0].contains('-'))
    );
    assert!(f[1].starts_with("pid="), "{line}");
    assert_eq!(f[2], "cmd=freeze");
    assert_eq!(f[3], "inst=IRIS");
    assert_eq!(f[4], "event=frozen");
    assert_eq!(f[5], "rc=5");
    assert!(
        f[6].starts_with("elapsed=") && f[6].ends_with('s'),
        "{line}"
    );
}

#[test]
fn iris_and_cache_on_one_host_are_both_frozen_with_their_own_programs() {
    let env = Env::new();
    env.iris("IRIS").cache("CACHE");
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS") && env.frozen("CACHE"));
    let state = fs::read_to_string(env.state_file()).unwrap();
    assert!(state.contains("csession"), "{state}");
    assert_eq!(env.run(&["thaw"]).code, 0);
    assert!(!env.frozen("IRIS") && !env.frozen("CACHE"));
}

#[test]
fn cache_without_csession_uses_ccontrol_session() {
    let env = Env::with_programs(&["ccontrol"]);
    env.add("OLD", &["product=", "fields=8", "version=2012.2.5.962.0"]);
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("OLD"));
    assert_eq!(env.run(&["thaw"]).code, 0);
    assert!(!env.frozen("OLD"));
}

#[test]
fn instances_freeze_in_parallel() {
    let env = Env::new();
    for n in ["A", "B", "C", "D"] {
        env.iris(n).fault(n, "freeze=slow:1500");
    }
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 0, "{}", r.text());
    // Every freeze started before any freeze finished: they overlapped.
    let lines = env.call_lines();
    let freeze_lines: Vec<&String> = lines.iter().filter(|l| l.contains(" freeze ")).collect();
    let last_start = freeze_lines
        .iter()
        .rposition(|l| l.ends_with("start"))
        .unwrap();
    let first_exit = freeze_lines
        .iter()
        .position(|l| l.contains("exit="))
        .unwrap();
    assert_eq!(freeze_lines.len(), 8, "{lines:#?}");
    assert!(
        last_start < first_exit,
        "freezes ran one after another:\n{lines:#?}"
    );
}

#[test]
fn an_instance_frozen_by_someone_else_is_never_touched_and_exit_is_2() {
    let env = Env::new();
    env.iris("IRIS").iris("OTHER");
    env.freeze_externally("OTHER");
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(env.frozen("IRIS"));
    assert_eq!(env.calls("OTHER", "freeze"), 0);
    assert!(env.log_text().contains("already frozen by someone else"));

    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    assert!(
        env.frozen("OTHER"),
        "iris-freeze thawed a freeze it did not make"
    );
    assert_eq!(env.calls("OTHER", "thaw"), 0);
}

#[test]
fn a_failed_freeze_rolls_back_the_others() {
    let env = Env::new();
    env.iris("GOOD").iris("BAD").fault("BAD", "freeze=fail");
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(!env.frozen("GOOD") && !env.frozen("BAD"));
    assert_eq!(env.calls("GOOD", "thaw"), 1);
    assert!(env.recorded().is_empty());
    assert!(r.stdout.contains("nothing left frozen"), "{}", r.text());
    assert!(env.log_text().contains("inst=BAD event=freeze-failed rc=3"));
    // Azure runs post after a failed pre: it must find nothing to do.
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("nothing to thaw"));
}

#[test]
fn the_record_written_ahead_is_rewritten_when_the_freeze_fails() {
    // A freeze records `frozen` before ExternalFreeze returns (less freeze window after it).
    let env = Env::new();
    env.iris("IRIS");
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let rec = &env.state_json()["instances"]["IRIS"];
    assert_eq!(rec["phase"], "frozen", "{rec}");
    assert!(
        rec["since"].as_str().is_some_and(|s| s.starts_with("20")),
        "{rec}"
    );
    assert_eq!(env.run(&["thaw"]).code, 0);
    for fault in ["freeze=fail", "freeze=exit:7", "freeze=then-exit:0"] {
        let env = Env::new();
        env.iris("IRIS").fault("IRIS", fault);
        let r = env.run(&["freeze"]);
        assert_eq!(r.code, 1, "{fault}: {}", r.text());
        assert!(env.recorded().is_empty(), "{fault}: {:?}", env.state_json());
        assert!(!env.frozen("IRIS"), "{fault}");
    }
}

#[test]
fn odd_exit_codes_mean_unknown_state_and_are_rolled_back() {
    // The freeze happened but the session exited 0: we cannot trust it, so it is thawed.
    let env = Env::new();
    env.iris("IRIS").fault("IRIS", "freeze=then-exit:0");
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    assert!(
        env.log_text().contains("expected 5 or 3"),
        "{}",
        env.log_text()
    );

    let env = Env::new();
    env.iris("IRIS").fault("IRIS", "freeze=exit:7");
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(!env.frozen("IRIS"));
}

#[test]
fn a_hung_freeze_times_out_and_is_rolled_back() {
    let env = Env::new();
    env.iris("IRIS")
        .iris("OK")
        .fault("IRIS", "freeze=then-hang");
    let r = env.run(&["freeze", "--timeout", "3"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(!env.frozen("IRIS") && !env.frozen("OK"));
    assert!(env.log_text().contains("timed out"), "{}", env.log_text());
    assert!(r.elapsed.as_secs() < 60, "{:?}", r.elapsed);
}

#[test]
fn a_freeze_that_ignores_sigterm_is_killed() {
    let env = Env::new();
    env.iris("IRIS").fault("IRIS", "freeze=hang-ignore-term");
    let r = env.run(&["freeze", "--timeout", "2"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    assert!(env.log_text().contains("was killed"), "{}", env.log_text());
}

#[test]
fn a_freeze_killed_by_a_signal_is_rolled_back() {
    let env = Env::new();
    env.iris("IRIS").fault("IRIS", "freeze=then-crash:SEGV");
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    assert!(env.log_text().contains("SIGSEGV"), "{}", env.log_text());
}

#[test]
fn a_login_prompt_names_os_authentication_as_the_fix() {
    let env = Env::new();
    env.iris("IRIS").fault("IRIS", "check=login");
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stderr.contains("OS authentication"), "{}", r.text());
    assert!(r.stderr.contains("%Service_Terminal"), "{}", r.text());
    assert_eq!(env.calls("IRIS", "freeze"), 0);
    assert!(!env.frozen("IRIS"));
}

#[test]
fn a_login_prompt_that_hangs_times_out_with_the_same_advice() {
    let env = Env::new();
    env.iris("IRIS").fault("IRIS", "freeze=login-hang");
    let r = env.run(&["freeze", "--timeout", "2"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        env.log_text().contains("OS authentication"),
        "{}",
        env.log_text()
    );
    assert!(!env.frozen("IRIS"));
}

#[test]
fn a_megabyte_of_output_neither_blocks_nor_floods_the_log() {
    let env = Env::new();
    env.iris("IRIS").fault("IRIS", "freeze=huge");
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    let log = env.log_text();
    assert!(log.contains("more lines"), "{log}");
    assert!(log.len() < 64 * 1024, "log is {} bytes", log.len());
}

#[test]
fn a_grandchild_holding_the_pipe_does_not_hold_us() {
    let env = Env::new();
    env.iris("IRIS").fault("IRIS", "freeze=grandchild:60");
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    assert!(
        r.elapsed.as_secs() < 45,
        "waited for the grandchild: {:?}",
        r.elapsed
    );
}

#[test]
fn no_running_instance_is_a_warning_with_exit_0() {
    let env = Env::new();
    env.add("IRIS", &["product=IRIS", "status=down"]);
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stdout.contains("nothing to freeze"), "{}", r.text());
    assert!(env.log_text().contains("skipped"), "{}", env.log_text());
}

#[test]
fn no_iris_programs_is_a_failure_that_says_where_it_looked() {
    let env = Env::with_programs(&[]);
    // A PATH that repeats a directory: it is named once.
    let path = format!("{0}:/usr/bin:{0}:/bin", env.bin.display());
    let r = env.run_env(&["freeze"], &[("PATH", path.as_str())]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        r.stderr
            .contains("found none of iris, csession or ccontrol"),
        "{}",
        r.text()
    );
    assert_eq!(
        r.stderr.matches(env.bin.to_str().unwrap()).count(),
        1,
        "{}",
        r.text()
    );
    assert!(r.stderr.contains("IRIS_FREEZE_BIN_DIRS"), "{}", r.text());
}

#[test]
fn programs_are_found_outside_path_in_bin_dirs() {
    let env = Env::new();
    env.iris("IRIS");
    let bin = env.bin.to_str().unwrap().to_string();
    let r = env.run_env(
        &["freeze"],
        &[("PATH", "/usr/bin:/bin"), ("IRIS_FREEZE_BIN_DIRS", &bin)],
    );
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
}

#[test]
fn a_named_instance_that_does_not_exist_is_an_error_listing_the_known_ones() {
    let env = Env::new();
    env.iris("IRIS").cache("CACHE");
    let r = env.run(&["freeze", "-i", "NOPE"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stderr.contains("no instance named NOPE"), "{}", r.text());
    assert!(
        r.stderr.contains("IRIS (running)") && r.stderr.contains("CACHE"),
        "{}",
        r.text()
    );
    assert!(!env.frozen("IRIS"));
}

#[test]
fn named_instances_only_are_frozen_and_a_down_one_is_skipped() {
    let env = Env::new();
    env.iris("A")
        .iris("B")
        .add("DOWN", &["product=IRIS", "status=down"]);
    let r = env.run(&["freeze", "-i", "a", "--instance", "DOWN"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("A") && !env.frozen("B"));
    assert!(
        env.log_text().contains("DOWN is down: skipped"),
        "{}",
        env.log_text()
    );
    // The environment variable names instances too.
    let r = env.run_env(&["freeze"], &[("IRIS_FREEZE_INSTANCES", "B")]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("B"));
}

#[test]
fn an_instance_up_but_not_running_refuses_the_freeze() {
    let env = Env::new();
    env.iris("A")
        .add("B", &["product=IRIS", "status=sign-on inhibited"]);
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stderr.contains("sign-on inhibited"), "{}", r.text());
    assert!(!env.frozen("A"));
}

#[test]
fn a_hung_qlist_fails_a_default_freeze_but_not_a_named_one_elsewhere() {
    let env = Env::new();
    env.iris("IRIS")
        .cache("CACHE")
        .fault("-", "iris-qlist=hang");
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stderr.contains("iris qlist"), "{}", r.text());
    assert!(!env.frozen("CACHE"));
    let r = env.run(&["freeze", "-i", "CACHE"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("CACHE"));
}

#[test]
fn invalid_names_and_bad_usage_exit_1_not_2() {
    let env = Env::new();
    env.iris("IRIS");
    let r = env.run(&["freeze", "-i", "x;reboot"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stderr.contains("invalid instance name"), "{}", r.text());
    assert_eq!(env.run(&["freeze", "--bogus"]).code, 1);
    assert_eq!(env.run(&["freeze", "--timeout", "soon"]).code, 1);
    assert_eq!(env.run(&[]).code, 1);
    assert_eq!(env.calls("IRIS", "freeze"), 0);
}

#[test]
fn thaw_with_nothing_recorded_exits_0_and_only_looks() {
    let env = Env::new();
    env.iris("IRIS");
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stdout.contains("nothing to thaw"));
    // It asked whether anything is suspended, and thawed nothing.
    assert_eq!(env.calls("IRIS", "check"), 1, "{:#?}", env.call_lines());
    assert_eq!(env.calls("IRIS", "thaw"), 0, "{:#?}", env.call_lines());
}

#[test]
fn thaw_goes_straight_to_externalthaw_without_discovery() {
    let env = Env::new();
    env.iris("IRIS");
    assert_eq!(env.run(&["freeze"]).code, 0);
    let before = env.call_lines().len();
    assert_eq!(env.run(&["thaw"]).code, 0);
    let thaw_calls: Vec<String> = env.call_lines()[before..]
        .iter()
        .filter(|l| l.ends_with("start"))
        .map(|l| l.split_whitespace().nth(3).unwrap().to_string())
        .collect();
    assert_eq!(thaw_calls, ["thaw", "check"]);
}

#[test]
fn thaw_named_thaws_whatever_froze_it() {
    let env = Env::new();
    env.iris("IRIS");
    env.freeze_externally("IRIS");
    let r = env.run(&["thaw", "--instance", "IRIS"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
}

#[test]
fn a_failed_thaw_says_so_loudly_keeps_the_record_and_a_retry_works() {
    let env = Env::new();
    env.iris("IRIS")
        .fault("IRIS", "thaw=fail@1")
        .fault("IRIS", "stat=fail@1");
    assert_eq!(env.run(&["freeze"]).code, 0);
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(env.frozen("IRIS"));
    assert!(r.stdout.contains("MAY STILL BE FROZEN"), "{}", r.text());
    assert!(r.stderr.contains("STILL FROZEN"), "{}", r.text());
    assert_eq!(env.recorded(), ["IRIS"]);
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
}

#[test]
fn a_hung_thaw_times_out_and_reports_the_instance_may_be_frozen() {
    let env = Env::new();
    env.iris("IRIS")
        .fault("IRIS", "thaw=hang@1")
        .fault("IRIS", "stat=hang@1");
    assert_eq!(env.run(&["freeze"]).code, 0);
    let r = env.run(&["thaw", "--timeout", "3"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        env.log_text().contains("event=still-frozen"),
        "{}",
        env.log_text()
    );
    assert_eq!(env.run(&["thaw"]).code, 0);
    assert!(!env.frozen("IRIS"));
}

#[test]
fn an_unconfirmable_thaw_is_a_failure() {
    let env = Env::new();
    env.iris("IRIS");
    assert_eq!(env.run(&["freeze"]).code, 0);
    env.fault("IRIS", "check=crash");
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        env.log_text().contains("MAY STILL BE FROZEN"),
        "{}",
        env.log_text()
    );
}

#[test]
fn a_second_freeze_keeps_our_own_earlier_freeze() {
    let env = Env::new();
    env.iris("IRIS");
    assert_eq!(env.run(&["freeze"]).code, 0);
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    assert_eq!(env.calls("IRIS", "freeze"), 1);
    assert!(
        env.log_text()
            .contains("still frozen by an earlier iris-freeze")
    );
    assert_eq!(env.run(&["thaw"]).code, 0);
    assert!(!env.frozen("IRIS"));
}

#[test]
fn hook_names_pick_the_command_and_ignore_arguments() {
    let env = Env::new();
    env.iris("IRIS");
    let pre = env.hook("preScript.sh");
    let r = env.run_program(&pre, &["", ""], &[]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    let post = env.hook("postScript.sh");
    let r = env.run_program(&post, &["", "", "--bogus"], &[]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    let r = env.run_program(&env.hook("PRESCRIPT.SH"), &[], &[]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    let r = env.run_program(&env.hook("postscript.sh"), &["x"], &[]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
}

#[test]
fn the_azure_wrapper_run_through_sh_with_the_template_params() {
    let env = Env::new();
    env.iris("IRIS");
    let write = |name: &str, cmd: &str| {
        let p = env.tmp.path().join(name);
        fs::write(
            &p,
            format!("#!/bin/sh\nexec {} {cmd} \"$@\"\n", common::BIN),
        )
        .unwrap();
        p
    };
    let pre = write("prescript.sh", "freeze");
    let post = write("postScript.sh", "thaw");
    // Exactly what the extension does: `sh <path> "" ""`.
    let sh = std::path::Path::new("/bin/sh");
    let r = env.run_program(sh, &[pre.to_str().unwrap(), "", ""], &[]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    let r = env.run_program(sh, &[post.to_str().unwrap(), "", ""], &[]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    // A word where an option belongs is refused, not guessed at.
    let r = env.run(&["freeze", "IRIS"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stderr.contains("--instance IRIS"), "{}", r.text());
    assert!(!env.frozen("IRIS"));
}

#[test]
fn the_log_is_appended_created_0600_and_a_bad_log_path_changes_nothing() {
    let env = Env::new();
    env.iris("IRIS");
    fs::write(&env.log, "earlier line\n").unwrap();
    assert_eq!(env.run(&["freeze"]).code, 0);
    assert!(env.log_text().starts_with("earlier line\n"));
    assert_eq!(env.run(&["thaw"]).code, 0);

    let fresh = env.tmp.path().join("new.log");
    let f = fresh.to_str().unwrap();
    assert_eq!(env.run(&["freeze", "--log-file", f]).code, 0);
    assert_eq!(
        fs::metadata(&fresh).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(env.run(&["thaw", "--log-file", f]).code, 0);

    let r = env.run(&["freeze", "--log-file", "/nonexistent/dir/x.log"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stderr.contains("cannot open the log"), "{}", r.text());
    assert!(env.frozen("IRIS"));
}

#[test]
fn quiet_prints_nothing_on_success() {
    let env = Env::new();
    env.iris("IRIS");
    let r = env.run(&["freeze", "-q"]);
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout, "");
    assert_eq!(r.stderr, "");
}

#[test]
fn status_shows_product_version_and_who_froze_what() {
    let env = Env::new();
    env.iris("IRIS")
        .cache("CACHE")
        .add("DOWN", &["product=IRIS", "status=down"]);
    env.freeze_externally("CACHE");
    assert_eq!(env.run(&["freeze", "-i", "IRIS"]).code, 0);
    let r = env.run(&["status"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let line = |n: &str| {
        r.stdout
            .lines()
            .find(|l| l.starts_with(n))
            .unwrap()
            .to_string()
    };
    assert!(line("IRIS ").contains("2024.1.0.263.0"), "{}", r.stdout);
    assert!(line("IRIS ").contains("yes, since"), "{}", r.stdout);
    assert!(
        line("CACHE").contains("Cache") && line("CACHE").contains(" yes "),
        "{}",
        r.stdout
    );
    assert!(line("CACHE").ends_with(" no"), "{}", r.stdout);
    assert!(line("DOWN").contains("down"), "{}", r.stdout);

    let r = env.run(&["status", "--json"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let inst = |n: &str| {
        v["instances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(inst("IRIS")["frozen"], true);
    assert_eq!(inst("IRIS")["frozen_by_iris_freeze"], true);
    assert!(inst("IRIS")["frozen_since"].is_string());
    assert_eq!(inst("CACHE")["frozen"], true);
    assert_eq!(inst("CACHE")["frozen_by_iris_freeze"], false);
    assert_eq!(inst("CACHE")["product"], "Cache");
    assert_eq!(inst("DOWN")["running"], false);
    assert!(inst("DOWN")["frozen"].is_null());
    // status never changes anything
    assert_eq!(env.calls("IRIS", "freeze"), 1);
}

#[test]
fn help_explains_the_commands_with_examples() {
    let env = Env::new();
    for cmd in [
        &["--help"][..],
        &["freeze", "--help"],
        &["thaw", "--help"],
        &["status", "--help"],
    ] {
        let r = env.run(cmd);
        assert_eq!(r.code, 0, "{}", r.text());
        assert!(r.stdout.contains("Examples:"), "{cmd:?}: {}", r.stdout);
    }
    let r = env.run(&["freeze", "--help"]);
    for env_var in [
        "IRIS_FREEZE_INSTANCES",
        "IRIS_FREEZE_TIMEOUT",
        "IRIS_FREEZE_LOG_FILE",
        "IRIS_FREEZE_STATE_DIR",
    ] {
        assert!(r.stdout.contains(env_var), "{env_var} missing from --help");
    }
}

#[test]
fn stderr_follows_verbose_and_quiet() {
    // stderr's set-up is deferred to its first message; -v, -q and the default must still hold.
    let env = Env::new();
    env.iris("IRIS");
    let r = env.run(&["freeze", "-v"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stderr.contains("IRIS: ExternalFreeze succeeded"),
        "{}",
        r.text()
    );
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert_eq!(r.stderr, "", "no info without -v");
    env.freeze_externally("IRIS");
    // Someone else's freeze: a warning by default, nothing with -q.
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(
        r.stderr.contains("already frozen by someone else"),
        "{}",
        r.text()
    );
    let r = env.run(&["freeze", "-q"]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert_eq!(r.stderr, "", "-q shows errors only");
    env.thaw_externally("IRIS");
    env.run(&["freeze"]);
    let r = env.run(&["thaw", "-v"]);
    assert!(
        r.stderr.contains("IRIS: was frozen by iris-freeze for"),
        "{}",
        r.text()
    );
}

#[test]
fn a_closed_stdout_goes_nowhere_and_a_gone_reader_changes_nothing() {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    use std::process::Stdio;
    let env = Env::new();
    env.iris("IRIS");
    // Started with fd 1 closed: the log, opened first, must not take its place.
    let mut c = env.command(std::path::Path::new(common::BIN));
    c.arg("freeze").stderr(Stdio::null());
    // SAFETY: close(2) only, between fork and exec.
    unsafe {
        c.pre_exec(|| {
            nix::libc::close(1);
            Ok(())
        });
    }
    let st = c.status().unwrap();
    assert_eq!(st.code(), Some(0), "{st:?}");
    assert!(env.frozen("IRIS"));
    let log = env.log_text();
    assert!(log.contains("event=frozen"), "{log}");
    assert!(
        !log.contains("iris-freeze: frozen"),
        "stdout went into the log:\n{log}"
    );
    // stdout a pipe nobody reads any more: the summary fails with EPIPE; no SIGPIPE death,
    // the thaw completes and says so in its exit code.
    let mut c = env.command(std::path::Path::new(common::BIN));
    c.arg("thaw").stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = c.spawn().unwrap();
    drop(child.stdout.take());
    let st = child.wait().unwrap();
    assert_eq!((st.code(), st.signal()), (Some(0), None), "{st:?}");
    assert!(!env.frozen("IRIS"));
    assert!(env.recorded().is_empty());
}
