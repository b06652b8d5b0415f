//! `install PLATFORM` and `uninstall PLATFORM`: the hook files each snapshot platform needs.

use anyhow::{Result, bail};

use crate::config::Config;
use crate::platform::Platform;
use crate::report::Report;

pub fn install(_cfg: &Config, platform: Platform) -> Result<Report> {
    bail!("install {platform} is not implemented yet")
}

pub fn uninstall(_cfg: &Config, platform: Platform) -> Result<Report> {
    bail!("uninstall {platform} is not implemented yet")
}
