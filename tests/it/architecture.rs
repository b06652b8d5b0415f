//! The layers ARCHITECTURE.md draws, held against the code: a module may import its own layer's
//! modules' insides only through itself, and any layer below it, never one above.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The layers, top first, from the `text` block under ARCHITECTURE.md's "## Layers": one line
/// each, its modules separated by commas (`lib.rs` and `main.rs` are the crate root).
fn layers() -> BTreeMap<String, usize> {
    let doc = fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let section = doc
        .split("\n## Layers")
        .nth(1)
        .expect("ARCHITECTURE.md has a \"## Layers\" section");
    let block = section
        .split("```text\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("\"## Layers\" holds a ```text block");
    let lines: Vec<&str> = block.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut rank = BTreeMap::new();
    for (i, line) in lines.iter().enumerate() {
        for module in line.split(',') {
            let module = module.trim().trim_end_matches(".rs").trim_end_matches('/');
            rank.insert(module.to_string(), lines.len() - i);
        }
    }
    rank
}

/// `src/a/b.rs` → `a`; `src/lib.rs` → `lib`.
fn top_module(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `crate::NAME` a line of code names (comments left out).
fn crate_paths(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    code.match_indices("crate::")
        .filter(|(i, _)| {
            // `$crate::` in a macro is the crate root, as `crate::` is.
            !code[..*i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
        })
        .map(|(i, m)| {
            code[i + m.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn every_import_points_down_the_layers() {
    let rank = layers();
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let modules: Vec<String> = files.iter().map(|f| top_module(&src, f)).collect();
    let mut unplaced = Vec::new();
    let mut upward = Vec::new();
    for file in &files {
        let from = top_module(&src, file);
        let Some(&from_rank) = rank.get(&from) else {
            unplaced.push(from);
            continue;
        };
        let text = fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for to in crate_paths(line) {
                // An item of the crate root (`crate::Exit`) is the root's, `lib`.
                let to = if modules.contains(&to) {
                    to
                } else {
                    "lib".to_string()
                };
                if to == from {
                    continue;
                }
                match rank.get(&to) {
                    Some(&to_rank) if to_rank < from_rank => {}
                    Some(_) => upward.push(format!(
                        "{}:{}: {from} imports {to}",
                        file.strip_prefix(root()).unwrap().display(),
                        n + 1
                    )),
                    None => unplaced.push(to),
                }
            }
        }
    }
    unplaced.sort();
    unplaced.dedup();
    assert!(
        unplaced.is_empty(),
        "modules missing from ARCHITECTURE.md's layers: {unplaced:?}"
    );
    assert!(
        upward.is_empty(),
        "imports that point up (ARCHITECTURE.md, Layers):\n{}",
        upward.join("\n")
    );
}

#[test]
fn the_scan_sees_imports_and_skips_comments() {
    assert_eq!(
        crate_paths("use crate::host::lock; // crate::commands"),
        ["host"]
    );
    assert_eq!(crate_paths("    $crate::util::escape(x)"), ["util"]);
    assert_eq!(
        crate_paths("let a = crate::iris::X + crate::cli::Y;"),
        ["iris", "cli"]
    );
    assert!(crate_paths("/// see crate::config").is_empty());
}
