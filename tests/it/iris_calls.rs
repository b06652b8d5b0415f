//! IRIS's answers where its documentation is silent (doc/iris-calls.md): an answer iris-freeze
//! does not recognise never counts as a success.

use crate::common::*;

/// The calls the simulator saw from the `skip`th on, in order (`check`, `freeze`, `thaw`...).
fn calls_since(env: &Env, skip: usize) -> Vec<String> {
    env.call_lines()
        .iter()
        .filter(|l| l.ends_with("start"))
        .skip(skip)
        .map(|l| l.split_whitespace().nth(3).unwrap().to_string())
        .collect()
}

fn starts(env: &Env) -> usize {
    calls_since(env, 0).len()
}

#[test]
fn a_session_that_exits_3_silently_before_running_the_check_is_no_answer() {
    let env = Env::new();
    env.iris("IRIS");
    assert_eq!(env.run(&["freeze"]).code, 0);
    // ExternalThaw fails, so IRIS is still frozen, and every session the check opens exits 3
    // printing nothing, as one that failed before running anything would: that 3 is not
    // "not suspended".
    env.fault("IRIS", "thaw=fail")
        .fault("IRIS", "check=silent:3")
        .fault("IRIS", "stat=fail");
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.text().contains("MAY STILL BE FROZEN"), "{}", r.text());
    assert!(!r.stdout.starts_with("thawed"), "{}", r.text());
    assert!(env.frozen("IRIS"));
    assert_eq!(env.recorded(), ["IRIS"], "the record of our freeze stays");
    let log = env.log_text();
    assert!(log.contains("without IsWDSuspended's answer"), "{log}");

    let s = env.run(&["status"]);
    assert_eq!(s.code, 1, "{}", s.text());
    assert!(s.text().contains("IRIS: cannot check"), "{}", s.text());
    let s = env.run(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&s.stdout).unwrap();
    assert_eq!(v["instances"][0]["frozen"], serde_json::Value::Null, "{v}");
    assert!(v["instances"][0]["check_error"].is_string(), "{v}");

    // A freeze asks the same before it freezes anything: no answer, no freeze.
    let env = Env::new();
    env.iris("IRIS").fault("IRIS", "check=silent:3");
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    assert_eq!(env.calls("IRIS", "freeze"), 0);
}

#[test]
fn the_check_is_answered_by_its_marker_whatever_the_session_exits() {
    let env = Env::new();
    env.iris("IRIS");
    let before = starts(&env);
    assert_eq!(env.run(&["freeze"]).code, 0);
    // Nothing between ExternalFreeze and the freeze's exit, nor before ExternalThaw in a thaw.
    let freeze = calls_since(&env, before);
    assert!(
        freeze.ends_with(&["check".into(), "freeze".into()]),
        "{freeze:?}"
    );
    // The check's markers say "not suspended", its session exits 5 (IsWDSuspendedExt's
    // "suspended"): the marker answers.
    env.fault("IRIS", "check=then-exit:5");
    let before = starts(&env);
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert_eq!(calls_since(&env, before), ["thaw", "check"]);
    assert!(!env.frozen("IRIS"));
    assert_eq!(env.calls("IRIS", "stat"), 0, "no emergency resume");

    // Sessions that exit 1 after the line, whatever it wrote, answer the same.
    let env = Env::new();
    env.add("IRIS", &["product=IRIS", "session_exit=1"]);
    assert_eq!(env.run(&["freeze"]).code, 0);
    let s = env.run(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&s.stdout).unwrap();
    assert_eq!(v["instances"][0]["frozen"], true, "{v}");
    assert_eq!(env.run(&["thaw"]).code, 0);
    assert!(!env.frozen("IRIS"));
}

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
