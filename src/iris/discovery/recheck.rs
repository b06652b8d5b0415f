//! The programs a freeze found and recorded (in the state, and in its watchdog's arguments),
//! checked again before root runs them: a thaw reaches IRIS without searching for anything, and
//! the watchdog with exactly what the freeze used, however that was found (`--bin-dirs`, the
//! config file, PATH).

use std::path::Path;

use anyhow::{Result, bail};

use crate::iris::discovery::{Kind, SessionCmd, Tools};

/// The recorded command that opens a %SYS session on `name`, if it is still one root may run:
/// its program named as the kind's program is (`iris`, `csession`, `ccontrol`), safe by the
/// same rule discovery applies ([`crate::host::trust::program`]: owner and modes of the file,
/// its links and every directory above), and its arguments exactly those discovery would build.
/// `Err` says why not (the program is gone, another user could change it, ...). With it, the
/// checked program as the tool it is, for [`emergency`] and the next instances: a program
/// `checked` already is not walked again.
pub(crate) fn session(
    name: &str,
    kind: Kind,
    recorded: &SessionCmd,
    checked: &[Tools],
) -> Result<(SessionCmd, Tools)> {
    let known = checked
        .iter()
        .find(|t| t.session_for(name, kind).ok().as_ref() == Some(recorded));
    if let Some(t) = known {
        return Ok((recorded.clone(), t.clone()));
    }
    let tools = tools_of(&recorded.program)?;
    let rebuilt = tools.session_for(name, kind)?;
    Ok((same(rebuilt, recorded)?, tools))
}

/// As [`session`], for the recorded emergency resume (`iris stat NAME -W`); `checked` (what
/// [`session`] checked) spares a second walk when it is the same program, as on IRIS.
pub(crate) fn emergency(
    name: &str,
    kind: Kind,
    recorded: &SessionCmd,
    checked: Option<&Tools>,
) -> Result<SessionCmd> {
    let known = checked.and_then(|t| t.emergency_for(name, kind));
    if known.as_ref() == Some(recorded) {
        return Ok(recorded.clone());
    }
    let Some(rebuilt) = tools_of(&recorded.program)?.emergency_for(name, kind) else {
        bail!(
            "{} does not run the emergency resume of a {kind:?} instance",
            recorded.program.display()
        );
    };
    same(rebuilt, recorded)
}

/// The recorded program as the one tool it stands for, after the trust check.
fn tools_of(program: &Path) -> Result<Tools> {
    let mut tools = Tools::default();
    let slot = match program.file_name().and_then(|n| n.to_str()) {
        Some("iris") => &mut tools.iris,
        Some("csession") => &mut tools.csession,
        Some("ccontrol") => &mut tools.ccontrol,
        _ => bail!(
            "{} is not an iris, csession or ccontrol program",
            program.display()
        ),
    };
    *slot = Some(crate::host::trust::program(program).map_err(|e| {
        // Asked only on failure: the usual thaw makes no call beyond the trust walk.
        if program.exists() {
            e
        } else {
            anyhow::anyhow!("the recorded program {} is gone", program.display())
        }
    })?);
    Ok(tools)
}

fn same(rebuilt: SessionCmd, recorded: &SessionCmd) -> Result<SessionCmd> {
    if &rebuilt != recorded {
        bail!(
            "the recorded command `{}` is not the one discovery builds (`{}`)",
            recorded.display_plain(),
            rebuilt.display_plain()
        );
    }
    Ok(rebuilt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(program: &str, prefix: &[&str]) -> SessionCmd {
        SessionCmd {
            program: program.into(),
            prefix: prefix.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn only_a_kinds_own_program_with_its_own_arguments_passes() {
        // /bin/sh is root's and safe, but not a session program.
        let e = session(
            "IRIS",
            Kind::Iris,
            &cmd("/bin/sh", &["session", "IRIS", "-U%SYS"]),
            &[],
        );
        assert!(format!("{:#}", e.unwrap_err()).contains("not an iris"));
        let e = session(
            "IRIS",
            Kind::Iris,
            &cmd("/nonexistent/iris", &["-c", "x"]),
            &[],
        );
        assert!(e.is_err());
        let e = emergency(
            "IRIS",
            Kind::Iris,
            &cmd("/nonexistent/dir/iris", &["stat"]),
            None,
        );
        assert!(e.is_err());
    }
}
