//! Where a value came from, by the names of its setting, so that a message names the one place
//! to fix.

use std::fmt;
use std::path::Path;

/// A setting's names on the command line, in the environment and in the config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Names {
    /// clap's id of the option.
    pub(super) id: &'static str,
    pub(super) flag: &'static str,
    pub(super) env: &'static str,
    pub(super) key: &'static str,
}

/// `--state-dir`'s names.
pub(super) const STATE_DIR: Names = Names {
    id: "state_dir",
    flag: "--state-dir",
    env: crate::settings::env::STATE_DIR,
    key: "state_dir",
};

/// Where a value came from: a message names the one place to fix.
#[derive(Debug, Clone, Copy)]
pub(super) enum Source<'a> {
    Flag(Names),
    Env(Names),
    File(Names, &'a Path),
}

impl Source<'_> {
    /// A flag's or its variable's value (clap merges the two).
    pub(super) fn given(names: Names, from_env: bool) -> Source<'static> {
        if from_env {
            Source::Env(names)
        } else {
            Source::Flag(names)
        }
    }
}

impl fmt::Display for Source<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(n) => f.write_str(n.flag),
            Source::Env(n) => f.write_str(n.env),
            Source::File(n, path) => write!(f, "{} in {}", n.key, path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::super::file::KEYS;
    use super::super::instance::INSTANCES;
    use super::super::seconds::{MAX_FREEZE, TIMEOUT};

    #[test]
    fn each_setting_is_named_as_clap_and_the_config_file_name_it() {
        let root = crate::cli::Cli::command();
        for names in [INSTANCES, TIMEOUT.names, MAX_FREEZE.names] {
            let args: Vec<_> = root
                .get_subcommands()
                .filter(|s| !s.is_hide_set())
                .flat_map(|s| s.get_arguments())
                .filter(|a| a.get_id() == names.id)
                .collect();
            assert!(!args.is_empty(), "no option {}", names.id);
            for a in args {
                let flag = a.get_long().map(|l| format!("--{l}"));
                assert_eq!(flag.as_deref(), Some(names.flag));
                assert_eq!(a.get_env().and_then(|e| e.to_str()), Some(names.env));
            }
            assert!(KEYS.contains(&names.key), "{}", names.key);
        }
    }
}
