//! One module per verb: each is the orchestration of one command, read top to bottom; `state`
//! is the record of what a freeze froze, which they share.

pub(crate) mod check;
pub(crate) mod freeze;
pub(crate) mod history;
pub(crate) mod install;
pub(crate) mod restore_plan;
pub(crate) mod run;
pub(crate) mod ssh_command;
pub(crate) mod state;
pub(crate) mod status;
pub(crate) mod thaw;
pub(crate) mod verify;
pub(crate) mod watchdog;
