//! The cycle id, the verdict and the history, end to end against the simulator.

use std::fs;
use std::time::Duration;

use crate::common::{Env, wait_until};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(60);

/// The cycle id the state records while frozen.
fn cycle_id(env: &Env) -> String {
    env.state_json()["cycle"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_clean_cycle_is_consistent_and_its_history_names_the_journal_files() {
    let env = Env::new();
    env.iris("IRIS");
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let id = cycle_id(&env);
    assert_eq!(id.len(), "20261201T115512Z-3fa2".len(), "{id}");
    // The freeze's line is there before the freeze exits: the snapshot holds it.
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
    let thaw = env.history_events_of("thaw");
    assert_eq!(thaw.len(), 1);
    assert_eq!(thaw[0]["id"], id.as_str());
    assert_eq!(thaw[0]["instances"][0]["verdict"], "consistent");
    assert!(thaw[0]["instances"][0]["frozen_secs"].as_f64().is_some());

    let r = env.run(&["history", "--json"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let cycles: Value = serde_json::from_str(&r.stdout).unwrap();
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
    let s: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(s["last_cycle"]["id"], id.as_str(), "{}", r.text());
    assert_eq!(s["last_cycle"]["verdict"], "consistent");
}

#[test]
fn the_freeze_marker_text_carries_the_cycle_id() {
    let env = Env::new();
    env.iris("IRIS");
    assert_eq!(env.run(&["freeze"]).code, 0);
    let id = cycle_id(&env);
    let exprs = fs::read_to_string(env.sim.join("exprs.log")).unwrap();
    let want = format!("IRIS ##Class(Backup.General).ExternalFreeze(\"\",\"{id}\")");
    assert!(exprs.contains(&want), "{exprs}");
    assert_eq!(env.run(&["thaw"]).code, 0);
}

#[test]
fn a_cycle_the_watchdog_auto_thawed_is_not_consistent() {
    let env = Env::new();
    env.iris("IRIS");
    assert_eq!(env.run(&["freeze", "--max-freeze", "2"]).code, 0);
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
