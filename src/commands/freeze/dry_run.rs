//! `dry-run`: everything `freeze` checks before its first ExternalFreeze, and nothing else.

use std::time::Instant;

use anyhow::Result;

use crate::commands::freeze::classify::{Verdict, ask, log_unreachable};
use crate::commands::freeze::plan::plan;
use crate::commands::freeze::summary::nothing_to_freeze;
use crate::config::Config;
use crate::exit_code::Exit;
use crate::host::eventlog::{EventLog, Level};
use crate::host::state::StateDir;
use crate::report::Report;

/// The exit is what `freeze` would give: 0, 2 (one already frozen by someone else) or 1.
pub(crate) fn dry_run(cfg: &Config, log: &EventLog) -> Result<Report> {
    let deadline = Instant::now() + cfg.timeout;
    let targets = plan(cfg, log, deadline)?.targets;
    if targets.is_empty() {
        return Ok(nothing_to_freeze(log));
    }
    // Read only: an unreadable state counts as empty, and a stale record stays.
    let state = StateDir::open(&cfg.state_dir)
        .and_then(|s| s.load())
        .unwrap_or_default();
    let checked = ask(&targets, deadline, &state);
    let (mut would, mut foreign, mut problems) = (Vec::new(), Vec::new(), Vec::new());
    for ((t, _), (verdict, o)) in targets.iter().zip(&checked) {
        let name = t.name.as_str();
        match *verdict {
            Verdict::Freeze | Verdict::Stale => {
                log.call(Level::Info, name, "check", o, "not suspended: would freeze");
                would.push(t.name.clone());
            }
            Verdict::Keep => {
                log.call(
                    Level::Info,
                    name,
                    "check",
                    o,
                    "frozen by iris-freeze: would keep it",
                );
                would.push(t.name.clone());
            }
            Verdict::Foreign => {
                log.call(
                    Level::Warn,
                    name,
                    "foreign",
                    o,
                    "already frozen by someone else: would be left alone",
                );
                foreign.push(t.name.clone());
            }
            Verdict::Unreachable => {
                let why = log_unreachable(t, o, log);
                problems.push(format!("{name}: {why}"));
            }
        }
    }
    Ok(report(&would, &foreign, &problems))
}

/// What a freeze would do, as the dry run's report.
fn report(would: &[String], foreign: &[String], problems: &[String]) -> Report {
    if !problems.is_empty() {
        return Report::new(
            Exit::Failure,
            format!(
                "dry run: a freeze would fail: {} (exit 1)",
                problems.join("; ")
            ),
        );
    }
    if !foreign.is_empty() {
        return Report::new(
            Exit::Warning,
            format!(
                "dry run: would freeze {}; already frozen by someone else: {} (exit 2)",
                would.join(", "),
                foreign.join(", ")
            ),
        );
    }
    Report::new(
        Exit::Success,
        format!(
            "dry run: would freeze {}; nothing was changed",
            would.join(", ")
        ),
    )
}
