//! Cohesity's Linux agent (physical/host-based protection groups): runs the scripts a group
//! names, by file name only, from its `user_scripts` directory, as root: a pre script before
//! the snapshot, a post-snapshot script after it, a post-backup script after the backup.

use crate::platform::hook_seconds;
use crate::platform::hooks::HookCommand::{Freeze, Thaw};
use crate::platform::kit::Given;
use crate::platform::spec::{Asks, Hook, Spec, Wrapper};

/// The only directory the agent runs scripts from.
const DIR: &str = "/opt/cohesity/agent/software/crux/bin/user_scripts";
const PRE: &str = "/opt/cohesity/agent/software/crux/bin/user_scripts/iris-freeze-pre.sh";
const POST: &str = "/opt/cohesity/agent/software/crux/bin/user_scripts/iris-freeze-post.sh";

const HOOKS: &[Hook] = &[
    Hook::wrapper(
        PRE,
        Asks::Command(Freeze),
        Wrapper {
            verb: "freeze",
            pass_args: false,
            comment: "Cohesity pre script (pre_script), run by the agent as root before the \
                      snapshot.",
            mode: 0o755,
        },
    ),
    Hook::wrapper(
        POST,
        Asks::Command(Thaw),
        Wrapper {
            verb: "thaw",
            pass_args: false,
            comment: "Cohesity post-snapshot and post-backup script, run by the agent as root.",
            mode: 0o755,
        },
    ),
];

/// A file name as the protection group takes it.
fn name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

pub(crate) struct Cohesity;

impl Spec for Cohesity {
    fn hooks(&self) -> &'static [Hook] {
        HOOKS
    }

    fn next_steps(&self, given: &Given) -> Vec<String> {
        let need = hook_seconds(given.timeout);
        vec![
            format!(
                "In the protection group (physical server, this host), under Pre & Post \
                 Scripts, enter file names only (the agent runs them from {DIR}):\n       \
                 pre script:           {pre}  timeout at least {need} s, continue on error \
                 OFF (a failed freeze fails the run)\n       \
                 post-snapshot script: {post}  (the thaw, right after the snapshot)\n       \
                 post-backup script:   {post}  (a second thaw as a safety net: with nothing \
                 frozen it exits 0)\n     \
                 Leave the params empty; they are ignored.",
                pre = name(PRE),
                post = name(POST),
            ),
            "The Cohesity agent must be installed on this host; it runs the scripts as root."
                .into(),
        ]
    }
}
