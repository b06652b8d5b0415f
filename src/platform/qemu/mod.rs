//! qemu-ga (QEMU guest agent; Proxmox): runs one `fsfreeze-hook` with `freeze` or `thaw`, where
//! the distribution puts it, or the scripts in `fsfreeze-hook.d/` of qemu's stock dispatcher.

use std::fs;
use std::path::Path;

use anyhow::{Result, bail};

use crate::platform::kit::{Ctx, Findings, Given, hook_check};
use crate::platform::kit::{Installer, hook_files};
use crate::platform::spec::{Asks, Called, Hook, HookFile, Spec};
use crate::util::under;

const HOOK: &str = "/etc/qemu/fsfreeze-hook";
/// RHEL's layout, used where its directory exists.
const GA_DIR: &str = "/etc/qemu-ga";
const GA_HOOK: &str = "/etc/qemu-ga/fsfreeze-hook";

const HOOKS: &[Hook] = &[
    Hook::link(HOOK, Asks::Verb),
    Hook::link(GA_HOOK, Asks::Verb),
    Hook {
        called: Called::InDir("fsfreeze-hook.d"),
        asks: Asks::Verb,
    },
];

/// qemu-ga's hook: `/etc/qemu-ga/fsfreeze-hook` where that directory exists (RHEL), else
/// `/etc/qemu/fsfreeze-hook`.
fn hook_path(root: &Path) -> &'static str {
    if under(root, GA_DIR).is_dir() {
        GA_HOOK
    } else {
        HOOK
    }
}

pub(crate) struct Qemu;

impl Spec for Qemu {
    fn hooks(&self) -> &'static [Hook] {
        HOOKS
    }

    fn in_layout(&self, root: &Path, file: &HookFile) -> bool {
        file.path == hook_path(root)
    }

    /// Replacing qemu's stock dispatcher would silently drop what it runs: refused.
    fn install(&self, i: &mut Installer) -> Result<()> {
        let real = hook_path(i.root());
        let path = i.tree.path(real)?;
        if fs::symlink_metadata(&path).is_ok() && !hook_files::is_ours(&path, Some(i.bin)) {
            bail!(
                "{} already exists and is not iris-freeze's ({}); it was left untouched. If it \
                 is qemu's stock dispatcher, it runs the scripts in {}.d/ and always exits 0, so \
                 a freeze that failed would not fail the snapshot: IRIS would not be frozen and \
                 the snapshot would still be reported as quiesced. Move it aside (for example \
                 `mv {} {}.orig`; put anything else it must run in a script iris-freeze does not \
                 replace), then run `iris-freeze install qemu` again",
                path.display(),
                hook_files::describe(&path),
                real,
                path.display(),
                path.display()
            );
        }
        i.put_hooks()
    }

    fn next_steps(&self, given: &Given) -> Vec<String> {
        vec![format!(
            "qemu-ga runs the hook only when started with -F/--fsfreeze-hook. {}; then restart \
             the agent (`systemctl restart qemu-guest-agent`). Proxmox: enable the guest agent \
             and freeze-fs-on-backup for the VM.",
            agent_settings(hook_path(given.root))
        )]
    }

    fn check(&self, c: &Ctx, out: &mut Findings) {
        hook_check::check_all(c, out);
        check_agent(&c.given, out);
    }

    fn passes_verb(&self) -> bool {
        true
    }

    fn foreign_hook(&self, shown: &str, text: &str) -> Option<(String, String)> {
        text.contains("fsfreeze-hook.d").then(|| {
            (
                format!("{shown} is qemu's stock dispatcher"),
                format!(
                    "it runs the scripts in fsfreeze-hook.d/ and always exits 0, so a failed \
                     freeze would not fail the snapshot; move it aside (`mv {shown} \
                     {shown}.orig`), then `iris-freeze install qemu`"
                ),
            )
        })
    }
}

/// Where each distribution starts qemu-ga with the hook.
const AGENT_FILES: [(&str, &str); 2] = [
    ("/etc/default/qemu-guest-agent", "DAEMON_ARGS"),
    ("/etc/sysconfig/qemu-ga", "FSFREEZE_HOOK_PATHNAME"),
];

/// How to make qemu-ga run `hook`, on each distribution.
fn agent_settings(hook: &str) -> String {
    format!(
        "Debian/Ubuntu: DAEMON_ARGS=\"-F{hook}\" in {}; RHEL: FSFREEZE_HOOK_PATHNAME={hook} in {}",
        AGENT_FILES[0].0, AGENT_FILES[1].0
    )
}

/// qemu-ga runs the hook only when started with it.
fn check_agent(given: &Given, out: &mut Findings) {
    for (file, key) in AGENT_FILES {
        let path = under(given.root, file);
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let line = text.lines().map(str::trim).find(|l| {
            !l.starts_with('#')
                && l.starts_with(key)
                && (key != "DAEMON_ARGS" || l.contains("-F") || l.contains("--fsfreeze-hook"))
                && l.split_once('=')
                    .is_some_and(|(_, v)| !v.trim().trim_matches('"').is_empty())
        });
        if let Some(l) = line {
            out.ok(format!(
                "{}: {l} (qemu-ga must be restarted after a change)",
                path.display()
            ));
            return;
        }
    }
    out.warn(
        "qemu-ga runs the hook only when started with -F/--fsfreeze-hook",
        format!(
            "{}; then `systemctl restart qemu-guest-agent`",
            agent_settings(hook_path(given.root))
        ),
    );
}
