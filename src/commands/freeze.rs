//! `freeze`: check, arm the watchdog, freeze every target in parallel, record what we froze; on
//! any doubt or any stop signal, thaw everything this run froze or may have frozen.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::commands::watchdog;
use crate::config::MirrorPolicy;
use crate::config::{Config, IRIS_BLOCKS_AFTER};
use crate::exit_code::Exit;
use crate::host::eventlog::{EventLog, Level};
use crate::host::lock;
use crate::host::signals;
use crate::host::state::{
    Phase, Record, StartMark, State, StateDir, Watchdog, now_ms, now_rfc3339, rfc3339_of_ms,
};
use crate::iris::backup::{self, Answer, EXTERNAL_FREEZE, IS_WD_SUSPENDED, Target, Thawed};
use crate::iris::discovery::{self, Availability, Kind, Tools};
use crate::iris::session::{End, Stop};
use crate::report::Report;

/// A rollback always gets at least this long, even past --timeout: thawing comes first.
const MIN_ROLLBACK: Duration = Duration::from_secs(5);
/// After a stop signal the whole rollback must fit before VMware's SIGKILL, 5 s after its SIGTERM.
const SIGNAL_ROLLBACK: Duration = Duration::from_secs(4);
/// A re-armed watchdog is never due later than this after the oldest freeze still in place.
const REARM_CAP: Duration = Duration::from_secs(IRIS_BLOCKS_AFTER.as_secs() - 10);
/// A freeze must end this long before its watchdog's deadline, or it rolls back: exit 0 with
/// the auto-thaw about to fire would promise a snapshot that cannot be consistent.
const WATCHDOG_MARGIN: Duration = Duration::from_millis(500);
/// IRIS's refusal when the write daemon is already suspended ("cannot run with switch 10 or 13
/// already set"): someone else froze it between our check and our ExternalFreeze.
const ALREADY_SUSPENDED: &str = "already set";

pub(crate) fn run(cfg: &Config, log: &EventLog) -> Result<Report> {
    let start = Instant::now();
    let started = StartMark::of_self();
    if cfg.max_freeze <= WATCHDOG_MARGIN {
        bail!(
            "--max-freeze {}s leaves no time to freeze: a freeze must end {}s before its \
             watchdog thaws; give more than {}s (the default is 300)",
            cfg.max_freeze.as_secs_f64(),
            WATCHDOG_MARGIN.as_secs_f64(),
            WATCHDOG_MARGIN.as_secs_f64()
        );
    }
    signals::install()?;
    let deadline = start + cfg.timeout;
    // The checks and the freeze get the first 60% of the budget; the rest is kept for a
    // rollback, including the kill grace of a call that timed out.
    let freeze_by = start + cfg.timeout.mul_f64(0.6);

    let states = StateDir::open(&cfg.state_dir)?;
    let first_try = lock::acquire(&states, Instant::now())?;
    let waited = match first_try {
        Ok(l) => Ok(l),
        Err(holder) => {
            log.info(
                None,
                "lock",
                format!(
                    "waiting for another iris-freeze ({}) to finish",
                    holder.map_or("unknown pid".into(), |h| format!(
                        "{} pid {}",
                        h.command, h.pid
                    ))
                ),
            );
            lock::acquire(&states, freeze_by)?
        }
    };
    let _lock = match waited {
        Ok(mut l) => {
            l.announce("freeze");
            l
        }
        Err(holder) => {
            // A stop signal also ends the wait for the lock.
            stop_if_signalled("while waiting for the host lock")?;
            bail!(
                "another iris-freeze is still running ({}) and held the host lock longer than \
                 this freeze may wait: nothing was frozen",
                holder.map_or("unknown pid".into(), |h| format!(
                    "{} pid {}",
                    h.command, h.pid
                ))
            )
        }
    };
    let mut state = states.load()?;
    let thaw_came_later = match (&states.last_thaw(), &started) {
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
    stop_if_signalled("before freezing")?;

    let plan = plan(cfg, log, deadline)?;
    if forget_down(&mut state, &plan.down, log) {
        save(&states, &state, log);
    }
    if plan.targets.is_empty() {
        return Ok(nothing_to_freeze(log));
    }
    let targets = plan.targets;
    stop_if_signalled("before freezing")?;

    // 1. Who is frozen already? Someone else's freeze is never touched.
    let check_by = Instant::now() + freeze_by.saturating_duration_since(Instant::now()) / 2;
    let checks = backup::each(&targets, |(t, _)| {
        backup::call(t, IS_WD_SUSPENDED, check_by, Stop::OnSignal)
    });
    let mut to_freeze: Vec<(Target, Kind)> = Vec::new();
    let mut ours_already: Vec<Target> = Vec::new();
    let mut foreign: Vec<String> = Vec::new();
    let mut unreachable: Vec<String> = Vec::new();
    for ((t, kind), (answer, o)) in targets.iter().zip(&checks) {
        let name = t.name.as_str();
        match answer {
            Answer::No => {
                if state.instances.remove(name).is_some() {
                    log.info(
                        Some(name),
                        "stale",
                        "our earlier freeze record is stale (not suspended now): dropped",
                    );
                }
                log.call(Level::Info, name, "check", o, "not suspended: will freeze");
                to_freeze.push((t.clone(), *kind));
            }
            Answer::Yes => match state.instances.get(name) {
                Some(rec) => {
                    log.call(
                        Level::Warn,
                        name,
                        "still-frozen",
                        o,
                        format!(
                            "still frozen by an earlier iris-freeze (pid {}) since {} ({:.0}s \
                             ago), whose thaw never came: keeping it frozen",
                            rec.pid,
                            rec.since,
                            rec.age_secs().unwrap_or(0.0)
                        ),
                    );
                    ours_already.push(t.clone());
                }
                None => {
                    log.call(
                        Level::Warn,
                        name,
                        "foreign",
                        o,
                        "already frozen by someone else: left alone (neither frozen nor thawed \
                         by iris-freeze); its consistency is not ours to promise",
                    );
                    foreign.push(name.to_string());
                }
            },
            Answer::Unknown => {
                let why = backup::problem(t, IS_WD_SUSPENDED, o);
                log.call(
                    Level::Error,
                    name,
                    "check-failed",
                    o,
                    format!("cannot check: {why}"),
                );
                unreachable.push(format!("{name}: {why}"));
            }
        }
    }
    if !unreachable.is_empty() || signals::received().is_some() {
        // Nothing of this run is frozen yet; what an earlier run left frozen goes too.
        let rollback: Vec<(Target, Answer, bool)> = ours_already
            .into_iter()
            .map(|t| (t, Answer::Yes, false))
            .collect();
        let what = match signals::received() {
            Some(sig) => format!("received {}", signals::name(sig)),
            None => format!("cannot check {}", unreachable.join("; ")),
        };
        let left = roll_back(&rollback, &mut state, rollback_until(deadline), log);
        save(&states, &state, log);
        return Ok(failed(format!("{what}; nothing was frozen"), &left, log));
    }

    // Nothing of ours to freeze or keep: no watchdog either (nothing would ever disarm it).
    if to_freeze.is_empty() && ours_already.is_empty() {
        save(&states, &state, log);
        return Ok(success(&[], &[], &foreign, start, log));
    }

    // 2. Record our intent and arm the watchdog before the first ExternalFreeze: whatever
    //    happens next (even a SIGKILL of this process), `thaw` and the watchdog know what may
    //    be frozen.
    for (t, kind) in &to_freeze {
        let mut rec = Record::new(*kind, t.session.clone(), Phase::Freezing);
        rec.emergency = t.emergency.clone();
        state.instances.insert(t.name.clone(), rec);
    }
    let due = arm_watchdog(cfg, &states, &mut state, &ours_already, log)?;
    // Every call ends before the watchdog would thaw: a freeze never outlives its own watchdog.
    let freeze_by = freeze_by.min(due.checked_sub(WATCHDOG_MARGIN).unwrap_or(due));

    // 3. Freeze all at once. The record of success is written first: once ExternalFreeze
    //    returns, every step is freeze window. So a record says `frozen` from the moment
    //    ExternalFreeze is called (`since`); a failure rewrites it during the rollback, and
    //    the thaw and the watchdog treat `freezing` and `frozen` alike.
    let mut frozen = state.clone();
    let frozen_at = now_rfc3339();
    for (t, _) in &to_freeze {
        if let Some(rec) = frozen.instances.get_mut(&t.name) {
            rec.phase = Phase::Frozen;
            rec.since = frozen_at.clone();
        }
    }
    frozen.auto_thaw = None;
    // If it cannot be written ahead, it is written after (the error, if it lasts, shows then).
    let recorded = states.save(&frozen).is_ok();
    let freezes = backup::each(&to_freeze, |(t, kind)| {
        let expr = backup::external_freeze(&cfg.freeze_options, *kind);
        backup::call(t, &expr, freeze_by, Stop::OnSignal)
    });
    let mut problems = Vec::new();
    for ((t, _), (answer, o)) in to_freeze.iter().zip(&freezes) {
        let name = t.name.as_str();
        match answer {
            Answer::Yes => log.call(
                Level::Info,
                name,
                "frozen",
                o,
                "ExternalFreeze succeeded: write daemon suspended",
            ),
            Answer::No if o.lines().any(|l| l.contains(ALREADY_SUSPENDED)) => {
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
                frozen.instances.remove(name);
                foreign.push(name.to_string());
            }
            Answer::No => {
                let why = backup::problem(t, EXTERNAL_FREEZE, o);
                log.call(
                    Level::Error,
                    name,
                    "freeze-failed",
                    o,
                    format!("ExternalFreeze failed: {why}"),
                );
                problems.push(format!("{name}: {why}"));
            }
            Answer::Unknown => {
                let why = backup::problem(t, EXTERNAL_FREEZE, o);
                log.call(
                    Level::Error,
                    name,
                    "freeze-unknown",
                    o,
                    format!("ExternalFreeze {why}"),
                );
                problems.push(format!("{name}: {why}"));
            }
        }
    }
    // A hook runner that sent a stop signal has given up on this snapshot: never leave it frozen.
    if let Some(sig) = signals::received() {
        problems.push(format!("received {}", signals::name(sig)));
    }
    let left = due.saturating_duration_since(Instant::now());
    if problems.is_empty() && left < WATCHDOG_MARGIN {
        problems.push(format!(
            "the freeze took {:.1}s and left {:.1}s before the watchdog's auto-thaw \
             (--max-freeze {}s), too little for a consistent snapshot: raise --max-freeze",
            start.elapsed().as_secs_f64(),
            left.as_secs_f64(),
            cfg.max_freeze.as_secs_f64()
        ));
    }

    let raced = to_freeze.iter().any(|(t, _)| foreign.contains(&t.name));
    if raced && frozen.instances.is_empty() {
        // Nothing of ours is frozen after all: nothing for a watchdog to guard.
        frozen.watchdog = None;
        state.watchdog = None;
    }
    if problems.is_empty() {
        let saved = if recorded && !raced {
            Ok(())
        } else {
            states.save(&frozen)
        };
        match saved {
            Ok(()) => {
                let ours: Vec<(Target, Kind)> = to_freeze
                    .iter()
                    .filter(|(t, _)| !foreign.contains(&t.name))
                    .cloned()
                    .collect();
                return Ok(success(&ours, &ours_already, &foreign, start, log));
            }
            Err(e) => {
                // An unrecorded freeze would never be thawed by `thaw`: undo it.
                log.error(None, "state", format!("{e:#}: rolling back"));
                problems.push(format!("cannot record the freeze: {e:#}"));
            }
        }
    }

    // 4. Roll back everything this run froze or may have frozen, and any earlier freeze of ours.
    let mut rollback: Vec<(Target, Answer, bool)> = to_freeze
        .iter()
        .zip(&freezes)
        .filter(|((t, _), _)| !foreign.contains(&t.name))
        .map(|((t, _), (a, o))| {
            let lingering = matches!(
                o.end,
                End::TimedOut {
                    still_running: true,
                    ..
                }
            );
            (t.clone(), *a, lingering)
        })
        .collect();
    rollback.extend(ours_already.into_iter().map(|t| (t, Answer::Yes, false)));
    let left = roll_back(&rollback, &mut state, rollback_until(deadline), log);
    save(&states, &state, log);
    Ok(failed(
        format!("freeze failed ({}); rolled back", problems.join("; ")),
        &left,
        log,
    ))
}

/// What discovery found for a freeze.
struct Plan {
    /// The running instances to freeze, with their kind.
    targets: Vec<(Target, Kind)>,
    /// Every instance qlist shows down.
    down: Vec<String>,
}

/// Discovery and target selection, shared by `freeze` and `dry-run`.
fn plan(cfg: &Config, log: &EventLog, deadline: Instant) -> Result<Plan> {
    let tools = Tools::find(&cfg.bin_dirs)?;
    for r in &tools.refused {
        log.warn(
            None,
            "unsafe-program",
            format!("{} skipped: {}", r.path.display(), r.why),
        );
    }
    let listing = discovery::list(&tools, deadline);
    for e in &listing.errors {
        log.warn(None, "discovery", e);
    }
    let selection = discovery::select(&cfg.instances, &listing, &tools)?;
    selection.refuse_unavailable()?;
    for inst in &selection.down {
        log.warn(
            Some(&inst.name),
            "skipped",
            format!(
                "{} is {}: skipped (a stopped instance's files are already consistent)",
                inst.name, inst.status
            ),
        );
    }
    for (inst, _) in &selection.targets {
        if !inst.mirror_status.eq_ignore_ascii_case("primary") {
            continue;
        }
        let advice = "a freeze that outlasts ExternalFreezeTimeOut, or a VM pause longer than \
                      the mirror QoS timeout (8 s by default), can make the mirror fail over; \
                      snapshot the backup member instead, or raise the QoS timeout";
        if cfg.mirror_primary == MirrorPolicy::Refuse {
            bail!(
                "{} is the {} mirror primary and the config refuses to freeze a primary \
                 (mirror_primary = \"refuse\"): nothing was frozen. Why: {advice}",
                inst.name,
                if inst.mirror_type.is_empty() {
                    ""
                } else {
                    inst.mirror_type.as_str()
                }
            );
        }
        log.warn(
            Some(&inst.name),
            "mirror-primary",
            format!(
                "{} is the mirror primary: {advice} (set mirror_primary = \"refuse\" in the \
                 config to refuse)",
                inst.name
            ),
        );
    }
    let targets = selection
        .targets
        .iter()
        .map(|(i, cmd)| {
            let t = Target {
                name: i.name.clone(),
                session: cmd.clone(),
                emergency: tools.emergency_for(&i.name, i.kind),
                credentials: cfg.credentials.clone(),
            };
            (t, i.kind)
        })
        .collect();
    // Every instance qlist shows down, named in this run or not: a record of one is stale.
    let down = listing
        .instances
        .iter()
        .filter(|i| i.availability() == Availability::Down)
        .map(|i| i.name.clone())
        .collect();
    Ok(Plan { targets, down })
}

fn nothing_to_freeze(log: &EventLog) -> Report {
    log.warn(None, "nothing", "no running instance: nothing to freeze");
    Report::new(
        Exit::Success,
        "nothing to freeze: no running IRIS or Caché instance",
    )
}

/// Drops the records of instances qlist shows down: a stopped instance is not frozen (a
/// restart resumes the write daemon), and its old record must neither shorten this freeze's
/// watchdog nor fail every later thaw. Whether any went.
fn forget_down(state: &mut State, down: &[String], log: &EventLog) -> bool {
    let gone: Vec<String> = state
        .instances
        .keys()
        .filter(|k| down.iter().any(|d| d.eq_ignore_ascii_case(k)))
        .cloned()
        .collect();
    for name in &gone {
        if let Some(rec) = state.instances.remove(name) {
            log.warn(
                Some(name),
                "down",
                format!(
                    "{name} is down: our record of freezing it (since {}) is stale, since a \
                     restart resumes the write daemon: record dropped",
                    rec.since
                ),
            );
        }
    }
    if !gone.is_empty() && state.instances.is_empty() {
        state.watchdog = None;
    }
    !gone.is_empty()
}

/// `dry-run`: everything `freeze` checks before its first ExternalFreeze, and nothing else.
/// The exit is what `freeze` would give: 0, 2 (one already frozen by someone else) or 1.
pub(crate) fn dry_run(cfg: &Config, log: &EventLog) -> Result<Report> {
    let deadline = Instant::now() + cfg.timeout;
    let targets = plan(cfg, log, deadline)?.targets;
    if targets.is_empty() {
        return Ok(nothing_to_freeze(log));
    }
    let ours = StateDir::open(&cfg.state_dir)
        .and_then(|s| s.load())
        .map(|s| s.instances)
        .unwrap_or_default();
    let checks = backup::each(&targets, |(t, _)| {
        backup::call(t, IS_WD_SUSPENDED, deadline, Stop::OnSignal)
    });
    let (mut would, mut foreign, mut problems) = (Vec::new(), Vec::new(), Vec::new());
    for ((t, _), (answer, o)) in targets.iter().zip(&checks) {
        match answer {
            Answer::No => {
                log.call(
                    Level::Info,
                    &t.name,
                    "check",
                    o,
                    "not suspended: would freeze",
                );
                would.push(t.name.clone());
            }
            Answer::Yes if ours.contains_key(&t.name) => {
                log.call(
                    Level::Info,
                    &t.name,
                    "check",
                    o,
                    "frozen by iris-freeze: would keep it",
                );
                would.push(t.name.clone());
            }
            Answer::Yes => {
                log.call(
                    Level::Warn,
                    &t.name,
                    "foreign",
                    o,
                    "already frozen by someone else: would be left alone",
                );
                foreign.push(t.name.clone());
            }
            Answer::Unknown => {
                let why = backup::problem(t, IS_WD_SUSPENDED, o);
                log.call(
                    Level::Error,
                    &t.name,
                    "check-failed",
                    o,
                    format!("cannot check: {why}"),
                );
                problems.push(format!("{}: {why}", t.name));
            }
        }
    }
    if !problems.is_empty() {
        return Ok(Report::new(
            Exit::Failure,
            format!(
                "dry run: a freeze would fail: {} (exit 1)",
                problems.join("; ")
            ),
        ));
    }
    if !foreign.is_empty() {
        return Ok(Report::new(
            Exit::Warning,
            format!(
                "dry run: would freeze {}; already frozen by someone else: {} (exit 2)",
                would.join(", "),
                foreign.join(", ")
            ),
        ));
    }
    Ok(Report::new(
        Exit::Success,
        format!(
            "dry run: would freeze {}; nothing was changed",
            would.join(", ")
        ),
    ))
}

fn stop_if_signalled(when: &str) -> Result<()> {
    if let Some(sig) = signals::received() {
        bail!("received {} {when}: nothing was frozen", signals::name(sig));
    }
    Ok(())
}

/// Arms a new watchdog (disarming any earlier one by replacing its token), due `--max-freeze`
/// from now, but never later than IRIS's blocking point after the oldest freeze of ours still
/// in place among this run's targets (`kept`): a record of another instance never shortens it.
/// Returns when it is due.
fn arm_watchdog(
    cfg: &Config,
    states: &StateDir,
    state: &mut State,
    kept: &[Target],
    log: &EventLog,
) -> Result<Instant> {
    let now = now_ms();
    let mut due = now + cfg.max_freeze.as_millis() as i64;
    let oldest = kept
        .iter()
        .filter_map(|t| state.instances.get(&t.name))
        .filter(|r| r.phase == Phase::Frozen)
        .filter_map(|r| r.age_secs())
        .fold(0.0_f64, f64::max);
    if oldest > 0.0 {
        let cap = now - (oldest * 1000.0) as i64 + REARM_CAP.as_millis() as i64;
        due = due.min(cap.max(now));
    }
    let due_at = Instant::now() + Duration::from_millis((due - now).max(0) as u64);
    let token = watchdog::new_token();
    let previous = state.watchdog.clone();
    // The state names the token before the watchdog starts: it treats a missing token as
    // "disarmed" and leaves.
    state.watchdog = Some(Watchdog {
        token: token.clone(),
        pid: 0,
        deadline: rfc3339_of_ms(due),
        deadline_ms: due,
        how: "starting".into(),
        start_ticks: None,
    });
    states.save(state)?;
    let guarded: Vec<String> = state.instances.keys().cloned().collect();
    match watchdog::spawn(cfg, &token, due, &guarded) {
        Ok(w) => {
            log.info(
                None,
                "watchdog",
                format!(
                    "watchdog armed: thaws at {} unless `thaw` comes first (pid {}, {}){}",
                    w.deadline,
                    w.pid,
                    w.how,
                    if oldest > 0.0 {
                        format!("; re-armed for a freeze {oldest:.0}s old")
                    } else {
                        String::new()
                    }
                ),
            );
            state.watchdog = Some(w);
            states.save(state)?;
            Ok(due_at)
        }
        Err(e) => {
            // An earlier freeze of ours keeps its own watchdog.
            state.watchdog = previous;
            for name in state
                .instances
                .iter()
                .filter(|(_, r)| r.phase == Phase::Freezing)
                .map(|(n, _)| n.clone())
                .collect::<Vec<_>>()
            {
                state.instances.remove(&name);
            }
            let _ = states.save(state);
            bail!(
                "cannot arm the auto-thaw watchdog, so nothing was frozen (a freeze without it \
                 could stay frozen forever): {e:#}"
            )
        }
    }
}

fn success(
    frozen: &[(Target, Kind)],
    ours_already: &[Target],
    foreign: &[String],
    start: Instant,
    log: &EventLog,
) -> Report {
    let mut names: Vec<&str> = frozen.iter().map(|(t, _)| t.name.as_str()).collect();
    names.extend(ours_already.iter().map(|t| t.name.as_str()));
    let took = start.elapsed().as_secs_f64();
    if foreign.is_empty() {
        return Report::new(
            Exit::Success,
            format!("frozen: {} ({took:.2}s)", names.join(", ")),
        );
    }
    log.warn(
        None,
        "warning",
        format!(
            "exit 2: {} was already frozen by someone else",
            foreign.join(", ")
        ),
    );
    Report::new(
        Exit::Warning,
        format!(
            "frozen: {}; already frozen by someone else, left alone: {} (exit 2)",
            if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            },
            foreign.join(", ")
        ),
    )
}

/// How long a rollback may take: short after a stop signal, else the rest of --timeout but
/// never less than [`MIN_ROLLBACK`].
fn rollback_until(deadline: Instant) -> Instant {
    let now = Instant::now();
    if signals::received().is_some() {
        return now + SIGNAL_ROLLBACK;
    }
    deadline.max(now + MIN_ROLLBACK)
}

/// Thaws each target (a freeze that answered 3 is only checked, then thawed if it is
/// suspended after all). Returns the names that may still be frozen; the state keeps those,
/// and keeps the watchdog armed for them. A target whose ExternalFreeze call survived even
/// SIGKILL (`lingering`) stays recorded too: that call could still land after the thaw.
fn roll_back(
    targets: &[(Target, Answer, bool)],
    state: &mut State,
    until: Instant,
    log: &EventLog,
) -> Vec<String> {
    let now = Instant::now();
    let thaw_by = now + (until.saturating_duration_since(now)) * 2 / 3;
    let results = backup::each(targets, |(t, answer, _)| {
        if *answer == Answer::No {
            let (a, o) = backup::call(t, IS_WD_SUSPENDED, thaw_by, Stop::Never);
            if a == Answer::No {
                log.call(
                    Level::Info,
                    &t.name,
                    "not-frozen",
                    &o,
                    "rollback: confirmed not suspended",
                );
                return Thawed::Confirmed;
            }
            log.call(
                Level::Warn,
                &t.name,
                "check",
                &o,
                "rollback: the failed freeze may have suspended it",
            );
        }
        log.info(Some(&t.name), "rollback", "rollback: thawing");
        backup::thaw_and_confirm(t, thaw_by, until.saturating_duration_since(thaw_by), log)
    });
    let mut left = Vec::new();
    for ((t, _, lingering), r) in targets.iter().zip(results) {
        if r != Thawed::Confirmed {
            left.push(t.name.clone());
        } else if *lingering {
            log.warn(
                Some(&t.name),
                "lingering",
                "the ExternalFreeze call could not be killed and may still land: keeping the \
                 record and the watchdog armed for it",
            );
        } else {
            state.instances.remove(&t.name);
        }
    }
    if state.instances.is_empty() {
        state.watchdog = None;
    }
    left
}

fn save(states: &StateDir, state: &State, log: &EventLog) {
    if let Err(e) = states.save(state) {
        log.error(None, "state", format!("{e:#}"));
    }
}

fn failed(what: String, left_frozen: &[String], log: &EventLog) -> Report {
    if left_frozen.is_empty() {
        log.error(None, "failed", &what);
        return Report::new(
            Exit::Failure,
            format!("{what}; nothing left frozen (exit 1)"),
        );
    }
    let names = left_frozen.join(", ");
    log.error(
        None,
        "failed",
        format!(
            "{what}. ATTENTION: {names} MAY STILL BE FROZEN: run `iris-freeze thaw` \
             (or `iris-freeze thaw --instance NAME`) now; the watchdog will also try at its deadline"
        ),
    );
    Report::new(
        Exit::Failure,
        format!("{what}; {names} MAY STILL BE FROZEN: run `iris-freeze thaw` (exit 1)"),
    )
}
