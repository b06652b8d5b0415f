//! The man page and completions in the repository are exactly what the clap definition renders,
//! so they never drift from `--help`.

mod docs_gen;

#[test]
fn generated_docs_are_up_to_date() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (path, expected) in docs_gen::all() {
        let actual = std::fs::read(root.join(path)).unwrap_or_default();
        assert!(
            actual == expected,
            "{path} is out of date with the command-line definition: run `cargo run --example gen-docs`"
        );
    }
}

#[test]
fn the_man_page_documents_every_command() {
    let man = String::from_utf8(docs_gen::all()[0].1.clone()).unwrap();
    for cmd in [
        "freeze",
        "thaw",
        "status",
        "dry\\-run",
        "install",
        "uninstall",
        "check",
    ] {
        assert!(man.contains(cmd), "{cmd} missing from the man page");
    }
    assert!(man.contains(".TH iris-freeze 8"), "{}", &man[..200]);
}
