//! Every environment variable iris-freeze reads, by name, written once: a setting's in its
//! entry of the table (`super`), repeated here for the code that names it alone (messages, the
//! watchdog's environment); the others here. clap's `#[arg(env = ...)]` and the hook path that
//! skips clap (`Cli::from_env`) read the table.

pub(crate) const STATE_DIR: &str = super::STATE_DIR.var();
pub(crate) const CONFIG: &str = super::CONFIG.var();
pub(crate) const ROOT: &str = super::ROOT.var();
pub(crate) const BIN_DIRS: &str = super::BIN_DIRS.var();
/// Comma-separated.
pub(crate) const INSTANCES: &str = super::INSTANCES.var();
pub(crate) const LOG_FILE: &str = super::LOG_FILE.var();
pub(crate) const MAX_FREEZE: &str = super::MAX_FREEZE.var();
/// `0`, `false`, `no` or `off`: no journal entries (config `journal = false`).
pub(crate) const JOURNAL: &str = super::JOURNAL.var();

/// Set by `run` for its CMD: the cycle id (the frozen instances go in `INSTANCES`).
pub(crate) const ID: &str = "IRIS_FREEZE_ID";
/// Set by `run --sharded` for its CMD: every data server of the frozen cluster (its disks are
/// the ones to snapshot), comma-separated.
pub(crate) const DATA_SERVERS: &str = "IRIS_FREEZE_DATA_SERVERS";

/// Set (to anything): the watchdog is a detached process even where systemd runs.
pub(crate) const NO_SYSTEMD: &str = "IRIS_FREEZE_NO_SYSTEMD";
/// The directory whose existence means systemd runs (default /run/systemd/system): for tests.
pub(crate) const SYSTEMD_DIR: &str = "IRIS_FREEZE_SYSTEMD_DIR";
/// The one directory `systemd-run` and `systemctl` are looked for in: for tests.
pub(crate) const SYSTEMD_BIN_DIR: &str = "IRIS_FREEZE_SYSTEMD_BIN_DIR";

/// The journal's socket (default /run/systemd/journal/socket): for tests.
pub(crate) const JOURNAL_SOCKET: &str = "IRIS_FREEZE_JOURNAL_SOCKET";

/// The variables that stand for a command-line option, as clap reads them.
#[cfg(test)]
pub(crate) fn options() -> impl Iterator<Item = &'static str> {
    super::ALL
        .iter()
        .filter(|s| s.long.is_some())
        .filter_map(|s| s.env)
}
