//! `restore-plan`: what InterSystems documents for restoring an instance from an external
//! backup, filled in from the history for one cycle (the last consistent one, or `--id`): start
//! the instance, run a journal restore (^JRNRESTO) from the journal file the freeze switched
//! to (it also rolls back transactions open at snapshot time) up to the time wanted, where the
//! later journal files are, and what changes on a mirror member. It reads the history alone,
//! so it works offline on the VM restored from the snapshot (the snapshot holds its history).

use std::fmt::Write as _;

use anyhow::{Result, bail};
use serde::Serialize;

use crate::config::Config;
use crate::exit_code::Exit;
use crate::host::history::{self, Cycle, InstanceEvent};
use crate::iris::objectscript_string;
use crate::report::Report;
use crate::util::escape::terminal_line;
use crate::util::shell::sh_quote;

/// Where the steps of an instance of this host run.
const LOCAL: &str = "the restored VM";

#[derive(Debug, Serialize)]
pub(crate) struct Plan {
    pub(crate) id: String,
    /// When the freeze was recorded: the snapshot was taken soon after.
    pub(crate) frozen_at: String,
    pub(crate) by: String,
    pub(crate) ended: String,
    pub(crate) consistent: bool,
    /// The history ends inside this freeze (no thaw line): on a restored VM, the snapshot was
    /// cut during it, and `verify` tells whether it holds what that takes.
    pub(crate) during_freeze: bool,
    /// A sharded cluster's shard master (an instance of this host) and the checkpoint number
    /// of its freeze: the instances below are then its data servers, as `host:port`.
    #[serde(skip_serializing_if = "Option::is_none")]
    shard_master: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    checkpoint: Option<String>,
    pub(crate) instances: Vec<InstancePlan>,
}

#[derive(Debug, Serialize)]
pub(crate) struct InstancePlan {
    pub(crate) name: String,
    product: String,
    version: String,
    pub(crate) verdict: Option<String>,
    /// The first journal file to restore, as IRIS named it at the freeze.
    pub(crate) restore_from: Option<String>,
    /// Where the later journal files are (the directory of `restore_from`).
    journal_dir: Option<String>,
    /// The sharded cluster (shard master namespace) it was frozen with, if any.
    cluster: Option<String>,
    /// Where the steps run: the restored VM, or for a data server of a cluster frozen from its
    /// shard master, that data server's own host.
    run_on: String,
    /// Values in the steps that are not plain (see [`plain`]): check them before pasting.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
    steps: Vec<Step>,
}

#[derive(Debug, Serialize)]
struct Step {
    what: String,
    /// Commands to paste, in order.
    commands: Vec<String>,
}

pub(crate) fn run(cfg: &Config, id: Option<&str>, json: bool) -> Result<Report> {
    let events = history::read(&cfg.history_file)?;
    let cycles = history::cycles(&events);
    let cycle = pick(&cycles, id, &cfg.history_file.display().to_string())?;
    let plan = plan_of(cycle);
    let exit = if plan.consistent || plan.during_freeze {
        Exit::Success
    } else {
        Exit::Warning
    };
    let text = if json {
        serde_json::to_string_pretty(&plan)?
    } else {
        render(&plan)
    };
    Ok(Report::new(exit, text))
}

/// The cycle `id`; else the newest one when the history ends inside its freeze (on a restored
/// VM: the snapshot was cut during it, and its thaw's line is not in the snapshot), else the
/// newest consistent one.
fn pick<'a>(cycles: &'a [Cycle], id: Option<&str>, history: &str) -> Result<&'a Cycle> {
    match id {
        Some(id) => cycles.iter().find(|c| c.id == id).ok_or_else(|| {
            anyhow::anyhow!(
                "no cycle {id} in the history {history}: `iris-freeze history` lists the ids \
                 (or name the right file with --history-file)"
            )
        }),
        None if cycles.is_empty() => bail!(
            "no freeze/thaw cycle in the history {history}: name the history of the restored VM \
             with --history-file (it travels inside the snapshot)"
        ),
        None if cycles[0].ended == FROZEN => Ok(&cycles[0]),
        None => match cycles.iter().find(|c| c.consistent()) {
            Some(c) => Ok(c),
            None => bail!(
                "no consistent freeze/thaw cycle in the history {history} ({} cycles): pick one \
                 with --id, or name the history of the restored VM with --history-file",
                cycles.len()
            ),
        },
    }
}

/// How a cycle whose freeze has no thaw, rollback or auto-thaw after it in the history stands.
pub(crate) const FROZEN: &str = "frozen";

pub(crate) fn plan_of(c: &Cycle) -> Plan {
    // A cluster's master line holds no journal file: its own data server is one of the
    // `host:port` lines CheckpointInfo gave, each restored with its steps.
    let master = c
        .instances
        .iter()
        .find(|i| i.cluster.is_some() && i.shard_master.is_none());
    Plan {
        id: c.id.clone(),
        frozen_at: c.start.clone(),
        by: c.by.clone(),
        ended: c.ended.clone(),
        consistent: c.consistent(),
        during_freeze: c.ended == FROZEN,
        shard_master: master.map(|m| m.name.clone()),
        checkpoint: c.instances.iter().find_map(|i| i.checkpoint.clone()),
        instances: c
            .instances
            .iter()
            .filter(|i| master.is_none_or(|m| !std::ptr::eq(*i, m)))
            .map(|i| instance_plan(c, i))
            .collect(),
    }
}

/// A data server's `host:port` (`[v6]:port`) as its host and port.
fn host_port(name: &str) -> (&str, &str) {
    crate::iris::sharded::host_port(name).unwrap_or((name, "?"))
}

/// The programs for `product`: (control, session).
fn programs(product: &str) -> (&'static str, &'static str) {
    if product.to_lowercase().starts_with("cach") {
        ("ccontrol", "csession")
    } else {
        ("iris", "iris session")
    }
}

fn instance_plan(c: &Cycle, i: &InstanceEvent) -> InstancePlan {
    // A data server's instance name on its own host is not known here (CheckpointInfo names
    // it by host and Super Server port), unless the freeze found it among this host's.
    let data_server = i.shard_master.as_ref().map(|_| host_port(&i.name));
    let name = match (data_server, &i.instance) {
        (Some(_), Some(local)) => local.as_str(),
        (Some(_), None) => "INSTANCE",
        (None, _) => i.name.as_str(),
    };
    let (control, session) = programs(&i.product);
    let restore_from = i.restore_from.clone().or(i.journal_file.clone());
    let journal_dir = restore_from.as_deref().and_then(|f| {
        std::path::Path::new(f)
            .parent()
            .map(|d| d.display().to_string())
    });
    let first = restore_from.clone().unwrap_or_else(|| {
        "the file named by \"Start a journal restore for this backup with journal file\" \
         in the instance's mgr/messages.log"
            .to_string()
    });
    let list = match &journal_dir {
        Some(d) => format!("ls -l {}", sh_quote(d)),
        None => "ls -l the journal directory".to_string(),
    };
    let steps = vec![
        restore_the_host(c, i),
        match data_server {
            Some((host, port)) if i.instance.is_some() => Step {
                what: format!(
                    "On {host}, start {name} (the instance whose Super Server port is {port}: \
                     the freeze found it on the shard master's host), and keep users and \
                     interfaces off it until the journal restore is done"
                ),
                commands: vec![format!("{control} start {}", sh_quote(name))],
            },
            Some((host, port)) => Step {
                what: format!(
                    "On {host}, start the instance whose Super Server port is {port} (INSTANCE \
                     below: `{control} list` shows each instance's port), and keep users and \
                     interfaces off it until the journal restore is done"
                ),
                commands: vec![
                    format!("{control} list"),
                    format!("{control} start {}", sh_quote(name)),
                ],
            },
            None => Step {
                what: format!(
                    "Start {name}, and keep users and interfaces off it until the journal \
                     restore is done"
                ),
                commands: vec![format!("{control} start {}", sh_quote(name))],
            },
        },
        Step {
            what: format!(
                "Find the journal files written after the snapshot: {first} and every later \
                 one (names sort in order; IRIS lists them in ^JRNUTIL and in \
                 mgr/journal.log). Files newer than the snapshot come from the original \
                 host or your journal backups, not from the snapshot"
            ),
            commands: vec![list],
        },
        journal_restore(session, name, &first, restore_from.as_deref()),
        mirror_member(session, name),
    ];
    InstancePlan {
        warnings: warnings(name, restore_from.as_deref()),
        name: i.name.clone(),
        product: i.product.clone(),
        version: i.version.clone(),
        verdict: i.verdict.clone(),
        restore_from,
        journal_dir,
        cluster: i.cluster.clone(),
        run_on: match data_server {
            Some((host, port)) => {
                format!("host {host}, the instance with Super Server port {port}")
            }
            None => LOCAL.to_string(),
        },
        steps,
    }
}

/// Whether `s` holds only letters, digits and `/._-`: what a name or a journal path normally
/// holds, and shows as it is inside the quotes of a command.
fn plain(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-'))
}

/// A warning for each value of the steps that is not plain. The history holds what IRIS
/// printed: whoever controls IRIS's output (the instance owner sets the journal directory) can
/// put quotes, `$(...)` or control characters in it. Quoted, they run nothing, but such a path
/// is rarely the one meant, and a control character is shown spelled out (`\x1b`), so the
/// command as shown names another file: take the exact value from `--json`.
fn warnings(name: &str, restore_from: Option<&str>) -> Vec<String> {
    let odd = |what: &str, v: &str| {
        (!plain(v)).then(|| {
            format!(
                "WARNING: the {what} holds characters other than letters, digits and / . _ - \
                 (shown quoted below, control characters spelled out): check it before pasting \
                 a command; `restore-plan --json` has it exactly"
            )
        })
    };
    let mut out: Vec<String> = odd("instance name", name).into_iter().collect();
    out.extend(restore_from.and_then(|f| odd("journal file's path", f)));
    out
}

/// The journal restore from `first` (`restore_from` when the history names it), in ^JRNRESTO or
/// without prompts.
fn journal_restore(session: &str, name: &str, first: &str, restore_from: Option<&str>) -> Step {
    Step {
        what: format!(
            "Run a journal restore, even with no later journal file: it rolls back the \
             transactions open at snapshot time. In ^JRNRESTO start with {first}, end with \
             the last file (or at the point in time) you want, and let it roll back \
             incomplete transactions"
        ),
        commands: vec![
            format!("{session} {} -U%SYS", sh_quote(name)),
            "do ^JRNRESTO".to_string(),
            "  (or without prompts, in the same session, LAST the last file wanted:)".to_string(),
            format!(
                "set r=##class(Journal.Restore).%New(),r.FirstFile={},r.LastFile=\"LAST\"",
                objectscript_string(restore_from.unwrap_or("FIRST"))
            ),
            "set sc=r.Run() write $system.Status.GetErrorText(sc)".to_string(),
        ],
    }
}

/// A mirror member catches up from the primary instead.
fn mirror_member(session: &str, name: &str) -> Step {
    Step {
        what: format!(
            "If {name} is a mirror member: do not run ^JRNRESTO on its mirrored databases. \
             A failover member restored from this backup rejoins the mirror and catches up \
             from the primary (Mirror Monitor, or ^MIRROR: activate and catch up the \
             mirrored databases); restore the primary this way only when no member \
             survived, then rebuild the others from its backup. Non-mirrored databases \
             still need the journal restore above"
        ),
        commands: vec![
            format!("{session} {} -U%SYS", sh_quote(name)),
            "do ^MIRROR".to_string(),
        ],
    }
}

/// Step 1: the VM back from the snapshot. A data server of a cluster frozen from its shard
/// master is its own host, with its own snapshot of the cycle, and no history of it.
fn restore_the_host(c: &Cycle, i: &InstanceEvent) -> Step {
    let Some(master) = &i.shard_master else {
        return Step {
            what: format!(
                "Restore the VM (or its disks) from the snapshot taken during cycle {} (frozen \
                 at {}); before IRIS starts, check that the snapshot was cut while this freeze \
                 held (verify), and that its own history names this cycle last",
                c.id, c.start
            ),
            commands: vec![
                "iris-freeze verify".to_string(),
                "iris-freeze history --limit 1".to_string(),
            ],
        };
    };
    Step {
        what: format!(
            "On data server {name}'s host: restore it (its VM or disks) from its snapshot taken \
             during cycle {id} (the whole cluster frozen at {at} from {master}{checkpoint}), as \
             every other data server of the cluster from the same cycle. The cycle's history is \
             on {master}'s host",
            name = i.name,
            id = c.id,
            at = c.start,
            checkpoint = i
                .checkpoint
                .as_ref()
                .map(|n| format!(", checkpoint {n}"))
                .unwrap_or_default(),
        ),
        commands: Vec::new(),
    }
}

pub(crate) fn render(p: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Restore plan for cycle {} (frozen at {} by {}, {}){}",
        p.id,
        p.frozen_at,
        p.by,
        p.ended,
        if p.consistent {
            ""
        } else if p.during_freeze {
            "\nThe history ends inside this freeze: a snapshot holding it was cut during the \
             freeze; `iris-freeze verify` checks that it holds what that takes"
        } else {
            "\nWARNING: this cycle is not consistent: the snapshot holds what a crash would \
             leave; IRIS recovers it at startup (WIJ, journals) and the steps below still apply"
        }
    );
    if let Some(ns) = p.instances.iter().find_map(|i| i.cluster.as_deref()) {
        let _ = writeln!(
            out,
            "Sharded cluster {ns}, frozen from its shard master {} at checkpoint {}: each data \
             server (host:port, as CheckpointInfo names it) is restored on its own host from its \
             snapshot of this same cycle, with the steps under its name",
            p.shard_master.as_deref().unwrap_or("(not recorded)"),
            p.checkpoint.as_deref().unwrap_or("(not recorded)"),
        );
    }
    for i in &p.instances {
        let _ = writeln!(
            out,
            "\n{} ({}){}\n  restore from journal file: {}",
            i.name,
            what_it_is(i),
            i.verdict
                .as_deref()
                .map(|v| format!(": {v}"))
                .unwrap_or_default(),
            restore_from_line(i)
        );
        for w in &i.warnings {
            let _ = writeln!(out, "  {w}");
        }
        if i.run_on != LOCAL {
            let _ = writeln!(out, "  run on: {}", i.run_on);
        }
        for (n, s) in i.steps.iter().enumerate() {
            let _ = writeln!(out, "  {}. {}", n + 1, s.what);
            for c in &s.commands {
                let _ = writeln!(out, "       {c}");
            }
        }
    }
    // Each line stays one line on a terminal, whatever the history holds: a value cannot put
    // a command of its own on the next line, nor hide what a line to paste holds.
    out.trim_end()
        .lines()
        .map(terminal_line)
        .collect::<Vec<_>>()
        .join("\n")
}

/// `IRIS 2024.1`, or what a data server on its own host is (its product is not known here).
fn what_it_is(i: &InstancePlan) -> String {
    match (&i.cluster, i.product.is_empty()) {
        (Some(ns), true) => format!("data server of the sharded cluster {ns}"),
        (_, true) => "product not recorded".to_string(),
        (_, false) => format!("{} {}", i.product, i.version)
            .trim_end()
            .to_string(),
    }
}

/// The first journal file, and where a data server's comes from.
fn restore_from_line(i: &InstancePlan) -> String {
    match (&i.restore_from, &i.cluster) {
        (None, _) => "(not in the history)".to_string(),
        (Some(f), Some(_)) => format!(
            "{f} (the journal file that ends at the cluster's checkpoint on {}, as \
             CheckpointInfo named it: nothing more precise is known)",
            i.name
        ),
        (Some(f), None) => f.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::history::{Event, EventKind};

    fn cycle(id: &str, verdict: &str, journal: &str) -> Vec<Event> {
        let mut f = Event::new(id, EventKind::Freeze, "freeze", 0);
        f.instances.push(InstanceEvent {
            name: "IRIS".into(),
            product: "IRIS".into(),
            result: "frozen".into(),
            journal_file: Some(journal.into()),
            restore_from: Some(journal.into()),
            ..Default::default()
        });
        let mut t = Event::new(id, EventKind::Thaw, "thaw", 0);
        t.instances.push(InstanceEvent {
            name: "IRIS".into(),
            result: "thawed".into(),
            verdict: Some(verdict.into()),
            ..Default::default()
        });
        vec![f, t]
    }

    fn history() -> Vec<Cycle> {
        let mut e = cycle("A", "consistent", "/j/20261201.001");
        e.extend(cycle("B", "consistent", "/j/20261202.001"));
        e.extend(cycle("C", "not consistent: auto-thawed", "/j/20261203.001"));
        history::cycles(&e)
    }

    #[test]
    fn the_last_consistent_cycle_names_its_journal_file() {
        let cs = history();
        let c = pick(&cs, None, "h").unwrap();
        assert_eq!(c.id, "B");
        let text = render(&plan_of(c));
        assert!(
            text.contains("restore from journal file: /j/20261202.001"),
            "{text}"
        );
        assert!(text.contains("iris start 'IRIS'"), "{text}");
        assert!(text.contains("do ^JRNRESTO"), "{text}");
        assert!(text.contains("r.FirstFile=\"/j/20261202.001\""), "{text}");
        assert!(text.contains("ls -l '/j'"), "{text}");
        assert!(!text.contains("WARNING"), "{text}");
        assert!(text.contains("mirror member"), "{text}");
    }

    #[test]
    fn id_picks_that_cycle_even_when_not_consistent() {
        let cs = history();
        let p = plan_of(pick(&cs, Some("C"), "h").unwrap());
        assert!(!p.consistent);
        assert_eq!(
            p.instances[0].restore_from.as_deref(),
            Some("/j/20261203.001")
        );
        assert!(render(&p).contains("WARNING"));
        let e = pick(&cs, Some("Z"), "h").unwrap_err();
        assert!(format!("{e}").contains("no cycle Z"), "{e}");
    }

    #[test]
    fn no_consistent_cycle_is_an_error() {
        let e = cycle("C", "unknown: down", "/j/1");
        let cs = history::cycles(&e);
        let err = pick(&cs, None, "/h.jsonl").unwrap_err();
        assert!(format!("{err}").contains("no consistent"), "{err}");
    }

    #[test]
    fn an_empty_history_does_not_offer_an_id_to_pick() {
        let err = pick(&[], None, "/h.jsonl").unwrap_err().to_string();
        assert!(
            err.contains("no freeze/thaw cycle in the history /h.jsonl"),
            "{err}"
        );
        assert!(!err.contains("--id"), "{err}");
    }

    #[test]
    fn cache_gets_its_own_programs() {
        assert_eq!(programs("Caché"), ("ccontrol", "csession"));
        assert_eq!(programs("IRIS"), ("iris", "iris session"));
    }
}
