_iris__freeze() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="iris__freeze"
                ;;
            iris__freeze,check)
                cmd="iris__freeze__subcmd__check"
                ;;
            iris__freeze,dry-run)
                cmd="iris__freeze__subcmd__dry__subcmd__run"
                ;;
            iris__freeze,freeze)
                cmd="iris__freeze__subcmd__freeze"
                ;;
            iris__freeze,help)
                cmd="iris__freeze__subcmd__help"
                ;;
            iris__freeze,history)
                cmd="iris__freeze__subcmd__history"
                ;;
            iris__freeze,install)
                cmd="iris__freeze__subcmd__install"
                ;;
            iris__freeze,restore-plan)
                cmd="iris__freeze__subcmd__restore__subcmd__plan"
                ;;
            iris__freeze,run)
                cmd="iris__freeze__subcmd__run"
                ;;
            iris__freeze,status)
                cmd="iris__freeze__subcmd__status"
                ;;
            iris__freeze,thaw)
                cmd="iris__freeze__subcmd__thaw"
                ;;
            iris__freeze,uninstall)
                cmd="iris__freeze__subcmd__uninstall"
                ;;
            iris__freeze,verify)
                cmd="iris__freeze__subcmd__verify"
                ;;
            iris__freeze__subcmd__help,check)
                cmd="iris__freeze__subcmd__help__subcmd__check"
                ;;
            iris__freeze__subcmd__help,dry-run)
                cmd="iris__freeze__subcmd__help__subcmd__dry__subcmd__run"
                ;;
            iris__freeze__subcmd__help,freeze)
                cmd="iris__freeze__subcmd__help__subcmd__freeze"
                ;;
            iris__freeze__subcmd__help,help)
                cmd="iris__freeze__subcmd__help__subcmd__help"
                ;;
            iris__freeze__subcmd__help,history)
                cmd="iris__freeze__subcmd__help__subcmd__history"
                ;;
            iris__freeze__subcmd__help,install)
                cmd="iris__freeze__subcmd__help__subcmd__install"
                ;;
            iris__freeze__subcmd__help,restore-plan)
                cmd="iris__freeze__subcmd__help__subcmd__restore__subcmd__plan"
                ;;
            iris__freeze__subcmd__help,run)
                cmd="iris__freeze__subcmd__help__subcmd__run"
                ;;
            iris__freeze__subcmd__help,status)
                cmd="iris__freeze__subcmd__help__subcmd__status"
                ;;
            iris__freeze__subcmd__help,thaw)
                cmd="iris__freeze__subcmd__help__subcmd__thaw"
                ;;
            iris__freeze__subcmd__help,uninstall)
                cmd="iris__freeze__subcmd__help__subcmd__uninstall"
                ;;
            iris__freeze__subcmd__help,verify)
                cmd="iris__freeze__subcmd__help__subcmd__verify"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        iris__freeze)
            opts="-v -q -h -V --state-dir --history-file --metrics-file --config --root --bin-dirs --verbose --quiet --help --version freeze thaw status restore-plan verify history dry-run install uninstall check run help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
                return 0
            fi
            case "${prev}" in
                --state-dir)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --history-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --metrics-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --config)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --root)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --bin-dirs)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
            return 0
            ;;
        iris__freeze__subcmd__check)
            opts="-v -q -h -V --timeout --state-dir --history-file --metrics-file --config --root --bin-dirs --verbose --quiet --help --version azure vmware qemu gcp nutanix aws asr commvault veeam-agent veeam-vbr veeam-dropin cohesity rubrik gcbdr velero k10 aks-backup kubernetes ssh"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
                return 0
            fi
            case "${prev}" in
                --timeout)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --state-dir)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --history-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --metrics-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --config)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --root)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --bin-dirs)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
            return 0
            ;;
        iris__freeze__subcmd__dry__subcmd__run)
            opts="-i -v -q -h -V --instance --timeout --log-file --sharded --state-dir --history-file --metrics-file --config --root --bin-dirs --verbose --quiet --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
                return 0
            fi
            case "${prev}" in
                --instance)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                -i)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --timeout)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --log-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --sharded)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --state-dir)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --history-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --metrics-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --config)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --root)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --bin-dirs)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
            return 0
            ;;
        iris__freeze__subcmd__freeze)
            opts="-i -v -q -h -V --instance --timeout --log-file --sharded --max-freeze --state-dir --history-file --metrics-file --config --root --bin-dirs --verbose --quiet --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
                return 0
            fi
            case "${prev}" in
                --instance)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                -i)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --timeout)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --log-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --sharded)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --max-freeze)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --state-dir)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --history-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --metrics-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --config)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --root)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --bin-dirs)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
            return 0
            ;;
        iris__freeze__subcmd__help)
            opts="freeze thaw status restore-plan verify history dry-run install uninstall check run help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
            return 0
            ;;
        iris__freeze__subcmd__help__subcmd__check)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
            return 0
            ;;
        iris__freeze__subcmd__help__subcmd__dry__subcmd__run)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
            return 0
            ;;
        iris__freeze__subcmd__help__subcmd__freeze)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
            return 0
            ;;
        iris__freeze__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
            return 0
            ;;
        iris__freeze__subcmd__help__subcmd__history)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
            return 0
            ;;
        iris__freeze__subcmd__help__subcmd__install)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
            return 0
            ;;
        iris__freeze__subcmd__help__subcmd__restore__subcmd__plan)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
            return 0
            ;;
        iris__freeze__subcmd__help__subcmd__run)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
            return 0
            ;;
        iris__freeze__subcmd__help__subcmd__status)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
            return 0
            ;;
        iris__freeze__subcmd__help__subcmd__thaw)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
            return 0
            ;;
        iris__freeze__subcmd__help__subcmd__uninstall)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
            return 0
            ;;
        iris__freeze__subcmd__help__subcmd__verify)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
            return 0
            ;;
        iris__freeze__subcmd__history)
            opts="-v -q -h -V --json --limit --state-dir --history-file --metrics-file --config --root --bin-dirs --verbose --quiet --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
                return 0
            fi
            case "${prev}" in
                --limit)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --state-dir)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --history-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --metrics-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --config)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --root)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --bin-dirs)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
            return 0
            ;;
        iris__freeze__subcmd__install)
            opts="-v -q -h -V --timeout --namespace --workload --container --binary --max-freeze --kind --velero-namespace --schedule --sharded --key --user --state-dir --history-file --metrics-file --config --root --bin-dirs --verbose --quiet --help --version azure vmware qemu gcp nutanix aws asr commvault veeam-agent veeam-vbr veeam-dropin cohesity rubrik gcbdr velero k10 aks-backup kubernetes ssh"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
                return 0
            fi
            case "${prev}" in
                --timeout)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --namespace)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --workload)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --container)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --binary)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --max-freeze)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --kind)
                    mapfile -t COMPREPLY < <(compgen -W "statefulset backup schedule blueprint policy" -- "${cur}")
                    return 0
                    ;;
                --velero-namespace)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --schedule)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --sharded)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --key)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --user)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --state-dir)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --history-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --metrics-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --config)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --root)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --bin-dirs)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
            return 0
            ;;
        iris__freeze__subcmd__restore__subcmd__plan)
            opts="-v -q -h -V --id --json --state-dir --history-file --metrics-file --config --root --bin-dirs --verbose --quiet --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
                return 0
            fi
            case "${prev}" in
                --id)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --state-dir)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --history-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --metrics-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --config)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --root)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --bin-dirs)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
            return 0
            ;;
        iris__freeze__subcmd__run)
            opts="-i -v -q -h -V --instance --log-file --sharded --max-freeze --cmd-timeout --timeout --state-dir --history-file --metrics-file --config --root --bin-dirs --verbose --quiet --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
                return 0
            fi
            case "${prev}" in
                --instance)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                -i)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --log-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --sharded)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --max-freeze)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --cmd-timeout)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --timeout)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --state-dir)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --history-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --metrics-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --config)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --root)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --bin-dirs)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
            return 0
            ;;
        iris__freeze__subcmd__status)
            opts="-v -q -h -V --json --timeout --state-dir --history-file --metrics-file --config --root --bin-dirs --verbose --quiet --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
                return 0
            fi
            case "${prev}" in
                --timeout)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --state-dir)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --history-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --metrics-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --config)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --root)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --bin-dirs)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
            return 0
            ;;
        iris__freeze__subcmd__thaw)
            opts="-i -v -q -h -V --instance --timeout --log-file --sharded --state-dir --history-file --metrics-file --config --root --bin-dirs --verbose --quiet --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
                return 0
            fi
            case "${prev}" in
                --instance)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                -i)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --timeout)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --log-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --sharded)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --state-dir)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --history-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --metrics-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --config)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --root)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --bin-dirs)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
            return 0
            ;;
        iris__freeze__subcmd__uninstall)
            opts="-v -q -h -V --state-dir --history-file --metrics-file --config --root --bin-dirs --verbose --quiet --help --version azure vmware qemu gcp nutanix aws asr commvault veeam-agent veeam-vbr veeam-dropin cohesity rubrik gcbdr velero k10 aks-backup kubernetes ssh"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
                return 0
            fi
            case "${prev}" in
                --state-dir)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --history-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --metrics-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --config)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --root)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --bin-dirs)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
            return 0
            ;;
        iris__freeze__subcmd__verify)
            opts="-v -q -h -V --json --state-dir --history-file --metrics-file --config --root --bin-dirs --verbose --quiet --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
                return 0
            fi
            case "${prev}" in
                --state-dir)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --history-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --metrics-file)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --config)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --root)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                --bin-dirs)
                    compopt -o filenames
                    mapfile -t COMPREPLY < <(compgen -f "${cur}")
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _iris__freeze -o nosort -o bashdefault -o default iris-freeze
else
    complete -F _iris__freeze -o bashdefault -o default iris-freeze
fi
