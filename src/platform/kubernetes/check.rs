//! `check kubernetes|velero|k10|aks-backup`, run in the IRIS container: what the engine's exec
//! needs there beyond the host checks every `check` does (the binary, `iris` and a %SYS login
//! without a password, the state dir, where the watchdog runs).

use std::fs;
use std::path::Path;

use super::{DEFAULT_BINARY, Engine};
use crate::config::Config;
use crate::config::user_defaults::on_tmpfs;
use crate::platform::kit::{Ctx, Findings};

pub(super) fn in_container(c: &Ctx, engine: Option<Engine>, out: &mut Findings) {
    user(c.cfg, out);
    writable_files(c.cfg, out);
    if let Some(engine) = engine {
        binary_path(engine, c.bin, out);
    }
}

/// The engines exec as the container's user: the instance owner, in InterSystems' images.
fn user(cfg: &Config, out: &mut Findings) {
    let uid = nix::unistd::geteuid();
    let name = nix::unistd::User::from_uid(uid).ok().flatten().map_or_else(
        || format!("uid {uid}"),
        |u| format!("{} (uid {uid})", u.name),
    );
    match &cfg.user_defaults {
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
fn writable_files(cfg: &Config, out: &mut Findings) {
    let (freeze_log, thaw_log) = &cfg.default_logs;
    for (what, path) in [
        ("history", &cfg.history_file),
        ("freeze log", freeze_log),
        ("thaw log", thaw_log),
    ] {
        if writable(path) {
            out.ok(format!("{what} {} is writable", path.display()));
            if path == &cfg.history_file {
                history_persistent(path, out);
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
fn history_persistent(path: &Path, out: &mut Findings) {
    if on_tmpfs(path) {
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
