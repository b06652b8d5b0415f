//! systemd, when the host runs it: whether it does, its programs (found only where root may run
//! them), and a transient service started and checked to be running.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::host::process::{self, Stop};
use crate::host::trust;
use crate::settings::env;

/// Where systemd's programs are looked for. Absolute directories only, never `PATH`: a relative
/// entry (`.`, an empty one) would run a file from the working directory as root.
const BIN_DIRS: &[&str] = &["/usr/bin", "/bin"];

/// How long `systemctl show` and `systemctl stop` may take while a freeze waits to start.
const SYSTEMCTL_WAIT: Duration = Duration::from_secs(5);

/// How long `systemd-run` may take to queue a unit.
const SYSTEMD_RUN_WAIT: Duration = Duration::from_secs(10);

/// systemd's own test: it runs when /run/systemd/system exists (`IRIS_FREEZE_SYSTEMD_DIR`
/// points elsewhere for tests; `IRIS_FREEZE_NO_SYSTEMD` opts out).
pub(crate) fn in_use() -> bool {
    !opted_out() && booted()
}

/// The host runs systemd, whether or not we use it.
pub(crate) fn booted() -> bool {
    let dir = std::env::var_os(env::SYSTEMD_DIR).unwrap_or_else(|| "/run/systemd/system".into());
    Path::new(&dir).is_dir()
}

/// `IRIS_FREEZE_NO_SYSTEMD` is set: the watchdog is a detached process even under systemd.
pub(crate) fn opted_out() -> bool {
    std::env::var_os(env::NO_SYSTEMD).is_some()
}

/// The directories searched for `systemd-run` and `systemctl`: `IRIS_FREEZE_SYSTEMD_BIN_DIR`
/// replaces them (for tests).
fn bin_dirs() -> Vec<PathBuf> {
    match std::env::var_os(env::SYSTEMD_BIN_DIR) {
        Some(dir) => vec![PathBuf::from(dir)],
        None => BIN_DIRS.iter().map(PathBuf::from).collect(),
    }
}

/// systemd's program `name` (`systemd-run`, `systemctl`) by absolute path, and only if root
/// may run it (see `trust::program`). The first copy found decides: an unsafe one is an error
/// naming it and the fix, not passed over for another.
pub(crate) fn program(name: &str) -> Result<PathBuf> {
    let dirs = bin_dirs();
    let found = trust::find_program(name, &dirs);
    if let Some((_, why)) = found.refused.into_iter().next() {
        bail!("{why}");
    }
    if let Some(program) = found.program {
        return Ok(program);
    }
    let looked: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    bail!(
        "{name} not found (looked in {}; only absolute directories count)",
        looked.join(", ")
    )
}

/// A transient service: its unit name, what it runs, and which of our environment variables
/// it gets (a unit starts with systemd's environment, not ours).
pub(crate) struct Service<'a> {
    pub(crate) unit: &'a str,
    pub(crate) description: &'a str,
    pub(crate) pass_env: &'a [&'a str],
    pub(crate) exe: &'a Path,
    pub(crate) args: &'a [OsString],
    /// How long a stop may take: the stop's SIGTERM goes to the main process only
    /// (`KillMode=mixed`), which may still have work to finish, with children of its own.
    pub(crate) stop_timeout: Duration,
}

/// Starts `service` with `systemd-run` and returns its main pid once systemd says it is
/// active: systemd-run's exit 0 only says the job was queued, and a unit nobody runs does
/// nothing. A unit that did not come up is stopped, so that it cannot start later.
pub(crate) fn start(service: &Service) -> Result<u32> {
    let systemd_run = program("systemd-run")?;
    let systemctl = program("systemctl")?;
    let out = process::run(
        &systemd_run,
        &systemd_run_args(service),
        Instant::now() + SYSTEMD_RUN_WAIT,
        Stop::Never,
    );
    if out.code() != Some(0) {
        bail!("{}: {}", out.describe(), out.lines().next().unwrap_or(""));
    }
    match active_main_pid(&systemctl, service.unit) {
        Some(pid) => Ok(pid),
        None => {
            stop_unit(&systemctl, service.unit);
            bail!(
                "systemd-run exited 0, but unit {} is not active with a main process",
                service.unit
            )
        }
    }
}

fn systemd_run_args(service: &Service) -> Vec<OsString> {
    let mut argv: Vec<OsString> = vec![
        format!("--unit={}", service.unit).into(),
        format!("--description={}", service.description).into(),
        "--collect".into(),
        "--quiet".into(),
        // Never a polkit prompt: a hook has nobody to answer it.
        "--no-ask-password".into(),
        "--property=KillMode=mixed".into(),
        format!(
            "--property=TimeoutStopSec={}s",
            service.stop_timeout.as_secs().max(1)
        )
        .into(),
    ];
    for var in service.pass_env {
        if let Some(v) = std::env::var_os(var) {
            let mut s = OsString::from(format!("--setenv={var}="));
            s.push(v);
            argv.push(s);
        }
    }
    argv.push(service.exe.into());
    argv.extend(service.args.iter().cloned());
    argv
}

/// The unit's main pid, if it is active and has one.
fn active_main_pid(systemctl: &Path, unit: &str) -> Option<u32> {
    let show = process::run(
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
    let _ = process::run(
        systemctl,
        &["stop".into(), "--no-ask-password".into(), unit.into()],
        Instant::now() + SYSTEMCTL_WAIT,
        Stop::Never,
    );
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
        assert!(BIN_DIRS.iter().all(|d| Path::new(d).is_absolute()));
    }

    #[test]
    fn a_service_passes_only_the_named_variables_that_are_set() {
        let exe = PathBuf::from("/usr/sbin/iris-freeze");
        let args = ["__watchdog".into()];
        let service = Service {
            unit: "u-1",
            description: "d e",
            pass_env: &["PATH", "IRIS_FREEZE_SURELY_UNSET_VARIABLE"],
            exe: &exe,
            args: &args,
            stop_timeout: Duration::from_secs(75),
        };
        let argv = systemd_run_args(&service);
        let text: Vec<String> = argv
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(text[..2], ["--unit=u-1", "--description=d e"]);
        assert!(text.contains(&"--property=KillMode=mixed".to_string()));
        assert!(text.contains(&"--property=TimeoutStopSec=75s".to_string()));
        assert!(text.iter().any(|a| a.starts_with("--setenv=PATH=")));
        assert!(!text.iter().any(|a| a.contains("SURELY_UNSET")));
        assert_eq!(
            text[text.len() - 2..],
            ["/usr/sbin/iris-freeze", "__watchdog"]
        );
    }
}
