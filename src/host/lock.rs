//! One freeze, thaw or watchdog thaw at a time per host: an exclusive flock on `<state dir>/lock`.
//! The holder writes its pid, command and process start time into the file, so a `thaw` that
//! finds a `freeze` still running (Azure runs the post hook while a timed-out pre hook may still
//! be running) can tell it to stop, after checking it really is that process.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::fcntl::{Flock, FlockArg};

use crate::host::procfs;
use crate::host::state::StateDir;

const POLL: Duration = Duration::from_millis(20);

/// Who holds the lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Holder {
    pub(crate) pid: i32,
    pub(crate) command: String,
    /// Field 22 of /proc/PID/stat: tells a reused pid from the real holder.
    pub(crate) start_ticks: u64,
}

impl Holder {
    /// Whether `pid` is still the very process that wrote this record.
    pub(crate) fn is_alive(&self) -> bool {
        procfs::is_running(self.pid, self.start_ticks)
    }
}

pub(crate) struct HostLock {
    lock: Flock<File>,
}

impl HostLock {
    /// Writes the holder record: pid, command and start time. Best effort: the record only
    /// helps a waiting thaw find a running freeze, and a waiting run name its holder.
    pub(crate) fn announce(&mut self, command: &str) {
        let me = std::process::id() as i32;
        let ticks = procfs::own_start_ticks().unwrap_or(0);
        let _ = self.lock.set_len(0);
        let _ = self.lock.seek(SeekFrom::Start(0));
        let _ = self
            .lock
            .write_all(format!("{me} {command} {ticks}\n").as_bytes());
    }
}

/// Takes the lock, waiting until `until`. `Ok(Err(holder))` when it stayed busy. The holder
/// then names itself with [`HostLock::announce`]: a freeze at once, a thaw after its thaw calls
/// (before ExternalThaw every write is freeze window, and nobody acts on a thaw's record).
/// Meanwhile the record names the previous holder, which has let go of the lock: usually gone
/// (its pid and start time then match no live process); at worst a freeze in its last
/// microseconds, which a second thaw's SIGTERM can no longer make roll back.
pub(crate) fn acquire(
    states: &StateDir,
    until: Instant,
) -> Result<Result<HostLock, Option<Holder>>> {
    acquire_file(states.lock_file()?, until, FlockArg::LockExclusiveNonblock)
}

/// The run lock (`run.lock`), waited for as [`acquire`] waits: `run` holds it exclusive from
/// before its freeze until after its thaw; a `freeze` holds it shared (freezes are kept apart
/// by the host lock), so none joins a run's cycle.
pub(crate) fn acquire_run(
    states: &StateDir,
    until: Instant,
    exclusive: bool,
) -> Result<Result<HostLock, Option<Holder>>> {
    let how = if exclusive {
        FlockArg::LockExclusiveNonblock
    } else {
        FlockArg::LockSharedNonblock
    };
    acquire_file(states.run_lock_file()?, until, how)
}

/// For a thaw going on without the lock (still held after its wait, or a stop signal cut the
/// wait short): takes the lock in the background as soon as its holder lets go, and keeps it
/// until this process exits, so that a freeze started meanwhile waits for the thaw to end
/// instead of freezing what it is thawing. Best effort: without a lock file, nothing is held.
pub(crate) fn hold_when_free(states: &StateDir, command: &'static str) {
    let Ok(file) = states.lock_file() else {
        return;
    };
    thread::spawn(move || {
        if let Ok(lock) = Flock::lock(file, FlockArg::LockExclusive) {
            let mut held = HostLock { lock };
            held.announce(command);
            // Released when the process exits, whichever way it does.
            std::mem::forget(held);
        }
    });
}

fn acquire_file(
    mut file: File,
    until: Instant,
    how: FlockArg,
) -> Result<Result<HostLock, Option<Holder>>> {
    loop {
        match Flock::lock(file, how) {
            Ok(lock) => return Ok(Ok(HostLock { lock })),
            Err((f, errno)) if errno == nix::errno::Errno::EWOULDBLOCK => {
                file = f;
                // A stop signal ends the wait: a freeze must roll back (nothing to do yet), a
                // thaw goes ahead without the lock.
                if Instant::now() >= until || crate::host::signals::received().is_some() {
                    return Ok(Err(read_holder(&mut file).filter(Holder::is_alive)));
                }
                thread::sleep(POLL);
            }
            Err((_, errno)) => {
                return Err(errno).context("cannot lock the host lock file");
            }
        }
    }
}

fn read_holder(f: &mut File) -> Option<Holder> {
    let mut s = String::new();
    f.seek(SeekFrom::Start(0)).ok()?;
    f.read_to_string(&mut s).ok()?;
    let mut it = s.split_whitespace();
    Some(Holder {
        pid: it.next()?.parse().ok()?,
        command: it.next()?.to_string(),
        start_ticks: it.next()?.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_acquire_waits_then_reports_the_holder() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = StateDir::open(tmp.path(), None).unwrap();
        let mut first = acquire(&dir, Instant::now()).unwrap().ok().unwrap();
        first.announce("freeze");
        let busy = acquire(&dir, Instant::now() + Duration::from_millis(100))
            .unwrap()
            .err()
            .unwrap()
            .unwrap();
        assert_eq!(busy.pid, std::process::id() as i32);
        assert_eq!(busy.command, "freeze");
        assert!(busy.is_alive());
        drop(first);
        let mut thaw = acquire(&dir, Instant::now()).unwrap().ok().unwrap();
        // A holder names itself only when told to; until then the old record (this process,
        // "freeze") still reads as alive here, so the holder is the stale name.
        let busy = || {
            acquire(&dir, Instant::now())
                .unwrap()
                .err()
                .unwrap()
                .unwrap()
                .command
        };
        assert_eq!(busy(), "freeze");
        thaw.announce("thaw");
        assert_eq!(busy(), "thaw");
    }

    #[test]
    fn a_dead_holders_record_is_not_reported() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("lock"), "1 freeze 1\n").unwrap();
        let dir = StateDir::open(tmp.path(), None).unwrap();
        let _held = acquire(&dir, Instant::now()).unwrap().ok().unwrap();
        let busy = acquire(&dir, Instant::now()).unwrap();
        assert!(matches!(busy, Err(None)), "pid 1 did not start at tick 1");
    }
}
