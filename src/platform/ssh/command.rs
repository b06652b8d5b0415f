//! `iris-freeze ssh-command`: the forced command of the `authorized_keys` line `install ssh`
//! writes. What the client asked for is in `SSH_ORIGINAL_COMMAND`; it is read here as data,
//! never by a shell, and only a small grammar passes:
//!
//! ```text
//! freeze  [-i NAME | --instance NAME]... [--timeout SECS] [--max-freeze SECS] [-q | -v | -vv]
//! thaw    [-i NAME | --instance NAME]... [--timeout SECS] [-q | -v | -vv]
//! dry-run [-i NAME | --instance NAME]... [--timeout SECS] [-q | -v | -vv]
//! status  [--json] [--timeout SECS] [-q | -v | -vv]
//! ```
//!
//! A value may follow its option as the next word or after `=`. Every character of the line
//! must be a letter, a digit, a space, a tab or one of `_ . , = -`: quotes, `;`, `$`, `` ` ``,
//! `|`, `&`, `/`, redirections and newlines are refused before any word is looked at, so
//! nothing can be spliced in, and the words are simply the runs between blanks. Options that
//! choose files or programs (`--state-dir`, `--config`, `--root`, `--log-file`, `--bin-dirs`,
//! `--sharded`, ...) are refused: the host's configuration decides those, not the caller.

use std::ffi::OsString;

/// The verb of the forced command: `iris-freeze ssh-command`.
pub(crate) const VERB: &str = "ssh-command";

/// The verbs a caller may run.
const VERBS: [&str; 4] = ["freeze", "thaw", "status", "dry-run"];

/// Longest command line looked at; anything longer is refused.
const MAX_LEN: usize = 1024;

/// What the filter made of `SSH_ORIGINAL_COMMAND`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The argv to parse (after argv[0]): the verb, then the options as given.
    Allowed(Vec<String>),
    /// Refused, and why.
    Refused(String),
}

/// An option the grammar allows: its spellings, whether it takes a value, the verbs it is for.
struct Opt {
    names: &'static [&'static str],
    value: bool,
    verbs: &'static [&'static str],
}

const OPTS: &[Opt] = &[
    Opt {
        names: &["-i", "--instance"],
        value: true,
        verbs: &["freeze", "thaw", "dry-run"],
    },
    Opt {
        names: &["--timeout"],
        value: true,
        verbs: &VERBS,
    },
    Opt {
        names: &["--max-freeze"],
        value: true,
        verbs: &["freeze"],
    },
    Opt {
        names: &["--json"],
        value: false,
        verbs: &["status"],
    },
    Opt {
        names: &["-q", "--quiet", "-v", "-vv", "--verbose"],
        value: false,
        verbs: &VERBS,
    },
];

fn allowed_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ' ' | '\t' | '_' | '.' | ',' | '=' | '-')
}

/// Filters the client's command line (`None`: no command was given, an interactive login).
pub(crate) fn filter(line: Option<&str>) -> Verdict {
    let refuse = |why: &str| Verdict::Refused(why.to_string());
    let Some(line) = line else {
        return refuse("no command given (an interactive login is not allowed)");
    };
    if line.len() > MAX_LEN {
        return refuse("command longer than 1024 characters");
    }
    if let Some(c) = line.chars().find(|&c| !allowed_char(c)) {
        return Verdict::Refused(format!(
            "character {:?} not allowed (only letters, digits, blanks and _ . , = -)",
            c
        ));
    }
    let words: Vec<&str> = line.split([' ', '\t']).filter(|w| !w.is_empty()).collect();
    let Some((&verb, rest)) = words.split_first() else {
        return refuse("empty command");
    };
    if !VERBS.contains(&verb) {
        return Verdict::Refused(format!(
            "{verb:?} is not allowed: one of {}",
            VERBS.join(", ")
        ));
    }
    let mut argv = vec![verb.to_string()];
    let mut rest = rest.iter();
    while let Some(&word) = rest.next() {
        let (name, inline) = match word.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v)),
            _ => (word, None),
        };
        let Some(opt) = OPTS.iter().find(|o| o.names.contains(&name)) else {
            return Verdict::Refused(format!("{word:?} is not allowed after {verb}"));
        };
        if !opt.verbs.contains(&verb) {
            return Verdict::Refused(format!("{name} is not allowed after {verb}"));
        }
        match (opt.value, inline) {
            (false, None) => argv.push(name.to_string()),
            (false, Some(_)) => return Verdict::Refused(format!("{name} takes no value")),
            (true, _) => {
                let value = match inline {
                    Some(v) => v,
                    None => match rest.next() {
                        Some(v) => v,
                        None => return Verdict::Refused(format!("{name} needs a value")),
                    },
                };
                // A value that looks like an option would be read as one by clap.
                if value.is_empty() || value.starts_with('-') {
                    return Verdict::Refused(format!("{name} needs a value, not {value:?}"));
                }
                argv.push(name.to_string());
                argv.push(value.to_string());
            }
        }
    }
    Verdict::Allowed(argv)
}

/// The client as `SSH_CLIENT` names it (`ADDRESS PORT LOCALPORT`): its address and port, if
/// they look like ones; else the variable escaped, or `unknown`.
pub(crate) fn client(var: Option<&OsString>) -> String {
    let Some(var) = var else {
        return "unknown (no SSH_CLIENT)".into();
    };
    let text = var.to_string_lossy();
    let words: Vec<&str> = text.split(' ').collect();
    if let [addr, port, _] = words.as_slice()
        && addr.parse::<std::net::IpAddr>().is_ok()
        && port.parse::<u16>().is_ok()
    {
        return format!("{addr} port {port}");
    }
    format!(
        "unparsed SSH_CLIENT {}",
        crate::util::escape::terminal_line(&format!("{text:?}"))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(line: &str) -> Vec<String> {
        match filter(Some(line)) {
            Verdict::Allowed(a) => a,
            Verdict::Refused(why) => panic!("{line:?} refused: {why}"),
        }
    }

    fn refused(line: &str) -> String {
        match filter(Some(line)) {
            Verdict::Allowed(a) => panic!("{line:?} allowed as {a:?}"),
            Verdict::Refused(why) => why,
        }
    }

    #[test]
    fn the_four_verbs_and_their_options_pass() {
        assert_eq!(allowed("freeze"), ["freeze"]);
        assert_eq!(
            allowed("  freeze -i IRIS --instance=HS,X --timeout 60 --max-freeze=300 -q"),
            [
                "freeze",
                "-i",
                "IRIS",
                "--instance",
                "HS,X",
                "--timeout",
                "60",
                "--max-freeze",
                "300",
                "-q"
            ]
        );
        assert_eq!(allowed("thaw\t-v"), ["thaw", "-v"]);
        assert_eq!(allowed("status --json"), ["status", "--json"]);
        assert_eq!(
            allowed("dry-run -vv -i IRIS"),
            ["dry-run", "-vv", "-i", "IRIS"]
        );
    }

    #[test]
    fn shell_syntax_is_refused_before_any_word() {
        for line in [
            "freeze; rm -rf /",
            "freeze && reboot",
            "freeze | tee x",
            "freeze $(id)",
            "freeze `id`",
            "freeze > /etc/passwd",
            "freeze\nrm -rf /",
            "freeze 'x'",
            "freeze \"x\"",
            "freeze # x",
            "freeze \\; id",
            "freeze -i IR*",
        ] {
            assert!(refused(line).contains("not allowed"), "{line:?}");
        }
    }

    #[test]
    fn other_verbs_and_options_are_refused() {
        for line in [
            "",
            "   ",
            "run -- sh",
            "install ssh",
            "check",
            "FREEZE",
            "thaw --state-dir /tmp/x",
            "thaw --state-dir=x",
            "freeze --config x",
            "freeze --root x",
            "freeze --log-file x",
            "freeze --bin-dirs x",
            "freeze --sharded X",
            "freeze extra",
            "freeze -i",
            "freeze -i --timeout",
            "freeze --timeout=",
            "thaw --max-freeze 5",
            "status -i IRIS",
            "freeze --json",
            "freeze -q=1",
            "freeze --",
            "freeze -iIRIS",
            "freeze --help",
            "freeze -V",
        ] {
            refused(line);
        }
        assert!(matches!(filter(None), Verdict::Refused(_)));
        assert!(matches!(
            filter(Some(&"freeze ".repeat(300))),
            Verdict::Refused(_)
        ));
    }

    #[test]
    fn the_client_is_its_address_or_escaped() {
        let c = |s: &str| client(Some(&OsString::from(s)));
        assert_eq!(c("127.0.0.1 53422 22"), "127.0.0.1 port 53422");
        assert_eq!(c("::1 53422 22"), "::1 port 53422");
        assert!(!c("1.2.3.4\n5 6 7").contains('\n'));
        assert_eq!(client(None), "unknown (no SSH_CLIENT)");
    }
}
