//! The config file's keys: each one's value checked, in plain words when it is wrong, and an
//! unknown key with the known one it most likely meant.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::MirrorPolicy;
use crate::config::instance::instance_names;
use crate::config::seconds::{CMD_TIMEOUT, MAX_FREEZE, TIMEOUT};
use crate::config::source::Source;
use crate::iris::InstanceName;
use crate::settings;

/// What each key of the file fills (a field of [`FileConfig`], named as the key), its type,
/// and how its value is read; the key itself is its setting's, in `settings`. The field and
/// [`FileConfig::set`] are made from it.
macro_rules! keys {
    ($($(#[$doc:meta])* $key:ident($setting:ident): $ty:ty = $read:expr;)*) => {
        /// The settings the file gave, each already checked.
        #[derive(Debug, Default)]
        pub(crate) struct FileConfig {
            $($(#[$doc])* pub(crate) $key: Option<$ty>,)*
        }

        impl FileConfig {
            /// Takes one key's value, or says in plain words what is wrong with it (never
            /// quoting a string from the file: only the key, known or not).
            pub(super) fn set(
                &mut self,
                key: &str,
                v: &toml::Value,
                path: &Path,
            ) -> Result<(), String> {
                let entry = Entry { key, value: v, path };
                $(if Some(key) == settings::$setting.key {
                    self.$key = Some(entry.read($read)?);
                    return Ok(());
                })*
                Err(unknown_key(key, path))
            }
        }

        /// Each field, by name, with the setting whose key it holds.
        #[cfg(test)]
        const FIELDS: &[(&str, &settings::Setting)] =
            &[$((stringify!($key), &settings::$setting)),*];
    };
}

keys! {
    instances(INSTANCES): Vec<InstanceName> = |e| instances(e.value, e.path);
    timeout(TIMEOUT): Duration = |e| TIMEOUT.parse_value(e.value, e.path);
    max_freeze(MAX_FREEZE): Duration = |e| MAX_FREEZE.parse_value(e.value, e.path);
    freeze_log(FREEZE_LOG): PathBuf = |e| e.a_path("/etc/preScript.log");
    thaw_log(THAW_LOG): PathBuf = |e| e.a_path("/etc/postScript.log");
    state_dir(STATE_DIR): PathBuf = |e| e.absolute("/run/iris-freeze");
    history_file(HISTORY_FILE): PathBuf = |e| e.absolute("/var/lib/iris-freeze/history.jsonl");
    metrics_file(METRICS_FILE): PathBuf = |e| e.absolute("/var/lib/prometheus/node-exporter/iris-freeze.prom");
    bin_dirs(BIN_DIRS): Vec<PathBuf> = |e| {
        let dirs = e.value.as_array().and_then(|a| a.iter().map(text_of).collect());
        let dirs: Vec<&str> =
            dirs.ok_or_else(|| e.must("a list of directories, e.g. [\"/usr/irissys/bin\"]"))?;
        Ok(dirs.into_iter().map(PathBuf::from).collect())
    };
    credentials_file(CREDENTIALS_FILE): PathBuf = |e| e.a_path("/etc/iris-freeze.credentials");
    external_freeze_timeout(EXTERNAL_FREEZE_TIMEOUT): u32 = Entry::whole;
    wd_suspend_limit(WD_SUSPEND_LIMIT): u32 = Entry::whole;
    switch_journal(SWITCH_JOURNAL): bool = Entry::boolean;
    set_history(SET_HISTORY): bool = Entry::boolean;
    mirror_primary(MIRROR_PRIMARY): MirrorPolicy = |e| match e.value.as_str() {
        Some("warn") => Ok(MirrorPolicy::Warn),
        Some("refuse") => Ok(MirrorPolicy::Refuse),
        _ => Err(e.must("\"warn\" or \"refuse\"")),
    };
    /// Events to journald as well (`host::journal`).
    journal(JOURNAL): bool = Entry::boolean;
    /// `--sharded`'s default: the shard master namespace.
    sharded_namespace(SHARDED): String = |e| {
        let ns = text_of(e.value)
            .ok_or_else(|| e.must("a namespace in quotes, e.g. \"IRISCLUSTER\""))?;
        crate::iris::sharded::parse_namespace(ns)
            .map_err(|_| e.must("a namespace name in quotes, e.g. \"IRISCLUSTER\""))?;
        Ok(ns.to_string())
    };
    /// `run`'s CMD deadline.
    cmd_timeout(CMD_TIMEOUT): Duration = |e| CMD_TIMEOUT.parse_value(e.value, e.path);
}

/// One entry of the file: a known key, its value, and the words for what is wrong with it.
struct Entry<'a> {
    key: &'a str,
    value: &'a toml::Value,
    path: &'a Path,
}

impl<'a> Entry<'a> {
    /// The value read by `read`: here so that a closure's argument has its type.
    fn read<T>(&self, read: impl FnOnce(&Entry<'a>) -> Result<T, String>) -> Result<T, String> {
        read(self)
    }

    fn must(&self, what: &str) -> String {
        format!("{} in {} must be {what}", self.key, self.path.display())
    }

    fn a_path(&self, example: &str) -> Result<PathBuf, String> {
        let what = format!("a path in quotes, e.g. \"{example}\"");
        text_of(self.value)
            .map(PathBuf::from)
            .ok_or_else(|| self.must(&what))
    }

    fn absolute(&self, example: &str) -> Result<PathBuf, String> {
        let path = self.a_path(example)?;
        if path.is_relative() {
            return Err(self.must(&format!("an absolute path, e.g. \"{example}\"")));
        }
        Ok(path)
    }

    fn whole(&self) -> Result<u32, String> {
        whole_seconds(self.value).ok_or_else(|| self.must("a whole number of seconds, e.g. 600"))
    }

    fn boolean(&self) -> Result<bool, String> {
        self.value
            .as_bool()
            .ok_or_else(|| self.must("true or false"))
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
    let src = Source::File(&settings::INSTANCES, path);
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
    let guess = settings::keys()
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

    /// Every key of the table fills the field named as it, and every field is a key's.
    #[test]
    fn each_key_of_the_table_has_its_field() {
        let keys: Vec<&str> = settings::keys().collect();
        let fields: Vec<&str> = FIELDS.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields.len(), keys.len());
        for (field, setting) in FIELDS {
            assert_eq!(setting.key, Some(*field));
        }
        for key in keys {
            assert!(fields.contains(&key), "no field for {key}");
        }
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
