//! This host as a sharded cluster's CheckpointInfo may name it: by its host name (short or
//! fully qualified), by `localhost` or a loopback address, or by an address of one of its
//! interfaces (a cluster attached by IP).

use std::net::IpAddr;

use crate::host::procfs;

/// This host's name and the addresses of its interfaces, read once, before any freeze.
#[derive(Debug, Clone, Default)]
pub(crate) struct ThisHost {
    /// As `uname -n` gives it; empty when unknown.
    name: String,
    addrs: Vec<IpAddr>,
}

impl ThisHost {
    /// Its name from /proc and its interfaces' addresses (getifaddrs(3)); what cannot be read
    /// is left out, so that nothing is matched by it.
    pub(crate) fn read() -> ThisHost {
        let addrs = nix::ifaddrs::getifaddrs()
            .map(|ifs| {
                ifs.filter_map(|i| {
                    let a = i.address?;
                    a.as_sockaddr_in()
                        .map(|v4| IpAddr::V4(v4.ip()))
                        .or_else(|| a.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip())))
                })
                .collect()
            })
            .unwrap_or_default();
        ThisHost {
            name: procfs::hostname().unwrap_or_default(),
            addrs,
        }
    }

    /// A host with this name and these addresses (tests).
    #[cfg(test)]
    pub(crate) fn with(name: &str, addrs: &[&str]) -> ThisHost {
        ThisHost {
            name: name.to_string(),
            addrs: addrs.iter().map(|a| a.parse().unwrap()).collect(),
        }
    }

    /// Whether `host`, a host name or address, names this host: its name (see
    /// [`same_name`]), the loopback, or an address of one of its interfaces.
    pub(crate) fn is(&self, host: &str) -> bool {
        same_name(host, &self.name)
            || loopback(host)
            || host
                .parse::<IpAddr>()
                .is_ok_and(|ip| self.addrs.contains(&ip))
    }
}

/// Two host names of one host: equal ignoring case (and a final dot), or one of them a short
/// name (no dot) that is the other's first label: `data1` and `DATA1.example.com`. Two fully
/// qualified names in different domains are not the same host.
fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim_end_matches('.'), b.trim_end_matches('.'));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    let first = |s: &str| s.split('.').next().unwrap_or_default().to_string();
    let is_ip = |s: &str| s.parse::<IpAddr>().is_ok();
    (!a.contains('.') || !b.contains('.'))
        && !is_ip(a)
        && !is_ip(b)
        && first(a).eq_ignore_ascii_case(&first(b))
}

/// `localhost` (and `localhost.localdomain`), or a loopback address: the host the call ran on.
fn loopback(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    h == "localhost"
        || h == "localhost.localdomain"
        || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_host_is_its_name_the_loopback_and_its_addresses() {
        let me = ThisHost::with("data1", &["10.0.0.5", "fd00::5"]);
        for yes in [
            "data1",
            "DATA1",
            "data1.example.com",
            "data1.",
            "localhost",
            "127.0.0.1",
            "::1",
            "10.0.0.5",
            "fd00::5",
        ] {
            assert!(me.is(yes), "{yes}");
        }
        for no in ["data2", "data1x", "10.0.0.6", "fd00::6", "10", ""] {
            assert!(!me.is(no), "{no}");
        }
        let fq = ThisHost::with("Data1.Example.com", &[]);
        assert!(fq.is("data1"));
        assert!(!fq.is("data1.other.com"));
        assert!(!ThisHost::default().is("data1"));
    }

    #[test]
    fn this_machine_has_its_name_and_the_loopback_among_its_addresses() {
        let me = ThisHost::read();
        assert!(!me.name.is_empty());
        assert!(me.is(&me.name.clone()));
        assert!(me.addrs.iter().any(IpAddr::is_loopback), "{:?}", me.addrs);
    }
}
