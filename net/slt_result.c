/*
 * slt_result.c — rendering, sorting and hashing query results for the sqllogictest runner.
 */
#include "net/slt_result.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- one value ---- */

/* Truncates toward zero, saturating at the int64 range (SQLite's float-to-integer rule). */
static int64_t slt__float_to_int(double f)
{
	if (f >= 9223372036854775807.0)
		return INT64_MAX;
	if (f <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)f;
}

static err *slt__appendf(struct buf *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static err *slt__appendf(struct buf *out, const char *fmt, ...)
{
	char text[64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	assert(n >= 0 && (size_t)n < sizeof text);
	return buf_append(out, text, (size_t)n);
}

static err *slt__render_int(const struct sql_value *v, struct buf *out)
{
	int64_t i = 0;
	switch (v->type) {
	case SQL_INT: i = v->u.i; break;
	case SQL_FLOAT: i = slt__float_to_int(v->u.f); break;
	case SQL_BOOL: i = v->u.b ? 1 : 0; break;
	case SQL_TEXT: {
		struct sql_value cast;
		TRY(sql_value_cast(v, SQL_INT, &cast));
		i = cast.type == SQL_INT ? cast.u.i : 0;
		sql_value_free(&cast);
		break;
	}
	case SQL_NULL: assert(!"NULL is rendered by the caller"); break;
	}
	return slt__appendf(out, "%" PRId64, i);
}

static err *slt__render_real(const struct sql_value *v, struct buf *out)
{
	double f = 0;
	switch (v->type) {
	case SQL_INT: f = (double)v->u.i; break;
	case SQL_FLOAT: f = v->u.f; break;
	case SQL_BOOL: f = v->u.b ? 1 : 0; break;
	case SQL_TEXT: {
		struct sql_value cast;
		TRY(sql_value_cast(v, SQL_FLOAT, &cast));
		f = cast.type == SQL_FLOAT ? cast.u.f : cast.type == SQL_INT ? (double)cast.u.i : 0;
		sql_value_free(&cast);
		break;
	}
	case SQL_NULL: assert(!"NULL is rendered by the caller"); break;
	}
	if (f == 0)
		f = 0; /* -0.0 prints as 0.000 */
	if (isinf(f))
		return buf_append(out, f > 0 ? "Inf" : "-Inf", f > 0 ? 3 : 4);
	char text[400]; /* %.3f of the largest double has 309 integer digits */
	int n = snprintf(text, sizeof text, "%.3f", f);
	assert(n > 0 && (size_t)n < sizeof text);
	return buf_append(out, text, (size_t)n);
}

static err *slt__render_text(const struct sql_value *v, struct buf *out)
{
	if (v->type != SQL_TEXT)
		return sql_value_format(v, out);
	if (v->u.s.len == 0)
		return buf_append(out, "(empty)", 7);
	size_t start = out->len;
	TRY(buf_append(out, v->u.s.ptr, v->u.s.len));
	for (size_t i = start; i < out->len; i++)
		if (out->data[i] < ' ' || out->data[i] > '~')
			out->data[i] = '@';
	return NULL;
}

err *slt_render_value(const struct sql_value *v, char type, struct buf *out)
{
	if (v->type == SQL_NULL)
		return buf_append(out, "NULL", 4);
	switch (type) {
	case 'I': return slt__render_int(v, out);
	case 'R': return slt__render_real(v, out);
	case 'T': return slt__render_text(v, out);
	default: return err_new(ERR_INVALID, "unknown column type '%c'", type);
	}
}

/* ---- whole results ---- */

struct slt__row {
	char **cols;
	size_t n;
};

static int slt__row_cmp(const void *a, const void *b)
{
	const struct slt__row *x = a, *y = b;
	assert(x->n == y->n);
	for (size_t i = 0; i < x->n; i++) {
		int c = strcmp(x->cols[i], y->cols[i]);
		if (c)
			return c;
	}
	return 0;
}

static int slt__value_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reorders the rendered rows by rowsort's rule. */
static err *slt__sort_rows(struct slt_rendered *out, size_t columns)
{
	size_t rows = out->count / columns;
	if (rows < 2)
		return NULL;
	struct slt__row *sorted = malloc(rows * sizeof *sorted);
	char **values = malloc(out->count * sizeof *values);
	if (!sorted || !values) {
		free(sorted);
		free(values);
		return err_new(ERR_NOMEM, "out of memory sorting %zu rows", rows);
	}
	for (size_t i = 0; i < rows; i++)
		sorted[i] = (struct slt__row){.cols = &out->values[i * columns], .n = columns};
	qsort(sorted, rows, sizeof *sorted, slt__row_cmp);
	for (size_t i = 0; i < rows; i++)
		memcpy(&values[i * columns], sorted[i].cols, columns * sizeof *values);
	free(sorted);
	free(out->values);
	out->values = values;
	return NULL;
}

err *slt_render(const struct sql_result *r, const char *types, enum slt_sort sort,
                struct slt_rendered *out)
{
	assert(r->kind == SQL_RESULT_ROWS);
	size_t columns = strlen(types);
	assert(columns == r->column_count && columns > 0);
	memset(out, 0, sizeof *out);
	buf_init(&out->bytes, BUF_ABSOLUTE_MAX);
	if (r->row_count > SIZE_MAX / sizeof(char *) / columns)
		return err_new(ERR_LIMIT, "result too large");
	size_t count = (size_t)r->row_count * columns;
	size_t *offsets = malloc((count ? count : 1) * sizeof *offsets);
	if (!offsets)
		return err_new(ERR_NOMEM, "out of memory rendering a result");
	err *e = NULL;
	for (size_t i = 0; i < count && !e; i++) {
		offsets[i] = out->bytes.len;
		e = slt_render_value(&r->values[i], types[i % columns], &out->bytes);
		if (!e)
			e = buf_append(&out->bytes, "", 1);
	}
	if (!e) {
		out->values = malloc((count ? count : 1) * sizeof *out->values);
		if (!out->values)
			e = err_new(ERR_NOMEM, "out of memory rendering a result");
	}
	if (e) {
		free(offsets);
		slt_rendered_free(out);
		return e;
	}
	for (size_t i = 0; i < count; i++)
		out->values[i] = (char *)out->bytes.data + offsets[i];
	out->count = count;
	free(offsets);
	if (sort == SLT_VALUESORT)
		qsort(out->values, count, sizeof *out->values, slt__value_cmp);
	else if (sort == SLT_ROWSORT)
		e = slt__sort_rows(out, columns);
	if (e)
		slt_rendered_free(out);
	return e;
}

void slt_rendered_free(struct slt_rendered *rendered)
{
	free(rendered->values);
	buf_free(&rendered->bytes);
	memset(rendered, 0, sizeof *rendered);
}

void slt_rendered_hash(const struct slt_rendered *rendered, char hex[MD5_HEX_BYTES])
{
	struct md5 m;
	uint8_t digest[MD5_DIGEST_BYTES];
	md5_init(&m);
	for (size_t i = 0; i < rendered->count; i++) {
		md5_update(&m, rendered->values[i], strlen(rendered->values[i]));
		md5_update(&m, "\n", 1);
	}
	md5_final(&m, digest);
	md5_digest_hex(digest, hex);
}

bool slt_parse_hash_line(const char *line, uint64_t *count, char hex[MD5_HEX_BYTES])
{
	static const char middle[] = " values hashing to ";
	uint64_t n = 0;
	size_t digits = 0;
	for (; line[digits] >= '0' && line[digits] <= '9'; digits++) {
		if (digits == 18)
			return false; /* more than any result can hold */
		n = n * 10 + (uint64_t)(line[digits] - '0');
	}
	if (digits == 0 || strncmp(line + digits, middle, sizeof middle - 1) != 0)
		return false;
	const char *h = line + digits + sizeof middle - 1;
	if (strlen(h) != 32 || strspn(h, "0123456789abcdef") != 32)
		return false;
	memcpy(hex, h, 33);
	*count = n;
	return true;
}
