# tests/cluster/cluster_lib.sh — sourced by the cluster tests: a five-node cluster of real
# cairnd processes run by scripts/cluster, on free high ports of 127.0.0.1 chosen from
# the test's PID (so tests never collide with each other or with a cluster on 9601-9605),
# in a temporary directory; an EXIT trap stops every node, fails the test if a node's log
# holds a sanitizer report, and removes the directory, whether the test passed, failed or
# was interrupted.
#
#   cluster_setup BUILD_DIR   choose ports and a directory, export them for scripts/cluster
#   cluster NODE...           runs scripts/cluster with those settings
#   sql N TEXT...             runs cairn -c TEXT against node N (stdout and stderr)
#   sql_port N                node N's SQL port; raft_port N its Raft port
#   leader                    the id of the current leader (waits up to 15 s)
#   wait_up N                 waits (up to 10 s) until node N answers on its SQL port
#   check NAME CONDITION...   runs CONDITION; reports ok/FAIL and counts failures
#   finish                    exits 1 if any check failed, else 0
# A test may define test_cleanup, which the EXIT trap runs first.
# Every wait is bounded; a test's total time stays within seconds.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
failures=0

# True when something listens on 127.0.0.1:$1.
port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

cluster_setup() {
    local build
    build=$(cd "$1" && pwd) || { echo "no build directory $1"; exit 1; }
    export CAIRN_BUILD=$build
    export CAIRN_CLUSTER
    CAIRN_CLUSTER=$(mktemp -d /tmp/cairn-cluster-test.XXXXXX)
    trap cluster_cleanup EXIT
    trap 'exit 1' INT TERM
    local attempt base p busy
    # 20000-32767: below Linux's ephemeral range (32768 and up), where any outgoing
    # connection (another cluster's Raft dialers) may hold a port the check cannot see
    for attempt in $(seq 0 49); do
        base=$((20000 + (($$ * 10 + attempt * 1000) % 12700)))
        busy=0
        for p in $(seq $((base + 1)) $((base + 10))); do
            port_busy "$p" && busy=1 && break
        done
        [ $busy -eq 0 ] && break
    done
    [ $busy -eq 0 ] || { echo "no free ports found"; exit 1; }
    export CAIRN_SQL_BASE=$base CAIRN_RAFT_BASE=$((base + 5))
    echo "cluster in $CAIRN_CLUSTER, SQL ports $((base + 1))-$((base + 5)), Raft $((base + 6))-$((base + 10))"
}

cluster_cleanup() {
    if declare -F test_cleanup >/dev/null; then test_cleanup; fi
    "$repo/scripts/cluster" stop >/dev/null 2>&1
    # a node that stopped with a sanitizer report (ASan/UBSan builds) fails the test
    if grep -lE 'Sanitizer|runtime error' "$CAIRN_CLUSTER"/n*.log 2>/dev/null; then
        echo "FAIL a node reported a sanitizer error"
        failures=$((failures + 1))
    fi
    if [ $failures -ne 0 ] || [ "${CAIRN_KEEP_LOGS:-}" ]; then
        for log in "$CAIRN_CLUSTER"/n*.log; do
            [ -f "$log" ] && { echo "--- $log (last 15 lines)"; tail -15 "$log"; }
        done
    fi
    rm -rf "$CAIRN_CLUSTER"
    [ $failures -eq 0 ] || exit 1
}

cluster() {
    "$repo/scripts/cluster" "$@"
}

sql_port() {
    echo $((CAIRN_SQL_BASE + $1))
}

raft_port() {
    echo $((CAIRN_RAFT_BASE + $1))
}

sql() {
    local n=$1
    shift
    timeout 30 "$CAIRN_BUILD/cairn" -p "$(sql_port "$n")" -c "$*" 2>&1
}

leader() {
    local i out
    for _ in $(seq 1 75); do
        for i in 1 2 3 4 5; do
            out=$(timeout 5 "$CAIRN_BUILD/cairn" -p "$(sql_port "$i")" -c '!status' 2>/dev/null)
            if [[ $out =~ ^node\ ([0-9]+):\ leader ]]; then
                echo "${BASH_REMATCH[1]}"
                return 0
            fi
        done
        sleep 0.2
    done
    return 1
}

wait_up() {
    for _ in $(seq 1 50); do
        timeout 5 "$CAIRN_BUILD/cairn" -p "$(sql_port "$1")" -c '!status' >/dev/null 2>&1 &&
            return 0
        sleep 0.2
    done
    echo "node $1 does not answer"
    return 1
}

check() {
    local name=$1
    shift
    if "$@"; then
        echo "ok   $name"
    else
        echo "FAIL $name"
        failures=$((failures + 1))
    fi
}

finish() {
    [ $failures -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
    exit 0
}
