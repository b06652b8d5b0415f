//! `verify` on copies of the simulator's tree taken at chosen moments of a cycle (before any
//! freeze, while frozen, after the thaw, between ExternalThaw and the thaw's history line, after
//! an auto-thaw, two instances of which one was resumed early), each checked with `--root`: the
//! snapshot tells by itself whether it was cut inside our freeze. And the thaw's verdict, which
//! reads messages.log after ExternalThaw.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::verify::{add_with_tree, verdict_of, verify, verify_json};
use crate::common::{self, Env};

/// A host whose instances have a tree the simulator models (messages.log, journals, WIJ):
/// `<sim>/NAME/install/`.
fn host(names: &[&str]) -> Env {
    let env = Env::new();
    for n in names {
        add_with_tree(&env, n, &install_dir(&env, n));
    }
    env
}

pub(crate) fn install_dir(env: &Env, name: &str) -> PathBuf {
    env.sim.join(name).join("install")
}

/// `sys` (an absolute path of the host) under `root`.
pub(crate) fn under(root: &Path, sys: &Path) -> PathBuf {
    root.join(sys.strip_prefix("/").unwrap())
}

/// A snapshot of the host now, as a VM snapshot would hold it: the instances' trees and the
/// history, at their own paths under a new root.
pub(crate) fn snapshot(env: &Env, label: &str) -> PathBuf {
    let root = env.tmp.path().join("snaps").join(label);
    let mut sources: Vec<PathBuf> = fs::read_dir(&env.sim)
        .unwrap()
        .flatten()
        .map(|e| e.path().join("install"))
        .filter(|p| p.is_dir())
        .collect();
    if let Some(h) = env.history().parent().filter(|h| h.exists()) {
        sources.push(h.to_path_buf());
    }
    for src in sources {
        let dst = under(&root, &src);
        fs::create_dir_all(dst.parent().unwrap()).unwrap();
        let st = Command::new("cp")
            .arg("-a")
            .arg(&src)
            .arg(&dst)
            .status()
            .unwrap();
        assert!(st.success(), "cp -a {}", src.display());
    }
    fs::create_dir_all(&root).unwrap();
    root
}

/// Runs the simulator's `iris` as someone at a terminal would.
fn iris(env: &Env, args: &[&str]) {
    let st = Command::new(env.bin.join("iris"))
        .args(args)
        .env("IRIS_SIM_DIR", &env.sim)
        .output()
        .unwrap();
    assert!(st.status.code().is_some(), "{st:?}");
}

#[test]
fn a_snapshot_cut_while_frozen_is_consistent_and_names_the_plans_journal_file() {
    let env = host(&["IRIS"]);
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let snap = snapshot(&env, "frozen");
    assert_eq!(env.run(&["thaw"]).code, 0);

    let r = verify(&env, &snap);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stdout.contains("IRIS: consistent"), "{}", r.text());
    assert!(
        r.stdout.contains("do ^JRNRESTO"),
        "the restore steps: {}",
        r.text()
    );
    let (r, v) = verify_json(&env, &snap);
    assert_eq!(r.code, 0, "{}", r.text());
    assert_eq!(v["verdict"], "consistent", "{v}");
    let journal = v["instances"][0]["restore_from"].as_str().unwrap();
    assert!(journal.ends_with("mgr/journal/20261125.002"), "{v}");
    assert_eq!(v["instances"][0]["wij"], true, "{v}");
    assert_eq!(v["instances"][0]["journal_files"][0], journal, "{v}");
    assert_eq!(v["cycle"], env.history_events()[0]["id"], "{v}");

    // restore-plan, on the same snapshot's history, names the same file.
    let history = under(&snap, &env.history());
    let r = env.run(&[
        "restore-plan",
        "--json",
        "--history-file",
        history.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.text());
    let plan: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(plan["id"], v["cycle"], "{}", r.stdout);
    assert_eq!(
        plan["instances"][0]["restore_from"], journal,
        "{}",
        r.stdout
    );
}

#[test]
fn a_snapshot_cut_before_any_freeze_cannot_tell() {
    let env = host(&["IRIS"]);
    let snap = snapshot(&env, "before");
    let r = verify(&env, &snap);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stdout.contains("no freeze/thaw cycle"), "{}", r.text());
}

#[test]
fn a_snapshot_cut_after_the_thaw_is_not_consistent() {
    let env = host(&["IRIS"]);
    assert_eq!(env.run(&["freeze"]).code, 0);
    let frozen = snapshot(&env, "frozen");
    assert_eq!(env.run(&["thaw"]).code, 0);
    let after = snapshot(&env, "after");
    let r = verify(&env, &after);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(r.stdout.contains("cut after the thaw"), "{}", r.text());

    // Cut between ExternalThaw and the thaw's history line: the history still ends inside
    // the freeze, but messages.log has the thaw's "System resumed".
    let torn = env.tmp.path().join("snaps/torn");
    let st = Command::new("cp")
        .args(["-a"])
        .arg(&frozen)
        .arg(&torn)
        .status()
        .unwrap();
    assert!(st.success());
    let log = |root: &Path| under(root, &install_dir(&env, "IRIS").join("mgr/messages.log"));
    fs::copy(log(&after), log(&torn)).unwrap();
    let (r, v) = verify_json(&env, &torn);
    assert_eq!(r.code, 2, "{}", r.text());
    let why = verdict_of(&v, "IRIS");
    assert!(
        why.starts_with("not consistent: ") && why.contains("System resumed"),
        "{why}"
    );
}

#[test]
fn a_snapshot_cut_after_an_auto_thaw_is_not_consistent() {
    let env = host(&["IRIS"]);
    assert_eq!(env.run(&["freeze", "--max-freeze", "2"]).code, 0);
    common::assert_watchdog_thawed(&env, &["IRIS"]);
    assert!(common::wait_until(
        std::time::Duration::from_secs(60),
        || !env.history_events_of("auto-thaw").is_empty()
    ));
    let snap = snapshot(&env, "auto");
    let r = verify(&env, &snap);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(r.stdout.contains("auto-thaw"), "{}", r.text());
}

#[test]
fn of_two_instances_the_one_resumed_early_is_not_consistent() {
    let env = host(&["A", "B"]);
    assert_eq!(env.run(&["freeze"]).code, 0);
    // Someone thaws B by hand while the snapshot is being taken.
    iris(
        &env,
        &[
            "session",
            "B",
            "-U%SYS",
            "##Class(Backup.General).ExternalThaw()",
        ],
    );
    let snap = snapshot(&env, "b-early");
    let (r, v) = verify_json(&env, &snap);
    assert_eq!(r.code, 2, "{}", r.text());
    assert_eq!(verdict_of(&v, "A"), "consistent", "{v}");
    let b = verdict_of(&v, "B");
    assert!(
        b.starts_with("not consistent: ") && b.contains("System resumed"),
        "{b}"
    );
    // Each instance has its own journal file, from its own freeze.
    let files: Vec<&str> = v["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["restore_from"].as_str().unwrap())
        .collect();
    assert!(
        files[0].contains("/A/") && files[1].contains("/B/"),
        "{files:?}"
    );
    // Our thaw then finds B resumed: its verdict says so too.
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 2, "{}", r.text());
}

#[test]
fn a_missing_journal_file_or_a_log_that_leaves_the_snapshot_is_never_consistent() {
    let env = host(&["IRIS"]);
    assert_eq!(env.run(&["freeze"]).code, 0);
    let snap = snapshot(&env, "frozen");
    assert_eq!(env.run(&["thaw"]).code, 0);
    let mgr = under(&snap, &install_dir(&env, "IRIS").join("mgr"));

    // The journal file the restore starts from is not in the snapshot.
    let journal = mgr.join("journal/20261125.002");
    let kept = fs::read(&journal).unwrap();
    fs::remove_file(&journal).unwrap();
    let (r, v) = verify_json(&env, &snap);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(
        verdict_of(&v, "IRIS").contains("is not in the snapshot"),
        "{v}"
    );
    fs::write(&journal, kept).unwrap();

    // messages.log a symlink to a good copy on the host (absolute): resolved inside the
    // snapshot, where there is none, never on the host.
    let log = mgr.join("messages.log");
    let outside = env.tmp.path().join("outside/messages.log");
    fs::create_dir_all(outside.parent().unwrap()).unwrap();
    fs::rename(&log, &outside).unwrap();
    std::os::unix::fs::symlink(&outside, &log).unwrap();
    let (r, v) = verify_json(&env, &snap);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        verdict_of(&v, "IRIS").starts_with("unknown: no messages.log"),
        "{v}"
    );
    // A FIFO does not hang it.
    fs::remove_file(&log).unwrap();
    nix::unistd::mkfifo(&log, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let r = verify(&env, &snap);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stdout.contains("not a regular file"), "{}", r.text());
}

#[test]
fn the_thaw_reads_already_resumed_in_messages_log_as_not_consistent() {
    let env = host(&["IRIS"]);
    assert_eq!(env.run(&["freeze"]).code, 0);
    // Something resumed the instance and froze it again without a freeze line of its own (as
    // a cluster thaw can): ExternalThaw still answers 5, but messages.log says otherwise.
    let log = install_dir(&env, "IRIS").join("mgr/messages.log");
    let mut text = fs::read_to_string(&log).unwrap();
    text.push_str("12/07/26-02:00:13:001 (1) 0 [Utility.Event] Backup.General.ExternalThaw: Already resumed\n");
    fs::write(&log, text).unwrap();
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(r.stdout.contains("Already resumed"), "{}", r.text());
    let thaw = env.history_events_of("thaw");
    let v = thaw[0]["instances"][0]["verdict"].as_str().unwrap();
    assert!(
        v.starts_with("not consistent: ") && v.contains("messages.log"),
        "{v}"
    );

    // A clean cycle: "System resumed" after our freeze, and the verdict stays consistent.
    assert_eq!(env.run(&["freeze"]).code, 0);
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let last = fs::read_to_string(&log).unwrap();
    assert!(last.trim_end().ends_with("System resumed"), "{last}");
}

#[test]
fn what_the_snapshot_holds_is_shown_escaped() {
    let env = host(&["IRIS"]);
    assert_eq!(env.run(&["freeze"]).code, 0);
    let snap = snapshot(&env, "frozen");
    assert_eq!(env.run(&["thaw"]).code, 0);
    let log = under(&snap, &install_dir(&env, "IRIS").join("mgr/messages.log"));
    let mut text = fs::read_to_string(&log).unwrap();
    text.push_str("x System resumed \x1b]0;owned\x07\rFAKE: consistent\n");
    fs::write(&log, text).unwrap();
    let r = verify(&env, &snap);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(
        !r.stdout.contains('\x1b') && !r.stdout.contains('\r'),
        "{:?}",
        r.stdout
    );
    assert!(r.stdout.contains("\\x1b"), "{}", r.text());
    // --json keeps it exact, escaped by JSON itself.
    let (_, v) = verify_json(&env, &snap);
    let resumed = v["instances"][0]["messages_log"]["resumed"]
        .as_str()
        .unwrap();
    assert!(resumed.contains('\x1b'), "{resumed:?}");
}

#[test]
fn a_cache_instance_is_verified_from_its_cconsole_log() {
    let env = Env::new();
    let dir = install_dir(&env, "CACHE");
    fs::create_dir_all(dir.join("mgr")).unwrap();
    env.add("CACHE", &["product=", &format!("dir={}/", dir.display())]);
    assert_eq!(env.run(&["freeze"]).code, 0);
    assert!(dir.join("mgr/cconsole.log").exists());
    assert!(dir.join("mgr/CACHE.WIJ").exists());
    let snap = snapshot(&env, "frozen");
    assert_eq!(env.run(&["thaw"]).code, 0);
    let (r, v) = verify_json(&env, &snap);
    assert_eq!(r.code, 0, "{}", r.text());
    assert_eq!(verdict_of(&v, "CACHE"), "consistent", "{v}");
    assert_eq!(v["instances"][0]["wij"], true, "{v}");
}

/// strace, where it runs; without it the test prints a note and passes, unless
/// IRIS_FREEZE_TEST_STRACE=1 (CI installs it) makes its absence a failure.
fn strace() -> Option<PathBuf> {
    let found = ["/usr/bin/strace", "/bin/strace"]
        .iter()
        .map(PathBuf::from)
        .find(|p| {
            Command::new(p)
                .args(["-o", "/dev/null", "true"])
                .status()
                .is_ok_and(|s| s.success())
        });
    if found.is_none() {
        assert!(
            std::env::var("IRIS_FREEZE_TEST_STRACE").as_deref() != Ok("1"),
            "strace does not run here and IRIS_FREEZE_TEST_STRACE=1"
        );
        eprintln!("note: strace does not run here: the thaw's sync is not traced");
    }
    found
}

/// The thaw's history line is synced to disk (fdatasync on the file it was written to) after
/// ExternalThaw and before the thaw exits, as the freeze's is: a snapshot cut after the thaw
/// holds it, and `verify` says "cut after the thaw".
#[test]
fn the_thaws_history_line_is_synced_after_externalthaw_before_the_thaw_exits() {
    let env = host(&["IRIS"]);
    assert_eq!(env.run(&["freeze"]).code, 0);
    let Some(strace) = strace() else {
        assert_eq!(env.run(&["thaw"]).code, 0);
        assert_eq!(env.history_events_of("thaw").len(), 1);
        return;
    };
    let out = env.tmp.path().join("thaw.strace");
    let args = [
        "-f",
        "-s",
        "65536",
        "-e",
        "trace=execve,write,fdatasync",
        "-o",
        out.to_str().unwrap(),
        common::BIN,
        "thaw",
    ];
    let r = env.run_program(&strace, &args, &[]);
    assert_eq!(r.code, 0, "{}", r.text());
    let trace = fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = trace.lines().collect();
    let at = |what: &dyn Fn(&str) -> bool| lines.iter().position(|l| what(l));
    let thawed = at(&|l: &str| l.contains("execve(") && l.contains("ExternalThaw()"))
        .unwrap_or_else(|| panic!("no ExternalThaw in\n{trace}"));
    let written = at(&|l: &str| l.contains("write(") && l.contains(r#"\"event\":\"thaw\""#))
        .unwrap_or_else(|| panic!("no thaw line written in\n{trace}"));
    // `PID write(FD, ...`: that process syncs that descriptor after writing.
    let (pid, rest) = lines[written].split_once(' ').unwrap();
    let fd = rest
        .trim_start()
        .trim_start_matches("write(")
        .split(',')
        .next()
        .unwrap();
    let synced = lines[written..].iter().any(|l| {
        l.split_once(' ').is_some_and(|(p, call)| {
            p == pid && call.trim_start().starts_with(&format!("fdatasync({fd})"))
        })
    });
    assert!(thawed < written, "the line before ExternalThaw:\n{trace}");
    assert!(synced, "the thaw's line is not synced:\n{trace}");
}
