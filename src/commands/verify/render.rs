//! `verify`'s text: the snapshot's verdict, each instance's with the facts behind it, then the
//! restore steps. Everything shown came from the snapshot, so each line is escaped for a
//! terminal.

use std::fmt::Write as _;

use crate::commands::restore_plan;
use crate::util::escape::terminal_line;

use super::Verified;

pub(super) fn render(v: &Verified) -> String {
    let mut out = String::new();
    let cycle = v.cycle.as_deref().unwrap_or("none");
    let _ = writeln!(
        out,
        "Snapshot at {} (history {}), cycle {cycle}: {}",
        v.root, v.history, v.verdict
    );
    for i in &v.instances {
        let name = match &i.instance {
            Some(inst) => format!("{} (instance {inst} of this host)", i.name),
            None => i.name.clone(),
        };
        let _ = writeln!(out, "\n{name}: {}", i.verdict);
        if let Some(x) = &i.restore_from {
            let _ = writeln!(out, "  restore from journal file: {x}");
        }
        if let Some(l) = &i.messages_log {
            let _ = writeln!(
                out,
                "  messages.log ({}): last freeze names {}{}",
                l.path,
                l.restore_from,
                match &l.resumed {
                    Some(r) => format!(", then: {r}"),
                    None => ", nothing resumed it since".to_string(),
                }
            );
        }
        if !i.journal_files.is_empty() {
            let _ = writeln!(
                out,
                "  journal files in the snapshot: {}",
                i.journal_files.join(", ")
            );
        }
        match i.wij {
            Some(true) => {
                let _ = writeln!(out, "  WIJ: in the snapshot");
            }
            Some(false) => {
                let _ = writeln!(
                    out,
                    "  WIJ: not in mgr/ (a WIJ directory set elsewhere in the CPF is not looked \
                     for; a frozen snapshot's databases do not need it)"
                );
            }
            None => {}
        }
    }
    if let Some(plan) = &v.restore_plan {
        let _ = writeln!(out, "\n{}", restore_plan::render(plan));
    }
    // Everything shown came from the snapshot: one line stays one line on a terminal.
    out.trim_end()
        .lines()
        .map(terminal_line)
        .collect::<Vec<_>>()
        .join("\n")
}
