//! The engines' manifests, printed by `install ENGINE` and kept in examples/kubernetes (a test
//! checks the two agree). Each names the freeze and thaw commands as the argv the engine execs
//! in the IRIS container (no shell), and a per-hook timeout that covers iris-freeze's own.

use super::{Kind, ManifestNames};
use crate::platform::kit::Given;
use crate::platform::{HOOK_MARGIN, hook_seconds};

/// A Kubernetes backup engine that execs iris-freeze in the IRIS container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    /// Velero: pod annotations (https://velero.io/docs/main/backup-hooks/).
    Velero,
    /// Kasten K10: a Kanister Blueprint bound to the workload.
    K10,
    /// Azure Backup for AKS: a BackupHook resource.
    AksBackup,
}

/// The argv of the freeze and of the thaw, as a JSON array (valid YAML flow too). A sharded
/// cluster's freeze names it; its thaw needs nothing more (the record says it was a cluster).
fn argv(given: &Given, freeze: bool) -> String {
    let bin = given.manifest.binary.clone();
    let t = seconds(given.timeout.as_secs_f64());
    let verb = if freeze { "freeze" } else { "thaw" };
    let mut v = vec![bin, verb.into()];
    if let Some(ns) = given.manifest.sharded.as_ref().filter(|_| freeze) {
        v.push("--sharded".into());
        v.push(ns.clone());
    }
    v.push("--timeout".into());
    v.push(t);
    if freeze {
        v.push("--max-freeze".into());
        v.push(seconds(given.max_freeze.as_secs_f64()));
    }
    serde_json::to_string(&v).unwrap_or_default()
}

fn seconds(s: f64) -> String {
    format!("{s}")
}

/// The engine's per-hook timeout: iris-freeze's own plus room for a rollback.
fn hook_timeout(given: &Given) -> String {
    format!("{}s", hook_seconds(given.timeout))
}

impl Engine {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Engine::Velero => "velero",
            Engine::K10 => "k10",
            Engine::AksBackup => "aks-backup",
        }
    }

    /// The form printed: `--kind`, else the engine's first (AKS has one).
    fn kind(self, given: &Given) -> Kind {
        given.manifest.kind.unwrap_or(match self {
            Engine::Velero => Kind::Statefulset,
            Engine::K10 | Engine::AksBackup => Kind::Blueprint,
        })
    }

    /// The manifest, alone (stdout).
    pub(crate) fn manifest(self, given: &Given) -> String {
        match self {
            Engine::Velero => match self.kind(given) {
                Kind::Backup => velero_backup(given),
                Kind::Schedule => velero_schedule(given),
                _ => velero(given),
            },
            Engine::K10 if self.kind(given) == Kind::Policy => k10_policy(given),
            Engine::K10 => k10(given),
            Engine::AksBackup => aks(given),
        }
    }

    /// What to do with it (stderr).
    pub(crate) fn steps(self, given: &Given) -> String {
        let n = given.manifest;
        let need = hook_seconds(given.timeout);
        let how = match self {
            Engine::Velero if self.kind(given) == Kind::Backup => format!(
                "Save it and create it to back up now (`kubectl apply -f velero-backup.yaml`); \
                 `--kind schedule` prints it as a Schedule. Its hooks run in pod {w}-0 of \
                 namespace {ns} (for an IrisCluster: --workload NAME-data). Velero runs the pre \
                 hook, snapshots the pod's volumes (snapshotVolumes: true, no file-system \
                 backup: with it the post hook waits for the whole copy, velero#8159), then the \
                 post hook. It is created in namespace {v}, Velero's (--velero-namespace; \
                 OpenShift's OADP: openshift-adp).",
                ns = n.namespace,
                w = n.workload,
                v = n.velero_namespace(),
            ),
            Engine::Velero if self.kind(given) == Kind::Schedule => format!(
                "Save it and create it (`kubectl apply -f velero-schedule.yaml`): Velero creates \
                 a Backup from its template at \"{cron}\" (--schedule). Its hooks run in pod \
                 {w}-0 of namespace {ns} (for an IrisCluster: --workload NAME-data). Velero runs \
                 the pre hook, snapshots the pod's volumes (snapshotVolumes: true, no file-system \
                 backup: with it the post hook waits for the whole copy, velero#8159), then the \
                 post hook. It is created in namespace {v}, Velero's (--velero-namespace; \
                 OpenShift's OADP: openshift-adp).",
                cron = n.schedule(),
                ns = n.namespace,
                w = n.workload,
                v = n.velero_namespace(),
            ),
            Engine::K10 if self.kind(given) == Kind::Policy => format!(
                "Save it and create both documents in K10's namespace: `kubectl apply -f \
                 k10-policy.yaml` (the Blueprint iris-freeze-policy, then the Policy that backs \
                 up namespace {ns} daily; change its frequency and retention to yours). The \
                 policy's preHook freezes{what} in pod {w}-0 before K10 looks at any resource; \
                 onSuccess thaws after the whole backup, onFailure thaws when it failed and K10 \
                 gave up retrying. Bind no other iris-freeze blueprint to the workload (two \
                 freezes). A backup that outlasts --max-freeze is thawed by the watchdog and its \
                 thaw reports it.",
                ns = n.namespace,
                w = n.workload,
                what = n.sharded.as_ref().map_or(String::new(), |c| format!(
                    " the sharded cluster {c} from its master"
                )),
            ),
            Engine::Velero => format!(
                "Save it and patch the workload's pod template (this restarts its pods, one by \
                 one): `kubectl -n {ns} patch statefulset {w} --patch-file velero-hooks.yaml`. \
                 For an IrisCluster, print `--kind backup` instead. Velero runs the pre hook, \
                 backs up the pod's volumes, then the post hook: have your Backup or Schedule \
                 snapshot them (snapshotVolumes: true, defaultVolumesToFsBackup: false), since \
                 with file-system backup the post hook waits for the whole copy (velero#8159).",
                ns = n.namespace,
                w = n.workload
            ),
            Engine::K10 => format!(
                "Save it and create both documents in K10's namespace: `kubectl apply -f \
                 k10-blueprint.yaml` (the Blueprint, and the BlueprintBinding that binds it to \
                 StatefulSet {w} in namespace {ns}; or drop the binding and annotate: `kubectl \
                 -n {ns} annotate statefulset {w} kanister.kasten.io/blueprint=iris-freeze`). \
                 The thaw is the backupPosthook's deferPhase, run even when the action's phases \
                 fail; if K10 never runs backupPosthook, the watchdog thaws. K10 bounds each \
                 hook action by its Helm value timeout.blueprintHooks (default 20 minutes).",
                ns = n.namespace,
                w = n.workload
            ),
            Engine::AksBackup => "Save it and create it in the cluster (`kubectl apply -f \
                 aks-backuphook.yaml`), then give it as input when you configure the backup \
                 (the backup instance's backup hooks, in the Azure portal or with `az \
                 dataprotection`)."
                .to_string(),
        };
        format!(
            "iris-freeze install {name}: nothing is written on this host; the manifest is on \
             stdout (`iris-freeze install {name} > FILE`).\n\
             \n\
             next steps:\n  \
             1. Put the static binary at {bin} in container {c} (examples/kubernetes: an init \
             container copying it into an emptyDir, or a Dockerfile).\n  \
             2. {how}\n  \
             3. In the container, `{bin} check {name}` must show no FAIL line (as the instance \
             owner: a %SYS session without a password, `iris` on PATH, paths it can write).\n  \
             Each hook may take {need} s (--timeout {t}s plus {HOOK_MARGIN}s for a rollback); \
             if a thaw never comes, the watchdog thaws after --max-freeze {m}s.",
            name = self.name(),
            bin = n.binary,
            c = n.container,
            t = seconds(given.timeout.as_secs_f64()),
            m = seconds(given.max_freeze.as_secs_f64()),
        )
    }
}

/// YAML single quotes around `s` (the JSON array of a Velero annotation).
fn single_quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn velero(given: &Given) -> String {
    let n = given.manifest;
    let mut lines = vec![
        format!(
            "# Velero backup hooks for iris-freeze: the annotations of the IRIS pods of \
             StatefulSet {} in namespace {}.",
            n.workload, n.namespace
        ),
        format!(
            "# kubectl -n {} patch statefulset {} --patch-file velero-hooks.yaml",
            n.namespace, n.workload
        ),
        "spec:".into(),
        "  template:".into(),
        "    metadata:".into(),
        "      annotations:".into(),
    ];
    for (when, freeze) in [("pre", true), ("post", false)] {
        let key = |k: &str| format!("        {when}.hook.backup.velero.io/{k}");
        lines.push(format!("{}: {}", key("container"), n.container));
        lines.push(format!(
            "{}: {}",
            key("command"),
            single_quoted(&argv(given, freeze))
        ));
        // A failed freeze fails the backup (no post hook runs then: nothing is frozen); a
        // failed thaw marks it, since its snapshot may not be consistent.
        lines.push(format!("{}: Fail", key("on-error")));
        lines.push(format!("{}: {}", key("timeout"), hook_timeout(given)));
    }
    lines.join("\n")
}

/// The IRIS pod of the StatefulSet in a Velero or AKS hook resource: its namespace and the
/// label Kubernetes puts on every StatefulSet pod (a mirror's other member: add its name).
/// `indent` starts each line.
fn pod_selector(n: &ManifestNames, indent: &str) -> String {
    [
        format!("{indent}includedNamespaces:"),
        format!("{indent}  - {}", n.namespace),
        format!("{indent}labelSelector:"),
        format!("{indent}  matchExpressions:"),
        format!("{indent}    - key: statefulset.kubernetes.io/pod-name"),
        format!("{indent}      operator: In"),
        format!("{indent}      values: [{}-0]", n.workload),
    ]
    .join("\n")
}

/// One exec hook of a Velero Backup or an AKS BackupHook, a list item at `indent`. As with the
/// Velero annotations, a failed freeze fails the pod's backup.
fn exec_hook(given: &Given, freeze: bool, indent: &str) -> String {
    [
        format!("{indent}- exec:"),
        format!("{indent}    container: {}", given.manifest.container),
        format!("{indent}    command: {}", argv(given, freeze)),
        format!("{indent}    onError: Fail"),
        format!("{indent}    timeout: {}", hook_timeout(given)),
    ]
    .join("\n")
}

/// A Velero Backup's spec (velero.io/docs/main/api-types/backup/), each line after `indent`:
/// the namespace, its volumes snapshotted rather than copied file by file, and the hooks in
/// spec.hooks.resources, selecting the IRIS pod by the label Kubernetes puts on every
/// StatefulSet pod.
fn velero_backup_spec(given: &Given, indent: &str) -> String {
    let n = given.manifest;
    let i = indent;
    let hook = |when: &str, freeze: bool| {
        format!(
            "{i}      {when}:\n{}",
            exec_hook(given, freeze, &format!("{i}        "))
        )
    };
    [
        format!("{i}includedNamespaces:"),
        format!("{i}  - {}", n.namespace),
        // With file-system backup (Kopia) the post hook waits for the whole copy
        // (velero#8159): the freeze would outlast --max-freeze. A snapshot is what the freeze
        // is for.
        format!("{i}snapshotVolumes: true"),
        format!("{i}defaultVolumesToFsBackup: false"),
        format!("{i}hooks:"),
        format!("{i}  resources:"),
        format!("{i}    - name: iris-freeze"),
        pod_selector(n, &format!("{i}      ")),
        hook("pre", true),
        hook("post", false),
    ]
    .join("\n")
}

/// A Backup in Velero's namespace: one backup, now.
fn velero_backup(given: &Given) -> String {
    let n = given.manifest;
    [
        format!(
            "# Velero Backup of namespace {} with iris-freeze hooks in pod {}-0 (no pod annotations).",
            n.namespace, n.workload
        ),
        "# kubectl apply -f velero-backup.yaml (iris-freeze install velero --kind schedule: the same, repeated)".into(),
        "apiVersion: velero.io/v1".into(),
        "kind: Backup".into(),
        "metadata:".into(),
        "  name: iris-freeze".into(),
        format!("  namespace: {}", n.velero_namespace()),
        "spec:".into(),
        velero_backup_spec(given, "  "),
    ]
    .join("\n")
}

/// A Schedule (velero.io/docs/main/api-types/schedule/): the same Backup spec as its
/// template, at the cron given.
fn velero_schedule(given: &Given) -> String {
    let n = given.manifest;
    [
        format!(
            "# Velero Schedule: namespace {} backed up at \"{}\", iris-freeze hooks in pod {}-0.",
            n.namespace,
            n.schedule(),
            n.workload
        ),
        "# kubectl apply -f velero-schedule.yaml".into(),
        "apiVersion: velero.io/v1".into(),
        "kind: Schedule".into(),
        "metadata:".into(),
        "  name: iris-freeze".into(),
        format!("  namespace: {}", n.velero_namespace()),
        "spec:".into(),
        format!("  schedule: \"{}\"", n.schedule()),
        "  template:".into(),
        velero_backup_spec(given, "    "),
    ]
    .join("\n")
}

/// A Kanister KubeExec phase in pod `pod` of namespace `ns` (both templates or names): `lead`
/// starts its first line (a list item's "- "), `indent` the others.
struct Exec<'a> {
    ns: &'a str,
    pod: &'a str,
    container: &'a str,
}

fn kube_exec(at: &Exec, name: &str, argv: &str, lead: &str, indent: &str) -> String {
    [
        format!("{lead}func: KubeExec"),
        format!("{indent}name: {name}"),
        format!("{indent}args:"),
        format!("{indent}  namespace: \"{}\"", at.ns),
        format!("{indent}  pod: \"{}\"", at.pod),
        format!("{indent}  container: {}", at.container),
        format!("{indent}  command: {argv}"),
    ]
    .join("\n")
}

fn k10(given: &Given) -> String {
    let n = given.manifest;
    let at = Exec {
        ns: "{{ .StatefulSet.Namespace }}",
        pod: "{{ index .StatefulSet.Pods 0 }}",
        container: &n.container,
    };
    let status = serde_json::to_string(&[n.binary.as_str(), "status"]).unwrap_or_default();
    [
        "# Kasten K10 blueprint for iris-freeze: freeze before the volume snapshots, thaw after."
            .to_string(),
        "# kubectl apply -f k10-blueprint.yaml: the Blueprint, then its BlueprintBinding.".into(),
        format!(
            "# Without the binding: kubectl -n {} annotate statefulset {} kanister.kasten.io/blueprint=iris-freeze",
            n.namespace, n.workload
        ),
        "apiVersion: cr.kanister.io/v1alpha1".into(),
        "kind: Blueprint".into(),
        "metadata:".into(),
        "  name: iris-freeze".into(),
        "  namespace: kasten-io".into(),
        "actions:".into(),
        "  backupPrehook:".into(),
        "    kind: StatefulSet".into(),
        "    phases:".into(),
        kube_exec(&at, "freeze", &argv(given, true), "      - ", "        "),
        "  backupPosthook:".into(),
        "    kind: StatefulSet".into(),
        "    phases:".into(),
        // What is frozen, in K10's action output; the thaw runs whatever this phase does.
        kube_exec(&at, "status", &status, "      - ", "        "),
        // Runs after the action's phases, whether they succeeded or not (blueprint schema,
        // "deferPhase"); it belongs to backupPosthook, so K10 must reach that action.
        "    deferPhase:".into(),
        kube_exec(&at, "thaw", &argv(given, false), "      ", "      "),
        "---".into(),
        k10_binding(given),
    ]
    .join("\n")
}

/// The policy-level form (https://docs.kasten.io/latest/api/policies, "Policy API Type": a
/// backup action's backupParameters.hooks): K10 runs preHook before it discovers the
/// namespace's resources, then onSuccess once every phase succeeded, or onFailure instead when
/// one failed and retries are exhausted (kanister/reference/phase-lifecycle), so a thaw comes
/// either way. The hook's ActionSet has the namespace as its subject: the pod is named.
fn k10_policy(given: &Given) -> String {
    let n = given.manifest;
    let pod = format!("{}-0", n.workload);
    let at = Exec {
        ns: "{{ .Namespace.Name }}",
        pod: &pod,
        container: &n.container,
    };
    let what = n.sharded.as_ref().map_or(String::new(), |c| {
        format!(" (the sharded cluster {c}, from its shard master)")
    });
    let action = |name: &str, freeze: bool| {
        [
            format!("  {name}:"),
            "    kind: Namespace".into(),
            "    phases:".into(),
            kube_exec(&at, name, &argv(given, freeze), "      - ", "        "),
        ]
        .join("\n")
    };
    let hook = |when: &str, name: &str| {
        [
            format!("          {when}:"),
            "            blueprint: iris-freeze-policy".into(),
            format!("            actionName: {name}"),
        ]
        .join("\n")
    };
    [
        format!(
            "# Kasten K10 policy with iris-freeze hooks: freeze in pod {pod}{what} before the \
             whole backup of namespace {}, thaw after it, on success or failure.",
            n.namespace
        ),
        "# kubectl apply -f k10-policy.yaml: the Blueprint, then the Policy.".into(),
        "apiVersion: cr.kanister.io/v1alpha1".into(),
        "kind: Blueprint".into(),
        "metadata:".into(),
        "  name: iris-freeze-policy".into(),
        "  namespace: kasten-io".into(),
        "actions:".into(),
        action("freeze", true),
        action("thaw", false),
        "---".into(),
        "apiVersion: config.kio.kasten.io/v1alpha1".into(),
        "kind: Policy".into(),
        "metadata:".into(),
        format!("  name: iris-freeze-{}", n.namespace),
        "  namespace: kasten-io".into(),
        "spec:".into(),
        "  comment: IRIS frozen by iris-freeze for each backup".into(),
        "  frequency: '@daily'".into(),
        "  retention:".into(),
        "    daily: 7".into(),
        "  selector:".into(),
        "    matchLabels:".into(),
        format!("      k10.kasten.io/appNamespace: {}", n.namespace),
        "  actions:".into(),
        "    - action: backup".into(),
        "      backupParameters:".into(),
        "        hooks:".into(),
        hook("preHook", "freeze"),
        hook("onSuccess", "thaw"),
        hook("onFailure", "thaw"),
    ]
    .join("\n")
}

/// The BlueprintBinding that runs the blueprint for the one StatefulSet
/// (https://docs.kasten.io/latest/api/blueprintbindings.html).
fn k10_binding(given: &Given) -> String {
    let n = given.manifest;
    [
        "apiVersion: config.kio.kasten.io/v1alpha1".to_string(),
        "kind: BlueprintBinding".into(),
        "metadata:".into(),
        format!("  name: iris-freeze-{}", n.workload),
        "  namespace: kasten-io".into(),
        "spec:".into(),
        "  blueprintRef:".into(),
        "    name: iris-freeze".into(),
        "    namespace: kasten-io".into(),
        "  resources:".into(),
        "    matchAll:".into(),
        "      - type:".into(),
        "          operator: In".into(),
        "          values:".into(),
        "            - group: apps".into(),
        "              resource: statefulsets".into(),
        format!("              name: {}", n.workload),
        "      - namespace:".into(),
        "          operator: In".into(),
        "          values:".into(),
        format!("            - {}", n.namespace),
    ]
    .join("\n")
}

fn aks(given: &Given) -> String {
    let n = given.manifest;
    [
        "# Azure Backup for AKS hooks for iris-freeze: freeze before the disk snapshots, thaw after."
            .to_string(),
        "apiVersion: clusterbackup.dataprotection.microsoft.com/v1alpha1".into(),
        "kind: BackupHook".into(),
        "metadata:".into(),
        "  name: iris-freeze".into(),
        format!("  namespace: {}", n.namespace),
        "spec:".into(),
        "  backupHook:".into(),
        "    - name: iris-freeze".into(),
        pod_selector(n, "      "),
        "      preHooks:".into(),
        exec_hook(given, true, "        "),
        "      postHooks:".into(),
        exec_hook(given, false, "        "),
    ]
    .join("\n")
}
