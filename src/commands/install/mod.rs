//! `install PLATFORM` and `uninstall PLATFORM`: the hook files each snapshot platform declares,
//! written or removed the same way for all (`platform::kit`); what differs is in `platform/`.
//!
//! Every system path is taken under `--root`; the files' contents name the real paths (the
//! binary's canonical path, `/etc/azure/prescript.sh`). Each write is atomic and idempotent,
//! and a file that is replaced is backed up first (`util::file_transaction`).

use std::path::Path;

use anyhow::Result;

use crate::config::{Config, Verbosity};
use crate::exit_code::Exit;
use crate::platform::Platform;
use crate::platform::kit::{
    Given, Installer, binary, created_dirs, open_root, remove_hooks, safe_binary,
};
use crate::report::Report;
use crate::util::shell::sh_quote;

/// What a platform reads of the configuration, for `install` and `check`.
pub(crate) fn given(cfg: &Config) -> Given<'_> {
    Given {
        root: &cfg.root,
        timeout: cfg.timeout,
        max_freeze: cfg.max_freeze,
        quiet: cfg.verbosity == Verbosity::Quiet,
        manifest: &cfg.manifest,
        ssh: &cfg.ssh,
    }
}

pub(crate) fn install(cfg: &Config, platform: Platform) -> Result<Report> {
    let spec = platform.spec();
    let g = given(cfg);
    if let Some(text) = spec.nothing_to_install(&g) {
        return Ok(Report::new(Exit::Success, text));
    }
    let bin = binary()?;
    let tree = open_root(&cfg.root, "installing")?;
    safe_binary(&bin)?;
    let mut i = Installer::new(g, tree, platform, &bin);
    spec.install(&mut i)?;
    created_dirs::record(&i.tree, &cfg.root, &i.tx)?;

    let mut text = format!(
        "iris-freeze install {platform}: hooks run {}\n",
        bin.display()
    );
    for l in i.tx.lines.iter().chain(&i.notes) {
        text.push_str(l);
        text.push('\n');
    }
    text.push_str("\nnext steps:\n");
    for (n, step) in next_steps(&g, platform).iter().enumerate() {
        text.push_str(&format!("  {}. {step}\n", n + 1));
    }
    Ok(Report::new(
        Exit::Success,
        with_root(&cfg.root, text.trim_end()),
    ))
}

/// `text` with `--root DIR` added to every `` `iris-freeze ...` `` command it suggests, when a
/// root other than `/` is in use: the command then works on the same tree.
pub(crate) fn with_root(root: &Path, text: &str) -> String {
    const CMD: &str = "`iris-freeze ";
    if root == Path::new("/") {
        return text.to_string();
    }
    let root = root.to_string_lossy();
    let plain = root
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+,:@".contains(c));
    let flag = if plain {
        format!(" --root {root}")
    } else {
        format!(" --root {}", sh_quote(&root))
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(CMD) {
        let start = at + CMD.len();
        let Some(len) = rest[start..].find('`') else {
            break;
        };
        let end = start + len;
        out.push_str(&rest[..end]);
        if !rest[at..end].contains(" --root ") {
            out.push_str(&flag);
        }
        rest = &rest[end..];
        out.push('`');
        rest = &rest[1..];
    }
    out.push_str(rest);
    out
}

/// The steps every platform shares, then the platform's own.
fn next_steps(g: &Given, platform: Platform) -> Vec<String> {
    let check = format!("Run `iris-freeze check {platform}`: it must show no FAIL line.");
    let auth = "Every IRIS instance must let root open a %SYS session without a password (OS \
                authentication for %Service_Terminal), or name a credentials_file in \
                /etc/iris-freeze.toml."
        .to_string();
    let mut v = vec![check, auth];
    v.extend(platform.spec().next_steps(g));
    v
}

pub(crate) fn uninstall(cfg: &Config, platform: Platform) -> Result<Report> {
    if let Some(text) = platform.spec().nothing_to_uninstall() {
        return Ok(Report::new(Exit::Success, text));
    }
    // Without /proc (a chroot: rpm --root, an image build) this program's path is unknown;
    // the hooks are then told by what they are (hook_files::is_ours).
    let bin = binary().ok();
    let tree = open_root(&cfg.root, "uninstalling")?;
    let (mut lines, all) = remove_hooks(platform, &tree, &cfg.root, bin.as_deref())?;
    if lines.is_empty() {
        lines.push("nothing to remove".into());
    }
    let mut text = format!("iris-freeze uninstall {platform}\n{}", lines.join("\n"));
    if !all {
        text.push_str(
            "\nFiles iris-freeze did not install were left in place; remove them yourself if \
             they are no longer wanted.",
        );
    }
    Ok(Report::new(Exit::Success, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_commands_keep_the_root() {
        let text = "fix: `iris-freeze install azure`; `mv a a.orig`, then `iris-freeze check`.";
        assert_eq!(with_root(Path::new("/"), text), text);
        assert_eq!(
            with_root(Path::new("/tmp/a b"), text),
            "fix: `iris-freeze install azure --root '/tmp/a b'`; `mv a a.orig`, then \
             `iris-freeze check --root '/tmp/a b'`."
        );
        assert_eq!(
            with_root(Path::new("/mnt/image"), "run `iris-freeze check qemu`"),
            "run `iris-freeze check qemu --root /mnt/image`"
        );
        let given = "`iris-freeze check --root /x` and `iris-freeze";
        assert_eq!(with_root(Path::new("/x"), given), given);
    }
}
