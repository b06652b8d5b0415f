//! The freeze-window benchmark: `cargo run --release --example bench [-- CYCLES] [-- --dynamic]`.
//!
//! What IRIS pays for a snapshot hook is the time it stays frozen because of the hook: from
//! ExternalFreeze returning to the freeze process exiting, plus from the thaw process starting
//! to ExternalThaw being called. This program measures that window over many freeze/thaw cycles
//! against the IRIS simulator, for iris-freeze and for the plain shell scripts it replaces; then
//! the freeze of 1, 4 and 8 instances (each taking the same simulated time), the armed
//! watchdog's resident memory, and the binary's size. The simulator stamps each call in
//! nanoseconds (`IRIS_SIM_TRACE`); this program stamps process exits and spawns.
//!
//! Steps, one file each: build the binaries (`binaries.rs`), the simulated hosts (`host.rs`),
//! the freeze window (`window.rs`), the parallel freeze (`parallel.rs`), the watchdog's memory
//! and the binary's size (`footprint.rs`).

// The unit tests reach only the pure parts; everything else is used from `main`.
#![cfg_attr(test, allow(dead_code))]

mod binaries;
mod footprint;
mod host;
mod parallel;
mod window;

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cycles: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(50);
    // The shipped build is static (see packaging/build.sh); `--dynamic` measures the default one.
    let dynamic = args.iter().any(|a| a == "--dynamic");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bins = binaries::build(manifest, dynamic)?;
    println!(
        "binary under test: {} ({})",
        bins.exe.display(),
        if dynamic { "dynamic" } else { "static" }
    );
    let base = work_dir()?;

    let hosts = window::Hosts::new(&base, &bins, manifest)?;
    window::print(&window::measure(&hosts, &bins, cycles)?, cycles);
    parallel::print(&parallel::measure(&base, &bins)?);
    println!(
        "armed watchdog: {}",
        footprint::watchdog_rss(&hosts.ours, &bins)?
    );
    println!("binary: {}", footprint::binary_size(&bins)?);
    println!("machine: {}", machine());

    let _ = fs::remove_dir_all(&base);
    Ok(())
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
    use super::median;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }
}
