//! `iris-freeze ssh-command`, the forced command of `install ssh`: the client's command is
//! filtered (`platform::ssh::command`) and logged with the client's address; what passes is
//! handed back to run as if typed, anything else is refused with exit 1.

use std::ffi::OsString;
use std::io::Write;

use clap::error::ErrorKind;

use crate::cli::Cli;
use crate::config::Config;
use crate::exit_code::Exit;
use crate::host::eventlog::EventLog;
use crate::platform::ssh::command::{VERB, Verdict, client, filter};
use crate::util::escape::terminal_line;

/// The argv to run and the line to log first, or the exit of a refused command.
pub(crate) fn take(args: Vec<OsString>) -> Result<(Vec<OsString>, String), Exit> {
    let client = client(std::env::var_os("SSH_CLIENT").as_ref());
    let original = std::env::var_os("SSH_ORIGINAL_COMMAND");
    let text = original.as_ref().map(|o| o.to_string_lossy().into_owned());
    let verdict = if args.len() > 2 {
        Verdict::Refused(format!("{VERB} takes no arguments of its own"))
    } else if original.as_ref().is_some_and(|o| o.to_str().is_none()) {
        Verdict::Refused("the command is not UTF-8 text".into())
    } else {
        filter(text.as_deref())
    };
    let shown = match &text {
        Some(t) => terminal_line(&format!("{:?}", t.chars().take(200).collect::<String>())),
        None => "(none)".into(),
    };
    let argv0 = args
        .into_iter()
        .next()
        .unwrap_or_else(|| "iris-freeze".into());
    match verdict {
        Verdict::Allowed(words) => {
            let note = format!("ssh from {client}: running {shown}");
            let args = std::iter::once(argv0)
                .chain(words.into_iter().map(OsString::from))
                .collect();
            Ok((args, note))
        }
        Verdict::Refused(why) => {
            let msg = format!("ssh from {client}: refused {shown}: {why}");
            // Logged where a freeze's events go, as the host's configuration says.
            let status = vec![argv0, "status".into()];
            if let Ok(cfg) = Cli::parse_args(status).and_then(|cli| {
                Config::from_cli(cli, None)
                    .map_err(|e| clap::Error::raw(ErrorKind::InvalidValue, format!("{e:#}")))
            }) {
                log(&cfg).error(None, "ssh", &msg);
            }
            let _ = writeln!(
                std::io::stderr(),
                "iris-freeze: {}; allowed: freeze, thaw, dry-run, status, with -i/--instance, \
                 --timeout, --max-freeze (freeze), --json (status), -q, -v (exit 1)",
                terminal_line(&msg)
            );
            Err(Exit::Failure)
        }
    }
}

/// Where `ssh-command` logs its client and what it ran or refused.
pub(crate) fn log(cfg: &Config) -> EventLog {
    EventLog::open(&cfg.log_file, VERB).with_journal(cfg.journal.as_deref())
}
