//! Google Cloud's guest agent: runs `/etc/google/snapshots/pre.sh` and `post.sh` (with a disk
//! list) when a snapshot is taken with --guest-flush and its config enables them.

use std::fs;

use crate::platform::hook_seconds;
use crate::platform::hooks::HookCommand::{Freeze, Thaw};
use crate::platform::kit::{Ctx, Findings, Given, hook_check};
use crate::platform::spec::{Asks, Hook, Spec};
use crate::util::ini::ini_value;
use crate::util::under;

/// The guest agent's config: `[Snapshots] enabled`, `timeout_in_seconds`.
const AGENT_CONFIG: &str = "/etc/default/instance_configs.cfg";
/// The guest agent's default `timeout_in_seconds`.
const AGENT_TIMEOUT: u64 = 60;

const HOOKS: &[Hook] = &[
    Hook::link("/etc/google/snapshots/pre.sh", Asks::Command(Freeze)),
    Hook::link("/etc/google/snapshots/post.sh", Asks::Command(Thaw)),
];

pub(crate) struct Gcp;

impl Spec for Gcp {
    fn hooks(&self) -> &'static [Hook] {
        HOOKS
    }

    fn hook_dir_mode(&self) -> u32 {
        0o700
    }

    fn next_steps(&self, _given: &Given) -> Vec<String> {
        vec![format!(
            "Enable the hooks in {AGENT_CONFIG}:\n       [Snapshots]\n       enabled = true\n     \
             (and timeout_in_seconds above iris-freeze's --timeout if you raised it; default \
             {AGENT_TIMEOUT}), then restart the guest agent (`systemctl restart \
             google-guest-agent`) and create snapshots with --guest-flush."
        )]
    }

    fn check(&self, c: &Ctx, out: &mut Findings) {
        hook_check::check_all(c, out);
        check_agent_config(&c.given, out);
    }
}

/// The agent runs the hooks only when enabled, and kills them at its timeout.
fn check_agent_config(given: &Given, out: &mut Findings) {
    let path = under(given.root, AGENT_CONFIG);
    let shown = path.display();
    let text = fs::read_to_string(&path).unwrap_or_default();
    let enabled = ini_value(&text, "Snapshots", "enabled", true)
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "1" | "on"));
    if enabled {
        out.ok(format!("{shown}: [Snapshots] enabled = true"));
    } else {
        out.warn(
            format!("{shown} does not set [Snapshots] enabled = true"),
            "the guest agent then never runs pre.sh/post.sh; add `[Snapshots]` and `enabled = \
             true`, restart the agent (`systemctl restart google-guest-agent`), and snapshot \
             with --guest-flush",
        );
    }
    let need = hook_seconds(given.timeout);
    let timeout = ini_value(&text, "Snapshots", "timeout_in_seconds", true)
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(AGENT_TIMEOUT);
    if timeout < need {
        out.warn(
            format!("the guest agent kills hooks after {timeout} s (timeout_in_seconds)"),
            format!(
                "iris-freeze may need {need} s (--timeout {}s plus rollback); set \
                 timeout_in_seconds = {need} in [Snapshots] or lower timeout in \
                 /etc/iris-freeze.toml",
                given.timeout.as_secs_f64()
            ),
        );
    }
}
