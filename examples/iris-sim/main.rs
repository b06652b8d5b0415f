//! `iris-sim`: a simulator of the InterSystems IRIS / Caché command-line tools
//! (`iris`, `csession`, `ccontrol`) for integration tests and demos of iris-freeze.
//!
//! Its specification of IRIS's answers is doc/iris-calls.md, the table of every call iris-freeze
//! makes (`src/iris/calls.rs` in the code): each call gives the documented answer, and a fault
//! gives the worst plausible variant where the documentation is silent. Where it differs from
//! that table (listed there too): the cluster calls and the check fed on stdin write the markers
//! iris-freeze's line would write, not run ObjectScript; the cluster freeze's messages.log line
//! is worded by it; `stat` without `-W` prints a `WDSUSPD=` line iris-freeze does not read;
//! "Instance NAME not found" / "is not running" (exit 1) are its own wording.
//!
//! # Dispatch
//! * Invoked as `iris`, `csession` or `ccontrol` (file name of argv\[0\], e.g. a symlink
//!   to the built example) it behaves as that program.
//! * Under any other name: `iris-sim iris|csession|ccontrol ARGS...` behaves as that
//!   program; `iris-sim SUBCOMMAND ...` runs a setup subcommand (below); anything else
//!   prints usage on stderr and exits 1.
//! * `IRIS_SIM_DIR` must be set (otherwise: error on stderr, exit 1).
//!
//! # State layout (`$IRIS_SIM_DIR`)
//! * `NAME/conf`: `key=value` lines (`#` comments allowed). Keys and defaults:
//!   - `product`: empty (empty = Caché), e.g. `IRIS`, `IRISHealth`.
//!   - `registry`: `iris` or `cache`; default `iris` if `product` is non-empty, else
//!     `cache`. `iris` lists/serves `registry=iris`, `csession`/`ccontrol` serve
//!     `registry=cache`. The registry also selects the IRIS or Caché defaults below.
//!   - `version`: `2024.1.0.263.0` (IRIS) / `2018.1.4.505.1` (Caché).
//!   - `status`: `running` (default), `down`, or any text (e.g. `sign-on inhibited`);
//!     only `running` counts as running.
//!   - `dir`: `/usr/irissys/` / `/usr/cachesys/`.
//!   - `fields`: number of qlist fields printed (1..=14): 14 (IRIS) / 12 (Caché); 8 for old Caché.
//!   - `health`: `ok`. `mirror_type`, `mirror_status`: empty.
//!   - `user`, `password`: credentials accepted by the `login` fault: `_SYSTEM` / `SYS`.
//!   - `shard_namespace`, `shard_nodes`: set on a sharded cluster's shard master: its master
//!     namespace, and its data nodes (comma-separated names of other instances of the same
//!     registry). The cluster's data servers are the master and its nodes. Empty by default.
//!   - `host`: the host name CheckpointInfo gives this data server (default: its name in lower
//!     case). `session_exit`: the session's exit status after a line fed on stdin (a cluster
//!     call on a shard master, the check), whatever it did (default 0).
//! * `NAME/frozen`: exists iff the write daemon is suspended (content: unix ms of the freeze).
//! * The instance's tree, modelled only when `<dir>/mgr` exists inside `$IRIS_SIM_DIR` (a test
//!   built it; see `messages_log.rs`): `<dir>/mgr/messages.log` (Caché: `cconsole.log`) gets
//!   IRIS's lines at
//!   ExternalFreeze (`Backup.General.ExternalFreeze: Suspending system`, `Journal file switched
//!   to: X`, `Start a journal restore for this backup with journal file: X`, `System
//!   suspended`) and ExternalThaw (`Backup.General.ExternalThaw: Resuming system`, `System
//!   resumed`; `Backup.General.ExternalThaw: Already resumed` when not frozen), each after
//!   `MM/DD/YY-HH:MM:SS:mmm (PID) 0 [Utility.Event] `; a freeze creates the WIJ
//!   (`mgr/IRIS.WIJ`, Caché `mgr/CACHE.WIJ`) when missing, and switches to a new journal file
//!   in `mgr/journal/`: the one after the newest there (`20261125.001` is made first when there
//!   is none, so the first freeze switches to `20261125.002`), created.
//! * `NAME/faults`: fault lines `CALL=SPEC` for that instance; `faults` (top level) holds
//!   faults for `iris-qlist` and `ccontrol-qlist`. Usage counters of `@N` lines are kept in
//!   `faults.count` next to the faults file (delete it to reset).
//! * `exprs.log`: each session call with an expression appends `<NAME> <EXPR>`.
//! * `$IRIS_SIM_TRACE` (optional, any path): the call log's lines again, with the time in unix
//!   nanoseconds, for the benchmark.
//! * `calls.log`: each simulated invocation appends (O_APPEND, one write per line)
//!   `<unix_ms> <pid> <NAME|-> <CALL> start` when it starts and
//!   `<unix_ms> <pid> <NAME|-> <CALL> exit=<rc>` right before a normal exit (no exit line
//!   when killed by a signal or hanging). NAME is the instance name as given on the command
//!   line (`-` for qlist and when absent). CALL is one of `freeze`, `thaw`, `check`,
//!   `history`, `stat`, `iris-qlist`, `ccontrol-qlist`, `other`. Setup subcommands are not logged.
//!
//! # Simulated commands
//! * `iris qlist [NAME]` / `ccontrol qlist [NAME]` (CALL `iris-qlist` / `ccontrol-qlist`):
//!   one line per instance of the matching registry, sorted by name, `^`-separated, cut to
//!   `fields` fields: 1 name, 2 dir, 3 version, 4 status (`running, since Wed Nov 25 12:00:00
//!   2026` / `down, last used Wed Nov 25 11:00:00 2026` / the status text as is), 5
//!   `iris.cpf`|`cache.cpf`, 6 superserver port 1972+i, 7 web port 52773+i, 8 jdbc port
//!   53773+i (i = 0-based position in the registry's list), 9 health (empty unless running),
//!   10 product, 11 mirror_type, 12 mirror_status, 13 data dir (= dir), 14 superserver port.
//!   Exit 0 (a given NAME that does not exist: message on stderr, exit 1).
//! * `iris session|terminal NAME [-U NS|-UNS] [-B] [EXPR]`, `csession NAME [...]`,
//!   `ccontrol session NAME [...]`. Unknown instance (lookup is case-insensitive):
//!   `Instance NAME not found` on stderr, exit 1. Status not `running`: `Instance NAME is
//!   not running (STATUS)` on stderr, exit 1. Faults are applied after these two checks.
//!   Then, with EXPR: namespace (default `USER`) not `%SYS` (case-insensitive): `<CLASS DOES
//!   NOT EXIST>` on stdout, exit 1. EXPR is matched case-insensitively by substring:
//!   - `Backup.General).ExternalFreeze(` → CALL `freeze`: if frozen, prints `Backup.General.
//!     ExternalFreeze cannot run with switch 10 or 13 already set`, exit 3; else prints the
//!     IRIS freeze output (`...Suspending system`, journal switch to
//!     `<dir>mgr/journal/20261125.002`, or the next file of a modelled tree, journal marker,
//!     `System suspended`), creates `frozen` (atomically), exit 5.
//!   - `Backup.ShardedCluster).ExternalFreeze("NS",...)` → CALL `freeze`, and
//!     `Backup.ShardedCluster).ExternalThaw("NS")` → CALL `thaw` (the master's own faults apply
//!     to the whole call). They return a %Status and no documented exit code: as an EXPR, an
//!     error %Status prints its text; the session exits with the master's `session_exit`
//!     whatever happened. On an instance without `shard_namespace`, or with NS (the method's
//!     first quoted argument) not its `shard_namespace`: an `ERROR #5001` naming it. Each data
//!     server in turn (master first) must exist and be running, and a data node's own
//!     `freeze`/`thaw` fault line applies to its part (`fail` fails it, `hang` hangs the whole
//!     call, others are ignored; `@N` counts as usual).
//!     Freeze: all or none: each data server's `frozen` is created; one already frozen, down,
//!     missing or failing removes the ones this call created, and the %Status is `ERROR #5001:
//!     data server NAME ...; the cluster was not frozen`. Success: CheckpointInfo's value is
//!     the next checkpoint number (the master's `checkpoint` file counts them) and its nodes
//!     `(host,port)` are each data server's journal file that ends at the checkpoint: on a
//!     modelled tree the one in use (then switched to the next, the WIJ made if missing), else
//!     PATH as in the freeze below; each data server's messages.log (its modelled tree's, else
//!     `mgr/messages.log` in its simulator directory) gets `Backup.ShardedCluster: checkpoint
//!     N, journal file PATH`.
//!     Thaw: removes every data server's `frozen`, logging `Backup.General.ExternalThaw:
//!     Resuming system` and `System resumed`, or `Backup.General.ExternalThaw: Already resumed`
//!     when it was not frozen, to that data server's messages.log only; each one it cannot
//!     reach or whose `thaw` fault fails makes the %Status `ERROR #5001: data server NAME ...:
//!     not resumed` (the others are resumed).
//!   - The same calls fed on stdin (no EXPR; after a `login` fault's two lines), as iris-freeze
//!     does: the first stdin line naming `Backup.ShardedCluster).` is the call (CALL and
//!     `exprs.log` as for an EXPR). In `%SYS`, after the `%SYS>` prompt, it writes what
//!     iris-freeze's line writes, each after a newline and the line's `p="PREFIX"`:
//!     `status=0|1`, `error=TEXT`; for a freeze `checkpoint=N` (empty on error), one `node
//!     LEN:HOST LEN:PORT LEN:PATH` per data server (HOST its conf `host`, else its name in lower
//!     case; PORT its qlist Super Server port), `end nodes=COUNT`; for a thaw `suspended=0|1`
//!     (the master's state before it), `end`. Then a newline and the session exits with the
//!     master's `session_exit` (default 0), whatever the %Status.
//!   - The check fed on stdin (no EXPR; after a `login` fault's two lines), as iris-freeze does:
//!     the first stdin line naming `Backup.General).IsWDSuspended(` → CALL `check` (and
//!     `exprs.log`). In `%SYS`, after the `%SYS>` prompt, it writes what the line writes, each
//!     after a newline and the line's `p="PREFIX"`: `suspended=1` if frozen, else
//!     `suspended=0`, then `end`; then a newline, exit `session_exit` (default 0). A line
//!     as a person types it, `w "LABEL",##Class(Backup.General).IsWDSuspended(),! h` (the
//!     README's hand check), writes LABEL and 1 or 0.
//!   - `).ExternalThaw(` → `thaw`: if frozen, prints `Backup.General.ExternalThaw: Resuming
//!     system` and `System resumed`, removes `frozen`, exit 5; else prints
//!     `Backup.General.ExternalThaw: System is not suspended`, exit 3.
//!   - `).IsWDSuspendedExt(` → `check`: no output, exit 5 if frozen, else 3.
//!   - `).ExternalSetHistory(` → `history`: prints `Backup.General.ExternalSetHistory: backup
//!     history updated`, exit 5.
//!   - anything else → `other`: prints `<METHOD DOES NOT EXIST>`, exit 1.
//!
//!   Without EXPR and without a cluster call or the check on stdin (CALL `other`): prints the
//!   prompt `NS>` (`USER>` without -U, `%SYS>` with `-U%SYS`), and again after each stdin line,
//!   reads stdin to EOF, exit 0.
//!   Bad usage (no NAME, unknown option, extra argument): stderr, exit 1.
//! * `iris stat NAME [-W]` / `ccontrol stat NAME [-W]` (CALL `stat`; other `-x` options are
//!   ignored; unknown / not running instance: stderr, exit 1). With `-W`: emergency resume of
//!   the write daemon: removes `frozen`, prints `Write daemon resumed (WDSUSPD cleared)` or
//!   `Write daemon was not suspended`, exit 0. Without: a few status lines including
//!   `WDSUSPD=1` (suspended) or `WDSUSPD=0`, exit 0.
//! * Any other usage of a program: stderr, exit 1 (CALL `other`).
//!
//! # Faults: `CALL=SPEC`, `SPEC = KIND[:ARG][@N]`
//! The first applicable line for the CALL wins. A line without `@N` always applies; a line
//! with `@N` applies to the first N invocations of that CALL that reach it, then it is
//! exhausted and the next applicable line (or normal behaviour) takes over.
//! * `fail`: prints `ERROR #5001: simulated failure` (stdout for session calls, stderr for
//!   qlist/stat), exit 3 (session calls) or 1 (qlist, stat); no state change.
//! * `hang`: sleeps forever with default signal dispositions (SIGTERM kills it).
//! * `hang-ignore-term`: ignores SIGTERM, SIGINT, SIGHUP, then sleeps forever.
//! * `login`: prints `Username: `, reads a line (EOF: newline + `Access Denied`, exit 3),
//!   prints `Password: `, reads a line, prints a newline; credentials equal to conf
//!   `user`/`password` continue with the normal call, else `Access Denied`, exit 3 (how a
//!   refused login exits is not documented: 3 is the worst case, a real answer's code).
//! * `login-hang`: prints `Username: ` and sleeps forever.
//! * `crash[:SIG]`: kills itself with SIG (`KILL`, `SIGSEGV`, `ABRT`, `6`...; default KILL)
//!   after setting RLIMIT_CORE to 0 and the process non-dumpable; no state change.
//! * `exit:N`: prints `simulated exit N`, exit N; no state change.
//! * `answer:N`: exit N, printing nothing (a real answer's shape, e.g. a bare 3 from
//!   IsWDSuspendedExt while frozen: someone else froze it after the check); no state change. On
//!   the check fed on stdin, a real answer's shape is its markers: `suspended=1` for N = 5,
//!   `suspended=0` for 3 (another N as it is), then `end`, then exit N.
//! * `silent:N`: exit N before running anything, printing nothing (a session that failed
//!   before the call, with an answer's code); no state change.
//! * `then-hang`, `then-crash[:SIG]`, `then-exit:N`: performs the normal call (state change and
//!   output), then hangs / crashes / exits N instead of the normal exit code.
//! * `slow:MS`: sleeps MS milliseconds, then normal.
//! * `huge[:BYTES]`: first writes BYTES (default 1048576) of `filler line NNNNNN ...` lines to
//!   stdout, then normal.
//! * `grandchild[:SECS]`: spawns `current_exe() __linger SECS` (default 30) in its own
//!   session (setsid), inheriting stdout/stderr, which sleeps SECS; then normal, without
//!   waiting for it.
//! * `binary`: first writes one stdout line full of control bytes (NUL, SOH, BEL, BS, ESC
//!   sequences, DEL, a backslash, and a CR followed by text shaped like a log line), then normal.
//! * `echo-input`: first copies stdin to stdout up to EOF (a session echoing what it read, the
//!   credentials included), then normal.
//! * `print:TEXT`: first writes TEXT and a newline to stdout, then normal: output shaped by
//!   whoever controls IRIS (a forged marker line, control bytes). In TEXT, `\xHH` is that byte
//!   (`\x40` for an `@`, `\x0a` for a newline) and `\\` a backslash.
//!
//! All output is flushed before exits, hangs and crashes. SIGPIPE has its default disposition.
//!
//! # Setup subcommands (`iris-sim SUBCOMMAND`, exit 0 on success, 1 on error)
//! * `add NAME [key=value ...]`: (over)writes `NAME/conf` with those keys.
//! * `set NAME key=value ...`: updates keys of an existing instance's conf.
//! * `fault NAME|- CALL=SPEC ...`: validates and appends fault lines (`-`: the top-level file).
//! * `state NAME`: prints `frozen` or `thawed`.
//! * `calls`: prints `calls.log`.
//!
//! # Where each part lives
//! * `main.rs`: this specification and the dispatch on argv\[0\] or the first argument.
//! * `call.rs`: the calls named in the call log and in fault lines; the three programs.
//! * `calllog.rs`: `calls.log` and the `$IRIS_SIM_TRACE` stamps; `exits.rs`: normal exits,
//!   hangs and crashes; `console.rs`: writing stdout, reading stdin.
//! * `instances/`: `conf` files, the registry of instances, qlist lines.
//! * `messages_log.rs`: the modelled instance tree: messages.log, journal files, the WIJ.
//! * `faults/`: fault lines (`spec.rs`), `@N` counters (`counter.rs`), what each fault does
//!   before or after the normal call (`apply.rs`, `effects.rs`).
//! * `programs/`: `iris`/`csession`/`ccontrol` dispatch, session calls and the
//!   `Backup.General` methods, `Backup.ShardedCluster` (`sharded.rs`), `stat`, `qlist`.
//! * `setup.rs`: the setup subcommands.

// The unit tests reach only the pure parts; everything else is used from `main`.
#![cfg_attr(test, allow(dead_code))]

#[macro_use]
mod console;
mod call;
mod calllog;
mod exits;
mod faults;
mod instances;
mod messages_log;
mod programs;
mod setup;

use std::env;
use std::path::Path;
use std::process;

use nix::sys::signal::{self, SigHandler, Signal};

use call::Prog;

fn main() {
    // Behave like a C program: die on SIGPIPE instead of getting EPIPE.
    // SAFETY: installing SIG_DFL does not run any code in signal context.
    let _ = unsafe { signal::signal(Signal::SIGPIPE, SigHandler::SigDfl) };
    let args: Vec<String> = env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if let Some(prog) = args.first().and_then(|a| Prog::parse(&file_name(a))) {
        programs::run(prog, &args[1..]);
    }
    let Some(first) = args.get(1) else {
        eprintln!("{}", setup::USAGE);
        process::exit(1)
    };
    if let Some(prog) = Prog::parse(first) {
        programs::run(prog, &args[2..]);
    }
    match first.as_str() {
        "__linger" => faults::linger(&args[2..]),
        "add" | "set" | "fault" | "state" | "calls" => setup::run(first, &args[2..]),
        "help" | "-h" | "--help" => {
            say!("{}", setup::USAGE);
            process::exit(0)
        }
        other => {
            eprintln!("iris-sim: unknown subcommand `{other}`\n{}", setup::USAGE);
            process::exit(1)
        }
    }
}

/// The file name of argv\[0\]: a symlink named `iris`, `csession` or `ccontrol` selects it.
fn file_name(argv0: &str) -> String {
    Path::new(argv0)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default()
}
