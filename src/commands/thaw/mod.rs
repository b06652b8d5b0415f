//! `thaw`: thaw exactly what our freeze recorded, straight from the state (every millisecond
//! before ExternalThaw is freeze window), then confirm; or thaw the named instances. A freeze
//! still running (a late pre hook) is told to stop and roll back first.

mod look;
mod reach;
mod targets;
mod verdict;

use std::time::{Duration, Instant};

use anyhow::Result;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::commands::state::{State, StateFile, state_dir};
use crate::config::Config;
use crate::exit_code::Exit;
use crate::host::eventlog::{EventLog, Level};
use crate::host::history::{self, Event, EventKind, InstanceEvent};
use crate::host::lock::{self, HostLock};
use crate::host::process::Stop;
use crate::host::signals;
use crate::host::state::{StartMark, StateDir};
use crate::iris::backup::{self, Target, Thawed};
use crate::report::Report;

use look::{look_for_suspended, suspended_now};
use targets::named_targets;

pub(crate) use reach::{Reached, by_hand, reach};
pub(crate) use targets::{ThawOutcome, drop_down, reachable, thaw_targets};
pub(crate) use verdict::CONSISTENT;

/// How long a thaw waits for a running freeze to roll back and let go of the host lock.
pub(crate) const LOCK_WAIT: Duration = Duration::from_secs(15);

/// Says why an instance's record went; it makes the thaw's exit 2.
const DOWN_NOTE: &str = "a recorded instance is down: its record was dropped (exit 2)";

pub(crate) fn run(cfg: &Config, log: &EventLog) -> Result<Report> {
    let start = Instant::now();
    // Signals are noted, not obeyed: an interrupted thaw is worse than a late one.
    signals::install()?;
    let states = state_dir(cfg)?;
    // Known before waiting for the lock: a freeze that began before this thaw refuses, even
    // one that gets the lock first.
    let marked = StartMark::of_self().map(|m| states.mark_thaw(&m));
    let mut lock = take_lock(&states, log)?;
    if let Some(Err(e)) = marked {
        log.warn(
            None,
            "state",
            format!("{e:#}: a late freeze may not see this thaw"),
        );
    }
    let Some(mut state) = load_state(&states, cfg, log)? else {
        return thaw_without_state(cfg, start, log);
    };
    if let Some(id) = &state.cycle {
        log.set_cycle_id(id);
    }
    let mut notes = Notes::new();
    report_auto_thaw(&mut state, &mut notes, log);
    let Reached { targets, unreached } = choose_targets(cfg, &mut state, &mut notes, log)?;
    if targets.is_empty() && unreached.is_empty() {
        return nothing_to_thaw(cfg, &states, state, notes, log);
    }

    let mut outcome = thaw_targets(&mut state, &targets, cfg.timeout, log);
    for u in unreached {
        outcome.unreached(u, log);
    }
    // Said after the thaw, not before it: a warning is no reason to hold IRIS frozen longer.
    say_a_run_was_under_it(&states, log);
    if let Some(l) = lock.as_mut() {
        l.announce("thaw");
    }
    if !outcome.left.is_empty() && drop_down(cfg, &mut state, &mut outcome, log) {
        notes.warn(DOWN_NOTE);
    }
    let cycle = state.cycle.clone();
    if state.instances.is_empty() {
        state.cycle = None;
    }
    if let Err(e) = states.save(&state) {
        log.error(None, "state", format!("{e:#}"));
    }
    if let Some(sig) = signals::received() {
        log.warn(
            None,
            "signal",
            format!(
                "received {} during the thaw: finished the thaw first",
                signals::name(sig)
            ),
        );
    }
    // Recording the backup counts towards journal purging: only after a clean thaw of a
    // snapshot we vouch for, and only when the config asks.
    let verdicts = judge(cfg, cycle.as_deref(), &outcome, &mut notes, log);
    if cfg.set_history && outcome.left.is_empty() && notes.exit == Exit::Success {
        set_history(&targets, log);
    }
    let r = report(&outcome, notes, start, log);
    record_thaw(cfg, cycle, &outcome, &verdicts, r.exit, log);
    Ok(r)
}

/// Each recorded instance's verdict; one that is not `consistent` makes the exit 2 and is
/// said in the summary.
fn judge(
    cfg: &Config,
    cycle: Option<&str>,
    outcome: &ThawOutcome,
    notes: &mut Notes,
    log: &EventLog,
) -> Vec<Option<String>> {
    // Read only now, after every ExternalThaw: never a moment of freeze window.
    let frozen = cycle.map(|id| verdict::FreezeLines::of_cycle(&cfg.history_file, id));
    let verdicts: Vec<Option<String>> = outcome
        .each
        .iter()
        .map(|t| {
            let v = verdict::decide(t, &cfg.freeze_options, outcome.down.contains(&t.name));
            match (v, &frozen) {
                (Some(v), Some(f)) if v == CONSISTENT => Some(f.second_signal(&t.name, v)),
                (v, _) => v,
            }
        })
        .collect();
    for (t, v) in outcome.each.iter().zip(&verdicts) {
        let Some(v) = v else { continue };
        if v == CONSISTENT {
            log.info(
                Some(&t.name),
                "verdict",
                "snapshot consistent: frozen by us until our thaw",
            );
            continue;
        }
        log.warn(Some(&t.name), "verdict", format!("snapshot {v}"));
        notes.warn(format!("{}: {v} (exit 2)", t.name));
    }
    verdicts
}

/// The thaw's line in the history, under the cycle id the freeze recorded; none when no
/// instance of ours was thawed (a thaw of someone else's freeze is not our cycle). Synced to
/// disk as the freeze's is, after every ExternalThaw (no freeze window): a snapshot cut after the
/// thaw holds it, and `verify` says so.
fn record_thaw(
    cfg: &Config,
    cycle: Option<String>,
    outcome: &ThawOutcome,
    verdicts: &[Option<String>],
    exit: Exit,
    log: &EventLog,
) {
    if verdicts.iter().all(Option::is_none) {
        return;
    }
    let id = cycle.unwrap_or_else(history::new_id);
    let by = history::by(cfg.invoked_as.as_deref(), "thaw");
    let mut e = Event::new(&id, EventKind::Thaw, &by, exit.code()).with_job(cfg.job_parts());
    for (t, v) in outcome.each.iter().zip(verdicts) {
        let Some(v) = v else { continue };
        let result = if outcome.down.contains(&t.name) {
            "down"
        } else if outcome.left.contains(&t.name) {
            "failed"
        } else {
            "thawed"
        };
        e.instances.extend(t.history_lines(InstanceEvent {
            name: t.name.clone(),
            frozen_secs: t.frozen_secs,
            result: result.into(),
            verdict: Some(v.clone()),
            ..Default::default()
        }));
    }
    history::record_synced(&cfg.history_file, &e, log);
}

/// The exit so far, and the notes that say why, for the summary.
pub(super) struct Notes {
    exit: Exit,
    text: Vec<String>,
}

impl Notes {
    fn new() -> Notes {
        Notes {
            exit: Exit::Success,
            text: Vec::new(),
        }
    }

    /// A note that makes the exit at least 2.
    pub(super) fn warn(&mut self, note: impl Into<String>) {
        self.exit = self.exit.max(Exit::Warning);
        self.text.push(note.into());
    }
}

/// A damaged state with named instances: thaw them, and leave the file for the others.
fn thaw_without_state(cfg: &Config, start: Instant, log: &EventLog) -> Result<Report> {
    let targets = named_targets(cfg, log, &mut State::default())?;
    let outcome = thaw_targets(&mut State::default(), &targets, cfg.timeout, log);
    let mut notes = Notes::new();
    notes.warn(
        "the state file is damaged: thawed the named instances without it, and left it as it \
         is for the others (exit 2)",
    );
    Ok(report(&outcome, notes, start, log))
}

/// An auto-thaw not reported yet is reported now, once: the snapshot it cut short may not be
/// application-consistent.
fn report_auto_thaw(state: &mut State, notes: &mut Notes, log: &EventLog) {
    let Some(a) = state.auto_thaw.as_mut().filter(|a| !a.reported) else {
        return;
    };
    a.reported = true;
    log.warn(
        None,
        "auto-thaw",
        format!(
            "the watchdog already AUTO-THAWED {} at {} ({}): no thaw came within \
             --max-freeze, so the snapshot may not be application-consistent",
            a.described
                .clone()
                .unwrap_or_else(|| a.instances.join(", ")),
            a.at,
            if a.all_thawed {
                "all confirmed thawed"
            } else {
                "not all confirmed"
            }
        ),
    );
    notes.warn(format!(
        "{} (exit 2)",
        history::not_consistent(format!(
            "the watchdog auto-thawed {} at {}",
            a.described
                .clone()
                .unwrap_or_else(|| a.instances.join(", ")),
            a.at
        ))
    ));
}

/// The recorded instances, through the programs the freeze recorded, or the named ones
/// (dropping the records of those found down).
fn choose_targets(
    cfg: &Config,
    state: &mut State,
    notes: &mut Notes,
    log: &EventLog,
) -> Result<Reached> {
    if cfg.instances.is_empty() {
        return Ok(reach(&state.instances, cfg, log));
    }
    let before = state.instances.len();
    let targets = named_targets(cfg, log, state)?;
    if state.instances.len() < before {
        notes.warn(DOWN_NOTE);
    }
    Ok(Reached {
        targets,
        unreached: Vec::new(),
    })
}

/// Nothing to thaw: the watchdog is disarmed if nothing of ours is left, and a plain thaw
/// names what IRIS says is suspended all the same.
fn nothing_to_thaw(
    cfg: &Config,
    states: &StateDir,
    mut state: State,
    mut notes: Notes,
    log: &EventLog,
) -> Result<Report> {
    if state.instances.is_empty() && state.disarm() {
        log.info(
            None,
            "watchdog",
            "nothing of ours is frozen: watchdog disarmed",
        );
    }
    states.save(&state)?;
    if cfg.instances.is_empty() {
        look_for_suspended(cfg, log, &mut notes);
    }
    if notes.text.is_empty() {
        notes.text.push("nothing to thaw".into());
    }
    Ok(Report::new(notes.exit, notes.text.join("; ")))
}

/// The thaw's summary: what was thawed, or loudly what may still be frozen.
fn report(outcome: &ThawOutcome, notes: Notes, start: Instant, log: &EventLog) -> Report {
    let Notes {
        exit,
        text: mut notes,
    } = notes;
    let took = start.elapsed().as_secs_f64();
    if outcome.left.is_empty() {
        let thawed = if outcome.thawed.is_empty() {
            "nothing".to_string()
        } else {
            outcome.words(&outcome.thawed)
        };
        notes.insert(0, format!("thawed: {thawed} ({took:.2}s)"));
        return Report::new(exit, notes.join("; "));
    }
    let names = outcome.left.join(", ");
    let why = cluster_problems(outcome);
    log.error(
        None,
        "failed",
        format!(
            "ATTENTION: {names} MAY STILL BE FROZEN: users will block once the global buffers \
             fill or ExternalFreezeTimeOut passes. Run `iris-freeze thaw` again, check with \
             `iris-freeze status`, and as a last resort run `iris stat NAME -W` (IRIS)"
        ),
    );
    Report::new(
        Exit::Failure,
        format!("thaw FAILED: {names} MAY STILL BE FROZEN{why} (see the log) (exit 1)"),
    )
}

/// A thaw is never held back by a `run`, but a run's CMD may have been taking its snapshot:
/// the log says so, and that `run` exits 2. The run holds its lock until its own thaw, which
/// waits for ours, so it is still seen here.
fn say_a_run_was_under_it(states: &StateDir, log: &EventLog) {
    if let Some(run) = crate::host::run_lock::running_run(states) {
        log.warn(
            None,
            "run",
            format!(
                "an `iris-freeze run` (pid {}) is running its CMD under this freeze: thawed it \
                 anyway, so its snapshot may not be consistent; that run will exit 2",
                run.pid
            ),
        );
    }
}

/// What a failed cluster thaw said (it names the data server that did not resume), so the
/// summary names it too: `: cluster NS: ...`, or nothing when no cluster thaw failed.
fn cluster_problems(outcome: &ThawOutcome) -> String {
    let told: Vec<String> = outcome
        .each
        .iter()
        .filter(|t| t.thawed != Thawed::Confirmed)
        .filter_map(|t| {
            let ns = t.record.as_ref()?.sharded.as_ref()?;
            Some(format!("cluster {ns}: {}", t.told.problem))
        })
        .collect();
    if told.is_empty() {
        return String::new();
    }
    format!(" ({})", told.join("; "))
}

/// The recorded state. A damaged one stops a plain thaw (it would not know what is ours), after
/// naming what IRIS says is suspended; `None` lets a thaw of named instances go on without it
/// (they need no record).
fn load_state(states: &StateDir, cfg: &Config, log: &EventLog) -> Result<Option<State>> {
    let e = match states.load() {
        Ok(s) => return Ok(Some(s)),
        Err(e) => e,
    };
    if !cfg.instances.is_empty() {
        log.warn(
            None,
            "state",
            format!("{e:#}; thawing the named instances without it"),
        );
        return Ok(None);
    }
    let suspended = suspended_now(cfg, log);
    if suspended.is_empty() {
        return Err(e);
    }
    // The exact commands: the names as IRIS gave them, quoted for a shell.
    let mut argv: Vec<std::ffi::OsString> = vec!["iris-freeze".into(), "thaw".into()];
    for name in &suspended {
        argv.extend(["--instance".into(), name.into()]);
    }
    Err(e.context(format!(
        "suspended now, says IRIS: {}; to thaw them: `{}`",
        suspended.join(", "),
        crate::util::shell::display_argv(&argv)
    )))
}

/// The host lock. A `freeze` holding it is a pre hook still running after its runner gave up:
/// it is told to stop (SIGTERM, after checking it is that very process) and rolls back. If the
/// lock stays busy, the thaw goes ahead anyway: thawing matters more than serialising.
fn take_lock(states: &StateDir, log: &EventLog) -> Result<Option<HostLock>> {
    let holder = match lock::acquire(states, Instant::now())? {
        Ok(l) => return Ok(Some(l)),
        Err(h) => h,
    };
    match holder.filter(|h| h.command == "freeze" && h.is_alive()) {
        Some(h) => {
            log.warn(
                None,
                "freeze-running",
                format!(
                    "a freeze (pid {}) is still running: telling it to stop and roll back",
                    h.pid
                ),
            );
            let _ = kill(Pid::from_raw(h.pid), Signal::SIGTERM);
        }
        None => log.info(None, "lock", "waiting for another iris-freeze to finish"),
    }
    match lock::acquire(states, Instant::now() + LOCK_WAIT)? {
        Ok(l) => Ok(Some(l)),
        Err(h) => {
            log.error(
                None,
                "lock",
                format!("the host lock is still held after {LOCK_WAIT:?} ({h:?}): thawing anyway"),
            );
            lock::hold_when_free(states, "thaw");
            Ok(None)
        }
    }
}

fn set_history(targets: &[Target], log: &EventLog) {
    let expr = format!(
        "{}(\"\",\"iris-freeze snapshot {}\")",
        crate::iris::calls::EXTERNAL_SET_HISTORY_METHOD,
        crate::host::state::now_rfc3339()
    );
    let by = Instant::now() + Duration::from_secs(10);
    let results = backup::each(targets, |t| backup::call(t, &expr, by, Stop::Never));
    for (t, (answer, o)) in targets.iter().zip(results) {
        match answer {
            backup::Answer::Yes => log.call(
                Level::Info,
                &t.name,
                "history",
                &o,
                "ExternalSetHistory recorded the backup",
            ),
            _ => log.call(
                Level::Warn,
                &t.name,
                "history",
                &o,
                format!("ExternalSetHistory {}", backup::problem(t, &expr, &o)),
            ),
        }
    }
}
