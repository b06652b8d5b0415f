//! An instance name as qlist prints it, checked where it enters so it can only ever be one
//! argv item.

use std::fmt;

use anyhow::{Result, bail};

/// An instance name as IRIS prints it in qlist. Checked so it can only ever be one argv item.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct InstanceName(String);

impl InstanceName {
    pub(crate) fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.is_empty() {
            bail!("empty instance name");
        }
        if s.len() > 64
            || !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            bail!(
                "invalid instance name {s:?}: use the name `iris qlist` shows \
                 (letters, digits, '_', '-', '.')"
            );
        }
        Ok(InstanceName(s.to_string()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// Instance names are case-insensitive in IRIS; qlist prints them upper case.
    pub(crate) fn matches(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other)
    }
}

impl fmt::Display for InstanceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
