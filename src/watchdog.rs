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

use crate::config::Config;
use crate::eventlog::EventLog;
use crate::exit_code::Exit;
use crate::lock;
use crate::report::Report;
use crate::session::{self, Stop};
use crate::state::{AutoThaw, StateDir, Watchdog, now_ms, now_rfc3339};
use crate::thaw;
use crate::trust;

/// How often a waiting watchdog looks at the state file (one stat(2)).
const POLL: Duration = Duration::from_secs(1);
/// How long a due watchdog waits for the host lock before thawing anyway.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// A fresh token for one arming.
pub fn new_token() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}-{:x}", std::process::id(), nanos)
}

pub fn rfc3339_of_ms(ms: i64) -> String {
    Local
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, false))
        .unwrap_or_else(|| ms.to_string())
}

/// Starts the watchdog for `token`, due at `deadline_ms`. The state must already name the token
/// (the watchdog treats a missing token as "disarmed").
pub fn spawn(cfg: &Config, token: &str, deadline_ms: i64) -> Result<Watchdog> {
    let exe =
        std::env::current_exe().context("cannot find our own executable to start the watchdog")?;
    let args: Vec<OsString> = vec![
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
    let dir =
        std::env::var_os("IRIS_FREEZE_SYSTEMD_DIR").unwrap_or_else(|| "/run/systemd/system".into());
    Path::new(&dir).is_dir()
}

/// `IRIS_FREEZE_NO_SYSTEMD` is set: the watchdog is a detached process even under systemd.
pub(crate) fn systemd_opted_out() -> bool {
    std::env::var_os("IRIS_FREEZE_NO_SYSTEMD").is_some()
}

/// The directories searched for `systemd-run` and `systemctl`: `IRIS_FREEZE_SYSTEMD_BIN_DIR`
/// replaces them (for tests).
fn systemd_bin_dirs() -> Vec<PathBuf> {
    match std::env::var_os("IRIS_FREEZE_SYSTEMD_BIN_DIR") {
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
    for var in ["PATH", "IRISSYS", "IRIS_FREEZE_BIN_DIRS"] {
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

/// The watchdog process itself.
pub fn run(cfg: &Config, token: &str, deadline_ms: i64) -> Result<Report> {
    close_inherited_fds();
    let states = StateDir::open(&cfg.state_dir)?;
    let state_file = states.file();
    let mut seen: Option<SystemTime> = None;
    loop {
        // Disarmed? Re-read only when the file changed: one stat(2) a second otherwise.
        let mtime = fs::metadata(&state_file).and_then(|m| m.modified()).ok();
        if mtime != seen {
            seen = mtime;
            if !armed(&states, token) {
                return Ok(Report::new(Exit::Success, "disarmed"));
            }
        }
        let left = deadline_ms - now_ms();
        if left <= 0 {
            break;
        }
        thread::sleep(POLL.min(Duration::from_millis(left as u64)));
    }

    let log = EventLog::open(&cfg.log_file, "watchdog");
    let _lock = match lock::acquire(&cfg.state_dir, Instant::now() + LOCK_WAIT)? {
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
    let mut state = states.load()?;
    if state.watchdog.as_ref().map(|w| w.token.as_str()) != Some(token) {
        return Ok(Report::new(Exit::Success, "disarmed"));
    }
    let names: Vec<String> = state.instances.keys().cloned().collect();
    if names.is_empty() {
        state.watchdog = None;
        states.save(&state)?;
        return Ok(Report::new(Exit::Success, "nothing frozen at the deadline"));
    }
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
    let targets = thaw::recorded_targets(&state, cfg)?;
    let outcome = thaw::thaw_targets(&mut state, &targets, cfg.timeout, &log);
    state.auto_thaw = Some(AutoThaw {
        at: now_rfc3339(),
        instances: names,
        all_thawed: outcome.left.is_empty(),
        reported: false,
    });
    state.watchdog = None;
    states.save(&state)?;
    if outcome.left.is_empty() {
        log.error(
            None,
            "auto-thaw",
            format!("AUTO-THAW done: thawed {}", outcome.thawed.join(", ")),
        );
        Ok(Report::new(Exit::Warning, "auto-thawed"))
    } else {
        log.error(
            None,
            "auto-thaw",
            format!(
                "AUTO-THAW FAILED: {} MAY STILL BE FROZEN",
                outcome.left.join(", ")
            ),
        );
        Ok(Report::new(Exit::Failure, "auto-thaw failed"))
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
