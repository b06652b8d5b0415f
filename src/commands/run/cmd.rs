//! CMD itself: started with the cycle in its environment, run's stdio, in its own process
//! group; watched until it and what it left running end, its deadline passes (SIGTERM to them,
//! then SIGKILL) or a stop signal comes to us (passed on to them).

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use super::{Frozen, display, leftovers, lookup};
use crate::host::eventlog::EventLog;
use crate::host::history::CmdEvent;
use crate::host::signals;
use crate::settings::env;

/// Between the SIGTERM and the SIGKILL to CMD's group at its deadline.
pub(super) const KILL_GRACE: Duration = Duration::from_secs(5);
/// How often CMD, the deadline and our signals are looked at.
const POLL: Duration = Duration::from_millis(20);

/// How CMD ended.
pub(super) struct Ended {
    status: Option<ExitStatus>,
    timed_out: bool,
    /// It exited, but what it left running was killed at its deadline.
    left_killed: bool,
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

    /// `exit 0 (1.2s)`, `killed by SIGTERM (timed out) (30.0s)`, `not run: ...`, `exit 0
    /// (timed out) (30.0s), what it left running killed: not consistent`.
    pub(super) fn describe(&self) -> String {
        let how = format!("{} ({:.1}s)", self.event(String::new()).ended(), self.secs);
        match self.left_killed {
            true => format!("{how}, what it left running killed at its deadline: not consistent"),
            false => how,
        }
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
    let (before, problem) = leftovers::watch_from_here();
    if let Some(why) = problem {
        log.warn(
            None,
            "cmd",
            format!("{why}: only its process group is waited for"),
        );
    }
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
            leftovers::stop_watching();
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
    let ended = watch(child, before, deadline, log, start);
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
            left_killed: false,
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
        left_killed: false,
        error: Some(why),
        secs: start.elapsed().as_secs_f64(),
    }
}

/// Waits for `child`, then for what it left running (see [`leftovers`]), passing our stop
/// signals on to them; at `deadline` they are killed (SIGTERM, then SIGKILL after `KILL_GRACE`).
fn watch(
    mut child: Child,
    before: leftovers::Before,
    deadline: Instant,
    log: &EventLog,
    start: Instant,
) -> Ended {
    // Its pid is its group's id (process_group(0)).
    let mut w = Watched {
        group: Pid::from_raw(child.id() as i32),
        before: before.with_cmd(child.id()),
        status: None,
        timed_out: false,
        left_killed: false,
        kill_at: None,
        waiting_since: None,
    };
    let ended = loop {
        if w.status.is_none() {
            match child.try_wait() {
                Ok(Some(status)) => w.exited(status),
                Ok(None) => {}
                Err(e) => {
                    w.signal(Signal::SIGKILL);
                    break Some(format!("cannot wait for it: {e}"));
                }
            }
        }
        if w.status.is_some() && w.all_ended(log, start) {
            break None;
        }
        if let Some(sig) = signals::take() {
            pass_on(&w, sig, log);
        }
        let now = Instant::now();
        if !w.timed_out && now >= deadline {
            w.deadline_passed(now, start, log);
        }
        if w.kill_at.is_some_and(|t| now >= t) {
            // Every poll from now: an orphan killed processes leave comes to us next.
            w.signal(Signal::SIGKILL);
            if w.kill_at.is_some_and(|t| now >= t + KILL_GRACE) {
                // Unkillable (stuck in the kernel): the thaw cannot wait for ever.
                log.error(
                    None,
                    "cmd",
                    "what CMD started still runs after SIGKILL: thawing anyway".to_string(),
                );
                break None;
            }
        }
        std::thread::sleep(POLL);
    };
    leftovers::stop_watching();
    Ended {
        status: w.status,
        timed_out: w.timed_out,
        left_killed: w.left_killed,
        error: ended,
        secs: start.elapsed().as_secs_f64(),
    }
}

/// CMD's processes as `watch` follows them.
struct Watched {
    group: Pid,
    before: leftovers::Before,
    /// How CMD's own process ended, once it has.
    status: Option<ExitStatus>,
    timed_out: bool,
    /// CMD had exited, and what it left running was killed at the deadline.
    left_killed: bool,
    kill_at: Option<Instant>,
    /// Since when the thaw waits for what CMD left running.
    waiting_since: Option<Instant>,
}

impl Watched {
    fn exited(&mut self, status: ExitStatus) {
        self.status = Some(status);
        if self.timed_out {
            // What ignored the SIGTERM goes now.
            self.kill_at = Some(Instant::now());
        }
    }

    /// The processes CMD started that still run (new children of ours, and whether its group
    /// still has members).
    fn left(&self) -> (Vec<i32>, bool) {
        leftovers::left(self.group, &self.before)
    }

    /// Whether nothing CMD started still runs; says when the thaw starts waiting for it, and
    /// when that ends.
    fn all_ended(&mut self, log: &EventLog, start: Instant) -> bool {
        let (pids, in_group) = self.left();
        let ended = pids.is_empty() && !in_group;
        match (ended, self.waiting_since) {
            (false, None) => {
                self.waiting_since = Some(Instant::now());
                let how = self.status.map(ended_as).unwrap_or_default();
                log.info(
                    None,
                    "cmd",
                    format!(
                        "CMD {how} after {:.1}s, but left processes running ({}): the thaw \
                         waits for them, until CMD's deadline",
                        start.elapsed().as_secs_f64(),
                        describe_left(&pids, in_group)
                    ),
                );
            }
            (true, Some(since)) if !self.timed_out => log.info(
                None,
                "cmd",
                format!(
                    "what CMD left running has ended, {:.1}s after CMD",
                    since.elapsed().as_secs_f64()
                ),
            ),
            _ => {}
        }
        ended
    }

    fn deadline_passed(&mut self, now: Instant, start: Instant, log: &EventLog) {
        self.timed_out = true;
        self.kill_at = Some(now + KILL_GRACE);
        let secs = now.duration_since(start).as_secs_f64();
        let grace = KILL_GRACE.as_secs();
        if self.status.is_none() {
            log.error(
                None,
                "cmd",
                format!(
                    "CMD passed its deadline ({secs:.1}s, --cmd-timeout): SIGTERM to its \
                     process group, SIGKILL in {grace}s"
                ),
            );
        } else {
            self.left_killed = true;
            let (pids, in_group) = self.left();
            log.error(
                None,
                "cmd",
                format!(
                    "what CMD left running ({}) still runs at its deadline ({secs:.1}s, \
                     --cmd-timeout): killed, SIGTERM now and SIGKILL in {grace}s; the snapshot \
                     is not consistent",
                    describe_left(&pids, in_group)
                ),
            );
        }
        self.signal(Signal::SIGTERM);
    }

    /// `sig` to CMD's group and to what it left running (orphans come to us even while CMD
    /// still runs).
    fn signal(&self, sig: Signal) {
        leftovers::signal(self.group, &self.left().0, sig);
    }
}

/// `exit 0`, `killed by SIGTERM`.
fn ended_as(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exited {c}"),
        (None, Some(s)) => format!("was killed by {}", signals::name(s)),
        (None, None) => "ended".into(),
    }
}

/// `pids 12, 13 and its process group`, for the log.
fn describe_left(pids: &[i32], in_group: bool) -> String {
    let mut parts = Vec::new();
    if !pids.is_empty() {
        let list: Vec<String> = pids.iter().map(i32::to_string).collect();
        parts.push(format!("pids {}", list.join(", ")));
    }
    if in_group {
        parts.push("members of its process group".into());
    }
    parts.join(" and ")
}

/// A stop signal to us goes to CMD's group and what it left running; the thaw follows when
/// they end.
fn pass_on(w: &Watched, sig: i32, log: &EventLog) {
    log.warn(
        None,
        "signal",
        format!(
            "received {}: passed on to CMD's process group; the thaw follows when it ends",
            signals::name(sig)
        ),
    );
    if let Ok(s) = Signal::try_from(sig) {
        w.signal(s);
    }
}
