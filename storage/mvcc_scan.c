/*
 * mvcc_scan.c — scans: the snapshot at the read version merged with the write buffer.
 *
 * Three layers:
 *
 *   - a cursor walks [lo, hi) of one KV engine and survives changes to it: kv iterators die
 *     with the next apply or commit (kv.h), so the cursor remembers the last key it read
 *     and, when its owner's change counter has moved, reopens just past that key;
 *   - the snapshot source turns the versioned rows of the data space into the visible
 *     (user key, value) pairs at the read version: forward, the first row of a key at or
 *     below the read version decides it; in reverse the rows of a key arrive oldest first,
 *     so the source reads the whole key and keeps the last visible row, holding back the
 *     first row of the next key. Deleted keys are skipped;
 *   - the merge takes the smaller (in reverse, the larger) head of the snapshot and of the
 *     write buffer; on equal keys the buffer wins, and buffered deletions hide the key.
 *
 * What the snapshot shows never changes under a scan (later versions are above the read
 * version; GC never changes what the read version sees), so a head already decided stays
 * valid. A held-back row is different: GC may delete it together with the newer deletion
 * that hides it, so after a change the reverse source reads that key again.
 * The write buffer can change under a scan: then the buffer cursor restarts just past the
 * last key the scan returned, so writes ahead of the scan are seen and writes behind it
 * are not; a snapshot head already decided is judged again against the transaction's
 * own range deletions, which may have grown.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "storage/mvcc_internal.h"
#include "storage/mvcc_keys.h"

/* ---- a restartable cursor ---- */

struct mvcc__cursor {
	struct kv *kv;
	const uint64_t *generation; /* the owner's change counter for kv */
	uint64_t opened_at;
	struct kv_iter *it;
	bool reverse;
	bool started; /* `resume` holds the last key read */
	bool exhausted;
	bool has_lo, has_hi;
	struct buf lo, hi; /* the range, fixed at open */
	struct buf resume;
	struct buf bound; /* scratch for the reopened bound */
};

static void mvcc__cursor_init(struct mvcc__cursor *c, struct kv *kv, const uint64_t *generation,
                              bool reverse)
{
	memset(c, 0, sizeof *c);
	c->kv = kv;
	c->generation = generation;
	c->reverse = reverse;
	buf_init(&c->lo, KV_KEY_MAX);
	buf_init(&c->hi, KV_KEY_MAX);
	buf_init(&c->resume, KV_KEY_MAX);
	buf_init(&c->bound, KV_KEY_MAX + 1);
}

static void mvcc__cursor_free(struct mvcc__cursor *c)
{
	kv_iter_close(c->it);
	c->it = NULL;
	buf_free(&c->lo);
	buf_free(&c->hi);
	buf_free(&c->resume);
	buf_free(&c->bound);
}

/* Sets a bound of a cursor not yet read from; NULL is unbounded. */
static err *mvcc__cursor_bound(struct buf *b, bool *has, const struct slice *key)
{
	*has = key != NULL;
	buf_clear(b);
	return key ? buf_append(b, key->ptr, key->len) : NULL;
}

/* Makes the cursor continue just past `key` (or from the start of its range if NULL). */
static err *mvcc__cursor_restart(struct mvcc__cursor *c, const struct buf *key)
{
	kv_iter_close(c->it);
	c->it = NULL;
	c->exhausted = false;
	c->started = key != NULL;
	buf_clear(&c->resume);
	return key ? buf_append(&c->resume, key->data, key->len) : NULL;
}

static err *mvcc__cursor_open(struct mvcc__cursor *c)
{
	assert(c->it == NULL && !c->exhausted);
	assert(!c->started || c->resume.len > 0);
	struct slice lo = buf_slice(&c->lo), hi = buf_slice(&c->hi);
	bool has_lo = c->has_lo, has_hi = c->has_hi;
	if (c->started) {
		buf_clear(&c->bound);
		TRY(buf_append(&c->bound, c->resume.data, c->resume.len));
		if (!c->reverse) {
			/* the smallest key above the last one read */
			TRY(buf_append(&c->bound, "", 1));
			lo = buf_slice(&c->bound);
			has_lo = true;
		} else {
			hi = buf_slice(&c->bound);
			has_hi = true;
		}
	}
	TRY(kv_iter_open(c->kv, has_lo ? &lo : NULL, has_hi ? &hi : NULL, c->reverse, &c->it));
	c->opened_at = *c->generation;
	return NULL;
}

/* The next row; key and value are valid until the next call. */
static err *mvcc__cursor_next(struct mvcc__cursor *c, struct slice *key, struct slice *value,
                              bool *done)
{
	*done = true;
	if (c->exhausted)
		return NULL;
	if (c->it && *c->generation != c->opened_at) {
		kv_iter_close(c->it);
		c->it = NULL;
	}
	if (!c->it)
		TRY(mvcc__cursor_open(c));
	assert(c->it != NULL && c->opened_at == *c->generation);
	TRY(kv_iter_next(c->it, key, value, done));
	if (*done) {
		c->exhausted = true;
		kv_iter_close(c->it);
		c->it = NULL;
		return NULL;
	}
	buf_clear(&c->resume);
	TRY(buf_append(&c->resume, key->ptr, key->len));
	c->started = true;
	return NULL;
}

/* ---- the snapshot source ---- */

struct mvcc__snapshot {
	struct mvcc__cursor cur;
	uint64_t version;
	/* range deletions that hide rows: the store's, and the transaction's own (or NULL) */
	const struct mvcc__tombstones *deleted, *own;
	struct buf group; /* the user-key part of the key being decided */
	bool group_set;
	bool pending;                /* reverse: the first row of the next key, already read */
	uint64_t pending_generation; /* the kv generation it was read at */
	struct buf pending_key, pending_value;
	struct buf cand_value; /* reverse: the value of the newest visible row so far */
	bool has;              /* a head is ready: its key is `group`, its value `value`... */
	uint64_t has_version;  /* ...written at this version */
	bool exhausted;
	bool key_valid; /* `key` holds the head's user key, decoded from `group` */
	struct buf key, value;
};

static void mvcc__snapshot_init(struct mvcc__snapshot *s, struct mvcc *m, uint64_t version,
                                bool reverse)
{
	memset(s, 0, sizeof *s);
	mvcc__cursor_init(&s->cur, m->kv, &m->kv_generation, reverse);
	s->version = version;
	s->deleted = &m->deleted;
	buf_init(&s->group, KV_KEY_MAX);
	buf_init(&s->pending_key, KV_KEY_MAX + 1);
	buf_init(&s->pending_value, KV_VALUE_MAX);
	buf_init(&s->cand_value, KV_VALUE_MAX);
	buf_init(&s->key, KV_KEY_MAX);
	buf_init(&s->value, KV_VALUE_MAX);
}

static void mvcc__snapshot_free(struct mvcc__snapshot *s)
{
	mvcc__cursor_free(&s->cur);
	buf_free(&s->group);
	buf_free(&s->pending_key);
	buf_free(&s->pending_value);
	buf_free(&s->cand_value);
	buf_free(&s->key);
	buf_free(&s->value);
}

/* Whether a range deletion hides the row of the key in `group` written at `version`. */
static bool mvcc__snapshot_hidden(const struct mvcc__snapshot *s, uint64_t version)
{
	struct slice group = buf_slice(&s->group);
	return mvcc__tombstones_hide(s->deleted, group, version, s->version) ||
	       (s->own && mvcc__tombstones_hide(s->own, group, version, s->version));
}

static err *mvcc__copy(struct buf *dst, struct slice src)
{
	buf_clear(dst);
	return buf_append(dst, src.ptr, src.len);
}

/*
 * Makes the row with value v of the key in `group`, written at `version`, the head if it
 * is live and no range deletion hides it. Its user key stays encoded until someone asks
 * for it (mvcc__snapshot_key): most scans never do.
 */
static err *mvcc__snapshot_emit(struct mvcc__snapshot *s, struct slice v, uint64_t version)
{
	assert(s->group_set);
	if (v.len == 0)
		return err_new(ERR_CORRUPT, "MVCC data row without a tag");
	if (v.ptr[0] != MVCC__TAG_LIVE || mvcc__snapshot_hidden(s, version))
		return NULL;
	TRY(mvcc__copy(&s->value, slice_of(v.ptr + 1, v.len - 1)));
	s->key_valid = false;
	s->has = true;
	s->has_version = version;
	return NULL;
}

/* The head's user key, decoded on first use; valid while the head is. */
static err *mvcc__snapshot_key(struct mvcc__snapshot *s, struct slice *key)
{
	assert(s->has && s->group_set);
	if (!s->key_valid) {
		TRY(mvcc__data_group_user(buf_slice(&s->group), &s->key));
		s->key_valid = true;
	}
	*key = buf_slice(&s->key);
	return NULL;
}

static bool mvcc__snapshot_same_group(const struct mvcc__snapshot *s, struct slice k, size_t glen)
{
	if (!s->group_set || glen != s->group.len)
		return false;
	/*
	 * Neighbouring keys share long prefixes (a table's keys differ in the primary key at
	 * the end): compare the last bytes first, which usually settles it without memcmp.
	 */
	if (glen >= 8 && load_u64be(k.ptr + glen - 8) != load_u64be(s->group.data + glen - 8))
		return false;
	return memcmp(k.ptr, s->group.data, glen) == 0;
}

static err *mvcc__snapshot_forward(struct mvcc__snapshot *s)
{
	assert(!s->cur.reverse && !s->pending);
	while (!s->has) {
		struct slice k, v;
		bool done;
		TRY(mvcc__cursor_next(&s->cur, &k, &v, &done));
		if (done) {
			s->exhausted = true;
			return NULL;
		}
		size_t glen;
		uint64_t version;
		TRY(mvcc__data_key_split(k, &glen, &version));
		if (mvcc__snapshot_same_group(s, k, glen) || version > s->version)
			continue;
		TRY(mvcc__copy(&s->group, slice_of(k.ptr, glen)));
		s->group_set = true;
		TRY(mvcc__snapshot_emit(s, v, version));
	}
	return NULL;
}

/* Reads the rows of one user key (descending order); *none if there were no rows left. */
static err *mvcc__snapshot_reverse_key(struct mvcc__snapshot *s, bool *none)
{
	bool cand = false;
	uint64_t cand_version = 0;
	assert(s->cur.reverse && !s->has);
	s->group_set = false;
	if (s->pending && s->pending_generation != *s->cur.generation) {
		/*
		 * GC may have removed rows of that key since (say a deletion and the live
		 * version the held row is): read the key again, from the held row down.
		 */
		s->pending = false;
		TRY(buf_append(&s->pending_key, "", 1));
		TRY(mvcc__cursor_restart(&s->cur, &s->pending_key));
	}
	for (;;) {
		struct slice k, v;
		bool done = false;
		if (s->pending) {
			k = buf_slice(&s->pending_key);
			v = buf_slice(&s->pending_value);
			s->pending = false;
		} else {
			TRY(mvcc__cursor_next(&s->cur, &k, &v, &done));
		}
		if (done)
			break;
		size_t glen;
		uint64_t version;
		TRY(mvcc__data_key_split(k, &glen, &version));
		if (s->group_set && !mvcc__snapshot_same_group(s, k, glen)) {
			/* the next key's first row: hold it back (it cannot be in pending_*) */
			TRY(mvcc__copy(&s->pending_key, k));
			TRY(mvcc__copy(&s->pending_value, v));
			s->pending = true;
			s->pending_generation = *s->cur.generation;
			break;
		}
		if (!s->group_set) {
			TRY(mvcc__copy(&s->group, slice_of(k.ptr, glen)));
			s->group_set = true;
		}
		if (version <= s->version) {
			/* rows arrive oldest first: the last visible one is the newest */
			TRY(mvcc__copy(&s->cand_value, v));
			cand = true;
			cand_version = version;
		}
	}
	*none = !s->group_set;
	assert(!*none || !s->pending);
	if (cand)
		TRY(mvcc__snapshot_emit(s, buf_slice(&s->cand_value), cand_version));
	return NULL;
}

static err *mvcc__snapshot_reverse(struct mvcc__snapshot *s)
{
	while (!s->has) {
		bool none = false;
		TRY(mvcc__snapshot_reverse_key(s, &none));
		if (none) {
			s->exhausted = true;
			return NULL;
		}
	}
	return NULL;
}

/* Loads the next visible head unless one is ready or the source is exhausted. */
static err *mvcc__snapshot_fill(struct mvcc__snapshot *s)
{
	if (s->has || s->exhausted)
		return NULL;
	return s->cur.reverse ? mvcc__snapshot_reverse(s) : mvcc__snapshot_forward(s);
}

/* ---- the merged scan ---- */

struct mvcc_scan {
	struct mvcc_txn *txn;
	bool reverse;
	bool done;
	bool recorded;
	struct mvcc__snapshot snap;
	/* the write buffer (read-write transactions only) */
	bool buffered;
	struct mvcc__cursor wcur;
	uint64_t w_generation; /* the buffer's generation the head was read at */
	bool w_has;
	struct buf w_key, w_value; /* the buffer's head: user key, tag + value */
	/* what the caller saw, for the read set */
	bool has_from, has_to;
	struct buf from, to;
	bool emitted;
	/*
	 * The last key returned: its user key, or with last_encoded its data key group (then
	 * out_key is decoded from it on demand, see mvcc_scan_key)
	 */
	bool last_encoded;
	struct buf last;
	bool out_key_valid; /* out_key holds the last key returned */
	struct buf out_key, out_value;
};

static err *mvcc__check_bound(const struct slice *b)
{
	if (b && b->len > MVCC_KEY_MAX + 1)
		return err_new(ERR_LIMIT, "scan bound of %zu bytes exceeds %d bytes", b->len,
		               MVCC_KEY_MAX + 1);
	return NULL;
}

/* Records the range the caller consumed, once. */
static void mvcc__scan_record(struct mvcc_scan *s)
{
	if (s->recorded)
		return;
	s->recorded = true;
	assert(s->done || !s->emitted || s->last.len >= 1);
	struct slice from = s->has_from ? buf_slice(&s->from) : slice_of(NULL, 0);
	struct slice to = buf_slice(&s->to);
	bool bounded = s->has_to;
	struct slice last;
	if (!s->done) {
		if (!s->emitted)
			return; /* the caller learned nothing */
		err *e = mvcc_scan_key(s, &last);
		if (e) {
			/* the last key does not decode: record the whole range, a superset */
			err_free(e);
		} else if (!s->reverse) {
			/* [from, last]: everything up to and including the last key returned */
			buf_append(&s->out_key, "", 1); /* it has room: MVCC_KEY_MAX + 1 */
			to = buf_slice(&s->out_key);
			bounded = true;
		} else {
			from = last;
		}
	}
	mvcc__txn_record_read(s->txn, from, bounded ? &to : NULL);
}

err *mvcc_scan_open(struct mvcc_txn *txn, const struct slice *from, const struct slice *to,
                    bool reverse, struct mvcc_scan **out)
{
	assert(txn != NULL && out != NULL);
	*out = NULL;
	TRY(mvcc__txn_usable(txn));
	TRY(mvcc__check_bound(from));
	TRY(mvcc__check_bound(to));
	if (txn->open_scans >= MVCC__MAX_OPEN_SCANS)
		return err_new(ERR_LIMIT, "too many open scans in one transaction (%d)",
		               MVCC__MAX_OPEN_SCANS);
	struct mvcc_scan *s = calloc(1, sizeof *s);
	if (!s)
		return err_new(ERR_NOMEM, "cannot open a scan");
	s->txn = txn;
	s->reverse = reverse;
	mvcc__snapshot_init(&s->snap, txn->m, txn->read_version, reverse);
	s->snap.own = txn->read_only ? NULL : &txn->deleted;
	s->buffered = txn->writes != NULL;
	mvcc__cursor_init(&s->wcur, txn->writes, &txn->write_generation, reverse);
	s->w_generation = txn->write_generation;
	buf_init(&s->w_key, KV_KEY_MAX);
	buf_init(&s->w_value, KV_VALUE_MAX);
	buf_init(&s->from, MVCC_KEY_MAX + 1);
	buf_init(&s->to, MVCC_KEY_MAX + 1);
	buf_init(&s->last, KV_KEY_MAX); /* an encoded group is longer than its key */
	buf_init(&s->out_key, KV_KEY_MAX);
	buf_init(&s->out_value, KV_VALUE_MAX);
	txn->open_scans++;
	err *e = mvcc__data_range(from, to, &s->snap.cur.lo, &s->snap.cur.hi);
	s->snap.cur.has_lo = s->snap.cur.has_hi = true;
	if (!e)
		e = mvcc__cursor_bound(&s->wcur.lo, &s->wcur.has_lo, from);
	if (!e)
		e = mvcc__cursor_bound(&s->wcur.hi, &s->wcur.has_hi, to);
	if (!e)
		e = mvcc__cursor_bound(&s->from, &s->has_from, from);
	if (!e)
		e = mvcc__cursor_bound(&s->to, &s->has_to, to);
	if (e) {
		s->recorded = true; /* nothing was read */
		mvcc_scan_close(s);
		return e;
	}
	assert(txn->open_scans <= MVCC__MAX_OPEN_SCANS);
	*out = s;
	return NULL;
}

/* Loads the buffer's next head, restarting past the scan's position if the buffer changed. */
static err *mvcc__scan_fill_buffer(struct mvcc_scan *s)
{
	if (!s->buffered)
		return NULL;
	if (s->w_generation != s->txn->write_generation) {
		s->w_has = false;
		s->w_generation = s->txn->write_generation;
		/* a range the transaction deleted since may cover the snapshot's head too */
		if (s->snap.has && mvcc__snapshot_hidden(&s->snap, s->snap.has_version))
			s->snap.has = false;
		struct slice last;
		if (s->emitted)
			TRY(mvcc_scan_key(s, &last));
		TRY(mvcc__cursor_restart(&s->wcur, s->emitted ? &s->out_key : NULL));
	}
	if (s->w_has)
		return NULL;
	struct slice k, v;
	bool done;
	TRY(mvcc__cursor_next(&s->wcur, &k, &v, &done));
	if (done)
		return NULL;
	if (v.len == 0)
		return err_new(ERR_INTERNAL, "write buffer entry without a tag");
	TRY(mvcc__copy(&s->w_key, k));
	TRY(mvcc__copy(&s->w_value, v));
	s->w_has = true;
	return NULL;
}

static void mvcc__swap(struct buf *a, struct buf *b)
{
	struct buf t = *a;
	*a = *b;
	*b = t;
}

err *mvcc_scan_step(struct mvcc_scan *s, struct slice *value, bool *done)
{
	*done = true;
	if (s->txn->ended) /* checked inline: this runs for every row */
		return mvcc__txn_usable(s->txn);
	if (s->done)
		return NULL;
	for (;;) {
		TRY(mvcc__scan_fill_buffer(s)); /* first: it may drop the snapshot's head */
		TRY(mvcc__snapshot_fill(&s->snap));
		bool a = s->snap.has, b = s->w_has;
		if (!a && !b) {
			s->done = true;
			mvcc__scan_record(s);
			return NULL;
		}
		int c = a ? -1 : 1;
		if (a && b) {
			struct slice snap_key;
			TRY(mvcc__snapshot_key(&s->snap, &snap_key));
			c = slice_cmp(snap_key, buf_slice(&s->w_key));
			if (s->reverse)
				c = -c;
		}
		if (c < 0) {
			/* the key stays encoded (the group) until the caller asks for it */
			TRY(mvcc__copy(&s->last, buf_slice(&s->snap.group)));
			s->last_encoded = true;
			s->out_key_valid = s->snap.key_valid;
			if (s->snap.key_valid)
				mvcc__swap(&s->out_key, &s->snap.key);
			mvcc__swap(&s->out_value, &s->snap.value);
			s->snap.has = false;
		} else {
			if (c == 0)
				s->snap.has = false; /* shadowed by the transaction's own write */
			s->w_has = false;
			if (s->w_value.data[0] != MVCC__TAG_LIVE)
				continue;
			mvcc__swap(&s->out_key, &s->w_key);
			TRY(mvcc__copy(&s->out_value,
			               slice_of(s->w_value.data + 1, s->w_value.len - 1)));
			TRY(mvcc__copy(&s->last, buf_slice(&s->out_key)));
			s->last_encoded = false;
			s->out_key_valid = true;
		}
		s->emitted = true;
		*value = buf_slice(&s->out_value);
		*done = false;
		return NULL;
	}
}

err *mvcc_scan_key(struct mvcc_scan *s, struct slice *key)
{
	assert(s->emitted);
	if (!s->out_key_valid) {
		assert(s->last_encoded);
		TRY(mvcc__data_group_user(buf_slice(&s->last), &s->out_key));
		s->out_key_valid = true;
	}
	*key = buf_slice(&s->out_key);
	assert(key->len >= 1 && key->len <= MVCC_KEY_MAX);
	return NULL;
}

err *mvcc_scan_next(struct mvcc_scan *s, struct slice *key, struct slice *value, bool *done)
{
	TRY(mvcc_scan_step(s, value, done));
	return *done ? NULL : mvcc_scan_key(s, key);
}

void mvcc_scan_close(struct mvcc_scan *s)
{
	if (!s)
		return;
	assert(s->txn->open_scans > 0);
	mvcc__scan_record(s);
	s->txn->open_scans--;
	mvcc__snapshot_free(&s->snap);
	mvcc__cursor_free(&s->wcur);
	buf_free(&s->w_key);
	buf_free(&s->w_value);
	buf_free(&s->from);
	buf_free(&s->to);
	buf_free(&s->last);
	buf_free(&s->out_key);
	buf_free(&s->out_value);
	free(s);
}
