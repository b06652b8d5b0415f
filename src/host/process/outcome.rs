//! How a call ended, and what it printed.

use std::time::Duration;

use nix::sys::signal::Signal;

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
