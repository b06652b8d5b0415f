//! Veeam: the pre-freeze and post-thaw scripts of a job, run right around the snapshot.
//! - Veeam Agent for Linux (Server edition, `veeam-agent`): two `.sh` files on the host, named
//!   by absolute path in the job, run as root from `/`; not run when no snapshot is made.
//! - Veeam Backup & Replication guest processing (`veeam-vbr`): the console uploads the two
//!   scripts over SSH at every run and runs them from `/tmp` as the guest credentials' account;
//!   `install` prints them.
//! - The drop-in folders `/opt/veeam/scripts/pre` and `/post` of Veeam's community wrappers
//!   (`veeam-dropin`), which run every executable there as root.
//!
//! Each success is exit 0; each script has 10 minutes by default.

mod vbr;

use std::fs;

use crate::platform::hooks::HookCommand::{Freeze, Thaw};
use crate::platform::kit::{Ctx, Findings, Given, hook_check};
use crate::platform::spec::{Asks, Hook, Spec, Wrapper};
use crate::util::under;

pub(crate) use vbr::VeeamVbr;

/// The verbs every Veeam script passes: hook calls, so the history says `veeam-freeze`.
const FREEZE: &str = "veeam-freeze";
const THAW: &str = "veeam-thaw";
/// Where `install veeam-agent` puts the two scripts the job names.
const AGENT_PRE: &str = "/opt/iris-freeze/veeam/iris-pre-freeze.sh";
const AGENT_POST: &str = "/opt/iris-freeze/veeam/iris-post-thaw.sh";
/// Veeam Agent for Linux's command-line tool, there when the agent is installed.
const VEEAMCONFIG: &str = "/usr/bin/veeamconfig";
/// The folders the community wrappers run, and the scripts put there.
const DROPIN_PRE: &str = "/opt/veeam/scripts/pre/50-iris-freeze-freeze";
const DROPIN_POST: &str = "/opt/veeam/scripts/post/50-iris-freeze-thaw";
/// Veeam's default script timeout, in seconds.
const VEEAM_TIMEOUT: u64 = 600;

const fn script(path: &'static str, freezes: bool, comment: &'static str) -> Hook {
    Hook::wrapper(
        path,
        Asks::Command(if freezes { Freeze } else { Thaw }),
        Wrapper {
            verb: if freezes { FREEZE } else { THAW },
            pass_args: false,
            comment,
            mode: 0o755,
        },
    )
}

const AGENT_HOOKS: &[Hook] = &[
    script(
        AGENT_PRE,
        true,
        "Veeam Agent for Linux pre-freeze script, run as root from / before the snapshot.",
    ),
    script(
        AGENT_POST,
        false,
        "Veeam Agent for Linux post-thaw script, run as root from / after the snapshot.",
    ),
    Hook::arg(FREEZE, Asks::Command(Freeze)),
    Hook::arg(THAW, Asks::Command(Thaw)),
];

const DROPIN_HOOKS: &[Hook] = &[
    script(
        DROPIN_PRE,
        true,
        "run by Veeam's generic pre-freeze wrapper, with every script in this folder.",
    ),
    script(
        DROPIN_POST,
        false,
        "run by Veeam's generic post-thaw wrapper, with every script in this folder.",
    ),
];

/// Veeam Agent for Linux, Server edition.
pub(crate) struct VeeamAgent;

impl Spec for VeeamAgent {
    fn hooks(&self) -> &'static [Hook] {
        AGENT_HOOKS
    }

    fn next_steps(&self, given: &Given) -> Vec<String> {
        vec![
            format!(
                "In the Veeam Agent backup job (Server edition; the `veeam` console, or the \
                 job's Guest Processing step when Veeam Backup & Replication manages the \
                 agent), enable the job scripts and give these absolute paths: pre-freeze \
                 script {AGENT_PRE}, post-thaw script {AGENT_POST}. Leave the pre-job and \
                 post-job scripts alone: they run around the whole job, not the snapshot."
            ),
            format!(
                "Veeam runs them as root from /, needs exit 0, and stops a script after 10 \
                 minutes by default; iris-freeze bounds itself with --timeout {}s. With no \
                 snapshot (a file-level job without one) neither script runs.",
                given.timeout.as_secs_f64()
            ),
        ]
    }

    fn check(&self, c: &Ctx, out: &mut Findings) {
        hook_check::check_all(c, out);
        if fs::metadata(under(c.given.root, VEEAMCONFIG)).is_ok() {
            out.ok(format!(
                "Veeam Agent for Linux is installed ({VEEAMCONFIG})"
            ));
        } else {
            out.warn(
                format!("{VEEAMCONFIG} does not exist: Veeam Agent for Linux is not installed"),
                "install the agent (Server edition: the pre-freeze and post-thaw scripts are \
                 its own)",
            );
        }
        cannot_see(
            out,
            &format!("pre-freeze {AGENT_PRE}, post-thaw {AGENT_POST}"),
        );
    }
}

/// The scripts of Veeam's community wrappers' folders.
pub(crate) struct VeeamDropin;

impl Spec for VeeamDropin {
    fn hooks(&self) -> &'static [Hook] {
        DROPIN_HOOKS
    }

    fn next_steps(&self, _given: &Given) -> Vec<String> {
        vec![
            "Set the job's pre-freeze and post-thaw scripts to Veeam's generic wrappers \
             (VeeamHub/applications, generic-pre-post-scripts/linux: \
             veeam-pre-machine-freeze.sh and veeam-post-machine-thaw.sh, SYNC mode): they run \
             every executable in /opt/veeam/scripts/pre and /post as root, stopping at the \
             first that fails."
                .into(),
            "Do not also name iris-freeze's own scripts in the job (`install veeam-agent` or \
             `veeam-vbr`): one freeze per snapshot."
                .into(),
        ]
    }

    fn check(&self, c: &Ctx, out: &mut Findings) {
        hook_check::check_all(c, out);
        cannot_see(
            out,
            "the generic wrappers veeam-pre-machine-freeze.sh and veeam-post-machine-thaw.sh",
        );
    }
}

/// The job's settings live in Veeam's console, out of check's sight.
fn cannot_see(out: &mut Findings, scripts: &str) {
    out.warn(
        "what check cannot see: the job's script settings in Veeam's console",
        format!(
            "make sure the job names {scripts}, with script processing set to require success \
             (timeout {VEEAM_TIMEOUT} s by default)"
        ),
    );
}
