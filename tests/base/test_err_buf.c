/* Unit tests for errors as values and capped byte buffers. */
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "check_main.h"

START_TEST(error_carries_code_and_message)
{
	err *e = err_new(ERR_CORRUPT, "page %d checksum mismatch", 7);
	ck_assert_int_eq(err_code(e), ERR_CORRUPT);
	ck_assert_str_eq(err_msg(e), "page 7 checksum mismatch");
	ck_assert(err_is(e, ERR_CORRUPT));
	ck_assert(!err_is(e, ERR_IO));
	err_free(e);
	/* a message without conversions is taken as it is; "%%" still formats */
	e = err_new(ERR_UNAVAILABLE, "no read point yet");
	ck_assert_str_eq(err_msg(e), "no read point yet");
	err_free(e);
	e = err_new(ERR_LIMIT, "100%% full");
	ck_assert_str_eq(err_msg(e), "100% full");
	err_free(e);
}
END_TEST

START_TEST(wrap_prepends_context_and_keeps_code)
{
	err *e = err_wrap(err_new(ERR_IO, "disk full"), "writing %s", "meta page");
	ck_assert_int_eq(err_code(e), ERR_IO);
	ck_assert_str_eq(err_msg(e), "writing meta page: disk full");
	err_free(e);
	ck_assert_ptr_null(err_wrap(NULL, "nothing"));
	ck_assert_str_eq(err_code_name(ERR_CONFLICT), "serialization failure");
}
END_TEST

static err *fails_then_not_reached(int *reached)
{
	TRY(err_new(ERR_LIMIT, "stop"));
	*reached = 1;
	return NULL;
}

START_TEST(try_returns_early)
{
	int reached = 0;
	err *e = fails_then_not_reached(&reached);
	ck_assert(err_is(e, ERR_LIMIT));
	ck_assert_int_eq(reached, 0);
	err_free(e);
}
END_TEST

START_TEST(long_messages_are_cut_not_overflowed)
{
	char big[5000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	err *e = err_new(ERR_INVALID, "%s", big);
	ck_assert_uint_lt(strlen(err_msg(e)), 1024);
	err_free(e);
}
END_TEST

START_TEST(buffer_grows_up_to_its_cap)
{
	struct buf b;
	buf_init(&b, 100);
	uint8_t chunk[30] = {1};
	for (int i = 0; i < 3; i++)
		ck_assert_ptr_null(buf_append(&b, chunk, sizeof chunk));
	ck_assert_uint_eq(b.len, 90);
	err *e = buf_append(&b, chunk, sizeof chunk);
	ck_assert(err_is(e, ERR_LIMIT));
	ck_assert_uint_eq(b.len, 90); /* unchanged on error */
	err_free(e);
	ck_assert_ptr_null(buf_append(&b, chunk, 10));
	ck_assert_uint_eq(b.len, 100);
	buf_consume(&b, 40);
	ck_assert_uint_eq(b.len, 60);
	buf_free(&b);
}
END_TEST

/* A cap below the first allocation size must still hold (the append fast path trusts it). */
START_TEST(small_caps_hold)
{
	struct buf b;
	buf_init(&b, 16);
	uint8_t byte = 7;
	for (int i = 0; i < 16; i++)
		ck_assert_ptr_null(buf_append(&b, &byte, 1));
	err *e = buf_append(&b, &byte, 1);
	ck_assert(err_is(e, ERR_LIMIT));
	ck_assert_uint_eq(b.len, 16);
	ck_assert_uint_le(b.cap, 16);
	err_free(e);
	buf_free(&b);
}
END_TEST

START_TEST(big_endian_round_trip)
{
	struct buf b;
	buf_init(&b, 64);
	ck_assert_ptr_null(buf_append_u32be(&b, 0xdeadbeef));
	ck_assert_ptr_null(buf_append_u64be(&b, 0x0102030405060708ull));
	ck_assert_uint_eq(b.data[0], 0xde);
	ck_assert_uint_eq(load_u32be(b.data), 0xdeadbeef);
	ck_assert_uint_eq(load_u64be(b.data + 4), 0x0102030405060708ull);
	buf_free(&b);
}
END_TEST

START_TEST(slices_compare_like_memcmp_with_prefix_first)
{
	ck_assert_int_lt(slice_cmp(slice_of("ab", 2), slice_of("abc", 3)), 0);
	ck_assert_int_gt(slice_cmp(slice_of("b", 1), slice_of("abc", 3)), 0);
	ck_assert_int_eq(slice_cmp(slice_of("", 0), slice_of(NULL, 0)), 0);
	ck_assert(slice_eq(slice_of("x\0y", 3), slice_of("x\0y", 3)));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("err_buf");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, error_carries_code_and_message);
	tcase_add_test(tc, wrap_prepends_context_and_keeps_code);
	tcase_add_test(tc, try_returns_early);
	tcase_add_test(tc, long_messages_are_cut_not_overflowed);
	tcase_add_test(tc, buffer_grows_up_to_its_cap);
	tcase_add_test(tc, small_caps_hold);
	tcase_add_test(tc, big_endian_round_trip);
	tcase_add_test(tc, slices_compare_like_memcmp_with_prefix_first);
	suite_add_tcase(s, tc);
	return check_run(s);
}
