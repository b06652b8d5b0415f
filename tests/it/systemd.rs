//! The watchdog and systemd. The first tests use stand-ins for systemd's programs and run
//! everywhere. The `#[ignore]`d ones need root and a real systemd as PID 1, and fail (never
//! skip) without them: `.ci/in-systemd cargo test --test it -- --ignored systemd::` boots a
//! throwaway systemd for them (`.ci/run` does).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::common::{self, BIN, Env, Run, alive, wait_until};

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

// ---- Under a real systemd (PID 1):
// `.ci/in-systemd cargo test --test it -- --ignored systemd::`.

/// A host whose watchdog is a unit of the real systemd; fails loudly anywhere else.
fn real_systemd() -> Env {
    let pid1 = fs::read_to_string("/proc/1/comm").unwrap_or_default();
    assert_eq!(
        pid1.trim(),
        "systemd",
        "PID 1 is not systemd: run these tests as root with \
         `.ci/in-systemd cargo test --test it -- --ignored systemd::`"
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

/// The settings table's column for a watchdog that is a systemd unit: the unit gets none of the
/// test's environment but PASS_ENV, so every setting must reach it in its arguments.
#[test]
#[ignore = "needs root and systemd as PID 1: .ci/in-systemd"]
fn every_setting_reaches_the_watchdog_unit_each_way() {
    drop(real_systemd());
    common::settings::run_table(true);
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
    // The watchdog thaws first and writes its log after.
    common::assert_watchdog_thawed(&env, &["IRIS"]);
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

/// `systemctl stop` of the watchdog's unit (an admin, a shutdown) before its deadline: the stop's
/// SIGTERM reaches the watchdog alone (`KillMode=mixed`), which thaws at once, its IRIS calls
/// running to their end, and the unit ends.
#[test]
#[ignore = "needs root and systemd as PID 1: .ci/in-systemd"]
fn stopping_the_watchdogs_unit_thaws_at_once() {
    let env = real_systemd();
    env.iris("IRIS");
    // Each thaw call takes a while: a stop that killed the whole unit would cut it short.
    env.fault("IRIS", "thaw=slow:1500");
    let r = env.run(&["freeze", "--max-freeze", "500"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let unit = watchdog_unit(&env);
    let (stopped, _) = systemctl(&["stop", &unit]);
    assert!(stopped, "systemctl stop {unit}");
    // `systemctl stop` returns once the unit has ended: the thaw is done by then.
    assert!(!env.frozen("IRIS"), "{}", env.log_text());
    assert!(
        wait_until(LIMIT, || {
            let j = journal(&unit);
            j.contains("the watchdog was stopped (SIGTERM) before its deadline")
                && j.contains("AUTO-THAW done: thawed IRIS")
        }),
        "journalctl -u {unit}:\n{}",
        journal(&unit)
    );
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
    common::assert_watchdog_thawed(&env, &["IRIS"]);
}

#[test]
#[ignore = "needs root and systemd as PID 1: .ci/in-systemd"]
fn the_detached_fallback_stopped_with_the_agents_unit_thaws_as_it_goes() {
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
    // What doc/failures.md warns of and `check` warns about: the watchdog was in the agent's cgroup,
    // so the agent's stop ends it too; its SIGTERM makes it thaw before it goes, long before
    // --max-freeze (a snapshot still being taken would not be consistent).
    assert!(
        wait_until(LIMIT, || !alive(pid)),
        "the detached watchdog survived {agent}: update doc/failures.md"
    );
    assert!(!env.frozen("IRIS"), "{}", env.log_text());
    assert!(
        env.log_text()
            .contains("the watchdog was stopped (SIGTERM) before its deadline"),
        "{}",
        env.log_text()
    );
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 2, "{}", r.text());
}

// ---- Journal entries (`host::journal`): to a socket of the test's own, then to the real
// journald under `.ci/in-systemd`.

const FROZEN_ID: &str = "dc2b2a8ed6ae4f1486e9ccd1ac878d60";
const THAWED_ID: &str = "7d79438eaf6f4e2b83eab118ab38ef98";

/// One native-protocol datagram's fields (`KEY=value\n`, or `KEY\n<u64 LE length>value\n`).
fn entry_fields(mut d: &[u8]) -> std::collections::HashMap<String, String> {
    let mut fields = std::collections::HashMap::new();
    while let Some(end) = d.iter().position(|&b| b == b'=' || b == b'\n') {
        let key = String::from_utf8_lossy(&d[..end]).into_owned();
        let value;
        if d[end] == b'=' {
            let nl = d[end..].iter().position(|&b| b == b'\n').unwrap() + end;
            value = &d[end + 1..nl];
            d = &d[nl + 1..];
        } else {
            let len = u64::from_le_bytes(d[end + 1..end + 9].try_into().unwrap()) as usize;
            value = &d[end + 9..end + 9 + len];
            d = &d[end + 10 + len..];
        }
        fields.insert(key, String::from_utf8_lossy(value).into_owned());
    }
    fields
}

/// Every entry sent to `socket` so far.
fn received(
    socket: &std::os::unix::net::UnixDatagram,
) -> Vec<std::collections::HashMap<String, String>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 17];
    while let Ok(n) = socket.recv(&mut buf) {
        out.push(entry_fields(&buf[..n]));
    }
    out
}

fn listen(env: &Env) -> std::os::unix::net::UnixDatagram {
    let s = std::os::unix::net::UnixDatagram::bind(env.journal_socket()).unwrap();
    s.set_nonblocking(true).unwrap();
    s
}

#[test]
fn a_freeze_and_a_thaw_send_their_events_with_message_ids_and_fields() {
    let env = Env::new();
    env.iris("IRIS");
    let socket = listen(&env);
    assert_eq!(env.run(&["freeze"]).code, 0);
    assert_eq!(env.run(&["thaw"]).code, 0);
    let entries = received(&socket);
    let with_id = |id: &str| {
        entries
            .iter()
            .find(|e| e.get("MESSAGE_ID").map(String::as_str) == Some(id))
            .unwrap_or_else(|| panic!("no entry with MESSAGE_ID={id} in {entries:#?}"))
    };
    for id in [FROZEN_ID, THAWED_ID] {
        let e = with_id(id);
        assert_eq!(e["SYSLOG_IDENTIFIER"], "iris-freeze");
        assert_eq!(e["IRIS_INSTANCE"], "IRIS");
        assert_eq!(e["PRIORITY"], "6");
        assert!(e["MESSAGE"].starts_with("IRIS: "), "{e:?}");
    }
    assert_eq!(with_id(FROZEN_ID)["IRIS_RC"], "5");
    // Both carry the cycle's id, the one the history records and ExternalFreeze's Text names.
    let cycle = env.history_events()[0]["id"].as_str().unwrap().to_string();
    for id in [FROZEN_ID, THAWED_ID] {
        assert_eq!(with_id(id)["IRIS_FREEZE_ID"], cycle, "{:?}", with_id(id));
    }
    // What IRIS printed at the freeze names the journal file a restore starts from.
    assert!(
        with_id(FROZEN_ID)["IRIS_OUTPUT"].contains("mgr/journal/"),
        "{:?}",
        with_id(FROZEN_ID)
    );
    // Every line of the logs is an entry: as many events as lines that are not IRIS's output.
    let logged = env
        .log_text()
        .lines()
        .filter(|l| !l.contains(" event=output "))
        .count();
    assert_eq!(entries.len(), logged, "{entries:#?}\n{}", env.log_text());
}

#[test]
fn a_failed_freeze_sends_a_failed_entry_at_error_priority() {
    let env = Env::new();
    env.iris("IRIS");
    env.fault("IRIS", "freeze=fail");
    let socket = listen(&env);
    assert_eq!(env.run(&["freeze"]).code, 1);
    let entries = received(&socket);
    let failed = entries
        .iter()
        .find(|e| {
            e.get("MESSAGE_ID").map(String::as_str) == Some("ac59009297de4897935e87ea0c1fbd1e")
        })
        .unwrap_or_else(|| panic!("no failed entry in {entries:#?}"));
    assert_eq!(failed["PRIORITY"], "3", "{failed:?}");
}

#[test]
fn the_watchdog_sends_its_auto_thaw_after_the_thaw() {
    let env = Env::new();
    env.iris("IRIS");
    let socket = listen(&env);
    assert_eq!(env.run(&["freeze", "--max-freeze", "1"]).code, 0);
    let mut entries = Vec::new();
    let auto_thaw = |e: &std::collections::HashMap<String, String>| {
        e.get("MESSAGE_ID").map(String::as_str) == Some("3ae7938fb56a4a49bb92028fed34ed0a")
    };
    assert!(
        wait_until(LIMIT, || {
            entries.extend(received(&socket));
            entries.iter().any(auto_thaw)
        }),
        "no auto-thaw entry: {entries:#?}"
    );
    assert!(!env.frozen("IRIS"));
    let e = entries.iter().find(|e| auto_thaw(e)).unwrap();
    assert_eq!(e["IRIS_FREEZE_COMMAND"], "watchdog", "{e:?}");
    assert_eq!(e["PRIORITY"], "3", "{e:?}");
}

#[test]
fn the_variable_or_the_config_file_turns_the_journal_off() {
    let env = Env::new();
    env.iris("IRIS");
    let socket = listen(&env);
    for off in ["0", "off"] {
        assert_eq!(
            env.run_env(&["freeze"], &[("IRIS_FREEZE_JOURNAL", off)])
                .code,
            0
        );
        assert_eq!(
            env.run_env(&["thaw"], &[("IRIS_FREEZE_JOURNAL", off)]).code,
            0
        );
    }
    fs::create_dir_all(env.root().join("etc")).unwrap();
    fs::write(env.root().join("etc/iris-freeze.toml"), "journal = false\n").unwrap();
    assert_eq!(env.run(&["freeze"]).code, 0);
    assert_eq!(env.run(&["thaw"]).code, 0);
    assert_eq!(received(&socket).len(), 0);
    // The variable wins over the file.
    assert_eq!(
        env.run_env(&["thaw"], &[("IRIS_FREEZE_JOURNAL", "1")]).code,
        0
    );
    assert!(!received(&socket).is_empty());
}

#[test]
fn a_journal_that_reads_nothing_never_fails_or_holds_up_a_freeze() {
    let env = Env::new();
    env.iris("IRIS");
    // Bound, never read: the socket's buffer fills and sending would block.
    let socket = std::os::unix::net::UnixDatagram::bind(env.journal_socket()).unwrap();
    for _ in 0..3 {
        let r = env.run(&["freeze"]);
        assert_eq!(r.code, 0, "{}", r.text());
        assert_eq!(env.run(&["thaw"]).code, 0);
    }
    drop(socket);
    // Nobody listening at all.
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!r.stderr.contains("journal"), "{}", r.text());
    assert_eq!(env.run(&["thaw"]).code, 0);
}

/// The entries of the real journal for `instance`, as `journalctl -o json` prints them.
fn journal_entries(instance: &str) -> Vec<serde_json::Value> {
    let out = Command::new("journalctl")
        .args(["--no-pager", "-o", "json", "SYSLOG_IDENTIFIER=iris-freeze"])
        .arg(format!("IRIS_INSTANCE={instance}"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// freeze then thaw of `instance`, to the real journald, `extra` added to the environment.
fn cycle_to_journald(env: &Env, instance: &str, extra: &[(&str, &str)]) {
    for cmd in ["freeze", "thaw"] {
        let mut c = env.command(Path::new(BIN));
        c.env_remove("IRIS_FREEZE_JOURNAL_SOCKET")
            .args([cmd, "--instance", instance]);
        for (k, v) in extra {
            c.env(k, v);
        }
        let r = run_command(c);
        assert_eq!(r.code, 0, "{cmd}: {}", r.text());
    }
}

#[test]
#[ignore = "needs root and systemd as PID 1: .ci/in-systemd"]
fn journalctl_shows_the_freeze_and_the_thaw_with_their_fields() {
    let env = real_systemd();
    env.iris("JOURNALON");
    cycle_to_journald(&env, "JOURNALON", &[]);
    let has = |id: &str| {
        journal_entries("JOURNALON")
            .into_iter()
            .find(|e| e["MESSAGE_ID"] == id)
    };
    assert!(
        wait_until(LIMIT, || has(FROZEN_ID).is_some()
            && has(THAWED_ID).is_some()),
        "journalctl has no frozen and thawed entries: {:#?}",
        journal_entries("JOURNALON")
    );
    for id in [FROZEN_ID, THAWED_ID] {
        let e = has(id).unwrap();
        assert_eq!(e["IRIS_INSTANCE"], "JOURNALON", "{e}");
        assert_eq!(e["PRIORITY"], "6", "{e}");
        assert!(e["IRIS_RC"].is_string(), "{e}");
    }
    // ExternalFreeze's own answer (5); the thaw's is the session of the check that confirms it,
    // whose answer is its marker line, not its exit (0 in the simulator).
    assert_eq!(has(FROZEN_ID).unwrap()["IRIS_RC"], "5");
    assert_eq!(has(THAWED_ID).unwrap()["IRIS_RC"], "0");
}

#[test]
#[ignore = "needs root and systemd as PID 1: .ci/in-systemd"]
fn with_the_journal_off_journalctl_shows_nothing() {
    let env = real_systemd();
    env.iris("JOURNALOFF");
    env.iris("JOURNALMARK");
    cycle_to_journald(&env, "JOURNALOFF", &[("IRIS_FREEZE_JOURNAL", "0")]);
    // A cycle sent after it: once journald has that, it would have the first.
    cycle_to_journald(&env, "JOURNALMARK", &[]);
    assert!(
        wait_until(LIMIT, || journal_entries("JOURNALMARK")
            .iter()
            .any(|e| e["MESSAGE_ID"] == THAWED_ID)),
        "the marker cycle never reached the journal"
    );
    assert_eq!(
        journal_entries("JOURNALOFF"),
        Vec::<serde_json::Value>::new()
    );
}
