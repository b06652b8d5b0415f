//! The `Backup.General` methods on an instance's `frozen` flag, with IRIS's output.

use std::fs;
use std::io;
use std::process;

use crate::calllog::now_ms;
use crate::console::mark;
use crate::instances::Instance;
use crate::messages_log;

/// ExternalFreeze: sets `frozen` unless it is set; 5 on success, 3 otherwise.
pub(super) fn freeze(inst: &Instance) -> i32 {
    match set_frozen(inst) {
        Ok(()) => {
            let journal = match messages_log::mgr(inst) {
                Some(mgr) => messages_log::freeze(inst, &mgr),
                None => inst.conf.journal(),
            };
            print_suspended(&journal);
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

/// Creates `frozen` atomically: fails with `AlreadyExists` when it is set.
pub(super) fn set_frozen(inst: &Instance) -> io::Result<()> {
    let tmp = inst.path.join(format!(".frozen.{}", process::id()));
    fs::write(&tmp, now_ms().to_string())?;
    // hard_link fails if `frozen` exists: an atomic test-and-set.
    let res = fs::hard_link(&tmp, inst.frozen_path());
    let _ = fs::remove_file(&tmp);
    res
}

fn print_suspended(journal: &str) {
    say!("Backup.General.ExternalFreeze: Suspending system");
    say!();
    say!("Journal file switched to:");
    say!("{journal}");
    say!("Start a journal restore for this backup with journal file: {journal}");
    say!("Journal marker set at");
    say!("offset 197008 of {journal}");
    say!("System suspended");
}

/// ExternalThaw: removes `frozen`; 5 if it was set, 3 otherwise.
pub(super) fn thaw(inst: &Instance) -> i32 {
    let removed = fs::remove_file(inst.frozen_path());
    // Resumed now, or not suspended: what the thaw writes to messages.log.
    let frozen = match &removed {
        Ok(()) => Some(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Some(false),
        Err(_) => None,
    };
    if let (Some(mgr), Some(frozen)) = (messages_log::mgr(inst), frozen) {
        messages_log::append(inst, &mgr, &messages_log::thaw_lines(frozen));
    }
    match removed {
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

/// IsWDSuspendedExt: 5 if frozen, else 3 (no output).
pub(super) fn check(inst: &Instance) -> i32 {
    if inst.is_frozen() { 5 } else { 3 }
}

/// iris-freeze's check fed on stdin: after the `%SYS>` prompt, what its line writes (each
/// after a newline and the line's `p="PREFIX"`): `suspended=1` (IsWDSuspended: frozen) or
/// `suspended=0`, then `end`; then a newline, and the session's `session_exit` (0 by default).
pub(super) fn check_fed(inst: &Instance, line: &str) -> i32 {
    print!("%SYS>");
    if let Some(label) = typed_label(line) {
        // What a person types (the README's hand check): the label, then IsWDSuspended's 1 or 0.
        say!("{label}{}", u8::from(inst.is_frozen()));
        return inst.conf.session_exit;
    }
    mark(line, &format!("suspended={}", u8::from(inst.is_frozen())));
    mark(line, "end");
    say!();
    inst.conf.session_exit
}

/// The string a line of the form `w "LABEL",##Class(Backup.General).IsWDSuspended()...` writes
/// before the answer; `None` for any other line (iris-freeze's own sets a prefix `p="..."`).
fn typed_label(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix("w \"")?;
    let (label, call) = rest.split_once('"')?;
    call.to_ascii_lowercase()
        .starts_with(",##class(backup.general).iswdsuspended()")
        .then_some(label)
}

/// ExternalSetHistory: always succeeds.
pub(super) fn history() -> i32 {
    say!("Backup.General.ExternalSetHistory: backup history updated");
    5
}
