//! Cycles put together from the history's events: a freeze and what ended it (thaw, rollback,
//! auto-thaw), each instance's lines merged, newest first.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{CmdEvent, Event, EventKind, InstanceEvent};

/// One freeze/thaw cycle, put together from its events.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Cycle {
    pub(crate) id: String,
    /// When its first event ended.
    pub(crate) start: String,
    /// What ran its freeze.
    pub(crate) by: String,
    /// The backup job its freeze was called for (Commvault's `-job`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) job: Option<String>,
    /// `frozen` (no thaw yet), `thawed`, `auto-thawed`, `rolled back` or `failed`.
    pub(crate) ended: String,
    /// Per instance, the freeze's facts with the thaw's added.
    pub(crate) instances: Vec<InstanceEvent>,
    /// `run`'s command, when a `run` made the cycle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cmd: Option<CmdEvent>,
}

impl Cycle {
    /// `consistent` only when every instance's verdict is, and `run`'s command (if any) ended
    /// within its deadline: one killed at it (or what it left running) may have cut its snapshot
    /// short.
    pub(crate) fn consistent(&self) -> bool {
        !self.instances.is_empty()
            && !self.cmd.as_ref().is_some_and(|c| c.timed_out)
            && self
                .instances
                .iter()
                .all(|i| i.verdict.as_deref() == Some("consistent"))
    }

    /// The cycle's verdict in one line: `consistent` when every instance's is, else the first
    /// instance's that is not, or `no verdict yet` before the thaw.
    pub(crate) fn verdict(&self) -> String {
        if self.consistent() {
            return "consistent".into();
        }
        if let Some(c) = self.cmd.as_ref().filter(|c| c.timed_out) {
            return format!("CMD {}: not consistent", c.ended());
        }
        self.instances
            .iter()
            .find_map(|i| {
                i.verdict
                    .as_deref()
                    .filter(|v| *v != "consistent")
                    .map(|v| format!("{}: {v}", i.name))
            })
            .unwrap_or_else(|| "no verdict yet".into())
    }
}

/// The cycles in `events`, newest first.
pub(crate) fn cycles(events: &[Event]) -> Vec<Cycle> {
    let mut order: Vec<String> = Vec::new();
    let mut by_id: BTreeMap<String, Cycle> = BTreeMap::new();
    for e in events {
        let c = by_id.entry(e.id.clone()).or_insert_with(|| {
            order.push(e.id.clone());
            Cycle {
                id: e.id.clone(),
                start: e.at.clone(),
                by: e.by.clone(),
                job: None,
                ended: String::new(),
                instances: Vec::new(),
                cmd: None,
            }
        });
        if let Some(ended) = ended(e) {
            c.ended = ended.to_string();
        }
        if e.cmd.is_some() {
            c.cmd = e.cmd.clone();
        }
        if c.job.is_none() {
            c.job = e.job.clone();
        }
        for i in &e.instances {
            match c.instances.iter_mut().find(|k| k.name == i.name) {
                Some(k) => merge(k, i),
                None => c.instances.push(i.clone()),
            }
        }
    }
    order
        .iter()
        .rev()
        .filter_map(|id| by_id.remove(id))
        .collect()
}

/// How a cycle stands after `e`; `None` for `run`'s command, which the thaw follows.
fn ended(e: &Event) -> Option<&'static str> {
    Some(match (e.event, e.exit) {
        (EventKind::Freeze, 1) => "failed",
        (EventKind::Freeze, _) => "frozen",
        (EventKind::Thaw, _) => "thawed",
        (EventKind::AutoThaw, _) => "auto-thawed",
        (EventKind::Rollback, _) => "rolled back",
        (EventKind::Cmd, _) => return None,
    })
}

/// A later event's facts over an earlier one's, keeping what the later one does not know.
fn merge(into: &mut InstanceEvent, later: &InstanceEvent) {
    let keep = |a: &mut String, b: &String| {
        if !b.is_empty() {
            *a = b.clone();
        }
    };
    keep(&mut into.product, &later.product);
    keep(&mut into.version, &later.version);
    keep(&mut into.result, &later.result);
    into.journal_file = later.journal_file.clone().or(into.journal_file.take());
    into.restore_from = later.restore_from.clone().or(into.restore_from.take());
    into.dir = later.dir.clone().or(into.dir.take());
    into.cluster = later.cluster.clone().or(into.cluster.take());
    into.shard_master = later.shard_master.clone().or(into.shard_master.take());
    into.checkpoint = later.checkpoint.clone().or(into.checkpoint.take());
    into.frozen_secs = later.frozen_secs.or(into.frozen_secs);
    into.verdict = later.verdict.clone().or(into.verdict.take());
}

#[cfg(test)]
mod tests {
    use super::super::tests::inst;
    use super::*;

    #[test]
    fn cycles_merge_their_events_newest_first() {
        let mut f = Event::new("1", EventKind::Freeze, "prescript.sh", 0);
        let mut i = inst("IRIS", "frozen");
        i.journal_file = Some("/j/20261201.002".into());
        i.restore_from = Some("/j/20261201.002".into());
        i.product = "IRIS".into();
        f.instances.push(i);
        let mut t = Event::new("1", EventKind::Thaw, "postscript.sh", 0);
        let mut i = inst("IRIS", "thawed");
        i.verdict = Some("consistent".into());
        i.frozen_secs = Some(1.5);
        t.instances.push(i);
        let g = Event::new("2", EventKind::Freeze, "freeze", 1);
        let cs = cycles(&[f, t, g]);
        assert_eq!(cs.len(), 2);
        assert_eq!((cs[0].id.as_str(), cs[0].ended.as_str()), ("2", "failed"));
        let c = &cs[1];
        assert_eq!(
            (c.ended.as_str(), c.by.as_str()),
            ("thawed", "prescript.sh")
        );
        let i = &c.instances[0];
        assert_eq!(i.journal_file.as_deref(), Some("/j/20261201.002"));
        assert_eq!((i.product.as_str(), i.frozen_secs), ("IRIS", Some(1.5)));
        assert!(c.consistent());
        assert_eq!(c.verdict(), "consistent");
        assert!(!cs[0].consistent());
        assert_eq!(cs[0].verdict(), "no verdict yet");
    }

    #[test]
    fn a_run_cycle_keeps_its_command_and_ends_with_its_thaw() {
        let f = Event::new("1", EventKind::Freeze, "run", 0);
        let mut c = Event::new("1", EventKind::Cmd, "run", 1);
        c.cmd = Some(CmdEvent {
            argv: "sleep 60".into(),
            signal: Some("SIGTERM".into()),
            timed_out: true,
            secs: 1.0,
            ..Default::default()
        });
        let t = Event::new("1", EventKind::Thaw, "run", 0);
        let line = serde_json::to_string(&c).unwrap();
        assert!(line.contains(r#""event":"cmd""#), "{line}");
        assert!(!line.contains("code"), "only what applies: {line}");
        let cs = cycles(&[f.clone(), c.clone()]);
        assert_eq!(cs[0].ended, "frozen", "CMD is not an end");
        let cs = cycles(&[f, c, t]);
        assert_eq!(cs[0].ended, "thawed");
        let cmd = cs[0].cmd.as_ref().unwrap();
        assert_eq!(cmd.ended(), "killed by SIGTERM (timed out)");
        let plain = Event::new("2", EventKind::Freeze, "freeze", 0);
        assert!(!serde_json::to_string(&plain).unwrap().contains("cmd"));
    }
}
