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

    /// Which form: for Velero, the hooks as the pod template's annotations (`statefulset`), a
    /// Backup whose spec.hooks.resources select the IRIS pod (`backup`: no pod restart, and
    /// works for an IrisCluster's data pods), or a Schedule with that Backup as its template
    /// (`schedule`); for K10, a Blueprint bound to the StatefulSet (`blueprint`), or a Policy
    /// whose own hooks freeze before the whole backup and thaw after it, on success or failure
    /// (`policy`) [default: statefulset for Velero, blueprint for K10].
    #[arg(long, value_enum, value_name = "KIND")]
    pub(crate) kind: Option<Kind>,

    /// Velero, `--kind backup|schedule`: the namespace Velero runs in, where its Backup and
    /// Schedule objects live (OpenShift's OADP: openshift-adp) [default: velero].
    #[arg(long, value_name = "NAME")]
    pub(crate) velero_namespace: Option<String>,

    /// Velero, `--kind schedule`: when the Schedule backs up, a cron expression of five fields
    /// [default: "0 1 * * *", daily at 01:00].
    #[arg(long, value_name = "CRON")]
    pub(crate) schedule: Option<String>,

    /// K10 with `--kind policy`: freeze the whole sharded cluster of this shard master
    /// namespace from the master pod (WORKLOAD-0) for the whole backup. Refused by `install
    /// velero` and `install aks-backup`: their hooks run per pod, so the cluster would be thawed
    /// before the other pods' volumes are snapshotted.
    #[arg(long = "sharded", id = "install_sharded", value_name = "NAMESPACE")]
    pub(crate) sharded: Option<String>,
}

/// The form of an engine's manifest. Velero finds hooks "annotations on the pod itself, and in
/// the Backup spec" (https://velero.io/docs/main/backup-hooks/); K10 runs a bound Blueprint's
/// actions per resource, or a Policy's hooks around the whole backup
/// (https://docs.kasten.io/latest/kanister/reference/phase-lifecycle).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Kind {
    /// Velero: the pod annotations, as a patch of the StatefulSet's pod template.
    Statefulset,
    /// Velero: a Backup (velero.io/v1) with spec.hooks.resources.
    Backup,
    /// Velero: a Schedule (velero.io/v1) whose template is that Backup's spec.
    Schedule,
    /// K10: a Blueprint with backupPrehook and backupPosthook, and its BlueprintBinding.
    Blueprint,
    /// K10: a Policy whose preHook freezes and whose onSuccess and onFailure thaw.
    Policy,
}

impl Kind {
    /// The engine's forms, its default first.
    fn of(platform: Platform) -> &'static [Kind] {
        match platform {
            Platform::Velero => &[Kind::Statefulset, Kind::Backup, Kind::Schedule],
            Platform::K10 => &[Kind::Blueprint, Kind::Policy],
            _ => &[],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Statefulset => "statefulset",
            Kind::Backup => "backup",
            Kind::Schedule => "schedule",
            Kind::Blueprint => "blueprint",
            Kind::Policy => "policy",
        }
    }
}

/// Where Velero runs unless told (its Backup and Schedule objects must be in its namespace).
const VELERO_NAMESPACE: &str = "velero";
/// A Schedule's default cron: daily at 01:00.
const DEFAULT_SCHEDULE: &str = "0 1 * * *";

/// The names as given, defaults filled in (`check` before printing them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ManifestNames {
    pub(crate) namespace: String,
    pub(crate) workload: String,
    pub(crate) container: String,
    pub(crate) binary: String,
    /// `--kind` as given (`kind()` fills in the engine's default).
    pub(crate) kind: Option<Kind>,
    pub(crate) velero_namespace: Option<String>,
    pub(crate) schedule: Option<String>,
    /// `--sharded`: K10's policy form freezes the cluster; the other forms refuse it.
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
            kind: None,
            velero_namespace: None,
            schedule: None,
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
            kind: a.kind,
            velero_namespace: a.velero_namespace.clone(),
            schedule: a.schedule.clone(),
            sharded: a.sharded.clone(),
        }
    }
}

impl ManifestNames {
    /// The form to print: `--kind`, else the engine's default (none for AKS).
    pub(crate) fn kind(&self, platform: Platform) -> Option<Kind> {
        self.kind.or_else(|| Kind::of(platform).first().copied())
    }

    /// Velero's own namespace, where its Backup and Schedule go.
    pub(crate) fn velero_namespace(&self) -> &str {
        self.velero_namespace.as_deref().unwrap_or(VELERO_NAMESPACE)
    }

    /// The Schedule's cron expression.
    pub(crate) fn schedule(&self) -> &str {
        self.schedule.as_deref().unwrap_or(DEFAULT_SCHEDULE)
    }

    /// Names that go into YAML unquoted must be Kubernetes names (RFC 1123 labels); the
    /// binary, an absolute path, is always written quoted. Each engine has its own forms
    /// (`--kind`) and each form its own options. An engine's freeze must end before its own
    /// watchdog thaws (`limits`).
    pub(crate) fn check(
        &self,
        platform: Platform,
        timeout: Duration,
        max_freeze: Duration,
    ) -> anyhow::Result<()> {
        let kind = self.kind(platform);
        if let Some(ns) = &self.sharded {
            if platform == Platform::K10 && kind == Some(Kind::Policy) {
                crate::iris::sharded::parse_namespace(ns)?;
            } else {
                refuse_sharded(platform, ns)?;
            }
        }
        if matches!(
            platform,
            Platform::Velero | Platform::K10 | Platform::AksBackup
        ) {
            limits(timeout, max_freeze)?;
        }
        if let Some(k) = self.kind.filter(|k| !Kind::of(platform).contains(k)) {
            let forms = |p: Platform| {
                Kind::of(p)
                    .iter()
                    .map(|k| k.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            anyhow::bail!(
                "--kind {} is not a form of `install {}`: `install velero` takes {}, `install \
                 k10` takes {}; drop it for any other",
                k.name(),
                platform.name(),
                forms(Platform::Velero),
                forms(Platform::K10)
            );
        }
        let velero_object = matches!(kind, Some(Kind::Backup | Kind::Schedule));
        if let Some(ns) = &self.velero_namespace {
            if !velero_object {
                anyhow::bail!(
                    "--velero-namespace is for `install velero --kind backup` or `--kind \
                     schedule` (their object lives in Velero's namespace); the pod annotations \
                     and the other engines have none"
                );
            }
            kubernetes_name("--velero-namespace", ns)?;
        }
        if let Some(cron) = &self.schedule {
            if kind != Some(Kind::Schedule) {
                anyhow::bail!("--schedule is for `install velero --kind schedule` only");
            }
            check_cron(cron)?;
        }
        for (flag, v) in [
            ("--namespace", &self.namespace),
            ("--workload", &self.workload),
            ("--container", &self.container),
        ] {
            kubernetes_name(flag, v)?;
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

/// A Kubernetes name (an RFC 1123 label): written into YAML unquoted.
fn kubernetes_name(flag: &str, v: &str) -> anyhow::Result<()> {
    let ok = !v.is_empty()
        && v.len() <= 63
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !v.starts_with('-')
        && !v.ends_with('-');
    if !ok {
        anyhow::bail!(
            "{flag} {v:?} is not a Kubernetes name: lower-case letters, digits and '-', at most \
             63, starting and ending with a letter or digit"
        );
    }
    Ok(())
}

/// Five cron fields (minute, hour, day of month, month, day of week) as Velero's Schedule
/// takes them, of characters that need no quoting in YAML's double quotes.
fn check_cron(cron: &str) -> anyhow::Result<()> {
    let fields: Vec<&str> = cron.split(' ').collect();
    let ok = fields.len() == 5
        && fields.iter().all(|f| {
            !f.is_empty()
                && f.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"*/,-?".contains(&b))
        });
    if !ok {
        anyhow::bail!(
            "--schedule {cron:?} is not a cron expression of five fields (minute hour \
             day-of-month month day-of-week, one space apart, of digits, letters and * / , - ?), \
             e.g. --schedule \"0 1 * * *\" (daily at 01:00)"
        );
    }
    Ok(())
}

/// A sharded cluster is frozen and thawed as one from its shard master. Velero's and AKS
/// Backup's hooks run per pod, each pod's post hook as soon as that pod's volumes are taken: the
/// master pod's thaw would thaw the whole cluster while other data servers' volumes are still
/// to be snapshotted. What works is one freeze and one thaw around the whole backup.
fn refuse_sharded(platform: Platform, ns: &str) -> anyhow::Result<()> {
    let works = format!(
        "what works: `iris-freeze install k10 --kind policy --sharded {ns}` (K10 policy-level \
         hooks: one freeze before the whole backup and one thaw after it, in the shard master's \
         pod), or `iris-freeze run --instance MASTER --sharded {ns} -- CMD` in the shard \
         master's container around the whole backup (CMD snapshots every data server's volumes)"
    );
    match platform {
        Platform::Velero | Platform::AksBackup => anyhow::bail!(
            "install {} refuses --sharded: its hooks run per pod, so the cluster would be \
             thawed before the other pods' volumes are snapshotted; {works}",
            platform.name()
        ),
        Platform::K10 => anyhow::bail!(
            "install k10 takes --sharded with --kind policy only: the Blueprint's hooks run per \
             resource, so the cluster would be thawed before the other pods' volumes are \
             snapshotted; {works}"
        ),
        _ => anyhow::bail!(
            "--sharded is not an option of `install {}`; {works}",
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
