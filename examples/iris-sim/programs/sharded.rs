//! `Backup.ShardedCluster` ExternalFreeze / ExternalThaw on a shard master: every data server
//! of the cluster (the master and its `shard_nodes`) frozen together or none, then thawed
//! together. As the class reference has them, they return a %Status and no exit code: the
//! caller's ObjectScript line (fed on stdin) writes its own markers of it, of CheckpointInfo's
//! value (the checkpoint number) and of its nodes `(host,port)=journal file`; the session then
//! exits with the master's `session_exit` (0 by default) whatever the %Status. "System resumed"
//! and "Already resumed" go to each data server's messages.log only.

use std::fs;
use std::io;
use std::path::Path;

use super::backup::set_frozen;
use crate::call::Call;
use crate::console::mark;
use crate::exits::hang;
use crate::faults::{Kind, take_node_fault};
use crate::instances::{Instance, find_instance, registry_instances};
use crate::messages_log;

/// A %Status: OK, or an error's text.
type Status = Result<(), String>;

/// Runs the cluster call of `line` (fed on stdin) on `master` and writes what the line would:
/// its markers (the prefix is the line's `p="..."`), after the `%SYS>` prompt, then halts.
pub(super) fn run_fed(root: &Path, master: &Instance, line: &str, call: Call) -> i32 {
    print!("%SYS>");
    let mark = |text: String| mark(line, &text);
    let members = members(root, master, line);
    if call == Call::Freeze {
        let (status, checkpoint) = match members {
            Ok(m) => freeze(root, master, &m),
            Err(e) => (Err(e), None),
        };
        mark_status(&mark, &status);
        let (number, nodes) = checkpoint.unwrap_or_default();
        mark(format!("checkpoint={number}"));
        for (host, port, journal) in &nodes {
            mark(format!(
                "node {}:{host} {}:{port} {}:{journal}",
                host.chars().count(),
                port.len(),
                journal.chars().count()
            ));
        }
        mark(format!("end nodes={}", nodes.len()));
    } else {
        let suspended = master.is_frozen();
        let status = members.and_then(|m| thaw(&m));
        mark_status(&mark, &status);
        mark(format!("suspended={}", u8::from(suspended)));
        mark("end".into());
    }
    say!();
    master.conf.session_exit
}

fn mark_status(mark: &impl Fn(String), status: &Status) {
    mark(format!("status={}", u8::from(status.is_ok())));
    let error = status.as_ref().err().map_or("", String::as_str);
    mark(format!("error={error}"));
}

/// Runs the cluster call `call` (freeze or thaw) that `expr` names, on `master`, as an
/// expression on the command line: it prints the %Status's error, if any; no exit code is
/// documented for it, so it exits as the session does (`session_exit`).
pub(super) fn run(root: &Path, master: &Instance, expr: &str, call: Call) -> i32 {
    let status = members(root, master, expr).and_then(|m| {
        if call == Call::Freeze {
            freeze(root, master, &m).0
        } else {
            thaw(&m)
        }
    });
    if let Err(e) = status {
        say!("{e}");
    }
    master.conf.session_exit
}

/// The cluster's data servers, master first, when `expr` names this master's namespace.
fn members(root: &Path, master: &Instance, expr: &str) -> Result<Vec<Member>, String> {
    let conf = &master.conf;
    if conf.shard_namespace.is_empty() {
        return Err(format!(
            "ERROR #5001: Backup.ShardedCluster: instance {} is not the shard master of a \
             sharded cluster",
            master.name
        ));
    }
    // The first quoted argument of the cluster method (the marker line has others before it).
    let at = expr
        .to_ascii_lowercase()
        .find("backup.shardedcluster).")
        .unwrap_or(0);
    let ns = expr[at..].split('"').nth(1).unwrap_or("");
    if !ns.eq_ignore_ascii_case(&conf.shard_namespace) {
        return Err(format!(
            "ERROR #5001: Backup.ShardedCluster: {ns:?} is not the master namespace of the \
             cluster (it is {})",
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

/// CheckpointInfo: its value, and its nodes (host, Super Server port, journal file).
type CheckpointInfo = (String, Vec<(String, String, String)>);

fn freeze(root: &Path, master: &Instance, members: &[Member]) -> (Status, Option<CheckpointInfo>) {
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
                return (
                    Err(format!("ERROR #5001: {why}; the cluster was not frozen")),
                    None,
                );
            }
        }
    }
    let number = next_checkpoint(master);
    let nodes = frozen
        .iter()
        .map(|inst| {
            let j = match messages_log::mgr(inst) {
                Some(mgr) => messages_log::checkpoint(inst, &mgr, number),
                None => {
                    let j = inst.conf.journal();
                    log_lines(inst, &[messages_log::checkpoint_line(number, &j)]);
                    j
                }
            };
            (host_of(inst), superserver(root, inst).to_string(), j)
        })
        .collect();
    (Ok(()), Some((number.to_string(), nodes)))
}

/// The checkpoint number: one more than the master's last.
fn next_checkpoint(master: &Instance) -> u64 {
    let path = master.path.join("checkpoint");
    let n = fs::read_to_string(&path)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(0)
        + 1;
    let _ = fs::write(&path, n.to_string());
    n
}

/// The host a data server stands for: conf `host`, else its name in lower case.
fn host_of(inst: &Instance) -> String {
    if inst.conf.host.is_empty() {
        inst.name.to_lowercase()
    } else {
        inst.conf.host.clone()
    }
}

/// Its Super Server port, as qlist prints it (1972 + its place in its registry).
fn superserver(root: &Path, inst: &Instance) -> usize {
    let list = registry_instances(root, &inst.conf.registry);
    1972 + list.iter().position(|i| i.name == inst.name).unwrap_or(0)
}

/// Appends `lines` to the data server's messages.log: its modelled tree's, with IRIS's prefix,
/// else `mgr/messages.log` in its simulator directory, as they are.
fn log_lines(inst: &Instance, lines: &[String]) {
    if let Some(mgr) = messages_log::mgr(inst) {
        return messages_log::append(inst, &mgr, lines);
    }
    let dir = inst.path.join("mgr");
    let _ = fs::create_dir_all(&dir);
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    crate::calllog::append(&dir.join("messages.log"), &text);
}

fn thaw(members: &[Member]) -> Status {
    let mut errors = Vec::new();
    for m in members {
        match m.reach(Call::Thaw) {
            Ok(inst) => match fs::remove_file(inst.frozen_path()) {
                Ok(()) => log_lines(inst, &messages_log::thaw_lines(true)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    log_lines(inst, &messages_log::thaw_lines(false));
                }
                Err(e) => errors.push(format!("data server {}: {e}", m.name)),
            },
            Err(why) => errors.push(why),
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    let errors: Vec<String> = errors
        .iter()
        .map(|e| format!("ERROR #5001: {e}: not resumed"))
        .collect();
    Err(errors.join(", "))
}
