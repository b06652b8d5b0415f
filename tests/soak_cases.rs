//! Cases the chaos soak (`tests/chaos.rs`) found, each as a plain end-to-end test of the one
//! sequence that broke, with the seed and cycle that first showed it.

mod common;

use common::Env;

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
/// cycle 2). The second freeze now fails on the check and keeps our record.
#[test]
fn a_failed_check_never_drops_the_record_of_our_own_freeze() {
    let env = Env::new();
    env.iris("IRIS");
    assert_eq!(env.run(&["freeze"]).code, 0);
    env.fault("IRIS", "check=fail@1");
    let second = env.run(&["freeze"]);
    assert_eq!(second.code, 1, "{}", second.text());
    assert_eq!(env.recorded(), ["IRIS"], "{}", second.text());
    let thaw = env.run(&["thaw"]);
    assert_eq!(thaw.code, 0, "{}", thaw.text());
    assert!(!env.frozen("IRIS"), "{}", thaw.text());
}
