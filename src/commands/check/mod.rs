//! `check [PLATFORM]`: a doctor for the whole chain. Never freezes anything.
//!
//! The host's setup and IRIS first, then, with a platform, what that platform declares
//! (`platform::spec::Spec::check`, given what it reads of the config). Every check adds
//! findings; they are printed in one place (`platform::kit::Findings`), and any FAIL makes the
//! exit 1.

mod instances;
mod setup;
mod sharded;

use anyhow::Result;

use crate::config::Config;
use crate::config::user_defaults::on_tmpfs;
use crate::platform::Platform;
use crate::platform::kit::{Ctx, Findings, UserDirs, Writes};
use crate::report::Report;

pub(crate) fn run(cfg: &Config, platform: Option<Platform>) -> Result<Report> {
    let mut out = Findings::default();
    let bin = setup::check_binary(&mut out);
    setup::check_config(cfg, &mut out);
    let creds = setup::check_credentials(cfg, &mut out);
    instances::check_instances(cfg, creds, &mut out);
    setup::check_state_dir(cfg, &mut out);
    setup::check_metrics_dir(cfg, &mut out);
    setup::check_watchdog_systemd(&mut out);
    if let Some(platform) = platform {
        let c = Ctx {
            given: crate::commands::install::given(cfg),
            platform,
            bin: bin.as_deref(),
            writes: writes(cfg),
        };
        platform.spec().check(&c, &mut out);
    }
    let mut report = out.report();
    report.summary = crate::commands::install::with_root(&cfg.root, &report.summary);
    Ok(report)
}

/// The files a run as this user writes, as the configuration resolved them.
fn writes(cfg: &Config) -> Writes<'_> {
    let (freeze_log, thaw_log) = &cfg.default_logs;
    Writes {
        history: &cfg.history_file,
        history_on_tmpfs: on_tmpfs(&cfg.history_file),
        logs: (freeze_log, thaw_log),
        user: cfg.user_defaults.as_ref().map(|d| UserDirs {
            base: &d.base,
            from: d.from,
            history_dir: &d.history_dir,
            history_from: d.history_from,
        }),
    }
}
