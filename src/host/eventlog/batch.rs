//! One event as its log lines (the documented fields, each escaped), its stderr copies and its
//! journal entry; a call's event followed by what IRIS printed.

use std::fmt::Display;
use std::time::Duration;

use super::{EventLog, Level, OUTPUT_LINES};
use crate::host::journal::Entry;
use crate::host::process::Outcome;
use crate::util::escape::{cut, push_escaped, push_token};

/// The lines of one event (or one call and its output), and their copies for stderr, shown
/// only once the lines are in the log: stderr may be gone, the log must not wait for it.
pub(super) struct Batch {
    pub(super) lines: Vec<String>,
    pub(super) shown: Vec<(tracing::Level, String)>,
    /// The event for the journal, when there is one to send it to.
    pub(super) journal: Option<Entry>,
}

impl EventLog {
    pub(super) fn event_batch(
        &self,
        level: Level,
        inst: Option<&str>,
        event: &str,
        rc: Option<i32>,
        elapsed: Option<Duration>,
        msg: impl Display,
    ) -> Batch {
        let msg = msg.to_string();
        let mut line = self.head(inst, event);
        line.push_str(" rc=");
        match rc {
            Some(c) => line.push_str(&c.to_string()),
            None => line.push('-'),
        }
        match elapsed {
            Some(d) => line.push_str(&format!(" elapsed={:.3}s ", d.as_secs_f64())),
            None => line.push_str(" elapsed=- "),
        }
        push_escaped(&mut line, &cut(&msg));
        let prefix = inst.map(|i| format!("{i}: ")).unwrap_or_default();
        let shown = vec![(level.stderr(), format!("{prefix}{msg}"))];
        let journal = self.journal.as_ref().map(|_| Entry {
            level,
            cmd: self.cmd,
            inst: inst.map(String::from),
            event: event.to_string(),
            rc,
            elapsed,
            message: msg,
            output: None,
        });
        Batch {
            lines: vec![line],
            shown,
            journal,
        }
    }

    /// `pid=.. cmd=.. inst=.. event=..`, each field one token whatever the instance name.
    pub(super) fn head(&self, inst: Option<&str>, event: &str) -> String {
        let mut line = format!("pid={} cmd={} inst=", self.pid, self.cmd);
        push_token(&mut line, &cut(inst.unwrap_or("-")));
        line.push_str(" event=");
        push_token(&mut line, event);
        line
    }

    pub(super) fn call_batch(
        &self,
        level: Level,
        inst: &str,
        event: &str,
        o: &Outcome,
        msg: impl Display,
    ) -> Batch {
        let mut batch = self.event_batch(level, Some(inst), event, o.code(), Some(o.elapsed), msg);
        let head = self.head(Some(inst), "output") + " rc=- elapsed=- | ";
        let mut output = o.lines();
        for line in output.by_ref().take(OUTPUT_LINES) {
            let mut l = String::with_capacity(head.len() + line.len());
            l.push_str(&head);
            push_escaped(&mut l, &cut(line));
            batch.lines.push(l);
            batch
                .shown
                .push((tracing::Level::DEBUG, format!("{inst}| {line}")));
        }
        if let Some(e) = &mut batch.journal {
            e.output = Some(o.lines().take(OUTPUT_LINES).collect::<Vec<_>>().join("\n"))
                .filter(|t| !t.is_empty());
        }
        let more = output.count();
        if more > 0 || o.dropped > 0 {
            batch.lines.push(format!(
                "{head}... {more} more lines and {} more bytes not logged",
                o.dropped
            ));
        }
        batch
    }
}
