//! What a new user reads: the commands a message tells them to run name the real instances,
//! `status` says where the logs really go, and the commands the docs show run as written.

use crate::common::doc_examples::{run_example, run_page_examples};
use crate::common::{self, Env};

#[test]
fn thaw_of_someone_elses_freeze_names_the_command_for_those_instances() {
    let env = Env::new();
    env.iris("IRIS").iris("HS").iris("OTHER");
    env.freeze_externally("IRIS");
    env.freeze_externally("HS");
    let r = env.run(&["thaw"]);
    assert_eq!(r.code, 2, "{}", r.text());
    assert!(
        r.stdout
            .contains("`iris-freeze thaw --instance HS --instance IRIS`"),
        "{}",
        r.text()
    );
    assert!(env.frozen("IRIS") && env.frozen("HS"), "left alone");
}

#[test]
fn status_names_the_log_file_the_environment_sets() {
    let env = Env::new();
    env.iris("IRIS");
    let log = env.log.display().to_string();
    let r = env.run(&["status"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout
            .contains(&format!("logs: {log} (freeze), {log} (thaw)")),
        "{}",
        r.text()
    );
    let r = env.run(&["status", "--json"]);
    let s: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(s["files"]["freeze_log"], log.as_str(), "{}", r.text());
    assert_eq!(s["files"]["thaw_log"], log.as_str(), "{}", r.text());

    // Without the variable, the defaults a hook uses.
    let mut c = env.command(std::path::Path::new(common::BIN));
    c.env_remove("IRIS_FREEZE_LOG_FILE").arg("status");
    let out = String::from_utf8(c.output().unwrap().stdout).unwrap();
    assert!(
        out.contains("logs: /etc/preScript.log (freeze), /etc/postScript.log (thaw)"),
        "{out}"
    );
}

/// A stand-in snapshot tool on PATH: it notes whether IRIS was frozen when it ran and its
/// arguments, and exits FAKE_EXIT (0 unless set).
fn fake_tool(env: &Env, name: &str) {
    let path = env.bin.join(name);
    let script = format!(
        "#!/bin/sh\n[ -e \"$IRIS_SIM_DIR/IRIS/frozen\" ] && s=frozen || s=thawed\n\
         echo \"$s {name} $*\" >> \"{}\"\nexit ${{FAKE_EXIT:-0}}\n",
        env.tmp.path().join("tools.log").display()
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

/// Runs an example against the stand-in tools, which exit `fake_exit`; `VOL` (the btrfs
/// example's subvolume) is a directory of the temp dir: btrfs.rs runs that one for real.
fn run_fake(env: &Env, example: &str, fake_exit: &str) -> common::Run {
    let vol = env.tmp.path().join("vol");
    run_example(
        env,
        example,
        &[("FAKE_EXIT", fake_exit), ("VOL", vol.to_str().unwrap())],
    )
}

#[test]
fn the_run_page_examples_work_as_written_and_a_failed_snapshot_fails_the_run() {
    let env = Env::new();
    env.iris("IRIS");
    for tool in ["lvcreate", "az", "zfs", "gcloud", "btrfs"] {
        fake_tool(&env, tool);
    }
    let examples = run_page_examples();
    assert_eq!(examples.len(), 5, "{examples:#?}");
    let tools_log = env.tmp.path().join("tools.log");
    for example in &examples {
        let _ = std::fs::remove_file(&tools_log);
        let r = run_fake(&env, example, "0");
        assert_eq!(r.code, 0, "{example}\n{}", r.text());
        let calls = std::fs::read_to_string(&tools_log).unwrap();
        assert!(
            !calls.is_empty() && calls.lines().all(|l| l.starts_with("frozen ")),
            "{example}\n{calls}"
        );
        assert!(!env.frozen("IRIS"), "thawed after {example}");
    }
    // Each Azure disk gets its own snapshot; GCP's names are lower-case.
    let az = examples.iter().find(|e| e.contains("az snapshot")).unwrap();
    let _ = std::fs::remove_file(&tools_log);
    assert_eq!(run_fake(&env, az, "0").code, 0);
    let calls = std::fs::read_to_string(&tools_log).unwrap();
    assert_eq!(calls.lines().count(), 3, "{calls}");
    let gcp = examples.iter().find(|e| e.contains("gcloud")).unwrap();
    let _ = std::fs::remove_file(&tools_log);
    assert_eq!(run_fake(&env, gcp, "0").code, 0);
    let calls = std::fs::read_to_string(&tools_log).unwrap();
    let names = calls.split("--snapshot-names ").nth(1).unwrap().trim();
    assert_eq!(names, names.to_lowercase(), "{calls}");

    // A snapshot tool that fails fails the run, in every example.
    for example in &examples {
        let r = run_fake(&env, example, "3");
        assert_eq!(r.code, 1, "{example}\n{}", r.text());
        assert!(!env.frozen("IRIS"), "thawed after {example}");
    }
}

/// The one-line `iris-freeze` commands of the README's and doc/'s `sh` blocks, in page order,
/// as argv: without `sudo`, the trailing comment and a `> FILE` redirection. doc/run.md's are
/// run whole above; a command whose quote spans lines is left to its own test.
fn doc_commands() -> Vec<(String, Vec<String>)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![root.join("README.md")];
    let mut dirs = vec![root.join("doc")];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|x| x == "md") && !path.ends_with("run.md") {
                pages.push(path);
            }
        }
    }
    pages[1..].sort();
    let mut out = Vec::new();
    for page in pages {
        let text = std::fs::read_to_string(&page).unwrap();
        let mut in_sh = false;
        for line in text.lines() {
            if let Some(lang) = line.strip_prefix("```") {
                in_sh = !in_sh && lang == "sh";
                continue;
            }
            let line = line.trim_start();
            let line = line.strip_prefix("sudo ").unwrap_or(line);
            let line = line.split(" #").next().unwrap();
            let line = line.split(" > ").next().unwrap().trim_end();
            if !in_sh || !line.starts_with("iris-freeze ") || line.matches('\'').count() % 2 == 1 {
                continue;
            }
            let argv = line.split_whitespace().skip(1).map(String::from).collect();
            out.push((format!("{}: {line}", page.display()), argv));
        }
    }
    out
}

/// Every `iris-freeze` command the README and doc/ show runs as written against the simulator
/// (a shard master IRIS with its data node, a scratch root for the hooks): no usage error, no
/// exit other than 0, 1 or 2, and each `install` succeeds.
#[test]
fn every_command_the_docs_show_is_accepted_as_written() {
    let env = Env::new();
    env.add(
        "IRIS",
        &[
            "product=IRIS",
            "shard_namespace=IRISCLUSTER",
            "shard_nodes=NODE1",
        ],
    );
    env.iris("NODE1");
    std::fs::create_dir_all(env.root()).unwrap();
    // `install ssh`'s accounts, and the public key a reader would give it.
    let root = env.root();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nbackup:x:1234:1234::/home/backup:/bin/sh\n",
    )
    .unwrap();
    for home in ["root", "home/backup"] {
        std::fs::create_dir_all(root.join(home)).unwrap();
    }
    let key = env.tmp.path().join("key.pub");
    std::fs::write(
        &key,
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG5o3mJx0ZtLZh7tXKq7cC8B2l0Sx7n8d4h3bWk8GqHk\n",
    )
    .unwrap();
    // A cycle in the history, for restore-plan.
    assert_eq!(env.run(&["freeze"]).code, 0);
    assert_eq!(env.run(&["thaw"]).code, 0);
    let commands = doc_commands();
    assert!(commands.len() >= 20, "{commands:#?}");
    for (shown, argv) in &commands {
        let mut args: Vec<&str> = argv.iter().map(String::as_str).collect();
        if let Some(i) = args.iter().position(|a| *a == "--key") {
            args[i + 1] = key.to_str().unwrap();
        }
        let r = env.run(&args);
        assert!(
            (0..=2).contains(&r.code) && !r.stderr.contains("Usage:"),
            "{shown}\n{}",
            r.text()
        );
        if args[0] == "install" {
            assert_eq!(r.code, 0, "{shown}\n{}", r.text());
        }
    }
    assert!(!env.frozen("IRIS") && !env.frozen("NODE1"));
}

/// The README's check by hand, as written, answers what the instance is: `frozen=0` before a
/// freeze, `frozen=1` during it.
#[test]
fn the_readmes_hand_check_says_whether_iris_is_frozen() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let line = readme
        .lines()
        .find(|l| l.starts_with("echo 'w \"frozen=\""))
        .expect("the README's hand check");
    let cmd = line.split("   #").next().unwrap();
    let env = Env::new();
    env.iris("IRIS");
    let r = run_example(&env, cmd, &[]);
    assert!(r.stdout.contains("frozen=0"), "{}", r.text());
    assert_eq!(env.run(&["freeze"]).code, 0);
    let r = run_example(&env, cmd, &[]);
    assert!(r.stdout.contains("frozen=1"), "{}", r.text());
    assert_eq!(env.run(&["thaw"]).code, 0);
}
