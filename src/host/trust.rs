//! What root may run, read or write: only what no other user could have changed. A path is
//! trusted when the file and every directory above it are owned by root (or by the user running
//! iris-freeze) and not writable by others; a sticky directory such as /tmp is a safe ancestor
//! of an entry a trusted user owns, since nobody else can rename or remove that entry.
//! Programs follow sudo's secure_path rule: not writable by group either.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use nix::libc;

const STICKY: u32 = 0o1000;

/// How strict the write-permission rule is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    /// Data files and their directories: not writable by others.
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
    if mode & rule.forbidden() != 0 && mode & STICKY == 0 {
        return Some(format!(
            "{} can be written by {} (mode {:o}), so they could swap what is inside it",
            path.display(),
            if mode & 0o002 != 0 {
                "others"
            } else {
                "its group"
            },
            mode & 0o7777
        ));
    }
    None
}

/// Checks every directory from `/` down to `dir` itself (none a symlink: the path is taken as
/// given, so give it canonical where symlinks are expected).
pub(crate) fn check_dir_chain(dir: &Path, rule: Rule) -> Result<()> {
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
        let md =
            fs::symlink_metadata(&d).with_context(|| format!("cannot read {}", d.display()))?;
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

/// The opened file itself: regular, trusted owner, not writable as `rule` forbids.
fn check_opened(path: &Path, f: &File, rule: Rule) -> Result<()> {
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
    Ok(())
}

/// Opens `path` for appending (created with `mode`), checked as [`check_opened`] says, in a
/// trusted directory chain.
pub(crate) fn open_append(path: &Path, mode: u32) -> Result<File> {
    check_parent(path)?;
    let f = options(true, mode)
        .open(path)
        .map_err(|e| open_error(path, e))?;
    check_opened(path, &f, Rule::Data)?;
    // Writes should block no more than a regular file's do; O_NONBLOCK only guarded the open.
    clear_nonblock(&f);
    Ok(f)
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

    fn chmod(p: &Path, mode: u32) {
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
        chmod(&dir, 0o775);
        assert!(check_dir_chain(&dir, Rule::Data).is_ok());
        assert!(check_dir_chain(&dir, Rule::Program).is_err());
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
