//! What `uninstall` removes of a platform: the hook files iris-freeze installed (someone
//! else's stay), what the platform adds, and the directories `install` created, once empty.

use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use anyhow::{Context, Result};

use super::created_dirs;
use super::hook_files::{describe, is_ours};
use crate::host::trust::Tree;
use crate::platform::Platform;
use crate::util::file_transaction::FileTransaction;

/// Removes `platform`'s hooks from `tree` (`root`): a line for each file, and whether every
/// file was ours (false: some stay). `bin` is this binary when its path is known.
pub(crate) fn remove_hooks(
    platform: Platform,
    tree: &Tree,
    root: &Path,
    bin: Option<&Path>,
) -> Result<(Vec<String>, bool)> {
    let spec = platform.spec();
    let mut tx = FileTransaction::new();
    let mut all = true;
    for file in spec.hooks().iter().filter_map(|h| h.file()) {
        let path = tree.path(file.path)?;
        // Another layout's hook (qemu) only when there is one.
        if !spec.in_layout(root, file) && fs::symlink_metadata(&path).is_err() {
            continue;
        }
        all &= remove_ours(&mut tx, &path, bin)?;
    }
    spec.uninstall_more(tree, &mut tx)?;
    created_dirs::remove_empty(platform, tree, root, &mut tx)?;
    Ok((tx.lines, all))
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
