//! The checked-in completions, run in the real shells: subcommands, platforms and options
//! complete below the top level, and the hidden watchdog command is offered nowhere. bash and
//! fish are asked directly; zsh completes only inside its line editor, so it is driven through
//! a pseudo-terminal (zsh/zpty) with a TAB typed after the line. zsh and
//! fish are tested where installed; without them the test prints a note and passes, unless
//! IRIS_FREEZE_TEST_SHELLS=1 (CI installs them) makes a missing shell a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Whether `shell` can run here; a missing one fails under IRIS_FREEZE_TEST_SHELLS=1.
fn have(shell: &str) -> bool {
    let ok = Command::new(shell)
        .arg("-c")
        .arg("exit 0")
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("IRIS_FREEZE_TEST_SHELLS").as_deref() != Ok("1"),
            "{shell} is not installed and IRIS_FREEZE_TEST_SHELLS=1"
        );
        eprintln!("note: {shell} is not installed: its completion is not tested here");
    }
    ok
}

/// The file with a space in its name file completion must offer as one candidate.
const SPACED: &str = "with space.log";

/// A directory holding two files, the completions' cwd: file completion offers them. Under the
/// build's own scratch dir, so no run leaves one behind in /tmp.
fn cwd() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("completions-cwd");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("some-file"), "").unwrap();
    std::fs::write(dir.join(SPACED), "").unwrap();
    dir
}

/// What bash offers for `words` (the last one is the word being completed), through the
/// function `complete -p iris-freeze` names, as bash-completion calls it.
fn bash(words: &[&str]) -> Vec<String> {
    bash_with_options(words).0
}

/// `bash`, and the `compopt` calls the function made (one per line): outside a completion
/// bash refuses compopt, so a stand-in records them.
fn bash_with_options(words: &[&str]) -> (Vec<String>, String) {
    let script = r#"
source "$1"; shift
compopt() { printf 'compopt %s\n' "$*" >&2; }
spec=$(complete -p iris-freeze) || exit 3
fn=$(printf '%s\n' "$spec" | sed -E 's/.*-F ([^ ]+).*/\1/')
COMP_WORDS=("$@")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
COMPREPLY=()
"$fn" iris-freeze "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"#;
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg("bash")
        .arg(repo().join("completions/iris-freeze.bash"))
        .args(words)
        .current_dir(cwd())
        .output()
        .expect("run bash");
    assert!(out.status.success(), "{words:?}: {out:?}");
    let replies = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    (replies, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Types the line and a TAB into an interactive `zsh -f` under a pseudo-terminal, with compinit
/// and $dir on fpath. A compadd wrapper appends every match the completion functions add to
/// $out (and adds them as usual; calls that only ask, with -O, -A or -D, it passes on); a
/// post-completion function then appends "--done--". The wait
/// for it is a "does not hang" bound, not a speed check.
const ZSH_DRIVER: &str = r#"
zmodload zsh/zpty || exit 3
dir=$1 out=$2 line=$3
zpty z zsh -f -i || exit 3
zpty -w z "fpath=(${(q)dir} \$fpath); out=${(q)out}; PS1=''"
zpty -w z 'autoload -U compinit && compinit -u -D'
zpty -w z 'compadd() {
    [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]] && { builtin compadd "$@"; return }
    local -a hits; builtin compadd -A hits "$@"; print -rl -- $hits >>$out; builtin compadd "$@"
}'
zpty -w z 'mark_done() { print -r -- --done-- >>$out; }; comppostfuncs=(mark_done)'
zpty -w z 'bindkey "^I" complete-word'
zpty -w -n z "$line"$'\t'
for i in {1..1200}; do
    [[ -f $out ]] && grep -q -- --done-- $out && break
    sleep 0.05
done
zpty -d z
grep -q -- --done-- $out || { print -u2 "no completion within 60 s"; exit 4 }
"#;

/// What zsh offers for `words` (the last one is the word being completed) with the `_iris-freeze`
/// found in `fpath_dir`.
fn zsh_in(fpath_dir: &Path, words: &[&str]) -> Vec<String> {
    let tmp = tempfile::tempdir().unwrap();
    let out_file = tmp.path().join("matches");
    let out = Command::new("zsh")
        .args(["-f", "-c", ZSH_DRIVER, "zsh"])
        .arg(fpath_dir)
        .arg(&out_file)
        .arg(words.join(" "))
        .current_dir(cwd())
        .output()
        .expect("run zsh");
    assert!(out.status.success(), "{words:?}: {out:?}");
    // A match added twice (the same option in two groups) is offered once.
    let mut got: Vec<String> = Vec::new();
    for l in std::fs::read_to_string(&out_file).unwrap().lines() {
        if !l.is_empty() && l != "--done--" && !got.iter().any(|g| g == l) {
            got.push(l.to_string());
        }
    }
    got
}

fn zsh(words: &[&str]) -> Vec<String> {
    zsh_in(&repo().join("completions"), words)
}

/// What fish offers for the command line `line`.
fn fish(line: &str) -> Vec<String> {
    let out = Command::new("fish")
        .arg("--no-config")
        .arg("-c")
        .arg("source $argv[1]; complete -C $argv[2]")
        .arg(repo().join("completions/iris-freeze.fish"))
        .arg(line)
        .current_dir(cwd())
        .output()
        .expect("run fish");
    assert!(out.status.success(), "{line:?}: {out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect()
}

const PLATFORMS: [&str; 6] = ["azure", "vmware", "qemu", "gcp", "nutanix", "aws"];
const COMMANDS: [&str; 10] = [
    "freeze",
    "thaw",
    "status",
    "restore-plan",
    "verify",
    "history",
    "dry-run",
    "install",
    "uninstall",
    "check",
];

fn has_all(got: &[String], want: &[&str], what: &str) {
    for w in want {
        assert!(
            got.iter().any(|g| g == w),
            "{what}: {w} not offered in {got:?}"
        );
    }
}

/// The checks every shell must pass, given `complete(words)`.
fn completes_below_the_top_level(complete: impl Fn(&[&str]) -> Vec<String>) {
    let top = complete(&["iris-freeze", ""]);
    has_all(&top, &COMMANDS, "iris-freeze <TAB>");
    assert!(!top.iter().any(|w| w.contains("watchdog")), "{top:?}");
    for sub in ["install", "uninstall", "check"] {
        let got = complete(&["iris-freeze", sub, ""]);
        has_all(&got, &PLATFORMS, &format!("{sub} <TAB>"));
    }
    let got = complete(&["iris-freeze", "freeze", "--"]);
    has_all(
        &got,
        &[
            "--instance",
            "--timeout",
            "--log-file",
            "--max-freeze",
            "--state-dir",
        ],
        "freeze --<TAB>",
    );
    assert!(
        !got.iter().any(|w| w.contains("watchdog") || w == "--token"),
        "{got:?}"
    );
    // clap knows no instance names: it offers files, and no command or option.
    let got = complete(&["iris-freeze", "freeze", "-i", ""]);
    assert!(
        !got.iter()
            .any(|w| COMMANDS.contains(&w.as_str()) || w.starts_with('-')),
        "freeze -i <TAB>: {got:?}"
    );
    let got = complete(&["iris-freeze", "thaw", "--log-file", "some"]);
    assert_eq!(got, ["some-file"], "thaw --log-file some<TAB>");
    // A path with a space is one candidate, not one per word (zsh's comes quoted already).
    let got = complete(&["iris-freeze", "thaw", "--log-file", "with"]);
    assert!(
        got.len() == 1 && got[0].replace('\\', "") == SPACED,
        "thaw --log-file with<TAB>: {got:?}"
    );
    let got = complete(&["iris-freeze", "help", ""]);
    assert!(!got.iter().any(|w| w.contains("watchdog")), "{got:?}");
}

#[test]
fn bash_completes_below_the_top_level() {
    assert!(have("bash"), "bash is needed");
    completes_below_the_top_level(bash);
}

/// bash inserts a file name as it is (`with space.log` would be two arguments) unless the
/// function asks it to quote file names.
#[test]
fn bash_quotes_the_file_names_it_offers() {
    assert!(have("bash"), "bash is needed");
    let (got, options) = bash_with_options(&["iris-freeze", "--config", "with"]);
    assert_eq!(got, [SPACED]);
    assert!(
        options.lines().any(|l| l == "compopt -o filenames"),
        "{options}"
    );
}

#[test]
fn fish_completes_below_the_top_level() {
    if !have("fish") {
        return;
    }
    completes_below_the_top_level(|words| fish(&words.join(" ")));
}

#[test]
fn neither_help_nor_usage_names_the_watchdog() {
    let bin = env!("CARGO_BIN_EXE_iris-freeze");
    for args in [&["--help"][..], &["help"], &["-h"], &["--bogus"], &[]] {
        let out = Command::new(bin).args(args).output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("freeze"), "{args:?}: {text}");
        assert!(!text.contains("__watchdog"), "{args:?}: {text}");
    }
}

#[test]
fn zsh_completes_below_the_top_level() {
    if !have("zsh") {
        return;
    }
    completes_below_the_top_level(zsh);
}

/// The zsh driver sees what the script offers: a copy that lost the platforms of `install`
/// offers them no more (so the test above can fail).
#[test]
fn zsh_driver_sees_a_broken_script() {
    if !have("zsh") {
        return;
    }
    let script = std::fs::read_to_string(repo().join("completions/_iris-freeze")).unwrap();
    let broken = script.replace("azure vmware qemu gcp nutanix aws", "azure");
    assert_ne!(broken, script, "the platform list moved: update this test");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("_iris-freeze"), broken).unwrap();
    let got = zsh_in(dir.path(), &["iris-freeze", "install", ""]);
    assert!(got.iter().any(|w| w == "azure"), "{got:?}");
    assert!(!got.iter().any(|w| w == "vmware"), "{got:?}");
}
