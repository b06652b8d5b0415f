//! The command line, and nothing else: parsing only. Validation lives in `config`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::settings::{BIN_DIRS, CONFIG, HISTORY_FILE, METRICS_FILE, ROOT, STATE_DIR, Setting};

mod args;
mod misplaced;
mod platform_args;
mod read;

pub(crate) use args::{
    FreezeArgs, HistoryArgs, RestorePlanArgs, RunArgs, RunCmdArgs, StatusArgs, VerifyArgs,
    WatchdogArgs,
};
pub(crate) use platform_args::{CheckArgs, PlatformArgs, UninstallArgs};
pub(crate) use read::bare_command;

/// An option named after its setting: `#[arg(setting = TIMEOUT)]` (clap's derive calls the
/// `Arg` method an attribute names) gives it the setting's flag, variable, value name and help;
/// `named_as` all but the help, for a command that says it in its own terms (its doc comment).
trait FromSetting {
    fn setting(self, setting: Setting) -> Self;
    fn named_as(self, setting: Setting) -> Self;
}

impl FromSetting for clap::Arg {
    fn setting(self, setting: Setting) -> Self {
        self.named_as(setting).help(setting.help)
    }

    fn named_as(self, setting: Setting) -> Self {
        self.long(setting.flag())
            .env(setting.var())
            .value_name(setting.value_name)
    }
}

const AFTER_HELP: &str = "\
Exit codes: 0 success, 1 failure (the snapshot is not application-consistent, or an instance may \
still be frozen: read the log), 2 warning (an instance was already frozen by someone else, the \
watchdog had to auto-thaw before the thaw came, or a thaw's verdict is not `consistent`).

Installed as a snapshot platform's hook, the platform's convention picks the command and the \
arguments it adds are ignored: prescript.sh/postScript.sh (Azure), pre-freeze-script, \
post-thaw-script and backupScripts.d/* (VMware), fsfreeze-hook (QEMU), pre.sh/post.sh (GCP), \
pre_freeze/post_thaw (Nutanix), pre-script/post-script/dry-run (AWS), customscript.sh \
--pre/--post (Azure Site Recovery), the pre/post scripts in user_scripts/ (Cohesity), rubrik-pre-backup.sh, \
rubrik-post-snap.sh and rubrik-post-backup.sh (Rubrik), gcbdr-pre.sh and the \
other phases, or gcbdr PHASE (Google Cloud Backup and DR). \
`install PLATFORM` sets \
them up; `check PLATFORM` verifies the whole chain. On Kubernetes, \
`install velero|k10|aks-backup` prints the engine's manifest. Over SSH (storage arrays, \
remote adapters, orchestrators), `install ssh --key FILE` forces `ssh-command`, which runs only \
freeze, thaw, status and dry-run. A hook's freeze logs to /etc/preScript.log, its thaw to \
/etc/postScript.log.

Examples:
  iris-freeze freeze                  freeze every running instance
  iris-freeze thaw                    thaw exactly what the last freeze froze
  iris-freeze freeze -i IRIS -i HS    freeze two named instances
  iris-freeze status --json           what is running, frozen, and by whom
  iris-freeze run -- zfs snapshot tank/iris@now  freeze, snapshot, always thaw
  iris-freeze install azure           write Azure Backup's scripts and JSON
  iris-freeze check azure             verify them, the instances and logins";

#[derive(Debug, Parser)]
#[command(
    name = "iris-freeze",
    version,
    about = "Freeze and thaw InterSystems IRIS and Caché around a VM snapshot, and never leave one frozen",
    after_help = AFTER_HELP,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,

    #[command(flatten)]
    pub(crate) global: Global,

    /// The options (by id: `timeout`, `max_freeze`, `instances`, ...) whose value came from
    /// their environment variable, not the command line: messages name the one to fix.
    #[arg(skip)]
    pub(crate) from_env: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct Global {
    #[arg(setting = STATE_DIR, global = true)]
    pub(crate) state_dir: Option<PathBuf>,

    #[arg(setting = HISTORY_FILE, global = true)]
    pub(crate) history_file: Option<PathBuf>,

    #[arg(setting = METRICS_FILE, global = true)]
    pub(crate) metrics_file: Option<PathBuf>,

    #[arg(setting = CONFIG, global = true)]
    pub(crate) config: Option<PathBuf>,

    #[arg(setting = ROOT, global = true)]
    pub(crate) root: Option<PathBuf>,

    #[arg(setting = BIN_DIRS, global = true)]
    pub(crate) bin_dirs: Option<String>,

    /// More detail on stderr (-v: each step, -vv: debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub(crate) verbose: u8,

    /// Only errors on stderr, and no summary line on stdout.
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Freeze the write daemon of every running instance (or the named ones) for a snapshot.
    #[command(after_help = "\
Checks each instance first (one already frozen by another tool is left alone and the exit is 2), \
freezes them all in parallel (up to 32 instances are frozen at once; more are done in waves), \
and records what it froze for `thaw`. If any instance cannot be confirmed frozen, everything this \
run froze is thawed again and the exit is 1.

Examples:
  iris-freeze freeze
  iris-freeze freeze --instance IRIS --timeout 60
  iris-freeze freeze -i IRIS --sharded IRISCLUSTER   the whole sharded cluster
  IRIS_FREEZE_INSTANCES=IRIS,HS iris-freeze freeze --log-file /var/log/iris.log")]
    Freeze(FreezeArgs),

    /// Thaw what the last freeze froze (or the named instances, whoever froze them).
    #[command(after_help = "\
Without --instance it thaws exactly the instances recorded by `freeze`, at once, then confirms \
each is thawed; each ExternalThaw gets the whole --timeout. Nothing recorded: exit 0 (\"nothing \
to thaw\"), so it is safe after a failed freeze; an instance suspended all the same (another \
tool, another --state-dir) is named, left alone, and the exit is 2. A recorded instance that is \
down is not frozen: its record is dropped, exit 2. With --instance it thaws that instance \
whatever the record says, and needs no record (a damaged state file).

Examples:
  iris-freeze thaw
  iris-freeze thaw --instance IRIS     thaw IRIS even if another tool froze it")]
    Thaw(RunArgs),

    /// Show each instance: product, version, running, frozen, and frozen by iris-freeze since when.
    #[command(after_help = "\
Examples:
  iris-freeze status
  iris-freeze status --json | jq '.instances[] | select(.frozen)'")]
    Status(StatusArgs),

    /// Print how to restore from a snapshot: the journal restore each instance needs, from the history.
    #[command(after_help = "\
For the last consistent freeze/thaw cycle in the history (or --id), per instance: start it, then \
a journal restore (^JRNRESTO) from the journal file IRIS switched to at the freeze, up to the \
point in time wanted; where the later journal files are; what to do on a mirror member. Reads \
the history alone: run it on the restored VM. Exit 1 when there is no such cycle, 2 when the \
cycle named is not consistent.

Examples:
  iris-freeze restore-plan
  iris-freeze restore-plan --id 20261201T115512Z-3fa2 --json")]
    RestorePlan(RestorePlanArgs),

    /// Check that a restored snapshot was cut inside one of our freezes, from what it holds.
    #[command(after_help = "\
Reads only the snapshot (the restored VM's own files, or a snapshot mounted at --root DIR): its \
history's last cycle (frozen, with no thaw line yet), each instance's mgr/messages.log (the last \
ExternalFreeze names the cycle's journal file, and no \"System resumed\" or \"Already \
resumed\" follows it), that journal file and the ones after it, and the WIJ. Every path is the \
snapshotted system's, looked up under --root; the history is --history-file's (or the \
snapshot's config file's) path there. Per instance: consistent, not consistent: why, or \
unknown: why, then the restore steps of `restore-plan` for that cycle. Never writes, never runs \
anything it finds. Exit 0 when every instance is consistent, 2 when one is not, 1 when it \
cannot tell.

Examples:
  iris-freeze verify                          on the restored VM, before IRIS starts
  iris-freeze verify --root /mnt/snap --json  a snapshot mounted elsewhere")]
    Verify(VerifyArgs),

    /// Show the freeze/thaw cycles, newest first: id, start, who ran it, per instance the
    /// journal files and time frozen, how it ended, and the verdict.
    #[command(after_help = "\
Read from the history file alone (--history-file), so it works offline, on a VM restored from a \
snapshot too: there the newest cycle is the one the snapshot was taken under. A verdict is \
`consistent` only when every instance stayed frozen by iris-freeze until its thaw.

Examples:
  iris-freeze history
  iris-freeze history --limit 5
  iris-freeze history --json | jq '.[0].instances[].restore_from'")]
    History(HistoryArgs),

    /// Check that every instance can be reached and would freeze; changes nothing.
    #[command(after_help = "\
Exit 0 when a freeze would succeed, 2 when an instance is already frozen by someone else, 1 when \
a freeze would fail (the reason is printed). AWS Data Lifecycle Manager calls it as `dry-run`.

Examples:
  iris-freeze dry-run
  iris-freeze dry-run --instance IRIS
  iris-freeze dry-run -i IRIS --sharded IRISCLUSTER   would the cluster freeze")]
    DryRun(RunArgs),

    /// Install the hooks for a snapshot platform (idempotent; replaced files are backed up).
    #[command(after_help = "\
Examples:
  iris-freeze install azure    Azure Backup's pre/post scripts and plugin JSON
  iris-freeze install vmware   /usr/sbin/pre-freeze-script and post-thaw-script
  iris-freeze install qemu --root /mnt/image
  iris-freeze install velero --namespace iris --workload iris-data > hooks.yaml
  iris-freeze install ssh --key array.pub   an authorized_keys line")]
    Install(PlatformArgs),

    /// Remove the hooks `install` wrote (files it did not write are left alone).
    Uninstall(UninstallArgs),

    /// Check the whole chain: programs, instances, logins, config, and a platform's hook setup.
    #[command(after_help = "\
Prints one line per check (ok / warn / FAIL) with the fix for each problem; exit 1 when any \
check fails. It never freezes anything.

Examples:
  iris-freeze check
  iris-freeze check azure")]
    Check(CheckArgs),

    /// Freeze, run a snapshot command, and always thaw; exit 0 only when both went well.
    #[command(after_help = RUN_HELP, mut_arg("timeout", |a| a.help(RUN_TIMEOUT_HELP)))]
    Run(RunCmdArgs),

    #[command(name = "__watchdog", hide = true)]
    Watchdog(WatchdogArgs),
}

/// `run`'s --timeout: the freeze's and the thaw's, not the whole command's (CMD has its own).
const RUN_TIMEOUT_HELP: &str = "Upper bound on the freeze and on the thaw, each, in seconds (CMD \
has --cmd-timeout); a rollback after a failed freeze may use a few seconds more: thawing comes \
first [default: 30]";

const RUN_HELP: &str = "\
Freezes exactly as `freeze` does (same options, watchdog armed with --max-freeze); if the freeze \
fails, CMD does not run (exit 1). CMD runs with IRIS_FREEZE_ID (the cycle id) and \
IRIS_FREEZE_INSTANCES (the frozen instances, comma-separated) in its environment, run's own \
stdin, stdout and stderr, in its own process group. A CMD named without a `/` is found only in \
PATH's absolute directories that no other user can write (as sudo's secure_path). Then the thaw \
always comes: after CMD exits, fails, is not found, times out (its group gets SIGTERM, then \
SIGKILL 5 s later) or is signalled; SIGTERM/SIGINT/SIGHUP to `run` are passed on to CMD's group. \
Processes CMD leaves running in the background are waited for before the thaw, within CMD's \
deadline, and killed at it (the run is then not consistent, exit 1). --timeout bounds the \
freeze and the thaw, each; CMD has its own.

--cmd-timeout defaults to what --max-freeze leaves after the freeze, minus a margin of 15 s \
(or a quarter of --max-freeze, if less): 5 s for CMD's group to die, 10 s for the thaw, so our \
thaw comes before the watchdog's auto-thaw.

Exit: 0 CMD succeeded and the thaw's verdict is `consistent`; 1 the freeze or CMD failed (or \
CMD timed out, was signalled, was not found), or the thaw failed; 2 CMD succeeded but the \
verdict is not `consistent`. The history records CMD and how it ended.

One cycle at a time: another `run`, or a `freeze`, that comes while CMD runs waits for this \
run's thaw within its own --timeout, then refuses (exit 1, nothing frozen); a `run` does not \
take over what an earlier `freeze` froze. A `thaw` is never held back: it says a run's CMD is \
under it, and `run` then exits 2 naming who thawed (that thaw, or the watchdog).

Examples:
  iris-freeze run -- lvcreate --snapshot --name iris-snap --size 10G vg0/iris
  iris-freeze run --cmd-timeout 120 -- sh -c '
      for d in iris-data iris-journal iris-wij; do
        az snapshot create -g rg -n \"$d-$IRIS_FREEZE_ID\" --source \"$d\" \\
          --incremental true &
        pids=\"$pids $!\"
      done
      rc=0; for p in $pids; do wait \"$p\" || rc=1; done; exit $rc'
  iris-freeze run -- zfs snapshot -r \"tank/iris@$(date +%Y%m%d%H%M)\"
  iris-freeze run -i IRIS --sharded IRISCLUSTER -- ./snapshot-data-servers.sh";

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use std::ffi::OsString;

    #[test]
    fn bare_commands_skip_the_parser_and_nothing_else_does() {
        use crate::platform::hooks::HookCommand;
        let bare =
            |a: &[&str]| bare_command(&a.iter().map(std::ffi::OsString::from).collect::<Vec<_>>());
        assert_eq!(bare(&["x", "freeze"]), Some(HookCommand::Freeze));
        assert_eq!(bare(&["x", "thaw"]), Some(HookCommand::Thaw));
        assert_eq!(bare(&["x", "dry-run"]), Some(HookCommand::DryRun));
        assert_eq!(bare(&["x", "freeze", "-v"]), None);
        assert_eq!(bare(&["x", "status"]), None);
        assert_eq!(bare(&["x", "Thaw"]), None);
        assert_eq!(bare(&["x"]), None);
    }

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn instances_repeat_and_split_on_commas() {
        let cli =
            Cli::try_parse_from(["iris-freeze", "freeze", "-i", "A,B", "--instance", "C"]).unwrap();
        let Command::Freeze(args) = cli.command else {
            panic!("not freeze")
        };
        assert_eq!(args.run.instances, ["A", "B", "C"]);
    }

    #[test]
    fn values_on_the_command_line_are_not_from_the_environment() {
        let args = ["iris-freeze", "freeze", "--timeout", "5", "-i", "A"];
        let cli = Cli::parse_args(args.iter().map(Into::into).collect()).unwrap();
        assert!(!cli.is_from_env("timeout"));
        assert!(!cli.is_from_env("instances"));
        let Command::Freeze(f) = cli.command else {
            panic!("not freeze")
        };
        assert_eq!(f.run.timeout.as_deref(), Some("5"));
        let e = Cli::parse_args(vec!["iris-freeze".into(), "--bogus".into()]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::UnknownArgument);
    }

    #[test]
    fn trailing_hook_arguments_are_accepted() {
        let cli = Cli::try_parse_from(["iris-freeze", "freeze", "", ""]).unwrap();
        let Command::Freeze(args) = cli.command else {
            panic!("not freeze")
        };
        assert_eq!(args.run.extra, ["", ""]);
    }

    #[test]
    fn global_options_go_after_the_subcommand_too() {
        let cli =
            Cli::try_parse_from(["iris-freeze", "thaw", "--state-dir", "/tmp/x", "-q"]).unwrap();
        assert_eq!(cli.global.state_dir, Some(PathBuf::from("/tmp/x")));
        assert!(cli.global.quiet);
    }

    /// Every option a hook command takes from the environment, as clap defines it: (id, long
    /// flag, variable), the global ones included.
    fn env_options(sub: &str) -> Vec<(String, String, String)> {
        let cli = Cli::command();
        let sub = cli.find_subcommand(sub).expect("a subcommand");
        cli.get_arguments()
            .chain(sub.get_arguments())
            .filter_map(|a| {
                let var = a.get_env()?.to_str()?.to_string();
                let long = a.get_long()?.to_string();
                Some((a.get_id().to_string(), long, var))
            })
            .collect()
    }

    #[test]
    fn every_variable_clap_reads_is_in_the_table_and_every_one_there_is_read() {
        let root = Cli::command();
        let mut clap: Vec<String> = root
            .get_arguments()
            .chain(root.get_subcommands().flat_map(|s| s.get_arguments()))
            .filter_map(|a| Some(a.get_env()?.to_str()?.to_string()))
            .collect();
        clap.sort();
        clap.dedup();
        let mut table: Vec<String> = crate::settings::env::options().map(String::from).collect();
        table.sort();
        assert_eq!(clap, table);
    }

    /// The hook path that skips clap reads the same variables into the same fields as clap
    /// does, and notes the same options as coming from the environment.
    #[test]
    fn a_hook_call_reads_the_environment_as_clap_does() {
        use crate::platform::hooks::HookCommand;
        for command in [HookCommand::Freeze, HookCommand::Thaw, HookCommand::DryRun] {
            let options = env_options(command.subcommand());
            // A distinct value per variable; the comma tests how lists split.
            let value = |var: &str| format!("/{var},x");
            let hook = Cli::from_vars(command, |name| {
                options
                    .iter()
                    .any(|(_, _, var)| var == name)
                    .then(|| value(name).into())
            });
            // The same values as flags: clap puts them where it would put its variables'.
            let mut args = vec![OsString::from("iris-freeze"), command.subcommand().into()];
            for (_, long, var) in &options {
                args.push(format!("--{long}").into());
                args.push(value(var).into());
            }
            let parsed = Cli::parse_args(args).unwrap();
            assert_eq!(
                format!("{:?}", (&hook.command, &hook.global)),
                format!("{:?}", (&parsed.command, &parsed.global)),
                "{command:?}"
            );
            let mut ids: Vec<&str> = options.iter().map(|(id, ..)| id.as_str()).collect();
            let mut noted: Vec<&str> = hook.from_env.iter().map(String::as_str).collect();
            ids.sort();
            noted.sort();
            assert_eq!(noted, ids, "{command:?}");
            // Nothing set: nothing read.
            let bare = Cli::from_vars(command, |_| None);
            assert!(bare.from_env.is_empty());
        }
    }
}
