//! Runs one IRIS/Caché command (`iris session`, `csession`, `qlist`): stdin from /dev/null, its
//! own process group, a deadline (SIGTERM to the group, SIGKILL after a grace), and both output
//! streams drained as they come, so neither a megabyte of output nor a grandchild that keeps the
//! pipe open can hold us past the child's exit. One thread does it all with poll(2).

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

/// Between SIGTERM and SIGKILL to a timed-out call's process group.
pub(crate) const KILL_GRACE: Duration = Duration::from_secs(2);
/// How long to wait for the kernel to report a SIGKILLed child (a process stuck in D state).
const REAP_WAIT: Duration = Duration::from_secs(2);
/// After the child exits, how long its output may take to reach EOF. Output written before
/// exit is already in the pipe, so this only matters when a grandchild holds the pipe open.
const DRAIN_GRACE: Duration = Duration::from_millis(200);
/// Between SIGTERM and SIGKILL when we were told to stop: VMware kills us 5 s after its SIGTERM,
/// and the rollback still has to run.
const INTERRUPT_GRACE: Duration = Duration::from_millis(500);
/// How often an interruptible call looks for a stop signal.
const SIGNAL_POLL: Duration = Duration::from_millis(50);
/// Output kept per stream; the rest is read and dropped so the child never blocks on a pipe.
const CAPTURE_LIMIT: usize = 256 * 1024;

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum End {
    Exited(i32),
    Signaled(i32),
    /// The deadline passed; the group was sent SIGTERM then SIGKILL.
    /// `still_running` means even SIGKILL was not reported within the reap wait.
    TimedOut {
        after: Duration,
        still_running: bool,
    },
    /// We received a stop signal and killed the call.
    Interrupted {
        signal: i32,
    },
    SpawnFailed(String),
}

/// Whether a stop signal (see `signals`) cuts a call short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    OnSignal,
    Never,
}

#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub(crate) end: End,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    /// Bytes dropped beyond the capture limit, both streams together.
    pub(crate) dropped: usize,
    pub(crate) elapsed: Duration,
}

impl Outcome {
    /// The exit code, when the call ended with one.
    pub(crate) fn code(&self) -> Option<i32> {
        match self.end {
            End::Exited(c) => Some(c),
            _ => None,
        }
    }

    /// IRIS printed a login prompt: OS authentication is not set up for this user.
    pub(crate) fn asked_for_login(&self) -> bool {
        self.stdout.contains("Username:") || self.stderr.contains("Username:")
    }

    /// A few words on how the call ended, for logs and errors.
    pub(crate) fn describe(&self) -> String {
        match &self.end {
            End::Exited(c) => format!("exit {c}"),
            End::Signaled(s) => format!("killed by signal {s} ({})", signal_name(*s)),
            End::TimedOut {
                after,
                still_running: false,
            } => format!("timed out after {:.1}s and was killed", after.as_secs_f64()),
            End::TimedOut {
                after,
                still_running: true,
            } => format!(
                "timed out after {:.1}s and did not die even after SIGKILL",
                after.as_secs_f64()
            ),
            End::Interrupted { signal } => format!(
                "was killed because iris-freeze received {}",
                crate::host::signals::name(*signal)
            ),
            End::SpawnFailed(e) => format!("could not be started: {e}"),
        }
    }

    /// Non-empty output lines of both streams, stdout first.
    pub(crate) fn lines(&self) -> impl Iterator<Item = &str> {
        self.stdout
            .lines()
            .chain(self.stderr.lines())
            .map(str::trim_end)
            .filter(|l| !l.trim().is_empty())
    }
}

fn signal_name(n: i32) -> &'static str {
    Signal::try_from(n).map(|s| s.as_str()).unwrap_or("unknown")
}

#[derive(Default)]
struct Capture {
    out: Vec<u8>,
    err: Vec<u8>,
    dropped: usize,
}

/// Runs `program args` until it exits, `deadline` passes, or (with `Stop::OnSignal`) we are
/// told to stop.
pub(crate) fn run(program: &Path, args: &[OsString], deadline: Instant, stop: Stop) -> Outcome {
    run_with_input(program, args, deadline, stop, None)
}

/// As [`run`], with `input` on stdin instead of /dev/null (credentials for a login prompt; a
/// call that never reads them just exits with them unread in the pipe).
pub(crate) fn run_with_input(
    program: &Path,
    args: &[OsString],
    deadline: Instant,
    stop: Stop,
    input: Option<&[u8]>,
) -> Outcome {
    run_inner(program, args, deadline, stop, input, true)
}

/// The runner, with pidfd use switchable so tests cover the fallback of kernels before 5.3.
fn run_inner(
    program: &Path,
    args: &[OsString],
    deadline: Instant,
    stop: Stop,
    input: Option<&[u8]>,
    use_pidfd: bool,
) -> Outcome {
    let start = Instant::now();
    let mut call = match Call::spawn(program, args, input, use_pidfd) {
        Ok(call) => call,
        Err(e) => {
            let end = End::SpawnFailed(format!("{}: {e}", program.display()));
            return Capture::default().into_outcome(end, start.elapsed());
        }
    };
    let cut_short = match call.pump(deadline, stop, Call::exited) {
        Waited::Done => None,
        Waited::Deadline => Some(End::TimedOut {
            after: start.elapsed(),
            still_running: false,
        }),
        Waited::Signal(signal) => Some(End::Interrupted { signal }),
    };
    let cut_short = cut_short.map(|end| call.kill_group(end));
    call.pump(Instant::now() + DRAIN_GRACE, Stop::Never, Call::drained);
    let end = cut_short.unwrap_or_else(|| call.end());
    call.capture.into_outcome(end, start.elapsed())
}

/// A running call, watched from this thread alone: no reader or waiter threads, whose start
/// and hand-offs would be freeze window.
struct Call {
    child: Child,
    /// Readable once the child has exited (Linux 5.3+); without it the exit is polled.
    pidfd: Option<OwnedFd>,
    /// stdout and stderr, until each reaches EOF.
    streams: [Option<OwnedFd>; 2],
    status: Option<std::io::Result<ExitStatus>>,
    capture: Capture,
}

enum Waited {
    Done,
    Deadline,
    Signal(i32),
}

impl Call {
    /// Starts `program` in its own process group, with `input` (or /dev/null) on stdin and both
    /// output streams piped.
    fn spawn(
        program: &Path,
        args: &[OsString],
        input: Option<&[u8]>,
        use_pidfd: bool,
    ) -> std::io::Result<Call> {
        let mut child = Command::new(program)
            .args(args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()?;
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
    fn kill_group(&mut self, mut end: End) -> End {
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
    fn end(&self) -> End {
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

    fn exited(&self) -> bool {
        self.status.is_some()
    }

    fn drained(&self) -> bool {
        self.streams.iter().all(Option::is_none)
    }

    /// Reads output and watches for the exit until `done`, `until`, or (with `Stop::OnSignal`) a
    /// stop signal. The exit and output are seen the moment they happen; only the signal check
    /// and, without a pidfd, the exit check poll.
    fn pump(&mut self, until: Instant, stop: Stop, done: fn(&Call) -> bool) -> Waited {
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
    fn into_outcome(self, end: End, elapsed: Duration) -> Outcome {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, secs: f64) -> Outcome {
        run(
            Path::new("/bin/sh"),
            &["-c".into(), script.into()],
            Instant::now() + Duration::from_secs_f64(secs),
            Stop::Never,
        )
    }

    #[test]
    fn exit_code_and_output() {
        let o = sh("echo hello; echo oops >&2; exit 5", 10.0);
        assert_eq!(o.end, End::Exited(5));
        assert_eq!(o.stdout, "hello\n");
        assert_eq!(o.stderr, "oops\n");
        assert_eq!(o.lines().collect::<Vec<_>>(), ["hello", "oops"]);
    }

    #[test]
    fn stdin_is_dev_null() {
        let o = sh("read x; echo \"rc=$?\"", 10.0);
        assert_eq!(o.stdout, "rc=1\n");
    }

    #[test]
    fn deadline_kills_the_whole_group() {
        let o = sh("sleep 30 & sleep 30; echo never", 0.3);
        assert!(
            matches!(
                o.end,
                End::TimedOut {
                    still_running: false,
                    ..
                }
            ),
            "{o:?}"
        );
        assert!(o.elapsed < Duration::from_secs(10));
    }

    #[test]
    fn sigterm_ignored_means_sigkill() {
        let o = sh("trap '' TERM; sleep 30", 0.3);
        assert!(
            matches!(
                o.end,
                End::TimedOut {
                    still_running: false,
                    ..
                }
            ),
            "{o:?}"
        );
        assert!(o.elapsed >= KILL_GRACE);
    }

    #[test]
    fn a_megabyte_of_output_does_not_block() {
        let o = sh("head -c 1048576 /dev/zero | tr '\\0' x; exit 3", 20.0);
        assert_eq!(o.end, End::Exited(3));
        assert_eq!(o.stdout.len() + o.dropped, 1048576);
        assert_eq!(o.stdout.len(), CAPTURE_LIMIT);
    }

    #[test]
    fn a_grandchild_holding_the_pipe_does_not_hold_us() {
        let o = sh("sleep 20 & echo done; exit 5", 30.0);
        assert_eq!(o.end, End::Exited(5));
        assert_eq!(o.stdout, "done\n");
        assert!(o.elapsed < Duration::from_secs(10), "{:?}", o.elapsed);
    }

    #[test]
    fn missing_program_is_a_spawn_failure() {
        let o = run(
            Path::new("/nonexistent/iris"),
            &[],
            Instant::now() + Duration::from_secs(1),
            Stop::Never,
        );
        assert!(matches!(o.end, End::SpawnFailed(_)));
        assert!(o.describe().contains("/nonexistent/iris"));
    }

    #[test]
    fn signal_death_is_reported() {
        let o = sh("kill -SEGV $$", 10.0);
        assert_eq!(o.end, End::Signaled(11));
        assert!(o.describe().contains("SIGSEGV"));
    }

    #[test]
    fn input_reaches_stdin_and_then_eof() {
        let o = run_with_input(
            Path::new("/bin/sh"),
            &[
                "-c".into(),
                "read a; read b; read c; echo \"$a/$b/$?\"".into(),
            ],
            Instant::now() + Duration::from_secs(10),
            Stop::Never,
            Some(b"user\npass\n"),
        );
        assert_eq!(o.stdout, "user/pass/1\n");
    }

    /// The same paths without a pidfd, as on RHEL 8's 4.18 kernel.
    #[test]
    fn without_pidfd_the_exit_is_still_seen() {
        let run = |script: &str, secs: f64, input: Option<&[u8]>| {
            run_inner(
                Path::new("/bin/sh"),
                &["-c".into(), script.into()],
                Instant::now() + Duration::from_secs_f64(secs),
                Stop::Never,
                input,
                false,
            )
        };
        let o = run("echo hello; echo oops >&2; exit 5", 10.0, None);
        assert_eq!(o.end, End::Exited(5));
        assert_eq!(
            (o.stdout.as_str(), o.stderr.as_str()),
            ("hello\n", "oops\n")
        );
        // Output closed early, exit later: the exit is still waited for.
        let o = run("exec >&- 2>&-; sleep 0.3; exit 3", 10.0, None);
        assert_eq!(o.end, End::Exited(3));
        assert!(o.elapsed >= Duration::from_millis(300), "{:?}", o.elapsed);
        let o = run("sleep 20 & echo done; exit 5", 30.0, None);
        assert_eq!((&o.end, o.stdout.as_str()), (&End::Exited(5), "done\n"));
        assert!(o.elapsed < Duration::from_secs(10), "{:?}", o.elapsed);
        let o = run("sleep 30 & sleep 30", 0.3, None);
        assert!(
            matches!(
                o.end,
                End::TimedOut {
                    still_running: false,
                    ..
                }
            ),
            "{o:?}"
        );
        let o = run("read a; echo \"$a\"", 10.0, Some(b"user\n"));
        assert_eq!(o.stdout, "user\n");
    }

    #[test]
    fn output_closed_before_exit_waits_for_the_exit() {
        let o = sh("exec >&- 2>&-; sleep 0.3; exit 4", 10.0);
        assert_eq!(o.end, End::Exited(4));
        assert!(o.elapsed >= Duration::from_millis(300), "{:?}", o.elapsed);
    }

    #[test]
    fn input_the_child_never_reads_does_not_block() {
        let o = run_with_input(
            Path::new("/bin/sh"),
            &["-c".into(), "exit 5".into()],
            Instant::now() + Duration::from_secs(10),
            Stop::Never,
            Some(&[b'x'; 4096]),
        );
        assert_eq!(o.end, End::Exited(5));
    }

    #[test]
    fn login_prompt_is_recognised() {
        let o = sh("printf 'Username: '; exit 1", 10.0);
        assert!(o.asked_for_login());
    }
}
