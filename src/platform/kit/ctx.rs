//! What a platform's checks look at.

use std::path::Path;

use crate::config::Config;
use crate::platform::Platform;

pub(crate) struct Ctx<'a> {
    pub(crate) cfg: &'a Config,
    pub(crate) platform: Platform,
    /// This binary, if its path could be found.
    pub(crate) bin: Option<&'a Path>,
}
