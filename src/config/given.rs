//! What the command line carries, before it is resolved: which settings came from their
//! variable, and the subcommand's options sorted by what becomes of them.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use super::Action;
use super::seconds::CMD_TIMEOUT;
use crate::cli::{Cli, Command, RunArgs};
use crate::platform::kubernetes::ManifestNames;
use crate::platform::ssh::SshArgs;
use crate::settings;

/// Which of the settings whose messages name their source came from their variable rather
/// than their flag (clap merges the two).
pub(super) struct FromEnv {
    pub(super) timeout: bool,
    pub(super) max_freeze: bool,
    pub(super) instances: bool,
    /// `--config`: a missing file named by its variable is reported as such.
    pub(super) config: bool,
    pub(super) cmd_timeout: bool,
    /// `--state-dir`: a refused state dir's message names the variable that chose it.
    pub(super) state_dir: bool,
}

impl FromEnv {
    pub(super) fn of(cli: &Cli) -> FromEnv {
        FromEnv {
            timeout: cli.is_from_env(settings::TIMEOUT.id),
            max_freeze: cli.is_from_env(settings::MAX_FREEZE.id),
            instances: cli.is_from_env(settings::INSTANCES.id),
            config: cli.is_from_env(settings::CONFIG.id),
            cmd_timeout: cli.is_from_env(settings::CMD_TIMEOUT.id),
            state_dir: cli.is_from_env(settings::STATE_DIR.id),
        }
    }
}

/// What the subcommand carries, sorted by what becomes of it.
pub(super) struct Given {
    pub(super) action: Action,
    /// freeze, thaw and dry-run's own options.
    pub(super) run: Option<RunArgs>,
    pub(super) timeout: Option<String>,
    pub(super) max_freeze: Option<String>,
    /// The watchdog writes to the log of the freeze that started it.
    pub(super) watchdog_log: Option<PathBuf>,
    /// The names `install velero|k10|aks-backup` prints its manifest for.
    pub(super) manifest: ManifestNames,
    /// `install ssh --key --user`.
    pub(super) ssh: SshArgs,
    /// `run --cmd-timeout`.
    pub(super) cmd_timeout: Option<String>,
}

impl Given {
    pub(super) fn of(command: Command) -> Given {
        let given = |action, timeout, run| Given {
            action,
            timeout,
            run,
            max_freeze: None,
            watchdog_log: None,
            manifest: ManifestNames::default(),
            ssh: SshArgs::default(),
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
            Command::Verify(v) => given(Action::Verify { json: v.json }, None, None),
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
                ssh: p.ssh,
                max_freeze: p.manifest.max_freeze.clone(),
                ..given(Action::Install(p.platform), p.timeout, None)
            },
            Command::Uninstall(p) => given(Action::Uninstall(p.platform), None, None),
            Command::Check(c) => given(Action::Check(c.platform), c.timeout, None),
            Command::Watchdog(w) => {
                let action = Action::Watchdog {
                    token: w.token,
                    deadline_ms: w.deadline_ms,
                    plan: w.plan,
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
pub(super) fn with_cmd_timeout(
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
