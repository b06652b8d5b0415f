//! The validated configuration: everything a command needs, checked once, before any IRIS call.
//! Precedence: command-line flag > environment variable > /etc/iris-freeze.toml > default.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::cli::{Cli, Command, RunArgs};
use crate::credentials::Credentials;
use crate::hooks::Invocation;
use crate::platform::Platform;

pub const DEFAULT_FREEZE_LOG: &str = "/etc/preScript.log";
pub const DEFAULT_THAW_LOG: &str = "/etc/postScript.log";
pub const DEFAULT_CONFIG: &str = "/etc/iris-freeze.toml";
pub const DEFAULT_STATE_DIR: &str = "/run/iris-freeze";
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_MAX_FREEZE: Duration = Duration::from_secs(300);
/// IRIS starts blocking writers after ExternalFreezeTimeOut, 600 s by default.
pub const IRIS_BLOCKS_AFTER: Duration = Duration::from_secs(600);

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
    DryRun,
    Status {
        json: bool,
    },
    Install(Platform),
    Uninstall(Platform),
    Check(Option<Platform>),
    /// The detached watchdog process.
    Watchdog {
        token: String,
        deadline_ms: i64,
        /// The instances it guards, as the state named them at arming.
        instances: Vec<String>,
    },
}

/// What to do about a mirror primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MirrorPolicy {
    /// Freeze it, with a warning and advice in the log.
    #[default]
    Warn,
    /// Refuse to freeze (exit 1): snapshot the backup member instead.
    Refuse,
}

/// The ExternalFreeze arguments the config may set; `None` leaves IRIS's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FreezeOptions {
    /// ExternalFreezeTimeOut (7th argument): seconds before IRIS blocks writers (default 600).
    pub external_freeze_timeout: Option<u32>,
    /// WDSuspendLimit (10th argument, IRIS only): IRIS resumes the write daemon by itself.
    pub wd_suspend_limit: Option<u32>,
    /// SwitchJournalFile (3rd argument, default 1).
    pub switch_journal: Option<bool>,
}

/// `/etc/iris-freeze.toml`. Unknown keys are errors that name the key.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub instances: Option<Vec<String>>,
    pub timeout: Option<f64>,
    pub max_freeze: Option<f64>,
    pub freeze_log: Option<PathBuf>,
    pub thaw_log: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    pub bin_dirs: Option<Vec<PathBuf>>,
    pub credentials_file: Option<PathBuf>,
    pub external_freeze_timeout: Option<u32>,
    pub wd_suspend_limit: Option<u32>,
    pub switch_journal: Option<bool>,
    pub set_history: Option<bool>,
    pub mirror_primary: Option<MirrorPolicy>,
}

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
    /// Prefix of every platform path (`/` normally).
    pub root: PathBuf,
    /// The config file in effect, and whether it exists.
    pub config_file: PathBuf,
    pub config_found: bool,
    /// Why the config file was not usable (only `check` gets this far with one).
    pub config_error: Option<String>,
    pub credentials_file: Option<PathBuf>,
    pub credentials: Option<Credentials>,
    pub freeze_options: FreezeOptions,
    pub set_history: bool,
    pub mirror_primary: MirrorPolicy,
    /// The hook convention we were called by, if any.
    pub hook: Option<Invocation>,
    /// Why the timeout is shorter than configured (Azure's own limit), for the log.
    pub timeout_note: Option<String>,
}

impl Config {
    pub fn from_cli(cli: Cli, hook: Option<Invocation>) -> Result<Config> {
        let mut g = cli.global;
        // An empty variable (IRIS_FREEZE_TIMEOUT=) means "not set", as a missing one would.
        let unset_empty = |p: &mut Option<PathBuf>| {
            if p.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
                *p = None;
            }
        };
        unset_empty(&mut g.state_dir);
        unset_empty(&mut g.config);
        unset_empty(&mut g.root);
        let verbosity = match (g.quiet, g.verbose) {
            (true, _) => Verbosity::Quiet,
            (false, 0) => Verbosity::Normal,
            (false, 1) => Verbosity::Verbose,
            (false, _) => Verbosity::Debug,
        };
        let root = g.root.unwrap_or_else(|| PathBuf::from("/"));
        if !root.is_absolute() {
            bail!(
                "--root (IRIS_FREEZE_ROOT) must be an absolute path, got {:?}",
                root
            );
        }
        let config_file = g.config.unwrap_or_else(|| under(&root, DEFAULT_CONFIG));
        // `check` reports a bad config file as a failed check instead of refusing to run.
        let checking = matches!(cli.command, Command::Check(_));
        let (file, config_found, config_error) = match load_file(&config_file) {
            Ok((f, found)) => (f, found, None),
            Err(e) if checking => (FileConfig::default(), true, Some(format!("{e:#}"))),
            Err(e) => return Err(e),
        };

        let bin_dirs = match (g.bin_dirs, &file.bin_dirs) {
            (Some(dirs), _) => std::env::split_paths(&dirs)
                .filter(|p| !p.as_os_str().is_empty())
                .collect(),
            (None, Some(v)) => v.clone(),
            (None, None) => DEFAULT_BIN_DIRS.iter().map(PathBuf::from).collect(),
        };
        let state_dir = g
            .state_dir
            .or(file.state_dir.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_DIR));
        if state_dir.as_os_str().is_empty() || state_dir.is_relative() {
            bail!(
                "the state dir (--state-dir, IRIS_FREEZE_STATE_DIR, state_dir) must be an \
                 absolute path, got {state_dir:?}"
            );
        }

        let mut max_freeze = seconds(None, file.max_freeze, DEFAULT_MAX_FREEZE, "max_freeze")?;
        let mut watchdog_log = None;
        let (action, run, timeout_flag) = match cli.command {
            Command::Freeze(f) => {
                max_freeze = seconds(
                    f.max_freeze.as_deref(),
                    file.max_freeze,
                    DEFAULT_MAX_FREEZE,
                    "--max-freeze (IRIS_FREEZE_MAX_FREEZE, max_freeze)",
                )?;
                let t = f.run.timeout.clone();
                (Action::Freeze, Some(f.run), t)
            }
            Command::Thaw(run) => {
                let t = run.timeout.clone();
                (Action::Thaw, Some(run), t)
            }
            Command::DryRun(run) => {
                let t = run.timeout.clone();
                (Action::DryRun, Some(run), t)
            }
            Command::Status(s) => (Action::Status { json: s.json }, None, s.timeout),
            Command::Install(p) => (Action::Install(p.platform), None, p.timeout),
            Command::Uninstall(p) => (Action::Uninstall(p.platform), None, p.timeout),
            Command::Check(c) => (Action::Check(c.platform), None, c.timeout),
            Command::Watchdog(w) => {
                watchdog_log = Some(w.log_file);
                let action = Action::Watchdog {
                    token: w.token,
                    deadline_ms: w.deadline_ms,
                    instances: w.instances,
                };
                (action, None, Some(w.timeout))
            }
        };
        if max_freeze >= IRIS_BLOCKS_AFTER {
            bail!(
                "--max-freeze (IRIS_FREEZE_MAX_FREEZE, max_freeze) must stay below 600 s, when \
                 IRIS starts blocking writers (ExternalFreezeTimeOut); got {}s",
                max_freeze.as_secs_f64()
            );
        }
        let mut timeout = seconds(
            timeout_flag.as_deref(),
            file.timeout,
            DEFAULT_TIMEOUT,
            "--timeout (IRIS_FREEZE_TIMEOUT, timeout)",
        )?;

        let default_log = match action {
            Action::Thaw => file
                .thaw_log
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_THAW_LOG)),
            _ => file
                .freeze_log
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_FREEZE_LOG)),
        };
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
                // The file's `instances` picks what a freeze freezes. A thaw keeps thawing exactly
                // what was recorded: as a name list it would also thaw other tools' freezes.
                let names = match (&action, instances.is_empty()) {
                    (Action::Freeze | Action::DryRun, true) => {
                        file.instances.clone().unwrap_or_default()
                    }
                    _ => instances,
                };
                (parse_instances(&names)?, log_file.unwrap_or(default_log))
            }
            None => (Vec::new(), watchdog_log.unwrap_or(default_log)),
        };

        let credentials_file = file.credentials_file.clone();
        let credentials = match (&credentials_file, &action) {
            // Installing, uninstalling and checking report a bad file instead of refusing.
            (Some(p), Action::Freeze | Action::Thaw | Action::DryRun | Action::Status { .. }) => {
                Some(Credentials::load(p).context("credentials_file in the config file")?)
            }
            (Some(p), Action::Watchdog { .. }) => Credentials::load(p).ok(),
            _ => None,
        };

        let mut timeout_note = None;
        if hook.is_some_and(|h| h.platform == Some(Platform::Azure)) {
            if let Some((limit, note)) = azure_limit(&root).filter(|(l, _)| *l < timeout) {
                timeout = limit;
                timeout_note = Some(note);
            }
        }

        Ok(Config {
            action,
            instances,
            timeout,
            max_freeze,
            log_file,
            state_dir,
            bin_dirs,
            verbosity,
            root,
            config_file,
            config_found,
            config_error,
            credentials_file,
            credentials,
            freeze_options: FreezeOptions {
                external_freeze_timeout: file.external_freeze_timeout,
                wd_suspend_limit: file.wd_suspend_limit,
                switch_journal: file.switch_journal,
            },
            set_history: file.set_history.unwrap_or(false),
            mirror_primary: file.mirror_primary.unwrap_or_default(),
            hook,
            timeout_note,
        })
    }
}

/// `path` (absolute) under `root`.
pub fn under(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

/// Reads the config file; a missing file is an empty config. Running as root, a file another
/// user owns or group/others can write is refused: it decides which programs root runs.
pub fn load_file(path: &Path) -> Result<(FileConfig, bool)> {
    use std::io::Read;
    let read = || -> std::io::Result<Option<(String, fs::Metadata)>> {
        let mut f = match fs::File::open(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            other => other?,
        };
        // The open file's own metadata: no second path lookup, and no swap in between.
        let md = f.metadata()?;
        let mut text = String::with_capacity(md.len() as usize);
        f.read_to_string(&mut text)?;
        Ok(Some((text, md)))
    };
    let (text, md) =
        match read().with_context(|| format!("cannot read the config file {}", path.display()))? {
            Some(found) => found,
            None => return Ok((FileConfig::default(), false)),
        };
    check_config_metadata(path, &md)?;
    // The packaged file is all comments: nothing to parse, and every thaw reads it.
    let blank = |l: &str| {
        let l = l.trim_start();
        l.is_empty() || l.starts_with('#')
    };
    if text.lines().all(blank) {
        return Ok((FileConfig::default(), true));
    }
    let file: FileConfig = toml::from_str(&text)
        .with_context(|| format!("config file {} is invalid", path.display()))?;
    Ok((file, true))
}

/// The ownership and mode rule for the config file, also used by `check`.
pub fn check_config_file(path: &Path) -> Result<()> {
    let md = fs::metadata(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    check_config_metadata(path, &md)
}

fn check_config_metadata(path: &Path, md: &fs::Metadata) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    if !nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    if md.uid() != 0 || md.mode() & 0o022 != 0 {
        bail!(
            "the config file {} is owned by uid {} with mode {:o}: running as root, iris-freeze \
             refuses a config file that anyone but root can write; fix with `chown root {} && \
             chmod go-w {}`",
            path.display(),
            md.uid(),
            md.mode() & 0o7777,
            path.display(),
            path.display()
        );
    }
    Ok(())
}

/// How long Azure lets a hook run: `timeoutInSeconds` (default 10, at most 1800) less one poll
/// (Azure notices an exit only at its next poll) and a second of margin. Azure does not kill a
/// late pre-script; it snapshots anyway, so we must be done (or rolled back) by then.
pub fn azure_limit(root: &Path) -> Option<(Duration, String)> {
    let path = under(root, crate::install::AZURE_JSON);
    let text = fs::read_to_string(&path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let t = v
        .get("timeoutInSeconds")
        .map_or(Some(10.0), |t| t.as_f64())?
        .min(1800.0);
    let poll = v
        .get("ScriptsExecutionPollTimeSeconds")
        .and_then(|p| p.as_f64().or_else(|| p.as_str()?.parse().ok()))
        .filter(|p| (1.0..=5.0).contains(p))
        .unwrap_or(3.0);
    let ours = (t - poll - 1.0).max(1.0);
    Some((
        Duration::from_secs_f64(ours),
        format!(
            "Azure allows {t}s (timeoutInSeconds in {}, polled every {poll}s): finishing within {ours}s",
            path.display()
        ),
    ))
}

fn parse_instances(raw: &[String]) -> Result<Vec<InstanceName>> {
    let mut out: Vec<InstanceName> = Vec::new();
    // An empty IRIS_FREEZE_INSTANCES (or a trailing comma) means "no names", not an error.
    for s in raw.iter().filter(|s| !s.trim().is_empty()) {
        let name =
            InstanceName::parse(s).context("--instance (IRIS_FREEZE_INSTANCES, instances)")?;
        if !out.iter().any(|n| n.matches(name.as_str())) {
            out.push(name);
        }
    }
    Ok(out)
}

/// A flag or environment value, else the config file's, else the default.
fn seconds(
    flag: Option<&str>,
    file: Option<f64>,
    default: Duration,
    what: &str,
) -> Result<Duration> {
    let flag = flag.filter(|f| !f.trim().is_empty());
    match (flag, file) {
        (Some(s), _) => parse_seconds(s).with_context(|| what.to_string()),
        (None, Some(v)) => {
            parse_seconds(&v.to_string()).with_context(|| format!("{what} in the config file"))
        }
        (None, None) => Ok(default),
    }
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
    fn a_file_of_comments_loads_as_defaults_and_anything_else_is_parsed() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("c.toml");
        fs::write(&p, "# timeout = 99\n\n   # note\n").unwrap();
        let (file, found) = load_file(&p).unwrap();
        assert!(found);
        assert_eq!(file.timeout, None);
        fs::write(&p, "# a comment\ntimeout = 99\n").unwrap();
        assert_eq!(load_file(&p).unwrap().0.timeout, Some(99.0));
        fs::write(&p, "# a comment\ntimout = 99\n").unwrap();
        let e = format!("{:#}", load_file(&p).unwrap_err());
        assert!(e.contains("timout"), "{e}");
    }

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
    fn seconds_parse() {
        assert_eq!(parse_seconds("30").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_seconds("2.5s").unwrap(), Duration::from_millis(2500));
        for bad in ["0", "-1", "abc", "", "NaN", "inf", "3601"] {
            assert!(parse_seconds(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn precedence_flag_then_file_then_default() {
        let d = Duration::from_secs(30);
        assert_eq!(
            seconds(Some("5"), Some(9.0), d, "x").unwrap(),
            Duration::from_secs(5)
        );
        assert_eq!(
            seconds(None, Some(9.0), d, "x").unwrap(),
            Duration::from_secs(9)
        );
        assert_eq!(seconds(None, None, d, "x").unwrap(), d);
    }

    #[test]
    fn duplicate_names_collapse_case_insensitively() {
        let v = parse_instances(&["IRIS".into(), "iris".into(), "".into(), "HS".into()]).unwrap();
        assert_eq!(v.len(), 2);
    }

    #[test]
    fn unknown_config_keys_are_named() {
        let e = toml::from_str::<FileConfig>("instance = [\"IRIS\"]\n").unwrap_err();
        assert!(e.to_string().contains("instance"), "{e}");
        let ok: FileConfig = toml::from_str(
            "instances = [\"IRIS\"]\ntimeout = 20\nmax_freeze = 120.5\nmirror_primary = \"refuse\"\n",
        )
        .unwrap();
        assert_eq!(ok.mirror_primary, Some(MirrorPolicy::Refuse));
        assert_eq!(ok.timeout, Some(20.0));
    }

    #[test]
    fn azure_limit_reads_the_plugin_json() {
        let tmp = tempfile::tempdir().unwrap();
        let p = under(tmp.path(), crate::install::AZURE_JSON);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(
            &p,
            r#"{"timeoutInSeconds": 20, "ScriptsExecutionPollTimeSeconds": 1}"#,
        )
        .unwrap();
        assert_eq!(azure_limit(tmp.path()).unwrap().0, Duration::from_secs(18));
        fs::write(&p, r#"{"preScriptLocation": "/x"}"#).unwrap();
        // Azure's code default is 10 s, polled every 3 s.
        assert_eq!(azure_limit(tmp.path()).unwrap().0, Duration::from_secs(6));
        assert!(azure_limit(Path::new("/nonexistent")).is_none());
    }
}
