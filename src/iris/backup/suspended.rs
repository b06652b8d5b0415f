//! Whether the write daemon is suspended: `Backup.General.IsWDSuspended()` (1 or 0), asked by a
//! line of ours that writes the answer as a marker (`iris::marked`), on one instance or on every
//! running one at once (`status`'s rows and `thaw`'s look). The answer is the marker alone: a
//! session that exits without it (3 or any other code, silently or not) is unknown, never
//! "not suspended".

use std::time::Instant;

use crate::host::process::{Outcome, Stop};
use crate::iris::backup::{Answer, Target, each};
use crate::iris::calls::{IS_WD_SUSPENDED, NOT_SUSPENDED, SUSPENDED};
use crate::iris::credentials::Credentials;
use crate::iris::discovery::{Listing, Tools};
use crate::iris::marked::{self, Fed};

/// What the check said on one running instance, with the target that asked (for
/// [`crate::iris::backup::problem`]).
pub(crate) struct Suspended {
    pub(crate) target: Target,
    pub(crate) answer: Answer,
    pub(crate) outcome: Outcome,
}

/// The line fed to the session: IsWDSuspended's answer after a `suspended=` marker, then an
/// `end` marker, then halt.
fn line(fed: &Fed) -> String {
    format!(
        "s p={},su={IS_WD_SUSPENDED} w !,p,\"suspended=\",su,!,p,\"end\",! h",
        fed.prefix_literal()
    )
}

/// The answer in the markers: exactly `suspended=1` (Yes) or `suspended=0` (No), then `end`,
/// and nothing else of ours; anything else is Unknown.
fn read(out: &str, fed: &Fed) -> Answer {
    match fed.markers(out)[..] {
        [s, "end"] => match s.strip_prefix("suspended=") {
            Some(SUSPENDED) => Answer::Yes,
            Some(NOT_SUSPENDED) => Answer::No,
            _ => Answer::Unknown,
        },
        _ => Answer::Unknown,
    }
}

/// Asks `target` whether its write daemon is suspended; the answer comes from the marker line
/// alone, whatever the session's exit code. The caller logs it with `EventLog::call`.
pub(crate) fn is_suspended(target: &Target, deadline: Instant, stop: Stop) -> (Answer, Outcome) {
    let fed = Fed::new();
    let o = marked::run(target, &line(&fed), deadline, stop);
    (read(&o.stdout, &fed), o)
}

/// Asks every running instance of `listing`, all at once. One entry per listed instance, in
/// its order: `None` when it is not running or has no session program.
pub(crate) fn ask_suspended(
    listing: &Listing,
    tools: &Tools,
    credentials: Option<&Credentials>,
    deadline: Instant,
    stop: Stop,
) -> Vec<Option<Suspended>> {
    let targets: Vec<Option<Target>> = listing
        .instances
        .iter()
        .map(|i| {
            if !i.running {
                return None;
            }
            let session = tools.session_for(&i.name, i.kind).ok()?;
            Some(Target::new(&i.name, session).with_credentials(credentials))
        })
        .collect();
    let answers = each(&targets, |t| {
        t.as_ref().map(|t| is_suspended(t, deadline, stop))
    });
    targets
        .into_iter()
        .zip(answers)
        .map(|(target, answer)| {
            let (answer, outcome) = answer?;
            Some(Suspended {
                target: target?,
                answer,
                outcome,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_writes_is_wd_suspended_after_our_prefix_and_halts() {
        assert_eq!(
            line(&Fed::with_nonce("ab12")),
            "s p=\"IRISFREEZE-ab12 \",su=##Class(Backup.General).IsWDSuspended() w !,p,\
             \"suspended=\",su,!,p,\"end\",! h"
        );
    }

    #[test]
    fn only_a_complete_marker_answers() {
        let fed = Fed::with_nonce("n1");
        let ask = |out: &str| read(out, &fed);
        assert_eq!(
            ask("%SYS>\nIRISFREEZE-n1 suspended=1\nIRISFREEZE-n1 end\n"),
            Answer::Yes
        );
        assert_eq!(
            ask("\r\nIRISFREEZE-n1 suspended=0\r\nIRISFREEZE-n1 end\r\n"),
            Answer::No
        );
        for out in [
            // A session that failed before running the line, silently or not.
            "",
            "ERROR #5001: x\n",
            "Access Denied\n",
            // Cut short, repeated, malformed, or another call's (a forged line).
            "IRISFREEZE-n1 suspended=0\n",
            "IRISFREEZE-n1 end\n",
            "IRISFREEZE-n1 suspended=0\nIRISFREEZE-n1 suspended=1\nIRISFREEZE-n1 end\n",
            "IRISFREEZE-n1 suspended=\nIRISFREEZE-n1 end\n",
            "IRISFREEZE-n1 suspended=2\nIRISFREEZE-n1 end\n",
            "IRISFREEZE-n1 suspended=0\nIRISFREEZE-n1 end\nIRISFREEZE-n1 end\n",
            "IRISFREEZE-n2 suspended=0\nIRISFREEZE-n2 end\n",
            "s p=\"IRISFREEZE-n1 \" w !,p,\"suspended=0\"\n",
        ] {
            assert_eq!(ask(out), Answer::Unknown, "{out:?}");
        }
    }
}
