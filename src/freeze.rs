//! `freeze`: check, freeze every target in parallel, record what we froze; on any doubt, thaw
//! everything this run froze or may have frozen.

use std::time::{Duration, Instant};

use anyhow::Result;

use crate::backup::{self, Answer, EXTERNAL_FREEZE, IS_WD_SUSPENDED, Target, Thawed};
use crate::config::Config;
use crate::discovery::{self, Tools};
use crate::eventlog::{EventLog, Level};
use crate::exit_code::Exit;
use crate::report::Report;
use crate::state::{Phase, Record, State, StateDir, now_rfc3339};

/// A rollback always gets at least this long, even past --timeout: thawing comes first.
const MIN_ROLLBACK: Duration = Duration::from_secs(5);

pub fn run(cfg: &Config, log: &EventLog) -> Result<Report> {
    let start = Instant::now();
    let deadline = start + cfg.timeout;
    // The checks and the freeze get the first 60% of the budget; the rest is kept for a
    // rollback, including the kill grace of a call that timed out.
    let freeze_by = start + cfg.timeout.mul_f64(0.6);

    let states = StateDir::open(&cfg.state_dir)?;
    let mut state = states.load()?;
    let tools = Tools::find(&cfg.bin_dirs)?;
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
    if selection.targets.is_empty() {
        log.warn(None, "nothing", "no running instance: nothing to freeze");
        return Ok(Report::new(
            Exit::Success,
            "nothing to freeze: no running IRIS or Caché instance",
        ));
    }
    let targets: Vec<(Target, discovery::Kind)> = selection
        .targets
        .iter()
        .map(|(i, cmd)| {
            (
                Target {
                    name: i.name.clone(),
                    session: cmd.clone(),
                },
                i.kind,
            )
        })
        .collect();

    // 1. Who is frozen already? Someone else's freeze is never touched.
    let check_by = Instant::now() + freeze_by.saturating_duration_since(Instant::now()) / 2;
    let checks = backup::each(&targets, |(t, _)| {
        backup::call(t, IS_WD_SUSPENDED, check_by)
    });
    let mut to_freeze: Vec<(Target, discovery::Kind)> = Vec::new();
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
                            "still frozen by an earlier iris-freeze (pid {}) since {} ({:.0}s ago), \
                             whose thaw never came: keeping it frozen",
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
    if !unreachable.is_empty() {
        // Nothing of this run is frozen yet; what an earlier run left frozen goes too.
        let rollback: Vec<(Target, Answer)> =
            ours_already.into_iter().map(|t| (t, Answer::Yes)).collect();
        let left = roll_back(&rollback, &mut state, deadline, log);
        save(&states, &state, log);
        return Ok(failed(
            format!(
                "cannot check {}; nothing was frozen",
                unreachable.join("; ")
            ),
            &left,
            log,
        ));
    }

    // 2. Record our intent first: whatever happens next, `thaw` knows what may be frozen.
    for (t, kind) in &to_freeze {
        state.instances.insert(
            t.name.clone(),
            Record::new(*kind, t.session.clone(), Phase::Freezing),
        );
    }
    states.save(&state)?;

    // 3. Freeze all at once.
    let freezes = backup::each(&to_freeze, |(t, _)| {
        backup::call(t, EXTERNAL_FREEZE, freeze_by)
    });
    let frozen_at = now_rfc3339();
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

    if problems.is_empty() {
        for (t, _) in &to_freeze {
            if let Some(rec) = state.instances.get_mut(&t.name) {
                rec.phase = Phase::Frozen;
                rec.since = frozen_at.clone();
            }
        }
        match states.save(&state) {
            Ok(()) => {
                let mut names: Vec<&str> = to_freeze.iter().map(|(t, _)| t.name.as_str()).collect();
                names.extend(ours_already.iter().map(|t| t.name.as_str()));
                let took = start.elapsed().as_secs_f64();
                if foreign.is_empty() {
                    return Ok(Report::new(
                        Exit::Success,
                        format!("frozen: {} ({took:.2}s)", names.join(", ")),
                    ));
                }
                log.warn(
                    None,
                    "warning",
                    format!(
                        "exit 2: {} was already frozen by someone else",
                        foreign.join(", ")
                    ),
                );
                return Ok(Report::new(
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
                ));
            }
            Err(e) => {
                // An unrecorded freeze would never be thawed by `thaw`: undo it.
                log.error(None, "state", format!("{e:#}: rolling back"));
                problems.push(format!("cannot record the freeze: {e:#}"));
            }
        }
    }

    // 4. Roll back everything this run froze or may have frozen, and any earlier freeze of ours.
    let mut rollback: Vec<(Target, Answer)> = to_freeze
        .iter()
        .zip(&freezes)
        .map(|((t, _), (a, _))| (t.clone(), *a))
        .collect();
    rollback.extend(ours_already.into_iter().map(|t| (t, Answer::Yes)));
    let left = roll_back(&rollback, &mut state, deadline, log);
    save(&states, &state, log);
    Ok(failed(
        format!("freeze failed ({}); rolled back", problems.join("; ")),
        &left,
        log,
    ))
}

/// Thaws each target (a freeze that answered 3 is only checked, then thawed if it is
/// suspended after all). Returns the names that may still be frozen; the state keeps those.
fn roll_back(
    targets: &[(Target, Answer)],
    state: &mut State,
    deadline: Instant,
    log: &EventLog,
) -> Vec<String> {
    if targets.is_empty() {
        return Vec::new();
    }
    let now = Instant::now();
    let until = deadline.max(now + MIN_ROLLBACK);
    let thaw_by = now + (until - now) * 2 / 3;
    let results = backup::each(targets, |(t, answer)| {
        if *answer == Answer::No {
            let (a, o) = backup::call(t, IS_WD_SUSPENDED, thaw_by);
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
        backup::thaw_and_confirm(t, thaw_by, until, log)
    });
    let mut left = Vec::new();
    for ((t, _), r) in targets.iter().zip(results) {
        if r == Thawed::Confirmed {
            state.instances.remove(&t.name);
        } else {
            left.push(t.name.clone());
        }
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
             (or `iris-freeze thaw --instance NAME`) now"
        ),
    );
    Report::new(
        Exit::Failure,
        format!("{what}; {names} MAY STILL BE FROZEN: run `iris-freeze thaw` (exit 1)"),
    )
}
