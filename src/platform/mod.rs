//! The snapshot platforms iris-freeze knows how to hook into: one module each, declaring what
//! `spec::Spec` asks (hooks, install, check), and the hook-name recognition that reads them.

pub(crate) mod asr;
pub(crate) mod aws;
pub(crate) mod azure;
pub(crate) mod cohesity;
pub(crate) mod commvault;
pub(crate) mod gcbdr;
pub(crate) mod gcp;
pub(crate) mod hooks;
pub(crate) mod kit;
pub(crate) mod kubernetes;
pub(crate) mod nutanix;
pub(crate) mod qemu;
pub(crate) mod rubrik;
pub(crate) mod spec;
pub(crate) mod ssh;
pub(crate) mod veeam;
pub(crate) mod vmware;

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use spec::{Hook, Spec};

/// What a hook runner must allow beyond `--timeout`: the rollback (5 s), the kill grace of a
/// call that overruns and of the rollback's own call (2 + 2 s), one poll (1 s), and margin.
pub(crate) const HOOK_MARGIN: u64 = 15;

/// The seconds a hook runner must allow a hook: `--timeout` rounded up, plus the margin.
pub(crate) fn hook_seconds(timeout: Duration) -> u64 {
    timeout.as_secs_f64().ceil() as u64 + HOOK_MARGIN
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Platform {
    Azure,
    Vmware,
    Qemu,
    Gcp,
    Nutanix,
    Aws,
    /// Azure Site Recovery's Linux mobility agent.
    Asr,
    /// Commvault IntelliSnap PreSnap / PostSnap commands (Hitachi HDPS).
    Commvault,
    /// Veeam Agent for Linux, Veeam Backup & Replication guest processing, and the drop-in
    /// folders of Veeam's community wrappers (`platform::veeam`).
    VeeamAgent,
    VeeamVbr,
    VeeamDropin,
    /// Cohesity's Linux agent (host-based protection groups).
    Cohesity,
    /// Rubrik VM backups, through the Rubrik Backup Service in the guest.
    Rubrik,
    /// Google Cloud Backup and DR's agent scripts (Actifio heritage).
    Gcbdr,
    /// Kubernetes backup engines (`platform::kubernetes`), and `kubernetes` for `check`.
    Velero,
    K10,
    AksBackup,
    Kubernetes,
    /// Anything that drives a freeze from another machine over SSH (`platform::ssh`).
    Ssh,
}

impl Platform {
    pub(crate) const ALL: [Platform; 19] = [
        Platform::Azure,
        Platform::Vmware,
        Platform::Qemu,
        Platform::Gcp,
        Platform::Nutanix,
        Platform::Aws,
        Platform::Asr,
        Platform::Commvault,
        Platform::VeeamAgent,
        Platform::VeeamVbr,
        Platform::VeeamDropin,
        Platform::Cohesity,
        Platform::Rubrik,
        Platform::Gcbdr,
        Platform::Velero,
        Platform::K10,
        Platform::AksBackup,
        Platform::Kubernetes,
        Platform::Ssh,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Platform::Azure => "azure",
            Platform::Vmware => "vmware",
            Platform::Qemu => "qemu",
            Platform::Gcp => "gcp",
            Platform::Nutanix => "nutanix",
            Platform::Aws => "aws",
            Platform::Asr => "asr",
            Platform::Commvault => "commvault",
            Platform::VeeamAgent => "veeam-agent",
            Platform::VeeamVbr => "veeam-vbr",
            Platform::VeeamDropin => "veeam-dropin",
            Platform::Cohesity => "cohesity",
            Platform::Rubrik => "rubrik",
            Platform::Gcbdr => "gcbdr",
            Platform::Velero => "velero",
            Platform::K10 => "k10",
            Platform::AksBackup => "aks-backup",
            Platform::Kubernetes => "kubernetes",
            Platform::Ssh => "ssh",
        }
    }

    /// What the platform declares.
    pub(crate) fn spec(self) -> &'static dyn Spec {
        match self {
            Platform::Azure => &azure::Azure,
            Platform::Vmware => &vmware::Vmware,
            Platform::Qemu => &qemu::Qemu,
            Platform::Gcp => &gcp::Gcp,
            Platform::Nutanix => &nutanix::Nutanix,
            Platform::Aws => &aws::Aws,
            Platform::Asr => &asr::Asr,
            Platform::Commvault => &commvault::Commvault,
            Platform::VeeamAgent => &veeam::VeeamAgent,
            Platform::VeeamVbr => &veeam::VeeamVbr,
            Platform::VeeamDropin => &veeam::VeeamDropin,
            Platform::Cohesity => &cohesity::Cohesity,
            Platform::Rubrik => &rubrik::Rubrik,
            Platform::Gcbdr => &gcbdr::Gcbdr,
            Platform::Velero => &kubernetes::Engine::Velero,
            Platform::K10 => &kubernetes::Engine::K10,
            Platform::AksBackup => &kubernetes::Engine::AksBackup,
            Platform::Kubernetes => &kubernetes::Kubernetes,
            Platform::Ssh => &ssh::Ssh,
        }
    }

    /// The hooks with a file this root's layout uses: what `install` writes and `check` reads.
    pub(crate) fn hook_files(self, root: &Path) -> impl Iterator<Item = &'static Hook> + '_ {
        let spec = self.spec();
        spec.hooks()
            .iter()
            .filter(move |h| h.file().is_some_and(|f| spec.in_layout(root, f)))
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Platform {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Platform::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!(
                    "unknown platform {s:?}; one of: {}",
                    Platform::ALL.map(|p| p.name()).join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_case_insensitively() {
        for p in Platform::ALL {
            assert_eq!(p.name().parse::<Platform>().unwrap(), p);
            assert_eq!(p.name().to_uppercase().parse::<Platform>().unwrap(), p);
        }
        assert!(
            "hyperv"
                .parse::<Platform>()
                .unwrap_err()
                .contains("azure, vmware")
        );
    }
}
