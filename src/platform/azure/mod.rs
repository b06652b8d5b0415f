//! Azure Backup's VM snapshot extension: runs the scripts its plugin JSON names as
//! `sh <file> "" ""`, and snapshots at `timeoutInSeconds` whether they are done or not.

mod check;
mod install;
mod merge;
mod rules;

use std::fs;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;

use crate::host::trust::Tree;
use crate::platform::hooks::HookCommand::{Freeze, Thaw};
use crate::platform::kit::Installer;
use crate::platform::kit::{Ctx, Findings, Given};
use crate::platform::spec::{Asks, Hook, Spec, Wrapper};
use crate::platform::{HOOK_MARGIN, hook_seconds};
use crate::util::file_transaction::FileTransaction;
use crate::util::ini::ini_value;
use crate::util::under;

const PRE: &str = "/etc/azure/prescript.sh";
const POST: &str = "/etc/azure/postScript.sh";
/// The plugin settings: which scripts, their arguments, the timeout, the poll.
const JSON: &str = "/etc/azure/VMSnapshotScriptPluginConfig.json";
/// Names a database workload whose own scripts Azure then runs instead of ours.
const WORKLOAD: &str = "/etc/azure/workload.conf";
/// Overrides the plugin host settings Azure ships; iris-freeze never writes it.
const HOST_CONF: &str = "/etc/azure/VMSnapshotPluginHost.conf";

/// The first argument each wrapper passes.
const PRE_ARG: &str = "azure-pre";
const POST_ARG: &str = "azure-post";

/// Azure's hard cap on `timeoutInSeconds`, and its default.
const MAX_TIMEOUT: u64 = 1800;
const DEFAULT_TIMEOUT: u64 = 10;
/// How often Azure looks whether a script has exited (`ScriptsExecutionPollTimeSeconds`): by
/// default, and the values it accepts.
const DEFAULT_POLL: u64 = 3;
const POLL_RANGE: std::ops::RangeInclusive<i64> = 1..=5;

const HOOKS: &[Hook] = &[
    Hook::wrapper(
        PRE,
        Asks::Command(Freeze),
        Wrapper {
            verb: PRE_ARG,
            pass_args: true,
            comment: "Azure Backup pre-script. Azure runs it as `sh <file> \"\" \"\"`.",
            mode: 0o700,
        },
    ),
    Hook::wrapper(
        POST,
        Asks::Command(Thaw),
        Wrapper {
            verb: POST_ARG,
            pass_args: true,
            comment: "Azure Backup post-script. Azure runs it as `sh <file> \"\" \"\"`.",
            mode: 0o700,
        },
    ),
    Hook::arg(PRE_ARG, Asks::Command(Freeze)),
    Hook::arg(POST_ARG, Asks::Command(Thaw)),
];

pub(crate) struct Azure;

impl Spec for Azure {
    fn hooks(&self) -> &'static [Hook] {
        HOOKS
    }

    fn install(&self, i: &mut Installer) -> Result<()> {
        install::install(i)
    }

    fn uninstall_more(&self, tree: &Tree, tx: &mut FileTransaction) -> Result<()> {
        install::remove_json(tree, tx)
    }

    fn next_steps(&self, given: &Given) -> Vec<String> {
        vec![
            "Nothing to restart: Azure Backup reads these files at the next backup. Take an \
             on-demand backup; the recovery point must say application consistent. \
             iris-freeze logs to /etc/preScript.log and /etc/postScript.log."
                .into(),
            format!(
                "timeoutInSeconds is {} s (iris-freeze's --timeout {}s + {HOOK_MARGIN}s); raise \
                 --timeout (timeout in /etc/iris-freeze.toml) only together with it.",
                timeout_needed(given.timeout),
                given.timeout.as_secs_f64()
            ),
        ]
    }

    /// By the plugin JSON's rules, which name the scripts (not by our hook files).
    fn check(&self, c: &Ctx, out: &mut Findings) {
        check::check(c, out);
    }
}

/// The `timeoutInSeconds` our deadline needs: `--timeout` rounded up, plus the margin, at most
/// Azure's cap.
fn timeout_needed(timeout: Duration) -> u64 {
    hook_seconds(timeout).min(MAX_TIMEOUT)
}

/// The workload `/etc/azure/workload.conf` names, if any: Azure then runs its own database
/// scripts instead of the pre/post scripts, silently.
fn workload(text: &str) -> Option<String> {
    ini_value(text, "workload", "workload_name", false).filter(|v| !v.is_empty())
}

/// How long Azure lets a hook run: `timeoutInSeconds` (`DEFAULT_TIMEOUT` when absent, at most
/// `MAX_TIMEOUT`) less one poll (Azure notices an exit only at its next poll) and a second of
/// margin. Azure does not kill a late pre-script; it snapshots anyway, so we must be done (or
/// rolled back) by then.
pub(crate) fn limit(root: &Path) -> Option<(Duration, String)> {
    let path = under(root, JSON);
    let text = fs::read_to_string(&path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let t = v
        .get("timeoutInSeconds")
        .map_or(Some(DEFAULT_TIMEOUT as f64), |t| t.as_f64())?
        .min(MAX_TIMEOUT as f64);
    let (lo, hi) = (*POLL_RANGE.start() as f64, *POLL_RANGE.end() as f64);
    let poll = v
        .get("ScriptsExecutionPollTimeSeconds")
        .and_then(|p| p.as_f64().or_else(|| p.as_str()?.parse().ok()))
        .filter(|p| (lo..=hi).contains(p))
        .unwrap_or(DEFAULT_POLL as f64);
    let ours = (t - poll - 1.0).max(1.0);
    Some((
        Duration::from_secs_f64(ours),
        format!(
            "Azure allows {t}s (timeoutInSeconds in {}, polled every {poll}s): finishing within {ours}s",
            path.display()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_names_are_found_only_in_their_section() {
        assert_eq!(
            workload("[workload]\nworkload_name = mysql\n").as_deref(),
            Some("mysql")
        );
        assert_eq!(
            workload("[workload]\nWorkload_Name: oracle\n").as_deref(),
            Some("oracle")
        );
        assert_eq!(workload("[workload]\nworkload_name =\n"), None);
        assert_eq!(workload("# workload_name = mysql\n[workload]\n"), None);
        assert_eq!(workload("[other]\nworkload_name = mysql\n"), None);
        assert_eq!(
            workload("[workload]\n; workload_name = x\nworkload_name = \n"),
            None
        );
    }

    #[test]
    fn azure_limit_reads_the_plugin_json() {
        let tmp = tempfile::tempdir().unwrap();
        let p = under(tmp.path(), JSON);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(
            &p,
            r#"{"timeoutInSeconds": 20, "ScriptsExecutionPollTimeSeconds": 1}"#,
        )
        .unwrap();
        assert_eq!(limit(tmp.path()).unwrap().0, Duration::from_secs(18));
        fs::write(&p, r#"{"preScriptLocation": "/x"}"#).unwrap();
        // Azure's code default is 10 s, polled every 3 s.
        assert_eq!(limit(tmp.path()).unwrap().0, Duration::from_secs(6));
        assert!(limit(Path::new("/nonexistent")).is_none());
    }

    #[test]
    fn the_timeout_needed_is_capped_at_azures_limit() {
        assert_eq!(timeout_needed(Duration::from_secs(30)), 45);
        assert_eq!(timeout_needed(Duration::from_millis(29_100)), 45);
        assert_eq!(timeout_needed(Duration::from_secs(1790)), MAX_TIMEOUT);
    }
}
