//! What a test needs to run iris-freeze as another user (`nobody`): the programs where that
//! user can reach them (the checkout may sit under /root, 0700), and files of theirs.

use std::fs;
use std::os::unix::fs::{PermissionsExt, chown};
use std::path::{Path, PathBuf};

use super::{BIN, Env};

/// iris-freeze and the simulator in a directory of the host every user can reach (linked when
/// the file system allows, else copied); the simulator's programs point there. The host's temp
/// dir becomes 0755 for it. Returns iris-freeze's path.
pub fn reachable_programs(env: &Env) -> PathBuf {
    fs::set_permissions(env.tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let dir = env.tmp.path().join("opt");
    fs::create_dir_all(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    let place = |from: &Path, name: &str| {
        let to = dir.join(name);
        if fs::hard_link(from, &to).is_err() {
            fs::copy(from, &to).unwrap();
        }
        to
    };
    let sim = place(&super::simulator(), "iris-sim");
    for p in ["iris", "csession", "ccontrol"] {
        let link = env.bin.join(p);
        fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink(&sim, &link).unwrap();
    }
    place(Path::new(BIN), "iris-freeze")
}

pub fn chown_tree(dir: &Path, uid: u32, gid: u32) {
    chown(dir, Some(uid), Some(gid)).unwrap();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            chown_tree(&p, uid, gid);
        } else {
            chown(&p, Some(uid), Some(gid)).unwrap();
        }
    }
}
