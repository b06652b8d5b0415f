//! The dead-man switch. `freeze` arms it before the first ExternalFreeze; at its deadline, if the
//! state still holds that freeze, it thaws exactly those instances (the `thaw` code path) and
//! records an AUTO-THAW. `thaw` disarms it by removing its token from the state: the watchdog
//! re-reads the state every second and leaves without a single IRIS call once its token is gone.
//! Nobody ever kills it, so no pid is ever signalled on a guess.
//!
//! It is the same binary, re-executed as `iris-freeze __watchdog`, fully detached: under systemd
//! a transient unit (so a restart of the backup agent's unit does not take it down), elsewhere
//! a child in its own session with stdio on /dev/null, which survives its caller's process group
//! or session being killed.

use std::ffi::OsString;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use chrono::{Local, SecondsFormat, TimeZone};

use crate::commands::thaw::{self, ThawOutcome};
use crate::config::{Config, InstanceName, env};
use crate::exit_code::Exit;
use crate::host::eventlog::EventLog;
use crate::host::lock;
use crate::host::state::{
    AutoThaw, Damaged, Phase, Record, State, StateDir, Watchdog, now_ms, now_rfc3339,
};
use crate::host::trust;
use crate::iris::backup::Target;
use crate::iris::discovery::{self, Kind, Tools};
use crate::iris::session::{self, Stop};
use crate::report::Report;

/// How often a waiting watchdog looks at the state file (one stat(2)).
const POLL: Duration = Duration::from_secs(1);
/// How long a due watchdog waits for the host lock before thawing anyway.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// A fresh token for one arming.
pub(crate) fn new_token() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}-{:x}", std::process::id(), nanos)
}

pub(crate) fn rfc3339_of_ms(ms: i64) -> String {
    Local
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, false))
        .unwrap_or_else(|| ms.to_string())
}

/// Starts the watchdog for `token`, due at `deadline_ms`, guarding `instances` (the names the
/// state records at arming: it thaws them even if the state is damaged by then). The state must
/// already name the token (the watchdog treats a missing token as "disarmed").
pub(crate) fn spawn(
    cfg: &Config,
    token: &str,
    deadline_ms: i64,
    instances: &[String],
) -> Result<Watchdog> {
    let exe =
        std::env::current_exe().context("cannot find our own executable to start the watchdog")?;
    let mut args: Vec<OsString> = vec![
        "--state-dir".into(),
        cfg.state_dir.clone().into(),
        // The same config (credentials for the confirming check) and root as the freeze.
        "--config".into(),
        cfg.config_file.clone().into(),
        "--root".into(),
        cfg.root.clone().into(),
        "__watchdog".into(),
        "--token".into(),
        token.into(),
        "--deadline-ms".into(),
        deadline_ms.to_string().into(),
        "--log-file".into(),
        cfg.log_file.clone().into(),
        "--timeout".into(),
        format!("{}", cfg.timeout.as_secs_f64()).into(),
    ];
    // `--instance=NAME`, one argument: a name starting with '-' cannot pass for an option.
    args.extend(instances.iter().map(|n| format!("--instance={n}").into()));
    let deadline = rfc3339_of_ms(deadline_ms);
    if systemd_running() {
        match spawn_systemd(&exe, &args, token) {
            Ok((pid, unit)) => {
                return Ok(Watchdog {
                    token: token.into(),
                    pid,
                    deadline,
                    deadline_ms,
                    how: format!("systemd unit {unit}"),
                    start_ticks: lock::process_start_ticks(pid as i32),
                });
            }
            Err(e) => say!(
                WARN,
                "systemd-run failed ({e:#}); starting the watchdog as a detached process"
            ),
        }
    }
    let mut cmd = Command::new(&exe);
    cmd.args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: setsid(2) is async-signal-safe and touches no memory of ours.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid()
                .map(|_| ())
                .map_err(std::io::Error::from)
        });
    }
    let child = cmd.spawn().context("cannot start the watchdog process")?;
    Ok(Watchdog {
        token: token.into(),
        pid: child.id(),
        deadline,
        deadline_ms,
        how: "detached process".into(),
        // Read before anyone reaps it: it is our child until it exits.
        start_ticks: lock::process_start_ticks(child.id() as i32),
    })
}

/// Where systemd's programs are looked for. Absolute directories only, never `PATH`: a relative
/// entry (`.`, an empty one) would run a file from the working directory as root.
const SYSTEMD_BIN_DIRS: &[&str] = &["/usr/bin", "/bin"];

/// How long `systemctl show` and `systemctl stop` may take while a freeze waits to start.
const SYSTEMCTL_WAIT: Duration = Duration::from_secs(5);

/// systemd's own test: it runs when /run/systemd/system exists (`IRIS_FREEZE_SYSTEMD_DIR`
/// points elsewhere for tests; `IRIS_FREEZE_NO_SYSTEMD` opts out).
fn systemd_running() -> bool {
    !systemd_opted_out() && systemd_booted()
}

/// The host runs systemd, whether or not we use it.
pub(crate) fn systemd_booted() -> bool {
    let dir = std::env::var_os(env::SYSTEMD_DIR).unwrap_or_else(|| "/run/systemd/system".into());
    Path::new(&dir).is_dir()
}

/// `IRIS_FREEZE_NO_SYSTEMD` is set: the watchdog is a detached process even under systemd.
pub(crate) fn systemd_opted_out() -> bool {
    std::env::var_os(env::NO_SYSTEMD).is_some()
}

/// The directories searched for `systemd-run` and `systemctl`: `IRIS_FREEZE_SYSTEMD_BIN_DIR`
/// replaces them (for tests).
fn systemd_bin_dirs() -> Vec<PathBuf> {
    match std::env::var_os(env::SYSTEMD_BIN_DIR) {
        Some(dir) => vec![PathBuf::from(dir)],
        None => SYSTEMD_BIN_DIRS.iter().map(PathBuf::from).collect(),
    }
}

/// systemd's program `name` (`systemd-run`, `systemctl`) by absolute path, and only if root
/// may run it (see `trust::program`). Returns the canonical path to execute.
pub(crate) fn systemd_program(name: &str) -> Result<PathBuf> {
    let dirs = systemd_bin_dirs();
    for dir in dirs.iter().filter(|d| d.is_absolute()) {
        let path = dir.join(name);
        if fs::symlink_metadata(&path).is_ok() {
            return trust::program(&path);
        }
    }
    let looked: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    bail!(
        "{name} not found (looked in {}; only absolute directories count)",
        looked.join(", ")
    )
}

/// `systemd-run` puts the watchdog in its own transient service, outside the backup agent's
/// cgroup (Azure's extension lives in azure-vmextensions.slice and is restarted with it; a
/// unit stopped with KillMode=control-group kills every process in it, detached or not).
fn spawn_systemd(exe: &Path, args: &[OsString], token: &str) -> Result<(u32, String)> {
    let systemd_run = systemd_program("systemd-run")?;
    let systemctl = systemd_program("systemctl")?;
    let unit = format!("iris-freeze-watchdog-{token}");
    let mut argv: Vec<OsString> = vec![
        format!("--unit={unit}").into(),
        "--description=iris-freeze auto-thaw watchdog".into(),
        "--collect".into(),
        "--quiet".into(),
        // Never a polkit prompt: a hook has nobody to answer it.
        "--no-ask-password".into(),
    ];
    for var in ["PATH", "IRISSYS", env::BIN_DIRS] {
        if let Some(v) = std::env::var_os(var) {
            let mut s = OsString::from(format!("--setenv={var}="));
            s.push(v);
            argv.push(s);
        }
    }
    argv.push(exe.into());
    argv.extend(args.iter().cloned());
    let out = session::run(
        &systemd_run,
        &argv,
        Instant::now() + Duration::from_secs(10),
        Stop::Never,
    );
    if out.code() != Some(0) {
        bail!("{}: {}", out.describe(), out.lines().next().unwrap_or(""));
    }
    // systemd-run's exit 0 only says the job was queued: a watchdog nobody runs guards nothing.
    match active_main_pid(&systemctl, &unit) {
        Some(pid) => Ok((pid, unit)),
        None => {
            // Whatever is left of it must not start a second watchdog later.
            stop_unit(&systemctl, &unit);
            bail!("systemd-run exited 0, but unit {unit} is not active with a main process")
        }
    }
}

/// The unit's main pid, if it is active and has one.
fn active_main_pid(systemctl: &Path, unit: &str) -> Option<u32> {
    let show = session::run(
        systemctl,
        &[
            "show".into(),
            "--property=MainPID".into(),
            "--property=ActiveState".into(),
            unit.into(),
        ],
        Instant::now() + SYSTEMCTL_WAIT,
        Stop::Never,
    );
    if show.code() != Some(0) {
        return None;
    }
    parse_active_main_pid(&show.stdout)
}

/// `MainPID=N` and `ActiveState=active` from `systemctl show` (in any order), or None.
fn parse_active_main_pid(show: &str) -> Option<u32> {
    let (mut pid, mut active) = (0, false);
    for line in show.lines() {
        match line.trim().split_once('=') {
            Some(("MainPID", v)) => pid = v.parse().unwrap_or(0),
            Some(("ActiveState", v)) => active = v == "active",
            _ => {}
        }
    }
    (active && pid > 0).then_some(pid)
}

/// Best effort: a unit that does not exist is already what we want.
fn stop_unit(systemctl: &Path, unit: &str) {
    let _ = session::run(
        systemctl,
        &["stop".into(), "--no-ask-password".into(), unit.into()],
        Instant::now() + SYSTEMCTL_WAIT,
        Stop::Never,
    );
}

/// The watchdog process itself, guarding `instances` (see [`spawn`]).
pub(crate) fn run(
    cfg: &Config,
    token: &str,
    deadline_ms: i64,
    instances: &[String],
) -> Result<Report> {
    close_inherited_fds();
    // Opened once: the state is read through this descriptor from now on, so swapping the
    // directory behind its path changes nothing for us.
    let states = StateDir::open(&cfg.state_dir)?;
    if !wait_until_due(&states, token, deadline_ms) {
        return Ok(Report::new(Exit::Success, "disarmed"));
    }
    // Thaw first, log after: every line is kept (with its time) until the thaw is done, so a
    // log that blocks or fails cannot delay it.
    let log = EventLog::open(&cfg.log_file, "watchdog");
    log.hold();
    let report = due(cfg, &states, token, deadline_ms, instances, &log);
    for w in &cfg.config_warnings {
        log.warn(None, "config", w);
    }
    log.release();
    report
}

/// Waits for the deadline; false when disarmed first. Re-reads the state only when the file
/// changed: one fstatat(2) a second otherwise.
fn wait_until_due(states: &StateDir, token: &str, deadline_ms: i64) -> bool {
    let mut seen = None;
    loop {
        let stamp = states.stamp();
        if stamp != seen {
            seen = stamp;
            if !armed(states, token) {
                return false;
            }
        }
        let left = deadline_ms - now_ms();
        if left <= 0 {
            return true;
        }
        thread::sleep(POLL.min(Duration::from_millis(left as u64)));
    }
}

/// At the deadline: the host lock (waited for a while, then done without), then the thaw of
/// what the state records, or of the guarded instances when the state cannot be read.
fn due(
    cfg: &Config,
    states: &StateDir,
    token: &str,
    deadline_ms: i64,
    instances: &[String],
    log: &EventLog,
) -> Result<Report> {
    let _lock = match lock::acquire(states, Instant::now() + LOCK_WAIT)? {
        Ok(mut l) => {
            l.announce("watchdog");
            Some(l)
        }
        Err(holder) => {
            log.warn(
                None,
                "lock",
                format!(
                    "the host lock is still held ({holder:?}) after {LOCK_WAIT:?}: thawing anyway"
                ),
            );
            None
        }
    };
    match states.load() {
        Ok(state) => thaw_recorded(cfg, states, state, token, deadline_ms, log),
        Err(e) => thaw_guarded(cfg, states, &e, deadline_ms, instances, log),
    }
}

/// The usual case: the state holds this arming's token and the records of what to thaw.
fn thaw_recorded(
    cfg: &Config,
    states: &StateDir,
    mut state: State,
    token: &str,
    deadline_ms: i64,
    log: &EventLog,
) -> Result<Report> {
    if state.watchdog.as_ref().map(|w| w.token.as_str()) != Some(token) {
        return Ok(Report::new(Exit::Success, "disarmed"));
    }
    let names: Vec<String> = state.instances.keys().cloned().collect();
    if names.is_empty() {
        state.watchdog = None;
        states.save(&state)?;
        return Ok(Report::new(Exit::Success, "nothing frozen at the deadline"));
    }
    announce(&names, deadline_ms, log);
    let targets = thaw::recorded_targets(&state, cfg)?;
    let outcome = thaw::thaw_targets(&mut state, &targets, cfg.timeout, log);
    finish(states, state, names, outcome, log)
}

/// The state cannot be read (damaged, truncated): nothing says whether a thaw came, so the
/// instances this watchdog was armed for are thawed (a thaw of an instance that is not frozen
/// only answers 3), found afresh through discovery. The file is moved aside first so that the
/// next run starts clean; a new state records the auto-thaw and what may still be frozen.
fn thaw_guarded(
    cfg: &Config,
    states: &StateDir,
    why: &anyhow::Error,
    deadline_ms: i64,
    instances: &[String],
    log: &EventLog,
) -> Result<Report> {
    let moved = states.move_aside();
    // The log is held: these lines are written after the thaw, stamped now.
    let what = why
        .downcast_ref::<Damaged>()
        .map_or_else(|| format!("{why:#}"), Damaged::what);
    match &moved {
        Ok(to) => log.error(
            None,
            "state",
            format!(
                "{what}: the watchdog cannot tell from it whether a thaw came; moved it aside \
                 to {} and thawing the instances it was armed for ({})",
                to.display(),
                instances.join(", ")
            ),
        ),
        Err(e) => log.error(
            None,
            "state",
            format!(
                "{what}: the watchdog cannot tell from it whether a thaw came, and cannot move \
                 it aside ({e:#}); thawing the instances it was armed for ({})",
                instances.join(", ")
            ),
        ),
    }
    let found = discover(cfg, instances, log);
    let targets: Vec<Target> = found.iter().map(|(t, _)| t.clone()).collect();
    let names: Vec<String> = targets.iter().map(|t| t.name.clone()).collect();
    if names.is_empty() {
        log.warn(
            None,
            "auto-thaw",
            format!(
                "AUTO-THAW: none of the instances the watchdog was armed for ({}) is running: \
                 nothing to thaw",
                instances.join(", ")
            ),
        );
        return Ok(Report::new(Exit::Success, "nothing to thaw"));
    }
    announce(&names, deadline_ms, log);
    let mut state = State::default();
    let outcome = thaw::thaw_targets(&mut state, &targets, cfg.timeout, log);
    if moved.is_err() {
        // Never overwrite the damaged file we could not move: it stays for a person to read.
        return Ok(verdict(&outcome, log));
    }
    // What may still be frozen is recorded, so that a plain `thaw` tries again.
    for (t, kind) in found
        .into_iter()
        .filter(|(t, _)| outcome.left.contains(&t.name))
    {
        let mut rec = Record::new(kind, t.session, Phase::Frozen);
        rec.emergency = t.emergency;
        state.instances.insert(t.name, rec);
    }
    finish(states, state, names, outcome, log)
}

/// The guarded instances as discovery finds them now, each with its product.
fn discover(cfg: &Config, instances: &[String], log: &EventLog) -> Vec<(Target, Kind)> {
    let tools = match Tools::find(&cfg.bin_dirs) {
        Ok(t) => t,
        Err(e) => {
            log.error(None, "discovery", format!("{e:#}"));
            return Vec::new();
        }
    };
    let listing = discovery::list(&tools, Instant::now() + cfg.timeout / 4);
    let mut out = Vec::new();
    for name in instances {
        // One at a time: a name qlist no longer shows must not stop the others' thaw.
        let chosen =
            InstanceName::parse(name).and_then(|n| discovery::select(&[n], &listing, &tools));
        let sel = match chosen {
            Ok(sel) => sel,
            Err(e) => {
                log.error(Some(name), "discovery", format!("cannot thaw it: {e:#}"));
                continue;
            }
        };
        for inst in &sel.down {
            log.warn(
                Some(&inst.name),
                "skipped",
                format!("{} is {}: nothing to thaw", inst.name, inst.status),
            );
        }
        // Up but not accepting logins may be our freeze's doing: ExternalThaw skips the login.
        for (inst, session) in sel.targets.into_iter().chain(sel.unavailable) {
            let target = Target {
                emergency: tools.emergency_for(&inst.name, inst.kind),
                credentials: cfg.credentials.clone(),
                name: inst.name,
                session,
            };
            out.push((target, inst.kind));
        }
    }
    out
}

fn announce(names: &[String], deadline_ms: i64, log: &EventLog) {
    log.error(
        None,
        "auto-thaw",
        format!(
            "AUTO-THAW: no thaw came within --max-freeze (due {}); thawing {} now. The snapshot \
             taken during this freeze may not be application-consistent",
            rfc3339_of_ms(deadline_ms),
            names.join(", ")
        ),
    );
}

/// Records the auto-thaw (the next `thaw` reports it, exit 2), and says how it went.
fn finish(
    states: &StateDir,
    mut state: State,
    names: Vec<String>,
    outcome: ThawOutcome,
    log: &EventLog,
) -> Result<Report> {
    state.auto_thaw = Some(AutoThaw {
        at: now_rfc3339(),
        instances: names,
        all_thawed: outcome.left.is_empty(),
        reported: false,
    });
    state.watchdog = None;
    if let Err(e) = states.save(&state) {
        log.error(None, "state", format!("{e:#}"));
    }
    Ok(verdict(&outcome, log))
}

fn verdict(outcome: &ThawOutcome, log: &EventLog) -> Report {
    if outcome.left.is_empty() {
        log.error(
            None,
            "auto-thaw",
            format!("AUTO-THAW done: thawed {}", outcome.thawed.join(", ")),
        );
        Report::new(Exit::Warning, "auto-thawed")
    } else {
        log.error(
            None,
            "auto-thaw",
            format!(
                "AUTO-THAW FAILED: {} MAY STILL BE FROZEN",
                outcome.left.join(", ")
            ),
        );
        Report::new(Exit::Failure, "auto-thaw failed")
    }
}

fn armed(states: &StateDir, token: &str) -> bool {
    match states.load() {
        Ok(s) => s.watchdog.is_some_and(|w| w.token == token),
        // A damaged state must not disarm the switch: keep waiting and try at the deadline.
        Err(_) => true,
    }
}

/// Whatever the caller left open (a hook runner's pipes, a lock) must not be held for minutes.
fn close_inherited_fds() {
    let fds: Vec<i32> = fs::read_dir("/proc/self/fd")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .filter(|&fd| fd > 2)
                .collect()
        })
        .unwrap_or_default();
    for fd in fds {
        // The read_dir handle itself is already closed; closing an fd twice only fails.
        let _ = nix::unistd::close(fd);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_counts_only_when_active_with_a_main_pid() {
        assert_eq!(
            parse_active_main_pid("MainPID=4242\nActiveState=active\n"),
            Some(4242)
        );
        assert_eq!(
            parse_active_main_pid("ActiveState=active\nMainPID=7\n"),
            Some(7)
        );
        assert_eq!(
            parse_active_main_pid("MainPID=0\nActiveState=active\n"),
            None
        );
        assert_eq!(
            parse_active_main_pid("MainPID=4242\nActiveState=failed\n"),
            None
        );
        assert_eq!(parse_active_main_pid("4242\n"), None);
    }

    #[test]
    fn systemd_programs_are_looked_up_in_absolute_directories_only() {
        assert!(SYSTEMD_BIN_DIRS.iter().all(|d| Path::new(d).is_absolute()));
    }
}
