//! A sharded cluster whose data servers are partly instances of this host: CheckpointInfo names
//! each `host:port`, and the ones whose host is this host (by its name in any case, with or
//! without a domain, `localhost`, or an address of its interfaces) and whose port is a local
//! instance's Super Server port are that instance. `status` marks them frozen with the master's cluster, and `verify` checks
//! their directories in a snapshot (messages.log's checkpoint line, then no resume after it),
//! while a data server on another host is left to be verified there. Every test runs with the
//! sessions exiting 0 and again 1, as in `sharded.rs`.

use std::fs;
use std::process::Command;

use serde_json::Value;

use crate::common::Env;
use crate::common::verify::{verdict_of, verify, verify_json};
use crate::verify::{install_dir, snapshot, under};

const FREEZE: &[&str] = &["freeze", "--instance", "MASTER", "--sharded", "IRISCLUSTER"];

/// This host's name, as iris-freeze reads it.
fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

/// A cluster of instances of this host, each with a modelled tree (messages.log, journals,
/// WIJ), each `(name, host CheckpointInfo gives it)`; the first is the master. Sessions exit
/// `exit`, whatever they did.
fn cluster(members: &[(&str, &str)], exit: i32) -> Env {
    let env = Env::new();
    let nodes: Vec<&str> = members[1..].iter().map(|m| m.0).collect();
    for (i, (name, host)) in members.iter().enumerate() {
        let dir = install_dir(&env, name);
        fs::create_dir_all(dir.join("mgr")).unwrap();
        let mut conf = vec![
            "product=IRIS".to_string(),
            format!("dir={}/", dir.display()),
            format!("host={host}"),
            format!("session_exit={exit}"),
        ];
        if i == 0 {
            conf.push("shard_namespace=IRISCLUSTER".into());
            conf.push(format!("shard_nodes={}", nodes.join(",")));
        }
        let conf: Vec<&str> = conf.iter().map(String::as_str).collect();
        env.add(name, &conf);
    }
    env
}

/// This host's name as a cluster may give it: in capitals, with a domain.
fn this_host_otherwise() -> String {
    let h = hostname().to_uppercase();
    if h.contains('.') {
        h
    } else {
        format!("{h}.example.com")
    }
}

/// MASTER (named by this host's name), NODE1 (the same in capitals with a domain), NODE2
/// (`localhost`): all of this host; NODE3 on another host.
fn mixed(exit: i32) -> (Env, [String; 4]) {
    let (me, other) = (hostname(), this_host_otherwise());
    let env = cluster(
        &[
            ("MASTER", &me),
            ("NODE1", &other),
            ("NODE2", "localhost"),
            ("NODE3", "elsewhere.example.org"),
        ],
        exit,
    );
    let names = [
        format!("{me}:1972"),
        format!("{other}:1973"),
        "localhost:1974".to_string(),
        "elsewhere.example.org:1975".to_string(),
    ];
    (env, names)
}

fn row<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {v}"))
}

#[test]
fn status_marks_the_local_data_servers_frozen_with_the_masters_cluster() {
    for exit in [0, 1] {
        let (env, _) = mixed(exit);
        let r = env.run(FREEZE);
        assert_eq!(r.code, 0, "{}", r.text());
        let s = env.run(&["status"]);
        assert_eq!(s.code, 0, "{}", s.text());
        let line = |name: &str| {
            s.stdout
                .lines()
                .find(|l| l.starts_with(&format!("{name} ")))
                .unwrap_or_else(|| panic!("no {name} in {}", s.text()))
                .to_string()
        };
        for node in ["NODE1", "NODE2"] {
            assert!(
                line(node).contains("yes, with the cluster from MASTER, since"),
                "{}",
                s.text()
            );
        }
        // Frozen with the cluster too, but on another host as CheckpointInfo names it.
        assert!(line("NODE3").ends_with(" no"), "{}", s.text());
        assert!(line("MASTER").contains("yes, since"), "{}", s.text());

        let s = env.run(&["status", "--json"]);
        let v: Value = serde_json::from_str(&s.stdout).unwrap();
        for node in ["NODE1", "NODE2"] {
            assert_eq!(row(&v, node)["frozen_with_cluster_of"], "MASTER", "{v}");
            assert_eq!(row(&v, node)["frozen_by_iris_freeze"], true, "{v}");
        }
        assert_eq!(row(&v, "NODE3")["frozen_with_cluster_of"], Value::Null);
        assert_eq!(row(&v, "NODE3")["frozen_by_iris_freeze"], false, "{v}");
        assert_eq!(env.run(&["thaw"]).code, 0);
    }
}

#[test]
fn verify_checks_the_local_data_servers_and_leaves_the_others_to_their_hosts() {
    for exit in [0, 1] {
        let (env, names) = mixed(exit);
        assert_eq!(env.run(FREEZE).code, 0);
        let frozen = snapshot(&env, "frozen");
        assert_eq!(env.run(&["thaw"]).code, 0);
        let after = snapshot(&env, "after");

        let (r, v) = verify_json(&env, &frozen);
        assert_eq!(r.code, 1, "{}", r.text());
        for (name, inst) in names.iter().zip(["MASTER", "NODE1", "NODE2"]) {
            assert_eq!(verdict_of(&v, name), "consistent", "{v}");
            assert_eq!(row(&v, name)["instance"], inst, "{v}");
            // The journal file that ends at the checkpoint, in the snapshot, then the next.
            let j = row(&v, name)["restore_from"].as_str().unwrap().to_string();
            assert!(
                j.ends_with(&format!("{inst}/install/mgr/journal/20261125.001")),
                "{v}"
            );
            assert_eq!(row(&v, name)["journal_files"][0], j.as_str(), "{v}");
        }
        let away = verdict_of(&v, &names[3]);
        assert!(
            away.starts_with("unknown: ") && away.contains("on its own host"),
            "{away}"
        );
        assert_eq!(row(&v, &names[3])["on_another_host"], true, "{v}");
        let overall = v["verdict"].as_str().unwrap();
        assert!(
            overall.starts_with("unknown: consistent here (")
                && overall.ends_with(&format!("verified there: {}", names[3])),
            "{overall}"
        );
        // restore-plan, from the same history line, names the same journal files.
        for p in v["restore_plan"]["instances"].as_array().unwrap() {
            let name = p["name"].as_str().unwrap();
            assert_eq!(p["restore_from"], row(&v, name)["restore_from"], "{v}");
        }
        let h = env.run(&["history"]);
        assert!(
            h.stdout
                .lines()
                .any(|l| l.trim_start().starts_with(&names[1])
                    && l.contains(
                        "data server (NODE1 of this host), frozen from MASTER at checkpoint 1"
                    )),
            "{}",
            h.text()
        );
        let r = verify(&env, &frozen);
        assert!(
            r.stdout.contains(&format!(
                "{} (instance MASTER of this host): consistent",
                names[0]
            )),
            "{}",
            r.text()
        );
        // Its restore steps name the instances of this host; the other host's is not known.
        for inst in ["MASTER", "NODE1", "NODE2"] {
            assert!(
                r.stdout.contains(&format!("iris start '{inst}'")),
                "{}",
                r.text()
            );
        }
        assert_eq!(
            r.stdout.matches("iris start 'INSTANCE'").count(),
            1,
            "{}",
            r.text()
        );

        // After the thaw: its line is in the snapshot.
        let (r, v) = verify_json(&env, &after);
        assert_eq!(r.code, 2, "{}", r.text());
        assert!(
            verdict_of(&v, &names[1]).contains("cut after the thaw"),
            "{v}"
        );

        // Cut between the cluster's ExternalThaw and our thaw's line: NODE1's messages.log
        // already says "System resumed" after its checkpoint line.
        let torn = env.tmp.path().join("snaps/torn");
        let st = Command::new("cp")
            .arg("-a")
            .arg(&frozen)
            .arg(&torn)
            .status()
            .unwrap();
        assert!(st.success());
        let log = |root: &std::path::Path| {
            under(root, &install_dir(&env, "NODE1").join("mgr/messages.log"))
        };
        fs::copy(log(&after), log(&torn)).unwrap();
        let (r, v) = verify_json(&env, &torn);
        assert_eq!(r.code, 2, "{}", r.text());
        let node1 = verdict_of(&v, &names[1]);
        assert!(
            node1.starts_with("not consistent: ") && node1.contains("System resumed"),
            "{node1}"
        );
        assert_eq!(verdict_of(&v, &names[0]), "consistent", "{v}");
    }
}

#[test]
fn a_cluster_all_on_this_host_verifies_consistent_and_an_unrecognised_master_cannot() {
    for exit in [0, 1] {
        let me = hostname();
        let env = cluster(&[("MASTER", &me), ("NODE1", "localhost")], exit);
        assert_eq!(env.run(FREEZE).code, 0);
        let snap = snapshot(&env, "frozen");
        let (r, v) = verify_json(&env, &snap);
        assert_eq!(r.code, 0, "{}", r.text());
        assert_eq!(v["verdict"], "consistent", "{v}");
        assert_eq!(env.run(&["thaw"]).code, 0);

        // The master named by a host that is not this one: its own data server is not known
        // here, so neither is its journal file.
        let env = cluster(&[("MASTER", "db-master"), ("NODE1", "localhost")], exit);
        assert_eq!(env.run(FREEZE).code, 0);
        let snap = snapshot(&env, "frozen");
        let (r, v) = verify_json(&env, &snap);
        assert_eq!(r.code, 1, "{}", r.text());
        assert_eq!(verdict_of(&v, "localhost:1973"), "consistent", "{v}");
        assert!(
            verdict_of(&v, "MASTER").contains("none of the data servers"),
            "{v}"
        );
        assert_eq!(env.run(&["thaw"]).code, 0);
    }
}

#[test]
fn the_cluster_thaw_reads_already_resumed_in_a_local_data_servers_messages_log() {
    for exit in [0, 1] {
        let (env, names) = mixed(exit);
        assert_eq!(env.run(FREEZE).code, 0);
        // NODE1 is resumed while the cluster is frozen (the master is not): the cluster's thaw
        // answers OK, and writes "Already resumed" to NODE1's messages.log only.
        env.thaw_externally("NODE1");
        let r = env.run(&["thaw"]);
        assert_eq!(r.code, 2, "{}", r.text());
        assert!(
            r.stderr.contains("says \"Already resumed\""),
            "{}",
            r.text()
        );
        let thaw = env.history_events_of("thaw");
        let v = thaw[0]["instances"][0]["verdict"].as_str().unwrap();
        assert!(
            v.starts_with("not consistent: ") && v.contains(&names[1]),
            "{v}"
        );
        // The next cycle, untouched, is consistent again.
        assert_eq!(env.run(FREEZE).code, 0);
        let r = env.run(&["thaw"]);
        assert_eq!(r.code, 0, "{}", r.text());
    }
}

/// An address of one of this machine's interfaces that is not the loopback, as a cluster
/// attached by IP names its data servers.
fn an_interface_address() -> String {
    let addrs = nix::ifaddrs::getifaddrs().unwrap().filter_map(|i| {
        let a = i.address?;
        a.as_sockaddr_in()
            .map(|v4| v4.ip().to_string())
            .filter(|ip| !ip.starts_with("127."))
    });
    addrs
        .into_iter()
        .next()
        .expect("this test needs a network interface with an IPv4 address besides the loopback")
}

#[test]
fn a_data_server_named_by_an_address_of_this_host_is_local() {
    let ip = an_interface_address();
    for exit in [0, 1] {
        let env = cluster(&[("MASTER", &hostname()), ("NODE1", &ip)], exit);
        let r = env.run(FREEZE);
        assert_eq!(r.code, 0, "{}", r.text());
        let s = env.run(&["status", "--json"]);
        let v: Value = serde_json::from_str(&s.stdout).unwrap();
        assert_eq!(row(&v, "NODE1")["frozen_with_cluster_of"], "MASTER", "{v}");
        // The history's line for it names the instance, so `verify` reads its directory.
        let h = env.run(&["history", "--json"]);
        assert!(
            h.stdout.contains(&format!("{ip}:1973")) && h.stdout.contains("NODE1"),
            "{}",
            h.text()
        );
        assert_eq!(env.run(&["thaw"]).code, 0);
    }
}
