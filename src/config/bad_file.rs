//! How a command goes on with a config file it cannot use, in part or at all: a freeze refuses,
//! `check` reports, a thaw warns and goes on (it never stops for a config file, or IRIS would
//! stay frozen).

use std::io::Write;

use anyhow::{Result, bail};

use super::file::{FileConfig, Loaded};
use crate::cli::Command;

/// How a command treats a config file it cannot use, in part or at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OnBadFile {
    /// Refuse to run: a freeze (or dry-run, install) has changed nothing yet.
    Refuse,
    /// Report it as a failed check.
    Report,
    /// Warn and go on with the rest and the defaults: a thaw, `status` and the watchdog never
    /// stop for a config file, or IRIS would stay frozen; nor does `uninstall`, or a package
    /// removal (which runs it) would fail until the file is fixed.
    Warn,
}

/// The config file as a command goes on with it.
pub(super) struct Settled {
    pub(super) file: FileConfig,
    pub(super) found: bool,
    pub(super) error: Option<String>,
    pub(super) warnings: Vec<String>,
}

impl OnBadFile {
    pub(super) fn of(command: &Command) -> OnBadFile {
        match command {
            Command::Thaw(_)
            | Command::Status(_)
            | Command::RestorePlan(_)
            | Command::Verify(_)
            | Command::History(_)
            | Command::Watchdog(_)
            | Command::Uninstall(_) => OnBadFile::Warn,
            Command::Check(_) => OnBadFile::Report,
            _ => OnBadFile::Refuse,
        }
    }

    pub(super) fn settle(self, loaded: Result<Loaded>) -> Result<Settled> {
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
pub(super) fn warn_on_stderr(warnings: &[String]) {
    let mut err = std::io::stderr().lock();
    for w in warnings {
        let _ = writeln!(
            err,
            "iris-freeze: warning: {}",
            crate::util::escape::terminal_text(w)
        );
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

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
}
