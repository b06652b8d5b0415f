//! How a freeze ends, in words: its report, and the loud line when something may stay frozen.

use std::time::Instant;

use crate::exit_code::Exit;
use crate::host::eventlog::EventLog;
use crate::iris::backup::Target;
use crate::iris::sharded;
use crate::report::Report;

pub(super) fn nothing_to_freeze(log: &EventLog) -> Report {
    log.warn(None, "nothing", "no running instance: nothing to freeze");
    Report::new(
        Exit::Success,
        "nothing to freeze: no running IRIS or Caché instance",
    )
}

/// Frozen: this run's instances (`frozen`) and the earlier ones kept (`kept`); exit 2 when one
/// was left alone because someone else froze it. A shard master frozen with its cluster is
/// named as the cluster, with the `data_servers` its freeze named.
pub(super) fn success(
    frozen: &[Target],
    kept: &[Target],
    data_servers: Option<&[String]>,
    foreign: &[String],
    start: Instant,
    log: &EventLog,
) -> Report {
    let names: Vec<String> = frozen
        .iter()
        .chain(kept)
        .map(|t| match (&t.sharded, data_servers) {
            (Some(ns), Some(servers)) => sharded::named(&t.name, ns, servers),
            _ => t.name.clone(),
        })
        .collect();
    let took = start.elapsed().as_secs_f64();
    if foreign.is_empty() {
        return Report::new(
            Exit::Success,
            format!("frozen: {} ({took:.2}s)", names.join(", ")),
        );
    }
    log.warn(
        None,
        "warning",
        format!(
            "exit 2: {} was already frozen by someone else",
            foreign.join(", ")
        ),
    );
    Report::new(
        Exit::Warning,
        format!(
            "frozen: {}; already frozen by someone else, left alone: {} (exit 2)",
            if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            },
            foreign.join(", ")
        ),
    )
}

/// Failed: `what` went wrong; `left_frozen` may still be frozen, and is named loudly.
pub(super) fn failed(what: String, left_frozen: &[String], log: &EventLog) -> Report {
    if left_frozen.is_empty() {
        log.error(None, "failed", &what);
        return Report::new(
            Exit::Failure,
            format!("{what}; nothing left frozen (exit 1)"),
        );
    }
    let names = left_frozen.join(", ");
    log.error(
        None,
        "failed",
        format!(
            "{what}. ATTENTION: {names} MAY STILL BE FROZEN: run `iris-freeze thaw` \
             (or `iris-freeze thaw --instance NAME`) now; the watchdog will also try at its deadline"
        ),
    );
    Report::new(
        Exit::Failure,
        format!("{what}; {names} MAY STILL BE FROZEN: run `iris-freeze thaw` (exit 1)"),
    )
}
