//! A program found by name in a list of directories, as a shell finds it on PATH (`which` does
//! the search), but only one root may run ([`program`]): every lookup by name goes through here.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::program;

/// What a search for one program found.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// The first copy root may run, as found (argv\[0\] keeps its name).
    pub(crate) program: Option<PathBuf>,
    /// The copies before it that were refused, each with why and the fix.
    pub(crate) refused: Vec<(PathBuf, String)>,
}

/// `name` in `dirs`, in their order: the first executable copy root may run, and those
/// refused on the way to it. Relative entries are never searched: they would make the working
/// directory's files root's programs.
pub(crate) fn find_program(name: impl AsRef<OsStr>, dirs: &[PathBuf]) -> Found {
    let mut found = Found::default();
    for copy in executables(name, dirs) {
        match program(&copy) {
            Ok(path) => {
                found.program = Some(path);
                break;
            }
            Err(e) => found.refused.push((copy, format!("{e:#}"))),
        }
    }
    found
}

/// Every executable `name` in `dirs`' absolute entries, in their order, trusted or not.
pub(crate) fn executables(name: impl AsRef<OsStr>, dirs: &[PathBuf]) -> Vec<PathBuf> {
    // A directory whose name holds a `:` cannot be an entry of a search path; with no entry
    // left, `which` would look in the working directory.
    let searched: Vec<&Path> = dirs
        .iter()
        .map(PathBuf::as_path)
        .filter(|d| d.is_absolute() && !d.as_os_str().as_encoded_bytes().contains(&b':'))
        .collect();
    let Ok(list) = std::env::join_paths(&searched) else {
        return Vec::new();
    };
    if searched.is_empty() {
        return Vec::new();
    }
    which::which_in_global(name, Some(list))
        .map(Iterator::collect)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::super::tests::chmod;
    use super::*;

    /// A trusted temp dir with `bin-N` directories, each 0755.
    fn dirs(n: usize) -> (tempfile::TempDir, Vec<PathBuf>) {
        let tmp = tempfile::tempdir().unwrap();
        chmod(tmp.path(), 0o755);
        let dirs = (0..n)
            .map(|i| {
                let d = tmp.path().join(format!("bin-{i}"));
                fs::create_dir(&d).unwrap();
                chmod(&d, 0o755);
                d
            })
            .collect();
        (tmp, dirs)
    }

    fn program_in(dir: &Path, mode: u32) -> PathBuf {
        let p = dir.join("iris");
        fs::write(&p, "#!/bin/sh\n").unwrap();
        chmod(&p, mode);
        p
    }

    #[test]
    fn the_first_trusted_copy_in_order_after_the_refused_ones() {
        let (_tmp, d) = dirs(4);
        program_in(&d[0], 0o644);
        let unsafe_copy = program_in(&d[1], 0o775);
        let good = program_in(&d[2], 0o755);
        program_in(&d[3], 0o755);
        let found = find_program("iris", &d);
        assert_eq!(found.program, Some(good));
        assert_eq!(found.refused.len(), 1, "{:?}", found.refused);
        assert_eq!(found.refused[0].0, unsafe_copy);
        assert!(found.refused[0].1.contains("refusing to run"));
    }

    #[test]
    fn relative_and_unlistable_entries_are_never_searched() {
        let (tmp, d) = dirs(1);
        program_in(&d[0], 0o755);
        let colon = tmp.path().join("a:b");
        fs::create_dir(&colon).unwrap();
        program_in(&colon, 0o755);
        // bin-0 again, relative to the working directory.
        let cwd = std::env::current_dir().unwrap();
        let up = "../".repeat(cwd.components().count() - 1);
        let relative = PathBuf::from(up).join(d[0].strip_prefix("/").unwrap());
        assert!(relative.join("iris").is_file(), "{}", relative.display());
        assert!(!executables("iris", &d).is_empty());
        assert!(executables("iris", &[relative, PathBuf::new(), colon]).is_empty());
        assert!(find_program("iris", &[]).program.is_none());
    }
}
