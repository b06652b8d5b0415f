//! What a freeze acts on: discovery, the targets it selects, and the instances found down.

use std::time::Instant;

use anyhow::{Result, bail};

use crate::commands::state::State;
use crate::config::{Config, MirrorPolicy};
use crate::host::eventlog::EventLog;
use crate::host::this_host::ThisHost;
use crate::iris::backup::Target;
use crate::iris::discovery::{self, Availability, Instance, Kind, Selection, Tools};

/// What discovery found for a freeze.
pub(super) struct Plan {
    /// The running instances to freeze, with their kind.
    pub(super) targets: Vec<(Target, Kind)>,
    /// Every instance qlist shows down.
    pub(super) down: Vec<String>,
    /// Each target as qlist shows it (for the history).
    pub(super) about: Vec<About>,
    /// This host (name and addresses) and every running instance qlist shows: a sharded
    /// cluster's data server that is one of them gets its name and directory in the history
    /// (for `verify`).
    pub(super) local: Local,
}

/// This host as a sharded cluster's CheckpointInfo may name it, and its running instances.
#[derive(Default)]
pub(super) struct Local {
    /// This host's name and addresses, as a cluster may name its data servers.
    pub(super) host: ThisHost,
    pub(super) instances: Vec<About>,
}

/// A target as qlist shows it, for its line in the history.
pub(super) struct About {
    pub(super) name: String,
    pub(super) product: String,
    pub(super) version: String,
    /// Its data directory (qlist field 13), else its directory (field 2): `verify` finds its
    /// `mgr/messages.log` under it in a snapshot.
    pub(super) dir: String,
    /// Its Super Server port (qlist field 6).
    pub(super) port: String,
}

impl About {
    fn of(i: &Instance) -> About {
        let product = match (i.product.as_str(), i.kind) {
            ("", Kind::Cache) => "Caché".to_string(),
            ("", Kind::Iris) => "IRIS".to_string(),
            (p, _) => p.to_string(),
        };
        About {
            name: i.name.clone(),
            product,
            version: i.version.clone(),
            dir: if i.data_dir.is_empty() {
                i.dir.clone()
            } else {
                i.data_dir.clone()
            },
            port: i.superserver_port.clone(),
        }
    }
}

/// Discovery and target selection, shared by `freeze` and `dry-run`.
pub(super) fn plan(cfg: &Config, log: &EventLog, deadline: Instant) -> Result<Plan> {
    let tools = Tools::find(&cfg.bin_dirs)?;
    for r in &tools.refused {
        log.warn(
            None,
            "unsafe-program",
            format!("{} skipped: {}", r.path.display(), r.why),
        );
    }
    let listing = discovery::list(&tools, deadline);
    for e in &listing.errors {
        log.warn(None, "discovery", e);
    }
    let selection = discovery::select(&cfg.instances, &listing, &tools)?;
    selection.refuse_unavailable()?;
    for inst in &selection.down {
        log.warn(
            Some(&inst.name),
            "skipped",
            format!(
                "{} is {}: skipped (a stopped instance's files are already consistent)",
                inst.name, inst.status
            ),
        );
    }
    mirror_primaries(cfg, &selection, log)?;
    one_shard_master(cfg, &selection)?;
    let about = selection
        .targets
        .iter()
        .map(|(i, _)| About::of(i))
        .collect();
    // Read now, before any freeze: recording a cluster's data servers after its freeze then
    // costs no call and no read.
    let local = match &cfg.sharded {
        Some(_) => Local {
            host: ThisHost::read(),
            instances: listing
                .instances
                .iter()
                .filter(|i| i.running)
                .map(About::of)
                .collect(),
        },
        None => Local::default(),
    };
    let targets = selection
        .targets
        .iter()
        .map(|(i, cmd)| {
            let t = Target::new(&i.name, cmd.clone())
                .with_emergency(tools.emergency_for(&i.name, i.kind))
                .with_credentials(cfg.credentials.as_ref())
                .with_sharded(cfg.sharded.as_deref());
            (t, i.kind)
        })
        .collect();
    // Every instance qlist shows down, named in this run or not: a record of one is stale.
    let down = listing
        .instances
        .iter()
        .filter(|i| i.availability() == Availability::Down)
        .map(|i| i.name.clone())
        .collect();
    Ok(Plan {
        targets,
        down,
        about,
        local,
    })
}

/// A mirror primary is frozen with a warning, or refused when the config says so.
fn mirror_primaries(cfg: &Config, selection: &Selection, log: &EventLog) -> Result<()> {
    for (inst, _) in &selection.targets {
        if !inst
            .mirror_status
            .eq_ignore_ascii_case(crate::iris::calls::QLIST_MIRROR_PRIMARY)
        {
            continue;
        }
        let advice = "a freeze that outlasts ExternalFreezeTimeOut, or a VM pause longer than \
                      the mirror QoS timeout (8 s by default), can make the mirror fail over; \
                      snapshot the backup member instead, or raise the QoS timeout";
        if cfg.mirror_primary == MirrorPolicy::Refuse {
            bail!(
                "{} is the {} mirror primary and the config refuses to freeze a primary \
                 (mirror_primary = \"refuse\"): nothing was frozen. Why: {advice}",
                inst.name,
                inst.mirror_type
            );
        }
        log.warn(
            Some(&inst.name),
            "mirror-primary",
            format!(
                "{} is the mirror primary: {advice} (set mirror_primary = \"refuse\" in the \
                 config to refuse)",
                inst.name
            ),
        );
    }
    Ok(())
}

/// `--sharded` freezes a whole cluster from one instance, its shard master: freezing any other
/// instance of this host on its own as well would be a second, uncoordinated freeze.
fn one_shard_master(cfg: &Config, selection: &Selection) -> Result<()> {
    let Some(ns) = &cfg.sharded else {
        return Ok(());
    };
    if selection.targets.len() > 1 {
        let names: Vec<&str> = selection
            .targets
            .iter()
            .map(|(i, _)| i.name.as_str())
            .collect();
        bail!(
            "--sharded {ns} freezes the cluster from its shard master only, but this host runs \
             {} instances ({}): name the shard master with --instance: nothing was frozen",
            names.len(),
            names.join(", ")
        );
    }
    Ok(())
}

/// Drops the records of instances qlist shows down: a stopped instance is not frozen (a
/// restart resumes the write daemon), and its old record must neither shorten this freeze's
/// watchdog nor fail every later thaw. Whether any went.
pub(super) fn forget_down(state: &mut State, down: &[String], log: &EventLog) -> bool {
    let gone: Vec<String> = state
        .instances
        .keys()
        .filter(|k| down.iter().any(|d| d.eq_ignore_ascii_case(k)))
        .cloned()
        .collect();
    for name in &gone {
        if let Some(rec) = state.instances.remove(name) {
            log.warn(
                Some(name),
                "down",
                format!(
                    "{name} is down: our record of freezing it (since {}) is stale, since a \
                     restart resumes the write daemon: record dropped",
                    rec.since
                ),
            );
        }
    }
    if !gone.is_empty() && state.instances.is_empty() {
        state.disarm();
    }
    !gone.is_empty()
}
