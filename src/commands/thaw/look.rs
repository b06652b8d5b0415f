//! A look at what IRIS says is suspended, when nothing of ours is recorded or the state is
//! damaged: named, with the command that thaws it, and never thawed.

use std::time::Instant;

use crate::commands::thaw::Notes;
use crate::config::Config;
use crate::host::eventlog::EventLog;
use crate::host::process::Stop;
use crate::iris::backup::{self, Answer};
use crate::iris::discovery::{self, Tools};

/// With nothing of ours recorded, what IRIS says is suspended all the same (a freeze made with
/// another state dir, or by another tool) is named, with the command that thaws it, and never
/// thawed. Warning when anything is.
pub(super) fn look_for_suspended(cfg: &Config, log: &EventLog, notes: &mut Notes) {
    let suspended = suspended_now(cfg, log);
    if suspended.is_empty() {
        return;
    }
    for name in &suspended {
        log.warn(
            Some(name),
            "suspended",
            format!(
                "{name} is suspended, but no freeze of it by iris-freeze is recorded here (frozen \
                 by another tool, or with another --state-dir): left alone; if it should be \
                 thawed, run `iris-freeze thaw --instance {name}`"
            ),
        );
    }
    notes.warn(format!(
        "nothing of ours to thaw, but {} is suspended (not recorded by iris-freeze here): run \
         `{}` if it should be thawed (exit 2)",
        suspended.join(", "),
        thaw_command(&suspended)
    ));
}

/// The command that thaws exactly these instances, to copy and paste.
fn thaw_command(names: &[String]) -> String {
    names.iter().fold("iris-freeze thaw".to_string(), |cmd, n| {
        format!("{cmd} --instance {n}")
    })
}

/// The running instances IRIS says are suspended. No freeze window is at stake when this runs.
pub(super) fn suspended_now(cfg: &Config, log: &EventLog) -> Vec<String> {
    let deadline = Instant::now() + cfg.timeout / 2;
    let tools = match Tools::find(&cfg.bin_dirs) {
        Ok(t) => t,
        Err(e) => {
            log.warn(
                None,
                "look",
                format!("cannot look for suspended instances: {e:#}"),
            );
            return Vec::new();
        }
    };
    let listing = discovery::list(&tools, deadline);
    let credentials = cfg.credentials.as_ref();
    backup::ask_suspended(&listing, &tools, credentials, deadline, Stop::Never)
        .into_iter()
        .flatten()
        .filter(|s| s.answer == Answer::Yes)
        .map(|s| s.target.name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::thaw_command;

    #[test]
    fn the_thaw_command_names_each_suspended_instance() {
        let names = ["IRIS".to_string(), "HS".to_string()];
        assert_eq!(
            thaw_command(&names),
            "iris-freeze thaw --instance IRIS --instance HS"
        );
    }
}
