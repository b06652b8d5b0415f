//! Writing system files one at a time, each atomically, with a line saying what happened.
//!
//! A file is written to a temp file (or link) in the same directory, its mode and owner set,
//! fsynced, then renamed over the old one. An identical file is left alone (its mode and owner
//! fixed if need be); a different one is first backed up as
//! `<file>.iris-freeze-bak.<YYYYmmddTHHMMSS>`.

use std::fs;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// What a file is to hold.
pub(crate) enum Content {
    File { bytes: Vec<u8>, mode: u32 },
    Link(PathBuf),
}

/// The changes made so far, one line per path.
pub(crate) struct FileTransaction {
    pub(crate) lines: Vec<String>,
    /// The directories `ensure_dir` created, parents first.
    pub(crate) created_dirs: Vec<PathBuf>,
    stamp: String,
    /// Files and directories are made root's (only root can chown).
    root: bool,
}

impl FileTransaction {
    pub(crate) fn new() -> FileTransaction {
        FileTransaction {
            lines: Vec::new(),
            created_dirs: Vec::new(),
            stamp: chrono::Local::now().format("%Y%m%dT%H%M%S").to_string(),
            root: nix::unistd::geteuid().is_root(),
        }
    }

    /// Records `<verb> <path><rest>`, the verb padded so the paths line up.
    pub(crate) fn line(&mut self, verb: &str, path: &Path, rest: impl AsRef<str>) {
        let rest = rest.as_ref();
        self.lines.push(if rest.is_empty() {
            format!("{verb:<9} {}", path.display())
        } else {
            format!("{verb:<9} {}{rest}", path.display())
        });
    }

    fn owner(&self) -> &'static str {
        if self.root { "root:root " } else { "" }
    }

    /// Creates the missing directories of `dir` (the last one with `mode`, parents 0755).
    pub(crate) fn ensure_dir(&mut self, dir: &Path, mode: u32) -> Result<()> {
        let mut missing = Vec::new();
        let mut d = dir;
        while fs::symlink_metadata(d).is_err() {
            missing.push(d.to_path_buf());
            match d.parent() {
                Some(p) => d = p,
                None => break,
            }
        }
        for (i, m) in missing.iter().rev().enumerate() {
            let last = i + 1 == missing.len();
            let mode = if last { mode } else { 0o755 };
            fs::create_dir(m).with_context(|| format!("cannot create {}", m.display()))?;
            fs::set_permissions(m, fs::Permissions::from_mode(mode))
                .with_context(|| format!("cannot set the mode of {}", m.display()))?;
            if self.root {
                std::os::unix::fs::chown(m, Some(0), Some(0))
                    .with_context(|| format!("cannot chown {}", m.display()))?;
            }
            let owner = self.owner();
            self.line("created", m, format!(" (directory, {owner}{mode:04o})"));
            self.created_dirs.push(m.clone());
        }
        if !dir.is_dir() {
            bail!("{} exists but is not a directory", dir.display());
        }
        Ok(())
    }

    /// A free `<path>.iris-freeze-bak.<stamp>[.N]`.
    pub(crate) fn backup_path(&self, path: &Path) -> PathBuf {
        let base = format!("{}.iris-freeze-bak.{}", path.display(), self.stamp);
        let mut p = PathBuf::from(&base);
        let mut n = 1;
        while fs::symlink_metadata(&p).is_ok() {
            p = PathBuf::from(format!("{base}.{n}"));
            n += 1;
        }
        p
    }

    /// Keeps a copy of `path` (a file or a symlink) next to it, at `at` or a free backup
    /// path; `path` itself stays in place.
    fn backup(&self, path: &Path, at: Option<&Path>) -> Result<PathBuf> {
        let bak = at.map_or_else(|| self.backup_path(path), Path::to_path_buf);
        let md = fs::symlink_metadata(path)?;
        let r = if md.file_type().is_symlink() {
            fs::read_link(path).and_then(|t| std::os::unix::fs::symlink(t, &bak))
        } else {
            fs::hard_link(path, &bak).or_else(|_| {
                fs::copy(path, &bak)?;
                fs::set_permissions(&bak, md.permissions())
            })
        };
        r.with_context(|| format!("cannot back up {} as {}", path.display(), bak.display()))?;
        Ok(bak)
    }

    /// Puts `content` at `path` atomically; `note` is added to its line.
    pub(crate) fn put(&mut self, path: &Path, content: &Content, note: &str) -> Result<()> {
        self.put_saving(path, content, note, None)
    }

    /// Like `put`, but a file that is replaced is saved as `original` (which must not exist)
    /// instead of a dated backup, for `uninstall` to put back.
    pub(crate) fn put_saving(
        &mut self,
        path: &Path,
        content: &Content,
        note: &str,
        original: Option<&Path>,
    ) -> Result<()> {
        let what = match content {
            Content::File { mode, .. } => format!("{}{mode:04o}", self.owner()),
            Content::Link(t) => format!("symlink to {}", t.display()),
        };
        let old = match fs::symlink_metadata(path) {
            Ok(md) => Some(md),
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let mut backup = None;
        if let Some(md) = &old {
            if md.is_dir() {
                bail!(
                    "{} is a directory: move it aside, then run install again",
                    path.display()
                );
            }
            if same(path, md, content) {
                return self.keep(path, md, content, &what);
            }
            backup = Some(self.backup(path, original)?);
        }
        self.replace(path, content)?;
        let note = if note.is_empty() {
            String::new()
        } else {
            format!("; {note}")
        };
        match backup {
            Some(bak) => self.line(
                "replaced",
                path,
                format!(
                    " ({what}{note}); the old one is backed up as {}",
                    bak.display()
                ),
            ),
            None => self.line("created", path, format!(" ({what}{note})")),
        }
        Ok(())
    }

    /// An identical file stays; its mode and owner are fixed if need be.
    fn keep(
        &mut self,
        path: &Path,
        md: &fs::Metadata,
        content: &Content,
        what: &str,
    ) -> Result<()> {
        let fixed = self.fix_attrs(path, md, content)?;
        if fixed.is_empty() {
            self.line("unchanged", path, format!(" ({what})"));
        } else {
            self.line("fixed", path, format!(": {}", fixed.join(", ")));
        }
        Ok(())
    }

    /// Writes a temp file next to `path` and renames it over `path`; the temp file never stays.
    fn replace(&self, path: &Path, content: &Content) -> Result<()> {
        let dir = path.parent().context("a hook path has a directory")?;
        let tmp = dir.join(format!(
            ".{}.iris-freeze-tmp.{}",
            path.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        ));
        let _ = fs::remove_file(&tmp);
        let r = self.write_tmp(&tmp, content).and_then(|()| {
            fs::rename(&tmp, path)?;
            if let Ok(d) = fs::File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(())
        });
        if let Err(e) = r {
            let _ = fs::remove_file(&tmp);
            return Err(e).with_context(|| format!("cannot write {}", path.display()));
        }
        Ok(())
    }

    fn write_tmp(&self, tmp: &Path, content: &Content) -> std::io::Result<()> {
        match content {
            Content::File { bytes, mode } => {
                let mut f = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(tmp)?;
                f.write_all(bytes)?;
                if self.root {
                    std::os::unix::fs::fchown(&f, Some(0), Some(0))?;
                }
                // After the chown, which may clear setuid bits; and whatever the umask.
                f.set_permissions(fs::Permissions::from_mode(*mode))?;
                f.sync_all()
            }
            Content::Link(target) => {
                std::os::unix::fs::symlink(target, tmp)?;
                if self.root {
                    std::os::unix::fs::lchown(tmp, Some(0), Some(0))?;
                }
                Ok(())
            }
        }
    }

    /// Sets the mode and owner of an identical file when they differ; what it fixed.
    fn fix_attrs(&self, path: &Path, md: &fs::Metadata, content: &Content) -> Result<Vec<String>> {
        let mut fixed = Vec::new();
        let wrong_owner = self.root && (md.uid() != 0 || md.gid() != 0);
        if wrong_owner {
            match content {
                Content::File { .. } => std::os::unix::fs::chown(path, Some(0), Some(0)),
                Content::Link(_) => std::os::unix::fs::lchown(path, Some(0), Some(0)),
            }
            .with_context(|| format!("cannot chown {}", path.display()))?;
            fixed.push(format!("owner root:root (was {}:{})", md.uid(), md.gid()));
        }
        if let Content::File { mode, .. } = content {
            let was = md.mode() & 0o7777;
            // A chown may have cleared setuid bits: the mode is set again after one.
            if was != *mode || wrong_owner {
                fs::set_permissions(path, fs::Permissions::from_mode(*mode))
                    .with_context(|| format!("cannot chmod {}", path.display()))?;
                if was != *mode {
                    fixed.push(format!("mode {mode:04o} (was {was:04o})"));
                }
            }
        }
        Ok(fixed)
    }
}

impl FileTransaction {
    /// Removes `dir` when it is empty and `ours` says iris-freeze created it, then its parents
    /// the same way. The directories it removed.
    pub(crate) fn remove_empty_dirs(
        &mut self,
        dir: &Path,
        ours: impl Fn(&Path) -> bool,
    ) -> Vec<PathBuf> {
        let mut removed = Vec::new();
        let mut d = dir.to_path_buf();
        while ours(&d) && fs::remove_dir(&d).is_ok() {
            self.line("removed", &d, " (empty directory)");
            removed.push(d.clone());
            match d.parent() {
                Some(p) => d = p.to_path_buf(),
                None => break,
            }
        }
        removed
    }
}

/// Whether `path` (whose metadata is `md`) already holds `content`.
fn same(path: &Path, md: &fs::Metadata, content: &Content) -> bool {
    match content {
        Content::File { bytes, .. } => md.is_file() && fs::read(path).is_ok_and(|b| b == *bytes),
        Content::Link(target) => {
            md.file_type().is_symlink() && fs::read_link(path).is_ok_and(|t| t == *target)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::symlink_metadata(p).unwrap().mode() & 0o7777
    }

    #[test]
    fn a_file_is_created_left_alone_then_replaced_with_a_backup() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("hook");
        let content = |s: &str| Content::File {
            bytes: s.as_bytes().to_vec(),
            mode: 0o700,
        };
        let mut tx = FileTransaction::new();
        tx.put(&p, &content("one"), "").unwrap();
        tx.put(&p, &content("one"), "").unwrap();
        tx.put(&p, &content("two"), "a note").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "two");
        assert_eq!(mode(&p), 0o700);
        let verbs: Vec<&str> = tx
            .lines
            .iter()
            .map(|l| l.split_whitespace().next().unwrap())
            .collect();
        assert_eq!(verbs, ["created", "unchanged", "replaced"]);
        assert!(tx.lines[2].contains("; a note); the old one is backed up as "));
        let backups: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("hook.iris-freeze-bak."))
            .collect();
        assert_eq!(backups.len(), 1, "{backups:?}");
        assert_eq!(
            fs::read_to_string(tmp.path().join(&backups[0])).unwrap(),
            "one"
        );
    }

    #[test]
    fn an_identical_file_gets_its_mode_fixed_in_place() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("hook");
        fs::write(&p, "x").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        let mut tx = FileTransaction::new();
        let content = Content::File {
            bytes: b"x".to_vec(),
            mode: 0o700,
        };
        tx.put(&p, &content, "").unwrap();
        assert_eq!(mode(&p), 0o700);
        assert!(
            tx.lines[0].starts_with("fixed") && tx.lines[0].ends_with("mode 0700 (was 0755)"),
            "{:?}",
            tx.lines
        );
    }

    #[test]
    fn missing_directories_are_created_and_named() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("a/b");
        let mut tx = FileTransaction::new();
        tx.ensure_dir(&d, 0o700).unwrap();
        assert_eq!(mode(&d), 0o700);
        assert_eq!(mode(&tmp.path().join("a")), 0o755);
        assert_eq!(tx.lines.len(), 2);
        tx.ensure_dir(&d, 0o700).unwrap();
        assert_eq!(tx.lines.len(), 2);
        fs::write(tmp.path().join("f"), "").unwrap();
        assert!(tx.ensure_dir(&tmp.path().join("f"), 0o755).is_err());
    }
}
