/*
 * Round-trip tests: parse -> format -> parse -> format must be stable, and the tree
 * must survive the trip. Inputs are hand-written statements covering every form plus
 * thousands of seeded random statements and expressions in the sqllogictest style.
 *
 * For expressions the test also prints each tree with a parenthesis around every
 * compound operand (full_paren()); that text must be the same before and after the
 * trip, which catches a formatter that drops a parenthesis precedence needed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "parse_helpers.h"
#include "sql_gen.h"

static const char *const statements[] = {
    "CREATE TABLE t1(a INTEGER, b INTEGER, c INTEGER, d INTEGER, e INTEGER)",
    "CREATE TABLE tab0(pk INTEGER PRIMARY KEY, col0 INTEGER, col1 FLOAT, col2 TEXT, col3 "
    "INTEGER, col4 FLOAT, col5 TEXT)",
    "CREATE TABLE IF NOT EXISTS \"Quoted Table\" (\"Id\" INT PRIMARY KEY, x VARCHAR(255) "
    "UNIQUE NOT NULL DEFAULT 'n/a', y BOOLEAN NULL DEFAULT FALSE, z FLOAT DEFAULT -0.5)",
    "CREATE TABLE m (a INT, b INT, PRIMARY KEY (a, b), FOREIGN KEY (b) REFERENCES n (id))",
    "CREATE TABLE d (a INTEGER DEFAULT 1 + 2 * 3, b TEXT DEFAULT 'a' || 'b', c INT DEFAULT "
    "(NULL IS NULL))",
    "CREATE INDEX idx_tab1_0 on tab1 (col0)",
    "CREATE UNIQUE INDEX idx_tab2_0 ON tab2 (col3 DESC,col0,col1 DESC)",
    "DROP TABLE tab0",
    "DROP TABLE IF EXISTS tab0",
    "DROP INDEX IF EXISTS idx_tab1_0",
    "INSERT INTO tab0 VALUES(0,86,94.96,'vuopk',91,47.78,'sikuk')",
    "INSERT INTO t1(e,c,b,d,a) VALUES(103,102,100,101,104)",
    "INSERT INTO tab1 SELECT * FROM tab0",
    "INSERT INTO t DEFAULT VALUES",
    "INSERT INTO t (a, b) VALUES (DEFAULT, 1), (2, DEFAULT)",
    "UPDATE t1 SET a = a * 2, b = NULL WHERE c BETWEEN 1 AND 10 OR d IN (1, 2)",
    "DELETE FROM tab0 WHERE col0 > 5 AND NOT col1 IS NULL",
    "SELECT ALL * FROM tab0 cor0 CROSS JOIN tab2 AS cor1",
    "SELECT DISTINCT * FROM tab0, tab0 AS cor0, tab0 AS cor1",
    "SELECT CASE WHEN c>(SELECT avg(c) FROM t1) THEN a*2 ELSE b*10 END FROM t1 ORDER BY 1",
    "SELECT a+b*2+c*3+d*4+e*5, (a+b+c+d+e)/5 FROM t1 ORDER BY 1,2",
    "SELECT (SELECT count(*) FROM t1 AS x WHERE x.b<t1.b) FROM t1 WHERE (a>b-2 AND a<b+2)",
    "SELECT a, b FROM t1 WHERE EXISTS(SELECT 1 FROM t1 AS x WHERE x.b<t1.b)",
    "SELECT d-e, CASE a+1 WHEN b THEN 111 WHEN c THEN 222 WHEN d THEN 333 ELSE 555 END "
    "FROM t1 WHERE c BETWEEN b-2 AND d+2 OR e+d BETWEEN a+5 AND b",
    "SELECT ALL - 14 + 42 * 46 * + 6 + - - 1 - - 22 AS col1",
    "SELECT ALL NULLIF ( - COUNT ( * ), + 67 * - - ( + 25 ) + 89 + - 39 * 63 ) + + 54 AS "
    "col2, 11 * 31 * - - ( 70 )",
    "SELECT ALL 74 * - COALESCE ( + CASE - CASE WHEN NOT ( NOT - 79 >= NULL ) THEN 48 END "
    "WHEN + + COUNT ( * ) THEN 6 END, MIN ( ALL + - 30 ) * 45 * 77 ) * - 14",
    "SELECT - MAX ( ALL + CAST ( NULL AS INTEGER ) )",
    "SELECT - col2 / - col0 - + 69 AS col0 FROM tab1 AS cor0",
    "SELECT col4 FROM tab0 cor0 WHERE NOT NULL IS NULL",
    "SELECT pk FROM tab0 WHERE col3 IN (SELECT col0 FROM tab0 WHERE col1 > 5.5) OR col4 "
    "NOT IN (1,2,3)",
    "SELECT * FROM tab0 WHERE (col0 <= 55 AND col3 > 1 OR col4 < 2.5) AND col1 NOT "
    "BETWEEN 3 AND 7",
    "SELECT col0, SUM(DISTINCT col1) FROM tab0 GROUP BY col0 HAVING COUNT(*) > 1 ORDER BY "
    "2 DESC, 1 NULLS LAST LIMIT 5 OFFSET 2",
    "SELECT x.a, y.b FROM t AS x LEFT JOIN u y ON x.id = y.id RIGHT OUTER JOIN v ON v.k = "
    "x.k INNER JOIN w ON 1 = 1",
    "SELECT * FROM (SELECT a, b FROM t WHERE a LIKE 'x%') AS s WHERE s.b NOT LIKE '%y'",
    "SELECT 'it''s', \"weird \"\"name\"\"\" FROM t",
    "SELECT 1 UNION SELECT 2 UNION ALL SELECT 3 INTERSECT SELECT 4 EXCEPT SELECT 5",
    "SELECT -9223372036854775808, 9223372036854775808, - 9223372036854775807, 1e999, 0.1",
    "SELECT a IS b, a IS NOT b + 1, a ISNULL, b NOTNULL, c NOT NULL",
    "SELECT CAST(a AS VARCHAR(10)), CAST(b AS DOUBLE PRECISION), CAST(c AS BOOL)",
    "SELECT t.*, u.* FROM t, u",
    "SELECT a || b || c, (a || b) || c, a || (b || c)",
    "SELECT NOT a = b, (NOT a) = b, NOT (a AND b), - - - 1, - (- 1), + - + 1",
    "SELECT a FROM t WHERE a IN () AND b NOT IN (SELECT 1 UNION SELECT 2)",
    "BEGIN",
    "BEGIN TRANSACTION READ WRITE",
    "BEGIN READ ONLY AS OF SYSTEM TIME 100",
    "COMMIT",
    "ROLLBACK",
    "EXPLAIN SELECT * FROM t1 WHERE a = 1 ORDER BY b",
    "EXPLAIN INSERT INTO t VALUES (1)",
    "SELECT * FROM a CROSS JOIN (b LEFT JOIN c ON b.x = c.x) JOIN d ON d.y = a.y",
    "SELECT count(*), count(DISTINCT a), now(), \"MyFunc\"(1, 2)",
    "SELECT * FROM t WHERE a = 1 = 2 AND b < c < d",
    "SELECT a AS \"select\", b AS key, c text FROM t",
};

/* Prints `e` with parentheses around every compound operand. */
static void full_paren(const struct sql_expr *e, struct buf *b);

static void full_text(struct buf *b, const char *s)
{
	err *e = buf_append(b, s, strlen(s));
	require(e == NULL, "%s", err_msg(e));
}

static void full_operand(const struct sql_expr *e, struct buf *b)
{
	full_text(b, "(");
	full_paren(e, b);
	full_text(b, ")");
}

static void full_paren(const struct sql_expr *e, struct buf *b)
{
	switch (e->kind) {
	case SQL_EXPR_UNARY:
		full_text(b, sql_unary_op_text(e->unary.op));
		full_operand(e->unary.operand, b);
		return;
	case SQL_EXPR_BINARY:
		full_operand(e->binary.left, b);
		full_text(b, sql_binary_op_text(e->binary.op));
		full_operand(e->binary.right, b);
		return;
	case SQL_EXPR_IS_NULL:
		full_operand(e->is_null.operand, b);
		full_text(b, e->is_null.negated ? "IS NOT NULL" : "IS NULL");
		return;
	case SQL_EXPR_IS:
		full_operand(e->is.left, b);
		full_text(b, e->is.negated ? "IS NOT" : "IS");
		full_operand(e->is.right, b);
		return;
	case SQL_EXPR_LIKE:
		full_operand(e->like.operand, b);
		full_text(b, e->like.negated ? "NOT LIKE" : "LIKE");
		full_operand(e->like.pattern, b);
		return;
	case SQL_EXPR_BETWEEN:
		full_operand(e->between.operand, b);
		full_text(b, e->between.negated ? "NOT BETWEEN" : "BETWEEN");
		full_operand(e->between.low, b);
		full_operand(e->between.high, b);
		return;
	case SQL_EXPR_IN_LIST:
		full_operand(e->in_list.operand, b);
		full_text(b, e->in_list.negated ? "NOT IN" : "IN");
		for (uint32_t i = 0; i < e->in_list.list.count; i++)
			full_operand(e->in_list.list.items[i], b);
		return;
	case SQL_EXPR_IN_SELECT:
		full_operand(e->in_select.operand, b);
		full_text(b, e->in_select.negated ? "NOT IN" : "IN");
		require(sql_format_select(e->in_select.select, b) == NULL, "format failed");
		return;
	case SQL_EXPR_CASE:
		full_text(b, "CASE");
		if (e->case_.operand)
			full_operand(e->case_.operand, b);
		for (uint32_t i = 0; i < e->case_.when_count; i++) {
			full_operand(e->case_.whens[i].when, b);
			full_operand(e->case_.whens[i].then, b);
		}
		if (e->case_.else_result)
			full_operand(e->case_.else_result, b);
		return;
	case SQL_EXPR_CAST:
		full_text(b, "CAST");
		full_operand(e->cast.operand, b);
		require(sql_format_type(e->cast.type, b) == NULL, "format failed");
		return;
	case SQL_EXPR_FUNCTION:
		full_text(b, e->function.name);
		full_text(b, e->function.distinct ? "DISTINCT" : "");
		full_text(b, e->function.star ? "*" : "");
		for (uint32_t i = 0; i < e->function.args.count; i++)
			full_operand(e->function.args.items[i], b);
		return;
	default: require(sql_format_expr(e, b) == NULL, "format failed"); return;
	}
}

/* Parses `text` as a statement and returns its canonical text; the test fails on error. */
static char *must_canon(const char *text)
{
	char *s = canon_stmt(text);
	require(strncmp(s, "error: ", 7) != 0, "%s\n  from: %s", s, text);
	return s;
}

static void check_stmt_round_trip(const char *text)
{
	char *once = must_canon(text);
	char *twice = must_canon(once);
	require(strcmp(once, twice) == 0, "unstable:\n  in:  %s\n  1st: %s\n  2nd: %s", text, once,
	        twice);
	free(once);
	free(twice);
}

/* The full-paren text of an expression, or NULL when it does not parse. */
static char *full_of(const char *text)
{
	struct sql_arena a;
	sql_arena_init(&a, SQL_ARENA_DEFAULT_MAX_BYTES);
	struct sql_expr *e;
	err *er = sql_parse_expr(text, strlen(text), &a, &e);
	require(er == NULL, "%s\n  from: %s", err_msg(er), text);
	struct buf b;
	buf_init(&b, 1 << 24);
	full_paren(e, &b);
	sql_arena_free(&a);
	return buf_to_string(&b);
}

START_TEST(hand_written_statements_round_trip)
{
	for (size_t i = 0; i < sizeof statements / sizeof statements[0]; i++)
		check_stmt_round_trip(statements[i]);
}
END_TEST

START_TEST(random_statements_round_trip)
{
	struct prng r;
	prng_seed(&r, prng_subseed(6, "parser-roundtrip-stmt", 0));
	for (int i = 0; i < 3000; i++) {
		struct buf b;
		buf_init(&b, 1 << 20);
		gen_stmt(&r, &b, 1 + (int)prng_below(&r, 4));
		char *text = buf_to_string(&b);
		check_stmt_round_trip(text);
		free(text);
	}
}
END_TEST

START_TEST(random_expressions_keep_their_tree)
{
	struct prng r;
	prng_seed(&r, prng_subseed(6, "parser-roundtrip-expr", 0));
	for (int i = 0; i < 2000; i++) {
		struct buf b;
		buf_init(&b, 1 << 20);
		gen_expr(&r, &b, 1 + (int)prng_below(&r, 5));
		char *text = buf_to_string(&b);
		char *once = canon_expr(text);
		require(strncmp(once, "error: ", 7) != 0, "%s\n  from: %s", once, text);
		char *twice = canon_expr(once);
		require(strcmp(once, twice) == 0, "unstable: %s -> %s", once, twice);
		char *full_in = full_of(text);
		char *full_out = full_of(once);
		require(strcmp(full_in, full_out) == 0, "tree changed:\n  in:  %s\n  out: %s", text,
		        once);
		free(full_in);
		free(full_out);
		free(once);
		free(twice);
		free(text);
	}
}
END_TEST

START_TEST(floats_round_trip_exactly)
{
	struct prng r;
	prng_seed(&r, prng_subseed(6, "parser-roundtrip-float", 0));
	for (int i = 0; i < 2000; i++) {
		double v = prng_double(&r) * (double)(1ull << prng_below(&r, 60));
		if (i % 3 == 0)
			v = (double)prng_below(&r, 1000000) / 100.0;
		char text[64];
		snprintf(text, sizeof text, "%.17g", v);
		struct sql_arena a;
		sql_arena_init(&a, 1 << 20);
		struct sql_expr *e;
		ck_assert_ptr_null(sql_parse_expr(text, strlen(text), &a, &e));
		double parsed = e->kind == SQL_EXPR_INT ? (double)e->integer : e->floating;
		struct buf b;
		buf_init(&b, 256);
		ck_assert_ptr_null(sql_format_expr(e, &b));
		char *out = buf_to_string(&b);
		ck_assert_ptr_null(sql_parse_expr(out, strlen(out), &a, &e));
		double again = e->kind == SQL_EXPR_INT ? (double)e->integer : e->floating;
		ck_assert_msg(parsed == again, "%s -> %s", text, out);
		free(out);
		sql_arena_free(&a);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("roundtrip");
	/* One case per test, so CK_RUN_CASE can run (and time) one alone. */
	TCase *tc_hand_written_statements_round_trip =
	    tcase_create("hand_written_statements_round_trip");
	tcase_set_timeout(tc_hand_written_statements_round_trip, 60);
	tcase_add_test(tc_hand_written_statements_round_trip, hand_written_statements_round_trip);
	suite_add_tcase(s, tc_hand_written_statements_round_trip);
	TCase *tc_random_statements_round_trip = tcase_create("random_statements_round_trip");
	tcase_set_timeout(tc_random_statements_round_trip, 60);
	tcase_add_test(tc_random_statements_round_trip, random_statements_round_trip);
	suite_add_tcase(s, tc_random_statements_round_trip);
	TCase *tc_random_expressions_keep_their_tree =
	    tcase_create("random_expressions_keep_their_tree");
	tcase_set_timeout(tc_random_expressions_keep_their_tree, 60);
	tcase_add_test(tc_random_expressions_keep_their_tree, random_expressions_keep_their_tree);
	suite_add_tcase(s, tc_random_expressions_keep_their_tree);
	TCase *tc_floats_round_trip_exactly = tcase_create("floats_round_trip_exactly");
	tcase_set_timeout(tc_floats_round_trip_exactly, 60);
	tcase_add_test(tc_floats_round_trip_exactly, floats_round_trip_exactly);
	suite_add_tcase(s, tc_floats_round_trip_exactly);
	return check_run(s);
}
