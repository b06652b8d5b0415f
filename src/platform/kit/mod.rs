//! What every platform checks and installs with: the values it is given, the findings `check`
//! prints, the facts read of a file, the check of hook files, what hook files are made of, the
//! `--root` tree, the installer that writes them and what `uninstall` removes.
//! `commands::check` and `commands::install` drive these; a platform adds its own.

mod binary;
pub(crate) mod created_dirs;
mod ctx;
pub(crate) mod file_facts;
mod findings;
mod given;
pub(crate) mod hook_check;
pub(crate) mod hook_files;
mod installer;
mod root_tree;
mod uninstaller;

pub(crate) use binary::{binary, safe_binary};
pub(crate) use ctx::{Ctx, UserDirs, Writes};
pub(crate) use findings::Findings;
#[cfg(test)]
pub(crate) use findings::{Finding, Level};
pub(crate) use given::Given;
pub(crate) use installer::Installer;
pub(crate) use root_tree::open_root;
pub(crate) use uninstaller::remove_hooks;
