/*
 * mvcc.c — the MVCC store: applying committed transactions, validation, durability, GC.
 *
 * How it works, by example
 * ========================
 *
 * Every node holds a copy of one key-value store and applies the same Raft log to it. The
 * trick that makes MVCC easy in that setting: a version is the log index of the entry
 * that wrote it. All replicas apply the same entries in the same order, so they all give
 * the same versions to the same writes, without any clock.
 *
 * Say the log holds three entries, where T1 and T2 are committed transactions:
 *
 *     index 1   T1 writes a = 1, b = 1
 *     index 2   (a Raft no-op: mvcc_advance)
 *     index 3   T2 writes a = 2
 *
 * The store then holds one row per version, newest first within a key (mvcc_keys.h):
 *
 *     a @3 = 2
 *     a @1 = 1
 *     b @1 = 1
 *
 * Snapshot reads. A transaction begins at a read version and sees the newest version of
 * each key at or below it. T3 begins at version 2 and reads a = 1: a @3 does not exist for
 * it. T4 begins at version 3 and reads a = 2. Reads never block and never wait for
 * writers; a replica answers them from its own copy once it has applied the read version.
 * Because versions above the read version are invisible, a snapshot does not move while
 * later entries are applied underneath it.
 *
 * The write buffer. Writes are not applied when made. T3 computes b = a + 1 and writes
 * b = 2 into its private buffer; its own reads of b now return 2 (the buffer is consulted
 * first and merged into scans), everyone else still sees b @1 = 1.
 *
 * The commit record. To commit, T3 encodes {id, read version 2, read set, write set}:
 * the read set says it read a and b (scans contribute key ranges), the write set holds
 * b = 2. That record is proposed to Raft and lands at, say, index 4. T4 meanwhile read b
 * and wrote b = 10; its record lands at index 5.
 *
 * Backward validation. Applying index 4, every replica asks: did an entry in (2, 4), after
 * T3's snapshot and before its commit, write anything T3 read? Index 3 wrote a, so T3
 * read a stale a: it aborts with "serialization failure, retry transaction" and writes
 * nothing. Applying index 5: T4 read at 3; entry 4 wrote nothing, so T4 commits and
 * b @5 = 10 is installed. Every committed transaction therefore behaves as if it ran
 * alone at its commit index: the history is serializable in log order. A read-only
 * transaction needs no validation at all, its snapshot being the state after a prefix of
 * that serial order; it never touches the log.
 *
 * To answer the validation question without scanning tables, the store keeps the keys
 * written by each recent entry in memory (mvcc_history.h), and persists them, so a
 * restarted replica rebuilds exactly the same window. A transaction that read at a
 * version older than the window cannot be validated; it gets ERR_UNKNOWN_OUTCOME, never a
 * wrong answer.
 *
 * Idempotency. The outcome of every applied record is remembered for as long as it is in
 * the window; applying a record a second time (a client retrying a commit whose answer it
 * lost) returns the first outcome and writes nothing but a note that the index was a
 * duplicate. Only the exceptions are stored (mvcc_keys.h): a record installed without an
 * outcome row committed, which is most of them, so a commit costs no bookkeeping row.
 *
 * Durability and restarts. mvcc_apply() changes the KV with kv_apply() only, recording the
 * applied index in a meta row of the same batch; mvcc_flush() commits everything applied
 * so far with one kv_commit() whose metadata also holds the applied index. After a crash
 * the engine is back at the last commit, rows and metadata together, and the node
 * re-applies its log from mvcc_applied_version() + 1. Re-applying an entry reproduces it
 * exactly because applying is a pure function of (state, record, index).
 *
 * Garbage collection. mvcc_gc(low_water) deletes, per key, every version older than the
 * newest version at or below low_water (and that one too if it is a deletion): no
 * snapshot at or above low_water can see them. Reads below the mark are refused.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/checksum.h"
#include "base/codec.h"
#include "base/mutation.h"
#include "storage/keycode.h"
#include "storage/mvcc_internal.h"
#include "storage/mvcc_keys.h"

/* GC applies its deletions in batches of this many, to bound the batch size. */
#define MVCC__GC_CHUNK 4096
/* A bounded sweep that keeps finding nothing slows down to 1/MVCC__GC_SLOWDOWN of its slice. */
#define MVCC__GC_SLOWDOWN 16
/*
 * The metadata written by mvcc_flush: [format, applied version]. Format 1 stored the
 * validation history in 'h' rows; format 2 rebuilds it from the log and stores an outcome
 * row for every installed record; format 3 stores outcome rows only for aborts and
 * duplicates. A format 2 store is read and converted (mvcc__restore_entry).
 */
#define MVCC__META_FORMAT 3
#define MVCC__META_FORMAT_ALL_OUTCOMES 2

/* ---- meta rows and batches ---- */

/* Reads the meta row `name`; 0 if absent. ERR_CORRUPT if it is not 8 bytes. */
static err *mvcc__meta_get(struct mvcc *m, const char *name, uint64_t *out)
{
	bool found;
	*out = 0;
	TRY(mvcc__key_meta(&m->key, name));
	TRY(kv_get(m->kv, buf_slice(&m->key), &m->value, &found));
	if (!found)
		return NULL;
	if (m->value.len != 8)
		return err_new(ERR_CORRUPT, "MVCC meta row %s has %zu bytes", name, m->value.len);
	*out = load_u64be(m->value.data);
	return NULL;
}

static err *mvcc__batch_meta(struct mvcc *m, const char *name, uint64_t v)
{
	uint8_t bytes[8];
	store_u64be(bytes, v);
	TRY(mvcc__key_meta(&m->key, name));
	return kv_batch_put(&m->batch, buf_slice(&m->key), slice_of(bytes, 8));
}

/* Applies and empties m->batch; kv iterators die, so the generation moves. */
static err *mvcc__batch_apply(struct mvcc *m)
{
	err *e = kv_apply(m->kv, &m->batch);
	kv_batch_clear(&m->batch);
	m->kv_generation++;
	return e;
}

/*
 * Records that entry `index` installed a record (or found it a duplicate): the "applied"
 * row, which names the last such entry, follows lazily. Writing it with every entry cost
 * a second B+-tree update per apply (a descent and an undo copy of the meta page), while
 * only a flush (which makes it durable), a close (after which an engine that kept its
 * unflushed batches is reopened from it) and the state hash (which compares replicas row
 * by row) look at it; each of them brings it up to date first (mvcc__row_sync).
 */
static void mvcc__row_note(struct mvcc *m, uint64_t index)
{
	m->applied = index;
	m->last_record = index;
}

/* Writes the "applied" row if it lags the last installed record. */
static err *mvcc__row_sync(struct mvcc *m)
{
	if (m->applied_row == m->last_record)
		return NULL;
	assert(m->batch.count == 0);
	TRY(mvcc__batch_meta(m, "applied", m->last_record));
	TRY(mvcc__batch_apply(m));
	m->applied_row = m->last_record;
	return NULL;
}

/* ---- opening: applied version, floor and history ---- */

static err *mvcc__meta_decode(struct slice meta, uint64_t *applied, uint64_t *format)
{
	*applied = 0;
	*format = MVCC__META_FORMAT;
	if (meta.len == 0)
		return NULL;
	struct codec_doc doc;
	const msgpack_object *root;
	err *e = codec_parse(&doc, meta.ptr, meta.len, &root);
	if (!e) {
		struct codec_in in;
		codec_in_init(&in, root, 2, 2);
		*format = codec_get_u64(&in);
		*applied = codec_get_u64(&in);
		e = codec_in_end(&in, false);
		codec_doc_free(&doc);
	}
	if (e) {
		err_free(e);
		return err_new(ERR_CORRUPT, "the KV commit metadata is not MVCC's");
	}
	if (*format != MVCC__META_FORMAT && *format != MVCC__META_FORMAT_ALL_OUTCOMES)
		return err_new(
		    ERR_CORRUPT,
		    "the store has MVCC format %llu; this version reads formats %d and %d",
		    (unsigned long long)*format, MVCC__META_FORMAT_ALL_OUTCOMES, MVCC__META_FORMAT);
	return NULL;
}

/* The outcome stored for the record installed at log index `index`, if there is one. */
static err *mvcc__outcome_stored(struct mvcc *m, uint64_t index, struct mvcc_outcome *out,
                                 bool *found)
{
	TRY(mvcc__key_outcome(&m->key, index));
	TRY(kv_get(m->kv, buf_slice(&m->key), &m->value, found));
	if (*found)
		TRY(mvcc__outcome_decode(buf_slice(&m->value), out));
	return NULL;
}

/*
 * The history entry of record `r` installed at `index`: its written keys and deleted
 * ranges if it committed.
 */
static err *mvcc__record_entry(const struct mvcc__record *r, uint64_t index, bool committed,
                               struct mvcc__history_entry *out)
{
	uint32_t n = committed ? r->write_count : 0;
	TRY(mvcc__history_entry_make(out, index, r->id, &r->writes[0].key, sizeof *r->writes, n));
	err *e = committed && r->deleted_count
	             ? mvcc__history_entry_add_deleted(out, r->deleted, r->deleted_count)
	             : NULL;
	if (e)
		mvcc__history_entry_free(out);
	return e;
}

/* Puts into m->batch the note that the record at `index` was a duplicate answered `out`. */
static err *mvcc__batch_duplicate(struct mvcc *m, uint64_t index, const struct mvcc_outcome *out)
{
	assert(out->index < index);
	TRY(mvcc__key_outcome(&m->key, index));
	buf_clear(&m->value);
	TRY(mvcc__outcome_encode(&m->value, out));
	return kv_batch_put(&m->batch, buf_slice(&m->key), buf_slice(&m->value));
}

/*
 * Format 2 stored an outcome for every installed record and nothing for a duplicate; this
 * adds the note format 3 keeps for the duplicate at `index` of transaction `id`, naming
 * the entry it repeated if the window still holds it (else the floor: the note's outcome
 * is never answered, only its index below `index` read).
 */
static err *mvcc__convert_duplicate(struct mvcc *m, uint64_t index, struct mvcc_txn_id id)
{
	struct mvcc_outcome o = {.txn_id = id, .committed = true};
	if (!mvcc__history_find_id(&m->history, id, &o.index))
		o.index = m->history.floor;
	kv_batch_clear(&m->batch);
	TRY(mvcc__batch_duplicate(m, index, &o));
	return mvcc__batch_apply(m);
}

/*
 * Adds to the history the entry that record `bytes` of log index `index` made, if it made
 * one. An outcome row naming this index is the outcome the record was installed with; one
 * naming an earlier index marks a duplicate, which made no entry; without a row, the
 * record was installed and committed (format 2: was a duplicate, converted here). An
 * undecodable record made none.
 */
static err *mvcc__restore_entry(struct mvcc *m, uint64_t index, const struct buf *bytes,
                                uint64_t format)
{
	struct mvcc__record r;
	err *e = mvcc__record_decode(bytes->data, bytes->len, &r);
	if (e && err_code(e) != ERR_DECODE)
		return e; /* out of memory: the entry may well be in the window */
	if (e) {
		err_free(e);
		return NULL;
	}
	struct mvcc_outcome o = {.index = index, .committed = true};
	bool found = false;
	e = mvcc__outcome_stored(m, index, &o, &found);
	if (!e && o.index > index)
		e = err_new(ERR_CORRUPT, "the outcome stored at %llu names the later index %llu",
		            (unsigned long long)index, (unsigned long long)o.index);
	bool made = o.index == index;
	if (!e && !found && format == MVCC__META_FORMAT_ALL_OUTCOMES) {
		made = false;
		e = mvcc__convert_duplicate(m, index, r.id);
	}
	struct mvcc__history_entry h;
	if (!e && made)
		e = mvcc__record_entry(&r, index, o.committed, &h);
	if (!e && made) {
		e = mvcc__history_reserve(&m->history);
		if (e)
			mvcc__history_entry_free(&h);
		else
			mvcc__history_push(&m->history, &h);
	}
	mvcc__record_free(&r);
	return e;
}

/*
 * Puts into m->batch the deletion of the keys in [from, to), at most `max` of them;
 * *more says whether keys were left over.
 */
static err *mvcc__batch_delete_keys(struct mvcc *m, struct slice from, struct slice to,
                                    uint64_t max, bool *more)
{
	*more = false;
	struct kv_iter *it;
	TRY(kv_iter_open(m->kv, &from, &to, false, &it));
	err *e = NULL;
	for (uint64_t n = 0; !e; n++) {
		struct slice k, v;
		bool done;
		e = kv_iter_next(it, &k, &v, &done);
		if (e || done)
			break;
		if (n == max) {
			*more = true;
			break;
		}
		e = kv_batch_delete(&m->batch, k);
	}
	kv_iter_close(it);
	return e;
}

/*
 * Starts the history empty at the applied version: the outcomes stored for the old window
 * can no longer be reached, so they are deleted (in chunks, like GC), and the floor moves
 * to the applied version.
 */
static err *mvcc__forget_window(struct mvcc *m)
{
	uint8_t lo = MVCC__SPACE_OUTCOME, hi = MVCC__SPACE_OUTCOME + 1;
	/* every round deletes a chunk of the at most `applied` outcomes, or ends */
	bool more = true;
	for (uint64_t round = 0; more && round <= m->applied / MVCC__GC_CHUNK + 1; round++) {
		kv_batch_clear(&m->batch);
		err *e = mvcc__batch_delete_keys(m, slice_of(&lo, 1), slice_of(&hi, 1),
		                                 MVCC__GC_CHUNK, &more);
		if (!e && m->batch.count > 0)
			e = mvcc__batch_apply(m);
		if (e) {
			kv_batch_clear(&m->batch);
			return e;
		}
	}
	m->history.floor = m->applied;
	TRY(mvcc__batch_meta(m, "floor", m->applied));
	return mvcc__batch_apply(m);
}

/*
 * Rebuilds the validation history from the log: the entries after the stored floor up to
 * the applied version, the window as it was. Without a log to read, the history starts
 * empty at the applied version.
 */
static err *mvcc__restore_history(struct mvcc *m, const struct mvcc_log_source *log,
                                  uint64_t format)
{
	assert(m->history.count == 0);
	if (!log->load)
		return mvcc__forget_window(m);
	struct buf bytes;
	buf_init(&bytes, MVCC_RECORD_MAX_BYTES);
	err *e = NULL;
	for (uint64_t i = m->history.floor + 1; !e && i <= m->applied; i++) {
		buf_clear(&bytes);
		e = log->load(log->ctx, i, &bytes);
		if (!e && bytes.len > 0)
			e = mvcc__restore_entry(m, i, &bytes, format);
	}
	buf_free(&bytes);
	if (e)
		return err_wrap(e, "rebuilding the validation history");
	if (m->history.count > m->history.max_entries || m->history.bytes > m->history.max_bytes)
		return err_new(ERR_CORRUPT, "the validation history rebuilt from the log "
		                            "overflows its window: the options changed?");
	return NULL;
}

/* The value of a stored range deletion: BYTES(from) BYTES(to). */
static err *mvcc__range_value(struct buf *out, struct slice from, struct slice to)
{
	buf_clear(out);
	TRY(keycode_put_bytes(out, from));
	return keycode_put_bytes(out, to);
}

/* Loads the range deletions GC has not purged yet ('r' rows), in index order. */
static err *mvcc__load_deleted(struct mvcc *m)
{
	uint8_t lo = MVCC__SPACE_RANGE, hi = MVCC__SPACE_RANGE + 1;
	struct slice l = slice_of(&lo, 1), h = slice_of(&hi, 1);
	struct kv_iter *it;
	TRY(kv_iter_open(m->kv, &l, &h, false, &it));
	struct buf from, to;
	buf_init(&from, MVCC_KEY_MAX + 1);
	buf_init(&to, MVCC_KEY_MAX + 1);
	err *e = NULL;
	for (;;) {
		struct slice k, v;
		bool done;
		e = kv_iter_next(it, &k, &v, &done);
		if (e || done)
			break;
		uint64_t index, seq;
		struct slice key = slice_of(k.ptr + 1, k.len - 1);
		e = keycode_get_u64(&key, &index);
		if (!e)
			e = keycode_get_u64(&key, &seq);
		buf_clear(&from); /* keycode_get_bytes appends */
		buf_clear(&to);
		if (!e)
			e = keycode_get_bytes(&v, &from);
		if (!e)
			e = keycode_get_bytes(&v, &to);
		if (!e && (key.len || v.len || from.len == 0 || seq > UINT32_MAX ||
		           slice_cmp(buf_slice(&from), buf_slice(&to)) >= 0 || index > m->applied))
			e = err_new(ERR_CORRUPT, "malformed stored range deletion");
		if (!e)
			e = mvcc__tombstones_add(&m->deleted, index, (uint32_t)seq,
			                         buf_slice(&from), buf_slice(&to));
		if (e) {
			if (err_code(e) != ERR_NOMEM && err_code(e) != ERR_CORRUPT)
				e = err_new(ERR_CORRUPT, "malformed stored range deletion: %s",
				            err_msg(e));
			break;
		}
	}
	kv_iter_close(it);
	buf_free(&from);
	buf_free(&to);
	return e;
}

static err *mvcc__load(struct mvcc *m, const struct mvcc_log_source *log)
{
	TRY(kv_meta(m->kv, &m->value));
	uint64_t flushed, stored, format;
	TRY(mvcc__meta_decode(buf_slice(&m->value), &flushed, &format));
	TRY(mvcc__meta_get(m, "applied", &stored));
	TRY(mvcc__meta_get(m, "floor", &m->history.floor));
	TRY(mvcc__meta_get(m, "gc", &m->gc_low_water));
	/*
	 * A flush writes both, a close and a state hash the row (mvcc__row_sync); the row
	 * names the last entry that installed a record. An engine that lost unflushed
	 * batches has row <= metadata; one that kept them (a memory engine reopened after a
	 * close) may have row > metadata.
	 */
	m->applied = stored > flushed ? stored : flushed;
	m->last_record = m->applied_row = stored;
	if (m->history.floor > m->applied || m->gc_low_water > m->applied)
		return err_new(ERR_CORRUPT, "MVCC meta rows lie beyond the applied version");
	TRY(mvcc__load_deleted(m));
	TRY(mvcc__restore_history(m, log, format));
	/* a converted store says so at once, before anything is applied the new way */
	return format == MVCC__META_FORMAT ? NULL : mvcc_flush(m, true);
}

err *mvcc_open(struct kv *kv, const struct mvcc_options *options, struct mvcc **out)
{
	*out = NULL;
	if (!kv || !options || !options->prng)
		return err_new(ERR_INVALID,
		               "MVCC needs a KV engine and a PRNG for transaction ids");
	struct mvcc *m = calloc(1, sizeof *m);
	if (!m)
		return err_new(ERR_NOMEM, "cannot open MVCC");
	m->kv = kv;
	m->prng = options->prng;
	mvcc__history_init(&m->history,
	                   options->history_max_entries ? options->history_max_entries
	                                                : MVCC_DEFAULT_HISTORY_MAX_ENTRIES,
	                   options->history_max_bytes ? options->history_max_bytes
	                                              : MVCC_DEFAULT_HISTORY_MAX_BYTES);
	kv_batch_init(&m->batch);
	mvcc__tombstones_init(&m->deleted);
	buf_init(&m->key, KV_KEY_MAX);
	buf_init(&m->gc_cursor, KV_KEY_MAX + 1);
	buf_init(&m->purge_cursor, KV_KEY_MAX + 1);
	buf_init(&m->value, KV_VALUE_MAX);
	err *e = mvcc__load(m, &options->log);
	if (e) {
		mvcc_close(m);
		return err_wrap(e, "opening MVCC");
	}
	assert(m->history.floor <= m->applied);
	*out = m;
	return NULL;
}

void mvcc_close(struct mvcc *m)
{
	if (!m)
		return;
	assert(m->open_txns == 0 && m->txns == NULL);
	err_free(mvcc__row_sync(m));
	mvcc__history_free(&m->history);
	kv_batch_free(&m->batch);
	mvcc__tombstones_free(&m->deleted);
	buf_free(&m->key);
	buf_free(&m->gc_cursor);
	buf_free(&m->purge_cursor);
	buf_free(&m->value);
	free(m);
}

uint64_t mvcc_applied_version(const struct mvcc *m)
{
	return m->applied;
}

uint64_t mvcc_gc_low_water(const struct mvcc *m)
{
	return m->gc_low_water;
}

/* ---- applying ---- */

/*
 * Looks up a remembered outcome of transaction `id`: the window's entry with that id says
 * at which index it was installed; an outcome stored under that index says how it ended,
 * none that it committed.
 */
static err *mvcc__outcome_lookup(struct mvcc *m, struct mvcc_txn_id id, struct mvcc_outcome *out,
                                 bool *seen)
{
	uint64_t index;
	*seen = mvcc__history_find_id(&m->history, id, &index);
	if (!*seen)
		return NULL;
	bool stored;
	TRY(mvcc__outcome_stored(m, index, out, &stored));
	if (stored && out->index != index)
		return err_new(ERR_CORRUPT, "the outcome stored at %llu names index %llu",
		               (unsigned long long)index, (unsigned long long)out->index);
	if (!stored) {
		out->index = index;
		out->committed = true;
		out->code = 0;
		out->message[0] = 0;
	}
	return NULL;
}

/* Validation: decides whether the record commits, filling out. Touches nothing. */
static void mvcc__validate(struct mvcc *m, const struct mvcc__record *r, uint64_t index,
                           struct mvcc_outcome *out)
{
	uint64_t at;
	assert(index > m->applied);
	assert(!out->committed && out->code == 0);
	if (r->read_version >= index)
		mvcc__outcome_say(out, ERR_INVALID,
		                  "read version %llu is not below the commit index %llu",
		                  (unsigned long long)r->read_version, (unsigned long long)index);
	else if (r->read_version < m->history.floor)
		mvcc__outcome_say(out, ERR_UNKNOWN_OUTCOME,
		                  "read version %llu is older than the validation history (floor "
		                  "%llu): not applied, and an earlier attempt is no longer known",
		                  (unsigned long long)r->read_version,
		                  (unsigned long long)m->history.floor);
	else if (!mutation_on(MUTATION_MVCC_SKIP_VALIDATION) &&
	         mvcc__history_conflict(&m->history, r->read_version, r->ranges, r->range_count,
	                                &at))
		mvcc__outcome_say(out, ERR_CONFLICT,
		                  "serialization failure, retry transaction (what it read was "
		                  "written at index %llu)",
		                  (unsigned long long)at);
	else
		out->committed = true;
}

/*
 * Deletes (in m->batch) the outcome rows of the indexes in (from, to], which leave the
 * window: the few aborts and duplicates among them.
 */
static err *mvcc__batch_forget(struct mvcc *m, uint64_t from, uint64_t to)
{
	struct buf lo, hi;
	buf_init(&lo, MVCC_KEY_MAX);
	buf_init(&hi, MVCC_KEY_MAX);
	err *e = mvcc__key_outcome(&lo, from + 1);
	if (!e)
		e = mvcc__key_outcome(&hi, to + 1);
	bool more = false;
	if (!e) /* there is at most one row per index */
		e = mvcc__batch_delete_keys(m, buf_slice(&lo), buf_slice(&hi), to - from, &more);
	assert(e || !more);
	buf_free(&lo);
	buf_free(&hi);
	return e;
}

/* The record's deleted ranges ('r' rows, and in `fresh` for memory) and then its writes. */
static err *mvcc__batch_writes(struct mvcc *m, const struct mvcc__record *r, uint64_t index,
                               struct mvcc__tombstones *fresh)
{
	for (uint32_t i = 0; i < r->deleted_count; i++) {
		const struct mvcc__range *d = &r->deleted[i];
		TRY(mvcc__tombstones_add(fresh, index, i, d->from, d->to));
		TRY(mvcc__key_range(&m->key, index, i));
		TRY(mvcc__range_value(&m->value, d->from, d->to));
		TRY(kv_batch_put(&m->batch, buf_slice(&m->key), buf_slice(&m->value)));
	}
	for (uint32_t i = 0; i < r->write_count; i++) {
		const struct mvcc__write *w = &r->writes[i];
		uint8_t tag = w->deleted ? MVCC__TAG_DELETED : MVCC__TAG_LIVE;
		TRY(mvcc__key_data(&m->key, w->key, index));
		buf_clear(&m->value);
		TRY(buf_append(&m->value, &tag, 1));
		TRY(buf_append(&m->value, w->value.ptr, w->value.len));
		TRY(kv_batch_put(&m->batch, buf_slice(&m->key), buf_slice(&m->value)));
	}
	return NULL;
}

/*
 * Builds the whole batch for a decided record: its deleted ranges and writes (if
 * committed; the ranges also into `fresh`), its history entry and outcome, the window's
 * drops and its floor row. Sets *drop.
 */
static err *mvcc__batch_record(struct mvcc *m, const struct mvcc__record *r, uint64_t index,
                               const struct mvcc_outcome *out, struct mvcc__history_entry *e,
                               struct mvcc__tombstones *fresh, uint32_t *drop)
{
	assert(e->index == index && m->batch.count == 0);
	assert(out->committed || (e->key_count == 0 && e->deleted_count == 0));
	if (out->committed)
		TRY(mvcc__batch_writes(m, r, index, fresh));
	*drop = mvcc__history_drop_count(&m->history, e);
	uint32_t held = m->history.count;
	if (!out->committed && *drop <= held) { /* a commit needs no row; a dropped entry none */
		TRY(mvcc__key_outcome(&m->key, index));
		buf_clear(&m->value);
		TRY(mvcc__outcome_encode(&m->value, out));
		TRY(kv_batch_put(&m->batch, buf_slice(&m->key), buf_slice(&m->value)));
	}
	if (*drop > 0) {
		uint64_t floor =
		    *drop <= held ? mvcc__history_at(&m->history, *drop - 1)->index : e->index;
		TRY(mvcc__batch_forget(m, m->history.floor, floor));
		TRY(mvcc__batch_meta(m, "floor", floor));
	}
	return NULL;
}

/* Decides and installs a decoded record that was not applied before. */
static err *mvcc__install(struct mvcc *m, const struct mvcc__record *r, uint64_t index,
                          struct mvcc_outcome *out)
{
	mvcc__validate(m, r, index, out);
	assert(out->committed == (out->code == 0));
	struct mvcc__history_entry e;
	TRY(mvcc__record_entry(r, index, out->committed, &e));
	uint32_t drop = 0;
	struct mvcc__tombstones fresh;
	mvcc__tombstones_init(&fresh);
	kv_batch_clear(&m->batch);
	err *fail = mvcc__batch_record(m, r, index, out, &e, &fresh, &drop);
	if (!fail)
		fail = mvcc__history_reserve(&m->history);
	if (!fail)
		fail = mvcc__tombstones_reserve(&m->deleted, fresh.count);
	if (!fail)
		fail = mvcc__batch_apply(m);
	if (fail) {
		kv_batch_clear(&m->batch);
		mvcc__history_entry_free(&e);
		mvcc__tombstones_free(&fresh);
		return fail;
	}
	mvcc__tombstones_take(&m->deleted, &fresh);
	mvcc__tombstones_free(&fresh);
	/* The store changed; now the memory follows, and nothing here can fail. */
	assert(drop <= m->history.count + 1);
	mvcc__history_push(&m->history, &e);
	for (uint32_t i = 0; i < drop; i++)
		mvcc__history_drop_oldest(&m->history);
	mvcc__row_note(m, index);
	return NULL;
}

err *mvcc_apply(struct mvcc *m, const uint8_t *record, size_t len, uint64_t index,
                struct mvcc_outcome *out)
{
	assert(m != NULL && out != NULL);
	assert(record != NULL || len == 0);
	if (index <= m->applied)
		return err_new(ERR_INVALID, "log index %llu is not after the applied version %llu",
		               (unsigned long long)index, (unsigned long long)m->applied);
	memset(out, 0, sizeof *out);
	out->index = index;
	struct mvcc__record r;
	err *e = mvcc__record_decode(record, len, &r);
	if (e && err_code(e) != ERR_DECODE)
		return e; /* out of memory: no outcome, the other replicas may decode it */
	if (e) {
		mvcc__outcome_say(out, ERR_DECODE, "%s", err_msg(e));
		err_free(e);
		m->applied = index;
		return NULL;
	}
	out->txn_id = r.id;
	bool seen;
	e = mvcc__outcome_lookup(m, r.id, out, &seen);
	if (!e && seen) {
		out->duplicate = true;
		kv_batch_clear(&m->batch);
		e = mvcc__batch_duplicate(m, index, out);
		if (!e)
			e = mvcc__batch_apply(m);
		kv_batch_clear(&m->batch);
		if (!e)
			mvcc__row_note(m, index);
	} else if (!e) {
		e = mvcc__install(m, &r, index, out);
	}
	mvcc__record_free(&r);
	assert(e || m->applied == index);
	return e;
}

err *mvcc_advance(struct mvcc *m, uint64_t index)
{
	if (index <= m->applied)
		return err_new(ERR_INVALID, "log index %llu is not after the applied version %llu",
		               (unsigned long long)index, (unsigned long long)m->applied);
	m->applied = index;
	return NULL;
}

err *mvcc_flush(struct mvcc *m, bool sync)
{
	TRY(mvcc__row_sync(m));
	buf_clear(&m->value);
	struct codec_out o;
	codec_out_init(&o, &m->value);
	codec_put_array(&o, 2);
	codec_put_u64(&o, MVCC__META_FORMAT);
	codec_put_u64(&o, m->applied);
	TRY(codec_out_end(&o));
	assert(m->value.len <= KV_META_MAX);
	err *e = kv_commit(m->kv, buf_slice(&m->value), sync);
	m->kv_generation++;
	return e;
}

/* ---- garbage collection ---- */

/*
 * The sweep has passed every version of a key: its newest version at or below the mark,
 * if that is a deletion (held in *deletion), joins the batch now.
 */
static err *mvcc__gc_delete_deletion(struct mvcc *m, struct buf *deletion)
{
	if (deletion->len == 0)
		return NULL;
	err *e = kv_batch_delete(&m->batch, buf_slice(deletion));
	buf_clear(deletion);
	return e;
}

/*
 * Deletes the versions below `low` that no snapshot at or above it can see. A full sweep
 * (bounded = false) walks every version. A bounded one starts at m->gc_cursor, visits at
 * most max_entries versions and leaves the cursor where it stopped (empty once it reached
 * the end): at the first version of the key it was in, so that key's versions are judged
 * together next time. Only a key with more versions than a slice is resumed mid-key; that
 * is safe too (the first version seen is kept), merely leaving one extra version.
 *
 * A key's newest version at or below `low` that is a deletion goes last, once every
 * older version of the key is gone, and not at all if the sweep stops within the key:
 * deleted first and the rest left to the next slice, which judges the key again, the
 * older live version it found first would have been kept — the deleted row back.
 * *found counts the versions the sweep found to delete (for the pacing of slices), that
 * deletion among them.
 */
static err *mvcc__gc_sweep(struct mvcc *m, uint64_t low, bool bounded, uint64_t max_entries,
                           uint64_t *found)
{
	*found = 0;
	assert(low <= m->applied && low == m->gc_low_water);
	assert(m->batch.count == 0);
	struct buf lo, hi, group;
	struct buf deletion; /* the current key's newest version <= low, a deletion, if any */
	buf_init(&lo, KV_KEY_MAX + 1);
	buf_init(&hi, 8);
	buf_init(&group, KV_KEY_MAX);
	buf_init(&deletion, KV_KEY_MAX);
	err *e = mvcc__data_range(NULL, NULL, &lo, &hi);
	if (!e && bounded && m->gc_cursor.len > 0) {
		buf_clear(&lo);
		e = buf_append(&lo, m->gc_cursor.data, m->gc_cursor.len);
	}
	bool kept = false; /* the current key's newest version <= low has been passed */
	bool finished = false;
	bool out_of_budget = false;
	uint64_t visited = 0;     /* versions this call has looked at */
	uint64_t group_start = 0; /* the visit at which the current key's versions began */
	while (!e && !finished && !out_of_budget) {
		struct slice from = buf_slice(&lo), to = buf_slice(&hi);
		struct kv_iter *it;
		e = kv_iter_open(m->kv, &from, &to, false, &it);
		if (e)
			break;
		for (;;) {
			struct slice k, v;
			size_t glen;
			uint64_t version;
			e = kv_iter_next(it, &k, &v, &finished);
			if (e || finished)
				break;
			e = mvcc__data_key_split(k, &glen, &version);
			if (e)
				break;
			if (glen != group.len || memcmp(group.data, k.ptr, glen) != 0) {
				e = mvcc__gc_delete_deletion(m, &deletion);
				if (e)
					break;
				buf_clear(&group);
				buf_append(&group, k.ptr, glen); /* glen < KV_KEY_MAX */
				kept = false;
				group_start = visited + 1;
			}
			if (bounded && ++visited > max_entries) {
				/*
				 * Resume at this key's newest version, so its versions are judged
				 * together; if the key alone filled the slice, at k (progress first).
				 */
				out_of_budget = true;
				buf_clear(&lo);
				e = group_start > 1 ? buf_append(&lo, group.data, group.len)
				                    : buf_append(&lo, k.ptr, k.len);
				break;
			}
			if (version > low)
				continue;
			bool live = v.len > 0 && v.ptr[0] == MVCC__TAG_LIVE;
			if (!kept) {
				kept = true;
				if (!live) {
					e = buf_append(&deletion, k.ptr,
					               k.len); /* k.len <= KV_KEY_MAX */
					++*found;
				}
				if (e)
					break;
				continue;
			}
			e = kv_batch_delete(&m->batch, k);
			++*found;
			if (e || m->batch.count >= MVCC__GC_CHUNK) {
				/* resume after k: the smallest key above it */
				buf_clear(&lo);
				if (!e)
					e = buf_append(&lo, k.ptr, k.len);
				if (!e)
					e = buf_append(&lo, "", 1);
				break;
			}
		}
		kv_iter_close(it);
		if (!e && finished)
			e = mvcc__gc_delete_deletion(m, &deletion);
		if (!e && m->batch.count > 0)
			e = mvcc__batch_apply(m);
	}
	kv_batch_clear(&m->batch);
	if (!e && bounded) {
		buf_clear(&m->gc_cursor);
		if (out_of_budget)
			e = buf_append(&m->gc_cursor, lo.data, lo.len);
	}
	buf_free(&lo);
	buf_free(&hi);
	buf_free(&group);
	buf_free(&deletion);
	return e;
}

/*
 * Purges the range deletions the low-water mark has passed, oldest first, visiting at
 * most max_entries stored versions: deletes every version in the range older than the
 * deletion (no reader at or above the mark sees them), and once the whole range is done
 * the deletion itself. Where it stopped is kept in m->purge_cursor.
 */
static err *mvcc__gc_purge(struct mvcc *m, uint64_t max_entries)
{
	assert(m->batch.count == 0);
	uint64_t visited = 0;
	struct buf lo;
	buf_init(&lo, KV_KEY_MAX + 1);
	err *e = NULL;
	/* every round ends a range, or fills a chunk, or spends the budget */
	while (!e && m->deleted.count > 0 && m->deleted.items[0].index <= m->gc_low_water &&
	       visited < max_entries) {
		const struct mvcc__tombstone *ts = &m->deleted.items[0];
		buf_clear(&lo);
		e = m->purge_cursor.len ? buf_append(&lo, m->purge_cursor.data, m->purge_cursor.len)
		                        : buf_append(&lo, ts->lo.data, ts->lo.len);
		struct slice from = buf_slice(&lo), to = buf_slice(&ts->hi);
		struct kv_iter *it = NULL;
		if (!e)
			e = kv_iter_open(m->kv, &from, &to, false, &it);
		bool finished = false;
		while (!e) {
			struct slice k, v;
			size_t glen;
			uint64_t version;
			e = kv_iter_next(it, &k, &v, &finished);
			if (e || finished)
				break;
			e = mvcc__data_key_split(k, &glen, &version);
			if (!e && version < ts->index)
				e = kv_batch_delete(&m->batch, k);
			if (!e && (++visited >= max_entries || m->batch.count >= MVCC__GC_CHUNK)) {
				/* resume after k: the smallest key above it */
				buf_clear(&m->purge_cursor);
				e = buf_append(&m->purge_cursor, k.ptr, k.len);
				if (!e)
					e = buf_append(&m->purge_cursor, "", 1);
				break;
			}
		}
		kv_iter_close(it);
		if (!e && finished) {
			e = mvcc__key_range(&m->key, ts->index, ts->seq);
			if (!e)
				e = kv_batch_delete(&m->batch, buf_slice(&m->key));
		}
		if (!e)
			e = mvcc__batch_apply(m);
		if (!e && finished) {
			mvcc__tombstones_remove(&m->deleted, 0);
			buf_clear(&m->purge_cursor);
		}
	}
	kv_batch_clear(&m->batch);
	buf_free(&lo);
	return e;
}

/*
 * Raises the low-water mark towards low_water (clamped as mvcc_gc() says), durably;
 * *raised says whether it moved.
 */
static err *mvcc__gc_raise(struct mvcc *m, uint64_t low_water, bool *raised)
{
	*raised = false;
	uint64_t low = low_water < m->applied ? low_water : m->applied;
	uint32_t seen = 0;
	for (struct mvcc_txn *t = m->txns; t; t = t->next) {
		assert(++seen <= m->open_txns);
		if (t->read_version < low)
			low = t->read_version;
	}
	assert(low <= m->applied);
	if (low <= m->gc_low_water)
		return NULL;
	/* Raise the mark first and durably with the deletions: nothing may read below it. */
	kv_batch_clear(&m->batch);
	TRY(mvcc__batch_meta(m, "gc", low));
	TRY(mvcc__batch_apply(m));
	m->gc_low_water = low;
	*raised = true;
	return NULL;
}

err *mvcc_gc(struct mvcc *m, uint64_t low_water)
{
	bool raised;
	TRY(mvcc__gc_raise(m, low_water, &raised));
	TRY(mvcc__gc_purge(m, UINT64_MAX));
	/*
	 * Sweep even at the same mark: slices (mvcc_gc_some) may have left a pass unfinished,
	 * or versions of a key longer than a slice behind. The pass is complete afterwards.
	 */
	uint64_t found;
	TRY(mvcc__gc_sweep(m, m->gc_low_water, false, 0, &found));
	buf_clear(&m->gc_cursor);
	return NULL;
}

err *mvcc_gc_some(struct mvcc *m, uint64_t low_water, uint64_t max_entries)
{
	assert(max_entries > 0);
	bool raised;
	TRY(mvcc__gc_raise(m, low_water, &raised));
	TRY(mvcc__gc_purge(m, max_entries));
	if (!raised && m->gc_cursor.len == 0)
		return NULL; /* the last pass at this mark reached the end */
	if (m->gc_budget == 0 || m->gc_budget > max_entries)
		m->gc_budget = max_entries;
	uint64_t found;
	TRY(mvcc__gc_sweep(m, m->gc_low_water, true, m->gc_budget, &found));
	/*
	 * A slice that found nothing to collect halves the next one, down to a sixteenth:
	 * a store that only grows (inserts of new keys) is not walked at full speed for
	 * nothing. Any garbage found restores the full slice.
	 */
	uint64_t least = max_entries / MVCC__GC_SLOWDOWN ? max_entries / MVCC__GC_SLOWDOWN : 1;
	m->gc_budget = found > 0                  ? max_entries
	               : m->gc_budget / 2 > least ? m->gc_budget / 2
	                                          : least;
	return NULL;
}

err *mvcc_gc_periodic(struct mvcc *m, uint64_t before, uint64_t interval, uint64_t retain,
                      uint64_t slice)
{
	assert(interval > 0 && before <= m->applied);
	uint64_t mark = m->applied / interval * interval;
	if (mark <= before || mark <= retain)
		return NULL;
	return mvcc_gc_some(m, mark - retain, slice);
}

/* ---- state hash ---- */

/* Adds one key and value to a hash, lengths first so no two sequences collide by shape. */
static void mvcc__hash_entry(struct checksum_stream *s, struct slice k, struct slice v)
{
	/*
	 * The stream hashes its pieces as if concatenated, so a small entry is gathered and
	 * added at once (one update instead of three; the same hash).
	 */
	uint8_t entry[512];
	store_u32be(entry, (uint32_t)k.len);
	store_u32be(entry + 4, (uint32_t)v.len);
	if (k.len + v.len <= sizeof entry - 8) {
		if (k.len)
			memcpy(entry + 8, k.ptr, k.len);
		if (v.len)
			memcpy(entry + 8 + k.len, v.ptr, v.len);
		checksum_stream_add(s, entry, 8 + k.len + v.len);
		return;
	}
	checksum_stream_add(s, entry, 8);
	checksum_stream_add(s, k.ptr, k.len);
	checksum_stream_add(s, v.ptr, v.len);
}

/*
 * Walks the data space directly instead of through mvcc_scan: the hash needs neither the
 * write buffer (a read-only transaction has none) nor a cursor that survives changes (the
 * store does not change during the call), so each row costs one iterator step and a
 * comparison with the key decided last. The rows, and so the hash, are those the scan
 * returns: per user key the newest row at or below the read version, if it is live. The
 * transaction is still begun and freed as before: it checks the same limits and draws the
 * same transaction id from the store's PRNG, so later ids do not change. A store that has
 * not changed since the last call (same kv generation and applied version) returns the
 * hash it computed then.
 */
err *mvcc_data_hash(struct mvcc *m, uint64_t *out)
{
	assert(m != NULL && out != NULL);
	struct mvcc_txn *txn;
	TRY(mvcc_begin(m, MVCC_LATEST, MVCC_READ_ONLY, &txn));
	uint64_t read_version = txn->read_version;
	if (m->data_hash_valid && m->data_hash_generation == m->kv_generation &&
	    m->data_hash_applied == read_version) {
		mvcc_txn_free(txn);
		*out = m->data_hash;
		return NULL;
	}
	struct buf lo, hi, group, user;
	buf_init(&lo, KV_KEY_MAX);
	buf_init(&hi, KV_KEY_MAX);
	buf_init(&group, KV_KEY_MAX);
	buf_init(&user, KV_KEY_MAX);
	struct kv_iter *it = NULL;
	struct checksum_stream s;
	checksum_stream_init(&s);
	err *e = mvcc__data_range(NULL, NULL, &lo, &hi);
	if (!e) {
		struct slice l = buf_slice(&lo), h = buf_slice(&hi);
		e = kv_iter_open(m->kv, &l, &h, false, &it);
	}
	bool group_set = false; /* `group` holds the user-key part of the key decided last */
	while (!e) {
		struct slice k, v;
		bool done;
		e = kv_iter_next(it, &k, &v, &done);
		if (e || done)
			break;
		size_t glen;
		uint64_t version;
		e = mvcc__data_key_split(k, &glen, &version);
		if (e)
			break;
		if (group_set && glen == group.len && memcmp(k.ptr, group.data, glen) == 0)
			continue; /* an older row of the key decided last */
		if (version > read_version)
			continue; /* newer than the snapshot: the key is not decided yet */
		buf_clear(&group);
		e = buf_append(&group, k.ptr, glen);
		if (e)
			break;
		group_set = true;
		if (v.len == 0) {
			e = err_new(ERR_CORRUPT, "MVCC data row without a tag");
			break;
		}
		if (v.ptr[0] != MVCC__TAG_LIVE ||
		    mvcc__tombstones_hide(&m->deleted, buf_slice(&group), version, read_version))
			continue; /* deleted at the snapshot */
		e = mvcc__data_group_user(buf_slice(&group), &user);
		if (!e)
			mvcc__hash_entry(&s, buf_slice(&user), slice_of(v.ptr + 1, v.len - 1));
	}
	kv_iter_close(it);
	buf_free(&lo);
	buf_free(&hi);
	buf_free(&group);
	buf_free(&user);
	mvcc_txn_free(txn);
	*out = checksum_stream_end(&s);
	m->data_hash_valid = e == NULL;
	m->data_hash_generation = m->kv_generation;
	m->data_hash_applied = read_version;
	m->data_hash = *out;
	return e;
}

err *mvcc_state_hash(struct mvcc *m, uint64_t *out)
{
	assert(m != NULL && out != NULL);
	TRY(mvcc__row_sync(m));
	struct kv_iter *it;
	TRY(kv_iter_open(m->kv, NULL, NULL, false, &it));
	struct checksum_stream s;
	checksum_stream_init(&s);
	err *e = NULL;
	for (;;) {
		struct slice k, v;
		bool done;
		e = kv_iter_next(it, &k, &v, &done);
		if (e || done)
			break;
		mvcc__hash_entry(&s, k, v);
	}
	kv_iter_close(it);
	*out = checksum_stream_end(&s);
	return e;
}
