//! What a command needs done before it starts, once its configuration is built: a non-root
//! user's directories made for the files it writes, the credentials read for the commands that
//! log in to IRIS, and the config file's warnings shown. Building the configuration does none
//! of it, so it can be built (and inspected) without touching the host.

use std::path::Path;

use anyhow::{Context, Result};

use super::bad_file::warn_on_stderr;
use super::{Action, Config, Verbosity};
use crate::iris::credentials::Credentials;

impl Config {
    /// Called before the log opens and before any IRIS call: a credentials file a freeze
    /// cannot use stops it before it has changed anything.
    pub(crate) fn prepared(mut self) -> Result<Config> {
        if let Some(u) = &self.user_defaults {
            u.create_for(&[&self.state_dir, &self.history_file, &self.log_file]);
        }
        self.credentials = credentials(
            self.credentials_file.as_deref(),
            &self.action,
            &self.config_file,
            &mut self.config_warnings,
        )?;
        if self.verbosity != Verbosity::Quiet {
            warn_on_stderr(&self.config_warnings);
        }
        Ok(self)
    }
}

/// A freeze (or dry-run) refuses a credentials file it cannot load; a thaw, `status` and the
/// watchdog warn and go on without; installing, uninstalling and checking report a bad file
/// instead of refusing, and need no credentials.
fn credentials(
    path: Option<&Path>,
    action: &Action,
    config_file: &Path,
    warnings: &mut Vec<String>,
) -> Result<Option<Credentials>> {
    let in_config = || format!("credentials_file in {}", config_file.display());
    Ok(match (path, action) {
        (Some(p), Action::Freeze | Action::DryRun | Action::Run { .. }) => {
            Some(Credentials::load(p).with_context(in_config)?)
        }
        (Some(p), Action::Thaw | Action::Status { .. } | Action::Watchdog { .. }) => {
            Credentials::load(p)
                .map_err(|e| {
                    warnings.push(format!(
                        "{}: {e:#}; going on without credentials",
                        in_config()
                    ))
                })
                .ok()
        }
        _ => None,
    })
}
