/*
 * bench_storage.c — `cairn-bench storage`: the B+-tree against SQLite on the same work.
 *
 * Phases, each timed with the monotonic clock and printed as operations per second:
 *   insert-sorted   N keys in ascending order, batches of 1,000, one synced commit each
 *   insert-random   N keys in a random order into a fresh file, same batching
 *   read-random     N point reads of existing keys in a random order
 *   scan            one full ordered scan
 * Keys are 16 bytes (the key number in decimal, zero-padded), values 100 bytes.
 *
 * SQLite (when built with it) gets the table (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID,
 * journal_mode=WAL, synchronous=FULL, one transaction per batch, prepared statements and
 * the same page-cache size as cairn's B+-tree.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/number.h"
#include "base/prng.h"
#include "storage/btree.h"
#include "storage/vfs_posix.h"

#ifdef CAIRN_HAVE_SQLITE3
#include <sqlite3.h>
#endif

#define BENCH_KEY_BYTES 16
#define BENCH_VALUE_BYTES 100
#define BENCH_BATCH 1000
#define BENCH_KEYS_MAX 100000000ull
#define BENCH_CACHE_MB_MAX 65536

int bench_storage_main(int argc, char **argv);

struct bench_config {
	const char *engine;
	uint64_t keys;
	const char *dir;
	size_t cache_bytes;
};

/* One engine behind four calls, so the phases are written once. */
struct bench_engine {
	void *impl;
	int (*open)(struct bench_engine *e, const struct bench_config *c, const char *file);
	int (*put_batch)(struct bench_engine *e, const uint8_t *keys, size_t n,
	                 const uint8_t *value);
	int (*get)(struct bench_engine *e, const uint8_t *key, size_t *value_len);
	int (*scan)(struct bench_engine *e, uint64_t *rows);
	void (*close)(struct bench_engine *e);
};

static double bench__now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench__key(uint64_t i, uint8_t *out)
{
	char tmp[BENCH_KEY_BYTES + 1];
	snprintf(tmp, sizeof tmp, "%016llu", (unsigned long long)i);
	memcpy(out, tmp, BENCH_KEY_BYTES);
}

/* ---- cairn ---- */

struct bench_cairn {
	struct vfs *vfs;
	struct kv *kv;
	struct kv_batch batch;
	struct buf value;
};

static int bench__report(err *e, const char *what)
{
	if (!e)
		return 0;
	fprintf(stderr, "cairn-bench: %s: %s\n", what, err_msg(e));
	err_free(e);
	return -1;
}

static int cairn_open(struct bench_engine *be, const struct bench_config *c, const char *file)
{
	struct bench_cairn *b = calloc(1, sizeof *b);
	if (!b)
		return -1;
	be->impl = b;
	kv_batch_init(&b->batch);
	buf_init(&b->value, KV_VALUE_MAX);
	if (bench__report(vfs_posix_new(c->dir, &b->vfs), "opening the directory"))
		return -1;
	struct btree_options o = {.cache_bytes = c->cache_bytes};
	return bench__report(btree_open(b->vfs, file, &o, &b->kv), "opening the b-tree");
}

static int cairn_put_batch(struct bench_engine *be, const uint8_t *keys, size_t n,
                           const uint8_t *value)
{
	struct bench_cairn *b = be->impl;
	kv_batch_clear(&b->batch);
	for (size_t i = 0; i < n; i++) {
		err *e =
		    kv_batch_put(&b->batch, slice_of(keys + i * BENCH_KEY_BYTES, BENCH_KEY_BYTES),
		                 slice_of(value, BENCH_VALUE_BYTES));
		if (bench__report(e, "batch"))
			return -1;
	}
	if (bench__report(kv_apply(b->kv, &b->batch), "apply"))
		return -1;
	return bench__report(kv_commit(b->kv, slice_of("", 0), true), "commit");
}

static int cairn_get(struct bench_engine *be, const uint8_t *key, size_t *value_len)
{
	struct bench_cairn *b = be->impl;
	bool found;
	if (bench__report(kv_get(b->kv, slice_of(key, BENCH_KEY_BYTES), &b->value, &found), "get"))
		return -1;
	*value_len = found ? b->value.len : 0;
	return found ? 0 : -1;
}

static int cairn_scan(struct bench_engine *be, uint64_t *rows)
{
	struct bench_cairn *b = be->impl;
	struct kv_iter *it;
	if (bench__report(kv_iter_open(b->kv, NULL, NULL, false, &it), "scan"))
		return -1;
	*rows = 0;
	for (;;) {
		struct slice k, v;
		bool done;
		if (bench__report(kv_iter_next(it, &k, &v, &done), "scan")) {
			kv_iter_close(it);
			return -1;
		}
		if (done)
			break;
		(*rows)++;
	}
	kv_iter_close(it);
	return 0;
}

static void cairn_close(struct bench_engine *be)
{
	struct bench_cairn *b = be->impl;
	if (!b)
		return;
	if (b->kv) {
		uint64_t hits, misses;
		btree_cache_counts(b->kv, &hits, &misses);
		printf("cairn   page cache: %llu hits, %llu misses\n", (unsigned long long)hits,
		       (unsigned long long)misses);
	}
	kv_close(b->kv);
	vfs_posix_free(b->vfs);
	kv_batch_free(&b->batch);
	buf_free(&b->value);
	free(b);
	be->impl = NULL;
}

static const struct bench_engine bench_cairn_engine = {
    .open = cairn_open,
    .put_batch = cairn_put_batch,
    .get = cairn_get,
    .scan = cairn_scan,
    .close = cairn_close,
};

/* ---- sqlite ---- */

#ifdef CAIRN_HAVE_SQLITE3
struct bench_sqlite {
	sqlite3 *db;
	sqlite3_stmt *insert, *select, *scan, *begin, *commit;
};

static int sqlite__check(struct bench_sqlite *s, int rc, const char *what)
{
	if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	fprintf(stderr, "cairn-bench: sqlite %s: %s\n", what, sqlite3_errmsg(s->db));
	return -1;
}

static int sqlite_open(struct bench_engine *be, const struct bench_config *c, const char *file)
{
	struct bench_sqlite *s = calloc(1, sizeof *s);
	if (!s)
		return -1;
	be->impl = s;
	char path[1024], pragma[128];
	snprintf(path, sizeof path, "%s/%s", c->dir, file);
	if (sqlite__check(s, sqlite3_open(path, &s->db), "open"))
		return -1;
	snprintf(pragma, sizeof pragma, "PRAGMA cache_size=-%zu", c->cache_bytes / 1024);
	const char *setup[] = {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", pragma,
	                       "CREATE TABLE IF NOT EXISTS t (k BLOB PRIMARY KEY, v BLOB) "
	                       "WITHOUT ROWID"};
	for (size_t i = 0; i < sizeof setup / sizeof setup[0]; i++)
		if (sqlite__check(s, sqlite3_exec(s->db, setup[i], NULL, NULL, NULL), setup[i]))
			return -1;
	struct {
		sqlite3_stmt **stmt;
		const char *sql;
	} prep[] = {
	    {&s->insert, "INSERT OR REPLACE INTO t (k, v) VALUES (?, ?)"},
	    {&s->select, "SELECT v FROM t WHERE k = ?"},
	    {&s->scan, "SELECT k, v FROM t ORDER BY k"},
	    {&s->begin, "BEGIN"},
	    {&s->commit, "COMMIT"},
	};
	for (size_t i = 0; i < sizeof prep / sizeof prep[0]; i++)
		if (sqlite__check(s, sqlite3_prepare_v2(s->db, prep[i].sql, -1, prep[i].stmt, NULL),
		                  prep[i].sql))
			return -1;
	return 0;
}

static int sqlite__step_once(struct bench_sqlite *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return sqlite__check(s, rc, what);
}

static int sqlite_put_batch(struct bench_engine *be, const uint8_t *keys, size_t n,
                            const uint8_t *value)
{
	struct bench_sqlite *s = be->impl;
	if (sqlite__step_once(s, s->begin, "begin"))
		return -1;
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_blob(s->insert, 1, keys + i * BENCH_KEY_BYTES, BENCH_KEY_BYTES,
		                  SQLITE_STATIC);
		sqlite3_bind_blob(s->insert, 2, value, BENCH_VALUE_BYTES, SQLITE_STATIC);
		if (sqlite__step_once(s, s->insert, "insert"))
			return -1;
	}
	return sqlite__step_once(s, s->commit, "commit");
}

static int sqlite_get(struct bench_engine *be, const uint8_t *key, size_t *value_len)
{
	struct bench_sqlite *s = be->impl;
	sqlite3_bind_blob(s->select, 1, key, BENCH_KEY_BYTES, SQLITE_STATIC);
	int rc = sqlite3_step(s->select);
	*value_len = rc == SQLITE_ROW ? (size_t)sqlite3_column_bytes(s->select, 0) : 0;
	sqlite3_reset(s->select);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int sqlite_scan(struct bench_engine *be, uint64_t *rows)
{
	struct bench_sqlite *s = be->impl;
	*rows = 0;
	int rc;
	while ((rc = sqlite3_step(s->scan)) == SQLITE_ROW) {
		(void)sqlite3_column_blob(s->scan, 0);
		(void)sqlite3_column_blob(s->scan, 1);
		(*rows)++;
	}
	sqlite3_reset(s->scan);
	return sqlite__check(s, rc, "scan");
}

static void sqlite_close(struct bench_engine *be)
{
	struct bench_sqlite *s = be->impl;
	if (!s)
		return;
	sqlite3_finalize(s->insert);
	sqlite3_finalize(s->select);
	sqlite3_finalize(s->scan);
	sqlite3_finalize(s->begin);
	sqlite3_finalize(s->commit);
	sqlite3_close(s->db);
	free(s);
	be->impl = NULL;
}

static const struct bench_engine bench_sqlite_engine = {
    .open = sqlite_open,
    .put_batch = sqlite_put_batch,
    .get = sqlite_get,
    .scan = sqlite_scan,
    .close = sqlite_close,
};
#endif

/* ---- phases ---- */

static void bench__print(const char *engine, const char *phase, uint64_t ops, double secs)
{
	printf("%-7s %-14s %10llu ops %8.3f s %12.0f ops/s\n", engine, phase,
	       (unsigned long long)ops, secs, secs > 0 ? (double)ops / secs : 0.0);
	fflush(stdout);
}

/* Removes the files a run leaves, so each phase starts from nothing. */
static void bench__remove(const char *dir, const char *file)
{
	const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		char path[1024];
		snprintf(path, sizeof path, "%s/%s%s", dir, file, suffixes[i]);
		if (unlink(path) != 0 && errno != ENOENT)
			fprintf(stderr, "cairn-bench: cannot remove %s: %s\n", path,
			        strerror(errno));
	}
}

/* Inserts the keys whose numbers are in `order` in batches; returns seconds or < 0. */
static double bench__insert(struct bench_engine *e, const struct bench_config *c, const char *file,
                            const uint64_t *order)
{
	bench__remove(c->dir, file);
	if (e->open(e, c, file))
		return -1;
	static uint8_t keys[BENCH_BATCH * BENCH_KEY_BYTES];
	uint8_t value[BENCH_VALUE_BYTES];
	memset(value, 'v', sizeof value);
	double start = bench__now();
	for (uint64_t done = 0; done < c->keys;) {
		size_t n = c->keys - done < BENCH_BATCH ? (size_t)(c->keys - done) : BENCH_BATCH;
		for (size_t i = 0; i < n; i++)
			bench__key(order[done + i], keys + i * BENCH_KEY_BYTES);
		value[0] = (uint8_t)done;
		if (e->put_batch(e, keys, n, value))
			return -1;
		done += n;
	}
	return bench__now() - start;
}

static int bench__run(const char *name, struct bench_engine *e, const struct bench_config *c)
{
	uint64_t *order = malloc(c->keys * sizeof *order);
	if (!order)
		return 1;
	for (uint64_t i = 0; i < c->keys; i++)
		order[i] = i;
	char file[64];
	snprintf(file, sizeof file, "bench-%s.db", name);
	int status = 1;
	double secs = bench__insert(e, c, file, order);
	e->close(e);
	if (secs < 0)
		goto out;
	bench__print(name, "insert-sorted", c->keys, secs);

	struct prng p;
	prng_seed(&p, 20261121);
	for (uint64_t i = c->keys; i > 1; i--) {
		uint64_t j = prng_below(&p, i);
		uint64_t t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
	secs = bench__insert(e, c, file, order);
	if (secs < 0)
		goto out;
	bench__print(name, "insert-random", c->keys, secs);

	uint8_t key[BENCH_KEY_BYTES];
	double start = bench__now();
	for (uint64_t i = 0; i < c->keys; i++) {
		bench__key(order[(i * 7919) % c->keys], key);
		size_t len;
		if (e->get(e, key, &len) || len != BENCH_VALUE_BYTES) {
			fprintf(stderr, "cairn-bench: key %llu missing\n", (unsigned long long)i);
			goto out;
		}
	}
	bench__print(name, "read-random", c->keys, bench__now() - start);

	start = bench__now();
	uint64_t rows;
	if (e->scan(e, &rows) || rows != c->keys) {
		fprintf(stderr, "cairn-bench: scan found %llu rows\n", (unsigned long long)rows);
		goto out;
	}
	bench__print(name, "scan", rows, bench__now() - start);
	status = 0;
out:
	e->close(e);
	bench__remove(c->dir, file);
	free(order);
	return status;
}

int bench_storage_main(int argc, char **argv)
{
	struct bench_config c = {
	    .engine = "cairn", .keys = 1000000, .dir = ".", .cache_bytes = (size_t)64 << 20};
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!val) {
			fprintf(stderr, "cairn-bench storage: %s needs a value\n", arg);
			return 2;
		}
		err *e = NULL;
		if (strcmp(arg, "--engine") == 0) {
			c.engine = val;
		} else if (strcmp(arg, "--keys") == 0) {
			e = number_parse_u64(val, BENCH_KEYS_MAX, &c.keys);
		} else if (strcmp(arg, "--dir") == 0) {
			c.dir = val;
		} else if (strcmp(arg, "--cache-mb") == 0) {
			uint64_t mb = 0;
			e = number_parse_u64(val, BENCH_CACHE_MB_MAX, &mb);
			c.cache_bytes = (size_t)mb << 20;
		} else {
			fprintf(stderr, "cairn-bench storage: unknown option %s\n", arg);
			return 2;
		}
		if (e) {
			fprintf(stderr, "cairn-bench storage: %s: %s\n", arg, err_msg(e));
			err_free(e);
			return 2;
		}
		i++;
	}
	if (c.keys == 0) {
		fprintf(stderr, "cairn-bench storage: --keys must be 1..%llu\n", BENCH_KEYS_MAX);
		return 2;
	}
	struct stat st;
	if (stat(c.dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "cairn-bench storage: %s is not a directory\n", c.dir);
		return 2;
	}
	struct bench_engine e;
	if (strcmp(c.engine, "cairn") == 0) {
		e = bench_cairn_engine;
		return bench__run("cairn", &e, &c);
	}
#ifdef CAIRN_HAVE_SQLITE3
	if (strcmp(c.engine, "sqlite") == 0) {
		e = bench_sqlite_engine;
		return bench__run("sqlite", &e, &c);
	}
#endif
	fprintf(stderr, "cairn-bench storage: unknown or unavailable engine %s\n", c.engine);
	return 2;
}
