//! Finding IRIS and Caché on this host: the `iris`, `csession` and `ccontrol` programs (`tools`),
//! and here the instances `iris qlist` and `ccontrol qlist` report, and the ones a command picks.

pub(crate) mod recheck;
mod tools;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use crate::host::process;
use crate::iris::InstanceName;
use crate::iris::calls::{QLIST, QLIST_DOWN, QLIST_MIN_FIELDS, QLIST_RUNNING};
use crate::settings::env;

pub(crate) use tools::{SessionCmd, Tools};

/// qlist only reads the registry; it gets a short leash (InterSystems' own scripts wrap it in
/// `timeout` because it can hang).
pub(crate) const QLIST_TIMEOUT: Duration = Duration::from_secs(5);

/// Which session program an instance needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    Iris,
    Cache,
}

/// One line of qlist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Instance {
    pub(crate) name: String,
    pub(crate) dir: String,
    pub(crate) version: String,
    /// The status word(s) before the first comma: `running`, `down`, `sign-on inhibited`, ...
    pub(crate) status: String,
    pub(crate) running: bool,
    /// Empty for plain Caché.
    pub(crate) product: String,
    pub(crate) kind: Kind,
    pub(crate) health: String,
    /// The Super Server port, qlist field 6: with this host's name, how a sharded cluster's
    /// CheckpointInfo names the instance as a data server.
    #[serde(skip)]
    pub(crate) superserver_port: String,
    pub(crate) mirror_type: String,
    pub(crate) mirror_status: String,
    /// The data directory (durable %SYS), qlist field 13 when printed: where `mgr/messages.log`
    /// is. The install directory on a kit install; empty on versions that print fewer fields.
    #[serde(skip)]
    pub(crate) data_dir: String,
}

/// What an instance's qlist status means for a freeze.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Availability {
    /// `running...`: freeze it.
    Running,
    /// `down...`: nothing writes to its files, so they are already consistent; skip it.
    Down,
    /// Anything else (`sign-on inhibited`, `starting or stopping`, ...): up, but we may not be
    /// able to log in; its files are not consistent unless frozen.
    Unavailable,
}

impl Instance {
    pub(crate) fn availability(&self) -> Availability {
        let s = self.status.to_ascii_lowercase();
        if self.running {
            Availability::Running
        } else if s.starts_with(QLIST_DOWN) {
            Availability::Down
        } else {
            Availability::Unavailable
        }
    }

    pub(crate) fn product_label(&self) -> &str {
        if self.product.is_empty() {
            "Cache"
        } else {
            &self.product
        }
    }
}

/// Parses qlist output. `source` is the program that printed it: `ccontrol qlist` lists Caché
/// instances (Ensemble and HealthShare on Caché print a product but still need csession).
/// Lines with fewer than 8 fields (old Caché prints 8, IRIS 14 or more) are not instance lines.
pub(crate) fn parse_qlist(text: &str, source: Kind) -> Vec<Instance> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.trim_end_matches(['\r', '\n']).split('^').collect();
            if f.len() < QLIST_MIN_FIELDS || f[0].trim().is_empty() {
                return None;
            }
            let field = |i: usize| f.get(i).map(|s| s.trim().to_string()).unwrap_or_default();
            let status = f[3].split(',').next().unwrap_or("").trim().to_string();
            let product = field(9);
            let kind = if source == Kind::Cache || product.is_empty() {
                Kind::Cache
            } else {
                Kind::Iris
            };
            Some(Instance {
                name: field(0),
                dir: field(1),
                version: field(2),
                running: status.to_ascii_lowercase().starts_with(QLIST_RUNNING),
                status,
                product,
                kind,
                health: field(8),
                superserver_port: field(5),
                mirror_type: field(10),
                mirror_status: field(11),
                data_dir: field(12),
            })
        })
        .collect()
}

/// The lines of qlist output that look like instance lines (they hold a `^`) but have fewer
/// fields than one has: skipped by [`parse_qlist`], and each an error, as a line whose name is
/// no instance name is (a default freeze that missed that instance would report success).
fn short_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter(|line| {
        let fields = line.split('^').count();
        fields > 1 && fields < QLIST_MIN_FIELDS
    })
}

/// Every instance both registries know, and what went wrong asking them.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub(crate) instances: Vec<Instance>,
    /// One message per qlist that failed; a failed listing may hide an instance.
    pub(crate) errors: Vec<String>,
}

impl Listing {
    pub(crate) fn find(&self, name: &str) -> Option<&Instance> {
        self.instances
            .iter()
            .find(|i| i.name.eq_ignore_ascii_case(name))
    }

    pub(crate) fn names(&self) -> String {
        if self.instances.is_empty() {
            return "none".into();
        }
        self.instances
            .iter()
            .map(|i| format!("{} ({})", i.name, i.status))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The instances a command acts on, and those it passes over.
#[derive(Debug, Default)]
pub(crate) struct Selection {
    /// Running instances with the command that reaches each.
    pub(crate) targets: Vec<(Instance, SessionCmd)>,
    /// Down instances: nothing writes to their files.
    pub(crate) down: Vec<Instance>,
    /// Up but not `running` (`sign-on inhibited`, ...), with the command that would reach each.
    pub(crate) unavailable: Vec<(Instance, SessionCmd)>,
}

impl Selection {
    /// For freeze: an instance that is up but not running cannot be frozen, and its files
    /// would not be consistent.
    pub(crate) fn refuse_unavailable(&self) -> Result<()> {
        if let Some((inst, _)) = self.unavailable.first() {
            bail!(
                "instance {} is '{}': it is up but not accepting logins, so it cannot be frozen \
                 and its files would not be consistent; wait until it is running, or leave it \
                 out with --instance",
                inst.name,
                inst.status
            );
        }
        Ok(())
    }
}

/// Picks the instances named (or, with no names, every instance qlist shows) and sorts them
/// by availability. A name qlist does not know, or (with no names) a qlist that failed, is an
/// error: either could leave an instance's files inconsistent without anyone noticing.
pub(crate) fn select(
    names: &[InstanceName],
    listing: &Listing,
    tools: &Tools,
) -> Result<Selection> {
    let chosen: Vec<&Instance> = if names.is_empty() {
        if !listing.errors.is_empty() {
            bail!(
                "cannot list every instance, so a default freeze could miss one: {}. Fix the \
                 listing, or name the instances with --instance / {}",
                listing.errors.join("; "),
                env::INSTANCES
            );
        }
        listing.instances.iter().collect()
    } else {
        let mut v = Vec::new();
        for name in names {
            match listing.find(name.as_str()) {
                Some(i) => v.push(i),
                None => bail!(
                    "no instance named {name} on this host; known instances: {}{}",
                    listing.names(),
                    if listing.errors.is_empty() {
                        String::new()
                    } else {
                        format!(" (and {})", listing.errors.join("; "))
                    }
                ),
            }
        }
        v
    };
    let mut sel = Selection::default();
    for inst in chosen {
        match inst.availability() {
            Availability::Down => sel.down.push(inst.clone()),
            Availability::Running => {
                let cmd = tools.session_for(&inst.name, inst.kind)?;
                sel.targets.push((inst.clone(), cmd));
            }
            Availability::Unavailable => {
                let cmd = tools.session_for(&inst.name, inst.kind)?;
                sel.unavailable.push((inst.clone(), cmd));
            }
        }
    }
    Ok(sel)
}

/// Runs `iris qlist` and `ccontrol qlist` (both when both exist: IRIS and Caché can share a
/// host) in parallel, each bounded by [`QLIST_TIMEOUT`] and `deadline`.
pub(crate) fn list(tools: &Tools, deadline: Instant) -> Listing {
    let deadline = deadline.min(Instant::now() + QLIST_TIMEOUT);
    let sources: Vec<(&Path, Kind, &str)> = [
        (tools.iris.as_deref(), Kind::Iris, "iris qlist"),
        (tools.ccontrol.as_deref(), Kind::Cache, "ccontrol qlist"),
    ]
    .into_iter()
    .filter_map(|(p, k, label)| p.map(|p| (p, k, label)))
    .collect();
    let results = crate::iris::backup::each(&sources, |&(p, k, label)| {
        let out = process::run(p, &[QLIST.into()], deadline, process::Stop::OnSignal);
        (k, label, out)
    });
    let mut listing = Listing::default();
    // A qlist not run because its program is unsafe could hide instances, as a failed one.
    for (name, found) in [
        ("iris", tools.iris.is_some()),
        ("ccontrol", tools.ccontrol.is_some()),
    ] {
        if let Some(r) = tools.refused_only(name, found) {
            listing
                .errors
                .push(format!("`{name} qlist` was not run: {}", r.why));
        }
    }
    for (kind, label, out) in results {
        if out.code() != Some(0) {
            let first = out.lines().next().unwrap_or("").to_string();
            listing.errors.push(format!(
                "`{label}` failed: {}{}{first}",
                out.describe(),
                if first.is_empty() { "" } else { ": " }
            ));
            continue;
        }
        for line in short_lines(&out.stdout) {
            let shown: String = line.chars().take(80).collect();
            listing.errors.push(format!(
                "`{label}` printed a line that was skipped: {} fields, fewer than the \
                 {QLIST_MIN_FIELDS} of an instance line: {shown:?}",
                line.split('^').count()
            ));
        }
        for inst in parse_qlist(&out.stdout, kind) {
            // Checked where it enters: the name goes on to the state, the history, argv and
            // the commands restore-plan prints. A line skipped may hide an instance, as a
            // failed qlist does.
            if let Err(e) = InstanceName::parse(&inst.name) {
                listing
                    .errors
                    .push(format!("`{label}` printed a line that was skipped: {e}"));
                continue;
            }
            if listing.find(&inst.name).is_some() {
                say!(
                    WARN,
                    "instance {} is listed by both iris and ccontrol; using the first",
                    inst.name
                );
                continue;
            }
            listing.instances.push(inst);
        }
    }
    listing
}

#[cfg(test)]
mod tests {
    use super::*;

    const IRIS: &str = "IRIS^/usr/irissys/^2024.1.0.263.0^running, since Wed Nov 25 12:00:00 2026^iris.cpf^1972^52773^53773^ok^IRIS^Failover^Primary^/usr/irissys/^1972^\n\
HS^/opt/hs/^2023.1.2.450.0^down, last used Tue Nov 24 09:00:00 2026^iris.cpf^1973^52774^53774^^IRISHealth^^^/opt/hs/^1973^\n";
    const CACHE_OLD: &str = "CACHE^/usr/cachesys/^2012.2.5.962.0^running, since Fri May 13 22:07:02 2016^cache.cpf^1972^57772^62972\n";

    #[test]
    fn iris_qlist_with_14_fields() {
        let v = parse_qlist(IRIS, Kind::Iris);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].name, "IRIS");
        assert!(v[0].running);
        assert_eq!(v[0].kind, Kind::Iris);
        assert_eq!(v[0].version, "2024.1.0.263.0");
        assert_eq!(v[0].mirror_status, "Primary");
        assert_eq!(v[0].superserver_port, "1972");
        assert_eq!(v[1].status, "down");
        assert!(!v[1].running);
        assert_eq!(v[1].product, "IRISHealth");
    }

    #[test]
    fn old_cache_with_8_fields() {
        let v = parse_qlist(CACHE_OLD, Kind::Cache);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].kind, Kind::Cache);
        assert!(v[0].running);
        assert_eq!(v[0].product_label(), "Cache");
        assert_eq!(v[0].health, "");
    }

    #[test]
    fn empty_product_means_cache_even_from_iris() {
        let line = "OLD^/x/^2018.1^running, since x^cache.cpf^1^2^3^ok^^^\n";
        assert_eq!(parse_qlist(line, Kind::Iris)[0].kind, Kind::Cache);
    }

    #[test]
    fn ensemble_from_ccontrol_is_cache() {
        let line = "ENS^/x/^2018.1^running, since x^cache.cpf^1^2^3^ok^Ensemble^^\n";
        assert_eq!(parse_qlist(line, Kind::Cache)[0].kind, Kind::Cache);
    }

    #[test]
    fn junk_and_short_lines_are_ignored() {
        let text =
            "\nsome banner\nA^b^c^running\nX^/x/^1^sign-on inhibited:primary transition^c^1^2^3\n";
        let v = parse_qlist(text, Kind::Iris);
        assert_eq!(v.len(), 1);
        // The short line is not an instance, but it is not silently ignored either.
        assert_eq!(short_lines(text).collect::<Vec<_>>(), ["A^b^c^running"]);
        assert_eq!(v[0].status, "sign-on inhibited:primary transition");
        assert!(!v[0].running);
    }
}
