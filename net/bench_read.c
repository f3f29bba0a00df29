/*
 * bench_read.c — the read workload (toyDB's shape): primary-key lookups over 1,000 rows of
 * 64-byte values, one autocommitted SELECT per transaction. Each lookup obtains a
 * linearizable read point (ReadIndex) and reads the local replica, so every node serves
 * reads, followers included.
 */
#include <inttypes.h>
#include <stdio.h>

#include "net/bench_cluster.h"

#define BENCH_READ_ROWS 1000
#define BENCH_READ_VALUE_BYTES 64
#define BENCH_READ_ROWS_PER_INSERT 50

static err *bench__read_setup(struct net_client *conn, struct prng *prng)
{
	TRY(bench_exec(conn, "DROP TABLE IF EXISTS read"));
	TRY(bench_exec(conn, "CREATE TABLE read (id INTEGER PRIMARY KEY, value STRING NOT NULL)"));
	char sql[BENCH_READ_ROWS_PER_INSERT * (BENCH_READ_VALUE_BYTES + 32) + 64];
	char value[BENCH_READ_VALUE_BYTES + 1];
	for (int first = 1; first <= BENCH_READ_ROWS; first += BENCH_READ_ROWS_PER_INSERT) {
		int len = snprintf(sql, sizeof sql, "INSERT INTO read (id, value) VALUES ");
		for (int id = first; id < first + BENCH_READ_ROWS_PER_INSERT; id++) {
			bench_random_text(prng, value, BENCH_READ_VALUE_BYTES);
			len += snprintf(sql + len, sizeof sql - (size_t)len, "%s(%d, '%s')",
			                id == first ? "" : ", ", id, value);
		}
		TRY(bench_exec(conn, sql));
	}
	return NULL;
}

static err *bench__read_step(struct bench_client *c, const struct net_response *last, char *sql,
                             bool *done)
{
	if (last) {
		*done = true;
		if (last->kind != NET_RESP_ROWS || last->row_count != 1)
			return err_new(ERR_INTERNAL, "read: row %" PRId64 " not found", c->vars[0]);
		return NULL;
	}
	c->vars[0] = prng_between(&c->prng, 1, BENCH_READ_ROWS);
	snprintf(sql, BENCH_SQL_MAX, "SELECT value FROM read WHERE id = %" PRId64, c->vars[0]);
	return NULL;
}

const struct bench_workload bench_read_workload = {
    .name = "read",
    .default_txns = 100000,
    .setup = bench__read_setup,
    .step = bench__read_step,
};
