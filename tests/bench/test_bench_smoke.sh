#!/usr/bin/env bash
# test_bench_smoke.sh BUILD_DIR — cairn-bench against a real five-node cluster on free high
# ports (tests/cluster/cluster_lib.sh): short read, write and bank runs finish, report
# their result lines, and bank's invariants hold; the log-sync probe reports and cleans
# up after itself; bad options are usage errors (exit 2)
# and an unreachable node is a clean failure (exit 1). Checks outcomes, never timings.
set -u
source "$(dirname "$0")/../cluster/cluster_lib.sh"
cluster_setup "$1"
bench=$CAIRN_BUILD/cairn-bench

cluster start >/dev/null || { echo "FAIL the cluster did not start"; exit 1; }
hosts=$(seq -s, -f "127.0.0.1:%.0f" $((CAIRN_SQL_BASE + 1)) $((CAIRN_SQL_BASE + 5)))

# run WORKLOAD TXNS: runs the workload with 4 clients; prints its stdout.
run() {
    timeout 120 "$bench" "$1" -H "$hosts" -c 4 -n "$2" 2>/dev/null
}

# reports WORKLOAD TXNS OUTPUT: the result line names the workload and every transaction.
reports() {
    grep -qE "^result workload=$1 clients=4 txns=$2 seconds=[0-9.]+ tps=[0-9.]+ p50_ms=[0-9.]+ p90_ms=[0-9.]+ p99_ms=[0-9.]+ max_ms=[0-9.]+ retries=[0-9]+$" <<<"$3"
}

out=$(run read 200)
echo "$out" | sed 's/^/    /'
check "read: 200 lookups reported" reports read 200 "$out"
out=$(run write 100)
echo "$out" | sed 's/^/    /'
check "write: 100 inserts reported" reports write 100 "$out"
check "write: every row is there" [ "$(sql 2 'SELECT COUNT(*) FROM write')" = 100 ]
out=$(run bank 100)
echo "$out" | sed 's/^/    /'
check "bank: 100 transfers reported" reports bank 100 "$out"
check "bank: the total is unchanged and no balance is negative" \
    grep -q '^bank check: total 100000 (expected 100000), 1000 accounts, 0 negative balances$' <<<"$out"

# The log-sync probe writes its file in the given directory, reports, and removes it.
probe_dir=$CAIRN_CLUSTER/probe
mkdir -p "$probe_dir"
out=$("$bench" sync --dir "$probe_dir" -n 50 2>&1)
echo "$out" | sed 's/^/    /'
check "sync: 50 syncs reported" grep -qE "^result workload=sync syncs=50 seconds=[0-9.]+ syncs_per_s=[0-9.]+ p50_us=[0-9]+ p90_us=[0-9]+ p99_us=[0-9]+ max_us=[0-9]+ cpu_us=-?[0-9.]+ route=(aio|fallback)$" <<<"$out"
check "sync: the probe's file is gone" [ -z "$(ls -A "$probe_dir")" ]
no_dir() {
    "$bench" sync --dir "$probe_dir/missing" -n 5 >/dev/null 2>&1
    [ $? -eq 1 ]
}
check "sync: a missing directory fails with exit status 1" no_dir
echo keep >"$probe_dir/cairn-bench-sync.dat"
taken() {
    "$bench" sync --dir "$probe_dir" -n 5 >/dev/null 2>&1
    [ $? -eq 1 ] && [ "$(cat "$probe_dir/cairn-bench-sync.dat")" = keep ]
}
check "sync: a file of that name already there is refused and kept" taken

usage() {
    "$bench" "$@" >/dev/null 2>&1
    [ $? -eq 2 ]
}
check "sync: zero syncs is a usage error" usage sync -n 0
check "sync: an unknown option is a usage error" usage sync --fast
check "an unknown workload is a usage error" usage nosuch
check "zero clients is a usage error" usage read -c 0
check "a bad transaction count is a usage error" usage write -n -5
check "a transaction count with a suffix is a usage error" usage write -n 5k
check "a storage key count that is not a number is a usage error" usage storage --keys abc
check "an oversized storage cache is a usage error" usage storage --cache-mb 99999999999999999999
unreachable() {
    "$bench" read -H "127.0.0.1:$(sql_port 5)" -n 5 >/dev/null 2>&1
    [ $? -eq 1 ]
}
cluster stop-node 5 >/dev/null
check "an unreachable node fails with exit status 1" unreachable
finish
