//! A simulated host: its own simulator state, `iris` on PATH, iris-freeze's state and log, and
//! the simulator's nanosecond trace.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, anyhow, ensure};

pub(crate) struct Host {
    pub(crate) dir: PathBuf,
    bin: PathBuf,
    sim: PathBuf,
    trace: PathBuf,
    pub(crate) state: PathBuf,
}

impl Host {
    /// A fresh host under `base/name`.
    pub(crate) fn new(base: &Path, name: &str, sim_exe: &Path) -> Result<Host> {
        let dir = base.join(name);
        let _ = fs::remove_dir_all(&dir);
        let bin = dir.join("bin");
        let sim = dir.join("sim");
        for d in [&bin, &sim] {
            fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
        }
        for p in ["iris", "csession", "ccontrol"] {
            symlink(sim_exe, bin.join(p)).with_context(|| format!("linking {p}"))?;
        }
        Ok(Host {
            trace: dir.join("trace"),
            state: dir.join("state"),
            dir,
            bin,
            sim,
        })
    }

    /// Adds an IRIS instance with these fault lines.
    pub(crate) fn add(&self, name: &str, faults: &[&str]) -> Result<()> {
        let d = self.sim.join(name);
        fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
        fs::write(d.join("conf"), "product=IRIS\n").context("writing the instance's conf")?;
        if !faults.is_empty() {
            fs::write(d.join("faults"), faults.join("\n") + "\n")
                .context("writing the instance's faults")?;
        }
        Ok(())
    }

    /// `program` with this host's environment only, and no terminal.
    pub(crate) fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", self.bin.display()))
            .env("IRIS_SIM_DIR", &self.sim)
            .env("IRIS_SIM_TRACE", &self.trace)
            .env("IRIS_FREEZE_STATE_DIR", &self.state)
            .env("IRIS_FREEZE_LOG_FILE", self.dir.join("log"))
            .env("IRIS_FREEZE_ROOT", self.dir.join("root"))
            // The host's own history and journal stay out of it; the cost of writing both is
            // measured all the same (a socket nobody listens on costs one failed connect, as
            // on a host without journald).
            .env("IRIS_FREEZE_HISTORY_FILE", self.dir.join("history.jsonl"))
            .env(
                "IRIS_FREEZE_JOURNAL_SOCKET",
                self.dir.join("journal.socket"),
            )
            .env("IRIS_FREEZE_BIN_DIRS", "")
            .env("IRIS_FREEZE_NO_SYSTEMD", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    }

    /// Runs iris-freeze `verb` (freeze or thaw) on this host; it must succeed.
    pub(crate) fn run(&self, exe: &Path, verb: &str) -> Result<()> {
        let status = self
            .command(exe)
            .arg(verb)
            .status()
            .with_context(|| format!("running {verb}"))?;
        ensure!(status.success(), "{verb} failed: {status}");
        Ok(())
    }

    /// The simulator's nanosecond stamp of `call` `what` on `name`, the last one.
    pub(crate) fn stamp(&self, name: &str, call: &str, what: &str) -> Result<u128> {
        let text = fs::read_to_string(&self.trace).unwrap_or_default();
        last_stamp(&text, name, call, what)
            .ok_or_else(|| anyhow!("no {name} {call} {what} in the trace:\n{text}"))
    }
}

/// Trace lines are `<ns> <pid> <NAME> <CALL> <what>`.
fn last_stamp(trace: &str, name: &str, call: &str, what: &str) -> Option<u128> {
    trace.lines().rev().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() == 5 && f[2] == name && f[3] == call && f[4] == what {
            f[0].parse().ok()
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::last_stamp;

    #[test]
    fn the_last_matching_trace_line_wins() {
        let trace = "100 1 IRIS freeze start\n\
                     200 1 IRIS freeze exit=5\n\
                     300 2 IRIS thaw start\n\
                     400 3 IRIS freeze exit=5\n\
                     500 4 OTHER thaw start\n\
                     garbage\n";
        assert_eq!(last_stamp(trace, "IRIS", "freeze", "exit=5"), Some(400));
        assert_eq!(last_stamp(trace, "IRIS", "thaw", "start"), Some(300));
        assert_eq!(last_stamp(trace, "IRIS", "thaw", "exit=5"), None);
    }
}
