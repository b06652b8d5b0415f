//! A directory tree `install` and `uninstall` write in (`--root DIR`, `/` by default). Whoever
//! could plant a symlink in it would have root write or remove files of their choosing
//! anywhere (a line in /etc/ld.so.preload is root's code execution), so as root the tree
//! itself must be root's and nobody else's to write, every directory on a path in it is
//! checked as [`unsafe_dir`] says, and a symlink on the way is resolved inside the tree, as
//! the system booted from it would see it, never above it.

use std::ffi::OsString;
use std::fs;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::{Rule, check_dir_chain, open_read, trusted_owner, unsafe_dir};
use crate::settings::env;
use crate::util::shell::display_argv;

/// How many symlinks one path may go through, as the kernel's limit (ELOOP).
const MAX_LINKS: usize = 40;

pub(crate) struct Tree {
    root: PathBuf,
}

impl Tree {
    /// The tree at `root`. As root it must be root's and not writable by others (nor by a group
    /// but root's), and so every directory above it: else it is refused, naming the fix.
    pub(crate) fn open(root: &Path) -> Result<Tree> {
        if nix::unistd::geteuid().is_root() {
            check_dir_chain(root, Rule::Data).with_context(|| {
                let dir = display_argv(&[root.as_os_str().to_owned()]);
                format!(
                    "refusing --root {} ({}): as root, iris-freeze writes only in a tree no \
                     other user can change, since a symlink planted in it would make root write \
                     anywhere; make it and the directory named root's and writable by root \
                     alone (`chown root:root {dir}`, `chmod go-w {dir}`), or stage the tree as \
                     the user who owns it; nothing was changed",
                    root.display(),
                    env::ROOT
                )
            })?;
        }
        Ok(Tree {
            root: root.to_path_buf(),
        })
    }

    /// Where `sys` (a path as the installed system names it: `/etc/azure/prescript.sh`) is on
    /// this host: its directories resolved and checked inside the tree, its last component as
    /// it is (never followed: the caller creates, replaces or removes that entry itself).
    pub(crate) fn path(&self, sys: &str) -> Result<PathBuf> {
        let sys = Path::new(sys);
        let (Some(dir), Some(name)) = (sys.parent(), sys.file_name()) else {
            bail!("{} names no file", sys.display());
        };
        Ok(self.resolve(dir)?.join(name))
    }

    /// The file at `sys` (see [`path`](Self::path)), read as `trust` reads: a regular file,
    /// not through a symlink, another user's or writable by others refused. `None` when missing.
    pub(crate) fn read(&self, sys: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path(sys)?;
        // No directory yet: no file either (and nothing to check).
        if path
            .parent()
            .is_some_and(|d| fs::symlink_metadata(d).is_err())
        {
            return Ok(None);
        }
        let Some(mut f) = open_read(&path)? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Ok(Some(bytes))
    }

    /// `dir` inside the tree, every symlink on the way resolved from the tree's root (`..`
    /// never leaves it), every directory checked; missing ones are kept as named.
    fn resolve(&self, dir: &Path) -> Result<PathBuf> {
        let mut todo = stack(dir);
        let mut cur = self.root.clone();
        let mut depth = 0;
        let mut links = 0;
        while let Some(part) = todo.pop() {
            if part == ".." {
                if depth > 0 {
                    cur.pop();
                    depth -= 1;
                }
                continue;
            }
            let next = cur.join(&part);
            let md = match fs::symlink_metadata(&next) {
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    (cur, depth) = (next, depth + 1);
                    continue;
                }
                other => other.with_context(|| format!("cannot read {}", next.display()))?,
            };
            if md.file_type().is_symlink() {
                links += 1;
                let target = self.link_target(&next, &md, links)?;
                if target.is_absolute() {
                    (cur, depth) = (self.root.clone(), 0);
                }
                todo.extend(stack(&target));
                continue;
            }
            if !md.is_dir() {
                bail!("{} is not a directory", next.display());
            }
            if let Some(why) = unsafe_dir(&next, &md, Rule::Data) {
                bail!("refusing {}: {why}", next.display());
            }
            (cur, depth) = (next, depth + 1);
        }
        Ok(cur)
    }

    /// A symlink is followed only when a trusted user made it (its directory passed already).
    fn link_target(&self, link: &Path, md: &fs::Metadata, links: usize) -> Result<PathBuf> {
        if links > MAX_LINKS {
            bail!("{}: too many levels of symlinks", link.display());
        }
        if !trusted_owner(md.uid()) {
            bail!(
                "refusing {}: a symlink owned by uid {}, who could point it anywhere",
                link.display(),
                md.uid()
            );
        }
        fs::read_link(link).with_context(|| format!("cannot read {}", link.display()))
    }
}

/// `p`'s components as a stack (the first on top), `/` and `.` dropped.
pub(super) fn stack(p: &Path) -> Vec<OsString> {
    let mut v: Vec<OsString> = p
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    v.reverse();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_resolve_inside_the_tree_and_never_above_it() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        fs::create_dir_all(root.join("usr/bin")).unwrap();
        fs::create_dir_all(root.join("etc")).unwrap();
        let tree = Tree::open(&root).unwrap();
        // A merged /usr: sbin -> bin, relative.
        symlink("bin", root.join("usr/sbin")).unwrap();
        assert_eq!(tree.path("/usr/sbin/x").unwrap(), root.join("usr/bin/x"));
        // An absolute link is taken from the tree's root, not the host's.
        symlink("/etc", root.join("conf")).unwrap();
        assert_eq!(tree.path("/conf/a/b").unwrap(), root.join("etc/a/b"));
        // `..` stops at the tree's root.
        symlink("../../../../..", root.join("etc/up")).unwrap();
        assert_eq!(tree.path("/etc/up/x").unwrap(), root.join("x"));
        // A missing directory is kept as named; a file on the way is an error.
        assert_eq!(tree.path("/var/lib/x").unwrap(), root.join("var/lib/x"));
        fs::write(root.join("f"), "").unwrap();
        assert!(tree.path("/f/x").is_err());
        symlink("loop", root.join("loop")).unwrap();
        assert!(format!("{:#}", tree.path("/loop/x").unwrap_err()).contains("too many"));
    }
}
