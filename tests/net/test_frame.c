/*
 * Frame codec tests: round trips through the incremental decoder at every split point,
 * oversized length prefixes, checksum failures, and a fuzz test in which random bytes,
 * truncations, oversized prefixes and bit flips each yield an error or a valid frame.
 */
#include <string.h>

#include "base/checksum.h"
#include "base/prng.h"
#include "check_main.h"
#include "net/frame.h"

#define FUZZ_INPUTS 20000

static void encode(struct buf *b, const char *payload)
{
	ck_assert_ptr_null(net_frame_encode(b, payload, strlen(payload), 1024));
}

START_TEST(round_trip_at_every_split)
{
	struct buf b;
	buf_init(&b, 4096);
	encode(&b, "first");
	encode(&b, "");
	encode(&b, "the third frame");
	for (size_t split = 0; split <= b.len; split++) {
		struct net_frame_decoder d;
		net_frame_decoder_init(&d, 1024);
		const char *want[] = {"first", "", "the third frame"};
		size_t got = 0;
		size_t parts[2][2] = {{0, split}, {split, b.len - split}};
		for (int part = 0; part < 2; part++) {
			ck_assert_ptr_null(
			    net_frame_decoder_feed(&d, b.data + parts[part][0], parts[part][1]));
			for (;;) {
				struct slice p;
				bool ready;
				ck_assert_ptr_null(net_frame_decoder_next(&d, &p, &ready));
				if (!ready)
					break;
				ck_assert_uint_lt(got, 3);
				ck_assert(slice_eq(p, slice_of(want[got], strlen(want[got]))));
				got++;
			}
		}
		ck_assert_uint_eq(got, 3);
		ck_assert_uint_eq(net_frame_decoder_pending(&d), 0);
		net_frame_decoder_free(&d);
	}
	buf_free(&b);
}
END_TEST

START_TEST(layout_is_length_payload_checksum)
{
	struct buf b;
	buf_init(&b, 64);
	encode(&b, "abc");
	ck_assert_uint_eq(b.len, 3 + NET_FRAME_OVERHEAD_BYTES);
	ck_assert_uint_eq(load_u32be(b.data), 3);
	ck_assert_mem_eq(b.data + 4, "abc", 3);
	ck_assert_uint_eq(load_u32be(b.data + 7), checksum32("abc", 3));
	buf_free(&b);
}
END_TEST

START_TEST(oversized_prefix_fails_before_the_body_arrives)
{
	struct net_frame_decoder d;
	net_frame_decoder_init(&d, 100);
	uint8_t prefix[4];
	store_u32be(prefix, 101);
	ck_assert_ptr_null(net_frame_decoder_feed(&d, prefix, sizeof prefix));
	struct slice p;
	bool ready;
	err *e = net_frame_decoder_next(&d, &p, &ready);
	ck_assert(err_is(e, ERR_LIMIT));
	ck_assert(!ready);
	err_free(e);
	/* the stream is dead from now on */
	e = net_frame_decoder_next(&d, &p, &ready);
	ck_assert_ptr_nonnull(e);
	err_free(e);
	e = net_frame_decoder_feed(&d, "x", 1);
	ck_assert_ptr_nonnull(e);
	err_free(e);
	net_frame_decoder_free(&d);

	struct buf b;
	buf_init(&b, 64);
	e = net_frame_encode(&b, "0123456789", 10, 9);
	ck_assert(err_is(e, ERR_LIMIT));
	ck_assert_uint_eq(b.len, 0);
	err_free(e);
	buf_free(&b);
}
END_TEST

START_TEST(checksum_mismatch_is_corruption)
{
	struct buf b;
	buf_init(&b, 64);
	encode(&b, "payload");
	b.data[5] ^= 0x01;
	struct net_frame_decoder d;
	net_frame_decoder_init(&d, 100);
	ck_assert_ptr_null(net_frame_decoder_feed(&d, b.data, b.len));
	struct slice p;
	bool ready;
	err *e = net_frame_decoder_next(&d, &p, &ready);
	ck_assert(err_is(e, ERR_CORRUPT));
	err_free(e);
	net_frame_decoder_free(&d);
	buf_free(&b);
}
END_TEST

START_TEST(undrained_decoder_hits_its_bound)
{
	struct net_frame_decoder d;
	net_frame_decoder_init(&d, 16);
	static uint8_t zeros[NET_FRAME_FEED_MAX_BYTES];
	/* fed but never drained: the second feed would exceed one frame plus one feed */
	ck_assert_ptr_null(net_frame_decoder_feed(&d, zeros, sizeof zeros));
	err *e = net_frame_decoder_feed(&d, zeros, sizeof zeros);
	ck_assert(err_is(e, ERR_LIMIT));
	err_free(e);
	net_frame_decoder_free(&d);
}
END_TEST

/* Feeds `bytes` in random pieces; every outcome must be a valid frame, need-more or error. */
static void fuzz_one(struct prng *rng, const uint8_t *bytes, size_t len, size_t *frames,
                     size_t *errors)
{
	struct net_frame_decoder d;
	net_frame_decoder_init(&d, 256);
	size_t off = 0;
	bool failed = false;
	while (off < len && !failed) {
		size_t n = 1 + (size_t)prng_below(rng, len - off);
		err *e = net_frame_decoder_feed(&d, bytes + off, n);
		ck_assert_ptr_null(e);
		off += n;
		for (;;) {
			struct slice p;
			bool ready;
			e = net_frame_decoder_next(&d, &p, &ready);
			if (e) {
				ck_assert(err_is(e, ERR_LIMIT) || err_is(e, ERR_CORRUPT));
				err_free(e);
				(*errors)++;
				failed = true;
				break;
			}
			if (!ready)
				break;
			ck_assert_uint_le(p.len, 256);
			/* a valid frame: its trailer is the payload's checksum */
			ck_assert_uint_eq(load_u32be(p.ptr + p.len), checksum32(p.ptr, p.len));
			(*frames)++;
		}
	}
	net_frame_decoder_free(&d);
}

START_TEST(fuzz_random_truncated_oversized_flipped)
{
	struct prng rng;
	prng_seed(&rng, 0xf4a3e);
	size_t frames = 0, errors = 0;
	uint8_t bytes[1200];
	for (int i = 0; i < FUZZ_INPUTS; i++) {
		size_t len = 0;
		struct buf b = {.data = bytes, .cap = sizeof bytes, .max_bytes = sizeof bytes};
		int kind = i % 4;
		if (kind == 0) { /* random bytes */
			len = 1 + (size_t)prng_below(&rng, 64);
			for (size_t k = 0; k < len; k++)
				bytes[k] = (uint8_t)prng_next(&rng);
		} else {
			/* a few valid frames, then damaged */
			int count = 1 + (int)prng_below(&rng, 4);
			for (int f = 0; f < count; f++) {
				uint8_t payload[200];
				size_t plen = (size_t)prng_below(&rng, sizeof payload);
				for (size_t k = 0; k < plen; k++)
					payload[k] = (uint8_t)prng_next(&rng);
				ck_assert_ptr_null(net_frame_encode(&b, payload, plen, 256));
			}
			len = b.len;
			if (kind == 1) /* truncated */
				len = (size_t)prng_below(&rng, len) + 1;
			else if (kind == 2) /* an oversized length prefix on the first frame */
				store_u32be(bytes,
				            257 + (uint32_t)prng_below(&rng, UINT32_MAX - 257));
			else /* bit flips */
				for (int f = 0; f < 1 + (int)prng_below(&rng, 3); f++)
					bytes[prng_below(&rng, len)] ^=
					    (uint8_t)(1u << prng_below(&rng, 8));
		}
		fuzz_one(&rng, bytes, len, &frames, &errors);
	}
	/* the mix exercised both outcomes plenty */
	ck_assert_uint_gt(frames, FUZZ_INPUTS / 4);
	ck_assert_uint_gt(errors, FUZZ_INPUTS / 4);
}
END_TEST

static Suite *frame_suite(void)
{
	Suite *s = suite_create("frame");
	TCase *tc = tcase_create("frame");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, round_trip_at_every_split);
	tcase_add_test(tc, layout_is_length_payload_checksum);
	tcase_add_test(tc, oversized_prefix_fails_before_the_body_arrives);
	tcase_add_test(tc, checksum_mismatch_is_corruption);
	tcase_add_test(tc, undrained_decoder_hits_its_bound);
	tcase_add_test(tc, fuzz_random_truncated_oversized_flipped);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(frame_suite());
}
