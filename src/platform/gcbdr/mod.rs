//! Google Cloud Backup and DR (Actifio heritage): its agent runs scripts from `/act/scripts`
//! for the phases of a job (INIT, PRE, POST, FINAL, ABORT), as root, with `ACT_*` variables
//! describing the job. One way names a script per phase in the backup template; the legacy
//! `appid.<ID>.sh` gets the phase (`init`, `freeze`, `thaw`, `abort`, `fini`) as its first
//! argument; some jobs set `ACT_PHASE`. Each works: the phase comes from the first argument,
//! else `ACT_PHASE`, else the script's own name (`gcbdr-pre.sh`).

use std::env;
use std::ffi::OsString;

use crate::platform::hook_seconds;
use crate::platform::hooks::HookCommand::{self, Freeze, Thaw};
use crate::platform::hooks::HookJob;
use crate::platform::kit::Given;
use crate::platform::spec::{Asks, Hook, Spec};

/// The first argument of `iris-freeze gcbdr PHASE`, and the prefix of the installed names.
const ARG: &str = "gcbdr";

/// A job ends with FINAL (after POST, or after ABORT): a thaw there finds nothing frozen
/// unless POST never came, and then it thaws at once rather than at the watchdog.
const PHASES: &[(&str, HookCommand)] = &[
    ("pre", Freeze),
    ("freeze", Freeze),
    ("post", Thaw),
    ("thaw", Thaw),
    ("abort", Thaw),
    ("final", Thaw),
    ("fini", Thaw),
];

/// Before anything is frozen: nothing to do.
const IDLE: &[&str] = &["init"];

const HOOKS: &[Hook] = &[
    Hook::link("/act/scripts/gcbdr-init.sh", Asks::Phase(PHASES)),
    Hook::link("/act/scripts/gcbdr-pre.sh", Asks::Phase(PHASES)),
    Hook::link("/act/scripts/gcbdr-post.sh", Asks::Phase(PHASES)),
    Hook::link("/act/scripts/gcbdr-final.sh", Asks::Phase(PHASES)),
    Hook::link("/act/scripts/gcbdr-abort.sh", Asks::Phase(PHASES)),
    Hook::arg(ARG, Asks::Phase(PHASES)),
];

/// The longest `ACT_*` value kept, in characters.
const FIELD_MAX: usize = 64;

/// An `ACT_*` value as the log and the history may hold it: printable ASCII only (anything else becomes
/// `?`), at most `FIELD_MAX` characters, quoted.
fn field(name: &str) -> Option<String> {
    let v = env::var_os(name)?;
    let v = v.to_string_lossy();
    let mut kept: String = v
        .chars()
        .take(FIELD_MAX)
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .collect();
    if v.chars().count() > FIELD_MAX {
        kept.push_str("...");
    }
    Some(format!("{kept:?}"))
}

pub(crate) struct Gcbdr;

impl Spec for Gcbdr {
    fn hooks(&self) -> &'static [Hook] {
        HOOKS
    }

    fn idle_phases(&self) -> &'static [&'static str] {
        IDLE
    }

    fn phase_otherwise(&self, called_as: &str) -> Option<String> {
        if let Some(p) = env::var_os("ACT_PHASE").filter(|p| !p.is_empty()) {
            return Some(p.to_string_lossy().into_owned());
        }
        called_as
            .strip_suffix(".sh")
            .unwrap_or(called_as)
            .strip_prefix("gcbdr-")
            .map(str::to_string)
    }

    /// The job is in `ACT_*` variables, not in the arguments (a phase, or nothing).
    fn hook_args(&self, _rest: &[OsString]) -> Result<Option<HookJob>, String> {
        let id = field("ACT_JOBNAME");
        let more: Vec<String> = [("type", "ACT_JOBTYPE"), ("app", "ACT_APPNAME")]
            .into_iter()
            .filter_map(|(k, var)| field(var).map(|v| format!("{k} {v}")))
            .collect();
        Ok((id.is_some() || !more.is_empty()).then(|| HookJob {
            id,
            attempt: None,
            more: more.join(", "),
        }))
    }

    fn next_steps(&self, given: &Given) -> Vec<String> {
        let need = hook_seconds(given.timeout);
        vec![
            format!(
                "In the Backup and DR backup template (or the application's details & \
                 settings), under scripts, name these (in /act/scripts), each with a timeout \
                 of at least {need} s:\n       \
                 INIT:  gcbdr-init.sh   (does nothing; optional)\n       \
                 PRE:   gcbdr-pre.sh    (freeze)\n       \
                 POST:  gcbdr-post.sh   (thaw)\n       \
                 FINAL: gcbdr-final.sh  (thaw if still frozen)\n       \
                 ABORT: gcbdr-abort.sh  (thaw)"
            ),
            "A legacy /act/scripts/appid.<ID>.sh, called with init, freeze, thaw, abort or \
             fini, may run `exec iris-freeze gcbdr \"$1\"` (with the binary's full path). Backup plans for Compute Engine VMs \
             with guestFlush use the gcp hooks instead (`iris-freeze install gcp`)."
                .into(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_phase_comes_from_the_name_without_an_argument() {
        // ACT_PHASE is not set in unit tests.
        assert_eq!(
            Gcbdr.phase_otherwise("gcbdr-pre.sh").as_deref(),
            Some("pre")
        );
        assert_eq!(
            Gcbdr.phase_otherwise("gcbdr-abort").as_deref(),
            Some("abort")
        );
        assert_eq!(Gcbdr.phase_otherwise("iris-freeze"), None);
    }
}
