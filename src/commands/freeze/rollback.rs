//! Step 4 of a freeze that failed: thaw everything this run froze or may have frozen, and any
//! earlier freeze of ours, within a budget that a stop signal shortens.

use std::time::{Duration, Instant};

use crate::commands::state::State;
use crate::host::eventlog::{EventLog, Level};
use crate::host::process::Stop;
use crate::host::signals;
use crate::iris::backup::{self, Answer, Target, Thawed};

/// A rollback always gets at least this long, even past --timeout: thawing comes first.
const MIN_ROLLBACK: Duration = Duration::from_secs(5);
/// After a stop signal the whole rollback must fit before VMware's SIGKILL, 5 s after its SIGTERM.
const SIGNAL_ROLLBACK: Duration = Duration::from_secs(4);

/// One instance to roll back.
pub(super) struct Undo {
    pub(super) target: Target,
    /// Its ExternalFreeze answer (`Yes` for an earlier freeze of ours).
    pub(super) answer: Answer,
    /// The ExternalFreeze call outlived even SIGKILL: it could still land after the thaw.
    pub(super) lingering: bool,
}

impl Undo {
    /// An instance frozen by an earlier run of ours.
    pub(super) fn kept(target: Target) -> Undo {
        Undo {
            target,
            answer: Answer::Yes,
            lingering: false,
        }
    }
}

/// How long a rollback may take: short after a stop signal, else the rest of --timeout but
/// never less than [`MIN_ROLLBACK`].
pub(super) fn rollback_until(deadline: Instant) -> Instant {
    let now = Instant::now();
    if signals::received().is_some() {
        return now + SIGNAL_ROLLBACK;
    }
    deadline.max(now + MIN_ROLLBACK)
}

/// Thaws each target (a freeze that answered 3 is only checked, then thawed if it is
/// suspended after all). Returns the names that may still be frozen; the state keeps those,
/// and keeps the watchdog armed for them. A target whose ExternalFreeze call survived even
/// SIGKILL (`lingering`) stays recorded too: that call could still land after the thaw.
pub(super) fn roll_back(
    targets: &[Undo],
    state: &mut State,
    until: Instant,
    log: &EventLog,
) -> Vec<String> {
    let now = Instant::now();
    let thaw_by = now + (until.saturating_duration_since(now)) * 2 / 3;
    let results = backup::each(targets, |u| {
        let t = &u.target;
        if u.answer == Answer::No {
            let (a, o) = backup::is_suspended(t, thaw_by, Stop::Never);
            if a == Answer::No {
                log.call(
                    Level::Info,
                    &t.name,
                    "not-frozen",
                    &o,
                    "rollback: confirmed not suspended",
                );
                return Thawed::Confirmed;
            }
            log.call(
                Level::Warn,
                &t.name,
                "check",
                &o,
                "rollback: the failed freeze may have suspended it",
            );
        }
        log.info(Some(&t.name), "rollback", "rollback: thawing");
        backup::thaw_and_confirm(t, thaw_by, until.saturating_duration_since(thaw_by), log)
    });
    let mut left = Vec::new();
    for (
        Undo {
            target: t,
            lingering,
            ..
        },
        r,
    ) in targets.iter().zip(results)
    {
        if r != Thawed::Confirmed {
            left.push(t.name.clone());
        } else if *lingering {
            log.warn(
                Some(&t.name),
                "lingering",
                "the ExternalFreeze call could not be killed and may still land: keeping the \
                 record and the watchdog armed for it",
            );
        } else {
            state.instances.remove(&t.name);
        }
    }
    if state.instances.is_empty() {
        state.disarm();
    }
    left
}
