/*
 * test_slt_result.c — rendering values by column type, sorting and hashing results the
 * way sqllogictest does.
 */
#include <stdlib.h>
#include <string.h>

#include "../check_main.h"
#include "net/slt_result.h"

static struct sql_value text(const char *s)
{
	struct sql_value v;
	ck_assert_ptr_null(sql_text(s, strlen(s), &v));
	return v;
}

/* Renders v as `type` and compares with `want`; releases v. */
static void check_render(struct sql_value v, char type, const char *want)
{
	struct buf out;
	buf_init(&out, 1024);
	ck_assert_ptr_null(slt_render_value(&v, type, &out));
	ck_assert_ptr_null(buf_append(&out, "", 1));
	ck_assert_str_eq((const char *)out.data, want);
	buf_free(&out);
	sql_value_free(&v);
}

START_TEST(test_render_integer_column)
{
	check_render(sql_int(42), 'I', "42");
	check_render(sql_int(-9223372036854775807 - 1), 'I', "-9223372036854775808");
	check_render(sql_float(3.9), 'I', "3");
	check_render(sql_float(-3.9), 'I', "-3");
	check_render(sql_float(1e300), 'I', "9223372036854775807");
	check_render(sql_bool(true), 'I', "1");
	check_render(sql_bool(false), 'I', "0");
	check_render(text("12abc"), 'I', "12");
	check_render(sql_null(), 'I', "NULL");
}
END_TEST

START_TEST(test_render_real_column)
{
	check_render(sql_int(2), 'R', "2.000");
	check_render(sql_float(1.23456), 'R', "1.235");
	check_render(sql_float(-0.0), 'R', "0.000");
	check_render(sql_float(-0.25), 'R', "-0.250");
	check_render(text("2.5"), 'R', "2.500");
	check_render(sql_null(), 'R', "NULL");
}
END_TEST

START_TEST(test_render_text_column)
{
	check_render(text(""), 'T', "(empty)");
	check_render(text("a\tb\nc"), 'T', "a@b@c");
	check_render(text("h\xc3\xa9llo"), 'T', "h@@llo");
	check_render(text("NULL"), 'T', "NULL");
	check_render(sql_int(7), 'T', "7");
	check_render(sql_null(), 'T', "NULL");
}
END_TEST

/* Builds a two-column result (INTEGER, TEXT) from parallel arrays. */
static void make_result(struct sql_result *r, const int64_t *ints, const char *const *texts,
                        size_t rows)
{
	memset(r, 0, sizeof *r);
	r->kind = SQL_RESULT_ROWS;
	r->column_count = 2;
	r->row_count = rows;
	r->values = calloc(rows * 2, sizeof *r->values);
	ck_assert_ptr_nonnull(r->values);
	for (size_t i = 0; i < rows; i++) {
		r->values[2 * i] = sql_int(ints[i]);
		r->values[2 * i + 1] = text(texts[i]);
	}
}

static void free_result(struct sql_result *r)
{
	for (uint64_t i = 0; i < r->row_count * r->column_count; i++)
		sql_value_free(&r->values[i]);
	free(r->values);
}

static const int64_t ints[] = {2, 10, 2};
static const char *const texts[] = {"b", "a", "a"};

START_TEST(test_sort_modes)
{
	struct sql_result r;
	make_result(&r, ints, texts, 3);
	static const char *const nosort[] = {"2", "b", "10", "a", "2", "a"};
	static const char *const rowsort[] = {"10", "a", "2", "a", "2", "b"};
	static const char *const valuesort[] = {"10", "2", "2", "a", "a", "b"};
	const struct {
		enum slt_sort sort;
		const char *const *want;
	} cases[] = {{SLT_NOSORT, nosort}, {SLT_ROWSORT, rowsort}, {SLT_VALUESORT, valuesort}};
	for (size_t c = 0; c < 3; c++) {
		struct slt_rendered got;
		ck_assert_ptr_null(slt_render(&r, "IT", cases[c].sort, &got));
		ck_assert_uint_eq(got.count, 6);
		for (size_t i = 0; i < 6; i++)
			ck_assert_str_eq(got.values[i], cases[c].want[i]);
		slt_rendered_free(&got);
	}
	free_result(&r);
}
END_TEST

START_TEST(test_hash)
{
	struct sql_result r;
	make_result(&r, ints, texts, 3);
	struct slt_rendered got;
	ck_assert_ptr_null(slt_render(&r, "IT", SLT_ROWSORT, &got));
	char hex[MD5_HEX_BYTES];
	slt_rendered_hash(&got, hex);
	/* md5("10\na\n2\na\n2\nb\n") */
	ck_assert_str_eq(hex, "8d73073eaca2e9395a688bfb42e1b424");
	slt_rendered_free(&got);
	free_result(&r);

	make_result(&r, ints, texts, 0);
	ck_assert_ptr_null(slt_render(&r, "IT", SLT_ROWSORT, &got));
	ck_assert_uint_eq(got.count, 0);
	slt_rendered_hash(&got, hex);
	ck_assert_str_eq(hex, "d41d8cd98f00b204e9800998ecf8427e");
	slt_rendered_free(&got);
	free_result(&r);
}
END_TEST

START_TEST(test_hash_lines)
{
	uint64_t count = 0;
	char hex[MD5_HEX_BYTES];
	ck_assert(slt_parse_hash_line("30 values hashing to 3c13dee48d9356ae19af2515e05e6b54",
	                              &count, hex));
	ck_assert_uint_eq(count, 30);
	ck_assert_str_eq(hex, "3c13dee48d9356ae19af2515e05e6b54");
	ck_assert(!slt_parse_hash_line("30", &count, hex));
	ck_assert(!slt_parse_hash_line("values hashing to 3c13dee48d9356ae19af2515e05e6b54", &count,
	                               hex));
	ck_assert(!slt_parse_hash_line("3 values hashing to 3c13", &count, hex));
	ck_assert(!slt_parse_hash_line("3 values hashing to 3C13DEE48D9356AE19AF2515E05E6B54",
	                               &count, hex));
	ck_assert(!slt_parse_hash_line("99999999999999999999 values hashing to "
	                               "3c13dee48d9356ae19af2515e05e6b54",
	                               &count, hex));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("slt_result");
	TCase *tc = tcase_create("slt_result");
	tcase_add_test(tc, test_render_integer_column);
	tcase_add_test(tc, test_render_real_column);
	tcase_add_test(tc, test_render_text_column);
	tcase_add_test(tc, test_sort_modes);
	tcase_add_test(tc, test_hash);
	tcase_add_test(tc, test_hash_lines);
	suite_add_tcase(s, tc);
	return check_run(s);
}
