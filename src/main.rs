//! The entry point. std's runtime does what a hook needs before `main`: it opens /dev/null on a
//! closed fd 0, 1 or 2 (so the log never takes stdout's number) and ignores SIGPIPE (a reader
//! that went away is an error to ignore, not a death between ExternalFreeze and its record).

use std::process::ExitCode;

fn main() -> ExitCode {
    iris_freeze::run(std::env::args_os().collect()).into()
}
