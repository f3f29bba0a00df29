#!/usr/bin/env bash
# test_repl_stdin.sh CAIRN — the REPL driven through stdin and -c: output format, commands,
# multi-line statements, errors that do not end the session, and exit statuses.
set -u
cairn=$1
failures=0

# expect NAME WANT GOT: compares two texts and reports a difference.
expect() {
    if [ "$2" != "$3" ]; then
        echo "FAIL $1"
        diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | sed 's/^/    /'
        failures=$((failures + 1))
    else
        echo "ok   $1"
    fi
}

# expect_status NAME WANT GOT
expect_status() {
    if [ "$2" != "$3" ]; then
        echo "FAIL $1: exit status $3, wanted $2"
        failures=$((failures + 1))
    else
        echo "ok   $1"
    fi
}

got=$("$cairn" --local :memory: 2>&1 <<'SQL'
CREATE TABLE movie (id INTEGER PRIMARY KEY, title TEXT NOT NULL, rating FLOAT);
INSERT INTO movie VALUES (1, 'Sicario', 7.6), (2, 'Stalker', 8.1),
                         (3, 'Her', NULL);
SELECT id, title FROM movie ORDER BY id;
SELECT title,
       rating
  FROM movie
 WHERE id = 2;
!headers on
SELECT id, rating FROM movie WHERE id <> 2 ORDER BY id;
!headers off
UPDATE movie SET rating = 8.0 WHERE id = 3; DELETE FROM movie WHERE id = 1;
SELECT COUNT(*) FROM movie;
SQL
)
expect "statements, rows, multi-line input, headers" "Created table
Inserted 3 rows
1|Sicario
2|Stalker
3|Her
Stalker|8.1
id|rating
1|7.6
3|NULL
Updated 1 row
Deleted 1 row
2" "$got"

got=$("$cairn" --local :memory: 2>/dev/null <<'SQL'
CREATE TABLE t (id INTEGER PRIMARY KEY);
INSERT INTO t VALUES (1);
INSERT INTO t VALUES (1);
SELEC 1;
!nosuchcommand
SELECT COUNT(*) FROM t;
SQL
)
status=$?
expect "errors do not end the session" "Created table
Inserted 1 row
1" "$got"
expect_status "a failed statement makes the exit status 1" 1 $status

errors=$("$cairn" --local :memory: 2>&1 >/dev/null <<'SQL'
SELECT * FROM nowhere;
!nosuchcommand
SQL
)
expect "errors are printed as Error: ..." "Error: no such table: nowhere
Error: unknown command !nosuchcommand (try !help)" "$errors"

got=$("$cairn" --local :memory: 2>&1 <<'SQL'
CREATE TABLE b (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE a (id INTEGER PRIMARY KEY);
!tables
!table nosuch
SQL
)
expect "!tables lists names in order" "Created table
Created table
a
b
Error: no such table: nosuch" "$got"

got=$("$cairn" --local :memory: 2>&1 <<'SQL'
CREATE TABLE movie (id INTEGER PRIMARY KEY, title TEXT NOT NULL);
!table movie
SQL
)
if printf '%s\n' "$got" | grep -qi '^CREATE TABLE movie' && printf '%s\n' "$got" | grep -q 'title'; then
    echo "ok   !table prints the CREATE TABLE statement"
else
    echo "FAIL !table prints the CREATE TABLE statement, got:"
    printf '%s\n' "$got" | sed 's/^/    /'
    failures=$((failures + 1))
fi

got=$("$cairn" --local :memory: -c '!help')
if printf '%s\n' "$got" | grep -q '!tables' && printf '%s\n' "$got" | grep -q '!quit'; then
    echo "ok   !help lists the commands"
else
    echo "FAIL !help lists the commands"
    failures=$((failures + 1))
fi

got=$("$cairn" --local :memory: <<'SQL'
SELECT 1;
!quit
SELECT 2;
SQL
)
expect "!quit stops reading" "1" "$got"

# A statement typed on one line needs no ';'; one spanning lines ends at its ';'.
got=$(printf 'SELECT 1\nSELECT 2 +\n3;\nSELECT 4\n' | "$cairn" --local :memory:)
expect "one-line statements need no ';'" "1
5
4" "$got"

# A line with an error no further line could mend is reported at once; it used to wait
# for a ';' and swallow the lines after it.
got=$(printf 'SELECT 1\nSELEC 2\nSELECT 3\nSELECT (4\n);\nSELECT '"'"'a\nb'"'"';\n' |
    "$cairn" --local :memory: 2>&1)
expect "a one-line error does not swallow the next lines" "1
Error: syntax error at line 1, column 1: expected a statement, found 'SELEC'
3
4
a
b" "$got"

# An error's position counts from the start of what was typed, not of its statement, and
# it is printed after the results before it (it used to come first when both went to one
# file).
got=$("$cairn" --local :memory: -c "SELECT 1; SELECT * FROM nowhere; SELEC 2" 2>&1)
expect "errors in order, positions from the text's start" "1
Error: no such table: nowhere
Error: syntax error at line 1, column 34: expected a statement, found 'SELEC'" "$got"

# A statement still open at the end of input runs without its ';'.
got=$(printf 'SELECT 40 +\n 2' | "$cairn" --local :memory:)
expect "the last statement needs no ';'" "42" "$got"

got=$("$cairn" --local :memory: -c "SELECT ''; SELECT 'x'")
expect "an empty text is an empty line" "
x" "$got"

"$cairn" --local :memory: -c "SELECT 1" -c "SELECT 2" >/dev/null 2>&1
expect_status "-c twice is a usage error" 2 $?

got=$("$cairn" --local :memory: -c "SELECT 'a', 1; SELECT NULL, TRUE")
status=$?
expect "-c runs every statement" "a|1
NULL|TRUE" "$got"
expect_status "-c succeeds" 0 $status

"$cairn" --local :memory: -c "SELECT * FROM nowhere" 2>/dev/null
expect_status "-c with a failing statement" 1 $?

"$cairn" --bogus >/dev/null 2>&1
expect_status "a bad flag is a usage error" 2 $?
for port in 0 65536 " 9601" 9601x -1; do
    "$cairn" -p "$port" -c "SELECT 1" >/dev/null 2>&1 </dev/null
    expect_status "-p '$port' is a usage error" 2 $?
done
for address in 127.0.0.1:x 127.0.0.1:70000 "127.0.0.1:9601 -p 9601"; do
    "$cairn" -H $address -c "SELECT 1" >/dev/null 2>&1 </dev/null
    expect_status "-H $address is a usage error" 2 $?
done

got=$("$cairn" --local :memory: 2>&1 <<'SQL'
BEGIN;
CREATE TABLE t (id INTEGER PRIMARY KEY);
INSERT INTO t VALUES (1);
ROLLBACK;
SELECT * FROM t;
SQL
)
got=$(printf '%s\n' "$got" | sed 's/at version [0-9]*/at version V/')
expect "transactions" "Began transaction at version V
Created table
Inserted 1 row
Rolled back transaction
Error: no such table: t" "$got"

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
