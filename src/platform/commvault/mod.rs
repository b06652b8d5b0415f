//! Commvault IntelliSnap (and Hitachi Data Protection Suite, the same product): the PreSnap and
//! PostSnap process commands of a subclient, entered in the console. The CommServe appends
//! `-bkplevel N -attempt N -status N -job ID` to the command; a non-zero exit puts the job in
//! Pending and the phase is retried with the next `-attempt`. Nothing is written on the host.

mod args;

use std::ffi::OsString;
use std::fs;
use std::path::Path;

use crate::platform::hooks::HookCommand::{Freeze, Thaw};
use crate::platform::hooks::HookJob;
use crate::platform::kit::{Ctx, Findings, Given, binary};
use crate::platform::spec::{Asks, Hook, Spec};
use crate::util::under;

const PRE: &str = "commvault-pre";
const POST: &str = "commvault-post";
/// Where the Commvault client (File System Agent, MediaAgent) is installed on Linux.
const CLIENT_DIR: &str = "/opt/commvault";
/// The binary the printed commands name when this one's path cannot be found.
const PACKAGE_BINARY: &str = "/usr/sbin/iris-freeze";

const HOOKS: &[Hook] = &[
    Hook::arg(PRE, Asks::Command(Freeze)),
    Hook::arg(POST, Asks::Command(Thaw)),
];

pub(crate) struct Commvault;

impl Spec for Commvault {
    fn hooks(&self) -> &'static [Hook] {
        HOOKS
    }

    fn hook_args(&self, rest: &[OsString]) -> Result<Option<HookJob>, String> {
        args::parse(rest).map(Some)
    }

    fn nothing_to_install(&self, given: &Given) -> Option<String> {
        Some(install_text(given))
    }

    fn nothing_to_uninstall(&self) -> Option<&'static str> {
        Some(
            "iris-freeze uninstall commvault: nothing was installed on this host. Clear the \
             PreSnap and PostSnap process commands on the subclient's Pre/Post Process tab.",
        )
    }

    fn check(&self, c: &Ctx, out: &mut Findings) {
        let bin = c.bin.map(Path::to_path_buf);
        out.ok(
            "commvault: nothing to install on this host; the PreSnap and PostSnap commands are \
             entered on the subclient (`iris-freeze install commvault` prints them)",
        );
        match bin {
            Some(b) => out.ok(format!(
                "the commands to enter: `{} {PRE}` and `{} {POST}`",
                b.display(),
                b.display()
            )),
            None => out.warn(
                "this program's own path cannot be found",
                format!("the commands must name iris-freeze's absolute path ({PACKAGE_BINARY})"),
            ),
        }
        if fs::metadata(under(c.given.root, CLIENT_DIR)).is_ok_and(|m| m.is_dir()) {
            out.ok(format!("the Commvault client is installed ({CLIENT_DIR})"));
        } else {
            out.warn(
                format!("{CLIENT_DIR} does not exist: no Commvault client on this host"),
                "the PreSnap and PostSnap commands run where the subclient's client is (this IRIS \
                 host, or the proxy the subclient names): the commands run on the client the \
                 subclient names, which must be this IRIS host",
            );
        }
        out.warn(
            "what check cannot see: the subclient's commands, its \"Run PostSnap for all \
             attempts\" box, and the client's allow-list",
            "verify them in the console, as `iris-freeze install commvault` prints them",
        );
    }
}

/// What `install commvault` prints: what to enter on the subclient, and the box to tick.
fn install_text(given: &Given) -> String {
    let bin = binary().map_or_else(|_| PACKAGE_BINARY.to_string(), |b| b.display().to_string());
    let dir = Path::new(&bin)
        .parent()
        .map_or_else(|| "/usr/sbin".into(), |d| d.display().to_string());
    let t = given.timeout.as_secs_f64();
    format!(
        "iris-freeze install commvault: nothing is written on this host. The hooks are commands \
         entered on the subclient (IntelliSnap enabled), in the CommCell Console or Command \
         Center, Pre/Post Process tab:\n\
         \n  \
         PreSnap process:   {bin} {PRE}\n  \
         PostSnap process:  {bin} {POST}\n\
         \n\
         next steps:\n  \
         1. Enter the two commands as above: the absolute path, no quotes needed. The CommServe \
         appends `-bkplevel N -attempt N -status N -job ID`; iris-freeze logs them and records \
         the job id and the attempt in its history. Do not add arguments of your own (any other \
         argument is refused with exit 1); `/suppress` at the end is accepted.\n  \
         2. Tick \"Run PostSnap for all attempts\": without it, an attempt interrupted after \
         PreSnap gets no PostSnap, and IRIS stays frozen until the watchdog thaws it \
         (--max-freeze).\n  \
         3. Run As: root, the client's own account on Linux. Newer clients refuse programs outside their install folder unless \
         credentials are given or the folder is allow-listed: add {dir} to the \
         sAdminWhiteListPaths additional setting on this client (or the binary to \
         sAdminWhiteListBinaries).\n  \
         4. A non-zero exit puts the job in Pending and retries the phase: a retried PreSnap \
         while our own earlier freeze still holds keeps it frozen and re-arms the watchdog; a \
         failed freeze is rolled back before the exit. iris-freeze bounds itself with --timeout \
         {t}s.\n  \
         5. Run `iris-freeze check commvault`, then a backup of the subclient; `iris-freeze \
         history` shows the job id of each cycle."
    )
}
