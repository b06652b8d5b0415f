//! What iris-freeze costs at rest: the armed watchdog's resident memory, the binary's size.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, anyhow};

use crate::host::Host;

/// Freezes, reads the watchdog's VmRSS (e.g. `2060 kB`), thaws.
pub(crate) fn watchdog_rss(host: &Host, exe: &Path) -> Result<String> {
    host.run(exe, "freeze")?;
    let rss = watchdog_pid(host).and_then(|pid| {
        let status = fs::read_to_string(format!("/proc/{pid}/status"))
            .with_context(|| format!("reading the status of watchdog {pid}"))?;
        let line = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .unwrap_or("VmRSS: ?");
        Ok(line
            .split_whitespace()
            .skip(1)
            .collect::<Vec<_>>()
            .join(" "))
    });
    // Thaw even when the measure failed: no benchmark leaves an instance frozen.
    host.run(exe, "thaw")?;
    rss
}

fn watchdog_pid(host: &Host) -> Result<i64> {
    let path = host.state.join("state.json");
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let state: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    state["watchdog"]["pid"]
        .as_i64()
        .ok_or_else(|| anyhow!("no watchdog pid in {}", path.display()))
}

/// `2.18 MiB (2287200 bytes, release profile)`.
pub(crate) fn binary_size(exe: &Path) -> Result<String> {
    let size = fs::metadata(exe)
        .with_context(|| format!("reading {}", exe.display()))?
        .len();
    Ok(format!(
        "{:.2} MiB ({size} bytes, release profile)",
        size as f64 / 1048576.0
    ))
}
