//! Every setting, defined once: its names on the command line, in the environment and in the
//! config file, its bounds and its help. clap's options, the hook path that reads the
//! environment without clap, the config file's keys and the messages that name where a value
//! came from all take them from here. The bottom of the house: every layer may name a setting,
//! none of them needs `config` to do it.

pub(crate) mod env;

/// A setting, by every name it goes by. A new one is a constant here, listed in [`ALL`]; where
/// it is read (its clap field, its config-file entry) names it by that constant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Setting {
    /// clap's id of its option: the field it fills.
    pub(crate) id: &'static str,
    /// Its long flag, without the dashes; `None`: not on the command line.
    pub(crate) long: Option<&'static str>,
    /// Its environment variable; `None`: none.
    pub(crate) env: Option<&'static str>,
    /// Its key in the config file; `None`: not in the file.
    pub(crate) key: Option<&'static str>,
    /// What `--help` calls the flag's value.
    pub(crate) value_name: &'static str,
    /// What it does: the flag's `--help` (a command may say it in its own terms, as `status`
    /// does for `--timeout`), or the key's meaning when it is only in the file.
    pub(crate) help: &'static str,
    /// For a number of seconds: what it must lie within.
    pub(crate) seconds: Option<Bounds>,
}

/// A number of seconds' true bounds: more than 0 and below `upper` (or at most, when
/// `upper_included`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bounds {
    pub(crate) upper: f64,
    pub(crate) upper_included: bool,
    /// Why the bound is where it is, if it needs saying (appended to the rule).
    pub(crate) why: &'static str,
    /// A good value, for the message about a bad one.
    pub(crate) example: u32,
}

impl Setting {
    /// The long flag (clap's `long = ...`); a setting without one is a mistake found when the
    /// command line is built.
    pub(crate) const fn flag(&self) -> &'static str {
        match self.long {
            Some(long) => long,
            None => panic!("a setting without a flag"),
        }
    }

    /// The environment variable (clap's `env = ...`).
    pub(crate) const fn var(&self) -> &'static str {
        match self.env {
            Some(var) => var,
            None => panic!("a setting without a variable"),
        }
    }
}

/// IRIS blocks writers after this long frozen (its ExternalFreezeTimeOut): no freeze of ours,
/// nor the command run inside one, may last as long. `iris::backup::IRIS_BLOCKS_AFTER` in
/// seconds (a test holds them equal; this layer is below `iris`).
const IRIS_BLOCKS_AFTER_SECS: f64 = 600.0;

/// A setting with no flag, variable, key or bounds yet: the constants below fill in theirs.
const NONE: Setting = Setting {
    id: "",
    long: None,
    env: None,
    key: None,
    value_name: "",
    help: "",
    seconds: None,
};

pub(crate) const INSTANCES: Setting = Setting {
    id: "instances",
    long: Some("instance"),
    env: Some("IRIS_FREEZE_INSTANCES"),
    key: Some("instances"),
    value_name: "NAME",
    help: "Instance to act on (repeatable; default: every running instance, or for thaw, what \
           the last freeze recorded)",
    ..NONE
};

/// Longer than any snapshot platform waits for a hook.
pub(crate) const TIMEOUT: Setting = Setting {
    id: "timeout",
    long: Some("timeout"),
    env: Some("IRIS_FREEZE_TIMEOUT"),
    key: Some("timeout"),
    value_name: "SECS",
    help: "Upper bound on the whole command, in seconds; a rollback after a failed freeze may \
           use a few seconds more: thawing comes first [default: 30]",
    seconds: Some(Bounds {
        upper: 3600.0,
        upper_included: true,
        why: "",
        example: 30,
    }),
};

pub(crate) const MAX_FREEZE: Setting = Setting {
    id: "max_freeze",
    long: Some("max-freeze"),
    env: Some("IRIS_FREEZE_MAX_FREEZE"),
    key: Some("max_freeze"),
    value_name: "SECS",
    help: "The longest any instance may stay frozen by iris-freeze, in seconds: a watchdog \
           armed before the first freeze thaws it then if no thaw came. Must stay below IRIS's \
           600 s ExternalFreezeTimeOut, when IRIS starts blocking writers [default: 300]",
    seconds: Some(Bounds {
        upper: IRIS_BLOCKS_AFTER_SECS,
        upper_included: false,
        why: ", when IRIS starts blocking writers (ExternalFreezeTimeOut)",
        example: 300,
    }),
};

pub(crate) const FREEZE_LOG: Setting = Setting {
    id: "freeze_log",
    key: Some("freeze_log"),
    help: "Where a freeze, run or dry-run logs without --log-file",
    ..NONE
};

pub(crate) const THAW_LOG: Setting = Setting {
    id: "thaw_log",
    key: Some("thaw_log"),
    help: "Where a thaw logs without --log-file",
    ..NONE
};

pub(crate) const STATE_DIR: Setting = Setting {
    id: "state_dir",
    long: Some("state-dir"),
    env: Some("IRIS_FREEZE_STATE_DIR"),
    key: Some("state_dir"),
    value_name: "DIR",
    help: "Where iris-freeze records what it froze, created 0700 [default: /run/iris-freeze]",
    ..NONE
};

pub(crate) const HISTORY_FILE: Setting = Setting {
    id: "history_file",
    long: Some("history-file"),
    env: Some("IRIS_FREEZE_HISTORY_FILE"),
    key: Some("history_file"),
    value_name: "PATH",
    help: "The history of freeze/thaw cycles, one JSON line per event, on persistent disk (it \
           travels inside the snapshot) [default: /var/lib/iris-freeze/history.jsonl; not as \
           root: $ISC_DATA_DIRECTORY/iris-freeze (IRIS's durable %SYS), else under $HOME]",
    ..NONE
};

pub(crate) const METRICS_FILE: Setting = Setting {
    id: "metrics_file",
    long: Some("metrics-file"),
    env: Some("IRIS_FREEZE_METRICS_FILE"),
    key: Some("metrics_file"),
    value_name: "PATH",
    help: "Rewrite this file with Prometheus metrics after every freeze, thaw, rollback and \
           auto-thaw, e.g. in node_exporter's textfile-collector directory [default: none]",
    ..NONE
};

pub(crate) const BIN_DIRS: Setting = Setting {
    id: "bin_dirs",
    long: Some("bin-dirs"),
    env: Some("IRIS_FREEZE_BIN_DIRS"),
    key: Some("bin_dirs"),
    value_name: "DIRS",
    help: "Directories searched for iris, csession and ccontrol after PATH, colon-separated \
           (default: the usual install places; empty: PATH only)",
    ..NONE
};

pub(crate) const CREDENTIALS_FILE: Setting = Setting {
    id: "credentials_file",
    key: Some("credentials_file"),
    help: "For instances without OS authentication: a file with the user on the first line and \
           the password on the second",
    ..NONE
};

pub(crate) const EXTERNAL_FREEZE_TIMEOUT: Setting = Setting {
    id: "external_freeze_timeout",
    key: Some("external_freeze_timeout"),
    help: "ExternalFreezeTimeOut: seconds before IRIS blocks writers",
    ..NONE
};

pub(crate) const WD_SUSPEND_LIMIT: Setting = Setting {
    id: "wd_suspend_limit",
    key: Some("wd_suspend_limit"),
    help: "WDSuspendLimit: IRIS resumes the write daemon by itself after this many seconds",
    ..NONE
};

pub(crate) const SWITCH_JOURNAL: Setting = Setting {
    id: "switch_journal",
    key: Some("switch_journal"),
    help: "Switch to a new journal file at the freeze",
    ..NONE
};

pub(crate) const SET_HISTORY: Setting = Setting {
    id: "set_history",
    key: Some("set_history"),
    help: "Record each backup with ExternalSetHistory after a confirmed thaw",
    ..NONE
};

pub(crate) const MIRROR_PRIMARY: Setting = Setting {
    id: "mirror_primary",
    key: Some("mirror_primary"),
    help: "A mirror primary: \"warn\" (freeze it) or \"refuse\" (exit 1)",
    ..NONE
};

/// `0`, `false`, `no` or `off` in the variable: no journal entries.
pub(crate) const JOURNAL: Setting = Setting {
    id: "journal",
    env: Some("IRIS_FREEZE_JOURNAL"),
    key: Some("journal"),
    help: "Send every event to the systemd journal as well",
    ..NONE
};

pub(crate) const SHARDED: Setting = Setting {
    id: "sharded",
    long: Some("sharded"),
    env: Some("IRIS_FREEZE_SHARDED"),
    key: Some("sharded_namespace"),
    value_name: "NAMESPACE",
    help: "Act on the whole sharded cluster whose shard master namespace this is, with \
           Backup.ShardedCluster from the shard master (every data server frozen, or none), \
           instead of on each instance [default: sharded_namespace in the config file]",
    ..NONE
};

/// No freeze lasts as long as IRIS_BLOCKS_AFTER, so neither may the command run inside one.
pub(crate) const CMD_TIMEOUT: Setting = Setting {
    id: "cmd_timeout",
    long: Some("cmd-timeout"),
    env: Some("IRIS_FREEZE_CMD_TIMEOUT"),
    key: Some("cmd_timeout"),
    value_name: "SECS",
    help: "CMD's deadline, in seconds: then its process group is killed and the thaw follows \
           [default: what --max-freeze leaves after the freeze, minus 15 s; config cmd_timeout]",
    seconds: Some(Bounds {
        upper: IRIS_BLOCKS_AFTER_SECS,
        upper_included: false,
        why: ", as no freeze may last longer (ExternalFreezeTimeOut)",
        example: 120,
    }),
};

pub(crate) const CONFIG: Setting = Setting {
    id: "config",
    long: Some("config"),
    env: Some("IRIS_FREEZE_CONFIG"),
    value_name: "PATH",
    help: "The configuration file; a missing one means the defaults (with a warning when named \
           here or in the variable) [default: /etc/iris-freeze.toml, under --root]",
    ..NONE
};

pub(crate) const ROOT: Setting = Setting {
    id: "root",
    long: Some("root"),
    env: Some("IRIS_FREEZE_ROOT"),
    value_name: "DIR",
    help: "Prefix for every system path a platform's files live under (install, check, the \
           Azure JSON a hook reads, the config file): for tests and image builds [default: /]",
    ..NONE
};

pub(crate) const LOG_FILE: Setting = Setting {
    id: "log_file",
    long: Some("log-file"),
    env: Some("IRIS_FREEZE_LOG_FILE"),
    value_name: "PATH",
    help: "Append the log here [default: /etc/preScript.log for freeze, run and dry-run, \
           /etc/postScript.log for thaw, or freeze_log / thaw_log in the config file]",
    ..NONE
};

/// Every setting. The config file's keys in this order: an unknown key's "did you mean" takes
/// the first close one.
pub(crate) const ALL: &[Setting] = &[
    INSTANCES,
    TIMEOUT,
    MAX_FREEZE,
    FREEZE_LOG,
    THAW_LOG,
    STATE_DIR,
    HISTORY_FILE,
    METRICS_FILE,
    BIN_DIRS,
    CREDENTIALS_FILE,
    EXTERNAL_FREEZE_TIMEOUT,
    WD_SUSPEND_LIMIT,
    SWITCH_JOURNAL,
    SET_HISTORY,
    MIRROR_PRIMARY,
    JOURNAL,
    SHARDED,
    CMD_TIMEOUT,
    CONFIG,
    ROOT,
    LOG_FILE,
];

/// The config file's keys.
pub(crate) fn keys() -> impl Iterator<Item = &'static str> {
    ALL.iter().filter_map(|s| s.key)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No flag, variable, key or id names two settings.
    #[test]
    fn each_name_is_one_setting_s() {
        let mut owner = std::collections::HashMap::new();
        for s in ALL {
            assert!(!s.id.is_empty() && !s.help.is_empty(), "{s:?}");
            assert_eq!(s.long.is_some(), !s.value_name.is_empty(), "{}", s.id);
            for name in [Some(s.id), s.long, s.env, s.key].into_iter().flatten() {
                let first = *owner.entry(name).or_insert(s.id);
                assert_eq!(first, s.id, "{name} names two settings");
            }
        }
        assert_eq!(keys().count(), 18);
    }
}
