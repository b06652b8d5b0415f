//! A user's `~/.ssh/authorized_keys`, read and written through directory descriptors: the home
//! and `.ssh` are the user's, who could swap either for a symlink at any time, so every step is
//! an `openat` that never follows one, and the file is replaced by a rename in the same
//! directory descriptor.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use nix::errno::Errno;
use nix::fcntl::{OFlag, openat, renameat};
use nix::sys::stat::{FileStat, Mode, fchmod, fstat, mkdirat};
use nix::unistd::{Gid, Uid, fchown};

use crate::host::trust::Tree;

const FILE: &str = "authorized_keys";

/// An account as `<root>/etc/passwd` lists it.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub(crate) name: String,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) home: String,
}

/// `name`'s line of the tree's /etc/passwd (read there, not through NSS: the tree may be an
/// image, and the binary is static).
pub(crate) fn account(tree: &Tree, name: &str) -> Result<Account> {
    let text = tree
        .read("/etc/passwd")?
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    text.lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 7 && f[0] == name).then(|| {
                Some(Account {
                    name: name.to_string(),
                    uid: f[2].parse().ok()?,
                    gid: f[3].parse().ok()?,
                    home: f[5].to_string(),
                })
            })?
        })
        .with_context(|| {
            format!("no user {name:?} in /etc/passwd: pass --user NAME of a local account")
        })
}

/// The user's `.ssh` directory, opened (and created 0700 if `create`), with its path.
pub(crate) struct SshDir {
    pub(crate) path: PathBuf,
    fd: OwnedFd,
    account: Account,
}

fn dir_flags() -> OFlag {
    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC
}

/// A directory of the user's (or root's) that nobody else may write: what sshd's StrictModes
/// asks of the home and `.ssh`.
/// Another user than root may stage a tree of their own (an image, a test): theirs too.
fn check_owned(st: &FileStat, path: &Path, uid: u32) -> Result<()> {
    let me = nix::unistd::geteuid().as_raw();
    if st.st_uid != uid && st.st_uid != 0 && st.st_uid != me {
        bail!(
            "{} is owned by uid {}, not {uid} or root",
            path.display(),
            st.st_uid
        );
    }
    if st.st_mode & 0o022 != 0 {
        bail!(
            "{} is writable by group or others (mode {:04o}); sshd would refuse it",
            path.display(),
            st.st_mode & 0o7777
        );
    }
    Ok(())
}

impl SshDir {
    /// `None` when it is missing and `create` is false.
    pub(crate) fn open(tree: &Tree, account: &Account, create: bool) -> Result<Option<SshDir>> {
        // The home's parent (/home, /root's /) is root's: the tree's own checks apply.
        let home = tree.path(&account.home)?;
        let name = home.file_name().context("the home is /")?;
        let parent = home.parent().context("the home has a parent")?;
        let pfd = openat(nix::fcntl::AT_FDCWD, parent, dir_flags(), Mode::empty())
            .with_context(|| format!("cannot open {}", parent.display()))?;
        let hfd = match openat(&pfd, name, dir_flags(), Mode::empty()) {
            Err(Errno::ENOENT) if !create => return Ok(None),
            Err(Errno::ELOOP | Errno::ENOTDIR) => {
                bail!(
                    "{} is not a directory (a symlink?): refused",
                    home.display()
                )
            }
            r => r.with_context(|| format!("cannot open {}", home.display()))?,
        };
        check_owned(&fstat(&hfd)?, &home, account.uid)?;
        let path = home.join(".ssh");
        let fd = match openat(&hfd, ".ssh", dir_flags(), Mode::empty()) {
            Err(Errno::ENOENT) if !create => return Ok(None),
            Err(Errno::ENOENT) => {
                mkdirat(&hfd, ".ssh", Mode::from_bits_truncate(0o700))
                    .with_context(|| format!("cannot create {}", path.display()))?;
                let fd = openat(&hfd, ".ssh", dir_flags(), Mode::empty())?;
                fchmod(&fd, Mode::from_bits_truncate(0o700))?;
                own(&fd, account)?;
                fd
            }
            Err(Errno::ELOOP | Errno::ENOTDIR) => {
                bail!(
                    "{} is not a directory (a symlink?): refused",
                    path.display()
                )
            }
            r => r.with_context(|| format!("cannot open {}", path.display()))?,
        };
        check_owned(&fstat(&fd)?, &path, account.uid)?;
        Ok(Some(SshDir {
            path,
            fd,
            account: account.clone(),
        }))
    }

    pub(crate) fn file(&self) -> PathBuf {
        self.path.join(FILE)
    }

    /// The file's text and its (mode, uid); `None` when it is missing.
    pub(crate) fn read(&self) -> Result<Option<(String, u32, u32)>> {
        let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
        let fd = match openat(&self.fd, FILE, flags, Mode::empty()) {
            Err(Errno::ENOENT) => return Ok(None),
            Err(Errno::ELOOP) => bail!("{} is a symlink: refused", self.file().display()),
            r => r.with_context(|| format!("cannot open {}", self.file().display()))?,
        };
        let st = fstat(&fd)?;
        if st.st_mode & libc_s_ifmt() != 0o100000 {
            bail!("{} is not a regular file", self.file().display());
        }
        let mut text = String::new();
        File::from(fd)
            .read_to_string(&mut text)
            .with_context(|| format!("cannot read {} as text", self.file().display()))?;
        Ok(Some((text, st.st_mode & 0o7777, st.st_uid)))
    }

    /// Replaces the file with `text`: 0600, the user's, one rename.
    pub(crate) fn write(&self, text: &str) -> Result<()> {
        let tmp = format!(".{FILE}.iris-freeze.{}", std::process::id());
        let flags =
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let fd = openat(
            &self.fd,
            tmp.as_str(),
            flags,
            Mode::from_bits_truncate(0o600),
        )
        .with_context(|| format!("cannot create a file in {}", self.path.display()))?;
        fchmod(&fd, Mode::from_bits_truncate(0o600))?;
        own(&fd, &self.account)?;
        let mut f = File::from(fd);
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        renameat(&self.fd, tmp.as_str(), &self.fd, FILE)
            .with_context(|| format!("cannot replace {}", self.file().display()))?;
        Ok(())
    }
}

fn libc_s_ifmt() -> u32 {
    0o170000
}

/// Makes `fd` the account's, when we may (root); another user writes only their own files.
fn own(fd: &OwnedFd, account: &Account) -> Result<()> {
    if nix::unistd::geteuid().is_root() {
        fchown(
            fd,
            Some(Uid::from_raw(account.uid)),
            Some(Gid::from_raw(account.gid)),
        )
        .with_context(|| format!("cannot give a file to {}", account.name))?;
    }
    Ok(())
}
