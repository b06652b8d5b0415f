//! Starting the watchdog: the same binary re-executed as `iris-freeze __watchdog`, fully
//! detached. Under systemd a transient unit (so a restart of the backup agent's unit does not
//! take it down), elsewhere a child in its own session with stdio on /dev/null, which survives
//! its caller's process group or session being killed.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};

use crate::commands::state::{Record, Watchdog};
use crate::config::Config;
use crate::host::state::rfc3339_of_ms;
use crate::host::systemd::{self, Service};
use crate::host::{procfs, signals};
use crate::settings::env;

/// The environment the watchdog's unit takes from ours: where to find `iris` and the rest.
const PASS_ENV: &[&str] = &[
    "PATH",
    "IRISSYS",
    env::BIN_DIRS,
    env::JOURNAL,
    env::JOURNAL_SOCKET,
];

/// A fresh token for one arming.
pub(crate) fn new_token() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}-{:x}", std::process::id(), nanos)
}

/// Starts the watchdog for `token`, due at `deadline_ms`, armed with `plan` (the records of
/// the state at arming: it thaws them with the programs they name, even if the state is damaged
/// by then). The state must already name the token (the watchdog treats a missing token as
/// "disarmed").
pub(crate) fn spawn(
    cfg: &Config,
    token: &str,
    deadline_ms: i64,
    plan: &BTreeMap<String, Record>,
) -> Result<Watchdog> {
    let exe =
        std::env::current_exe().context("cannot find our own executable to start the watchdog")?;
    let args = watchdog_args(cfg, token, deadline_ms, plan)?;
    let armed = |pid: u32, how: String| Watchdog {
        token: token.into(),
        pid,
        deadline: rfc3339_of_ms(deadline_ms),
        deadline_ms,
        how,
        // Read before anyone reaps it: a detached child is ours until it exits.
        start_ticks: procfs::process_start_ticks(pid as i32),
    };
    if systemd::in_use() {
        let unit = format!("iris-freeze-watchdog-{token}");
        match start_unit(&unit, &exe, &args, stop_timeout(cfg)) {
            Ok(pid) => return Ok(armed(pid, format!("systemd unit {unit}"))),
            Err(e) => say!(
                WARN,
                "systemd-run failed ({e:#}); starting the watchdog as a detached process"
            ),
        }
    }
    let pid = start_detached(&exe, &args)?;
    Ok(armed(pid, "detached process".into()))
}

/// `__watchdog` and its options: the same config (credentials for the confirming check), root,
/// state dir, history, metrics, programs' directories, log and timeout as the freeze, however
/// the freeze was given them (flag, variable, config file), and its thaw plan.
fn watchdog_args(
    cfg: &Config,
    token: &str,
    deadline_ms: i64,
    plan: &BTreeMap<String, Record>,
) -> Result<Vec<OsString>> {
    let mut args: Vec<OsString> = vec![
        "--state-dir".into(),
        cfg.state_dir.clone().into(),
        "--history-file".into(),
        cfg.history_file.clone().into(),
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
    if let Some(m) = &cfg.metrics_file {
        args.extend(["--metrics-file".into(), m.into()]);
    }
    // One argument each (`--opt=VALUE`): a value starting with '-' cannot pass for an option.
    // A list that cannot be passed as one (a ':' in a directory, not UTF-8) is left out whole:
    // discovery is only the watchdog's second way, after its plan's programs.
    let dirs = std::env::join_paths(&cfg.bin_dirs).ok();
    if let Some(dirs) = dirs.and_then(|d| d.into_string().ok()) {
        args.push(format!("--bin-dirs={dirs}").into());
    }
    let plan = serde_json::to_string(plan).context("cannot write the watchdog's plan")?;
    args.push(format!("--plan={plan}").into());
    Ok(args)
}

/// A transient unit puts the watchdog outside the backup agent's cgroup (Azure's extension
/// lives in azure-vmextensions.slice and is restarted with it; a unit stopped with
/// KillMode=control-group kills every process in it, detached or not).
fn start_unit(unit: &str, exe: &Path, args: &[OsString], stop_timeout: Duration) -> Result<u32> {
    systemd::start(&Service {
        unit,
        description: "iris-freeze auto-thaw watchdog",
        pass_env: PASS_ENV,
        exe,
        args,
        stop_timeout,
    })
}

/// A stopped watchdog thaws before it exits (see `watchdog`): its unit waits for the host lock,
/// an ExternalThaw and its check, the emergency resume and its check, each within the timeout,
/// and a little more, before systemd's SIGKILL.
fn stop_timeout(cfg: &Config) -> Duration {
    super::LOCK_WAIT + cfg.timeout * 3 + Duration::from_secs(15)
}

/// A child in a session of its own, with stdio on /dev/null. Returns its pid.
fn start_detached(exe: &Path, args: &[OsString]) -> Result<u32> {
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: setsid(2) and sigprocmask(2) are async-signal-safe and touch no memory of ours.
    // The stop signals stay blocked until the watchdog handles them: one sent the moment it
    // starts makes it thaw, never die armed.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            signals::block()
        });
    }
    let child = cmd.spawn().context("cannot start the watchdog process")?;
    Ok(child.id())
}
