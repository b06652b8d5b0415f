//! What a thaw acts on (the recorded instances, or the named ones), the thaw itself (shared
//! with the watchdog), and the records of instances found down.

use std::time::{Duration, Instant};

use anyhow::Result;

use crate::commands::state::{Record, State};
use crate::commands::thaw::reach::{Unreached, by_hand};
use crate::config::Config;
use crate::host::eventlog::EventLog;
use crate::host::history::{self, InstanceEvent};
use crate::host::state::now_ms;
use crate::iris::backup::{self, Answer, Target, ThawTold, Thawed};
use crate::iris::discovery::{self, Availability, Kind, Selection, Tools};
use crate::iris::sharded;

/// What a thaw achieved.
#[derive(Debug, Default)]
pub(crate) struct ThawOutcome {
    pub(crate) thawed: Vec<String>,
    /// Instances that may still be frozen; their records stay for the next thaw.
    pub(crate) left: Vec<String>,
    /// Instances found down after a thaw that could not reach them: their records went.
    pub(crate) down: Vec<String>,
    /// Per target, what the calls told, for the verdict and the history.
    pub(crate) each: Vec<Thawing>,
}

impl ThawOutcome {
    /// `names` for a summary: a shard master frozen with its cluster is named as the cluster
    /// with its data servers.
    pub(crate) fn words(&self, names: &[String]) -> String {
        names
            .iter()
            .map(|n| {
                let rec = self
                    .each
                    .iter()
                    .find(|t| &t.name == n)
                    .and_then(|t| t.record.as_ref());
                match rec.and_then(|r| r.sharded.as_ref().map(|ns| (ns, &r.nodes))) {
                    Some((ns, nodes)) => sharded::named(n, ns, nodes),
                    None => n.clone(),
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Adds an instance no way reached: it may still be frozen, and the log says so with the
    /// commands that thaw it by hand.
    pub(crate) fn unreached(&mut self, u: Unreached, log: &EventLog) {
        log.error(
            Some(&u.name),
            "failed",
            format!(
                "could not thaw {}: {}. To thaw it: {}",
                u.name,
                u.why,
                by_hand(&u.name, &u.record)
            ),
        );
        self.left.push(u.name.clone());
        self.each.push(Thawing {
            frozen_secs: u.record.secs_until(now_ms()),
            name: u.name,
            record: Some(u.record),
            thawed: Thawed::Unconfirmed,
            told: ThawTold {
                answer: Answer::Unknown,
                not_suspended: false,
                still_suspended: false,
                problem: u.why,
            },
        });
    }
}

/// One target's thaw, as the verdict needs it.
#[derive(Debug)]
pub(crate) struct Thawing {
    pub(crate) name: String,
    /// Our record of its freeze, if we froze it.
    pub(crate) record: Option<Record>,
    /// How long it was frozen by us when the thaw began.
    pub(crate) frozen_secs: Option<f64>,
    pub(crate) thawed: Thawed,
    pub(crate) told: ThawTold,
}

impl Thawing {
    /// Its history lines: `line` for the instance, and a copy for each other data server of
    /// the sharded cluster it was the master of (one line per data server, as at freeze).
    pub(crate) fn history_lines(&self, mut line: InstanceEvent) -> Vec<InstanceEvent> {
        let nodes = self.record.as_ref().map_or(&[][..], |r| &r.nodes[..]);
        line.cluster = self.record.as_ref().and_then(|r| r.sharded.clone());
        let others: Vec<InstanceEvent> = nodes
            .iter()
            .filter(|n| !n.eq_ignore_ascii_case(&self.name))
            .map(|n| InstanceEvent {
                name: n.clone(),
                shard_master: Some(self.name.clone()),
                ..line.clone()
            })
            .collect();
        std::iter::once(line).chain(others).collect()
    }
}

/// Thaws `targets` at once and confirms each (shared by `thaw` and the watchdog); forgets the
/// confirmed ones in `state`, logging how long each was frozen, and disarms the watchdog once
/// nothing of ours is left. Each ExternalThaw gets the whole `timeout` from when it starts,
/// however long the thaw waited before (for the host lock), and the check after it half that.
pub(crate) fn thaw_targets(
    state: &mut State,
    targets: &[Target],
    timeout: Duration,
    log: &EventLog,
) -> ThawOutcome {
    // One clock read before the thaw, not a call: how long each was frozen is measured to here.
    let began = now_ms();
    let results = backup::each(targets, |t| {
        backup::thaw_and_confirm_told(t, Instant::now() + timeout, timeout / 2, log)
    });
    let mut out = ThawOutcome::default();
    for (t, (thawed, told)) in targets.iter().zip(results) {
        // Case-insensitive: a name given with --instance may differ in case from the record.
        let key = state
            .instances
            .keys()
            .find(|k| k.eq_ignore_ascii_case(&t.name))
            .cloned();
        let record = key.as_ref().and_then(|k| state.instances.get(k)).cloned();
        out.each.push(Thawing {
            name: t.name.clone(),
            frozen_secs: record.as_ref().and_then(|r| r.secs_until(began)),
            record,
            thawed,
            told,
        });
        if thawed != Thawed::Confirmed {
            out.left.push(t.name.clone());
            continue;
        }
        if let Some(rec) = key.and_then(|k| state.instances.remove(&k)) {
            log.info(
                Some(&t.name),
                "duration",
                format!(
                    "was frozen by iris-freeze for {:.3}s (since {})",
                    rec.age_secs().unwrap_or(0.0),
                    rec.since
                ),
            );
        }
        out.thawed.push(t.name.clone());
    }
    if state.instances.is_empty() {
        // Disarm: the watchdog sees its token gone and leaves without touching IRIS.
        state.disarm();
    }
    out
}

/// `thaw --instance`: thaw those instances whatever the state says. A named instance that is
/// down is not frozen: its record, if any, is dropped.
pub(super) fn named_targets(
    cfg: &Config,
    log: &EventLog,
    state: &mut State,
) -> Result<Vec<Target>> {
    let tools = Tools::find(&cfg.bin_dirs)?;
    let listing = discovery::list(&tools, Instant::now() + cfg.timeout / 4);
    let selection = discovery::select(&cfg.instances, &listing, &tools)?;
    let down: Vec<String> = selection.down.iter().map(|i| i.name.clone()).collect();
    let targets: Vec<(Target, Kind)> = reachable(selection, &tools, cfg, log)
        .into_iter()
        .map(|(t, kind)| {
            // A shard master named without --sharded is thawed as its freeze recorded it: its
            // own ExternalThaw would leave the other data servers frozen.
            let recorded = state
                .instances
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&t.name))
                .and_then(|(_, r)| r.sharded.clone());
            match recorded.filter(|_| t.sharded.is_none()) {
                Some(ns) => (t.with_sharded(Some(&ns)), kind),
                None => (t, kind),
            }
        })
        .collect();
    for (t, _) in &targets {
        right_namespace(cfg, state, t)?;
    }
    for name in &down {
        forget_down(state, name, log);
    }
    Ok(targets.into_iter().map(|(t, _)| t).collect())
}

/// `thaw --instance NAME --sharded NS` with another namespace than the one NAME's cluster was
/// frozen with (its record, else the history's last cluster freeze from it) is a usage error
/// before any call: the cluster thaw of a wrong namespace fails and thaws nothing.
fn right_namespace(cfg: &Config, state: &State, t: &Target) -> Result<()> {
    let Some(given) = &t.sharded else {
        return Ok(());
    };
    let recorded = state
        .instances
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(&t.name))
        .and_then(|(_, r)| r.sharded.clone())
        .map(|ns| (ns, "its freeze's record".to_string()));
    let Some((ns, whence)) = recorded.or_else(|| last_cluster_of(cfg, &t.name)) else {
        return Ok(());
    };
    if ns.eq_ignore_ascii_case(given) {
        return Ok(());
    }
    anyhow::bail!(
        "--sharded {given}: {name}'s cluster was frozen as {ns} ({whence}), and a cluster \
         thaw of another namespace thaws nothing: run `iris-freeze thaw --instance {name} \
         --sharded {ns}` (or a plain `iris-freeze thaw` for what is recorded)",
        name = t.name
    )
}

/// The namespace of the last cluster freeze from shard master `name` in the history, and the
/// cycle that says so.
fn last_cluster_of(cfg: &Config, name: &str) -> Option<(String, String)> {
    let events = history::read(&cfg.history_file).ok()?;
    events.iter().rev().find_map(|e| {
        let line = e.instances.iter().find(|i| {
            i.name.eq_ignore_ascii_case(name) && i.shard_master.is_none() && i.cluster.is_some()
        })?;
        Some((line.cluster.clone()?, format!("history, cycle {}", e.id)))
    })
}

/// What a thaw reaches of `selection`, each with its kind: the running instances, and those up
/// but not accepting logins (that may be our freeze's doing: ExternalThaw skips the login). The
/// down ones are logged as skipped: nothing to thaw. Shared with the watchdog's guarded thaw.
pub(crate) fn reachable(
    selection: Selection,
    tools: &Tools,
    cfg: &Config,
    log: &EventLog,
) -> Vec<(Target, Kind)> {
    for inst in &selection.down {
        log.warn(
            Some(&inst.name),
            "skipped",
            format!("{} is {}: nothing to thaw", inst.name, inst.status),
        );
    }
    selection
        .targets
        .into_iter()
        .chain(selection.unavailable)
        .map(|(i, session)| {
            let target = Target::new(&i.name, session)
                .with_emergency(tools.emergency_for(&i.name, i.kind))
                .with_credentials(cfg.credentials.as_ref())
                .with_sharded(cfg.sharded.as_deref());
            (target, i.kind)
        })
        .collect()
}

/// Instances a thaw could not confirm that qlist shows down: a stopped instance is not frozen
/// (a restart resumes the write daemon), so their records go, with a warning. Whether any went.
pub(crate) fn drop_down(
    cfg: &Config,
    state: &mut State,
    outcome: &mut ThawOutcome,
    log: &EventLog,
) -> bool {
    let Ok(tools) = Tools::find(&cfg.bin_dirs) else {
        return false;
    };
    let listing = discovery::list(&tools, Instant::now() + cfg.timeout / 4);
    let mut dropped = false;
    outcome.left.retain(|name| {
        let down = listing
            .find(name)
            .is_some_and(|i| i.availability() == Availability::Down);
        if down {
            forget_down(state, name, log);
            outcome.down.push(name.clone());
            dropped = true;
        }
        !down
    });
    if state.instances.is_empty() {
        state.disarm();
    }
    dropped
}

/// Drops the record of an instance found down, saying why.
fn forget_down(state: &mut State, name: &str, log: &EventLog) {
    let key = state
        .instances
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned();
    if let Some(rec) = key.and_then(|k| state.instances.remove(&k)) {
        log.warn(
            Some(name),
            "down",
            format!(
                "{name} is down: it was frozen by iris-freeze since {} but stopped before this \
                 thaw; a restart resumes the write daemon, so it is not frozen: record dropped",
                rec.since
            ),
        );
    }
}
