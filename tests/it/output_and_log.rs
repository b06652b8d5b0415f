//! What iris-freeze writes and reads besides IRIS: stderr that cannot be written, a log path that
//! is not a plain file of root's, control bytes in IRIS output, and the credentials file.

use std::fs;
use std::os::fd::OwnedFd;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::common::{self, BIN, Env, Run, finish};

/// The two ways stderr stops taking writes.
#[derive(Debug, Clone, Copy)]
enum DeadStderr {
    /// `2>/dev/full`: every write fails with ENOSPC.
    Full,
    /// A pipe whose reader has gone: every write fails with EPIPE.
    ClosedPipe,
}

const DEAD: [DeadStderr; 2] = [DeadStderr::Full, DeadStderr::ClosedPipe];

/// Runs iris-freeze with `stderr` dead. `finish` reports a death by signal as exit -1.
fn run_dead_stderr(env: &Env, args: &[&str], stderr: DeadStderr) -> Run {
    let err: Stdio = match stderr {
        DeadStderr::Full => fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
            .into(),
        DeadStderr::ClosedPipe => {
            let (read, write): (OwnedFd, OwnedFd) = nix::unistd::pipe().unwrap();
            drop(read);
            write.into()
        }
    };
    let mut c = env.command(Path::new(BIN));
    c.args(args).stdout(Stdio::piped()).stderr(err);
    finish(c.spawn().unwrap())
}

/// The `event=end` line's exit code, if the run got that far.
fn logged_end(log: &str) -> Option<String> {
    log.lines()
        .rev()
        .find(|l| l.contains(" event=end "))
        .and_then(|l| l.split(' ').find(|f| f.starts_with("rc=")))
        .map(|f| f["rc=".len()..].to_string())
}

#[test]
fn a_failed_freeze_rolls_back_whatever_stderr_does() {
    for dead in DEAD {
        let env = Env::new();
        env.iris("A").iris("B");
        env.fault("B", "freeze=fail");
        let r = run_dead_stderr(&env, &["freeze"], dead);
        assert_eq!(r.code, 1, "{dead:?}: {}", r.text());
        assert!(
            !env.frozen("A") && !env.frozen("B"),
            "{dead:?}: left frozen"
        );
        let log = env.log_text();
        assert!(log.contains("inst=A event=thawed"), "{dead:?}:\n{log}");
        assert_eq!(logged_end(&log).as_deref(), Some("1"), "{dead:?}:\n{log}");
    }
}

#[test]
fn a_failing_thaw_still_runs_the_emergency_resume_whatever_stderr_does() {
    for dead in DEAD {
        let env = Env::new();
        env.iris("IRIS");
        let r = env.run(&["freeze"]);
        assert_eq!(r.code, 0, "{}", r.text());
        env.fault("IRIS", "thaw=fail");
        let r = run_dead_stderr(&env, &["thaw"], dead);
        // The emergency resume thawed it: the thaw succeeds, as with a working stderr.
        assert_eq!(r.code, 0, "{dead:?}: {}", r.text());
        assert!(!env.frozen("IRIS"), "{dead:?}: left frozen");
        assert_eq!(
            env.calls("IRIS", "stat"),
            1,
            "{dead:?}: no emergency resume"
        );
        let log = env.log_text();
        assert!(log.contains("event=emergency"), "{dead:?}:\n{log}");
        assert_eq!(logged_end(&log).as_deref(), Some("0"), "{dead:?}:\n{log}");
    }
}

#[test]
fn a_verbose_freeze_succeeds_whatever_stderr_does() {
    for dead in DEAD {
        let env = Env::new();
        env.iris("IRIS");
        let r = run_dead_stderr(&env, &["freeze", "-v"], dead);
        assert_eq!(r.code, 0, "{dead:?}: {}", r.text());
        assert!(env.frozen("IRIS"), "{dead:?}");
        assert!(r.stdout.contains("frozen: IRIS"), "{dead:?}: {}", r.text());
        let log = env.log_text();
        assert!(log.contains("inst=IRIS event=frozen"), "{dead:?}:\n{log}");
        assert_eq!(logged_end(&log).as_deref(), Some("0"), "{dead:?}:\n{log}");
        let r = env.run(&["thaw"]);
        assert_eq!(r.code, 0, "{}", r.text());
    }
}

/// Runs a freeze that must finish within 20 s (a hang fails the test instead of blocking it).
fn freeze_promptly(env: &Env) -> Run {
    let mut child = env.spawn(&["freeze"]);
    let done = common::wait_until(Duration::from_secs(20), || {
        child.try_wait().unwrap().is_some()
    });
    if !done {
        let _ = child.kill();
        let _ = child.wait();
        // It may have frozen and armed a watchdog before hanging.
        let _ = env.run_env(&["thaw"], &[("IRIS_FREEZE_LOG_FILE", "/dev/null")]);
        panic!("the freeze still runs after 20 s");
    }
    finish(child)
}

#[test]
fn a_fifo_as_log_is_skipped_with_a_warning_and_never_blocks() {
    let env = Env::new();
    env.iris("IRIS");
    nix::unistd::mkfifo(&env.log, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let r = freeze_promptly(&env);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    assert!(r.stderr.contains("cannot open the log"), "{}", r.text());
    assert!(r.stderr.contains("FIFO"), "{}", r.text());
    assert_eq!(
        r.stderr.matches("cannot open the log").count(),
        1,
        "{}",
        r.text()
    );
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
}

#[test]
fn a_symlinked_log_is_refused_and_its_target_left_alone() {
    let env = Env::new();
    env.iris("IRIS");
    let target = env.tmp.path().join("precious");
    fs::write(&target, "keep me\n").unwrap();
    symlink(&target, &env.log).unwrap();
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    assert!(r.stderr.contains("cannot open the log"), "{}", r.text());
    assert!(r.stderr.contains("symlink"), "{}", r.text());
    assert_eq!(fs::read_to_string(&target).unwrap(), "keep me\n");
    assert_eq!(env.run(&["thaw"]).code, 0);
    assert_eq!(fs::read_to_string(&target).unwrap(), "keep me\n");
}

#[test]
fn a_log_in_another_users_directory_is_refused() {
    let env = Env::new();
    env.iris("IRIS");
    let dir = env.tmp.path().join("nobody");
    fs::create_dir(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    nix::unistd::chown(&dir, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    let log = dir.join("freeze.log");
    let log_env = log.to_str().unwrap();
    let r = env.run_env(&["freeze"], &[("IRIS_FREEZE_LOG_FILE", log_env)]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    assert!(r.stderr.contains("cannot open the log"), "{}", r.text());
    assert!(r.stderr.contains("uid 65534"), "{}", r.text());
    assert!(
        !log.exists(),
        "root wrote into a directory uid 65534 controls"
    );
    assert_eq!(env.run(&["thaw"]).code, 0);
}

#[test]
fn control_bytes_from_iris_never_reach_the_log() {
    let env = Env::new();
    env.iris("IRIS");
    env.fault("IRIS", "freeze=binary");
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let log = fs::read(&env.log).unwrap();
    let bad: Vec<u8> = log
        .iter()
        .copied()
        .filter(|&b| (b < 0x20 && b != b'\n') || b == 0x7f)
        .collect();
    assert!(bad.is_empty(), "control bytes {bad:x?} in the log");
    let text = String::from_utf8(log).unwrap();
    // doc/restore.md's grep still finds the journal file.
    assert!(
        text.lines().any(|l| l.contains("Start a journal restore")),
        "{text}"
    );
    // One event, one line: each starts with our stamp and pid, and the line IRIS printed with
    // a carriage return in it is one `output` line (1 + the 7 lines of a normal freeze, after
    // the freeze's own event line).
    let pid = format!("pid={}", first_pid(&text));
    for l in text.lines() {
        assert_eq!(l.split(' ').nth(1), Some(pid.as_str()), "{l}");
    }
    let outputs = text
        .lines()
        .skip_while(|l| !l.contains("inst=IRIS event=frozen "))
        .skip(1)
        .take_while(|l| l.contains("inst=IRIS event=output "))
        .count();
    assert_eq!(outputs, 8, "{text}");
    assert!(
        text.contains(r"\x00\x00binary\x01\x07\x08 output\x1b[31m"),
        "{text}"
    );
    assert!(text.contains(r"\\ back\r2026-11-25T"), "{text}");
    assert_eq!(env.run(&["thaw"]).code, 0);
}

fn first_pid(log: &str) -> String {
    log.split(' ')
        .find_map(|f| f.strip_prefix("pid="))
        .unwrap()
        .to_string()
}

const PASSWORD: &str = "Sw0rdf1sh<ERROR>";

fn credentials_file(env: &Env, path: &Path) -> PathBuf {
    fs::write(path, format!("backup\n{PASSWORD}\n")).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
    env.config(&format!("credentials_file = \"{}\"\n", path.display()));
    path.to_path_buf()
}

#[test]
fn a_symlinked_credentials_file_is_refused_without_showing_it() {
    let env = Env::new();
    env.iris("IRIS");
    let real = credentials_file(&env, &env.tmp.path().join("root-only"));
    let link = env.tmp.path().join("creds-link");
    symlink(&real, &link).unwrap();
    env.config(&format!("credentials_file = \"{}\"\n", link.display()));
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stderr.contains("symlink"), "{}", r.text());
    assert!(!env.frozen("IRIS"));
    for text in [r.text(), env.log_text()] {
        assert!(!text.contains("backup"), "the file's user leaked:\n{text}");
        assert!(!text.contains(PASSWORD), "the password leaked:\n{text}");
    }
}

#[test]
fn a_session_echoing_the_password_never_shows_it() {
    let env = Env::new();
    env.add("IRIS", &["product=IRIS"]);
    for call in ["check", "freeze", "thaw"] {
        env.fault("IRIS", &format!("{call}=echo-input"));
    }
    credentials_file(&env, &env.tmp.path().join("iris.credentials"));
    // -vv shows what IRIS printed on stderr too.
    let r = env.run(&["freeze", "-vv"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    let r2 = env.run(&["thaw", "-vv"]);
    assert_eq!(r2.code, 0, "{}", r2.text());
    let log = env.log_text();
    // The echo did reach the log, hidden.
    assert!(log.contains("event=output rc=- elapsed=- | ***"), "{log}");
    for text in [r.text(), r2.text(), log] {
        assert!(!text.contains(PASSWORD), "the password leaked:\n{text}");
    }
}

/// A credentials file with one line has no password line: its only line is likely the
/// password, so it must never be quoted (as a user name or otherwise) anywhere.
#[test]
fn a_one_line_credentials_file_is_refused_without_quoting_its_line() {
    const SECRET: &str = "Tr0ub4dor-one-line-secret";
    let env = Env::new();
    env.iris("IRIS");
    // A session that asks for a login is what used to quote the user in the error.
    for call in ["check", "freeze", "thaw"] {
        env.fault("IRIS", &format!("{call}=login"));
    }
    let path = env.tmp.path().join("iris.credentials");
    fs::write(&path, format!("{SECRET}\n")).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    env.config(&format!("credentials_file = \"{}\"\n", path.display()));
    let journal = std::os::unix::net::UnixDatagram::bind(env.journal_socket()).unwrap();
    journal.set_nonblocking(true).unwrap();

    let freeze = env.run(&["freeze", "-vv"]);
    assert_eq!(freeze.code, 1, "{}", freeze.text());
    assert!(!env.frozen("IRIS"));
    assert!(
        freeze.stderr.contains("user on line 1, password on line 2"),
        "the error does not name the format:\n{}",
        freeze.text()
    );
    let check = env.run(&["check"]);
    assert!(
        check.stdout.contains("user on line 1, password on line 2"),
        "{}",
        check.text()
    );
    let thaw = env.run(&["thaw", "-vv"]);

    let mut journal_text = String::new();
    let mut buf = vec![0u8; 1 << 17];
    while let Ok(n) = journal.recv(&mut buf) {
        journal_text.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let history = fs::read_to_string(env.history()).unwrap_or_default();
    for (what, text) in [
        ("freeze", freeze.text()),
        ("check", check.text()),
        ("thaw", thaw.text()),
        ("log", env.log_text()),
        ("history", history),
        ("journal", journal_text),
    ] {
        assert!(
            !text.contains(SECRET),
            "the secret leaked in the {what}:\n{text}"
        );
    }
}
