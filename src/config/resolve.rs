//! `Config::from_cli`: the command line (or a hook's environment), the config file and the
//! defaults, resolved in that order and checked, one setting at a time. The order of the steps
//! is the order in which problems are reported. It reads (the environment, the config file,
//! Azure's hook settings) and changes nothing: `Config::prepared` does what a command needs
//! done.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Result, bail};

use super::bad_file::Settled;
use super::file::FileConfig;
use super::given::{FromEnv, Given, with_cmd_timeout};
use super::instance::given_instances;
use super::paths::{
    bin_dirs, default_logs, history_file, journal, metrics_file, read_config_file, root, state_dir,
    state_dir_from, unset_if_empty,
};
use super::seconds::{MAX_FREEZE, TIMEOUT};
use super::user_defaults::UserDefaults;
use super::{Action, Config, DEFAULT_MAX_FREEZE, DEFAULT_TIMEOUT, Verbosity};
use crate::cli::{Cli, RunArgs};
use crate::iris::InstanceName;
use crate::iris::backup::FreezeOptions;
use crate::platform::Platform;
use crate::platform::hooks::Invocation;
use crate::settings::env;

impl Config {
    pub(crate) fn from_cli(cli: Cli, hook: Option<Invocation>) -> Result<Config> {
        let from_env = FromEnv::of(&cli);
        let Cli {
            command, global: g, ..
        } = cli;
        let verbosity = verbosity(g.quiet, g.verbose);
        let root = root(unset_if_empty(g.root))?;
        let (config_file, settled) =
            read_config_file(unset_if_empty(g.config), &command, &root, from_env.config)?;
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
            state_dir_from(&state_dir_given, from_env.state_dir, &file, &config_file);
        let state_dir = state_dir(state_dir_given, &file, user.as_ref())?;
        let history_file = history_file(unset_if_empty(g.history_file), &file, user.as_ref());
        let metrics_file = metrics_file(unset_if_empty(g.metrics_file), &file);

        let given = Given::of(command);
        let (max_freeze, timeout) = seconds(&given, &from_env, &file)?;
        let action = with_cmd_timeout(
            given.action,
            given.cmd_timeout.as_deref(),
            from_env.cmd_timeout,
            file.cmd_timeout,
        )?;
        if let Action::Install(platform) = &action {
            given.manifest.check(*platform, timeout, max_freeze)?;
            given.ssh.check(*platform)?;
        }
        // Read here too: `status` and `check` have no --log-file for clap to read it into.
        let log_from_env = std::env::var_os(env::LOG_FILE).map(PathBuf::from);
        let default_logs = default_logs(log_from_env, &file, user.as_ref());
        let sharded = sharded(given.run.as_ref(), &file)?;
        let (instances, log_file) = instances_and_log(
            given.run,
            given.watchdog_log,
            &action,
            from_env.instances,
            &file,
            &default_logs,
        )?;
        let journal = journal(
            std::env::var_os(env::JOURNAL),
            file.journal,
            std::env::var_os(env::JOURNAL_SOCKET),
            &mut config_warnings,
        );
        let (timeout, timeout_note) = hook_limit(hook, &root, timeout);

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
            job: None,
            bin_dirs,
            verbosity,
            root,
            config_file,
            config_found,
            config_error,
            config_warnings,
            credentials_file: file.credentials_file.clone(),
            // Read by `prepared`, for the commands that log in.
            credentials: None,
            freeze_options: freeze_options(&file),
            set_history: file.set_history.unwrap_or(false),
            mirror_primary: file.mirror_primary.unwrap_or_default(),
            sharded,
            timeout_note,
            user_defaults: user,
            default_logs,
            manifest: given.manifest,
            ssh: given.ssh,
        })
    }
}

/// The instances to act on and the log to append to: the command's own, or (the watchdog) the
/// log of the freeze that started it, or the action's default.
fn instances_and_log(
    run: Option<RunArgs>,
    watchdog_log: Option<PathBuf>,
    action: &Action,
    instances_from_env: bool,
    file: &FileConfig,
    (freeze_log, thaw_log): &(PathBuf, PathBuf),
) -> Result<(Vec<InstanceName>, PathBuf)> {
    let default_log = match action {
        Action::Thaw => thaw_log.clone(),
        _ => freeze_log.clone(),
    };
    Ok(match run {
        Some(run) => {
            let instances = run_instances(&run, action, instances_from_env, file)?;
            (
                instances,
                unset_if_empty(run.log_file).unwrap_or(default_log),
            )
        }
        // `check` looks at what a freeze would pick: the file's `instances`.
        None if matches!(action, Action::Check(_)) => (
            file.instances.clone().unwrap_or_default(),
            watchdog_log.unwrap_or(default_log),
        ),
        None => (Vec::new(), watchdog_log.unwrap_or(default_log)),
    })
}

/// --max-freeze and --timeout, in that order: each from its flag or variable, the file, or
/// its default, within its bounds.
fn seconds(given: &Given, from_env: &FromEnv, file: &FileConfig) -> Result<(Duration, Duration)> {
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
    Ok((max_freeze, timeout))
}

/// The ExternalFreeze arguments the config file sets.
fn freeze_options(file: &FileConfig) -> FreezeOptions {
    FreezeOptions {
        external_freeze_timeout: file.external_freeze_timeout,
        wd_suspend_limit: file.wd_suspend_limit,
        switch_journal: file.switch_journal,
    }
}

fn verbosity(quiet: bool, verbose: u8) -> Verbosity {
    match (quiet, verbose) {
        (true, _) => Verbosity::Quiet,
        (false, 0) => Verbosity::Normal,
        (false, 1) => Verbosity::Verbose,
        (false, _) => Verbosity::Debug,
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
