//! `install azure` and `uninstall azure`: the two wrappers and the plugin JSON that names them.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

use super::{HOOK_MARGIN, HOST_CONF, JSON, MAX_TIMEOUT, POST, PRE, WORKLOAD};
use super::{merge::merge, timeout_needed, workload};
use crate::host::trust::Tree;
use crate::platform::kit::Installer;
use crate::util::file_transaction::{Content, FileTransaction};

/// Mode of the plugin JSON: Azure refuses anything else readable or executable.
const JSON_MODE: u32 = 0o600;

/// Refuses a workload first (nothing is written then), reads the JSON before writing anything,
/// then writes the wrappers and the merged JSON.
pub(super) fn install(i: &mut Installer) -> Result<()> {
    refuse_workload(&i.tree)?;
    let json_path = i.tree.path(JSON)?;
    let json = i.tree.read(JSON)?;
    let found = read_settings(json.as_deref());
    let existing = match &found {
        Found::Settings(m) => Some(m.clone()),
        _ => None,
    };
    let (merged, changes) = merge(
        existing.clone().unwrap_or_default(),
        timeout_needed(i.given.timeout),
    );
    i.put_hooks()?;

    let mut note = Vec::new();
    if let Found::Invalid(why) = &found {
        note.push(format!("rewritten: {why}"));
    }
    if !changes.is_empty() {
        note.push(changes.join(", "));
    }
    let content = if existing.as_ref().is_some_and(|m| *m == merged) {
        // Same settings, maybe formatted differently: keep the file as it is.
        Content::File {
            bytes: json.unwrap_or_default(),
            mode: JSON_MODE,
        }
    } else {
        let mut bytes = serde_json::to_string_pretty(&Value::Object(merged))?.into_bytes();
        bytes.push(b'\n');
        Content::File {
            bytes,
            mode: JSON_MODE,
        }
    };
    // The file as it was before iris-freeze first merged into it, for `uninstall` to put back.
    let original = original_path(&i.tree)?;
    let save = !names_ours(&found) && fs::symlink_metadata(&original).is_err();
    i.tx.put_saving(
        &json_path,
        &content,
        &note.join("; "),
        save.then_some(&*original),
    )?;
    notes(i);
    Ok(())
}

fn refuse_workload(tree: &Tree) -> Result<()> {
    let path = tree.path(WORKLOAD)?;
    let bytes = tree.read(WORKLOAD).with_context(|| {
        format!(
            "cannot read {} (it decides whether Azure runs the pre/post scripts at all); \
             nothing was written",
            path.display()
        )
    })?;
    match bytes.and_then(|b| workload(&String::from_utf8_lossy(&b))) {
        Some(name) => bail!(
            "nothing was written: {} sets workload_name = {name}: Azure Backup then runs its \
             own {name} workload scripts and silently ignores the pre/post scripts, so IRIS \
             would never be frozen. Fix: empty it (a line `workload_name =` in the \
             [workload] section), then run `iris-freeze install azure` again",
            path.display()
        ),
        None => Ok(()),
    }
}

/// The plugin JSON as `install` finds it.
enum Found {
    Nothing,
    Settings(Map<String, Value>),
    /// Why it cannot be kept.
    Invalid(String),
}

fn read_settings(bytes: Option<&[u8]>) -> Found {
    match bytes.map(serde_json::from_slice::<Value>) {
        None => Found::Nothing,
        Some(Ok(Value::Object(m))) => Found::Settings(m),
        Some(Ok(other)) => Found::Invalid(format!("it held {other}, not a JSON object")),
        Some(Err(e)) => Found::Invalid(format!("it was not valid JSON: {e}")),
    }
}

/// Where `install` keeps the plugin JSON it found, until `uninstall` restores it.
fn original_path(tree: &Tree) -> Result<PathBuf> {
    tree.path(&format!("{JSON}.iris-freeze-bak.original"))
}

/// Whether the JSON found names our wrappers (a file an earlier `install azure` wrote).
fn names_ours(found: &Found) -> bool {
    match found {
        Found::Settings(m) => {
            let loc = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            loc("preScriptLocation") == PRE && loc("postScriptLocation") == POST
        }
        _ => false,
    }
}

/// What the user should know about the timeout cap and a plugin host file.
fn notes(i: &mut Installer) {
    let t = i.given.timeout.as_secs_f64();
    if t.ceil() as u64 + HOOK_MARGIN > MAX_TIMEOUT {
        i.notes.push(format!(
            "warning: --timeout {t}s plus the {HOOK_MARGIN}s margin is more than Azure's limit \
             of {MAX_TIMEOUT}s: through these wrappers iris-freeze finishes within Azure's \
             limit instead"
        ));
    }
    let host = i.tree.path(HOST_CONF);
    if let Some(host) = host.ok().filter(|h| fs::symlink_metadata(h).is_ok()) {
        i.notes.push(format!(
            "note: {} exists: it overrides the plugin host settings Azure ships (iris-freeze \
             never writes it); make sure it still names {JSON}",
            host.display()
        ));
    }
}

/// The plugin JSON's preScriptLocation and postScriptLocation ("" when missing).
fn locations(v: &Value) -> (String, String) {
    let loc = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    (loc("preScriptLocation"), loc("postScriptLocation"))
}

/// Both locations are our wrappers, and both are gone.
fn names_our_removed_wrappers(tree: &Tree, pre: &str, post: &str) -> Result<bool> {
    for (l, p) in [(pre, PRE), (post, POST)] {
        if l != p || fs::symlink_metadata(tree.path(p)?).is_ok() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Renames the plugin JSON `install` found (`original`) back to `path`.
fn put_back(original: &Path, path: &Path, tx: &mut FileTransaction, why: &str) -> Result<()> {
    fs::rename(original, path).with_context(|| {
        format!(
            "cannot put {} back as {}",
            original.display(),
            path.display()
        )
    })?;
    tx.line(
        "restored",
        path,
        format!(
            " as it was before `iris-freeze install azure` ({why}); Azure Backup runs the \
             scripts it names again"
        ),
    );
    Ok(())
}

/// Puts back the plugin JSON `install` found (or removes the one it created) when the JSON
/// names our wrappers and they are gone: it would otherwise point Azure at missing scripts, a
/// warning on every backup. A JSON that names other scripts stays.
pub(super) fn remove_json(tree: &Tree, tx: &mut FileTransaction) -> Result<()> {
    let path = tree.path(JSON)?;
    let original = original_path(tree)?;
    let has_original = fs::symlink_metadata(&original).is_ok();
    let restore = |tx: &mut FileTransaction, why: &str| put_back(&original, &path, tx, why);
    let Some(bytes) = tree.read(JSON)? else {
        if has_original {
            return restore(tx, "it was missing");
        }
        tx.line("absent", &path, "");
        return Ok(());
    };
    let keep_note = if has_original {
        format!(
            "; the file as it was before `install azure` stays in {}",
            original.display()
        )
    } else {
        String::new()
    };
    let Ok(v) = serde_json::from_slice::<Value>(&bytes) else {
        tx.line(
            "kept",
            &path,
            format!(": not valid JSON, so not iris-freeze's; left alone{keep_note}"),
        );
        return Ok(());
    };
    let (pre, post) = locations(&v);
    if !names_our_removed_wrappers(tree, &pre, &post)? {
        tx.line(
            "kept",
            &path,
            format!(
                ": it names scripts iris-freeze did not install or that are still there \
                 (preScriptLocation {pre:?}, postScriptLocation {post:?}); left alone{keep_note}"
            ),
        );
        return Ok(());
    }
    if has_original {
        return restore(tx, "with its own scripts and keys");
    }
    fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    tx.line(
        "removed",
        &path,
        " (install azure created it; Azure Backup now takes file-system-consistent snapshots)",
    );
    Ok(())
}
