//! Amazon Data Lifecycle Manager: runs iris-freeze through an SSM Command document
//! (`examples/aws-ssm-document.yml`) with `pre-script`, `post-script` or `dry-run` and an
//! execution id. Nothing is installed on the host.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::platform::hooks::HookCommand::{DryRun, Freeze, Thaw};
use crate::platform::kit::binary;
use crate::platform::kit::{Ctx, Findings, Given};
use crate::platform::spec::{Asks, Called, Hook, Spec};
use crate::platform::{HOOK_MARGIN, hook_seconds};
use crate::util::under;

/// The SSM Command document for AWS Data Lifecycle Manager, as shipped in the source tree.
const DOCUMENT: &str = include_str!("../../../examples/aws-ssm-document.yml");
const DOCUMENT_SOURCE: &str = "examples/aws-ssm-document.yml";
/// Where the SSM document runs the binary: the package's, else a manual install's.
const PACKAGE_BINARY: &str = "/usr/sbin/iris-freeze";
const MANUAL_BINARY: &str = "/usr/local/sbin/iris-freeze";
/// DLM's largest ExecutionTimeout.
const DLM_MAX_TIMEOUT: u64 = 120;

const HOOKS: &[Hook] = &[
    Hook::arg("pre-script", Asks::Command(Freeze)),
    Hook::arg("post-script", Asks::Command(Thaw)),
    Hook {
        called: Called::Arg {
            arg: "dry-run",
            needs_id: true,
        },
        asks: Asks::Command(DryRun),
    },
];

pub(crate) struct Aws;

impl Spec for Aws {
    fn hooks(&self) -> &'static [Hook] {
        HOOKS
    }

    /// The steps go to stderr and only the document to stdout, so that
    /// `iris-freeze install aws > iris-freeze.yml` saves the document alone.
    fn nothing_to_install(&self, given: &Given) -> Option<String> {
        if !given.quiet {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(
                err,
                "{}",
                crate::util::escape::terminal_text(&install_text(given))
            );
        }
        Some(DOCUMENT.trim_end().to_string())
    }

    fn nothing_to_uninstall(&self) -> Option<&'static str> {
        Some(
            "iris-freeze uninstall aws: nothing was installed on this host. Remove the pre/post \
             scripts from the DLM policy's schedule, then delete the SSM document (`aws ssm \
             delete-document --name IrisFreeze`).",
        )
    }

    fn check(&self, c: &Ctx, out: &mut Findings) {
        out.ok(format!(
            "aws: nothing to install on this host; the SSM Command document is \
             {DOCUMENT_SOURCE} in the source (`iris-freeze install aws` prints it and how to \
             attach it to a DLM policy)"
        ));
        let found = [PACKAGE_BINARY, MANUAL_BINARY].into_iter().find(|p| {
            fs::metadata(under(c.given.root, p))
                .is_ok_and(|md| md.is_file() && md.permissions().mode() & 0o111 != 0)
        });
        match found {
            Some(shown) => out.ok(format!("{shown} exists (the document runs it)")),
            None => out.warn(
                format!("neither {PACKAGE_BINARY} nor {MANUAL_BINARY} is installed"),
                "the SSM document runs one of them: install the package, or copy iris-freeze to \
                 /usr/local/sbin",
            ),
        }
    }
}

/// What `install aws` prints on stderr: the steps on AWS's side (the document goes to stdout).
fn install_text(given: &Given) -> String {
    let t = given.timeout.as_secs_f64();
    let need = hook_seconds(given.timeout);
    let timeout_note = if need > DLM_MAX_TIMEOUT {
        format!(
            " WARNING: --timeout {t}s plus {HOOK_MARGIN}s is more than DLM's {DLM_MAX_TIMEOUT} s: \
             lower timeout in /etc/iris-freeze.toml to at most {} s.",
            DLM_MAX_TIMEOUT - HOOK_MARGIN
        )
    } else {
        String::new()
    };
    let bin_note = match binary() {
        Ok(b) if b != Path::new(MANUAL_BINARY) && b != Path::new(PACKAGE_BINARY) => format!(
            "\nThe document runs {PACKAGE_BINARY} (the package), else {MANUAL_BINARY}; this \
             binary is {}: install the package, or copy it to {MANUAL_BINARY}, on every \
             instance.",
            b.display()
        ),
        _ => String::new(),
    };
    format!(
        "iris-freeze install aws: nothing is written on this host. Amazon Data Lifecycle Manager \
         runs iris-freeze through an SSM Command document ({DOCUMENT_SOURCE} in the \
         iris-freeze source, and /usr/share/doc/iris-freeze/aws-ssm-document.yml in the packages; \
         printed alone on stdout).{bin_note}\n\
         \n\
         next steps:\n  \
         1. Save the document (`iris-freeze install aws > iris-freeze.yml`) and create it, \
         tagged for DLM:\n       \
         aws ssm create-document --name IrisFreeze --document-type Command \
         --document-format YAML --content file://iris-freeze.yml --tags \
         Key=DLMScriptsAccess,Value=true\n  \
         2. In the DLM snapshot policy (targeting instances), add pre and post scripts to the \
         schedule: Stages PRE and POST, ExecutionHandlerService AWS_SYSTEMS_MANAGER, \
         ExecutionHandler IrisFreeze, ExecutionTimeout at least {need} s (iris-freeze's --timeout \
         {t}s plus {HOOK_MARGIN}s for a rollback; DLM allows 10 to {DLM_MAX_TIMEOUT}, default 10 \
         is too short){timeout_note}, ExecuteOperationOnScriptFailure as you prefer. The DLM \
         role needs AWSDataLifecycleManagerSSMFullAccess (which requires the \
         DLMScriptsAccess:true tag).\n  \
         3. Every instance needs the SSM Agent, iris-freeze at /usr/sbin (the package) or \
         {MANUAL_BINARY}, and OS authentication for %Service_Terminal (or credentials_file in \
         /etc/iris-freeze.toml). Test with `aws ssm send-command --document-name IrisFreeze \
         --parameters command=dry-run ...`."
    )
}
