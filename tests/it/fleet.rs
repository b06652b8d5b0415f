//! Fleet rollout: the Ansible role (`deploy/ansible/roles/iris_freeze`, through its
//! `tests/test.yml`) run for real against this machine under a scratch `--root`, with the IRIS
//! simulator; and the cloud-init example under `cloud-init schema`.
//!
//! Needs `ansible-playbook` (ansible-core from PyPI) and `cloud-init` on PATH: ignored by a
//! plain `cargo test`, run by `.ci/run`, which installs both (`cargo test --test it --
//! --ignored fleet::`), and failing, not skipping, when either is missing. They run as root
//! (the role installs root-owned files). The check of the role's argument spec against its
//! defaults needs neither, and runs in a plain `cargo test`.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{BIN, Env};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// A program on this process's PATH (the test's environment is cleared for the run).
fn on_path(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .find(|f| f.is_file())
        })
        .unwrap_or_else(|| panic!("{name} is not on PATH: .ci/run installs it"))
}

/// A host with one running IRIS instance and a root that has the directories a real one has
/// (the role creates none of them).
fn host() -> Env {
    let env = Env::new();
    env.iris("IRIS");
    for d in ["etc", "usr/local/sbin", "var/lib", "home"] {
        fs::create_dir_all(env.root().join(d)).unwrap();
    }
    fs::create_dir_all(env.tmp.path().join("home")).unwrap();
    env
}

struct Play {
    recap: BTreeMap<String, u32>,
    output: String,
}

/// Runs tests/test.yml with extra `args`, in the host's environment (the simulator on PATH,
/// its root as IRIS_FREEZE_ROOT), and reads the recap line of localhost.
fn play(env: &Env, args: &[&str]) -> Play {
    run_play(env, env.command(&on_path("ansible-playbook")), args)
}

/// Runs tests/test.yml through `c` (ansible-playbook, or a command that ends by running it).
fn run_play(env: &Env, mut c: Command, args: &[&str]) -> Play {
    let role = Path::new(REPO).join("deploy/ansible/roles/iris_freeze");
    c.current_dir(&role)
        .args(["-i", "tests/inventory", "tests/test.yml"])
        .args(args)
        .env("HOME", env.tmp.path().join("home"))
        .env("LC_ALL", "C.UTF-8")
        .env("ANSIBLE_NOCOLOR", "1")
        .env("IRIS_FREEZE_TEST_BINARY", BIN);
    let out = c.output().unwrap();
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let recap = output
        .lines()
        .skip_while(|l| !l.starts_with("PLAY RECAP"))
        .find_map(|l| l.strip_prefix("localhost"))
        .and_then(|l| l.trim_start().strip_prefix(':'))
        .unwrap_or_else(|| panic!("no recap for localhost:\n{output}"))
        .split_whitespace()
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect();
    Play { recap, output }
}

impl Play {
    fn n(&self, key: &str) -> u32 {
        self.recap[key]
    }
}

/// Every path under `root` with its type, mode, owner, size and modification time: what a
/// run that changes nothing leaves as it was.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, (u32, u32, u64, i64, i64)> {
    let mut out = BTreeMap::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            let md = fs::symlink_metadata(&path).unwrap();
            if md.is_dir() {
                todo.push(path.clone());
            }
            let key = path.strip_prefix(root).unwrap().to_path_buf();
            out.insert(
                key,
                (md.mode(), md.uid(), md.size(), md.mtime(), md.mtime_nsec()),
            );
        }
    }
    out
}

#[test]
#[ignore = "needs ansible-playbook and root; run by .ci/run"]
fn role_installs_once_changes_nothing_again_and_absent_leaves_nothing() {
    let env = host();
    let root = env.root();
    let before = snapshot(&root);

    let first = play(&env, &[]);
    assert_eq!(first.n("failed"), 0, "{}", first.output);
    assert!(first.n("changed") > 0, "{}", first.output);
    let config = fs::read_to_string(root.join("etc/iris-freeze.toml")).unwrap();
    assert!(config.contains("instances = [\"IRIS\"]\n"), "{config}");
    assert!(config.contains("switch_journal = true\n"), "{config}");
    assert!(config.contains("mirror_primary = \"warn\"\n"), "{config}");
    assert!(root.join("etc/azure/prescript.sh").exists());
    let check = env.run_program(
        &root.join("usr/local/sbin/iris-freeze"),
        &["check", "azure"],
        &[],
    );
    assert_eq!(check.code, 0, "{}", check.text());

    let installed = snapshot(&root);
    let second = play(&env, &[]);
    assert_eq!(second.n("failed"), 0, "{}", second.output);
    assert_eq!(second.n("changed"), 0, "{}", second.output);
    let checked = play(&env, &["--check"]);
    assert_eq!(checked.n("failed"), 0, "{}", checked.output);
    assert_eq!(checked.n("changed"), 0, "{}", checked.output);
    assert_eq!(
        snapshot(&root),
        installed,
        "a second run or check mode changed files"
    );

    let absent = play(&env, &["-e", "iris_freeze_state=absent"]);
    assert_eq!(absent.n("failed"), 0, "{}", absent.output);
    assert!(absent.n("changed") > 0, "{}", absent.output);
    let left: Vec<_> = snapshot(&root).into_keys().collect();
    let was: Vec<_> = before.into_keys().collect();
    assert_eq!(left, was, "state absent left files behind");
    let again = play(&env, &["-e", "iris_freeze_state=absent"]);
    assert_eq!(again.n("changed"), 0, "{}", again.output);
}

#[test]
#[ignore = "needs ansible-playbook and root; run by .ci/run"]
fn check_mode_reports_changes_and_makes_none() {
    let env = host();
    // The binary is already there (an image, a run stopped halfway): check mode goes on to
    // the config and the hooks, and must leave both alone.
    let bin = env.root().join("usr/local/sbin/iris-freeze");
    fs::copy(BIN, &bin).unwrap();
    let before = snapshot(&env.root());
    let p = play(&env, &["--check"]);
    assert_eq!(p.n("failed"), 0, "{}", p.output);
    assert!(p.n("changed") > 0, "{}", p.output);
    assert_eq!(snapshot(&env.root()), before, "check mode changed files");
}

#[test]
#[ignore = "needs ansible-playbook and root; run by .ci/run"]
fn a_failing_check_fails_the_play_with_its_findings() {
    let env = host();
    // IRIS asks for a login: check fails the instance.
    env.fault("IRIS", "check=login");
    let p = play(&env, &[]);
    assert_eq!(p.n("failed"), 1, "{}", p.output);
    assert!(
        p.output.contains("iris-freeze check azure failed:"),
        "{}",
        p.output
    );
    assert!(p.output.contains("FAIL "), "{}", p.output);
    assert!(p.output.contains("login"), "{}", p.output);
}

#[test]
#[ignore = "needs ansible-playbook and root; run by .ci/run"]
fn a_config_iris_freeze_refuses_is_never_written() {
    let env = host();
    let vars = r#"{"iris_freeze_config": {"timout": 30}}"#;
    let p = play(&env, &["-e", vars]);
    assert_eq!(p.n("failed"), 1, "{}", p.output);
    assert!(p.output.contains("timout"), "{}", p.output);
    assert!(!env.root().join("etc/iris-freeze.toml").exists());
}

fn schema(file: &Path) -> std::process::Output {
    Command::new(on_path("cloud-init"))
        .args(["schema", "--config-file"])
        .arg(file)
        .output()
        .unwrap()
}

#[test]
#[ignore = "needs cloud-init; run by .ci/run"]
fn the_cloud_init_example_is_valid_and_a_broken_copy_is_not() {
    let example = Path::new(REPO).join("examples/cloud-init/user-data.yaml");
    let out = schema(&example);
    assert!(out.status.success(), "{out:?}");
    let text = fs::read_to_string(&example).unwrap();
    assert!(text.starts_with("#cloud-config\n"));
    assert!(text.contains("iris-freeze install \"$platform\""));

    // runcmd must be a list: the same file with a number there fails.
    let tmp = tempfile::tempdir().unwrap();
    let broken = tmp.path().join("user-data.yaml");
    fs::write(&broken, text.replace("runcmd:", "runcmd: 42\nbootcmd:")).unwrap();
    let out = schema(&broken);
    assert!(!out.status.success(), "{out:?}");
}

/// The directories apt, dpkg and the role write to on a real host ("/lib" and "/sbin" are
/// links into /usr on the Debian this runs on).
const OVERLAID: [&str; 3] = ["/etc", "/usr", "/var"];

/// `program` with `args` in a mount namespace of its own where each of OVERLAID is an overlay
/// whose writes land in `changes` (the test's temp dir), and PATH has the sbin directories
/// dpkg needs. The machine's own directories are never written, and the namespace goes when
/// the program exits; the next command mounts the same changes again.
fn overlaid(env: &Env, changes: &Path, program: &Path, args: &[&str]) -> Command {
    const SCRIPT: &str = r#"set -e
changes="$1"; shift
for d in $DIRS; do
    mkdir -p "$changes$d/upper" "$changes$d/work"
    mount -t overlay overlay -o "lowerdir=$d,upperdir=$changes$d/upper,workdir=$changes$d/work" "$d"
done
PATH="$PATH:/usr/sbin:/sbin" exec "$@""#;
    let mut c = env.command(Path::new("/usr/bin/unshare"));
    c.args([
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        SCRIPT,
        "sh",
    ])
    .arg(changes)
    .arg(program)
    .args(args)
    .env("DIRS", OVERLAID.join(" "))
    .env("IRIS_FREEZE_ROOT", "/");
    c
}

/// The .deb `sh packaging/build.sh` just built.
fn the_deb() -> PathBuf {
    let dir = Path::new(REPO).join("target/packages");
    fs::read_dir(&dir)
        .ok()
        .and_then(|d| {
            d.filter_map(|e| Some(e.ok()?.path()))
                .find(|p| p.extension().is_some_and(|x| x == "deb"))
        })
        .unwrap_or_else(|| {
            panic!(
                "no .deb in {}: run `sh packaging/build.sh` first",
                dir.display()
            )
        })
}

/// What the package path touches on the machine itself: must be the same after the test.
fn machine() -> Vec<(&'static str, bool)> {
    [
        "/usr/sbin/iris-freeze",
        "/etc/iris-freeze.toml",
        "/etc/azure/prescript.sh",
        "/var/lib/dpkg/info/iris-freeze.list",
    ]
    .into_iter()
    .map(|p| (p, fs::symlink_metadata(p).is_ok()))
    .collect()
}

#[test]
#[ignore = "needs ansible-playbook, root and the .deb of packaging/build.sh; run by .ci/run"]
fn the_package_path_installs_the_deb_with_apt_and_absent_removes_it() {
    let env = host();
    let changes = env.tmp.path().join("changes");
    let deb = the_deb();
    let before = machine();
    let package = format!("iris_freeze_package={}", deb.display());
    let args = ["-e", "iris_freeze_install_method=package", "-e", &package];
    let play = |extra: &[&str]| {
        let all: Vec<&str> = args.iter().chain(extra).copied().collect();
        run_play(
            &env,
            overlaid(&env, &changes, &on_path("ansible-playbook"), &[]),
            &all,
        )
    };
    let inside = |program: &str, args: &[&str]| {
        let out = overlaid(&env, &changes, Path::new(program), args)
            .output()
            .unwrap();
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let status = || {
        inside(
            "/usr/bin/dpkg-query",
            &["-W", "-f", "${Status}", "iris-freeze"],
        )
    };

    let first = play(&[]);
    assert_eq!(first.n("failed"), 0, "{}", first.output);
    assert!(first.n("changed") > 0, "{}", first.output);
    assert_eq!(status(), (true, "install ok installed".into()));
    let (ok, text) = inside("/usr/sbin/iris-freeze", &["check", "azure"]);
    assert!(ok, "{text}");
    assert!(inside("/usr/bin/test", &["-f", "/etc/azure/prescript.sh"]).0);

    let second = play(&[]);
    assert_eq!(second.n("failed"), 0, "{}", second.output);
    assert_eq!(second.n("changed"), 0, "{}", second.output);

    let absent = play(&["-e", "iris_freeze_state=absent"]);
    assert_eq!(absent.n("failed"), 0, "{}", absent.output);
    assert!(absent.n("changed") > 0, "{}", absent.output);
    let (_, st) = status();
    assert!(!st.contains(" installed"), "{st}\n{}", absent.output);
    for gone in [
        "/usr/sbin/iris-freeze",
        "/etc/azure/prescript.sh",
        "/etc/azure/postScript.sh",
        "/etc/iris-freeze.toml",
    ] {
        assert!(!inside("/usr/bin/test", &["-e", gone]).0, "{gone} is left");
    }
    assert_eq!(machine(), before, "the machine itself was changed");
}

#[test]
#[ignore = "needs ansible-playbook and root; run by .ci/run"]
fn a_platform_dropped_from_the_list_is_uninstalled_and_a_foreign_hook_stays() {
    let env = host();
    let root = env.root();
    // Someone else's Google Cloud hook: gcp is never listed, and it must stay.
    let theirs = root.join("etc/google/snapshots/pre.sh");
    fs::create_dir_all(theirs.parent().unwrap()).unwrap();
    fs::write(&theirs, "#!/bin/sh\necho theirs\n").unwrap();
    let first = play(&env, &[]);
    assert_eq!(first.n("failed"), 0, "{}", first.output);
    assert!(root.join("etc/azure/prescript.sh").exists());

    let vmware = ["-e", r#"{"iris_freeze_platforms": ["vmware"]}"#];
    let moved = play(&env, &vmware);
    assert_eq!(moved.n("failed"), 0, "{}", moved.output);
    assert!(moved.n("changed") > 0, "{}", moved.output);
    assert!(
        !root.join("etc/azure/prescript.sh").exists(),
        "{}",
        moved.output
    );
    assert!(!root.join("etc/azure/postScript.sh").exists());
    assert!(fs::read_link(root.join("usr/sbin/pre-freeze-script")).is_ok());
    assert_eq!(
        fs::read_to_string(&theirs).unwrap(),
        "#!/bin/sh\necho theirs\n"
    );
    let again = play(&env, &vmware);
    assert_eq!(again.n("failed"), 0, "{}", again.output);
    assert_eq!(again.n("changed"), 0, "{}", again.output);
}

fn role_yaml(path: &str) -> serde_norway::Value {
    let path = Path::new(REPO)
        .join("deploy/ansible/roles/iris_freeze")
        .join(path);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// meta/argument_specs.yml (what Ansible checks before the role runs, and `ansible-doc -t role`
/// shows) specifies every variable of defaults/main.yml, with its description and the same
/// default, and offers exactly the platforms vars/main.yml loops over.
#[test]
fn every_role_variable_has_an_argument_spec_with_its_default() {
    let defaults = role_yaml("defaults/main.yml");
    let defaults = defaults.as_mapping().unwrap();
    let specs = role_yaml("meta/argument_specs.yml");
    let options = specs["argument_specs"]["main"]["options"]
        .as_mapping()
        .expect("argument_specs.main.options");
    let names = |m: &serde_norway::Mapping| -> Vec<String> {
        m.keys().map(|k| k.as_str().unwrap().to_string()).collect()
    };
    let (mut declared, mut specified) = (names(defaults), names(options));
    declared.sort();
    specified.sort();
    assert_eq!(
        declared, specified,
        "defaults/main.yml and argument_specs.yml"
    );
    for (name, default) in defaults {
        let spec = &options[name];
        assert!(
            spec["description"].is_sequence(),
            "{name:?}: no description"
        );
        assert!(spec["type"].is_string(), "{name:?}: no type");
        assert_eq!(&spec["default"], default, "{name:?}: the defaults differ");
    }
    let all = &role_yaml("vars/main.yml")["iris_freeze_all_platforms"];
    assert_eq!(&options["iris_freeze_platforms"]["choices"], all);
}

/// A value the spec does not allow fails the play before any task, naming the variable and
/// the value.
#[test]
#[ignore = "needs ansible-playbook and root; run by .ci/run"]
fn a_platform_the_role_does_not_know_is_refused_by_name() {
    let env = host();
    let before = snapshot(&env.root());
    let p = play(
        &env,
        &["-e", r#"{"iris_freeze_platforms": ["azure", "hyperv"]}"#],
    );
    assert_eq!(p.n("failed"), 1, "{}", p.output);
    assert_eq!(p.n("changed"), 0, "{}", p.output);
    assert!(
        p.output.contains("iris_freeze_platforms") && p.output.contains("hyperv"),
        "{}",
        p.output
    );
    assert_eq!(snapshot(&env.root()), before);
}

/// Run the usual way, without IRIS_FREEZE_ROOT, the test playbook stops before the role and
/// says why, instead of installing into this machine. Run where /etc, /usr and /var are
/// overlays all the same, so that a playbook that does install reaches nothing real.
#[test]
#[ignore = "needs ansible-playbook and root; run by .ci/run"]
fn the_test_playbook_refuses_to_run_without_a_root() {
    let env = host();
    let changes = env.tmp.path().join("changes");
    let before = machine();
    let mut c = overlaid(&env, &changes, &on_path("ansible-playbook"), &[]);
    c.env_remove("IRIS_FREEZE_ROOT");
    let p = run_play(&env, c, &[]);
    assert_eq!(p.n("failed"), 1, "{}", p.output);
    assert!(
        p.output.contains("IRIS_FREEZE_ROOT is not set"),
        "{}",
        p.output
    );
    for d in OVERLAID {
        let upper = changes.join(d.trim_start_matches('/')).join("upper");
        let written: Vec<_> = fs::read_dir(&upper)
            .map(|d| d.filter_map(|e| Some(e.ok()?.path())).collect())
            .unwrap_or_default();
        assert!(written.is_empty(), "{d}: {written:?}\n{}", p.output);
    }
    assert_eq!(machine(), before, "the machine itself was changed");
}

/// A root with nothing in it (a fresh image, a scratch tree): the role makes the directories
/// it writes into, root:root 0755, then installs as on any host; check mode makes none.
#[test]
#[ignore = "needs ansible-playbook and root; run by .ci/run"]
fn a_bare_root_gets_the_directories_the_role_writes_into() {
    let env = Env::new();
    env.iris("IRIS");
    fs::create_dir_all(env.root()).unwrap();
    fs::create_dir_all(env.tmp.path().join("home")).unwrap();
    let root = env.root();

    let checked = play(&env, &["--check"]);
    assert_eq!(checked.n("failed"), 0, "{}", checked.output);
    assert!(
        snapshot(&root).is_empty(),
        "check mode wrote under the root"
    );

    let first = play(&env, &[]);
    assert_eq!(first.n("failed"), 0, "{}", first.output);
    for d in ["etc", "usr", "usr/local", "usr/local/sbin"] {
        let md = fs::metadata(root.join(d)).unwrap();
        assert_eq!(
            (md.mode() & 0o7777, md.uid(), md.gid()),
            (0o755, 0, 0),
            "{d}"
        );
    }
    assert!(root.join("usr/local/sbin/iris-freeze").is_file());
    assert!(root.join("etc/iris-freeze.toml").is_file());
    let again = play(&env, &[]);
    assert_eq!(again.n("changed"), 0, "{}", again.output);
}

/// A root that is not there is a mistyped one: the role says so and creates nothing.
#[test]
#[ignore = "needs ansible-playbook and root; run by .ci/run"]
fn a_root_that_does_not_exist_is_refused() {
    let env = host();
    let missing = env.tmp.path().join("no-such-root");
    let mut c = env.command(&on_path("ansible-playbook"));
    c.env("IRIS_FREEZE_ROOT", &missing);
    let p = run_play(&env, c, &[]);
    assert_eq!(p.n("failed"), 1, "{}", p.output);
    assert!(p.output.contains("is not a directory"), "{}", p.output);
    assert!(!missing.exists(), "{}", p.output);
}
