/*
 * MVCC basics: snapshot reads by version, the write buffer and merged scans, read-only and
 * time-travel transactions, idempotent apply, the validation history window, read-set
 * escalation, limits, commit_local and garbage collection.
 */
#include <stdio.h>
#include <stdlib.h>

#include "base/checksum.h"
#include "base/codec.h"
#include "mvcc_harness.h"
#include "storage/mvcc_keys.h"
#include "storage/mvcc_record.h"

START_TEST(versions_are_log_indexes_and_snapshots_hold)
{
	struct store s;
	store_open(&s, 1);
	char v[64];
	ck_assert_uint_eq(mvcc_applied_version(s.m), 0);
	write_one(&s, "a", "1");  /* index 1 */
	ok(mvcc_advance(s.m, 2)); /* a Raft no-op */
	write_one(&s, "a", "2");  /* index 3 */
	ck_assert_uint_eq(mvcc_applied_version(s.m), 3);
	ck_assert_str_eq(read_at(&s, 0, "a", v, sizeof v), "");
	ck_assert_str_eq(read_at(&s, 1, "a", v, sizeof v), "1");
	ck_assert_str_eq(read_at(&s, 2, "a", v, sizeof v), "1");
	ck_assert_str_eq(read_at(&s, 3, "a", v, sizeof v), "2");
	/* a snapshot does not move while later entries are applied */
	struct mvcc_txn *t = begin(&s, MVCC_LATEST, MVCC_READ_ONLY);
	ck_assert_uint_eq(mvcc_txn_read_version(t), 3);
	write_one(&s, "a", "3");
	ck_assert_str_eq(get(t, "a", v, sizeof v), "2");
	mvcc_txn_free(t);
	fails_with(mvcc_begin(s.m, 99, 0, &t), ERR_INVALID);
	fails_with(mvcc_advance(s.m, 4), ERR_INVALID);
	struct mvcc_outcome o;
	fails_with(mvcc_apply(s.m, (const uint8_t *)"", 0, 4, &o), ERR_INVALID);
	store_close(&s);
}
END_TEST

START_TEST(own_writes_and_merged_scans)
{
	struct store s;
	store_open(&s, 2);
	write_one(&s, "b", "1");
	write_one(&s, "d", "1");
	write_one(&s, "f", "1");
	struct mvcc_txn *t = begin(&s, MVCC_LATEST, 0);
	char v[64], out[256];
	put(t, "a", "new");
	put(t, "d", "over");
	ok(mvcc_delete(t, S("f")));
	ok(mvcc_delete(t, S("zz"))); /* deleting a missing key is fine */
	ck_assert_str_eq(get(t, "d", v, sizeof v), "over");
	ck_assert_str_eq(get(t, "f", v, sizeof v), "");
	ck_assert_str_eq(scan_all(t, NULL, NULL, false, out, sizeof out), "a=new,b=1,d=over");
	ck_assert_str_eq(scan_all(t, NULL, NULL, true, out, sizeof out), "d=over,b=1,a=new");
	ck_assert_str_eq(scan_all(t, "b", "e", false, out, sizeof out), "b=1,d=over");
	ck_assert_str_eq(scan_all(t, "b", "e", true, out, sizeof out), "d=over,b=1");
	ck_assert_str_eq(scan_all(t, "c", "d", false, out, sizeof out), "");
	ck_assert(!mvcc_txn_is_read_only(t));
	/* others do not see the buffer */
	struct mvcc_txn *u = begin(&s, MVCC_LATEST, MVCC_READ_ONLY);
	ck_assert_str_eq(scan_all(u, NULL, NULL, false, out, sizeof out), "b=1,d=1,f=1");
	mvcc_txn_free(u);
	ck_assert_int_eq(commit(&s, t), 0);
	u = begin(&s, MVCC_LATEST, MVCC_READ_ONLY);
	ck_assert_str_eq(scan_all(u, NULL, NULL, false, out, sizeof out), "a=new,b=1,d=over");
	ck_assert_str_eq(scan_all(u, NULL, NULL, true, out, sizeof out), "d=over,b=1,a=new");
	/* an older snapshot still sees the old rows, in both directions */
	mvcc_txn_free(u);
	u = begin(&s, 3, MVCC_READ_ONLY);
	ck_assert_str_eq(scan_all(u, NULL, NULL, true, out, sizeof out), "f=1,d=1,b=1");
	ck_assert_str_eq(scan_all(u, NULL, NULL, false, out, sizeof out), "b=1,d=1,f=1");
	mvcc_txn_free(u);
	store_close(&s);
}
END_TEST

/* Writes made during a scan show up if they lie ahead of it; applies do not disturb it. */
START_TEST(scan_survives_writes_and_applies)
{
	struct store s;
	store_open(&s, 3);
	for (char c = 'a'; c <= 'h'; c += 2) {
		char k[2] = {c, 0};
		write_one(&s, k, "x");
	}
	struct mvcc_txn *t = begin(&s, MVCC_LATEST, 0);
	struct mvcc_scan *sc;
	ok(mvcc_scan_open(t, NULL, NULL, false, &sc));
	char seen[32] = {0};
	size_t n = 0;
	for (;;) {
		struct slice k, v;
		bool done;
		ok(mvcc_scan_next(sc, &k, &v, &done));
		if (done)
			break;
		ck_assert_uint_lt(n, sizeof seen - 1);
		seen[n++] = (char)k.ptr[0];
		if (k.ptr[0] == 'c') {
			put(t, "a0", "behind");              /* behind the scan: not seen */
			put(t, "d", "ahead");                /* ahead: seen */
			ok(mvcc_delete(t, S("e")));          /* ahead: hidden */
			write_one(&s, "f0", "later commit"); /* above the read version */
		}
	}
	mvcc_scan_close(sc);
	ck_assert_str_eq(seen, "acdg");
	mvcc_txn_free(t);
	/* reverse, with an apply in the middle */
	t = begin(&s, MVCC_LATEST, MVCC_READ_ONLY);
	ok(mvcc_scan_open(t, NULL, NULL, true, &sc));
	n = 0;
	memset(seen, 0, sizeof seen);
	for (;;) {
		struct slice k, v;
		bool done;
		ok(mvcc_scan_next(sc, &k, &v, &done));
		if (done)
			break;
		seen[n++] = (char)k.ptr[0];
		write_one(&s, "b", "changed");
	}
	mvcc_scan_close(sc);
	ck_assert_str_eq(seen, "gfeca");
	mvcc_txn_free(t);
	store_close(&s);
}
END_TEST

/* A reverse scan holds back a row of the next key; GC under it must not resurrect it. */
START_TEST(reverse_scan_under_gc)
{
	struct store s;
	store_open(&s, 13);
	write_one(&s, "a", "1"); /* 1 */
	write_one(&s, "b", "1"); /* 2 */
	struct mvcc_txn *t = begin(&s, MVCC_LATEST, 0);
	ok(mvcc_delete(t, S("b")));
	ck_assert_int_eq(commit(&s, t), 0); /* 3: b deleted */
	write_one(&s, "c", "1");            /* 4 */
	t = begin(&s, MVCC_LATEST, MVCC_READ_ONLY);
	struct mvcc_scan *sc;
	ok(mvcc_scan_open(t, NULL, NULL, true, &sc));
	struct slice k, v;
	bool done;
	ok(mvcc_scan_next(sc, &k, &v, &done));
	ck_assert(!done && slice_eq(k, S("c")));
	ok(mvcc_gc(s.m, 4)); /* removes b@2 and the deletion b@3 */
	ok(mvcc_scan_next(sc, &k, &v, &done));
	ck_assert(!done && slice_eq(k, S("a")));
	ok(mvcc_scan_next(sc, &k, &v, &done));
	ck_assert(done);
	mvcc_scan_close(sc);
	mvcc_txn_free(t);
	store_close(&s);
}
END_TEST

START_TEST(read_only_and_time_travel)
{
	struct store s;
	store_open(&s, 4);
	write_one(&s, "k", "1");
	write_one(&s, "k", "2");
	struct mvcc_txn *t = begin(&s, 1, MVCC_READ_ONLY);
	char v[16];
	ck_assert_str_eq(get(t, "k", v, sizeof v), "1");
	fails_with(mvcc_put(t, S("k"), S("x")), ERR_INVALID);
	ck_assert(mvcc_txn_is_read_only(t));
	struct buf rec;
	buf_init(&rec, 1024);
	fails_with(mvcc_txn_encode_commit(t, &rec), ERR_INVALID);
	struct mvcc_outcome o;
	ok(mvcc_commit_local(s.m, t, &o));
	ck_assert(o.committed);
	fails_with(mvcc_put(t, S("k"), S("x")), ERR_INVALID); /* ended */
	mvcc_txn_free(t);
	/* a read-write transaction that wrote nothing is read-only too */
	t = begin(&s, MVCC_LATEST, 0);
	get(t, "k", v, sizeof v);
	ck_assert(mvcc_txn_is_read_only(t));
	mvcc_txn_free(t);
	buf_free(&rec);
	fails_with(mvcc_begin(s.m, 0, 8, &t), ERR_INVALID);
	store_close(&s);
}
END_TEST

START_TEST(commit_local_applies_and_flushes)
{
	struct store s;
	store_open(&s, 5);
	struct mvcc_txn *t = begin(&s, MVCC_LATEST, 0);
	put(t, "x", "1");
	struct mvcc_outcome o;
	ok(mvcc_commit_local(s.m, t, &o));
	ck_assert(o.committed);
	ck_assert_uint_eq(o.index, 1);
	mvcc_txn_free(t);
	struct buf meta;
	buf_init(&meta, KV_META_MAX);
	ok(kv_meta(s.kv, &meta));
	ck_assert_uint_gt(meta.len, 0); /* the flush recorded the applied version */
	buf_free(&meta);
	/* two local transactions racing on one key: the second aborts */
	struct mvcc_txn *a = begin(&s, MVCC_LATEST, 0), *b = begin(&s, MVCC_LATEST, 0);
	char v[16];
	put(a, "x", get(a, "x", v, sizeof v)[0] == '1' ? "2" : "?");
	put(b, "x", get(b, "x", v, sizeof v)[0] == '1' ? "3" : "?");
	ok(mvcc_commit_local(s.m, a, &o));
	ck_assert(o.committed);
	ok(mvcc_commit_local(s.m, b, &o));
	ck_assert(!o.committed);
	ck_assert_int_eq(o.code, ERR_CONFLICT);
	ck_assert_ptr_nonnull(strstr(o.message, "serialization failure"));
	mvcc_txn_free(a);
	mvcc_txn_free(b);
	ck_assert_str_eq(read_at(&s, MVCC_LATEST, "x", v, sizeof v), "2");
	store_close(&s);
}
END_TEST

/*
 * Applying a record twice returns the first outcome and changes no data (the store notes
 * only that the index held a duplicate); so again after a reopen.
 */
START_TEST(apply_is_idempotent_by_txn_id)
{
	struct store s;
	store_open(&s, 6);
	write_one(&s, "a", "0");
	struct mvcc_txn *t = begin(&s, MVCC_LATEST, 0), *u = begin(&s, MVCC_LATEST, 0);
	char v[16];
	get(t, "a", v, sizeof v);
	put(t, "a", "t");
	get(u, "a", v, sizeof v);
	put(u, "a", "u");
	struct buf rt, ru;
	buf_init(&rt, 4096);
	buf_init(&ru, 4096);
	encode(t, &rt);
	encode(u, &ru);
	struct mvcc_outcome o1, o2;
	ck_assert(apply_next(&s, &rt, &o1));  /* t commits at 2 */
	ck_assert(!apply_next(&s, &ru, &o2)); /* u conflicts at 3 */
	uint64_t h1;
	ok(mvcc_data_hash(s.m, &h1));
	struct mvcc_outcome d;
	ck_assert(apply_next(&s, &rt, &d)); /* retried at 4 */
	ck_assert(d.duplicate && !o1.duplicate);
	ck_assert_uint_eq(d.index, 2);
	ck_assert(memcmp(&d.txn_id, &o1.txn_id, sizeof d.txn_id) == 0);
	ck_assert(!apply_next(&s, &ru, &d)); /* retried at 5 */
	ck_assert(d.duplicate);
	ck_assert_int_eq(d.code, ERR_CONFLICT);
	ck_assert_uint_eq(d.index, 3);
	ck_assert_str_eq(d.message, o2.message);
	uint64_t h2;
	ok(mvcc_data_hash(s.m, &h2));
	ck_assert_uint_eq(h1, h2);
	ck_assert_str_eq(read_at(&s, MVCC_LATEST, "a", v, sizeof v), "t");
	mvcc_txn_free(t);
	mvcc_txn_free(u);
	store_reopen(&s);
	ck_assert(!apply_next(&s, &ru, &d)); /* retried at 6 */
	ck_assert(d.duplicate);
	ck_assert_uint_eq(d.index, 3);
	ok(mvcc_data_hash(s.m, &h2));
	ck_assert_uint_eq(h1, h2);
	buf_free(&rt);
	buf_free(&ru);
	store_close(&s);
}
END_TEST

/* A transaction older than the history window gets ERR_UNKNOWN_OUTCOME, also after restart. */
START_TEST(history_window_bounds_validation)
{
	struct store s;
	store_open_window(&s, 7, 4);
	write_one(&s, "a", "1");
	struct mvcc_txn *old = begin(&s, MVCC_LATEST, 0);
	char v[16];
	get(old, "a", v, sizeof v);
	put(old, "b", "1");
	struct buf rec;
	buf_init(&rec, 4096);
	encode(old, &rec);
	/* five more entries: the window (4) holds 3..6, so writes at 2 cannot be checked */
	for (int i = 0; i < 5; i++)
		write_one(&s, "c", "x");
	/* reopen: the rebuilt window must decide the same way */
	mvcc_txn_free(old);
	store_reopen(&s);
	ck_assert_uint_eq(mvcc_applied_version(s.m), 6);
	struct mvcc_outcome o;
	ck_assert(!apply_next(&s, &rec, &o));
	ck_assert_int_eq(o.code, ERR_UNKNOWN_OUTCOME);
	/* the first transaction's outcome has left the window with it */
	ck_assert_str_eq(read_at(&s, MVCC_LATEST, "b", v, sizeof v), "");
	/* a transaction inside the window validates normally */
	struct mvcc_txn *t = begin(&s, MVCC_LATEST, 0);
	get(t, "c", v, sizeof v);
	put(t, "c", "y");
	ck_assert_int_eq(commit(&s, t), 0);
	buf_free(&rec);
	store_close(&s);
}
END_TEST

/* How many outcome rows the store holds. */
static uint32_t outcome_rows(struct store *s)
{
	uint8_t lo = MVCC__SPACE_OUTCOME, hi = MVCC__SPACE_OUTCOME + 1;
	struct slice from = slice_of(&lo, 1), to = slice_of(&hi, 1);
	struct kv_iter *it;
	ok(kv_iter_open(s->kv, &from, &to, false, &it));
	uint32_t n = 0;
	for (;;) {
		struct slice k, v;
		bool done;
		ok(kv_iter_next(it, &k, &v, &done));
		if (done)
			break;
		n++;
	}
	kv_iter_close(it);
	return n;
}

/*
 * Duplicates are found for every record still in the history window, however often the
 * window dropped entries and whether the store was reopened since (the ids of the held
 * entries are indexed in memory); a record that left the window is no duplicate.
 */
START_TEST(duplicates_found_while_the_window_moves)
{
	/* a round adds two history entries: its record and the aborted late one */
	enum { WINDOW = 16, ROUNDS = 400, RECENT = 5, GONE = 30 };
	struct store s;
	store_open_window(&s, 11, WINDOW);
	struct buf recs[GONE + 1];
	uint64_t committed_at[GONE + 1];
	for (int i = 0; i <= GONE; i++)
		buf_init(&recs[i], 4096);
	for (int i = 0; i < ROUNDS; i++) {
		char key[16];
		snprintf(key, sizeof key, "k%d", i);
		struct mvcc_txn *t = begin(&s, MVCC_LATEST, 0);
		put(t, key, "v");
		struct buf *rec = &recs[i % (GONE + 1)];
		buf_clear(rec);
		encode(t, rec);
		mvcc_txn_free(t);
		struct mvcc_outcome o, d;
		ck_assert(apply_next(&s, rec, &o));
		committed_at[i % (GONE + 1)] = o.index;
		if (i >= RECENT) {
			int j = (i - RECENT) % (GONE + 1);
			ck_assert(apply_next(&s, &recs[j], &d));
			ck_assert_msg(d.duplicate, "round %d: the record of round %d is held", i,
			              i - RECENT);
			ck_assert_uint_eq(d.index, committed_at[j]);
		}
		if (i >= GONE) {
			ck_assert(!apply_next(&s, &recs[(i - GONE) % (GONE + 1)], &d));
			ck_assert(!d.duplicate);
			ck_assert_int_eq(d.code, ERR_UNKNOWN_OUTCOME);
		}
		if (i % 97 == 0) { /* the reopened store rebuilds the window and its ids */
			store_reopen(&s);
		}
	}
	/* the aborts' outcome rows left with their entries: only the window's remain */
	uint32_t rows = outcome_rows(&s);
	ck_assert_uint_gt(rows, 0);
	ck_assert_uint_le(rows, WINDOW);
	for (int i = 0; i <= GONE; i++)
		buf_free(&recs[i]);
	store_close(&s);
}
END_TEST

/*
 * Reopened without a log to rebuild the history from, a store can validate nothing older
 * than its applied version: a record begun before the reopen is ERR_UNKNOWN_OUTCOME. The
 * old window's stored outcomes are deleted and the floor moves for good: a later reopen
 * with the log finds nothing of the old window either.
 */
START_TEST(no_log_means_no_history_before_the_reopen)
{
	struct store s;
	store_open(&s, 5);
	write_one(&s, "a", "1");
	struct mvcc_txn *t = begin(&s, MVCC_LATEST, 0);
	put(t, "b", "1");
	struct buf rec;
	buf_init(&rec, 4096);
	encode(t, &rec);
	mvcc_txn_free(t);
	write_one(&s, "c", "1");
	mvcc_close(s.m);
	s.options.log = (struct mvcc_log_source){0};
	ok(mvcc_open(s.kv, &s.options, &s.m));
	struct mvcc_outcome o;
	ck_assert(!apply_next(&s, &rec, &o));
	ck_assert_int_eq(o.code, ERR_UNKNOWN_OUTCOME);
	ck_assert_str_eq(read_at(&s, MVCC_LATEST, "b", (char[8]){0}, 8), "");
	uint64_t forgotten;
	ok(mvcc_state_hash(s.m, &forgotten));
	mvcc_close(s.m);
	s.options = store_options(&s, 0);
	ok(mvcc_open(s.kv, &s.options, &s.m));
	uint64_t reopened;
	ok(mvcc_state_hash(s.m, &reopened));
	ck_assert_uint_eq(forgotten, reopened);
	ck_assert(!apply_next(&s, &rec, &o));
	ck_assert_int_eq(o.code, ERR_UNKNOWN_OUTCOME);
	buf_free(&rec);
	store_close(&s);
}
END_TEST

/* A store of the format that kept the history in 'h' rows is refused with a clear error. */
START_TEST(older_store_format_is_refused)
{
	struct kv *kv;
	ok(kvmem_open(&kv));
	struct buf meta;
	buf_init(&meta, 64);
	struct codec_out o;
	codec_out_init(&o, &meta);
	codec_put_array(&o, 2);
	codec_put_u64(&o, 1); /* format 1 */
	codec_put_u64(&o, 7);
	ok(codec_out_end(&o));
	ok(kv_commit(kv, buf_slice(&meta), false));
	struct prng prng;
	prng_seed(&prng, 3);
	struct mvcc_options options = {.prng = &prng};
	struct mvcc *m = NULL;
	err *e = mvcc_open(kv, &options, &m);
	ck_assert_ptr_null(m);
	ck_assert(err_is(e, ERR_CORRUPT));
	ck_assert_msg(strstr(err_msg(e), "format 1") != NULL, "message: %s", err_msg(e));
	err_free(e);
	buf_free(&meta);
	kv_close(kv);
}
END_TEST

/* Encodes a transaction that reads `key` at `version` and writes "z": a probe of validation. */
static void reader_record(struct store *s, uint64_t version, const char *key, struct buf *rec)
{
	struct mvcc_txn *t = begin(s, version, 0);
	char v[16];
	get(t, key, v, sizeof v);
	put(t, "z", "1");
	encode(t, rec);
	mvcc_txn_free(t);
}

/*
 * A duplicate whose original has left the window is still no entry of its own after a
 * reopen: the store noted it, for the window rebuilt from the log cannot see the original.
 */
START_TEST(duplicate_stays_one_after_its_original_leaves)
{
	struct store s;
	store_open_window(&s, 13, 4);
	write_one(&s, "x", "1"); /* 1 */
	struct mvcc_txn *t = begin(&s, MVCC_LATEST, 0);
	put(t, "a", "t");
	struct buf rec, probe;
	buf_init(&rec, 4096);
	buf_init(&probe, 4096);
	encode(t, &rec);
	mvcc_txn_free(t);
	struct mvcc_outcome o;
	ck_assert(apply_next(&s, &rec, &o)); /* 2 */
	ck_assert(apply_next(&s, &rec, &o)); /* 3: the duplicate */
	ck_assert(o.duplicate);
	for (int i = 0; i < 4; i++) /* 4..7: the window (4) drops 1 and 2 */
		write_one(&s, "c", "x");
	/* read at 2: nothing after it wrote "a", the duplicate at 3 included */
	reader_record(&s, 2, "a", &probe);
	store_reopen(&s);
	ck_assert(apply_next(&s, &probe, &o));
	buf_free(&rec);
	buf_free(&probe);
	store_close(&s);
}
END_TEST

/* Rewrites a format 3 store the way format 2 kept it: an outcome row for every commit. */
static void make_format_2(struct store *s, const uint64_t *commits, size_t n_commits,
                          uint64_t duplicate)
{
	struct kv_batch b;
	kv_batch_init(&b);
	struct buf key, value;
	buf_init(&key, 64);
	buf_init(&value, 256);
	for (size_t i = 0; i < n_commits; i++) {
		struct mvcc_outcome o = {.index = commits[i], .committed = true};
		ok(mvcc__key_outcome(&key, commits[i]));
		buf_clear(&value);
		ok(mvcc__outcome_encode(&value, &o));
		ok(kv_batch_put(&b, buf_slice(&key), buf_slice(&value)));
	}
	ok(mvcc__key_outcome(&key, duplicate));
	ok(kv_batch_delete(&b, buf_slice(&key)));
	ok(kv_apply(s->kv, &b));
	buf_clear(&value);
	struct codec_out c;
	codec_out_init(&c, &value);
	codec_put_array(&c, 2);
	codec_put_u64(&c, 2);
	codec_put_u64(&c, mvcc_applied_version(s->m));
	ok(codec_out_end(&c));
	ok(kv_commit(s->kv, buf_slice(&value), false));
	kv_batch_free(&b);
	buf_free(&key);
	buf_free(&value);
}

/* The store's metadata format. */
static uint64_t store_format(struct store *s)
{
	struct buf meta;
	buf_init(&meta, 64);
	ok(kv_meta(s->kv, &meta));
	ck_assert_uint_ge(meta.len, 2);
	uint64_t format = meta.data[1]; /* [format, applied]: a fixarray, then a fixint */
	buf_free(&meta);
	return format;
}

/*
 * A store of format 2 (an outcome row for every installed record, none for a duplicate)
 * opens, its duplicates noted the new way, and says format 3 from then on.
 */
START_TEST(format_2_store_is_converted)
{
	struct store s;
	store_open(&s, 17);
	write_one(&s, "a", "1"); /* 1 */
	struct mvcc_txn *t = begin(&s, MVCC_LATEST, 0), *u = begin(&s, MVCC_LATEST, 0);
	char v[16];
	get(u, "b", v, sizeof v);
	put(t, "b", "t");
	put(u, "b", "u");
	struct buf rt, ru, probe;
	buf_init(&rt, 4096);
	buf_init(&ru, 4096);
	buf_init(&probe, 4096);
	encode(t, &rt);
	encode(u, &ru);
	mvcc_txn_free(t);
	mvcc_txn_free(u);
	struct mvcc_outcome o;
	ck_assert(apply_next(&s, &rt, &o));  /* 2 */
	ck_assert(!apply_next(&s, &ru, &o)); /* 3: conflicts */
	ck_assert(apply_next(&s, &rt, &o));  /* 4: duplicate */
	ck_assert(o.duplicate);
	reader_record(&s, 3, "b", &probe);
	make_format_2(&s, (const uint64_t[]){1, 2}, 2, 4);
	ck_assert_uint_eq(store_format(&s), 2);
	store_reopen(&s);
	ck_assert_uint_eq(store_format(&s), 3);
	ck_assert(apply_next(&s, &rt, &o)); /* 5: still a duplicate of 2 */
	ck_assert(o.duplicate);
	ck_assert_uint_eq(o.index, 2);
	store_reopen(&s);
	/* read at 3: the duplicate at 4 wrote nothing, so this commits */
	ck_assert(apply_next(&s, &probe, &o));
	buf_free(&rt);
	buf_free(&ru);
	buf_free(&probe);
	store_close(&s);
}
END_TEST

/* Reading more ranges than the bound escalates: conflicts are still found. */
START_TEST(read_set_escalation_keeps_conflicts)
{
	struct store s;
	store_open(&s, 8);
	struct mvcc_txn *t = begin(&s, MVCC_LATEST, 0);
	char key[16], v[16];
	for (int i = 0; i < 3 * MVCC_READ_SET_MAX_RANGES; i++) {
		snprintf(key, sizeof key, "k%06d", 2 * i);
		get(t, key, v, sizeof v);
	}
	put(t, "z", "1");
	write_one(&s, "k000500", "written"); /* an even key it read */
	ck_assert_int_eq(commit(&s, t), ERR_CONFLICT);
	/* the record stays within its bounds */
	t = begin(&s, MVCC_LATEST, 0);
	for (int i = 0; i < 3 * MVCC_READ_SET_MAX_RANGES; i++) {
		snprintf(key, sizeof key, "k%06d", 2 * i);
		get(t, key, v, sizeof v);
	}
	put(t, "z", "1");
	write_one(&s, "zzz", "unrelated");
	ck_assert_int_eq(commit(&s, t), 0);
	store_close(&s);
}
END_TEST

/*
 * Escalation coalesces a range with the ranges nested in it without shrinking it: a scan
 * of [a, y) followed by many point reads inside it must still cover "x".
 */
START_TEST(read_set_escalation_keeps_an_enclosing_range)
{
	struct store s;
	store_open(&s, 21);
	write_one(&s, "a", "1");
	struct mvcc_txn *t = begin(&s, MVCC_LATEST, 0);
	char out[64], key[16], v[16];
	scan_all(t, "a", "y", false, out, sizeof out); /* reads [a, y) whole */
	for (int i = 0; i < 3 * MVCC_READ_SET_MAX_RANGES; i++) {
		snprintf(key, sizeof key, "k%06d", 2 * i);
		get(t, key, v, sizeof v);
	}
	put(t, "z", "1");
	write_one(&s, "x", "phantom"); /* inside [a, y), past every point read */
	ck_assert_int_eq(commit(&s, t), ERR_CONFLICT);
	store_close(&s);
}
END_TEST

/* A read range is half-open: a write at exactly its end is no conflict. */
START_TEST(a_write_at_a_scanned_range_s_end_is_no_conflict)
{
	struct store s;
	store_open(&s, 22);
	write_one(&s, "b", "1");
	write_one(&s, "c", "1");
	struct mvcc_txn *t = begin(&s, MVCC_LATEST, 0);
	char out[64];
	ck_assert_str_eq(scan_all(t, "b", "d", false, out, sizeof out), "b=1,c=1");
	put(t, "z", "1");
	write_one(&s, "d", "w"); /* the range's end bound, outside [b, d) */
	ck_assert_int_eq(commit(&s, t), 0);
	t = begin(&s, MVCC_LATEST, 0);
	ck_assert_str_eq(scan_all(t, "b", "d", false, out, sizeof out), "b=1,c=1");
	put(t, "z", "2");
	write_one(&s, "c", "w"); /* inside it */
	ck_assert_int_eq(commit(&s, t), ERR_CONFLICT);
	store_close(&s);
}
END_TEST

/* A scan that found nothing still read its range: an insert into it conflicts. */
START_TEST(an_empty_scan_reads_its_range)
{
	struct store s;
	store_open(&s, 23);
	write_one(&s, "shift/mon/1", "ann");
	struct mvcc_txn *t = begin(&s, MVCC_LATEST, 0);
	char out[64];
	ck_assert_str_eq(scan_all(t, "shift/wed/", "shift/wed0", false, out, sizeof out), "");
	put(t, "shift/wed/1", "dan");
	write_one(&s, "shift/wed/2", "eve");
	ck_assert_int_eq(commit(&s, t), ERR_CONFLICT);
	/* and reversed */
	t = begin(&s, MVCC_LATEST, 0);
	ck_assert_str_eq(scan_all(t, "shift/thu/", "shift/thu0", true, out, sizeof out), "");
	put(t, "shift/thu/1", "dan");
	write_one(&s, "shift/thu/2", "eve");
	ck_assert_int_eq(commit(&s, t), ERR_CONFLICT);
	store_close(&s);
}
END_TEST

/* A scan stopped early only read up to its last key. */
START_TEST(partial_scan_reads_only_what_it_returned)
{
	struct store s;
	store_open(&s, 9);
	write_one(&s, "a", "1");
	write_one(&s, "b", "1");
	write_one(&s, "c", "1");
	for (int reverse = 0; reverse < 2; reverse++) {
		for (int hit = 0; hit < 2; hit++) {
			struct mvcc_txn *t = begin(&s, MVCC_LATEST, 0);
			struct mvcc_scan *sc;
			struct slice from = S("a"), to = S("d");
			ok(mvcc_scan_open(t, &from, &to, reverse, &sc));
			struct slice k, v;
			bool done;
			ok(mvcc_scan_next(sc, &k, &v, &done)); /* one row: "a" or "c" */
			mvcc_scan_close(sc);
			put(t, "zz", "1");
			/* forward, it read [a, a]; reverse, [c, d): "b" lies outside both */
			const char *inside = reverse ? "c" : "a";
			write_one(&s, hit ? inside : "b", "w");
			ck_assert_int_eq(commit(&s, t), (hit ? ERR_CONFLICT : 0));
		}
	}
	store_close(&s);
}
END_TEST

START_TEST(limits)
{
	struct store s;
	store_open(&s, 10);
	struct mvcc_txn *t = begin(&s, MVCC_LATEST, 0);
	uint8_t *big = calloc(1, MVCC_VALUE_MAX + 2);
	fails_with(mvcc_put(t, slice_of(big, MVCC_KEY_MAX + 1), S("v")), ERR_LIMIT);
	fails_with(mvcc_put(t, S(""), S("v")), ERR_INVALID);
	fails_with(mvcc_put(t, S("k"), slice_of(big, MVCC_VALUE_MAX + 1)), ERR_LIMIT);
	memset(big, 0xFF, MVCC_KEY_MAX); /* a maximal key, all escape-worthy bytes */
	ok(mvcc_put(t, slice_of(big, MVCC_KEY_MAX), slice_of(big, MVCC_VALUE_MAX)));
	memset(big, 0, MVCC_KEY_MAX);
	ok(mvcc_put(t, slice_of(big, MVCC_KEY_MAX), S("zeros")));
	struct buf v;
	buf_init(&v, MVCC_VALUE_MAX);
	bool found;
	ok(mvcc_get(t, slice_of(big, MVCC_KEY_MAX), &v, &found));
	ck_assert(found);
	ck_assert_int_eq(commit(&s, t), 0);
	t = begin(&s, MVCC_LATEST, MVCC_READ_ONLY);
	ok(mvcc_get(t, slice_of(big, MVCC_KEY_MAX), &v, &found));
	ck_assert(found && v.len == 5);
	struct mvcc_scan *sc;
	struct slice too_long = slice_of(big, MVCC_KEY_MAX + 2);
	fails_with(mvcc_scan_open(t, &too_long, NULL, false, &sc), ERR_LIMIT);
	mvcc_txn_free(t);
	buf_free(&v);
	free(big);
	store_close(&s);
}
END_TEST

START_TEST(gc_removes_only_unreadable_versions)
{
	struct store s;
	store_open(&s, 11);
	write_one(&s, "a", "1"); /* 1 */
	write_one(&s, "a", "2"); /* 2 */
	write_one(&s, "b", "1"); /* 3 */
	struct mvcc_txn *t = begin(&s, MVCC_LATEST, 0);
	ok(mvcc_delete(t, S("b")));
	ck_assert_int_eq(commit(&s, t), 0); /* 4: b deleted */
	write_one(&s, "a", "3");            /* 5 */
	write_one(&s, "c", "1");            /* 6 */
	struct kv_stats before, after;
	ok(kv_stats(s.kv, &before));
	/* an open transaction at version 2 holds the mark back */
	struct mvcc_txn *reader = begin(&s, 2, MVCC_READ_ONLY);
	ok(mvcc_gc(s.m, 5));
	ck_assert_uint_eq(mvcc_gc_low_water(s.m), 2);
	char v[16];
	ck_assert_str_eq(get(reader, "a", v, sizeof v), "2");
	mvcc_txn_free(reader);
	ok(mvcc_gc(s.m, 5));
	ck_assert_uint_eq(mvcc_gc_low_water(s.m), 5);
	ok(kv_stats(s.kv, &after));
	/* removed: a@1, a@2, b@1, b@4 (a deletion at or below the mark); added: the mark's row */
	ck_assert_uint_eq(before.keys - after.keys, 4 - 1);
	ck_assert_str_eq(read_at(&s, 5, "a", v, sizeof v), "3");
	ck_assert_str_eq(read_at(&s, 5, "b", v, sizeof v), "");
	ck_assert_str_eq(read_at(&s, 6, "c", v, sizeof v), "1");
	struct mvcc_txn *u;
	fails_with(mvcc_begin(s.m, 4, MVCC_READ_ONLY, &u), ERR_INVALID);
	/* the mark never moves backwards and survives a reopen */
	ok(mvcc_gc(s.m, 3));
	ck_assert_uint_eq(mvcc_gc_low_water(s.m), 5);
	store_reopen(&s);
	ck_assert_uint_eq(mvcc_gc_low_water(s.m), 5);
	fails_with(mvcc_begin(s.m, 4, MVCC_READ_ONLY, &u), ERR_INVALID);
	store_close(&s);
}
END_TEST

/* GC over many keys works in chunks and keeps exactly the newest visible versions. */
/* The data hash sees the data, not the versions GC happened to keep. */
START_TEST(data_hash_ignores_old_versions)
{
	struct store a, b;
	store_open(&a, 21);
	store_open(&b, 22);
	const char *writes[][2] = {{"x", "1"}, {"y", "1"}, {"x", "2"}, {"y", "2"}, {"x", "3"}};
	for (size_t i = 0; i < 5; i++) {
		write_one(&a, writes[i][0], writes[i][1]);
		write_one(&b, writes[i][0], writes[i][1]);
	}
	ok(mvcc_gc(b.m, 5)); /* b drops the old versions, a keeps them */
	uint64_t ra, rb, da, db;
	ok(mvcc_state_hash(a.m, &ra));
	ok(mvcc_state_hash(b.m, &rb));
	ck_assert_uint_ne(ra, rb);
	ok(mvcc_data_hash(a.m, &da));
	ok(mvcc_data_hash(b.m, &db));
	ck_assert_uint_eq(da, db);
	write_one(&b, "x", "4");
	write_one(&a, "x", "5");
	ok(mvcc_data_hash(a.m, &da));
	ok(mvcc_data_hash(b.m, &db));
	ck_assert_uint_ne(da, db);
	store_close(&a);
	store_close(&b);
}
END_TEST

/*
 * The data hash of mvcc_scan's view at the applied version, entry by entry as
 * mvcc_data_hash() documents it: the reference the direct walk must match exactly.
 */
static uint64_t data_hash_by_scan(struct store *s)
{
	struct mvcc_txn *t = begin(s, MVCC_LATEST, MVCC_READ_ONLY);
	struct mvcc_scan *sc;
	ok(mvcc_scan_open(t, NULL, NULL, false, &sc));
	struct checksum_stream cs;
	checksum_stream_init(&cs);
	for (;;) {
		struct slice k, v;
		bool done;
		ok(mvcc_scan_next(sc, &k, &v, &done));
		if (done)
			break;
		uint8_t lens[8];
		store_u32be(lens, (uint32_t)k.len);
		store_u32be(lens + 4, (uint32_t)v.len);
		checksum_stream_add(&cs, lens, sizeof lens);
		checksum_stream_add(&cs, k.ptr, k.len);
		checksum_stream_add(&cs, v.ptr, v.len);
	}
	mvcc_scan_close(sc);
	mvcc_txn_free(t);
	return checksum_stream_end(&cs);
}

/* The data hash equals the scan's, over many versions, deletions, GC and escaped keys. */
START_TEST(data_hash_matches_the_scan)
{
	struct store s;
	store_open(&s, 25);
	uint64_t h;
	ok(mvcc_data_hash(s.m, &h));
	ck_assert_uint_eq(h, data_hash_by_scan(&s)); /* empty */
	struct prng p;
	prng_seed(&p, 7);
	char key[16], val[16];
	for (int i = 0; i < 400; i++) {
		unsigned k = (unsigned)prng_below(&p, 40);
		/* keys of different lengths that share prefixes, one with a NUL byte */
		int klen = snprintf(key, sizeof key, "k%u", k);
		struct mvcc_txn *t = begin(&s, MVCC_LATEST, 0);
		struct slice ks = slice_of(key, (size_t)klen + (k == 3 ? 1 : 0));
		if (prng_below(&p, 4) == 0) {
			ok(mvcc_delete(t, ks));
		} else {
			int vlen = snprintf(val, sizeof val, "%d", i);
			ok(mvcc_put(t, ks, slice_of(val, (size_t)(i % 7 == 0 ? 0 : vlen))));
		}
		ck_assert_int_eq(commit(&s, t), 0);
		if (i % 50 == 49) {
			ok(mvcc_data_hash(s.m, &h));
			ck_assert_uint_eq(h, data_hash_by_scan(&s));
			uint64_t again; /* unchanged store: remembered, the same */
			ok(mvcc_data_hash(s.m, &again));
			ck_assert_uint_eq(again, h);
		}
		if (i == 250) {
			ok(mvcc_gc(s.m, mvcc_applied_version(s.m) - 20));
			ok(mvcc_data_hash(s.m, &h));
			ck_assert_uint_eq(h, data_hash_by_scan(&s));
		}
	}
	store_close(&s);
}
END_TEST

/* Store b, collected in slices, holds as many keys and the same data as a, collected whole. */
static void expect_collected_alike(struct store *a, struct store *b)
{
	struct kv_stats whole, sliced;
	ok(kv_stats(a->kv, &whole));
	ok(kv_stats(b->kv, &sliced));
	ck_assert_uint_eq(sliced.keys, whole.keys);
	uint64_t ha, hb;
	ok(mvcc_data_hash(a->m, &ha));
	ok(mvcc_data_hash(b->m, &hb));
	ck_assert_uint_eq(ha, hb);
}

/* GC a slice at a time: the first slice reclaims part, the finished pass what one full GC does. */
START_TEST(gc_in_bounded_slices_matches_a_full_pass)
{
	struct store a, b;
	store_open(&a, 23);
	store_open(&b, 24);
	char key[16], v[16];
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < 20; i++) {
			snprintf(key, sizeof key, "k%02d", i);
			snprintf(v, sizeof v, "%d", round);
			write_one(&a, key, v);
			write_one(&b, key, v);
		}
	}
	uint64_t low = mvcc_applied_version(a.m);
	struct kv_stats full, before, sliced;
	ok(mvcc_gc(a.m, low));
	ok(kv_stats(a.kv, &full));
	ok(kv_stats(b.kv, &before));
	ok(mvcc_gc_some(b.m, low, 7));
	ok(kv_stats(b.kv, &sliced));
	ck_assert_uint_lt(sliced.keys, before.keys); /* the first slice reclaimed something */
	ck_assert_uint_gt(sliced.keys, full.keys);   /* but not everything */
	for (int i = 0; i < 100; i++) /* 80 user versions plus bookkeeping, 7 at a time */
		ok(mvcc_gc_some(b.m, low, 7));
	expect_collected_alike(&a, &b);
	ck_assert_str_eq(read_at(&b, low, "k07", v, sizeof v), "3");
	store_close(&a);
	store_close(&b);
}
END_TEST

/*
 * Slices that find nothing to collect (a store of inserts only) get smaller; garbage made
 * afterwards is still all collected, as by one full pass.
 */
START_TEST(gc_slices_after_idle_ones_still_collect_everything)
{
	struct store a, b;
	store_open(&a, 25);
	store_open(&b, 26);
	char key[16], v[16];
	for (int i = 0; i < 300; i++) {
		snprintf(key, sizeof key, "k%03d", i);
		write_one(&a, key, "0");
		write_one(&b, key, "0");
	}
	for (int i = 0; i < 50; i++) /* every version is live: nothing to collect */
		ok(mvcc_gc_some(b.m, mvcc_applied_version(b.m), 64));
	for (int i = 0; i < 300; i += 3) {
		snprintf(key, sizeof key, "k%03d", i);
		snprintf(v, sizeof v, "%d", i);
		write_one(&a, key, v);
		write_one(&b, key, v);
	}
	uint64_t low = mvcc_applied_version(a.m);
	ok(mvcc_gc(a.m, low));
	for (int i = 0; i < 200; i++)
		ok(mvcc_gc_some(b.m, low, 64));
	expect_collected_alike(&a, &b);
	ck_assert_str_eq(read_at(&b, low, "k030", v, sizeof v), "30");
	store_close(&a);
	store_close(&b);
}
END_TEST

static void delete_one(struct store *s, const char *key)
{
	struct mvcc_txn *t = begin(s, MVCC_LATEST, 0);
	ok(mvcc_delete(t, S(key)));
	ck_assert_int_eq(commit(s, t), 0);
}

/*
 * A slice that ends within a deleted key, after the deletion (the key's newest version
 * below the mark) and before the older versions: the key stays deleted while the slices
 * go on, and the finished pass leaves what one full GC does. The slices used to delete
 * the deletion at once, and the next slice judged the key again from its older live
 * version and kept that: the row came back. With slices of one version the key cannot
 * be judged whole; a full GC at the same mark then collects what they left.
 */
START_TEST(gc_slice_ending_within_a_deleted_key)
{
	for (int case_ = 0; case_ < 2; case_++) {
		struct store a, b;
		store_open(&a, 27);
		store_open(&b, 28);
		struct store *both[] = {&a, &b};
		for (int i = 0; i < 2; i++) {
			if (case_ ==
			    0) { /* a@1, b@2 = old, b@3 deleted: a slice of 2 ends at b@2 */
				write_one(both[i], "a", "1");
				write_one(both[i], "b", "old");
			} else { /* b@1, b@2, b@3 deleted: a slice of 1 ends at b@2, within b */
				write_one(both[i], "b", "v1");
				write_one(both[i], "b", "v2");
			}
			delete_one(both[i], "b");
		}
		uint64_t low = mvcc_applied_version(a.m);
		char v[16];
		ok(mvcc_gc(a.m, low));
		for (int slice = 0; slice < 8; slice++) {
			ok(mvcc_gc_some(b.m, low, 2 - (uint64_t)case_));
			ck_assert_str_eq(read_at(&b, MVCC_LATEST, "b", v, sizeof v), "");
		}
		if (case_ == 1)
			ok(mvcc_gc(b.m, low));
		expect_collected_alike(&a, &b);
		store_close(&a);
		store_close(&b);
	}
}
END_TEST

START_TEST(gc_in_chunks)
{
	struct store s;
	store_open(&s, 12);
	char key[16], v[16];
	for (int round = 0; round < 3; round++) {
		struct mvcc_txn *t = begin(&s, MVCC_LATEST, 0);
		for (int i = 0; i < 5000; i++) {
			snprintf(key, sizeof key, "k%05d", i);
			snprintf(v, sizeof v, "%d", round);
			put(t, key, v);
		}
		ck_assert_int_eq(commit(&s, t), 0);
	}
	ok(mvcc_gc(s.m, MVCC_LATEST));
	struct mvcc_txn *t = begin(&s, MVCC_LATEST, MVCC_READ_ONLY);
	struct mvcc_scan *sc;
	ok(mvcc_scan_open(t, NULL, NULL, false, &sc));
	int n = 0, wrong = 0;
	for (;;) {
		struct slice k, val;
		bool done;
		ok(mvcc_scan_next(sc, &k, &val, &done));
		if (done)
			break;
		wrong += val.len != 1 || val.ptr[0] != '2';
		n++;
	}
	mvcc_scan_close(sc);
	mvcc_txn_free(t);
	ck_assert_int_eq(n, 5000);
	ck_assert_int_eq(wrong, 0);
	store_close(&s);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("mvcc_basic");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, versions_are_log_indexes_and_snapshots_hold);
	tcase_add_test(tc, own_writes_and_merged_scans);
	tcase_add_test(tc, scan_survives_writes_and_applies);
	tcase_add_test(tc, reverse_scan_under_gc);
	tcase_add_test(tc, read_only_and_time_travel);
	tcase_add_test(tc, commit_local_applies_and_flushes);
	tcase_add_test(tc, apply_is_idempotent_by_txn_id);
	tcase_add_test(tc, duplicates_found_while_the_window_moves);
	tcase_add_test(tc, older_store_format_is_refused);
	tcase_add_test(tc, duplicate_stays_one_after_its_original_leaves);
	tcase_add_test(tc, format_2_store_is_converted);
	tcase_add_test(tc, no_log_means_no_history_before_the_reopen);
	tcase_add_test(tc, history_window_bounds_validation);
	tcase_add_test(tc, read_set_escalation_keeps_conflicts);
	tcase_add_test(tc, read_set_escalation_keeps_an_enclosing_range);
	tcase_add_test(tc, a_write_at_a_scanned_range_s_end_is_no_conflict);
	tcase_add_test(tc, an_empty_scan_reads_its_range);
	tcase_add_test(tc, partial_scan_reads_only_what_it_returned);
	tcase_add_test(tc, limits);
	tcase_add_test(tc, gc_removes_only_unreadable_versions);
	tcase_add_test(tc, data_hash_ignores_old_versions);
	tcase_add_test(tc, data_hash_matches_the_scan);
	tcase_add_test(tc, gc_in_bounded_slices_matches_a_full_pass);
	tcase_add_test(tc, gc_slices_after_idle_ones_still_collect_everything);
	tcase_add_test(tc, gc_slice_ending_within_a_deleted_key);
	tcase_add_test(tc, gc_in_chunks);
	suite_add_tcase(suite, tc);
	return check_run(suite);
}
