//! `thaw`: thaw exactly what our freeze recorded, straight from the state (every millisecond
//! before ExternalThaw is freeze window), then confirm; or thaw the named instances. A freeze
//! still running (a late pre hook) is told to stop and roll back first.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::config::{Config, InstanceName};
use crate::exit_code::Exit;
use crate::host::eventlog::{EventLog, Level};
use crate::host::lock::{self, HostLock};
use crate::host::signals;
use crate::host::state::{StartMark, State, StateDir};
use crate::iris::backup::{self, Answer, IS_WD_SUSPENDED, Target, Thawed};
use crate::iris::discovery::{self, Availability, Tools};
use crate::iris::session::Stop;
use crate::report::Report;

/// How long a thaw waits for a running freeze to roll back and let go of the host lock.
const LOCK_WAIT: Duration = Duration::from_secs(15);

pub(crate) fn run(cfg: &Config, log: &EventLog) -> Result<Report> {
    let start = Instant::now();
    // Signals are noted, not obeyed: an interrupted thaw is worse than a late one.
    signals::install()?;
    let states = StateDir::open(&cfg.state_dir)?;
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
        // A damaged state with named instances: thaw them, and leave the file for the others.
        let targets = named_targets(cfg, log, &mut State::default())?;
        let outcome = thaw_targets(&mut State::default(), &targets, cfg.timeout, log);
        let note = "the state file is damaged: thawed the named instances without it, and left \
                    it as it is for the others (exit 2)";
        return Ok(report(
            outcome,
            vec![note.into()],
            Exit::Warning,
            start,
            log,
        ));
    };

    let mut exit = Exit::Success;
    let mut notes = Vec::new();
    if let Some(a) = state.auto_thaw.as_mut().filter(|a| !a.reported) {
        a.reported = true;
        log.warn(
            None,
            "auto-thaw",
            format!(
                "the watchdog already AUTO-THAWED {} at {} ({}): no thaw came within \
                 --max-freeze, so the snapshot may not be application-consistent",
                a.instances.join(", "),
                a.at,
                if a.all_thawed {
                    "all confirmed thawed"
                } else {
                    "not all confirmed"
                }
            ),
        );
        exit = Exit::Warning;
        notes.push(format!(
            "the watchdog auto-thawed {} at {}: the snapshot may not be application-consistent (exit 2)",
            a.instances.join(", "),
            a.at
        ));
    }

    let targets: Vec<Target> = if cfg.instances.is_empty() {
        recorded_targets(&state, cfg)?
    } else {
        let before = state.instances.len();
        let t = named_targets(cfg, log, &mut state)?;
        if state.instances.len() < before {
            exit = exit.max(Exit::Warning);
            notes.push("a recorded instance is down: its record was dropped (exit 2)".into());
        }
        t
    };
    if targets.is_empty() {
        if state.instances.is_empty() && state.watchdog.take().is_some() {
            log.info(
                None,
                "watchdog",
                "nothing of ours is frozen: watchdog disarmed",
            );
        }
        states.save(&state)?;
        if cfg.instances.is_empty() {
            exit = exit.max(look_for_suspended(cfg, log, &mut notes));
        }
        if notes.is_empty() {
            notes.push("nothing to thaw".into());
        }
        return Ok(Report::new(exit, notes.join("; ")));
    }

    let mut outcome = thaw_targets(&mut state, &targets, cfg.timeout, log);
    if let Some(l) = lock.as_mut() {
        l.announce("thaw");
    }
    if !outcome.left.is_empty() && drop_down(cfg, &mut state, &mut outcome, log) {
        exit = exit.max(Exit::Warning);
        notes.push("a recorded instance is down: its record was dropped (exit 2)".into());
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
    if cfg.set_history && outcome.left.is_empty() && exit == Exit::Success {
        set_history(&targets, log);
    }
    Ok(report(outcome, notes, exit, start, log))
}

/// The thaw's summary: what was thawed, or loudly what may still be frozen.
fn report(
    outcome: ThawOutcome,
    mut notes: Vec<String>,
    exit: Exit,
    start: Instant,
    log: &EventLog,
) -> Report {
    let took = start.elapsed().as_secs_f64();
    if outcome.left.is_empty() {
        let thawed = if outcome.thawed.is_empty() {
            "nothing".to_string()
        } else {
            outcome.thawed.join(", ")
        };
        notes.insert(0, format!("thawed: {thawed} ({took:.2}s)"));
        return Report::new(exit, notes.join("; "));
    }
    let names = outcome.left.join(", ");
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
        format!("thaw FAILED: {names} MAY STILL BE FROZEN (see the log) (exit 1)"),
    )
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
    Err(e.context(format!(
        "suspended now, says IRIS: {}",
        suspended.join(", ")
    )))
}

/// With nothing of ours recorded, what IRIS says is suspended all the same (a freeze made with
/// another state dir, or by another tool) is named, with the command that thaws it, and never
/// thawed. Warning when anything is.
fn look_for_suspended(cfg: &Config, log: &EventLog, notes: &mut Vec<String>) -> Exit {
    let suspended = suspended_now(cfg, log);
    if suspended.is_empty() {
        return Exit::Success;
    }
    for name in &suspended {
        log.warn(
            Some(name),
            "suspended",
            format!(
                "{name} is suspended, but no freeze of it by iris-freeze is recorded here (frozen \
                 by another tool, or with another --state-dir): left alone; if it should be \
                 thawed, run `iris-freeze thaw --instance {name}`"
            ),
        );
    }
    notes.push(format!(
        "nothing of ours to thaw, but {} is suspended (not recorded by iris-freeze here): run \
         `iris-freeze thaw --instance NAME` if it should be thawed (exit 2)",
        suspended.join(", ")
    ));
    Exit::Warning
}

/// The running instances IRIS says are suspended. No freeze window is at stake when this runs.
fn suspended_now(cfg: &Config, log: &EventLog) -> Vec<String> {
    let deadline = Instant::now() + cfg.timeout / 2;
    let tools = match Tools::find(&cfg.bin_dirs) {
        Ok(t) => t,
        Err(e) => {
            log.warn(
                None,
                "look",
                format!("cannot look for suspended instances: {e:#}"),
            );
            return Vec::new();
        }
    };
    let listing = discovery::list(&tools, deadline);
    let running: Vec<Target> = listing
        .instances
        .iter()
        .filter(|i| i.running)
        .filter_map(|i| {
            Some(Target {
                session: tools.session_for(&i.name, i.kind).ok()?,
                emergency: None,
                credentials: cfg.credentials.clone(),
                name: i.name.clone(),
            })
        })
        .collect();
    let checks = backup::each(&running, |t| {
        backup::call(t, IS_WD_SUSPENDED, deadline, Stop::Never)
    });
    running
        .into_iter()
        .zip(checks)
        .filter(|(_, (a, _))| *a == Answer::Yes)
        .map(|(t, _)| t.name)
        .collect()
}

/// Instances a thaw could not confirm that qlist shows down: a stopped instance is not frozen
/// (a restart resumes the write daemon), so their records go, with a warning. Whether any went.
fn drop_down(cfg: &Config, state: &mut State, outcome: &mut ThawOutcome, log: &EventLog) -> bool {
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
            dropped = true;
        }
        !down
    });
    if state.instances.is_empty() {
        state.watchdog = None;
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
            Ok(None)
        }
    }
}

fn set_history(targets: &[Target], log: &EventLog) {
    let expr = format!(
        "##Class(Backup.General).ExternalSetHistory(\"\",\"iris-freeze snapshot {}\")",
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

/// What a thaw achieved.
#[derive(Debug, Default)]
pub(crate) struct ThawOutcome {
    pub(crate) thawed: Vec<String>,
    /// Instances that may still be frozen; their records stay for the next thaw.
    pub(crate) left: Vec<String>,
}

/// The instances the state says we froze, each reached through the programs discovery finds
/// now: a program path read from the state is never run (it would let whoever wrote the state
/// choose what root runs).
pub(crate) fn recorded_targets(state: &State, cfg: &Config) -> Result<Vec<Target>> {
    if state.instances.is_empty() {
        return Ok(Vec::new());
    }
    let tools = Tools::find(&cfg.bin_dirs).context("cannot find the programs to thaw with")?;
    state
        .instances
        .iter()
        .map(|(name, rec)| {
            let name = InstanceName::parse(name)
                .with_context(|| format!("the state names an instance {name:?}"))?;
            let name = name.as_str();
            Ok(Target {
                name: name.to_string(),
                session: tools.session_for(name, rec.kind)?,
                emergency: tools.emergency_for(name, rec.kind),
                credentials: cfg.credentials.clone(),
            })
        })
        .collect()
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
    let results = backup::each(targets, |t| {
        backup::thaw_and_confirm(t, Instant::now() + timeout, timeout / 2, log)
    });
    let mut out = ThawOutcome::default();
    for (t, r) in targets.iter().zip(results) {
        if r != Thawed::Confirmed {
            out.left.push(t.name.clone());
            continue;
        }
        // Case-insensitive: a name given with --instance may differ in case from the record.
        let key = state
            .instances
            .keys()
            .find(|k| k.eq_ignore_ascii_case(&t.name))
            .cloned();
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
        state.watchdog = None;
    }
    out
}

/// `thaw --instance`: thaw those instances whatever the state says. A named instance that is
/// down is not frozen: its record, if any, is dropped.
fn named_targets(cfg: &Config, log: &EventLog, state: &mut State) -> Result<Vec<Target>> {
    let tools = Tools::find(&cfg.bin_dirs)?;
    let listing = discovery::list(&tools, Instant::now() + cfg.timeout / 4);
    let selection = discovery::select(&cfg.instances, &listing, &tools)?;
    for inst in &selection.down {
        log.warn(
            Some(&inst.name),
            "skipped",
            format!("{} is {}: nothing to thaw", inst.name, inst.status),
        );
        forget_down(state, &inst.name, log);
    }
    // Up but not accepting logins may be our freeze's doing: ExternalThaw skips the login.
    Ok(selection
        .targets
        .into_iter()
        .chain(selection.unavailable)
        .map(|(i, session)| Target {
            emergency: tools.emergency_for(&i.name, i.kind),
            credentials: cfg.credentials.clone(),
            name: i.name,
            session,
        })
        .collect())
}
