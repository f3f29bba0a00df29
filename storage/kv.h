/*
 * kv.h — the ordered key-value engine interface.
 *
 * Two engines implement it: the copy-on-write B+-tree (a file through the vfs) and the
 * memory engine (tests and `:memory:`). The MVCC layer is written against this interface
 * only. Keys are compared with memcmp order (a proper prefix first).
 *
 * Contract:
 *   - Writes arrive as batches. kv_apply() applies a whole batch or none of it (on error
 *     the engine is as before the call). Later reads see every applied batch.
 *   - kv_commit() makes every batch applied so far durable as one atomic step, together
 *     with up to KV_META_MAX bytes of caller metadata (the node stores its applied Raft
 *     index there). With sync=true the commit is durable when it returns; after a crash
 *     the engine reopens at exactly the last durable commit. Batches applied but not
 *     committed are lost by a crash, never partly kept. The memory engine keeps nothing
 *     across a close, and its commits only record the metadata.
 *   - An iterator reads one consistent state: what was applied when it was opened. It is
 *     valid until the next kv_apply() or kv_commit() on the engine, or its close.
 *     (Using it afterwards is a programming error that engines assert on.)
 *   - Keys are 1..KV_KEY_MAX bytes, values 0..KV_VALUE_MAX bytes; larger is ERR_LIMIT.
 *   - Corruption found on disk (a checksum mismatch) is ERR_CORRUPT naming the page; it is
 *     never returned as data.
 */
#ifndef CAIRN_STORAGE_KV_H
#define CAIRN_STORAGE_KV_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

#define KV_KEY_MAX 1024
#define KV_VALUE_MAX (64 * 1024)
#define KV_META_MAX 256
/* A batch may hold at most this many bytes of keys and values. */
#define KV_BATCH_MAX_BYTES ((size_t)256 << 20)

/* ---- write batches ---- */

enum kv_op { KV_PUT = 1, KV_DELETE = 2 };

struct kv_batch {
	struct buf ops; /* encoded operations, in the order they were added */
	uint32_t count;
};

void kv_batch_init(struct kv_batch *b);
void kv_batch_free(struct kv_batch *b);
void kv_batch_clear(struct kv_batch *b);
/* Adds an operation; checks key and value sizes. Later operations on a key win. */
err *kv_batch_put(struct kv_batch *b, struct slice key, struct slice value);
err *kv_batch_delete(struct kv_batch *b, struct slice key);

/* Walks a batch in order. */
struct kv_batch_cursor {
	const struct kv_batch *batch;
	size_t offset;
};

void kv_batch_cursor_init(struct kv_batch_cursor *c, const struct kv_batch *b);
/* Returns false at the end; otherwise sets op, key and value (empty for deletes). */
bool kv_batch_next(struct kv_batch_cursor *c, enum kv_op *op, struct slice *key,
                   struct slice *value);

/* ---- engines ---- */

struct kv_stats {
	uint64_t keys;
	uint64_t key_bytes;
	uint64_t value_bytes;
	uint64_t pages;      /* pages in the file (0 for the memory engine) */
	uint64_t free_pages; /* of those, free for reuse */
	uint64_t file_bytes;
	uint64_t commits; /* commits since open */
};

struct kv;
struct kv_iter;

struct kv_ops {
	const char *name;
	/* On success *found says whether the key exists; if so its value is copied to out. */
	err *(*get)(struct kv *kv, struct slice key, struct buf *out, bool *found);
	err *(*apply)(struct kv *kv, const struct kv_batch *batch);
	err *(*commit)(struct kv *kv, struct slice meta, bool sync);
	/* Copies the metadata of the last commit (empty if none) into out. */
	err *(*meta)(struct kv *kv, struct buf *out);
	/*
	 * Opens an iterator over keys in [from, to): from NULL means from the first key, to
	 * NULL means through the last. reverse walks from the high end down.
	 */
	err *(*iter_open)(struct kv *kv, const struct slice *from, const struct slice *to,
	                  bool reverse, struct kv_iter **out);
	err *(*stats)(struct kv *kv, struct kv_stats *out);
	/* Closes the engine; applied but uncommitted batches are discarded. */
	void (*close)(struct kv *kv);
};

struct kv_iter_ops {
	/*
	 * Moves to the next entry: *done is set true when there is none. key and value stay
	 * valid until the next call on the iterator.
	 */
	err *(*next)(struct kv_iter *it, struct slice *key, struct slice *value, bool *done);
	void (*close)(struct kv_iter *it);
};

/* Engines embed these as their first member. */
struct kv {
	const struct kv_ops *ops;
};

struct kv_iter {
	const struct kv_iter_ops *ops;
};

static inline err *kv_get(struct kv *kv, struct slice key, struct buf *out, bool *found)
{
	return kv->ops->get(kv, key, out, found);
}

static inline err *kv_apply(struct kv *kv, const struct kv_batch *batch)
{
	return kv->ops->apply(kv, batch);
}

static inline err *kv_commit(struct kv *kv, struct slice meta, bool sync)
{
	return kv->ops->commit(kv, meta, sync);
}

static inline err *kv_meta(struct kv *kv, struct buf *out)
{
	return kv->ops->meta(kv, out);
}

static inline err *kv_iter_open(struct kv *kv, const struct slice *from, const struct slice *to,
                                bool reverse, struct kv_iter **out)
{
	return kv->ops->iter_open(kv, from, to, reverse, out);
}

static inline err *kv_stats(struct kv *kv, struct kv_stats *out)
{
	return kv->ops->stats(kv, out);
}

static inline void kv_close(struct kv *kv)
{
	if (kv)
		kv->ops->close(kv);
}

static inline err *kv_iter_next(struct kv_iter *it, struct slice *key, struct slice *value,
                                bool *done)
{
	return it->ops->next(it, key, value, done);
}

static inline void kv_iter_close(struct kv_iter *it)
{
	if (it)
		it->ops->close(it);
}

/* One-operation conveniences: each applies a batch of one. */
err *kv_put(struct kv *kv, struct slice key, struct slice value);
err *kv_delete(struct kv *kv, struct slice key);

/* Checks sizes: ERR_LIMIT (or ERR_INVALID for an empty key) with a clear message. */
err *kv_check_key(struct slice key);
err *kv_check_value(struct slice value);

#endif
