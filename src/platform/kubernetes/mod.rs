//! IRIS on Kubernetes: the backup engines that run iris-freeze with a plain exec in the IRIS
//! container (Velero, Kasten K10, Azure Backup for AKS). Nothing is installed on a host:
//! `install ENGINE` prints the engine's manifest for the user's names (`manifest`), and
//! `check` run inside the container says whether it would work there (`check`).

mod check;
mod manifest;

use std::io::Write;
use std::time::Duration;

use clap::Args;

use crate::platform::Platform;
use crate::platform::kit::{Ctx, Findings, Given};
use crate::platform::spec::{Hook, Spec};

pub(crate) use manifest::Engine;

/// The names a manifest is printed for: `install velero|k10|aks-backup` flags.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ManifestArgs {
    /// Kubernetes engines: the IRIS workload's namespace [default: iris].
    #[arg(long, value_name = "NAME")]
    pub(crate) namespace: Option<String>,

    /// Kubernetes engines: the StatefulSet (or IrisCluster) that runs IRIS [default: iris].
    #[arg(long, value_name = "NAME")]
    pub(crate) workload: Option<String>,

    /// Kubernetes engines: the IRIS container in its pods [default: iris].
    #[arg(long, value_name = "NAME")]
    pub(crate) container: Option<String>,

    /// Kubernetes engines: where iris-freeze is inside the IRIS container [default:
    /// /iris-freeze/iris-freeze, the emptyDir of examples/kubernetes].
    #[arg(long, value_name = "PATH")]
    pub(crate) binary: Option<String>,

    /// Kubernetes engines: the longest IRIS may stay frozen, in seconds, in the printed freeze
    /// command (its watchdog thaws then); more than --timeout, below 600 [default: 300, or
    /// max_freeze in the config file].
    #[arg(long, env = crate::settings::env::MAX_FREEZE, value_name = "SECS")]
    pub(crate) max_freeze: Option<String>,

    /// Velero: print the hooks as the pod template's annotations (`statefulset`), or as a
    /// Backup whose spec.hooks.resources select the IRIS pod (`backup`: no pod restart, and
    /// works for an IrisCluster's data pods) [default: statefulset].
    #[arg(long, value_enum, value_name = "KIND")]
    pub(crate) kind: Option<VeleroKind>,

    /// Refused by `install velero` and `install aks-backup`: their hooks run per pod, so a
    /// sharded cluster would be thawed before the other pods' volumes are snapshotted (use
    /// `run --sharded` around the whole backup, or K10 policy-level hooks).
    // Its own id: `sharded` is freeze's, with its variable and config key.
    #[arg(long = "sharded", id = "install_sharded", value_name = "NAMESPACE")]
    pub(crate) sharded: Option<String>,
}

/// Where Velero finds the hooks (https://velero.io/docs/main/backup-hooks/: "annotations on
/// the pod itself, and in the Backup spec").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum VeleroKind {
    /// The pod annotations, as a patch of the StatefulSet's pod template.
    #[default]
    Statefulset,
    /// A Backup (velero.io/v1) with spec.hooks.resources.
    Backup,
}

/// The names as given, defaults filled in (`check` before printing them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ManifestNames {
    pub(crate) namespace: String,
    pub(crate) workload: String,
    pub(crate) container: String,
    pub(crate) binary: String,
    pub(crate) kind: VeleroKind,
    /// `--sharded`, given to be refused with what works instead.
    pub(crate) sharded: Option<String>,
}

/// Where examples/kubernetes puts the binary: an emptyDir mounted at /iris-freeze.
pub(crate) const DEFAULT_BINARY: &str = "/iris-freeze/iris-freeze";

impl Default for ManifestNames {
    fn default() -> ManifestNames {
        ManifestNames {
            namespace: "iris".into(),
            workload: "iris".into(),
            container: "iris".into(),
            binary: DEFAULT_BINARY.into(),
            kind: VeleroKind::default(),
            sharded: None,
        }
    }
}

impl From<&ManifestArgs> for ManifestNames {
    fn from(a: &ManifestArgs) -> ManifestNames {
        let d = ManifestNames::default();
        ManifestNames {
            namespace: a.namespace.clone().unwrap_or(d.namespace),
            workload: a.workload.clone().unwrap_or(d.workload),
            container: a.container.clone().unwrap_or(d.container),
            binary: a.binary.clone().unwrap_or(d.binary),
            kind: a.kind.unwrap_or(d.kind),
            sharded: a.sharded.clone(),
        }
    }
}

impl ManifestNames {
    /// Names that go into YAML unquoted must be Kubernetes names (RFC 1123 labels); the
    /// binary, an absolute path, is always written quoted. `--kind` is Velero's alone. An
    /// engine's freeze must end before its own watchdog thaws (`limits`).
    pub(crate) fn check(
        &self,
        platform: Platform,
        timeout: Duration,
        max_freeze: Duration,
    ) -> anyhow::Result<()> {
        if let Some(ns) = &self.sharded {
            refuse_sharded(platform, ns)?;
        }
        if matches!(
            platform,
            Platform::Velero | Platform::K10 | Platform::AksBackup
        ) {
            limits(timeout, max_freeze)?;
        }
        if self.kind != VeleroKind::default() && platform != Platform::Velero {
            anyhow::bail!(
                "--kind is for `install velero` only (its annotations or a Backup); drop it \
                 for `install {}`",
                platform.name()
            );
        }
        for (flag, v) in [
            ("--namespace", &self.namespace),
            ("--workload", &self.workload),
            ("--container", &self.container),
        ] {
            let ok = !v.is_empty()
                && v.len() <= 63
                && v.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !v.starts_with('-')
                && !v.ends_with('-');
            if !ok {
                anyhow::bail!(
                    "{flag} {v:?} is not a Kubernetes name: lower-case letters, digits and '-', \
                     at most 63, starting and ending with a letter or digit"
                );
            }
        }
        if !self.binary.starts_with('/') || self.binary.chars().any(char::is_control) {
            anyhow::bail!(
                "--binary {:?} must be the absolute path of iris-freeze inside the container \
                 (e.g. {DEFAULT_BINARY})",
                self.binary
            );
        }
        Ok(())
    }
}

/// A sharded cluster is frozen and thawed as one from its shard master. Velero's and AKS
/// Backup's hooks run per pod, each pod's post hook as soon as that pod's volumes are taken: the
/// master pod's thaw would thaw the whole cluster while other data servers' volumes are still
/// to be snapshotted. What works is one freeze and one thaw around the whole backup.
fn refuse_sharded(platform: Platform, ns: &str) -> anyhow::Result<()> {
    let works = format!(
        "what works: `iris-freeze run --instance MASTER --sharded {ns} -- CMD` in the shard \
         master's container around the whole backup (CMD snapshots every data server's \
         volumes), or K10 policy-level hooks (one pre-backup and one post-backup hook for the \
         whole policy running `freeze --sharded {ns}` and `thaw` in the master's container)"
    );
    match platform {
        Platform::Velero | Platform::AksBackup => anyhow::bail!(
            "install {} refuses --sharded: its hooks run per pod, so the cluster would be \
             thawed before the other pods' volumes are snapshotted; {works}",
            platform.name()
        ),
        _ => anyhow::bail!(
            "--sharded is not an option of `install {}` (it is refused by `install velero` and \
             `install aks-backup`); {works}",
            platform.name()
        ),
    }
}

/// The printed freeze runs with both limits: its watchdog thaws --max-freeze after it starts,
/// so a freeze that takes its whole --timeout must still leave a snapshot time to run.
fn limits(timeout: Duration, max_freeze: Duration) -> anyhow::Result<()> {
    if max_freeze > timeout {
        return Ok(());
    }
    let (t, m) = (timeout.as_secs_f64(), max_freeze.as_secs_f64());
    let blocks = crate::iris::backup::IRIS_BLOCKS_AFTER.as_secs();
    let fix = if (t as u64) + 1 < blocks {
        format!("give --max-freeze more than {t} (and below {blocks}), or a shorter --timeout")
    } else {
        format!(
            "give a --timeout well below {blocks} s (IRIS blocks writers after {blocks} s \
             frozen, so --max-freeze stays below that), e.g. --timeout 120 --max-freeze 300"
        )
    };
    anyhow::bail!(
        "--max-freeze {m}s is not more than --timeout {t}s: the printed freeze's watchdog would \
         thaw IRIS before a freeze that takes its whole --timeout is done, leaving no time for \
         the snapshot; {fix} (or timeout / max_freeze in the config file)"
    )
}

/// `kubernetes`: no engine's manifest, only `check` inside the container.
pub(crate) struct Kubernetes;

impl Spec for Kubernetes {
    fn hooks(&self) -> &'static [Hook] {
        &[]
    }

    fn nothing_to_install(&self, _given: &Given) -> Option<String> {
        Some(
            "iris-freeze install kubernetes: nothing to install. Name the backup engine: \
             `iris-freeze install velero`, `install k10` or `install aks-backup` prints its \
             manifest."
                .into(),
        )
    }

    fn nothing_to_uninstall(&self) -> Option<&'static str> {
        Some(NOTHING_ON_THE_HOST)
    }

    fn check(&self, c: &Ctx, out: &mut Findings) {
        check::in_container(c, None, out);
    }
}

const NOTHING_ON_THE_HOST: &str = "iris-freeze uninstall: nothing was installed on a host for \
     Kubernetes. Remove the hooks from the cluster: the Velero annotations from the pod \
     template, the K10 Blueprint and its binding, or the AKS BackupHook (`kubectl delete`).";

impl Spec for Engine {
    fn hooks(&self) -> &'static [Hook] {
        &[]
    }

    /// The manifest alone on stdout (`install velero > hooks.yaml`), the steps on stderr.
    fn nothing_to_install(&self, given: &Given) -> Option<String> {
        if !given.quiet {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(
                err,
                "{}",
                crate::util::escape::terminal_text(&self.steps(given))
            );
        }
        Some(self.manifest(given))
    }

    fn nothing_to_uninstall(&self) -> Option<&'static str> {
        Some(NOTHING_ON_THE_HOST)
    }

    fn check(&self, c: &Ctx, out: &mut Findings) {
        check::in_container(c, Some(*self), out);
    }
}
