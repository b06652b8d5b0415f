//! The record of the directories `install` created for hooks (never one that was there
//! before), for `uninstall` to remove once they are empty.

use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use anyhow::{Context, Result};

use crate::host::trust::Tree;
use crate::platform::Platform;
use crate::util::file_transaction::FileTransaction;

/// The directories `install` created (one real path a line), for `uninstall` to remove once
/// they are empty; never one that was there before.
const CREATED_DIRS: &str = "/var/lib/iris-freeze/installed-dirs";

fn read(tree: &Tree) -> Result<Vec<String>> {
    let text = tree.read(CREATED_DIRS)?.unwrap_or_default();
    Ok(String::from_utf8_lossy(&text)
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

/// Adds what `tx` created to the record (a `--root` path is recorded as its real path).
pub(crate) fn record(tree: &Tree, root: &Path, tx: &FileTransaction) -> Result<()> {
    let mut dirs = read(tree)?;
    let before = dirs.len();
    for d in &tx.created_dirs {
        let real = Path::new("/").join(d.strip_prefix(root).unwrap_or(d));
        let real = real.to_string_lossy().into_owned();
        if !dirs.contains(&real) {
            dirs.push(real);
        }
    }
    if dirs.len() != before {
        write(tree, &dirs)?;
    }
    Ok(())
}

/// Removes the directories `install` created for `platform`'s hooks, once nothing is left in
/// them, and then the record of them when it is empty.
pub(super) fn remove_empty(
    platform: Platform,
    tree: &Tree,
    root: &Path,
    tx: &mut FileTransaction,
) -> Result<()> {
    let mut dirs = read(tree)?;
    let before = dirs.len();
    for file in platform.spec().hooks().iter().filter_map(|h| h.file()) {
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
        write(tree, &dirs)?;
        if dirs.is_empty() {
            remove_record_dir(tree, tx)?;
        }
    }
    Ok(())
}

/// Replaces the record: a new file (never through a symlink, never one already there), then
/// one rename.
fn write(tree: &Tree, dirs: &[String]) -> Result<()> {
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
