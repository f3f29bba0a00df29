#!/usr/bin/env bash
# test_cluster_identity.sh BUILD_DIR — a node started on another cluster's data directory:
# node 2's directory is replaced by that of a one-node cluster (also a node 2, with a table
# of its own). The other four refuse it and it refuses them ("of another cluster"), so it
# never joins in and the four keep serving every acknowledged row; given an empty directory
# instead, node 2 joins and catches up.
set -u
source "$(dirname "$0")/cluster_lib.sh"
cluster_setup "$1"
dir=$CAIRN_CLUSTER
pid=""
test_cleanup() {
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
}

cluster start >/dev/null || { echo "FAIL the cluster did not start"; exit 1; }
check "create a table" [ "$(sql 1 'CREATE TABLE kept (id INTEGER PRIMARY KEY)')" = "Created table" ]
check "write to it" [ "$(sql 3 'INSERT INTO kept VALUES (1), (2), (3)')" = "Inserted 3 rows" ]
cluster kill-node 2 >/dev/null

# Another cluster: node 2 alone, on node 2's ports, with a table of its own.
"$CAIRN_BUILD/cairnd" --id 2 --peers "2=127.0.0.1:$(raft_port 2)" --sql-listen "$(sql_port 2)" \
    --raft-listen "$(raft_port 2)" --data-dir "$dir/elsewhere" >"$dir/elsewhere.log" 2>&1 &
pid=$!
check "the one-node cluster starts" wait_up 2
check "and takes a write" [ "$(sql 2 'CREATE TABLE foreign_table (x INTEGER PRIMARY KEY)')" = "Created table" ]
kill -TERM "$pid"
wait "$pid"
pid=""

rm -rf "${dir:?}/n2"
mv "$dir/elsewhere" "$dir/n2"
before=$(wc -l <"$dir/n2.log") # the log of node 2's first run
cluster start-node 2 >/dev/null

# refused NODE: NODE's log says it refused a peer of another cluster (within 10 s)
refused() {
    for _ in $(seq 1 50); do
        grep -q "of another cluster" "$dir/n$1.log" && return 0
        sleep 0.2
    done
    return 1
}
check "node 1 refuses node 2" refused 1
check "node 2 refuses the others" refused 2
check "the four write on" [ "$(sql 4 'INSERT INTO kept VALUES (4)')" = "Inserted 1 row" ]
check "and read every row" [ "$(sql 5 'SELECT COUNT(*) FROM kept')" = 4 ]
check "the table from elsewhere is not theirs" \
    grep -q "no such table: foreign_table" <<<"$(sql 1 'SELECT * FROM foreign_table')"
# accepted_none: node 2's log since the restart shows no peer's connection accepted
accepted_none() {
    ! tail -n "+$((before + 1))" "$dir/n2.log" | grep 'transport: peer [0-9] connected'
}
check "node 2 accepted no peer" accepted_none
check "and redials them ever more slowly" [ "$(grep -c "of another cluster" "$dir/n1.log")" -lt 10 ]

cluster kill-node 2 >/dev/null
rm -rf "${dir:?}/n2"
cluster start-node 2 >/dev/null
caught_up() {
    for _ in $(seq 1 50); do
        [ "$(sql 2 'SELECT COUNT(*) FROM kept' 2>/dev/null)" = 4 ] && return 0
        sleep 0.2
    done
    return 1
}
check "node 2 on an empty directory joins and catches up" caught_up
finish
