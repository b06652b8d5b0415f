//! `install veeam-vbr`: Veeam Backup & Replication's guest processing uploads the Linux
//! scripts over SSH at every run and runs them from `/tmp` as the guest credentials' account.
//! Nothing is written on the host: the two scripts to upload are printed, with the sudoers
//! line their account needs and the job's settings.

use super::{FREEZE, THAW, VEEAM_TIMEOUT};
use crate::platform::kit::{Ctx, Findings, Given, binary};
use crate::platform::spec::{Hook, Spec};
use crate::util::shell::sh_quote;

/// The binary the printed scripts name when this one's path cannot be found.
const PACKAGE_BINARY: &str = "/usr/sbin/iris-freeze";
/// Stands for the guest credentials' account in the printed sudoers line.
const ACCOUNT: &str = "VEEAM_USER";

pub(crate) struct VeeamVbr;

impl Spec for VeeamVbr {
    fn hooks(&self) -> &'static [Hook] {
        &[]
    }

    fn nothing_to_install(&self, given: &Given) -> Option<String> {
        Some(install_text(given))
    }

    fn nothing_to_uninstall(&self) -> Option<&'static str> {
        Some(
            "iris-freeze uninstall veeam-vbr: nothing was installed on this host. Clear the \
             Linux scripts of this VM in the job's Guest Processing settings, and remove the \
             sudoers line for iris-freeze.",
        )
    }

    fn check(&self, c: &Ctx, out: &mut Findings) {
        out.ok(
            "veeam-vbr: nothing to install on this host; Veeam Backup & Replication uploads \
             the scripts at every run (`iris-freeze install veeam-vbr` prints them)",
        );
        match c.bin {
            Some(b) => out.ok(format!(
                "the uploaded scripts must run `{} {FREEZE}` and `{} {THAW}`",
                b.display(),
                b.display()
            )),
            None => out.warn(
                "this program's own path cannot be found",
                format!("the scripts must name iris-freeze's absolute path ({PACKAGE_BINARY})"),
            ),
        }
        out.warn(
            "what check cannot see: the job's Guest Processing scripts, its script processing \
             mode and the guest account's sudo rights",
            "verify them as `iris-freeze install veeam-vbr` prints them",
        );
    }
}

/// One of the two scripts to upload: as root (Veeam elevates the account itself, or the
/// account is root) it runs iris-freeze directly, else through `sudo -n` (never a prompt).
pub(crate) fn upload_script(bin: &str, verb: &str, side: &str) -> String {
    let bin = sh_quote(bin);
    format!(
        "#!/bin/sh\n\
         # iris-freeze {side} script for Veeam Backup & Replication guest processing: uploaded \
         over SSH and run from /tmp at every run.\n\
         if [ \"$(id -u)\" -eq 0 ]; then exec {bin} {verb}; fi\n\
         exec sudo -n {bin} {verb}\n"
    )
}

/// The sudoers line the guest credentials' account needs (`visudo -f /etc/sudoers.d/...`).
pub(crate) fn sudoers_line(bin: &str) -> String {
    format!("{ACCOUNT} ALL=(root) NOPASSWD: {bin} {FREEZE}, {bin} {THAW}")
}

fn install_text(given: &Given) -> String {
    let bin = binary().map_or_else(|_| PACKAGE_BINARY.to_string(), |b| b.display().to_string());
    let t = given.timeout.as_secs_f64();
    format!(
        "iris-freeze install veeam-vbr: nothing is written on this host. Veeam Backup & \
         Replication uploads the job's Linux scripts over SSH at every run and runs them from \
         /tmp as the guest credentials' account. Save these two files on the backup server \
         (LF line endings):\n\
         \n\
         ---- iris-pre-freeze.sh ----\n{}\
         ---- iris-post-thaw.sh ----\n{}\
         ----\n\
         \n\
         next steps:\n  \
         1. In the backup (or replication) job: Guest Processing, Applications, select this VM, \
         Edit, Scripts tab: Script processing mode \"Require successful script execution\"; \
         Linux scripts: pre-freeze iris-pre-freeze.sh, post-thaw iris-post-thaw.sh (the paths \
         where you saved them on the backup server).\n  \
         2. Unless the guest credentials are root's, or \"Elevate account privileges \
         automatically\" is ticked for them, give their account this sudoers line on this host \
         (`visudo -f /etc/sudoers.d/iris-freeze`; {ACCOUNT} is the account's name; no \
         `requiretty` for it):\n       \
         {}\n  \
         3. Veeam stops a script after {VEEAM_TIMEOUT} s by default; iris-freeze bounds itself \
         with --timeout {t}s; a failed freeze is rolled back before its exit 1, and the job \
         stops.\n  \
         4. Run `iris-freeze check veeam-vbr`, then the job; `iris-freeze history` shows each cycle, by \
         {FREEZE} and {THAW}.",
        upload_script(&bin, FREEZE, "pre-freeze"),
        upload_script(&bin, THAW, "post-thaw"),
        sudoers_line(&bin),
    )
}
