//! `status`: each instance's product, version, state, whether it is frozen, and whether
//! iris-freeze froze it. Reads only: it never creates the state dir or freezes anything.

use std::time::Instant;

use anyhow::Result;
use serde::Serialize;

use crate::backup::{self, Answer, IS_WD_SUSPENDED, Target};
use crate::config::Config;
use crate::discovery::{self, Instance, Tools};
use crate::exit_code::Exit;
use crate::report::Report;
use crate::session::Stop;
use crate::state::{State, StateDir};

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
    frozen_by_iris_freeze: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    frozen_since: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phase: Option<crate::state::Phase>,
    mirror_type: String,
    mirror_status: String,
}

#[derive(Debug, Serialize)]
struct WatchdogRow {
    deadline: String,
    pid: u32,
    how: String,
    running: bool,
}

#[derive(Debug, Serialize)]
struct Output {
    state_dir: String,
    instances: Vec<Row>,
    /// The armed auto-thaw watchdog, if any.
    watchdog: Option<WatchdogRow>,
    /// The last freeze ended in an auto-thaw (until the next successful freeze).
    auto_thaw: Option<crate::state::AutoThaw>,
    errors: Vec<String>,
}

pub fn run(cfg: &Config, json: bool) -> Result<Report> {
    let deadline = Instant::now() + cfg.timeout;
    let state = if cfg.state_dir.join("state.json").exists() {
        StateDir::open(&cfg.state_dir)?.load()?
    } else {
        State::default()
    };
    let tools = Tools::find(&cfg.bin_dirs)?;
    let listing = discovery::list(&tools, deadline);
    let mut errors = listing.errors.clone();

    let running: Vec<(&Instance, Option<Target>)> = listing
        .instances
        .iter()
        .map(|i| {
            let t = (i.running)
                .then(|| tools.session_for(&i.name, i.kind).ok())
                .flatten()
                .map(|session| Target {
                    name: i.name.clone(),
                    session,
                    emergency: None,
                    credentials: cfg.credentials.clone(),
                });
            (i, t)
        })
        .collect();
    let checks = backup::each(&running, |(_, t)| {
        t.as_ref()
            .map(|t| backup::call(t, IS_WD_SUSPENDED, deadline, Stop::OnSignal))
    });

    let mut rows = Vec::new();
    for ((inst, target), check) in running.iter().zip(checks) {
        let (frozen, check_error) = match check {
            None if inst.running => (None, Some("no session program".to_string())),
            None => (None, None),
            Some((Answer::Yes, _)) => (Some(true), None),
            Some((Answer::No, _)) => (Some(false), None),
            Some((Answer::Unknown, o)) => {
                let t = target.as_ref().expect("checked instances have a target");
                let why = backup::problem(t, IS_WD_SUSPENDED, &o);
                errors.push(format!("{}: cannot check: {why}", inst.name));
                (None, Some(why))
            }
        };
        let rec = state
            .instances
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&inst.name))
            .map(|(_, r)| r);
        rows.push(Row {
            name: inst.name.clone(),
            product: inst.product_label().to_string(),
            kind: inst.kind,
            version: inst.version.clone(),
            status: inst.status.clone(),
            running: inst.running,
            frozen,
            check_error,
            frozen_by_iris_freeze: rec.is_some(),
            frozen_since: rec.map(|r| r.since.clone()),
            phase: rec.map(|r| r.phase),
            mirror_type: inst.mirror_type.clone(),
            mirror_status: inst.mirror_status.clone(),
        });
    }
    for name in state.instances.keys() {
        if listing.find(name).is_none() {
            errors.push(format!(
                "{name} is recorded as frozen by iris-freeze but qlist does not show it"
            ));
        }
    }

    let out = Output {
        state_dir: cfg.state_dir.display().to_string(),
        instances: rows,
        watchdog: state.watchdog.as_ref().map(|w| WatchdogRow {
            deadline: w.deadline.clone(),
            pid: w.pid,
            how: w.how.clone(),
            running: crate::lock::process_start_ticks(w.pid as i32).is_some(),
        }),
        auto_thaw: state.auto_thaw.clone(),
        errors,
    };
    let text = if json {
        serde_json::to_string_pretty(&out)?
    } else {
        table(&out)
    };
    let exit = if out.errors.is_empty() {
        Exit::Success
    } else {
        Exit::Failure
    };
    Ok(Report::new(exit, text))
}

fn table(out: &Output) -> String {
    let mut lines = vec![format!(
        "{:<12} {:<12} {:<18} {:<10} {:<7} {}",
        "INSTANCE", "PRODUCT", "VERSION", "STATUS", "FROZEN", "BY IRIS-FREEZE"
    )];
    for r in &out.instances {
        let frozen = match r.frozen {
            Some(true) => "yes",
            Some(false) => "no",
            None if r.running => "?",
            None => "-",
        };
        let by_us = match (&r.frozen_since, r.phase) {
            (Some(since), Some(crate::state::Phase::Frozen)) => format!("yes, since {since}"),
            (Some(since), _) => format!("maybe (freeze attempted {since})"),
            _ => "no".into(),
        };
        lines.push(format!(
            "{:<12} {:<12} {:<18} {:<10} {:<7} {}",
            r.name, r.product, r.version, r.status, frozen, by_us
        ));
    }
    if out.instances.is_empty() {
        lines.push("(no instances)".into());
    }
    lines.push(match &out.watchdog {
        Some(w) => format!(
            "watchdog: armed, thaws at {} (pid {}, {}){}",
            w.deadline,
            w.pid,
            w.how,
            if w.running { "" } else { " - NOT RUNNING" }
        ),
        None => "watchdog: not armed".into(),
    });
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
    for e in &out.errors {
        lines.push(format!("error: {e}"));
    }
    lines.join("\n")
}
