//! End-to-end tests of `install`, `uninstall` and `check`: the real binary, a temp dir as
//! `--root` (IRIS_FREEZE_ROOT), and the IRIS simulator.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use crate::common::{self, Env, Run, install_host};

const PLATFORMS: [&str; 9] = [
    "azure", "vmware", "qemu", "gcp", "nutanix", "asr", "cohesity", "rubrik", "gcbdr",
];

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// The binary's canonical path, as the hooks name it.
fn bin() -> PathBuf {
    fs::canonicalize(common::BIN).unwrap()
}

fn fail_lines(r: &Run) -> Vec<&str> {
    r.stdout.lines().filter(|l| l.starts_with("FAIL")).collect()
}

fn mode(p: &Path) -> u32 {
    fs::symlink_metadata(p).unwrap().mode() & 0o7777
}

/// Every path under `dir`: its kind, contents or link target, and mode.
fn tree(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let md = fs::symlink_metadata(&p).unwrap();
            let desc = if md.file_type().is_symlink() {
                format!("link {}", fs::read_link(&p).unwrap().display())
            } else if md.is_dir() {
                stack.push(p.clone());
                format!("dir {:o}", md.mode() & 0o7777)
            } else {
                format!(
                    "file {:o} {}:{} {}",
                    md.mode() & 0o7777,
                    md.uid(),
                    md.gid(),
                    String::from_utf8_lossy(&fs::read(&p).unwrap())
                )
            };
            out.insert(p, desc);
        }
    }
    out
}

fn backups(env: &Env) -> Vec<PathBuf> {
    tree(&env.root())
        .into_keys()
        .filter(|p| p.to_string_lossy().contains(".iris-freeze-bak."))
        .collect()
}

fn install(env: &Env, platform: &str) -> Run {
    let r = env.run(&["install", platform]);
    assert_eq!(r.code, 0, "install {platform}: {}", r.text());
    r
}

fn check(env: &Env, platform: &str) -> Run {
    env.run(&["check", platform])
}

fn assert_check_clean(env: &Env, platform: &str) {
    let r = check(env, platform);
    assert_eq!(r.code, 0, "check {platform}: {}", r.text());
    assert!(fail_lines(&r).is_empty(), "check {platform}: {}", r.text());
}

fn json(env: &Env) -> serde_json::Value {
    serde_json::from_slice(
        &fs::read(env.at("/etc/azure/VMSnapshotScriptPluginConfig.json")).unwrap(),
    )
    .unwrap()
}

fn write_json(env: &Env, v: &serde_json::Value) {
    let p = env.at("/etc/azure/VMSnapshotScriptPluginConfig.json");
    fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
}

fn write_mode(p: &Path, text: &[u8], mode: u32) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn every_platform_installs_checks_clean_and_installs_again_unchanged() {
    let env = install_host();
    for p in PLATFORMS {
        install(&env, p);
        assert_check_clean(&env, p);
    }
    let b = bin();
    let b = b.to_str().unwrap();
    assert_eq!(
        fs::read_to_string(env.at("/etc/azure/prescript.sh")).unwrap(),
        format!(
            "#!/bin/sh\n# Installed by iris-freeze: Azure Backup pre-script. Azure runs it as \
             `sh <file> \"\" \"\"`.\nexec '{b}' azure-pre \"$@\"\n"
        )
    );
    assert!(
        fs::read_to_string(env.at("/etc/azure/postScript.sh"))
            .unwrap()
            .ends_with(&format!("\nexec '{b}' azure-post \"$@\"\n"))
    );
    let pre_freeze = fs::read_to_string(env.at("/usr/local/sbin/pre_freeze")).unwrap();
    assert!(pre_freeze.starts_with("#!/bin/sh\n# Installed by iris-freeze"));
    assert!(
        pre_freeze.ends_with(&format!("\nexec '{b}' freeze\n")),
        "{pre_freeze}"
    );
    assert!(
        fs::read_to_string(env.at("/usr/local/sbin/post_thaw"))
            .unwrap()
            .ends_with(&format!("\nexec '{b}' thaw\n"))
    );
    assert_eq!(
        fs::read_to_string(env.at("/usr/local/ASR/Vx/scripts/customscript.sh")).unwrap(),
        format!(
            "#!/bin/sh\n# Installed by iris-freeze: Azure Site Recovery custom script. The \
             mobility agent runs it as root with --pre or --post.\nexec '{b}' asr \"$@\"\n"
        )
    );
    let cohesity = "/opt/cohesity/agent/software/crux/bin/user_scripts";
    for (f, verb) in [
        ("iris-freeze-pre.sh", "freeze"),
        ("iris-freeze-post.sh", "thaw"),
    ] {
        let text = fs::read_to_string(env.at(&format!("{cohesity}/{f}"))).unwrap();
        assert!(
            text.starts_with("#!/bin/sh\n# Installed by iris-freeze: Cohesity "),
            "{text}"
        );
        assert!(text.ends_with(&format!("\nexec '{b}' {verb}\n")), "{text}");
    }
    for (f, verb) in [
        ("rubrik-pre-backup.sh", "freeze"),
        ("rubrik-post-snap.sh", "thaw"),
        ("rubrik-post-backup.sh", "thaw"),
    ] {
        let p = env.at(&format!("/opt/iris-freeze/rubrik/{f}"));
        let text = fs::read_to_string(&p).unwrap();
        assert!(
            text.starts_with("#!/bin/sh\n# Installed by iris-freeze: Rubrik "),
            "{text}"
        );
        assert!(text.ends_with(&format!("\nexec '{b}' {verb}\n")), "{text}");
        assert_eq!(mode(&p), 0o755, "{f}");
    }
    for link in [
        "/usr/sbin/pre-freeze-script",
        "/usr/sbin/post-thaw-script",
        "/etc/qemu/fsfreeze-hook",
        "/etc/google/snapshots/pre.sh",
        "/etc/google/snapshots/post.sh",
        "/act/scripts/gcbdr-init.sh",
        "/act/scripts/gcbdr-pre.sh",
        "/act/scripts/gcbdr-post.sh",
        "/act/scripts/gcbdr-final.sh",
        "/act/scripts/gcbdr-abort.sh",
    ] {
        assert_eq!(fs::read_link(env.at(link)).unwrap(), bin(), "{link}");
    }
    for (f, m) in [
        ("/etc/azure/prescript.sh", 0o700),
        ("/etc/azure/postScript.sh", 0o700),
        ("/etc/azure/VMSnapshotScriptPluginConfig.json", 0o600),
        ("/usr/local/sbin/pre_freeze", 0o700),
        ("/usr/local/sbin/post_thaw", 0o700),
        ("/etc/google/snapshots", 0o700),
        ("/usr/local/ASR/Vx/scripts/customscript.sh", 0o755),
        (
            "/opt/cohesity/agent/software/crux/bin/user_scripts/iris-freeze-pre.sh",
            0o755,
        ),
        (
            "/opt/cohesity/agent/software/crux/bin/user_scripts/iris-freeze-post.sh",
            0o755,
        ),
    ] {
        assert_eq!(mode(&env.at(f)), m, "{f}");
        if is_root() {
            let md = fs::symlink_metadata(env.at(f)).unwrap();
            assert_eq!((md.uid(), md.gid()), (0, 0), "{f}");
        }
    }
    let v = json(&env);
    assert_eq!(v["preScriptLocation"], "/etc/azure/prescript.sh");
    assert_eq!(v["postScriptLocation"], "/etc/azure/postScript.sh");
    assert_eq!(v["preScriptParams"], serde_json::json!(["", ""]));
    assert_eq!(v["timeoutInSeconds"], 45);
    assert_eq!(v["continueBackupOnFailure"], true);
    assert_eq!(v["fsFreezeEnabled"], true);
    assert_eq!(v["ScriptsExecutionPollTimeSeconds"], 1);
    assert!(!env.at("/etc/azure/VMSnapshotPluginHost.conf").exists());

    // Idempotent: the same files, no backup, every line says unchanged.
    let before = tree(&env.root());
    for p in PLATFORMS {
        let r = install(&env, p);
        // The file lines (the next steps name the root too, in their commands).
        for l in r
            .stdout
            .lines()
            .filter(|l| l.contains(&*env.root().to_string_lossy()) && !l.contains("`iris-freeze "))
        {
            assert!(
                l.starts_with("unchanged "),
                "install {p} again: {}",
                r.text()
            );
        }
    }
    assert_eq!(tree(&env.root()), before);
    assert!(backups(&env).is_empty());
}

#[test]
fn an_explicit_root_flag_and_a_missing_root() {
    let env = install_host();
    let other = env.tmp.path().join("image");
    fs::create_dir_all(&other).unwrap();
    let r = env.run(&["install", "vmware", "--root", other.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(fs::symlink_metadata(other.join("usr/sbin/pre-freeze-script")).is_ok());
    assert!(!env.at("/usr/sbin").exists());

    let missing = env.tmp.path().join("typo");
    let r = env.run(&["install", "vmware", "--root", missing.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(!missing.exists());
}

#[test]
fn install_azure_into_a_missing_root_says_it_does_not_exist_and_changes_nothing() {
    let env = install_host();
    let before = tree(env.tmp.path());
    let missing = env.tmp.path().join("typo");
    for args in [
        vec!["install", "azure", "--root", missing.to_str().unwrap()],
        vec!["uninstall", "azure", "--root", missing.to_str().unwrap()],
    ] {
        let r = env.run(&args);
        assert_eq!(r.code, 1, "{}", r.text());
        let said = format!(
            "--root {} (IRIS_FREEZE_ROOT) does not exist",
            missing.display()
        );
        assert!(r.stderr.contains(&said), "{}", r.text());
        assert!(r.stderr.contains("nothing was changed"), "{}", r.text());
    }
    assert!(!missing.exists());
    assert_eq!(tree(env.tmp.path()), before);
}

#[test]
fn the_next_steps_and_checks_fixes_keep_the_root() {
    let env = install_host();
    let image = env.tmp.path().join("image");
    fs::create_dir_all(&image).unwrap();
    let root = image.to_str().unwrap();
    let r = env.run(&["install", "qemu", "--root", root]);
    assert_eq!(r.code, 0, "{}", r.text());
    let step = format!("Run `iris-freeze check qemu --root {root}`");
    assert!(r.stdout.contains(&step), "{}", r.text());
    // The root from IRIS_FREEZE_ROOT (the harness's) is kept the same way.
    let r = install(&env, "azure");
    let step = format!("`iris-freeze check azure --root {}`", env.root().display());
    assert!(r.stdout.contains(&step), "{}", r.text());
    // check's fixes: every suggested command names the root.
    let r = env.run(&["check", "vmware", "--root", root]);
    assert_eq!(r.code, 1, "{}", r.text());
    let fix = format!("`iris-freeze install vmware --root {root}`");
    assert!(
        fail_lines(&r).iter().any(|l| l.contains(&fix)),
        "{}",
        r.text()
    );
    for l in r.stdout.lines() {
        let mut rest = l;
        while let Some(at) = rest.find("`iris-freeze ") {
            let cmd = &rest[at + 1..];
            let cmd = &cmd[..cmd.find('`').unwrap()];
            assert!(
                cmd.contains(&format!(" --root {root}")),
                "{cmd}: {}",
                r.text()
            );
            rest = &rest[at + 1 + cmd.len() + 1..];
        }
    }
}

#[test]
fn uninstall_offers_no_timeout() {
    let env = install_host();
    let r = env.run(&["uninstall", "--help"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stdout.contains("<PLATFORM>"), "{}", r.text());
    assert!(!r.stdout.contains("--timeout"), "{}", r.text());
    let r = env.run(&["uninstall", "vmware", "--timeout", "5"]);
    assert_ne!(r.code, 0, "{}", r.text());
    assert!(r.stderr.contains("--timeout"), "{}", r.text());
    // The variable the hooks share is no error for it.
    let r = env.run_env(&["uninstall", "vmware"], &[("IRIS_FREEZE_TIMEOUT", "5")]);
    assert_eq!(r.code, 0, "{}", r.text());
}

#[test]
fn the_azure_wrappers_run_by_sh_freeze_and_thaw() {
    let env = install_host();
    install(&env, "azure");
    let sh = Path::new("/bin/sh");
    let pre = env.at("/etc/azure/prescript.sh");
    let post = env.at("/etc/azure/postScript.sh");
    // Exactly what the extension does: `sh <path> "" ""`.
    let r = env.run_program(sh, &[pre.to_str().unwrap(), "", ""], &[]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    let r = env.run_program(sh, &[post.to_str().unwrap(), "", ""], &[]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
}

#[test]
fn the_nutanix_wrappers_and_vmware_links_freeze_and_thaw() {
    let env = install_host();
    install(&env, "nutanix");
    install(&env, "vmware");
    let r = env.run_program(&env.at("/usr/local/sbin/pre_freeze"), &[], &[]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    let r = env.run_program(&env.at("/usr/local/sbin/post_thaw"), &[], &[]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    let r = env.run_program(&env.at("/usr/sbin/pre-freeze-script"), &["freeze", ""], &[]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    let r = env.run_program(&env.at("/usr/sbin/post-thaw-script"), &["thaw"], &[]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
}

#[test]
fn a_replaced_foreign_file_is_backed_up_and_the_report_names_the_backup() {
    let env = install_host();
    let pre = env.at("/etc/azure/prescript.sh");
    write_mode(&pre, b"#!/bin/sh\necho my own pre-script\n", 0o700);
    let vm = env.at("/usr/sbin/pre-freeze-script");
    write_mode(&vm, b"#!/bin/sh\nexit 0\n", 0o755);

    for (p, file, old) in [
        ("azure", &pre, "#!/bin/sh\necho my own pre-script\n"),
        ("vmware", &vm, "#!/bin/sh\nexit 0\n"),
    ] {
        let r = install(&env, p);
        let bak: Vec<PathBuf> = backups(&env)
            .into_iter()
            .filter(|b| {
                b.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&*file.file_name().unwrap().to_string_lossy())
            })
            .collect();
        assert_eq!(bak.len(), 1, "{bak:?}");
        let name = bak[0].file_name().unwrap().to_string_lossy().into_owned();
        let stamp = name.rsplit('.').next().unwrap();
        assert_eq!(stamp.len(), 15, "{name}");
        assert_eq!(stamp.as_bytes()[8], b'T', "{name}");
        assert_eq!(fs::read_to_string(&bak[0]).unwrap(), old);
        let line = r
            .stdout
            .lines()
            .find(|l| l.starts_with("replaced") && l.contains(&*file.to_string_lossy()))
            .unwrap_or_else(|| panic!("{}", r.text()));
        assert!(line.contains(&*bak[0].to_string_lossy()), "{line}");
        assert_check_clean(&env, p);
    }
    assert!(
        fs::read_to_string(&pre)
            .unwrap()
            .contains("Installed by iris-freeze")
    );
    assert_eq!(fs::read_link(&vm).unwrap(), bin());
    // Installing again makes no new backup.
    install(&env, "azure");
    install(&env, "vmware");
    assert_eq!(backups(&env).len(), 2);
}

#[test]
fn the_plugin_json_is_merged_keeping_unknown_keys_and_their_order() {
    let env = install_host();
    let p = env.at("/etc/azure/VMSnapshotScriptPluginConfig.json");
    let original = r#"{
  "appName": "billing",
  "preScriptLocation": "/opt/old/pre.sh",
  "timeoutInSeconds": 900,
  "preScriptParams": "",
  "postScriptParams": ["", ""],
  "custom": {"keep": [1, 2]},
  "fsFreezeEnabled": "true"
}
"#;
    write_mode(&p, original.as_bytes(), 0o644);
    let r = install(&env, "azure");
    let v = json(&env);
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        &keys[..7],
        [
            "appName",
            "preScriptLocation",
            "timeoutInSeconds",
            "preScriptParams",
            "postScriptParams",
            "custom",
            "fsFreezeEnabled"
        ]
    );
    assert_eq!(v["appName"], "billing");
    assert_eq!(v["custom"], serde_json::json!({"keep": [1, 2]}));
    assert_eq!(v["preScriptLocation"], "/etc/azure/prescript.sh");
    // A larger numeric timeout is kept.
    assert_eq!(v["timeoutInSeconds"], 900);
    assert_eq!(v["preScriptParams"], serde_json::json!(["", ""]));
    assert_eq!(v["fsFreezeEnabled"], true);
    assert_eq!(v["pluginName"], "ScriptRunner");
    assert_eq!(v["preScriptNoOfRetries"], 0);
    assert_eq!(mode(&p), 0o600);
    let bak = backups(&env);
    assert_eq!(bak.len(), 1);
    assert_eq!(fs::read_to_string(&bak[0]).unwrap(), original);
    assert!(
        r.stdout.contains(&*bak[0].to_string_lossy()),
        "{}",
        r.text()
    );
    assert!(r.stdout.contains("/opt/old/pre.sh"), "{}", r.text());
    assert_check_clean(&env, "azure");

    // A string timeout becomes a number; a smaller one is raised.
    let mut v = json(&env);
    v["timeoutInSeconds"] = serde_json::json!("600");
    write_json(&env, &v);
    install(&env, "azure");
    assert_eq!(json(&env)["timeoutInSeconds"], 45);
    let mut v = json(&env);
    v["timeoutInSeconds"] = serde_json::json!(20);
    write_json(&env, &v);
    install(&env, "azure");
    assert_eq!(json(&env)["timeoutInSeconds"], 45);
    // The timeout follows iris-freeze's own.
    env.config("timeout = 100\n");
    install(&env, "azure");
    assert_eq!(json(&env)["timeoutInSeconds"], 115);
    assert_check_clean(&env, "azure");
}

#[test]
fn a_workload_in_workload_conf_is_refused_and_nothing_is_written() {
    let env = install_host();
    let conf = env.at("/etc/azure/workload.conf");
    write_mode(
        &conf,
        b"[workload]\n# workload_name: oracle\nworkload_name = mysql\ncommand_path =\n",
        0o644,
    );
    let r = env.run(&["install", "azure"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stdout.contains(&*conf.to_string_lossy()), "{}", r.text());
    assert!(r.stdout.contains("workload_name"), "{}", r.text());
    assert!(r.stdout.contains("mysql"), "{}", r.text());
    let names: Vec<String> = fs::read_dir(env.at("/etc/azure"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["workload.conf"]);

    // Emptied, it installs.
    write_mode(&conf, b"[workload]\nworkload_name =\n", 0o644);
    install(&env, "azure");
    assert_check_clean(&env, "azure");
}

/// One Azure mistake: what to break after a clean install, and the FAIL line it must give.
struct Mistake {
    what: &'static str,
    root_only: bool,
    setup: fn(&Env),
    expect: &'static str,
}

fn edit_json(env: &Env, f: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>)) {
    let mut v = json(env);
    f(v.as_object_mut().unwrap());
    write_json(env, &v);
}

fn fake_binary(env: &Env, mode: u32) -> PathBuf {
    let p = env.tmp.path().join("opt/iris-freeze");
    write_mode(&p, b"#!/bin/sh\nexit 0\n", mode);
    p
}

fn wrapper_running(env: &Env, prog: &Path) {
    write_mode(
        &env.at("/etc/azure/prescript.sh"),
        format!(
            "#!/bin/sh\n# Installed by iris-freeze: test\nexec '{}' azure-pre \"$@\"\n",
            prog.display()
        )
        .as_bytes(),
        0o700,
    );
}

const MISTAKES: &[Mistake] = &[
    Mistake {
        what: "script is a symlink to the binary",
        root_only: false,
        setup: |env| {
            let p = env.at("/etc/azure/prescript.sh");
            fs::remove_file(&p).unwrap();
            symlink(common::BIN, &p).unwrap();
        },
        expect: "prescript.sh is a symlink to the binary",
    },
    Mistake {
        what: "script is an ELF binary",
        root_only: false,
        setup: |env| {
            let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
            elf.resize(64, 0);
            write_mode(&env.at("/etc/azure/prescript.sh"), &elf, 0o700);
        },
        expect: "prescript.sh is an ELF binary",
    },
    Mistake {
        what: "timeoutInSeconds as a string",
        root_only: false,
        setup: |env| {
            edit_json(env, |m| {
                drop(m.insert("timeoutInSeconds".into(), "60".into()))
            })
        },
        expect: "timeoutInSeconds is \"60\", not a JSON number",
    },
    Mistake {
        what: "continueBackupOnFailure as a string",
        root_only: false,
        setup: |env| {
            edit_json(env, |m| {
                drop(m.insert("continueBackupOnFailure".into(), "false".into()))
            })
        },
        expect: "continueBackupOnFailure is \"false\", not a JSON boolean",
    },
    Mistake {
        what: "fsFreezeEnabled as a string",
        root_only: false,
        setup: |env| {
            edit_json(env, |m| {
                drop(m.insert("fsFreezeEnabled".into(), "true".into()))
            })
        },
        expect: "fsFreezeEnabled is \"true\", not a JSON boolean",
    },
    Mistake {
        what: "poll time outside 1..5",
        root_only: false,
        setup: |env| {
            edit_json(env, |m| {
                drop(m.insert("ScriptsExecutionPollTimeSeconds".into(), 10.into()))
            })
        },
        expect: "ScriptsExecutionPollTimeSeconds is 10, outside 1..5",
    },
    Mistake {
        what: "poll time not a number",
        root_only: false,
        setup: |env| {
            edit_json(env, |m| {
                drop(m.insert("ScriptsExecutionPollTimeSeconds".into(), "fast".into()))
            })
        },
        expect: "ScriptsExecutionPollTimeSeconds is \"fast\", not a number",
    },
    Mistake {
        what: "params as a string",
        root_only: false,
        setup: |env| edit_json(env, |m| drop(m.insert("preScriptParams".into(), "".into()))),
        expect: "preScriptParams is a string",
    },
    Mistake {
        what: "invalid JSON",
        root_only: false,
        setup: |env| {
            write_mode(
                &env.at("/etc/azure/VMSnapshotScriptPluginConfig.json"),
                b"{\"preScriptLocation\": \"/etc/azure/prescript.sh\",}",
                0o600,
            )
        },
        expect: "VMSnapshotScriptPluginConfig.json is not valid JSON",
    },
    Mistake {
        what: "missing location",
        root_only: false,
        setup: |env| edit_json(env, |m| drop(m.remove("postScriptLocation"))),
        expect: "postScriptLocation is missing",
    },
    Mistake {
        what: "empty location",
        root_only: false,
        setup: |env| {
            edit_json(env, |m| {
                drop(m.insert("preScriptLocation".into(), "".into()))
            })
        },
        expect: "preScriptLocation is empty",
    },
    Mistake {
        what: "workload.conf names a workload",
        root_only: false,
        setup: |env| {
            write_mode(
                &env.at("/etc/azure/workload.conf"),
                b"[workload]\nworkload_name = oracle\n",
                0o644,
            )
        },
        expect: "workload.conf names the workload oracle",
    },
    Mistake {
        what: "timeout shorter than our deadline",
        root_only: false,
        setup: |env| {
            edit_json(env, |m| {
                drop(m.insert("timeoutInSeconds".into(), 30.into()))
            })
        },
        expect: "timeoutInSeconds is 30: shorter than iris-freeze's deadline",
    },
    Mistake {
        what: "timeout absent (Azure's default is 10)",
        root_only: false,
        setup: |env| edit_json(env, |m| drop(m.remove("timeoutInSeconds"))),
        expect: "timeoutInSeconds is absent: Azure's default is 10 s",
    },
    Mistake {
        what: "wrapper execs a missing binary",
        root_only: false,
        setup: |env| wrapper_running(env, Path::new("/nonexistent/iris-freeze")),
        expect: "runs /nonexistent/iris-freeze, which does not exist",
    },
    Mistake {
        what: "wrapper execs a binary group/others can write",
        root_only: false,
        setup: |env| wrapper_running(env, &fake_binary(env, 0o777)),
        expect: "which group or others can write (mode 0777)",
    },
    Mistake {
        what: "wrapper execs a binary not owned by root",
        root_only: true,
        setup: |env| {
            let b = fake_binary(env, 0o755);
            std::os::unix::fs::chown(&b, Some(4242), Some(4242)).unwrap();
            wrapper_running(env, &b);
        },
        expect: "which is owned by uid 4242, not root",
    },
    Mistake {
        what: "wrapper group/other permissions",
        root_only: false,
        setup: |env| {
            fs::set_permissions(
                env.at("/etc/azure/postScript.sh"),
                fs::Permissions::from_mode(0o750),
            )
            .unwrap()
        },
        expect: "postScript.sh has mode 750",
    },
    Mistake {
        what: "wrapper not owned by root",
        root_only: true,
        setup: |env| {
            std::os::unix::fs::chown(env.at("/etc/azure/prescript.sh"), Some(4242), None).unwrap()
        },
        expect: "prescript.sh is owned by uid 4242, not root",
    },
    Mistake {
        what: "wrapper missing",
        root_only: false,
        setup: |env| fs::remove_file(env.at("/etc/azure/postScript.sh")).unwrap(),
        expect: "postScript.sh does not exist",
    },
    Mistake {
        what: "JSON readable by others",
        root_only: false,
        setup: |env| {
            fs::set_permissions(
                env.at("/etc/azure/VMSnapshotScriptPluginConfig.json"),
                fs::Permissions::from_mode(0o644),
            )
            .unwrap()
        },
        expect: "VMSnapshotScriptPluginConfig.json has mode 644",
    },
    Mistake {
        what: "JSON with the owner-execute bit",
        root_only: false,
        setup: |env| {
            fs::set_permissions(
                env.at("/etc/azure/VMSnapshotScriptPluginConfig.json"),
                fs::Permissions::from_mode(0o700),
            )
            .unwrap()
        },
        expect: "VMSnapshotScriptPluginConfig.json has mode 700",
    },
    Mistake {
        what: "JSON not owned by root",
        root_only: true,
        setup: |env| {
            std::os::unix::fs::chown(
                env.at("/etc/azure/VMSnapshotScriptPluginConfig.json"),
                Some(4242),
                None,
            )
            .unwrap()
        },
        expect: "VMSnapshotScriptPluginConfig.json is owned by uid 4242, not root",
    },
    Mistake {
        what: "JSON missing",
        root_only: false,
        setup: |env| {
            fs::remove_file(env.at("/etc/azure/VMSnapshotScriptPluginConfig.json")).unwrap()
        },
        expect: "VMSnapshotScriptPluginConfig.json does not exist",
    },
    Mistake {
        what: "pre and post swapped",
        root_only: false,
        setup: |env| {
            edit_json(env, |m| {
                drop(m.insert(
                    "preScriptLocation".into(),
                    "/etc/azure/postScript.sh".into(),
                ))
            })
        },
        expect: "the pre-script must run",
    },
];

#[test]
fn check_azure_catches_each_mistake_with_its_own_fail_line() {
    let mut problems = Vec::new();
    for m in MISTAKES {
        if m.root_only && !is_root() {
            continue;
        }
        let env = install_host();
        install(&env, "azure");
        (m.setup)(&env);
        let r = check(&env, "azure");
        let fails = fail_lines(&r);
        if r.code != 1 || !fails.iter().any(|l| l.contains(m.expect)) {
            problems.push(format!(
                "{}: expected exit 1 and a FAIL line with {:?}\n{}",
                m.what,
                m.expect,
                r.text()
            ));
        }
        // Every FAIL line names a fix.
        for l in fails {
            assert!(l.contains(": "), "{}: {l}", m.what);
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn qemu_refuses_a_foreign_hook_and_leaves_it_untouched() {
    let env = install_host();
    let hook = env.at("/etc/qemu/fsfreeze-hook");
    let dispatcher = b"#!/bin/sh\nFSFREEZE_D=$(dirname -- \"$0\")/fsfreeze-hook.d\nfor file in \"$FSFREEZE_D\"/* ; do\n  \"$file\" \"$@\"\ndone\nexit 0\n";
    write_mode(&hook, dispatcher, 0o755);
    let r = env.run(&["install", "qemu"]);
    assert_eq!(r.code, 1, "{}", r.text());
    for words in [
        "fsfreeze-hook.d",
        "always",
        "exits 0",
        "Move it aside",
        "install qemu",
    ] {
        assert!(r.stdout.contains(words), "{words}: {}", r.text());
    }
    assert_eq!(fs::read(&hook).unwrap(), dispatcher);
    assert_eq!(mode(&hook), 0o755);
    assert!(backups(&env).is_empty());

    let r = check(&env, "qemu");
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        fail_lines(&r)
            .iter()
            .any(|l| l.contains("stock dispatcher")),
        "{}",
        r.text()
    );

    // Moved aside, it installs; qemu-ga's -F is a warning until configured.
    fs::rename(&hook, hook.with_extension("orig")).unwrap();
    install(&env, "qemu");
    let r = check(&env, "qemu");
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout
            .contains("warn qemu-ga runs the hook only when started with -F"),
        "{}",
        r.text()
    );
    write_mode(
        &env.at("/etc/default/qemu-guest-agent"),
        b"DAEMON_ARGS=\"-F/etc/qemu/fsfreeze-hook\"\n",
        0o644,
    );
    check_is_clean(&env, "qemu");
}

/// `check PLATFORM` passes with not even a warning.
fn check_is_clean(env: &Env, platform: &str) {
    let r = check(env, platform);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        !r.stdout.lines().any(|l| l.starts_with("warn")),
        "{}",
        r.text()
    );
}

#[test]
fn qemu_uses_the_rhel_layout_when_it_exists() {
    let env = install_host();
    fs::create_dir_all(env.at("/etc/qemu-ga")).unwrap();
    let r = install(&env, "qemu");
    assert_eq!(
        fs::read_link(env.at("/etc/qemu-ga/fsfreeze-hook")).unwrap(),
        bin()
    );
    assert!(!env.at("/etc/qemu").exists());
    assert!(
        r.stdout.contains("/etc/qemu-ga/fsfreeze-hook"),
        "{}",
        r.text()
    );
    assert_check_clean(&env, "qemu");
    let r = env.run(&["uninstall", "qemu"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(fs::symlink_metadata(env.at("/etc/qemu-ga/fsfreeze-hook")).is_err());
}

#[test]
fn uninstall_removes_ours_and_leaves_foreign_files() {
    let env = install_host();
    for p in PLATFORMS {
        install(&env, p);
    }
    // Someone replaced one of ours.
    let foreign = env.at("/usr/sbin/post-thaw-script");
    fs::remove_file(&foreign).unwrap();
    write_mode(&foreign, b"#!/bin/sh\necho mine\n", 0o755);
    let nutanix = env.at("/usr/local/sbin/post_thaw");
    write_mode(&nutanix, b"#!/bin/sh\necho mine too\n", 0o700);

    for p in PLATFORMS {
        let r = env.run(&["uninstall", p]);
        assert_eq!(r.code, 0, "uninstall {p}: {}", r.text());
    }
    for gone in [
        "/etc/azure/prescript.sh",
        "/etc/azure/postScript.sh",
        "/etc/azure/VMSnapshotScriptPluginConfig.json",
        "/usr/sbin/pre-freeze-script",
        "/etc/qemu/fsfreeze-hook",
        "/etc/google/snapshots/pre.sh",
        "/etc/google/snapshots/post.sh",
        "/usr/local/sbin/pre_freeze",
        "/usr/local/ASR",
    ] {
        assert!(
            fs::symlink_metadata(env.at(gone)).is_err(),
            "{gone} still there"
        );
    }
    assert_eq!(
        fs::read_to_string(&foreign).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
    assert_eq!(
        fs::read_to_string(&nutanix).unwrap(),
        "#!/bin/sh\necho mine too\n"
    );
    // The JSON install created is removed, and no backup of it stays behind.
    let bak = backups(&env);
    assert!(bak.is_empty(), "{bak:?}");

    // Idempotent, and says what it kept.
    let before = tree(&env.root());
    for p in PLATFORMS {
        let r = env.run(&["uninstall", p]);
        assert_eq!(r.code, 0, "uninstall {p} again: {}", r.text());
        if p == "vmware" {
            let kept = r.stdout.lines().find(|l| l.starts_with("kept")).unwrap();
            assert!(kept.contains("post-thaw-script"), "{}", r.text());
            assert!(
                kept.contains("not installed by iris-freeze"),
                "{}",
                r.text()
            );
        }
    }
    assert_eq!(tree(&env.root()), before);
}

#[test]
fn uninstall_azure_says_it_removed_the_json_and_keeps_a_foreign_json() {
    let env = install_host();
    install(&env, "azure");
    let r = env.run(&["uninstall", "azure"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(backups(&env).is_empty(), "{:?}", backups(&env));
    assert!(
        r.stdout.lines().any(|l| l.starts_with("removed")
            && l.contains("VMSnapshotScriptPluginConfig.json (install azure created it")),
        "{}",
        r.text()
    );

    // A JSON that names someone else's scripts stays.
    let p = env.at("/etc/azure/VMSnapshotScriptPluginConfig.json");
    let theirs =
        r#"{"preScriptLocation": "/opt/x/pre.sh", "postScriptLocation": "/opt/x/post.sh"}"#;
    write_mode(&p, theirs.as_bytes(), 0o600);
    let r = env.run(&["uninstall", "azure"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert_eq!(fs::read_to_string(&p).unwrap(), theirs);
    assert!(r.stdout.contains("kept"), "{}", r.text());
}

#[test]
fn check_reports_a_login_prompt_as_a_failure_naming_os_authentication() {
    let env = install_host();
    env.fault("IRIS", "check=login");
    let r = env.run(&["check"]);
    assert_eq!(r.code, 1, "{}", r.text());
    let fails = fail_lines(&r);
    assert!(
        fails
            .iter()
            .any(|l| l.contains("instance IRIS") && l.contains("OS authentication")),
        "{}",
        r.text()
    );
    assert!(!env.frozen("IRIS"));
    assert_eq!(env.calls("IRIS", "freeze"), 0);
}

#[test]
fn check_without_hooks_or_iris_fails_with_the_fix() {
    let env = install_host();
    for p in ["vmware", "qemu", "gcp", "nutanix", "azure"] {
        let r = check(&env, p);
        assert_eq!(r.code, 1, "{}", r.text());
        assert!(
            fail_lines(&r)
                .iter()
                .any(|l| l.contains(&format!("iris-freeze install {p}"))),
            "{}",
            r.text()
        );
    }
    // A config file with an unknown key.
    env.config("bogus = 1\n");
    let r = env.run(&["check"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        fail_lines(&r)
            .iter()
            .any(|l| l.contains("config file") && l.contains("bogus")),
        "{}",
        r.text()
    );
    // No IRIS programs at all.
    let bare = Env::with_programs(&[]);
    let r = bare.run(&["check"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        fail_lines(&r)
            .iter()
            .any(|l| l.contains("found none of iris")),
        "{}",
        r.text()
    );
}

#[test]
fn check_gcp_warns_until_snapshots_are_enabled() {
    let env = install_host();
    install(&env, "gcp");
    let r = check(&env, "gcp");
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stdout.contains("warn") && r.stdout.contains("[Snapshots] enabled = true"));
    write_mode(
        &env.at("/etc/default/instance_configs.cfg"),
        b"[Snapshots]\nenabled = true\n",
        0o644,
    );
    check_is_clean(&env, "gcp");
}

#[test]
fn check_catches_broken_links_and_permissions_of_link_platforms() {
    let env = install_host();
    install(&env, "vmware");
    install(&env, "nutanix");
    let vm = env.at("/usr/sbin/pre-freeze-script");
    fs::remove_file(&vm).unwrap();
    symlink("/nonexistent/iris-freeze", &vm).unwrap();
    let r = check(&env, "vmware");
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        fail_lines(&r)
            .iter()
            .any(|l| l.contains("dangling symlink")),
        "{}",
        r.text()
    );
    fs::set_permissions(
        env.at("/usr/local/sbin/pre_freeze"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let r = check(&env, "nutanix");
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        fail_lines(&r).iter().any(|l| l.contains("mode 0755")),
        "{}",
        r.text()
    );
    // install repairs both (the dangling link is backed up, the mode fixed in place).
    install(&env, "vmware");
    let r = install(&env, "nutanix");
    assert!(r.stdout.contains("fixed"), "{}", r.text());
    assert_check_clean(&env, "vmware");
    assert_check_clean(&env, "nutanix");
}

#[test]
fn aws_prints_the_document_and_writes_nothing() {
    let env = install_host();
    let r = install(&env, "aws");
    for words in [
        "schemaVersion: \"2.2\"",
        "aws:runShellScript",
        "\"$bin\" {{ command }} {{ executionId }}",
        "- pre-script",
        "- post-script",
        "- dry-run",
        "default: dry-run",
    ] {
        assert!(r.stdout.contains(words), "{words}: {}", r.text());
    }
    // The steps are on stderr.
    for words in [
        "DLMScriptsAccess",
        "AWS_SYSTEMS_MANAGER",
        "ExecutionTimeout",
        "examples/aws-ssm-document.yml",
        "iris-freeze install aws > iris-freeze.yml",
    ] {
        assert!(r.stderr.contains(words), "{words}: {}", r.text());
    }
    let shipped = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/aws-ssm-document.yml"),
    )
    .unwrap();
    // stdout is the document and nothing else: `> file` saves it.
    assert_eq!(
        r.stdout,
        format!("{}\n", shipped.trim_end()),
        "{}",
        r.text()
    );
    let yaml = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, yaml; d = yaml.safe_load(sys.stdin); \
             assert d['schemaVersion'] == '2.2', d; print('parsed')",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    if let Ok(mut child) = yaml {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(r.stdout.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        // Without PyYAML the import fails: the comparison above stands alone then.
        if !err.contains("No module named 'yaml'") {
            assert!(out.status.success(), "{err}");
            assert_eq!(String::from_utf8_lossy(&out.stdout), "parsed\n");
        }
    }
    // -q: no steps.
    let r = env.run(&["install", "aws", "-q"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stderr.is_empty(), "{}", r.text());
    assert!(tree(&env.root()).is_empty());
    let r = check(&env, "aws");
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(fail_lines(&r).is_empty(), "{}", r.text());
    assert!(r.stdout.contains("ok   aws"), "{}", r.text());
    let r = env.run(&["uninstall", "aws"]);
    assert_eq!(r.code, 0, "{}", r.text());
}

#[test]
fn the_document_runs_the_binary_with_what_dlm_passes() {
    // The step's command line, with DLM's parameters filled in, against the simulator.
    let env = install_host();
    let doc = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/aws-ssm-document.yml"),
    )
    .unwrap();
    let line = doc
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("\"$bin\" "))
        .unwrap();
    let args: Vec<&str> = line.split_whitespace().skip(1).collect();
    assert_eq!(args, ["{{", "command", "}}", "{{", "executionId", "}}"]);
    let id = "5e1d1a1b-0b7c-4f5e-9a0d-1c2b3a4d5e6f";
    for (command, frozen) in [
        ("dry-run", false),
        ("pre-script", true),
        ("post-script", false),
    ] {
        let r = env.run(&[command, id]);
        assert_eq!(r.code, 0, "{command}: {}", r.text());
        assert_eq!(env.frozen("IRIS"), frozen, "{command}");
    }
    let r = env.run(&["post-script", "None"]);
    assert_eq!(r.code, 0, "{}", r.text());
}

#[test]
fn check_uses_the_credentials_file_and_fails_a_refused_one() {
    let env = install_host();
    env.fault("IRIS", "check=login");
    let creds = env.tmp.path().join("creds");
    write_mode(&creds, b"_SYSTEM\nSYS\n", 0o600);
    env.config(&format!("credentials_file = \"{}\"\n", creds.display()));
    let r = env.run(&["check"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stdout.contains("ok   credentials file"), "{}", r.text());
    assert!(
        r.stdout
            .contains("ok   instance IRIS: %SYS session with the credentials file"),
        "{}",
        r.text()
    );
    assert!(!r.stdout.contains("SYS\n"), "{}", r.text());

    fs::set_permissions(&creds, fs::Permissions::from_mode(0o644)).unwrap();
    let r = env.run(&["check"]);
    assert_eq!(r.code, 1, "{}", r.text());
    let fails = fail_lines(&r);
    assert!(
        fails
            .iter()
            .any(|l| l.contains("credentials file") && l.contains("chmod 600")),
        "{}",
        r.text()
    );
    // Without usable credentials the login prompt is a failure too.
    assert!(
        fails.iter().any(|l| l.contains("OS authentication")),
        "{}",
        r.text()
    );
}

#[test]
fn install_sizes_azures_timeout_from_the_timeout_flag_or_environment() {
    let env = Env::new();
    env.iris("IRIS");
    fs::create_dir_all(env.root()).unwrap();
    let r = env.run(&["install", "azure", "--timeout", "100"]);
    assert_eq!(r.code, 0, "{}", r.text());
    let json = env
        .root()
        .join("etc/azure/VMSnapshotScriptPluginConfig.json");
    let v: serde_json::Value = serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["timeoutInSeconds"], 115);
    // check against a longer timeout than Azure allows now: a FAIL naming the fix.
    let r = env.run_env(&["check", "azure"], &[("IRIS_FREEZE_TIMEOUT", "200")]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stdout.contains("FAIL timeoutInSeconds"), "{}", r.text());
}

#[test]
fn install_and_check_refuse_a_binary_in_a_directory_others_can_write() {
    let env = install_host();
    let dir = env.tmp.path().join("shared");
    fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("iris-freeze");
    fs::copy(common::BIN, &copy).unwrap();
    fs::set_permissions(&copy, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
    let fix = format!("chmod go-w {}", dir.display());

    let before = tree(&env.root());
    let r = env.run_program(&copy, &["install", "qemu"], &[]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        r.stderr.contains("can be written by others") && r.stderr.contains(&fix),
        "{}",
        r.text()
    );
    assert_eq!(tree(&env.root()), before, "nothing was written");

    let r = env.run_program(&copy, &["check"], &[]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        fail_lines(&r)
            .iter()
            .any(|l| l.contains(&format!("binary {}", copy.display())) && l.contains(&fix)),
        "{}",
        r.text()
    );

    // Sticky, like /tmp: others cannot replace the binary, so it is fine.
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o1777)).unwrap();
    let r = env.run_program(&copy, &["install", "qemu"], &[]);
    assert_eq!(r.code, 0, "{}", r.text());
}

#[test]
fn install_as_another_user_needs_root_unless_the_root_is_theirs() {
    use std::os::unix::process::CommandExt;
    if !is_root() {
        return; // switching users needs root
    }
    let env = install_host();
    // The other user must reach the tree and the binary (the checkout may be under /root).
    let exe = common::other_user::reachable_programs(&env);
    fs::set_permissions(env.root(), fs::Permissions::from_mode(0o755)).unwrap();
    let as_nobody = |root: &Path| {
        let out = env
            .command(&exe)
            .args(["install", "vmware", "--root", root.to_str().unwrap()])
            .uid(65534)
            .gid(65534)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stderr) = as_nobody(&env.root());
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("installing hooks needs root") && stderr.contains("--root DIR"),
        "{stderr}"
    );
    assert!(tree(&env.root()).is_empty());

    // An image tree the user owns is theirs to stage.
    let image = env.tmp.path().join("image");
    fs::create_dir_all(&image).unwrap();
    std::os::unix::fs::chown(&image, Some(65534), Some(65534)).unwrap();
    let (code, stderr) = as_nobody(&image);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(fs::symlink_metadata(image.join("usr/sbin/pre-freeze-script")).is_ok());
}

/// Both packages ship the SSM document, and check-packages.py expects it there.
#[test]
fn the_packages_ship_the_ssm_document() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let deb = cargo
        .split("[package.metadata.deb]")
        .nth(1)
        .and_then(|s| s.split("\n[").next())
        .expect("a deb section");
    assert!(
        deb.contains(r#"["examples/aws-ssm-document.yml", "usr/share/doc/iris-freeze/", "644"]"#),
        "{deb}"
    );
    let rpm = fs::read_to_string(dir.join("packaging/iris-freeze.spec")).unwrap();
    assert!(
        rpm.contains("%{top}/examples/aws-ssm-document.yml")
            && rpm.contains("\n%doc /usr/share/doc/iris-freeze/aws-ssm-document.yml\n"),
        "{rpm}"
    );
    let check = fs::read_to_string(dir.join("packaging/check-packages.py")).unwrap();
    assert!(
        check.contains("\"/usr/share/doc/iris-freeze/aws-ssm-document.yml\","),
        "{check}"
    );
}

/// The README's static build from source is the one packaging/build.sh makes.
#[test]
fn the_readme_gives_the_static_build_that_build_sh_makes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = fs::read_to_string(dir.join("README.md")).unwrap();
    let build = fs::read_to_string(dir.join("packaging/build.sh")).unwrap();
    let install = readme
        .split("## Install")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .unwrap();
    let cmd = r#"RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --target "$(uname -m)-unknown-linux-gnu""#;
    assert!(install.contains(cmd), "{install}");
    assert!(
        build.contains(r#"RUSTFLAGS="-C target-feature=+crt-static" cargo build --release"#),
        "{build}"
    );
    assert!(build.contains(r#"triple="$(uname -m)-unknown-linux-gnu""#));
}

/// The demo shows cargo's progress while it builds (a first build takes minutes).
#[test]
fn the_demo_shows_progress_while_it_builds() {
    let demo =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo.sh")).unwrap();
    let build = demo
        .lines()
        .find(|l| l.starts_with("cargo build"))
        .expect("the demo builds");
    assert!(
        !build.contains("--quiet") && !build.contains(" -q"),
        "{build}"
    );
    let before = &demo[..demo.find(build).unwrap()];
    assert!(before.contains("building"), "{demo}");
}

#[test]
fn uninstall_azure_restores_a_json_that_was_there_and_leaves_no_backups() {
    let env = install_host();
    let p = env.at("/etc/azure/VMSnapshotScriptPluginConfig.json");
    let theirs = "{\n  \"pluginName\": \"ScriptRunner\",\n  \"preScriptLocation\": \"/opt/x/pre.sh\",\n  \"postScriptLocation\": \"/opt/x/post.sh\",\n  \"timeoutInSeconds\": 60,\n  \"myTeamKey\": {\"owner\": \"dba\"}\n}\n";
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    write_mode(&p, theirs.as_bytes(), 0o600);
    install(&env, "azure");
    let merged = fs::read_to_string(&p).unwrap();
    assert!(merged.contains("/etc/azure/prescript.sh"), "{merged}");
    assert!(merged.contains("myTeamKey"), "{merged}");
    // Installing again keeps the original, not our merged file, as the one to restore.
    install(&env, "azure");

    let r = env.run(&["uninstall", "azure"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert_eq!(fs::read_to_string(&p).unwrap(), theirs, "{}", r.text());
    assert_eq!(mode(&p), 0o600);
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("restored"))
        .unwrap_or_else(|| panic!("no restored line: {}", r.text()));
    assert!(line.contains("VMSnapshotScriptPluginConfig.json"), "{line}");
    let stray: Vec<_> = tree(&env.root())
        .into_keys()
        .filter(|k| k.to_string_lossy().contains("iris-freeze-"))
        .collect();
    assert!(stray.is_empty(), "{stray:?}\n{}", r.text());
    // The directory was there before: it stays, with only their file.
    assert_eq!(fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
}

#[test]
fn uninstall_azure_removes_the_json_and_the_directory_install_created() {
    let env = install_host();
    fs::create_dir(env.at("/etc")).unwrap();
    install(&env, "azure");
    let r = env.run(&["uninstall", "azure"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.at("/etc/azure").exists(), "{}", r.text());
    assert!(env.at("/etc").is_dir(), "{}", r.text());
    assert!(backups(&env).is_empty(), "{:?}", backups(&env));
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("removed")
                && l.trim_end().ends_with("/etc/azure (empty directory)")),
        "{}",
        r.text()
    );

    // A directory that was there before install stays, even empty.
    let env = install_host();
    fs::create_dir_all(env.at("/etc/azure")).unwrap();
    install(&env, "azure");
    let r = env.run(&["uninstall", "azure"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.at("/etc/azure").is_dir(), "{}", r.text());
    assert_eq!(fs::read_dir(env.at("/etc/azure")).unwrap().count(), 0);
}

#[test]
fn the_last_uninstall_removes_the_record_of_created_dirs_and_its_empty_directory() {
    let env = install_host();
    fs::create_dir_all(env.at("/var/lib")).unwrap();
    install(&env, "azure");
    install(&env, "vmware");
    let record = env.at("/var/lib/iris-freeze/installed-dirs");
    assert!(record.is_file());
    // vmware's directories are still recorded: the record stays.
    let r = env.run(&["uninstall", "azure"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(record.is_file(), "{}", r.text());
    let r = env.run(&["uninstall", "vmware"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.at("/var/lib/iris-freeze").exists(), "{}", r.text());
    assert!(env.at("/var/lib").is_dir(), "{}", r.text());
    assert!(
        r.stdout.lines().any(|l| l.starts_with("removed")
            && l.trim_end()
                .ends_with("/var/lib/iris-freeze (empty directory)")),
        "{}",
        r.text()
    );

    // A history there stays, and so does its directory.
    let env = install_host();
    install(&env, "azure");
    let history = env.at("/var/lib/iris-freeze/history.jsonl");
    fs::write(&history, "{}\n").unwrap();
    let r = env.run(&["uninstall", "azure"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.at("/var/lib/iris-freeze/installed-dirs").exists());
    assert_eq!(fs::read_to_string(&history).unwrap(), "{}\n");
}

/// A package removal runs `uninstall`: a config file it cannot use (not TOML, a bad value, a
/// mode that lets others write it) is warned about, by name and problem, and the hooks go.
#[test]
fn uninstall_warns_about_a_bad_config_file_and_still_removes_the_hooks() {
    let bad: [(&str, &str, u32, &str); 3] = [
        ("not toml", "this is = = not toml\n", 0o600, "TOML"),
        (
            "a bad value",
            "max_freeze = \"soon\"\n",
            0o600,
            "max_freeze",
        ),
        ("writable by others", "max_freeze = 60\n", 0o666, "others"),
    ];
    for (what, text, file_mode, problem) in bad {
        let env = install_host();
        install(&env, "vmware");
        install(&env, "azure");
        let config = env.at("/etc/iris-freeze.toml");
        write_mode(&config, text.as_bytes(), file_mode);
        let root = env.root();
        for p in ["vmware", "azure"] {
            // As the package's removal script runs it.
            let r = env.run(&["--root", root.to_str().unwrap(), "uninstall", p]);
            assert_eq!(r.code, 0, "{what}: uninstall {p}: {}", r.text());
            assert!(
                r.stderr.contains(&config.display().to_string()) && r.stderr.contains(problem),
                "{what}: the warning names neither the file nor the problem: {}",
                r.text()
            );
        }
        for gone in [
            "/usr/sbin/pre-freeze-script",
            "/usr/sbin/post-thaw-script",
            "/etc/azure/prescript.sh",
            "/etc/azure/postScript.sh",
        ] {
            assert!(
                fs::symlink_metadata(env.at(gone)).is_err(),
                "{what}: {gone} still there"
            );
        }
    }
}

#[test]
fn asr_refuses_a_foreign_custom_script_and_checks_the_agent() {
    let env = install_host();
    let script = env.at("/usr/local/ASR/Vx/scripts/customscript.sh");
    let theirs =
        b"#!/bin/bash\nif [ \"$1\" == \"--pre\" ]; then\n  /opt/app/quiesce.sh\nfi\nexit 0\n";
    write_mode(&script, theirs, 0o755);
    let r = env.run(&["install", "asr"]);
    assert_eq!(r.code, 1, "{}", r.text());
    for words in [
        "not iris-freeze's",
        "left untouched",
        "Move it aside",
        "install asr",
    ] {
        assert!(r.stdout.contains(words), "{words}: {}", r.text());
    }
    assert_eq!(fs::read(&script).unwrap(), theirs);
    assert!(backups(&env).is_empty());
    let r = check(&env, "asr");
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        fail_lines(&r)
            .iter()
            .any(|l| l.contains("someone else's custom script")),
        "{}",
        r.text()
    );
    // Kept by uninstall too.
    let r = env.run(&["uninstall", "asr"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert_eq!(fs::read(&script).unwrap(), theirs);
    // A hand-made wrapper must pass the phase on: `freeze` would freeze at --post too.
    let b = bin();
    let b = b.to_str().unwrap();
    write_mode(
        &script,
        format!("#!/bin/sh\nexec '{b}' freeze\n").as_bytes(),
        0o755,
    );
    let r = check(&env, "asr");
    assert!(
        fail_lines(&r)
            .iter()
            .any(|l| l.contains("must pass the phase on")),
        "{}",
        r.text()
    );
    write_mode(
        &script,
        format!("#!/bin/sh\n'{b}' asr \"$1\"\n").as_bytes(),
        0o755,
    );
    let r = check(&env, "asr");
    assert!(fail_lines(&r).is_empty(), "{}", r.text());
    assert!(r.stdout.contains("hand-made wrapper"), "{}", r.text());
    write_mode(&script, theirs, 0o755);

    // Moved aside, it installs; without the agent's version file, a warning.
    fs::rename(&script, script.with_extension("orig")).unwrap();
    install(&env, "asr");
    let r = check(&env, "asr");
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout.contains("mobility agent is not installed"),
        "{}",
        r.text()
    );
    let vx = env.at("/usr/local/.vx_version");
    write_mode(
        &vx,
        b"INSTALLATION_DIR=/usr/local/ASR/Vx\nVERSION=9.23.0.0\n",
        0o644,
    );
    let r = check(&env, "asr");
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        fail_lines(&r).iter().any(|l| l.contains("need 9.24")),
        "{}",
        r.text()
    );
    write_mode(
        &vx,
        b"INSTALLATION_DIR=/opt/asr/Vx\nPROD_VERSION=9.60.0.0\n",
        0o644,
    );
    let r = check(&env, "asr");
    assert!(
        fail_lines(&r)
            .iter()
            .any(|l| l.contains("/opt/asr/Vx/scripts/customscript.sh")),
        "{}",
        r.text()
    );
    write_mode(
        &vx,
        b"INSTALLATION_DIR=/usr/local/ASR/Vx\nPROD_VERSION=9.60.0.0\n",
        0o644,
    );
    check_is_clean(&env, "asr");
    write_mode(&vx, b"INSTALLATION_DIR=/usr/local/ASR/Vx\n", 0o644);
    let r = check(&env, "asr");
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stdout.contains("warn version unknown"), "{}", r.text());
}

#[test]
fn commvault_prints_the_commands_and_writes_nothing() {
    let env = install_host();
    let r = install(&env, "commvault");
    let b = bin();
    let b = b.display();
    assert!(
        r.stdout
            .contains(&format!("PreSnap process:   {b} commvault-pre\n")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains(&format!("PostSnap process:  {b} commvault-post\n")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("\"Run PostSnap for all attempts\""),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("sAdminWhiteListPaths"), "{}", r.stdout);
    assert!(tree(&env.root()).is_empty(), "{:?}", tree(&env.root()));
    // No client: a warning, not a failure; what check cannot see is said.
    let r = check(&env, "commvault");
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout.contains(&format!("`{b} commvault-pre`")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("/opt/commvault does not exist"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("Run PostSnap for all attempts"),
        "{}",
        r.stdout
    );
    fs::create_dir_all(env.at("/opt/commvault")).unwrap();
    let r = check(&env, "commvault");
    assert!(
        r.stdout.contains("ok   the Commvault client is installed"),
        "{}",
        r.stdout
    );
    let r = env.run(&["uninstall", "commvault"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stdout.contains("PreSnap and PostSnap"), "{}", r.stdout);
}

#[test]
fn veeam_agent_and_dropin_scripts_install_check_and_uninstall() {
    let env = install_host();
    let b = bin();
    let b = b.display();
    for (platform, pre, post) in [
        (
            "veeam-agent",
            "/opt/iris-freeze/veeam/iris-pre-freeze.sh",
            "/opt/iris-freeze/veeam/iris-post-thaw.sh",
        ),
        (
            "veeam-dropin",
            "/opt/veeam/scripts/pre/50-iris-freeze-freeze",
            "/opt/veeam/scripts/post/50-iris-freeze-thaw",
        ),
    ] {
        let r = install(&env, platform);
        for (p, verb) in [(pre, "veeam-freeze"), (post, "veeam-thaw")] {
            let text = fs::read_to_string(env.at(p)).unwrap();
            assert!(
                text.starts_with("#!/bin/sh\n# Installed by iris-freeze: "),
                "{text}"
            );
            assert!(text.ends_with(&format!("\nexec '{b}' {verb}\n")), "{text}");
            assert_eq!(mode(&env.at(p)), 0o755, "{p}");
            assert!(r.stdout.contains(p), "{}", r.stdout);
        }
        assert_check_clean(&env, platform);
        let before = tree(&env.root());
        install(&env, platform);
        assert_eq!(tree(&env.root()), before, "install {platform} again");
        // A script that thaws where it must freeze fails the check.
        let good = fs::read_to_string(env.at(pre)).unwrap();
        write_mode(
            &env.at(pre),
            good.replace("veeam-freeze", "veeam-thaw").as_bytes(),
            0o755,
        );
        let r = check(&env, platform);
        assert_eq!(r.code, 1, "{}", r.text());
        assert!(
            fail_lines(&r).iter().any(|l| l.contains("it must freeze")),
            "{}",
            r.text()
        );
        install(&env, platform);
    }
    let r = check(&env, "veeam-agent");
    assert!(
        r.stdout.contains("/usr/bin/veeamconfig does not exist"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("what check cannot see"), "{}", r.stdout);
    for platform in ["veeam-agent", "veeam-dropin"] {
        let r = env.run(&["uninstall", platform]);
        assert_eq!(r.code, 0, "{}", r.text());
    }
    // Only the backups of the scripts replaced above stay (and their directories).
    let left: Vec<_> = tree(&env.root())
        .into_iter()
        .filter(|(p, d)| {
            p.to_string_lossy().contains("/opt/")
                && !d.starts_with("dir ")
                && !p.to_string_lossy().contains(".iris-freeze-bak.")
        })
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(!env.at("/opt/veeam/scripts/post").exists());
}

#[test]
fn veeam_vbr_prints_the_scripts_and_writes_nothing() {
    let env = install_host();
    let r = install(&env, "veeam-vbr");
    assert!(r.stdout.contains("/tmp"), "{}", r.stdout);
    assert!(r.stdout.contains("sudo -n"), "{}", r.stdout);
    assert!(tree(&env.root()).is_empty(), "{:?}", tree(&env.root()));
    let r = check(&env, "veeam-vbr");
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stdout.contains("veeam-freeze"), "{}", r.stdout);
    let r = env.run(&["uninstall", "veeam-vbr"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stdout.contains("nothing was installed"), "{}", r.stdout);
}
