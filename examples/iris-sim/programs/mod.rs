//! The three simulated programs: `iris`, `csession` and `ccontrol`, and what each subcommand
//! of theirs runs.

mod backup;
mod qlist;
mod session;
mod sharded;
mod stat;

use std::path::Path;

use crate::call::{Call, Prog};
use crate::calllog::Ctx;
use crate::exits::finish;
use crate::instances::{Instance, find_instance, root_dir};

/// Runs `prog ARGS...` and exits.
pub(crate) fn run(prog: Prog, args: &[String]) -> ! {
    let root = root_dir();
    let sub = args.first().map(String::as_str);
    match (prog, sub) {
        (Prog::Csession, _) => session::run(prog, &root, args),
        (_, Some("qlist")) => qlist::run(prog, &root, &args[1..]),
        (Prog::Iris, Some("session" | "terminal")) | (Prog::Ccontrol, Some("session")) => {
            session::run(prog, &root, &args[1..])
        }
        (_, Some("stat")) => stat::run(prog, &root, &args[1..]),
        (_, Some(other)) => usage_error(&root, prog, "-", &format!("unknown command `{other}`")),
        (_, None) => usage_error(&root, prog, "-", ""),
    }
}

/// Bad usage: logged as CALL `other` on `name`, the message and the usage on stderr, exit 1.
fn usage_error(root: &Path, prog: Prog, name: &str, msg: &str) -> ! {
    let ctx = Ctx::start(root, name, Call::Other);
    if !msg.is_empty() {
        eprintln!("{}: {msg}", prog.name());
    }
    eprintln!("{}", prog.usage());
    finish(&ctx, 1)
}

/// Looks up the instance and checks it is running; exits 1 otherwise.
fn require_running(ctx: &Ctx, prog: Prog, name: &str) -> Instance {
    let Some(inst) = find_instance(&ctx.root, prog.registry(), name) else {
        eprintln!("Instance {name} not found");
        finish(ctx, 1)
    };
    if !inst.conf.running() {
        eprintln!(
            "Instance {} is not running ({})",
            inst.name, inst.conf.status
        );
        finish(ctx, 1)
    }
    inst
}
