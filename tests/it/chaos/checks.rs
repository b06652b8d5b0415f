//! What must hold after every cycle, whatever happened in it: each log line one well-formed
//! event, each history line one JSON document, the password nowhere, and nothing written
//! outside the cycle's scratch dir.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Every file under `dir` (not following symlinks), except under `skip`.
pub fn files(dir: &Path, skip: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path == skip {
            continue;
        }
        match e.file_type() {
            Ok(t) if t.is_dir() => out.extend(files(&path, skip)),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
    out
}

/// Each line of each log (`*.log`, not the simulator's) is one event in doc/reference.md's "Log
/// format": `TIME pid=N cmd=C inst=I event=E rc=R elapsed=D MESSAGE`, and the file ends with a
/// whole line.
pub fn logs(scratch: &Path, sim: &Path) -> Vec<String> {
    let mut bad = Vec::new();
    for path in files(scratch, sim) {
        if path.extension().is_none_or(|e| e != "log") {
            continue;
        }
        let bytes = fs::read(&path).unwrap_or_default();
        let Ok(text) = String::from_utf8(bytes) else {
            bad.push(format!("{}: not UTF-8", path.display()));
            continue;
        };
        if !text.is_empty() && !text.ends_with('\n') {
            bad.push(format!("{}: ends in a partial line", path.display()));
        }
        for (n, line) in text.lines().enumerate() {
            if let Err(why) = log_line(line) {
                bad.push(format!("{}:{}: {why}: {line:?}", path.display(), n + 1));
            }
        }
    }
    bad
}

fn log_line(line: &str) -> Result<(), String> {
    if let Some(c) = line.chars().find(|c| c.is_control()) {
        return Err(format!("raw control character {c:?}"));
    }
    let mut f = line.splitn(8, ' ');
    let mut field = |what: &str| f.next().ok_or(format!("no {what}"));
    timestamp(field("time")?)?;
    let pid = value(field("pid")?, "pid")?;
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return Err("pid is not a number".into());
    }
    let cmd = value(field("cmd")?, "cmd")?;
    if cmd.is_empty() || !cmd.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
        return Err("cmd is not a command's name".into());
    }
    if value(field("inst")?, "inst")?.is_empty() {
        return Err("empty inst".into());
    }
    let event = value(field("event")?, "event")?;
    if event.is_empty() || !event.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
        return Err("event is not an event's name".into());
    }
    let rc = value(field("rc")?, "rc")?;
    if rc != "-" && rc.trim_start_matches('-').parse::<u32>().is_err() {
        return Err("rc is neither - nor a number".into());
    }
    let elapsed = value(field("elapsed")?, "elapsed")?;
    let secs = elapsed.strip_suffix('s').unwrap_or("");
    let three_decimals = secs
        .split_once('.')
        .is_some_and(|(i, d)| !i.is_empty() && d.len() == 3 && secs.parse::<f64>().is_ok());
    if elapsed != "-" && !three_decimals {
        return Err("elapsed is neither - nor seconds".into());
    }
    field("message")?;
    Ok(())
}

fn value<'a>(field: &'a str, key: &str) -> Result<&'a str, String> {
    field
        .strip_prefix(key)
        .and_then(|f| f.strip_prefix('='))
        .ok_or(format!("expected {key}=, got {field:?}"))
}

/// RFC 3339 with milliseconds and an offset: `2026-11-25T12:31:45.964+00:00`.
fn timestamp(t: &str) -> Result<(), String> {
    let shape = "dddd-dd-ddTdd:dd:dd.ddd+dd:dd";
    let ok = t.len() == shape.len()
        && t.bytes().zip(shape.bytes()).all(|(c, s)| match s {
            b'd' => c.is_ascii_digit(),
            b'+' => c == b'+' || c == b'-',
            _ => c == s,
        });
    if ok {
        Ok(())
    } else {
        Err(format!("bad timestamp {t:?}"))
    }
}

/// Each history line is one JSON object with an `event`.
pub fn history(file: &Path) -> Vec<String> {
    let mut bad = Vec::new();
    let rotated = PathBuf::from(format!("{}.1", file.display()));
    for path in [file.to_path_buf(), rotated] {
        let text = fs::read_to_string(&path).unwrap_or_default();
        if !text.is_empty() && !text.ends_with('\n') {
            bad.push(format!("{}: ends in a partial line", path.display()));
        }
        for (n, line) in text.lines().enumerate() {
            let ok = serde_json::from_str::<serde_json::Value>(line)
                .is_ok_and(|v| v["event"].is_string());
            if !ok {
                bad.push(format!(
                    "{}:{}: not an event: {line:?}",
                    path.display(),
                    n + 1
                ));
            }
        }
    }
    bad
}

/// The files under the scratch dir that hold `secret`, except those meant to (`allowed`).
pub fn secret_in_files(scratch: &Path, sim: &Path, allowed: &Path, secret: &str) -> Vec<String> {
    files(scratch, sim)
        .into_iter()
        .filter(|p| p != allowed && !p.starts_with(sim))
        .filter(|p| fs::read(p).is_ok_and(|b| String::from_utf8_lossy(&b).contains(secret)))
        .map(|p| format!("{} holds the password", p.display()))
        .collect()
}

/// The places iris-freeze writes by default (as root and as another user), and every entry of
/// ours in /tmp and /var/tmp named like its files (`iris-freeze*`): what a cycle could write outside its scratch dir if a
/// setting did not reach a process.
fn outside_places() -> Vec<PathBuf> {
    let uid = nix::unistd::geteuid().as_raw();
    let mut places: Vec<PathBuf> = [
        "/run/iris-freeze",
        "/etc/preScript.log",
        "/etc/postScript.log",
        "/etc/iris-freeze.toml",
        "/var/lib/iris-freeze",
        "/var/log/iris-freeze",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    places.push(PathBuf::from(format!("/tmp/iris-freeze-{uid}")));
    places.push(PathBuf::from(format!("/run/user/{uid}/iris-freeze")));
    if let Some(home) = std::env::var_os("HOME") {
        places.push(Path::new(&home).join(".local/state/iris-freeze"));
    }
    for dir in ["/tmp", "/var/tmp"] {
        let Ok(entries) = fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            let named = e.file_name().to_string_lossy().starts_with("iris-freeze");
            if named && e.metadata().is_ok_and(|m| m.uid() == uid) {
                places.push(e.path());
            }
        }
    }
    places
}

/// What is at those places: each file and directory with its size and modification time.
pub type Snapshot = BTreeMap<PathBuf, (u64, i64, i64)>;

pub fn snapshot() -> Snapshot {
    let mut snap = Snapshot::new();
    for place in outside_places() {
        let mut paths = vec![place.clone()];
        if place.is_dir() {
            paths.extend(files(&place, Path::new("")));
        }
        for p in paths {
            if let Ok(m) = fs::symlink_metadata(&p) {
                snap.insert(p, (m.len(), m.mtime(), m.mtime_nsec()));
            }
        }
    }
    snap
}

/// What changed between two snapshots.
pub fn changed(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    for (p, m) in after {
        match before.get(p) {
            None => out.push(format!("{} was created", p.display())),
            Some(b) if b != m => out.push(format!("{} was changed", p.display())),
            _ => {}
        }
    }
    for p in before.keys().filter(|p| !after.contains_key(*p)) {
        out.push(format!("{} was removed", p.display()));
    }
    out
}
