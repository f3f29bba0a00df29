/*
 * Robustness: no input may crash the parser, leak, hang or recurse without bound.
 * Every input here must either parse or fail with ERR_SYNTAX or ERR_LIMIT (ERR_NOMEM
 * only where the test shrinks the arena on purpose). Inputs: every truncation of valid
 * statements at every token, token deletions/duplications/swaps, random token
 * sequences, random bytes, and pathological nesting and sizes. Run under ASan/UBSan, a
 * clean pass also means no memory errors and no leaks.
 */
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "parse_helpers.h"
#include "sql/lexer.h"
#include "sql_gen.h"

static void check_code(const char *text, size_t len, bool may_parse)
{
	enum err_code code = parse_code(text, len);
	require(code == 0 || code == ERR_SYNTAX || code == ERR_LIMIT, "code %d for %.*s", code,
	        (int)len, text);
	require(may_parse || code != 0, "parsed: %.*s", (int)len, text);
	/* completeness and unfinishedness must answer for anything too */
	(void)sql_statement_complete(text, len);
	(void)sql_text_unfinished(text, len);
}

/* Token boundaries of `text` (which must lex cleanly); returns the count. */
static size_t token_bounds(const char *text, size_t *starts, size_t *ends, size_t max)
{
	struct sql_lexer lx;
	sql_lexer_init(&lx, text, strlen(text), 0, 1, 0);
	size_t n = 0;
	for (;;) {
		struct sql_token t;
		err *e = sql_lex_next(&lx, &t);
		require(e == NULL, "%s", err_msg(e));
		if (t.kind == SQL_TOK_EOF)
			return n;
		require(n < max, "too many tokens");
		starts[n] = t.offset;
		ends[n] = t.offset + t.len;
		n++;
	}
}

/* Appends text[a..b) to `b`. */
static void put_range(struct buf *out, const char *text, size_t a, size_t b)
{
	err *e = buf_append(out, text + a, b - a);
	require(e == NULL, "%s", err_msg(e));
}

/* Truncations at every token and single-token deletions, duplications and swaps. */
static void mutate_all(const char *text)
{
	enum { MAX_TOKENS = 4096 };
	static size_t starts[MAX_TOKENS], ends[MAX_TOKENS];
	size_t n = token_bounds(text, starts, ends, MAX_TOKENS);
	for (size_t k = 0; k < n; k++) {
		check_code(text, ends[k], true);
		struct buf b;
		buf_init(&b, 1 << 20);
		put_range(&b, text, 0, starts[k]); /* delete token k */
		put_range(&b, text, ends[k], strlen(text));
		check_code((const char *)b.data, b.len, true);
		buf_clear(&b);
		put_range(&b, text, 0, ends[k]); /* duplicate token k */
		put_range(&b, text, starts[k], strlen(text));
		check_code((const char *)b.data, b.len, true);
		if (k + 1 < n) { /* swap tokens k and k+1 */
			buf_clear(&b);
			put_range(&b, text, 0, starts[k]);
			put_range(&b, text, starts[k + 1], ends[k + 1]);
			put_range(&b, text, ends[k], starts[k + 1]);
			put_range(&b, text, starts[k], ends[k]);
			put_range(&b, text, ends[k + 1], strlen(text));
			check_code((const char *)b.data, b.len, true);
		}
		buf_free(&b);
	}
}

START_TEST(truncations_and_token_mutations)
{
	struct prng r;
	prng_seed(&r, prng_subseed(6, "parser-mutate", 0));
	for (int i = 0; i < 150; i++) {
		struct buf b;
		buf_init(&b, 1 << 20);
		gen_stmt(&r, &b, 1 + (int)prng_below(&r, 3));
		char *text = buf_to_string(&b);
		mutate_all(text);
		free(text);
	}
}
END_TEST

START_TEST(truncated_statements_are_syntax_errors)
{
	static const char *const valid[] = {
	    "CREATE TABLE t (a INT PRIMARY KEY, b VARCHAR(3) NOT NULL, UNIQUE (b))",
	    "INSERT INTO t (a, b) VALUES (1, 'x'), (2, DEFAULT)",
	    "SELECT a, count(*) FROM t JOIN u ON t.a = u.a WHERE a BETWEEN 1 AND 2 GROUP BY a",
	    "UPDATE t SET a = CASE WHEN b IN (1, 2) THEN CAST(c AS INTEGER) END",
	    "CREATE UNIQUE INDEX IF NOT EXISTS i ON t (a DESC, b)",
	};
	/* These prefixes happen to be complete statements themselves. */
	static const size_t complete_prefixes[][10] = {
	    {0}, {14}, {2, 4, 7, 9, 13, 15, 17, 19, 21, 25}, {0}, {0},
	};
	for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
		size_t starts[128], ends[128];
		size_t n = token_bounds(valid[i], starts, ends, 128);
		for (size_t k = 0; k + 1 < n; k++) {
			bool complete = false;
			for (size_t j = 0; j < 10; j++)
				complete |= complete_prefixes[i][j] == k + 1;
			check_code(valid[i], ends[k], complete);
		}
		check_code(valid[i], strlen(valid[i]), true);
		ck_assert_uint_eq(parse_code(valid[i], strlen(valid[i])), 0);
	}
}
END_TEST

START_TEST(random_token_sequences)
{
	static const char *const vocab[] = {
	    "SELECT", "FROM",    "WHERE",  "(",      ")",      ",",          ";",      "*",
	    "+",      "-",       "NOT",    "AND",    "OR",     "IN",         "IS",     "NULL",
	    "1",      "2.5",     "'s'",    "a",      "t.b",    "=",          "<",      "CASE",
	    "WHEN",   "THEN",    "END",    "ELSE",   "CAST",   "AS",         "INT",    "BETWEEN",
	    "LIKE",   "EXISTS",  "JOIN",   "ON",     "LEFT",   "GROUP",      "BY",     "ORDER",
	    "LIMIT",  "UNION",   "INSERT", "INTO",   "VALUES", "DEFAULT",    "CREATE", "TABLE",
	    "INDEX",  "PRIMARY", "KEY",    "DROP",   "IF",     "BEGIN",      "READ",   "ONLY",
	    "COMMIT", "EXPLAIN", "UPDATE", "SET",    "DELETE", "DISTINCT",   "||",     "\"Q\"",
	    "count",  "ALL",     "HAVING", "OFFSET", "CROSS",  "REFERENCES", "UNIQUE",
	};
	struct prng r;
	prng_seed(&r, prng_subseed(6, "parser-tokens", 0));
	for (int i = 0; i < 30000; i++) {
		struct buf b;
		buf_init(&b, 4096);
		int n = 1 + (int)prng_below(&r, 24);
		for (int k = 0; k < n; k++) {
			if (k == 0 && prng_chance(&r, 0.7))
				gen_put(&b,
				        GEN_PICK(&r, ((const char *const[]){
				                         "SELECT", "INSERT INTO t",
				                         "CREATE TABLE t (", "UPDATE t SET a ="})));
			else
				gen_put(&b, GEN_PICK(&r, vocab));
			gen_put(&b, " ");
		}
		check_code((const char *)b.data, b.len, true);
		buf_free(&b);
	}
}
END_TEST

START_TEST(random_bytes)
{
	static const char alphabet[] = "SELECTFROMWHEREselect ()'\"-*/;,.+=<>!|0123456789eE\n\t\\";
	struct prng r;
	prng_seed(&r, prng_subseed(6, "parser-bytes", 0));
	for (int i = 0; i < 30000; i++) {
		char text[96];
		size_t len = (size_t)prng_below(&r, sizeof text);
		for (size_t k = 0; k < len; k++)
			text[k] = prng_chance(&r, 0.2)
			              ? (char)prng_below(&r, 256)
			              : alphabet[prng_below(&r, sizeof alphabet - 1)];
		check_code(text, len, true);
	}
}
END_TEST

/* `n` copies of `unit`, then `tail`, then `n` copies of `close`; caller frees. */
static char *repeat(const char *unit, size_t n, const char *tail, const char *close)
{
	struct buf b;
	buf_init(&b, 1 << 24);
	for (size_t i = 0; i < n; i++)
		gen_put(&b, unit);
	gen_put(&b, tail);
	for (size_t i = 0; i < n; i++)
		gen_put(&b, close);
	return buf_to_string(&b);
}

static void check_limit(const char *text)
{
	ck_assert_int_eq(parse_code(text, strlen(text)), ERR_LIMIT);
}

START_TEST(deep_nesting_hits_the_depth_limit)
{
	char *s = repeat("(", 10000, "", "");
	char *open_parens = malloc(strlen(s) + 8);
	strcpy(open_parens, "SELECT ");
	strcat(open_parens, s);
	check_limit(open_parens);
	free(open_parens);
	free(s);
	s = repeat("SELECT (", 10000, "1", ")");
	check_limit(s);
	free(s);
	s = repeat("- ", 10000, "1", "");
	char *stmt = malloc(strlen(s) + 8);
	strcpy(stmt, "SELECT ");
	strcat(stmt, s);
	check_limit(stmt);
	free(stmt);
	free(s);
	/* {statement prefix, repeated opener, innermost text, repeated closer} */
	static const char *const units[][4] = {
	    {"SELECT ", "NOT ", "1", ""},
	    {"SELECT ", "(SELECT ", "1", ")"},
	    {"SELECT ", "CASE WHEN ", "1", " THEN 1 END"},
	    {"SELECT * FROM ", "(", "t", ")"},
	    {"SELECT * FROM ", "(SELECT * FROM ", "t", ")"},
	    {"SELECT ", "1 IN (", "1", ")"},
	    {"SELECT ", "EXISTS (SELECT ", "1", ")"},
	    {"SELECT ", "CAST(", "1", " AS INT)"},
	    {"SELECT ", "f(", "1", ")"},
	    {"SELECT 1 FROM t WHERE ", "a IN (SELECT a FROM t WHERE ", "1", ")"},
	};
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		for (size_t depth = 20; depth <= 5000; depth += 4980) {
			char *nest = repeat(units[i][1], depth, units[i][2], units[i][3]);
			char *full = malloc(strlen(units[i][0]) + strlen(nest) + 1);
			strcpy(full, units[i][0]);
			strcat(full, nest);
			enum err_code code = parse_code(full, strlen(full));
			ck_assert_msg(code == (depth == 20 ? 0 : ERR_LIMIT), "%d for %s", code,
			              full);
			free(full);
			free(nest);
		}
	}
	s = repeat("(", 150, "1", ")");
	char *expr = canon_expr(s);
	ck_assert_str_eq(expr, "1");
	free(expr);
	free(s);
}
END_TEST

START_TEST(size_limits)
{
	/* an identifier past 128 bytes */
	char *s = repeat("x", 200, "", "");
	char stmt[300];
	snprintf(stmt, sizeof stmt, "SELECT %s", s);
	check_limit(stmt);
	snprintf(stmt, sizeof stmt, "SELECT \"%s\"", s);
	check_limit(stmt);
	free(s);
	/* a statement past 1 MiB */
	s = repeat("1 + ", 300000, "1", "");
	char *big = malloc(strlen(s) + 8);
	strcpy(big, "SELECT ");
	strcat(big, s);
	check_limit(big);
	free(big);
	free(s);
	/* a list past 65536 items */
	s = repeat("1,", 70000, "1)", "");
	big = malloc(strlen(s) + 32);
	strcpy(big, "SELECT 1 IN (");
	strcat(big, s);
	check_limit(big);
	free(big);
	free(s);
	/* many statements are fine: the limit is per statement */
	s = repeat("SELECT 1;", 20000, "", "");
	ck_assert_int_eq(parse_code(s, strlen(s)), 0);
	free(s);
}
END_TEST

START_TEST(a_full_arena_is_an_error_not_a_crash)
{
	const char *text = "SELECT a, b, c, d FROM t WHERE a IN (1, 2, 3, 4, 5, 6, 7, 8, 9)";
	for (size_t cap = 1; cap < 64 * 1024; cap = cap * 3 / 2 + 1) {
		struct sql_arena a;
		sql_arena_init(&a, cap);
		struct sql_stmt_list list;
		err *e = sql_parse(text, strlen(text), &a, &list);
		ck_assert(e == NULL || err_is(e, ERR_NOMEM));
		err_free(e);
		sql_arena_free(&a);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("malformed");
	/* One case per test, so CK_RUN_CASE can run (and time) one alone. */
	TCase *tc_truncations_and_token_mutations = tcase_create("truncations_and_token_mutations");
	tcase_set_timeout(tc_truncations_and_token_mutations, 60);
	tcase_add_test(tc_truncations_and_token_mutations, truncations_and_token_mutations);
	suite_add_tcase(s, tc_truncations_and_token_mutations);
	TCase *tc_truncated_statements_are_syntax_errors =
	    tcase_create("truncated_statements_are_syntax_errors");
	tcase_set_timeout(tc_truncated_statements_are_syntax_errors, 60);
	tcase_add_test(tc_truncated_statements_are_syntax_errors,
	               truncated_statements_are_syntax_errors);
	suite_add_tcase(s, tc_truncated_statements_are_syntax_errors);
	TCase *tc_random_token_sequences = tcase_create("random_token_sequences");
	tcase_set_timeout(tc_random_token_sequences, 60);
	tcase_add_test(tc_random_token_sequences, random_token_sequences);
	suite_add_tcase(s, tc_random_token_sequences);
	TCase *tc_random_bytes = tcase_create("random_bytes");
	tcase_set_timeout(tc_random_bytes, 60);
	tcase_add_test(tc_random_bytes, random_bytes);
	suite_add_tcase(s, tc_random_bytes);
	TCase *tc_deep_nesting_hits_the_depth_limit =
	    tcase_create("deep_nesting_hits_the_depth_limit");
	tcase_set_timeout(tc_deep_nesting_hits_the_depth_limit, 60);
	tcase_add_test(tc_deep_nesting_hits_the_depth_limit, deep_nesting_hits_the_depth_limit);
	suite_add_tcase(s, tc_deep_nesting_hits_the_depth_limit);
	TCase *tc_size_limits = tcase_create("size_limits");
	tcase_set_timeout(tc_size_limits, 60);
	tcase_add_test(tc_size_limits, size_limits);
	suite_add_tcase(s, tc_size_limits);
	TCase *tc_a_full_arena_is_an_error_not_a_crash =
	    tcase_create("a_full_arena_is_an_error_not_a_crash");
	tcase_set_timeout(tc_a_full_arena_is_an_error_not_a_crash, 60);
	tcase_add_test(tc_a_full_arena_is_an_error_not_a_crash,
	               a_full_arena_is_an_error_not_a_crash);
	suite_add_tcase(s, tc_a_full_arena_is_an_error_not_a_crash);
	return check_run(s);
}
