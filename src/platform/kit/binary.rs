//! The binary every hook runs: this program, at a path only root can change.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// This binary's canonical path: what every hook runs.
pub(crate) fn binary() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find this program's own path")?;
    let bin = fs::canonicalize(&exe)
        .with_context(|| format!("cannot resolve this program's path {}", exe.display()))?;
    if bin.to_str().is_none_or(|s| s.contains(['\n', '\r'])) {
        bail!(
            "this program's path {:?} is not plain UTF-8 text on one line: install it somewhere \
             else (for example /usr/local/sbin/iris-freeze) and run that copy",
            bin
        );
    }
    Ok(bin)
}

/// Checks that no other user can change `bin` (nor any directory above it): every hook runs it
/// as root, so a hook pointing at a file someone else can replace is a way to root. Its metadata.
pub(crate) fn safe_binary(bin: &Path) -> Result<fs::Metadata> {
    crate::host::trust::program(bin).context("every hook runs it as root")?;
    fs::metadata(bin).with_context(|| format!("cannot read {}", bin.display()))
}
