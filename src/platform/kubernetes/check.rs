//! `check kubernetes|velero|k10|aks-backup`, run in the IRIS container: what the engine's exec
//! needs there beyond the host checks every `check` does (the binary, `iris` and a %SYS login
//! without a password, the state dir, where the watchdog runs).

use std::fs;
use std::path::Path;

use super::{DEFAULT_BINARY, Engine};
use crate::platform::kit::{Ctx, Findings, UserDirs, Writes};

pub(super) fn in_container(c: &Ctx, engine: Option<Engine>, out: &mut Findings) {
    user(c.writes.user.as_ref(), out);
    writable_files(&c.writes, out);
    if let Some(engine) = engine {
        binary_path(engine, c.bin, out);
    }
}

/// The engines exec as the container's user: the instance owner, in InterSystems' images.
fn user(defaults: Option<&UserDirs>, out: &mut Findings) {
    let uid = nix::unistd::geteuid();
    let name = nix::unistd::User::from_uid(uid).ok().flatten().map_or_else(
        || format!("uid {uid}"),
        |u| format!("{} (uid {uid})", u.name),
    );
    match defaults {
        None => out.warn(
            format!("running as {name}"),
            "IRIS containers run as the instance owner (irisowner), and so do the engines' \
             hooks: run this check as that user (`kubectl exec ... -- iris-freeze check \
             kubernetes`)",
        ),
        Some(d) => out.ok(format!(
            "running as {name}: state and logs under {} (from {}), history under {} (from {})",
            d.base.display(),
            d.from,
            d.history_dir.display(),
            d.history_from
        )),
    }
}

/// The history and the logs: a file that cannot be written never fails a freeze, but then
/// nothing records it.
fn writable_files(w: &Writes, out: &mut Findings) {
    let (freeze_log, thaw_log) = w.logs;
    for (what, path) in [
        ("history", w.history),
        ("freeze log", freeze_log),
        ("thaw log", thaw_log),
    ] {
        if writable(path) {
            out.ok(format!("{what} {} is writable", path.display()));
            if path == w.history {
                history_persistent(path, w.history_on_tmpfs, out);
            }
        } else {
            out.warn(
                format!("{what} {} cannot be written", path.display()),
                "name a file in a directory this user owns (--history-file, --log-file, or the \
                 config file), or leave them to the non-root defaults",
            );
        }
    }
}

/// The history is the proof that travels with the snapshot: in memory it is neither kept nor
/// snapshotted.
fn history_persistent(path: &Path, on_tmpfs: bool, out: &mut Findings) {
    if on_tmpfs {
        out.warn(
            format!("history {} is on tmpfs", path.display()),
            "it is lost at reboot and is in no volume snapshot: name a file on the IRIS data \
             volume (--history-file, IRIS_FREEZE_HISTORY_FILE or history_file), or set \
             ISC_DATA_DIRECTORY (the durable %SYS) for the default \
             $ISC_DATA_DIRECTORY/iris-freeze/history.jsonl",
        );
    }
}

/// The file can be appended to, or created in its directory.
fn writable(path: &Path) -> bool {
    use nix::unistd::{AccessFlags, access};
    if fs::symlink_metadata(path).is_ok() {
        return access(path, AccessFlags::W_OK).is_ok();
    }
    path.parent()
        .is_some_and(|d| access(d, AccessFlags::W_OK | AccessFlags::X_OK).is_ok())
}

/// The printed manifests run the binary at `--binary` (by default where examples/kubernetes
/// copies it).
fn binary_path(engine: Engine, bin: Option<&Path>, out: &mut Findings) {
    let default = Path::new(DEFAULT_BINARY);
    match bin {
        Some(b) if b == default => out.ok(format!("{DEFAULT_BINARY} is this binary")),
        Some(b) => out.warn(
            format!("this binary is {}, not {DEFAULT_BINARY}", b.display()),
            format!(
                "print the manifest with `iris-freeze install {} --binary {}`, or copy the \
                 binary to {DEFAULT_BINARY}",
                engine.name(),
                b.display()
            ),
        ),
        None => {}
    }
}
