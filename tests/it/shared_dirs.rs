//! Directories other users can write, end to end as root: the state dir, the history, the log
//! and the metrics file are refused (or, for the metrics, written safely) in a directory
//! another user owns or a group other than root's can write, and nothing is created, renamed
//! or followed there before that check.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, chown, symlink};
use std::path::{Path, PathBuf};

use crate::common::{self, Env};

/// A uid and a gid no one on the host has: "another user" and "another group".
const OTHER: u32 = 12345;

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

fn chmod(p: &Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

/// A directory in the env's temp dir with `mode`, owned by `uid`:`gid`.
fn dir(env: &Env, name: &str, mode: u32, uid: u32, gid: u32) -> PathBuf {
    let d = env.tmp.path().join(name);
    fs::create_dir_all(&d).unwrap();
    chown(&d, Some(uid), Some(gid)).unwrap();
    chmod(&d, mode);
    d
}

#[test]
fn the_history_is_refused_before_its_rotation_renames_through_a_symlink() {
    if !is_root() {
        return; // another user's directory needs root to make
    }
    let env = Env::new();
    env.iris("IRIS");
    // A victim's full history, and the file before it.
    let victim = dir(&env, "victim", 0o700, 0, 0);
    fs::write(victim.join("h.jsonl"), vec![b'\n'; 1024 * 1024]).unwrap();
    fs::write(victim.join("h.jsonl.1"), "the victim's old history\n").unwrap();
    // Another user's directory, holding a link to the victim's.
    let evil = dir(&env, "evil", 0o755, OTHER, OTHER);
    symlink(&victim, evil.join("lnk")).unwrap();
    let history = evil.join("lnk/h.jsonl");
    let env_vars = [("IRIS_FREEZE_HISTORY_FILE", history.to_str().unwrap())];
    let r = env.run_env(&["freeze"], &env_vars);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        fs::read(victim.join("h.jsonl.1")).unwrap() == b"the victim's old history\n",
        "the victim's h.jsonl.1 was replaced through the link: {}",
        r.text()
    );
    assert_eq!(
        fs::metadata(victim.join("h.jsonl")).unwrap().len(),
        1024 * 1024
    );
    assert!(
        r.stderr.contains("refusing the history") && r.stderr.contains("owned by uid 12345"),
        "{}",
        r.text()
    );
    // Nor is a history directory created under it.
    let nested = evil.join("new/h.jsonl");
    let r = env.run_env(
        &["thaw"],
        &[("IRIS_FREEZE_HISTORY_FILE", nested.to_str().unwrap())],
    );
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!evil.join("new").exists(), "{}", r.text());
}

#[test]
fn the_state_dir_is_not_created_under_a_directory_another_user_owns() {
    if !is_root() {
        return;
    }
    let env = Env::new();
    env.iris("IRIS");
    let evil = dir(&env, "evil", 0o755, OTHER, OTHER);
    let state = evil.join("sub/state");
    let r = env.run_env(
        &["freeze"],
        &[("IRIS_FREEZE_STATE_DIR", state.to_str().unwrap())],
    );
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stderr.contains("refusing the state dir"), "{}", r.text());
    assert!(!evil.join("sub").exists(), "{}", r.text());
    assert!(!env.frozen("IRIS"));
}

/// Where a file goes, and what the run says when its directory is refused.
struct Place {
    var: &'static str,
    name: &'static str,
    refused: &'static str,
}

const PLACES: [Place; 4] = [
    Place {
        var: "IRIS_FREEZE_STATE_DIR",
        name: "state",
        refused: "refusing the state dir",
    },
    Place {
        var: "IRIS_FREEZE_HISTORY_FILE",
        name: "history.jsonl",
        refused: "refusing the history",
    },
    Place {
        var: "IRIS_FREEZE_LOG_FILE",
        name: "freeze.log",
        refused: "cannot open the log",
    },
    Place {
        var: "IRIS_FREEZE_METRICS_FILE",
        name: "iris-freeze.prom",
        refused: "refusing the metrics file",
    },
];

#[test]
fn a_directory_its_group_can_write_is_refused_unless_the_group_is_roots() {
    if !is_root() {
        return;
    }
    for place in PLACES {
        let env = Env::new();
        env.iris("IRIS");
        let shared = dir(&env, "shared", 0o775, 0, OTHER);
        let path = shared.join(place.name);
        let vars = [(place.var, path.to_str().unwrap())];
        let r = env.run_env(&["freeze"], &vars);
        let t = format!("{}: {}", place.var, r.text());
        assert!(r.stderr.contains(place.refused), "{t}");
        assert!(r.stderr.contains("written by its group (gid 12345)"), "{t}");
        assert!(fs::read_dir(&shared).unwrap().next().is_none(), "{t}");
        // The state dir refused, nothing was frozen; anything else is a warning.
        let code = if place.name == "state" { 1 } else { 0 };
        assert_eq!(r.code, code, "{t}");
        let _ = env.run(&["thaw"]);

        // Root's group is no other user.
        chown(&shared, None, Some(0)).unwrap();
        let r = env.run_env(&["freeze"], &vars);
        let t = format!("{}: {}", place.var, r.text());
        assert_eq!(r.code, 0, "{t}");
        assert!(!r.stderr.contains(place.refused), "{t}");
        assert!(fs::symlink_metadata(&path).is_ok(), "{t}");
        assert_eq!(env.run_env(&["thaw"], &vars).code, 0);
    }
}

/// A textfile directory anyone may add files to (1777, as node_exporter's often is).
fn textfile_dir(env: &Env) -> PathBuf {
    dir(env, "textfile", 0o1777, 0, 0)
}

/// Another user's files at the temp names a run of the next `n` pids would use:
/// `iris-freeze.prom.PID.tmp`, all a squatter needs when the name is predictable.
fn squat_temp_names(prom: &Path, n: u32) {
    let last: u32 = fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    for pid in last + 1..=last + n {
        let p = PathBuf::from(format!("{}.{pid}.tmp", prom.display()));
        fs::write(&p, "").unwrap();
        chown(&p, Some(OTHER), Some(OTHER)).unwrap();
    }
}

#[test]
fn squatted_metrics_names_neither_stop_the_series_nor_pass_unseen() {
    if !is_root() {
        return;
    }
    let env = Env::new();
    env.iris("IRIS");
    let textfile = textfile_dir(&env);
    let prom = textfile.join("iris-freeze.prom");
    let vars = [("IRIS_FREEZE_METRICS_FILE", prom.to_str().unwrap())];
    let journal = std::os::unix::net::UnixDatagram::bind(env.journal_socket()).unwrap();
    journal.set_nonblocking(true).unwrap();

    // The temp name: unpredictable, so squatting the predictable ones stops nothing.
    squat_temp_names(&prom, 3000);
    let r = env.run_env(&["freeze"], &vars);
    assert_eq!(r.code, 0, "{}", r.text());
    let text = fs::read_to_string(&prom).unwrap_or_default();
    assert!(
        text.contains("iris_freeze_frozen{iris_instance=\"IRIS\"} 1"),
        "no series written: {}",
        r.text()
    );
    assert_eq!(env.run_env(&["thaw"], &vars).code, 0);

    // The file's own name, taken by another user's file: root replaces it, and says so.
    fs::remove_file(&prom).unwrap();
    fs::write(&prom, "").unwrap();
    chown(&prom, Some(OTHER), Some(OTHER)).unwrap();
    let r = env.run_env(&["freeze"], &vars);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stderr
            .contains("was a file owned by uid 12345, put there by another user"),
        "{}",
        r.text()
    );
    assert!(
        fs::read_to_string(&prom)
            .unwrap()
            .contains("iris_freeze_frozen")
    );
    assert_eq!(env.run_env(&["thaw"], &vars).code, 0);

    // By a directory, which nobody can rename a file over: a warning naming it, in the log
    // and the journal.
    fs::remove_file(&prom).unwrap();
    fs::create_dir(&prom).unwrap();
    chown(&prom, Some(OTHER), Some(OTHER)).unwrap();
    let mut buf = vec![0u8; 1 << 17];
    // Only a few datagrams wait in the socket: read what the runs above sent.
    while journal.recv(&mut buf).is_ok() {}
    let r = env.run_env(&["freeze"], &vars);
    assert_eq!(r.code, 0, "{}", r.text());
    let said = "its name is taken by a directory owned by uid 12345";
    assert!(r.stderr.contains(said), "{}", r.text());
    assert!(env.log_text().contains(said), "{}", env.log_text());
    let mut in_journal = false;
    while let Ok(n) = journal.recv(&mut buf) {
        in_journal |= String::from_utf8_lossy(&buf[..n]).contains(said);
    }
    assert!(in_journal, "not in the journal");
    assert_eq!(env.run_env(&["thaw"], &vars).code, 0);
    // No temp file is left behind, whatever happened.
    let left: Vec<_> = fs::read_dir(&textfile)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp") && fs::metadata(textfile.join(n)).unwrap().uid() == 0)
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // check warns about such a directory.
    let r = env.run_env(&["check"], &vars);
    assert!(
        r.stdout
            .contains("others can create files in it (mode 1777)"),
        "{}",
        r.text()
    );
}

/// Runs iris-freeze (`exe`, where nobody reaches it) as `nobody`, as a container's exec
/// would: no HOME, no XDG_RUNTIME_DIR, and TMPDIR in the test's temp dir (never the host's
/// /tmp).
fn as_nobody(env: &Env, exe: &Path, tmpdir: &Path, args: &[&str]) -> common::Run {
    use std::os::unix::process::CommandExt;
    let mut c = std::process::Command::new(exe);
    c.args(args)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", env.bin.display()))
        .env("TMPDIR", tmpdir)
        .env("IRIS_SIM_DIR", &env.sim)
        .env("IRIS_FREEZE_ROOT", env.root())
        .env("IRIS_FREEZE_NO_SYSTEMD", "1")
        .env("IRIS_FREEZE_SYSTEMD_DIR", env.tmp.path().join("no-systemd"))
        .env("IRIS_FREEZE_JOURNAL_SOCKET", env.journal_socket())
        .env("IRIS_FREEZE_BIN_DIRS", "")
        .current_dir("/")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .uid(NOBODY)
        .gid(NOBODY);
    common::finish(common::spawn(&mut c))
}

const NOBODY: u32 = 65534;

#[test]
fn a_temp_dir_another_user_made_first_does_not_stop_the_instance_owners_freezes() {
    if !is_root() {
        return; // another user, and a directory of a third, need root
    }
    let env = Env::new();
    env.iris("IRIS");
    chmod(env.tmp.path(), 0o755);
    common::other_user::chown_tree(&env.sim, NOBODY, NOBODY);
    let exe = common::other_user::reachable_programs(&env);
    // A temp dir like /tmp, and the fallback's usual name in it taken by a third user.
    let tmpdir = dir(&env, "tmp", 0o1777, 0, 0);
    let squatted = dir(
        &env,
        &format!("tmp/iris-freeze-{NOBODY}"),
        0o755,
        OTHER,
        OTHER,
    );

    let r = as_nobody(&env, &exe, &tmpdir, &["freeze"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"), "{}", r.text());
    assert!(fs::read_dir(&squatted).unwrap().next().is_none());
    let r = as_nobody(&env, &exe, &tmpdir, &["check", "kubernetes"]);
    assert!(
        r.stdout
            .contains(&format!("{}/iris-freeze-{NOBODY}-", tmpdir.display()))
            && r.stdout.contains("iris-freeze-UID there is another user's"),
        "{}",
        r.text()
    );
    // The thaw finds the freeze's state there.
    let r = as_nobody(&env, &exe, &tmpdir, &["thaw"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stdout.contains("thawed"), "{}", r.text());
    assert!(!env.frozen("IRIS"), "{}", r.text());
}
