//! Step 3 of a freeze: ExternalFreeze on every target at once, the record of success written
//! ahead of the calls, and each answer logged as it is known.

use std::time::Instant;

use anyhow::Result;

use crate::commands::freeze::rollback::Undo;
use crate::commands::state::{Phase, State, StateFile};
use crate::config::Config;
use crate::host::eventlog::{EventLog, Level};
use crate::host::process::{End, Outcome, Stop};
use crate::host::state::{StateDir, now_rfc3339};
use crate::iris::backup::{self, Answer, Target};
use crate::iris::calls::SWITCH_ALREADY_SET;
use crate::iris::discovery::Kind;
use crate::iris::sharded;

/// What the ExternalFreeze calls left.
pub(super) struct Attempt {
    /// Each target still ours after its call, with what rolling it back needs.
    pub(super) ours: Vec<Undo>,
    /// Frozen by someone else between our check and our ExternalFreeze: left alone.
    pub(super) raced: Vec<String>,
    /// What went wrong; none when every freeze held.
    pub(super) problems: Vec<String>,
    /// Per instance frozen: the journal file IRIS switched to and the one a restore starts
    /// from, as ExternalFreeze printed them (for the history).
    pub(super) journals: Vec<(String, Option<String>, Option<String>)>,
    /// A sharded cluster's checkpoint number, from its CheckpointInfo (for the history).
    pub(super) checkpoint: Option<String>,
    /// The state once every freeze held.
    frozen: State,
    /// `frozen` was written ahead of the calls.
    recorded: bool,
}

impl Attempt {
    /// The targets this run froze.
    pub(super) fn targets(&self) -> Vec<Target> {
        self.ours.iter().map(|u| u.target.clone()).collect()
    }

    /// Makes sure the state says what is frozen: written ahead unless that failed or a race
    /// changed it since.
    pub(super) fn record(&self, states: &StateDir) -> Result<()> {
        if self.recorded && self.raced.is_empty() {
            return Ok(());
        }
        states.save(&self.frozen)
    }
}

/// Freezes `to_freeze` at once, each call ending by `freeze_by`. The record of success is
/// written first: once ExternalFreeze returns, every step is freeze window. So a record says
/// `frozen` from the moment ExternalFreeze is called (`since`); a failure rewrites it during
/// the rollback, and the thaw and the watchdog treat `freezing` and `frozen` alike.
pub(super) fn freeze_all(
    cfg: &Config,
    states: &StateDir,
    state: &mut State,
    to_freeze: &[(Target, Kind)],
    freeze_by: Instant,
    id: &str,
    log: &EventLog,
) -> Attempt {
    let frozen = frozen_state(state, to_freeze);
    // If it cannot be written ahead, it is written after (the error, if it lasts, shows then).
    let recorded = states.save(&frozen).is_ok();
    let calls = backup::each(to_freeze, |(t, kind)| match &t.sharded {
        // The cluster's answer is read from the markers of its call, not from an exit code.
        Some(ns) => {
            let c = sharded::freeze(t, ns, &cfg.freeze_options, freeze_by, Stop::OnSignal);
            let cluster = Some((c.problem, c.checkpoint));
            (c.expr, c.answer, c.outcome, cluster)
        }
        None => {
            let expr = t.freeze_expr(&cfg.freeze_options, *kind, id);
            let (answer, o) = backup::call(t, &expr, freeze_by, Stop::OnSignal);
            (expr, answer, o, None)
        }
    });
    let mut attempt = Attempt {
        ours: Vec::new(),
        raced: Vec::new(),
        problems: Vec::new(),
        journals: Vec::new(),
        checkpoint: None,
        frozen,
        recorded,
    };
    for ((t, _), (expr, answer, o, cluster)) in to_freeze.iter().zip(&calls) {
        take_answer(
            &mut attempt,
            state,
            (t, expr),
            *answer,
            o,
            cluster.as_ref(),
            log,
        );
    }
    if !attempt.raced.is_empty() && attempt.frozen.instances.is_empty() {
        // Nothing of ours is frozen after all: nothing for a watchdog to guard.
        attempt.frozen.disarm();
        state.disarm();
    }
    attempt
}

/// `state` with every instance of `to_freeze` frozen since now, and no auto-thaw to report.
fn frozen_state(state: &State, to_freeze: &[(Target, Kind)]) -> State {
    let mut frozen = state.clone();
    let since = now_rfc3339();
    for (t, _) in to_freeze {
        if let Some(rec) = frozen.instances.get_mut(&t.name) {
            rec.phase = Phase::Frozen;
            rec.since = since.clone();
        }
    }
    frozen.auto_thaw = None;
    frozen
}

/// A cluster call's problem in words and its CheckpointInfo.
type ClusterAnswer = (String, Option<sharded::Checkpoint>);

/// Logs one ExternalFreeze answer (to `expr`, the call made) and adds it to `attempt`; a
/// target someone else froze first leaves the records.
fn take_answer(
    attempt: &mut Attempt,
    state: &mut State,
    (t, expr): (&Target, &str),
    answer: Answer,
    o: &Outcome,
    cluster: Option<&ClusterAnswer>,
    log: &EventLog,
) {
    match answer {
        Answer::Yes => frozen(attempt, t, o, cluster, log),
        // Someone else froze it between our check and our ExternalFreeze.
        Answer::No if cluster.is_none() && o.lines().any(|l| l.contains(SWITCH_ALREADY_SET)) => {
            return raced(attempt, state, &t.name, o, log);
        }
        Answer::No | Answer::Unknown => {
            let why = match cluster {
                Some((problem, _)) => problem.clone(),
                None => backup::problem(t, expr, o),
            };
            failed(attempt, t, answer, o, why, log);
        }
    }
    attempt.ours.push(Undo {
        target: t.clone(),
        answer,
        lingering: matches!(
            o.end,
            End::TimedOut {
                still_running: true,
                ..
            }
        ),
    });
}

/// Frozen: logged, with the journal files it names (a cluster's: one line per data server).
fn frozen(
    attempt: &mut Attempt,
    t: &Target,
    o: &Outcome,
    cluster: Option<&ClusterAnswer>,
    log: &EventLog,
) {
    let name = t.name.as_str();
    log.call(
        Level::Info,
        name,
        "frozen",
        o,
        "ExternalFreeze succeeded: write daemon suspended",
    );
    if let Some((_, checkpoint)) = cluster {
        cluster_nodes(attempt, name, checkpoint.as_ref());
    } else {
        let (switched, restore) = backup::freeze_journals(o);
        attempt.journals.push((name.to_string(), switched, restore));
    }
}

/// Someone else froze it between our check and our call: left alone, and its records go.
fn raced(attempt: &mut Attempt, state: &mut State, name: &str, o: &Outcome, log: &EventLog) {
    log.call(
        Level::Warn,
        name,
        "foreign",
        o,
        "ExternalFreeze refused: the write daemon was already suspended, so someone \
         else froze it after our check: left alone (neither frozen nor thawed by \
         iris-freeze); its consistency is not ours to promise",
    );
    state.instances.remove(name);
    attempt.frozen.instances.remove(name);
    attempt.raced.push(name.to_string());
}

/// It failed (3, an error %Status) or we do not know (anything else): a problem, so the freeze
/// rolls back.
fn failed(
    attempt: &mut Attempt,
    t: &Target,
    answer: Answer,
    o: &Outcome,
    why: String,
    log: &EventLog,
) {
    let name = t.name.as_str();
    // The message names the call that was made: the cluster's, from a shard master.
    let call = if t.sharded.is_some() {
        "Backup.ShardedCluster.ExternalFreeze"
    } else {
        "ExternalFreeze"
    };
    let (event, msg) = match answer {
        Answer::Unknown => ("freeze-unknown", format!("{call} {why}")),
        _ => ("freeze-failed", format!("{call} failed: {why}")),
    };
    log.call(Level::Error, name, event, o, msg);
    attempt.problems.push(format!("{name}: {why}"));
}

/// A cluster frozen from its shard master: its checkpoint number, the master's own line, then
/// one line per data server from CheckpointInfo (`host:port`, the journal file that ends at the
/// checkpoint), and the data servers in the master's record (for `status` and the thaw). The
/// checkpoint's journal file is also where a restore of that data server starts: nothing better
/// is known of it from here.
fn cluster_nodes(attempt: &mut Attempt, master: &str, checkpoint: Option<&sharded::Checkpoint>) {
    let Some(c) = checkpoint else {
        return;
    };
    attempt.checkpoint = Some(c.number.clone());
    let nodes: Vec<String> = c
        .data_servers
        .iter()
        .map(sharded::DataServer::name)
        .collect();
    if let Some(rec) = attempt.frozen.instances.get_mut(master) {
        rec.nodes = nodes.clone();
        // Known only now: the record written ahead is written again with them.
        attempt.recorded = false;
    }
    attempt.journals.push((master.to_string(), None, None));
    attempt.journals.extend(c.data_servers.iter().map(|d| {
        let j = Some(d.journal.as_str().to_string());
        (d.name(), j.clone(), j)
    }));
}
