//! End-to-end: freezes and thaws that meet leftovers (stale records, down instances, damaged
//! state, a stopped freeze, someone else's freeze racing ours) still tell the truth and leave
//! nothing frozen by us.

use std::fs;
use std::time::Duration;

use crate::common::{Env, finish, wait_until};

const LIMIT: Duration = Duration::from_secs(20);

/// Rewrites one recorded instance's `since` to a day ago.
fn age_record(env: &Env, name: &str) {
    let mut state = env.state_json();
    let day_ago = chrono_day_ago();
    state["instances"][name]["since"] = serde_json::Value::String(day_ago);
    fs::write(env.state_file(), state.to_string()).unwrap();
}

fn chrono_day_ago() -> String {
    // RFC 3339 of now - 24 h, in UTC, without a date library in the tests.
    let out = std::process::Command::new("date")
        .args(["-u", "-d", "24 hours ago", "+%Y-%m-%dT%H:%M:%S.000+00:00"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn watchdog_due_in(env: &Env) -> Duration {
    let due = env.state_json()["watchdog"]["deadline_ms"]
        .as_i64()
        .expect("a watchdog is armed");
    Duration::from_millis((due - now_ms()).max(0) as u64)
}

fn set_down(env: &Env, name: &str) {
    env.add(name, &["product=IRIS", "status=down"]);
}

#[test]
fn a_stale_record_of_a_down_instance_never_shortens_the_next_freezes_watchdog() {
    let env = Env::new();
    env.iris("A").iris("B");
    assert_eq!(env.run(&["freeze", "-i", "B"]).code, 0);
    age_record(&env, "B");
    // B is stopped while frozen: a restart resumes its write daemon.
    set_down(&env, "B");
    let r = env.run(&["freeze", "-i", "A"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        watchdog_due_in(&env) > Duration::from_secs(200),
        "due in {:?}",
        watchdog_due_in(&env)
    );
    assert_eq!(env.recorded(), ["A"]);
    assert!(
        env.log_text().contains("inst=B event=down"),
        "{}",
        env.log_text()
    );
    assert!(env.frozen("A"));
    assert_eq!(env.run(&["thaw"]).code, 0);
}

#[test]
fn a_record_of_another_running_instance_never_shortens_this_freezes_watchdog() {
    let env = Env::new();
    env.iris("A").iris("B");
    assert_eq!(env.run(&["freeze", "-i", "B"]).code, 0);
    age_record(&env, "B");
    let r = env.run(&["freeze", "-i", "A"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        watchdog_due_in(&env) > Duration::from_secs(200),
        "due in {:?}",
        watchdog_due_in(&env)
    );
    assert!(env.frozen("A") && env.frozen("B"));
    // B's record is a day old: past ExternalFreezeTimeOut, so its verdict is not consistent.
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(r.stdout.contains("B: not consistent"), "{}", r.text());
    assert!(!env.frozen("A") && !env.frozen("B"));
}

#[test]
fn our_own_freeze_older_than_the_blocking_point_makes_the_freeze_fail_not_succeed() {
    let env = Env::new();
    env.iris("A");
    assert_eq!(env.run(&["freeze"]).code, 0);
    age_record(&env, "A");
    // A is still frozen by us a day later: the watchdog would be due at once, so no success.
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        r.stderr.contains("raise --max-freeze") || r.stdout.contains("auto-thaw"),
        "{}",
        r.text()
    );
    assert!(wait_until(LIMIT, || !env.frozen("A")));
}

#[test]
fn a_thaw_drops_the_record_of_an_instance_that_went_down() {
    let env = Env::new();
    env.iris("A").iris("B");
    assert_eq!(env.run(&["freeze"]).code, 0);
    set_down(&env, "B");
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(!env.frozen("A"));
    assert!(env.recorded().is_empty(), "{:?}", env.recorded());
    assert!(
        env.log_text().contains("inst=B event=down"),
        "{}",
        env.log_text()
    );
    // And the next thaw has nothing left to complain about.
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 0, "{}", r.text());
}

#[test]
fn a_named_thaw_of_a_down_instance_drops_its_record() {
    let env = Env::new();
    env.iris("A").iris("B");
    assert_eq!(env.run(&["freeze"]).code, 0);
    set_down(&env, "B");
    let r = env.run(&["thaw", "-i", "B"]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert_eq!(env.recorded(), ["A"]);
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("A"));
}

#[test]
fn a_thaw_that_waited_for_a_stopped_freeze_still_gives_externalthaw_its_timeout() {
    let env = Env::new();
    env.iris("IRIS").fault("IRIS", "freeze=then-hang");
    let mut freeze = env.spawn(&["freeze", "--timeout", "120"]);
    assert!(wait_until(LIMIT, || env.frozen("IRIS")));
    let pid = nix::unistd::Pid::from_raw(freeze.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP).unwrap();
    let r = env.run(&["thaw", "--timeout", "20"]);
    let _ = freeze.kill();
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT);
    let _ = finish(freeze);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    let log = env.log_text();
    assert!(log.contains("ExternalThaw succeeded"), "{log}");
    assert!(!log.contains("timed out"), "{log}");
    assert!(!log.contains("EMERGENCY"), "{log}");
}

#[test]
fn an_externalfreeze_slower_than_max_freeze_rolls_back_and_fails() {
    let env = Env::new();
    env.iris("IRIS").fault("IRIS", "freeze=slow:3000");
    let r = env.run(&["freeze", "--max-freeze", "1"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    assert!(env.recorded().is_empty(), "{:?}", env.recorded());
    // Ended before the watchdog would have had to act.
    assert!(!env.log_text().contains("AUTO-THAW"), "{}", env.log_text());
}

#[test]
fn a_max_freeze_that_leaves_no_room_is_refused_at_start() {
    let env = Env::new();
    env.iris("IRIS");
    let r = env.run(&["freeze", "--max-freeze", "0.4"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stderr.contains("--max-freeze"), "{}", r.text());
    assert_eq!(env.calls("IRIS", "freeze"), 0);
}

#[test]
fn a_foreign_freeze_racing_ours_is_left_alone() {
    let env = Env::new();
    env.iris("A").iris("B");
    // Another tool freezes B right after our check said it was not suspended.
    env.freeze_externally("B");
    env.fault("B", "check=answer:3@1");
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(env.frozen("A"));
    assert!(env.frozen("B"), "someone else's freeze was thawed");
    assert_eq!(env.calls("B", "thaw"), 0);
    assert_eq!(env.recorded(), ["A"]);
    assert!(
        env.log_text().contains("inst=B event=foreign"),
        "{}",
        env.log_text()
    );
    assert_eq!(env.run(&["thaw"]).code, 0);
    assert!(!env.frozen("A"));
    assert!(env.frozen("B"));
}

#[test]
fn a_freeze_of_nothing_of_ours_arms_no_watchdog() {
    let env = Env::new();
    env.iris("A");
    env.freeze_externally("A");
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(
        env.state_json()["watchdog"].is_null(),
        "{}",
        env.state_json()
    );
    let s = env.run(&["status"]);
    assert!(s.stdout.contains("watchdog: not armed"), "{}", s.text());
}

#[test]
fn a_thaw_with_nothing_recorded_names_what_is_suspended_and_leaves_it() {
    let env = Env::new();
    env.iris("A");
    let other = env.tmp.path().join("other-state");
    let r = env.run_env(
        &["freeze"],
        &[("IRIS_FREEZE_STATE_DIR", other.to_str().unwrap())],
    );
    assert_eq!(r.code, 0, "{}", r.text());
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(
        r.stdout.contains("A is suspended") || r.stdout.contains("but A is"),
        "{}",
        r.text()
    );
    assert!(r.stdout.contains("thaw --instance"), "{}", r.text());
    assert!(env.frozen("A"), "a thaw with nothing recorded thawed");
    // Nothing suspended: the plain answer.
    let r = env.run_env(
        &["thaw"],
        &[("IRIS_FREEZE_STATE_DIR", other.to_str().unwrap())],
    );
    assert_eq!(r.code, 0, "{}", r.text());
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stdout.contains("nothing to thaw"), "{}", r.text());
}

#[test]
fn with_a_damaged_state_the_documented_recovery_works() {
    let env = Env::new();
    env.iris("A").iris("B");
    assert_eq!(env.run(&["freeze"]).code, 0);
    fs::write(env.state_file(), "{\"instances\": {\"A\"").unwrap();
    // A plain thaw cannot know what to thaw: it says what is suspended and how to recover.
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stderr.contains("damaged"), "{}", r.text());
    assert!(
        r.stderr.contains("A, B is suspended") || r.stderr.contains("A, B"),
        "{}",
        r.text()
    );
    // The recovery as doc/failures.md and the message name it: `status` shows what is frozen,
    // `thaw --instance NAME` for each, then delete the file.
    let r = env.run(&["status", "--json"]);
    let status: serde_json::Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|_| panic!("{}", r.text()));
    assert!(
        status["error"].as_str().unwrap_or("").contains("damaged"),
        "{}",
        r.text()
    );
    let frozen: Vec<String> = status["instances"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["frozen"] == true)
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(frozen, ["A", "B"], "{}", r.text());
    for name in &frozen {
        let r = env.run(&["thaw", "--instance", name]);
        assert_eq!(r.code, 2, "{}", r.text());
        assert!(!env.frozen(name));
    }
    fs::remove_file(env.state_file()).unwrap();
    // Back to normal.
    assert_eq!(env.run(&["freeze"]).code, 0);
    assert_eq!(env.run(&["thaw"]).code, 0);
    assert!(!env.frozen("A") && !env.frozen("B"));
}

#[test]
fn a_program_path_read_from_the_state_is_never_run() {
    let env = Env::new();
    env.iris("IRIS");
    assert_eq!(env.run(&["freeze"]).code, 0);
    let marker = env.tmp.path().join("ran");
    let evil = env.tmp.path().join("evil");
    fs::write(
        &evil,
        format!("#!/bin/sh\ntouch {}\nexit 5\n", marker.display()),
    )
    .unwrap();
    fs::set_permissions(&evil, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut state = env.state_json();
    state["instances"]["IRIS"]["session"]["program"] = evil.to_str().unwrap().into();
    state["instances"]["IRIS"]["emergency"]["program"] = evil.to_str().unwrap().into();
    fs::write(env.state_file(), state.to_string()).unwrap();
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!marker.exists(), "ran the program the state named");
    assert!(!env.frozen("IRIS"));
}

/// A pre hook queued behind a running freeze, then a post hook: whichever of the late freeze
/// and the thaw gets the lock first, the late freeze refuses (it began before the thaw) and
/// nothing stays frozen. Three rounds: before the thaw made itself known ahead of the lock,
/// the late freeze won the race about half the time and froze again.
#[test]
fn a_late_pre_hook_queued_behind_a_freeze_refuses_whoever_wins_the_lock() {
    for round in 0..3 {
        let env = Env::new();
        // Slow enough that the thaw below comes while it is still running, on a loaded machine
        // too: a first freeze that ends before the thaw starts rightly exits 0.
        env.iris("IRIS").fault("IRIS", "freeze=slow:5000@1");
        let first = env.spawn(&["freeze", "--timeout", "60"]);
        assert!(wait_until(LIMIT, || env.calls("IRIS", "freeze") == 1));
        let late = env.spawn(&["freeze", "--timeout", "60"]);
        assert!(
            wait_until(LIMIT, || env.log_text().contains("event=lock")),
            "{}",
            env.log_text()
        );
        let thaw = env.run(&["thaw"]);
        let (first, late) = (finish(first), finish(late));
        assert_eq!(thaw.code, 0, "round {round}: {}", thaw.text());
        assert_eq!(first.code, 1, "round {round}: {}", first.text());
        assert_eq!(late.code, 1, "round {round}: {}", late.text());
        assert!(
            late.stderr
                .contains("a thaw started after this freeze began"),
            "round {round}: {}",
            late.text()
        );
        assert!(!env.frozen("IRIS"), "round {round}: left frozen");
    }
}
