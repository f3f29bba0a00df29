/*
 * functions.c — scalar SQL functions: abs, coalesce, ifnull, nullif, length, upper, lower,
 * substr, round, trim/ltrim/rtrim, replace, instr, typeof, and min/max of several values.
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

/* Farther than any text's length from either end; two such values sum without overflow. */
#define SUBSTR_FAR ((int64_t)1 << 60)

static int64_t clamp_far(int64_t v)
{
	return v > SUBSTR_FAR ? SUBSTR_FAR : v < -SUBSTR_FAR ? -SUBSTR_FAR : v;
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
	/* positions beyond any text act alike */
	int64_t start = clamp_far(args[1].u.i);
	int64_t count = n == 3 ? clamp_far(args[2].u.i) : SUBSTR_FAR;
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
	double scaled = x * pow(10.0, (double)digits);
	/* from 2^52 on a double has no fraction left to round */
	double r = isfinite(scaled) && fabs(scaled) < 4503599627370496.0
	               ? round(scaled) / pow(10.0, (double)digits)
	               : x;
	*out = sql_float(r);
	return NULL;
}

/* The length of the UTF-8 character s begins with (valid text), at most n. */
static size_t char_len(const char *s, size_t n)
{
	unsigned char lead = (unsigned char)s[0];
	size_t len = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
	return len <= n ? len : n;
}

/* Whether the character c (len bytes) is one of the characters of `set`. */
static bool char_in_set(const char *set, size_t set_len, const char *c, size_t len)
{
	for (size_t k = 0, step; k < set_len; k += step) {
		step = char_len(set + k, set_len - k);
		if (step == len && !memcmp(set + k, c, len))
			return true;
	}
	return false;
}

/* trim(x [, chars]): strips the characters of `chars` (default a space) from the chosen ends. */
static err *fn_trim(struct sql_value *args, uint32_t n, bool left, bool right,
                    struct sql_value *out)
{
	if (args[0].type == SQL_NULL || (n == 2 && args[1].type == SQL_NULL))
		return NULL;
	struct sql_value t, c = sql_null();
	TRY(sql_value_cast(&args[0], SQL_TEXT, &t));
	err *e = n == 2 ? sql_value_cast(&args[1], SQL_TEXT, &c) : NULL;
	const char *set = n == 2 && !e ? c.u.s.ptr : " ";
	size_t set_len = n == 2 && !e ? c.u.s.len : 1;
	const char *x = t.u.s.ptr;
	size_t from = 0, to = t.u.s.len;
	while (!e && left && from < to) {
		size_t len = char_len(x + from, to - from);
		if (!char_in_set(set, set_len, x + from, len))
			break;
		from += len;
	}
	while (!e && right && to > from) {
		size_t last = to - 1; /* back to the last character's first byte */
		while (last > from && ((unsigned char)x[last] & 0xC0) == 0x80)
			last--;
		if (!char_in_set(set, set_len, x + last, to - last))
			break;
		to = last;
	}
	if (!e)
		e = sql_text(x + from, to - from, out);
	sql_value_free(&t);
	sql_value_free(&c);
	return e;
}

/* replace(x, from, to): every occurrence of `from` in x replaced by `to`. */
static err *fn_replace(struct sql_value *args, struct sql_value *out)
{
	for (int i = 0; i < 3; i++)
		if (args[i].type == SQL_NULL)
			return NULL;
	struct sql_value v[3];
	err *e = NULL;
	int made = 0;
	for (; made < 3 && !e; made++)
		e = sql_value_cast(&args[made], SQL_TEXT, &v[made]);
	if (e) {
		sql_values_free(v, (uint32_t)made - 1);
		return e;
	}
	struct buf b;
	buf_init(&b, SQL_TEXT_MAX_BYTES);
	const char *s = v[0].u.s.ptr, *f = v[1].u.s.ptr;
	size_t sl = v[0].u.s.len, fl = v[1].u.s.len;
	for (size_t i = 0; i < sl && !e;) {
		if (fl && i + fl <= sl && !memcmp(s + i, f, fl)) {
			e = buf_append(&b, v[2].u.s.ptr, v[2].u.s.len);
			i += fl;
		} else {
			e = buf_append(&b, s + i, 1);
			i++;
		}
	}
	if (!e)
		e = sql_text(b.len ? (const char *)b.data : "", b.len, out);
	buf_free(&b);
	sql_values_free(v, 3);
	return e;
}

/* instr(x, y): the 1-based character position of the first y in x, 0 if none. */
static err *fn_instr(struct sql_value *args, struct sql_value *out)
{
	if (args[0].type == SQL_NULL || args[1].type == SQL_NULL)
		return NULL;
	struct sql_value x, y;
	TRY(sql_value_cast(&args[0], SQL_TEXT, &x));
	err *e = sql_value_cast(&args[1], SQL_TEXT, &y);
	if (!e) {
		const char *hit = memmem(x.u.s.ptr, x.u.s.len, y.u.s.ptr, y.u.s.len);
		*out = sql_int(
		    hit ? (int64_t)sql_utf8_length(x.u.s.ptr, (size_t)(hit - x.u.s.ptr)) + 1 : 0);
		sql_value_free(&y);
	}
	sql_value_free(&x);
	return e;
}

/* min/max of several values: NULL if any is NULL (SQLite), else the least/greatest. */
static err *fn_extreme(struct sql_value *args, uint32_t n, bool want_max, struct sql_value *out)
{
	uint32_t best = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (args[i].type == SQL_NULL)
			return NULL;
		int c = sql_value_order(&args[i], &args[best]);
		if ((want_max && c > 0) || (!want_max && c < 0))
			best = i;
	}
	return sql_value_copy(out, &args[best]);
}

static const char *type_word(enum sql_value_type t)
{
	switch (t) {
	case SQL_NULL: return "null";
	case SQL_BOOL: return "boolean";
	case SQL_INT: return "integer";
	case SQL_FLOAT: return "float";
	case SQL_TEXT: return "text";
	}
	return "?";
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
	case SQL_FUNC_TRIM: return fn_trim(args, n, true, true, out);
	case SQL_FUNC_LTRIM: return fn_trim(args, n, true, false, out);
	case SQL_FUNC_RTRIM: return fn_trim(args, n, false, true, out);
	case SQL_FUNC_REPLACE: assert(n == 3); return fn_replace(args, out);
	case SQL_FUNC_INSTR: assert(n == 2); return fn_instr(args, out);
	case SQL_FUNC_TYPEOF: {
		const char *w = type_word(args[0].type);
		return sql_text(w, strlen(w), out);
	}
	case SQL_FUNC_MIN:
	case SQL_FUNC_MAX: return fn_extreme(args, n, func == SQL_FUNC_MAX, out);
	}
	return err_new(ERR_INTERNAL, "unknown function %d", (int)func);
}
