//! `check [PLATFORM]`: a doctor for the whole chain. Never freezes anything.
//!
//! The host's setup and IRIS first, then, with a platform, what that platform declares
//! (`platform::spec::Spec::check`). Every check adds findings; they are printed in one place
//! (`findings`), and any FAIL makes the exit 1.

mod instances;
mod setup;
mod sharded;

use anyhow::Result;

use crate::config::Config;
use crate::platform::Platform;
use crate::platform::kit::{Ctx, Findings};
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
            cfg,
            platform,
            bin: bin.as_deref(),
        };
        platform.spec().check(&c, &mut out);
    }
    let mut report = out.report();
    report.summary = crate::commands::install::with_root(&cfg.root, &report.summary);
    Ok(report)
}
