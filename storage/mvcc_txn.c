/*
 * mvcc_txn.c — transactions: snapshot reads, the write buffer, the read set, commit records.
 *
 * A transaction never changes the store. Its writes go to a private memory engine keyed
 * by user key (a tag byte says live value or deletion), which gives key-ordered iteration
 * for merged scans and for the commit record's sorted write set. Point reads consult the
 * buffer first, then the store at the read version; only reads the buffer did not answer
 * join the read set, because reading one's own write depends on nobody else.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "storage/kv_memory.h"
#include "storage/mvcc_internal.h"
#include "storage/mvcc_keys.h"

err *mvcc__read_committed(struct mvcc *m, struct slice user_key, uint64_t version,
                          const struct mvcc__tombstones *own, struct buf *scratch_key,
                          struct buf *out, bool *found)
{
	*found = false;
	TRY(mvcc__key_data(scratch_key, user_key, version));
	struct slice from = buf_slice(scratch_key);
	size_t group_len = scratch_key->len - MVCC__VERSION_SUFFIX;
	struct kv_iter *it;
	TRY(kv_iter_open(m->kv, &from, NULL, false, &it));
	struct slice k, v;
	bool done;
	err *e = kv_iter_next(it, &k, &v, &done);
	/* The first row at or after (key, ~version) is the key's newest version <= version. */
	if (!e && !done && k.len == scratch_key->len &&
	    memcmp(k.ptr, scratch_key->data, group_len) == 0) {
		size_t glen;
		uint64_t found_version;
		e = mvcc__data_key_split(k, &glen, &found_version);
		assert(e || found_version <= version);
		if (!e && v.len == 0)
			e = err_new(ERR_CORRUPT, "MVCC data row without a tag");
		struct slice group = slice_of(k.ptr, group_len);
		bool hidden =
		    !e && (mvcc__tombstones_hide(&m->deleted, group, found_version, version) ||
		           (own && mvcc__tombstones_hide(own, group, found_version, version)));
		if (!e && !hidden && v.ptr[0] == MVCC__TAG_LIVE) {
			buf_clear(out);
			e = buf_append(out, v.ptr + 1, v.len - 1);
			*found = e == NULL;
		}
	}
	kv_iter_close(it);
	return e;
}

err *mvcc__txn_usable(const struct mvcc_txn *txn)
{
	assert(txn != NULL && txn->m != NULL);
	if (txn->ended)
		return err_new(ERR_INVALID, "the transaction has ended");
	return NULL;
}

void mvcc__txn_record_read(struct mvcc_txn *txn, struct slice from, const struct slice *to)
{
	if (txn->read_only || txn->poisoned)
		return;
	txn->poisoned = mvcc__readset_add(&txn->reads, from, to);
}

static err *mvcc__check_key(struct slice key)
{
	if (key.len == 0)
		return err_new(ERR_INVALID, "empty key");
	if (key.len > MVCC_KEY_MAX)
		return err_new(ERR_LIMIT, "key of %zu bytes exceeds the limit of %d bytes", key.len,
		               MVCC_KEY_MAX);
	return NULL;
}

/* ---- beginning and ending ---- */

err *mvcc_begin(struct mvcc *m, uint64_t read_version, unsigned flags, struct mvcc_txn **out)
{
	assert(m != NULL && out != NULL);
	*out = NULL;
	if (flags & ~MVCC_READ_ONLY)
		return err_new(ERR_INVALID, "unknown transaction flags %#x", flags);
	uint64_t v = read_version == MVCC_LATEST ? m->applied : read_version;
	if (v > m->applied)
		return err_new(ERR_INVALID, "version %llu is not applied yet (applied: %llu)",
		               (unsigned long long)v, (unsigned long long)m->applied);
	if (v < m->gc_low_water)
		return err_new(ERR_INVALID,
		               "version %llu has been garbage-collected (the oldest readable "
		               "version is %llu)",
		               (unsigned long long)v, (unsigned long long)m->gc_low_water);
	if (m->open_txns >= MVCC__MAX_OPEN_TXNS)
		return err_new(ERR_LIMIT, "too many open transactions (%d)", MVCC__MAX_OPEN_TXNS);
	struct mvcc_txn *txn = calloc(1, sizeof *txn);
	if (!txn)
		return err_new(ERR_NOMEM, "cannot begin a transaction");
	txn->m = m;
	txn->read_version = v;
	txn->read_only = flags & MVCC_READ_ONLY;
	txn->id.hi = prng_next(m->prng);
	txn->id.lo = prng_next(m->prng) | 1; /* never the zero id of undecodable records */
	mvcc__readset_init(&txn->reads);
	mvcc__tombstones_init(&txn->deleted);
	buf_init(&txn->key, KV_KEY_MAX);
	buf_init(&txn->value, KV_VALUE_MAX);
	kv_batch_init(&txn->buffer);
	if (!txn->read_only) {
		err *e = kvmem_open(&txn->writes);
		if (e) {
			mvcc__readset_free(&txn->reads);
			free(txn);
			return e;
		}
	}
	txn->next = m->txns;
	if (m->txns)
		m->txns->prev = txn;
	m->txns = txn;
	m->open_txns++;
	assert(m->open_txns <= MVCC__MAX_OPEN_TXNS);
	assert(txn->read_only == (txn->writes == NULL));
	*out = txn;
	return NULL;
}

void mvcc_txn_free(struct mvcc_txn *txn)
{
	if (!txn)
		return;
	struct mvcc *m = txn->m;
	assert(txn->open_scans == 0);
	assert(m->open_txns > 0);
	if (txn->prev)
		txn->prev->next = txn->next;
	else
		m->txns = txn->next;
	if (txn->next)
		txn->next->prev = txn->prev;
	m->open_txns--;
	mvcc__readset_free(&txn->reads);
	mvcc__tombstones_free(&txn->deleted);
	kv_close(txn->writes);
	buf_free(&txn->key);
	buf_free(&txn->value);
	kv_batch_free(&txn->buffer);
	err_free(txn->poisoned);
	free(txn);
}

struct mvcc_txn_id mvcc_txn_id(const struct mvcc_txn *txn)
{
	return txn->id;
}

uint64_t mvcc_txn_read_version(const struct mvcc_txn *txn)
{
	return txn->read_version;
}

bool mvcc_txn_is_read_only(const struct mvcc_txn *txn)
{
	return txn->read_only || (txn->write_keys == 0 && txn->deleted.count == 0);
}

/* ---- reads and writes ---- */

err *mvcc_get(struct mvcc_txn *txn, struct slice key, struct buf *value, bool *found)
{
	*found = false;
	TRY(mvcc__txn_usable(txn));
	TRY(mvcc__check_key(key));
	assert(txn->read_version <= txn->m->applied);
	if (txn->writes) {
		bool buffered;
		TRY(kv_get(txn->writes, key, &txn->value, &buffered));
		if (buffered) {
			assert(txn->value.len >= 1);
			if (txn->value.data[0] != MVCC__TAG_LIVE)
				return NULL;
			buf_clear(value);
			TRY(buf_append(value, txn->value.data + 1, txn->value.len - 1));
			*found = true;
			return NULL;
		}
	}
	TRY(mvcc__read_committed(txn->m, key, txn->read_version, &txn->deleted, &txn->key, value,
	                         found));
	if (!txn->read_only && !txn->poisoned)
		txn->poisoned = mvcc__readset_add_key(&txn->reads, key);
	return NULL;
}

/* Buffers a put (value != NULL) or a deletion, within the write-set bounds. */
static err *mvcc__txn_write(struct mvcc_txn *txn, struct slice key, const struct slice *value)
{
	TRY(mvcc__txn_usable(txn));
	if (txn->read_only)
		return err_new(ERR_INVALID, "cannot write in a read-only transaction");
	TRY(mvcc__check_key(key));
	size_t value_len = value ? value->len : 0;
	if (value_len > MVCC_VALUE_MAX)
		return err_new(ERR_LIMIT, "value of %zu bytes exceeds the limit of %d bytes",
		               value_len, MVCC_VALUE_MAX);
	bool existed;
	TRY(kv_get(txn->writes, key, &txn->value, &existed));
	uint64_t old_bytes = existed ? key.len + txn->value.len : 0;
	uint64_t new_bytes = key.len + 1 + value_len;
	if (!existed && txn->write_keys >= MVCC_TXN_MAX_WRITES)
		return err_new(ERR_LIMIT, "a transaction may write at most %d keys",
		               MVCC_TXN_MAX_WRITES);
	if (txn->write_bytes - old_bytes + new_bytes > MVCC_TXN_MAX_WRITE_BYTES)
		return err_new(ERR_LIMIT, "a transaction may write at most %zu bytes",
		               MVCC_TXN_MAX_WRITE_BYTES);
	uint8_t tag = value ? MVCC__TAG_LIVE : MVCC__TAG_DELETED;
	buf_clear(&txn->value);
	TRY(buf_append(&txn->value, &tag, 1));
	if (value)
		TRY(buf_append(&txn->value, value->ptr, value->len));
	kv_batch_clear(&txn->buffer);
	TRY(kv_batch_put(&txn->buffer, key, buf_slice(&txn->value)));
	TRY(kv_apply(txn->writes, &txn->buffer));
	txn->write_keys += !existed;
	txn->write_bytes = txn->write_bytes - old_bytes + new_bytes;
	txn->write_generation++;
	assert(txn->write_keys <= MVCC_TXN_MAX_WRITES);
	assert(txn->write_bytes <= MVCC_TXN_MAX_WRITE_BYTES);
	return NULL;
}

err *mvcc_put(struct mvcc_txn *txn, struct slice key, struct slice value)
{
	return mvcc__txn_write(txn, key, &value);
}

err *mvcc_delete(struct mvcc_txn *txn, struct slice key)
{
	return mvcc__txn_write(txn, key, NULL);
}

/* Drops the buffered writes in [from, to) (at most MVCC_TXN_MAX_WRITES of them). */
static err *mvcc__txn_unbuffer(struct mvcc_txn *txn, struct slice from, struct slice to)
{
	struct kv_iter *it;
	TRY(kv_iter_open(txn->writes, &from, &to, false, &it));
	kv_batch_clear(&txn->buffer);
	uint32_t keys = 0;
	uint64_t bytes = 0;
	err *e = NULL;
	for (uint32_t i = 0; i <= MVCC_TXN_MAX_WRITES; i++) {
		struct slice k, v;
		bool done;
		e = kv_iter_next(it, &k, &v, &done);
		if (e || done)
			break;
		keys++;
		bytes += k.len + v.len;
		e = kv_batch_delete(&txn->buffer, k);
		if (e)
			break;
	}
	kv_iter_close(it);
	if (!e && keys)
		e = kv_apply(txn->writes, &txn->buffer);
	kv_batch_clear(&txn->buffer);
	if (e)
		return e;
	assert(keys <= txn->write_keys && bytes <= txn->write_bytes);
	txn->write_keys -= keys;
	txn->write_bytes -= bytes;
	return NULL;
}

err *mvcc_delete_range(struct mvcc_txn *txn, struct slice from, struct slice to)
{
	TRY(mvcc__txn_usable(txn));
	if (txn->read_only)
		return err_new(ERR_INVALID, "cannot write in a read-only transaction");
	if (from.len == 0 || to.len == 0)
		return err_new(ERR_INVALID, "a deleted range needs both bounds");
	if (from.len > MVCC_KEY_MAX + 1 || to.len > MVCC_KEY_MAX + 1)
		return err_new(ERR_LIMIT, "a deleted range's bound exceeds %d bytes",
		               MVCC_KEY_MAX + 1);
	if (slice_cmp(from, to) >= 0)
		return err_new(ERR_INVALID, "a deleted range must not be empty");
	if (txn->deleted.count >= MVCC_TXN_MAX_RANGE_DELETES)
		return err_new(ERR_LIMIT, "a transaction may delete at most %d ranges",
		               MVCC_TXN_MAX_RANGE_DELETES);
	if (txn->m->deleted.count >= MVCC_RANGE_DELETES_PENDING_MAX)
		return err_new(ERR_LIMIT, "%u deleted ranges await garbage collection; retry later",
		               txn->m->deleted.count);
	TRY(mvcc__tombstones_add(&txn->deleted, MVCC__TOMBSTONE_OWN, txn->deleted.count, from, to));
	err *e = mvcc__txn_unbuffer(txn, from, to);
	if (e) {
		/* the buffer may have lost part of the range: the transaction cannot commit */
		err *out = err_new(err_code(e), "could not delete a range: %s", err_msg(e));
		if (!txn->poisoned)
			txn->poisoned = err_wrap(e, "deleting a range");
		else
			err_free(e);
		return out;
	}
	txn->write_generation++;
	return NULL;
}

/* ---- committing ---- */

/* Feeds the buffered writes, in key order, to the record encoder. */
static err *mvcc__next_buffered_write(void *ctx, struct mvcc__write *w)
{
	struct kv_iter *it = ctx;
	struct slice value;
	bool done;
	TRY(kv_iter_next(it, &w->key, &value, &done));
	if (done || value.len == 0)
		return err_new(ERR_INTERNAL, "the write buffer changed while being encoded");
	w->deleted = value.ptr[0] != MVCC__TAG_LIVE;
	w->value = slice_of(value.ptr + 1, value.len - 1);
	return NULL;
}

err *mvcc_txn_encode_commit(struct mvcc_txn *txn, struct buf *out)
{
	TRY(mvcc__txn_usable(txn));
	if (txn->read_only)
		return err_new(ERR_INVALID, "a read-only transaction has nothing to commit");
	if (txn->open_scans)
		return err_new(ERR_INVALID, "close the transaction's scans before committing");
	if (txn->poisoned)
		return err_new(err_code(txn->poisoned), "the read set is incomplete: %s",
		               err_msg(txn->poisoned));
	uint32_t n = txn->reads.count;
	assert(n <= MVCC_READ_SET_MAX_RANGES);
	assert(txn->writes != NULL);
	uint32_t d = txn->deleted.count;
	struct mvcc__range *ranges = malloc((n + d ? n + d : 1) * sizeof *ranges);
	if (!ranges)
		return err_new(ERR_NOMEM, "cannot encode a commit record");
	for (uint32_t i = 0; i < n; i++)
		ranges[i] = mvcc__readset_get(&txn->reads, i);
	for (uint32_t i = 0; i < d; i++)
		ranges[n + i] = (struct mvcc__range){.from = buf_slice(&txn->deleted.items[i].from),
		                                     .to = buf_slice(&txn->deleted.items[i].to),
		                                     .bounded = true};
	struct kv_iter *it;
	err *e = kv_iter_open(txn->writes, NULL, NULL, false, &it);
	if (!e) {
		struct mvcc__write_source src = {
		    .count = txn->write_keys, .ctx = it, .next = mvcc__next_buffered_write};
		e = mvcc__record_encode(out, txn->id, txn->read_version, ranges, n, &src,
		                        ranges + n, d);
		kv_iter_close(it);
	}
	free(ranges);
	return e;
}

err *mvcc_commit_local(struct mvcc *m, struct mvcc_txn *txn, struct mvcc_outcome *out)
{
	assert(txn->m == m);
	memset(out, 0, sizeof *out);
	out->txn_id = txn->id;
	TRY(mvcc__txn_usable(txn));
	if (txn->open_scans)
		return err_new(ERR_INVALID, "close the transaction's scans before committing");
	if (mvcc_txn_is_read_only(txn)) {
		out->committed = true;
		txn->ended = true;
		return NULL;
	}
	struct buf record;
	buf_init(&record, MVCC_RECORD_MAX_BYTES);
	err *e = mvcc_txn_encode_commit(txn, &record);
	if (!e)
		e = mvcc_apply(m, record.data, record.len, m->applied + 1, out);
	buf_free(&record);
	if (e)
		return e;
	txn->ended = true;
	assert(out->index == m->applied);
	return mvcc_flush(m, true);
}
