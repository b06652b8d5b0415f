//! IRIS on Kubernetes without a cluster: the manifests `install velero|k10|aks-backup` prints
//! are the ones in examples/kubernetes, parse, and name each engine's documented fields; and
//! their commands run as the engine runs them (the argv as given, no shell, stdin closed, the
//! engine's timeout) as a non-root user owning the instance, with no state/log/history paths
//! given: the non-root defaults land in that user's temp HOME / XDG_RUNTIME_DIR.

use std::fs;
use std::os::unix::fs::{PermissionsExt, chown};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::other_user::{chown_tree, reachable_programs};
use crate::common::{self, Env, wait_until};
use serde_json::Value;

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/kubernetes");
/// Each printed manifest: the engine, its extra flags, and its copy in examples/kubernetes.
const ENGINES: [(&str, &[&str], &str); 6] = [
    ("velero", &[], "velero-hooks.yaml"),
    ("velero", &["--kind", "backup"], "velero-backup.yaml"),
    ("velero", &["--kind", "schedule"], "velero-schedule.yaml"),
    ("k10", &[], "k10-blueprint.yaml"),
    ("k10", &["--kind", "policy"], "k10-policy.yaml"),
    ("aks-backup", &[], "aks-backuphook.yaml"),
];

fn yaml(text: &str) -> Value {
    serde_norway::from_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// The documents of a multi-document YAML file, each parsed.
fn yaml_docs(text: &str) -> Vec<Value> {
    text.split("\n---\n").map(yaml).collect()
}

fn print(env: &Env, engine: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "install",
        engine,
        "--namespace",
        "iris",
        "--workload",
        "iris-data",
    ];
    args.extend(extra);
    let r = env.run(&args);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stderr.contains("next steps"), "{}", r.text());
    r.stdout
}

#[test]
fn the_printed_manifests_are_the_examples() {
    let env = Env::new();
    for (engine, extra, file) in ENGINES {
        let want = fs::read_to_string(Path::new(EXAMPLES).join(file)).unwrap();
        assert_eq!(
            print(&env, engine, extra),
            want,
            "{file}: regenerate it with `iris-freeze install {engine} {} --namespace iris \
            --workload iris-data > {file}`",
            extra.join(" ")
        );
    }
}

/// The freeze and the thaw argv of each engine's manifest, and its timeout.
struct Hooks {
    freeze: Vec<String>,
    thaw: Vec<String>,
    timeout: Duration,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn secs(v: &Value) -> Duration {
    let s = v.as_str().unwrap();
    Duration::from_secs(s.strip_suffix('s').unwrap().parse().unwrap())
}

fn velero(text: &str) -> Hooks {
    let doc = yaml(text);
    let a = &doc["spec"]["template"]["metadata"]["annotations"];
    for when in ["pre", "post"] {
        let key = |k: &str| a[format!("{when}.hook.backup.velero.io/{k}")].clone();
        assert_eq!(key("container"), "iris", "{text}");
        assert_eq!(key("on-error"), "Fail", "{text}");
        // The command is a JSON array in a string (velero.io/docs, "Backup Hooks").
        let cmd: Value = serde_json::from_str(key("command").as_str().unwrap()).unwrap();
        assert!(cmd.is_array(), "{text}");
    }
    let cmd = |when: &str| {
        let s = a[format!("{when}.hook.backup.velero.io/command")].clone();
        strings(&serde_json::from_str(s.as_str().unwrap()).unwrap())
    };
    Hooks {
        freeze: cmd("pre"),
        thaw: cmd("post"),
        timeout: secs(&a["pre.hook.backup.velero.io/timeout"]),
    }
}

/// The same hooks in a Backup's spec (velero.io/docs/main/api-types/backup/).
fn velero_backup(text: &str) -> Hooks {
    let doc = yaml(text);
    assert_eq!(doc["apiVersion"], "velero.io/v1", "{text}");
    assert_eq!(doc["kind"], "Backup", "{text}");
    // A Backup lives in Velero's namespace.
    assert_eq!(doc["metadata"]["namespace"], "velero", "{text}");
    backup_spec(&doc["spec"], text)
}

/// A Schedule (velero.io/docs/main/api-types/schedule/): a cron and the Backup's spec as its
/// template.
fn velero_schedule(text: &str) -> Hooks {
    let doc = yaml(text);
    assert_eq!(doc["apiVersion"], "velero.io/v1", "{text}");
    assert_eq!(doc["kind"], "Schedule", "{text}");
    assert_eq!(doc["metadata"]["namespace"], "velero", "{text}");
    assert_eq!(doc["spec"]["schedule"], "0 1 * * *", "{text}");
    backup_spec(&doc["spec"]["template"], text)
}

/// A Backup's spec: the volumes snapshotted, not copied file by file (with file-system backup
/// the post hook waits for the whole copy, velero#8159), and the hooks in the IRIS pod.
fn backup_spec(spec: &Value, text: &str) -> Hooks {
    assert_eq!(spec["includedNamespaces"][0], "iris", "{text}");
    assert_eq!(spec["snapshotVolumes"], true, "{text}");
    assert_eq!(spec["defaultVolumesToFsBackup"], false, "{text}");
    let hook = &spec["hooks"]["resources"][0];
    assert_eq!(hook["includedNamespaces"][0], "iris", "{text}");
    // The label Kubernetes puts on each StatefulSet pod selects the IRIS pod.
    let select = &hook["labelSelector"]["matchExpressions"][0];
    assert_eq!(
        select["key"], "statefulset.kubernetes.io/pod-name",
        "{text}"
    );
    assert_eq!(select["operator"], "In", "{text}");
    assert_eq!(select["values"][0], "iris-data-0", "{text}");
    let exec = |when: &str| hook[when][0]["exec"].clone();
    for when in ["pre", "post"] {
        assert_eq!(exec(when)["container"], "iris", "{text}");
        assert_eq!(exec(when)["onError"], "Fail", "{text}");
    }
    Hooks {
        freeze: strings(&exec("pre")["command"]),
        thaw: strings(&exec("post")["command"]),
        timeout: secs(&exec("pre")["timeout"]),
    }
}

fn k10(text: &str) -> Hooks {
    let docs = yaml_docs(text);
    assert_eq!(docs.len(), 2, "the Blueprint and its binding: {text}");
    k10_binding(&docs[1], text);
    let doc = &docs[0];
    assert_eq!(doc["apiVersion"], "cr.kanister.io/v1alpha1");
    assert_eq!(doc["kind"], "Blueprint");
    assert_eq!(doc["metadata"]["namespace"], "kasten-io");
    assert!(
        text.contains("kanister.kasten.io/blueprint=iris-freeze"),
        "{text}"
    );
    // A deferPhase runs at the end of its own action: one in backupPrehook would thaw
    // before the snapshots.
    assert!(
        doc["actions"]["backupPrehook"]["deferPhase"].is_null(),
        "{text}"
    );
    let pre = &doc["actions"]["backupPrehook"]["phases"][0];
    let post = &doc["actions"]["backupPosthook"];
    let thaw = &post["deferPhase"];
    for phase in [pre, thaw] {
        assert_eq!(phase["func"], "KubeExec", "{text}");
        assert_eq!(phase["args"]["container"], "iris", "{text}");
        assert!(
            phase["args"]["pod"]
                .as_str()
                .unwrap()
                .contains(".StatefulSet.Pods")
        );
    }
    // The thaw is the defer phase, which Kanister runs whatever the phases did.
    assert_eq!(thaw["name"], "thaw");
    Hooks {
        freeze: strings(&pre["args"]["command"]),
        thaw: strings(&thaw["args"]["command"]),
        // K10's own action timeout is far longer; the freeze's bound is what matters.
        timeout: Duration::from_secs(45),
    }
}

/// The policy-level form (docs.kasten.io/latest/api/policies, "Policy API Type"): a
/// Blueprint whose actions exec in the named pod of the namespace the hooks run for, and a
/// Policy whose backup action's preHook freezes and whose onSuccess and onFailure both thaw.
fn k10_policy(text: &str) -> Hooks {
    let docs = yaml_docs(text);
    assert_eq!(docs.len(), 2, "the Blueprint and the Policy: {text}");
    let (bp, policy) = (&docs[0], &docs[1]);
    assert_eq!(bp["apiVersion"], "cr.kanister.io/v1alpha1", "{text}");
    assert_eq!(bp["kind"], "Blueprint", "{text}");
    assert_eq!(bp["metadata"]["namespace"], "kasten-io", "{text}");
    let name = bp["metadata"]["name"].as_str().unwrap();
    let phase = |action: &str| {
        let a = &bp["actions"][action];
        // A policy hook's ActionSet has the namespace as its subject.
        assert_eq!(a["kind"], "Namespace", "{text}");
        let p = a["phases"][0].clone();
        assert_eq!(p["func"], "KubeExec", "{text}");
        assert_eq!(p["args"]["namespace"], "{{ .Namespace.Name }}", "{text}");
        assert_eq!(p["args"]["pod"], "iris-data-0", "{text}");
        assert_eq!(p["args"]["container"], "iris", "{text}");
        p
    };
    assert_eq!(
        policy["apiVersion"], "config.kio.kasten.io/v1alpha1",
        "{text}"
    );
    assert_eq!(policy["kind"], "Policy", "{text}");
    assert_eq!(policy["metadata"]["namespace"], "kasten-io", "{text}");
    let spec = &policy["spec"];
    assert_eq!(
        spec["selector"]["matchLabels"]["k10.kasten.io/appNamespace"], "iris",
        "{text}"
    );
    let action = &spec["actions"][0];
    assert_eq!(action["action"], "backup", "{text}");
    let hooks = &action["backupParameters"]["hooks"];
    let target = |when: &str| {
        assert_eq!(hooks[when]["blueprint"], name, "{when}: {text}");
        hooks[when]["actionName"].as_str().unwrap().to_string()
    };
    let freeze = target("preHook");
    // The thaw comes whichever way the backup ends.
    let thaw = target("onSuccess");
    assert_eq!(target("onFailure"), thaw, "{text}");
    Hooks {
        freeze: strings(&phase(&freeze)["args"]["command"]),
        thaw: strings(&phase(&thaw)["args"]["command"]),
        timeout: Duration::from_secs(45),
    }
}

/// The BlueprintBinding (docs.kasten.io/latest/api/blueprintbindings.html) names the blueprint
/// and selects the one StatefulSet.
fn k10_binding(doc: &Value, text: &str) {
    assert_eq!(doc["apiVersion"], "config.kio.kasten.io/v1alpha1", "{text}");
    assert_eq!(doc["kind"], "BlueprintBinding", "{text}");
    assert_eq!(doc["metadata"]["namespace"], "kasten-io", "{text}");
    let spec = &doc["spec"];
    assert_eq!(spec["blueprintRef"]["name"], "iris-freeze", "{text}");
    assert_eq!(spec["blueprintRef"]["namespace"], "kasten-io", "{text}");
    let all = &spec["resources"]["matchAll"];
    assert_eq!(all[0]["type"]["operator"], "In", "{text}");
    let gvrn = &all[0]["type"]["values"][0];
    assert_eq!(gvrn["group"], "apps", "{text}");
    assert_eq!(gvrn["resource"], "statefulsets", "{text}");
    assert_eq!(gvrn["name"], "iris-data", "{text}");
    assert_eq!(all[1]["namespace"]["values"][0], "iris", "{text}");
}

fn aks(text: &str) -> Hooks {
    let doc = yaml(text);
    assert_eq!(
        doc["apiVersion"],
        "clusterbackup.dataprotection.microsoft.com/v1alpha1"
    );
    assert_eq!(doc["kind"], "BackupHook");
    let hook = &doc["spec"]["backupHook"][0];
    assert_eq!(hook["includedNamespaces"][0], "iris");
    let exec = |k: &str| hook[k][0]["exec"].clone();
    for k in ["preHooks", "postHooks"] {
        assert_eq!(exec(k)["container"], "iris", "{text}");
        assert_eq!(exec(k)["onError"], "Fail", "{text}");
    }
    Hooks {
        freeze: strings(&exec("preHooks")["command"]),
        thaw: strings(&exec("postHooks")["command"]),
        timeout: secs(&exec("preHooks")["timeout"]),
    }
}

/// The hooks of a manifest, by the example file it is kept in.
fn hooks(file: &str, text: &str) -> Hooks {
    match file {
        "velero-hooks.yaml" => velero(text),
        "velero-backup.yaml" => velero_backup(text),
        "velero-schedule.yaml" => velero_schedule(text),
        "k10-blueprint.yaml" => k10(text),
        "k10-policy.yaml" => k10_policy(text),
        _ => aks(text),
    }
}

#[test]
fn the_manifests_name_the_documented_fields_and_a_timeout_above_ours() {
    for (_, _, file) in ENGINES {
        let text = fs::read_to_string(Path::new(EXAMPLES).join(file)).unwrap();
        let h = hooks(file, &text);
        assert_eq!(h.freeze[0], "/iris-freeze/iris-freeze");
        assert_eq!(&h.freeze[1..4], ["freeze", "--timeout", "30"], "{file}");
        assert_eq!(&h.thaw[1..], ["thaw", "--timeout", "30"], "{file}");
        assert!(h.timeout > Duration::from_secs(30), "{file}");
    }
}

#[test]
fn the_pod_recipes_put_the_binary_where_the_manifests_run_it() {
    let sts = yaml(&fs::read_to_string(Path::new(EXAMPLES).join("statefulset.yaml")).unwrap());
    let spec = &sts["spec"]["template"]["spec"];
    assert_eq!(spec["volumes"][0]["name"], "iris-freeze");
    assert!(spec["volumes"][0]["emptyDir"].is_object());
    let iris = &spec["containers"][0];
    assert_eq!(iris["name"], "iris");
    let mount = &iris["volumeMounts"][0];
    assert_eq!(mount["mountPath"], "/iris-freeze");
    assert_eq!(mount["readOnly"], true);
    // The binary's own directory in the emptyDir, as the IRIS container sees it.
    let sub = mount["subPath"].as_str().unwrap();
    let last = &spec["initContainers"].as_array().unwrap().last().unwrap();
    let install = strings(&last["command"]);
    assert_eq!(
        install.last().unwrap(),
        &format!("/target/{sub}/iris-freeze")
    );
    assert_eq!(last["volumeMounts"][0]["mountPath"], "/target");
    let docker = fs::read_to_string(Path::new(EXAMPLES).join("Dockerfile")).unwrap();
    assert!(docker.contains(" /iris-freeze/iris-freeze\n"), "{docker}");
    assert!(docker.contains("USER irisowner"), "{docker}");
}

#[test]
fn bad_names_are_refused_and_uninstall_has_nothing_to_remove() {
    let env = Env::new();
    let r = env.run(&["install", "velero", "--workload", "IRIS_Data"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        r.stderr
            .contains("--workload \"IRIS_Data\" is not a Kubernetes name"),
        "{}",
        r.text()
    );
    assert!(r.stdout.is_empty(), "{}", r.text());
    let r = env.run(&["install", "k10", "--binary", "iris-freeze"]);
    assert_eq!(r.code, 1, "{}", r.text());
    // Each engine has its own forms.
    for (engine, kind) in [
        ("k10", "backup"),
        ("velero", "policy"),
        ("aks-backup", "schedule"),
    ] {
        let r = env.run(&["install", engine, "--kind", kind]);
        assert_eq!(r.code, 1, "{}", r.text());
        assert!(
            r.stderr.contains(&format!(
                "--kind {kind} is not a form of `install {engine}`"
            )),
            "{}",
            r.text()
        );
        assert!(r.stdout.is_empty(), "{}", r.text());
    }
    for engine in ["velero", "k10", "aks-backup", "kubernetes"] {
        let r = env.run(&["uninstall", engine]);
        assert_eq!(r.code, 0, "{}", r.text());
        assert!(
            r.stdout.contains("nothing was installed on a host"),
            "{}",
            r.text()
        );
    }
}

#[test]
fn per_pod_hooks_refuse_a_sharded_cluster_naming_what_works() {
    let env = Env::new();
    for engine in ["velero", "aks-backup"] {
        let r = env.run(&["install", engine, "--sharded", "IRISCLUSTER"]);
        assert_eq!(r.code, 1, "{}", r.text());
        assert!(
            r.stderr.contains(&format!(
                "install {engine} refuses --sharded: its hooks run per pod, so the cluster would \
                 be thawed before the other pods' volumes are snapshotted"
            )),
            "{}",
            r.text()
        );
        assert!(
            r.stderr
                .contains("`iris-freeze run --instance MASTER --sharded IRISCLUSTER -- CMD`"),
            "{}",
            r.text()
        );
        assert!(r.stderr.contains("K10 policy-level hooks"), "{}", r.text());
        // Nothing printed: no manifest that would thaw the cluster too early.
        assert!(r.stdout.is_empty(), "{}", r.text());
    }
    // Without --sharded the same command prints its manifest.
    assert_eq!(env.run(&["install", "velero"]).code, 0);
}

/// Velero's objects go to the namespace Velero runs in (OpenShift's OADP: openshift-adp), a
/// Schedule at the cron given; what does not fit is refused, nothing printed.
#[test]
fn velero_objects_take_its_namespace_and_a_schedule_its_cron() {
    let env = Env::new();
    let text = print(
        &env,
        "velero",
        &[
            "--kind",
            "schedule",
            "--velero-namespace",
            "openshift-adp",
            "--schedule",
            "30 2 * * 1-5",
        ],
    );
    let doc = yaml(&text);
    assert_eq!(doc["kind"], "Schedule", "{text}");
    assert_eq!(doc["metadata"]["namespace"], "openshift-adp", "{text}");
    assert_eq!(doc["spec"]["schedule"], "30 2 * * 1-5", "{text}");
    assert_eq!(doc["spec"]["template"]["snapshotVolumes"], true, "{text}");
    let text = print(
        &env,
        "velero",
        &["--kind", "backup", "--velero-namespace", "openshift-adp"],
    );
    assert_eq!(
        yaml(&text)["metadata"]["namespace"],
        "openshift-adp",
        "{text}"
    );
    let refused = |args: &[&str], why: &str| {
        let r = env.run(&[&["install", "velero"], args].concat());
        assert_eq!(r.code, 1, "{args:?}: {}", r.text());
        assert!(r.stderr.contains(why), "{args:?}: {}", r.text());
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.text());
    };
    for ns in ["OpenShift-ADP", "velero-", "a_b", ""] {
        refused(
            &["--kind", "backup", "--velero-namespace", ns],
            &format!("--velero-namespace {ns:?} is not a Kubernetes name"),
        );
    }
    for cron in [
        "0 1 * *",
        "0 1 * * * *",
        "0  1 * * *",
        "0 1 * * \"",
        "@daily",
        "0 1 * * *\n",
    ] {
        refused(
            &["--kind", "schedule", "--schedule", cron],
            &format!("--schedule {cron:?} is not a cron expression of five fields"),
        );
    }
    refused(
        &["--schedule", "0 1 * * *"],
        "--schedule is for `install velero --kind schedule` only",
    );
    refused(
        &["--kind", "backup", "--schedule", "0 1 * * *"],
        "--schedule is for `install velero --kind schedule` only",
    );
    refused(
        &["--velero-namespace", "velero"],
        "--velero-namespace is for `install velero --kind backup`",
    );
    let r = env.run(&["install", "k10", "--velero-namespace", "velero"]);
    assert_eq!(r.code, 1, "{}", r.text());
}

/// K10's policy-level hooks wrap the whole backup, so they may freeze a sharded cluster from
/// its master pod; the per-resource Blueprint may not.
#[test]
fn the_k10_policy_freezes_a_sharded_cluster_from_the_master_pod() {
    let env = Env::new();
    let text = print(
        &env,
        "k10",
        &["--kind", "policy", "--sharded", "IRISCLUSTER"],
    );
    let h = k10_policy(&text);
    assert_eq!(
        &h.freeze[1..],
        [
            "freeze",
            "--sharded",
            "IRISCLUSTER",
            "--timeout",
            "30",
            "--max-freeze",
            "300"
        ],
        "{text}"
    );
    // The record says it was a cluster: the thaw needs no option.
    assert_eq!(&h.thaw[1..], ["thaw", "--timeout", "30"], "{text}");
    let r = env.run(&["install", "k10", "--sharded", "IRISCLUSTER"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        r.stderr
            .contains("install k10 takes --sharded with --kind policy only"),
        "{}",
        r.text()
    );
    assert!(r.stdout.is_empty(), "{}", r.text());
    let r = env.run(&["install", "k10", "--kind", "policy", "--sharded", "1\"x"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stderr.contains("is not a namespace name"), "{}", r.text());
    assert!(r.stdout.is_empty(), "{}", r.text());
}

/// The K10 policy's sharded freeze and thaw, run as K10 runs them in the master pod: the whole
/// cluster frozen from the master, then thawed with no option. The simulator's data nodes are
/// instances of this host; in the master's pod only the master runs, which
/// IRIS_FREEZE_INSTANCES stands in for at the freeze. The thaw, as printed, is given nothing:
/// it reads the record.
#[test]
fn the_k10_policys_sharded_hooks_freeze_and_thaw_the_whole_cluster() {
    let pod = Pod::new();
    pod.env.add(
        "IRIS",
        &[
            "product=IRIS",
            "dir=/data/master/",
            "shard_namespace=IRISCLUSTER",
            "shard_nodes=NODE1,NODE2",
        ],
    );
    pod.env
        .add("NODE1", &["product=IRIS", "dir=/data/node1/"])
        .add("NODE2", &["product=IRIS", "dir=/data/node2/"]);
    if let Some((uid, gid)) = exec_user() {
        chown_tree(&pod.env.sim, uid, gid);
    }
    let text = print(
        &pod.env,
        "k10",
        &[
            "--kind",
            "policy",
            "--sharded",
            "IRISCLUSTER",
            "--binary",
            pod.exe(),
        ],
    );
    let h = k10_policy(&text);
    let only_master = [("IRIS_FREEZE_INSTANCES", Some(Path::new("IRIS")))];
    let members = ["IRIS", "NODE1", "NODE2"];
    let (code, out) = pod.exec_env(&h.freeze, h.timeout, &only_master);
    assert_eq!(code, 0, "{out}");
    for m in members {
        assert!(pod.env.frozen(m), "{m}: {out}");
    }
    assert!(out.contains("IRISCLUSTER"), "{out}");
    let (code, out) = pod.exec(&h.thaw, h.timeout);
    assert_eq!(code, 0, "{out}");
    let exprs = fs::read_to_string(pod.env.sim.join("exprs.log")).unwrap_or_default();
    for m in members {
        assert!(!pod.env.frozen(m), "{m}: {out}\n{exprs}");
    }
}

#[test]
fn the_printed_freeze_ends_before_its_own_watchdog() {
    let env = Env::new();
    // A --timeout the default --max-freeze (300) would cut short: refused, nothing printed.
    for engine in ["velero", "k10", "aks-backup"] {
        let r = env.run(&["install", engine, "--timeout", "600"]);
        assert_eq!(r.code, 1, "{engine}: {}", r.text());
        assert!(
            r.stderr
                .contains("--max-freeze 300s is not more than --timeout 600s"),
            "{engine}: {}",
            r.text()
        );
        assert!(
            r.stderr.contains("--timeout well below 600"),
            "{}",
            r.text()
        );
        assert!(r.stdout.is_empty(), "{engine}: {}", r.text());
    }
    let r = env.run(&["install", "velero", "--timeout", "60", "--max-freeze", "45"]);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        r.stderr.contains("give --max-freeze more than 60"),
        "{}",
        r.text()
    );
    // Settable on the command line: the printed freeze carries it, and so do the steps.
    let text = print(&env, "velero", &["--timeout", "120", "--max-freeze", "400"]);
    let h = velero(&text);
    assert!(
        h.freeze.ends_with(&[
            "--timeout".into(),
            "120".into(),
            "--max-freeze".into(),
            "400".into()
        ]),
        "{text}"
    );
    let r = env.run(&["install", "k10", "--timeout", "120", "--max-freeze", "400"]);
    assert!(r.stderr.contains("after --max-freeze 400s"), "{}", r.text());
}

/// The user the engine's exec runs as: `nobody` when the tests run as root (CI), else the
/// current user.
fn exec_user() -> Option<(u32, u32)> {
    nix::unistd::geteuid().is_root().then_some((65534, 65534))
}

/// A container-like host: the instance IRIS owned by the exec user, a HOME, an
/// XDG_RUNTIME_DIR and a durable %SYS directory (ISC_DATA_DIRECTORY, as InterSystems' images
/// set it) of theirs, no systemd, no journald, and no iris-freeze path given.
struct Pod {
    env: Env,
    /// iris-freeze as the exec user reaches it: a link (or copy) in the pod's directory, since
    /// the checkout it was built in may sit where that user cannot go (under /root).
    exe: PathBuf,
    home: PathBuf,
    run: PathBuf,
    durable: PathBuf,
}

impl Pod {
    fn new() -> Pod {
        let env = Env::new();
        env.iris("IRIS");
        let home = env.tmp.path().join("home");
        let run = env.tmp.path().join("run");
        let durable = env.tmp.path().join("dur/iconfig");
        fs::create_dir_all(&home).unwrap();
        fs::create_dir_all(&run).unwrap();
        fs::create_dir_all(&durable).unwrap();
        fs::set_permissions(&run, fs::Permissions::from_mode(0o700)).unwrap();
        // Reachable by the exec user (the temp dir is 0700 root's).
        fs::set_permissions(env.tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
        if let Some((uid, gid)) = exec_user() {
            for dir in [&home, &run, &durable] {
                chown(dir, Some(uid), Some(gid)).unwrap();
            }
            chown_tree(&env.sim, uid, gid);
        }
        let exe = reachable_programs(&env);
        Pod {
            env,
            exe,
            home,
            run,
            durable,
        }
    }

    /// iris-freeze with `args`, as a manifest's command names it.
    fn argv(&self, args: &[&str]) -> Vec<String> {
        std::iter::once(self.exe())
            .chain(args.iter().copied())
            .map(String::from)
            .collect()
    }

    fn exe(&self) -> &str {
        self.exe.to_str().unwrap()
    }

    /// The manifest's argv run as the engine runs it; the exit code, or a panic when it
    /// outlives the engine's timeout (the engine would kill it and fail the hook).
    fn exec(&self, argv: &[String], timeout: Duration) -> (i32, String) {
        self.exec_env(argv, timeout, &[])
    }

    /// As [`exec`](Self::exec), with variables of the pod's own set (`None`: unset).
    fn exec_env(
        &self,
        argv: &[String],
        timeout: Duration,
        vars: &[(&str, Option<&Path>)],
    ) -> (i32, String) {
        let t = self.env.tmp.path();
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..])
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", self.env.bin.display()))
            .env("HOME", &self.home)
            .env("XDG_RUNTIME_DIR", &self.run)
            .env("ISC_DATA_DIRECTORY", &self.durable)
            .env("IRIS_SIM_DIR", &self.env.sim)
            // Not a path iris-freeze writes: the seams that keep the host's own out.
            .env("IRIS_FREEZE_ROOT", t.join("root"))
            .env("IRIS_FREEZE_SYSTEMD_DIR", t.join("no-systemd"))
            .env("IRIS_FREEZE_JOURNAL_SOCKET", t.join("journal-socket"))
            .env("IRIS_FREEZE_BIN_DIRS", "")
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in vars {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        if let Some((uid, gid)) = exec_user() {
            c.uid(uid).gid(gid);
        }
        let start = Instant::now();
        let mut child = common::spawn(&mut c);
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > timeout {
                let _ = child.kill();
                panic!("{argv:?} outlived the engine's timeout {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        let text = format!(
            "{argv:?}: {}\n--- stdout\n{}--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().expect("killed by a signal"), text)
    }

    /// Where the non-root defaults go: the runtime dir.
    fn dir(&self) -> PathBuf {
        self.run.join("iris-freeze")
    }

    /// Where the non-root history goes: the durable %SYS directory, in the volume snapshotted.
    fn history_file(&self) -> PathBuf {
        self.durable.join("iris-freeze/history.jsonl")
    }

    fn history(&self) -> String {
        fs::read_to_string(self.history_file()).unwrap_or_default()
    }
}

#[test]
fn each_engines_freeze_and_thaw_run_as_the_instance_owner() {
    for (engine, extra, file) in ENGINES {
        let pod = Pod::new();
        let text = print(
            &pod.env,
            engine,
            &[extra, &["--binary", pod.exe()]].concat(),
        );
        let h = hooks(file, &text);
        let (code, out) = pod.exec(&h.freeze, h.timeout);
        assert_eq!(code, 0, "{engine}: {out}");
        assert!(pod.env.frozen("IRIS"), "{engine}: {out}");
        // The state, the log and the history went to the user's own runtime dir.
        assert!(
            pod.dir().join("state/state.json").exists(),
            "{engine}: {out}"
        );
        assert!(pod.dir().join("freeze.log").exists(), "{engine}: {out}");
        let (code, out) = pod.exec(&h.thaw, h.timeout);
        assert_eq!(code, 0, "{engine}: {out}");
        assert!(!pod.env.frozen("IRIS"), "{engine}: {out}");
        assert!(pod.dir().join("thaw.log").exists(), "{engine}: {out}");
        assert!(
            pod.history().contains("\"consistent\""),
            "{}",
            pod.history()
        );
    }
}

#[test]
fn status_says_where_the_non_root_files_are() {
    let pod = Pod::new();
    let argv = pod.argv(&["status", "--json"]);
    let (code, out) = pod.exec(&argv, Duration::from_secs(60));
    let json = out
        .split("--- stdout\n")
        .nth(1)
        .unwrap()
        .split("--- stderr")
        .next()
        .unwrap();
    let s: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(code, 0, "{out}");
    let dir = pod.dir();
    assert_eq!(s["state_dir"], dir.join("state").to_str().unwrap(), "{out}");
    assert_eq!(s["files"]["user_dir"], dir.to_str().unwrap(), "{out}");
    // The history is on the durable %SYS volume (it travels inside the snapshot), the live
    // state in the runtime dir.
    assert_eq!(
        s["files"]["history"],
        pod.history_file().to_str().unwrap(),
        "{out}"
    );
    assert_eq!(
        s["files"]["history_from"], "$ISC_DATA_DIRECTORY, the durable %SYS volume",
        "{out}"
    );
    assert_eq!(s["files"]["history_on_tmpfs"], false, "{out}");
    assert_eq!(
        s["files"]["freeze_log"],
        dir.join("freeze.log").to_str().unwrap()
    );
}

#[test]
fn check_in_the_container_names_the_user_and_the_paths() {
    let pod = Pod::new();
    let argv = pod.argv(&["check", "velero"]);
    let (_, out) = pod.exec(&argv, Duration::from_secs(60));
    assert!(out.contains("state and logs under"), "{out}");
    assert!(
        out.contains(&format!(
            "history under {} (from $ISC_DATA_DIRECTORY",
            pod.durable.join("iris-freeze").display()
        )),
        "{out}"
    );
    assert!(!out.contains("on tmpfs"), "{out}");
    assert!(out.contains("is writable"), "{out}");
    assert!(out.contains("detached process"), "{out}");
    assert!(out.contains("not /iris-freeze/iris-freeze"), "{out}");
    // The fix names the engine checked, ready to paste.
    assert!(
        out.contains(&format!(
            "`iris-freeze install velero --binary {}",
            pod.exe()
        )),
        "{out}"
    );
}

#[test]
fn when_the_post_hook_never_comes_the_watchdog_thaws() {
    let pod = Pod::new();
    // The config file sets how long a freeze may last; the printed command carries it.
    // (The freeze must end before its watchdog: --max-freeze above --timeout.)
    let config = pod.env.config("max_freeze = 5\ntimeout = 4\n");
    let text = print(&pod.env, "velero", &["--binary", pod.exe()]);
    fs::remove_file(config).unwrap();
    let h = velero(&text);
    assert!(
        h.freeze.ends_with(&["--max-freeze".into(), "5".into()]),
        "{text}"
    );
    let (code, out) = pod.exec(&h.freeze, h.timeout);
    assert_eq!(code, 0, "{out}");
    assert!(pod.env.frozen("IRIS"), "{out}");
    let log = pod.dir().join("freeze.log");
    common::assert_watchdog_thawed_in(&pod.env, &log, &["IRIS"], &format!("{out}\n"));
    assert!(
        wait_until(Duration::from_secs(30), || pod
            .history()
            .contains("auto-thaw")),
        "{}",
        pod.history()
    );
}

#[test]
fn without_a_runtime_dir_the_files_go_under_home() {
    let pod = Pod::new();
    let (code, out) = pod.exec_env(
        &pod.argv(&["freeze", "--timeout", "30"]),
        Duration::from_secs(45),
        &[("XDG_RUNTIME_DIR", None)],
    );
    assert_eq!(code, 0, "{out}");
    let dir = pod.home.join(".local/state/iris-freeze");
    assert!(dir.join("state/state.json").exists(), "{out}");
    assert!(dir.join("freeze.log").exists(), "{out}");
    assert!(!pod.dir().exists(), "{out}");
    let thaw = pod.argv(&["thaw"]);
    let (code, out) = pod.exec_env(&thaw, Duration::from_secs(45), &[("XDG_RUNTIME_DIR", None)]);
    assert_eq!(code, 0, "{out}");
    assert!(!pod.env.frozen("IRIS"), "{out}");
}

#[test]
fn the_options_variables_still_win_over_the_non_root_defaults() {
    let pod = Pod::new();
    let mine = pod.home.join("elsewhere");
    let (code, out) = pod.exec_env(
        &pod.argv(&["freeze", "--timeout", "30"]),
        Duration::from_secs(45),
        &[
            ("IRIS_FREEZE_STATE_DIR", Some(&mine.join("state"))),
            ("IRIS_FREEZE_LOG_FILE", Some(&pod.home.join("my.log"))),
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(mine.join("state/state.json").exists(), "{out}");
    assert!(pod.home.join("my.log").exists(), "{out}");
    assert!(!pod.dir().join("state").exists(), "{out}");
    // The history was not named: it keeps its non-root default.
    assert!(pod.history().contains("freeze"), "{out}");
    let thaw = pod.argv(&["thaw"]);
    let state = mine.join("state");
    let (code, out) = pod.exec_env(
        &thaw,
        Duration::from_secs(45),
        &[("IRIS_FREEZE_STATE_DIR", Some(&state))],
    );
    assert_eq!(code, 0, "{out}");
    assert!(!pod.env.frozen("IRIS"), "{out}");
}

#[test]
fn without_durable_sys_the_history_goes_under_home_not_the_runtime_dir() {
    let pod = Pod::new();
    let no_durable = [("ISC_DATA_DIRECTORY", None)];
    let (code, out) = pod.exec_env(
        &pod.argv(&["freeze", "--timeout", "30"]),
        Duration::from_secs(45),
        &no_durable,
    );
    assert_eq!(code, 0, "{out}");
    // The live state stays in the runtime dir; the history is on persistent disk.
    assert!(pod.dir().join("state/state.json").exists(), "{out}");
    assert!(!pod.dir().join("history.jsonl").exists(), "{out}");
    let history = pod.home.join(".local/state/iris-freeze/history.jsonl");
    assert!(
        fs::read_to_string(&history).is_ok_and(|h| h.contains("freeze")),
        "{out}"
    );
    let status = pod.argv(&["status"]);
    let (_, out) = pod.exec_env(&status, Duration::from_secs(45), &no_durable);
    assert!(
        out.contains(&format!("history: {} (from $HOME)", history.display())),
        "{out}"
    );
    let thaw = pod.argv(&["thaw"]);
    let (code, out) = pod.exec_env(&thaw, Duration::from_secs(45), &no_durable);
    assert_eq!(code, 0, "{out}");
    assert!(!pod.env.frozen("IRIS"), "{out}");
}

#[test]
fn a_history_on_tmpfs_is_warned_about() {
    let shm = Path::new("/dev/shm");
    let on_tmpfs = Command::new("stat")
        .args(["-f", "-c", "%T", "/dev/shm"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "tmpfs");
    if !on_tmpfs {
        eprintln!("skipped: /dev/shm is not tmpfs here");
        return;
    }
    let pod = Pod::new();
    let dir = tempfile::tempdir_in(shm).unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    if let Some((uid, gid)) = exec_user() {
        chown(dir.path(), Some(uid), Some(gid)).unwrap();
    }
    let history = dir.path().join("history.jsonl");
    let vars = [("IRIS_FREEZE_HISTORY_FILE", Some(history.as_path()))];
    let check = pod.argv(&["check", "kubernetes"]);
    let (_, out) = pod.exec_env(&check, Duration::from_secs(60), &vars);
    assert!(
        out.contains(&format!("history {} is on tmpfs", history.display())),
        "{out}"
    );
    assert!(out.contains("ISC_DATA_DIRECTORY"), "{out}");
    let status = pod.argv(&["status"]);
    let (_, out) = pod.exec_env(&status, Duration::from_secs(60), &vars);
    assert!(out.contains("on tmpfs: lost at reboot"), "{out}");
}

/// Every pod spec in `v` (a mapping with `containers`), however deep.
fn pod_specs(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(m) => {
            if m.contains_key("containers") {
                out.push(v.clone());
            }
            m.values().for_each(|x| pod_specs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| pod_specs(x, out)),
        _ => {}
    }
}

/// Why `c` (an init container) fails the "restricted" Pod Security Standard, if it does.
fn restricted_problems(c: &Value) -> Vec<String> {
    let sc = &c["securityContext"];
    let mut out = Vec::new();
    if sc["allowPrivilegeEscalation"] != false {
        out.push("allowPrivilegeEscalation is not false".into());
    }
    if sc["runAsNonRoot"] != true {
        out.push("runAsNonRoot is not true".into());
    }
    if sc["runAsUser"].as_u64() == Some(0) {
        out.push("runAsUser is 0".into());
    }
    let drop = sc["capabilities"]["drop"].as_array();
    if !drop.is_some_and(|d| d.iter().any(|x| x == "ALL")) {
        out.push("capabilities.drop has no ALL".into());
    }
    if sc["capabilities"]["add"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x != "NET_BIND_SERVICE"))
    {
        out.push("capabilities.add other than NET_BIND_SERVICE".into());
    }
    if !matches!(
        sc["seccompProfile"]["type"].as_str(),
        Some("RuntimeDefault" | "Localhost")
    ) {
        out.push("seccompProfile.type is not RuntimeDefault".into());
    }
    out
}

/// The init containers the project ships (examples/kubernetes) or prints (`install ENGINE`)
/// pass the "restricted" Pod Security Standard: they only copy a file.
#[test]
fn every_init_container_passes_the_restricted_pod_security_standard() {
    let env = Env::new();
    let mut docs: Vec<(String, String)> = Vec::new();
    for e in fs::read_dir(EXAMPLES).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            docs.push((
                path.display().to_string(),
                fs::read_to_string(&path).unwrap(),
            ));
        }
    }
    for (engine, extra, _) in ENGINES {
        let what = format!("iris-freeze install {engine} {}", extra.join(" "));
        docs.push((what, print(&env, engine, extra)));
    }
    let mut checked = 0;
    for (what, text) in &docs {
        let mut specs = Vec::new();
        for doc in yaml_docs(text) {
            pod_specs(&doc, &mut specs);
        }
        for spec in specs {
            for c in spec["initContainers"].as_array().into_iter().flatten() {
                let problems = restricted_problems(c);
                assert!(
                    problems.is_empty(),
                    "{what}: init container {}: {}",
                    c["name"],
                    problems.join("; ")
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 2,
        "found {checked} init containers in {} files",
        docs.len()
    );
}

/// The init containers of statefulset.yaml, run as their securityContext says (as that uid
/// when the tests run as root, else as this user: never root) against an emptyDir-like
/// directory (mode 0777): the binary ends up in a 0755 directory of the IRIS user's, 0755.
#[test]
fn the_init_containers_install_the_binary_without_root() {
    let sts = yaml(&fs::read_to_string(Path::new(EXAMPLES).join("statefulset.yaml")).unwrap());
    let spec = &sts["spec"]["template"]["spec"];
    let env = Env::new();
    let t = env.tmp.path();
    let image = reachable_programs(&env);
    let target = t.join("empty-dir");
    fs::create_dir(&target).unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o777)).unwrap();
    let as_root = nix::unistd::geteuid().is_root();
    let mut uid = nix::unistd::geteuid().as_raw();
    for c in spec["initContainers"].as_array().unwrap() {
        let argv: Vec<String> = strings(&c["command"])
            .into_iter()
            .map(|a| match a.strip_prefix("/target") {
                Some(rest) => format!("{}{rest}", target.display()),
                None if a == "/iris-freeze" => image.display().to_string(),
                None => a,
            })
            .collect();
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]).current_dir("/");
        if as_root {
            uid = c["securityContext"]["runAsUser"].as_u64().unwrap() as u32;
            assert_ne!(uid, 0, "{}", c["name"]);
            cmd.uid(uid).gid(uid);
        }
        let st = cmd.status().unwrap();
        assert!(st.success(), "{argv:?} as uid {uid}: {st}");
    }
    use std::os::unix::fs::MetadataExt;
    let sub = spec["containers"][0]["volumeMounts"][0]["subPath"]
        .as_str()
        .unwrap();
    let dir = target.join(sub);
    for p in [dir.clone(), dir.join("iris-freeze")] {
        let md = fs::symlink_metadata(&p).unwrap();
        assert_eq!(md.uid(), uid, "{}", p.display());
        assert_eq!(md.mode() & 0o7777, 0o755, "{}", p.display());
    }
    assert_eq!(
        fs::read(dir.join("iris-freeze")).unwrap(),
        fs::read(&image).unwrap()
    );
}
