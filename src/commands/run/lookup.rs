//! Where `run` finds a CMD named without a `/`: as sudo's secure_path would have it, only in
//! PATH's absolute directories, and only a program no other user could have changed (the rule
//! `iris` is found by, [`trust::program`]). An empty or relative PATH entry would make the
//! working directory's files root's programs; a directory others can write, theirs.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::host::trust;

/// The program to run for `name`, or why there is none, with the fix.
pub(super) fn in_path(name: &OsStr) -> Result<PathBuf, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let (searched, skipped): (Vec<PathBuf>, Vec<PathBuf>) =
        std::env::split_paths(&path).partition(|d| d.is_absolute());
    let found = trust::find_program(name, &searched);
    let refused: Vec<String> = found.refused.into_iter().map(|(_, why)| why).collect();
    found
        .program
        .ok_or_else(|| not_found(name, &refused, &skipped))
}

/// Why `name` is not run: the copies refused and the entries not searched that hold one.
fn not_found(name: &OsStr, refused: &[String], skipped: &[PathBuf]) -> String {
    let shown = name.to_string_lossy();
    let mut why = Vec::new();
    if !refused.is_empty() {
        why.push(format!("found in PATH, but {}", refused.join("; ")));
    }
    let unsearched: Vec<String> = skipped
        .iter()
        .filter(|d| !trust::executables(name, &[cwd().join(d)]).is_empty())
        .map(|d| match d.as_os_str().is_empty() {
            true => "an empty PATH entry (the working directory)".to_string(),
            false => format!("the relative PATH entry {:?}", d.display().to_string()),
        })
        .collect();
    if !unsearched.is_empty() {
        why.push(format!(
            "found through {}, which is never searched (whoever can write the working \
             directory would choose what runs)",
            unsearched.join(" and ")
        ));
    }
    if why.is_empty() {
        return format!(
            "cannot run {shown:?}: not found in PATH; check the name, PATH and that it is \
             executable"
        );
    }
    format!(
        "cannot run {shown:?}: {}; give CMD as an absolute path to a program in a directory only \
         root can write (e.g. /usr/local/sbin/{shown}), or put it in such a directory on PATH",
        why.join("; ")
    )
}

fn cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| Path::new("/").to_path_buf())
}
