//! Instance names: as IRIS prints them in qlist, checked so that one can only ever be one argv
//! item, and the lists of them the command line, the environment and the config file give.

use anyhow::{Context, Result, bail};

use super::Action;
use super::source::Source;
use crate::iris::InstanceName;
use crate::settings::INSTANCES;

/// Names from `--instance` or `IRIS_FREEZE_INSTANCES`. The variable present but empty means
/// "not set"; an empty name anywhere else (`-i ""`, `,`, `A,,B`) is an error, never "every
/// instance".
pub(super) fn given_instances(
    raw: &[String],
    from_env: bool,
    action: &Action,
) -> Result<Vec<InstanceName>> {
    if from_env && raw.len() <= 1 && raw.iter().all(|s| s.trim().is_empty()) {
        return Ok(Vec::new());
    }
    let default = match action {
        Action::Thaw => "thaw what the last freeze recorded",
        Action::DryRun => "check every running instance",
        _ => "freeze every running instance",
    };
    instance_names(raw, Source::given(&INSTANCES, from_env), default)
}

/// Parses names, dropping repeats (names are case-insensitive); `default` says what leaving
/// the setting out does.
pub(super) fn instance_names(
    raw: &[String],
    src: Source,
    default: &str,
) -> Result<Vec<InstanceName>> {
    let mut out: Vec<InstanceName> = Vec::new();
    for s in raw {
        if s.trim().is_empty() {
            let fix = match src {
                Source::Flag(_) => {
                    "name an instance as `iris qlist` shows it, or leave out \
                                    --instance"
                }
                Source::Env(_) => "list names separated by commas (IRIS,HS), or unset it",
                Source::File(..) => "list names as `iris qlist` shows them, or remove the line",
            };
            bail!(
                "{src} has an empty instance name (an empty variable in a script?), which never \
                 means every instance: {fix} to {default}"
            );
        }
        let name = InstanceName::parse(s).with_context(|| src.to_string())?;
        if !out.iter().any(|n| n.matches(name.as_str())) {
            out.push(name);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names_are_argv_safe() {
        for ok in ["IRIS", "iris_2", "HS-PROD.1"] {
            assert_eq!(InstanceName::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["", " ", "a b", "x;rm", "$(id)", "a/b", "\"q\"", "é"] {
            assert!(InstanceName::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn duplicate_names_collapse_case_insensitively() {
        let names = ["IRIS".into(), "iris".into(), "HS".into()];
        let v = given_instances(&names, false, &Action::Freeze).unwrap();
        assert_eq!(v.len(), 2);
    }

    #[test]
    fn an_empty_name_is_an_error_but_an_empty_variable_is_unset() {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // IRIS_FREEZE_INSTANCES= (present, empty): not set.
        assert!(
            given_instances(&strings(&[""]), true, &Action::Freeze)
                .unwrap()
                .is_empty()
        );
        assert!(
            given_instances(&[], true, &Action::Freeze)
                .unwrap()
                .is_empty()
        );
        let e = format!(
            "{:#}",
            given_instances(&strings(&["", ""]), true, &Action::Freeze).unwrap_err()
        );
        assert!(
            e.starts_with("IRIS_FREEZE_INSTANCES has an empty instance name"),
            "{e}"
        );
        assert!(
            e.contains("unset it to freeze every running instance"),
            "{e}"
        );
        let e = format!(
            "{:#}",
            given_instances(&strings(&["A", "", "B"]), true, &Action::Freeze).unwrap_err()
        );
        assert!(e.contains("empty instance name"), "{e}");
        let e = format!(
            "{:#}",
            given_instances(&strings(&[""]), false, &Action::Thaw).unwrap_err()
        );
        assert!(
            e.starts_with("--instance has an empty instance name"),
            "{e}"
        );
        assert!(e.contains("to thaw what the last freeze recorded"), "{e}");
        let e = format!(
            "{:#}",
            given_instances(&strings(&["x;rm"]), false, &Action::Freeze).unwrap_err()
        );
        assert!(e.starts_with("--instance: invalid instance name"), "{e}");
    }
}
