//! The parallel freeze: n instances, each ExternalFreeze taking 500 ms, should take about as
//! long as one. The first build only: start-up is nothing next to 500 ms.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;

use crate::binaries::Binaries;
use crate::host::Host;
use crate::median;

const INSTANCES: [usize; 3] = [1, 4, 8];
const RUNS: usize = 5;

/// (instances, median ms of the freeze command).
pub(crate) fn measure(base: &Path, bins: &Binaries) -> Result<Vec<(usize, f64)>> {
    INSTANCES
        .into_iter()
        .map(|n| Ok((n, freeze_time(base, bins, n)?)))
        .collect()
}

fn freeze_time(base: &Path, bins: &Binaries, n: usize) -> Result<f64> {
    let host = Host::new(base, &format!("par{n}"), &bins.sim)?;
    for i in 0..n {
        host.add(&format!("I{i}"), &["freeze=slow:500"])?;
    }
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        host.run(&bins.main().exe, "freeze")?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        host.run(&bins.main().exe, "thaw")?;
    }
    Ok(median(&mut times))
}

pub(crate) fn print(times: &[(usize, f64)]) {
    println!("freeze of n instances, each ExternalFreeze taking 500 ms (median of {RUNS}, ms):");
    let one = times.first().map_or(f64::NAN, |&(_, m)| m);
    for &(n, m) in times {
        println!(
            "  {n} instance(s): {m:>8.1}   ({:.2}x one instance)",
            m / one
        );
    }
}
