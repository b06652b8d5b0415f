//! Runs one command (an IRIS session, `qlist`, `systemd-run`): stdin from /dev/null, its
//! own process group, a deadline (SIGTERM to the group, SIGKILL after a grace), and both output
//! streams drained as they come, so neither a megabyte of output nor a grandchild that keeps the
//! pipe open can hold us past the child's exit. One thread does it all with poll(2).

mod call;
mod outcome;

use std::ffi::OsString;
use std::path::Path;
use std::time::{Duration, Instant};

use call::{Call, Capture, Waited};
pub(crate) use outcome::{End, Outcome};

/// After the child exits, how long its output may take to reach EOF. Output written before
/// exit is already in the pipe, so this only matters when a grandchild holds the pipe open.
const DRAIN_GRACE: Duration = Duration::from_millis(200);

/// Whether a stop signal (see `signals`) cuts a call short; such a call is also killed when
/// we die (SIGKILL), while a `Never` call (a thaw) runs to its end without us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    OnSignal,
    Never,
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
    // A call we stop when told to stop also dies with us; a thaw's call (`Never`) finishes.
    let dies_with_us = stop == Stop::OnSignal;
    let mut call = match Call::spawn(program, args, input, use_pidfd, dies_with_us) {
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

#[cfg(test)]
mod tests {
    use super::call::{CAPTURE_LIMIT, KILL_GRACE};
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
}
