//! Native journal entries: every event the event log writes is also sent to journald, where it
//! runs, as one datagram in its native protocol (<https://systemd.io/JOURNAL_NATIVE_PROTOCOL/>),
//! with fields admins can query (`journalctl MESSAGE_ID=...`, `IRIS_INSTANCE=...`).
//!
//! Written by hand rather than through `tracing-journald` or `systemd-journal-logger`: those
//! send through a blocking socket, and route through a global logger (ours is set up lazily,
//! so that no freeze window pays for it). The protocol is a few lines; a full socket buffer
//! (journald stuck) must cost a dropped entry, never a wait.
//!
//! The journal never changes the outcome: no socket, no entry; an error turns it off for the
//! rest of the run, said once with -v.

use std::io::ErrorKind;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use super::eventlog::Level;

/// Where journald listens for native entries.
pub(crate) const DEFAULT_SOCKET: &str = "/run/systemd/journal/socket";

/// Bytes of a message or of IRIS's output kept in an entry: far below a datagram's limit.
const VALUE_MAX: usize = 16 * 1024;

/// The kinds of event that carry a fixed `MESSAGE_ID`, with the log's event names that are
/// of that kind. The ids never change: admins' queries and alerts name them.
pub(crate) const MESSAGE_IDS: &[(&str, &str, &[&str])] = &[
    ("frozen", "dc2b2a8ed6ae4f1486e9ccd1ac878d60", &["frozen"]),
    ("thawed", "7d79438eaf6f4e2b83eab118ab38ef98", &["thawed"]),
    (
        "rolled back",
        "6d8bf0928dd946f79a08d173cdec393d",
        &["rollback"],
    ),
    (
        "auto-thaw",
        "3ae7938fb56a4a49bb92028fed34ed0a",
        &["auto-thaw"],
    ),
    (
        "failed",
        "ac59009297de4897935e87ea0c1fbd1e",
        &[
            "failed",
            "freeze-failed",
            "freeze-unknown",
            "check-failed",
            "error",
        ],
    ),
    (
        "still frozen",
        "6422543541e9447d913a05959cd6d9b1",
        &["still-frozen", "unconfirmed"],
    ),
];

/// The `MESSAGE_ID` of an event of the log, if its kind has one.
pub(crate) fn message_id(event: &str) -> Option<&'static str> {
    MESSAGE_IDS
        .iter()
        .find(|(_, _, events)| events.contains(&event))
        .map(|(_, id, _)| *id)
}

/// syslog's priorities, as journald takes them.
pub(crate) fn priority(level: Level) -> u8 {
    match level {
        Level::Error => 3,
        Level::Warn => 4,
        Level::Info => 6,
    }
}

/// One event, as the log knows it.
pub(crate) struct Entry {
    pub(crate) level: Level,
    pub(crate) cmd: &'static str,
    pub(crate) inst: Option<String>,
    pub(crate) event: String,
    pub(crate) rc: Option<i32>,
    pub(crate) elapsed: Option<Duration>,
    pub(crate) message: String,
    /// What IRIS printed, for an event about an IRIS call.
    pub(crate) output: Option<String>,
}

impl Entry {
    /// The entry's fields, in order; `id` is the cycle's, once known.
    pub(crate) fn fields(&self, id: Option<&str>) -> Vec<(&'static str, String)> {
        let message = match &self.inst {
            Some(i) => format!("{i}: {}", self.message),
            None => self.message.clone(),
        };
        let mut f = vec![
            ("MESSAGE", cut(message)),
            ("PRIORITY", priority(self.level).to_string()),
            ("SYSLOG_IDENTIFIER", "iris-freeze".to_string()),
        ];
        if let Some(m) = message_id(&self.event) {
            f.push(("MESSAGE_ID", m.to_string()));
        }
        f.push(("IRIS_FREEZE_EVENT", self.event.clone()));
        f.push(("IRIS_FREEZE_COMMAND", self.cmd.to_string()));
        if let Some(i) = &self.inst {
            f.push(("IRIS_INSTANCE", i.clone()));
        }
        if let Some(id) = id {
            f.push(("IRIS_FREEZE_ID", id.to_string()));
        }
        if let Some(rc) = self.rc {
            // The last event's code is ours, not IRIS's.
            let key = if self.event == "end" {
                "IRIS_FREEZE_EXIT"
            } else {
                "IRIS_RC"
            };
            f.push((key, rc.to_string()));
        }
        if let Some(d) = self.elapsed {
            f.push(("IRIS_ELAPSED_SECONDS", format!("{:.3}", d.as_secs_f64())));
        }
        if let Some(o) = &self.output {
            f.push(("IRIS_OUTPUT", cut(o.clone())));
        }
        f
    }
}

/// `s`, at most [`VALUE_MAX`] bytes (cut at a character boundary).
fn cut(mut s: String) -> String {
    if s.len() > VALUE_MAX {
        let mut end = VALUE_MAX;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str("...");
    }
    s
}

/// The datagram for `fields`: `KEY=value\n`, or for a value with a newline in it
/// `KEY\n<length, 64-bit little-endian>value\n`.
pub(crate) fn encode(fields: &[(&str, String)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    for (key, value) in fields {
        out.extend_from_slice(key.as_bytes());
        if value.contains('\n') {
            out.push(b'\n');
            out.extend_from_slice(&(value.len() as u64).to_le_bytes());
        } else {
            out.push(b'=');
        }
        out.extend_from_slice(value.as_bytes());
        out.push(b'\n');
    }
    out
}

enum Conn {
    Unopened,
    Open(UnixDatagram),
    Off,
}

/// The journal's socket, connected at the first entry.
pub(crate) struct Journal {
    socket: PathBuf,
    conn: Mutex<Conn>,
}

impl Journal {
    pub(crate) fn new(socket: &Path) -> Journal {
        Journal {
            socket: socket.to_path_buf(),
            conn: Mutex::new(Conn::Unopened),
        }
    }

    /// Sends one entry without waiting: a full socket buffer or any error turns the journal
    /// off for this run.
    pub(crate) fn send(&self, fields: &[(&str, String)]) {
        let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        if let Conn::Unopened = *guard {
            *guard = self.connect();
        }
        let Conn::Open(socket) = &*guard else {
            return;
        };
        if let Err(e) = socket.send(&encode(fields)) {
            say!(
                INFO,
                "cannot send to the journal ({}): {e}; carrying on without it",
                self.socket.display()
            );
            *guard = Conn::Off;
        }
    }

    /// No socket means no journald: nothing to say.
    fn connect(&self) -> Conn {
        let connected = UnixDatagram::unbound().and_then(|s| {
            s.set_nonblocking(true)?;
            s.connect(&self.socket)?;
            Ok(s)
        });
        match connected {
            Ok(s) => Conn::Open(s),
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused) => {
                Conn::Off
            }
            Err(e) => {
                say!(
                    INFO,
                    "cannot connect to the journal ({}): {e}; carrying on without it",
                    self.socket.display()
                );
                Conn::Off
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(level: Level, event: &str, inst: Option<&str>, rc: Option<i32>) -> Entry {
        Entry {
            level,
            cmd: "freeze",
            inst: inst.map(String::from),
            event: event.to_string(),
            rc,
            elapsed: None,
            message: "text".to_string(),
            output: None,
        }
    }

    fn get<'a>(f: &'a [(&str, String)], key: &str) -> Option<&'a str> {
        f.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str())
    }

    #[test]
    fn each_kind_of_event_has_its_own_message_id_and_others_none() {
        let id = |e| message_id(e).unwrap();
        assert_eq!(id("frozen"), "dc2b2a8ed6ae4f1486e9ccd1ac878d60");
        assert_eq!(id("thawed"), "7d79438eaf6f4e2b83eab118ab38ef98");
        assert_eq!(id("rollback"), "6d8bf0928dd946f79a08d173cdec393d");
        assert_eq!(id("auto-thaw"), "3ae7938fb56a4a49bb92028fed34ed0a");
        assert_eq!(id("freeze-failed"), id("failed"));
        assert_eq!(id("unconfirmed"), id("still-frozen"));
        for e in ["start", "end", "thaw", "output", "lock", "check"] {
            assert_eq!(message_id(e), None, "{e}");
        }
        let mut ids: Vec<&str> = MESSAGE_IDS.iter().map(|(_, id, _)| *id).collect();
        assert!(ids.iter().all(|i| {
            i.len() == 32
                && i.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        }));
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), MESSAGE_IDS.len(), "two kinds share an id");
    }

    #[test]
    fn priority_follows_the_level() {
        for (level, p) in [(Level::Error, "3"), (Level::Warn, "4"), (Level::Info, "6")] {
            let f = entry(level, "frozen", None, None).fields(None);
            assert_eq!(get(&f, "PRIORITY"), Some(p));
        }
    }

    #[test]
    fn fields_name_the_instance_the_cycle_and_the_code() {
        let f = entry(Level::Info, "frozen", Some("IRIS"), Some(5)).fields(Some("c1"));
        assert_eq!(get(&f, "MESSAGE"), Some("IRIS: text"));
        assert_eq!(get(&f, "SYSLOG_IDENTIFIER"), Some("iris-freeze"));
        assert_eq!(get(&f, "MESSAGE_ID"), message_id("frozen"));
        assert_eq!(get(&f, "IRIS_INSTANCE"), Some("IRIS"));
        assert_eq!(get(&f, "IRIS_FREEZE_ID"), Some("c1"));
        assert_eq!(get(&f, "IRIS_RC"), Some("5"));
        let f = entry(Level::Info, "end", None, Some(2)).fields(None);
        for absent in ["MESSAGE_ID", "IRIS_INSTANCE", "IRIS_FREEZE_ID", "IRIS_RC"] {
            assert_eq!(get(&f, absent), None, "{absent}");
        }
        assert_eq!(get(&f, "IRIS_FREEZE_EXIT"), Some("2"));
    }

    #[test]
    fn values_with_newlines_are_sent_with_their_length() {
        let fields = [
            ("MESSAGE", "a=b".to_string()),
            ("IRIS_OUTPUT", "one\ntwo".to_string()),
        ];
        let mut want = b"MESSAGE=a=b\nIRIS_OUTPUT\n".to_vec();
        want.extend_from_slice(&7u64.to_le_bytes());
        want.extend_from_slice(b"one\ntwo\n");
        assert_eq!(encode(&fields), want);
    }

    #[test]
    fn long_values_are_cut_at_a_character_boundary() {
        let s = cut("é".repeat(VALUE_MAX));
        assert!(s.len() <= VALUE_MAX + 3, "{}", s.len());
        assert!(s.ends_with("..."));
    }

    #[test]
    fn entries_arrive_as_one_datagram_and_a_missing_socket_is_no_error() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("socket");
        Journal::new(&path).send(&[("MESSAGE", "nobody listens".into())]);
        let server = UnixDatagram::bind(&path).unwrap();
        let j = Journal::new(&path);
        j.send(&[("MESSAGE", "hello".into())]);
        let mut buf = [0u8; 64];
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"MESSAGE=hello\n");
    }
}
