//! The generated documentation: the man page (section 8: the binary lives in /usr/sbin) and the
//! bash, zsh and fish completions, rendered from the clap definition. Shared by `main.rs` here
//! (writes them) and `tests/it/docs.rs` (checks the checked-in copies).

use clap::{Arg, Command, CommandFactory};
use clap_complete::{Shell, generate};
use iris_freeze::cli::Cli;

const BIN: &str = "iris-freeze";

/// (path relative to the repository, contents) of every generated file.
pub fn all() -> Vec<(&'static str, Vec<u8>)> {
    let mut out = vec![("doc/iris-freeze.8", man_page().into_bytes())];
    for (shell, path) in [
        (Shell::Bash, "completions/iris-freeze.bash"),
        (Shell::Zsh, "completions/_iris-freeze"),
        (Shell::Fish, "completions/iris-freeze.fish"),
    ] {
        let mut buf = Vec::new();
        generate(shell, &mut visible_command(), BIN, &mut buf);
        if shell == Shell::Bash {
            let script = fix_bash(String::from_utf8(buf).unwrap());
            buf = bash_candidates_by_line(&script).into_bytes();
        }
        if shell == Shell::Fish {
            fish_positional_values(&mut buf);
        }
        out.push((path, buf));
    }
    out
}

/// The command line as people see it: the hidden subcommands (the watchdog) left out, which
/// clap_complete would otherwise offer.
fn visible_command() -> Command {
    let full = Cli::command();
    let mut cmd = Command::new(BIN)
        .version(env!("CARGO_PKG_VERSION"))
        .propagate_version(true);
    if let Some(about) = full.get_about() {
        cmd = cmd.about(about.clone());
    }
    for arg in full.get_arguments() {
        cmd = cmd.arg(arg.clone());
    }
    for sub in full.get_subcommands().filter(|s| !s.is_hide_set()) {
        cmd = cmd.subcommand(sub.clone());
    }
    cmd
}

/// clap_complete's bash script sets `cmd` to `iris__freeze__subcmd__...` but names its case
/// labels `iris__subcmd__freeze__subcmd__...` for a binary name with a hyphen (clap-rs/clap
/// 6421, 6529), so nothing below the top level completed. Make the labels match.
fn fix_bash(script: String) -> String {
    let wrong = BIN.replace('-', "__subcmd__");
    let right = BIN.replace('-', "__");
    script.replace(&wrong, &right)
}

/// clap_complete's bash script splits compgen's output into COMPREPLY at every space
/// (shellcheck SC2207), so a path with a space became two candidates: read it by line instead,
/// and for file names have bash quote what it inserts (`compopt -o filenames`).
fn bash_candidates_by_line(script: &str) -> String {
    let mut out = String::new();
    for line in script.lines() {
        let code = line.trim_start();
        let indent = &line[..line.len() - code.len()];
        let compgen = code
            .strip_prefix("COMPREPLY=(")
            .and_then(|r| r.strip_suffix(')'))
            .map(str::trim)
            .and_then(|r| r.strip_prefix("$(compgen "))
            .and_then(|r| r.strip_suffix(')'));
        match compgen {
            Some(args) => {
                if args.starts_with("-f ") {
                    out.push_str(&format!("{indent}compopt -o filenames\n"));
                }
                out.push_str(&format!(
                    "{indent}mapfile -t COMPREPLY < <(compgen {args})\n"
                ));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// clap_complete's fish script offers no values for a positional argument (the platform of
/// `install`, `uninstall`, `check`): add them.
fn fish_positional_values(buf: &mut Vec<u8>) {
    let fn_name = format!("__fish_{}_using_subcommand", BIN.replace('-', "_"));
    for sub in visible_command().get_subcommands() {
        for arg in sub.get_arguments().filter(|a| a.is_positional()) {
            let values: Vec<String> = arg
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_string())
                .collect();
            if !values.is_empty() {
                buf.extend_from_slice(
                    format!(
                        "complete -c {BIN} -n \"{fn_name} {}\" -f -a \"{}\"\n",
                        sub.get_name(),
                        values.join(" ")
                    )
                    .as_bytes(),
                );
            }
        }
    }
}

/// Escapes text for roff: backslashes, hyphens (minus signs in options and paths), a leading
/// control character, and anything beyond ASCII as a glyph: an accented letter by its classic
/// name (`\\('e`), which the whatis index decodes too, anything else by its Unicode name.
fn roff(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\e"),
            '-' => out.push_str("\\-"),
            '\'' => out.push_str("\\(aq"),
            c if c.is_ascii() => out.push(c),
            c => match accented(c) {
                Some((accent, letter)) => out.push_str(&format!("\\({accent}{letter}")),
                None => out.push_str(&format!("\\[u{:04X}]", c as u32)),
            },
        }
    }
    if out.starts_with('.') {
        out.insert_str(0, "\\&");
    }
    out
}

/// A Latin-1 accented letter as roff's accent mark and base letter (`é` is `'` and `e`): the
/// two-character glyph names groff, mandoc and man-db's whatis index all know.
fn accented(c: char) -> Option<(char, char)> {
    const MARKS: [(char, &str, &str); 6] = [
        ('\'', "ÁÉÍÓÚÝáéíóúý", "AEIOUYaeiouy"),
        ('`', "ÀÈÌÒÙàèìòù", "AEIOUaeiou"),
        ('^', "ÂÊÎÔÛâêîôû", "AEIOUaeiou"),
        (':', "ÄËÏÖÜäëïöüÿ", "AEIOUaeiouy"),
        ('~', "ÃÑÕãñõ", "ANOano"),
        (',', "Çç", "Cc"),
    ];
    MARKS.iter().find_map(|(mark, marked, letters)| {
        let at = marked.chars().position(|m| m == c)?;
        Some((*mark, letters.chars().nth(at)?))
    })
}

/// Folds every filled text line longer than 80 bytes at spaces (mandoc's lint asks for it;
/// in fill mode a newline is a space). Lines kept whole: requests, the tag after `.TP`, and
/// anything between `.nf` and `.fi`, where a newline is a line break.
fn fold_long_lines(page: &str) -> String {
    let mut out = String::new();
    let (mut nofill, mut tag_next) = (false, false);
    for line in page.lines() {
        let keep = nofill || tag_next || line.len() <= 80 || line.starts_with('.');
        if line.starts_with(".nf") {
            nofill = true;
        } else if line.starts_with(".fi") {
            nofill = false;
        }
        tag_next = line.starts_with(".TP");
        if keep {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let mut words: Vec<&str> = Vec::new();
        for word in line.split(' ') {
            let width: usize = words.iter().map(|w| w.len() + 1).sum();
            if !words.is_empty() && width + word.len() > 80 {
                // groff puts two spaces after a sentence ending a line: break before it instead.
                let mut carry = Vec::new();
                while words.len() > 1 && ends_sentence(words[words.len() - 1]) {
                    carry.insert(0, words.pop().unwrap_or_default());
                }
                push_text_line(&words.join(" "), &mut out);
                words = carry;
            }
            words.push(word);
        }
        push_text_line(&words.join(" "), &mut out);
    }
    out
}

/// Whether roff reads `word` at the end of a line as the end of a sentence.
fn ends_sentence(word: &str) -> bool {
    word.trim_end_matches([')', ']', '"', '\'', '*'])
        .ends_with(['.', '?', '!'])
}

/// A text line that a fold made start with a control character gets the zero-width `\\&`.
fn push_text_line(line: &str, out: &mut String) {
    if line.starts_with(['.', '\'']) {
        out.push_str("\\&");
    }
    out.push_str(line);
    out.push('\n');
}

/// One option or argument as a tagged paragraph: its flags, value, help, values, default and
/// variable.
fn render_arg(arg: &Arg, out: &mut String) {
    let value = arg
        .get_value_names()
        .map(|v| {
            v.iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
    let takes_value = arg.get_num_args().is_some_and(|n| n.takes_values());
    let mut tag = Vec::new();
    if let Some(s) = arg.get_short() {
        tag.push(format!("\\fB\\-{}\\fR", roff(&s.to_string())));
    }
    if let Some(l) = arg.get_long() {
        tag.push(format!("\\fB\\-\\-{}\\fR", roff(l)));
    }
    let mut head = tag.join(", ");
    if arg.is_positional() {
        head = format!("\\fI{}\\fR", roff(&value));
    } else if takes_value {
        head = format!("{head} \\fI{}\\fR", roff(&value));
    }
    out.push_str(&format!(".TP\n{head}\n"));
    let help = arg
        .get_long_help()
        .or(arg.get_help())
        .map(|h| h.to_string())
        .unwrap_or_default();
    let mut text = help.trim_end_matches('.').to_string();
    if !text.is_empty() {
        text.push('.');
    }
    let values: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_string())
        .collect();
    if !values.is_empty() && takes_value {
        text.push_str(&format!(" One of: {}.", values.join(", ")));
    }
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    if !defaults.is_empty() && takes_value {
        text.push_str(&format!(" Default: {}.", defaults.join(", ")));
    }
    if let Some(var) = arg.get_env() {
        text.push_str(&format!(
            " Environment: \\fB{}\\fR.",
            roff(&var.to_string_lossy())
        ));
    }
    out.push_str(&roff_keeping(&text));
    out.push('\n');
}

/// `roff`, but keeping the font escapes `render_arg` put in.
fn roff_keeping(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split("\\fB").enumerate() {
        if i > 0 {
            out.push_str("\\fB");
        }
        let parts: Vec<&str> = part.split("\\fR").collect();
        out.push_str(
            &parts
                .iter()
                .map(|p| {
                    let mut r = roff(p);
                    if r.starts_with("\\&") {
                        r.replace_range(..2, "");
                    }
                    r
                })
                .collect::<Vec<_>>()
                .join("\\fR"),
        );
    }
    if out.starts_with('.') {
        out.insert_str(0, "\\&");
    }
    out
}

/// A help text's paragraphs: an `Examples:` block verbatim, one line per example; any other
/// paragraph filled as prose.
fn render_after_help(text: &str, out: &mut String) {
    for para in text.split("\n\n") {
        if let Some(rest) = para.strip_prefix("Examples:\n") {
            out.push_str(".PP\nExamples:\n.RS\n.nf\n");
            for line in rest.lines() {
                // The help's indent goes; a quoted script's own stays.
                out.push_str(&roff(line.strip_prefix("  ").unwrap_or(line)));
                out.push('\n');
            }
            out.push_str(".fi\n.RE\n");
        } else {
            out.push_str(".PP\n");
            for line in para.lines() {
                out.push_str(&roff(line));
                out.push('\n');
            }
        }
    }
}

fn is_shown(arg: &Arg) -> bool {
    !arg.is_hide_set() && !["help", "version"].contains(&arg.get_id().as_str())
}

/// The man page, section by section, in roff written here: clap_mangen renders the help texts as
/// one filled paragraph each and points at a page per subcommand, which is not shipped.
fn man_page() -> String {
    let mut cmd = visible_command();
    cmd.build();
    let about = cmd.get_about().map(|a| a.to_string()).unwrap_or_default();
    let full = Cli::command();
    let after = full
        .get_after_help()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let mut m = String::new();
    m.push_str(&format!(
        ".TH IRIS\\-FREEZE 8 {} \"iris\\-freeze {}\" \"System Administration\"\n.nh\n.ad l\n",
        release_date(),
        env!("CARGO_PKG_VERSION")
    ));
    m.push_str(&format!(".SH NAME\niris\\-freeze \\- {}\n", roff(&about)));
    m.push_str(".SH SYNOPSIS\n\\fBiris\\-freeze\\fR [\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR]\n");
    m.push_str(".SH DESCRIPTION\n");
    m.push_str(&roff(&format!("{about}.")));
    m.push('\n');
    // The paragraphs of the top-level help that are neither exit codes nor examples.
    let paras: Vec<&str> = after.split("\n\n").collect();
    for para in &paras {
        if !para.starts_with("Exit codes:") && !para.starts_with("Examples:") {
            render_after_help(para, &mut m);
        }
    }
    m.push_str(".SH GLOBAL OPTIONS\nThese go before or after the command.\n");
    for arg in cmd.get_arguments().filter(|a| is_shown(a)) {
        render_arg(arg, &mut m);
    }
    m.push_str(".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nPrint help (of a command, after it).\n");
    m.push_str(".TP\n\\fB\\-V\\fR, \\fB\\-\\-version\\fR\nPrint the version.\n");
    m.push_str(".SH COMMANDS\n");
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let mut synopsis = format!("iris\\-freeze {}", roff(sub.get_name()));
        let own: Vec<&Arg> = sub
            .get_arguments()
            .filter(|a| is_shown(a) && !a.is_global_set())
            .collect();
        if own.iter().any(|a| !a.is_positional()) {
            synopsis.push_str(" [\\fIOPTIONS\\fR]");
        }
        for a in own.iter().filter(|a| a.is_positional()) {
            let name = a
                .get_value_names()
                .and_then(|v| v.first())
                .map(|n| n.to_string())
                .unwrap_or_default();
            if a.is_last_set() {
                // `run -- CMD [ARGS...]`: everything after `--`.
                synopsis.push_str(&format!(
                    " \\-\\- \\fI{}\\fR [\\fIARGS\\fR...]",
                    roff(&name)
                ));
            } else if a.is_required_set() {
                synopsis.push_str(&format!(" \\fI{}\\fR", roff(&name)));
            } else {
                synopsis.push_str(&format!(" [\\fI{}\\fR]", roff(&name)));
            }
        }
        m.push_str(&format!(".SS \"{synopsis}\"\n"));
        let about = sub
            .get_long_about()
            .or(sub.get_about())
            .map(|a| a.to_string())
            .unwrap_or_default();
        m.push_str(&roff(&format!("{}.", about.trim_end_matches('.'))));
        m.push('\n');
        if let Some(after) = sub.get_after_help() {
            render_after_help(&after.to_string(), &mut m);
        }
        if !own.is_empty() {
            m.push_str(".PP\nOptions:\n.RS\n");
            for arg in own {
                render_arg(arg, &mut m);
            }
            m.push_str(".RE\n");
        }
    }
    m.push_str(EXIT_STATUS);
    m.push_str(FILES);
    m.push_str(SHARDED_CLUSTERS);
    m.push_str(".SH ENVIRONMENT\nEach option's variable (above) stands for the option when it is not given:\n");
    for arg in cmd
        .get_arguments()
        .chain(cmd.get_subcommands().flat_map(|s| s.get_arguments()))
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| Some((a.get_env()?.to_string_lossy().into_owned(), a.get_long()?)))
        .collect::<std::collections::BTreeMap<_, _>>()
    {
        m.push_str(&format!(
            ".TP\n\\fB{}\\fR\n\\fB\\-\\-{}\\fR.\n",
            roff(&arg.0),
            roff(arg.1)
        ));
    }
    m.push_str(ENVIRONMENT_MORE);
    m.push_str(".SH EXAMPLES\n");
    for para in &paras {
        if let Some(rest) = para.strip_prefix("Examples:\n") {
            for line in rest.lines() {
                let line = line.trim_start();
                let (call, what) = line.split_once("  ").unwrap_or((line, ""));
                m.push_str(&format!(
                    ".TP\n\\fB{}\\fR\n{}\n",
                    roff(call.trim()),
                    roff(what.trim())
                ));
            }
        }
    }
    m.push_str(NON_ROOT);
    m.push_str(SEE_ALSO);
    fold_long_lines(&m)
}

/// The page's date: the release's, from the package changelog's first entry (its trailer,
/// ` -- NAME  Tue, 01 Dec 2026 12:00:00 +0000`), as YYYY-MM-DD. That entry must be this version's:
/// a version without its changelog entry would ship a page dated by the one before.
fn release_date() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/changelog");
    let changelog =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let version = format!("({}-", env!("CARGO_PKG_VERSION"));
    assert!(
        changelog
            .lines()
            .next()
            .is_some_and(|l| l.contains(&version)),
        "{}: the first entry is not version {}: add the release's entry",
        path.display(),
        env!("CARGO_PKG_VERSION")
    );
    let trailer = changelog
        .lines()
        .find_map(|l| l.strip_prefix(" -- "))
        .unwrap_or_else(|| panic!("{}: no ` -- ` trailer line", path.display()));
    // "NAME <MAIL>  Tue, 01 Dec 2026 12:00:00 +0000": day, month, year after the weekday.
    let date: Vec<&str> = trailer
        .rsplit_once("  ")
        .map(|(_, d)| d.split_whitespace().collect())
        .unwrap_or_default();
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = date.get(2).and_then(|m| MONTHS.iter().position(|x| x == m));
    match (date.get(1), month, date.get(3)) {
        (Some(day), Some(month), Some(year)) => format!("{year}-{:02}-{day:0>2}", month + 1),
        _ => panic!("{}: cannot read the date of {trailer:?}", path.display()),
    }
}

const EXIT_STATUS: &str = r#".SH EXIT STATUS
.TP
\fB0\fR
Success.
.TP
\fB1\fR
Failure: the snapshot is not application\-consistent, or an instance may still be frozen (read
the log); for \fBcheck\fR and \fBdry\-run\fR, a check failed; for \fBrun\fR, the freeze
or CMD failed (or CMD timed out, was signalled or was not found). A command line iris\-freeze does
not understand also exits 1.
.TP
\fB2\fR
Warning: an instance was already frozen by someone else, or the watchdog had to auto\-thaw
before the thaw came, or a cycle is not consistent.
.PP
Never the session's raw 5 or 3, and never 124, 126 or 127: hook runners read these three.
"#;

const FILES: &str = r#".SH FILES
.TP
\fI/etc/iris\-freeze.toml\fR
The configuration file (\fB\-\-config\fR); a missing file is fine.
.TP
\fI/etc/preScript.log\fR, \fI/etc/postScript.log\fR
The logs of freeze and thaw (\fB\-\-log\-file\fR).
.TP
\fI/run/iris\-freeze/\fR
What the last freeze froze, for \fBthaw\fR and the watchdog (\fB\-\-state\-dir\fR); its
\fIlock\fR (one freeze, thaw or watchdog thaw at a time) and \fIrun.lock\fR (held by \fBrun\fR
from its freeze to its thaw).
.TP
\fI/var/lib/iris\-freeze/history.jsonl\fR
The history of freeze/thaw cycles (\fB\-\-history\-file\fR), read by \fBhistory\fR and
\fBrestore\-plan\fR.
.TP
\fI/etc/azure/prescript.sh\fR, \fI/etc/azure/postScript.sh\fR, \fI/etc/azure/VMSnapshotScriptPluginConfig.json\fR
Azure Backup's hooks, written by \fBinstall azure\fR.
.TP
\fI/usr/sbin/pre\-freeze\-script\fR, \fI/usr/sbin/post\-thaw\-script\fR
VMware Tools' hooks, written by \fBinstall vmware\fR.
.PP
\fBinstall\fR names each file it writes; \fBcheck\fR \fIPLATFORM\fR reads them back.
"#;

const SHARDED_CLUSTERS: &str = r#".SH SHARDED CLUSTERS
On the shard master, \fBfreeze \-\-sharded\fR \fINAMESPACE\fR (or \fBsharded_namespace\fR in
the config) freezes every data server of the cluster, or none, with one
\fBBackup.ShardedCluster.ExternalFreeze\fR; \fBthaw\fR and the watchdog then thaw the cluster
with \fBExternalThaw\fR. The history has one line per data server with its journal file. Name the
master with \fB\-\-instance\fR when its host runs other instances. \fBrun \-\-sharded\fR
snapshots the whole cluster consistently: freeze, CMD, thaw. \fBdry\-run \-\-sharded\fR says
the cluster would be frozen from the master; \fBcheck\fR with \fBsharded_namespace\fR names the
cluster calls and checks the master without freezing. The exit code of these calls
and the format of their CheckpointInfo are assumptions: see \fIdoc/sharded.md\fR
next to the README.
"#;

const ENVIRONMENT_MORE: &str = r#".TP
\fBIRIS_FREEZE_JOURNAL\fR
\fB0\fR, \fBfalse\fR, \fBno\fR or \fBoff\fR: no systemd journal entries (config \fBjournal = false\fR).
.TP
\fBIRIS_FREEZE_NO_SYSTEMD\fR
Set (to anything): the watchdog is a detached process even where systemd runs.
.TP
\fBIRIS_FREEZE_ID\fR, \fBIRIS_FREEZE_INSTANCES\fR
Set by \fBrun\fR in CMD's environment: the cycle id, and the frozen instances (comma\-separated).
.TP
\fBIRIS_FREEZE_DATA_SERVERS\fR
Set by \fBrun \-\-sharded\fR in CMD's environment: every data server of the frozen cluster
(comma\-separated); empty otherwise.
"#;

const NON_ROOT: &str = r#".SH NON-ROOT USE AND KUBERNETES
Run as a user other than root (the instance owner, \fBirisowner\fR, in an IRIS container),
iris\-freeze keeps its state dir and logs under one directory of that user's:
\fI$XDG_RUNTIME_DIR/iris\-freeze\fR when that is the user's own private directory, else
\fI$HOME/.local/state/iris\-freeze\fR, else a directory of its own in \fI/tmp\fR. The history goes to
persistent disk, inside the volume snapshotted: \fI$ISC_DATA_DIRECTORY/iris\-freeze\fR (IRIS's durable
%SYS directory, set in InterSystems' containers), else \fI$HOME/.local/state/iris\-freeze\fR. Options, their
variables and the config file still win; \fBstatus\fR says where the files are and warns of a history
on tmpfs. The watchdog is a detached process where systemd does not run. \fBinstall\fR's
\fB\-\-max\-freeze\fR must be more than its \fB\-\-timeout\fR: the printed freeze must end before its
own watchdog thaws.
.PP
\fBinstall velero\fR, \fBinstall k10\fR and \fBinstall aks\-backup\fR print the engine's manifest
(Velero pod annotations, or with \fB\-\-kind backup\fR a Velero Backup with the same hooks; a
Kasten K10 blueprint and its BlueprintBinding; an Azure Backup for AKS BackupHook) for
\fB\-\-namespace\fR, \fB\-\-workload\fR, \fB\-\-container\fR and \fB\-\-binary\fR on stdout, the steps
on stderr; nothing is written. \fBcheck kubernetes\fR (or an engine's name), run in the IRIS
container, says whether the hooks would work there.
"#;

const SEE_ALSO: &str = r#".SH SEE ALSO
\fBiris\-freeze \fR\fICOMMAND\fR \fB\-\-help\fR, and the README and the pages of
\fIdoc/\fR in \fI/usr/share/doc/iris\-freeze/\fR.
"#;
