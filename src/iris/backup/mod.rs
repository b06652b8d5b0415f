//! The `Backup.General` calls, run through a %SYS session: the target, one call and its
//! answer, and why a call failed. `freeze` builds the freeze call and reads its journal lines,
//! `thaw` is the thaw-then-confirm step shared by `thaw` and the rollback of a failed freeze,
//! `suspended` asks whether the write daemon is suspended (one instance, or every running one),
//! `parallel` runs calls on many instances at once.
//!
//! ExternalFreeze and ExternalThaw, called from an OS shell, exit 5 for success and 3 for
//! failure; anything else (other codes, a signal, a timeout, a failure to start, a login we
//! could not give) leaves the instance in an unknown state. Whether the write daemon is
//! suspended is read from a marker line of ours (`suspended`), never from an exit code. The
//! calls and answers, with their sources, are in [`crate::iris::calls`].

mod freeze;
mod parallel;
mod suspended;
mod thaw;

use std::time::{Duration, Instant};

use crate::host::process::{self, Outcome, Stop};
use crate::iris::calls::{
    ACCESS_DENIED, ERROR_MARKERS, EXIT_NO, EXIT_YES, EXTERNAL_THAW, IS_WD_SUSPENDED, LOGIN_PROMPT,
};
use crate::iris::credentials::Credentials;
use crate::iris::discovery::{Kind, SessionCmd};
use crate::iris::sharded;

pub(crate) use freeze::{external_freeze, freeze_journals};
#[cfg(test)]
pub(crate) use parallel::MAX_PARALLEL;
pub(crate) use parallel::each;
pub(crate) use suspended::{Suspended, ask_suspended, is_suspended};
pub(crate) use thaw::{ThawTold, Thawed, thaw_and_confirm, thaw_and_confirm_told};

/// IRIS starts blocking writers after ExternalFreezeTimeOut, 600 s by default.
pub(crate) const IRIS_BLOCKS_AFTER: Duration = Duration::from_secs(600);

/// The ExternalFreeze arguments the config may set; `None` leaves IRIS's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FreezeOptions {
    /// ExternalFreezeTimeOut (7th argument): seconds before IRIS blocks writers (default 600).
    pub(crate) external_freeze_timeout: Option<u32>,
    /// WDSuspendLimit (10th argument, IRIS only): IRIS resumes the write daemon by itself.
    pub(crate) wd_suspend_limit: Option<u32>,
    /// SwitchJournalFile (3rd argument, default 1).
    pub(crate) switch_journal: Option<bool>,
}

/// What a call answered: its exit status, or (whether the write daemon is suspended) its
/// marker line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// Exit 5: frozen / thawed; marker 1: suspended.
    Yes,
    /// Exit 3: failed; marker 0: not suspended.
    No,
    /// Anything else: we do not know.
    Unknown,
}

/// One instance to act on.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) name: String,
    pub(crate) session: SessionCmd,
    /// The full command of the documented emergency resume (`iris stat NAME -W`), if any.
    pub(crate) emergency: Option<SessionCmd>,
    /// Fed to a login prompt on stdin, when the config names a credentials file.
    pub(crate) credentials: Option<Credentials>,
    /// The shard master namespace when this instance is a sharded cluster's master frozen as
    /// one (`--sharded`): the `Backup.ShardedCluster` calls replace the per-instance ones.
    pub(crate) sharded: Option<String>,
}

impl Target {
    /// A target reached through `session`, with no emergency resume, no credentials and not a
    /// cluster: the `with_*` steps add what the caller knows.
    pub(crate) fn new(name: impl Into<String>, session: SessionCmd) -> Self {
        Self {
            name: name.into(),
            session,
            emergency: None,
            credentials: None,
            sharded: None,
        }
    }

    /// The emergency resume to run when a thaw does not resume the write daemon.
    pub(crate) fn with_emergency(self, emergency: Option<SessionCmd>) -> Self {
        Self { emergency, ..self }
    }

    /// The login fed to a session that asks for one.
    pub(crate) fn with_credentials(self, credentials: Option<&Credentials>) -> Self {
        Self {
            credentials: credentials.cloned(),
            ..self
        }
    }

    /// The shard master namespace, when the target is a sharded cluster frozen as one.
    pub(crate) fn with_sharded(self, sharded: Option<&str>) -> Self {
        Self {
            sharded: sharded.map(str::to_string),
            ..self
        }
    }

    /// The freeze this target takes: the whole cluster's from its shard master, or its own.
    pub(crate) fn freeze_expr(&self, opts: &FreezeOptions, kind: Kind, text: &str) -> String {
        match &self.sharded {
            Some(ns) => sharded::external_freeze(ns, opts),
            None => external_freeze(opts, kind, text),
        }
    }

    /// The thaw matching [`Target::freeze_expr`].
    fn thaw_expr(&self) -> String {
        match &self.sharded {
            Some(ns) => sharded::external_thaw(ns),
            None => EXTERNAL_THAW.to_string(),
        }
    }
}

/// Runs `expr` on the target and classifies the exit; the caller logs it with `EventLog::call`.
/// The password is out of the captured output before anyone sees it (a session may echo it).
pub(crate) fn call(
    target: &Target,
    expr: &str,
    deadline: Instant,
    stop: Stop,
) -> (Answer, Outcome) {
    let input = target.credentials.as_ref().map(Credentials::stdin_bytes);
    let mut o = process::run_with_input(
        &target.session.program,
        &target.session.args(expr),
        deadline,
        stop,
        input.as_deref(),
    );
    if let Some(c) = &target.credentials {
        c.hide_password(&mut o.stdout);
        c.hide_password(&mut o.stderr);
    }
    let answer = answer(target, expr, &o);
    (answer, o)
}

/// What the exit status says, unless the output shows the call never got to answer.
fn answer(target: &Target, expr: &str, o: &Outcome) -> Answer {
    if login_failed(target, o) {
        return Answer::Unknown;
    }
    // The check's answer is its marker line (`is_suspended`), never an exit status.
    match o.code() {
        Some(EXIT_YES) if expr != IS_WD_SUSPENDED => Answer::Yes,
        Some(EXIT_NO) if expr != IS_WD_SUSPENDED => Answer::No,
        _ => Answer::Unknown,
    }
}

/// The first line of IRIS's output that reports an error (`ERROR #...`, `<PROTECT>`...).
fn error_line(o: &Outcome) -> Option<&str> {
    o.lines()
        .find(|l| ERROR_MARKERS.iter().any(|m| l.contains(m)))
}

/// IRIS printed a login prompt: OS authentication is not set up for this user.
fn asked_for_login(o: &Outcome) -> bool {
    o.stdout.contains(LOGIN_PROMPT) || o.stderr.contains(LOGIN_PROMPT)
}

/// The session asked for a login we had none to give, or refused the one we gave: whatever its
/// exit status, the call itself did not run (how a refused login exits is not documented).
fn login_failed(target: &Target, o: &Outcome) -> bool {
    (asked_for_login(o) && target.credentials.is_none())
        || o.lines().any(|l| l.contains(ACCESS_DENIED))
}

/// Why a call did not give a clean answer, with the fix when we know it.
pub(crate) fn problem(target: &Target, expr: &str, o: &Outcome) -> String {
    // With credentials a prompt is normal; only a refusal is the login's fault.
    if asked_for_login(o) && login_failed(target, o) {
        if let Some(c) = &target.credentials {
            return format!(
                "IRIS refused the login of user {:?} from the credentials file on `{}`: check \
                 the user and password in credentials_file, or enable OS authentication for \
                 %Service_Terminal instead",
                c.user(),
                target.session.display(expr)
            );
        }
        return format!(
            "IRIS asked for a login (a Username: prompt) on `{}`: enable OS authentication \
             for %Service_Terminal (Security > System Security > Authentication, and on the \
             %Service_Terminal service) so the OS user running iris-freeze (root under Azure) \
             logs in without a password, or name a credentials file (credentials_file in \
             /etc/iris-freeze.toml: user on line 1, password on line 2, mode 0600)",
            target.session.display(expr)
        );
    }
    let first = error_line(o).or_else(|| o.lines().next());
    let detail = match o.end {
        _ if expr == IS_WD_SUSPENDED => " without IsWDSuspended's answer (our marker line is \
             missing or malformed, whatever the exit: the instance's state is unknown)"
            .to_string(),
        process::End::Exited(EXIT_YES | EXIT_NO) => String::new(),
        process::End::Exited(_) => " (expected 5 or 3: the instance's state is unknown)".into(),
        _ => " (the instance's state is unknown)".into(),
    };
    match first {
        Some(line) => format!("{}{detail}: {line}", o.describe()),
        None => format!("{}{detail}", o.describe()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn sh(script: &str) -> Outcome {
        process::run(
            Path::new("/bin/sh"),
            &["-c".into(), script.into()],
            Instant::now() + Duration::from_secs(10),
            Stop::Never,
        )
    }

    fn target(credentials: bool) -> Target {
        let t = Target::new(
            "IRIS",
            SessionCmd {
                program: "/bin/sh".into(),
                prefix: vec![],
            },
        );
        if !credentials {
            return t;
        }
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("creds");
        std::fs::write(&p, "u\np\n").unwrap();
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        t.with_credentials(Some(&Credentials::load(&p).unwrap()))
    }

    #[test]
    fn login_prompt_is_recognised() {
        assert!(asked_for_login(&sh("printf 'Username: '; exit 1")));
        assert!(!asked_for_login(&sh("echo hello; exit 3")));
    }

    #[test]
    fn the_calls_keep_their_exit_status_unless_the_login_failed() {
        let plain = target(false);
        let ask = |t: &Target, script: &str| answer(t, EXTERNAL_THAW, &sh(script));
        assert_eq!(
            ask(&plain, "echo 'System is not suspended'; exit 3"),
            Answer::No
        );
        assert_eq!(ask(&plain, "echo 'System resumed'; exit 5"), Answer::Yes);
        assert_eq!(ask(&plain, "echo 'Access Denied'; exit 5"), Answer::Unknown);
        assert_eq!(ask(&plain, "exit 0"), Answer::Unknown);
        // The check is answered by its marker line alone: no exit status stands for it.
        for code in ["exit 3", "exit 5"] {
            assert_eq!(answer(&plain, IS_WD_SUSPENDED, &sh(code)), Answer::Unknown);
        }
        let why = problem(&plain, IS_WD_SUSPENDED, &sh("exit 3"));
        assert!(why.contains("state is unknown"), "{why}");
        let creds = target(true);
        let refused = sh("printf 'Username: Password: \nAccess Denied\n'; exit 3");
        assert!(problem(&creds, EXTERNAL_THAW, &refused).contains("refused the login"));
        // With credentials the prompt is normal: a failed call is the call's failure.
        let failed = sh("printf 'Username: Password: \nERROR #5001: x\n'; exit 3");
        let why = problem(&creds, EXTERNAL_THAW, &failed);
        assert!(why.contains("ERROR #5001"), "{why}");
    }
}
