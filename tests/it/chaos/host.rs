//! A cycle's host: the harness's scratch dir with the simulator, the plan's instances, faults,
//! config file and credentials, and each run's command line and environment as the plan gives
//! its settings. Everything the tool may write is under the scratch dir.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::plan::{Call, ConfigAt, Op, Plan, Product, Setting, Way};
use crate::common::{self, Env};

/// The login the `login` fault accepts, and the secret that must never be written anywhere.
pub const USER: &str = "chaosuser";

pub struct Host {
    pub env: Env,
    pub password: String,
}

impl Host {
    pub fn new(plan: &Plan) -> Host {
        let mut programs = vec!["iris", "ccontrol"];
        if plan.csession {
            programs.push("csession");
        }
        let host = Host {
            env: Env::with_programs(&programs),
            password: format!("pw-{:x}-{}", plan.seed, plan.cycle),
        };
        for i in &plan.instances {
            let product = match i.product {
                Product::Iris => "product=IRIS",
                Product::Cache => "product=",
            };
            let status = if i.down {
                "status=down"
            } else {
                "status=running"
            };
            let password = format!("password={}", host.password);
            host.env.add(
                &i.name,
                &[product, status, &format!("user={USER}"), &password],
            );
        }
        for (name, line) in &plan.faults {
            host.env.fault(name, line);
        }
        for dir in ["home", "tmp", "xdg-run", "metrics", "cfg"] {
            fs::create_dir_all(host.scratch().join(dir)).unwrap();
            fs::set_permissions(host.scratch().join(dir), fs::Permissions::from_mode(0o700))
                .unwrap();
        }
        host.write_config(plan);
        host
    }

    pub fn scratch(&self) -> &Path {
        self.env.tmp.path()
    }

    fn config_file(&self) -> PathBuf {
        self.scratch().join("cfg/chaos.toml")
    }

    fn credentials_file(&self) -> PathBuf {
        self.scratch().join("cfg/credentials")
    }

    fn log_file(&self) -> PathBuf {
        self.scratch().join("ops.log")
    }

    fn metrics_file(&self) -> PathBuf {
        self.scratch().join("metrics/iris-freeze.prom")
    }

    /// The same file at both places a run may look for it (`--config`/the variable, and the
    /// root's `/etc/iris-freeze.toml`).
    fn write_config(&self, plan: &Plan) {
        let q = |p: &Path| format!("{:?}", p.display().to_string());
        let mut text = String::new();
        for s in &plan.in_config {
            let line = match s {
                Setting::StateDir => format!("state_dir = {}", q(&self.env.state)),
                Setting::LogFile => format!(
                    "freeze_log = {}\nthaw_log = {}",
                    q(&self.scratch().join("freeze-cfg.log")),
                    q(&self.scratch().join("thaw-cfg.log"))
                ),
                Setting::HistoryFile => format!("history_file = {}", q(&self.env.history())),
                Setting::MetricsFile => format!("metrics_file = {}", q(&self.metrics_file())),
                Setting::BinDirs => format!("bin_dirs = [{}]", q(&self.env.bin)),
                Setting::MaxFreeze => format!("max_freeze = {}", secs(plan.max_freeze_ms)),
                Setting::Timeout => format!("timeout = {}", secs(plan.timeout_ms)),
                Setting::Instances => format!("instances = {:?}", plan.targets()),
            };
            text.push_str(&line);
            text.push('\n');
        }
        if plan.credentials {
            let creds = self.credentials_file();
            fs::write(&creds, format!("{USER}\n{}\n", self.password)).unwrap();
            fs::set_permissions(&creds, fs::Permissions::from_mode(0o600)).unwrap();
            text.push_str(&format!("credentials_file = {}\n", q(&creds)));
        }
        let at = self.config_file();
        fs::write(&at, &text).unwrap();
        fs::set_permissions(&at, fs::Permissions::from_mode(0o600)).unwrap();
        self.env.config(&text);
    }

    /// The run `call` of `plan`: its settings each given the way the plan says, stdout and
    /// stderr piped, HOME, TMPDIR and the XDG dirs in the scratch dir.
    pub fn command(&self, plan: &Plan, call: &Call) -> Command {
        let mut c = self.env.command(Path::new(common::BIN));
        for var in [
            "IRIS_FREEZE_STATE_DIR",
            "IRIS_FREEZE_LOG_FILE",
            "IRIS_FREEZE_HISTORY_FILE",
            "IRIS_FREEZE_BIN_DIRS",
            "IRIS_FREEZE_ROOT",
        ] {
            c.env_remove(var);
        }
        let s = self.scratch();
        c.env("HOME", s.join("home"))
            .env("TMPDIR", s.join("tmp"))
            .env("XDG_RUNTIME_DIR", s.join("xdg-run"))
            .env("XDG_STATE_HOME", s.join("home/.local/state"))
            .env("XDG_CONFIG_HOME", s.join("home/.config"))
            .env("XDG_DATA_HOME", s.join("home/.local/share"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if plan.bin_on_path {
            c.env("IRIS_FREEZE_BIN_DIRS", "");
        } else {
            c.env("PATH", "/usr/bin:/bin");
        }
        c.arg(match call.op {
            Op::Freeze => "freeze",
            Op::Thaw => "thaw",
        });
        self.config_at(&mut c, call.config_at);
        for (setting, way) in &call.ways {
            self.give(&mut c, plan, *setting, *way);
        }
        c
    }

    fn config_at(&self, c: &mut Command, at: ConfigAt) {
        let root = self.env.root();
        match at {
            ConfigAt::Flag => c.arg("--config").arg(self.config_file()),
            ConfigAt::Env => c.env("IRIS_FREEZE_CONFIG", self.config_file()),
            ConfigAt::RootEnv => c.env("IRIS_FREEZE_ROOT", root),
            ConfigAt::RootFlag => c.arg("--root").arg(root),
        };
    }

    fn give(&self, c: &mut Command, plan: &Plan, setting: Setting, way: Way) {
        let (flag, var, value): (&str, &str, String) = match setting {
            Setting::StateDir => (
                "--state-dir",
                "IRIS_FREEZE_STATE_DIR",
                self.env.state.display().to_string(),
            ),
            Setting::LogFile => (
                "--log-file",
                "IRIS_FREEZE_LOG_FILE",
                self.log_file().display().to_string(),
            ),
            Setting::HistoryFile => (
                "--history-file",
                "IRIS_FREEZE_HISTORY_FILE",
                self.env.history().display().to_string(),
            ),
            Setting::MetricsFile => (
                "--metrics-file",
                "IRIS_FREEZE_METRICS_FILE",
                self.metrics_file().display().to_string(),
            ),
            Setting::BinDirs => (
                "--bin-dirs",
                "IRIS_FREEZE_BIN_DIRS",
                self.env.bin.display().to_string(),
            ),
            Setting::MaxFreeze => (
                "--max-freeze",
                "IRIS_FREEZE_MAX_FREEZE",
                secs(plan.max_freeze_ms),
            ),
            Setting::Timeout => ("--timeout", "IRIS_FREEZE_TIMEOUT", secs(plan.timeout_ms)),
            Setting::Instances => {
                let names = plan.targets();
                match way {
                    Way::Flag => {
                        for n in names {
                            c.arg(format!("--instance={n}"));
                        }
                    }
                    Way::Env => {
                        c.env("IRIS_FREEZE_INSTANCES", names.join(","));
                    }
                    Way::File => {}
                }
                return;
            }
        };
        match way {
            Way::Flag => {
                c.arg(flag).arg(value);
            }
            Way::Env => {
                c.env(var, value);
            }
            Way::File => {}
        }
    }

    /// The instances the simulator says are frozen.
    pub fn frozen(&self, plan: &Plan) -> Vec<String> {
        plan.instances
            .iter()
            .filter(|i| self.env.frozen(&i.name))
            .map(|i| i.name.clone())
            .collect()
    }

    /// No more faults: what a person would have fixed before the recovery.
    pub fn clear_faults(&self, plan: &Plan) {
        let sim = &self.env.sim;
        let mut dirs = vec![sim.clone()];
        dirs.extend(plan.instances.iter().map(|i| sim.join(&i.name)));
        for d in dirs {
            let _ = fs::remove_file(d.join("faults"));
            let _ = fs::remove_file(d.join("faults.count"));
        }
    }
}

/// Milliseconds as the seconds a flag, variable or config key takes.
pub fn secs(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}
