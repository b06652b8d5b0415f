//! Cases the chaos soak (`chaos.rs`) found, each as a plain end-to-end test of the one
//! sequence that broke, with the seed and cycle that first showed it.

use std::time::Duration;

use crate::common::{Env, alive, wait_until};

const LIMIT: Duration = Duration::from_secs(30);

/// IsWDSuspendedExt answering 3 with an IRIS error (`ERROR #5001`) is a failed check: after a
/// thaw that failed, taking it for "not suspended" confirmed a thaw that never happened, cleared
/// the record, and IRIS stayed frozen (seed 2, cycle 24). The thaw now goes on to the emergency
/// resume and confirms again.
#[test]
fn a_check_that_fails_with_exit_3_does_not_confirm_a_thaw() {
    let env = Env::new();
    env.iris("IRIS");
    assert_eq!(env.run(&["freeze"]).code, 0);
    env.fault("IRIS", "thaw=fail@1")
        .fault("IRIS", "check=fail@1");
    let r = env.run(&["thaw"]);
    assert!(!env.frozen("IRIS"), "left frozen:\n{}", r.text());
    assert_eq!(env.calls("IRIS", "stat"), 1, "{:#?}", env.call_lines());
    assert!(env.log_text().contains("EMERGENCY"), "{}", env.log_text());
    assert!(env.recorded().is_empty(), "{:?}", env.recorded());
}

/// The same failed check in a second freeze, while our first freeze holds: it dropped the
/// record of our own freeze as stale, then took ExternalFreeze's "already suspended" for
/// another tool's freeze, so neither the watchdog nor a thaw would ever thaw it (seed 4,
/// cycle 2). The second freeze now fails on the check and, as for every earlier freeze of ours
/// when a freeze gives up, thaws it: "nothing left frozen" is then true.
#[test]
fn a_failed_check_never_drops_the_record_of_our_own_freeze() {
    let env = Env::new();
    env.iris("IRIS");
    assert_eq!(env.run(&["freeze"]).code, 0);
    env.fault("IRIS", "check=fail@1");
    let second = env.run(&["freeze"]);
    assert_eq!(second.code, 1, "{}", second.text());
    assert!(
        second.stdout.contains("nothing left frozen"),
        "{}",
        second.text()
    );
    assert!(!env.frozen("IRIS"), "{}", second.text());
    assert!(env.recorded().is_empty(), "{:?}", env.recorded());
    let thaw = env.run(&["thaw"]);
    assert_eq!(thaw.code, 0, "{}", thaw.text());
}

/// A freeze SIGKILLed while its ExternalFreeze is still running left that call running: it
/// landed after the watchdog's thaw, and IRIS stayed frozen with nothing left to thaw it (found
/// with `freeze=slow:3000` and a SIGKILL). The freeze's calls now die with it.
#[test]
fn an_externalfreeze_never_outlives_a_killed_freeze() {
    let env = Env::new();
    env.iris("IRIS").fault("IRIS", "freeze=slow:6000");
    let mut freeze = env.spawn(&["freeze", "--max-freeze", "2"]);
    assert!(wait_until(LIMIT, || env.calls("IRIS", "freeze") == 1));
    freeze.kill().unwrap();
    let _ = freeze.wait();
    let call = call_pid(&env, "freeze");
    let watchdog = env.watchdog_pid().expect("no watchdog armed");
    assert!(wait_until(LIMIT, || !alive(call)), "the call still runs");
    assert!(
        wait_until(LIMIT, || !alive(watchdog)),
        "the watchdog still runs"
    );
    assert!(
        !env.frozen("IRIS"),
        "frozen after the watchdog:\n{}\n{:#?}",
        env.log_text(),
        env.call_lines()
    );
}

/// The pid of the first simulator call `call` (from its call log).
fn call_pid(env: &Env, call: &str) -> i32 {
    env.call_lines()
        .iter()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.len() >= 5 && f[3] == call && f[4] == "start")
        .map(|f| f[1].parse().unwrap())
        .expect("no such call")
}

/// A watchdog stopped (SIGTERM) while a rollback held the host lock thawed without it; a second
/// freeze started when the rollback ended froze while the watchdog still thawed, and the
/// watchdog then wrote back the state it had read before: the second freeze's records and its
/// watchdog's token were gone, and CACHE stayed frozen with nothing to thaw it (seed
/// 351053375, cycle 29). The lockless watchdog now takes the lock as soon as it is free, and
/// never writes over a state that a newer freeze re-armed.
#[test]
fn a_watchdog_thawing_without_the_lock_never_drops_a_newer_freeze() {
    let env = Env::new();
    env.iris("IRIS")
        .fault("IRIS", "freeze=then-hang@1")
        .fault("IRIS", "thaw=slow:3000");
    env.iris("B");
    let first = env.spawn(&["freeze", "--max-freeze", "3", "--timeout", "2"]);
    // The state names the watchdog with pid 0 until it has started.
    assert!(wait_until(LIMIT, || env
        .watchdog_pid()
        .is_some_and(|p| p > 0)));
    let wd = env.watchdog_pid().unwrap();
    // The rollback's slow thaw of IRIS holds the host lock past the watchdog's deadline.
    assert!(wait_until(LIMIT, || env.calls("IRIS", "thaw") == 1));
    std::thread::sleep(Duration::from_millis(2500));
    assert!(alive(wd), "the watchdog left early: {}", env.log_text());
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(wd),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let first = crate::common::finish(first);
    assert_eq!(first.code, 1, "{}", first.text());
    let second = env.run(&["freeze", "--max-freeze", "60", "--timeout", "20"]);
    assert_eq!(second.code, 0, "{}", second.text());
    assert!(wait_until(LIMIT, || !alive(wd)), "{}", env.log_text());
    let thaw = env.run(&["thaw", "--timeout", "20"]);
    assert!(
        !env.frozen("IRIS") && !env.frozen("B"),
        "left frozen after the second freeze's thaw:\n{}\n{}",
        thaw.text(),
        env.log_text()
    );
}
