//! SSH: what drives a freeze from another machine (a storage array's snapshot schedule, a
//! backup product's remote adapter, an orchestrator, a home-made scheduler) logs in with a
//! key whose `authorized_keys` line forces `iris-freeze ssh-command` (`key`, `keys_file`),
//! which runs only `freeze`, `thaw`, `status` or `dry-run` with a few options (`command`).
//! `install ssh --key FILE [--user NAME]` writes that line; `uninstall ssh` removes ours from
//! every account; `check ssh` reads them.

pub(crate) mod command;
mod key;
mod keys_file;

use std::collections::HashSet;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::host::trust::Tree;
use crate::platform::kit::{Ctx, Findings, Given, Installer, binary};
use crate::platform::spec::{Hook, Spec};
use crate::util::file_transaction::FileTransaction;
use key::PublicKey;
use keys_file::{Account, SshDir};

/// `install ssh` flags.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct SshArgs {
    /// SSH: the public key file (one `TYPE BASE64 [COMMENT]` line, as ssh-keygen writes it) of
    /// the machine that will call us.
    #[arg(long, value_name = "FILE")]
    pub(crate) key: Option<PathBuf>,

    /// SSH: the account it logs in as; another than root also needs the sudoers lines
    /// `install` prints [default: root].
    #[arg(long, value_name = "NAME")]
    pub(crate) user: Option<String>,
}

impl SshArgs {
    /// `--key` and `--user` are `install ssh`'s alone.
    pub(crate) fn check(&self, platform: crate::platform::Platform) -> Result<()> {
        if platform != crate::platform::Platform::Ssh && (self.key.is_some() || self.user.is_some())
        {
            bail!("--key and --user are for `install ssh` only; drop them");
        }
        Ok(())
    }

    fn user(&self) -> &str {
        self.user.as_deref().unwrap_or("root")
    }
}

pub(crate) struct Ssh;

impl Spec for Ssh {
    /// Nothing is recognised by name: the forced command is `iris-freeze ssh-command`, which
    /// `lib` reads before anything else.
    fn hooks(&self) -> &'static [Hook] {
        &[]
    }

    fn install(&self, i: &mut Installer) -> Result<()> {
        let ssh = i.given.ssh;
        let Some(key_file) = &ssh.key else {
            bail!(
                "install ssh needs --key FILE: the public key of the machine that will call \
                 iris-freeze (for example its id_ed25519.pub)"
            );
        };
        let text = std::fs::read_to_string(key_file)
            .with_context(|| format!("cannot read --key {}", key_file.display()))?;
        let key = PublicKey::parse(&text)
            .with_context(|| format!("--key {} is refused", key_file.display()))?;
        let bin = plain_binary(&i.bin.to_string_lossy())?;
        let account = keys_file::account(&i.tree, ssh.user())?;
        let line = key::line(&key, &key::forced_command(&bin, account.uid == 0));
        let dir = SshDir::open(&i.tree, &account, true)?.context("cannot open .ssh")?;
        let path = dir.file();
        let old = dir.read()?.map(|(t, ..)| t).unwrap_or_default();
        if old.lines().any(|l| l == line) {
            i.tx.line(
                "unchanged",
                &path,
                format!(" (the key's line, {})", account.name),
            );
        } else {
            if let Some(l) = old.lines().find(|l| key.in_line(l) && !key::is_ours(l)) {
                bail!(
                    "{} already lets this key in without our forced command ({}...): remove \
                     that line first, or it would give the key a shell; nothing was changed",
                    path.display(),
                    crate::util::escape::terminal_line(&l.chars().take(40).collect::<String>())
                );
            }
            // Our line for the same key with another command (the binary moved): replaced.
            let mut kept: Vec<&str> = old
                .lines()
                .filter(|l| !(key::is_ours(l) && key.in_line(l)))
                .collect();
            kept.push(&line);
            dir.write(&(kept.join("\n") + "\n"))?;
            i.tx.line(
                "updated",
                &path,
                format!(" (the key's line, 0600 {})", account.name),
            );
        }
        if account.uid != 0 {
            i.notes.push(format!(
                "{} is not root: add these lines with `visudo -f /etc/sudoers.d/iris-freeze`:\n{}",
                account.name,
                key::sudoers(&account.name, &bin)
            ));
        }
        Ok(())
    }

    fn uninstall_more(&self, tree: &Tree, tx: &mut FileTransaction) -> Result<()> {
        for (account, dir) in with_our_lines(tree) {
            let Some((text, ..)) = dir.read()? else {
                continue;
            };
            let kept: Vec<&str> = text.lines().filter(|l| !key::is_ours(l)).collect();
            let n = text.lines().count() - kept.len();
            let mut out = kept.join("\n");
            if !kept.is_empty() {
                out.push('\n');
            }
            dir.write(&out)?;
            tx.line(
                "updated",
                &dir.file(),
                format!(" ({n} line(s) of ours removed, {})", account.name),
            );
        }
        Ok(())
    }

    fn next_steps(&self, given: &Given) -> Vec<String> {
        let user = given.ssh.user();
        vec![format!(
            "On the calling machine: `ssh {user}@THIS-HOST freeze` before the snapshot, \
             `ssh {user}@THIS-HOST thaw` after it (also `dry-run`, `status --json`); see \
             doc/platforms/ssh.md for what Pure, NetApp, Cohesity and Epic run."
        )]
    }

    fn check(&self, c: &Ctx, out: &mut Findings) {
        let tree = match Tree::open(c.given.root) {
            Ok(t) => t,
            Err(e) => return out.fail(format!("{e:#}"), "fix the --root tree"),
        };
        let found = with_our_lines(&tree);
        if found.is_empty() {
            out.fail(
                "no authorized_keys line of iris-freeze's in any account's ~/.ssh",
                "fix: `iris-freeze install ssh --key FILE [--user NAME]`",
            );
        }
        let bin = binary().ok().map(|b| b.to_string_lossy().into_owned());
        for (account, dir) in &found {
            check_account(&tree, account, dir, bin.as_deref(), out);
        }
        check_sshd_env(&tree, out);
        let sshd = crate::util::under(c.given.root, "/usr/sbin/sshd");
        if !sshd.exists() {
            out.warn(
                format!("{} is not installed", sshd.display()),
                "install the OpenSSH server (openssh-server)",
            );
        }
    }
}

/// The binary's path as it goes in `command="..."`, run by the user's shell: plain characters
/// only, so that nothing in it is quoted or expanded.
fn plain_binary(bin: &str) -> Result<String> {
    if bin.is_empty()
        || !bin
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._+-".contains(c))
    {
        bail!(
            "this program's path {bin:?} has characters a forced command would need quoted: \
             install it as /usr/sbin/iris-freeze (the package) or /usr/local/sbin/iris-freeze"
        );
    }
    Ok(bin.to_string())
}

/// The accounts of the tree's /etc/passwd whose authorized_keys holds a line of ours.
fn with_our_lines(tree: &Tree) -> Vec<(Account, SshDir)> {
    let Ok(Some(passwd)) = tree.read("/etc/passwd") else {
        return Vec::new();
    };
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for l in String::from_utf8_lossy(&passwd).lines() {
        let Some(name) = l.split(':').next().filter(|n| !n.is_empty()) else {
            continue;
        };
        let Ok(account) = keys_file::account(tree, name) else {
            continue;
        };
        if account.home.len() < 2 || !seen.insert(account.home.clone()) {
            continue;
        }
        let Ok(Some(dir)) = SshDir::open(tree, &account, false) else {
            continue;
        };
        if let Ok(Some((text, ..))) = dir.read()
            && text.lines().any(key::is_ours)
        {
            out.push((account, dir));
        }
    }
    out
}

fn check_account(tree: &Tree, a: &Account, dir: &SshDir, bin: Option<&str>, out: &mut Findings) {
    let shown = dir.file().display().to_string();
    let Ok(Some((text, mode, uid))) = dir.read() else {
        return out.fail(
            format!("{shown} cannot be read"),
            "check its owner and mode",
        );
    };
    let ours: Vec<&str> = text.lines().filter(|l| key::is_ours(l)).collect();
    out.ok(format!(
        "{shown}: {} key(s) forced to run ssh-command ({})",
        ours.len(),
        a.name
    ));
    if mode & 0o022 != 0 || (uid != a.uid && uid != 0) {
        out.fail(
            format!("{shown} has mode {mode:04o}, owner uid {uid}: sshd ignores it"),
            format!("`chmod 600 {shown}` and `chown {} {shown}`", a.name),
        );
    }
    if let Some(bin) = bin {
        let want = key::forced_command(bin, a.uid == 0);
        if !ours
            .iter()
            .all(|l| l.starts_with(&format!("command=\"{want}\"")))
        {
            out.warn(
                format!("{shown}: a line runs another command than `{want}`"),
                format!(
                    "run `iris-freeze install ssh --key FILE --user {}` again for its key",
                    a.name
                ),
            );
        }
        if a.uid != 0 {
            check_sudoers(tree, &a.name, bin, out);
        }
    }
}

/// The two sudoers lines, in /etc/sudoers or a file of /etc/sudoers.d (read only).
fn check_sudoers(tree: &Tree, user: &str, bin: &str, out: &mut Findings) {
    let mut text = String::new();
    let mut files = vec!["/etc/sudoers".to_string()];
    if let Ok(d) = tree.path("/etc/sudoers.d/x")
        && let Some(dir) = d.parent()
        && let Ok(entries) = std::fs::read_dir(dir)
    {
        for e in entries.flatten() {
            files.push(format!(
                "/etc/sudoers.d/{}",
                e.file_name().to_string_lossy()
            ));
        }
    }
    for f in &files {
        if let Ok(Some(b)) = tree.read(f) {
            text.push_str(&String::from_utf8_lossy(&b));
            text.push('\n');
        }
    }
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let have: HashSet<String> = text.lines().map(norm).collect();
    let want = key::sudoers(user, bin);
    if want.lines().all(|l| have.contains(&norm(l))) {
        out.ok(format!(
            "sudoers lets {user} run `{bin} ssh-command`, keeping SSH_ORIGINAL_COMMAND"
        ));
    } else {
        out.fail(
            format!("sudoers lacks a line for {user} (or cannot be read)"),
            format!("add with `visudo -f /etc/sudoers.d/iris-freeze`:\n{want}"),
        );
    }
}

/// sshd must not take `IRIS_FREEZE_*` from the client (`AcceptEnv`, `PermitUserEnvironment`):
/// such a variable would choose what the refused options choose.
fn check_sshd_env(tree: &Tree, out: &mut Findings) {
    let mut files = vec!["/etc/ssh/sshd_config".to_string()];
    if let Ok(d) = tree.path("/etc/ssh/sshd_config.d/x")
        && let Some(dir) = d.parent()
        && let Ok(entries) = std::fs::read_dir(dir)
    {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".conf") {
                files.push(format!("/etc/ssh/sshd_config.d/{name}"));
            }
        }
    }
    for f in &files {
        let Ok(Some(bytes)) = tree.read(f) else {
            continue;
        };
        for line in String::from_utf8_lossy(&bytes).lines() {
            let mut w = line.split_whitespace();
            let key = w.next().unwrap_or("").to_ascii_lowercase();
            let rest: Vec<&str> = w.collect();
            let bad = match key.as_str() {
                "acceptenv" => rest.iter().any(|p| glob(p, "IRIS_FREEZE_STATE_DIR")),
                "permituserenvironment" => rest.first().is_some_and(|v| *v != "no"),
                _ => false,
            };
            if bad {
                out.fail(
                    format!(
                        "{f}: `{}` lets a client set IRIS_FREEZE_* variables",
                        line.trim()
                    ),
                    "remove it (or keep IRIS_FREEZE_* out of it): the client would choose what \
                     ssh-command refuses",
                );
            }
        }
    }
}

/// sshd's pattern match: `*` any run, `?` one character.
fn glob(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

#[cfg(test)]
mod tests {
    #[test]
    fn sshd_patterns_match_as_sshd_does() {
        for p in ["*", "IRIS_*", "IRIS_FREEZE_STATE_DIR", "I?IS_FREEZE_*"] {
            assert!(super::glob(p, "IRIS_FREEZE_STATE_DIR"), "{p}");
        }
        for p in ["LANG", "LC_*", "IRIS_FREEZE_X"] {
            assert!(!super::glob(p, "IRIS_FREEZE_STATE_DIR"), "{p}");
        }
    }
}
