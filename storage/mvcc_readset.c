/*
 * mvcc_readset.c — recording read ranges, and escalating them when the set is full.
 */
#include "storage/mvcc_readset.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Room for the largest range on top of a full set, so an add never fails on the cap. */
#define MVCC__READSET_BUF_MAX (MVCC_READ_SET_MAX_BYTES + 4 * (MVCC_KEY_MAX + 1))

void mvcc__readset_init(struct mvcc__readset *rs)
{
	memset(rs, 0, sizeof *rs);
	buf_init(&rs->bytes, MVCC__READSET_BUF_MAX);
}

void mvcc__readset_free(struct mvcc__readset *rs)
{
	free(rs->items);
	buf_free(&rs->bytes);
	memset(rs, 0, sizeof *rs);
}

struct mvcc__range mvcc__readset_get(const struct mvcc__readset *rs, uint32_t i)
{
	assert(i < rs->count);
	const struct mvcc__readset_item *it = &rs->items[i];
	assert(it->from_off + it->from_len <= rs->bytes.len);
	return (struct mvcc__range){
	    .from = slice_of(rs->bytes.data + it->from_off, it->from_len),
	    .to = slice_of(it->bounded ? rs->bytes.data + it->to_off : NULL, it->to_len),
	    .bounded = it->bounded,
	};
}

/* Appends without checking the bounds (the caller did); the set is unchanged on error. */
static err *mvcc__readset_push(struct mvcc__readset *rs, const struct mvcc__range *r)
{
	if (rs->count == rs->cap) {
		uint32_t cap = rs->cap ? 2 * rs->cap : 16;
		struct mvcc__readset_item *items = realloc(rs->items, cap * sizeof *items);
		if (!items)
			return err_new(ERR_NOMEM, "cannot grow the read set");
		rs->items = items;
		rs->cap = cap;
	}
	size_t start = rs->bytes.len;
	TRY(buf_reserve(&rs->bytes, r->from.len + r->to.len));
	buf_append(&rs->bytes, r->from.ptr, r->from.len);
	if (r->bounded)
		buf_append(&rs->bytes, r->to.ptr, r->to.len);
	rs->items[rs->count++] = (struct mvcc__readset_item){
	    .from_off = (uint32_t)start,
	    .from_len = (uint32_t)r->from.len,
	    .to_off = (uint32_t)(start + r->from.len),
	    .to_len = r->bounded ? (uint32_t)r->to.len : 0,
	    .bounded = r->bounded,
	};
	return NULL;
}

/* Orders by from, then by to with unbounded last: a total order on range contents. */
static int mvcc__range_cmp(const void *pa, const void *pb)
{
	const struct mvcc__range *a = pa, *b = pb;
	int c = slice_cmp(a->from, b->from);
	if (c)
		return c;
	if (a->bounded != b->bounded)
		return a->bounded ? -1 : 1;
	return a->bounded ? slice_cmp(a->to, b->to) : 0;
}

/* The upper end of the union of a and b: the larger `to`, unbounded if either is. */
static void mvcc__range_extend(struct mvcc__range *a, const struct mvcc__range *b)
{
	if (!b->bounded || (a->bounded && slice_cmp(b->to, a->to) > 0)) {
		a->to = b->to;
		a->bounded = b->bounded;
	}
}

static size_t mvcc__ranges_bytes(const struct mvcc__range *r, uint32_t n)
{
	size_t total = 0;
	for (uint32_t i = 0; i < n; i++)
		total += r[i].from.len + r[i].to.len;
	return total;
}

/*
 * Shrinks the set to at most half of each bound, covering at least every key it covered.
 * Sorting makes the result independent of the order the ranges were added in.
 */
static err *mvcc__readset_escalate(struct mvcc__readset *rs)
{
	uint32_t n = rs->count;
	assert(n > 0);
	struct mvcc__range *r = malloc(n * sizeof *r);
	if (!r)
		return err_new(ERR_NOMEM, "cannot escalate the read set");
	for (uint32_t i = 0; i < n; i++)
		r[i] = mvcc__readset_get(rs, i);
	qsort(r, n, sizeof *r, mvcc__range_cmp);
	/* Exact: coalesce overlapping and touching ranges. */
	uint32_t m = 0;
	for (uint32_t i = 1; i < n; i++) {
		if (!r[m].bounded || slice_cmp(r[i].from, r[m].to) <= 0)
			mvcc__range_extend(&r[m], &r[i]);
		else
			r[++m] = r[i];
	}
	n = m + 1;
	/* Coarse: merge neighbours pairwise (each round halves the count). */
	for (int round = 0; round < 32 && n > 1 &&
	                    (n > MVCC_READ_SET_MAX_RANGES / 2 ||
	                     mvcc__ranges_bytes(r, n) > MVCC_READ_SET_MAX_BYTES / 2);
	     round++) {
		for (uint32_t i = 0; i < n; i += 2) {
			r[i / 2] = r[i];
			if (i + 1 < n)
				mvcc__range_extend(&r[i / 2], &r[i + 1]);
		}
		n = (n + 1) / 2;
	}
	assert(n <= MVCC_READ_SET_MAX_RANGES / 2);
	/* Rebuild: the slices point into the old bytes, so copy into a fresh set. */
	struct mvcc__readset fresh;
	mvcc__readset_init(&fresh);
	err *e = NULL;
	for (uint32_t i = 0; i < n && !e; i++)
		e = mvcc__readset_push(&fresh, &r[i]);
	free(r);
	if (e) {
		mvcc__readset_free(&fresh);
		return e;
	}
	fresh.escalations = rs->escalations + 1;
	mvcc__readset_free(rs);
	*rs = fresh;
	return NULL;
}

err *mvcc__readset_add(struct mvcc__readset *rs, struct slice from, const struct slice *to)
{
	assert(from.len <= MVCC_KEY_MAX + 1 && (!to || to->len <= MVCC_KEY_MAX + 1));
	struct mvcc__range r = {.from = from, .to = to ? *to : slice_of(NULL, 0), .bounded = !!to};
	if (!mvcc__range_nonempty(&r))
		return NULL;
	if (rs->count > 0) {
		/* A repeat of the last range (a loop re-reading one key) adds nothing. */
		struct mvcc__range last = mvcc__readset_get(rs, rs->count - 1);
		if (mvcc__range_cmp(&last, &r) == 0)
			return NULL;
	}
	if (rs->count >= MVCC_READ_SET_MAX_RANGES ||
	    rs->bytes.len + from.len + r.to.len > MVCC_READ_SET_MAX_BYTES)
		TRY(mvcc__readset_escalate(rs));
	assert(rs->count < MVCC_READ_SET_MAX_RANGES);
	return mvcc__readset_push(rs, &r);
}

err *mvcc__readset_add_key(struct mvcc__readset *rs, struct slice key)
{
	assert(key.len >= 1 && key.len <= MVCC_KEY_MAX);
	uint8_t to[MVCC_KEY_MAX + 1];
	memcpy(to, key.ptr, key.len);
	to[key.len] = 0;
	struct slice t = slice_of(to, key.len + 1);
	return mvcc__readset_add(rs, key, &t);
}
