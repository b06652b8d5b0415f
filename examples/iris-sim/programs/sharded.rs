//! `Backup.ShardedCluster` ExternalFreeze / ExternalThaw on a shard master: every data server
//! of the cluster (the master and its `shard_nodes`) frozen together or none, then thawed
//! together. The `node=NAME journal=PATH` lines stand for CheckpointInfo; that format is
//! iris-freeze's assumption, not IRIS's.

use std::fs;
use std::io;
use std::path::Path;

use super::backup::set_frozen;
use crate::call::Call;
use crate::exits::hang;
use crate::faults::{Kind, take_node_fault};
use crate::instances::{Instance, find_instance};

/// Runs the cluster call `call` (freeze or thaw) that `expr` names, on `master`.
pub(super) fn run(root: &Path, master: &Instance, expr: &str, call: Call) -> i32 {
    let members = match members(root, master, expr) {
        Ok(m) => m,
        Err(msg) => {
            say!("ERROR #5001: {msg}");
            return 3;
        }
    };
    if call == Call::Freeze {
        freeze(master, &members)
    } else {
        thaw(&members)
    }
}

/// The cluster's data servers, master first, when `expr` names this master's namespace.
fn members(root: &Path, master: &Instance, expr: &str) -> Result<Vec<Member>, String> {
    let conf = &master.conf;
    if conf.shard_namespace.is_empty() {
        return Err(format!(
            "Backup.ShardedCluster: instance {} is not the shard master of a sharded cluster",
            master.name
        ));
    }
    let ns = expr.split('"').nth(1).unwrap_or("");
    if !ns.eq_ignore_ascii_case(&conf.shard_namespace) {
        return Err(format!(
            "Backup.ShardedCluster: {ns:?} is not the master namespace of the cluster (it is {})",
            conf.shard_namespace
        ));
    }
    let mut out = vec![Member {
        name: master.name.clone(),
        inst: find_instance(root, &conf.registry, &master.name),
        master: true,
    }];
    out.extend(conf.shard_nodes.iter().map(|n| Member {
        name: n.clone(),
        inst: find_instance(root, &conf.registry, n),
        master: false,
    }));
    Ok(out)
}

struct Member {
    name: String,
    inst: Option<Instance>,
    master: bool,
}

impl Member {
    /// The running instance, or why it cannot take part. A data node's own `freeze`/`thaw`
    /// fault line applies to its part: `fail` fails it, `hang` hangs the whole call.
    fn reach(&self, call: Call) -> Result<&Instance, String> {
        let Some(inst) = &self.inst else {
            return Err(format!("data server {} not found", self.name));
        };
        if !inst.conf.running() {
            return Err(format!(
                "data server {} is down ({})",
                self.name, inst.conf.status
            ));
        }
        if self.master {
            return Ok(inst);
        }
        match take_node_fault(&inst.path.join("faults"), call) {
            Some(Kind::Fail) => Err(format!("data server {}: simulated failure", self.name)),
            Some(Kind::Hang) => hang(),
            _ => Ok(inst),
        }
    }
}

fn freeze(master: &Instance, members: &[Member]) -> i32 {
    say!(
        "Backup.ShardedCluster.ExternalFreeze: freezing the cluster from {}",
        master.name
    );
    let mut frozen: Vec<&Instance> = Vec::new();
    for m in members {
        let res = m
            .reach(Call::Freeze)
            .and_then(|inst| match set_frozen(inst) {
                Ok(()) => Ok(inst),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    Err(format!("data server {} is already frozen", m.name))
                }
                Err(e) => Err(format!("data server {}: {e}", m.name)),
            });
        match res {
            Ok(inst) => frozen.push(inst),
            Err(why) => {
                // All or none: what this call froze is thawed again.
                for inst in &frozen {
                    let _ = fs::remove_file(inst.frozen_path());
                }
                say!("ERROR #5001: {why}; the cluster was not frozen");
                return 3;
            }
        }
    }
    for inst in &frozen {
        say!("node={} journal={}", inst.name, inst.conf.journal());
    }
    say!("System suspended");
    5
}

fn thaw(members: &[Member]) -> i32 {
    let (mut resumed, mut errors) = (0, Vec::new());
    for m in members {
        match m.reach(Call::Thaw) {
            Ok(inst) => match fs::remove_file(inst.frozen_path()) {
                Ok(()) => resumed += 1,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => errors.push(format!("data server {}: {e}", m.name)),
            },
            Err(why) => errors.push(why),
        }
    }
    for e in &errors {
        say!("ERROR #5001: {e}: not resumed");
    }
    if !errors.is_empty() {
        return 3;
    }
    if resumed == 0 {
        say!("Backup.ShardedCluster.ExternalThaw: Already resumed");
        return 3;
    }
    say!("Backup.ShardedCluster.ExternalThaw: System resumed");
    5
}
