/*
 * mvcc_history.h — the validation history: which keys recent log entries wrote (internal).
 *
 * Backward validation asks "did any entry in (read version, this index) write a key this
 * transaction read?" The history answers without touching the data: it holds, for each of
 * the most recent applied commit records, the record's index, its transaction id and the
 * sorted keys it wrote (none if it aborted). An entry costs its key bytes plus
 * MVCC__HISTORY_ENTRY_OVERHEAD.
 *
 * The window: after each push, the oldest entries are dropped while there are more than
 * max_entries or their cost exceeds max_bytes, and once any must go, at least
 * max_entries / MVCC__HISTORY_DROP_FRACTION of them go, so the floor (and its stored
 * row) moves once per chunk rather than with every entry. What is kept is a pure function
 * of the log, so a replica that restarted and rebuilt the history (from its log:
 * mvcc_open() reads the window's records again) decides exactly like one that never
 * stopped. `floor` is the index of the newest dropped entry: a transaction whose read
 * version is below it cannot be validated.
 */
#ifndef CAIRN_STORAGE_MVCC_HISTORY_H
#define CAIRN_STORAGE_MVCC_HISTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "storage/mvcc_record.h"

#define MVCC__HISTORY_ENTRY_OVERHEAD 64
#define MVCC__HISTORY_KEY_OVERHEAD 16
/* A full window drops at least 1/64 of max_entries at once (windows below 128: one). */
#define MVCC__HISTORY_DROP_FRACTION 64

struct mvcc__history_entry {
	uint64_t index;
	struct mvcc_txn_id id;
	uint32_t key_count;
	struct slice *keys;   /* sorted, strictly increasing; one allocation with their bytes */
	uint32_t *key_hashes; /* checksum32 of each key, in the same allocation */
	uint32_t deleted_count;
	struct mvcc__range *deleted; /* ranges deleted whole; one allocation with their bytes */
	uint64_t cost;               /* what the entry counts against max_bytes */
};

/* A transaction id held by `count` entries of the history (0: a free slot), the newest at `index`. */
struct mvcc__id_slot {
	struct mvcc_txn_id id;
	uint32_t count;
	uint64_t index;
};

struct mvcc__history {
	struct mvcc__history_entry *ring;
	/*
	 * The ids of the entries held: open addressing over id_slots slots, a power of two
	 * at least 1.5 * cap, so a full ring uses at most two thirds of them.
	 */
	struct mvcc__id_slot *ids;
	uint32_t id_slots;
	uint32_t cap;  /* allocated slots */
	uint32_t head; /* slot of the oldest entry */
	uint32_t count;
	uint32_t max_entries;
	uint64_t max_bytes;
	uint64_t bytes; /* total cost of the entries held */
	uint64_t floor;
};

void mvcc__history_init(struct mvcc__history *h, uint32_t max_entries, uint64_t max_bytes);
void mvcc__history_free(struct mvcc__history *h);

/*
 * Makes an entry holding copies of n keys, which must be strictly increasing: the i-th is
 * the slice at byte offset i * stride from `keys` (stride sizeof(struct slice) for an
 * array of slices; a larger one picks a slice member out of an array of structs).
 */
err *mvcc__history_entry_make(struct mvcc__history_entry *e, uint64_t index, struct mvcc_txn_id id,
                              const struct slice *keys, size_t stride, uint32_t n);
/* Adds copies of the n ranges the entry's record deleted whole (bounded ones). */
err *mvcc__history_entry_add_deleted(struct mvcc__history_entry *e,
                                     const struct mvcc__range *deleted, uint32_t n);
void mvcc__history_entry_free(struct mvcc__history_entry *e);

/* The i-th oldest entry, i < count. */
const struct mvcc__history_entry *mvcc__history_at(const struct mvcc__history *h, uint32_t i);

/* Makes room for one more entry, so that a later push cannot fail. */
err *mvcc__history_reserve(struct mvcc__history *h);

/*
 * How many of the oldest entries the window drops once `incoming` is pushed: none while
 * it fits, else at least a chunk (this may include `incoming` itself when it alone is
 * over the byte bound).
 */
uint32_t mvcc__history_drop_count(const struct mvcc__history *h,
                                  const struct mvcc__history_entry *incoming);

/* Takes ownership of e (after _reserve), whose index exceeds every held index. */
void mvcc__history_push(struct mvcc__history *h, struct mvcc__history_entry *e);

/* Drops the oldest entry, raising the floor to its index. */
void mvcc__history_drop_oldest(struct mvcc__history *h);

/*
 * Whether an entry of the history has transaction id `id` (then *index is its log index),
 * without touching the store: an id the history does not hold has no outcome to find.
 */
bool mvcc__history_find_id(const struct mvcc__history *h, struct mvcc_txn_id id, uint64_t *index);

/*
 * True if an entry with index > read_version wrote a key inside one of the ranges (or
 * deleted a range overlapping one); then
 * *at is the index of the oldest such entry.
 */
bool mvcc__history_conflict(const struct mvcc__history *h, uint64_t read_version,
                            const struct mvcc__range *ranges, uint32_t range_count, uint64_t *at);

#endif
