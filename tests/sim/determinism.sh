#!/usr/bin/env bash
# The same seed run twice gives byte-identical traces; another seed gives a different one.
# usage: determinism.sh CAIRN_SIM
set -euo pipefail
sim=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for seed in 5 6; do
    "$sim" run --seed $seed --time 4s --trace "$dir/a$seed" >/dev/null
    "$sim" run --seed $seed --time 4s --trace "$dir/b$seed" >/dev/null
    if ! cmp -s "$dir/a$seed" "$dir/b$seed"; then
        echo "seed $seed: two runs differ:"
        cmp "$dir/a$seed" "$dir/b$seed" || true
        exit 1
    fi
    echo "seed $seed: identical ($(wc -l <"$dir/a$seed") lines)"
done
if cmp -s "$dir/a5" "$dir/a6"; then
    echo "seeds 5 and 6 gave the same trace"
    exit 1
fi
"$sim" replay "$dir/a5"
