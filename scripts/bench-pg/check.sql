-- scripts/bench-pg/check.sql — the bank invariants after a run: prints the total (must be
-- 100000), the number of accounts (1000) and of negative balances (0).
SELECT SUM(balance), COUNT(*), SUM(CASE WHEN balance < 0 THEN 1 ELSE 0 END) FROM account;
