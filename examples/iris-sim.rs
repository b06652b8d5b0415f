//! `iris-sim`: a simulator of the InterSystems IRIS / Caché command-line tools
//! (`iris`, `csession`, `ccontrol`) for integration tests and demos of iris-freeze.
//!
//! # Dispatch
//! * Invoked as `iris`, `csession` or `ccontrol` (file name of argv\[0\], e.g. a symlink
//!   to the built example) it behaves as that program.
//! * Under any other name: `iris-sim iris|csession|ccontrol ARGS...` behaves as that
//!   program; `iris-sim SUBCOMMAND ...` runs a setup subcommand (below); anything else
//!   prints usage on stderr and exits 1.
//! * `IRIS_SIM_DIR` must be set (otherwise: error on stderr, exit 1).
//!
//! # State layout (`$IRIS_SIM_DIR`)
//! * `NAME/conf`: `key=value` lines (`#` comments allowed). Keys and defaults:
//!   - `product`: empty (empty = Caché), e.g. `IRIS`, `IRISHealth`.
//!   - `registry`: `iris` or `cache`; default `iris` if `product` is non-empty, else
//!     `cache`. `iris` lists/serves `registry=iris`, `csession`/`ccontrol` serve
//!     `registry=cache`. The registry also selects the IRIS or Caché defaults below.
//!   - `version`: `2024.1.0.263.0` (IRIS) / `2018.1.4.505.1` (Caché).
//!   - `status`: `running` (default), `down`, or any text (e.g. `sign-on inhibited`);
//!     only `running` counts as running.
//!   - `dir`: `/usr/irissys/` / `/usr/cachesys/`.
//!   - `fields`: number of qlist fields printed (1..=14): 14 (IRIS) / 12 (Caché); 8 for old Caché.
//!   - `health`: `ok`. `mirror_type`, `mirror_status`: empty.
//!   - `user`, `password`: credentials accepted by the `login` fault: `_SYSTEM` / `SYS`.
//! * `NAME/frozen`: exists iff the write daemon is suspended (content: unix ms of the freeze).
//! * `NAME/faults`: fault lines `CALL=SPEC` for that instance; `faults` (top level) holds
//!   faults for `iris-qlist` and `ccontrol-qlist`. Usage counters of `@N` lines are kept in
//!   `faults.count` next to the faults file (delete it to reset).
//! * `exprs.log`: each session call with an expression appends `<NAME> <EXPR>`.
//! * `$IRIS_SIM_TRACE` (optional, any path): the call log's lines again, with the time in unix
//!   nanoseconds, for the benchmark.
//! * `calls.log`: each simulated invocation appends (O_APPEND, one write per line)
//!   `<unix_ms> <pid> <NAME|-> <CALL> start` when it starts and
//!   `<unix_ms> <pid> <NAME|-> <CALL> exit=<rc>` right before a normal exit (no exit line
//!   when killed by a signal or hanging). NAME is the instance name as given on the command
//!   line (`-` for qlist and when absent). CALL is one of `freeze`, `thaw`, `check`,
//!   `history`, `stat`, `iris-qlist`, `ccontrol-qlist`, `other`. Setup subcommands are not logged.
//!
//! # Simulated commands
//! * `iris qlist [NAME]` / `ccontrol qlist [NAME]` (CALL `iris-qlist` / `ccontrol-qlist`):
//!   one line per instance of the matching registry, sorted by name, `^`-separated, cut to
//!   `fields` fields: 1 name, 2 dir, 3 version, 4 status (`running, since Wed Nov 25 12:00:00
//!   2026` / `down, last used Wed Nov 25 11:00:00 2026` / the status text as is), 5
//!   `iris.cpf`|`cache.cpf`, 6 superserver port 1972+i, 7 web port 52773+i, 8 jdbc port
//!   53773+i (i = 0-based position in the registry's list), 9 health (empty unless running),
//!   10 product, 11 mirror_type, 12 mirror_status, 13 data dir (= dir), 14 superserver port.
//!   Exit 0 (a given NAME that does not exist: message on stderr, exit 1).
//! * `iris session|terminal NAME [-U NS|-UNS] [-B] [EXPR]`, `csession NAME [...]`,
//!   `ccontrol session NAME [...]`. Unknown instance (lookup is case-insensitive):
//!   `Instance NAME not found` on stderr, exit 1. Status not `running`: `Instance NAME is
//!   not running (STATUS)` on stderr, exit 1. Faults are applied after these two checks.
//!   Then, with EXPR: namespace (default `USER`) not `%SYS` (case-insensitive): `<CLASS DOES
//!   NOT EXIST>` on stdout, exit 1. EXPR is matched case-insensitively by substring:
//!   - `Backup.General).ExternalFreeze(` → CALL `freeze`: if frozen, prints `Backup.General.
//!     ExternalFreeze cannot run with switch 10 or 13 already set`, exit 3; else prints the
//!     IRIS freeze output (`...Suspending system`, journal switch to
//!     `<dir>mgr/journal/20261125.002`, journal marker, `System suspended`), creates
//!     `frozen` (atomically), exit 5.
//!   - `).ExternalThaw(` → `thaw`: if frozen, prints `Backup.General.ExternalThaw: Resuming
//!     system` and `System resumed`, removes `frozen`, exit 5; else prints
//!     `Backup.General.ExternalThaw: System is not suspended`, exit 3.
//!   - `).IsWDSuspendedExt(` → `check`: no output, exit 5 if frozen, else 3.
//!   - `).ExternalSetHistory(` → `history`: prints `Backup.General.ExternalSetHistory: backup
//!     history updated`, exit 5.
//!   - anything else → `other`: prints `<METHOD DOES NOT EXIST>`, exit 1.
//!
//!   Without EXPR (CALL `other`): prints the prompt `NS>` (`USER>` without -U, `%SYS>` with
//!   `-U%SYS`), and again after each stdin line, reads stdin to EOF, exit 0.
//!   Bad usage (no NAME, unknown option, extra argument): stderr, exit 1.
//! * `iris stat NAME [-W]` / `ccontrol stat NAME [-W]` (CALL `stat`; other `-x` options are
//!   ignored; unknown / not running instance: stderr, exit 1). With `-W`: emergency resume of
//!   the write daemon: removes `frozen`, prints `Write daemon resumed (WDSUSPD cleared)` or
//!   `Write daemon was not suspended`, exit 0. Without: a few status lines including
//!   `WDSUSPD=1` (suspended) or `WDSUSPD=0`, exit 0.
//! * Any other usage of a program: stderr, exit 1 (CALL `other`).
//!
//! # Faults: `CALL=SPEC`, `SPEC = KIND[:ARG][@N]`
//! The first applicable line for the CALL wins. A line without `@N` always applies; a line
//! with `@N` applies to the first N invocations of that CALL that reach it, then it is
//! exhausted and the next applicable line (or normal behaviour) takes over.
//! * `fail`: prints `ERROR #5001: simulated failure` (stdout for session calls, stderr for
//!   qlist/stat), exit 3 (session calls) or 1 (qlist, stat); no state change.
//! * `hang`: sleeps forever with default signal dispositions (SIGTERM kills it).
//! * `hang-ignore-term`: ignores SIGTERM, SIGINT, SIGHUP, then sleeps forever.
//! * `login`: prints `Username: `, reads a line (EOF: newline + `Access Denied`, exit 1),
//!   prints `Password: `, reads a line, prints a newline; credentials equal to conf
//!   `user`/`password` continue with the normal call, else `Access Denied`, exit 1.
//! * `login-hang`: prints `Username: ` and sleeps forever.
//! * `crash[:SIG]`: kills itself with SIG (`KILL`, `SIGSEGV`, `ABRT`, `6`...; default KILL)
//!   after setting RLIMIT_CORE to 0 and the process non-dumpable; no state change.
//! * `exit:N`: prints `simulated exit N`, exit N; no state change.
//! * `then-hang`, `then-crash[:SIG]`, `then-exit:N`: performs the normal call (state change and
//!   output), then hangs / crashes / exits N instead of the normal exit code.
//! * `slow:MS`: sleeps MS milliseconds, then normal.
//! * `huge[:BYTES]`: first writes BYTES (default 1048576) of `filler line NNNNNN ...` lines to
//!   stdout, then normal.
//! * `grandchild[:SECS]`: spawns `current_exe() __linger SECS` (default 30) in its own
//!   session (setsid), inheriting stdout/stderr, which sleeps SECS; then normal, without
//!   waiting for it.
//! * `binary`: first writes one stdout line full of control bytes (NUL, SOH, BEL, BS, ESC
//!   sequences, DEL, a backslash, and a CR followed by text shaped like a log line), then normal.
//! * `echo-input`: first copies stdin to stdout up to EOF (a session echoing what it read, the
//!   credentials included), then normal.
//!
//! All output is flushed before exits, hangs and crashes. SIGPIPE has its default disposition.
//!
//! # Setup subcommands (`iris-sim SUBCOMMAND`, exit 0 on success, 1 on error)
//! * `add NAME [key=value ...]`: (over)writes `NAME/conf` with those keys.
//! * `set NAME key=value ...`: updates keys of an existing instance's conf.
//! * `fault NAME|- CALL=SPEC ...`: validates and appends fault lines (`-`: the top-level file).
//! * `state NAME`: prints `frozen` or `thawed`.
//! * `calls`: prints `calls.log`.

use std::collections::HashMap;
use std::env;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, Read, Write};
use std::os::unix::fs::FileExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{self, Command, Stdio};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::{self, SigHandler, SigSet, SigmaskHow, Signal};
use nix::unistd::{getpid, setsid};

const CONF_KEYS: &[&str] = &[
    "product",
    "registry",
    "version",
    "status",
    "dir",
    "fields",
    "health",
    "mirror_type",
    "mirror_status",
    "user",
    "password",
];

const JOURNAL_FILE: &str = "20261125.002";

/// Writes to stdout, ignoring errors (EPIPE kills us via the default SIGPIPE anyway).
macro_rules! say {
    ($($t:tt)*) => {{
        let _ = writeln!(io::stdout(), $($t)*);
    }};
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Call {
    Freeze,
    Thaw,
    Check,
    History,
    Stat,
    IrisQlist,
    CcontrolQlist,
    Other,
}

impl Call {
    const ALL: [Call; 8] = [
        Call::Freeze,
        Call::Thaw,
        Call::Check,
        Call::History,
        Call::Stat,
        Call::IrisQlist,
        Call::CcontrolQlist,
        Call::Other,
    ];

    fn name(self) -> &'static str {
        match self {
            Call::Freeze => "freeze",
            Call::Thaw => "thaw",
            Call::Check => "check",
            Call::History => "history",
            Call::Stat => "stat",
            Call::IrisQlist => "iris-qlist",
            Call::CcontrolQlist => "ccontrol-qlist",
            Call::Other => "other",
        }
    }

    fn parse(s: &str) -> Option<Call> {
        Self::ALL.into_iter().find(|c| c.name() == s)
    }

    fn is_session(self) -> bool {
        matches!(
            self,
            Call::Freeze | Call::Thaw | Call::Check | Call::History | Call::Other
        )
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Prog {
    Iris,
    Csession,
    Ccontrol,
}

impl Prog {
    fn parse(s: &str) -> Option<Prog> {
        match s {
            "iris" => Some(Prog::Iris),
            "csession" => Some(Prog::Csession),
            "ccontrol" => Some(Prog::Ccontrol),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Prog::Iris => "iris",
            Prog::Csession => "csession",
            Prog::Ccontrol => "ccontrol",
        }
    }

    fn registry(self) -> &'static str {
        match self {
            Prog::Iris => "iris",
            Prog::Csession | Prog::Ccontrol => "cache",
        }
    }
}

// ---------------------------------------------------------------------------
// Invocation context, call log, exits
// ---------------------------------------------------------------------------

struct Ctx {
    root: PathBuf,
    name: String,
    call: Call,
}

impl Ctx {
    fn start(root: &Path, name: &str, call: Call) -> Ctx {
        let name = if name.is_empty() {
            "-".to_string()
        } else {
            name.replace(char::is_whitespace, "_")
        };
        let ctx = Ctx {
            root: root.to_path_buf(),
            name,
            call,
        };
        ctx.log("start");
        ctx
    }

    fn log(&self, what: &str) {
        // The benchmark's clock: nanoseconds, to a file of its choosing.
        if let Some(trace) = env::var_os("IRIS_SIM_TRACE") {
            let ns = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let line = format!(
                "{ns} {} {} {} {what}\n",
                process::id(),
                self.name,
                self.call.name()
            );
            if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(trace) {
                let _ = f.write_all(line.as_bytes());
            }
        }
        let line = format!(
            "{} {} {} {} {}\n",
            now_ms(),
            process::id(),
            self.name,
            self.call.name(),
            what
        );
        if let Ok(mut f) = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.root.join("calls.log"))
        {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

fn flush_all() {
    let _ = io::stdout().flush();
    let _ = io::stderr().flush();
}

/// Normal exit: flush, log `exit=<rc>`, exit.
fn finish(ctx: &Ctx, rc: i32) -> ! {
    flush_all();
    ctx.log(&format!("exit={rc}"));
    process::exit(rc)
}

fn hang() -> ! {
    flush_all();
    loop {
        thread::sleep(Duration::from_secs(3600));
    }
}

fn ignore_term_signals() {
    for sig in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        // SAFETY: installing SIG_IGN does not run any code in signal context.
        let _ = unsafe { signal::signal(sig, SigHandler::SigIgn) };
    }
}

#[cfg(target_os = "linux")]
fn disable_core_dumps() {
    use nix::sys::resource::{Resource, setrlimit};
    let _ = setrlimit(Resource::RLIMIT_CORE, 0, 0);
    let _ = nix::sys::prctl::set_dumpable(false);
}

#[cfg(not(target_os = "linux"))]
fn disable_core_dumps() {}

/// Kills the process with `sig` (no core dump, no exit line in the call log).
fn crash(sig: Signal) -> ! {
    flush_all();
    disable_core_dumps();
    // Rust's runtime installs SIGSEGV/SIGBUS handlers; restore the default action.
    // SAFETY: installing SIG_DFL does not run any code in signal context.
    let _ = unsafe { signal::signal(sig, SigHandler::SigDfl) };
    let mut set = SigSet::empty();
    set.add(sig);
    let _ = signal::sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&set), None);
    let _ = signal::kill(getpid(), sig);
    thread::sleep(Duration::from_millis(200));
    // The signal's default action does not terminate (e.g. SIGCHLD): exit like a shell would report.
    process::exit(128 + sig as i32)
}

fn parse_signal(s: &str) -> Result<Signal, String> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| format!("bad signal number `{n}`"));
    }
    let up = s.to_ascii_uppercase();
    let full = if up.starts_with("SIG") {
        up
    } else {
        format!("SIG{up}")
    };
    full.parse::<Signal>()
        .map_err(|_| format!("unknown signal `{s}`"))
}

// ---------------------------------------------------------------------------
// Instances and configuration
// ---------------------------------------------------------------------------

struct Conf {
    product: String,
    registry: String,
    version: String,
    status: String,
    dir: String,
    fields: usize,
    health: String,
    mirror_type: String,
    mirror_status: String,
    user: String,
    password: String,
}

impl Conf {
    fn from_pairs(pairs: &[(String, String)]) -> Conf {
        let map: HashMap<&str, &str> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let get = |k: &str| map.get(k).map(|v| v.to_string());
        let product = get("product").unwrap_or_default();
        let registry = get("registry")
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| if product.is_empty() { "cache" } else { "iris" }.to_string());
        let iris = registry == "iris";
        let nonempty = |k: &str, d: &str| get(k).filter(|v| !v.is_empty()).unwrap_or(d.into());
        Conf {
            version: nonempty(
                "version",
                if iris {
                    "2024.1.0.263.0"
                } else {
                    "2018.1.4.505.1"
                },
            ),
            status: nonempty("status", "running"),
            dir: nonempty(
                "dir",
                if iris {
                    "/usr/irissys/"
                } else {
                    "/usr/cachesys/"
                },
            ),
            fields: get("fields")
                .and_then(|f| f.trim().parse().ok())
                .unwrap_or(if iris { 14 } else { 12 }),
            health: get("health").unwrap_or_else(|| "ok".into()),
            mirror_type: get("mirror_type").unwrap_or_default(),
            mirror_status: get("mirror_status").unwrap_or_default(),
            user: get("user").unwrap_or_else(|| "_SYSTEM".into()),
            password: get("password").unwrap_or_else(|| "SYS".into()),
            product,
            registry,
        }
    }

    fn is_iris(&self) -> bool {
        self.registry == "iris"
    }

    fn running(&self) -> bool {
        self.status == "running"
    }

    fn journal(&self) -> String {
        let sep = if self.dir.ends_with('/') { "" } else { "/" };
        format!("{}{sep}mgr/journal/{JOURNAL_FILE}", self.dir)
    }
}

fn read_kv(path: &Path) -> io::Result<Vec<(String, String)>> {
    let text = fs::read_to_string(path)?;
    Ok(text
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .collect())
}

struct Instance {
    name: String,
    path: PathBuf,
    conf: Conf,
}

impl Instance {
    fn frozen_path(&self) -> PathBuf {
        self.path.join("frozen")
    }

    fn is_frozen(&self) -> bool {
        self.frozen_path().exists()
    }
}

fn load_instance(root: &Path, name: &str) -> Option<Instance> {
    let path = root.join(name);
    let pairs = read_kv(&path.join("conf")).ok()?;
    Some(Instance {
        name: name.to_string(),
        conf: Conf::from_pairs(&pairs),
        path,
    })
}

fn all_instances(root: &Path) -> Vec<Instance> {
    let mut list: Vec<Instance> = fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|n| load_instance(root, &n))
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    list
}

fn registry_instances(root: &Path, registry: &str) -> Vec<Instance> {
    all_instances(root)
        .into_iter()
        .filter(|i| i.conf.registry == registry)
        .collect()
}

/// Instance names are case-insensitive, as in IRIS; an exact match is preferred.
fn find_instance(root: &Path, registry: &str, name: &str) -> Option<Instance> {
    let list = registry_instances(root, registry);
    let pos = list
        .iter()
        .position(|i| i.name == name)
        .or_else(|| list.iter().position(|i| i.name.eq_ignore_ascii_case(name)))?;
    list.into_iter().nth(pos)
}

// ---------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Kind {
    Fail,
    Hang,
    HangIgnoreTerm,
    Login,
    LoginHang,
    Crash(Signal),
    Exit(i32),
    ThenHang,
    ThenCrash(Signal),
    ThenExit(i32),
    Slow(u64),
    Huge(u64),
    Grandchild(u64),
    Binary,
    EchoInput,
}

struct FaultLine {
    call: Call,
    kind: Kind,
    limit: Option<u64>,
}

fn parse_fault(line: &str) -> Result<FaultLine, String> {
    let (call, spec) = line
        .split_once('=')
        .ok_or_else(|| format!("fault `{line}` is not CALL=SPEC"))?;
    let call = Call::parse(call.trim()).ok_or_else(|| format!("unknown call `{}`", call.trim()))?;
    let spec = spec.trim();
    let (body, limit) = match spec.rsplit_once('@') {
        Some((b, n)) => {
            let n = n
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("bad @N in `{spec}`"))?;
            (b, Some(n))
        }
        None => (spec, None),
    };
    let (kind, arg) = match body.split_once(':') {
        Some((k, a)) => (k, Some(a.trim())),
        None => (body, None),
    };
    let num = |what: &str| -> Result<u64, String> {
        arg.ok_or_else(|| format!("`{kind}` needs :{what}"))?
            .parse::<u64>()
            .map_err(|_| format!("bad {what} in `{spec}`"))
    };
    let opt_num = |default: u64| -> Result<u64, String> {
        match arg {
            None => Ok(default),
            Some(a) => a.parse().map_err(|_| format!("bad number in `{spec}`")),
        }
    };
    let code = || -> Result<i32, String> {
        let n = num("N")?;
        if n > 255 {
            return Err(format!("exit code out of range in `{spec}`"));
        }
        Ok(n as i32)
    };
    let sig = || arg.map_or(Ok(Signal::SIGKILL), parse_signal);
    let no_arg = |k: Kind| match arg {
        None => Ok(k),
        Some(_) => Err(format!("`{kind}` takes no argument")),
    };
    let kind = match kind.trim() {
        "fail" => no_arg(Kind::Fail)?,
        "hang" => no_arg(Kind::Hang)?,
        "hang-ignore-term" => no_arg(Kind::HangIgnoreTerm)?,
        "login" => no_arg(Kind::Login)?,
        "login-hang" => no_arg(Kind::LoginHang)?,
        "then-hang" => no_arg(Kind::ThenHang)?,
        "crash" => Kind::Crash(sig()?),
        "then-crash" => Kind::ThenCrash(sig()?),
        "exit" => Kind::Exit(code()?),
        "then-exit" => Kind::ThenExit(code()?),
        "slow" => Kind::Slow(num("MS")?),
        "huge" => Kind::Huge(opt_num(1_048_576)?),
        "grandchild" => Kind::Grandchild(opt_num(30)?),
        "binary" => no_arg(Kind::Binary)?,
        "echo-input" => no_arg(Kind::EchoInput)?,
        other => return Err(format!("unknown fault kind `{other}`")),
    };
    Ok(FaultLine { call, kind, limit })
}

/// Picks the first applicable fault for `call` in `path`, consuming one use of an `@N` line.
fn take_fault(path: &Path, call: Call) -> Option<Kind> {
    let text = fs::read_to_string(path).ok()?;
    let mut relevant = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_fault(line) {
            Ok(f) if f.call == call => relevant.push((format!("{idx}\t{line}"), f)),
            Ok(_) => {}
            Err(e) => eprintln!("iris-sim: ignoring fault line {}: {e}", idx + 1),
        }
    }
    let first = relevant.first()?;
    if first.1.limit.is_none() {
        return Some(first.1.kind);
    }
    let count_path = path.with_extension("count");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&count_path)
        .ok()?;
    let lock = Flock::lock(file, FlockArg::LockExclusive).ok()?;
    let mut counts_text = String::new();
    let _ = (&*lock).read_to_string(&mut counts_text);
    // Format: `<uses>\t<line index>\t<line text>`.
    let mut counts: Vec<(u64, String)> = counts_text
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .filter_map(|(n, key)| Some((n.parse().ok()?, key.to_string())))
        .collect();
    let mut chosen = None;
    for (key, f) in &relevant {
        let Some(limit) = f.limit else {
            chosen = Some(f.kind);
            break;
        };
        let pos = match counts.iter().position(|(_, k)| k == key) {
            Some(p) => p,
            None => {
                counts.push((0, key.clone()));
                counts.len() - 1
            }
        };
        if counts[pos].0 < limit {
            counts[pos].0 += 1;
            chosen = Some(f.kind);
            break;
        }
    }
    let new_text: String = counts.iter().map(|(n, k)| format!("{n}\t{k}\n")).collect();
    let _ = lock.set_len(0);
    let _ = lock.write_all_at(new_text.as_bytes(), 0);
    chosen
}

/// What to do after the normal call has run.
enum Post {
    Normal,
    Hang,
    Crash(Signal),
    Exit(i32),
}

/// Applies the fault (if any) that acts before the normal call; terminal faults never return.
/// The instance's own fault file, with its credentials for a `login` fault.
fn instance_faults(ctx: &Ctx, inst: &Instance) -> Post {
    apply_pre_faults(
        ctx,
        &inst.path.join("faults"),
        &inst.conf.user,
        &inst.conf.password,
    )
}

fn apply_pre_faults(ctx: &Ctx, faults: &Path, user: &str, password: &str) -> Post {
    let Some(kind) = take_fault(faults, ctx.call) else {
        return Post::Normal;
    };
    match kind {
        Kind::Fail => {
            let msg = "ERROR #5001: simulated failure";
            if ctx.call.is_session() {
                say!("{msg}");
                finish(ctx, 3)
            } else {
                eprintln!("{msg}");
                finish(ctx, 1)
            }
        }
        Kind::Hang => hang(),
        Kind::HangIgnoreTerm => {
            ignore_term_signals();
            hang()
        }
        Kind::Login => {
            login(ctx, user, password);
            Post::Normal
        }
        Kind::LoginHang => {
            print!("Username: ");
            hang()
        }
        Kind::Crash(sig) => crash(sig),
        Kind::Exit(n) => {
            say!("simulated exit {n}");
            finish(ctx, n)
        }
        Kind::ThenHang => Post::Hang,
        Kind::ThenCrash(sig) => Post::Crash(sig),
        Kind::ThenExit(n) => Post::Exit(n),
        Kind::Slow(ms) => {
            thread::sleep(Duration::from_millis(ms));
            Post::Normal
        }
        Kind::Huge(bytes) => {
            write_filler(bytes);
            Post::Normal
        }
        Kind::Grandchild(secs) => {
            spawn_grandchild(secs);
            Post::Normal
        }
        Kind::Binary => {
            write_binary();
            Post::Normal
        }
        Kind::EchoInput => {
            echo_input();
            Post::Normal
        }
    }
}

/// Output no IRIS should print but a broken terminal setting might: every kind of control
/// byte, and a carriage return that could pass for the start of a new log line.
fn write_binary() {
    let _ = io::stdout().write_all(
        b"\0\0binary\x01\x07\x08 output\x1b[31m red\x1b[0m\x7f \\ back\r\
          2026-11-25T12:00:00.000+00:00 pid=1 cmd=thaw inst=X event=thawed forged\0\n",
    );
}

/// Copies stdin to stdout until EOF, as a session that echoes what it reads.
fn echo_input() {
    let mut input = Vec::new();
    let _ = io::stdin().lock().read_to_end(&mut input);
    let _ = io::stdout().write_all(&input);
}

fn conclude(ctx: &Ctx, post: Post, rc: i32) -> ! {
    match post {
        Post::Normal => finish(ctx, rc),
        Post::Hang => hang(),
        Post::Crash(sig) => crash(sig),
        Post::Exit(n) => finish(ctx, n),
    }
}

fn read_answer() -> Option<String> {
    let mut buf = Vec::new();
    match io::stdin().lock().read_until(b'\n', &mut buf) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(
            String::from_utf8_lossy(&buf)
                .trim_end_matches(['\n', '\r'])
                .to_string(),
        ),
    }
}

fn login(ctx: &Ctx, user: &str, password: &str) {
    print!("Username: ");
    flush_all();
    let Some(u) = read_answer() else {
        say!("\nAccess Denied");
        finish(ctx, 1)
    };
    print!("Password: ");
    flush_all();
    let Some(p) = read_answer() else {
        say!("\nAccess Denied");
        finish(ctx, 1)
    };
    say!();
    if u != user || p != password {
        say!("Access Denied");
        finish(ctx, 1)
    }
}

fn write_filler(bytes: u64) {
    const LINE: usize = 80;
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut left = bytes;
    let mut n = 0u64;
    while left > 0 {
        n += 1;
        let mut line = format!("filler line {n:06} ");
        while line.len() < LINE - 1 {
            line.push('.');
        }
        line.push('\n');
        let take = (left as usize).min(LINE);
        if take < LINE {
            line.truncate(take - 1);
            line.push('\n');
        }
        if out.write_all(line.as_bytes()).is_err() {
            break;
        }
        left -= take as u64;
    }
    let _ = out.flush();
}

fn spawn_grandchild(secs: u64) {
    flush_all();
    let exe = match env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("iris-sim: cannot find own executable: {e}");
            return;
        }
    };
    let mut cmd = Command::new(exe);
    cmd.arg("__linger")
        .arg(secs.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit());
    // SAFETY: setsid is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| setsid().map(|_| ()).map_err(io::Error::from));
    }
    if let Err(e) = cmd.spawn() {
        eprintln!("iris-sim: cannot spawn grandchild: {e}");
    }
}

// ---------------------------------------------------------------------------
// Simulated programs
// ---------------------------------------------------------------------------

fn root_dir() -> PathBuf {
    match env::var_os("IRIS_SIM_DIR") {
        Some(v) if !v.is_empty() => {
            let p = PathBuf::from(v);
            let _ = fs::create_dir_all(&p);
            p
        }
        _ => {
            eprintln!("iris-sim: IRIS_SIM_DIR is not set");
            process::exit(1)
        }
    }
}

fn program_usage(prog: Prog) -> &'static str {
    match prog {
        Prog::Iris => {
            "usage: iris qlist [NAME] | iris session|terminal NAME [-U NAMESPACE] [EXPR] | iris stat NAME [-W]"
        }
        Prog::Csession => "usage: csession NAME [-U NAMESPACE] [EXPR]",
        Prog::Ccontrol => {
            "usage: ccontrol qlist [NAME] | ccontrol session NAME [-U NAMESPACE] [EXPR] | ccontrol stat NAME [-W]"
        }
    }
}

fn usage_error(root: &Path, prog: Prog, name: &str, msg: &str) -> ! {
    let ctx = Ctx::start(root, name, Call::Other);
    if !msg.is_empty() {
        eprintln!("{}: {msg}", prog.name());
    }
    eprintln!("{}", program_usage(prog));
    finish(&ctx, 1)
}

fn run_program(prog: Prog, args: &[String]) -> ! {
    let root = root_dir();
    let sub = args.first().map(String::as_str);
    match (prog, sub) {
        (Prog::Csession, _) => session(prog, &root, args),
        (_, Some("qlist")) => qlist(prog, &root, &args[1..]),
        (Prog::Iris, Some("session" | "terminal")) | (Prog::Ccontrol, Some("session")) => {
            session(prog, &root, &args[1..])
        }
        (_, Some("stat")) => stat(prog, &root, &args[1..]),
        (_, Some(other)) => usage_error(&root, prog, "-", &format!("unknown command `{other}`")),
        (_, None) => usage_error(&root, prog, "-", ""),
    }
}

fn qlist(prog: Prog, root: &Path, args: &[String]) -> ! {
    let call = if prog == Prog::Iris {
        Call::IrisQlist
    } else {
        Call::CcontrolQlist
    };
    let ctx = Ctx::start(root, "-", call);
    let post = apply_pre_faults(&ctx, &root.join("faults"), "_SYSTEM", "SYS");
    let filter = args.first();
    let mut found = false;
    for (i, inst) in registry_instances(root, prog.registry()).iter().enumerate() {
        if filter.is_some_and(|f| !inst.name.eq_ignore_ascii_case(f)) {
            continue;
        }
        found = true;
        say!("{}", qlist_line(i, inst));
    }
    let rc = match filter {
        Some(f) if !found => {
            eprintln!("Instance {f} not found");
            1
        }
        _ => 0,
    };
    conclude(&ctx, post, rc)
}

fn qlist_line(i: usize, inst: &Instance) -> String {
    let c = &inst.conf;
    let status = match c.status.as_str() {
        "running" => "running, since Wed Nov 25 12:00:00 2026".to_string(),
        "down" => "down, last used Wed Nov 25 11:00:00 2026".to_string(),
        s => s.to_string(),
    };
    let superserver = (1972 + i).to_string();
    let fields = [
        inst.name.clone(),
        c.dir.clone(),
        c.version.clone(),
        status,
        if c.is_iris() { "iris.cpf" } else { "cache.cpf" }.to_string(),
        superserver.clone(),
        (52773 + i).to_string(),
        (53773 + i).to_string(),
        if c.running() {
            c.health.clone()
        } else {
            String::new()
        },
        c.product.clone(),
        c.mirror_type.clone(),
        c.mirror_status.clone(),
        c.dir.clone(),
        superserver,
    ];
    fields[..c.fields.clamp(1, fields.len())].join("^")
}

fn classify(expr: &str) -> Call {
    let e = expr.to_ascii_lowercase();
    if e.contains("backup.general).externalfreeze(") {
        Call::Freeze
    } else if e.contains(").externalthaw(") {
        Call::Thaw
    } else if e.contains(").iswdsuspendedext(") {
        Call::Check
    } else if e.contains(").externalsethistory(") {
        Call::History
    } else {
        Call::Other
    }
}

/// Looks up the instance and checks it is running; exits 1 otherwise.
fn require_running(ctx: &Ctx, prog: Prog, name: &str) -> Instance {
    let Some(inst) = find_instance(&ctx.root, prog.registry(), name) else {
        eprintln!("Instance {name} not found");
        finish(ctx, 1)
    };
    if !inst.conf.running() {
        eprintln!(
            "Instance {} is not running ({})",
            inst.name, inst.conf.status
        );
        finish(ctx, 1)
    }
    inst
}

fn session(prog: Prog, root: &Path, args: &[String]) -> ! {
    let Some(name) = args.first().filter(|a| !a.starts_with('-')) else {
        usage_error(root, prog, "-", "missing instance name")
    };
    let mut ns: Option<String> = None;
    let mut expr: Option<String> = None;
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        if let Some(rest) = a.strip_prefix("-U") {
            if rest.is_empty() {
                match it.next() {
                    Some(n) => ns = Some(n.clone()),
                    None => usage_error(root, prog, name, "option -U needs a namespace"),
                }
            } else {
                ns = Some(rest.to_string());
            }
        } else if a == "-B" {
            // Bypass login; accepted and ignored.
        } else if a.starts_with('-') {
            usage_error(root, prog, name, &format!("unknown option `{a}`"));
        } else if expr.is_none() {
            expr = Some(a.clone());
        } else {
            usage_error(root, prog, name, &format!("unexpected argument `{a}`"));
        }
    }
    let call = expr.as_deref().map_or(Call::Other, classify);
    let ctx = Ctx::start(root, name, call);
    if let Some(e) = &expr {
        // Tests read back exactly what was asked of IRIS.
        if let Ok(mut f) = OpenOptions::new()
            .create(true)
            .append(true)
            .open(root.join("exprs.log"))
        {
            let _ = f.write_all(format!("{name} {e}\n").as_bytes());
        }
    }
    let inst = require_running(&ctx, prog, name);
    let post = instance_faults(&ctx, &inst);
    let rc = session_call(&inst, ns.as_deref(), expr.as_deref(), call);
    conclude(&ctx, post, rc)
}

fn session_call(inst: &Instance, ns: Option<&str>, expr: Option<&str>, call: Call) -> i32 {
    let Some(expr) = expr else {
        return interactive(ns);
    };
    if !ns.is_some_and(|n| n.eq_ignore_ascii_case("%SYS")) {
        if call == Call::Other {
            say!("<CLASS DOES NOT EXIST> {expr}");
        } else {
            say!("<CLASS DOES NOT EXIST> *Backup.General");
        }
        return 1;
    }
    match call {
        Call::Freeze => freeze(inst),
        Call::Thaw => thaw(inst),
        Call::Check => {
            if inst.is_frozen() {
                5
            } else {
                3
            }
        }
        Call::History => {
            say!("Backup.General.ExternalSetHistory: backup history updated");
            5
        }
        _ => {
            say!("<METHOD DOES NOT EXIST> {expr}");
            1
        }
    }
}

fn interactive(ns: Option<&str>) -> i32 {
    let prompt = format!("{}>", ns.unwrap_or("USER").to_ascii_uppercase());
    print!("{prompt}");
    flush_all();
    while read_answer().is_some() {
        print!("\n{prompt}");
        flush_all();
    }
    say!();
    0
}

fn freeze(inst: &Instance) -> i32 {
    let frozen = inst.frozen_path();
    let tmp = inst.path.join(format!(".frozen.{}", process::id()));
    if let Err(e) = fs::write(&tmp, now_ms().to_string()) {
        say!("ERROR #5001: cannot suspend system: {e}");
        return 3;
    }
    // hard_link fails if `frozen` exists: an atomic test-and-set.
    let res = fs::hard_link(&tmp, &frozen);
    let _ = fs::remove_file(&tmp);
    match res {
        Ok(()) => {
            let j = inst.conf.journal();
            say!("Backup.General.ExternalFreeze: Suspending system");
            say!();
            say!("Journal file switched to:");
            say!("{j}");
            say!("Start a journal restore for this backup with journal file: {j}");
            say!("Journal marker set at");
            say!("offset 197008 of {j}");
            say!("System suspended");
            5
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            say!("Backup.General.ExternalFreeze cannot run with switch 10 or 13 already set");
            3
        }
        Err(e) => {
            say!("ERROR #5001: cannot suspend system: {e}");
            3
        }
    }
}

fn thaw(inst: &Instance) -> i32 {
    match fs::remove_file(inst.frozen_path()) {
        Ok(()) => {
            say!("Backup.General.ExternalThaw: Resuming system");
            say!("System resumed");
            5
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            say!("Backup.General.ExternalThaw: System is not suspended");
            3
        }
        Err(e) => {
            say!("ERROR #5001: cannot resume system: {e}");
            3
        }
    }
}

fn stat(prog: Prog, root: &Path, args: &[String]) -> ! {
    let Some(name) = args.iter().find(|a| !a.starts_with('-')) else {
        usage_error(root, prog, "-", "missing instance name")
    };
    let resume = args.iter().any(|a| a == "-W");
    let ctx = Ctx::start(root, name, Call::Stat);
    let inst = require_running(&ctx, prog, name);
    let post = instance_faults(&ctx, &inst);
    if resume {
        match fs::remove_file(inst.frozen_path()) {
            Ok(()) => say!(
                "Write daemon resumed (WDSUSPD cleared) on instance {}",
                inst.name
            ),
            Err(_) => say!("Write daemon was not suspended on instance {}", inst.name),
        }
    } else {
        let c = &inst.conf;
        let product = if c.product.is_empty() {
            "Cache"
        } else {
            &c.product
        };
        say!(
            "Instance {} ({product} {}) in {}",
            inst.name,
            c.version,
            c.dir
        );
        say!("Status: {}", c.status);
        match fs::read_to_string(inst.frozen_path()) {
            Ok(since) => say!(
                "WDSUSPD=1 (write daemon suspended since {} ms)",
                since.trim()
            ),
            Err(_) => say!("WDSUSPD=0 (write daemon running)"),
        }
    }
    conclude(&ctx, post, 0)
}

// ---------------------------------------------------------------------------
// Setup subcommands
// ---------------------------------------------------------------------------

const SIM_USAGE: &str = "usage: iris-sim iris|csession|ccontrol ARGS...
       iris-sim add NAME [key=value ...]
       iris-sim set NAME key=value ...
       iris-sim fault NAME|- CALL=SPEC ...
       iris-sim state NAME
       iris-sim calls
(IRIS_SIM_DIR must be set; see the doc comment of examples/iris-sim.rs)";

fn die(msg: &str) -> ! {
    eprintln!("iris-sim: {msg}");
    process::exit(1)
}

fn check_name(name: &str) {
    let reserved = ["faults", "faults.count", "calls.log", "exprs.log", "-"];
    if name.is_empty()
        || name.starts_with('.')
        || name.contains('/')
        || name.chars().any(char::is_whitespace)
        || reserved.contains(&name)
    {
        die(&format!("invalid instance name `{name}`"));
    }
}

fn parse_pairs(items: &[String]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|item| {
            let Some((k, v)) = item.split_once('=') else {
                die(&format!("`{item}` is not key=value"))
            };
            let k = k.trim();
            if !CONF_KEYS.contains(&k) {
                die(&format!(
                    "unknown conf key `{k}` (known: {})",
                    CONF_KEYS.join(", ")
                ));
            }
            if v.contains('\n') {
                die("values must not contain newlines");
            }
            match k {
                "registry" if v != "iris" && v != "cache" => die("registry must be iris or cache"),
                "fields" if !v.parse::<usize>().is_ok_and(|n| (1..=14).contains(&n)) => {
                    die("fields must be a number from 1 to 14")
                }
                _ => {}
            }
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn write_conf(path: &Path, pairs: &[(String, String)]) {
    let text: String = pairs.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    let tmp = path.with_extension(format!("tmp.{}", process::id()));
    if let Err(e) = fs::write(&tmp, text).and_then(|()| fs::rename(&tmp, path)) {
        die(&format!("cannot write {}: {e}", path.display()));
    }
}

fn existing_instance_dir(root: &Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    if !dir.join("conf").is_file() {
        die(&format!(
            "no instance `{name}` (use `iris-sim add {name}` first)"
        ));
    }
    dir
}

fn setup(cmd: &str, args: &[String]) -> ! {
    let root = root_dir();
    match (cmd, args) {
        ("add", [name, rest @ ..]) => {
            check_name(name);
            let pairs = parse_pairs(rest);
            let dir = root.join(name);
            if let Err(e) = fs::create_dir_all(&dir) {
                die(&format!("cannot create {}: {e}", dir.display()));
            }
            write_conf(&dir.join("conf"), &pairs);
        }
        ("set", [name, rest @ ..]) if !rest.is_empty() => {
            let conf = existing_instance_dir(&root, name).join("conf");
            let mut pairs = read_kv(&conf).unwrap_or_default();
            for (k, v) in parse_pairs(rest) {
                match pairs.iter_mut().find(|(pk, _)| *pk == k) {
                    Some(p) => p.1 = v,
                    None => pairs.push((k, v)),
                }
            }
            write_conf(&conf, &pairs);
        }
        ("fault", [name, specs @ ..]) if !specs.is_empty() => {
            let path = if name == "-" {
                root.join("faults")
            } else {
                existing_instance_dir(&root, name).join("faults")
            };
            for spec in specs {
                if let Err(e) = parse_fault(spec.trim()) {
                    die(&e);
                }
            }
            let existing = fs::read_to_string(&path).unwrap_or_default();
            let mut text = String::new();
            if !existing.is_empty() && !existing.ends_with('\n') {
                text.push('\n');
            }
            for spec in specs {
                text.push_str(spec.trim());
                text.push('\n');
            }
            let res = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .and_then(|mut f| f.write_all(text.as_bytes()));
            if let Err(e) = res {
                die(&format!("cannot write {}: {e}", path.display()));
            }
        }
        ("state", [name]) => {
            let dir = existing_instance_dir(&root, name);
            say!(
                "{}",
                if dir.join("frozen").exists() {
                    "frozen"
                } else {
                    "thawed"
                }
            );
        }
        ("calls", []) => {
            if let Ok(mut f) = File::open(root.join("calls.log")) {
                let _ = io::copy(&mut f, &mut io::stdout().lock());
            }
        }
        _ => {
            eprintln!("{SIM_USAGE}");
            process::exit(1)
        }
    }
    flush_all();
    process::exit(0)
}

fn linger(args: &[String]) -> ! {
    let secs = args.first().and_then(|s| s.parse().ok()).unwrap_or(30);
    thread::sleep(Duration::from_secs(secs));
    process::exit(0)
}

fn main() {
    // Behave like a C program: die on SIGPIPE instead of getting EPIPE.
    // SAFETY: installing SIG_DFL does not run any code in signal context.
    let _ = unsafe { signal::signal(Signal::SIGPIPE, SigHandler::SigDfl) };
    let args: Vec<String> = env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let argv0 = args
        .first()
        .map(|a| {
            Path::new(a)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .unwrap_or_default();
    if let Some(prog) = Prog::parse(&argv0) {
        run_program(prog, &args[1..]);
    }
    let Some(first) = args.get(1) else {
        eprintln!("{SIM_USAGE}");
        process::exit(1)
    };
    if let Some(prog) = Prog::parse(first) {
        run_program(prog, &args[2..]);
    }
    match first.as_str() {
        "__linger" => linger(&args[2..]),
        "add" | "set" | "fault" | "state" | "calls" => setup(first, &args[2..]),
        "help" | "-h" | "--help" => {
            say!("{SIM_USAGE}");
            process::exit(0)
        }
        other => {
            eprintln!("iris-sim: unknown subcommand `{other}`\n{SIM_USAGE}");
            process::exit(1)
        }
    }
}
