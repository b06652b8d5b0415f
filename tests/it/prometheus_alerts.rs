//! The example alert rules under a real Prometheus scraping real node_exporters: two hosts,
//! each a simulator with its own textfile directory and node_exporter, the metrics files
//! written by real freeze/thaw cycles, the alerts read from Prometheus's HTTP API until each
//! fires (and stays apart per host and IRIS instance) and then resolves.
//!
//! Ignored by default: it needs Debian's `prometheus` and `prometheus-node-exporter` (`.ci/run`
//! installs them; neither service is started, the test starts its own on 127.0.0.1).

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{self, Env};
use serde_json::Value;

/// How long a daemon may take to answer, and an alert to fire or resolve, on a loaded box.
const DEADLINE: Duration = Duration::from_secs(180);

/// A daemon started by the test, killed (and reaped) when dropped, its output in `log`.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(program: &str, args: &[String], log: PathBuf) -> Daemon {
        let out = fs::File::create(&log).unwrap();
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {program} (apt-get install prometheus prometheus-node-exporter): {e}")
            });
        Daemon { child, log }
    }

    fn output(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port free on 127.0.0.1 now (the daemon binds it a moment later).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET path` over HTTP/1.0: the status code and the body, or `None` while nothing listens.
fn get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let code = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((code, body.to_string()))
}

fn wait_ready(addr: &str, path: &str, d: &Daemon) {
    assert!(
        common::wait_until(DEADLINE, || get(addr, path).is_some_and(|(c, _)| c == 200)),
        "{addr}{path} never answered 200:\n{}",
        d.output()
    );
}

/// One host: a simulator, its textfile directory and its node_exporter.
struct Host {
    env: Env,
    metrics: PathBuf,
    addr: String,
    /// Kept for its Drop: the exporter lives as long as the host.
    _exporter: Daemon,
}

impl Host {
    fn new(instances: &[&str]) -> Host {
        let env = Env::new();
        for name in instances {
            env.iris(name);
        }
        let dir = env.tmp.path().join("textfile");
        fs::DirBuilder::new().mode(0o755).create(&dir).unwrap();
        let addr = format!("127.0.0.1:{}", free_port());
        let exporter = Daemon::start(
            "prometheus-node-exporter",
            &[
                "--collector.disable-defaults".into(),
                "--collector.textfile".into(),
                format!("--collector.textfile.directory={}", dir.display()),
                "--web.disable-exporter-metrics".into(),
                format!("--web.listen-address={addr}"),
            ],
            env.tmp.path().join("node-exporter.log"),
        );
        wait_ready(&addr, "/metrics", &exporter);
        Host {
            metrics: dir.join("iris-freeze.prom"),
            env,
            addr,
            _exporter: exporter,
        }
    }

    /// Runs iris-freeze with the metrics file set; its exit code must be `code`.
    fn run(&self, args: &[&str], code: i32) {
        let m = self.metrics.to_str().unwrap();
        let r = self.env.run_env(args, &[("IRIS_FREEZE_METRICS_FILE", m)]);
        assert_eq!(r.code, code, "{args:?}: {}", r.text());
    }
}

/// The example rules with every `for:` set to 0s, so the test need not wait the minutes users
/// want before an alert fires; the expressions are the shipped ones, untouched.
fn rules_without_waits(into: &Path) -> PathBuf {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/prometheus-rules.yml");
    let text = fs::read_to_string(shipped).unwrap();
    let mut waits = 0;
    let lines: Vec<String> = text
        .lines()
        .map(|l| match l.trim_start().strip_prefix("for:") {
            Some(_) => {
                waits += 1;
                format!("{}for: 0s", &l[..l.len() - l.trim_start().len()])
            }
            None => l.to_string(),
        })
        .collect();
    assert!(waits > 0, "no `for:` in the rules:\n{text}");
    let path = into.join("rules.yml");
    fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

/// Prometheus on 127.0.0.1 scraping `targets` every second under one job, as a fleet's
/// node_exporters are, with the rules evaluated every second.
fn prometheus(dir: &Path, targets: &[&str]) -> (Daemon, String) {
    let rules = rules_without_waits(dir);
    let targets: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
    let config = dir.join("prometheus.yml");
    fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\n\
             scrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: [{}]\n",
            rules.display(),
            targets.join(", ")
        ),
    )
    .unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let d = Daemon::start(
        "prometheus",
        &[
            format!("--config.file={}", config.display()),
            format!("--storage.tsdb.path={}", dir.join("data").display()),
            format!("--web.listen-address={addr}"),
        ],
        dir.join("prometheus.log"),
    );
    wait_ready(&addr, "/-/ready", &d);
    (d, addr)
}

/// An alert as the test names it: its rule, the IRIS instance, the host's scrape address.
type Key = (String, String, String);

fn key(alert: &str, iris: &str, host: &Host) -> Key {
    (alert.into(), iris.into(), host.addr.clone())
}

/// The firing alerts, with each one's summary.
fn firing(addr: &str) -> Vec<(Key, String)> {
    let Some((200, body)) = get(addr, "/api/v1/alerts") else {
        return Vec::new();
    };
    let v: Value = serde_json::from_str(&body).unwrap();
    let label = |a: &Value, k: &str| a["labels"][k].as_str().unwrap_or("").to_string();
    v["data"]["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["state"] == "firing")
        .map(|a| {
            let k = (
                label(a, "alertname"),
                label(a, "iris_instance"),
                label(a, "instance"),
            );
            (k, a["annotations"]["summary"].as_str().unwrap_or("").into())
        })
        .collect()
}

/// Waits until exactly `want` fire, every summary naming its IRIS instance and host.
fn wait_for(addr: &str, want: &[Key], what: &str, prom: &Daemon) {
    let mut want = want.to_vec();
    want.sort();
    let mut last = Vec::new();
    let ok = common::wait_until(DEADLINE, || {
        last = firing(addr);
        let mut keys: Vec<Key> = last.iter().map(|(k, _)| k.clone()).collect();
        keys.sort();
        std::thread::sleep(Duration::from_millis(200));
        keys == want
    });
    assert!(
        ok,
        "{what}: wanted {want:#?}\nfiring {last:#?}\n{}",
        prom.output()
    );
    for ((_, iris, host), summary) in &last {
        assert!(
            summary.contains(&format!("instance {iris} on {host}")),
            "{summary}"
        );
    }
}

/// What fires must keep firing, and nothing else join it, for a few evaluations.
fn stays(addr: &str, want: &[Key]) {
    let mut want = want.to_vec();
    want.sort();
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        let mut keys: Vec<Key> = firing(addr).into_iter().map(|(k, _)| k).collect();
        keys.sort();
        assert_eq!(keys, want);
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
#[ignore = "needs prometheus and prometheus-node-exporter (.ci/run installs them)"]
fn the_example_rules_fire_and_resolve_under_a_real_prometheus() {
    // Host a: IRIS had a consistent snapshot; NEVER's only freeze failed. Host b: its own IRIS
    // (same name), frozen and not thawed yet.
    let a = Host::new(&["IRIS", "NEVER"]);
    let b = Host::new(&["IRIS"]);
    a.run(&["freeze", "-i", "IRIS"], 0);
    a.run(&["thaw"], 0);
    a.env.fault("NEVER", "freeze=fail");
    a.run(&["freeze", "-i", "NEVER"], 1);
    b.run(&["freeze", "--max-freeze", "590"], 0);

    let dir = tempfile::tempdir().unwrap();
    let (prom, addr) = prometheus(dir.path(), &[&a.addr, &b.addr]);
    let fired = [
        key("IrisNoConsistentSnapshot", "NEVER", &a),
        key("IrisFreezeFailed", "NEVER", &a),
        key("IrisFrozenTooLong", "IRIS", &b),
        key("IrisNoConsistentSnapshot", "IRIS", &b),
    ];
    wait_for(&addr, &fired, "each problem's alert", &prom);
    // Host a's IRIS, consistent, stays quiet beside b's IRIS of the same name.
    stays(&addr, &fired);

    // NEVER's next freeze holds and its thaw is consistent; b thaws.
    fs::write(a.env.sim.join("NEVER/faults"), "").unwrap();
    a.run(&["freeze", "-i", "NEVER"], 0);
    a.run(&["thaw"], 0);
    b.run(&["thaw"], 0);
    wait_for(&addr, &[], "every alert resolved", &prom);
}
