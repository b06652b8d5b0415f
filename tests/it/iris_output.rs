//! What IRIS prints, shaped by whoever controls it (the instance owner sets the journal
//! directory; an IRIS administrator shapes any output), reaches no shell, no ObjectScript and no
//! terminal: `restore-plan` quotes it, sharded data-server names are checked where they enter,
//! and every report a person reads has its control characters spelled out.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::common::{Env, Run};
use serde_json::Value;

/// The bytes no human-readable output may hold raw: ESC (and so CSI/OSC), BEL, CR, the C1
/// controls (CSI as U+009B), and any other C0 control but the line break and tab.
fn assert_terminal_safe(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| c.is_control() && c != '\n' && c != '\t')
        .collect();
    assert!(
        bad.is_empty(),
        "{what}: raw control characters {bad:?} in:\n{text}"
    );
}

fn assert_all_terminal_safe(what: &str, r: &Run) {
    assert_terminal_safe(&format!("{what} stdout"), &r.stdout);
    assert_terminal_safe(&format!("{what} stderr"), &r.stderr);
}

/// The lines of a plan that are shell commands to paste (not the ObjectScript ones).
fn shell_commands(plan: &str) -> Vec<String> {
    plan.lines()
        .map(str::trim)
        .filter(|l| {
            ["iris ", "ls ", "ccontrol ", "csession "]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .map(String::from)
        .collect()
}

/// Pastes each command into `sh` in `scratch`, with the simulator's programs on PATH: syntax
/// first (`sh -n`), then for real.
fn paste(env: &Env, scratch: &Path, commands: &[String]) {
    for c in commands {
        let st = Command::new("sh").args(["-n", "-c", c]).status().unwrap();
        assert!(st.success(), "not one sh command: {c}");
        let _ = Command::new("sh")
            .args(["-c", c])
            .current_dir(scratch)
            .env("PATH", format!("{}:/usr/bin:/bin", env.bin.display()))
            .env("IRIS_SIM_DIR", &env.sim)
            .output()
            .unwrap();
    }
}

/// The value of the ObjectScript string literal that follows `key` in `line`, quotes undoubled;
/// and what follows the literal.
fn objectscript_literal<'a>(line: &'a str, key: &str) -> (String, &'a str) {
    let start = line
        .find(key)
        .unwrap_or_else(|| panic!("no {key} in {line}"))
        + key.len();
    let rest = line[start..]
        .strip_prefix('"')
        .expect("a literal starts with a quote");
    let mut value = String::new();
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '"' {
            if chars.peek().map(|&(_, n)| n) == Some('"') {
                chars.next();
                value.push('"');
                continue;
            }
            return (value, &rest[i + 1..]);
        }
        value.push(c);
    }
    panic!("unterminated ObjectScript string in {line}");
}

fn no_pwned(env: &Env, scratch: &Path) {
    for dir in [env.tmp.path(), scratch] {
        let found: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains("PWNED"))
            .map(|e| e.path())
            .collect();
        assert!(found.is_empty(), "a command ran: {found:?}");
    }
}

/// One freeze/thaw cycle: exit 0 both, nothing left frozen.
fn cycle(env: &Env, inst: &str) -> (Run, Run) {
    let f = env.run(&["freeze", "--instance", inst]);
    assert_eq!(f.code, 0, "{}", f.text());
    let t = env.run(&["thaw", "--instance", inst]);
    assert_eq!(t.code, 0, "{}", t.text());
    assert!(!env.frozen(inst));
    (f, t)
}

#[test]
fn restore_plan_quotes_a_hostile_journal_directory_for_sh_and_objectscript() {
    let env = Env::new();
    let pwned = env.tmp.path().join("PWNED");
    let p = pwned.display();
    // The instance owner's journal directory: command substitutions of both kinds, and a quote
    // that would end the ObjectScript string and call $zf(-1) (an OS command) from IRIS.
    let dir =
        format!("/iris/j$(touch {p}1)`touch {p}2`'\"_x\"+$zf(-1,\"touch {p}3\")+\"; touch {p}4 |/");
    env.add("IRIS", &["product=IRIS", &format!("dir={dir}")]);
    cycle(&env, "IRIS");
    let journal = format!("{dir}mgr/journal/20261125.002");

    let r = env.run(&["restore-plan"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout
            .contains("WARNING: the journal file's path holds characters other than"),
        "{}",
        r.text()
    );
    let commands = shell_commands(&r.stdout);
    assert_eq!(commands.len(), 4, "{}", r.text());
    assert!(
        commands.iter().any(|c| c.starts_with("ls -l '")),
        "{commands:?}"
    );
    let scratch = env.tmp.path().join("scratch");
    fs::create_dir(&scratch).unwrap();
    paste(&env, &scratch, &commands);
    no_pwned(&env, &scratch);

    // The ObjectScript line reads back as the journal file, and nothing follows the literal
    // but the next property.
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains("r.FirstFile="))
        .unwrap();
    let (value, after) = objectscript_literal(line, "r.FirstFile=");
    assert_eq!(value, journal, "{line}");
    assert_eq!(after, ",r.LastFile=\"LAST\"", "{line}");

    // The JSON holds the path exactly, and the warning.
    let r = env.run(&["restore-plan", "--json"]);
    let plan: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(plan["instances"][0]["restore_from"], journal.as_str());
    assert_eq!(
        plan["instances"][0]["warnings"].as_array().unwrap().len(),
        1
    );
}

#[test]
fn a_plain_journal_directory_gets_no_warning() {
    let env = Env::new();
    env.add("IRIS", &["product=IRIS", "dir=/iris/db-1/"]);
    cycle(&env, "IRIS");
    let r = env.run(&["restore-plan"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!r.stdout.contains("WARNING"), "{}", r.text());
    assert!(
        r.stdout.contains("ls -l '/iris/db-1/mgr/journal'"),
        "{}",
        r.text()
    );
    assert!(r.stdout.contains("iris start 'IRIS'"), "{}", r.text());
}

#[test]
fn a_sharded_data_server_host_that_is_no_host_name_rolls_the_freeze_back() {
    let env = Env::new();
    env.add(
        "MASTER",
        &[
            "product=IRIS",
            "dir=/data/master/",
            "shard_namespace=IRISCLUSTER",
            "shard_nodes=NODE1",
        ],
    );
    let pwned = env.tmp.path().join("PWNED");
    let host = format!("host=$(touch {})", pwned.display());
    env.add("NODE1", &["product=IRIS", "dir=/data/node1/", &host]);
    // A marker line printed by whoever controls IRIS's output: without the call's nonce.
    env.fault(
        "MASTER",
        "freeze=print:IRISFREEZE-0000000000000000 node 4:evil 2:22 2:/j",
    );
    let freeze = ["--instance", "MASTER", "--sharded", "IRISCLUSTER"];

    let r = env.run(&[&["freeze"][..], &freeze[..]].concat());
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        r.text()
            .contains("a data server in CheckpointInfo with the host name"),
        "{}",
        r.text()
    );
    assert!(r.text().contains("rolled back"), "{}", r.text());
    assert!(env.recorded().is_empty(), "{:?}", env.recorded());
    for m in ["MASTER", "NODE1"] {
        assert!(!env.frozen(m), "{m}");
    }
    let history = fs::read_to_string(env.history()).unwrap();
    assert!(!history.contains("touch"), "{history}");
    assert!(!history.contains("evil"), "{history}");
    let plan = env.run(&["restore-plan", "--id", "x"]);
    assert!(!plan.stdout.contains("touch"), "{}", plan.text());
    assert!(!pwned.exists());
}

/// Control sequences an IRIS-output attacker would print: an OSC window title, a screen clear,
/// conceal (hides the rest of a line to paste), a CR that overwrites a line, CSI as one C1 byte.
const SEQUENCES: &str = "\u{1b}]0;owned\u{7}\u{1b}[2J\u{1b}[8mhidden\r\u{9b}31m";

#[test]
fn control_sequences_from_iris_output_are_spelled_out_in_every_report_and_exact_in_json() {
    let env = Env::new();
    let version = format!("2024.1{SEQUENCES}");
    let dir = format!("/iris/{SEQUENCES}/");
    env.add(
        "IRIS",
        &[
            "product=IRIS",
            &format!("version={version}"),
            &format!("dir={dir}"),
        ],
    );
    let (f, t) = cycle(&env, "IRIS");
    assert_all_terminal_safe("freeze", &f);
    assert_all_terminal_safe("thaw", &t);
    for args in [
        &["history"][..],
        &["restore-plan"],
        &["check"],
        &["status"],
        &["freeze", "--dry-run", "--instance", "IRIS"],
    ] {
        let r = env.run(args);
        assert!([0, 1, 2].contains(&r.code), "{args:?}: {}", r.text());
        assert_all_terminal_safe(&format!("{args:?}"), &r);
    }
    let r = env.run(&["history"]);
    assert!(r.stdout.contains("\\x1b]0;owned\\x07"), "{}", r.text());

    // JSON carries the bytes as IRIS printed them.
    let r = env.run(&["history", "--json"]);
    let cycles: Value = serde_json::from_str(&r.stdout).unwrap();
    let freeze_line = &cycles[0]["instances"][0];
    assert_eq!(freeze_line["version"], version.as_str(), "{}", r.stdout);
    let journal = format!("{dir}mgr/journal/20261125.002");
    assert_eq!(
        freeze_line["journal_file"],
        journal.as_str(),
        "{}",
        r.stdout
    );
    let r = env.run(&["restore-plan", "--json"]);
    let plan: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(plan["instances"][0]["restore_from"], journal.as_str());
}

#[test]
fn a_qlist_line_whose_name_is_no_instance_name_is_skipped_and_stops_a_default_freeze() {
    let env = Env::new();
    env.iris("IRIS");
    let pwned = env.tmp.path().join("PWNED");
    let line = format!(
        "$(touch {})^/x/^2024.1^running, since Wed Nov 25 12:00:00 2026^iris.cpf^1973^52774^\
         53774^ok^IRIS^^^/x/^1973",
        pwned.display()
    );
    env.fault("-", &format!("iris-qlist=print:{line}"));

    // Every instance: the listing may hide one, so nothing is frozen.
    let r = env.run(&["freeze"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        r.stdout
            .contains("printed a line that was skipped: invalid instance name"),
        "{}",
        r.text()
    );
    assert!(!env.frozen("IRIS"));
    assert!(env.recorded().is_empty(), "{:?}", env.state_json());
    // Named instances are found as usual.
    let (f, _) = cycle(&env, "IRIS");
    assert!(!f.stdout.contains("touch"), "{}", f.text());
    // status lists IRIS alone, and says why the listing is incomplete.
    let status = env.run(&["status", "--json"]);
    let v: Value = serde_json::from_str(&status.stdout).unwrap();
    let names: Vec<&str> = v["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["IRIS"], "{}", status.text());
    assert!(!pwned.exists());
}
