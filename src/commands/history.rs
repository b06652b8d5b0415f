//! `history`: the freeze/thaw cycles from the history file alone, newest first, as a table or
//! one JSON array. It calls no IRIS program, so it works offline, on a restored VM too.

use anyhow::{Context, Result};
use serde::Serialize;

use crate::config::Config;
use crate::exit_code::Exit;
use crate::host::history::{self, Cycle, InstanceEvent};
use crate::report::Report;
use crate::util::escape::terminal_line;

/// A cycle with its verdict in one line, for `--json`.
#[derive(Serialize)]
struct JsonCycle<'a> {
    #[serde(flatten)]
    cycle: &'a Cycle,
    verdict: String,
}

pub(crate) fn run(cfg: &Config, json: bool, limit: Option<usize>) -> Result<Report> {
    let events = history::read(&cfg.history_file)
        .with_context(|| format!("cannot read the history {}", cfg.history_file.display()))?;
    let mut cycles = history::cycles(&events);
    if let Some(n) = limit {
        cycles.truncate(n);
    }
    if json {
        let rows: Vec<JsonCycle> = cycles
            .iter()
            .map(|c| JsonCycle {
                verdict: c.verdict(),
                cycle: c,
            })
            .collect();
        return Ok(Report::new(
            Exit::Success,
            serde_json::to_string_pretty(&rows)?,
        ));
    }
    if cycles.is_empty() {
        return Ok(Report::new(
            Exit::Success,
            format!("no cycle in the history {}", cfg.history_file.display()),
        ));
    }
    Ok(Report::new(Exit::Success, table(&cycles)))
}

/// One block per cycle: its line, then one line per instance. Each line stays one line on a
/// terminal whatever the file holds (a value cannot forge a line of its own).
fn table(cycles: &[Cycle]) -> String {
    let mut out = Vec::new();
    for c in cycles {
        let job = c
            .job
            .as_ref()
            .map_or_else(String::new, |j| format!(" (job {j})"));
        out.push(format!(
            "{}  {}  by {}{job}  {}  {}",
            c.id,
            c.start,
            c.by,
            c.ended,
            c.verdict()
        ));
        out.extend(
            c.cmd
                .iter()
                .map(|cmd| format!("  cmd: {}  {} ({:.1}s)", cmd.argv, cmd.ended(), cmd.secs)),
        );
        out.extend(c.instances.iter().map(instance_line));
    }
    out.iter()
        .map(|l| terminal_line(l))
        .collect::<Vec<_>>()
        .join("\n")
}

fn instance_line(i: &InstanceEvent) -> String {
    let dash = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    let frozen = i
        .frozen_secs
        .map_or_else(|| "-".into(), |s| format!("{s:.1}s"));
    if let (Some(ns), None) = (&i.cluster, &i.shard_master) {
        // The shard master's own line: its journal files are on its data server's line.
        let checkpoint = i
            .checkpoint
            .as_ref()
            .map(|c| format!(", checkpoint {c}"))
            .unwrap_or_default();
        return format!(
            "  {:<12} shard master of the sharded cluster {ns}{checkpoint}  {}  frozen {frozen}",
            i.name, i.result
        );
    }
    format!(
        "  {:<12} {}  {}  journal {}  restore from {}  frozen {}",
        i.name,
        what_it_is(i),
        i.result,
        dash(&i.journal_file),
        dash(&i.restore_from),
        frozen,
    )
}

/// Product and version; a data server frozen with its cluster says so, and where it runs (its
/// own host, or an instance of this one).
fn what_it_is(i: &InstanceEvent) -> String {
    if let Some(master) = &i.shard_master {
        let checkpoint = i
            .checkpoint
            .as_ref()
            .map(|c| format!(" at checkpoint {c}"))
            .unwrap_or_default();
        let host = match &i.instance {
            Some(inst) => format!("{inst} of this host"),
            None => "own host".to_string(),
        };
        return format!("data server ({host}), frozen from {master}{checkpoint}");
    }
    let or_dash = |s: &str| {
        if s.is_empty() {
            "-".to_string()
        } else {
            s.to_string()
        }
    };
    format!("{} {}", or_dash(&i.product), or_dash(&i.version))
}
