//! The event log: appended (never truncated) to /etc/preScript.log or /etc/postScript.log, one
//! line per event, created 0600. A log that cannot be written never changes the outcome.
//!
//! Line format (fields separated by single spaces, message last):
//! `2026-11-25T12:00:00.123+00:00 pid=4242 cmd=freeze inst=IRIS event=frozen rc=5 elapsed=0.812s text`
//!
//! Every field is escaped (see `util::escape`): whatever IRIS prints or the state file names,
//! the log stays text and one event stays one line, its fields one token each.

mod batch;

use std::fmt::Display;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Local, SecondsFormat};

use crate::host::journal::Journal;
use crate::host::process::Outcome;
use crate::host::trust;
use crate::settings::env;

use batch::Batch;

/// IRIS output lines kept per call; the rest is counted, not written (a call that prints a
/// megabyte must not fill /etc).
const OUTPUT_LINES: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    fn stderr(self) -> tracing::Level {
        match self {
            Level::Info => tracing::Level::INFO,
            Level::Warn => tracing::Level::WARN,
            Level::Error => tracing::Level::ERROR,
        }
    }
}

/// The log file, opened at the first write: a command that logs nothing never creates it.
enum Sink {
    Unopened,
    Open(File),
    /// Could not be opened or written (said once on stderr), or none wanted.
    Off,
}

pub(crate) struct EventLog {
    path: PathBuf,
    file: Mutex<Sink>,
    /// Batches stamped but not written yet while the log is held (see `hold`).
    pending: Mutex<Vec<(SystemTime, Batch)>>,
    /// Every line is kept in `pending` until `release` (see `hold`).
    held: AtomicBool,
    cmd: &'static str,
    pid: u32,
    /// Where events go as well (`host::journal`), when it is on.
    journal: Option<Journal>,
    /// The cycle the events belong to, once known (`IRIS_FREEZE_ID`).
    cycle_id: Mutex<Option<String>>,
}

impl EventLog {
    /// A log appended to `path` (created 0600 at the first write).
    pub(crate) fn open(path: &Path, cmd: &'static str) -> EventLog {
        EventLog {
            path: path.to_path_buf(),
            file: Mutex::new(Sink::Unopened),
            ..EventLog::none(cmd)
        }
    }

    /// A log that writes nowhere (status reads, it does not act).
    pub(crate) fn none(cmd: &'static str) -> EventLog {
        EventLog {
            path: PathBuf::new(),
            file: Mutex::new(Sink::Off),
            pending: Mutex::new(Vec::new()),
            held: AtomicBool::new(false),
            cmd,
            pid: std::process::id(),
            journal: None,
            cycle_id: Mutex::new(None),
        }
    }

    /// Sends every event to the journal at `socket` as well (none: the journal is off). No
    /// socket there is no error: journald does not run.
    pub(crate) fn with_journal(mut self, socket: Option<&Path>) -> EventLog {
        self.journal = socket.map(Journal::new);
        self
    }

    /// Names the cycle the following events belong to, in their journal entries.
    pub(crate) fn set_cycle_id(&self, id: &str) {
        *self.cycle_id.lock().unwrap_or_else(|p| p.into_inner()) = Some(id.to_string());
    }

    /// Writes one event line, then shows it on stderr at `level` (info only with -v).
    pub(crate) fn event(
        &self,
        level: Level,
        inst: Option<&str>,
        event: &str,
        rc: Option<i32>,
        elapsed: Option<Duration>,
        msg: impl Display,
    ) {
        let batch = self.event_batch(level, inst, event, rc, elapsed, msg);
        self.write(batch);
    }

    /// Logs an event about a finished IRIS call, with its exit code and duration, followed by
    /// what IRIS printed (at freeze it names the journal file a restore starts from). One write,
    /// so parallel calls on several instances never interleave their lines.
    pub(crate) fn call(
        &self,
        level: Level,
        inst: &str,
        event: &str,
        o: &Outcome,
        msg: impl Display,
    ) {
        let batch = self.call_batch(level, inst, event, o, msg);
        self.write(batch);
    }

    pub(crate) fn info(&self, inst: Option<&str>, event: &str, msg: impl Display) {
        self.event(Level::Info, inst, event, None, None, msg);
    }

    pub(crate) fn warn(&self, inst: Option<&str>, event: &str, msg: impl Display) {
        self.event(Level::Warn, inst, event, None, None, msg);
    }

    pub(crate) fn error(&self, inst: Option<&str>, event: &str, msg: impl Display) {
        self.event(Level::Error, inst, event, None, None, msg);
    }

    /// From now on lines are stamped and kept, not written, until [`release`](Self::release):
    /// the watchdog thaws first and logs after, so a log that blocks cannot delay its thaw.
    pub(crate) fn hold(&self) {
        self.held.store(true, Ordering::Relaxed);
    }

    /// Writes what [`hold`](Self::hold) kept, and every line after it as usual.
    pub(crate) fn release(&self) {
        self.held.store(false, Ordering::Relaxed);
        let kept = !self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty();
        if kept {
            self.write(Batch {
                lines: Vec::new(),
                shown: Vec::new(),
                journal: None,
            });
        }
    }

    /// Keeps `batch`, stamped now, for [`release`](Self::release).
    fn postpone(&self, batch: Batch) {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((SystemTime::now(), batch));
    }

    /// Appends the pending batches and `batch` to the log, then shows them on stderr: the log
    /// first, since a stderr nobody reads must never cost a line of it.
    fn write(&self, batch: Batch) {
        if self.held.load(Ordering::Relaxed) {
            self.postpone(batch);
            return;
        }
        let pending = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        self.append(&pending, &batch.lines);
        self.send(pending.iter().map(|(_, b)| b).chain([&batch]));
        for b in pending.iter().map(|(_, b)| b).chain([&batch]) {
            for (level, text) in &b.shown {
                show(*level, text);
            }
        }
    }

    /// Sends the batches' events to the journal, after the log: one datagram each, never a
    /// wait.
    fn send<'a>(&self, batches: impl Iterator<Item = &'a Batch>) {
        let Some(journal) = &self.journal else {
            return;
        };
        let id = self
            .cycle_id
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for entry in batches.filter_map(|b| b.journal.as_ref()) {
            journal.send(&entry.fields(id.as_deref()));
        }
    }

    /// Timestamps and appends the lines in one write(2), so concurrent runs appending to the
    /// same file never interleave within it.
    fn append(&self, pending: &[(SystemTime, Batch)], lines: &[String]) {
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Sink::Unopened = *guard {
            *guard = self.open_file();
        }
        let Sink::Open(file) = &mut *guard else {
            return;
        };
        let stamp = |t: DateTime<Local>| t.to_rfc3339_opts(SecondsFormat::Millis, false);
        let mut text = String::with_capacity(1024);
        let mut add = |ts: &str, lines: &[String]| {
            for l in lines {
                text.extend([ts, " ", l, "\n"]);
            }
        };
        for (t, batch) in pending {
            add(&stamp((*t).into()), &batch.lines);
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

    /// Opens the log as root may: never through a symlink, never blocking on a FIFO, only a
    /// regular file in directories nobody else can write. Anything else is skipped, said once.
    fn open_file(&self) -> Sink {
        let path = std::path::absolute(&self.path).unwrap_or_else(|_| self.path.clone());
        match trust::open_append(&path, 0o600) {
            Ok(f) => Sink::Open(f),
            Err(e) => {
                say!(
                    WARN,
                    "cannot open the log: {e:#}; carrying on without it (fix that, or name a \
                     regular file in a directory nobody else can write with --log-file or {})",
                    env::LOG_FILE
                );
                Sink::Off
            }
        }
    }
}

/// Shows `text` on stderr at `level`, per -v/-q.
fn show(level: tracing::Level, text: &str) {
    match level {
        tracing::Level::ERROR => say!(ERROR, "{text}"),
        tracing::Level::WARN => say!(WARN, "{text}"),
        tracing::Level::INFO => say!(INFO, "{text}"),
        _ => say!(DEBUG, "{text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::process::End;

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
            "two\nlines\r\0back\\slash\x7f",
        );
        log.event(Level::Warn, None, "lock", None, None, "plain");
        let o = Outcome {
            end: End::Exited(5),
            stdout: "first\n\n  second \x1b[1m\n".into(),
            stderr: String::new(),
            dropped: 3,
            elapsed: Duration::from_millis(20),
        };
        log.call(Level::Info, "IRIS", "thaw", &o, "done");
        log.info(None, "end", "last");
        let text = std::fs::read_to_string(&path).unwrap();
        let pid = std::process::id();
        let lines: Vec<&str> = text.lines().map(|l| l.split_once(' ').unwrap().1).collect();
        assert_eq!(
            lines,
            [
                format!(
                    "pid={pid} cmd=freeze inst=IRIS event=frozen rc=5 elapsed=0.812s \
                     two\\nlines\\r\\x00back\\\\slash\\x7f"
                ),
                format!("pid={pid} cmd=freeze inst=- event=lock rc=- elapsed=- plain"),
                format!("pid={pid} cmd=freeze inst=IRIS event=thaw rc=5 elapsed=0.020s done"),
                format!("pid={pid} cmd=freeze inst=IRIS event=output rc=- elapsed=- | first"),
                format!(
                    "pid={pid} cmd=freeze inst=IRIS event=output rc=- elapsed=- |   second \\x1b[1m"
                ),
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

    #[test]
    fn held_lines_wait_for_release_and_keep_their_order_and_time() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("log");
        let log = EventLog::open(&path, "watchdog");
        log.info(None, "before", "written at once");
        log.hold();
        log.error(None, "auto-thaw", "kept");
        std::thread::sleep(Duration::from_millis(20));
        log.warn(None, "lock", "kept too");
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        log.release();
        log.info(None, "end", "after");
        let text = std::fs::read_to_string(&path).unwrap();
        let events: Vec<&str> = text.lines().map(|l| l.split(' ').nth(4).unwrap()).collect();
        assert_eq!(
            events,
            ["event=before", "event=auto-thaw", "event=lock", "event=end"]
        );
        // Each kept line carries the time of its event, not of the release.
        let stamps: Vec<&str> = text.lines().map(|l| l.split(' ').next().unwrap()).collect();
        assert_ne!(stamps[1], stamps[2], "{text}");
    }

    #[test]
    fn an_instance_name_cannot_forge_a_field_or_a_line() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("log");
        let log = EventLog::open(&path, "thaw");
        log.info(Some("X event=thawed\n2026 pid=1"), "thaw", "m");
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        let line = text.lines().next().unwrap();
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(
            fields[3],
            "inst=X\\x20event\\x3dthawed\\n2026\\x20pid\\x3d1"
        );
        assert_eq!(fields[4], "event=thaw");
    }

    #[test]
    fn events_go_to_the_journal_after_the_log_with_the_cycle_id_once_told() {
        use std::os::unix::net::UnixDatagram;
        let tmp = tempfile::tempdir().unwrap();
        let socket = tmp.path().join("journal");
        let server = UnixDatagram::bind(&socket).unwrap();
        server.set_nonblocking(true).unwrap();
        let next = || {
            let mut buf = vec![0u8; 65536];
            let n = server.recv(&mut buf).ok()?;
            Some(String::from_utf8_lossy(&buf[..n]).into_owned())
        };
        let log = EventLog::open(&tmp.path().join("log"), "freeze").with_journal(Some(&socket));
        log.info(None, "start", "first");
        let first = next().unwrap();
        assert!(first.contains("MESSAGE=first\n"), "{first}");
        assert!(!first.contains("IRIS_FREEZE_ID"), "{first}");
        log.set_cycle_id("c1");
        let o = Outcome {
            end: End::Exited(5),
            stdout: "journal file /j/1\nline two\n".into(),
            stderr: String::new(),
            dropped: 0,
            elapsed: Duration::from_millis(20),
        };
        log.call(
            Level::Info,
            "IRIS",
            "frozen",
            &o,
            "ExternalFreeze succeeded",
        );
        let frozen = next().unwrap();
        for want in [
            "MESSAGE=IRIS: ExternalFreeze succeeded\n",
            "MESSAGE_ID=dc2b2a8ed6ae4f1486e9ccd1ac878d60\n",
            "IRIS_INSTANCE=IRIS\n",
            "IRIS_FREEZE_ID=c1\n",
            "IRIS_RC=5\n",
            "journal file /j/1\nline two\n",
        ] {
            assert!(frozen.contains(want), "{want:?} not in {frozen:?}");
        }
        // Output lines are part of their call's entry, not entries of their own.
        assert_eq!(next(), None);
        log.hold();
        log.error(None, "auto-thaw", "kept");
        assert_eq!(next(), None, "a held event reached the journal");
        log.release();
        assert!(next().unwrap().contains("MESSAGE=kept\n"));
    }
}
