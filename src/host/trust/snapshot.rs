//! A tree that is only read, never written nor run from: a snapshot mounted elsewhere, or the
//! restored VM's own `/` (`verify --root DIR`). Its files may be anyone's (the instance owner's,
//! or uids this host does not know), so no owner or mode is checked: what is read here only
//! informs a verdict, is bounded, and is escaped where it is shown. What is refused is anything
//! that would read outside the tree or block: each component is opened at the directory before
//! it without following a symlink, a symlink is resolved inside the tree (an absolute one from
//! the tree's root, `..` never above it), as the system booted from it would see it; a file
//! must be regular, and is opened non-blocking.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use nix::errno::Errno;
use nix::fcntl::AtFlags;
use nix::fcntl::{OFlag, openat, readlinkat};
use nix::sys::stat::{FileStat, Mode, SFlag, fstat, fstatat};

use super::tree::stack;

/// How many symlinks one path may go through, as the kernel's limit (ELOOP).
const MAX_LINKS: usize = 40;
/// The most names one directory listing returns: a journal directory holds far fewer.
const MAX_NAMES: usize = 100_000;

pub(crate) struct Snapshot {
    root: PathBuf,
    fd: OwnedFd,
}

/// What is at a path of the tree.
enum Found {
    Dir(OwnedFd),
    File(OwnedFd),
    Missing,
}

impl Snapshot {
    /// The tree at `root` (named by the user: a symlink there is followed).
    pub(crate) fn open(root: &Path) -> Result<Snapshot> {
        let fd = nix::fcntl::open(
            root,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .with_context(|| format!("cannot open the tree {}", root.display()))?;
        Ok(Snapshot {
            root: root.to_path_buf(),
            fd,
        })
    }

    /// Where `sys` (a path as the snapshotted system names it) is shown: under the root.
    pub(crate) fn show(&self, sys: &str) -> String {
        crate::util::under(&self.root, sys).display().to_string()
    }

    /// The regular file at `sys`; `None` when it (or a directory above it) is missing.
    pub(crate) fn file(&self, sys: &str) -> Result<Option<File>> {
        match self.walk(sys)? {
            Found::File(fd) => Ok(Some(File::from(fd))),
            Found::Missing => Ok(None),
            Found::Dir(_) => bail!("{} is a directory, not a file", self.show(sys)),
        }
    }

    /// The last `max` bytes of the file at `sys` (all of it when smaller), and whether the
    /// start was left out; `None` when it is missing.
    pub(crate) fn tail(&self, sys: &str, max: u64) -> Result<Option<(Vec<u8>, bool)>> {
        let Some(mut f) = self.file(sys)? else {
            return Ok(None);
        };
        let read = |e| anyhow::Error::new(e).context(format!("cannot read {}", self.show(sys)));
        let len = f.metadata().map_err(read)?.len();
        let from = len.saturating_sub(max);
        f.seek(SeekFrom::Start(from)).map_err(read)?;
        let mut bytes = Vec::new();
        f.take(max).read_to_end(&mut bytes).map_err(read)?;
        Ok(Some((bytes, from > 0)))
    }

    /// The names in the directory at `sys`, sorted; `None` when it is missing.
    pub(crate) fn list(&self, sys: &str) -> Result<Option<Vec<OsString>>> {
        let fd = match self.walk(sys)? {
            Found::Dir(fd) => fd,
            Found::Missing => return Ok(None),
            Found::File(_) => bail!("{} is not a directory", self.show(sys)),
        };
        let mut dir = nix::dir::Dir::from_fd(fd)
            .with_context(|| format!("cannot list {}", self.show(sys)))?;
        let mut names = Vec::new();
        for entry in dir.iter() {
            let entry = entry.with_context(|| format!("cannot list {}", self.show(sys)))?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            if names.len() == MAX_NAMES {
                break;
            }
            names.push(<OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(name).to_os_string());
        }
        names.sort();
        Ok(Some(names))
    }

    /// `sys` inside the tree, one component at a time from the root.
    fn walk(&self, sys: &str) -> Result<Found> {
        let shown = || self.show(sys);
        let mut todo = stack(Path::new(sys));
        let mut dirs: Vec<OwnedFd> = Vec::new();
        let mut links = 0;
        while let Some(part) = todo.pop() {
            if part == ".." {
                dirs.pop();
                continue;
            }
            let at = dirs.last().unwrap_or(&self.fd);
            let st = match fstatat(at, part.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW) {
                Err(Errno::ENOENT) => return Ok(Found::Missing),
                Err(e) => return Err(e).with_context(|| format!("cannot read {}", shown())),
                Ok(st) => st,
            };
            match kind(&st) {
                SFlag::S_IFLNK => {
                    links += 1;
                    if links > MAX_LINKS {
                        bail!("{}: too many levels of symlinks", shown());
                    }
                    let target = readlinkat(at, part.as_os_str())
                        .with_context(|| format!("cannot read {}", shown()))?;
                    if Path::new(&target).is_absolute() {
                        dirs.clear();
                    }
                    todo.extend(stack(Path::new(&target)));
                }
                SFlag::S_IFDIR => {
                    let flags =
                        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
                    let fd = openat(at, part.as_os_str(), flags, Mode::empty())
                        .with_context(|| format!("cannot open {}", shown()))?;
                    dirs.push(fd);
                }
                SFlag::S_IFREG if todo.is_empty() => {
                    // Non-blocking, and never a symlink swapped in since the look above.
                    let flags =
                        OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
                    let fd = openat(at, part.as_os_str(), flags, Mode::empty())
                        .with_context(|| format!("cannot open {}", shown()))?;
                    let now = fstat(&fd).with_context(|| format!("cannot read {}", shown()))?;
                    if kind(&now) != SFlag::S_IFREG {
                        bail!("{} is not a regular file: refusing it", shown());
                    }
                    return Ok(Found::File(fd));
                }
                _ if todo.is_empty() => {
                    bail!(
                        "{} is not a regular file (a FIFO, device or socket): refusing it",
                        shown()
                    )
                }
                _ => bail!("{} is not a directory", shown()),
            }
        }
        match dirs.pop() {
            Some(fd) => Ok(Found::Dir(fd)),
            None => {
                Ok(Found::Dir(self.fd.try_clone().with_context(|| {
                    format!("cannot open {}", self.root.display())
                })?))
            }
        }
    }
}

fn kind(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    #[test]
    fn symlinks_resolve_inside_the_tree_and_never_above_it() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("snap");
        fs::create_dir_all(root.join("iris/mgr")).unwrap();
        fs::create_dir_all(root.join("journals")).unwrap();
        fs::write(root.join("iris/mgr/messages.log"), "a\nb\nc\n").unwrap();
        fs::write(root.join("journals/20261125.002"), "j").unwrap();
        fs::write(tmp.path().join("outside"), "host secret").unwrap();
        let snap = Snapshot::open(&root).unwrap();
        // An absolute link is taken from the tree's root, not the host's.
        symlink("/journals", root.join("iris/mgr/journal")).unwrap();
        let names = snap.list("/iris/mgr/journal").unwrap().unwrap();
        assert_eq!(names, [OsString::from("20261125.002")]);
        // `..` stops at the root: this names <snap>/outside, which is missing.
        symlink("../../../../outside", root.join("iris/up")).unwrap();
        assert!(snap.file("/iris/up").unwrap().is_none());
        symlink(tmp.path().join("outside"), root.join("abs")).unwrap();
        assert!(snap.file("/abs").unwrap().is_none());
        // The tail, cut.
        let (bytes, cut) = snap.tail("/iris/mgr/messages.log", 4).unwrap().unwrap();
        assert_eq!((bytes.as_slice(), cut), (&b"b\nc\n"[..], true));
        let (bytes, cut) = snap.tail("/iris/mgr/messages.log", 100).unwrap().unwrap();
        assert_eq!((bytes.as_slice(), cut), (&b"a\nb\nc\n"[..], false));
        // A FIFO never blocks the read: refused.
        nix::unistd::mkfifo(
            &root.join("iris/fifo"),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();
        let e = format!("{:#}", snap.file("/iris/fifo").unwrap_err());
        assert!(e.contains("not a regular file"), "{e}");
        assert!(snap.file("/nothing/here").unwrap().is_none());
    }
}
