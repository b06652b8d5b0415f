//! argv[0] dispatch: installed under a snapshot hook's name, the name decides the command and
//! the arguments the hook runner adds (Azure passes `"" ""`) are ignored.

use std::ffi::OsString;
use std::path::Path;

/// What a hook name asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookCommand {
    Freeze,
    Thaw,
}

impl HookCommand {
    pub fn subcommand(self) -> &'static str {
        match self {
            HookCommand::Freeze => "freeze",
            HookCommand::Thaw => "thaw",
        }
    }
}

/// The command a program name stands for, matched case-insensitively on the file name;
/// `None` means "behave as iris-freeze and parse the arguments".
pub fn command_for(argv0: &OsString) -> Option<HookCommand> {
    let name = Path::new(argv0)
        .file_name()?
        .to_string_lossy()
        .to_ascii_lowercase();
    match name.as_str() {
        "prescript.sh" => Some(HookCommand::Freeze),
        "postscript.sh" => Some(HookCommand::Thaw),
        _ => None,
    }
}

/// The argument vector clap should see: for a hook name, just the subcommand (options still come
/// from the environment); otherwise the real arguments.
pub fn effective_args(args: Vec<OsString>) -> Vec<OsString> {
    match args.first().and_then(command_for) {
        Some(cmd) => vec!["iris-freeze".into(), cmd.subcommand().into()],
        None => args,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(s: &str) -> Option<HookCommand> {
        command_for(&OsString::from(s))
    }

    #[test]
    fn azure_names_in_any_case_and_any_directory() {
        assert_eq!(cmd("/etc/azure/prescript.sh"), Some(HookCommand::Freeze));
        assert_eq!(cmd("preScript.sh"), Some(HookCommand::Freeze));
        assert_eq!(cmd("./PRESCRIPT.SH"), Some(HookCommand::Freeze));
        assert_eq!(cmd("/etc/azure/postScript.sh"), Some(HookCommand::Thaw));
        assert_eq!(cmd("postscript.sh"), Some(HookCommand::Thaw));
    }

    #[test]
    fn other_names_parse_normally() {
        assert_eq!(cmd("/usr/sbin/iris-freeze"), None);
        assert_eq!(cmd("prescript"), None);
        assert_eq!(cmd("prescript.sh.bak"), None);
    }

    #[test]
    fn hook_arguments_are_dropped() {
        let args = vec![
            "/x/postScript.sh".into(),
            "".into(),
            "".into(),
            "--bogus".into(),
        ];
        assert_eq!(effective_args(args), ["iris-freeze", "thaw"]);
        let args: Vec<OsString> = vec!["iris-freeze".into(), "status".into()];
        assert_eq!(effective_args(args.clone()), args);
    }
}
