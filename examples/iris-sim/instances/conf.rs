//! `NAME/conf`: `key=value` lines, and the IRIS or Caché defaults of missing keys.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::Path;

pub(crate) const CONF_KEYS: &[&str] = &[
    "product",
    "registry",
    "version",
    "status",
    "dir",
    "fields",
    "health",
    "mirror_type",
    "mirror_status",
    "user",
    "password",
    "shard_namespace",
    "shard_nodes",
    "host",
    "session_exit",
];

const JOURNAL_FILE: &str = "20261125.002";

#[derive(Debug)]
pub(crate) struct Conf {
    pub(crate) product: String,
    pub(crate) registry: String,
    pub(crate) version: String,
    pub(crate) status: String,
    pub(crate) dir: String,
    pub(crate) fields: usize,
    pub(crate) health: String,
    pub(crate) mirror_type: String,
    pub(crate) mirror_status: String,
    pub(crate) user: String,
    pub(crate) password: String,
    /// Set on a sharded cluster's shard master: its master namespace.
    pub(crate) shard_namespace: String,
    /// The master's data nodes: other instances' names.
    pub(crate) shard_nodes: Vec<String>,
    /// The host name CheckpointInfo gives this data server: its name in lower case by default.
    pub(crate) host: String,
    /// The exit status of a session fed its line on stdin, whatever the line did: 0 by default.
    pub(crate) session_exit: i32,
}

impl Conf {
    pub(crate) fn from_pairs(pairs: &[(String, String)]) -> Conf {
        let map: HashMap<&str, &str> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let get = |k: &str| map.get(k).map(|v| v.to_string());
        let product = get("product").unwrap_or_default();
        let registry = get("registry")
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| if product.is_empty() { "cache" } else { "iris" }.to_string());
        let iris = registry == "iris";
        let nonempty = |k: &str, d: &str| get(k).filter(|v| !v.is_empty()).unwrap_or(d.into());
        let pick = |iris_default: &str, cache_default: &str| {
            if iris { iris_default } else { cache_default }.to_string()
        };
        Conf {
            version: nonempty("version", &pick("2024.1.0.263.0", "2018.1.4.505.1")),
            status: nonempty("status", "running"),
            dir: nonempty("dir", &pick("/usr/irissys/", "/usr/cachesys/")),
            fields: get("fields")
                .and_then(|f| f.trim().parse().ok())
                .unwrap_or(if iris { 14 } else { 12 }),
            health: get("health").unwrap_or_else(|| "ok".into()),
            mirror_type: get("mirror_type").unwrap_or_default(),
            mirror_status: get("mirror_status").unwrap_or_default(),
            user: get("user").unwrap_or_else(|| "_SYSTEM".into()),
            password: get("password").unwrap_or_else(|| "SYS".into()),
            shard_namespace: get("shard_namespace").unwrap_or_default(),
            shard_nodes: get("shard_nodes")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(String::from)
                .collect(),
            host: get("host").unwrap_or_default(),
            session_exit: get("session_exit")
                .and_then(|e| e.trim().parse().ok())
                .unwrap_or(0),
            product,
            registry,
        }
    }

    pub(crate) fn is_iris(&self) -> bool {
        self.registry == "iris"
    }

    pub(crate) fn running(&self) -> bool {
        self.status == "running"
    }

    /// The journal file a freeze switches to, under `dir`.
    pub(crate) fn journal(&self) -> String {
        let sep = if self.dir.ends_with('/') { "" } else { "/" };
        format!("{}{sep}mgr/journal/{JOURNAL_FILE}", self.dir)
    }
}

/// The `key=value` lines of a file, skipping blank and `#` lines; CRs at line ends dropped.
pub(crate) fn read_kv(path: &Path) -> io::Result<Vec<(String, String)>> {
    Ok(parse_kv(&fs::read_to_string(path)?))
}

fn parse_kv(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(text: &str) -> Conf {
        Conf::from_pairs(&parse_kv(text))
    }

    #[test]
    fn kv_lines_skip_comments_and_blanks_and_keep_values_as_written() {
        let pairs =
            parse_kv("# comment\n\n product = IRIS\r\nnoequals\nstatus= sign-on inhibited\n");
        assert_eq!(
            pairs,
            [
                ("product".to_string(), " IRIS".to_string()),
                ("status".to_string(), " sign-on inhibited".to_string()),
            ]
        );
    }

    #[test]
    fn an_empty_product_means_cache_with_its_defaults() {
        let c = conf("");
        assert_eq!(c.registry, "cache");
        assert!(!c.is_iris());
        assert_eq!(c.version, "2018.1.4.505.1");
        assert_eq!(c.dir, "/usr/cachesys/");
        assert_eq!(c.fields, 12);
        assert!(c.running());
        assert_eq!((c.user.as_str(), c.password.as_str()), ("_SYSTEM", "SYS"));
        assert_eq!(c.health, "ok");
        assert_eq!(c.journal(), "/usr/cachesys/mgr/journal/20261125.002");
    }

    #[test]
    fn a_product_means_iris_unless_the_registry_says_otherwise() {
        let c = conf("product=IRISHealth\n");
        assert_eq!(c.registry, "iris");
        assert_eq!(c.version, "2024.1.0.263.0");
        assert_eq!(c.dir, "/usr/irissys/");
        assert_eq!(c.fields, 14);
        let c = conf("product=IRIS\nregistry=cache\nversion=\n");
        assert_eq!(c.registry, "cache");
        assert_eq!(c.version, "2018.1.4.505.1");
    }

    #[test]
    fn explicit_keys_win() {
        let c = conf("registry=iris\nstatus=down\ndir=/opt/x\nfields=8\nhealth=\n");
        assert!(c.is_iris());
        assert!(!c.running());
        assert_eq!(c.fields, 8);
        assert_eq!(c.health, "");
        assert_eq!(c.journal(), "/opt/x/mgr/journal/20261125.002");
    }
}
