//! IsWDSuspendedExt on every running instance at once: `status`'s rows and `thaw`'s look.

use std::time::Instant;

use crate::host::process::{Outcome, Stop};
use crate::iris::backup::{Answer, Target, call, each};
use crate::iris::calls::IS_WD_SUSPENDED;
use crate::iris::credentials::Credentials;
use crate::iris::discovery::{Listing, Tools};

/// What IsWDSuspendedExt said on one running instance, with the target that asked (for
/// [`problem`]).
pub(crate) struct Suspended {
    pub(crate) target: Target,
    pub(crate) answer: Answer,
    pub(crate) outcome: Outcome,
}

/// Asks every running instance of `listing` IsWDSuspendedExt, all at once. One entry per
/// listed instance, in its order: `None` when it is not running or has no session program.
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
        t.as_ref().map(|t| call(t, IS_WD_SUSPENDED, deadline, stop))
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
