//! The freeze-window benchmark: `cargo run --release --example bench [-- CYCLES]`.
//!
//! What IRIS pays for a snapshot hook is the time it stays frozen because of the hook: from
//! ExternalFreeze returning to the freeze process exiting, plus from the thaw process starting
//! to ExternalThaw being called. This program measures that window over many freeze/thaw cycles
//! against the IRIS simulator, for iris-freeze and for the plain shell scripts it replaces; then
//! the freeze of 1, 4 and 8 instances (each taking the same simulated time), the armed
//! watchdog's resident memory, and the binary's size. The simulator stamps each call in
//! nanoseconds (`IRIS_SIM_TRACE`); this program stamps process exits and spawns.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

struct Host {
    dir: PathBuf,
    bin: PathBuf,
    sim: PathBuf,
    sim_exe: PathBuf,
    trace: PathBuf,
    state: PathBuf,
}

impl Host {
    fn new(base: &Path, name: &str, sim_exe: &Path) -> Host {
        let dir = base.join(name);
        let _ = fs::remove_dir_all(&dir);
        let bin = dir.join("bin");
        let sim = dir.join("sim");
        fs::create_dir_all(&bin).unwrap();
        fs::create_dir_all(&sim).unwrap();
        for p in ["iris", "csession", "ccontrol"] {
            symlink(sim_exe, bin.join(p)).unwrap();
        }
        Host {
            trace: dir.join("trace"),
            state: dir.join("state"),
            dir,
            bin,
            sim,
            sim_exe: sim_exe.to_path_buf(),
        }
    }

    fn add(&self, name: &str, faults: &[&str]) {
        let d = self.sim.join(name);
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("conf"), "product=IRIS\n").unwrap();
        if !faults.is_empty() {
            fs::write(d.join("faults"), faults.join("\n") + "\n").unwrap();
        }
    }

    fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", self.bin.display()))
            .env("IRIS_SIM_DIR", &self.sim)
            .env("IRIS_SIM_TRACE", &self.trace)
            .env("IRIS_FREEZE_STATE_DIR", &self.state)
            .env("IRIS_FREEZE_LOG_FILE", self.dir.join("log"))
            .env("IRIS_FREEZE_ROOT", self.dir.join("root"))
            .env("IRIS_FREEZE_BIN_DIRS", "")
            .env("IRIS_FREEZE_NO_SYSTEMD", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    }

    /// The simulator's nanosecond stamp of `call` `what` on `name`, the last one.
    fn stamp(&self, name: &str, call: &str, what: &str) -> u128 {
        let text = fs::read_to_string(&self.trace).unwrap_or_default();
        text.lines()
            .rev()
            .find_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f.len() == 5 && f[2] == name && f[3] == call && f[4] == what)
                    .then(|| f[0].parse().unwrap())
            })
            .unwrap_or_else(|| panic!("no {name} {call} {what} in the trace:\n{text}"))
    }
}

/// One freeze/thaw cycle; returns (after-freeze ms, before-thaw ms).
fn cycle(host: &Host, freeze: &mut Command, thaw: &mut Command) -> (f64, f64) {
    let st = freeze.status().unwrap();
    let exited = now_ns();
    assert!(st.success(), "freeze failed: {st}");
    let frozen = host.stamp("IRIS", "freeze", "exit=5");
    let spawned = now_ns();
    let st = thaw.status().unwrap();
    assert!(st.success(), "thaw failed: {st}");
    let thaw_called = host.stamp("IRIS", "thaw", "start");
    (
        (exited - frozen) as f64 / 1e6,
        (thaw_called - spawned) as f64 / 1e6,
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cycles: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(50);
    // The shipped build is static (see packaging/build.sh); `--dynamic` measures the default one.
    let dynamic = args.iter().any(|a| a == "--dynamic");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let triple = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let mut build = Command::new(cargo);
    build
        .args([
            "build",
            "--release",
            "--bin",
            "iris-freeze",
            "--example",
            "iris-sim",
        ])
        .current_dir(manifest);
    if !dynamic {
        build.args(["--target", &triple]).env(
            "RUSTFLAGS",
            std::env::var("BENCH_RUSTFLAGS")
                .unwrap_or_else(|_| "-C target-feature=+crt-static".into()),
        );
    }
    assert!(build.status().unwrap().success());
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| manifest.join("target"));
    let out = if dynamic {
        target.join("release")
    } else {
        target.join(&triple).join("release")
    };
    let exe = out.join("iris-freeze");
    let sim_exe = out.join("examples/iris-sim");
    println!(
        "binary under test: {} ({})",
        exe.display(),
        if dynamic { "dynamic" } else { "static" }
    );
    // The state dir lives on tmpfs by default (/run); so does the benchmark's when it can.
    let base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from(format!("/dev/shm/iris-freeze-bench-{}", std::process::id()))
    } else {
        std::env::temp_dir().join(format!("iris-freeze-bench-{}", std::process::id()))
    };
    fs::create_dir_all(&base).unwrap();

    // 1. The freeze window: iris-freeze and the plain shell scripts.
    let ours_host = Host::new(&base, "ours", &sim_exe);
    ours_host.add("IRIS", &[]);
    // As installed by the package: the commented example config is read at every run.
    let etc = ours_host.dir.join("root/etc");
    fs::create_dir_all(&etc).unwrap();
    fs::copy(
        manifest.join("examples/iris-freeze.toml"),
        etc.join("iris-freeze.toml"),
    )
    .unwrap();
    let shell = Host::new(&base, "shell", &sim_exe);
    shell.add("IRIS", &[]);
    let script = |expr: &str| {
        format!(
            "iris session IRIS -U%SYS '##Class(Backup.General).{expr}()' </dev/null >>\"{}\" 2>&1\n\
             status=$?\nif [ $status -eq 5 ]; then exit 0; fi\nexit 1\n",
            shell.dir.join("log").display()
        )
    };
    fs::write(shell.dir.join("pre.sh"), script("ExternalFreeze")).unwrap();
    fs::write(shell.dir.join("post.sh"), script("ExternalThaw")).unwrap();
    // Azure runs hooks with `sh`: dash on Debian and Ubuntu, bash on RHEL and SUSE.
    let shells: Vec<&str> = ["/bin/dash", "/bin/bash"]
        .into_iter()
        .filter(|s| Path::new(s).exists())
        .collect();
    let mut ours = (Vec::new(), Vec::new());
    let mut theirs: Vec<(Vec<f64>, Vec<f64>)> =
        shells.iter().map(|_| (Vec::new(), Vec::new())).collect();
    for _ in 0..cycles {
        let (a, b) = cycle(
            &ours_host,
            ours_host.command(&exe).arg("freeze"),
            ours_host.command(&exe).arg("thaw"),
        );
        ours.0.push(a);
        ours.1.push(b);
        for (sh, t) in shells.iter().zip(theirs.iter_mut()) {
            let (a, b) = cycle(
                &shell,
                shell.command(Path::new(sh)).arg(shell.dir.join("pre.sh")),
                shell.command(Path::new(sh)).arg(shell.dir.join("post.sh")),
            );
            t.0.push(a);
            t.1.push(b);
        }
    }
    let total = |a: &[f64], b: &[f64]| -> f64 {
        median(&mut a.iter().zip(b).map(|(x, y)| x + y).collect::<Vec<_>>())
    };
    println!("freeze window over {cycles} cycles (median, ms):");
    println!(
        "  {:<28} {:>12} {:>12} {:>8}",
        "", "after freeze", "before thaw", "total"
    );
    let row = |name: &str, (a, b): &(Vec<f64>, Vec<f64>)| {
        let t = total(a, b);
        println!(
            "  {:<28} {:>12.2} {:>12.2} {:>8.2}",
            name,
            median(&mut a.clone()),
            median(&mut b.clone()),
            t
        );
        t
    };
    let ours_total = row("iris-freeze", &ours);
    for (sh, t) in shells.iter().zip(&theirs) {
        let name = format!("shell script ({} + iris)", sh.trim_start_matches("/bin/"));
        let sh_total = row(&name, t);
        // Each cycle runs both back to back: the median of the per-cycle ratios is immune to
        // the machine getting faster or slower during the run.
        let mut paired: Vec<f64> = (0..cycles)
            .map(|i| (ours.0[i] + ours.1[i]) / (t.0[i] + t.1[i]))
            .collect();
        println!(
            "  ratio iris-freeze / {}: {:.2} (medians), {:.2} (median of per-cycle ratios)",
            sh.trim_start_matches("/bin/"),
            ours_total / sh_total,
            median(&mut paired)
        );
    }

    // 2. Parallel freeze: n instances, each ExternalFreeze taking 500 ms.
    println!("freeze of n instances, each ExternalFreeze taking 500 ms (median of 5, ms):");
    let mut one = 0.0;
    for n in [1, 4, 8] {
        let host = Host::new(&base, &format!("par{n}"), &sim_exe);
        for i in 0..n {
            host.add(&format!("I{i}"), &["freeze=slow:500"]);
        }
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            assert!(host.command(&exe).arg("freeze").status().unwrap().success());
            times.push(t.elapsed().as_secs_f64() * 1e3);
            assert!(host.command(&exe).arg("thaw").status().unwrap().success());
        }
        let m = median(&mut times);
        if n == 1 {
            one = m;
        }
        println!(
            "  {n} instance(s): {m:>8.1}   ({:.2}x one instance)",
            m / one
        );
    }

    // 3. The armed watchdog's memory, and the binary's size.
    assert!(
        ours_host
            .command(&exe)
            .arg("freeze")
            .status()
            .unwrap()
            .success()
    );
    let state: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(ours_host.state.join("state.json")).unwrap())
            .unwrap();
    let pid = state["watchdog"]["pid"].as_i64().unwrap();
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .unwrap_or("VmRSS: ?");
    println!(
        "armed watchdog: {}",
        rss.split_whitespace().skip(1).collect::<Vec<_>>().join(" ")
    );
    assert!(
        ours_host
            .command(&exe)
            .arg("thaw")
            .status()
            .unwrap()
            .success()
    );
    let size = fs::metadata(&exe).unwrap().len();
    println!(
        "binary: {:.2} MiB ({size} bytes, release profile)",
        size as f64 / 1048576.0
    );

    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    println!("machine: {cpu}, {cores} cores, Linux {}", kernel.trim());
    let _ = fs::remove_dir_all(&base);
    let _ = &ours_host.sim_exe;
}
