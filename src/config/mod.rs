//! The validated configuration: everything a command needs, checked once, before any IRIS call.
//! Precedence: command-line flag > environment variable > /etc/iris-freeze.toml > default.

pub(crate) mod env;
mod file;

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::cli::{Cli, Command, RunArgs};
use crate::iris::credentials::Credentials;
use crate::platform::Platform;
use crate::platform::hooks::Invocation;

pub(crate) use file::{FileConfig, Loaded, check_config_file, load_file};

pub(crate) const DEFAULT_FREEZE_LOG: &str = "/etc/preScript.log";
pub(crate) const DEFAULT_THAW_LOG: &str = "/etc/postScript.log";
pub(crate) const DEFAULT_CONFIG: &str = "/etc/iris-freeze.toml";
pub(crate) const DEFAULT_STATE_DIR: &str = "/run/iris-freeze";
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub(crate) const DEFAULT_MAX_FREEZE: Duration = Duration::from_secs(300);
/// IRIS starts blocking writers after ExternalFreezeTimeOut, 600 s by default.
pub(crate) const IRIS_BLOCKS_AFTER: Duration = Duration::from_secs(600);

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

/// An instance name as IRIS prints it in qlist. Checked so it can only ever be one argv item.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct InstanceName(String);

impl InstanceName {
    pub(crate) fn parse(s: &str) -> Result<Self> {
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

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// Instance names are case-insensitive in IRIS; qlist prints them upper case.
    pub(crate) fn matches(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other)
    }
}

impl fmt::Display for InstanceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum MirrorPolicy {
    /// Freeze it, with a warning and advice in the log.
    #[default]
    Warn,
    /// Refuse to freeze (exit 1): snapshot the backup member instead.
    Refuse,
}

/// The ExternalFreeze arguments the config may set; `None` leaves IRIS's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FreezeOptions {
    /// ExternalFreezeTimeOut (7th argument): seconds before IRIS blocks writers (default 600).
    pub(crate) external_freeze_timeout: Option<u32>,
    /// WDSuspendLimit (10th argument, IRIS only): IRIS resumes the write daemon by itself.
    pub(crate) wd_suspend_limit: Option<u32>,
    /// SwitchJournalFile (3rd argument, default 1).
    pub(crate) switch_journal: Option<bool>,
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
    /// Why the timeout is shorter than configured (Azure's own limit), for the log.
    pub(crate) timeout_note: Option<String>,
}

impl Config {
    pub(crate) fn from_cli(cli: Cli, hook: Option<Invocation>) -> Result<Config> {
        let from_env = |id: &str| cli.is_from_env(id);
        let (timeout_from_env, max_freeze_from_env, instances_from_env) = (
            from_env(TIMEOUT.names.id),
            from_env(MAX_FREEZE.names.id),
            from_env(INSTANCES.id),
        );
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
        // Absolute, so that the watchdog (started elsewhere, under systemd in /) reads this file.
        let config_file = std::path::absolute(&config_file).unwrap_or(config_file);
        let on_bad = OnBadFile::of(&cli.command);
        let settled = on_bad.settle(load_file(&config_file))?;
        let (file, config_found, config_error) = (settled.file, settled.found, settled.error);
        let mut config_warnings = settled.warnings;

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

        let mut max_freeze = file.max_freeze.unwrap_or(DEFAULT_MAX_FREEZE);
        let mut watchdog_log = None;
        let (action, run, timeout_flag) = match cli.command {
            Command::Freeze(f) => {
                max_freeze = MAX_FREEZE.resolve(
                    f.max_freeze.as_deref(),
                    max_freeze_from_env,
                    file.max_freeze,
                    DEFAULT_MAX_FREEZE,
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
        let mut timeout = TIMEOUT.resolve(
            timeout_flag.as_deref(),
            timeout_from_env,
            file.timeout,
            DEFAULT_TIMEOUT,
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
                let given = given_instances(&instances, instances_from_env, &action)?;
                // The file's `instances` picks what a freeze freezes. A thaw keeps thawing exactly
                // what was recorded: as a name list it would also thaw other tools' freezes.
                let names = match (&action, given.is_empty()) {
                    (Action::Freeze | Action::DryRun, true) => {
                        file.instances.clone().unwrap_or_default()
                    }
                    _ => given,
                };
                (names, log_file.unwrap_or(default_log))
            }
            None => (Vec::new(), watchdog_log.unwrap_or(default_log)),
        };

        let credentials_file = file.credentials_file.clone();
        let credentials = match (&credentials_file, &action) {
            (Some(p), Action::Freeze | Action::DryRun) => Some(
                Credentials::load(p)
                    .with_context(|| format!("credentials_file in {}", config_file.display()))?,
            ),
            (Some(p), Action::Thaw | Action::Status { .. } | Action::Watchdog { .. }) => {
                Credentials::load(p)
                    .map_err(|e| {
                        config_warnings.push(format!(
                            "credentials_file in {}: {e:#}; going on without credentials",
                            config_file.display()
                        ))
                    })
                    .ok()
            }
            // Installing, uninstalling and checking report a bad file instead of refusing.
            _ => None,
        };

        let mut timeout_note = None;
        if hook.is_some_and(|h| h.platform == Some(Platform::Azure)) {
            if let Some((limit, note)) = azure_limit(&root).filter(|(l, _)| *l < timeout) {
                timeout = limit;
                timeout_note = Some(note);
            }
        }
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
            timeout_note,
        })
    }
}

/// How a command treats a config file it cannot use, in part or at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnBadFile {
    /// Refuse to run: a freeze (or dry-run, install, uninstall) has changed nothing yet.
    Refuse,
    /// Report it as a failed check.
    Report,
    /// Warn and go on with the rest and the defaults: a thaw, `status` and the watchdog never
    /// stop for a config file, or IRIS would stay frozen.
    Warn,
}

/// The config file as a command goes on with it.
struct Settled {
    file: FileConfig,
    found: bool,
    error: Option<String>,
    warnings: Vec<String>,
}

impl OnBadFile {
    fn of(command: &Command) -> OnBadFile {
        match command {
            Command::Thaw(_) | Command::Status(_) | Command::Watchdog(_) => OnBadFile::Warn,
            Command::Check(_) => OnBadFile::Report,
            _ => OnBadFile::Refuse,
        }
    }

    fn settle(self, loaded: Result<Loaded>) -> Result<Settled> {
        let mut settled = Settled {
            file: FileConfig::default(),
            found: true,
            error: None,
            warnings: Vec::new(),
        };
        let (why, going_on) = match loaded {
            Ok(l) if l.problems.is_empty() => {
                settled.file = l.file;
                settled.found = l.found;
                return Ok(settled);
            }
            // The other keys still stand.
            Ok(l) => {
                settled.file = l.file;
                let ignored = match l.problems.len() {
                    1 => "going on without that setting",
                    _ => "going on without those settings",
                };
                (l.problems.join("; "), ignored)
            }
            Err(e) => (format!("{e:#}"), "going on without it, with the defaults"),
        };
        match self {
            OnBadFile::Refuse => bail!("{why}"),
            OnBadFile::Report => settled.error = Some(why),
            OnBadFile::Warn => settled.warnings.push(format!(
                "{why}; {going_on} (a freeze refuses to run until the file is fixed)"
            )),
        }
        Ok(settled)
    }
}

/// Best effort: stderr may be a closed pipe or a full disk; that never stops a thaw.
fn warn_on_stderr(warnings: &[String]) {
    let mut err = std::io::stderr().lock();
    for w in warnings {
        let _ = writeln!(err, "iris-freeze: warning: {w}");
    }
}

/// `path` (absolute) under `root`.
pub(crate) fn under(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

/// How long Azure lets a hook run: `timeoutInSeconds` (default 10, at most 1800) less one poll
/// (Azure notices an exit only at its next poll) and a second of margin. Azure does not kill a
/// late pre-script; it snapshots anyway, so we must be done (or rolled back) by then.
pub(crate) fn azure_limit(root: &Path) -> Option<(Duration, String)> {
    let path = under(root, crate::commands::install::AZURE_JSON);
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

/// A setting's names on the command line, in the environment and in the config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Names {
    /// clap's id of the option.
    id: &'static str,
    flag: &'static str,
    env: &'static str,
    key: &'static str,
}

const INSTANCES: Names = Names {
    id: "instances",
    flag: "--instance",
    env: "IRIS_FREEZE_INSTANCES",
    key: "instances",
};

/// Where a value came from: a message names the one place to fix.
#[derive(Debug, Clone, Copy)]
enum Source<'a> {
    Flag(Names),
    Env(Names),
    File(Names, &'a Path),
}

impl Source<'_> {
    /// A flag's or its variable's value (clap merges the two).
    fn given(names: Names, from_env: bool) -> Source<'static> {
        if from_env {
            Source::Env(names)
        } else {
            Source::Flag(names)
        }
    }
}

impl fmt::Display for Source<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(n) => f.write_str(n.flag),
            Source::Env(n) => f.write_str(n.env),
            Source::File(n, path) => write!(f, "{} in {}", n.key, path.display()),
        }
    }
}

/// A setting in seconds, with its true bounds.
#[derive(Debug, Clone, Copy)]
struct Seconds {
    names: Names,
    /// The value must stay below this, or at most this when `upper_included`.
    upper: f64,
    upper_included: bool,
    /// Why the bound is where it is, if it needs saying.
    why: &'static str,
    example: u32,
}

/// Longer than any snapshot platform waits for a hook.
const TIMEOUT: Seconds = Seconds {
    names: Names {
        id: "timeout",
        flag: "--timeout",
        env: "IRIS_FREEZE_TIMEOUT",
        key: "timeout",
    },
    upper: 3600.0,
    upper_included: true,
    why: "",
    example: 30,
};

const MAX_FREEZE: Seconds = Seconds {
    names: Names {
        id: "max_freeze",
        flag: "--max-freeze",
        env: "IRIS_FREEZE_MAX_FREEZE",
        key: "max_freeze",
    },
    upper: IRIS_BLOCKS_AFTER.as_secs() as f64,
    upper_included: false,
    why: ", when IRIS starts blocking writers (ExternalFreezeTimeOut)",
    example: 300,
};

impl Seconds {
    /// The bounds, as messages state them.
    fn rule(&self) -> String {
        let (how, upper) = if self.upper_included {
            ("at most", self.upper)
        } else {
            ("below", self.upper)
        };
        format!("more than 0 and {how} {upper} seconds{}", self.why)
    }

    /// A flag or environment value if given (empty counts as not given), else the file's
    /// (already checked), else the default.
    fn resolve(
        &self,
        given: Option<&str>,
        from_env: bool,
        file: Option<Duration>,
        default: Duration,
    ) -> Result<Duration> {
        match given.filter(|g| !g.trim().is_empty()) {
            Some(text) => self.parse_text(text, Source::given(self.names, from_env)),
            None => Ok(file.unwrap_or(default)),
        }
    }

    /// Fractions allowed, an `s` suffix tolerated.
    fn parse_text(&self, text: &str, src: Source) -> Result<Duration> {
        let t = text.trim();
        let secs = t
            .strip_suffix('s')
            .unwrap_or(t)
            .parse::<f64>()
            .map_err(|_| {
                anyhow::anyhow!(
                    "{src} must be a number of seconds, e.g. {}; got {:?}",
                    self.example,
                    text
                )
            })?;
        self.within(secs, src)
    }

    /// The config file's value: a TOML number. Its text is never quoted back.
    fn parse_value(&self, v: &toml::Value, path: &Path) -> Result<Duration, String> {
        let src = Source::File(self.names, path);
        let secs = match v {
            toml::Value::Integer(i) => *i as f64,
            toml::Value::Float(f) => *f,
            _ => {
                return Err(format!(
                    "{src} must be a number of seconds, e.g. {}",
                    self.example
                ));
            }
        };
        self.within(secs, src).map_err(|e| e.to_string())
    }

    fn within(&self, secs: f64, src: Source) -> Result<Duration> {
        let below_upper = secs < self.upper || (self.upper_included && secs == self.upper);
        // NaN fails both comparisons.
        if !(secs > 0.0 && below_upper) {
            bail!("{src} must be {}; got {secs}", self.rule());
        }
        Ok(Duration::from_secs_f64(secs))
    }
}

/// Names from `--instance` or `IRIS_FREEZE_INSTANCES`. The variable present but empty means
/// "not set"; an empty name anywhere else (`-i ""`, `,`, `A,,B`) is an error, never "every
/// instance".
fn given_instances(raw: &[String], from_env: bool, action: &Action) -> Result<Vec<InstanceName>> {
    if from_env && raw.len() <= 1 && raw.iter().all(|s| s.trim().is_empty()) {
        return Ok(Vec::new());
    }
    let default = match action {
        Action::Thaw => "thaw what the last freeze recorded",
        Action::DryRun => "check every running instance",
        _ => "freeze every running instance",
    };
    instance_names(raw, Source::given(INSTANCES, from_env), default)
}

/// Parses names, dropping repeats (names are case-insensitive); `default` says what leaving
/// the setting out does.
fn instance_names(raw: &[String], src: Source, default: &str) -> Result<Vec<InstanceName>> {
    let mut out: Vec<InstanceName> = Vec::new();
    for s in raw {
        if s.trim().is_empty() {
            let fix = match src {
                Source::Flag(_) => {
                    "name an instance as `iris qlist` shows it, or leave out \
                                    --instance"
                }
                Source::Env(_) => "list names separated by commas (IRIS,HS), or unset it",
                Source::File(..) => "list names as `iris qlist` shows them, or remove the line",
            };
            bail!(
                "{src} has an empty instance name (an empty variable in a script?), which never \
                 means every instance: {fix} to {default}"
            );
        }
        let name = InstanceName::parse(s).with_context(|| src.to_string())?;
        if !out.iter().any(|n| n.matches(name.as_str())) {
            out.push(name);
        }
    }
    Ok(out)
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

    fn err(r: Result<Duration>) -> String {
        format!("{:#}", r.unwrap_err())
    }

    #[test]
    fn seconds_parse_with_fractions_and_a_suffix() {
        let flag = Source::Flag(TIMEOUT.names);
        assert_eq!(
            TIMEOUT.parse_text("30", flag).unwrap(),
            Duration::from_secs(30)
        );
        assert_eq!(
            TIMEOUT.parse_text(" 2.5s", flag).unwrap(),
            Duration::from_millis(2500)
        );
        assert_eq!(
            TIMEOUT.parse_text("3600", flag).unwrap(),
            Duration::from_secs(3600)
        );
        for bad in ["0", "-1", "abc", "NaN", "inf", "3601", "1e400"] {
            assert!(TIMEOUT.parse_text(bad, flag).is_err(), "{bad:?} accepted");
        }
        assert!(MAX_FREEZE.parse_text("599.9", flag).is_ok());
        assert!(MAX_FREEZE.parse_text("600", flag).is_err());
    }

    #[test]
    fn range_messages_state_the_true_bounds_and_the_source() {
        let e = err(TIMEOUT.parse_text("0", Source::Flag(TIMEOUT.names)));
        assert_eq!(
            e,
            "--timeout must be more than 0 and at most 3600 seconds; got 0"
        );
        let e = err(MAX_FREEZE.parse_text("9999", Source::Env(MAX_FREEZE.names)));
        assert!(
            e.starts_with(
                "IRIS_FREEZE_MAX_FREEZE must be more than 0 and below 600 seconds, when IRIS"
            ),
            "{e}"
        );
        assert!(!e.contains("3600"), "{e}");
        let e = err(TIMEOUT.parse_text("soon", Source::Env(TIMEOUT.names)));
        assert_eq!(
            e,
            "IRIS_FREEZE_TIMEOUT must be a number of seconds, e.g. 30; got \"soon\""
        );
        let path = Path::new("/etc/iris-freeze.toml");
        let e = TIMEOUT
            .parse_value(&toml::Value::String("abc".into()), path)
            .unwrap_err();
        assert_eq!(
            e,
            "timeout in /etc/iris-freeze.toml must be a number of seconds, e.g. 30"
        );
        let e = MAX_FREEZE
            .parse_value(&toml::Value::Integer(700), path)
            .unwrap_err();
        assert!(
            e.starts_with("max_freeze in /etc/iris-freeze.toml must be more than 0 and below 600"),
            "{e}"
        );
    }

    #[test]
    fn precedence_flag_then_file_then_default() {
        let d = Duration::from_secs(30);
        let nine = Some(Duration::from_secs(9));
        let r = |given| TIMEOUT.resolve(given, false, nine, d).unwrap();
        assert_eq!(r(Some("5")), Duration::from_secs(5));
        // An empty flag or variable is "not set".
        assert_eq!(r(Some(" ")), Duration::from_secs(9));
        assert_eq!(r(None), Duration::from_secs(9));
        assert_eq!(TIMEOUT.resolve(None, false, None, d).unwrap(), d);
    }

    #[test]
    fn duplicate_names_collapse_case_insensitively() {
        let names = ["IRIS".into(), "iris".into(), "HS".into()];
        let v = given_instances(&names, false, &Action::Freeze).unwrap();
        assert_eq!(v.len(), 2);
    }

    #[test]
    fn an_empty_name_is_an_error_but_an_empty_variable_is_unset() {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // IRIS_FREEZE_INSTANCES= (present, empty): not set.
        assert!(
            given_instances(&strings(&[""]), true, &Action::Freeze)
                .unwrap()
                .is_empty()
        );
        assert!(
            given_instances(&[], true, &Action::Freeze)
                .unwrap()
                .is_empty()
        );
        let e = format!(
            "{:#}",
            given_instances(&strings(&["", ""]), true, &Action::Freeze).unwrap_err()
        );
        assert!(
            e.starts_with("IRIS_FREEZE_INSTANCES has an empty instance name"),
            "{e}"
        );
        assert!(
            e.contains("unset it to freeze every running instance"),
            "{e}"
        );
        let e = format!(
            "{:#}",
            given_instances(&strings(&["A", "", "B"]), true, &Action::Freeze).unwrap_err()
        );
        assert!(e.contains("empty instance name"), "{e}");
        let e = format!(
            "{:#}",
            given_instances(&strings(&[""]), false, &Action::Thaw).unwrap_err()
        );
        assert!(
            e.starts_with("--instance has an empty instance name"),
            "{e}"
        );
        assert!(e.contains("to thaw what the last freeze recorded"), "{e}");
        let e = format!(
            "{:#}",
            given_instances(&strings(&["x;rm"]), false, &Action::Freeze).unwrap_err()
        );
        assert!(e.starts_with("--instance: invalid instance name"), "{e}");
    }

    #[test]
    fn a_bad_file_stops_a_freeze_is_reported_by_check_and_warned_about_by_a_thaw() {
        let half_bad = || {
            Ok(Loaded {
                file: FileConfig {
                    state_dir: Some(PathBuf::from("/srv/state")),
                    ..FileConfig::default()
                },
                found: true,
                problems: vec!["unknown key `timout`".into()],
            })
        };
        let e = format!("{:#}", OnBadFile::Refuse.settle(half_bad()).err().unwrap());
        assert!(e.contains("timout"), "{e}");
        let s = OnBadFile::Report.settle(half_bad()).unwrap();
        assert!(s.error.unwrap().contains("timout"));
        let s = OnBadFile::Warn.settle(half_bad()).unwrap();
        assert!(s.error.is_none());
        assert_eq!(s.file.state_dir, Some(PathBuf::from("/srv/state")));
        assert!(
            s.warnings[0].contains("going on without that setting"),
            "{:?}",
            s.warnings
        );
        let unusable = anyhow::anyhow!("it is a symlink");
        let s = OnBadFile::Warn.settle(Err(unusable)).unwrap();
        assert!(s.file.state_dir.is_none());
        assert!(
            s.warnings[0].contains("it is a symlink; going on without it, with the defaults"),
            "{:?}",
            s.warnings
        );
    }

    #[test]
    fn azure_limit_reads_the_plugin_json() {
        let tmp = tempfile::tempdir().unwrap();
        let p = under(tmp.path(), crate::commands::install::AZURE_JSON);
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
