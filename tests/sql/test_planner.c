/*
 * test_planner.c — name binding and type checking happen at plan time: errors are
 * reported even when no row would ever be evaluated (the tables here are empty), and
 * well-formed queries get the static types SQL promises.
 */
#include <check.h>

#include "check_main.h"
#include "sql/planner.h"
#include "sql/session.h"
#include "sql_check.h"

static struct sql_db *db;
static struct sql_session *s;

static void setup(void)
{
	ck_assert_ptr_null(sql_db_open(":memory:", &db));
	ck_assert_ptr_null(sql_session_open(db, &s));
	script(s, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score FLOAT, ok BOOLEAN);"
	          "CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER, name TEXT);");
}

static void teardown(void)
{
	sql_session_close(s);
	sql_db_close(db);
}

START_TEST(unknown_names)
{
	ck_assert_str_eq(q(s, "SELECT nope FROM t"), "Error(not found): no such column: nope");
	ck_assert_str_eq(q(s, "SELECT t.nope FROM t"), "Error(not found): no such column: t.nope");
	ck_assert_str_eq(q(s, "SELECT x.id FROM t"), "Error(not found): no such column: x.id");
	ck_assert_str_eq(q(s, "SELECT * FROM missing"), "Error(not found): no such table: missing");
	ck_assert_str_eq(q(s, "SELECT nope(1)"), "Error(not found): no such function: nope");
	ck_assert_str_eq(q(s, "SELECT id FROM t WHERE nope = 1"),
	                 "Error(not found): no such column: nope");
	ck_assert_str_eq(q(s, "SELECT u.* FROM t"), "Error(not found): no such table: u");
}
END_TEST

START_TEST(ambiguous_names)
{
	ck_assert_str_eq(q(s, "SELECT id FROM t, u"), "Error(invalid): ambiguous column name: id");
	ck_assert_str_eq(q(s, "SELECT t.id, u.id FROM t, u"), "");
	ck_assert_str_eq(q(s, "SELECT a.id FROM t AS a, t AS b WHERE a.id = b.id"), "");
	/* two tables under one alias: a qualified name is ambiguous, and the message says which */
	ck_assert_str_eq(q(s, "SELECT x.id FROM t AS x, u AS x"),
	                 "Error(invalid): ambiguous column name: x.id");
}
END_TEST

START_TEST(type_errors)
{
	ck_assert_str_eq(q(s, "SELECT 1 + 'a'"), "Error(type): cannot apply + to INTEGER and TEXT");
	ck_assert_str_eq(q(s, "SELECT name * 2 FROM t"),
	                 "Error(type): cannot apply * to TEXT and INTEGER");
	ck_assert_str_eq(q(s, "SELECT id FROM t WHERE name > 3"),
	                 "Error(type): cannot compare TEXT with INTEGER in >");
	ck_assert_str_eq(q(s, "SELECT -name FROM t"), "Error(type): cannot negate TEXT");
	ck_assert_str_eq(q(s, "SELECT SUM(name) FROM t"), "Error(type): sum() of TEXT");
	ck_assert_str_eq(q(s, "SELECT id FROM t WHERE name"),
	                 "Error(type): WHERE condition must be BOOLEAN, not TEXT");
	ck_assert_str_eq(q(s, "SELECT abs('x')"), "Error(type): abs() of TEXT");
	ck_assert_str_eq(q(s, "SELECT id FROM t WHERE id IN (1, 'a')"),
	                 "Error(type): cannot compare INTEGER with TEXT in IN");
	ck_assert_str_eq(q(s, "SELECT id FROM t WHERE id BETWEEN 'a' AND 2"),
	                 "Error(type): cannot compare INTEGER with TEXT in BETWEEN");
	/* INTEGER and FLOAT mix; NULL fits anywhere; || takes anything */
	ck_assert_str_eq(q(s, "SELECT 1 + 2.5, NULL + 1, 1 = 1.0, 'a' || 1"), "3.5|NULL|TRUE|a1");
}
END_TEST

START_TEST(aggregate_misuse)
{
	ck_assert_str_eq(q(s, "SELECT id FROM t WHERE count(*) > 1"),
	                 "Error(invalid): aggregate functions are not allowed in WHERE");
	ck_assert_str_eq(q(s, "SELECT sum(count(*)) FROM t"),
	                 "Error(invalid): aggregate functions cannot be nested");
	ck_assert_str_eq(q(s, "SELECT id FROM t GROUP BY count(*)"),
	                 "Error(invalid): aggregate functions are not allowed in GROUP BY");
	ck_assert_str_eq(q(s, "UPDATE t SET id = count(*)"),
	                 "Error(invalid): aggregate functions are not allowed here");
	/* a bare column in an aggregate query is allowed (SQLite): the group's last value */
	ck_assert_str_eq(q(s, "SELECT name, count(*) FROM t GROUP BY id"), "");
}
END_TEST

START_TEST(order_and_limit)
{
	ck_assert_str_eq(q(s, "SELECT id FROM t ORDER BY 2"),
	                 "Error(invalid): ORDER BY term out of range - should be between 1 and 1");
	ck_assert_str_eq(q(s, "SELECT id FROM t LIMIT 'x'"),
	                 "Error(type): LIMIT must be an INTEGER");
	ck_assert_str_eq(q(s, "SELECT id FROM t LIMIT -1"),
	                 "Error(invalid): LIMIT must not be negative");
	ck_assert_str_eq(q(s, "SELECT id FROM t UNION SELECT id, name FROM t"),
	                 "Error(invalid): SELECTs to the left and right of a compound operator do "
	                 "not have the same number of result columns");
	ck_assert_str_eq(q(s, "SELECT id FROM t UNION SELECT id FROM u ORDER BY name"),
	                 "Error(invalid): ORDER BY term does not match any column in the result");
}
END_TEST

START_TEST(subquery_shapes)
{
	ck_assert_str_eq(q(s, "SELECT (SELECT id, name FROM t)"),
	                 "Error(invalid): subquery returns 2 columns, expected 1");
	ck_assert_str_eq(q(s, "SELECT 1 WHERE 1 IN (SELECT id, name FROM t)"),
	                 "Error(invalid): subquery returns 2 columns, expected 1");
	ck_assert_str_eq(q(s, "SELECT 1 WHERE 'a' IN (SELECT id FROM t)"),
	                 "Error(type): cannot compare TEXT with INTEGER in IN");
	/* correlated names resolve in the enclosing query */
	ck_assert_str_eq(
	    q(s, "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.t_id = t.id)"), "");
	ck_assert_str_eq(q(s, "SELECT (SELECT nope FROM u) FROM t"),
	                 "Error(not found): no such column: nope");
}
END_TEST

START_TEST(dml_binding)
{
	ck_assert_str_eq(q(s, "INSERT INTO t (id, nope) VALUES (1, 2)"),
	                 "Error(not found): no such column: nope in table t");
	ck_assert_str_eq(q(s, "INSERT INTO t VALUES (1, 'a')"),
	                 "Error(invalid): 2 values for 4 columns");
	ck_assert_str_eq(q(s, "UPDATE t SET nope = 1"), "Error(not found): no such column: nope");
	ck_assert_str_eq(q(s, "UPDATE t SET score = 'x'"),
	                 "Error(type): cannot assign TEXT to column t.score of type FLOAT");
	ck_assert_str_eq(q(s, "DELETE FROM t WHERE name + 1 > 0"),
	                 "Error(type): cannot apply + to TEXT and INTEGER");
	ck_assert_str_eq(q(s, "INSERT INTO missing VALUES (1)"),
	                 "Error(not found): no such table: missing");
}
END_TEST

START_TEST(result_columns)
{
	struct sql_result r;
	size_t used;
	const char *sql = "SELECT id, name, score, ok, id + score, 7 / 2, avg(id), count(*), "
	                  "CAST(score AS INTEGER), coalesce(NULL, 2.5) FROM t";
	sql_session_execute(s, sql, strlen(sql), &r, &used);
	ck_assert_int_eq(r.kind, SQL_RESULT_ROWS);
	ck_assert_uint_eq(r.column_count, 10);
	ck_assert_str_eq(r.column_names[0], "id");
	ck_assert_str_eq(r.column_names[4], "id + score");
	ck_assert_str_eq(r.column_names[7], "count(*)");
	/* one row: aggregates over no rows */
	ck_assert_str_eq(sql_check_render(&r), "NULL|NULL|NULL|NULL|NULL|3|NULL|0|NULL|2.5");
	sql_result_free(&r);
	ck_assert_int_eq(sql_plan_value_type(SQL_TYPE_STRING), SQL_TEXT);
	ck_assert_int_eq(sql_plan_value_type(SQL_TYPE_FLOAT), SQL_FLOAT);
}
END_TEST

static Suite *suite(void)
{
	Suite *su = suite_create("sql_planner");
	TCase *t = tcase_create("planner");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, unknown_names);
	tcase_add_test(t, ambiguous_names);
	tcase_add_test(t, type_errors);
	tcase_add_test(t, aggregate_misuse);
	tcase_add_test(t, order_and_limit);
	tcase_add_test(t, subquery_shapes);
	tcase_add_test(t, dml_binding);
	tcase_add_test(t, result_columns);
	suite_add_tcase(su, t);
	return su;
}

int main(void)
{
	return check_run(suite());
}
