/*
 * test_explain.c — EXPLAIN prints the optimized plan: exact trees for representative
 * queries, one per kind of plan the optimizer produces (a primary key point lookup, a
 * secondary index range, a hash join, a merge join, a filter pushed into a scan, a LIMIT
 * bounding a sort, a constant-false filter), plus the plans of UPDATE and DELETE.
 */
#include <check.h>

#include "check_main.h"
#include "sql_check.h"

static struct sql_db *db;
static struct sql_session *s;

static void setup(void)
{
	ck_assert_ptr_null(sql_db_open(":memory:", &db));
	ck_assert_ptr_null(sql_session_open(db, &s));
	script(s, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, city TEXT);"
	          "CREATE TABLE orders (id INTEGER PRIMARY KEY, cust INTEGER, amount FLOAT);"
	          "CREATE INDEX orders_amount ON orders (amount);"
	          "CREATE INDEX customers_city ON customers (city)");
}

static void teardown(void)
{
	sql_session_close(s);
	sql_db_close(db);
}

START_TEST(primary_key_point_lookup)
{
	ck_assert_str_eq(q(s, "EXPLAIN SELECT name FROM customers WHERE id = 7"),
	                 "Project: customers.name\n"
	                 "  Scan customers (primary key in (7)) filter: (customers.id = 7)\n");
}
END_TEST

START_TEST(secondary_index_range)
{
	ck_assert_str_eq(
	    q(s, "EXPLAIN SELECT id FROM orders WHERE amount BETWEEN 10 AND 20"),
	    "Project: orders.id\n"
	    "  Scan orders (index orders_amount range [10.0, 20.0]) filter: ((orders.amount >= "
	    "10) AND (orders.amount <= 20))\n");
}
END_TEST

START_TEST(hash_join)
{
	ck_assert_str_eq(
	    q(s, "EXPLAIN SELECT c.name, o.amount FROM customers c JOIN orders o ON o.cust = c.id"),
	    "Project: c.name, o.amount\n"
	    "  HashJoin inner on c.id = o.cust\n"
	    "    Scan customers AS c\n"
	    "    Scan orders AS o\n");
}
END_TEST

START_TEST(merge_join)
{
	ck_assert_str_eq(
	    q(s, "EXPLAIN SELECT count(*), sum(c.id + o.amount) FROM customers c "
	         "JOIN orders o ON o.id = c.id AND o.amount > c.id WHERE c.id < 100"),
	    "Project: count(*), sum(c.id + o.amount)\n"
	    "  Aggregate: count(*), sum((c.id + o.amount))\n"
	    "    MergeJoin inner on c.id = o.id filter: (o.amount > c.id)\n"
	    "      Scan customers AS c (primary key range (-inf, 100]) filter: (c.id < "
	    "100)\n"
	    "      Scan orders AS o\n");
}
END_TEST

START_TEST(pushed_down_filter)
{
	ck_assert_str_eq(q(s, "EXPLAIN SELECT c.name, o.amount FROM customers c, orders o "
	                      "WHERE o.cust = c.id AND c.city = 'Oslo' AND o.amount * 2 > 5"),
	                 "Project: c.name, o.amount\n"
	                 "  HashJoin inner on c.id = o.cust\n"
	                 "    Scan customers AS c (index customers_city in ('Oslo')) filter: "
	                 "(c.city = 'Oslo')\n"
	                 "    Scan orders AS o filter: ((o.amount * 2) > 5)\n");
}
END_TEST

START_TEST(limit_into_sort)
{
	ck_assert_str_eq(
	    q(s, "EXPLAIN SELECT c.name, sum(o.amount) FROM customers c JOIN orders o ON "
	         "o.cust = c.id WHERE o.amount > 0 GROUP BY c.name ORDER BY 2 DESC LIMIT 3"),
	    "Limit 3\n"
	    "  Sort: sum(o.amount) DESC (top 3)\n"
	    "    Project: name, sum(o.amount)\n"
	    "      Aggregate: group by c.name; sum(o.amount)\n"
	    "        HashJoin inner on c.id = o.cust\n"
	    "          Scan customers AS c\n"
	    "          Scan orders AS o (index orders_amount range [0.0, +inf)) filter: "
	    "(o.amount > 0)\n");
}
END_TEST

START_TEST(constant_false_filter)
{
	ck_assert_str_eq(q(s, "EXPLAIN SELECT name FROM customers WHERE 1 = 2"),
	                 "Project: customers.name\n  Nothing\n");
	ck_assert_str_eq(q(s, "EXPLAIN SELECT c.name FROM customers c JOIN orders o ON "
	                      "o.cust = c.id WHERE c.id = 1 AND NULL"),
	                 "Project: c.name\n  Nothing\n");
}
END_TEST

START_TEST(update_and_delete)
{
	ck_assert_str_eq(
	    q(s, "EXPLAIN UPDATE orders SET amount = 0 WHERE id >= 5 AND id < 9"),
	    "Scan orders (primary key range [5, 9]) filter: ((orders.id >= 5) AND (orders.id < 9))\n");
	ck_assert_str_eq(q(s, "EXPLAIN DELETE FROM customers WHERE city IN ('Oslo', 'Bergen')"),
	                 "Scan customers (index customers_city in ('Bergen', 'Oslo')) filter: "
	                 "customers.city IN ('Oslo', 'Bergen')\n");
}
END_TEST

static Suite *suite(void)
{
	Suite *su = suite_create("sql_explain");
	TCase *t = tcase_create("plans");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, primary_key_point_lookup);
	tcase_add_test(t, secondary_index_range);
	tcase_add_test(t, hash_join);
	tcase_add_test(t, merge_join);
	tcase_add_test(t, pushed_down_filter);
	tcase_add_test(t, limit_into_sort);
	tcase_add_test(t, constant_false_filter);
	tcase_add_test(t, update_and_delete);
	suite_add_tcase(su, t);
	return su;
}

int main(void)
{
	return check_run(suite());
}
