//! The options of the commands that take a platform: `install`, `uninstall`, `check`, and how a
//! platform name is parsed.

use clap::Args;

use super::FromSetting;

use crate::settings::TIMEOUT;

#[derive(Debug, Args)]
pub(crate) struct PlatformArgs {
    /// The snapshot platform.
    #[arg(value_parser = PlatformParser)]
    pub(crate) platform: crate::platform::Platform,

    /// The freeze and thaw timeout the hooks will run with, in seconds; sizes Azure's
    /// timeoutInSeconds [default: 30, or timeout in the config file].
    #[arg(named_as = TIMEOUT)]
    pub(crate) timeout: Option<String>,

    #[command(flatten)]
    pub(crate) manifest: crate::platform::kubernetes::ManifestArgs,

    #[command(flatten)]
    pub(crate) ssh: crate::platform::ssh::SshArgs,
}

#[derive(Debug, Args)]
pub(crate) struct UninstallArgs {
    /// The platform whose hooks to remove.
    #[arg(value_parser = PlatformParser)]
    pub(crate) platform: crate::platform::Platform,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Check this platform's hook setup too.
    #[arg(value_parser = PlatformParser)]
    pub(crate) platform: Option<crate::platform::Platform>,

    /// The freeze and thaw timeout to check against (Azure's timeoutInSeconds must cover it),
    /// and the bound on each login check, in seconds [default: 30, or the config file's].
    #[arg(named_as = TIMEOUT)]
    pub(crate) timeout: Option<String>,
}

/// Parses a platform name as `Platform::from_str` does (any case, its own message), and tells
/// clap the names, so completions and `--help` offer them.
#[derive(Clone)]
struct PlatformParser;

impl clap::builder::TypedValueParser for PlatformParser {
    type Value = crate::platform::Platform;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Self::Value, clap::Error> {
        clap::builder::StringValueParser::new()
            .try_map(|s| s.parse::<crate::platform::Platform>())
            .parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let all = crate::platform::Platform::ALL;
        Some(Box::new(
            all.into_iter()
                .map(|p| clap::builder::PossibleValue::new(p.name())),
        ))
    }
}
