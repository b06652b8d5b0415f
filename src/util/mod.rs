//! Small helpers with no knowledge of IRIS or of any platform.

pub(crate) mod escape;
pub(crate) mod file_transaction;
pub(crate) mod ini;
pub(crate) mod parallel;
pub(crate) mod random;
pub(crate) mod shell;

use std::path::{Path, PathBuf};

/// `path` (absolute) under `root`.
pub(crate) fn under(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}
