//! Runs one IRIS/Caché command (`iris session`, `csession`, `qlist`): stdin from /dev/null, its
//! own process group, a deadline (SIGTERM to the group, SIGKILL after a grace), and both output
//! streams drained on threads so neither a megabyte of output nor a grandchild that keeps the
//! pipe open can hold us past the child's exit.

use std::ffi::OsString;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// Between SIGTERM and SIGKILL to a timed-out call's process group.
pub const KILL_GRACE: Duration = Duration::from_secs(2);
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
pub enum End {
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
pub enum Stop {
    OnSignal,
    Never,
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub end: End,
    pub stdout: String,
    pub stderr: String,
    /// Bytes dropped beyond the capture limit, both streams together.
    pub dropped: usize,
    pub elapsed: Duration,
}

impl Outcome {
    /// The exit code, when the call ended with one.
    pub fn code(&self) -> Option<i32> {
        match self.end {
            End::Exited(c) => Some(c),
            _ => None,
        }
    }

    /// IRIS printed a login prompt: OS authentication is not set up for this user.
    pub fn asked_for_login(&self) -> bool {
        self.stdout.contains("Username:") || self.stderr.contains("Username:")
    }

    /// A few words on how the call ended, for logs and errors.
    pub fn describe(&self) -> String {
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
                crate::signals::name(*signal)
            ),
            End::SpawnFailed(e) => format!("could not be started: {e}"),
        }
    }

    /// Non-empty output lines of both streams, stdout first.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
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

enum Event {
    Eof,
    Exit(std::io::Result<ExitStatus>),
}

/// Runs `program args` until it exits, `deadline` passes, or (with `Stop::OnSignal`) we are
/// told to stop.
pub fn run(program: &Path, args: &[OsString], deadline: Instant, stop: Stop) -> Outcome {
    run_with_input(program, args, deadline, stop, None)
}

/// As [`run`], with `input` on stdin instead of /dev/null (credentials for a login prompt; a
/// call that never reads them just exits with them unread in the pipe).
pub fn run_with_input(
    program: &Path,
    args: &[OsString],
    deadline: Instant,
    stop: Stop,
    input: Option<&[u8]>,
) -> Outcome {
    let start = Instant::now();
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
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Outcome {
                end: End::SpawnFailed(format!("{}: {e}", program.display())),
                stdout: String::new(),
                stderr: String::new(),
                dropped: 0,
                elapsed: start.elapsed(),
            };
        }
    };
    let pgid = Pid::from_raw(child.id() as i32);
    if let (Some(mut stdin), Some(bytes)) = (child.stdin.take(), input) {
        let bytes = bytes.to_vec();
        // A thread, so a child that never reads cannot block us; the pipe closes after it.
        thread::spawn(move || {
            let _ = std::io::Write::write_all(&mut stdin, &bytes);
        });
    }
    let capture = Arc::new(Mutex::new(Capture::default()));
    let (tx, rx) = mpsc::channel();

    let out = child
        .stdout
        .take()
        .map(|s| Box::new(s) as Box<dyn Read + Send>);
    let err = child
        .stderr
        .take()
        .map(|s| Box::new(s) as Box<dyn Read + Send>);
    for (stream, is_err) in [(out, false), (err, true)] {
        let Some(mut stream) = stream else {
            let _ = tx.send(Event::Eof);
            continue;
        };
        let (tx, capture) = (tx.clone(), Arc::clone(&capture));
        thread::spawn(move || {
            let mut buf = [0u8; 64 * 1024];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut c = capture.lock().unwrap_or_else(|p| p.into_inner());
                let c = &mut *c;
                let dst = if is_err { &mut c.err } else { &mut c.out };
                let keep = n.min(CAPTURE_LIMIT.saturating_sub(dst.len()));
                dst.extend_from_slice(&buf[..keep]);
                c.dropped += n - keep;
            }
            let _ = tx.send(Event::Eof);
        });
    }
    thread::spawn(move || {
        let _ = tx.send(Event::Exit(child.wait()));
    });

    let mut eofs = 0;
    let mut status = None;
    let mut cut_short = None;
    match wait_for_exit(&rx, &mut eofs, deadline, stop) {
        Waited::Exited(s) => status = Some(s),
        Waited::Deadline => {
            cut_short = Some(End::TimedOut {
                after: start.elapsed(),
                still_running: false,
            })
        }
        Waited::Signal(signal) => cut_short = Some(End::Interrupted { signal }),
    }
    if let Some(end) = &cut_short {
        let grace = match end {
            End::Interrupted { .. } => INTERRUPT_GRACE,
            _ => KILL_GRACE,
        };
        let _ = killpg(pgid, Signal::SIGTERM);
        status = wait_for_exit(&rx, &mut eofs, Instant::now() + grace, Stop::Never).exited();
        // Whatever the leader did, nothing of a call cut short may linger in its group.
        let _ = killpg(pgid, Signal::SIGKILL);
        if status.is_none() {
            status =
                wait_for_exit(&rx, &mut eofs, Instant::now() + REAP_WAIT, Stop::Never).exited();
        }
    }
    let drain_until = Instant::now() + DRAIN_GRACE;
    while eofs < 2 {
        match rx.recv_timeout(drain_until.saturating_duration_since(Instant::now())) {
            Ok(Event::Eof) => eofs += 1,
            Ok(Event::Exit(_)) => {}
            Err(_) => break,
        }
    }

    let end = match (cut_short, status) {
        (Some(End::TimedOut { after, .. }), s) => End::TimedOut {
            after,
            still_running: s.is_none(),
        },
        (Some(end), _) => end,
        (None, Some(Ok(st))) => match (st.code(), st.signal()) {
            (Some(c), _) => End::Exited(c),
            (None, Some(sig)) => End::Signaled(sig),
            (None, None) => End::SpawnFailed(format!("unexpected wait status {st:?}")),
        },
        (None, Some(Err(e))) => End::SpawnFailed(format!("waiting for it failed: {e}")),
        (None, None) => unreachable!("no exit and no timeout"),
    };
    let c = capture.lock().unwrap_or_else(|p| p.into_inner());
    Outcome {
        end,
        stdout: String::from_utf8_lossy(&c.out).into_owned(),
        stderr: String::from_utf8_lossy(&c.err).into_owned(),
        dropped: c.dropped,
        elapsed: start.elapsed(),
    }
}

enum Waited {
    Exited(std::io::Result<ExitStatus>),
    Deadline,
    Signal(i32),
}

impl Waited {
    fn exited(self) -> Option<std::io::Result<ExitStatus>> {
        match self {
            Waited::Exited(s) => Some(s),
            _ => None,
        }
    }
}

/// Waits for the child's exit event until `until`, counting EOFs that arrive meanwhile. The
/// exit is reported the moment it happens; only the signal check polls.
fn wait_for_exit(rx: &Receiver<Event>, eofs: &mut usize, until: Instant, stop: Stop) -> Waited {
    loop {
        if stop == Stop::OnSignal {
            if let Some(sig) = crate::signals::received() {
                return Waited::Signal(sig);
            }
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Waited::Deadline;
        }
        let slice = match stop {
            Stop::OnSignal => left.min(SIGNAL_POLL),
            Stop::Never => left,
        };
        match rx.recv_timeout(slice) {
            Ok(Event::Exit(s)) => return Waited::Exited(s),
            Ok(Event::Eof) => *eofs += 1,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Waited::Deadline,
        }
    }
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

    #[test]
    fn login_prompt_is_recognised() {
        let o = sh("printf 'Username: '; exit 1", 10.0);
        assert!(o.asked_for_login());
    }
}
