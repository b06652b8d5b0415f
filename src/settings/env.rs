//! Every environment variable iris-freeze reads, by name, written here once: clap's
//! `#[arg(env = ...)]`, the hook path that skips clap (`Cli::from_env`), messages and the
//! watchdog's systemd switches all name them through these.

/// `--state-dir`.
pub(crate) const STATE_DIR: &str = "IRIS_FREEZE_STATE_DIR";
/// `--config`.
pub(crate) const CONFIG: &str = "IRIS_FREEZE_CONFIG";
/// `--root`.
pub(crate) const ROOT: &str = "IRIS_FREEZE_ROOT";
/// `--bin-dirs`.
pub(crate) const BIN_DIRS: &str = "IRIS_FREEZE_BIN_DIRS";
/// `--instance`, comma-separated.
pub(crate) const INSTANCES: &str = "IRIS_FREEZE_INSTANCES";
/// `--timeout`.
pub(crate) const TIMEOUT: &str = "IRIS_FREEZE_TIMEOUT";
/// `--log-file`.
pub(crate) const LOG_FILE: &str = "IRIS_FREEZE_LOG_FILE";
/// `--max-freeze`.
pub(crate) const MAX_FREEZE: &str = "IRIS_FREEZE_MAX_FREEZE";
/// `--sharded`.
pub(crate) const SHARDED: &str = "IRIS_FREEZE_SHARDED";
/// `--history-file`.
pub(crate) const HISTORY_FILE: &str = "IRIS_FREEZE_HISTORY_FILE";
/// `--metrics-file`.
pub(crate) const METRICS_FILE: &str = "IRIS_FREEZE_METRICS_FILE";
/// `run --cmd-timeout`.
pub(crate) const CMD_TIMEOUT: &str = "IRIS_FREEZE_CMD_TIMEOUT";

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

/// `0`, `false`, `no` or `off`: no journal entries (config `journal = false`).
pub(crate) const JOURNAL: &str = "IRIS_FREEZE_JOURNAL";
/// The journal's socket (default /run/systemd/journal/socket): for tests.
pub(crate) const JOURNAL_SOCKET: &str = "IRIS_FREEZE_JOURNAL_SOCKET";

/// The variables that stand for a command-line option, as clap reads them.
#[cfg(test)]
pub(crate) const OPTIONS: &[&str] = &[
    STATE_DIR,
    CONFIG,
    ROOT,
    BIN_DIRS,
    INSTANCES,
    TIMEOUT,
    LOG_FILE,
    MAX_FREEZE,
    HISTORY_FILE,
    METRICS_FILE,
    SHARDED,
    CMD_TIMEOUT,
];
