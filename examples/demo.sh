#!/bin/sh
# Try iris-freeze with no IRIS installed: builds the binary and the IRIS simulator, makes a
# pretend host with one IRIS and one Caché instance, then runs freeze, status, thaw, run and
# history.
# Usage: sh examples/demo.sh        (everything lives in a temp dir, removed at the end)
#        sh examples/demo.sh sharded   a sharded cluster instead: a shard master and two data
#                                      nodes, frozen and thawed together with --sharded
set -eu
mode=${1:-}
case $mode in "" | sharded) ;; *) echo "usage: sh examples/demo.sh [sharded]" >&2; exit 1 ;; esac
cd "$(dirname "$0")/.."
echo "demo: building iris-freeze and the IRIS simulator (the first build takes a minute or two)..." >&2
cargo build --bin iris-freeze --example iris-sim
echo "demo: built" >&2
target=$(cargo metadata --format-version 1 --no-deps | sed 's/.*"target_directory":"\([^"]*\)".*/\1/')
bin="$target/debug/iris-freeze"
sim="$target/debug/examples/iris-sim"

demo=$(mktemp -d)
trap 'rm -rf "$demo"' EXIT
mkdir "$demo/bin" "$demo/sim"
for p in iris csession ccontrol; do ln -s "$sim" "$demo/bin/$p"; done
export PATH="$demo/bin:$PATH" IRIS_SIM_DIR="$demo/sim"
export IRIS_FREEZE_STATE_DIR="$demo/state" IRIS_FREEZE_LOG_FILE="$demo/iris-freeze.log"
# The demo's cycles stay out of this host's history and journal, and this host's
# /etc/iris-freeze.toml stays out of the demo (the root holds no config file).
export IRIS_FREEZE_HISTORY_FILE="$demo/history.jsonl" IRIS_FREEZE_JOURNAL=0
export IRIS_FREEZE_ROOT="$demo/root"
step() { printf '\n$ %s\n' "$*"; "$@" || printf '(exit %s)\n' "$?"; }

if [ "$mode" = sharded ]; then
    # The simulator's cluster: MASTER is the shard master of namespace IRISCLUSTER, with the
    # data nodes NODE1 and NODE2 (on a real cluster they are other VMs).
    "$sim" add MASTER product=IRIS shard_namespace=IRISCLUSTER shard_nodes=NODE1,NODE2
    "$sim" add NODE1 product=IRIS
    "$sim" add NODE2 product=IRIS
    step "$bin" freeze --instance MASTER --sharded IRISCLUSTER
    step "$bin" status
    step "$sim" state NODE2
    step "$bin" thaw
    step "$sim" state NODE2
    step "$bin" history
    exit 0
fi
"$sim" add IRIS product=IRIS
"$sim" add CACHE

step "$bin" freeze
step "$bin" status
step "$bin" thaw
step "$bin" status
# A snapshot command between freeze and thaw; it sees what is frozen. (Shown with its quotes,
# which step's "$*" would drop.)
cmd='echo "CMD: cycle $IRIS_FREEZE_ID, frozen: $IRIS_FREEZE_INSTANCES"'
printf "\n\$ %s run -- sh -c '%s'\n" "$bin" "$cmd"
"$bin" run -- sh -c "$cmd" || printf '(exit %s)\n' "$?"
step "$bin" history
printf '\n--- the log (%s)\n' "$IRIS_FREEZE_LOG_FILE"
cat "$IRIS_FREEZE_LOG_FILE"
