# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_iris_freeze_global_optspecs
    string join \n state-dir= history-file= metrics-file= config= root= bin-dirs= v/verbose q/quiet h/help V/version
end

function __fish_iris_freeze_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_iris_freeze_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_iris_freeze_using_subcommand
    set -l cmd (__fish_iris_freeze_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c iris-freeze -n "__fish_iris_freeze_needs_command" -l state-dir -d 'Where iris-freeze records what it froze, created 0700 [default: /run/iris-freeze]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_needs_command" -l history-file -d 'The history of freeze/thaw cycles, one JSON line per event, on persistent disk (it travels inside the snapshot) [default: /var/lib/iris-freeze/history.jsonl; not as root: $ISC_DATA_DIRECTORY/iris-freeze (IRIS\'s durable %SYS), else under $HOME]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_needs_command" -l metrics-file -d 'Rewrite this file with Prometheus metrics after every freeze, thaw, rollback and auto-thaw, e.g. in node_exporter\'s textfile-collector directory [default: none]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_needs_command" -l config -d 'The configuration file; a missing one means the defaults (with a warning when named here or in the variable) [default: /etc/iris-freeze.toml, under --root]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_needs_command" -l root -d 'Prefix for every system path a platform\'s files live under (install, check, the Azure JSON a hook reads, the config file): for tests and image builds [default: /]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_needs_command" -l bin-dirs -d 'Directories searched for iris, csession and ccontrol after PATH, colon-separated (default: the usual install places; empty: PATH only)' -r
complete -c iris-freeze -n "__fish_iris_freeze_needs_command" -s v -l verbose -d 'More detail on stderr (-v: each step, -vv: debug)'
complete -c iris-freeze -n "__fish_iris_freeze_needs_command" -s q -l quiet -d 'Only errors on stderr, and no summary line on stdout'
complete -c iris-freeze -n "__fish_iris_freeze_needs_command" -s h -l help -d 'Print help'
complete -c iris-freeze -n "__fish_iris_freeze_needs_command" -s V -l version -d 'Print version'
complete -c iris-freeze -n "__fish_iris_freeze_needs_command" -f -a "freeze" -d 'Freeze the write daemon of every running instance (or the named ones) for a snapshot'
complete -c iris-freeze -n "__fish_iris_freeze_needs_command" -f -a "thaw" -d 'Thaw what the last freeze froze (or the named instances, whoever froze them)'
complete -c iris-freeze -n "__fish_iris_freeze_needs_command" -f -a "status" -d 'Show each instance: product, version, running, frozen, and frozen by iris-freeze since when'
complete -c iris-freeze -n "__fish_iris_freeze_needs_command" -f -a "restore-plan" -d 'Print how to restore from a snapshot: the journal restore each instance needs, from the history'
complete -c iris-freeze -n "__fish_iris_freeze_needs_command" -f -a "verify" -d 'Check that a restored snapshot was cut inside one of our freezes, from what it holds'
complete -c iris-freeze -n "__fish_iris_freeze_needs_command" -f -a "history" -d 'Show the freeze/thaw cycles, newest first: id, start, who ran it, per instance the journal files and time frozen, how it ended, and the verdict'
complete -c iris-freeze -n "__fish_iris_freeze_needs_command" -f -a "dry-run" -d 'Check that every instance can be reached and would freeze; changes nothing'
complete -c iris-freeze -n "__fish_iris_freeze_needs_command" -f -a "install" -d 'Install the hooks for a snapshot platform (idempotent; replaced files are backed up)'
complete -c iris-freeze -n "__fish_iris_freeze_needs_command" -f -a "uninstall" -d 'Remove the hooks `install` wrote (files it did not write are left alone)'
complete -c iris-freeze -n "__fish_iris_freeze_needs_command" -f -a "check" -d 'Check the whole chain: programs, instances, logins, config, and a platform\'s hook setup'
complete -c iris-freeze -n "__fish_iris_freeze_needs_command" -f -a "run" -d 'Freeze, run a snapshot command, and always thaw; exit 0 only when both went well'
complete -c iris-freeze -n "__fish_iris_freeze_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand freeze" -s i -l instance -d 'Instance to act on (repeatable; default: every running instance, or for thaw, what the last freeze recorded)' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand freeze" -l timeout -d 'Upper bound on the whole command, in seconds; a rollback after a failed freeze may use a few seconds more: thawing comes first [default: 30]' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand freeze" -l log-file -d 'Append the log here [default: /etc/preScript.log for freeze, run and dry-run, /etc/postScript.log for thaw, or freeze_log / thaw_log in the config file]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand freeze" -l sharded -d 'Act on the whole sharded cluster whose shard master namespace this is, with Backup.ShardedCluster from the shard master (every data server frozen, or none), instead of on each instance [default: sharded_namespace in the config file]' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand freeze" -l max-freeze -d 'The longest any instance may stay frozen by iris-freeze, in seconds: a watchdog armed before the first freeze thaws it then if no thaw came. Must stay below IRIS\'s 600 s ExternalFreezeTimeOut, when IRIS starts blocking writers [default: 300]' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand freeze" -l state-dir -d 'Where iris-freeze records what it froze, created 0700 [default: /run/iris-freeze]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand freeze" -l history-file -d 'The history of freeze/thaw cycles, one JSON line per event, on persistent disk (it travels inside the snapshot) [default: /var/lib/iris-freeze/history.jsonl; not as root: $ISC_DATA_DIRECTORY/iris-freeze (IRIS\'s durable %SYS), else under $HOME]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand freeze" -l metrics-file -d 'Rewrite this file with Prometheus metrics after every freeze, thaw, rollback and auto-thaw, e.g. in node_exporter\'s textfile-collector directory [default: none]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand freeze" -l config -d 'The configuration file; a missing one means the defaults (with a warning when named here or in the variable) [default: /etc/iris-freeze.toml, under --root]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand freeze" -l root -d 'Prefix for every system path a platform\'s files live under (install, check, the Azure JSON a hook reads, the config file): for tests and image builds [default: /]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand freeze" -l bin-dirs -d 'Directories searched for iris, csession and ccontrol after PATH, colon-separated (default: the usual install places; empty: PATH only)' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand freeze" -s v -l verbose -d 'More detail on stderr (-v: each step, -vv: debug)'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand freeze" -s q -l quiet -d 'Only errors on stderr, and no summary line on stdout'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand freeze" -s h -l help -d 'Print help'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand freeze" -s V -l version -d 'Print version'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand thaw" -s i -l instance -d 'Instance to act on (repeatable; default: every running instance, or for thaw, what the last freeze recorded)' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand thaw" -l timeout -d 'Upper bound on the whole command, in seconds; a rollback after a failed freeze may use a few seconds more: thawing comes first [default: 30]' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand thaw" -l log-file -d 'Append the log here [default: /etc/preScript.log for freeze, run and dry-run, /etc/postScript.log for thaw, or freeze_log / thaw_log in the config file]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand thaw" -l sharded -d 'Act on the whole sharded cluster whose shard master namespace this is, with Backup.ShardedCluster from the shard master (every data server frozen, or none), instead of on each instance [default: sharded_namespace in the config file]' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand thaw" -l state-dir -d 'Where iris-freeze records what it froze, created 0700 [default: /run/iris-freeze]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand thaw" -l history-file -d 'The history of freeze/thaw cycles, one JSON line per event, on persistent disk (it travels inside the snapshot) [default: /var/lib/iris-freeze/history.jsonl; not as root: $ISC_DATA_DIRECTORY/iris-freeze (IRIS\'s durable %SYS), else under $HOME]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand thaw" -l metrics-file -d 'Rewrite this file with Prometheus metrics after every freeze, thaw, rollback and auto-thaw, e.g. in node_exporter\'s textfile-collector directory [default: none]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand thaw" -l config -d 'The configuration file; a missing one means the defaults (with a warning when named here or in the variable) [default: /etc/iris-freeze.toml, under --root]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand thaw" -l root -d 'Prefix for every system path a platform\'s files live under (install, check, the Azure JSON a hook reads, the config file): for tests and image builds [default: /]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand thaw" -l bin-dirs -d 'Directories searched for iris, csession and ccontrol after PATH, colon-separated (default: the usual install places; empty: PATH only)' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand thaw" -s v -l verbose -d 'More detail on stderr (-v: each step, -vv: debug)'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand thaw" -s q -l quiet -d 'Only errors on stderr, and no summary line on stdout'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand thaw" -s h -l help -d 'Print help'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand thaw" -s V -l version -d 'Print version'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand status" -l timeout -d 'Upper bound on the whole command, in seconds [default: 30]' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand status" -l state-dir -d 'Where iris-freeze records what it froze, created 0700 [default: /run/iris-freeze]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand status" -l history-file -d 'The history of freeze/thaw cycles, one JSON line per event, on persistent disk (it travels inside the snapshot) [default: /var/lib/iris-freeze/history.jsonl; not as root: $ISC_DATA_DIRECTORY/iris-freeze (IRIS\'s durable %SYS), else under $HOME]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand status" -l metrics-file -d 'Rewrite this file with Prometheus metrics after every freeze, thaw, rollback and auto-thaw, e.g. in node_exporter\'s textfile-collector directory [default: none]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand status" -l config -d 'The configuration file; a missing one means the defaults (with a warning when named here or in the variable) [default: /etc/iris-freeze.toml, under --root]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand status" -l root -d 'Prefix for every system path a platform\'s files live under (install, check, the Azure JSON a hook reads, the config file): for tests and image builds [default: /]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand status" -l bin-dirs -d 'Directories searched for iris, csession and ccontrol after PATH, colon-separated (default: the usual install places; empty: PATH only)' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand status" -l json -d 'Print JSON for scripts instead of a table'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand status" -s v -l verbose -d 'More detail on stderr (-v: each step, -vv: debug)'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand status" -s q -l quiet -d 'Only errors on stderr, and no summary line on stdout'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand status" -s h -l help -d 'Print help'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand status" -s V -l version -d 'Print version'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand restore-plan" -l id -d 'The cycle to restore (an id from the history) [default: the last consistent one]' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand restore-plan" -l state-dir -d 'Where iris-freeze records what it froze, created 0700 [default: /run/iris-freeze]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand restore-plan" -l history-file -d 'The history of freeze/thaw cycles, one JSON line per event, on persistent disk (it travels inside the snapshot) [default: /var/lib/iris-freeze/history.jsonl; not as root: $ISC_DATA_DIRECTORY/iris-freeze (IRIS\'s durable %SYS), else under $HOME]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand restore-plan" -l metrics-file -d 'Rewrite this file with Prometheus metrics after every freeze, thaw, rollback and auto-thaw, e.g. in node_exporter\'s textfile-collector directory [default: none]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand restore-plan" -l config -d 'The configuration file; a missing one means the defaults (with a warning when named here or in the variable) [default: /etc/iris-freeze.toml, under --root]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand restore-plan" -l root -d 'Prefix for every system path a platform\'s files live under (install, check, the Azure JSON a hook reads, the config file): for tests and image builds [default: /]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand restore-plan" -l bin-dirs -d 'Directories searched for iris, csession and ccontrol after PATH, colon-separated (default: the usual install places; empty: PATH only)' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand restore-plan" -l json -d 'Print JSON for scripts instead of text'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand restore-plan" -s v -l verbose -d 'More detail on stderr (-v: each step, -vv: debug)'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand restore-plan" -s q -l quiet -d 'Only errors on stderr, and no summary line on stdout'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand restore-plan" -s h -l help -d 'Print help'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand restore-plan" -s V -l version -d 'Print version'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand verify" -l state-dir -d 'Where iris-freeze records what it froze, created 0700 [default: /run/iris-freeze]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand verify" -l history-file -d 'The history of freeze/thaw cycles, one JSON line per event, on persistent disk (it travels inside the snapshot) [default: /var/lib/iris-freeze/history.jsonl; not as root: $ISC_DATA_DIRECTORY/iris-freeze (IRIS\'s durable %SYS), else under $HOME]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand verify" -l metrics-file -d 'Rewrite this file with Prometheus metrics after every freeze, thaw, rollback and auto-thaw, e.g. in node_exporter\'s textfile-collector directory [default: none]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand verify" -l config -d 'The configuration file; a missing one means the defaults (with a warning when named here or in the variable) [default: /etc/iris-freeze.toml, under --root]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand verify" -l root -d 'Prefix for every system path a platform\'s files live under (install, check, the Azure JSON a hook reads, the config file): for tests and image builds [default: /]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand verify" -l bin-dirs -d 'Directories searched for iris, csession and ccontrol after PATH, colon-separated (default: the usual install places; empty: PATH only)' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand verify" -l json -d 'Print JSON for scripts instead of text'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand verify" -s v -l verbose -d 'More detail on stderr (-v: each step, -vv: debug)'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand verify" -s q -l quiet -d 'Only errors on stderr, and no summary line on stdout'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand verify" -s h -l help -d 'Print help'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand verify" -s V -l version -d 'Print version'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand history" -l limit -d 'Show at most this many cycles (the newest)' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand history" -l state-dir -d 'Where iris-freeze records what it froze, created 0700 [default: /run/iris-freeze]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand history" -l history-file -d 'The history of freeze/thaw cycles, one JSON line per event, on persistent disk (it travels inside the snapshot) [default: /var/lib/iris-freeze/history.jsonl; not as root: $ISC_DATA_DIRECTORY/iris-freeze (IRIS\'s durable %SYS), else under $HOME]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand history" -l metrics-file -d 'Rewrite this file with Prometheus metrics after every freeze, thaw, rollback and auto-thaw, e.g. in node_exporter\'s textfile-collector directory [default: none]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand history" -l config -d 'The configuration file; a missing one means the defaults (with a warning when named here or in the variable) [default: /etc/iris-freeze.toml, under --root]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand history" -l root -d 'Prefix for every system path a platform\'s files live under (install, check, the Azure JSON a hook reads, the config file): for tests and image builds [default: /]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand history" -l bin-dirs -d 'Directories searched for iris, csession and ccontrol after PATH, colon-separated (default: the usual install places; empty: PATH only)' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand history" -l json -d 'Print one JSON array for scripts instead of a table'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand history" -s v -l verbose -d 'More detail on stderr (-v: each step, -vv: debug)'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand history" -s q -l quiet -d 'Only errors on stderr, and no summary line on stdout'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand history" -s h -l help -d 'Print help'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand history" -s V -l version -d 'Print version'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand dry-run" -s i -l instance -d 'Instance to act on (repeatable; default: every running instance, or for thaw, what the last freeze recorded)' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand dry-run" -l timeout -d 'Upper bound on the whole command, in seconds; a rollback after a failed freeze may use a few seconds more: thawing comes first [default: 30]' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand dry-run" -l log-file -d 'Append the log here [default: /etc/preScript.log for freeze, run and dry-run, /etc/postScript.log for thaw, or freeze_log / thaw_log in the config file]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand dry-run" -l sharded -d 'Act on the whole sharded cluster whose shard master namespace this is, with Backup.ShardedCluster from the shard master (every data server frozen, or none), instead of on each instance [default: sharded_namespace in the config file]' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand dry-run" -l state-dir -d 'Where iris-freeze records what it froze, created 0700 [default: /run/iris-freeze]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand dry-run" -l history-file -d 'The history of freeze/thaw cycles, one JSON line per event, on persistent disk (it travels inside the snapshot) [default: /var/lib/iris-freeze/history.jsonl; not as root: $ISC_DATA_DIRECTORY/iris-freeze (IRIS\'s durable %SYS), else under $HOME]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand dry-run" -l metrics-file -d 'Rewrite this file with Prometheus metrics after every freeze, thaw, rollback and auto-thaw, e.g. in node_exporter\'s textfile-collector directory [default: none]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand dry-run" -l config -d 'The configuration file; a missing one means the defaults (with a warning when named here or in the variable) [default: /etc/iris-freeze.toml, under --root]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand dry-run" -l root -d 'Prefix for every system path a platform\'s files live under (install, check, the Azure JSON a hook reads, the config file): for tests and image builds [default: /]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand dry-run" -l bin-dirs -d 'Directories searched for iris, csession and ccontrol after PATH, colon-separated (default: the usual install places; empty: PATH only)' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand dry-run" -s v -l verbose -d 'More detail on stderr (-v: each step, -vv: debug)'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand dry-run" -s q -l quiet -d 'Only errors on stderr, and no summary line on stdout'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand dry-run" -s h -l help -d 'Print help'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand dry-run" -s V -l version -d 'Print version'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand install" -l timeout -d 'The freeze and thaw timeout the hooks will run with, in seconds; sizes Azure\'s timeoutInSeconds [default: 30, or timeout in the config file]' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand install" -l namespace -d 'Kubernetes engines: the IRIS workload\'s namespace [default: iris]' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand install" -l workload -d 'Kubernetes engines: the StatefulSet (or IrisCluster) that runs IRIS [default: iris]' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand install" -l container -d 'Kubernetes engines: the IRIS container in its pods [default: iris]' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand install" -l binary -d 'Kubernetes engines: where iris-freeze is inside the IRIS container [default: /iris-freeze/iris-freeze, the emptyDir of examples/kubernetes]' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand install" -l max-freeze -d 'Kubernetes engines: the longest IRIS may stay frozen, in seconds, in the printed freeze command (its watchdog thaws then); more than --timeout, below 600 [default: 300, or max_freeze in the config file]' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand install" -l kind -d 'Which form: for Velero, the hooks as the pod template\'s annotations (`statefulset`), a Backup whose spec.hooks.resources select the IRIS pod (`backup`: no pod restart, and works for an IrisCluster\'s data pods), or a Schedule with that Backup as its template (`schedule`); for K10, a Blueprint bound to the StatefulSet (`blueprint`), or a Policy whose own hooks freeze before the whole backup and thaw after it, on success or failure (`policy`) [default: statefulset for Velero, blueprint for K10]' -r -f -a "statefulset\t'Velero: the pod annotations, as a patch of the StatefulSet\'s pod template'
backup\t'Velero: a Backup (velero.io/v1) with spec.hooks.resources'
schedule\t'Velero: a Schedule (velero.io/v1) whose template is that Backup\'s spec'
blueprint\t'K10: a Blueprint with backupPrehook and backupPosthook, and its BlueprintBinding'
policy\t'K10: a Policy whose preHook freezes and whose onSuccess and onFailure thaw'"
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand install" -l velero-namespace -d 'Velero, `--kind backup|schedule`: the namespace Velero runs in, where its Backup and Schedule objects live (OpenShift\'s OADP: openshift-adp) [default: velero]' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand install" -l schedule -d 'Velero, `--kind schedule`: when the Schedule backs up, a cron expression of five fields [default: "0 1 * * *", daily at 01:00]' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand install" -l sharded -d 'K10 with `--kind policy`: freeze the whole sharded cluster of this shard master namespace from the master pod (WORKLOAD-0) for the whole backup. Refused by `install velero` and `install aks-backup`: their hooks run per pod, so the cluster would be thawed before the other pods\' volumes are snapshotted' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand install" -l key -d 'SSH: the public key file (one `TYPE BASE64 [COMMENT]` line, as ssh-keygen writes it) of the machine that will call us' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand install" -l user -d 'SSH: the account it logs in as; another than root also needs the sudoers lines `install` prints [default: root]' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand install" -l state-dir -d 'Where iris-freeze records what it froze, created 0700 [default: /run/iris-freeze]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand install" -l history-file -d 'The history of freeze/thaw cycles, one JSON line per event, on persistent disk (it travels inside the snapshot) [default: /var/lib/iris-freeze/history.jsonl; not as root: $ISC_DATA_DIRECTORY/iris-freeze (IRIS\'s durable %SYS), else under $HOME]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand install" -l metrics-file -d 'Rewrite this file with Prometheus metrics after every freeze, thaw, rollback and auto-thaw, e.g. in node_exporter\'s textfile-collector directory [default: none]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand install" -l config -d 'The configuration file; a missing one means the defaults (with a warning when named here or in the variable) [default: /etc/iris-freeze.toml, under --root]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand install" -l root -d 'Prefix for every system path a platform\'s files live under (install, check, the Azure JSON a hook reads, the config file): for tests and image builds [default: /]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand install" -l bin-dirs -d 'Directories searched for iris, csession and ccontrol after PATH, colon-separated (default: the usual install places; empty: PATH only)' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand install" -s v -l verbose -d 'More detail on stderr (-v: each step, -vv: debug)'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand install" -s q -l quiet -d 'Only errors on stderr, and no summary line on stdout'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand install" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand install" -s V -l version -d 'Print version'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand uninstall" -l state-dir -d 'Where iris-freeze records what it froze, created 0700 [default: /run/iris-freeze]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand uninstall" -l history-file -d 'The history of freeze/thaw cycles, one JSON line per event, on persistent disk (it travels inside the snapshot) [default: /var/lib/iris-freeze/history.jsonl; not as root: $ISC_DATA_DIRECTORY/iris-freeze (IRIS\'s durable %SYS), else under $HOME]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand uninstall" -l metrics-file -d 'Rewrite this file with Prometheus metrics after every freeze, thaw, rollback and auto-thaw, e.g. in node_exporter\'s textfile-collector directory [default: none]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand uninstall" -l config -d 'The configuration file; a missing one means the defaults (with a warning when named here or in the variable) [default: /etc/iris-freeze.toml, under --root]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand uninstall" -l root -d 'Prefix for every system path a platform\'s files live under (install, check, the Azure JSON a hook reads, the config file): for tests and image builds [default: /]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand uninstall" -l bin-dirs -d 'Directories searched for iris, csession and ccontrol after PATH, colon-separated (default: the usual install places; empty: PATH only)' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand uninstall" -s v -l verbose -d 'More detail on stderr (-v: each step, -vv: debug)'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand uninstall" -s q -l quiet -d 'Only errors on stderr, and no summary line on stdout'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand uninstall" -s h -l help -d 'Print help'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand uninstall" -s V -l version -d 'Print version'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand check" -l timeout -d 'The freeze and thaw timeout to check against (Azure\'s timeoutInSeconds must cover it), and the bound on each login check, in seconds [default: 30, or the config file\'s]' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand check" -l state-dir -d 'Where iris-freeze records what it froze, created 0700 [default: /run/iris-freeze]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand check" -l history-file -d 'The history of freeze/thaw cycles, one JSON line per event, on persistent disk (it travels inside the snapshot) [default: /var/lib/iris-freeze/history.jsonl; not as root: $ISC_DATA_DIRECTORY/iris-freeze (IRIS\'s durable %SYS), else under $HOME]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand check" -l metrics-file -d 'Rewrite this file with Prometheus metrics after every freeze, thaw, rollback and auto-thaw, e.g. in node_exporter\'s textfile-collector directory [default: none]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand check" -l config -d 'The configuration file; a missing one means the defaults (with a warning when named here or in the variable) [default: /etc/iris-freeze.toml, under --root]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand check" -l root -d 'Prefix for every system path a platform\'s files live under (install, check, the Azure JSON a hook reads, the config file): for tests and image builds [default: /]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand check" -l bin-dirs -d 'Directories searched for iris, csession and ccontrol after PATH, colon-separated (default: the usual install places; empty: PATH only)' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand check" -s v -l verbose -d 'More detail on stderr (-v: each step, -vv: debug)'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand check" -s q -l quiet -d 'Only errors on stderr, and no summary line on stdout'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand check" -s h -l help -d 'Print help'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand check" -s V -l version -d 'Print version'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand run" -s i -l instance -d 'Instance to act on (repeatable; default: every running instance, or for thaw, what the last freeze recorded)' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand run" -l log-file -d 'Append the log here [default: /etc/preScript.log for freeze, run and dry-run, /etc/postScript.log for thaw, or freeze_log / thaw_log in the config file]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand run" -l sharded -d 'Act on the whole sharded cluster whose shard master namespace this is, with Backup.ShardedCluster from the shard master (every data server frozen, or none), instead of on each instance [default: sharded_namespace in the config file]' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand run" -l max-freeze -d 'The longest any instance may stay frozen by iris-freeze, in seconds: a watchdog armed before the first freeze thaws it then if no thaw came. Must stay below IRIS\'s 600 s ExternalFreezeTimeOut, when IRIS starts blocking writers [default: 300]' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand run" -l cmd-timeout -d 'CMD\'s deadline, in seconds: then its process group is killed and the thaw follows [default: what --max-freeze leaves after the freeze, minus 15 s; config cmd_timeout]' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand run" -l timeout -d 'Upper bound on the freeze and on the thaw, each, in seconds (CMD has --cmd-timeout); a rollback after a failed freeze may use a few seconds more: thawing comes first [default: 30]' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand run" -l state-dir -d 'Where iris-freeze records what it froze, created 0700 [default: /run/iris-freeze]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand run" -l history-file -d 'The history of freeze/thaw cycles, one JSON line per event, on persistent disk (it travels inside the snapshot) [default: /var/lib/iris-freeze/history.jsonl; not as root: $ISC_DATA_DIRECTORY/iris-freeze (IRIS\'s durable %SYS), else under $HOME]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand run" -l metrics-file -d 'Rewrite this file with Prometheus metrics after every freeze, thaw, rollback and auto-thaw, e.g. in node_exporter\'s textfile-collector directory [default: none]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand run" -l config -d 'The configuration file; a missing one means the defaults (with a warning when named here or in the variable) [default: /etc/iris-freeze.toml, under --root]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand run" -l root -d 'Prefix for every system path a platform\'s files live under (install, check, the Azure JSON a hook reads, the config file): for tests and image builds [default: /]' -r -F
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand run" -l bin-dirs -d 'Directories searched for iris, csession and ccontrol after PATH, colon-separated (default: the usual install places; empty: PATH only)' -r
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand run" -s v -l verbose -d 'More detail on stderr (-v: each step, -vv: debug)'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand run" -s q -l quiet -d 'Only errors on stderr, and no summary line on stdout'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand run" -s h -l help -d 'Print help'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand run" -s V -l version -d 'Print version'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand help; and not __fish_seen_subcommand_from freeze thaw status restore-plan verify history dry-run install uninstall check run help" -f -a "freeze" -d 'Freeze the write daemon of every running instance (or the named ones) for a snapshot'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand help; and not __fish_seen_subcommand_from freeze thaw status restore-plan verify history dry-run install uninstall check run help" -f -a "thaw" -d 'Thaw what the last freeze froze (or the named instances, whoever froze them)'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand help; and not __fish_seen_subcommand_from freeze thaw status restore-plan verify history dry-run install uninstall check run help" -f -a "status" -d 'Show each instance: product, version, running, frozen, and frozen by iris-freeze since when'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand help; and not __fish_seen_subcommand_from freeze thaw status restore-plan verify history dry-run install uninstall check run help" -f -a "restore-plan" -d 'Print how to restore from a snapshot: the journal restore each instance needs, from the history'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand help; and not __fish_seen_subcommand_from freeze thaw status restore-plan verify history dry-run install uninstall check run help" -f -a "verify" -d 'Check that a restored snapshot was cut inside one of our freezes, from what it holds'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand help; and not __fish_seen_subcommand_from freeze thaw status restore-plan verify history dry-run install uninstall check run help" -f -a "history" -d 'Show the freeze/thaw cycles, newest first: id, start, who ran it, per instance the journal files and time frozen, how it ended, and the verdict'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand help; and not __fish_seen_subcommand_from freeze thaw status restore-plan verify history dry-run install uninstall check run help" -f -a "dry-run" -d 'Check that every instance can be reached and would freeze; changes nothing'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand help; and not __fish_seen_subcommand_from freeze thaw status restore-plan verify history dry-run install uninstall check run help" -f -a "install" -d 'Install the hooks for a snapshot platform (idempotent; replaced files are backed up)'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand help; and not __fish_seen_subcommand_from freeze thaw status restore-plan verify history dry-run install uninstall check run help" -f -a "uninstall" -d 'Remove the hooks `install` wrote (files it did not write are left alone)'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand help; and not __fish_seen_subcommand_from freeze thaw status restore-plan verify history dry-run install uninstall check run help" -f -a "check" -d 'Check the whole chain: programs, instances, logins, config, and a platform\'s hook setup'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand help; and not __fish_seen_subcommand_from freeze thaw status restore-plan verify history dry-run install uninstall check run help" -f -a "run" -d 'Freeze, run a snapshot command, and always thaw; exit 0 only when both went well'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand help; and not __fish_seen_subcommand_from freeze thaw status restore-plan verify history dry-run install uninstall check run help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand install" -f -a "azure vmware qemu gcp nutanix aws asr commvault veeam-agent veeam-vbr veeam-dropin cohesity rubrik gcbdr velero k10 aks-backup kubernetes ssh"
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand uninstall" -f -a "azure vmware qemu gcp nutanix aws asr commvault veeam-agent veeam-vbr veeam-dropin cohesity rubrik gcbdr velero k10 aks-backup kubernetes ssh"
complete -c iris-freeze -n "__fish_iris_freeze_using_subcommand check" -f -a "azure vmware qemu gcp nutanix aws asr commvault veeam-agent veeam-vbr veeam-dropin cohesity rubrik gcbdr velero k10 aks-backup kubernetes ssh"
