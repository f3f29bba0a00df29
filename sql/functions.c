/*
 * functions.c — scalar SQL functions: abs, coalesce, ifnull, nullif, length, upper, lower,
 * substr, round.
 *
 * Argument counts and static types are checked by the planner (sql/planner_expr.c); these
 * functions still check the runtime types they rely on, because an argument whose static
 * type was unknown (a NULL literal) may reach them.
 */
#include "sql/expr.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static err *fn_abs(const struct sql_value *a, struct sql_value *out)
{
	switch (a->type) {
	case SQL_NULL: *out = sql_null(); return NULL;
	case SQL_INT:
		if (a->u.i == INT64_MIN)
			return err_new(ERR_LIMIT, "integer overflow");
		*out = sql_int(a->u.i < 0 ? -a->u.i : a->u.i);
		return NULL;
	case SQL_FLOAT: *out = sql_float(fabs(a->u.f)); return NULL;
	default: return err_new(ERR_TYPE, "abs() of %s", sql_value_type_name(a->type));
	}
}

static err *fn_case(const struct sql_value *a, bool upper, struct sql_value *out)
{
	if (a->type == SQL_NULL) {
		*out = sql_null();
		return NULL;
	}
	TRY(sql_value_cast(a, SQL_TEXT, out));
	for (uint32_t i = 0; i < out->u.s.len; i++) {
		char c = out->u.s.ptr[i];
		if (upper && c >= 'a' && c <= 'z')
			out->u.s.ptr[i] = (char)(c - 'a' + 'A');
		else if (!upper && c >= 'A' && c <= 'Z')
			out->u.s.ptr[i] = (char)(c - 'A' + 'a');
	}
	return NULL;
}

static err *fn_length(const struct sql_value *a, struct sql_value *out)
{
	if (a->type == SQL_NULL) {
		*out = sql_null();
		return NULL;
	}
	struct sql_value t;
	TRY(sql_value_cast(a, SQL_TEXT, &t));
	*out = sql_int((int64_t)sql_utf8_length(t.u.s.ptr, t.u.s.len));
	sql_value_free(&t);
	return NULL;
}

/* Byte offset of code point `cp` (0-based) in valid UTF-8, clamped to len. */
static size_t cp_offset(const char *s, size_t len, int64_t cp)
{
	size_t i = 0;
	while (i < len && cp > 0) {
		i++;
		while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		cp--;
	}
	return i;
}

/* substr(x, start [, count]) with SQLite's 1-based and negative-start rules. */
static err *fn_substr(struct sql_value *args, uint32_t n, struct sql_value *out)
{
	*out = sql_null();
	for (uint32_t i = 0; i < n; i++)
		if (args[i].type == SQL_NULL)
			return NULL;
	if (args[1].type != SQL_INT || (n == 3 && args[2].type != SQL_INT))
		return err_new(ERR_TYPE, "substr() positions must be INTEGER");
	struct sql_value t;
	TRY(sql_value_cast(&args[0], SQL_TEXT, &t));
	int64_t chars = (int64_t)sql_utf8_length(t.u.s.ptr, t.u.s.len);
	int64_t start = args[1].u.i;
	int64_t count = n == 3 ? args[2].u.i : INT64_MAX / 4;
	if (start < 0)
		start = chars + start + 1;
	else if (start == 0) {
		if (count > 0)
			count--;
		start = 1;
	}
	if (count < 0) {
		/* a negative count takes characters before start */
		int64_t from = start + count;
		count = -count;
		if (from < 1) {
			count += from - 1;
			from = 1;
		}
		start = from;
	}
	int64_t first = start - 1;
	if (first < 0) {
		count += first;
		first = 0;
	}
	if (count < 0)
		count = 0;
	if (first > chars)
		first = chars;
	int64_t last = count > chars - first ? chars : first + count;
	size_t b0 = cp_offset(t.u.s.ptr, t.u.s.len, first);
	size_t b1 = cp_offset(t.u.s.ptr, t.u.s.len, last);
	err *e = sql_text(t.u.s.ptr + b0, b1 - b0, out);
	sql_value_free(&t);
	return e;
}

static err *fn_round(struct sql_value *args, uint32_t n, struct sql_value *out)
{
	*out = sql_null();
	if (args[0].type == SQL_NULL || (n == 2 && args[1].type == SQL_NULL))
		return NULL;
	if (!sql_value_is_numeric(&args[0]) || (n == 2 && args[1].type != SQL_INT))
		return err_new(ERR_TYPE, "round() takes a number and an INTEGER digit count");
	double x = args[0].type == SQL_INT ? (double)args[0].u.i : args[0].u.f;
	int64_t digits = n == 2 ? args[1].u.i : 0;
	if (digits < 0)
		digits = 0;
	if (digits > 30)
		digits = 30;
	double scale = pow(10.0, (double)digits);
	double r = round(x * scale) / scale;
	if (!isfinite(r))
		r = x;
	*out = sql_float(r);
	return NULL;
}

err *sql_func_call(enum sql_func func, struct sql_value *args, uint32_t n, struct sql_value *out)
{
	*out = sql_null();
	switch (func) {
	case SQL_FUNC_ABS: assert(n == 1); return fn_abs(&args[0], out);
	case SQL_FUNC_COALESCE:
	case SQL_FUNC_IFNULL:
		for (uint32_t i = 0; i < n; i++)
			if (args[i].type != SQL_NULL)
				return sql_value_copy(out, &args[i]);
		return NULL;
	case SQL_FUNC_NULLIF: {
		assert(n == 2);
		if (args[0].type != SQL_NULL && args[1].type != SQL_NULL) {
			int c;
			bool is_null;
			TRY(sql_value_compare(&args[0], &args[1], &c, &is_null));
			if (c == 0)
				return NULL;
		}
		return sql_value_copy(out, &args[0]);
	}
	case SQL_FUNC_LENGTH: assert(n == 1); return fn_length(&args[0], out);
	case SQL_FUNC_UPPER: assert(n == 1); return fn_case(&args[0], true, out);
	case SQL_FUNC_LOWER: assert(n == 1); return fn_case(&args[0], false, out);
	case SQL_FUNC_SUBSTR: assert(n == 2 || n == 3); return fn_substr(args, n, out);
	case SQL_FUNC_ROUND: assert(n == 1 || n == 2); return fn_round(args, n, out);
	}
	return err_new(ERR_INTERNAL, "unknown function %d", (int)func);
}
