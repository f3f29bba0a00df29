-- scripts/bench-pg/write.sql — pgbench script of the write workload: one single-row INSERT
-- of a 64-byte value; the key comes from the table's sequence, so keys increase.
INSERT INTO write (value) VALUES (md5(random()::text) || md5(random()::text));
