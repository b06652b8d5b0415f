//! The registry: every directory of `$IRIS_SIM_DIR` with a `conf` is an instance, listed by
//! name; `iris` serves `registry=iris`, `csession`/`ccontrol` serve `registry=cache`.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process;

use super::conf::{Conf, read_kv};

pub(crate) struct Instance {
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    pub(crate) conf: Conf,
}

impl Instance {
    /// Exists iff the write daemon is suspended.
    pub(crate) fn frozen_path(&self) -> PathBuf {
        self.path.join("frozen")
    }

    pub(crate) fn is_frozen(&self) -> bool {
        self.frozen_path().exists()
    }
}

/// `$IRIS_SIM_DIR`, created if missing; exits 1 when it is not set.
pub(crate) fn root_dir() -> PathBuf {
    match env::var_os("IRIS_SIM_DIR") {
        Some(v) if !v.is_empty() => {
            let p = PathBuf::from(v);
            let _ = fs::create_dir_all(&p);
            p
        }
        _ => {
            eprintln!("iris-sim: IRIS_SIM_DIR is not set");
            process::exit(1)
        }
    }
}

fn load_instance(root: &Path, name: &str) -> Option<Instance> {
    let path = root.join(name);
    let pairs = read_kv(&path.join("conf")).ok()?;
    Some(Instance {
        name: name.to_string(),
        conf: Conf::from_pairs(&pairs),
        path,
    })
}

fn all_instances(root: &Path) -> Vec<Instance> {
    let mut list: Vec<Instance> = fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|n| load_instance(root, &n))
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    list
}

/// The instances of one registry, sorted by name.
pub(crate) fn registry_instances(root: &Path, registry: &str) -> Vec<Instance> {
    all_instances(root)
        .into_iter()
        .filter(|i| i.conf.registry == registry)
        .collect()
}

/// Instance names are case-insensitive, as in IRIS; an exact match is preferred.
pub(crate) fn find_instance(root: &Path, registry: &str, name: &str) -> Option<Instance> {
    let list = registry_instances(root, registry);
    let pos = list
        .iter()
        .position(|i| i.name == name)
        .or_else(|| list.iter().position(|i| i.name.eq_ignore_ascii_case(name)))?;
    list.into_iter().nth(pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(root: &Path, name: &str, conf: &str) {
        fs::create_dir_all(root.join(name)).expect("mkdir");
        fs::write(root.join(name).join("conf"), conf).expect("write conf");
    }

    #[test]
    fn registries_are_sorted_and_lookups_prefer_the_exact_name() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        add(root, "b", "product=IRIS\n");
        add(root, "B", "product=IRIS\n");
        add(root, "A", "product=IRIS\n");
        add(root, "OLD", "");
        fs::create_dir_all(root.join("noconf")).expect("mkdir");
        let names = |r: &str| -> Vec<String> {
            registry_instances(root, r)
                .into_iter()
                .map(|i| i.name)
                .collect()
        };
        assert_eq!(names("iris"), ["A", "B", "b"]);
        assert_eq!(names("cache"), ["OLD"]);
        let name = |n: &str| find_instance(root, "iris", n).map(|i| i.name);
        assert_eq!(name("b").as_deref(), Some("b"));
        assert_eq!(name("a").as_deref(), Some("A"));
        assert_eq!(name("OLD"), None);
        assert_eq!(
            find_instance(root, "cache", "old")
                .map(|i| i.name)
                .as_deref(),
            Some("OLD")
        );
    }
}
