//! The watchdog's thaw plan: each instance it guards with the freeze's record of it (its kind,
//! and the programs and arguments of its ExternalThaw and of its emergency resume, found and
//! checked by the freeze), passed in its arguments so that the deadline needs no search and no
//! state file. The programs are checked again before they run (`thaw::reach`).

use std::collections::BTreeMap;

use crate::commands::state::Record;
use crate::host::eventlog::EventLog;

/// Instance name → the freeze's record of it.
pub(super) type Plan = BTreeMap<String, Record>;

/// The plan from its argument. One that does not parse (a freeze of another version) is said,
/// and the watchdog goes on with the state's records alone.
pub(super) fn parse(json: &str, log: &EventLog) -> Plan {
    serde_json::from_str(json).unwrap_or_else(|e| {
        log.error(
            None,
            "plan",
            format!(
                "the watchdog's thaw plan does not parse ({e}): thawing what the state records"
            ),
        );
        Plan::new()
    })
}
