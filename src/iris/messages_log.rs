//! What an instance's `mgr/messages.log` (Caché's `mgr/cconsole.log`) says of its last external freeze: the journal file its
//! "Start a journal restore for this backup with journal file:" line names, and whether the
//! thaw's "System resumed" (frozen until that thaw) or "Already resumed" (resumed earlier, by
//! someone or something else) follows it. Lines are matched by their text, whatever comes
//! before it (IRIS starts each with the time, the pid, a severity and a category).
//!
//! A sharded cluster's freeze logs, on each data server, the checkpoint number and the journal
//! file that ends at it (class reference, `Backup.ShardedCluster`; the wording is not
//! documented): its line is the last that names both ([`last_checkpoint`]), and the cluster's
//! thaw writes "System resumed" or "Already resumed" after it.

/// How much of the end of messages.log is read: a freeze and its thaw are a few lines, and the
/// log of a busy instance runs to megabytes.
pub(crate) const TAIL: u64 = 1024 * 1024;

use crate::iris::calls::{ALREADY_RESUMED, JOURNAL_RESTORE as RESTORE_FROM, SYSTEM_RESUMED};

/// Where messages.log is, for an instance of `product` in `dir` (its data directory): Caché
/// calls it cconsole.log.
pub(crate) fn path(dir: &str, product: &str) -> String {
    let name = if product.to_lowercase().starts_with("cach") {
        "cconsole.log"
    } else {
        "messages.log"
    };
    format!("{}/mgr/{name}", dir.trim_end_matches('/'))
}

/// How the last freeze in messages.log ended, as far as the log goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resumed {
    /// Nothing after the freeze's lines says the system resumed.
    Not,
    /// "System resumed": a thaw found it frozen and resumed it. The line, as written.
    ByThaw(String),
    /// "Already resumed": a thaw found it resumed already. The line, as written.
    Already(String),
}

/// The last freeze messages.log shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LastFreeze {
    /// The journal file a restore of a backup taken in this freeze starts from.
    pub(crate) restore_from: String,
    pub(crate) resumed: Resumed,
}

/// The last freeze in `text` (the end of messages.log), or `None` when it holds none.
pub(crate) fn last_freeze(text: &str) -> Option<LastFreeze> {
    let lines: Vec<&str> = text.lines().collect();
    let at = lines.iter().rposition(|l| l.contains(RESTORE_FROM))?;
    let restore_from = lines[at]
        .split_once(RESTORE_FROM)
        .map(|(_, f)| f.trim().to_string())
        .unwrap_or_default();
    Some(LastFreeze {
        restore_from,
        resumed: resumed_after(&lines[at + 1..]),
    })
}

/// The last line of `text` (the end of a data server's messages.log) that names both the
/// checkpoint `number` (as a number of its own, not part of another) and the `journal` file:
/// what a sharded cluster's freeze logs of CheckpointInfo there, whatever its wording. With
/// what followed it, as [`last_freeze`]; `None` when no line names both.
pub(crate) fn last_checkpoint(text: &str, number: &str, journal: &str) -> Option<LastFreeze> {
    if number.is_empty() || journal.is_empty() {
        return None;
    }
    let lines: Vec<&str> = text.lines().collect();
    let names_both = |l: &str| {
        l.split_once(journal).is_some_and(|(before, after)| {
            format!("{before} {after}")
                .split(|c: char| !c.is_ascii_digit())
                .any(|n| n == number)
        })
    };
    let at = lines.iter().rposition(|l| names_both(l))?;
    Some(LastFreeze {
        restore_from: journal.to_string(),
        resumed: resumed_after(&lines[at + 1..]),
    })
}

/// The first line of `after` that says the system resumed, if any.
fn resumed_after(after: &[&str]) -> Resumed {
    after
        .iter()
        .find_map(|l| {
            if l.contains(ALREADY_RESUMED) {
                Some(Resumed::Already(l.trim().to_string()))
            } else if l.contains(SYSTEM_RESUMED) {
                Some(Resumed::ByThaw(l.trim().to_string()))
            } else {
                None
            }
        })
        .unwrap_or(Resumed::Not)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FREEZE: &str = "\
12/07/26-02:00:12:034 (4242) 0 [Utility.Event] Backup.General.ExternalFreeze: Suspending system
12/07/26-02:00:12:035 (4242) 0 [Utility.Event] Journal file switched to: /j/20261207.003
12/07/26-02:00:12:035 (4242) 0 [Utility.Event] Start a journal restore for this backup with journal file: /j/20261207.003
12/07/26-02:00:12:036 (4242) 0 [Utility.Event] System suspended
";

    #[test]
    fn the_last_freeze_and_what_followed_it() {
        let old = FREEZE.replace("20261207.003", "20261206.001");
        let frozen = format!("{old}x System resumed\n{FREEZE}");
        let f = last_freeze(&frozen).unwrap();
        assert_eq!(f.restore_from, "/j/20261207.003");
        assert_eq!(f.resumed, Resumed::Not);
        let thawed = format!("{frozen}t (1) 0 [Utility.Event] System resumed\n");
        assert!(matches!(
            last_freeze(&thawed).unwrap().resumed,
            Resumed::ByThaw(_)
        ));
        let early = format!("{frozen}t Backup.General.ExternalThaw: Already resumed\n");
        assert!(matches!(
            last_freeze(&early).unwrap().resumed,
            Resumed::Already(_)
        ));
        assert_eq!(last_freeze("nothing of a freeze\n"), None);
        assert_eq!(
            path("/usr/irissys/", "IRIS"),
            "/usr/irissys/mgr/messages.log"
        );
        assert_eq!(
            path("/usr/cachesys", "Caché"),
            "/usr/cachesys/mgr/cconsole.log"
        );
    }

    #[test]
    fn a_clusters_checkpoint_line_names_its_number_and_journal_file() {
        let log = "\
12/07/26-02:00:12:034 (4242) 0 [Utility.Event] Backup.ShardedCluster: checkpoint 7, journal file /j/20261207.001
12/07/26-02:00:13:001 (4242) 0 [Utility.Event] Backup.General.ExternalThaw: System resumed
12/07/26-03:00:12:034 (12) 0 [Utility.Event] Backup.ShardedCluster: checkpoint 12, journal file /j/20261207.002
";
        let c = last_checkpoint(log, "12", "/j/20261207.002").unwrap();
        assert_eq!(c.restore_from, "/j/20261207.002");
        assert_eq!(c.resumed, Resumed::Not);
        assert!(matches!(
            last_checkpoint(log, "7", "/j/20261207.001")
                .unwrap()
                .resumed,
            Resumed::ByThaw(_)
        ));
        // The number must stand alone (not 1 of 12, nor the journal file's own digits), and
        // both must be on one line.
        assert_eq!(last_checkpoint(log, "1", "/j/20261207.002"), None);
        assert_eq!(last_checkpoint(log, "20261207", "/j/20261207.002"), None);
        assert_eq!(last_checkpoint(log, "7", "/j/20261207.002"), None);
        assert_eq!(last_checkpoint(log, "", "/j/20261207.002"), None);
    }
}
