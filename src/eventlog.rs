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
use std::sync::atomic::{AtomicBool, Ordering};
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

/// The log file, opened at the first write: before a thaw's ExternalThaw, an open(2) is freeze
/// window, and a thaw writes nothing before it.
enum Sink {
    Unopened,
    Open(File),
    /// Could not be opened or written (said once on stderr), or none wanted.
    Off,
}

pub struct EventLog {
    path: PathBuf,
    file: Mutex<Sink>,
    /// Lines stamped but not written yet, written before the next line (see `defer`).
    pending: Mutex<Vec<(SystemTime, Vec<String>)>>,
    /// Every line is kept in `pending` until `release` (see `hold`).
    held: AtomicBool,
    cmd: &'static str,
    pid: u32,
}

impl EventLog {
    /// A log appended to `path` (created 0600 at the first write).
    pub fn open(path: &Path, cmd: &'static str) -> EventLog {
        EventLog {
            path: path.to_path_buf(),
            file: Mutex::new(Sink::Unopened),
            pending: Mutex::new(Vec::new()),
            held: AtomicBool::new(false),
            cmd,
            pid: std::process::id(),
        }
    }

    /// A log that writes nowhere (status reads, it does not act).
    pub fn none(cmd: &'static str) -> EventLog {
        EventLog {
            path: PathBuf::new(),
            file: Mutex::new(Sink::Off),
            pending: Mutex::new(Vec::new()),
            held: AtomicBool::new(false),
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
        use std::fmt::Write;
        let msg = msg.to_string();
        let prefix = inst.map(|i| format!("{i}: ")).unwrap_or_default();
        match level {
            Level::Info => say!(INFO, "{prefix}{msg}"),
            Level::Warn => say!(WARN, "{prefix}{msg}"),
            Level::Error => say!(ERROR, "{prefix}{msg}"),
        }
        let mut line = String::with_capacity(80 + msg.len());
        let _ = write!(
            line,
            "pid={} cmd={} inst={} event={event} rc=",
            self.pid,
            self.cmd,
            inst.unwrap_or("-")
        );
        let _ = match rc {
            Some(c) => write!(line, "{c}"),
            None => write!(line, "-"),
        };
        let _ = match elapsed {
            Some(d) => write!(line, " elapsed={:.3}s ", d.as_secs_f64()),
            None => write!(line, " elapsed=- "),
        };
        push_one_line(&mut line, &msg);
        line
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
        let head = format!(
            "pid={} cmd={} inst={inst} event=output rc=- elapsed=- | ",
            self.pid, self.cmd
        );
        for line in output.by_ref().take(OUTPUT_LINES) {
            say!(DEBUG, "{inst}| {line}");
            let mut l = String::with_capacity(head.len() + line.len());
            l.push_str(&head);
            push_one_line(&mut l, line);
            lines.push(l);
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

    /// From now on lines are stamped and kept, not written, until [`release`](Self::release):
    /// the watchdog thaws first and logs after, so a log that blocks cannot delay its thaw.
    pub fn hold(&self) {
        self.held.store(true, Ordering::Relaxed);
    }

    /// Writes what [`hold`](Self::hold) kept, and every line after it as usual.
    pub fn release(&self) {
        self.held.store(false, Ordering::Relaxed);
        let kept = !self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty();
        if kept {
            self.write(&[]);
        }
    }

    /// Timestamps and appends `lines` in one write(2), so concurrent runs appending to the
    /// same file never interleave within it.
    fn write(&self, lines: &[String]) {
        if self.held.load(Ordering::Relaxed) {
            self.pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((SystemTime::now(), lines.to_vec()));
            return;
        }
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Sink::Unopened = *guard {
            *guard = match OpenOptions::new()
                .append(true)
                .create(true)
                .mode(0o600)
                .open(&self.path)
            {
                Ok(f) => Sink::Open(f),
                Err(e) => {
                    say!(
                        WARN,
                        "cannot open the log {}: {e}; carrying on without it (set --log-file or \
                         IRIS_FREEZE_LOG_FILE to a writable path)",
                        self.path.display()
                    );
                    Sink::Off
                }
            };
        }
        let Sink::Open(file) = &mut *guard else {
            return;
        };
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
            *guard = Sink::Off;
        }
    }
}

/// Appends `s` with line breaks as spaces: one event, one line.
fn push_one_line(out: &mut String, s: &str) {
    for (i, part) in s.split(['\n', '\r']).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(part);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::End;

    #[test]
    fn lines_have_the_documented_fields_and_break_no_line() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("log");
        let log = EventLog::open(&path, "freeze");
        log.event(
            Level::Info,
            Some("IRIS"),
            "frozen",
            Some(5),
            Some(Duration::from_millis(812)),
            "two\nlines\r",
        );
        log.event(Level::Warn, None, "lock", None, None, "plain");
        let o = Outcome {
            end: End::Exited(5),
            stdout: "first\n\n  second  \n".into(),
            stderr: String::new(),
            dropped: 3,
            elapsed: Duration::from_millis(20),
        };
        log.call_later(Level::Info, "IRIS", "thaw", &o, "done");
        log.info(None, "end", "last");
        let text = std::fs::read_to_string(&path).unwrap();
        let pid = std::process::id();
        let lines: Vec<&str> = text.lines().map(|l| l.split_once(' ').unwrap().1).collect();
        assert_eq!(
            lines,
            [
                format!(
                    "pid={pid} cmd=freeze inst=IRIS event=frozen rc=5 elapsed=0.812s two lines "
                ),
                format!("pid={pid} cmd=freeze inst=- event=lock rc=- elapsed=- plain"),
                format!("pid={pid} cmd=freeze inst=IRIS event=thaw rc=5 elapsed=0.020s done"),
                format!("pid={pid} cmd=freeze inst=IRIS event=output rc=- elapsed=- | first"),
                format!("pid={pid} cmd=freeze inst=IRIS event=output rc=- elapsed=- |   second"),
                format!(
                    "pid={pid} cmd=freeze inst=IRIS event=output rc=- elapsed=- | ... 0 more lines \
                     and 3 more bytes not logged"
                ),
                format!("pid={pid} cmd=freeze inst=- event=end rc=- elapsed=- last"),
            ]
        );
        // Every line starts with an RFC 3339 stamp in milliseconds.
        for l in text.lines() {
            let ts = l.split(' ').next().unwrap();
            assert!(DateTime::parse_from_rfc3339(ts).is_ok(), "{ts}");
            assert_eq!(ts.len(), "2026-11-25T12:00:00.123+00:00".len(), "{ts}");
        }
    }
}
