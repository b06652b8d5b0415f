//! `thaw`: thaw exactly what our freeze recorded, straight from the state (every millisecond
//! before ExternalThaw is freeze window), then confirm; or thaw the named instances. A freeze
//! still running (a late pre hook) is told to stop and roll back first.

use std::time::{Duration, Instant};

use anyhow::Result;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::backup::{self, Target, Thawed};
use crate::config::Config;
use crate::discovery::{self, Tools};
use crate::eventlog::{EventLog, Level};
use crate::exit_code::Exit;
use crate::lock::{self, HostLock};
use crate::report::Report;
use crate::session::Stop;
use crate::signals;
use crate::state::{StartMark, State, StateDir};

/// How long a thaw waits for a running freeze to roll back and let go of the host lock.
const LOCK_WAIT: Duration = Duration::from_secs(15);

pub fn run(cfg: &Config, log: &EventLog) -> Result<Report> {
    let start = Instant::now();
    // Signals are noted, not obeyed: an interrupted thaw is worse than a late one.
    signals::install()?;
    let states = StateDir::open(&cfg.state_dir)?;
    let mut lock = take_lock(&states, log)?;
    let mut state = states.load()?;

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
        recorded_targets(&state, cfg)
    } else {
        named_targets(cfg, log)?
    };
    if targets.is_empty() {
        if exit == Exit::Success {
            log.info(
                None,
                "nothing",
                "nothing to thaw: no freeze by iris-freeze is recorded",
            );
            notes.push("nothing to thaw".into());
        }
        mark_start(&mut state);
        states.save(&state)?;
        return Ok(Report::new(exit, notes.join("; ")));
    }

    let outcome = thaw_targets(&mut state, &targets, start, cfg.timeout, log);
    if let Some(l) = lock.as_mut() {
        l.announce("thaw");
    }
    mark_start(&mut state);
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
    let took = start.elapsed().as_secs_f64();
    if outcome.left.is_empty() {
        notes.insert(
            0,
            format!("thawed: {} ({took:.2}s)", outcome.thawed.join(", ")),
        );
        return Ok(Report::new(exit, notes.join("; ")));
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
    Ok(Report::new(
        Exit::Failure,
        format!("thaw FAILED: {names} MAY STILL BE FROZEN (see the log) (exit 1)"),
    ))
}

/// Records when this thaw started, so a freeze that began before it (a late pre hook) refuses.
/// Read after the thaw calls: the process start time is the same whenever it is read, and
/// before ExternalThaw every read is freeze window.
fn mark_start(state: &mut State) {
    if let Some(m) = StartMark::of_self() {
        state.last_thaw_started = Some(m);
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
        crate::state::now_rfc3339()
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
pub struct ThawOutcome {
    pub thawed: Vec<String>,
    /// Instances that may still be frozen; their records stay for the next thaw.
    pub left: Vec<String>,
}

/// The instances the state says we froze, with what reaches each.
pub fn recorded_targets(state: &State, cfg: &Config) -> Vec<Target> {
    state
        .instances
        .iter()
        .map(|(name, rec)| Target {
            name: name.clone(),
            session: rec.session.clone(),
            emergency: rec.emergency.clone(),
            credentials: cfg.credentials.clone(),
        })
        .collect()
}

/// Thaws `targets` at once and confirms each (shared by `thaw` and the watchdog); forgets the
/// confirmed ones in `state`, logging how long each was frozen, and disarms the watchdog once
/// nothing of ours is left.
pub fn thaw_targets(
    state: &mut State,
    targets: &[Target],
    start: Instant,
    timeout: Duration,
    log: &EventLog,
) -> ThawOutcome {
    let thaw_by = start + timeout / 2;
    let confirm_by = start + timeout * 5 / 6;
    let results = backup::each(targets, |t| {
        backup::thaw_and_confirm(t, thaw_by, confirm_by, log)
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

/// `thaw --instance`: thaw those instances whatever the state says.
fn named_targets(cfg: &Config, log: &EventLog) -> Result<Vec<Target>> {
    let tools = Tools::find(&cfg.bin_dirs)?;
    let listing = discovery::list(&tools, Instant::now() + cfg.timeout / 4);
    let selection = discovery::select(&cfg.instances, &listing, &tools)?;
    for inst in &selection.down {
        log.warn(
            Some(&inst.name),
            "skipped",
            format!("{} is {}: nothing to thaw", inst.name, inst.status),
        );
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
