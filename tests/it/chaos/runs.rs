//! Running iris-freeze in a cycle: started, killed at its point if the plan says so, waited for
//! (never past two minutes), its output read on the side so that no pipe can block it.

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ExitStatus};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::host::Host;
use super::plan::{Call, Op, Plan};
use super::procs::{self, now_ms};
use crate::common;

/// How long any one run may take before the soak calls it a hang.
const HANG: Duration = Duration::from_secs(120);

/// A finished run.
pub struct Ran {
    pub what: String,
    pub op: Op,
    pub status: Option<ExitStatus>,
    pub sent: Option<Signal>,
    pub started_ms: u64,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// Exit 0, 1 or 2, or death by the signal the soak sent.
    pub fn exit_ok(&self) -> bool {
        match self.status {
            Some(s) => match (s.code(), s.signal()) {
                (Some(c), _) => (0..=2).contains(&c),
                (None, Some(sig)) => self.sent.is_some_and(|s| s as i32 == sig),
                _ => false,
            },
            None => false,
        }
    }

    pub fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }

    pub fn describe(&self) -> String {
        let how = match self.status {
            None => "still running after 120 s (killed)".to_string(),
            Some(s) => match (s.code(), s.signal()) {
                (Some(c), _) => format!("exit {c}"),
                (_, Some(sig)) => format!("killed by signal {sig}"),
                _ => format!("{s:?}"),
            },
        };
        format!(
            "{} -> {how}\n--- stdout\n{}--- stderr\n{}",
            self.what,
            tail(&self.stdout, 30),
            tail(&self.stderr, 30)
        )
    }
}

pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(n);
    let mut out = lines[start..].join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// A run under way.
pub struct Running {
    what: String,
    op: Op,
    child: Child,
    started: Instant,
    started_ms: u64,
    kill: Option<(Duration, Signal)>,
    sent: Option<Signal>,
    status: Option<ExitStatus>,
    out: Receiver<String>,
    err: Receiver<String>,
}

pub fn start(host: &Host, plan: &Plan, call: &Call) -> Running {
    let mut child = common::spawn(&mut host.command(plan, call));
    let out = reader(child.stdout.take());
    let err = reader(child.stderr.take());
    Running {
        what: call.to_string(),
        op: call.op,
        child,
        started: Instant::now(),
        started_ms: now_ms(),
        kill: call
            .kill
            .map(|k| (Duration::from_millis(k.after_ms), k.signal)),
        sent: None,
        status: None,
        out,
        err,
    }
}

fn reader(pipe: Option<impl Read + Send + 'static>) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    if let Some(mut p) = pipe {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = p.read_to_end(&mut bytes);
            let _ = tx.send(String::from_utf8_lossy(&bytes).into_owned());
        });
    }
    rx
}

impl Running {
    /// Sends the planned signal when its time has come; true once the run has ended.
    fn poll(&mut self) -> bool {
        if self.status.is_none() {
            self.status = self.child.try_wait().unwrap();
        }
        if self.status.is_some() {
            return true;
        }
        if let Some((after, sig)) = self.kill {
            if self.sent.is_none() && self.started.elapsed() >= after {
                procs::signal(self.child.id() as i32, sig);
                self.sent = Some(sig);
            }
        }
        if self.started.elapsed() > HANG {
            let _ = self.child.kill();
            let _ = self.child.wait();
            return true;
        }
        false
    }

    fn finish(mut self) -> Ran {
        while !self.poll() {
            thread::sleep(Duration::from_millis(10));
        }
        // Our pipes are closed by the time it exits, unless something it started holds them.
        let grace = Duration::from_secs(5);
        Ran {
            what: self.what,
            op: self.op,
            status: self.status,
            sent: self.sent,
            started_ms: self.started_ms,
            stdout: self.out.recv_timeout(grace).unwrap_or_default(),
            stderr: self.err.recv_timeout(grace).unwrap_or_default(),
        }
    }
}

/// Runs `call` to its end (or its kill).
pub fn one(host: &Host, plan: &Plan, call: &Call) -> Ran {
    start(host, plan, call).finish()
}

/// Starts `a`, then `b` `after_ms` later (while `a` may still run), and waits for both, each
/// killed at its own point.
pub fn together(host: &Host, plan: &Plan, a: &Call, after_ms: u64, b: &Call) -> (Ran, Ran) {
    let mut first = start(host, plan, a);
    let until = Instant::now() + Duration::from_millis(after_ms);
    while Instant::now() < until {
        first.poll();
        thread::sleep(Duration::from_millis(5));
    }
    let mut second = start(host, plan, b);
    loop {
        let done = [first.poll(), second.poll()];
        if done.iter().all(|d| *d) {
            break;
        }
        thread::sleep(Duration::from_millis(10));
    }
    (first.finish(), second.finish())
}
