//! What iris-freeze froze, kept in the state dir (tmpfs `/run/iris-freeze` by default: a reboot
//! thaws IRIS anyway) so that `thaw` needs no discovery and never touches a freeze it did not make.

use std::collections::BTreeMap;
use std::fs;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Local, SecondsFormat};
use serde::{Deserialize, Serialize};

use crate::discovery::{Kind, SessionCmd};

const STATE_FILE: &str = "state.json";

/// Where an instance stands in our freeze.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// ExternalFreeze was called (or is about to be) and not confirmed: it may be frozen.
    Freezing,
    /// ExternalFreeze answered 5: frozen by us.
    Frozen,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub kind: Kind,
    /// How to reach the instance at thaw time without running discovery again.
    pub session: SessionCmd,
    pub phase: Phase,
    /// When the freeze was confirmed (or attempted, while `Freezing`), RFC 3339.
    pub since: String,
    /// The pid of the iris-freeze that froze it.
    pub pid: u32,
}

impl Record {
    pub fn new(kind: Kind, session: SessionCmd, phase: Phase) -> Record {
        Record {
            kind,
            session,
            phase,
            since: now_rfc3339(),
            pid: std::process::id(),
        }
    }

    /// Seconds since `since`, when it parses.
    pub fn age_secs(&self) -> Option<f64> {
        let t = DateTime::parse_from_rfc3339(&self.since).ok()?;
        Some((Local::now().fixed_offset() - t).num_milliseconds() as f64 / 1000.0)
    }
}

pub fn now_rfc3339() -> String {
    Local::now().to_rfc3339_opts(SecondsFormat::Millis, false)
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Instance name → what we did to it.
    pub instances: BTreeMap<String, Record>,
}

/// The state directory.
pub struct StateDir {
    dir: PathBuf,
}

impl StateDir {
    /// Opens (creating 0700 if needed) the state directory.
    pub fn open(dir: &Path) -> Result<StateDir> {
        match fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
        {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(e).with_context(|| {
                    format!(
                        "cannot create the state dir {} (run as root, or point --state-dir / \
                         IRIS_FREEZE_STATE_DIR at a writable directory)",
                        dir.display()
                    )
                });
            }
        }
        if !dir.is_dir() {
            bail!("state dir {} exists but is not a directory", dir.display());
        }
        Ok(StateDir {
            dir: dir.to_path_buf(),
        })
    }

    pub fn file(&self) -> PathBuf {
        self.dir.join(STATE_FILE)
    }

    /// The recorded state; a missing file is an empty state.
    pub fn load(&self) -> Result<State> {
        let path = self.file();
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(State::default()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is damaged; `iris-freeze status` shows what is frozen, `iris-freeze thaw \
                 --instance NAME` thaws an instance; then delete the file",
                path.display()
            )
        })
    }

    /// Replaces the state atomically (write a temp file, fsync, rename); an empty state
    /// removes the file.
    pub fn save(&self, state: &State) -> Result<()> {
        let path = self.file();
        if state.instances.is_empty() {
            return match fs::remove_file(&path) {
                Err(e) if e.kind() != ErrorKind::NotFound => {
                    Err(e).with_context(|| format!("cannot remove {}", path.display()))
                }
                _ => Ok(()),
            };
        }
        let tmp = self
            .dir
            .join(format!(".{STATE_FILE}.{}", std::process::id()));
        let json = serde_json::to_vec_pretty(state)?;
        let write = || -> std::io::Result<()> {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()?;
            fs::rename(&tmp, &path)
        };
        write().with_context(|| format!("cannot write {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn rec() -> Record {
        Record::new(
            Kind::Iris,
            SessionCmd {
                program: "/usr/bin/iris".into(),
                prefix: vec!["session".into(), "IRIS".into(), "-U%SYS".into()],
            },
            Phase::Frozen,
        )
    }

    #[test]
    fn round_trip_and_empty_removes_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let sd = StateDir::open(&tmp.path().join("state")).unwrap();
        assert_eq!(
            fs::metadata(tmp.path().join("state"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
        assert_eq!(sd.load().unwrap(), State::default());
        let mut s = State::default();
        s.instances.insert("IRIS".into(), rec());
        sd.save(&s).unwrap();
        assert_eq!(
            fs::metadata(sd.file()).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(sd.load().unwrap(), s);
        sd.save(&State::default()).unwrap();
        assert!(!sd.file().exists());
    }

    #[test]
    fn damaged_state_names_the_file_and_the_fix() {
        let tmp = tempfile::tempdir().unwrap();
        let sd = StateDir::open(tmp.path()).unwrap();
        fs::write(sd.file(), "{not json").unwrap();
        let err = format!("{:#}", sd.load().unwrap_err());
        assert!(err.contains("state.json is damaged"), "{err}");
        assert!(err.contains("thaw --instance"), "{err}");
    }

    #[test]
    fn age_is_measured_from_since() {
        let mut r = rec();
        r.since = (Local::now() - chrono::Duration::seconds(90))
            .to_rfc3339_opts(SecondsFormat::Millis, false);
        let age = r.age_secs().unwrap();
        assert!((89.0..100.0).contains(&age), "{age}");
    }
}
