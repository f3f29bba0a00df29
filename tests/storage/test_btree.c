/*
 * Tests for the B+-tree engine: basic operations, overflow values and limits, the
 * randomized property test that runs the B+-tree AND the memory engine against a
 * reference model (tens of thousands of puts, deletes, batches, point reads and forward
 * and reverse range scans with random bounds, with commits and reopens), batch atomicity
 * (also when a read fails part-way through a batch), the clustered batches of applying
 * (whose descents reuse earlier ones),
 * checksum failures reported as ERR_CORRUPT, and free-page reuse in steady state.
 */
#include <stdio.h>
#include <string.h>

#include "base/checksum.h"
#include "base/prng.h"
#include "check_main.h"
#include "kv_model.h"
#include "storage/btree.h"
#include "storage/kv_memory.h"
#include "storage/vfs_fault.h"
#include "storage/vfs_memory.h"

#define OK(expr) ck_assert_ptr_null(expr)
#define DISK_BYTES ((size_t)512 << 20)

static void expect_err(err *e, enum err_code code)
{
	ck_assert_msg(e != NULL, "expected an error");
	ck_assert_msg(err_code(e) == code, "expected code %d, got %d: %s", code, err_code(e),
	              err_msg(e));
	err_free(e);
}

static struct kv *open_tree(struct vfs *v, size_t cache_bytes)
{
	struct btree_options o = {.cache_bytes = cache_bytes};
	struct kv *kv;
	OK(btree_open(v, "tree.db", &o, &kv));
	return kv;
}

static struct slice S(const char *s) {
	return slice_of(s, strlen(s));
}

START_TEST(put_get_delete_meta_and_reopen)
{
	struct vfs *v;
	OK(vfs_memory_new(DISK_BYTES, &v));
	struct kv *kv = open_tree(v, 0);
	struct buf out;
	buf_init(&out, KV_VALUE_MAX);
	bool found = true;
	OK(kv_get(kv, S("a"), &out, &found));
	ck_assert(!found);
	OK(kv_put(kv, S("b"), S("two")));
	OK(kv_put(kv, S("a"), S("one")));
	OK(kv_put(kv, S("a"), S("uno")));
	OK(kv_put(kv, S("empty"), slice_of("", 0)));
	OK(kv_delete(kv, S("b")));
	OK(kv_delete(kv, S("nothing")));
	OK(kv_get(kv, S("a"), &out, &found));
	ck_assert(found && slice_eq(buf_slice(&out), S("uno")));
	OK(kv_get(kv, S("empty"), &out, &found));
	ck_assert(found && out.len == 0);
	OK(kv_commit(kv, S("applied=7"), true));
	OK(kv_put(kv, S("uncommitted"), S("x")));
	kv_close(kv);

	kv = open_tree(v, 0);
	OK(kv_meta(kv, &out));
	ck_assert(slice_eq(buf_slice(&out), S("applied=7")));
	OK(kv_get(kv, S("uncommitted"), &out, &found));
	ck_assert(!found);
	OK(kv_get(kv, S("b"), &out, &found));
	ck_assert(!found);
	struct kv_stats st;
	OK(kv_stats(kv, &st));
	ck_assert_uint_eq(st.keys, 2);
	ck_assert_uint_eq(st.key_bytes, 6);
	ck_assert_uint_eq(st.value_bytes, 3);
	OK(btree_verify(kv));
	expect_err(kv_commit(kv, slice_of(out.data, KV_META_MAX + 1), true), ERR_LIMIT);
	kv_close(kv);
	buf_free(&out);
	vfs_memory_free(v);
}
END_TEST

START_TEST(overflow_values_and_limits)
{
	struct vfs *v;
	OK(vfs_memory_new(DISK_BYTES, &v));
	struct kv *kv = open_tree(v, 0);
	static uint8_t big[KV_VALUE_MAX + 1], key[KV_KEY_MAX + 1];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)(i * 7);
	memset(key, 'k', sizeof key);
	OK(kv_put(kv, slice_of(key, KV_KEY_MAX), slice_of(big, KV_VALUE_MAX)));
	OK(kv_put(kv, S("mid"), slice_of(big, 5000)));
	expect_err(kv_put(kv, slice_of(key, KV_KEY_MAX + 1), S("v")), ERR_LIMIT);
	expect_err(kv_put(kv, S("k"), slice_of(big, KV_VALUE_MAX + 1)), ERR_LIMIT);
	OK(kv_commit(kv, slice_of("", 0), true));
	kv_close(kv);
	kv = open_tree(v, 0);
	struct buf out;
	buf_init(&out, KV_VALUE_MAX);
	bool found;
	OK(kv_get(kv, slice_of(key, KV_KEY_MAX), &out, &found));
	ck_assert(found && out.len == KV_VALUE_MAX && memcmp(out.data, big, KV_VALUE_MAX) == 0);
	OK(kv_get(kv, S("mid"), &out, &found));
	ck_assert(found && out.len == 5000 && memcmp(out.data, big, 5000) == 0);
	OK(btree_verify(kv));
	/* replacing and deleting overflow values frees their chains */
	OK(kv_put(kv, S("mid"), S("small")));
	OK(kv_delete(kv, slice_of(key, KV_KEY_MAX)));
	OK(btree_verify(kv));
	OK(kv_commit(kv, slice_of("", 0), true));
	OK(btree_verify(kv));
	struct kv_stats st;
	OK(kv_stats(kv, &st));
	ck_assert_uint_ge(st.free_pages, 17); /* the 64 KiB chain came back */
	kv_close(kv);
	buf_free(&out);
	vfs_memory_free(v);
}
END_TEST

static size_t random_key(struct prng *p, uint8_t *out)
{
	/* a small key space (lots of overwrites and deletes hitting), varied lengths */
	if (prng_chance(p, 0.05)) {
		size_t n = 1 + (size_t)prng_below(p, 300);
		for (size_t i = 0; i < n; i++)
			out[i] = (uint8_t)('a' + prng_below(p, 3));
		return n;
	}
	return (size_t)snprintf((char *)out, 32, "k%05u", (unsigned)prng_below(p, 3000));
}

static size_t random_value(struct prng *p, uint8_t *out)
{
	size_t n;
	double r = prng_double(p);
	if (r < 0.01)
		n = 4000 + (size_t)prng_below(p, 20000); /* overflow */
	else if (r < 0.1)
		n = (size_t)prng_below(p, 1200);
	else
		n = (size_t)prng_below(p, 60);
	uint8_t b = (uint8_t)prng_next(p);
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(b + i);
	return n;
}

static void random_bound(struct prng *p, uint8_t *buf, struct slice *s, const struct slice **ptr)
{
	if (prng_chance(p, 0.2)) {
		*ptr = NULL;
		return;
	}
	*s = slice_of(buf, random_key(p, buf));
	*ptr = s;
}

START_TEST(property_btree_and_memory_engine_match_the_model)
{
	struct prng p;
	prng_seed(&p, 0xB7EE);
	struct vfs *v;
	OK(vfs_memory_new(DISK_BYTES, &v));
	/* a small cache, so pages are evicted and read back through checksums */
	struct kv *tree = open_tree(v, 256 << 10);
	struct kv *mem;
	OK(kvmem_open(&mem));
	struct model model = {0};
	struct kv_batch batch;
	kv_batch_init(&batch);
	struct buf scratch;
	buf_init(&scratch, KV_VALUE_MAX);
	static uint8_t key[KV_KEY_MAX], value[KV_VALUE_MAX], b1[KV_KEY_MAX], b2[KV_KEY_MAX];
	long ops = 0;
	for (int round = 0; ops < 40000; round++) {
		/* a batch of 1..64 operations */
		kv_batch_clear(&batch);
		int n = 1 + (int)prng_below(&p, prng_chance(&p, 0.1) ? 400 : 64);
		double delete_share = (round / 200) % 2 ? 0.6 : 0.25; /* grow, then shrink */
		for (int i = 0; i < n; i++, ops++) {
			size_t kl = random_key(&p, key);
			if (prng_chance(&p, delete_share)) {
				OK(kv_batch_delete(&batch, slice_of(key, kl)));
			} else {
				size_t vl = random_value(&p, value);
				OK(kv_batch_put(&batch, slice_of(key, kl), slice_of(value, vl)));
			}
		}
		OK(kv_apply(tree, &batch));
		OK(kv_apply(mem, &batch));
		model_apply(&model, &batch);
		for (int i = 0; i < 8; i++) {
			size_t kl = random_key(&p, key);
			model_check_get(&model, tree, slice_of(key, kl), &scratch);
			model_check_get(&model, mem, slice_of(key, kl), &scratch);
		}
		struct slice s1, s2;
		const struct slice *from, *to;
		random_bound(&p, b1, &s1, &from);
		random_bound(&p, b2, &s2, &to);
		bool reverse = prng_chance(&p, 0.5);
		model_check_range(&model, tree, from, to, reverse);
		model_check_range(&model, mem, from, to, reverse);
		double r = prng_double(&p);
		if (r < 0.1) {
			OK(kv_commit(tree, slice_of(&round, sizeof round), r < 0.07));
			OK(kv_commit(mem, slice_of(&round, sizeof round), true));
		} else if (r < 0.12) {
			OK(kv_commit(tree, slice_of(&round, sizeof round), true));
			kv_close(tree);
			tree = open_tree(v, 256 << 10);
		}
		if (round % 50 == 0)
			OK(btree_verify(tree));
	}
	model_check_range(&model, tree, NULL, NULL, false);
	model_check_range(&model, tree, NULL, NULL, true);
	model_check_range(&model, mem, NULL, NULL, false);
	OK(btree_verify(tree));
	struct kv_stats st;
	OK(kv_stats(tree, &st));
	ck_assert_uint_eq(st.keys, model.n);
	kv_close(tree);
	kv_close(mem);
	model_free(&model);
	kv_batch_free(&batch);
	buf_free(&scratch);
	vfs_memory_free(v);
}
END_TEST

/*
 * A B+-tree with a small cache (so batches read pages) on a memory disk whose reads can be
 * made to fail, the model of the batches that succeeded, and their working buffers.
 */
struct faulty {
	struct vfs *mem, *v;
	struct kv *tree;
	struct model model;
	struct kv_batch batch;
	struct buf scratch;
	int failed; /* batches that failed */
};

static void faulty_open(struct faulty *f, uint64_t seed)
{
	memset(f, 0, sizeof *f);
	OK(vfs_memory_new(DISK_BYTES, &f->mem));
	struct vfs_fault_options fo = {.seed = seed};
	OK(vfs_fault_new(f->mem, &fo, &f->v));
	f->tree = open_tree(f->v, 64 << 10);
	kv_batch_init(&f->batch);
	buf_init(&f->scratch, KV_VALUE_MAX);
}

/* Applies f->batch with its nth read failing (0: none); a failure is ERR_IO and the model
 * stays as it was, a success joins the model. */
static void faulty_apply(struct faulty *f, uint64_t nth)
{
	vfs_fault_fail_nth(f->v, VFS_FAULT_READ, nth);
	err *e = kv_apply(f->tree, &f->batch);
	vfs_fault_fail_nth(f->v, VFS_FAULT_READ, 0);
	if (e) {
		ck_assert_int_eq(err_code(e), ERR_IO);
		err_free(e);
		f->failed++;
	} else {
		model_apply(&f->model, &f->batch);
	}
}

/* The whole tree against the model, both ways, and its structure. */
static void faulty_check(struct faulty *f)
{
	model_check_range(&f->model, f->tree, NULL, NULL, false);
	model_check_range(&f->model, f->tree, NULL, NULL, true);
	OK(btree_verify(f->tree));
}

static void faulty_close(struct faulty *f)
{
	kv_close(f->tree);
	model_free(&f->model);
	kv_batch_free(&f->batch);
	buf_free(&f->scratch);
	vfs_fault_free(f->v);
	vfs_memory_free(f->mem);
}

/*
 * Batch atomicity under read errors: a read that fails part-way through a batch (after it
 * changed pages, split and merged some) rolls the whole batch back, and the tree still
 * matches the model of the batches that succeeded.
 */
START_TEST(a_batch_failing_midway_leaves_no_trace)
{
	struct prng p;
	prng_seed(&p, 0xAB0A7);
	struct faulty f;
	faulty_open(&f, 1);
	static uint8_t key[KV_KEY_MAX], value[KV_VALUE_MAX];
	for (int round = 0; round < 1500; round++) {
		kv_batch_clear(&f.batch);
		int n = 1 + (int)prng_below(&p, 80);
		double delete_share = (round / 150) % 2 ? 0.6 : 0.25;
		for (int i = 0; i < n; i++) {
			size_t kl = random_key(&p, key);
			if (prng_chance(&p, delete_share)) {
				OK(kv_batch_delete(&f.batch, slice_of(key, kl)));
			} else {
				size_t vl = random_value(&p, value);
				OK(kv_batch_put(&f.batch, slice_of(key, kl), slice_of(value, vl)));
			}
		}
		faulty_apply(&f, 1 + prng_below(&p, 40));
		for (int i = 0; i < 4; i++) {
			size_t kl = random_key(&p, key);
			model_check_get(&f.model, f.tree, slice_of(key, kl), &f.scratch);
		}
		if (prng_chance(&p, 0.2))
			OK(kv_commit(f.tree, slice_of(&round, sizeof round), prng_chance(&p, 0.5)));
		if (round % 100 == 0)
			faulty_check(&f);
	}
	ck_assert_int_gt(f.failed, 100);
	faulty_check(&f);
	faulty_close(&f);
}
END_TEST

/*
 * The access pattern of applying: every batch appends to the ends of four key spaces,
 * deletes the oldest keys of one, rewrites two fixed keys and touches random ones, so
 * that most descents reuse a recent one (struct bt_hint) while leaves split and merge
 * around them, pages are written out by commits and some batches fail midway on a read.
 * The tree must match the model throughout and verify.
 */
START_TEST(clustered_batches_match_the_model)
{
	struct prng p;
	prng_seed(&p, 0xC1A55);
	struct faulty f;
	faulty_open(&f, 2);
	static uint8_t value[KV_VALUE_MAX];
	uint64_t next[4] = {0}, oldest = 0;
	const char space[4] = {'d', 'm', 'o', 'v'};
	char key[64];
	for (int round = 0; round < 3000; round++) {
		kv_batch_clear(&f.batch);
		for (int s = 0; s < 4; s++) {
			int n = 1 + (int)prng_below(&p, s == 3 ? 12 : 3);
			for (int i = 0; i < n; i++) {
				snprintf(key, sizeof key, "%c%012llu", space[s],
				         (unsigned long long)next[s]++);
				size_t vl = random_value(&p, value);
				OK(kv_batch_put(&f.batch, S(key), slice_of(value, vl)));
			}
		}
		for (int i = 0; i < 3 && oldest + 200 < next[2]; i++) {
			snprintf(key, sizeof key, "o%012llu", (unsigned long long)oldest++);
			OK(kv_batch_delete(&f.batch, S(key)));
		}
		OK(kv_batch_put(&f.batch, S("m-applied"), slice_of(&round, sizeof round)));
		OK(kv_batch_put(&f.batch, S("m-floor"), slice_of(&round, sizeof round)));
		snprintf(key, sizeof key, "v%012llu",
		         (unsigned long long)prng_below(&p, next[3] ? next[3] : 1));
		if (prng_chance(&p, 0.5))
			OK(kv_batch_delete(&f.batch, S(key)));
		else
			OK(kv_batch_put(&f.batch, S(key), S("rewritten")));
		faulty_apply(&f, prng_chance(&p, 0.1) ? 1 + prng_below(&p, 4) : 0);
		for (int i = 0; i < 4; i++) {
			snprintf(key, sizeof key, "%c%012llu", space[prng_below(&p, 4)],
			         (unsigned long long)prng_below(&p, next[3] + 1));
			model_check_get(&f.model, f.tree, S(key), &f.scratch);
		}
		if (prng_chance(&p, 0.05))
			OK(kv_commit(f.tree, slice_of(&round, sizeof round), prng_chance(&p, 0.5)));
		if (round % 250 == 0)
			faulty_check(&f);
	}
	ck_assert_int_gt(f.failed, 10);
	faulty_check(&f);
	faulty_close(&f);
}
END_TEST

START_TEST(sequential_and_reverse_inserts_then_delete_everything)
{
	struct vfs *v;
	OK(vfs_memory_new(DISK_BYTES, &v));
	struct kv *kv = open_tree(v, 0);
	struct kv_batch b;
	kv_batch_init(&b);
	char key[32];
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < 20000; i++) {
			int k = pass == 0 ? i : 40000 - i;
			snprintf(key, sizeof key, "%08d", k);
			OK(kv_batch_put(&b, S(key), S("value-value-value")));
		}
		OK(kv_apply(kv, &b));
		kv_batch_clear(&b);
		OK(kv_commit(kv, slice_of("", 0), true));
	}
	OK(btree_verify(kv));
	struct kv_stats st;
	OK(kv_stats(kv, &st));
	ck_assert_uint_eq(st.keys, 40000);
	/* appends fill pages: about 40000 * (7+8+17+2) bytes / 4 KiB, far below half full */
	ck_assert_uint_lt(st.pages, 600);
	for (int i = 0; i < 40001; i++) {
		snprintf(key, sizeof key, "%08d", i);
		OK(kv_batch_delete(&b, S(key)));
	}
	OK(kv_apply(kv, &b));
	OK(btree_verify(kv));
	OK(kv_commit(kv, slice_of("", 0), true));
	OK(btree_verify(kv));
	OK(kv_stats(kv, &st));
	ck_assert_uint_eq(st.keys, 0);
	/* every page is free except the meta pages and the (one or two) free-list pages */
	ck_assert_uint_ge(st.free_pages + 2 + 2, st.pages);
	struct kv_iter *it;
	OK(kv_iter_open(kv, NULL, NULL, false, &it));
	struct slice k, val;
	bool done;
	OK(kv_iter_next(it, &k, &val, &done));
	ck_assert(done);
	kv_iter_close(it);
	kv_batch_free(&b);
	kv_close(kv);
	vfs_memory_free(v);
}
END_TEST

/* Every branch and leaf page in the file has zeros between its cell offsets and cells. */
static void check_free_gaps_are_zero(struct vfs *v, uint64_t pages)
{
	struct vfs_file *f;
	OK(vfs_open(v, "tree.db", 0, &f));
	for (uint64_t pgno = 2; pgno < pages; pgno++) {
		uint8_t p[4096];
		OK(vfs_read_exact(f, pgno * 4096, p, sizeof p));
		if (p[12] != 2 && p[12] != 3)
			continue;
		size_t n = (size_t)(p[14] << 8 | p[15]), content = (size_t)(p[16] << 8 | p[17]);
		for (size_t i = 32 + 2 * n; i < content; i++)
			ck_assert_msg(p[i] == 0, "page %llu byte %zu", (unsigned long long)pgno, i);
	}
	vfs_close(f);
}

START_TEST(pages_reach_the_disk_with_zeroed_free_space)
{
	struct vfs *v;
	OK(vfs_memory_new(DISK_BYTES, &v));
	struct kv *kv = open_tree(v, 0);
	struct kv_batch b;
	kv_batch_init(&b);
	struct prng r;
	prng_seed(&r, 7);
	char key[32], value[200];
	memset(value, 'v', sizeof value);
	/* inserts, overwrites of other sizes and deletions: splits, rebuilds and merges */
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 1000; i++) {
			snprintf(key, sizeof key, "%06u", (unsigned)(prng_next(&r) % 5000));
			if (prng_next(&r) % 3 == 0)
				OK(kv_batch_delete(&b, S(key)));
			else
				OK(kv_batch_put(&b, S(key),
				                slice_of(value, 1 + prng_next(&r) % sizeof value)));
		}
		OK(kv_apply(kv, &b));
		kv_batch_clear(&b);
		OK(kv_commit(kv, slice_of("", 0), true));
	}
	OK(btree_verify(kv));
	struct kv_stats st;
	OK(kv_stats(kv, &st));
	kv_batch_free(&b);
	kv_close(kv);
	check_free_gaps_are_zero(v, st.pages);
	vfs_memory_free(v);
}
END_TEST

START_TEST(overwriting_the_same_keys_reaches_a_steady_file_size)
{
	struct vfs *v;
	OK(vfs_memory_new(DISK_BYTES, &v));
	struct kv *kv = open_tree(v, 0);
	struct prng p;
	prng_seed(&p, 11);
	struct kv_batch b;
	kv_batch_init(&b);
	char key[32], value[100];
	memset(value, 'v', sizeof value);
	for (unsigned k = 0; k < 5000; k++) {
		snprintf(key, sizeof key, "key%06u", k);
		OK(kv_batch_put(&b, S(key), slice_of(value, sizeof value)));
	}
	OK(kv_apply(kv, &b));
	kv_batch_clear(&b);
	OK(kv_commit(kv, slice_of("", 0), true));
	uint64_t pages_after[60], live[60];
	for (int round = 0; round < 60; round++) {
		for (int i = 0; i < 500; i++) {
			snprintf(key, sizeof key, "key%06u", (unsigned)prng_below(&p, 5000));
			value[0] = (char)('a' + round % 26);
			OK(kv_batch_put(&b, S(key), slice_of(value, sizeof value)));
		}
		OK(kv_apply(kv, &b));
		kv_batch_clear(&b);
		OK(kv_commit(kv, slice_of("", 0), true));
		struct kv_stats st;
		OK(kv_stats(kv, &st));
		pages_after[round] = st.pages;
		live[round] = st.pages - st.free_pages;
	}
	OK(btree_verify(kv));
	/*
	 * The keys exist, so the file stops growing: freed pages are reused. The file holds
	 * at most the live tree, the pages the last commit freed (one version back) and the
	 * free list, and its size stops moving once the commits have touched every page.
	 */
	ck_assert_uint_le(pages_after[59], 2 * live[59] + 4);
	ck_assert_uint_le(pages_after[59] - pages_after[10], 4);
	kv_batch_free(&b);
	kv_close(kv);
	vfs_memory_free(v);
}
END_TEST

START_TEST(a_flipped_bit_is_err_corrupt_naming_the_page)
{
	struct vfs *v;
	OK(vfs_memory_new(DISK_BYTES, &v));
	struct kv *kv = open_tree(v, 0);
	char key[32];
	struct kv_batch b;
	kv_batch_init(&b);
	for (int i = 0; i < 2000; i++) {
		snprintf(key, sizeof key, "%06d", i);
		OK(kv_batch_put(&b, S(key), S("some value bytes")));
	}
	OK(kv_apply(kv, &b));
	OK(kv_commit(kv, slice_of("", 0), true));
	kv_close(kv);
	/* flip one bit in page 5 behind the engine's back */
	struct vfs_file *f;
	OK(vfs_open(v, "tree.db", 0, &f));
	uint8_t byte;
	OK(vfs_read_exact(f, 5 * 4096 + 1000, &byte, 1));
	byte ^= 0x10;
	OK(vfs_write(f, 5 * 4096 + 1000, &byte, 1));
	OK(vfs_sync(f));
	vfs_close(f);
	kv = open_tree(v, 0);
	err *e = btree_verify(kv);
	ck_assert(err_is(e, ERR_CORRUPT));
	ck_assert_msg(strstr(err_msg(e), "page 5:") != NULL, "message: %s", err_msg(e));
	err_free(e);
	e = NULL;
	/* a full scan hits the page too, and reports instead of returning data */
	struct kv_iter *it;
	OK(kv_iter_open(kv, NULL, NULL, false, &it));
	struct slice k, val;
	bool done = false;
	for (int i = 0; i < 3000 && !done && !e; i++)
		e = kv_iter_next(it, &k, &val, &done);
	ck_assert(err_is(e, ERR_CORRUPT));
	err_free(e);
	kv_iter_close(it);
	kv_batch_free(&b);
	kv_close(kv);
	vfs_memory_free(v);
}
END_TEST

START_TEST(a_file_of_another_format_version_is_refused_by_name)
{
	struct vfs *v;
	OK(vfs_memory_new(DISK_BYTES, &v));
	struct kv *kv = open_tree(v, 0);
	OK(kv_commit(kv, slice_of("", 0), true));
	kv_close(kv);
	/* make both meta pages say version 1, with sound checksums */
	struct vfs_file *f;
	OK(vfs_open(v, "tree.db", 0, &f));
	for (uint64_t slot = 0; slot < 2; slot++) {
		uint8_t page[4096];
		OK(vfs_read_exact(f, slot * 4096, page, sizeof page));
		store_u32be(page + 32 + 8, 1);
		store_u32be(page, checksum32(page + 4, sizeof page - 4));
		OK(vfs_write(f, slot * 4096, page, sizeof page));
	}
	OK(vfs_sync(f));
	vfs_close(f);
	err *e = btree_open(v, "tree.db", NULL, &kv);
	ck_assert(err_is(e, ERR_INVALID));
	ck_assert_msg(strstr(err_msg(e), "format version 1; this build reads version 2") != NULL,
	              "message: %s", err_msg(e));
	err_free(e);
	vfs_memory_free(v);
}
END_TEST

START_TEST(a_file_of_garbage_does_not_open)
{
	struct prng p;
	prng_seed(&p, 123);
	struct vfs *v;
	OK(vfs_memory_new(DISK_BYTES, &v));
	static uint8_t junk[5 * 4096];
	for (int round = 0; round < 50; round++) {
		for (size_t i = 0; i < sizeof junk; i++)
			junk[i] = (uint8_t)prng_next(&p);
		struct vfs_file *f;
		OK(vfs_open(v, "junk.db", VFS_CREATE, &f));
		OK(vfs_write(f, 0, junk, sizeof junk));
		OK(vfs_sync(f));
		vfs_close(f);
		struct kv *kv = NULL;
		err *e = btree_open(v, "junk.db", NULL, &kv);
		ck_assert_msg(err_is(e, ERR_CORRUPT), "opened a file of random bytes");
		ck_assert(strstr(err_msg(e), "no valid meta page") != NULL);
		err_free(e);
		OK(vfs_remove(v, "junk.db"));
	}
	/*
	 * Shorter than two pages: a file creation cut short leaves a prefix of the meta
	 * pages (or nothing, or zeros), which is formatted; other bytes used to be formatted
	 * over too, destroying whatever file had the name.
	 */
	const size_t sizes[] = {1, 100, 6000};
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		struct vfs_file *f;
		OK(vfs_open(v, "short.db", VFS_CREATE, &f));
		OK(vfs_write(f, 0, junk, sizes[i]));
		OK(vfs_sync(f));
		struct kv *kv = NULL;
		err *e = btree_open(v, "short.db", NULL, &kv);
		ck_assert_msg(err_is(e, ERR_CORRUPT), "formatted %zu random bytes", sizes[i]);
		err_free(e);
		uint64_t size;
		OK(vfs_size(f, &size));
		ck_assert_uint_eq(size, sizes[i]); /* left as it was */
		memset(junk, 0, sizes[i]);
		OK(vfs_write(f, 0, junk, sizes[i]));
		OK(vfs_sync(f));
		vfs_close(f);
		OK(btree_open(v, "short.db", NULL, &kv)); /* zeros: a creation cut short */
		kv_close(kv);
		OK(vfs_remove(v, "short.db"));
		for (size_t k = 0; k < sizeof junk; k++)
			junk[k] = (uint8_t)prng_next(&p);
	}
	vfs_memory_free(v);
}
END_TEST

static Suite *btree_suite(void)
{
	Suite *s = suite_create("btree");
	TCase *tc = tcase_create("btree");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, put_get_delete_meta_and_reopen);
	tcase_add_test(tc, a_file_of_another_format_version_is_refused_by_name);
	tcase_add_test(tc, pages_reach_the_disk_with_zeroed_free_space);
	tcase_add_test(tc, overflow_values_and_limits);
	tcase_add_test(tc, property_btree_and_memory_engine_match_the_model);
	tcase_add_test(tc, a_batch_failing_midway_leaves_no_trace);
	tcase_add_test(tc, clustered_batches_match_the_model);
	tcase_add_test(tc, sequential_and_reverse_inserts_then_delete_everything);
	tcase_add_test(tc, overwriting_the_same_keys_reaches_a_steady_file_size);
	tcase_add_test(tc, a_flipped_bit_is_err_corrupt_naming_the_page);
	tcase_add_test(tc, a_file_of_garbage_does_not_open);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(btree_suite());
}
