//! Where things are: the root, the config file (read), the binaries' directories, the state
//! dir, the history, metrics and log files, and journald's socket, each from its flag or
//! variable, the config file, a non-root user's defaults or the system's.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use super::bad_file::{OnBadFile, Settled};
use super::file::{FileConfig, load_file};
use super::source::Source;
use super::user_defaults::UserDefaults;
use super::{
    DEFAULT_BIN_DIRS, DEFAULT_CONFIG, DEFAULT_FREEZE_LOG, DEFAULT_STATE_DIR, DEFAULT_THAW_LOG,
};
use crate::cli::Command;
use crate::host::journal::DEFAULT_SOCKET;
use crate::settings::{STATE_DIR, env};
use crate::util::under;

/// An empty variable (IRIS_FREEZE_ROOT=) means "not set", as a missing one would.
pub(super) fn unset_if_empty(path: Option<PathBuf>) -> Option<PathBuf> {
    path.filter(|p| !p.as_os_str().is_empty())
}

pub(super) fn root(given: Option<PathBuf>) -> Result<PathBuf> {
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
pub(super) fn bin_dirs(given: Option<String>, file: &FileConfig) -> Vec<PathBuf> {
    match (given, &file.bin_dirs) {
        (Some(dirs), _) => std::env::split_paths(&dirs)
            .filter(|p| !p.as_os_str().is_empty())
            .collect(),
        (None, Some(v)) => v.clone(),
        (None, None) => DEFAULT_BIN_DIRS.iter().map(PathBuf::from).collect(),
    }
}

pub(super) fn state_dir(
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
pub(super) fn state_dir_from(
    given: &Option<PathBuf>,
    from_env: bool,
    file: &FileConfig,
    config_file: &Path,
) -> Option<String> {
    match given {
        Some(_) if from_env => Some(Source::Env(&STATE_DIR).to_string()),
        Some(_) => None,
        None => file
            .state_dir
            .as_ref()
            .map(|_| Source::File(&STATE_DIR, config_file).to_string()),
    }
}

/// The config file in effect and what came of reading it: refused, reported or warned about as
/// the command needs (`OnBadFile`); a file named by the user (not the default) that is missing
/// is a warning.
pub(super) fn read_config_file(
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
pub(super) fn metrics_file(given: Option<PathBuf>, file: &FileConfig) -> Option<PathBuf> {
    given
        .or(file.metrics_file.clone())
        .map(|p| std::path::absolute(&p).unwrap_or(p))
}

/// Absolute, so that the watchdog (started elsewhere, under systemd in /) writes this file.
pub(super) fn history_file(
    given: Option<PathBuf>,
    file: &FileConfig,
    user: Option<&UserDefaults>,
) -> PathBuf {
    let path = given
        .or(file.history_file.clone())
        .or(user.map(UserDefaults::history_file))
        .unwrap_or_else(|| PathBuf::from(crate::host::history::DEFAULT_HISTORY_FILE));
    std::path::absolute(&path).unwrap_or(path)
}

/// journald's socket, or none when the journal is off: `IRIS_FREEZE_JOURNAL` over the config's
/// `journal`, on by default. A value that is neither on nor off is a warning, never a failed
/// thaw.
pub(super) fn journal(
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

/// The freeze and the thaw log without `--log-file`: IRIS_FREEZE_LOG_FILE's (both), else the
/// config file's, else a non-root user's own, else the system's.
pub(super) fn default_logs(
    from_env: Option<PathBuf>,
    file: &FileConfig,
    user: Option<&UserDefaults>,
) -> (PathBuf, PathBuf) {
    if let Some(both) = unset_if_empty(from_env) {
        return (both.clone(), both);
    }
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
