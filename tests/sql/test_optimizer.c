/*
 * test_optimizer.c — each rewrite rule, before and after: constant folding (called
 * directly on bound expressions), and the plan-shaping rules through EXPLAIN, each next to
 * a query proving the rewritten plan returns the same rows.
 */
#include <check.h>

#include "check_main.h"
#include "sql/optimizer.h"
#include "sql/scope.h"
#include "sql_check.h"

static struct sql_db *db;
static struct sql_session *s;

static void setup(void)
{
	ck_assert_ptr_null(sql_db_open(":memory:", &db));
	ck_assert_ptr_null(sql_session_open(db, &s));
	script(s, "CREATE TABLE a (id INTEGER PRIMARY KEY, x INTEGER, name TEXT);"
	          "CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER, v FLOAT);"
	          "CREATE INDEX b_a ON b (a_id);"
	          "INSERT INTO a VALUES (1, 1, 'one'), (2, 5, 'two'), (3, NULL, 'three');"
	          "INSERT INTO b VALUES (1, 1, 0.5), (2, 2, 2.5), (3, 2, 1.5), (4, 9, 0.0);");
}

static void teardown(void)
{
	sql_session_close(s);
	sql_db_close(db);
}

/* ---- rule 1: constant folding, on hand-built expressions ---- */

static struct sql_bexpr *cnst(struct sql_planner *p, struct sql_value v)
{
	struct sql_bexpr *e = sql__new_bexpr(p, SQL_BX_CONST);
	ck_assert_ptr_nonnull(e);
	e->value = v;
	e->type = v.type;
	return e;
}

static struct sql_bexpr *bin(struct sql_planner *p, enum sql_op op, struct sql_bexpr *a,
                             struct sql_bexpr *b, enum sql_value_type type)
{
	struct sql_bexpr *e = sql__new_bexpr(p, SQL_BX_BINARY);
	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_null(sql__alloc(p, sizeof *e->args * 2, (void **)&e->args));
	e->op = op;
	e->arg_count = 2;
	e->args[0] = a;
	e->args[1] = b;
	e->type = type;
	return e;
}

static char *text_of(const struct sql_bexpr *e)
{
	static char out[256];
	struct buf b;
	buf_init(&b, 200);
	ck_assert_ptr_null(sql_bexpr_format(e, &b));
	memcpy(out, b.data, b.len);
	out[b.len] = '\0';
	buf_free(&b);
	return out;
}

START_TEST(fold_constants)
{
	struct sql_arena arena;
	sql_arena_init(&arena, 1 << 20);
	struct sql_planner p = {&arena, NULL, 0};
	struct sql_bexpr *col = sql__column_ref(&p, 0, "x", SQL_INT);
	struct sql_bexpr *out;

	/* before: ((1 + 2) * x); after: (3 * x) */
	struct sql_bexpr *e = bin(
	    &p, SQL_OP_MUL,
	    bin(&p, SQL_OP_ADD, cnst(&p, sql_int(1)), cnst(&p, sql_int(2)), SQL_INT), col, SQL_INT);
	ck_assert_str_eq(text_of(e), "((1 + 2) * x)");
	ck_assert_ptr_null(sql_opt_fold(&p, e, &out));
	ck_assert_str_eq(text_of(out), "(3 * x)");

	/* FALSE AND anything is FALSE; TRUE AND a boolean is that boolean */
	struct sql_bexpr *cmp = bin(&p, SQL_OP_GT, col, cnst(&p, sql_int(0)), SQL_BOOL);
	ck_assert_ptr_null(
	    sql_opt_fold(&p, bin(&p, SQL_OP_AND, cnst(&p, sql_bool(false)), cmp, SQL_BOOL), &out));
	ck_assert_str_eq(text_of(out), "FALSE");
	ck_assert_ptr_null(
	    sql_opt_fold(&p, bin(&p, SQL_OP_AND, cnst(&p, sql_bool(true)), cmp, SQL_BOOL), &out));
	ck_assert_str_eq(text_of(out), "(x > 0)");
	ck_assert_ptr_null(
	    sql_opt_fold(&p, bin(&p, SQL_OP_OR, cmp, cnst(&p, sql_bool(true)), SQL_BOOL), &out));
	ck_assert_str_eq(text_of(out), "TRUE");
	/* NULL AND x is not foldable to a constant (it depends on x) */
	ck_assert_ptr_null(
	    sql_opt_fold(&p, bin(&p, SQL_OP_AND, cnst(&p, sql_null()), cmp, SQL_BOOL), &out));
	ck_assert_str_eq(text_of(out), "(NULL AND (x > 0))");
	/* an error while folding is left for execution */
	e = bin(&p, SQL_OP_ADD, cnst(&p, sql_int(INT64_MAX)), cnst(&p, sql_int(1)), SQL_INT);
	ck_assert_ptr_null(sql_opt_fold(&p, e, &out));
	ck_assert_ptr_eq(out, e);
	sql_arena_free(&arena);
}
END_TEST

/* ---- rules 2-8 through EXPLAIN ---- */

START_TEST(constant_filters)
{
	ck_assert_str_eq(q(s, "EXPLAIN SELECT * FROM a WHERE 1 = 0"),
	                 "Project: id, x, name\n  Nothing\n");
	ck_assert_str_eq(q(s, "SELECT * FROM a WHERE 1 = 0"), "");
	ck_assert_str_eq(q(s, "EXPLAIN SELECT * FROM a WHERE 1 = 1 AND x > 2 + 3"),
	                 "Project: id, x, name\n  Scan a filter: (a.x > 5)\n");
	ck_assert_str_eq(q(s, "EXPLAIN SELECT name FROM a WHERE NULL"),
	                 "Project: a.name\n  Nothing\n");
}
END_TEST

START_TEST(filter_pushdown)
{
	ck_assert_str_eq(
	    q(s, "EXPLAIN SELECT a.name, b.v FROM a, b WHERE a.id = b.a_id AND a.x > 1 AND "
	         "b.v < 2"),
	    "Project: a.name, b.v\n"
	    "  HashJoin inner on a.id = b.a_id\n"
	    "    Scan a filter: (a.x > 1)\n"
	    "    Scan b filter: (b.v < 2)\n");
	ck_assert_str_eq(
	    q(s, "SELECT a.name, b.v FROM a, b WHERE a.id = b.a_id AND a.x > 1 AND b.v < 2"),
	    "two|1.5");
	/* below a LEFT join only the preserved side may be filtered early */
	ck_assert_str_eq(
	    q(s, "EXPLAIN SELECT a.name FROM a LEFT JOIN b ON a.id = b.a_id WHERE b.v > 2 "
	         "AND a.x = 5"),
	    "Project: a.name\n"
	    "  Filter: (b.v > 2)\n"
	    "    HashJoin left on a.id = b.a_id\n"
	    "      Scan a filter: (a.x = 5)\n"
	    "      Scan b\n");
	ck_assert_str_eq(
	    q(s, "SELECT a.name FROM a LEFT JOIN b ON a.id = b.a_id WHERE b.v > 2 AND a.x = 5"),
	    "two");
	/* an ON condition on the optional side filters it before matching */
	ck_assert_str_eq(
	    q(s, "EXPLAIN SELECT a.id, b.id FROM a LEFT JOIN b ON a.id = b.a_id AND b.v > 1"),
	    "Project: a.id, b.id\n"
	    "  HashJoin left on a.id = b.a_id\n"
	    "    Scan a\n"
	    "    Scan b filter: (b.v > 1)\n");
	ck_assert_str_eq(q(s, "SELECT a.id, b.id FROM a LEFT JOIN b ON a.id = b.a_id AND b.v > 1"),
	                 "1|NULL\n2|2\n2|3\n3|NULL");
}
END_TEST

START_TEST(access_paths)
{
	ck_assert_str_eq(
	    q(s, "EXPLAIN SELECT name FROM a WHERE id IN (3, 1, 3)"),
	    "Project: a.name\n  Scan a (primary key in (1, 3)) filter: a.id IN (3, 1, 3)\n");
	ck_assert_str_eq(q(s, "SELECT name FROM a WHERE id IN (3, 1, 3)"), "one\nthree");
	ck_assert_str_eq(
	    q(s, "EXPLAIN SELECT name FROM a WHERE id > 1 AND id <= 9"),
	    "Project: a.name\n  Scan a (primary key range [1, 9]) filter: ((a.id > 1) AND "
	    "(a.id <= 9))\n");
	ck_assert_str_eq(q(s, "SELECT name FROM a WHERE id > 1 AND id <= 9"), "two\nthree");
	ck_assert_str_eq(q(s, "EXPLAIN SELECT id FROM b WHERE a_id = 2"),
	                 "Project: b.id\n  Scan b (index b_a in (2)) filter: (b.a_id = 2)\n");
	ck_assert_str_eq(q(s, "SELECT id FROM b WHERE a_id = 2"), "2\n3");
	ck_assert_str_eq(
	    q(s, "EXPLAIN SELECT id FROM b WHERE 3 > a_id"),
	    "Project: b.id\n  Scan b (index b_a range (-inf, 3]) filter: (3 > b.a_id)\n");
	ck_assert_str_eq(q(s, "SELECT id FROM b WHERE 3 > a_id"), "1\n2\n3");
	/* the primary key is preferred over an index, points over ranges */
	ck_assert_str_eq(
	    q(s, "EXPLAIN SELECT id FROM b WHERE a_id = 2 AND id = 3"),
	    "Project: b.id\n  Scan b (primary key in (3)) filter: ((b.a_id = 2) AND (b.id = 3))\n");
	ck_assert_str_eq(q(s, "EXPLAIN DELETE FROM a WHERE id = 3"),
	                 "Scan a (primary key in (3)) filter: (a.id = 3)\n");
}
END_TEST

START_TEST(join_order_and_hash_joins)
{
	const char *sql =
	    "SELECT a.name, c.name FROM a, a AS c, b WHERE c.id = b.id AND a.id = b.a_id";
	char explain[512];
	snprintf(explain, sizeof explain, "EXPLAIN %s", sql);
	ck_assert_str_eq(q(s, explain), "Project: a.name, c.name\n"
	                                "  Project: id, x, name, id, x, name, id, a_id, v\n"
	                                "    HashJoin inner on b.id = c.id\n"
	                                "      HashJoin inner on a.id = b.a_id\n"
	                                "        Scan a\n"
	                                "        Scan b\n"
	                                "      Scan a AS c\n");
	ck_assert_str_eq(q(s, sql), "one|one\ntwo|two\ntwo|three");
	/* non-equality conditions keep the nested loop */
	ck_assert_str_eq(
	    q(s, "EXPLAIN SELECT a.id FROM a JOIN b ON a.x < b.a_id"),
	    "Project: a.id\n  NestedLoopJoin inner on (a.x < b.a_id)\n    Scan a\n    Scan b\n");
	ck_assert_str_eq(q(s, "SELECT a.id, b.id FROM a JOIN b ON a.x < b.a_id"),
	                 "1|2\n1|3\n1|4\n2|4");
}
END_TEST

START_TEST(merge_joins)
{
	script(s, "INSERT INTO a VALUES (5, 7, 'five'), (6, 2, 'six');"
	          "INSERT INTO b VALUES (6, 1, 4.5), (8, 1, 9.0)");
	const char *sql = "SELECT a.name, b.v FROM a JOIN b ON b.id = a.id AND b.v > a.x "
	                  "WHERE b.id >= 2";
	char explain[256];
	snprintf(explain, sizeof explain, "EXPLAIN %s", sql);
	/* before: the plan as written (every rule off); after: a merge of two key-ordered scans */
	sql_session_set_optimizer(s, false);
	ck_assert_str_eq(q(s, explain),
	                 "Project: a.name, b.v\n"
	                 "  Filter: (b.id >= 2)\n"
	                 "    NestedLoopJoin inner on ((b.id = a.id) AND (b.v > a.x))\n"
	                 "      Scan a\n"
	                 "      Scan b\n");
	ck_assert_str_eq(q(s, sql), "six|4.5");
	sql_session_set_optimizer(s, true);
	ck_assert_str_eq(q(s, explain),
	                 "Project: a.name, b.v\n"
	                 "  MergeJoin inner on a.id = b.id filter: (b.v > a.x)\n"
	                 "    Scan a\n"
	                 "    Scan b (primary key range [2, +inf)) filter: (b.id >= 2)\n");
	ck_assert_str_eq(q(s, sql), "six|4.5");
	/* keys on both sides missing from the other, the equality written in WHERE */
	ck_assert_str_eq(
	    q(s, "EXPLAIN SELECT a.id FROM a, b WHERE a.id = b.id"),
	    "Project: a.id\n  MergeJoin inner on a.id = b.id\n    Scan a\n    Scan b\n");
	ck_assert_str_eq(q(s, "SELECT a.id, b.id FROM a, b WHERE a.id = b.id"),
	                 "1|1\n2|2\n3|3\n6|6");
	/* not a merge join: an outer join, a non-key column, an expression over the key */
	ck_assert_str_eq(q(s, "EXPLAIN SELECT a.id FROM a LEFT JOIN b ON a.id = b.id"),
	                 "Project: a.id\n  HashJoin left on a.id = b.id\n    Scan a\n    Scan b\n");
	ck_assert_str_eq(q(s, "EXPLAIN SELECT a.id FROM a JOIN b ON a.x = b.id"),
	                 "Project: a.id\n  HashJoin inner on a.x = b.id\n    Scan a\n    Scan b\n");
	ck_assert_str_eq(
	    q(s, "EXPLAIN SELECT a.id FROM a JOIN b ON a.id + 0 = b.id"),
	    "Project: a.id\n  HashJoin inner on (a.id + 0) = b.id\n    Scan a\n    Scan b\n");
	/* nor a scan out of key order (index points, key points) */
	ck_assert_str_eq(q(s, "EXPLAIN SELECT b.id FROM b JOIN a ON a.id = b.id WHERE b.a_id = 1"),
	                 "Project: b.id\n"
	                 "  HashJoin inner on b.id = a.id\n"
	                 "    Scan b (index b_a in (1)) filter: (b.a_id = 1)\n"
	                 "    Scan a\n");
	ck_assert_str_eq(q(s, "SELECT b.id FROM b JOIN a ON a.id = b.id WHERE b.a_id = 1"), "1\n6");
	ck_assert_str_eq(
	    q(s, "EXPLAIN SELECT a.id FROM a JOIN b ON a.id = b.id WHERE a.id IN (3, 1)"),
	    "Project: a.id\n"
	    "  HashJoin inner on a.id = b.id\n"
	    "    Scan a (primary key in (1, 3)) filter: a.id IN (3, 1)\n"
	    "    Scan b\n");
	/* nor text keys */
	script(s, "CREATE TABLE t (k VARCHAR(8) PRIMARY KEY, n INTEGER);"
	          "INSERT INTO t VALUES ('b', 1), ('a', 2)");
	ck_assert_str_eq(
	    q(s, "EXPLAIN SELECT t.n FROM t JOIN t AS u ON t.k = u.k"),
	    "Project: t.n\n  HashJoin inner on t.k = u.k\n    Scan t\n    Scan t AS u\n");
}
END_TEST

START_TEST(limit_pushdown)
{
	script(s, "INSERT INTO a VALUES (4, 5, 'four'), (5, 1, 'five'), (6, 5, 'six')");
	ck_assert_str_eq(q(s, "EXPLAIN SELECT name FROM a ORDER BY x DESC LIMIT 2 OFFSET 1"),
	                 "Project: name\n"
	                 "  Limit 2 offset 1\n"
	                 "    Sort: #2 DESC (top 3)\n"
	                 "      Project: a.name, a.x\n"
	                 "        Scan a\n");
	/* ties keep their input order across the top-N cuts */
	ck_assert_str_eq(q(s, "SELECT name FROM a ORDER BY x DESC LIMIT 2 OFFSET 1"), "four\nsix");
	ck_assert_str_eq(q(s, "SELECT id FROM a ORDER BY x LIMIT 3"), "3\n1\n5");
	ck_assert_str_eq(q(s, "SELECT id FROM a ORDER BY x LIMIT 0"), "");
}
END_TEST

static Suite *suite(void)
{
	Suite *su = suite_create("sql_optimizer");
	TCase *t = tcase_create("rules");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, fold_constants);
	tcase_add_test(t, constant_filters);
	tcase_add_test(t, filter_pushdown);
	tcase_add_test(t, access_paths);
	tcase_add_test(t, join_order_and_hash_joins);
	tcase_add_test(t, merge_joins);
	tcase_add_test(t, limit_pushdown);
	suite_add_tcase(su, t);
	return su;
}

int main(void)
{
	return check_run(suite());
}
