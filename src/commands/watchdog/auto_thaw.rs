//! The watchdog at its deadline: thaw what the state records, or its whole plan when the state
//! cannot be read, way after way (the plan's programs re-checked, then discovery with the
//! freeze's settings, then the guarded names through qlist), and record the AUTO-THAW. What no
//! way thaws is a failure in the log, the history and the journal, with the commands that thaw it.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::commands::state::{AutoThaw, State, StateFile};
use crate::commands::thaw::{self, Reached, ThawOutcome, by_hand};
use crate::config::Config;
use crate::exit_code::Exit;
use crate::host::eventlog::EventLog;
use crate::host::history::{self, Event, EventKind, InstanceEvent};
use crate::host::state::{Damaged, StateDir, now_rfc3339};
use crate::iris::InstanceName;
use crate::iris::backup::Target;
use crate::iris::discovery::{self, Tools};
use crate::report::Report;

use super::plan::Plan;

/// The usual case: the state holds this arming's token and the records of what to thaw.
pub(super) fn recorded(
    cfg: &Config,
    states: &StateDir,
    mut state: State,
    token: &str,
    why: &str,
    plan: &Plan,
    log: &EventLog,
) -> Report {
    if !state.arms(token) {
        return Report::new(Exit::Success, "disarmed");
    }
    let names: Vec<String> = state.instances.keys().cloned().collect();
    if names.is_empty() {
        state.disarm();
        if let Err(e) = states.save(&state) {
            log.error(None, "state", format!("{e:#}"));
        }
        return Report::new(Exit::Success, "nothing frozen at the deadline");
    }
    if let Some(id) = &state.cycle {
        log.set_cycle_id(id);
    }
    announce(&names, why, log);
    // What the state still records, with the programs this watchdog was armed with: those
    // are not looked up again. A record it was not armed with (none, normally) as recorded.
    let todo: Plan = state
        .instances
        .iter()
        .map(|(n, r)| (n.clone(), plan.get(n).unwrap_or(r).clone()))
        .collect();
    let outcome = thaw_plan(cfg, &mut state, &todo, log);
    finish(cfg, Some((states, token)), state, names, outcome, log)
}

/// The state cannot be read (damaged, truncated, naming what no instance can be called, or the
/// state dir itself refused): nothing says whether a thaw came, so the whole plan is thawed (a
/// thaw of an instance that is not frozen only answers 3). The file is moved aside first so
/// that the next run starts clean; a new state records the auto-thaw and what may still be
/// frozen.
pub(super) fn guarded(
    cfg: &Config,
    states: Option<&StateDir>,
    damage: &anyhow::Error,
    why: &str,
    plan: &Plan,
    log: &EventLog,
) -> Report {
    let names: Vec<String> = plan.keys().cloned().collect();
    let moved = states.map(StateDir::move_aside);
    // The log is held: these lines are written after the thaw, stamped now.
    let what = damage
        .downcast_ref::<Damaged>()
        .map_or_else(|| format!("{damage:#}"), Damaged::what);
    let aside = match &moved {
        Some(Ok(to)) => format!("moved it aside to {}", to.display()),
        Some(Err(e)) => format!("cannot move it aside ({e:#})"),
        None => "cannot open the state dir".into(),
    };
    log.error(
        None,
        "state",
        format!(
            "{what}: the watchdog cannot tell from it whether a thaw came; {aside}; thawing \
             the instances it was armed for ({})",
            names.join(", ")
        ),
    );
    if names.is_empty() {
        log.error(
            None,
            "auto-thaw",
            "AUTO-THAW FAILED: the watchdog was armed with no plan and the state cannot be \
             read: run `iris-freeze status` to see what is frozen and `iris-freeze thaw \
             --instance NAME` for each one it shows frozen",
        );
        return Report::new(Exit::Failure, "auto-thaw failed");
    }
    announce(&names, why, log);
    let mut state = State::default();
    let outcome = thaw_plan(cfg, &mut state, plan, log);
    // What may still be frozen is recorded, so that a plain `thaw` tries again.
    for name in &outcome.left {
        if let Some(rec) = plan.get(name) {
            state.instances.insert(name.clone(), rec.clone());
        }
    }
    // Never overwrite a damaged file we could not move: it stays for a person to read.
    let states = states.filter(|_| matches!(moved, Some(Ok(_))));
    finish(cfg, states.map(|s| (s, "")), state, names, outcome, log)
}

/// Thaws `todo` through every way there is: its programs (re-checked) or discovery's (both in
/// `thaw::reach`), then what qlist finds of the guarded names; what none reaches is in the
/// outcome as not thawed, with why. Instances found down afterwards are not frozen.
fn thaw_plan(cfg: &Config, state: &mut State, todo: &Plan, log: &EventLog) -> ThawOutcome {
    let Reached {
        mut targets,
        unreached,
    } = thaw::reach(todo, cfg, log);
    let mut still = Vec::new();
    if !unreached.is_empty() {
        let names: Vec<String> = unreached.iter().map(|u| u.name.clone()).collect();
        let found = by_name(cfg, &names, todo, log);
        for u in unreached {
            match found.iter().find(|t| t.name.eq_ignore_ascii_case(&u.name)) {
                Some(t) => targets.push(t.clone()),
                None => still.push(u),
            }
        }
    }
    let mut outcome = thaw::thaw_targets(state, &targets, cfg.timeout, log);
    for u in still {
        outcome.unreached(u, log);
    }
    if !outcome.left.is_empty() {
        thaw::drop_down(cfg, state, &mut outcome, log);
    }
    outcome
}

/// The last way: `names` as qlist shows them now, through every program discovery finds.
fn by_name(cfg: &Config, names: &[String], todo: &Plan, log: &EventLog) -> Vec<Target> {
    let tools = match Tools::find(&cfg.bin_dirs) {
        Ok(t) => t,
        Err(e) => {
            log.error(None, "discovery", format!("{e:#}"));
            return Vec::new();
        }
    };
    let listing = discovery::list(&tools, Instant::now() + cfg.timeout / 4);
    let mut out = Vec::new();
    for name in names {
        // One at a time: a name qlist no longer shows must not stop the others' thaw.
        let chosen =
            InstanceName::parse(name).and_then(|n| discovery::select(&[n], &listing, &tools));
        match chosen {
            Ok(sel) => out.extend(thaw::reachable(sel, &tools, cfg, log).into_iter().map(
                |(t, _)| {
                    let sharded = todo.get(name).and_then(|r| r.sharded.as_deref());
                    t.with_sharded(sharded)
                },
            )),
            Err(e) => log.error(Some(name), "discovery", format!("{e:#}")),
        }
    }
    out
}

/// `why`: what made it due (its deadline passed, or it was stopped).
fn announce(names: &[String], why: &str, log: &EventLog) {
    log.error(
        None,
        "auto-thaw",
        format!(
            "AUTO-THAW: {why}; thawing {} now. The snapshot taken during this freeze may not be \
             application-consistent",
            names.join(", ")
        ),
    );
}

/// Records the auto-thaw (the next `thaw` reports it, exit 2) in the history and, when there is
/// one to write, the state; and says how it went. `states` comes with the token this watchdog
/// was armed with ("" when it thawed without a readable state).
fn finish(
    cfg: &Config,
    states: Option<(&StateDir, &str)>,
    mut state: State,
    names: Vec<String>,
    outcome: ThawOutcome,
    log: &EventLog,
) -> Report {
    let at = now_rfc3339();
    let how = by_hand_of(&outcome);
    record(cfg, state.cycle.clone(), &at, &outcome, &how, log);
    let words = outcome.words(&names);
    state.auto_thaw = Some(AutoThaw {
        at,
        described: (words != names.join(", ")).then_some(words),
        instances: names,
        all_thawed: outcome.left.is_empty(),
        reported: false,
    });
    state.disarm();
    if state.instances.is_empty() {
        state.cycle = None;
    }
    if let Some((states, token)) = states {
        save_unless_superseded(states, token, &state, log);
    }
    verdict(&outcome, &how, log)
}

/// Writes the state the auto-thaw leaves, unless a freeze re-armed (or a thaw disarmed) while it
/// thawed without the host lock: their records are newer than the copy this watchdog read, and
/// writing it back would drop what a newer freeze froze, with its watchdog's token.
fn save_unless_superseded(states: &StateDir, token: &str, state: &State, log: &EventLog) {
    if !token.is_empty() {
        if let Ok(now) = states.load() {
            if !now.arms(token) {
                log.warn(
                    None,
                    "state",
                    "the state changed while the watchdog thawed (a newer freeze or a thaw wrote \
                     it): its records are kept as they are"
                        .to_string(),
                );
                return;
            }
        }
    }
    if let Err(e) = states.save(state) {
        log.error(None, "state", format!("{e:#}"));
    }
}

/// For each instance left frozen, the commands that thaw it by hand.
fn by_hand_of(outcome: &ThawOutcome) -> BTreeMap<String, String> {
    outcome
        .each
        .iter()
        .filter(|t| outcome.left.contains(&t.name))
        .filter_map(|t| Some((t.name.clone(), by_hand(&t.name, t.record.as_ref()?))))
        .collect()
}

/// The auto-thaw's line in the history: whatever the snapshot, it is not consistent; an
/// instance it could not thaw says why and how to thaw it. Synced to disk after the thaw, as a
/// thaw's is: a snapshot cut after the auto-thaw holds it (`verify` names it).
fn record(
    cfg: &Config,
    cycle: Option<String>,
    at: &str,
    outcome: &ThawOutcome,
    how: &BTreeMap<String, String>,
    log: &EventLog,
) {
    let id = cycle.unwrap_or_else(history::new_id);
    let exit = if outcome.left.is_empty() { 2 } else { 1 };
    let mut e = Event::new(&id, EventKind::AutoThaw, "watchdog", exit);
    for t in &outcome.each {
        let failed = outcome.left.contains(&t.name);
        let why = match how.get(&t.name) {
            Some(cmds) => format!(
                "the watchdog could not thaw it at {at} ({}): it may still be frozen; to \
                 thaw it: {cmds}",
                t.told.problem
            ),
            None if failed => format!("the watchdog could not thaw it at {at}"),
            None => format!("auto-thawed by the watchdog at {at}"),
        };
        e.instances.extend(t.history_lines(InstanceEvent {
            name: t.name.clone(),
            frozen_secs: t.frozen_secs,
            result: if failed { "failed" } else { "auto-thawed" }.into(),
            verdict: Some(history::not_consistent(why)),
            ..Default::default()
        }));
    }
    history::record_synced(&cfg.history_file, &e, log);
}

fn verdict(outcome: &ThawOutcome, how: &BTreeMap<String, String>, log: &EventLog) -> Report {
    if outcome.left.is_empty() {
        let thawed = if outcome.thawed.is_empty() {
            "nothing".to_string()
        } else {
            outcome.thawed.join(", ")
        };
        let down = if outcome.down.is_empty() {
            String::new()
        } else {
            format!("; down, so not frozen: {}", outcome.down.join(", "))
        };
        log.error(
            None,
            "auto-thaw",
            format!("AUTO-THAW done: thawed {thawed}{down}"),
        );
        return Report::new(Exit::Warning, "auto-thawed");
    }
    let cmds: Vec<String> = how.iter().map(|(n, c)| format!("{n}: {c}")).collect();
    log.error(
        None,
        "auto-thaw",
        format!(
            "AUTO-THAW FAILED: {} MAY STILL BE FROZEN. To thaw by hand, {}",
            outcome.left.join(", "),
            if cmds.is_empty() {
                "run `iris-freeze status`, then `iris-freeze thaw --instance NAME`".into()
            } else {
                cmds.join("; ")
            }
        ),
    );
    Report::new(Exit::Failure, "auto-thaw failed")
}
