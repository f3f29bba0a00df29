#!/usr/bin/env bash
# test_cluster_garbage.sh BUILD_DIR GARBAGE_TEST — starts a five-node cluster and runs the
# Check suite test_cluster_garbage.c against node 1's SQL and Raft ports; then the whole
# cluster must still be up (no node died of what it was sent).
set -u
source "$(dirname "$0")/cluster_lib.sh"
cluster_setup "$1"
cluster start >/dev/null || { echo "FAIL the cluster did not start"; exit 1; }
check "garbage on both ports: errors or closed connections, and node 1 keeps serving" \
    env CK_FORK=no CAIRN_TEST_SQL_PORT="$(sql_port 1)" CAIRN_TEST_RAFT_PORT="$(raft_port 1)" "$2"
status=$(cluster status)
check "every node is still up" [ "$(grep -c ' up ' <<<"$status")" -eq 5 ]
check "the cluster has a leader" grep -q '^leader: node' <<<"$status"
finish
