//! What each platform declares: how it calls iris-freeze (one table, read by both argv[0]
//! recognition and `install`), what `install` writes and prints, what `check` looks at.

use std::path::Path;

use anyhow::Result;

use crate::host::trust::Tree;
use crate::platform::hooks::{HookCommand, HookJob};
use crate::platform::kit::Installer;
use crate::platform::kit::{Ctx, Findings, Given, hook_check};
use crate::util::file_transaction::FileTransaction;

/// One way a platform calls iris-freeze, and what that call asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hook {
    pub(crate) called: Called,
    pub(crate) asks: Asks,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Called {
    /// As this file, which `install` writes; recognised by its file name in any case and in any
    /// directory.
    File(HookFile),
    /// As any program in a directory of this name (lower case).
    InDir(&'static str),
    /// As `iris-freeze ARG ...` (lower case); with `needs_id`, only when an argument follows
    /// that is not an option (a person's `dry-run --instance X` parses normally).
    Arg { arg: &'static str, needs_id: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Asks {
    Command(HookCommand),
    /// The first argument says: `freeze`, `thaw`, or `freezeFail` (a thaw after a failure).
    Verb,
    /// The argument after the hook (after its file's name, or after its first argument) is one
    /// of these, in any case; any other is refused with exit 1 (`hooks::refused`).
    Phase(&'static [(&'static str, HookCommand)]),
}

/// A file `install` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HookFile {
    /// The real path (not under --root).
    pub(crate) path: &'static str,
    pub(crate) form: Form,
}

/// What a hook file is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// A symlink to the binary, which dispatches on the link's name.
    Link,
    /// A POSIX-sh wrapper: `exec '<binary>' <verb> ["$@"]`.
    Wrapper(Wrapper),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wrapper {
    /// The first argument it passes (`azure-pre`, `freeze`).
    pub(crate) verb: &'static str,
    /// Whether it passes its own arguments on after the verb.
    pub(crate) pass_args: bool,
    /// The comment after the marker.
    pub(crate) comment: &'static str,
    pub(crate) mode: u32,
}

impl Hook {
    /// A hook file that is a link to the binary.
    pub(crate) const fn link(path: &'static str, asks: Asks) -> Hook {
        Hook {
            called: Called::File(HookFile {
                path,
                form: Form::Link,
            }),
            asks,
        }
    }

    /// A hook file that is a wrapper script.
    pub(crate) const fn wrapper(path: &'static str, asks: Asks, wrapper: Wrapper) -> Hook {
        Hook {
            called: Called::File(HookFile {
                path,
                form: Form::Wrapper(wrapper),
            }),
            asks,
        }
    }

    pub(crate) const fn arg(arg: &'static str, asks: Asks) -> Hook {
        Hook {
            called: Called::Arg {
                arg,
                needs_id: false,
            },
            asks,
        }
    }

    pub(crate) fn file(&self) -> Option<&HookFile> {
        match &self.called {
            Called::File(f) => Some(f),
            _ => None,
        }
    }

    /// Whether the hook freezes: a thaw hook must not (a verb hook is checked as a freeze).
    pub(crate) fn freezes(&self) -> bool {
        self.asks != Asks::Command(HookCommand::Thaw)
    }
}

/// A platform: its hooks, and how `install` and `check` treat it. The defaults are the plain
/// case: hook files written and checked one by one.
pub(crate) trait Spec: Sync {
    /// How the platform calls iris-freeze; its `Called::File` entries are what `install` writes.
    fn hooks(&self) -> &'static [Hook];

    /// Whether this root's layout uses `file` (qemu: one of two places).
    fn in_layout(&self, _root: &Path, _file: &HookFile) -> bool {
        true
    }

    /// The mode of the hooks' directory when `install` creates it.
    fn hook_dir_mode(&self) -> u32 {
        0o755
    }

    /// When nothing is written on this host: what `install` prints instead.
    fn nothing_to_install(&self, _given: &Given) -> Option<String> {
        None
    }

    /// When nothing is written on this host: what `uninstall` prints instead.
    fn nothing_to_uninstall(&self) -> Option<&'static str> {
        None
    }

    /// `install`'s writes.
    fn install(&self, i: &mut Installer) -> Result<()> {
        i.put_hooks()
    }

    /// What `uninstall` removes besides the hook files.
    fn uninstall_more(&self, _tree: &Tree, _tx: &mut FileTransaction) -> Result<()> {
        Ok(())
    }

    /// The steps `install` prints after the ones every platform shares.
    fn next_steps(&self, _given: &Given) -> Vec<String> {
        Vec::new()
    }

    /// `check`'s look at the platform's setup.
    fn check(&self, c: &Ctx, out: &mut Findings) {
        hook_check::check_all(c, out);
    }

    /// Whether the platform passes `freeze`/`thaw` as the first argument, so a hand-made
    /// wrapper may pass its own arguments on (`"$@"`).
    fn passes_verb(&self) -> bool {
        false
    }

    /// What the platform appends after a hook call's own arguments (`rest`): the job it names,
    /// or why the call is refused (exit 1, before any IRIS call). By default every such
    /// argument is ignored (Azure's `"" ""`, GCP's disk list).
    fn hook_args(&self, _rest: &[std::ffi::OsString]) -> Result<Option<HookJob>, String> {
        Ok(None)
    }

    /// The mode the platform requires of its scripts, and who requires it.
    fn required_mode(&self) -> Option<(u32, &'static str)> {
        None
    }

    /// The phases a phase hook accepts and does nothing for (exit 0, no IRIS call).
    fn idle_phases(&self) -> &'static [&'static str] {
        &[]
    }

    /// A phase hook called with no phase: where else the phase comes from (the environment,
    /// the name it was called by, `called_as`, in lower case).
    fn phase_otherwise(&self, _called_as: &str) -> Option<String> {
        None
    }

    /// A known script of someone else's at a hook path (`shown`, holding `text`) that must be
    /// moved aside: what it is and why.
    fn foreign_hook(&self, _shown: &str, _text: &str) -> Option<(String, String)> {
        None
    }
}
