/*
 * bench_sql.c — `cairn-bench sql`: cairn's SQL engine against SQLite on the same queries.
 *
 * Both engines run in this one process, one after the other, on in-memory databases
 * (cairn: sql_db_open(":memory:"), the memory KV engine under MVCC; SQLite:
 * sqlite3_open(":memory:")), so their figures come from the same machine state and their
 * ratio is the number to read. Phases, each timed with the monotonic clock:
 *
 *   load       ROWS rows into t (id INTEGER PRIMARY KEY, v INTEGER), 1,000-row INSERTs,
 *              each its own transaction; a (id, v) and b (id, w), JOIN_ROWS rows each
 *   count-sum  SELECT count(*), sum(v) FROM t                      (REPEAT times)
 *   join       SELECT count(*), sum(a.v + b.w) FROM a JOIN b ON a.id = b.id (REPEAT)
 *   point      LOOKUPS × SELECT v FROM t WHERE id = <random id>
 *
 * Every statement goes in as SQL text and its result is read out completely: cairn has no
 * prepared statements, so SQLite prepares each statement too (sqlite3_prepare_v2, step,
 * finalize). Results are checked (count, sum, every lookup found) so neither engine can
 * win by skipping work. Output: one line per engine and phase,
 *
 *     sql <engine> <phase> <microseconds per statement> us/stmt
 *
 * then one line per phase with the ratio cairn/SQLite (above 1: cairn is slower).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/number.h"
#include "base/prng.h"
#include "sql/database.h"

#ifdef CAIRN_HAVE_SQLITE3
#include <sqlite3.h>
#endif

#define BENCH_SQL_BATCH 1000
#define BENCH_SQL_MAX_ROWS 10000000ull
#define BENCH_SQL_PHASES 4
#define BENCH_SQL_TEXT_BYTES (BENCH_SQL_BATCH * 48 + 64)

int bench_sql_main(int argc, char **argv);

static const char *phase_names[BENCH_SQL_PHASES] = {"load", "count-sum", "join", "point"};

struct bench_sql_config {
	uint64_t rows, join_rows, lookups, repeat;
};

/* What a statement returned: its row count and the first row's first two integers. */
struct bench_answer {
	uint64_t rows;
	int64_t first[2];
};

/* One engine behind three calls, so the phases are written once. */
struct bench_sql_engine {
	const char *name;
	void *impl;
	int (*open)(struct bench_sql_engine *e);
	int (*run)(struct bench_sql_engine *e, const char *sql, struct bench_answer *out);
	void (*close)(struct bench_sql_engine *e);
};

static double bench_sql__now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- cairn ---- */

struct bench_cairn_sql {
	struct sql_db *db;
	struct sql_session *session;
};

static int cairn_sql_open(struct bench_sql_engine *e)
{
	struct bench_cairn_sql *c = calloc(1, sizeof *c);
	if (!c)
		return -1;
	e->impl = c;
	err *er = sql_db_open(":memory:", &c->db);
	if (!er)
		er = sql_session_open(c->db, &c->session);
	if (er) {
		fprintf(stderr, "cairn-bench: opening cairn: %s\n", err_msg(er));
		err_free(er);
		return -1;
	}
	return 0;
}

static int cairn_sql_run(struct bench_sql_engine *e, const char *sql, struct bench_answer *out)
{
	struct bench_cairn_sql *c = e->impl;
	struct sql_result r;
	size_t used;
	sql_session_execute(c->session, sql, strlen(sql), &r, &used);
	memset(out, 0, sizeof *out);
	int rc = 0;
	if (r.kind == SQL_RESULT_ERROR) {
		fprintf(stderr, "cairn-bench: cairn: %.80s: %s\n", sql, err_msg(r.error));
		rc = -1;
	} else if (r.kind == SQL_RESULT_ROWS) {
		out->rows = r.row_count;
		for (uint32_t i = 0; r.row_count && i < r.column_count && i < 2; i++)
			if (r.values[i].type == SQL_INT)
				out->first[i] = r.values[i].u.i;
	} else if (r.kind == SQL_RESULT_COUNT) {
		out->rows = r.count;
	}
	sql_result_free(&r);
	return rc;
}

static void cairn_sql_close(struct bench_sql_engine *e)
{
	struct bench_cairn_sql *c = e->impl;
	if (!c)
		return;
	sql_session_close(c->session);
	sql_db_close(c->db);
	free(c);
	e->impl = NULL;
}

/* ---- sqlite ---- */

#ifdef CAIRN_HAVE_SQLITE3
static int sqlite_sql_open(struct bench_sql_engine *e)
{
	sqlite3 *db = NULL;
	if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
		fprintf(stderr, "cairn-bench: opening sqlite: %s\n", sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	e->impl = db;
	return 0;
}

static int sqlite_sql_run(struct bench_sql_engine *e, const char *sql, struct bench_answer *out)
{
	sqlite3 *db = e->impl;
	sqlite3_stmt *st;
	memset(out, 0, sizeof *out);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "cairn-bench: sqlite: %.80s: %s\n", sql, sqlite3_errmsg(db));
		return -1;
	}
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int columns = sqlite3_column_count(st);
		for (int i = 0; i < columns; i++) { /* read every value, as cairn returns them */
			int64_t v = sqlite3_column_int64(st, i);
			if (out->rows == 0 && i < 2)
				out->first[i] = v;
		}
		out->rows++;
	}
	if (rc == SQLITE_DONE && sqlite3_column_count(st) == 0)
		out->rows = (uint64_t)sqlite3_changes(db);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "cairn-bench: sqlite: %.80s: %s\n", sql, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static void sqlite_sql_close(struct bench_sql_engine *e)
{
	sqlite3_close(e->impl);
	e->impl = NULL;
}
#endif

/* ---- the workload ---- */

/* Loads `rows` rows into a new table: `CREATE TABLE name (id INTEGER PRIMARY KEY, col)`. */
static int load_table(struct bench_sql_engine *e, const char *name, const char *col, uint64_t rows,
                      char *text)
{
	struct bench_answer a;
	snprintf(text, BENCH_SQL_TEXT_BYTES, "CREATE TABLE %s (id INTEGER PRIMARY KEY, %s INTEGER)",
	         name, col);
	if (e->run(e, text, &a))
		return -1;
	for (uint64_t at = 0; at < rows; at += BENCH_SQL_BATCH) {
		size_t len =
		    (size_t)snprintf(text, BENCH_SQL_TEXT_BYTES, "INSERT INTO %s VALUES ", name);
		uint64_t end = at + BENCH_SQL_BATCH < rows ? at + BENCH_SQL_BATCH : rows;
		for (uint64_t id = at; id < end; id++)
			len += (size_t)snprintf(text + len, BENCH_SQL_TEXT_BYTES - len,
			                        "%s(%llu, %llu)", id > at ? ", " : "",
			                        (unsigned long long)id,
			                        (unsigned long long)(id % 1000));
		if (e->run(e, text, &a) || a.rows != end - at) {
			fprintf(stderr, "cairn-bench: %s: insert into %s failed\n", e->name, name);
			return -1;
		}
	}
	return 0;
}

/* Runs every phase on one engine; us[i] is phase i's microseconds per statement. */
static int run_phases(struct bench_sql_engine *e, const struct bench_sql_config *c, double *us)
{
	char *text = malloc(BENCH_SQL_TEXT_BYTES);
	if (!text || e->open(e)) {
		free(text);
		return -1;
	}
	int rc = -1;
	struct bench_answer a;
	double t0 = bench_sql__now();
	if (load_table(e, "t", "v", c->rows, text) || load_table(e, "a", "v", c->join_rows, text) ||
	    load_table(e, "b", "w", c->join_rows, text))
		goto done;
	double batches = (double)((c->rows + 2 * c->join_rows) / BENCH_SQL_BATCH + 3);
	us[0] = (bench_sql__now() - t0) * 1e6 / batches;

	/* every id i holds v = i % 1000: the expected sums follow */
	int64_t sum_t = 0, sum_join = 0;
	for (uint64_t i = 0; i < c->rows; i++)
		sum_t += (int64_t)(i % 1000);
	for (uint64_t i = 0; i < c->join_rows; i++)
		sum_join += 2 * (int64_t)(i % 1000);
	t0 = bench_sql__now();
	for (uint64_t r = 0; r < c->repeat; r++)
		if (e->run(e, "SELECT count(*), sum(v) FROM t", &a) ||
		    a.first[0] != (int64_t)c->rows || a.first[1] != sum_t) {
			fprintf(stderr, "cairn-bench: %s: wrong count/sum\n", e->name);
			goto done;
		}
	us[1] = (bench_sql__now() - t0) * 1e6 / (double)c->repeat;

	t0 = bench_sql__now();
	for (uint64_t r = 0; r < c->repeat; r++)
		if (e->run(e, "SELECT count(*), sum(a.v + b.w) FROM a JOIN b ON a.id = b.id", &a) ||
		    a.first[0] != (int64_t)c->join_rows || a.first[1] != sum_join) {
			fprintf(stderr, "cairn-bench: %s: wrong join result\n", e->name);
			goto done;
		}
	us[2] = (bench_sql__now() - t0) * 1e6 / (double)c->repeat;

	struct prng rng;
	prng_seed(&rng, 1);
	t0 = bench_sql__now();
	for (uint64_t i = 0; i < c->lookups; i++) {
		uint64_t id = prng_below(&rng, c->rows);
		snprintf(text, BENCH_SQL_TEXT_BYTES, "SELECT v FROM t WHERE id = %llu",
		         (unsigned long long)id);
		if (e->run(e, text, &a) || a.rows != 1 || a.first[0] != (int64_t)(id % 1000)) {
			fprintf(stderr, "cairn-bench: %s: lookup of %llu failed\n", e->name,
			        (unsigned long long)id);
			goto done;
		}
	}
	us[3] = (bench_sql__now() - t0) * 1e6 / (double)c->lookups;
	rc = 0;
done:
	e->close(e);
	free(text);
	return rc;
}

/* A count from 1 to max; false (the caller prints the usage) for anything else. */
static bool parse_count(const char *s, uint64_t max, uint64_t *out)
{
	err *e = number_parse_range(s, 1, max, out);
	err_free(e);
	return e == NULL;
}

int bench_sql_main(int argc, char **argv)
{
	struct bench_sql_config c = {
	    .rows = 100000, .join_rows = 10000, .lookups = 100000, .repeat = 10};
	for (int i = 1; i < argc; i++) {
		uint64_t *target = !strcmp(argv[i], "--rows")        ? &c.rows
		                   : !strcmp(argv[i], "--join-rows") ? &c.join_rows
		                   : !strcmp(argv[i], "--lookups")   ? &c.lookups
		                   : !strcmp(argv[i], "--repeat")    ? &c.repeat
		                                                     : NULL;
		if (!target || i + 1 >= argc ||
		    !parse_count(argv[++i], BENCH_SQL_MAX_ROWS, target)) {
			fprintf(stderr, "usage: cairn-bench sql [--rows N] [--join-rows N] "
			                "[--lookups N] [--repeat N]\n");
			return 2;
		}
	}
	if (c.join_rows > c.rows) {
		fprintf(stderr, "cairn-bench: --join-rows must not exceed --rows\n");
		return 2;
	}
	struct bench_sql_engine engines[] = {
	    {.name = "cairn",
	     .open = cairn_sql_open,
	     .run = cairn_sql_run,
	     .close = cairn_sql_close},
#ifdef CAIRN_HAVE_SQLITE3
	    {.name = "sqlite",
	     .open = sqlite_sql_open,
	     .run = sqlite_sql_run,
	     .close = sqlite_sql_close},
#endif
	};
	size_t n = sizeof engines / sizeof engines[0];
	double us[2][BENCH_SQL_PHASES] = {{0}};
	for (size_t k = 0; k < n; k++) {
		if (run_phases(&engines[k], &c, us[k]))
			return 1;
		for (int p = 0; p < BENCH_SQL_PHASES; p++)
			printf("sql %s %s %.2f us/stmt\n", engines[k].name, phase_names[p],
			       us[k][p]);
		fflush(stdout);
	}
	if (n < 2) {
		printf("sql: built without libsqlite3, no comparison\n");
		return 0;
	}
	for (int p = 0; p < BENCH_SQL_PHASES; p++)
		printf("sql ratio %s %.2f cairn/sqlite\n", phase_names[p], us[0][p] / us[1][p]);
	return 0;
}
