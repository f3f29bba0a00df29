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
# A header whose app name carries anything but the run's options is refused, not run.
bad=$(mktemp)
sed '1s/ app=\([^ ]*\)/ app=\1.o15x/' "${traces[0]}" >"$bad"
refusal=$("$sim" replay "$bad" 2>&1)
if [[ $refusal == *"not of a cairn run"* ]]; then
    echo "ok: a foreign app name is refused"
else
    echo "ACCEPTED: a trace whose app name ends in .o15x"
    status=1
fi
rm -f "$bad"
exit $status
