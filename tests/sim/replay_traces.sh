#!/usr/bin/env bash
# Replays every recorded trace in traces/: each must match line for line.
# usage: replay_traces.sh CAIRN_SIM TRACES_DIR
set -uo pipefail
sim=$1
dir=$2
shopt -s nullglob
traces=("$dir"/*.trace)
if [ ${#traces[@]} -eq 0 ]; then
    echo "no traces in $dir"
    exit 1
fi
status=0
for t in "${traces[@]}"; do
    if "$sim" replay "$t"; then
        echo "ok: $(basename "$t")"
    else
        echo "DIFFERS: $(basename "$t") (re-record with scripts/record-traces if the change was intended)"
        status=1
    fi
done
# A header whose app name carries anything but the run's options is refused, not run: a
# stray character, a window of 0, options out of order, a number too large for its field
# (sscanf's %u read the client timeout and wrapped 99999999999 to 1215752191 ms).
bad=$(mktemp)
for suffix in .o15x .h0 .h99999999999 .o99999999999 .h16.o15; do
    sed "1s/ app=\([^ ]*\)/ app=\1$suffix/" "${traces[0]}" >"$bad"
    refusal=$("$sim" replay "$bad" 2>&1)
    if [[ $refusal == *"not of a cairn run"* ]]; then
        echo "ok: a foreign app name (ending in $suffix) is refused"
    else
        echo "ACCEPTED: a trace whose app name ends in $suffix"
        status=1
    fi
done
rm -f "$bad"
exit $status
