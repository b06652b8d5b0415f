//! `verify`: whether a restored snapshot was cut inside one of our freezes, from what the
//! snapshot itself holds (the restored VM's own files, or a snapshot mounted at `--root DIR`):
//!
//! 1. the history's last cycle: its freeze line is written and synced before the freeze exits,
//!    so a snapshot cut after the freeze holds it; a thaw, auto-thaw or rollback line of that
//!    cycle in the snapshot means it was cut after the freeze ended;
//! 2. each instance's `mgr/messages.log`, under the directory the freeze's line records: its
//!    last ExternalFreeze names the cycle's journal file, and no "System resumed" or "Already
//!    resumed" follows it (the thaw writes one before our thaw's history line, so this sees a
//!    snapshot cut in between);
//! 3. that journal file in the snapshot (and the later ones there), and the WIJ.
//!
//! A sharded cluster's freeze (`--sharded`) is checked per data server, as `restore-plan` lists
//! them: one that is an instance of this host (the shard master's own, or another the freeze
//! recognised by this host's name and its Super Server port, whose directory its line records)
//! as above, its messages.log holding the line of the cluster's checkpoint that names its
//! journal file; one on another host is `unknown` here, to be verified on that host.
//! (`instance.rs`: the checks of one line; `render.rs`: the text.)
//!
//! Every path is the snapshotted system's, looked up under the root through
//! `host::trust::Snapshot` (no symlink leaves the tree, no FIFO blocks, any owner: nothing is
//! written or run, and what is read is bounded and escaped when shown). Then the restore steps
//! `restore-plan` gives for that cycle, from the same history line: both name one journal file.

mod instance;
mod render;

use anyhow::Result;
use serde::Serialize;

use crate::commands::restore_plan::{self, Plan};
use crate::config::Config;
use crate::exit_code::Exit;
use crate::host::history::{self, Cycle, InstanceEvent};
use crate::host::trust::Snapshot;
use crate::report::Report;

/// The most of the history read (its end): it rotates at 1 MiB.
const HISTORY_MAX: u64 = 4 * history::ROTATE_AT;

#[derive(Debug, Serialize)]
struct Verified {
    /// The tree read: the restored VM's `/`, or a snapshot mounted elsewhere.
    root: String,
    /// The history read, under the root.
    history: String,
    /// The cycle the snapshot was cut in (the history's last), if any.
    cycle: Option<String>,
    /// `consistent` when every instance is, else `not consistent` or `unknown`.
    verdict: String,
    /// Why it cannot tell at all (no history, no cycle).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    instances: Vec<InstanceVerdict>,
    /// The restore steps of `restore-plan` for the cycle.
    restore_plan: Option<Plan>,
}

#[derive(Debug, Serialize)]
struct InstanceVerdict {
    /// The instance, or a sharded cluster's data server as `host:port`.
    name: String,
    /// A data server's instance of this host, when the freeze recognised it as one.
    #[serde(skip_serializing_if = "Option::is_none")]
    instance: Option<String>,
    /// A data server on another host: this snapshot holds none of it (verified there).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    on_another_host: bool,
    /// `consistent`, `not consistent: why` or `unknown: why`.
    verdict: String,
    /// The journal file a restore starts from, as the freeze's history line names it (the one
    /// `restore-plan` names).
    restore_from: Option<String>,
    /// The instance's directory as qlist gave it at the freeze.
    dir: Option<String>,
    /// What the snapshot's messages.log shows of the last freeze.
    messages_log: Option<LogFacts>,
    /// The journal files in the snapshot from `restore_from` on, in order.
    journal_files: Vec<String>,
    /// Whether the WIJ is in the snapshot (in `mgr/`), when the directory is known.
    wij: Option<bool>,
}

impl InstanceVerdict {
    /// `i`'s entry, its verdict still to be given.
    fn new(i: &InstanceEvent, restore_from: Option<String>) -> InstanceVerdict {
        InstanceVerdict {
            name: i.name.clone(),
            instance: i.instance.clone(),
            on_another_host: false,
            verdict: String::new(),
            restore_from,
            dir: i.dir.clone(),
            messages_log: None,
            journal_files: Vec::new(),
            wij: None,
        }
    }
}

#[derive(Debug, Serialize)]
struct LogFacts {
    path: String,
    /// The journal file its last "Start a journal restore ..." line names.
    restore_from: String,
    /// The line after it that says the system resumed, if any.
    resumed: Option<String>,
}

pub(crate) fn run(cfg: &Config, json: bool) -> Result<Report> {
    let v = verify(cfg);
    let exit = exit_of(&v);
    let text = if json {
        serde_json::to_string_pretty(&v)?
    } else {
        render::render(&v)
    };
    Ok(Report::new(exit, text))
}

fn verify(cfg: &Config) -> Verified {
    let history_sys = cfg.history_file.display().to_string();
    let mut v = Verified {
        root: cfg.root.display().to_string(),
        history: crate::util::under(&cfg.root, &history_sys)
            .display()
            .to_string(),
        cycle: None,
        verdict: String::new(),
        error: None,
        instances: Vec::new(),
        restore_plan: None,
    };
    let tree = match Snapshot::open(&cfg.root) {
        Ok(t) => t,
        Err(e) => return failed(v, format!("{e:#}")),
    };
    let events = match read_history(&tree, &history_sys) {
        Ok(e) => e,
        Err(e) => return failed(v, format!("cannot read the history: {e:#}")),
    };
    let cycles = history::cycles(&events);
    let Some(cycle) = cycles.first() else {
        let why = format!(
            "no freeze/thaw cycle in the history {}: a snapshot cut before any freeze, or the \
             history is elsewhere (name it with --history-file, as the snapshotted system \
             names it)",
            v.history
        );
        return failed(v, why);
    };
    v.cycle = Some(cycle.id.clone());
    let mut plan = restore_plan::plan_of(cycle);
    for i in &cycle.instances {
        let from = plan
            .instances
            .iter()
            .find(|p| p.name == i.name)
            .and_then(|p| p.restore_from.clone());
        v.instances.extend(line(&tree, cycle, i, from));
    }
    for p in &mut plan.instances {
        if let Some(iv) = v.instances.iter().find(|iv| iv.name == p.name) {
            p.verdict = Some(iv.verdict.clone());
        }
    }
    v.verdict = overall(&v.instances);
    plan.consistent = v.verdict == CONSISTENT;
    v.restore_plan = Some(plan);
    v
}

const CONSISTENT: &str = "consistent";

/// The verdict on one line of the cycle's freeze. A sharded cluster's: each data server as
/// `restore-plan` lists it, the shard master's line only when none of them is its own.
fn line(
    tree: &Snapshot,
    cycle: &Cycle,
    i: &InstanceEvent,
    restore_from: Option<String>,
) -> Option<InstanceVerdict> {
    if i.shard_master.is_some() {
        return Some(match &i.instance {
            Some(_) => instance::verdict(tree, cycle, i, restore_from),
            None => instance::elsewhere(cycle, i, restore_from),
        });
    }
    if i.cluster.is_none() {
        return Some(instance::verdict(tree, cycle, i, restore_from));
    }
    let own = cycle.instances.iter().any(|d| {
        d.shard_master.is_some()
            && d.instance
                .as_ref()
                .is_some_and(|n| n.eq_ignore_ascii_case(&i.name))
    });
    match (own, i.result.as_str()) {
        (true, _) => None,
        (false, "frozen") => Some(instance::master_unmatched(i)),
        // Not frozen by this cycle: its line says why.
        (false, _) => Some(instance::verdict(tree, cycle, i, restore_from)),
    }
}

fn failed(mut v: Verified, why: String) -> Verified {
    v.verdict = format!("unknown: {why}");
    v.error = Some(why);
    v
}

/// The history's events, the rotated file's first; only the end of each is read.
fn read_history(tree: &Snapshot, sys: &str) -> Result<Vec<history::Event>> {
    let mut events = Vec::new();
    let rotated = history::rotated(std::path::Path::new(sys));
    for p in [rotated.display().to_string(), sys.to_string()] {
        if let Some((bytes, _)) = tree.tail(&p, HISTORY_MAX)? {
            events.extend(history::parse(&bytes));
        }
    }
    Ok(events)
}

/// The snapshot's verdict: not consistent when any instance is not, unknown when any cannot be
/// told, consistent when every one is (and there is at least one). When only a sharded
/// cluster's data servers on other hosts are left to tell, it says so: this host's part is
/// consistent, the cluster's is unknown until they are verified there.
fn overall(instances: &[InstanceVerdict]) -> String {
    if let Some(i) = instances
        .iter()
        .find(|i| i.verdict.starts_with("not consistent"))
    {
        return format!("{}: {}", i.name, i.verdict);
    }
    if let Some(i) = instances
        .iter()
        .find(|i| i.verdict != CONSISTENT && !i.on_another_host)
    {
        return format!("{}: {}", i.name, i.verdict);
    }
    let elsewhere: Vec<&str> = instances
        .iter()
        .filter(|i| i.on_another_host)
        .map(|i| i.name.as_str())
        .collect();
    if !elsewhere.is_empty() {
        let here: Vec<&str> = instances
            .iter()
            .filter(|i| !i.on_another_host)
            .map(|i| i.name.as_str())
            .collect();
        let here = match here[..] {
            [] => "nothing of the cluster is on this host".to_string(),
            _ => format!("consistent here ({})", here.join(", ")),
        };
        return format!(
            "unknown: {here}; the data servers on other hosts are verified there: {}",
            elsewhere.join(", ")
        );
    }
    if instances.is_empty() {
        return "unknown: no instance of this host in the cycle".to_string();
    }
    CONSISTENT.to_string()
}

/// 0 consistent, 2 not consistent, 1 cannot tell.
fn exit_of(v: &Verified) -> Exit {
    if v.verdict == CONSISTENT {
        Exit::Success
    } else if v
        .instances
        .iter()
        .any(|i| i.verdict.starts_with("not consistent"))
    {
        Exit::Warning
    } else {
        Exit::Failure
    }
}
