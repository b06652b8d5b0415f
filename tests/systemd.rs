//! The watchdog and systemd. The first tests use stand-ins for systemd's programs and run
//! everywhere. The `#[ignore]`d ones need root and a real systemd as PID 1, and fail (never
//! skip) without them: `.ci/in-systemd cargo test --test systemd -- --ignored` boots a
//! throwaway systemd for them (`.ci/run` does).

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{BIN, Env, Run, alive, wait_until};

const LIMIT: Duration = Duration::from_secs(60);

fn write_script(path: &Path, text: &str, mode: u32) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// A directory standing in for /run/systemd/system: systemd "runs".
fn fake_runtime(env: &Env) -> PathBuf {
    let dir = env.tmp.path().join("run-systemd-system");
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn run_command(mut c: Command) -> Run {
    let out = c.stdin(Stdio::null()).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: Duration::ZERO,
    }
}

/// Runs `args` in `cwd` with the watchdog allowed to use systemd, `extra` added to the
/// environment.
fn run_with_systemd(env: &Env, cwd: &Path, args: &[&str], extra: &[(&str, String)]) -> Run {
    let mut c = env.command(Path::new(BIN));
    c.env_remove("IRIS_FREEZE_NO_SYSTEMD")
        .env("IRIS_FREEZE_SYSTEMD_DIR", fake_runtime(env))
        .current_dir(cwd)
        .args(args);
    for (k, v) in extra {
        c.env(k, v);
    }
    run_command(c)
}

fn text(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

#[test]
fn systemd_run_is_never_taken_from_a_relative_path_entry() {
    let env = Env::new();
    env.iris("IRIS");
    // A user's directory where root happens to run a hook, with `.` and an empty entry in PATH.
    let cwd = env.tmp.path().join("cwd");
    let empty = env.tmp.path().join("no-systemd-programs");
    fs::create_dir_all(&cwd).unwrap();
    fs::create_dir_all(&empty).unwrap();
    let marker = env.tmp.path().join("ran-as-root");
    for name in ["systemd-run", "systemctl"] {
        let script = format!("#!/bin/sh\ntouch '{}'\nexit 1\n", marker.display());
        write_script(&cwd.join(name), &script, 0o755);
    }
    let path = format!(".::{}:/usr/bin:/bin", env.bin.display());
    let r = run_with_systemd(
        &env,
        &cwd,
        &["freeze"],
        &[
            ("PATH", path),
            ("IRIS_FREEZE_SYSTEMD_BIN_DIR", text(&empty)),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        !marker.exists(),
        "a systemd-run from the working directory ran as root"
    );
    assert_eq!(env.state_json()["watchdog"]["how"], "detached process");
    assert!(r.stderr.contains("systemd-run not found"), "{}", r.text());
    assert_eq!(env.run(&["thaw"]).code, 0);
}

/// systemd-run exits 0 but starts nothing; systemctl reports no main process and records what
/// it was asked.
fn hollow_systemd(env: &Env) -> PathBuf {
    let record = env.tmp.path().join("systemctl.args");
    write_script(&env.bin.join("systemd-run"), "#!/bin/sh\nexit 0\n", 0o755);
    let ctl = format!(
        "#!/bin/sh\necho \"$@\" >> '{}'\nprintf 'MainPID=0\\nActiveState=inactive\\n'\n",
        record.display()
    );
    write_script(&env.bin.join("systemctl"), &ctl, 0o755);
    record
}

#[test]
fn a_systemd_run_that_starts_no_unit_is_a_failed_arming() {
    let env = Env::new();
    env.iris("IRIS");
    let record = hollow_systemd(&env);
    let r = run_with_systemd(
        &env,
        env.tmp.path(),
        &["freeze"],
        &[("IRIS_FREEZE_SYSTEMD_BIN_DIR", text(&env.bin))],
    );
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stderr.contains("not active"), "{}", r.text());
    assert_eq!(
        env.state_json()["watchdog"]["how"],
        "detached process",
        "{}",
        r.text()
    );
    let pid = env.watchdog_pid().unwrap();
    assert!(pid > 0 && alive(pid), "no watchdog runs: {}", r.text());
    let asked = fs::read_to_string(&record).unwrap_or_default();
    assert!(
        asked.lines().any(|l| l.starts_with("stop ")),
        "the hollow unit was not stopped; systemctl was asked:\n{asked}"
    );
    assert_eq!(env.run(&["thaw"]).code, 0);
    assert!(wait_until(LIMIT, || !alive(pid)));
}

fn watchdog_line(r: &Run) -> String {
    r.stdout
        .lines()
        .find(|l| l.contains("watchdog:"))
        .unwrap_or_else(|| panic!("no watchdog line:\n{}", r.text()))
        .to_string()
}

#[test]
fn check_warns_when_the_watchdog_would_die_with_the_agents_unit() {
    let env = Env::new();
    let cwd = env.tmp.path();
    // Systemd runs, but IRIS_FREEZE_NO_SYSTEMD (set by the harness) keeps it out.
    let mut c = env.command(Path::new(BIN));
    c.env("IRIS_FREEZE_SYSTEMD_DIR", fake_runtime(&env))
        .arg("check");
    let r = run_command(c);
    let line = watchdog_line(&r);
    assert!(
        line.starts_with("warn") && line.contains("IRIS_FREEZE_NO_SYSTEMD"),
        "{line}"
    );
    // systemd-run writable by its group: not run, and said so.
    let sysbin = env.tmp.path().join("sysbin");
    fs::create_dir_all(&sysbin).unwrap();
    write_script(&sysbin.join("systemd-run"), "#!/bin/sh\nexit 0\n", 0o775);
    write_script(&sysbin.join("systemctl"), "#!/bin/sh\nexit 0\n", 0o755);
    let r = run_with_systemd(
        &env,
        cwd,
        &["check"],
        &[("IRIS_FREEZE_SYSTEMD_BIN_DIR", text(&sysbin))],
    );
    let line = watchdog_line(&r);
    assert!(
        line.starts_with("warn") && line.contains("refusing to run") && line.contains("group"),
        "{line}"
    );
    // Both safe: a unit it will be.
    fs::set_permissions(
        sysbin.join("systemd-run"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let r = run_with_systemd(
        &env,
        cwd,
        &["check"],
        &[("IRIS_FREEZE_SYSTEMD_BIN_DIR", text(&sysbin))],
    );
    let line = watchdog_line(&r);
    assert!(
        line.starts_with("ok") && line.contains("transient systemd unit"),
        "{line}"
    );
}

// ---- Under a real systemd (PID 1): `.ci/in-systemd cargo test --test systemd -- --ignored`.

/// A host whose watchdog is a unit of the real systemd; fails loudly anywhere else.
fn real_systemd() -> Env {
    let pid1 = fs::read_to_string("/proc/1/comm").unwrap_or_default();
    assert_eq!(
        pid1.trim(),
        "systemd",
        "PID 1 is not systemd: run these tests as root with \
         `.ci/in-systemd cargo test --test systemd -- --ignored`"
    );
    assert!(
        Path::new("/run/systemd/system").is_dir(),
        "/run/systemd/system is missing: systemd has not booted"
    );
    assert!(
        nix::unistd::geteuid().is_root(),
        "these tests need root (systemd-run starts system units)"
    );
    Env::new().with_real_systemd()
}

fn systemctl(args: &[&str]) -> (bool, String) {
    let out = Command::new("systemctl")
        .arg("--no-ask-password")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    )
}

fn is_active(unit: &str) -> bool {
    systemctl(&["is-active", "--quiet", unit]).0
}

/// Unloaded: gone from systemd altogether (`--collect` drops a unit once it ended).
fn gone(unit: &str) -> bool {
    systemctl(&["show", "--property=LoadState", "--value", unit]).1 == "not-found"
}

fn journal(unit: &str) -> String {
    let out = Command::new("journalctl")
        .args(["--no-pager", "--output=cat", "--unit", unit])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The watchdog's unit, as the state names it.
fn watchdog_unit(env: &Env) -> String {
    let how = env.state_json()["watchdog"]["how"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    how.strip_prefix("systemd unit ")
        .unwrap_or_else(|| panic!("the watchdog is not a unit: {how:?}"))
        .to_string()
}

#[test]
#[ignore = "needs root and systemd as PID 1: .ci/in-systemd"]
fn freeze_arms_the_watchdog_as_a_unit_and_thaw_removes_it() {
    let env = real_systemd();
    env.iris("IRIS");
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let unit = watchdog_unit(&env);
    assert!(unit.starts_with("iris-freeze-watchdog-"), "{unit}");
    assert!(is_active(&unit), "{unit} is not active");
    let main = systemctl(&["show", "--property=MainPID", "--value", &unit]).1;
    assert_eq!(
        main,
        env.watchdog_pid().unwrap().to_string(),
        "the state names another pid than the unit's"
    );
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        wait_until(LIMIT, || !is_active(&unit) && gone(&unit)),
        "{unit} outlived the thaw"
    );
    assert!(!env.frozen("IRIS"));
}

#[test]
#[ignore = "needs root and systemd as PID 1: .ci/in-systemd"]
fn without_a_thaw_the_unit_thaws_at_max_freeze_and_the_journal_says_so() {
    let env = real_systemd();
    env.iris("IRIS");
    let r = env.run(&["freeze", "--max-freeze", "3"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let unit = watchdog_unit(&env);
    assert!(wait_until(LIMIT, || !env.frozen("IRIS")), "never thawed");
    // The watchdog thaws first and writes its log after.
    assert!(
        wait_until(LIMIT, || env.log_text().contains("AUTO-THAW")),
        "{}",
        env.log_text()
    );
    assert!(
        wait_until(LIMIT, || {
            let j = journal(&unit);
            j.contains("AUTO-THAW: no thaw came within --max-freeze")
                && j.contains("AUTO-THAW done: thawed IRIS")
        }),
        "journalctl -u {unit} does not say what the watchdog did:\n{}",
        journal(&unit)
    );
    assert!(wait_until(LIMIT, || !is_active(&unit)));
    // The next thaw reports it.
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 2, "{}", r.text());
}

static AGENTS: AtomicUsize = AtomicUsize::new(0);

/// Runs `iris-freeze freeze ARGS` inside a unit that stands in for a backup agent's (its own
/// cgroup, KillMode=control-group: stopping it kills every process in it), then keeps the unit
/// running as the agent would. Returns the unit and the file the freeze's exit code goes to.
fn freeze_in_agent_unit(env: &Env, args: &[&str], extra: &[(&str, &str)]) -> (String, PathBuf) {
    let unit = format!(
        "fake-agent-{}-{}",
        std::process::id(),
        AGENTS.fetch_add(1, Ordering::Relaxed)
    );
    let rc = env.tmp.path().join(format!("{unit}.rc"));
    let mut run = Command::new("systemd-run");
    run.args([
        &format!("--unit={unit}"),
        "--quiet",
        "--collect",
        "--no-ask-password",
        "--property=KillMode=control-group",
    ])
    .arg(format!("--setenv=RC={}", rc.display()));
    // The harness's environment (simulator, state dir, log), which a unit does not inherit.
    let harness = env.command(Path::new(BIN));
    for (k, v) in harness.get_envs() {
        if let Some(v) = v {
            run.arg(format!(
                "--setenv={}={}",
                k.to_string_lossy(),
                v.to_string_lossy()
            ));
        }
    }
    for (k, v) in extra {
        run.arg(format!("--setenv={k}={v}"));
    }
    run.args([
        "/bin/sh",
        "-c",
        "\"$0\" freeze \"$@\"; echo $? > \"$RC\"; exec sleep 600",
        BIN,
    ])
    .args(args)
    .stdin(Stdio::null());
    assert!(run.status().unwrap().success(), "{run:?}");
    assert!(
        wait_until(LIMIT, || rc.exists()
            && !fs::read_to_string(&rc).unwrap().is_empty()),
        "the freeze in {unit} never returned; log:\n{}",
        env.log_text()
    );
    (unit, rc)
}

#[test]
#[ignore = "needs root and systemd as PID 1: .ci/in-systemd"]
fn stopping_the_agents_unit_after_the_freeze_leaves_the_watchdog_unit_to_thaw() {
    let env = real_systemd();
    env.iris("IRIS");
    let (agent, rc) = freeze_in_agent_unit(&env, &["--max-freeze", "8"], &[]);
    assert_eq!(fs::read_to_string(&rc).unwrap().trim(), "0");
    let unit = watchdog_unit(&env);
    let pid = env.watchdog_pid().unwrap();
    // The agent is stopped (restarted, upgraded, crashed) before its post hook.
    let (stopped, _) = systemctl(&["stop", &agent]);
    assert!(stopped, "systemctl stop {agent}");
    assert!(!is_active(&agent));
    assert!(env.frozen("IRIS"), "IRIS thawed before its deadline");
    assert!(
        is_active(&unit) && alive(pid),
        "the watchdog died with {agent}"
    );
    assert!(
        wait_until(LIMIT, || !env.frozen("IRIS")),
        "the watchdog never thawed"
    );
    assert!(
        wait_until(LIMIT, || env.log_text().contains("AUTO-THAW")),
        "{}",
        env.log_text()
    );
}

#[test]
#[ignore = "needs root and systemd as PID 1: .ci/in-systemd"]
fn the_detached_fallback_dies_with_the_agents_unit() {
    let env = real_systemd();
    env.iris("IRIS");
    let (agent, rc) = freeze_in_agent_unit(
        &env,
        &["--max-freeze", "120"],
        &[("IRIS_FREEZE_NO_SYSTEMD", "1")],
    );
    assert_eq!(fs::read_to_string(&rc).unwrap().trim(), "0");
    assert_eq!(env.state_json()["watchdog"]["how"], "detached process");
    let pid = env.watchdog_pid().unwrap();
    assert!(alive(pid));
    let (stopped, _) = systemctl(&["stop", &agent]);
    assert!(stopped, "systemctl stop {agent}");
    // What the README warns of and `check` warns about: the watchdog was in the agent's cgroup.
    assert!(
        wait_until(LIMIT, || !alive(pid)),
        "the detached watchdog survived {agent}: update the README"
    );
    assert!(env.frozen("IRIS"));
    assert!(env.state_json()["watchdog"]["token"].is_string());
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 0, "{}", r.text());
}
