//! `iris session|terminal NAME [-U NS|-UNS] [-B] [EXPR]`, `csession NAME [...]`, `ccontrol
//! session NAME [...]`: one expression (a `Backup.General` call), iris-freeze's line fed on stdin
//! (a cluster call, or the check), or an interactive prompt.

use std::path::Path;

use super::{backup, require_running, sharded, usage_error};
use crate::call::{Call, Prog};
use crate::calllog::{Ctx, append};
use crate::console::{flush_all, read_ahead, read_answer, set_fed};
use crate::faults::{conclude, instance_faults};
use crate::instances::Instance;

/// What follows the instance name.
#[derive(Debug, Default, PartialEq, Eq)]
struct Options {
    namespace: Option<String>,
    expr: Option<String>,
}

pub(super) fn run(prog: Prog, root: &Path, args: &[String]) -> ! {
    let Some(name) = args.first().filter(|a| !a.starts_with('-')) else {
        usage_error(root, prog, "-", "missing instance name")
    };
    let opts = match parse_options(&args[1..]) {
        Ok(opts) => opts,
        Err(msg) => usage_error(root, prog, name, &msg),
    };
    // Without EXPR, iris-freeze's call comes as a line on stdin (after a login's two lines).
    let fed = match &opts.expr {
        Some(_) => None,
        None => fed_line(&read_ahead()),
    };
    if let Some(line) = &fed {
        set_fed(line);
    }
    let asked = opts.expr.as_deref().or(fed.as_deref());
    let call = asked.map_or(Call::Other, classify);
    let ctx = Ctx::start(root, name, call);
    if let Some(e) = asked {
        // Tests read back exactly what was asked of IRIS.
        append(&root.join("exprs.log"), &format!("{name} {e}\n"));
    }
    let inst = require_running(&ctx, prog, name);
    let post = instance_faults(&ctx, &inst);
    let rc = match (&opts.expr, &fed) {
        (Some(expr), _) => evaluate(root, &inst, opts.namespace.as_deref(), expr, call),
        (None, Some(line)) if in_sys(opts.namespace.as_deref()) => match call {
            Call::Check => backup::check_fed(&inst, line),
            _ => sharded::run_fed(root, &inst, line, call),
        },
        (None, _) => interactive(opts.namespace.as_deref()),
    };
    conclude(&ctx, post, rc)
}

/// The line of stdin that is iris-freeze's call, if any: a `Backup.ShardedCluster` method, or
/// the check (`Backup.General).IsWDSuspended(`).
fn fed_line(lines: &[String]) -> Option<String> {
    lines
        .iter()
        .find(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("backup.shardedcluster).") || l.contains("backup.general).iswdsuspended(")
        })
        .cloned()
}

fn in_sys(ns: Option<&str>) -> bool {
    ns.is_some_and(|n| n.eq_ignore_ascii_case("%SYS"))
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut opts = Options::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some(rest) = a.strip_prefix("-U") {
            let ns = if rest.is_empty() {
                it.next().ok_or("option -U needs a namespace")?.clone()
            } else {
                rest.to_string()
            };
            opts.namespace = Some(ns);
        } else if a == "-B" {
            // Bypass login; accepted and ignored.
        } else if a.starts_with('-') {
            return Err(format!("unknown option `{a}`"));
        } else if opts.expr.is_none() {
            opts.expr = Some(a.clone());
        } else {
            return Err(format!("unexpected argument `{a}`"));
        }
    }
    Ok(opts)
}

/// Which call an expression is, matched case-insensitively by substring.
fn classify(expr: &str) -> Call {
    let e = expr.to_ascii_lowercase();
    if e.contains("backup.general).externalfreeze(")
        || e.contains("backup.shardedcluster).externalfreeze(")
    {
        Call::Freeze
    } else if e.contains(").externalthaw(") {
        Call::Thaw
    } else if e.contains(").iswdsuspendedext(") || e.contains(").iswdsuspended(") {
        Call::Check
    } else if e.contains(").externalsethistory(") {
        Call::History
    } else {
        Call::Other
    }
}

/// Runs the expression: the class exists in `%SYS` only.
fn evaluate(root: &Path, inst: &Instance, ns: Option<&str>, expr: &str, call: Call) -> i32 {
    if !in_sys(ns) {
        if call == Call::Other {
            say!("<CLASS DOES NOT EXIST> {expr}");
        } else {
            say!("<CLASS DOES NOT EXIST> *Backup.General");
        }
        return 1;
    }
    let cluster = expr.to_ascii_lowercase().contains("backup.shardedcluster)");
    match call {
        Call::Freeze | Call::Thaw if cluster => sharded::run(root, inst, expr, call),
        Call::Freeze => backup::freeze(inst),
        Call::Thaw => backup::thaw(inst),
        Call::Check => backup::check(inst),
        Call::History => backup::history(),
        _ => {
            say!("<METHOD DOES NOT EXIST> {expr}");
            1
        }
    }
}

/// The prompt `NS>`, again after each stdin line, until EOF; exit 0.
fn interactive(ns: Option<&str>) -> i32 {
    let prompt = format!("{}>", ns.unwrap_or("USER").to_ascii_uppercase());
    print!("{prompt}");
    flush_all();
    while read_answer().is_some() {
        print!("\n{prompt}");
        flush_all();
    }
    say!();
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(args: &[&str]) -> Result<Options, String> {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        parse_options(&args)
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn namespace_in_one_or_two_words_and_bypass_ignored() {
        let want = Options {
            namespace: some("%SYS"),
            expr: some("w 1"),
        };
        assert_eq!(opts(&["-U%SYS", "w 1"]), Ok(want));
        let want = Options {
            namespace: some("%SYS"),
            expr: some("w 1"),
        };
        assert_eq!(opts(&["-B", "w 1", "-U", "%SYS"]), Ok(want));
        assert_eq!(opts(&[]), Ok(Options::default()));
    }

    #[test]
    fn bad_usage_is_named() {
        assert_eq!(opts(&["-U"]), Err("option -U needs a namespace".into()));
        assert_eq!(opts(&["-X"]), Err("unknown option `-X`".into()));
        assert_eq!(opts(&["a", "b"]), Err("unexpected argument `b`".into()));
    }

    #[test]
    fn expressions_classify_case_insensitively() {
        let cases = [
            ("##Class(Backup.General).ExternalFreeze()", Call::Freeze),
            (
                "w ##class(backup.general).externalfreeze(,,,,,,600)",
                Call::Freeze,
            ),
            ("##Class(Backup.General).ExternalThaw()", Call::Thaw),
            ("w ##class(Backup.General).IsWDSuspendedExt()", Call::Check),
            (
                "s p=\"P \",su=##Class(Backup.General).IsWDSuspended() w !,p,su",
                Call::Check,
            ),
            (
                "s p=\"P \",su=##class(Backup.General).IsWDSuspended(),sc=##Class(Backup.\
                 ShardedCluster).ExternalThaw(\"CL\") w !",
                Call::Thaw,
            ),
            (
                "##Class(Backup.General).ExternalSetHistory(x)",
                Call::History,
            ),
            ("##Class(Other).ExternalFreeze()", Call::Other),
            (
                "##Class(Backup.ShardedCluster).ExternalFreeze(\"CL\",,.CheckpointInfo)",
                Call::Freeze,
            ),
            (
                "##Class(Backup.ShardedCluster).ExternalThaw(\"CL\")",
                Call::Thaw,
            ),
            ("halt", Call::Other),
        ];
        for (expr, call) in cases {
            assert_eq!(classify(expr), call, "{expr}");
        }
    }
}
