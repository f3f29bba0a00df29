#!/usr/bin/env bash
# test_cluster_repl.sh BUILD_DIR — the cairn REPL against a five-node cluster: the README's
# transcript through stdin (verbatim, no semicolons), the meta-commands, a connection lost
# and re-established when its node restarts, and an interactive session in a terminal
# (tmux; skipped when tmux is missing).
set -u
source "$(dirname "$0")/cluster_lib.sh"
cluster_setup "$1"
cluster start >/dev/null || { echo "FAIL the cluster did not start"; exit 1; }
cairn=$CAIRN_BUILD/cairn
port=$(sql_port 5)

# same NAME WANT GOT: the texts must be equal.
same() {
    [ "$2" = "$3" ] && return 0
    diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | sed 's/^/    /'
    return 1
}

transcript="CREATE TABLE movie (id INTEGER PRIMARY KEY, title VARCHAR NOT NULL)
INSERT INTO movie VALUES (1, 'Sicario'), (2, 'Stalker'), (3, 'Her')
SELECT * FROM movie"
got=$(printf '%s\n' "$transcript" | timeout 60 "$cairn" -p "$port" 2>&1)
check "the transcript through stdin" same transcript "Created table
Inserted 3 rows
1|Sicario
2|Stalker
3|Her" "$got"
check "node 1 reads what node 5 wrote" same read "3" "$(sql 1 'SELECT COUNT(*) FROM movie')"

check "-H HOST:PORT names a node" same read "3" \
    "$(timeout 60 "$cairn" -H "127.0.0.1:$port" -c 'SELECT COUNT(*) FROM movie' 2>&1)"

got=$(printf '!status\n!tables\n!table movie\n!help\n' | timeout 60 "$cairn" -p "$port" 2>&1)
check "!status names the node, term and leader" grep -qE '^node 5: [a-z-]+, term [0-9]+, leader [1-5]$' <<<"$got"
check "!status shows commit and applied index and transactions" \
    grep -qE '^  commit index [0-9]+, applied index [0-9]+, active transactions 0$' <<<"$got"
check "!status shows match indexes" grep -q '^  match index:' <<<"$got"
check "!status shows storage statistics" grep -qE '^  storage: kv_keys=[0-9]+' <<<"$got"
check "!tables" grep -qx 'movie' <<<"$got"
check "!table movie" grep -q '^CREATE TABLE movie' <<<"$got"
check "!help lists !status" grep -q '!status' <<<"$got"

# The node behind the REPL stops and comes back while the REPL runs.
got=$({
    echo "SELECT COUNT(*) FROM movie"
    sleep 0.5
    cluster stop-node 5 >/dev/null
    echo "SELECT COUNT(*) FROM movie"
    sleep 0.5
    cluster start-node 5 >/dev/null
    sleep 1
    echo "SELECT title FROM movie WHERE id = 2"
} | timeout 60 "$cairn" -p "$port" 2>&1)
check "a lost connection is reported" grep -qE '^Error: (connection to 127.0.0.1:[0-9]+ lost|no cairn node answers)' <<<"$got"
check "the REPL reconnects with the next statement" grep -qx 'Stalker' <<<"$got"
echo "$got" | sed 's/^/    /'

# The node restarts while the REPL waits for input: the next statement reconnects and
# runs (it used to fail, reported as lost), unless a transaction was open, which is gone.
got=$({
    echo "SELECT COUNT(*) FROM movie"
    sleep 0.5
    cluster stop-node 5 >/dev/null
    cluster start-node 5 >/dev/null
    sleep 1
    echo "SELECT title FROM movie WHERE id = 3"
    echo "BEGIN"
    sleep 0.5
    cluster stop-node 5 >/dev/null
    cluster start-node 5 >/dev/null
    sleep 1
    echo "SELECT title FROM movie WHERE id = 1"
    echo "SELECT title FROM movie WHERE id = 1"
} | timeout 60 "$cairn" -p "$port" 2>&1)
check "a restart between statements goes unnoticed" same restart "3
Her
Began transaction at version $(grep -oE 'version [0-9]+' <<<"$got" | head -1 | cut -d' ' -f2)
Error: the node closed the connection: the open transaction is gone (rolled back); cairn reconnects with the next statement
Sicario" "$got"

# A second cluster on the same ports is refused at once, naming the ports (it once started
# nodes that could not listen and took the first cluster's answers for its own leader).
second=$CAIRN_CLUSTER/second
start=$SECONDS
got=$(CAIRN_CLUSTER=$second timeout 60 "$repo/scripts/cluster" start 2>&1)
status=$?
check "a cluster on ports in use fails" test $status -ne 0
check "... within seconds" test $((SECONDS - start)) -lt 10
check "... naming a port in use" grep -q "node 1 not started: port $(sql_port 1) is in use" <<<"$got"
check "... and starting no node" test -z "$(ls "$second"/n*.pid 2>/dev/null)"
echo "$got" | sed 's/^/    /'

# An interactive session in a terminal.
if ! command -v tmux >/dev/null 2>&1; then
    echo "skipped the terminal session: no tmux"
    finish
fi
home=$CAIRN_CLUSTER/home
mkdir -p "$home"
socket=cairn-test-$$
test_cleanup() {
    tmux -L "$socket" kill-server 2>/dev/null
}
tmux -L "$socket" new-session -d -s repl -x 160 -y 50 \
    "env HOME=$home TERM=xterm $cairn -p $port; sleep 30"
# screen_has PATTERN: waits (up to 10 s) until the terminal shows a line matching PATTERN.
screen_has() {
    for _ in $(seq 1 50); do
        tmux -L "$socket" capture-pane -p -t repl | grep -qE -- "$1" && return 0
        sleep 0.2
    done
    tmux -L "$socket" capture-pane -p -t repl | sed 's/^/    /'
    return 1
}
type_line() {
    tmux -L "$socket" send-keys -t repl -l "$1"
    tmux -L "$socket" send-keys -t repl Enter
}
check "the greeting" screen_has '^Connected to node 5 \(version [0-9.]+\)\. Enter !help for instructions\.$'
type_line "INSERT INTO movie VALUES (4, 'Arrival')"
check "a statement typed at the prompt" screen_has '^Inserted 1 row$'
type_line "SELECT * FROM movie WHERE id > 2"
check "its rows" screen_has '^4\|Arrival$'
type_line "BEGIN"
check "the transaction prompt" screen_has '^cairn:[0-9]+>'
type_line "ROLLBACK"
type_line "!status"
check "!status in the terminal" screen_has '^  commit index [0-9]+'
type_line "!quit"
check "!quit leaves" screen_has '^cairn> !quit$'
check "the history file" grep -q "SELECT \* FROM movie WHERE id > 2" "$home/.cairn_history"
finish
