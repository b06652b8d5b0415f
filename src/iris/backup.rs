//! The three `Backup.General` calls, run through a %SYS session, and the thaw-then-confirm step
//! shared by `thaw` and the rollback of a failed freeze.
//!
//! Called from an OS shell they exit 5 for success/yes and 3 for failure/no; anything else (other
//! codes, a signal, a timeout, a failure to start) leaves the instance in an unknown state.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::config::FreezeOptions;
use crate::host::eventlog::{EventLog, Level};
use crate::iris::credentials::Credentials;
use crate::iris::discovery::{Kind, Listing, SessionCmd, Tools};
use crate::iris::session::{self, Outcome, Stop};
use crate::iris::sharded;

/// The emergency resume and the check after it get this long each, even past --timeout:
/// an instance left frozen is an outage in the making.
const EMERGENCY_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) const EXTERNAL_FREEZE: &str = "##Class(Backup.General).ExternalFreeze()";
pub(crate) const EXTERNAL_THAW: &str = "##Class(Backup.General).ExternalThaw()";
pub(crate) const IS_WD_SUSPENDED: &str = "##Class(Backup.General).IsWDSuspendedExt()";

/// What a call's exit status says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// Exit 5: frozen / thawed / suspended.
    Yes,
    /// Exit 3: failed / not suspended.
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

/// The ExternalFreeze call with the options the config sets, and `text` (the cycle id) as its
/// Text argument, so that IRIS's own journal marker names the cycle; plain `ExternalFreeze()`
/// when there is neither. Arguments: LogFile, Text, SwitchJournalFile, TimeOut, Hibernate,
/// Verbose, ExternalFreezeTimeOut, Username, Password, WDSuspendLimit. WDSuspendLimit exists on
/// IRIS only; credentials are never passed (they would show in the process list).
pub(crate) fn external_freeze(opts: &FreezeOptions, kind: Kind, text: &str) -> String {
    let mut args: Vec<String> = vec![String::new(); 10];
    args[0] = "\"\"".into();
    if !text.is_empty() {
        // An ObjectScript string: a quote is doubled.
        args[1] = format!("\"{}\"", text.replace('"', "\"\""));
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
    format!("##Class(Backup.General).ExternalFreeze({})", args.join(","))
}

/// The journal files ExternalFreeze names in its output: the one it switched to
/// ("Journal file switched to:" then the path, on that line or the next) and the one a journal
/// restore of this backup starts from ("Start a journal restore for this backup with journal
/// file: PATH").
pub(crate) fn freeze_journals(o: &Outcome) -> (Option<String>, Option<String>) {
    const SWITCHED: &str = "Journal file switched to:";
    const RESTORE: &str = "journal restore for this backup with journal file:";
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
        if let Some(at) = l.find(SWITCHED) {
            switched = switched.or(after(i, at, SWITCHED));
        }
        if let Some(at) = l.find(RESTORE) {
            restore = restore.or(after(i, at, RESTORE));
        }
    }
    (switched, restore)
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
    let mut o = session::run_with_input(
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
    let answer = match o.code() {
        Some(5) => Answer::Yes,
        Some(3) => Answer::No,
        _ => Answer::Unknown,
    };
    (answer, o)
}

/// Why a call did not give a clean answer, with the fix when we know it.
pub(crate) fn problem(target: &Target, expr: &str, o: &Outcome) -> String {
    if o.asked_for_login() {
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
    let first = o.lines().find(|l| l.contains("ERROR") || l.contains('<'));
    let first = first.or_else(|| o.lines().next());
    let detail = match o.end {
        session::End::Exited(5 | 3) => String::new(),
        session::End::Exited(_) => " (expected 5 or 3: the instance's state is unknown)".into(),
        _ => " (the instance's state is unknown)".into(),
    };
    match first {
        Some(line) => format!("{}{detail}: {line}", o.describe()),
        None => format!("{}{detail}", o.describe()),
    }
}

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

/// Where an instance ended up after thaw-and-confirm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Thawed {
    /// IsWDSuspendedExt said 3: not suspended.
    Confirmed,
    /// IsWDSuspendedExt said 5: still frozen.
    StillFrozen,
    /// The confirmation itself failed: it may still be frozen.
    Unconfirmed,
}

/// ExternalThaw (bounded by `thaw_by`), then IsWDSuspendedExt (given `confirm_for` from when it
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

/// IRIS's answer to an ExternalThaw of an instance that is not suspended.
const NOT_SUSPENDED: &str = "not suspended";

/// [`thaw_and_confirm`], with what the calls told.
pub(crate) fn thaw_and_confirm_told(
    target: &Target,
    thaw_by: Instant,
    confirm_for: Duration,
    log: &EventLog,
) -> (Thawed, ThawTold) {
    let name = target.name.as_str();
    let expr = target.thaw_expr();
    let (thaw, o) = call(target, &expr, thaw_by, Stop::Never);
    let mut told = ThawTold {
        answer: thaw,
        not_suspended: thaw == Answer::No
            && o.lines()
                .any(|l| l.contains(NOT_SUSPENDED) || l.contains(sharded::ALREADY_RESUMED)),
        still_suspended: false,
        problem: match thaw {
            Answer::Yes => String::new(),
            _ => problem(target, &expr, &o),
        },
    };
    match thaw {
        Answer::Yes => log.call(Level::Info, name, "thaw", &o, "ExternalThaw succeeded"),
        Answer::No => log.call(
            Level::Info,
            name,
            "thaw",
            &o,
            format!(
                "ExternalThaw answered 3; checking whether it is suspended: {}",
                problem(target, &expr, &o)
            ),
        ),
        Answer::Unknown => log.call(
            Level::Warn,
            name,
            "thaw",
            &o,
            format!(
                "ExternalThaw {}; checking whether it is suspended",
                problem(target, &expr, &o)
            ),
        ),
    }
    if target.sharded.is_some() && thaw != Answer::Yes && !told.not_suspended {
        return (cluster_not_thawed(target, &told, log), told);
    }
    let (check, o) = call(
        target,
        IS_WD_SUSPENDED,
        Instant::now() + confirm_for,
        Stop::Never,
    );
    if check == Answer::No {
        log.call(
            Level::Info,
            name,
            "thawed",
            &o,
            "confirmed: write daemon not suspended",
        );
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
        Some(cmd) => emergency_resume(target, cmd, &o, log),
        None => still_frozen(target, check, &o, log),
    };
    (thawed, told)
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
/// suspended after ExternalThaw (`o` is the check that said so), then one more check.
fn emergency_resume(target: &Target, cmd: &SessionCmd, o: &Outcome, log: &EventLog) -> Thawed {
    let name = target.name.as_str();
    log.call(
        Level::Error,
        name,
        "emergency",
        o,
        format!(
            "EMERGENCY: the write daemon may still be suspended after ExternalThaw \
             (IsWDSuspendedExt {}); running the documented emergency resume `{}`",
            o.describe(),
            cmd.display_plain()
        ),
    );
    let e = session::run(
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
    let (again, o2) = call(
        target,
        IS_WD_SUSPENDED,
        Instant::now() + EMERGENCY_TIMEOUT,
        Stop::Never,
    );
    if again == Answer::No {
        log.call(
            Level::Error,
            name,
            "thawed",
            &o2,
            "confirmed after the EMERGENCY resume: write daemon not suspended; look in \
             messages.log for why ExternalThaw did not resume it",
        );
        return Thawed::Confirmed;
    }
    still_frozen(target, again, &o2, log)
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
                "STILL FROZEN: IsWDSuspendedExt says the write daemon is suspended; run \
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
            "MAY STILL BE FROZEN: cannot confirm the thaw, IsWDSuspendedExt {}; check with \
             `iris-freeze status` and run `iris-freeze thaw --instance {name}`",
            problem(target, IS_WD_SUSPENDED, o)
        ),
    );
    Thawed::Unconfirmed
}

/// At most this many IRIS calls run at once; more instances are done in waves (a host with
/// hundreds of instances must not start hundreds of processes at once).
pub(crate) const MAX_PARALLEL: usize = 32;

/// Runs `f` on every item at once, up to [`MAX_PARALLEL`] at a time (the freeze window of four
/// instances must be one instance's, not four), results in input order.
pub(crate) fn each<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    each_bounded(items, MAX_PARALLEL, f)
}

/// [`each`] with at most `limit` calls at a time: the first item runs on this thread, and
/// `limit - 1` threads (no more than there are other items) take the rest in order. A thread's
/// start, and its stack's teardown at exit, are freeze window too, so there is no pool to spare.
fn each_bounded<T: Sync, R: Send>(items: &[T], limit: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let Some(first) = items.first() else {
        return Vec::new();
    };
    let next = AtomicUsize::new(1);
    // Takes the next item not yet taken, until none is left.
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else {
                return done;
            };
            done.push((i, f(item)));
        }
    };
    let workers = limit.max(1).min(items.len()) - 1;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers).map(|_| s.spawn(work)).collect();
        let mut out = vec![(0, f(first))];
        // With more items than threads, this thread then takes its share too (with fewer, each
        // other item has its own thread, already started).
        if items.len() > limit {
            out.extend(work());
        }
        for h in handles {
            // A worker's panic is a bug: it goes on here, as it would have on one thread.
            out.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        out.sort_unstable_by_key(|&(i, _)| i);
        out.into_iter().map(|(_, r)| r).collect()
    })
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

    /// Runs `run` over `n` items whose calls each hold their slot until more than `limit` run
    /// at once, or every item has started, or (when the cap holds) a second has passed; returns
    /// the peak concurrency and the results.
    fn peak(
        n: usize,
        limit: usize,
        run: impl Fn(&[usize], &(dyn Fn(&usize) -> usize + Sync)) -> Vec<usize>,
    ) -> (usize, Vec<usize>) {
        let now = AtomicUsize::new(0);
        let started = AtomicUsize::new(0);
        let top = AtomicUsize::new(0);
        let items: Vec<usize> = (0..n).collect();
        let call = |&i: &usize| {
            started.fetch_add(1, Ordering::SeqCst);
            let cur = now.fetch_add(1, Ordering::SeqCst) + 1;
            top.fetch_max(cur, Ordering::SeqCst);
            let until = Instant::now() + Duration::from_secs(1);
            while now.load(Ordering::SeqCst) <= limit
                && started.load(Ordering::SeqCst) < n
                && Instant::now() < until
            {
                std::thread::yield_now();
            }
            now.fetch_sub(1, Ordering::SeqCst);
            i * 10
        };
        let out = run(&items, &call);
        (top.load(Ordering::SeqCst), out)
    }

    #[test]
    fn each_runs_at_most_max_parallel_calls_at_once() {
        let (top, out) = peak(MAX_PARALLEL + 1, MAX_PARALLEL, |items, f| each(items, f));
        assert_eq!(top, MAX_PARALLEL);
        assert_eq!(out, (0..=MAX_PARALLEL).map(|i| i * 10).collect::<Vec<_>>());
    }

    #[test]
    fn each_bounded_keeps_its_cap_and_the_input_order() {
        let (top, _) = peak(4, 3, |items, f| each_bounded(items, 3, f));
        assert_eq!(top, 3);
        // Many quick calls: in input order, never more than the cap at once.
        let now = AtomicUsize::new(0);
        let top = AtomicUsize::new(0);
        let items: Vec<usize> = (0..200).collect();
        let out = each_bounded(&items, 5, |&i| {
            top.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
            now.fetch_sub(1, Ordering::SeqCst);
            i
        });
        assert_eq!(out, items);
        assert!(top.load(Ordering::SeqCst) <= 5);
    }

    #[test]
    fn fewer_items_than_the_cap_all_run_at_once_the_first_on_this_thread() {
        let (top, _) = peak(4, MAX_PARALLEL, |items, f| each(items, f));
        assert_eq!(top, 4);
        let me = std::thread::current().id();
        let ids = each(&[0, 1], |_| std::thread::current().id());
        assert_eq!(ids[0], me);
        assert_ne!(ids[1], me);
        assert!(each(&[] as &[u8], |_| 0).is_empty());
    }

    #[test]
    fn freeze_help_states_the_cap() {
        use clap::CommandFactory;
        let mut cli = crate::cli::Cli::command();
        let help = cli
            .find_subcommand_mut("freeze")
            .unwrap()
            .render_long_help()
            .to_string();
        let said = format!("up to {MAX_PARALLEL} instances are frozen at once");
        assert!(help.contains(&said), "{help}");
    }
}
