//! The validated configuration: everything a command needs, checked once, before any IRIS call.
//! Precedence: command-line flag > environment variable > /etc/iris-freeze.toml > default
//! (`resolve`).

mod bad_file;
mod file;
mod given;
mod instance;
mod paths;
mod prepare;
mod resolve;
mod seconds;
mod source;
pub(crate) mod user_defaults;

use std::path::PathBuf;
use std::time::Duration;

use crate::iris::InstanceName;
use crate::iris::backup::FreezeOptions;
use crate::iris::credentials::Credentials;
use crate::platform::Platform;

pub(crate) use file::check_config_file;

pub(crate) const DEFAULT_FREEZE_LOG: &str = "/etc/preScript.log";
pub(crate) const DEFAULT_THAW_LOG: &str = "/etc/postScript.log";
pub(crate) const DEFAULT_CONFIG: &str = "/etc/iris-freeze.toml";
pub(crate) const DEFAULT_STATE_DIR: &str = "/run/iris-freeze";
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub(crate) const DEFAULT_MAX_FREEZE: Duration = Duration::from_secs(300);

/// Searched after PATH: hook runners often start us with a minimal PATH.
pub(crate) const DEFAULT_BIN_DIRS: &[&str] = &[
    "/usr/bin",
    "/usr/local/bin",
    "/bin",
    "/usr/local/etc/irissys",
    "/usr/local/etc/cachesys",
    "/usr/irissys/bin",
    "/usr/cachesys/bin",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verbosity {
    Quiet,
    Normal,
    Verbose,
    Debug,
}

#[derive(Debug, Clone)]
pub(crate) enum Action {
    Freeze,
    Thaw,
    DryRun,
    Status {
        json: bool,
    },
    RestorePlan {
        id: Option<String>,
        json: bool,
    },
    /// `verify`: a restored snapshot, from what it holds (under `root`).
    Verify {
        json: bool,
    },
    /// `history`: the cycles from the history file.
    History {
        json: bool,
        limit: Option<usize>,
    },
    /// `run`: freeze, run `cmd`, thaw.
    Run {
        cmd: Vec<std::ffi::OsString>,
        /// CMD's deadline; `None`: what --max-freeze leaves, minus a margin (`commands::run`).
        cmd_timeout: Option<Duration>,
    },
    Install(Platform),
    Uninstall(Platform),
    Check(Option<Platform>),
    /// The detached watchdog process.
    Watchdog {
        token: String,
        deadline_ms: i64,
        /// Its thaw plan, as the freeze recorded it (JSON; see `commands::watchdog`).
        plan: String,
    },
}

/// What to do about a mirror primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum MirrorPolicy {
    /// Freeze it, with a warning and advice in the log.
    #[default]
    Warn,
    /// Refuse to freeze (exit 1): snapshot the backup member instead.
    Refuse,
}

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) action: Action,
    /// Named instances; empty means the default set (running instances, or the recorded ones).
    pub(crate) instances: Vec<InstanceName>,
    pub(crate) timeout: Duration,
    /// The watchdog's deadline after the freeze begins.
    pub(crate) max_freeze: Duration,
    pub(crate) log_file: PathBuf,
    pub(crate) state_dir: PathBuf,
    /// Where the state dir was set when not by `--state-dir` or a default (its variable, the
    /// config file), for the messages that say how to change it.
    pub(crate) state_dir_from: Option<String>,
    /// The history of cycles (`host::history`).
    pub(crate) history_file: PathBuf,
    /// Where `host::metrics` writes; `None`: no metrics.
    pub(crate) metrics_file: Option<PathBuf>,
    /// journald's socket when events go to the journal as well (`host::journal`); none: off.
    pub(crate) journal: Option<PathBuf>,
    /// The hook's name when a hook ran us (argv[0], or the hook verb after `iris-freeze`), for
    /// the history's `by`; `None` for a plain command.
    pub(crate) invoked_as: Option<String>,
    /// The backup job a hook call named (Commvault's `-job ID -attempt N`), for the log and the
    /// history.
    pub(crate) job: Option<crate::platform::hooks::HookJob>,
    pub(crate) bin_dirs: Vec<PathBuf>,
    pub(crate) verbosity: Verbosity,
    /// Prefix of every platform path (`/` normally).
    pub(crate) root: PathBuf,
    /// The config file in effect, and whether it exists.
    pub(crate) config_file: PathBuf,
    pub(crate) config_found: bool,
    /// Why the config file was not usable (only `check` gets this far with one).
    pub(crate) config_error: Option<String>,
    /// What of the config file a thaw, `status` or the watchdog ignored, and why (a bad file
    /// never stops them): already on stderr; one `config` event each for the log.
    pub(crate) config_warnings: Vec<String>,
    pub(crate) credentials_file: Option<PathBuf>,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) freeze_options: FreezeOptions,
    pub(crate) set_history: bool,
    pub(crate) mirror_primary: MirrorPolicy,
    /// `--sharded`: the shard master namespace; freeze and thaw act on the whole cluster.
    pub(crate) sharded: Option<String>,
    /// Why the timeout is shorter than configured (Azure's own limit), for the log.
    pub(crate) timeout_note: Option<String>,
    /// A non-root user's own defaults, when we run as one (`user_defaults`).
    pub(crate) user_defaults: Option<user_defaults::UserDefaults>,
    /// The freeze and the thaw log a hook writes without `--log-file` (IRIS_FREEZE_LOG_FILE
    /// included), for `status` and `check`.
    pub(crate) default_logs: (PathBuf, PathBuf),
    /// The names a Kubernetes engine's manifest is printed for (`install velero|k10|aks-backup`).
    pub(crate) manifest: crate::platform::kubernetes::ManifestNames,
    /// `install ssh --key FILE --user NAME`.
    pub(crate) ssh: crate::platform::ssh::SshArgs,
}

impl Config {
    /// The job id and attempt a hook call named, for the history.
    pub(crate) fn job_parts(&self) -> (Option<String>, Option<u32>) {
        self.job
            .as_ref()
            .map_or((None, None), |j| (j.id.clone(), j.attempt))
    }
}
