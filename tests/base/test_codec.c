/*
 * Unit tests for the msgpack codec, and a fuzz test: thousands of random, truncated and
 * bit-flipped buffers per decoder, each of which must decode to an error or a valid value.
 * The codec reads and writes msgpack itself; msgpack-c is the reference it is held to:
 * the same bytes from its packer, the same objects from its unpacker.
 */
#include <string.h>

#include "base/codec.h"
#include "base/prng.h"
#include "check_main.h"

#define FUZZ_INPUTS_PER_KIND 12000

/* A representative struct: the shape of a log entry with a list of tags. */
struct sample {
	uint64_t term;
	int64_t delta;
	double ratio;
	bool flag;
	struct slice name;
	struct slice payload;
	uint32_t tag_count;
	struct slice tags[8];
};

static err *sample_encode(const struct sample *s, struct buf *out)
{
	struct codec_out o;
	codec_out_init(&o, out);
	codec_put_array(&o, 7);
	codec_put_u64(&o, s->term);
	codec_put_i64(&o, s->delta);
	codec_put_f64(&o, s->ratio);
	codec_put_bool(&o, s->flag);
	codec_put_str(&o, (const char *)s->name.ptr, s->name.len);
	codec_put_bin(&o, s->payload.ptr, s->payload.len);
	codec_put_array(&o, s->tag_count);
	for (uint32_t i = 0; i < s->tag_count; i++)
		codec_put_str(&o, (const char *)s->tags[i].ptr, s->tags[i].len);
	return codec_out_end(&o);
}

/* The decoder under test: strict types, bounded lengths and counts. */
static err *sample_decode(const uint8_t *bytes, size_t len, struct sample *s)
{
	struct codec_doc doc;
	const msgpack_object *root;
	TRY(codec_parse(&doc, bytes, len, &root));
	struct codec_in in, tags;
	codec_in_init(&in, root, 7, 7);
	s->term = codec_get_u64(&in);
	s->delta = codec_get_i64(&in);
	s->ratio = codec_get_f64(&in);
	s->flag = codec_get_bool(&in);
	s->name = codec_get_str(&in, 64);
	s->payload = codec_get_bin(&in, 1024);
	codec_get_array(&in, &tags, 0, 8);
	s->tag_count = codec_in_remaining(&tags);
	for (uint32_t i = 0; i < s->tag_count; i++)
		s->tags[i] = codec_get_str(&tags, 16);
	err *e = codec_in_end(&tags, false);
	err *outer = codec_in_end(&in, false);
	codec_doc_free(&doc);
	if (e) {
		err_free(outer);
		return e;
	}
	return outer;
}

static struct sample sample_value(void)
{
	struct sample s = {
	    .term = 42,
	    .delta = -7,
	    .ratio = 0.25,
	    .flag = true,
	    .name = slice_of("entry", 5),
	    .payload = slice_of("\x00\x01\x02", 3),
	    .tag_count = 2,
	    .tags = {slice_of("a", 1), slice_of("bc", 2)},
	};
	return s;
}

START_TEST(round_trip)
{
	struct sample in = sample_value(), out;
	struct buf b;
	buf_init(&b, 4096);
	ck_assert_ptr_null(sample_encode(&in, &b));
	ck_assert_ptr_null(sample_decode(b.data, b.len, &out));
	ck_assert_uint_eq(out.term, 42);
	ck_assert_int_eq(out.delta, -7);
	ck_assert(out.ratio == 0.25);
	ck_assert(out.flag);
	ck_assert(slice_eq(out.name, in.name));
	ck_assert(slice_eq(out.payload, in.payload));
	ck_assert_uint_eq(out.tag_count, 2);
	ck_assert(slice_eq(out.tags[1], slice_of("bc", 2)));
	buf_free(&b);
}
END_TEST

START_TEST(integer_extremes)
{
	struct buf b;
	buf_init(&b, 256);
	struct codec_out o;
	codec_out_init(&o, &b);
	codec_put_array(&o, 4);
	codec_put_u64(&o, UINT64_MAX);
	codec_put_i64(&o, INT64_MIN);
	codec_put_i64(&o, INT64_MAX);
	codec_put_nil(&o);
	ck_assert_ptr_null(codec_out_end(&o));
	struct codec_doc doc;
	const msgpack_object *root;
	ck_assert_ptr_null(codec_parse(&doc, b.data, b.len, &root));
	struct codec_in in;
	codec_in_init(&in, root, 4, 4);
	ck_assert_uint_eq(codec_get_u64(&in), UINT64_MAX);
	ck_assert_int_eq(codec_get_i64(&in), INT64_MIN);
	ck_assert_int_eq(codec_get_i64(&in), INT64_MAX);
	ck_assert(codec_get_nil(&in));
	ck_assert_ptr_null(codec_in_end(&in, false));
	codec_doc_free(&doc);
	buf_free(&b);
}
END_TEST

START_TEST(type_mismatch_and_bounds_are_errors)
{
	struct sample s = sample_value();
	s.name =
	    slice_of("a name that is much longer than the decoder's sixty-four byte bound....", 72);
	struct buf b;
	buf_init(&b, 4096);
	ck_assert_ptr_null(sample_encode(&s, &b));
	struct sample out;
	err *e = sample_decode(b.data, b.len, &out);
	ck_assert(err_is(e, ERR_DECODE));
	err_free(e);
	buf_free(&b);
}
END_TEST

START_TEST(huge_declared_lengths_are_rejected_cheaply)
{
	const uint8_t array32[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
	const uint8_t map32[] = {0xdf, 0x0f, 0xff, 0xff, 0xff, 0x01};
	const uint8_t str32[] = {0xdb, 0x7f, 0xff, 0xff, 0xff, 'a'};
	const uint8_t bin32[] = {0xc6, 0x00, 0x10, 0x00, 0x00};
	const uint8_t *cases[] = {array32, map32, str32, bin32};
	size_t lens[] = {sizeof array32, sizeof map32, sizeof str32, sizeof bin32};
	for (int i = 0; i < 4; i++) {
		struct codec_doc doc;
		const msgpack_object *root;
		err *e = codec_parse(&doc, cases[i], lens[i], &root);
		ck_assert(err_is(e, ERR_DECODE));
		err_free(e);
	}
}
END_TEST

START_TEST(deep_nesting_and_trailing_bytes_are_rejected)
{
	uint8_t deep[100];
	memset(deep, 0x91, sizeof deep); /* [[[[...]]]] */
	deep[sizeof deep - 1] = 0x01;
	struct codec_doc doc;
	const msgpack_object *root;
	err *e = codec_parse(&doc, deep, sizeof deep, &root);
	ck_assert(err_is(e, ERR_DECODE));
	err_free(e);
	const uint8_t trailing[] = {0x01, 0x02};
	e = codec_parse(&doc, trailing, sizeof trailing, &root);
	ck_assert(err_is(e, ERR_DECODE));
	err_free(e);
	e = codec_parse(&doc, trailing, 0, &root);
	ck_assert(err_is(e, ERR_DECODE));
	err_free(e);
}
END_TEST

START_TEST(encoding_respects_the_buffer_cap)
{
	struct buf b;
	buf_init(&b, 16);
	struct codec_out o;
	codec_out_init(&o, &b);
	codec_put_str(&o, "this string does not fit in sixteen bytes", 41);
	codec_put_u64(&o, 1);
	err *e = codec_out_end(&o);
	ck_assert(err_is(e, ERR_LIMIT));
	err_free(e);
	buf_free(&b);
}
END_TEST

/* Decodes; on success checks the value is within the decoder's promised bounds. */
/* ---- against msgpack-c, the reference implementation ---- */

#define REFERENCE_VALUES 20000

/*
 * Writes one random value (arrays nest up to `depth` more levels) through both the codec
 * and msgpack-c's packer. Integers are drawn across every size class of the format.
 */
static void reference_value(struct prng *r, struct codec_out *o, msgpack_packer *pk, int depth)
{
	static const uint8_t junk[300] = {1, 2, 3, 0, 0xc1, 0xff};
	int kind = (int)prng_below(r, depth > 0 ? 8 : 7);
	uint64_t bits = prng_next(r) >> prng_below(r, 64);
	size_t len = (size_t)prng_below(r, prng_chance(r, 0.1) ? sizeof junk : 40);
	switch (kind) {
	case 0:
		codec_put_nil(o);
		msgpack_pack_nil(pk);
		break;
	case 1:
		codec_put_bool(o, bits & 1);
		(bits & 1) ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
		break;
	case 2:
		codec_put_u64(o, bits);
		msgpack_pack_uint64(pk, bits);
		break;
	case 3: {
		int64_t v = prng_chance(r, 0.5) ? -(int64_t)(bits >> 1) - 1 : (int64_t)(bits >> 1);
		codec_put_i64(o, v);
		msgpack_pack_int64(pk, v);
		break;
	}
	case 4: {
		double v = prng_chance(r, 0.5) ? prng_double(r) * 1e6 - 5e5 : (double)(int64_t)bits;
		codec_put_f64(o, v);
		msgpack_pack_double(pk, v);
		break;
	}
	case 5:
		codec_put_str(o, (const char *)junk, len);
		msgpack_pack_str(pk, len);
		msgpack_pack_str_body(pk, junk, len);
		break;
	case 6:
		codec_put_bin(o, junk, len);
		msgpack_pack_bin(pk, len);
		msgpack_pack_bin_body(pk, junk, len);
		break;
	default: {
		uint32_t n = (uint32_t)prng_below(r, prng_chance(r, 0.05) ? 20 : 5);
		codec_put_array(o, n);
		msgpack_pack_array(pk, n);
		for (uint32_t i = 0; i < n; i++)
			reference_value(r, o, pk, depth - 1);
	}
	}
}

/* msgpack-c's packing of an object: equal bytes mean equal objects, NaN payloads included. */
static void reference_repack(const msgpack_object *obj, msgpack_sbuffer *out)
{
	msgpack_packer pk;
	msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
	ck_assert_int_eq(msgpack_pack_object(&pk, *obj), 0);
}

/* Whether msgpack-c's unpacker reads `bytes` as one whole value equal to `obj`. */
static bool reference_reads_as(const char *bytes, size_t len, const msgpack_object *obj)
{
	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	size_t off = 0;
	bool same =
	    msgpack_unpack_next(&u, bytes, len, &off) == MSGPACK_UNPACK_SUCCESS && off == len;
	if (same) {
		msgpack_sbuffer theirs, ours;
		msgpack_sbuffer_init(&theirs);
		msgpack_sbuffer_init(&ours);
		reference_repack(&u.data, &theirs);
		reference_repack(obj, &ours);
		same = theirs.size == ours.size && memcmp(theirs.data, ours.data, ours.size) == 0;
		msgpack_sbuffer_destroy(&theirs);
		msgpack_sbuffer_destroy(&ours);
	}
	msgpack_unpacked_destroy(&u);
	return same;
}

START_TEST(same_bytes_and_objects_as_msgpack_c)
{
	struct prng r;
	prng_seed(&r, 20261121);
	struct buf b;
	buf_init(&b, 1 << 20);
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	msgpack_packer pk;
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (int i = 0; i < REFERENCE_VALUES; i++) {
		b.len = 0;
		msgpack_sbuffer_clear(&sb);
		struct codec_out o;
		codec_out_init(&o, &b);
		reference_value(&r, &o, &pk, 4);
		ck_assert_ptr_null(codec_out_end(&o));
		ck_assert_uint_eq(b.len, sb.size);
		ck_assert(memcmp(b.data, sb.data, sb.size) == 0);

		struct codec_doc doc;
		const msgpack_object *root;
		ck_assert_ptr_null(codec_parse(&doc, b.data, b.len, &root));
		ck_assert(reference_reads_as(sb.data, sb.size, root));
		codec_doc_free(&doc);

		/* a damaged copy: whatever the codec accepts, msgpack-c reads the same way */
		size_t at = (size_t)prng_below(&r, b.len);
		b.data[at] ^= (uint8_t)(1u << prng_below(&r, 8));
		size_t cut = prng_chance(&r, 0.3) ? (size_t)prng_below(&r, b.len + 1) : b.len;
		err *e = codec_parse(&doc, b.data, cut, &root);
		if (e)
			err_free(e);
		else {
			ck_assert(reference_reads_as((const char *)b.data, cut, root));
			codec_doc_free(&doc);
		}
	}
	msgpack_sbuffer_destroy(&sb);
	buf_free(&b);
}
END_TEST

static void decode_must_not_misbehave(const uint8_t *bytes, size_t len)
{
	struct sample out;
	err *e = sample_decode(bytes, len, &out);
	if (e) {
		ck_assert(err_is(e, ERR_DECODE));
		err_free(e);
		return;
	}
	ck_assert_uint_le(out.name.len, 64);
	ck_assert_uint_le(out.payload.len, 1024);
	ck_assert_uint_le(out.tag_count, 8);
}

/* Random bytes, biased to msgpack type bytes so the parser goes deep. */
START_TEST(fuzz_random_buffers)
{
	struct prng p;
	prng_seed(&p, 1);
	uint8_t bytes[256];
	for (int i = 0; i < FUZZ_INPUTS_PER_KIND; i++) {
		size_t len = prng_below(&p, sizeof bytes + 1);
		for (size_t j = 0; j < len; j++)
			bytes[j] = prng_chance(&p, 0.3) ? (uint8_t)(0x90 + prng_below(&p, 0x70))
			                                : (uint8_t)prng_next(&p);
		decode_must_not_misbehave(bytes, len);
	}
}
END_TEST

START_TEST(fuzz_truncated_buffers)
{
	struct prng p;
	prng_seed(&p, 2);
	struct buf b;
	buf_init(&b, 4096);
	int inputs = 0;
	while (inputs < FUZZ_INPUTS_PER_KIND) {
		struct sample s = sample_value();
		s.term = prng_next(&p);
		s.delta = (int64_t)prng_next(&p);
		s.tag_count = (uint32_t)prng_below(&p, 9);
		for (uint32_t t = 0; t < s.tag_count; t++)
			s.tags[t] = slice_of("tag", prng_below(&p, 4));
		buf_clear(&b);
		ck_assert_ptr_null(sample_encode(&s, &b));
		for (size_t cut = 0; cut < b.len && inputs < FUZZ_INPUTS_PER_KIND;
		     cut++, inputs++) {
			/* the decoder must not read past `cut`: copy into an exact-size heap block */
			uint8_t *copy = malloc(cut ? cut : 1);
			memcpy(copy, b.data, cut);
			struct sample out;
			err *e = sample_decode(copy, cut, &out);
			ck_assert(err_is(e, ERR_DECODE));
			err_free(e);
			free(copy);
		}
	}
	buf_free(&b);
}
END_TEST

START_TEST(fuzz_bit_flipped_buffers)
{
	struct prng p;
	prng_seed(&p, 3);
	struct buf b;
	buf_init(&b, 4096);
	struct sample s = sample_value();
	ck_assert_ptr_null(sample_encode(&s, &b));
	uint8_t *copy = malloc(b.len);
	for (int i = 0; i < FUZZ_INPUTS_PER_KIND; i++) {
		memcpy(copy, b.data, b.len);
		int flips = 1 + (int)prng_below(&p, 4);
		for (int f = 0; f < flips; f++)
			copy[prng_below(&p, b.len)] ^= (uint8_t)(1u << prng_below(&p, 8));
		decode_must_not_misbehave(copy, b.len);
	}
	free(copy);
	buf_free(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("codec");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, integer_extremes);
	tcase_add_test(tc, type_mismatch_and_bounds_are_errors);
	tcase_add_test(tc, huge_declared_lengths_are_rejected_cheaply);
	tcase_add_test(tc, deep_nesting_and_trailing_bytes_are_rejected);
	tcase_add_test(tc, encoding_respects_the_buffer_cap);
	tcase_add_test(tc, same_bytes_and_objects_as_msgpack_c);
	tcase_add_test(tc, fuzz_random_buffers);
	tcase_add_test(tc, fuzz_truncated_buffers);
	tcase_add_test(tc, fuzz_bit_flipped_buffers);
	suite_add_tcase(s, tc);
	return check_run(s);
}
