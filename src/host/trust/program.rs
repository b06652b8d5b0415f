//! A program root may run: the path walked from `/`, every symlink followed and every
//! directory, link and file on the way checked.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::{Rule, STICKY, trusted_owner, unsafe_dir};

/// Most symlinks one path may pass through (the kernel's own limit).
const MAX_LINKS: usize = 40;

/// A program root may run: the path as found (`/usr/bin/iris` is often a link into the install
/// directory, `/bin` a link to `usr/bin`), walked from `/` one component at a time with every
/// symlink followed here, so that each directory passed through, the directory holding each
/// symlink, and the file at the end are all checked: owned by a trusted user, not writable by
/// group or others (a sticky directory is a safe ancestor). Returns the path to execute: `path`
/// itself, so argv\[0\] keeps the name the program was found under.
pub(crate) fn program(path: &Path) -> Result<PathBuf> {
    walk_program(path).map_err(|why| {
        anyhow::anyhow!(
            "refusing to run {}: {why:#}, or install it somewhere only root can write",
            path.display()
        )
    })?;
    Ok(path.to_path_buf())
}

/// The walk behind [`program`]: `Err` names the first path another user could change, and
/// the command that fixes it.
fn walk_program(path: &Path) -> Result<()> {
    if !path.is_absolute() {
        bail!("{} is not an absolute path", path.display());
    }
    let mut dir = PathBuf::from("/");
    let mut dir_md = checked_dir(&dir)?;
    let mut todo: Vec<std::ffi::OsString> = parts(path);
    let mut links = 0;
    // `todo` is a stack: its last item is the next component.
    while let Some(name) = todo.pop() {
        if name == "." || name.is_empty() {
            continue;
        }
        if name == ".." {
            // `dir` holds no symlink, so its parent is the real one, checked on the way down.
            dir.pop();
            dir_md = checked_dir(&dir)?;
            continue;
        }
        let here = dir.join(&name);
        let md = fs::symlink_metadata(&here)
            .with_context(|| format!("cannot read {}", here.display()))?;
        if md.file_type().is_symlink() {
            links += 1;
            if links > MAX_LINKS {
                bail!("{} passes through too many symlinks", path.display());
            }
            // In a sticky directory only the link's owner (and root) can replace it.
            if dir_md.mode() & STICKY != 0 && !trusted_owner(md.uid()) {
                bail!(
                    "{} is a symlink owned by uid {} in the shared directory {}, so that user \
                     could point it elsewhere; fix: `chown -h root:root {0}`",
                    here.display(),
                    md.uid(),
                    dir.display()
                );
            }
            let target = fs::read_link(&here)
                .with_context(|| format!("cannot read the symlink {}", here.display()))?;
            if target.is_absolute() {
                dir = PathBuf::from("/");
                dir_md = checked_dir(&dir)?;
            }
            todo.extend(parts(&target));
            continue;
        }
        if todo.is_empty() {
            return checked_file(&here, &md);
        }
        if !md.is_dir() {
            bail!("{} is not a directory", here.display());
        }
        if let Some(why) = unsafe_dir(&here, &md, Rule::Program) {
            bail!("{why}; fix: {}", fix_for(&here, &md));
        }
        dir = here;
        dir_md = md;
    }
    bail!("{} is a directory, not a program", path.display())
}

/// The components of `p` as a stack for [`walk_program`]: the first component last.
fn parts(p: &Path) -> Vec<std::ffi::OsString> {
    p.components()
        .rev()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect()
}

/// The metadata of `dir`, a real directory (no symlink) the walk is in, once it passed the
/// program rule.
fn checked_dir(dir: &Path) -> Result<fs::Metadata> {
    let md = fs::symlink_metadata(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    if let Some(why) = unsafe_dir(dir, &md, Rule::Program) {
        bail!("{why}; fix: {}", fix_for(dir, &md));
    }
    Ok(md)
}

/// The program file itself: regular, a trusted owner, not writable by group or others.
fn checked_file(path: &Path, md: &fs::Metadata) -> Result<()> {
    if !md.is_file() {
        bail!("{} is not a regular file", path.display());
    }
    if !trusted_owner(md.uid()) {
        bail!(
            "{} is owned by uid {}, not root, so that user could make root run anything; \
             fix: {}",
            path.display(),
            md.uid(),
            fix_for(path, md)
        );
    }
    if md.mode() & Rule::Program.forbidden() != 0 {
        bail!(
            "{} can be written by group or others (mode {:o}); fix: {}",
            path.display(),
            md.mode() & 0o7777,
            fix_for(path, md)
        );
    }
    Ok(())
}

/// The commands that make `path` safe for root to run or pass through.
fn fix_for(path: &Path, md: &fs::Metadata) -> String {
    let mut fix = Vec::new();
    if !trusted_owner(md.uid()) {
        fix.push(format!("chown root:root {}", path.display()));
    }
    if md.mode() & Rule::Program.forbidden() != 0 && !(md.is_dir() && md.mode() & STICKY != 0) {
        fix.push(format!("chmod go-w {}", path.display()));
    }
    format!("`{}`", fix.join(" && "))
}

#[cfg(test)]
mod tests {
    use super::super::tests::chmod;
    use super::*;

    /// A trusted temp dir holding a root-owned 0755 program `bin/iris`.
    fn program_tree() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        chmod(tmp.path(), 0o755);
        let bin = tmp.path().join("bin");
        fs::create_dir(&bin).unwrap();
        chmod(&bin, 0o755);
        let prog = bin.join("iris");
        fs::write(&prog, "#!/bin/sh\n").unwrap();
        chmod(&prog, 0o755);
        (tmp, prog)
    }

    fn refusal(path: &Path) -> String {
        format!("{:#}", program(path).unwrap_err())
    }

    #[test]
    fn a_link_in_a_trusted_dir_to_a_trusted_file_runs_as_found() {
        let (tmp, prog) = program_tree();
        let links = tmp.path().join("usr-bin");
        fs::create_dir(&links).unwrap();
        chmod(&links, 0o755);
        let abs = links.join("iris");
        std::os::unix::fs::symlink(&prog, &abs).unwrap();
        assert_eq!(program(&abs).unwrap(), abs, "argv[0] keeps the name found");
        // Relative links and `..`, as merged-usr's `/bin -> usr/bin`.
        let rel = links.join("iris-rel");
        std::os::unix::fs::symlink("../bin/iris", &rel).unwrap();
        assert_eq!(program(&rel).unwrap(), rel);
        let dir_link = tmp.path().join("b");
        std::os::unix::fs::symlink("bin", &dir_link).unwrap();
        assert!(program(&dir_link.join("iris")).is_ok());
    }

    #[test]
    fn a_link_into_a_group_writable_dir_is_refused() {
        let (tmp, prog) = program_tree();
        let link = tmp.path().join("iris");
        std::os::unix::fs::symlink(&prog, &link).unwrap();
        chmod(prog.parent().unwrap(), 0o775);
        let e = refusal(&link);
        assert!(
            e.starts_with(&format!("refusing to run {}", link.display())),
            "{e}"
        );
        assert!(e.contains("can be written by its group"), "{e}");
        assert!(
            e.contains(&format!("chmod go-w {}", prog.parent().unwrap().display())),
            "{e}"
        );
    }

    #[test]
    fn a_world_writable_ancestor_is_refused_unless_sticky() {
        let (tmp, prog) = program_tree();
        chmod(tmp.path(), 0o777);
        let e = refusal(&prog);
        assert!(e.contains("can be written by others"), "{e}");
        // Like /tmp: others may add entries but not replace ours.
        chmod(tmp.path(), 0o1777);
        assert!(program(&prog).is_ok());
    }

    #[test]
    fn a_writable_program_or_a_directory_is_refused() {
        let (tmp, prog) = program_tree();
        chmod(&prog, 0o775);
        let e = refusal(&prog);
        assert!(e.contains("group or others (mode 775)"), "{e}");
        assert!(
            e.contains(&format!("`chmod go-w {}`", prog.display())),
            "{e}"
        );
        assert!(program(&tmp.path().join("bin")).is_err());
        assert!(program(&tmp.path().join("missing")).is_err());
    }

    #[test]
    fn files_and_links_another_user_owns_are_refused() {
        if !nix::unistd::geteuid().is_root() {
            return; // chown needs root
        }
        let (tmp, prog) = program_tree();
        std::os::unix::fs::chown(&prog, Some(65534), None).unwrap();
        let e = refusal(&prog);
        assert!(e.contains("owned by uid 65534"), "{e}");
        assert!(
            e.contains(&format!("`chown root:root {}`", prog.display())),
            "{e}"
        );
        std::os::unix::fs::chown(&prog, Some(0), None).unwrap();
        // A link another user owns in a sticky directory: they could replace it.
        let shared = tmp.path().join("shared");
        fs::create_dir(&shared).unwrap();
        chmod(&shared, 0o1777);
        let link = shared.join("iris");
        std::os::unix::fs::symlink(&prog, &link).unwrap();
        assert!(program(&link).is_ok());
        std::os::unix::fs::lchown(&link, Some(65534), None).unwrap();
        let e = refusal(&link);
        assert!(e.contains("symlink owned by uid 65534"), "{e}");
    }
}
