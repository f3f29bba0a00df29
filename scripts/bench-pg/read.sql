-- scripts/bench-pg/read.sql — pgbench script of the read workload: one primary-key lookup.
\set id random(1, 1000)
SELECT value FROM read WHERE id = :id;
