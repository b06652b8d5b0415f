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
    /// Recorded before the watchdog is armed, and kept by a rollback that could not confirm
    /// its thaw: it may be frozen.
    Freezing,
    /// ExternalFreeze was called at `since`, and this record is rewritten if it fails: frozen by
    /// us, unless the freeze process was killed during the call (the status command's FROZEN
    /// column, which asks IRIS, tells).
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
    /// The documented emergency resume (`iris stat NAME -W`), when there is a program for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency: Option<SessionCmd>,
}

impl Record {
    pub fn new(kind: Kind, session: SessionCmd, phase: Phase) -> Record {
        Record {
            kind,
            session,
            phase,
            since: now_rfc3339(),
            pid: std::process::id(),
            emergency: None,
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

/// The armed dead-man switch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watchdog {
    /// Names this arming; a watchdog whose token is no longer here has been disarmed.
    pub token: String,
    pub pid: u32,
    /// When it thaws, RFC 3339 and unix ms.
    pub deadline: String,
    pub deadline_ms: i64,
    /// `systemd unit NAME` or `detached process`.
    pub how: String,
}

/// What the watchdog did when its deadline came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoThaw {
    pub at: String,
    pub instances: Vec<String>,
    /// Every instance confirmed thawed.
    pub all_thawed: bool,
    /// A `thaw` has reported it (exit 2) already.
    pub reported: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Instance name → what we did to it.
    #[serde(default)]
    pub instances: BTreeMap<String, Record>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watchdog: Option<Watchdog>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_thaw: Option<AutoThaw>,
    /// When the last `thaw` started: a `freeze` that began before it and is still running is a
    /// late pre hook, and must not leave anything frozen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_thaw_started: Option<StartMark>,
}

/// When a process started, on a clock that neither NTP nor an admin can move: clock ticks
/// since boot (from /proc), with the boot it counts from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartMark {
    pub boot_id: String,
    pub ticks: u64,
}

impl StartMark {
    /// This process's start.
    pub fn of_self() -> Option<StartMark> {
        Some(StartMark {
            boot_id: std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
                .ok()?
                .trim()
                .to_string(),
            ticks: crate::lock::own_start_ticks()?,
        })
    }

    /// Whether `self` started after `other`, in the same boot. Ticks are 10 ms; a tie counts
    /// as "not after": a post hook follows its pre hook by seconds, while a freeze right after
    /// a thaw (a retry, the next backup) must not be refused.
    pub fn after(&self, other: &StartMark) -> bool {
        self.boot_id == other.boot_id && self.ticks > other.ticks
    }
}

impl State {
    pub fn is_empty(&self) -> bool {
        self == &State::default()
    }
}

pub fn now_ms() -> i64 {
    Local::now().timestamp_millis()
}

/// The state directory.
pub struct StateDir {
    dir: PathBuf,
}

impl StateDir {
    /// Opens (creating 0700 if needed) the state directory, refusing one that another user owns
    /// or others can write: whoever can write it decides what `thaw` thaws.
    pub fn open(dir: &Path) -> Result<StateDir> {
        // Usually it is there: one lstat(2), no mkdir (a thaw's start is freeze window).
        let md = match fs::symlink_metadata(dir) {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .with_context(|| {
                        format!(
                            "cannot create the state dir {} (run as root, or point --state-dir \
                             / IRIS_FREEZE_STATE_DIR at a writable directory)",
                            dir.display()
                        )
                    })?;
                fs::symlink_metadata(dir)
            }
            other => other,
        }
        .with_context(|| format!("cannot read the state dir {}", dir.display()))?;
        check_safe(dir, &md)?;
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

    /// Replaces the state atomically (write a temp file, rename); an empty state
    /// removes the file.
    pub fn save(&self, state: &State) -> Result<()> {
        let path = self.file();
        if state.is_empty() {
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
        let json = serde_json::to_vec(state)?;
        // No fsync: the state only has to outlive our process, not the machine (a reboot thaws
        // IRIS anyway), and on a disk-backed state dir an fsync would cost milliseconds of
        // freeze window. The rename keeps it whole.
        let write = || -> std::io::Result<()> {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(&json)?;
            fs::rename(&tmp, &path)
        };
        write().with_context(|| format!("cannot write {}", path.display()))
    }
}

/// `md` is the dir's own metadata (lstat: a symlink is seen as one).
fn check_safe(dir: &Path, md: &fs::Metadata) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    if md.file_type().is_symlink() {
        bail!(
            "state dir {} is a symlink: refusing it (point --state-dir at a real directory)",
            dir.display()
        );
    }
    if !md.is_dir() {
        bail!("state dir {} exists but is not a directory", dir.display());
    }
    let me = nix::unistd::geteuid().as_raw();
    if md.uid() != me {
        bail!(
            "state dir {} is owned by uid {}, not by the user running iris-freeze (uid {me}): \
             refusing it; fix with `chown {me} {}` or use another --state-dir",
            dir.display(),
            md.uid(),
            dir.display()
        );
    }
    if md.mode() & 0o022 != 0 {
        bail!(
            "state dir {} can be written by group or others (mode {:o}): refusing it; fix with \
             `chmod 700 {}`",
            dir.display(),
            md.mode() & 0o7777,
            dir.display()
        );
    }
    Ok(())
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
    fn unsafe_state_dirs_are_refused_with_the_fix() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("s");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
        let err = format!("{:#}", StateDir::open(&dir).err().unwrap());
        assert!(err.contains("chmod 700"), "{err}");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o750)).unwrap();
        assert!(StateDir::open(&dir).is_ok());
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        let err = format!("{:#}", StateDir::open(&link).err().unwrap());
        assert!(err.contains("symlink"), "{err}");
    }

    #[test]
    fn start_marks_compare_within_one_boot_only() {
        let m = |b: &str, t| StartMark {
            boot_id: b.into(),
            ticks: t,
        };
        assert!(m("a", 11).after(&m("a", 10)));
        assert!(!m("a", 10).after(&m("a", 10)));
        assert!(!m("a", 9).after(&m("a", 10)));
        assert!(
            !m("b", 99).after(&m("a", 10)),
            "a mark from another boot means nothing"
        );
        let me = StartMark::of_self().unwrap();
        assert!(!me.after(&StartMark::of_self().unwrap()));
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
