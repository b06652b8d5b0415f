//! `packaging/check-glibc.sh`, the packaging build's gate on the GLIBC a binary needs: it passes
//! only what it has read, and fails, naming why, when it cannot read it (no file, not ELF, no
//! objdump, objdump failing). The static release binary `packaging/build.sh` makes is checked
//! by an ignored test, run by `.ci/run` after that build.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/check-glibc.sh")
}

/// The debug build: dynamically linked against the build machine's glibc.
fn dynamic_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_iris-freeze"))
}

fn check(bin: &Path, max: &str, path: Option<&Path>) -> Output {
    let mut c = Command::new("/bin/sh");
    c.arg(script()).arg(bin).arg(max);
    if let Some(p) = path {
        c.env("PATH", p);
    }
    c.output().unwrap()
}

fn fails_saying(out: &Output, what: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains(what),
        "expected a failure naming {what:?}: {}\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    assert!(!stdout.contains("statically linked"), "{stdout}");
}

/// A PATH holding the tools the script uses besides objdump, and `objdump` if given.
fn path_without_objdump(dir: &Path, objdump: Option<&str>) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir(&bin).unwrap();
    for tool in ["grep", "sed", "sort", "tail"] {
        let real = ["/usr/bin", "/bin"]
            .iter()
            .map(|d| Path::new(d).join(tool))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("no {tool} in /usr/bin or /bin"));
        std::os::unix::fs::symlink(real, bin.join(tool)).unwrap();
    }
    if let Some(body) = objdump {
        let fake = bin.join("objdump");
        std::fs::write(&fake, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

#[test]
fn a_missing_binary_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let out = check(&tmp.path().join("iris-freeze"), "2.17", None);
    fails_saying(&out, "no such file");
}

#[test]
fn a_file_that_is_not_elf_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("iris-freeze");
    std::fs::write(&file, "#!/bin/sh\necho hi\n").unwrap();
    let out = check(&file, "2.17", None);
    fails_saying(&out, "ELF");
}

#[test]
fn without_objdump_it_fails_and_says_what_to_install() {
    let tmp = tempfile::tempdir().unwrap();
    let path = path_without_objdump(tmp.path(), None);
    let out = check(dynamic_binary(), "2.17", Some(&path));
    fails_saying(&out, "objdump is missing: install binutils");
}

#[test]
fn an_objdump_that_fails_fails_the_check() {
    let tmp = tempfile::tempdir().unwrap();
    let path = path_without_objdump(tmp.path(), Some("echo 'objdump: broken' >&2; exit 1"));
    let out = check(dynamic_binary(), "2.17", Some(&path));
    fails_saying(&out, "objdump -p");
}

/// The dynamic debug build needs some GLIBC_2.x: above a baseline older than any glibc it
/// fails and lists the symbols; under one from the future it passes.
#[test]
fn a_dynamic_binary_is_held_to_the_baseline() {
    let out = check(dynamic_binary(), "2.0", None);
    fails_saying(&out, "newer than the 2.0 baseline");
    let out = check(dynamic_binary(), "99.0", None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains("needs at most GLIBC_2."), "{stdout}");
}

/// What the packages ship: the static release build passes as statically linked.
#[test]
#[ignore = "needs the static binary of packaging/build.sh: cargo test --test it -- --ignored check_glibc::"]
fn the_static_release_binary_passes() {
    let triple = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let bin = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(triple)
        .join("release/iris-freeze");
    assert!(
        bin.exists(),
        "no {}: run `sh packaging/build.sh` first",
        bin.display()
    );
    let out = check(&bin, "2.17", None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains("is statically linked"), "{stdout}");
}
