//! Start-up alone: `iris-freeze --version` for each build against the shells' `-c :`, run after
//! one another in turn, wall and CPU time (user + system, from the kernel's count for waited
//! children) per run. The CPU time moves less on a busy machine.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, ensure};
use nix::sys::resource::{UsageWho, getrusage};

use crate::binaries::Binaries;
use crate::median;

/// One program: its label, and per run (wall ms, CPU ms).
pub(crate) struct Runs {
    label: String,
    wall: Vec<f64>,
    cpu: Vec<f64>,
}

pub(crate) fn measure(bins: &Binaries, runs: usize) -> Result<Vec<Runs>> {
    let mut programs: Vec<(String, Command)> = bins
        .builds
        .iter()
        .map(|b| {
            let mut c = Command::new(&b.exe);
            c.arg("--version");
            (format!("iris-freeze --version, {}", b.name), c)
        })
        .collect();
    for sh in ["/bin/dash", "/bin/bash"] {
        if Path::new(sh).exists() {
            let mut c = Command::new(sh);
            c.args(["-c", ":"]);
            programs.push((format!("{} -c :", sh.trim_start_matches("/bin/")), c));
        }
    }
    let mut out: Vec<Runs> = programs
        .iter()
        .map(|(label, _)| Runs {
            label: label.clone(),
            wall: Vec::with_capacity(runs),
            cpu: Vec::with_capacity(runs),
        })
        .collect();
    let n = programs.len();
    for i in 0..runs {
        for k in 0..n {
            let p = (i + k) % n;
            let (wall, cpu) = time(&mut programs[p].1)?;
            out[p].wall.push(wall);
            out[p].cpu.push(cpu);
        }
    }
    Ok(out)
}

/// Runs `c` once, output to /dev/null; returns (wall ms, CPU ms).
fn time(c: &mut Command) -> Result<(f64, f64)> {
    let before = children_cpu_ms()?;
    let start = Instant::now();
    let st = c
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .context("running a start-up probe")?;
    let wall = start.elapsed().as_secs_f64() * 1e3;
    ensure!(st.success(), "{c:?} failed: {st}");
    Ok((wall, children_cpu_ms()? - before))
}

/// User + system time of every child waited for so far.
fn children_cpu_ms() -> Result<f64> {
    let u = getrusage(UsageWho::RUSAGE_CHILDREN).context("getrusage")?;
    let ms = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 * 1e3 + t.tv_usec() as f64 / 1e3;
    Ok(ms(u.user_time()) + ms(u.system_time()))
}

pub(crate) fn print(runs: &[Runs]) {
    let count = runs.first().map_or(0, |r| r.wall.len());
    // `--version` builds clap's whole parser, which a hook call skips (`Cli::from_env`): an
    // upper bound on a hook's start-up, not its measure (the freeze window above is).
    println!(
        "start-up over {count} runs each (median, ms; --version builds the parser hooks skip):"
    );
    println!("  {:<38} {:>8} {:>8}", "", "wall", "CPU");
    for r in runs {
        println!(
            "  {:<38} {:>8.2} {:>8.2}",
            r.label,
            median(&mut r.wall.clone()),
            median(&mut r.cpu.clone())
        );
    }
}
