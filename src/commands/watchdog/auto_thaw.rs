//! The watchdog at its deadline: thaw what the state records (the `thaw` code path), or the
//! instances it was armed for when the state cannot be read, and record the AUTO-THAW.

use std::time::Instant;

use anyhow::Result;

use crate::commands::thaw::{self, ThawOutcome};
use crate::config::{Config, InstanceName};
use crate::exit_code::Exit;
use crate::host::eventlog::EventLog;
use crate::host::history::{self, Event, EventKind, InstanceEvent};
use crate::host::state::{
    AutoThaw, Damaged, Phase, Record, State, StateDir, now_rfc3339, rfc3339_of_ms,
};
use crate::iris::backup::Target;
use crate::iris::discovery::{self, Kind, Tools};
use crate::report::Report;

/// The usual case: the state holds this arming's token and the records of what to thaw.
pub(super) fn recorded(
    cfg: &Config,
    states: &StateDir,
    mut state: State,
    token: &str,
    deadline_ms: i64,
    log: &EventLog,
) -> Result<Report> {
    if state.watchdog.as_ref().map(|w| w.token.as_str()) != Some(token) {
        return Ok(Report::new(Exit::Success, "disarmed"));
    }
    let names: Vec<String> = state.instances.keys().cloned().collect();
    if names.is_empty() {
        state.watchdog = None;
        states.save(&state)?;
        return Ok(Report::new(Exit::Success, "nothing frozen at the deadline"));
    }
    if let Some(id) = &state.cycle {
        log.set_cycle_id(id);
    }
    announce(&names, deadline_ms, log);
    let targets = thaw::recorded_targets(&state, cfg)?;
    let outcome = thaw::thaw_targets(&mut state, &targets, cfg.timeout, log);
    finish(cfg, states, state, names, outcome, log)
}

/// The state cannot be read (damaged, truncated): nothing says whether a thaw came, so the
/// instances this watchdog was armed for are thawed (a thaw of an instance that is not frozen
/// only answers 3), found afresh through discovery. The file is moved aside first so that the
/// next run starts clean; a new state records the auto-thaw and what may still be frozen.
pub(super) fn guarded(
    cfg: &Config,
    states: &StateDir,
    why: &anyhow::Error,
    deadline_ms: i64,
    instances: &[String],
    log: &EventLog,
) -> Result<Report> {
    let moved = states.move_aside();
    // The log is held: these lines are written after the thaw, stamped now.
    let what = why
        .downcast_ref::<Damaged>()
        .map_or_else(|| format!("{why:#}"), Damaged::what);
    match &moved {
        Ok(to) => log.error(
            None,
            "state",
            format!(
                "{what}: the watchdog cannot tell from it whether a thaw came; moved it aside \
                 to {} and thawing the instances it was armed for ({})",
                to.display(),
                instances.join(", ")
            ),
        ),
        Err(e) => log.error(
            None,
            "state",
            format!(
                "{what}: the watchdog cannot tell from it whether a thaw came, and cannot move \
                 it aside ({e:#}); thawing the instances it was armed for ({})",
                instances.join(", ")
            ),
        ),
    }
    let found = discover(cfg, instances, log);
    let targets: Vec<Target> = found.iter().map(|(t, _)| t.clone()).collect();
    let names: Vec<String> = targets.iter().map(|t| t.name.clone()).collect();
    if names.is_empty() {
        log.warn(
            None,
            "auto-thaw",
            format!(
                "AUTO-THAW: none of the instances the watchdog was armed for ({}) is running: \
                 nothing to thaw",
                instances.join(", ")
            ),
        );
        return Ok(Report::new(Exit::Success, "nothing to thaw"));
    }
    announce(&names, deadline_ms, log);
    let mut state = State::default();
    let outcome = thaw::thaw_targets(&mut state, &targets, cfg.timeout, log);
    if moved.is_err() {
        // Never overwrite the damaged file we could not move: it stays for a person to read.
        return Ok(verdict(&outcome, log));
    }
    // What may still be frozen is recorded, so that a plain `thaw` tries again.
    for (t, kind) in found
        .into_iter()
        .filter(|(t, _)| outcome.left.contains(&t.name))
    {
        let mut rec = Record::new(kind, t.session, Phase::Frozen);
        rec.emergency = t.emergency;
        state.instances.insert(t.name, rec);
    }
    finish(cfg, states, state, names, outcome, log)
}

/// The guarded instances as discovery finds them now, each with its product.
fn discover(cfg: &Config, instances: &[String], log: &EventLog) -> Vec<(Target, Kind)> {
    let tools = match Tools::find(&cfg.bin_dirs) {
        Ok(t) => t,
        Err(e) => {
            log.error(None, "discovery", format!("{e:#}"));
            return Vec::new();
        }
    };
    let listing = discovery::list(&tools, Instant::now() + cfg.timeout / 4);
    let mut out = Vec::new();
    for name in instances {
        // One at a time: a name qlist no longer shows must not stop the others' thaw.
        let chosen =
            InstanceName::parse(name).and_then(|n| discovery::select(&[n], &listing, &tools));
        match chosen {
            Ok(sel) => out.extend(thaw::reachable(sel, &tools, cfg, log)),
            Err(e) => log.error(Some(name), "discovery", format!("cannot thaw it: {e:#}")),
        }
    }
    out
}

fn announce(names: &[String], deadline_ms: i64, log: &EventLog) {
    log.error(
        None,
        "auto-thaw",
        format!(
            "AUTO-THAW: no thaw came within --max-freeze (due {}); thawing {} now. The snapshot \
             taken during this freeze may not be application-consistent",
            rfc3339_of_ms(deadline_ms),
            names.join(", ")
        ),
    );
}

/// Records the auto-thaw (the next `thaw` reports it, exit 2), and says how it went.
fn finish(
    cfg: &Config,
    states: &StateDir,
    mut state: State,
    names: Vec<String>,
    outcome: ThawOutcome,
    log: &EventLog,
) -> Result<Report> {
    let at = now_rfc3339();
    record(cfg, state.cycle.clone(), &at, &outcome, log);
    let words = outcome.words(&names);
    state.auto_thaw = Some(AutoThaw {
        at,
        described: (words != names.join(", ")).then_some(words),
        instances: names,
        all_thawed: outcome.left.is_empty(),
        reported: false,
    });
    state.watchdog = None;
    if state.instances.is_empty() {
        state.cycle = None;
    }
    if let Err(e) = states.save(&state) {
        log.error(None, "state", format!("{e:#}"));
    }
    Ok(verdict(&outcome, log))
}

/// The auto-thaw's line in the history: whatever the snapshot, it is not consistent.
fn record(cfg: &Config, cycle: Option<String>, at: &str, outcome: &ThawOutcome, log: &EventLog) {
    let id = cycle.unwrap_or_else(history::new_id);
    let exit = if outcome.left.is_empty() { 2 } else { 1 };
    let mut e = Event::new(&id, EventKind::AutoThaw, "watchdog", exit);
    for t in &outcome.each {
        e.instances.extend(
            t.history_lines(InstanceEvent {
                name: t.name.clone(),
                frozen_secs: t.frozen_secs,
                result: if outcome.left.contains(&t.name) {
                    "failed"
                } else {
                    "auto-thawed"
                }
                .into(),
                verdict: Some(history::not_consistent(format!(
                    "auto-thawed by the watchdog at {at}"
                ))),
                ..Default::default()
            }),
        );
    }
    history::record(&cfg.history_file, &e, log);
}

fn verdict(outcome: &ThawOutcome, log: &EventLog) -> Report {
    if outcome.left.is_empty() {
        log.error(
            None,
            "auto-thaw",
            format!("AUTO-THAW done: thawed {}", outcome.thawed.join(", ")),
        );
        Report::new(Exit::Warning, "auto-thawed")
    } else {
        log.error(
            None,
            "auto-thaw",
            format!(
                "AUTO-THAW FAILED: {} MAY STILL BE FROZEN",
                outcome.left.join(", ")
            ),
        );
        Report::new(Exit::Failure, "auto-thaw failed")
    }
}
