//! Writes the man page and the shell completions from the clap definition, so they never drift
//! from `--help`: `cargo run --example gen-docs`. `cargo test` (tests/it/docs.rs, which includes
//! generate.rs) fails when the checked-in files differ from what this would write.

mod generate;

use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (path, bytes) in generate::all() {
        let dest = root.join(path);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(&dest, bytes).unwrap();
        println!("wrote {}", dest.display());
    }
}
