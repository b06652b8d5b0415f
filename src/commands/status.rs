//! `status`: each instance's product, version, state, whether it is frozen, and whether
//! iris-freeze froze it. Reads only: it never creates the state dir or freezes anything.

use std::time::Instant;

use anyhow::Result;
use serde::Serialize;

use crate::commands::state::{State, StateFile, Watchdog, existing_state_dir};
use crate::config::Config;
use crate::config::user_defaults::on_tmpfs;
use crate::exit_code::Exit;
use crate::host::history;
use crate::host::process::Stop;
use crate::host::procfs;
use crate::host::this_host::ThisHost;
use crate::iris::backup::{self, Answer, Suspended};
use crate::iris::calls::IS_WD_SUSPENDED;
use crate::iris::discovery::{self, Instance, Listing, Tools};
use crate::iris::sharded;
use crate::report::Report;

#[derive(Debug, Serialize)]
struct Row {
    name: String,
    product: String,
    kind: discovery::Kind,
    version: String,
    status: String,
    running: bool,
    /// `null` when it could not be checked (down, or the check failed).
    frozen: Option<bool>,
    /// Why `frozen` is null, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    check_error: Option<String>,
    /// `null` when the state cannot be read.
    frozen_by_iris_freeze: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frozen_since: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phase: Option<crate::commands::state::Phase>,
    mirror_type: String,
    mirror_status: String,
    /// The sharded cluster frozen from this shard master (`--sharded`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<Cluster>,
    /// A data server frozen by the cluster freeze of this shard master (`--sharded`).
    #[serde(skip_serializing_if = "Option::is_none")]
    frozen_with_cluster_of: Option<String>,
}

/// A sharded cluster frozen as one: its namespace and the data servers its freeze named.
#[derive(Debug, Serialize)]
struct Cluster {
    namespace: String,
    nodes: Vec<String>,
}

#[derive(Debug, Serialize)]
struct WatchdogRow {
    deadline: String,
    pid: u32,
    how: String,
    /// That very process is alive (not a zombie, not another process with its pid).
    running: bool,
}

/// The newest cycle of the history, in short.
#[derive(Debug, Serialize)]
struct LastCycle {
    id: String,
    start: String,
    ended: String,
    verdict: String,
}

/// The files iris-freeze writes besides the state.
#[derive(Debug, Default, Serialize)]
struct Files {
    history: String,
    freeze_log: String,
    thaw_log: String,
    metrics: Option<String>,
    /// Set when a non-root user's own defaults are in use: their directory.
    user_dir: Option<String>,
    /// Set when the history is a non-root user's default: why there (`$ISC_DATA_DIRECTORY`,
    /// the durable %SYS volume; `$HOME`; ...).
    history_from: Option<String>,
    /// The history is on tmpfs: lost at reboot, and in no snapshot.
    history_on_tmpfs: bool,
}

impl Files {
    fn of(cfg: &Config) -> Files {
        let shown = |p: &std::path::Path| p.display().to_string();
        Files {
            history: shown(&cfg.history_file),
            freeze_log: shown(&cfg.default_logs.0),
            thaw_log: shown(&cfg.default_logs.1),
            metrics: cfg.metrics_file.as_deref().map(shown),
            user_dir: cfg.user_defaults.as_ref().map(|u| shown(&u.base)),
            history_from: cfg
                .user_defaults
                .as_ref()
                .filter(|u| u.history_file() == cfg.history_file)
                .map(|u| u.history_from.to_string()),
            history_on_tmpfs: on_tmpfs(&cfg.history_file),
        }
    }

    /// The lines of the table.
    fn lines(&self) -> Vec<String> {
        let mut v = Vec::new();
        if let Some(dir) = &self.user_dir {
            v.push(format!("files: a non-root user's, under {dir}"));
        }
        let mut history = format!("history: {}", self.history);
        if let Some(from) = &self.history_from {
            history += &format!(" (from {from})");
        }
        if self.history_on_tmpfs {
            history += "; on tmpfs: lost at reboot and in no snapshot (--history-file)";
        }
        v.push(history);
        v.push(format!(
            "logs: {} (freeze), {} (thaw)",
            self.freeze_log, self.thaw_log
        ));
        if let Some(m) = &self.metrics {
            v.push(format!("metrics: {m}"));
        }
        v
    }
}

/// The one JSON document `status --json` prints, whatever happened: fields that could not be
/// determined are empty or null, and `error` says why.
#[derive(Debug, Default, Serialize)]
struct Output {
    state_dir: String,
    /// Where this user's history, logs and metrics go (a hook's, without options).
    files: Files,
    instances: Vec<Row>,
    /// The armed auto-thaw watchdog, if any (null too when the state cannot be read).
    watchdog: Option<WatchdogRow>,
    /// The last freeze ended in an auto-thaw (until the next successful freeze).
    auto_thaw: Option<crate::commands::state::AutoThaw>,
    /// The newest cycle in the history (null when there is none, or it cannot be read).
    last_cycle: Option<LastCycle>,
    /// Null when everything could be determined (exit 0); otherwise the first of `errors`.
    error: Option<String>,
    errors: Vec<String>,
    /// The state could be read (else the watchdog and who froze what are unknown).
    #[serde(skip)]
    state_read: bool,
}

pub(crate) fn run(cfg: &Config, json: bool) -> Result<Report> {
    let mut out = look(cfg);
    out.error = out.errors.first().cloned();
    let text = if json {
        serde_json::to_string_pretty(&out)
            .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string())
    } else {
        table(&out)
    };
    let exit = if out.error.is_none() {
        Exit::Success
    } else {
        Exit::Failure
    };
    Ok(Report::new(exit, text))
}

/// Everything status can find out; each problem goes to `errors` and the rest goes on.
fn look(cfg: &Config) -> Output {
    let mut out = Output {
        state_dir: cfg.state_dir.display().to_string(),
        files: Files::of(cfg),
        ..Output::default()
    };
    let deadline = Instant::now() + cfg.timeout;
    let state = read_state(cfg, &mut out.errors);
    out.state_read = state.is_some();
    if let Some(state) = &state {
        out.watchdog = state.watchdog.as_ref().map(|w| WatchdogRow {
            deadline: w.deadline.clone(),
            pid: w.pid,
            how: w.how.clone(),
            running: watchdog_running(w),
        });
        out.auto_thaw = state.auto_thaw.clone();
    }
    out.last_cycle = last_cycle(cfg);
    let tools = match Tools::find(&cfg.bin_dirs) {
        Ok(t) => t,
        Err(e) => {
            out.errors.push(format!("{e:#}"));
            return out;
        }
    };
    let listing = discovery::list(&tools, deadline);
    out.errors.extend(listing.errors.iter().cloned());
    out.instances = rows(
        cfg,
        &tools,
        &listing,
        state.as_ref(),
        deadline,
        &mut out.errors,
    );
    if let Some(state) = &state {
        for name in state.instances.keys() {
            if listing.find(name).is_none() {
                out.errors.push(format!(
                    "{name} is recorded as frozen by iris-freeze but qlist does not show it"
                ));
            }
        }
    }
    out
}

/// The newest cycle in the history. An unreadable history is no error of `status` (`history`
/// says why).
fn last_cycle(cfg: &Config) -> Option<LastCycle> {
    let events = history::read(&cfg.history_file).ok()?;
    let c = history::cycles(&events).into_iter().next()?;
    Some(LastCycle {
        verdict: c.verdict(),
        id: c.id,
        start: c.start,
        ended: c.ended,
    })
}

/// The recorded state; `None` (and an error naming the recovery) when it cannot be read.
/// Never creates the state dir.
fn read_state(cfg: &Config, errors: &mut Vec<String>) -> Option<State> {
    let loaded = existing_state_dir(cfg).and_then(|dir| match dir {
        Some(dir) => dir.load(),
        None => Ok(State::default()),
    });
    match loaded {
        Ok(state) => Some(state),
        Err(e) => {
            errors.push(format!("{e:#}"));
            None
        }
    }
}

/// Whether the recorded watchdog still runs: its pid, alive, with the start time recorded at
/// arming. A record without one (pid unknown) counts as not running.
fn watchdog_running(w: &Watchdog) -> bool {
    w.start_ticks
        .is_some_and(|ticks| procfs::is_running(w.pid as i32, ticks))
}

/// One row per listed instance, each running one asked whether it is frozen (all at once).
fn rows(
    cfg: &Config,
    tools: &Tools,
    listing: &Listing,
    state: Option<&State>,
    deadline: Instant,
    errors: &mut Vec<String>,
) -> Vec<Row> {
    let credentials = cfg.credentials.as_ref();
    let asked = backup::ask_suspended(listing, tools, credentials, deadline, Stop::OnSignal);
    let this_host = ThisHost::read();
    let mut rows = Vec::new();
    for (inst, asked) in listing.instances.iter().zip(asked) {
        let (frozen, check_error) = frozen_or_why(inst, asked, errors);
        let rec = state.and_then(|s| {
            s.instances
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&inst.name))
                .map(|(_, r)| r)
        });
        let via = state.and_then(|s| shard_master_of(s, inst, &this_host));
        let rec = rec.or(via.map(|(_, r)| r));
        rows.push(Row {
            name: inst.name.clone(),
            product: inst.product_label().to_string(),
            kind: inst.kind,
            version: inst.version.clone(),
            status: inst.status.clone(),
            running: inst.running,
            frozen,
            check_error,
            frozen_by_iris_freeze: state.map(|_| rec.is_some()),
            frozen_since: rec.map(|r| r.since.clone()),
            phase: rec.map(|r| r.phase),
            mirror_type: inst.mirror_type.clone(),
            mirror_status: inst.mirror_status.clone(),
            cluster: rec.filter(|_| via.is_none()).and_then(cluster),
            frozen_with_cluster_of: via.map(|(master, _)| master.clone()),
        });
    }
    rows
}

/// Whether IsWDSuspended says the instance is frozen, or why it could not tell (also added
/// to `errors` when the call failed).
fn frozen_or_why(
    inst: &Instance,
    asked: Option<Suspended>,
    errors: &mut Vec<String>,
) -> (Option<bool>, Option<String>) {
    let Some(asked) = asked else {
        let why = inst.running.then(|| "no session program".to_string());
        return (None, why);
    };
    match asked.answer {
        Answer::Yes => (Some(true), None),
        Answer::No => (Some(false), None),
        Answer::Unknown => {
            let why = backup::problem(&asked.target, IS_WD_SUSPENDED, &asked.outcome);
            errors.push(format!("{}: cannot check: {why}", inst.name));
            (None, Some(why))
        }
    }
}

/// The shard master whose recorded cluster freeze names `inst` as one of its other data servers,
/// with its record. CheckpointInfo names a data server `host:port`: `inst` is one when that host
/// names this host and that port is its Super Server port.
fn shard_master_of<'a>(
    state: &'a State,
    inst: &Instance,
    this_host: &ThisHost,
) -> Option<(&'a String, &'a crate::commands::state::Record)> {
    state.instances.iter().find(|(master, r)| {
        !master.eq_ignore_ascii_case(&inst.name)
            && r.nodes
                .iter()
                .any(|n| sharded::is_local(n, this_host, &inst.superserver_port))
    })
}

fn cluster(rec: &crate::commands::state::Record) -> Option<Cluster> {
    rec.sharded.as_ref().map(|ns| Cluster {
        namespace: ns.clone(),
        nodes: rec.nodes.clone(),
    })
}

fn table(out: &Output) -> String {
    let mut lines = vec![format!(
        "{:<12} {:<12} {:<18} {:<10} {:<7} {}",
        "INSTANCE", "PRODUCT", "VERSION", "STATUS", "FROZEN", "BY IRIS-FREEZE"
    )];
    for r in &out.instances {
        lines.extend(row_lines(r));
    }
    if out.instances.is_empty() {
        lines.push("(no instances)".into());
    }
    lines.extend(footer(out));
    lines.join("\n")
}

/// An instance's line in the table, and its cluster's when it is a shard master we froze.
fn row_lines(r: &Row) -> Vec<String> {
    let frozen = match r.frozen {
        Some(true) => "yes",
        Some(false) => "no",
        None if r.running => "?",
        None => "-",
    };
    let with_cluster = r
        .frozen_with_cluster_of
        .as_ref()
        .map_or(String::new(), |m| format!("with the cluster from {m}, "));
    let by_us = match (&r.frozen_since, r.phase) {
        (Some(since), Some(crate::commands::state::Phase::Frozen)) => {
            format!("yes, {with_cluster}since {since}")
        }
        (Some(since), _) => format!("maybe (freeze attempted {since})"),
        _ if r.frozen_by_iris_freeze.is_none() => "? (state unreadable)".into(),
        _ => "no".into(),
    };
    let mut lines = vec![format!(
        "{:<12} {:<12} {:<18} {:<10} {:<7} {}",
        r.name, r.product, r.version, r.status, frozen, by_us
    )];
    if let Some(c) = &r.cluster {
        lines.push(format!(
            "  sharded cluster {} frozen from here, data servers: {}",
            c.namespace,
            if c.nodes.is_empty() {
                "not known yet".to_string()
            } else {
                c.nodes.join(", ")
            }
        ));
    }
    lines
}

/// Under the table: the watchdog, the last auto-thaw and cycle, where the files are, errors.
fn footer(out: &Output) -> Vec<String> {
    let mut lines = vec![match &out.watchdog {
        Some(w) => format!(
            "watchdog: armed, thaws at {} (pid {}, {}){}",
            w.deadline,
            w.pid,
            w.how,
            if w.running { "" } else { " - NOT RUNNING" }
        ),
        None if !out.state_read => "watchdog: unknown (the state cannot be read)".into(),
        None => "watchdog: not armed".into(),
    }];
    if let Some(a) = &out.auto_thaw {
        lines.push(format!(
            "last freeze ended in an AUTO-THAW at {} ({}{})",
            a.at,
            a.instances.join(", "),
            if a.all_thawed {
                ""
            } else {
                "; not all confirmed thawed"
            }
        ));
    }
    if let Some(c) = &out.last_cycle {
        lines.push(format!(
            "last cycle: {} ({}, {}): {}",
            c.id, c.start, c.ended, c.verdict
        ));
    }
    lines.push(format!("state dir: {}", out.state_dir));
    lines.extend(out.files.lines());
    for e in &out.errors {
        lines.push(format!("error: {e}"));
    }
    lines
}
