//! The call log (`calls.log`, in unix ms) and the benchmark's trace (`$IRIS_SIM_TRACE`, in
//! unix ns): one line when a simulated call starts, one right before it exits normally.

use std::env;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::call::Call;

/// One simulated invocation: where its state lives, the instance named, the call.
pub(crate) struct Ctx {
    pub(crate) root: PathBuf,
    name: String,
    pub(crate) call: Call,
}

impl Ctx {
    /// Logs the `start` line.
    pub(crate) fn start(root: &Path, name: &str, call: Call) -> Ctx {
        let name = if name.is_empty() {
            "-".to_string()
        } else {
            name.replace(char::is_whitespace, "_")
        };
        let ctx = Ctx {
            root: root.to_path_buf(),
            name,
            call,
        };
        ctx.log("start");
        ctx
    }

    pub(crate) fn log(&self, what: &str) {
        // The benchmark's clock: nanoseconds, to a file of its choosing.
        if let Some(trace) = env::var_os("IRIS_SIM_TRACE") {
            let ns = since_epoch().map_or(0, |d| d.as_nanos());
            append(Path::new(&trace), &self.line(ns, what));
        }
        append(&self.root.join("calls.log"), &self.line(now_ms(), what));
    }

    fn line(&self, time: u128, what: &str) -> String {
        format!(
            "{time} {} {} {} {what}\n",
            process::id(),
            self.name,
            self.call.name()
        )
    }
}

pub(crate) fn now_ms() -> u128 {
    since_epoch().map_or(0, |d| d.as_millis())
}

fn since_epoch() -> Option<std::time::Duration> {
    SystemTime::now().duration_since(UNIX_EPOCH).ok()
}

/// Appends `line` in one write (O_APPEND), so lines of concurrent calls never interleave.
pub(crate) fn append(path: &Path, line: &str) {
    if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(path) {
        let _ = f.write_all(line.as_bytes());
    }
}
