//! Hook conventions: how each snapshot platform calls us, by program name (argv[0]), by the
//! directory the program sits in, or by the first argument. A hook invocation takes the command
//! from the convention and ignores every other argument (Azure passes `"" ""`, VMware a
//! `scriptArg`, GCP a disk list, AWS an execution id); options then come from the environment
//! and the config file.

use std::ffi::OsString;
use std::path::Path;

use crate::platform::Platform;

/// What a hook asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HookCommand {
    Freeze,
    Thaw,
    DryRun,
}

impl HookCommand {
    pub(crate) fn subcommand(self) -> &'static str {
        match self {
            HookCommand::Freeze => "freeze",
            HookCommand::Thaw => "thaw",
            HookCommand::DryRun => "dry-run",
        }
    }
}

/// A recognised hook call: the command and, when the convention tells, the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Invocation {
    pub(crate) command: HookCommand,
    pub(crate) platform: Option<Platform>,
}

fn lower(s: Option<&OsString>) -> String {
    s.map(|s| s.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// VMware's and qemu's verbs: `freeze`, `thaw`, and `freezeFail` (VMware: thaw after a failure).
fn verb(first: &str) -> Option<HookCommand> {
    match first {
        "freeze" => Some(HookCommand::Freeze),
        "thaw" | "freezefail" => Some(HookCommand::Thaw),
        _ => None,
    }
}

/// Recognises a hook call from the whole argument vector (argv[0] included).
pub(crate) fn classify(args: &[OsString]) -> Option<Invocation> {
    let argv0 = Path::new(args.first()?);
    let name = argv0
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let dir = argv0
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let first = lower(args.get(1));
    let by = |command, platform| {
        Some(Invocation {
            command,
            platform: Some(platform),
        })
    };
    use HookCommand::{DryRun, Freeze, Thaw};
    use Platform::*;
    match name.as_str() {
        "prescript.sh" => return by(Freeze, Azure),
        "postscript.sh" => return by(Thaw, Azure),
        "pre-freeze-script" => return by(Freeze, Vmware),
        "post-thaw-script" => return by(Thaw, Vmware),
        "pre.sh" => return by(Freeze, Gcp),
        "post.sh" => return by(Thaw, Gcp),
        "pre_freeze" => return by(Freeze, Nutanix),
        "post_thaw" => return by(Thaw, Nutanix),
        "fsfreeze-hook" => return verb(&first).and_then(|c| by(c, Qemu)),
        _ => {}
    }
    match dir.as_str() {
        "backupscripts.d" => return verb(&first).and_then(|c| by(c, Vmware)),
        "fsfreeze-hook.d" => return verb(&first).and_then(|c| by(c, Qemu)),
        _ => {}
    }
    // Any other name behaves as iris-freeze; these first arguments are hook verbs.
    let rest_is_options = args
        .get(2)
        .is_some_and(|a| a.to_string_lossy().starts_with('-'));
    match first.as_str() {
        "azure-pre" => by(Freeze, Azure),
        "azure-post" => by(Thaw, Azure),
        "pre-script" => by(Freeze, Aws),
        "post-script" => by(Thaw, Aws),
        "dry-run" if !rest_is_options && args.len() > 2 => by(DryRun, Aws),
        "freezefail" => Some(Invocation {
            command: Thaw,
            platform: Some(Vmware),
        }),
        // `FREEZE`, `Thaw`: a hook runner's spelling, not a person's.
        f @ ("freeze" | "thaw") if args[1].to_string_lossy() != f => Some(Invocation {
            command: verb(f)?,
            platform: None,
        }),
        _ => None,
    }
}

/// The argument vector clap should see, and the hook call it came from, if any.
pub(crate) fn effective_args(args: Vec<OsString>) -> (Vec<OsString>, Option<Invocation>) {
    match classify(&args) {
        Some(inv) => (
            vec!["iris-freeze".into(), inv.command.subcommand().into()],
            Some(inv),
        ),
        None => (args, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(args: &[&str]) -> Option<(HookCommand, Option<Platform>)> {
        let v: Vec<OsString> = args.iter().map(OsString::from).collect();
        classify(&v).map(|i| (i.command, i.platform))
    }
    use HookCommand::*;
    use Platform::*;

    #[test]
    fn azure_names_in_any_case_and_any_directory() {
        assert_eq!(
            call(&["/etc/azure/prescript.sh", "", ""]),
            Some((Freeze, Some(Azure)))
        );
        assert_eq!(call(&["preScript.sh"]), Some((Freeze, Some(Azure))));
        assert_eq!(call(&["./PRESCRIPT.SH"]), Some((Freeze, Some(Azure))));
        assert_eq!(
            call(&["/etc/azure/postScript.sh"]),
            Some((Thaw, Some(Azure)))
        );
        assert_eq!(
            call(&["/x/iris-freeze", "azure-pre", "", ""]),
            Some((Freeze, Some(Azure)))
        );
        assert_eq!(
            call(&["/x/iris-freeze", "azure-post"]),
            Some((Thaw, Some(Azure)))
        );
    }

    #[test]
    fn every_platforms_names() {
        assert_eq!(
            call(&["/usr/sbin/pre-freeze-script", "freeze", ""]),
            Some((Freeze, Some(Vmware)))
        );
        assert_eq!(
            call(&["/usr/sbin/post-thaw-script", "freezeFail"]),
            Some((Thaw, Some(Vmware)))
        );
        assert_eq!(
            call(&["/etc/google/snapshots/pre.sh", "1/2,3/4"]),
            Some((Freeze, Some(Gcp)))
        );
        assert_eq!(
            call(&["/etc/google/snapshots/post.sh", "1/2"]),
            Some((Thaw, Some(Gcp)))
        );
        assert_eq!(
            call(&["/usr/local/sbin/pre_freeze"]),
            Some((Freeze, Some(Nutanix)))
        );
        assert_eq!(
            call(&["/usr/local/sbin/post_thaw"]),
            Some((Thaw, Some(Nutanix)))
        );
        assert_eq!(
            call(&["/etc/qemu/fsfreeze-hook", "freeze"]),
            Some((Freeze, Some(Qemu)))
        );
        assert_eq!(
            call(&["/etc/qemu-ga/fsfreeze-hook", "thaw"]),
            Some((Thaw, Some(Qemu)))
        );
        assert_eq!(call(&["/etc/qemu/fsfreeze-hook", "bogus"]), None);
    }

    #[test]
    fn vmware_directory_scripts_take_the_verb_and_ignore_script_arg() {
        let f = "/etc/vmware-tools/backupScripts.d/50-iris-freeze";
        assert_eq!(
            call(&[f, "freeze", "some arg"]),
            Some((Freeze, Some(Vmware)))
        );
        assert_eq!(call(&[f, "freezeFail", ""]), Some((Thaw, Some(Vmware))));
        assert_eq!(call(&[f, "thaw"]), Some((Thaw, Some(Vmware))));
        assert_eq!(
            call(&["/x/iris-freeze", "freezefail"]),
            Some((Thaw, Some(Vmware)))
        );
    }

    #[test]
    fn aws_verbs_with_an_execution_id() {
        assert_eq!(
            call(&["iris-freeze", "pre-script", "5e1d"]),
            Some((Freeze, Some(Aws)))
        );
        assert_eq!(
            call(&["iris-freeze", "post-script", "None"]),
            Some((Thaw, Some(Aws)))
        );
        assert_eq!(
            call(&["iris-freeze", "dry-run", "5e1d"]),
            Some((DryRun, Some(Aws)))
        );
        // A person's dry-run, with options, parses normally.
        assert_eq!(
            call(&["iris-freeze", "dry-run", "--instance", "IRIS"]),
            None
        );
        assert_eq!(call(&["iris-freeze", "dry-run"]), None);
    }

    #[test]
    fn other_names_and_plain_commands_parse_normally() {
        assert_eq!(call(&["/usr/sbin/iris-freeze", "freeze"]), None);
        assert_eq!(call(&["/usr/sbin/iris-freeze", "thaw", "-i", "X"]), None);
        assert_eq!(call(&["prescript"]), None);
        assert_eq!(call(&["prescript.sh.bak"]), None);
        assert_eq!(call(&["iris-freeze", "FREEZE"]), Some((Freeze, None)));
    }

    #[test]
    fn hook_arguments_are_dropped() {
        let args = vec![
            "/x/postScript.sh".into(),
            "".into(),
            "".into(),
            "--bogus".into(),
        ];
        assert_eq!(effective_args(args).0, ["iris-freeze", "thaw"]);
        let args: Vec<OsString> = vec!["iris-freeze".into(), "status".into()];
        assert_eq!(effective_args(args.clone()).0, args);
    }
}
