//! One `run` cycle at a time, and no other freeze inside it. `run` holds the run lock
//! (`run.lock` in the state dir) exclusive from before its freeze until after its thaw, while
//! CMD runs without the host lock; a `freeze` holds it shared while it freezes (freezes keep
//! each other apart with the host lock, as before). Another `run`, or a `freeze`, waits for it
//! within its own --timeout, then refuses: joining the cycle would have `run`'s thaw come under
//! its snapshot. A `thaw` is never held back (thawing is the safe side); it says a run's CMD is
//! under it, and that `run` exits 2. Lock order: the run lock, then the host lock.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Result, bail};

use crate::host::eventlog::EventLog;
use crate::host::lock::{self, Holder, HostLock};
use crate::host::signals;
use crate::host::state::StateDir;

/// This process holds the run lock (it is a `run`): its own freeze and thaw pass.
static HELD_HERE: AtomicBool = AtomicBool::new(false);

/// The run lock for a whole `run`, named as held by a `run` (see [`running_run`]). The caller
/// then waits for an earlier freeze's thaw, which this lock does not keep out.
pub(crate) fn for_run(states: &StateDir, until: Instant, log: &EventLog) -> Result<HostLock> {
    let mut held = wait(states, until, log, "run", true)?;
    held.announce("run");
    HELD_HERE.store(true, Ordering::SeqCst);
    Ok(held)
}

/// For `freeze` (none inside a `run`, whose thaw would come under the freeze's snapshot):
/// waits for a running `run` to end. Held until the freeze exits.
pub(crate) fn for_freeze(
    states: &StateDir,
    until: Instant,
    log: &EventLog,
) -> Result<Option<HostLock>> {
    if HELD_HERE.load(Ordering::SeqCst) {
        return Ok(None);
    }
    // Shared: several freezes may hold it, so none writes the holder record.
    wait(states, until, log, "freeze", false).map(Some)
}

/// A `run` of another process holding the run lock now (a `thaw` names it), if any.
pub(crate) fn running_run(states: &StateDir) -> Option<Holder> {
    if HELD_HERE.load(Ordering::SeqCst) {
        return None;
    }
    match lock::acquire_run(states, Instant::now(), false) {
        Ok(Err(Some(h))) if h.command == "run" => Some(h),
        _ => None,
    }
}

/// Takes the run lock, waiting until `until` with a line in the log; refuses after.
fn wait(
    states: &StateDir,
    until: Instant,
    log: &EventLog,
    me: &str,
    exclusive: bool,
) -> Result<HostLock> {
    let holder = match lock::acquire_run(states, Instant::now(), exclusive)? {
        Ok(l) => return Ok(l),
        Err(h) => h,
    };
    let start = Instant::now();
    log.info(
        None,
        "lock",
        format!("{}: waiting before this {me}", describe(holder.as_ref())),
    );
    let holder = match lock::acquire_run(states, until, exclusive)? {
        Ok(l) => return Ok(l),
        Err(holder) => holder,
    };
    // A stop signal also ends the wait.
    if let Some(sig) = signals::received() {
        bail!(
            "received {} while waiting for another iris-freeze run to end: nothing was frozen",
            signals::name(sig)
        );
    }
    bail!(
        "{}; waited {:.1}s (--timeout): nothing was frozen{}. Retry once it has ended",
        describe(holder.as_ref()),
        start.elapsed().as_secs_f64(),
        if me == "run" { ", CMD not run" } else { "" }
    )
}

/// Who holds the run lock, and why that stops a freeze.
fn describe(holder: Option<&Holder>) -> String {
    match holder {
        Some(h) if h.command == "run" => format!(
            "another `iris-freeze run` (pid {}) holds the instances frozen while its CMD runs, \
             and thaws them when it ends (its CMD, then its thaw): a freeze now would be thawed \
             by it in the middle of the snapshot",
            h.pid
        ),
        // Held shared by freezes, which write no record.
        _ => "another iris-freeze is freezing".into(),
    }
}
