//! The freeze window: iris-freeze and the plain shell scripts it replaces, cycle after cycle,
//! back to back, so that each cycle compares them on the same machine state.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, ensure};

use crate::binaries::Binaries;
use crate::host::Host;
use crate::median;

/// Azure runs hooks with `sh`: dash on Debian and Ubuntu, bash on RHEL and SUSE.
const SHELLS: [&str; 2] = ["/bin/dash", "/bin/bash"];

/// One host for iris-freeze, one for the shell scripts.
pub(crate) struct Hosts {
    pub(crate) ours: Host,
    shell: Host,
}

impl Hosts {
    pub(crate) fn new(base: &Path, bins: &Binaries, manifest: &Path) -> Result<Hosts> {
        let ours = Host::new(base, "ours", &bins.sim)?;
        ours.add("IRIS", &[])?;
        // As installed by the package: the commented example config is read at every run.
        let etc = ours.dir.join("root/etc");
        fs::create_dir_all(&etc).with_context(|| format!("creating {}", etc.display()))?;
        fs::copy(
            manifest.join("examples/iris-freeze.toml"),
            etc.join("iris-freeze.toml"),
        )
        .context("copying the example config")?;
        let shell = Host::new(base, "shell", &bins.sim)?;
        shell.add("IRIS", &[])?;
        let log = shell.dir.join("log");
        fs::write(shell.dir.join("pre.sh"), script("ExternalFreeze", &log))
            .context("writing pre.sh")?;
        fs::write(shell.dir.join("post.sh"), script("ExternalThaw", &log))
            .context("writing post.sh")?;
        Ok(Hosts { ours, shell })
    }
}

/// The bare hook: the call, its output to a log, exit 5 mapped to 0.
fn script(method: &str, log: &Path) -> String {
    format!(
        "iris session IRIS -U%SYS '##Class(Backup.General).{method}()' </dev/null >>\"{}\" 2>&1\n\
         status=$?\nif [ $status -eq 5 ]; then exit 0; fi\nexit 1\n",
        log.display()
    )
}

/// Per-cycle milliseconds of one contender: after the freeze, before the thaw.
#[derive(Default)]
pub(crate) struct Samples {
    after_freeze: Vec<f64>,
    before_thaw: Vec<f64>,
}

impl Samples {
    fn push(&mut self, (after_freeze, before_thaw): (f64, f64)) {
        self.after_freeze.push(after_freeze);
        self.before_thaw.push(before_thaw);
    }

    fn totals(&self) -> Vec<f64> {
        self.after_freeze
            .iter()
            .zip(&self.before_thaw)
            .map(|(a, b)| a + b)
            .collect()
    }
}

pub(crate) struct Window {
    ours: Samples,
    /// Each shell found on this machine, by path.
    shells: Vec<(&'static str, Samples)>,
}

pub(crate) fn measure(hosts: &Hosts, bins: &Binaries, cycles: usize) -> Result<Window> {
    let mut window = Window {
        ours: Samples::default(),
        shells: SHELLS
            .into_iter()
            .filter(|s| Path::new(s).exists())
            .map(|s| (s, Samples::default()))
            .collect(),
    };
    let ours = &hosts.ours;
    let shell = &hosts.shell;
    for _ in 0..cycles {
        window.ours.push(cycle(
            ours,
            ours.command(&bins.exe).arg("freeze"),
            ours.command(&bins.exe).arg("thaw"),
        )?);
        for (sh, samples) in &mut window.shells {
            samples.push(cycle(
                shell,
                shell.command(Path::new(sh)).arg(shell.dir.join("pre.sh")),
                shell.command(Path::new(sh)).arg(shell.dir.join("post.sh")),
            )?);
        }
    }
    Ok(window)
}

/// One freeze/thaw cycle; returns (after-freeze ms, before-thaw ms).
fn cycle(host: &Host, freeze: &mut Command, thaw: &mut Command) -> Result<(f64, f64)> {
    let st = freeze.status().context("running the freeze")?;
    let exited = now_ns();
    ensure!(st.success(), "freeze failed: {st}");
    let frozen = host.stamp("IRIS", "freeze", "exit=5")?;
    let spawned = now_ns();
    let st = thaw.status().context("running the thaw")?;
    ensure!(st.success(), "thaw failed: {st}");
    let thaw_called = host.stamp("IRIS", "thaw", "start")?;
    Ok((
        exited.saturating_sub(frozen) as f64 / 1e6,
        thaw_called.saturating_sub(spawned) as f64 / 1e6,
    ))
}

fn now_ns() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

pub(crate) fn print(window: &Window, cycles: usize) {
    println!("freeze window over {cycles} cycles (median, ms):");
    println!(
        "  {:<28} {:>12} {:>12} {:>8}",
        "", "after freeze", "before thaw", "total"
    );
    let ours_total = row("iris-freeze", &window.ours);
    let ours = window.ours.totals();
    for (sh, samples) in &window.shells {
        let sh = sh.trim_start_matches("/bin/");
        let sh_total = row(&format!("shell script ({sh} + iris)"), samples);
        // Each cycle runs both back to back: the median of the per-cycle ratios is immune to
        // the machine getting faster or slower during the run.
        let mut paired: Vec<f64> = ours
            .iter()
            .zip(samples.totals())
            .map(|(o, t)| o / t)
            .collect();
        println!(
            "  ratio iris-freeze / {sh}: {:.2} (medians), {:.2} (median of per-cycle ratios)",
            ours_total / sh_total,
            median(&mut paired)
        );
    }
}

/// Prints one contender's medians; returns the median total.
fn row(name: &str, s: &Samples) -> f64 {
    let total = median(&mut s.totals());
    println!(
        "  {:<28} {:>12.2} {:>12.2} {:>8.2}",
        name,
        median(&mut s.after_freeze.clone()),
        median(&mut s.before_thaw.clone()),
        total
    );
    total
}
