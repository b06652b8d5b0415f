//! The processes a cycle leaves behind: its watchdogs (found by their command line, which
//! names the cycle's state dir) and the simulator calls still running (from the call log).

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::common::{self, Env};

/// The live watchdogs of the cycle whose scratch dir is `scratch`.
pub fn watchdogs(scratch: &Path) -> Vec<i32> {
    let scratch = scratch.display().to_string();
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| {
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
            args.first().is_some_and(|a| a.ends_with(b"iris-freeze"))
                && args.iter().any(|a| *a == b"__watchdog")
                && args.iter().any(|a| a.starts_with(scratch.as_bytes()))
                && common::alive(pid)
        })
        .collect()
}

pub fn signal(pid: i32, sig: Signal) {
    let _ = kill(Pid::from_raw(pid), sig);
}

/// Kills the cycle's watchdogs and waits until they are gone (they are not our children).
pub fn kill_watchdogs(scratch: &Path) {
    for pid in watchdogs(scratch) {
        signal(pid, Signal::SIGKILL);
    }
    common::wait_until(Duration::from_secs(30), || watchdogs(scratch).is_empty());
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A simulator call that started and has not exited: (pid, start in unix ms).
fn live_calls(env: &Env) -> Vec<(i32, u64)> {
    let lines = env.call_lines();
    let mut started: Vec<(i32, u64)> = Vec::new();
    for l in &lines {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() < 5 {
            continue;
        }
        let (Ok(ms), Ok(pid)) = (f[0].parse::<u64>(), f[1].parse::<i32>()) else {
            continue;
        };
        if f[4] == "start" {
            started.push((pid, ms));
        } else {
            started.retain(|(p, _)| *p != pid);
        }
    }
    // Never a pid reused by someone else's process: the call runs a program of this scratch dir.
    let scratch = env.tmp.path().display().to_string();
    started
        .into_iter()
        .filter(|(pid, _)| {
            common::alive(*pid)
                && String::from_utf8_lossy(
                    &fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default(),
                )
                .contains(&scratch)
        })
        .collect()
}

/// A live simulator call young enough to still change the state (a `slow:` fault sleeping);
/// older ones hang for good.
pub fn young_calls(env: &Env, slowest_ms: u64) -> usize {
    let now = now_ms();
    live_calls(env)
        .iter()
        .filter(|(_, at)| now.saturating_sub(*at) < slowest_ms + 1000)
        .count()
}

/// Kills every simulator call still running (hung ones, whose caller was killed).
pub fn kill_calls(env: &Env) {
    for (pid, _) in live_calls(env) {
        signal(pid, Signal::SIGKILL);
    }
    common::wait_until(Duration::from_secs(30), || live_calls(env).is_empty());
}

/// Whether a thaw or emergency resume of `name` that started before `since_ms` was still
/// running then: a killed thaw's calls run to their end by design, and may land after a freeze
/// that came next.
pub fn thaw_in_flight(env: &Env, name: &str, since_ms: u64) -> bool {
    let lines = env.call_lines();
    let fields: Vec<Vec<&str>> = lines
        .iter()
        .map(|l| l.split_whitespace().collect())
        .filter(|f: &Vec<&str>| f.len() >= 5 && f[2] == name && (f[3] == "thaw" || f[3] == "stat"))
        .collect();
    fields.iter().any(|f| {
        let started = f[0].parse::<u64>().unwrap_or(u64::MAX);
        let ended = fields
            .iter()
            .find(|e| e[1] == f[1] && e[4] != "start")
            .and_then(|e| e[0].parse::<u64>().ok());
        f[4] == "start" && started < since_ms && ended.is_none_or(|e| e >= since_ms)
    })
}
