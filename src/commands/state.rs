//! What iris-freeze froze, kept in the state dir (tmpfs `/run/iris-freeze` by default: a reboot
//! thaws IRIS anyway) so that `thaw` needs no discovery and never touches a freeze it did not make.
//! This file holds the records, shared by the verbs; `host::state` opens the dir and reads and
//! writes its file.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use chrono::{DateTime, Local};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::host::state::{StateDir, now_rfc3339};
use crate::iris::InstanceName;
use crate::iris::discovery::{Kind, SessionCmd};

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
    /// Earlier armings still in force while a re-arming freeze starts their successor: a freeze
    /// killed between naming the new token and starting its watchdog must not leave what is
    /// already frozen unguarded. Cleared once the successor runs, and by every disarm.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) handover: Vec<Watchdog>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) auto_thaw: Option<AutoThaw>,
}

impl State {
    pub(crate) fn is_empty(&self) -> bool {
        self == &State::default()
    }

    /// Whether the watchdog of `token` is still armed: named as the arming, or as one being
    /// handed over.
    pub(crate) fn arms(&self, token: &str) -> bool {
        self.watchdog
            .iter()
            .chain(&self.handover)
            .any(|w| w.token == token)
    }

    /// Disarms every watchdog: each sees its token gone and leaves without an IRIS call.
    /// Whether one was armed.
    pub(crate) fn disarm(&mut self) -> bool {
        let was = self.watchdog.is_some() || !self.handover.is_empty();
        self.watchdog = None;
        self.handover.clear();
        was
    }
}

/// The state dir `cfg` names (created 0700 if needed), its messages naming where it was set.
pub(crate) fn state_dir(cfg: &Config) -> Result<StateDir> {
    StateDir::open(&cfg.state_dir, cfg.state_dir_from.as_deref())
}

/// As [`state_dir`], but never creates it: `None` when it does not exist.
pub(crate) fn existing_state_dir(cfg: &Config) -> Result<Option<StateDir>> {
    StateDir::open_existing(&cfg.state_dir, cfg.state_dir_from.as_deref())
}

/// The [`State`] in a state dir's file.
pub(crate) trait StateFile {
    /// The recorded state; a missing file is an empty state, an unreadable one
    /// [`Damaged`](crate::host::state::Damaged).
    fn load(&self) -> Result<State>;
    /// Replaces the state atomically; an empty state removes the file.
    fn save(&self, state: &State) -> Result<()>;
}

impl StateFile for StateDir {
    fn load(&self) -> Result<State> {
        self.read_state(|state: &State| {
            // A name no instance can have was not written by us: what else in the file is, is
            // unknown, so the whole file is damaged (the watchdog then thaws its own plan).
            match state
                .instances
                .keys()
                .find(|k| InstanceName::parse(k).is_err())
            {
                Some(bad) => Err(format!(
                    "it names an instance {bad:?}, which is no instance name"
                )),
                None => Ok(()),
            }
        })
    }

    fn save(&self, state: &State) -> Result<()> {
        self.write_state((!state.is_empty()).then_some(state))
    }
}

/// The instances the state records as frozen (or maybe frozen) by us.
pub(crate) fn frozen_now(state_dir: &Path) -> Result<Vec<String>> {
    let Some(dir) = StateDir::open_existing(state_dir, None)? else {
        return Ok(Vec::new());
    };
    // A damaged state is `status`'s and `thaw`'s to report; here it says nothing is known.
    Ok(dir
        .load()
        .map(|s| s.instances.into_keys().collect())
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::SecondsFormat;

    fn rec() -> Record {
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
    fn age_is_measured_from_since() {
        let mut r = rec();
        r.since = (Local::now() - chrono::Duration::seconds(90))
            .to_rfc3339_opts(SecondsFormat::Millis, false);
        let age = r.age_secs().unwrap();
        assert!((89.0..100.0).contains(&age), "{age}");
    }

    #[test]
    fn round_trip_and_a_name_no_instance_has_is_damage() {
        let tmp = tempfile::tempdir().unwrap();
        let sd = StateDir::open(tmp.path(), None).unwrap();
        assert_eq!(sd.load().unwrap(), State::default());
        let mut s = State::default();
        s.instances.insert("IRIS".into(), rec());
        sd.save(&s).unwrap();
        assert_eq!(sd.load().unwrap(), s);
        assert_eq!(frozen_now(tmp.path()).unwrap(), ["IRIS"]);
        sd.save(&State::default()).unwrap();
        assert!(!sd.file().exists());
        s.instances.insert("../x".into(), rec());
        sd.save(&s).unwrap();
        let err = sd.load().unwrap_err();
        assert!(
            err.downcast_ref::<crate::host::state::Damaged>().is_some(),
            "{err:#}"
        );
        assert!(
            format!("{err:#}").contains("which is no instance name"),
            "{err:#}"
        );
        assert!(frozen_now(tmp.path()).unwrap().is_empty());
    }
}
