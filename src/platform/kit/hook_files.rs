//! What hook files are made of: a link to the binary or a wrapper's text, and how a file
//! installed by iris-freeze is told from someone else's.

use std::fs;
use std::path::Path;

use crate::platform::spec::{Form, HookFile, Wrapper};
use crate::util::file_transaction::Content;
use crate::util::shell::sh_quote;

/// Every file `install` writes carries this; `uninstall` removes only files that do (or
/// symlinks to the binary).
pub(crate) const MARKER: &str = "Installed by iris-freeze";

/// A wrapper's exact text.
fn wrapper_text(w: &Wrapper, bin: &Path) -> String {
    format!(
        "#!/bin/sh\n# {MARKER}: {}\nexec {} {}{}\n",
        w.comment,
        sh_quote(&bin.to_string_lossy()),
        w.verb,
        if w.pass_args { " \"$@\"" } else { "" }
    )
}

/// What `install` puts at a hook file's path.
pub(crate) fn content_of(file: &HookFile, bin: &Path) -> Content {
    match &file.form {
        Form::Link => Content::Link(bin.to_path_buf()),
        Form::Wrapper(w) => Content::File {
            bytes: wrapper_text(w, bin).into_bytes(),
            mode: w.mode,
        },
    }
}

/// Whether `path` is something iris-freeze installed: a symlink to `bin` (this binary, when its
/// path is known) or to any file named `iris-freeze` (where the packages and the Ansible role
/// put it, or a binary since removed), or a file carrying the marker. Never follows a symlink
/// for the marker. Needs nothing but the file itself when `bin` is None: `uninstall` works in a
/// chroot without /proc, where this program cannot find its own path.
pub(crate) fn is_ours(path: &Path, bin: Option<&Path>) -> bool {
    let Ok(md) = fs::symlink_metadata(path) else {
        return false;
    };
    if md.file_type().is_symlink() {
        if bin.is_some_and(|b| fs::canonicalize(path).is_ok_and(|t| t == b)) {
            return true;
        }
        return fs::read_link(path)
            .ok()
            .and_then(|t| t.file_name().map(|n| n == "iris-freeze"))
            .unwrap_or(false);
    }
    md.is_file() && md.len() < 64 * 1024 && has_marker(path)
}

fn has_marker(path: &Path) -> bool {
    fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).contains(MARKER))
        .unwrap_or(false)
}

/// A few words on what sits at `path`.
pub(crate) fn describe(path: &Path) -> String {
    match fs::symlink_metadata(path) {
        Err(_) => "missing".into(),
        Ok(md) if md.file_type().is_symlink() => match fs::read_link(path) {
            Ok(t) => format!("a symlink to {}", t.display()),
            Err(_) => "a symlink".into(),
        },
        Ok(md) if md.is_dir() => "a directory".into(),
        Ok(md) if md.is_file() => {
            let head = fs::read(path)
                .map(|b| b.into_iter().take(4).collect::<Vec<u8>>())
                .unwrap_or_default();
            if head == b"\x7fELF" {
                "a binary".into()
            } else {
                format!("a file of {} bytes", md.len())
            }
        }
        Ok(_) => "not a regular file".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::Platform;

    #[test]
    fn the_azure_wrapper_is_exactly_this() {
        let h = Platform::Azure
            .hook_files(Path::new("/nonexistent"))
            .next()
            .unwrap();
        let Form::Wrapper(w) = h.file().unwrap().form else {
            panic!("not a wrapper")
        };
        assert_eq!(
            wrapper_text(&w, Path::new("/abs/path/iris-freeze")),
            "#!/bin/sh\n# Installed by iris-freeze: Azure Backup pre-script. Azure runs it as \
             `sh <file> \"\" \"\"`.\nexec '/abs/path/iris-freeze' azure-pre \"$@\"\n"
        );
    }

    #[test]
    fn the_nutanix_wrapper_passes_no_arguments_on() {
        let h = Platform::Nutanix
            .hook_files(Path::new("/nonexistent"))
            .nth(1)
            .unwrap();
        let Form::Wrapper(w) = h.file().unwrap().form else {
            panic!("not a wrapper")
        };
        assert!(
            wrapper_text(&w, Path::new("/x/iris-freeze"))
                .ends_with("\nexec '/x/iris-freeze' thaw\n")
        );
    }

    #[test]
    fn a_file_with_the_marker_or_a_link_to_the_binary_is_ours() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = tmp.path().join("iris-freeze");
        fs::write(&bin, "").unwrap();
        let marked = tmp.path().join("marked");
        fs::write(&marked, format!("#!/bin/sh\n# {MARKER}: x\n")).unwrap();
        let other = tmp.path().join("other");
        fs::write(&other, "#!/bin/sh\n").unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&bin, &link).unwrap();
        let link_to_marked = tmp.path().join("link2");
        std::os::unix::fs::symlink(&marked, &link_to_marked).unwrap();
        for bin in [Some(bin.as_path()), None] {
            assert!(is_ours(&marked, bin));
            assert!(is_ours(&link, bin));
            assert!(!is_ours(&other, bin));
            assert!(!is_ours(&link_to_marked, bin));
            assert!(!is_ours(&tmp.path().join("missing"), bin));
        }
        // A binary under another name is known only by its path.
        let renamed = tmp.path().join("iris-freeze-0.1");
        fs::write(&renamed, "").unwrap();
        let link_to_renamed = tmp.path().join("link3");
        std::os::unix::fs::symlink(&renamed, &link_to_renamed).unwrap();
        assert!(is_ours(&link_to_renamed, Some(&renamed)));
        assert!(!is_ours(&link_to_renamed, Some(&bin)));
        assert!(!is_ours(&link_to_renamed, None));
        assert_eq!(describe(&other), "a file of 10 bytes");
        assert_eq!(describe(&tmp.path().join("missing")), "missing");
    }
}
