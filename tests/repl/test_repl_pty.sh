#!/usr/bin/env bash
# test_repl_pty.sh CAIRN — the interactive REPL in a pseudo-terminal (through util-linux
# `script`): readline prompts, the transaction prompt, the continuation prompt, Ctrl-C,
# and the history file. Skipped (77) where `script` is missing.
set -u
cairn=$1
command -v script >/dev/null 2>&1 || { echo "skipped: no 'script' program for a pty"; exit 77; }
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
failures=0

has() { # NAME PATTERN: the transcript must match the extended regular expression PATTERN
    if grep -qE -- "$2" "$home/out"; then
        echo "ok   $1"
    else
        echo "FAIL $1: '$2' not in the transcript"
        failures=$((failures + 1))
    fi
}

# Each line waits a little so readline sees it at a prompt, as if typed. `script` runs the
# command through $SHELL or /bin/sh; exec leaves no shell in the terminal's process group
# for Ctrl-C to kill (dash, unlike bash, dies of it while it waits).
{
    for line in "CREATE TABLE t (id INTEGER PRIMARY KEY);" "BEGIN;" "INSERT INTO t" \
                "VALUES (7);" "SELECT id * 6 FROM t;" "COMMIT;" "SELECT 100 +" "^C" \
                "SELECT 9 half typed^C" "SELECT 99;" "!quit"; do
        sleep 0.2
        case $line in
        *^C) printf '%s\003' "${line%^C}" ;; # Ctrl-C: SIGINT from the terminal
        *) printf '%s\n' "$line" ;;
        esac
    done
} | HOME=$home TERM=dumb timeout 20 script -qec "exec '$cairn' --local :memory:" /dev/null \
    | tr -d '\r' >"$home/out"
status=${PIPESTATUS[1]}

if [ "$status" -ne 0 ]; then
    echo "FAIL cairn in a pty exited with $status"
    failures=$((failures + 1))
fi
has "the prompt" "^cairn> CREATE TABLE"
has "the transaction prompt" "^cairn:[0-9]+> INSERT INTO t"
has "the continuation prompt" "^ +\.\.\.> VALUES"
has "query output" "^42$"
has "the commit message" "^Committed transaction at version [0-9]+$"
# Ctrl-C forgets the unfinished statement and the line being typed, and cairn goes on
has "Ctrl-C gives a fresh prompt" "^cairn> SELECT 99;"
has "what Ctrl-C dropped did not run" "^99$"
if grep -q '^INSERT INTO t VALUES (7);$' "$home/.cairn_history" 2>/dev/null; then
    echo "ok   a multi-line statement is one history entry"
else
    echo "FAIL history: $(cat "$home/.cairn_history" 2>/dev/null | head -20)"
    failures=$((failures + 1))
fi
if [ $failures -ne 0 ]; then
    echo "transcript:"
    sed 's/^/    /' "$home/out"
    exit 1
fi
