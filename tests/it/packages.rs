//! The packages' removal scripts under the real `dpkg` and `rpm`: removing the package takes out
//! the hooks `install` wrote (and puts back the Azure plugin JSON it found), an upgrade keeps
//! them, and a purge (deb) or erase (rpm) removes the state the spec names. Each package is
//! installed into a throwaway root. dpkg runs the scripts outside it
//! (`--force-script-chrootless`, with DPKG_ROOT set); rpm chroots into it, so that root gets a
//! static busybox as /bin/sh (Debian's busybox-static) and the rpm test needs root.
//!
//! Needs the .deb and .rpm that `sh packaging/build.sh` puts in target/packages: ignored by a
//! plain `cargo test`, run by `.ci/run` after the build (`cargo test --test it --
//! --ignored packages::`), and failing, not skipping, when a package or a tool is missing.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const AZURE_JSON: &str = "/etc/azure/VMSnapshotScriptPluginConfig.json";
const THEIR_JSON: &str = "{\"preScriptLocation\": \"/opt/x/pre.sh\", \"postScriptLocation\": \"/opt/x/post.sh\", \"timeoutInSeconds\": 60, \"team\": \"dba\"}\n";
const HOOKS: [&str; 4] = [
    "/etc/azure/prescript.sh",
    "/etc/azure/postScript.sh",
    "/usr/sbin/pre-freeze-script",
    "/usr/sbin/post-thaw-script",
];

/// The .deb `sh packaging/build.sh` just built. These tests are ignored by a plain `cargo
/// test`: a package left from an older build would test old maintainer scripts. `.ci/run` runs
/// them right after building it.
fn the_deb() -> PathBuf {
    the_package("deb")
}

/// The .rpm `sh packaging/build.sh` just built.
fn the_rpm() -> PathBuf {
    the_package("rpm")
}

fn the_package(ext: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/packages");
    fs::read_dir(&dir)
        .ok()
        .and_then(|d| {
            d.filter_map(|e| Some(e.ok()?.path()))
                .find(|p| p.extension().is_some_and(|x| x == ext))
        })
        .unwrap_or_else(|| {
            panic!(
                "no .{ext} in {}: run `sh packaging/build.sh` first",
                dir.display()
            )
        })
}

fn at(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

/// A root dpkg can install into: an empty database.
fn dpkg_root() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for d in [
        "var/lib/dpkg/info",
        "var/lib/dpkg/updates",
        "var/log",
        "etc",
    ] {
        fs::create_dir_all(tmp.path().join(d)).unwrap();
    }
    for f in ["var/lib/dpkg/status", "var/lib/dpkg/available"] {
        fs::write(tmp.path().join(f), "").unwrap();
    }
    tmp
}

fn run(c: &mut Command) -> String {
    let out = c.output().unwrap();
    let text = format!(
        "{:?}: {}\n{}{}",
        c,
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    text
}

fn dpkg(root: &Path, args: &[&str]) -> String {
    run(&mut dpkg_command(root, args))
}

fn dpkg_command(root: &Path, args: &[&str]) -> Command {
    let mut c = Command::new("dpkg");
    c.arg(format!("--root={}", root.display()))
        .args([
            "--force-not-root",
            "--force-script-chrootless",
            "--force-depends",
            "--force-unsafe-io",
        ])
        .args(args)
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        );
    c
}

/// A root rpm can install into and run scriptlets in: rpm chroots into it to run them, so it
/// holds a static busybox as /bin/sh and the few commands the scripts call. --nodeps at each
/// install: the root's rpm database knows none of the system's packages (/bin/sh, logrotate).
fn rpm_root() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for d in ["bin", "etc", "proc", "var/lib/rpm", "tmp"] {
        fs::create_dir_all(tmp.path().join(d)).unwrap();
    }
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("no busybox: install Debian's busybox-static (rpm runs the scriptlets chrooted)");
    fs::copy(busybox, tmp.path().join("bin/busybox")).unwrap();
    for applet in ["sh", "grep", "rm"] {
        std::os::unix::fs::symlink("busybox", tmp.path().join("bin").join(applet)).unwrap();
    }
    tmp
}

fn rpm(root: &Path, args: &[&str]) -> String {
    run(&mut rpm_command(root, args))
}

/// rpm on this root, with its database inside it (Debian's rpm defaults to ~/.rpmdb). The root
/// gets a /proc, as a running system has (one test goes without), mounted in a mount namespace
/// of its own: it goes when rpm exits, whatever the test does.
fn rpm_command(root: &Path, args: &[&str]) -> Command {
    let mut c = Command::new("unshare");
    c.args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(r#"mount -t proc proc "$0/proc" && exec rpm --root "$0" --dbpath /var/lib/rpm "$@""#)
        .arg(root)
        .args(args);
    c
}

fn iris_freeze(root: &Path, args: &[&str]) -> String {
    run(Command::new(at(root, "/usr/sbin/iris-freeze"))
        .arg("--root")
        .arg(root)
        .args(args)
        .env_remove("IRIS_FREEZE_ROOT"))
}

/// Hook files that are still there, dangling links, or files still naming the binary.
fn leftovers(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for h in HOOKS {
        if fs::symlink_metadata(at(root, h)).is_ok() {
            out.push(format!("{h} is still there"));
        }
    }
    let mut stack = vec![root.join("etc"), root.join("usr")];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd {
            let p = e.unwrap().path();
            let md = fs::symlink_metadata(&p).unwrap();
            if md.is_dir() {
                // The packaged docs quote hook files, marker included: they are not hooks.
                if !p.ends_with("usr/share/doc") {
                    stack.push(p);
                }
            } else if md.file_type().is_symlink() && fs::metadata(&p).is_err() {
                out.push(format!("{} dangles", p.display()));
            } else if md.is_file()
                && md.len() < 64 * 1024
                && fs::read(&p)
                    .is_ok_and(|b| String::from_utf8_lossy(&b).contains("Installed by iris-freeze"))
            {
                out.push(format!("{} is still a hook", p.display()));
            }
        }
    }
    out
}

/// Someone else's Azure settings, there before iris-freeze; their path.
fn their_azure_json(root: &Path) -> PathBuf {
    let json = at(root, AZURE_JSON);
    fs::create_dir_all(json.parent().unwrap()).unwrap();
    fs::write(&json, THEIR_JSON).unwrap();
    fs::set_permissions(&json, fs::Permissions::from_mode(0o600)).unwrap();
    json
}

/// The installed binary installs the Azure and VMware hooks; the plugin JSON names ours.
fn install_azure_and_vmware(root: &Path, json: &Path) {
    iris_freeze(root, &["install", "azure"]);
    iris_freeze(root, &["install", "vmware"]);
    assert!(
        fs::read_to_string(json)
            .unwrap()
            .contains("/etc/azure/prescript.sh")
    );
}

/// After an upgrade (its output `out`), every hook is there, still pointing at the binary.
fn hooks_kept_after_an_upgrade(root: &Path, out: &str) {
    for h in HOOKS {
        assert!(
            fs::symlink_metadata(at(root, h)).is_ok(),
            "{h} gone after an upgrade\n{out}"
        );
    }
    assert_eq!(
        leftovers(root).len(),
        HOOKS.len() + 2,
        "{:?}",
        leftovers(root)
    );
    let link = fs::read_link(at(root, "/usr/sbin/pre-freeze-script")).unwrap();
    assert!(link.ends_with("usr/sbin/iris-freeze"), "{link:?}");
}

/// What a freeze leaves behind, and the logs the platforms name.
fn leave_what_a_freeze_leaves(root: &Path) {
    fs::create_dir_all(root.join("run/iris-freeze")).unwrap();
    fs::create_dir_all(root.join("var/lib/iris-freeze")).unwrap();
    fs::write(root.join("var/lib/iris-freeze/history.jsonl"), "{}\n").unwrap();
    fs::write(root.join("etc/preScript.log"), "a log line\n").unwrap();
}

/// After a removal (its output `out`): the binary and every hook gone, their JSON as it was.
fn removed_with_the_hooks(root: &Path, json: &Path, out: &str) {
    assert!(
        !at(root, "/usr/sbin/iris-freeze").exists(),
        "not removed\n{out}"
    );
    assert_eq!(leftovers(root), Vec::<String>::new(), "{out}");
    assert_eq!(fs::read_to_string(json).unwrap(), THEIR_JSON, "{out}");
    assert!(out.contains("restored"), "{out}");
}

#[test]
#[ignore = "needs the .deb of packaging/build.sh: cargo test --test it -- --ignored packages::"]
fn removing_the_deb_takes_out_the_hooks_an_upgrade_keeps_them_and_purge_the_state() {
    let deb = the_deb();
    let deb = deb.to_str().unwrap();
    let tmp = dpkg_root();
    let root = tmp.path();
    let json = their_azure_json(root);

    dpkg(root, &["--install", deb]);
    install_azure_and_vmware(root, &json);

    // An upgrade (the same .deb again) keeps every hook, still pointing at the binary.
    let out = dpkg(root, &["--install", deb]);
    hooks_kept_after_an_upgrade(root, &out);
    leave_what_a_freeze_leaves(root);

    let out = dpkg(root, &["--remove", "iris-freeze"]);
    removed_with_the_hooks(root, &json, &out);
    // A remove keeps the state; the purge removes it, and not the logs.
    assert!(root.join("var/lib/iris-freeze/history.jsonl").exists());
    let out = dpkg(root, &["--purge", "iris-freeze"]);
    assert!(!root.join("var/lib/iris-freeze").exists(), "{out}");
    assert!(!root.join("run/iris-freeze").exists(), "{out}");
    assert!(root.join("etc/preScript.log").exists(), "{out}");
    assert!(!root.join("etc/iris-freeze.toml").exists(), "{out}");
}

/// Installs the Azure hooks, then puts something uninstall cannot read where the plugin JSON
/// should be; returns its path.
fn unreadable_azure_json(root: &Path) -> PathBuf {
    iris_freeze(root, &["install", "azure"]);
    let json = at(root, AZURE_JSON);
    fs::remove_file(&json).unwrap();
    fs::create_dir(&json).unwrap();
    json
}

/// The removal failed, said why, and left the binary in place.
fn stopped_for_the_hooks(root: &Path, out: &Output) {
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("could not uninstall the azure hooks"),
        "{text}"
    );
    assert!(at(root, "/usr/sbin/iris-freeze").exists(), "{text}");
}

#[test]
#[ignore = "needs the .deb of packaging/build.sh: cargo test --test it -- --ignored packages::"]
fn a_removal_that_cannot_uninstall_the_hooks_stops_and_says_why() {
    let deb = the_deb();
    let tmp = dpkg_root();
    let root = tmp.path();
    dpkg(root, &["--install", deb.to_str().unwrap()]);
    let json = unreadable_azure_json(root);
    let out = dpkg_command(root, &["--remove", "iris-freeze"])
        .output()
        .unwrap();
    stopped_for_the_hooks(root, &out);
    // Fixed, the removal goes through.
    fs::remove_dir(&json).unwrap();
    let out = dpkg(root, &["--remove", "iris-freeze"]);
    assert_eq!(leftovers(root), Vec::<String>::new(), "{out}");
}

#[test]
#[ignore = "needs the .rpm of packaging/build.sh: cargo test --test it -- --ignored packages::"]
fn erasing_the_rpm_takes_out_the_hooks_an_upgrade_keeps_them_and_the_state_dir_goes() {
    let pkg = the_rpm();
    let pkg = pkg.to_str().unwrap();
    let tmp = rpm_root();
    let root = tmp.path();
    let json = their_azure_json(root);

    rpm(root, &["--initdb"]);
    rpm(root, &["-i", "--nodeps", pkg]);
    install_azure_and_vmware(root, &json);

    // An upgrade (the same .rpm again: the old one's %preun and %postun run with $1 = 1) keeps
    // every hook, still pointing at the binary.
    let out = rpm(root, &["-U", "--replacepkgs", "--nodeps", pkg]);
    hooks_kept_after_an_upgrade(root, &out);
    leave_what_a_freeze_leaves(root);

    let out = rpm(root, &["-e", "iris-freeze"]);
    removed_with_the_hooks(root, &json, &out);
    // rpm has no purge: an erase removes the state dir, and keeps the history and the logs.
    assert!(!root.join("run/iris-freeze").exists(), "{out}");
    assert!(
        root.join("var/lib/iris-freeze/history.jsonl").exists(),
        "{out}"
    );
    assert!(root.join("etc/preScript.log").exists(), "{out}");
    assert!(!root.join("etc/iris-freeze.toml").exists(), "{out}");
}

#[test]
#[ignore = "needs the .rpm of packaging/build.sh: cargo test --test it -- --ignored packages::"]
fn an_rpm_erase_that_cannot_uninstall_the_hooks_stops_and_says_why() {
    let pkg = the_rpm();
    let tmp = rpm_root();
    let root = tmp.path();
    rpm(root, &["--initdb"]);
    rpm(root, &["-i", "--nodeps", pkg.to_str().unwrap()]);
    let json = unreadable_azure_json(root);
    let out = rpm_command(root, &["-e", "iris-freeze"]).output().unwrap();
    stopped_for_the_hooks(root, &out);
    // Fixed, the erase goes through.
    fs::remove_dir(&json).unwrap();
    let out = rpm(root, &["-e", "iris-freeze"]);
    assert_eq!(leftovers(root), Vec::<String>::new(), "{out}");
}

/// Without /proc in the root (a chroot nobody mounted it in: rpm --root, dnf --installroot, an
/// image build), `uninstall` cannot find its own path; it tells the hooks by what they are, so
/// the erase still takes out iris-freeze's hooks, and leaves someone else's file.
#[test]
#[ignore = "needs the .rpm of packaging/build.sh: cargo test --test it -- --ignored packages::"]
fn an_rpm_erase_in_a_root_without_proc_takes_out_the_hooks_and_keeps_a_foreign_file() {
    let pkg = the_rpm();
    let tmp = rpm_root();
    let root = tmp.path();
    rpm(root, &["--initdb"]);
    rpm(root, &["-i", "--nodeps", pkg.to_str().unwrap()]);
    iris_freeze(root, &["install", "vmware"]);
    let theirs = at(root, "/etc/azure/prescript.sh");
    fs::create_dir_all(theirs.parent().unwrap()).unwrap();
    fs::write(&theirs, "#!/bin/sh\necho theirs\n").unwrap();
    let out = run(Command::new("rpm").arg("--root").arg(root).args([
        "--dbpath",
        "/var/lib/rpm",
        "-e",
        "iris-freeze",
    ]));
    assert!(!at(root, "/usr/sbin/iris-freeze").exists(), "{out}");
    assert!(
        fs::symlink_metadata(at(root, "/usr/sbin/pre-freeze-script")).is_err(),
        "{out}"
    );
    assert!(
        fs::symlink_metadata(at(root, "/usr/sbin/post-thaw-script")).is_err(),
        "{out}"
    );
    assert_eq!(
        fs::read_to_string(&theirs).unwrap(),
        "#!/bin/sh\necho theirs\n",
        "{out}"
    );
    assert!(out.contains("not installed by iris-freeze"), "{out}");
}
