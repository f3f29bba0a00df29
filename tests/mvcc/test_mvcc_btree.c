/*
 * MVCC over the B+-tree engine on a crashing in-memory disk. Replica A (B+-tree) and
 * replica B (memory engine) apply the same log; A flushes in groups, sometimes without
 * sync, and its disk loses power (with torn writes) at random points. After each crash A
 * reopens at its last durable flush, where it must hold exactly the state B had at that
 * index (every transaction committed up to there, nothing after), then re-applies the log
 * from mvcc_applied_version() + 1, getting every entry's original outcome, and ends
 * byte-identical to B.
 */
#include <stdlib.h>

#include "mvcc_harness.h"
#include "storage/btree.h"
#include "storage/vfs_memory.h"

#define NKEYS 16
#define ENTRIES 1200

struct entry {
	struct buf rec; /* empty for a Raft no-op */
	struct mvcc_outcome outcome;
};

struct world {
	struct prng rng;
	struct vfs *disk;
	struct store a, b;
	struct entry log[ENTRIES + 1];
	uint64_t last;
	int crashes, committed, aborted;
};

/* A's log source: the records of the world's log. */
static err *world_load(void *ctx, uint64_t index, struct buf *out)
{
	const struct world *w = ctx;
	ck_assert_uint_le(index, w->last);
	const struct buf *rec = &w->log[index].rec;
	return rec->len ? buf_append(out, rec->data, rec->len) : NULL;
}

static void open_a(struct world *w)
{
	ok(btree_open(w->disk, "cairn.db", NULL, &w->a.kv));
	ok(mvcc_open(w->a.kv, &w->a.options, &w->a.m));
}

/* The state at `version` of both replicas, key by key, must agree. */
static void same_state_at(struct world *w, uint64_t version)
{
	struct mvcc_txn *ta = begin(&w->a, version, MVCC_READ_ONLY);
	struct mvcc_txn *tb = begin(&w->b, version, MVCC_READ_ONLY);
	char all_a[4096], all_b[4096];
	scan_all(ta, NULL, NULL, false, all_a, sizeof all_a);
	scan_all(tb, NULL, NULL, false, all_b, sizeof all_b);
	ck_assert_str_eq(all_a, all_b);
	mvcc_txn_free(ta);
	mvcc_txn_free(tb);
}

static void append(struct world *w, struct buf *rec)
{
	uint64_t index = ++w->last;
	struct entry *e = &w->log[index];
	e->rec = *rec;
	if (rec->len == 0) {
		ok(mvcc_advance(w->a.m, index));
		ok(mvcc_advance(w->b.m, index));
		return;
	}
	struct mvcc_outcome ob;
	ok(mvcc_apply(w->a.m, rec->data, rec->len, index, &e->outcome));
	ok(mvcc_apply(w->b.m, rec->data, rec->len, index, &ob));
	ck_assert_int_eq(e->outcome.code, ob.code);
	w->committed += e->outcome.committed;
	w->aborted += !e->outcome.committed;
}

/* A transfer between two random keys, begun on A; its record is returned unapplied. */
static void transfer(struct world *w, struct buf *rec)
{
	struct mvcc_txn *t = begin(&w->a, MVCC_LATEST, 0);
	char k1[8], k2[8], v[16];
	snprintf(k1, sizeof k1, "acct%02u", (unsigned)prng_below(&w->rng, NKEYS));
	snprintf(k2, sizeof k2, "acct%02u", (unsigned)prng_below(&w->rng, NKEYS));
	int amount = 1 + (int)prng_below(&w->rng, 10);
	int from = atoi(get(t, k1, v, sizeof v)) - amount;
	snprintf(v, sizeof v, "%d", from);
	put(t, k1, v);
	int to = atoi(get(t, k2, v, sizeof v)) + amount;
	snprintf(v, sizeof v, "%d", to);
	put(t, k2, v);
	buf_init(rec, 4096);
	encode(t, rec);
	mvcc_txn_free(t);
}

static void crash_and_recover(struct world *w)
{
	vfs_memory_crash(w->disk, &w->rng);
	mvcc_close(w->a.m);
	kv_close(w->a.kv);
	open_a(w);
	uint64_t durable = mvcc_applied_version(w->a.m);
	ck_assert_uint_le(durable, w->last);
	same_state_at(w, durable);
	for (uint64_t i = durable + 1; i <= w->last; i++) {
		struct entry *e = &w->log[i];
		if (e->rec.len == 0) {
			ok(mvcc_advance(w->a.m, i));
			continue;
		}
		struct mvcc_outcome again;
		ok(mvcc_apply(w->a.m, e->rec.data, e->rec.len, i, &again));
		ck_assert_int_eq(again.code, e->outcome.code);
		ck_assert_int_eq(again.duplicate, e->outcome.duplicate);
		ck_assert_uint_eq(again.index, e->outcome.index);
	}
	w->crashes++;
}

START_TEST(crashes_keep_exactly_the_durable_commits)
{
	struct world *w = calloc(1, sizeof *w);
	ck_assert_ptr_nonnull(w);
	prng_seed(&w->rng, 77 + (uint64_t)_i);
	ok(vfs_memory_new((size_t)256 << 20, &w->disk));
	prng_seed(&w->a.prng, 1);
	/* a window of 256 drops 4 entries at a time (mvcc_history.h) */
	w->a.options = (struct mvcc_options){
	    .prng = &w->a.prng, .history_max_entries = 256, .log = {w, world_load}};
	open_a(w);
	store_open(&w->b, 2);
	w->b.options.history_max_entries = 256;
	store_reopen(&w->b);
	while (w->last + 3 <= ENTRIES) {
		uint64_t r = prng_below(&w->rng, 100);
		if (r < 10) {
			struct buf noop;
			buf_init(&noop, 1);
			append(w, &noop);
		} else if (r < 75) {
			/* two transfers from the same snapshot: they may conflict */
			struct buf r1, r2;
			transfer(w, &r1);
			transfer(w, &r2);
			append(w, &r1);
			append(w, &r2);
		} else if (r < 90) {
			ok(mvcc_flush(w->a.m, prng_chance(&w->rng, 0.7)));
		} else if (r < 93) {
			crash_and_recover(w);
		} else if (r < 95) {
			/* GC is local, not in the log: make it durable at once so that a
			 * crash cannot undo it on A alone */
			ok(mvcc_gc(w->a.m, mvcc_applied_version(w->a.m)));
			ok(mvcc_gc(w->b.m, mvcc_applied_version(w->b.m)));
			ok(mvcc_flush(w->a.m, true));
		}
	}
	crash_and_recover(w);
	same_state_at(w, MVCC_LATEST);
	uint64_t ha, hb;
	ok(mvcc_state_hash(w->a.m, &ha));
	ok(mvcc_state_hash(w->b.m, &hb));
	ck_assert_uint_eq(ha, hb);
	ok(btree_verify(w->a.kv));
	ck_assert_int_gt(w->crashes, 3);
	ck_assert_int_gt(w->committed, 100);
	ck_assert_int_gt(w->aborted, 5);
	mvcc_close(w->a.m);
	kv_close(w->a.kv);
	vfs_memory_free(w->disk);
	store_close(&w->b);
	for (uint64_t i = 1; i <= w->last; i++)
		buf_free(&w->log[i].rec);
	free(w);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("mvcc_btree");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, crashes_keep_exactly_the_durable_commits, 0, 3);
	suite_add_tcase(suite, tc);
	return check_run(suite);
}
