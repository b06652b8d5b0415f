//! What a platform is given of the configuration: the few values its install and check read,
//! passed down by `commands::install` and `commands::check`.

use std::path::Path;
use std::time::Duration;

use crate::platform::kubernetes::ManifestNames;
use crate::platform::ssh::SshArgs;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Given<'a> {
    /// `--root`: the prefix of every platform path (`/` normally).
    pub(crate) root: &'a Path,
    /// `--timeout`: a hook runner must allow it, plus the margin.
    pub(crate) timeout: Duration,
    /// `--max-freeze`, in a Kubernetes engine's printed freeze.
    pub(crate) max_freeze: Duration,
    /// `--quiet`: `install` prints only what goes to stdout.
    pub(crate) quiet: bool,
    /// The names a Kubernetes engine's manifest is printed for.
    pub(crate) manifest: &'a ManifestNames,
    /// `install ssh --key --user`.
    pub(crate) ssh: &'a SshArgs,
}
