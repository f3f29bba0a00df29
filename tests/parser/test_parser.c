/*
 * Parser tests: every statement kind and expression form, precedence, the tree fields
 * the engine relies on, the cursor API, statement completeness and error messages.
 * Tree shapes are checked through the canonical text (see parse_helpers.h) and, where
 * the formatter cannot show a field, by looking at the AST directly.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "parse_helpers.h"

/* Parses one statement into `arena`; fails the test on error. */
static struct sql_stmt *parse_ok(struct sql_arena *arena, const char *sql)
{
	struct sql_stmt *s = NULL;
	err *e = sql_parse_one(sql, strlen(sql), arena, &s);
	ck_assert_msg(e == NULL, "%s: %s", sql, err_msg(e));
	ck_assert_ptr_nonnull(s);
	return s;
}

/* ------------------------------------------------------------ expressions -- */

START_TEST(literals)
{
	ck_expr("42", "42");
	ck_expr("3.5", "3.5");
	ck_expr("1e3", "1000.0");
	ck_expr(".25", "0.25");
	ck_expr("2.5E-3", "0.0025");
	ck_expr("'it''s'", "'it''s'");
	ck_expr("''", "''");
	ck_expr("NULL", "NULL");
	ck_expr("true", "TRUE");
	ck_expr("False", "FALSE");
	ck_expr("9223372036854775807", "9223372036854775807");
	ck_expr("-9223372036854775808", "-9223372036854775808");
	ck_expr("- 9223372036854775808", "-9223372036854775808");
	ck_expr("9223372036854775808", "9.223372036854776e+18");
	ck_expr("99999999999999999999999", "1e+23");
	ck_expr("1e999", "1e999");
	ck_expr("-(9223372036854775808)", "-9.223372036854776e+18");
	ck_expr("94.96", "94.96");
}
END_TEST

START_TEST(literal_values_in_the_tree)
{
	struct sql_arena a;
	sql_arena_init(&a, SQL_ARENA_DEFAULT_MAX_BYTES);
	struct sql_expr *e;
	ck_assert_ptr_null(sql_parse_expr("-9223372036854775808", 20, &a, &e));
	ck_assert_int_eq(e->kind, SQL_EXPR_INT);
	ck_assert(e->integer == INT64_MIN);
	ck_assert_ptr_null(sql_parse_expr("18446744073709551616", 20, &a, &e));
	ck_assert_int_eq(e->kind, SQL_EXPR_FLOAT);
	ck_assert(e->floating == 18446744073709551616.0);
	ck_assert_ptr_null(sql_parse_expr("'a''b'", 6, &a, &e));
	ck_assert_int_eq(e->kind, SQL_EXPR_STRING);
	ck_assert_str_eq(e->string.ptr, "a'b");
	ck_assert_uint_eq(e->string.len, 3);
	ck_assert_ptr_null(sql_parse_expr("1e999", 5, &a, &e));
	ck_assert(isinf(e->floating));
	sql_arena_free(&a);
}
END_TEST

START_TEST(names_are_normalized)
{
	ck_expr("Col0", "col0");
	ck_expr("T1.B", "t1.b");
	ck_expr("\"MixedCase\"", "\"MixedCase\"");
	ck_expr("\"a\"\"b\"", "\"a\"\"b\"");
	ck_expr("\"select\"", "\"select\"");
	ck_expr("\"lower\"", "lower");
	ck_expr("text + key", "text + key");
	struct sql_arena a;
	sql_arena_init(&a, SQL_ARENA_DEFAULT_MAX_BYTES);
	struct sql_expr *e;
	ck_assert_ptr_null(sql_parse_expr("Tab.\"Q\"\"X\"", 10, &a, &e));
	ck_assert_int_eq(e->kind, SQL_EXPR_COLUMN);
	ck_assert_str_eq(e->column.table, "tab");
	ck_assert_str_eq(e->column.name, "Q\"X");
	sql_arena_free(&a);
}
END_TEST

START_TEST(unary_operators)
{
	ck_expr("- - 48 * + 92", "-(-48) * +92");
	ck_expr("-a", "-a");
	ck_expr("- (a + 1)", "-(a + 1)");
	ck_expr("NOT a", "NOT a");
	ck_expr("NOT NOT a", "NOT NOT a");
	ck_expr("- - - 1", "-(-(-1))");
	ck_expr("+ - + 7", "+(-(+7))");
	ck_expr("-a * b", "-a * b");
	ck_expr("- a || b", "-a || b");
}
END_TEST

START_TEST(precedence_follows_sqlite)
{
	ck_expr("1 + 2 * 3", "1 + 2 * 3");
	ck_expr("(1 + 2) * 3", "(1 + 2) * 3");
	ck_expr("1 - 2 - 3", "1 - 2 - 3");
	ck_expr("1 - (2 - 3)", "1 - (2 - 3)");
	ck_expr("a || b * c", "a || b * c");
	ck_expr("(a * b) || c", "(a * b) || c");
	ck_expr("a * b || c", "a * b || c");
	ck_expr("(a * b) || c", "(a * b) || c");
	ck_expr("a OR b AND c", "a OR b AND c");
	ck_expr("(a OR b) AND c", "(a OR b) AND c");
	ck_expr("NOT a = b", "NOT a = b");
	ck_expr("(NOT a) = b", "(NOT a) = b");
	ck_expr("NOT a AND b", "NOT a AND b");
	ck_expr("NOT (a AND b)", "NOT (a AND b)");
	ck_expr("a = b < c", "a = b < c");
	ck_expr("(a = b) < c", "(a = b) < c");
	ck_expr("a < b + 1", "a < b + 1");
	ck_expr("a = 1 OR b <> 2 AND c >= 3", "a = 1 OR b <> 2 AND c >= 3");
	ck_expr("a == b", "a = b");
	ck_expr("a != b", "a <> b");
	ck_expr("a % b / c", "a % b / c");
	ck_expr("1 = NOT 0", "1 = (NOT 0)");
	ck_expr("a BETWEEN 1 AND 2 AND b", "a BETWEEN 1 AND 2 AND b");
	ck_expr("a IS NULL = b", "a IS NULL = b");
	ck_expr("a = b IS NULL", "a = b IS NULL");
	ck_expr("NOT a IS NULL", "NOT a IS NULL");
	ck_expr("a IN (1) AND b LIKE 'x' OR NOT c", "a IN (1) AND b LIKE 'x' OR NOT c");
}
END_TEST

START_TEST(precedence_tree_shape)
{
	struct sql_arena a;
	sql_arena_init(&a, SQL_ARENA_DEFAULT_MAX_BYTES);
	struct sql_expr *e;
	ck_assert_ptr_null(sql_parse_expr("NOT a = b", 9, &a, &e));
	ck_assert_int_eq(e->kind, SQL_EXPR_UNARY);
	ck_assert_int_eq(e->unary.op, SQL_UNARY_NOT);
	ck_assert_int_eq(e->unary.operand->kind, SQL_EXPR_BINARY);
	ck_assert_int_eq(e->unary.operand->binary.op, SQL_BINARY_EQ);
	ck_assert_ptr_null(sql_parse_expr("1 - 2 - 3", 9, &a, &e));
	ck_assert_int_eq(e->binary.op, SQL_BINARY_SUB);
	ck_assert_int_eq(e->binary.left->kind, SQL_EXPR_BINARY);
	ck_assert_int_eq(e->binary.right->kind, SQL_EXPR_INT);
	ck_assert_ptr_null(sql_parse_expr("- - 48 * + 92", 13, &a, &e));
	ck_assert_int_eq(e->binary.op, SQL_BINARY_MUL);
	ck_assert_int_eq(e->binary.left->unary.op, SQL_UNARY_NEG);
	ck_assert_int_eq(e->binary.left->unary.operand->unary.op, SQL_UNARY_NEG);
	ck_assert_int_eq(e->binary.right->unary.op, SQL_UNARY_PLUS);
	ck_assert_uint_eq(e->pos.column, 8);
	sql_arena_free(&a);
}
END_TEST

START_TEST(predicates)
{
	ck_expr("col0 IS NULL", "col0 IS NULL");
	ck_expr("col0 IS NOT NULL", "col0 IS NOT NULL");
	ck_expr("col0 ISNULL", "col0 IS NULL");
	ck_expr("col0 NOTNULL", "col0 IS NOT NULL");
	ck_expr("col0 NOT NULL", "col0 IS NOT NULL");
	ck_expr("a IS b", "a IS b");
	ck_expr("a IS NOT b + 1", "a IS NOT b + 1");
	ck_expr("a LIKE 'x%'", "a LIKE 'x%'");
	ck_expr("a NOT LIKE 'x%'", "a NOT LIKE 'x%'");
	ck_expr("a BETWEEN 1 AND 2", "a BETWEEN 1 AND 2");
	ck_expr("a NOT BETWEEN b - 1 AND b + 1", "a NOT BETWEEN b - 1 AND b + 1");
	ck_expr("a BETWEEN (1 AND 2) AND 3", "a BETWEEN (1 AND 2) AND 3");
	ck_expr("a IN (1, 2, 3)", "a IN (1, 2, 3)");
	ck_expr("a NOT IN (1)", "a NOT IN (1)");
	ck_expr("a IN ()", "a IN ()");
	ck_expr("a IN (SELECT b FROM t)", "a IN (SELECT b FROM t)");
	ck_expr("a NOT IN (SELECT b FROM t)", "a NOT IN (SELECT b FROM t)");
	ck_expr("EXISTS (SELECT 1)", "EXISTS (SELECT 1)");
	ck_expr("NOT EXISTS(SELECT 1 FROM t1 AS x WHERE x.b<t1.b)",
	        "NOT EXISTS (SELECT 1 FROM t1 AS x WHERE x.b < t1.b)");
	ck_expr("(SELECT max(a) FROM t)", "(SELECT max(a) FROM t)");
	ck_expr("((SELECT 1))", "(SELECT 1)");
	ck_expr("(a IN (1)) IN (2)", "a IN (1) IN (2)");
}
END_TEST

START_TEST(case_cast_and_functions)
{
	ck_expr("CASE WHEN a<b-3 THEN 111 WHEN a<=b THEN 222 ELSE 444 END",
	        "CASE WHEN a < b - 3 THEN 111 WHEN a <= b THEN 222 ELSE 444 END");
	ck_expr("CASE a+1 WHEN b THEN 111 END", "CASE a + 1 WHEN b THEN 111 END");
	ck_expr("CAST ( 90 AS INTEGER )", "CAST(90 AS INTEGER)");
	ck_expr("CAST(x AS varchar(10))", "CAST(x AS VARCHAR(10))");
	ck_expr("CAST(x AS DECIMAL)", "CAST(x AS FLOAT)");
	ck_expr("CAST(x AS double precision)", "CAST(x AS FLOAT)");
	ck_expr("CAST(x AS bool)", "CAST(x AS BOOLEAN)");
	ck_expr("COUNT( * )", "count(*)");
	ck_expr("COUNT(DISTINCT col0)", "count(DISTINCT col0)");
	ck_expr("MIN( ALL + - 30 )", "min(+(-30))");
	ck_expr("NULLIF ( - COUNT ( * ), + 67 )", "nullif(-count(*), +67)");
	ck_expr("COALESCE(a, b, NULL)", "coalesce(a, b, NULL)");
	ck_expr("now()", "now()");
	ck_expr("abs(b-c)", "abs(b - c)");
	ck_expr("\"F\"(1)", "\"F\"(1)");
}
END_TEST

START_TEST(function_fields)
{
	struct sql_arena a;
	sql_arena_init(&a, SQL_ARENA_DEFAULT_MAX_BYTES);
	struct sql_expr *e;
	ck_assert_ptr_null(sql_parse_expr("SUM(DISTINCT x + 1)", 19, &a, &e));
	ck_assert_int_eq(e->kind, SQL_EXPR_FUNCTION);
	ck_assert_str_eq(e->function.name, "sum");
	ck_assert(e->function.distinct);
	ck_assert(!e->function.star);
	ck_assert_uint_eq(e->function.args.count, 1);
	ck_assert_ptr_null(sql_parse_expr("count(*)", 8, &a, &e));
	ck_assert(e->function.star);
	ck_assert_uint_eq(e->function.args.count, 0);
	ck_assert_ptr_null(sql_parse_expr("CASE WHEN 1 THEN 2 END", 22, &a, &e));
	ck_assert_ptr_null(e->case_.operand);
	ck_assert_ptr_null(e->case_.else_result);
	ck_assert_uint_eq(e->case_.when_count, 1);
	ck_assert_ptr_null(sql_parse_expr("CAST(a AS CHAR(3))", 18, &a, &e));
	ck_assert_int_eq(e->cast.type.type, SQL_TYPE_STRING);
	ck_assert_uint_eq(e->cast.type.max_len, 3);
	ck_assert_ptr_null(sql_parse_expr("a IS NOT NULL", 13, &a, &e));
	ck_assert_int_eq(e->kind, SQL_EXPR_IS_NULL);
	ck_assert(e->is_null.negated);
	sql_arena_free(&a);
}
END_TEST

/* ------------------------------------------------------------- statements -- */

START_TEST(create_table)
{
	ck_stmt("CREATE TABLE t1(a INTEGER, b INTEGER, c INTEGER, d INTEGER, e INTEGER)",
	        "CREATE TABLE t1 (a INTEGER, b INTEGER, c INTEGER, d INTEGER, e INTEGER)");
	ck_stmt("CREATE TABLE tab0(pk INTEGER PRIMARY KEY, col0 INTEGER, col1 FLOAT, col2 TEXT)",
	        "CREATE TABLE tab0 (pk INTEGER PRIMARY KEY, col0 INTEGER, col1 FLOAT, col2 TEXT)");
	ck_stmt("create table if not exists Users (id int primary key, name varchar(20) not "
	        "null unique, email string null default 'x', score double default -1.5, "
	        "ok bool default true, team bigint references teams, boss integer "
	        "references users (id))",
	        "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT "
	        "NULL UNIQUE, email TEXT NULL DEFAULT 'x', score FLOAT DEFAULT -1.5, ok BOOLEAN "
	        "DEFAULT TRUE, team INTEGER REFERENCES teams, boss INTEGER REFERENCES users (id))");
	ck_stmt("CREATE TABLE t (a INT, b INT, c INT, PRIMARY KEY (a, b), UNIQUE (c), FOREIGN "
	        "KEY (c) REFERENCES u(x), FOREIGN KEY (b) REFERENCES v)",
	        "CREATE TABLE t (a INTEGER, b INTEGER, c INTEGER, PRIMARY KEY (a, b), UNIQUE (c), "
	        "FOREIGN KEY (c) REFERENCES u (x), FOREIGN KEY (b) REFERENCES v)");
	ck_stmt("CREATE TABLE t (a INTEGER DEFAULT 1 + 2 NOT NULL, b decimal(10,2), c "
	        "smallint, d tinyint, e real, f numeric, g character(4), h char)",
	        "CREATE TABLE t (a INTEGER NOT NULL DEFAULT 1 + 2, b FLOAT, c INTEGER, d INTEGER, "
	        "e FLOAT, f FLOAT, g VARCHAR(4), h TEXT)");
	ck_stmt("CREATE TABLE t (a INTEGER DEFAULT (1 = 2))",
	        "CREATE TABLE t (a INTEGER DEFAULT (1 = 2))");
	ck_stmt("CREATE TABLE kv (key INTEGER PRIMARY KEY, value TEXT, text TEXT)",
	        "CREATE TABLE kv (key INTEGER PRIMARY KEY, value TEXT, text TEXT)");
}
END_TEST

START_TEST(create_table_fields)
{
	struct sql_arena a;
	sql_arena_init(&a, SQL_ARENA_DEFAULT_MAX_BYTES);
	struct sql_stmt *s = parse_ok(&a, "CREATE TABLE t (id INT PRIMARY KEY, n VARCHAR(5) NOT "
	                                  "NULL DEFAULT 'a', r INT REFERENCES u(id), "
	                                  "UNIQUE (n, r))");
	ck_assert_int_eq(s->kind, SQL_STMT_CREATE_TABLE);
	ck_assert_str_eq(s->create_table.name, "t");
	ck_assert_uint_eq(s->create_table.column_count, 3);
	const struct sql_column_def *c = s->create_table.columns;
	ck_assert(c[0].primary_key);
	ck_assert_int_eq(c[0].type.type, SQL_TYPE_INTEGER);
	ck_assert(c[1].not_null && !c[1].nullable);
	ck_assert_uint_eq(c[1].type.max_len, 5);
	ck_assert_int_eq(c[1].default_value->kind, SQL_EXPR_STRING);
	ck_assert_str_eq(c[2].references_table, "u");
	ck_assert_str_eq(c[2].references_column, "id");
	ck_assert_uint_eq(s->create_table.constraint_count, 1);
	ck_assert_int_eq(s->create_table.constraints[0].kind, SQL_CONSTRAINT_UNIQUE);
	ck_assert_uint_eq(s->create_table.constraints[0].columns.count, 2);
	ck_assert_str_eq(s->create_table.constraints[0].columns.names[1], "r");
	ck_assert_uint_eq(c[1].pos.column, 37);
	sql_arena_free(&a);
}
END_TEST

START_TEST(drop_and_indexes)
{
	ck_stmt("DROP TABLE t1", "DROP TABLE t1");
	ck_stmt("drop table if exists T1", "DROP TABLE IF EXISTS t1");
	ck_stmt("CREATE INDEX idx_tab1_0 on tab1 (col0)", "CREATE INDEX idx_tab1_0 ON tab1 (col0)");
	ck_stmt("CREATE UNIQUE INDEX idx_tab2_0 ON tab2 (col3 DESC,col0,col1 DESC)",
	        "CREATE UNIQUE INDEX idx_tab2_0 ON tab2 (col3 DESC, col0, col1 DESC)");
	ck_stmt("CREATE INDEX IF NOT EXISTS i ON t (a ASC)",
	        "CREATE INDEX IF NOT EXISTS i ON t (a)");
	ck_stmt("DROP INDEX i", "DROP INDEX i");
	ck_stmt("DROP INDEX IF EXISTS i", "DROP INDEX IF EXISTS i");
}
END_TEST

START_TEST(insert_update_delete)
{
	ck_stmt("INSERT INTO tab0 VALUES(0,86,94.96,'vuopk',91,47.78,'sikuk')",
	        "INSERT INTO tab0 VALUES (0, 86, 94.96, 'vuopk', 91, 47.78, 'sikuk')");
	ck_stmt("INSERT INTO t (a, b) VALUES (1, 2), (3, DEFAULT)",
	        "INSERT INTO t (a, b) VALUES (1, 2), (3, DEFAULT)");
	ck_stmt("INSERT INTO tab1 SELECT * FROM tab0", "INSERT INTO tab1 SELECT * FROM tab0");
	ck_stmt("INSERT INTO t (a) SELECT x FROM u WHERE x > 1",
	        "INSERT INTO t (a) SELECT x FROM u WHERE x > 1");
	ck_stmt("INSERT INTO t DEFAULT VALUES", "INSERT INTO t DEFAULT VALUES");
	ck_stmt("UPDATE t SET a = a + 1, b = 'x' WHERE c IS NULL",
	        "UPDATE t SET a = a + 1, b = 'x' WHERE c IS NULL");
	ck_stmt("UPDATE t SET a = DEFAULT", "error: syntax error at line 1, column 18: expected "
	                                    "an expression, found 'DEFAULT'");
	ck_stmt("DELETE FROM t", "DELETE FROM t");
	ck_stmt("DELETE FROM t WHERE a BETWEEN 1 AND 5", "DELETE FROM t WHERE a BETWEEN 1 AND 5");

	struct sql_arena a;
	sql_arena_init(&a, SQL_ARENA_DEFAULT_MAX_BYTES);
	struct sql_stmt *s = parse_ok(&a, "INSERT INTO t (x, y) VALUES (1, DEFAULT), (2, 3)");
	ck_assert_int_eq(s->insert.source, SQL_INSERT_VALUES);
	ck_assert_uint_eq(s->insert.columns.count, 2);
	ck_assert_uint_eq(s->insert.row_count, 2);
	ck_assert_int_eq(s->insert.rows[0].items[1]->kind, SQL_EXPR_DEFAULT);
	s = parse_ok(&a, "DELETE FROM t");
	ck_assert_ptr_null(s->delete_.where);
	sql_arena_free(&a);
}
END_TEST

START_TEST(select_clauses)
{
	ck_stmt("SELECT ALL * FROM tab0 cor0 CROSS JOIN tab2 AS cor1",
	        "SELECT * FROM tab0 AS cor0 CROSS JOIN tab2 AS cor1");
	ck_stmt("SELECT DISTINCT * FROM tab2, tab2 cor0",
	        "SELECT DISTINCT * FROM tab2, tab2 AS cor0");
	ck_stmt("SELECT a, b AS x, c y, t.* FROM t", "SELECT a, b AS x, c AS y, t.* FROM t");
	ck_stmt("SELECT t.a FROM t", "SELECT t.a FROM t");
	ck_stmt("SELECT 1", "SELECT 1");
	ck_stmt("SELECT a, count(*) FROM t WHERE b > 1 GROUP BY a, c HAVING count(*) > 2",
	        "SELECT a, count(*) FROM t WHERE b > 1 GROUP BY a, c HAVING count(*) > 2");
	ck_stmt("SELECT a FROM t ORDER BY 1, a DESC, b ASC NULLS LAST, c NULLS FIRST",
	        "SELECT a FROM t ORDER BY 1, a DESC, b NULLS LAST, c NULLS FIRST");
	ck_stmt("SELECT a FROM t LIMIT 10 OFFSET 5", "SELECT a FROM t LIMIT 10 OFFSET 5");
	ck_stmt("SELECT a FROM t LIMIT 2 + 3", "SELECT a FROM t LIMIT 2 + 3");
	ck_stmt("SELECT * FROM (SELECT a FROM t) AS s", "SELECT * FROM (SELECT a FROM t) AS s");
	ck_stmt("SELECT * FROM (SELECT a FROM t) s", "SELECT * FROM (SELECT a FROM t) AS s");
	ck_stmt("SELECT * FROM (SELECT a FROM t)", "SELECT * FROM (SELECT a FROM t)");
	ck_stmt("SELECT - col2 / - col0 - + 69 AS col0 FROM tab1 AS cor0",
	        "SELECT -col2 / -col0 - +69 AS col0 FROM tab1 AS cor0");
}
END_TEST

START_TEST(joins)
{
	ck_stmt("SELECT * FROM a JOIN b ON a.x = b.x", "SELECT * FROM a JOIN b ON a.x = b.x");
	ck_stmt("SELECT * FROM a INNER JOIN b ON 1", "SELECT * FROM a JOIN b ON 1");
	ck_stmt("SELECT * FROM a LEFT OUTER JOIN b ON 1 RIGHT JOIN c ON 2",
	        "SELECT * FROM a LEFT JOIN b ON 1 RIGHT JOIN c ON 2");
	ck_stmt("SELECT * FROM a LEFT JOIN b ON 1, c", "SELECT * FROM a LEFT JOIN b ON 1, c");
	ck_stmt("SELECT * FROM a CROSS JOIN (b JOIN c ON 1)",
	        "SELECT * FROM a CROSS JOIN (b JOIN c ON 1)");
	ck_stmt("SELECT * FROM ((a, b))", "SELECT * FROM a, b");
	ck_stmt("SELECT * FROM tab0, tab0 AS cor0, tab0 AS cor1",
	        "SELECT * FROM tab0, tab0 AS cor0, tab0 AS cor1");

	struct sql_arena a;
	sql_arena_init(&a, SQL_ARENA_DEFAULT_MAX_BYTES);
	struct sql_stmt *s = parse_ok(&a, "SELECT * FROM a, b LEFT JOIN c ON a.x = c.x");
	const struct sql_from *f = s->select->from;
	ck_assert_int_eq(f->kind, SQL_FROM_JOIN);
	ck_assert_int_eq(f->join.kind, SQL_JOIN_LEFT);
	ck_assert_ptr_nonnull(f->join.on);
	ck_assert_int_eq(f->join.left->kind, SQL_FROM_JOIN);
	ck_assert(f->join.left->join.comma);
	ck_assert_ptr_null(f->join.left->join.on);
	ck_assert_str_eq(f->join.right->table.name, "c");
	sql_arena_free(&a);
}
END_TEST

START_TEST(compound_selects)
{
	ck_stmt("SELECT a FROM t UNION SELECT b FROM u", "SELECT a FROM t UNION SELECT b FROM u");
	ck_stmt(
	    "SELECT 1 UNION ALL SELECT 2 INTERSECT SELECT 3 EXCEPT SELECT 4 ORDER BY 1 LIMIT 2",
	    "SELECT 1 UNION ALL SELECT 2 INTERSECT SELECT 3 EXCEPT SELECT 4 ORDER BY 1 LIMIT 2");
	struct sql_arena a;
	sql_arena_init(&a, SQL_ARENA_DEFAULT_MAX_BYTES);
	struct sql_stmt *s = parse_ok(&a, "SELECT 1 UNION SELECT 2 EXCEPT SELECT 3 ORDER BY 1");
	ck_assert_int_eq(s->select->kind, SQL_SELECT_COMPOUND);
	ck_assert_int_eq(s->select->op, SQL_COMPOUND_EXCEPT);
	ck_assert_int_eq(s->select->left->kind, SQL_SELECT_COMPOUND);
	ck_assert_int_eq(s->select->right->kind, SQL_SELECT_CORE);
	ck_assert_uint_eq(s->select->order_count, 1);
	ck_assert_uint_eq(s->select->left->order_count, 0);
	sql_arena_free(&a);
}
END_TEST

START_TEST(transactions_and_explain)
{
	ck_stmt("BEGIN", "BEGIN");
	ck_stmt("BEGIN TRANSACTION", "BEGIN");
	ck_stmt("BEGIN READ ONLY", "BEGIN READ ONLY");
	ck_stmt("begin transaction read write", "BEGIN READ WRITE");
	ck_stmt("BEGIN READ ONLY AS OF SYSTEM TIME 42", "BEGIN READ ONLY AS OF SYSTEM TIME 42");
	ck_stmt("COMMIT", "COMMIT");
	ck_stmt("ROLLBACK", "ROLLBACK");
	ck_stmt("EXPLAIN SELECT * FROM t WHERE a = 1", "EXPLAIN SELECT * FROM t WHERE a = 1");
	ck_stmt("EXPLAIN EXPLAIN SELECT 1", "error: syntax error at line 1, column 9: expected a "
	                                    "statement to explain, found 'EXPLAIN'");
	struct sql_arena a;
	sql_arena_init(&a, SQL_ARENA_DEFAULT_MAX_BYTES);
	struct sql_stmt *s = parse_ok(&a, "BEGIN READ ONLY AS OF SYSTEM TIME 7");
	ck_assert(s->begin.read_only && s->begin.has_as_of);
	ck_assert_uint_eq(s->begin.as_of, 7);
	s = parse_ok(&a, "EXPLAIN DELETE FROM t");
	ck_assert_int_eq(s->kind, SQL_STMT_EXPLAIN);
	ck_assert_int_eq(s->explain->kind, SQL_STMT_DELETE);
	sql_arena_free(&a);
}
END_TEST

START_TEST(format_helpers_and_names)
{
	static const struct {
		const char *name, *want;
	} names[] = {
	    {"ok_1", "ok_1"},
	    {"Mixed", "\"Mixed\""},
	    {"select", "\"select\""},
	    {"text", "text"},
	    {"a\"b", "\"a\"\"b\""},
	    {"1abc", "\"1abc\""},
	    {"with space", "\"with space\""},
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct buf b;
		buf_init(&b, 256);
		ck_assert_ptr_null(sql_format_name(names[i].name, &b));
		char *got = buf_to_string(&b);
		ck_assert_str_eq(got, names[i].want);
		free(got);
	}
	struct buf b;
	buf_init(&b, 256);
	ck_assert_ptr_null(sql_format_type((struct sql_type_name){SQL_TYPE_STRING, 5}, &b));
	ck_assert_ptr_null(sql_format_type((struct sql_type_name){SQL_TYPE_BOOLEAN, 0}, &b));
	char *got = buf_to_string(&b);
	ck_assert_str_eq(got, "VARCHAR(5)BOOLEAN");
	free(got);

	struct sql_arena a;
	sql_arena_init(&a, SQL_ARENA_DEFAULT_MAX_BYTES);
	struct sql_stmt *s = parse_ok(&a, "CREATE TABLE t (\"Id\" INT PRIMARY KEY DEFAULT 1 * 2)");
	buf_init(&b, 256);
	ck_assert_ptr_null(sql_format_column_def(&s->create_table.columns[0], &b));
	got = buf_to_string(&b);
	ck_assert_str_eq(got, "\"Id\" INTEGER PRIMARY KEY DEFAULT 1 * 2");
	free(got);
	/* a full buffer is an error, not an overflow */
	buf_init(&b, 8);
	err *e = sql_format_stmt(s, &b);
	ck_assert(err_is(e, ERR_LIMIT));
	err_free(e);
	buf_free(&b);
	sql_arena_free(&a);

	ck_assert_str_eq(sql_expr_kind_name(SQL_EXPR_IN_SELECT), "in select");
	ck_assert_str_eq(sql_stmt_kind_name(SQL_STMT_CREATE_INDEX), "create index");
	ck_assert_str_eq(sql_binary_op_text(SQL_BINARY_NE), "<>");
	ck_assert_str_eq(sql_unary_op_text(SQL_UNARY_NOT), "NOT");
	ck_assert_str_eq(sql_type_text(SQL_TYPE_STRING), "TEXT");
}
END_TEST

/* ---------------------------------------------------------------- API -- */

START_TEST(cursor_yields_statements_and_offsets)
{
	const char *script = "CREATE TABLE t (a INT);\n;; INSERT INTO t VALUES (1) ;\n"
	                     "-- done\nSELECT a FROM t";
	struct sql_parser p;
	sql_parser_init(&p, script, strlen(script));
	struct sql_arena a;
	sql_arena_init(&a, SQL_ARENA_DEFAULT_MAX_BYTES);
	struct sql_stmt *s;
	ck_assert_ptr_null(sql_parse_next(&p, &a, &s));
	ck_assert_int_eq(s->kind, SQL_STMT_CREATE_TABLE);
	ck_assert_uint_eq(sql_parser_offset(&p), 23);
	ck_assert_uint_eq(s->text_start, 0);
	ck_assert_uint_eq(s->text_end, 22);
	ck_assert_ptr_null(sql_parse_next(&p, &a, &s));
	ck_assert_int_eq(s->kind, SQL_STMT_INSERT);
	ck_assert_uint_eq(s->pos.line, 2);
	ck_assert_uint_eq(s->pos.column, 4);
	ck_assert_uint_eq(sql_parser_offset(&p), 53);
	ck_assert_ptr_null(sql_parse_next(&p, &a, &s));
	ck_assert_int_eq(s->kind, SQL_STMT_SELECT);
	ck_assert_uint_eq(s->pos.line, 4);
	ck_assert_uint_eq(sql_parser_offset(&p), strlen(script));
	ck_assert_ptr_null(sql_parse_next(&p, &a, &s));
	ck_assert_ptr_null(s);
	sql_arena_free(&a);
}
END_TEST

START_TEST(cursor_is_spent_after_an_error)
{
	const char *script = "SELECT 1; SELECT FROM; SELECT 2";
	struct sql_parser p;
	sql_parser_init(&p, script, strlen(script));
	struct sql_arena a;
	sql_arena_init(&a, SQL_ARENA_DEFAULT_MAX_BYTES);
	struct sql_stmt *s;
	ck_assert_ptr_null(sql_parse_next(&p, &a, &s));
	err *e = sql_parse_next(&p, &a, &s);
	ck_assert_str_eq(err_msg(e), "syntax error at line 1, column 18: expected an "
	                             "expression, found 'FROM'");
	err_free(e);
	ck_assert_ptr_null(s);
	e = sql_parse_next(&p, &a, &s);
	ck_assert(err_is(e, ERR_INVALID));
	err_free(e);
	sql_arena_free(&a);
}
END_TEST

START_TEST(parse_script_and_parse_one)
{
	struct sql_arena a;
	sql_arena_init(&a, SQL_ARENA_DEFAULT_MAX_BYTES);
	struct sql_stmt_list list;
	const char *script = "BEGIN; UPDATE t SET a = 1; COMMIT;";
	ck_assert_ptr_null(sql_parse(script, strlen(script), &a, &list));
	ck_assert_uint_eq(list.count, 3);
	ck_assert_int_eq(list.items[2]->kind, SQL_STMT_COMMIT);
	ck_assert_ptr_null(sql_parse("  -- nothing\n", 13, &a, &list));
	ck_assert_uint_eq(list.count, 0);
	struct sql_stmt *s;
	err *e = sql_parse_one("SELECT 1; SELECT 2", 18, &a, &s);
	ck_assert_str_eq(err_msg(e), "syntax error at line 1, column 11: expected end of input, "
	                             "found 'SELECT'");
	err_free(e);
	e = sql_parse_one("", 0, &a, &s);
	ck_assert(err_is(e, ERR_SYNTAX));
	err_free(e);
	ck_assert_ptr_null(sql_parse_one("SELECT 1;", 9, &a, &s));
	sql_arena_free(&a);
}
END_TEST

START_TEST(statement_completeness)
{
	ck_assert(sql_statement_complete("SELECT 1;", 9));
	ck_assert(sql_statement_complete("SELECT 1; -- done\n", 18));
	ck_assert(sql_statement_complete("SELECT 1; /* c */ ", 18));
	ck_assert(!sql_statement_complete("SELECT 1", 8));
	ck_assert(!sql_statement_complete("SELECT ';", 9));
	ck_assert(!sql_statement_complete("SELECT 1; /* ;", 14));
	ck_assert(!sql_statement_complete("SELECT \";", 9));
	ck_assert(!sql_statement_complete("SELECT 1; SELECT", 16));
	ck_assert(!sql_statement_complete("SELECT 1 -- ;", 13));
	ck_assert(!sql_statement_complete("", 0));
	ck_assert(!sql_statement_complete("   ", 3));
	ck_assert(sql_statement_complete(";", 1));
	ck_assert(sql_statement_complete("SELECT # ", 9));
	ck_assert(sql_statement_complete("SELECT 1e", 9));
	ck_assert(!sql_statement_complete("SELECT 1; 'abc", 14));
}
END_TEST

/* Text that fails only at its end could be completed by more lines; other errors not. */
START_TEST(unfinished_text)
{
	static const char *const unfinished[] = {
	    "SELECT a FROM",         "SELECT (1",        "SELECT 'abc",
	    "SELECT 1 /* open",      "CREATE TABLE t (", "SELECT 1; SELECT 2 +",
	    "SELECT 1 FROM t WHERE", "SELECT \"a",       "INSERT INTO t VALUES (1, 2),"};
	static const char *const finished[] = {
	    "SELECT 1", "SELEC 1",           "SELECT 1 2", "SELECT * FROM t t t",
	    "",         "SELECT 1; SELEC 2", "SELECT #",   "SELECT 1;"};
	for (size_t i = 0; i < sizeof unfinished / sizeof *unfinished; i++)
		ck_assert_msg(sql_text_unfinished(unfinished[i], strlen(unfinished[i])), "%s",
		              unfinished[i]);
	for (size_t i = 0; i < sizeof finished / sizeof *finished; i++)
		ck_assert_msg(!sql_text_unfinished(finished[i], strlen(finished[i])), "%s",
		              finished[i]);
}
END_TEST

START_TEST(error_messages_are_exact)
{
	static const struct {
		const char *sql, *msg;
	} cases[] = {
	    {"SELECT (1 + 2 * 3 + 4 FROM t", "syntax error at line 1, column 23: expected "
	                                     "')', found 'FROM'"},
	    {"SELECT count(a FROM t WHERE x", "syntax error at line 1, column 16: expected "
	                                      "',' or ')', found 'FROM'"},
	    {"SELECT * FROM t WHERE (a = 1 FROM", "syntax error at line 1, column 30: expected "
	                                          "')', found 'FROM'"},
	    {"SELECT", "syntax error at line 1, column 7: expected an expression, found end "
	               "of input"},
	    {"SELEC 1", "syntax error at line 1, column 1: expected a statement, found 'SELEC'"},
	    {"SELECT 1 2", "syntax error at line 1, column 10: expected ';' or end of input, "
	                   "found '2'"},
	    {"CREATE TABLE t (a BLOB)", "syntax error at line 1, column 19: expected a type "
	                                "name, found 'BLOB'"},
	    {"CREATE TABLE select (a INT)", "syntax error at line 1, column 14: expected a "
	                                    "table name, found 'select'"},
	    {"INSERT t VALUES (1)", "syntax error at line 1, column 8: expected INTO, found "
	                            "'t'"},
	    {"SELECT CASE END", "syntax error at line 1, column 13: expected an expression, "
	                        "found 'END'"},
	    {"SELECT CASE a THEN 1 END", "syntax error at line 1, column 15: expected WHEN, "
	                                 "found 'THEN'"},
	    {"SELECT a BETWEEN 1 OR 2", "syntax error at line 1, column 20: expected AND, "
	                                "found 'OR'"},
	    {"SELECT\n  'abc' +\n  ", "syntax error at line 3, column 3: expected an "
	                              "expression, found end of input"},
	    {"SELECT 'a very long string literal that goes on and on' FROM",
	     "syntax error at line 1, column 61: expected a table name, found end of input"},
	    {"SELECT a b c", "syntax error at line 1, column 12: expected ';' or end of "
	                     "input, found 'c'"},
	    {"BEGIN READ SOMETHING", "syntax error at line 1, column 12: expected ONLY or "
	                             "WRITE, found 'SOMETHING'"},
	    {"SELECT 'x' 'a very long string literal that goes on and on and on'",
	     "syntax error at line 1, column 12: expected ';' or end of input, found ''a very "
	     "long string literal that goes on...'"},
	    {"CREATE TABLE t (a INT NOT NULL NULL)", "syntax error at line 1, column 32: column "
	                                             "is declared both NULL and NOT NULL"},
	    {"CREATE TABLE t (a VARCHAR(0))", "syntax error at line 1, column 27: type length "
	                                      "must be positive"},
	    {"SELECT \"\"", "syntax error at line 1, column 8: empty quoted identifier"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = canon_stmt(cases[i].sql);
		char want[512];
		snprintf(want, sizeof want, "error: %s", cases[i].msg);
		ck_assert_str_eq(got, want);
		free(got);
	}
}
END_TEST

/*
 * An arena reset after a statement keeps one usual-size block and nothing else: the next
 * statement parses into it (zeroed memory, no new block), a request larger than a block
 * still gets one of its own, and the kept block is the usual one, whatever came first.
 */
START_TEST(arena_reset_keeps_one_block)
{
	struct sql_arena a;
	sql_arena_init(&a, SQL_ARENA_DEFAULT_MAX_BYTES);
	sql_arena_reset(&a); /* an empty arena stays empty */
	ck_assert_ptr_null(a.head);
	ck_assert_uint_eq(a.used_bytes, 0);
	struct sql_stmt *st = parse_ok(&a, "SELECT a, b FROM t WHERE c = 'x'");
	ck_assert_ptr_nonnull(st);
	size_t one_block = a.used_bytes;
	unsigned char *big = sql_arena_alloc(&a, 64 << 10); /* a block of its own */
	ck_assert_ptr_nonnull(big);
	memset(big, 0xab, 64 << 10);
	ck_assert_uint_gt(a.used_bytes, one_block);
	sql_arena_reset(&a);
	ck_assert_uint_eq(a.used_bytes, one_block);
	for (int round = 0; round < 3; round++) {
		unsigned char *p = sql_arena_alloc(&a, 512);
		ck_assert_ptr_nonnull(p);
		for (int i = 0; i < 512; i++)
			ck_assert_int_eq(p[i], 0);
		memset(p, 0xcd, 512);
		st = parse_ok(&a, "INSERT INTO t VALUES (1, 'two', 3.0)");
		ck_assert_int_eq(st->kind, SQL_STMT_INSERT);
		ck_assert_uint_eq(a.used_bytes, one_block); /* no new block */
		sql_arena_reset(&a);
	}
	sql_arena_free(&a);
	ck_assert_ptr_null(a.head);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("parser");
	TCase *tc = tcase_create("expressions");
	tcase_add_test(tc, literals);
	tcase_add_test(tc, literal_values_in_the_tree);
	tcase_add_test(tc, names_are_normalized);
	tcase_add_test(tc, unary_operators);
	tcase_add_test(tc, precedence_follows_sqlite);
	tcase_add_test(tc, precedence_tree_shape);
	tcase_add_test(tc, predicates);
	tcase_add_test(tc, case_cast_and_functions);
	tcase_add_test(tc, function_fields);
	suite_add_tcase(s, tc);
	tc = tcase_create("statements");
	tcase_add_test(tc, create_table);
	tcase_add_test(tc, create_table_fields);
	tcase_add_test(tc, drop_and_indexes);
	tcase_add_test(tc, insert_update_delete);
	tcase_add_test(tc, select_clauses);
	tcase_add_test(tc, joins);
	tcase_add_test(tc, compound_selects);
	tcase_add_test(tc, transactions_and_explain);
	tcase_add_test(tc, format_helpers_and_names);
	suite_add_tcase(s, tc);
	tc = tcase_create("api");
	tcase_add_test(tc, cursor_yields_statements_and_offsets);
	tcase_add_test(tc, cursor_is_spent_after_an_error);
	tcase_add_test(tc, parse_script_and_parse_one);
	tcase_add_test(tc, statement_completeness);
	tcase_add_test(tc, unfinished_text);
	tcase_add_test(tc, error_messages_are_exact);
	tcase_add_test(tc, arena_reset_keeps_one_block);
	suite_add_tcase(s, tc);
	return check_run(s);
}
