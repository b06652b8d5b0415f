//! What iris-freeze froze, kept in the state dir (tmpfs `/run/iris-freeze` by default: a reboot
//! thaws IRIS anyway) so that `thaw` needs no discovery and never touches a freeze it did not make.
//! This file holds the records; `dir` reads and writes them.

mod dir;

use std::collections::BTreeMap;

use chrono::{DateTime, Local, SecondsFormat, TimeZone};
use serde::{Deserialize, Serialize};

use crate::iris::discovery::{Kind, SessionCmd};

pub(crate) use dir::{Damaged, StateDir};

/// Where an instance stands in our freeze.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Phase {
    /// Recorded before the watchdog is armed, and kept by a rollback that could not confirm
    /// its thaw: it may be frozen.
    Freezing,
    /// ExternalFreeze was called at `since`, and this record is rewritten if it fails: frozen by
    /// us, unless the freeze process was killed during the call (the status command's FROZEN
    /// column, which asks IRIS, tells).
    Frozen,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Record {
    pub(crate) kind: Kind,
    /// How to reach the instance at thaw time without running discovery again.
    pub(crate) session: SessionCmd,
    pub(crate) phase: Phase,
    /// When the freeze was confirmed (or attempted, while `Freezing`), RFC 3339.
    pub(crate) since: String,
    /// The pid of the iris-freeze that froze it.
    pub(crate) pid: u32,
    /// The documented emergency resume (`iris stat NAME -W`), when there is a program for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) emergency: Option<SessionCmd>,
    /// The shard master namespace when the whole sharded cluster was frozen from here: its
    /// thaw, and the watchdog's, thaw the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sharded: Option<String>,
    /// The cluster's data servers, as its freeze's CheckpointInfo named them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) nodes: Vec<String>,
}

impl Record {
    pub(crate) fn new(kind: Kind, session: SessionCmd, phase: Phase) -> Record {
        Record {
            kind,
            session,
            phase,
            since: now_rfc3339(),
            pid: std::process::id(),
            emergency: None,
            sharded: None,
            nodes: Vec::new(),
        }
    }

    /// Seconds from `since` to `ms` (unix milliseconds), when it parses.
    pub(crate) fn secs_until(&self, ms: i64) -> Option<f64> {
        let t = DateTime::parse_from_rfc3339(&self.since).ok()?;
        Some((ms - t.timestamp_millis()) as f64 / 1000.0)
    }

    /// Seconds since `since`, when it parses.
    pub(crate) fn age_secs(&self) -> Option<f64> {
        let t = DateTime::parse_from_rfc3339(&self.since).ok()?;
        Some((Local::now().fixed_offset() - t).num_milliseconds() as f64 / 1000.0)
    }
}

pub(crate) fn now_rfc3339() -> String {
    Local::now().to_rfc3339_opts(SecondsFormat::Millis, false)
}

/// The armed dead-man switch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Watchdog {
    /// Names this arming; a watchdog whose token is no longer here has been disarmed.
    pub(crate) token: String,
    pub(crate) pid: u32,
    /// When it thaws, RFC 3339 and unix ms.
    pub(crate) deadline: String,
    pub(crate) deadline_ms: i64,
    /// `systemd unit NAME` or `detached process`.
    pub(crate) how: String,
    /// Its start time (field 22 of /proc/PID/stat), so that `status` tells it from another
    /// process that got its pid; `None` when the pid is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) start_ticks: Option<u64>,
}

/// What the watchdog did when its deadline came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AutoThaw {
    pub(crate) at: String,
    pub(crate) instances: Vec<String>,
    /// `instances` in words, when that says more: a sharded cluster with its data servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) described: Option<String>,
    /// Every instance confirmed thawed.
    pub(crate) all_thawed: bool,
    /// A `thaw` has reported it (exit 2) already.
    pub(crate) reported: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct State {
    /// The id of the cycle whose freeze these records belong to (`history::new_id`): the thaw
    /// and the watchdog write their history lines under it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cycle: Option<String>,
    /// Instance name → what we did to it.
    #[serde(default)]
    pub(crate) instances: BTreeMap<String, Record>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) watchdog: Option<Watchdog>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) auto_thaw: Option<AutoThaw>,
}

/// When a process started, on a clock that neither NTP nor an admin can move: clock ticks
/// since boot (from /proc), with the boot it counts from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StartMark {
    pub(crate) boot_id: String,
    pub(crate) ticks: u64,
}

impl StartMark {
    /// This process's start.
    pub(crate) fn of_self() -> Option<StartMark> {
        Some(StartMark {
            boot_id: std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
                .ok()?
                .trim()
                .to_string(),
            ticks: crate::host::lock::own_start_ticks()?,
        })
    }

    /// Whether `self` started after `other`, in the same boot. Ticks are 10 ms; a tie counts
    /// as "not after": a post hook follows its pre hook by seconds, while a freeze right after
    /// a thaw (a retry, the next backup) must not be refused.
    pub(crate) fn after(&self, other: &StartMark) -> bool {
        self.boot_id == other.boot_id && self.ticks > other.ticks
    }
}

impl State {
    pub(crate) fn is_empty(&self) -> bool {
        self == &State::default()
    }
}

pub(crate) fn now_ms() -> i64 {
    Local::now().timestamp_millis()
}

/// Unix milliseconds as RFC 3339 local time (the number itself if it is out of range).
pub(crate) fn rfc3339_of_ms(ms: i64) -> String {
    Local
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, false))
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn rec() -> Record {
        Record::new(
            Kind::Iris,
            SessionCmd {
                program: "/usr/bin/iris".into(),
                prefix: vec!["session".into(), "IRIS".into(), "-U%SYS".into()],
            },
            Phase::Frozen,
        )
    }

    #[test]
    fn start_marks_compare_within_one_boot_only() {
        let m = |b: &str, t| StartMark {
            boot_id: b.into(),
            ticks: t,
        };
        assert!(m("a", 11).after(&m("a", 10)));
        assert!(!m("a", 10).after(&m("a", 10)));
        assert!(!m("a", 9).after(&m("a", 10)));
        assert!(
            !m("b", 99).after(&m("a", 10)),
            "a mark from another boot means nothing"
        );
        let me = StartMark::of_self().unwrap();
        assert!(!me.after(&StartMark::of_self().unwrap()));
    }

    #[test]
    fn age_is_measured_from_since() {
        let mut r = rec();
        r.since = (Local::now() - chrono::Duration::seconds(90))
            .to_rfc3339_opts(SecondsFormat::Millis, false);
        let age = r.age_secs().unwrap();
        assert!((89.0..100.0).contains(&age), "{age}");
    }
}
