/*
 * test_value.c — SQL values and expression evaluation: rendering, ordering, arithmetic
 * (overflow, division by zero, INTEGER/FLOAT mixing), casts, UTF-8, three-valued logic,
 * LIKE, scalar functions, row and key encodings.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "sql/expr.h"
#include "sql/keys.h"
#include "sql/row.h"
#include "sql/value.h"

static char *fmt(struct sql_value v)
{
	static char out[4][128];
	static int n;
	char *o = out[n++ % 4];
	struct buf b;
	buf_init(&b, 100);
	ck_assert_ptr_null(sql_value_format(&v, &b));
	memcpy(o, b.data, b.len);
	o[b.len] = '\0';
	buf_free(&b);
	sql_value_free(&v);
	return o;
}

static struct sql_value text(const char *s)
{
	struct sql_value v;
	ck_assert_ptr_null(sql_text(s, strlen(s), &v));
	return v;
}

START_TEST(rendering)
{
	ck_assert_str_eq(fmt(sql_null()), "NULL");
	ck_assert_str_eq(fmt(sql_bool(true)), "TRUE");
	ck_assert_str_eq(fmt(sql_bool(false)), "FALSE");
	ck_assert_str_eq(fmt(sql_int(-42)), "-42");
	ck_assert_str_eq(fmt(sql_int(INT64_MIN)), "-9223372036854775808");
	ck_assert_str_eq(fmt(sql_float(3.0)), "3.0");
	ck_assert_str_eq(fmt(sql_float(-0.5)), "-0.5");
	ck_assert_str_eq(fmt(sql_float(0.1)), "0.1");
	ck_assert_str_eq(fmt(sql_float(1e20)), "1e+20");
	ck_assert_str_eq(fmt(sql_float(INFINITY)), "inf");
	ck_assert_str_eq(fmt(sql_float(-INFINITY)), "-inf");
	ck_assert_int_eq(sql_float(NAN).type, SQL_NULL); /* NaN is NULL, as in SQLite */
	ck_assert_str_eq(fmt(text("Sicario")), "Sicario");
}
END_TEST

START_TEST(utf8)
{
	struct sql_value v;
	ck_assert(sql_utf8_valid("h\xc3\xa9", 3));
	ck_assert(!sql_utf8_valid("\xc3", 1));         /* truncated */
	ck_assert(!sql_utf8_valid("\xc0\xaf", 2));     /* overlong */
	ck_assert(!sql_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
	ck_assert(!sql_utf8_valid("\xf4\x90\x80\x80", 4));
	/* a bad or truncated sequence anywhere among runs of ASCII, at every alignment */
	char text[40];
	for (size_t at = 0; at + 2 <= sizeof text; at++) {
		memset(text, 'a', sizeof text);
		memcpy(text + at, "\xc3\xa9", 2);
		ck_assert(sql_utf8_valid(text, sizeof text));
		ck_assert(!sql_utf8_valid(text, at + 1)); /* cut inside the sequence */
		text[at + 1] = 'x';
		ck_assert(!sql_utf8_valid(text, sizeof text));
		text[at] = (char)0xff;
		ck_assert(!sql_utf8_valid(text, sizeof text));
	}
	err *e = sql_text("\xff", 1, &v);
	ck_assert(err_is(e, ERR_TYPE));
	err_free(e);
	ck_assert_uint_eq(sql_utf8_length("h\xc3\xa9llo", 6), 5);
}
END_TEST

static int order(struct sql_value a, struct sql_value b)
{
	int c = sql_value_order(&a, &b);
	sql_value_free(&a);
	sql_value_free(&b);
	return c;
}

START_TEST(ordering)
{
	ck_assert_int_lt(order(sql_null(), sql_bool(false)), 0);
	/* a BOOLEAN orders as the number it counts as; of equal ones it comes first */
	ck_assert_int_gt(order(sql_bool(true), sql_int(-5)), 0);
	ck_assert_int_lt(order(sql_bool(false), sql_float(0.5)), 0);
	ck_assert_int_lt(order(sql_bool(true), sql_int(1)), 0);
	ck_assert_int_lt(order(sql_bool(true), sql_float(1.0)), 0);
	ck_assert_int_gt(order(sql_int(1), sql_bool(true)), 0);
	ck_assert_int_lt(order(sql_int(1), sql_float(1.5)), 0);
	ck_assert_int_gt(order(sql_float(2.5), sql_int(2)), 0);
	ck_assert_int_lt(order(sql_int(1), sql_float(1.0)), 0); /* ties: INTEGER first */
	ck_assert_int_lt(order(sql_int(INT64_MAX), sql_float(1e19)), 0);
	ck_assert_int_gt(order(sql_int(INT64_MAX - 1), sql_float(-1e19)), 0);
	ck_assert_int_lt(order(sql_float(1e300), text("a")), 0);
	ck_assert_int_lt(order(text("ab"), text("b")), 0);
	ck_assert_int_lt(order(text("a"), text("ab")), 0);
	ck_assert_int_eq(order(text("x"), text("x")), 0);

	struct sql_value a = sql_int(3), b = sql_float(3.0), n = sql_null(), t = text("3");
	int c;
	bool is_null;
	ck_assert_ptr_null(sql_value_compare(&a, &b, &c, &is_null));
	ck_assert(!is_null);
	ck_assert_int_eq(c, 0);
	struct sql_value yes = sql_bool(true), one = sql_float(1.0);
	ck_assert_ptr_null(sql_value_compare(&yes, &one, &c, &is_null)); /* TRUE = 1.0 */
	ck_assert_int_eq(c, 0);
	ck_assert_ptr_null(sql_value_compare(&yes, &a, &c, &is_null)); /* TRUE < 3 */
	ck_assert_int_lt(c, 0);
	ck_assert_ptr_null(sql_value_compare(&a, &n, &c, &is_null));
	ck_assert(is_null);
	err *e = sql_value_compare(&a, &t, &c, &is_null);
	ck_assert(err_is(e, ERR_TYPE));
	err_free(e);
	sql_value_free(&t);
}
END_TEST

static char *arith(enum sql_arith op, struct sql_value a, struct sql_value b)
{
	struct sql_value r;
	err *e = sql_value_arith(op, &a, &b, &r);
	sql_value_free(&a);
	sql_value_free(&b);
	if (e) {
		static char msg[128];
		snprintf(msg, sizeof msg, "error %s", err_msg(e));
		err_free(e);
		return msg;
	}
	return fmt(r);
}

START_TEST(arithmetic)
{
	ck_assert_str_eq(arith(SQL_ADD, sql_int(2), sql_int(3)), "5");
	ck_assert_str_eq(arith(SQL_DIV, sql_int(7), sql_int(2)), "3");
	ck_assert_str_eq(arith(SQL_DIV, sql_int(-7), sql_int(2)), "-3"); /* truncates */
	ck_assert_str_eq(arith(SQL_MOD, sql_int(-7), sql_int(3)), "-1");
	ck_assert_str_eq(arith(SQL_DIV, sql_int(1), sql_int(0)), "NULL");
	ck_assert_str_eq(arith(SQL_MOD, sql_int(1), sql_int(0)), "NULL");
	ck_assert_str_eq(arith(SQL_DIV, sql_float(1), sql_float(0)), "NULL");
	ck_assert_str_eq(arith(SQL_ADD, sql_int(1), sql_float(0.5)), "1.5");
	ck_assert_str_eq(arith(SQL_DIV, sql_float(7), sql_int(2)), "3.5");
	ck_assert_str_eq(arith(SQL_MOD, sql_float(7.5), sql_int(2)), "1.0");
	ck_assert_str_eq(arith(SQL_MUL, sql_null(), sql_int(2)), "NULL");
	ck_assert_str_eq(arith(SQL_ADD, sql_int(INT64_MAX), sql_int(1)), "error integer overflow");
	ck_assert_str_eq(arith(SQL_SUB, sql_int(INT64_MIN), sql_int(1)), "error integer overflow");
	ck_assert_str_eq(arith(SQL_MUL, sql_int(INT64_MAX / 2 + 1), sql_int(2)),
	                 "error integer overflow");
	ck_assert_str_eq(arith(SQL_DIV, sql_int(INT64_MIN), sql_int(-1)), "error integer overflow");
	ck_assert_str_eq(arith(SQL_MOD, sql_int(INT64_MIN), sql_int(-1)), "0");
	ck_assert_str_eq(arith(SQL_ADD, sql_float(1e308), sql_float(1e308)), "inf");
	ck_assert(!strncmp(arith(SQL_ADD, sql_int(1), text("a")), "error", 5));

	struct sql_value r, m = sql_int(INT64_MIN);
	err *e = sql_value_negate(&m, &r);
	ck_assert(err_is(e, ERR_LIMIT));
	err_free(e);
	struct sql_value a = text("ab"), b = sql_int(1), c;
	ck_assert_ptr_null(sql_value_concat(&a, &b, &c));
	ck_assert_str_eq(fmt(c), "ab1");
	sql_value_free(&a);
}
END_TEST

static char *cast(struct sql_value v, enum sql_value_type to)
{
	struct sql_value r;
	err *e = sql_value_cast(&v, to, &r);
	sql_value_free(&v);
	if (e) {
		err_free(e);
		return "error";
	}
	return fmt(r);
}

START_TEST(casts)
{
	ck_assert_str_eq(cast(text("12abc"), SQL_INT), "12");
	ck_assert_str_eq(cast(text("abc"), SQL_INT), "0");
	ck_assert_str_eq(cast(text(" -3.5e1x"), SQL_FLOAT), "-35.0");
	ck_assert_str_eq(cast(text("2.9"), SQL_INT), "2");
	ck_assert_str_eq(cast(sql_float(-2.9), SQL_INT), "-2");
	ck_assert_str_eq(cast(sql_float(1e30), SQL_INT), "error");
	ck_assert_str_eq(cast(sql_int(5), SQL_TEXT), "5");
	ck_assert_str_eq(cast(sql_float(5), SQL_TEXT), "5.0");
	ck_assert_str_eq(cast(sql_bool(true), SQL_INT), "1");
	ck_assert_str_eq(cast(sql_int(0), SQL_BOOL), "FALSE");
	ck_assert_str_eq(cast(text("true"), SQL_BOOL), "TRUE");
	ck_assert_str_eq(cast(text("maybe"), SQL_BOOL), "error");
	ck_assert_str_eq(cast(sql_null(), SQL_INT), "NULL");
}
END_TEST

/* ---- three-valued logic through the evaluator ---- */

static struct sql_bexpr constant(struct sql_value v)
{
	return (struct sql_bexpr){.kind = SQL_BX_CONST, .type = v.type, .value = v};
}

static struct sql_value eval_op(enum sql_op op, struct sql_value a, struct sql_value b)
{
	struct sql_bexpr x = constant(a), y = constant(b);
	struct sql_bexpr *args[2] = {&x, &y};
	struct sql_bexpr e = {.kind = op == SQL_OP_NOT ? SQL_BX_UNARY : SQL_BX_BINARY,
	                      .op = op,
	                      .arg_count = op == SQL_OP_NOT ? 1 : 2,
	                      .args = args};
	struct sql_eval_ctx ctx = {0};
	struct sql_value r;
	ck_assert_ptr_null(sql_bexpr_eval(&e, &ctx, &r));
	return r;
}

START_TEST(three_valued_logic)
{
	struct sql_value T = sql_bool(true), F = sql_bool(false), N = sql_null();
	/* AND */
	ck_assert_str_eq(fmt(eval_op(SQL_OP_AND, T, T)), "TRUE");
	ck_assert_str_eq(fmt(eval_op(SQL_OP_AND, T, N)), "NULL");
	ck_assert_str_eq(fmt(eval_op(SQL_OP_AND, F, N)), "FALSE");
	ck_assert_str_eq(fmt(eval_op(SQL_OP_AND, N, F)), "FALSE");
	ck_assert_str_eq(fmt(eval_op(SQL_OP_AND, N, N)), "NULL");
	/* OR */
	ck_assert_str_eq(fmt(eval_op(SQL_OP_OR, F, F)), "FALSE");
	ck_assert_str_eq(fmt(eval_op(SQL_OP_OR, T, N)), "TRUE");
	ck_assert_str_eq(fmt(eval_op(SQL_OP_OR, N, T)), "TRUE");
	ck_assert_str_eq(fmt(eval_op(SQL_OP_OR, F, N)), "NULL");
	/* NOT */
	ck_assert_str_eq(fmt(eval_op(SQL_OP_NOT, N, N)), "NULL");
	ck_assert_str_eq(fmt(eval_op(SQL_OP_NOT, T, N)), "FALSE");
	/* comparisons */
	ck_assert_str_eq(fmt(eval_op(SQL_OP_EQ, N, N)), "NULL");
	ck_assert_str_eq(fmt(eval_op(SQL_OP_EQ, sql_int(1), sql_float(1.0))), "TRUE");
	ck_assert_str_eq(fmt(eval_op(SQL_OP_LT, sql_int(1), N)), "NULL");
	ck_assert_str_eq(fmt(eval_op(SQL_OP_IS, N, N)), "TRUE");
	ck_assert_str_eq(fmt(eval_op(SQL_OP_IS_NOT, sql_int(1), N)), "TRUE");
	ck_assert_str_eq(fmt(eval_op(SQL_OP_IS, sql_int(2), sql_int(2))), "TRUE");
	/* a condition is true only when TRUE (or a non-zero number, as in SQLite) */
	ck_assert(!sql_value_truth(&N));
	ck_assert(!sql_value_truth(&F));
	struct sql_value two = sql_int(2), zero = sql_float(0.0);
	ck_assert(sql_value_truth(&two));
	ck_assert(!sql_value_truth(&zero));
}
END_TEST

START_TEST(like)
{
	ck_assert(sql_like("hello", 5, "h%o", 3));
	ck_assert(sql_like("hello", 5, "H_LLO", 5)); /* ASCII case-insensitive */
	ck_assert(!sql_like("hello", 5, "h_o", 3));
	ck_assert(sql_like("", 0, "%", 1));
	ck_assert(!sql_like("", 0, "_", 1));
	ck_assert(sql_like("caf\xc3\xa9", 5, "caf_", 4)); /* '_' is one code point */
	ck_assert(sql_like("abcabc", 6, "%b%c", 4));
	ck_assert(!sql_like("abcabd", 6, "%b%c", 4));
	/* many '%' stay cheap: no exponential backtracking */
	char text[2001];
	memset(text, 'a', 2000);
	text[2000] = '\0';
	ck_assert(!sql_like(text, 2000, "%a%a%a%a%a%a%a%a%b", 18));
}
END_TEST

static char *call(enum sql_func f, struct sql_value *args, uint32_t n)
{
	struct sql_value r;
	err *e = sql_func_call(f, args, n, &r);
	sql_values_free(args, n);
	if (e) {
		err_free(e);
		return "error";
	}
	return fmt(r);
}

START_TEST(functions)
{
	struct sql_value a[3];
	a[0] = sql_int(-5);
	ck_assert_str_eq(call(SQL_FUNC_ABS, a, 1), "5");
	a[0] = sql_int(INT64_MIN);
	ck_assert_str_eq(call(SQL_FUNC_ABS, a, 1), "error");
	a[0] = sql_null(), a[1] = sql_int(2), a[2] = sql_int(3);
	ck_assert_str_eq(call(SQL_FUNC_COALESCE, a, 3), "2");
	a[0] = sql_int(2), a[1] = sql_float(2.0);
	ck_assert_str_eq(call(SQL_FUNC_NULLIF, a, 2), "NULL");
	a[0] = text("h\xc3\xa9llo");
	ck_assert_str_eq(call(SQL_FUNC_LENGTH, a, 1), "5");
	a[0] = text("MiXed");
	ck_assert_str_eq(call(SQL_FUNC_UPPER, a, 1), "MIXED");
	a[0] = text("MiXed");
	ck_assert_str_eq(call(SQL_FUNC_LOWER, a, 1), "mixed");
	a[0] = text("abcdef"), a[1] = sql_int(2), a[2] = sql_int(3);
	ck_assert_str_eq(call(SQL_FUNC_SUBSTR, a, 3), "bcd");
	a[0] = text("abcdef"), a[1] = sql_int(-2);
	ck_assert_str_eq(call(SQL_FUNC_SUBSTR, a, 2), "ef");
	a[0] = text("abcdef"), a[1] = sql_int(0), a[2] = sql_int(2);
	ck_assert_str_eq(call(SQL_FUNC_SUBSTR, a, 3), "a");
	a[0] = sql_float(2.567), a[1] = sql_int(2);
	ck_assert_str_eq(call(SQL_FUNC_ROUND, a, 2), "2.57");
	a[0] = sql_float(-2.5);
	ck_assert_str_eq(call(SQL_FUNC_ROUND, a, 1), "-3.0");
	a[0] = text("  ab  ");
	ck_assert_str_eq(call(SQL_FUNC_TRIM, a, 1), "ab");
	a[0] = text("xxaxx"), a[1] = text("x");
	ck_assert_str_eq(call(SQL_FUNC_LTRIM, a, 2), "axx");
	a[0] = text("xxaxx"), a[1] = text("x");
	ck_assert_str_eq(call(SQL_FUNC_RTRIM, a, 2), "xxa");
	a[0] = text("banana"), a[1] = text("an"), a[2] = text("AN");
	ck_assert_str_eq(call(SQL_FUNC_REPLACE, a, 3), "bANANa");
	a[0] = text("abc"), a[1] = text(""), a[2] = text("z");
	ck_assert_str_eq(call(SQL_FUNC_REPLACE, a, 3), "abc");
	a[0] = text("h\xc3\xa9llo"), a[1] = text("l");
	ck_assert_str_eq(call(SQL_FUNC_INSTR, a, 2), "3"); /* characters, not bytes */
	a[0] = text("abc"), a[1] = text("z");
	ck_assert_str_eq(call(SQL_FUNC_INSTR, a, 2), "0");
	a[0] = sql_float(1.5);
	ck_assert_str_eq(call(SQL_FUNC_TYPEOF, a, 1), "float");
	a[0] = sql_int(3), a[1] = sql_float(1.5), a[2] = sql_int(2);
	ck_assert_str_eq(call(SQL_FUNC_MIN, a, 3), "1.5");
	a[0] = sql_int(3), a[1] = sql_float(1.5), a[2] = sql_int(2);
	ck_assert_str_eq(call(SQL_FUNC_MAX, a, 3), "3");
	a[0] = sql_int(3), a[1] = sql_null();
	ck_assert_str_eq(call(SQL_FUNC_MAX, a, 2), "NULL");
}
END_TEST

START_TEST(row_and_key_encoding)
{
	struct sql_value in[5] = {sql_null(), sql_bool(true), sql_int(-7), sql_float(2.5),
	                          text("x\xc3\xa9")};
	struct sql_value out[5];
	struct buf b;
	buf_init(&b, 1024);
	ck_assert_ptr_null(sql_row_encode(in, 5, &b));
	ck_assert_ptr_null(sql_row_decode(buf_slice(&b), out, 5));
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(sql_value_order(&in[i], &out[i]), 0);
	sql_values_free(out, 5);
	/* wrong width and garbage are errors, never data */
	err *e = sql_row_decode(buf_slice(&b), out, 4);
	ck_assert_ptr_nonnull(e);
	err_free(e);
	uint8_t junk[3] = {0x93, 0xc1, 0x00};
	e = sql_row_decode(slice_of(junk, 3), out, 3);
	ck_assert_ptr_nonnull(e);
	err_free(e);

	/* keys order like values */
	struct buf k1, k2;
	buf_init(&k1, 256);
	buf_init(&k2, 256);
	struct sql_value x = sql_int(-3), y = sql_int(10);
	ck_assert_ptr_null(sql_key_row(&k1, 7, &x));
	ck_assert_ptr_null(sql_key_row(&k2, 7, &y));
	ck_assert_int_lt(slice_cmp(buf_slice(&k1), buf_slice(&k2)), 0);
	struct slice cur = buf_slice(&k1);
	struct buf prefix;
	buf_init(&prefix, 64);
	ck_assert_ptr_null(sql_key_row_prefix(&prefix, 7));
	cur.ptr += prefix.len;
	cur.len -= prefix.len;
	struct sql_value back;
	ck_assert_ptr_null(sql_key_get_value(&cur, &back));
	ck_assert_int_eq(back.u.i, -3);
	ck_assert_uint_eq(cur.len, 0);
	buf_free(&prefix);
	buf_free(&k1);
	buf_free(&k2);
	buf_free(&b);
	sql_values_free(in, 5);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sql_value");
	TCase *t = tcase_create("values");
	tcase_add_test(t, rendering);
	tcase_add_test(t, utf8);
	tcase_add_test(t, ordering);
	tcase_add_test(t, arithmetic);
	tcase_add_test(t, casts);
	tcase_add_test(t, three_valued_logic);
	tcase_add_test(t, like);
	tcase_add_test(t, functions);
	tcase_add_test(t, row_and_key_encoding);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return check_run(suite());
}
