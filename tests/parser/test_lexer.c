/* Unit tests for the SQL lexer: token kinds, positions, keywords, comments, errors. */
#include <string.h>

#include "check_main.h"
#include "sql/lexer.h"

/* Lexes `sql` into at most `max` tokens (ending with EOF); returns the count. */
static size_t lex_all(const char *sql, struct sql_token *toks, size_t max)
{
	struct sql_lexer lx;
	sql_lexer_init(&lx, sql, strlen(sql), 0, 1, 0);
	for (size_t n = 0; n < max; n++) {
		err *e = sql_lex_next(&lx, &toks[n]);
		ck_assert_msg(e == NULL, "%s", err_msg(e));
		if (toks[n].kind == SQL_TOK_EOF)
			return n + 1;
	}
	ck_abort_msg("more than %zu tokens", max);
	return max;
}

/* Whether the last lex_error() came from text left open at the end. */
static bool last_unterminated;

/* The first error lexing `sql` (the test fails if there is none); caller frees it. */
static err *lex_error(const char *sql)
{
	struct sql_lexer lx;
	sql_lexer_init(&lx, sql, strlen(sql), 0, 1, 0);
	for (int i = 0; i < 100; i++) {
		struct sql_token t;
		err *e = sql_lex_next(&lx, &t);
		last_unterminated = lx.unterminated;
		if (e)
			return e;
		if (t.kind == SQL_TOK_EOF)
			break;
	}
	ck_abort_msg("no error lexing %s", sql);
	return NULL;
}

START_TEST(punctuation_and_operators)
{
	struct sql_token t[32];
	size_t n = lex_all("( ) , ; . * + - / % || = == != <> < <= > >=", t, 32);
	enum sql_token_kind want[] = {
	    SQL_TOK_LPAREN, SQL_TOK_RPAREN, SQL_TOK_COMMA, SQL_TOK_SEMICOLON, SQL_TOK_DOT,
	    SQL_TOK_STAR,   SQL_TOK_PLUS,   SQL_TOK_MINUS, SQL_TOK_SLASH,     SQL_TOK_PERCENT,
	    SQL_TOK_CONCAT, SQL_TOK_EQ,     SQL_TOK_EQ,    SQL_TOK_NE,        SQL_TOK_NE,
	    SQL_TOK_LT,     SQL_TOK_LE,     SQL_TOK_GT,    SQL_TOK_GE,        SQL_TOK_EOF,
	};
	ck_assert_uint_eq(n, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(t[i].kind, want[i]);
	ck_assert_uint_eq(t[10].len, 2);
	ck_assert_uint_eq(t[12].len, 2);
}
END_TEST

START_TEST(numbers)
{
	struct sql_token t[16];
	size_t n = lex_all("42 3.14 .5 7. 1e10 2.5E-3 6e+2 0", t, 16);
	ck_assert_uint_eq(n, 9);
	ck_assert_int_eq(t[0].kind, SQL_TOK_INTEGER);
	for (int i = 1; i <= 6; i++)
		ck_assert_int_eq(t[i].kind, SQL_TOK_FLOAT);
	ck_assert_int_eq(t[7].kind, SQL_TOK_INTEGER);
	ck_assert_uint_eq(t[5].len, 6);
}
END_TEST

START_TEST(keywords_are_case_insensitive_and_flagged)
{
	struct sql_token t[8];
	size_t n = lex_all("select SeLeCt col0 text FROM", t, 8);
	ck_assert_uint_eq(n, 6);
	ck_assert_int_eq(t[0].keyword, SQL_KW_SELECT);
	ck_assert_int_eq(t[1].keyword, SQL_KW_SELECT);
	ck_assert_int_eq(t[2].keyword, SQL_KW_NONE);
	ck_assert_int_eq(t[3].keyword, SQL_KW_TEXT);
	ck_assert(!sql_keyword_reserved(SQL_KW_TEXT));
	ck_assert(sql_keyword_reserved(SQL_KW_FROM));
	ck_assert(!sql_keyword_reserved(SQL_KW_NONE));
	ck_assert_str_eq(sql_keyword_text(SQL_KW_BETWEEN), "BETWEEN");
}
END_TEST

START_TEST(keyword_table_is_sorted_and_complete)
{
	for (int kw = 1; kw < SQL_KW_COUNT_; kw++) {
		const char *text = sql_keyword_text(kw);
		ck_assert_int_eq(sql_keyword_lookup(text, strlen(text)), kw);
		if (kw > 1)
			ck_assert_int_lt(strcmp(sql_keyword_text(kw - 1), text), 0);
	}
	ck_assert_int_eq(sql_keyword_lookup("selec", 5), SQL_KW_NONE);
	ck_assert_int_eq(sql_keyword_lookup("selects", 7), SQL_KW_NONE);
	ck_assert_int_eq(sql_keyword_lookup("", 0), SQL_KW_NONE);
	/* only letters make keywords; the longest is TRANSACTION */
	ck_assert_int_eq(sql_keyword_lookup("TrAnSaCtIoN", 11), SQL_KW_TRANSACTION);
	ck_assert_int_eq(sql_keyword_lookup("transactions", 12), SQL_KW_NONE);
	ck_assert_int_eq(sql_keyword_lookup("select1", 7), SQL_KW_NONE);
	ck_assert_int_eq(sql_keyword_lookup("in_", 3), SQL_KW_NONE);
	ck_assert_int_eq(sql_keyword_lookup("i", 1), SQL_KW_NONE);
	ck_assert_int_eq(sql_keyword_lookup("AS", 2), SQL_KW_AS);
}
END_TEST

START_TEST(strings_and_quoted_identifiers_keep_escapes)
{
	struct sql_token t[8];
	size_t n = lex_all("'it''s' \"Col\"\"X\" ''", t, 8);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(t[0].kind, SQL_TOK_STRING);
	ck_assert_uint_eq(t[0].len, 7);
	ck_assert_int_eq(t[1].kind, SQL_TOK_QUOTED_IDENT);
	ck_assert_uint_eq(t[1].len, 8);
	ck_assert_int_eq(t[2].kind, SQL_TOK_STRING);
	ck_assert_uint_eq(t[2].len, 2);
}
END_TEST

START_TEST(positions_after_strings_spanning_lines)
{
	struct sql_token t[8];
	size_t n = lex_all("SELECT 'a\nb''\nc'\n  x \"q\n\"y", t, 8);
	ck_assert_uint_eq(n, 6);
	ck_assert_int_eq(t[1].kind, SQL_TOK_STRING);
	ck_assert_uint_eq(t[1].len, 9);
	ck_assert_uint_eq(t[2].line, 4);
	ck_assert_uint_eq(t[2].column, 3);
	ck_assert_int_eq(t[3].kind, SQL_TOK_QUOTED_IDENT);
	ck_assert_uint_eq(t[3].line, 4);
	ck_assert_uint_eq(t[4].line, 5);
	ck_assert_uint_eq(t[4].column, 2);
	ck_assert_str_eq(t[4].text, "y");
}
END_TEST

START_TEST(comments_are_skipped_and_positions_tracked)
{
	struct sql_token t[8];
	size_t n = lex_all("-- first line\n  SELECT /* a\nb */ x -- tail", t, 8);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(t[0].keyword, SQL_KW_SELECT);
	ck_assert_uint_eq(t[0].line, 2);
	ck_assert_uint_eq(t[0].column, 3);
	ck_assert_uint_eq(t[1].line, 3);
	ck_assert_uint_eq(t[1].column, 6);
	ck_assert_uint_eq(t[1].offset, 33);
	ck_assert_int_eq(t[2].kind, SQL_TOK_EOF);
}
END_TEST

START_TEST(minus_minus_is_a_comment_but_spaced_minus_is_not)
{
	struct sql_token t[8];
	ck_assert_uint_eq(lex_all("1 --2", t, 8), 2);
	ck_assert_uint_eq(lex_all("1 - -2", t, 8), 5);
	ck_assert_int_eq(t[1].kind, SQL_TOK_MINUS);
	ck_assert_int_eq(t[2].kind, SQL_TOK_MINUS);
}
END_TEST

START_TEST(lexical_errors_say_what_and_where)
{
	static const struct {
		const char *sql, *msg;
	} cases[] = {
	    {"SELECT 'abc", "syntax error at line 1, column 8: unterminated string literal"},
	    {"SELECT \"abc", "syntax error at line 1, column 8: unterminated quoted identifier"},
	    {"SELECT 1 /* x", "syntax error at line 1, column 10: unterminated comment"},
	    {"SELECT\n 12abc", "syntax error at line 2, column 2: malformed number"},
	    {"SELECT 1e+", "syntax error at line 1, column 8: malformed number: missing "
	                   "exponent digits"},
	    {"SELECT 1.2.3", "syntax error at line 1, column 8: malformed number"},
	    {"SELECT #", "syntax error at line 1, column 8: unexpected character '#'"},
	    {"SELECT a | b", "syntax error at line 1, column 10: unexpected character '|'"},
	    {"SELECT \x01", "syntax error at line 1, column 8: unexpected byte 0x01"},
	    {"SELECT \xc3\xa9", "syntax error at line 1, column 8: unexpected byte 0xc3"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		err *e = lex_error(cases[i].sql);
		ck_assert_int_eq(err_code(e), ERR_SYNTAX);
		ck_assert(last_unterminated == (strstr(cases[i].msg, "unterminated") != NULL));
		ck_assert_str_eq(err_msg(e), cases[i].msg);
		err_free(e);
	}
}
END_TEST

START_TEST(eof_repeats_and_embedded_nul_is_an_error)
{
	struct sql_lexer lx;
	const char text[] = "a\0b";
	sql_lexer_init(&lx, text, 3, 0, 1, 0);
	struct sql_token t;
	ck_assert_ptr_null(sql_lex_next(&lx, &t));
	ck_assert_int_eq(t.kind, SQL_TOK_IDENT);
	err *e = sql_lex_next(&lx, &t);
	ck_assert_str_eq(err_msg(e), "syntax error at line 1, column 2: unexpected byte 0x00");
	err_free(e);
	sql_lexer_init(&lx, "", 0, 0, 1, 0);
	for (int i = 0; i < 3; i++) {
		ck_assert_ptr_null(sql_lex_next(&lx, &t));
		ck_assert_int_eq(t.kind, SQL_TOK_EOF);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lexer");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, punctuation_and_operators);
	tcase_add_test(tc, numbers);
	tcase_add_test(tc, keywords_are_case_insensitive_and_flagged);
	tcase_add_test(tc, positions_after_strings_spanning_lines);
	tcase_add_test(tc, keyword_table_is_sorted_and_complete);
	tcase_add_test(tc, strings_and_quoted_identifiers_keep_escapes);
	tcase_add_test(tc, comments_are_skipped_and_positions_tracked);
	tcase_add_test(tc, minus_minus_is_a_comment_but_spaced_minus_is_not);
	tcase_add_test(tc, lexical_errors_say_what_and_where);
	tcase_add_test(tc, eof_repeats_and_embedded_nul_is_an_error);
	suite_add_tcase(s, tc);
	return check_run(s);
}
