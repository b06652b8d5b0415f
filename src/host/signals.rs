//! SIGTERM, SIGINT and SIGHUP. During `freeze` they mean "stop now and roll back" (VMware sends
//! SIGKILL 5 s after SIGTERM); during `thaw` they are noted and the thaw finishes first: an
//! interrupted thaw is worse than a late one. Either way they never kill us mid-step.

use std::sync::atomic::{AtomicI32, Ordering};

use anyhow::{Context, Result};
use nix::sys::signal::{
    SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal, sigaction, sigprocmask,
};

/// The last stop signal received, 0 for none.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// The handler only stores the number: an atomic store is async-signal-safe.
extern "C" fn note(sig: std::ffi::c_int) {
    RECEIVED.store(sig, Ordering::SeqCst);
}

const STOP: [Signal; 3] = [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP];

/// Replaces the default (die at once) with a flag the work loops poll. (A handler, not
/// SIG_IGN: children start with the default action again, as exec resets handlers.) Then
/// unblocks them: a process started with them blocked (see [`block`]) gets the ones that came
/// before it was ready now, as flags.
pub(crate) fn install() -> Result<()> {
    let action = SigAction::new(
        SigHandler::Handler(note),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for sig in STOP {
        // SAFETY: `note` is async-signal-safe and lives for the whole program.
        unsafe { sigaction(sig, &action) }
            .with_context(|| format!("cannot handle {}", sig.as_str()))?;
    }
    sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&stop_set()), None)
        .context("cannot unblock the stop signals")
}

/// Blocks the stop signals, in a child between fork and exec (async-signal-safe): the blocked
/// mask survives exec, so a signal sent before the new program calls [`install`] waits for it
/// instead of killing it.
pub(crate) fn block() -> std::io::Result<()> {
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&stop_set()), None).map_err(std::io::Error::from)
}

fn stop_set() -> SigSet {
    let mut set = SigSet::empty();
    for sig in STOP {
        set.add(sig);
    }
    set
}

/// The last of SIGTERM/SIGINT/SIGHUP received, if any.
pub(crate) fn received() -> Option<i32> {
    let n = RECEIVED.load(Ordering::SeqCst);
    (n != 0).then_some(n)
}

/// The last stop signal received, if any, forgetting it: `run` passes it on to its command,
/// and the thaw that follows must not take it as its own.
pub(crate) fn take() -> Option<i32> {
    let n = RECEIVED.swap(0, Ordering::SeqCst);
    (n != 0).then_some(n)
}

pub(crate) fn name(sig: i32) -> &'static str {
    Signal::try_from(sig)
        .map(|s| s.as_str())
        .unwrap_or("signal")
}
