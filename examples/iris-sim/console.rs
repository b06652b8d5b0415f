//! A simulated program's terminal: stdout written without failing, stdin read line by line.

use std::io::{self, BufRead, Write};

/// Writes a line to stdout, ignoring errors (EPIPE kills us via the default SIGPIPE anyway).
macro_rules! say {
    ($($t:tt)*) => {{
        use ::std::io::Write as _;
        let _ = writeln!(::std::io::stdout(), $($t)*);
    }};
}

pub(crate) fn flush_all() {
    let _ = io::stdout().flush();
    let _ = io::stderr().flush();
}

/// One line of stdin without its line ending; `None` at EOF or on error.
pub(crate) fn read_answer() -> Option<String> {
    let mut buf = Vec::new();
    match io::stdin().lock().read_until(b'\n', &mut buf) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(
            String::from_utf8_lossy(&buf)
                .trim_end_matches(['\n', '\r'])
                .to_string(),
        ),
    }
}
