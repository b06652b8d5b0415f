//! The `Backup.ShardedCluster` calls, run on the shard master: one ExternalFreeze freezes every
//! data server of the cluster or none, one ExternalThaw thaws them all (class reference, %SYS).
//!
//! Assumed, not documented: called from an OS shell they exit 5/3 as `Backup.General` does,
//! and the call prints one `node=NAME journal=PATH` line per data server from CheckpointInfo.
//! That line is our format (the simulator writes it), not IRIS's: the shape of CheckpointInfo
//! is not in the class reference. doc/sharded.md says what is which.

use anyhow::{Result, bail};

use crate::iris::InstanceName;
use crate::iris::backup::FreezeOptions;
use crate::iris::objectscript_string;

/// What ExternalThaw prints when the cluster was not frozen any more.
pub(crate) const ALREADY_RESUMED: &str = "Already resumed";

/// A namespace as IRIS names them: a letter (or `%`) first, then letters, digits, `_` or `-`.
/// Checked before it goes into an ObjectScript string.
pub(crate) fn parse_namespace(s: &str) -> Result<String> {
    let mut chars = s.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '%');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !first_ok || !rest_ok || s.len() > 64 {
        bail!(
            "--sharded {s:?} is not a namespace name: give the shard master namespace (a \
             letter first, then letters, digits, _ or -, e.g. --sharded IRISCLUSTER)"
        );
    }
    Ok(s.to_string())
}

/// A cluster frozen from `master`, in words for summaries: `the sharded cluster NS from MASTER
/// (data servers A, B, C)`.
pub(crate) fn named(master: &str, namespace: &str, data_servers: &[String]) -> String {
    let servers = if data_servers.is_empty() {
        "data servers not named by the call".to_string()
    } else {
        format!("data servers {}", data_servers.join(", "))
    };
    format!("the sharded cluster {namespace} from {master} ({servers})")
}

/// ExternalFreeze(ShardMasterNamespace, ExternalFreezeTimeout, .CheckpointInfo); the timeout
/// is the config's external_freeze_timeout, left to IRIS's default when unset.
pub(crate) fn external_freeze(namespace: &str, opts: &FreezeOptions) -> String {
    let timeout = opts
        .external_freeze_timeout
        .map(|t| t.to_string())
        .unwrap_or_default();
    format!(
        "##Class(Backup.ShardedCluster).ExternalFreeze({},{timeout},.CheckpointInfo)",
        objectscript_string(namespace)
    )
}

/// ExternalThaw(ShardMasterNamespace).
pub(crate) fn external_thaw(namespace: &str) -> String {
    format!(
        "##Class(Backup.ShardedCluster).ExternalThaw({})",
        objectscript_string(namespace)
    )
}

/// Each data server and the journal file that ends at the freeze's checkpoint, from the
/// `node=NAME journal=PATH` lines of the freeze's output; and why each line whose NAME is not an
/// instance name was dropped. Checked here, where the names enter: they go on to the state, the
/// history, `run`'s environment, summaries and the commands `restore-plan` prints.
pub(crate) fn checkpoint<'a>(
    lines: impl Iterator<Item = &'a str>,
) -> (Vec<(InstanceName, String)>, Vec<String>) {
    let (mut nodes, mut dropped) = (Vec::new(), Vec::new());
    for l in lines {
        let Some(rest) = l.trim().strip_prefix("node=") else {
            continue;
        };
        let Some((node, journal)) = rest.split_once(" journal=") else {
            continue;
        };
        let (node, journal) = (node.trim(), journal.trim());
        if node.is_empty() || journal.is_empty() {
            continue;
        }
        match InstanceName::parse(node) {
            Ok(name) => nodes.push((name, journal.to_string())),
            Err(e) => dropped.push(format!(
                "a data server line of the cluster's CheckpointInfo was dropped: {e}"
            )),
        }
    }
    (nodes, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces() {
        assert_eq!(parse_namespace("IRISCLUSTER").unwrap(), "IRISCLUSTER");
        assert!(parse_namespace("%SYS").is_ok());
        for bad in ["", "1NS", "A\"B", "A)B", "A B", &"N".repeat(65)] {
            assert!(parse_namespace(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn expressions() {
        let mut opts = FreezeOptions::default();
        assert_eq!(
            external_freeze("CL", &opts),
            "##Class(Backup.ShardedCluster).ExternalFreeze(\"CL\",,.CheckpointInfo)"
        );
        opts.external_freeze_timeout = Some(900);
        assert_eq!(
            external_freeze("CL", &opts),
            "##Class(Backup.ShardedCluster).ExternalFreeze(\"CL\",900,.CheckpointInfo)"
        );
        assert_eq!(
            external_thaw("CL"),
            "##Class(Backup.ShardedCluster).ExternalThaw(\"CL\")"
        );
        // A namespace read back from a state file someone altered stays one string.
        assert_eq!(
            external_thaw("A\")_$zf(-1,\"x"),
            "##Class(Backup.ShardedCluster).ExternalThaw(\"A\"\")_$zf(-1,\"\"x\")"
        );
    }

    #[test]
    fn checkpoint_lines() {
        let out = "Freezing the cluster\nnode=NODE1 journal=/j/20261201.003\n  node=NODE2 \
                   journal=/k/20261201.001  \nnode= journal=/x\nnode=X\nSystem suspended";
        let (nodes, dropped) = checkpoint(out.lines());
        let nodes: Vec<(&str, &str)> = nodes
            .iter()
            .map(|(n, j)| (n.as_str(), j.as_str()))
            .collect();
        assert_eq!(
            nodes,
            [("NODE1", "/j/20261201.003"), ("NODE2", "/k/20261201.001")]
        );
        assert!(dropped.is_empty(), "{dropped:?}");
    }

    #[test]
    fn a_checkpoint_line_naming_no_instance_is_dropped_and_said() {
        let out =
            "node=$(touch /tmp/PWNED) journal=/j/1\nnode=A;B journal=/j/2\nnode=OK journal=/j/3";
        let (nodes, dropped) = checkpoint(out.lines());
        assert_eq!(nodes.len(), 1);
        assert_eq!(nodes[0].0.as_str(), "OK");
        assert_eq!(dropped.len(), 2, "{dropped:?}");
        assert!(dropped[0].contains("invalid instance name"), "{dropped:?}");
    }
}
