//! A seeded chaos soak: cycles of freezes and thaws against the simulator, each cycle drawn
//! from the seed (`chaos/plan.rs`): random faults on each IRIS call, SIGKILL and SIGTERM to
//! freeze, thaw and the watchdog at random points, thaws that never come, double freezes, and
//! every setting given by flag, variable or config file. After each cycle (`chaos/cycle.rs`):
//! exit codes only 0/1/2 (or the signal sent); freeze 0 ⇒ every target frozen and thaw 0 ⇒ none,
//! as the simulator says; nothing frozen after `--max-freeze` plus a grace unless the watchdog
//! was killed; a plain thaw with the faults gone thaws everything; every log line one event,
//! every history line one JSON event; the password nowhere; nothing written outside the
//! cycle's scratch dir (`chaos/checks.rs`).
//!
//! The seed is printed first and with every failure. Environment:
//! `IRIS_FREEZE_CHAOS_SEED=N` replays a soak, `IRIS_FREEZE_CHAOS_CYCLE=N` only that cycle of it;
//! `IRIS_FREEZE_CHAOS_SECS=N` (default 40) how long cycles keep starting;
//! `IRIS_FREEZE_CHAOS_JOBS=N` (default 3) how many run at once; `IRIS_FREEZE_CHAOS_VERBOSE=1`
//! prints every cycle's plan, runs and logs (with `-- --nocapture`).

mod checks;
mod cycle;
mod host;
mod plan;
mod procs;
mod rng;
mod runs;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::common;
use plan::Plan;

fn var(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    Some(
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
    )
}

#[test]
fn chaos_soak() {
    let seed = var("IRIS_FREEZE_CHAOS_SEED").unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            % 1_000_000_000
    });
    let secs = var("IRIS_FREEZE_CHAOS_SECS").unwrap_or(40);
    let jobs = var("IRIS_FREEZE_CHAOS_JOBS").unwrap_or(3).max(1);
    let only = var("IRIS_FREEZE_CHAOS_CYCLE");
    println!(
        "chaos soak: seed {seed} (replay: IRIS_FREEZE_CHAOS_SEED={seed} \
         cargo test --test it -- chaos::), {secs} s, {jobs} at once"
    );
    common::simulator();
    let outside = checks::snapshot();
    let until = Instant::now() + Duration::from_secs(secs);
    let next = AtomicU64::new(only.unwrap_or(0));
    let failures = Mutex::new(Vec::new());
    let done = AtomicU64::new(0);
    thread::scope(|s| {
        for _ in 0..if only.is_some() { 1 } else { jobs } {
            s.spawn(|| {
                while Instant::now() < until && failures.lock().unwrap().is_empty() {
                    let cycle = next.fetch_add(1, Ordering::SeqCst);
                    if only.is_some_and(|o| o != cycle) {
                        break;
                    }
                    let plan = Plan::draw(seed, cycle);
                    if let Err(report) = cycle::run(&plan, &outside) {
                        failures.lock().unwrap().push(report);
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    println!(
        "chaos soak: seed {seed}: {} cycles, {} failed",
        done.load(Ordering::SeqCst),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "chaos soak, seed {seed}: {} cycle(s) broke an invariant\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
