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

/// The project's Markdown: the README, CONTRIBUTING, the CHANGELOG and every page under doc/.
fn markdown_files() -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out: Vec<_> = ["README.md", "CONTRIBUTING.md", "CHANGELOG.md"]
        .iter()
        .map(|f| root.join(f))
        .collect();
    out.extend(doc_pages());
    out
}

/// Every `.md` under doc/, sorted.
fn doc_pages() -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|x| x == "md") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("doc"),
        &mut out,
    );
    out.sort();
    out
}

/// The lines of a Markdown text outside fenced code blocks, with inline code spans removed
/// (what a reader sees as text, where links and headings live).
fn prose(text: &str) -> Vec<String> {
    let mut fenced = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut kept = String::new();
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 0 {
                kept.push_str(part);
            }
        }
        out.push(kept);
    }
    out
}

/// GitHub's anchor for a heading: lower case, letters, digits, `-` and `_` kept, spaces made
/// `-`, everything else dropped.
fn slug(heading: &str) -> String {
    let mut s = String::new();
    for c in heading.to_lowercase().chars() {
        if c.is_alphanumeric() || c == '-' || c == '_' {
            s.push(c);
        } else if c == ' ' {
            s.push('-');
        }
    }
    s
}

/// The headings of a page outside fenced code blocks: level and text, as written.
fn headings(text: &str) -> Vec<(usize, String)> {
    let mut fenced = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        let level = line.len() - line.trim_start_matches('#').len();
        if fenced || level == 0 || !line[level..].starts_with(' ') {
            continue;
        }
        out.push((level, line[level..].trim().to_string()));
    }
    out
}

/// The anchors of a page's headings, with GitHub's `-1`, `-2` for repeated ones.
fn anchors(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, heading) in headings(text) {
        let base = slug(&heading);
        let mut name = base.clone();
        let mut n = 0;
        while out.contains(&name) {
            n += 1;
            name = format!("{base}-{n}");
        }
        out.push(name);
    }
    out
}

/// The targets of the inline links `[text](target)` in a line.
fn link_targets(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let Some(end) = after.find(')') else { break };
        out.push(after[..end].to_string());
        rest = &after[end..];
    }
    out
}

/// Every relative link in the README, CONTRIBUTING, the CHANGELOG and doc/ reaches a file that
/// exists, and its `#anchor` a heading of that page: a moved or renamed section breaks no link.
#[test]
fn every_relative_link_in_the_docs_resolves() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut bad = Vec::new();
    let mut checked = 0;
    for file in markdown_files() {
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let name = file.strip_prefix(root).unwrap().display().to_string();
        for line in prose(&text) {
            for target in link_targets(&line) {
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                checked += 1;
                let (path, anchor) = match target.split_once('#') {
                    Some((p, a)) => (p, Some(a)),
                    None => (target.as_str(), None),
                };
                let dest = if path.is_empty() {
                    file.clone()
                } else {
                    file.parent().unwrap().join(path)
                };
                if !dest.exists() {
                    bad.push(format!("{name}: {target}: no such file"));
                    continue;
                }
                if let Some(anchor) = anchor {
                    let page = std::fs::read_to_string(&dest).unwrap_or_default();
                    if !anchors(&page).iter().any(|a| a == anchor) {
                        bad.push(format!("{name}: {target}: no such heading"));
                    }
                }
            }
        }
    }
    assert!(bad.is_empty(), "broken links:\n{}", bad.join("\n"));
    assert!(
        checked > 50,
        "only {checked} links found: is the parser right?"
    );
}

/// Each page under doc/ opens with its title, then lists its sections: every `## ` heading has
/// a link in the lines before the first of them.
#[test]
fn every_doc_page_has_a_contents_list() {
    let pages = doc_pages();
    assert!(pages.len() >= 10, "{pages:?}");
    for page in pages {
        let text = std::fs::read_to_string(&page).unwrap();
        assert!(text.starts_with("# "), "{}: no title", page.display());
        let lines = prose(&text);
        let first = lines
            .iter()
            .position(|l| l.starts_with("## "))
            .unwrap_or_else(|| panic!("{}: no sections", page.display()));
        let contents = lines[..first].join("\n");
        for (_, heading) in headings(&text).iter().filter(|(level, _)| *level == 2) {
            let link = format!("](#{})", slug(heading));
            assert!(
                contents.contains(&link),
                "{}: the contents list has no {link} for {heading:?}",
                page.display()
            );
        }
    }
}

/// Both packages ship every page under doc/ next to the README, at the same relative path, so
/// the README's links work in /usr/share/doc/iris-freeze too; check-packages.py expects them.
#[test]
fn the_packages_ship_every_doc_page() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let spec = std::fs::read_to_string(root.join("packaging/iris-freeze.spec")).unwrap();
    let check = std::fs::read_to_string(root.join("packaging/check-packages.py")).unwrap();
    let mut dirs: Vec<String> = doc_pages()
        .iter()
        .map(|p| {
            let dir = p.parent().unwrap().strip_prefix(root).unwrap();
            dir.display().to_string()
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    for dir in &dirs {
        let asset = format!(r#"["{dir}/*.md", "usr/share/doc/iris-freeze/{dir}/", "644"]"#);
        assert!(cargo.contains(&asset), "Cargo.toml has no {asset}");
        let install =
            format!("%{{buildroot}}/usr/share/doc/iris-freeze/{dir} %{{top}}/{dir}/*.md\n");
        assert!(spec.contains(&install), "the spec has no {install}");
    }
    assert!(
        spec.contains("\n%doc /usr/share/doc/iris-freeze/doc\n"),
        "{spec}"
    );
    assert!(check.contains(r#"TOP.glob("doc/**/*.md")"#), "{check}");
}
