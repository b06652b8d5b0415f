//! Every integration test, in one binary: one link of the crate and its dependencies instead of
//! one per file. Each file is a module; run one with `cargo test --test it -- MODULE::`.

mod architecture;
mod chaos;
mod check_glibc;
mod command_line;
mod common;
mod completions;
mod config_file;
mod config_hooks;
mod docs;
mod fleet;
mod freeze_thaw;
mod history;
mod hostile_input;
mod install;
mod install_tree;
mod iris_calls;
mod iris_output;
mod kubernetes;
mod metrics_restore;
mod output_and_log;
mod packages;
mod products;
mod prometheus_alerts;
mod recovery;
mod rough_edges;
mod run;
mod safety;
mod sharded;
mod shared_dirs;
mod soak_cases;
mod ssh;
mod state;
mod systemd;
mod verify;
mod watchdog;
