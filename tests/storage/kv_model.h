/*
 * kv_model.h — a trivially correct reference model of the kv.h contract, for tests.
 *
 * A sorted array of owned (key, value) pairs: binary search, insert and delete by
 * memmove. Slow and obviously right, which is the point: engines are compared against it
 * operation by operation. Header-only so each test binary carries its own copy.
 */
#ifndef CAIRN_TESTS_STORAGE_KV_MODEL_H
#define CAIRN_TESTS_STORAGE_KV_MODEL_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "storage/kv.h"

/*
 * Check's ck_assert() records its location through a syscall on every call; a loop that
 * asserts millions of times spends its time there. MODEL_CHECK costs a branch until it
 * fails, then fails the test like ck_assert_msg().
 */
#define MODEL_CHECK(cond, ...)                     \
	do {                                       \
		if (!(cond))                       \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

struct model_entry {
	uint8_t *key, *value;
	size_t klen, vlen;
};

struct model {
	struct model_entry *e;
	size_t n, cap;
};

static inline struct slice model_key(const struct model *m, size_t i)
{
	return slice_of(m->e[i].key, m->e[i].klen);
}

static inline struct slice model_value(const struct model *m, size_t i)
{
	return slice_of(m->e[i].value, m->e[i].vlen);
}

/* Index of the first key >= k. */
static inline size_t model_lower(const struct model *m, struct slice k)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (slice_cmp(model_key(m, mid), k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static inline uint8_t *model_dup(struct slice s)
{
	uint8_t *p = malloc(s.len ? s.len : 1);
	MODEL_CHECK(p != NULL, "out of memory");
	if (s.len)
		memcpy(p, s.ptr, s.len);
	return p;
}

static inline void model_put(struct model *m, struct slice k, struct slice v)
{
	size_t i = model_lower(m, k);
	if (i < m->n && slice_eq(model_key(m, i), k)) {
		free(m->e[i].value);
		m->e[i].value = model_dup(v);
		m->e[i].vlen = v.len;
		return;
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->e = realloc(m->e, m->cap * sizeof *m->e);
		MODEL_CHECK(m->e != NULL, "out of memory");
	}
	memmove(m->e + i + 1, m->e + i, (m->n - i) * sizeof *m->e);
	m->e[i] = (struct model_entry){model_dup(k), model_dup(v), k.len, v.len};
	m->n++;
}

static inline void model_del(struct model *m, struct slice k)
{
	size_t i = model_lower(m, k);
	if (i == m->n || !slice_eq(model_key(m, i), k))
		return;
	free(m->e[i].key);
	free(m->e[i].value);
	memmove(m->e + i, m->e + i + 1, (m->n - i - 1) * sizeof *m->e);
	m->n--;
}

static inline void model_apply(struct model *m, const struct kv_batch *b)
{
	struct kv_batch_cursor c;
	kv_batch_cursor_init(&c, b);
	enum kv_op op;
	struct slice k, v;
	while (kv_batch_next(&c, &op, &k, &v)) {
		if (op == KV_PUT)
			model_put(m, k, v);
		else
			model_del(m, k);
	}
}

static inline void model_clear(struct model *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->e[i].key);
		free(m->e[i].value);
	}
	m->n = 0;
}

static inline void model_free(struct model *m)
{
	model_clear(m);
	free(m->e);
	m->e = NULL;
	m->cap = 0;
}

static inline void model_copy(struct model *dst, const struct model *src)
{
	model_clear(dst);
	for (size_t i = 0; i < src->n; i++)
		model_put(dst, model_key(src, i), model_value(src, i));
}

/*
 * Checks that iterating `kv` over [from, to) (NULL = unbounded) in the given direction
 * yields exactly the model's entries in that range, in order.
 */
static inline void model_check_range(const struct model *m, struct kv *kv, const struct slice *from,
                                     const struct slice *to, bool reverse)
{
	size_t lo = from ? model_lower(m, *from) : 0;
	size_t hi = to ? model_lower(m, *to) : m->n;
	if (hi < lo)
		hi = lo;
	struct kv_iter *it;
	ck_assert_ptr_null(kv_iter_open(kv, from, to, reverse, &it));
	for (size_t step = 0; step < hi - lo; step++) {
		size_t i = reverse ? hi - 1 - step : lo + step;
		struct slice k, v;
		bool done;
		err *e = kv_iter_next(it, &k, &v, &done);
		MODEL_CHECK(e == NULL, "iterator failed: %s", err_msg(e));
		MODEL_CHECK(!done, "iterator ended early at step %zu of %zu", step, hi - lo);
		MODEL_CHECK(slice_eq(k, model_key(m, i)), "key differs at step %zu", step);
		MODEL_CHECK(slice_eq(v, model_value(m, i)), "value differs at step %zu", step);
	}
	struct slice k, v;
	bool done;
	ck_assert_ptr_null(kv_iter_next(it, &k, &v, &done));
	ck_assert_msg(done, "iterator yields more than the model holds");
	kv_iter_close(it);
}

/* Checks a point lookup of k in kv against the model. */
static inline void model_check_get(const struct model *m, struct kv *kv, struct slice k,
                                   struct buf *scratch)
{
	bool found;
	err *e = kv_get(kv, k, scratch, &found);
	MODEL_CHECK(e == NULL, "get failed: %s", err_msg(e));
	size_t i = model_lower(m, k);
	bool want = i < m->n && slice_eq(model_key(m, i), k);
	MODEL_CHECK(found == want, "get: found %d, model %d", found, want);
	MODEL_CHECK(!want || slice_eq(buf_slice(scratch), model_value(m, i)), "get: value differs");
}

#endif
