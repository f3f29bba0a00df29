/*
 * bench_bank.c — the bank workload (toyDB's shape): 100 customers with 10 accounts each,
 * every account starting at 100. A transaction picks two different customers, finds the
 * richest account of the first and the poorest of the second with a join, and moves a
 * random amount (at most the balance, at most 100) between them with two UPDATEs:
 *
 *     BEGIN; SELECT a.id, a.balance FROM account a JOIN customer c ON a.customer_id = c.id
 *            WHERE c.id = FROM AND a.customer_id = FROM ORDER BY a.balance DESC, a.id LIMIT 1
 *     SELECT a.id FROM account a JOIN customer c ... WHERE c.id = TO AND a.customer_id = TO
 *            ORDER BY a.balance, a.id LIMIT 1
 *     UPDATE account SET balance = balance - AMOUNT WHERE id = A;
 *     UPDATE account SET balance = balance + AMOUNT WHERE id = B; COMMIT
 *
 * (three requests: statements whose results the client does not need travel together).
 * The redundant `a.customer_id = X` matters: the optimizer does not derive it from the join
 * equality, and without it the join scans every account, so each transaction's read set
 * covers the whole table and nearly every concurrent pair conflicts (measured: six retries
 * per transaction with 16 clients). With it, account is read through its index on
 * customer_id and only transfers touching the same customers conflict. PostgreSQL runs
 * the same text (scripts/bench-pg/bank.sql).
 * Serialization failures are retried by the harness. The check afterwards: the total is
 * unchanged and no balance is negative — what serializability promises here.
 */
#include <inttypes.h>
#include <stdio.h>

#include "net/bench_cluster.h"

#define BENCH_BANK_CUSTOMERS 100
#define BENCH_BANK_ACCOUNTS_PER_CUSTOMER 10
#define BENCH_BANK_BALANCE 100
#define BENCH_BANK_MAX_TRANSFER 100
#define BENCH_BANK_TOTAL \
	((int64_t)BENCH_BANK_CUSTOMERS * BENCH_BANK_ACCOUNTS_PER_CUSTOMER * BENCH_BANK_BALANCE)

static err *bench__bank_setup(struct net_client *conn, struct prng *prng)
{
	(void)prng;
	TRY(bench_exec(conn, "DROP TABLE IF EXISTS account"));
	TRY(bench_exec(conn, "DROP TABLE IF EXISTS customer"));
	TRY(bench_exec(conn,
	               "CREATE TABLE customer (id INTEGER PRIMARY KEY, name STRING NOT NULL)"));
	TRY(bench_exec(conn, "CREATE TABLE account (id INTEGER PRIMARY KEY, "
	                     "customer_id INTEGER NOT NULL REFERENCES customer, "
	                     "balance INTEGER NOT NULL)"));
	TRY(bench_exec(conn, "CREATE INDEX account_customer ON account (customer_id)"));
	char sql[BENCH_BANK_ACCOUNTS_PER_CUSTOMER * 48 + 128];
	for (int c = 1; c <= BENCH_BANK_CUSTOMERS; c++) {
		snprintf(sql, sizeof sql, "INSERT INTO customer VALUES (%d, 'customer %d')", c, c);
		TRY(bench_exec(conn, sql));
		int len = snprintf(sql, sizeof sql, "INSERT INTO account VALUES ");
		for (int a = 0; a < BENCH_BANK_ACCOUNTS_PER_CUSTOMER; a++) {
			int id = (c - 1) * BENCH_BANK_ACCOUNTS_PER_CUSTOMER + a + 1;
			len += snprintf(sql + len, sizeof sql - (size_t)len, "%s(%d, %d, %d)",
			                a ? ", " : "", id, c, BENCH_BANK_BALANCE);
		}
		TRY(bench_exec(conn, sql));
	}
	return NULL;
}

/* Reads the INTEGERs of the single row's first `n` columns of `resp`. */
static err *bench__bank_ints(const struct net_response *resp, int64_t *out, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		TRY(bench_integer(resp, 0, i, &out[i]));
	return NULL;
}

/* Runs `sql` and reads the INTEGERs of its single row's first `n` columns. */
static err *bench__bank_row(struct net_client *conn, const char *sql, int64_t *out, uint32_t n)
{
	struct net_response resp;
	TRY(bench_execute(conn, sql, &resp));
	err *e = bench__bank_ints(&resp, out, n);
	net_response_free(&resp);
	return e;
}

/* Where a transfer stands: the request sent last. vars: from, to, source account, its balance. */
enum { BANK_SOURCE = 1, BANK_TARGET, BANK_MOVE };

static err *bench__bank_step(struct bench_client *c, const struct net_response *last, char *sql,
                             bool *done)
{
	int64_t *v = c->vars;
	if (!last) {
		v[0] = prng_between(&c->prng, 1, BENCH_BANK_CUSTOMERS);
		v[1] = 1 + (v[0] + prng_between(&c->prng, 0, BENCH_BANK_CUSTOMERS - 2)) %
		               BENCH_BANK_CUSTOMERS;
		snprintf(sql, BENCH_SQL_MAX,
		         "BEGIN; SELECT a.id, a.balance FROM account a JOIN customer c "
		         "ON a.customer_id = c.id WHERE c.id = %" PRId64
		         " AND a.customer_id = %" PRId64 " ORDER BY a.balance DESC, a.id LIMIT 1",
		         v[0], v[0]);
		c->step = BANK_SOURCE;
		return NULL;
	}
	switch (c->step) {
	case BANK_SOURCE:
		TRY(bench__bank_ints(last, &v[2], 2));
		snprintf(sql, BENCH_SQL_MAX,
		         "SELECT a.id FROM account a JOIN customer c ON a.customer_id = c.id "
		         "WHERE c.id = %" PRId64 " AND a.customer_id = %" PRId64
		         " ORDER BY a.balance, a.id LIMIT 1",
		         v[1], v[1]);
		c->step = BANK_TARGET;
		return NULL;
	case BANK_TARGET: {
		int64_t target;
		TRY(bench__bank_ints(last, &target, 1));
		int64_t most = v[3] < BENCH_BANK_MAX_TRANSFER ? v[3] : BENCH_BANK_MAX_TRANSFER;
		int64_t amount = most > 0 ? prng_between(&c->prng, 0, most) : 0;
		snprintf(
		    sql, BENCH_SQL_MAX,
		    "UPDATE account SET balance = balance - %" PRId64 " WHERE id = %" PRId64 "; "
		    "UPDATE account SET balance = balance + %" PRId64 " WHERE id = %" PRId64 "; "
		    "COMMIT",
		    amount, v[2], amount, target);
		c->step = BANK_MOVE;
		return NULL;
	}
	default: *done = true; return NULL;
	}
}

static err *bench__bank_check(struct net_client *conn)
{
	int64_t got[3];
	TRY(bench__bank_row(conn,
	                    "SELECT SUM(balance), COUNT(*), "
	                    "SUM(CASE WHEN balance < 0 THEN 1 ELSE 0 END) FROM account",
	                    got, 3));
	int64_t accounts = (int64_t)BENCH_BANK_CUSTOMERS * BENCH_BANK_ACCOUNTS_PER_CUSTOMER;
	printf("bank check: total %" PRId64 " (expected %" PRId64 "), %" PRId64
	       " accounts, %" PRId64 " negative balances\n",
	       got[0], BENCH_BANK_TOTAL, got[1], got[2]);
	if (got[0] != BENCH_BANK_TOTAL || got[1] != accounts || got[2] != 0)
		return err_new(ERR_INTERNAL, "bank: the invariants do not hold");
	return NULL;
}

const struct bench_workload bench_bank_workload = {
    .name = "bank",
    .default_txns = 10000,
    .setup = bench__bank_setup,
    .step = bench__bank_step,
    .explicit_transaction = true,
    .check = bench__bank_check,
};
