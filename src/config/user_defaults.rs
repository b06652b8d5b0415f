//! The defaults of a user other than root (the instance owner, `irisowner`, in a container with
//! no writable /etc or /run): the state dir and the logs go under one directory of that
//! user's, which the trust rules accept (owned by the user or root, nothing above it writable
//! by others). The history, the proof that travels with a snapshot, goes to persistent disk
//! where one is known: the IRIS container's durable %SYS directory, else $HOME. Options,
//! variables and the config file still win.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::host::trust::{self, Rule};

/// Where a non-root user's defaults live, and why there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserDefaults {
    /// The state dir and the logs.
    pub(crate) base: PathBuf,
    /// Which candidate it is, for `status` and `check`.
    pub(crate) from: &'static str,
    /// The history's directory: persistent where one is known (it must outlive a reboot and
    /// be inside the volume snapshotted), else `base`.
    pub(crate) history_dir: PathBuf,
    pub(crate) history_from: &'static str,
}

/// The durable %SYS directory of InterSystems' containers (docs.intersystems.com, "Durable
/// %SYS for Persistent Instance Data": ISC_DATA_DIRECTORY names it, on the persistent volume
/// that holds the instance's databases and journals).
const DURABLE_SYS: &str = "ISC_DATA_DIRECTORY";

/// How `history_from` names the durable %SYS directory.
const FROM_DURABLE_SYS: &str = "$ISC_DATA_DIRECTORY, the durable %SYS volume";

impl UserDefaults {
    /// The defaults for the user we run as: `None` for root, who keeps /run, /var and /etc.
    pub(crate) fn for_this_user() -> Option<UserDefaults> {
        let uid = nix::unistd::geteuid().as_raw();
        if uid == 0 {
            return None;
        }
        let var = |name| std::env::var_os(name).map(PathBuf::from);
        let mut d = pick(uid, var("XDG_RUNTIME_DIR"), var("HOME"));
        (d.history_dir, d.history_from) =
            pick_history(uid, var(DURABLE_SYS), var("HOME")).unwrap_or((d.base.clone(), d.from));
        Some(d)
    }

    pub(crate) fn state_dir(&self) -> PathBuf {
        self.base.join("state")
    }

    pub(crate) fn history_file(&self) -> PathBuf {
        self.history_dir.join("history.jsonl")
    }

    pub(crate) fn freeze_log(&self) -> PathBuf {
        self.base.join("freeze.log")
    }

    pub(crate) fn thaw_log(&self) -> PathBuf {
        self.base.join("thaw.log")
    }

    /// Creates (0700) each of our directories one of `paths` is in, so that the logs and the
    /// history can be opened there; a failure shows later, where a file cannot be opened, with
    /// its own message.
    pub(crate) fn create_for(&self, paths: &[&Path]) {
        for dir in [&self.base, &self.history_dir] {
            if paths.iter().any(|p| p.starts_with(dir)) {
                let _ = trust::create_dir_chain(dir, 0o700);
            }
        }
    }
}

/// The history's persistent place, if there is one of ours: `$ISC_DATA_DIRECTORY/iris-freeze`
/// (IRIS's durable %SYS, in the snapshot with the databases), else
/// `$HOME/.local/state/iris-freeze`.
fn pick_history(
    uid: u32,
    durable: Option<PathBuf>,
    home: Option<PathBuf>,
) -> Option<(PathBuf, &'static str)> {
    if let Some(dir) = durable.filter(|d| own_dir(d, uid)) {
        return Some((dir.join("iris-freeze"), FROM_DURABLE_SYS));
    }
    home.filter(|d| own_dir(d, uid))
        .map(|d| (d.join(".local/state/iris-freeze"), "$HOME"))
}

/// `path`, or the nearest directory above it that exists, is on tmpfs: in memory, gone at
/// reboot and in no volume snapshot.
pub(crate) fn on_tmpfs(path: &Path) -> bool {
    use nix::sys::statfs::{TMPFS_MAGIC, statfs};
    path.ancestors()
        .find_map(|p| statfs(p).ok())
        .is_some_and(|fs| fs.filesystem_type() == TMPFS_MAGIC)
}

/// The first usable of: `$XDG_RUNTIME_DIR/iris-freeze` (the user's own runtime dir, 0700),
/// `$HOME/.local/state/iris-freeze`, the same under the home the password database names,
/// `TMP/iris-freeze-UID` (TMP: `$TMPDIR`, else /tmp), else a private `TMP/iris-freeze-UID-*`
/// (see [`private_temp`]). Any user can create `TMP/iris-freeze-UID` first, so it is used
/// only while absent or ours: a squatted one must not deny every freeze of this user.
fn pick(uid: u32, runtime: Option<PathBuf>, home: Option<PathBuf>) -> UserDefaults {
    let (base, from) = if let Some(dir) = runtime.filter(|d| private_dir(d, uid)) {
        (dir.join("iris-freeze"), "$XDG_RUNTIME_DIR")
    } else if let Some(dir) = home.filter(|d| own_dir(d, uid)) {
        (dir.join(".local/state/iris-freeze"), "$HOME")
    } else if let Some(dir) = passwd_home(uid).filter(|d| own_dir(d, uid)) {
        (
            dir.join(".local/state/iris-freeze"),
            "the home directory in the password database",
        )
    } else {
        in_temp(uid, &temp_dir())
    };
    UserDefaults {
        history_dir: base.clone(),
        history_from: from,
        base,
        from,
    }
}

/// `$TMPDIR` when it is an absolute path, else /tmp.
fn temp_dir() -> PathBuf {
    Some(std::env::temp_dir())
        .filter(|d| d.is_absolute())
        .unwrap_or_else(|| PathBuf::from("/tmp"))
}

fn passwd_home(uid: u32) -> Option<PathBuf> {
    let user = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)).ok()??;
    Some(user.dir)
}

/// `tmp/iris-freeze-UID` while it is absent or ours, else a private directory beside it.
fn in_temp(uid: u32, tmp: &Path) -> (PathBuf, &'static str) {
    let usual = tmp.join(format!("iris-freeze-{uid}"));
    match fs::symlink_metadata(&usual) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (usual, "the temp directory"),
        Ok(md) if ours_private(&md, uid) => (usual, "the temp directory"),
        _ => match private_temp(uid, tmp) {
            Some(dir) => (
                dir,
                "a private temp directory (iris-freeze-UID there is another user's)",
            ),
            // Refused when used, with the reason.
            None => (usual, "the temp directory"),
        },
    }
}

/// A real directory of `uid`'s that nobody else can write.
fn ours_private(md: &fs::Metadata, uid: u32) -> bool {
    md.is_dir() && !md.file_type().is_symlink() && md.uid() == uid && md.mode() & 0o022 == 0
}

/// The first (by name) `tmp/iris-freeze-UID-*` that is ours and private; made (0700, under a
/// name nobody can guess ahead, as mkdtemp(3) does) when there is none. Every process of the
/// user then finds the same one: nobody else can make a directory owned by this user, nor
/// remove one of theirs from a sticky temp directory. Two first runs at once each make one,
/// then both take the first by name.
fn private_temp(uid: u32, tmp: &Path) -> Option<PathBuf> {
    let prefix = format!("iris-freeze-{uid}-");
    let find = || {
        let mut ours: Vec<PathBuf> = fs::read_dir(tmp)
            .ok()?
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .filter(|e| fs::symlink_metadata(e.path()).is_ok_and(|md| ours_private(&md, uid)))
            .map(|e| e.path())
            .collect();
        ours.sort();
        ours.into_iter().next()
    };
    if let Some(found) = find() {
        return Some(found);
    }
    let random = crate::util::random::unguessable();
    let dir = tmp.join(format!("{prefix}{random:016x}"));
    fs::DirBuilder::new().mode(0o700).create(&dir).ok()?;
    find()
}

/// XDG's runtime dir: ours, mode 0700, and nothing above it writable by others.
fn private_dir(dir: &Path, uid: u32) -> bool {
    own_dir(dir, uid) && fs::metadata(dir).is_ok_and(|md| md.mode() & 0o077 == 0)
}

/// An absolute, real directory of ours (or root's, for a HOME like /), that nobody else could
/// swap: the trust rules for data.
fn own_dir(dir: &Path, uid: u32) -> bool {
    dir.is_absolute()
        && fs::symlink_metadata(dir).is_ok_and(|md| md.is_dir() && (md.uid() == uid))
        && trust::check_dir_chain(dir, Rule::Data).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn me() -> u32 {
        nix::unistd::geteuid().as_raw()
    }

    /// A temp dir (kept while it lives) holding the directories `a` and `b`.
    fn two_dirs(a: &str, b: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join(a), t.path().join(b));
        fs::create_dir(&a).unwrap();
        fs::create_dir(&b).unwrap();
        (t, a, b)
    }

    #[test]
    fn the_runtime_dir_then_home_then_tmp() {
        let (t, run, home) = two_dirs("run", "home");
        fs::set_permissions(&run, fs::Permissions::from_mode(0o700)).unwrap();
        fs::set_permissions(&home, fs::Permissions::from_mode(0o755)).unwrap();
        // The temp dir itself is ours and 0700, under a sticky /tmp.
        let p = pick(me(), Some(run.clone()), Some(home.clone()));
        assert_eq!(p.base, run.join("iris-freeze"));
        // A runtime dir others may read is not private.
        fs::set_permissions(&run, fs::Permissions::from_mode(0o755)).unwrap();
        let p = pick(me(), Some(run.clone()), Some(home.clone()));
        assert_eq!(p.base, home.join(".local/state/iris-freeze"));
        // A HOME others may write is no place for what decides a thaw.
        fs::set_permissions(&home, fs::Permissions::from_mode(0o777)).unwrap();
        let p = pick(me(), None, Some(home.clone()));
        assert_ne!(p.from, "$HOME");
        // Relative or missing: not used.
        let p = pick(me(), Some("run".into()), Some(t.path().join("gone")));
        assert!(!p.from.starts_with('$'), "{}", p.from);
    }

    #[test]
    fn a_temp_dir_another_user_made_first_is_passed_over_for_a_private_one() {
        let t = tempfile::tempdir().unwrap();
        let tmp = t.path();
        let (usual, from) = in_temp(me(), tmp);
        assert_eq!(usual, tmp.join(format!("iris-freeze-{}", me())));
        assert_eq!(from, "the temp directory");
        // Squatted: a directory that is not ours (or not private).
        fs::create_dir(&usual).unwrap();
        fs::set_permissions(&usual, fs::Permissions::from_mode(0o777)).unwrap();
        let (first, from) = in_temp(me(), tmp);
        assert_ne!(first, usual);
        assert!(from.contains("another user's"), "{from}");
        assert_eq!(fs::metadata(&first).unwrap().mode() & 0o777, 0o700);
        // Every later run finds the same one.
        assert_eq!(in_temp(me(), tmp).0, first);
        assert_eq!(private_temp(me(), tmp), Some(first));
    }

    #[test]
    fn the_history_goes_to_durable_sys_then_home() {
        let (t, durable, home) = two_dirs("dur", "home");
        let h = pick_history(me(), Some(durable.clone()), Some(home.clone()));
        assert_eq!(h, Some((durable.join("iris-freeze"), FROM_DURABLE_SYS)));
        // Another's durable directory (or none): HOME.
        let h = pick_history(me() + 1, Some(durable.clone()), None);
        assert_eq!(h, None);
        let h = pick_history(me(), Some(t.path().join("gone")), Some(home.clone()));
        assert_eq!(h, Some((home.join(".local/state/iris-freeze"), "$HOME")));
        assert_eq!(pick_history(me(), None, None), None);
    }

    #[test]
    fn tmpfs_is_seen_from_a_path_not_yet_created() {
        if on_tmpfs(Path::new("/dev/shm")) {
            assert!(on_tmpfs(Path::new("/dev/shm/no/such/history.jsonl")));
        }
    }

    #[test]
    fn a_dir_of_another_user_is_not_ours() {
        let t = tempfile::tempdir().unwrap();
        assert!(!own_dir(t.path(), me() + 1));
        assert!(own_dir(t.path(), me()));
    }
}
