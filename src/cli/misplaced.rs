//! `run`'s CMD typed before `--`: clap would take its first word for the hidden hook argument
//! and then complain about a missing CMD or an unknown option, with advice that does not fit.
//! Here the words are read as clap would, and the user gets their own command line back,
//! corrected.

use std::ffi::OsString;

use clap::error::ErrorKind;
use clap::{Arg, Command};

use crate::util::shell::display_argv;

/// The usage error for `args` (argv[0] included) when it is `run` with CMD before `--`.
pub(super) fn run_cmd_before_separator(mut cli: Command, args: &[OsString]) -> Option<clap::Error> {
    cli.build();
    let run = cli.find_subcommand("run")?;
    let at = first_stray_word(run, args)?;
    let mut fixed: Vec<OsString> = vec!["iris-freeze".into()];
    fixed.extend_from_slice(&args[1..at]);
    fixed.push("--".into());
    let mut cmd = args[at..].to_vec();
    // The user's own `--`, after CMD's first words, moves before them.
    if let Some(sep) = cmd.iter().position(|w| w == "--") {
        cmd.remove(sep);
    }
    fixed.extend(cmd);
    let message = format!("CMD goes after `--`: {}\n", display_argv(&fixed));
    Some(clap::Error::raw(
        ErrorKind::MissingRequiredArgument,
        message,
    ))
}

/// In `run`'s command line, the index of the first word before `--` that is neither an option
/// nor an option's value (empty words aside: hook runners append those); `None` for another
/// subcommand.
fn first_stray_word(run: &Command, args: &[OsString]) -> Option<usize> {
    let mut in_run = false;
    let mut i = 1;
    while let Some(word) = args.get(i) {
        let w = word.to_string_lossy();
        i += 1;
        if w == "--" {
            return None;
        }
        if let Some(long) = w.strip_prefix("--") {
            // `--opt=value` names no option: nothing more to skip.
            i += usize::from(has_value(run, |a| a.get_long() == Some(long)));
        } else if let Some(shorts) = w.strip_prefix('-').filter(|s| !s.is_empty()) {
            i += value_words_after_shorts(run, shorts);
        } else if !in_run {
            // Global options may come before the subcommand: only `run` is of interest.
            in_run = w == "run";
            if !in_run {
                return None;
            }
        } else if !w.is_empty() {
            return Some(i - 1);
        }
    }
    None
}

/// How many of the next words a cluster of short flags (`-vq`, `-i`, `-iIRIS`) takes: 1 when
/// its last flag takes a value not attached to it.
fn value_words_after_shorts(run: &Command, shorts: &str) -> usize {
    for (at, c) in shorts.char_indices() {
        if has_value(run, |a| a.get_short() == Some(c)) {
            return usize::from(at + c.len_utf8() == shorts.len());
        }
    }
    0
}

/// Whether the option `which` picks takes a value.
fn has_value(run: &Command, which: impl Fn(&Arg) -> bool) -> bool {
    run.get_arguments()
        .find(|a| which(a))
        .is_some_and(|a| a.get_action().takes_values())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::CommandFactory;

    fn stray(args: &[&str]) -> Option<usize> {
        let mut cli = Cli::command();
        cli.build();
        let run = cli.find_subcommand("run").expect("run");
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        first_stray_word(run, &args)
    }

    #[test]
    fn options_and_their_values_are_skipped_as_clap_reads_them() {
        assert_eq!(stray(&["x", "run", "true"]), Some(2));
        assert_eq!(
            stray(&["x", "--root", "/r", "run", "-i", "A", "t"]),
            Some(6)
        );
        assert_eq!(stray(&["x", "run", "-iA", "-vq", "t"]), Some(4));
        assert_eq!(stray(&["x", "run", "--timeout=5", "", "t"]), Some(4));
        assert_eq!(stray(&["x", "run", "--log-file", "run", "--", "t"]), None);
        assert_eq!(stray(&["x", "run", "-i", "A", "--", "t"]), None);
        assert_eq!(stray(&["x", "freeze", "t"]), None);
        assert_eq!(stray(&["x", "--state-dir", "run", "freeze", "t"]), None);
    }
}
