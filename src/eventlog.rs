//! The event log: appended (never truncated) to /etc/preScript.log or /etc/postScript.log, one
//! line per event, created 0600. A log that cannot be written never changes the outcome.
//!
//! Line format (fields separated by single spaces, message last):
//! `2026-11-25T12:00:00.123+00:00 pid=4242 cmd=freeze inst=IRIS event=frozen rc=5 elapsed=0.812s text`

use std::fmt::Display;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Local, SecondsFormat};

use crate::session::Outcome;

/// IRIS output lines kept per call; the rest is counted, not written (a call that prints a
/// megabyte must not fill /etc).
const OUTPUT_LINES: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

pub struct EventLog {
    path: PathBuf,
    file: Mutex<Option<File>>,
    /// Lines stamped but not written yet, written before the next line (see `defer`).
    pending: Mutex<Vec<(SystemTime, Vec<String>)>>,
    cmd: &'static str,
    pid: u32,
}

impl EventLog {
    pub fn open(path: &Path, cmd: &'static str) -> EventLog {
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| {
                say!(
                    WARN,
                    "cannot open the log {}: {e}; carrying on without it (set --log-file or \
                     IRIS_FREEZE_LOG_FILE to a writable path)",
                    path.display()
                )
            })
            .ok();
        EventLog {
            path: path.to_path_buf(),
            file: Mutex::new(file),
            pending: Mutex::new(Vec::new()),
            cmd,
            pid: std::process::id(),
        }
    }

    /// A log that writes nowhere (status reads, it does not act).
    pub fn none(cmd: &'static str) -> EventLog {
        EventLog {
            path: PathBuf::new(),
            file: Mutex::new(None),
            pending: Mutex::new(Vec::new()),
            cmd,
            pid: std::process::id(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one event line, and shows it on stderr at `level` (info only with -v).
    pub fn event(
        &self,
        level: Level,
        inst: Option<&str>,
        event: &str,
        rc: Option<i32>,
        elapsed: Option<Duration>,
        msg: impl Display,
    ) {
        let line = self.event_line(level, inst, event, rc, elapsed, msg);
        self.write(&[line]);
    }

    fn event_line(
        &self,
        level: Level,
        inst: Option<&str>,
        event: &str,
        rc: Option<i32>,
        elapsed: Option<Duration>,
        msg: impl Display,
    ) -> String {
        let msg = msg.to_string();
        let inst_s = inst.unwrap_or("-");
        let shown = match inst {
            Some(i) => format!("{i}: {msg}"),
            None => msg.clone(),
        };
        match level {
            Level::Info => say!(INFO, "{shown}"),
            Level::Warn => say!(WARN, "{shown}"),
            Level::Error => say!(ERROR, "{shown}"),
        }
        let rc = rc.map_or("-".to_string(), |c| c.to_string());
        let elapsed = elapsed.map_or("-".to_string(), |d| format!("{:.3}s", d.as_secs_f64()));
        format!(
            "pid={} cmd={} inst={inst_s} event={event} rc={rc} elapsed={elapsed} {}",
            self.pid,
            self.cmd,
            one_line(&msg)
        )
    }

    /// Logs an event about a finished IRIS call, with its exit code and duration, followed by
    /// what IRIS printed (at freeze it names the journal file a restore starts from). One write,
    /// so parallel calls on several instances never interleave their lines.
    pub fn call(&self, level: Level, inst: &str, event: &str, o: &Outcome, msg: impl Display) {
        let lines = self.call_lines(level, inst, event, o, msg);
        self.write(&lines);
    }

    /// As [`call`](Self::call), written with the next line: after ExternalFreeze returns, one
    /// write for the whole run's last lines is less freeze window than one per event.
    pub fn call_later(
        &self,
        level: Level,
        inst: &str,
        event: &str,
        o: &Outcome,
        msg: impl Display,
    ) {
        let lines = self.call_lines(level, inst, event, o, msg);
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((SystemTime::now(), lines));
    }

    fn call_lines(
        &self,
        level: Level,
        inst: &str,
        event: &str,
        o: &Outcome,
        msg: impl Display,
    ) -> Vec<String> {
        let mut lines =
            vec![self.event_line(level, Some(inst), event, o.code(), Some(o.elapsed), msg)];
        let mut output = o.lines();
        for line in output.by_ref().take(OUTPUT_LINES) {
            say!(DEBUG, "{inst}| {line}");
            lines.push(format!(
                "pid={} cmd={} inst={inst} event=output rc=- elapsed=- | {}",
                self.pid,
                self.cmd,
                one_line(line)
            ));
        }
        let more = output.count();
        if more > 0 || o.dropped > 0 {
            lines.push(format!(
                "pid={} cmd={} inst={inst} event=output rc=- elapsed=- | ... {more} more lines \
                 and {} more bytes not logged",
                self.pid, self.cmd, o.dropped
            ));
        }
        lines
    }

    /// An info event stamped now but written with the next line: before ExternalThaw, loading
    /// the time zone and formatting a line would be freeze window.
    pub fn defer(&self, event: &str, msg: impl Display) {
        let line = self.event_line(Level::Info, None, event, None, None, msg);
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((SystemTime::now(), vec![line]));
    }

    pub fn info(&self, inst: Option<&str>, event: &str, msg: impl Display) {
        self.event(Level::Info, inst, event, None, None, msg);
    }

    pub fn warn(&self, inst: Option<&str>, event: &str, msg: impl Display) {
        self.event(Level::Warn, inst, event, None, None, msg);
    }

    pub fn error(&self, inst: Option<&str>, event: &str, msg: impl Display) {
        self.event(Level::Error, inst, event, None, None, msg);
    }

    /// Timestamps and appends `lines` in one write(2), so concurrent runs appending to the
    /// same file never interleave within it.
    fn write(&self, lines: &[String]) {
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let Some(file) = guard.as_mut() else { return };
        let stamp = |t: DateTime<Local>| t.to_rfc3339_opts(SecondsFormat::Millis, false);
        let pending = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        let mut text = String::with_capacity(1024);
        let mut add = |ts: &str, lines: &[String]| {
            for l in lines {
                text.extend([ts, " ", l, "\n"]);
            }
        };
        for (t, group) in pending {
            add(&stamp(t.into()), &group);
        }
        add(&stamp(Local::now()), lines);
        if let Err(e) = file.write_all(text.as_bytes()) {
            say!(
                WARN,
                "cannot write the log {}: {e}; carrying on without it",
                self.path.display()
            );
            *guard = None;
        }
    }
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}
