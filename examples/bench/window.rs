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

/// One host for each build of iris-freeze (in the order of `Binaries::builds`), one for the
/// shell scripts.
pub(crate) struct Hosts {
    pub(crate) ours: Vec<Host>,
    shell: Host,
}

impl Hosts {
    pub(crate) fn new(base: &Path, bins: &Binaries, manifest: &Path) -> Result<Hosts> {
        let ours = bins
            .builds
            .iter()
            .enumerate()
            .map(|(i, _)| {
                let host = Host::new(base, &format!("ours{i}"), &bins.sim)?;
                host.add("IRIS", &[])?;
                // As installed by the package: the commented example config is read at every run.
                let etc = host.dir.join("root/etc");
                fs::create_dir_all(&etc).with_context(|| format!("creating {}", etc.display()))?;
                fs::copy(
                    manifest.join("examples/iris-freeze.toml"),
                    etc.join("iris-freeze.toml"),
                )
                .context("copying the example config")?;
                Ok(host)
            })
            .collect::<Result<Vec<_>>>()?;
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
    /// Each build of iris-freeze, by name.
    ours: Vec<(String, Samples)>,
    /// Each shell found on this machine, by path.
    shells: Vec<(&'static str, Samples)>,
}

pub(crate) fn measure(hosts: &Hosts, bins: &Binaries, cycles: usize) -> Result<Window> {
    let mut window = Window {
        ours: bins
            .builds
            .iter()
            .map(|b| (b.name.clone(), Samples::default()))
            .collect(),
        shells: SHELLS
            .into_iter()
            .filter(|s| Path::new(s).exists())
            .map(|s| (s, Samples::default()))
            .collect(),
    };
    let shell = &hosts.shell;
    let contenders = window.ours.len() + window.shells.len();
    for i in 0..cycles {
        // Each cycle starts with the next contender, so that none always comes first or last.
        for k in 0..contenders {
            let c = (i + k) % contenders;
            if let Some((_, samples)) = window.ours.get_mut(c) {
                let (host, exe) = (&hosts.ours[c], &bins.builds[c].exe);
                samples.push(cycle(
                    host,
                    host.command(exe).arg("freeze"),
                    host.command(exe).arg("thaw"),
                )?);
            } else {
                let (sh, samples) = &mut window.shells[c - hosts.ours.len()];
                samples.push(cycle(
                    shell,
                    shell.command(Path::new(sh)).arg(shell.dir.join("pre.sh")),
                    shell.command(Path::new(sh)).arg(shell.dir.join("post.sh")),
                )?);
            }
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
    let ours: Vec<(&str, f64, Vec<f64>)> = window
        .ours
        .iter()
        .map(|(name, samples)| {
            let total = row(&format!("iris-freeze, {name}"), samples);
            (name.as_str(), total, samples.totals())
        })
        .collect();
    let shells: Vec<(&str, f64, Vec<f64>)> = window
        .shells
        .iter()
        .map(|(sh, samples)| {
            let sh = sh.trim_start_matches("/bin/");
            let total = row(&format!("shell script ({sh} + iris)"), samples);
            (sh, total, samples.totals())
        })
        .collect();
    for (name, ours_total, ours) in &ours {
        for (sh, sh_total, theirs) in &shells {
            // Each cycle runs all of them back to back: the median of the per-cycle ratios is
            // immune to the machine getting faster or slower during the run.
            let mut paired: Vec<f64> = ours.iter().zip(theirs).map(|(o, t)| o / t).collect();
            println!(
                "  ratio iris-freeze {name} / {sh}: {:.2} (medians), {:.2} (median of per-cycle ratios)",
                ours_total / sh_total,
                median(&mut paired)
            );
        }
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
