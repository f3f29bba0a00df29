#!/usr/bin/env bash
# test_cluster_failover.sh BUILD_DIR — five real cairnd processes: write through one node,
# read through another, kill -9 the leader, keep writing through the survivors, restart
# it; then every acknowledged row is present, and all five nodes return the same rows.
set -u
source "$(dirname "$0")/cluster_lib.sh"
cluster_setup "$1"

cluster start >/dev/null || { echo "FAIL the cluster did not start"; exit 1; }
acked=() # ids whose INSERT was acknowledged

# insert NODE ID: one row through NODE; records the id when acknowledged.
insert() {
    local out
    out=$(sql "$1" "INSERT INTO acked VALUES ($2, 'row $2')")
    [ "$out" = "Inserted 1 row" ] && acked+=("$2")
}

created() {
    [ "$(sql 1 'CREATE TABLE acked (id INTEGER PRIMARY KEY, v VARCHAR NOT NULL)')" = "Created table" ]
}
check "create a table through node 1" created
for id in $(seq 1 10); do insert 1 "$id"; done
check "ten writes through node 1 acknowledged" [ ${#acked[@]} -eq 10 ]
check "node 3 reads them" [ "$(sql 3 'SELECT COUNT(*) FROM acked')" = 10 ]

old=$(leader) || { echo "FAIL no leader"; exit 1; }
cluster kill-node "$old" >/dev/null
echo "killed the leader, node $old, with SIGKILL"
survivors=()
for i in 1 2 3 4 5; do [ "$i" != "$old" ] && survivors+=("$i"); done
before=${#acked[@]}
for id in $(seq 11 30); do insert "${survivors[$((id % 4))]}" "$id"; done
new=$(leader)
check "a new leader was elected (node ${new:-none})" [ -n "$new" -a "$new" != "$old" ]
check "writes through the survivors acknowledged ($((${#acked[@]} - before)) of 20)" \
    [ $((${#acked[@]} - before)) -ge 15 ]

# present NODE: every acknowledged row is in what NODE returns (waits for it to catch up).
present() {
    local expected rows missing
    expected=$(for id in "${acked[@]}"; do echo "$id|row $id"; done | sort -n)
    for _ in $(seq 1 50); do
        rows=$(sql "$1" "SELECT id, v FROM acked ORDER BY id")
        missing=$(comm -23 <(echo "$expected" | sort) <(echo "$rows" | sort))
        [ -z "$missing" ] && return 0
        sleep 0.2
    done
    echo "node $1 misses: $(echo "$missing" | head -5 | tr '\n' ' ')"
    echo "its last answer ends: $(echo "$rows" | tail -3 | tr '\n' ' ')"
    return 1
}
cluster start-node "$old" >/dev/null
check "the old leader restarts" wait_up "$old"
check "it catches up with no new write" present "$old"
for id in $(seq 31 35); do insert "$old" "$id"; done

for i in 1 2 3 4 5; do check "node $i has every acknowledged row" present "$i"; done
reference=$(sql 1 "SELECT id, v FROM acked ORDER BY id")
for i in 2 3 4 5; do
    check "node $i returns the same rows as node 1" \
        [ "$(sql "$i" "SELECT id, v FROM acked ORDER BY id")" = "$reference" ]
done
check "the restarted node took writes (${#acked[@]} rows acknowledged in all)" \
    [ "$(printf '%s\n' "${acked[@]}" | grep -c '^3[1-5]$')" -ge 4 ]
finish
