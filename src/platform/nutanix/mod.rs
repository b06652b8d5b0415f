//! Nutanix Guest Tools: runs `/usr/local/sbin/pre_freeze` and `post_thaw`, root-owned, mode
//! 0700.

use crate::platform::hooks::HookCommand::{Freeze, Thaw};
use crate::platform::kit::Given;
use crate::platform::spec::{Asks, Hook, Spec, Wrapper};

/// The only mode Nutanix Guest Tools accept.
const MODE: u32 = 0o700;

const HOOKS: &[Hook] = &[
    Hook::wrapper(
        "/usr/local/sbin/pre_freeze",
        Asks::Command(Freeze),
        Wrapper {
            verb: "freeze",
            pass_args: false,
            comment: "Nutanix Guest Tools pre-freeze script, run as root when the snapshot is \
                      taken.",
            mode: MODE,
        },
    ),
    Hook::wrapper(
        "/usr/local/sbin/post_thaw",
        Asks::Command(Thaw),
        Wrapper {
            verb: "thaw",
            pass_args: false,
            comment: "Nutanix Guest Tools post-thaw script, run as root when the snapshot is \
                      finalized.",
            mode: MODE,
        },
    ),
];

pub(crate) struct Nutanix;

impl Spec for Nutanix {
    fn hooks(&self) -> &'static [Hook] {
        HOOKS
    }

    fn next_steps(&self, _given: &Given) -> Vec<String> {
        vec![
            "Nutanix Guest Tools must be installed and enabled for the VM, with \
             application-consistent snapshots in the protection policy."
                .into(),
        ]
    }

    fn required_mode(&self) -> Option<(u32, &'static str)> {
        Some((
            MODE,
            "Nutanix Guest Tools require root-owned scripts with mode 0700",
        ))
    }
}
