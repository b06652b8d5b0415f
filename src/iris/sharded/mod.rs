//! The `Backup.ShardedCluster` calls, run on the shard master: one ExternalFreeze freezes every
//! data server of the cluster or none, one ExternalThaw thaws them all (class reference, %SYS).
//!
//! They return a %Status, and no OS exit status is documented for them (unlike
//! `Backup.General`'s 5/3). So each call is one ObjectScript line fed to a %SYS session on
//! stdin: it calls the method, writes marker lines of our own (the %Status, its error text,
//! CheckpointInfo's documented value and nodes), then halts. The answer is read from those lines
//! alone; the session's exit code is ignored, and missing or malformed markers leave the
//! cluster's state unknown. Each marker line starts with `IRISFREEZE-<nonce> `, a nonce drawn
//! per call (`iris::marked`), and values that could hold anything (host, port, journal file)
//! are written with their length, so neither IRIS's output nor a value can forge or cut one.
//! The data servers' names: `data_server`. doc/sharded.md says what is documented and what is
//! ours.

mod data_server;

use std::time::Instant;

use anyhow::{Result, bail};

use crate::host::process::{Outcome, Stop};
use crate::iris::backup::{Answer, FreezeOptions, Target};
use crate::iris::calls::IS_WD_SUSPENDED;
use crate::iris::marked::{self, Fed, MARK};
use crate::iris::objectscript_string;

pub(crate) use data_server::{Checkpoint, DataServer, host_port, is_local};
use data_server::{Host, JournalFile, Port};

/// A namespace as IRIS names them: a letter (or `%`) first, then letters, digits, `_` or `-`.
/// Checked before it goes into an ObjectScript string.
pub(crate) fn parse_namespace(s: &str) -> Result<String> {
    let mut chars = s.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '%');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !first_ok || !rest_ok || s.len() > 64 {
        bail!(
            "--sharded {s:?} is not a namespace name: give the shard master namespace (a \
             letter first, then letters, digits, _ or -, e.g. --sharded IRISCLUSTER)"
        );
    }
    Ok(s.to_string())
}

/// A cluster frozen from `master`, in words for summaries: `the sharded cluster NS from MASTER
/// (data servers A, B, C)`.
pub(crate) fn named(master: &str, namespace: &str, data_servers: &[String]) -> String {
    let servers = if data_servers.is_empty() {
        "data servers not named by the call".to_string()
    } else {
        format!("data servers {}", data_servers.join(", "))
    };
    format!("the sharded cluster {namespace} from {master} ({servers})")
}

/// ExternalFreeze(ShardMasterNamespace, ExternalFreezeTimeout, .CheckpointInfo), as messages
/// name it; the timeout is the config's external_freeze_timeout, left to IRIS's default when
/// unset.
pub(crate) fn external_freeze(namespace: &str, opts: &FreezeOptions) -> String {
    let timeout = opts
        .external_freeze_timeout
        .map(|t| t.to_string())
        .unwrap_or_default();
    format!(
        "##Class(Backup.ShardedCluster).ExternalFreeze({},{timeout},.CheckpointInfo)",
        objectscript_string(namespace)
    )
}

/// ExternalThaw(ShardMasterNamespace).
pub(crate) fn external_thaw(namespace: &str) -> String {
    format!(
        "##Class(Backup.ShardedCluster).ExternalThaw({})",
        objectscript_string(namespace)
    )
}

/// The %Status as markers, then halt. The error text loses its line breaks (it is shown, not
/// parsed). The freeze's `$ORDER` walks CheckpointInfo(host,port)=journal file, each value
/// written as `LENGTH:VALUE`. The thaw first asks whether the master's write daemon is still
/// suspended (`Backup.General.IsWDSuspended`): "Already resumed" goes to each data server's
/// messages.log, not to this session, so that answer is the one we can read.
fn marker_line(call: &str, fed: &Fed, freeze: bool) -> String {
    let p = fed.prefix_literal();
    let status = "w !,p,\"status=\",$system.Status.IsOK(sc),!,p,\"error=\",$tr($system.Status.\
                  GetErrorText(sc),$c(13,10),\"  \")";
    if !freeze {
        return format!(
            "s p={p},su={IS_WD_SUSPENDED},sc={call} \
             {status},!,p,\"suspended=\",su,!,p,\"end\",! h"
        );
    }
    format!(
        "s p={p},sc={call} {status},!,p,\"checkpoint=\",$g(CheckpointInfo) s n=0,h=\"\" f {{ \
         s h=$o(CheckpointInfo(h)) q:h=\"\"  s t=\"\" f {{ s t=$o(CheckpointInfo(h,t)) q:t=\"\"  \
         s j=$g(CheckpointInfo(h,t)),n=n+1 w !,p,\"node \",$l(h),\":\",h,\" \",$l(t),\":\",t,\" \",\
         $l(j),\":\",j }} }} w !,p,\"end nodes=\",n,! h"
    )
}

/// What the markers of one call said.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Markers {
    ok: bool,
    error: String,
    /// The thaw's: the master's write daemon was still suspended when it began.
    was_suspended: Option<bool>,
    /// The freeze's, when its status is OK.
    checkpoint: Option<Checkpoint>,
}

/// The call's markers in `out`, strictly: each once (a node line per data server), nothing of
/// ours unknown, the end marker last with the number of nodes. Lines without the nonce are
/// IRIS's own and ignored. Why not, in words, when they are missing or malformed.
fn parse_markers(out: &str, fed: &Fed, freeze: bool) -> Result<Markers, String> {
    let (mut status, mut error, mut number, mut end) = (None, None, None, None);
    let mut suspended = None;
    let mut nodes = Vec::new();
    for rest in fed.markers(out) {
        if end.is_some() {
            return Err("a marker line after the end marker".into());
        }
        let (key, value) = rest.split_once(['=', ' ']).unwrap_or((rest, ""));
        let slot = match key {
            "status" => &mut status,
            "error" => &mut error,
            "checkpoint" if freeze => &mut number,
            "suspended" if !freeze => &mut suspended,
            "end" => &mut end,
            "node" if freeze => {
                nodes.push(node(value)?);
                continue;
            }
            _ => return Err(format!("an unknown marker line {rest:?}")),
        };
        if slot.replace(value.to_string()).is_some() {
            return Err(format!("the {key} marker twice"));
        }
    }
    let Some(end) = end else {
        return Err("no end marker (the session ended before the line ran to its end)".into());
    };
    let ok = match status.as_deref() {
        Some("1") => true,
        Some("0") => false,
        Some(s) => return Err(format!("status marker {s:?} (0 or 1 expected)")),
        None => return Err("no status marker".into()),
    };
    let error = error.ok_or("no error marker")?;
    if !freeze {
        if !end.is_empty() {
            return Err(format!("end marker {end:?}"));
        }
        let was_suspended = match suspended.as_deref() {
            Some("1") => true,
            Some("0") => false,
            Some(s) => return Err(format!("suspended marker {s:?} (0 or 1 expected)")),
            None => return Err("no suspended marker".into()),
        };
        return Ok(Markers {
            ok,
            error,
            was_suspended: Some(was_suspended),
            checkpoint: None,
        });
    }
    if end != format!("nodes={}", nodes.len()) {
        return Err(format!(
            "end marker {end:?} after {} node lines",
            nodes.len()
        ));
    }
    if !ok {
        return Ok(Markers {
            ok,
            error,
            was_suspended: None,
            checkpoint: None,
        });
    }
    let number = number.ok_or("no checkpoint marker")?;
    if number.is_empty() || number.len() > 20 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "checkpoint number {number:?} in CheckpointInfo's value (digits expected)"
        ));
    }
    if nodes.is_empty() {
        return Err(
            "no data server in CheckpointInfo (its nodes CheckpointInfo(host,port)=journal \
             file expected)"
                .into(),
        );
    }
    Ok(Markers {
        ok,
        error,
        was_suspended: None,
        checkpoint: Some(Checkpoint {
            number,
            data_servers: nodes,
        }),
    })
}

/// A node line's `LEN:HOST LEN:PORT LEN:JOURNAL`.
fn node(value: &str) -> Result<DataServer, String> {
    let mut rest = value;
    let mut field = || -> Result<&str, String> {
        let (len, after) = rest
            .split_once(':')
            .ok_or_else(|| format!("node marker {value:?}"))?;
        let len: usize = len.parse().map_err(|_| format!("node marker {value:?}"))?;
        let v: String = after.chars().take(len).collect();
        if v.chars().count() != len {
            return Err(format!("node marker {value:?} (a value cut short)"));
        }
        let (v, tail) = after.split_at(v.len());
        rest = tail.strip_prefix(' ').unwrap_or(tail);
        Ok(v)
    };
    let (host, port, journal) = (field()?, field()?, field()?);
    if !rest.is_empty() {
        return Err(format!("node marker {value:?} (more than three values)"));
    }
    let bad = |e: String| format!("a data server in CheckpointInfo with the {e}");
    Ok(DataServer {
        host: Host::parse(host).map_err(bad)?,
        port: Port::parse(port).map_err(bad)?,
        journal: JournalFile::parse(journal).map_err(bad)?,
    })
}

/// What one cluster call gave.
pub(crate) struct Called {
    /// The method called, for messages.
    pub(crate) expr: String,
    /// Yes: %Status OK; No: an error %Status; Unknown: no clean markers.
    pub(crate) answer: Answer,
    pub(crate) outcome: Outcome,
    /// Why it was not a Yes, in words; empty when it was.
    pub(crate) problem: String,
    /// The freeze's CheckpointInfo, when it held.
    pub(crate) checkpoint: Option<Checkpoint>,
    /// The thaw's: whether the master was still frozen when it began, when the markers say.
    pub(crate) was_suspended: Option<bool>,
}

/// The cluster's ExternalFreeze on the master `target`.
pub(crate) fn freeze(
    target: &Target,
    ns: &str,
    opts: &FreezeOptions,
    deadline: Instant,
    stop: Stop,
) -> Called {
    call(target, external_freeze(ns, opts), true, deadline, stop)
}

/// The cluster's ExternalThaw on the master `target`. Never cut short by a signal.
pub(crate) fn thaw(target: &Target, ns: &str, deadline: Instant) -> Called {
    call(target, external_thaw(ns), false, deadline, Stop::Never)
}

/// Runs the marker line of `expr` in a %SYS session ([`marked::run`]), and reads the answer
/// from the markers alone: the exit code says nothing.
fn call(target: &Target, expr: String, freeze: bool, deadline: Instant, stop: Stop) -> Called {
    let fed = Fed::new();
    let o = marked::run(target, &marker_line(&expr, &fed, freeze), deadline, stop);
    let parsed = parse_markers(&o.stdout, &fed, freeze);
    let (answer, problem) = match &parsed {
        Ok(m) if m.ok => (Answer::Yes, String::new()),
        Ok(m) => (
            Answer::No,
            format!("its %Status is an error: {}", m.error.trim()),
        ),
        Err(why) => (Answer::Unknown, unknown(target, &expr, &o, why)),
    };
    let (checkpoint, was_suspended) = match parsed {
        Ok(m) => (m.checkpoint, m.was_suspended),
        Err(_) => (None, None),
    };
    Called {
        expr,
        answer,
        outcome: o,
        problem,
        checkpoint,
        was_suspended,
    }
}

/// Why a call's markers could not be read: a login prompt (with its fix), else what was missing
/// and how the session ended, with IRIS's first error line.
fn unknown(target: &Target, expr: &str, o: &Outcome, why: &str) -> String {
    if o.stdout.contains("Username:") || o.stderr.contains("Username:") {
        return crate::iris::backup::problem(target, expr, o);
    }
    let first = o
        .lines()
        .find(|l| (l.contains("ERROR") || l.contains('<')) && !l.contains(MARK))
        .map(|l| format!(": {l}"))
        .unwrap_or_default();
    format!(
        "gave no answer we can read ({why}; session: {}), so the cluster's state is \
         unknown{first}",
        o.describe()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces() {
        assert_eq!(parse_namespace("IRISCLUSTER").unwrap(), "IRISCLUSTER");
        assert!(parse_namespace("%SYS").is_ok());
        for bad in ["", "1NS", "A\"B", "A)B", "A B", &"N".repeat(65)] {
            assert!(parse_namespace(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn expressions() {
        let mut opts = FreezeOptions::default();
        assert_eq!(
            external_freeze("CL", &opts),
            "##Class(Backup.ShardedCluster).ExternalFreeze(\"CL\",,.CheckpointInfo)"
        );
        opts.external_freeze_timeout = Some(900);
        assert_eq!(
            external_freeze("CL", &opts),
            "##Class(Backup.ShardedCluster).ExternalFreeze(\"CL\",900,.CheckpointInfo)"
        );
        assert_eq!(
            external_thaw("CL"),
            "##Class(Backup.ShardedCluster).ExternalThaw(\"CL\")"
        );
        // A namespace read back from a state file someone altered stays one string.
        assert_eq!(
            external_thaw("A\")_$zf(-1,\"x"),
            "##Class(Backup.ShardedCluster).ExternalThaw(\"A\"\")_$zf(-1,\"\"x\")"
        );
    }

    #[test]
    fn the_marker_lines_are_one_line_each_ending_in_halt() {
        let f = marker_line(
            &external_freeze("CL", &FreezeOptions::default()),
            &Fed::with_nonce("ab12"),
            true,
        );
        assert_eq!(
            f,
            "s p=\"IRISFREEZE-ab12 \",sc=##Class(Backup.ShardedCluster).ExternalFreeze(\"CL\",,\
             .CheckpointInfo) w !,p,\"status=\",$system.Status.IsOK(sc),!,p,\"error=\",$tr(\
             $system.Status.GetErrorText(sc),$c(13,10),\"  \"),!,p,\"checkpoint=\",$g(\
             CheckpointInfo) s n=0,h=\"\" f { s h=$o(CheckpointInfo(h)) q:h=\"\"  s t=\"\" f { \
             s t=$o(CheckpointInfo(h,t)) q:t=\"\"  s j=$g(CheckpointInfo(h,t)),n=n+1 w !,p,\
             \"node \",$l(h),\":\",h,\" \",$l(t),\":\",t,\" \",$l(j),\":\",j } } w !,p,\
             \"end nodes=\",n,! h"
        );
        let t = marker_line(&external_thaw("CL"), &Fed::with_nonce("ab12"), false);
        assert_eq!(
            t,
            "s p=\"IRISFREEZE-ab12 \",su=##Class(Backup.General).IsWDSuspended(),sc=##Class(\
             Backup.ShardedCluster).ExternalThaw(\"CL\") w !,p,\"status=\",$system.Status.IsOK(\
             sc),!,p,\"error=\",$tr($system.Status.GetErrorText(sc),$c(13,10),\"  \"),!,p,\
             \"suspended=\",su,!,p,\"end\",! h"
        );
        assert!(!f.contains('\n') && !t.contains('\n'));
    }

    const FROZEN: &str = "\n%SYS>\nIRISFREEZE-n1 status=1\nIRISFREEZE-n1 error=\n\
        IRISFREEZE-n1 checkpoint=42\nIRISFREEZE-n1 node 5:node1 4:1972 21:/j/node1/20261201.003\n\
        IRISFREEZE-n1 node 7:fe80::1 5:51773 6:/k/001\nIRISFREEZE-n1 end nodes=2\n";

    #[test]
    fn a_freeze_gives_its_checkpoint_and_each_data_server_as_host_port() {
        let m = parse_markers(FROZEN, &Fed::with_nonce("n1"), true).unwrap();
        assert!(m.ok);
        let c = m.checkpoint.unwrap();
        assert_eq!(c.number, "42");
        let got: Vec<(String, &str)> = c
            .data_servers
            .iter()
            .map(|d| (d.name(), d.journal.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("node1:1972".to_string(), "/j/node1/20261201.003"),
                ("[fe80::1]:51773".to_string(), "/k/001"),
            ]
        );
    }

    #[test]
    fn an_error_status_is_a_no_with_its_text() {
        let out = "IRISFREEZE-n status=0\nIRISFREEZE-n error=ERROR #5001: node2 down\n\
                   IRISFREEZE-n checkpoint=\nIRISFREEZE-n end nodes=0";
        let m = parse_markers(out, &Fed::with_nonce("n"), true).unwrap();
        assert!(!m.ok);
        assert_eq!(m.error, "ERROR #5001: node2 down");
        let out = "IRISFREEZE-n status=1\nIRISFREEZE-n error=\nIRISFREEZE-n suspended=0\n\
                   IRISFREEZE-n end";
        let m = parse_markers(out, &Fed::with_nonce("n"), false).unwrap();
        assert!(m.ok);
        assert_eq!(m.was_suspended, Some(false));
    }

    #[test]
    fn missing_or_forged_markers_are_unknown_and_say_why() {
        let cases: &[(&str, &str)] = &[
            ("", "no end marker"),
            // Another nonce (a forged line, or another call's) is not ours: ignored.
            (
                &FROZEN
                    .replace("end nodes=2", "x")
                    .replace("IRISFREEZE-n1 x", "IRISFREEZE-n2 end nodes=2"),
                "no end marker",
            ),
            (
                &FROZEN.replace("checkpoint=42\n", "checkpoint=42\nIRISFREEZE-n1 status=1\n"),
                "status marker twice",
            ),
            (
                &FROZEN.replace("checkpoint=42", "checkpoint=4 2"),
                "checkpoint number",
            ),
            (
                &FROZEN.replace("IRISFREEZE-n1 checkpoint=42\n", ""),
                "no checkpoint marker",
            ),
            (
                &FROZEN.replace("end nodes=2", "end nodes=3"),
                "after 2 node lines",
            ),
            // A journal path with a line break: its length no longer matches.
            (
                &FROZEN.replace("21:/j/node1/20261201.003", "21:/j/node1/2026\nIRISFREEZE"),
                "cut short",
            ),
            (&FROZEN.replace("5:node1", "5:no$de"), "host name"),
            (&FROZEN.replace("4:1972", "5:99999"), "Super Server port"),
            (&FROZEN.replace("6:/k/001", "6:/k/\x1b01"), "journal file"),
            (&FROZEN.replace("status=1", "status=yes"), "status marker"),
            (
                &format!("{FROZEN}IRISFREEZE-n1 status=1\n"),
                "after the end marker",
            ),
            (
                "IRISFREEZE-n1 status=1\nIRISFREEZE-n1 error=\nIRISFREEZE-n1 checkpoint=1\n\
                 IRISFREEZE-n1 end nodes=0",
                "no data server",
            ),
        ];
        for (out, why) in cases {
            let e = parse_markers(out, &Fed::with_nonce("n1"), true).unwrap_err();
            assert!(e.contains(why), "{why}: {e}");
        }
        let e = parse_markers(
            "IRISFREEZE-n status=1\nIRISFREEZE-n error=\nIRISFREEZE-n end",
            &Fed::with_nonce("n"),
            false,
        )
        .unwrap_err();
        assert!(e.contains("no suspended marker"), "{e}");
    }
}
