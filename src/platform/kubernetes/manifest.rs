//! The engines' manifests, printed by `install ENGINE` and kept in examples/kubernetes (a test
//! checks the two agree). Each names the freeze and thaw commands as the argv the engine execs
//! in the IRIS container (no shell), and a per-hook timeout that covers iris-freeze's own.

use super::{ManifestNames, VeleroKind};
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

/// The argv of the freeze and of the thaw, as a JSON array (valid YAML flow too).
fn argv(given: &Given, freeze: bool) -> String {
    let bin = given.manifest.binary.clone();
    let t = seconds(given.timeout.as_secs_f64());
    let verb = if freeze { "freeze" } else { "thaw" };
    let mut v = vec![bin, verb.into(), "--timeout".into(), t];
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

    /// The manifest, alone (stdout).
    pub(crate) fn manifest(self, given: &Given) -> String {
        match self {
            Engine::Velero => match given.manifest.kind {
                VeleroKind::Statefulset => velero(given),
                VeleroKind::Backup => velero_backup(given),
            },
            Engine::K10 => k10(given),
            Engine::AksBackup => aks(given),
        }
    }

    /// What to do with it (stderr).
    pub(crate) fn steps(self, given: &Given) -> String {
        let n = given.manifest;
        let need = hook_seconds(given.timeout);
        let how = match self {
            Engine::Velero if n.kind == VeleroKind::Backup => format!(
                "Save it and create it to back up now (`kubectl apply -f velero-backup.yaml`), or \
                 put its spec under a Schedule's `template`. Its hooks run in pod {w}-0 of \
                 namespace {ns} (for an IrisCluster: --workload NAME-data). Velero runs the pre \
                 hook, backs up the pod's volumes, then the post hook; use 1.15.1 or later with \
                 file-system backup (post hook before Kopia had read the volume: velero#8159).",
                ns = n.namespace,
                w = n.workload
            ),
            Engine::Velero => format!(
                "Save it and patch the workload's pod template (this restarts its pods, one by \
                 one): `kubectl -n {ns} patch statefulset {w} --patch-file velero-hooks.yaml`. \
                 For an IrisCluster, print `--kind backup` instead. Velero runs the pre hook, \
                 backs up the pod's volumes, then the post hook; use 1.15.1 or later with \
                 file-system backup (post hook before Kopia had read the volume: velero#8159).",
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

/// The same hooks in a Velero Backup's spec.hooks.resources (velero.io/docs/main/api-types/backup/),
/// selecting the IRIS pod by the label Kubernetes puts on every StatefulSet pod.
fn velero_backup(given: &Given) -> String {
    let n = given.manifest;
    let hook = |when: &str, freeze: bool| {
        format!(
            "        {when}:\n{}",
            exec_hook(given, freeze, "          ")
        )
    };
    [
        format!(
            "# Velero Backup of namespace {} with iris-freeze hooks in pod {}-0 (no pod annotations).",
            n.namespace, n.workload
        ),
        "# kubectl apply -f velero-backup.yaml (or use its spec as a Schedule's template)".into(),
        "apiVersion: velero.io/v1".into(),
        "kind: Backup".into(),
        "metadata:".into(),
        "  name: iris-freeze".into(),
        "  namespace: velero".into(),
        "spec:".into(),
        "  includedNamespaces:".into(),
        format!("    - {}", n.namespace),
        "  hooks:".into(),
        "    resources:".into(),
        "      - name: iris-freeze".into(),
        pod_selector(n, "        "),
        hook("pre", true),
        hook("post", false),
    ]
    .join("\n")
}

/// A Kanister KubeExec phase in the workload's first pod: `lead` starts its first line (a list
/// item's "- "), `indent` the others.
fn kube_exec(container: &str, name: &str, argv: &str, lead: &str, indent: &str) -> String {
    [
        format!("{lead}func: KubeExec"),
        format!("{indent}name: {name}"),
        format!("{indent}args:"),
        format!("{indent}  namespace: \"{{{{ .StatefulSet.Namespace }}}}\""),
        format!("{indent}  pod: \"{{{{ index .StatefulSet.Pods 0 }}}}\""),
        format!("{indent}  container: {container}"),
        format!("{indent}  command: {argv}"),
    ]
    .join("\n")
}

fn k10(given: &Given) -> String {
    let n = given.manifest;
    let c = n.container.as_str();
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
        kube_exec(c, "freeze", &argv(given, true), "      - ", "        "),
        "  backupPosthook:".into(),
        "    kind: StatefulSet".into(),
        "    phases:".into(),
        // What is frozen, in K10's action output; the thaw runs whatever this phase does.
        kube_exec(c, "status", &status, "      - ", "        "),
        // Runs after the action's phases, whether they succeeded or not (blueprint schema,
        // "deferPhase"); it belongs to backupPosthook, so K10 must reach that action.
        "    deferPhase:".into(),
        kube_exec(c, "thaw", &argv(given, false), "      ", "      "),
        "---".into(),
        k10_binding(given),
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
