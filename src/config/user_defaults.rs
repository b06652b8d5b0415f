//! The defaults of a user other than root (the instance owner, `irisowner`, in a container with
//! no writable /etc or /run): the state dir, the history and the logs all go under one
//! directory of that user's, which the trust rules accept (owned by the user or root, nothing
//! above it writable by others). Options, variables and the config file still win.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::host::trust::{self, Rule};

/// Where a non-root user's defaults live, and why there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserDefaults {
    pub(crate) base: PathBuf,
    /// Which candidate it is, for `status` and `check`.
    pub(crate) from: &'static str,
}

impl UserDefaults {
    /// The defaults for the user we run as: `None` for root, who keeps /run, /var and /etc.
    pub(crate) fn for_this_user() -> Option<UserDefaults> {
        let uid = nix::unistd::geteuid().as_raw();
        if uid == 0 {
            return None;
        }
        let var = |name| std::env::var_os(name).map(PathBuf::from);
        Some(pick(uid, var("XDG_RUNTIME_DIR"), var("HOME")))
    }

    pub(crate) fn state_dir(&self) -> PathBuf {
        self.base.join("state")
    }

    pub(crate) fn history_file(&self) -> PathBuf {
        self.base.join("history.jsonl")
    }

    pub(crate) fn freeze_log(&self) -> PathBuf {
        self.base.join("freeze.log")
    }

    pub(crate) fn thaw_log(&self) -> PathBuf {
        self.base.join("thaw.log")
    }

    /// Creates the directory (0700), so that the logs and the history can be opened in it;
    /// a failure shows later, where a file cannot be opened, with its own message.
    pub(crate) fn create(&self) {
        let _ = fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.base);
    }
}

/// The first usable of: `$XDG_RUNTIME_DIR/iris-freeze` (the user's own runtime dir, 0700),
/// `$HOME/.local/state/iris-freeze`, `/tmp/iris-freeze-UID` (in a sticky /tmp, only we can
/// create or remove that entry; a foreign one is refused when it is used).
fn pick(uid: u32, runtime: Option<PathBuf>, home: Option<PathBuf>) -> UserDefaults {
    if let Some(dir) = runtime.filter(|d| private_dir(d, uid)) {
        return UserDefaults {
            base: dir.join("iris-freeze"),
            from: "$XDG_RUNTIME_DIR",
        };
    }
    if let Some(dir) = home.filter(|d| own_dir(d, uid)) {
        return UserDefaults {
            base: dir.join(".local/state/iris-freeze"),
            from: "$HOME",
        };
    }
    UserDefaults {
        base: PathBuf::from(format!("/tmp/iris-freeze-{uid}")),
        from: "/tmp",
    }
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

    #[test]
    fn the_runtime_dir_then_home_then_tmp() {
        let t = tempfile::tempdir().unwrap();
        let run = t.path().join("run");
        let home = t.path().join("home");
        fs::create_dir(&run).unwrap();
        fs::create_dir(&home).unwrap();
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
        assert_eq!(p.base, PathBuf::from(format!("/tmp/iris-freeze-{}", me())));
        assert_eq!(p.from, "/tmp");
        // Relative or missing: not used.
        let p = pick(me(), Some("run".into()), Some(t.path().join("gone")));
        assert_eq!(p.from, "/tmp");
    }

    #[test]
    fn a_dir_of_another_user_is_not_ours() {
        let t = tempfile::tempdir().unwrap();
        assert!(!own_dir(t.path(), me() + 1));
        assert!(own_dir(t.path(), me()));
    }
}
