//! The command line as a new user meets it: misplaced words, bad values, and the help text.

use crate::common::{self, Env};

fn one_instance() -> Env {
    let env = Env::new();
    env.iris("IRIS");
    env
}

/// The error's first line, which must say it all.
fn first_error_line(r: &common::Run) -> &str {
    r.stderr.lines().next().unwrap_or_default()
}

#[test]
fn a_cmd_before_the_separator_is_shown_after_it_and_nothing_is_frozen() {
    let env = one_instance();
    for (args, fixed) in [
        (&["run", "true"][..], "iris-freeze run -- true"),
        (
            &["run", "lvcreate", "--snapshot", "x"],
            "iris-freeze run -- lvcreate --snapshot x",
        ),
        (
            &["run", "-i", "IRIS", "--timeout", "9", "zfs", "snapshot"],
            "iris-freeze run -i IRIS --timeout 9 -- zfs snapshot",
        ),
        (
            &["-q", "run", "--sharded=X", "sh", "-c", "echo $HOME", "--"],
            "iris-freeze -q run --sharded=X -- sh -c 'echo $HOME'",
        ),
    ] {
        let r = env.run(args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.text());
        assert_eq!(
            first_error_line(&r),
            format!("error: CMD goes after `--`: {fixed}"),
            "{args:?}: {}",
            r.text()
        );
    }
    assert_eq!(env.calls("IRIS", "freeze"), 0);
    assert!(env.history_events().is_empty());
    // Other usage errors keep clap's own words.
    let r = env.run(&["run", "--bogus", "--", "true"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        r.stderr.contains("unexpected argument '--bogus'"),
        "{}",
        r.text()
    );
}

#[test]
fn history_limit_zero_is_a_usage_error() {
    let env = one_instance();
    assert_eq!(env.run(&["freeze"]).code, 0);
    assert_eq!(env.run(&["thaw"]).code, 0);
    let r = env.run(&["history", "--limit", "0"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stderr.contains("--limit"), "{}", r.text());
    assert!(r.stderr.contains("1 or more"), "{}", r.text());
    let r = env.run(&["history", "--limit", "1"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!r.stdout.contains("no cycle"), "{}", r.text());
}

#[test]
fn run_help_says_what_its_options_do_under_run() {
    let env = Env::new();
    let r = env.run(&["run", "--help"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let help = r.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains("--timeout <SECS> Upper bound on the freeze and on the thaw, each"),
        "{help}"
    );
    assert!(
        help.contains("/etc/preScript.log for freeze, run and dry-run"),
        "{help}"
    );
    for cmd in ["run", "dry-run"] {
        let r = env.run(&[cmd, "--help"]);
        assert!(!r.stdout.contains("Freeze or thaw"), "{cmd}: {}", r.stdout);
    }
}

#[test]
fn the_azure_example_fails_when_a_snapshot_fails() {
    let env = Env::new();
    let r = env.run(&["run", "--help"]);
    assert!(r.stdout.contains("az snapshot create"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains(r#"for p in $pids; do wait "$p" || rc=1; done; exit $rc'"#),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("done; wait'"), "{}", r.stdout);
}

/// Each line of every Examples block, at a terminal 80 and 100 wide: a command line, or an
/// indented line of a script it quotes, never a phrase cut from the line above.
#[test]
fn help_examples_never_wrap() {
    let env = Env::new();
    for columns in ["80", "100"] {
        for cmd in [
            &["--help"][..],
            &["freeze", "--help"],
            &["thaw", "--help"],
            &["run", "--help"],
            &["dry-run", "--help"],
            &["install", "--help"],
            &["history", "--help"],
        ] {
            let r = env.run_env(cmd, &[("COLUMNS", columns)]);
            assert_eq!(r.code, 0, "{}", r.text());
            let examples = r.stdout.split("Examples:\n").nth(1).expect("examples");
            for line in examples.lines().take_while(|l| !l.is_empty()) {
                let starts_a_command = ["  iris-freeze ", "  IRIS_FREEZE_"]
                    .iter()
                    .any(|p| line.starts_with(p));
                assert!(
                    starts_a_command || line.starts_with("      "),
                    "COLUMNS={columns} {cmd:?}: {line:?} in\n{examples}"
                );
            }
        }
    }
}

/// The prose of the help is wrapped by clap at the terminal's width, not at the source's: at
/// 80 columns no line breaks before a word that would still have fitted on it.
#[test]
fn help_prose_is_wrapped_at_the_terminal_width() {
    let env = Env::new();
    for cmd in [&["--help"][..], &["run", "--help"], &["thaw", "--help"]] {
        let r = env.run_env(cmd, &[("COLUMNS", "80")]);
        let prose = r.stdout.split("\n\n").filter(|p| {
            !p.starts_with(' ')
                && !["Usage:", "Arguments:", "Options:", "Commands:", "Examples:"]
                    .iter()
                    .any(|h| p.starts_with(h))
        });
        for para in prose {
            let lines: Vec<&str> = para.lines().collect();
            for pair in lines.windows(2) {
                let next_word = pair[1].split(' ').next().unwrap_or_default();
                assert!(
                    pair[0].len() + 1 + next_word.len() >= 78,
                    "{cmd:?}: {next_word:?} would fit after {:?}",
                    pair[0]
                );
            }
        }
    }
}

/// `IRIS_FREEZE_LOG_FILE` is where freeze and thaw log in this environment, so it is the log
/// `check` looks at, not the config file's that it overrides.
#[test]
fn check_looks_at_the_log_file_the_environment_sets() {
    let env = one_instance();
    env.config("freeze_log = \"/nonexistent/freeze.log\"\nthaw_log = \"/nonexistent/thaw.log\"\n");
    let r = env.run(&["check", "kubernetes"]);
    let log = env.log.display();
    assert!(
        r.stdout.contains(&format!("freeze log {log} is writable")),
        "{}",
        r.text()
    );
    assert!(
        r.stdout.contains(&format!("thaw log {log} is writable")),
        "{}",
        r.text()
    );
    assert!(!r.stdout.contains("/nonexistent/"), "{}", r.text());
}

/// An empty IRIS_FREEZE_LOG_FILE is unset, as for every path variable: the freeze logs where
/// the config file says, and `status` names that log.
#[test]
fn an_empty_log_file_variable_is_unset() {
    let env = one_instance();
    let log = env.tmp.path().join("from-config.log");
    env.config(&format!("freeze_log = \"{}\"\n", log.display()));
    let r = env.run_env(&["freeze"], &[("IRIS_FREEZE_LOG_FILE", "")]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!r.stderr.contains("cannot open the log"), "{}", r.text());
    assert!(
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("freeze")
    );
    let r = env.run_env(&["status"], &[("IRIS_FREEZE_LOG_FILE", "")]);
    assert!(
        r.stdout
            .contains(&format!("logs: {} (freeze)", log.display())),
        "{}",
        r.text()
    );
    assert_eq!(env.run(&["thaw"]).code, 0);
}
