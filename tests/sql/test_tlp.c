/*
 * test_tlp.c — ternary logic partitioning (TLP), a metamorphic oracle for the optimizer.
 *
 * For any predicate p, every row satisfies exactly one of p, NOT p and p IS NULL. So
 *
 *     count(*) WHERE p  +  count(*) WHERE NOT (p)  +  count(*) WHERE (p) IS NULL
 *
 * must equal the unfiltered count. The three queries take different plans: p can become
 * a primary key or index access path, be pushed below a join, or be folded, while NOT (p)
 * and (p) IS NULL mostly cannot. A rewrite that loses or duplicates rows breaks the sum.
 * A second oracle (NoREC) counts the same rows without letting the optimizer see p:
 * `SELECT coalesce(sum(CASE WHEN p THEN 1 ELSE 0 END), 0)` evaluates p on every row, so it
 * must agree with `count(*) WHERE p` whatever access path or pushdown the latter got.
 *
 * Predicates are random (seeded, so every failure reproduces) over tables with indexes,
 * NULLs and mixed INTEGER/FLOAT values, on single tables and on joins.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/prng.h"
#include "check_main.h"
#include "sql_check.h"

#define TLP_SEEDS 4
#define TLP_QUERIES_PER_SEED 150

static struct sql_db *db;
static struct sql_session *s;
static struct prng rng;

static const char *columns[] = {"t.id", "t.k", "t.f", "t.s", "u.id", "u.t_id", "u.w"};

static void setup(void)
{
	ck_assert_ptr_null(sql_db_open(":memory:", &db));
	ck_assert_ptr_null(sql_session_open(db, &s));
	script(s, "CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, f FLOAT, s TEXT);"
	          "CREATE INDEX t_k ON t (k); CREATE INDEX t_f ON t (f); CREATE INDEX t_s ON t (s);"
	          "CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER, w INTEGER);"
	          "CREATE INDEX u_t ON u (t_id)");
}

static void teardown(void)
{
	sql_session_close(s);
	sql_db_close(db);
}

/* Fills both tables with small values so that predicates hit often. */
static void fill(void)
{
	char sql[256];
	for (int id = 1; id <= 40; id++) {
		int64_t k = prng_between(&rng, -3, 6), f = prng_between(&rng, -20, 20);
		bool k_null = prng_chance(&rng, 0.15), f_null = prng_chance(&rng, 0.15);
		snprintf(sql, sizeof sql, "INSERT INTO t VALUES (%d, %s%lld, %s%.1f, '%c')", id,
		         k_null ? "NULL+" : "", (long long)k, f_null ? "NULL+" : "", (double)f / 4,
		         (char)('a' + prng_below(&rng, 6)));
		ck_assert_str_eq(q(s, sql), "count 1");
		snprintf(sql, sizeof sql, "INSERT INTO u VALUES (%d, %lld, %s%lld)", id,
		         (long long)prng_between(&rng, 0, 45),
		         prng_chance(&rng, 0.2) ? "NULL+" : "",
		         (long long)prng_between(&rng, 0, 5));
		ck_assert_str_eq(q(s, sql), "count 1");
	}
}

/* Appends a random atom over the columns visible in the query (`join`: u too). */
static void atom(char *out, size_t size, bool join)
{
	size_t n = join ? 7 : 4;
	const char *c = columns[prng_below(&rng, n)];
	bool text = c[2] == 's' && c[3] == '\0';
	int64_t v = prng_between(&rng, -3, 8);
	const char *ops[] = {"=", "<>", "<", "<=", ">", ">="};
	switch (prng_below(&rng, 6)) {
	case 0:
		if (text)
			snprintf(out, size, "%s %s '%c'", c, ops[prng_below(&rng, 6)],
			         (char)('a' + prng_below(&rng, 6)));
		else
			snprintf(out, size, "%s %s %lld", c, ops[prng_below(&rng, 6)],
			         (long long)v);
		break;
	case 1:
		if (text)
			snprintf(out, size, "%s IN ('a', 'c', NULL)", c);
		else
			snprintf(out, size, "%s %sIN (%lld, %lld, %.1f)", c,
			         prng_chance(&rng, 0.3) ? "NOT " : "", (long long)v,
			         (long long)v + 2, (double)v / 2);
		break;
	case 2: snprintf(out, size, "%s IS %sNULL", c, prng_chance(&rng, 0.5) ? "NOT " : ""); break;
	case 3:
		if (text)
			snprintf(out, size, "%s BETWEEN 'b' AND 'd'", c);
		else
			snprintf(out, size, "%s BETWEEN %lld AND %lld", c, (long long)v,
			         (long long)v + 3);
		break;
	case 4:
		if (text)
			snprintf(out, size, "%s LIKE '%c%%'", c, (char)('a' + prng_below(&rng, 3)));
		else
			snprintf(out, size, "%s + 1 > %s", c, join ? "u.w" : "t.k");
		break;
	default: snprintf(out, size, "%s", prng_chance(&rng, 0.5) ? "NULL" : "t.k = t.id"); break;
	}
}

/* A random predicate of up to `depth` levels of AND / OR / NOT. */
static void predicate(char *out, size_t size, int depth, bool join)
{
	if (depth == 0 || prng_chance(&rng, 0.3)) {
		atom(out, size, join);
		return;
	}
	char a[1024], b[1024];
	int n;
	predicate(a, sizeof a, depth - 1, join);
	switch (prng_below(&rng, 3)) {
	case 0:
		predicate(b, sizeof b, depth - 1, join);
		n = snprintf(out, size, "(%s) AND (%s)", a, b);
		break;
	case 1:
		predicate(b, sizeof b, depth - 1, join);
		n = snprintf(out, size, "(%s) OR (%s)", a, b);
		break;
	default: n = snprintf(out, size, "NOT (%s)", a);
	}
	ck_assert(n > 0 && (size_t)n < size);
}

static long long number(const char *sql)
{
	char *r = q(s, sql);
	char *end;
	long long rows = strtoll(r, &end, 10);
	ck_assert_msg(*end == '\0', "%s -> %s", sql, r);
	return rows;
}

static long long count(const char *from, const char *where)
{
	char sql[4096];
	int n = snprintf(sql, sizeof sql, "SELECT count(*) FROM %s%s%s", from,
	                 where ? " WHERE " : "", where ? where : "");
	ck_assert(n > 0 && (size_t)n < sizeof sql);
	return number(sql);
}

/* Counts the rows satisfying p by evaluating it in the select list (no optimization). */
static long long count_unoptimized(const char *from, const char *p)
{
	char sql[4096];
	int n =
	    snprintf(sql, sizeof sql,
	             "SELECT coalesce(sum(CASE WHEN %s THEN 1 ELSE 0 END), 0) FROM %s", p, from);
	ck_assert(n > 0 && (size_t)n < sizeof sql);
	return number(sql);
}

START_TEST(partitions_add_up)
{
	prng_seed(&rng, (uint64_t)_i + 1);
	fill();
	const char *froms[] = {"t", "t JOIN u ON t.id = u.t_id", "t LEFT JOIN u ON t.id = u.t_id",
	                       "t, u", "t RIGHT JOIN u ON u.t_id = t.k"};
	int hits[3] = {0, 0, 0}; /* queries where each partition was non-empty */
	for (int i = 0; i < TLP_QUERIES_PER_SEED; i++) {
		int f = (int)prng_below(&rng, 5);
		char p[2048], w[2100];
		int n;
		predicate(p, sizeof p, 3, f > 0);
		long long total = count(froms[f], NULL);
		long long yes = count(froms[f], p);
		n = snprintf(w, sizeof w, "NOT (%s)", p);
		ck_assert(n > 0 && (size_t)n < sizeof w);
		long long no = count(froms[f], w);
		n = snprintf(w, sizeof w, "(%s) IS NULL", p);
		ck_assert(n > 0 && (size_t)n < sizeof w);
		long long unknown = count(froms[f], w);
		ck_assert_msg(yes + no + unknown == total,
		              "FROM %s WHERE %s: %lld + %lld + %lld != %lld", froms[f], p, yes, no,
		              unknown, total);
		ck_assert_msg(yes == count_unoptimized(froms[f], p), "FROM %s WHERE %s: %lld rows",
		              froms[f], p, yes);
		hits[0] += yes > 0;
		hits[1] += no > 0;
		hits[2] += unknown > 0;
	}
	/* the oracle only means something if all three partitions occur often */
	for (int k = 0; k < 3; k++)
		ck_assert_int_gt(hits[k], TLP_QUERIES_PER_SEED / 10);
}
END_TEST

static Suite *suite(void)
{
	Suite *su = suite_create("sql_tlp");
	TCase *t = tcase_create("tlp");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 300);
	tcase_add_loop_test(t, partitions_add_up, 0, TLP_SEEDS);
	suite_add_tcase(su, t);
	return su;
}

int main(void)
{
	return check_run(suite());
}
