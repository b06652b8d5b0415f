//! Applying a fault: before the normal call (it may end the call there), and after it
//! (`then-*` faults replace the normal exit).

use std::path::Path;
use std::thread;
use std::time::Duration;

use nix::sys::signal::Signal;

use super::counter::take_fault;
use super::effects::{
    answer, echo_input, login, print_line, spawn_grandchild, write_binary, write_filler,
};
use super::spec::Kind;
use crate::calllog::Ctx;
use crate::exits::{crash, finish, hang, ignore_term_signals};
use crate::instances::Instance;

/// What to do after the normal call has run.
pub(crate) enum Post {
    Normal,
    Hang,
    Crash(Signal),
    Exit(i32),
}

/// The instance's own fault file, with its credentials for a `login` fault.
pub(crate) fn instance_faults(ctx: &Ctx, inst: &Instance) -> Post {
    apply_pre_faults(
        ctx,
        &inst.path.join("faults"),
        &inst.conf.user,
        &inst.conf.password,
    )
}

/// Applies the fault (if any) that acts before the normal call; terminal faults never return.
pub(crate) fn apply_pre_faults(ctx: &Ctx, faults: &Path, user: &str, password: &str) -> Post {
    let Some(kind) = take_fault(faults, ctx.call) else {
        return Post::Normal;
    };
    match kind {
        Kind::Fail => fail(ctx),
        Kind::Hang => hang(),
        Kind::HangIgnoreTerm => {
            ignore_term_signals();
            hang()
        }
        Kind::Login => login(ctx, user, password),
        Kind::LoginHang => {
            print!("Username: ");
            hang()
        }
        Kind::Crash(sig) => crash(sig),
        Kind::Exit(n) => {
            say!("simulated exit {n}");
            finish(ctx, n)
        }
        Kind::Answer(n) => answer(ctx, n),
        Kind::Silent(n) => finish(ctx, n),
        Kind::ThenHang => return Post::Hang,
        Kind::ThenCrash(sig) => return Post::Crash(sig),
        Kind::ThenExit(n) => return Post::Exit(n),
        Kind::Slow(ms) => thread::sleep(Duration::from_millis(ms)),
        Kind::Huge(bytes) => write_filler(bytes),
        Kind::Grandchild(secs) => spawn_grandchild(secs),
        Kind::Binary => write_binary(),
        Kind::EchoInput => echo_input(),
        Kind::Print(text) => print_line(&text),
    }
    Post::Normal
}

/// A simulated failure, where IRIS would report it: stdout and exit 3 for session calls,
/// stderr and exit 1 for qlist and stat.
fn fail(ctx: &Ctx) -> ! {
    let msg = "ERROR #5001: simulated failure";
    if ctx.call.is_session() {
        say!("{msg}");
        finish(ctx, 3)
    } else {
        eprintln!("{msg}");
        finish(ctx, 1)
    }
}

/// Ends the call after its normal part: its own exit code, or what a `then-*` fault says.
pub(crate) fn conclude(ctx: &Ctx, post: Post, rc: i32) -> ! {
    match post {
        Post::Normal => finish(ctx, rc),
        Post::Hang => hang(),
        Post::Crash(sig) => crash(sig),
        Post::Exit(n) => finish(ctx, n),
    }
}
