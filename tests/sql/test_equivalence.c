/*
 * test_equivalence.c — the optimizer changes plans, never results.
 *
 * Two sessions share one small random database with primary keys, secondary indexes
 * (one of two columns), NULLs and mixed INTEGER/FLOAT values. One runs with the
 * optimizer on, the other with every rule off (sql_session_set_optimizer), so it executes
 * the planner's literal plan: full scans, nested loop joins, filters where the query
 * wrote them, full sorts under LIMIT. Every random query must give both sessions the same
 * result: the same sequence of rows when its ORDER BY fully determines the order (it
 * sorts on every table's primary key, or on the GROUP BY keys), the same multiset of rows
 * otherwise.
 *
 * The queries (seeded, so every failure reproduces) cover selections with random
 * predicates (comparisons with constants and NULL, IN and NOT IN lists with NULLs,
 * BETWEEN, IS NULL, LIKE, column against column, uncorrelated and correlated subqueries)
 * on indexed and unindexed columns; joins of one to four tables, inner, comma, LEFT and
 * RIGHT, on equalities, inequalities and mixed conditions; DISTINCT; aggregates with
 * GROUP BY and HAVING; ORDER BY with LIMIT and OFFSET. FLOAT values are multiples of 1/4,
 * so sums are exact whatever order rows arrive in. A second family joins two tables on
 * their primary keys (merge joins when optimized; the random joins rarely pick that pair)
 * with random conditions and key ranges.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/prng.h"
#include "check_main.h"
#include "sql_check.h"

#define EQ_SEEDS 4
#define EQ_QUERIES_PER_SEED 100
#define EQ_SQL_BYTES 8192
#define EQ_MAX_TABLES 4

static struct sql_db *db;
static struct sql_session *optimized, *literal;
static struct prng rng;

/* ---- the database ---- */

enum col_type { INT, FLT, TXT };

struct column {
	const char *name; /* qualified: "t1.a" */
	enum col_type type;
};

struct table {
	const char *name;
	bool has_pk; /* its first column is the primary key */
	uint32_t column_count;
	struct column columns[5];
};

static const struct table tables[EQ_MAX_TABLES] = {
    {"t1", true, 5, {{"t1.id", INT}, {"t1.a", INT}, {"t1.b", INT}, {"t1.f", FLT}, {"t1.s", TXT}}},
    {"t2", true, 4, {{"t2.id", INT}, {"t2.t1_id", INT}, {"t2.v", INT}, {"t2.s", TXT}}},
    {"t3", true, 3, {{"t3.id", INT}, {"t3.k", INT}, {"t3.w", FLT}}},
    {"t4", false, 2, {{"t4.x", INT}, {"t4.y", INT}}},
};

static void setup(void)
{
	ck_assert_ptr_null(sql_db_open(":memory:", &db));
	ck_assert_ptr_null(sql_session_open(db, &optimized));
	ck_assert_ptr_null(sql_session_open(db, &literal));
	sql_session_set_optimizer(literal, false);
	script(optimized,
	       "CREATE TABLE t1 (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, f FLOAT, s TEXT);"
	       "CREATE INDEX t1_a ON t1 (a); CREATE INDEX t1_f ON t1 (f);"
	       "CREATE INDEX t1_s ON t1 (s);"
	       "CREATE TABLE t2 (id INTEGER PRIMARY KEY, t1_id INTEGER, v INTEGER, s TEXT);"
	       "CREATE INDEX t2_t1 ON t2 (t1_id); CREATE INDEX t2_vs ON t2 (v, s);"
	       "CREATE TABLE t3 (id INTEGER PRIMARY KEY, k INTEGER, w FLOAT);"
	       "CREATE INDEX t3_k ON t3 (k);"
	       "CREATE TABLE t4 (x INTEGER, y INTEGER); CREATE INDEX t4_x ON t4 (x)");
}

static void teardown(void)
{
	sql_session_close(optimized);
	sql_session_close(literal);
	sql_db_close(db);
}

/* An INTEGER in [lo, hi], or NULL with probability `nulls`, as SQL text in out. */
static const char *int_or_null(char *out, size_t size, int64_t lo, int64_t hi, double nulls)
{
	if (prng_chance(&rng, nulls))
		return "NULL";
	snprintf(out, size, "%lld", (long long)prng_between(&rng, lo, hi));
	return out;
}

/* A FLOAT that is a multiple of 1/4 in [lo/4, hi/4], or NULL. */
static const char *float_or_null(char *out, size_t size, int64_t lo, int64_t hi, double nulls)
{
	if (prng_chance(&rng, nulls))
		return "NULL";
	snprintf(out, size, "%.2f", (double)prng_between(&rng, lo, hi) / 4);
	return out;
}

/* One of the first `letters` lowercase letters as a string literal, or NULL. */
static const char *letter_or_null(char *out, size_t size, uint64_t letters, double nulls)
{
	if (prng_chance(&rng, nulls))
		return "NULL";
	snprintf(out, size, "'%c'", (char)('a' + prng_below(&rng, letters)));
	return out;
}

static void insert(const char *sql)
{
	ck_assert_str_eq(q(optimized, sql), "count 1");
}

static void fill(void)
{
	char sql[256], a[24], b[24], c[24], d[24];
	for (int id = 1; id <= 20; id++) {
		snprintf(sql, sizeof sql, "INSERT INTO t1 VALUES (%d, %s, %s, %s, %s)", id,
		         int_or_null(a, sizeof a, -2, 6, 0.15), int_or_null(b, sizeof b, 0, 9, 0.1),
		         float_or_null(c, sizeof c, -12, 12, 0.15),
		         letter_or_null(d, sizeof d, 6, 0.1));
		insert(sql);
	}
	for (int id = 1; id <= 25; id++) {
		snprintf(sql, sizeof sql, "INSERT INTO t2 VALUES (%d, %s, %s, %s)", id,
		         int_or_null(a, sizeof a, 0, 22, 0.1),
		         int_or_null(b, sizeof b, -1, 6, 0.15),
		         letter_or_null(c, sizeof c, 3, 0.1));
		insert(sql);
	}
	for (int id = 1; id <= 15; id++) {
		snprintf(sql, sizeof sql, "INSERT INTO t3 VALUES (%d, %s, %s)", id,
		         int_or_null(a, sizeof a, 0, 8, 0.15),
		         float_or_null(b, sizeof b, -8, 8, 0.1));
		insert(sql);
	}
	for (int i = 0; i < 12; i++) {
		snprintf(sql, sizeof sql, "INSERT INTO t4 VALUES (%s, %s)",
		         int_or_null(a, sizeof a, 0, 8, 0.1), int_or_null(b, sizeof b, -3, 3, 0.1));
		insert(sql);
	}
}

/* ---- random queries ---- */

struct query {
	char sql[EQ_SQL_BYTES];
	size_t len;
	uint32_t table_count;
	const struct table *from[EQ_MAX_TABLES];
	bool ordered; /* the ORDER BY fixes the order of every row */
};

static void put(struct query *qr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct query *qr, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(qr->sql + qr->len, sizeof qr->sql - qr->len, fmt, ap);
	va_end(ap);
	ck_assert(n >= 0 && (size_t)n < sizeof qr->sql - qr->len);
	qr->len += (size_t)n;
}

/* A random column in scope: of type `want`, or any numeric one (INT/FLT) otherwise. */
static const struct column *column_of(const struct query *qr, enum col_type want)
{
	for (int attempt = 0; attempt < 32; attempt++) {
		const struct table *t = qr->from[prng_below(&rng, qr->table_count)];
		const struct column *c = &t->columns[prng_below(&rng, t->column_count)];
		if (c->type == want || (want != TXT && c->type != TXT))
			return c;
	}
	return &qr->from[0]->columns[0]; /* every table starts with an INTEGER column */
}

static const struct column *any_column(const struct query *qr)
{
	return column_of(qr, prng_chance(&rng, 0.2) ? TXT : INT);
}

/* A constant comparable with column c (sometimes NULL, sometimes a mixed number). */
static void constant(struct query *qr, const struct column *c)
{
	if (prng_chance(&rng, 0.06))
		put(qr, "NULL");
	else if (c->type == TXT)
		put(qr, "'%c'", (char)('a' + prng_below(&rng, 6)));
	else if (prng_chance(&rng, c->type == FLT ? 0.7 : 0.15))
		put(qr, "%.2f", (double)prng_between(&rng, -12, 36) / 4);
	else
		put(qr, "%lld", (long long)prng_between(&rng, -3, 9));
}

static const char *comparison(void)
{
	static const char *ops[] = {"=", "<>", "<", "<=", ">", ">="};
	return ops[prng_below(&rng, 6)];
}

/* A subquery condition on column c (numeric), some correlated through c. */
static void subquery_atom(struct query *qr, const struct column *c)
{
	switch (prng_below(&rng, 5)) {
	case 0:
		put(qr, "%s %sIN (SELECT sq.k FROM t3 AS sq WHERE sq.w > %.2f)", c->name,
		    prng_chance(&rng, 0.4) ? "NOT " : "", (double)prng_between(&rng, -8, 4) / 4);
		break;
	case 1:
		put(qr, "%sEXISTS (SELECT 1 FROM t2 AS sq WHERE sq.t1_id = %s AND sq.v > %lld)",
		    prng_chance(&rng, 0.3) ? "NOT " : "", c->name,
		    (long long)prng_between(&rng, -1, 5));
		break;
	case 2: put(qr, "%s %s (SELECT max(sq.k) FROM t3 AS sq)", c->name, comparison()); break;
	case 3:
		put(qr, "(SELECT count(*) FROM t4 AS sq WHERE sq.x = %s) %s %lld", c->name,
		    comparison(), (long long)prng_between(&rng, 0, 2));
		break;
	default: put(qr, "%s NOT IN (SELECT sq.v FROM t2 AS sq WHERE sq.id < 8)", c->name);
	}
}

/* One condition over the columns in scope. */
static void atom(struct query *qr)
{
	const struct column *c = any_column(qr);
	switch (prng_below(&rng, 9)) {
	case 0:
	case 1:
		put(qr, "%s %s ", c->name, comparison());
		constant(qr, c);
		break;
	case 2: {
		uint64_t n = 2 + prng_below(&rng, 3);
		put(qr, "%s %sIN (", c->name, prng_chance(&rng, 0.25) ? "NOT " : "");
		for (uint64_t i = 0; i < n; i++) {
			if (i)
				put(qr, ", ");
			constant(qr, c);
		}
		put(qr, ")");
		break;
	}
	case 3:
		put(qr, "%s %sBETWEEN ", c->name, prng_chance(&rng, 0.2) ? "NOT " : "");
		constant(qr, c);
		put(qr, " AND ");
		constant(qr, c);
		break;
	case 4: put(qr, "%s IS %sNULL", c->name, prng_chance(&rng, 0.5) ? "NOT " : ""); break;
	case 5: {
		const struct column *d = column_of(qr, c->type);
		if (d->type == TXT && c->type != TXT)
			d = c;
		put(qr, "%s %s %s", c->name, comparison(), d->name);
		break;
	}
	case 6:
		if (c->type == TXT)
			put(qr, "%s LIKE '%c%%'", c->name, (char)('a' + prng_below(&rng, 4)));
		else
			put(qr, "%s + 1 %s %s", c->name, comparison(), column_of(qr, INT)->name);
		break;
	case 7:
		if (c->type == TXT)
			put(qr, "%s IS NOT NULL", c->name);
		else
			subquery_atom(qr, c);
		break;
	default: put(qr, "%s", prng_chance(&rng, 0.3) ? "NULL" : "TRUE"); break;
	}
}

/* A random predicate of up to `depth` levels of AND / OR / NOT. */
static void predicate(struct query *qr, int depth)
{
	if (depth == 0 || prng_chance(&rng, 0.35)) {
		atom(qr);
		return;
	}
	switch (prng_below(&rng, 3)) {
	case 0:
	case 1:
		put(qr, "(");
		predicate(qr, depth - 1);
		put(qr, prng_chance(&rng, 0.6) ? ") AND (" : ") OR (");
		predicate(qr, depth - 1);
		put(qr, ")");
		break;
	default:
		put(qr, "NOT (");
		predicate(qr, depth - 1);
		put(qr, ")");
	}
}

/* A join condition between the newest table in scope and an earlier one. */
static void join_condition(struct query *qr)
{
	const struct table *t = qr->from[qr->table_count - 1];
	const struct table *u = qr->from[prng_below(&rng, qr->table_count - 1)];
	const struct column *a, *b;
	do
		a = &t->columns[prng_below(&rng, t->column_count)];
	while (a->type != INT);
	do
		b = &u->columns[prng_below(&rng, u->column_count)];
	while (b->type != INT);
	switch (prng_below(&rng, 6)) {
	case 0: put(qr, "%s %s %s", a->name, comparison(), b->name); break;
	case 1: put(qr, "%s + 1 >= %s", a->name, b->name); break;
	case 2:
		put(qr, "%s = %s AND ", b->name, a->name);
		atom(qr);
		break;
	default: put(qr, "%s = %s", a->name, b->name);
	}
}

/*
 * FROM one to four distinct tables joined in a random order; conditions of comma joins
 * go to *where (a conjunct list the caller completes).
 */
static void from_clause(struct query *qr, struct query *where)
{
	uint32_t order[EQ_MAX_TABLES] = {0, 1, 2, 3};
	for (uint32_t i = EQ_MAX_TABLES - 1; i > 0; i--) {
		uint32_t j = (uint32_t)prng_below(&rng, i + 1), x = order[i];
		order[i] = order[j];
		order[j] = x;
	}
	static const uint32_t sizes[] = {1, 1, 1, 2, 2, 2, 2, 3, 3, 4};
	uint32_t n = sizes[prng_below(&rng, 10)];
	put(qr, " FROM ");
	for (uint32_t i = 0; i < n; i++) {
		qr->from[qr->table_count++] = &tables[order[i]];
		where->from[where->table_count++] = &tables[order[i]];
		if (i == 0) {
			put(qr, "%s", tables[order[i]].name);
			continue;
		}
		uint64_t kind = prng_below(&rng, 10);
		if (kind < 3) {
			put(qr, ", %s", tables[order[i]].name);
			if (where->len)
				put(where, " AND ");
			put(where, "(");
			join_condition(where);
			put(where, ")");
			continue;
		}
		put(qr, " %sJOIN %s ON ",
		    kind < 6   ? ""
		    : kind < 8 ? "LEFT "
		               : "RIGHT ",
		    tables[order[i]].name);
		join_condition(qr);
	}
}

/* A select-list expression over the columns in scope. */
static void select_expr(struct query *qr)
{
	const struct column *c = any_column(qr);
	switch (prng_below(&rng, 6)) {
	case 0:
		if (c->type != TXT) {
			put(qr, "%s + 1", c->name);
			break;
		}
		/* fall through */
	case 1:
		put(qr, "coalesce(%s, ", c->name);
		constant(qr, c);
		put(qr, ")");
		break;
	case 2:
		put(qr, "CASE WHEN ");
		atom(qr);
		put(qr, " THEN 1 ELSE 0 END");
		break;
	default: put(qr, "%s", c->name);
	}
}

static void aggregate(struct query *qr)
{
	const struct column *c = column_of(qr, INT);
	static const char *numeric[] = {"sum", "avg", "total", "min", "max", "count"};
	switch (prng_below(&rng, 4)) {
	case 0: put(qr, "count(*)"); break;
	case 1: put(qr, "count(DISTINCT %s)", any_column(qr)->name); break;
	case 2:
		put(qr, "%s(%s)", prng_chance(&rng, 0.5) ? "min" : "max", any_column(qr)->name);
		break;
	default: put(qr, "%s(%s)", numeric[prng_below(&rng, 6)], c->name);
	}
}

static bool all_have_keys(const struct query *qr)
{
	for (uint32_t i = 0; i < qr->table_count; i++)
		if (!qr->from[i]->has_pk)
			return false;
	return true;
}

static void limit(struct query *qr)
{
	put(qr, " LIMIT %lld", (long long)prng_between(&rng, 0, 8));
	if (prng_chance(&rng, 0.4))
		put(qr, " OFFSET %lld", (long long)prng_between(&rng, 0, 4));
}

/* Builds a random query into *qr. */
static void random_query(struct query *qr)
{
	struct query from = {0}, where = {0};
	memset(qr, 0, sizeof *qr);
	from_clause(&from, &where);
	*qr = from; /* the scope, for generating the select list */
	qr->len = 0;
	if (prng_chance(&rng, 0.8)) {
		if (where.len)
			put(&where, " AND ");
		predicate(&where, 2);
	}
	uint64_t shape = prng_below(&rng, 10);
	uint32_t groups = 0;
	const struct column *group[2];
	if (shape < 5) { /* plain rows */
		bool total = all_have_keys(qr) && prng_chance(&rng, 0.45);
		put(qr, "SELECT %s", !total && prng_chance(&rng, 0.25) ? "DISTINCT " : "");
		uint64_t n = 1 + prng_below(&rng, 4);
		for (uint64_t i = 0; i < n; i++) {
			put(qr, i ? ", " : "");
			select_expr(qr);
		}
		put(qr, "%s", from.sql);
		if (where.len)
			put(qr, " WHERE %s", where.sql);
		if (total) {
			put(qr, " ORDER BY ");
			for (uint32_t i = 0; i < qr->table_count; i++)
				put(qr, "%s%s%s", i ? ", " : "", qr->from[i]->columns[0].name,
				    prng_chance(&rng, 0.3) ? " DESC" : "");
			if (prng_chance(&rng, 0.7))
				limit(qr);
			qr->ordered = true;
		} else if (prng_chance(&rng, 0.3)) {
			put(qr, " ORDER BY %s", any_column(qr)->name);
		}
		return;
	}
	put(qr, "SELECT ");
	if (shape < 8) { /* grouped */
		groups = 1 + (uint32_t)prng_below(&rng, 2);
		for (uint32_t i = 0; i < groups; i++) {
			group[i] = any_column(qr);
			put(qr, "%s, ", group[i]->name);
		}
	}
	uint64_t n = 1 + prng_below(&rng, 3);
	for (uint64_t i = 0; i < n; i++) {
		put(qr, i ? ", " : "");
		aggregate(qr);
	}
	put(qr, "%s", from.sql);
	if (where.len)
		put(qr, " WHERE %s", where.sql);
	if (!groups)
		return;
	put(qr, " GROUP BY ");
	for (uint32_t i = 0; i < groups; i++)
		put(qr, "%s%s", i ? ", " : "", group[i]->name);
	if (prng_chance(&rng, 0.4)) {
		put(qr, " HAVING ");
		aggregate(qr);
		put(qr, " %s %lld", comparison(), (long long)prng_between(&rng, 0, 4));
	}
	if (prng_chance(&rng, 0.5)) {
		put(qr, " ORDER BY ");
		for (uint32_t i = 0; i < groups; i++)
			put(qr, "%s%s%s", i ? ", " : "", group[i]->name,
			    prng_chance(&rng, 0.3) ? " DESC" : "");
		if (prng_chance(&rng, 0.6))
			limit(qr);
		qr->ordered = true;
	}
}

/* ---- comparing results ---- */

struct lines {
	char **v;
	uint64_t count;
	bool error;
};

static int line_order(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs `sql` and renders each row as one line (an error as one line), sorted if asked. */
static void run(struct sql_session *s, const char *sql, bool sorted, struct lines *out)
{
	struct sql_result r;
	size_t used;
	sql_session_execute(s, sql, strlen(sql), &r, &used);
	memset(out, 0, sizeof *out);
	uint64_t n = r.kind == SQL_RESULT_ROWS ? r.row_count : 1;
	out->v = calloc(n + 1, sizeof *out->v);
	ck_assert_ptr_nonnull(out->v);
	out->error = r.kind == SQL_RESULT_ERROR;
	if (r.kind != SQL_RESULT_ROWS) {
		out->v[0] = strdup(sql_check_render(&r));
		out->count = 1;
	}
	for (uint64_t i = 0; r.kind == SQL_RESULT_ROWS && i < r.row_count; i++) {
		struct buf b;
		buf_init(&b, 4096);
		for (uint32_t j = 0; j < r.column_count; j++) {
			ck_assert_ptr_null(buf_append(&b, j ? "|" : "", j ? 1 : 0));
			ck_assert_ptr_null(sql_value_format(&sql_result_row(&r, i)[j], &b));
		}
		ck_assert_ptr_null(buf_append(&b, "", 1));
		out->v[out->count++] = strdup((char *)b.data);
		buf_free(&b);
	}
	sql_result_free(&r);
	for (uint64_t i = 0; i < out->count; i++)
		ck_assert_ptr_nonnull(out->v[i]);
	if (sorted)
		qsort(out->v, out->count, sizeof *out->v, line_order);
}

static void lines_free(struct lines *l)
{
	for (uint64_t i = 0; i < l->count; i++)
		free(l->v[i]);
	free(l->v);
}

/* Both sessions must give the same rows; returns how many rows there were. */
static uint64_t check_same(const struct query *qr)
{
	struct lines a, b;
	run(optimized, qr->sql, !qr->ordered, &a);
	run(literal, qr->sql, !qr->ordered, &b);
	ck_assert_msg(!a.error, "%s\n-> %s", qr->sql, a.v[0]);
	ck_assert_msg(a.count == b.count, "%s\n%llu rows optimized, %llu without optimizer",
	              qr->sql, (unsigned long long)a.count, (unsigned long long)b.count);
	for (uint64_t i = 0; i < a.count; i++)
		ck_assert_msg(strcmp(a.v[i], b.v[i]) == 0, "%s\nrow %llu: %s optimized, %s without",
		              qr->sql, (unsigned long long)i, a.v[i], b.v[i]);
	uint64_t rows = a.count;
	lines_free(&a);
	lines_free(&b);
	return rows;
}

START_TEST(optimizer_keeps_results)
{
	prng_seed(&rng, (uint64_t)_i + 1);
	fill();
	int nonempty = 0, ordered = 0;
	for (int i = 0; i < EQ_QUERIES_PER_SEED; i++) {
		struct query qr;
		random_query(&qr);
		nonempty += check_same(&qr) > 0;
		ordered += qr.ordered;
	}
	/* the comparison only means something if results are mostly non-empty */
	ck_assert_int_gt(nonempty, EQ_QUERIES_PER_SEED / 2);
	ck_assert_int_gt(ordered, EQ_QUERIES_PER_SEED / 10);
}
END_TEST

/* The switch really turns the rules off: the literal plan has no access path or hash join. */
START_TEST(switch_turns_rules_off)
{
	const char *sql = "EXPLAIN SELECT t1.a FROM t1 JOIN t2 ON t1.id = t2.t1_id WHERE t1.id = 3";
	ck_assert_str_eq(q(optimized, sql), "Project: t1.a\n"
	                                    "  HashJoin inner on t1.id = t2.t1_id\n"
	                                    "    Scan t1 (primary key in (3)) filter: (t1.id = 3)\n"
	                                    "    Scan t2\n");
	ck_assert_str_eq(q(literal, sql), "Project: t1.a\n"
	                                  "  Filter: (t1.id = 3)\n"
	                                  "    NestedLoopJoin inner on (t1.id = t2.t1_id)\n"
	                                  "      Scan t1\n"
	                                  "      Scan t2\n");
	/* UPDATE and DELETE read their target rows through the literal plan too */
	script(optimized, "INSERT INTO t1 VALUES (1, 1, 1, 0.5, 'a'), (2, 2, 2, 1.0, 'b'), "
	                  "(3, 3, 3, 1.5, 'c'), (4, NULL, 4, 2.0, 'd')");
	ck_assert_str_eq(q(literal, "EXPLAIN DELETE FROM t1 WHERE id = 2"),
	                 "Scan t1 filter: (t1.id = 2)\n");
	ck_assert_str_eq(q(literal, "UPDATE t1 SET b = b + 10 WHERE a BETWEEN 2 AND 3"), "count 2");
	ck_assert_str_eq(q(literal, "DELETE FROM t1 WHERE id = 2"), "count 1");
	ck_assert_str_eq(q(optimized, "SELECT id, b FROM t1"), "1|1\n3|13\n4|4");
	sql_session_set_optimizer(literal, true);
	ck_assert_str_eq(q(literal, sql), q(optimized, sql));
}
END_TEST

/*
 * Inner joins of two tables on their primary keys (merge joins when optimized), with
 * random conditions on either side, in the ON clause or in WHERE, and key ranges.
 */
START_TEST(merge_joins_keep_results)
{
	prng_seed(&rng, (uint64_t)_i + 101);
	fill();
	int merged = 0;
	for (int i = 0; i < EQ_QUERIES_PER_SEED; i++) {
		struct query qr = {0};
		uint32_t x = (uint32_t)prng_below(&rng, 3), y = (uint32_t)prng_below(&rng, 3);
		const char *xn = tables[x].name, *yn = tables[y].name;
		const char *yalias = x == y ? "u" : yn;
		qr.from[qr.table_count++] = &tables[x];
		put(&qr,
		    "SELECT count(*), min(%s.id), max(%s.id) FROM %s JOIN %s%s%s ON %s.id = %s.id",
		    xn, yalias, xn, yn, x == y ? " AS " : "", x == y ? yalias : "", yalias, xn);
		if (prng_chance(&rng, 0.5)) {
			put(&qr, " AND ");
			atom(&qr);
		}
		if (prng_chance(&rng, 0.5))
			put(&qr, " AND %s.id %s %lld", yalias, prng_chance(&rng, 0.5) ? ">=" : "<",
			    (long long)prng_between(&rng, 0, 20));
		if (x != y) {
			qr.from[qr.table_count++] = &tables[y];
			if (prng_chance(&rng, 0.6)) {
				put(&qr, " WHERE ");
				atom(&qr);
			}
		}
		check_same(&qr);
		char explain[EQ_SQL_BYTES + 16];
		snprintf(explain, sizeof explain, "EXPLAIN %s", qr.sql);
		merged += strstr(q(optimized, explain), "MergeJoin inner") != NULL;
	}
	/* most of them really are merge joins (not those whose key filter became points) */
	ck_assert_int_gt(merged, EQ_QUERIES_PER_SEED / 2);
}
END_TEST

static Suite *suite(void)
{
	Suite *su = suite_create("sql_equivalence");
	TCase *t = tcase_create("equivalence");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 300);
	tcase_add_test(t, switch_turns_rules_off);
	tcase_add_loop_test(t, optimizer_keeps_results, 0, EQ_SEEDS);
	tcase_add_loop_test(t, merge_joins_keep_results, 0, EQ_SEEDS);
	suite_add_tcase(su, t);
	return su;
}

int main(void)
{
	return check_run(suite());
}
