/*
 * Tests for the memory KV engine: the kv.h contract (batches, later-op-wins, metadata,
 * bounded forward and reverse ranges, stats, limits) and a randomized comparison against a
 * plain sorted-array model, plus a scale test with a few hundred thousand keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/prng.h"
#include "check_main.h"
#include "storage/kv_memory.h"

#define MODEL_MAX 512

/* The model: a sorted array of (key, value) pairs, small enough to search linearly. */
struct model {
	int count;
	struct {
		uint8_t key[8];
		size_t key_len;
		uint32_t value;
	} e[MODEL_MAX];
};

static int model_find(const struct model *m, struct slice key, int *pos)
{
	int i = 0;
	while (i < m->count && slice_cmp(slice_of(m->e[i].key, m->e[i].key_len), key) < 0)
		i++;
	*pos = i;
	return i < m->count && slice_eq(slice_of(m->e[i].key, m->e[i].key_len), key);
}

static void model_put(struct model *m, struct slice key, uint32_t value)
{
	int pos;
	if (!model_find(m, key, &pos)) {
		ck_assert_int_lt(m->count, MODEL_MAX);
		memmove(&m->e[pos + 1], &m->e[pos], (size_t)(m->count - pos) * sizeof m->e[0]);
		m->count++;
		memcpy(m->e[pos].key, key.ptr, key.len);
		m->e[pos].key_len = key.len;
	}
	m->e[pos].value = value;
}

static void model_delete(struct model *m, struct slice key)
{
	int pos;
	if (model_find(m, key, &pos)) {
		memmove(&m->e[pos], &m->e[pos + 1], (size_t)(m->count - pos - 1) * sizeof m->e[0]);
		m->count--;
	}
}

static struct kv *open_kv(void)
{
	struct kv *kv;
	ck_assert_ptr_null(kvmem_open(&kv));
	ck_assert_ptr_nonnull(kv);
	return kv;
}

static struct slice s(const char *str)
{
	return slice_of(str, strlen(str));
}

/* Concatenates the keys of a scan, separated by commas, into out. */
static void scan_keys(struct kv *kv, const char *from, const char *to, bool reverse, char *out,
                      size_t out_size)
{
	struct slice f = from ? s(from) : slice_of(NULL, 0);
	struct slice t = to ? s(to) : slice_of(NULL, 0);
	struct kv_iter *it;
	ck_assert_ptr_null(kv_iter_open(kv, from ? &f : NULL, to ? &t : NULL, reverse, &it));
	out[0] = 0;
	for (;;) {
		struct slice k, v;
		bool done;
		ck_assert_ptr_null(kv_iter_next(it, &k, &v, &done));
		if (done)
			break;
		size_t len = strlen(out);
		ck_assert_uint_lt(len + k.len + 2, out_size);
		if (len)
			out[len++] = ',';
		memcpy(out + len, k.ptr, k.len);
		out[len + k.len] = 0;
	}
	kv_iter_close(it);
}

START_TEST(put_get_overwrite_delete)
{
	struct kv *kv = open_kv();
	struct buf v;
	buf_init(&v, 1024);
	bool found;
	ck_assert_ptr_null(kv_get(kv, s("a"), &v, &found));
	ck_assert(!found);
	ck_assert_ptr_null(kv_put(kv, s("a"), s("1")));
	ck_assert_ptr_null(kv_put(kv, s("b"), s("")));
	ck_assert_ptr_null(kv_get(kv, s("a"), &v, &found));
	ck_assert(found);
	ck_assert(slice_eq(buf_slice(&v), s("1")));
	ck_assert_ptr_null(kv_get(kv, s("b"), &v, &found));
	ck_assert(found);
	ck_assert_uint_eq(v.len, 0);
	ck_assert_ptr_null(kv_put(kv, s("a"), s("22")));
	ck_assert_ptr_null(kv_get(kv, s("a"), &v, &found));
	ck_assert(slice_eq(buf_slice(&v), s("22")));
	ck_assert_ptr_null(kv_delete(kv, s("a")));
	ck_assert_ptr_null(kv_delete(kv, s("never-there")));
	ck_assert_ptr_null(kv_get(kv, s("a"), &v, &found));
	ck_assert(!found);
	struct kv_stats st;
	ck_assert_ptr_null(kv_stats(kv, &st));
	ck_assert_uint_eq(st.keys, 1);
	ck_assert_uint_eq(st.key_bytes, 1);
	ck_assert_uint_eq(st.value_bytes, 0);
	ck_assert_uint_eq(st.pages, 0);
	buf_free(&v);
	kv_close(kv);
}
END_TEST

START_TEST(batch_applies_in_order_later_ops_win)
{
	struct kv *kv = open_kv();
	struct kv_batch b;
	kv_batch_init(&b);
	ck_assert_ptr_null(kv_batch_put(&b, s("x"), s("1")));
	ck_assert_ptr_null(kv_batch_put(&b, s("y"), s("1")));
	ck_assert_ptr_null(kv_batch_delete(&b, s("x")));
	ck_assert_ptr_null(kv_batch_put(&b, s("y"), s("2")));
	ck_assert_ptr_null(kv_batch_put(&b, s("z"), s("3")));
	ck_assert_ptr_null(kv_batch_delete(&b, s("z")));
	ck_assert_ptr_null(kv_batch_put(&b, s("z"), s("4")));
	ck_assert_ptr_null(kv_apply(kv, &b));
	char keys[64];
	scan_keys(kv, NULL, NULL, false, keys, sizeof keys);
	ck_assert_str_eq(keys, "y,z");
	struct buf v;
	buf_init(&v, 64);
	bool found;
	ck_assert_ptr_null(kv_get(kv, s("y"), &v, &found));
	ck_assert(found && slice_eq(buf_slice(&v), s("2")));
	ck_assert_ptr_null(kv_get(kv, s("z"), &v, &found));
	ck_assert(found && slice_eq(buf_slice(&v), s("4")));
	/* an empty batch is fine and changes nothing */
	kv_batch_clear(&b);
	ck_assert_ptr_null(kv_apply(kv, &b));
	scan_keys(kv, NULL, NULL, false, keys, sizeof keys);
	ck_assert_str_eq(keys, "y,z");
	buf_free(&v);
	kv_batch_free(&b);
	kv_close(kv);
}
END_TEST

START_TEST(ranges_forward_and_reverse_with_null_bounds)
{
	struct kv *kv = open_kv();
	const char *keys[] = {"b", "a", "ab", "c", "abc", "d"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		ck_assert_ptr_null(kv_put(kv, s(keys[i]), s(keys[i])));
	char out[128];
	scan_keys(kv, NULL, NULL, false, out, sizeof out);
	ck_assert_str_eq(out, "a,ab,abc,b,c,d");
	scan_keys(kv, NULL, NULL, true, out, sizeof out);
	ck_assert_str_eq(out, "d,c,b,abc,ab,a");
	scan_keys(kv, "ab", "c", false, out, sizeof out);
	ck_assert_str_eq(out, "ab,abc,b");
	scan_keys(kv, "ab", "c", true, out, sizeof out);
	ck_assert_str_eq(out, "b,abc,ab");
	scan_keys(kv, "aa", NULL, false, out, sizeof out);
	ck_assert_str_eq(out, "ab,abc,b,c,d");
	scan_keys(kv, NULL, "abc", true, out, sizeof out);
	ck_assert_str_eq(out, "ab,a");
	scan_keys(kv, "c", "c", false, out, sizeof out);
	ck_assert_str_eq(out, "");
	scan_keys(kv, "d", "a", true, out, sizeof out);
	ck_assert_str_eq(out, "");
	scan_keys(kv, "e", NULL, false, out, sizeof out);
	ck_assert_str_eq(out, "");
	scan_keys(kv, NULL, "a", true, out, sizeof out);
	ck_assert_str_eq(out, "");
	kv_close(kv);
}
END_TEST

START_TEST(commit_records_metadata)
{
	struct kv *kv = open_kv();
	struct buf m;
	buf_init(&m, KV_META_MAX);
	ck_assert_ptr_null(kv_meta(kv, &m));
	ck_assert_uint_eq(m.len, 0);
	ck_assert_ptr_null(kv_put(kv, s("k"), s("v")));
	ck_assert_ptr_null(kv_commit(kv, s("applied=7"), true));
	ck_assert_ptr_null(kv_meta(kv, &m));
	ck_assert(slice_eq(buf_slice(&m), s("applied=7")));
	ck_assert_ptr_null(kv_commit(kv, s("applied=9"), false));
	ck_assert_ptr_null(kv_meta(kv, &m));
	ck_assert(slice_eq(buf_slice(&m), s("applied=9")));
	uint8_t big[KV_META_MAX + 1] = {0};
	err *e = kv_commit(kv, slice_of(big, sizeof big), true);
	ck_assert(err_is(e, ERR_LIMIT));
	err_free(e);
	ck_assert_ptr_null(kv_meta(kv, &m));
	ck_assert(slice_eq(buf_slice(&m), s("applied=9")));
	struct kv_stats st;
	ck_assert_ptr_null(kv_stats(kv, &st));
	ck_assert_uint_eq(st.commits, 2);
	buf_free(&m);
	kv_close(kv);
}
END_TEST

START_TEST(limits_are_errors)
{
	struct kv *kv = open_kv();
	uint8_t *big = calloc(1, KV_VALUE_MAX + 1);
	err *e = kv_put(kv, slice_of(big, KV_KEY_MAX + 1), s("v"));
	ck_assert(err_is(e, ERR_LIMIT));
	err_free(e);
	e = kv_put(kv, s("k"), slice_of(big, KV_VALUE_MAX + 1));
	ck_assert(err_is(e, ERR_LIMIT));
	err_free(e);
	e = kv_put(kv, slice_of(NULL, 0), s("v"));
	ck_assert(err_is(e, ERR_INVALID));
	err_free(e);
	/* the largest key and value are fine */
	big[0] = 1;
	ck_assert_ptr_null(kv_put(kv, slice_of(big, KV_KEY_MAX), slice_of(big, KV_VALUE_MAX)));
	struct buf v;
	buf_init(&v, KV_VALUE_MAX);
	bool found;
	ck_assert_ptr_null(kv_get(kv, slice_of(big, KV_KEY_MAX), &v, &found));
	ck_assert(found);
	ck_assert_uint_eq(v.len, KV_VALUE_MAX);
	/* a value larger than the caller's buffer is the caller's ERR_LIMIT, not a crash */
	struct buf small;
	buf_init(&small, 16);
	e = kv_get(kv, slice_of(big, KV_KEY_MAX), &small, &found);
	ck_assert(err_is(e, ERR_LIMIT));
	err_free(e);
	buf_free(&small);
	buf_free(&v);
	free(big);
	kv_close(kv);
}
END_TEST

START_TEST(iterator_closed_after_apply_is_fine)
{
	struct kv *kv = open_kv();
	ck_assert_ptr_null(kv_put(kv, s("a"), s("1")));
	struct kv_iter *it;
	ck_assert_ptr_null(kv_iter_open(kv, NULL, NULL, false, &it));
	struct slice k, v;
	bool done;
	ck_assert_ptr_null(kv_iter_next(it, &k, &v, &done));
	ck_assert(!done && slice_eq(k, s("a")));
	ck_assert_ptr_null(kv_put(kv, s("b"), s("2")));
	/* the iterator is stale now: closing it is the only thing allowed */
	kv_iter_close(it);
	kv_close(kv);
}
END_TEST

/* Random small keys over a tiny alphabet so prefixes and collisions are common. */
static size_t random_key(struct prng *p, uint8_t *key)
{
	size_t len = 1 + prng_below(p, 3);
	for (size_t i = 0; i < len; i++)
		key[i] = (uint8_t)prng_below(p, 6);
	return len;
}

/*
 * The next entry of `it` into *k and *v, or false at its end; a failing iterator aborts the
 * test. For hot loops: it asserts only on failure (Check's asserts are slow).
 */
static bool next_or_abort(struct kv_iter *it, struct slice *k, struct slice *v)
{
	bool done;
	err *e = kv_iter_next(it, k, v, &done);
	if (e)
		ck_abort_msg("iterator failed: %s", err_msg(e));
	return !done;
}

static void check_scan_against_model(struct kv *kv, const struct model *m, struct prng *p)
{
	uint8_t fk[8], tk[8];
	struct slice f = slice_of(fk, random_key(p, fk));
	struct slice t = slice_of(tk, random_key(p, tk));
	bool use_from = prng_chance(p, 0.7), use_to = prng_chance(p, 0.7);
	bool reverse = prng_chance(p, 0.5);
	int expect[MODEL_MAX], n = 0;
	for (int i = 0; i < m->count; i++) {
		struct slice k = slice_of(m->e[i].key, m->e[i].key_len);
		if (use_from && slice_cmp(k, f) < 0)
			continue;
		if (use_to && slice_cmp(k, t) >= 0)
			continue;
		expect[n++] = i;
	}
	struct kv_iter *it;
	ck_assert_ptr_null(
	    kv_iter_open(kv, use_from ? &f : NULL, use_to ? &t : NULL, reverse, &it));
	/* mismatches are counted, not asserted one by one: Check's asserts are slow */
	int got = 0, wrong = 0;
	struct slice k, v;
	while (next_or_abort(it, &k, &v)) {
		if (got < n) {
			int i = expect[reverse ? n - 1 - got : got];
			wrong += !slice_eq(k, slice_of(m->e[i].key, m->e[i].key_len)) ||
			         v.len != 4 || load_u32be(v.ptr) != m->e[i].value;
		}
		got++;
	}
	kv_iter_close(it);
	ck_assert_int_eq(got, n);
	ck_assert_int_eq(wrong, 0);
}

START_TEST(randomized_against_a_model)
{
	struct prng p;
	prng_seed(&p, 11);
	struct kv *kv = open_kv();
	struct model *m = calloc(1, sizeof *m);
	struct kv_batch b;
	kv_batch_init(&b);
	for (int round = 0; round < 2000; round++) {
		kv_batch_clear(&b);
		int ops = (int)prng_below(&p, 6);
		for (int i = 0; i < ops; i++) {
			uint8_t key[8], val[4];
			struct slice k = slice_of(key, random_key(&p, key));
			if (prng_chance(&p, 0.65)) {
				uint32_t x = (uint32_t)prng_next(&p);
				store_u32be(val, x);
				ck_assert_ptr_null(kv_batch_put(&b, k, slice_of(val, 4)));
				model_put(m, k, x);
			} else {
				ck_assert_ptr_null(kv_batch_delete(&b, k));
				model_delete(m, k);
			}
		}
		ck_assert_ptr_null(kv_apply(kv, &b));
		check_scan_against_model(kv, m, &p);
		struct kv_stats st;
		ck_assert_ptr_null(kv_stats(kv, &st));
		ck_assert_uint_eq(st.keys, (uint64_t)m->count);
		ck_assert_uint_eq(st.value_bytes, 4u * (uint64_t)m->count);
	}
	kv_batch_free(&b);
	free(m);
	kv_close(kv);
}
END_TEST

/*
 * Ascending runs, the order the engine's finger serves (a write above the last written key
 * descends from that key's predecessors): runs of puts and deletes with rising keys from
 * random starting points, some runs touching keys just written, checked against the model.
 */
START_TEST(ascending_runs_against_a_model)
{
	struct prng p;
	prng_seed(&p, 12);
	struct kv *kv = open_kv();
	struct model *m = calloc(1, sizeof *m);
	struct kv_batch b;
	kv_batch_init(&b);
	for (int round = 0; round < 1500; round++) {
		kv_batch_clear(&b);
		int ops = 1 + (int)prng_below(&p, 8);
		uint8_t key[8];
		size_t len = random_key(&p, key);
		for (int i = 0; i < ops; i++) {
			struct slice k = slice_of(key, len);
			if (prng_chance(&p, 0.7)) {
				uint8_t val[4];
				uint32_t x = (uint32_t)prng_next(&p);
				store_u32be(val, x);
				ck_assert_ptr_null(kv_batch_put(&b, k, slice_of(val, 4)));
				model_put(m, k, x);
			} else {
				ck_assert_ptr_null(kv_batch_delete(&b, k));
				model_delete(m, k);
			}
			/* the next key: an extension (just above) or a larger last byte */
			if (len < 3 && prng_chance(&p, 0.4))
				key[len++] = (uint8_t)prng_below(&p, 6);
			else if (key[len - 1] < 5)
				key[len - 1] += (uint8_t)(1 + prng_below(&p, 5 - key[len - 1]));
			else
				break;
		}
		ck_assert_ptr_null(kv_apply(kv, &b));
		check_scan_against_model(kv, m, &p);
		struct kv_stats st;
		ck_assert_ptr_null(kv_stats(kv, &st));
		ck_assert_uint_eq(st.keys, (uint64_t)m->count);
	}
	kv_batch_free(&b);
	free(m);
	kv_close(kv);
}
END_TEST

/* Whether (k, v) is what the i-th key in ascending order should be. */
typedef bool (*key_at_fn)(struct slice k, struct slice v, uint64_t i);

/*
 * Iterates the whole engine forwards and backwards: `count` keys each way, each the one
 * at_position() expects there (mismatches counted, not asserted one by one: Check's
 * asserts are slow in a hot loop).
 */
static void check_all_keys_both_ways(struct kv *kv, uint64_t count, key_at_fn at_position)
{
	for (int reverse = 0; reverse < 2; reverse++) {
		struct kv_iter *it;
		ck_assert_ptr_null(kv_iter_open(kv, NULL, NULL, reverse, &it));
		uint64_t n = 0, misplaced = 0;
		struct slice k, v;
		while (next_or_abort(it, &k, &v)) {
			misplaced += n >= count || !at_position(k, v, reverse ? count - 1 - n : n);
			n++;
		}
		kv_iter_close(it);
		ck_assert_uint_eq(n, count);
		ck_assert_uint_eq(misplaced, 0);
	}
}

/*
 * Keys on both sides of the finger's length limit (256 bytes: a longer key leaves no
 * finger), written in ascending runs and read back: puts and gets of mixed lengths in
 * key order, every other key deleted from the top down, the rest in order both ways.
 */
static size_t long_key(uint8_t *key, uint32_t i)
{
	static const size_t lengths[] = {4, 200, 255, 256, 257, 300, 1024};
	size_t len = lengths[i % (sizeof lengths / sizeof lengths[0])];
	memset(key, 'x' + (int)(i % 3), len);
	store_u32be(key, i); /* the order is i's whatever the length */
	return len;
}

/* The i-th key left after deleting the odd ones: long key 2i, valued 2i. */
static bool is_even_long_key(struct slice k, struct slice v, uint64_t i)
{
	uint8_t key[KV_KEY_MAX];
	uint32_t want = (uint32_t)(2 * i);
	size_t len = long_key(key, want);
	return k.len == len && memcmp(k.ptr, key, len) == 0 && v.len == 4 &&
	       load_u32be(v.ptr) == want;
}

START_TEST(keys_longer_than_the_finger_keeps)
{
	enum { N = 700 };
	struct kv *kv = open_kv();
	uint8_t key[KV_KEY_MAX], val[4];
	for (uint32_t i = 0; i < N; i++) {
		store_u32be(val, i);
		ck_assert_ptr_null(kv_put(kv, slice_of(key, long_key(key, i)), slice_of(val, 4)));
	}
	for (uint32_t i = 0; i < N; i++) {
		struct buf v;
		buf_init(&v, 16);
		bool found;
		ck_assert_ptr_null(kv_get(kv, slice_of(key, long_key(key, i)), &v, &found));
		ck_assert(found && v.len == 4 && load_u32be(v.data) == i);
		buf_free(&v);
	}
	for (uint32_t i = N; i-- > 0;)
		if (i % 2)
			ck_assert_ptr_null(kv_delete(kv, slice_of(key, long_key(key, i))));
	check_all_keys_both_ways(kv, N / 2, is_even_long_key);
	kv_close(kv);
}
END_TEST

/* The i-th key of scale_many_keys: i as 8 big-endian bytes. */
static bool is_u64_key(struct slice k, struct slice v, uint64_t i)
{
	(void)v;
	return k.len == 8 && load_u64be(k.ptr) == i;
}

/* Scale: 200,000 keys inserted in a scrambled order come back sorted, both ways. */
START_TEST(scale_many_keys)
{
	enum { N = 200000 };
	struct kv *kv = open_kv();
	struct kv_batch b;
	kv_batch_init(&b);
	for (uint64_t i = 0; i < N; i++) {
		uint8_t key[8];
		store_u64be(key, (i * 7919) % N); /* 7919 is prime and coprime with N */
		err *e = kv_batch_put(&b, slice_of(key, 8), slice_of(key, 8));
		if (e)
			ck_abort_msg("batch put failed: %s", err_msg(e));
		if (b.count == 1000) {
			ck_assert_ptr_null(kv_apply(kv, &b));
			kv_batch_clear(&b);
		}
	}
	ck_assert_ptr_null(kv_apply(kv, &b));
	check_all_keys_both_ways(kv, N, is_u64_key);
	struct kv_stats st;
	ck_assert_ptr_null(kv_stats(kv, &st));
	ck_assert_uint_eq(st.keys, N);
	kv_batch_free(&b);
	kv_close(kv);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("kv_memory");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, put_get_overwrite_delete);
	tcase_add_test(tc, batch_applies_in_order_later_ops_win);
	tcase_add_test(tc, ranges_forward_and_reverse_with_null_bounds);
	tcase_add_test(tc, commit_records_metadata);
	tcase_add_test(tc, limits_are_errors);
	tcase_add_test(tc, iterator_closed_after_apply_is_fine);
	tcase_add_test(tc, randomized_against_a_model);
	tcase_add_test(tc, ascending_runs_against_a_model);
	tcase_add_test(tc, keys_longer_than_the_finger_keeps);
	tcase_add_test(tc, scale_many_keys);
	suite_add_tcase(suite, tc);
	return check_run(suite);
}
