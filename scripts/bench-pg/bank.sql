-- scripts/bench-pg/bank.sql — pgbench script of the bank workload, the same statements as
-- net/bench_bank.c: SERIALIZABLE like cairn, serialization failures retried by pgbench
-- (--max-tries).
\set from random(1, 100)
\set to 1 + (:from + random(0, 98)) % 100
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT a.id AS src, a.balance AS bal FROM account a JOIN customer c ON a.customer_id = c.id WHERE c.id = :from AND a.customer_id = :from ORDER BY a.balance DESC, a.id LIMIT 1 \gset
SELECT a.id AS dst FROM account a JOIN customer c ON a.customer_id = c.id WHERE c.id = :to AND a.customer_id = :to ORDER BY a.balance, a.id LIMIT 1 \gset
\set amount random(0, least(:bal, 100))
UPDATE account SET balance = balance - :amount WHERE id = :src;
UPDATE account SET balance = balance + :amount WHERE id = :dst;
COMMIT;
