//! `thaw`: thaw exactly what our freeze recorded, straight from the state (every millisecond
//! before ExternalThaw is freeze window), then confirm; or thaw the named instances.

use std::time::Instant;

use anyhow::Result;

use crate::backup::{self, Target, Thawed};
use crate::config::Config;
use crate::discovery::{self, Tools};
use crate::eventlog::EventLog;
use crate::exit_code::Exit;
use crate::report::Report;
use crate::state::StateDir;

pub fn run(cfg: &Config, log: &EventLog) -> Result<Report> {
    let start = Instant::now();
    let states = StateDir::open(&cfg.state_dir)?;
    let mut state = states.load()?;

    let targets: Vec<Target> = if cfg.instances.is_empty() {
        if state.instances.is_empty() {
            log.info(
                None,
                "nothing",
                "nothing to thaw: no freeze by iris-freeze is recorded",
            );
            return Ok(Report::new(Exit::Success, "nothing to thaw"));
        }
        state
            .instances
            .iter()
            .map(|(name, rec)| Target {
                name: name.clone(),
                session: rec.session.clone(),
            })
            .collect()
    } else {
        named_targets(cfg, log)?
    };
    if targets.is_empty() {
        return Ok(Report::new(
            Exit::Success,
            "nothing to thaw: the named instances are down",
        ));
    }

    let thaw_by = start + cfg.timeout / 2;
    let confirm_by = start + cfg.timeout * 5 / 6;
    let results = backup::each(&targets, |t| {
        backup::thaw_and_confirm(t, thaw_by, confirm_by, log)
    });

    let mut thawed = Vec::new();
    let mut left = Vec::new();
    for (t, r) in targets.iter().zip(results) {
        if r != Thawed::Confirmed {
            left.push(t.name.clone());
            continue;
        }
        // Case-insensitive: a name given with --instance may differ in case from the record.
        let key = state
            .instances
            .keys()
            .find(|k| k.eq_ignore_ascii_case(&t.name))
            .cloned();
        if let Some(rec) = key.and_then(|k| state.instances.remove(&k)) {
            let secs = rec.age_secs().unwrap_or(0.0);
            log.info(
                Some(&t.name),
                "duration",
                format!(
                    "was frozen by iris-freeze for {secs:.3}s (since {})",
                    rec.since
                ),
            );
        }
        thawed.push(t.name.clone());
    }
    if let Err(e) = states.save(&state) {
        log.error(None, "state", format!("{e:#}"));
    }
    let took = start.elapsed().as_secs_f64();
    if left.is_empty() {
        return Ok(Report::new(
            Exit::Success,
            format!("thawed: {} ({took:.2}s)", thawed.join(", ")),
        ));
    }
    let names = left.join(", ");
    log.error(
        None,
        "failed",
        format!(
            "ATTENTION: {names} MAY STILL BE FROZEN: users will block once the global buffers \
             fill or ExternalFreezeTimeOut passes. Run `iris-freeze thaw` again, check with \
             `iris-freeze status`, and as a last resort run `iris stat NAME -W` (IRIS)"
        ),
    );
    Ok(Report::new(
        Exit::Failure,
        format!("thaw FAILED: {names} MAY STILL BE FROZEN (see the log) (exit 1)"),
    ))
}

/// `thaw --instance`: thaw those instances whatever the state says.
fn named_targets(cfg: &Config, log: &EventLog) -> Result<Vec<Target>> {
    let tools = Tools::find(&cfg.bin_dirs)?;
    let listing = discovery::list(&tools, Instant::now() + cfg.timeout / 4);
    let selection = discovery::select(&cfg.instances, &listing, &tools)?;
    for inst in &selection.down {
        log.warn(
            Some(&inst.name),
            "skipped",
            format!("{} is {}: nothing to thaw", inst.name, inst.status),
        );
    }
    // Up but not accepting logins may be our freeze's doing: ExternalThaw skips the login.
    Ok(selection
        .targets
        .into_iter()
        .chain(selection.unavailable)
        .map(|(i, session)| Target {
            name: i.name,
            session,
        })
        .collect())
}
