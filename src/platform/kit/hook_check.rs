//! `check` of the hook files a platform declares: each one a link to iris-freeze, or a wrapper
//! that runs it with the right verb; root's, not writable by others; and the program it runs
//! just as safe.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::file_facts::{
    is_elf, missing, names_iris_freeze, owner_name, read_text, resolve_exec, wrapper_call,
};
use super::hook_files::MARKER;
use super::{Ctx, Findings};
use crate::platform::Platform;
use crate::platform::hooks::{FREEZE_ARGS, THAW_ARGS};
use crate::platform::spec::{Asks, Called, Form, Hook, HookFile};
use crate::util::under;

/// Every hook file of this root's layout.
pub(crate) fn check_all(c: &Ctx, out: &mut Findings) {
    for hook in c.platform.hook_files(c.given.root) {
        if let Some(file) = hook.file() {
            check_hook(c, hook, file, out);
        }
    }
}

fn fix(platform: Platform) -> String {
    format!("fix: `iris-freeze install {platform}`")
}

fn move_aside(shown: &str, platform: Platform) -> String {
    format!("move it aside (`mv {shown} {shown}.orig`), then `iris-freeze install {platform}`")
}

fn check_hook(c: &Ctx, hook: &Hook, file: &HookFile, out: &mut Findings) {
    let platform = c.platform;
    let path = under(c.given.root, file.path);
    let shown = path.display().to_string();
    let lmd = match fs::symlink_metadata(&path) {
        Ok(md) => md,
        Err(e) => {
            out.fail(
                format!("{shown} {}", missing(&e)),
                format!(
                    "{platform} runs no iris-freeze hook, so snapshots are not \
                     application-consistent; {}",
                    fix(platform)
                ),
            );
            return;
        }
    };
    if lmd.file_type().is_symlink() {
        return check_link(c, &path, &shown, out);
    }
    if !lmd.is_file() {
        out.fail(format!("{shown} is not a regular file"), fix(platform));
        return;
    }
    if is_elf(&path) {
        out.fail(
            format!("{shown} is a binary, not iris-freeze's link or wrapper"),
            move_aside(&shown, platform),
        );
        return;
    }
    let text = read_text(&path);
    let good = check_script(c, &shown, &lmd, &text, out);
    let script = Script {
        hook,
        ours: text.contains(MARKER),
        shown,
        text,
        mode: lmd.mode() & 0o7777,
    };
    if !script.ours {
        if let Some((what, why)) = platform.spec().foreign_hook(&script.shown, &script.text) {
            out.fail(what, why);
            return;
        }
    }
    check_call(c, &script, good, out);
}

/// A hook file that is a script, as read.
struct Script<'a> {
    hook: &'a Hook,
    shown: String,
    text: String,
    mode: u32,
    /// It carries the marker.
    ours: bool,
}

/// A link must lead to iris-freeze, which must be safe to run.
fn check_link(c: &Ctx, path: &Path, shown: &str, out: &mut Findings) {
    let platform = c.platform;
    let link = fs::read_link(path).unwrap_or_default();
    let Ok(target) = fs::canonicalize(path) else {
        out.fail(
            format!("{shown} is a dangling symlink to {}", link.display()),
            fix(platform),
        );
        return;
    };
    let named_us = target
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("iris-freeze"));
    if !(c.bin.is_some_and(|b| b == target) || named_us) {
        out.fail(
            format!(
                "{shown} is a symlink to {}, not to iris-freeze",
                target.display()
            ),
            move_aside(shown, platform),
        );
        return;
    }
    let shown_target = target.display().to_string();
    if !program_is_safe(out, shown, &target, &shown_target, platform) {
        return;
    }
    match c.bin {
        Some(b) if b != target => out.warn(
            format!(
                "{shown} links to {shown_target}, not to this binary ({})",
                b.display()
            ),
            format!(
                "fine if that is the iris-freeze you want hooks to run; else {}",
                fix(platform)
            ),
        ),
        _ => out.ok(format!("{shown} -> {shown_target}")),
    }
}

/// A script the platform runs directly, as root: executable, root's, not writable by others,
/// no CRLF. True when all are right.
fn check_script(c: &Ctx, shown: &str, lmd: &fs::Metadata, text: &str, out: &mut Findings) -> bool {
    let platform = c.platform;
    let required = platform.spec().required_mode();
    let m = lmd.mode() & 0o7777;
    let mut good = true;
    if m & 0o100 == 0 {
        good = false;
        out.fail(
            format!("{shown} is not executable (mode {m:04o})"),
            format!(
                "{platform} executes it directly; fix: `chmod {:04o} {shown}`",
                required.map_or(0o755, |(mode, _)| mode)
            ),
        );
    }
    if lmd.uid() != 0 {
        good = false;
        out.owner_problem(
            format!("{shown} is owned by {}, not root", owner_name(lmd.uid())),
            format!(
                "{platform} runs it as root, so its owner can run anything as root; fix: \
                 `chown root:root {shown}`"
            ),
        );
    }
    match required {
        Some((mode, who)) if m & 0o077 != 0 => {
            good = false;
            out.fail(
                format!("{shown} has mode {m:04o}"),
                format!("{who}; fix: `chmod {mode:04o} {shown}`"),
            );
        }
        None if m & 0o022 != 0 => {
            good = false;
            out.fail(
                format!("{shown} can be written by group or others (mode {m:04o})"),
                format!("{platform} runs it as root; fix: `chmod go-w {shown}`"),
            );
        }
        _ => {}
    }
    if text.contains('\r') {
        good = false;
        out.fail(
            format!("{shown} has CRLF line endings"),
            format!(
                "the shell cannot run it as is; {} (it backs up the file)",
                fix(platform)
            ),
        );
    }
    good
}

/// What a wrapper runs: iris-freeze, safely, with a verb of the hook's side.
fn check_call(c: &Ctx, script: &Script, mut good: bool, out: &mut Findings) {
    let platform = c.platform;
    let Script {
        hook, shown, ours, ..
    } = script;
    let Some((prog, args)) = wrapper_call(&script.text) else {
        out.fail(
            format!("{shown} does not run iris-freeze"),
            move_aside(shown, platform),
        );
        return;
    };
    if !ours && !names_iris_freeze(&prog) {
        out.fail(
            format!("{shown} runs {prog}, not iris-freeze"),
            move_aside(shown, platform),
        );
        return;
    }
    good &= program_is_safe(
        out,
        shown,
        &resolve_exec(c.given.root, &prog),
        &prog,
        platform,
    );
    let verbs = if hook.freezes() {
        FREEZE_ARGS
    } else {
        THAW_ARGS
    };
    let verb = args.first().map(String::as_str).unwrap_or("");
    // A platform that passes the verb itself lets a wrapper pass its arguments on.
    let declared_link = hook.file().is_some_and(|f| f.form == Form::Link);
    let passes_verb = declared_link && platform.spec().passes_verb() && verb == "$@";
    // A phase hook is called for both sides: only passing the phase on can be right.
    let right = match hook.asks {
        Asks::Phase(_) => passes_phase(platform, hook, &args),
        _ => verbs.contains(&verb) || passes_verb,
    };
    if !right {
        good = false;
        out.fail(
            format!("{shown} runs `{prog} {}`", args.join(" ")),
            format!(
                "it must {}; {}",
                match hook.asks {
                    Asks::Phase(_) => "pass the phase on",
                    _ if hook.freezes() => "freeze",
                    _ => "thaw",
                },
                fix(platform)
            ),
        );
    }
    if good {
        out.ok(format!(
            "{shown}: {}wrapper, mode {:04o}, runs `{prog} {}`",
            if *ours {
                "iris-freeze's "
            } else {
                "hand-made "
            },
            script.mode,
            args.join(" ")
        ));
    }
}

/// A phase hook's wrapper: the platform's own first argument, then the phase passed on
/// (`iris-freeze asr "$@"`, or `"$1"` in a hand-made one).
fn passes_phase(platform: Platform, hook: &Hook, args: &[String]) -> bool {
    let [verb, rest] = args else { return false };
    (rest == "$@" || rest == "$1")
        && platform.spec().hooks().iter().any(|h| {
            h.asks == hook.asks && matches!(h.called, Called::Arg { arg, .. } if arg == verb)
        })
}

/// The program a hook runs as root (`target`, shown as `shown`): it must exist, be executable,
/// and only root may write it. True when it is fine.
pub(crate) fn program_is_safe(
    out: &mut Findings,
    what: &str,
    target: &Path,
    shown: &str,
    platform: Platform,
) -> bool {
    let md = match fs::metadata(target) {
        Ok(md) => md,
        Err(e) => {
            out.fail(
                format!("{what} runs {shown}, which {}", missing(&e)),
                format!(
                    "install iris-freeze there, or run `iris-freeze install {platform}` with the \
                     binary you want the hook to run"
                ),
            );
            return false;
        }
    };
    if !md.is_file() || md.mode() & 0o111 == 0 {
        out.fail(
            format!("{what} runs {shown}, which is not an executable file"),
            format!("`chmod 0755 {shown}`, or run `iris-freeze install {platform}`"),
        );
        return false;
    }
    if md.mode() & 0o022 != 0 {
        out.fail(
            format!(
                "{what} runs {shown}, which group or others can write (mode {:04o})",
                md.mode() & 0o7777
            ),
            format!(
                "the hook runs it as root at every snapshot, so anyone who can write it can \
                 run anything as root; fix: `chmod go-w {shown}`"
            ),
        );
        return false;
    }
    if md.uid() != 0 {
        out.owner_problem(
            format!(
                "{what} runs {shown}, which is owned by {}, not root",
                owner_name(md.uid())
            ),
            format!(
                "the hook runs it as root at every snapshot, so its owner can run anything as \
                 root; fix: `chown root:root {shown}`"
            ),
        );
        return false;
    }
    true
}
