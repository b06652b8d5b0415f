//! VMware Tools (open-vm-tools): runs `pre-freeze-script`/`post-thaw-script` from /usr/sbin, or
//! every script in `backupScripts.d/`, with a verb as the first argument.

use std::fs;

use crate::platform::hooks::HookCommand::{Freeze, Thaw};
use crate::platform::kit::{Ctx, Findings, Given, hook_check};
use crate::platform::spec::{Asks, Called, Hook, Spec};
use crate::util::ini::ini_value;
use crate::util::under;

const TOOLS_CONF: &str = "/etc/vmware-tools/tools.conf";

const HOOKS: &[Hook] = &[
    Hook::link("/usr/sbin/pre-freeze-script", Asks::Command(Freeze)),
    Hook::link("/usr/sbin/post-thaw-script", Asks::Command(Thaw)),
    Hook {
        called: Called::InDir("backupscripts.d"),
        asks: Asks::Verb,
    },
    // A thaw after a failed freeze, as VMware's legacy scripts are called.
    Hook::arg("freezefail", Asks::Command(Thaw)),
];

pub(crate) struct Vmware;

impl Spec for Vmware {
    fn hooks(&self) -> &'static [Hook] {
        HOOKS
    }

    fn next_steps(&self, _given: &Given) -> Vec<String> {
        vec![format!(
            "Take a quiesced snapshot (vSphere: \"Quiesce guest file system\"); VMware Tools \
             (open-vm-tools) must be running, and [vmbackup] execScripts must not be false in \
             {TOOLS_CONF}. VMware kills a hook 5 s after SIGTERM at its timeout."
        )]
    }

    fn check(&self, c: &Ctx, out: &mut Findings) {
        hook_check::check_all(c, out);
        check_tools_conf(&c.given, out);
    }

    fn passes_verb(&self) -> bool {
        true
    }
}

/// `execScripts = false` turns every freeze script off.
fn check_tools_conf(given: &Given, out: &mut Findings) {
    let path = under(given.root, TOOLS_CONF);
    let Ok(text) = fs::read_to_string(&path) else {
        return;
    };
    if ini_value(&text, "vmbackup", "execScripts", true)
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "false" | "0" | "no"))
    {
        out.fail(
            format!("{}: [vmbackup] execScripts is false", path.display()),
            "VMware Tools then runs no freeze script; fix: `execScripts = true` and restart \
             vmtoolsd",
        );
    }
}
