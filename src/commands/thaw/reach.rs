//! How a thaw (and the watchdog) reaches each instance it must thaw, way after way: the program
//! the freeze recorded, re-checked (nothing searched, so ExternalThaw is the first IRIS call),
//! then the programs discovery finds with this run's settings. What no way reaches is kept with
//! why, and said with the commands that thaw it by hand; it is never dropped in silence.

use std::collections::BTreeMap;
use std::ffi::OsString;

use anyhow::{Context, Result, anyhow};

use crate::commands::state::Record;
use crate::config::Config;
use crate::host::eventlog::EventLog;
use crate::iris::InstanceName;
use crate::iris::backup::Target;
use crate::iris::discovery::{Kind, SessionCmd, Tools, recheck};
use crate::iris::sharded;
use crate::util::shell::display_argv;

/// What the ways reached of a plan.
#[derive(Debug, Default)]
pub(crate) struct Reached {
    pub(crate) targets: Vec<Target>,
    pub(crate) unreached: Vec<Unreached>,
}

/// An instance of the plan that no way reached.
#[derive(Debug, Clone)]
pub(crate) struct Unreached {
    pub(crate) name: String,
    pub(crate) record: Record,
    /// Why, from the last way tried.
    pub(crate) why: String,
}

/// Each instance of `plan` (name → the freeze's record of it) as a target.
pub(crate) fn reach(plan: &BTreeMap<String, Record>, cfg: &Config, log: &EventLog) -> Reached {
    let kinds: Vec<Kind> = plan.values().map(|r| r.kind).collect();
    // Discovery runs at most once, and only for a recorded program that is refused or gone.
    let mut found: Option<Result<Tools, String>> = None;
    let mut discover = || {
        found
            .get_or_insert_with(|| {
                Tools::find_for(&cfg.bin_dirs, &kinds).map_err(|e| format!("{e:#}"))
            })
            .clone()
    };
    let mut out = Reached::default();
    // The programs checked so far: one shared by several instances is walked once.
    let mut checked = Vec::new();
    for (name, rec) in plan {
        match target(name, rec, &mut checked, &mut discover, log) {
            Ok(t) => out.targets.push(
                t.with_credentials(cfg.credentials.as_ref())
                    .with_sharded(rec.sharded.as_deref()),
            ),
            Err(e) => out.unreached.push(Unreached {
                name: name.clone(),
                record: rec.clone(),
                why: format!("{e:#}"),
            }),
        }
    }
    out
}

/// One instance: its recorded programs if they pass the check, else discovery's.
fn target(
    name: &str,
    rec: &Record,
    checked: &mut Vec<Tools>,
    discover: &mut impl FnMut() -> Result<Tools, String>,
    log: &EventLog,
) -> Result<Target> {
    let name = InstanceName::parse(name).with_context(|| format!("the plan names {name:?}"))?;
    let name = name.as_str();
    let (session, tools) = match recheck::session(name, rec.kind, &rec.session, checked) {
        Ok((s, tools)) => {
            checked.push(tools.clone());
            (s, Some(tools))
        }
        Err(e) => {
            let tools = discover()
                .map_err(|d| anyhow!("{e:#}; and discovery found no other program: {d}"))?;
            let s = tools.session_for(name, rec.kind)?;
            log.warn(
                Some(name),
                "program",
                format!("{e:#}: thawing with {} instead", s.program.display()),
            );
            (s, None)
        }
    };
    let emergency = match &rec.emergency {
        Some(em) => recheck::emergency(name, rec.kind, em, tools.as_ref())
            .ok()
            .or_else(|| discover().ok()?.emergency_for(name, rec.kind)),
        None => None,
    };
    Ok(Target::new(name, session).with_emergency(emergency))
}

/// The commands that thaw `name` by hand, quoted to be pasted: the ExternalThaw through the
/// kind's program found on PATH, and our own thaw of the instance.
pub(crate) fn by_hand(name: &str, rec: &Record) -> String {
    let Ok(valid) = InstanceName::parse(name) else {
        return "`iris-freeze status` shows what is frozen; `iris-freeze thaw --instance NAME` \
                thaws it"
            .into();
    };
    let name = valid.as_str();
    let tools = Tools {
        iris: Some("iris".into()),
        csession: Some("csession".into()),
        ccontrol: Some("ccontrol".into()),
        ..Default::default()
    };
    let expr = rec.sharded.as_deref().map_or_else(
        || crate::iris::calls::EXTERNAL_THAW.to_string(),
        sharded::external_thaw,
    );
    let session = tools.session_for(name, rec.kind).map(|s| line(&s, &expr));
    let mut ours: Vec<OsString> = ["iris-freeze", "thaw", "--instance", name]
        .iter()
        .map(OsString::from)
        .collect();
    if let Some(ns) = &rec.sharded {
        ours.extend(["--sharded".into(), ns.into()]);
    }
    match session {
        Ok(s) => format!("`{s}` as root, or `{}`", display_argv(&ours)),
        Err(_) => format!("`{}`", display_argv(&ours)),
    }
}

/// `cmd` with `expr` appended, as one shell line.
fn line(cmd: &SessionCmd, expr: &str) -> String {
    let mut argv: Vec<OsString> = vec![cmd.program.clone().into()];
    argv.extend(cmd.args(expr));
    display_argv(&argv)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::state::Phase;

    fn rec(kind: Kind, sharded: Option<&str>) -> Record {
        let mut r = Record::new(
            kind,
            SessionCmd {
                program: "/opt/x/iris".into(),
                prefix: vec![],
            },
            Phase::Frozen,
        );
        r.sharded = sharded.map(String::from);
        r
    }

    #[test]
    fn the_commands_by_hand_are_quoted_to_paste() {
        assert_eq!(
            by_hand("IRIS", &rec(Kind::Iris, None)),
            "`iris session IRIS -U%SYS '##Class(Backup.General).ExternalThaw()'` as root, or \
             `iris-freeze thaw --instance IRIS`"
        );
        assert_eq!(
            by_hand("C", &rec(Kind::Cache, Some("NS"))),
            "`csession C -U%SYS '##Class(Backup.ShardedCluster).ExternalThaw(\"NS\")'` as \
             root, or `iris-freeze thaw --instance C --sharded NS`"
        );
        // A name no instance has is never pasted into a command.
        let odd = by_hand("IRIS;\nX", &rec(Kind::Iris, None));
        assert!(!odd.contains("IRIS;"), "{odd}");
    }
}
