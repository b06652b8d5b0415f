//! `/etc/iris-freeze.toml`: opened as root may open it, and checked key by key. A key that is
//! unknown, of the wrong type or out of range is a problem that names the key and the file;
//! the other keys still stand, so a thaw can go on with them. No message ever shows the file's
//! text: `--config` pointed at a root-only file must not print a line of it.

mod keys;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::host::trust;

pub(crate) use keys::FileConfig;

/// Far more than any config file; a bigger one is something else.
const MAX_BYTES: u64 = 1 << 20;

/// What reading the file gave.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub(crate) file: FileConfig,
    /// Whether there is a file at all (a missing one is fine).
    pub(crate) found: bool,
    /// One line per bad key; the file's other settings are in `file`.
    pub(crate) problems: Vec<String>,
}

/// Reads the config file; a missing file is an empty config. An error means the file as a
/// whole cannot be used: unsafe to trust, unreadable, or not TOML.
pub(crate) fn load_file(path: &Path) -> Result<Loaded> {
    let Some(text) = read(path)? else {
        return Ok(Loaded::default());
    };
    // The packaged file is all comments: nothing to parse, and every thaw reads it.
    let blank = |l: &str| {
        let l = l.trim_start();
        l.is_empty() || l.starts_with('#')
    };
    if text.lines().all(blank) {
        return Ok(Loaded {
            found: true,
            ..Loaded::default()
        });
    }
    let table: toml::Table = text.parse().map_err(|e| syntax_error(path, &text, &e))?;
    let mut loaded = Loaded {
        found: true,
        ..Loaded::default()
    };
    for (key, value) in &table {
        if let Err(problem) = loaded.file.set(key, value, path) {
            loaded.problems.push(problem);
        }
    }
    Ok(loaded)
}

/// The file's text, opened without following a symlink or blocking, and only when no other
/// user could have written it or swapped it. `Ok(None)`: there is no such file.
fn read(path: &Path) -> Result<Option<String>> {
    let Some(real) = real_directory(path)? else {
        return Ok(None);
    };
    // Running as root, the file decides which programs root runs: nobody but root may be able
    // to write it. Its errors name the file as it really is.
    let rule = match nix::unistd::geteuid().is_root() {
        true => trust::Rule::Program,
        false => trust::Rule::Data,
    };
    let Some(f) = trust::open_read_as(&real, rule).context("the config file")? else {
        return Ok(None);
    };
    let cannot = |what: &str| format!("cannot read the config file {}{what}", path.display());
    // The opened file's own metadata: no second path lookup, and no swap in between.
    let md = f.metadata().with_context(|| cannot(""))?;
    if md.len() > MAX_BYTES {
        bail!("{}: it is larger than 1 MiB", cannot(""));
    }
    let mut text = String::with_capacity(md.len() as usize);
    f.take(MAX_BYTES)
        .read_to_string(&mut text)
        .with_context(|| cannot(" as text"))?;
    Ok(Some(text))
}

/// `path` with its directory resolved (a relative `--config`, or a directory reached through
/// a link): the directories are checked as they really are; the file itself must not be a
/// symlink. `Ok(None)` when the directory does not exist.
fn real_directory(path: &Path) -> Result<Option<PathBuf>> {
    let Some(name) = path.file_name() else {
        bail!("the config file {} does not name a file", path.display());
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match fs::canonicalize(dir) {
        Ok(dir) => Ok(Some(dir.join(name))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| {
            format!(
                "cannot find the directory of the config file {}",
                path.display()
            )
        }),
    }
}

/// A TOML syntax error by line and column, without the source line toml would quote.
fn syntax_error(path: &Path, text: &str, e: &toml::de::Error) -> anyhow::Error {
    let at = e
        .span()
        .map(|span| {
            let (line, column) = line_column(text, span.start);
            format!("line {line}, column {column}: ")
        })
        .unwrap_or_default();
    anyhow::anyhow!(
        "the config file {} is not valid TOML: {at}{}",
        path.display(),
        e.message().trim_end()
    )
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// The ownership and mode rule for the config file, also used by `check`.
pub(crate) fn check_config_file(path: &Path) -> Result<()> {
    let md = fs::metadata(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    check_config_metadata(path, &md)
}

/// Running as root, a file another user owns or group/others can write is refused: it decides
/// which programs root runs (`read` holds the opened file to the same rule).
fn check_config_metadata(path: &Path, md: &fs::Metadata) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    if !nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    if md.uid() != 0 || md.mode() & 0o022 != 0 {
        bail!(
            "the config file {} is owned by uid {} with mode {:o}: running as root, iris-freeze \
             refuses a config file that anyone but root can write; fix with `chown root {} && \
             chmod go-w {}`",
            path.display(),
            md.uid(),
            md.mode() & 0o7777,
            path.display(),
            path.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::time::Duration;

    #[test]
    fn a_file_of_comments_loads_as_defaults_and_anything_else_is_parsed() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("c.toml");
        fs::write(&p, "# timeout = 99\n\n   # note\n").unwrap();
        let loaded = load_file(&p).unwrap();
        assert!(loaded.found);
        assert_eq!(loaded.file.timeout, None);
        fs::write(&p, "# a comment\ntimeout = 99\n").unwrap();
        let loaded = load_file(&p).unwrap();
        assert_eq!(loaded.file.timeout, Some(Duration::from_secs(99)));
        assert!(loaded.problems.is_empty());
        let missing = load_file(&tmp.path().join("none/c.toml")).unwrap();
        assert!(!missing.found);
    }

    #[test]
    fn a_syntax_error_gives_line_and_column_without_the_text() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("c.toml");
        fs::write(&p, "timeout = 30\nS3CR3T line\n").unwrap();
        let e = format!("{:#}", load_file(&p).unwrap_err());
        assert!(e.contains("line 2, column"), "{e}");
        assert!(e.contains("not valid TOML"), "{e}");
        assert!(!e.contains("S3CR3T"), "{e}");
        assert_eq!(line_column("ab\ncdé f", 8), (2, 5));
        assert_eq!(line_column("x", 0), (1, 1));
    }

    #[test]
    fn a_symlink_or_a_file_others_can_write_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let real = tmp.path().join("real.toml");
        fs::write(&real, "timeout = 5\n").unwrap();
        let link = tmp.path().join("link.toml");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let e = format!("{:#}", load_file(&link).unwrap_err());
        assert!(e.contains("symlink"), "{e}");
        fs::set_permissions(&real, fs::Permissions::from_mode(0o646)).unwrap();
        assert!(load_file(&real).is_err());
    }
}
