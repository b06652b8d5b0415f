//! What CMD leaves running when it exits: a snapshot step put in the background must end before
//! the thaw, or it snapshots a thawed instance. `run` is a child subreaper while CMD runs, so a
//! process CMD started is reparented to `run` when its parent exits, even one that left CMD's
//! process group (setsid): every live descendant of CMD is then a new child of ours, or below
//! one. Processes handed to a service manager (systemd-run, at, a daemon's socket) are not
//! descendants, and are not seen.

use std::collections::HashSet;

use nix::sys::signal::{Signal, kill, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::host::procfs::children;

/// Our children before CMD started (the detached watchdog), and CMD's own process (reaped by
/// its `Child`): never what CMD left running.
pub(super) struct Before(HashSet<i32>);

impl Before {
    /// Notes CMD's own process.
    pub(super) fn with_cmd(mut self, pid: u32) -> Before {
        self.0.insert(pid as i32);
        self
    }
}

/// Makes `run` the subreaper of what CMD starts, and notes the children it already has.
/// Best effort: without it (no /proc, an old kernel) only CMD's process group is seen.
pub(super) fn watch_from_here() -> (Before, Option<String>) {
    let problem = nix::sys::prctl::set_child_subreaper(true)
        .err()
        .map(|e| format!("cannot become the subreaper of CMD's processes ({e})"));
    (Before(children().into_iter().collect()), problem)
}

/// Stops being a subreaper: what CMD started is gone by now.
pub(super) fn stop_watching() {
    let _ = nix::sys::prctl::set_child_subreaper(false);
}

/// The processes CMD started that still run: the new children of ours (zombies among them are
/// reaped here), and whether any process is left in CMD's process group.
pub(super) fn left(group: Pid, before: &Before) -> (Vec<i32>, bool) {
    let alive = children()
        .into_iter()
        .filter(|pid| !before.0.contains(pid))
        .filter(|&pid| {
            matches!(
                waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG)),
                Ok(WaitStatus::StillAlive)
            )
        })
        .collect();
    (alive, killpg(group, None).is_ok())
}

/// `sig` to CMD's group and to each of `pids` (never their groups: one may be `run`'s own).
pub(super) fn signal(group: Pid, pids: &[i32], sig: Signal) {
    let _ = killpg(group, sig);
    for &pid in pids {
        let _ = kill(Pid::from_raw(pid), sig);
    }
}
