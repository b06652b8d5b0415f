//! `dry-run`: everything `freeze` checks before its first ExternalFreeze, and nothing else.

use std::time::Instant;

use anyhow::Result;

use crate::commands::freeze::classify::{Verdict, ask, log_unreachable};
use crate::commands::freeze::plan::plan;
use crate::commands::freeze::summary::nothing_to_freeze;
use crate::commands::state::{StateFile, state_dir};
use crate::config::Config;
use crate::exit_code::Exit;
use crate::host::eventlog::{EventLog, Level};
use crate::iris::sharded;
use crate::report::Report;

/// The exit is what `freeze` would give: 0, 2 (one already frozen by someone else) or 1.
pub(crate) fn dry_run(cfg: &Config, log: &EventLog) -> Result<Report> {
    let deadline = Instant::now() + cfg.timeout;
    let targets = plan(cfg, log, deadline)?.targets;
    if targets.is_empty() {
        return Ok(nothing_to_freeze(log));
    }
    // Read only: an unreadable state counts as empty, and a stale record stays.
    let state = state_dir(cfg).and_then(|s| s.load()).unwrap_or_default();
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
    let would = what_would_freeze(cfg, &would, log);
    Ok(report(&would, &foreign, &problems))
}

/// The names a freeze would freeze; with `--sharded`, the cluster from its master, and the call
/// (whether the instance really is the shard master only the freeze itself can tell).
fn what_would_freeze(cfg: &Config, would: &[String], log: &EventLog) -> String {
    let names = would.join(", ");
    let (Some(ns), [master]) = (&cfg.sharded, would) else {
        return names;
    };
    log.info(
        Some(master),
        "sharded",
        format!(
            "--sharded {ns}: a freeze would call `{}` on {master}, which freezes every data \
             server of the cluster or none; whether {master} is the shard master of {ns} only \
             that call can tell",
            sharded::external_freeze(ns, &cfg.freeze_options)
        ),
    );
    format!(
        "the sharded cluster {ns} from its shard master {master} (Backup.ShardedCluster: every \
         data server, or none)"
    )
}

/// What a freeze would do, as the dry run's report.
fn report(would: &str, foreign: &[String], problems: &[String]) -> Report {
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
                "dry run: would freeze {would}; already frozen by someone else: {} (exit 2)",
                foreign.join(", ")
            ),
        );
    }
    Report::new(
        Exit::Success,
        format!("dry run: would freeze {would}; nothing was changed"),
    )
}
