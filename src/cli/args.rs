//! The options of `freeze`, `thaw` and `run` (shared), and of `status`, `history`,
//! `restore-plan` and the watchdog.

use std::path::PathBuf;

use clap::Args;

use crate::settings::env;

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Instance to act on (repeatable; default: every running instance, or for thaw, what the
    /// last freeze recorded).
    #[arg(
        short,
        long = "instance",
        value_name = "NAME",
        env = env::INSTANCES,
        value_delimiter = ','
    )]
    pub(crate) instances: Vec<String>,

    /// Upper bound on the whole command, in seconds; a rollback after a failed freeze may use a
    /// few seconds more: thawing comes first [default: 30].
    #[arg(long, env = env::TIMEOUT, value_name = "SECS")]
    pub(crate) timeout: Option<String>,

    /// Append the log here [default: /etc/preScript.log for freeze, run and dry-run,
    /// /etc/postScript.log for thaw, or freeze_log / thaw_log in the config file].
    #[arg(long, env = env::LOG_FILE, value_name = "PATH")]
    pub(crate) log_file: Option<PathBuf>,

    /// Act on the whole sharded cluster whose shard master namespace this is, with
    /// Backup.ShardedCluster from the shard master (every data server frozen, or none), instead
    /// of on each instance [default: sharded_namespace in the config file].
    #[arg(long, env = env::SHARDED, value_name = "NAMESPACE")]
    pub(crate) sharded: Option<String>,

    /// Hook runners append arguments (Azure's template passes "" ""): empty ones are ignored.
    #[arg(hide = true, value_name = "IGNORED")]
    pub(crate) extra: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct FreezeArgs {
    #[command(flatten)]
    pub(crate) run: RunArgs,

    /// The longest any instance may stay frozen by iris-freeze, in seconds: a watchdog armed
    /// before the first freeze thaws it then if no thaw came. Must stay below IRIS's 600 s
    /// ExternalFreezeTimeOut, when IRIS starts blocking writers [default: 300].
    #[arg(long, env = env::MAX_FREEZE, value_name = "SECS")]
    pub(crate) max_freeze: Option<String>,
}

/// `run`: the freeze's options, CMD's deadline, and CMD.
#[derive(Debug, Args)]
pub(crate) struct RunCmdArgs {
    #[command(flatten)]
    pub(crate) freeze: FreezeArgs,

    /// CMD's deadline, in seconds: then its process group is killed and the thaw follows
    /// [default: what --max-freeze leaves after the freeze, minus 15 s; config cmd_timeout].
    #[arg(long, env = env::CMD_TIMEOUT, value_name = "SECS")]
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
pub(crate) struct StatusArgs {
    /// Print JSON for scripts instead of a table.
    #[arg(long)]
    pub(crate) json: bool,

    /// Upper bound on the whole command, in seconds [default: 30].
    #[arg(long, env = env::TIMEOUT, value_name = "SECS")]
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
