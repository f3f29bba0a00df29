/*
 * exec_rows.c — materialised rows for the executor: row arrays, row equality and hashing,
 * hash sets of rows, and the stable merge sort behind ORDER BY.
 */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/checksum.h"
#include "sql/exec_internal.h"

void sql_rows_init(struct sql_rows *r, uint32_t width)
{
	memset(r, 0, sizeof *r);
	r->width = width;
}

void sql_rows_free(struct sql_rows *r)
{
	for (uint64_t i = 0; i < r->count * r->width; i++)
		sql_value_free(&r->values[i]);
	free(r->values);
	uint32_t w = r->width;
	sql_rows_init(r, w);
}

void sql_rows_truncate(struct sql_rows *r, uint64_t count)
{
	for (uint64_t i = count * r->width; i < r->count * r->width; i++)
		sql_value_free(&r->values[i]);
	if (count < r->count)
		r->count = count;
}

err *sql_rows_push(struct sql_rows *r, const struct sql_value *row)
{
	if (r->count >= SQL_EXEC_MAX_ROWS)
		return err_new(ERR_LIMIT, "more than %llu rows held in memory",
		               (unsigned long long)SQL_EXEC_MAX_ROWS);
	if (r->count == r->cap) {
		uint64_t cap = r->cap ? r->cap * 2 : 16;
		struct sql_value *v =
		    realloc(r->values, sizeof *v * (r->width ? r->width : 1) * cap);
		if (!v)
			return err_new(ERR_NOMEM, "out of memory holding rows");
		r->values = v;
		r->cap = cap;
	}
	struct sql_value *dst = sql_rows_at(r, r->count);
	for (uint32_t i = 0; i < r->width; i++) {
		err *e = sql_value_copy(&dst[i], &row[i]);
		if (e) {
			for (uint32_t k = 0; k < i; k++)
				sql_value_free(&dst[k]);
			return e;
		}
	}
	r->count++;
	return NULL;
}

/* ---- equality and hashing ---- */

static bool value_same(const struct sql_value *a, const struct sql_value *b)
{
	if (a->type == SQL_NULL || b->type == SQL_NULL)
		return a->type == b->type;
	if (a->type == SQL_INT && b->type == SQL_INT)
		return a->u.i == b->u.i; /* the common join key, without the general comparison */
	int c;
	bool is_null;
	err *e = sql_value_compare(a, b, &c, &is_null);
	if (e) {
		err_free(e);
		return false; /* values of different kinds are simply different */
	}
	return c == 0;
}

bool sql_values_same(const struct sql_value *a, const struct sql_value *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (!value_same(&a[i], &b[i]))
			return false;
	return true;
}

uint64_t sql_values_hash(const struct sql_value *v, uint32_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ull;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t x;
		switch (v[i].type) {
		case SQL_NULL: x = 1; break;
		case SQL_BOOL:
		case SQL_INT:
		case SQL_FLOAT: {
			/* equal numbers of either type hash alike */
			double d = v[i].type == SQL_BOOL  ? (double)v[i].u.b
			           : v[i].type == SQL_INT ? (double)v[i].u.i
			                                  : v[i].u.f;
			if (d == 0.0)
				d = 0.0; /* -0.0 */
			memcpy(&x, &d, sizeof x);
			break;
		}
		case SQL_TEXT: x = checksum32(v[i].u.s.ptr, v[i].u.s.len); break;
		default: x = 0;
		}
		h = (h ^ x) * 0x100000001B3ull;
		h ^= h >> 29;
	}
	/*
	 * MurmurHash3's 64-bit finalizer: callers mask off the low bits, and a small integer
	 * as a double differs only in its high bits, which the loop above barely moves down
	 * (without this, the keys 0..9999 fell into 32 of a hash join's 32,768 buckets).
	 */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

/* ---- row sets ---- */

void sql__rowset_init(struct sql__rowset *s, uint32_t width)
{
	memset(s, 0, sizeof *s);
	sql_rows_init(&s->rows, width);
}

void sql__rowset_free(struct sql__rowset *s)
{
	sql_rows_free(&s->rows);
	free(s->slots);
	memset(s, 0, sizeof *s);
}

static uint64_t slot_of(const struct sql__rowset *s, const struct sql_value *row, bool *found)
{
	uint64_t mask = s->slot_count - 1;
	uint64_t i = sql_values_hash(row, s->rows.width) & mask;
	*found = false;
	for (;;) {
		uint64_t k = s->slots[i];
		if (!k)
			return i;
		if (sql_values_same(sql_rows_at(&s->rows, k - 1), row, s->rows.width)) {
			*found = true;
			return i;
		}
		i = (i + 1) & mask;
	}
}

bool sql__rowset_contains(const struct sql__rowset *s, const struct sql_value *row)
{
	if (!s->slot_count)
		return false;
	bool found;
	slot_of(s, row, &found);
	return found;
}

err *sql__rowset_add(struct sql__rowset *s, const struct sql_value *row, bool *added)
{
	*added = false;
	if ((s->rows.count + 1) * 2 > s->slot_count) {
		uint64_t n = s->slot_count ? s->slot_count * 2 : 64;
		uint64_t *slots = calloc(n, sizeof *slots);
		if (!slots)
			return err_new(ERR_NOMEM, "out of memory for a row set");
		free(s->slots);
		s->slots = slots;
		s->slot_count = n;
		for (uint64_t r = 0; r < s->rows.count; r++) {
			bool f;
			s->slots[slot_of(s, sql_rows_at(&s->rows, r), &f)] = r + 1;
		}
	}
	bool found;
	uint64_t i = slot_of(s, row, &found);
	if (found)
		return NULL;
	TRY(sql_rows_push(&s->rows, row));
	s->slots[i] = s->rows.count;
	*added = true;
	return NULL;
}

/* ---- sorting ---- */

struct sort_ctx {
	const struct sql_rows *rows;
	const struct sql_sort_key *keys;
	uint32_t key_count;
};

static int compare_rows(const struct sort_ctx *c, uint64_t a, uint64_t b)
{
	const struct sql_value *ra = sql_rows_at(c->rows, a), *rb = sql_rows_at(c->rows, b);
	for (uint32_t k = 0; k < c->key_count; k++) {
		const struct sql_sort_key *key = &c->keys[k];
		const struct sql_value *x = &ra[key->column], *y = &rb[key->column];
		bool xn = x->type == SQL_NULL, yn = y->type == SQL_NULL;
		int r;
		if (xn || yn) {
			if (xn && yn)
				continue;
			/* NULL placement is independent of the direction */
			r = xn ? (key->nulls_first ? -1 : 1) : (key->nulls_first ? 1 : -1);
			return r;
		}
		r = sql_value_order(x, y);
		if (r)
			return key->desc ? -r : r;
	}
	return 0;
}

static void merge_sort(const struct sort_ctx *c, uint64_t *idx, uint64_t *tmp, uint64_t n)
{
	if (n < 2)
		return;
	uint64_t h = n / 2;
	merge_sort(c, idx, tmp, h);
	merge_sort(c, idx + h, tmp, n - h);
	uint64_t i = 0, j = h, k = 0;
	while (i < h && j < n)
		tmp[k++] = compare_rows(c, idx[j], idx[i]) < 0 ? idx[j++] : idx[i++];
	while (i < h)
		tmp[k++] = idx[i++];
	while (j < n)
		tmp[k++] = idx[j++];
	memcpy(idx, tmp, sizeof *idx * n);
}

err *sql_rows_sort(struct sql_rows *rows, const struct sql_sort_key *keys, uint32_t key_count)
{
	uint64_t n = rows->count;
	if (n < 2)
		return NULL;
	uint64_t *idx = malloc(sizeof *idx * n), *tmp = malloc(sizeof *tmp * n);
	struct sql_value *sorted = malloc(sizeof *sorted * rows->width * n + 1);
	if (!idx || !tmp || !sorted) {
		free(idx);
		free(tmp);
		free(sorted);
		return err_new(ERR_NOMEM, "out of memory sorting");
	}
	for (uint64_t i = 0; i < n; i++)
		idx[i] = i;
	struct sort_ctx c = {rows, keys, key_count};
	merge_sort(&c, idx, tmp, n);
	for (uint64_t i = 0; i < n; i++)
		memcpy(&sorted[i * rows->width], sql_rows_at(rows, idx[i]),
		       sizeof *sorted * rows->width);
	free(rows->values);
	rows->values = sorted;
	rows->cap = n;
	free(idx);
	free(tmp);
	return NULL;
}
