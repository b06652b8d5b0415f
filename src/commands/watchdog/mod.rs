//! The dead-man switch. `freeze` arms it before the first ExternalFreeze; at its deadline, if the
//! state still holds that freeze, it thaws exactly those instances (the `thaw` code path) and
//! records an AUTO-THAW. `thaw` disarms it by removing its token from the state: the watchdog
//! re-reads the state every second and leaves without a single IRIS call once its token is gone.
//! Nobody ever kills it, so no pid is ever signalled on a guess.
//!
//! `spawn` starts it; this file is the watchdog process until its deadline, `auto_thaw` what it
//! does then.

mod auto_thaw;
mod spawn;

use std::fs;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::config::Config;
use crate::exit_code::Exit;
use crate::host::eventlog::EventLog;
use crate::host::lock;
use crate::host::state::{StateDir, now_ms};
use crate::report::Report;

pub(crate) use spawn::{new_token, spawn};

/// How often a waiting watchdog looks at the state file (one stat(2)).
const POLL: Duration = Duration::from_secs(1);
/// How long a due watchdog waits for the host lock before thawing anyway.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// The watchdog process itself, guarding `instances` (see [`spawn`]).
pub(crate) fn run(
    cfg: &Config,
    token: &str,
    deadline_ms: i64,
    instances: &[String],
) -> Result<Report> {
    close_inherited_fds();
    // Opened once: the state is read through this descriptor from now on, so swapping the
    // directory behind its path changes nothing for us.
    let states = StateDir::of(cfg)?;
    if !wait_until_due(&states, token, deadline_ms) {
        return Ok(Report::new(Exit::Success, "disarmed"));
    }
    // Thaw first, log after: every line is kept (with its time) until the thaw is done, so a
    // log that blocks or fails cannot delay it.
    let log = EventLog::open(&cfg.log_file, "watchdog").with_journal(cfg.journal.as_deref());
    log.hold();
    let report = due(cfg, &states, token, deadline_ms, instances, &log);
    for w in &cfg.config_warnings {
        log.warn(None, "config", w);
    }
    log.release();
    report
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
        let left = deadline_ms - now_ms();
        if left <= 0 {
            return true;
        }
        thread::sleep(POLL.min(Duration::from_millis(left as u64)));
    }
}

/// At the deadline: the host lock (waited for a while, then done without), then the thaw of
/// what the state records, or of the guarded instances when the state cannot be read.
fn due(
    cfg: &Config,
    states: &StateDir,
    token: &str,
    deadline_ms: i64,
    instances: &[String],
    log: &EventLog,
) -> Result<Report> {
    let _lock = match lock::acquire(states, Instant::now() + LOCK_WAIT)? {
        Ok(mut l) => {
            l.announce("watchdog");
            Some(l)
        }
        Err(holder) => {
            log.warn(
                None,
                "lock",
                format!(
                    "the host lock is still held ({holder:?}) after {LOCK_WAIT:?}: thawing anyway"
                ),
            );
            None
        }
    };
    match states.load() {
        Ok(state) => auto_thaw::recorded(cfg, states, state, token, deadline_ms, log),
        Err(e) => auto_thaw::guarded(cfg, states, &e, deadline_ms, instances, log),
    }
}

/// Whether the state still names this arming's token.
fn armed(states: &StateDir, token: &str) -> bool {
    match states.load() {
        Ok(s) => s.watchdog.is_some_and(|w| w.token == token),
        // A damaged state must not disarm the switch: keep waiting and try at the deadline.
        Err(_) => true,
    }
}

/// Whatever the caller left open (a hook runner's pipes, a lock) must not be held for minutes.
fn close_inherited_fds() {
    let fds: Vec<i32> = fs::read_dir("/proc/self/fd")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .filter(|&fd| fd > 2)
                .collect()
        })
        .unwrap_or_default();
    for fd in fds {
        // The read_dir handle itself is already closed; closing an fd twice only fails.
        let _ = nix::unistd::close(fd);
    }
}
