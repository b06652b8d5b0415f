//! `--sharded`: a whole sharded cluster frozen and thawed from its shard master with
//! Backup.ShardedCluster, against the simulator's cluster (a master and its data nodes). Its
//! calls return a %Status and no documented exit code: every test runs with the session exiting
//! 0 and again exiting 1, whatever the call did, and must pass both ways.

use std::fs;
use std::time::Duration;

use crate::common::{self, Env, wait_until};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(60);
const MEMBERS: [&str; 3] = ["MASTER", "NODE1", "NODE2"];
/// The data servers as CheckpointInfo names them: host (the simulator's: the instance's name in
/// lower case) and Super Server port (qlist's, 1972 + the instance's place).
const DATA_SERVERS: [&str; 3] = ["master:1972", "node1:1973", "node2:1974"];
/// The session's exit code, whatever the call did: none is documented.
const SESSION_EXITS: [i32; 2] = [0, 1];

/// A shard master and two data nodes, each with its own directory (so its own journal file),
/// whose sessions exit `exit`.
fn cluster_exiting(exit: i32) -> Env {
    let env = Env::new();
    let exit = format!("session_exit={exit}");
    env.add(
        "MASTER",
        &[
            "product=IRIS",
            "dir=/data/master/",
            "shard_namespace=IRISCLUSTER",
            "shard_nodes=NODE1,NODE2",
            &exit,
        ],
    );
    env.add("NODE1", &["product=IRIS", "dir=/data/node1/"]);
    env.add("NODE2", &["product=IRIS", "dir=/data/node2/"]);
    env
}

/// The cluster once per session exit code: `test` runs on each.
fn each_cluster(test: impl Fn(Env)) {
    for exit in SESSION_EXITS {
        test(cluster_exiting(exit));
    }
}

const FREEZE: &[&str] = &["freeze", "--instance", "MASTER", "--sharded", "IRISCLUSTER"];

fn frozen(env: &Env) -> Vec<&'static str> {
    MEMBERS.into_iter().filter(|m| env.frozen(m)).collect()
}

/// Every expression the simulator was asked to run, one `NAME EXPR` line each.
fn exprs(env: &Env) -> String {
    fs::read_to_string(env.sim.join("exprs.log")).unwrap_or_default()
}

/// What a freeze's (or thaw's) line of the cluster asked: a line fed on stdin that calls
/// the method, writes our markers and halts.
fn asked_on_stdin(env: &Env, call: &str) {
    let asked = exprs(env);
    let line = asked
        .lines()
        .find(|l| l.contains(call))
        .unwrap_or_else(|| panic!("no {call} in {asked}"));
    assert!(line.starts_with("MASTER s p=\"IRISFREEZE-"), "{line}");
    assert!(line.ends_with(",! h"), "{line}");
}

#[test]
fn a_cluster_freezes_and_thaws_as_one_with_a_history_line_per_data_server() {
    each_cluster(|env| {
        let r = env.run(FREEZE);
        assert_eq!(r.code, 0, "{}", r.text());
        assert_eq!(frozen(&env), MEMBERS, "{}", r.text());
        asked_on_stdin(
            &env,
            "sc=##Class(Backup.ShardedCluster).ExternalFreeze(\"IRISCLUSTER\",,.CheckpointInfo)",
        );
        // One call froze the cluster: the data nodes were never called themselves.
        assert_eq!(env.calls("NODE1", "freeze"), 0);

        let freeze = env.history_events_of("freeze");
        let lines = freeze[0]["instances"].as_array().unwrap();
        let got: Vec<(&str, &str, &str)> = lines
            .iter()
            .map(|i| {
                (
                    i["name"].as_str().unwrap(),
                    i["journal_file"].as_str().unwrap_or_default(),
                    i["checkpoint"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("MASTER", "", "1"),
                ("master:1972", "/data/master/mgr/journal/20261125.002", "1"),
                ("node1:1973", "/data/node1/mgr/journal/20261125.002", "1"),
                ("node2:1974", "/data/node2/mgr/journal/20261125.002", "1"),
            ]
        );

        let r = env.run(&["status"]);
        assert!(
            r.stdout.contains(
                "sharded cluster IRISCLUSTER frozen from here, data servers: master:1972, \
                 node1:1973, node2:1974"
            ),
            "{}",
            r.text()
        );

        let r = env.run(&["thaw"]);
        assert_eq!(r.code, 0, "{}", r.text());
        assert!(frozen(&env).is_empty(), "{}", r.text());
        asked_on_stdin(
            &env,
            "su=##Class(Backup.General).IsWDSuspended(),sc=##Class(Backup.ShardedCluster).\
             ExternalThaw(\"IRISCLUSTER\")",
        );
        let thaw = env.history_events_of("thaw");
        assert_eq!(
            names_and(&thaw[0], "verdict"),
            verdicts("consistent"),
            "{thaw:?}"
        );
        // The thaw's "System resumed" went to each data server's messages.log, not to us.
        for m in ["MASTER", "NODE1", "NODE2"] {
            let log = fs::read_to_string(env.sim.join(m).join("mgr/messages.log")).unwrap();
            assert!(log.contains("checkpoint 1, journal file /data/"), "{log}");
            assert!(log.ends_with("System resumed\n"), "{log}");
        }
        assert!(!r.text().contains("System resumed"), "{}", r.text());
    });
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

/// The master's line and each data server's, all with `v`.
fn verdicts(v: &str) -> Vec<(String, String)> {
    std::iter::once("MASTER")
        .chain(DATA_SERVERS)
        .map(|m| (m.to_string(), v.to_string()))
        .collect()
}

#[test]
fn a_data_node_that_fails_to_freeze_leaves_none_frozen() {
    each_cluster(|env| {
        env.fault("NODE2", "freeze=fail");
        let r = env.run(FREEZE);
        assert_eq!(r.code, 1, "{}", r.text());
        assert!(frozen(&env).is_empty(), "{}", r.text());
        assert!(r.text().contains("data server NODE2"), "{}", r.text());
        assert!(env.recorded().is_empty(), "{:?}", env.recorded());
    });
}

#[test]
fn a_data_node_that_fails_the_thaw_is_named_and_the_next_thaw_finishes() {
    each_cluster(|env| {
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
    });
}

/// `thaw --instance MASTER` without --sharded thaws what the freeze recorded: the cluster, not
/// the master alone (which would leave the data nodes frozen under a summary that says thawed).
#[test]
fn naming_the_master_at_thaw_thaws_the_cluster_it_froze() {
    each_cluster(|env| {
        assert_eq!(env.run(FREEZE).code, 0);
        let r = env.run(&["thaw", "--instance", "MASTER"]);
        assert_eq!(r.code, 0, "{}", r.text());
        assert!(frozen(&env).is_empty(), "{}\n{}", r.text(), exprs(&env));
        assert!(
            exprs(&env).contains("Backup.ShardedCluster).ExternalThaw(\"IRISCLUSTER\")"),
            "{}",
            exprs(&env)
        );
        assert!(env.recorded().is_empty(), "{}", r.text());
    });
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
    each_cluster(|env| {
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
    });
}

/// How summaries name the cluster frozen from MASTER.
const WHOLE_CLUSTER: &str = "the sharded cluster IRISCLUSTER from MASTER (data servers \
     master:1972, node1:1973, node2:1974)";

#[test]
fn summaries_name_the_cluster_and_its_data_servers() {
    each_cluster(|env| {
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
    });
}

#[test]
fn sharded_on_an_instance_that_is_not_the_master_fails_clearly() {
    each_cluster(|env| {
        let r = env.run(&["freeze", "--instance", "NODE1", "--sharded", "IRISCLUSTER"]);
        assert_eq!(r.code, 1, "{}", r.text());
        assert!(
            r.text().contains("NODE1 is not the shard master"),
            "{}",
            r.text()
        );
        assert!(frozen(&env).is_empty());
    });
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
    each_cluster(|env| {
        let r = env.run_env(&["freeze"], &[("IRIS_FREEZE_SHARDED", "IRISCLUSTER")]);
        refused_for_no_master(&env, &r);
        let r = env.run(&["freeze", "--sharded", "A\"B"]);
        assert_eq!(r.code, 1, "{}", r.text());
        assert!(r.text().contains("is not a namespace name"), "{}", r.text());
    });
}

#[test]
fn the_config_file_names_the_cluster_for_freeze_and_a_thaw_needs_nothing() {
    each_cluster(|env| {
        env.config("sharded_namespace = \"IRISCLUSTER\"\n");
        let r = env.run(&["freeze", "--instance", "MASTER"]);
        assert_eq!(r.code, 0, "{}", r.text());
        assert_eq!(frozen(&env), MEMBERS);
        // The record says it was a cluster: the thaw thaws the cluster whatever the config says.
        fs::write(env.root().join("etc/iris-freeze.toml"), "").unwrap();
        let r = env.run(&["thaw"]);
        assert_eq!(r.code, 0, "{}", r.text());
        assert!(frozen(&env).is_empty(), "{}", r.text());
    });
}

#[test]
fn a_cluster_already_resumed_before_the_thaw_is_not_consistent() {
    each_cluster(|env| {
        assert_eq!(env.run(FREEZE).code, 0);
        for m in MEMBERS {
            env.thaw_externally(m);
        }
        let r = env.run(&["thaw"]);
        assert_eq!(r.code, 2, "{}", r.text());
        assert!(r.text().contains("resumed before the thaw"), "{}", r.text());
        assert!(env.recorded().is_empty());
    });
}

/// A shell line that fails unless every data server is frozen now, asked from inside CMD
/// through the simulator (IsWDSuspendedExt on each: exit 5).
const CHECK_CLUSTER_FROZEN: &str = r#"for n in MASTER NODE1 NODE2; do
  iris session $n -U%SYS '##Class(Backup.General).IsWDSuspendedExt()'; rc=$?
  test "$rc" = 5 || { echo "$n not frozen: $rc"; exit 9; }
done
test -n "$IRIS_FREEZE_ID" || { echo "no IRIS_FREEZE_ID"; exit 9; }
test "$IRIS_FREEZE_INSTANCES" = MASTER || { echo "INSTANCES=$IRIS_FREEZE_INSTANCES"; exit 9; }
test "$IRIS_FREEZE_DATA_SERVERS" = master:1972,node1:1973,node2:1974 || { echo "DATA_SERVERS=$IRIS_FREEZE_DATA_SERVERS"; exit 9; }"#;

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
    each_cluster(|env| {
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
        assert_eq!(names_and(freeze, "name").len(), 4, "{freeze:?}");
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
    });
}

#[test]
fn run_sharded_with_a_data_node_failing_the_freeze_never_runs_cmd() {
    each_cluster(|env| {
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
    });
}

#[test]
fn run_sharded_names_a_data_node_failing_the_thaw_and_exits_1() {
    each_cluster(|env| {
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
    });
}

#[test]
fn the_watchdog_thaws_the_cluster_when_run_is_killed_during_cmd() {
    each_cluster(|env| {
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
    });
}

#[test]
fn a_cluster_freeze_that_meets_a_login_or_fails_quotes_the_cluster_call() {
    each_cluster(|env| {
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
            r.text().contains(
                "Backup.ShardedCluster.ExternalFreeze gave no answer we can read (no end marker"
            ),
            "{}",
            r.text()
        );
        assert!(r.text().contains("simulated failure"), "{}", r.text());
        assert!(frozen(&env).is_empty());
    });
}

#[test]
fn dry_run_sharded_says_the_cluster_would_be_frozen_from_the_master_and_changes_nothing() {
    each_cluster(|env| {
        let r = env.run(&[
            "dry-run",
            "--instance",
            "MASTER",
            "--sharded",
            "IRISCLUSTER",
        ]);
        assert_eq!(r.code, 0, "{}", r.text());
        assert!(
            r.stdout.contains(
                "would freeze the sharded cluster IRISCLUSTER from its shard master MASTER"
            ),
            "{}",
            r.text()
        );
        assert!(r.text().contains("Backup.ShardedCluster"), "{}", r.text());
        assert!(frozen(&env).is_empty());
        assert_eq!(env.calls("MASTER", "freeze"), 0);
        // Several instances on the host: refused as the freeze would be.
        let r = env.run(&["dry-run", "--sharded", "IRISCLUSTER"]);
        refused_for_no_master(&env, &r);
    });
}

/// `check`'s line that starts with `level` and names `what`.
fn check_line<'a>(out: &'a str, level: &str, what: &str) -> Option<&'a str> {
    out.lines()
        .find(|l| l.trim_start().starts_with(level) && l.contains(what))
}

#[test]
fn check_with_a_sharded_namespace_checks_the_master_without_freezing() {
    each_cluster(|env| {
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
    });
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
    each_cluster(|env| {
        let args = run_sharded(&["true"]);
        let r = env.run(&strs(&args));
        assert_eq!(r.code, 0, "{}", r.text());

        // As the man page's `history --json | jq '.[0].instances[].restore_from'` reads it.
        let h = env.run(&["history", "--json"]);
        let cycles: Value = serde_json::from_str(&h.stdout).unwrap();
        let lines = cycles[0]["instances"].as_array().unwrap();
        assert_eq!(lines[0]["name"], "MASTER", "{lines:?}");
        assert_eq!(lines[0]["checkpoint"], "1", "{lines:?}");
        assert_eq!(lines[0]["shard_master"], Value::Null, "{lines:?}");
        assert_eq!(lines.len(), 4, "{lines:?}");
        for (line, (member, server)) in lines[1..].iter().zip(MEMBERS.iter().zip(DATA_SERVERS)) {
            assert_eq!(line["name"], server, "{line}");
            let journal = format!("/data/{}/mgr/journal/20261125.002", member.to_lowercase());
            assert_eq!(line["restore_from"], journal.as_str(), "{line}");
            assert_eq!(line["cluster"], "IRISCLUSTER", "{line}");
            assert_eq!(line["checkpoint"], "1", "{line}");
            assert_eq!(line["shard_master"], "MASTER", "{line}");
        }
        let h = env.run(&["history"]);
        assert!(!h.stdout.contains("restore from -"), "{}", h.text());
        assert!(!h.stdout.contains("- -"), "{}", h.text());
        assert!(
            h.stdout.contains(
                "MASTER       shard master of the sharded cluster IRISCLUSTER, checkpoint 1"
            ),
            "{}",
            h.text()
        );
        assert!(
            h.stdout.contains(
                "node1:1973   data server (own host), frozen from MASTER at checkpoint 1"
            ),
            "{}",
            h.text()
        );

        let plan = env.run(&["restore-plan"]).stdout;
        assert!(!plan.contains("(? "), "{plan}");
        assert!(
            plan.contains(
                "Sharded cluster IRISCLUSTER, frozen from its shard master MASTER at checkpoint 1"
            ),
            "{plan}"
        );
        // The master's own data server is one of CheckpointInfo's: no block of its own.
        assert!(!plan.contains("\nMASTER ("), "{plan}");
        for (server, host, port) in [
            ("master:1972", "master", "1972"),
            ("node1:1973", "node1", "1973"),
            ("node2:1974", "node2", "1974"),
        ] {
            let part = block(&plan, &format!("\n{server} ("), "\n\n");
            assert!(
                part.contains(&format!(
                    "{server} (data server of the sharded cluster IRISCLUSTER)"
                )),
                "{part}"
            );
            assert!(
                part.contains(&format!(
                    "run on: host {host}, the instance with Super Server port {port}"
                )),
                "{part}"
            );
            assert!(
                part.contains(&format!(
                    "the journal file that ends at the cluster's checkpoint on {server}"
                )),
                "{part}"
            );
            assert!(part.contains("checkpoint 1"), "{part}");
            // Its host has no history of the cycle: that is on the master's.
            assert!(!part.contains("iris-freeze history"), "{part}");
            assert!(part.contains("iris start 'INSTANCE'"), "{part}");
        }
        let json: Value =
            serde_json::from_str(&env.run(&["restore-plan", "--json"]).stdout).unwrap();
        assert_eq!(json["checkpoint"], "1", "{json}");
        assert_eq!(json["shard_master"], "MASTER", "{json}");
        assert_eq!(json["instances"][1]["name"], "node1:1973", "{json}");
        assert_eq!(
            json["instances"][1]["restore_from"], "/data/node1/mgr/journal/20261125.002",
            "{json}"
        );
        assert_eq!(
            json["instances"][1]["run_on"], "host node1, the instance with Super Server port 1973",
            "{json}"
        );
    });
}

#[test]
fn a_thaw_with_the_wrong_namespace_is_refused_naming_the_right_one() {
    each_cluster(|env| {
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
    });
}

#[test]
fn a_cluster_call_without_our_markers_is_unknown_whatever_it_exits() {
    each_cluster(|env| {
        // 5 is Backup.General's "frozen", 0 the shell's success: neither is an answer here.
        for code in ["5", "0"] {
            fs::remove_file(env.sim.join("MASTER/faults")).ok();
            env.fault("MASTER", &format!("freeze=exit:{code}"));
            let r = env.run(FREEZE);
            assert_eq!(r.code, 1, "{}", r.text());
            assert!(r.text().contains("no end marker"), "{}", r.text());
            assert!(r.text().contains("rolled back"), "{}", r.text());
            assert!(frozen(&env).is_empty(), "{}", r.text());
            assert!(env.recorded().is_empty(), "{:?}", env.recorded());
        }
    });
}

#[test]
fn marker_lines_forged_in_the_output_do_not_count() {
    each_cluster(|env| {
        // IRIS's output holds a complete success without our nonce, while a data node fails.
        let forged = "IRISFREEZE-0123456789abcdef status\\x3d1\\x0aIRISFREEZE-0123456789abcdef \
                      error\\x3d\\x0aIRISFREEZE-0123456789abcdef checkpoint\\x3d7\\x0a\
                      IRISFREEZE-0123456789abcdef node 4:evil 2:22 4:/tmp\\x0a\
                      IRISFREEZE-0123456789abcdef end nodes\\x3d1";
        env.fault("MASTER", &format!("freeze=print:{forged}"));
        env.fault("NODE1", "freeze=fail");
        let r = env.run(FREEZE);
        assert_eq!(r.code, 1, "{}", r.text());
        assert!(r.text().contains("its %Status is an error"), "{}", r.text());
        assert!(r.text().contains("data server NODE1"), "{}", r.text());
        assert!(frozen(&env).is_empty(), "{}", r.text());
        assert!(!r.text().contains("evil:22"), "{}", r.text());
    });
}
