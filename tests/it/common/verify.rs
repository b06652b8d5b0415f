//! What the tests of `verify` share, on copies of the simulator's tree (verify.rs) and on real
//! btrfs snapshots (btrfs.rs): instances with a tree, and `verify`'s answer read back.

use std::fs;
use std::path::Path;

use serde_json::Value;

use super::{Env, Run};

/// Adds an IRIS instance whose tree the simulator models (messages.log, journals, WIJ) at `dir`,
/// which must be inside the simulator's directory (`Env::sim`): the simulator writes no tree
/// anywhere else.
pub fn add_with_tree(env: &Env, name: &str, dir: &Path) {
    fs::create_dir_all(dir.join("mgr")).unwrap();
    env.add(name, &["product=IRIS", &format!("dir={}/", dir.display())]);
}

/// `verify --root SNAP`.
pub fn verify(env: &Env, snap: &Path) -> Run {
    env.run(&["verify", "--root", snap.to_str().unwrap()])
}

/// `verify --root SNAP --json`, parsed.
pub fn verify_json(env: &Env, snap: &Path) -> (Run, Value) {
    let r = env.run(&["verify", "--root", snap.to_str().unwrap(), "--json"]);
    let v = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.text()));
    (r, v)
}

/// The verdict `verify --json` gives instance `name`.
pub fn verdict_of<'a>(v: &'a Value, name: &str) -> &'a str {
    v["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .and_then(|i| i["verdict"].as_str())
        .unwrap_or_else(|| panic!("no verdict for {name}: {v}"))
}
