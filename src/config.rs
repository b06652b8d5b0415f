//! The validated configuration: everything a command needs, checked once, before any IRIS call.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::cli::{Cli, Command, RunArgs};

/// Where the freeze and thaw logs go when nothing else is said: the files the Azure sample
/// scripts wrote, so existing log collection keeps working.
pub const DEFAULT_FREEZE_LOG: &str = "/etc/preScript.log";
pub const DEFAULT_THAW_LOG: &str = "/etc/postScript.log";

/// Searched after PATH: hook runners often start us with a minimal PATH.
pub const DEFAULT_BIN_DIRS: &[&str] = &[
    "/usr/bin",
    "/usr/local/bin",
    "/bin",
    "/usr/local/etc/irissys",
    "/usr/local/etc/cachesys",
    "/usr/irissys/bin",
    "/usr/cachesys/bin",
];

/// An instance name as IRIS prints it in qlist. Checked so it can only ever be one argv item.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceName(String);

impl InstanceName {
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.is_empty() {
            bail!("empty instance name");
        }
        if s.len() > 64
            || !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            bail!(
                "invalid instance name {s:?}: use the name `iris qlist` shows \
                 (letters, digits, '_', '-', '.')"
            );
        }
        Ok(InstanceName(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Instance names are case-insensitive in IRIS; qlist prints them upper case.
    pub fn matches(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other)
    }
}

impl fmt::Display for InstanceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
    Debug,
}

#[derive(Debug, Clone)]
pub enum Action {
    Freeze,
    Thaw,
    Status {
        json: bool,
    },
    /// The detached watchdog process.
    Watchdog {
        token: String,
        deadline_ms: i64,
    },
}

/// IRIS starts blocking writers after ExternalFreezeTimeOut, 600 s by default.
pub const IRIS_BLOCKS_AFTER: Duration = Duration::from_secs(600);

#[derive(Debug, Clone)]
pub struct Config {
    pub action: Action,
    /// Named instances; empty means the default set (running instances, or the recorded ones).
    pub instances: Vec<InstanceName>,
    pub timeout: Duration,
    /// The watchdog's deadline after the freeze begins.
    pub max_freeze: Duration,
    pub log_file: PathBuf,
    pub state_dir: PathBuf,
    pub bin_dirs: Vec<PathBuf>,
    pub verbosity: Verbosity,
}

impl Config {
    pub fn from_cli(cli: Cli) -> Result<Config> {
        let g = cli.global;
        let verbosity = match (g.quiet, g.verbose) {
            (true, _) => Verbosity::Quiet,
            (false, 0) => Verbosity::Normal,
            (false, 1) => Verbosity::Verbose,
            (false, _) => Verbosity::Debug,
        };
        let bin_dirs = match g.bin_dirs {
            Some(dirs) => std::env::split_paths(&dirs)
                .filter(|p| !p.as_os_str().is_empty())
                .collect(),
            None => DEFAULT_BIN_DIRS.iter().map(PathBuf::from).collect(),
        };
        let mut max_freeze = Duration::from_secs(300);
        let mut watchdog_log = None;
        let (action, run, timeout, default_log) = match cli.command {
            Command::Freeze(f) => {
                max_freeze = parse_seconds(&f.max_freeze)
                    .context("--max-freeze (IRIS_FREEZE_MAX_FREEZE)")?;
                if max_freeze >= IRIS_BLOCKS_AFTER {
                    bail!(
                        "--max-freeze (IRIS_FREEZE_MAX_FREEZE) must stay below 600 s, when IRIS \
                         starts blocking writers (ExternalFreezeTimeOut); got {}",
                        f.max_freeze
                    );
                }
                let t = f.run.timeout.clone();
                (Action::Freeze, Some(f.run), t, DEFAULT_FREEZE_LOG)
            }
            Command::Watchdog(w) => {
                watchdog_log = Some(w.log_file);
                (
                    Action::Watchdog {
                        token: w.token,
                        deadline_ms: w.deadline_ms,
                    },
                    None,
                    w.timeout,
                    DEFAULT_FREEZE_LOG,
                )
            }
            Command::Thaw(run) => {
                let t = run.timeout.clone();
                (Action::Thaw, Some(run), t, DEFAULT_THAW_LOG)
            }
            Command::Status(s) => (
                Action::Status { json: s.json },
                None,
                s.timeout,
                "/dev/null",
            ),
        };
        let timeout = parse_seconds(&timeout).context("--timeout (IRIS_FREEZE_TIMEOUT)")?;
        let (instances, log_file) = match run {
            Some(RunArgs {
                instances,
                log_file,
                extra,
                ..
            }) => {
                // A stray word is most likely an instance name without --instance; guessing
                // would freeze something else than the user meant.
                if let Some(word) = extra.iter().find(|w| !w.trim().is_empty()) {
                    bail!(
                        "unexpected argument {word:?}: name instances with --instance {word} \
                         (empty arguments, as hook runners pass, are ignored)"
                    );
                }
                (
                    parse_instances(&instances)?,
                    log_file.unwrap_or_else(|| PathBuf::from(default_log)),
                )
            }
            None => (
                Vec::new(),
                watchdog_log.unwrap_or_else(|| PathBuf::from(default_log)),
            ),
        };
        if g.state_dir.as_os_str().is_empty() || g.state_dir.is_relative() {
            bail!(
                "--state-dir (IRIS_FREEZE_STATE_DIR) must be an absolute path, got {:?}",
                g.state_dir
            );
        }
        Ok(Config {
            action,
            instances,
            timeout,
            max_freeze,
            log_file,
            state_dir: g.state_dir,
            bin_dirs,
            verbosity,
        })
    }
}

fn parse_instances(raw: &[String]) -> Result<Vec<InstanceName>> {
    let mut out: Vec<InstanceName> = Vec::new();
    // An empty IRIS_FREEZE_INSTANCES (or a trailing comma) means "no names", not an error.
    for s in raw.iter().filter(|s| !s.trim().is_empty()) {
        let name = InstanceName::parse(s).context("--instance (IRIS_FREEZE_INSTANCES)")?;
        if !out.iter().any(|n| n.matches(name.as_str())) {
            out.push(name);
        }
    }
    Ok(out)
}

/// Seconds as a positive number (fractions allowed, an `s` suffix tolerated), at most one hour:
/// longer than any snapshot platform waits for a hook.
pub fn parse_seconds(s: &str) -> Result<Duration> {
    let t = s.trim();
    let t = t.strip_suffix('s').unwrap_or(t);
    let secs: f64 = t
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .with_context(|| format!("{s:?} is not a number of seconds (example: 30)"))?;
    if secs <= 0.0 || secs > 3600.0 {
        bail!("{s:?} is out of range: give between 0 and 3600 seconds");
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names_are_argv_safe() {
        for ok in ["IRIS", "iris_2", "HS-PROD.1"] {
            assert_eq!(InstanceName::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["", " ", "a b", "x;rm", "$(id)", "a/b", "\"q\"", "é"] {
            assert!(InstanceName::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_seconds("30").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_seconds("2.5s").unwrap(), Duration::from_millis(2500));
        for bad in ["0", "-1", "abc", "", "NaN", "inf", "3601"] {
            assert!(parse_seconds(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn duplicate_names_collapse_case_insensitively() {
        let v = parse_instances(&["IRIS".into(), "iris".into(), "".into(), "HS".into()]).unwrap();
        assert_eq!(v.len(), 2);
    }
}
