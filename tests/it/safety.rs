//! Never leave a database frozen: the watchdog, stop signals, the host lock, the pre/post race,
//! the state dir rules and the emergency resume, end to end against the simulator.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{self, Env, alive, finish, wait_until};
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn the_watchdog_thaws_after_freeze_is_killed_9_in_the_middle() {
    let env = Env::new();
    env.iris("IRIS").fault("IRIS", "freeze=then-hang");
    let child = env.spawn(&["freeze", "--max-freeze", "3", "--timeout", "60"]);
    assert!(wait_until(LIMIT, || env.frozen("IRIS")), "never froze");
    let pid = child.id() as i32;
    kill(Pid::from_raw(pid), Signal::SIGKILL).unwrap();
    let r = finish(child);
    assert_eq!(r.code, -1, "{}", r.text());
    // The watchdog records the auto-thaw just after thawing.
    let log = common::assert_watchdog_thawed(&env, &["IRIS"]);
    assert!(log.contains("cmd=watchdog inst=- event=auto-thaw"), "{log}");
    // The thaw that comes late says the snapshot may not be consistent, with exit 2, once.
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(r.stdout.contains("auto-thawed IRIS"), "{}", r.text());
    assert_eq!(env.run(&["thaw"]).code, 0);
}

#[test]
fn the_watchdog_survives_the_callers_process_group_being_killed() {
    let env = Env::new();
    env.iris("IRIS");
    let mut c = env.command(Path::new("/bin/sh"));
    c.args([
        "-c",
        &format!("{} freeze --max-freeze 3; exec sleep 120", common::BIN),
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .process_group(0);
    let child = c.spawn().unwrap();
    let pgid = Pid::from_raw(child.id() as i32);
    assert!(
        wait_until(LIMIT, || env.log_text().contains("event=end rc=0")),
        "{}",
        env.log_text()
    );
    assert!(env.frozen("IRIS"));
    let wd = env.watchdog_pid().expect("no watchdog recorded");
    killpg(pgid, Signal::SIGKILL).unwrap();
    let _ = finish(child);
    assert!(
        alive(wd),
        "the watchdog died with its caller's process group"
    );
    // It thaws first and logs after.
    common::assert_watchdog_thawed(&env, &["IRIS"]);
    assert!(wait_until(LIMIT, || !env.state_json()["auto_thaw"].is_null()));
    let status = env.run(&["status"]);
    assert!(status.stdout.contains("AUTO-THAW"), "{}", status.text());
}

#[test]
fn the_watchdog_is_fully_detached() {
    let env = Env::new();
    env.iris("IRIS");
    assert_eq!(env.run(&["freeze"]).code, 0);
    let wd = env.watchdog_pid().expect("no watchdog recorded");
    assert!(alive(wd));
    for fd in 0..3 {
        let target = fs::read_link(format!("/proc/{wd}/fd/{fd}")).unwrap();
        assert_eq!(target, Path::new("/dev/null"), "fd {fd}");
    }
    // Beyond stdio, only its own handle on the state dir, once it has closed what it inherited
    // (its first step: on a loaded machine the freeze may exit before the watchdog got there).
    let others = || -> Vec<_> {
        fs::read_dir(format!("/proc/{wd}/fd"))
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_str().unwrap().parse::<i32>().unwrap() > 2)
            .filter_map(|e| fs::read_link(e.path()).ok())
            .collect()
    };
    wait_until(LIMIT, || others() == [env.state.clone()]);
    assert_eq!(
        others(),
        std::slice::from_ref(&env.state),
        "the watchdog holds inherited file descriptors"
    );
    let sid = nix::unistd::getsid(Some(Pid::from_raw(wd))).unwrap();
    assert_eq!(
        sid,
        Pid::from_raw(wd),
        "the watchdog is not in its own session"
    );
    assert_eq!(env.run(&["thaw"]).code, 0);
}

#[test]
fn thaw_disarms_the_watchdog_and_no_iris_call_comes_from_it() {
    let env = Env::new();
    env.iris("IRIS");
    assert_eq!(env.run(&["freeze", "--max-freeze", "2"]).code, 0);
    let wd = env.watchdog_pid().expect("no watchdog recorded");
    assert!(alive(wd));
    assert_eq!(env.run(&["thaw"]).code, 0);
    assert!(
        wait_until(LIMIT, || !alive(wd)),
        "the watchdog is still waiting after the thaw"
    );
    assert_eq!(env.calls("IRIS", "thaw"), 1, "{:#?}", env.call_lines());
    assert!(!env.log_text().contains("AUTO-THAW"));
    assert!(env.state_json()["watchdog"].is_null());
}

#[test]
fn a_second_freeze_rearms_the_watchdog_and_the_first_one_leaves() {
    let env = Env::new();
    env.iris("IRIS");
    assert_eq!(env.run(&["freeze"]).code, 0);
    let first = env.watchdog_pid().unwrap();
    assert_eq!(env.run(&["freeze"]).code, 0);
    let second = env.watchdog_pid().unwrap();
    assert_ne!(first, second);
    assert!(
        wait_until(LIMIT, || !alive(first)),
        "the replaced watchdog kept waiting"
    );
    assert!(alive(second));
    assert!(
        env.log_text().contains("re-armed for a freeze"),
        "{}",
        env.log_text()
    );
    assert_eq!(env.calls("IRIS", "freeze"), 1);
    assert_eq!(env.run(&["thaw"]).code, 0);
}

#[test]
fn a_stop_signal_mid_freeze_rolls_back_within_5_s() {
    for sig in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        let env = Env::new();
        env.iris("IRIS")
            .iris("OTHER")
            .fault("IRIS", "freeze=then-hang");
        let child = env.spawn(&["freeze", "--timeout", "60"]);
        assert!(wait_until(LIMIT, || env.frozen("IRIS") && env.frozen("OTHER")));
        let sent = Instant::now();
        kill(Pid::from_raw(child.id() as i32), sig).unwrap();
        let r = finish(child);
        assert!(
            sent.elapsed() < Duration::from_secs(5),
            "{sig}: took {:?}",
            sent.elapsed()
        );
        assert_eq!(r.code, 1, "{sig}: {}", r.text());
        assert!(
            !env.frozen("IRIS") && !env.frozen("OTHER"),
            "{sig}: left frozen"
        );
        assert!(
            env.log_text()
                .contains(&format!("received {}", sig.as_str())),
            "{}",
            env.log_text()
        );
        assert!(env.recorded().is_empty());
    }
}

#[test]
fn a_stop_signal_during_thaw_lets_the_thaw_finish() {
    let env = Env::new();
    env.iris("IRIS").fault("IRIS", "thaw=slow:1500");
    assert_eq!(env.run(&["freeze"]).code, 0);
    let child = env.spawn(&["thaw"]);
    assert!(wait_until(LIMIT, || env.calls("IRIS", "thaw") == 1));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let r = finish(child);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    assert!(
        env.log_text().contains("finished the thaw first"),
        "{}",
        env.log_text()
    );
}

#[test]
fn a_thaw_racing_a_hung_freeze_stops_it_and_nothing_stays_frozen() {
    let env = Env::new();
    env.iris("IRIS").fault("IRIS", "freeze=then-hang");
    let freeze = env.spawn(&["freeze", "--timeout", "60"]);
    assert!(wait_until(LIMIT, || env.frozen("IRIS")));
    let thaw = env.run(&["thaw"]);
    let freeze = finish(freeze);
    assert_eq!(thaw.code, 0, "{}", thaw.text());
    assert_eq!(freeze.code, 1, "{}", freeze.text());
    assert!(!env.frozen("IRIS"));
    assert!(
        env.log_text()
            .contains("is still running: telling it to stop"),
        "{}",
        env.log_text()
    );
}

#[test]
fn a_thaw_racing_a_slow_freeze_that_has_not_frozen_yet() {
    let env = Env::new();
    env.iris("IRIS").fault("IRIS", "freeze=slow:3000");
    let freeze = env.spawn(&["freeze", "--timeout", "60"]);
    assert!(wait_until(LIMIT, || env.calls("IRIS", "freeze") == 1));
    let thaw = env.run(&["thaw"]);
    let freeze = finish(freeze);
    assert_eq!(thaw.code, 0, "{}", thaw.text());
    assert_eq!(freeze.code, 1, "{}", freeze.text());
    // The stopped freeze killed its ExternalFreeze call before exiting: nothing can land later.
    let sim_pid: i32 = env
        .call_lines()
        .iter()
        .find(|l| l.contains(" freeze start"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap();
    assert!(
        !alive(sim_pid),
        "the ExternalFreeze call outlived the stopped freeze"
    );
    assert!(!env.frozen("IRIS"));
}

#[test]
fn a_freeze_that_began_before_the_last_thaw_started_refuses() {
    let env = Env::new();
    env.iris("IRIS");
    fs::create_dir_all(&env.state).unwrap();
    fs::set_permissions(&env.state, fs::Permissions::from_mode(0o700)).unwrap();
    // As if a post hook had run while this pre hook was on its way.
    let boot = fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    let later = u64::MAX / 2;
    let mark = env.state.join("thaw-started");
    fs::write(
        &mark,
        format!("{{\"boot_id\": \"{}\", \"ticks\": {later}}}", boot.trim()),
    )
    .unwrap();
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        r.stderr.contains("a thaw started after this freeze began"),
        "{}",
        r.text()
    );
    assert!(!env.frozen("IRIS"));
    assert_eq!(env.calls("IRIS", "freeze"), 0);
    // The same mark from another boot means nothing.
    fs::write(
        &mark,
        format!("{{\"boot_id\": \"old-boot\", \"ticks\": {later}}}"),
    )
    .unwrap();
    assert_eq!(env.run(&["freeze"]).code, 0);
    assert_eq!(env.run(&["thaw"]).code, 0);
}

#[test]
fn eight_concurrent_freezes_freeze_each_instance_exactly_once() {
    let env = Env::new();
    env.iris("IRIS").cache("CACHE");
    env.fault("IRIS", "freeze=slow:300");
    let children: Vec<_> = (0..8).map(|_| env.spawn(&["freeze"])).collect();
    let runs: Vec<_> = children.into_iter().map(finish).collect();
    for r in &runs {
        assert_eq!(r.code, 0, "{}", r.text());
    }
    assert_eq!(env.calls("IRIS", "freeze"), 1, "{:#?}", env.call_lines());
    assert_eq!(env.calls("CACHE", "freeze"), 1);
    assert!(env.frozen("IRIS") && env.frozen("CACHE"));
    assert_eq!(env.run(&["thaw"]).code, 0);
    assert!(!env.frozen("IRIS") && !env.frozen("CACHE"));
}

#[test]
fn an_unsafe_state_dir_is_refused_and_nothing_is_frozen() {
    let env = Env::new();
    env.iris("IRIS");
    fs::create_dir_all(&env.state).unwrap();
    fs::set_permissions(&env.state, fs::Permissions::from_mode(0o777)).unwrap();
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stderr.contains("chmod 700"), "{}", r.text());
    assert!(!env.frozen("IRIS"));
    assert_eq!(env.call_lines().len(), 0);

    // Created by us: 0700.
    let fresh = Env::new();
    fresh.iris("IRIS");
    assert_eq!(fresh.run(&["freeze"]).code, 0);
    assert_eq!(
        fs::metadata(&fresh.state).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(fresh.run(&["thaw"]).code, 0);

    // Owned by someone else (only root can arrange that).
    if nix::unistd::geteuid().is_root() {
        let other = Env::new();
        other.iris("IRIS");
        fs::create_dir_all(&other.state).unwrap();
        fs::set_permissions(&other.state, fs::Permissions::from_mode(0o700)).unwrap();
        nix::unistd::chown(&other.state, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
        let r = other.run(&["freeze"]);
        assert_eq!(r.code, 1, "{}", r.text());
        assert!(r.stderr.contains("owned by uid 65534"), "{}", r.text());
        assert!(!other.frozen("IRIS"));
    }
}

#[test]
fn a_thaw_that_leaves_iris_suspended_escalates_to_the_emergency_resume() {
    let env = Env::new();
    env.iris("IRIS").fault("IRIS", "thaw=fail");
    assert_eq!(env.run(&["freeze"]).code, 0);
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    assert_eq!(env.calls("IRIS", "stat"), 1);
    let log = env.log_text();
    assert!(log.contains("event=emergency"), "{log}");
    assert!(log.contains("EMERGENCY"), "{log}");
    assert!(log.contains("stat IRIS -W"), "{log}");
}

#[test]
fn cache_escalates_with_ccontrol_stat() {
    let env = Env::new();
    env.cache("CACHE").fault("CACHE", "thaw=hang");
    assert_eq!(env.run(&["freeze"]).code, 0);
    let r = env.run(&["thaw", "--timeout", "3"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("CACHE"));
    assert!(
        env.log_text().contains("ccontrol stat CACHE -W"),
        "{}",
        env.log_text()
    );
}

#[test]
fn a_failed_emergency_resume_is_reported_honestly() {
    let env = Env::new();
    env.iris("IRIS")
        .fault("IRIS", "thaw=fail")
        .fault("IRIS", "stat=fail");
    assert_eq!(env.run(&["freeze"]).code, 0);
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(env.frozen("IRIS"));
    assert!(r.stdout.contains("MAY STILL BE FROZEN"), "{}", r.text());
    assert!(
        env.log_text().contains("emergency resume exit 1"),
        "{}",
        env.log_text()
    );
}

#[test]
fn max_freeze_must_stay_below_the_iris_blocking_point() {
    let env = Env::new();
    env.iris("IRIS");
    let r = env.run(&["freeze", "--max-freeze", "600"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stderr.contains("below 600"), "{}", r.text());
    let r = env.run_env(&["freeze"], &[("IRIS_FREEZE_MAX_FREEZE", "700")]);
    assert_eq!(r.code, 1);
    assert!(!env.frozen("IRIS"));
}

#[test]
fn status_shows_the_watchdog() {
    let env = Env::new();
    env.iris("IRIS");
    assert_eq!(env.run(&["freeze"]).code, 0);
    let r = env.run(&["status"]);
    assert!(
        r.stdout.contains("watchdog: armed, thaws at"),
        "{}",
        r.text()
    );
    let r = env.run(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["watchdog"]["pid"].as_i64(),
        env.watchdog_pid().map(i64::from)
    );
    assert_eq!(v["watchdog"]["running"], true);
    assert_eq!(env.run(&["thaw"]).code, 0);
    let r = env.run(&["status"]);
    assert!(r.stdout.contains("watchdog: not armed"), "{}", r.text());
}

/// A stand-in for systemd: `systemd-run` records its arguments and starts the command detached
/// (as a transient unit would be), `systemctl show --value` reports its pid.
fn fake_systemd(env: &Env, works: bool) -> std::path::PathBuf {
    let runtime = env.tmp.path().join("run-systemd-system");
    fs::create_dir_all(&runtime).unwrap();
    let record = env.tmp.path().join("systemd-run.args");
    let run = if works {
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{rec}'\nwhile [ \"${{1#--}}\" != \"$1\" ]; do \
             case \"$1\" in --unit=*) unit=\"${{1#--unit=}}\";; esac; shift; done\n\
             setsid \"$@\" </dev/null >/dev/null 2>&1 &\necho $! > '{dir}/'\"$unit\"\n",
            rec = record.display(),
            dir = runtime.display()
        )
    } else {
        "#!/bin/sh\necho 'Failed to connect to bus: No such file or directory' >&2\nexit 1\n".into()
    };
    let ctl = format!(
        "#!/bin/sh\nfor a; do unit=$a; done\n\
         printf 'MainPID=%s\\nActiveState=active\\n' \"$(cat '{}/'\"$unit\")\"\n",
        runtime.display()
    );
    for (name, text) in [("systemd-run", run), ("systemctl", ctl)] {
        let p = env.bin.join(name);
        fs::write(&p, text).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    }
    runtime
}

#[test]
fn under_systemd_the_watchdog_is_a_transient_unit() {
    let env = Env::new();
    env.iris("IRIS");
    let runtime = fake_systemd(&env, true);
    let dir = runtime.to_str().unwrap();
    let bin = env.bin.to_str().unwrap();
    let sysd = [
        ("IRIS_FREEZE_SYSTEMD_DIR", dir),
        ("IRIS_FREEZE_SYSTEMD_BIN_DIR", bin),
    ];
    let mut c = env.command(Path::new(common::BIN));
    c.env_remove("IRIS_FREEZE_NO_SYSTEMD")
        .envs(sysd)
        .arg("freeze");
    assert!(c.status().unwrap().success(), "{}", env.log_text());
    let how = env.state_json()["watchdog"]["how"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        how.starts_with("systemd unit iris-freeze-watchdog-"),
        "{how}"
    );
    let args = fs::read_to_string(env.tmp.path().join("systemd-run.args")).unwrap();
    for want in [
        "--unit=iris-freeze-watchdog-",
        "--collect",
        "--no-ask-password",
        "--setenv=PATH=",
        "__watchdog",
    ] {
        assert!(
            args.contains(want),
            "{want} missing from systemd-run's arguments:\n{args}"
        );
    }
    let wd = env.watchdog_pid().unwrap();
    assert!(
        wd > 0 && alive(wd),
        "systemctl's MainPID {wd} is not running"
    );
    assert_eq!(env.run(&["thaw"]).code, 0);
    assert!(
        wait_until(LIMIT, || !alive(wd)),
        "the unit's watchdog kept waiting after the thaw"
    );
}

#[test]
fn when_systemd_run_fails_the_watchdog_is_detached_by_itself() {
    let env = Env::new();
    env.iris("IRIS");
    let runtime = fake_systemd(&env, false);
    let mut c = env.command(Path::new(common::BIN));
    c.env_remove("IRIS_FREEZE_NO_SYSTEMD")
        .env("IRIS_FREEZE_SYSTEMD_DIR", &runtime)
        .env("IRIS_FREEZE_SYSTEMD_BIN_DIR", &env.bin)
        .arg("freeze")
        .stderr(Stdio::piped());
    let out = c.output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("systemd-run failed"));
    assert_eq!(env.state_json()["watchdog"]["how"], "detached process");
    assert!(alive(env.watchdog_pid().unwrap()));
    assert_eq!(env.run(&["thaw"]).code, 0);
}

#[test]
fn a_thaw_records_its_start_and_a_freeze_started_after_it_goes_ahead() {
    let env = Env::new();
    env.iris("IRIS").fault("IRIS", "thaw=slow:1500@1");
    assert_eq!(env.run(&["freeze"]).code, 0);
    // The thaw holds the lock while its ExternalThaw is slow; a freeze started meanwhile waits
    // for it, then freezes: it began after the thaw, so it is not a late pre hook.
    let thaw = env.spawn(&["thaw"]);
    assert!(wait_until(LIMIT, || env.calls("IRIS", "thaw") == 1));
    let freeze = env.spawn(&["freeze"]);
    let (thaw, freeze) = (finish(thaw), finish(freeze));
    assert_eq!(thaw.code, 0, "{}", thaw.text());
    assert_eq!(freeze.code, 0, "{}", freeze.text());
    assert!(env.frozen("IRIS"));
    let mark: serde_json::Value =
        serde_json::from_slice(&fs::read(env.state.join("thaw-started")).unwrap()).unwrap();
    let mark = &mark;
    let boot = fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    assert_eq!(mark["boot_id"], boot.trim(), "{mark}");
    assert!(mark["ticks"].as_u64().is_some(), "{mark}");
    assert_eq!(env.run(&["thaw"]).code, 0);
}

#[test]
fn a_stop_signal_ends_a_freezes_wait_for_the_lock() {
    let env = Env::new();
    env.iris("IRIS").fault("IRIS", "freeze=slow:3000");
    let first = env.spawn(&["freeze"]);
    assert!(wait_until(LIMIT, || env.calls("IRIS", "freeze") == 1));
    let second = env.spawn(&["freeze"]);
    // It says in the log that it waits for the lock.
    let pid = second.id();
    assert!(wait_until(LIMIT, || env
        .log_text()
        .contains(&format!("pid={pid} cmd=freeze inst=- event=lock"))));
    let sent = Instant::now();
    kill(Pid::from_raw(second.id() as i32), Signal::SIGTERM).unwrap();
    let second = finish(second);
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "{:?}",
        sent.elapsed()
    );
    assert_eq!(second.code, 1, "{}", second.text());
    assert!(
        second
            .stderr
            .contains("received SIGTERM while waiting for the host lock"),
        "{}",
        second.text()
    );
    let first = finish(first);
    assert_eq!(first.code, 0, "{}", first.text());
    assert!(env.frozen("IRIS"));
    assert_eq!(env.calls("IRIS", "freeze"), 1);
    assert_eq!(env.run(&["thaw"]).code, 0);
}

/// A program named `name` in `<tmp>/<dir>` (mode `dir_mode`) that only touches a marker file,
/// owned by `uid`: if root ever runs it, the marker shows. Returns the directory and the marker.
fn planted(env: &Env, dir: &str, name: &str, uid: u32, dir_mode: u32) -> (PathBuf, PathBuf) {
    let dir = env.tmp.path().join(dir);
    let marker = env.tmp.path().join(format!("{name}-ran"));
    fs::create_dir_all(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(dir_mode)).unwrap();
    let prog = dir.join(name);
    fs::write(&prog, format!("#!/bin/sh\ntouch '{}'\n", marker.display())).unwrap();
    fs::set_permissions(&prog, fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::chown(&prog, Some(uid), None).unwrap();
    (dir, marker)
}

/// PATH with `first` ahead of the simulator's directory (or instead of it).
fn path_with(env: &Env, first: &Path, keep_sim: bool) -> String {
    if keep_sim {
        format!("{}:{}:/usr/bin:/bin", first.display(), env.bin.display())
    } else {
        format!("{}:/usr/bin:/bin", first.display())
    }
}

#[test]
fn an_iris_another_user_owns_first_on_path_is_skipped_for_the_safe_one() {
    if !nix::unistd::geteuid().is_root() {
        return; // chown needs root
    }
    let env = Env::new();
    env.iris("IRIS");
    let (evil, marker) = planted(&env, "evil", "iris", 65534, 0o755);
    let path = path_with(&env, &evil, true);
    let r = env.run_env(&["freeze"], &[("PATH", &path)]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        !marker.exists(),
        "root ran another user's iris: {}",
        r.text()
    );
    assert!(env.frozen("IRIS"));
    let evil_iris = evil.join("iris");
    assert!(
        r.stderr
            .contains(&format!("refusing to run {}", evil_iris.display()))
            && r.stderr.contains("owned by uid 65534")
            && r.stderr
                .contains(&format!("chown root:root {}", evil_iris.display())),
        "{}",
        r.text()
    );
    // The log keeps it too: stderr is often nobody's.
    assert!(
        env.log_text().contains("event=unsafe-program"),
        "{}",
        env.log_text()
    );
    assert_eq!(env.run_env(&["thaw"], &[("PATH", &path)]).code, 0);
    assert!(!marker.exists());
    assert!(!env.frozen("IRIS"));
}

#[test]
fn an_unsafe_iris_as_the_only_one_fails_the_freeze_saying_why() {
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    let env = Env::new();
    env.iris("IRIS");
    let (evil, marker) = planted(&env, "evil", "iris", 65534, 0o755);
    // First on PATH, and through $IRISSYS.
    for extra in [
        vec![("PATH", path_with(&env, &evil, false))],
        vec![
            ("PATH", "/usr/bin:/bin".to_string()),
            ("IRISSYS", evil.display().to_string()),
        ],
    ] {
        let vars: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = env.run_env(&["freeze"], &vars);
        assert_eq!(r.code, 1, "{}", r.text());
        assert!(
            !marker.exists(),
            "root ran another user's iris: {}",
            r.text()
        );
        assert!(
            r.stderr.contains("none that is safe to run")
                && r.stderr
                    .contains(&format!("refusing to run {}", evil.join("iris").display()))
                && !r.stderr.contains("found none"),
            "{}",
            r.text()
        );
        assert!(!env.frozen("IRIS"));
        assert_eq!(env.call_lines().len(), 0, "no IRIS call at all");
    }
}

#[test]
fn a_root_owned_iris_in_a_group_writable_dir_is_refused() {
    let env = Env::new();
    env.iris("IRIS");
    let me = nix::unistd::geteuid().as_raw();
    let (shared, marker) = planted(&env, "shared", "iris", me, 0o775);
    let path = path_with(&env, &shared, true);
    let r = env.run_env(&["freeze"], &[("PATH", &path)]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!marker.exists(), "{}", r.text());
    assert!(
        r.stderr.contains("can be written by its group")
            && r.stderr
                .contains(&format!("chmod go-w {}", shared.display())),
        "{}",
        r.text()
    );
    assert_eq!(env.run_env(&["thaw"], &[("PATH", &path)]).code, 0);
    assert!(!env.frozen("IRIS"));
}

#[test]
fn check_fails_an_unsafe_program_naming_it_and_the_fix() {
    let env = Env::new();
    env.iris("IRIS");
    let me = nix::unistd::geteuid().as_raw();
    let (shared, marker) = planted(&env, "shared", "ccontrol", me, 0o777);
    let path = path_with(&env, &shared, true);
    let r = env.run_env(&["check"], &[("PATH", &path)]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(!marker.exists(), "{}", r.text());
    let prog = shared.join("ccontrol");
    assert!(
        r.stdout.lines().any(|l| l.starts_with("FAIL")
            && l.contains(&prog.display().to_string())
            && l.contains(&format!("chmod go-w {}", shared.display()))),
        "{}",
        r.text()
    );
    // The safe copy behind it is the one in use.
    assert!(
        r.stdout
            .contains(&format!("ccontrol {}", env.bin.join("ccontrol").display())),
        "{}",
        r.text()
    );
}

#[test]
fn a_refused_iris_beside_a_safe_ccontrol_fails_a_default_freeze_that_could_miss_iris() {
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    let env = Env::with_programs(&["csession", "ccontrol"]);
    env.iris("IRIS").cache("CACHE");
    let (evil, marker) = planted(&env, "evil", "iris", 65534, 0o755);
    let path = path_with(&env, &evil, true);
    let r = env.run_env(&["freeze"], &[("PATH", &path)]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(!marker.exists(), "{}", r.text());
    assert!(
        r.stderr.contains("cannot list every instance")
            && r.stderr
                .contains("`iris qlist` was not run: refusing to run"),
        "{}",
        r.text()
    );
    assert!(!env.frozen("IRIS") && !env.frozen("CACHE"));
}

#[test]
fn a_thaw_of_iris_instances_looks_for_iris_alone() {
    let env = Env::new();
    env.iris("IRIS");
    assert_eq!(env.run(&["freeze"]).code, 0);
    // An unsafe csession (a group-writable directory) first on PATH: a freeze would warn of it;
    // a thaw of an IRIS instance needs only `iris`, so it never looks at it.
    let me = nix::unistd::geteuid().as_raw();
    let (shared, marker) = planted(&env, "shared", "csession", me, 0o775);
    let path = path_with(&env, &shared, true);
    let r = env.run_env(&["thaw"], &[("PATH", &path)]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    assert!(!marker.exists());
    assert!(!r.text().contains("csession"), "{}", r.text());
    let freeze = env.run_env(&["freeze"], &[("PATH", &path)]);
    assert!(
        freeze.stderr.contains("refusing to run") && freeze.stderr.contains("csession"),
        "the freeze still checks every program: {}",
        freeze.text()
    );
    assert_eq!(env.run(&["thaw"]).code, 0);
}
