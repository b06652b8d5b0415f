//! Hook conventions of every platform, the config file, credentials, mirrors, dry-run, the Azure
//! deadline and the ExternalFreeze options, end to end against the simulator.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::PathBuf;

use crate::common::{BIN, Env};

fn exprs(env: &Env) -> String {
    fs::read_to_string(env.sim.join("exprs.log")).unwrap_or_default()
}

/// A link to the binary at `<tmp>/<dir>/<name>`.
fn link_in(env: &Env, dir: &str, name: &str) -> PathBuf {
    let d = env.tmp.path().join(dir);
    fs::create_dir_all(&d).unwrap();
    let p = d.join(name);
    if !p.exists() {
        symlink(BIN, &p).unwrap();
    }
    p
}

#[test]
fn every_platforms_hook_names_and_verbs() {
    // (directory, program name, arguments, frozen afterwards)
    let table: &[(&str, &str, &[&str], bool)] = &[
        ("azure", "prescript.sh", &["", ""], true),
        ("azure", "postScript.sh", &["", ""], false),
        ("sbin", "iris-freeze", &["azure-pre", "", ""], true),
        ("sbin", "iris-freeze", &["azure-post", "", ""], false),
        ("sbin", "pre-freeze-script", &["freeze", ""], true),
        ("sbin", "post-thaw-script", &["thaw", ""], false),
        (
            "backupScripts.d",
            "50-iris-freeze",
            &["freeze", "custom scriptArg"],
            true,
        ),
        (
            "backupScripts.d",
            "50-iris-freeze",
            &["freezeFail", ""],
            false,
        ),
        ("backupScripts.d", "50-iris-freeze", &["freeze"], true),
        ("backupScripts.d", "50-iris-freeze", &["thaw"], false),
        ("qemu", "fsfreeze-hook", &["freeze"], true),
        ("qemu", "fsfreeze-hook", &["thaw"], false),
        ("snapshots", "pre.sh", &["0/1,0/2"], true),
        ("snapshots", "post.sh", &["0/1,0/2"], false),
        ("sbin", "pre_freeze", &[], true),
        ("sbin", "post_thaw", &[], false),
        (
            "sbin",
            "iris-freeze",
            &["pre-script", "5e1d0bd3-4f0b"],
            true,
        ),
        ("sbin", "iris-freeze", &["post-script", "None"], false),
        ("scripts", "customscript.sh", &["--pre"], true),
        ("scripts", "customscript.sh", &["--post"], false),
        ("sbin", "iris-freeze", &["asr", "--pre"], true),
        ("sbin", "iris-freeze", &["asr", "--post"], false),
        ("sbin", "iris-freeze", &["FREEZE"], true),
        ("sbin", "iris-freeze", &["freezefail"], false),
    ];
    let env = Env::new();
    env.iris("IRIS");
    for (dir, name, args, frozen) in table {
        let prog = link_in(&env, dir, name);
        let r = env.run_program(&prog, args, &[]);
        assert_eq!(r.code, 0, "{dir}/{name} {args:?}: {}", r.text());
        assert_eq!(env.frozen("IRIS"), *frozen, "{dir}/{name} {args:?}");
    }
    // qemu-ga calls thaw even when nothing was frozen.
    let r = env.run_program(&link_in(&env, "qemu", "fsfreeze-hook"), &["thaw"], &[]);
    assert_eq!(r.code, 0, "{}", r.text());
    // An unknown verb is a usage error (exit 1), never a shell's 126/127.
    let r = env.run_program(&link_in(&env, "qemu", "fsfreeze-hook"), &["bogus"], &[]);
    assert_eq!(r.code, 1, "{}", r.text());
}

#[test]
fn aws_dry_run_changes_nothing_and_says_what_would_happen() {
    let env = Env::new();
    env.iris("IRIS").cache("CACHE");
    let r = env.run(&["dry-run", "5e1d0bd3"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout.contains("would freeze IRIS, CACHE"),
        "{}",
        r.text()
    );
    assert!(!env.frozen("IRIS") && !env.frozen("CACHE"));
    assert_eq!(env.calls("IRIS", "freeze"), 0);
    assert!(!env.state_file().exists());
    // The person's form, with options.
    let r = env.run(&["dry-run", "--instance", "CACHE"]);
    assert_eq!(r.code, 0, "{}", r.text());
    env.freeze_externally("CACHE");
    assert_eq!(env.run(&["dry-run"]).code, 2);
    env.fault("IRIS", "check=login");
    let r = env.run(&["dry-run"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stdout.contains("OS authentication"), "{}", r.text());
    assert!(!env.frozen("IRIS"));
}

#[test]
fn the_config_file_supplies_what_flags_and_env_do_not() {
    let env = Env::new();
    env.iris("A").iris("B").iris("C");
    let log = env.tmp.path().join("from-config.log");
    env.config(&format!(
        "# the DBA's settings\ninstances = [\"A\"]\nfreeze_log = \"{}\"\ntimeout = 20\n",
        log.display()
    ));
    // The harness sets IRIS_FREEZE_LOG_FILE; without it the config's freeze_log applies.
    let mut c = env.command(std::path::Path::new(BIN));
    c.env_remove("IRIS_FREEZE_LOG_FILE").arg("freeze");
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(env.frozen("A") && !env.frozen("B"));
    assert!(
        fs::read_to_string(&log)
            .unwrap()
            .contains("inst=A event=frozen")
    );
    assert!(fs::read_to_string(&log).unwrap().contains("timeout 20s"));
    assert_eq!(env.run(&["thaw"]).code, 0);
    assert!(!env.frozen("A"));
    // The file's instances pick what freeze freezes, not what thaw thaws: with nothing
    // recorded, another tool's freeze of A is left alone (and named: exit 2).
    env.freeze_externally("A");
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(r.stdout.contains("nothing of ours to thaw"), "{}", r.text());
    assert!(env.frozen("A"));
    env.thaw_externally("A");

    // The environment beats the file, and a flag beats the environment.
    let r = env.run_env(&["freeze"], &[("IRIS_FREEZE_INSTANCES", "B")]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("B") && !env.frozen("A"));
    assert_eq!(env.run(&["thaw"]).code, 0);
    let r = env.run_env(&["freeze", "-i", "C"], &[("IRIS_FREEZE_INSTANCES", "B")]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        env.frozen("C") && !env.frozen("B"),
        "{}\n{}",
        r.text(),
        env.log_text()
    );
    assert_eq!(env.run(&["thaw"]).code, 0);
}

#[test]
fn a_bad_config_file_is_an_error_that_names_the_problem() {
    let env = Env::new();
    env.iris("IRIS");
    env.config("instance = [\"IRIS\"]\n");
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stderr.contains("unknown key `instance`"), "{}", r.text());
    env.config("max_freeze = 700\n");
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stderr.contains("below 600"), "{}", r.text());
    env.config("timeout = \"soon\"\n");
    assert_eq!(env.run(&["freeze"]).code, 1);
    assert!(!env.frozen("IRIS"));
    if nix::unistd::geteuid().is_root() {
        let p = env.config("instances = [\"IRIS\"]\n");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o666)).unwrap();
        let r = env.run(&["freeze"]);
        assert_eq!(r.code, 1, "{}", r.text());
        assert!(r.stderr.contains("chmod go-w"), "{}", r.text());
    }
    // A missing file is fine.
    fs::remove_file(env.root().join("etc/iris-freeze.toml")).unwrap();
    assert_eq!(env.run(&["freeze"]).code, 0);
}

fn credentials(env: &Env, text: &str, mode: u32) -> PathBuf {
    let p = env.tmp.path().join("iris.credentials");
    fs::write(&p, text).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    env.config(&format!("credentials_file = \"{}\"\n", p.display()));
    p
}

#[test]
fn credentials_answer_the_login_prompt_and_never_leak() {
    let env = Env::new();
    env.add(
        "IRIS",
        &["product=IRIS", "user=backup", "password=Tr0ub4dor&3"],
    );
    for call in ["check", "freeze", "thaw"] {
        env.fault("IRIS", &format!("{call}=login"));
    }
    credentials(&env, "backup\nTr0ub4dor&3\n", 0o600);
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    let r2 = env.run(&["thaw"]);
    assert_eq!(r2.code, 0, "{}", r2.text());
    assert!(!env.frozen("IRIS"));
    for text in [r.text(), r2.text(), env.log_text(), exprs(&env)] {
        assert!(!text.contains("Tr0ub4dor"), "the password leaked:\n{text}");
    }
}

#[test]
fn wrong_or_unsafe_credentials_are_refused_with_the_fix() {
    let env = Env::new();
    env.add("IRIS", &["product=IRIS", "user=backup", "password=right"]);
    env.fault("IRIS", "check=login");
    credentials(&env, "backup\nwrong\n", 0o600);
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        r.stderr.contains("refused the login of user \"backup\""),
        "{}",
        r.text()
    );
    assert!(!r.text().contains("wrong"));
    credentials(&env, "backup\nright\n", 0o644);
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stderr.contains("chmod 600"), "{}", r.text());
    assert!(!env.frozen("IRIS"));
}

#[test]
fn a_mirror_primary_is_frozen_with_a_warning_or_refused_by_config() {
    let env = Env::new();
    env.add(
        "PRIMARY",
        &[
            "product=IRIS",
            "mirror_type=Failover",
            "mirror_status=Primary",
        ],
    );
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("PRIMARY"));
    let log = env.log_text();
    assert!(log.contains("event=mirror-primary"), "{log}");
    assert!(log.contains("QoS timeout"), "{log}");
    assert_eq!(env.run(&["thaw"]).code, 0);

    env.config("mirror_primary = \"refuse\"\n");
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        r.stderr.contains("refuses to freeze a primary"),
        "{}",
        r.text()
    );
    assert!(!env.frozen("PRIMARY"));
    assert_eq!(
        env.calls("PRIMARY", "freeze"),
        1,
        "only the first run froze it"
    );
}

#[test]
fn through_the_azure_wrappers_the_azure_timeout_bounds_the_run() {
    let env = Env::new();
    env.iris("IRIS").fault("IRIS", "freeze=hang");
    let json = env
        .root()
        .join("etc/azure/VMSnapshotScriptPluginConfig.json");
    fs::create_dir_all(json.parent().unwrap()).unwrap();
    fs::write(
        &json,
        r#"{"timeoutInSeconds": 6, "ScriptsExecutionPollTimeSeconds": 1}"#,
    )
    .unwrap();
    let r = env.run(&["azure-pre", "", ""]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    let log = env.log_text();
    assert!(log.contains("Azure allows 6s"), "{log}");
    assert!(log.contains("finishing within 4s"), "{log}");
    // The hanging call got what was left of the 4 s (how much depends on the machine's load):
    // it timed out within them.
    let after: f64 = log
        .split("timed out after ")
        .nth(1)
        .and_then(|rest| rest.split('s').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no timeout in the log: {log}"));
    assert!(after > 0.0 && after <= 4.0, "{log}");
    // Called directly, the usual --timeout applies: no Azure note.
    let before = env.log_text().len();
    env.fault("IRIS", "freeze=hang");
    let _ = env.run(&["freeze", "--timeout", "2"]);
    assert!(!env.log_text()[before..].contains("Azure allows"));
}

#[test]
fn external_freeze_options_from_the_config() {
    let env = Env::new();
    env.iris("IRIS").cache("CACHE");
    assert_eq!(env.run(&["freeze"]).code, 0);
    assert_eq!(env.run(&["thaw"]).code, 0);
    // Without options only the Text argument (the cycle id) is passed.
    let e = exprs(&env);
    assert!(
        e.contains("IRIS ##Class(Backup.General).ExternalFreeze(\"\",\"") && e.contains("\")\n"),
        "{e}"
    );
    env.config("external_freeze_timeout = 900\nwd_suspend_limit = 300\nswitch_journal = false\n");
    assert_eq!(env.run(&["freeze"]).code, 0);
    assert_eq!(env.run(&["thaw"]).code, 0);
    let e = exprs(&env);
    assert!(e.contains("\",0,,,,900,,,300)\n"), "{e}");
    // WDSuspendLimit exists on IRIS only.
    assert!(
        e.lines()
            .any(|l| l.starts_with("CACHE ") && l.ends_with("\",0,,,,900)")),
        "{e}"
    );
}

#[test]
fn external_set_history_only_when_asked_and_only_after_a_clean_thaw() {
    let env = Env::new();
    env.iris("IRIS");
    assert_eq!(env.run(&["freeze"]).code, 0);
    assert_eq!(env.run(&["thaw"]).code, 0);
    assert_eq!(
        env.calls("IRIS", "history"),
        0,
        "recorded without being asked"
    );
    env.config("set_history = true\n");
    assert_eq!(env.run(&["freeze"]).code, 0);
    assert_eq!(env.run(&["thaw"]).code, 0);
    assert_eq!(env.calls("IRIS", "history"), 1);
    assert!(env.log_text().contains("event=history rc=5"));
    // A thaw that could not be confirmed records nothing.
    env.fault("IRIS", "thaw=fail@1")
        .fault("IRIS", "stat=fail@1");
    assert_eq!(env.run(&["freeze"]).code, 0);
    assert_eq!(env.run(&["thaw"]).code, 1);
    assert_eq!(env.calls("IRIS", "history"), 1);
    assert_eq!(env.run(&["thaw"]).code, 0);
}

#[test]
fn the_example_config_is_valid_with_every_setting_uncommented() {
    let env = Env::new();
    env.iris("IRIS");
    let example = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/iris-freeze.toml"
    ))
    .unwrap();
    let creds = env.tmp.path().join("creds");
    fs::write(&creds, "backup\nsecret\n").unwrap();
    fs::set_permissions(&creds, fs::Permissions::from_mode(0o600)).unwrap();
    let state = env.tmp.path().join("state-from-config");
    // Every `# key = value` line, uncommented, pointed at this test's temp dir where needed.
    let settings: String = example
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| l.contains(" = "))
        .map(|l| match l.split(" = ").next().unwrap() {
            "credentials_file" => format!("credentials_file = \"{}\"\n", creds.display()),
            "state_dir" => format!("state_dir = \"{}\"\n", state.display()),
            "freeze_log" | "thaw_log" => String::new(),
            "bin_dirs" => format!("bin_dirs = [\"{}\"]\n", env.bin.display()),
            _ => format!("{l}\n"),
        })
        .collect();
    assert!(settings.contains("wd_suspend_limit"), "{settings}");
    env.config(&settings);
    let mut c = env.command(std::path::Path::new(BIN));
    c.env_remove("IRIS_FREEZE_STATE_DIR").arg("dry-run");
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{settings}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn hook_calls_read_every_option_from_the_environment() {
    options_from_the_environment(&["pre-script", "id"], &["post-script", "id"]);
}

#[test]
fn bare_freeze_and_thaw_read_every_option_from_the_environment() {
    options_from_the_environment(&["freeze"], &["thaw"]);
}

/// Hook calls and bare `freeze`/`thaw` skip clap; the options clap would read from the
/// environment must still apply.
fn options_from_the_environment(pre: &[&str], post: &[&str]) {
    let env = Env::new();
    env.iris("A").iris("B").fault("B", "thaw=hang@1");
    let log = env.tmp.path().join("hook.log");
    let l = log.to_str().unwrap();
    let r = env.run_env(
        pre,
        &[
            ("IRIS_FREEZE_INSTANCES", "B"),
            ("IRIS_FREEZE_LOG_FILE", l),
            ("IRIS_FREEZE_MAX_FREEZE", "120"),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("B") && !env.frozen("A"));
    let text = fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("iris-freeze 0.1.0 freeze --instance B"),
        "{text}"
    );
    let due = env.state_json()["watchdog"]["deadline_ms"]
        .as_i64()
        .unwrap();
    let left = due - chrono::Local::now().timestamp_millis();
    assert!(
        (60_000..=120_000).contains(&left),
        "watchdog due in {left} ms"
    );
    // IRIS_FREEZE_TIMEOUT bounds a hook's ExternalThaw: it hangs, and the call is cut at 2 s.
    let r = env.run_env(
        post,
        &[("IRIS_FREEZE_TIMEOUT", "2"), ("IRIS_FREEZE_LOG_FILE", l)],
    );
    // The emergency resume then thaws it.
    assert_eq!(r.code, 0, "{}", r.text());
    let text = fs::read_to_string(&log).unwrap();
    assert!(text.contains("timed out after 2.0s"), "{text}");
    assert!(text.contains("EMERGENCY"), "{text}");
    let r = env.run_env(post, &[("IRIS_FREEZE_LOG_FILE", l)]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("B"));
}
