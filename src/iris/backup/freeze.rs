//! The ExternalFreeze call as the config asks for it, and the journal files its output names.

use crate::host::process::Outcome;
use crate::iris::backup::FreezeOptions;
use crate::iris::calls::{
    EXTERNAL_FREEZE, EXTERNAL_FREEZE_METHOD, JOURNAL_RESTORE, JOURNAL_SWITCHED,
};
use crate::iris::discovery::Kind;

/// The ExternalFreeze call with the options the config sets, and `text` (the cycle id) as its
/// Text argument, so that IRIS's own journal marker names the cycle; plain `ExternalFreeze()`
/// when there is neither. Arguments: LogFile, Text, SwitchJournalFile, TimeOut, Hibernate,
/// Verbose, ExternalFreezeTimeOut, Username, Password, WDSuspendLimit. WDSuspendLimit exists on
/// IRIS only; credentials are never passed (they would show in the process list).
pub(crate) fn external_freeze(opts: &FreezeOptions, kind: Kind, text: &str) -> String {
    let mut args: Vec<String> = vec![String::new(); 10];
    args[0] = "\"\"".into();
    if !text.is_empty() {
        args[1] = crate::iris::objectscript_string(text);
    }
    if let Some(sw) = opts.switch_journal {
        args[2] = if sw { "1" } else { "0" }.into();
    }
    if let Some(t) = opts.external_freeze_timeout {
        args[6] = t.to_string();
    }
    if let (Some(l), Kind::Iris) = (opts.wd_suspend_limit, kind) {
        args[9] = l.to_string();
    }
    while args.last().is_some_and(|a| a.is_empty()) {
        args.pop();
    }
    if args.len() <= 1 {
        return EXTERNAL_FREEZE.to_string();
    }
    format!("{EXTERNAL_FREEZE_METHOD}({})", args.join(","))
}

/// The journal files ExternalFreeze names in its output: the one it switched to
/// ("Journal file switched to:" then the path, on that line or the next) and the one a journal
/// restore of this backup starts from ("Start a journal restore for this backup with journal
/// file: PATH").
pub(crate) fn freeze_journals(o: &Outcome) -> (Option<String>, Option<String>) {
    let lines: Vec<&str> = o.lines().map(str::trim).collect();
    let after = |i: usize, at: usize, key: &str| {
        let rest = lines[i][at + key.len()..].trim();
        let path = if rest.is_empty() {
            lines.get(i + 1).copied().unwrap_or("")
        } else {
            rest
        };
        Some(path.to_string()).filter(|p| !p.is_empty())
    };
    let (mut switched, mut restore) = (None, None);
    for (i, l) in lines.iter().enumerate() {
        if let Some(at) = l.find(JOURNAL_SWITCHED) {
            switched = switched.or(after(i, at, JOURNAL_SWITCHED));
        }
        if let Some(at) = l.find(JOURNAL_RESTORE) {
            restore = restore.or(after(i, at, JOURNAL_RESTORE));
        }
    }
    (switched, restore)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_freeze_is_plain_without_options() {
        assert_eq!(
            external_freeze(&FreezeOptions::default(), Kind::Iris, ""),
            EXTERNAL_FREEZE
        );
        assert_eq!(
            external_freeze(
                &FreezeOptions::default(),
                Kind::Iris,
                "20261201T115512Z-3fa2"
            ),
            "##Class(Backup.General).ExternalFreeze(\"\",\"20261201T115512Z-3fa2\")"
        );
    }

    #[test]
    fn external_freeze_places_each_option_in_its_position() {
        let opts = FreezeOptions {
            external_freeze_timeout: Some(900),
            wd_suspend_limit: Some(300),
            switch_journal: Some(false),
        };
        assert_eq!(
            external_freeze(&opts, Kind::Iris, ""),
            "##Class(Backup.General).ExternalFreeze(\"\",,0,,,,900,,,300)"
        );
        // No WDSuspendLimit on Caché.
        assert_eq!(
            external_freeze(&opts, Kind::Cache, ""),
            "##Class(Backup.General).ExternalFreeze(\"\",,0,,,,900)"
        );
        let only_limit = FreezeOptions {
            wd_suspend_limit: Some(120),
            ..Default::default()
        };
        assert_eq!(
            external_freeze(&only_limit, Kind::Cache, ""),
            EXTERNAL_FREEZE
        );
        assert_eq!(
            external_freeze(&only_limit, Kind::Cache, "a\"b"),
            "##Class(Backup.General).ExternalFreeze(\"\",\"a\"\"b\")"
        );
    }
}
