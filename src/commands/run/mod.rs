//! `run`: freeze exactly as `freeze` does, run the user's snapshot command (CMD) with its own
//! deadline, and always thaw, as `thaw` does. The steps: CMD found (`cmd::check`, on PATH as
//! `lookup` says: nothing is frozen for a CMD that cannot start); the run lock (`alone`: no other
//! freeze inside this cycle); `freeze::run`; what the freeze left in the state (`Frozen`); CMD's
//! deadline; `cmd::run`; its history line; `thaw::run`; one exit from the three.

mod cmd;
mod leftovers;
mod lookup;

use std::ffi::OsString;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::commands::state::{StateFile, state_dir};
use crate::commands::{freeze, thaw};
use crate::config::{Action, Config};
use crate::exit_code::Exit;
use crate::host::eventlog::EventLog;
use crate::host::history::{self, Event, EventKind};
use crate::host::lock::{self, HostLock};
use crate::host::state::{StateDir, now_ms};
use crate::host::{run_lock, signals};
use crate::report::Report;

use crate::util::shell::display_argv as display;
use cmd::Ended;

/// Kept between CMD's default deadline and the watchdog's auto-thaw: CMD's group gets
/// `cmd::KILL_GRACE` (5 s) to die, and the thaw 10 s, so our thaw comes first.
const MARGIN: Duration = Duration::from_secs(15);

/// How often a `run` looks again for an earlier freeze's thaw.
const POLL: Duration = Duration::from_millis(50);

/// The history's `by` for a run's events.
const BY: &str = "run";

pub(crate) fn run(cfg: &Config, log: &EventLog) -> Result<Report> {
    let Action::Run {
        ref cmd,
        cmd_timeout,
    } = cfg.action
    else {
        bail!("internal error: `run` called for {:?}", cfg.action);
    };
    let program = match cmd::check(cmd) {
        Ok(program) => program,
        Err(why) => {
            log.error(None, "cmd", format!("{why}: nothing frozen"));
            return Ok(Report::new(
                Exit::Failure,
                format!("CMD not run, nothing frozen: {why} (exit 1)"),
            ));
        }
    };
    signals::install()?;
    let states = state_dir(cfg)?;
    // Waited for as freeze waits for the host lock: within the first 60% of --timeout.
    let _alone = alone(&states, Instant::now() + cfg.timeout.mul_f64(0.6), log)?;
    let froze = freeze::run(&as_freeze(cfg), log)?;
    if froze.exit == Exit::Failure {
        log.error(
            None,
            "cmd",
            format!("CMD not run, the freeze failed: {}", display(cmd)),
        );
        return Ok(Report::new(
            Exit::Failure,
            format!("{}; CMD not run", froze.summary),
        ));
    }
    let frozen = Frozen::read(cfg, log);
    let deadline = deadline(cfg, cmd_timeout, &frozen, log);
    let ended = cmd::run(&program, cmd, &frozen, deadline, log);
    record(cfg, cmd, &frozen, &ended, log);
    let lost = thawed_meanwhile(cfg, &frozen, log);
    let thawed = thaw::run(&as_thaw(cfg), log)?;
    Ok(outcome(&froze, &ended, &thawed, lost))
}

/// The run lock for a whole `run`, once no other freeze of ours is recorded: a `run` that kept
/// an earlier `freeze`'s instances would thaw them under that freeze's snapshot.
fn alone(states: &StateDir, until: Instant, log: &EventLog) -> Result<HostLock> {
    let held = run_lock::for_run(states, until, log)?;
    let waiting_since = Instant::now();
    let mut said = false;
    loop {
        let state = states.load()?;
        if state.instances.is_empty() {
            return Ok(held);
        }
        let names: Vec<&str> = state.instances.keys().map(String::as_str).collect();
        let cycle = state.cycle.as_deref().unwrap_or("without an id");
        let what = format!(
            "{} frozen by an earlier iris-freeze `freeze` (cycle {cycle}), whose snapshot may \
             be under way: run's thaw would thaw it under that snapshot",
            names.join(", ")
        );
        if let Some(sig) = signals::received() {
            bail!(
                "received {} while waiting for an earlier freeze's thaw: nothing was frozen, \
                 CMD not run",
                signals::name(sig)
            );
        }
        if Instant::now() >= until {
            bail!(
                "{what}; waited {:.1}s (--timeout) for its thaw: nothing was frozen, CMD not \
                 run. `iris-freeze status` shows it; `iris-freeze thaw` ends it if nothing \
                 else will",
                waiting_since.elapsed().as_secs_f64()
            );
        }
        if !said {
            log.info(None, "lock", format!("{what}: waiting for its thaw"));
            said = true;
        }
        std::thread::sleep(POLL);
    }
}

/// `freeze`'s config: the history says a `run` made the cycle.
fn as_freeze(cfg: &Config) -> Config {
    let mut c = cfg.clone();
    c.action = Action::Freeze;
    c.invoked_as.get_or_insert_with(|| BY.to_string());
    c
}

/// `thaw`'s config: what the freeze recorded, never the names (`thaw --instance` would thaw
/// someone else's freeze of them too).
fn as_thaw(cfg: &Config) -> Config {
    let mut c = as_freeze(cfg);
    c.action = Action::Thaw;
    c.instances.clear();
    c
}

/// What the freeze left in the state, for CMD's environment and deadline.
pub(super) struct Frozen {
    /// The cycle id; none when nothing was frozen.
    pub(super) id: Option<String>,
    pub(super) instances: Vec<String>,
    /// The data servers of a sharded cluster frozen from its master (`--sharded`).
    pub(super) data_servers: Vec<String>,
    /// The watchdog's deadline, unix ms.
    due_ms: Option<i64>,
}

impl Frozen {
    fn read(cfg: &Config, log: &EventLog) -> Frozen {
        let state = state_dir(cfg).and_then(|s| s.load());
        match state {
            Ok(s) => Frozen {
                id: s.cycle,
                data_servers: s.instances.values().flat_map(|r| r.nodes.clone()).collect(),
                instances: s.instances.into_keys().collect(),
                due_ms: s.watchdog.map(|w| w.deadline_ms),
            },
            Err(e) => {
                // The freeze just wrote it: CMD still runs, the thaw will say more.
                log.warn(None, "state", format!("{e:#}: CMD gets no id or instances"));
                Frozen {
                    id: None,
                    instances: Vec::new(),
                    data_servers: Vec::new(),
                    due_ms: None,
                }
            }
        }
    }
}

/// The margin before the watchdog: `MARGIN`, or a quarter of --max-freeze when that is less.
fn margin(max_freeze: Duration) -> Duration {
    MARGIN.min(max_freeze / 4)
}

/// CMD's deadline: --cmd-timeout from now, or what the watchdog leaves minus the margin. A
/// --cmd-timeout past the watchdog is warned about: the snapshot would not be consistent.
fn deadline(cfg: &Config, given: Option<Duration>, frozen: &Frozen, log: &EventLog) -> Instant {
    let now = Instant::now();
    let watchdog_in = frozen.due_ms.map_or(cfg.max_freeze, |due| {
        Duration::from_millis(u64::try_from(due - now_ms()).unwrap_or(0))
    });
    let leaves = watchdog_in.saturating_sub(margin(cfg.max_freeze));
    let Some(t) = given else {
        log.info(
            None,
            "cmd",
            format!(
                "CMD may run {:.1}s: what --max-freeze ({}s) leaves, minus {:.1}s for the kill \
                 and the thaw",
                leaves.as_secs_f64(),
                cfg.max_freeze.as_secs_f64(),
                margin(cfg.max_freeze).as_secs_f64()
            ),
        );
        return now + leaves;
    };
    if t > leaves && !frozen.instances.is_empty() {
        log.warn(
            None,
            "cmd",
            format!(
                "--cmd-timeout {}s goes past the watchdog's auto-thaw in {:.1}s: if CMD takes \
                 that long, the snapshot is not consistent; raise --max-freeze",
                t.as_secs_f64(),
                watchdog_in.as_secs_f64()
            ),
        );
    }
    now + t
}

/// Why our cycle may not have held while CMD ran.
#[derive(Debug, PartialEq)]
enum Lost {
    /// The watchdog auto-thawed it: our thaw reports that itself.
    Watchdog,
    /// A `thaw` from elsewhere, or a state that could not be read: run says why.
    Other(&'static str),
}

/// Why our cycle's record went while CMD ran, if it did: the watchdog's auto-thaw, or a `thaw`
/// from elsewhere. Our thaw then finds nothing to thaw, yet CMD may have snapshotted a thawed
/// instance.
fn thawed_meanwhile(cfg: &Config, frozen: &Frozen, log: &EventLog) -> Option<Lost> {
    if frozen.instances.is_empty() {
        return None;
    }
    let states = state_dir(cfg);
    // A watchdog thawing at this moment holds the host lock until its record is written: it is
    // waited for (as long as a thaw waits), so that its auto-thaw is seen here, as CMD's.
    if let Ok(s) = &states {
        drop(lock::acquire(s, Instant::now() + thaw::LOCK_WAIT));
    }
    let state = match states.and_then(|s| s.load()) {
        Ok(s) => s,
        Err(e) => {
            // Not known to have held: not promised consistent.
            let why = "the state could not be read after CMD, so whether it ran frozen is unknown";
            log.warn(None, "state", format!("{e:#}: {why} (exit 2)"));
            return Some(Lost::Other(why));
        }
    };
    let kept = state.cycle == frozen.id
        && frozen
            .instances
            .iter()
            .all(|i| state.instances.contains_key(i));
    if kept {
        return None;
    }
    let by_watchdog = state
        .auto_thaw
        .as_ref()
        .is_some_and(|a| frozen.instances.iter().any(|i| a.instances.contains(i)));
    let (why, lost) = if by_watchdog {
        (
            "the watchdog auto-thawed it while CMD ran (CMD outlasted --max-freeze)",
            Lost::Watchdog,
        )
    } else {
        let why = "another `iris-freeze thaw` thawed it while CMD ran";
        (why, Lost::Other(why))
    };
    log.warn(
        None,
        "cmd",
        format!("{why}: the snapshot may not be consistent (exit 2)"),
    );
    Some(lost)
}

/// CMD's line in the history, under the cycle's id (none when nothing was frozen: no cycle).
fn record(cfg: &Config, argv: &[OsString], frozen: &Frozen, ended: &Ended, log: &EventLog) {
    let Some(id) = &frozen.id else { return };
    let exit = if ended.ok() {
        Exit::Success
    } else {
        Exit::Failure
    };
    let mut e = Event::new(id, EventKind::Cmd, BY, exit.code());
    e.cmd = Some(ended.event(display(argv)));
    history::record(&cfg.history_file, &e, log);
}

/// 1 when CMD failed; else the worse of the freeze's and the thaw's (2: someone else's
/// freeze, a verdict that is not consistent, or our freeze thawed by another while CMD ran;
/// 1: the thaw failed). One exit code, at the end: the parts' own are left out.
fn outcome(froze: &Report, ended: &Ended, thawed: &Report, lost: Option<Lost>) -> Report {
    let worst = froze.exit.max(thawed.exit);
    let exit = match (ended.ok(), lost.is_some()) {
        (false, _) => Exit::Failure,
        (true, true) => worst.max(Exit::Warning),
        (true, false) => worst,
    };
    let lost_note = match lost {
        // The thaw's summary names the auto-thaw already, unless it found nothing of it.
        Some(Lost::Watchdog) if thawed.exit >= Exit::Warning => String::new(),
        Some(Lost::Watchdog) => {
            "; the watchdog auto-thawed it while CMD ran: not consistent".into()
        }
        Some(Lost::Other(why)) => format!("; {why}: not consistent"),
        None => String::new(),
    };
    Report::new(
        exit,
        format!(
            "{}; CMD {}; {}{lost_note} (exit {})",
            without_exits(&froze.summary),
            ended.describe(),
            without_exits(&thawed.summary),
            exit.code()
        ),
    )
}

/// A freeze's or thaw's summary without its own ` (exit N)` notes: run's summary ends with
/// run's.
fn without_exits(summary: &str) -> String {
    let mut out = String::with_capacity(summary.len());
    let mut rest = summary;
    while let Some(at) = rest.find(" (exit ") {
        let tail = &rest[at + " (exit ".len()..];
        let digits = tail.chars().take_while(char::is_ascii_digit).count();
        let code_len = if digits > 0 && tail[digits..].starts_with(')') {
            " (exit ".len() + digits + 1
        } else {
            0
        };
        out.push_str(&rest[..at]);
        if code_len == 0 {
            out.push_str(" (exit ");
            rest = tail;
        } else {
            rest = &rest[at + code_len..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exit_code_goes_from_a_summary() {
        assert_eq!(
            without_exits("thaw FAILED: A (see the log) (exit 1)"),
            "thaw FAILED: A (see the log)"
        );
        assert_eq!(without_exits("thawed: A (0.01s)"), "thawed: A (0.01s)");
        assert_eq!(
            without_exits("a: not consistent (exit 2); b (exit 2) (exit 2)"),
            "a: not consistent; b"
        );
        assert_eq!(without_exits("x (exit y) (exit )"), "x (exit y) (exit )");
    }

    #[test]
    fn an_auto_thaw_the_thaw_reported_is_said_once_with_one_exit_code() {
        let froze = Report::new(Exit::Success, "frozen: A (0.02s)");
        let ended = Ended::exited_ok_for_tests();
        let thawed = Report::new(
            Exit::Warning,
            "nothing to thaw; not consistent: the watchdog auto-thawed A at T (exit 2)",
        );
        let r = outcome(&froze, &ended, &thawed, Some(Lost::Watchdog));
        assert_eq!(r.exit, Exit::Warning);
        assert_eq!(r.summary.matches("(exit").count(), 1, "{}", r.summary);
        assert_eq!(r.summary.matches("auto-thawed").count(), 1, "{}", r.summary);
        assert!(!r.summary.contains("another"), "{}", r.summary);
        assert!(r.summary.ends_with("(exit 2)"), "{}", r.summary);
    }

    #[test]
    fn the_margin_is_a_quarter_of_a_short_max_freeze() {
        assert_eq!(margin(Duration::from_secs(300)), MARGIN);
        assert_eq!(margin(Duration::from_secs(8)), Duration::from_secs(2));
    }
}
