/*
 * bench_cluster.h — the harness of cairn-bench's cluster workloads (read, write, bank):
 * clients spread over the given nodes, driven by a few threads that each wait on all of
 * their clients' connections at once (as pgbench's -j does), timing, latency percentiles,
 * a progress line, and the report.
 *
 *     cairn-bench read|write|bank [-H host:port,...] [-c CLIENTS] [-j THREADS] [-n TXNS]
 *                                 [--seed N]
 *
 * A run: the workload's setup makes its tables and rows through one connection (not
 * timed), and every host is polled until it has applied the setup; then CLIENTS clients, client i connected to host i mod H, dealt out to THREADS
 * threads in contiguous blocks (default: one thread per CPU, pgbench -j's shape), run
 * TXNS transactions between them (as evenly as they divide), each client one transaction
 * at a time, while the main thread prints a progress line to
 * stderr every second; then the workload's check runs. A transaction that fails with a
 * serialization failure (ERR_CONFLICT) is rolled back and retried, up to
 * BENCH_RETRIES_MAX times; its latency is that of all its tries. Any other error stops
 * the run: the program prints it and exits 1.
 *
 * A workload describes a transaction as a sequence of requests (`step`), so that one
 * thread can keep many clients' transactions in flight: it sends each client's next
 * request as soon as the answer to the previous one arrives.
 *
 * The report on stdout is one human line and one line for scripts:
 *
 *     write: 20000 txns, 16 clients, 5 hosts: 3521 txn/s; latency ms p50 4.1 p90 6.0 ...
 *     result workload=write clients=16 txns=20000 seconds=5.680 tps=3521.1 p50_ms=4.100
 *            p90_ms=6.010 p99_ms=9.870 max_ms=31.200 retries=0
 */
#ifndef CAIRN_NET_BENCH_CLUSTER_H
#define CAIRN_NET_BENCH_CLUSTER_H

#include <stdatomic.h>
#include <stdint.h>

#include "base/err.h"
#include "base/prng.h"
#include "net/client.h"

#define BENCH_HOSTS_MAX 16
#define BENCH_CLIENTS_MAX 256
#define BENCH_RETRIES_MAX 1000
/* SQL text one transaction step may build. */
#define BENCH_SQL_MAX 1024

/* One client: its connection, its PRNG, and the state of the transaction it is in. */
struct bench_client {
	uint32_t index;
	struct net_client *conn;
	struct prng prng;
	atomic_uint_fast64_t *sequence; /* shared by all clients: the write workload's keys */
	uint32_t step;                  /* the workload's own: where its transaction is */
	int64_t vars[4];                /* the workload's own: what earlier answers said */
};

struct bench_workload {
	const char *name;
	uint64_t default_txns;
	/* Makes the tables and rows (dropping earlier ones) before timing. */
	err *(*setup)(struct net_client *conn, struct prng *prng);
	/*
	 * Gives the next request of the client's transaction: the first one when `last` is
	 * NULL, otherwise the one after the request `last` answers (never an ERROR: the
	 * harness handles those). Writes its SQL into sql (BENCH_SQL_MAX bytes), or sets
	 * *done when the transaction is complete.
	 */
	err *(*step)(struct bench_client *c, const struct net_response *last, char *sql,
	             bool *done);
	/* Whether a transaction spans requests (BEGIN ... COMMIT): one that fails is ended
	 * with ROLLBACK before it is tried again. */
	bool explicit_transaction;
	/* Checks the workload's invariants after the run (NULL: none). */
	err *(*check)(struct net_client *conn);
};

/* The workloads (bench_read.c, bench_write.c, bench_bank.c). */
extern const struct bench_workload bench_read_workload;
extern const struct bench_workload bench_write_workload;
extern const struct bench_workload bench_bank_workload;

/* Parses the options, runs `w` and reports; returns the exit status (0, 1, or 2 for usage). */
int bench_cluster_main(const struct bench_workload *w, int argc, char **argv);

/* ---- helpers for the workloads ---- */

/*
 * Executes `sql` and returns its response in *resp (the caller frees it). A connection
 * failure is an error; an ERROR response is turned into its error (and *resp freed), so
 * the caller sees a serialization failure as ERR_CONFLICT.
 */
err *bench_execute(struct net_client *conn, const char *sql, struct net_response *resp);

/* bench_execute() for statements whose result is not needed. */
err *bench_exec(struct net_client *conn, const char *sql);

/* The INTEGER at (row, column) of a ROWS response; ERR_TYPE when it is something else. */
err *bench_integer(const struct net_response *resp, uint64_t row, uint32_t column, int64_t *out);

/* Fills out[0..len) with random letters and digits and NUL-terminates it (out: len+1). */
void bench_random_text(struct prng *prng, char *out, size_t len);

#endif
