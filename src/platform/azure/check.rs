//! `check azure`: by the extension's own rules (stat following symlinks, owner *name* root, the
//! mode digits) and what the extension cannot see (an ELF run by `sh`, strings for numbers,
//! short timeouts, a wrapper whose binary is missing or writable by others).

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use serde_json::{Map, Value};

use super::{HOST_CONF, JSON, POST_ARG, PRE_ARG, WORKLOAD, rules, timeout_needed, workload};
use crate::platform::hooks::{FREEZE_ARGS, THAW_ARGS};
use crate::platform::kit::file_facts::{
    is_elf, missing, names_iris_freeze, owner_name, read_text, resolve_exec, wrapper_call,
};
use crate::platform::kit::hook_check::program_is_safe;
use crate::platform::kit::hook_files::MARKER;
use crate::platform::kit::{Ctx, Findings};
use crate::util::under;

const FIX: &str = "fix: `iris-freeze install azure`";

pub(super) fn check(c: &Ctx, out: &mut Findings) {
    let root = c.given.root;
    check_workload(root, out);
    check_host_conf(root, out);
    let Some(obj) = read_json(root, out) else {
        return;
    };
    for (key, params, pre) in [
        ("preScriptLocation", "preScriptParams", true),
        ("postScriptLocation", "postScriptParams", false),
    ] {
        check_script(c, obj.get(key), key, pre, out);
        out.extend(rules::params(&obj, params));
    }
    let need = timeout_needed(c.given.timeout);
    out.extend(rules::settings(&obj, need, c.given.timeout.as_secs_f64()));
}

/// A workload in workload.conf makes Azure skip our scripts, silently.
fn check_workload(root: &Path, out: &mut Findings) {
    let path = under(root, WORKLOAD);
    match fs::read(&path) {
        Ok(b) => match workload(&String::from_utf8_lossy(&b)) {
            Some(name) => out.fail(
                format!("{} names the workload {name}", path.display()),
                format!(
                    "Azure then runs its own {name} scripts and silently skips the pre/post \
                     scripts, so IRIS is never frozen; fix: empty it (`workload_name =` in the \
                     [workload] section)"
                ),
            ),
            None => out.ok(format!("{} names no workload", path.display())),
        },
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => out.fail(
            format!("{}", path.display()),
            format!("cannot read it ({e}); Azure reads it to decide whether pre/post scripts run"),
        ),
    }
}

/// The plugin host settings: Azure refuses them unless root's and not group/other-writable.
fn check_host_conf(root: &Path, out: &mut Findings) {
    let host = under(root, HOST_CONF);
    let Ok(md) = fs::metadata(&host) else {
        return;
    };
    let m = md.mode() & 0o777;
    let (g, o) = ((m >> 3) & 7, m & 7);
    let name = owner_name(md.uid());
    if ![0, 4].contains(&g) || ![0, 4].contains(&o) || name != "root" {
        out.fail(
            format!("{} (owner {name}, mode {m:03o})", host.display()),
            "Azure refuses it (314) and runs no script; iris-freeze never needs this file: \
             remove it, or `chown root:root` and `chmod 644` it",
        );
    } else {
        out.warn(
            format!("{} exists", host.display()),
            format!(
                "it replaces the plugin host settings Azure ships; iris-freeze does not need \
                 it: make sure it names {JSON} as pluginConfigPath0, or remove it"
            ),
        );
    }
}

/// The plugin JSON's owner and mode, and its settings if Azure can read them.
fn read_json(root: &Path, out: &mut Findings) -> Option<Map<String, Value>> {
    let path = under(root, JSON);
    let shown = path.display().to_string();
    let md = match fs::metadata(&path) {
        Ok(md) => md,
        Err(e) => {
            out.fail(
                format!("{shown} {}", missing(&e)),
                "Azure runs no pre/post script and takes file-system-consistent snapshots; fix: \
                 `iris-freeze install azure`",
            );
            return None;
        }
    };
    let m = md.mode() & 0o777;
    let owner = owner_name(md.uid());
    let owner_execute = (m >> 6) & 1 != 0;
    if owner_execute || m & 0o077 != 0 {
        out.fail(
            format!("{shown} has mode {m:03o}"),
            format!(
                "Azure requires no owner-execute and no group/other permissions (error 317: no \
                 script runs); fix: `chmod 600 {shown}`"
            ),
        );
    }
    if owner != "root" {
        out.owner_problem(
            format!("{shown} is owned by {owner}, not root"),
            format!("Azure refuses it (error 317: no script runs); fix: `chown root:root {shown}`"),
        );
    }
    let obj = parse_json(&path, &shown, out)?;
    if m & 0o077 == 0 && !owner_execute && owner == "root" {
        out.ok(format!("{shown}: valid JSON, owner root, mode {m:03o}"));
    }
    Some(obj)
}

fn parse_json(path: &Path, shown: &str, out: &mut Findings) -> Option<Map<String, Value>> {
    let text = match fs::read(path) {
        Ok(t) => t,
        Err(e) => {
            out.fail(shown, format!("cannot read it: {e}"));
            return None;
        }
    };
    match serde_json::from_slice(&text) {
        Ok(Value::Object(obj)) => Some(obj),
        Ok(_) => {
            out.fail(
                format!("{shown} is not a JSON object"),
                "Azure cannot read its settings (error 305); fix: `iris-freeze install azure`",
            );
            None
        }
        Err(e) => {
            out.fail(
                format!("{shown} is not valid JSON ({e})"),
                "Azure fails to parse it (error 305) and runs no script; fix it, or move it aside \
                 and run `iris-freeze install azure`",
            );
            None
        }
    }
}

/// One script the JSON names: where, its owner and mode as Azure judges them, what it runs.
fn check_script(c: &Ctx, loc: Option<&Value>, key: &str, pre: bool, out: &mut Findings) {
    let Some(loc) = location(loc, key, out) else {
        return;
    };
    let script = Script {
        path: under(c.given.root, &loc),
        loc,
        what: if pre { "pre-script" } else { "post-script" },
        // Azure's error codes: the script missing, and refused.
        codes: if pre { (302, 306) } else { (303, 307) },
        pre,
    };
    let Some(md) = script.stat(out) else {
        return;
    };
    let Some(good) = script.attrs(c, &md, out) else {
        return;
    };
    script.call(c, &md, good, out);
}

/// The script's path as the JSON gives it: an absolute path.
fn location(loc: Option<&Value>, key: &str, out: &mut Findings) -> Option<String> {
    let loc = match loc {
        None => {
            out.fail(
                format!("{key} is missing"),
                format!("Azure fails on the JSON (error 305) and runs no script; {FIX}"),
            );
            return None;
        }
        Some(Value::String(s)) if s.trim().is_empty() => {
            out.fail(
                format!("{key} is empty"),
                format!("Azure reports the script missing (302/303) on every backup; {FIX}"),
            );
            return None;
        }
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            out.fail(
                format!("{key} is {other}, not a path"),
                format!("Azure cannot find a script there; {FIX}"),
            );
            return None;
        }
    };
    if !loc.starts_with('/') {
        out.fail(
            format!("{key} {loc:?} is a relative path"),
            format!("Azure resolves it against its extension directory; {FIX}"),
        );
        return None;
    }
    Some(loc)
}

struct Script {
    /// Under --root.
    path: std::path::PathBuf,
    /// As the JSON names it.
    loc: String,
    what: &'static str,
    codes: (u32, u32),
    pre: bool,
}

impl Script {
    fn shown(&self) -> String {
        self.path.display().to_string()
    }

    /// Azure stats it: a symlink is judged by its target.
    fn stat(&self, out: &mut Findings) -> Option<fs::Metadata> {
        let (what, shown, code) = (self.what, self.shown(), self.codes.0);
        match fs::metadata(&self.path) {
            Ok(md) if md.is_file() => Some(md),
            Ok(_) => {
                out.fail(
                    format!("{what} {shown} is not a regular file"),
                    format!("Azure reports it missing ({code}); {FIX}"),
                );
                None
            }
            Err(e) => {
                out.fail(
                    format!("{what} {shown} {}", missing(&e)),
                    format!(
                        "Azure skips the scripts ({code}) and takes file-system-consistent \
                         snapshots; {FIX}"
                    ),
                );
                None
            }
        }
    }

    /// An ELF, the mode, the owner: whether all are right, or None when it is an ELF (nothing
    /// more to read in it).
    fn attrs(&self, c: &Ctx, md: &fs::Metadata, out: &mut Findings) -> Option<bool> {
        let (what, shown, code) = (self.what, self.shown(), self.codes.1);
        let link = fs::symlink_metadata(&self.path).is_ok_and(|m| m.file_type().is_symlink());
        let elf = is_elf(&self.path);
        let mut good = true;
        if elf {
            good = false;
            self.elf(c, link, out);
        }
        let m = md.mode() & 0o777;
        if m & 0o077 != 0 {
            good = false;
            out.fail(
                format!(
                    "{what} {shown} has mode {m:03o}{}",
                    if link { " (its symlink target's)" } else { "" }
                ),
                format!(
                    "Azure requires no group/other permissions ({code}: the scripts are \
                     skipped); fix: `chmod 0700 {shown}`{}",
                    if link {
                        ", or replace the symlink: `iris-freeze install azure`"
                    } else {
                        ""
                    }
                ),
            );
        }
        let owner = owner_name(md.uid());
        if owner != "root" {
            good = false;
            out.owner_problem(
                format!("{what} {shown} is owned by {owner}, not root"),
                format!(
                    "Azure refuses it ({code}: the scripts are skipped); fix: `chown root:root \
                     {shown}`"
                ),
            );
        }
        (!elf).then_some(good)
    }

    /// `sh` cannot run a binary: the most likely mistake is a link to iris-freeze itself.
    fn elf(&self, c: &Ctx, link: bool, out: &mut Findings) {
        let (what, shown, loc) = (self.what, self.shown(), &self.loc);
        let target = fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
        let is_us = c.bin.is_some_and(|b| b == target);
        out.fail(
            if link {
                format!(
                    "{what} {shown} is a symlink to the binary {}{}",
                    target.display(),
                    if is_us { " (iris-freeze itself)" } else { "" }
                )
            } else {
                format!("{what} {shown} is an ELF binary")
            },
            format!(
                "Azure runs it as `sh {loc} \"\" \"\"`, and sh cannot run a binary (dash: Syntax \
                 error: \"(\" unexpected), so every freeze fails; it must be a shell wrapper; \
                 {FIX}"
            ),
        );
    }

    /// What the wrapper runs: iris-freeze, safely, with the verb of its side.
    fn call(&self, c: &Ctx, md: &fs::Metadata, mut good: bool, out: &mut Findings) {
        let (what, shown) = (self.what, self.shown());
        let text = read_text(&self.path);
        let ours = text.contains(MARKER);
        let Some((prog, args)) = wrapper_call(&text) else {
            out.fail(
                format!("{what} {shown} does not run iris-freeze"),
                format!("IRIS will not be frozen; {FIX} (it backs up the file)"),
            );
            return;
        };
        let target = resolve_exec(c.given.root, &prog);
        good &= program_is_safe(out, &format!("{what} {shown}"), &target, &prog, c.platform);
        let verbs = if self.pre { FREEZE_ARGS } else { THAW_ARGS };
        let is_iris_freeze = ours || names_iris_freeze(&prog);
        let verb = args.first().map(String::as_str).unwrap_or("");
        if is_iris_freeze && !verbs.contains(&verb) {
            good = false;
            out.fail(
                format!("{what} {shown} runs `{prog} {}`", args.join(" ")),
                format!(
                    "the {what} must run `{prog} {}`; {FIX}",
                    if self.pre { PRE_ARG } else { POST_ARG }
                ),
            );
        } else if !is_iris_freeze {
            good = false;
            out.warn(
                format!("{what} {shown} runs {prog}, not iris-freeze"),
                format!(
                    "IRIS is frozen only if that program calls iris-freeze; {FIX} (it backs up \
                     the file)"
                ),
            );
        }
        if good {
            out.ok(format!(
                "{what} {shown}: {}shell wrapper, owner root, mode {:03o}, runs `{prog} {}`",
                if ours { "iris-freeze's " } else { "" },
                md.mode() & 0o777,
                args.join(" ")
            ));
        }
    }
}
