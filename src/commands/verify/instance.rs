//! One line of the cycle's freeze, checked in the snapshot: an instance of this host (its own
//! freeze, or a sharded cluster's data server that is an instance of this host), a data server
//! on another host, or a shard master whose own data server was not recognised.

use crate::commands::restore_plan::FROZEN;
use crate::host::history::{Cycle, InstanceEvent, not_consistent};
use crate::host::trust::Snapshot;
use crate::iris::messages_log::{self, LastFreeze, Resumed};

use super::{CONSISTENT, InstanceVerdict, LogFacts};

fn unknown(why: impl std::fmt::Display) -> String {
    format!("unknown: {why}")
}

/// An instance of this host (a cluster's data server among them), checked in the snapshot.
pub(super) fn verdict(
    tree: &Snapshot,
    cycle: &Cycle,
    i: &InstanceEvent,
    restore_from: Option<String>,
) -> InstanceVerdict {
    let mut out = InstanceVerdict::new(i, restore_from);
    out.verdict = match check(tree, cycle, i, &mut out) {
        Ok(()) => CONSISTENT.to_string(),
        Err(v) => v,
    };
    out
}

/// A data server of a sharded cluster that runs on its own host: this snapshot holds none of
/// it, so it is verified there.
pub(super) fn elsewhere(
    cycle: &Cycle,
    i: &InstanceEvent,
    restore_from: Option<String>,
) -> InstanceVerdict {
    let mut out = InstanceVerdict::new(i, restore_from);
    out.on_another_host = true;
    let (host, port) = crate::iris::sharded::host_port(&i.name).unwrap_or((&i.name, "?"));
    let checkpoint = i.checkpoint.as_deref().unwrap_or("?");
    let journal = out.restore_from.as_deref().unwrap_or("its journal file");
    out.verdict = unknown(format!(
        "a data server of the sharded cluster on its own host ({host}, the instance with Super \
         Server port {port}): this snapshot holds none of its files, so verify that host's \
         snapshot of cycle {id}: its messages.log must hold checkpoint {checkpoint}'s line \
         naming {journal}, with no \"System resumed\" or \"Already resumed\" after it, and \
         {journal} must be in it",
        id = cycle.id
    ));
    out
}

/// A shard master whose own data server the freeze did not recognise among CheckpointInfo's
/// (by this host's name and its Super Server port): its directory is known, its journal file is
/// not, so there is nothing to check it against.
pub(super) fn master_unmatched(i: &InstanceEvent) -> InstanceVerdict {
    let mut out = InstanceVerdict::new(i, None);
    out.verdict = unknown(format!(
        "the shard master of the sharded cluster {}: none of the data servers its freeze's \
         CheckpointInfo named was recognised as this instance (its host this host's name, its \
         port this instance's Super Server port), so its journal file at checkpoint {} is not \
         known: verify its messages.log by hand",
        i.cluster.as_deref().unwrap_or_default(),
        i.checkpoint.as_deref().unwrap_or("?")
    ));
    out
}

/// `Err(verdict)` at the first check that fails; the facts gathered go into `out`.
fn check(
    tree: &Snapshot,
    cycle: &Cycle,
    i: &InstanceEvent,
    out: &mut InstanceVerdict,
) -> Result<(), String> {
    let id = &cycle.id;
    // 1. The history: the freeze's line, and nothing of that cycle after it.
    history_holds_only_the_freeze(cycle)?;
    ours(i, id)?;
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
    let no_journal = || {
        unknown(format!(
            "cycle {id}'s freeze line names no journal file to check messages.log against"
        ))
    };
    let last = last_freeze_in_log(&text, i, out.restore_from.as_deref(), &shown)
        .map_err(|e| e.unwrap_or_else(no_journal))?;
    out.messages_log = Some(facts(&shown, &last));
    let x = out.restore_from.clone().ok_or_else(no_journal)?;
    log_shows_our_freeze_held(&last, &x, &shown, id)?;
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

/// The history's last cycle ends in its freeze: no thaw, auto-thaw or rollback line of it.
fn history_holds_only_the_freeze(cycle: &Cycle) -> Result<(), String> {
    let id = &cycle.id;
    match cycle.ended.as_str() {
        FROZEN => Ok(()),
        "thawed" => Err(not_consistent(format!(
            "the snapshot holds the thaw's line of cycle {id}: it was cut after the thaw"
        ))),
        "auto-thawed" => Err(not_consistent(format!(
            "the snapshot holds the watchdog's auto-thaw line of cycle {id}: it was cut after \
             the auto-thaw"
        ))),
        ended => Err(not_consistent(format!(
            "the last cycle in the snapshot's history, {id}, {ended}: no freeze held when it \
             was cut"
        ))),
    }
}

/// The cycle's freeze froze it: not someone else's freeze, nor an earlier one of ours kept.
fn ours(i: &InstanceEvent, id: &str) -> Result<(), String> {
    match i.result.as_str() {
        "frozen" => Ok(()),
        "foreign" => Err(unknown(format!(
            "frozen by someone else in cycle {id}, not by iris-freeze: nothing here vouches for \
             that freeze"
        ))),
        "kept" => Err(unknown(format!(
            "kept frozen in cycle {id} from an earlier freeze of ours: verify that freeze's \
             journal file by hand (`iris-freeze history`)"
        ))),
        other => Err(unknown(format!(
            "its line in cycle {id}'s freeze says {other}, not frozen"
        ))),
    }
}

/// The freeze's lines in messages.log: `Backup.General`'s last "Start a journal restore ..."
/// line, or for a cluster's data server the last line naming the checkpoint and its journal
/// file `x`. `Err(None)` when that needs `x` and the history names none.
fn last_freeze_in_log(
    text: &str,
    i: &InstanceEvent,
    x: Option<&str>,
    shown: &str,
) -> Result<LastFreeze, Option<String>> {
    let tail = messages_log::TAIL / 1024;
    if i.cluster.is_some() {
        let x = x.ok_or(None)?;
        let number = i.checkpoint.as_deref().unwrap_or_default();
        return messages_log::last_checkpoint(text, number, x).ok_or_else(|| {
            Some(unknown(format!(
                "{shown} holds no line of the cluster's checkpoint {number} naming {x} (what \
                 Backup.ShardedCluster.ExternalFreeze logs on each data server) in its last \
                 {tail} KiB"
            )))
        });
    }
    messages_log::last_freeze(text).ok_or_else(|| {
        Some(unknown(format!(
            "{shown} holds no ExternalFreeze line (\"Start a journal restore for this backup \
             with journal file\") in its last {tail} KiB"
        )))
    })
}

/// messages.log's last freeze is ours (it names our journal file `x`) and nothing resumed the
/// system after it.
fn log_shows_our_freeze_held(
    last: &LastFreeze,
    x: &str,
    shown: &str,
    id: &str,
) -> Result<(), String> {
    if last.restore_from != x {
        return Err(not_consistent(format!(
            "the last ExternalFreeze in {shown} names the journal file {}, not {x} of cycle \
             {id}: another freeze came after ours before the snapshot",
            last.restore_from
        )));
    }
    match &last.resumed {
        Resumed::Not => Ok(()),
        Resumed::ByThaw(_) => Err(not_consistent(format!(
            "{shown} shows the thaw after cycle {id}'s freeze (\"System resumed\"): the snapshot \
             was cut after the thaw"
        ))),
        Resumed::Already(_) => Err(not_consistent(format!(
            "{shown} shows \"Already resumed\" after cycle {id}'s freeze: something resumed the \
             instance before the thaw, and the snapshot was cut after that"
        ))),
    }
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
