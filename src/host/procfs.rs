//! What /proc says about processes: a process's state, start time and parent, our children and
//! open descriptors, which boot this is, and this host's name. Each answer is `None` (or empty)
//! without /proc.

/// This host's name, as `uname -n` and gethostname(2) give it (the UTS namespace's).
pub(crate) fn hostname() -> Option<String> {
    let name = read_small("/proc/sys/kernel/hostname")?;
    Some(name.trim().to_string()).filter(|n| !n.is_empty())
}

/// This process's start time (read once).
pub(crate) fn own_start_ticks() -> Option<u64> {
    static TICKS: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| process_start_ticks(std::process::id() as i32))
}

/// Start time of a process in clock ticks since boot, to tell reused pids apart.
pub(crate) fn process_start_ticks(pid: i32) -> Option<u64> {
    state_and_start(pid).map(|(_, ticks)| ticks)
}

/// Whether `pid` is the process that started at `start_ticks` and still runs: a zombie (dead,
/// not yet reaped) or a process that got the pid since does not count.
pub(crate) fn is_running(pid: i32, start_ticks: u64) -> bool {
    pid > 0
        && state_and_start(pid)
            .is_some_and(|(state, ticks)| ticks == start_ticks && !matches!(state, 'Z' | 'X' | 'x'))
}

/// Our children: the processes whose parent is us.
pub(crate) fn children() -> Vec<i32> {
    let me = std::process::id() as i32;
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| parent(pid) == Some(me))
        .collect()
}

/// The parent of `pid` (field 4 of /proc/PID/stat).
fn parent(pid: i32) -> Option<i32> {
    stat_after_name(pid)?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// This process's open file descriptors above stderr.
pub(crate) fn own_fds_above_stderr() -> Vec<i32> {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .filter(|&fd| fd > 2)
                .collect()
        })
        .unwrap_or_default()
}

/// The id of this boot.
pub(crate) fn boot_id() -> Option<String> {
    Some(
        read_small("/proc/sys/kernel/random/boot_id")?
            .trim()
            .to_string(),
    )
}

/// The state letter (field 3) and start time (field 22) of /proc/PID/stat.
fn state_and_start(pid: i32) -> Option<(char, u64)> {
    let stat = stat_after_name(pid)?;
    let mut rest = stat.split_whitespace();
    let state = rest.next()?.chars().next()?;
    Some((state, rest.nth(18)?.parse().ok()?))
}

/// /proc/PID/stat from field 3 on. The command name (field 2) is in parentheses and may hold
/// any byte, spaces and `)` included: the fields are counted from the last `)`.
fn stat_after_name(pid: i32) -> Option<String> {
    let stat = read_small(&format!("/proc/{pid}/stat"))?;
    Some(stat[stat.rfind(')')? + 1..].to_string())
}

/// A small /proc file, whole. They report a size of 0, so `fs::read_to_string` would grow its
/// buffer from 32 bytes, a read(2) each time: here one read fills it and one more sees the end.
fn read_small(path: &str) -> Option<String> {
    use std::io::Read;
    let mut buf = Vec::with_capacity(1024);
    std::fs::File::open(path)
        .ok()?
        .take(1024 * 1024)
        .read_to_end(&mut buf)
        .ok()?;
    String::from_utf8(buf).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn own_start_time_is_readable_and_stable() {
        let me = std::process::id() as i32;
        let a = process_start_ticks(me).unwrap();
        assert_eq!(process_start_ticks(me), Some(a));
        assert_eq!(own_start_ticks(), Some(a));
        assert_eq!(process_start_ticks(i32::MAX), None);
    }

    #[test]
    fn the_parent_is_read_from_proc() {
        let me = std::process::id() as i32;
        assert_eq!(parent(me), Some(nix::unistd::getppid().as_raw()));
        assert_eq!(parent(-1), None);
    }

    #[test]
    fn a_zombie_or_a_reused_pid_is_not_running() {
        let me = std::process::id() as i32;
        let ticks = process_start_ticks(me).unwrap();
        assert!(is_running(me, ticks));
        assert!(!is_running(me, ticks + 1), "another start time");
        assert!(!is_running(0, ticks));
        // A child that exited and was not waited for stays a zombie until reaped.
        let mut child = std::process::Command::new("/bin/sh")
            .args(["-c", "exit 0"])
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        let zombie_ticks = process_start_ticks(pid).unwrap();
        assert!(children().contains(&pid));
        let start = Instant::now();
        while state_and_start(pid).map(|(s, _)| s) != Some('Z') {
            assert!(start.elapsed() < Duration::from_secs(20), "never a zombie");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!is_running(pid, zombie_ticks));
        child.wait().unwrap();
    }

    #[test]
    fn descriptors_and_boot_id_are_read() {
        let f = std::fs::File::open("/proc/self/stat").unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&f);
        assert!(own_fds_above_stderr().contains(&fd));
        assert!(!boot_id().unwrap().is_empty());
    }
}
