//! `--sharded`: a whole sharded cluster frozen and thawed from its shard master with
//! Backup.ShardedCluster, against the simulator's cluster (a master and its data nodes).

mod common;

use std::fs;
use std::time::Duration;

use common::{Env, wait_until};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(60);
const MEMBERS: [&str; 3] = ["MASTER", "NODE1", "NODE2"];

/// A shard master and two data nodes, each with its own directory (so its own journal file).
fn cluster() -> Env {
    let env = Env::new();
    env.add(
        "MASTER",
        &[
            "product=IRIS",
            "dir=/data/master/",
            "shard_namespace=IRISCLUSTER",
            "shard_nodes=NODE1,NODE2",
        ],
    );
    env.add("NODE1", &["product=IRIS", "dir=/data/node1/"]);
    env.add("NODE2", &["product=IRIS", "dir=/data/node2/"]);
    env
}

const FREEZE: &[&str] = &["freeze", "--instance", "MASTER", "--sharded", "IRISCLUSTER"];

fn frozen(env: &Env) -> Vec<&'static str> {
    MEMBERS.into_iter().filter(|m| env.frozen(m)).collect()
}

/// Every expression the simulator was asked to run, one `NAME EXPR` line each.
fn exprs(env: &Env) -> String {
    fs::read_to_string(env.sim.join("exprs.log")).unwrap_or_default()
}

#[test]
fn a_cluster_freezes_and_thaws_as_one_with_a_history_line_per_data_server() {
    let env = cluster();
    let r = env.run(FREEZE);
    assert_eq!(r.code, 0, "{}", r.text());
    assert_eq!(frozen(&env), MEMBERS, "{}", r.text());
    let asked = exprs(&env);
    assert!(
        asked.contains("MASTER ##Class(Backup.ShardedCluster).ExternalFreeze(\"IRISCLUSTER\""),
        "{asked}"
    );
    // One call froze the cluster: the data nodes were never called themselves.
    assert_eq!(env.calls("NODE1", "freeze"), 0);

    let freeze = env.history_events_of("freeze");
    let lines = freeze[0]["instances"].as_array().unwrap();
    let got: Vec<(&str, &str)> = lines
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap(),
                i["journal_file"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("MASTER", "/data/master/mgr/journal/20261125.002"),
            ("NODE1", "/data/node1/mgr/journal/20261125.002"),
            ("NODE2", "/data/node2/mgr/journal/20261125.002"),
        ]
    );

    let r = env.run(&["status"]);
    assert!(
        r.stdout.contains(
            "sharded cluster IRISCLUSTER frozen from here, data servers: MASTER, NODE1, NODE2"
        ),
        "{}",
        r.text()
    );

    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(frozen(&env).is_empty(), "{}", r.text());
    let asked = exprs(&env);
    assert!(
        asked.contains("MASTER ##Class(Backup.ShardedCluster).ExternalThaw(\"IRISCLUSTER\")"),
        "{asked}"
    );
    let thaw = env.history_events_of("thaw");
    assert_eq!(
        names_and(&thaw[0], "verdict"),
        verdicts("consistent"),
        "{thaw:?}"
    );
}

/// Each history line's name and `field`.
fn names_and(event: &Value, field: &str) -> Vec<(String, String)> {
    event["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let v = i[field].as_str().unwrap_or_default();
            (i["name"].as_str().unwrap().to_string(), v.to_string())
        })
        .collect()
}

fn verdicts(v: &str) -> Vec<(String, String)> {
    MEMBERS
        .iter()
        .map(|m| (m.to_string(), v.to_string()))
        .collect()
}

#[test]
fn a_data_node_that_fails_to_freeze_leaves_none_frozen() {
    let env = cluster();
    env.fault("NODE2", "freeze=fail");
    let r = env.run(FREEZE);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(frozen(&env).is_empty(), "{}", r.text());
    assert!(r.text().contains("data server NODE2"), "{}", r.text());
    assert!(env.recorded().is_empty(), "{:?}", env.recorded());
}

#[test]
fn a_data_node_that_fails_the_thaw_is_named_and_the_next_thaw_finishes() {
    let env = cluster();
    env.fault("NODE1", "thaw=fail@1");
    assert_eq!(env.run(FREEZE).code, 0);
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.text().contains("data server NODE1"), "{}", r.text());
    assert_eq!(frozen(&env), ["NODE1"]);
    // The record stays: the next thaw thaws the cluster again.
    assert_eq!(env.recorded(), ["MASTER"]);
    let r = env.run(&["thaw"]);
    assert!(frozen(&env).is_empty(), "{}", r.text());
    assert!(env.recorded().is_empty(), "{}", r.text());
}

#[test]
fn the_watchdog_thaws_the_cluster_when_no_thaw_comes() {
    let env = cluster();
    let mut args = FREEZE.to_vec();
    args.extend(["--max-freeze", "2"]);
    let r = env.run(&args);
    assert_eq!(r.code, 0, "{}", r.text());
    assert_eq!(frozen(&env), MEMBERS);
    assert!(
        wait_until(LIMIT, || frozen(&env).is_empty()),
        "still frozen: {:?}",
        frozen(&env)
    );
    let asked = exprs(&env);
    assert!(asked.contains("ExternalThaw(\"IRISCLUSTER\")"), "{asked}");
    assert!(wait_until(LIMIT, || !env
        .history_events_of("auto-thaw")
        .is_empty()));
    let auto = &env.history_events_of("auto-thaw")[0];
    assert_eq!(
        names_and(auto, "result"),
        verdicts("auto-thawed"),
        "{auto:?}"
    );
}

#[test]
fn sharded_on_an_instance_that_is_not_the_master_fails_clearly() {
    let env = cluster();
    let r = env.run(&["freeze", "--instance", "NODE1", "--sharded", "IRISCLUSTER"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        r.text().contains("NODE1 is not the shard master"),
        "{}",
        r.text()
    );
    assert!(frozen(&env).is_empty());
}

#[test]
fn sharded_needs_the_master_named_when_the_host_runs_several_instances() {
    let env = cluster();
    let r = env.run_env(&["freeze"], &[("IRIS_FREEZE_SHARDED", "IRISCLUSTER")]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        r.text().contains("name the shard master with --instance"),
        "{}",
        r.text()
    );
    assert!(frozen(&env).is_empty());
    let r = env.run(&["freeze", "--sharded", "A\"B"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.text().contains("is not a namespace name"), "{}", r.text());
}

#[test]
fn the_config_file_names_the_cluster_for_freeze_and_a_thaw_needs_nothing() {
    let env = cluster();
    env.config("sharded_namespace = \"IRISCLUSTER\"\n");
    let r = env.run(&["freeze", "--instance", "MASTER"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert_eq!(frozen(&env), MEMBERS);
    // The record says it was a cluster: the thaw thaws the cluster whatever the config says.
    fs::write(env.root().join("etc/iris-freeze.toml"), "").unwrap();
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(frozen(&env).is_empty(), "{}", r.text());
}

#[test]
fn a_cluster_already_resumed_before_the_thaw_is_not_consistent() {
    let env = cluster();
    assert_eq!(env.run(FREEZE).code, 0);
    for m in MEMBERS {
        env.thaw_externally(m);
    }
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(r.text().contains("resumed before the thaw"), "{}", r.text());
    assert!(env.recorded().is_empty());
}
