//! What `check` finds, and the one place it is formatted: `ok   <what>`, `warn <what>: <fix>`,
//! `FAIL <what>: <fix>`, then a count. Any FAIL makes the exit 1.

use crate::exit_code::Exit;
use crate::report::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Ok,
    Warn,
    Fail,
}

/// One check's outcome: what was looked at, and for a warning or failure, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    pub(crate) level: Level,
    pub(crate) what: String,
    pub(crate) fix: String,
}

/// The findings so far, in the order they are printed.
#[derive(Debug, Default)]
pub(crate) struct Findings(Vec<Finding>);

impl Findings {
    #[cfg(test)]
    pub(crate) fn all(&self) -> &[Finding] {
        &self.0
    }

    pub(crate) fn extend(&mut self, more: Findings) {
        self.0.extend(more.0);
    }

    fn push(&mut self, level: Level, what: impl AsRef<str>, fix: impl AsRef<str>) {
        self.0.push(Finding {
            level,
            what: what.as_ref().to_string(),
            fix: fix.as_ref().to_string(),
        });
    }

    pub(crate) fn ok(&mut self, what: impl AsRef<str>) {
        self.push(Level::Ok, what, "");
    }

    pub(crate) fn warn(&mut self, what: impl AsRef<str>, fix: impl AsRef<str>) {
        self.push(Level::Warn, what, fix);
    }

    pub(crate) fn fail(&mut self, what: impl AsRef<str>, fix: impl AsRef<str>) {
        self.push(Level::Fail, what, fix);
    }

    /// A rule about root ownership: a FAIL when running as root, a warning otherwise (files
    /// staged by another user are chowned later, or the check runs unprivileged).
    pub(crate) fn owner_problem(&mut self, what: impl AsRef<str>, fix: impl AsRef<str>) {
        if nix::unistd::geteuid().is_root() {
            self.fail(what, fix);
        } else {
            self.warn(
                what,
                format!("{} (iris-freeze is not running as root)", fix.as_ref()),
            );
        }
    }

    /// One line per finding and the count; exit 1 on any failure.
    pub(crate) fn report(&self) -> Report {
        let count = |level| self.0.iter().filter(|f| f.level == level).count();
        let (oks, warns, fails) = (count(Level::Ok), count(Level::Warn), count(Level::Fail));
        let mut text: String = self.0.iter().map(line).collect::<Vec<_>>().join("\n");
        text.push_str(&format!(
            "\n{oks} ok, {warns} warning{}, {fails} failed{}",
            if warns == 1 { "" } else { "s" },
            if fails > 0 { " (exit 1)" } else { "" }
        ));
        let exit = if fails > 0 {
            Exit::Failure
        } else {
            Exit::Success
        };
        Report::new(exit, text)
    }
}

fn line(f: &Finding) -> String {
    let tag = match f.level {
        Level::Ok => return format!("ok   {}", f.what),
        Level::Warn => "warn",
        Level::Fail => "FAIL",
    };
    format!("{tag} {}: {}", one_line(&f.what), one_line(&f.fix))
}

/// One line per check: a multi-line message (a TOML error with its source excerpt) is joined,
/// without the excerpt's gutter lines.
fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| {
            let gutter = l
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .trim_start();
            !l.is_empty() && !gutter.starts_with('|')
        })
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" ; ", "; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_the_count() {
        let mut f = Findings::default();
        f.ok("a");
        f.warn("b", "do c");
        let r = f.report();
        assert_eq!(r.exit, Exit::Success);
        assert_eq!(r.summary, "ok   a\nwarn b: do c\n1 ok, 1 warning, 0 failed");
        f.fail("d", "do e");
        f.warn("f", "do g");
        let r = f.report();
        assert_eq!(r.exit, Exit::Failure);
        assert!(
            r.summary
                .ends_with("FAIL d: do e\nwarn f: do g\n1 ok, 2 warnings, 1 failed (exit 1)"),
            "{}",
            r.summary
        );
    }

    #[test]
    fn a_toml_error_becomes_one_line_without_its_excerpt() {
        let e = "TOML parse error at line 2, column 8\n  |\n2 | timeout = \"x\"\n  |        ^^^\ninvalid type\n";
        assert_eq!(
            one_line(e),
            "TOML parse error at line 2, column 8 invalid type"
        );
    }
}
