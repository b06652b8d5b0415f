//! `Config::from_cli`: the command line (or a hook's environment), the config file and the
//! defaults, resolved in that order and checked, one setting at a time. The order of the steps
//! is the order in which problems are reported.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::bad_file::{OnBadFile, Settled, warn_on_stderr};
use super::file::{FileConfig, load_file};
use super::instance::{INSTANCES, given_instances};
use super::seconds::{CMD_TIMEOUT, MAX_FREEZE, TIMEOUT};
use super::source::{STATE_DIR, Source};
use super::user_defaults::UserDefaults;
use super::{
    Action, Config, DEFAULT_BIN_DIRS, DEFAULT_CONFIG, DEFAULT_FREEZE_LOG, DEFAULT_MAX_FREEZE,
    DEFAULT_STATE_DIR, DEFAULT_THAW_LOG, DEFAULT_TIMEOUT, FreezeOptions, InstanceName, Verbosity,
    env, under,
};
use crate::cli::{Cli, Command, RunArgs};
use crate::host::journal::DEFAULT_SOCKET;
use crate::iris::credentials::Credentials;
use crate::platform::Platform;
use crate::platform::hooks::Invocation;
use crate::platform::kubernetes::ManifestNames;

impl Config {
    pub(crate) fn from_cli(cli: Cli, hook: Option<Invocation>) -> Result<Config> {
        let from_env = FromEnv {
            timeout: cli.is_from_env(TIMEOUT.names.id),
            max_freeze: cli.is_from_env(MAX_FREEZE.names.id),
            instances: cli.is_from_env(INSTANCES.id),
        };
        let config_from_env = cli.is_from_env("config");
        let cmd_timeout_from_env = cli.is_from_env(CMD_TIMEOUT.names.id);
        let state_dir_from_env = cli.is_from_env(STATE_DIR.id);
        let Cli {
            command, global: g, ..
        } = cli;
        let verbosity = verbosity(g.quiet, g.verbose);
        let root = root(unset_if_empty(g.root))?;
        let (config_file, settled) =
            read_config_file(unset_if_empty(g.config), &command, &root, config_from_env)?;
        let Settled {
            file,
            found: config_found,
            error: config_error,
            warnings: mut config_warnings,
        } = settled;
        let bin_dirs = bin_dirs(g.bin_dirs, &file);
        let user = UserDefaults::for_this_user();
        let state_dir_given = unset_if_empty(g.state_dir);
        let state_dir_from =
            state_dir_from(&state_dir_given, state_dir_from_env, &file, &config_file);
        let state_dir = state_dir(state_dir_given, &file, user.as_ref())?;
        let history_file = history_file(unset_if_empty(g.history_file), &file, user.as_ref());
        let metrics_file = metrics_file(unset_if_empty(g.metrics_file), &file);

        let given = Given::of(command);
        let max_freeze = MAX_FREEZE.resolve(
            given.max_freeze.as_deref(),
            from_env.max_freeze,
            file.max_freeze,
            DEFAULT_MAX_FREEZE,
        )?;
        let timeout = TIMEOUT.resolve(
            given.timeout.as_deref(),
            from_env.timeout,
            file.timeout,
            DEFAULT_TIMEOUT,
        )?;
        let action = with_cmd_timeout(
            given.action,
            given.cmd_timeout.as_deref(),
            cmd_timeout_from_env,
            file.cmd_timeout,
        )?;
        if let Action::Install(platform) = &action {
            given.manifest.check(*platform, timeout, max_freeze)?;
        }
        let default_logs = default_logs(&file, user.as_ref());
        let default_log = match action {
            Action::Thaw => default_logs.1.clone(),
            _ => default_logs.0.clone(),
        };
        let sharded = sharded(given.run.as_ref(), &file)?;
        let (instances, log_file) = match given.run {
            Some(run) => {
                let instances = run_instances(&run, &action, from_env.instances, &file)?;
                (instances, run.log_file.unwrap_or(default_log))
            }
            // `check` looks at what a freeze would pick: the file's `instances`.
            None if matches!(action, Action::Check(_)) => (
                file.instances.clone().unwrap_or_default(),
                given.watchdog_log.unwrap_or(default_log),
            ),
            None => (Vec::new(), given.watchdog_log.unwrap_or(default_log)),
        };
        // The user's own directory, when something of ours is to go in it.
        if let Some(u) = &user {
            u.create_for(&[&state_dir, &history_file, &log_file]);
        }
        let credentials_file = file.credentials_file.clone();
        let credentials = credentials(
            credentials_file.as_deref(),
            &action,
            &config_file,
            &mut config_warnings,
        )?;
        let journal = journal(
            std::env::var_os(env::JOURNAL),
            file.journal,
            std::env::var_os(env::JOURNAL_SOCKET),
            &mut config_warnings,
        );
        let (timeout, timeout_note) = hook_limit(hook, &root, timeout);
        if verbosity != Verbosity::Quiet {
            warn_on_stderr(&config_warnings);
        }

        Ok(Config {
            action,
            instances,
            timeout,
            max_freeze,
            log_file,
            state_dir,
            state_dir_from,
            history_file,
            metrics_file,
            journal,
            invoked_as: None,
            bin_dirs,
            verbosity,
            root,
            config_file,
            config_found,
            config_error,
            config_warnings,
            credentials_file,
            credentials,
            freeze_options: FreezeOptions {
                external_freeze_timeout: file.external_freeze_timeout,
                wd_suspend_limit: file.wd_suspend_limit,
                switch_journal: file.switch_journal,
            },
            set_history: file.set_history.unwrap_or(false),
            mirror_primary: file.mirror_primary.unwrap_or_default(),
            sharded,
            timeout_note,
            user_defaults: user,
            default_logs,
            manifest: given.manifest,
        })
    }
}

/// `--sharded` (or IRIS_FREEZE_SHARDED), else the file's sharded_namespace; empty is unset.
fn sharded(run: Option<&RunArgs>, file: &FileConfig) -> Result<Option<String>> {
    let given = run
        .and_then(|r| r.sharded.clone())
        .filter(|s| !s.is_empty());
    match given {
        Some(ns) => Ok(Some(crate::iris::sharded::parse_namespace(&ns)?)),
        None => Ok(file.sharded_namespace.clone()),
    }
}

/// Which of the settings whose messages name their source came from their variable rather
/// than their flag (clap merges the two).
struct FromEnv {
    timeout: bool,
    max_freeze: bool,
    instances: bool,
}

/// What the subcommand carries, sorted by what becomes of it.
struct Given {
    action: Action,
    /// freeze, thaw and dry-run's own options.
    run: Option<RunArgs>,
    timeout: Option<String>,
    max_freeze: Option<String>,
    /// The watchdog writes to the log of the freeze that started it.
    watchdog_log: Option<PathBuf>,
    /// The names `install velero|k10|aks-backup` prints its manifest for.
    manifest: ManifestNames,
    /// `run --cmd-timeout`.
    cmd_timeout: Option<String>,
}

impl Given {
    fn of(command: Command) -> Given {
        let given = |action, timeout, run| Given {
            action,
            timeout,
            run,
            max_freeze: None,
            watchdog_log: None,
            manifest: ManifestNames::default(),
            cmd_timeout: None,
        };
        match command {
            Command::Freeze(f) => Given {
                max_freeze: f.max_freeze,
                ..given(Action::Freeze, f.run.timeout.clone(), Some(f.run))
            },
            Command::Run(r) => {
                let action = Action::Run {
                    cmd: r.cmd,
                    cmd_timeout: None,
                };
                let f = r.freeze;
                Given {
                    max_freeze: f.max_freeze,
                    cmd_timeout: r.cmd_timeout,
                    ..given(action, f.run.timeout.clone(), Some(f.run))
                }
            }
            Command::Thaw(run) => given(Action::Thaw, run.timeout.clone(), Some(run)),
            Command::DryRun(run) => given(Action::DryRun, run.timeout.clone(), Some(run)),
            Command::Status(s) => given(Action::Status { json: s.json }, s.timeout, None),
            Command::RestorePlan(r) => given(
                Action::RestorePlan {
                    id: r.id,
                    json: r.json,
                },
                None,
                None,
            ),
            Command::History(h) => given(
                Action::History {
                    json: h.json,
                    limit: h.limit,
                },
                None,
                None,
            ),
            Command::Install(p) => Given {
                manifest: ManifestNames::from(&p.manifest),
                max_freeze: p.manifest.max_freeze.clone(),
                ..given(Action::Install(p.platform), p.timeout, None)
            },
            Command::Uninstall(p) => given(Action::Uninstall(p.platform), None, None),
            Command::Check(c) => given(Action::Check(c.platform), c.timeout, None),
            Command::Watchdog(w) => {
                let action = Action::Watchdog {
                    token: w.token,
                    deadline_ms: w.deadline_ms,
                    instances: w.instances,
                };
                Given {
                    watchdog_log: Some(w.log_file),
                    ..given(action, Some(w.timeout), None)
                }
            }
        }
    }
}

/// `run`'s CMD deadline, when given (flag, variable or config file); any other action as is.
fn with_cmd_timeout(
    action: Action,
    given: Option<&str>,
    from_env: bool,
    file: Option<Duration>,
) -> Result<Action> {
    let Action::Run { cmd, .. } = action else {
        return Ok(action);
    };
    let cmd_timeout = match given.filter(|g| !g.trim().is_empty()) {
        Some(_) => Some(CMD_TIMEOUT.resolve(given, from_env, None, Duration::ZERO)?),
        None => file,
    };
    Ok(Action::Run { cmd, cmd_timeout })
}

/// An empty variable (IRIS_FREEZE_ROOT=) means "not set", as a missing one would.
fn unset_if_empty(path: Option<PathBuf>) -> Option<PathBuf> {
    path.filter(|p| !p.as_os_str().is_empty())
}

fn verbosity(quiet: bool, verbose: u8) -> Verbosity {
    match (quiet, verbose) {
        (true, _) => Verbosity::Quiet,
        (false, 0) => Verbosity::Normal,
        (false, 1) => Verbosity::Verbose,
        (false, _) => Verbosity::Debug,
    }
}

fn root(given: Option<PathBuf>) -> Result<PathBuf> {
    let root = given.unwrap_or_else(|| PathBuf::from("/"));
    if !root.is_absolute() {
        bail!(
            "--root ({}) must be an absolute path, got {:?}",
            env::ROOT,
            root
        );
    }
    Ok(root)
}

fn config_file(given: Option<PathBuf>, root: &Path) -> PathBuf {
    let path = given.unwrap_or_else(|| under(root, DEFAULT_CONFIG));
    // Absolute, so that the watchdog (started elsewhere, under systemd in /) reads this file.
    std::path::absolute(&path).unwrap_or(path)
}

/// A config file named explicitly that is not there is most likely a typo: the defaults are in
/// use (only the default path may be missing silently).
fn missing_config(path: &Path, from_env: bool) -> String {
    format!(
        "the config file {} ({}) does not exist: the defaults are in use",
        path.display(),
        if from_env { env::CONFIG } else { "--config" }
    )
}

/// `--bin-dirs` is a colon-separated list; empty entries are dropped.
fn bin_dirs(given: Option<String>, file: &FileConfig) -> Vec<PathBuf> {
    match (given, &file.bin_dirs) {
        (Some(dirs), _) => std::env::split_paths(&dirs)
            .filter(|p| !p.as_os_str().is_empty())
            .collect(),
        (None, Some(v)) => v.clone(),
        (None, None) => DEFAULT_BIN_DIRS.iter().map(PathBuf::from).collect(),
    }
}

fn state_dir(
    given: Option<PathBuf>,
    file: &FileConfig,
    user: Option<&UserDefaults>,
) -> Result<PathBuf> {
    let dir = given
        .or(file.state_dir.clone())
        .or(user.map(UserDefaults::state_dir))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_DIR));
    if dir.as_os_str().is_empty() || dir.is_relative() {
        bail!(
            "the state dir (--state-dir, {}, state_dir) must be an absolute path, got {dir:?}",
            env::STATE_DIR
        );
    }
    Ok(dir)
}

/// The state dir's source when a message must name it: its variable or the config file (the
/// flag and the defaults need no naming: `--state-dir` is the advice then).
fn state_dir_from(
    given: &Option<PathBuf>,
    from_env: bool,
    file: &FileConfig,
    config_file: &Path,
) -> Option<String> {
    match given {
        Some(_) if from_env => Some(Source::Env(STATE_DIR).to_string()),
        Some(_) => None,
        None => file
            .state_dir
            .as_ref()
            .map(|_| Source::File(STATE_DIR, config_file).to_string()),
    }
}

/// The config file in effect and what came of reading it: refused, reported or warned about as
/// the command needs (`OnBadFile`); a file named by the user (not the default) that is missing
/// is a warning.
fn read_config_file(
    given: Option<PathBuf>,
    command: &Command,
    root: &Path,
    from_env: bool,
) -> Result<(PathBuf, Settled)> {
    // The watchdog is always handed the freeze's file by --config: not a user's typo.
    let typed = given.is_some() && !matches!(command, Command::Watchdog(_));
    let path = config_file(given, root);
    let mut settled = OnBadFile::of(command).settle(load_file(&path))?;
    if typed && !settled.found && settled.error.is_none() {
        settled.warnings.push(missing_config(&path, from_env));
    }
    Ok((path, settled))
}

/// Absolute, so that the watchdog (started elsewhere, under systemd in /) writes this file.
fn metrics_file(given: Option<PathBuf>, file: &FileConfig) -> Option<PathBuf> {
    given
        .or(file.metrics_file.clone())
        .map(|p| std::path::absolute(&p).unwrap_or(p))
}

/// Absolute, so that the watchdog (started elsewhere, under systemd in /) writes this file.
fn history_file(given: Option<PathBuf>, file: &FileConfig, user: Option<&UserDefaults>) -> PathBuf {
    let path = given
        .or(file.history_file.clone())
        .or(user.map(UserDefaults::history_file))
        .unwrap_or_else(|| PathBuf::from(crate::host::history::DEFAULT_HISTORY_FILE));
    std::path::absolute(&path).unwrap_or(path)
}

/// journald's socket, or none when the journal is off: `IRIS_FREEZE_JOURNAL` over the config's
/// `journal`, on by default. A value that is neither on nor off is a warning, never a failed
/// thaw.
fn journal(
    var: Option<OsString>,
    file: Option<bool>,
    socket: Option<OsString>,
    warnings: &mut Vec<String>,
) -> Option<PathBuf> {
    let from_var = var.filter(|v| !v.is_empty()).and_then(|v| {
        match v.to_string_lossy().to_ascii_lowercase().as_str() {
            "0" | "false" | "no" | "off" => Some(false),
            "1" | "true" | "yes" | "on" => Some(true),
            _ => {
                warnings.push(format!(
                    "{} must be 0 or 1 (off or on); ignoring it",
                    env::JOURNAL
                ));
                None
            }
        }
    });
    if !from_var.or(file).unwrap_or(true) {
        return None;
    }
    let socket = socket.filter(|s| !s.is_empty());
    Some(socket.map_or_else(|| PathBuf::from(DEFAULT_SOCKET), PathBuf::from))
}

/// The freeze and the thaw log without `--log-file`: the config file's, else a non-root
/// user's own, else the system's.
fn default_logs(file: &FileConfig, user: Option<&UserDefaults>) -> (PathBuf, PathBuf) {
    let pick = |given: &Option<PathBuf>, mine: fn(&UserDefaults) -> PathBuf, system: &str| {
        given
            .clone()
            .or(user.map(mine))
            .unwrap_or_else(|| PathBuf::from(system))
    };
    (
        pick(
            &file.freeze_log,
            UserDefaults::freeze_log,
            DEFAULT_FREEZE_LOG,
        ),
        pick(&file.thaw_log, UserDefaults::thaw_log, DEFAULT_THAW_LOG),
    )
}

/// The instances freeze, thaw or dry-run act on; empty means their default set.
fn run_instances(
    run: &RunArgs,
    action: &Action,
    from_env: bool,
    file: &FileConfig,
) -> Result<Vec<InstanceName>> {
    // A stray word is most likely an instance name without --instance; guessing would freeze
    // something else than the user meant.
    if let Some(word) = run.extra.iter().find(|w| !w.trim().is_empty()) {
        bail!(
            "unexpected argument {word:?}: name instances with --instance {word} \
             (empty arguments, as hook runners pass, are ignored)"
        );
    }
    let given = given_instances(&run.instances, from_env, action)?;
    // The file's `instances` picks what a freeze freezes. A thaw keeps thawing exactly what was
    // recorded: as a name list it would also thaw other tools' freezes.
    Ok(match (action, given.is_empty()) {
        (Action::Freeze | Action::DryRun | Action::Run { .. }, true) => {
            file.instances.clone().unwrap_or_default()
        }
        _ => given,
    })
}

/// A freeze (or dry-run) refuses a credentials file it cannot load; a thaw, `status` and the
/// watchdog warn and go on without; installing, uninstalling and checking report a bad file
/// instead of refusing, and need no credentials.
fn credentials(
    path: Option<&Path>,
    action: &Action,
    config_file: &Path,
    warnings: &mut Vec<String>,
) -> Result<Option<Credentials>> {
    let in_config = || format!("credentials_file in {}", config_file.display());
    Ok(match (path, action) {
        (Some(p), Action::Freeze | Action::DryRun | Action::Run { .. }) => {
            Some(Credentials::load(p).with_context(in_config)?)
        }
        (Some(p), Action::Thaw | Action::Status { .. } | Action::Watchdog { .. }) => {
            Credentials::load(p)
                .map_err(|e| {
                    warnings.push(format!(
                        "{}: {e:#}; going on without credentials",
                        in_config()
                    ))
                })
                .ok()
        }
        _ => None,
    })
}

/// A platform's own limit on how long its hook may run, when shorter than the timeout: the
/// timeout to use and why, for the log.
fn hook_limit(
    hook: Option<Invocation>,
    root: &Path,
    timeout: Duration,
) -> (Duration, Option<String>) {
    if hook.is_some_and(|h| h.platform == Some(Platform::Azure)) {
        if let Some((limit, note)) =
            crate::platform::azure::limit(root).filter(|(l, _)| *l < timeout)
        {
            return (limit, Some(note));
        }
    }
    (timeout, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(var: Option<&str>, file: Option<bool>) -> (Option<PathBuf>, Vec<String>) {
        let mut w = Vec::new();
        let j = journal(var.map(OsString::from), file, None, &mut w);
        (j, w)
    }

    #[test]
    fn the_journal_is_on_unless_the_variable_or_the_file_turns_it_off() {
        let on = Some(PathBuf::from(DEFAULT_SOCKET));
        assert_eq!(resolve(None, None), (on.clone(), vec![]));
        assert_eq!(resolve(Some(""), None).0, on);
        for off in ["0", "false", "No", "OFF"] {
            assert_eq!(resolve(Some(off), None).0, None, "{off}");
            assert_eq!(resolve(Some(off), Some(true)).0, None, "{off}");
        }
        assert_eq!(resolve(None, Some(false)).0, None);
        // The variable wins over the file.
        assert_eq!(resolve(Some("1"), Some(false)).0, on);
        let (j, w) = resolve(Some("maybe"), Some(false));
        assert_eq!(j, None);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("IRIS_FREEZE_JOURNAL must be 0 or 1"), "{w:?}");
        let mut w = Vec::new();
        let socket = journal(None, None, Some("/tmp/s".into()), &mut w);
        assert_eq!(socket, Some(PathBuf::from("/tmp/s")));
    }

    #[test]
    fn the_state_dir_names_its_variable_or_the_config_file_never_the_flag() {
        let cfg = Path::new("/etc/iris-freeze.toml");
        let none = FileConfig::default();
        let set = FileConfig {
            state_dir: Some("/srv/state".into()),
            ..FileConfig::default()
        };
        let given = Some(PathBuf::from("/x"));
        assert_eq!(
            state_dir_from(&given, true, &set, cfg).as_deref(),
            Some("IRIS_FREEZE_STATE_DIR")
        );
        assert_eq!(state_dir_from(&given, false, &set, cfg), None);
        assert_eq!(
            state_dir_from(&None, false, &set, cfg).as_deref(),
            Some("state_dir in /etc/iris-freeze.toml")
        );
        assert_eq!(state_dir_from(&None, false, &none, cfg), None);
    }
}
