//! Where a value came from, by the names of its setting, so that a message names the one place
//! to fix.

use std::fmt;
use std::path::Path;

use crate::settings::Setting;

/// Where a value came from: a message names the one place to fix.
#[derive(Debug, Clone, Copy)]
pub(super) enum Source<'a> {
    Flag(&'static Setting),
    Env(&'static Setting),
    File(&'static Setting, &'a Path),
}

impl Source<'_> {
    /// A flag's or its variable's value (clap merges the two).
    pub(super) fn given(setting: &'static Setting, from_env: bool) -> Source<'static> {
        if from_env {
            Source::Env(setting)
        } else {
            Source::Flag(setting)
        }
    }
}

impl fmt::Display for Source<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A setting is only ever read from where it has a name: `unwrap_or` is never taken.
        match self {
            Source::Flag(s) => write!(f, "--{}", s.long.unwrap_or(s.id)),
            Source::Env(s) => f.write_str(s.env.unwrap_or(s.id)),
            Source::File(s, path) => write!(f, "{} in {}", s.key.unwrap_or(s.id), path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use crate::settings::ALL;

    /// Every option clap defines for a setting has the table's flag and variable, wherever it
    /// is (global, or in each subcommand that takes it), and the table's help unless the
    /// command says it in its own terms.
    #[test]
    fn each_setting_is_named_as_clap_and_the_config_file_name_it() {
        let root = crate::cli::Cli::command();
        let args: Vec<_> = root
            .get_arguments()
            .chain(
                root.get_subcommands()
                    .filter(|s| !s.is_hide_set())
                    .flat_map(|s| s.get_arguments()),
            )
            .collect();
        for s in ALL {
            let named: Vec<_> = args.iter().filter(|a| a.get_id() == s.id).collect();
            assert_eq!(named.is_empty(), s.long.is_none(), "option {}", s.id);
            let mut own_help = 0;
            for a in named {
                assert_eq!(a.get_long(), s.long, "{}", s.id);
                assert_eq!(a.get_env().and_then(|e| e.to_str()), s.env, "{}", s.id);
                let names = a.get_value_names().unwrap_or_default();
                assert_eq!(
                    names.iter().map(|n| n.as_str()).collect::<Vec<_>>(),
                    [s.value_name]
                );
                own_help +=
                    usize::from(a.get_help().map(|h| h.to_string()).as_deref() == Some(s.help));
            }
            assert!(
                s.long.is_none() || own_help > 0,
                "{}: the table's help is never shown",
                s.id
            );
        }
    }
}
