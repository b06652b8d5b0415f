//! Messages for a person on stderr (the `say!` macro), at the level `-q`/`-v` asked for. Events
//! go through the event log; these are what a person reads beside them.

use std::io::Write;

/// The most verbose level shown on stderr, set once the options are known.
static STDERR_LEVEL: std::sync::OnceLock<tracing::Level> = std::sync::OnceLock::new();

/// Whether a message at `level` goes to stderr. The first one that does installs the
/// subscriber: set up at start, it would be freeze window before every ExternalThaw.
pub(crate) fn wants(level: tracing::Level) -> bool {
    let Some(&max) = STDERR_LEVEL.get() else {
        return false;
    };
    // tracing orders levels by verbosity: ERROR < WARN < INFO < DEBUG.
    if level > max {
        return false;
    }
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| init_tracing(max));
    true
}

fn init_tracing(level: tracing::Level) {
    let _ = tracing_subscriber::fmt()
        .with_writer(|| BestEffortStderr)
        // Its own report of a failed write is an eprintln!, which panics on that same stderr.
        .log_internal_errors(false)
        .with_max_level(level)
        .without_time()
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// stderr for messages: a write that fails (a full device, a pipe nobody reads) is dropped, so
/// nothing shown to a person can stop a freeze, a rollback or a thaw.
struct BestEffortStderr;

impl Write for BestEffortStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Sets the most verbose level shown, once the options are known.
pub(crate) fn show_up_to(level: tracing::Level) {
    let _ = STDERR_LEVEL.set(level);
}
