//! The generated documentation: the man page (section 8: the binary lives in /usr/sbin) and the
//! bash, zsh and fish completions, rendered from the clap definition. Shared by
//! `examples/gen-docs.rs` (writes them) and `tests/docs.rs` (checks the checked-in copies).

use clap::CommandFactory;
use clap_complete::{Shell, generate};
use iris_freeze::cli::Cli;

/// (path relative to the repository, contents) of every generated file.
pub fn all() -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    let mut man = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .section("8")
        .render(&mut man)
        .expect("render the man page");
    out.push(("doc/iris-freeze.8", man));
    for (shell, path) in [
        (Shell::Bash, "completions/iris-freeze.bash"),
        (Shell::Zsh, "completions/_iris-freeze"),
        (Shell::Fish, "completions/iris-freeze.fish"),
    ] {
        let mut buf = Vec::new();
        generate(shell, &mut Cli::command(), "iris-freeze", &mut buf);
        out.push((path, buf));
    }
    out
}
