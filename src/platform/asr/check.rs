//! `check asr`: the mobility agent's version file, `/usr/local/.vx_version`: where the agent is
//! installed (it runs `<dir>/scripts/customscript.sh`), and whether its version can take
//! app-consistent points on Linux (9.24 or later).

use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use super::{DEFAULT_DIR, SCRIPT};
use crate::platform::kit::Findings;
use crate::util::under;

/// The file the agent's installer writes (`KEY=value` lines).
const VERSION_FILE: &str = "/usr/local/.vx_version";
/// The first agent version with app-consistent points on Linux.
const MIN_VERSION: (u32, u32) = (9, 24);

pub(super) fn agent(root: &Path, out: &mut Findings) {
    let path = under(root, VERSION_FILE);
    let shown = path.display();
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            out.warn(
                format!(
                    "{shown} does not exist: the Site Recovery mobility agent is not installed"
                ),
                format!(
                    "install the agent (9.24 or later) in {DEFAULT_DIR}; until then nothing runs \
                     {SCRIPT}"
                ),
            );
            return;
        }
        Err(e) => {
            out.warn(format!("{shown} cannot be read ({e})"), "run check as root");
            return;
        }
    };
    install_dir(&text, &shown.to_string(), out);
    version(&text, &shown.to_string(), out);
}

/// A `KEY=value` line's value.
fn value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(key)
            .then(|| v.trim().trim_matches('"'))
    })
}

/// The agent runs the script of its own install directory; iris-freeze writes the default's.
fn install_dir(text: &str, shown: &str, out: &mut Findings) {
    let Some(dir) = value(text, "INSTALLATION_DIR").filter(|d| !d.is_empty()) else {
        out.warn(
            format!("{shown} names no INSTALLATION_DIR"),
            format!("make sure the agent is installed in {DEFAULT_DIR}: it runs {SCRIPT} there"),
        );
        return;
    };
    let dir = dir.trim_end_matches('/');
    // Written either as the agent's directory or as its parent.
    if dir == DEFAULT_DIR || format!("{dir}/Vx") == DEFAULT_DIR {
        out.ok(format!("the agent is installed in {DEFAULT_DIR} ({shown})"));
    } else {
        out.fail(
            format!("the agent is installed in {dir} ({shown}), not in {DEFAULT_DIR}"),
            format!(
                "it runs {dir}/scripts/customscript.sh, not {SCRIPT}; copy the wrapper there \
                 (`cp -p {SCRIPT} {dir}/scripts/customscript.sh`)"
            ),
        );
    }
}

/// The first `MAJOR.MINOR` in `s`.
fn major_minor(s: &str) -> Option<(u32, u32)> {
    let start = s.find(|c: char| c.is_ascii_digit())?;
    let mut parts = s[start..].split('.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor.parse().ok()?))
}

fn version(text: &str, shown: &str, out: &mut Findings) {
    let found = ["PROD_VERSION", "VERSION"]
        .into_iter()
        .find_map(|k| value(text, k).and_then(|v| Some((v, major_minor(v)?))));
    let (min_major, min_minor) = MIN_VERSION;
    match found {
        Some((v, mm)) if mm >= MIN_VERSION => out.ok(format!("the agent's version is {v}")),
        Some((v, _)) => out.fail(
            format!("the agent's version is {v} ({shown})"),
            format!(
                "app-consistent points on Linux need {min_major}.{min_minor} or later: until \
                 then the agent never runs the script; upgrade the mobility agent"
            ),
        ),
        None => out.warn(
            format!("version unknown: {shown} names no VERSION iris-freeze can read"),
            format!(
                "app-consistent points on Linux need agent {min_major}.{min_minor} or later: \
                 check the agent's version in the Azure portal"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::kit::Level;

    fn levels(text: &str) -> Vec<Level> {
        let mut out = Findings::default();
        install_dir(text, "f", &mut out);
        version(text, "f", &mut out);
        out.all().iter().map(|f| f.level).collect()
    }

    #[test]
    fn the_version_file_is_read_for_the_directory_and_the_version() {
        use Level::*;
        let ok = "INSTALLATION_DIR=/usr/local/ASR/Vx\nPROD_VERSION=9.54.0.0\n";
        assert_eq!(levels(ok), [Ok, Ok]);
        assert_eq!(
            levels("INSTALLATION_DIR=/usr/local/ASR\nVERSION=9.24.1\n"),
            [Ok, Ok]
        );
        assert_eq!(
            levels("INSTALLATION_DIR=/opt/ASR/Vx\nVERSION=9.23.0\n"),
            [Fail, Fail]
        );
        assert_eq!(levels("VERSION=unknown\n"), [Warn, Warn]);
        assert_eq!(major_minor("V9.61.7141.1"), Some((9, 61)));
        assert_eq!(major_minor("10.2"), Some((10, 2)));
        assert_eq!(major_minor("9"), None);
    }
}
