//! Hooks run exactly as the backup products run them: their argument vector, their user, stdin
//! from /dev/null, and their output where they put it, end to end against the simulator.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::common::{Env, Run, install_host};

fn install(env: &Env, platform: &str) {
    let r = env.run(&["install", platform]);
    assert_eq!(r.code, 0, "install {platform}: {}", r.text());
}

const ASR_SCRIPT: &str = "/usr/local/ASR/Vx/scripts/customscript.sh";

/// What the Site Recovery mobility agent does for one phase: it writes a `/bin/sh` wrapper that
/// `exec`s `<install dir>/scripts/customscript.sh <arg>`, runs it as root with stdin from
/// /dev/null, appends its output to customscript.log, and ignores its exit code (returned here
/// so the test can look at it).
fn asr_agent_runs(env: &Env, arg: &str) -> (i32, String) {
    let script = env.at(ASR_SCRIPT);
    let wrapper = env.tmp.path().join("inm_tmp_script1234.sh");
    fs::write(
        &wrapper,
        format!("#!/bin/sh\nexec '{}' {arg}\n", script.display()),
    )
    .unwrap();
    fs::set_permissions(&wrapper, fs::Permissions::from_mode(0o700)).unwrap();
    let log_path = env
        .tmp
        .path()
        .join("ApplicationPolicyLogs/customscript.log");
    fs::create_dir_all(log_path.parent().unwrap()).unwrap();
    let before = fs::read_to_string(&log_path).unwrap_or_default().len();
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .unwrap();
    let status = env
        .command(Path::new("/bin/sh"))
        .arg(&wrapper)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .status()
        .unwrap();
    let text = fs::read_to_string(&log_path).unwrap();
    (status.code().unwrap(), text[before..].to_string())
}

#[test]
fn asr_pre_freezes_and_post_thaws_through_the_installed_script() {
    let env = install_host();
    install(&env, "asr");
    let (code, out) = asr_agent_runs(&env, "--pre");
    assert_eq!(code, 0, "{out}");
    assert!(env.frozen("IRIS"));
    assert!(out.contains("frozen: IRIS"), "{out}");
    let (code, out) = asr_agent_runs(&env, "--post");
    assert_eq!(code, 0, "{out}");
    assert!(!env.frozen("IRIS"));
    assert!(env.recorded().is_empty());
    let thaw = env.history_events_of("thaw");
    assert_eq!(thaw[0]["instances"][0]["verdict"], "consistent", "{thaw:?}");
}

#[test]
fn asr_a_failed_freeze_is_loud_though_the_agent_ignores_it() {
    let env = install_host();
    env.fault("IRIS", "freeze=fail");
    install(&env, "asr");
    let (code, out) = asr_agent_runs(&env, "--pre");
    // The agent ignores it, but it is still 1, and the failure is in the agent's own log.
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("ERROR IRIS: ExternalFreeze failed"), "{out}");
    assert!(
        out.contains("iris-freeze: freeze failed") && out.contains("rolled back"),
        "{out}"
    );
    assert!(!env.frozen("IRIS"));
    assert!(env.log_text().contains("rolled back"), "{}", env.log_text());
    let r = env.run(&["history", "--json"]);
    let cycles: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    // The history says who called, and that this point is not consistent.
    let c = &cycles[0];
    assert_eq!(c["by"], "asr", "{}", r.stdout);
    assert_eq!(c["ended"], "rolled back", "{}", r.stdout);
    assert!(
        c["verdict"].as_str().unwrap().contains("not consistent"),
        "{}",
        r.stdout
    );
    // The agent calls --post anyway: nothing is frozen, so nothing to thaw, and it is clean.
    let (code, out) = asr_agent_runs(&env, "--post");
    assert_eq!(code, 0, "{out}");
    assert!(!env.frozen("IRIS"));
    assert!(env.recorded().is_empty());
}

#[test]
fn asr_an_unknown_argument_is_refused_before_any_iris_call() {
    let env = install_host();
    install(&env, "asr");
    for arg in ["--bogus", "", "pre"] {
        let (code, out) = asr_agent_runs(&env, &format!("'{arg}'"));
        assert_eq!(code, 1, "{arg:?}: {out}");
        assert!(out.contains("--pre, --post"), "{arg:?}: {out}");
        assert!(out.contains("nothing was frozen"), "{arg:?}: {out}");
    }
    let (code, out) = asr_agent_runs(&env, "");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("with no argument"), "{out}");
    assert!(env.call_lines().is_empty(), "{:?}", env.call_lines());
    // Any case, as a link too.
    let r: Run = env.run(&["asr", "--PRE"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    let r = env.run_program(&env.hook("customscript.sh"), &["--post"], &[]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
}

/// What Commvault's client does with a PreSnap or PostSnap command: the command as entered on
/// the subclient (`<binary> commvault-pre`), then what the CommServe appends, run as root (the
/// client's account) with no terminal.
fn commvault_runs(env: &Env, verb: &str, attempt: u32, job: &str) -> Run {
    let attempt = attempt.to_string();
    env.run(&[
        verb,
        "-bkplevel",
        "1",
        "-attempt",
        &attempt,
        "-status",
        "1",
        "-job",
        job,
    ])
}

#[test]
fn commvault_presnap_and_postsnap_with_the_appended_arguments() {
    let env = install_host();
    let r = env.run(&["install", "commvault"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stdout.contains(" commvault-pre\n"), "{}", r.stdout);
    assert!(
        r.stdout.contains("Run PostSnap for all attempts"),
        "{}",
        r.stdout
    );
    let r = commvault_runs(&env, "commvault-pre", 1, "4711");
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    assert!(
        env.log_text()
            .contains("backup job 4711 attempt 1 (-bkplevel 1 -status 1)"),
        "{}",
        env.log_text()
    );
    let r = commvault_runs(&env, "commvault-post", 1, "4711");
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    for kind in ["freeze", "thaw"] {
        let e = &env.history_events_of(kind)[0];
        assert_eq!(e["job"], "4711", "{e}");
        assert_eq!(e["attempt"], 1, "{e}");
        assert_eq!(
            e["by"],
            format!(
                "commvault-{}",
                if kind == "freeze" { "pre" } else { "post" }
            )
        );
    }
    assert_eq!(
        env.history_events_of("thaw")[0]["instances"][0]["verdict"],
        "consistent"
    );
    let r = env.run(&["history"]);
    assert!(
        r.stdout.contains("by commvault-pre (job 4711)"),
        "{}",
        r.stdout
    );
    let r = env.run(&["history", "--json"]);
    let cycles: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(cycles[0]["job"], "4711", "{}", r.stdout);
}

#[test]
fn commvault_a_failed_presnap_is_rolled_back_and_its_retry_freezes() {
    let env = install_host();
    env.iris("IRIS2");
    // The first attempt fails on the second instance: exit 1 (the job goes Pending), nothing
    // left frozen; the retry, a new -attempt, freezes both.
    env.fault("IRIS2", "freeze=fail@1");
    let r = commvault_runs(&env, "commvault-pre", 1, "90");
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(!env.frozen("IRIS") && !env.frozen("IRIS2"));
    let rb = &env.history_events_of("rollback")[0];
    assert_eq!(
        (rb["job"].as_str(), rb["attempt"].as_u64()),
        (Some("90"), Some(1)),
        "{rb}"
    );
    let r = commvault_runs(&env, "commvault-pre", 2, "90");
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS") && env.frozen("IRIS2"));
    assert_eq!(env.history_events_of("freeze")[0]["attempt"], 2);
    let r = commvault_runs(&env, "commvault-post", 2, "90");
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS") && !env.frozen("IRIS2"));
}

#[test]
fn commvault_a_retried_presnap_keeps_our_own_freeze_and_rearms() {
    let env = install_host();
    let r = commvault_runs(&env, "commvault-pre", 1, "91");
    assert_eq!(r.code, 0, "{}", r.text());
    let first = env.watchdog_pid().expect("a watchdog");
    // The job was retried anyway (another phase failed): our freeze still holds.
    let r = commvault_runs(&env, "commvault-pre", 2, "91");
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    assert_eq!(env.calls("IRIS", "freeze"), 1, "frozen once");
    assert!(
        env.log_text().contains("keeping it frozen"),
        "{}",
        env.log_text()
    );
    let second = env.watchdog_pid().expect("a watchdog");
    assert_ne!(first, second, "the watchdog is re-armed");
    let kept = &env.history_events_of("freeze")[1];
    assert_eq!(kept["instances"][0]["result"], "kept", "{kept}");
    assert_eq!(kept["attempt"], 2, "{kept}");
    let r = commvault_runs(&env, "commvault-post", 2, "91");
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    assert!(env.recorded().is_empty());
}

#[test]
fn commvault_other_arguments_are_refused_before_any_iris_call() {
    let env = install_host();
    for args in [
        &["commvault-pre", "--instance", "X"][..],
        &["commvault-pre", "-job", "1;reboot"],
        &["commvault-pre", "-attempt", "one"],
        &["commvault-post", "-job", "5", "-job", "6"],
        &["commvault-pre", "-bkplevel"],
    ] {
        let r = env.run(args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.text());
        assert!(
            r.stderr.contains("-bkplevel N -attempt N"),
            "{args:?}: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains("nothing was frozen"),
            "{args:?}: {}",
            r.stderr
        );
    }
    assert!(env.call_lines().is_empty(), "{:?}", env.call_lines());
    // With /suppress, the CommServe appends nothing.
    let r = env.run(&["commvault-pre", "/suppress"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    let r = env.run(&["commvault-post"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
}

const VEEAM_PRE: &str = "/opt/iris-freeze/veeam/iris-pre-freeze.sh";
const VEEAM_POST: &str = "/opt/iris-freeze/veeam/iris-post-thaw.sh";

/// What Veeam does with a job script: runs the `.sh` file itself, from `/`, with no argument and
/// stdin from /dev/null (as root: the agent's service, or the community wrapper's `su - root`).
fn veeam_runs(env: &Env, script: &Path) -> Run {
    let out = env.command(script).current_dir("/").output().unwrap();
    Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: std::time::Duration::ZERO,
    }
}

#[test]
fn veeam_agent_pre_freeze_and_post_thaw_scripts() {
    let env = install_host();
    install(&env, "veeam-agent");
    for p in [VEEAM_PRE, VEEAM_POST] {
        let text = fs::read_to_string(env.at(p)).unwrap();
        assert!(
            !text.contains('\r') && text.starts_with("#!/bin/sh\n"),
            "{text}"
        );
    }
    let r = veeam_runs(&env, &env.at(VEEAM_PRE));
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    let r = veeam_runs(&env, &env.at(VEEAM_POST));
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    assert_eq!(env.history_events_of("freeze")[0]["by"], "veeam-freeze");
    let thaw = &env.history_events_of("thaw")[0];
    assert_eq!(thaw["by"], "veeam-thaw");
    assert_eq!(thaw["instances"][0]["verdict"], "consistent", "{thaw}");
    // A failed freeze is a failed script (exit 1), rolled back: the job reports it.
    env.fault("IRIS", "freeze=fail@1");
    let r = veeam_runs(&env, &env.at(VEEAM_PRE));
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    let r = veeam_runs(&env, &env.at(VEEAM_POST));
    assert_eq!(r.code, 0, "{}", r.text());
}

#[test]
fn veeam_dropin_scripts_run_by_the_community_wrappers() {
    let env = install_host();
    install(&env, "veeam-dropin");
    // The wrappers run every executable of the folder, in order.
    let run_folder = |dir: &str| {
        let mut scripts: Vec<PathBuf> = fs::read_dir(env.at(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        scripts.sort();
        assert_eq!(scripts.len(), 1, "{scripts:?}");
        veeam_runs(&env, &scripts[0])
    };
    let r = run_folder("/opt/veeam/scripts/pre");
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    let r = run_folder("/opt/veeam/scripts/post");
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
}

/// The scripts `install veeam-vbr` prints, by name.
fn vbr_scripts(stdout: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for part in stdout.split("---- ").skip(1) {
        let Some((name, body)) = part.split_once(" ----\n") else {
            continue;
        };
        out.push((name.to_string(), body.to_string()));
    }
    out
}

#[test]
fn veeam_vbr_uploaded_scripts_run_from_tmp_as_root_or_through_sudo() {
    let env = install_host();
    let r = env.run(&["install", "veeam-vbr"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout.contains("\"Require successful script execution\""),
        "{}",
        r.stdout
    );
    let bin = fs::canonicalize(crate::common::BIN).unwrap();
    let b = bin.display();
    assert!(
        r.stdout.contains(&format!(
            "VEEAM_USER ALL=(root) NOPASSWD: {b} veeam-freeze, {b} veeam-thaw\n"
        )),
        "{}",
        r.stdout
    );
    let scripts = vbr_scripts(&r.stdout);
    assert_eq!(
        scripts.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(),
        ["iris-pre-freeze.sh", "iris-post-thaw.sh"],
        "{}",
        r.stdout
    );
    assert!(
        env.root().read_dir().unwrap().next().is_none(),
        "nothing written"
    );
    // Uploaded to /tmp and run there. A guest account that is not root goes through sudo: a
    // stand-in `sudo` (the NOPASSWD line) and `id` show that path.
    let tmp = env.tmp.path().join("guest-tmp");
    let fake = env.tmp.path().join("fake-bin");
    fs::create_dir_all(&tmp).unwrap();
    fs::create_dir_all(&fake).unwrap();
    let sudo_log = env.tmp.path().join("sudo.log");
    let write_exec = |p: &Path, text: &str| {
        fs::write(p, text).unwrap();
        fs::set_permissions(p, fs::Permissions::from_mode(0o755)).unwrap();
    };
    write_exec(
        &fake.join("sudo"),
        &format!(
            "#!/bin/sh\n[ \"$1\" = -n ] || exit 9\nshift\necho \"$@\" >> '{}'\nexec \"$@\"\n",
            sudo_log.display()
        ),
    );
    for (name, body) in &scripts {
        write_exec(&tmp.join(name), body);
    }
    let run = |name: &str, as_user: bool| {
        if as_user {
            write_exec(&fake.join("id"), "#!/bin/sh\necho 1000\n");
        } else {
            let _ = fs::remove_file(fake.join("id"));
        }
        let path = format!("{}:{}:/usr/bin:/bin", fake.display(), env.bin.display());
        let out = env
            .command(Path::new("/bin/sh"))
            .arg(tmp.join(name))
            .current_dir(&tmp)
            .env("PATH", path)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap(), text)
    };
    for as_user in [false, true] {
        let (code, out) = run("iris-pre-freeze.sh", as_user);
        assert_eq!(code, 0, "{out}");
        assert!(env.frozen("IRIS"));
        let (code, out) = run("iris-post-thaw.sh", as_user);
        assert_eq!(code, 0, "{out}");
        assert!(!env.frozen("IRIS"));
    }
    let sudo = fs::read_to_string(&sudo_log).unwrap();
    assert_eq!(sudo, format!("{b} veeam-freeze\n{b} veeam-thaw\n"));
}

const COHESITY_DIR: &str = "/opt/cohesity/agent/software/crux/bin/user_scripts";

/// What Cohesity's Linux agent does with a script a protection group names: it takes the file
/// name only, runs that file of its `user_scripts` directory as root with the group's params
/// as arguments, stdin from /dev/null, and kills it at the group's `timeout_secs` (modelled by
/// `timeout`). Returns the exit code and the output the agent collects.
fn cohesity_agent_runs(env: &Env, name: &str, params: &[&str]) -> (i32, String) {
    let dir = env.at(COHESITY_DIR);
    let out = env
        .command(Path::new("/usr/bin/timeout"))
        .args(["-s", "KILL", "60"])
        .arg(dir.join(name))
        .args(params)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn cohesity_pre_freezes_post_snapshot_thaws_and_post_backup_thaws_again_cleanly() {
    let env = install_host();
    install(&env, "cohesity");
    let (code, out) = cohesity_agent_runs(&env, "iris-freeze-pre.sh", &["db=IRIS", "x y"]);
    assert_eq!(code, 0, "{out}");
    assert!(env.frozen("IRIS"));
    let (code, out) = cohesity_agent_runs(&env, "iris-freeze-post.sh", &[]);
    assert_eq!(code, 0, "{out}");
    assert!(!env.frozen("IRIS"));
    assert!(env.recorded().is_empty());
    assert_eq!(env.calls("IRIS", "thaw"), 1);
    // The post-backup script, the safety net: nothing is frozen, no IRIS thaw call, exit 0.
    let (code, out) = cohesity_agent_runs(&env, "iris-freeze-post.sh", &["after=backup"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(env.calls("IRIS", "thaw"), 1, "{out}");
    assert!(!env.frozen("IRIS"));
    let thaw = env.history_events_of("thaw");
    assert_eq!(thaw[0]["instances"][0]["verdict"], "consistent", "{thaw:?}");
}

#[test]
fn cohesity_a_failed_freeze_fails_the_pre_script_and_the_post_scripts_are_clean() {
    let env = install_host();
    env.fault("IRIS", "freeze=fail");
    install(&env, "cohesity");
    let (code, out) = cohesity_agent_runs(&env, "iris-freeze-pre.sh", &[]);
    // Non-zero: with continue on error off, the agent fails the run.
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("rolled back"), "{out}");
    assert!(!env.frozen("IRIS"));
    for _ in 0..2 {
        let (code, out) = cohesity_agent_runs(&env, "iris-freeze-post.sh", &[]);
        assert_eq!(code, 0, "{out}");
    }
    assert!(env.recorded().is_empty());
}

/// What the Rubrik Backup Service does with a script path entered for the VM: it runs that
/// file as root, with no arguments, stdin from /dev/null, and terminates it after `timeoutMs`
/// (modelled by `timeout`). Returns the exit code and the output.
fn rubrik_service_runs(env: &Env, path: &str, timeout_ms: u64) -> (i32, String) {
    let out = env
        .command(Path::new("/usr/bin/timeout"))
        .args(["-s", "KILL", &format!("{}s", timeout_ms as f64 / 1000.0)])
        .arg(env.at(path))
        .current_dir("/")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// The timeoutMs `install rubrik` tells to enter.
fn rubrik_timeout_ms(install_out: &str, field: &str) -> u64 {
    let line = install_out
        .lines()
        .find(|l| l.contains(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in {install_out}"));
    let at = line.find("timeoutMs ").unwrap() + "timeoutMs ".len();
    line[at..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn rubrik_pre_backup_freezes_post_snap_thaws_and_post_backup_thaws_again_cleanly() {
    let env = install_host();
    let r = env.run(&["install", "rubrik"]);
    assert_eq!(r.code, 0, "{}", r.text());
    // What to enter: the three paths, a timeout covering --timeout (30 s) and its rollback.
    let pre = "/opt/iris-freeze/rubrik/rubrik-pre-backup.sh";
    let snap = "/opt/iris-freeze/rubrik/rubrik-post-snap.sh";
    let backup = "/opt/iris-freeze/rubrik/rubrik-post-backup.sh";
    for (field, path, handling) in [
        ("preBackupScript", pre, "abort"),
        ("postSnapScript", snap, "abort"),
        ("postBackupScript", backup, "continue"),
    ] {
        let said = format!("scriptPath {path}  timeoutMs 45000  failureHandling {handling}");
        assert!(r.stdout.contains(&said), "{field}: {}", r.text());
    }
    let ms = rubrik_timeout_ms(&r.stdout, "preBackupScript");
    let (code, out) = rubrik_service_runs(&env, pre, ms);
    assert_eq!(code, 0, "{out}");
    assert!(env.frozen("IRIS"));
    let (code, out) = rubrik_service_runs(&env, snap, ms);
    assert_eq!(code, 0, "{out}");
    assert!(!env.frozen("IRIS"));
    assert_eq!(env.calls("IRIS", "thaw"), 1);
    // The safety net finds nothing frozen: no IRIS thaw, exit 0.
    let (code, out) = rubrik_service_runs(&env, backup, ms);
    assert_eq!(code, 0, "{out}");
    assert_eq!(env.calls("IRIS", "thaw"), 1, "{out}");
    assert!(env.recorded().is_empty());
    let thaw = env.history_events_of("thaw");
    assert_eq!(thaw[0]["instances"][0]["verdict"], "consistent", "{thaw:?}");
}

#[test]
fn rubrik_a_failed_freeze_aborts_and_both_thaws_are_clean() {
    let env = install_host();
    env.fault("IRIS", "freeze=fail");
    let r = env.run(&["install", "rubrik", "--timeout", "10"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let ms = rubrik_timeout_ms(&r.stdout, "preBackupScript");
    assert_eq!(ms, 25_000, "{}", r.text());
    let (code, out) = rubrik_service_runs(&env, "/opt/iris-freeze/rubrik/rubrik-pre-backup.sh", ms);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("rolled back"), "{out}");
    assert!(!env.frozen("IRIS"));
    for path in [
        "/opt/iris-freeze/rubrik/rubrik-post-snap.sh",
        "/opt/iris-freeze/rubrik/rubrik-post-backup.sh",
    ] {
        let (code, out) = rubrik_service_runs(&env, path, ms);
        assert_eq!(code, 0, "{path}: {out}");
    }
    assert!(env.recorded().is_empty());
}

/// What Google Cloud Backup and DR's agent does for one phase of a job: it runs `script` of
/// `/act/scripts` as root with `args` (none from a backup template, the phase from the legacy
/// `appid.<ID>.sh` convention), the job in `ACT_*` variables, stdin from /dev/null, and kills
/// it at the template's timeout (modelled by `timeout`).
fn gcbdr_agent_runs(env: &Env, script: &Path, args: &[&str], vars: &[(&str, &str)]) -> Run {
    let mut c = env.command(Path::new("/usr/bin/timeout"));
    c.args(["-s", "KILL", "60"])
        .arg(script)
        .args(args)
        .current_dir(env.at("/act/scripts"))
        .stdin(Stdio::null());
    for (k, v) in vars {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: std::time::Duration::ZERO,
    }
}

const JOB: &[(&str, &str)] = &[
    ("ACT_JOBNAME", "Job_0012345"),
    ("ACT_JOBTYPE", "snapshot"),
    ("ACT_APPNAME", "IRIS"),
];

fn cycles(env: &Env) -> serde_json::Value {
    let r = env.run(&["history", "--json"]);
    serde_json::from_str(&r.stdout).unwrap()
}

#[test]
fn gcbdr_template_scripts_run_each_phase_by_their_names() {
    let env = install_host();
    install(&env, "gcbdr");
    let script = |p: &str| env.at(&format!("/act/scripts/gcbdr-{p}.sh"));
    let r = gcbdr_agent_runs(&env, &script("init"), &[], JOB);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stdout.contains("nothing to do"), "{}", r.text());
    assert!(env.call_lines().is_empty(), "{:?}", env.call_lines());
    let r = gcbdr_agent_runs(&env, &script("pre"), &[], JOB);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    let r = gcbdr_agent_runs(&env, &script("post"), &[], JOB);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    // FINAL thaws only what is still frozen: nothing here, so no IRIS thaw, exit 0.
    let r = gcbdr_agent_runs(&env, &script("final"), &[], JOB);
    assert_eq!(r.code, 0, "{}", r.text());
    assert_eq!(env.calls("IRIS", "thaw"), 1);
    assert!(env.recorded().is_empty());
    let c = cycles(&env);
    assert_eq!(c[0]["verdict"], "consistent", "{c}");
    assert_eq!(c[0]["by"], "gcbdr-pre.sh", "{c}");
    assert_eq!(c[0]["job"], "\"Job_0012345\"", "{c}");
    // The log names the job at each phase's start, with its type and application.
    let log = env.log_text();
    let said = "called for backup job \"Job_0012345\" attempt ? (type \"snapshot\", app \"IRIS\")";
    assert!(log.contains(said), "{log}");
}

#[test]
fn gcbdr_abort_thaws_and_the_legacy_argument_and_act_phase_work() {
    let env = install_host();
    install(&env, "gcbdr");
    let pre = env.at("/act/scripts/gcbdr-pre.sh");
    let abort = env.at("/act/scripts/gcbdr-abort.sh");
    let r = gcbdr_agent_runs(&env, &pre, &[], JOB);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    let r = gcbdr_agent_runs(&env, &abort, &[], JOB);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    // The legacy appid.<ID>.sh, as a person writes it, with the phase as its first argument.
    let appid = env.at("/act/scripts/appid.4711.sh");
    fs::write(
        &appid,
        format!(
            "#!/bin/sh\nexec '{}' gcbdr \"$1\"\n",
            env!("CARGO_BIN_EXE_iris-freeze")
        ),
    )
    .unwrap();
    fs::set_permissions(&appid, fs::Permissions::from_mode(0o755)).unwrap();
    for (phase, frozen) in [
        ("init", false),
        ("freeze", true),
        ("thaw", false),
        ("fini", false),
    ] {
        let r = gcbdr_agent_runs(&env, &appid, &[phase], JOB);
        assert_eq!(r.code, 0, "{phase}: {}", r.text());
        assert_eq!(env.frozen("IRIS"), frozen, "{phase}");
    }
    // ACT_PHASE, when no argument names the phase; any case.
    let r = gcbdr_agent_runs(&env, &appid, &[], &[("ACT_PHASE", "PRE")]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    let r = gcbdr_agent_runs(&env, &appid, &[], &[("ACT_PHASE", "abort")]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    assert_eq!(env.calls("IRIS", "freeze"), 3);
    // No phase anywhere, or an unknown one: refused before any IRIS call.
    let calls = env.call_lines().len();
    for (args, vars) in [
        (&[][..], &[][..]),
        (&["bogus"][..], &[("ACT_PHASE", "nope")][..]),
    ] {
        let r = gcbdr_agent_runs(&env, &appid, args, vars);
        assert_eq!(r.code, 1, "{args:?}: {}", r.text());
        assert!(r.stderr.contains("pre, freeze, post"), "{}", r.text());
    }
    assert_eq!(env.call_lines().len(), calls);
}

#[test]
fn gcbdr_hostile_job_names_are_bounded_and_escaped_in_the_log_and_history() {
    let env = install_host();
    install(&env, "gcbdr");
    let hostile = format!("evil\u{1b}[31m\n\"quote\\{}", "x".repeat(500));
    let vars = [
        ("ACT_JOBNAME", hostile.as_str()),
        ("ACT_JOBTYPE", "snap\u{7}\r\nshot"),
    ];
    let r = gcbdr_agent_runs(&env, &env.at("/act/scripts/gcbdr-pre.sh"), &[], &vars);
    assert_eq!(r.code, 0, "{}", r.text());
    let r = gcbdr_agent_runs(&env, &env.at("/act/scripts/gcbdr-post.sh"), &[], &vars);
    assert_eq!(r.code, 0, "{}", r.text());
    let c = cycles(&env);
    let job = c[0]["job"].as_str().unwrap();
    assert!(
        job.chars().all(|c| c == ' ' || c.is_ascii_graphic()),
        "{job:?}"
    );
    assert!(job.len() < 100, "{job:?}");
    assert!(job.starts_with("\"evil?[31m?\\\"quote\\\\xxx"), "{job:?}");
    assert!(job.ends_with("x...\""), "{job:?}");
    let log = env.log_text();
    assert!(log.contains("type \"snap???shot\""), "{log}");
    assert!(!log.contains('\u{1b}') && !log.contains('\u{7}'), "{log}");
    let r = env.run(&["history"]);
    assert!(!r.stdout.contains('\u{1b}'), "{}", r.stdout);
}
