//! Test harness: a temp dir with the IRIS simulator on PATH (as `iris`, `csession`, `ccontrol`),
//! a state dir and a log file, and helpers that run the real iris-freeze binary against it.

pub mod doc_examples;
pub mod other_user;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

pub mod settings;
pub mod verify;

pub const BIN: &str = env!("CARGO_BIN_EXE_iris-freeze");

/// The simulator example, brought up to date once per test run: `cargo test` builds it only
/// as a unit-test harness (`test = true`), so a copy left by an older build would test old
/// simulator code. Offline: everything it needs was fetched to build the tests.
pub fn simulator() -> PathBuf {
    static BUILD: Once = Once::new();
    let path = Path::new(BIN).parent().unwrap().join("examples/iris-sim");
    BUILD.call_once(|| {
        let st = Command::new(env!("CARGO"))
            .args(["build", "--offline", "--quiet", "--example", "iris-sim"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo build --example iris-sim");
        assert!(st.success(), "cargo build --example iris-sim failed");
    });
    path
}

pub struct Env {
    pub tmp: tempfile::TempDir,
    pub sim: PathBuf,
    pub bin: PathBuf,
    pub state: PathBuf,
    pub log: PathBuf,
    /// Leave IRIS_FREEZE_NO_SYSTEMD unset: the host's real systemd runs the watchdog.
    pub real_systemd: bool,
    /// `--history-file`: in the temp dir unless a test moves it ([`Env::with_history_file`]).
    history: PathBuf,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn text(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Drop for Env {
    /// Simulator calls left hanging (a test killed iris-freeze under them) are killed, so
    /// nothing outlives the test. Only pids whose command line is still the simulator's.
    fn drop(&mut self) {
        for line in self.call_lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 5 || f[4] != "start" {
                continue;
            }
            let Ok(pid) = f[1].parse::<i32>() else {
                continue;
            };
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains("iris") {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }
}

/// Starts `c`, retrying while the program is "busy": a test that has just written an
/// executable (a copy of the binary, a stand-in script) races the forks of tests running in
/// parallel, whose children briefly hold its write descriptor (ETXTBSY).
pub fn spawn(c: &mut Command) -> std::process::Child {
    let mut tries = 0;
    loop {
        match c.spawn() {
            Err(e) if e.raw_os_error() == Some(nix::libc::ETXTBSY) && tries < 100 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other.unwrap(),
        }
    }
}

/// Whether `pid` is a live process (not a zombie).
pub fn alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

/// Polls `cond` every 20 ms until it holds or `limit` passes; never a fixed sleep.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

/// The watchdog thawed each of `thawed` and its last word in the log says so,
/// A host with one running IRIS instance and an existing, empty `--root`, for `install`.
pub fn install_host() -> Env {
    let env = Env::new();
    env.iris("IRIS");
    fs::create_dir_all(env.root()).unwrap();
    env
}

/// `AUTO-THAW done: thawed A, B` (the names as it joins them): waits up to a minute for both, and
/// fails as soon as that last word is `AUTO-THAW FAILED` instead. Returns the log, for what a
/// test checks beyond.
#[track_caller]
pub fn assert_watchdog_thawed(env: &Env, thawed: &[&str]) -> String {
    assert_watchdog_thawed_in(env, &env.log, thawed, "")
}

/// [`assert_watchdog_thawed`] with the log at `log` (a setting moved it, or the user's default
/// took it), its messages starting with `what`.
#[track_caller]
pub fn assert_watchdog_thawed_in(env: &Env, log: &Path, thawed: &[&str], what: &str) -> String {
    let limit = Duration::from_secs(60);
    let text = || fs::read_to_string(log).unwrap_or_default();
    assert!(
        wait_until(limit, || thawed.iter().all(|n| !env.frozen(n))),
        "{what}the watchdog never thawed {thawed:?}: {}",
        text()
    );
    assert!(
        wait_until(limit, || {
            let t = text();
            t.contains("AUTO-THAW done") || t.contains("AUTO-THAW FAILED")
        }),
        "{what}no last word from the watchdog in {}: {}",
        log.display(),
        text()
    );
    let t = text();
    let done = format!("AUTO-THAW done: thawed {}", thawed.join(", "));
    assert!(
        t.contains(&done),
        "{what}no {done:?} in {}: {t}",
        log.display()
    );
    t
}

/// Waits for a spawned iris-freeze (killing it after two minutes) and collects its output.
pub fn finish(child: std::process::Child) -> Run {
    let start = Instant::now();
    let mut child = child;
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("iris-freeze still running after 120 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

impl Default for Env {
    fn default() -> Self {
        Env::new()
    }
}

impl Env {
    /// An empty host: the simulator's programs are installed but no instance exists yet.
    pub fn new() -> Env {
        Env::with_programs(&["iris", "csession", "ccontrol"])
    }

    pub fn with_programs(programs: &[&str]) -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let sim = tmp.path().join("sim");
        let bin = tmp.path().join("bin");
        fs::create_dir_all(&sim).unwrap();
        fs::create_dir_all(&bin).unwrap();
        for p in programs {
            symlink(simulator(), bin.join(p)).unwrap();
        }
        Env {
            state: tmp.path().join("state"),
            log: tmp.path().join("freeze.log"),
            history: tmp.path().join("lib/history.jsonl"),
            sim,
            bin,
            tmp,
            real_systemd: false,
        }
    }

    /// For tests under a real systemd (systemd.rs): the watchdog becomes a unit of the
    /// host's systemd, whose environment has no IRIS_SIM_DIR, so the simulator's programs are
    /// scripts that name their state themselves.
    pub fn with_real_systemd(mut self) -> Env {
        self.real_systemd = true;
        for p in ["iris", "csession", "ccontrol"] {
            let path = self.bin.join(p);
            if fs::symlink_metadata(&path).is_err() {
                continue;
            }
            fs::remove_file(&path).unwrap();
            let script = format!(
                "#!/bin/sh\nIRIS_SIM_DIR='{}'\nexport IRIS_SIM_DIR\nexec '{}' {p} \"$@\"\n",
                self.sim.display(),
                simulator().display()
            );
            fs::write(&path, script).unwrap();
            fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
        }
        self
    }

    /// Adds an instance with `key=value` conf lines (see examples/iris-sim/main.rs).
    pub fn add(&self, name: &str, conf: &[&str]) -> &Env {
        let dir = self.sim.join(name);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("conf"), conf.join("\n") + "\n").unwrap();
        self
    }

    pub fn iris(&self, name: &str) -> &Env {
        self.add(name, &["product=IRIS"])
    }

    pub fn cache(&self, name: &str) -> &Env {
        self.add(name, &["product="])
    }

    /// Injects a fault: `CALL=SPEC`, e.g. `freeze=fail`, `check=login`, `thaw=hang@1`.
    pub fn fault(&self, name: &str, spec: &str) -> &Env {
        let path = if name == "-" {
            self.sim.join("faults")
        } else {
            self.sim.join(name).join("faults")
        };
        let mut text = fs::read_to_string(&path).unwrap_or_default();
        text.push_str(spec);
        text.push('\n');
        fs::write(path, text).unwrap();
        self
    }

    /// Freezes an instance behind iris-freeze's back (another backup tool).
    pub fn freeze_externally(&self, name: &str) {
        fs::write(self.sim.join(name).join("frozen"), "0").unwrap();
    }

    pub fn thaw_externally(&self, name: &str) {
        let _ = fs::remove_file(self.sim.join(name).join("frozen"));
    }

    pub fn frozen(&self, name: &str) -> bool {
        self.sim.join(name).join("frozen").exists()
    }

    /// The directory standing in for `/` (install, check, the config file, the Azure JSON).
    pub fn root(&self) -> PathBuf {
        self.tmp.path().join("root")
    }

    /// `path` (absolute) under [`Env::root`].
    pub fn at(&self, path: &str) -> PathBuf {
        self.root().join(path.trim_start_matches('/'))
    }

    /// Writes `<root>/etc/iris-freeze.toml`, mode 0600.
    pub fn config(&self, toml: &str) -> PathBuf {
        let path = self.root().join("etc/iris-freeze.toml");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, toml).unwrap();
        fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        path
    }

    /// Every simulator call log line.
    pub fn call_lines(&self) -> Vec<String> {
        fs::read_to_string(self.sim.join("calls.log"))
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    /// How many times `call` was started on instance `name` (`-` for qlist).
    pub fn calls(&self, name: &str, call: &str) -> usize {
        self.call_lines()
            .iter()
            .filter(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.len() >= 5 && f[2] == name && f[3] == call && f[4] == "start"
            })
            .count()
    }

    /// The history file (`--history-file`), in the temp dir unless moved.
    pub fn history(&self) -> PathBuf {
        self.history.clone()
    }

    /// The history at `path` instead, for every run and every helper that reads it (a test
    /// that puts it on a volume it snapshots).
    pub fn with_history_file(mut self, path: PathBuf) -> Env {
        self.history = path;
        self
    }

    /// Every history line, parsed.
    pub fn history_events(&self) -> Vec<serde_json::Value> {
        fs::read_to_string(self.history())
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// The kind of each history line (`freeze`, `cmd`, `thaw`, ...), in order.
    pub fn history_kinds(&self) -> Vec<String> {
        self.history_events()
            .iter()
            .map(|e| e["event"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// The history lines of one event kind (`freeze`, `thaw`, ...), in order.
    pub fn history_events_of(&self, kind: &str) -> Vec<serde_json::Value> {
        self.history_events()
            .into_iter()
            .filter(|e| e["event"] == kind)
            .collect()
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn state_file(&self) -> PathBuf {
        self.state.join("state.json")
    }

    /// The parsed state file (`null` when there is none).
    pub fn state_json(&self) -> serde_json::Value {
        fs::read_to_string(self.state_file())
            .map(|t| serde_json::from_str(&t).unwrap())
            .unwrap_or(serde_json::Value::Null)
    }

    /// The instances the state records as frozen (or being frozen) by iris-freeze.
    pub fn recorded(&self) -> Vec<String> {
        match &self.state_json()["instances"] {
            serde_json::Value::Object(m) => m.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// The armed watchdog's pid, if the state names one.
    pub fn watchdog_pid(&self) -> Option<i32> {
        self.state_json()["watchdog"]["pid"]
            .as_i64()
            .map(|p| p as i32)
    }

    /// Where the journal's socket is, for this host (a test may bind it).
    pub fn journal_socket(&self) -> PathBuf {
        self.tmp.path().join("journal-socket")
    }

    /// The iris-freeze command with a clean environment pointing at this host.
    pub fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", self.bin.display()))
            .env("IRIS_SIM_DIR", &self.sim)
            .env("IRIS_FREEZE_STATE_DIR", &self.state)
            .env("IRIS_FREEZE_LOG_FILE", &self.log)
            // Never the host's /var/lib/iris-freeze.
            .env("IRIS_FREEZE_HISTORY_FILE", self.history())
            // Never the host's journald: a socket nobody listens on unless a test binds it.
            .env("IRIS_FREEZE_JOURNAL_SOCKET", self.journal_socket())
            .env("IRIS_FREEZE_BIN_DIRS", "")
            // Never the host's /etc/iris-freeze.toml or /etc/azure.
            .env("IRIS_FREEZE_ROOT", self.root())
            .stdin(Stdio::null());
        if !self.real_systemd {
            // Hermetic even on a CI machine that runs systemd (`check` looks there too).
            c.env("IRIS_FREEZE_NO_SYSTEMD", "1").env(
                "IRIS_FREEZE_SYSTEMD_DIR",
                self.tmp.path().join("no-systemd"),
            );
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_program(Path::new(BIN), args, &[])
    }

    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        self.run_program(Path::new(BIN), args, env)
    }

    /// Runs a program (the binary or a hook-named link to it); a run that outlives two minutes
    /// is killed and fails the test instead of hanging it.
    pub fn run_program(&self, program: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut c = self.command(program);
        c.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        for (k, v) in env {
            c.env(k, v);
        }
        let start = Instant::now();
        let mut child = spawn(&mut c);
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if start.elapsed() > Duration::from_secs(120) {
                let _ = child.kill();
                panic!("{program:?} {args:?} still running after 120 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let Output {
            status,
            stdout,
            stderr,
        } = child.wait_with_output().unwrap();
        Run {
            code: status.code().expect("iris-freeze was killed by a signal"),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            elapsed: start.elapsed(),
        }
    }

    /// Starts iris-freeze in the background (stdout and stderr piped).
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        let mut c = self.command(Path::new(BIN));
        c.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        spawn(&mut c)
    }

    /// A link to the binary under a hook's name.
    pub fn hook(&self, name: &str) -> PathBuf {
        let dir = self.tmp.path().join("hooks");
        fs::create_dir_all(&dir).unwrap();
        let link = dir.join(name);
        if !link.exists() {
            symlink(BIN, &link).unwrap();
        }
        link
    }
}
