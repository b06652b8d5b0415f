//! `install` and `uninstall --root DIR` as root never follow a path out of DIR: a tree another
//! user can write is refused, the record of created directories is never written through a
//! link, and a symlink in the tree resolves inside it. The real binary, a temp dir as DIR.

use std::fs;
use std::os::unix::fs::{PermissionsExt, chown, symlink};
use std::path::{Path, PathBuf};

use crate::common::Env;

/// A uid no one on the host has: "another user".
const OTHER: u32 = 12345;

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// A host with an existing root (0755, root's) and a victim file outside it.
fn host() -> (Env, PathBuf) {
    let env = Env::new();
    env.iris("IRIS");
    fs::create_dir_all(env.root()).unwrap();
    fs::set_permissions(env.root(), fs::Permissions::from_mode(0o755)).unwrap();
    let victim = env.tmp.path().join("victim");
    fs::write(&victim, "precious\n").unwrap();
    (env, victim)
}

/// Every path under `dir`, sorted.
fn paths(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if fs::symlink_metadata(&p).unwrap().is_dir() {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn a_tree_others_can_write_is_refused_and_its_planted_record_link_is_never_written() {
    if !is_root() {
        return; // root's behaviour
    }
    let (env, victim) = host();
    let root = env.root();
    // Whoever can write the tree plants the record's temp name as a link to any file.
    let lib = root.join("var/lib/iris-freeze");
    fs::create_dir_all(&lib).unwrap();
    symlink(&victim, lib.join(".installed-dirs.tmp")).unwrap();
    for (mode, owner) in [(0o777, 0), (0o755, OTHER)] {
        fs::set_permissions(&root, fs::Permissions::from_mode(mode)).unwrap();
        chown(&root, Some(owner), None).unwrap();
        let before = paths(&root);
        for verb in ["install", "uninstall"] {
            let r = env.run(&[verb, "vmware"]);
            let t = format!("{verb} with the root {mode:o} uid {owner}: {}", r.text());
            assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n", "{t}");
            assert_eq!(r.code, 1, "{t}");
            assert!(
                r.stderr
                    .contains(&format!("refusing --root {}", root.display()))
                    && r.stderr
                        .contains(&format!("chown root:root {}", root.display()))
                    && r.stderr.contains(&format!("chmod go-w {}", root.display())),
                "{t}"
            );
            assert_eq!(paths(&root), before, "{t}");
        }
    }
}

#[test]
fn a_link_in_the_tree_resolves_inside_it_and_never_writes_or_removes_outside() {
    if !is_root() {
        return;
    }
    let (env, _) = host();
    let root = env.root();
    let outside = env.tmp.path().join("outside");
    fs::create_dir_all(outside.join("azure")).unwrap();
    // An image whose /etc is a link naming a path of this host.
    symlink(&outside, root.join("etc")).unwrap();
    let r = env.run(&["install", "azure"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(paths(&outside).len() == 1, "{:?}", paths(&outside));
    // Taken from the tree's root, as the booted image would.
    let inside = root.join(outside.strip_prefix("/").unwrap());
    assert!(inside.join("azure/prescript.sh").is_file(), "{}", r.text());

    // A hook of ours outside is not uninstall's either.
    let ours = outside.join("azure/prescript.sh");
    fs::copy(inside.join("azure/prescript.sh"), &ours).unwrap();
    let r = env.run(&["uninstall", "azure"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(ours.exists(), "{}", r.text());
    assert!(!inside.join("azure/prescript.sh").exists(), "{}", r.text());
}

#[test]
fn a_link_or_a_directory_another_user_owns_in_the_tree_is_refused() {
    if !is_root() {
        return;
    }
    let (env, _) = host();
    let root = env.root();
    let outside = env.tmp.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    // Another user's link: they could point it anywhere, at any time.
    fs::create_dir_all(root.join("usr")).unwrap();
    symlink("/", root.join("usr/sbin")).unwrap();
    std::os::unix::fs::lchown(root.join("usr/sbin"), Some(OTHER), None).unwrap();
    let r = env.run(&["install", "vmware"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        r.stderr.contains("a symlink owned by uid 12345"),
        "{}",
        r.text()
    );
    // Another user's directory.
    fs::remove_file(root.join("usr/sbin")).unwrap();
    fs::create_dir(root.join("usr/sbin")).unwrap();
    chown(root.join("usr/sbin"), Some(OTHER), Some(OTHER)).unwrap();
    let r = env.run(&["install", "vmware"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        r.stderr.contains("sbin is owned by uid 12345"),
        "{}",
        r.text()
    );
    assert!(
        fs::read_dir(root.join("usr/sbin"))
            .unwrap()
            .next()
            .is_none()
    );
}
