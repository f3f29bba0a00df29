#!/usr/bin/env bash
# test_cluster_embedded.sh BUILD_DIR — cairn --embedded: the README's transcript against a
# five-node cluster inside the REPL's process, then the cluster commands: !status for
# every node, !node, !crash and !restart, !partition and !heal, with writes that go on
# through a majority and reads that see them everywhere afterwards.
set -u
source "$(dirname "$0")/cluster_lib.sh"
cairn=$1/cairn

got=$(timeout 60 "$cairn" --embedded 2>&1 <<'EOF_SQL'
CREATE TABLE movie (id INTEGER PRIMARY KEY, title VARCHAR NOT NULL)
INSERT INTO movie VALUES (1, 'Sicario'), (2, 'Stalker'), (3, 'Her')
SELECT * FROM movie
EOF_SQL
)
check "the transcript" [ "$got" = "Created table
Inserted 3 rows
1|Sicario
2|Stalker
3|Her" ]

got=$(timeout 60 "$cairn" --embedded 2>&1 <<'EOF_SQL'
CREATE TABLE t (id INTEGER PRIMARY KEY)
INSERT INTO t VALUES (1)
!status
!crash 1
!node 1
SELECT COUNT(*) FROM t
!node 2
INSERT INTO t VALUES (2)
!restart 1
!partition 1,2 3,4,5
!node 4
INSERT INTO t VALUES (3)
!heal
!node 1
SELECT COUNT(*) FROM t
!node 4
INSERT INTO t VALUES (4)
!node 1
SELECT id FROM t ORDER BY id
!node 5
SELECT COUNT(*) FROM t
!status
!crash 9
!partition 1,1
EOF_SQL
)
echo "$got" | sed 's/^/    /'
check "!status shows every node" [ "$(grep -cE '^ +[1-5]  (leader|follower|candidate|pre-candidate) ' <<<"$got")" -ge 10 ]
check "!status shows the leader's match indexes" grep -qE ' n1=[0-9]+ n2=[0-9]+ n3=[0-9]+ n4=[0-9]+ n5=[0-9]+$' <<<"$got"
check "a statement to a crashed node fails" grep -q '^Error: node 1 is down' <<<"$got"
check "!crash, !restart, !partition, !heal report what they did" \
    [ "$(grep -cE '^(Crashed node 1|Restarted node 1|Partitioned the network: 1,2 3,4,5|Healed the network)\.$' <<<"$got")" -eq 4 ]
check "writes through the majority while crashed and partitioned, and healed" \
    [ "$(grep -c '^Inserted 1 row$' <<<"$got")" -eq 4 ]
# has TEXT: the output holds TEXT (which may span lines).
has() {
    [[ $got == *"$1"* ]]
}
check "the minority side catches up once healed, with no new write" \
    has $'Healed the network.\nStatements go to node 1.\n3\n'
check "the restarted node reads every row" has $'\n1\n2\n3\n4\n'
check "so does node 5" has $'Statements go to node 5.\n4\n'
check "a bad node number is refused" grep -q "^Error: usage: !crash N: '9' is not a node" <<<"$got"
check "a node in two groups is refused" grep -q '^Error: node 1 is in two groups' <<<"$got"
finish
