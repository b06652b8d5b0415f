//! SIGTERM, SIGINT and SIGHUP. During `freeze` they mean "stop now and roll back" (VMware sends
//! SIGKILL 5 s after SIGTERM); during `thaw` they are noted and the thaw finishes first: an
//! interrupted thaw is worse than a late one. Either way they never kill us mid-step.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

static RECEIVED: OnceLock<Arc<AtomicUsize>> = OnceLock::new();

/// Replaces the default (die at once) with a flag the work loops poll.
pub fn install() -> Result<()> {
    let flag = RECEIVED.get_or_init(|| Arc::new(AtomicUsize::new(0)));
    for sig in [SIGTERM, SIGINT, SIGHUP] {
        signal_hook::flag::register_usize(sig, Arc::clone(flag), sig as usize)
            .with_context(|| format!("cannot handle signal {sig}"))?;
    }
    Ok(())
}

/// The last of SIGTERM/SIGINT/SIGHUP received, if any.
pub fn received() -> Option<i32> {
    let n = RECEIVED.get()?.load(Ordering::SeqCst);
    (n != 0).then_some(n as i32)
}

pub fn name(sig: i32) -> &'static str {
    nix::sys::signal::Signal::try_from(sig)
        .map(|s| s.as_str())
        .unwrap_or("signal")
}
