//! The `--root` tree `install` and `uninstall` work in: it must exist, and be writable by who
//! runs them.

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use anyhow::{Result, bail};

use crate::host::trust::Tree;
use crate::settings::env;

/// The tree at `root`, once it is there and ours to change (`doing`: "installing").
pub(crate) fn open_root(root: &Path, doing: &str) -> Result<Tree> {
    check_root(root)?;
    check_privilege(root, doing)?;
    Tree::open(root)
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
