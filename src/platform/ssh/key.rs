//! The public key `install ssh --key FILE` is given, and the `authorized_keys` line made of it.

use std::fmt;

use anyhow::{Result, bail};

use super::command::VERB;

/// The key types OpenSSH accepts in `authorized_keys` (sshd(8), "AUTHORIZED_KEYS FILE FORMAT").
const TYPES: [&str; 10] = [
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-dss",
    "rsa-sha2-256",
    "rsa-sha2-512",
];

/// The comment that marks our lines, so `install` finds and `uninstall` removes only them.
pub(crate) const MARKER: &str = "iris-freeze-ssh-command";

/// A public key: a known type and its base64 blob. The file's own options and comment are
/// dropped (ours replace them), so nothing of the file reaches the line but these two words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PublicKey {
    kind: String,
    blob: String,
}

impl PublicKey {
    /// The key in a `.pub` file's text: one line, `TYPE BASE64 [COMMENT]`.
    pub(crate) fn parse(text: &str) -> Result<PublicKey> {
        let text = text.strip_suffix('\n').unwrap_or(text);
        if text.contains('\n') {
            bail!("it holds more than one line: give a file with one public key");
        }
        if text.chars().any(|c| c.is_control() && c != '\t') {
            bail!("it holds control characters: not a public key file");
        }
        let mut words = text.split([' ', '\t']).filter(|w| !w.is_empty());
        let (Some(kind), Some(blob)) = (words.next(), words.next()) else {
            bail!("it is not `TYPE BASE64 [COMMENT]`: give the .pub file ssh-keygen wrote");
        };
        if !TYPES.contains(&kind) {
            bail!(
                "{kind:?} is not a key type: give the .pub file ssh-keygen wrote, without \
                 options (one of {})",
                TYPES.join(", ")
            );
        }
        let base64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=');
        if blob.len() < 16 || !blob.chars().all(base64) {
            bail!("its key data is not base64");
        }
        Ok(PublicKey {
            kind: kind.to_string(),
            blob: blob.to_string(),
        })
    }

    /// Whether an `authorized_keys` line holds this key (with any options before it).
    pub(crate) fn in_line(&self, line: &str) -> bool {
        let words: Vec<&str> = line.split_whitespace().collect();
        words
            .windows(2)
            .any(|w| w[0] == self.kind && w[1] == self.blob)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.blob)
    }
}

/// What the forced command runs: the binary itself as root, through `sudo -n` for another user.
pub(crate) fn forced_command(bin: &str, root_user: bool) -> String {
    if root_user {
        format!("{bin} {VERB}")
    } else {
        format!("sudo -n {bin} {VERB}")
    }
}

/// The `authorized_keys` line: the forced command, `restrict` (no pty, no forwarding of any
/// kind, no ~/.ssh/rc), the key, our marker.
pub(crate) fn line(key: &PublicKey, command: &str) -> String {
    format!("command=\"{command}\",restrict {key} {MARKER}")
}

/// Whether a line of `authorized_keys` is one of ours.
pub(crate) fn is_ours(line: &str) -> bool {
    line.trim_end().ends_with(&format!(" {MARKER}"))
        && line.contains(&format!(" {VERB}\",restrict "))
}

/// The sudoers lines a non-root `user` needs: the one command, without a password, with the
/// two variables sudo would otherwise drop (its env_reset keeps neither).
pub(crate) fn sudoers(user: &str, bin: &str) -> String {
    format!(
        "Defaults!{bin} env_keep += \"SSH_ORIGINAL_COMMAND SSH_CLIENT\"\n\
         {user} ALL=(root) NOPASSWD: {bin} {VERB}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG5o3mJx0ZtLZh7tXKq7cC8B2l0Sx7n8d4h3bWk8GqHk";

    #[test]
    fn a_pub_file_gives_its_key_alone() {
        let k = PublicKey::parse(&format!("{KEY} backup@pure\n")).unwrap();
        assert_eq!(k.to_string(), KEY);
        let l = line(&k, &forced_command("/usr/sbin/iris-freeze", true));
        assert_eq!(
            l,
            format!(
                "command=\"/usr/sbin/iris-freeze ssh-command\",restrict {KEY} iris-freeze-ssh-command"
            )
        );
        assert!(is_ours(&l) && k.in_line(&l));
        assert!(!is_ours(KEY));
    }

    #[test]
    fn anything_else_is_refused() {
        for text in [
            "",
            "ssh-ed25519",
            &format!("{KEY}\n{KEY}\n"),
            &format!("command=\"sh\" {KEY}"),
            &format!("{KEY} a\rb"),
            "ssh-ed25519 AAAA\"bad\"AAAAAAAAAAAAAA",
            "-----BEGIN OPENSSH PRIVATE KEY-----",
        ] {
            assert!(PublicKey::parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn sudo_keeps_the_two_variables() {
        assert_eq!(
            sudoers("backup", "/usr/sbin/iris-freeze"),
            "Defaults!/usr/sbin/iris-freeze env_keep += \"SSH_ORIGINAL_COMMAND SSH_CLIENT\"\n\
             backup ALL=(root) NOPASSWD: /usr/sbin/iris-freeze ssh-command"
        );
        assert_eq!(
            forced_command("/usr/sbin/iris-freeze", false),
            "sudo -n /usr/sbin/iris-freeze ssh-command"
        );
    }
}
