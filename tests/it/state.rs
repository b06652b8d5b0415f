//! The state, the watchdog and `status` stay trustworthy: a damaged state file, a swapped or
//! unsafe state dir, a log that blocks, a zombie watchdog, a user who is not root; end to end
//! against the simulator.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::common::{self, Env, wait_until};

const LIMIT: Duration = Duration::from_secs(60);

fn chmod(p: &Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

/// Field 22 of /proc/PID/stat (counted after the command name, which may hold spaces).
fn start_ticks(pid: u32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 1..];
    rest.split_whitespace().nth(19).unwrap().parse().unwrap()
}

fn proc_state(pid: u32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 1..]
        .split_whitespace()
        .next()?
        .chars()
        .next()
}

fn gone(pid: i32) -> bool {
    !matches!(proc_state(pid as u32), Some(s) if s != 'Z')
}

fn json(r: &common::Run) -> serde_json::Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", r.text()))
}

fn instance(v: &serde_json::Value, name: &str) -> serde_json::Value {
    v["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("{name} not listed: {v:#}"))
        .clone()
}

/// The files moved aside as damaged in the state dir.
fn damaged_files(env: &Env) -> Vec<std::path::PathBuf> {
    fs::read_dir(&env.state)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("state.json.damaged-")
        })
        .collect()
}

#[test]
fn a_damaged_state_does_not_disarm_the_watchdog() {
    let env = Env::new();
    env.iris("IRIS").cache("CACHE");
    let r = env.run(&["freeze", "--max-freeze", "2"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS") && env.frozen("CACHE"));
    // Truncated behind its back (a full disk, a careless editor).
    fs::write(env.state_file(), "").unwrap();

    let log = common::assert_watchdog_thawed(&env, &["CACHE", "IRIS"]);
    assert!(log.contains("state.json is damaged"), "{log}");
    let moved = damaged_files(&env);
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert!(log.contains(&moved[0].display().to_string()), "{log}");
    assert_eq!(fs::metadata(&moved[0]).unwrap().mode() & 0o777, 0o600);
    // The next thaw reports the auto-thaw, once.
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert_eq!(env.run(&["thaw"]).code, 0);
}

#[test]
fn the_watchdog_thaws_before_it_writes_its_log() {
    let env = Env::new();
    env.iris("IRIS");
    assert_eq!(env.run(&["freeze", "--max-freeze", "2"]).code, 0);
    let wd = env.watchdog_pid().expect("no watchdog recorded");
    // The log becomes a FIFO nobody reads: opening it for writing blocks.
    fs::remove_file(&env.log).unwrap();
    nix::unistd::mkfifo(&env.log, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();

    let thawed = wait_until(LIMIT, || !env.frozen("IRIS"));
    // Whatever happened, let a watchdog blocked on the FIFO go (reading what it writes).
    let mut fifo = fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(&env.log)
        .unwrap();
    let mut sink = Vec::new();
    let left = wait_until(LIMIT, || {
        let mut buf = [0u8; 4096];
        if let Ok(n) = fifo.read(&mut buf) {
            sink.extend_from_slice(&buf[..n]);
        }
        gone(wd)
    });
    assert!(thawed, "a log that blocks delayed the watchdog's thaw");
    assert!(left, "the watchdog never finished");
}

/// Whether process `pid` has `dir` open.
fn holds_dir(pid: i32, dir: &Path) -> bool {
    fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|fds| {
            fds.flatten()
                .any(|fd| fs::read_link(fd.path()).is_ok_and(|t| t == dir))
        })
        .unwrap_or(false)
}

#[test]
fn a_swapped_state_dir_changes_nothing_for_the_watchdog() {
    let env = Env::new();
    env.iris("IRIS");
    assert_eq!(env.run(&["freeze", "--max-freeze", "2"]).code, 0);
    let token = env.state_json()["watchdog"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    // The watchdog holds the directory it opened; a swap before it has opened it would test
    // nothing (the freeze returns as soon as the watchdog is started).
    let wd = env.watchdog_pid().expect("a watchdog pid");
    assert!(
        wait_until(Duration::from_secs(30), || holds_dir(wd, &env.state)),
        "the watchdog never opened the state dir"
    );
    // Someone swaps the directory and writes a state of their own with the watchdog's token
    // (it is in its argv) and a program of theirs.
    let marker = env.tmp.path().join("ran-as-root");
    let evil = env.tmp.path().join("evil");
    fs::write(
        &evil,
        format!("#!/bin/sh\ntouch {}\nexit 5\n", marker.display()),
    )
    .unwrap();
    chmod(&evil, 0o755);
    let old = env.tmp.path().join("state.old");
    fs::rename(&env.state, &old).unwrap();
    fs::create_dir(&env.state).unwrap();
    chmod(&env.state, 0o700);
    let forged = serde_json::json!({
        "instances": {"IRIS": {
            "kind": "iris",
            "session": {"program": evil, "prefix": []},
            "phase": "frozen",
            "since": "2026-01-01T00:00:00.000+00:00",
            "pid": 1
        }},
        "watchdog": {"token": token, "pid": 1, "deadline": "x", "deadline_ms": 0, "how": "x"}
    });
    fs::write(env.state_file(), forged.to_string()).unwrap();
    chmod(&env.state_file(), 0o600);

    common::assert_watchdog_thawed(&env, &["IRIS"]);
    assert!(!marker.exists(), "the watchdog ran the forged program");
    // It recorded the auto-thaw in the directory it opened, not in the forged one.
    let kept: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(old.join("state.json")).unwrap()).unwrap();
    assert!(kept["auto_thaw"].is_object(), "{kept:#}");
}

#[test]
fn a_state_dir_under_a_directory_others_can_write_is_refused() {
    let cases: &[(&str, u32, Option<u32>)] = &[
        ("written by others", 0o777, None),
        ("owned by uid 65534", 0o755, Some(65534)),
    ];
    for &(why, mode, owner) in cases {
        if owner.is_some() && !nix::unistd::geteuid().is_root() {
            continue;
        }
        let mut env = Env::new();
        env.iris("IRIS");
        let parent = env.tmp.path().join("shared");
        fs::create_dir(&parent).unwrap();
        chmod(&parent, mode);
        if let Some(uid) = owner {
            nix::unistd::chown(&parent, Some(nix::unistd::Uid::from_raw(uid)), None).unwrap();
        }
        env.state = parent.join("state");
        let r = env.run(&["freeze"]);
        assert_eq!(r.code, 1, "{why}: {}", r.text());
        assert!(r.stderr.contains("refusing the state dir"), "{}", r.text());
        assert!(r.stderr.contains(why), "{}", r.text());
        assert!(r.stderr.contains("only root can write"), "{}", r.text());
        assert!(!env.frozen("IRIS"));
        assert_eq!(env.calls("IRIS", "freeze"), 0);
    }

    // A sticky directory (as /tmp) is a safe parent: others cannot swap our entry in it.
    let mut env = Env::new();
    env.iris("IRIS");
    let parent = env.tmp.path().join("sticky");
    fs::create_dir(&parent).unwrap();
    chmod(&parent, 0o1777);
    env.state = parent.join("state");
    assert_eq!(env.run(&["freeze"]).code, 0);
    assert_eq!(env.run(&["thaw"]).code, 0);
}

#[test]
fn status_reads_on_through_a_damaged_state_and_names_the_recovery() {
    let env = Env::new();
    env.iris("IRIS").iris("OTHER");
    assert_eq!(env.run(&["freeze", "-i", "IRIS"]).code, 0);
    fs::write(env.state_file(), "{not json").unwrap();

    let r = env.run(&["status"]);
    assert_eq!(r.code, 1, "{}", r.text());
    let line = |n: &str| {
        r.stdout
            .lines()
            .find(|l| l.starts_with(n))
            .unwrap_or_else(|| panic!("{n} not listed:\n{}", r.text()))
            .to_string()
    };
    assert!(line("IRIS ").contains(" yes "), "{}", r.stdout);
    assert!(line("OTHER").contains(" no "), "{}", r.stdout);
    let error = line("error: ");
    assert!(error.contains("state.json is damaged"), "{error}");
    assert!(
        error.contains("iris-freeze thaw --instance NAME"),
        "{error}"
    );
    assert!(error.contains("then delete"), "{error}");

    let r = env.run(&["status", "--json"]);
    assert_eq!(r.code, 1, "{}", r.text());
    let v = json(&r);
    assert_eq!(instance(&v, "IRIS")["frozen"], true);
    assert!(instance(&v, "IRIS")["frozen_by_iris_freeze"].is_null());
    assert_eq!(instance(&v, "OTHER")["frozen"], false);
    assert!(v["watchdog"].is_null());
    let error = v["error"].as_str().unwrap();
    assert!(error.contains("state.json is damaged"), "{error}");
    assert!(
        v["errors"][0]
            .as_str()
            .unwrap()
            .contains(&env.state_file().display().to_string()),
        "{v:#}"
    );
    // status changes nothing: the damaged file is still there, IRIS still frozen.
    assert_eq!(fs::read_to_string(env.state_file()).unwrap(), "{not json");
    assert!(env.frozen("IRIS"));
    // Let the watchdog go: with no state, it is disarmed.
    fs::remove_file(env.state_file()).unwrap();
}

#[test]
fn status_json_is_one_json_document_whatever_fails() {
    // No IRIS programs at all.
    let env = Env::with_programs(&[]);
    let r = env.run(&["status", "--json"]);
    assert_eq!(r.code, 1, "{}", r.text());
    let v = json(&r);
    assert!(
        v["error"].as_str().unwrap().contains("found none of iris"),
        "{v:#}"
    );
    assert_eq!(v["instances"], serde_json::json!([]));
    assert!(v["watchdog"].is_null());

    // A state dir others can write: refused, but IRIS is still asked.
    let env = Env::new();
    env.iris("IRIS");
    fs::create_dir(&env.state).unwrap();
    chmod(&env.state, 0o777);
    let r = env.run(&["status", "--json"]);
    assert_eq!(r.code, 1, "{}", r.text());
    let v = json(&r);
    assert!(v["error"].as_str().unwrap().contains("chmod 700"), "{v:#}");
    assert_eq!(instance(&v, "IRIS")["frozen"], false);

    // And when all is well, `error` is null.
    let env = Env::new();
    env.iris("IRIS");
    let r = env.run(&["status", "--json"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let v = json(&r);
    assert!(v["error"].is_null(), "{v:#}");
    assert_eq!(v["errors"], serde_json::json!([]));
}

/// A state naming a watchdog with this pid and start time, due in an hour.
fn fake_watchdog(env: &Env, pid: u32, ticks: u64) {
    fs::create_dir_all(&env.state).unwrap();
    chmod(&env.state, 0o700);
    let due = chrono::Utc::now().timestamp_millis() + 3_600_000;
    let state = serde_json::json!({
        "watchdog": {
            "token": "t", "pid": pid, "deadline": "in an hour", "deadline_ms": due,
            "how": "detached process", "start_ticks": ticks
        }
    });
    fs::write(env.state_file(), state.to_string()).unwrap();
    chmod(&env.state_file(), 0o600);
}

fn watchdog_running(env: &Env) -> serde_json::Value {
    let r = env.run(&["status", "--json"]);
    json(&r)["watchdog"]["running"].clone()
}

#[test]
fn status_tells_a_zombie_or_another_process_from_the_watchdog() {
    let env = Env::new();
    env.iris("IRIS");

    // A child that exited and that nobody reaped: its pid is still in /proc.
    let mut child = std::process::Command::new("/bin/sh")
        .args(["-c", "exit 0"])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let zombie = child.id();
    let ticks = start_ticks(zombie);
    assert!(wait_until(LIMIT, || proc_state(zombie) == Some('Z')));
    fake_watchdog(&env, zombie, ticks);
    assert_eq!(watchdog_running(&env), false, "a zombie is not running");
    let r = env.run(&["status"]);
    assert!(r.stdout.contains("NOT RUNNING"), "{}", r.text());
    child.wait().unwrap();

    // A live process that is not the one recorded: another start time.
    let me = std::process::id();
    fake_watchdog(&env, me, start_ticks(me) + 1);
    assert_eq!(watchdog_running(&env), false, "another process got the pid");
    // The very process recorded is running.
    fake_watchdog(&env, me, start_ticks(me));
    assert_eq!(watchdog_running(&env), true);
}

#[test]
fn a_user_who_is_not_root_is_told_to_run_as_root_or_use_their_own_state_dir() {
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    let env = Env::new();
    env.iris("IRIS");
    // A place uid 65534 can reach, holding root's state dir.
    let open = tempfile::tempdir().unwrap();
    chmod(open.path(), 0o755);
    let state = open.path().join("iris-freeze");
    fs::create_dir(&state).unwrap();
    // The advice names the setting that chose the state dir: the variable, or the flag.
    let cases = [
        (
            0o700,
            true,
            "run as root, or set IRIS_FREEZE_STATE_DIR to a directory you own",
        ),
        (
            0o755,
            true,
            "run as root, or set IRIS_FREEZE_STATE_DIR to a directory you own",
        ),
        (0o755, false, "run as root, or pass a `--state-dir` you own"),
    ];
    // The binary where uid 65534 can run it (the checkout may be under /root, 0700).
    let exe = common::other_user::reachable_programs(&env);
    for (mode, by_env, advice) in cases {
        chmod(&state, mode);
        let mut c = env.command(&exe);
        if by_env {
            c.env("IRIS_FREEZE_STATE_DIR", &state).arg("freeze");
        } else {
            c.env_remove("IRIS_FREEZE_STATE_DIR")
                .arg("--state-dir")
                .arg(&state)
                .arg("freeze");
        }
        c.env("IRIS_FREEZE_LOG_FILE", open.path().join("freeze.log"))
            .env("IRIS_FREEZE_ROOT", open.path().join("root"))
            .uid(65534)
            .gid(65534)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let r = common::finish(c.spawn().unwrap());
        assert_eq!(r.code, 1, "mode {mode:o}: {}", r.text());
        assert!(r.stderr.contains(advice), "mode {mode:o}: {}", r.text());
        assert!(!r.stderr.contains("chown"), "mode {mode:o}: {}", r.text());
        assert!(!env.frozen("IRIS"));
        let md = fs::metadata(&state).unwrap();
        assert_eq!(md.uid(), 0, "root's state dir changed hands");
    }
}
