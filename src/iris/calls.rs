//! Every IRIS call iris-freeze makes and every answer it reads, in one place: the programs'
//! arguments, the ObjectScript expressions, the exit codes and the output lines. Each names its
//! source (class reference member, Data Integrity Guide section) or says *assumed* and what
//! happens if the assumption is wrong. doc/iris-calls.md is the same list as a table; a test
//! below holds that it names every value here. No assumption may turn into a false success:
//! where IRIS's documentation is silent, an answer we do not recognise counts as unknown.
//!
//! The `Backup.ShardedCluster` calls still live in `iris::sharded`, and the marker lines some
//! calls write in `iris::marked`; the table covers them.

/// `Backup.General.<method>` as the `##Class` expression a session runs.
macro_rules! general {
    ($method:literal) => {
        concat!("##Class(Backup.General).", $method)
    };
}

// ---- Programs and their arguments -------------------------------------------------------------

/// `iris qlist` / `ccontrol qlist`: one `^`-separated line per instance; exit 0. Source: System
/// Administration Guide, "iris command" (qlist fields); isclib's samples for Caché.
pub(crate) const QLIST: &str = "qlist";

/// A qlist line has at least this many fields (Caché 2012 prints 8, IRIS 14): fewer is not an
/// instance line. Source: isclib's parser and samples (field 9 on is newer).
pub(crate) const QLIST_MIN_FIELDS: usize = 8;

/// qlist field 4 starts with this when the instance runs (`running, since ...`). Source: System
/// Administration Guide (qlist). Any other status is not `running`, so not frozen as one.
pub(crate) const QLIST_RUNNING: &str = "running";

/// qlist field 4 starts with this when the instance is down (`down, last used ...`); nothing
/// writes to its files. Source: System Administration Guide (qlist). Assumed for the word
/// itself: if IRIS spelled it otherwise, a down instance counts as up but unavailable, and a
/// freeze refuses it (a failure, not a success).
pub(crate) const QLIST_DOWN: &str = "down";

/// qlist field 12 when the instance is the mirror primary (compared ignoring case): warned about,
/// or refused with `mirror_primary = "refuse"`. Source: System Administration Guide (qlist),
/// High Availability Guide (member statuses). If wrong, a primary is frozen without the warning.
pub(crate) const QLIST_MIRROR_PRIMARY: &str = "Primary";

/// `iris session NAME -U%SYS EXPR` (IRIS), `csession NAME -U%SYS EXPR` or `ccontrol session NAME
/// -U%SYS EXPR` (Caché): runs EXPR in %SYS and exits. Source: System Administration Guide, "iris
/// command" (`session`/`terminal`); Caché "Connecting to a Caché Instance" (csession).
pub(crate) const SESSION: &str = "session";

/// The namespace argument of a session: `Backup.General` lives in %SYS. Source: class reference
/// examples (`-U%SYS`).
pub(crate) const SYS_NAMESPACE: &str = "-U%SYS";

/// `iris stat NAME -W` (IRIS): the emergency resume of the write daemon when ExternalThaw cannot
/// resume it. Source: Data Integrity Guide (external backup), Monitoring Guide (irisstat `-W`).
/// On Caché, `ccontrol stat NAME -W` is assumed: if wrong, the check after it still finds the
/// write daemon suspended and the thaw reports STILL FROZEN. Its own exit is only logged.
pub(crate) const STAT: &str = "stat";

/// The option of [`STAT`] that resumes the write daemon.
pub(crate) const STAT_RESUME: &str = "-W";

// ---- Expressions ------------------------------------------------------------------------------

/// `Backup.General.ExternalFreeze` without its argument list: [`crate::iris::backup`] adds the
/// arguments the config sets. Source: class reference, Backup.General.ExternalFreeze.
pub(crate) const EXTERNAL_FREEZE_METHOD: &str = general!("ExternalFreeze");

/// ExternalFreeze with IRIS's defaults. Exit 5 = frozen, 3 = failed (and not frozen). Source:
/// class reference, Backup.General.ExternalFreeze ("Returns").
pub(crate) const EXTERNAL_FREEZE: &str = concat!(general!("ExternalFreeze"), "()");

/// ExternalThaw. Exit 5 = resumed, 3 = failed (it may still be suspended). Source: class
/// reference, Backup.General.ExternalThaw. Always followed by [`IS_WD_SUSPENDED`], whatever it
/// answered.
pub(crate) const EXTERNAL_THAW: &str = concat!(general!("ExternalThaw"), "()");

/// IsWDSuspended: 1 if the write daemon is suspended, 0 if not (a %Boolean). Source: class
/// reference, Backup.General.IsWDSuspended. Asked through a line of our own, fed to a %SYS
/// session on stdin, that writes the answer as a marker ([`crate::iris::marked`]): the answer
/// is the marker ([`SUSPENDED`] or [`NOT_SUSPENDED`]), and a missing or malformed one is
/// unknown whatever the session exits with. (IsWDSuspendedExt answers with its exit status, 5
/// or 3, and a session that failed silently with 3 before running it could not be told from
/// "not suspended".) The cluster's thaw line asks it first, on the shard master.
pub(crate) const IS_WD_SUSPENDED: &str = concat!(general!("IsWDSuspended"), "()");

/// [`IS_WD_SUSPENDED`]'s answer when the write daemon is suspended. Source: as it.
pub(crate) const SUSPENDED: &str = "1";

/// [`IS_WD_SUSPENDED`]'s answer when it is not. Source: as it.
pub(crate) const NOT_SUSPENDED: &str = "0";

/// `ExternalSetHistory(LogFile, Description)` without its arguments. Source: class reference,
/// Backup.General.ExternalSetHistory ("Always returns OK"). Its OS exit status is not documented:
/// 5 is assumed to mean recorded; if wrong, a warning is logged, the thaw's result is unchanged.
pub(crate) const EXTERNAL_SET_HISTORY_METHOD: &str = general!("ExternalSetHistory");

// ---- Answers ----------------------------------------------------------------------------------

/// The exit status of a `Backup.General` call that succeeded (ExternalFreeze, ExternalThaw).
/// Source: class reference (ExternalFreeze, ExternalThaw). Any status but this and [`EXIT_NO`]
/// is unknown.
pub(crate) const EXIT_YES: i32 = 5;

/// The exit status of a `Backup.General` call that failed. Source: as [`EXIT_YES`].
pub(crate) const EXIT_NO: i32 = 3;

/// Part of the error ExternalFreeze gives (exit 3) when the write daemon is already suspended:
/// "Backup.General.ExternalFreeze cannot run with switch 10 or 13 already set". Source: the
/// error message reference. Read as someone else's freeze: exit 2, never 0.
pub(crate) const SWITCH_ALREADY_SET: &str = "already set";

/// Part of ExternalThaw's answer (exit 3) when the write daemon was not suspended: "System is
/// not suspended". Assumed (the message is not documented): if IRIS words it otherwise, the
/// verdict is "unknown" instead of "not consistent"; neither is a success.
pub(crate) const THAW_NOT_SUSPENDED: &str = "not suspended";

/// ExternalFreeze's output (and messages.log): the journal file it switched to, on this line or
/// the next. Source: the class reference says to find it in messages.log; the wording is assumed,
/// from published freeze logs. If missing, the history has no journal file and
/// `restore-plan` says where to look.
pub(crate) const JOURNAL_SWITCHED: &str = "Journal file switched to:";

/// ExternalFreeze's output (and messages.log): "Start a journal restore for this backup with
/// journal file: PATH", the file a journal restore of this backup starts from. Source: as
/// [`JOURNAL_SWITCHED`]; Data Integrity Guide (restoring: start from the file switched to). If
/// missing, [`JOURNAL_SWITCHED`]'s file stands in, else `restore-plan` says where to look.
pub(crate) const JOURNAL_RESTORE: &str = "journal restore for this backup with journal file:";

/// messages.log, after ExternalFreeze's [`JOURNAL_RESTORE`] line: the thaw found the write daemon
/// still suspended and resumed it. Source: the `Backup.ShardedCluster` class reference (its thaw,
/// on each data server); for `Backup.General` assumed from published logs. Read by `verify` and
/// the thaw's verdict; its absence never makes a verdict `consistent` by itself.
pub(crate) const SYSTEM_RESUMED: &str = "System resumed";

/// messages.log, after ExternalFreeze's lines: the thaw found the write daemon resumed already,
/// by someone or something else. Source: the `Backup.ShardedCluster` class reference. If IRIS
/// words it otherwise for `Backup.General`, ExternalThaw's "not suspended" answer still says so.
pub(crate) const ALREADY_RESUMED: &str = "Already resumed";

/// The login prompt a session prints when OS authentication is off. Source: Security Reference
/// (authentication; the prompts a terminal login shows). With no credentials to give, the call's
/// answer is unknown whatever its exit status.
pub(crate) const LOGIN_PROMPT: &str = "Username:";

/// What a session prints when it refuses the login. Assumed (the wording is not documented): the
/// call's answer is unknown when it appears; if IRIS words it otherwise, the exit status still
/// decides for ExternalFreeze and ExternalThaw (a refused login does not exit 5, and their 3 is
/// always checked with [`IS_WD_SUSPENDED`]), and a check without its marker is unknown anyway.
pub(crate) const ACCESS_DENIED: &str = "Access Denied";

/// A line of a session's output holding either of these reports an error (`ERROR #5001: ...`,
/// `<PROTECT>`, `<LICENSE LIMIT EXCEEDED>`). Source: ObjectScript's error formats (status text,
/// system errors). Used to name the error in messages.
pub(crate) const ERROR_MARKERS: [&str; 2] = ["ERROR", "<"];

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = include_str!("../../doc/iris-calls.md");

    #[test]
    fn the_doc_table_names_every_call_and_answer() {
        let strings = [
            QLIST,
            QLIST_RUNNING,
            QLIST_DOWN,
            QLIST_MIRROR_PRIMARY,
            SESSION,
            SYS_NAMESPACE,
            STAT,
            STAT_RESUME,
            EXTERNAL_FREEZE_METHOD,
            EXTERNAL_FREEZE,
            EXTERNAL_THAW,
            IS_WD_SUSPENDED,
            EXTERNAL_SET_HISTORY_METHOD,
            SWITCH_ALREADY_SET,
            THAW_NOT_SUSPENDED,
            JOURNAL_SWITCHED,
            JOURNAL_RESTORE,
            SYSTEM_RESUMED,
            ALREADY_RESUMED,
            LOGIN_PROMPT,
            ACCESS_DENIED,
            ERROR_MARKERS[0],
            ERROR_MARKERS[1],
        ];
        for s in strings {
            assert!(TABLE.contains(s), "doc/iris-calls.md does not name {s:?}");
        }
        for n in [EXIT_YES, EXIT_NO] {
            assert!(TABLE.contains(&format!("exit {n}")), "no `exit {n}`");
        }
        assert!(TABLE.contains(&format!("{QLIST_MIN_FIELDS} fields")));
    }

    #[test]
    fn the_expressions_are_the_documented_ones() {
        assert_eq!(EXTERNAL_FREEZE, "##Class(Backup.General).ExternalFreeze()");
        assert_eq!(EXTERNAL_THAW, "##Class(Backup.General).ExternalThaw()");
        assert_eq!(IS_WD_SUSPENDED, "##Class(Backup.General).IsWDSuspended()");
        assert_eq!(
            EXTERNAL_SET_HISTORY_METHOD,
            "##Class(Backup.General).ExternalSetHistory"
        );
    }
}
