/*
 * mvcc_record.h — the commit record and the stored outcome (internal to storage/mvcc*).
 *
 * A commit record is what a read-write transaction proposes to the Raft log:
 *
 *     [1, id hi, id lo, read version, [from, to|nil, ...], [key, value|nil, ...]]
 *     [2, id hi, id lo, read version, [from, to|nil, ...], [key, value|nil, ...],
 *      [from, to, ...]]
 *
 * The first list is the read set as flattened [from, to) ranges (an empty `from` is the
 * start of the key space, a nil `to` the end); the second is the write set in strictly
 * increasing key order, nil marking a deletion. Format 2 adds the ranges the transaction
 * deleted whole (mvcc_delete_range), which apply before its writes; a record without any
 * is written in format 1. Decoding trusts nothing: every count and
 * length is bounded (mvcc.h), ranges must be non-empty, write keys strictly increasing.
 *
 * A stored outcome (the value of an 'o' key: an abort, or the note of a duplicate) is
 * [index, code, message].
 */
#ifndef CAIRN_STORAGE_MVCC_RECORD_H
#define CAIRN_STORAGE_MVCC_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/codec.h"
#include "base/err.h"
#include "storage/mvcc.h"

#define MVCC__RECORD_FORMAT 1
#define MVCC__RECORD_FORMAT_RANGES 2

/* A key range [from, to); bounded = false means no upper end. */
struct mvcc__range {
	struct slice from;
	struct slice to;
	bool bounded;
};

struct mvcc__write {
	struct slice key;
	struct slice value;
	bool deleted;
};

/* Read ranges and writes a decoded record holds without allocating (most hold one). */
#define MVCC__RECORD_INLINE 4

/*
 * A decoded record; its slices point into the input bytes and the parsed document. Small
 * sets live in the record itself, so it must not be copied (it lives where it decoded).
 */
struct mvcc__record {
	struct mvcc_txn_id id;
	uint64_t read_version;
	uint32_t range_count;
	struct mvcc__range *ranges; /* inline_ranges, or allocated */
	uint32_t write_count;
	struct mvcc__write *writes; /* inline_writes, or allocated */
	uint32_t deleted_count;
	struct mvcc__range *deleted; /* the deleted ranges (all bounded), allocated */
	struct codec_doc doc;
	struct mvcc__range inline_ranges[MVCC__RECORD_INLINE];
	struct mvcc__write inline_writes[MVCC__RECORD_INLINE];
};

/* Writes for the encoder, produced one at a time in key order. */
struct mvcc__write_source {
	uint32_t count;
	void *ctx;
	err *(*next)(void *ctx, struct mvcc__write *w);
};

/*
 * Appends the record to out. `ranges` and `deleted` must be valid (non-empty, within
 * bounds; deleted ones bounded).
 */
err *mvcc__record_encode(struct buf *out, struct mvcc_txn_id id, uint64_t read_version,
                         const struct mvcc__range *ranges, uint32_t range_count,
                         const struct mvcc__write_source *writes, const struct mvcc__range *deleted,
                         uint32_t deleted_count);

/*
 * Decodes a record; ERR_DECODE if it breaks any rule, ERR_NOMEM if memory ran out (the
 * record may be fine). On success free it with _free().
 */
err *mvcc__record_decode(const uint8_t *bytes, size_t len, struct mvcc__record *r);
void mvcc__record_free(struct mvcc__record *r);

/* True if [from, to) holds at least one key. */
bool mvcc__range_nonempty(const struct mvcc__range *r);

/* The stored outcome of a transaction. */
err *mvcc__outcome_encode(struct buf *out, const struct mvcc_outcome *o);
/* Fills index, code, message and committed; ERR_CORRUPT if malformed. */
err *mvcc__outcome_decode(struct slice bytes, struct mvcc_outcome *o);

/* Sets the outcome's message (truncated to fit). */
void mvcc__outcome_say(struct mvcc_outcome *o, enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
