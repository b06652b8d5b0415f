//! `freeze`: check, arm the watchdog, freeze every target in parallel, record what we froze; on
//! any doubt or any stop signal, thaw everything this run froze or may have frozen.
//!
//! The steps, each in its file: `plan` (discovery), `classify` (who is frozen already), `arm`
//! (record and arm the watchdog), `freeze_all`, `rollback`; `summary` words the outcome, and
//! `dry_run` stops before the first ExternalFreeze.

mod arm;
mod classify;
mod dry_run;
mod freeze_all;
mod plan;
mod record;
mod rollback;
mod summary;

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::commands::state::{State, StateFile, state_dir};
use crate::config::Config;
use crate::host::eventlog::EventLog;
use crate::host::history;
use crate::host::lock::{self, HostLock};
use crate::host::signals;
use crate::host::state::{StartMark, StateDir};
use crate::iris::backup::Target;
use crate::iris::discovery::Kind;
use crate::report::Report;

use classify::Classes;
use freeze_all::Attempt;
use record::CycleNote;
use rollback::Undo;

pub(crate) use dry_run::dry_run;

/// A freeze must end this long before its watchdog's deadline, or it rolls back: exit 0 with
/// the auto-thaw about to fire would promise a snapshot that cannot be consistent.
const WATCHDOG_MARGIN: Duration = Duration::from_millis(500);

/// When each part of a freeze must be done, from its start and --timeout.
struct Budget {
    start: Instant,
    /// The end of --timeout.
    deadline: Instant,
    /// The checks and the freeze get the first 60% of the budget; the rest is kept for a
    /// rollback, including the kill grace of a call that timed out.
    freeze_by: Instant,
}

impl Budget {
    fn new(start: Instant, timeout: Duration) -> Budget {
        Budget {
            start,
            deadline: start + timeout,
            freeze_by: start + timeout.mul_f64(0.6),
        }
    }

    /// When every freeze call must end, with the watchdog due at `due`: a freeze never outlives
    /// its own watchdog.
    fn freeze_by_before(&self, due: Instant) -> Instant {
        self.freeze_by
            .min(due.checked_sub(WATCHDOG_MARGIN).unwrap_or(due))
    }

    /// The checks get half of what is left before `freeze_by`.
    fn check_by(&self) -> Instant {
        let now = Instant::now();
        now + self.freeze_by.saturating_duration_since(now) / 2
    }
}

pub(crate) fn run(cfg: &Config, log: &EventLog) -> Result<Report> {
    let budget = Budget::new(Instant::now(), cfg.timeout);
    let started = StartMark::of_self();
    refuse_short_max_freeze(cfg)?;
    signals::install()?;
    let states = state_dir(cfg)?;
    // Never inside another's `run` cycle: its thaw would come under this freeze's snapshot.
    let _no_run = crate::host::run_lock::for_freeze(&states, budget.freeze_by, log)?;
    let _lock = take_lock(&states, budget.freeze_by, log)?;
    let mut state = states.load()?;
    refuse_after_a_thaw(&states, started.as_ref())?;
    stop_if_signalled("before freezing")?;

    let plan = plan::plan(cfg, log, budget.deadline)?;
    if plan::forget_down(&mut state, &plan.down, log) {
        save(&states, &state, log);
    }
    if plan.targets.is_empty() {
        return Ok(summary::nothing_to_freeze(log));
    }
    stop_if_signalled("before freezing")?;
    let note = CycleNote {
        id: history::new_id(),
        about: plan.about,
        local: plan.local,
    };
    freeze_cycle(cfg, &states, &mut state, &plan.targets, note, &budget, log)
}

/// The cycle, once the lock is held and there are targets: check, arm, freeze, record, or roll
/// back.
fn freeze_cycle(
    cfg: &Config,
    states: &StateDir,
    state: &mut State,
    targets: &[(Target, Kind)],
    note: CycleNote,
    budget: &Budget,
    log: &EventLog,
) -> Result<Report> {
    // 1. Who is frozen already? Someone else's freeze is never touched.
    let classes = classify::check(targets, state, budget.check_by(), log);
    if !classes.unreachable.is_empty() || signals::received().is_some() {
        return Ok(give_up(states, state, classes, budget, log));
    }
    // Nothing of ours to freeze or keep: no watchdog either (nothing would ever disarm it).
    if classes.to_freeze.is_empty() && classes.keep.is_empty() {
        save(states, state, log);
        return Ok(summary::success(
            &[],
            &[],
            None,
            &classes.foreign,
            budget.start,
            log,
        ));
    }

    // 2. Record our intent and arm the watchdog before the first ExternalFreeze.
    state.cycle = Some(note.id.clone());
    log.set_cycle_id(&note.id);
    let due = arm::record_and_arm(cfg, states, state, &classes, log)?;
    let freeze_by = budget.freeze_by_before(due);

    // 3. Freeze all at once.
    let mut attempt = freeze_all::freeze_all(
        cfg,
        states,
        state,
        &classes.to_freeze,
        freeze_by,
        &note.id,
        log,
    );
    late_problems(&mut attempt, cfg, budget, due);
    if attempt.problems.is_empty() && recorded(&mut attempt, states, log) {
        return Ok(succeeded(cfg, &note, &attempt, &classes, budget, log));
    }

    // 4. Roll back everything this run froze or may have frozen, and any earlier freeze of ours.
    let what = format!(
        "freeze failed ({}); rolled back",
        attempt.problems.join("; ")
    );
    let mut undo = attempt.ours;
    undo.extend(classes.keep.into_iter().map(Undo::kept));
    let names: Vec<String> = undo.iter().map(|u| u.target.name.clone()).collect();
    let (report, left) = roll_back(states, state, &undo, what, budget, log);
    note.rolled_back(cfg, &names, &left, log);
    Ok(report)
}

/// Writes the freeze to the state; when it cannot, the attempt gets the problem: an unrecorded
/// freeze would never be thawed by `thaw`, so it is rolled back.
fn recorded(attempt: &mut Attempt, states: &StateDir, log: &EventLog) -> bool {
    let Err(e) = attempt.record(states) else {
        return true;
    };
    log.error(None, "state", format!("{e:#}: rolling back"));
    attempt
        .problems
        .push(format!("cannot record the freeze: {e:#}"));
    false
}

fn refuse_short_max_freeze(cfg: &Config) -> Result<()> {
    if cfg.max_freeze <= WATCHDOG_MARGIN {
        bail!(
            "--max-freeze {}s leaves no time to freeze: a freeze must end {}s before its \
             watchdog thaws; give more than {}s (the default is 300)",
            cfg.max_freeze.as_secs_f64(),
            WATCHDOG_MARGIN.as_secs_f64(),
            WATCHDOG_MARGIN.as_secs_f64()
        );
    }
    Ok(())
}

/// The host lock, waited for until `freeze_by` when another iris-freeze holds it.
fn take_lock(states: &StateDir, freeze_by: Instant, log: &EventLog) -> Result<HostLock> {
    let holder = match lock::acquire(states, Instant::now())? {
        Ok(l) => return Ok(announced(l)),
        Err(holder) => holder,
    };
    log.info(
        None,
        "lock",
        format!(
            "waiting for another iris-freeze ({}) to finish",
            describe(holder)
        ),
    );
    match lock::acquire(states, freeze_by)? {
        Ok(l) => Ok(announced(l)),
        Err(holder) => {
            // A stop signal also ends the wait for the lock.
            stop_if_signalled("while waiting for the host lock")?;
            bail!(
                "another iris-freeze is still running ({}) and held the host lock longer than \
                 this freeze may wait: nothing was frozen",
                describe(holder)
            )
        }
    }
}

fn announced(mut lock: HostLock) -> HostLock {
    lock.announce("freeze");
    lock
}

fn describe(holder: Option<lock::Holder>) -> String {
    holder.map_or("unknown pid".into(), |h| {
        format!("{} pid {}", h.command, h.pid)
    })
}

/// A thaw that started after this freeze began means its post hook already ran (Azure runs it
/// after a pre-script timeout): freezing now would stay frozen until the watchdog.
fn refuse_after_a_thaw(states: &StateDir, started: Option<&StartMark>) -> Result<()> {
    let thaw_came_later = match (&states.last_thaw(), started) {
        (Some(thaw), Some(me)) => thaw.after(me),
        _ => false,
    };
    if thaw_came_later {
        bail!(
            "a thaw started after this freeze began (the post hook ran before this pre hook \
             finished, as Azure does after a pre-script timeout): not freezing, so nothing is \
             left frozen"
        );
    }
    Ok(())
}

fn stop_if_signalled(when: &str) -> Result<()> {
    if let Some(sig) = signals::received() {
        bail!("received {} {when}: nothing was frozen", signals::name(sig));
    }
    Ok(())
}

/// A check gave no answer, or a stop signal came, before anything of this run was frozen:
/// what an earlier run of ours left frozen is thawed too.
fn give_up(
    states: &StateDir,
    state: &mut State,
    classes: Classes,
    budget: &Budget,
    log: &EventLog,
) -> Report {
    let what = match signals::received() {
        Some(sig) => format!("received {}", signals::name(sig)),
        None => format!("cannot check {}", classes.unreachable.join("; ")),
    };
    // Our earlier freezes are thawed, the unchecked ones too: "nothing left frozen" must hold.
    let ours = classes.keep.into_iter().chain(classes.unreachable_ours);
    let undo: Vec<Undo> = ours.map(Undo::kept).collect();
    roll_back(
        states,
        state,
        &undo,
        format!("{what}; nothing was frozen"),
        budget,
        log,
    )
    .0
}

/// What can still fail a freeze whose calls all succeeded: a stop signal (its hook runner has
/// given up on this snapshot: never leave it frozen), or too little time left before the
/// watchdog's auto-thaw.
fn late_problems(attempt: &mut Attempt, cfg: &Config, budget: &Budget, due: Instant) {
    if let Some(sig) = signals::received() {
        attempt
            .problems
            .push(format!("received {}", signals::name(sig)));
    }
    let left = due.saturating_duration_since(Instant::now());
    if attempt.problems.is_empty() && left < WATCHDOG_MARGIN {
        attempt.problems.push(format!(
            "the freeze took {:.1}s and left {:.1}s before the watchdog's auto-thaw \
             (--max-freeze {}s), too little for a consistent snapshot: raise --max-freeze",
            budget.start.elapsed().as_secs_f64(),
            left.as_secs_f64(),
            cfg.max_freeze.as_secs_f64()
        ));
    }
}

/// The freeze held: its history line is written last, before we exit (the snapshot holds it).
fn succeeded(
    cfg: &Config,
    note: &CycleNote,
    attempt: &Attempt,
    classes: &Classes,
    budget: &Budget,
    log: &EventLog,
) -> Report {
    let mut foreign = classes.foreign.clone();
    foreign.extend(attempt.raced.iter().cloned());
    // A cluster freeze's journal lines are the master's, then its data servers' (CheckpointInfo).
    let data_servers: Vec<String> = attempt
        .journals
        .iter()
        .filter(|j| j.1.is_some())
        .map(|j| j.0.clone())
        .collect();
    let report = summary::success(
        &attempt.targets(),
        &classes.keep,
        cfg.sharded.is_some().then_some(&data_servers[..]),
        &foreign,
        budget.start,
        log,
    );
    let kept: Vec<String> = classes.keep.iter().map(|t| t.name.clone()).collect();
    note.frozen(
        cfg,
        report.exit.code(),
        (&attempt.journals, attempt.checkpoint.as_deref()),
        &kept,
        &foreign,
        log,
    );
    report
}

/// Thaws `undo`, records what may still be frozen, and reports the failure `what`; with the
/// names that may still be frozen.
fn roll_back(
    states: &StateDir,
    state: &mut State,
    undo: &[Undo],
    what: String,
    budget: &Budget,
    log: &EventLog,
) -> (Report, Vec<String>) {
    let until = rollback::rollback_until(budget.deadline);
    let left = rollback::roll_back(undo, state, until, log);
    if state.instances.is_empty() {
        state.cycle = None;
    }
    save(states, state, log);
    (summary::failed(what, &left, log), left)
}

fn save(states: &StateDir, state: &State, log: &EventLog) {
    if let Err(e) = states.save(state) {
        log.error(None, "state", format!("{e:#}"));
    }
}

#[cfg(test)]
mod tests {
    use crate::iris::backup::MAX_PARALLEL;

    #[test]
    fn freeze_help_states_the_cap() {
        use clap::CommandFactory;
        let mut cli = crate::cli::Cli::command();
        let help = cli
            .find_subcommand_mut("freeze")
            .unwrap()
            .render_long_help()
            .to_string();
        let said = format!("up to {MAX_PARALLEL} instances are frozen at once");
        assert!(help.contains(&said), "{help}");
    }
}
