//! The state dir on disk: opened once, every file in it read and written through that descriptor.
//! The state file holds whatever JSON the caller stores; this module knows its name, not its
//! contents.

use std::fmt;
use std::fs::{self, File};
use std::io::{ErrorKind, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, openat, renameat};
use nix::libc;
use nix::sys::stat::{FileStat, Mode, fchmod, fstat, fstatat};
use nix::unistd::{UnlinkatFlags, unlinkat};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::host::state::StartMark;
use crate::host::trust::{self, Rule};

const STATE_FILE: &str = "state.json";
/// When the last thaw started (see `StateDir::mark_thaw`).
const THAW_MARK: &str = "thaw-started";

/// The state directory, opened once and used through its descriptor: whoever could swap the
/// directory or a file in it would decide what root thaws (and with which program). So every
/// directory above it must be root's (or ours) and not writable by others, the directory
/// itself ours and not writable by group or others, and after the open no path is looked up
/// again. The watchdog's token (readable in its argv by anyone) is no secret: it only tells
/// one arming from the next; the state dir's safety is what protects the state.
pub(crate) struct StateDir {
    dir: PathBuf,
    fd: OwnedFd,
}

/// The state file could not be parsed (or is not a regular file). Callers that can do without
/// it (the watchdog) tell it from other errors by downcasting.
#[derive(Debug)]
pub(crate) struct Damaged {
    path: PathBuf,
    why: String,
}

impl Damaged {
    /// The file and what is wrong with it, without the recovery.
    pub(crate) fn what(&self) -> String {
        format!("{} is damaged ({})", self.path.display(), self.why)
    }
}

impl fmt::Display for Damaged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: run `iris-freeze status` to see which instances are frozen, `iris-freeze thaw \
             --instance NAME` for each one it shows frozen, then delete {}",
            self.what(),
            self.path.display()
        )
    }
}

impl std::error::Error for Damaged {}

/// What changes whenever the state file is replaced or removed (a rename makes a new inode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    ino: u64,
    mtime: (i64, i64),
}

impl StateDir {
    /// Opens (creating 0700 if needed) the state directory, refusing one that is unsafe (see
    /// [`StateDir`]). `named_by`: the setting that named `dir` when not `--state-dir` (its
    /// variable, the config file), for the advice.
    pub(crate) fn open(dir: &Path, named_by: Option<&str>) -> Result<StateDir> {
        let fd = match open_dir(dir) {
            Err(Errno::ENOENT) => {
                create(dir, named_by)?;
                open_dir(dir).map_err(|e| open_error(dir, e, named_by))?
            }
            other => other.map_err(|e| open_error(dir, e, named_by))?,
        };
        StateDir::checked(dir, fd, named_by)
    }

    /// As [`open`](Self::open), but never creates it: `None` when it does not exist.
    pub(crate) fn open_existing(dir: &Path, named_by: Option<&str>) -> Result<Option<StateDir>> {
        match open_dir(dir) {
            Err(Errno::ENOENT) => Ok(None),
            other => StateDir::checked(
                dir,
                other.map_err(|e| open_error(dir, e, named_by))?,
                named_by,
            )
            .map(Some),
        }
    }

    /// The opened directory itself first (its owner and mode), then every directory above it.
    fn checked(dir: &Path, fd: OwnedFd, named_by: Option<&str>) -> Result<StateDir> {
        let md =
            fstat(&fd).with_context(|| format!("cannot read the state dir {}", dir.display()))?;
        check_safe(dir, &md, named_by)?;
        check_parents(dir, false)?;
        Ok(StateDir {
            dir: dir.to_path_buf(),
            fd,
        })
    }

    pub(crate) fn file(&self) -> PathBuf {
        self.dir.join(STATE_FILE)
    }

    /// The recorded state; a missing file is `T::default()`, an unreadable one [`Damaged`], as
    /// is one `check` finds fault with (its `Err` says what).
    pub(crate) fn read_state<T: DeserializeOwned + Default>(
        &self,
        check: impl FnOnce(&T) -> Result<(), String>,
    ) -> Result<T> {
        let path = self.file();
        let damaged = |why: String| {
            anyhow::Error::new(Damaged {
                path: path.clone(),
                why,
            })
        };
        let text = match self.read(STATE_FILE) {
            Ok(Some(t)) => t,
            Ok(None) => return Ok(T::default()),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ELOOP) | Some(libc::ENXIO)) => {
                return Err(damaged(
                    "a symlink or special file, not a regular file".into(),
                ));
            }
            Err(e) if e.kind() == ErrorKind::InvalidData => return Err(damaged(e.to_string())),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let state: T = serde_json::from_slice(&text).map_err(|e| damaged(e.to_string()))?;
        check(&state).map_err(damaged)?;
        Ok(state)
    }

    /// A file of the state dir, never through a symlink, never blocking; `None` when missing.
    fn read(&self, name: &str) -> std::io::Result<Option<Vec<u8>>> {
        let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
        let fd = match openat(&self.fd, name, flags, Mode::empty()) {
            Err(Errno::ENOENT) => return Ok(None),
            Err(e) => return Err(e.into()),
            Ok(fd) => fd,
        };
        let mut f = File::from(fd);
        if !f.metadata()?.is_file() {
            return Err(std::io::Error::new(
                ErrorKind::InvalidData,
                "not a regular file",
            ));
        }
        let mut buf = Vec::new();
        f.read_to_end(&mut buf)?;
        Ok(Some(buf))
    }

    /// Replaces the state atomically (write a temp file, rename); `None` (nothing to record)
    /// removes the file.
    pub(crate) fn write_state<T: Serialize>(&self, state: Option<&T>) -> Result<()> {
        let path = self.file();
        let Some(state) = state else {
            return match unlinkat(&self.fd, STATE_FILE, UnlinkatFlags::NoRemoveDir) {
                Err(e) if e != Errno::ENOENT => {
                    Err(e).with_context(|| format!("cannot remove {}", path.display()))
                }
                _ => Ok(()),
            };
        };
        let json = serde_json::to_vec(state)?;
        self.write_file(STATE_FILE, &json)
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// Replaces `name` in the state dir with `bytes` (a temp file, then one rename).
    fn write_file(&self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        let tmp = format!(".{name}.{}", std::process::id());
        // No fsync: the state only has to outlive our process, not the machine (a reboot thaws
        // IRIS anyway), and on a disk-backed state dir an fsync would cost milliseconds of
        // freeze window. The rename keeps it whole.
        let flags = OFlag::O_WRONLY
            | OFlag::O_CREAT
            | OFlag::O_TRUNC
            | OFlag::O_NOFOLLOW
            | OFlag::O_CLOEXEC;
        let fd = openat(
            &self.fd,
            tmp.as_str(),
            flags,
            Mode::from_bits_truncate(0o600),
        )?;
        File::from(fd).write_all(bytes)?;
        renameat(&self.fd, tmp.as_str(), &self.fd, name)?;
        Ok(())
    }

    /// Records that a thaw started at `mark`, before it waits for the host lock: a freeze that
    /// began earlier (a late pre hook) then refuses, whichever of the two gets the lock first.
    /// A file of its own: the thaw does not hold the lock yet, so it must not touch state.json.
    pub(crate) fn mark_thaw(&self, mark: &StartMark) -> Result<()> {
        let json = serde_json::to_vec(mark)?;
        self.write_file(THAW_MARK, &json)
            .with_context(|| format!("cannot write {}", self.dir.join(THAW_MARK).display()))
    }

    /// When the last thaw started, if one recorded it (an unreadable mark counts as none).
    pub(crate) fn last_thaw(&self) -> Option<StartMark> {
        let bytes = self.read(THAW_MARK).ok()??;
        serde_json::from_slice(&bytes).ok()
    }

    /// Moves a damaged state file aside as `state.json.damaged-<unix seconds>` (0600), so that
    /// the next run starts clean and the file stays for whoever wants to read it. Returns where.
    pub(crate) fn move_aside(&self) -> Result<PathBuf> {
        let secs = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let name = format!("{STATE_FILE}.damaged-{secs}");
        let to = self.dir.join(&name);
        renameat(&self.fd, STATE_FILE, &self.fd, name.as_str()).with_context(|| {
            format!("cannot move {} to {}", self.file().display(), to.display())
        })?;
        // Only a regular file gets a mode: a symlink is never followed.
        let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
        if let Ok(fd) = openat(&self.fd, name.as_str(), flags, Mode::empty()) {
            let _ = fchmod(&fd, Mode::from_bits_truncate(0o600));
        }
        Ok(to)
    }

    /// The state file's identity and mtime (one fstatat(2)); `None` when there is none.
    pub(crate) fn stamp(&self) -> Option<Stamp> {
        let st = fstatat(&self.fd, STATE_FILE, AtFlags::AT_SYMLINK_NOFOLLOW).ok()?;
        Some(Stamp {
            ino: st.st_ino,
            mtime: (st.st_mtime, st.st_mtime_nsec),
        })
    }

    /// The host lock's file, `lock` in the state dir (created 0600).
    pub(crate) fn lock_file(&self) -> Result<File> {
        self.a_lock_file("lock")
    }

    /// The run lock's file, `run.lock` in the state dir (created 0600).
    pub(crate) fn run_lock_file(&self) -> Result<File> {
        self.a_lock_file("run.lock")
    }

    fn a_lock_file(&self, name: &str) -> Result<File> {
        let flags = OFlag::O_RDWR | OFlag::O_CREAT | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        openat(&self.fd, name, flags, Mode::from_bits_truncate(0o600))
            .map(File::from)
            .with_context(|| {
                format!(
                    "cannot open the lock file {}",
                    self.dir.join(name).display()
                )
            })
    }
}

fn open_dir(dir: &Path) -> nix::Result<OwnedFd> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    nix::fcntl::open(dir, flags, Mode::empty())
}

/// The advice for a user who may not use a directory: root's state dir is not theirs to take.
/// It names the setting to change (`named_by`, else `--state-dir`).
fn not_yours(named_by: Option<&str>) -> String {
    let root = nix::unistd::geteuid().is_root();
    match (named_by, root) {
        (None, true) => "use another --state-dir".into(),
        (None, false) => "run as root, or pass a `--state-dir` you own".into(),
        (Some(by), true) => format!("set {by} to another directory"),
        (Some(by), false) => format!("run as root, or set {by} to a directory you own"),
    }
}

/// Check first, then touch: the directories above are checked (and created) one by one before
/// the state dir is made in them.
fn create(dir: &Path, named_by: Option<&str>) -> Result<()> {
    check_parents(dir, true)?;
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        other => other.with_context(|| {
            format!(
                "cannot create the state dir {} ({})",
                dir.display(),
                not_yours(named_by)
            )
        }),
    }
}

fn open_error(dir: &Path, e: Errno, named_by: Option<&str>) -> anyhow::Error {
    let md = fs::symlink_metadata(dir);
    if md.as_ref().is_ok_and(|m| m.file_type().is_symlink()) {
        return anyhow::anyhow!(
            "state dir {} is a symlink: refusing it (point {} at a real directory)",
            dir.display(),
            named_by.unwrap_or("--state-dir")
        );
    }
    if md.as_ref().is_ok_and(|m| !m.is_dir()) {
        return anyhow::anyhow!("state dir {} exists but is not a directory", dir.display());
    }
    if matches!(e, Errno::EACCES | Errno::EPERM) {
        return anyhow::anyhow!(
            "cannot open the state dir {}: permission denied ({})",
            dir.display(),
            not_yours(named_by)
        );
    }
    anyhow::Error::new(e).context(format!("cannot open the state dir {}", dir.display()))
}

/// Every directory above the state dir (created 0700 when missing and `create`): whoever can
/// write one of them could swap the state dir.
fn check_parents(dir: &Path, create: bool) -> Result<()> {
    let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) else {
        bail!("the state dir {} must be an absolute path", dir.display());
    };
    let checked = if create {
        trust::create_dir_chain(parent, 0o700)
    } else {
        trust::check_dir_chain(parent, Rule::Data)
    };
    checked.with_context(|| {
        format!(
            "refusing the state dir {}: whoever can write a directory above it could swap it \
             and decide what root thaws; keep it in a directory only root can write (the \
             default /run/iris-freeze, or fix the owner and mode of the directory named)",
            dir.display()
        )
    })
}

/// `md` is the opened directory's own metadata.
fn check_safe(dir: &Path, md: &FileStat, named_by: Option<&str>) -> Result<()> {
    let me = nix::unistd::geteuid().as_raw();
    if md.st_uid != me {
        bail!(
            "state dir {} is owned by uid {}, not by the user running iris-freeze (uid {me}): \
             refusing it, since its owner decides what `thaw` thaws ({})",
            dir.display(),
            md.st_uid,
            not_yours(named_by)
        );
    }
    if md.st_mode & 0o022 != 0 {
        bail!(
            "state dir {} can be written by group or others (mode {:o}): refusing it; fix with \
             `chmod 700 {}`",
            dir.display(),
            md.st_mode & 0o7777,
            dir.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::os::unix::fs::PermissionsExt;

    /// A stand-in for what the caller stores.
    type S = BTreeMap<String, u32>;

    fn load(sd: &StateDir) -> Result<S> {
        sd.read_state(|_: &S| Ok(()))
    }

    fn save(sd: &StateDir, s: &S) {
        sd.write_state((!s.is_empty()).then_some(s)).unwrap()
    }

    fn one() -> S {
        S::from([("IRIS".into(), 1)])
    }

    #[test]
    fn round_trip_and_empty_removes_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let sd = StateDir::open(&tmp.path().join("state"), None).unwrap();
        assert_eq!(
            fs::metadata(tmp.path().join("state"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
        assert_eq!(load(&sd).unwrap(), S::default());
        let s = one();
        save(&sd, &s);
        assert_eq!(
            fs::metadata(sd.file()).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(load(&sd).unwrap(), s);
        save(&sd, &S::default());
        assert!(!sd.file().exists());
    }

    #[test]
    fn damaged_state_names_the_file_and_the_fix() {
        let tmp = tempfile::tempdir().unwrap();
        let sd = StateDir::open(tmp.path(), None).unwrap();
        fs::write(sd.file(), "{not json").unwrap();
        let err = format!("{:#}", load(&sd).unwrap_err());
        assert!(err.contains("state.json is damaged"), "{err}");
        assert!(err.contains("thaw --instance"), "{err}");
        // What the caller's check refuses is damage too, in its words.
        save(&sd, &one());
        let err = sd.read_state(|_: &S| Err("no good".into())).unwrap_err();
        let damaged = err.downcast_ref::<Damaged>().unwrap();
        assert!(damaged.what().ends_with("is damaged (no good)"), "{err:#}");
    }

    #[test]
    fn unsafe_state_dirs_are_refused_with_the_fix() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("s");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
        let err = format!("{:#}", StateDir::open(&dir, None).err().unwrap());
        assert!(err.contains("chmod 700"), "{err}");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o750)).unwrap();
        assert!(StateDir::open(&dir, None).is_ok());
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        let err = format!("{:#}", StateDir::open(&link, None).err().unwrap());
        assert!(err.contains("symlink"), "{err}");
    }

    #[test]
    fn a_damaged_file_is_moved_aside_0600_and_the_next_load_is_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let sd = StateDir::open(tmp.path(), None).unwrap();
        fs::write(sd.file(), "{").unwrap();
        fs::set_permissions(sd.file(), fs::Permissions::from_mode(0o644)).unwrap();
        let err = load(&sd).unwrap_err();
        assert!(err.downcast_ref::<Damaged>().is_some(), "{err:#}");
        let to = sd.move_aside().unwrap();
        let name = to.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("state.json.damaged-"), "{name}");
        assert_eq!(fs::read_to_string(&to).unwrap(), "{");
        assert_eq!(
            fs::metadata(&to).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(load(&sd).unwrap(), S::default());
        // A symlink is damage too, and is never followed.
        std::os::unix::fs::symlink(&to, sd.file()).unwrap();
        assert!(load(&sd).unwrap_err().downcast_ref::<Damaged>().is_some());
    }

    #[test]
    fn the_open_directory_is_used_even_after_a_swap() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("s");
        let sd = StateDir::open(&dir, None).unwrap();
        let s = one();
        save(&sd, &s);
        fs::rename(&dir, tmp.path().join("old")).unwrap();
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join(STATE_FILE), "{}").unwrap();
        assert_eq!(load(&sd).unwrap(), s);
        assert!(sd.stamp().is_some());
    }

    #[test]
    fn open_existing_never_creates_and_parents_must_be_safe() {
        let tmp = tempfile::tempdir().unwrap();
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let dir = tmp.path().join("s");
        assert!(StateDir::open_existing(&dir, None).unwrap().is_none());
        assert!(!dir.exists());
        let shared = tmp.path().join("shared");
        fs::create_dir(&shared).unwrap();
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o777)).unwrap();
        let err = format!(
            "{:#}",
            StateDir::open(&shared.join("s"), None).err().unwrap()
        );
        assert!(err.contains("refusing the state dir"), "{err}");
        assert!(err.contains("written by others"), "{err}");
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o1777)).unwrap();
        assert!(StateDir::open(&shared.join("s"), None).is_ok());
    }
}
