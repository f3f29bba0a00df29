/*
 * mvcc_keys.h — how MVCC lays its state out on the KV engine (internal to storage/mvcc*).
 *
 * Three key spaces, each behind its own first byte, so user data never mixes with
 * bookkeeping and each space can be scanned on its own (the validation history is not
 * stored: it is rebuilt from the log, see mvcc_history.h):
 *
 *   'm' STRING(name)                      singletons, 8-byte big-endian values: "applied",
 *                                         "floor" (history floor), "gc" (GC low-water mark)
 *   'o' U64(index)                        while the index is in the validation window:
 *                                         the outcome of a record installed there that
 *                                         did not commit, or of the earlier entry a
 *                                         duplicate there repeated (naming that index);
 *                                         none for a commit
 *   'r' U64(index) U64(seq)               a range the record at a log index deleted
 *                                         whole (mvcc_delete_range), until GC purged it:
 *                                         BYTES(from) BYTES(to)
 *   'v' BYTES(user key) U64(~version)     one version of a user key: a tag byte (0 deleted,
 *                                         1 live) followed by the value
 *
 * STRING, BYTES and U64 are storage/keycode.h encodings. Because BYTES is escaped and
 * terminated, all versions of one user key are contiguous and user keys keep their byte
 * order; because the version is stored inverted, the newest version of a key comes first,
 * so "the newest version <= v" is one seek to 'v' BYTES(key) U64(~v).
 */
#ifndef CAIRN_STORAGE_MVCC_KEYS_H
#define CAIRN_STORAGE_MVCC_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "storage/mvcc.h"

#define MVCC__SPACE_META 'm'
#define MVCC__SPACE_OUTCOME 'o'
#define MVCC__SPACE_RANGE 'r'
#define MVCC__SPACE_DATA 'v'

/* The bytes after a data key's user-key part: the U64 tag and 8 bytes of version. */
#define MVCC__VERSION_SUFFIX 9

/* Value tags of data entries. */
#define MVCC__TAG_DELETED 0
#define MVCC__TAG_LIVE 1

/* Each writes the key into `out`, clearing it first. */
err *mvcc__key_data(struct buf *out, struct slice user_key, uint64_t version);
/* 'v' BYTES(user key): the prefix shared by all versions of the key. */
err *mvcc__key_data_prefix(struct buf *out, struct slice user_key);
err *mvcc__key_meta(struct buf *out, const char *name);
err *mvcc__key_outcome(struct buf *out, uint64_t index);
err *mvcc__key_range(struct buf *out, uint64_t index, uint64_t seq);

/*
 * The KV range [lo, hi) holding every version of the user keys in [from, to); NULL bounds
 * are the ends of the data space. Both bounds are always set.
 */
err *mvcc__data_range(const struct slice *from, const struct slice *to, struct buf *lo,
                      struct buf *hi);

/*
 * Splits a data key: the length of its user-key part (what versions of one key share)
 * and its version. ERR_CORRUPT if it is not a data key.
 */
err *mvcc__data_key_split(struct slice kv_key, size_t *group_len, uint64_t *version);

/*
 * Decodes the user key of a data key's group (its first group_len bytes, see
 * mvcc__data_key_split) into out (cleared first). ERR_CORRUPT if malformed.
 */
err *mvcc__data_group_user(struct slice group, struct buf *out);

#endif
