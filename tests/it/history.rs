//! The verdict and the history of cycles that went wrong, end to end against the simulator. The
//! clean cycle's id and history are checked with the rest of that cycle, in
//! `freeze_thaw::freeze_then_thaw_one_iris_instance`.

use std::fs;
use std::time::Duration;

use crate::common::{self, Env, wait_until};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn a_cycle_the_watchdog_auto_thawed_is_not_consistent() {
    let env = Env::new();
    env.iris("IRIS");
    assert_eq!(env.run(&["freeze", "--max-freeze", "2"]).code, 0);
    common::assert_watchdog_thawed(&env, &["IRIS"]);
    assert!(
        wait_until(LIMIT, || !env.history_events_of("auto-thaw").is_empty()),
        "no auto-thaw in the history: {:?}",
        env.history_events()
    );
    let a = &env.history_events_of("auto-thaw")[0];
    let v = a["instances"][0]["verdict"].as_str().unwrap();
    assert!(
        v.starts_with("not consistent: auto-thawed by the watchdog at"),
        "{v}"
    );
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(r.stdout.contains("not consistent"), "{}", r.text());
    let r = env.run(&["history", "--json"]);
    let cycles: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(cycles[0]["ended"], "auto-thawed", "{}", r.stdout);
}

#[test]
fn a_cycle_frozen_past_wd_suspend_limit_is_not_consistent() {
    let env = Env::new();
    env.iris("IRIS");
    env.config("wd_suspend_limit = 1\n");
    assert_eq!(env.run(&["freeze"]).code, 0);
    // IRIS would resume by itself past the limit: wait until the freeze is older than it.
    let since = env.state_json()["instances"]["IRIS"]["since"]
        .as_str()
        .unwrap()
        .to_string();
    let since = chrono::DateTime::parse_from_rfc3339(&since).unwrap();
    assert!(wait_until(LIMIT, || {
        (chrono::Local::now().fixed_offset() - since).num_milliseconds() > 1300
    }));
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(r.stdout.contains("past WDSuspendLimit"), "{}", r.text());
    let thaw = env.history_events_of("thaw");
    let v = thaw[0]["instances"][0]["verdict"].as_str().unwrap();
    assert!(v.starts_with("not consistent: "), "{v}");
}

#[test]
fn an_instance_resumed_before_the_thaw_is_not_consistent() {
    let env = Env::new();
    env.iris("IRIS");
    assert_eq!(env.run(&["freeze"]).code, 0);
    // A restart (or another tool) resumed the write daemon: ExternalThaw says "not suspended".
    env.thaw_externally("IRIS");
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(
        r.stdout.contains("not consistent: resumed before the thaw"),
        "{}",
        r.text()
    );
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.text());
    // Thawed (not a failure): nothing is left recorded, and the log shows ExternalThaw's 3.
    assert!(env.recorded().is_empty());
    assert!(env.log_text().contains("inst=IRIS event=thaw rc=3"));
}

#[test]
fn an_instance_stopped_while_frozen_is_not_consistent() {
    let env = Env::new();
    env.iris("IRIS");
    assert_eq!(env.run(&["freeze"]).code, 0);
    env.thaw_externally("IRIS");
    env.add("IRIS", &["product=IRIS", "status=down"]);
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 2, "{}", r.text());
    let thaw = env.history_events_of("thaw");
    let v = thaw[0]["instances"][0]["verdict"].as_str().unwrap();
    assert!(v.contains("stopped while frozen"), "{v}");
}

#[test]
fn a_history_that_cannot_be_written_fails_neither_the_freeze_nor_the_thaw() {
    let env = Env::new();
    env.iris("IRIS");
    // A path under a regular file: its directory can never be created.
    let blocker = env.sim.join("not-a-dir");
    fs::write(&blocker, "x").unwrap();
    let path = blocker.join("history.jsonl");
    let path = path.to_str().unwrap();
    let set = [("IRIS_FREEZE_HISTORY_FILE", path)];
    let r = env.run_env(&["freeze"], &set);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stderr.contains("history"), "{}", r.text());
    assert!(
        env.log_text().contains("event=history"),
        "{}",
        env.log_text()
    );
    let r = env.run_env(&["thaw"], &set);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
}

#[test]
fn the_history_names_the_hook_that_ran_each_event() {
    let env = Env::new();
    env.iris("IRIS");
    let r = env.run_program(&env.hook("preScript.sh"), &[], &[]);
    assert_eq!(r.code, 0, "{}", r.text());
    let r = env.run(&["post-script", "id"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let by: Vec<String> = env
        .history_events()
        .iter()
        .map(|e| e["by"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(by, ["preScript.sh", "post-script"]);
    let r = env.run(&["history", "--json", "--limit", "1"]);
    let cycles: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(cycles.as_array().unwrap().len(), 1);
    assert_eq!(cycles[0]["by"], "preScript.sh");
}
