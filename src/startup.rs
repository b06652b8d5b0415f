//! What std's runtime would do before `main`, and at exit, that a hook relies on; the binary
//! skips the rest of it (see `main.rs`).

use std::io::Write;

use nix::fcntl::{FcntlArg, OFlag, fcntl, open};
use nix::sys::signal::{SigHandler, Signal, signal};
use nix::sys::stat::Mode;

/// stdin, stdout and stderr open, SIGPIPE ignored.
pub fn prepare() {
    // A runner may start us with fd 0, 1 or 2 closed: the next file we open (the log) would
    // take its number and receive what was meant for stdout. /dev/null fills the gap.
    for fd in 0..=2 {
        // SAFETY: only asks whether the descriptor is open.
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        if fcntl(fd, FcntlArg::F_GETFD) == Err(nix::errno::Errno::EBADF) {
            // open(2) returns the lowest free number: this very one. Kept open for good.
            if let Ok(null) = open("/dev/null", OFlag::O_RDWR, Mode::empty()) {
                std::mem::forget(null);
            }
        }
    }
    // A reader that went away (a hook runner that closed our stdout) is an error to ignore,
    // not a reason to die between ExternalFreeze and the record of it. Children get SIGPIPE
    // back at its default: std's spawn restores it.
    // SAFETY: SIG_IGN installs no handler code.
    unsafe {
        let _ = signal(Signal::SIGPIPE, SigHandler::SigIgn);
    }
}

/// At exit: std's runtime would flush stdout.
pub fn finish() {
    let _ = std::io::stdout().flush();
}
