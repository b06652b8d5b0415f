//! What root may run, read or write: only what no other user could have changed. A path is
//! trusted when the file and every directory above it are owned by root (or by the user running
//! iris-freeze) and not writable by others, nor by a group other than root's (gid 0); a sticky
//! directory such as /tmp is a safe ancestor of an entry a trusted user owns, since nobody else
//! can rename or remove that entry. Programs follow sudo's secure_path rule: not writable by
//! any group either. A snapshot that is only read (`snapshot.rs`) is the exception: any owner,
//! but never a path that leaves it.

mod program;
mod search;
mod snapshot;
mod tree;

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use nix::libc;

pub(crate) use program::program;
pub(crate) use search::{executables, find_program};
pub(crate) use snapshot::Snapshot;
pub(crate) use tree::Tree;

const STICKY: u32 = 0o1000;

/// How strict the write-permission rule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    /// Data files: not writable by others. Their directories: not by a group but root's either.
    Data,
    /// Programs root runs, and their directories: not writable by group or others.
    Program,
}

impl Rule {
    fn forbidden(self) -> u32 {
        match self {
            Rule::Data => 0o002,
            Rule::Program => 0o022,
        }
    }

    /// The write bits a directory of group `gid` must not have: a group other than root's is
    /// "somebody else" for a directory, since any member could swap what is inside it.
    fn forbidden_in_dir(self, gid: u32) -> u32 {
        if gid == 0 { self.forbidden() } else { 0o022 }
    }
}

/// Root, or the user we run as (the instance owner, in a container).
pub(crate) fn trusted_owner(uid: u32) -> bool {
    uid == 0 || uid == nix::unistd::geteuid().as_raw()
}

/// Why `md` (of `path`, a directory above something we use) lets another user in, if it does.
fn unsafe_dir(path: &Path, md: &fs::Metadata, rule: Rule) -> Option<String> {
    if !trusted_owner(md.uid()) {
        return Some(format!(
            "{} is owned by uid {}, so that user could swap what is inside it",
            path.display(),
            md.uid()
        ));
    }
    let mode = md.mode();
    // A sticky directory lets others add entries but not replace ours.
    if mode & rule.forbidden_in_dir(md.gid()) != 0 && mode & STICKY == 0 {
        let who = if mode & 0o002 != 0 {
            "others".to_string()
        } else {
            format!("its group (gid {})", md.gid())
        };
        return Some(format!(
            "{} can be written by {who} (mode {:o}), so they could swap what is inside it",
            path.display(),
            mode & 0o7777
        ));
    }
    None
}

/// Checks every directory from `/` down to `dir` itself (none a symlink: the path is taken as
/// given, so give it canonical where symlinks are expected).
pub(crate) fn check_dir_chain(dir: &Path, rule: Rule) -> Result<()> {
    walk_dir_chain(dir, rule, None)
}

/// As [`check_dir_chain`] with [`Rule::Data`], creating each missing directory (with `mode`)
/// only once the one above it has passed: check first, then touch, so that nothing is created
/// or followed under a directory another user could change.
pub(crate) fn create_dir_chain(dir: &Path, mode: u32) -> Result<()> {
    walk_dir_chain(dir, Rule::Data, Some(mode))
}

fn walk_dir_chain(dir: &Path, rule: Rule, create: Option<u32>) -> Result<()> {
    if !dir.is_absolute() {
        bail!("{} is not an absolute path", dir.display());
    }
    let mut cur = PathBuf::from("/");
    let mut chain = vec![cur.clone()];
    for c in dir.components() {
        match c {
            Component::Normal(part) => {
                cur.push(part);
                chain.push(cur.clone());
            }
            Component::ParentDir => bail!("{} contains '..'", dir.display()),
            _ => {}
        }
    }
    for d in chain {
        let md = match (fs::symlink_metadata(&d), create) {
            (Err(e), Some(mode)) if e.kind() == std::io::ErrorKind::NotFound => make_dir(&d, mode)?,
            (md, _) => md.with_context(|| format!("cannot read {}", d.display()))?,
        };
        if md.file_type().is_symlink() {
            bail!(
                "{} is a symlink: name the real directory instead",
                d.display()
            );
        }
        if !md.is_dir() {
            bail!("{} is not a directory", d.display());
        }
        if let Some(why) = unsafe_dir(&d, &md, rule) {
            bail!("{why}");
        }
    }
    Ok(())
}

/// Creates one directory (never through a symlink: mkdir(2) does not follow the last one) and
/// returns what is there now, for the caller to check like any other.
fn make_dir(d: &Path, mode: u32) -> Result<fs::Metadata> {
    use std::os::unix::fs::DirBuilderExt;
    match fs::DirBuilder::new().mode(mode).create(d) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            return Err(e).with_context(|| format!("cannot create {}", d.display()));
        }
        _ => {}
    }
    fs::symlink_metadata(d).with_context(|| format!("cannot read {}", d.display()))
}

/// How a file is opened: never through a symlink, never blocking (a FIFO with no writer or
/// reader), close-on-exec.
fn options(append: bool, mode: u32) -> OpenOptions {
    let mut o = OpenOptions::new();
    if append {
        o.append(true).create(true).mode(mode);
    } else {
        o.read(true);
    }
    o.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
    o
}

/// The opened file itself: regular, trusted owner, not writable as `rule` forbids; its
/// metadata when it passes.
fn check_opened(path: &Path, f: &File, rule: Rule) -> Result<fs::Metadata> {
    let md = f
        .metadata()
        .with_context(|| format!("cannot read {}", path.display()))?;
    if !md.is_file() {
        bail!(
            "{} is not a regular file (a FIFO, device or directory): refusing it",
            path.display()
        );
    }
    if !trusted_owner(md.uid()) {
        bail!(
            "{} is owned by uid {}: refusing a file another user controls (fix with `chown \
             root {}`)",
            path.display(),
            md.uid(),
            path.display()
        );
    }
    if md.mode() & rule.forbidden() != 0 {
        let (who, fix) = match rule {
            Rule::Data => ("others", "o-w"),
            Rule::Program => ("group or others", "go-w"),
        };
        bail!(
            "{} can be written by {who} (mode {:o}): refusing it (fix with `chmod {fix} {}`)",
            path.display(),
            md.mode() & 0o7777,
            path.display()
        );
    }
    Ok(md)
}

/// Opens `path` for appending (created with `mode`), checked as [`check_opened`] says, in a
/// trusted directory chain.
pub(crate) fn open_append(path: &Path, mode: u32) -> Result<File> {
    check_parent(path)?;
    open_append_here(path, mode).map(|(f, _)| f)
}

/// `path` opened as [`open_append`] does, with its length, once its directory chain is
/// created as [`create_dir_chain`] does (with `dir_mode`): the chain is walked once.
pub(crate) fn create_and_open_append(path: &Path, dir_mode: u32, mode: u32) -> Result<(File, u64)> {
    let dir = path.parent().unwrap_or(Path::new(""));
    create_dir_chain(dir, dir_mode)
        .with_context(|| format!("refusing {}: its directory is not safe", path.display()))?;
    open_append_here(path, mode)
}

/// The open and the file's own checks, its directory chain already checked.
fn open_append_here(path: &Path, mode: u32) -> Result<(File, u64)> {
    let f = options(true, mode)
        .open(path)
        .map_err(|e| open_error(path, e))?;
    let len = check_opened(path, &f, Rule::Data)?.len();
    // Writes should block no more than a regular file's do; O_NONBLOCK only guarded the open.
    clear_nonblock(&f);
    Ok((f, len))
}

/// Opens `path` for reading, checked as [`check_opened`] says, in a trusted directory chain.
/// `Ok(None)` when it does not exist.
pub(crate) fn open_read(path: &Path) -> Result<Option<File>> {
    open_read_as(path, Rule::Data)
}

/// As [`open_read`], with the file itself held to `rule`: a file that decides what root runs
/// (the config file) takes `Rule::Program`, not writable by its group either.
pub(crate) fn open_read_as(path: &Path, rule: Rule) -> Result<Option<File>> {
    check_parent(path)?;
    let f = match options(false, 0).open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(open_error(path, e)),
        Ok(f) => f,
    };
    check_opened(path, &f, rule)?;
    clear_nonblock(&f);
    Ok(Some(f))
}

fn check_parent(path: &Path) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => bail!("{} is not an absolute path", path.display()),
    };
    check_dir_chain(parent, Rule::Data)
        .with_context(|| format!("refusing {}: its directory is not safe", path.display()))
}

fn open_error(path: &Path, e: std::io::Error) -> anyhow::Error {
    if e.raw_os_error() == Some(libc::ELOOP) {
        return anyhow::anyhow!(
            "{} is a symlink: refusing to follow it (name the real file)",
            path.display()
        );
    }
    // What O_NONBLOCK turns a FIFO with no reader into, instead of an open that never returns.
    if e.raw_os_error() == Some(libc::ENXIO) {
        return anyhow::anyhow!(
            "{} is a FIFO or socket with nobody reading it: refusing it (name a regular file)",
            path.display()
        );
    }
    anyhow::Error::new(e).context(format!("cannot open {}", path.display()))
}

fn clear_nonblock(f: &File) {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    if let Ok(flags) = fcntl(f, FcntlArg::F_GETFL) {
        let flags = OFlag::from_bits_truncate(flags) - OFlag::O_NONBLOCK;
        let _ = fcntl(f, FcntlArg::F_SETFL(flags));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    pub(super) fn chmod(p: &Path, mode: u32) {
        fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn a_sticky_tmp_is_a_safe_ancestor_and_a_world_writable_dir_is_not() {
        let tmp = tempfile::tempdir().unwrap();
        chmod(tmp.path(), 0o755);
        let dir = tmp.path().join("d");
        fs::create_dir(&dir).unwrap();
        assert!(check_dir_chain(&dir, Rule::Data).is_ok());
        chmod(&dir, 0o777);
        let e = format!("{:#}", check_dir_chain(&dir, Rule::Data).unwrap_err());
        assert!(e.contains("written by others"), "{e}");
        chmod(&dir, 0o1777);
        assert!(check_dir_chain(&dir, Rule::Data).is_ok());
        // Group-writable: only when the group is root's.
        chmod(&dir, 0o775);
        nix::unistd::chown(&dir, None, Some(nix::unistd::Gid::from_raw(0))).ok();
        if fs::metadata(&dir).unwrap().gid() == 0 {
            assert!(check_dir_chain(&dir, Rule::Data).is_ok());
        }
        assert!(check_dir_chain(&dir, Rule::Program).is_err());
        if nix::unistd::geteuid().is_root() {
            nix::unistd::chown(&dir, None, Some(nix::unistd::Gid::from_raw(12345))).unwrap();
        }
        if fs::metadata(&dir).unwrap().gid() != 0 {
            let e = format!("{:#}", check_dir_chain(&dir, Rule::Data).unwrap_err());
            assert!(e.contains("written by its group (gid "), "{e}");
        }
    }

    #[test]
    fn nothing_is_created_under_an_unsafe_directory() {
        let tmp = tempfile::tempdir().unwrap();
        chmod(tmp.path(), 0o755);
        let shared = tmp.path().join("shared");
        fs::create_dir(&shared).unwrap();
        chmod(&shared, 0o777);
        let e = format!(
            "{:#}",
            create_dir_chain(&shared.join("a/b"), 0o700).unwrap_err()
        );
        assert!(e.contains("written by others"), "{e}");
        assert!(!shared.join("a").exists());
        // Nor through a symlink.
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&shared, &link).unwrap();
        assert!(create_dir_chain(&link.join("a"), 0o700).is_err());
        assert!(!shared.join("a").exists());
        let ok = tmp.path().join("x/y");
        create_dir_chain(&ok, 0o700).unwrap();
        assert_eq!(fs::metadata(&ok).unwrap().mode() & 0o777, 0o700);
    }

    #[test]
    fn symlinks_fifos_and_writable_files_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        chmod(tmp.path(), 0o755);
        let target = tmp.path().join("target");
        fs::write(&target, "secret line\n").unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = format!("{:#}", open_read(&link).unwrap_err());
        assert!(e.contains("symlink"), "{e}");
        let e = format!("{:#}", open_append(&link, 0o600).unwrap_err());
        assert!(e.contains("symlink"), "{e}");
        let fifo = tmp.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let e = format!("{:#}", open_read(&fifo).unwrap_err());
        assert!(e.contains("not a regular file"), "{e}");
        chmod(&target, 0o666);
        assert!(open_read(&target).is_err());
        chmod(&target, 0o660);
        assert!(open_read(&target).unwrap().is_some());
        let e = format!("{:#}", open_read_as(&target, Rule::Program).unwrap_err());
        assert!(e.contains("chmod go-w"), "{e}");
        chmod(&target, 0o600);
        assert!(open_read(&target).unwrap().is_some());
        assert!(open_read(&tmp.path().join("missing")).unwrap().is_none());
        let log = tmp.path().join("new.log");
        open_append(&log, 0o600).unwrap();
        assert_eq!(fs::metadata(&log).unwrap().mode() & 0o777, 0o600);
    }
}
