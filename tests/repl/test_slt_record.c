/*
 * test_slt_record.c — the sqllogictest reader: records, comments, CRLF, conditions, and
 * malformed input reported as records rather than crashes.
 */
#include <stdio.h>
#include <string.h>

#include "../check_main.h"
#include "net/slt_record.h"

static struct slt_reader *open_text(const char *text)
{
	struct slt_reader *r = NULL;
	err *e = slt_reader_open_text(text, strlen(text), &r);
	ck_assert_ptr_null(e);
	return r;
}

static void next(struct slt_reader *r, struct slt_record *rec)
{
	bool done = true;
	ck_assert_ptr_null(slt_reader_next(r, rec, &done));
	ck_assert(!done);
}

static void expect_done(struct slt_reader *r)
{
	struct slt_record rec;
	bool done = false;
	ck_assert_ptr_null(slt_reader_next(r, &rec, &done));
	ck_assert(done);
}

START_TEST(test_statements_and_queries)
{
	struct slt_reader *r = open_text("# leading comment\n"
	                                 "hash-threshold 8\r\n"
	                                 "\r\n"
	                                 "statement ok\r\n"
	                                 "CREATE TABLE t(a INTEGER,\r\n"
	                                 "# a comment inside the SQL\r\n"
	                                 "  b TEXT)\r\n"
	                                 "\r\n"
	                                 "statement error   UNIQUE constraint\n"
	                                 "INSERT INTO t VALUES (1, 'x')\n"
	                                 "\n\n\n"
	                                 "skipif mysql # a reason\n"
	                                 "onlyif sqlite\n"
	                                 "query IT rowsort label-7\n"
	                                 "SELECT a, b\n"
	                                 "FROM t\n"
	                                 "----\n"
	                                 "1\n"
	                                 "(empty)\n"
	                                 "\n"
	                                 "query I\n"
	                                 "SELECT 1 WHERE false\n"
	                                 "\n"
	                                 "halt\n");
	struct slt_record rec;
	next(r, &rec);
	ck_assert_int_eq(rec.kind, SLT_HASH_THRESHOLD);
	ck_assert_uint_eq(rec.hash_threshold, 8);
	ck_assert_uint_eq(rec.line, 2);

	next(r, &rec);
	ck_assert_int_eq(rec.kind, SLT_STATEMENT_OK);
	ck_assert_uint_eq(rec.line, 4);
	ck_assert_str_eq(rec.sql, "CREATE TABLE t(a INTEGER,\n  b TEXT)");
	ck_assert_uint_eq(rec.sql_len, strlen(rec.sql));

	next(r, &rec);
	ck_assert_int_eq(rec.kind, SLT_STATEMENT_ERROR);
	ck_assert_str_eq(rec.error_pattern, "UNIQUE constraint");
	ck_assert_str_eq(rec.sql, "INSERT INTO t VALUES (1, 'x')");

	next(r, &rec);
	ck_assert_int_eq(rec.kind, SLT_QUERY);
	ck_assert_uint_eq(rec.condition_count, 2);
	ck_assert(!rec.conditions[0].only_if);
	ck_assert_str_eq(rec.conditions[0].engine, "mysql");
	ck_assert(rec.conditions[1].only_if);
	ck_assert_str_eq(rec.conditions[1].engine, "sqlite");
	ck_assert_str_eq(rec.types, "IT");
	ck_assert_uint_eq(rec.column_count, 2);
	ck_assert_int_eq(rec.sort, SLT_ROWSORT);
	ck_assert_str_eq(rec.label, "label-7");
	ck_assert_str_eq(rec.sql, "SELECT a, b\nFROM t");
	ck_assert_uint_eq(rec.expected_count, 2);
	ck_assert_str_eq(rec.expected[0], "1");
	ck_assert_str_eq(rec.expected[1], "(empty)");

	next(r, &rec);
	ck_assert_int_eq(rec.kind, SLT_QUERY);
	ck_assert_int_eq(rec.sort, SLT_NOSORT);
	ck_assert_ptr_null(rec.label);
	ck_assert_uint_eq(rec.expected_count, 0);

	next(r, &rec);
	ck_assert_int_eq(rec.kind, SLT_HALT);
	expect_done(r);
	slt_reader_close(r);
}
END_TEST

/* Every kind of broken record comes back as SLT_MALFORMED and reading goes on. */
START_TEST(test_malformed_records)
{
	static const char *const broken[] = {
	    "statement\nSELECT 1\n",
	    "statement maybe\nSELECT 1\n",
	    "statement ok\n",
	    "query\nSELECT 1\n",
	    "query IX\nSELECT 1\n",
	    "query I upsidedown\nSELECT 1\n",
	    "query I nosort label extra\nSELECT 1\n",
	    "query I\n----\n1\n",
	    "hash-threshold\n",
	    "hash-threshold -3\n",
	    "hash-threshold 99999999999999999999\n",
	    "skipif\nstatement ok\nSELECT 1\n",
	    "onlyif sqlite\n",
	    "frobnicate\n",
	    "skipif a\nskipif b\nskipif c\nskipif d\nskipif e\nskipif f\nskipif g\nskipif h\n"
	    "skipif i\nstatement ok\nSELECT 1\n",
	};
	for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
		char text[512];
		snprintf(text, sizeof text, "%s\nstatement ok\nSELECT 2\n", broken[i]);
		struct slt_reader *r = open_text(text);
		struct slt_record rec;
		next(r, &rec);
		ck_assert_msg(rec.kind == SLT_MALFORMED, "record %zu was accepted", i);
		ck_assert(strlen(rec.reason) > 0);
		next(r, &rec);
		ck_assert_int_eq(rec.kind, SLT_STATEMENT_OK);
		ck_assert_str_eq(rec.sql, "SELECT 2");
		expect_done(r);
		slt_reader_close(r);
	}
}
END_TEST

/* Arbitrary bytes never crash the reader and always end. */
START_TEST(test_garbage_terminates)
{
	char text[4096];
	uint32_t x = 12345;
	for (int round = 0; round < 200; round++) {
		size_t len = (size_t)(round * 20) % sizeof text;
		for (size_t i = 0; i < len; i++) {
			x = x * 1103515245u + 12345u;
			static const char alphabet[] =
			    "query IRT statement ok error ----\n\r#\0 skipif";
			text[i] = alphabet[(x >> 16) % (sizeof alphabet - 1)];
		}
		struct slt_reader *r = NULL;
		ck_assert_ptr_null(slt_reader_open_text(text, len, &r));
		size_t records = 0;
		for (;;) {
			struct slt_record rec;
			bool done;
			ck_assert_ptr_null(slt_reader_next(r, &rec, &done));
			if (done)
				break;
			ck_assert(rec.kind >= SLT_STATEMENT_OK && rec.kind <= SLT_MALFORMED);
			ck_assert_uint_le(++records, len);
		}
		slt_reader_close(r);
	}
}
END_TEST

START_TEST(test_missing_file)
{
	struct slt_reader *r = NULL;
	err *e = slt_reader_open("/nonexistent/cairn/file.test", &r);
	ck_assert(err_is(e, ERR_NOT_FOUND));
	ck_assert_ptr_null(r);
	err_free(e);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("slt_record");
	TCase *tc = tcase_create("slt_record");
	tcase_add_test(tc, test_statements_and_queries);
	tcase_add_test(tc, test_malformed_records);
	tcase_add_test(tc, test_garbage_terminates);
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(s, tc);
	return check_run(s);
}
