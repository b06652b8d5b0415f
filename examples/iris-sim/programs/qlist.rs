//! `iris qlist [NAME]` / `ccontrol qlist [NAME]`: one line per instance of the registry.

use std::path::Path;

use crate::call::{Call, Prog};
use crate::calllog::Ctx;
use crate::faults::{apply_pre_faults, conclude};
use crate::instances::{qlist_line, registry_instances};

pub(super) fn run(prog: Prog, root: &Path, args: &[String]) -> ! {
    let call = if prog == Prog::Iris {
        Call::IrisQlist
    } else {
        Call::CcontrolQlist
    };
    let ctx = Ctx::start(root, "-", call);
    // qlist faults live in the top-level file; a `login` fault there takes the defaults.
    let post = apply_pre_faults(&ctx, &root.join("faults"), "_SYSTEM", "SYS");
    let filter = args.first();
    let mut found = false;
    for (i, inst) in registry_instances(root, prog.registry()).iter().enumerate() {
        if filter.is_some_and(|f| !inst.name.eq_ignore_ascii_case(f)) {
            continue;
        }
        found = true;
        say!("{}", qlist_line(i, inst));
    }
    let rc = match filter {
        Some(f) if !found => {
            eprintln!("Instance {f} not found");
            1
        }
        _ => 0,
    };
    conclude(&ctx, post, rc)
}
