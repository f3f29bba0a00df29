#!/usr/bin/env bash
# test_repl_persist.sh CAIRN — a database written through `cairn --local DIR` is there
# after cairn exits and DIR is opened again; rolled-back work is not; DIR is one
# process's at a time, and a node's data directory is refused.
set -u
cairn=$1
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

"$cairn" --local "$dir/db" >/dev/null <<'SQL' || { echo "FAIL writing"; exit 1; }
CREATE TABLE movie (id INTEGER PRIMARY KEY, title TEXT NOT NULL, year INTEGER);
INSERT INTO movie VALUES (1, 'Sicario', 2015), (2, 'Stalker', 1979);
CREATE INDEX movie_year ON movie (year);
BEGIN;
INSERT INTO movie VALUES (3, 'Her', 2013);
COMMIT;
BEGIN;
INSERT INTO movie VALUES (4, 'Rolled back', 2000);
ROLLBACK;
SQL

got=$("$cairn" --local "$dir/db" -c "SELECT id, title, year FROM movie ORDER BY id")
check "rows survive a restart" "1|Sicario|2015
2|Stalker|1979
3|Her|2013" "$got"

got=$("$cairn" --local "$dir/db" -c "SELECT title FROM movie WHERE year > 2000 ORDER BY year")
check "the index survives a restart" "Her
Sicario" "$got"

# An open transaction that never commits is lost when cairn exits.
printf 'BEGIN;\nDELETE FROM movie;\n' | "$cairn" --local "$dir/db" >/dev/null
got=$("$cairn" --local "$dir/db" -c "SELECT COUNT(*) FROM movie")
check "an uncommitted transaction is dropped" "3" "$got"

# Later sessions add to what is there.
"$cairn" --local "$dir/db" -c "UPDATE movie SET year = 2016 WHERE id = 1" >/dev/null
"$cairn" --local "$dir/db" -c "DROP INDEX movie_year" >/dev/null
got=$("$cairn" --local "$dir/db" -c "SELECT year FROM movie WHERE id = 1")
check "updates survive a restart" "2016" "$got"

got=$("$cairn" --local "$dir/db" -c '!tables')
check "the catalog survives a restart" "movie" "$got"

# One process at a time: a second opener is refused while the first holds the directory
# (two used to write one file, and the confirmed writes of one were lost).
coproc holder { "$cairn" --local "$dir/db" 2>&1; }
echo "SELECT 'holding'" >&"${holder[1]}"
read -r -t 10 line <&"${holder[0]}"
check "the first opener runs" "holding" "$line"
got=$("$cairn" --local "$dir/db" -c "INSERT INTO movie VALUES (9, 'Nine', 2009)" 2>&1)
check "a second opener is refused" "in use by another process" "$(echo "$got" | grep -o 'in use by another process')"
exec {holder[1]}>&-
wait "$holder_PID"
got=$("$cairn" --local "$dir/db" -c "SELECT COUNT(*) FROM movie WHERE id = 9")
check "the refused statement did not run" "0" "$got"

# A cairnd node's data directory is no single-node database.
mkdir -p "$dir/node/raft"
got=$("$cairn" --local "$dir/node" -c "SELECT 1" 2>&1)
check "a node's data directory is refused" "holds a cairnd node's data" \
    "$(echo "$got" | grep -o "holds a cairnd node's data")"

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
