//! `check [PLATFORM]`: a doctor for the whole chain. Never freezes anything.

use anyhow::{Result, bail};

use crate::config::Config;
use crate::platform::Platform;
use crate::report::Report;

pub fn run(_cfg: &Config, platform: Option<Platform>) -> Result<Report> {
    bail!("check {platform:?} is not implemented yet")
}
