/*
 * test_exec.c — the executor and DML through the embedded database: scans, joins (with
 * exact outer-join semantics), aggregation, DISTINCT, ORDER BY with NULLs, LIMIT,
 * subqueries, compound queries, indexes, constraints (each error naming the constraint
 * and the value), statement atomicity and persistence across reopen.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "sql_check.h"

static struct sql_db *db;
static struct sql_session *s;

static void setup(void)
{
	ck_assert_ptr_null(sql_db_open(":memory:", &db));
	ck_assert_ptr_null(sql_session_open(db, &s));
	script(s, "CREATE TABLE a (id INTEGER PRIMARY KEY, x INTEGER, name TEXT);"
	          "INSERT INTO a VALUES (1, 10, 'one'), (2, 20, 'two'), (3, NULL, 'three');"
	          "CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER, v FLOAT);"
	          "INSERT INTO b VALUES (1, 1, 1.5), (2, 1, 2.5), (3, 4, NULL);");
}

static void teardown(void)
{
	sql_session_close(s);
	sql_db_close(db);
}

START_TEST(scans_and_filters)
{
	ck_assert_str_eq(q(s, "SELECT * FROM a"), "1|10|one\n2|20|two\n3|NULL|three");
	ck_assert_str_eq(q(s, "SELECT name FROM a WHERE x > 10"), "two");
	ck_assert_str_eq(q(s, "SELECT name FROM a WHERE x IS NULL"), "three");
	ck_assert_str_eq(q(s, "SELECT name FROM a WHERE NOT (x > 10)"), "one"); /* NULL drops */
	ck_assert_str_eq(q(s, "SELECT name FROM a WHERE name LIKE 't%'"), "two\nthree");
	ck_assert_str_eq(q(s, "SELECT id FROM a WHERE id IN (3, 1, 9)"), "1\n3");
	ck_assert_str_eq(q(s, "SELECT id FROM a WHERE x NOT IN (10, NULL)"), "");
	ck_assert_str_eq(q(s, "SELECT id FROM a WHERE x NOT IN ()"), "1\n2\n3"); /* even NULL */
	ck_assert_str_eq(q(s, "SELECT id FROM a WHERE id IN ()"), "");
	ck_assert_str_eq(q(s, "SELECT id FROM a WHERE id BETWEEN 2 AND 3"), "2\n3");
	ck_assert_str_eq(q(s, "SELECT 1 + 1, 'x' || 'y'"), "2|xy");
	ck_assert_str_eq(
	    q(s, "SELECT CASE WHEN x > 15 THEN 'big' WHEN x > 5 THEN 'small' END FROM a"),
	    "small\nbig\nNULL");
	ck_assert_str_eq(q(s, "SELECT CASE x WHEN 10 THEN 'ten' ELSE 'other' END FROM a"),
	                 "ten\nother\nother");
	ck_assert_str_eq(q(s,
	                   "SELECT coalesce(x, -1), nullif(x, 10), abs(-x) FROM a WHERE id = 3 OR "
	                   "id = 1"),
	                 "10|NULL|10\n-1|NULL|NULL");
}
END_TEST

START_TEST(ordering_and_limits)
{
	ck_assert_str_eq(q(s, "SELECT x FROM a ORDER BY x"), "NULL\n10\n20"); /* NULLs first */
	ck_assert_str_eq(q(s, "SELECT x FROM a ORDER BY x DESC"), "20\n10\nNULL");
	ck_assert_str_eq(q(s, "SELECT x FROM a ORDER BY x DESC NULLS FIRST"), "NULL\n20\n10");
	ck_assert_str_eq(q(s, "SELECT name, x FROM a ORDER BY 2 DESC, 1"),
	                 "two|20\none|10\nthree|NULL");
	ck_assert_str_eq(q(s, "SELECT name AS n FROM a ORDER BY n"), "one\nthree\ntwo");
	ck_assert_str_eq(q(s, "SELECT name FROM a ORDER BY -id"), "three\ntwo\none");
	ck_assert_str_eq(q(s, "SELECT id FROM a ORDER BY id LIMIT 2 OFFSET 1"), "2\n3");
	ck_assert_str_eq(q(s, "SELECT id FROM a ORDER BY id LIMIT 0"), "");
	ck_assert_str_eq(q(s, "SELECT DISTINCT a_id FROM b ORDER BY a_id"), "1\n4");
	/* a stable sort: equal keys keep their input order */
	ck_assert_str_eq(q(s, "SELECT id FROM b ORDER BY a_id"), "1\n2\n3");
}
END_TEST

START_TEST(joins)
{
	ck_assert_str_eq(q(s, "SELECT a.id, b.id FROM a, b WHERE a.id = b.a_id"), "1|1\n1|2");
	ck_assert_str_eq(q(s, "SELECT a.id, b.id FROM a JOIN b ON a.id = b.a_id"), "1|1\n1|2");
	ck_assert_str_eq(q(s, "SELECT count(*) FROM a CROSS JOIN b"), "9");
	ck_assert_str_eq(q(s, "SELECT a.id, b.id FROM a LEFT JOIN b ON a.id = b.a_id"),
	                 "1|1\n1|2\n2|NULL\n3|NULL");
	ck_assert_str_eq(q(s, "SELECT a.id, b.id FROM a RIGHT JOIN b ON a.id = b.a_id"),
	                 "1|1\n1|2\nNULL|3");
	/* ON filters before NULL padding; WHERE filters after it */
	ck_assert_str_eq(q(s, "SELECT a.id, b.id FROM a LEFT JOIN b ON a.id = b.a_id AND b.v > 2"),
	                 "1|2\n2|NULL\n3|NULL");
	ck_assert_str_eq(
	    q(s, "SELECT a.id, b.id FROM a LEFT JOIN b ON a.id = b.a_id WHERE b.v > 2"), "1|2");
	ck_assert_str_eq(q(s, "SELECT a.id FROM a LEFT JOIN b ON a.id = b.a_id WHERE b.id IS NULL"),
	                 "2\n3");
	ck_assert_str_eq(q(s, "SELECT x.id, y.id FROM a AS x JOIN a AS y ON x.x < y.x"), "1|2");
	ck_assert_str_eq(q(s, "SELECT b.* FROM a JOIN b ON a.id = b.a_id WHERE a.name = 'one' AND "
	                      "b.v < 2"),
	                 "1|1|1.5");
	/* joins on expressions and non-equalities take the nested loop */
	ck_assert_str_eq(q(s, "SELECT a.id, b.id FROM a JOIN b ON a.id + 1 = b.a_id * 2"),
	                 "1|1\n1|2");
	ck_assert_str_eq(q(s, "SELECT count(*) FROM a JOIN b ON a.id <> b.a_id"), "7");
	/* three tables, written in an order that would need a cartesian product */
	ck_assert_str_eq(q(s, "SELECT a.name, c.name FROM a, b, a AS c WHERE c.id = b.id AND "
	                      "a.id = b.a_id ORDER BY 1, 2"),
	                 "one|one\none|two");
}
END_TEST

START_TEST(aggregates)
{
	ck_assert_str_eq(q(s, "SELECT count(*), count(x), sum(x), avg(x), min(x), max(x) FROM a"),
	                 "3|2|30|15.0|10|20");
	ck_assert_str_eq(q(s, "SELECT sum(x), avg(x), count(x), total(x) FROM a WHERE id > 5"),
	                 "NULL|NULL|0|0.0");
	ck_assert_str_eq(q(s, "SELECT a_id, count(*), sum(v) FROM b GROUP BY a_id"),
	                 "1|2|4.0\n4|1|NULL");
	ck_assert_str_eq(q(s, "SELECT a_id FROM b GROUP BY a_id HAVING count(*) > 1"), "1");
	ck_assert_str_eq(q(s, "SELECT count(DISTINCT a_id), sum(DISTINCT a_id) FROM b"), "2|5");
	ck_assert_str_eq(
	    q(s, "SELECT a_id * 2 AS k, count(*) FROM b GROUP BY a_id * 2 ORDER BY k DESC"),
	    "8|1\n2|2");
	ck_assert_str_eq(q(s, "SELECT x IS NULL, count(*) FROM a GROUP BY x IS NULL"),
	                 "FALSE|2\nTRUE|1");
	ck_assert_str_eq(q(s, "SELECT a_id, min(v) FROM b GROUP BY 1"), "1|1.5\n4|NULL");
	ck_assert_str_eq(q(s, "SELECT sum(id) + 1 FROM a HAVING sum(id) > 5"), "7");
	ck_assert_str_eq(q(s, "SELECT sum(9223372036854775807) FROM a"),
	                 "Error(limit): integer overflow");
}
END_TEST

START_TEST(subqueries)
{
	ck_assert_str_eq(q(s, "SELECT (SELECT max(x) FROM a)"), "20");
	ck_assert_str_eq(q(s, "SELECT (SELECT x FROM a WHERE id > 10)"), "NULL");
	ck_assert_str_eq(q(s, "SELECT id FROM a WHERE id IN (SELECT a_id FROM b)"), "1");
	ck_assert_str_eq(q(s, "SELECT id FROM a WHERE id NOT IN (SELECT a_id FROM b)"), "2\n3");
	ck_assert_str_eq(
	    q(s, "SELECT id FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.a_id = a.id)"), "1");
	ck_assert_str_eq(q(s, "SELECT id, (SELECT count(*) FROM b WHERE b.a_id = a.id) FROM a"),
	                 "1|2\n2|0\n3|0");
	ck_assert_str_eq(q(s, "SELECT id FROM a WHERE x > (SELECT avg(x) FROM a)"), "2");
	/* NULL in the subquery makes NOT IN unknown; an empty one makes IN false */
	ck_assert_str_eq(q(s, "SELECT 5 NOT IN (SELECT x FROM a)"), "NULL");
	ck_assert_str_eq(q(s, "SELECT NULL IN (SELECT x FROM a WHERE id > 9)"), "FALSE");
	ck_assert_str_eq(q(s, "SELECT t.n FROM (SELECT name AS n, x FROM a) AS t WHERE t.x = 20"),
	                 "two");
	ck_assert_str_eq(
	    q(s, "SELECT sum(c) FROM (SELECT a_id, count(*) AS c FROM b GROUP BY a_id)"), "3");
}
END_TEST

START_TEST(compound_queries)
{
	ck_assert_str_eq(q(s, "SELECT a_id FROM b UNION SELECT id FROM a"), "1\n2\n3\n4");
	ck_assert_str_eq(q(s, "SELECT a_id FROM b UNION ALL SELECT id FROM a WHERE id = 1"),
	                 "1\n1\n4\n1");
	ck_assert_str_eq(q(s, "SELECT id FROM a INTERSECT SELECT a_id FROM b"), "1");
	ck_assert_str_eq(q(s, "SELECT id FROM a EXCEPT SELECT a_id FROM b"), "2\n3");
	ck_assert_str_eq(q(s, "SELECT id FROM a UNION SELECT a_id FROM b ORDER BY 1 DESC LIMIT 2"),
	                 "4\n3");
}
END_TEST

START_TEST(dml_and_constraints)
{
	script(s, "CREATE TABLE p (id INTEGER PRIMARY KEY, email VARCHAR(8) UNIQUE, n INTEGER NOT "
	          "NULL DEFAULT 7);"
	          "CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p);");
	ck_assert_str_eq(q(s, "INSERT INTO p (id, email) VALUES (1, 'a@b')"), "count 1");
	ck_assert_str_eq(q(s, "SELECT * FROM p"), "1|a@b|7");
	ck_assert_str_eq(
	    q(s, "INSERT INTO p VALUES (1, 'x', 1)"),
	    "Error(constraint): PRIMARY KEY constraint failed: p.id = 1 already exists");
	ck_assert_str_eq(
	    q(s, "INSERT INTO p VALUES (2, 'a@b', 1)"),
	    "Error(constraint): UNIQUE constraint failed: p.email = 'a@b' already exists");
	ck_assert_str_eq(q(s, "INSERT INTO p VALUES (2, NULL, NULL)"),
	                 "Error(constraint): NOT NULL constraint failed: p.n");
	ck_assert_str_eq(q(s, "INSERT INTO p VALUES (NULL, 'q', 1)"),
	                 "Error(constraint): NOT NULL constraint failed: p.id");
	ck_assert_str_eq(q(s, "INSERT INTO p VALUES (2, 'toolong@x', 1)"),
	                 "Error(constraint): value too long for p.email: 9 bytes, the limit is 8");
	ck_assert_str_eq(q(s, "INSERT INTO p VALUES (2, 'b', 'x')"),
	                 "Error(type): cannot store TEXT 'x' in column p.n of type INTEGER");
	ck_assert_str_eq(q(s, "INSERT INTO c VALUES (1, 9)"),
	                 "Error(constraint): FOREIGN KEY constraint failed: c.p_id = 9 has no "
	                 "matching primary key in the referenced table");
	ck_assert_str_eq(q(s, "INSERT INTO c VALUES (1, 1), (2, NULL)"), "count 2");
	ck_assert_str_eq(q(s, "DELETE FROM p WHERE id = 1"),
	                 "Error(constraint): FOREIGN KEY constraint failed: p.id = 1 is referenced "
	                 "by c.p_id");
	ck_assert_str_eq(q(s, "UPDATE p SET id = 5"),
	                 "Error(constraint): FOREIGN KEY constraint failed: p.id = 1 is referenced "
	                 "by c.p_id");
	ck_assert_str_eq(q(s, "DROP TABLE p"),
	                 "Error(constraint): cannot drop table p: it is referenced by c.p_id");
	/* multi-row statements are atomic: the duplicate in row 3 undoes rows 1 and 2 */
	ck_assert_str_eq(
	    q(s, "INSERT INTO p VALUES (3, 'c', 1), (4, 'd', 1), (5, 'c', 1)"),
	    "Error(constraint): UNIQUE constraint failed: p.email = 'c' already exists");
	ck_assert_str_eq(q(s, "SELECT count(*) FROM p"), "1");
	ck_assert_str_eq(q(s, "UPDATE p SET n = n + 1, email = 'z' WHERE id = 1"), "count 1");
	ck_assert_str_eq(q(s, "SELECT * FROM p"), "1|z|8");
	ck_assert_str_eq(q(s, "UPDATE c SET p_id = 7"),
	                 "Error(constraint): FOREIGN KEY constraint failed: c.p_id = 7 has no "
	                 "matching primary key in the referenced table");
	ck_assert_str_eq(q(s, "DELETE FROM c"), "count 2");
	ck_assert_str_eq(q(s, "DELETE FROM p WHERE id = 1"), "count 1");
	ck_assert_str_eq(q(s, "INSERT INTO p (id, email) SELECT id + 10, name FROM a"), "count 3");
	ck_assert_str_eq(q(s, "SELECT id, email, n FROM p ORDER BY id"),
	                 "11|one|7\n12|two|7\n13|three|7");
	ck_assert_str_eq(q(s, "UPDATE p SET id = id + 1"),
	                 "Error(constraint): PRIMARY KEY constraint "
	                 "failed: p.id = 12 already exists");
	ck_assert_str_eq(q(s, "SELECT id FROM p ORDER BY id"), "11\n12\n13");
}
END_TEST

START_TEST(hidden_row_ids_and_types)
{
	script(s, "CREATE TABLE h (v FLOAT, t TEXT, f BOOLEAN)");
	ck_assert_str_eq(
	    q(s, "INSERT INTO h VALUES (1, 'a', TRUE), (1, 'a', FALSE), (2.5, NULL, NULL)"),
	    "count 3");
	ck_assert_str_eq(q(s, "SELECT v, t, f FROM h"), "1.0|a|TRUE\n1.0|a|FALSE\n2.5|NULL|NULL");
	ck_assert_str_eq(q(s, "DELETE FROM h WHERE f"), "count 1");
	ck_assert_str_eq(q(s, "UPDATE h SET v = v * 2"), "count 2");
	ck_assert_str_eq(q(s, "SELECT v FROM h"), "2.0\n5.0");
	ck_assert_str_eq(q(s, "SELECT 9223372036854775807 + 1"), "Error(limit): integer overflow");
}
END_TEST

START_TEST(indexes)
{
	script(s,
	       "CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, f FLOAT, s TEXT);"
	       "INSERT INTO t VALUES (1, 5, 0.5, 'e'), (2, 3, 1.5, 'c'), (3, 5, NULL, 'a'), "
	       "(4, NULL, 2.0, 'b');"
	       "CREATE INDEX t_k ON t (k); CREATE INDEX t_f ON t (f); CREATE INDEX t_s ON t (s)");
	ck_assert_str_eq(q(s, "SELECT id FROM t WHERE k = 5 ORDER BY id"), "1\n3");
	ck_assert_str_eq(q(s, "SELECT id FROM t WHERE k IN (3, 5, 5) ORDER BY id"), "1\n2\n3");
	ck_assert_str_eq(q(s, "SELECT id FROM t WHERE k > 3 ORDER BY id"), "1\n3");
	ck_assert_str_eq(q(s, "SELECT id FROM t WHERE k < 5 ORDER BY id"), "2");
	ck_assert_str_eq(q(s, "SELECT id FROM t WHERE f >= 1 ORDER BY id"), "2\n4");
	ck_assert_str_eq(q(s, "SELECT id FROM t WHERE f = 2 ORDER BY id"), "4"); /* INTEGER probe */
	ck_assert_str_eq(q(s, "SELECT id FROM t WHERE k = 4.5"), "");
	ck_assert_str_eq(q(s, "SELECT id FROM t WHERE s BETWEEN 'b' AND 'd' ORDER BY id"), "2\n4");
	ck_assert_str_eq(q(s, "UPDATE t SET k = 7 WHERE id = 1"), "count 1");
	ck_assert_str_eq(q(s, "SELECT id FROM t WHERE k = 5"), "3");
	ck_assert_str_eq(q(s, "SELECT id FROM t WHERE k = 7"), "1");
	ck_assert_str_eq(q(s, "DELETE FROM t WHERE k = 7"), "count 1");
	ck_assert_str_eq(q(s, "SELECT id FROM t WHERE k >= 0 ORDER BY id"), "2\n3");
	ck_assert_str_eq(q(s, "CREATE UNIQUE INDEX t_k2 ON t (k)"), "ok");
	ck_assert_str_eq(q(s, "INSERT INTO t VALUES (9, 3, NULL, 'z')"),
	                 "Error(constraint): UNIQUE constraint failed: t.k = 3 already exists");
	ck_assert_str_eq(q(s, "INSERT INTO t VALUES (9, NULL, NULL, 'z')"), "count 1");
	ck_assert_str_eq(q(s, "INSERT INTO t VALUES (10, NULL, 1.5, 'y')"), "count 1");
	ck_assert_str_eq(
	    q(s, "CREATE UNIQUE INDEX t_s2 ON t (f)"),
	    "Error(constraint): cannot create unique index t_s2: UNIQUE constraint failed: "
	    "t.f = 1.5 already exists");
	ck_assert_str_eq(q(s, "DROP INDEX t_k"), "ok");
	ck_assert_str_eq(q(s, "DROP INDEX t_k"), "Error(not found): no such index: t_k");
	ck_assert_str_eq(q(s, "SELECT id FROM t WHERE k = 3"), "2");
}
END_TEST

START_TEST(embedded_transactions)
{
	struct sql_session *s2;
	ck_assert_ptr_null(sql_session_open(db, &s2));
	ck_assert_str_eq(q(s, "BEGIN"), "ok");
	ck_assert_str_eq(q(s2, "BEGIN"), "ok");
	ck_assert_str_eq(q(s, "UPDATE a SET x = x + 1 WHERE id = 1"), "count 1");
	ck_assert_str_eq(q(s2, "UPDATE a SET x = x + 2 WHERE id = 1"), "count 1");
	ck_assert_str_eq(q(s2, "SELECT x FROM a WHERE id = 1"), "12"); /* its own write */
	ck_assert_str_eq(q(s, "SELECT x FROM a WHERE id = 1"), "11");
	ck_assert_str_eq(q(s, "COMMIT"), "ok");
	ck_assert_str_eq(q(s2, "COMMIT"),
	                 "Error(serialization failure): serialization failure, retry transaction");
	ck_assert(!sql_session_in_transaction(s2));
	ck_assert_str_eq(q(s2, "SELECT x FROM a WHERE id = 1"), "11");
	/* a failed statement inside a transaction keeps the transaction and its writes */
	ck_assert_str_eq(q(s2, "BEGIN"), "ok");
	ck_assert_str_eq(q(s2, "INSERT INTO a VALUES (7, 7, 'seven')"), "count 1");
	ck_assert(starts(q(s2, "INSERT INTO a VALUES (8, 8, 'eight'), (7, 0, 'dup')"),
	                 "Error(constraint)"));
	ck_assert(sql_session_in_transaction(s2));
	ck_assert_str_eq(q(s2, "COMMIT"), "ok");
	ck_assert_str_eq(q(s, "SELECT id FROM a WHERE id > 3"), "7");
	sql_session_close(s2);
}
END_TEST

START_TEST(key_limits)
{
	char sql[1024], big[601];
	memset(big, 'y', 600);
	big[600] = '\0';
	script(s, "CREATE TABLE k (s TEXT PRIMARY KEY, t TEXT UNIQUE)");
	snprintf(sql, sizeof sql, "INSERT INTO k VALUES ('%s', 'a')", big);
	ck_assert_str_eq(q(s, sql),
	                 "Error(limit): primary key value too long for a key (at most 500 bytes)");
	snprintf(sql, sizeof sql, "INSERT INTO k VALUES ('a', '%s')", big);
	ck_assert_str_eq(q(s, sql), "Error(limit): indexed values too long for a key of index "
	                            "sql_unique_k_t (at most 500 bytes)");
	/* looking such a value up is no error: it just cannot be there */
	snprintf(sql, sizeof sql, "SELECT s FROM k WHERE s IN ('a', '%s')", big);
	ck_assert_str_eq(q(s, sql), "");
	snprintf(sql, sizeof sql, "SELECT count(*) FROM k WHERE s < '%s'", big);
	ck_assert_str_eq(q(s, sql), "0");
}
END_TEST

START_TEST(persistence)
{
	char dir[] = "/tmp/cairn-sql-test-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	struct sql_db *d;
	struct sql_session *ss;
	ck_assert_ptr_null(sql_db_open(dir, &d));
	ck_assert_ptr_null(sql_session_open(d, &ss));
	script(ss, "CREATE TABLE k (id INTEGER PRIMARY KEY, v TEXT);"
	           "INSERT INTO k VALUES (1, 'kept');"
	           "BEGIN; INSERT INTO k VALUES (2, 'lost');");
	sql_session_close(ss); /* rolls back the open transaction */
	sql_db_close(d);
	ck_assert_ptr_null(sql_db_open(dir, &d));
	ck_assert_ptr_null(sql_session_open(d, &ss));
	ck_assert_str_eq(q(ss, "SELECT * FROM k"), "1|kept");
	ck_assert_str_eq(q(ss, "INSERT INTO k VALUES (2, 'again')"), "count 1");
	sql_session_close(ss);
	sql_db_close(d);
	char file[64];
	snprintf(file, sizeof file, "%s/cairn.db", dir);
	ck_assert_int_eq(unlink(file), 0);
	snprintf(file, sizeof file, "%s/LOCK", dir); /* the database directory's lock */
	ck_assert_int_eq(unlink(file), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *su = suite_create("sql_exec");
	TCase *t = tcase_create("exec");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, scans_and_filters);
	tcase_add_test(t, ordering_and_limits);
	tcase_add_test(t, joins);
	tcase_add_test(t, aggregates);
	tcase_add_test(t, subqueries);
	tcase_add_test(t, compound_queries);
	tcase_add_test(t, dml_and_constraints);
	tcase_add_test(t, hidden_row_ids_and_types);
	tcase_add_test(t, indexes);
	tcase_add_test(t, embedded_transactions);
	tcase_add_test(t, key_limits);
	tcase_add_test(t, persistence);
	suite_add_tcase(su, t);
	return su;
}

int main(void)
{
	return check_run(suite());
}
