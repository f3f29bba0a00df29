/*
 * sql_gen.h — a seeded generator of random SQL in the style of the sqllogictest corpus,
 * shared by the round-trip and robustness suites.
 *
 * gen_expr() writes a random expression with parentheses around every compound operand,
 * so the intended tree is unambiguous whatever the formatter later does; spacing and
 * keyword case vary. gen_stmt() writes a random statement of any kind. Both are bounded
 * by `depth` and by the buffer's cap.
 */
#ifndef CAIRN_TESTS_PARSER_SQL_GEN_H
#define CAIRN_TESTS_PARSER_SQL_GEN_H

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/prng.h"
#include "parse_helpers.h"

static inline void gen_put(struct buf *b, const char *s)
{
	err *e = buf_append(b, s, strlen(s));
	require(e == NULL, "generated text too long: %s", err_msg(e));
}

/* A keyword in random case, with a space after it. */
static inline void gen_kw(struct prng *r, struct buf *b, const char *kw)
{
	char word[32];
	size_t n = strlen(kw);
	require(n < sizeof word, "keyword too long");
	int mode = (int)prng_below(r, 4);
	for (size_t i = 0; i <= n; i++) {
		char c = kw[i];
		if (c >= 'A' && c <= 'Z' && (mode == 1 || (mode == 2 && prng_chance(r, 0.5))))
			c = (char)(c - 'A' + 'a');
		word[i] = c;
	}
	gen_put(b, word);
	gen_put(b, " ");
}

static inline void gen_space(struct prng *r, struct buf *b)
{
	/* Never empty: `a -` followed by `-b` would become the comment `--b`. */
	gen_put(b, prng_chance(r, 0.7) ? " " : prng_chance(r, 0.5) ? "  " : "\n  ");
}

static inline const char *gen_pick(struct prng *r, const char *const *items, size_t n)
{
	return items[prng_below(r, n)];
}

#define GEN_PICK(r, arr) gen_pick((r), (arr), sizeof(arr) / sizeof((arr)[0]))

static void gen_select(struct prng *r, struct buf *b, int depth);

static void gen_expr(struct prng *r, struct buf *b, int depth)
{
	static const char *const cols[] = {"col0", "col1", "col2", "cor0.col1",
	                                   "a",    "B",    "t1.c", "\"Mixed\""};
	static const char *const lits[] = {"0",
	                                   "17",
	                                   "(-3)",
	                                   "48",
	                                   "3.25",
	                                   "1e3",
	                                   "NULL",
	                                   "'abc'",
	                                   "'it''s'",
	                                   "TRUE",
	                                   "FALSE",
	                                   ".5",
	                                   "9223372036854775807",
	                                   "99999999999999999999"};
	static const char *const binops[] = {"+",  "-",  "*", "/",  "%", "||", "=",   "==",
	                                     "<>", "!=", "<", "<=", ">", ">=", "AND", "OR"};
	static const char *const funcs[] = {"ABS", "COALESCE", "NULLIF", "MAX", "MIN", "SUM"};
	if (depth <= 0 || prng_chance(r, 0.25)) {
		gen_put(b, prng_chance(r, 0.5) ? GEN_PICK(r, cols) : GEN_PICK(r, lits));
		return;
	}
	switch (prng_below(r, 16)) {
	case 0:
	case 1:
	case 2:
		gen_put(b, "(");
		gen_expr(r, b, depth - 1);
		gen_space(r, b);
		gen_put(b, GEN_PICK(r, binops));
		gen_space(r, b);
		gen_expr(r, b, depth - 1);
		gen_put(b, ")");
		return;
	case 3:
		gen_put(b, GEN_PICK(r, ((const char *const[]){"- ", "+ ", "-", "NOT "})));
		gen_put(b, "(");
		gen_expr(r, b, depth - 1);
		gen_put(b, ")");
		return;
	case 4:
		gen_put(b, "(");
		gen_expr(r, b, depth - 1);
		gen_kw(r, b,
		       GEN_PICK(r, ((const char *const[]){" IS NULL", " IS NOT NULL", " ISNULL",
		                                          " NOTNULL"})));
		gen_put(b, ")");
		return;
	case 5:
		gen_put(b, "(");
		gen_expr(r, b, depth - 1);
		gen_kw(r, b, prng_chance(r, 0.5) ? " BETWEEN" : " NOT BETWEEN");
		gen_expr(r, b, depth - 1);
		gen_kw(r, b, " AND");
		gen_expr(r, b, depth - 1);
		gen_put(b, ")");
		return;
	case 6:
		gen_put(b, "(");
		gen_expr(r, b, depth - 1);
		gen_kw(r, b, prng_chance(r, 0.5) ? " IN" : " NOT IN");
		gen_put(b, "(");
		for (int i = 0, n = 1 + (int)prng_below(r, 4); i < n; i++) {
			if (i)
				gen_put(b, ", ");
			gen_expr(r, b, depth - 1);
		}
		gen_put(b, "))");
		return;
	case 7:
		gen_put(b, "(");
		gen_expr(r, b, depth - 1);
		gen_kw(r, b, prng_chance(r, 0.5) ? " IN" : " NOT IN");
		gen_put(b, "(");
		gen_select(r, b, depth - 2);
		gen_put(b, "))");
		return;
	case 8:
		gen_kw(r, b, prng_chance(r, 0.5) ? "EXISTS" : "NOT EXISTS");
		gen_put(b, "(");
		gen_select(r, b, depth - 2);
		gen_put(b, ")");
		return;
	case 9:
		gen_put(b, "(");
		gen_select(r, b, depth - 2);
		gen_put(b, ")");
		return;
	case 10:
		gen_kw(r, b, "CASE");
		if (prng_chance(r, 0.5)) {
			gen_expr(r, b, depth - 1);
			gen_put(b, " ");
		}
		for (int i = 0, n = 1 + (int)prng_below(r, 3); i < n; i++) {
			gen_kw(r, b, "WHEN");
			gen_expr(r, b, depth - 1);
			gen_kw(r, b, " THEN");
			gen_expr(r, b, depth - 1);
			gen_put(b, " ");
		}
		if (prng_chance(r, 0.5)) {
			gen_kw(r, b, "ELSE");
			gen_expr(r, b, depth - 1);
			gen_put(b, " ");
		}
		gen_kw(r, b, "END");
		return;
	case 11:
		gen_kw(r, b, "CAST");
		gen_put(b, "( ");
		gen_expr(r, b, depth - 1);
		gen_kw(r, b, " AS");
		gen_kw(r, b,
		       GEN_PICK(r, ((const char *const[]){"INTEGER", "FLOAT", "TEXT", "BOOLEAN",
		                                          "VARCHAR(8)", "REAL"})));
		gen_put(b, ")");
		return;
	case 12: gen_put(b, prng_chance(r, 0.5) ? "COUNT( * )" : "COUNT(*)"); return;
	case 13:
		gen_put(b, GEN_PICK(r, funcs));
		gen_put(b, prng_chance(r, 0.5) ? " ( " : "(");
		if (prng_chance(r, 0.3))
			gen_kw(r, b, prng_chance(r, 0.5) ? "DISTINCT" : "ALL");
		for (int i = 0, n = 1 + (int)prng_below(r, 3); i < n; i++) {
			if (i)
				gen_put(b, ", ");
			gen_expr(r, b, depth - 1);
		}
		gen_put(b, ")");
		return;
	case 14:
		gen_put(b, "(");
		gen_expr(r, b, depth - 1);
		gen_kw(r, b, prng_chance(r, 0.5) ? " LIKE" : " NOT LIKE");
		gen_put(b, "'a%')");
		return;
	default:
		gen_put(b, "(");
		gen_expr(r, b, depth - 1);
		gen_kw(r, b, prng_chance(r, 0.5) ? " IS" : " IS NOT");
		gen_expr(r, b, depth - 1);
		gen_put(b, ")");
		return;
	}
}

static void gen_from(struct prng *r, struct buf *b, int depth)
{
	static const char *const tables[] = {"tab0", "tab1 AS cor0", "tab2 cor1", "t1"};
	gen_put(b, GEN_PICK(r, tables));
	for (int i = 0, n = (int)prng_below(r, 3); i < n; i++) {
		static const char *const joins[] = {", ", " CROSS JOIN", " JOIN",
		                                    " LEFT OUTER JOIN", " RIGHT JOIN"};
		size_t kind = prng_below(r, 5);
		gen_kw(r, b, joins[kind]);
		bool on = kind >= 2;
		if (depth > 0 && prng_chance(r, 0.2)) {
			gen_put(b, "(");
			gen_select(r, b, depth - 1);
			gen_put(b, ") AS sub");
		} else {
			gen_put(b, GEN_PICK(r, tables));
		}
		if (on) {
			gen_kw(r, b, " ON");
			gen_expr(r, b, depth > 1 ? 1 : 0);
		}
	}
}

static void gen_select(struct prng *r, struct buf *b, int depth)
{
	gen_kw(r, b, "SELECT");
	if (prng_chance(r, 0.3))
		gen_kw(r, b, prng_chance(r, 0.5) ? "ALL" : "DISTINCT");
	if (prng_chance(r, 0.15)) {
		gen_put(b, "*");
	} else {
		for (int i = 0, n = 1 + (int)prng_below(r, 3); i < n; i++) {
			if (i)
				gen_put(b, ", ");
			gen_expr(r, b, depth);
			if (prng_chance(r, 0.3))
				gen_put(b, prng_chance(r, 0.5) ? " AS col1" : " col2");
		}
	}
	if (prng_chance(r, 0.7)) {
		gen_kw(r, b, " FROM");
		gen_from(r, b, depth);
	}
	if (prng_chance(r, 0.5)) {
		gen_kw(r, b, " WHERE");
		gen_expr(r, b, depth);
	}
	if (prng_chance(r, 0.2)) {
		gen_kw(r, b, " GROUP BY");
		gen_expr(r, b, 0);
		if (prng_chance(r, 0.5)) {
			gen_kw(r, b, " HAVING");
			gen_expr(r, b, depth > 0 ? depth - 1 : 0);
		}
	}
	if (prng_chance(r, 0.1)) {
		gen_kw(r, b,
		       GEN_PICK(r, ((const char *const[]){" UNION", " UNION ALL", " INTERSECT",
		                                          " EXCEPT"})));
		gen_kw(r, b, "SELECT");
		gen_expr(r, b, 0);
	}
	if (prng_chance(r, 0.3)) {
		gen_kw(r, b, " ORDER BY");
		gen_put(b, prng_chance(r, 0.5) ? "1" : "col0");
		if (prng_chance(r, 0.5))
			gen_kw(r, b, prng_chance(r, 0.5) ? " DESC" : " ASC");
	}
	if (prng_chance(r, 0.1))
		gen_put(b, " LIMIT 3 OFFSET 1");
}

/* A random statement of any kind. */
static inline void gen_stmt(struct prng *r, struct buf *b, int depth)
{
	switch (prng_below(r, 10)) {
	case 0:
		gen_kw(r, b, "INSERT INTO");
		gen_put(b, "tab0 ");
		if (prng_chance(r, 0.5))
			gen_put(b, "(col0, col1) ");
		if (prng_chance(r, 0.3)) {
			gen_select(r, b, depth);
			return;
		}
		gen_kw(r, b, "VALUES");
		gen_put(b, "(");
		gen_expr(r, b, depth);
		gen_put(b, ", DEFAULT), (1, 2)");
		return;
	case 1:
		gen_kw(r, b, "UPDATE");
		gen_put(b, "tab0 ");
		gen_kw(r, b, "SET");
		gen_put(b, "col0 = ");
		gen_expr(r, b, depth);
		gen_kw(r, b, " WHERE");
		gen_expr(r, b, depth);
		return;
	case 2:
		gen_kw(r, b, "DELETE FROM");
		gen_put(b, "tab0 ");
		gen_kw(r, b, "WHERE");
		gen_expr(r, b, depth);
		return;
	case 3: {
		static const char *const ddl[] = {
		    "CREATE TABLE tab0(pk INTEGER PRIMARY KEY, col0 INTEGER, col1 FLOAT, col2 TEXT)",
		    "CREATE TABLE t1(a INTEGER, b INTEGER, c INTEGER, d INTEGER, e INTEGER)",
		    "CREATE UNIQUE INDEX idx_tab2_4 ON tab2 (col4 DESC, col0)",
		    "CREATE INDEX idx_1 on tab1 (col1)",
		    "DROP TABLE IF EXISTS tab3",
		    "DROP INDEX idx_1",
		    "BEGIN READ ONLY AS OF SYSTEM TIME 12",
		    "COMMIT",
		    "ROLLBACK",
		    "CREATE TABLE u (id INT PRIMARY KEY, t_id INT REFERENCES t, v VARCHAR(3) NOT "
		    "NULL DEFAULT 'x', UNIQUE (v, t_id))",
		};
		gen_put(b, GEN_PICK(r, ddl));
		return;
	}
	case 4:
		gen_kw(r, b, "EXPLAIN");
		gen_select(r, b, depth);
		return;
	default: gen_select(r, b, depth); return;
	}
}

#endif
