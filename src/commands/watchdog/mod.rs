//! The dead-man switch. `freeze` arms it before the first ExternalFreeze, with its own thaw plan
//! (each instance it guards and the programs the freeze found for it); at its deadline, if the
//! state still holds that freeze, it thaws exactly those instances (the `thaw` code path) and
//! records an AUTO-THAW. Every way it has is tried before it gives up on an instance, and every
//! outcome is said in the log, the history and the journal: nothing it could not do is silent.
//! `thaw` disarms it by removing its token from the state: the watchdog re-reads the state every
//! second and leaves without a single IRIS call once its token is gone.
//! Nobody ever kills it, so no pid is ever signalled on a guess; stopped by someone else (a
//! SIGTERM, SIGINT or SIGHUP: `systemctl stop`, `kill`, a shutdown), it thaws at once.
//!
//! `spawn` starts it; this file is the watchdog process until its deadline, `auto_thaw` what it
//! does then.

mod auto_thaw;
mod plan;
mod spawn;

use std::thread;
use std::time::{Duration, Instant};

use anyhow::Result;

use plan::Plan;

use crate::commands::state::{StateFile, state_dir};
use crate::config::Config;
use crate::exit_code::Exit;
use crate::host::eventlog::EventLog;
use crate::host::state::{StateDir, now_ms, rfc3339_of_ms};
use crate::host::{lock, procfs, signals};
use crate::report::Report;

pub(crate) use spawn::{new_token, spawn};

/// How often a waiting watchdog looks at the state file (one stat(2)).
const POLL: Duration = Duration::from_secs(1);
/// How long a due watchdog waits for the host lock before thawing anyway.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// The watchdog process itself, armed with `plan` (JSON, see [`spawn`]).
pub(crate) fn run(cfg: &Config, token: &str, deadline_ms: i64, plan: &str) -> Result<Report> {
    close_inherited_fds();
    // A stop (`systemctl stop`, `kill`, a shutdown) makes the deadline now: dying armed would
    // leave IRIS frozen until someone thaws it by hand.
    signals::install()?;
    // Opened once: the state is read through this descriptor from now on, so swapping the
    // directory behind its path changes nothing for us. One it cannot open does not stop the
    // switch: at the deadline the plan is thawed without it.
    let states = state_dir(cfg);
    let armed = match &states {
        Ok(s) => wait_until_due(s, token, deadline_ms),
        Err(_) => sleep_until(deadline_ms),
    };
    if !armed {
        return Ok(Report::new(Exit::Success, "disarmed"));
    }
    // Thaw first, log after: every line is kept (with its time) until the thaw is done, so a
    // log that blocks or fails cannot delay it.
    let log = EventLog::open(&cfg.log_file, "watchdog").with_journal(cfg.journal.as_deref());
    log.hold();
    let why = why_due(deadline_ms);
    let plan = plan::parse(plan, &log);
    let report = due(cfg, states.as_ref(), token, &why, &plan, &log);
    for w in &cfg.config_warnings {
        log.warn(None, "config", w);
    }
    log.release();
    Ok(report)
}

/// No state to watch: waits for the deadline (or a stop signal). Always true.
fn sleep_until(deadline_ms: i64) -> bool {
    while !due_now(deadline_ms) {
        nap(deadline_ms);
    }
    true
}

/// Waits for the deadline; false when disarmed first. Re-reads the state only when the file
/// changed: one fstatat(2) a second otherwise.
fn wait_until_due(states: &StateDir, token: &str, deadline_ms: i64) -> bool {
    let mut seen = None;
    loop {
        let stamp = states.stamp();
        if stamp != seen {
            seen = stamp;
            if !armed(states, token) {
                return false;
            }
        }
        if due_now(deadline_ms) {
            return true;
        }
        nap(deadline_ms);
    }
}

/// The deadline has come, or a stop signal brought it forward.
fn due_now(deadline_ms: i64) -> bool {
    deadline_ms <= now_ms() || signals::received().is_some()
}

/// What made it due, in words; a stop signal is taken (forgotten), so that the thaw's own steps
/// (the lock's wait, a qlist) do not take it as theirs and stop short.
fn why_due(deadline_ms: i64) -> String {
    let due = rfc3339_of_ms(deadline_ms);
    match signals::take() {
        Some(sig) => format!(
            "the watchdog was stopped ({}) before its deadline ({due})",
            signals::name(sig)
        ),
        None => format!("no thaw came within --max-freeze (due {due})"),
    }
}

/// One poll's sleep, or less when the deadline is nearer (a signal cuts it short too).
fn nap(deadline_ms: i64) {
    let left = (deadline_ms - now_ms()).max(0) as u64;
    thread::sleep(POLL.min(Duration::from_millis(left)));
}

/// At the deadline: the host lock (waited for a while, then done without), then the thaw of
/// what the state records, or of the whole plan when the state cannot be read.
fn due(
    cfg: &Config,
    states: Result<&StateDir, &anyhow::Error>,
    token: &str,
    why: &str,
    plan: &Plan,
    log: &EventLog,
) -> Report {
    let states = match states {
        Ok(s) => s,
        Err(e) => return auto_thaw::guarded(cfg, None, e, why, plan, log),
    };
    let _lock = take_lock(states, log);
    match states.load() {
        Ok(state) => auto_thaw::recorded(cfg, states, state, token, why, plan, log),
        Err(e) => auto_thaw::guarded(cfg, Some(states), &e, why, plan, log),
    }
}

/// The host lock, waited for a while; without it (still held, or an error) the thaw goes on.
fn take_lock(states: &StateDir, log: &EventLog) -> Option<lock::HostLock> {
    let why = match lock::acquire(states, Instant::now() + LOCK_WAIT) {
        Ok(Ok(mut l)) => {
            l.announce("watchdog");
            return Some(l);
        }
        Ok(Err(holder)) => format!("the host lock is still held ({holder:?}) after {LOCK_WAIT:?}"),
        Err(e) => format!("cannot take the host lock ({e:#})"),
    };
    log.warn(None, "lock", format!("{why}: thawing anyway"));
    lock::hold_when_free(states, "watchdog");
    None
}

/// Whether the state still names this arming's token.
fn armed(states: &StateDir, token: &str) -> bool {
    match states.load() {
        Ok(s) => s.arms(token),
        // A damaged state must not disarm the switch: keep waiting and try at the deadline.
        Err(_) => true,
    }
}

/// Whatever the caller left open (a hook runner's pipes, a lock) must not be held for minutes.
fn close_inherited_fds() {
    for fd in procfs::own_fds_above_stderr() {
        // The read_dir handle itself is already closed; closing an fd twice only fails.
        let _ = nix::unistd::close(fd);
    }
}
