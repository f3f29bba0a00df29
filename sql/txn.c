/*
 * txn.c — statement overlays over MVCC transactions (see txn.h).
 *
 * The overlay is an array of writes in arrival order plus an open-addressing hash index
 * keyed by the key bytes (xxhash, so no dependence on pointers). A later write to the
 * same key replaces the earlier entry in place. A scan collects the overlay entries in
 * its range, sorts them with a stable merge sort, and merges them with the MVCC scan:
 * on equal keys the overlay wins, and overlay deletions hide MVCC entries.
 */
#include "sql/txn.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/checksum.h"
#include "sql/keys.h"
#include "storage/mvcc.h"

struct sql__write {
	uint8_t *key;
	uint32_t key_len;
	uint8_t *value;
	uint32_t value_len;
	bool deleted;
	bool dropped; /* a later range deletion covers it: as if never written */
};

struct sql__range {
	struct slice from, to; /* one allocation each, owned */
};

void sql_txn_init(struct sql_txn *t, struct mvcc_txn *mvcc)
{
	memset(t, 0, sizeof *t);
	t->mvcc = mvcc;
}

void sql_txn_discard(struct sql_txn *t)
{
	for (uint32_t i = 0; i < t->write_count; i++) {
		free(t->writes[i].key);
		free(t->writes[i].value);
	}
	free(t->writes);
	free(t->slots);
	free(t->sorted);
	for (uint32_t i = 0; i < t->range_count; i++) {
		free((void *)t->ranges[i].from.ptr);
		free((void *)t->ranges[i].to.ptr);
	}
	free(t->ranges);
	struct mvcc_txn *m = t->mvcc;
	struct sql_catalog_cache *cache = t->catalog_cache;
	sql_txn_init(t, m);
	t->catalog_cache = cache;
}

static struct slice wkey(const struct sql__write *w)
{
	return slice_of(w->key, w->key_len);
}

static uint32_t key_hash(struct slice key)
{
	return checksum32(key.ptr, key.len);
}

/* The overlay entry for `key`, or NULL. */
static struct sql__write *find(struct sql_txn *t, struct slice key)
{
	if (!t->slot_count)
		return NULL;
	uint32_t mask = t->slot_count - 1;
	for (uint32_t i = key_hash(key) & mask, n = 0; n < t->slot_count; i = (i + 1) & mask, n++) {
		uint32_t s = t->slots[i];
		if (!s)
			return NULL;
		if (slice_eq(wkey(&t->writes[s - 1]), key))
			return &t->writes[s - 1];
	}
	return NULL;
}

static void index_insert(struct sql_txn *t, uint32_t pos)
{
	uint32_t mask = t->slot_count - 1;
	uint32_t i = key_hash(wkey(&t->writes[pos])) & mask;
	while (t->slots[i])
		i = (i + 1) & mask;
	t->slots[i] = pos + 1;
}

static err *grow(struct sql_txn *t)
{
	if (t->write_count >= SQL_STATEMENT_MAX_WRITES)
		return err_new(ERR_LIMIT, "a statement may write at most %d keys",
		               SQL_STATEMENT_MAX_WRITES);
	if (t->write_count == t->write_cap) {
		uint32_t cap = t->write_cap ? t->write_cap * 2 : 16;
		struct sql__write *w = realloc(t->writes, sizeof *w * cap);
		if (!w)
			return err_new(ERR_NOMEM, "out of memory for a statement's writes");
		t->writes = w;
		t->write_cap = cap;
	}
	if ((t->write_count + 1) * 2 > t->slot_count) {
		uint32_t n = t->slot_count ? t->slot_count * 2 : 64;
		uint32_t *slots = calloc(n, sizeof *slots);
		if (!slots)
			return err_new(ERR_NOMEM, "out of memory for a statement's writes");
		free(t->slots);
		t->slots = slots;
		t->slot_count = n;
		for (uint32_t i = 0; i < t->write_count; i++)
			index_insert(t, i);
	}
	return NULL;
}

static err *dup(struct slice s, uint8_t **out)
{
	*out = malloc(s.len ? s.len : 1);
	if (!*out)
		return err_new(ERR_NOMEM, "out of memory for a write");
	if (s.len)
		memcpy(*out, s.ptr, s.len);
	return NULL;
}

static err *record(struct sql_txn *t, struct slice key, struct slice value, bool deleted)
{
	if (key.len == 0 || key.len > MVCC_KEY_MAX)
		return err_new(ERR_LIMIT, "key of %zu bytes (the limit is %d): value too long",
		               key.len, MVCC_KEY_MAX);
	if (value.len > MVCC_VALUE_MAX)
		return err_new(ERR_LIMIT, "row of %zu bytes is larger than the limit of %d",
		               value.len, MVCC_VALUE_MAX);
	assert(t->mvcc && t->write_count <= t->write_cap);
	uint8_t *v = NULL;
	TRY(dup(value, &v));
	struct sql__write *w = find(t, key);
	if (w) {
		free(w->value);
		w->value = v;
		w->value_len = (uint32_t)value.len;
		w->deleted = deleted;
		w->dropped = false;
		return NULL;
	}
	err *e = grow(t);
	uint8_t *k = NULL;
	if (!e)
		e = dup(key, &k);
	if (e) {
		free(v);
		return e;
	}
	t->writes[t->write_count] =
	    (struct sql__write){k, (uint32_t)key.len, v, (uint32_t)value.len, deleted, false};
	index_insert(t, t->write_count);
	t->write_count++;
	return NULL;
}

err *sql_txn_put(struct sql_txn *t, struct slice key, struct slice value)
{
	return record(t, key, value, false);
}

err *sql_txn_delete(struct sql_txn *t, struct slice key)
{
	return record(t, key, slice_of(NULL, 0), true);
}

/* Whether `key` lies in [from, to). */
static bool key_in(struct slice key, struct slice from, struct slice to)
{
	return slice_cmp(key, from) >= 0 && slice_cmp(key, to) < 0;
}

/* Whether a range the statement deleted holds `key`. */
static bool in_deleted_range(const struct sql_txn *t, struct slice key)
{
	for (uint32_t i = 0; i < t->range_count; i++)
		if (key_in(key, t->ranges[i].from, t->ranges[i].to))
			return true;
	return false;
}

err *sql_txn_delete_range(struct sql_txn *t, struct slice from, struct slice to)
{
	if (from.len == 0 || slice_cmp(from, to) >= 0)
		return err_new(ERR_INVALID, "an empty range to delete");
	if (t->range_count >= MVCC_TXN_MAX_RANGE_DELETES)
		return err_new(ERR_LIMIT, "a statement may delete at most %d ranges",
		               MVCC_TXN_MAX_RANGE_DELETES);
	struct sql__range *ranges = realloc(t->ranges, sizeof *ranges * (t->range_count + 1));
	if (!ranges)
		return err_new(ERR_NOMEM, "out of memory for a range deletion");
	t->ranges = ranges;
	uint8_t *f = NULL, *o = NULL;
	err *e = dup(from, &f);
	if (!e)
		e = dup(to, &o);
	if (e) {
		free(f);
		return e;
	}
	t->ranges[t->range_count++] =
	    (struct sql__range){slice_of(f, from.len), slice_of(o, to.len)};
	/* only this range: writes made after an earlier range deletion stay (they came later) */
	for (uint32_t i = 0; i < t->write_count; i++)
		if (key_in(wkey(&t->writes[i]), from, to))
			t->writes[i].dropped = true;
	return NULL;
}

err *sql_txn_get(struct sql_txn *t, struct slice key, struct buf *out, bool *found)
{
	const struct sql__write *w = find(t, key);
	if (w && w->dropped)
		w = NULL;
	if (!w && in_deleted_range(t, key)) {
		*found = false;
		return NULL;
	}
	if (w) {
		*found = !w->deleted;
		buf_clear(out);
		return w->deleted ? NULL : buf_append(out, w->value, w->value_len);
	}
	return mvcc_get(t->mvcc, key, out, found);
}

/* ---- sorting overlay entries (stable merge sort by key) ---- */

static void merge_sort(const struct sql__write **a, const struct sql__write **tmp, uint32_t n)
{
	if (n < 2)
		return;
	uint32_t h = n / 2;
	merge_sort(a, tmp, h);
	merge_sort(a + h, tmp, n - h);
	if (slice_cmp(wkey(a[h]), wkey(a[h - 1])) >= 0)
		return; /* already in order, as an INSERT's rows usually are */
	uint32_t i = 0, j = h, k = 0;
	while (i < h && j < n)
		tmp[k++] = slice_cmp(wkey(a[j]), wkey(a[i])) < 0 ? a[j++] : a[i++];
	while (i < h)
		tmp[k++] = a[i++];
	while (j < n)
		tmp[k++] = a[j++];
	memcpy(a, tmp, sizeof *a * n);
}

/* Merges writes[sorted_count..write_count) into `sorted`. */
static err *sorted_catch_up(struct sql_txn *t)
{
	uint32_t old = t->sorted_count, n = t->write_count, tail = n - old;
	uint32_t *merged = malloc(sizeof *merged * n);
	const struct sql__write **fresh = malloc(sizeof *fresh * tail);
	const struct sql__write **tmp = malloc(sizeof *tmp * tail);
	if (!merged || !fresh || !tmp) {
		free(merged);
		free(fresh);
		free(tmp);
		return err_new(ERR_NOMEM, "out of memory sorting a statement's writes");
	}
	for (uint32_t i = 0; i < tail; i++)
		fresh[i] = &t->writes[old + i];
	merge_sort(fresh, tmp, tail);
	uint32_t i = 0, j = 0, k = 0;
	while (i < old && j < tail)
		merged[k++] = slice_cmp(wkey(fresh[j]), wkey(&t->writes[t->sorted[i]])) < 0
		                  ? (uint32_t)(fresh[j++] - t->writes)
		                  : t->sorted[i++];
	while (i < old)
		merged[k++] = t->sorted[i++];
	while (j < tail)
		merged[k++] = (uint32_t)(fresh[j++] - t->writes);
	free(fresh);
	free(tmp);
	free(t->sorted);
	t->sorted = merged;
	t->sorted_count = n;
	return NULL;
}

err *sql_txn_flush(struct sql_txn *t)
{
	err *e = t->write_count > t->sorted_count ? sorted_catch_up(t) : NULL;
	for (uint32_t i = 0; i < t->range_count && !e; i++)
		e = mvcc_delete_range(t->mvcc, t->ranges[i].from, t->ranges[i].to);
	for (uint32_t i = 0; i < t->sorted_count && !e; i++) {
		const struct sql__write *w = &t->writes[t->sorted[i]];
		if (w->dropped)
			continue;
		e = w->deleted ? mvcc_delete(t->mvcc, wkey(w))
		               : mvcc_put(t->mvcc, wkey(w), slice_of(w->value, w->value_len));
	}
	sql_txn_discard(t);
	return e;
}

/* ---- merged scans ---- */

struct sql_txn_scan {
	const struct sql_txn *txn;
	struct mvcc_scan *mvcc;
	const struct sql__write **overlay; /* sorted entries within the range */
	uint32_t overlay_count;
	uint32_t overlay_next;
	bool mvcc_done;
	bool mvcc_has; /* mvcc_value holds the MVCC scan's current entry */
	struct slice mvcc_value;
	const struct sql__write *returned; /* the overlay entry returned last, or NULL */
};

/*
 * Writes the statement made since `sorted` was brought up to date, at most this many
 * plus a 256th of the sorted ones, are looked at one by one by every scan; beyond that
 * they are merged in (a pass over all). Either way a statement's scans cost about
 * W * sqrt(W) for W writes, where sorting every write for every scan cost W * W.
 */
#define SQL__UNSORTED_MIN 64

/* Adds `w` to the scan's overlay, growing it by doubling. */
static err *overlay_push(struct sql_txn_scan *sc, uint32_t *cap, const struct sql__write *w)
{
	if (sc->overlay_count == *cap) {
		uint32_t grown = *cap ? *cap * 2 : 16;
		const struct sql__write **a = realloc(sc->overlay, sizeof *a * grown);
		if (!a)
			return err_new(ERR_NOMEM, "out of memory opening a scan");
		sc->overlay = a;
		*cap = grown;
	}
	sc->overlay[sc->overlay_count++] = w;
	return NULL;
}

/* The statement's writes in [from, to), not dropped, in key order, into sc->overlay. */
static err *overlay_collect(struct sql_txn *t, struct slice from, struct slice to,
                            struct sql_txn_scan *sc)
{
	if (t->write_count - t->sorted_count > SQL__UNSORTED_MIN + t->sorted_count / 256)
		TRY(sorted_catch_up(t));
	uint32_t cap = 0, lo = 0, hi = t->sorted_count;
	while (lo < hi) { /* the first sorted write at or after `from` */
		uint32_t mid = lo + (hi - lo) / 2;
		if (slice_cmp(wkey(&t->writes[t->sorted[mid]]), from) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (uint32_t i = lo; i < t->sorted_count; i++) {
		const struct sql__write *w = &t->writes[t->sorted[i]];
		if (slice_cmp(wkey(w), to) >= 0)
			break;
		if (!w->dropped)
			TRY(overlay_push(sc, &cap, w));
	}
	uint32_t in_order = sc->overlay_count;
	for (uint32_t i = t->sorted_count; i < t->write_count; i++) {
		const struct sql__write *w = &t->writes[i];
		if (!w->dropped && key_in(wkey(w), from, to))
			TRY(overlay_push(sc, &cap, w));
	}
	if (sc->overlay_count == in_order)
		return NULL;
	const struct sql__write **tmp = malloc(sizeof *tmp * sc->overlay_count);
	if (!tmp)
		return err_new(ERR_NOMEM, "out of memory opening a scan");
	merge_sort(sc->overlay, tmp, sc->overlay_count);
	free(tmp);
	return NULL;
}

err *sql_txn_scan_open(struct sql_txn *t, struct slice from, struct slice to,
                       struct sql_txn_scan **out)
{
	*out = NULL;
	struct sql_txn_scan *sc = calloc(1, sizeof *sc);
	if (!sc)
		return err_new(ERR_NOMEM, "out of memory opening a scan");
	sc->txn = t;
	err *e = overlay_collect(t, from, to, sc);
	if (!e)
		e = mvcc_scan_open(t->mvcc, &from, &to, false, &sc->mvcc);
	if (e) {
		sql_txn_scan_close(sc);
		return e;
	}
	*out = sc;
	return NULL;
}

err *sql_txn_scan_prefix(struct sql_txn *t, struct slice prefix, struct sql_txn_scan **out)
{
	struct buf end;
	buf_init(&end, MVCC_KEY_MAX + 16);
	err *e = sql_key_prefix_end(prefix, &end);
	if (!e)
		e = sql_txn_scan_open(t, prefix, buf_slice(&end), out);
	buf_free(&end);
	return e;
}

/* The MVCC scan's next entry outside the statement's deleted ranges, or *done. */
static err *mvcc_step(struct sql_txn_scan *sc, struct slice *value, bool *done)
{
	/* every round consumes an entry of the MVCC scan, which ends */
	for (;;) {
		TRY(mvcc_scan_step(sc->mvcc, value, done));
		if (*done || sc->txn->range_count == 0)
			return NULL;
		struct slice key;
		TRY(mvcc_scan_key(sc->mvcc, &key));
		if (!in_deleted_range(sc->txn, key))
			return NULL;
	}
}

err *sql_txn_scan_step(struct sql_txn_scan *sc, struct slice *value, bool *done)
{
	if (sc->overlay_next >= sc->overlay_count && !sc->mvcc_has) {
		/* nothing (left) in the overlay: the MVCC scan's entries pass straight through */
		*done = true;
		if (sc->mvcc_done)
			return NULL;
		TRY(mvcc_step(sc, value, done));
		sc->mvcc_done = *done;
		sc->returned = NULL;
		return NULL;
	}
	for (;;) {
		if (!sc->mvcc_has && !sc->mvcc_done) {
			TRY(mvcc_step(sc, &sc->mvcc_value, &sc->mvcc_done));
			sc->mvcc_has = !sc->mvcc_done;
		}
		const struct sql__write *w =
		    sc->overlay_next < sc->overlay_count ? sc->overlay[sc->overlay_next] : NULL;
		if (!w && !sc->mvcc_has) {
			*done = true;
			return NULL;
		}
		int c = 1;
		if (w && !sc->mvcc_has) {
			c = -1;
		} else if (w) {
			struct slice mvcc_key;
			TRY(mvcc_scan_key(sc->mvcc, &mvcc_key));
			c = slice_cmp(wkey(w), mvcc_key);
		}
		if (c > 0) {
			*value = sc->mvcc_value;
			sc->mvcc_has = false;
			sc->returned = NULL;
			*done = false;
			return NULL;
		}
		sc->overlay_next++;
		if (c == 0)
			sc->mvcc_has = false; /* the overlay replaces the stored entry */
		if (w->deleted)
			continue;
		*value = slice_of(w->value, w->value_len);
		sc->returned = w;
		*done = false;
		return NULL;
	}
}

err *sql_txn_scan_key(struct sql_txn_scan *sc, struct slice *key)
{
	if (sc->returned) {
		*key = wkey(sc->returned);
		return NULL;
	}
	return mvcc_scan_key(sc->mvcc, key);
}

err *sql_txn_scan_next(struct sql_txn_scan *sc, struct slice *key, struct slice *value, bool *done)
{
	TRY(sql_txn_scan_step(sc, value, done));
	return *done ? NULL : sql_txn_scan_key(sc, key);
}

void sql_txn_scan_close(struct sql_txn_scan *sc)
{
	if (!sc)
		return;
	mvcc_scan_close(sc->mvcc);
	free(sc->overlay);
	free(sc);
}
