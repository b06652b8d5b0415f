//! The state dir (tmpfs `/run/iris-freeze` by default: a reboot thaws IRIS anyway): `dir` opens
//! it safely and reads and writes its files; what the state file records is the caller's. Here
//! also the clock the records are stamped with, and when a process started.

mod dir;

use chrono::{Local, SecondsFormat, TimeZone};
use serde::{Deserialize, Serialize};

use crate::host::procfs;

pub(crate) use dir::{Damaged, StateDir};

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
            boot_id: procfs::boot_id()?,
            ticks: procfs::own_start_ticks()?,
        })
    }

    /// Whether `self` started after `other`, in the same boot. Ticks are 10 ms; a tie counts
    /// as "not after": a post hook follows its pre hook by seconds, while a freeze right after
    /// a thaw (a retry, the next backup) must not be refused.
    pub(crate) fn after(&self, other: &StartMark) -> bool {
        self.boot_id == other.boot_id && self.ticks > other.ticks
    }
}

pub(crate) fn now_rfc3339() -> String {
    Local::now().to_rfc3339_opts(SecondsFormat::Millis, false)
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
}
