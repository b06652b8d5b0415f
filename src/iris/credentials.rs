//! A credentials file for instances without OS authentication: the user on the first line, the
//! password on the second. It is fed to the session's login prompt on stdin and nowhere else:
//! never argv, never a child's environment, never a log line or an error message.

use std::fmt;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};

use crate::host::trust;

/// What the password is replaced with in a call's output.
pub(crate) const HIDDEN: &str = "***";

/// The most of the file read: a user and a password are far shorter.
const MAX_LEN: u64 = 64 * 1024;

#[derive(Clone)]
pub(crate) struct Credentials {
    user: String,
    password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials {{ user: {:?}, password: *** }}", self.user)
    }
}

impl Credentials {
    /// Reads the file, refusing a symlink, one another user owns, or one group/others can read.
    pub(crate) fn load(path: &Path) -> Result<Credentials> {
        let text = read_checked(path)?;
        let mut lines = text.lines();
        let user = lines.next().unwrap_or("").trim().to_string();
        if user.is_empty() {
            bail!(
                "the credentials file {} has no user on its first line (format: user on line \
                 1, password on line 2)",
                path.display()
            );
        }
        // A file of one line is a password alone, in practice: refused, and nothing of it is
        // quoted (as the user, it would reach the output, the log and the journal).
        let Some(password) = lines.next() else {
            bail!(
                "the credentials file {} has one line, not two (format: user on line 1, \
                 password on line 2): refusing it",
                path.display()
            );
        };
        Ok(Credentials {
            user,
            password: password.to_string(),
        })
    }

    pub(crate) fn user(&self) -> &str {
        &self.user
    }

    /// What the session reads at `Username:` and `Password:`.
    pub(crate) fn stdin_bytes(&self) -> Vec<u8> {
        format!("{}\n{}\n", self.user, self.password).into_bytes()
    }

    /// Replaces the password in `text` with `***`: a session may echo what it read, and its
    /// output goes to the log and into error messages.
    pub(crate) fn hide_password(&self, text: &mut String) {
        if !self.password.is_empty() && text.contains(&self.password) {
            *text = text.replace(&self.password, HIDDEN);
        }
    }
}

/// The file's text, opened as root may open it (see `trust::open_read`: no symlink, no FIFO, a
/// trusted directory chain) and then held to the stricter rule for a secret: ours, mode 0600.
/// No error quotes the file's contents.
fn read_checked(path: &Path) -> Result<String> {
    let cannot = || format!("cannot read the credentials file {}", path.display());
    let file = trust::open_read(path)
        .with_context(cannot)?
        .with_context(|| format!("{}: it does not exist", cannot()))?;
    let md = file.metadata().with_context(cannot)?;
    let me = nix::unistd::geteuid().as_raw();
    if md.uid() != me {
        bail!(
            "the credentials file {} is owned by uid {}, not by the user running iris-freeze \
             (uid {me}): refusing it; fix with `chown {me} {}`",
            path.display(),
            md.uid(),
            path.display()
        );
    }
    if md.mode() & 0o077 != 0 {
        bail!(
            "the credentials file {} can be read or written by group or others (mode {:o}): \
             refusing it; fix with `chmod 600 {}`",
            path.display(),
            md.mode() & 0o7777,
            path.display()
        );
    }
    let mut text = String::new();
    // A user and a password; anything longer is not a credentials file.
    (&file)
        .take(MAX_LEN)
        .read_to_string(&mut text)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => anyhow!("{}: not a text file", cannot()),
            _ => anyhow::Error::new(e).context(cannot()),
        })?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn reads_user_and_password_and_never_shows_the_password() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("creds");
        fs::write(&p, "backup\ns3cret pass\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        let c = Credentials::load(&p).unwrap();
        assert_eq!(c.user(), "backup");
        assert_eq!(c.stdin_bytes(), b"backup\ns3cret pass\n");
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn readable_by_others_is_refused_with_the_fix() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("creds");
        fs::write(&p, "backup\nsecret\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        let e = format!("{:#}", Credentials::load(&p).unwrap_err());
        assert!(e.contains("chmod 600"), "{e}");
        assert!(!e.contains("secret\n"));
    }

    #[test]
    fn a_symlink_is_refused_without_its_contents() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("creds");
        fs::write(&p, "backup\nsecret\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&p, &link).unwrap();
        let e = format!("{:#}", Credentials::load(&link).unwrap_err());
        assert!(e.contains("symlink"), "{e}");
        assert!(!e.contains("backup") && !e.contains("secret"), "{e}");
    }

    #[test]
    fn the_password_is_hidden_in_output_and_an_empty_one_hides_nothing() {
        let c = Credentials {
            user: "u".into(),
            password: "pw".into(),
        };
        let mut text = "Password: pw\npwpw".to_string();
        c.hide_password(&mut text);
        assert_eq!(text, "Password: ***\n******");
        let none = Credentials {
            user: "u".into(),
            password: String::new(),
        };
        let mut text = "abc".to_string();
        none.hide_password(&mut text);
        assert_eq!(text, "abc");
    }

    #[test]
    fn one_line_is_refused_without_quoting_it() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("creds");
        fs::write(&p, "s3cret\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        let e = format!("{:#}", Credentials::load(&p).unwrap_err());
        assert!(e.contains("user on line 1, password on line 2"), "{e}");
        assert!(!e.contains("s3cret"), "{e}");
    }

    #[test]
    fn an_empty_file_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("creds");
        fs::write(&p, "").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Credentials::load(&p).is_err());
    }
}
