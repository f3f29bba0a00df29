/*
 * test_session.c — sessions over a host that commits asynchronously, as a Raft node does:
 * commit records leave the session, are applied to the store at a log index chosen by the
 * "host", and come back as outcomes. Also: transaction control, read-only and time-travel
 * transactions, serialization failures between two sessions, statement atomicity inside
 * a transaction, and the catalog views.
 */
#include <check.h>
#include <stdio.h>

#include "check_main.h"
#include "sql/catalog.h"
#include "sql/keys.h"
#include "sql/session.h"
#include "sql_check.h"
#include "storage/kv_memory.h"

/* A host whose log is simulated: commits are applied at the next index by hand. */
struct fake_node {
	struct kv *kv;
	struct mvcc *mvcc;
	struct prng prng;
};

static struct fake_node node;

static err *read_point(void *ctx, bool validated_write, uint64_t *version)
{
	(void)validated_write;
	struct fake_node *n = ctx;
	*version = mvcc_applied_version(n->mvcc);
	return NULL;
}

static void setup(void)
{
	ck_assert_ptr_null(kvmem_open(&node.kv));
	prng_seed(&node.prng, 42);
	struct mvcc_options opts = {.prng = &node.prng};
	ck_assert_ptr_null(mvcc_open(node.kv, &opts, &node.mvcc));
}

static void teardown(void)
{
	mvcc_close(node.mvcc);
	kv_close(node.kv);
}

static struct sql_session *open_session(void)
{
	struct sql_host host = {.ctx = &node, .store = node.mvcc, .read_version = read_point};
	struct sql_session *s;
	ck_assert_ptr_null(sql_session_new(&host, &s));
	return s;
}

/* "Proposes" the pending transaction and applies it at the next log index. */
static char *replicate(struct sql_session *s)
{
	struct mvcc_txn *txn = sql_session_pending_txn(s);
	ck_assert_ptr_nonnull(txn);
	struct buf record;
	buf_init(&record, MVCC_RECORD_MAX_BYTES);
	ck_assert_ptr_null(mvcc_txn_encode_commit(txn, &record));
	struct mvcc_outcome outcome;
	uint64_t index = mvcc_applied_version(node.mvcc) + 1;
	ck_assert_ptr_null(mvcc_apply(node.mvcc, record.data, record.len, index, &outcome));
	buf_free(&record);
	struct sql_result r;
	sql_session_commit_done(s, &outcome, NULL, &r);
	ck_assert_ptr_null(sql_session_pending_txn(s));
	char *out = sql_check_render(&r);
	if (r.kind == SQL_RESULT_ACK && r.ack == SQL_ACK_COMMIT)
		ck_assert_uint_eq(r.version, index);
	sql_result_free(&r);
	return out;
}

static enum sql_step step(struct sql_session *s, const char *sql, char **rendered)
{
	struct sql_result r;
	size_t used;
	enum sql_step st = sql_session_step(s, sql, strlen(sql), &r, &used);
	ck_assert_uint_eq(used, strlen(sql));
	*rendered = st == SQL_STEP_DONE ? sql_check_render(&r) : NULL;
	if (st == SQL_STEP_DONE)
		sql_result_free(&r);
	return st;
}

START_TEST(autocommit_goes_through_the_host)
{
	struct sql_session *s = open_session();
	char *out;
	ck_assert_int_eq(step(s, "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)", &out),
	                 SQL_STEP_COMMIT_PENDING);
	ck_assert_str_eq(replicate(s), "ok");
	ck_assert_int_eq(step(s, "INSERT INTO t VALUES (1, 10), (2, 20)", &out),
	                 SQL_STEP_COMMIT_PENDING);
	/* nothing else runs while a commit is pending */
	ck_assert_int_eq(step(s, "SELECT 1", &out), SQL_STEP_DONE);
	ck_assert_str_eq(out, "Error(invalid): a commit is pending");
	ck_assert_str_eq(replicate(s), "count 2");
	/* reads never leave the session */
	ck_assert_int_eq(step(s, "SELECT v FROM t ORDER BY id", &out), SQL_STEP_DONE);
	ck_assert_str_eq(out, "10\n20");
	ck_assert_ptr_null(sql_session_pending_txn(s));
	/* a statement that changes nothing needs no log entry either */
	ck_assert_int_eq(step(s, "DELETE FROM t WHERE id = 9", &out), SQL_STEP_DONE);
	ck_assert_str_eq(out, "count 0");
	sql_session_close(s);
}
END_TEST

START_TEST(explicit_transactions)
{
	struct sql_session *s = open_session();
	char *out;
	ck_assert_int_eq(step(s, "CREATE TABLE t (id INTEGER PRIMARY KEY)", &out),
	                 SQL_STEP_COMMIT_PENDING);
	replicate(s);
	ck_assert_int_eq(step(s, "BEGIN", &out), SQL_STEP_DONE);
	ck_assert(sql_session_in_transaction(s));
	ck_assert_int_eq(step(s, "BEGIN", &out), SQL_STEP_DONE);
	ck_assert_str_eq(out, "Error(invalid): a transaction is already open");
	ck_assert_int_eq(step(s, "INSERT INTO t VALUES (1)", &out), SQL_STEP_DONE);
	ck_assert_str_eq(out, "count 1");
	/* a failing statement leaves the transaction as it was */
	ck_assert_int_eq(step(s, "INSERT INTO t VALUES (2), (1)", &out), SQL_STEP_DONE);
	ck_assert(starts(out, "Error(constraint)"));
	ck_assert(sql_session_in_transaction(s));
	ck_assert_int_eq(step(s, "SELECT id FROM t", &out), SQL_STEP_DONE);
	ck_assert_str_eq(out, "1");
	ck_assert_int_eq(step(s, "COMMIT", &out), SQL_STEP_COMMIT_PENDING);
	ck_assert_str_eq(replicate(s), "ok");
	ck_assert(!sql_session_in_transaction(s));
	ck_assert_int_eq(step(s, "COMMIT", &out), SQL_STEP_DONE);
	ck_assert_str_eq(out, "Error(invalid): no transaction is open");
	ck_assert_int_eq(step(s, "ROLLBACK", &out), SQL_STEP_DONE);
	ck_assert_str_eq(out, "Error(invalid): no transaction is open");
	/* ROLLBACK discards */
	step(s, "BEGIN", &out);
	step(s, "DELETE FROM t", &out);
	ck_assert_int_eq(step(s, "ROLLBACK", &out), SQL_STEP_DONE);
	ck_assert_str_eq(out, "ok");
	step(s, "SELECT count(*) FROM t", &out);
	ck_assert_str_eq(out, "1");
	sql_session_close(s);
}
END_TEST

START_TEST(serialization_failure)
{
	struct sql_session *a = open_session(), *b = open_session();
	char *out;
	step(a, "CREATE TABLE acct (id INTEGER PRIMARY KEY, bal INTEGER)", &out);
	replicate(a);
	step(a, "INSERT INTO acct VALUES (1, 100)", &out);
	replicate(a);
	step(a, "BEGIN", &out);
	step(b, "BEGIN", &out);
	step(a, "UPDATE acct SET bal = bal - 10 WHERE id = 1", &out);
	step(b, "UPDATE acct SET bal = bal - 20 WHERE id = 1", &out);
	ck_assert_int_eq(step(a, "COMMIT", &out), SQL_STEP_COMMIT_PENDING);
	ck_assert_int_eq(step(b, "COMMIT", &out), SQL_STEP_COMMIT_PENDING);
	ck_assert_str_eq(replicate(a), "ok");
	ck_assert_str_eq(replicate(b),
	                 "Error(serialization failure): serialization failure, retry transaction");
	ck_assert(!sql_session_in_transaction(b));
	step(b, "SELECT bal FROM acct", &out);
	ck_assert_str_eq(out, "90");
	sql_session_close(a);
	sql_session_close(b);
}
END_TEST

/*
 * Runs `first_sql` in a transaction of `first` and `second_sql` in one of `second`, both
 * begun before either commits; `first` commits, and `second` must fail to.
 */
static void second_conflicts(struct sql_session *first, const char *first_sql,
                             struct sql_session *second, const char *second_sql)
{
	char *out;
	step(first, "BEGIN", &out);
	step(second, "BEGIN", &out);
	step(first, first_sql, &out);
	step(second, second_sql, &out);
	ck_assert_int_eq(step(first, "COMMIT", &out), SQL_STEP_COMMIT_PENDING);
	ck_assert_int_eq(step(second, "COMMIT", &out), SQL_STEP_COMMIT_PENDING);
	ck_assert_str_eq(replicate(first), "ok");
	ck_assert_str_eq(replicate(second),
	                 "Error(serialization failure): serialization failure, retry transaction");
}

/*
 * Range deletions conflict like the row-by-row writes they replace: DELETE without WHERE
 * against a concurrent INSERT (whichever commits second fails), and DROP TABLE against a
 * concurrent writer of the table.
 */
START_TEST(range_deletions_conflict_with_concurrent_writers)
{
	struct sql_session *a = open_session(), *b = open_session();
	char *out;
	step(a, "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)", &out);
	replicate(a);
	step(a, "INSERT INTO t VALUES (1, 1), (2, 2)", &out);
	replicate(a);
	/* the insert commits first: the delete, which counted what it would delete, fails */
	second_conflicts(b, "INSERT INTO t VALUES (3, 3)", a, "DELETE FROM t");
	step(a, "SELECT COUNT(*) FROM t", &out);
	ck_assert_str_eq(out, "3");
	/* the delete commits first: the insert, which checked its key was free, fails */
	second_conflicts(a, "DELETE FROM t", b, "INSERT INTO t VALUES (4, 4)");
	step(a, "SELECT COUNT(*) FROM t", &out);
	ck_assert_str_eq(out, "0");
	/* a writer of the table against DROP TABLE */
	step(a, "INSERT INTO t VALUES (5, 5)", &out);
	replicate(a);
	second_conflicts(a, "DROP TABLE t", b, "UPDATE t SET v = 6 WHERE id = 5");
	step(b, "SELECT * FROM t", &out);
	ck_assert_str_eq(out, "Error(not found): no such table: t");
	sql_session_close(a);
	sql_session_close(b);
}
END_TEST

/*
 * A UNIQUE check that finds no clash reads the empty index range: two transactions
 * inserting the same value under different keys cannot both commit.
 */
START_TEST(concurrent_unique_inserts_conflict)
{
	struct sql_session *a = open_session(), *b = open_session();
	char *out;
	step(a, "CREATE TABLE u (id INTEGER PRIMARY KEY, email TEXT UNIQUE)", &out);
	replicate(a);
	second_conflicts(a, "INSERT INTO u VALUES (1, 'x')", b, "INSERT INTO u VALUES (2, 'x')");
	step(a, "SELECT count(*) FROM u", &out);
	ck_assert_str_eq(out, "1");
	/* a read of an empty table is a read too */
	second_conflicts(a, "INSERT INTO u SELECT 10 + count(*), 'a' FROM u WHERE id > 5", b,
	                 "INSERT INTO u SELECT 20 + count(*), 'b' FROM u WHERE id > 5");
	sql_session_close(a);
	sql_session_close(b);
}
END_TEST

START_TEST(read_only_and_time_travel)
{
	struct sql_session *s = open_session();
	char *out;
	step(s, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", &out);
	replicate(s);
	step(s, "INSERT INTO t VALUES (1, 'old')", &out);
	replicate(s);
	uint64_t old_version = mvcc_applied_version(node.mvcc);
	step(s, "UPDATE t SET v = 'new'", &out);
	replicate(s);

	ck_assert_int_eq(step(s, "BEGIN READ ONLY", &out), SQL_STEP_DONE);
	ck_assert_int_eq(step(s, "INSERT INTO t VALUES (2, 'x')", &out), SQL_STEP_DONE);
	ck_assert_str_eq(out, "Error(invalid): cannot write in a READ ONLY transaction");
	ck_assert_int_eq(step(s, "COMMIT", &out), SQL_STEP_DONE); /* no log entry */
	ck_assert_str_eq(out, "ok");

	char sql[96];
	snprintf(sql, sizeof sql, "BEGIN READ ONLY AS OF SYSTEM TIME %llu",
	         (unsigned long long)old_version);
	struct sql_result r;
	size_t used;
	ck_assert_int_eq(sql_session_step(s, sql, strlen(sql), &r, &used), SQL_STEP_DONE);
	ck_assert_int_eq(r.kind, SQL_RESULT_ACK);
	ck_assert_uint_eq(r.version, old_version);
	ck_assert(r.read_only);
	sql_result_free(&r);
	step(s, "SELECT v FROM t", &out);
	ck_assert_str_eq(out, "old");
	step(s, "COMMIT", &out);
	step(s, "SELECT v FROM t", &out);
	ck_assert_str_eq(out, "new");
	sql_session_close(s);
}
END_TEST

START_TEST(host_failure_and_catalog_views)
{
	struct sql_session *s = open_session();
	char *out;
	step(s,
	     "CREATE TABLE zeta (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL UNIQUE, "
	     "score FLOAT DEFAULT 1.5)",
	     &out);
	replicate(s);
	step(s, "CREATE TABLE alpha (z INTEGER REFERENCES zeta)", &out);
	replicate(s);
	step(s, "CREATE INDEX alpha_z ON alpha (z)", &out);
	replicate(s);

	/* the host lost track of the proposal: the error is the result */
	ck_assert_int_eq(step(s, "INSERT INTO zeta VALUES (1, 'a', 2)", &out),
	                 SQL_STEP_COMMIT_PENDING);
	struct sql_result r;
	sql_session_commit_done(s, NULL, err_new(ERR_UNKNOWN_OUTCOME, "leader changed"), &r);
	ck_assert_str_eq(sql_check_render(&r), "Error(outcome unknown): leader changed");
	sql_result_free(&r);

	struct sql_names names;
	ck_assert_ptr_null(sql_session_tables(s, &names));
	ck_assert_uint_eq(names.count, 2);
	ck_assert_str_eq(names.names[0], "alpha");
	ck_assert_str_eq(names.names[1], "zeta");
	sql_names_free(&names);

	struct buf text;
	buf_init(&text, 4096);
	ck_assert_ptr_null(sql_session_describe_table(s, "zeta", &text));
	ck_assert_ptr_null(buf_append(&text, "", 1));
	ck_assert_str_eq((char *)text.data, "CREATE TABLE zeta (\n"
	                                    "  id INTEGER PRIMARY KEY,\n"
	                                    "  name VARCHAR(20) NOT NULL UNIQUE,\n"
	                                    "  score FLOAT DEFAULT 1.5\n"
	                                    ");\n");
	buf_clear(&text);
	ck_assert_ptr_null(sql_session_describe_table(s, "alpha", &text));
	ck_assert_ptr_null(buf_append(&text, "", 1));
	ck_assert_str_eq((char *)text.data, "CREATE TABLE alpha (\n"
	                                    "  z INTEGER REFERENCES zeta\n"
	                                    ");\n"
	                                    "CREATE INDEX alpha_z ON alpha (z);\n");
	err *e = sql_session_describe_table(s, "nope", &text);
	ck_assert(err_is(e, ERR_NOT_FOUND));
	err_free(e);
	buf_free(&text);
	sql_session_close(s);
}
END_TEST

START_TEST(scripts_and_syntax_errors)
{
	struct sql_session *s = open_session();
	const char *text = "  -- nothing but a comment\n  ";
	struct sql_result r;
	size_t used;
	ck_assert_int_eq(sql_session_step(s, text, strlen(text), &r, &used), SQL_STEP_DONE);
	ck_assert_int_eq(r.kind, SQL_RESULT_NONE);
	ck_assert_uint_eq(used, strlen(text));
	sql_result_free(&r);
	text = "SELECT 1; SELECT 2";
	ck_assert_int_eq(sql_session_step(s, text, strlen(text), &r, &used), SQL_STEP_DONE);
	ck_assert_str_eq(sql_check_render(&r), "1");
	ck_assert_uint_eq(used, 9);
	sql_result_free(&r);
	text = "SELEC 1; SELECT 2";
	ck_assert_int_eq(sql_session_step(s, text, strlen(text), &r, &used), SQL_STEP_DONE);
	ck_assert_int_eq(r.kind, SQL_RESULT_ERROR);
	ck_assert(err_is(r.error, ERR_SYNTAX));
	ck_assert_uint_eq(used, strlen(text));
	sql_result_free(&r);
	sql_session_close(s);
}
END_TEST

/* A host that has a read point only every other time it is asked, like a node's. */
static unsigned read_point_asks;

static err *read_point_every_other(void *ctx, bool validated_write, uint64_t *version)
{
	if (read_point_asks++ % 2 == 0)
		return err_new(ERR_UNAVAILABLE, "no read point yet");
	return read_point(ctx, validated_write, version);
}

/* Steps `text`, which the host has no read point for yet: it must fail for want of one. */
static void step_without_read_point(struct sql_session *s, const char *text)
{
	struct sql_result r;
	size_t used;
	ck_assert_int_eq(sql_session_step(s, text, strlen(text), &r, &used), SQL_STEP_DONE);
	ck_assert(err_is(r.error, ERR_UNAVAILABLE));
	sql_result_free(&r);
}

/* Steps `text` once more, now with a read point; its rendered result and *used. */
static char *step_with_read_point(struct sql_session *s, const char *text, size_t *used)
{
	struct sql_result r;
	ck_assert_int_eq(sql_session_step(s, text, strlen(text), &r, used), SQL_STEP_DONE);
	char *out = sql_check_render(&r);
	sql_result_free(&r);
	return out;
}

START_TEST(a_statement_that_could_not_begin_runs_again_as_written_then)
{
	struct sql_session *setup_s = open_session();
	char *out;
	step(setup_s, "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)", &out);
	replicate(setup_s);
	step(setup_s, "INSERT INTO t VALUES (1, 10), (2, 20)", &out);
	replicate(setup_s);
	sql_session_close(setup_s);

	struct sql_host host = {
	    .ctx = &node, .store = node.mvcc, .read_version = read_point_every_other};
	struct sql_session *s;
	ck_assert_ptr_null(sql_session_new(&host, &s));
	read_point_asks = 0;
	char text[64];
	size_t used;
	/* the same text again: the kept statement runs */
	strcpy(text, "SELECT v FROM t WHERE id = 1; SELECT 3");
	step_without_read_point(s, text);
	ck_assert_str_eq(step_with_read_point(s, text, &used), "10");
	ck_assert_uint_eq(used, strlen("SELECT v FROM t WHERE id = 1;"));
	/* new bytes in the same buffer, of the same length: parsed anew */
	strcpy(text, "SELECT v FROM t WHERE id = 1");
	step_without_read_point(s, text);
	strcpy(text, "SELECT v FROM t WHERE id = 2");
	ck_assert_str_eq(step_with_read_point(s, text, &used), "20");
	/* a statement that ran to the end of its text is not one that goes on further */
	strcpy(text, "SELECT v FROM t WHERE id = 1 -- one;");
	step_without_read_point(s, text);
	strcat(text, "\n+ 1");
	ck_assert_str_eq(step_with_read_point(s, text, &used), "20");
	/* a write that could not begin is kept the same way and commits once */
	strcpy(text, "INSERT INTO t VALUES (3, 30)");
	step_without_read_point(s, text);
	struct sql_result r;
	ck_assert_int_eq(sql_session_step(s, text, strlen(text), &r, &used),
	                 SQL_STEP_COMMIT_PENDING);
	ck_assert_str_eq(replicate(s), "count 1");
	sql_session_close(s);
}
END_TEST

START_TEST(the_schema_cache_shares_tables_and_keeps_a_statement_s_own)
{
	struct sql_session *s = open_session();
	char *out;
	const char *names[] = {"t0", "t1", "t2", "t3", "t4", "t5"};
	for (int i = 0; i < 6; i++) {
		char sql[96];
		snprintf(sql, sizeof sql, "CREATE TABLE %s (id INTEGER PRIMARY KEY, v INTEGER)",
		         names[i]);
		step(s, sql, &out);
		replicate(s);
	}
	struct mvcc_txn *m;
	ck_assert_ptr_null(mvcc_begin(node.mvcc, MVCC_LATEST, MVCC_READ_ONLY, &m));
	struct sql_catalog_cache *cache;
	ck_assert_ptr_null(sql_catalog_cache_new(&cache));
	struct sql_txn t;
	sql_txn_init(&t, m);
	t.catalog_cache = cache;
	struct sql_arena arena;
	sql_arena_init(&arena, SQL_ARENA_DEFAULT_MAX_BYTES);
	/* one statement reads more tables than the cache holds: every one stays readable */
	const struct sql_table *seen[6];
	for (int i = 0; i < 6; i++) {
		ck_assert_ptr_null(sql_catalog_read(&t, &arena, names[i], &seen[i]));
		ck_assert_ptr_nonnull(seen[i]);
	}
	for (int i = 0; i < 6; i++)
		ck_assert_str_eq(seen[i]->name, names[i]);
	/* the next statement shares what the cache kept, and decodes the rest again */
	sql_catalog_cache_next_statement(cache);
	const struct sql_table *again;
	ck_assert_ptr_null(sql_catalog_read(&t, &arena, "t0", &again));
	ck_assert_ptr_eq(again, seen[0]);
	ck_assert_ptr_null(sql_catalog_read(&t, &arena, "t5", &again));
	ck_assert_str_eq(again->name, "t5");
	ck_assert_ptr_null(sql_catalog_read(&t, &arena, "nope", &again));
	ck_assert_ptr_null(again);
	mvcc_txn_free(m);
	/* a changed schema is other bytes: decoded anew, with its index */
	step(s, "CREATE INDEX t0_v ON t0 (v)", &out);
	replicate(s);
	ck_assert_ptr_null(mvcc_begin(node.mvcc, MVCC_LATEST, MVCC_READ_ONLY, &m));
	sql_txn_init(&t, m);
	t.catalog_cache = cache;
	sql_catalog_cache_next_statement(cache);
	ck_assert_ptr_null(sql_catalog_read(&t, &arena, "t0", &again));
	ck_assert_ptr_ne(again, seen[0]);
	ck_assert_uint_eq(again->index_count, 1);
	ck_assert_str_eq(again->indexes[0].name, "t0_v");
	/* without a cache the table is the statement's own */
	t.catalog_cache = NULL;
	const struct sql_table *own;
	ck_assert_ptr_null(sql_catalog_read(&t, &arena, "t0", &own));
	ck_assert_ptr_ne(own, again);
	ck_assert_uint_eq(own->index_count, 1);
	mvcc_txn_free(m);
	sql_arena_free(&arena);
	sql_catalog_cache_free(cache);
	sql_session_close(s);
}
END_TEST

/* Writes raw bytes under `key` in one committed transaction, bypassing SQL. */
static void poke(const struct buf *key, const char *value)
{
	struct mvcc_txn *txn;
	ck_assert_ptr_null(mvcc_begin(node.mvcc, MVCC_LATEST, 0, &txn));
	ck_assert_ptr_null(mvcc_put(txn, buf_slice(key), slice_of(value, strlen(value))));
	struct mvcc_outcome outcome;
	ck_assert_ptr_null(mvcc_commit_local(node.mvcc, txn, &outcome));
	ck_assert(outcome.committed);
	mvcc_txn_free(txn);
}

START_TEST(stored_data_is_not_trusted)
{
	struct sql_session *s = open_session();
	char *out;
	step(s, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", &out);
	replicate(s);
	step(s, "INSERT INTO t VALUES (1, 'fine')", &out);
	replicate(s);
	/* a row that is not msgpack, under a key of table t (id 1) */
	struct buf key;
	buf_init(&key, 600);
	struct sql_value two = sql_int(2);
	ck_assert_ptr_null(sql_key_row(&key, 1, &two));
	poke(&key, "\xc1garbage");
	ck_assert_int_eq(step(s, "SELECT v FROM t WHERE id = 1", &out), SQL_STEP_DONE);
	ck_assert_str_eq(out, "fine");
	ck_assert_int_eq(step(s, "SELECT v FROM t", &out), SQL_STEP_DONE);
	ck_assert(starts(out, "Error(decode)") || starts(out, "Error(corruption)"));
	/* a schema that is not one */
	ck_assert_ptr_null(sql_key_catalog(&key, "bad"));
	poke(&key, "\x93\x01");
	ck_assert_int_eq(step(s, "SELECT * FROM bad", &out), SQL_STEP_DONE);
	ck_assert(starts(out, "Error(decode)"));
	/* the schema cache entry the bad one took is free again, and good schemas still read */
	ck_assert_int_eq(step(s, "SELECT v FROM t WHERE id = 1", &out), SQL_STEP_DONE);
	ck_assert_str_eq(out, "fine");
	buf_free(&key);
	sql_session_close(s);
}
END_TEST

static Suite *suite(void)
{
	Suite *su = suite_create("sql_session");
	TCase *t = tcase_create("session");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, autocommit_goes_through_the_host);
	tcase_add_test(t, a_statement_that_could_not_begin_runs_again_as_written_then);
	tcase_add_test(t, the_schema_cache_shares_tables_and_keeps_a_statement_s_own);
	tcase_add_test(t, explicit_transactions);
	tcase_add_test(t, serialization_failure);
	tcase_add_test(t, range_deletions_conflict_with_concurrent_writers);
	tcase_add_test(t, concurrent_unique_inserts_conflict);
	tcase_add_test(t, read_only_and_time_travel);
	tcase_add_test(t, host_failure_and_catalog_views);
	tcase_add_test(t, scripts_and_syntax_errors);
	tcase_add_test(t, stored_data_is_not_trusted);
	suite_add_tcase(su, t);
	return su;
}

int main(void)
{
	return check_run(suite());
}
