/*
 * mvcc_history.c — the validation history window, its stored form and the conflict test.
 *
 * Conflict test cost: a search back from the newest entry for the read version, then for
 * each entry newer than it and each read range, one binary search among the entry's
 * sorted keys; for a point read (most reads) of a small entry, a comparison of the key's
 * hash with the entry's key hashes instead, the bytes compared only on a match.
 * Transactions read at a recent version, so the entries to check are few (those
 * committed while the transaction ran), tens under a busy write load.
 */
#include "storage/mvcc_history.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/checksum.h"

/* Read ranges whose point-read hashes one conflict test computes; the rest search. */
#define MVCC__HASHED_RANGES 8
/* Entries with more keys are searched, not scanned by hash. */
#define MVCC__HASH_SCAN_MAX_KEYS 16

void mvcc__history_init(struct mvcc__history *h, uint32_t max_entries, uint64_t max_bytes)
{
	assert(max_entries > 0 && max_bytes > 0);
	memset(h, 0, sizeof *h);
	h->max_entries = max_entries;
	h->max_bytes = max_bytes;
}

void mvcc__history_entry_free(struct mvcc__history_entry *e)
{
	free(e->keys);
	free(e->deleted);
	memset(e, 0, sizeof *e);
}

/* The ring slot i places after the oldest entry's (i < cap), without a division. */
static uint32_t mvcc__slot(const struct mvcc__history *h, uint32_t i)
{
	assert(h->head < h->cap && i < h->cap);
	uint64_t slot = (uint64_t)h->head + i;
	return (uint32_t)(slot < h->cap ? slot : slot - h->cap);
}

void mvcc__history_free(struct mvcc__history *h)
{
	for (uint32_t i = 0; i < h->count; i++)
		mvcc__history_entry_free(&h->ring[mvcc__slot(h, i)]);
	free(h->ring);
	free(h->ids);
	memset(h, 0, sizeof *h);
}

static struct slice mvcc__key_at(const struct slice *keys, size_t stride, uint32_t i)
{
	return *(const struct slice *)((const uint8_t *)keys + (size_t)i * stride);
}

err *mvcc__history_entry_make(struct mvcc__history_entry *e, uint64_t index, struct mvcc_txn_id id,
                              const struct slice *keys, size_t stride, uint32_t n)
{
	memset(e, 0, sizeof *e);
	e->index = index;
	e->id = id;
	size_t total = 0;
	for (uint32_t i = 0; i < n; i++) {
		assert(i == 0 || slice_cmp(mvcc__key_at(keys, stride, i - 1),
		                           mvcc__key_at(keys, stride, i)) < 0);
		total += mvcc__key_at(keys, stride, i).len;
	}
	e->key_count = n;
	e->keys = malloc(n * (sizeof *e->keys + sizeof *e->key_hashes) + total + 1);
	if (!e->keys)
		return err_new(ERR_NOMEM, "cannot record a history entry of %u keys", n);
	e->key_hashes = (uint32_t *)(e->keys + n);
	uint8_t *bytes = (uint8_t *)(e->key_hashes + n);
	size_t off = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct slice k = mvcc__key_at(keys, stride, i);
		if (k.len)
			memcpy(bytes + off, k.ptr, k.len);
		e->keys[i] = slice_of(bytes + off, k.len);
		e->key_hashes[i] = checksum32(k.ptr, k.len);
		off += k.len;
	}
	assert(off == total);
	e->cost = MVCC__HISTORY_ENTRY_OVERHEAD + total + (uint64_t)n * MVCC__HISTORY_KEY_OVERHEAD;
	return NULL;
}

err *mvcc__history_entry_add_deleted(struct mvcc__history_entry *e,
                                     const struct mvcc__range *deleted, uint32_t n)
{
	assert(e->deleted_count == 0 && n > 0);
	size_t total = 0;
	for (uint32_t i = 0; i < n; i++)
		total += deleted[i].from.len + deleted[i].to.len;
	e->deleted = malloc(n * sizeof *e->deleted + total + 1);
	if (!e->deleted)
		return err_new(ERR_NOMEM, "cannot record a history entry of %u deleted ranges", n);
	uint8_t *bytes = (uint8_t *)(e->deleted + n);
	for (uint32_t i = 0; i < n; i++) {
		assert(deleted[i].bounded);
		struct slice from = deleted[i].from, to = deleted[i].to;
		memcpy(bytes, from.ptr, from.len);
		memcpy(bytes + from.len, to.ptr, to.len);
		e->deleted[i] = (struct mvcc__range){.from = slice_of(bytes, from.len),
		                                     .to = slice_of(bytes + from.len, to.len),
		                                     .bounded = true};
		bytes += from.len + to.len;
	}
	e->deleted_count = n;
	e->cost += total + (uint64_t)n * 2 * MVCC__HISTORY_KEY_OVERHEAD;
	return NULL;
}

const struct mvcc__history_entry *mvcc__history_at(const struct mvcc__history *h, uint32_t i)
{
	assert(i < h->count);
	return &h->ring[mvcc__slot(h, i)];
}

/* ---- the id table: linear probing over a power-of-two number of slots ---- */

static uint32_t mvcc__id_home(struct mvcc_txn_id id, uint32_t slots)
{
	uint64_t x = (id.lo ^ (id.hi * 0x9e3779b97f4a7c15u)) * 0xff51afd7ed558ccdu;
	return (uint32_t)(x >> 32) & (slots - 1);
}

static bool mvcc__id_eq(struct mvcc_txn_id a, struct mvcc_txn_id b)
{
	return a.hi == b.hi && a.lo == b.lo;
}

/* The slot holding `id`, or the free slot where it would go. */
static uint32_t mvcc__id_find(const struct mvcc__id_slot *ids, uint32_t slots,
                              struct mvcc_txn_id id)
{
	uint32_t i = mvcc__id_home(id, slots);
	/* At most two thirds of the slots are used, so a free slot ends every probe. */
	for (uint32_t probes = 0; probes < slots; probes++) {
		if (ids[i].count == 0 || mvcc__id_eq(ids[i].id, id))
			return i;
		i = (i + 1) & (slots - 1);
	}
	assert(!"the id table has no free slot");
	return 0;
}

static void mvcc__id_add(struct mvcc__history *h, struct mvcc_txn_id id, uint64_t index)
{
	uint32_t i = mvcc__id_find(h->ids, h->id_slots, id);
	h->ids[i].id = id;
	h->ids[i].count++;
	h->ids[i].index = index;
}

/* Removes one holder of `id`; the last one frees the slot, shifting later probes back. */
static void mvcc__id_remove(struct mvcc__history *h, struct mvcc_txn_id id)
{
	uint32_t slots = h->id_slots;
	uint32_t i = mvcc__id_find(h->ids, slots, id);
	assert(h->ids[i].count > 0);
	if (--h->ids[i].count > 0)
		return;
	uint32_t hole = i;
	for (uint32_t j = (i + 1) & (slots - 1); h->ids[j].count > 0; j = (j + 1) & (slots - 1)) {
		uint32_t home = mvcc__id_home(h->ids[j].id, slots);
		/* j's entry may move to the hole unless its home lies in (hole, j] cyclically */
		bool home_after_hole =
		    hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (!home_after_hole) {
			h->ids[hole] = h->ids[j];
			h->ids[j].count = 0;
			hole = j;
		}
	}
}

bool mvcc__history_find_id(const struct mvcc__history *h, struct mvcc_txn_id id, uint64_t *index)
{
	if (h->cap == 0)
		return false;
	const struct mvcc__id_slot *slot = &h->ids[mvcc__id_find(h->ids, h->id_slots, id)];
	*index = slot->index;
	return slot->count > 0;
}

err *mvcc__history_reserve(struct mvcc__history *h)
{
	if (h->count < h->cap)
		return NULL;
	/* doubling, but no further than the window can use: max_entries + 1 while pushing */
	uint32_t cap = h->cap ? 2 * h->cap : 64;
	uint64_t need = (uint64_t)h->max_entries + 1;
	if (cap > need && need > h->count)
		cap = (uint32_t)need;
	uint64_t slots = 64;
	while (slots < (uint64_t)cap + cap / 2)
		slots *= 2;
	if (slots > UINT32_MAX)
		return err_new(ERR_LIMIT, "validation history of %u entries", cap);
	struct mvcc__history_entry *ring = malloc(cap * sizeof *ring);
	struct mvcc__id_slot *ids = calloc(slots, sizeof *ids);
	if (!ring || !ids) {
		free(ring);
		free(ids);
		return err_new(ERR_NOMEM, "cannot grow the validation history");
	}
	for (uint32_t i = 0; i < h->count; i++)
		ring[i] = h->ring[mvcc__slot(h, i)];
	free(h->ring);
	free(h->ids);
	h->ring = ring;
	h->ids = ids;
	h->id_slots = (uint32_t)slots;
	h->cap = cap;
	h->head = 0;
	for (uint32_t i = 0; i < h->count; i++)
		mvcc__id_add(h, h->ring[i].id, h->ring[i].index);
	assert(h->count < h->cap);
	return NULL;
}

uint32_t mvcc__history_drop_count(const struct mvcc__history *h,
                                  const struct mvcc__history_entry *incoming)
{
	uint64_t count = (uint64_t)h->count + 1;
	uint64_t bytes = h->bytes + incoming->cost;
	uint32_t drop = 0;
	while (count > 0 && (count > h->max_entries || bytes > h->max_bytes)) {
		uint64_t cost = drop < h->count ? mvcc__history_at(h, drop)->cost : incoming->cost;
		bytes -= cost;
		count--;
		drop++;
	}
	uint32_t chunk = h->max_entries / MVCC__HISTORY_DROP_FRACTION;
	if (drop > 0 && drop < chunk && drop <= h->count)
		drop = chunk < h->count ? chunk : h->count;
	assert(drop <= h->count + 1);
	return drop;
}

void mvcc__history_push(struct mvcc__history *h, struct mvcc__history_entry *e)
{
	assert(h->count < h->cap);
	assert(h->count == 0 || mvcc__history_at(h, h->count - 1)->index < e->index);
	h->ring[mvcc__slot(h, h->count)] = *e;
	h->count++;
	mvcc__id_add(h, e->id, e->index);
	h->bytes += e->cost;
	memset(e, 0, sizeof *e);
}

void mvcc__history_drop_oldest(struct mvcc__history *h)
{
	assert(h->count > 0);
	struct mvcc__history_entry *e = &h->ring[h->head];
	assert(e->index > h->floor && h->bytes >= e->cost);
	h->floor = e->index;
	h->bytes -= e->cost;
	mvcc__id_remove(h, e->id);
	mvcc__history_entry_free(e);
	h->head = mvcc__slot(h, 1);
	h->count--;
}

/* True if some key of e lies in r: the first key >= r.from must be below r.to. */
static bool mvcc__entry_hits(const struct mvcc__history_entry *e, const struct mvcc__range *r)
{
	uint32_t lo = 0, hi = e->key_count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (slice_cmp(e->keys[mid], r->from) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < e->key_count && (!r->bounded || slice_cmp(e->keys[lo], r->to) < 0);
}

/* Whether r is the point read of its `from` key: [k, k 0x00). */
static bool mvcc__range_is_point(const struct mvcc__range *r)
{
	return r->bounded && r->to.len == r->from.len + 1 && r->to.ptr[r->from.len] == 0 &&
	       (r->from.len == 0 || memcmp(r->to.ptr, r->from.ptr, r->from.len) == 0);
}

/* mvcc__entry_hits for the point read of `key`, whose checksum32 is `hash`. */
static bool mvcc__entry_has_key(const struct mvcc__history_entry *e, struct slice key,
                                uint32_t hash, const struct mvcc__range *r)
{
	if (e->key_count > MVCC__HASH_SCAN_MAX_KEYS)
		return mvcc__entry_hits(e, r);
	for (uint32_t i = 0; i < e->key_count; i++)
		if (e->key_hashes[i] == hash && slice_cmp(e->keys[i], key) == 0)
			return true;
	return false;
}

/* True if a range e deleted overlaps r. */
static bool mvcc__entry_deleted(const struct mvcc__history_entry *e, const struct mvcc__range *r)
{
	for (uint32_t i = 0; i < e->deleted_count; i++) {
		const struct mvcc__range *d = &e->deleted[i];
		if ((!r->bounded || slice_cmp(d->from, r->to) < 0) && slice_cmp(r->from, d->to) < 0)
			return true;
	}
	return false;
}

bool mvcc__history_conflict(const struct mvcc__history *h, uint64_t read_version,
                            const struct mvcc__range *ranges, uint32_t range_count, uint64_t *at)
{
	assert(read_version >= h->floor);
	/*
	 * The first entry newer than the read version. Read versions are recent, so it is
	 * near the end of a window of thousands: gallop back from the newest entry to bracket
	 * it, then bisect the bracket (the search touches the few entries it must scan next).
	 */
	uint32_t lo = 0, hi = h->count;
	/* the step doubles every round until it reaches lo: at most 33 rounds */
	for (uint32_t step = 1; lo < hi;) {
		uint32_t probe = hi - lo > step ? hi - step : lo;
		if (mvcc__history_at(h, probe)->index <= read_version) {
			lo = probe + 1;
			break;
		}
		hi = probe;
		step = step <= UINT32_MAX / 2 ? step * 2 : step;
	}
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (mvcc__history_at(h, mid)->index <= read_version)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == h->count)
		return false;
	bool point[MVCC__HASHED_RANGES];
	uint32_t hash[MVCC__HASHED_RANGES];
	for (uint32_t r = 0; r < range_count && r < MVCC__HASHED_RANGES; r++) {
		point[r] = mvcc__range_is_point(&ranges[r]);
		hash[r] = point[r] ? checksum32(ranges[r].from.ptr, ranges[r].from.len) : 0;
	}
	for (uint32_t i = lo; i < h->count; i++) {
		const struct mvcc__history_entry *e = mvcc__history_at(h, i);
		assert(e->index > read_version);
		if (e->key_count == 0 && e->deleted_count == 0)
			continue;
		for (uint32_t r = 0; r < range_count; r++) {
			bool written =
			    r < MVCC__HASHED_RANGES && point[r]
			        ? mvcc__entry_has_key(e, ranges[r].from, hash[r], &ranges[r])
			        : mvcc__entry_hits(e, &ranges[r]);
			if (written || mvcc__entry_deleted(e, &ranges[r])) {
				*at = e->index;
				return true;
			}
		}
	}
	return false;
}
