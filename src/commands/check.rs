//! `check [PLATFORM]`: a doctor for the whole chain. Never freezes anything.
//!
//! One line per check: `ok   <what>`, `warn <what>: <fix>`, `FAIL <what>: <fix>`. Any FAIL
//! makes the exit 1. With a platform, its hook setup is checked too; for Azure with the
//! extension's own rules (stat following symlinks, owner *name* root, the mode digits) and
//! what the extension cannot see (an ELF run by `sh`, strings for numbers, short timeouts, a
//! wrapper whose binary is missing or writable by others).

use std::fs;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use serde_json::Value;

use crate::commands::install::{self, HookFile, HookKind};
use crate::config::{Config, under};
use crate::exit_code::Exit;
use crate::host::state::StateDir;
use crate::host::systemd;
use crate::iris::backup::{self, Answer, IS_WD_SUSPENDED, Target};
use crate::iris::credentials::Credentials;
use crate::iris::discovery::{self, Availability, Tools};
use crate::iris::session::Stop;
use crate::platform::Platform;
use crate::report::Report;

/// The collected lines.
#[derive(Default)]
struct Lines {
    lines: Vec<String>,
    fails: usize,
    warns: usize,
    oks: usize,
}

impl Lines {
    fn ok(&mut self, what: impl AsRef<str>) {
        self.oks += 1;
        self.lines.push(format!("ok   {}", what.as_ref()));
    }

    fn warn(&mut self, what: impl AsRef<str>, fix: impl AsRef<str>) {
        self.warns += 1;
        self.lines.push(format!(
            "warn {}: {}",
            one_line(what.as_ref()),
            one_line(fix.as_ref())
        ));
    }

    fn fail(&mut self, what: impl AsRef<str>, fix: impl AsRef<str>) {
        self.fails += 1;
        self.lines.push(format!(
            "FAIL {}: {}",
            one_line(what.as_ref()),
            one_line(fix.as_ref())
        ));
    }

    /// A rule about root ownership: a FAIL when running as root, a warning otherwise (files
    /// staged by another user are chowned later, or the check runs unprivileged).
    fn owner_problem(&mut self, what: impl AsRef<str>, fix: impl AsRef<str>) {
        if nix::unistd::geteuid().is_root() {
            self.fail(what, fix);
        } else {
            self.warn(
                what,
                format!("{} (iris-freeze is not running as root)", fix.as_ref()),
            );
        }
    }
}

/// One line per check: a multi-line message (a TOML error with its source excerpt) is joined,
/// without the excerpt's gutter lines.
fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| {
            let gutter = l
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .trim_start();
            !l.is_empty() && !gutter.starts_with('|')
        })
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" ; ", "; ")
}

pub(crate) fn run(cfg: &Config, platform: Option<Platform>) -> Result<Report> {
    let mut out = Lines::default();
    let bin = check_binary(&mut out);
    check_config(cfg, &mut out);
    let creds = check_credentials(cfg, &mut out);
    check_instances(cfg, creds, &mut out);
    check_state_dir(cfg, &mut out);
    check_watchdog_systemd(&mut out);
    if let Some(p) = platform {
        match p {
            Platform::Azure => check_azure(cfg, bin.as_deref(), &mut out),
            Platform::Aws => check_aws(cfg, &mut out),
            _ => check_hooks(cfg, p, bin.as_deref(), &mut out),
        }
    }
    let exit = if out.fails > 0 {
        Exit::Failure
    } else {
        Exit::Success
    };
    let mut text = out.lines.join("\n");
    text.push_str(&format!(
        "\n{} ok, {} warning{}, {} failed{}",
        out.oks,
        out.warns,
        if out.warns == 1 { "" } else { "s" },
        out.fails,
        if out.fails > 0 { " (exit 1)" } else { "" }
    ));
    Ok(Report::new(exit, text))
}

/// The binary itself: every hook runs it as root.
fn check_binary(out: &mut Lines) -> Option<PathBuf> {
    let bin = match install::binary() {
        Ok(b) => b,
        Err(e) => {
            out.fail(
                "this program's path",
                format!("{e:#}; install it as /usr/local/sbin/iris-freeze"),
            );
            return None;
        }
    };
    match install::safe_binary(&bin) {
        Ok(md) => out.ok(format!(
            "binary {} (uid {}, mode {:04o})",
            bin.display(),
            md.uid(),
            md.mode() & 0o7777
        )),
        Err(e) => out.owner_problem(format!("binary {}", bin.display()), format!("{e:#}")),
    }
    Some(bin)
}

fn check_config(cfg: &Config, out: &mut Lines) {
    let path = cfg.config_file.display();
    if let Some(e) = &cfg.config_error {
        out.fail(
            format!("config file {path}"),
            format!("{e}; fix the file (examples/iris-freeze.toml lists every key)"),
        );
    } else if !cfg.config_found {
        out.ok(format!("config file {path}: none, defaults in use"));
    } else {
        match crate::config::check_config_file(&cfg.config_file) {
            Ok(()) => out.ok(format!("config file {path}")),
            Err(e) => out.fail(format!("config file {path}"), format!("{e:#}")),
        }
    }
}

fn check_credentials(cfg: &Config, out: &mut Lines) -> Option<Credentials> {
    let path = cfg.credentials_file.as_ref()?;
    match Credentials::load(path) {
        Ok(c) => {
            out.ok(format!(
                "credentials file {} (user {:?}, mode 0600 or stricter)",
                path.display(),
                c.user()
            ));
            Some(c)
        }
        Err(e) => {
            out.fail(
                format!("credentials file {}", path.display()),
                format!("{e:#}"),
            );
            None
        }
    }
}

/// The programs, the instances, and a login to each running one.
fn check_instances(cfg: &Config, creds: Option<Credentials>, out: &mut Lines) {
    let deadline = Instant::now() + cfg.timeout;
    let tools = match Tools::find(&cfg.bin_dirs) {
        Ok(t) => t,
        Err(e) => {
            out.fail("IRIS programs", format!("{e:#}"));
            return;
        }
    };
    let found: Vec<String> = [
        ("iris", &tools.iris),
        ("csession", &tools.csession),
        ("ccontrol", &tools.ccontrol),
    ]
    .iter()
    .filter_map(|(n, p)| p.as_ref().map(|p| format!("{n} {}", p.display())))
    .collect();
    // An unsafe copy first on a path is skipped, but root's shell would still run it.
    for r in &tools.refused {
        out.fail(format!("unsafe {} skipped", r.name), &r.why);
    }
    out.ok(format!("programs: {}", found.join(", ")));

    let listing = discovery::list(&tools, deadline);
    for e in &listing.errors {
        out.fail(
            "instance list",
            format!("{e}; a freeze without --instance refuses to run until it works"),
        );
    }
    if listing.instances.is_empty() {
        if listing.errors.is_empty() {
            out.warn(
                "instances: none",
                "qlist shows no instance, so a freeze has nothing to do; is IRIS installed on \
                 this host?",
            );
        }
        return;
    }
    out.ok(format!("instances: {}", listing.names()));

    let mut targets = Vec::new();
    for inst in &listing.instances {
        match inst.availability() {
            Availability::Running => match tools.session_for(&inst.name, inst.kind) {
                Ok(session) => targets.push(Target {
                    name: inst.name.clone(),
                    session,
                    emergency: None,
                    credentials: creds.clone(),
                }),
                Err(e) => out.fail(format!("instance {}", inst.name), format!("{e:#}")),
            },
            Availability::Down => out.ok(format!(
                "instance {} is down: a freeze skips it (its files are consistent)",
                inst.name
            )),
            Availability::Unavailable => out.warn(
                format!("instance {} is '{}'", inst.name, inst.status),
                "a freeze fails while it is up but not accepting logins; wait until it is \
                 running, or leave it out with `instances` in /etc/iris-freeze.toml",
            ),
        }
    }
    let answers = backup::each(&targets, |t| {
        backup::call(t, IS_WD_SUSPENDED, deadline, Stop::Never)
    });
    for (t, (answer, o)) in targets.iter().zip(answers) {
        let how = if t.credentials.is_some() {
            "with the credentials file"
        } else {
            "without a login prompt"
        };
        match answer {
            Answer::No => out.ok(format!(
                "instance {}: %SYS session {how} ({:.1}s), not frozen",
                t.name,
                o.elapsed.as_secs_f64()
            )),
            Answer::Yes => out.warn(
                format!(
                    "instance {}: %SYS session {how} works, but its write daemon is suspended \
                     right now",
                    t.name
                ),
                "if iris-freeze did not freeze it, a freeze leaves it alone (exit 2); \
                 `iris-freeze status` shows who froze it",
            ),
            Answer::Unknown => out.fail(
                format!("instance {}", t.name),
                backup::problem(t, IS_WD_SUSPENDED, &o),
            ),
        }
    }
}

fn check_state_dir(cfg: &Config, out: &mut Lines) {
    let dir = &cfg.state_dir;
    match fs::symlink_metadata(dir) {
        Ok(_) => match StateDir::open(dir).and_then(|s| s.load()) {
            Ok(state) => {
                out.ok(format!("state dir {}", dir.display()));
                if !state.instances.is_empty() {
                    let names: Vec<&str> = state.instances.keys().map(String::as_str).collect();
                    out.warn(
                        format!(
                            "the state records {} as frozen (or being frozen) by iris-freeze",
                            names.join(", ")
                        ),
                        "a freeze is in progress or its thaw never came; `iris-freeze status` \
                         shows it, `iris-freeze thaw` thaws it",
                    );
                }
            }
            Err(e) => out.fail(format!("state dir {}", dir.display()), format!("{e:#}")),
        },
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let mut parent = dir.as_path();
            while fs::symlink_metadata(parent).is_err() {
                match parent.parent() {
                    Some(p) => parent = p,
                    None => break,
                }
            }
            let usable = parent.is_dir()
                && nix::unistd::access(
                    parent,
                    nix::unistd::AccessFlags::W_OK | nix::unistd::AccessFlags::X_OK,
                )
                .is_ok();
            if usable {
                out.ok(format!(
                    "state dir {} (created 0700 at the first freeze)",
                    dir.display()
                ));
            } else {
                out.fail(
                    format!("state dir {}", dir.display()),
                    format!(
                        "it does not exist and {} is not writable: run as root, or set \
                         state_dir in /etc/iris-freeze.toml (or IRIS_FREEZE_STATE_DIR)",
                        parent.display()
                    ),
                );
            }
        }
        Err(e) => out.fail(format!("state dir {}", dir.display()), e.to_string()),
    }
}

/// Where systemd runs, the watchdog must be a unit of its own: as a detached process it lives
/// in the caller's cgroup, and a stop of the backup agent's unit (KillMode=control-group, the
/// default) kills it with the agent, leaving IRIS frozen.
fn check_watchdog_systemd(out: &mut Lines) {
    if !systemd::booted() {
        out.ok("watchdog: a detached process (systemd is not running)");
        return;
    }
    let risk = "it dies when the backup agent's unit is stopped, and nothing thaws IRIS then";
    if systemd::opted_out() {
        out.warn(
            "watchdog: IRIS_FREEZE_NO_SYSTEMD is set, so it runs as a detached process although \
             systemd runs",
            format!("{risk}; unset IRIS_FREEZE_NO_SYSTEMD in the hook's environment"),
        );
        return;
    }
    let programs = ["systemd-run", "systemctl"].map(systemd::program);
    match programs {
        [Ok(run), Ok(_)] => out.ok(format!(
            "watchdog: a transient systemd unit ({})",
            run.display()
        )),
        [Err(e), _] | [_, Err(e)] => out.warn(
            format!("watchdog: cannot use systemd ({e:#}), so it runs as a detached process"),
            format!("{risk}; install systemd's own systemd-run and systemctl, owned by root"),
        ),
    }
}

/// The user name of `uid`, as Azure's `getpwuid(st_uid).pw_name` sees it: read from
/// /etc/passwd, not through NSS, because the shipped binary is static (glibc's NSS modules
/// cannot be loaded safely from a static binary). The accounts Azure cares about (root) are
/// local ones.
fn owner_name(uid: u32) -> String {
    fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() > 2 && f[2].parse::<u32>().ok() == Some(uid)).then(|| f[0].to_string())
            })
        })
        .unwrap_or_else(|| format!("uid {uid}"))
}

fn is_elf(path: &Path) -> bool {
    let mut head = [0u8; 4];
    fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && head == *b"\x7fELF"
}

/// The words of one shell command line: quotes and backslashes undone; stops at a comment or
/// a command separator.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    cur.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' if matches!(chars.peek(), Some('"' | '\\' | '$' | '`')) => {
                            cur.push(chars.next().expect("peeked"));
                        }
                        c => cur.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '#' if !in_word => break,
            ';' | '&' | '|' => break,
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// The program a shell wrapper runs and its arguments: the first command that is `exec PATH`
/// or starts with an absolute path or an `iris-freeze` word.
fn wrapper_call(text: &str) -> Option<(String, Vec<String>)> {
    for line in text.lines() {
        let mut w = words(line);
        if w.first().is_some_and(|f| f == "exec") {
            w.remove(0);
        }
        let Some(first) = w.first() else { continue };
        if first.starts_with('/') || first.ends_with("iris-freeze") {
            let prog = w.remove(0);
            return Some((prog, w));
        }
    }
    None
}

/// The binary a wrapper runs (as written, or under --root).
fn resolve_exec(cfg: &Config, prog: &str) -> PathBuf {
    let p = PathBuf::from(prog);
    if fs::metadata(&p).is_err() && p.is_absolute() {
        let u = under(&cfg.root, prog);
        if fs::metadata(&u).is_ok() {
            return u;
        }
    }
    p
}

/// The program a hook runs as root: it must exist, be executable, and only root may write it.
/// True when it is fine.
fn check_runs(out: &mut Lines, what: &str, target: &Path, shown: &str, platform: Platform) -> bool {
    let md = match fs::metadata(target) {
        Ok(md) => md,
        Err(e) => {
            out.fail(
                format!("{what} runs {shown}, which {}", missing(&e)),
                format!(
                    "install iris-freeze there, or run `iris-freeze install {platform}` with the \
                     binary you want the hook to run"
                ),
            );
            return false;
        }
    };
    if !md.is_file() || md.mode() & 0o111 == 0 {
        out.fail(
            format!("{what} runs {shown}, which is not an executable file"),
            format!("`chmod 0755 {shown}`, or run `iris-freeze install {platform}`"),
        );
        return false;
    }
    if md.mode() & 0o022 != 0 {
        out.fail(
            format!(
                "{what} runs {shown}, which group or others can write (mode {:04o})",
                md.mode() & 0o7777
            ),
            format!(
                "the hook runs it as root at every snapshot, so anyone who can write it can \
                 run anything as root; fix: `chmod go-w {shown}`"
            ),
        );
        return false;
    }
    if md.uid() != 0 {
        out.owner_problem(
            format!(
                "{what} runs {shown}, which is owned by {}, not root",
                owner_name(md.uid())
            ),
            format!(
                "the hook runs it as root at every snapshot, so its owner can run anything as \
                 root; fix: `chown root:root {shown}`"
            ),
        );
        return false;
    }
    true
}

fn missing(e: &std::io::Error) -> String {
    if e.kind() == ErrorKind::NotFound {
        "does not exist".into()
    } else {
        format!("cannot be read ({e})")
    }
}

// ---------------------------------------------------------------------------------------------
// Azure

fn check_azure(cfg: &Config, bin: Option<&Path>, out: &mut Lines) {
    let root = cfg.root.as_path();
    let need = install::azure_timeout_needed(cfg);

    let workload = under(root, install::AZURE_WORKLOAD);
    match fs::read(&workload) {
        Ok(b) => match install::azure_workload(&String::from_utf8_lossy(&b)) {
            Some(name) => out.fail(
                format!("{} names the workload {name}", workload.display()),
                format!(
                    "Azure then runs its own {name} scripts and silently skips the pre/post \
                     scripts, so IRIS is never frozen; fix: empty it (`workload_name =` in the \
                     [workload] section)"
                ),
            ),
            None => out.ok(format!("{} names no workload", workload.display())),
        },
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => out.fail(
            format!("{}", workload.display()),
            format!("cannot read it ({e}); Azure reads it to decide whether pre/post scripts run"),
        ),
    }

    let host = under(root, install::AZURE_HOST_CONF);
    if let Ok(md) = fs::metadata(&host) {
        let m = md.mode() & 0o777;
        let (g, o) = ((m >> 3) & 7, m & 7);
        let name = owner_name(md.uid());
        if ![0, 4].contains(&g) || ![0, 4].contains(&o) || name != "root" {
            out.fail(
                format!("{} (owner {name}, mode {m:03o})", host.display()),
                "Azure refuses it (314) and runs no script; iris-freeze never needs this file: \
                 remove it, or `chown root:root` and `chmod 644` it",
            );
        } else {
            out.warn(
                format!("{} exists", host.display()),
                format!(
                    "it replaces the plugin host settings Azure ships; iris-freeze does not need \
                     it: make sure it names {} as pluginConfigPath0, or remove it",
                    install::AZURE_JSON
                ),
            );
        }
    }

    let json_path = under(root, install::AZURE_JSON);
    let shown = json_path.display().to_string();
    let md = match fs::metadata(&json_path) {
        Ok(md) => md,
        Err(e) => {
            out.fail(
                format!("{shown} {}", missing(&e)),
                "Azure runs no pre/post script and takes file-system-consistent snapshots; fix: \
                 `iris-freeze install azure`",
            );
            return;
        }
    };
    let m = md.mode() & 0o777;
    let owner = owner_name(md.uid());
    if (m >> 6) & 1 != 0 || (m >> 3) & 7 != 0 || m & 7 != 0 {
        out.fail(
            format!("{shown} has mode {m:03o}"),
            format!(
                "Azure requires no owner-execute and no group/other permissions (error 317: no \
                 script runs); fix: `chmod 600 {shown}`"
            ),
        );
    }
    if owner != "root" {
        out.owner_problem(
            format!("{shown} is owned by {owner}, not root"),
            format!("Azure refuses it (error 317: no script runs); fix: `chown root:root {shown}`"),
        );
    }
    let text = match fs::read(&json_path) {
        Ok(t) => t,
        Err(e) => {
            out.fail(&shown, format!("cannot read it: {e}"));
            return;
        }
    };
    let v: Value = match serde_json::from_slice(&text) {
        Ok(v) => v,
        Err(e) => {
            out.fail(
                format!("{shown} is not valid JSON ({e})"),
                "Azure fails to parse it (error 305) and runs no script; fix it, or move it aside \
                 and run `iris-freeze install azure`",
            );
            return;
        }
    };
    let Some(obj) = v.as_object() else {
        out.fail(
            format!("{shown} is not a JSON object"),
            "Azure cannot read its settings (error 305); fix: `iris-freeze install azure`",
        );
        return;
    };
    if m & 0o077 == 0 && (m >> 6) & 1 == 0 && owner == "root" {
        out.ok(format!("{shown}: valid JSON, owner root, mode {m:03o}"));
    }

    for (key, params, pre) in [
        ("preScriptLocation", "preScriptParams", true),
        ("postScriptLocation", "postScriptParams", false),
    ] {
        check_azure_script(cfg, bin, obj.get(key), key, pre, out);
        match obj.get(params) {
            None | Some(Value::Array(_)) => {}
            Some(Value::String(s)) => out.fail(
                format!("{params} is a string ({s:?}), not an array"),
                format!(
                    "Azure passes a string one character per argument; fix: \"{params}\": [\"\", \
                     \"\"]"
                ),
            ),
            Some(other) => out.fail(
                format!("{params} is {other}, not an array"),
                format!("Azure fails iterating it; fix: \"{params}\": [\"\", \"\"]"),
            ),
        }
    }

    match obj.get("timeoutInSeconds") {
        None => out.fail(
            "timeoutInSeconds is absent",
            format!(
                "Azure's default is 10 s, shorter than iris-freeze's deadline (--timeout {}s \
                 plus rollback and margin); fix: \"timeoutInSeconds\": {need} (`iris-freeze \
                 install azure` sets it)",
                cfg.timeout.as_secs_f64()
            ),
        ),
        Some(Value::Number(n)) => {
            let t = n.as_f64().unwrap_or(0.0);
            if t < need as f64 {
                out.fail(
                    format!("timeoutInSeconds is {n}"),
                    format!(
                        "shorter than iris-freeze's deadline (--timeout {}s plus {}s for the \
                         rollback, kill graces and Azure's poll): a freeze can still be running \
                         when Azure gives up and snapshots; fix: \"timeoutInSeconds\": {need}",
                        cfg.timeout.as_secs_f64(),
                        install::AZURE_TIMEOUT_MARGIN
                    ),
                );
            } else if t > install::AZURE_MAX_TIMEOUT as f64 {
                out.ok(format!(
                    "timeoutInSeconds {n} (Azure caps it at {})",
                    install::AZURE_MAX_TIMEOUT
                ));
            } else {
                out.ok(format!("timeoutInSeconds {n} (iris-freeze needs {need})"));
            }
        }
        Some(other) => out.fail(
            format!("timeoutInSeconds is {other}, not a JSON number"),
            format!(
                "Azure fails comparing it (error 304) and runs no script; fix: \
                 \"timeoutInSeconds\": {need}"
            ),
        ),
    }

    for (key, what) in [
        (
            "continueBackupOnFailure",
            "a string is always true to Azure and later breaks its logic",
        ),
        ("fsFreezeEnabled", "Azure needs a JSON boolean"),
    ] {
        match obj.get(key) {
            None | Some(Value::Bool(true)) => out.ok(format!("{key} true")),
            Some(Value::Bool(false)) if key == "fsFreezeEnabled" => out.warn(
                "fsFreezeEnabled is false",
                "Azure then neither freezes the file systems nor takes a snapshot when a script \
                 fails; fix: \"fsFreezeEnabled\": true",
            ),
            Some(Value::Bool(false)) => out.ok(format!(
                "{key} false: a failed freeze fails the backup job instead of taking a \
                 file-system-consistent snapshot"
            )),
            Some(other) => out.fail(
                format!("{key} is {other}, not a JSON boolean"),
                format!("{what}; fix: \"{key}\": true"),
            ),
        }
    }

    let key = "ScriptsExecutionPollTimeSeconds";
    match obj.get(key) {
        None => out.warn(
            format!("{key} is absent"),
            "Azure polls every 3 s, adding up to 6 s to each freeze window; fix: \
             \"ScriptsExecutionPollTimeSeconds\": 1",
        ),
        Some(v) => {
            // What Python's int() makes of it.
            let n = match v {
                Value::Number(n) => n.as_f64().map(|f| f.trunc() as i64),
                Value::String(s) => s.trim().parse::<i64>().ok(),
                Value::Bool(b) => Some(*b as i64),
                _ => None,
            };
            match n {
                None => out.fail(
                    format!("{key} is {v}, not a number"),
                    format!("Azure fails on it (error 305) and runs no script; fix: \"{key}\": 1"),
                ),
                Some(n) if !(1..=5).contains(&n) => out.fail(
                    format!("{key} is {v}, outside 1..5"),
                    format!("Azure ignores it and polls every 3 s; fix: \"{key}\": 1"),
                ),
                Some(_) if !v.is_number() => out.fail(
                    format!("{key} is {v}, not a JSON number"),
                    format!("fix: \"{key}\": 1"),
                ),
                Some(n) => out.ok(format!("{key} {n}")),
            }
        }
    }

    for key in ["preScriptNoOfRetries", "postScriptNoOfRetries"] {
        if let Some(v) = obj.get(key).filter(|v| v.as_f64() != Some(0.0)) {
            out.warn(
                format!("{key} is {v}"),
                format!(
                    "Azure's retries never run the script again (they re-poll the finished \
                     process); fix: \"{key}\": 0"
                ),
            );
        }
    }
}

fn check_azure_script(
    cfg: &Config,
    bin: Option<&Path>,
    loc: Option<&Value>,
    key: &str,
    pre: bool,
    out: &mut Lines,
) {
    let fix = "fix: `iris-freeze install azure`";
    let loc = match loc {
        None => {
            out.fail(
                format!("{key} is missing"),
                format!("Azure fails on the JSON (error 305) and runs no script; {fix}"),
            );
            return;
        }
        Some(Value::String(s)) if s.trim().is_empty() => {
            out.fail(
                format!("{key} is empty"),
                format!("Azure reports the script missing (302/303) on every backup; {fix}"),
            );
            return;
        }
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            out.fail(
                format!("{key} is {other}, not a path"),
                format!("Azure cannot find a script there; {fix}"),
            );
            return;
        }
    };
    if !loc.starts_with('/') {
        out.fail(
            format!("{key} {loc:?} is a relative path"),
            format!("Azure resolves it against its extension directory; {fix}"),
        );
        return;
    }
    let path = under(&cfg.root, &loc);
    let shown = path.display().to_string();
    let what = if pre { "pre-script" } else { "post-script" };
    let code = if pre { (302, 306) } else { (303, 307) };
    // Azure stats it: a symlink is judged by its target.
    let md = match fs::metadata(&path) {
        Ok(md) if md.is_file() => md,
        Ok(_) => {
            out.fail(
                format!("{what} {shown} is not a regular file"),
                format!("Azure reports it missing ({}); {fix}", code.0),
            );
            return;
        }
        Err(e) => {
            out.fail(
                format!("{what} {shown} {}", missing(&e)),
                format!(
                    "Azure skips the scripts ({}) and takes file-system-consistent snapshots; \
                     {fix}",
                    code.0
                ),
            );
            return;
        }
    };
    let link = fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
    let mut good = true;
    if is_elf(&path) {
        good = false;
        let target = fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        let is_us = bin.is_some_and(|b| b == target);
        out.fail(
            if link {
                format!(
                    "{what} {shown} is a symlink to the binary {}{}",
                    target.display(),
                    if is_us { " (iris-freeze itself)" } else { "" }
                )
            } else {
                format!("{what} {shown} is an ELF binary")
            },
            format!(
                "Azure runs it as `sh {loc} \"\" \"\"`, and sh cannot run a binary (dash: Syntax \
                 error: \"(\" unexpected), so every freeze fails; it must be a shell wrapper; {fix}"
            ),
        );
    }
    let m = md.mode() & 0o777;
    if m & 0o077 != 0 {
        good = false;
        out.fail(
            format!(
                "{what} {shown} has mode {m:03o}{}",
                if link { " (its symlink target's)" } else { "" }
            ),
            format!(
                "Azure requires no group/other permissions ({}: the scripts are skipped); fix: \
                 `chmod 0700 {shown}`{}",
                code.1,
                if link {
                    ", or replace the symlink: `iris-freeze install azure`"
                } else {
                    ""
                }
            ),
        );
    }
    let owner = owner_name(md.uid());
    if owner != "root" {
        good = false;
        out.owner_problem(
            format!("{what} {shown} is owned by {owner}, not root"),
            format!(
                "Azure refuses it ({}: the scripts are skipped); fix: `chown root:root {shown}`",
                code.1
            ),
        );
    }
    if is_elf(&path) {
        return;
    }
    let text = fs::read(&path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let ours = text.contains(install::MARKER);
    match wrapper_call(&text) {
        Some((prog, args)) => {
            let target = resolve_exec(cfg, &prog);
            good &= check_runs(
                out,
                &format!("{what} {shown}"),
                &target,
                &prog,
                Platform::Azure,
            );
            let verbs = if pre {
                install::PRE_VERBS
            } else {
                install::POST_VERBS
            };
            let is_iris_freeze = ours
                || Path::new(&prog)
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().contains("iris-freeze"));
            let verb = args.first().map(String::as_str).unwrap_or("");
            if is_iris_freeze && !verbs.contains(&verb) {
                good = false;
                out.fail(
                    format!("{what} {shown} runs `{prog} {}`", args.join(" ")),
                    format!(
                        "the {what} must run `{} {}`; {fix}",
                        prog,
                        if pre { "azure-pre" } else { "azure-post" }
                    ),
                );
            } else if !is_iris_freeze {
                good = false;
                out.warn(
                    format!("{what} {shown} runs {prog}, not iris-freeze"),
                    format!(
                        "IRIS is frozen only if that program calls iris-freeze; {fix} (it backs \
                         up the file)"
                    ),
                );
            }
            if good {
                out.ok(format!(
                    "{what} {shown}: {}shell wrapper, owner root, mode {m:03o}, runs `{prog} {}`",
                    if ours { "iris-freeze's " } else { "" },
                    args.join(" ")
                ));
            }
        }
        None => out.fail(
            format!("{what} {shown} does not run iris-freeze"),
            format!("IRIS will not be frozen; {fix} (it backs up the file)"),
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// VMware, qemu, GCP, Nutanix

fn check_hooks(cfg: &Config, platform: Platform, bin: Option<&Path>, out: &mut Lines) {
    let root = cfg.root.as_path();
    for h in install::hook_files(platform, root) {
        check_hook(cfg, platform, bin, &h, out);
    }
    match platform {
        Platform::Qemu => check_qemu_agent(cfg, out),
        Platform::Gcp => check_gcp_config(cfg, out),
        Platform::Vmware => check_vmware_config(cfg, out),
        _ => {}
    }
}

fn check_hook(cfg: &Config, platform: Platform, bin: Option<&Path>, h: &HookFile, out: &mut Lines) {
    let path = under(&cfg.root, h.path);
    let shown = path.display().to_string();
    let fix = format!("fix: `iris-freeze install {platform}`");
    let lmd = match fs::symlink_metadata(&path) {
        Ok(md) => md,
        Err(e) => {
            out.fail(
                format!("{shown} {}", missing(&e)),
                format!(
                    "{platform} runs no iris-freeze hook, so snapshots are not \
                     application-consistent; {fix}"
                ),
            );
            return;
        }
    };
    if lmd.file_type().is_symlink() {
        let link = fs::read_link(&path).unwrap_or_default();
        let target = match fs::canonicalize(&path) {
            Ok(t) => t,
            Err(_) => {
                out.fail(
                    format!("{shown} is a dangling symlink to {}", link.display()),
                    fix,
                );
                return;
            }
        };
        let named_us = target
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("iris-freeze"));
        if bin.is_some_and(|b| b == target) || named_us {
            let shown_target = target.display().to_string();
            if check_runs(out, &shown, &target, &shown_target, platform) {
                if bin.is_some_and(|b| b != target) {
                    out.warn(
                        format!(
                            "{shown} links to {shown_target}, not to this binary ({})",
                            bin.map(|b| b.display().to_string()).unwrap_or_default()
                        ),
                        format!(
                            "fine if that is the iris-freeze you want hooks to run; else {fix}"
                        ),
                    );
                } else {
                    out.ok(format!("{shown} -> {shown_target}"));
                }
            }
        } else {
            out.fail(
                format!("{shown} is a symlink to {}, not to iris-freeze", target.display()),
                format!("move it aside (`mv {shown} {shown}.orig`), then `iris-freeze install {platform}`"),
            );
        }
        return;
    }
    if !lmd.is_file() {
        out.fail(format!("{shown} is not a regular file"), fix);
        return;
    }
    if is_elf(&path) {
        out.fail(
            format!("{shown} is a binary, not iris-freeze's link or wrapper"),
            format!(
                "move it aside (`mv {shown} {shown}.orig`), then `iris-freeze install {platform}`"
            ),
        );
        return;
    }
    let text = fs::read(&path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let ours = text.contains(install::MARKER);
    let m = lmd.mode() & 0o7777;
    let mut good = true;
    // Run directly by the platform (no shell in front): it needs an execute bit; root owns it.
    if m & 0o100 == 0 {
        good = false;
        out.fail(
            format!("{shown} is not executable (mode {m:04o})"),
            format!(
                "{platform} executes it directly; fix: `chmod {:04o} {shown}`",
                if platform == Platform::Nutanix {
                    0o700
                } else {
                    0o755
                }
            ),
        );
    }
    if lmd.uid() != 0 {
        good = false;
        out.owner_problem(
            format!("{shown} is owned by {}, not root", owner_name(lmd.uid())),
            format!(
                "{platform} runs it as root, so its owner can run anything as root; fix: \
                 `chown root:root {shown}`"
            ),
        );
    }
    if platform == Platform::Nutanix && m & 0o077 != 0 {
        good = false;
        out.fail(
            format!("{shown} has mode {m:04o}"),
            format!("Nutanix Guest Tools require root-owned scripts with mode 0700; fix: `chmod 0700 {shown}`"),
        );
    } else if m & 0o022 != 0 {
        good = false;
        out.fail(
            format!("{shown} can be written by group or others (mode {m:04o})"),
            format!("{platform} runs it as root; fix: `chmod go-w {shown}`"),
        );
    }
    if text.contains('\r') {
        good = false;
        out.fail(
            format!("{shown} has CRLF line endings"),
            format!("the shell cannot run it as is; {fix} (it backs up the file)"),
        );
    }
    if platform == Platform::Qemu && !ours && text.contains("fsfreeze-hook.d") {
        out.fail(
            format!("{shown} is qemu's stock dispatcher"),
            format!(
                "it runs the scripts in fsfreeze-hook.d/ and always exits 0, so a failed freeze \
                 would not fail the snapshot; move it aside (`mv {shown} {shown}.orig`), then \
                 `iris-freeze install qemu`"
            ),
        );
        return;
    }
    match wrapper_call(&text) {
        Some((prog, args)) => {
            let target = resolve_exec(cfg, &prog);
            let is_iris_freeze = ours
                || Path::new(&prog)
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().contains("iris-freeze"));
            if !is_iris_freeze {
                out.fail(
                    format!("{shown} runs {prog}, not iris-freeze"),
                    format!("move it aside (`mv {shown} {shown}.orig`), then `iris-freeze install {platform}`"),
                );
                return;
            }
            good &= check_runs(out, &shown, &target, &prog, platform);
            let verbs = if h.freeze {
                install::PRE_VERBS
            } else {
                install::POST_VERBS
            };
            let verb = args.first().map(String::as_str).unwrap_or("");
            // VMware and qemu pass the verb itself: a wrapper may pass its arguments on.
            let passes_verb = matches!(h.kind, HookKind::Link)
                && matches!(platform, Platform::Vmware | Platform::Qemu)
                && verb == "$@";
            if !verbs.contains(&verb) && !passes_verb {
                good = false;
                out.fail(
                    format!("{shown} runs `{prog} {}`", args.join(" ")),
                    format!(
                        "it must {}; {fix}",
                        if h.freeze { "freeze" } else { "thaw" }
                    ),
                );
            }
            if good {
                out.ok(format!(
                    "{shown}: {}wrapper, mode {m:04o}, runs `{prog} {}`",
                    if ours { "iris-freeze's " } else { "hand-made " },
                    args.join(" ")
                ));
            }
        }
        None => out.fail(
            format!("{shown} does not run iris-freeze"),
            format!(
                "move it aside (`mv {shown} {shown}.orig`), then `iris-freeze install {platform}`"
            ),
        ),
    }
}

fn check_qemu_agent(cfg: &Config, out: &mut Lines) {
    let hook = install::qemu_hook(&cfg.root);
    for (file, key) in [
        ("/etc/default/qemu-guest-agent", "DAEMON_ARGS"),
        ("/etc/sysconfig/qemu-ga", "FSFREEZE_HOOK_PATHNAME"),
    ] {
        let path = under(&cfg.root, file);
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let line = text.lines().map(str::trim).find(|l| {
            !l.starts_with('#')
                && l.starts_with(key)
                && (key != "DAEMON_ARGS" || l.contains("-F") || l.contains("--fsfreeze-hook"))
                && l.split_once('=')
                    .is_some_and(|(_, v)| !v.trim().trim_matches('"').is_empty())
        });
        if let Some(l) = line {
            out.ok(format!(
                "{}: {l} (qemu-ga must be restarted after a change)",
                path.display()
            ));
            return;
        }
    }
    out.warn(
        "qemu-ga runs the hook only when started with -F/--fsfreeze-hook",
        format!(
            "Debian/Ubuntu: DAEMON_ARGS=\"-F{hook}\" in /etc/default/qemu-guest-agent; RHEL: \
             FSFREEZE_HOOK_PATHNAME={hook} in /etc/sysconfig/qemu-ga; then `systemctl restart \
             qemu-guest-agent`"
        ),
    );
}

fn check_gcp_config(cfg: &Config, out: &mut Lines) {
    let path = under(&cfg.root, install::GCP_CONFIG);
    let shown = path.display();
    let text = fs::read_to_string(&path).unwrap_or_default();
    let enabled = install::ini_value(&text, "Snapshots", "enabled", true)
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "1" | "on"));
    if enabled {
        out.ok(format!("{shown}: [Snapshots] enabled = true"));
    } else {
        out.warn(
            format!("{shown} does not set [Snapshots] enabled = true"),
            "the guest agent then never runs pre.sh/post.sh; add `[Snapshots]` and `enabled = \
             true`, restart the agent (`systemctl restart google-guest-agent`), and snapshot \
             with --guest-flush",
        );
    }
    let need = (cfg.timeout.as_secs_f64().ceil() as u64) + install::AZURE_TIMEOUT_MARGIN;
    let timeout = install::ini_value(&text, "Snapshots", "timeout_in_seconds", true)
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(60);
    if timeout < need {
        out.warn(
            format!("the guest agent kills hooks after {timeout} s (timeout_in_seconds)"),
            format!(
                "iris-freeze may need {need} s (--timeout {}s plus rollback); set \
                 timeout_in_seconds = {need} in [Snapshots] or lower timeout in \
                 /etc/iris-freeze.toml",
                cfg.timeout.as_secs_f64()
            ),
        );
    }
}

fn check_vmware_config(cfg: &Config, out: &mut Lines) {
    let path = under(&cfg.root, "/etc/vmware-tools/tools.conf");
    let Ok(text) = fs::read_to_string(&path) else {
        return;
    };
    if install::ini_value(&text, "vmbackup", "execScripts", true)
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "false" | "0" | "no"))
    {
        out.fail(
            format!("{}: [vmbackup] execScripts is false", path.display()),
            "VMware Tools then runs no freeze script; fix: `execScripts = true` and restart \
             vmtoolsd",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// AWS

fn check_aws(cfg: &Config, out: &mut Lines) {
    out.ok(format!(
        "aws: nothing to install on this host; the SSM Command document is {} in the source \
         (`iris-freeze install aws` prints it and how to attach it to a DLM policy)",
        install::AWS_DOCUMENT_SOURCE
    ));
    // The document runs the package's /usr/sbin/iris-freeze, else a manual install's.
    let found = ["/usr/sbin/iris-freeze", install::AWS_BINARY]
        .into_iter()
        .find(|p| {
            fs::metadata(under(&cfg.root, p))
                .is_ok_and(|md| md.is_file() && md.permissions().mode() & 0o111 != 0)
        });
    match found {
        Some(shown) => out.ok(format!("{shown} exists (the document runs it)")),
        None => out.warn(
            format!(
                "neither /usr/sbin/iris-freeze nor {} is installed",
                install::AWS_BINARY
            ),
            "the SSM document runs one of them: install the package, or copy iris-freeze to \
             /usr/local/sbin",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_undo_quotes() {
        assert_eq!(
            words("exec '/opt/it'\\''s/iris-freeze' azure-pre \"$@\" # c"),
            ["exec", "/opt/it's/iris-freeze", "azure-pre", "$@"]
        );
        assert_eq!(words("a\\ b \"c\\\"d\""), ["a b", "c\"d"]);
        assert_eq!(words("x; y"), ["x"]);
    }

    #[test]
    fn the_call_of_a_wrapper() {
        let (p, a) = wrapper_call(
            "#!/bin/sh\n# Installed by iris-freeze\nexec '/usr/local/sbin/iris-freeze' freeze\n",
        )
        .unwrap();
        assert_eq!(p, "/usr/local/sbin/iris-freeze");
        assert_eq!(a, ["freeze"]);
        let (p, a) =
            wrapper_call("#!/bin/sh\nset -e\n/x/iris-freeze thaw \"$@\"\nexit $?\n").unwrap();
        assert_eq!(p, "/x/iris-freeze");
        assert_eq!(a, ["thaw", "$@"]);
        assert!(wrapper_call("#!/bin/sh\necho hi\nexit 0\n").is_none());
    }
}
