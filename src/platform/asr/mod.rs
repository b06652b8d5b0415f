//! Azure Site Recovery, Linux mobility agent: for an app-consistent recovery point it runs one
//! script, `<install dir>/scripts/customscript.sh`, with `--pre` before the tag and `--post`
//! after, as root. It ignores the exit code, always calls `--post`, and sets no timeout.

mod check;

use std::fs;

use anyhow::{Result, bail};

use crate::platform::hooks::HookCommand::{self, Freeze, Thaw};
use crate::platform::kit::{Ctx, Findings, Given, Installer, hook_check, hook_files};
use crate::platform::spec::{Asks, Hook, Spec, Wrapper};

/// The agent's default install directory, and the script it runs there.
const DEFAULT_DIR: &str = "/usr/local/ASR/Vx";
const SCRIPT: &str = "/usr/local/ASR/Vx/scripts/customscript.sh";
/// Where the agent appends the script's output.
const AGENT_LOG: &str = "/var/log/ApplicationPolicyLogs/customscript.log";
/// The first argument the wrapper passes, before the agent's `--pre` or `--post`.
const ARG: &str = "asr";

const PHASES: &[(&str, HookCommand)] = &[("--pre", Freeze), ("--post", Thaw)];

const HOOKS: &[Hook] = &[
    Hook::wrapper(
        SCRIPT,
        Asks::Phase(PHASES),
        Wrapper {
            verb: ARG,
            pass_args: true,
            comment: "Azure Site Recovery custom script. The mobility agent runs it as root \
                      with --pre or --post.",
            mode: 0o755,
        },
    ),
    Hook::arg(ARG, Asks::Phase(PHASES)),
];

pub(crate) struct Asr;

impl Spec for Asr {
    fn hooks(&self) -> &'static [Hook] {
        HOOKS
    }

    /// The agent runs only this one script: someone else's is never replaced.
    fn install(&self, i: &mut Installer) -> Result<()> {
        let path = i.tree.path(SCRIPT)?;
        if fs::symlink_metadata(&path).is_ok() && !hook_files::is_ours(&path, Some(i.bin)) {
            bail!(
                "{} already exists and is not iris-freeze's ({}); it was left untouched. The \
                 agent runs this one script, so replacing it would silently drop what it does. \
                 Move it aside (`mv {} {}.orig`) and run what it did from elsewhere, or have it \
                 call `iris-freeze asr \"$1\"` itself; then run `iris-freeze install asr` again",
                path.display(),
                hook_files::describe(&path),
                path.display(),
                path.display()
            );
        }
        i.put_hooks()
    }

    fn next_steps(&self, given: &Given) -> Vec<String> {
        vec![
            format!(
                "The mobility agent must be 9.24 or later and installed in {DEFAULT_DIR}; \
                 enable app-consistent recovery points in the replication policy (at most \
                 hourly). Nothing to restart: the agent runs the script at the next \
                 app-consistent point."
            ),
            format!(
                "The agent ignores the script's exit code and has no timeout: a failed freeze \
                 still gives a point labelled app-consistent. iris-freeze bounds itself \
                 (--timeout {}s) and rolls back; read the verdict in `iris-freeze history`, \
                 /etc/preScript.log, or {AGENT_LOG}.",
                given.timeout.as_secs_f64()
            ),
        ]
    }

    fn check(&self, c: &Ctx, out: &mut Findings) {
        hook_check::check_all(c, out);
        check::agent(c.given.root, out);
    }

    fn foreign_hook(&self, shown: &str, text: &str) -> Option<(String, String)> {
        (!text.contains("iris-freeze")).then(|| {
            (
                format!("{shown} is someone else's custom script (it never runs iris-freeze)"),
                format!(
                    "the agent runs only this script, so IRIS is never frozen; move it aside \
                     (`mv {shown} {shown}.orig`), then `iris-freeze install asr`"
                ),
            )
        })
    }
}
