//! What a platform's checks look at.

use std::path::Path;

use super::Given;
use crate::platform::Platform;

pub(crate) struct Ctx<'a> {
    pub(crate) given: Given<'a>,
    pub(crate) platform: Platform,
    /// This binary, if its path could be found.
    pub(crate) bin: Option<&'a Path>,
    /// What a run as this user writes (`check kubernetes` looks whether it can).
    pub(crate) writes: Writes<'a>,
}

/// The files a freeze or a thaw writes besides the state, as the configuration resolved them.
pub(crate) struct Writes<'a> {
    pub(crate) history: &'a Path,
    /// The history is on tmpfs: lost at reboot, and in no volume snapshot.
    pub(crate) history_on_tmpfs: bool,
    /// The freeze and the thaw log a hook writes without `--log-file`.
    pub(crate) logs: (&'a Path, &'a Path),
    /// A non-root user's own defaults; `None` for root.
    pub(crate) user: Option<UserDirs<'a>>,
}

/// Where a non-root user's state and logs go, and the history, each with where it came from.
pub(crate) struct UserDirs<'a> {
    pub(crate) base: &'a Path,
    pub(crate) from: &'a str,
    pub(crate) history_dir: &'a Path,
    pub(crate) history_from: &'a str,
}
