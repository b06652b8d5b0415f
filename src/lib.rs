//! iris-freeze: freeze and thaw InterSystems IRIS and Caché around VM snapshots.

/// A message for stderr at a tracing level (`say!(WARN, "...")`), shown per `-v`/`-q`; see
/// `host::stderr::wants`. Its control characters are spelled out: it may quote what IRIS printed.
macro_rules! say {
    ($level:ident, $($arg:tt)+) => {
        if $crate::host::stderr::wants(tracing::Level::$level) {
            tracing::event!(
                tracing::Level::$level,
                "{}",
                $crate::util::escape::terminal_text(&format!($($arg)+))
            )
        }
    };
}

pub mod cli;
mod commands;
mod config;
mod exit_code;
pub use exit_code::Exit;
mod host;
mod iris;
mod platform;
mod report;
mod settings;
mod util;

use std::ffi::OsString;
use std::io::Write;

use clap::error::ErrorKind;

use crate::cli::Cli;
use crate::commands::{
    check, freeze, history, install, restore_plan, run as run_cmd, ssh_command, status, thaw,
    verify, watchdog,
};
use crate::config::{Action, Config, Verbosity};
use crate::host::eventlog;
use crate::host::eventlog::EventLog;
use crate::platform::hooks;
use crate::platform::hooks::Invocation;
use crate::report::Report;
use crate::util::escape::{terminal_line, terminal_text};

/// A hook's stdout is a pipe nobody may read: one short line at most.
const SUMMARY_MAX: usize = 300;

/// Parses `args` (argv[0] included), runs the command, and returns the exit code.
pub fn run(args: Vec<OsString>) -> Exit {
    if let Some(why) = hooks::refused(&args) {
        let _ = writeln!(
            std::io::stderr(),
            "iris-freeze: error: {}",
            terminal_text(&why)
        );
        return Exit::Failure;
    }
    if let Some(said) = hooks::idle(&args) {
        let _ = writeln!(std::io::stdout(), "{}", terminal_text(&said));
        return Exit::Success;
    }
    if args
        .get(1)
        .is_some_and(|a| a == platform::ssh::command::VERB)
    {
        return match ssh_command::take(args) {
            Ok((args, note)) => run_args(args, Some(&note)),
            Err(exit) => exit,
        };
    }
    run_args(args, None)
}

/// Runs `args`; `ssh` is the line `ssh-command` logs first.
fn run_args(args: Vec<OsString>, ssh: Option<&str>) -> Exit {
    let hook_name = hook_name(&args);
    let job = hooks::job(&args);
    let (args, hook) = hooks::effective_args(args);
    let cli = match parse(args, hook) {
        Ok(cli) => cli,
        Err(exit) => return exit,
    };
    let mut cfg = match Config::from_cli(cli, hook).and_then(Config::prepared) {
        Ok(cfg) => cfg,
        Err(e) => {
            // Best effort, as every write to stderr: an unwritable stderr changes nothing.
            let _ = writeln!(
                std::io::stderr(),
                "iris-freeze: error: {}",
                terminal_text(&format!("{e:#}"))
            );
            return Exit::Failure;
        }
    };
    cfg.invoked_as = hook.and(hook_name);
    cfg.job = job;
    host::stderr::show_up_to(match cfg.verbosity {
        Verbosity::Quiet => tracing::Level::ERROR,
        Verbosity::Normal => tracing::Level::WARN,
        Verbosity::Verbose => tracing::Level::INFO,
        Verbosity::Debug => tracing::Level::DEBUG,
    });
    if let Some(note) = ssh {
        ssh_command::log(&cfg).info(None, "ssh", note);
    }
    let (log, result) = dispatch(&cfg);
    update_metrics(&cfg, &log);
    let report = result.unwrap_or_else(|e| {
        log.error(None, "error", format!("{e:#}"));
        Report::new(Exit::Failure, format!("FAILED: {e:#} (exit 1)"))
    });
    tell(&cfg, &log, &report);
    report.exit
}

/// The name a hook call goes by: argv[0]'s file name, or the verb after it when that is
/// iris-freeze itself (`iris-freeze azure-pre`).
fn hook_name(args: &[OsString]) -> Option<String> {
    let base = |a: &OsString| {
        std::path::Path::new(a)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
    };
    let first = base(args.first()?)?;
    if first.starts_with("iris-freeze") {
        return args.get(1).map(|a| a.to_string_lossy().into_owned());
    }
    Some(first)
}

/// A hook call reads its options from the environment; anything else goes through clap. Help,
/// the version and usage errors are printed here and end the run.
fn parse(args: Vec<OsString>, hook: Option<Invocation>) -> Result<Cli, Exit> {
    let parsed = match hook.map(|h| h.command).or_else(|| cli::bare_command(&args)) {
        Some(command) => Ok(Cli::from_env(command)),
        None => Cli::parse_args(args),
    };
    parsed.map_err(|e| {
        let _ = e.print();
        match e.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => Exit::Success,
            // clap's own usage exit is 2, which hook runners would read as our "warning".
            _ => Exit::Failure,
        }
    })
}

/// Runs the command, with the event log it writes to.
fn dispatch(cfg: &Config) -> (EventLog, anyhow::Result<Report>) {
    match cfg.action {
        Action::Freeze => {
            let log = open_log(cfg, "freeze");
            let r = freeze::run(cfg, &log);
            (log, r)
        }
        Action::Thaw => {
            let log = open_log(cfg, "thaw");
            let r = thaw::run(cfg, &log);
            (log, r)
        }
        Action::DryRun => {
            let log = open_log(cfg, "dry-run");
            let r = freeze::dry_run(cfg, &log);
            (log, r)
        }
        Action::Run { .. } => {
            let log = open_log(cfg, "run");
            let r = run_cmd::run(cfg, &log);
            (log, r)
        }
        Action::Install(p) => (EventLog::none("install"), install::install(cfg, p)),
        Action::Uninstall(p) => (EventLog::none("uninstall"), install::uninstall(cfg, p)),
        Action::Check(p) => (EventLog::none("check"), check::run(cfg, p)),
        Action::Watchdog {
            ref token,
            deadline_ms,
            ref plan,
        } => {
            // Its own events go to the freeze's log when due; nothing else is written.
            let log = EventLog::none("watchdog");
            let r = watchdog::run(cfg, token, deadline_ms, plan);
            (log, r)
        }
        Action::Status { json } => {
            let log = EventLog::none("status");
            let r = status::run(cfg, json);
            (log, r)
        }
        Action::RestorePlan { ref id, json } => {
            let log = EventLog::none("restore-plan");
            (log, restore_plan::run(cfg, id.as_deref(), json))
        }
        Action::Verify { json } => (EventLog::none("verify"), verify::run(cfg, json)),
        Action::History { json, limit } => {
            (EventLog::none("history"), history::run(cfg, json, limit))
        }
    }
}

/// After the commands that change what is frozen, once their IRIS calls and their history line
/// are done: the metrics, derived from the history (a freeze's rollback and the watchdog's
/// auto-thaw included: each is its own run). A failed write is a warning, never the command's
/// failure.
fn update_metrics(cfg: &Config, log: &EventLog) {
    if !matches!(
        cfg.action,
        Action::Freeze | Action::Thaw | Action::Run { .. } | Action::Watchdog { .. }
    ) {
        return;
    }
    let Some(metrics_file) = &cfg.metrics_file else {
        return;
    };
    let frozen_now = || commands::state::frozen_now(&cfg.state_dir);
    let warning = match host::metrics::update(metrics_file, &cfg.history_file, frozen_now) {
        Ok(w) => w,
        Err(e) => Some(format!("{e:#}")),
    };
    if let Some(w) = warning {
        say!(WARN, "{w}");
        log.warn(None, "metrics", w);
    }
}

/// The log's last line, and the summary on stdout (none with -q).
fn tell(cfg: &Config, log: &EventLog, report: &Report) {
    log.event(
        eventlog::Level::Info,
        None,
        "end",
        Some(report.exit.code().into()),
        None,
        format!("exit {}: {}", report.exit.code(), one_line(&report.summary)),
    );
    if cfg.verbosity == Verbosity::Quiet {
        return;
    }
    // What a person reads has its control characters spelled out (they may come from IRIS
    // output or a file); JSON is left exact: serde escapes them itself.
    let text = match cfg.action {
        Action::Status { json: true }
        | Action::RestorePlan { json: true, .. }
        | Action::Verify { json: true }
        | Action::History { json: true, .. } => report.summary.clone(),
        // Reports meant to be read whole.
        Action::Status { .. }
        | Action::RestorePlan { .. }
        | Action::Verify { .. }
        | Action::History { .. }
        | Action::Check(_)
        | Action::Install(_)
        | Action::Uninstall(_) => terminal_text(&report.summary),
        _ => terminal_line(&format!("iris-freeze: {}", one_line(&report.summary))),
    };
    // Nobody may be reading (a closed pipe): that must not change the exit code.
    let _ = writeln!(std::io::stdout(), "{text}");
}

fn open_log(cfg: &Config, cmd: &'static str) -> EventLog {
    let log = EventLog::open(&cfg.log_file, cmd).with_journal(cfg.journal.as_deref());
    log.info(
        None,
        "start",
        format!(
            "iris-freeze {} {cmd}{} (timeout {}s, state {})",
            env!("CARGO_PKG_VERSION"),
            if cfg.instances.is_empty() {
                String::new()
            } else {
                format!(
                    " --instance {}",
                    cfg.instances
                        .iter()
                        .map(|i| i.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                )
            },
            cfg.timeout.as_secs_f64(),
            cfg.state_dir.display()
        ),
    );
    if let Some(job) = &cfg.job {
        log.info(
            None,
            "job",
            format!(
                "called for backup job {} attempt {} ({})",
                job.id.as_deref().unwrap_or("?"),
                job.attempt.map_or("?".into(), |a| a.to_string()),
                job.more
            ),
        );
    }
    if let Some(note) = &cfg.timeout_note {
        log.info(None, "timeout", note);
    }
    for w in &cfg.config_warnings {
        log.warn(None, "config", w);
    }
    log
}

fn one_line(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    match s.char_indices().nth(SUMMARY_MAX) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s,
    }
}
