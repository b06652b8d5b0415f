//! The history of freeze/thaw cycles: one JSON line per event (freeze, thaw, rollback,
//! auto-thaw) appended to a file on persistent disk (`/var/lib/iris-freeze/history.jsonl`), so
//! it survives reboots and travels inside the snapshot itself. Bounded: past `ROTATE_AT` bytes
//! the file becomes `history.jsonl.1` (the one before it is dropped) and a new one starts.
//! Writing it never fails a command: callers log an error as a warning and go on.

mod cycles;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::host::eventlog::EventLog;
use crate::host::trust;

pub(crate) use cycles::{Cycle, cycles};

/// Where the history lives unless `--history-file` says otherwise.
pub(crate) const DEFAULT_HISTORY_FILE: &str = "/var/lib/iris-freeze/history.jsonl";
/// The size past which the file is rotated: about 2,000 cycles of one instance.
pub(crate) const ROTATE_AT: u64 = 1024 * 1024;
/// The version of the line format below.
const VERSION: u32 = 1;

/// What happened in a cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum EventKind {
    Freeze,
    Thaw,
    Rollback,
    AutoThaw,
    /// `run`'s command, between its freeze and its thaw.
    Cmd,
}

/// One line of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Event {
    /// The line format's version.
    pub(crate) v: u32,
    /// The cycle's id (see [`new_id`]), shared by its freeze and its thaw.
    pub(crate) id: String,
    pub(crate) event: EventKind,
    /// When the event ended, RFC 3339.
    pub(crate) at: String,
    /// The hook or command that ran it (`azure prescript.sh`, `freeze`, `watchdog`).
    pub(crate) by: String,
    /// Our exit code.
    pub(crate) exit: u8,
    pub(crate) instances: Vec<InstanceEvent>,
    /// What `run`'s command did (a `cmd` event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cmd: Option<CmdEvent>,
    /// The backup job the hook call named (Commvault's `-job`), and its attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) job: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) attempt: Option<u32>,
}

/// How `run`'s command ended; never its environment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct CmdEvent {
    /// Its argv, shell-quoted and joined, for display.
    pub(crate) argv: String,
    /// Its exit code, when it exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) code: Option<i32>,
    /// The signal that ended it (`SIGTERM`...), when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) signal: Option<String>,
    /// Killed at --cmd-timeout.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) timed_out: bool,
    /// Why it could not start (not found, not executable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
    pub(crate) secs: f64,
}

impl CmdEvent {
    /// How it ended, in a few words: `exit 0`, `killed by SIGTERM (timed out)`, `not run: ...`.
    pub(crate) fn ended(&self) -> String {
        let how = match (&self.error, self.code, &self.signal) {
            (Some(e), ..) => format!("not run: {e}"),
            (None, Some(c), _) => format!("exit {c}"),
            (None, None, Some(s)) => format!("killed by {s}"),
            (None, None, None) => "ended unknown".into(),
        };
        if self.timed_out {
            format!("{how} (timed out)")
        } else {
            how
        }
    }
}

/// What one event did to one instance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct InstanceEvent {
    pub(crate) name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) product: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) version: String,
    /// The journal file IRIS switched to at the freeze.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) journal_file: Option<String>,
    /// The journal file a restore of this snapshot starts from, as IRIS named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) restore_from: Option<String>,
    /// The instance's data directory as qlist gave it at the freeze (field 13, else field 2):
    /// its `mgr/messages.log` is under it, in a snapshot too (`verify`). Missing on lines older
    /// than this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) dir: Option<String>,
    /// The shard master namespace, on each line of a sharded cluster frozen as one
    /// (`--sharded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cluster: Option<String>,
    /// On a data server's line: the shard master (an instance of this host) whose cluster
    /// freeze froze it. The data server itself runs on its own host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) shard_master: Option<String>,
    /// On a data server's line, when the freeze recognised it as an instance of this host (its
    /// host this host's name or the loopback, its port that instance's Super Server port): that
    /// instance, whose product, version and `dir` the line then holds (`verify` reads it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) instance: Option<String>,
    /// On each line of a sharded cluster's freeze: the checkpoint number of its CheckpointInfo
    /// (the data servers' journal files end at it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) checkpoint: Option<String>,
    /// How long it was frozen by us (thaw, auto-thaw, rollback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) frozen_secs: Option<f64>,
    /// `frozen`, `thawed`, `auto-thawed`, `rolled-back`, `foreign`, `failed`, `down`...
    pub(crate) result: String,
    /// At thaw and auto-thaw: `consistent`, `not consistent: <reason>` or `unknown: <reason>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) verdict: Option<String>,
}

impl Event {
    pub(crate) fn new(id: &str, event: EventKind, by: &str, exit: u8) -> Event {
        Event {
            v: VERSION,
            id: id.to_string(),
            event,
            at: crate::host::state::now_rfc3339(),
            by: by.to_string(),
            exit,
            instances: Vec::new(),
            cmd: None,
            job: None,
            attempt: None,
        }
    }
}

impl Event {
    /// With the backup job a hook call named (its id and attempt), if any.
    pub(crate) fn with_job(mut self, (job, attempt): (Option<String>, Option<u32>)) -> Event {
        self.job = job;
        self.attempt = attempt;
        self
    }
}

/// A new cycle id: the UTC time to the second, then 4 hex digits of this process, so ids sort
/// by time, stay short, and are safe in file names and in an ObjectScript string
/// (`20261201T115512Z-3fa2`).
pub(crate) fn new_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let salt = (std::process::id() ^ nanos) & 0xffff;
    format!("{}-{salt:04x}", chrono::Utc::now().format("%Y%m%dT%H%M%SZ"))
}

/// Appends `event` as one line (one write), creating the directory (0700) and the file (0600)
/// as needed, rotating past [`ROTATE_AT`]. The directory chain and the file are held to the
/// rules of `trust` (no symlink, nobody else's), checked before anything is created or
/// renamed: a rotation through another user's symlink would replace a file of theirs choosing.
pub(crate) fn append(path: &Path, event: &Event) -> Result<()> {
    write(path, event, false)
}

/// [`append`], then the line synced to disk (and the directory, when the file is new): a
/// snapshot cut after this returns holds the line, whatever the page cache held.
pub(crate) fn append_synced(path: &Path, event: &Event) -> Result<()> {
    write(path, event, true)
}

fn write(path: &Path, event: &Event, sync: bool) -> Result<()> {
    let path = &absolute(path)?;
    let open = || {
        trust::create_and_open_append(path, 0o700, 0o600)
            .with_context(|| format!("refusing the history {}", path.display()))
    };
    // Checked (owner, mode, no symlink) before anything is renamed.
    let (mut f, len) = open()?;
    let full = len >= ROTATE_AT;
    if full {
        drop(f);
        fs::rename(path, rotated(path))
            .with_context(|| format!("cannot rotate the history {}", path.display()))?;
        f = open()?.0;
    }
    let mut line = serde_json::to_vec(event)?;
    line.push(b'\n');
    f.write_all(&line)
        .with_context(|| format!("cannot write the history {}", path.display()))?;
    if !sync {
        return Ok(());
    }
    let synced = |r: std::io::Result<()>| {
        r.with_context(|| format!("cannot sync the history {} to disk", path.display()))
    };
    synced(f.sync_data())?;
    // A new file's name is in its directory: synced too, or the snapshot may not have it.
    if full || len == 0 {
        let dir = path.parent().unwrap_or(Path::new("/"));
        synced(fs::File::open(dir).and_then(|d| d.sync_all()))?;
    }
    Ok(())
}

/// [`append`], with a failure a warning (stderr and the log): the history never fails or
/// holds up a freeze or a thaw.
pub(crate) fn record(path: &Path, event: &Event, log: &EventLog) {
    warn_unless(append(path, event), event, log);
}

/// [`record`], synced to disk ([`append_synced`]): the freeze's line, which `verify` looks for
/// in the snapshot, and the thaw's and the auto-thaw's, written after their ExternalThaw, which
/// tell it a snapshot was cut after them.
pub(crate) fn record_synced(path: &Path, event: &Event, log: &EventLog) {
    warn_unless(append_synced(path, event), event, log);
}

fn warn_unless(done: Result<()>, event: &Event, log: &EventLog) {
    if let Err(e) = done {
        log.warn(
            None,
            "history",
            format!(
                "{e:#}: this {} of cycle {} is missing from the history; fix the path or the \
                 permissions, or set another with --history-file",
                serde_json::to_value(event.event)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
                event.id
            ),
        );
    }
}

/// Who ran an event: the hook's name when a hook ran us, else the command.
pub(crate) fn by(invoked_as: Option<&str>, command: &str) -> String {
    invoked_as.unwrap_or(command).to_string()
}

/// `not consistent: <why>`.
pub(crate) fn not_consistent(why: impl std::fmt::Display) -> String {
    format!("not consistent: {why}")
}

/// The file before the current one.
pub(crate) fn rotated(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".1");
    PathBuf::from(p)
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path)
        .with_context(|| format!("the history file {} has no directory", path.display()))
}

/// The events in `bytes` (lines of a history file), in order; lines that do not parse (a torn
/// write, a newer format, the cut first line of a file's end) are skipped.
pub(crate) fn parse(bytes: &[u8]) -> Vec<Event> {
    bytes
        .split(|b| *b == b'\n')
        .filter_map(|l| serde_json::from_slice::<Event>(l).ok())
        .collect()
}

/// Every event in the history, oldest first (the rotated file, then the current one). Lines
/// that do not parse (a torn write, a newer format) are skipped; a missing file is no history.
pub(crate) fn read(path: &Path) -> Result<Vec<Event>> {
    read_lines(path, |_| true)
}

/// The events of cycle `id` alone, oldest first: a line that does not hold `"id":"<id>"` as we
/// write it is not parsed, so a thaw reading its own cycle does not parse thousands of others.
pub(crate) fn read_cycle(path: &Path, id: &str) -> Result<Vec<Event>> {
    let field = format!("\"id\":{}", serde_json::to_string(id)?);
    let mut events = read_lines(path, |line| line.contains(&field))?;
    events.retain(|e| e.id == id);
    Ok(events)
}

fn read_lines(path: &Path, wanted: impl Fn(&str) -> bool) -> Result<Vec<Event>> {
    let mut out = Vec::new();
    // No directory yet (no cycle ever appended) is no history too, not an unsafe directory.
    if absolute(path)?.parent().is_some_and(|d| !d.exists()) {
        return Ok(out);
    }
    for p in [rotated(path), path.to_path_buf()] {
        let Some(f) = trust::open_read(&p)? else {
            continue;
        };
        for line in BufReader::new(f).lines() {
            let line = line.with_context(|| format!("cannot read the history {}", p.display()))?;
            if !wanted(&line) {
                continue;
            }
            if let Ok(e) = serde_json::from_str::<Event>(&line) {
                out.push(e);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An instance's part of an event, with its name and result only (the cycle tests too).
    pub(super) fn inst(name: &str, result: &str) -> InstanceEvent {
        InstanceEvent {
            name: name.into(),
            result: result.into(),
            ..Default::default()
        }
    }

    #[test]
    fn ids_sort_by_time_and_are_safe_in_file_names() {
        let id = new_id();
        assert_eq!(id.len(), "20261201T115512Z-3fa2".len(), "{id}");
        assert!(
            id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{id}"
        );
    }

    #[test]
    fn append_then_read_and_rotate() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("lib/history.jsonl");
        let mut e = Event::new("A", EventKind::Freeze, "freeze", 0);
        e.instances.push(inst("IRIS", "frozen"));
        assert!(
            read(&path).unwrap().is_empty(),
            "no directory yet: no history"
        );
        append(&path, &e).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        // A torn line is skipped, not fatal.
        fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"v\":1,\"id\"\n")
            .unwrap();
        append(&path, &Event::new("A", EventKind::Thaw, "thaw", 0)).unwrap();
        assert_eq!(read(&path).unwrap().len(), 2);
        // Past the limit the file rotates; both halves are read, oldest first.
        fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(&vec![b'\n'; ROTATE_AT as usize])
            .unwrap();
        append(&path, &Event::new("B", EventKind::Freeze, "freeze", 0)).unwrap();
        assert!(rotated(&path).exists());
        let ids: Vec<String> = read(&path).unwrap().into_iter().map(|e| e.id).collect();
        assert_eq!(ids, ["A", "A", "B"]);
        // One cycle's events, from both halves; another cycle's line naming it in a field is not.
        let mut other = Event::new("C", EventKind::Cmd, "run", 0);
        other.by = "\"id\":\"A\"".into();
        append(&path, &other).unwrap();
        let kinds: Vec<EventKind> = read_cycle(&path, "A")
            .unwrap()
            .into_iter()
            .map(|e| e.event)
            .collect();
        assert_eq!(kinds, [EventKind::Freeze, EventKind::Thaw]);
        assert_eq!(read_cycle(&path, "B").unwrap().len(), 1);
        assert!(read_cycle(&path, "Z").unwrap().is_empty());
    }
}
