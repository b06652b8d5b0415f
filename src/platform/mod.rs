//! The snapshot platforms iris-freeze knows how to hook into.

pub(crate) mod hooks;

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Platform {
    Azure,
    Vmware,
    Qemu,
    Gcp,
    Nutanix,
    Aws,
}

impl Platform {
    pub(crate) const ALL: [Platform; 6] = [
        Platform::Azure,
        Platform::Vmware,
        Platform::Qemu,
        Platform::Gcp,
        Platform::Nutanix,
        Platform::Aws,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Platform::Azure => "azure",
            Platform::Vmware => "vmware",
            Platform::Qemu => "qemu",
            Platform::Gcp => "gcp",
            Platform::Nutanix => "nutanix",
            Platform::Aws => "aws",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Platform {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Platform::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!(
                    "unknown platform {s:?}; one of: {}",
                    Platform::ALL.map(|p| p.name()).join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_case_insensitively() {
        for p in Platform::ALL {
            assert_eq!(p.name().parse::<Platform>().unwrap(), p);
            assert_eq!(p.name().to_uppercase().parse::<Platform>().unwrap(), p);
        }
        assert!(
            "hyperv"
                .parse::<Platform>()
                .unwrap_err()
                .contains("azure, vmware")
        );
    }
}
