//! Step 2 of a freeze: record what this run will freeze and arm the watchdog, before the first
//! ExternalFreeze. Whatever happens next (even a SIGKILL of this process), `thaw` and the
//! watchdog know what may be frozen.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::commands::freeze::classify::Classes;
use crate::commands::state::{Phase, Record, State, StateFile, Watchdog};
use crate::commands::watchdog;
use crate::config::Config;
use crate::host::eventlog::EventLog;
use crate::host::state::{StateDir, now_ms, rfc3339_of_ms};
use crate::iris::backup::IRIS_BLOCKS_AFTER;
use crate::iris::backup::Target;

/// A re-armed watchdog is never due later than this after the oldest freeze still in place.
const REARM_CAP: Duration = Duration::from_secs(IRIS_BLOCKS_AFTER.as_secs() - 10);

/// Records each instance to freeze as `freezing`, then arms the watchdog. Returns when it is
/// due.
pub(super) fn record_and_arm(
    cfg: &Config,
    states: &StateDir,
    state: &mut State,
    classes: &Classes,
    log: &EventLog,
) -> Result<Instant> {
    for (t, kind) in &classes.to_freeze {
        let mut rec = Record::new(*kind, t.session.clone(), Phase::Freezing);
        rec.emergency = t.emergency.clone();
        rec.sharded = t.sharded.clone();
        state.instances.insert(t.name.clone(), rec);
    }
    arm_watchdog(cfg, states, state, &classes.keep, log)
}

/// Arms a new watchdog (disarming any earlier one by replacing its token), due at [`due_ms`].
/// Returns when it is due.
fn arm_watchdog(
    cfg: &Config,
    states: &StateDir,
    state: &mut State,
    kept: &[Target],
    log: &EventLog,
) -> Result<Instant> {
    let now = now_ms();
    let oldest = oldest_kept_secs(state, kept);
    let due = due_ms(now, cfg.max_freeze, oldest);
    let due_at = Instant::now() + Duration::from_millis((due - now).max(0) as u64);
    let token = watchdog::new_token();
    let previous = state.watchdog.clone();
    // The state names the token before the watchdog starts: it treats a missing token as
    // "disarmed" and leaves. The earlier arming stays in force (handed over) until then.
    state.handover.extend(previous.clone());
    state.watchdog = Some(Watchdog {
        token: token.clone(),
        pid: 0,
        deadline: rfc3339_of_ms(due),
        deadline_ms: due,
        how: "starting".into(),
        start_ticks: None,
    });
    states.save(state)?;
    // Its plan: every instance recorded (this run's and any earlier freeze's still in place),
    // each with the programs the freeze found and checked.
    match watchdog::spawn(cfg, &token, due, &state.instances) {
        Ok(w) => {
            log_armed(&w, oldest, log);
            state.watchdog = Some(w);
            state.handover.clear();
            states.save(state)?;
            Ok(due_at)
        }
        Err(e) => {
            forget_intent(states, state, previous);
            bail!(
                "cannot arm the auto-thaw watchdog, so nothing was frozen (a freeze without it \
                 could stay frozen forever): {e:#}"
            )
        }
    }
}

/// How long ago the oldest freeze of ours among this run's targets (`kept`) began, in seconds;
/// 0 when there is none. A record of another instance does not count.
fn oldest_kept_secs(state: &State, kept: &[Target]) -> f64 {
    kept.iter()
        .filter_map(|t| state.instances.get(&t.name))
        .filter(|r| r.phase == Phase::Frozen)
        .filter_map(|r| r.age_secs())
        .fold(0.0_f64, f64::max)
}

/// When the watchdog is due, in unix ms: `max_freeze` from `now`, but never later than
/// [`REARM_CAP`] after the oldest freeze kept (`oldest` seconds old), and never before `now`.
fn due_ms(now: i64, max_freeze: Duration, oldest: f64) -> i64 {
    let due = now + max_freeze.as_millis() as i64;
    if oldest <= 0.0 {
        return due;
    }
    let cap = now - (oldest * 1000.0) as i64 + REARM_CAP.as_millis() as i64;
    due.min(cap.max(now))
}

fn log_armed(w: &Watchdog, oldest: f64, log: &EventLog) {
    log.info(
        None,
        "watchdog",
        format!(
            "watchdog armed: thaws at {} unless `thaw` comes first (pid {}, {}){}",
            w.deadline,
            w.pid,
            w.how,
            if oldest > 0.0 {
                format!("; re-armed for a freeze {oldest:.0}s old")
            } else {
                String::new()
            }
        ),
    );
}

/// The watchdog could not start: nothing will be frozen, so this run's `freezing` records go,
/// and an earlier freeze of ours keeps its own watchdog (`previous`).
fn forget_intent(states: &StateDir, state: &mut State, previous: Option<Watchdog>) {
    state.watchdog = previous;
    state.handover.clear();
    state.instances.retain(|_, r| r.phase != Phase::Freezing);
    let _ = states.save(state);
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn a_first_freeze_is_due_max_freeze_from_now() {
        assert_eq!(due_ms(NOW, Duration::from_secs(300), 0.0), NOW + 300_000);
    }

    #[test]
    fn a_kept_freeze_caps_the_deadline_but_never_before_now() {
        let cap = REARM_CAP.as_millis() as i64;
        // 100 s old: due at the cap after it, sooner than max-freeze from now.
        assert_eq!(
            due_ms(NOW, Duration::from_secs(3600), 100.0),
            NOW - 100_000 + cap
        );
        // A short max-freeze still wins.
        assert_eq!(due_ms(NOW, Duration::from_secs(5), 100.0), NOW + 5_000);
        // Older than the cap: due now, never in the past.
        let old = REARM_CAP.as_secs_f64() + 50.0;
        assert_eq!(due_ms(NOW, Duration::from_secs(300), old), NOW);
    }
}
