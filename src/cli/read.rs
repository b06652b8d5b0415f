//! How the command line is read: clap's parse, noting which values came from the environment,
//! and a hook call's options read from the environment alone, through the same variable names.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};

use super::misplaced::run_cmd_before_separator;
use super::{Cli, Command, FreezeArgs, Global, RunArgs};
use crate::platform::hooks::HookCommand;
use crate::settings::{self, Setting};

/// `freeze`, `thaw` or `dry-run` and nothing else: read like a hook call, from the environment.
pub(crate) fn bare_command(args: &[OsString]) -> Option<HookCommand> {
    let [_, word] = args else { return None };
    [HookCommand::Freeze, HookCommand::Thaw, HookCommand::DryRun]
        .into_iter()
        .find(|c| word == c.subcommand())
}

impl Cli {
    /// Parses the command line as `try_parse_from` does, and notes which values came from the
    /// environment.
    pub(crate) fn parse_args(args: Vec<OsString>) -> Result<Cli, clap::Error> {
        let parsed = Cli::command()
            .try_get_matches_from(&args)
            .and_then(|matches| {
                let mut cli =
                    Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut Cli::command()))?;
                cli.from_env = env_supplied(&matches);
                Ok(cli)
            });
        let stray = match &parsed {
            Err(e) => !matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion),
            Ok(cli) => matches!(&cli.command, Command::Run(r) if !r.freeze.run.extra.is_empty()),
        };
        match stray.then(|| run_cmd_before_separator(Cli::command(), &args)) {
            Some(Some(misplaced)) => Err(misplaced),
            _ => parsed,
        }
    }

    /// Whether the option `id` got its value from its environment variable.
    pub(crate) fn is_from_env(&self, id: &str) -> bool {
        self.from_env.iter().any(|e| e == id)
    }

    /// A hook call: the command from the hook convention, every option from the environment, as
    /// clap reads them, without building the whole parser: a thaw's start-up is freeze window.
    pub(crate) fn from_env(command: HookCommand) -> Cli {
        Cli::from_vars(command, |name| std::env::var_os(name))
    }

    /// `from_env` with the environment given as `var`, so tests can hold it against clap.
    pub(super) fn from_vars(command: HookCommand, var: impl Fn(&str) -> Option<OsString>) -> Cli {
        let mut vars = EnvReader {
            var,
            present: Vec::new(),
        };
        let global = Global {
            state_dir: vars.path(&settings::STATE_DIR),
            history_file: vars.path(&settings::HISTORY_FILE),
            metrics_file: vars.path(&settings::METRICS_FILE),
            config: vars.path(&settings::CONFIG),
            root: vars.path(&settings::ROOT),
            bin_dirs: vars.text(&settings::BIN_DIRS),
            verbose: 0,
            quiet: false,
        };
        let run = RunArgs {
            instances: vars
                .text(&settings::INSTANCES)
                .map(|v| v.split(',').map(String::from).collect())
                .unwrap_or_default(),
            timeout: vars.text(&settings::TIMEOUT),
            log_file: vars.path(&settings::LOG_FILE),
            sharded: vars.text(&settings::SHARDED),
            extra: Vec::new(),
        };
        let command = match command {
            HookCommand::Freeze => Command::Freeze(FreezeArgs {
                run,
                max_freeze: vars.text(&settings::MAX_FREEZE),
            }),
            HookCommand::Thaw => Command::Thaw(run),
            HookCommand::DryRun => Command::DryRun(run),
        };
        Cli {
            command,
            global,
            from_env: vars.present,
        }
    }
}

/// Reads options' variables as clap does: what is present is kept, even empty (`config` says
/// what empty means), and its option's id noted as coming from the environment.
struct EnvReader<F> {
    var: F,
    present: Vec<String>,
}

impl<F: Fn(&str) -> Option<OsString>> EnvReader<F> {
    fn os(&mut self, setting: &Setting) -> Option<OsString> {
        let value = (self.var)(setting.var());
        if value.is_some() {
            self.present.push(setting.id.to_string());
        }
        value
    }

    fn path(&mut self, setting: &Setting) -> Option<PathBuf> {
        self.os(setting).map(PathBuf::from)
    }

    fn text(&mut self, setting: &Setting) -> Option<String> {
        self.os(setting).map(|v| v.to_string_lossy().into_owned())
    }
}

/// The ids of the options in `m` and its subcommand whose value came from the environment.
fn env_supplied(m: &ArgMatches) -> Vec<String> {
    let mut ids: Vec<String> = m
        .ids()
        .filter(|id| m.value_source(id.as_str()) == Some(ValueSource::EnvVariable))
        .map(|id| id.to_string())
        .collect();
    if let Some((_, sub)) = m.subcommand() {
        ids.extend(env_supplied(sub));
    }
    ids
}
