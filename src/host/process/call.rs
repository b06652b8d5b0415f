//! A running call, watched from this thread alone with poll(2): its output streams, its exit
//! (a pidfd, or waitpid), and the kill of its process group.

use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::libc;
use nix::poll::{PollFd, PollFlags, ppoll};
use nix::sys::signal::{Signal, killpg};
use nix::sys::time::TimeSpec;
use nix::unistd::Pid;

use super::{End, Outcome, Stop};

/// Between SIGTERM and SIGKILL to a timed-out call's process group.
pub(super) const KILL_GRACE: Duration = Duration::from_secs(2);
/// How long to wait for the kernel to report a SIGKILLed child (a process stuck in D state).
const REAP_WAIT: Duration = Duration::from_secs(2);
/// Between SIGTERM and SIGKILL when we were told to stop: VMware kills us 5 s after its SIGTERM,
/// and the rollback still has to run.
const INTERRUPT_GRACE: Duration = Duration::from_millis(500);
/// How often an interruptible call looks for a stop signal.
const SIGNAL_POLL: Duration = Duration::from_millis(50);
/// Output kept per stream; the rest is read and dropped so the child never blocks on a pipe.
pub(super) const CAPTURE_LIMIT: usize = 256 * 1024;

/// The output kept so far, both streams apart.
#[derive(Default)]
pub(super) struct Capture {
    out: Vec<u8>,
    err: Vec<u8>,
    dropped: usize,
}

/// A running call, watched from this thread alone: no reader or waiter threads, whose start
/// and hand-offs would be freeze window.
pub(super) struct Call {
    child: Child,
    /// Readable once the child has exited (Linux 5.3+); without it the exit is polled.
    pidfd: Option<OwnedFd>,
    /// stdout and stderr, until each reaches EOF.
    streams: [Option<OwnedFd>; 2],
    status: Option<std::io::Result<ExitStatus>>,
    pub(super) capture: Capture,
}

/// Why `pump` returned.
pub(super) enum Waited {
    Done,
    Deadline,
    Signal(i32),
}

/// The child gets SIGKILL when this thread (which waits for it) dies. An ExternalFreeze left
/// running by a SIGKILLed freeze would otherwise land after the watchdog's thaw, and nothing
/// would ever thaw it. A parent already gone before the prctl is caught by getppid.
fn die_with_us(cmd: &mut Command) {
    let parent = nix::unistd::getpid();
    // SAFETY: prctl(2) and getppid(2) are async-signal-safe and touch no memory of ours.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)?;
            if nix::unistd::getppid() != parent {
                return Err(std::io::Error::from(std::io::ErrorKind::NotFound));
            }
            Ok(())
        });
    }
}

impl Call {
    /// Starts `program` in its own process group, with `input` (or /dev/null) on stdin and both
    /// output streams piped; killed if we die first when `dies_with_us`.
    pub(super) fn spawn(
        program: &Path,
        args: &[OsString],
        input: Option<&[u8]>,
        use_pidfd: bool,
        dies_with_us: bool,
    ) -> std::io::Result<Call> {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        if dies_with_us {
            die_with_us(&mut cmd);
        }
        let mut child = cmd.spawn()?;
        if let (Some(stdin), Some(bytes)) = (child.stdin.take(), input) {
            // Credentials are a few bytes: they fit in the empty pipe at once, and non-blocking
            // means a child that never reads cannot hold us. Dropping `stdin` closes the pipe.
            let _ = fcntl(&stdin, FcntlArg::F_SETFL(OFlag::O_NONBLOCK));
            let _ = (&File::from(OwnedFd::from(stdin))).write_all(bytes);
        }
        Ok(Call {
            pidfd: if use_pidfd { pidfd_open(&child) } else { None },
            streams: [
                child.stdout.take().map(OwnedFd::from),
                child.stderr.take().map(OwnedFd::from),
            ],
            child,
            status: None,
            capture: Capture::default(),
        })
    }

    /// Stops a call cut short (`end`): SIGTERM to its group, a grace, then SIGKILL. A timeout
    /// learns whether even SIGKILL was not reported within the reap wait.
    pub(super) fn kill_group(&mut self, mut end: End) -> End {
        let pgid = Pid::from_raw(self.child.id() as i32);
        let grace = match end {
            End::Interrupted { .. } => INTERRUPT_GRACE,
            _ => KILL_GRACE,
        };
        let _ = killpg(pgid, Signal::SIGTERM);
        self.pump(Instant::now() + grace, Stop::Never, Call::exited);
        // Whatever the leader did, nothing of a call cut short may linger in its group.
        let _ = killpg(pgid, Signal::SIGKILL);
        if self.status.is_none() {
            self.pump(Instant::now() + REAP_WAIT, Stop::Never, Call::exited);
        }
        if let End::TimedOut { still_running, .. } = &mut end {
            *still_running = self.status.is_none();
        }
        end
    }

    /// How a call that was not cut short ended.
    pub(super) fn end(&self) -> End {
        match &self.status {
            Some(Ok(st)) => match (st.code(), st.signal()) {
                (Some(c), _) => End::Exited(c),
                (None, Some(sig)) => End::Signaled(sig),
                (None, None) => End::SpawnFailed(format!("unexpected wait status {st:?}")),
            },
            Some(Err(e)) => End::SpawnFailed(format!("waiting for it failed: {e}")),
            None => unreachable!("no exit and no timeout"),
        }
    }

    pub(super) fn exited(&self) -> bool {
        self.status.is_some()
    }

    pub(super) fn drained(&self) -> bool {
        self.streams.iter().all(Option::is_none)
    }

    /// Reads output and watches for the exit until `done`, `until`, or (with `Stop::OnSignal`) a
    /// stop signal. The exit and output are seen the moment they happen; only the signal check
    /// and, without a pidfd, the exit check poll.
    pub(super) fn pump(&mut self, until: Instant, stop: Stop, done: fn(&Call) -> bool) -> Waited {
        // Without a pidfd: how long to sleep before looking for the exit again, growing from
        // tens of microseconds (the exit follows EOF closely) to the signal poll.
        let mut exit_poll = Duration::from_micros(20);
        loop {
            if self.status.is_none() && (self.pidfd.is_none() || self.drained()) {
                self.reap();
            }
            if done(self) {
                return Waited::Done;
            }
            if stop == Stop::OnSignal {
                if let Some(sig) = crate::host::signals::received() {
                    return Waited::Signal(sig);
                }
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Waited::Deadline;
            }
            let mut slice = left;
            if stop == Stop::OnSignal {
                slice = slice.min(SIGNAL_POLL);
            }
            if self.status.is_none() && self.pidfd.is_none() {
                slice = slice.min(if self.drained() {
                    exit_poll
                } else {
                    SIGNAL_POLL
                });
                exit_poll = (exit_poll * 2).min(SIGNAL_POLL);
            }
            self.wait_and_read(slice);
        }
    }

    /// One poll(2) of the open streams and, while the exit is awaited, the pidfd, for at most
    /// `slice`: reaps the child if its pidfd is ready and reads what each stream has.
    fn wait_and_read(&mut self, slice: Duration) {
        let mut fds: Vec<PollFd> = Vec::with_capacity(3);
        for s in self.streams.iter().flatten() {
            fds.push(PollFd::new(s.as_fd(), PollFlags::POLLIN));
        }
        let n_streams = fds.len();
        if let (None, Some(p)) = (&self.status, &self.pidfd) {
            fds.push(PollFd::new(p.as_fd(), PollFlags::POLLIN));
        }
        // EINTR (a signal) just means: look again.
        let _ = ppoll(&mut fds, Some(TimeSpec::from_duration(slice)), None);
        let ready: Vec<bool> = fds
            .iter()
            .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        if ready.get(n_streams) == Some(&true) {
            self.reap();
        }
        let mut buf = [0u8; 16 * 1024];
        let mut ready = ready.into_iter();
        for (is_err, slot) in self.streams.iter_mut().enumerate() {
            let Some(fd) = slot else { continue };
            if ready.next() != Some(true) {
                continue;
            }
            match nix::unistd::read(&*fd, &mut buf) {
                Ok(0) => *slot = None,
                Ok(n) => self.capture.keep(is_err == 1, &buf[..n]),
                Err(Errno::EINTR | Errno::EAGAIN) => {}
                Err(_) => *slot = None,
            }
        }
    }

    fn reap(&mut self) {
        match self.child.try_wait() {
            Ok(Some(st)) => self.status = Some(Ok(st)),
            Ok(None) => {}
            Err(e) => self.status = Some(Err(e)),
        }
    }
}

impl Capture {
    pub(super) fn into_outcome(self, end: End, elapsed: Duration) -> Outcome {
        Outcome {
            end,
            stdout: String::from_utf8_lossy(&self.out).into_owned(),
            stderr: String::from_utf8_lossy(&self.err).into_owned(),
            dropped: self.dropped,
            elapsed,
        }
    }

    /// Keeps up to the capture limit per stream; the rest is counted and dropped.
    fn keep(&mut self, is_err: bool, bytes: &[u8]) {
        let dst = if is_err { &mut self.err } else { &mut self.out };
        let keep = bytes.len().min(CAPTURE_LIMIT.saturating_sub(dst.len()));
        dst.extend_from_slice(&bytes[..keep]);
        self.dropped += bytes.len() - keep;
    }
}

/// A pidfd for the child (pidfd_open(2), Linux 5.3+). `None` on older kernels (RHEL 8 runs
/// 4.18) or where seccomp forbids it; the exit is then polled.
fn pidfd_open(child: &Child) -> Option<OwnedFd> {
    // SAFETY: a plain syscall; the pid is our unreaped child, so it cannot be reused, and the
    // returned fd (close-on-exec) is owned by nobody else.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, child.id() as libc::pid_t, 0) };
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}
