/*
 * The B+-tree at scale, on the memory vfs (a disk without the kernel's cost, so the test
 * measures the engine): 1,000,000 keys loaded in key order in batches of 10,000 with a
 * synced commit each, random point reads, a full ordered scan, half the keys deleted, the file reopened and the whole tree verified (checksums, order,
 * page accounting), and the file size held while the survivors are overwritten.
 *
 * CAIRN_SCALE_KEYS overrides the number of keys (for a quick local run); the suite
 * 'storage-scale' runs it with the full million.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/prng.h"
#include "check_main.h"
#include "storage/btree.h"
#include "storage/vfs_memory.h"

#define OK(expr) ck_assert_ptr_null(expr)
/* For the million-fold loops: Check's assertions cost a syscall each, this one a branch. */
#define QUICK_OK(expr)                                         \
	do {                                                   \
		err *quick_e_ = (expr);                        \
		if (quick_e_)                                  \
			ck_abort_msg("%s", err_msg(quick_e_)); \
	} while (0)
#define BATCH 10000

static uint64_t scale_keys(void)
{
	const char *env = getenv("CAIRN_SCALE_KEYS");
	uint64_t n = env ? strtoull(env, NULL, 10) : 0;
	return n ? n : 1000000;
}

static void key_of(uint64_t i, char out[17])
{
	snprintf(out, 17, "%016llx", (unsigned long long)i);
}

static void value_of(uint64_t i, unsigned round, uint8_t out[100])
{
	memset(out, (int)('a' + (i + round) % 26), 100);
	memcpy(out, &i, sizeof i);
}

START_TEST(a_million_keys)
{
	uint64_t n = scale_keys();
	struct vfs *v;
	OK(vfs_memory_new((size_t)1 << 30, &v));
	struct btree_options o = {.cache_bytes = (size_t)64 << 20};
	struct kv *kv;
	OK(btree_open(v, "scale.db", &o, &kv));
	struct kv_batch b;
	kv_batch_init(&b);
	char key[17];
	uint8_t value[100];
	/* a bulk load in key order (random-order inserts at this scale: cairn-bench storage) */
	for (uint64_t i = 0; i < n; i++) {
		key_of(i, key);
		value_of(i, 0, value);
		QUICK_OK(kv_batch_put(&b, slice_of(key, 16), slice_of(value, 100)));
		if (b.count == BATCH || i + 1 == n) {
			OK(kv_apply(kv, &b));
			OK(kv_commit(kv, slice_of(&i, sizeof i), true));
			kv_batch_clear(&b);
		}
	}
	struct prng p;
	prng_seed(&p, 1);
	struct buf out;
	buf_init(&out, KV_VALUE_MAX);
	int bad = 0;
	for (int r = 0; r < 200000; r++) {
		uint64_t i = prng_below(&p, n);
		key_of(i, key);
		value_of(i, 0, value);
		bool found;
		QUICK_OK(kv_get(kv, slice_of(key, 16), &out, &found));
		bad += !found || !slice_eq(buf_slice(&out), slice_of(value, 100));
	}
	ck_assert_int_eq(bad, 0);

	/* a full ordered scan sees every key once, in order */
	struct kv_iter *it;
	OK(kv_iter_open(kv, NULL, NULL, false, &it));
	uint64_t seen = 0;
	for (;; seen++) {
		struct slice k, val;
		bool done;
		QUICK_OK(kv_iter_next(it, &k, &val, &done));
		if (done)
			break;
		char want[17];
		key_of(seen, want);
		bad += seen >= n || k.len != 16 || memcmp(k.ptr, want, 16) != 0 || val.len != 100;
	}
	kv_iter_close(it);
	ck_assert_int_eq(bad, 0);
	ck_assert_uint_eq(seen, n);

	/* delete every even key */
	for (uint64_t i = 0; i < n; i += 2) {
		key_of(i, key);
		QUICK_OK(kv_batch_delete(&b, slice_of(key, 16)));
		if (b.count == BATCH || i + 2 >= n) {
			OK(kv_apply(kv, &b));
			OK(kv_commit(kv, slice_of(&i, sizeof i), true));
			kv_batch_clear(&b);
		}
	}
	kv_close(kv);

	OK(btree_open(v, "scale.db", &o, &kv));
	OK(btree_verify(kv));
	struct kv_stats st;
	OK(kv_stats(kv, &st));
	ck_assert_uint_eq(st.keys, n / 2);
	for (int r = 0; r < 100000; r++) {
		uint64_t i = prng_below(&p, n);
		key_of(i, key);
		bool found;
		QUICK_OK(kv_get(kv, slice_of(key, 16), &out, &found));
		bad += found != (i % 2 == 1);
	}
	ck_assert_int_eq(bad, 0);

	/* overwriting the survivors twice: the second pass reuses the pages the first freed */
	uint64_t pages[2];
	for (unsigned round = 1; round <= 2; round++) {
		for (uint64_t i = 1; i < n; i += 2) {
			key_of(i, key);
			value_of(i, round, value);
			QUICK_OK(kv_batch_put(&b, slice_of(key, 16), slice_of(value, 100)));
			if (b.count == BATCH || i + 2 >= n) {
				OK(kv_apply(kv, &b));
				OK(kv_commit(kv, slice_of("", 0), true));
				kv_batch_clear(&b);
			}
		}
		OK(kv_stats(kv, &st));
		pages[round - 1] = st.pages;
	}
	ck_assert_uint_le(pages[1], pages[0] + pages[0] / 100);
	OK(btree_verify(kv));
	kv_close(kv);
	buf_free(&out);
	kv_batch_free(&b);
	OK(vfs_remove(v, "scale.db"));
	ck_assert_uint_eq(vfs_memory_bytes(v), 0);
	vfs_memory_free(v);
}
END_TEST

static Suite *scale_suite(void)
{
	Suite *s = suite_create("btree_scale");
	TCase *tc = tcase_create("btree_scale");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, a_million_keys);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(scale_suite());
}
