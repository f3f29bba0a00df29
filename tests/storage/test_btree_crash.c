/*
 * Crash and fault tests for the B+-tree, through the fault vfs:
 *   - a power cut at every single write and sync of a sequence of commits, each followed
 *     by a crash that tears the last write at a random byte or keeps a random subset of
 *     the unsynced writes (some torn), as a reordering disk may; after reopening the tree
 *     must equal exactly the last commit that returned, or the one being committed (if
 *     its meta page made it), and nothing else;
 *   - bit flips on read are ERR_CORRUPT, never wrong data;
 *   - a batch that hits an I/O error leaves no trace; a commit that hits one makes the
 *     engine refuse work until it is reopened at the last durable commit.
 */
#include <stdio.h>
#include <string.h>

#include "base/prng.h"
#include "check_main.h"
#include "kv_model.h"
#include "storage/btree.h"
#include "storage/vfs_fault.h"
#include "storage/vfs_memory.h"

#define OK(expr) ck_assert_ptr_null(expr)
#define COMMITS 14

struct world {
	struct vfs *mem, *fault;
	struct kv *kv;
};

static void world_open(struct world *w, uint64_t seed)
{
	OK(vfs_memory_new((size_t)256 << 20, &w->mem));
	OK(vfs_fault_new(w->mem, &(struct vfs_fault_options){.seed = seed}, &w->fault));
	/* a small cache: reads after reopen go through checksums */
	OK(btree_open(w->fault, "db", &(struct btree_options){.cache_bytes = 64 << 10}, &w->kv));
}

static void world_close(struct world *w)
{
	kv_close(w->kv);
	vfs_fault_free(w->fault);
	vfs_memory_free(w->mem);
}

/* The batch of commit i: deterministic in i. Commit 0 builds a tree of a few hundred keys. */
static void make_batch(int i, struct kv_batch *b)
{
	struct prng p;
	prng_seed(&p, 1000 + (uint64_t)i);
	kv_batch_clear(b);
	int n = i == 0 ? 600 : 1 + (int)prng_below(&p, 120);
	static uint8_t value[9000];
	for (int j = 0; j < n; j++) {
		char key[24];
		snprintf(key, sizeof key, "key-%04u", (unsigned)prng_below(&p, 900));
		if (i > 0 && prng_chance(&p, 0.3)) {
			OK(kv_batch_delete(b, slice_of(key, strlen(key))));
			continue;
		}
		size_t vlen = prng_chance(&p, 0.03) ? 5000 + (size_t)prng_below(&p, 4000)
		                                    : (size_t)prng_below(&p, 80);
		memset(value, 'a' + (i % 26), vlen);
		OK(kv_batch_put(b, slice_of(key, strlen(key)), slice_of(value, vlen)));
	}
}

/* Commit i is synced unless i % 4 == 2 (then it waits for the next synced commit). */
static bool commit_syncs(int i)
{
	return i % 4 != 2;
}

static void do_commit(struct world *w, int i, struct kv_batch *b)
{
	make_batch(i, b);
	OK(kv_apply(w->kv, b));
	OK(kv_commit(w->kv, slice_of(&i, sizeof i), commit_syncs(i)));
}

static bool tree_equals(struct kv *kv, const struct model *m)
{
	struct kv_iter *it;
	OK(kv_iter_open(kv, NULL, NULL, false, &it));
	bool same = true;
	for (size_t i = 0; same; i++) {
		struct slice k, v;
		bool done;
		OK(kv_iter_next(it, &k, &v, &done));
		if (done) {
			same = i == m->n;
			break;
		}
		same = i < m->n && slice_eq(k, model_key(m, i)) && slice_eq(v, model_value(m, i));
	}
	kv_iter_close(it);
	return same;
}

START_TEST(power_cut_at_every_write_and_sync_of_every_commit)
{
	struct kv_batch b;
	kv_batch_init(&b);
	/* models[i]: the data after commit i; durable[i]: the last synced commit <= i */
	static struct model models[COMMITS];
	int durable[COMMITS];
	struct model acc = {0};
	for (int i = 0; i < COMMITS; i++) {
		make_batch(i, &b);
		model_apply(&acc, &b);
		model_copy(&models[i], &acc);
		durable[i] = commit_syncs(i) ? i : durable[i - 1];
	}
	struct prng tear;
	prng_seed(&tear, 5);
	int outcomes[2] = {0, 0}, trials = 0;
	for (int k = 1; k < COMMITS; k++) {
		if (!commit_syncs(k))
			continue;
		/* count the writes and syncs commit k makes */
		struct world w;
		world_open(&w, 1);
		for (int i = 0; i < k; i++)
			do_commit(&w, i, &b);
		uint64_t before = vfs_fault_count(w.fault, VFS_FAULT_WRITE) +
		                  vfs_fault_count(w.fault, VFS_FAULT_SYNC);
		do_commit(&w, k, &b);
		uint64_t calls = vfs_fault_count(w.fault, VFS_FAULT_WRITE) +
		                 vfs_fault_count(w.fault, VFS_FAULT_SYNC) - before;
		ck_assert_uint_ge(calls, 4); /* pages, sync, meta page, sync */
		world_close(&w);
		for (uint64_t cut = 1; cut <= calls; cut++) {
			world_open(&w, cut);
			for (int i = 0; i < k; i++)
				do_commit(&w, i, &b);
			make_batch(k, &b);
			OK(kv_apply(w.kv, &b));
			vfs_fault_cut_after(w.fault, cut);
			err *e = kv_commit(w.kv, slice_of(&k, sizeof k), true);
			ck_assert_msg(err_is(e, ERR_IO), "commit %d, cut %llu: %s", k,
			              (unsigned long long)cut, e ? err_msg(e) : "no error");
			err_free(e);
			kv_close(w.kv);
			/* half the trials tear the last write, half keep a random subset */
			OK(vfs_fault_crash(
			    w.fault, cut % 2 ? VFS_FAULT_TEAR_RANDOM : VFS_FAULT_KEEP_RANDOM, 0));
			OK(btree_open(w.fault, "db", NULL, &w.kv));
			OK(btree_verify(w.kv));
			bool old = tree_equals(w.kv, &models[durable[k - 1]]);
			bool new = tree_equals(w.kv, &models[k]);
			ck_assert_msg(old || new, "commit %d, cut at %llu of %llu: neither state",
			              k, (unsigned long long)cut, (unsigned long long)calls);
			struct buf meta;
			buf_init(&meta, 64);
			OK(kv_meta(w.kv, &meta));
			int got;
			ck_assert_uint_eq(meta.len, sizeof got);
			memcpy(&got, meta.data, sizeof got);
			ck_assert_int_eq(got, new && !old ? k : durable[k - 1]);
			buf_free(&meta);
			outcomes[new && !old]++;
			/* the recovered tree takes the lost commits again and ends where it should */
			for (int i = new && !old ? k + 1 : durable[k - 1] + 1; i <= k; i++)
				do_commit(&w, i, &b);
			OK(btree_verify(w.kv));
			ck_assert(tree_equals(w.kv, &models[k]));
			world_close(&w);
			trials++;
		}
	}
	ck_assert_int_gt(trials, 40);
	ck_assert_int_gt(outcomes[0], 0);
	ck_assert_int_gt(outcomes[1], 0); /* a cut at the last sync can keep the meta page */
	for (int i = 0; i < COMMITS; i++)
		model_free(&models[i]);
	model_free(&acc);
	kv_batch_free(&b);
}
END_TEST

START_TEST(bit_flips_on_read_are_corruption_never_data)
{
	struct vfs *mem, *v;
	OK(vfs_memory_new((size_t)64 << 20, &mem));
	struct vfs_fault_options o = {.seed = 9};
	OK(vfs_fault_new(mem, &o, &v));
	struct kv *kv;
	OK(btree_open(v, "db", NULL, &kv));
	struct kv_batch b;
	kv_batch_init(&b);
	struct model m = {0};
	for (int i = 0; i < 4; i++) {
		make_batch(i, &b);
		model_apply(&m, &b);
		OK(kv_apply(kv, &b));
	}
	OK(kv_commit(kv, slice_of("", 0), true));
	kv_close(kv);
	vfs_fault_free(v);
	o.read_flip_probability = 0.05;
	OK(vfs_fault_new(mem, &o, &v));
	/* the smallest cache, so nearly every read goes to the (flipping) disk */
	err *e = btree_open(v, "db", &(struct btree_options){.cache_bytes = 1}, &kv);
	ck_assert_msg(e == NULL || err_is(e, ERR_CORRUPT), "%s", err_msg(e));
	int corrupt = 0, right = 0;
	for (int attempt = 0; e && attempt < 20; attempt++) {
		err_free(e);
		e = btree_open(v, "db", &(struct btree_options){.cache_bytes = 1}, &kv);
	}
	OK(e);
	struct kv_stats st;
	OK(kv_stats(kv, &st));
	ck_assert_uint_eq(st.keys, m.n); /* the newest meta page, not the older one */
	struct buf out;
	buf_init(&out, KV_VALUE_MAX);
	for (int round = 0; round < 3000; round++) {
		size_t i = (size_t)round % m.n;
		bool found;
		e = kv_get(kv, model_key(&m, i), &out, &found);
		if (e) {
			ck_assert_msg(err_is(e, ERR_CORRUPT), "%s", err_msg(e));
			ck_assert(strstr(err_msg(e), "page") != NULL);
			err_free(e);
			corrupt++;
			continue;
		}
		ck_assert_msg(found, "key %zu not found", i);
		ck_assert_msg(slice_eq(buf_slice(&out), model_value(&m, i)),
		              "key %zu: value of %zu bytes, model %zu", i, out.len, m.e[i].vlen);
		right++;
	}
	ck_assert_int_gt(corrupt, 10);
	ck_assert_int_gt(right, 100);
	buf_free(&out);
	kv_close(kv);
	vfs_fault_free(v);
	vfs_memory_free(mem);
	model_free(&m);
	kv_batch_free(&b);
}
END_TEST

START_TEST(io_errors_in_apply_leave_no_trace_and_in_commit_stop_the_engine)
{
	struct world w;
	world_open(&w, 3);
	struct kv_batch b;
	kv_batch_init(&b);
	struct model m = {0}, attempt = {0};
	do_commit(&w, 0, &b);
	make_batch(0, &b);
	model_apply(&m, &b);
	kv_close(w.kv);
	/* a 16-page cache: applying a batch reads pages from the disk */
	OK(btree_open(w.fault, "db", &(struct btree_options){.cache_bytes = 1}, &w.kv));
	struct prng p;
	prng_seed(&p, 4);
	int failed = 0;
	for (int i = 1; i < 60; i++) {
		make_batch(i, &b);
		vfs_fault_fail_nth(w.fault, VFS_FAULT_READ, 1 + prng_below(&p, 20));
		err *e = kv_apply(w.kv, &b);
		vfs_fault_fail_nth(w.fault, VFS_FAULT_READ, 0);
		if (e) {
			ck_assert_msg(err_is(e, ERR_IO), "%s", err_msg(e));
			err_free(e);
			failed++;
		} else {
			model_apply(&m, &b);
		}
		ck_assert(tree_equals(w.kv, &m));
		if (i % 10 == 0) {
			OK(btree_verify(w.kv));
			OK(kv_commit(w.kv, slice_of("", 0), true));
		}
	}
	ck_assert_int_gt(failed, 5);
	OK(kv_commit(w.kv, slice_of("", 0), true));
	model_copy(&attempt, &m);
	/* a failed sync during a commit: the engine stops; reopening finds the last commit */
	make_batch(99, &b);
	OK(kv_apply(w.kv, &b));
	vfs_fault_fail_nth(w.fault, VFS_FAULT_SYNC, 1);
	err *e = kv_commit(w.kv, slice_of("", 0), true);
	ck_assert(err_is(e, ERR_IO));
	err_free(e);
	struct buf out;
	buf_init(&out, 64);
	bool found;
	e = kv_get(w.kv, slice_of("key-0001", 8), &out, &found);
	ck_assert(err_is(e, ERR_IO));
	err_free(e);
	kv_close(w.kv);
	OK(vfs_fault_crash(w.fault, VFS_FAULT_TEAR_RANDOM, 0));
	OK(btree_open(w.fault, "db", NULL, &w.kv));
	OK(btree_verify(w.kv));
	ck_assert(tree_equals(w.kv, &attempt));
	buf_free(&out);
	model_free(&m);
	model_free(&attempt);
	kv_batch_free(&b);
	world_close(&w);
}
END_TEST

static Suite *crash_suite(void)
{
	Suite *s = suite_create("btree_crash");
	TCase *tc = tcase_create("btree_crash");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, power_cut_at_every_write_and_sync_of_every_commit);
	tcase_add_test(tc, bit_flips_on_read_are_corruption_never_data);
	tcase_add_test(tc, io_errors_in_apply_leave_no_trace_and_in_commit_stop_the_engine);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(crash_suite());
}
