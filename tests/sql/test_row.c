/*
 * test_row.c — the stored row format (row.h): round trips of every value kind through
 * sql_row_encode / sql_row_decode, every msgpack form the decoder accepts (all integer
 * widths, float32, str8/16, array16), and the stored bytes it must refuse (truncated
 * values, wrong column counts, trailing bytes, foreign types, bad UTF-8).
 */
#include <check.h>
#include <string.h>

#include "check_main.h"
#include "sql/row.h"

#define ROW_MAX 8

/* Decodes `len` bytes as a row of `count` values and renders it as "v1|v2|..." or "error". */
static const char *decoded(const void *bytes, size_t len, uint32_t count)
{
	static char out[256];
	struct sql_value v[ROW_MAX];
	ck_assert_uint_le(count, ROW_MAX);
	err *e = sql_row_decode(slice_of(bytes, len), v, count);
	if (e) {
		/* malformed msgpack is ERR_DECODE; text that is not UTF-8 is sql_text's ERR_TYPE */
		ck_assert(err_code(e) == ERR_DECODE || err_code(e) == ERR_TYPE);
		err_free(e);
		for (uint32_t i = 0; i < count; i++) /* on error every value is NULL */
			ck_assert_int_eq(v[i].type, SQL_NULL);
		return "error";
	}
	struct buf b;
	buf_init(&b, sizeof out - 1);
	for (uint32_t i = 0; i < count; i++) {
		if (i)
			ck_assert_ptr_null(buf_append(&b, "|", 1));
		ck_assert_ptr_null(sql_value_format(&v[i], &b));
	}
	sql_values_free(v, count);
	memcpy(out, b.data ? (const char *)b.data : "", b.len);
	out[b.len] = '\0';
	buf_free(&b);
	return out;
}

START_TEST(round_trips)
{
	struct sql_value row[ROW_MAX];
	int64_t ints[] = {0,
	                  1,
	                  -1,
	                  127,
	                  128,
	                  -32,
	                  -33,
	                  255,
	                  256,
	                  -128,
	                  -129,
	                  65535,
	                  65536,
	                  -32768,
	                  -32769,
	                  INT32_MAX,
	                  (int64_t)INT32_MAX + 1,
	                  INT32_MIN,
	                  (int64_t)INT32_MIN - 1,
	                  INT64_MAX,
	                  INT64_MIN};
	struct buf b;
	buf_init(&b, 1 << 16);
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		row[0] = sql_int(ints[i]);
		row[1] = sql_float((double)ints[i] / 3);
		row[2] = sql_bool(i % 2);
		row[3] = sql_null();
		ck_assert_ptr_null(sql_text("héllo", 6, &row[4]));
		ck_assert_ptr_null(sql_row_encode(row, 5, &b));
		struct sql_value back[5];
		ck_assert_ptr_null(sql_row_decode(buf_slice(&b), back, 5));
		for (int k = 0; k < 5; k++)
			ck_assert_int_eq(sql_value_order(&row[k], &back[k]), 0);
		sql_values_free(back, 5);
		sql_values_free(row, 5);
	}
	buf_free(&b);
	/* strings of every length class: fixstr, str8, str16, str32 */
	static char text[70000];
	memset(text, 'x', sizeof text);
	size_t lengths[] = {0, 31, 32, 255, 256, 65535, 65536};
	for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
		ck_assert_ptr_null(sql_text(text, lengths[i], &row[0]));
		buf_init(&b, 1 << 17);
		ck_assert_ptr_null(sql_row_encode(row, 1, &b));
		struct sql_value back;
		ck_assert_ptr_null(sql_row_decode(buf_slice(&b), &back, 1));
		ck_assert_uint_eq(back.u.s.len, lengths[i]);
		sql_value_free(&back);
		sql_value_free(&row[0]);
		buf_free(&b);
	}
}
END_TEST

START_TEST(accepted_forms)
{
	ck_assert_str_eq(decoded("\x93\xc0\xc2\xc3", 4, 3), "NULL|FALSE|TRUE");
	ck_assert_str_eq(decoded("\x92\xcc\xff\xd0\x80", 5, 2), "255|-128");
	ck_assert_str_eq(decoded("\x92\xcd\x01\x00\xd1\xff\x00", 7, 2), "256|-256");
	ck_assert_str_eq(decoded("\x91\xd2\xff\xff\xff\xfe", 6, 1), "-2");
	ck_assert_str_eq(decoded("\x91\xce\x00\x01\x00\x00", 6, 1), "65536");
	ck_assert_str_eq(decoded("\x91\xd3\xff\xff\xff\xff\xff\xff\xff\xff", 10, 1), "-1");
	ck_assert_str_eq(decoded("\x91\xca\x3f\xc0\x00\x00", 6, 1), "1.5"); /* float32 */
	ck_assert_str_eq(decoded("\x91\xd9\x02hi", 5, 1), "hi");
	ck_assert_str_eq(decoded("\x91\xda\x00\x02hi", 6, 1), "hi");
	ck_assert_str_eq(decoded("\xdc\x00\x02\x01\xff", 5, 2), "1|-1");  /* array16 */
	ck_assert_str_eq(decoded("\xdd\x00\x00\x00\x01\x07", 6, 1), "7"); /* array32 */
}
END_TEST

START_TEST(refused_bytes)
{
	ck_assert_str_eq(decoded("", 0, 1), "error");
	ck_assert_str_eq(decoded("\x01", 1, 1), "error");             /* not an array */
	ck_assert_str_eq(decoded("\x92\x01", 2, 1), "error");         /* 2 values, 1 column */
	ck_assert_str_eq(decoded("\x91\x01", 2, 2), "error");         /* 1 value, 2 columns */
	ck_assert_str_eq(decoded("\x92\x01", 2, 2), "error");         /* truncated */
	ck_assert_str_eq(decoded("\x91\x01\x01", 3, 1), "error");     /* trailing bytes */
	ck_assert_str_eq(decoded("\x91\xcd\x01", 3, 1), "error");     /* short uint16 */
	ck_assert_str_eq(decoded("\x91\xcb\x00\x00", 4, 1), "error"); /* short float64 */
	ck_assert_str_eq(decoded("\x91\xa3hi", 4, 1), "error");       /* short fixstr */
	ck_assert_str_eq(decoded("\x91\xdb\xff\xff\xff\xff", 6, 1), "error"); /* huge str32 */
	ck_assert_str_eq(decoded("\x91\xc1", 2, 1), "error");                 /* never used */
	ck_assert_str_eq(decoded("\x91\xc4\x01x", 4, 1), "error");            /* bin8 */
	ck_assert_str_eq(decoded("\x91\xd4\x01\x00", 4, 1), "error");         /* fixext1 */
	ck_assert_str_eq(decoded("\x91\x91\x01", 3, 1), "error");             /* nested array */
	ck_assert_str_eq(decoded("\x91\x81\x01\x01", 4, 1), "error");         /* map */
	ck_assert_str_eq(decoded("\x91\xa2\xc3\x28", 4, 1), "error");         /* bad UTF-8 */
	ck_assert_str_eq(decoded("\x91\xcf\x80\x00\x00\x00\x00\x00\x00\x00", 10, 1), "error");
}
END_TEST

static Suite *suite(void)
{
	Suite *su = suite_create("sql_row");
	TCase *t = tcase_create("row");
	tcase_add_test(t, round_trips);
	tcase_add_test(t, accepted_forms);
	tcase_add_test(t, refused_bytes);
	suite_add_tcase(su, t);
	return su;
}

int main(void)
{
	return check_run(suite());
}
