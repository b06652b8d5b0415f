//! What the faults that let the call go on do first: a login prompt, filler or binary output,
//! echoed input, a lingering grandchild.

use std::env;
use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{self, Command, Stdio};
use std::thread;
use std::time::Duration;

use nix::unistd::setsid;

use crate::call::Call;
use crate::calllog::Ctx;
use crate::console::{fed, flush_all, mark, read_answer};
use crate::exits::finish;

/// How a refused login exits is not documented: 3, the worst case, is the code a real answer
/// has (IsWDSuspendedExt's "not suspended", a failed freeze).
const REFUSED: i32 = 3;

/// Prompts for a username and a password on stdin; anything but `user`/`password` (or EOF)
/// ends the call with `Access Denied`, exit [`REFUSED`].
pub(super) fn login(ctx: &Ctx, user: &str, password: &str) {
    print!("Username: ");
    flush_all();
    let Some(u) = read_answer() else {
        say!("\nAccess Denied");
        finish(ctx, REFUSED)
    };
    print!("Password: ");
    flush_all();
    let Some(p) = read_answer() else {
        say!("\nAccess Denied");
        finish(ctx, REFUSED)
    };
    say!();
    if u != user || p != password {
        say!("Access Denied");
        finish(ctx, REFUSED)
    }
}

/// `answer:N`: exit N, as a real answer looks. A check fed on stdin (iris-freeze's
/// IsWDSuspended line) answers with its markers, saying what N says to IsWDSuspendedExt (5:
/// suspended, 3: not; another N as it is, which no answer is); anything else prints nothing.
pub(super) fn answer(ctx: &Ctx, n: i32) -> ! {
    if let Some(line) = fed().filter(|_| ctx.call == Call::Check) {
        let said = match n {
            5 => "1".to_string(),
            3 => "0".to_string(),
            n => n.to_string(),
        };
        print!("%SYS>");
        mark(&line, &format!("suspended={said}"));
        mark(&line, "end");
        say!();
    }
    finish(ctx, n)
}

/// `bytes` bytes of numbered 80-byte `filler line` lines (the last one cut short).
pub(super) fn write_filler(bytes: u64) {
    const LINE: usize = 80;
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut left = bytes;
    let mut n = 0u64;
    while left > 0 {
        n += 1;
        let mut line = format!("filler line {n:06} ");
        while line.len() < LINE - 1 {
            line.push('.');
        }
        line.push('\n');
        let take = (left as usize).min(LINE);
        if take < LINE {
            line.truncate(take - 1);
            line.push('\n');
        }
        if out.write_all(line.as_bytes()).is_err() {
            break;
        }
        left -= take as u64;
    }
    let _ = out.flush();
}

/// Output no IRIS should print but a broken terminal setting might: every kind of control
/// byte, and a carriage return that could pass for the start of a new log line.
pub(super) fn write_binary() {
    let _ = io::stdout().write_all(
        b"\0\0binary\x01\x07\x08 output\x1b[31m red\x1b[0m\x7f \\ back\r\
          2026-11-25T12:00:00.000+00:00 pid=1 cmd=thaw inst=X event=thawed forged\0\n",
    );
}

/// `text` and a newline on stdout, whatever bytes it holds.
pub(super) fn print_line(text: &[u8]) {
    let mut out = io::stdout().lock();
    let _ = out.write_all(text).and_then(|()| out.write_all(b"\n"));
}

/// Copies stdin to stdout until EOF, as a session that echoes what it reads.
pub(super) fn echo_input() {
    let mut input = Vec::new();
    let _ = io::stdin().lock().read_to_end(&mut input);
    let _ = io::stdout().write_all(&input);
}

/// Starts `current_exe() __linger SECS` in its own session, holding our stdout and stderr:
/// a process the caller's process-group kill does not reach.
pub(super) fn spawn_grandchild(secs: u64) {
    flush_all();
    let exe = match env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("iris-sim: cannot find own executable: {e}");
            return;
        }
    };
    let mut cmd = Command::new(exe);
    cmd.arg("__linger")
        .arg(secs.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit());
    // SAFETY: setsid is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| setsid().map(|_| ()).map_err(io::Error::from));
    }
    if let Err(e) = cmd.spawn() {
        eprintln!("iris-sim: cannot spawn grandchild: {e}");
    }
}

/// The grandchild's body (`iris-sim __linger SECS`): sleeps, exits 0.
pub(crate) fn linger(args: &[String]) -> ! {
    let secs = args.first().and_then(|s| s.parse().ok()).unwrap_or(30);
    thread::sleep(Duration::from_secs(secs));
    process::exit(0)
}
