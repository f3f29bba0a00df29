#!/usr/bin/env bash
# test_slt_cli.sh CAIRN_SLT — cairn-slt judged on small crafted files: what passes, fails
# and is skipped (conditions, labels, hashes, error patterns, malformed records, halt),
# the report lines, exit statuses, and the ratchet (check, regression, update, absent).
set -u
slt=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
failures=0

check() { # NAME WANT GOT
    if [ "$2" != "$3" ]; then
        echo "FAIL $1"
        diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | sed 's/^/    /'
        failures=$((failures + 1))
    else
        echo "ok   $1"
    fi
}

# 6 pass, 6 fail, 3 skipped; the records after halt never run.
cat >"$dir/judged.slt" <<'SLT'
statement ok
CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)

statement ok
INSERT INTO t VALUES (1, 'x'), (2, ''), (3, NULL)

# passes: rowsort over rendered strings
query IT rowsort
SELECT a, b FROM t
----
1
x
2
(empty)
3
NULL

# passes: the same values, hashed (md5 of "1\n2\n3\n")
query I valuesort label-a
SELECT a FROM t
----
3 values hashing to 6f8d53e1e3ad8b1f0c94d3f3d1b3e0b2

# fails: wrong value
query I nosort
SELECT a FROM t ORDER BY a
----
1
2
4

# fails: same label, different result
query I valuesort label-a
SELECT a + 1 FROM t
----
2
3
4

# passes: error with a matching pattern (any case)
statement error primary KEY
INSERT INTO t VALUES (1, 'dup')

# fails: error with another message
statement error no such thing
INSERT INTO t VALUES (1, 'dup')

# fails: an unexpected error
statement ok
SELECT * FROM nowhere

# fails: wrong number of columns
query II
SELECT a FROM t WHERE a = 1
----
1
1

# fails: malformed
query IQ
SELECT 1

skipif sqlite
statement ok
THIS IS NOT SQL

onlyif mysql
statement ok
THIS IS NOT SQL EITHER

skipif cairn
query I
SELECT 1

# passes: onlyif for us
onlyif cairn
query R
SELECT 1
----
1.000

halt

statement ok
THIS NEVER RUNS
SLT
hash=$(printf '1\n2\n3\n' | md5sum | cut -d' ' -f1)
sed -i "s/6f8d53e1e3ad8b1f0c94d3f3d1b3e0b2/$hash/" "$dir/judged.slt"

got=$("$slt" "$dir/judged.slt")
status=$?
check "counts, and where to see the failures" "$dir/judged.slt: 6 passed, 6 failed, 3 skipped
total: 6 passed, 6 failed, 3 skipped
(--verbose shows each failure: its line, the SQL, what was expected and got)" "$got"
check "failures make the exit status 1" 1 $status

verbose=$("$slt" --verbose "$dir/judged.slt")
for needle in ":25: wrong result" ":33: result differs from an earlier query with the same label" \
              ":45: statement failed with an unexpected message" ":49: statement failed" \
              ":53: wrong number of columns" ":60: malformed record"; do
    if printf '%s\n' "$verbose" | grep -qF -- "$needle"; then
        echo "ok   --verbose reports '$needle'"
    else
        echo "FAIL --verbose does not report '$needle'"
        failures=$((failures + 1))
    fi
done

printf 'statement ok\nCREATE TABLE u (a INTEGER PRIMARY KEY)\n\nquery I\nSELECT COUNT(*) FROM u\n----\n0\n' >"$dir/good.slt"
"$slt" "$dir/good.slt" >/dev/null
check "a clean file exits 0" 0 $?

# ---- the ratchet: keys are paths inside the folder named on the command line ----
mkdir -p "$dir/corpus/sub"
cp "$dir/judged.slt" "$dir/corpus/sub/a.test"
cp "$dir/good.slt" "$dir/corpus/b.test"
"$slt" --update-ratchet "$dir/ratchet.txt" "$dir/corpus" >/dev/null
check "--update-ratchet records passes" "b.test 2
sub/a.test 6" "$(grep -v '^#' "$dir/ratchet.txt")"

"$slt" --ratchet "$dir/ratchet.txt" "$dir/corpus" >/dev/null
check "at the ratchet passes, failures and all" 0 $?

printf 'b.test 3\nsub/a.test 1\n' >"$dir/ratchet.txt"
out=$("$slt" --ratchet "$dir/ratchet.txt" "$dir/corpus")
check "below the ratchet fails" 1 $?
printf '%s\n' "$out" | grep -q '^REGRESSION b.test: 2 passed, the ratchet says 3$' ||
    { echo "FAIL no REGRESSION line"; failures=$((failures + 1)); }

"$slt" --update-ratchet "$dir/ratchet.txt" "$dir/corpus" >/dev/null
check "the ratchet never falls" "b.test 3
sub/a.test 6" "$(grep -v '^#' "$dir/ratchet.txt")"

printf 'b.test 2\nsub/a.test 6\ngone.test 1\n' >"$dir/ratchet.txt"
"$slt" --ratchet "$dir/ratchet.txt" "$dir/corpus" | grep -q '^MISSING gone.test' ||
    { echo "FAIL a vanished file is not reported"; failures=$((failures + 1)); }

"$slt" --ratchet "$dir/ratchet.txt" "$dir/no-corpus-here" >/dev/null
check "an absent corpus skips (77)" 77 $?

printf 'not a ratchet line\n' >"$dir/bad-ratchet.txt"
"$slt" --ratchet "$dir/bad-ratchet.txt" "$dir/corpus" >/dev/null 2>&1
check "a malformed ratchet is an error" 1 $?

"$slt" "$dir/missing.slt" >/dev/null
check "a missing file is an error" 1 $?

"$slt" >/dev/null 2>&1
check "no arguments is a usage error" 2 $?

"$slt" --slow 5x "$dir/missing.slt" >/dev/null 2>&1
check "--slow takes a whole number" 2 $?

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
