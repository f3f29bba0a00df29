-- scripts/bench-pg/setup.sql — the tables and rows of cairn-bench's workloads, for PostgreSQL
-- (run by scripts/bench with psql before timing). Same shapes as net/bench_read.c,
-- net/bench_write.c and net/bench_bank.c: 1,000 rows of 64-byte values; an empty table
-- with increasing keys; 100 customers with 10 accounts of 100 each.
DROP TABLE IF EXISTS read, write, account, customer;
CREATE TABLE read (id INTEGER PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO read SELECT i, md5(random()::text) || md5(random()::text)
    FROM generate_series(1, 1000) AS i;
CREATE TABLE write (id BIGSERIAL PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE account (id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customer, balance INTEGER NOT NULL);
CREATE INDEX account_customer ON account (customer_id);
INSERT INTO customer SELECT i, 'customer ' || i FROM generate_series(1, 100) AS i;
INSERT INTO account SELECT i, (i - 1) / 10 + 1, 100 FROM generate_series(1, 1000) AS i;
VACUUM ANALYZE;
