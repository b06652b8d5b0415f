//! The `run` examples of doc/run.md, taken from the page and run as written: against stand-in
//! snapshot tools (rough_edges.rs) and for real where the machine can (btrfs.rs).

use std::path::Path;

use super::{BIN, Env, Run};

/// The commands of the examples in doc/run.md, as written: each starts at a line beginning with
/// `iris-freeze run` and runs to the next blank or comment line.
pub fn run_page_examples() -> Vec<String> {
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("doc/run.md")).unwrap();
    let section = page
        .split("\n## Examples\n")
        .nth(1)
        .expect("the run page's examples");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("its code block");
    let mut out: Vec<String> = Vec::new();
    for line in block.lines() {
        if line.starts_with("iris-freeze run") {
            out.push(String::new());
        } else if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(cmd) = out.last_mut() {
            cmd.push_str(line);
            cmd.push('\n');
        }
    }
    out
}

/// Runs an example of doc/run.md with sh, `iris-freeze` on PATH as the user types it, and `vars`
/// in its environment (those the example says the user sets).
pub fn run_example(env: &Env, example: &str, vars: &[(&str, &str)]) -> Run {
    let link = env.bin.join("iris-freeze");
    if !link.exists() {
        std::os::unix::fs::symlink(BIN, &link).unwrap();
    }
    env.run_program(Path::new("/bin/sh"), &["-c", example], vars)
}
