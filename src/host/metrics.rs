//! Metrics for Prometheus: the history (and what the state says is frozen now) rendered in the
//! text exposition format, for node_exporter's textfile collector. Off unless `--metrics-file`
//! names a file. Every value is derived from the history, so the counters survive restarts
//! (they drop when the history rotates: Prometheus reads a drop as a counter reset). Written
//! after the IRIS calls, replaced atomically, never fsynced: a scrape sees the old file or the
//! new one, and a write error is the caller's warning, never a failure.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::DateTime;

use crate::host::history::{self, Cycle, Event, EventKind};
use crate::host::trust;

/// Rewrites `metrics_file` from the history in `history_file` and `frozen_now` (the instances
/// the state records as frozen by us, asked once the history is read). A warning to log when
/// another user had squatted its name.
pub(crate) fn update(
    metrics_file: &Path,
    history_file: &Path,
    frozen_now: impl FnOnce() -> Result<Vec<String>>,
) -> Result<Option<String>> {
    let events = history::read(history_file)?;
    let frozen = frozen_now()?;
    write_atomic(metrics_file, &render(&events, &frozen))
}

/// What the history says of one instance.
#[derive(Debug, Default)]
struct Instance {
    last_success: Option<f64>,
    last_duration: Option<f64>,
    last_consistent: Option<bool>,
    frozen: bool,
    /// Whether its newest freeze failed (and was rolled back).
    last_freeze_failed: Option<bool>,
    freeze_failures: u64,
}

/// The text exposition format of `events` (oldest first, as `history::read` gives them), with
/// `frozen` the instances frozen by us now.
pub(crate) fn render(events: &[Event], frozen: &[String]) -> String {
    let instances = per_instance(&history::cycles(events), frozen);
    let mut out = String::new();
    // The label is `iris_instance`, not `instance`: that one is Prometheus's own (the scrape
    // target), which would rename ours `exported_instance`, or merge hosts under honor_labels.
    let per = |out: &mut String,
               kind: &str,
               name: &str,
               help: &str,
               value: &dyn Fn(&Instance) -> Option<f64>| {
        family(out, name, help, kind);
        for (n, i) in &instances {
            if let Some(v) = value(i) {
                let _ = writeln!(out, "{name}{{iris_instance=\"{}\"}} {v}", escape(n));
            }
        }
    };
    let gauge =
        |out: &mut String, name: &str, help: &str, value: &dyn Fn(&Instance) -> Option<f64>| {
            per(out, "gauge", name, help, value)
        };
    gauge(
        &mut out,
        "iris_freeze_last_success_timestamp_seconds",
        "When the instance's last consistent snapshot was frozen (Unix time).",
        &|i| i.last_success,
    );
    gauge(
        &mut out,
        "iris_freeze_last_freeze_duration_seconds",
        "How long the instance stayed frozen by iris-freeze in its last finished cycle.",
        &|i| i.last_duration,
    );
    gauge(
        &mut out,
        "iris_freeze_frozen",
        "1 while the instance is frozen (or may be) by iris-freeze, else 0.",
        &|i| Some(if i.frozen { 1.0 } else { 0.0 }),
    );
    gauge(
        &mut out,
        "iris_freeze_last_consistent",
        "1 when the instance's last finished cycle was consistent, else 0.",
        &|i| i.last_consistent.map(|c| if c { 1.0 } else { 0.0 }),
    );
    gauge(
        &mut out,
        "iris_freeze_last_freeze_failed",
        "1 when the instance's newest freeze failed and was rolled back, else 0.",
        &|i| i.last_freeze_failed.map(|f| if f { 1.0 } else { 0.0 }),
    );
    per(
        &mut out,
        "counter",
        "iris_freeze_freeze_failures_total",
        "Freezes of the instance that failed and were rolled back (from the history).",
        &|i| Some(i.freeze_failures as f64),
    );
    runs(&mut out, events);
    family(
        &mut out,
        "iris_freeze_auto_thaws_total",
        "Thaws the watchdog made because no thaw came in time (from the history).",
        "counter",
    );
    let autos = events
        .iter()
        .filter(|e| e.event == EventKind::AutoThaw)
        .count();
    let _ = writeln!(out, "iris_freeze_auto_thaws_total {autos}");
    out
}

fn family(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// `iris_freeze_runs_total{command,result}`: one per event, by its kind and exit code.
fn runs(out: &mut String, events: &[Event]) {
    let mut counts: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for e in events {
        let command = match e.event {
            EventKind::Freeze => "freeze",
            EventKind::Thaw => "thaw",
            EventKind::Rollback => "rollback",
            EventKind::AutoThaw => "auto-thaw",
            EventKind::Cmd => "cmd",
        };
        let result = match e.exit {
            0 => "success",
            2 => "warning",
            _ => "failure",
        };
        *counts.entry((command, result)).or_default() += 1;
    }
    family(
        out,
        "iris_freeze_runs_total",
        "Freezes, thaws, rollbacks and auto-thaws by result (from the history).",
        "counter",
    );
    for ((command, result), n) in counts {
        let _ = writeln!(
            out,
            "iris_freeze_runs_total{{command=\"{command}\",result=\"{result}\"}} {n}"
        );
    }
}

/// Every instance in the cycles (newest first) or frozen now, with its facts.
fn per_instance(cycles: &[Cycle], frozen: &[String]) -> BTreeMap<String, Instance> {
    let mut out: BTreeMap<String, Instance> = BTreeMap::new();
    for c in cycles {
        let at = seconds_of(&c.start);
        let finished = c.ended != "frozen";
        let failed = matches!(c.ended.as_str(), "rolled back" | "failed");
        for i in &c.instances {
            let m = out.entry(i.name.clone()).or_default();
            m.freeze_failures += u64::from(failed);
            m.last_freeze_failed.get_or_insert(failed);
            let consistent = i.verdict.as_deref() == Some("consistent");
            if consistent && m.last_success.is_none() {
                m.last_success = at;
            }
            if m.last_duration.is_none() {
                m.last_duration = i.frozen_secs;
            }
            if finished && m.last_consistent.is_none() {
                m.last_consistent = Some(consistent);
            }
        }
    }
    for name in frozen {
        out.entry(name.clone()).or_default().frozen = true;
    }
    out
}

fn seconds_of(rfc3339: &str) -> Option<f64> {
    let t = DateTime::parse_from_rfc3339(rfc3339).ok()?;
    Some(t.timestamp_millis() as f64 / 1000.0)
}

/// A label value as the exposition format quotes it.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Replaces `path` with `text`: a new file (0644, never through a symlink) in the same
/// directory, renamed over it. The directory must exist and pass `trust`'s rules. A textfile
/// directory others may add files to (node_exporter's is often 1777) lets them squat names:
/// the temp file's is unpredictable and created exclusively, and a squatted `path` is
/// reported (replaced where root can, else an error naming it). Returns that warning.
fn write_atomic(path: &Path, text: &str) -> Result<Option<String>> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => anyhow::bail!(
            "the metrics file {} is not an absolute path",
            path.display()
        ),
    };
    trust::check_dir_chain(dir, trust::Rule::Data).with_context(|| {
        format!(
            "refusing the metrics file {}: its directory is not safe",
            path.display()
        )
    })?;
    let squatter = squatter(path);
    let written = write_temp(path, text).and_then(|tmp| {
        fs::rename(&tmp, path).inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })
    });
    let advice = |dir: &Path| {
        format!(
            "others can create files in {} ({}): keep the metrics file in a directory only root \
             can write (node_exporter's --collector.textfile.directory)",
            dir.display(),
            others_can_add(dir).unwrap_or_else(|| "its mode".into())
        )
    };
    match (written, squatter) {
        (Ok(()), None) => Ok(None),
        (Ok(()), Some(what)) => Ok(Some(format!(
            "the metrics file {} was {what}, put there by another user: replaced it; {}",
            path.display(),
            advice(dir)
        ))),
        (Err(e), Some(what)) => anyhow::bail!(
            "cannot write the metrics file {}: its name is taken by {what} ({e}), so no series \
             is written; remove it, and mind that {}",
            path.display(),
            advice(dir)
        ),
        (Err(e), None) => anyhow::bail!(
            "cannot write the metrics file {}: {e} (create its directory, or fix --metrics-file)",
            path.display()
        ),
    }
}

/// What sits at `path` when it is not a file of ours: another user's file, a directory, a
/// symlink, a FIFO.
fn squatter(path: &Path) -> Option<String> {
    let md = fs::symlink_metadata(path).ok()?;
    let kind = if md.file_type().is_symlink() {
        "a symlink"
    } else if md.is_dir() {
        "a directory"
    } else if !md.is_file() {
        "a special file"
    } else if !trust::trusted_owner(md.uid()) {
        "a file"
    } else {
        return None;
    };
    Some(format!("{kind} owned by uid {}", md.uid()))
}

/// Why others can add entries to `dir` (sticky or not: a name they take first is theirs),
/// e.g. `mode 1777`; `None` when only root (and we) can.
pub(crate) fn others_can_add(dir: &Path) -> Option<String> {
    let md = fs::metadata(dir).ok()?;
    let mode = md.mode();
    let group = mode & 0o020 != 0 && md.gid() != 0;
    (mode & 0o002 != 0 || group).then(|| format!("mode {:o}", mode & 0o7777))
}

/// A new temp file beside `path` holding `text`: a name no other user can guess ahead (the
/// collector skips it: it reads `*.prom` only), created exclusively, never through a symlink.
fn write_temp(path: &Path, text: &str) -> std::io::Result<PathBuf> {
    let mut tries = 0;
    loop {
        let tmp = temp_name(path);
        let created = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&tmp);
        let mut f = match created {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && tries < 8 => {
                tries += 1;
                continue;
            }
            other => other?,
        };
        // create_new's mode is masked by the umask; the collector must read it.
        let filled = f
            .set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .and_then(|()| f.write_all(text.as_bytes()));
        if let Err(e) = filled {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        return Ok(tmp);
    }
}

/// `PATH.<16 random hex digits>.tmp`.
fn temp_name(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(format!(".{:016x}.tmp", crate::util::random::unguessable()));
    PathBuf::from(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::history::InstanceEvent;

    fn event(id: &str, kind: EventKind, at: &str, exit: u8, inst: &[InstanceEvent]) -> Event {
        let mut e = Event::new(id, kind, "test", exit);
        e.at = at.into();
        e.instances = inst.to_vec();
        e
    }

    fn inst(name: &str, verdict: Option<&str>, secs: Option<f64>) -> InstanceEvent {
        InstanceEvent {
            name: name.into(),
            result: "x".into(),
            verdict: verdict.map(String::from),
            frozen_secs: secs,
            ..Default::default()
        }
    }

    fn value(text: &str, series: &str) -> Option<String> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ').map(String::from))
    }

    fn sample() -> Vec<Event> {
        vec![
            // A consistent cycle of A and B.
            event(
                "1",
                EventKind::Freeze,
                "2026-12-01T10:00:00Z",
                0,
                &[inst("A", None, None), inst("B", None, None)],
            ),
            event(
                "1",
                EventKind::Thaw,
                "2026-12-01T10:00:02Z",
                0,
                &[
                    inst("A", Some("consistent"), Some(1.5)),
                    inst("B", Some("consistent"), Some(1.25)),
                ],
            ),
            // A then auto-thawed: not consistent.
            event(
                "2",
                EventKind::Freeze,
                "2026-12-02T10:00:00Z",
                0,
                &[inst("A", None, None)],
            ),
            event(
                "2",
                EventKind::AutoThaw,
                "2026-12-02T10:05:00Z",
                2,
                &[inst("A", Some("not consistent: auto-thawed"), Some(300.0))],
            ),
            // B's freeze is under way.
            event(
                "3",
                EventKind::Freeze,
                "2026-12-03T10:00:00Z",
                0,
                &[inst("B", None, None)],
            ),
        ]
    }

    #[test]
    fn values_come_from_the_newest_cycles() {
        let text = render(&sample(), &["B".to_string()]);
        let v = |s: &str| value(&text, s);
        let t1 = seconds_of("2026-12-01T10:00:00Z").unwrap().to_string();
        assert_eq!(
            v("iris_freeze_last_success_timestamp_seconds{iris_instance=\"A\"}"),
            Some(t1.clone())
        );
        assert_eq!(
            v("iris_freeze_last_success_timestamp_seconds{iris_instance=\"B\"}"),
            Some(t1)
        );
        assert_eq!(
            v("iris_freeze_last_freeze_duration_seconds{iris_instance=\"A\"}").as_deref(),
            Some("300")
        );
        assert_eq!(
            v("iris_freeze_last_freeze_duration_seconds{iris_instance=\"B\"}").as_deref(),
            Some("1.25")
        );
        assert_eq!(
            v("iris_freeze_last_consistent{iris_instance=\"A\"}").as_deref(),
            Some("0")
        );
        // B's running cycle has no verdict yet: its last finished one counts.
        assert_eq!(
            v("iris_freeze_last_consistent{iris_instance=\"B\"}").as_deref(),
            Some("1")
        );
        assert_eq!(
            v("iris_freeze_frozen{iris_instance=\"A\"}").as_deref(),
            Some("0")
        );
        assert_eq!(
            v("iris_freeze_frozen{iris_instance=\"B\"}").as_deref(),
            Some("1")
        );
        assert_eq!(
            v("iris_freeze_runs_total{command=\"freeze\",result=\"success\"}").as_deref(),
            Some("3")
        );
        assert_eq!(
            v("iris_freeze_runs_total{command=\"auto-thaw\",result=\"warning\"}").as_deref(),
            Some("1")
        );
        assert_eq!(v("iris_freeze_auto_thaws_total").as_deref(), Some("1"));
    }

    #[test]
    fn a_failed_freeze_has_its_own_series_until_a_freeze_holds() {
        let failed =
            |id: &str, at: &str| event(id, EventKind::Rollback, at, 1, &[inst("A", None, None)]);
        let mut events = sample();
        events.push(failed("4", "2026-12-04T10:00:00Z"));
        events.push(failed("5", "2026-12-05T10:00:00Z"));
        let text = render(&events, &["B".to_string()]);
        let v = |s: &str| value(&text, s);
        assert_eq!(
            v("iris_freeze_last_freeze_failed{iris_instance=\"A\"}").as_deref(),
            Some("1")
        );
        assert_eq!(
            v("iris_freeze_freeze_failures_total{iris_instance=\"A\"}").as_deref(),
            Some("2")
        );
        assert_eq!(
            v("iris_freeze_last_freeze_failed{iris_instance=\"B\"}").as_deref(),
            Some("0")
        );
        assert_eq!(
            v("iris_freeze_freeze_failures_total{iris_instance=\"B\"}").as_deref(),
            Some("0")
        );
        // A freeze that holds clears the gauge; the counter keeps the count.
        events.push(event(
            "6",
            EventKind::Freeze,
            "2026-12-06T10:00:00Z",
            0,
            &[inst("A", None, None)],
        ));
        let text = render(&events, &["A".to_string(), "B".to_string()]);
        let v = |s: &str| value(&text, s);
        assert_eq!(
            v("iris_freeze_last_freeze_failed{iris_instance=\"A\"}").as_deref(),
            Some("0")
        );
        assert_eq!(
            v("iris_freeze_freeze_failures_total{iris_instance=\"A\"}").as_deref(),
            Some("2")
        );
    }

    #[test]
    fn every_family_has_help_and_type_even_with_no_history() {
        let text = render(&[], &[]);
        for name in [
            "iris_freeze_last_success_timestamp_seconds",
            "iris_freeze_last_freeze_duration_seconds",
            "iris_freeze_frozen",
            "iris_freeze_last_consistent",
            "iris_freeze_last_freeze_failed",
            "iris_freeze_freeze_failures_total",
            "iris_freeze_runs_total",
            "iris_freeze_auto_thaws_total",
        ] {
            assert!(text.contains(&format!("# HELP {name} ")), "{text}");
            assert!(text.contains(&format!("# TYPE {name} ")), "{text}");
        }
        assert_eq!(
            value(&text, "iris_freeze_auto_thaws_total").as_deref(),
            Some("0")
        );
    }

    #[test]
    fn a_frozen_instance_without_history_is_shown_and_labels_are_escaped() {
        let text = render(&[], &["we\"ird\\".to_string()]);
        assert!(
            text.contains("iris_freeze_frozen{iris_instance=\"we\\\"ird\\\\\"} 1"),
            "{text}"
        );
    }

    #[test]
    fn the_file_is_replaced_whole_with_mode_0644() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("iris-freeze.prom");
        fs::write(&path, "old").unwrap();
        assert_eq!(write_atomic(&path, "new\n").unwrap(), None);
        assert_eq!(fs::read_to_string(&path).unwrap(), "new\n");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        // Nothing left beside it.
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
        // A missing directory is an error naming the fix, not a panic.
        let e = write_atomic(&tmp.path().join("no/x.prom"), "x").unwrap_err();
        assert!(
            format!("{e:#}").contains("not safe") || format!("{e:#}").contains("cannot write"),
            "{e:#}"
        );
    }
}
