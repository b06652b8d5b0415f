//! The entry point. std's runtime does what a hook needs before `main`: it opens /dev/null on a
//! closed fd 0, 1 or 2 (so the log never takes stdout's number) and ignores SIGPIPE (a reader
//! that went away is an error to ignore, not a death between ExternalFreeze and its record).

use std::process::ExitCode;

// The unwinder (in a release build, where panics abort, std needs it only for backtraces) comes
// from libgcc_eh.a, as in the static build, rather than from libgcc_s.so.1: one shared object less to map, relocate and
// initialise at every start of a dynamic build, which is freeze window (0.15 to 0.3 ms of the
// dynamic build's 0.5 ms over the static one, measured on a 2-core VM; see doc/performance.md).
// rustc puts this crate's libraries before std's `-lgcc_s`, so the linker takes the unwinder
// from here and, linking `--as-needed`, drops libgcc_s.
#[cfg(all(
    target_os = "linux",
    target_env = "gnu",
    not(target_feature = "crt-static")
))]
#[link(name = "gcc_eh", kind = "static")]
unsafe extern "C" {}

fn main() -> ExitCode {
    iris_freeze::run(std::env::args_os().collect()).into()
}
