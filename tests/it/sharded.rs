//! `--sharded`: a whole sharded cluster frozen and thawed from its shard master with
//! Backup.ShardedCluster, against the simulator's cluster (a master and its data nodes).

use std::fs;
use std::time::Duration;

use crate::common::{self, Env, wait_until};
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

    // The data servers (simulated on this host) were frozen by us too, with the cluster.
    for node in ["NODE1", "NODE2"] {
        let line = r
            .stdout
            .lines()
            .find(|l| l.starts_with(node))
            .unwrap_or_default();
        assert!(
            line.contains("yes, with the cluster from MASTER, since"),
            "{}",
            r.text()
        );
    }
    let json: Value = serde_json::from_str(&env.run(&["status", "--json"]).stdout).unwrap();
    let node1 = &json["instances"][1];
    assert_eq!(node1["frozen_by_iris_freeze"], true, "{json}");
    assert_eq!(node1["frozen_with_cluster_of"], "MASTER", "{json}");

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

/// Waits until the watchdog has thawed every member, its log says it thawed the cluster (by its
/// master), and its history line says so of each member.
fn the_watchdog_thawed_the_cluster(env: &Env) {
    assert!(
        wait_until(LIMIT, || frozen(env).is_empty()),
        "still frozen: {:?}",
        frozen(env)
    );
    common::assert_watchdog_thawed(env, &["MASTER"]);
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
fn the_watchdog_thaws_the_cluster_when_no_thaw_comes() {
    let env = cluster();
    let mut args = FREEZE.to_vec();
    args.extend(["--max-freeze", "2"]);
    let r = env.run(&args);
    assert_eq!(r.code, 0, "{}", r.text());
    assert_eq!(frozen(&env), MEMBERS);
    the_watchdog_thawed_the_cluster(&env);
    let asked = exprs(&env);
    assert!(asked.contains("ExternalThaw(\"IRISCLUSTER\")"), "{asked}");
    // The thaw that comes late names the cluster the watchdog thawed, not the master alone.
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(
        r.stdout
            .contains(&format!("the watchdog auto-thawed {WHOLE_CLUSTER} at")),
        "{}",
        r.text()
    );
}

/// How summaries name the cluster frozen from MASTER.
const WHOLE_CLUSTER: &str =
    "the sharded cluster IRISCLUSTER from MASTER (data servers MASTER, NODE1, NODE2)";

#[test]
fn summaries_name_the_cluster_and_its_data_servers() {
    let env = cluster();
    let r = env.run(FREEZE);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout.contains(&format!("frozen: {WHOLE_CLUSTER} (")),
        "{}",
        r.text()
    );
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout.contains(&format!("thawed: {WHOLE_CLUSTER} (")),
        "{}",
        r.text()
    );
    let args = run_sharded(&["true"]);
    let r = env.run(&strs(&args));
    assert_eq!(r.code, 0, "{}", r.text());
    assert_eq!(r.stdout.matches(WHOLE_CLUSTER).count(), 2, "{}", r.text());
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

/// Several instances on the host and none named: refused, asking for the master, nothing frozen.
fn refused_for_no_master(env: &Env, r: &common::Run) {
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        r.text().contains("name the shard master with --instance"),
        "{}",
        r.text()
    );
    assert!(frozen(env).is_empty());
}

#[test]
fn sharded_needs_the_master_named_when_the_host_runs_several_instances() {
    let env = cluster();
    let r = env.run_env(&["freeze"], &[("IRIS_FREEZE_SHARDED", "IRISCLUSTER")]);
    refused_for_no_master(&env, &r);
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

/// A shell line that fails unless every data server is frozen now, asked from inside CMD
/// through the simulator (IsWDSuspendedExt on each: exit 5).
const CHECK_CLUSTER_FROZEN: &str = r#"for n in MASTER NODE1 NODE2; do
  iris session $n -U%SYS '##Class(Backup.General).IsWDSuspendedExt()'; rc=$?
  test "$rc" = 5 || { echo "$n not frozen: $rc"; exit 9; }
done
test -n "$IRIS_FREEZE_ID" || { echo "no IRIS_FREEZE_ID"; exit 9; }
test "$IRIS_FREEZE_INSTANCES" = MASTER || { echo "INSTANCES=$IRIS_FREEZE_INSTANCES"; exit 9; }
test "$IRIS_FREEZE_DATA_SERVERS" = MASTER,NODE1,NODE2 || { echo "DATA_SERVERS=$IRIS_FREEZE_DATA_SERVERS"; exit 9; }"#;

fn run_sharded(cmd: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["run", "--instance", "MASTER", "--sharded", "IRISCLUSTER"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push("--".into());
    args.extend(cmd.iter().map(|s| s.to_string()));
    args
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn run_sharded_runs_cmd_with_every_data_server_frozen_then_thaws_the_cluster() {
    let env = cluster();
    let args = run_sharded(&["sh", "-c", CHECK_CLUSTER_FROZEN]);
    let r = env.run(&strs(&args));
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(frozen(&env).is_empty(), "{}", r.text());
    assert_eq!(env.history_kinds(), ["freeze", "cmd", "thaw"]);
    let cmd = &env.history_events_of("cmd")[0];
    assert_eq!(cmd["cmd"]["code"], 0);
    assert!(
        cmd["cmd"]["argv"]
            .as_str()
            .unwrap()
            .starts_with("sh -c 'for n in")
    );
    let freeze = &env.history_events_of("freeze")[0];
    assert_eq!(names_and(freeze, "name").len(), 3, "{freeze:?}");
    let thaw = &env.history_events_of("thaw")[0];
    assert_eq!(
        names_and(thaw, "verdict"),
        verdicts("consistent"),
        "{thaw:?}"
    );
    let asked = exprs(&env);
    assert!(asked.contains("ExternalFreeze(\"IRISCLUSTER\""), "{asked}");
    assert!(asked.contains("ExternalThaw(\"IRISCLUSTER\")"), "{asked}");
    assert_eq!(env.calls("NODE1", "freeze"), 0);
}

#[test]
fn run_sharded_with_a_data_node_failing_the_freeze_never_runs_cmd() {
    let env = cluster();
    env.fault("NODE1", "freeze=fail");
    let marker = env.tmp.path().join("cmd-ran");
    let args = run_sharded(&["touch", marker.to_str().unwrap()]);
    let r = env.run(&strs(&args));
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(!marker.exists(), "CMD ran after a failed cluster freeze");
    assert!(frozen(&env).is_empty(), "{}", r.text());
    assert!(r.text().contains("data server NODE1"), "{}", r.text());
    assert!(r.stdout.contains("CMD not run"), "{}", r.text());
    assert!(env.recorded().is_empty());
}

#[test]
fn run_sharded_names_a_data_node_failing_the_thaw_and_exits_1() {
    let env = cluster();
    env.fault("NODE2", "thaw=fail@1");
    let args = run_sharded(&["sh", "-c", CHECK_CLUSTER_FROZEN]);
    let r = env.run(&strs(&args));
    assert_eq!(r.code, 1, "{}", r.text());
    // Named in the summary itself, not only in the log.
    assert!(r.stdout.contains("data server NODE2"), "{}", r.text());
    assert!(!r.stdout.contains("(exit 1) (exit 1)"), "{}", r.text());
    assert_eq!(frozen(&env), ["NODE2"]);
    assert_eq!(env.recorded(), ["MASTER"]);
    assert_eq!(env.history_events_of("cmd")[0]["cmd"]["code"], 0);
    // The next thaw finishes the cluster's.
    let r = env.run(&["thaw"]);
    assert!(frozen(&env).is_empty(), "{}", r.text());
}

#[test]
fn the_watchdog_thaws_the_cluster_when_run_is_killed_during_cmd() {
    let env = cluster();
    let started = env.tmp.path().join("cmd-started");
    let pidfile = env.tmp.path().join("cmd.pid");
    let script = format!(
        "echo $$ > {}; touch {}; exec sleep 300",
        pidfile.display(),
        started.display()
    );
    let mut args = run_sharded(&["sh", "-c", &script]);
    args.splice(1..1, ["--max-freeze".to_string(), "3".to_string()]);
    let mut child = env.spawn(&strs(&args));
    assert!(wait_until(LIMIT, || started.exists()), "CMD never started");
    assert_eq!(frozen(&env), MEMBERS);
    child.kill().unwrap();
    child.wait().unwrap();
    the_watchdog_thawed_the_cluster(&env);
    // CMD outlived run (its own group): end it.
    if let Ok(pid) = fs::read_to_string(&pidfile) {
        let pid = nix::unistd::Pid::from_raw(pid.trim().parse().unwrap());
        let _ = nix::sys::signal::killpg(pid, nix::sys::signal::Signal::SIGKILL);
    }
}

#[test]
fn a_cluster_freeze_that_meets_a_login_or_fails_quotes_the_cluster_call() {
    let env = cluster();
    env.fault("MASTER", "freeze=login");
    let r = env.run(FREEZE);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.text().contains("asked for a login"), "{}", r.text());
    assert!(
        r.text()
            .contains("-U%SYS '##Class(Backup.ShardedCluster).ExternalFreeze(\"IRISCLUSTER\",,.CheckpointInfo)'`"),
        "{}",
        r.text()
    );
    assert!(
        !r.text().contains("Backup.General).ExternalFreeze"),
        "{}",
        r.text()
    );
    assert!(frozen(&env).is_empty());

    fs::remove_file(env.sim.join("MASTER/faults")).unwrap();
    env.fault("MASTER", "freeze=fail");
    let r = env.run(FREEZE);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        r.text()
            .contains("Backup.ShardedCluster.ExternalFreeze failed"),
        "{}",
        r.text()
    );
    assert!(frozen(&env).is_empty());
}

#[test]
fn dry_run_sharded_says_the_cluster_would_be_frozen_from_the_master_and_changes_nothing() {
    let env = cluster();
    let r = env.run(&[
        "dry-run",
        "--instance",
        "MASTER",
        "--sharded",
        "IRISCLUSTER",
    ]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout
            .contains("would freeze the sharded cluster IRISCLUSTER from its shard master MASTER"),
        "{}",
        r.text()
    );
    assert!(r.text().contains("Backup.ShardedCluster"), "{}", r.text());
    assert!(frozen(&env).is_empty());
    assert_eq!(env.calls("MASTER", "freeze"), 0);
    // Several instances on the host: refused as the freeze would be.
    let r = env.run(&["dry-run", "--sharded", "IRISCLUSTER"]);
    refused_for_no_master(&env, &r);
}

/// `check`'s line that starts with `level` and names `what`.
fn check_line<'a>(out: &'a str, level: &str, what: &str) -> Option<&'a str> {
    out.lines()
        .find(|l| l.trim_start().starts_with(level) && l.contains(what))
}

#[test]
fn check_with_a_sharded_namespace_checks_the_master_without_freezing() {
    let env = cluster();
    env.config("sharded_namespace = \"IRISCLUSTER\"\ninstances = [\"MASTER\"]\n");
    let r = env.run(&["check"]);
    let out = r.text();
    assert!(
        check_line(
            &out,
            "ok",
            "Backup.ShardedCluster).ExternalFreeze(\"IRISCLUSTER\""
        )
        .is_some(),
        "{out}"
    );
    assert!(
        check_line(&out, "ok", "shard master of IRISCLUSTER: MASTER, running").is_some(),
        "{out}"
    );
    assert!(frozen(&env).is_empty());
    assert_eq!(env.calls("MASTER", "freeze"), 0);

    // Without `instances`, the host's three: a freeze would refuse.
    env.config("sharded_namespace = \"IRISCLUSTER\"\n");
    let r = env.run(&["check"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        check_line(
            &r.text(),
            "FAIL",
            "shard master of IRISCLUSTER: 3 running instances"
        )
        .is_some(),
        "{}",
        r.text()
    );

    // The master down: nothing to freeze the cluster from.
    env.config("sharded_namespace = \"IRISCLUSTER\"\ninstances = [\"MASTER\"]\n");
    env.add(
        "MASTER",
        &[
            "product=IRIS",
            "dir=/data/master/",
            "status=down",
            "shard_namespace=IRISCLUSTER",
            "shard_nodes=NODE1,NODE2",
        ],
    );
    let r = env.run(&["check"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        check_line(&r.text(), "FAIL", "shard master of IRISCLUSTER").is_some(),
        "{}",
        r.text()
    );
}

/// The text between `from` and the next line that starts with `until`.
fn block<'a>(text: &'a str, from: &str, until: &str) -> &'a str {
    let start = text
        .find(from)
        .unwrap_or_else(|| panic!("no {from:?} in {text}"));
    let rest = &text[start..];
    let end = rest[1..].find(until).map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

#[test]
fn a_data_servers_history_line_says_where_its_restore_starts_and_the_plan_runs_on_its_own_host() {
    let env = cluster();
    let args = run_sharded(&["true"]);
    let r = env.run(&strs(&args));
    assert_eq!(r.code, 0, "{}", r.text());

    // As the man page's `history --json | jq '.[0].instances[].restore_from'` reads it.
    let h = env.run(&["history", "--json"]);
    let cycles: Value = serde_json::from_str(&h.stdout).unwrap();
    let lines = cycles[0]["instances"].as_array().unwrap();
    for (line, member) in lines.iter().zip(MEMBERS) {
        assert_eq!(line["name"], member, "{line}");
        let journal = format!("/data/{}/mgr/journal/20261125.002", member.to_lowercase());
        assert_eq!(line["restore_from"], journal.as_str(), "{line}");
        assert_eq!(line["cluster"], "IRISCLUSTER", "{line}");
        let master = if member == "MASTER" {
            Value::Null
        } else {
            "MASTER".into()
        };
        assert_eq!(line["shard_master"], master, "{line}");
    }
    let h = env.run(&["history"]);
    assert!(!h.stdout.contains("restore from -"), "{}", h.text());
    assert!(!h.stdout.contains("- -"), "{}", h.text());

    let plan = env.run(&["restore-plan"]).stdout;
    assert!(!plan.contains("(? "), "{plan}");
    assert!(plan.contains("Sharded cluster IRISCLUSTER"), "{plan}");
    let master = block(&plan, "\nMASTER (", "\nNODE1 (");
    assert!(master.contains("iris-freeze history --limit 1"), "{master}");
    assert!(!master.contains("run on:"), "{master}");
    for node in ["NODE1", "NODE2"] {
        let part = block(&plan, &format!("\n{node} ("), "\nNODE");
        assert!(
            part.contains(&format!(
                "{node} (data server of the sharded cluster IRISCLUSTER)"
            )),
            "{part}"
        );
        assert!(
            part.contains(&format!("run on: {node}'s own host, not this one")),
            "{part}"
        );
        assert!(
            part.contains("the journal file the cluster's checkpoint named"),
            "{part}"
        );
        // Its host has no history of the cycle: that is on the master's.
        assert!(!part.contains("iris-freeze history"), "{part}");
        assert!(part.contains(&format!("iris start '{node}'")), "{part}");
    }
    let json: Value = serde_json::from_str(&env.run(&["restore-plan", "--json"]).stdout).unwrap();
    assert_eq!(
        json["instances"][1]["run_on"], "NODE1's own host, not this one",
        "{json}"
    );
}

#[test]
fn a_thaw_with_the_wrong_namespace_is_refused_naming_the_right_one() {
    let env = cluster();
    let wrong = ["thaw", "--instance", "MASTER", "--sharded", "WRONG"];
    let refused = |r: &common::Run, whence: &str| {
        assert_eq!(r.code, 1, "{}", r.text());
        assert!(
            r.stdout.contains(&format!(
                "--sharded WRONG: MASTER's cluster was frozen as IRISCLUSTER ({whence}"
            )),
            "{}",
            r.text()
        );
        assert!(r.stdout.contains("--sharded IRISCLUSTER`"), "{}", r.text());
        assert!(!r.text().contains("MAY STILL BE FROZEN"), "{}", r.text());
        assert!(!exprs(&env).contains("\"WRONG\""), "{}", exprs(&env));
    };
    // Nothing frozen: the history's last cluster freeze names it.
    let args = run_sharded(&["true"]);
    assert_eq!(env.run(&strs(&args)).code, 0);
    refused(&env.run(&wrong), "history, cycle ");
    // Frozen: its record names it, and the cluster stays frozen for the right thaw.
    assert_eq!(env.run(FREEZE).code, 0);
    refused(&env.run(&wrong), "its freeze's record");
    assert_eq!(frozen(&env), MEMBERS);
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(frozen(&env).is_empty(), "{}", r.text());
}
