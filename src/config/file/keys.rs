//! The config file's keys: each one's value checked, in plain words when it is wrong, and an
//! unknown key with the known one it most likely meant.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::MirrorPolicy;
use crate::config::instance::{INSTANCES, InstanceName, instance_names};
use crate::config::seconds::{CMD_TIMEOUT, MAX_FREEZE, TIMEOUT};
use crate::config::source::Source;

/// Every key, for the "did you mean" of an unknown one.
pub(in crate::config) const KEYS: &[&str] = &[
    "instances",
    "timeout",
    "max_freeze",
    "freeze_log",
    "thaw_log",
    "state_dir",
    "history_file",
    "metrics_file",
    "bin_dirs",
    "credentials_file",
    "external_freeze_timeout",
    "wd_suspend_limit",
    "switch_journal",
    "set_history",
    "mirror_primary",
    "journal",
    "sharded_namespace",
    "cmd_timeout",
];

/// The settings the file gave, each already checked.
#[derive(Debug, Default)]
pub(crate) struct FileConfig {
    pub(crate) instances: Option<Vec<InstanceName>>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) max_freeze: Option<Duration>,
    /// `run`'s CMD deadline.
    pub(crate) cmd_timeout: Option<Duration>,
    pub(crate) freeze_log: Option<PathBuf>,
    pub(crate) thaw_log: Option<PathBuf>,
    pub(crate) state_dir: Option<PathBuf>,
    pub(crate) history_file: Option<PathBuf>,
    pub(crate) metrics_file: Option<PathBuf>,
    pub(crate) bin_dirs: Option<Vec<PathBuf>>,
    pub(crate) credentials_file: Option<PathBuf>,
    pub(crate) external_freeze_timeout: Option<u32>,
    pub(crate) wd_suspend_limit: Option<u32>,
    pub(crate) switch_journal: Option<bool>,
    pub(crate) set_history: Option<bool>,
    pub(crate) mirror_primary: Option<MirrorPolicy>,
    /// `--sharded`'s default: the shard master namespace.
    pub(crate) sharded_namespace: Option<String>,
    /// Events to journald as well (`host::journal`).
    pub(crate) journal: Option<bool>,
}

impl FileConfig {
    /// Takes one key's value, or says in plain words what is wrong with it (never quoting a
    /// string from the file: only the key, known or not).
    pub(super) fn set(&mut self, key: &str, v: &toml::Value, path: &Path) -> Result<(), String> {
        let must = |what: &str| format!("{key} in {} must be {what}", path.display());
        let a_path = |example: &str| {
            let what = format!("a path in quotes, e.g. \"{example}\"");
            text_of(v).map(PathBuf::from).ok_or_else(|| must(&what))
        };
        let absolute = |example: &str| {
            let path = a_path(example)?;
            if path.is_relative() {
                return Err(must(&format!("an absolute path, e.g. \"{example}\"")));
            }
            Ok(path)
        };
        let whole = || whole_seconds(v).ok_or_else(|| must("a whole number of seconds, e.g. 600"));
        let boolean = || v.as_bool().ok_or_else(|| must("true or false"));
        match key {
            "instances" => self.instances = Some(instances(v, path)?),
            "sharded_namespace" => {
                let ns = text_of(v)
                    .ok_or_else(|| must("a namespace in quotes, e.g. \"IRISCLUSTER\""))?;
                crate::iris::sharded::parse_namespace(ns)
                    .map_err(|_| must("a namespace name in quotes, e.g. \"IRISCLUSTER\""))?;
                self.sharded_namespace = Some(ns.to_string());
            }
            "timeout" => self.timeout = Some(TIMEOUT.parse_value(v, path)?),
            "max_freeze" => self.max_freeze = Some(MAX_FREEZE.parse_value(v, path)?),
            "cmd_timeout" => self.cmd_timeout = Some(CMD_TIMEOUT.parse_value(v, path)?),
            "freeze_log" => self.freeze_log = Some(a_path("/etc/preScript.log")?),
            "thaw_log" => self.thaw_log = Some(a_path("/etc/postScript.log")?),
            "state_dir" => self.state_dir = Some(absolute("/run/iris-freeze")?),
            "history_file" => {
                self.history_file = Some(absolute("/var/lib/iris-freeze/history.jsonl")?)
            }
            "metrics_file" => {
                let example = "/var/lib/prometheus/node-exporter/iris-freeze.prom";
                self.metrics_file = Some(absolute(example)?);
            }
            "bin_dirs" => {
                let dirs = v.as_array().and_then(|a| a.iter().map(text_of).collect());
                let what = "a list of directories, e.g. [\"/usr/irissys/bin\"]";
                let dirs: Vec<&str> = dirs.ok_or_else(|| must(what))?;
                self.bin_dirs = Some(dirs.into_iter().map(PathBuf::from).collect());
            }
            "credentials_file" => {
                self.credentials_file = Some(a_path("/etc/iris-freeze.credentials")?)
            }
            "external_freeze_timeout" => self.external_freeze_timeout = Some(whole()?),
            "wd_suspend_limit" => self.wd_suspend_limit = Some(whole()?),
            "switch_journal" => self.switch_journal = Some(boolean()?),
            "set_history" => self.set_history = Some(boolean()?),
            "journal" => self.journal = Some(boolean()?),
            "mirror_primary" => {
                self.mirror_primary = Some(match v.as_str() {
                    Some("warn") => MirrorPolicy::Warn,
                    Some("refuse") => MirrorPolicy::Refuse,
                    _ => return Err(must("\"warn\" or \"refuse\"")),
                })
            }
            _ => return Err(unknown_key(key, path)),
        }
        Ok(())
    }
}

/// A non-empty string.
fn text_of(v: &toml::Value) -> Option<&str> {
    v.as_str().filter(|s| !s.is_empty())
}

fn whole_seconds(v: &toml::Value) -> Option<u32> {
    v.as_integer().and_then(|i| u32::try_from(i).ok())
}

/// `instances`: a list of names. An empty name, or an empty list, never means "every instance".
fn instances(v: &toml::Value, path: &Path) -> Result<Vec<InstanceName>, String> {
    let src = Source::File(INSTANCES, path);
    let names: Option<Vec<String>> = v
        .as_array()
        .and_then(|a| a.iter().map(|n| n.as_str().map(String::from)).collect());
    let names = names.ok_or_else(|| {
        format!(
            "{src} must be a list of instance names, e.g. [\"IRIS\"] (as `iris qlist` shows them)"
        )
    })?;
    if names.is_empty() {
        return Err(format!(
            "{src} is an empty list: remove the line to freeze every running instance, or name \
             them, e.g. [\"IRIS\"]"
        ));
    }
    instance_names(&names, src, "freeze every running instance").map_err(|e| format!("{e:#}"))
}

/// An unknown key, with the known one it most likely meant.
fn unknown_key(key: &str, path: &Path) -> String {
    // Keys are short: anything long is no typo of one (and not worth a quadratic comparison).
    let guess = KEYS
        .iter()
        .find(|k| key.len() <= 64 && strsim::levenshtein(k, key) <= 2)
        .map(|k| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default();
    format!(
        "unknown key `{}` in {}{guess}: examples/iris-freeze.toml lists every key",
        key.escape_debug(),
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (FileConfig, Vec<String>) {
        let table: toml::Table = text.parse().unwrap();
        let mut file = FileConfig::default();
        let mut problems = Vec::new();
        for (k, v) in &table {
            if let Err(p) = file.set(k, v, Path::new("/etc/iris-freeze.toml")) {
                problems.push(p);
            }
        }
        (file, problems)
    }

    #[test]
    fn bad_keys_are_named_in_plain_words_and_the_others_still_apply() {
        let (file, problems) = parse(
            "timout = 20\nstate_dir = \"/srv/state\"\ntimeout = \"abc\"\nmax_freeze = 700\n\
             switch_journal = \"no\"\nmirror_primary = \"maybe\"\nwd_suspend_limit = -1\n",
        );
        assert_eq!(file.state_dir, Some(PathBuf::from("/srv/state")));
        let all = problems.join("\n");
        for want in [
            "unknown key `timout` in /etc/iris-freeze.toml (did you mean `timeout`?)",
            "timeout in /etc/iris-freeze.toml must be a number of seconds, e.g. 30",
            "max_freeze in /etc/iris-freeze.toml must be more than 0 and below 600 seconds",
            "switch_journal in /etc/iris-freeze.toml must be true or false",
            "mirror_primary in /etc/iris-freeze.toml must be \"warn\" or \"refuse\"",
            "wd_suspend_limit in /etc/iris-freeze.toml must be a whole number of seconds",
        ] {
            assert!(all.contains(want), "{want:?} not in\n{all}");
        }
        assert_eq!(problems.len(), 6, "{all}");
        // No string from the file is quoted, only keys.
        assert!(!all.contains("abc") && !all.contains("maybe"), "{all}");
    }

    #[test]
    fn every_key_of_the_example_parses() {
        let (file, problems) = parse(
            "instances = [\"IRIS\", \"iris\"]\ntimeout = 20\nmax_freeze = 120.5\n\
             freeze_log = \"/a\"\nthaw_log = \"/b\"\nstate_dir = \"/c\"\nbin_dirs = []\n\
             credentials_file = \"/d\"\nexternal_freeze_timeout = 900\nwd_suspend_limit = 300\n\
             switch_journal = false\nset_history = true\nmirror_primary = \"refuse\"\n\
             journal = false\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(file.journal, Some(false));
        assert_eq!(file.instances.unwrap().len(), 1);
        assert_eq!(file.max_freeze, Some(Duration::from_millis(120_500)));
        assert_eq!(file.mirror_primary, Some(MirrorPolicy::Refuse));
        assert_eq!(file.bin_dirs, Some(vec![]));
        assert_eq!(file.switch_journal, Some(false));
    }

    #[test]
    fn empty_instance_names_and_lists_are_refused() {
        for text in [
            "instances = [\"\"]",
            "instances = [\"A\", \" \"]",
            "instances = []",
        ] {
            let (file, problems) = parse(text);
            assert!(file.instances.is_none(), "{text}");
            assert!(problems[0].contains("empty"), "{text}: {problems:?}");
            assert!(
                problems[0].contains("/etc/iris-freeze.toml"),
                "{problems:?}"
            );
        }
        let (_, problems) = parse("instances = \"IRIS\"");
        assert!(problems[0].contains("must be a list"), "{problems:?}");
    }

    #[test]
    fn unknown_keys_suggest_the_nearest() {
        let e = unknown_key("instance", Path::new("/x"));
        assert!(e.contains("did you mean `instances`"), "{e}");
        let e = unknown_key("colour", Path::new("/x"));
        assert!(!e.contains("did you mean"), "{e}");
        let e = unknown_key("max_frezee", Path::new("/x"));
        assert!(e.contains("did you mean `max_freeze`"), "{e}");
    }

    #[test]
    fn relative_paths_are_refused_with_an_absolute_example() {
        for (key, example) in [
            ("state_dir", "/run/iris-freeze"),
            ("history_file", "/var/lib/iris-freeze/history.jsonl"),
            (
                "metrics_file",
                "/var/lib/prometheus/node-exporter/iris-freeze.prom",
            ),
        ] {
            let (file, problems) = parse(&format!("{key} = \"rel/x\""));
            assert_eq!(
                problems,
                [format!(
                    "{key} in /etc/iris-freeze.toml must be an absolute path, e.g. \"{example}\""
                )]
            );
            assert!(file.state_dir.is_none() && file.history_file.is_none());
            assert!(file.metrics_file.is_none());
        }
    }
}
