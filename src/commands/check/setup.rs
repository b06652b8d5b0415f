//! `check` of this host's own setup: the binary, the config and credentials files, the state
//! dir, and where the watchdog would run.

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::commands::state::{StateFile, state_dir};
use crate::config::Config;
use crate::host::systemd;
use crate::host::{metrics, trust};
use crate::iris::credentials::Credentials;
use crate::platform::kit::Findings;
use crate::platform::kit::{binary, safe_binary};
use crate::settings::env;

/// The binary itself: every hook runs it as root.
pub(super) fn check_binary(out: &mut Findings) -> Option<PathBuf> {
    let bin = match binary() {
        Ok(b) => b,
        Err(e) => {
            out.fail(
                "this program's path",
                format!("{e:#}; install it as /usr/local/sbin/iris-freeze"),
            );
            return None;
        }
    };
    match safe_binary(&bin) {
        Ok(md) => out.ok(format!(
            "binary {} (uid {}, mode {:04o})",
            bin.display(),
            md.uid(),
            md.mode() & 0o7777
        )),
        Err(e) => out.owner_problem(format!("binary {}", bin.display()), format!("{e:#}")),
    }
    Some(bin)
}

pub(super) fn check_config(cfg: &Config, out: &mut Findings) {
    let path = cfg.config_file.display();
    if let Some(e) = &cfg.config_error {
        out.fail(
            format!("config file {path}"),
            format!("{e}; fix the file (examples/iris-freeze.toml lists every key)"),
        );
    } else if !cfg.config_found {
        out.ok(format!("config file {path}: none, defaults in use"));
    } else {
        match crate::config::check_config_file(&cfg.config_file) {
            Ok(()) => out.ok(format!("config file {path}")),
            Err(e) => out.fail(format!("config file {path}"), format!("{e:#}")),
        }
    }
}

pub(super) fn check_credentials(cfg: &Config, out: &mut Findings) -> Option<Credentials> {
    let path = cfg.credentials_file.as_ref()?;
    match Credentials::load(path) {
        Ok(c) => {
            out.ok(format!(
                "credentials file {} (user {:?}, mode 0600 or stricter)",
                path.display(),
                c.user()
            ));
            Some(c)
        }
        Err(e) => {
            out.fail(
                format!("credentials file {}", path.display()),
                format!("{e:#}"),
            );
            None
        }
    }
}

pub(super) fn check_state_dir(cfg: &Config, out: &mut Findings) {
    let dir = &cfg.state_dir;
    match fs::symlink_metadata(dir) {
        Ok(_) => match state_dir(cfg).and_then(|s| s.load()) {
            Ok(state) => {
                out.ok(format!("state dir {}", dir.display()));
                if !state.instances.is_empty() {
                    let names: Vec<&str> = state.instances.keys().map(String::as_str).collect();
                    out.warn(
                        format!(
                            "the state records {} as frozen (or being frozen) by iris-freeze",
                            names.join(", ")
                        ),
                        "a freeze is in progress or its thaw never came; `iris-freeze status` \
                         shows it, `iris-freeze thaw` thaws it",
                    );
                }
            }
            Err(e) => out.fail(format!("state dir {}", dir.display()), format!("{e:#}")),
        },
        Err(e) if e.kind() == ErrorKind::NotFound => check_state_dir_creatable(dir, out),
        Err(e) => out.fail(format!("state dir {}", dir.display()), e.to_string()),
    }
}

/// A missing state dir is created at the first freeze: its nearest existing parent must be
/// writable.
fn check_state_dir_creatable(dir: &Path, out: &mut Findings) {
    let mut parent = dir;
    while fs::symlink_metadata(parent).is_err() {
        match parent.parent() {
            Some(p) => parent = p,
            None => break,
        }
    }
    let usable = parent.is_dir()
        && nix::unistd::access(
            parent,
            nix::unistd::AccessFlags::W_OK | nix::unistd::AccessFlags::X_OK,
        )
        .is_ok();
    if usable {
        out.ok(format!(
            "state dir {} (created 0700 at the first freeze)",
            dir.display()
        ));
    } else {
        out.fail(
            format!("state dir {}", dir.display()),
            format!(
                "it does not exist and {} is not writable: run as root, or set state_dir in \
                 /etc/iris-freeze.toml (or {})",
                parent.display(),
                env::STATE_DIR
            ),
        );
    }
}

/// The metrics file's directory: one that is refused means no metrics at all; one others can
/// add files to lets them squat the file's name, and the series (and the alerts on them) stop.
pub(super) fn check_metrics_dir(cfg: &Config, out: &mut Findings) {
    let Some(dir) = cfg.metrics_file.as_deref().and_then(Path::parent) else {
        return;
    };
    let what = format!("metrics directory {}", dir.display());
    if let Err(e) = trust::check_dir_chain(dir, trust::Rule::Data) {
        out.fail(what, format!("{e:#}: no metrics are written there"));
    } else if let Some(mode) = metrics::others_can_add(dir) {
        out.warn(
            format!("{what}: others can create files in it ({mode})"),
            format!(
                "another user can take the metrics file's name first, and then no series is \
                 written and no alert on them fires: use a directory only root can write \
                 (`chmod go-w {}`, or point node_exporter's --collector.textfile.directory at \
                 one)",
                dir.display()
            ),
        );
    } else {
        out.ok(what);
    }
}

/// Where systemd runs, the watchdog must be a unit of its own: as a detached process it lives
/// in the caller's cgroup, and a stop of the backup agent's unit (KillMode=control-group, the
/// default) ends it with the agent: it thaws on the SIGTERM, before the snapshot may be done,
/// and a SIGKILL alone leaves IRIS frozen.
pub(super) fn check_watchdog_systemd(out: &mut Findings) {
    if !systemd::booted() {
        out.ok("watchdog: a detached process (systemd is not running)");
        return;
    }
    let risk = "it ends when the backup agent's unit is stopped: it thaws IRIS then, whatever \
                the snapshot, and a SIGKILL alone leaves IRIS frozen";
    if systemd::opted_out() {
        out.warn(
            format!(
                "watchdog: {} is set, so it runs as a detached process although systemd runs",
                env::NO_SYSTEMD
            ),
            format!(
                "{risk}; unset {} in the hook's environment",
                env::NO_SYSTEMD
            ),
        );
        return;
    }
    let programs = ["systemd-run", "systemctl"].map(systemd::program);
    match programs {
        [Ok(run), Ok(_)] => out.ok(format!(
            "watchdog: a transient systemd unit ({})",
            run.display()
        )),
        [Err(e), _] | [_, Err(e)] => out.warn(
            format!("watchdog: cannot use systemd ({e:#}), so it runs as a detached process"),
            format!("{risk}; install systemd's own systemd-run and systemctl, owned by root"),
        ),
    }
}
