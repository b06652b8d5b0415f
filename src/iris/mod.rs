//! Reaching IRIS and Caché: finding their programs and instances, the `Backup.General` calls
//! (each a session run by `host::process`) and what their output means, and the credentials a
//! login may need.

pub(crate) mod backup;
pub(crate) mod calls;
pub(crate) mod credentials;
pub(crate) mod discovery;
mod instance;
pub(crate) mod marked;
pub(crate) mod messages_log;
pub(crate) mod sharded;

pub(crate) use instance::InstanceName;

/// `s` as an ObjectScript string literal: in quotes, a quote doubled.
pub(crate) fn objectscript_string(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}
