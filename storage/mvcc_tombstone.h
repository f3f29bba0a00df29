/*
 * mvcc_tombstone.h — sets of deleted key ranges (internal to storage/mvcc*).
 *
 * A range deletion (mvcc_delete_range) hides, from readers at or above the version that
 * made it, every version of a key in [from, to) older than that version. Two sets hold
 * them: the store's committed ones (each with its log index, until GC purges the range's
 * old versions) and a transaction's own uncommitted ones (index MVCC__TOMBSTONE_OWN: they
 * hide every committed version from that transaction). Each range keeps its user-key
 * bounds (for commit records) and the same bounds as data-space key prefixes
 * ('v' BYTES(key), mvcc_keys.h), whose byte order is the user keys' order, so a stored
 * version's key can be tested without decoding it.
 */
#ifndef CAIRN_STORAGE_MVCC_TOMBSTONE_H
#define CAIRN_STORAGE_MVCC_TOMBSTONE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

/* The index of a transaction's own range deletions: newer than every committed version. */
#define MVCC__TOMBSTONE_OWN UINT64_MAX

struct mvcc__tombstone {
	uint64_t index;      /* the log index of the deletion, or MVCC__TOMBSTONE_OWN */
	uint32_t seq;        /* its position among the deletions of its record */
	struct buf from, to; /* user keys */
	struct buf lo, hi;   /* 'v' BYTES(from), 'v' BYTES(to) */
};

struct mvcc__tombstones {
	struct mvcc__tombstone *items; /* in the order added (the store's: by index) */
	uint32_t count, cap;
	/*
	 * For lookups: the items' positions sorted by lo, and for each position in that
	 * order the largest hi up to it. A key can only lie in ranges at or before the last
	 * lo at or below it, and none of those once that running maximum is at or below it:
	 * for disjoint ranges a lookup is a bisection and one comparison.
	 */
	uint32_t *by_lo;
	struct slice *max_hi;
};

void mvcc__tombstones_init(struct mvcc__tombstones *t);
void mvcc__tombstones_free(struct mvcc__tombstones *t);

/* Appends [from, to) deleted at `index`. The caller bounds the count. */
err *mvcc__tombstones_add(struct mvcc__tombstones *t, uint64_t index, uint32_t seq,
                          struct slice from, struct slice to);

/* Makes room for n more ranges, so that taking them cannot fail. */
err *mvcc__tombstones_reserve(struct mvcc__tombstones *t, uint32_t n);

/* Moves every range of src to the end of dst (which has room: _reserve), emptying src. */
void mvcc__tombstones_take(struct mvcc__tombstones *dst, struct mvcc__tombstones *src);

/* Removes the i-th range, keeping the order of the rest. */
void mvcc__tombstones_remove(struct mvcc__tombstones *t, uint32_t i);

/*
 * Whether a version of a key, whose data-key prefix is `group`, written at `version`, is
 * hidden from a reader at `read_version`: some range holds the key, was deleted after the
 * version was written and at or before the read version.
 */
bool mvcc__tombstones_hide(const struct mvcc__tombstones *t, struct slice group, uint64_t version,
                           uint64_t read_version);

#endif
