//! `iris stat NAME [-W]` / `ccontrol stat NAME [-W]`: the write daemon's state, or with `-W`
//! its emergency resume.

use std::fs;
use std::path::Path;

use super::{require_running, usage_error};
use crate::call::{Call, Prog};
use crate::calllog::Ctx;
use crate::faults::{conclude, instance_faults};
use crate::instances::Instance;

pub(super) fn run(prog: Prog, root: &Path, args: &[String]) -> ! {
    let Some(name) = args.iter().find(|a| !a.starts_with('-')) else {
        usage_error(root, prog, "-", "missing instance name")
    };
    let resume = args.iter().any(|a| a == "-W");
    let ctx = Ctx::start(root, name, Call::Stat);
    let inst = require_running(&ctx, prog, name);
    let post = instance_faults(&ctx, &inst);
    if resume {
        resume_write_daemon(&inst);
    } else {
        print_status(&inst);
    }
    conclude(&ctx, post, 0)
}

fn resume_write_daemon(inst: &Instance) {
    match fs::remove_file(inst.frozen_path()) {
        Ok(()) => say!(
            "Write daemon resumed (WDSUSPD cleared) on instance {}",
            inst.name
        ),
        Err(_) => say!("Write daemon was not suspended on instance {}", inst.name),
    }
}

fn print_status(inst: &Instance) {
    let c = &inst.conf;
    let product = if c.product.is_empty() {
        "Cache"
    } else {
        &c.product
    };
    say!(
        "Instance {} ({product} {}) in {}",
        inst.name,
        c.version,
        c.dir
    );
    say!("Status: {}", c.status);
    match fs::read_to_string(inst.frozen_path()) {
        Ok(since) => say!(
            "WDSUSPD=1 (write daemon suspended since {} ms)",
            since.trim()
        ),
        Err(_) => say!("WDSUSPD=0 (write daemon running)"),
    }
}
