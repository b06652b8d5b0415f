//! A sharded cluster's data servers as the freeze's CheckpointInfo names them: host name and
//! Super Server port (`host:port`, `[v6]:port`), each with the journal file that ends at the
//! checkpoint; and whether a data server so named is an instance of this host.

use std::fmt;

use crate::host::this_host::ThisHost;

/// A data server's host name as CheckpointInfo subscripts it: letters, digits, `-`, `.`, `_`,
/// and `:` for an IPv6 address. Checked where it enters: it goes on to the state, the history,
/// `run`'s environment and the commands `restore-plan` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Host(String);

impl Host {
    pub(super) fn parse(s: &str) -> Result<Host, String> {
        let ok = !s.is_empty()
            && s.len() <= 253
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | ':'));
        if ok {
            Ok(Host(s.to_string()))
        } else {
            Err(format!(
                "host name {s:?} (letters, digits, - . _ : expected)"
            ))
        }
    }
}

/// A Super Server port: 1 to 65535, in decimal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Port(u16);

impl Port {
    pub(super) fn parse(s: &str) -> Result<Port, String> {
        match s.parse::<u16>() {
            Ok(p) if p > 0 && s.bytes().all(|b| b.is_ascii_digit()) => Ok(Port(p)),
            _ => Err(format!("Super Server port {s:?} (1 to 65535 expected)")),
        }
    }
}

/// A journal file's path as IRIS names it: anything but control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JournalFile(String);

impl JournalFile {
    pub(super) fn parse(s: &str) -> Result<JournalFile, String> {
        if s.trim().is_empty() || s.len() > 4096 || s.chars().any(char::is_control) {
            return Err(format!(
                "journal file {s:?} (a path without control characters expected)"
            ));
        }
        Ok(JournalFile(s.to_string()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// One data server of the cluster, as CheckpointInfo names it, and the journal file that ends
/// at the checkpoint on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DataServer {
    pub(crate) host: Host,
    pub(crate) port: Port,
    pub(crate) journal: JournalFile,
}

impl DataServer {
    /// `host:port` (`[host]:port` for an IPv6 address): how the state, the history and
    /// summaries name it.
    pub(crate) fn name(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for DataServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.0.contains(':') {
            write!(f, "[{}]:{}", self.host.0, self.port.0)
        } else {
            write!(f, "{}:{}", self.host.0, self.port.0)
        }
    }
}

/// What the freeze's CheckpointInfo holds: its value, the checkpoint number, and its nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Checkpoint {
    pub(crate) number: String,
    pub(crate) data_servers: Vec<DataServer>,
}

/// A data server's name, `host:port` (`[v6]:port`), as its host and its port; `None` when it
/// has no port.
pub(crate) fn host_port(name: &str) -> Option<(&str, &str)> {
    let (host, port) = name.rsplit_once(':')?;
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.strip_suffix(']')?,
        None if host.contains(':') => return None,
        None => host,
    };
    Some((host, port))
}

/// Whether the data server `name` (`host:port`, as the history and the state keep it) is the
/// instance of this host whose Super Server port is `port` (qlist field 6): its host names
/// this host (`ThisHost::is`) and its port is that port.
pub(crate) fn is_local(name: &str, this_host: &ThisHost, port: &str) -> bool {
    let Some((host, p)) = host_port(name) else {
        return false;
    };
    let port = port.trim();
    !port.is_empty() && p == port && this_host.is(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_server_name_splits_into_host_and_port() {
        assert_eq!(host_port("node1:1972"), Some(("node1", "1972")));
        assert_eq!(host_port("[fe80::1]:51773"), Some(("fe80::1", "51773")));
        assert_eq!(host_port("fe80::1"), None);
        assert_eq!(host_port("MASTER"), None);
    }

    #[test]
    fn a_data_server_is_local_by_this_host_and_the_instances_port() {
        let me = ThisHost::with("data1", &["10.0.0.5"]);
        assert!(is_local("data1:1972", &me, "1972"));
        assert!(is_local("DATA1.example.com:1972", &me, "1972"));
        assert!(is_local("localhost:1973", &me, "1973"));
        assert!(is_local("[::1]:1973", &me, "1973"));
        assert!(is_local("10.0.0.5:1972", &me, "1972"));
        // Another port, another host, no port known, a name without a port.
        assert!(!is_local("data1:1973", &me, "1972"));
        assert!(!is_local("data2:1972", &me, "1972"));
        assert!(!is_local("10.0.0.6:1972", &me, "1972"));
        assert!(!is_local("data1:1972", &me, ""));
        assert!(!is_local("data1", &me, "1972"));
    }
}
