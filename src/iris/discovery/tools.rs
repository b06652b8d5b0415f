//! The InterSystems programs on this host, found only where root may run them, and the command
//! that opens a %SYS session on an instance.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use crate::host::trust;
use crate::iris::calls::{SESSION, STAT, STAT_RESUME, SYS_NAMESPACE};
use crate::iris::discovery::Kind;
use crate::settings::env;

/// The InterSystems programs found on this host.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tools {
    pub(crate) iris: Option<PathBuf>,
    pub(crate) csession: Option<PathBuf>,
    pub(crate) ccontrol: Option<PathBuf>,
    /// Programs found but not run: another user could change them (see [`crate::host::trust`]).
    pub(crate) refused: Vec<Refused>,
}

/// A program that was found but is not safe for root to run.
#[derive(Debug, Clone)]
pub(crate) struct Refused {
    /// `iris`, `csession` or `ccontrol`.
    pub(crate) name: &'static str,
    pub(crate) path: PathBuf,
    /// Why, and the fix.
    pub(crate) why: String,
}

impl Tools {
    /// Looks on PATH, then in `$IRISSYS` (non-root installs) and `bin_dirs`, and takes the first
    /// of each program that no other user could have changed; an unsafe one is skipped with a
    /// warning. Finding none of the three is an error: a hook on a host where it cannot see IRIS
    /// is misconfigured, and exiting 0 would quietly make every backup crash-consistent.
    pub(crate) fn find(bin_dirs: &[PathBuf]) -> Result<Tools> {
        Tools::find_for(bin_dirs, &[Kind::Iris, Kind::Cache])
    }

    /// As [`Tools::find`], but only the programs instances of `kinds` need (`iris` for IRIS,
    /// `csession` and `ccontrol` for Caché): a thaw of recorded IRIS instances finds and checks
    /// one program, not three, before its ExternalThaw.
    pub(crate) fn find_for(bin_dirs: &[PathBuf], kinds: &[Kind]) -> Result<Tools> {
        let dirs = search_dirs(bin_dirs);
        let mut refused = Vec::new();
        let mut sought = Vec::new();
        let mut look = |name: &'static str, kind: Kind| {
            if !kinds.contains(&kind) {
                return None;
            }
            sought.push(name);
            find_one(name, &dirs, &mut refused)
        };
        let iris = look("iris", Kind::Iris);
        let csession = look("csession", Kind::Cache);
        let ccontrol = look("ccontrol", Kind::Cache);
        let tools = Tools {
            iris,
            csession,
            ccontrol,
            refused,
        };
        if tools.iris.is_none() && tools.csession.is_none() && tools.ccontrol.is_none() {
            let sought = match sought.split_last() {
                Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
                _ => sought.concat(),
            };
            if !tools.refused.is_empty() {
                let why: Vec<&str> = tools.refused.iter().map(|r| r.why.as_str()).collect();
                bail!(
                    "found {sought}, but none that is safe to run: {}",
                    why.join("; ")
                );
            }
            let list: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
            bail!(
                "found none of {sought}; looked in: {}. Is IRIS or Caché installed here? If its \
                 programs live elsewhere, name their directory with --bin-dirs or {}",
                list.join(", "),
                env::BIN_DIRS
            );
        }
        Ok(tools)
    }

    /// Why `name` (a qlist source) was not found though a copy exists, if that is the case.
    pub(super) fn refused_only(&self, name: &str, found: bool) -> Option<&Refused> {
        if found {
            return None;
        }
        self.refused.iter().find(|r| r.name == name)
    }

    /// The documented emergency resume of the write daemon: `iris stat NAME -W` on IRIS; on
    /// Caché `ccontrol stat NAME -W` (the Caché form is not confirmed by InterSystems' docs,
    /// so its outcome is checked and logged like any other).
    pub(crate) fn emergency_for(&self, name: &str, kind: Kind) -> Option<SessionCmd> {
        let program = match kind {
            Kind::Iris => self.iris.clone()?,
            Kind::Cache => self.ccontrol.clone()?,
        };
        Some(SessionCmd {
            program,
            prefix: vec![STAT.into(), name.into(), STAT_RESUME.into()],
        })
    }

    /// How to run an expression in %SYS on instance `name` of kind `kind`.
    pub(crate) fn session_for(&self, name: &str, kind: Kind) -> Result<SessionCmd> {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        match kind {
            Kind::Iris => match &self.iris {
                Some(p) => Ok(SessionCmd {
                    program: p.clone(),
                    prefix: args(&[SESSION, name, SYS_NAMESPACE]),
                }),
                None => bail!("{name} is an IRIS instance but the iris program was not found"),
            },
            Kind::Cache => match (&self.csession, &self.ccontrol) {
                (Some(p), _) => Ok(SessionCmd {
                    program: p.clone(),
                    prefix: args(&[name, SYS_NAMESPACE]),
                }),
                // csession is shorthand for `ccontrol session`.
                (None, Some(p)) => Ok(SessionCmd {
                    program: p.clone(),
                    prefix: args(&[SESSION, name, SYS_NAMESPACE]),
                }),
                (None, None) => {
                    bail!("{name} is a Caché instance but neither csession nor ccontrol was found")
                }
            },
        }
    }
}

/// PATH, then `$IRISSYS`, then `bin_dirs`: absolute entries only (a relative one would make
/// the working directory's files root's programs), each once, first place kept (PATH often
/// repeats itself and the usual places).
fn search_dirs(bin_dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(sys) = std::env::var_os("IRISSYS").filter(|s| !s.is_empty()) {
        dirs.push(PathBuf::from(sys));
    }
    dirs.extend(bin_dirs.iter().cloned());
    dirs.retain(|d| d.is_absolute());
    let mut seen = std::collections::HashSet::new();
    dirs.retain(|d| seen.insert(d.clone()));
    dirs
}

/// The first executable `name` in `dirs` that is safe for root to run, as found (argv\[0\]
/// keeps its name: `iris` and `ccontrol` may be one program). Unsafe ones are skipped, each
/// with a warning, and noted in `refused`.
fn find_one(name: &'static str, dirs: &[PathBuf], refused: &mut Vec<Refused>) -> Option<PathBuf> {
    let found = trust::find_program(name, dirs);
    for (path, why) in found.refused {
        say!(WARN, "{why}; skipped it");
        refused.push(Refused { name, path, why });
    }
    found.program
}

/// A program and the arguments that open a %SYS session on one instance; the ObjectScript
/// expression is appended as one more argv item (never through a shell).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SessionCmd {
    pub(crate) program: PathBuf,
    pub(crate) prefix: Vec<String>,
}

impl SessionCmd {
    pub(crate) fn args(&self, expr: &str) -> Vec<OsString> {
        self.prefix
            .iter()
            .map(OsString::from)
            .chain([OsString::from(expr)])
            .collect()
    }

    /// A complete command (no expression appended), as for the emergency resume.
    pub(crate) fn args_plain(&self) -> Vec<OsString> {
        self.prefix.iter().map(OsString::from).collect()
    }

    pub(crate) fn display_plain(&self) -> String {
        format!("{} {}", self.program.display(), self.prefix.join(" "))
    }

    /// The command as a user would type it, for error messages: the expression in double
    /// quotes, as IRIS's documentation writes it, unless it holds a quote of its own (the
    /// cluster calls' namespace): then in single quotes, so it can be pasted as it is.
    pub(crate) fn display(&self, expr: &str) -> String {
        let quoted = if expr.contains(['"', '$', '`', '\\']) {
            crate::util::shell::sh_quote(expr)
        } else {
            format!("\"{expr}\"")
        };
        format!(
            "{} {} {quoted}",
            self.program.display(),
            self.prefix.join(" ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_commands() {
        let tools = Tools {
            iris: Some("/usr/bin/iris".into()),
            csession: None,
            ccontrol: Some("/usr/bin/ccontrol".into()),
            ..Default::default()
        };
        let s = tools.session_for("IRIS", Kind::Iris).unwrap();
        assert_eq!(s.args("X"), ["session", "IRIS", "-U%SYS", "X"]);
        let c = tools.session_for("C", Kind::Cache).unwrap();
        assert_eq!(c.program, PathBuf::from("/usr/bin/ccontrol"));
        assert_eq!(c.args("X"), ["session", "C", "-U%SYS", "X"]);
        assert_eq!(
            s.display("X()"),
            "/usr/bin/iris session IRIS -U%SYS \"X()\""
        );
        assert_eq!(
            s.display("X(\"NS\")"),
            "/usr/bin/iris session IRIS -U%SYS 'X(\"NS\")'"
        );
    }
}
