//! The SSH entry point: `install ssh` writes the forced-command line, `ssh-command` runs only
//! the four verbs with their few options. First the filter as sshd hands it the client's
//! command (`SSH_ORIGINAL_COMMAND`), then through a real `sshd` on 127.0.0.1 that the test
//! starts with its own host key, config and client key. With IRIS_FREEZE_TEST_SSHD=1 (CI) the
//! sshd test must run; without it, it is skipped (with a note) where sshd or root is missing.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::{BIN, Env, Run, wait_until};

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG5o3mJx0ZtLZh7tXKq7cC8B2l0Sx7n8d4h3bWk8GqHk";

/// `ssh-command` as sshd runs it: the client's command in SSH_ORIGINAL_COMMAND.
fn ssh_command(env: &Env, original: Option<&str>) -> Run {
    let mut vars = vec![("SSH_CLIENT", "192.0.2.7 50022 22")];
    if let Some(o) = original {
        vars.push(("SSH_ORIGINAL_COMMAND", o));
    }
    env.run_env(&["ssh-command"], &vars)
}

/// `install ssh --key KEY --root ROOT`, as a person types it.
fn install_ssh(env: &Env, key: &Path, root: &str) -> Run {
    env.run(&[
        "install",
        "ssh",
        "--key",
        key.to_str().unwrap(),
        "--root",
        root,
    ])
}

#[test]
fn the_four_verbs_run_and_the_client_is_logged() {
    let env = Env::new();
    env.iris("IRIS");
    let r = ssh_command(&env, Some("freeze --instance IRIS --timeout 20"));
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    let r = ssh_command(&env, Some("status --json"));
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(r.stdout.trim_start().starts_with('{'), "{}", r.text());
    let r = ssh_command(&env, Some("thaw -q"));
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    let r = ssh_command(&env, Some("dry-run -i IRIS"));
    assert_eq!(r.code, 0, "{}", r.text());
    let log = env.log_text();
    assert!(
        log.contains("ssh from 192.0.2.7 port 50022: running \"freeze --instance IRIS"),
        "{log}"
    );
    assert!(log.contains("running \"thaw -q\""), "{log}");
}

#[test]
fn anything_else_is_refused_logged_and_never_run() {
    let env = Env::new();
    env.iris("IRIS");
    let marker = env.tmp.path().join("marker");
    fs::write(&marker, "").unwrap();
    let rm = format!("freeze; rm -f {}", marker.display());
    let other = env.tmp.path().join("other-state");
    let state_dir = format!("thaw --state-dir {}", other.display());
    for cmd in [
        Some(rm.as_str()),
        Some(state_dir.as_str()),
        Some("freeze $(touch x)"),
        Some("freeze `id`"),
        Some("freeze --config x"),
        Some("run -- sh"),
        Some("install ssh"),
        Some("freeze --help"),
        Some(""),
        None,
    ] {
        let r = ssh_command(&env, cmd);
        assert_eq!(r.code, 1, "{cmd:?}: {}", r.text());
        assert!(r.stderr.contains("refused"), "{cmd:?}: {}", r.text());
    }
    assert!(marker.exists());
    assert!(!other.exists());
    assert!(!env.frozen("IRIS"));
    assert_eq!(env.calls("IRIS", "freeze"), 0);
    let log = env.log_text();
    assert!(
        log.contains("ssh from 192.0.2.7 port 50022: refused \"freeze; rm -f "),
        "{log}"
    );
    assert!(log.contains("refused \"thaw --state-dir "), "{log}");
    // Arguments after ssh-command itself are not the client's to give.
    let r = env.run_env(
        &["ssh-command", "--state-dir", "/tmp/x"],
        &[("SSH_ORIGINAL_COMMAND", "status")],
    );
    assert_eq!(r.code, 1, "{}", r.text());
}

/// A `--root` tree with /etc/passwd naming root and `user` (uid `uid`, home /home/USER).
fn tree(env: &Env, user: &str, uid: u32) -> PathBuf {
    let root = env.root();
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::write(
        root.join("etc/passwd"),
        format!("root:x:0:0:root:/root:/bin/bash\n{user}:x:{uid}:{uid}::/home/{user}:/bin/sh\n"),
    )
    .unwrap();
    for home in ["root".to_string(), format!("home/{user}")] {
        fs::create_dir_all(root.join(&home)).unwrap();
        fs::set_permissions(root.join(&home), fs::Permissions::from_mode(0o700)).unwrap();
    }
    if uid != fs::metadata(&root).unwrap().uid() {
        std::os::unix::fs::chown(root.join("home").join(user), Some(uid), Some(uid)).unwrap();
    }
    root
}

#[test]
fn install_writes_one_line_check_reads_it_uninstall_removes_only_ours() {
    let env = Env::new();
    let me = fs::metadata(env.tmp.path()).unwrap().uid();
    let root = tree(&env, "backup", if me == 0 { 1234 } else { me });
    let root_s = root.to_str().unwrap();
    let key = env.tmp.path().join("array.pub");
    fs::write(&key, format!("{KEY} array@pure\n")).unwrap();
    let keys = root.join("root/.ssh/authorized_keys");
    // Someone's own key stays.
    fs::create_dir_all(keys.parent().unwrap()).unwrap();
    fs::set_permissions(keys.parent().unwrap(), fs::Permissions::from_mode(0o700)).unwrap();
    let admin =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAdminAdminAdminAdminAdminAdminAdminAdmin1 admin";
    fs::write(&keys, format!("{admin}\n")).unwrap();
    let bin = fs::canonicalize(BIN).unwrap();
    let line = format!(
        "command=\"{} ssh-command\",restrict {KEY} iris-freeze-ssh-command",
        bin.display()
    );
    for _ in 0..2 {
        let r = install_ssh(&env, &key, root_s);
        assert_eq!(r.code, 0, "{}", r.text());
        assert_eq!(
            fs::read_to_string(&keys).unwrap(),
            format!("{admin}\n{line}\n")
        );
    }
    let md = fs::metadata(&keys).unwrap();
    assert_eq!(md.permissions().mode() & 0o777, 0o600);
    let r = env.run(&["check", "ssh", "--root", root_s]);
    assert!(
        r.stdout
            .contains("1 key(s) forced to run ssh-command (root)"),
        "{}",
        r.text()
    );

    // Another account: through sudo, whose lines are printed.
    let r = env.run(&[
        "install",
        "ssh",
        "--key",
        key.to_str().unwrap(),
        "--user",
        "backup",
        "--root",
        root_s,
    ]);
    assert_eq!(r.code, 0, "{}", r.text());
    let theirs = root.join("home/backup/.ssh/authorized_keys");
    assert_eq!(
        fs::read_to_string(&theirs).unwrap(),
        format!(
            "command=\"sudo -n {} ssh-command\",restrict {KEY} iris-freeze-ssh-command\n",
            bin.display()
        )
    );
    let ssh_dir = fs::metadata(root.join("home/backup/.ssh")).unwrap();
    assert_eq!(ssh_dir.permissions().mode() & 0o777, 0o700);
    let sudoers = format!(
        "Defaults!{b} env_keep += \"SSH_ORIGINAL_COMMAND SSH_CLIENT\"\nbackup ALL=(root) \
         NOPASSWD: {b} ssh-command",
        b = bin.display()
    );
    assert!(r.stdout.contains(&sudoers), "{}", r.text());
    let r = env.run(&["check", "ssh", "--root", root_s]);
    assert!(
        r.stdout.contains("sudoers lacks a line for backup"),
        "{}",
        r.text()
    );
    assert_eq!(r.code, 1, "{}", r.text());
    fs::create_dir_all(root.join("etc/sudoers.d")).unwrap();
    fs::write(
        root.join("etc/sudoers.d/iris-freeze"),
        format!("{sudoers}\n"),
    )
    .unwrap();
    fs::set_permissions(
        root.join("etc/sudoers.d/iris-freeze"),
        fs::Permissions::from_mode(0o440),
    )
    .unwrap();
    let r = env.run(&["check", "ssh", "--root", root_s]);
    assert!(r.stdout.contains("sudoers lets backup run"), "{}", r.text());
    // sshd must not take our variables from the client.
    fs::create_dir_all(root.join("etc/ssh")).unwrap();
    fs::write(root.join("etc/ssh/sshd_config"), "AcceptEnv LANG LC_*\n").unwrap();
    let r = env.run(&["check", "ssh", "--root", root_s]);
    assert!(!r.stdout.contains("AcceptEnv"), "{}", r.text());
    fs::write(root.join("etc/ssh/sshd_config"), "AcceptEnv LANG IRIS_*\n").unwrap();
    let r = env.run(&["check", "ssh", "--root", root_s]);
    assert!(
        r.stdout
            .contains("`AcceptEnv LANG IRIS_*` lets a client set IRIS_FREEZE_*"),
        "{}",
        r.text()
    );
    fs::remove_file(root.join("etc/ssh/sshd_config")).unwrap();

    let r = env.run(&["uninstall", "ssh", "--root", root_s]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert_eq!(fs::read_to_string(&keys).unwrap(), format!("{admin}\n"));
    assert_eq!(fs::read_to_string(&theirs).unwrap(), "");
}

#[test]
fn install_refuses_a_key_with_options_and_a_key_already_let_in() {
    let env = Env::new();
    let root = tree(&env, "backup", fs::metadata(env.tmp.path()).unwrap().uid());
    let root_s = root.to_str().unwrap();
    let key = env.tmp.path().join("k.pub");
    for bad in [
        format!("command=\"/bin/sh\" {KEY}"),
        format!("{KEY}\n{KEY}\n"),
        "not a key".to_string(),
    ] {
        fs::write(&key, bad).unwrap();
        let r = install_ssh(&env, &key, root_s);
        assert_eq!(r.code, 1, "{}", r.text());
        assert!(r.stderr.contains("is refused"), "{}", r.text());
    }
    assert!(!root.join("root/.ssh").exists());
    // The same key already in, with no forced command: ours would not protect anything.
    fs::write(&key, KEY).unwrap();
    fs::create_dir_all(root.join("root/.ssh")).unwrap();
    fs::set_permissions(root.join("root/.ssh"), fs::Permissions::from_mode(0o700)).unwrap();
    fs::write(root.join("root/.ssh/authorized_keys"), format!("{KEY} x\n")).unwrap();
    let r = install_ssh(&env, &key, root_s);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(
        r.stderr.contains("without our forced command"),
        "{}",
        r.text()
    );
    // A symlinked .ssh is not followed.
    fs::remove_dir_all(root.join("root/.ssh")).unwrap();
    std::os::unix::fs::symlink(env.tmp.path(), root.join("root/.ssh")).unwrap();
    let r = install_ssh(&env, &key, root_s);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(!env.tmp.path().join("authorized_keys").exists());
    // --key is install ssh's.
    let r = env.run(&[
        "install",
        "vmware",
        "--key",
        key.to_str().unwrap(),
        "--root",
        root_s,
    ]);
    assert_eq!(r.code, 1, "{}", r.text());
}

/// A real sshd: needs root (it switches to the user) and Debian's openssh-server.
fn sshd_available() -> bool {
    let required = std::env::var("IRIS_FREEZE_TEST_SSHD").as_deref() == Ok("1");
    let missing = if !Path::new("/usr/sbin/sshd").exists() {
        Some("/usr/sbin/sshd is not installed (apt-get install openssh-server openssh-client)")
    } else if fs::metadata("/proc/self").unwrap().uid() != 0 {
        Some("not root: sshd must switch to the user")
    } else {
        None
    };
    match missing {
        Some(why) if required => panic!("IRIS_FREEZE_TEST_SSHD=1: {why}"),
        Some(why) => {
            eprintln!("sshd test skipped: {why} (IRIS_FREEZE_TEST_SSHD=1 requires it)");
            false
        }
        None => true,
    }
}

struct Sshd {
    child: Child,
    port: u16,
    key: PathBuf,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// sshd on a free port of 127.0.0.1 with the test's config: its own host key, the tree's
/// root authorized_keys, and the test host's environment set for the session (SetEnv) as
/// `Env::command` sets it for a direct run.
fn start_sshd(env: &Env, root: &Path) -> Sshd {
    let dir = env.tmp.path().join("sshd");
    fs::create_dir_all(&dir).unwrap();
    let keygen = |path: &Path| {
        let st = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(path)
            .status()
            .expect("ssh-keygen");
        assert!(st.success());
    };
    keygen(&dir.join("host_key"));
    let client_key = dir.join("client_key");
    keygen(&client_key);
    let r = env.run(&[
        "install",
        "ssh",
        "--key",
        dir.join("client_key.pub").to_str().unwrap(),
        "--root",
        root.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.text());

    let probe = env.command(Path::new(BIN));
    let mut vars: Vec<String> = probe
        .get_envs()
        .filter_map(|(k, v)| {
            let (k, v) = (k.to_str()?, v?.to_str()?);
            (k != "PATH" && k != "IRIS_FREEZE_BIN_DIRS").then(|| format!("{k}={v}"))
        })
        .collect();
    // sshd sets its own PATH: the simulator is found by --bin-dirs instead.
    vars.push(format!("IRIS_FREEZE_BIN_DIRS={}", env.bin.display()));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // StrictModes no: the test's tree lies under /tmp, which is writable by all, and sshd
    // checks every directory up to / of an AuthorizedKeysFile outside the home. `install`
    // checked the modes of what it wrote itself.
    let config = format!(
        "Port {port}\nListenAddress 127.0.0.1\nHostKey {hk}\nPidFile none\n\
         AuthorizedKeysFile {keys}\nPermitRootLogin forced-commands-only\n\
         PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
         StrictModes no\nSetEnv {vars}\n",
        hk = dir.join("host_key").display(),
        keys = root.join("root/.ssh/authorized_keys").display(),
        vars = vars.join(" "),
    );
    fs::write(dir.join("sshd_config"), config).unwrap();
    // sshd's privilege separation directory (the package's tmpfiles.d makes it at boot).
    fs::create_dir_all("/run/sshd").unwrap();
    let child = Command::new("/usr/sbin/sshd")
        .args(["-D", "-e", "-f"])
        .arg(dir.join("sshd_config"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(dir.join("sshd.log")).unwrap())
        .spawn()
        .expect("start sshd");
    let sshd = Sshd {
        child,
        port,
        key: client_key,
    };
    assert!(
        wait_until(Duration::from_secs(10), || std::net::TcpStream::connect((
            "127.0.0.1",
            port
        ))
        .is_ok()),
        "sshd did not listen: {}",
        fs::read_to_string(dir.join("sshd.log")).unwrap_or_default()
    );
    sshd
}

/// `ssh [extra] root@127.0.0.1 COMMAND` with the test's key, as an orchestrator runs it.
fn ssh(sshd: &Sshd, extra: &[&str], command: Option<&str>) -> Run {
    let start = std::time::Instant::now();
    let out = Command::new("ssh")
        .args(["-F", "/dev/null", "-i"])
        .arg(&sshd.key)
        .args(["-p", &sshd.port.to_string()])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "LogLevel=ERROR",
        ])
        .args(extra)
        .arg("root@127.0.0.1")
        .args(command)
        .stdin(Stdio::null())
        .output()
        .expect("ssh");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

#[test]
fn through_a_real_sshd_only_the_filtered_commands_run() {
    if !sshd_available() {
        return;
    }
    let env = Env::new();
    env.iris("IRIS");
    let root = tree(&env, "backup", 1234);
    let sshd = start_sshd(&env, &root);

    let r = ssh(&sshd, &[], Some("freeze -i IRIS"));
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(env.frozen("IRIS"));
    let r = ssh(&sshd, &[], Some("thaw"));
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));

    let marker = env.tmp.path().join("marker");
    fs::write(&marker, "").unwrap();
    let rm = format!("freeze; rm -f {}", marker.display());
    let r = ssh(&sshd, &[], Some(&rm));
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stderr.contains("refused"), "{}", r.text());
    assert!(marker.exists());
    assert!(!env.frozen("IRIS"));
    let r = ssh(&sshd, &[], Some("thaw --state-dir /tmp/x"));
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stderr.contains("--state-dir"), "{}", r.text());

    // A pty is refused (`restrict`): sshd answers the request with a failure, and OpenSSH's
    // client, told to insist (-tt), then gives up (255); the command is filtered either way
    // (an allowed one may still run, without a pty, if sshd starts it before the client
    // hangs up).
    let r = ssh(&sshd, &["-tt"], Some("status"));
    assert!(
        r.stderr.contains("PTY allocation request failed"),
        "{}",
        r.text()
    );
    let r = ssh(&sshd, &["-tt"], Some("freeze; id"));
    assert!(
        r.stderr.contains("PTY allocation request failed"),
        "{}",
        r.text()
    );
    assert_ne!(r.code, 0, "{}", r.text());
    assert!(!env.frozen("IRIS"));
    // An interactive login (no command) gets no shell either.
    let r = ssh(&sshd, &[], None);
    assert_eq!(r.code, 1, "{}", r.text());
    assert!(r.stderr.contains("no command given"), "{}", r.text());
    // Forwarding is off too.
    let r = ssh(
        &sshd,
        &["-o", "ExitOnForwardFailure=yes", "-L", "0:127.0.0.1:1"],
        Some("status"),
    );
    assert_ne!(r.code, 0, "{}", r.text());

    let log = env.log_text();
    assert!(log.contains("ssh from 127.0.0.1 port "), "{log}");
    assert!(log.contains("refused \"freeze; rm -f "), "{log}");
}
