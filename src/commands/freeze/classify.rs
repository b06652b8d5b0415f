//! Step 1 of a freeze: who is frozen already? IsWDSuspended on every target, then a pure
//! table from its answer and our record to what the freeze does; someone else's freeze is never
//! touched.

use std::time::Instant;

use crate::commands::state::State;
use crate::host::eventlog::{EventLog, Level};
use crate::host::process::{Outcome, Stop};
use crate::iris::backup::{self, Answer, Target};
use crate::iris::calls::IS_WD_SUSPENDED;
use crate::iris::discovery::Kind;

/// What the freeze does with one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Not suspended: freeze it.
    Freeze,
    /// Not suspended, though we recorded freezing it: the record is stale; freeze it afresh.
    Stale,
    /// Suspended by an earlier iris-freeze whose thaw never came: ours, kept frozen.
    Keep,
    /// Suspended, and not by us: left alone, neither frozen nor thawed.
    Foreign,
    /// The check gave no answer: the freeze cannot go on.
    Unreachable,
}

/// The verdict on each `(name, answer)`, in order. Pure: it logs, runs and changes nothing.
pub(super) fn classify(answers: &[(&str, Answer)], state: &State) -> Vec<Verdict> {
    answers
        .iter()
        .map(|&(name, answer)| {
            let ours = state.instances.contains_key(name);
            match (answer, ours) {
                (Answer::No, false) => Verdict::Freeze,
                (Answer::No, true) => Verdict::Stale,
                (Answer::Yes, true) => Verdict::Keep,
                (Answer::Yes, false) => Verdict::Foreign,
                (Answer::Unknown, _) => Verdict::Unreachable,
            }
        })
        .collect()
}

/// The targets grouped by verdict.
#[derive(Debug, Default)]
pub(super) struct Classes {
    /// Not suspended (stale records included): this run freezes them.
    pub(super) to_freeze: Vec<(Target, Kind)>,
    /// Frozen by an earlier run of ours: kept frozen.
    pub(super) keep: Vec<Target>,
    /// Frozen by someone else: left alone.
    pub(super) foreign: Vec<String>,
    /// `name: why` for each target whose check gave no answer.
    pub(super) unreachable: Vec<String>,
    /// Those of them an earlier run of ours recorded freezing: maybe still frozen by us.
    pub(super) unreachable_ours: Vec<Target>,
}

/// IsWDSuspended on every target at once (each call ends by `by`), and the verdict on each.
pub(super) fn ask(
    targets: &[(Target, Kind)],
    by: Instant,
    state: &State,
) -> Vec<(Verdict, Outcome)> {
    let checks = backup::each(targets, |(t, _)| {
        backup::is_suspended(t, by, Stop::OnSignal)
    });
    let answers: Vec<(&str, Answer)> = targets
        .iter()
        .zip(&checks)
        .map(|((t, _), (a, _))| (t.name.as_str(), *a))
        .collect();
    let verdicts = classify(&answers, state);
    verdicts
        .into_iter()
        .zip(checks.into_iter().map(|(_, o)| o))
        .collect()
}

/// Step 1: [`ask`], then log each verdict and drop the stale records.
pub(super) fn check(
    targets: &[(Target, Kind)],
    state: &mut State,
    check_by: Instant,
    log: &EventLog,
) -> Classes {
    let checked = ask(targets, check_by, state);
    let mut classes = Classes::default();
    for ((t, kind), (verdict, o)) in targets.iter().zip(&checked) {
        let name = t.name.as_str();
        match *verdict {
            Verdict::Freeze | Verdict::Stale => {
                if *verdict == Verdict::Stale {
                    state.instances.remove(name);
                    log.info(
                        Some(name),
                        "stale",
                        "our earlier freeze record is stale (not suspended now): dropped",
                    );
                }
                log.call(Level::Info, name, "check", o, "not suspended: will freeze");
                classes.to_freeze.push((t.clone(), *kind));
            }
            Verdict::Keep => {
                log_kept(name, o, state, log);
                classes.keep.push(t.clone());
            }
            Verdict::Foreign => {
                log.call(
                    Level::Warn,
                    name,
                    "foreign",
                    o,
                    "already frozen by someone else: left alone (neither frozen nor thawed \
                     by iris-freeze); its consistency is not ours to promise",
                );
                classes.foreign.push(name.to_string());
            }
            Verdict::Unreachable => {
                let why = log_unreachable(t, o, log);
                classes.unreachable.push(format!("{name}: {why}"));
                if state.instances.contains_key(name) {
                    classes.unreachable_ours.push(t.clone());
                }
            }
        }
    }
    classes
}

fn log_kept(name: &str, o: &Outcome, state: &State, log: &EventLog) {
    let Some(rec) = state.instances.get(name) else {
        return;
    };
    log.call(
        Level::Warn,
        name,
        "still-frozen",
        o,
        format!(
            "still frozen by an earlier iris-freeze (pid {}) since {} ({:.0}s ago), whose thaw \
             never came: keeping it frozen",
            rec.pid,
            rec.since,
            rec.age_secs().unwrap_or(0.0)
        ),
    );
}

/// Logs a check that gave no answer; returns why.
pub(super) fn log_unreachable(t: &Target, o: &Outcome, log: &EventLog) -> String {
    let why = backup::problem(t, IS_WD_SUSPENDED, o);
    log.call(
        Level::Error,
        &t.name,
        "check-failed",
        o,
        format!("cannot check: {why}"),
    );
    why
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::state::{Phase, Record};
    use crate::iris::discovery::SessionCmd;

    fn recorded(names: &[&str]) -> State {
        let mut state = State::default();
        for name in names {
            let session = SessionCmd {
                program: "/usr/bin/iris".into(),
                prefix: vec!["session".into(), (*name).into(), "-U%SYS".into()],
            };
            let rec = Record::new(Kind::Iris, session, Phase::Frozen);
            state.instances.insert((*name).into(), rec);
        }
        state
    }

    #[test]
    fn the_answer_and_our_record_decide_each_target() {
        let state = recorded(&["OURS", "STALE", "LOST"]);
        let answers = [
            ("NEW", Answer::No),
            ("STALE", Answer::No),
            ("OURS", Answer::Yes),
            ("OTHER", Answer::Yes),
            ("DOWN", Answer::Unknown),
            ("LOST", Answer::Unknown),
        ];
        assert_eq!(
            classify(&answers, &state),
            [
                Verdict::Freeze,
                Verdict::Stale,
                Verdict::Keep,
                Verdict::Foreign,
                Verdict::Unreachable,
                Verdict::Unreachable,
            ]
        );
    }

    #[test]
    fn a_record_counts_for_its_own_name_only() {
        // The state's keys are the names qlist gave at the freeze: another spelling is not ours.
        let state = recorded(&["IRIS"]);
        let answers = [("iris", Answer::Yes), ("IRIS2", Answer::Yes)];
        assert_eq!(
            classify(&answers, &state),
            [Verdict::Foreign, Verdict::Foreign]
        );
    }

    #[test]
    fn with_nothing_recorded_nothing_is_ours() {
        let answers = [("A", Answer::Yes), ("B", Answer::No)];
        assert_eq!(
            classify(&answers, &State::default()),
            [Verdict::Foreign, Verdict::Freeze]
        );
        assert!(classify(&[], &recorded(&["A"])).is_empty());
    }
}
