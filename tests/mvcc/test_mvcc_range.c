/*
 * Range deletions (mvcc_delete_range): the range reads empty from the deleting commit's
 * version on while older snapshots keep their keys; the transaction's own writes around
 * the deletion; validation counting the range as written; GC purging the range's old
 * versions; durability across a reopen; the limits; a record that stays small however
 * many keys the range holds; and the same data as deleting the keys one by one.
 */
#include <stdio.h>
#include <stdlib.h>

#include "mvcc_harness.h"
#include "storage/mvcc_keys.h"
#include "storage/mvcc_tombstone.h"

/* Encodes t's record now (as its COMMIT would propose it) and frees t. */
static void propose(struct mvcc_txn *t, struct buf *rec)
{
	buf_init(rec, MVCC_RECORD_MAX_BYTES);
	encode(t, rec);
	mvcc_txn_free(t);
}

/* Applies a proposed record at the next index and returns its outcome code. */
static enum err_code decide(struct store *s, struct buf *rec)
{
	struct mvcc_outcome o;
	apply_next(s, rec, &o);
	buf_free(rec);
	return o.code;
}

/* Checks that e is an error (of a code the contract leaves open), and releases it. */
static void fails(err *e)
{
	ck_assert_ptr_nonnull(e);
	err_free(e);
}

static void delete_range(struct mvcc_txn *t, const char *from, const char *to)
{
	ok(mvcc_delete_range(t, S(from), S(to)));
}

/* Writes every key of `keys` = value in one transaction, committed at the next index. */
static void write_keys(struct store *s, const char *const *keys, size_t n, const char *value)
{
	struct mvcc_txn *t = begin(s, MVCC_LATEST, 0);
	for (size_t i = 0; i < n; i++)
		put(t, keys[i], value);
	ck_assert_int_eq(commit(s, t), 0);
}

/* Deletes [from, to) in a transaction of its own; returns the index it committed at. */
static uint64_t delete_range_one(struct store *s, const char *from, const char *to)
{
	struct mvcc_txn *t = begin(s, MVCC_LATEST, 0);
	delete_range(t, from, to);
	ck_assert_int_eq(commit(s, t), 0);
	return mvcc_applied_version(s->m);
}

/* Counts the keys t sees in [from, to) through a scan in either direction. */
static int count_range(struct mvcc_txn *t, const char *from, const char *to, bool reverse)
{
	struct slice f = S(from), u = S(to);
	struct mvcc_scan *sc;
	ok(mvcc_scan_open(t, &f, &u, reverse, &sc));
	int n = 0;
	for (;;) {
		struct slice k, v;
		bool done;
		ok(mvcc_scan_next(sc, &k, &v, &done));
		if (done)
			break;
		n++;
	}
	mvcc_scan_close(sc);
	return n;
}

/*
 * The versions the KV engine holds of user keys in [from, to) whose version is below
 * `below`: counted in the raw data space (storage/mvcc_keys.h), beneath MVCC's reads, so
 * what GC removed is seen and not just hidden.
 */
static uint64_t stored_versions(struct store *s, const char *from, const char *to, uint64_t below)
{
	struct slice f = S(from), u = S(to);
	struct buf lo, hi;
	buf_init(&lo, KV_KEY_MAX);
	buf_init(&hi, KV_KEY_MAX);
	ok(mvcc__data_range(&f, &u, &lo, &hi));
	struct slice l = buf_slice(&lo), h = buf_slice(&hi);
	struct kv_iter *it;
	ok(kv_iter_open(s->kv, &l, &h, false, &it));
	uint64_t n = 0;
	for (;;) {
		struct slice k, v;
		bool done;
		ok(kv_iter_next(it, &k, &v, &done));
		if (done)
			break;
		size_t group_len;
		uint64_t version;
		ok(mvcc__data_key_split(k, &group_len, &version));
		n += version < below;
	}
	kv_iter_close(it);
	buf_free(&lo);
	buf_free(&hi);
	return n;
}

/*
 * From the deleting commit's version on, gets and scans (both directions, bounds inside
 * and outside the range) see none of the keys written before it, including one committed
 * after the deleting transaction began; the bounds are half-open; later writes show;
 * snapshots below the version, open or begun afterwards, still see every old key.
 */
START_TEST(range_reads_empty_from_its_commit_on)
{
	struct store s;
	store_open(&s, 301);
	const char *keys[] = {"a", "azz", "b", "b1", "bzz", "c", "c0", "d"};
	write_keys(&s, keys, 8, "1"); /* 1 */
	write_one(&s, "b1", "2");     /* 2: a second version in the range */
	struct mvcc_txn *d = begin(&s, MVCC_LATEST, 0);
	write_one(&s, "b2", "mid"); /* 3: after d began, still before its commit */
	struct mvcc_txn *old = begin(&s, MVCC_LATEST, MVCC_READ_ONLY);
	delete_range(d, "b", "c");
	ck_assert_int_eq(commit(&s, d), 0); /* 4 */
	write_one(&s, "b5", "after");       /* 5 */
	char v[16], out[256];
	struct mvcc_txn *t = begin(&s, MVCC_LATEST, MVCC_READ_ONLY);
	const char *gone[] = {"b", "b1", "b2", "bzz"}, *kept[] = {"a", "azz", "c", "c0", "d"};
	for (size_t i = 0; i < 4; i++)
		ck_assert_str_eq(get(t, gone[i], v, sizeof v), "");
	for (size_t i = 0; i < 5; i++)
		ck_assert_str_eq(get(t, kept[i], v, sizeof v), "1");
	ck_assert_str_eq(get(t, "b5", v, sizeof v), "after");
	ck_assert_str_eq(scan_all(t, NULL, NULL, false, out, sizeof out),
	                 "a=1,azz=1,b5=after,c=1,c0=1,d=1");
	ck_assert_str_eq(scan_all(t, NULL, NULL, true, out, sizeof out),
	                 "d=1,c0=1,c=1,b5=after,azz=1,a=1");
	ck_assert_str_eq(scan_all(t, "b", "c", false, out, sizeof out), "b5=after");
	ck_assert_str_eq(scan_all(t, "b", "c", true, out, sizeof out), "b5=after");
	ck_assert_str_eq(scan_all(t, "azz", "c0", false, out, sizeof out), "azz=1,b5=after,c=1");
	ck_assert_str_eq(scan_all(t, "azz", "c0", true, out, sizeof out), "c=1,b5=after,azz=1");
	/* scans that start or end inside the range */
	ck_assert_str_eq(scan_all(t, "b1", "c1", false, out, sizeof out), "b5=after,c=1,c0=1");
	ck_assert_str_eq(scan_all(t, "b1", "c1", true, out, sizeof out), "c0=1,c=1,b5=after");
	ck_assert_str_eq(scan_all(t, "a0", "b3", false, out, sizeof out), "azz=1");
	ck_assert_str_eq(scan_all(t, "a0", "b3", true, out, sizeof out), "azz=1");
	mvcc_txn_free(t);
	/* at the deletion's own version the later write is not there yet */
	t = begin(&s, 4, MVCC_READ_ONLY);
	ck_assert_str_eq(scan_all(t, NULL, NULL, false, out, sizeof out), "a=1,azz=1,c=1,c0=1,d=1");
	ck_assert_str_eq(get(t, "b5", v, sizeof v), "");
	mvcc_txn_free(t);
	/* below it, the snapshot held open and one begun now by time travel see every key */
	const char *all = "a=1,azz=1,b=1,b1=2,b2=mid,bzz=1,c=1,c0=1,d=1";
	const char *all_rev = "d=1,c0=1,c=1,bzz=1,b2=mid,b1=2,b=1,azz=1,a=1";
	t = begin(&s, 3, MVCC_READ_ONLY);
	struct mvcc_txn *snaps[] = {old, t};
	for (size_t i = 0; i < 2; i++) {
		ck_assert_str_eq(scan_all(snaps[i], NULL, NULL, false, out, sizeof out), all);
		ck_assert_str_eq(scan_all(snaps[i], NULL, NULL, true, out, sizeof out), all_rev);
		ck_assert_str_eq(get(snaps[i], "b1", v, sizeof v), "2");
		ck_assert_str_eq(get(snaps[i], "b2", v, sizeof v), "mid");
	}
	mvcc_txn_free(t);
	mvcc_txn_free(old);
	ck_assert_str_eq(read_at(&s, 1, "b1", v, sizeof v), "1");
	store_close(&s);
}
END_TEST

/*
 * Inside the deleting transaction: its writes in the range made before the deletion are
 * dropped, those made after survive (also the commit, at the deletion's own version),
 * and its reads after the deletion see the range empty but for them. A second range drops
 * what the transaction wrote in it after the first.
 */
START_TEST(own_writes_around_the_deletion)
{
	struct store s;
	store_open(&s, 302);
	const char *keys[] = {"a", "b1", "b3", "c"};
	write_keys(&s, keys, 4, "1"); /* 1 */
	struct mvcc_txn *t = begin(&s, MVCC_LATEST, 0);
	char v[16], out[256];
	put(t, "b2", "before");
	put(t, "a0", "outside");
	delete_range(t, "b", "c");
	ck_assert_str_eq(get(t, "b1", v, sizeof v), "");
	ck_assert_str_eq(get(t, "b2", v, sizeof v), "");
	ck_assert_str_eq(get(t, "b3", v, sizeof v), "");
	ck_assert_str_eq(get(t, "a0", v, sizeof v), "outside");
	ck_assert_str_eq(get(t, "c", v, sizeof v), "1");
	ck_assert_str_eq(scan_all(t, NULL, NULL, false, out, sizeof out), "a=1,a0=outside,c=1");
	ck_assert_str_eq(scan_all(t, NULL, NULL, true, out, sizeof out), "c=1,a0=outside,a=1");
	ck_assert_str_eq(scan_all(t, "b", "c", false, out, sizeof out), "");
	ck_assert_str_eq(scan_all(t, "b", "c", true, out, sizeof out), "");
	put(t, "b3", "after");
	put(t, "b4", "after");
	ck_assert_str_eq(get(t, "b3", v, sizeof v), "after");
	ck_assert_str_eq(scan_all(t, NULL, NULL, false, out, sizeof out),
	                 "a=1,a0=outside,b3=after,b4=after,c=1");
	ck_assert_str_eq(scan_all(t, NULL, NULL, true, out, sizeof out),
	                 "c=1,b4=after,b3=after,a0=outside,a=1");
	delete_range(t, "b4", "b5");
	ck_assert_str_eq(get(t, "b4", v, sizeof v), "");
	ck_assert_str_eq(scan_all(t, "b", "c", true, out, sizeof out), "b3=after");
	ck_assert(!mvcc_txn_is_read_only(t));
	ck_assert_int_eq(commit(&s, t), 0); /* 2 */
	t = begin(&s, MVCC_LATEST, MVCC_READ_ONLY);
	ck_assert_str_eq(scan_all(t, NULL, NULL, false, out, sizeof out),
	                 "a=1,a0=outside,b3=after,c=1");
	ck_assert_str_eq(scan_all(t, NULL, NULL, true, out, sizeof out),
	                 "c=1,b3=after,a0=outside,a=1");
	mvcc_txn_free(t);
	t = begin(&s, 1, MVCC_READ_ONLY);
	ck_assert_str_eq(scan_all(t, NULL, NULL, false, out, sizeof out), "a=1,b1=1,b3=1,c=1");
	mvcc_txn_free(t);
	store_close(&s);
}
END_TEST

/*
 * A range the transaction deletes while its scan is open, ahead of the scan's position:
 * the scan shows none of it, forward or in reverse, although the next stored key was
 * already read ahead as the scan's head when the range went (it used to be returned).
 */
START_TEST(range_deleted_ahead_of_an_open_scan)
{
	for (int reverse = 0; reverse < 2; reverse++) {
		struct store s;
		store_open(&s, 310);
		const char *keys[] = {"a", "c", "e"};
		write_keys(&s, keys, 3, "1");
		struct mvcc_txn *t = begin(&s, MVCC_LATEST, 0);
		put(t, reverse ? "d" : "b", "2"); /* buffered: the scan's second row */
		struct mvcc_scan *sc;
		ok(mvcc_scan_open(t, NULL, NULL, reverse, &sc));
		struct slice k, v;
		bool done;
		char seen[64] = "";
		for (int row = 0; row < 2; row++) { /* a, b (or e, d): the head is now c */
			ok(mvcc_scan_next(sc, &k, &v, &done));
			ck_assert(!done);
			strncat(seen, (const char *)k.ptr, k.len);
		}
		if (reverse)
			delete_range(t, "b", "d");
		else
			delete_range(t, "c", "d");
		for (;;) {
			ok(mvcc_scan_next(sc, &k, &v, &done));
			if (done)
				break;
			strncat(seen, (const char *)k.ptr, k.len);
		}
		ck_assert_str_eq(seen, reverse ? "eda" : "abe");
		mvcc_scan_close(sc);
		mvcc_txn_free(t);
		store_close(&s);
	}
}
END_TEST

/*
 * For validation the range is written at the deleting commit: transactions that read a
 * key in it (by get, forward or reverse scan) at an older version abort; a blind writer
 * in the range commits after it and its writes show; readers of keys outside the range,
 * up to both its bounds, and readers begun after the deletion are not disturbed.
 */
START_TEST(validation_counts_the_range_as_written)
{
	struct store s;
	store_open(&s, 303);
	const char *keys[] = {"a", "b1", "b2", "c", "d"};
	write_keys(&s, keys, 5, "1"); /* 1 */
	char v[16], out[256];
	struct mvcc_txn *getter = begin(&s, MVCC_LATEST, 0);
	get(getter, "b1", v, sizeof v);
	put(getter, "z1", "x");
	struct mvcc_txn *forward = begin(&s, MVCC_LATEST, 0);
	scan_all(forward, "a", "c", false, out, sizeof out);
	put(forward, "z2", "x");
	struct mvcc_txn *reverse = begin(&s, MVCC_LATEST, 0);
	scan_all(reverse, "b2", "e", true, out, sizeof out);
	put(reverse, "z3", "x");
	struct mvcc_txn *blind = begin(&s, MVCC_LATEST, 0);
	put(blind, "b1", "blind");
	put(blind, "b7", "new");
	struct mvcc_txn *outside = begin(&s, MVCC_LATEST, 0);
	get(outside, "a", v, sizeof v);
	get(outside, "c", v, sizeof v); /* exactly the range's end */
	ck_assert_str_eq(scan_all(outside, "a", "b", false, out, sizeof out), "a=1");
	ck_assert_str_eq(scan_all(outside, "c", "e", true, out, sizeof out), "d=1,c=1");
	put(outside, "z4", "x");
	struct buf rg, rf, rr, rb, ro;
	propose(getter, &rg);
	propose(forward, &rf);
	propose(reverse, &rr);
	propose(blind, &rb);
	propose(outside, &ro);
	ck_assert_uint_eq(delete_range_one(&s, "b", "c"), 2);
	struct mvcc_txn *after = begin(&s, MVCC_LATEST, 0);
	get(after, "b2", v, sizeof v);
	put(after, "z5", "x");
	ck_assert_int_eq(decide(&s, &rg), ERR_CONFLICT);
	ck_assert_int_eq(decide(&s, &rf), ERR_CONFLICT);
	ck_assert_int_eq(decide(&s, &rr), ERR_CONFLICT);
	ck_assert_int_eq(decide(&s, &rb), 0);
	ck_assert_int_eq(decide(&s, &ro), 0);
	ck_assert_int_eq(commit(&s, after), 0);
	struct mvcc_txn *t = begin(&s, MVCC_LATEST, MVCC_READ_ONLY);
	ck_assert_str_eq(scan_all(t, NULL, NULL, false, out, sizeof out),
	                 "a=1,b1=blind,b7=new,c=1,d=1,z4=x,z5=x");
	mvcc_txn_free(t);
	store_close(&s);
}
END_TEST

/*
 * Fills [k, l) with 20 keys of 3 versions each and j, l beside it (indexes 1..3), deletes
 * [k, l) and returns the deletion's index; then writes k05 at the next index.
 */
static uint64_t fill_delete_rewrite(struct store *s)
{
	char key[16], v[16];
	for (int round = 0; round < 3; round++) {
		struct mvcc_txn *t = begin(s, MVCC_LATEST, 0);
		snprintf(v, sizeof v, "%d", round);
		put(t, "j", v);
		put(t, "l", v);
		for (int i = 0; i < 20; i++) {
			snprintf(key, sizeof key, "k%02d", i);
			put(t, key, v);
		}
		ck_assert_int_eq(commit(s, t), 0);
	}
	uint64_t i = delete_range_one(s, "k", "l");
	write_one(s, "k05", "new");
	return i;
}

/*
 * GC at a mark at the deleting commit removes every stored version of the range older
 * than it (the deletion is the keys' newest version at the mark) and keeps a later write;
 * reads answer as before. Collected a slice at a time, a store ends as collected whole.
 */
START_TEST(gc_purges_the_range)
{
	struct store s, sliced;
	store_open(&s, 304);
	store_open(&sliced, 305);
	uint64_t i = fill_delete_rewrite(&s);
	ck_assert_uint_eq(fill_delete_rewrite(&sliced), i);
	ck_assert_uint_eq(stored_versions(&s, "k", "l", i), 60);
	uint64_t before, after;
	ok(mvcc_data_hash(s.m, &before));
	ok(mvcc_gc(s.m, i));
	ck_assert_uint_eq(mvcc_gc_low_water(s.m), i);
	ck_assert_uint_eq(stored_versions(&s, "k", "l", i), 0);
	ck_assert_uint_eq(stored_versions(&s, "k", "l", UINT64_MAX), 1); /* k05@i+1 */
	ok(mvcc_data_hash(s.m, &after));
	ck_assert_uint_eq(before, after);
	char v[16], out[256];
	struct mvcc_txn *t = begin(&s, i, MVCC_READ_ONLY);
	ck_assert_int_eq(count_range(t, "k", "l", false), 0);
	ck_assert_int_eq(count_range(t, "k", "l", true), 0);
	ck_assert_str_eq(scan_all(t, NULL, NULL, false, out, sizeof out), "j=2,l=2");
	mvcc_txn_free(t);
	t = begin(&s, MVCC_LATEST, MVCC_READ_ONLY);
	ck_assert_str_eq(scan_all(t, NULL, NULL, true, out, sizeof out), "l=2,k05=new,j=2");
	mvcc_txn_free(t);
	/* a later write in the range and a full collection: only the live versions stay */
	write_one(&s, "k07", "newer");
	write_one(&sliced, "k07", "newer");
	ok(mvcc_gc(s.m, MVCC_LATEST));
	ck_assert_uint_eq(stored_versions(&s, "k", "l", UINT64_MAX), 2);
	ck_assert_str_eq(read_at(&s, MVCC_LATEST, "k05", v, sizeof v), "new");
	ck_assert_str_eq(read_at(&s, MVCC_LATEST, "k07", v, sizeof v), "newer");
	ck_assert_str_eq(read_at(&s, MVCC_LATEST, "k06", v, sizeof v), "");
	uint64_t low = mvcc_applied_version(sliced.m);
	for (int n = 0; n < 100; n++) /* 68 user versions plus bookkeeping, 7 at a time */
		ok(mvcc_gc_some(sliced.m, low, 7));
	ck_assert_uint_eq(stored_versions(&sliced, "k", "l", UINT64_MAX), 2);
	struct kv_stats whole, slices;
	ok(kv_stats(s.kv, &whole));
	ok(kv_stats(sliced.kv, &slices));
	ck_assert_uint_eq(slices.keys, whole.keys);
	ok(mvcc_data_hash(s.m, &before));
	ok(mvcc_data_hash(sliced.m, &after));
	ck_assert_uint_eq(before, after);
	store_close(&s);
	store_close(&sliced);
}
END_TEST

/*
 * A flushed range deletion survives closing and reopening the store on its KV: the range
 * still reads empty, time travel below it still sees the keys, the history rebuilt from
 * the log still aborts a reader of the range, and GC still purges it.
 */
START_TEST(range_deletion_survives_a_reopen)
{
	struct store s;
	store_open(&s, 306);
	const char *keys[] = {"a", "b1", "b2", "c"};
	write_keys(&s, keys, 4, "1"); /* 1 */
	char v[16], out[256];
	struct mvcc_txn *reader = begin(&s, MVCC_LATEST, 0);
	get(reader, "b2", v, sizeof v);
	put(reader, "z", "x");
	struct buf rec;
	propose(reader, &rec);
	ck_assert_uint_eq(delete_range_one(&s, "b", "c"), 2);
	ok(mvcc_flush(s.m, true));
	store_reopen(&s);
	ck_assert_uint_eq(mvcc_applied_version(s.m), 2);
	struct mvcc_txn *t = begin(&s, MVCC_LATEST, MVCC_READ_ONLY);
	ck_assert_str_eq(scan_all(t, NULL, NULL, false, out, sizeof out), "a=1,c=1");
	ck_assert_str_eq(scan_all(t, NULL, NULL, true, out, sizeof out), "c=1,a=1");
	ck_assert_str_eq(get(t, "b1", v, sizeof v), "");
	mvcc_txn_free(t);
	t = begin(&s, 1, MVCC_READ_ONLY);
	ck_assert_str_eq(scan_all(t, NULL, NULL, false, out, sizeof out), "a=1,b1=1,b2=1,c=1");
	mvcc_txn_free(t);
	ck_assert_int_eq(decide(&s, &rec), ERR_CONFLICT); /* 3 */
	ck_assert_str_eq(read_at(&s, MVCC_LATEST, "z", v, sizeof v), "");
	ok(mvcc_gc(s.m, MVCC_LATEST));
	ck_assert_uint_eq(stored_versions(&s, "b", "c", UINT64_MAX), 0);
	ck_assert_str_eq(read_at(&s, MVCC_LATEST, "a", v, sizeof v), "1");
	store_close(&s);
}
END_TEST

/*
 * Bad bounds are refused (from >= to, empty, longer than MVCC_KEY_MAX + 1 bytes) but the
 * longest allowed ones work; read-only and ended transactions cannot delete; a
 * transaction holding only a range deletion is not read-only and commits; one
 * transaction makes at most MVCC_TXN_MAX_RANGE_DELETES ranges.
 */
START_TEST(limits_and_errors)
{
	struct store s;
	store_open(&s, 307);
	uint8_t big[MVCC_KEY_MAX + 2];
	memset(big, 'k', sizeof big);
	struct slice max_key = slice_of(big, MVCC_KEY_MAX);
	struct mvcc_txn *t = begin(&s, MVCC_LATEST, 0);
	put(t, "k", "short");
	ok(mvcc_put(t, max_key, S("max")));
	ck_assert_int_eq(commit(&s, t), 0); /* 1 */
	t = begin(&s, MVCC_LATEST, 0);
	fails_with(mvcc_delete_range(t, S("b"), S("b")), ERR_INVALID);
	fails_with(mvcc_delete_range(t, S("c"), S("b")), ERR_INVALID);
	fails(mvcc_delete_range(t, S(""), S("b")));
	fails(mvcc_delete_range(t, S("a"), S("")));
	fails(mvcc_delete_range(t, S("a"), slice_of(big, MVCC_KEY_MAX + 2)));
	fails(mvcc_delete_range(t, slice_of(big, MVCC_KEY_MAX + 2), S("l")));
	/* [max key, max key followed by a zero byte): exactly the maximal key */
	uint8_t after_max[MVCC_KEY_MAX + 1];
	memset(after_max, 'k', MVCC_KEY_MAX);
	after_max[MVCC_KEY_MAX] = 0;
	ok(mvcc_delete_range(t, max_key, slice_of(after_max, sizeof after_max)));
	ck_assert(!mvcc_txn_is_read_only(t)); /* it wrote nothing else */
	struct mvcc_outcome o;
	ok(mvcc_commit_local(s.m, t, &o));
	ck_assert(o.committed);
	fails(mvcc_delete_range(t, S("a"), S("b"))); /* ended */
	mvcc_txn_free(t);
	char v[16];
	ck_assert_str_eq(read_at(&s, MVCC_LATEST, "k", v, sizeof v), "short");
	struct buf value;
	buf_init(&value, 64);
	bool found;
	t = begin(&s, MVCC_LATEST, MVCC_READ_ONLY);
	ok(mvcc_get(t, max_key, &value, &found));
	ck_assert(!found);
	fails(mvcc_delete_range(t, S("a"), S("b"))); /* read-only */
	mvcc_txn_free(t);
	buf_free(&value);
	/* MVCC_TXN_MAX_RANGE_DELETES disjoint ranges, each holding a key, and one too many */
	char from[16], to[16];
	t = begin(&s, MVCC_LATEST, 0);
	for (int i = 0; i <= MVCC_TXN_MAX_RANGE_DELETES; i++) {
		snprintf(from, sizeof from, "r%03d", i);
		put(t, from, "1");
	}
	ck_assert_int_eq(commit(&s, t), 0);
	t = begin(&s, MVCC_LATEST, 0);
	for (int i = 0; i < MVCC_TXN_MAX_RANGE_DELETES; i++) {
		snprintf(from, sizeof from, "r%03d", i);
		snprintf(to, sizeof to, "r%03d~", i);
		delete_range(t, from, to);
	}
	snprintf(from, sizeof from, "r%03d", MVCC_TXN_MAX_RANGE_DELETES);
	snprintf(to, sizeof to, "r%03d~", MVCC_TXN_MAX_RANGE_DELETES);
	fails_with(mvcc_delete_range(t, S(from), S(to)), ERR_LIMIT);
	ck_assert_int_eq(commit(&s, t), 0);
	t = begin(&s, MVCC_LATEST, MVCC_READ_ONLY);
	ck_assert_int_eq(count_range(t, "r", "s", false), 1); /* the one refused */
	ck_assert_str_eq(get(t, from, v, sizeof v), "1");
	mvcc_txn_free(t);
	store_close(&s);
}
END_TEST

/*
 * The store holds at most MVCC_RANGE_DELETES_PENDING_MAX committed ranges awaiting their
 * purge: past that a transaction cannot make another until GC has purged them.
 */
/*
 * The lookup structure of a set of deleted ranges (sorted by lower bound, with a running
 * maximum of the upper bounds) answers like a walk over every range, for overlapping and
 * nested ranges, while ranges come and go.
 */
START_TEST(range_lookup_matches_a_linear_walk)
{
	struct prng rng;
	prng_seed(&rng, 0x7a9e);
	struct mvcc__tombstones t;
	mvcc__tombstones_init(&t);
	char from[8], to[8], key[8];
	struct buf group;
	buf_init(&group, KV_KEY_MAX);
	for (int round = 0; round < 4000; round++) {
		if (t.count > 0 && prng_chance(&rng, 0.3)) {
			mvcc__tombstones_remove(&t, (uint32_t)prng_below(&rng, t.count));
		} else if (t.count < 40) {
			int a = (int)prng_below(&rng, 60), b = a + 1 + (int)prng_below(&rng, 20);
			snprintf(from, sizeof from, "k%02d", a);
			snprintf(to, sizeof to, "k%02d", b);
			ok(mvcc__tombstones_add(&t, 1 + prng_below(&rng, 50), t.count, S(from),
			                        S(to)));
		}
		for (int q = 0; q < 20; q++) {
			snprintf(key, sizeof key, "k%02d", (int)prng_below(&rng, 82));
			uint64_t version = prng_below(&rng, 52),
			         read_version = prng_below(&rng, 52);
			ok(mvcc__key_data_prefix(&group, S(key)));
			bool want = false;
			for (uint32_t i = 0; i < t.count; i++) {
				const struct mvcc__tombstone *ts = &t.items[i];
				want |= version < ts->index && ts->index <= read_version &&
				        slice_cmp(S(key), buf_slice(&ts->from)) >= 0 &&
				        slice_cmp(S(key), buf_slice(&ts->to)) < 0;
			}
			ck_assert_int_eq(
			    mvcc__tombstones_hide(&t, buf_slice(&group), version, read_version),
			    want);
		}
	}
	buf_free(&group);
	mvcc__tombstones_free(&t);
}
END_TEST

START_TEST(pending_ranges_are_bounded_until_gc)
{
	struct store s;
	store_open(&s, 308);
	char from[16], to[16];
	struct mvcc_txn *t = begin(&s, MVCC_LATEST, 0);
	for (int i = 0; i <= MVCC_RANGE_DELETES_PENDING_MAX; i++) {
		snprintf(from, sizeof from, "p%04d", i);
		put(t, from, "1");
	}
	ck_assert_int_eq(commit(&s, t), 0);
	for (int i = 0; i < MVCC_RANGE_DELETES_PENDING_MAX; i++) {
		snprintf(from, sizeof from, "p%04d", i);
		snprintf(to, sizeof to, "p%04d~", i);
		delete_range_one(&s, from, to);
	}
	snprintf(from, sizeof from, "p%04d", MVCC_RANGE_DELETES_PENDING_MAX);
	snprintf(to, sizeof to, "p%04d~", MVCC_RANGE_DELETES_PENDING_MAX);
	t = begin(&s, MVCC_LATEST, 0);
	fails_with(mvcc_delete_range(t, S(from), S(to)), ERR_LIMIT);
	mvcc_txn_free(t);
	ok(mvcc_gc(s.m, MVCC_LATEST));
	delete_range_one(&s, from, to);
	t = begin(&s, MVCC_LATEST, MVCC_READ_ONLY);
	ck_assert_int_eq(count_range(t, "p", "q", false), 0);
	mvcc_txn_free(t);
	store_close(&s);
}
END_TEST

/*
 * The point of the feature: a range of 50,000 keys is deleted by a commit record of a few
 * dozen bytes (the range, not its keys), with the same effect on reads and GC.
 */
START_TEST(many_keys_deleted_by_a_small_record)
{
	enum { KEYS = 50000, BATCH = 5000 };
	struct store s;
	store_open(&s, 309);
	char key[16];
	for (int b = 0; b < KEYS / BATCH; b++) {
		struct mvcc_txn *t = begin(&s, MVCC_LATEST, 0);
		for (int i = b * BATCH; i < (b + 1) * BATCH; i++) {
			snprintf(key, sizeof key, "r%05d", i);
			put(t, key, "v");
		}
		if (b == 0) {
			put(t, "q", "below");
			put(t, "s", "end");
		}
		ck_assert_int_eq(commit(&s, t), 0);
	}
	struct mvcc_txn *t = begin(&s, MVCC_LATEST, 0);
	delete_range(t, "r", "s");
	struct buf rec;
	propose(t, &rec);
	ck_assert_uint_lt(rec.len, 1024);
	ck_assert_int_eq(decide(&s, &rec), 0);
	uint64_t i = mvcc_applied_version(s.m);
	char v[16];
	t = begin(&s, MVCC_LATEST, MVCC_READ_ONLY);
	ck_assert_int_eq(count_range(t, "r", "s", false), 0);
	ck_assert_int_eq(count_range(t, "r", "s", true), 0);
	ck_assert_int_eq(count_range(t, "a", "z", false), 2);
	ck_assert_str_eq(get(t, "r00000", v, sizeof v), "");
	ck_assert_str_eq(get(t, "r49999", v, sizeof v), "");
	ck_assert_str_eq(get(t, "q", v, sizeof v), "below");
	ck_assert_str_eq(get(t, "s", v, sizeof v), "end");
	mvcc_txn_free(t);
	t = begin(&s, i - 1, MVCC_READ_ONLY);
	ck_assert_int_eq(count_range(t, "r", "s", false), KEYS);
	ck_assert_int_eq(count_range(t, "r", "s", true), KEYS);
	mvcc_txn_free(t);
	struct kv_stats before, after;
	ok(kv_stats(s.kv, &before));
	ok(mvcc_gc(s.m, MVCC_LATEST));
	ok(kv_stats(s.kv, &after));
	ck_assert_uint_ge(before.keys - after.keys, KEYS - 1); /* less the GC mark's new row */
	ck_assert_uint_eq(stored_versions(&s, "r", "s", UINT64_MAX), 0);
	ck_assert_str_eq(read_at(&s, MVCC_LATEST, "s", v, sizeof v), "end");
	store_close(&s);
}
END_TEST

/* Writes the same random keys below, in and above [k, l) into a and b. */
static void write_random(struct store *a, struct store *b, struct prng *p, int writes)
{
	char key[16], v[16];
	for (int n = 0; n < writes; n += 30) {
		struct mvcc_txn *ta = begin(a, MVCC_LATEST, 0), *tb = begin(b, MVCC_LATEST, 0);
		for (int i = 0; i < 30; i++) {
			snprintf(key, sizeof key, "%c%03u", "jkl"[prng_below(p, 3)],
			         (unsigned)prng_below(p, 100));
			snprintf(v, sizeof v, "%d", n + i);
			put(ta, key, v);
			put(tb, key, v);
		}
		ck_assert_int_eq(commit(a, ta), 0);
		ck_assert_int_eq(commit(b, tb), 0);
	}
}

static void expect_same_data(struct store *a, struct store *b)
{
	uint64_t ha, hb;
	ok(mvcc_data_hash(a->m, &ha));
	ok(mvcc_data_hash(b->m, &hb));
	ck_assert_uint_eq(ha, hb);
}

/*
 * Deleting a range leaves the same data as deleting its keys one by one, before and after
 * later writes and GC; a replica applying the same log holds the same KV state.
 */
START_TEST(same_data_as_deleting_key_by_key)
{
	struct store a, b, replica;
	store_open(&a, 310);
	store_open(&b, 311);
	store_open(&replica, 312);
	struct prng p;
	prng_seed(&p, 31);
	write_random(&a, &b, &p, 300);
	uint64_t full;
	ok(mvcc_data_hash(a.m, &full));
	delete_range_one(&a, "k", "l");
	struct mvcc_txn *t = begin(&b, MVCC_LATEST, 0);
	char key[16];
	for (unsigned i = 0; i < 100; i++) {
		snprintf(key, sizeof key, "k%03u", i);
		ok(mvcc_delete(t, S(key)));
	}
	ck_assert_int_eq(commit(&b, t), 0);
	uint64_t deleted;
	ok(mvcc_data_hash(a.m, &deleted));
	ck_assert_uint_ne(full, deleted);
	expect_same_data(&a, &b);
	t = begin(&a, MVCC_LATEST, MVCC_READ_ONLY);
	ck_assert_int_eq(count_range(t, "k", "l", false), 0);
	ck_assert_int_gt(count_range(t, "j", "k", false), 0);
	ck_assert_int_gt(count_range(t, "l", "m", true), 0);
	mvcc_txn_free(t);
	write_random(&a, &b, &p, 90);
	expect_same_data(&a, &b);
	/* the replica applies a's log: byte-identical state, also after GC at one mark */
	for (uint64_t i = 1; i <= mvcc_applied_version(a.m); i++) {
		struct mvcc_outcome o;
		ck_assert(apply_next(&replica, &a.log.records[i], &o));
	}
	uint64_t ha, hr;
	ok(mvcc_state_hash(a.m, &ha));
	ok(mvcc_state_hash(replica.m, &hr));
	ck_assert_uint_eq(ha, hr);
	uint64_t low = mvcc_applied_version(a.m);
	ok(mvcc_gc(a.m, low));
	ok(mvcc_gc(b.m, mvcc_applied_version(b.m)));
	ok(mvcc_gc(replica.m, low));
	ok(mvcc_state_hash(a.m, &ha));
	ok(mvcc_state_hash(replica.m, &hr));
	ck_assert_uint_eq(ha, hr);
	expect_same_data(&a, &b);
	expect_same_data(&a, &replica);
	store_close(&a);
	store_close(&b);
	store_close(&replica);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("mvcc_range");
	TCase *tc = tcase_create("range");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, range_reads_empty_from_its_commit_on);
	tcase_add_test(tc, own_writes_around_the_deletion);
	tcase_add_test(tc, range_deleted_ahead_of_an_open_scan);
	tcase_add_test(tc, validation_counts_the_range_as_written);
	tcase_add_test(tc, gc_purges_the_range);
	tcase_add_test(tc, range_deletion_survives_a_reopen);
	tcase_add_test(tc, limits_and_errors);
	tcase_add_test(tc, range_lookup_matches_a_linear_walk);
	tcase_add_test(tc, pending_ranges_are_bounded_until_gc);
	tcase_add_test(tc, many_keys_deleted_by_a_small_record);
	tcase_add_test(tc, same_data_as_deleting_key_by_key);
	suite_add_tcase(suite, tc);
	return check_run(suite);
}
