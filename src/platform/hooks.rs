//! Hook conventions: how each snapshot platform calls us, by program name (argv[0]), by the
//! directory the program sits in, or by the first argument. A hook invocation takes the command
//! from the convention and ignores every other argument (Azure passes `"" ""`, VMware a
//! `scriptArg`, GCP a disk list, AWS an execution id); options then come from the environment
//! and the config file.

use std::ffi::{OsStr, OsString};
use std::path::Path;

use crate::platform::Platform;
use crate::platform::spec::{Asks, Called, Hook};

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

/// The job a hook call names in its arguments (Commvault's `-job ID -attempt N`), for the log
/// and the history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct HookJob {
    pub(crate) id: Option<String>,
    pub(crate) attempt: Option<u32>,
    /// The rest as received, for the log (`-bkplevel 1 -status 1`).
    pub(crate) more: String,
}

/// A recognised hook call: the command and, when the convention tells, the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Invocation {
    pub(crate) command: HookCommand,
    pub(crate) platform: Option<Platform>,
}

/// The first arguments of a working wrapper (for `check`): `freeze`/`thaw` and the hook verbs
/// that freeze or thaw.
pub(crate) const FREEZE_ARGS: &[&str] = &["azure-pre", "freeze", "pre-script", "veeam-freeze"];
pub(crate) const THAW_ARGS: &[&str] = &["azure-post", "thaw", "post-script", "veeam-thaw"];

fn lower(s: Option<&OsStr>) -> String {
    s.map(|s| s.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Whether a hook's (static, `/`-separated) path ends in the file `name`, in any case.
/// Compared in place: it runs for every hook of every platform at each start.
fn names_file(path: &str, name: &str) -> bool {
    let Some(cut) = path.len().checked_sub(name.len()) else {
        return false;
    };
    path.is_char_boundary(cut)
        && path[cut..].eq_ignore_ascii_case(name)
        && (cut == 0 || path.as_bytes()[cut - 1] == b'/')
}

/// VMware's and qemu's verbs: `freeze`, `thaw`, and `freezeFail` (VMware: thaw after a failure).
fn verb(first: &str) -> Option<HookCommand> {
    match first {
        "freeze" => Some(HookCommand::Freeze),
        "thaw" | "freezefail" => Some(HookCommand::Thaw),
        _ => None,
    }
}

/// The first hook of any platform that `called` matches.
fn find(called: impl Fn(&Called) -> bool) -> Option<(Platform, &'static Hook)> {
    Platform::ALL.into_iter().find_map(|p| {
        p.spec()
            .hooks()
            .iter()
            .find(|h| called(&h.called))
            .map(|h| (p, h))
    })
}

/// The command a phase table gives `phase` (any case).
fn phase(table: &[(&str, HookCommand)], phase: &str) -> Option<HookCommand> {
    table
        .iter()
        .find(|(p, _)| p.eq_ignore_ascii_case(phase))
        .map(|(_, c)| *c)
}

/// What `hook` of `platform` asks for, given the call's first argument and, for a phase, the
/// argument that names it.
fn invocation(platform: Platform, hook: &Hook, first: &str, phase_arg: &str) -> Option<Invocation> {
    let command = match hook.asks {
        Asks::Command(c) => c,
        Asks::Verb => verb(first)?,
        Asks::Phase(table) => phase(table, phase_arg)?,
    };
    Some(Invocation {
        command,
        platform: Some(platform),
    })
}

/// The hook an argument vector calls, and the argument that names its phase: by program name
/// first, then by directory, then by first argument.
fn matched(args: &[OsString]) -> Option<(Platform, &'static Hook, String, String)> {
    let argv0 = Path::new(args.first()?);
    let name = lower(argv0.file_name());
    let dir = lower(argv0.parent().and_then(Path::file_name));
    let first = lower(args.get(1).map(OsString::as_os_str));
    let by_name = find(|c| match c {
        Called::File(f) => names_file(f.path, &name),
        _ => false,
    });
    let by_dir = || find(|c| matches!(c, Called::InDir(d) if *d == dir));
    if let Some((p, hook)) = by_name.or_else(by_dir) {
        let phase_arg = or_otherwise(p, hook, first.clone(), &name);
        return Some((p, hook, first, phase_arg));
    }
    // Any other name behaves as iris-freeze; these first arguments are hook verbs.
    let rest_is_options = args
        .get(2)
        .is_some_and(|a| a.to_string_lossy().starts_with('-'));
    let id_follows = !rest_is_options && args.len() > 2;
    let by_arg = find(|c| match c {
        Called::Arg { arg, needs_id } => *arg == first && (id_follows || !needs_id),
        _ => false,
    });
    by_arg.map(|(p, hook)| {
        let second = lower(args.get(2).map(OsString::as_os_str));
        let second = or_otherwise(p, hook, second, &name);
        (p, hook, first, second)
    })
}

/// A phase hook's phase when no argument names one: what the platform says otherwise, if
/// anything (else the argument, which `refused` then names).
fn or_otherwise(p: Platform, hook: &Hook, phase_arg: String, called_as: &str) -> String {
    let Asks::Phase(table) = hook.asks else {
        return phase_arg;
    };
    let idle = p.spec().idle_phases();
    if phase(table, &phase_arg).is_some() || idle.iter().any(|i| *i == phase_arg) {
        return phase_arg;
    }
    p.spec()
        .phase_otherwise(called_as)
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or(phase_arg)
}

/// A phase hook called for a phase it does nothing for: what to say (exit 0, no IRIS call).
pub(crate) fn idle(args: &[OsString]) -> Option<String> {
    let (p, hook, _, phase_arg) = matched(args)?;
    let Asks::Phase(_) = hook.asks else {
        return None;
    };
    p.spec()
        .idle_phases()
        .iter()
        .any(|i| i.eq_ignore_ascii_case(&phase_arg))
        .then(|| {
            let job = job(args)
                .and_then(|j| j.id)
                .map(|id| format!(" (job {id})"))
                .unwrap_or_default();
            format!("iris-freeze: {p} {phase_arg}: nothing to do{job}")
        })
}

/// Recognises a hook call from the whole argument vector (argv[0] included): by program name
/// first, then by directory, then by first argument.
pub(crate) fn classify(args: &[OsString]) -> Option<Invocation> {
    if let Some((p, hook, first, phase_arg)) = matched(args) {
        return invocation(p, hook, &first, &phase_arg);
    }
    let first = lower(args.get(1).map(OsString::as_os_str));
    match first.as_str() {
        // `FREEZE`, `Thaw`: a hook runner's spelling, not a person's.
        f @ ("freeze" | "thaw") if args[1].to_string_lossy() != f => Some(Invocation {
            command: verb(f)?,
            platform: None,
        }),
        _ => None,
    }
}

/// Why a call of a phase hook is refused: its phase is missing or unknown. The caller (Azure
/// Site Recovery) may ignore our exit code, so this says on stderr, which it logs, what it got
/// and what we take.
pub(crate) fn refused(args: &[OsString]) -> Option<String> {
    let (p, hook, _, phase_arg) = matched(args)?;
    if let Err(why) = p.spec().hook_args(rest(hook, args)) {
        return Some(why);
    }
    let Asks::Phase(table) = hook.asks else {
        return None;
    };
    let idle = p.spec().idle_phases();
    if phase(table, &phase_arg).is_some() || idle.iter().any(|i| *i == phase_arg) {
        return None;
    }
    let called = match hook.called {
        Called::File(f) => f.path.to_string(),
        _ => format!(
            "iris-freeze {}",
            lower(args.get(1).map(OsString::as_os_str))
        ),
    };
    let got = match args.get(if matches!(hook.called, Called::Arg { .. }) {
        2
    } else {
        1
    }) {
        Some(a) => format!("with {:?}", a.to_string_lossy()),
        None => "with no argument".into(),
    };
    let want: Vec<&str> = table
        .iter()
        .map(|(a, _)| *a)
        .chain(idle.iter().copied())
        .collect();
    Some(format!(
        "{called} was called {got}, but the {p} hook takes one of: {}; nothing was frozen or \
         thawed",
        want.join(", ")
    ))
}

/// The arguments after the hook's own: after its file's name, or after its first argument.
fn rest<'a>(hook: &Hook, args: &'a [OsString]) -> &'a [OsString] {
    let skip = if matches!(hook.called, Called::Arg { .. }) {
        2
    } else {
        1
    };
    args.get(skip..).unwrap_or_default()
}

/// The job a hook call names, when its platform reads its arguments (`Spec::hook_args`).
pub(crate) fn job(args: &[OsString]) -> Option<HookJob> {
    let (p, hook, _, _) = matched(args)?;
    p.spec().hook_args(rest(hook, args)).ok().flatten()
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
            call(&["/opt/cohesity/agent/software/crux/bin/user_scripts/iris-freeze-pre.sh"]),
            Some((Freeze, Some(Cohesity)))
        );
        assert_eq!(
            call(&["iris-freeze-POST.sh", "a=b"]),
            Some((Thaw, Some(Cohesity)))
        );
        assert_eq!(
            call(&["/opt/iris-freeze/rubrik/rubrik-pre-backup.sh"]),
            Some((Freeze, Some(Rubrik)))
        );
        assert_eq!(call(&["rubrik-post-backup.sh"]), Some((Thaw, Some(Rubrik))));
        assert_eq!(
            call(&["/act/scripts/gcbdr-pre.sh"]),
            Some((Freeze, Some(Gcbdr)))
        );
        assert_eq!(call(&["gcbdr-abort.sh", "x"]), Some((Thaw, Some(Gcbdr))));
        assert_eq!(call(&["gcbdr-final.sh"]), Some((Thaw, Some(Gcbdr))));
        assert_eq!(call(&["gcbdr-init.sh"]), None);
        assert_eq!(
            call(&["iris-freeze", "gcbdr", "FREEZE"]),
            Some((Freeze, Some(Gcbdr)))
        );
        assert_eq!(
            call(&["iris-freeze", "gcbdr", "fini"]),
            Some((Thaw, Some(Gcbdr)))
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
    fn asr_takes_its_phase_after_the_name_or_after_its_argument() {
        let f = "/usr/local/ASR/Vx/scripts/customscript.sh";
        assert_eq!(call(&[f, "--pre"]), Some((Freeze, Some(Asr))));
        assert_eq!(call(&[f, "--POST"]), Some((Thaw, Some(Asr))));
        assert_eq!(
            call(&["/x/iris-freeze", "asr", "--pre"]),
            Some((Freeze, Some(Asr)))
        );
        assert_eq!(
            call(&["/x/iris-freeze", "asr", "--post"]),
            Some((Thaw, Some(Asr)))
        );
        assert_eq!(call(&[f, "freeze"]), None);
        let refused = |a: &[&str]| {
            let v: Vec<OsString> = a.iter().map(OsString::from).collect();
            refused(&v)
        };
        assert_eq!(refused(&[f, "--pre"]), None);
        assert_eq!(refused(&["/x/iris-freeze", "asr", "--post"]), None);
        assert_eq!(refused(&["/x/iris-freeze", "freeze"]), None);
        assert_eq!(refused(&["/etc/qemu/fsfreeze-hook", "bogus"]), None);
        let why = refused(&[f, "--bogus"]).unwrap();
        assert!(why.starts_with(f), "{why}");
        assert!(
            why.contains("with \"--bogus\"") && why.contains("--pre, --post"),
            "{why}"
        );
        let why = refused(&["/x/iris-freeze", "asr"]).unwrap();
        assert!(
            why.starts_with("iris-freeze asr was called with no argument"),
            "{why}"
        );
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

    #[test]
    fn every_hook_file_is_recognised_by_its_name() {
        for p in Platform::ALL {
            for h in p.spec().hooks() {
                let Some(f) = h.file() else { continue };
                let (arg, want) = match h.asks {
                    Asks::Command(c) => ("freeze", c),
                    Asks::Verb => ("freeze", Freeze),
                    Asks::Phase(table) => table[0],
                };
                assert_eq!(call(&[f.path, arg]), Some((want, Some(p))), "{}", f.path);
            }
        }
    }

    #[test]
    fn no_two_platforms_share_a_hook_name() {
        let mut seen = std::collections::HashMap::new();
        for p in Platform::ALL {
            for h in p.spec().hooks() {
                let key = match h.called {
                    Called::File(f) => lower(Path::new(f.path).file_name()),
                    Called::InDir(d) => format!("{d}/"),
                    Called::Arg { arg, .. } => format!("iris-freeze {arg}"),
                };
                if let Some(other) = seen.insert(key.clone(), p) {
                    assert_eq!(other, p, "{key}");
                }
            }
        }
    }

    #[test]
    fn the_wrapper_arguments_check_accepts_freeze_or_thaw() {
        for (args, want) in [(FREEZE_ARGS, Freeze), (THAW_ARGS, Thaw)] {
            for a in args {
                let hook = call(&["iris-freeze", a, "x"]).map(|(c, _)| c);
                assert!(
                    hook == Some(want) || *a == want.subcommand(),
                    "{a}: {hook:?}"
                );
            }
        }
    }

    #[test]
    fn every_wrapper_passes_a_verb_check_accepts() {
        use crate::platform::spec::Form;
        for p in Platform::ALL {
            for h in p.spec().hooks() {
                let Some(Form::Wrapper(w)) = h.file().map(|f| f.form) else {
                    continue;
                };
                if let Asks::Phase(_) = h.asks {
                    // The phase follows the platform's own first argument.
                    let arg = Hook::arg(w.verb, h.asks);
                    assert!(p.spec().hooks().contains(&arg), "{p}: {}", w.verb);
                    assert!(w.pass_args, "{p}");
                    continue;
                }
                let args = if h.freezes() { FREEZE_ARGS } else { THAW_ARGS };
                assert!(args.contains(&w.verb), "{p}: {}", w.verb);
            }
        }
    }
}
