//! `/etc/iris-freeze.toml`: opened as root may open it, and checked key by key. A key that is
//! unknown, of the wrong type or out of range is a problem that names the key and the file;
//! the other keys still stand, so a thaw can go on with them. No message ever shows the file's
//! text: `--config` pointed at a root-only file must not print a line of it.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::MirrorPolicy;
use super::instance::{INSTANCES, InstanceName, instance_names};
use super::seconds::{CMD_TIMEOUT, MAX_FREEZE, TIMEOUT};
use super::source::Source;
use crate::host::trust;

/// Far more than any config file; a bigger one is something else.
const MAX_BYTES: u64 = 1 << 20;

/// Every key, for the "did you mean" of an unknown one.
pub(super) const KEYS: &[&str] = &[
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

/// What reading the file gave.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub(crate) file: FileConfig,
    /// Whether there is a file at all (a missing one is fine).
    pub(crate) found: bool,
    /// One line per bad key; the file's other settings are in `file`.
    pub(crate) problems: Vec<String>,
}

/// Reads the config file; a missing file is an empty config. An error means the file as a
/// whole cannot be used: unsafe to trust, unreadable, or not TOML.
pub(crate) fn load_file(path: &Path) -> Result<Loaded> {
    let Some(text) = read(path)? else {
        return Ok(Loaded::default());
    };
    // The packaged file is all comments: nothing to parse, and every thaw reads it.
    let blank = |l: &str| {
        let l = l.trim_start();
        l.is_empty() || l.starts_with('#')
    };
    if text.lines().all(blank) {
        return Ok(Loaded {
            found: true,
            ..Loaded::default()
        });
    }
    let table: toml::Table = text.parse().map_err(|e| syntax_error(path, &text, &e))?;
    let mut loaded = Loaded {
        found: true,
        ..Loaded::default()
    };
    for (key, value) in &table {
        if let Err(problem) = loaded.file.set(key, value, path) {
            loaded.problems.push(problem);
        }
    }
    Ok(loaded)
}

/// The file's text, opened without following a symlink or blocking, and only when no other
/// user could have written it or swapped it. `Ok(None)`: there is no such file.
fn read(path: &Path) -> Result<Option<String>> {
    let Some(real) = real_directory(path)? else {
        return Ok(None);
    };
    // Running as root, the file decides which programs root runs: nobody but root may be able
    // to write it. Its errors name the file as it really is.
    let rule = match nix::unistd::geteuid().is_root() {
        true => trust::Rule::Program,
        false => trust::Rule::Data,
    };
    let Some(f) = trust::open_read_as(&real, rule).context("the config file")? else {
        return Ok(None);
    };
    let cannot = |what: &str| format!("cannot read the config file {}{what}", path.display());
    // The opened file's own metadata: no second path lookup, and no swap in between.
    let md = f.metadata().with_context(|| cannot(""))?;
    if md.len() > MAX_BYTES {
        bail!("{}: it is larger than 1 MiB", cannot(""));
    }
    let mut text = String::with_capacity(md.len() as usize);
    f.take(MAX_BYTES)
        .read_to_string(&mut text)
        .with_context(|| cannot(" as text"))?;
    Ok(Some(text))
}

/// `path` with its directory resolved (a relative `--config`, or a directory reached through
/// a link): the directories are checked as they really are; the file itself must not be a
/// symlink. `Ok(None)` when the directory does not exist.
fn real_directory(path: &Path) -> Result<Option<PathBuf>> {
    let Some(name) = path.file_name() else {
        bail!("the config file {} does not name a file", path.display());
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match fs::canonicalize(dir) {
        Ok(dir) => Ok(Some(dir.join(name))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| {
            format!(
                "cannot find the directory of the config file {}",
                path.display()
            )
        }),
    }
}

/// A TOML syntax error by line and column, without the source line toml would quote.
fn syntax_error(path: &Path, text: &str, e: &toml::de::Error) -> anyhow::Error {
    let at = e
        .span()
        .map(|span| {
            let (line, column) = line_column(text, span.start);
            format!("line {line}, column {column}: ")
        })
        .unwrap_or_default();
    anyhow::anyhow!(
        "the config file {} is not valid TOML: {at}{}",
        path.display(),
        e.message().trim_end()
    )
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// The ownership and mode rule for the config file, also used by `check`.
pub(crate) fn check_config_file(path: &Path) -> Result<()> {
    let md = fs::metadata(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    check_config_metadata(path, &md)
}

/// Running as root, a file another user owns or group/others can write is refused: it decides
/// which programs root runs (`read` holds the opened file to the same rule).
fn check_config_metadata(path: &Path, md: &fs::Metadata) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    if !nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    if md.uid() != 0 || md.mode() & 0o022 != 0 {
        bail!(
            "the config file {} is owned by uid {} with mode {:o}: running as root, iris-freeze \
             refuses a config file that anyone but root can write; fix with `chown root {} && \
             chmod go-w {}`",
            path.display(),
            md.uid(),
            md.mode() & 0o7777,
            path.display(),
            path.display()
        );
    }
    Ok(())
}

impl FileConfig {
    /// Takes one key's value, or says in plain words what is wrong with it (never quoting a
    /// string from the file: only the key, known or not).
    fn set(&mut self, key: &str, v: &toml::Value, path: &Path) -> Result<(), String> {
        let must = |what: &str| format!("{key} in {} must be {what}", path.display());
        let a_path = |example: &str| {
            let what = format!("a path in quotes, e.g. \"{example}\"");
            text_of(v).map(PathBuf::from).ok_or_else(|| must(&what))
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
            "state_dir" => {
                let dir = a_path("/run/iris-freeze")?;
                if dir.is_relative() {
                    return Err(must("an absolute path, e.g. \"/run/iris-freeze\""));
                }
                self.state_dir = Some(dir);
            }
            "history_file" => {
                let path = a_path("/var/lib/iris-freeze/history.jsonl")?;
                if path.is_relative() {
                    return Err(must(
                        "an absolute path, e.g. \"/var/lib/iris-freeze/history.jsonl\"",
                    ));
                }
                self.history_file = Some(path);
            }
            "metrics_file" => {
                let example = "/var/lib/prometheus/node-exporter/iris-freeze.prom";
                let path = a_path(example)?;
                if path.is_relative() {
                    return Err(must(&format!("an absolute path, e.g. \"{example}\"")));
                }
                self.metrics_file = Some(path);
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
    let guess = KEYS
        .iter()
        .find(|k| edit_distance(k, key) <= 2)
        .map(|k| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default();
    format!(
        "unknown key `{}` in {}{guess}: examples/iris-freeze.toml lists every key",
        key.escape_debug(),
        path.display()
    )
}

/// Levenshtein distance; keys are short, anything long is no typo of one.
fn edit_distance(a: &str, b: &str) -> usize {
    if b.len() > 64 {
        return usize::MAX;
    }
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

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
    fn a_file_of_comments_loads_as_defaults_and_anything_else_is_parsed() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("c.toml");
        fs::write(&p, "# timeout = 99\n\n   # note\n").unwrap();
        let loaded = load_file(&p).unwrap();
        assert!(loaded.found);
        assert_eq!(loaded.file.timeout, None);
        fs::write(&p, "# a comment\ntimeout = 99\n").unwrap();
        let loaded = load_file(&p).unwrap();
        assert_eq!(loaded.file.timeout, Some(Duration::from_secs(99)));
        assert!(loaded.problems.is_empty());
        let missing = load_file(&tmp.path().join("none/c.toml")).unwrap();
        assert!(!missing.found);
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
    fn a_syntax_error_gives_line_and_column_without_the_text() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("c.toml");
        fs::write(&p, "timeout = 30\nS3CR3T line\n").unwrap();
        let e = format!("{:#}", load_file(&p).unwrap_err());
        assert!(e.contains("line 2, column"), "{e}");
        assert!(e.contains("not valid TOML"), "{e}");
        assert!(!e.contains("S3CR3T"), "{e}");
        assert_eq!(line_column("ab\ncdé f", 8), (2, 5));
        assert_eq!(line_column("x", 0), (1, 1));
    }

    #[test]
    fn a_symlink_or_a_file_others_can_write_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let real = tmp.path().join("real.toml");
        fs::write(&real, "timeout = 5\n").unwrap();
        let link = tmp.path().join("link.toml");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let e = format!("{:#}", load_file(&link).unwrap_err());
        assert!(e.contains("symlink"), "{e}");
        fs::set_permissions(&real, fs::Permissions::from_mode(0o646)).unwrap();
        assert!(load_file(&real).is_err());
    }

    #[test]
    fn unknown_keys_suggest_the_nearest() {
        let e = unknown_key("instance", Path::new("/x"));
        assert!(e.contains("did you mean `instances`"), "{e}");
        let e = unknown_key("colour", Path::new("/x"));
        assert!(!e.contains("did you mean"), "{e}");
        assert_eq!(edit_distance("timeout", "timout"), 1);
        assert_eq!(edit_distance("", "ab"), 2);
    }
}
