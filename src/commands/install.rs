//! `install PLATFORM` and `uninstall PLATFORM`: the hook files each snapshot platform needs.
//!
//! Every system path is taken under `--root`; the files' contents name the real paths (the
//! binary's canonical path, `/etc/azure/prescript.sh`). Writes are atomic (a temp file in the
//! same directory, its mode set, fsync, rename), idempotent (an identical file is left alone),
//! and a file that is replaced is first backed up as `<file>.iris-freeze-bak.<YYYYmmddTHHMMSS>`.

use std::fs;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value, json};

use crate::config::{Config, under};
use crate::exit_code::Exit;
use crate::platform::Platform;
use crate::report::Report;

/// Every file `install` writes carries this; `uninstall` removes only files that do (or
/// symlinks to the binary).
pub(crate) const MARKER: &str = "Installed by iris-freeze";

/// The SSM Command document for AWS Data Lifecycle Manager, as shipped in the source tree.
pub(crate) const AWS_DOCUMENT: &str = include_str!("../../examples/aws-ssm-document.yml");
pub(crate) const AWS_DOCUMENT_SOURCE: &str = "examples/aws-ssm-document.yml";
/// Where the SSM document expects the binary on every instance.
pub(crate) const AWS_BINARY: &str = "/usr/local/sbin/iris-freeze";

pub(crate) const AZURE_PRE: &str = "/etc/azure/prescript.sh";
pub(crate) const AZURE_POST: &str = "/etc/azure/postScript.sh";
pub(crate) const AZURE_JSON: &str = "/etc/azure/VMSnapshotScriptPluginConfig.json";
pub(crate) const AZURE_WORKLOAD: &str = "/etc/azure/workload.conf";
pub(crate) const AZURE_HOST_CONF: &str = "/etc/azure/VMSnapshotPluginHost.conf";
/// Azure's hard cap on `timeoutInSeconds`.
pub(crate) const AZURE_MAX_TIMEOUT: u64 = 1800;
/// Added to `--timeout` for Azure's `timeoutInSeconds`: the rollback (5 s), the kill grace of
/// a call that overruns and of the rollback's own call (2 + 2 s), one poll (1 s), and margin.
pub(crate) const AZURE_TIMEOUT_MARGIN: u64 = 15;

pub(crate) const VMWARE_PRE: &str = "/usr/sbin/pre-freeze-script";
pub(crate) const VMWARE_POST: &str = "/usr/sbin/post-thaw-script";
pub(crate) const QEMU_HOOK: &str = "/etc/qemu/fsfreeze-hook";
pub(crate) const QEMU_GA_DIR: &str = "/etc/qemu-ga";
pub(crate) const QEMU_GA_HOOK: &str = "/etc/qemu-ga/fsfreeze-hook";
pub(crate) const GCP_DIR: &str = "/etc/google/snapshots";
pub(crate) const GCP_PRE: &str = "/etc/google/snapshots/pre.sh";
pub(crate) const GCP_POST: &str = "/etc/google/snapshots/post.sh";
pub(crate) const GCP_CONFIG: &str = "/etc/default/instance_configs.cfg";
pub(crate) const NUTANIX_PRE: &str = "/usr/local/sbin/pre_freeze";
pub(crate) const NUTANIX_POST: &str = "/usr/local/sbin/post_thaw";

/// What a hook file is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HookKind {
    /// A symlink to the binary, which dispatches on the link's name.
    Link,
    /// A POSIX-sh wrapper: `exec '<binary>' <args>`.
    Wrapper {
        /// After the binary on the exec line (`azure-pre "$@"`, `freeze`).
        args: &'static str,
        /// The comment after the marker.
        comment: &'static str,
        /// The first argument a working wrapper passes (for `check`): the hook's command.
        verbs: &'static [&'static str],
    },
}

/// One file a platform needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HookFile {
    /// The real path (not under --root).
    pub(crate) path: &'static str,
    pub(crate) kind: HookKind,
    /// The file mode of a wrapper.
    pub(crate) mode: u32,
    /// Freeze (true) or thaw.
    pub(crate) freeze: bool,
}

pub(crate) const PRE_VERBS: &[&str] = &["azure-pre", "freeze", "pre-script"];
pub(crate) const POST_VERBS: &[&str] = &["azure-post", "thaw", "post-script"];

/// The hook files of `platform` (qemu: at the path this root's layout uses). None for AWS.
pub(crate) fn hook_files(platform: Platform, root: &Path) -> Vec<HookFile> {
    let link = |path, freeze| HookFile {
        path,
        kind: HookKind::Link,
        mode: 0o755,
        freeze,
    };
    match platform {
        Platform::Azure => vec![
            HookFile {
                path: AZURE_PRE,
                kind: HookKind::Wrapper {
                    args: "azure-pre \"$@\"",
                    comment: "Azure Backup pre-script. Azure runs it as `sh <file> \"\" \"\"`.",
                    verbs: PRE_VERBS,
                },
                mode: 0o700,
                freeze: true,
            },
            HookFile {
                path: AZURE_POST,
                kind: HookKind::Wrapper {
                    args: "azure-post \"$@\"",
                    comment: "Azure Backup post-script. Azure runs it as `sh <file> \"\" \"\"`.",
                    verbs: POST_VERBS,
                },
                mode: 0o700,
                freeze: false,
            },
        ],
        Platform::Vmware => vec![link(VMWARE_PRE, true), link(VMWARE_POST, false)],
        Platform::Qemu => vec![link(qemu_hook(root), true)],
        Platform::Gcp => vec![link(GCP_PRE, true), link(GCP_POST, false)],
        Platform::Nutanix => vec![
            HookFile {
                path: NUTANIX_PRE,
                kind: HookKind::Wrapper {
                    args: "freeze",
                    comment: "Nutanix Guest Tools pre-freeze script, run as root when the \
                              snapshot is taken.",
                    verbs: &["freeze"],
                },
                mode: 0o700,
                freeze: true,
            },
            HookFile {
                path: NUTANIX_POST,
                kind: HookKind::Wrapper {
                    args: "thaw",
                    comment: "Nutanix Guest Tools post-thaw script, run as root when the \
                              snapshot is finalized.",
                    verbs: &["thaw"],
                },
                mode: 0o700,
                freeze: false,
            },
        ],
        Platform::Aws => Vec::new(),
    }
}

/// qemu-ga's hook: `/etc/qemu-ga/fsfreeze-hook` where that directory exists (RHEL), else
/// `/etc/qemu/fsfreeze-hook`.
pub(crate) fn qemu_hook(root: &Path) -> &'static str {
    if under(root, QEMU_GA_DIR).is_dir() {
        QEMU_GA_HOOK
    } else {
        QEMU_HOOK
    }
}

/// This binary's canonical path: what every hook runs.
pub(crate) fn binary() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find this program's own path")?;
    let bin = fs::canonicalize(&exe)
        .with_context(|| format!("cannot resolve this program's path {}", exe.display()))?;
    if bin.to_str().is_none_or(|s| s.contains(['\n', '\r'])) {
        bail!(
            "this program's path {:?} is not plain UTF-8 text on one line: install it somewhere \
             else (for example /usr/local/sbin/iris-freeze) and run that copy",
            bin
        );
    }
    Ok(bin)
}

/// Checks that no other user can change `bin` (nor any directory above it): every hook runs it
/// as root, so a hook pointing at a file someone else can replace is a way to root. Its metadata.
pub(crate) fn safe_binary(bin: &Path) -> Result<fs::Metadata> {
    crate::host::trust::program(bin).context("every hook runs it as root")?;
    fs::metadata(bin).with_context(|| format!("cannot read {}", bin.display()))
}

/// `s` as one POSIX-sh word.
pub(crate) fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A wrapper's exact text.
pub(crate) fn wrapper_text(comment: &str, bin: &Path, args: &str) -> String {
    format!(
        "#!/bin/sh\n# {MARKER}: {comment}\nexec {} {args}\n",
        sh_quote(&bin.to_string_lossy())
    )
}

/// The `timeoutInSeconds` our deadline needs: `--timeout` rounded up, plus the margin, at most
/// Azure's cap.
pub(crate) fn azure_timeout_needed(cfg: &Config) -> u64 {
    (cfg.timeout.as_secs_f64().ceil() as u64 + AZURE_TIMEOUT_MARGIN).min(AZURE_MAX_TIMEOUT)
}

/// Whether `path` is something iris-freeze installed: a symlink to this binary (or to any file
/// named `iris-freeze`), or a file carrying the marker. Never follows a symlink for the marker.
pub(crate) fn is_ours(path: &Path, bin: &Path) -> bool {
    let Ok(md) = fs::symlink_metadata(path) else {
        return false;
    };
    if md.file_type().is_symlink() {
        if fs::canonicalize(path).is_ok_and(|t| t == bin) {
            return true;
        }
        return fs::read_link(path)
            .ok()
            .and_then(|t| t.file_name().map(|n| n == "iris-freeze"))
            .unwrap_or(false);
    }
    md.is_file() && md.len() < 64 * 1024 && has_marker(path)
}

fn has_marker(path: &Path) -> bool {
    fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).contains(MARKER))
        .unwrap_or(false)
}

/// The `[section]` `key` of an INI file (`key = value` or `key: value`; `#` and `;` comments;
/// keys case-insensitive as Python's configparser has them). The last occurrence wins.
pub(crate) fn ini_value(text: &str, section: &str, key: &str, section_ci: bool) -> Option<String> {
    let mut inside = false;
    let mut found = None;
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        if let Some(name) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            let name = name.trim();
            inside = if section_ci {
                name.eq_ignore_ascii_case(section)
            } else {
                name == section
            };
            continue;
        }
        if !inside || line.starts_with([' ', '\t']) {
            continue;
        }
        let Some(i) = t.find(['=', ':']) else {
            continue;
        };
        if t[..i].trim().eq_ignore_ascii_case(key) {
            found = Some(t[i + 1..].trim().to_string());
        }
    }
    found
}

/// The workload `/etc/azure/workload.conf` names, if any: Azure then runs its own database
/// scripts instead of the pre/post scripts, silently.
pub(crate) fn azure_workload(text: &str) -> Option<String> {
    ini_value(text, "workload", "workload_name", false).filter(|v| !v.is_empty())
}

fn workload_refusal(path: &Path, name: &str) -> String {
    format!(
        "{} sets workload_name = {name}: Azure Backup then runs its own {name} workload scripts \
         and silently ignores the pre/post scripts, so IRIS would never be frozen. Fix: empty \
         it (a line `workload_name =` in the [workload] section), then run `iris-freeze install \
         azure` again",
        path.display()
    )
}

/// The settings Azure needs, merged into `existing` (an object; keys and their order kept).
/// Returns the merged object and a note for each value that was changed.
pub(crate) fn merge_azure_json(
    existing: Map<String, Value>,
    need: u64,
) -> (Map<String, Value>, Vec<String>) {
    fn set(m: &mut Map<String, Value>, notes: &mut Vec<String>, key: &str, v: Value, why: &str) {
        if let Some(old) = m.get(key) {
            if *old != v {
                notes.push(format!("{key} was {old}, now {v}{why}"));
            }
        }
        m.insert(key.to_string(), v);
    }
    let mut m = existing;
    let mut notes = Vec::new();
    if !m.contains_key("pluginName") {
        m.insert("pluginName".into(), json!("ScriptRunner"));
    }
    set(
        &mut m,
        &mut notes,
        "preScriptLocation",
        json!(AZURE_PRE),
        "",
    );
    set(
        &mut m,
        &mut notes,
        "postScriptLocation",
        json!(AZURE_POST),
        "",
    );
    for key in ["preScriptParams", "postScriptParams"] {
        match m.get(key) {
            Some(Value::Array(_)) => {}
            Some(old) => {
                notes.push(format!(
                    "{key} was {old} (not an array; Azure would pass a string one character \
                     per argument), now [\"\", \"\"]"
                ));
                m.insert(key.into(), json!(["", ""]));
            }
            None => {
                m.insert(key.into(), json!(["", ""]));
            }
        }
    }
    for key in ["preScriptNoOfRetries", "postScriptNoOfRetries"] {
        if !m.contains_key(key) {
            m.insert(key.into(), json!(0));
        }
    }
    match m.get("timeoutInSeconds") {
        Some(Value::Number(n)) if n.as_f64().is_some_and(|t| t >= need as f64) => {}
        Some(old) => {
            let why = if old.is_number() {
                format!(" (iris-freeze needs at least {need} s)")
            } else {
                " (Azure needs a JSON number)".to_string()
            };
            notes.push(format!("timeoutInSeconds was {old}, now {need}{why}"));
            m.insert("timeoutInSeconds".into(), json!(need));
        }
        None => {
            m.insert("timeoutInSeconds".into(), json!(need));
        }
    }
    set(
        &mut m,
        &mut notes,
        "continueBackupOnFailure",
        json!(true),
        "",
    );
    set(&mut m, &mut notes, "fsFreezeEnabled", json!(true), "");
    set(
        &mut m,
        &mut notes,
        "ScriptsExecutionPollTimeSeconds",
        json!(1),
        " (a shorter freeze window)",
    );
    (m, notes)
}

/// What happened to one path.
struct Run {
    lines: Vec<String>,
    stamp: String,
    root: bool,
}

impl Run {
    fn new() -> Run {
        Run {
            lines: Vec::new(),
            stamp: chrono::Local::now().format("%Y%m%dT%H%M%S").to_string(),
            root: nix::unistd::geteuid().is_root(),
        }
    }

    fn line(&mut self, verb: &str, path: &Path, rest: impl AsRef<str>) {
        let rest = rest.as_ref();
        self.lines.push(if rest.is_empty() {
            format!("{verb:<9} {}", path.display())
        } else {
            format!("{verb:<9} {}{rest}", path.display())
        });
    }

    fn owner(&self) -> &'static str {
        if self.root { "root:root " } else { "" }
    }

    /// Creates the missing directories of `dir` (the last one with `mode`, parents 0755).
    fn ensure_dir(&mut self, dir: &Path, mode: u32) -> Result<()> {
        let mut missing = Vec::new();
        let mut d = dir;
        while fs::symlink_metadata(d).is_err() {
            missing.push(d.to_path_buf());
            match d.parent() {
                Some(p) => d = p,
                None => break,
            }
        }
        for (i, m) in missing.iter().rev().enumerate() {
            let last = i + 1 == missing.len();
            let mode = if last { mode } else { 0o755 };
            fs::create_dir(m).with_context(|| format!("cannot create {}", m.display()))?;
            fs::set_permissions(m, fs::Permissions::from_mode(mode))
                .with_context(|| format!("cannot set the mode of {}", m.display()))?;
            if self.root {
                std::os::unix::fs::chown(m, Some(0), Some(0))
                    .with_context(|| format!("cannot chown {}", m.display()))?;
            }
            let owner = self.owner();
            self.line("created", m, format!(" (directory, {owner}{mode:04o})"));
        }
        if !dir.is_dir() {
            bail!("{} exists but is not a directory", dir.display());
        }
        Ok(())
    }

    /// A free `<path>.iris-freeze-bak.<stamp>[.N]`.
    fn backup_path(&self, path: &Path) -> PathBuf {
        let base = format!("{}.iris-freeze-bak.{}", path.display(), self.stamp);
        let mut p = PathBuf::from(&base);
        let mut n = 1;
        while fs::symlink_metadata(&p).is_ok() {
            p = PathBuf::from(format!("{base}.{n}"));
            n += 1;
        }
        p
    }

    /// Keeps a copy of `path` (a file or a symlink) next to it; `path` itself stays in place.
    fn backup(&self, path: &Path) -> Result<PathBuf> {
        let bak = self.backup_path(path);
        let md = fs::symlink_metadata(path)?;
        let r = if md.file_type().is_symlink() {
            fs::read_link(path).and_then(|t| std::os::unix::fs::symlink(t, &bak))
        } else {
            fs::hard_link(path, &bak).or_else(|_| {
                fs::copy(path, &bak)?;
                fs::set_permissions(&bak, md.permissions())
            })
        };
        r.with_context(|| format!("cannot back up {} as {}", path.display(), bak.display()))?;
        Ok(bak)
    }

    /// Puts `content` at `path` atomically: a temp file (or link) in the same directory, its
    /// mode and owner set, fsync, rename over `path`. An identical file is left alone (its mode
    /// and owner fixed if need be); a different one is backed up first.
    fn put(&mut self, path: &Path, content: &Content, note: &str) -> Result<()> {
        let dir = path.parent().context("a hook path has a directory")?;
        let what = match content {
            Content::File { mode, .. } => format!("{}{mode:04o}", self.owner()),
            Content::Link(t) => format!("symlink to {}", t.display()),
        };
        let note = if note.is_empty() {
            String::new()
        } else {
            format!("; {note}")
        };
        let old = match fs::symlink_metadata(path) {
            Ok(md) => Some(md),
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let mut backup = None;
        if let Some(md) = &old {
            if md.is_dir() {
                bail!(
                    "{} is a directory: move it aside, then run install again",
                    path.display()
                );
            }
            if self.same(path, md, content) {
                let fixed = self.fix_attrs(path, md, content)?;
                if fixed.is_empty() {
                    self.line("unchanged", path, format!(" ({what})"));
                } else {
                    self.line("fixed", path, format!(": {}", fixed.join(", ")));
                }
                return Ok(());
            }
            backup = Some(self.backup(path)?);
        }
        let tmp = dir.join(format!(
            ".{}.iris-freeze-tmp.{}",
            path.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        ));
        let _ = fs::remove_file(&tmp);
        let r = self.write_tmp(&tmp, content).and_then(|()| {
            fs::rename(&tmp, path)?;
            if let Ok(d) = fs::File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(())
        });
        if let Err(e) = r {
            let _ = fs::remove_file(&tmp);
            return Err(e).with_context(|| format!("cannot write {}", path.display()));
        }
        match backup {
            Some(bak) => self.line(
                "replaced",
                path,
                format!(
                    " ({what}{note}); the old one is backed up as {}",
                    bak.display()
                ),
            ),
            None => self.line("created", path, format!(" ({what}{note})")),
        }
        Ok(())
    }

    fn write_tmp(&self, tmp: &Path, content: &Content) -> std::io::Result<()> {
        match content {
            Content::File { bytes, mode } => {
                let mut f = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(tmp)?;
                f.write_all(bytes)?;
                if self.root {
                    std::os::unix::fs::fchown(&f, Some(0), Some(0))?;
                }
                // After the chown, which may clear setuid bits; and whatever the umask.
                f.set_permissions(fs::Permissions::from_mode(*mode))?;
                f.sync_all()
            }
            Content::Link(target) => {
                std::os::unix::fs::symlink(target, tmp)?;
                if self.root {
                    std::os::unix::fs::lchown(tmp, Some(0), Some(0))?;
                }
                Ok(())
            }
        }
    }

    fn same(&self, path: &Path, md: &fs::Metadata, content: &Content) -> bool {
        match content {
            Content::File { bytes, .. } => {
                md.is_file() && fs::read(path).is_ok_and(|b| b == *bytes)
            }
            Content::Link(target) => {
                md.file_type().is_symlink() && fs::read_link(path).is_ok_and(|t| t == *target)
            }
        }
    }

    /// Sets the mode and owner of an identical file when they differ; what it fixed.
    fn fix_attrs(&self, path: &Path, md: &fs::Metadata, content: &Content) -> Result<Vec<String>> {
        let mut fixed = Vec::new();
        let wrong_owner = self.root && (md.uid() != 0 || md.gid() != 0);
        match content {
            Content::File { mode, .. } => {
                if wrong_owner {
                    std::os::unix::fs::chown(path, Some(0), Some(0))
                        .with_context(|| format!("cannot chown {}", path.display()))?;
                    fixed.push(format!("owner root:root (was {}:{})", md.uid(), md.gid()));
                }
                if md.mode() & 0o7777 != *mode || wrong_owner {
                    fs::set_permissions(path, fs::Permissions::from_mode(*mode))
                        .with_context(|| format!("cannot chmod {}", path.display()))?;
                    if md.mode() & 0o7777 != *mode {
                        fixed.push(format!("mode {mode:04o} (was {:04o})", md.mode() & 0o7777));
                    }
                }
            }
            Content::Link(_) => {
                if wrong_owner {
                    std::os::unix::fs::lchown(path, Some(0), Some(0))
                        .with_context(|| format!("cannot chown {}", path.display()))?;
                    fixed.push(format!("owner root:root (was {}:{})", md.uid(), md.gid()));
                }
            }
        }
        Ok(fixed)
    }

    /// Removes `path` if iris-freeze installed it; says what it did either way.
    fn remove_ours(&mut self, path: &Path, bin: &Path) -> Result<bool> {
        match fs::symlink_metadata(path) {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                self.line("absent", path, "");
                return Ok(true);
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
            Ok(_) => {}
        }
        if !is_ours(path, bin) {
            self.line(
                "kept",
                path,
                format!(
                    ": not installed by iris-freeze ({}); left alone",
                    describe(path)
                ),
            );
            return Ok(false);
        }
        fs::remove_file(path).with_context(|| format!("cannot remove {}", path.display()))?;
        self.line("removed", path, "");
        Ok(true)
    }
}

enum Content {
    File { bytes: Vec<u8>, mode: u32 },
    Link(PathBuf),
}

/// A few words on what sits at `path`.
pub(crate) fn describe(path: &Path) -> String {
    match fs::symlink_metadata(path) {
        Err(_) => "missing".into(),
        Ok(md) if md.file_type().is_symlink() => match fs::read_link(path) {
            Ok(t) => format!("a symlink to {}", t.display()),
            Err(_) => "a symlink".into(),
        },
        Ok(md) if md.is_dir() => "a directory".into(),
        Ok(md) if md.is_file() => {
            let head = fs::read(path)
                .map(|b| b.into_iter().take(4).collect::<Vec<u8>>())
                .unwrap_or_default();
            if head == b"\x7fELF" {
                "a binary".into()
            } else {
                format!("a file of {} bytes", md.len())
            }
        }
        Ok(_) => "not a regular file".into(),
    }
}

pub(crate) fn install(cfg: &Config, platform: Platform) -> Result<Report> {
    if platform == Platform::Aws {
        return Ok(Report::new(Exit::Success, aws_text(cfg)));
    }
    let bin = binary()?;
    let root = cfg.root.as_path();
    check_root(root)?;
    check_privilege(root, "installing")?;
    safe_binary(&bin)?;
    let mut run = Run::new();
    let mut notes = Vec::new();
    match platform {
        Platform::Azure => install_azure(cfg, &bin, &mut run, &mut notes)?,
        Platform::Qemu => {
            let real = qemu_hook(root);
            let path = under(root, real);
            if fs::symlink_metadata(&path).is_ok() && !is_ours(&path, &bin) {
                bail!(
                    "{} already exists and is not iris-freeze's ({}); it was left untouched. \
                     If it is qemu's stock dispatcher, it runs the scripts in {}.d/ and always \
                     exits 0, so a freeze that failed would not fail the snapshot: IRIS would \
                     not be frozen and the snapshot would still be reported as quiesced. Move \
                     it aside (for example `mv {} {}.orig`; put anything else it must run in a \
                     script iris-freeze does not replace), then run `iris-freeze install qemu` \
                     again",
                    path.display(),
                    describe(&path),
                    real,
                    path.display(),
                    path.display()
                );
            }
            let dir = path.parent().expect("an absolute path");
            run.ensure_dir(dir, 0o755)?;
            run.put(&path, &Content::Link(bin.clone()), "")?;
        }
        Platform::Gcp => {
            run.ensure_dir(&under(root, GCP_DIR), 0o700)?;
            for h in hook_files(platform, root) {
                run.put(&under(root, h.path), &Content::Link(bin.clone()), "")?;
            }
        }
        Platform::Vmware | Platform::Nutanix => {
            for h in hook_files(platform, root) {
                let path = under(root, h.path);
                run.ensure_dir(path.parent().expect("an absolute path"), 0o755)?;
                run.put(&path, &content_of(&h, &bin), "")?;
            }
        }
        Platform::Aws => unreachable!("handled above"),
    }

    let mut text = format!(
        "iris-freeze install {platform}: hooks run {}\n",
        bin.display()
    );
    for l in &run.lines {
        text.push_str(l);
        text.push('\n');
    }
    for n in &notes {
        text.push_str(n);
        text.push('\n');
    }
    text.push_str("\nnext steps:\n");
    for (i, step) in next_steps(cfg, platform).iter().enumerate() {
        text.push_str(&format!("  {}. {step}\n", i + 1));
    }
    Ok(Report::new(Exit::Success, text.trim_end().to_string()))
}

/// A --root that does not exist is most likely a typo: nothing is created under it.
fn check_root(root: &Path) -> Result<()> {
    if !root.is_dir() {
        bail!(
            "--root {} (IRIS_FREEZE_ROOT) is not a directory: nothing was changed",
            root.display()
        );
    }
    Ok(())
}

/// Hooks are root's. Another user may only work on a `--root` tree they own (tests, image
/// builds): anywhere else the writes would fail halfway through, on a permission error.
fn check_privilege(root: &Path, doing: &str) -> Result<()> {
    let euid = nix::unistd::geteuid();
    if euid.is_root() || fs::metadata(root).is_ok_and(|md| md.uid() == euid.as_raw()) {
        return Ok(());
    }
    bail!(
        "{doing} hooks needs root: run it as root (sudo), or pass --root DIR, a directory you \
         own, to stage an image or a test tree; nothing was changed"
    )
}

fn content_of(h: &HookFile, bin: &Path) -> Content {
    match h.kind {
        HookKind::Link => Content::Link(bin.to_path_buf()),
        HookKind::Wrapper { args, comment, .. } => Content::File {
            bytes: wrapper_text(comment, bin, args).into_bytes(),
            mode: h.mode,
        },
    }
}

fn install_azure(cfg: &Config, bin: &Path, run: &mut Run, notes: &mut Vec<String>) -> Result<()> {
    let root = cfg.root.as_path();
    let workload = under(root, AZURE_WORKLOAD);
    match fs::read(&workload) {
        Ok(b) => {
            if let Some(name) = azure_workload(&String::from_utf8_lossy(&b)) {
                bail!(
                    "nothing was written: {}",
                    workload_refusal(&workload, &name)
                );
            }
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => {
            return Err(e).with_context(|| {
                format!(
                    "cannot read {} (it decides whether Azure runs the pre/post scripts at \
                     all); nothing was written",
                    workload.display()
                )
            });
        }
    }

    let json_path = under(root, AZURE_JSON);
    let need = azure_timeout_needed(cfg);
    let (existing, invalid) = match fs::read(&json_path) {
        Ok(b) => match serde_json::from_slice::<Value>(&b) {
            Ok(Value::Object(m)) => (Some(m), None),
            Ok(other) => (None, Some(format!("it held {other}, not a JSON object"))),
            Err(e) => (None, Some(format!("it was not valid JSON: {e}"))),
        },
        Err(e) if e.kind() == ErrorKind::NotFound => (None, None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", json_path.display())),
    };
    let (merged, changes) = merge_azure_json(existing.clone().unwrap_or_default(), need);

    run.ensure_dir(&under(root, "/etc/azure"), 0o755)?;
    for h in hook_files(Platform::Azure, root) {
        run.put(&under(root, h.path), &content_of(&h, bin), "")?;
    }

    let mut note = Vec::new();
    if let Some(why) = &invalid {
        note.push(format!("rewritten: {why}"));
    }
    if !changes.is_empty() {
        note.push(changes.join(", "));
    }
    let mut bytes = serde_json::to_string_pretty(&Value::Object(merged.clone()))?.into_bytes();
    bytes.push(b'\n');
    let unchanged = existing.as_ref().is_some_and(|m| *m == merged);
    let content = if unchanged {
        // Same settings, maybe formatted differently: keep the file as it is.
        Content::File {
            bytes: fs::read(&json_path)?,
            mode: 0o600,
        }
    } else {
        Content::File { bytes, mode: 0o600 }
    };
    run.put(&json_path, &content, &note.join("; "))?;

    let t = cfg.timeout.as_secs_f64();
    if t.ceil() as u64 + AZURE_TIMEOUT_MARGIN > AZURE_MAX_TIMEOUT {
        notes.push(format!(
            "warning: --timeout {t}s plus the {AZURE_TIMEOUT_MARGIN}s margin is more than Azure's \
             limit of {AZURE_MAX_TIMEOUT}s: through these wrappers iris-freeze finishes within \
             Azure's limit instead"
        ));
    }
    let host = under(root, AZURE_HOST_CONF);
    if host.exists() {
        notes.push(format!(
            "note: {} exists: it overrides the plugin host settings Azure ships (iris-freeze \
             never writes it); make sure it still names {AZURE_JSON}",
            host.display()
        ));
    }
    Ok(())
}

fn next_steps(cfg: &Config, platform: Platform) -> Vec<String> {
    let check = format!("Run `iris-freeze check {platform}`: it must show no FAIL line.");
    let auth = "Every IRIS instance must let root open a %SYS session without a password (OS \
                authentication for %Service_Terminal), or name a credentials_file in \
                /etc/iris-freeze.toml."
        .to_string();
    let mut v = vec![check, auth];
    match platform {
        Platform::Azure => {
            v.push(
                "Nothing to restart: Azure Backup reads these files at the next backup. Take an \
                 on-demand backup; the recovery point must say application consistent. \
                 iris-freeze logs to /etc/preScript.log and /etc/postScript.log."
                    .into(),
            );
            v.push(format!(
                "timeoutInSeconds is {} s (iris-freeze's --timeout {}s + {AZURE_TIMEOUT_MARGIN}s); \
                 raise --timeout (timeout in /etc/iris-freeze.toml) only together with it.",
                azure_timeout_needed(cfg),
                cfg.timeout.as_secs_f64()
            ));
        }
        Platform::Vmware => v.push(
            "Take a quiesced snapshot (vSphere: \"Quiesce guest file system\"); VMware Tools \
             (open-vm-tools) must be running, and [vmbackup] execScripts must not be false in \
             /etc/vmware-tools/tools.conf. VMware kills a hook 5 s after SIGTERM at its \
             timeout."
                .into(),
        ),
        Platform::Qemu => v.push(format!(
            "qemu-ga runs the hook only when started with -F/--fsfreeze-hook. Debian/Ubuntu: \
             DAEMON_ARGS=\"-F{0}\" in /etc/default/qemu-guest-agent; RHEL: \
             FSFREEZE_HOOK_PATHNAME={0} in /etc/sysconfig/qemu-ga; then restart the agent \
             (`systemctl restart qemu-guest-agent`). Proxmox: enable the guest agent and \
             freeze-fs-on-backup for the VM.",
            qemu_hook(&cfg.root)
        )),
        Platform::Gcp => v.push(format!(
            "Enable the hooks in {GCP_CONFIG}:\n       [Snapshots]\n       enabled = true\n     \
             (and timeout_in_seconds above iris-freeze's --timeout if you raised it; default \
             60), then restart the guest agent (`systemctl restart google-guest-agent`) and \
             create snapshots with --guest-flush."
        )),
        Platform::Nutanix => v.push(
            "Nutanix Guest Tools must be installed and enabled for the VM, with \
             application-consistent snapshots in the protection policy."
                .into(),
        ),
        Platform::Aws => {}
    }
    v
}

fn aws_text(cfg: &Config) -> String {
    let t = cfg.timeout.as_secs_f64();
    let need = t.ceil() as u64 + AZURE_TIMEOUT_MARGIN;
    let timeout_note = if need > 120 {
        format!(
            " WARNING: --timeout {t}s plus {AZURE_TIMEOUT_MARGIN}s is more than DLM's 120 s: \
             lower timeout in /etc/iris-freeze.toml to at most {} s.",
            120 - AZURE_TIMEOUT_MARGIN
        )
    } else {
        String::new()
    };
    let bin_note = match binary() {
        Ok(b) if b != Path::new(AWS_BINARY) && b != Path::new("/usr/sbin/iris-freeze") => format!(
            "\nThe document runs /usr/sbin/iris-freeze (the package), else {AWS_BINARY}; this \
             binary is {}: install the package, or copy it to {AWS_BINARY}, on every instance.",
            b.display()
        ),
        _ => String::new(),
    };
    format!(
        "iris-freeze install aws: nothing is written on this host. Amazon Data Lifecycle Manager \
         runs iris-freeze through an SSM Command document ({AWS_DOCUMENT_SOURCE} in the \
         iris-freeze source; printed below).{bin_note}\n\
         \n\
         next steps:\n  \
         1. Save the document below as iris-freeze.yml and create it, tagged for DLM:\n       \
         aws ssm create-document --name IrisFreeze --document-type Command \
         --document-format YAML --content file://iris-freeze.yml --tags \
         Key=DLMScriptsAccess,Value=true\n  \
         2. In the DLM snapshot policy (targeting instances), add pre and post scripts to the \
         schedule: Stages PRE and POST, ExecutionHandlerService AWS_SYSTEMS_MANAGER, \
         ExecutionHandler IrisFreeze, ExecutionTimeout at least {need} s (iris-freeze's --timeout \
         {t}s plus {AZURE_TIMEOUT_MARGIN}s for a rollback; DLM allows 10 to 120, default 10 is \
         too short){timeout_note}, ExecuteOperationOnScriptFailure as you prefer. The DLM role \
         needs AWSDataLifecycleManagerSSMFullAccess (which requires the DLMScriptsAccess:true \
         tag).\n  \
         3. Every instance needs the SSM Agent, iris-freeze at /usr/sbin (the package) or {AWS_BINARY}, and OS \
         authentication for %Service_Terminal (or credentials_file in /etc/iris-freeze.toml). \
         Test with `aws ssm send-command --document-name IrisFreeze --parameters \
         command=dry-run ...`.\n\
         \n\
         --- {AWS_DOCUMENT_SOURCE}\n{}",
        AWS_DOCUMENT.trim_end()
    )
}

pub(crate) fn uninstall(cfg: &Config, platform: Platform) -> Result<Report> {
    if platform == Platform::Aws {
        return Ok(Report::new(
            Exit::Success,
            "iris-freeze uninstall aws: nothing was installed on this host. Remove the pre/post \
             scripts from the DLM policy's schedule, then delete the SSM document (`aws ssm \
             delete-document --name IrisFreeze`).",
        ));
    }
    let bin = binary()?;
    let root = cfg.root.as_path();
    check_root(root)?;
    check_privilege(root, "uninstalling")?;
    let mut run = Run::new();
    let mut all = true;
    let mut files: Vec<&'static str> = hook_files(platform, root).iter().map(|h| h.path).collect();
    if platform == Platform::Qemu {
        files = vec![QEMU_HOOK, QEMU_GA_HOOK];
    }
    let layout = qemu_hook(root);
    for f in &files {
        let path = under(root, f);
        // qemu: the other layout's hook only when there is one.
        if platform == Platform::Qemu && *f != layout && fs::symlink_metadata(&path).is_err() {
            continue;
        }
        all &= run.remove_ours(&path, &bin)?;
    }
    if platform == Platform::Azure {
        uninstall_azure_json(root, &mut run)?;
    }
    if run.lines.is_empty() {
        run.lines.push("nothing to remove".into());
    }
    let mut text = format!("iris-freeze uninstall {platform}\n{}", run.lines.join("\n"));
    if !all {
        text.push_str(
            "\nFiles iris-freeze did not install were left in place; remove them yourself if \
             they are no longer wanted.",
        );
    }
    Ok(Report::new(Exit::Success, text))
}

/// Removes the plugin JSON when it names our wrappers and they are gone (it would otherwise
/// point Azure at missing scripts: a warning on every backup); it is backed up first.
fn uninstall_azure_json(root: &Path, run: &mut Run) -> Result<()> {
    let path = under(root, AZURE_JSON);
    let Ok(bytes) = fs::read(&path) else {
        run.line("absent", &path, "");
        return Ok(());
    };
    let v: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(_) => {
            run.line(
                "kept",
                &path,
                ": not valid JSON, so not iris-freeze's; left alone",
            );
            return Ok(());
        }
    };
    let loc = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let (pre, post) = (loc("preScriptLocation"), loc("postScriptLocation"));
    let ours = [(&pre, AZURE_PRE), (&post, AZURE_POST)]
        .iter()
        .all(|(l, p)| l.as_str() == *p && fs::symlink_metadata(under(root, p)).is_err());
    if !ours {
        run.line(
            "kept",
            &path,
            format!(
                ": it names scripts iris-freeze did not install or that are still there \
                 (preScriptLocation {pre:?}, postScriptLocation {post:?}); left alone"
            ),
        );
        return Ok(());
    }
    let bak = run.backup_path(&path);
    fs::rename(&path, &bak)
        .with_context(|| format!("cannot move {} aside as {}", path.display(), bak.display()))?;
    run.line(
        "removed",
        &path,
        format!(
            "; backed up as {} (Azure Backup now takes file-system-consistent snapshots)",
            bak.display()
        ),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_quotes_and_spaces() {
        assert_eq!(
            sh_quote("/usr/local/sbin/iris-freeze"),
            "'/usr/local/sbin/iris-freeze'"
        );
        assert_eq!(sh_quote("/opt/it's here/x"), "'/opt/it'\\''s here/x'");
    }

    #[test]
    fn the_azure_wrapper_is_exactly_this() {
        let h = &hook_files(Platform::Azure, Path::new("/nonexistent"))[0];
        let HookKind::Wrapper { args, comment, .. } = h.kind else {
            panic!("not a wrapper")
        };
        assert_eq!(
            wrapper_text(comment, Path::new("/abs/path/iris-freeze"), args),
            "#!/bin/sh\n# Installed by iris-freeze: Azure Backup pre-script. Azure runs it as \
             `sh <file> \"\" \"\"`.\nexec '/abs/path/iris-freeze' azure-pre \"$@\"\n"
        );
    }

    #[test]
    fn workload_names_are_found_only_in_their_section() {
        assert_eq!(
            azure_workload("[workload]\nworkload_name = mysql\n").as_deref(),
            Some("mysql")
        );
        assert_eq!(
            azure_workload("[workload]\nWorkload_Name: oracle\n").as_deref(),
            Some("oracle")
        );
        assert_eq!(azure_workload("[workload]\nworkload_name =\n"), None);
        assert_eq!(
            azure_workload("# workload_name = mysql\n[workload]\n"),
            None
        );
        assert_eq!(azure_workload("[other]\nworkload_name = mysql\n"), None);
        assert_eq!(
            azure_workload("[workload]\n; workload_name = x\nworkload_name = \n"),
            None
        );
    }

    #[test]
    fn merging_keeps_unknown_keys_order_and_larger_timeouts() {
        let existing: Map<String, Value> = serde_json::from_str(
            r#"{"appName":"x","timeoutInSeconds":600,"preScriptParams":"ab",
                "postScriptParams":["IRIS"],"continueBackupOnFailure":"false"}"#,
        )
        .unwrap();
        let (m, notes) = merge_azure_json(existing, 45);
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        assert_eq!(
            &keys[..3],
            ["appName", "timeoutInSeconds", "preScriptParams"]
        );
        assert_eq!(m["timeoutInSeconds"], json!(600));
        assert_eq!(m["preScriptParams"], json!(["", ""]));
        assert_eq!(m["postScriptParams"], json!(["IRIS"]));
        assert_eq!(m["continueBackupOnFailure"], json!(true));
        assert_eq!(m["pluginName"], json!("ScriptRunner"));
        assert_eq!(m["preScriptNoOfRetries"], json!(0));
        assert!(
            notes.iter().any(|n| n.contains("preScriptParams")),
            "{notes:?}"
        );

        let (m, notes) = merge_azure_json(
            serde_json::from_str(r#"{"timeoutInSeconds":"60"}"#).unwrap(),
            45,
        );
        assert_eq!(m["timeoutInSeconds"], json!(45));
        assert!(notes[0].contains("JSON number"), "{notes:?}");
        let (m2, notes) = merge_azure_json(m.clone(), 45);
        assert_eq!(m, m2);
        assert!(notes.is_empty(), "{notes:?}");
    }
}
