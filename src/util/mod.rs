//! Small helpers with no knowledge of IRIS or of any platform.

pub(crate) mod escape;
pub(crate) mod file_transaction;
pub(crate) mod ini;
pub(crate) mod random;
pub(crate) mod shell;
