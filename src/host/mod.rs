//! The host's plumbing: the state dir and its locks, the event log, stop signals, child processes
//! run with a deadline, systemd, and the rule for what root may run, read or write.

pub(crate) mod eventlog;
pub(crate) mod history;
pub(crate) mod journal;
pub(crate) mod lock;
pub(crate) mod metrics;
pub(crate) mod process;
pub(crate) mod procfs;
pub(crate) mod run_lock;
pub(crate) mod signals;
pub(crate) mod state;
pub(crate) mod stderr;
pub(crate) mod systemd;
pub(crate) mod this_host;
pub(crate) mod trust;
