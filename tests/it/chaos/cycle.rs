//! One cycle: its runs, the kill of its watchdog, the wait for `--max-freeze` plus a grace, the
//! invariants, and a recovery with the faults gone. Returns what broke, with everything needed
//! to read and replay it.

use std::fs;
use std::thread;
use std::time::{Duration, Instant};

use super::checks::{self, Snapshot};
use super::host::Host;
use super::plan::{Call, ConfigAt, Op, Plan, SLOWEST_MS, Setting, Step, Way};
use super::procs::{self, now_ms};
use super::runs::{self, Ran, tail};
use crate::common;

/// What a failed freeze's summary says when it leaves nothing frozen.
const NOTHING_LEFT: &str = "nothing left frozen";

/// After `--max-freeze`, how long the watchdog may take to thaw: the host lock (10 s), the
/// thaw and its check (1.5 × --timeout), the emergency resume and its check (10 s each), the
/// kill grace of a hung call, and room for a loaded machine.
fn grace(plan: &Plan) -> Duration {
    Duration::from_millis(10_000 + plan.timeout_ms * 3 / 2 + 24_000 + 30_000)
}

/// Runs `plan`; `Err` is the failure report.
pub fn run(plan: &Plan, outside: &Snapshot) -> Result<(), String> {
    let host = Host::new(plan);
    let mut c = Cycle {
        plan,
        host: &host,
        ran: Vec::new(),
        broken: Vec::new(),
        last_freeze_ms: None,
    };
    let killer = watchdog_killer(plan, &host);
    for step in &plan.steps {
        c.step(step);
    }
    let watchdog_killed = killer.join().unwrap();
    c.wait_for_the_watchdog(watchdog_killed);
    c.recover();
    c.final_checks(outside);
    if std::env::var_os("IRIS_FREEZE_CHAOS_VERBOSE").is_some() {
        println!("{}", c.report());
    }
    if c.broken.is_empty() {
        Ok(())
    } else {
        Err(c.report())
    }
}

struct Cycle<'a> {
    plan: &'a Plan,
    host: &'a Host,
    ran: Vec<Ran>,
    broken: Vec<String>,
    /// When the last freeze started (unix ms).
    last_freeze_ms: Option<u64>,
}

impl Cycle<'_> {
    fn step(&mut self, step: &Step) {
        match step {
            Step::Pause(ms) => thread::sleep(Duration::from_millis(*ms)),
            Step::One(call) => {
                let r = runs::one(self.host, self.plan, call);
                self.ended(&r);
                match (r.op, r.code()) {
                    (Op::Freeze, Some(0)) => self.all_frozen(&r, r.started_ms),
                    (Op::Thaw, Some(0)) => self.none_frozen(&r, "thaw exited 0"),
                    (Op::Freeze, Some(1)) if r.stdout.contains(NOTHING_LEFT) => {
                        self.none_frozen(&r, "a failed freeze said \"nothing left frozen\"")
                    }
                    _ => {}
                }
                self.ran.push(r);
            }
            Step::Together(a, after, b) => {
                let (ra, rb) = runs::together(self.host, self.plan, a, *after, b);
                self.ended(&ra);
                self.ended(&rb);
                match (rb.op, ra.code(), rb.code()) {
                    // A thaw that says it thawed wins over a freeze it overlapped.
                    (Op::Thaw, _, Some(0)) => self.none_frozen(&rb, "thaw exited 0"),
                    (Op::Freeze, Some(0), Some(0)) => self.all_frozen(&rb, ra.started_ms),
                    _ => {}
                }
                self.ran.push(ra);
                self.ran.push(rb);
            }
        }
    }

    /// Exit codes 0/1/2 only, or the signal we sent.
    fn ended(&mut self, r: &Ran) {
        if r.op == Op::Freeze {
            self.last_freeze_ms = Some(r.started_ms);
        }
        if !r.exit_ok() {
            self.broken
                .push(format!("exit code outside 0/1/2:\n{}", r.describe()));
        }
    }

    /// Freeze exit 0: every target frozen, as the simulator says; only the watchdog, once
    /// due (never before `--max-freeze` after the freeze started), or the call of a thaw we
    /// killed before, may have thawed since.
    fn all_frozen(&mut self, r: &Ran, started_ms: u64) {
        let env = &self.host.env;
        let thawed: Vec<String> = self
            .plan
            .targets()
            .into_iter()
            .filter(|n| !env.frozen(n) && !procs::thaw_in_flight(env, n, started_ms))
            .collect();
        let watchdog_due = now_ms() >= started_ms + self.plan.max_freeze_ms;
        if !thawed.is_empty() && !watchdog_due {
            self.broken.push(format!(
                "freeze exited 0 but {thawed:?} is not frozen:\n{}",
                r.describe()
            ));
        }
    }

    /// Thaw exit 0, or a failed freeze that says so: nothing frozen.
    fn none_frozen(&mut self, r: &Ran, what: &str) {
        let frozen = self.host.frozen(self.plan);
        if !frozen.is_empty() {
            self.broken.push(format!(
                "{what} but {frozen:?} is still frozen:\n{}",
                r.describe()
            ));
        }
    }

    /// Waits until the cycle's watchdogs are gone, nothing is frozen (unless we killed the
    /// watchdog) and no simulator call can still change anything; then nothing may be frozen
    /// unless the watchdog said loudly that it could not thaw it, and no fault left it a way.
    fn wait_for_the_watchdog(&mut self, watchdog_killed: bool) {
        let scratch = self.host.scratch();
        let env = &self.host.env;
        let deadline = self.last_freeze_ms.unwrap_or_else(now_ms)
            + self.plan.max_freeze_ms
            + grace(self.plan).as_millis() as u64;
        let settled = || {
            procs::watchdogs(scratch).is_empty()
                && (watchdog_killed || self.host.frozen(self.plan).is_empty())
                && procs::young_calls(env, SLOWEST_MS) == 0
        };
        while !settled() && now_ms() < deadline {
            thread::sleep(Duration::from_millis(50));
        }
        let left = procs::watchdogs(scratch);
        if !left.is_empty() {
            self.broken.push(format!(
                "watchdog {left:?} still running {} s after --max-freeze",
                grace(self.plan).as_secs()
            ));
            procs::kill_watchdogs(scratch);
        }
        if watchdog_killed {
            return;
        }
        let logs = self.log_text();
        for name in self.host.frozen(self.plan) {
            let said = logs
                .lines()
                .any(|l| l.contains("MAY STILL BE FROZEN") && l.contains(&name));
            if !(said && self.plan.resume_can_fail(&name)) {
                self.broken.push(format!(
                    "{name} still frozen {} s after --max-freeze (the watchdog was not killed)",
                    grace(self.plan).as_secs()
                ));
            }
        }
    }

    /// What a person does next: the faults fixed, a plain thaw. It must leave nothing frozen.
    fn recover(&mut self) {
        let env = &self.host.env;
        procs::kill_calls(env);
        self.host.clear_faults(self.plan);
        let call = recovery_call(self.plan);
        let r = runs::one(self.host, self.plan, &call);
        if !r.exit_ok() {
            self.broken.push(format!(
                "recovery thaw: exit code outside 0/1/2:\n{}",
                r.describe()
            ));
        }
        let frozen = self.host.frozen(self.plan);
        if !frozen.is_empty() {
            self.broken.push(format!(
                "a plain thaw with no faults left {frozen:?} frozen:\n{}",
                r.describe()
            ));
        }
        self.ran.push(r);
        for name in frozen {
            env.thaw_externally(&name);
        }
        procs::kill_calls(env);
    }

    fn final_checks(&mut self, outside: &Snapshot) {
        let scratch = self.host.scratch();
        let sim = &self.host.env.sim;
        self.broken.extend(checks::logs(scratch, sim));
        self.broken
            .extend(checks::history(&self.host.env.history()));
        let creds = scratch.join("cfg/credentials");
        let secret = &self.host.password;
        self.broken
            .extend(checks::secret_in_files(scratch, sim, &creds, secret));
        for r in &self.ran {
            if r.stdout.contains(secret) || r.stderr.contains(secret) {
                self.broken
                    .push(format!("the password in the output of {}", r.what));
            }
        }
        self.broken
            .extend(checks::changed(outside, &checks::snapshot()));
    }

    fn log_text(&self) -> String {
        let scratch = self.host.scratch();
        checks::files(scratch, &self.host.env.sim)
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "log"))
            .map(|p| fs::read_to_string(p).unwrap_or_default())
            .collect()
    }

    fn report(&self) -> String {
        let mut out = format!("{}\nBROKEN:\n", self.plan);
        for b in &self.broken {
            out.push_str(&format!("- {b}\n"));
        }
        out.push_str("\nRUNS:\n");
        for r in &self.ran {
            out.push_str(&r.describe());
            out.push('\n');
        }
        out.push_str(&format!(
            "\nLOGS (last lines):\n{}",
            tail(&self.log_text(), 80)
        ));
        let calls = self.host.env.call_lines().join("\n");
        out.push_str(&format!("\nSIMULATOR CALLS:\n{}", tail(&calls, 60)));
        out
    }
}

/// Every setting by its variable, the config file under the root.
fn recovery_call(plan: &Plan) -> Call {
    let mut ways = vec![
        (Setting::StateDir, Way::Env),
        (Setting::LogFile, Way::Env),
        (Setting::HistoryFile, Way::Env),
        (Setting::Timeout, Way::Env),
    ];
    if !plan.bin_on_path {
        ways.push((Setting::BinDirs, Way::Env));
    }
    Call {
        op: Op::Thaw,
        config_at: ConfigAt::RootEnv,
        ways,
        kill: None,
    }
}

/// A thread that sends the plan's signal to the cycle's watchdogs at its time; it answers
/// whether it found one to kill.
fn watchdog_killer(plan: &Plan, host: &Host) -> thread::JoinHandle<bool> {
    let kill = plan.watchdog_kill;
    let scratch = host.scratch().to_path_buf();
    let started = Instant::now();
    thread::spawn(move || {
        let Some(k) = kill else {
            return false;
        };
        let at = started + Duration::from_millis(k.after_ms);
        thread::sleep(at.saturating_duration_since(Instant::now()));
        let pids = procs::watchdogs(&scratch);
        for &pid in &pids {
            procs::signal(pid, k.signal);
        }
        // Gone, not only signalled: the wait that follows must not count them alive.
        common::wait_until(Duration::from_secs(10), || {
            pids.iter().all(|&p| !common::alive(p))
        });
        !pids.is_empty()
    })
}
