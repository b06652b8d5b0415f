//! A simulated program's terminal: stdout written without failing, stdin read line by line.

use std::collections::VecDeque;
use std::io::{self, BufRead, Write};
use std::sync::Mutex;

/// Stdin read ahead (a session fed its commands on stdin), served line by line.
static READ_AHEAD: Mutex<Option<VecDeque<String>>> = Mutex::new(None);

/// The line of stdin that is iris-freeze's call, when a session was fed one.
static FED: Mutex<Option<String>> = Mutex::new(None);

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

/// Reads all of stdin now, and returns its lines: [`read_answer`] serves them afterwards.
pub(crate) fn read_ahead() -> Vec<String> {
    let mut lines = VecDeque::new();
    while let Some(l) = read_stdin_line() {
        lines.push_back(l);
    }
    let all = lines.iter().cloned().collect();
    *READ_AHEAD.lock().unwrap_or_else(|e| e.into_inner()) = Some(lines);
    all
}

/// One line of stdin without its line ending; `None` at EOF or on error.
pub(crate) fn read_answer() -> Option<String> {
    if let Some(lines) = READ_AHEAD
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_mut()
    {
        return lines.pop_front();
    }
    read_stdin_line()
}

fn read_stdin_line() -> Option<String> {
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

/// Notes `line` as the call fed on stdin (for the faults that answer in its place).
pub(crate) fn set_fed(line: &str) {
    *FED.lock().unwrap_or_else(|e| e.into_inner()) = Some(line.to_string());
}

/// The call fed on stdin, if any.
pub(crate) fn fed() -> Option<String> {
    FED.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Writes a marker as the fed `line` would: a newline, the line's `p="PREFIX"`, then `text`.
pub(crate) fn mark(line: &str, text: &str) {
    let prefix = line
        .split_once("p=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map_or("", |(p, _)| p);
    print!("\n{prefix}{text}");
}
