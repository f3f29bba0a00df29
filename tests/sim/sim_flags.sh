#!/usr/bin/env bash
# cairn-sim's numeric flags take whole numbers only: anything else, or a value out of its
# range, is a usage error (exit status 2) that names the option and what it expects, never
# a wrapped number; an option nobody knows is named as unknown.
# usage: sim_flags.sh CAIRN_SIM
set -u
sim=$1
failures=0
# refused COMMAND OPTION VALUE: cairn-sim exits 2, names the option and what it expects.
refused() {
    local out
    out=$("$sim" "$@" 2>&1 >/dev/null)
    local status=$?
    if [ $status -ne 2 ] || ! grep -q -- "^cairn-sim: $2: expected " <<<"$out"; then
        echo "FAIL cairn-sim $*: exit status $status, said: $out"
        failures=$((failures + 1))
    else
        echo "ok   cairn-sim $* refused"
    fi
}
# 18446744073709552 s is 2^64 ms and a little more: multiplied out it wrapped to 384 ms
refused run --time 18446744073709552s
refused run --time 86400001ms
refused run --time 0
refused run --time 10m
refused run --seed -1
refused run --seed " 5"
refused run --seed 5x
refused run --seed 18446744073709551616
refused run --nodes 10
refused sweep --seeds 5..x
refused run --history 0
refused run --history 1048577
refused run --history 64k
refused run --workload banking
out=$("$sim" run --seed 1 --colour red 2>&1 >/dev/null)
if [ $? -eq 2 ] && grep -q -- "unknown option --colour" <<<"$out"; then
    echo "ok   cairn-sim run --colour red refused as unknown"
else
    echo "FAIL cairn-sim run --colour red said: $out"
    failures=$((failures + 1))
fi
if "$sim" run --seed 3 --time 800ms >/dev/null; then
    echo "ok   cairn-sim run --time 800ms runs"
else
    echo "FAIL cairn-sim run --seed 3 --time 800ms"
    failures=$((failures + 1))
fi
[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
