/*
 * Tests for the order-preserving key encoding: a property test over thousands of random
 * tuples (memcmp order of encodings equals value order; decoding is exact), the documented
 * edge cases (-0.0, infinities, NaN, embedded NULs, integer extremes), malformed input, and
 * keycode_prefix_end().
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "base/prng.h"
#include "check_main.h"
#include "storage/keycode.h"

#define OK(expr) ck_assert_ptr_null(expr)

struct val {
	enum keycode_type type;
	bool b;
	int64_t i;
	double f;
	uint64_t u;
	uint8_t bytes[12];
	size_t len;
};

static const enum keycode_type types[] = {KEYCODE_NULL,   KEYCODE_BOOL,  KEYCODE_INT, KEYCODE_FLOAT,
                                          KEYCODE_STRING, KEYCODE_BYTES, KEYCODE_U64};

static double random_float(struct prng *p)
{
	static const double edges[] = {0.0,    -0.0,     1.0,       -1.0, 1e-310, -1e-310, 1e308,
	                               -1e308, INFINITY, -INFINITY, NAN,  -NAN,   0.5,     -0.5};
	if (prng_chance(p, 0.4))
		return edges[prng_below(p, sizeof edges / sizeof edges[0])];
	if (prng_chance(p, 0.5))
		return (double)prng_between(p, -5, 5) / 2.0;
	uint64_t bits = prng_next(p);
	double d;
	memcpy(&d, &bits, sizeof d);
	return d;
}

static int64_t random_int(struct prng *p)
{
	static const int64_t edges[] = {INT64_MIN,     INT64_MIN + 1, -1,  0,   1,
	                                INT64_MAX - 1, INT64_MAX,     255, 256, -256};
	if (prng_chance(p, 0.3))
		return edges[prng_below(p, sizeof edges / sizeof edges[0])];
	if (prng_chance(p, 0.5))
		return prng_between(p, -3, 3);
	return (int64_t)prng_next(p);
}

static void random_val(struct prng *p, struct val *v)
{
	memset(v, 0, sizeof *v);
	v->type = types[prng_below(p, sizeof types / sizeof types[0])];
	static const uint8_t alphabet[] = {0x00, 0x01, 0xFF, 'a', 'b', 0xFE};
	switch (v->type) {
	case KEYCODE_NULL: break;
	case KEYCODE_BOOL: v->b = prng_chance(p, 0.5); break;
	case KEYCODE_INT: v->i = random_int(p); break;
	case KEYCODE_FLOAT: v->f = random_float(p); break;
	case KEYCODE_STRING:
	case KEYCODE_BYTES:
		v->len = (size_t)prng_below(p, 5);
		for (size_t i = 0; i < v->len; i++)
			v->bytes[i] = alphabet[prng_below(p, sizeof alphabet)];
		break;
	case KEYCODE_U64: v->u = prng_chance(p, 0.2) ? UINT64_MAX : prng_below(p, 1000); break;
	}
}

static int sign(int64_t x)
{
	return (x > 0) - (x < 0);
}

/* The model's order: by type tag, then by value (NaN above +inf, -0.0 equal to +0.0). */
static int cmp_val(const struct val *a, const struct val *b)
{
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	switch (a->type) {
	case KEYCODE_NULL: return 0;
	case KEYCODE_BOOL: return (int)a->b - (int)b->b;
	case KEYCODE_INT: return (a->i > b->i) - (a->i < b->i);
	case KEYCODE_FLOAT:
		if (isnan(a->f) || isnan(b->f)) /* NaN equals NaN and is above all else */
			return (isnan(a->f) ? 1 : 0) - (isnan(b->f) ? 1 : 0);
		return (a->f > b->f) - (a->f < b->f);
	case KEYCODE_STRING:
	case KEYCODE_BYTES:
		return slice_cmp(slice_of(a->bytes, a->len), slice_of(b->bytes, b->len));
	case KEYCODE_U64: return (a->u > b->u) - (a->u < b->u);
	}
	ck_abort_msg("unknown type");
	return 0;
}

static void put_val(struct buf *out, const struct val *v)
{
	switch (v->type) {
	case KEYCODE_NULL: OK(keycode_put_null(out)); break;
	case KEYCODE_BOOL: OK(keycode_put_bool(out, v->b)); break;
	case KEYCODE_INT: OK(keycode_put_int(out, v->i)); break;
	case KEYCODE_FLOAT: OK(keycode_put_float(out, v->f)); break;
	case KEYCODE_STRING: OK(keycode_put_string(out, slice_of(v->bytes, v->len))); break;
	case KEYCODE_BYTES: OK(keycode_put_bytes(out, slice_of(v->bytes, v->len))); break;
	case KEYCODE_U64: OK(keycode_put_u64(out, v->u)); break;
	}
}

/* Checks the decoded value is exactly the encoded one (after canonicalisation). */
static void check_decoded(const struct val *want, const struct keycode_value *got)
{
	ck_assert_int_eq(got->type, want->type);
	switch (want->type) {
	case KEYCODE_NULL: break;
	case KEYCODE_BOOL: ck_assert_int_eq(got->b, want->b); break;
	case KEYCODE_INT: ck_assert_int_eq(got->i, want->i); break;
	case KEYCODE_FLOAT:
		if (isnan(want->f)) {
			ck_assert(isnan(got->f));
		} else if (want->f == 0.0) {
			ck_assert(got->f == 0.0 && !signbit(got->f));
		} else {
			ck_assert(memcmp(&got->f, &want->f, sizeof(double)) == 0);
		}
		break;
	case KEYCODE_STRING:
	case KEYCODE_BYTES:
		ck_assert_uint_eq(got->bytes.len, want->len);
		ck_assert(want->len == 0 || memcmp(got->bytes.data, want->bytes, want->len) == 0);
		break;
	case KEYCODE_U64: ck_assert_uint_eq(got->u, want->u); break;
	}
}

#define TUPLE_MAX 4

struct tuple {
	struct val v[TUPLE_MAX];
	size_t n;
};

static int cmp_tuple(const struct tuple *a, const struct tuple *b)
{
	for (size_t i = 0; i < a->n && i < b->n; i++) {
		int c = cmp_val(&a->v[i], &b->v[i]);
		if (c)
			return c;
	}
	return (a->n > b->n) - (a->n < b->n);
}

START_TEST(memcmp_order_is_value_order_and_decoding_is_exact)
{
	struct prng p;
	prng_seed(&p, 20261121);
	struct buf ea, eb;
	buf_init(&ea, 4096);
	buf_init(&eb, 4096);
	struct keycode_value got;
	keycode_value_init(&got);
	for (int round = 0; round < 20000; round++) {
		struct tuple a, b;
		a.n = 1 + (size_t)prng_below(&p, TUPLE_MAX);
		b.n = 1 + (size_t)prng_below(&p, TUPLE_MAX);
		for (size_t i = 0; i < TUPLE_MAX; i++) {
			random_val(&p, &a.v[i]);
			random_val(&p, &b.v[i]);
		}
		/* often share a prefix so later elements decide */
		size_t shared = (size_t)prng_below(&p, TUPLE_MAX + 1);
		for (size_t i = 0; i < shared; i++)
			b.v[i] = a.v[i];
		buf_clear(&ea);
		buf_clear(&eb);
		for (size_t i = 0; i < a.n; i++)
			put_val(&ea, &a.v[i]);
		for (size_t i = 0; i < b.n; i++)
			put_val(&eb, &b.v[i]);
		int want = cmp_tuple(&a, &b);
		int have = slice_cmp(buf_slice(&ea), buf_slice(&eb));
		ck_assert_msg(sign(want) == sign(have), "round %d: model %d, encoding %d", round,
		              want, have);
		struct slice cur = buf_slice(&ea);
		for (size_t i = 0; i < a.n; i++) {
			OK(keycode_next(&cur, &got));
			check_decoded(&a.v[i], &got);
		}
		ck_assert_uint_eq(cur.len, 0);
	}
	keycode_value_free(&got);
	buf_free(&ea);
	buf_free(&eb);
}
END_TEST

static struct buf enc_float(double d)
{
	struct buf b;
	buf_init(&b, 64);
	OK(keycode_put_float(&b, d));
	return b;
}

START_TEST(float_edge_cases)
{
	double order[] = {-INFINITY, -1e308, -1.0, -1e-310, 0.0, 1e-310, 1.0, 1e308, INFINITY, NAN};
	size_t n = sizeof order / sizeof order[0];
	for (size_t i = 0; i + 1 < n; i++) {
		struct buf a = enc_float(order[i]), b = enc_float(order[i + 1]);
		ck_assert_int_lt(slice_cmp(buf_slice(&a), buf_slice(&b)), 0);
		buf_free(&a);
		buf_free(&b);
	}
	struct buf pz = enc_float(0.0), nz = enc_float(-0.0), n1 = enc_float(NAN),
	           n2 = enc_float(-NAN);
	ck_assert(slice_eq(buf_slice(&pz), buf_slice(&nz)));
	ck_assert(slice_eq(buf_slice(&n1), buf_slice(&n2)));
	struct slice cur = buf_slice(&nz);
	double d = -1;
	OK(keycode_get_float(&cur, &d));
	ck_assert(d == 0.0 && !signbit(d));
	buf_free(&pz);
	buf_free(&nz);
	buf_free(&n1);
	buf_free(&n2);
}
END_TEST

START_TEST(strings_with_nul_and_typed_getters)
{
	struct buf b, s;
	buf_init(&b, 256);
	buf_init(&s, 256);
	OK(keycode_put_string(&b, slice_of("a\0b", 3)));
	OK(keycode_put_int(&b, -7));
	OK(keycode_put_u64(&b, 42));
	struct slice cur = buf_slice(&b);
	int64_t i;
	err *e = keycode_get_int(&cur, &i);
	ck_assert(err_is(e, ERR_TYPE));
	err_free(e);
	ck_assert_uint_eq(cur.len, b.len); /* unchanged */
	OK(keycode_get_string(&cur, &s));
	ck_assert_uint_eq(s.len, 3);
	ck_assert(memcmp(s.data, "a\0b", 3) == 0);
	OK(keycode_get_int(&cur, &i));
	ck_assert_int_eq(i, -7);
	uint64_t u;
	OK(keycode_get_u64(&cur, &u));
	ck_assert_uint_eq(u, 42);
	ck_assert_uint_eq(cur.len, 0);
	buf_free(&b);
	buf_free(&s);
}
END_TEST

START_TEST(malformed_input_is_an_error)
{
	struct prng p;
	prng_seed(&p, 99);
	struct buf b;
	buf_init(&b, 256);
	struct keycode_value v;
	keycode_value_init(&v);
	/* every strict prefix of a single value's encoding fails to decode */
	for (int round = 0; round < 2000; round++) {
		struct val x;
		random_val(&p, &x);
		buf_clear(&b);
		put_val(&b, &x);
		for (size_t len = 0; len < b.len; len++) {
			struct slice cur = slice_of(b.data, len);
			err *e = keycode_next(&cur, &v);
			ck_assert_msg(err_is(e, ERR_DECODE), "prefix %zu of %zu decoded", len,
			              b.len);
			ck_assert_uint_eq(cur.len, len);
			err_free(e);
		}
	}
	static const uint8_t bad[][4] = {
	    {0x00, 0, 0, 0},              /* unknown tag */
	    {KEYCODE_BOOL, 2, 0, 0},      /* boolean out of range */
	    {KEYCODE_STRING, 0x00, 0x02}, /* bad escape */
	    {0x77, 0, 0, 0},
	};
	static const size_t lens[] = {1, 2, 3, 1};
	for (size_t i = 0; i < 4; i++) {
		struct slice cur = slice_of(bad[i], lens[i]);
		err *e = keycode_next(&cur, &v);
		ck_assert(err_is(e, ERR_DECODE));
		err_free(e);
	}
	keycode_value_free(&v);
	buf_free(&b);
}
END_TEST

static bool starts_with(struct slice k, struct slice p)
{
	return k.len >= p.len && memcmp(k.ptr, p.ptr, p.len) == 0;
}

START_TEST(prefix_end_bounds_exactly_the_prefixed_keys)
{
	static const uint8_t alphabet[] = {0x00, 0x7F, 0xFE, 0xFF};
	struct prng p;
	prng_seed(&p, 5);
	struct buf end;
	buf_init(&end, 64);
	for (int round = 0; round < 5000; round++) {
		uint8_t pre[4], key[6];
		size_t plen = (size_t)prng_below(&p, 4), klen = (size_t)prng_below(&p, 7);
		for (size_t i = 0; i < plen; i++)
			pre[i] = alphabet[prng_below(&p, 4)];
		for (size_t i = 0; i < klen; i++)
			key[i] = alphabet[prng_below(&p, 4)];
		if (prng_chance(&p, 0.5) && klen >= plen)
			memcpy(key, pre, plen);
		bool unbounded;
		OK(keycode_prefix_end(slice_of(pre, plen), &end, &unbounded));
		struct slice k = slice_of(key, klen), pr = slice_of(pre, plen);
		if (unbounded) {
			/* only an empty or all-0xFF prefix has no end */
			for (size_t i = 0; i < plen; i++)
				ck_assert_uint_eq(pre[i], 0xFF);
			continue;
		}
		bool in_range = slice_cmp(k, pr) >= 0 && slice_cmp(k, buf_slice(&end)) < 0;
		ck_assert_int_eq(in_range, starts_with(k, pr));
	}
	buf_free(&end);
}
END_TEST

static Suite *keycode_suite(void)
{
	Suite *s = suite_create("keycode");
	TCase *tc = tcase_create("keycode");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, memcmp_order_is_value_order_and_decoding_is_exact);
	tcase_add_test(tc, float_edge_cases);
	tcase_add_test(tc, strings_with_nul_and_typed_getters);
	tcase_add_test(tc, malformed_input_is_an_error);
	tcase_add_test(tc, prefix_end_bounds_exactly_the_prefixed_keys);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(keycode_suite());
}
