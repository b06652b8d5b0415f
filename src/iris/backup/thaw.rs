//! The thaw-then-confirm step shared by `thaw`, the watchdog and the rollback of a failed freeze:
//! ExternalThaw, then IsWDSuspended (its marker line), and the emergency resume when the write
//! daemon stays suspended.

use std::time::{Duration, Instant};

use crate::host::eventlog::{EventLog, Level};
use crate::host::process::{self, Outcome, Stop};
use crate::iris::backup::{Answer, Target, call, is_suspended, problem};
use crate::iris::calls::{IS_WD_SUSPENDED, THAW_NOT_SUSPENDED};
use crate::iris::discovery::SessionCmd;
use crate::iris::sharded;

/// The emergency resume and the check after it get this long each, even past --timeout:
/// an instance left frozen is an outage in the making.
const EMERGENCY_TIMEOUT: Duration = Duration::from_secs(10);

/// Where an instance ended up after thaw-and-confirm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Thawed {
    /// IsWDSuspended said 0: not suspended.
    Confirmed,
    /// IsWDSuspended said 1: still frozen.
    StillFrozen,
    /// The confirmation itself failed: it may still be frozen.
    Unconfirmed,
}

/// ExternalThaw (bounded by `thaw_by`), then IsWDSuspended (given `confirm_for` from when it
/// starts).
/// A thaw that answers 3 is fine when the instance is confirmed not suspended. When the thaw
/// did not resume the write daemon, escalates once to the documented emergency resume.
/// Never cut short by a signal: an interrupted thaw is worse than a late one.
pub(crate) fn thaw_and_confirm(
    target: &Target,
    thaw_by: Instant,
    confirm_for: Duration,
    log: &EventLog,
) -> Thawed {
    thaw_and_confirm_told(target, thaw_by, confirm_for, log).0
}

/// What ExternalThaw and the check right after it said, for the cycle's verdict.
#[derive(Debug, Clone)]
pub(crate) struct ThawTold {
    /// ExternalThaw's answer: `Yes` means it was suspended until now.
    pub(crate) answer: Answer,
    /// It answered 3 with "System is not suspended": something resumed it before us.
    pub(crate) not_suspended: bool,
    /// The check after it still found the write daemon suspended: the freeze held until our
    /// (emergency) resume.
    pub(crate) still_suspended: bool,
    /// Why ExternalThaw did not answer 5, in words.
    pub(crate) problem: String,
}

impl ThawTold {
    /// What ExternalThaw (`expr`) said; `still_suspended` is for the check after it to set.
    fn from_call(target: &Target, expr: &str, answer: Answer, o: &Outcome) -> Self {
        ThawTold {
            answer,
            not_suspended: answer == Answer::No
                && o.lines().any(|l| l.contains(THAW_NOT_SUSPENDED)),
            still_suspended: false,
            problem: match answer {
                Answer::Yes => String::new(),
                _ => problem(target, expr, o),
            },
        }
    }
}

/// ExternalThaw's answer in the log; anything but a 5 is checked next, as the line says.
fn log_thaw(target: &Target, told: &ThawTold, o: &Outcome, log: &EventLog) {
    let name = target.name.as_str();
    match told.answer {
        Answer::Yes => log.call(Level::Info, name, "thaw", o, "ExternalThaw succeeded"),
        Answer::No => log.call(
            Level::Info,
            name,
            "thaw",
            o,
            format!(
                "ExternalThaw {}; checking whether it is suspended: {}",
                if target.sharded.is_some() {
                    "did not resume the cluster"
                } else {
                    "answered 3"
                },
                told.problem
            ),
        ),
        Answer::Unknown => log.call(
            Level::Warn,
            name,
            "thaw",
            o,
            format!(
                "ExternalThaw {}; checking whether it is suspended",
                told.problem
            ),
        ),
    }
}

/// [`thaw_and_confirm`], with what the calls told.
pub(crate) fn thaw_and_confirm_told(
    target: &Target,
    thaw_by: Instant,
    confirm_for: Duration,
    log: &EventLog,
) -> (Thawed, ThawTold) {
    let expr = target.thaw_expr();
    let (thaw, o, mut told) = match &target.sharded {
        Some(ns) => cluster_thaw(target, ns, thaw_by),
        None => {
            let (thaw, o) = call(target, &expr, thaw_by, Stop::Never);
            let told = ThawTold::from_call(target, &expr, thaw, &o);
            (thaw, o, told)
        }
    };
    log_thaw(target, &told, &o, log);
    if target.sharded.is_some() && thaw != Answer::Yes && !told.not_suspended {
        return (cluster_not_thawed(target, &told, log), told);
    }
    let confirmed = "confirmed: write daemon not suspended";
    let (check, o) = confirm(target, confirm_for, Level::Info, confirmed, log);
    if check == Answer::No {
        return (Thawed::Confirmed, told);
    }
    told.still_suspended = check == Answer::Yes;
    // Still suspended, or the check failed after a thaw that did not succeed (a blocked system
    // refuses new sessions; the emergency resume needs none).
    let thawed = match target
        .emergency
        .as_ref()
        .filter(|_| check == Answer::Yes || thaw != Answer::Yes)
    {
        Some(cmd) => emergency_resume(target, cmd, (check, &o), log),
        None => still_frozen(target, check, &o, log),
    };
    (thawed, told)
}

/// The cluster's ExternalThaw, read from its markers. A thaw whose %Status is OK but that found
/// the master's write daemon no longer suspended answers as a `Backup.General` thaw of an
/// instance that is not suspended does: the cluster was resumed before the thaw.
fn cluster_thaw(target: &Target, ns: &str, thaw_by: Instant) -> (Answer, Outcome, ThawTold) {
    let c = sharded::thaw(target, ns, thaw_by);
    let resumed_before = c.answer == Answer::Yes && c.was_suspended == Some(false);
    let answer = if resumed_before { Answer::No } else { c.answer };
    let told = ThawTold {
        answer,
        not_suspended: resumed_before,
        still_suspended: false,
        problem: if resumed_before {
            "the shard master's write daemon was not suspended when the cluster thaw began"
                .to_string()
        } else {
            c.problem
        },
    };
    (answer, c.outcome, told)
}

/// The cluster's ExternalThaw failed: a data server may still be frozen, and neither a check
/// nor the emergency resume on the shard master reaches it.
fn cluster_not_thawed(target: &Target, told: &ThawTold, log: &EventLog) -> Thawed {
    log.error(
        Some(&target.name),
        "cluster-not-thawed",
        format!(
            "Backup.ShardedCluster.ExternalThaw failed ({}): a data server of the cluster may \
             still be frozen; run `iris-freeze thaw` again, or `iris stat NODE -W` on the data \
             server it names",
            told.problem
        ),
    );
    Thawed::Unconfirmed
}

/// The documented emergency resume (`iris stat NAME -W`), when the write daemon may still be
/// suspended after ExternalThaw (`check` and `o`: the check that said so), then one more check.
fn emergency_resume(
    target: &Target,
    cmd: &SessionCmd,
    (check, o): (Answer, &Outcome),
    log: &EventLog,
) -> Thawed {
    let name = target.name.as_str();
    log.call(
        Level::Error,
        name,
        "emergency",
        o,
        format!(
            "EMERGENCY: the write daemon may still be suspended after ExternalThaw \
             (IsWDSuspended {}); running the documented emergency resume `{}`",
            said(target, check, o),
            cmd.display_plain()
        ),
    );
    let e = process::run(
        &cmd.program,
        &cmd.args_plain(),
        Instant::now() + EMERGENCY_TIMEOUT,
        Stop::Never,
    );
    log.call(
        Level::Error,
        name,
        "emergency",
        &e,
        format!("emergency resume {}", e.describe()),
    );
    let confirmed = "confirmed after the EMERGENCY resume: write daemon not suspended; look in \
                     messages.log for why ExternalThaw did not resume it";
    let (again, o2) = confirm(target, EMERGENCY_TIMEOUT, Level::Error, confirmed, log);
    if again == Answer::No {
        return Thawed::Confirmed;
    }
    still_frozen(target, again, &o2, log)
}

/// Asks, within `within`, whether the write daemon is still suspended; a "no" is logged at
/// `level` as the thaw confirmed (`confirmed` says so).
fn confirm(
    target: &Target,
    within: Duration,
    level: Level,
    confirmed: &str,
    log: &EventLog,
) -> (Answer, Outcome) {
    let (check, o) = is_suspended(target, Instant::now() + within, Stop::Never);
    if check == Answer::No {
        log.call(level, &target.name, "thawed", &o, confirmed);
    }
    (check, o)
}

fn still_frozen(target: &Target, check: Answer, o: &Outcome, log: &EventLog) -> Thawed {
    let name = target.name.as_str();
    if check == Answer::Yes {
        log.call(
            Level::Error,
            name,
            "still-frozen",
            o,
            format!(
                "STILL FROZEN: IsWDSuspended says the write daemon is suspended; run \
                 `iris-freeze thaw --instance {name}`, or as a last resort `iris stat {name} -W`"
            ),
        );
        return Thawed::StillFrozen;
    }
    log.call(
        Level::Error,
        name,
        "unconfirmed",
        o,
        format!(
            "MAY STILL BE FROZEN: cannot confirm the thaw, IsWDSuspended {}; check with \
             `iris-freeze status` and run `iris-freeze thaw --instance {name}`",
            problem(target, IS_WD_SUSPENDED, o)
        ),
    );
    Thawed::Unconfirmed
}

/// What the check `o` said, for a message: suspended, or why it gave no answer.
fn said(target: &Target, check: Answer, o: &Outcome) -> String {
    match check {
        Answer::Yes => "says the write daemon is suspended".to_string(),
        Answer::No => "says it is not suspended".to_string(),
        Answer::Unknown => problem(target, IS_WD_SUSPENDED, o),
    }
}
