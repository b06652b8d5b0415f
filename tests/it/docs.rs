//! The man page and completions in the repository are exactly what the clap definition renders,
//! so they never drift from `--help`.

// The generator itself, so that the test compares with exactly what it writes.
#[path = "../../examples/gen-docs/generate.rs"]
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
    assert!(man.contains(".TH IRIS\\-FREEZE 8 20"), "{}", &man[..200]);
}

/// The man page as `man` shows it: rendered by groff with every warning on, which must say
/// nothing; it holds every command with its own options, the sections a page in section 8
/// has, and no reference to a page that is not shipped.
#[test]
fn the_man_page_renders_cleanly_with_every_section_and_option() {
    use clap::CommandFactory;
    let page = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("doc/iris-freeze.8");
    let out = std::process::Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-rLL=100n"])
        .arg(&page)
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("groff is needed to check the man page");
    assert!(out.status.success(), "{out:?}");
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(warnings.trim().is_empty(), "groff warns: {warnings}");
    // Without the overstrike groff adds for bold and italics.
    let raw = String::from_utf8_lossy(&out.stdout);
    let mut text = String::new();
    for c in raw.chars() {
        if c == '\u{8}' {
            text.pop();
        } else {
            text.push(c);
        }
    }
    for section in [
        "EXIT STATUS",
        "FILES",
        "ENVIRONMENT",
        "EXAMPLES",
        "COMMANDS",
    ] {
        assert!(text.contains(section), "no {section} in:\n{text}");
    }
    let cli = iris_freeze::cli::Cli::command();
    for sub in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
        let heading = format!("iris-freeze {}", sub.get_name());
        let at = text
            .find(&heading)
            .unwrap_or_else(|| panic!("no {heading} in:\n{text}"));
        let rest = &text[at..];
        for arg in sub.get_arguments().filter(|a| !a.is_hide_set()) {
            if let Some(long) = arg.get_long() {
                assert!(rest.contains(&format!("--{long}")), "{heading}: --{long}");
            }
        }
    }
    for words in [
        "IRIS_FREEZE_MAX_FREEZE",
        "IRIS_FREEZE_TIMEOUT",
        "/etc/preScript.log",
        "azure, vmware",
    ] {
        assert!(text.contains(words), "no {words} in:\n{text}");
    }
    // Exit codes and examples one per line, not reflowed into a paragraph.
    assert!(
        text.lines()
            .any(|l| l.trim() == "iris-freeze freeze --instance IRIS --timeout 60")
    );
    assert!(
        !text.contains("iris-freeze-"),
        "a page that is not shipped:\n{text}"
    );
    assert!(!text.contains("__watchdog"));
}

fn man_page() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("doc/iris-freeze.8")
}

/// Whether `tool` runs here; a missing one fails under IRIS_FREEZE_TEST_MAN_TOOLS=1 (CI
/// installs mandoc and man-db), else the test prints a note and passes.
fn have(tool: &str) -> bool {
    let ok = std::process::Command::new(tool)
        .arg("--version")
        .output()
        .is_ok();
    if !ok {
        assert!(
            std::env::var("IRIS_FREEZE_TEST_MAN_TOOLS").as_deref() != Ok("1"),
            "{tool} is not installed and IRIS_FREEZE_TEST_MAN_TOOLS=1"
        );
        eprintln!("note: {tool} is not installed: the man page is not checked with it here");
    }
    ok
}

/// mandoc's linter, every level down to style, says nothing: a date in `.TH`, an upper-case
/// title, no text line over 80 bytes.
#[test]
fn the_man_page_is_clean_under_mandoc_lint() {
    if !have("mandoc") {
        return;
    }
    let out = std::process::Command::new("mandoc")
        .args(["-T", "lint", "-W", "style"])
        .arg(man_page())
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.is_empty(),
        "{}\n{said}",
        out.status
    );
}

/// What `whatis iris-freeze` shows: man-db's lexgrog reads the NAME line as its index does,
/// and gets the description with its accented letters decoded (`Caché`, not `Cach[u00E9]`).
#[test]
fn whatis_reads_the_name_line_as_written() {
    use clap::CommandFactory;
    if !have("lexgrog") {
        return;
    }
    let page = man_page();
    let out = std::process::Command::new("lexgrog")
        .arg(&page)
        .env("LC_ALL", "C.UTF-8")
        .output()
        .unwrap();
    let about = iris_freeze::cli::Cli::command()
        .get_about()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let expected = format!("{}: \"iris-freeze - {about}\"\n", page.display());
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout) == expected,
        "{out:?}\nexpected: {expected}"
    );
}
