//! Settings in seconds (`timeout`, `max_freeze`): parsed from a flag, a variable or the config
//! file, with their true bounds, and messages that state them and name the source.

use std::path::Path;
use std::time::Duration;

use anyhow::{Result, bail};

use super::source::Source;
use crate::settings::{self, Bounds, Setting};

/// A setting in seconds, within the bounds its table entry gives.
#[derive(Debug, Clone, Copy)]
pub(super) struct Seconds(pub(super) &'static Setting);

pub(super) const TIMEOUT: Seconds = Seconds(&settings::TIMEOUT);
pub(super) const MAX_FREEZE: Seconds = Seconds(&settings::MAX_FREEZE);
pub(super) const CMD_TIMEOUT: Seconds = Seconds(&settings::CMD_TIMEOUT);

impl Seconds {
    fn bounds(&self) -> Bounds {
        self.0.seconds.expect("a setting in seconds has bounds")
    }

    /// The bounds, as messages state them.
    fn rule(&self) -> String {
        let b = self.bounds();
        let how = if b.upper_included { "at most" } else { "below" };
        format!("more than 0 and {how} {} seconds{}", b.upper, b.why)
    }

    /// A flag or environment value if given (empty counts as not given), else the file's
    /// (already checked), else the default.
    pub(super) fn resolve(
        &self,
        given: Option<&str>,
        from_env: bool,
        file: Option<Duration>,
        default: Duration,
    ) -> Result<Duration> {
        match given.filter(|g| !g.trim().is_empty()) {
            Some(text) => self.parse_text(text, Source::given(self.0, from_env)),
            None => Ok(file.unwrap_or(default)),
        }
    }

    /// Fractions allowed, an `s` suffix tolerated.
    fn parse_text(&self, text: &str, src: Source) -> Result<Duration> {
        let t = text.trim();
        let secs = t
            .strip_suffix('s')
            .unwrap_or(t)
            .parse::<f64>()
            .map_err(|_| {
                anyhow::anyhow!(
                    "{src} must be a number of seconds, e.g. {}; got {:?}",
                    self.bounds().example,
                    text
                )
            })?;
        self.within(secs, src)
    }

    /// The config file's value: a TOML number. Its text is never quoted back.
    pub(super) fn parse_value(&self, v: &toml::Value, path: &Path) -> Result<Duration, String> {
        let src = Source::File(self.0, path);
        let secs = match v {
            toml::Value::Integer(i) => *i as f64,
            toml::Value::Float(f) => *f,
            _ => {
                return Err(format!(
                    "{src} must be a number of seconds, e.g. {}",
                    self.bounds().example
                ));
            }
        };
        self.within(secs, src).map_err(|e| e.to_string())
    }

    fn within(&self, secs: f64, src: Source) -> Result<Duration> {
        let b = self.bounds();
        let below_upper = secs < b.upper || (b.upper_included && secs == b.upper);
        // NaN fails both comparisons.
        if !(secs > 0.0 && below_upper) {
            bail!("{src} must be {}; got {secs}", self.rule());
        }
        Ok(Duration::from_secs_f64(secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(r: Result<Duration>) -> String {
        format!("{:#}", r.unwrap_err())
    }

    #[test]
    fn seconds_parse_with_fractions_and_a_suffix() {
        let flag = Source::Flag(TIMEOUT.0);
        assert_eq!(
            TIMEOUT.parse_text("30", flag).unwrap(),
            Duration::from_secs(30)
        );
        assert_eq!(
            TIMEOUT.parse_text(" 2.5s", flag).unwrap(),
            Duration::from_millis(2500)
        );
        assert_eq!(
            TIMEOUT.parse_text("3600", flag).unwrap(),
            Duration::from_secs(3600)
        );
        for bad in ["0", "-1", "abc", "NaN", "inf", "3601", "1e400"] {
            assert!(TIMEOUT.parse_text(bad, flag).is_err(), "{bad:?} accepted");
        }
        assert!(MAX_FREEZE.parse_text("599.9", flag).is_ok());
        assert!(MAX_FREEZE.parse_text("600", flag).is_err());
    }

    #[test]
    fn range_messages_state_the_true_bounds_and_the_source() {
        let e = err(TIMEOUT.parse_text("0", Source::Flag(TIMEOUT.0)));
        assert_eq!(
            e,
            "--timeout must be more than 0 and at most 3600 seconds; got 0"
        );
        let e = err(MAX_FREEZE.parse_text("9999", Source::Env(MAX_FREEZE.0)));
        assert!(
            e.starts_with(
                "IRIS_FREEZE_MAX_FREEZE must be more than 0 and below 600 seconds, when IRIS"
            ),
            "{e}"
        );
        assert!(!e.contains("3600"), "{e}");
        let e = err(TIMEOUT.parse_text("soon", Source::Env(TIMEOUT.0)));
        assert_eq!(
            e,
            "IRIS_FREEZE_TIMEOUT must be a number of seconds, e.g. 30; got \"soon\""
        );
        let path = Path::new("/etc/iris-freeze.toml");
        let e = TIMEOUT
            .parse_value(&toml::Value::String("abc".into()), path)
            .unwrap_err();
        assert_eq!(
            e,
            "timeout in /etc/iris-freeze.toml must be a number of seconds, e.g. 30"
        );
        let e = MAX_FREEZE
            .parse_value(&toml::Value::Integer(700), path)
            .unwrap_err();
        assert!(
            e.starts_with("max_freeze in /etc/iris-freeze.toml must be more than 0 and below 600"),
            "{e}"
        );
    }

    #[test]
    fn the_bound_below_which_a_freeze_must_end_is_iris_s() {
        let iris = crate::iris::backup::IRIS_BLOCKS_AFTER.as_secs_f64();
        for s in [MAX_FREEZE, CMD_TIMEOUT] {
            assert_eq!(s.bounds().upper, iris, "{}", s.0.id);
        }
    }

    #[test]
    fn precedence_flag_then_file_then_default() {
        let d = Duration::from_secs(30);
        let nine = Some(Duration::from_secs(9));
        let r = |given| TIMEOUT.resolve(given, false, nine, d).unwrap();
        assert_eq!(r(Some("5")), Duration::from_secs(5));
        // An empty flag or variable is "not set".
        assert_eq!(r(Some(" ")), Duration::from_secs(9));
        assert_eq!(r(None), Duration::from_secs(9));
        assert_eq!(TIMEOUT.resolve(None, false, None, d).unwrap(), d);
    }
}
