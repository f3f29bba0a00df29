/*
 * value.c — SQL values (see value.h for the semantics promised here).
 */
#include "sql/value.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *sql_value_type_name(enum sql_value_type t)
{
	switch (t) {
	case SQL_NULL: return "NULL";
	case SQL_BOOL: return "BOOLEAN";
	case SQL_INT: return "INTEGER";
	case SQL_FLOAT: return "FLOAT";
	case SQL_TEXT: return "TEXT";
	}
	return "?";
}

struct sql_value sql_float(double f)
{
	if (isnan(f))
		return sql_null();
	return (struct sql_value){.type = SQL_FLOAT, .u.f = f};
}

bool sql_float_is_int(double f, int64_t *out)
{
	/* the range test comes first: casting a double beyond it is undefined behaviour */
	if (!(f >= -9223372036854775808.0 && f < 9223372036854775808.0) || f != trunc(f))
		return false;
	*out = (int64_t)f;
	return true;
}

/* ---- text and UTF-8 ---- */

bool sql_utf8_valid(const char *bytes, size_t len)
{
	const unsigned char *p = (const unsigned char *)bytes;
	size_t i = 0;
	while (i < len) {
		uint64_t eight;
		if (len - i >= 8) { /* eight ASCII bytes at a time */
			memcpy(&eight, p + i, 8);
			if ((eight & UINT64_C(0x8080808080808080)) == 0) {
				i += 8;
				continue;
			}
		}
		unsigned c = p[i];
		size_t n;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + n >= len)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3F);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += n + 1;
	}
	return true;
}

size_t sql_utf8_length(const char *bytes, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)bytes[i] & 0xC0) != 0x80)
			n++;
	return n;
}

err *sql_text(const char *bytes, size_t len, struct sql_value *out)
{
	*out = sql_null();
	if (len > SQL_TEXT_MAX_BYTES)
		return err_new(ERR_LIMIT, "text of %zu bytes is longer than the limit of %d", len,
		               SQL_TEXT_MAX_BYTES);
	if (!sql_utf8_valid(bytes, len))
		return err_new(ERR_TYPE, "text is not valid UTF-8");
	char *p = malloc(len + 1);
	if (!p)
		return err_new(ERR_NOMEM, "out of memory for text");
	if (len)
		memcpy(p, bytes, len);
	p[len] = '\0';
	out->type = SQL_TEXT;
	out->u.s.ptr = p;
	out->u.s.len = (uint32_t)len;
	return NULL;
}

void sql_value_free_text(struct sql_value *v)
{
	assert(v->type == SQL_TEXT);
	free(v->u.s.ptr);
	*v = sql_null();
}

err *sql_value_copy_text(struct sql_value *dst, const struct sql_value *src)
{
	assert(src->type == SQL_TEXT);
	char *p = malloc((size_t)src->u.s.len + 1);
	if (!p) {
		*dst = sql_null();
		return err_new(ERR_NOMEM, "out of memory copying text");
	}
	memcpy(p, src->u.s.ptr, (size_t)src->u.s.len + 1);
	dst->type = SQL_TEXT;
	dst->u.s.ptr = p;
	dst->u.s.len = src->u.s.len;
	return NULL;
}

/* ---- rendering ---- */

void sql_format_float(double f, char *buf, size_t size)
{
	assert(size >= 32);
	if (isinf(f)) {
		snprintf(buf, size, f > 0 ? "inf" : "-inf");
		return;
	}
	snprintf(buf, size, "%.15g", f);
	if (strspn(buf, "-0123456789") == strlen(buf))
		strncat(buf, ".0", size - strlen(buf) - 1);
}

err *sql_value_format(const struct sql_value *v, struct buf *out)
{
	char tmp[48];
	switch (v->type) {
	case SQL_NULL: return buf_append(out, "NULL", 4);
	case SQL_BOOL: return v->u.b ? buf_append(out, "TRUE", 4) : buf_append(out, "FALSE", 5);
	case SQL_INT:
		snprintf(tmp, sizeof tmp, "%lld", (long long)v->u.i);
		return buf_append(out, tmp, strlen(tmp));
	case SQL_FLOAT:
		sql_format_float(v->u.f, tmp, sizeof tmp);
		return buf_append(out, tmp, strlen(tmp));
	case SQL_TEXT: return buf_append(out, v->u.s.ptr, v->u.s.len);
	}
	return err_new(ERR_INTERNAL, "unknown value type %d", (int)v->type);
}

/* ---- ordering and comparison ---- */

static int type_rank(enum sql_value_type t)
{
	switch (t) {
	case SQL_NULL: return 0;
	case SQL_BOOL:
	case SQL_INT:
	case SQL_FLOAT: return 1;
	case SQL_TEXT: return 2;
	}
	return 3;
}

/* A BOOLEAN as the number it counts as (0 or 1); any other value as it is. */
static struct sql_value as_number(const struct sql_value *v)
{
	return v->type == SQL_BOOL ? sql_int(v->u.b) : *v;
}

/* Compares an integer with a double exactly (no rounding of large integers). */
static int cmp_int_float(int64_t i, double f)
{
	if (f < -9223372036854775808.0)
		return 1;
	if (f >= 9223372036854775808.0)
		return -1;
	double t = trunc(f);
	int64_t fi = (int64_t)t;
	if (i < fi)
		return -1;
	if (i > fi)
		return 1;
	/* i == trunc(f): the fraction decides */
	return f > t ? -1 : (f < t ? 1 : 0);
}

static int cmp3(double a, double b)
{
	return a < b ? -1 : (a > b ? 1 : 0);
}

static int cmp_numbers(const struct sql_value *a, const struct sql_value *b)
{
	if (a->type == SQL_INT && b->type == SQL_INT)
		return a->u.i < b->u.i ? -1 : (a->u.i > b->u.i ? 1 : 0);
	if (a->type == SQL_INT)
		return cmp_int_float(a->u.i, b->u.f);
	if (b->type == SQL_INT)
		return -cmp_int_float(b->u.i, a->u.f);
	return cmp3(a->u.f, b->u.f);
}

static int cmp_text(const struct sql_value *a, const struct sql_value *b)
{
	uint32_t n = a->u.s.len < b->u.s.len ? a->u.s.len : b->u.s.len;
	int c = n ? memcmp(a->u.s.ptr, b->u.s.ptr, n) : 0;
	if (c)
		return c < 0 ? -1 : 1;
	return a->u.s.len < b->u.s.len ? -1 : (a->u.s.len > b->u.s.len ? 1 : 0);
}

int sql_value_order(const struct sql_value *a, const struct sql_value *b)
{
	int ra = type_rank(a->type), rb = type_rank(b->type);
	if (ra != rb)
		return ra < rb ? -1 : 1;
	switch (a->type) {
	case SQL_NULL: return 0;
	case SQL_BOOL:
	case SQL_INT:
	case SQL_FLOAT: {
		struct sql_value x = as_number(a), y = as_number(b);
		int c = cmp_numbers(&x, &y);
		if (c == 0 && a->type != b->type) /* BOOLEAN, INTEGER, FLOAT: the enum's order */
			return a->type < b->type ? -1 : 1;
		return c;
	}
	case SQL_TEXT: return cmp_text(a, b);
	}
	return 0;
}

err *sql_value_compare(const struct sql_value *a, const struct sql_value *b, int *cmp,
                       bool *is_null)
{
	*cmp = 0;
	*is_null = a->type == SQL_NULL || b->type == SQL_NULL;
	if (*is_null)
		return NULL;
	struct sql_value x = as_number(a), y = as_number(b);
	if (sql_value_is_numeric(&x) && sql_value_is_numeric(&y)) {
		*cmp = cmp_numbers(&x, &y);
		return NULL;
	}
	if (a->type != b->type)
		return err_new(ERR_TYPE, "cannot compare %s with %s", sql_value_type_name(a->type),
		               sql_value_type_name(b->type));
	assert(a->type == SQL_TEXT);
	*cmp = cmp_text(a, b);
	return NULL;
}

/* ---- arithmetic ---- */

static err *overflow(void)
{
	return err_new(ERR_LIMIT, "integer overflow");
}

static err *arith_int(enum sql_arith op, int64_t x, int64_t y, struct sql_value *out)
{
	int64_t r = 0;
	switch (op) {
	case SQL_ADD:
		if (__builtin_add_overflow(x, y, &r))
			return overflow();
		break;
	case SQL_SUB:
		if (__builtin_sub_overflow(x, y, &r))
			return overflow();
		break;
	case SQL_MUL:
		if (__builtin_mul_overflow(x, y, &r))
			return overflow();
		break;
	case SQL_DIV:
		if (y == 0) {
			*out = sql_null();
			return NULL;
		}
		if (x == INT64_MIN && y == -1)
			return overflow();
		r = x / y;
		break;
	case SQL_MOD:
		if (y == 0) {
			*out = sql_null();
			return NULL;
		}
		r = (y == -1) ? 0 : x % y;
		break;
	}
	*out = sql_int(r);
	return NULL;
}

/* A number's integer part, as SQLite's % takes it: beyond the integers, the nearer end. */
static int64_t int_part(const struct sql_value *v)
{
	if (v->type == SQL_INT)
		return v->u.i;
	double t = trunc(v->u.f);
	if (t >= 9223372036854775808.0)
		return INT64_MAX;
	if (t <= -9223372036854775808.0)
		return INT64_MIN;
	return t == t ? (int64_t)t : 0;
}

static double as_double(const struct sql_value *v)
{
	return v->type == SQL_INT ? (double)v->u.i : v->u.f;
}

err *sql_value_arith(enum sql_arith op, const struct sql_value *a, const struct sql_value *b,
                     struct sql_value *out)
{
	*out = sql_null();
	if (a->type == SQL_NULL || b->type == SQL_NULL)
		return NULL;
	if (!sql_value_is_numeric(a) || !sql_value_is_numeric(b))
		return err_new(ERR_TYPE, "arithmetic on %s and %s", sql_value_type_name(a->type),
		               sql_value_type_name(b->type));
	if (a->type == SQL_INT && b->type == SQL_INT)
		return arith_int(op, a->u.i, b->u.i, out);
	double x = as_double(a), y = as_double(b);
	switch (op) {
	case SQL_ADD: *out = sql_float(x + y); break;
	case SQL_SUB: *out = sql_float(x - y); break;
	case SQL_MUL: *out = sql_float(x * y); break;
	case SQL_DIV: *out = y == 0.0 ? sql_null() : sql_float(x / y); break;
	case SQL_MOD: {
		/* SQLite computes % on the integer parts of its operands, as a FLOAT here */
		struct sql_value iv;
		TRY(arith_int(SQL_MOD, int_part(a), int_part(b), &iv));
		*out = iv.type == SQL_NULL ? iv : sql_float((double)iv.u.i);
		break;
	}
	}
	return NULL;
}

err *sql_value_negate(const struct sql_value *a, struct sql_value *out)
{
	*out = sql_null();
	switch (a->type) {
	case SQL_NULL: return NULL;
	case SQL_INT:
		if (a->u.i == INT64_MIN)
			return overflow();
		*out = sql_int(-a->u.i);
		return NULL;
	case SQL_FLOAT: *out = sql_float(-a->u.f); return NULL;
	default: return err_new(ERR_TYPE, "cannot negate %s", sql_value_type_name(a->type));
	}
}

err *sql_value_concat(const struct sql_value *a, const struct sql_value *b, struct sql_value *out)
{
	*out = sql_null();
	if (a->type == SQL_NULL || b->type == SQL_NULL)
		return NULL;
	struct buf tmp;
	buf_init(&tmp, SQL_TEXT_MAX_BYTES);
	err *e = sql_value_format(a, &tmp);
	if (!e)
		e = sql_value_format(b, &tmp);
	if (!e)
		e = sql_text(tmp.len ? (const char *)tmp.data : "", tmp.len, out);
	buf_free(&tmp);
	if (err_is(e, ERR_LIMIT)) {
		err_free(e);
		e = err_new(ERR_LIMIT, "text too long: || gives more than %d bytes",
		            SQL_TEXT_MAX_BYTES);
	}
	return e;
}

/* ---- casts ---- */

/* Where a numeric prefix of text begins: past leading white space. */
static size_t text_number_start(const char *s, size_t len)
{
	size_t k = 0;
	while (k < len && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r'))
		k++;
	return k;
}

/* The longest numeric prefix of text (0 if there is none) as a FLOAT, as SQLite reads it. */
static double text_float(const char *s, size_t len)
{
	size_t k = text_number_start(s, len), start = k;
	if (k < len && (s[k] == '+' || s[k] == '-'))
		k++;
	bool digits = false, dot = false, exp = false;
	while (k < len) {
		char c = s[k];
		if (c >= '0' && c <= '9') {
			digits = true;
		} else if (c == '.' && !dot && !exp) {
			dot = true;
		} else if ((c == 'e' || c == 'E') && digits && !exp && k + 1 < len &&
		           ((s[k + 1] >= '0' && s[k + 1] <= '9') ||
		            ((s[k + 1] == '+' || s[k + 1] == '-') && k + 2 < len &&
		             s[k + 2] >= '0' && s[k + 2] <= '9'))) {
			exp = true;
			if (s[k + 1] == '+' || s[k + 1] == '-')
				k++;
		} else {
			break;
		}
		k++;
	}
	char tmp[128];
	size_t n = k - start;
	if (!digits || n >= sizeof tmp)
		return 0;
	memcpy(tmp, s + start, n);
	tmp[n] = '\0';
	return strtod(tmp, NULL);
}

/*
 * The longest integer prefix of text (0 if there is none), as SQLite reads it for CAST
 * AS INTEGER: a sign and digits, so '2.5e1' is 2; ERR_LIMIT past 64 bits.
 */
static err *text_integer(const char *s, size_t len, struct sql_value *out)
{
	size_t k = text_number_start(s, len), start = k;
	bool negative = k < len && s[k] == '-';
	if (k < len && (s[k] == '+' || s[k] == '-'))
		k++;
	uint64_t magnitude = 0, limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	size_t end = k;
	while (end < len && s[end] >= '0' && s[end] <= '9')
		end++;
	for (; k < end; k++) {
		uint64_t digit = (uint64_t)(s[k] - '0');
		if (magnitude > (limit - digit) / 10)
			return err_new(ERR_LIMIT,
			               "integer overflow: %.*s%s does not fit in INTEGER",
			               (int)(end - start < 40 ? end - start : 40), s + start,
			               end - start > 40 ? "..." : "");
		magnitude = magnitude * 10 + digit;
	}
	if (!negative)
		*out = sql_int((int64_t)magnitude);
	else
		*out =
		    sql_int(magnitude == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)magnitude);
	return NULL;
}

static err *float_to_int(double f, struct sql_value *out)
{
	if (!(f >= -9223372036854775808.0 && f < 9223372036854775808.0)) /* [-2^63, 2^63) */
		return err_new(ERR_LIMIT, "integer overflow: %g does not fit in INTEGER", f);
	*out = sql_int((int64_t)f);
	return NULL;
}

err *sql_value_cast(const struct sql_value *v, enum sql_value_type to, struct sql_value *out)
{
	*out = sql_null();
	if (v->type == SQL_NULL || to == SQL_NULL)
		return NULL;
	if (to == SQL_TEXT) {
		if (v->type == SQL_TEXT)
			return sql_value_copy(out, v);
		struct sql_value empty;
		TRY(sql_text("", 0, &empty));
		err *e = sql_value_concat(v, &empty, out);
		sql_value_free(&empty);
		return e;
	}
	switch (v->type) {
	case SQL_BOOL:
		if (to == SQL_BOOL)
			*out = *v;
		else if (to == SQL_INT)
			*out = sql_int(v->u.b);
		else
			*out = sql_float(v->u.b);
		return NULL;
	case SQL_INT:
		if (to == SQL_BOOL)
			*out = sql_bool(v->u.i != 0);
		else if (to == SQL_INT)
			*out = *v;
		else
			*out = sql_float((double)v->u.i);
		return NULL;
	case SQL_FLOAT:
		if (to == SQL_BOOL)
			*out = sql_bool(v->u.f != 0.0);
		else if (to == SQL_INT)
			return float_to_int(v->u.f, out);
		else
			*out = *v;
		return NULL;
	case SQL_TEXT: {
		if (to == SQL_BOOL) {
			const char *s = v->u.s.ptr;
			if (!strcasecmp(s, "true") || !strcmp(s, "1"))
				*out = sql_bool(true);
			else if (!strcasecmp(s, "false") || !strcmp(s, "0"))
				*out = sql_bool(false);
			else
				return err_new(ERR_TYPE, "cannot cast '%s' to BOOLEAN", s);
			return NULL;
		}
		if (to == SQL_INT)
			return text_integer(v->u.s.ptr, v->u.s.len, out);
		*out = sql_float(text_float(v->u.s.ptr, v->u.s.len));
		return NULL;
	}
	case SQL_NULL: return NULL;
	}
	return err_new(ERR_INTERNAL, "unknown value type");
}
