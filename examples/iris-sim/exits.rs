//! How a simulated call ends: a normal exit (logged), a hang, or a crash by signal (neither
//! logged). Output is flushed first in every case.

use std::process;
use std::thread;
use std::time::Duration;

use nix::sys::signal::{self, SigHandler, SigSet, SigmaskHow, Signal};
use nix::unistd::getpid;

use crate::calllog::Ctx;
use crate::console::flush_all;

/// Normal exit: flush, log `exit=<rc>`, exit.
pub(crate) fn finish(ctx: &Ctx, rc: i32) -> ! {
    flush_all();
    ctx.log(&format!("exit={rc}"));
    process::exit(rc)
}

pub(crate) fn hang() -> ! {
    flush_all();
    loop {
        thread::sleep(Duration::from_secs(3600));
    }
}

pub(crate) fn ignore_term_signals() {
    for sig in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        // SAFETY: installing SIG_IGN does not run any code in signal context.
        let _ = unsafe { signal::signal(sig, SigHandler::SigIgn) };
    }
}

#[cfg(target_os = "linux")]
fn disable_core_dumps() {
    use nix::sys::resource::{Resource, setrlimit};
    let _ = setrlimit(Resource::RLIMIT_CORE, 0, 0);
    let _ = nix::sys::prctl::set_dumpable(false);
}

#[cfg(not(target_os = "linux"))]
fn disable_core_dumps() {}

/// Kills the process with `sig` (no core dump, no exit line in the call log).
pub(crate) fn crash(sig: Signal) -> ! {
    flush_all();
    disable_core_dumps();
    // Rust's runtime installs SIGSEGV/SIGBUS handlers; restore the default action.
    // SAFETY: installing SIG_DFL does not run any code in signal context.
    let _ = unsafe { signal::signal(sig, SigHandler::SigDfl) };
    let mut set = SigSet::empty();
    set.add(sig);
    let _ = signal::sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&set), None);
    let _ = signal::kill(getpid(), sig);
    thread::sleep(Duration::from_millis(200));
    // The signal's default action does not terminate (e.g. SIGCHLD): exit like a shell would report.
    process::exit(128 + sig as i32)
}
