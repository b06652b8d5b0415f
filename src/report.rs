//! What a command hands back to `main`: the exit code and the one summary line for stdout.

use crate::exit_code::Exit;

#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) exit: Exit,
    pub(crate) summary: String,
}

impl Report {
    pub(crate) fn new(exit: Exit, summary: impl Into<String>) -> Report {
        Report {
            exit,
            summary: summary.into(),
        }
    }
}
