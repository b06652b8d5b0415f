//! Real copy-on-write snapshots, not copies: the simulator's instance trees (messages.log,
//! journals, WIJ) and the history live on a btrfs subvolume, on a loop device, and `verify
//! --root` reads the snapshots the machine really takes:
//!
//! - `run -- btrfs subvolume snapshot -r VOL SNAP`, and doc/run.md's btrfs example as written:
//!   `consistent`, with nothing else mounted;
//! - Azure's order (pre hook, `fsfreeze -f`, the disk's snapshot, `fsfreeze -u`, post hook), the
//!   disk's snapshot being a copy of its blocks taken while frozen, mounted on its own loop
//!   device: `consistent`; the same taken after the post hook: `not consistent`;
//! - a snapshot taken after the thaw, and one taken after the watchdog's auto-thaw: `not
//!   consistent`, and why.
//!
//! The subvolume stands for the host's root file system: a real host names these files from
//! `/`, so its snapshot holds each at the path the host names it. This host reaches the volume
//! at VOL instead, so the volume holds the path VOL itself as a link to its own root (`/`),
//! which `verify` resolves inside the snapshot: `--root SNAP` then reads the snapshot as it
//! would a btrfs root's (doc/run.md's example with `VOL=/`).
//!
//! Needs root (loop devices, mount, fsfreeze), the kernel's btrfs and Debian's btrfs-progs:
//! ignored by a plain `cargo test`, run by `.ci/run` (`cargo test --test it -- --ignored
//! btrfs::`), and failing, not skipping, without them.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use crate::common::doc_examples::{run_example, run_page_examples};
use crate::common::verify::{add_with_tree, verdict_of, verify_json};
use crate::common::{self, Env};

/// Each tool these tests run, and the Debian package that has it.
const TOOLS: [(&str, &str); 6] = [
    ("btrfs", "btrfs-progs"),
    ("mkfs.btrfs", "btrfs-progs"),
    ("losetup", "mount"),
    ("mount", "mount"),
    ("umount", "mount"),
    ("fsfreeze", "util-linux"),
];

/// The file system image: sparse, so only what is written takes space.
const DISK_BYTES: u64 = 256 << 20;

/// Fails the test, with what to do, when this machine cannot run it.
fn require_root_and_btrfs() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "the btrfs:: tests need root (loop devices, mount, fsfreeze): run them as root, as \
         .ci/run does (`cargo test --test it -- --ignored btrfs::`)"
    );
    let filesystems = fs::read_to_string("/proc/filesystems").unwrap_or_default();
    assert!(
        filesystems.split_whitespace().any(|f| f == "btrfs"),
        "this kernel has no btrfs (/proc/filesystems): `modprobe btrfs`"
    );
    for (name, package) in TOOLS {
        tool(name).unwrap_or_else(|| {
            panic!("{name} is missing: `apt-get install --no-install-recommends {package}`")
        });
    }
}

/// A program on PATH or in the sbin directories (a root shell's PATH may lack them).
fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|f| f.is_file())
}

/// Runs a tool; fails the test with its output unless it exits 0. Returns its stdout.
fn must(name: &str, args: &[&OsStr]) -> String {
    let out = Command::new(tool(name).unwrap_or_else(|| panic!("{name} is missing")))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name} {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Runs a tool for cleanup: its failure is only reported.
fn try_run(name: &str, args: &[&OsStr]) -> bool {
    let Some(program) = tool(name) else {
        return false;
    };
    let ok = Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("cleanup: {name} {args:?} failed");
    }
    ok
}

fn os<P: AsRef<OsStr> + ?Sized>(p: &P) -> &OsStr {
    p.as_ref()
}

/// One `losetup -f` at a time: two tests asking for the first free device at once race for
/// the same one.
static ATTACH: Mutex<()> = Mutex::new(());

/// A btrfs image on its own loop device, mounted at `at`. Dropped (the test passed or
/// panicked), it thaws the file system in case a test left it frozen (nothing may stay
/// blocked on it), unmounts it (lazily when something still holds it) and detaches the device.
struct Mounted {
    dev: String,
    at: PathBuf,
    mounted: bool,
}

impl Mounted {
    fn new(image: &Path, at: &Path, read_only: bool) -> Mounted {
        fs::create_dir_all(at).unwrap();
        let dev = {
            let _one = ATTACH.lock().unwrap_or_else(|e| e.into_inner());
            let mut args = vec![os("-f"), os("--show")];
            if read_only {
                args.push(os("-r"));
            }
            args.push(image.as_os_str());
            must("losetup", &args)
        };
        let mut m = Mounted {
            dev,
            at: at.to_path_buf(),
            mounted: false,
        };
        let opts = if read_only { "ro" } else { "rw" };
        must("mount", &[os("-o"), os(opts), os(&m.dev), at.as_os_str()]);
        m.mounted = true;
        m
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if self.mounted {
            let at = self.at.as_os_str();
            // Not frozen in the normal case: its "Invalid argument" is expected.
            let _ = Command::new(tool("fsfreeze").unwrap_or_default())
                .args([os("-u"), at])
                .output();
            if !try_run("umount", &[at]) {
                try_run("umount", &[os("-l"), at]);
            }
        }
        // On a device still busy (a lazy unmount), -d detaches it when the last user goes.
        try_run("losetup", &[os("-d"), os(&self.dev)]);
    }
}

/// A host whose IRIS files (instance trees, journals, WIJ) and history are on a btrfs subvolume.
struct Host {
    /// First, so it is unmounted before the Env removes the temp dir it is mounted in.
    disk: Option<Mounted>,
    env: Env,
    /// The file system's image.
    image: PathBuf,
    /// Where the file system is mounted (its top level): the snapshots go in `snapshots/`.
    top: PathBuf,
    /// The subvolume holding the host's IRIS files.
    vol: PathBuf,
}

impl Host {
    fn new(names: &[&str]) -> Host {
        require_root_and_btrfs();
        let env = Env::new();
        // Inside the simulator's directory: it writes an instance's tree nowhere else.
        let top = env.sim.join("disk");
        let vol = top.join("vol");
        let env = env.with_history_file(vol.join("var/lib/iris-freeze/history.jsonl"));
        let image = env.tmp.path().join("disk.img");
        fs::File::create(&image)
            .unwrap()
            .set_len(DISK_BYTES)
            .unwrap();
        must("mkfs.btrfs", &[os("-q"), image.as_os_str()]);
        let disk = Mounted::new(&image, &top, false);
        must(
            "btrfs",
            &[os("-q"), os("subvolume"), os("create"), os(&vol)],
        );
        // VOL, as the volume itself names it: its own root (see the module's header).
        let itself = vol.join(vol.strip_prefix("/").unwrap());
        fs::create_dir_all(itself.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink("/", &itself).unwrap();
        fs::create_dir_all(top.join("snapshots")).unwrap();
        for n in names {
            add_with_tree(&env, n, &vol.join("opt/iris").join(n));
        }
        Host {
            disk: Some(disk),
            env,
            image,
            top,
            vol,
        }
    }

    /// Where a snapshot called `name` goes (not made yet).
    fn snapshot_path(&self, name: &str) -> PathBuf {
        self.top.join("snapshots").join(name)
    }

    /// `btrfs subvolume snapshot -r VOL SNAP`, now.
    fn snapshot(&self, name: &str) -> PathBuf {
        let snap = self.snapshot_path(name);
        must(
            "btrfs",
            &[
                os("-q"),
                os("subvolume"),
                os("snapshot"),
                os("-r"),
                os(&self.vol),
                os(&snap),
            ],
        );
        snap
    }

    /// The instance's messages.log on the live volume.
    fn messages_log(&self, name: &str) -> String {
        let log = self
            .vol
            .join("opt/iris")
            .join(name)
            .join("mgr/messages.log");
        fs::read_to_string(log).unwrap_or_default()
    }

    /// The last freeze's cycle id, from the live history.
    fn last_cycle(&self) -> String {
        let freezes = self.env.history_events_of("freeze");
        let last = freezes.last().expect("a freeze in the history");
        last["id"].as_str().unwrap().to_string()
    }
}

/// A real read-only btrfs snapshot, not a directory.
fn assert_read_only_snapshot(snap: &Path) {
    let ro = must(
        "btrfs",
        &[os("property"), os("get"), os("-ts"), os(snap), os("ro")],
    );
    assert_eq!(ro, "ro=true", "{}", snap.display());
}

/// `verify --root SNAP` says `consistent` for IRIS, in the cycle `cycle`, and the journal
/// file the restore starts from is in the snapshot.
fn assert_consistent(env: &Env, snap: &Path, cycle: &str) {
    let (r, v) = verify_json(env, snap);
    assert_eq!(r.code, 0, "{}", r.text());
    assert_eq!(verdict_of(&v, "IRIS"), "consistent", "{v}");
    assert_eq!(v["cycle"], cycle, "{v}");
    let journal = v["instances"][0]["restore_from"].as_str().unwrap();
    assert_eq!(v["instances"][0]["journal_files"][0], journal, "{v}");
    assert_eq!(v["instances"][0]["wij"], true, "{v}");
}

/// `verify --root SNAP` says IRIS is not consistent, and why (`why` in its verdict).
fn assert_not_consistent(env: &Env, snap: &Path, why: &str) {
    let (r, v) = verify_json(env, snap);
    assert_eq!(r.code, 2, "{}", r.text());
    let verdict = verdict_of(&v, "IRIS");
    assert!(
        verdict.starts_with("not consistent: ") && verdict.contains(why),
        "{why:?} not in {verdict:?}: {v}"
    );
}

#[test]
#[ignore = "needs root and btrfs-progs; .ci/run runs it"]
fn run_around_a_btrfs_snapshot_gives_a_snapshot_verify_finds_consistent() {
    let host = Host::new(&["IRIS"]);
    let snap = host.snapshot_path("run");
    let r = host.env.run(&[
        "run",
        "--",
        "btrfs",
        "subvolume",
        "snapshot",
        "-r",
        host.vol.to_str().unwrap(),
        snap.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert_read_only_snapshot(&snap);
    // The volume went on after the snapshot (the thaw's lines); the snapshot did not.
    assert!(
        host.messages_log("IRIS")
            .trim_end()
            .ends_with("System resumed"),
        "{}",
        host.messages_log("IRIS")
    );
    assert_eq!(host.env.history_kinds(), ["freeze", "cmd", "thaw"]);
    assert_consistent(&host.env, &snap, &host.last_cycle());
}

#[test]
#[ignore = "needs root and btrfs-progs; .ci/run runs it"]
fn the_run_pages_btrfs_example_works_as_written() {
    let host = Host::new(&["IRIS"]);
    let examples = run_page_examples();
    let example = examples
        .iter()
        .find(|e| e.contains("btrfs subvolume snapshot"))
        .unwrap_or_else(|| panic!("no btrfs example in doc/run.md: {examples:#?}"));
    let r = run_example(&host.env, example, &[("VOL", host.vol.to_str().unwrap())]);
    assert_eq!(r.code, 0, "{example}\n{}", r.text());
    // Named after the cycle, as the page says, and verified as it says.
    let cycle = host.last_cycle();
    let snap = host.vol.join(".snapshots").join(&cycle);
    assert_read_only_snapshot(&snap);
    assert_consistent(&host.env, &snap, &cycle);
}

#[test]
#[ignore = "needs root and btrfs-progs; .ci/run runs it"]
fn a_btrfs_snapshot_taken_after_the_thaw_is_not_consistent() {
    let host = Host::new(&["IRIS"]);
    assert_eq!(host.env.run(&["freeze"]).code, 0);
    assert_eq!(host.env.run(&["thaw"]).code, 0);
    let snap = host.snapshot("after");
    assert_not_consistent(&host.env, &snap, "cut after the thaw");
}

#[test]
#[ignore = "needs root and btrfs-progs; .ci/run runs it"]
fn a_btrfs_snapshot_taken_after_the_watchdog_thawed_is_not_consistent() {
    let host = Host::new(&["IRIS"]);
    let r = host.env.run(&["freeze", "--max-freeze", "2"]);
    assert_eq!(r.code, 0, "{}", r.text());
    common::assert_watchdog_thawed(&host.env, &["IRIS"]);
    // The watchdog's history line comes after its log's last word: wait for it too.
    assert!(
        common::wait_until(Duration::from_secs(60), || {
            !host.env.history_events_of("auto-thaw").is_empty()
        }),
        "no auto-thaw line in the history: {:?}",
        host.env.history_kinds()
    );
    let snap = host.snapshot("auto-thawed");
    assert_not_consistent(&host.env, &snap, "auto-thaw");
}

/// Azure's snapshot of a disk: its blocks at that moment (here the image's bytes, read through
/// the page cache the loop device writes to), which a restore mounts as a disk of its own.
fn copy_disk(host: &Host, name: &str) -> PathBuf {
    let copy = host.env.tmp.path().join(format!("{name}.img"));
    must("cp", &[os("--sparse=always"), os(&host.image), os(&copy)]);
    copy
}

#[test]
#[ignore = "needs root and btrfs-progs; .ci/run runs it"]
fn the_azure_order_pre_hook_fsfreeze_disk_snapshot_thaw_post_hook_is_consistent() {
    let mut host = Host::new(&["IRIS"]);
    let top = host.top.clone();
    let freeze_fs = |how: &str| must("fsfreeze", &[os(how), os(&top)]);
    // The order of Azure's extension: `sh prescript.sh "" ""`, fsfreeze of every file system,
    // the disks' snapshot, the thaw of the file systems, then the post script. (`btrfs
    // subvolume snapshot` would block on the frozen file system until its thaw: it writes.)
    let r = host.env.run(&["azure-pre", "", ""]);
    assert_eq!(r.code, 0, "{}", r.text());
    freeze_fs("-f");
    let inside = copy_disk(&host, "inside");
    freeze_fs("-u");
    let r = host.env.run(&["azure-post", "", ""]);
    assert_eq!(r.code, 0, "{}", r.text());
    let cycle = host.last_cycle();
    // The next backup's snapshot, or this one's taken late: after the post hook.
    freeze_fs("-f");
    let late = copy_disk(&host, "late");
    freeze_fs("-u");

    // Restored as Azure restores a disk, where the original is not: the copies have the
    // original's fsid, which a kernel before 6.7 refuses to mount twice (6.7 and later give a
    // cloned single-device btrfs a temporary fsid), so the original goes first, and each copy
    // is mounted alone.
    host.disk = None;
    let at = host.env.tmp.path().join("restored");
    let restored = Mounted::new(&inside, &at, true);
    assert_consistent(&host.env, &at.join("vol"), &cycle);
    drop(restored);
    let restored = Mounted::new(&late, &at, true);
    assert_not_consistent(&host.env, &at.join("vol"), "cut after the thaw");
    drop(restored);
}
