/*
 * mvcc_tombstone.c — sets of deleted key ranges (see mvcc_tombstone.h).
 *
 * The sets are empty nearly always, and then a read pays one comparison. Otherwise a
 * lookup bisects the ranges sorted by lower bound and walks back only while the running
 * maximum of the upper bounds still exceeds the key. Adding or removing a range costs
 * time linear in the set (bounded by MVCC_TXN_MAX_RANGE_DELETES and, softly, by
 * MVCC_RANGE_DELETES_PENDING_MAX).
 */
#include "storage/mvcc_tombstone.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "storage/kv.h"
#include "storage/mvcc.h"
#include "storage/mvcc_keys.h"

void mvcc__tombstones_init(struct mvcc__tombstones *t)
{
	memset(t, 0, sizeof *t);
}

static void mvcc__tombstone_free(struct mvcc__tombstone *ts)
{
	buf_free(&ts->from);
	buf_free(&ts->to);
	buf_free(&ts->lo);
	buf_free(&ts->hi);
}

void mvcc__tombstones_free(struct mvcc__tombstones *t)
{
	for (uint32_t i = 0; i < t->count; i++)
		mvcc__tombstone_free(&t->items[i]);
	free(t->items);
	free(t->by_lo);
	free(t->max_hi);
	memset(t, 0, sizeof *t);
}

err *mvcc__tombstones_reserve(struct mvcc__tombstones *t, uint32_t n)
{
	if (t->count + n <= t->cap)
		return NULL;
	uint32_t cap = t->cap ? t->cap : 4;
	while (cap < t->count + n)
		cap *= 2;
	struct mvcc__tombstone *items = realloc(t->items, cap * sizeof *items);
	if (items)
		t->items = items;
	uint32_t *by_lo = items ? realloc(t->by_lo, cap * sizeof *by_lo) : NULL;
	if (by_lo)
		t->by_lo = by_lo;
	struct slice *max_hi = by_lo ? realloc(t->max_hi, cap * sizeof *max_hi) : NULL;
	if (!max_hi)
		return err_new(ERR_NOMEM, "no memory for a range deletion");
	t->max_hi = max_hi;
	t->cap = cap;
	return NULL;
}

/* Recomputes the running maximum of the upper bounds from sorted position `from` on. */
static void mvcc__tombstones_rescan(struct mvcc__tombstones *t, uint32_t from)
{
	for (uint32_t p = from; p < t->count; p++) {
		struct slice hi = buf_slice(&t->items[t->by_lo[p]].hi);
		t->max_hi[p] = p > 0 && slice_cmp(t->max_hi[p - 1], hi) > 0 ? t->max_hi[p - 1] : hi;
	}
}

/* The number of sorted positions whose range's lo is at or below `key`. */
static uint32_t mvcc__tombstones_rank(const struct mvcc__tombstones *t, struct slice key,
                                      uint32_t n)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (slice_cmp(buf_slice(&t->items[t->by_lo[mid]].lo), key) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Files item count (just placed in items) into the lookup order and counts it. */
static void mvcc__tombstones_file(struct mvcc__tombstones *t)
{
	assert(t->count < t->cap);
	uint32_t i = t->count;
	uint32_t p = mvcc__tombstones_rank(t, buf_slice(&t->items[i].lo), i);
	memmove(&t->by_lo[p + 1], &t->by_lo[p], (i - p) * sizeof *t->by_lo);
	t->by_lo[p] = i;
	t->count++;
	mvcc__tombstones_rescan(t, p);
}

void mvcc__tombstones_take(struct mvcc__tombstones *dst, struct mvcc__tombstones *src)
{
	assert(dst->count + src->count <= dst->cap);
	for (uint32_t i = 0; i < src->count; i++) {
		dst->items[dst->count] = src->items[i];
		mvcc__tombstones_file(dst);
	}
	src->count = 0;
}

err *mvcc__tombstones_add(struct mvcc__tombstones *t, uint64_t index, uint32_t seq,
                          struct slice from, struct slice to)
{
	assert(slice_cmp(from, to) < 0);
	TRY(mvcc__tombstones_reserve(t, 1));
	struct mvcc__tombstone *ts = &t->items[t->count];
	memset(ts, 0, sizeof *ts);
	ts->index = index;
	ts->seq = seq;
	buf_init(&ts->from, MVCC_KEY_MAX + 1);
	buf_init(&ts->to, MVCC_KEY_MAX + 1);
	buf_init(&ts->lo, KV_KEY_MAX);
	buf_init(&ts->hi, KV_KEY_MAX);
	err *e = buf_append(&ts->from, from.ptr, from.len);
	if (!e)
		e = buf_append(&ts->to, to.ptr, to.len);
	if (!e)
		e = mvcc__key_data_prefix(&ts->lo, from);
	if (!e)
		e = mvcc__key_data_prefix(&ts->hi, to);
	if (e) {
		mvcc__tombstone_free(ts);
		return e;
	}
	mvcc__tombstones_file(t);
	return NULL;
}

void mvcc__tombstones_remove(struct mvcc__tombstones *t, uint32_t i)
{
	assert(i < t->count);
	mvcc__tombstone_free(&t->items[i]);
	memmove(&t->items[i], &t->items[i + 1], (t->count - i - 1) * sizeof *t->items);
	uint32_t kept = 0;
	for (uint32_t p = 0; p < t->count; p++)
		if (t->by_lo[p] != i)
			t->by_lo[kept++] = t->by_lo[p] - (t->by_lo[p] > i);
	assert(kept == t->count - 1);
	t->count--;
	mvcc__tombstones_rescan(t, 0);
}

bool mvcc__tombstones_hide(const struct mvcc__tombstones *t, struct slice group, uint64_t version,
                           uint64_t read_version)
{
	if (t->count == 0)
		return false;
	for (uint32_t p = mvcc__tombstones_rank(t, group, t->count); p-- > 0;) {
		if (slice_cmp(t->max_hi[p], group) <= 0)
			return false; /* no range at or before p reaches the key */
		const struct mvcc__tombstone *ts = &t->items[t->by_lo[p]];
		if (version < ts->index &&
		    (ts->index <= read_version || ts->index == MVCC__TOMBSTONE_OWN) &&
		    slice_cmp(group, buf_slice(&ts->hi)) < 0)
			return true;
	}
	return false;
}
