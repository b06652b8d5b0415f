//! Settings in seconds (`timeout`, `max_freeze`): parsed from a flag, a variable or the config
//! file, with their true bounds, and messages that state them and name the source.

use std::path::Path;
use std::time::Duration;

use anyhow::{Result, bail};

use super::source::{Names, Source};
use crate::iris::backup::IRIS_BLOCKS_AFTER;
use crate::settings::env;

/// A setting in seconds, with its true bounds.
#[derive(Debug, Clone, Copy)]
pub(super) struct Seconds {
    pub(super) names: Names,
    /// The value must stay below this, or at most this when `upper_included`.
    upper: f64,
    upper_included: bool,
    /// Why the bound is where it is, if it needs saying.
    why: &'static str,
    example: u32,
}

/// Longer than any snapshot platform waits for a hook.
pub(super) const TIMEOUT: Seconds = Seconds {
    names: Names {
        id: "timeout",
        flag: "--timeout",
        env: env::TIMEOUT,
        key: "timeout",
    },
    upper: 3600.0,
    upper_included: true,
    why: "",
    example: 30,
};

pub(super) const MAX_FREEZE: Seconds = Seconds {
    names: Names {
        id: "max_freeze",
        flag: "--max-freeze",
        env: env::MAX_FREEZE,
        key: "max_freeze",
    },
    upper: IRIS_BLOCKS_AFTER.as_secs() as f64,
    upper_included: false,
    why: ", when IRIS starts blocking writers (ExternalFreezeTimeOut)",
    example: 300,
};

/// No freeze lasts longer than IRIS_BLOCKS_AFTER, so neither may the command run inside one.
pub(super) const CMD_TIMEOUT: Seconds = Seconds {
    names: Names {
        id: "cmd_timeout",
        flag: "--cmd-timeout",
        env: env::CMD_TIMEOUT,
        key: "cmd_timeout",
    },
    upper: IRIS_BLOCKS_AFTER.as_secs() as f64,
    upper_included: false,
    why: ", as no freeze may last longer (ExternalFreezeTimeOut)",
    example: 120,
};

impl Seconds {
    /// The bounds, as messages state them.
    fn rule(&self) -> String {
        let (how, upper) = if self.upper_included {
            ("at most", self.upper)
        } else {
            ("below", self.upper)
        };
        format!("more than 0 and {how} {upper} seconds{}", self.why)
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
            Some(text) => self.parse_text(text, Source::given(self.names, from_env)),
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
                    self.example,
                    text
                )
            })?;
        self.within(secs, src)
    }

    /// The config file's value: a TOML number. Its text is never quoted back.
    pub(super) fn parse_value(&self, v: &toml::Value, path: &Path) -> Result<Duration, String> {
        let src = Source::File(self.names, path);
        let secs = match v {
            toml::Value::Integer(i) => *i as f64,
            toml::Value::Float(f) => *f,
            _ => {
                return Err(format!(
                    "{src} must be a number of seconds, e.g. {}",
                    self.example
                ));
            }
        };
        self.within(secs, src).map_err(|e| e.to_string())
    }

    fn within(&self, secs: f64, src: Source) -> Result<Duration> {
        let below_upper = secs < self.upper || (self.upper_included && secs == self.upper);
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
        let flag = Source::Flag(TIMEOUT.names);
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
        let e = err(TIMEOUT.parse_text("0", Source::Flag(TIMEOUT.names)));
        assert_eq!(
            e,
            "--timeout must be more than 0 and at most 3600 seconds; got 0"
        );
        let e = err(MAX_FREEZE.parse_text("9999", Source::Env(MAX_FREEZE.names)));
        assert!(
            e.starts_with(
                "IRIS_FREEZE_MAX_FREEZE must be more than 0 and below 600 seconds, when IRIS"
            ),
            "{e}"
        );
        assert!(!e.contains("3600"), "{e}");
        let e = err(TIMEOUT.parse_text("soon", Source::Env(TIMEOUT.names)));
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
