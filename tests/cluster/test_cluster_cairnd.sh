#!/usr/bin/env bash
# test_cluster_cairnd.sh BUILD_DIR EXECUTE_TEST — cairnd as a program: bad configuration is
# one line on stderr and exit status 2; a port already in use, or a data directory it
# cannot open or another node's data directory, is exit status 1 (the message naming the
# node once); the SQL port answers
# each kind of request as net/node_server.h says (the Check suite EXECUTE_TEST,
# test_cluster_execute.c); SIGTERM closes the node and exits 0, and a restart over the
# same directory has every acknowledged row; with fsync off the same holds across a clean
# restart. One-node clusters on free ports.
set -u
source "$(dirname "$0")/cluster_lib.sh"
cluster_setup "$1"
cairnd=$CAIRN_BUILD/cairnd
dir=$CAIRN_CLUSTER
sql=$(sql_port 1)
raft=$(raft_port 1)
pid=""
test_cleanup() {
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
}

# config_error NAME ARGS...: cairnd refuses ARGS with one line on stderr and status 2.
config_error() {
    local name=$1 err status
    shift
    err=$(timeout 10 "$cairnd" "$@" 2>&1 >/dev/null)
    status=$?
    if [ $status -ne 2 ] || [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ]; then
        echo "    $name: status $status, stderr: $err"
        return 1
    fi
    echo "    $name: $err"
}
check "no node id" config_error "no id" --data-dir "$dir/x"
check "a bad node id" config_error "bad id" --id x
check "a bad address" config_error "bad address" --id 1 --sql-listen 127.0.0.1:99999
check "a bad fsync value" config_error "bad fsync" --id 1 --fsync maybe
check "a bad pacing value" config_error "bad pacing" --id 1 --pacing sometimes
check "a missing config file" config_error "missing file" --config "$dir/nowhere.conf"
check "an unknown flag" config_error "unknown flag" --id 1 --colour blue

# start FSYNC [FLAGS...]: one node in the background; waits until it serves SQL.
start() {
    local fsync=$1
    shift
    "$cairnd" --id 1 --sql-listen "$sql" --raft-listen "$raft" --data-dir "$dir/n1" \
        --fsync "$fsync" "$@" >>"$dir/n1.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 50); do
        timeout 5 "$CAIRN_BUILD/cairn" -p "$sql" -c 'SELECT 1' >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}

# stop: SIGTERM, then the exit status must be 0 (within 10 s).
stop() {
    kill -TERM "$pid"
    local status
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    wait "$pid"
    status=$?
    pid=""
    [ $status -eq 0 ] || { echo "    exit status $status"; return 1; }
}

q() {
    timeout 30 "$CAIRN_BUILD/cairn" -p "$sql" -c "$1" 2>&1
}

check "a one-node cluster serves SQL" start on
check "it takes writes" [ "$(q 'CREATE TABLE t (id INTEGER PRIMARY KEY)')" = "Created table" ]
check "it takes more writes" [ "$(q 'INSERT INTO t VALUES (1), (2), (3)')" = "Inserted 3 rows" ]
check "the SQL port answers each request as documented" \
    env CK_FORK=no CAIRN_TEST_SQL_PORT="$sql" "$2"
busy=$(timeout 10 "$cairnd" --id 1 --sql-listen "$sql" --raft-listen "$((raft + 100))" \
    --data-dir "$dir/other" 2>&1)
check "a second node on the same SQL port exits 1" [ $? -eq 1 ]
printf "%s\n" "$busy" | sed "s/^/    /"
check "and leaves no sanitizer report" [ -z "$(grep -E "Sanitizer|runtime error" <<<"$busy")" ]
mkdir -p "$dir/garbage"
head -c 20000 /dev/urandom >"$dir/garbage/state.db"
garbage=$(timeout 10 "$cairnd" --id 1 --sql-listen "127.0.0.1:0" --raft-listen "127.0.0.1:0" \
    --data-dir "$dir/garbage" 2>&1)
check "a state machine file of garbage exits 1" [ $? -eq 1 ]
printf "%s\n" "$garbage" | sed "s/^/    /"
check "and the message names the node once" \
    [ "$(grep -o "node 1:" <<<"$garbage" | wc -l)" -eq 1 ]
check "SIGTERM: exit status 0" stop
check "it says it closed the node" grep -q 'closing the node' "$dir/n1.log"
stranger=$(timeout 10 "$cairnd" --id 2 --sql-listen "127.0.0.1:0" --raft-listen "127.0.0.1:0" \
    --data-dir "$dir/n1" 2>&1)
check "node 1's data directory refuses node 2: exit 1" [ $? -eq 1 ]
printf "%s\n" "$stranger" | sed "s/^/    /"
check "and says whose it is" grep -q "saved by node 1, and this is node 2" <<<"$stranger"
check "a restart over the same directory" start on
check "has every acknowledged row" [ "$(q 'SELECT COUNT(*) FROM t')" = 3 ]
check "SIGTERM again" stop
check "fsync off: starts" start off
check "fsync off: writes" [ "$(q 'INSERT INTO t VALUES (4)')" = "Inserted 1 row" ]
check "fsync off: SIGTERM" stop
check "fsync off: a clean restart keeps the row" start off
check "fsync off: reads it" [ "$(q 'SELECT COUNT(*) FROM t')" = 4 ]
check "fsync off: SIGTERM once more" stop
check "pacing off: starts" start on --pacing off
check "pacing off: says so" grep -q 'pacing off' "$dir/n1.log"
check "pacing off: writes" [ "$(q 'INSERT INTO t VALUES (5), (6)')" = "Inserted 2 rows" ]
check "pacing off: SIGTERM" stop
finish
