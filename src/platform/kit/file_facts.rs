//! What `check` reads of a file: its owner's name, whether it is a binary, and the program a
//! shell wrapper runs.

use std::fs;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use crate::util::shell::words;
use crate::util::under;

/// The user name of `uid`, as Azure's `getpwuid(st_uid).pw_name` sees it: read from
/// /etc/passwd, not through NSS, because the shipped binary is static (glibc's NSS modules
/// cannot be loaded safely from a static binary). The accounts Azure cares about (root) are
/// local ones.
pub(crate) fn owner_name(uid: u32) -> String {
    fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() > 2 && f[2].parse::<u32>().ok() == Some(uid)).then(|| f[0].to_string())
            })
        })
        .unwrap_or_else(|| format!("uid {uid}"))
}

pub(crate) fn is_elf(path: &Path) -> bool {
    let mut head = [0u8; 4];
    fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && head == *b"\x7fELF"
}

/// A file's text, lossily; empty when it cannot be read.
pub(crate) fn read_text(path: &Path) -> String {
    fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// Why a path cannot be looked at, as the end of a sentence.
pub(crate) fn missing(e: &std::io::Error) -> String {
    if e.kind() == ErrorKind::NotFound {
        "does not exist".into()
    } else {
        format!("cannot be read ({e})")
    }
}

/// The program a shell wrapper runs and its arguments: the first command that is `exec PATH`
/// or starts with an absolute path or an `iris-freeze` word.
pub(crate) fn wrapper_call(text: &str) -> Option<(String, Vec<String>)> {
    for line in text.lines() {
        let mut w = words(line);
        if w.first().is_some_and(|f| f == "exec") {
            w.remove(0);
        }
        let Some(first) = w.first() else { continue };
        if first.starts_with('/') || first.ends_with("iris-freeze") {
            let prog = w.remove(0);
            return Some((prog, w));
        }
    }
    None
}

/// Whether a wrapper's program is, by its name, iris-freeze.
pub(crate) fn names_iris_freeze(prog: &str) -> bool {
    Path::new(prog)
        .file_name()
        .is_some_and(|n| n.to_string_lossy().contains("iris-freeze"))
}

/// The binary a wrapper runs (as written, or under --root).
pub(crate) fn resolve_exec(root: &Path, prog: &str) -> PathBuf {
    let p = PathBuf::from(prog);
    if fs::metadata(&p).is_err() && p.is_absolute() {
        let u = under(root, prog);
        if fs::metadata(&u).is_ok() {
            return u;
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_call_of_a_wrapper() {
        let (p, a) = wrapper_call(
            "#!/bin/sh\n# Installed by iris-freeze\nexec '/usr/local/sbin/iris-freeze' freeze\n",
        )
        .unwrap();
        assert_eq!(p, "/usr/local/sbin/iris-freeze");
        assert_eq!(a, ["freeze"]);
        let (p, a) =
            wrapper_call("#!/bin/sh\nset -e\n/x/iris-freeze thaw \"$@\"\nexit $?\n").unwrap();
        assert_eq!(p, "/x/iris-freeze");
        assert_eq!(a, ["thaw", "$@"]);
        assert!(wrapper_call("#!/bin/sh\necho hi\nexit 0\n").is_none());
    }

    #[test]
    fn root_is_uid_0_and_an_unknown_uid_is_its_number() {
        assert_eq!(owner_name(0), "root");
        assert_eq!(owner_name(4_000_000_000), "uid 4000000000");
    }
}
