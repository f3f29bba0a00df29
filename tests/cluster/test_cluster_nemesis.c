/*
 * test_cluster_nemesis.c — the client half of test_cluster_nemesis.sh: transactions
 * against five real cairnd processes while the script kills, pauses and restarts them,
 * then a check that every node holds one and the same state and that it agrees with
 * every answer a client was given.
 *
 *     test_cluster_nemesis setup SQL_BASE
 *     test_cluster_nemesis run SQL_BASE SECONDS OUTCOMES_FILE
 *     test_cluster_nemesis check SQL_BASE OUTCOMES_FILE
 *
 * Node N's SQL port is SQL_BASE + N. `run` starts NEMESIS_WORKERS threads, worker i
 * first on node i mod 5 + 1, moving to the next node whenever its node does not answer.
 * Each operation has an id no other operation uses, and one of two shapes:
 *   - a transfer: BEGIN; read the source's balance; if it covers the amount, debit the
 *     source, credit the destination and insert the transfer's row; COMMIT;
 *   - an autocommit INSERT of one ledger row.
 * Each answer is recorded as acknowledged (the COMMIT or INSERT succeeded), failed (an
 * error that promises nothing happened: any error but ERR_UNKNOWN_OUTCOME, or a request
 * the connection lost before sending it), or unknown. `check` then asks every node until
 * it has every acknowledged row (each wait bounded), and fails unless on every node:
 * every acknowledged operation is present and no failed one is; no row exists that no
 * operation wrote; each balance is its opening balance plus the transfers present (a
 * transfer is all or nothing); no balance is negative (a debit never raced past its
 * check: serializable); and all five answer the same rows.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/checksum.h"
#include "base/number.h"
#include "base/prng.h"
#include "net/client.h"

#define NEMESIS_NODES 5
#define NEMESIS_WORKERS 8
#define NEMESIS_ACCOUNTS 8
#define NEMESIS_OPENING_BALANCE 1000
#define NEMESIS_OPS_MAX 200000     /* per worker: bounds the outcome list */
#define NEMESIS_CALL_MS 3000       /* a paused node must not hold a worker for long */
#define NEMESIS_CHECK_WAIT_S 60    /* how long `check` waits for one node to catch up */
#define NEMESIS_ID_STRIDE 10000000 /* worker w's ids: w * stride + 1, + 2, ... */

enum nemesis_kind { KIND_TRANSFER = 'T', KIND_LEDGER = 'L' };
enum nemesis_outcome { OUTCOME_ACKED = 'a', OUTCOME_FAILED = 'f', OUTCOME_UNKNOWN = 'u' };

struct nemesis_op {
	int64_t id;
	char kind;
	char outcome;
};

struct nemesis_worker {
	unsigned index;
	uint16_t sql_base;
	double deadline;
	unsigned node; /* 1..NEMESIS_NODES */
	struct net_client *client;
	struct prng rng;
	int64_t next_id;
	struct nemesis_op *ops;
	size_t n_ops;
	unsigned unexpected; /* answers no correct database gives; each printed */
};

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static void unexpected(struct nemesis_worker *w, const char *what, const char *sql)
{
	fprintf(stderr, "worker %u, node %u: unexpected answer (%s) to: %s\n", w->index, w->node,
	        what, sql);
	w->unexpected++;
}

/* The worker's connection, or NULL (after moving on to the next node) when none is up. */
static struct net_client *worker_client(struct nemesis_worker *w)
{
	if (w->client && net_client_is_connected(w->client))
		return w->client;
	if (w->client) {
		net_client_close(w->client);
		w->client = NULL;
	}
	err *e = net_client_connect(NULL, (uint16_t)(w->sql_base + w->node), 1000, &w->client);
	if (e) {
		err_free(e);
		w->client = NULL;
		w->node = w->node % NEMESIS_NODES + 1;
		sleep_ms(50);
		return NULL;
	}
	net_client_set_timeout(w->client, NEMESIS_CALL_MS);
	return w->client;
}

/*
 * What one statement's call came to: true with `resp` filled (an ERROR response
 * included), or false for a lost connection, *lost saying ERR_UNAVAILABLE (the request
 * did not run) or ERR_UNKNOWN_OUTCOME (it may have). A lost connection also moves the
 * worker on to the next node.
 */
static bool worker_call(struct nemesis_worker *w, const char *sql, struct net_response *resp,
                        enum err_code *lost)
{
	struct net_client *c = worker_client(w);
	if (!c) {
		*lost = ERR_UNAVAILABLE;
		return false;
	}
	err *e = net_client_execute(c, sql, resp);
	if (!e)
		return true;
	*lost = err_is(e, ERR_UNKNOWN_OUTCOME) ? ERR_UNKNOWN_OUTCOME : ERR_UNAVAILABLE;
	err_free(e);
	w->node = w->node % NEMESIS_NODES + 1;
	return false;
}

/* The outcome of the call that would have committed: its answer says what happened. */
static char commit_outcome(struct nemesis_worker *w, const char *sql, enum net_response_kind want)
{
	struct net_response r;
	enum err_code lost;
	if (!worker_call(w, sql, &r, &lost))
		return lost == ERR_UNKNOWN_OUTCOME ? OUTCOME_UNKNOWN : OUTCOME_FAILED;
	char outcome = OUTCOME_ACKED;
	if (r.kind == NET_RESP_ERROR) {
		outcome = r.code == ERR_UNKNOWN_OUTCOME ? OUTCOME_UNKNOWN : OUTCOME_FAILED;
		if (r.code == ERR_EXISTS || r.code == ERR_INTERNAL || r.code == ERR_CORRUPT)
			unexpected(w, err_code_name(r.code), sql);
	} else if (r.kind != want || (want == NET_RESP_COUNT && r.count != 1)) {
		unexpected(w, "wrong kind of answer", sql);
		outcome = OUTCOME_UNKNOWN;
	}
	net_response_free(&r);
	return outcome;
}

/*
 * Runs one statement inside the open transaction: true when it gave `want` (COUNT: one
 * row; ROWS: one row whose first value is an integer, stored in *value).
 */
static bool txn_step(struct nemesis_worker *w, const char *sql, enum net_response_kind want,
                     int64_t *value)
{
	struct net_response r;
	enum err_code lost;
	if (!worker_call(w, sql, &r, &lost))
		return false;
	bool ok = r.kind == want;
	if (ok && want == NET_RESP_COUNT)
		ok = r.count == 1;
	if (ok && want == NET_RESP_ROWS) {
		const struct net_value *v = r.row_count == 1 ? net_response_value(&r, 0, 0) : NULL;
		ok = v && v->type == NET_VALUE_INTEGER;
		if (ok)
			*value = v->as.integer;
	}
	if (!ok && r.kind != NET_RESP_ERROR)
		unexpected(w, "wrong answer", sql);
	else if (r.kind == NET_RESP_ERROR && (r.code == ERR_INTERNAL || r.code == ERR_CORRUPT))
		unexpected(w, err_code_name(r.code), sql);
	net_response_free(&r);
	return ok;
}

/* Ends a transaction that will not commit; a lost connection ends it as well. */
static void txn_abandon(struct nemesis_worker *w)
{
	if (!w->client || !net_client_is_connected(w->client))
		return;
	struct net_response r;
	enum err_code lost;
	if (worker_call(w, "ROLLBACK", &r, &lost))
		net_response_free(&r);
}

/* One transfer; returns its outcome, or 0 when it was not tried (the balance was short). */
static char worker_transfer(struct nemesis_worker *w, int64_t id)
{
	int64_t src = prng_between(&w->rng, 1, NEMESIS_ACCOUNTS);
	int64_t dst = prng_between(&w->rng, 1, NEMESIS_ACCOUNTS - 1);
	dst += dst >= src;
	int64_t amount = prng_between(&w->rng, 1, 100), balance = 0;
	char sql[256];
	if (!txn_step(w, "BEGIN", NET_RESP_ACK, NULL))
		goto failed;
	snprintf(sql, sizeof sql, "SELECT balance FROM accounts WHERE id = %" PRId64, src);
	if (!txn_step(w, sql, NET_RESP_ROWS, &balance))
		goto failed;
	if (balance < amount) {
		txn_abandon(w);
		return 0;
	}
	snprintf(sql, sizeof sql,
	         "UPDATE accounts SET balance = balance - %" PRId64 " WHERE id = %" PRId64, amount,
	         src);
	if (!txn_step(w, sql, NET_RESP_COUNT, NULL))
		goto failed;
	snprintf(sql, sizeof sql,
	         "UPDATE accounts SET balance = balance + %" PRId64 " WHERE id = %" PRId64, amount,
	         dst);
	if (!txn_step(w, sql, NET_RESP_COUNT, NULL))
		goto failed;
	snprintf(sql, sizeof sql,
	         "INSERT INTO transfers VALUES (%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64
	         ")",
	         id, src, dst, amount);
	if (!txn_step(w, sql, NET_RESP_COUNT, NULL))
		goto failed;
	return commit_outcome(w, "COMMIT", NET_RESP_ACK);
failed: /* no COMMIT was sent: the transaction ends uncommitted */
	txn_abandon(w);
	return OUTCOME_FAILED;
}

static char worker_ledger(struct nemesis_worker *w, int64_t id)
{
	char sql[128];
	snprintf(sql, sizeof sql, "INSERT INTO ledger VALUES (%" PRId64 ", %u)", id, w->index);
	return commit_outcome(w, sql, NET_RESP_COUNT);
}

static void *worker_main(void *arg)
{
	struct nemesis_worker *w = arg;
	while (now_seconds() < w->deadline && w->n_ops < NEMESIS_OPS_MAX) {
		int64_t id = w->next_id++;
		char kind = prng_chance(&w->rng, 0.5) ? KIND_TRANSFER : KIND_LEDGER;
		char outcome =
		    kind == KIND_TRANSFER ? worker_transfer(w, id) : worker_ledger(w, id);
		if (outcome != 0)
			w->ops[w->n_ops++] = (struct nemesis_op){id, kind, outcome};
	}
	if (w->client)
		net_client_close(w->client);
	w->client = NULL;
	return NULL;
}

/* Connects to node `node`, retrying until `deadline`. */
static struct net_client *connect_by(uint16_t sql_base, unsigned node, double deadline)
{
	for (;;) {
		struct net_client *c;
		err *e = net_client_connect(NULL, (uint16_t)(sql_base + node), 1000, &c);
		if (!e) {
			net_client_set_timeout(c, NEMESIS_CALL_MS);
			return c;
		}
		err_free(e);
		if (now_seconds() >= deadline)
			return NULL;
		sleep_ms(200);
	}
}

/* Runs `sql` on node `node` until it succeeds or `deadline` passes (a leader may be new). */
static bool execute_by(uint16_t sql_base, unsigned node, const char *sql, double deadline,
                       struct net_response *resp)
{
	for (;;) {
		struct net_client *c = connect_by(sql_base, node, deadline);
		if (!c)
			return false;
		err *e = net_client_execute(c, sql, resp);
		if (!e && resp->kind != NET_RESP_ERROR) {
			net_client_close(c); /* the response's arrays are the caller's */
			return true;
		}
		if (!e) {
			fprintf(stderr, "node %u: %s: %.*s\n", node, sql, (int)resp->message.len,
			        resp->message.ptr);
			net_response_free(resp);
		}
		err_free(e);
		net_client_close(c);
		if (now_seconds() >= deadline)
			return false;
		sleep_ms(200);
	}
}

static int nemesis_setup(uint16_t sql_base)
{
	char sql[1024];
	int n = snprintf(sql, sizeof sql,
	                 "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);"
	                 "CREATE TABLE transfers (id INTEGER PRIMARY KEY, src INTEGER NOT NULL, "
	                 "dst INTEGER NOT NULL, amount INTEGER NOT NULL);"
	                 "CREATE TABLE ledger (id INTEGER PRIMARY KEY, worker INTEGER NOT NULL);"
	                 "INSERT INTO accounts VALUES ");
	for (int i = 1; i <= NEMESIS_ACCOUNTS; i++)
		n += snprintf(sql + n, sizeof sql - (size_t)n, "%s(%d, %d)", i > 1 ? ", " : "", i,
		              NEMESIS_OPENING_BALANCE);
	struct net_response r;
	if (!execute_by(sql_base, 1, sql, now_seconds() + 30, &r)) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	net_response_free(&r);
	return 0;
}

static int nemesis_run(uint16_t sql_base, unsigned seconds, const char *path)
{
	static struct nemesis_worker workers[NEMESIS_WORKERS];
	pthread_t threads[NEMESIS_WORKERS];
	double deadline = now_seconds() + seconds;
	unsigned started = 0;
	for (unsigned i = 0; i < NEMESIS_WORKERS; i++) {
		struct nemesis_worker *w = &workers[i];
		*w = (struct nemesis_worker){.index = i,
		                             .sql_base = sql_base,
		                             .deadline = deadline,
		                             .node = i % NEMESIS_NODES + 1,
		                             .next_id = (int64_t)(i + 1) * NEMESIS_ID_STRIDE + 1};
		prng_seed(&w->rng, prng_subseed(1, "nemesis", i));
		w->ops = malloc(NEMESIS_OPS_MAX * sizeof *w->ops);
		if (!w->ops || pthread_create(&threads[i], NULL, worker_main, w) != 0) {
			fprintf(stderr, "cannot start worker %u\n", i);
			free(w->ops);
			w->ops = NULL;
			break;
		}
		started++;
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	FILE *out = fopen(path, "w");
	if (!out)
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
	unsigned bad = started < NEMESIS_WORKERS || !out;
	size_t counts[2][3] = {{0}};
	for (unsigned i = 0; i < started; i++) {
		for (size_t j = 0; out && j < workers[i].n_ops; j++) {
			const struct nemesis_op *op = &workers[i].ops[j];
			fprintf(out, "%c %" PRId64 " %c\n", op->kind, op->id, op->outcome);
			counts[op->kind == KIND_LEDGER][op->outcome == OUTCOME_ACKED    ? 0
			                                : op->outcome == OUTCOME_FAILED ? 1
			                                                                : 2]++;
		}
		bad += workers[i].unexpected;
		free(workers[i].ops);
	}
	if (out && fclose(out) != 0)
		bad++;
	printf("transfers: %zu acknowledged, %zu failed, %zu unknown; ledger inserts: %zu "
	       "acknowledged, %zu failed, %zu unknown\n",
	       counts[0][0], counts[0][1], counts[0][2], counts[1][0], counts[1][1], counts[1][2]);
	return bad ? 1 : 0;
}

/* The recorded operations, sorted by id. */
struct nemesis_record {
	struct nemesis_op *ops;
	size_t n;
};

static int op_by_id(const void *a, const void *b)
{
	int64_t x = ((const struct nemesis_op *)a)->id, y = ((const struct nemesis_op *)b)->id;
	return (x > y) - (x < y);
}

static bool record_load(const char *path, struct nemesis_record *rec)
{
	FILE *in = fopen(path, "r");
	if (!in) {
		fprintf(stderr, "cannot read %s: %s\n", path, strerror(errno));
		return false;
	}
	size_t cap = 1024;
	rec->ops = malloc(cap * sizeof *rec->ops);
	rec->n = 0;
	char kind, outcome;
	int64_t id;
	while (rec->ops && fscanf(in, " %c %" SCNd64 " %c", &kind, &id, &outcome) == 3) {
		if (rec->n == (size_t)NEMESIS_WORKERS * NEMESIS_OPS_MAX)
			break; /* more than `run` writes: not its list */
		if (rec->n == cap) {
			struct nemesis_op *more = realloc(rec->ops, 2 * cap * sizeof *more);
			if (!more)
				break;
			rec->ops = more;
			cap *= 2;
		}
		rec->ops[rec->n++] = (struct nemesis_op){id, kind, outcome};
	}
	bool ok = rec->ops && feof(in);
	fclose(in);
	if (ok)
		qsort(rec->ops, rec->n, sizeof *rec->ops, op_by_id);
	else
		fprintf(stderr, "%s: unreadable outcome list\n", path);
	return ok;
}

static const struct nemesis_op *record_find(const struct nemesis_record *rec, int64_t id)
{
	struct nemesis_op key = {.id = id};
	return bsearch(&key, rec->ops, rec->n, sizeof *rec->ops, op_by_id);
}

/* What one node answered, checked against the record. */
struct node_view {
	unsigned node;
	const struct nemesis_record *rec;
	struct checksum_stream hash;            /* of every row, to compare nodes */
	int64_t expected[NEMESIS_ACCOUNTS + 1]; /* opening balances plus the transfers */
	size_t acked_present;                   /* acknowledged operations found */
	unsigned violations;
};

/*
 * Checks the rows of one operation table (ledger, or transfers whose amounts go into the
 * expected balances): each row is an operation not answered with a failure.
 */
static void view_operations(struct node_view *v, const struct net_response *r, char kind)
{
	for (uint64_t row = 0; row < r->row_count; row++) {
		int64_t id = net_response_value(r, row, 0)->as.integer;
		const struct nemesis_op *op = record_find(v->rec, id);
		checksum_stream_add(&v->hash, &kind, 1);
		checksum_stream_add(&v->hash, &id, sizeof id);
		if (!op || op->kind != kind || op->outcome == OUTCOME_FAILED) {
			fprintf(stderr, "node %u holds %c %" PRId64 ", which %s\n", v->node, kind,
			        id,
			        !op || op->kind != kind ? "no operation wrote"
			                                : "was answered with a failure");
			v->violations++;
		}
		v->acked_present += op && op->kind == kind && op->outcome == OUTCOME_ACKED;
		if (kind != KIND_TRANSFER)
			continue;
		int64_t f[3]; /* src, dst, amount */
		for (uint32_t c = 0; c < 3; c++)
			f[c] = net_response_value(r, row, c + 1)->as.integer;
		checksum_stream_add(&v->hash, f, sizeof f);
		if (f[0] < 1 || f[0] > NEMESIS_ACCOUNTS || f[1] < 1 || f[1] > NEMESIS_ACCOUNTS) {
			fprintf(stderr, "node %u: transfer %" PRId64 " names no account\n", v->node,
			        id);
			v->violations++;
			continue;
		}
		v->expected[f[0]] -= f[2];
		v->expected[f[1]] += f[2];
	}
}

/* Checks the balances: each is what the transfers present say, and none is negative. */
static void view_accounts(struct node_view *v, const struct net_response *r)
{
	if (r->row_count != NEMESIS_ACCOUNTS) {
		fprintf(stderr, "node %u has %" PRIu64 " accounts\n", v->node, r->row_count);
		v->violations++;
	}
	for (uint64_t row = 0; row < r->row_count && row < NEMESIS_ACCOUNTS; row++) {
		int64_t f[2] = {net_response_value(r, row, 0)->as.integer,
		                net_response_value(r, row, 1)->as.integer}; /* id, balance */
		checksum_stream_add(&v->hash, f, sizeof f);
		bool known = f[0] >= 1 && f[0] <= NEMESIS_ACCOUNTS;
		if (!known || f[1] != v->expected[f[0]] || f[1] < 0) {
			fprintf(stderr,
			        "node %u: account %" PRId64 " holds %" PRId64
			        ", its transfers say %" PRId64 "\n",
			        v->node, f[0], f[1], known ? v->expected[f[0]] : 0);
			v->violations++;
		}
	}
}

/*
 * Reads one node's tables and checks them against the record; *missing counts the
 * acknowledged operations it lacks (it may still be catching up). Sets *digest to a hash
 * of the rows, so that nodes can be compared. Returns the number of violations.
 */
static unsigned node_check(uint16_t sql_base, unsigned node, const struct nemesis_record *rec,
                           size_t *missing, uint64_t *digest)
{
	static const char *const queries[3] = {
	    "SELECT id, src, dst, amount FROM transfers ORDER BY id",
	    "SELECT id FROM ledger ORDER BY id",
	    "SELECT id, balance FROM accounts ORDER BY id",
	};
	double deadline = now_seconds() + NEMESIS_CHECK_WAIT_S;
	struct net_response r[3];
	for (int i = 0; i < 3; i++) {
		if (!execute_by(sql_base, node, queries[i], deadline, &r[i])) {
			while (i-- > 0)
				net_response_free(&r[i]);
			return 1;
		}
	}
	static const uint32_t columns[3] = {4, 1, 2};
	for (int i = 0; i < 3; i++) { /* every value read below is an INTEGER of these */
		bool shaped = r[i].column_count == columns[i];
		for (uint64_t j = 0; shaped && j < r[i].row_count * columns[i]; j++)
			shaped = r[i].values[j].type == NET_VALUE_INTEGER;
		if (!shaped) {
			fprintf(stderr, "node %u: unexpected rows for: %s\n", node, queries[i]);
			for (int k = 0; k < 3; k++)
				net_response_free(&r[k]);
			return 1;
		}
	}
	struct node_view v = {.node = node, .rec = rec};
	checksum_stream_init(&v.hash);
	for (int i = 1; i <= NEMESIS_ACCOUNTS; i++)
		v.expected[i] = NEMESIS_OPENING_BALANCE;
	view_operations(&v, &r[0], KIND_TRANSFER);
	view_operations(&v, &r[1], KIND_LEDGER);
	view_accounts(&v, &r[2]);
	size_t acked = 0;
	for (size_t i = 0; i < rec->n; i++)
		acked += rec->ops[i].outcome == OUTCOME_ACKED;
	*missing = acked - v.acked_present;
	*digest = checksum_stream_end(&v.hash);
	for (int i = 0; i < 3; i++)
		net_response_free(&r[i]);
	return v.violations;
}

static int nemesis_check(uint16_t sql_base, const char *path)
{
	struct nemesis_record rec;
	if (!record_load(path, &rec)) {
		free(rec.ops);
		return 1;
	}
	unsigned violations = 0;
	uint64_t first = 0;
	for (unsigned node = 1; node <= NEMESIS_NODES; node++) {
		uint64_t digest = 0;
		size_t missing = 0;
		unsigned v = 0;
		double deadline = now_seconds() + NEMESIS_CHECK_WAIT_S;
		for (;;) { /* a node that lacks acknowledged rows may still be catching up */
			v = node_check(sql_base, node, &rec, &missing, &digest);
			if (v > 0 || missing == 0 || now_seconds() >= deadline)
				break;
			sleep_ms(500);
		}
		if (missing > 0)
			fprintf(stderr, "node %u lacks %zu acknowledged operations\n", node,
			        missing);
		violations += v + (missing > 0);
		if (node == 1) {
			first = digest;
		} else if (digest != first) {
			fprintf(stderr, "node %u's rows differ from node 1's\n", node);
			violations++;
		}
		printf("node %u: %s\n", node, v == 0 && missing == 0 ? "consistent" : "VIOLATED");
	}
	free(rec.ops);
	printf("%u violation(s)\n", violations);
	return violations ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: test_cluster_nemesis setup SQL_BASE\n"
	                "       test_cluster_nemesis run SQL_BASE SECONDS OUTCOMES_FILE\n"
	                "       test_cluster_nemesis check SQL_BASE OUTCOMES_FILE\n");
}

int main(int argc, char **argv)
{
	uint64_t base, seconds = 0;
	err *e = argc >= 3 ? number_parse_range(argv[2], 1, 65535 - NEMESIS_NODES, &base)
	                   : err_new(ERR_INVALID, "missing SQL_BASE");
	if (!e && strcmp(argv[1], "run") == 0)
		e = argc == 5 ? number_parse_range(argv[3], 1, 3600, &seconds)
		              : err_new(ERR_INVALID, "run takes SQL_BASE SECONDS OUTCOMES_FILE");
	if (e) {
		fprintf(stderr, "%s\n", err_msg(e));
		err_free(e);
		usage();
		return 2;
	}
	if (strcmp(argv[1], "setup") == 0 && argc == 3)
		return nemesis_setup((uint16_t)base);
	if (strcmp(argv[1], "run") == 0)
		return nemesis_run((uint16_t)base, (unsigned)seconds, argv[4]);
	if (strcmp(argv[1], "check") == 0 && argc == 4)
		return nemesis_check((uint16_t)base, argv[3]);
	usage();
	return 2;
}
