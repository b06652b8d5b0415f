//! The instance's tree on disk, modelled only where a test built it: `<dir>/mgr/messages.log`
//! (IRIS's own log; Caché's is `cconsole.log`), the journal files in `<dir>/mgr/journal/` and the WIJ (`<dir>/mgr/IRIS.WIJ`,
//! Caché's `CACHE.WIJ`). Only when `<dir>/mgr` exists inside `$IRIS_SIM_DIR`: the default
//! `/usr/irissys/` of a test that built no tree is never touched, nor a real IRIS's files.
//!
//! The lines are those InterSystems documents for messages.log: the freeze's
//! `Backup.General.ExternalFreeze: Suspending system`, `Journal file switched to: X`, `Start a
//! journal restore for this backup with journal file: X`, `System suspended`; the thaw's
//! `Backup.General.ExternalThaw: Resuming system` and `System resumed`, or `Already resumed` when
//! the system was not frozen. Each line starts as IRIS's do: `MM/DD/YY-HH:MM:SS:mmm (PID) 0
//! [Utility.Event] `. A sharded cluster's freeze logs, on each data server, the checkpoint
//! number and the journal file that ends at it (documented; the wording here is ours):
//! `Backup.ShardedCluster: checkpoint N, journal file X`.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::instances::{Instance, root_dir};

/// The first journal file of a tree, before any freeze: a freeze switches to the next one, so
/// the first freeze names `20261125.002` as it does without a tree.
const FIRST_JOURNAL: &str = "20261125.001";

/// `<dir>/mgr` when the instance has a tree to model, else `None`.
pub(crate) fn mgr(inst: &Instance) -> Option<PathBuf> {
    let mgr = Path::new(&inst.conf.dir).join("mgr");
    let real = mgr.canonicalize().ok()?;
    let sim = root_dir().canonicalize().ok()?;
    (real.starts_with(&sim) && real.is_dir()).then_some(mgr)
}

/// Appends `lines` to `mgr/messages.log` (Caché: `mgr/cconsole.log`), one write, each with
/// IRIS's prefix.
pub(crate) fn append(inst: &Instance, mgr: &Path, lines: &[String]) {
    let iris = inst.conf.is_iris();
    let stamp = chrono::Local::now().format("%m/%d/%y-%H:%M:%S:%3f");
    let pid = std::process::id();
    let text: String = lines
        .iter()
        .map(|l| format!("{stamp} ({pid}) 0 [Utility.Event] {l}\n"))
        .collect();
    if let Ok(mut f) = OpenOptions::new()
        .append(true)
        .create(true)
        .open(mgr.join(if iris { "messages.log" } else { "cconsole.log" }))
    {
        let _ = f.write_all(text.as_bytes());
    }
}

/// A freeze on a modelled tree: the WIJ made if missing, the switch to a new journal file
/// (the next after the newest one there), and the freeze's lines. The journal file switched
/// to, for the freeze's output.
pub(crate) fn freeze(inst: &Instance, mgr: &Path) -> String {
    let (_, journal) = switch_journal(inst, mgr);
    append(inst, mgr, &freeze_lines(&journal));
    journal
}

/// A sharded cluster's freeze of this data server, at checkpoint `number`, on a modelled tree:
/// the WIJ made if missing, the journal file in use ends at the checkpoint and the next one
/// starts, and the checkpoint's line. The journal file that ends at the checkpoint, for
/// CheckpointInfo.
pub(crate) fn checkpoint(inst: &Instance, mgr: &Path, number: u64) -> String {
    let (ended, _) = switch_journal(inst, mgr);
    append(inst, mgr, &[checkpoint_line(number, &ended)]);
    ended
}

/// What a sharded cluster's freeze writes to a data server's messages.log.
pub(crate) fn checkpoint_line(number: u64, journal: &str) -> String {
    format!("Backup.ShardedCluster: checkpoint {number}, journal file {journal}")
}

/// The WIJ made if missing, and a switch from the newest journal file (`20261125.001`, made
/// first when there is none) to the next, created: both paths, the one ended first.
fn switch_journal(inst: &Instance, mgr: &Path) -> (String, String) {
    let wij = mgr.join(if inst.conf.is_iris() {
        "IRIS.WIJ"
    } else {
        "CACHE.WIJ"
    });
    if !wij.exists() {
        let _ = fs::write(&wij, b"WIJ\n");
    }
    let dir = mgr.join("journal");
    let _ = fs::create_dir_all(&dir);
    let newest = newest_journal(&dir).unwrap_or_else(|| {
        let _ = fs::write(dir.join(FIRST_JOURNAL), b"journal\n");
        FIRST_JOURNAL.to_string()
    });
    let path = dir.join(next_journal(&newest));
    let _ = fs::write(&path, b"journal\n");
    (
        dir.join(&newest).display().to_string(),
        path.display().to_string(),
    )
}

/// What ExternalFreeze writes to messages.log, switching to `journal`.
pub(crate) fn freeze_lines(journal: &str) -> Vec<String> {
    vec![
        "Backup.General.ExternalFreeze: Suspending system".into(),
        format!("Journal file switched to: {journal}"),
        format!("Start a journal restore for this backup with journal file: {journal}"),
        "System suspended".into(),
    ]
}

/// What ExternalThaw writes to messages.log: `frozen`, whether the system was suspended.
pub(crate) fn thaw_lines(frozen: bool) -> Vec<String> {
    if frozen {
        vec![
            "Backup.General.ExternalThaw: Resuming system".into(),
            "System resumed".into(),
        ]
    } else {
        vec!["Backup.General.ExternalThaw: Already resumed".into()]
    }
}

/// The newest `YYYYMMDD.NNN` file in `dir`.
fn newest_journal(dir: &Path) -> Option<String> {
    fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| is_journal(n))
        .max()
}

fn is_journal(name: &str) -> bool {
    let (day, n) = name.split_once('.').unwrap_or(("", ""));
    day.len() == 8 && n.len() == 3 && (day.to_owned() + n).bytes().all(|b| b.is_ascii_digit())
}

/// `20261125.002` after `20261125.001`.
fn next_journal(name: &str) -> String {
    let (day, n) = name.split_once('.').unwrap_or((name, "0"));
    format!("{day}.{:03}", n.parse::<u32>().unwrap_or(0) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_names_follow_each_other() {
        assert_eq!(next_journal("20261125.001"), "20261125.002");
        assert_eq!(next_journal("20261125.099"), "20261125.100");
        assert!(is_journal("20261125.002"));
        assert!(!is_journal("20261125.02"));
        assert!(!is_journal("journal.log"));
    }

    #[test]
    fn the_freeze_names_its_journal_file_for_a_restore() {
        let lines = freeze_lines("/i/mgr/journal/20261125.002");
        assert!(
            lines.contains(
                &"Start a journal restore for this backup with journal file: \
              /i/mgr/journal/20261125.002"
                    .to_string()
            )
        );
        assert_eq!(thaw_lines(true)[1], "System resumed");
        assert!(thaw_lines(false)[0].ends_with("Already resumed"));
    }
}
