//! Calls whose answer is read from marker lines of our own, never from an exit code: one
//! ObjectScript line, fed to a %SYS session on stdin (after the credentials, when the config
//! names them), calls the method, writes what it returned after a prefix `IRISFREEZE-<nonce> `,
//! then halts. The nonce is drawn per call and travels on stdin, never on a command line, so a
//! line without it (IRIS's own output, a prompt, the line echoed back, a forged line) is not
//! ours. A marker that is missing leaves the answer unknown, whatever the session exited with:
//! a session that failed before running the line (silently or not) cannot pass for an answer.
//!
//! Used by the `Backup.ShardedCluster` calls (`iris::sharded`) and the check whether the write
//! daemon is suspended (`iris::backup`).

use std::time::Instant;

use crate::host::process::{self, Outcome, Stop};
use crate::iris::backup::Target;
use crate::iris::objectscript_string;

/// The start of every marker line; the nonce follows.
pub(crate) const MARK: &str = "IRISFREEZE-";

/// One call's nonce.
pub(crate) struct Fed {
    nonce: String,
}

impl Fed {
    /// A new nonce: 16 hex digits, unguessable.
    pub(crate) fn new() -> Fed {
        Fed::with_nonce(&format!("{:016x}", crate::util::random::unguessable()))
    }

    /// A given nonce (tests).
    pub(crate) fn with_nonce(nonce: &str) -> Fed {
        Fed {
            nonce: nonce.to_string(),
        }
    }

    /// `IRISFREEZE-<nonce> `: what starts each of this call's marker lines.
    pub(crate) fn prefix(&self) -> String {
        format!("{MARK}{} ", self.nonce)
    }

    /// The prefix as an ObjectScript string, for the line's `s p=...`.
    pub(crate) fn prefix_literal(&self) -> String {
        objectscript_string(&self.prefix())
    }

    /// This call's markers in `out`, in order: what follows the prefix on each line that
    /// starts with it (a carriage return at the end dropped). Every other line is ignored.
    pub(crate) fn markers<'a>(&self, out: &'a str) -> Vec<&'a str> {
        let prefix = self.prefix();
        out.lines()
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .filter_map(|l| l.strip_prefix(prefix.as_str()))
            .collect()
    }
}

/// Runs `line` in a %SYS session of `target`, fed on stdin after the credentials (when the
/// config names them), with the password taken out of what was captured. The exit code is
/// the caller's to ignore.
pub(crate) fn run(target: &Target, line: &str, deadline: Instant, stop: Stop) -> Outcome {
    let mut input = target
        .credentials
        .as_ref()
        .map(|c| c.stdin_bytes())
        .unwrap_or_default();
    input.extend(line.as_bytes());
    input.push(b'\n');
    let mut o = process::run_with_input(
        &target.session.program,
        &target.session.args_plain(),
        deadline,
        stop,
        Some(&input),
    );
    if let Some(c) = &target.credentials {
        c.hide_password(&mut o.stdout);
        c.hide_password(&mut o.stderr);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_lines_that_start_with_this_calls_prefix_are_markers() {
        let fed = Fed::with_nonce("ab12");
        assert_eq!(fed.prefix_literal(), "\"IRISFREEZE-ab12 \"");
        let out = "%SYS>\r\nIRISFREEZE-ab12 suspended=1\r\nIRISFREEZE-ff00 suspended=0\n\
                   s p=\"IRISFREEZE-ab12 \" w 1\n x IRISFREEZE-ab12 end\nIRISFREEZE-ab12 end\n";
        assert_eq!(fed.markers(out), ["suspended=1", "end"]);
        assert_ne!(Fed::new().prefix(), Fed::new().prefix());
    }
}
