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
//! Every path is the snapshotted system's, looked up under the root through
//! `host::trust::Snapshot` (no symlink leaves the tree, no FIFO blocks, any owner: nothing is
//! written or run, and what is read is bounded and escaped when shown). Then the restore steps
//! `restore-plan` gives for that cycle, from the same history line: both name one journal file.

use std::fmt::Write as _;

use anyhow::Result;
use serde::Serialize;

use crate::commands::restore_plan::{self, FROZEN, Plan};
use crate::config::Config;
use crate::exit_code::Exit;
use crate::host::history::{self, Cycle, InstanceEvent, not_consistent};
use crate::host::trust::Snapshot;
use crate::iris::messages_log::{self, LastFreeze, Resumed};
use crate::report::Report;
use crate::util::escape::terminal_line;

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
    /// Instances of the cycle on other hosts (a sharded cluster's data servers): verified there.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    elsewhere: Vec<String>,
    /// The restore steps of `restore-plan` for the cycle.
    restore_plan: Option<Plan>,
}

#[derive(Debug, Serialize)]
struct InstanceVerdict {
    name: String,
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
        render(&v)
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
        elsewhere: Vec::new(),
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
        if i.shard_master.is_some() {
            v.elsewhere.push(i.name.clone());
            continue;
        }
        let from = plan
            .instances
            .iter()
            .find(|p| p.name == i.name)
            .and_then(|p| p.restore_from.clone());
        v.instances.push(instance(&tree, cycle, i, from));
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

/// One instance of the cycle, checked in the snapshot.
fn instance(
    tree: &Snapshot,
    cycle: &Cycle,
    i: &InstanceEvent,
    restore_from: Option<String>,
) -> InstanceVerdict {
    let mut out = InstanceVerdict {
        name: i.name.clone(),
        verdict: String::new(),
        restore_from,
        dir: i.dir.clone(),
        messages_log: None,
        journal_files: Vec::new(),
        wij: None,
    };
    out.verdict = match check(tree, cycle, i, &mut out) {
        Ok(()) => CONSISTENT.to_string(),
        Err(v) => v,
    };
    out
}

/// `Err(verdict)` at the first check that fails; the facts gathered go into `out`.
fn check(
    tree: &Snapshot,
    cycle: &Cycle,
    i: &InstanceEvent,
    out: &mut InstanceVerdict,
) -> Result<(), String> {
    let unknown = |why: String| format!("unknown: {why}");
    let id = &cycle.id;
    // 1. The history: the freeze's line, and nothing of that cycle after it.
    match cycle.ended.as_str() {
        FROZEN => {}
        "thawed" => {
            return Err(not_consistent(format!(
                "the snapshot holds the thaw's line of cycle {id}: it was cut after the thaw"
            )));
        }
        "auto-thawed" => {
            return Err(not_consistent(format!(
                "the snapshot holds the watchdog's auto-thaw line of cycle {id}: it was cut \
                 after the auto-thaw"
            )));
        }
        ended => {
            return Err(not_consistent(format!(
                "the last cycle in the snapshot's history, {id}, {ended}: no freeze held when \
                 it was cut"
            )));
        }
    }
    match i.result.as_str() {
        "frozen" => {}
        "foreign" => {
            return Err(unknown(format!(
                "frozen by someone else in cycle {id}, not by iris-freeze: nothing here vouches \
                 for that freeze"
            )));
        }
        "kept" => {
            return Err(unknown(format!(
                "kept frozen in cycle {id} from an earlier freeze of ours: verify that \
                 freeze's journal file by hand (`iris-freeze history`)"
            )));
        }
        other => {
            return Err(unknown(format!(
                "its line in cycle {id}'s freeze says {other}, not frozen"
            )));
        }
    }
    if i.cluster.is_some() {
        return Err(unknown(format!(
            "the shard master of sharded cluster {}: verify reads a single instance's \
             messages.log, not a cluster freeze's",
            i.cluster.as_deref().unwrap_or_default()
        )));
    }
    let Some(dir) = i.dir.clone() else {
        return Err(unknown(format!(
            "cycle {id}'s freeze line does not record the instance's directory (a freeze by an \
             older version): its messages.log cannot be found"
        )));
    };
    // 3 first: the WIJ and the journal files are facts to show whatever the log says.
    out.wij = Some(has_wij(tree, &dir, &i.product));
    if let Some(x) = &out.restore_from {
        out.journal_files = journal_files(tree, x);
    }
    // 2. messages.log.
    let path = messages_log::path(&dir, &i.product);
    let shown = tree.show(&path);
    let text = match tree.tail(&path, messages_log::TAIL) {
        Ok(Some((bytes, _))) => String::from_utf8_lossy(&bytes).into_owned(),
        Ok(None) => {
            return Err(unknown(format!(
                "no messages.log in the snapshot at {shown}"
            )));
        }
        Err(e) => return Err(unknown(format!("{e:#}"))),
    };
    let Some(last) = messages_log::last_freeze(&text) else {
        return Err(unknown(format!(
            "{shown} holds no ExternalFreeze line (\"Start a journal restore for this backup \
             with journal file\") in its last {} KiB",
            messages_log::TAIL / 1024
        )));
    };
    out.messages_log = Some(facts(&shown, &last));
    let Some(x) = out.restore_from.clone() else {
        return Err(unknown(format!(
            "cycle {id}'s freeze line names no journal file to check messages.log against"
        )));
    };
    if last.restore_from != x {
        return Err(not_consistent(format!(
            "the last ExternalFreeze in {shown} names the journal file {}, not {x} of cycle \
             {id}: another freeze came after ours before the snapshot",
            last.restore_from
        )));
    }
    match &last.resumed {
        Resumed::Not => {}
        Resumed::ByThaw(_) => {
            return Err(not_consistent(format!(
                "{shown} shows the thaw after cycle {id}'s freeze (\"System resumed\"): the \
                 snapshot was cut after the thaw"
            )));
        }
        Resumed::Already(_) => {
            return Err(not_consistent(format!(
                "{shown} shows \"Already resumed\" after cycle {id}'s freeze: something resumed \
                 the instance before the thaw, and the snapshot was cut after that"
            )));
        }
    }
    // 3. The journal file the restore starts from.
    if out.journal_files.first() != Some(&x) {
        return Err(not_consistent(format!(
            "the journal file {x} (cycle {id}) is not in the snapshot at {}: the journal \
             restore cannot start from the snapshot alone",
            tree.show(&x)
        )));
    }
    Ok(())
}

fn facts(shown: &str, last: &LastFreeze) -> LogFacts {
    LogFacts {
        path: shown.to_string(),
        restore_from: last.restore_from.clone(),
        resumed: match &last.resumed {
            Resumed::Not => None,
            Resumed::ByThaw(l) | Resumed::Already(l) => Some(l.clone()),
        },
    }
}

/// `x` and the journal files after it in its directory, as the snapshot holds them: names
/// sort in the order IRIS wrote them (`YYYYMMDD.NNN`). Empty when `x` is not there.
fn journal_files(tree: &Snapshot, x: &str) -> Vec<String> {
    let path = std::path::Path::new(x);
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Vec::new();
    };
    let dir_sys = dir.display().to_string();
    // `x` itself must be a regular file in the tree.
    if !matches!(tree.file(x), Ok(Some(_))) {
        return Vec::new();
    }
    let Ok(Some(names)) = tree.list(&dir_sys) else {
        return vec![x.to_string()];
    };
    names
        .iter()
        .filter(|n| n.as_os_str() >= name && same_pattern(n.to_string_lossy().as_ref(), x))
        .map(|n| dir.join(n).display().to_string())
        .collect()
}

/// A name shaped as `x`'s: the same length and a dot at the same place (`20261125.003`).
fn same_pattern(name: &str, x: &str) -> bool {
    let x = std::path::Path::new(x)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.len() == x.len() && name.find('.') == x.find('.')
}

/// The WIJ where IRIS puts it by default: `mgr/IRIS.WIJ` (Caché: `mgr/CACHE.WIJ`).
fn has_wij(tree: &Snapshot, dir: &str, product: &str) -> bool {
    let base = dir.trim_end_matches('/');
    let name = if product.to_lowercase().starts_with("cach") {
        "CACHE.WIJ"
    } else {
        "IRIS.WIJ"
    };
    matches!(tree.file(&format!("{base}/mgr/{name}")), Ok(Some(_)))
}

/// The snapshot's verdict: not consistent when any instance is not, unknown when any cannot be
/// told, consistent when every one is (and there is at least one).
fn overall(instances: &[InstanceVerdict]) -> String {
    if let Some(i) = instances
        .iter()
        .find(|i| i.verdict.starts_with("not consistent"))
    {
        return format!("{}: {}", i.name, i.verdict);
    }
    if let Some(i) = instances.iter().find(|i| i.verdict != CONSISTENT) {
        return format!("{}: {}", i.name, i.verdict);
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

fn render(v: &Verified) -> String {
    let mut out = String::new();
    let cycle = v.cycle.as_deref().unwrap_or("none");
    let _ = writeln!(
        out,
        "Snapshot at {} (history {}), cycle {cycle}: {}",
        v.root, v.history, v.verdict
    );
    for i in &v.instances {
        let _ = writeln!(out, "\n{}: {}", i.name, i.verdict);
        if let Some(x) = &i.restore_from {
            let _ = writeln!(out, "  restore from journal file: {x}");
        }
        if let Some(l) = &i.messages_log {
            let _ = writeln!(
                out,
                "  messages.log ({}): last freeze names {}{}",
                l.path,
                l.restore_from,
                match &l.resumed {
                    Some(r) => format!(", then: {r}"),
                    None => ", nothing resumed it since".to_string(),
                }
            );
        }
        if !i.journal_files.is_empty() {
            let _ = writeln!(
                out,
                "  journal files in the snapshot: {}",
                i.journal_files.join(", ")
            );
        }
        match i.wij {
            Some(true) => {
                let _ = writeln!(out, "  WIJ: in the snapshot");
            }
            Some(false) => {
                let _ = writeln!(
                    out,
                    "  WIJ: not in mgr/ (a WIJ directory set elsewhere in the CPF is not looked \
                     for; a frozen snapshot's databases do not need it)"
                );
            }
            None => {}
        }
    }
    if !v.elsewhere.is_empty() {
        let _ = writeln!(
            out,
            "\nNot verified here (data servers on their own hosts): {}",
            v.elsewhere.join(", ")
        );
    }
    if let Some(plan) = &v.restore_plan {
        let _ = writeln!(out, "\n{}", restore_plan::render(plan));
    }
    // Everything shown came from the snapshot: one line stays one line on a terminal.
    out.trim_end()
        .lines()
        .map(terminal_line)
        .collect::<Vec<_>>()
        .join("\n")
}
