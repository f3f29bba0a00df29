/*
 * Statement splitting: the lexer's split (the SQL port's) ends every statement exactly
 * where the parser's does for texts that parse, and walks a whole script to the same
 * pieces; texts that do not parse or lex are split as sql_split.h promises.
 */
#include <string.h>

#include "check_main.h"
#include "net/sql_split.h"

/* Texts whose statements parse; each is walked statement by statement by both splits. */
static const char *const parsing_texts[] = {
    "SELECT 1",
    "SELECT 1;",
    "SELECT 1; SELECT 2;",
    "  ;; ;SELECT 1;;SELECT 2",
    "INSERT INTO t VALUES (1, 'a;b'), (2, 'it''s; here');",
    "SELECT \"odd;name\" FROM t; -- a comment; with a semicolon\nSELECT 3;",
    "/* block; comment */ SELECT 1 /* inside; */ ; SELECT 2 -- trailing",
    "CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR DEFAULT 'x;y');\n"
    "BEGIN; UPDATE t SET v = 'z' WHERE id = 1; COMMIT;",
    "SELECT CASE WHEN 1 = 1 THEN ';' ELSE 'b' END;",
    "",
    "   ",
    ";;;",
    "-- only a comment",
    "  SELECT 1 -- no semicolon; but one in a comment",
    "\t\n SELECT 'a'",
    "/* leading */ SELECT 2",
    "/* only a comment */ \n",
    "\v\f\r",
};

START_TEST(lexer_split_matches_parser_split)
{
	for (size_t t = 0; t < sizeof parsing_texts / sizeof *parsing_texts; t++) {
		const char *text = parsing_texts[t];
		size_t len = strlen(text), pos = 0;
		/* each round consumes at least one byte or ends the walk */
		for (size_t round = 0; round <= len + 1; round++) {
			size_t by_parser = net_sql_first_statement(text + pos, len - pos, NULL);
			size_t by_lexer = net_sql_statement_end(text + pos, len - pos);
			ck_assert_msg(by_parser == by_lexer,
			              "text %zu at %zu: parser %zu, lexer %zu", t, pos, by_parser,
			              by_lexer);
			if (by_lexer == 0)
				break;
			pos += by_lexer;
			ck_assert_uint_le(pos, len);
		}
	}
}
END_TEST

START_TEST(unparsable_statement_ends_at_its_semicolon)
{
	const char *text = "SELEC 1; SELECT 2;";
	ck_assert_uint_eq(net_sql_statement_end(text, strlen(text)), strlen("SELEC 1;"));
	/* the parser's split takes it whole; both hand the session the same first statement */
	ck_assert_uint_eq(net_sql_first_statement(text, strlen(text), NULL), strlen(text));
}
END_TEST

START_TEST(unlexable_text_is_taken_whole)
{
	const char *texts[] = {"SELECT 'open; SELECT 2;",
	                       "SELECT 1 /* open; SELECT 2;",
	                       "SELECT 12abc; SELECT 2;",
	                       "SELECT \"open; SELECT 2",
	                       "SELECT 'open",
	                       "  /* open",
	                       "SELECT #"};
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
		ck_assert_uint_eq(net_sql_statement_end(texts[i], strlen(texts[i])),
		                  strlen(texts[i]));
}
END_TEST

START_TEST(length_bounds_the_split)
{
	/* only the first len bytes are looked at: the ';' beyond them does not count */
	const char *text = "SELECT 1; SELECT 2;";
	ck_assert_uint_eq(net_sql_statement_end(text, 8), 8);
	ck_assert_uint_eq(net_sql_statement_end(text, 9), 9);
}
END_TEST

static Suite *sql_split_suite(void)
{
	Suite *s = suite_create("sql_split");
	TCase *tc = tcase_create("sql_split");
	tcase_add_test(tc, lexer_split_matches_parser_split);
	tcase_add_test(tc, unparsable_statement_ends_at_its_semicolon);
	tcase_add_test(tc, unlexable_text_is_taken_whole);
	tcase_add_test(tc, length_bounds_the_split);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(sql_split_suite());
}
