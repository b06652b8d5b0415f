//! CMD itself: started with the cycle in its environment, run's stdio, in its own process
//! group; watched until it ends, its deadline passes (SIGTERM to the group, then SIGKILL) or a
//! stop signal comes to us (passed on to the group).

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::{Frozen, display, lookup};
use crate::config::env;
use crate::host::eventlog::EventLog;
use crate::host::history::CmdEvent;
use crate::host::signals;

/// Between the SIGTERM and the SIGKILL to CMD's group at its deadline.
pub(super) const KILL_GRACE: Duration = Duration::from_secs(5);
/// How often CMD, the deadline and our signals are looked at.
const POLL: Duration = Duration::from_millis(20);

/// How CMD ended.
pub(super) struct Ended {
    status: Option<ExitStatus>,
    timed_out: bool,
    /// Why it could not start, or could not be waited for.
    error: Option<String>,
    secs: f64,
}

impl Ended {
    /// Exit 0, in time.
    pub(super) fn ok(&self) -> bool {
        !self.timed_out && self.error.is_none() && self.status.is_some_and(|s| s.success())
    }

    pub(super) fn event(&self, argv: String) -> CmdEvent {
        CmdEvent {
            argv,
            code: self.status.and_then(|s| s.code()),
            signal: self
                .status
                .and_then(|s| s.signal())
                .map(|s| signals::name(s).to_string()),
            timed_out: self.timed_out,
            error: self.error.clone(),
            secs: (self.secs * 1000.0).round() / 1000.0,
        }
    }

    /// `exit 0 (1.2s)`, `killed by SIGTERM (timed out) (30.0s)`, `not run: ...`.
    pub(super) fn describe(&self) -> String {
        format!("{} ({:.1}s)", self.event(String::new()).ended(), self.secs)
    }
}

/// Runs `argv` (its first word found as `program` by [`check`]) until it ends or `deadline`;
/// never fails: how it ended says it all.
pub(super) fn run(
    program: &Path,
    argv: &[OsString],
    frozen: &Frozen,
    deadline: Instant,
    log: &EventLog,
) -> Ended {
    let start = Instant::now();
    let shown = display(argv);
    let Some((name, args)) = argv.split_first() else {
        return not_started(start, "no command given".into(), log);
    };
    // The path found, never a second PATH search by exec; argv[0] as typed.
    let mut c = Command::new(program);
    c.arg0(name)
        .args(args)
        .env(env::ID, frozen.id.as_deref().unwrap_or(""))
        .env(env::INSTANCES, frozen.instances.join(","))
        .env(env::DATA_SERVERS, frozen.data_servers.join(","))
        // Its own group: a timeout kills what it started too, and a Ctrl-C reaches us only.
        .process_group(0);
    let child = match c.spawn() {
        Ok(child) => child,
        Err(e) => {
            let why = format!(
                "cannot run {:?}: {e}; check the name, PATH and that it is executable",
                program.display().to_string()
            );
            return not_started(start, why, log);
        }
    };
    log.info(
        None,
        "cmd",
        format!(
            "running {shown} ({}, pid {}, deadline in {:.1}s)",
            program.display(),
            child.id(),
            deadline.saturating_duration_since(start).as_secs_f64()
        ),
    );
    let ended = watch(child, deadline, log, start);
    let how = ended.describe();
    if ended.ok() {
        log.info(None, "cmd", format!("{shown}: {how}"));
    } else {
        log.error(None, "cmd", format!("{shown}: {how}: thawing"));
    }
    ended
}

/// The program `argv` runs, or why it cannot start, found before anything is frozen: no CMD, a
/// misplaced option, a file named with a `/` that is not executable, or a name with no program
/// root may run on PATH (see [`lookup`]).
pub(super) fn check(argv: &[OsString]) -> Result<PathBuf, String> {
    let Some(program) = argv.first() else {
        return Err("no command given: iris-freeze run [OPTIONS] -- CMD [ARGS...]".into());
    };
    let name = program.to_string_lossy();
    if name.starts_with('-') {
        return Err(format!(
            "CMD starts with {name:?}, which looks like an option of run put after `--`: \
             run's options go before it (iris-freeze run [OPTIONS] -- CMD [ARGS...])"
        ));
    }
    if !name.contains('/') {
        return lookup::in_path(program);
    }
    // Named by its path: the operator's choice, run as given.
    if executable(Path::new(program)) {
        return Ok(PathBuf::from(program));
    }
    Err(format!(
        "cannot run {name:?}: not an executable file; check the name, PATH and that it is \
         executable"
    ))
}

/// A regular file with an execute bit (root may run any such file; others learn at exec).
fn executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
impl Ended {
    pub(super) fn exited_ok_for_tests() -> Ended {
        Ended {
            status: Some(ExitStatus::from_raw(0)),
            timed_out: false,
            error: None,
            secs: 0.0,
        }
    }
}

fn not_started(start: Instant, why: String, log: &EventLog) -> Ended {
    log.error(None, "cmd", format!("{why}: thawing"));
    Ended {
        status: None,
        timed_out: false,
        error: Some(why),
        secs: start.elapsed().as_secs_f64(),
    }
}

/// Waits for `child`, passing our stop signals on to its group and killing the group at
/// `deadline` (SIGTERM, then SIGKILL after `KILL_GRACE`).
fn watch(mut child: Child, deadline: Instant, log: &EventLog, start: Instant) -> Ended {
    // Its pid is its group's id (process_group(0)).
    let group = Pid::from_raw(child.id() as i32);
    let mut timed_out = false;
    let mut kill_at: Option<Instant> = None;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                if timed_out {
                    // What ignored the SIGTERM in its group goes too.
                    let _ = killpg(group, Signal::SIGKILL);
                }
                return Ended {
                    status: Some(status),
                    timed_out,
                    error: None,
                    secs: start.elapsed().as_secs_f64(),
                };
            }
            Ok(None) => {}
            Err(e) => {
                let _ = killpg(group, Signal::SIGKILL);
                return Ended {
                    status: None,
                    timed_out,
                    error: Some(format!("cannot wait for it: {e}")),
                    secs: start.elapsed().as_secs_f64(),
                };
            }
        }
        if let Some(sig) = signals::take() {
            pass_on(group, sig, log);
        }
        let now = Instant::now();
        if !timed_out && now >= deadline {
            timed_out = true;
            log.error(
                None,
                "cmd",
                format!(
                    "CMD passed its deadline ({:.1}s, --cmd-timeout): SIGTERM to its process \
                     group, SIGKILL in {}s",
                    now.duration_since(start).as_secs_f64(),
                    KILL_GRACE.as_secs()
                ),
            );
            let _ = killpg(group, Signal::SIGTERM);
            kill_at = Some(now + KILL_GRACE);
        }
        if kill_at.is_some_and(|t| now >= t) {
            let _ = killpg(group, Signal::SIGKILL);
            kill_at = None;
        }
        std::thread::sleep(POLL);
    }
}

/// A stop signal to us goes to CMD's group; the thaw follows when CMD ends.
fn pass_on(group: Pid, sig: i32, log: &EventLog) {
    log.warn(
        None,
        "signal",
        format!(
            "received {}: passed on to CMD's process group; the thaw follows when it ends",
            signals::name(sig)
        ),
    );
    if let Ok(s) = Signal::try_from(sig) {
        let _ = killpg(group, s);
    }
}
