//! The freeze-window benchmark:
//! `cargo run --release --example bench [-- CYCLES] [--static | --dynamic] [--exe NAME=PATH]...`.
//!
//! What IRIS pays for a snapshot hook is the time it stays frozen because of the hook: from
//! ExternalFreeze returning to the freeze process exiting, plus from the thaw process starting
//! to ExternalThaw being called. This program measures that window over many freeze/thaw cycles
//! against the IRIS simulator, for iris-freeze and for the plain shell scripts it replaces; then
//! start-up alone (`--version` against `dash -c :`); then the freeze of 1, 4 and 8 instances
//! (each taking the same simulated time), the armed watchdog's resident memory, and the
//! binary's size. The simulator stamps each call in nanoseconds (`IRIS_SIM_TRACE`); this
//! program stamps process exits and spawns. Both builds of iris-freeze are measured side by
//! side: the static one packaging/build.sh ships, and the dynamic one a plain
//! `cargo build --release` gives; `--static` or `--dynamic` measures one alone, and
//! `--exe NAME=PATH` adds a binary built elsewhere (two versions held against each other).
//!
//! Steps, one file each: build the binaries (`binaries.rs`), the simulated hosts (`host.rs`),
//! the freeze window (`window.rs`), start-up (`startup.rs`), the parallel freeze
//! (`parallel.rs`), the watchdog's memory and the binary's size (`footprint.rs`).

// The unit tests reach only the pure parts; everything else is used from `main`.
#![cfg_attr(test, allow(dead_code))]

mod binaries;
mod footprint;
mod host;
mod parallel;
mod startup;
mod window;

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::binaries::{Build, Link};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cycles: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(50);
    let given = given(&args)?;
    let links = links(&args, !given.is_empty());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bins = binaries::build(manifest, &links, given)?;
    for b in &bins.builds {
        println!("binary under test: {} ({})", b.exe.display(), b.name);
    }
    let base = work_dir()?;

    let hosts = window::Hosts::new(&base, &bins, manifest)?;
    window::print(&window::measure(&hosts, &bins, cycles)?, cycles);
    // Start-up is short: five runs per cycle asked for.
    startup::print(&startup::measure(&bins, cycles * 5)?);
    parallel::print(&parallel::measure(&base, &bins)?);
    for (b, host) in bins.builds.iter().zip(&hosts.ours) {
        println!(
            "armed watchdog ({}): {}",
            b.name,
            footprint::watchdog_rss(host, &b.exe)?
        );
    }
    for b in &bins.builds {
        println!("binary ({}): {}", b.name, footprint::binary_size(&b.exe)?);
    }
    println!("machine: {}", machine());
    println!("load average at the end: {}", load());

    let _ = fs::remove_dir_all(&base);
    Ok(())
}

/// The builds to make: the ones named, else both (the shipped static one first) unless
/// binaries are given.
fn links(args: &[String], given: bool) -> Vec<Link> {
    let named: Vec<Link> = [("--static", Link::Static), ("--dynamic", Link::Dynamic)]
        .into_iter()
        .filter(|(flag, _)| args.iter().any(|a| a == flag))
        .map(|(_, link)| link)
        .collect();
    match (named.is_empty(), given) {
        (true, false) => vec![Link::Static, Link::Dynamic],
        _ => named,
    }
}

/// The binaries given as `--exe NAME=PATH`.
fn given(args: &[String]) -> Result<Vec<Build>> {
    args.iter()
        .zip(args.iter().skip(1))
        .filter(|(flag, _)| *flag == "--exe")
        .map(|(_, value)| {
            let (name, path) = value
                .split_once('=')
                .with_context(|| format!("--exe {value}: NAME=PATH expected"))?;
            Ok(Build {
                name: name.into(),
                exe: fs::canonicalize(path).with_context(|| format!("--exe {value}"))?,
            })
        })
        .collect()
}

/// The state dir lives on tmpfs by default (/run); so does the benchmark's when it can.
fn work_dir() -> Result<PathBuf> {
    let name = format!("iris-freeze-bench-{}", std::process::id());
    let base = if Path::new("/dev/shm").is_dir() {
        Path::new("/dev/shm").join(name)
    } else {
        std::env::temp_dir().join(name)
    };
    fs::create_dir_all(&base).with_context(|| format!("creating {}", base.display()))?;
    Ok(base)
}

/// CPU model, cores and kernel, for the README's figures.
fn machine() -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cpu}, {cores} cores, Linux {}", kernel.trim())
}

/// /proc/loadavg's three averages: a figure taken on a busy machine says so.
fn load() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The median; the slice is sorted in place.
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::{Link, given, links, median};

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn both_builds_unless_one_is_named_or_binaries_are_given() {
        assert_eq!(links(&args(&["200"]), false), [Link::Static, Link::Dynamic]);
        assert_eq!(links(&args(&["--static"]), false), [Link::Static]);
        assert_eq!(links(&args(&["--dynamic", "200"]), false), [Link::Dynamic]);
        assert_eq!(
            links(&args(&["--dynamic", "--static"]), false),
            [Link::Static, Link::Dynamic]
        );
        assert_eq!(links(&args(&["200"]), true), []);
        assert_eq!(links(&args(&["--static"]), true), [Link::Static]);
    }

    #[test]
    fn given_binaries_are_name_equals_path() {
        let b = given(&args(&["--exe", "sh=/bin/sh", "200"])).unwrap();
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].name, "sh");
        assert!(b[0].exe.is_absolute());
        assert!(given(&args(&["--exe", "/bin/sh"])).is_err());
        assert!(given(&args(&["--exe", "x=/nonexistent/x"])).is_err());
    }
}
