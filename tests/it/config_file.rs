//! The config file and the values of settings, end to end: a bad config file never stops a thaw,
//! `status` or the watchdog; an empty instance name is a usage error; range and type messages
//! state the true bounds and where the value came from; the file is opened safely and its
//! contents never appear in an error.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::PathBuf;
use std::time::Duration;

use crate::common::{self, Env, Run, wait_until};

fn chmod(p: &std::path::Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

/// A freeze with a good config file.
fn frozen_once(env: &Env) {
    env.config("# defaults\n");
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
}

fn assert_thawed_with_warning(env: &Env, r: &Run, why: &str) {
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"), "{}", r.text());
    assert!(r.stderr.contains("warning"), "{}", r.text());
    assert!(r.stderr.contains(why), "{}", r.text());
    // The log keeps the warning too (a hook's stderr is often nobody's).
    let log = env.log_text();
    let last = log.lines().rev().find(|l| l.contains("event=config"));
    assert!(last.is_some_and(|l| l.contains(why)), "{log}");
}

#[test]
fn a_bad_config_file_never_stops_a_thaw_or_status() {
    let env = Env::new();
    env.iris("IRIS");

    // An unknown key (a typo).
    frozen_once(&env);
    env.config("timout = 20\n");
    let r = env.run(&["thaw"]);
    assert_thawed_with_warning(&env, &r, "timout");

    // A file root does not own alone: group-writable.
    frozen_once(&env);
    let p = env.config("timeout = 20\n");
    chmod(&p, 0o664);
    let r = env.run(&["status"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stderr.contains("chmod go-w"), "{}", r.text());
    assert!(r.stdout.contains("IRIS"), "{}", r.text());
    let r = env.run(&["thaw"]);
    assert_thawed_with_warning(&env, &r, "chmod go-w");

    // A credentials file others can read: thaw goes on without credentials.
    frozen_once(&env);
    let creds = env.tmp.path().join("creds");
    fs::write(&creds, "backup\nsecret\n").unwrap();
    chmod(&creds, 0o644);
    env.config(&format!("credentials_file = \"{}\"\n", creds.display()));
    let r = env.run(&["thaw"]);
    assert_thawed_with_warning(&env, &r, "chmod 600");

    // A freeze, which has frozen nothing yet, still refuses it.
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(!env.frozen("IRIS"));
}

#[test]
fn a_thaw_with_a_half_bad_config_still_finds_the_recorded_state() {
    let env = Env::new();
    env.iris("IRIS");
    let state = env.tmp.path().join("state-from-config");
    env.config(&format!("state_dir = \"{}\"\n", state.display()));
    let mut c = env.command(std::path::Path::new(common::BIN));
    c.env_remove("IRIS_FREEZE_STATE_DIR").arg("freeze");
    assert!(c.output().unwrap().status.success());
    assert!(env.frozen("IRIS"));
    env.config(&format!(
        "state_dir = \"{}\"\ntimeout = \"abc\"\n",
        state.display()
    ));
    let mut c = env.command(std::path::Path::new(common::BIN));
    c.env_remove("IRIS_FREEZE_STATE_DIR").arg("thaw");
    let out = c.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!env.frozen("IRIS"), "{stderr}");
    assert!(
        stderr.contains("must be a number of seconds, e.g. 30"),
        "{stderr}"
    );
}

#[test]
fn the_watchdog_thaws_whatever_the_config_file_says() {
    let env = Env::new();
    env.iris("IRIS");
    frozen_once(&env);
    let token = env.state_json()["watchdog"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    // The config turns bad after the freeze; a watchdog starting now must still thaw.
    env.config("instance = [\"IRIS\"]\n");
    let now = chrono::Local::now().timestamp_millis().to_string();
    let log = env.log.display().to_string();
    let r = env.run(&[
        "__watchdog",
        "--token",
        &token,
        "--deadline-ms",
        &now,
        "--log-file",
        &log,
    ]);
    assert!(
        wait_until(Duration::from_secs(20), || !env.frozen("IRIS")),
        "{}\n{}",
        r.text(),
        env.log_text()
    );
    // Its stderr is the journal at best: the warning goes to the log too, after the thaw.
    assert!(
        wait_until(Duration::from_secs(5), || env
            .log_text()
            .lines()
            .any(|l| l.contains("cmd=watchdog") && l.contains("event=config"))),
        "{}",
        env.log_text()
    );
}

#[test]
fn an_empty_instance_name_is_a_usage_error() {
    let env = Env::new();
    env.iris("A").iris("B");
    let none_frozen = |r: &Run| {
        assert_eq!(r.code, 1, "{}", r.text());
        assert!(r.stderr.contains("empty"), "{}", r.text());
        assert!(!env.frozen("A") && !env.frozen("B"), "{}", r.text());
        assert_eq!(env.calls("A", "freeze") + env.calls("B", "freeze"), 0);
    };
    none_frozen(&env.run(&["freeze", "-i", ""]));
    none_frozen(&env.run(&["dry-run", "--instance", ""]));
    none_frozen(&env.run(&["thaw", "-i", ""]));
    none_frozen(&env.run_env(&["freeze"], &[("IRIS_FREEZE_INSTANCES", ",")]));
    none_frozen(&env.run_env(&["freeze"], &[("IRIS_FREEZE_INSTANCES", "A,,B")]));
    none_frozen(&env.run_env(&["freeze", "-v"], &[("IRIS_FREEZE_INSTANCES", "A,")]));
    // The hook path reads the environment without the argument parser.
    let hook = env.hook("pre-freeze-script");
    none_frozen(&env.run_program(&hook, &["freeze"], &[("IRIS_FREEZE_INSTANCES", ",")]));
    none_frozen(&env.run_env(&["pre-script", "id"], &[("IRIS_FREEZE_INSTANCES", ",")]));
    env.config("instances = [\"\"]\n");
    none_frozen(&env.run(&["freeze"]));
    env.config("instances = []\n");
    none_frozen(&env.run(&["freeze"]));
    fs::remove_file(env.root().join("etc/iris-freeze.toml")).unwrap();

    // A variable present but empty means "not set"; hook runners' empty arguments are ignored.
    let r = env.run_env(&["freeze", "", ""], &[("IRIS_FREEZE_INSTANCES", "")]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("A") && env.frozen("B"));
    let r = env.run_env(&["post-script", "id"], &[("IRIS_FREEZE_INSTANCES", "")]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("A") && !env.frozen("B"));
}

#[test]
fn range_and_type_messages_state_the_true_bounds_and_the_source() {
    let env = Env::new();
    env.iris("IRIS");
    let refused = |r: &Run, want: &str| {
        assert_eq!(r.code, 1, "{}", r.text());
        assert!(r.stderr.contains(want), "wanted {want:?}\n{}", r.text());
        assert!(!env.frozen("IRIS"));
    };
    let r = env.run(&["freeze", "--timeout", "0"]);
    refused(&r, "--timeout must be more than 0 and at most 3600 seconds");
    // Through the argument parser (more than one argument) and without it (a bare `freeze`).
    let r = env.run_env(&["freeze", "-v"], &[("IRIS_FREEZE_TIMEOUT", "0")]);
    refused(
        &r,
        "IRIS_FREEZE_TIMEOUT must be more than 0 and at most 3600 seconds",
    );
    let r = env.run_env(&["freeze"], &[("IRIS_FREEZE_MAX_FREEZE", "9999")]);
    refused(
        &r,
        "IRIS_FREEZE_MAX_FREEZE must be more than 0 and below 600 seconds",
    );
    assert!(!r.stderr.contains("3600"), "{}", r.text());
    let path = env.config("timeout = \"abc\"\n");
    let r = env.run(&["freeze"]);
    refused(
        &r,
        &format!(
            "timeout in {} must be a number of seconds, e.g. 30",
            path.display()
        ),
    );
    assert!(!r.stderr.contains("f64"), "{}", r.text());
    env.config("max_freeze = 700\n");
    let r = env.run(&["freeze"]);
    refused(&r, &format!("max_freeze in {}", path.display()));
}

/// A root-only file holding a secret, as /etc/shadow does.
fn secret_file(env: &Env) -> PathBuf {
    let dir = env.tmp.path().join("secret");
    fs::create_dir_all(&dir).unwrap();
    let p = dir.join("shadow");
    fs::write(&p, "root:$6$S3CR3TH4SH$xyz:19000:0:99999:7:::\n").unwrap();
    chmod(&p, 0o600);
    p
}

#[test]
fn a_config_symlink_is_refused_and_file_contents_never_reach_an_error() {
    let env = Env::new();
    env.iris("IRIS");
    let secret = secret_file(&env);
    let config = env.root().join("etc/iris-freeze.toml");
    fs::create_dir_all(config.parent().unwrap()).unwrap();
    symlink(&secret, &config).unwrap();
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stderr.contains("symlink"), "{}", r.text());
    assert!(!r.text().contains("S3CR3T"), "{}", r.text());
    assert!(!env.frozen("IRIS"));
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!r.text().contains("S3CR3T"), "{}", r.text());
    let r = env.run(&["check"]);
    assert!(!r.text().contains("S3CR3T"), "{}", r.text());

    // A syntax error names the line and column, not the line's text.
    fs::remove_file(&config).unwrap();
    env.config("timeout = 30\nS3CR3T line\n");
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stderr.contains("line 2, column"), "{}", r.text());
    assert!(!r.text().contains("S3CR3T"), "{}", r.text());
    assert!(!env.frozen("IRIS"));
}

#[test]
fn a_relative_config_path_is_read_and_handed_to_the_watchdog_whole() {
    let env = Env::new();
    env.iris("IRIS");
    let path = env.config("timeout = 20\n");
    let mut c = env.command(std::path::Path::new(common::BIN));
    c.current_dir(env.root())
        .args(["--config", "etc/../etc/iris-freeze.toml", "freeze"]);
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(env.log_text().contains("timeout 20s"), "{}", env.log_text());
    // The watchdog runs elsewhere (under systemd, in /): it gets the file by absolute path.
    let pid = env.watchdog_pid().unwrap();
    let argv = fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let argv: Vec<&[u8]> = argv.split(|b| *b == 0).collect();
    let at = argv.iter().position(|a| *a == b"--config").unwrap();
    let given = PathBuf::from(String::from_utf8_lossy(argv[at + 1]).into_owned());
    assert!(given.is_absolute(), "{given:?}");
    assert_eq!(fs::canonicalize(&given).unwrap(), path);
    assert_eq!(env.run(&["thaw"]).code, 0);
}

#[test]
fn a_config_file_named_and_missing_is_warned_about_the_default_one_is_not() {
    let env = Env::new();
    env.iris("IRIS");
    let missing = env.tmp.path().join("typo.toml");
    let m = missing.to_str().unwrap();
    let said = format!("warning: the config file {m} (--config) does not exist");
    let r = env.run(&["history", "--config", m]);
    assert!(r.stderr.contains(&said), "{}", r.text());
    let r = env.run_env(&["history"], &[("IRIS_FREEZE_CONFIG", m)]);
    let said = format!("warning: the config file {m} (IRIS_FREEZE_CONFIG) does not exist");
    assert!(r.stderr.contains(&said), "{}", r.text());
    // A freeze and thaw hook with it: warned and logged, and the defaults in use.
    let r = env.run_env(&["freeze"], &[("IRIS_FREEZE_CONFIG", m)]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stderr.contains(&said), "{}", r.text());
    let r = env.run_env(&["thaw"], &[("IRIS_FREEZE_CONFIG", m)]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        env.log_text().contains("event=config"),
        "{}",
        env.log_text()
    );

    // The default path missing: silent, and nothing in the log (the watchdog gets the path by
    // --config from the freeze, and is silent about it too).
    let env = Env::new();
    env.iris("IRIS");
    for args in [&["history"][..], &["freeze"], &["status"], &["thaw"]] {
        let r = env.run(args);
        assert!(
            !r.stderr.contains("does not exist"),
            "{args:?}: {}",
            r.text()
        );
    }
    assert!(
        !env.log_text().contains("event=config"),
        "{}",
        env.log_text()
    );
}
