#!/usr/bin/env bash
# test_cluster_nemesis.sh BUILD_DIR CLIENT — five real cairnd processes (fsync on) take
# transfers and ledger inserts from eight clients (CLIENT, test_cluster_nemesis.c) while
# this script, for CAIRN_NEMESIS_SECONDS (20), kills nodes with SIGKILL (a random one or
# the leader, at most two down at a time; now and then all five at once), pauses one with
# SIGSTOP for up to 1.5 s, and restarts the dead. Then every node is brought back, and
# CLIENT checks that all five hold the same rows and that those rows agree with every
# answer a client was given.
# The nemesis's choices follow CAIRN_NEMESIS_SEED (default: this process's PID; printed).
set -u
source "$(dirname "$0")/cluster_lib.sh"
cluster_setup "$1"
client=$2
run_s=${CAIRN_NEMESIS_SECONDS:-20}
seed=${CAIRN_NEMESIS_SEED:-$$}
RANDOM=$seed
echo "nemesis seed $seed (CAIRN_NEMESIS_SEED repeats its choices), $run_s s"

cluster start >/dev/null || { echo "FAIL the cluster did not start"; exit 1; }
check "the tables are created" "$client" setup "$CAIRN_SQL_BASE"

node_pid() {
    cat "$CAIRN_CLUSTER/n$1.pid" 2>/dev/null
}

# A paused node is resumed whatever happens, so that stopping the cluster never waits on it.
paused=""
test_cleanup() {
    [ -n "$paused" ] && kill -CONT "$(node_pid "$paused")" 2>/dev/null
    [ -n "${client_pid:-}" ] && kill "$client_pid" 2>/dev/null
    return 0
}

# The current leader by one quick round of status requests, or nothing.
quick_leader() {
    local i out
    for i in 1 2 3 4 5; do
        out=$(timeout 1 "$CAIRN_BUILD/cairn" -p "$(sql_port "$i")" -c '!status' 2>/dev/null)
        [[ $out =~ ^node\ ([0-9]+):\ leader ]] && { echo "${BASH_REMATCH[1]}"; return 0; }
    done
    return 1
}

down=() # nodes killed and not yet restarted
is_down() {
    local d
    for d in "${down[@]}"; do [ "$d" = "$1" ] && return 0; done
    return 1
}
kill_node() {
    is_down "$1" && return
    cluster kill-node "$1" >/dev/null
    down+=("$1")
    echo "t=$SECONDS s: killed node $1$2"
}
restart_down() {
    local d
    for d in "${down[@]}"; do cluster start-node "$d" >/dev/null; done
    [ ${#down[@]} -gt 0 ] && echo "t=$SECONDS s: restarted node(s) ${down[*]}"
    down=()
}

"$client" run "$CAIRN_SQL_BASE" "$run_s" "$CAIRN_CLUSTER/outcomes" >"$CAIRN_CLUSTER/run.out" 2>&1 &
client_pid=$!
start=$SECONDS
while [ $((SECONDS - start)) -lt $((run_s - 2)) ]; do
    case $((RANDOM % 9 / 2)) in # actions 0-3 twice as often as 4
    0) [ ${#down[@]} -lt 2 ] && kill_node $((RANDOM % 5 + 1)) "" ;;
    1) [ ${#down[@]} -lt 2 ] && l=$(quick_leader) && kill_node "$l" " (the leader)" ;;
    2)
        n=$((RANDOM % 5 + 1))
        if ! is_down "$n"; then
            paused=$n
            kill -STOP "$(node_pid "$n")"
            ms=$((500 + RANDOM % 1000))
            echo "t=$SECONDS s: paused node $n for $ms ms"
            sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
            kill -CONT "$(node_pid "$n")"
            paused=""
        fi
        ;;
    3) restart_down ;;
    4) # the whole cluster at once, then back: recovery from the five logs alone
        for i in 1 2 3 4 5; do kill_node "$i" ""; done
        restart_down
        ;;
    esac
    sleep "0.$((RANDOM % 9 + 1))"
done
restart_down
wait "$client_pid"
status=$?
client_pid=""
cat "$CAIRN_CLUSTER/run.out"
check "the clients saw no impossible answer" [ $status -eq 0 ]
acked=$(grep -c ' a$' "$CAIRN_CLUSTER/outcomes" 2>/dev/null)
check "operations were acknowledged under the nemesis (${acked:-0})" [ "${acked:-0}" -ge 100 ]
for i in 1 2 3 4 5; do check "node $i is up again" wait_up "$i"; done
check "every node agrees with the clients' answers and with the others" \
    "$client" check "$CAIRN_SQL_BASE" "$CAIRN_CLUSTER/outcomes"

# The check itself can fail: told that an acknowledged operation failed, it must object.
rejects() {
    ! "$client" check "$CAIRN_SQL_BASE" "$1" >/dev/null 2>&1
}
sed '0,/ a$/s/ a$/ f/' "$CAIRN_CLUSTER/outcomes" >"$CAIRN_CLUSTER/outcomes.doctored"
check "the check objects to an acknowledged row recorded as failed" \
    rejects "$CAIRN_CLUSTER/outcomes.doctored"
finish
