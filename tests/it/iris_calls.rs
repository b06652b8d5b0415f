//! IRIS's answers where its documentation is silent (doc/iris-calls.md): an answer iris-freeze
//! does not recognise never counts as a success.

use crate::common::*;

#[test]
fn a_3_from_is_wd_suspended_with_output_it_never_prints_does_not_confirm_a_thaw() {
    let env = Env::new();
    env.iris("IRIS");
    assert_eq!(env.run(&["freeze"]).code, 0);
    // ExternalThaw fails, then the check exits 3 with a line of its own: not an answer.
    env.fault("IRIS", "thaw=fail@1")
        .fault("IRIS", "check=exit:3@1");
    let r = env.run(&["thaw"]);
    let log = env.log_text();
    assert!(log.contains("state is unknown"), "{log}");
    // So the emergency resume ran, and the next check confirmed it.
    assert_eq!(env.calls("IRIS", "stat"), 1, "{}", r.text());
    assert!(!env.frozen("IRIS"), "{}", r.text());
}

#[test]
fn a_thaw_whose_check_never_answers_is_not_a_success() {
    let env = Env::new();
    env.iris("IRIS");
    assert_eq!(env.run(&["freeze"]).code, 0);
    env.fault("IRIS", "thaw=fail").fault("IRIS", "check=exit:3");
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.text().contains("MAY STILL BE FROZEN"), "{}", r.text());
}

#[test]
fn a_qlist_line_with_too_few_fields_stops_a_default_freeze() {
    let env = Env::new();
    env.iris("IRIS");
    env.fault("-", "iris-qlist=print:SHORT^/x/^2024.1^running");
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        r.text()
            .contains("printed a line that was skipped: 4 fields, fewer than the 8"),
        "{}",
        r.text()
    );
    assert!(!env.frozen("IRIS"));
    // Named instances are found as usual.
    let r = env.run(&["freeze", "--instance", "IRIS"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
}
