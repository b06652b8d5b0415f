//! One cycle of the soak, drawn from its seed: the host (instances, programs, credentials), how
//! each setting is given to each run (flag, environment, config file), the faults of each IRIS
//! call, the runs (freezes, thaws, both at once, kills) and the kill of the watchdog. Printed
//! in full with every failure, so that it can be read and replayed.

use std::fmt;

use nix::sys::signal::Signal;

use super::rng::Rng;

/// The longest `slow:MS` fault: a simulator call younger than this may still change the state.
pub const SLOWEST_MS: u64 = 3000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    Iris,
    Cache,
}

#[derive(Debug, Clone)]
pub struct Instance {
    pub name: String,
    pub product: Product,
    pub down: bool,
}

/// The settings a run is given, each by one way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    StateDir,
    LogFile,
    HistoryFile,
    MetricsFile,
    BinDirs,
    MaxFreeze,
    Timeout,
    Instances,
}

const SETTINGS: [Setting; 8] = [
    Setting::StateDir,
    Setting::LogFile,
    Setting::HistoryFile,
    Setting::MetricsFile,
    Setting::BinDirs,
    Setting::MaxFreeze,
    Setting::Timeout,
    Setting::Instances,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    Flag,
    Env,
    /// The config file only.
    File,
}

/// How a run finds the config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigAt {
    Flag,
    Env,
    /// `<root>/etc/iris-freeze.toml`, the root from `IRIS_FREEZE_ROOT`.
    RootEnv,
    /// The same, the root from `--root`.
    RootFlag,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Freeze,
    Thaw,
}

#[derive(Debug, Clone, Copy)]
pub struct Kill {
    pub signal: Signal,
    pub after_ms: u64,
}

/// One run of iris-freeze.
#[derive(Debug, Clone)]
pub struct Call {
    pub op: Op,
    pub config_at: ConfigAt,
    pub ways: Vec<(Setting, Way)>,
    pub kill: Option<Kill>,
}

#[derive(Debug, Clone)]
pub enum Step {
    One(Call),
    /// The second run starts `after_ms` after the first, while it may still run.
    Together(Call, u64, Call),
    Pause(u64),
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub seed: u64,
    pub cycle: u64,
    pub instances: Vec<Instance>,
    pub csession: bool,
    pub bin_on_path: bool,
    /// The settings the config file holds (a flag or variable may still give them too).
    pub in_config: Vec<Setting>,
    /// The freeze's targets by name; none: every running instance.
    pub named: Option<Vec<String>>,
    pub credentials: bool,
    pub max_freeze_ms: u64,
    pub timeout_ms: u64,
    /// `(instance or "-", "CALL=SPEC")`.
    pub faults: Vec<(String, String)>,
    pub steps: Vec<Step>,
    /// The watchdog(s) of the cycle are sent this signal, counted from the first run.
    pub watchdog_kill: Option<Kill>,
}

impl Plan {
    pub fn draw(seed: u64, cycle: u64) -> Plan {
        let mut r = Rng::for_cycle(seed, cycle);
        let instances = instances(&mut r);
        let bin_on_path = r.chance(40);
        let in_config: Vec<Setting> = SETTINGS
            .iter()
            .copied()
            .filter(|s| !(bin_on_path && *s == Setting::BinDirs))
            .filter(|_| r.chance(40))
            .collect();
        let running: Vec<String> = instances
            .iter()
            .filter(|i| !i.down)
            .map(|i| i.name.clone())
            .collect();
        let named = r.chance(30).then(|| {
            let some: Vec<String> = running.iter().filter(|_| r.chance(60)).cloned().collect();
            if some.is_empty() {
                running.clone()
            } else {
                some
            }
        });
        let mut plan = Plan {
            seed,
            cycle,
            csession: r.chance(70),
            bin_on_path,
            in_config,
            named,
            credentials: r.chance(50),
            max_freeze_ms: *r.pick(&[2000, 2500, 3000, 4000]),
            timeout_ms: *r.pick(&[2000, 3000, 5000, 8000]),
            faults: Vec::new(),
            steps: Vec::new(),
            watchdog_kill: None,
            instances,
        };
        plan.faults = faults(&mut r, &running);
        plan.steps = steps(&mut r, &plan);
        plan.watchdog_kill = r.chance(15).then(|| Kill {
            signal: *r.pick(&[Signal::SIGKILL, Signal::SIGTERM]),
            after_ms: r.range(0, plan.max_freeze_ms + 1500),
        });
        plan
    }

    pub fn running(&self) -> Vec<String> {
        self.instances
            .iter()
            .filter(|i| !i.down)
            .map(|i| i.name.clone())
            .collect()
    }

    /// What a freeze freezes.
    pub fn targets(&self) -> Vec<String> {
        self.named.clone().unwrap_or_else(|| self.running())
    }

    /// A fault that can make the emergency resume of `name` fail: with one on ExternalThaw too,
    /// no way is left to thaw it, and only saying so loudly is right.
    pub fn resume_can_fail(&self, name: &str) -> bool {
        let on = |call: &str| {
            self.faults
                .iter()
                .any(|(n, f)| n == name && f.starts_with(&format!("{call}=")))
        };
        on("stat") && on("thaw")
    }

    pub fn replay(&self) -> String {
        format!(
            "IRIS_FREEZE_CHAOS_SEED={} IRIS_FREEZE_CHAOS_CYCLE={} cargo test --test it -- chaos::",
            self.seed, self.cycle
        )
    }
}

fn instances(r: &mut Rng) -> Vec<Instance> {
    let mut out = vec![Instance {
        name: "IRIS".into(),
        product: Product::Iris,
        down: false,
    }];
    if r.chance(50) {
        out.push(Instance {
            name: "CACHE".into(),
            product: Product::Cache,
            down: false,
        });
    }
    if r.chance(30) {
        out.push(Instance {
            name: "HS".into(),
            product: Product::Iris,
            down: r.chance(50),
        });
    }
    out
}

/// What each IRIS call may do instead of its normal answer. Never an exit code IRIS gives a
/// meaning (3, 5) with a lie: a simulator that lies about the write daemon is not a fault of
/// ours. `silent:3` (nothing printed, nothing changed) is the truth for ExternalFreeze and
/// ExternalThaw ("failed") and no answer for the check.
const SESSION_FAULTS: &[(u64, &str)] = &[
    (3, "fail"),
    (1, "silent:3"),
    (2, "hang"),
    (1, "hang-ignore-term"),
    (2, "login"),
    (1, "login-hang"),
    (2, "crash"),
    (1, "crash:TERM"),
    (1, "exit:0"),
    (1, "exit:1"),
    (1, "exit:4"),
    (2, "then-hang"),
    (1, "then-crash"),
    (1, "then-exit:1"),
    (1, "then-exit:4"),
    (3, "slow"),
    (1, "huge:200000"),
    (1, "grandchild:2"),
    (2, "binary"),
    (1, "echo-input"),
];

const STAT_FAULTS: &[(u64, &str)] = &[
    (3, "fail"),
    (1, "hang"),
    (1, "crash"),
    (1, "exit:1"),
    (1, "then-crash"),
    (2, "slow"),
    (1, "binary"),
];

const QLIST_FAULTS: &[(u64, &str)] = &[
    (2, "fail"),
    (1, "hang"),
    (2, "slow"),
    (1, "binary"),
    (1, "huge:200000"),
    (1, "crash"),
];

fn faults(r: &mut Rng, running: &[String]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for name in running {
        if !r.chance(60) {
            continue;
        }
        for _ in 0..r.range(1, 3) {
            let call = *r.weighted(&[(3, "freeze"), (3, "thaw"), (2, "check"), (1, "stat")]);
            let table = if call == "stat" {
                STAT_FAULTS
            } else {
                SESSION_FAULTS
            };
            out.push((name.clone(), line(r, call, table)));
        }
    }
    if r.chance(15) {
        let call = *r.pick(&["iris-qlist", "ccontrol-qlist"]);
        out.push(("-".into(), line(r, call, QLIST_FAULTS)));
    }
    out
}

fn line(r: &mut Rng, call: &str, table: &[(u64, &str)]) -> String {
    let mut kind = r.weighted(table).to_string();
    if kind == "slow" {
        kind = format!("slow:{}", r.pick(&[100, 400, 1200, SLOWEST_MS]));
    }
    match r.weighted(&[(4, Some(1)), (3, Some(2)), (3, None)]) {
        Some(n) => format!("{call}={kind}@{n}"),
        None => format!("{call}={kind}"),
    }
}

fn steps(r: &mut Rng, plan: &Plan) -> Vec<Step> {
    let mut steps = vec![first_step(r, plan)];
    for _ in 0..r.range(0, 3) {
        let step = match r.weighted(&[(3, 0), (3, 1), (1, 2), (1, 3), (2, 4)]) {
            0 => Step::One(call(r, plan, Op::Freeze)),
            1 => Step::One(call(r, plan, Op::Thaw)),
            2 => together(r, plan, Op::Freeze),
            3 => together(r, plan, Op::Thaw),
            _ => Step::Pause(r.range(0, 2000)),
        };
        steps.push(step);
    }
    steps
}

fn first_step(r: &mut Rng, plan: &Plan) -> Step {
    match r.range(0, 5) {
        0 => together(r, plan, Op::Freeze),
        1 => together(r, plan, Op::Thaw),
        _ => Step::One(call(r, plan, Op::Freeze)),
    }
}

/// A freeze, and a freeze (a double freeze) or a thaw (a post hook while the pre hook runs)
/// started while it may still run.
fn together(r: &mut Rng, plan: &Plan, second: Op) -> Step {
    Step::Together(
        call(r, plan, Op::Freeze),
        r.range(0, 1500),
        call(r, plan, second),
    )
}

fn call(r: &mut Rng, plan: &Plan, op: Op) -> Call {
    let config_at = *r.pick(&[
        ConfigAt::Flag,
        ConfigAt::Env,
        ConfigAt::RootEnv,
        ConfigAt::RootFlag,
    ]);
    let mut ways = Vec::new();
    for s in SETTINGS {
        if op == Op::Thaw && matches!(s, Setting::MaxFreeze | Setting::Instances) {
            continue;
        }
        if s == Setting::BinDirs && plan.bin_on_path {
            continue;
        }
        if s == Setting::Instances && plan.named.is_none() {
            continue;
        }
        let in_config = plan.in_config.contains(&s);
        let mut choices = vec![Way::Flag, Way::Env];
        if in_config {
            choices.push(Way::File);
        }
        ways.push((s, *r.pick(&choices)));
    }
    // Early (before the lock, the arming), in the middle, or late (freezing, thawing).
    let kill = r.chance(30).then(|| {
        let signal = *r.pick(&[Signal::SIGKILL, Signal::SIGTERM]);
        let (lo, hi) = *r.pick(&[(0, 60), (60, 400), (400, 2500)]);
        Kill {
            signal,
            after_ms: r.range(lo, hi),
        }
    });
    Call {
        op,
        config_at,
        ways,
        kill,
    }
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} [config {:?};", self.op, self.config_at)?;
        for (s, w) in &self.ways {
            write!(f, " {s:?}:{w:?}")?;
        }
        write!(f, "]")?;
        if let Some(k) = self.kill {
            write!(f, " killed by {} after {} ms", k.signal, k.after_ms)?;
        }
        Ok(())
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "cycle {} of seed {} (replay: {})",
            self.cycle,
            self.seed,
            self.replay()
        )?;
        for i in &self.instances {
            let down = if i.down { ", down" } else { "" };
            writeln!(f, "  instance {} ({:?}{down})", i.name, i.product)?;
        }
        writeln!(
            f,
            "  programs {} PATH, csession {}; credentials file: {}",
            if self.bin_on_path { "on" } else { "off" },
            if self.csession { "present" } else { "absent" },
            self.credentials
        )?;
        writeln!(f, "  config file holds {:?}", self.in_config)?;
        writeln!(
            f,
            "  max-freeze {} ms, timeout {} ms, freeze targets {:?}",
            self.max_freeze_ms,
            self.timeout_ms,
            self.named.as_deref().unwrap_or(&["(every running)".into()])
        )?;
        for (n, l) in &self.faults {
            writeln!(f, "  fault {n}: {l}")?;
        }
        for (i, s) in self.steps.iter().enumerate() {
            match s {
                Step::One(c) => writeln!(f, "  step {}: {c}", i + 1)?,
                Step::Together(a, ms, b) => {
                    writeln!(f, "  step {}: {a}\n          + after {ms} ms: {b}", i + 1)?
                }
                Step::Pause(ms) => writeln!(f, "  step {}: pause {ms} ms", i + 1)?,
            }
        }
        match self.watchdog_kill {
            Some(k) => writeln!(f, "  watchdog killed by {} at {} ms", k.signal, k.after_ms),
            None => writeln!(f, "  watchdog left alone"),
        }
    }
}
