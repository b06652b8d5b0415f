//! The metrics file and `restore-plan`, end to end: the real binary against the simulator, and
//! against history files written here in the history's line format. With
//! IRIS_FREEZE_TEST_PROMTOOL=1 (CI) the metrics file and the example alert rules must pass the
//! real `promtool`; without it they are checked only where promtool is installed.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::Env;

fn metrics_path(env: &Env) -> PathBuf {
    let dir = env.tmp.path().join("textfile");
    fs::DirBuilder::new().mode(0o755).create(&dir).unwrap();
    dir.join("iris-freeze.prom")
}

/// Writes the history file as the commands do: one JSON line per event.
fn write_history(env: &Env, lines: &[serde_json::Value]) {
    let path = env.history();
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path.parent().unwrap())
        .unwrap();
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    fs::write(&path, text).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
}

/// A freeze and a thaw of IRIS, with the thaw's verdict.
fn cycle(id: &str, day: u32, journal: &str, verdict: &str) -> Vec<serde_json::Value> {
    let at = |s: u32| format!("2026-11-{day:02}T02:00:{s:02}.000+00:00");
    vec![
        serde_json::json!({"v": 1, "id": id, "event": "freeze", "at": at(0),
            "by": "azure prescript.sh", "exit": 0,
            "instances": [{"name": "IRIS", "product": "IRIS", "version": "2024.1",
                "journal_file": journal, "restore_from": journal, "result": "frozen"}]}),
        serde_json::json!({"v": 1, "id": id, "event": "thaw", "at": at(3),
            "by": "azure postScript.sh", "exit": if verdict == "consistent" { 0 } else { 2 },
            "instances": [{"name": "IRIS", "frozen_secs": 2.5, "result": "thawed",
                "verdict": verdict}]}),
    ]
}

fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Runs `promtool ARGS` on `input`: required under IRIS_FREEZE_TEST_PROMTOOL=1, skipped (with
/// a note) where promtool is not installed otherwise.
fn promtool(args: &[&str], input: &Path) {
    let required = std::env::var("IRIS_FREEZE_TEST_PROMTOOL").as_deref() == Ok("1");
    // `check metrics` reads stdin; `check rules` takes the file.
    let stdin = match args {
        ["check", "metrics"] => Stdio::from(fs::File::open(input).unwrap()),
        _ => Stdio::null(),
    };
    let out = match Command::new("promtool")
        .args(args)
        .args((args != ["check", "metrics"]).then_some(input))
        .stdin(stdin)
        .output()
    {
        Ok(out) => out,
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "promtool not installed: not checked (IRIS_FREEZE_TEST_PROMTOOL=1 requires it)"
            );
            return;
        }
        Err(e) => panic!("cannot run promtool (apt-get install prometheus): {e}"),
    };
    assert!(
        out.status.success(),
        "promtool {args:?} {}: {}\n{}\n{}",
        input.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn freeze_and_thaw_rewrite_the_metrics_file() {
    let env = Env::new();
    env.iris("IRIS");
    write_history(
        &env,
        &cycle("20261130T020000Z-0001", 30, "/j/20261130.002", "consistent"),
    );
    let metrics = metrics_path(&env);
    let m = metrics.to_str().unwrap();

    let r = env.run(&["freeze", "--metrics-file", m]);
    assert_eq!(r.code, 0, "{}", r.text());
    let text = fs::read_to_string(&metrics).unwrap();
    assert_eq!(
        value(&text, "iris_freeze_frozen{iris_instance=\"IRIS\"}"),
        Some(1.0),
        "{text}"
    );
    let mode = fs::metadata(&metrics).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);

    // The variable works as the flag does.
    let r = env.run_env(&["thaw"], &[("IRIS_FREEZE_METRICS_FILE", m)]);
    assert_eq!(r.code, 0, "{}", r.text());
    let text = fs::read_to_string(&metrics).unwrap();
    assert_eq!(
        value(&text, "iris_freeze_frozen{iris_instance=\"IRIS\"}"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        value(&text, "iris_freeze_last_consistent{iris_instance=\"IRIS\"}"),
        Some(1.0),
        "{text}"
    );
    let thaws = value(
        &text,
        "iris_freeze_runs_total{command=\"thaw\",result=\"success\"}",
    );
    assert!(thaws >= Some(1.0), "{text}");
    assert!(
        text.contains("# TYPE iris_freeze_auto_thaws_total counter"),
        "{text}"
    );
    // Only the file itself: no temp file left for the collector.
    assert_eq!(fs::read_dir(metrics.parent().unwrap()).unwrap().count(), 1);
    promtool(&["check", "metrics"], &metrics);
}

/// A failed freeze has its own series (not only `command="rollback"`), under the IRIS
/// instance's own label, cleared by the next freeze that holds.
#[test]
fn a_failed_freeze_is_counted_per_instance_until_one_holds() {
    let env = Env::new();
    env.iris("IRIS");
    env.fault("IRIS", "freeze=fail@1");
    let metrics = metrics_path(&env);
    let m = metrics.to_str().unwrap();

    let r = env.run(&["freeze", "--metrics-file", m]);
    assert_eq!(r.code, 1, "{}", r.text());
    let text = fs::read_to_string(&metrics).unwrap();
    let failed = "iris_freeze_last_freeze_failed{iris_instance=\"IRIS\"}";
    let failures = "iris_freeze_freeze_failures_total{iris_instance=\"IRIS\"}";
    assert_eq!(value(&text, failed), Some(1.0), "{text}");
    assert_eq!(value(&text, failures), Some(1.0), "{text}");
    assert!(!text.contains("{instance="), "{text}");
    promtool(&["check", "metrics"], &metrics);

    let r = env.run(&["freeze", "--metrics-file", m]);
    assert_eq!(r.code, 0, "{}", r.text());
    let text = fs::read_to_string(&metrics).unwrap();
    assert_eq!(value(&text, failed), Some(0.0), "{text}");
    assert_eq!(value(&text, failures), Some(1.0), "{text}");
    assert_eq!(env.run(&["thaw", "--metrics-file", m]).code, 0);
}

#[test]
fn the_config_file_names_the_metrics_file_and_an_unwritable_one_fails_nothing() {
    let env = Env::new();
    env.iris("IRIS");
    let metrics = metrics_path(&env);
    env.config(&format!("metrics_file = \"{}\"\n", metrics.display()));
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(metrics.exists(), "{}", r.text());

    let missing = env.tmp.path().join("no-such-dir/iris-freeze.prom");
    let r = env.run(&["thaw", "--metrics-file", missing.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    assert!(r.stderr.contains("metrics"), "{}", r.text());
    assert!(
        env.log_text().contains("event=metrics"),
        "{}",
        env.log_text()
    );
}

#[test]
fn the_example_alert_rules_pass_promtool() {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/prometheus-rules.yml");
    let text = fs::read_to_string(&rules).unwrap();
    assert!(
        text.contains("iris_freeze_last_success_timestamp_seconds"),
        "{text}"
    );
    assert!(text.contains("iris_freeze_frozen"), "{text}");
    promtool(&["check", "rules"], &rules);
}

#[test]
fn restore_plan_names_the_journal_file_of_the_last_consistent_cycle() {
    let env = Env::new();
    let mut h = cycle("20261128T020000Z-0001", 28, "/j/20261128.002", "consistent");
    h.extend(cycle(
        "20261129T020000Z-0002",
        29,
        "/j/20261129.004",
        "consistent",
    ));
    h.extend(cycle(
        "20261130T020000Z-0003",
        30,
        "/j/20261130.001",
        "not consistent: auto-thawed",
    ));
    write_history(&env, &h);

    let r = env.run(&["restore-plan"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stdout.contains("20261129T020000Z-0002"), "{}", r.text());
    assert!(
        r.stdout
            .contains("restore from journal file: /j/20261129.004"),
        "{}",
        r.text()
    );
    assert!(r.stdout.contains("do ^JRNRESTO"), "{}", r.text());

    let r = env.run(&["restore-plan", "--id", "20261128T020000Z-0001", "--json"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let plan: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        plan["instances"][0]["restore_from"],
        "/j/20261128.002",
        "{}",
        r.text()
    );

    // A cycle named that is not consistent: its plan, with exit 2.
    let r = env.run(&["restore-plan", "--id", "20261130T020000Z-0003"]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(r.stdout.contains("WARNING"), "{}", r.text());
}

#[test]
fn restore_plan_without_a_consistent_cycle_fails_clearly() {
    let env = Env::new();
    let r = env.run(&["restore-plan"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        r.stdout.contains("no freeze/thaw cycle in the history"),
        "{}",
        r.text()
    );
    write_history(&env, &cycle("X", 30, "/j/1", "unknown: down"));
    let r = env.run(&["restore-plan"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stdout.contains("no consistent"), "{}", r.text());
    let r = env.run(&["restore-plan", "--id", "nope"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stdout.contains("no cycle nope"), "{}", r.text());
}

/// The whole chain on a real cycle: the journal file the simulator printed at the freeze is the
/// one the plan restores from, and the metrics say the cycle was consistent.
#[test]
fn a_real_cycle_gives_a_plan_from_the_journal_file_iris_named() {
    let env = Env::new();
    env.iris("IRIS");
    let metrics = metrics_path(&env);
    let m = metrics.to_str().unwrap();
    assert_eq!(env.run(&["freeze", "--metrics-file", m]).code, 0);
    let printed = env
        .log_text()
        .lines()
        .find_map(|l| {
            l.split_once("Start a journal restore for this backup with journal file: ")
                .map(|(_, f)| f.trim().to_string())
        })
        .expect("the simulator names the journal file");
    assert_eq!(env.run(&["thaw", "--metrics-file", m]).code, 0);
    let r = env.run(&["restore-plan"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout.contains(&printed),
        "{printed} not in\n{}",
        r.text()
    );
    let text = fs::read_to_string(&metrics).unwrap();
    assert_eq!(
        value(&text, "iris_freeze_last_consistent{iris_instance=\"IRIS\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(&text, "iris_freeze_frozen{iris_instance=\"IRIS\"}"),
        Some(0.0),
        "{text}"
    );
}
