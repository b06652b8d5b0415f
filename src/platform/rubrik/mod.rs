//! Rubrik VM backups (VMware, Nutanix, OLVM) through the Rubrik Backup Service in the guest:
//! per VM, `preBackupScript`, `postSnapScript` and `postBackupScript`, each an absolute path
//! with `timeoutMs` and `failureHandling` (`abort` or `continue`), entered in Rubrik's console.
//! `install` writes three wrappers at one root-owned place and prints what to enter.

use crate::platform::hook_seconds;
use crate::platform::hooks::HookCommand::{Freeze, Thaw};
use crate::platform::kit::Given;
use crate::platform::spec::{Asks, Hook, Spec, Wrapper};

const PRE_BACKUP: &str = "/opt/iris-freeze/rubrik/rubrik-pre-backup.sh";
const POST_SNAP: &str = "/opt/iris-freeze/rubrik/rubrik-post-snap.sh";
const POST_BACKUP: &str = "/opt/iris-freeze/rubrik/rubrik-post-backup.sh";

const fn wrapper(verb: &'static str, comment: &'static str) -> Wrapper {
    Wrapper {
        verb,
        pass_args: false,
        comment,
        mode: 0o755,
    }
}

const HOOKS: &[Hook] = &[
    Hook::wrapper(
        PRE_BACKUP,
        Asks::Command(Freeze),
        wrapper(
            "freeze",
            "Rubrik preBackupScript, run as root by the Rubrik Backup Service before the snapshot.",
        ),
    ),
    Hook::wrapper(
        POST_SNAP,
        Asks::Command(Thaw),
        wrapper(
            "thaw",
            "Rubrik postSnapScript, run as root by the Rubrik Backup Service after the snapshot.",
        ),
    ),
    Hook::wrapper(
        POST_BACKUP,
        Asks::Command(Thaw),
        wrapper(
            "thaw",
            "Rubrik postBackupScript: a second thaw after the backup, a safety net (nothing \
             frozen: exit 0).",
        ),
    ),
];

pub(crate) struct Rubrik;

impl Spec for Rubrik {
    fn hooks(&self) -> &'static [Hook] {
        HOOKS
    }

    fn next_steps(&self, given: &Given) -> Vec<String> {
        let ms = hook_seconds(given.timeout) * 1000;
        vec![
            format!(
                "In Rubrik, on this VM (Configure pre/post scripts; or the API's \
                 preBackupScript, postSnapScript, postBackupScript), enter:\n       \
                 preBackupScript:  scriptPath {PRE_BACKUP}  timeoutMs {ms}  failureHandling \
                 abort\n       \
                 postSnapScript:   scriptPath {POST_SNAP}  timeoutMs {ms}  failureHandling \
                 abort\n       \
                 postBackupScript: scriptPath {POST_BACKUP}  timeoutMs {ms}  failureHandling \
                 continue\n     \
                 (timeoutMs: --timeout {}s plus 15 s for a rollback). A failed freeze then \
                 aborts the backup, and a thaw that cannot vouch for the snapshot fails it; the \
                 post-backup thaw is only a safety net.",
                given.timeout.as_secs_f64()
            ),
            "The Rubrik Backup Service must be installed in the guest (it runs the scripts as \
             root)."
                .into(),
        ]
    }
}
