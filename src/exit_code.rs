//! The exit codes every hook runner sees. Azure, VMware, qemu-ga and the rest read 0 as success and
//! anything else as failure; 2 keeps the scripts' own "warning" meaning for our logs and humans.

/// What a command tells its caller. Never the session's raw 5/3, never 124/126/127.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Everything this command promised is true (frozen, or thawed).
    Success,
    /// Something this command promised is true for our part, but not ours to vouch for
    /// (an instance was already frozen by someone else).
    Warning,
    /// Failed: the snapshot must not be trusted as application-consistent, or an instance may
    /// still be frozen.
    Failure,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Warning => 2,
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_hook_contract() {
        assert_eq!(Exit::Success.code(), 0);
        assert_eq!(Exit::Failure.code(), 1);
        assert_eq!(Exit::Warning.code(), 2);
    }

    #[test]
    fn never_a_session_code() {
        for e in [Exit::Success, Exit::Warning, Exit::Failure] {
            assert!(![3, 5, 124, 126, 127].contains(&e.code()));
        }
    }
}
