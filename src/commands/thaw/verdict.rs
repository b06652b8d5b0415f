//! The cycle's verdict per instance, from what is known without a call before ExternalThaw:
//! our record of the freeze, how long it lasted against the limits IRIS enforces on its own,
//! ExternalThaw's own answer and the check after it, and whether the instance was found down.
//! Then, read after ExternalThaw, a second and independent signal where it can be read: the
//! instance's messages.log (our freeze's lines, then the thaw's "System resumed", not "Already
//! resumed"); for a sharded cluster, that of each data server that is an instance of this host
//! (the line of the cycle's checkpoint, then not "Already resumed").

use std::path::Path;

use crate::commands::state::Phase;
use crate::commands::thaw::targets::Thawing;
use crate::host::history::{self, InstanceEvent, not_consistent};
use crate::host::trust::Snapshot;
use crate::iris::backup::{Answer, Thawed};
use crate::iris::backup::{FreezeOptions, IRIS_BLOCKS_AFTER};
use crate::iris::discovery::Kind;
use crate::iris::messages_log::{self, Resumed};

pub(crate) const CONSISTENT: &str = "consistent";

/// `consistent`, `not consistent: <why>` or `unknown: <why>`; `None` for an instance we have
/// no record of (a `thaw --instance` of someone else's freeze: not our cycle).
pub(crate) fn decide(t: &Thawing, opts: &FreezeOptions, down: bool) -> Option<String> {
    let rec = t.record.as_ref()?;
    if down {
        return Some(not_consistent(
            "the instance stopped while frozen (a restart resumes the write daemon)",
        ));
    }
    if rec.phase == Phase::Freezing {
        return Some(not_consistent("its ExternalFreeze was never confirmed"));
    }
    if let Some(why) = past_a_limit(t.frozen_secs, rec.kind, opts) {
        return Some(not_consistent(why));
    }
    let told = &t.told;
    Some(match told.answer {
        Answer::Yes if t.thawed == Thawed::Confirmed => CONSISTENT.to_string(),
        Answer::Yes => "unknown: the thaw could not be confirmed".to_string(),
        // ExternalThaw failed but the write daemon was still suspended: the freeze held until
        // our (emergency) resume.
        _ if told.still_suspended => CONSISTENT.to_string(),
        Answer::No if told.not_suspended => not_consistent(
            "resumed before the thaw (IRIS answered \"not suspended\": restarted, or thawed by \
             someone else)",
        ),
        Answer::No => format!(
            "unknown: ExternalThaw failed and the write daemon was not suspended after it ({})",
            told.problem
        ),
        Answer::Unknown => format!(
            "unknown: ExternalThaw gave no answer and the write daemon was not suspended after \
             it ({})",
            told.problem
        ),
    })
}

/// What the freeze's history line says of each instance: its directory (where messages.log is)
/// and the journal file its ExternalFreeze named.
pub(crate) struct FreezeLines(Vec<InstanceEvent>);

impl FreezeLines {
    /// The lines of cycle `id`; none when the history cannot be read.
    pub(crate) fn of_cycle(history_file: &Path, id: &str) -> FreezeLines {
        let events = history::read_cycle(history_file, id).unwrap_or_default();
        let lines = history::cycles(&events)
            .into_iter()
            .find(|c| c.id == id)
            .map(|c| c.instances)
            .unwrap_or_default();
        FreezeLines(lines)
    }

    /// `verdict` (consistent), unless the instance's messages.log, where it can be read, says
    /// otherwise: after our freeze's lines, an "Already resumed" (something resumed it before
    /// our thaw), or another freeze's lines (someone thawed and froze it again in between).
    pub(crate) fn second_signal(&self, name: &str, verdict: String) -> String {
        let Some(i) = self.0.iter().find(|i| i.name == name) else {
            return verdict;
        };
        if i.cluster.is_some() {
            return self.cluster_signal(name, verdict);
        }
        let Some((path, text)) = read_log(i) else {
            return verdict;
        };
        let Some(last) = messages_log::last_freeze(&text) else {
            return verdict;
        };
        let ours = i.restore_from.as_deref().or(i.journal_file.as_deref());
        if let Some(ours) = ours.filter(|o| *o != last.restore_from) {
            return not_consistent(format!(
                "messages.log ({path}) shows another ExternalFreeze after ours (journal file {}, \
                 ours {ours}): someone thawed and froze it again before our thaw",
                last.restore_from
            ));
        }
        match last.resumed {
            Resumed::Already(_) => not_consistent(format!(
                "messages.log ({path}) says \"Already resumed\" after our freeze: something \
                 resumed it before our thaw"
            )),
            Resumed::Not | Resumed::ByThaw(_) => verdict,
        }
    }

    /// A sharded cluster frozen from `master`: `verdict`, unless the messages.log of one of its
    /// data servers that is an instance of this host says "Already resumed" after the line of
    /// the cycle's checkpoint (the cluster's thaw found it resumed already). The others' are on
    /// their own hosts.
    fn cluster_signal(&self, master: &str, verdict: String) -> String {
        let local = self.0.iter().filter(|d| {
            d.shard_master.as_deref() == Some(master) && d.instance.is_some() && d.dir.is_some()
        });
        for d in local {
            let (Some((path, text)), Some(journal), Some(number)) = (
                read_log(d),
                d.restore_from.as_deref(),
                d.checkpoint.as_deref(),
            ) else {
                continue;
            };
            let Some(last) = messages_log::last_checkpoint(&text, number, journal) else {
                continue;
            };
            if let Resumed::Already(_) = last.resumed {
                return not_consistent(format!(
                    "messages.log ({path}) of data server {} ({}) says \"Already resumed\" \
                     after checkpoint {number}: something resumed it before our thaw",
                    d.name,
                    d.instance.as_deref().unwrap_or_default()
                ));
            }
        }
        verdict
    }
}

/// The live host's messages.log of the line's instance, with its path, when its directory is
/// known and the file can be read: read as a snapshot's would be (IRIS's owner owns it, and
/// what it says only informs the verdict).
fn read_log(i: &InstanceEvent) -> Option<(String, String)> {
    let path = messages_log::path(i.dir.as_deref()?, &i.product);
    match Snapshot::open(Path::new("/")).and_then(|t| t.tail(&path, messages_log::TAIL)) {
        Ok(Some((bytes, _))) => Some((path, String::from_utf8_lossy(&bytes).into_owned())),
        _ => None,
    }
}

/// Frozen longer than IRIS keeps a freeze as it was: past WDSuspendLimit (IRIS only) IRIS
/// resumes the write daemon by itself; past ExternalFreezeTimeOut (600 s unless set) IRIS
/// blocks writers and counts the freeze as failed, so ExternalThaw reports an error and the
/// backup is not to be trusted.
fn past_a_limit(frozen: Option<f64>, kind: Kind, opts: &FreezeOptions) -> Option<String> {
    let frozen = frozen?;
    if let (Some(limit), Kind::Iris) = (opts.wd_suspend_limit, kind) {
        if frozen > f64::from(limit) {
            return Some(format!(
                "frozen {frozen:.1}s, past WDSuspendLimit ({limit}s): IRIS resumed the write \
                 daemon by itself"
            ));
        }
    }
    let timeout = opts
        .external_freeze_timeout
        .map_or(IRIS_BLOCKS_AFTER.as_secs_f64(), f64::from);
    (frozen > timeout).then(|| {
        format!(
            "frozen {frozen:.1}s, past ExternalFreezeTimeOut ({timeout}s): IRIS blocked writers \
             and counts the freeze as failed"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::state::Record;
    use crate::iris::backup::ThawTold;
    use crate::iris::discovery::SessionCmd;

    fn thawing(answer: Answer, frozen: f64) -> Thawing {
        let rec = Record::new(
            Kind::Iris,
            SessionCmd {
                program: "/usr/bin/iris".into(),
                prefix: vec![],
            },
            Phase::Frozen,
        );
        Thawing {
            name: "IRIS".into(),
            record: Some(rec),
            frozen_secs: Some(frozen),
            thawed: Thawed::Confirmed,
            told: ThawTold {
                answer,
                not_suspended: answer == Answer::No,
                still_suspended: false,
                problem: "exit 3".into(),
            },
        }
    }

    fn verdict(t: &Thawing, opts: &FreezeOptions) -> String {
        decide(t, opts, false).unwrap()
    }

    #[test]
    fn consistent_only_when_it_stayed_frozen_until_our_thaw() {
        let none = FreezeOptions::default();
        assert_eq!(verdict(&thawing(Answer::Yes, 2.0), &none), CONSISTENT);
        let v = verdict(&thawing(Answer::No, 2.0), &none);
        assert!(
            v.starts_with("not consistent: resumed before the thaw"),
            "{v}"
        );
        assert!(verdict(&thawing(Answer::Unknown, 2.0), &none).starts_with("unknown: "));
        // A failed ExternalThaw with the daemon still suspended: the freeze held.
        let mut t = thawing(Answer::No, 2.0);
        (t.told.not_suspended, t.told.still_suspended) = (false, true);
        assert_eq!(verdict(&t, &none), CONSISTENT);
        let down = decide(&thawing(Answer::Unknown, 2.0), &none, true).unwrap();
        assert!(down.contains("stopped while frozen"), "{down}");
        let mut t = thawing(Answer::Yes, 2.0);
        t.record = None;
        assert_eq!(decide(&t, &none, false), None);
    }

    #[test]
    fn past_the_limits_iris_enforces_it_is_not_consistent() {
        let limit = FreezeOptions {
            wd_suspend_limit: Some(1),
            ..Default::default()
        };
        let v = verdict(&thawing(Answer::Yes, 1.5), &limit);
        assert!(v.contains("past WDSuspendLimit (1s)"), "{v}");
        assert_eq!(verdict(&thawing(Answer::Yes, 0.5), &limit), CONSISTENT);
        let none = FreezeOptions::default();
        let v = verdict(&thawing(Answer::Yes, 601.0), &none);
        assert!(v.contains("past ExternalFreezeTimeOut (600s)"), "{v}");
        assert_eq!(verdict(&thawing(Answer::Yes, 599.0), &none), CONSISTENT);
        // WDSuspendLimit is IRIS's alone.
        let mut t = thawing(Answer::Yes, 1.5);
        if let Some(r) = t.record.as_mut() {
            r.kind = Kind::Cache;
        }
        assert_eq!(verdict(&t, &limit), CONSISTENT);
    }
}
