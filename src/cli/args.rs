//! The options of `freeze`, `thaw` and `run` (shared), and of `status`, `history`,
//! `restore-plan`, `verify` and the watchdog.

use std::path::PathBuf;

use clap::Args;

use super::FromSetting;

use crate::settings::{CMD_TIMEOUT, INSTANCES, LOG_FILE, MAX_FREEZE, SHARDED, TIMEOUT};

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    #[arg(short, setting = INSTANCES, value_delimiter = ',')]
    pub(crate) instances: Vec<String>,

    #[arg(setting = TIMEOUT)]
    pub(crate) timeout: Option<String>,

    #[arg(setting = LOG_FILE)]
    pub(crate) log_file: Option<PathBuf>,

    #[arg(setting = SHARDED)]
    pub(crate) sharded: Option<String>,

    /// Hook runners append arguments (Azure's template passes "" ""): empty ones are ignored.
    #[arg(hide = true, value_name = "IGNORED")]
    pub(crate) extra: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct FreezeArgs {
    #[command(flatten)]
    pub(crate) run: RunArgs,

    #[arg(setting = MAX_FREEZE)]
    pub(crate) max_freeze: Option<String>,
}

/// `run`: the freeze's options, CMD's deadline, and CMD.
#[derive(Debug, Args)]
pub(crate) struct RunCmdArgs {
    #[command(flatten)]
    pub(crate) freeze: FreezeArgs,

    #[arg(setting = CMD_TIMEOUT)]
    pub(crate) cmd_timeout: Option<String>,

    /// The snapshot command and its arguments, after `--`; run without a shell.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub(crate) cmd: Vec<std::ffi::OsString>,
}

/// The watchdog process, started by `freeze`; not for people.
#[derive(Debug, Args)]
pub(crate) struct WatchdogArgs {
    #[arg(long)]
    pub(crate) token: String,
    /// Unix time in ms at which to thaw.
    #[arg(long)]
    pub(crate) deadline_ms: i64,
    #[arg(long)]
    pub(crate) log_file: PathBuf,
    #[arg(long, default_value = "30")]
    pub(crate) timeout: String,
    /// Its thaw plan: what it guards and the programs that thaw it, as the freeze found and
    /// recorded them (JSON: instance name → record); never from the environment.
    #[arg(long, default_value = "{}")]
    pub(crate) plan: String,
}

#[derive(Debug, Args)]
pub(crate) struct RestorePlanArgs {
    /// The cycle to restore (an id from the history) [default: the last consistent one].
    #[arg(long, value_name = "ID")]
    pub(crate) id: Option<String>,

    /// Print JSON for scripts instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// Print JSON for scripts instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// Print JSON for scripts instead of a table.
    #[arg(long)]
    pub(crate) json: bool,

    /// Upper bound on the whole command, in seconds [default: 30].
    #[arg(named_as = TIMEOUT)]
    pub(crate) timeout: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// Print one JSON array for scripts instead of a table.
    #[arg(long)]
    pub(crate) json: bool,

    /// Show at most this many cycles (the newest).
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub(crate) limit: Option<usize>,
}

/// A count that must be 1 or more: 0 would show nothing and look like an empty history.
fn at_least_one(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(0) => Err("must be 1 or more".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("{e}: a whole number, 1 or more")),
    }
}
