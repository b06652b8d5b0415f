//! `install PLATFORM` and `uninstall PLATFORM`: the hook files each snapshot platform declares,
//! written or removed the same way for all; what differs is in `platform/`.
//!
//! Every system path is taken under `--root`; the files' contents name the real paths (the
//! binary's canonical path, `/etc/azure/prescript.sh`). Each write is atomic and idempotent,
//! and a file that is replaced is backed up first (`util::file_transaction`).

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::config::{Config, Verbosity};
use crate::exit_code::Exit;
use crate::host::trust::Tree;
use crate::platform::Platform;
use crate::platform::kit::hook_files::{describe, is_ours};
use crate::platform::kit::{Given, Installer, binary, safe_binary};
use crate::report::Report;
use crate::settings::env;
use crate::util::file_transaction::FileTransaction;
use crate::util::shell::sh_quote;

/// What a platform reads of the configuration, for `install` and `check`.
pub(crate) fn given(cfg: &Config) -> Given<'_> {
    Given {
        root: &cfg.root,
        timeout: cfg.timeout,
        max_freeze: cfg.max_freeze,
        quiet: cfg.verbosity == Verbosity::Quiet,
        manifest: &cfg.manifest,
    }
}

pub(crate) fn install(cfg: &Config, platform: Platform) -> Result<Report> {
    let spec = platform.spec();
    if let Some(text) = spec.nothing_to_install(&given(cfg)) {
        return Ok(Report::new(Exit::Success, text));
    }
    let bin = binary()?;
    check_root(&cfg.root)?;
    check_privilege(&cfg.root, "installing")?;
    let tree = Tree::open(&cfg.root)?;
    safe_binary(&bin)?;
    let mut i = Installer::new(given(cfg), tree, platform, &bin);
    spec.install(&mut i)?;
    record_created_dirs(&i.tree, &cfg.root, &i.tx)?;

    let mut text = format!(
        "iris-freeze install {platform}: hooks run {}\n",
        bin.display()
    );
    for l in i.tx.lines.iter().chain(&i.notes) {
        text.push_str(l);
        text.push('\n');
    }
    text.push_str("\nnext steps:\n");
    for (n, step) in next_steps(cfg, platform).iter().enumerate() {
        text.push_str(&format!("  {}. {step}\n", n + 1));
    }
    Ok(Report::new(
        Exit::Success,
        with_root(&cfg.root, text.trim_end()),
    ))
}

/// `text` with `--root DIR` added to every `` `iris-freeze ...` `` command it suggests, when a
/// root other than `/` is in use: the command then works on the same tree.
pub(crate) fn with_root(root: &Path, text: &str) -> String {
    const CMD: &str = "`iris-freeze ";
    if root == Path::new("/") {
        return text.to_string();
    }
    let root = root.to_string_lossy();
    let plain = root
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+,:@".contains(c));
    let flag = if plain {
        format!(" --root {root}")
    } else {
        format!(" --root {}", sh_quote(&root))
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(CMD) {
        let start = at + CMD.len();
        let Some(len) = rest[start..].find('`') else {
            break;
        };
        let end = start + len;
        out.push_str(&rest[..end]);
        if !rest[at..end].contains(" --root ") {
            out.push_str(&flag);
        }
        rest = &rest[end..];
        out.push('`');
        rest = &rest[1..];
    }
    out.push_str(rest);
    out
}

/// The steps every platform shares, then the platform's own.
fn next_steps(cfg: &Config, platform: Platform) -> Vec<String> {
    let check = format!("Run `iris-freeze check {platform}`: it must show no FAIL line.");
    let auth = "Every IRIS instance must let root open a %SYS session without a password (OS \
                authentication for %Service_Terminal), or name a credentials_file in \
                /etc/iris-freeze.toml."
        .to_string();
    let mut v = vec![check, auth];
    v.extend(platform.spec().next_steps(&given(cfg)));
    v
}

pub(crate) fn uninstall(cfg: &Config, platform: Platform) -> Result<Report> {
    let spec = platform.spec();
    if let Some(text) = spec.nothing_to_uninstall() {
        return Ok(Report::new(Exit::Success, text));
    }
    // Without /proc (a chroot: rpm --root, an image build) this program's path is unknown;
    // the hooks are then told by what they are (files::is_ours).
    let bin = binary().ok();
    let root = cfg.root.as_path();
    check_root(root)?;
    check_privilege(root, "uninstalling")?;
    let tree = Tree::open(root)?;
    let mut tx = FileTransaction::new();
    let mut all = true;
    for file in spec.hooks().iter().filter_map(|h| h.file()) {
        let path = tree.path(file.path)?;
        // Another layout's hook (qemu) only when there is one.
        if !spec.in_layout(root, file) && fs::symlink_metadata(&path).is_err() {
            continue;
        }
        all &= remove_ours(&mut tx, &path, bin.as_deref())?;
    }
    spec.uninstall_more(&tree, &mut tx)?;
    // The directories `install` created for the hooks, once nothing is left in them.
    let mut dirs = created_dirs(&tree)?;
    let before = dirs.len();
    for file in spec.hooks().iter().filter_map(|h| h.file()) {
        if let Some(dir) = tree.path(file.path)?.parent() {
            let ours = |d: &Path| {
                let real = Path::new("/").join(d.strip_prefix(root).unwrap_or(d));
                dirs.iter().any(|r| Path::new(r) == real)
            };
            for gone in tx.remove_empty_dirs(dir, ours) {
                let real = Path::new("/").join(gone.strip_prefix(root).unwrap_or(&gone));
                dirs.retain(|r| Path::new(r) != real);
            }
        }
    }
    if dirs.len() != before {
        write_created_dirs(&tree, &dirs)?;
        if dirs.is_empty() {
            remove_record_dir(&tree, &mut tx)?;
        }
    }
    if tx.lines.is_empty() {
        tx.lines.push("nothing to remove".into());
    }
    let mut text = format!("iris-freeze uninstall {platform}\n{}", tx.lines.join("\n"));
    if !all {
        text.push_str(
            "\nFiles iris-freeze did not install were left in place; remove them yourself if \
             they are no longer wanted.",
        );
    }
    Ok(Report::new(Exit::Success, text))
}

/// The directories `install` created (one real path a line), for `uninstall` to remove once
/// they are empty; never one that was there before.
const CREATED_DIRS: &str = "/var/lib/iris-freeze/installed-dirs";

fn created_dirs(tree: &Tree) -> Result<Vec<String>> {
    let text = tree.read(CREATED_DIRS)?.unwrap_or_default();
    Ok(String::from_utf8_lossy(&text)
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

/// Adds what `tx` created to the record (a `--root` path is recorded as its real path).
fn record_created_dirs(tree: &Tree, root: &Path, tx: &FileTransaction) -> Result<()> {
    let mut dirs = created_dirs(tree)?;
    let before = dirs.len();
    for d in &tx.created_dirs {
        let real = Path::new("/").join(d.strip_prefix(root).unwrap_or(d));
        let real = real.to_string_lossy().into_owned();
        if !dirs.contains(&real) {
            dirs.push(real);
        }
    }
    if dirs.len() != before {
        write_created_dirs(tree, &dirs)?;
    }
    Ok(())
}

/// Replaces the record: a new file (never through a symlink, never one already there), then
/// one rename.
fn write_created_dirs(tree: &Tree, dirs: &[String]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let path = tree.path(CREATED_DIRS)?;
    if dirs.is_empty() {
        return match fs::remove_file(&path) {
            Err(e) if e.kind() != ErrorKind::NotFound => {
                Err(e).with_context(|| format!("cannot remove {}", path.display()))
            }
            _ => Ok(()),
        };
    }
    let dir = path.parent().context("the record has a directory")?;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let mut text = dirs.join("\n");
    text.push('\n');
    let tmp = dir.join(".installed-dirs.tmp");
    // A temp file left by a run that died; unlink(2) removes a link, never what it names.
    let _ = fs::remove_file(&tmp);
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .and_then(|()| fs::rename(&tmp, &path))
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The record's directory, once the record is gone and nothing else (a history) is in it: no
/// package owns it, so nothing else would ever remove it.
fn remove_record_dir(tree: &Tree, tx: &mut FileTransaction) -> Result<()> {
    let record = tree.path(CREATED_DIRS)?;
    if let Some(dir) = record.parent() {
        tx.remove_empty_dirs(dir, |d| d == dir);
    }
    Ok(())
}

/// Removes `path` if iris-freeze installed it; says what it did either way. False when it
/// was someone else's and stays.
fn remove_ours(tx: &mut FileTransaction, path: &Path, bin: Option<&Path>) -> Result<bool> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            tx.line("absent", path, "");
            return Ok(true);
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        Ok(_) => {}
    }
    if !is_ours(path, bin) {
        tx.line(
            "kept",
            path,
            format!(
                ": not installed by iris-freeze ({}); left alone",
                describe(path)
            ),
        );
        return Ok(false);
    }
    fs::remove_file(path).with_context(|| format!("cannot remove {}", path.display()))?;
    tx.line("removed", path, "");
    Ok(true)
}

/// A --root that does not exist is most likely a typo: nothing is created under it.
fn check_root(root: &Path) -> Result<()> {
    if fs::symlink_metadata(root).is_err_and(|e| e.kind() == ErrorKind::NotFound) {
        bail!(
            "--root {} ({}) does not exist: create it first, or correct the path; nothing was \
             changed",
            root.display(),
            env::ROOT
        );
    }
    if !root.is_dir() {
        bail!(
            "--root {} ({}) is not a directory: nothing was changed",
            root.display(),
            env::ROOT
        );
    }
    Ok(())
}

/// Hooks are root's. Another user may only work on a `--root` tree they own (tests, image
/// builds): anywhere else the writes would fail halfway through, on a permission error.
fn check_privilege(root: &Path, doing: &str) -> Result<()> {
    let euid = nix::unistd::geteuid();
    if euid.is_root() || fs::metadata(root).is_ok_and(|md| md.uid() == euid.as_raw()) {
        return Ok(());
    }
    bail!(
        "{doing} hooks needs root: run it as root (sudo), or pass --root DIR, a directory you \
         own, to stage an image or a test tree; nothing was changed"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_commands_keep_the_root() {
        let text = "fix: `iris-freeze install azure`; `mv a a.orig`, then `iris-freeze check`.";
        assert_eq!(with_root(Path::new("/"), text), text);
        assert_eq!(
            with_root(Path::new("/tmp/a b"), text),
            "fix: `iris-freeze install azure --root '/tmp/a b'`; `mv a a.orig`, then \
             `iris-freeze check --root '/tmp/a b'`."
        );
        assert_eq!(
            with_root(Path::new("/mnt/image"), "run `iris-freeze check qemu`"),
            "run `iris-freeze check qemu --root /mnt/image`"
        );
        let given = "`iris-freeze check --root /x` and `iris-freeze";
        assert_eq!(with_root(Path::new("/x"), given), given);
    }
}
