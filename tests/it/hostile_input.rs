//! Every value that comes from outside, made hostile, through every command that prints or runs
//! it. A table of values (shell metacharacters, quotes, control bytes, over-long text) × a table
//! of sources (IRIS output, qlist fields, the state and history files, the config file, the
//! credentials file, the environment) × a table of commands: adding one is one line.
//!
//! After each run: exit 0, 1 or 2 (never a crash, never a hang: the harness kills a run at two
//! minutes); no raw control character in what a person reads (stdout, stderr) or in the log;
//! JSON that parses and, where the source is kept, holds the value exactly. After each source ×
//! value: nothing ran (no PWNED file), nothing left frozen, no password shown.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use crate::common::{self, Env, Run};
use serde_json::Value;

/// Every command that prints or runs a value from outside, in the order a cycle runs them.
const COMMANDS: &[&[&str]] = &[
    // -vv: IRIS's output is shown on stderr too.
    &["freeze", "--max-freeze", "60", "-vv"],
    &["status"],
    &["status", "--json"],
    &["thaw"],
    &["history"],
    &["history", "--json"],
    &["restore-plan"],
    &["restore-plan", "--json"],
    &["check"],
    &["dry-run"],
    // --timeout: with the state file's frozen record, run waits that long for its thaw.
    &["run", "--timeout", "5", "--max-freeze", "60", "--", "true"],
];

/// The hostile values; `pwned` is a file that must never appear.
fn values(pwned: &str) -> Vec<(&'static str, String)> {
    vec![
        ("command substitution", format!("$(touch {pwned})")),
        ("backticks", format!("`touch {pwned}`")),
        (
            "separators",
            format!("a; touch {pwned} | touch {pwned} && touch {pwned}"),
        ),
        (
            "quotes",
            format!("it's \"q\" '\"'\"+$zf(-1,\"touch {pwned}\")+\""),
        ),
        (
            "ESC, OSC",
            "\x1b]0;owned\x07\x1b[2J\x1b[8mhidden\x1b[0m".into(),
        ),
        ("CR", "ok\rforged line".into()),
        ("C1 CSI", "\u{9b}31mred".into()),
        ("NUL", "a\0b".into()),
        ("100 kB", "x".repeat(100_000)),
    ]
}

/// Where a value comes from: how it is planted, whether a variable carries it to every command,
/// whether the history keeps it (so `--json` must hold it exactly), whether a NUL can travel
/// that way.
struct Source {
    what: &'static str,
    plant: fn(&Env, &str),
    env: Option<&'static str>,
    kept: bool,
    nul: bool,
}

/// One instance, IRIS, with `conf` lines on top of `product=IRIS`.
fn iris(env: &Env, conf: &[&str]) {
    env.add("IRIS", &[&["product=IRIS"], conf].concat());
}

/// A shard master with one data node, frozen as a cluster (named in the config file).
fn cluster(env: &Env) {
    env.add(
        "MASTER",
        &[
            "product=IRIS",
            "shard_namespace=IRISCLUSTER",
            "shard_nodes=NODE1",
        ],
    );
    env.add("NODE1", &["product=IRIS"]);
    env.config("instances = [\"MASTER\"]\nsharded_namespace = \"IRISCLUSTER\"\n");
}

/// The simulator's `print:` fault for `call`: `text`, every byte as `\xHH`.
fn print_fault(call: &str, text: &str) -> String {
    let hex: String = text.bytes().map(|b| format!("\\x{b:02x}")).collect();
    format!("{call}=print:{hex}")
}

/// `s` as a TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A history of one consistent cycle, every free-text field `v`.
fn history_with(env: &Env, v: &str) {
    let name = serde_json::to_string(v).unwrap();
    let lines = [
        format!(
            r#"{{"v":1,"id":{name},"event":"freeze","at":"2026-12-01T02:00:00.000+00:00","by":{name},"exit":0,"instances":[{{"name":{name},"product":"IRIS","version":{name},"journal_file":{name},"restore_from":{name},"result":"frozen"}}]}}"#
        ),
        format!(
            r#"{{"v":1,"id":{name},"event":"thaw","at":"2026-12-01T02:00:01.000+00:00","by":"thaw","exit":0,"instances":[{{"name":{name},"frozen_secs":1.0,"result":"thawed","verdict":"consistent"}}]}}"#
        ),
    ];
    let path = env.history();
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, lines.join("\n") + "\n").unwrap();
}

/// A state file that records IRIS frozen under the name `v`, in cycle `v`.
fn state_with(env: &Env, v: &str) {
    iris(env, &[]);
    env.freeze_externally("IRIS");
    let bin = env.bin.join("iris");
    let state = serde_json::json!({
        "cycle": v,
        "instances": { v: {
            "kind": "iris",
            "session": {"program": bin, "prefix": ["session", v, "-U%SYS"]},
            "phase": "frozen",
            "since": "2026-12-01T02:00:00.000+00:00",
            "pid": 1,
            "emergency": {"program": bin, "prefix": ["stat", v, "-W"]},
        }},
    });
    fs::create_dir_all(&env.state).unwrap();
    fs::set_permissions(&env.state, fs::Permissions::from_mode(0o700)).unwrap();
    fs::write(env.state_file(), state.to_string()).unwrap();
}

/// A credentials file with `v` in its user and password, for an IRIS that asks for a login.
fn credentials_with(env: &Env, v: &str) {
    iris(env, &[]);
    for call in ["check", "freeze", "thaw"] {
        env.fault("IRIS", &format!("{call}=login"));
    }
    let path = env.root().join("etc/iris-freeze.credentials");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, format!("user{v}\nSECRET{v}\n")).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    env.config(&format!(
        "credentials_file = {}\n",
        toml_string(&path.display().to_string())
    ));
}

const SOURCES: &[Source] = &[
    Source {
        what: "journal directory (IRIS output)",
        plant: |env, v| iris(env, &[&format!("dir=/iris/{v}/")]),
        env: None,
        kept: true,
        nul: true,
    },
    Source {
        what: "version (qlist field)",
        plant: |env, v| iris(env, &[&format!("version={v}")]),
        env: None,
        kept: true,
        nul: true,
    },
    Source {
        what: "mirror status (qlist fields)",
        plant: |env, v| {
            iris(
                env,
                &[&format!("mirror_type={v}"), &format!("mirror_status={v}")],
            )
        },
        env: None,
        kept: false,
        nul: true,
    },
    Source {
        what: "a line of the freeze's output",
        plant: |env, v| {
            iris(env, &[]);
            env.fault("IRIS", &print_fault("freeze", v));
        },
        env: None,
        kept: false,
        nul: true,
    },
    Source {
        what: "qlist line naming an instance",
        plant: |env, v| {
            iris(env, &[]);
            let line = format!(
                "{v}^/usr/irissys/^2024.1^running, since Wed Nov 25 12:00:00 2026^iris.cpf^1973^\
                 52774^53774^ok^IRIS^^^/usr/irissys/^1973"
            );
            env.fault("-", &print_fault("iris-qlist", &line));
        },
        env: None,
        kept: false,
        nul: true,
    },
    Source {
        // CheckpointInfo's subscript: refused where it enters (the freeze rolls back).
        what: "sharded data-server host name",
        plant: |env, v| {
            cluster(env);
            env.add("NODE1", &["product=IRIS", &format!("host={v}")]);
        },
        env: None,
        kept: false,
        nul: true,
    },
    Source {
        // CheckpointInfo's node value: kept when it has no control character, else refused;
        // the history's JSON is not checked for it, as it is not always kept.
        what: "sharded journal file",
        plant: |env, v| {
            cluster(env);
            env.add("NODE1", &["product=IRIS", &format!("dir=/j/{v}")]);
        },
        env: None,
        kept: false,
        nul: true,
    },
    Source {
        what: "history file",
        plant: |env, v| {
            iris(env, &[]);
            history_with(env, v);
        },
        env: None,
        kept: true,
        nul: true,
    },
    Source {
        what: "state file",
        plant: state_with,
        env: None,
        kept: false,
        nul: true,
    },
    Source {
        what: "config file instances",
        plant: |env, v| {
            iris(env, &[]);
            env.config(&format!("instances = [{}]\n", toml_string(v)));
        },
        env: None,
        kept: false,
        nul: true,
    },
    Source {
        what: "config file sharded_namespace",
        plant: |env, v| {
            iris(env, &[]);
            env.config(&format!("sharded_namespace = {}\n", toml_string(v)));
        },
        env: None,
        kept: false,
        nul: true,
    },
    Source {
        what: "credentials file",
        plant: credentials_with,
        env: None,
        kept: false,
        nul: true,
    },
    Source {
        what: "IRIS_FREEZE_INSTANCES",
        plant: |env, _| iris(env, &[]),
        env: Some("IRIS_FREEZE_INSTANCES"),
        kept: false,
        nul: false,
    },
    Source {
        what: "IRIS_FREEZE_SHARDED",
        plant: |env, _| iris(env, &[]),
        env: Some("IRIS_FREEZE_SHARDED"),
        kept: false,
        nul: false,
    },
    Source {
        what: "IRIS_FREEZE_TIMEOUT",
        plant: |env, _| iris(env, &[]),
        env: Some("IRIS_FREEZE_TIMEOUT"),
        kept: false,
        nul: false,
    },
];

/// The longest line allowed in what a person reads and in the log: well below the 100 kB
/// value, so an over-long one must have been refused or cut (and said so).
const LONGEST_LINE: usize = 32 * 1024;

fn longest_line(text: &str) -> usize {
    text.lines().map(str::len).max().unwrap_or(0)
}

/// No control character but the line break and tab in text a person reads.
fn terminal_safe(text: &str) -> Result<(), Vec<char>> {
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| c.is_control() && c != '\n' && c != '\t')
        .collect();
    if bad.is_empty() { Ok(()) } else { Err(bad) }
}

fn holds(v: &Value, s: &str) -> bool {
    match v {
        Value::String(t) => t.contains(s),
        Value::Array(a) => a.iter().any(|x| holds(x, s)),
        Value::Object(o) => o.values().any(|x| holds(x, s)),
        _ => false,
    }
}

/// Runs iris-freeze with its output read as it comes (a report of 100 kB must not block on a
/// full pipe); a run that outlives two minutes is killed and counts as a hang.
fn run(env: &Env, args: &[&str], vars: &[(&str, &str)]) -> Result<Run, String> {
    let mut c = env.command(Path::new(common::BIN));
    c.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in vars {
        c.env(k, v);
    }
    let child = common::spawn(&mut c);
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            return Err("still running after 120 s".into());
        }
    };
    Ok(Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: Duration::ZERO,
    })
}

/// What is wrong with one run, if anything.
fn check_run(args: &[&str], r: &Run, value: &str, src: &Source, bad: &mut Vec<String>) {
    let mut fail = |why: String| bad.push(format!("{args:?}: {why}"));
    if ![0, 1, 2].contains(&r.code) {
        fail(format!("exit {}", r.code));
    }
    let json = args.contains(&"--json");
    if let Err(c) = terminal_safe(&r.stderr) {
        fail(format!("raw control characters {c:?} on stderr"));
    }
    if longest_line(&r.stderr) > LONGEST_LINE {
        fail(format!(
            "a stderr line of {} bytes",
            longest_line(&r.stderr)
        ));
    }
    // JSON (or, when the command failed, the failure in words).
    match serde_json::from_str::<Value>(&r.stdout) {
        Ok(v) if json => {
            if src.kept && args[0] == "history" && !holds(&v, value) {
                fail("the JSON does not hold the value exactly".into());
            }
        }
        Err(e) if json && r.code != 1 => fail(format!("JSON does not parse: {e}")),
        _ => {
            if let Err(c) = terminal_safe(&r.stdout) {
                fail(format!("raw control characters {c:?} on stdout"));
            }
            if longest_line(&r.stdout) > LONGEST_LINE {
                fail(format!(
                    "a stdout line of {} bytes",
                    longest_line(&r.stdout)
                ));
            }
        }
    }
    if r.stdout.contains("SECRET") || r.stderr.contains("SECRET") {
        fail("the password is shown".into());
    }
}

/// Runs every command with every value of `src`; panics with every broken rule at once.
fn feed(src: &Source) {
    let mut bad = Vec::new();
    for (what, value) in values("PWNED-PLACEHOLDER") {
        if value.contains('\0') && !src.nul {
            continue;
        }
        let env = Env::new();
        let pwned = env.tmp.path().join("PWNED");
        let value = value.replace("PWNED-PLACEHOLDER", &pwned.display().to_string());
        (src.plant)(&env, &value);
        let vars: Vec<(&str, &str)> = src.env.iter().map(|k| (*k, value.as_str())).collect();
        let mut found = Vec::new();
        for args in COMMANDS {
            match run(&env, args, &vars) {
                Ok(r) => check_run(args, &r, &value, src, &mut found),
                Err(why) => found.push(format!("{args:?}: {why}")),
            }
        }
        let log = env.log_text();
        if let Err(c) = terminal_safe(&log) {
            found.push(format!("raw control characters {c:?} in the log"));
        }
        if longest_line(&log) > LONGEST_LINE {
            found.push(format!("a log line of {} bytes", longest_line(&log)));
        }
        if log.contains("SECRET") {
            found.push("the password is in the log".into());
        }
        if pwned.exists() {
            found.push("PWNED: a value was run".into());
        }
        let left: Vec<String> = fs::read_dir(&env.sim)
            .unwrap()
            .flatten()
            .filter(|e| e.path().join("frozen").exists())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        if !left.is_empty() && src.what != "state file" {
            found.push(format!("left frozen: {left:?}"));
        }
        bad.extend(found.into_iter().map(|f| format!("{what}: {f}")));
        drop(env);
    }
    assert!(
        bad.is_empty(),
        "{}:\n{}",
        src.what,
        bad.iter().map(|b| cut(b)).collect::<Vec<_>>().join("\n")
    );
}

/// A failure line short enough to read when the value is 100 kB.
fn cut(s: &str) -> String {
    match s.char_indices().nth(400) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

fn source(what: &str) -> &'static Source {
    SOURCES.iter().find(|s| s.what == what).unwrap()
}

#[test]
fn every_source_is_fed() {
    // Each source has its test below: the table and the tests stay one list.
    let tests = include_str!("hostile_input.rs");
    for s in SOURCES {
        assert!(
            tests.contains(&format!("feed(source(\"{}\"))", s.what)),
            "no test feeds {}",
            s.what
        );
    }
    assert!(Path::new(common::BIN).exists());
}

#[test]
fn journal_directory() {
    feed(source("journal directory (IRIS output)"));
}
#[test]
fn version() {
    feed(source("version (qlist field)"));
}
#[test]
fn mirror_status() {
    feed(source("mirror status (qlist fields)"));
}
#[test]
fn freeze_output_line() {
    feed(source("a line of the freeze's output"));
}
#[test]
fn qlist_name() {
    feed(source("qlist line naming an instance"));
}
#[test]
fn sharded_host() {
    feed(source("sharded data-server host name"));
}
#[test]
fn sharded_journal() {
    feed(source("sharded journal file"));
}
#[test]
fn history_file() {
    feed(source("history file"));
}
#[test]
fn state_file() {
    feed(source("state file"));
}
#[test]
fn config_instances() {
    feed(source("config file instances"));
}
#[test]
fn config_sharded() {
    feed(source("config file sharded_namespace"));
}
#[test]
fn credentials_file() {
    feed(source("credentials file"));
}
#[test]
fn env_instances() {
    feed(source("IRIS_FREEZE_INSTANCES"));
}
#[test]
fn env_sharded() {
    feed(source("IRIS_FREEZE_SHARDED"));
}
#[test]
fn env_timeout() {
    feed(source("IRIS_FREEZE_TIMEOUT"));
}
