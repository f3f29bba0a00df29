/*
 * bench_write.c — the write workload (toyDB's shape): single-row INSERTs of 64-byte values
 * with increasing keys, one autocommitted statement per transaction, so each is one
 * read-write transaction and one Raft log entry.
 */
#include <inttypes.h>
#include <stdio.h>

#include "net/bench_cluster.h"

#define BENCH_WRITE_VALUE_BYTES 64

static err *bench__write_setup(struct net_client *conn, struct prng *prng)
{
	(void)prng;
	TRY(bench_exec(conn, "DROP TABLE IF EXISTS write"));
	return bench_exec(conn,
	                  "CREATE TABLE write (id INTEGER PRIMARY KEY, value STRING NOT NULL)");
}

static err *bench__write_step(struct bench_client *c, const struct net_response *last, char *sql,
                              bool *done)
{
	if (last) {
		*done = true;
		return NULL;
	}
	char value[BENCH_WRITE_VALUE_BYTES + 1];
	uint64_t id = atomic_fetch_add(c->sequence, 1) + 1;
	bench_random_text(&c->prng, value, BENCH_WRITE_VALUE_BYTES);
	snprintf(sql, BENCH_SQL_MAX, "INSERT INTO write (id, value) VALUES (%" PRIu64 ", '%s')", id,
	         value);
	return NULL;
}

const struct bench_workload bench_write_workload = {
    .name = "write",
    .default_txns = 20000,
    .setup = bench__write_setup,
    .step = bench__write_step,
};
