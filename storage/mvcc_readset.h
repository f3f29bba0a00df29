/*
 * mvcc_readset.h — a transaction's read set: the key ranges it read (internal).
 *
 * A point read of key k is the range [k, k 0x00); a scan is the part of its range that the
 * caller consumed. The set is bounded by MVCC_READ_SET_MAX_RANGES ranges and
 * MVCC_READ_SET_MAX_BYTES bytes. Adding past either bound escalates first: the ranges are
 * sorted, overlapping ones coalesce exactly, and if that is not enough neighbours merge
 * pairwise into one range covering both and the gap between them, until the set is at
 * most half full. A coarser read set can only cause spurious conflicts, never hide a
 * real one. The result depends only on the ranges added, so every replica that decodes
 * the record sees the same set.
 */
#ifndef CAIRN_STORAGE_MVCC_READSET_H
#define CAIRN_STORAGE_MVCC_READSET_H

#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "storage/mvcc_record.h"

struct mvcc__readset_item {
	uint32_t from_off, from_len;
	uint32_t to_off, to_len;
	bool bounded;
};

struct mvcc__readset {
	struct mvcc__readset_item *items;
	uint32_t count;
	uint32_t cap;
	struct buf bytes; /* the from and to keys of all items */
	uint32_t escalations;
};

void mvcc__readset_init(struct mvcc__readset *rs);
void mvcc__readset_free(struct mvcc__readset *rs);

/* Adds [from, to) (to NULL: unbounded); an empty range is ignored. Escalates when full. */
err *mvcc__readset_add(struct mvcc__readset *rs, struct slice from, const struct slice *to);

/* Adds the single key `key`. */
err *mvcc__readset_add_key(struct mvcc__readset *rs, struct slice key);

/* The i-th range; its slices are valid until the next add. */
struct mvcc__range mvcc__readset_get(const struct mvcc__readset *rs, uint32_t i);

#endif
