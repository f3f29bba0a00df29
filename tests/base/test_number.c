/* Unit tests for whole decimal numbers read from text (base/number.h). */
#include <stdint.h>

#include "base/number.h"
#include "check_main.h"

/* Parses `text` with `max`; returns the error message, or NULL with *out set. */
static const char *parse(const char *text, uint64_t max, uint64_t *out)
{
	static char message[256];
	err *e = number_parse_u64(text, max, out);
	if (!e)
		return NULL;
	ck_assert_int_eq(err_code(e), ERR_INVALID);
	snprintf(message, sizeof message, "%s", err_msg(e));
	err_free(e);
	return message;
}

START_TEST(digits_up_to_the_maximum_are_read)
{
	uint64_t v = 7;
	ck_assert_ptr_null(parse("0", 10, &v));
	ck_assert_uint_eq(v, 0);
	ck_assert_ptr_null(parse("0042", 100, &v));
	ck_assert_uint_eq(v, 42);
	ck_assert_ptr_null(parse("65535", UINT16_MAX, &v));
	ck_assert_uint_eq(v, 65535);
	ck_assert_ptr_null(parse("18446744073709551615", UINT64_MAX, &v));
	ck_assert_uint_eq(v, UINT64_MAX);
}
END_TEST

START_TEST(anything_but_digits_is_refused_whole)
{
	const char *bad[] = {"-1", "+1", " 1", "1 ", "12abc", "0x10", "1e3", "1.0", "abc"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint64_t v = 7;
		const char *msg = parse(bad[i], UINT64_MAX, &v);
		ck_assert_msg(msg != NULL, "'%s' was read", bad[i]);
		ck_assert_uint_eq(v, 7); /* untouched */
	}
	uint64_t v;
	ck_assert_str_eq(parse("12abc", 100, &v), "'12abc' is not a number");
	ck_assert_str_eq(parse("", 100, &v), "empty number");
}
END_TEST

START_TEST(values_above_the_maximum_never_wrap)
{
	uint64_t v = 7;
	ck_assert_str_eq(parse("65536", UINT16_MAX, &v), "'65536' is above 65535");
	ck_assert_str_eq(parse("18446744073709551616", UINT64_MAX, &v),
	                 "'18446744073709551616' is above 18446744073709551615");
	ck_assert_str_eq(parse("99999999999999999999999", UINT64_MAX, &v),
	                 "'99999999999999999999999' is above 18446744073709551615");
	/* a maximum below ten: a single digit above it is refused too */
	ck_assert_str_eq(parse("9", 5, &v), "'9' is above 5");
	ck_assert_str_eq(parse("1", 0, &v), "'1' is above 0");
	ck_assert_uint_eq(v, 7);
	ck_assert_ptr_null(parse("5", 5, &v));
	ck_assert_uint_eq(v, 5);
}
END_TEST

/* A range also refuses values below its minimum, naming it. */
START_TEST(a_range_has_a_floor_too)
{
	uint64_t v = 7;
	err *e = number_parse_range("0", 1, 10, &v);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(err_msg(e), "'0' is below 1");
	err_free(e);
	e = number_parse_range("11", 1, 10, &v);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(err_msg(e), "'11' is above 10");
	err_free(e);
	ck_assert_uint_eq(v, 7);
	ck_assert_ptr_null(number_parse_range("1", 1, 10, &v));
	ck_assert_uint_eq(v, 1);
	ck_assert_ptr_null(number_parse_range("10", 1, 10, &v));
	ck_assert_uint_eq(v, 10);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("number");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, digits_up_to_the_maximum_are_read);
	tcase_add_test(tc, anything_but_digits_is_refused_whole);
	tcase_add_test(tc, values_above_the_maximum_never_wrap);
	tcase_add_test(tc, a_range_has_a_floor_too);
	suite_add_tcase(s, tc);
	return check_run(s);
}
