//! One table: every setting the watchdog needs, given each way it can be (flag, variable, config
//! file, default where a test can redirect it), each row driven through every process that
//! needs it: `freeze`, `thaw`, and the watchdog (detached, or a unit of a real systemd), with
//! proof that the setting reached each one. The rows run a few at a time.

use std::fmt;
use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use super::{BIN, Env, Run, assert_watchdog_thawed_in, simulator, wait_until};

const LIMIT: Duration = Duration::from_secs(90);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// Where `iris` and the rest are (`--bin-dirs`; by default PATH).
    BinDirs,
    StateDir,
    Log,
    History,
    /// Only the config file names them (`credentials_file`).
    Credentials,
    Timeout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    Flag,
    Env,
    File,
    /// Nothing given: the default, where a test can redirect it (PATH for the programs; the
    /// other defaults are the host's own /run, /var and /etc, which a test never touches).
    Default,
}

/// Every row of the table.
pub const ROWS: &[(Setting, Way)] = &[
    (Setting::BinDirs, Way::Flag),
    (Setting::BinDirs, Way::Env),
    (Setting::BinDirs, Way::File),
    (Setting::BinDirs, Way::Default),
    (Setting::StateDir, Way::Flag),
    (Setting::StateDir, Way::Env),
    (Setting::StateDir, Way::File),
    (Setting::Log, Way::Flag),
    (Setting::Log, Way::Env),
    (Setting::Log, Way::File),
    (Setting::History, Way::Flag),
    (Setting::History, Way::Env),
    (Setting::History, Way::File),
    (Setting::Credentials, Way::File),
    (Setting::Timeout, Way::Flag),
    (Setting::Timeout, Way::Env),
    (Setting::Timeout, Way::File),
];

/// The timeout the rows give (the default is 30 s).
const TIMEOUT: &str = "3";

/// Runs every row, four at a time; `real_systemd`: the watchdog is a unit of the host's systemd.
pub fn run_table(real_systemd: bool) {
    let chunks: Vec<Vec<(Setting, Way)>> = ROWS
        .chunks(ROWS.len().div_ceil(4))
        .map(<[_]>::to_vec)
        .collect();
    std::thread::scope(|s| {
        for chunk in chunks {
            s.spawn(move || {
                for (setting, way) in chunk {
                    Row::new(setting, way, real_systemd).check();
                }
            });
        }
    });
}

/// One row: its host, and where its setting points.
struct Row {
    env: Env,
    setting: Setting,
    way: Way,
    /// The row's own directory: what the setting names is in it.
    given: PathBuf,
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = if self.env.real_systemd {
            "a systemd unit"
        } else {
            "detached"
        };
        write!(f, "{:?} by {:?} (watchdog {how})", self.setting, self.way)
    }
}

impl Row {
    fn new(setting: Setting, way: Way, real_systemd: bool) -> Row {
        let env = if real_systemd {
            Env::new().with_real_systemd()
        } else {
            Env::new()
        };
        env.iris("IRIS");
        let given = env.tmp.path().join("given");
        fs::create_dir_all(&given).unwrap();
        fs::set_permissions(&given, fs::Permissions::from_mode(0o700)).unwrap();
        let row = Row {
            env,
            setting,
            way,
            given,
        };
        if setting == Setting::BinDirs {
            for p in ["iris", "csession", "ccontrol"] {
                fs::remove_file(row.env.bin.join(p)).unwrap();
            }
            programs(&row.env, &row.first());
            programs(&row.env, &row.second());
        }
        if setting == Setting::Credentials {
            let creds = row.given.join("creds");
            fs::write(&creds, "_SYSTEM\nSYS\n").unwrap();
            fs::set_permissions(&creds, fs::Permissions::from_mode(0o600)).unwrap();
            for call in ["freeze", "thaw", "check"] {
                row.env.fault("IRIS", &format!("{call}=login"));
            }
        }
        if way == Way::File {
            row.env.config(&row.config());
        }
        row
    }

    fn first(&self) -> PathBuf {
        self.given.join("first")
    }

    fn second(&self) -> PathBuf {
        self.given.join("second")
    }

    /// The setting's value as one string.
    fn value(&self) -> String {
        let p = |name: &str| self.given.join(name).to_str().unwrap().to_string();
        match self.setting {
            Setting::BinDirs => format!("{}:{}", p("first"), p("second")),
            Setting::StateDir => p("state"),
            Setting::Log => p("freeze.log"),
            Setting::History => p("history.jsonl"),
            Setting::Credentials => p("creds"),
            Setting::Timeout => TIMEOUT.into(),
        }
    }

    /// Its flag, variable and config file line.
    fn names(&self) -> (&'static str, &'static str, String) {
        let v = self.value();
        let q = |key: &str| format!("{key} = \"{v}\"\n");
        match self.setting {
            Setting::BinDirs => {
                let list: Vec<String> = v.split(':').map(|d| format!("\"{d}\"")).collect();
                let line = format!("bin_dirs = [{}]\n", list.join(", "));
                ("--bin-dirs", "IRIS_FREEZE_BIN_DIRS", line)
            }
            Setting::StateDir => ("--state-dir", "IRIS_FREEZE_STATE_DIR", q("state_dir")),
            Setting::Log => {
                let thaw = self.given.join("thaw.log");
                let line = format!("{}thaw_log = \"{}\"\n", q("freeze_log"), thaw.display());
                ("--log-file", "IRIS_FREEZE_LOG_FILE", line)
            }
            Setting::History => (
                "--history-file",
                "IRIS_FREEZE_HISTORY_FILE",
                q("history_file"),
            ),
            Setting::Credentials => ("", "", q("credentials_file")),
            Setting::Timeout => (
                "--timeout",
                "IRIS_FREEZE_TIMEOUT",
                format!("timeout = {v}\n"),
            ),
        }
    }

    fn config(&self) -> String {
        self.names().2
    }

    /// `iris-freeze ARGS`, the setting given the row's way (the harness's own value of it
    /// removed).
    fn run(&self, args: &[&str]) -> Run {
        let (flag, var, _) = self.names();
        let mut c = self.env.command(Path::new(BIN));
        if !var.is_empty() {
            c.env_remove(var);
        }
        c.args(args);
        match self.way {
            Way::Flag => {
                c.args([flag, &self.value()]);
            }
            Way::Env => {
                c.env(var, self.value());
            }
            Way::File => {}
            Way::Default => {
                // PATH finds the programs; no --bin-dirs at all (the usual install places).
                let path = format!("{}:/usr/bin:/bin", self.value());
                c.env("PATH", path);
            }
        }
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        let out = c.output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: Duration::ZERO,
        }
    }

    fn freeze_log_path(&self) -> PathBuf {
        match self.setting {
            Setting::Log => self.given.join("freeze.log"),
            _ => self.env.log.clone(),
        }
    }

    fn freeze_log(&self) -> String {
        fs::read_to_string(self.freeze_log_path()).unwrap_or_default()
    }

    fn thaw_log(&self) -> String {
        let path = match (self.setting, self.way) {
            (Setting::Log, Way::File) => self.given.join("thaw.log"),
            (Setting::Log, _) => self.given.join("freeze.log"),
            _ => self.env.log.clone(),
        };
        fs::read_to_string(path).unwrap_or_default()
    }

    fn history_kinds(&self) -> Vec<String> {
        let path = match self.setting {
            Setting::History => self.given.join("history.jsonl"),
            _ => self.env.history(),
        };
        fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|e| e["event"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    fn state_file(&self) -> PathBuf {
        match self.setting {
            Setting::StateDir => self.given.join("state/state.json"),
            _ => self.env.state_file(),
        }
    }

    fn check(&self) {
        self.freeze_proves_it();
        self.thaw_proves_it();
        self.watchdog_proves_it();
    }

    fn freeze_proves_it(&self) {
        let r = self.run(&["freeze", "--max-freeze", "300"]);
        assert_eq!(r.code, 0, "{self}: freeze: {}", r.text());
        assert!(self.env.frozen("IRIS"), "{self}");
        let log = self.freeze_log();
        match self.setting {
            Setting::BinDirs => assert!(
                fs::read_to_string(self.state_file())
                    .unwrap()
                    .contains(self.first().to_str().unwrap()),
                "{self}: the freeze did not record the program it found"
            ),
            Setting::StateDir => assert!(self.state_file().exists(), "{self}"),
            Setting::Log => assert!(log.contains("cmd=freeze"), "{self}: {log}"),
            Setting::History => assert_eq!(self.history_kinds(), ["freeze"], "{self}"),
            // Frozen through the login: the credentials were used.
            Setting::Credentials => {}
            Setting::Timeout => assert!(log.contains("(timeout 3s,"), "{self}: {log}"),
        }
    }

    /// Before a thaw or the watchdog's deadline: a way only the setting can undo. The recorded
    /// program gone (discovery with the setting finds the other), or a first ExternalThaw that
    /// hangs past the timeout.
    fn obstacle(&self) {
        match self.setting {
            Setting::BinDirs => fs::rename(self.first(), self.given.join("first.off")).unwrap(),
            Setting::Timeout => {
                self.env.fault("IRIS", "thaw=hang@1");
            }
            _ => {}
        }
    }

    fn clear_obstacle(&self) {
        if self.setting == Setting::BinDirs {
            fs::rename(self.given.join("first.off"), self.first()).unwrap();
        }
    }

    fn thaw_proves_it(&self) {
        self.obstacle();
        let r = self.run(&["thaw"]);
        assert!(r.code == 0 || r.code == 2, "{self}: thaw: {}", r.text());
        assert!(!self.env.frozen("IRIS"), "{self}: {}", r.text());
        assert!(r.stdout.contains("thawed: IRIS"), "{self}: {}", r.text());
        self.proves_it("thaw", &self.thaw_log());
        if self.setting == Setting::History {
            assert_eq!(self.history_kinds(), ["freeze", "thaw"], "{self}");
        }
        self.clear_obstacle();
    }

    fn watchdog_proves_it(&self) {
        let r = self.run(&["freeze", "--max-freeze", "3"]);
        assert_eq!(r.code, 0, "{self}: freeze: {}", r.text());
        let state = fs::read_to_string(self.state_file()).unwrap();
        let unit = state.contains("systemd unit");
        assert_eq!(unit, self.env.real_systemd, "{self}: {state}");
        self.obstacle();
        let log = assert_watchdog_thawed_in(
            &self.env,
            &self.freeze_log_path(),
            &["IRIS"],
            &format!("{self}: "),
        );
        self.proves_it("watchdog", &log);
        match self.setting {
            Setting::StateDir => assert!(
                fs::read_to_string(self.state_file())
                    .unwrap()
                    .contains("auto_thaw"),
                "{self}"
            ),
            Setting::History => {
                assert!(
                    wait_until(LIMIT, || self.history_kinds().last().map(String::as_str)
                        == Some("auto-thaw")),
                    "{self}: {:?}",
                    self.history_kinds()
                )
            }
            _ => {}
        }
    }

    /// What `cmd`'s lines in `log` show of the setting.
    fn proves_it(&self, cmd: &str, log: &str) {
        let lines: Vec<&str> = log
            .lines()
            .filter(|l| l.contains(&format!(" cmd={cmd} ")))
            .collect();
        let any = |text: &str| lines.iter().any(|l| l.contains(text));
        assert!(!lines.is_empty(), "{self}: no {cmd} line in {log}");
        match self.setting {
            Setting::BinDirs => {
                let second = format!("thawing with {}/iris instead", self.second().display());
                assert!(any(&second), "{self}: {cmd}: {log}");
            }
            Setting::Credentials => {
                assert!(any("ExternalThaw succeeded"), "{self}: {cmd}: {log}")
            }
            Setting::Timeout => assert!(any("timed out after 3.0s"), "{self}: {cmd}: {log}"),
            _ => {}
        }
    }
}

/// The simulator's programs in `dir`: links to it, or under a real systemd (whose units do not
/// get the test's IRIS_SIM_DIR) scripts that name it.
pub fn programs(env: &Env, dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    for p in ["iris", "csession", "ccontrol"] {
        let path = dir.join(p);
        if !env.real_systemd {
            symlink(simulator(), &path).unwrap();
            continue;
        }
        let script = format!(
            "#!/bin/sh\nIRIS_SIM_DIR='{}'\nexport IRIS_SIM_DIR\nexec '{}' {p} \"$@\"\n",
            env.sim.display(),
            simulator().display()
        );
        fs::write(&path, script).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }
}
