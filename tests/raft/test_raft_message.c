/*
 * The Raft message codec: round trips of every message type, rejection of malformed
 * input, and a fuzz test of 12,000 random, truncated and bit-flipped inputs per kind, each
 * of which must decode to an error or to a message that re-encodes identically, and must
 * not upset a live leader and follower that receive it.
 */
#include <string.h>

#include "base/codec.h"
#include "check_main.h"
#include "raft_fixture.h"

#define FUZZ_PER_KIND 12000

static struct raft_message sample(uint8_t type, struct raft_entry *entries, size_t n)
{
	return (struct raft_message){.type = type,
	                             .term = 7,
	                             .from = 1,
	                             .to = 2,
	                             .index = 41,
	                             .log_term = 6,
	                             .commit = 40,
	                             .reject = type % 2 == 0,
	                             .hint_index = 12,
	                             .hint_term = 3,
	                             .ctx = 99,
	                             .entries = entries,
	                             .n_entries = n};
}

static void assert_same(const struct raft_message *a, const struct raft_message *b)
{
	ck_assert_uint_eq(a->type, b->type);
	ck_assert_uint_eq(a->term, b->term);
	ck_assert_uint_eq(a->from, b->from);
	ck_assert_uint_eq(a->to, b->to);
	ck_assert_uint_eq(a->index, b->index);
	ck_assert_uint_eq(a->log_term, b->log_term);
	ck_assert_uint_eq(a->commit, b->commit);
	ck_assert_int_eq(a->reject, b->reject);
	ck_assert_uint_eq(a->hint_index, b->hint_index);
	ck_assert_uint_eq(a->hint_term, b->hint_term);
	ck_assert_uint_eq(a->ctx, b->ctx);
	ck_assert_uint_eq(a->n_entries, b->n_entries);
	for (size_t i = 0; i < a->n_entries; i++) {
		ck_assert_uint_eq(a->entries[i].term, b->entries[i].term);
		ck_assert_uint_eq(a->entries[i].type, b->entries[i].type);
		ck_assert_uint_eq(a->entries[i].origin, b->entries[i].origin);
		ck_assert_uint_eq(a->entries[i].id, b->entries[i].id);
		ck_assert_uint_eq(a->entries[i].len, b->entries[i].len);
		if (a->entries[i].len > 0)
			ck_assert_mem_eq(a->entries[i].data, b->entries[i].data, a->entries[i].len);
	}
}

START_TEST(test_round_trip_every_type)
{
	struct raft_entry entries[3] = {
	    {.term = 6, .type = RAFT_ENTRY_NOOP},
	    {.term = 7,
	     .type = RAFT_ENTRY_NORMAL,
	     .origin = 3,
	     .id = 5,
	     .data = (const uint8_t *)"abc",
	     .len = 3},
	    {.term = 7,
	     .type = RAFT_ENTRY_NORMAL,
	     .origin = 1,
	     .id = 6,
	     .data = (const uint8_t *)"",
	     .len = 0},
	};
	for (uint8_t type = 1; type <= RAFT_MSG_TYPE_MAX; type++) {
		struct raft_message m = sample(type, entries, type == RAFT_MSG_APPEND ? 3 : 0);
		struct buf b;
		buf_init(&b, 4096);
		ck_assert_ptr_null(raft_message_encode(&m, &b));
		struct raft_message d;
		ck_assert_ptr_null(raft_message_decode(b.data, b.len, &d));
		assert_same(&m, &d);
		if (d.n_entries > 0)
			ck_assert_uint_eq(d.entries[2].index, 44); /* index + 1 + position */
		ck_assert_str_ne(raft_message_type_name(type), "invalid");
		raft_message_free(&d);
		buf_free(&b);
	}
	ck_assert_str_eq(raft_message_type_name(0), "invalid");
}
END_TEST

/* Encodes a message with its fields as given, bypassing the encoder's own checks. */
static void encode_raw(struct buf *b, uint64_t type, uint64_t from, uint64_t to, uint64_t index,
                       uint64_t entry_type)
{
	struct codec_out o;
	codec_out_init(&o, b);
	codec_put_array(&o, 12);
	codec_put_u64(&o, type);
	codec_put_u64(&o, 1);
	codec_put_u64(&o, from);
	codec_put_u64(&o, to);
	codec_put_u64(&o, index);
	for (int i = 0; i < 2; i++)
		codec_put_u64(&o, 0);
	codec_put_bool(&o, false);
	for (int i = 0; i < 3; i++)
		codec_put_u64(&o, 0);
	codec_put_array(&o, 1);
	codec_put_array(&o, 5);
	for (int i = 0; i < 4; i++)
		codec_put_u64(&o, i == 1 ? entry_type : 1);
	codec_put_bin(&o, "x", 1);
	ck_assert_ptr_null(codec_out_end(&o));
}

START_TEST(test_malformed_rejected)
{
	static const uint64_t cases[][5] = {
	    {1, 1, 2, 0, 1},                 /* valid */
	    {0, 1, 2, 0, 1},                 /* type 0 */
	    {99, 1, 2, 0, 1},                /* unknown type */
	    {1, 0, 2, 0, 1},                 /* sender 0 */
	    {1, 2, 2, 0, 1},                 /* to itself */
	    {1, (uint64_t)1 << 40, 2, 0, 1}, /* sender out of range */
	    {1, 1, 2, (uint64_t)1 << 40, 1}, /* index out of range */
	    {1, 1, 2, 0, 0},                 /* entry type 0 */
	    {1, 1, 2, 0, 9},                 /* entry type unknown */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf b;
		buf_init(&b, 4096);
		encode_raw(&b, cases[i][0], cases[i][1], cases[i][2], cases[i][3], cases[i][4]);
		struct raft_message d;
		err *e = raft_message_decode(b.data, b.len, &d);
		if (i == 0) {
			ck_assert_ptr_null(e);
			raft_message_free(&d);
		} else {
			ck_assert_msg(err_is(e, ERR_DECODE), "case %zu", i);
			ck_assert_ptr_null(d.entries);
			err_free(e);
		}
		buf_free(&b);
	}
}
END_TEST

/* Decodes fuzzed bytes; a success must re-encode to a message that decodes the same. */
static bool fuzz_one(const uint8_t *bytes, size_t len)
{
	struct raft_message d;
	err *e = raft_message_decode(bytes, len, &d);
	if (e) {
		ck_assert(err_is(e, ERR_DECODE));
		err_free(e);
		return false;
	}
	struct buf b;
	buf_init(&b, 1 << 22);
	ck_assert_ptr_null(raft_message_encode(&d, &b));
	struct raft_message again;
	ck_assert_ptr_null(raft_message_decode(b.data, b.len, &again));
	assert_same(&d, &again);
	raft_message_free(&again);
	raft_message_free(&d);
	buf_free(&b);
	return true;
}

/* Feeds fuzzed bytes to a live node: an error or a processed message, never a crash. */
static void fuzz_node(struct fixture *f, const uint8_t *bytes, size_t len)
{
	err *e = raft_receive(f->raft, bytes, len);
	err_free(e);
	fix_drain(f);
}

START_TEST(test_fuzz_decoder)
{
	struct prng p;
	prng_seed(&p, 2024);
	struct raft_entry entries[2] = {
	    {.term = 6,
	     .type = RAFT_ENTRY_NORMAL,
	     .origin = 2,
	     .id = 1,
	     .data = (const uint8_t *)"payload",
	     .len = 7},
	    {.term = 7, .type = RAFT_ENTRY_NOOP},
	};
	struct buf seeds[RAFT_MSG_TYPE_MAX + 1];
	for (uint8_t type = 1; type <= RAFT_MSG_TYPE_MAX; type++) {
		buf_init(&seeds[type], 4096);
		struct raft_message m = sample(type, entries, type == RAFT_MSG_APPEND ? 2 : 0);
		m.from = 1 + (uint32_t)(type % 3);
		m.to = m.from == 2 ? 1 : 2;
		ck_assert_ptr_null(raft_message_encode(&m, &seeds[type]));
	}
	static const uint64_t terms[] = {1, 1, 2};
	struct fixture leader, follower;
	fix_init(&leader, 1, 3, terms, 3, (struct raft_hard_state){2, 0, 1});
	fix_make_leader(&leader);
	fix_init(&follower, 2, 3, terms, 3, (struct raft_hard_state){2, 0, 1});
	uint8_t scratch[8192];
	uint32_t decoded = 0, total = 0;
	for (int kind = 0; kind < 3; kind++) {
		for (int i = 0; i < FUZZ_PER_KIND; i++) {
			const struct buf *s = &seeds[1 + prng_below(&p, RAFT_MSG_TYPE_MAX)];
			size_t len;
			if (kind == 0) { /* random bytes, often starting like a message */
				len = prng_below(&p, 96);
				for (size_t k = 0; k < len; k++)
					scratch[k] = (uint8_t)prng_next(&p);
				if (len > 0 && prng_chance(&p, 0.5))
					scratch[0] = 0x9c; /* fixarray of 12 */
			} else if (kind == 1) {            /* truncated */
				len = prng_below(&p, s->len);
				memcpy(scratch, s->data, len);
			} else { /* bit flips */
				len = s->len;
				memcpy(scratch, s->data, len);
				int flips = 1 + (int)prng_below(&p, 4);
				for (int k = 0; k < flips; k++)
					scratch[prng_below(&p, len)] ^=
					    (uint8_t)(1u << prng_below(&p, 8));
			}
			decoded += fuzz_one(scratch, len);
			fuzz_node(prng_chance(&p, 0.5) ? &leader : &follower, scratch, len);
			total++;
		}
	}
	ck_assert_uint_ge(total, 3 * FUZZ_PER_KIND);
	ck_assert_uint_gt(decoded, 0);         /* some flips leave a valid message */
	ck_assert_uint_lt(decoded, total / 2); /* most inputs are garbage */
	ck_assert_uint_gt(fix_status(&leader).malformed_messages, FUZZ_PER_KIND / 2);
	fix_free(&leader);
	fix_free(&follower);
	for (uint8_t type = 1; type <= RAFT_MSG_TYPE_MAX; type++)
		buf_free(&seeds[type]);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("raft_message");
	TCase *tc = tcase_create("codec");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_round_trip_every_type);
	tcase_add_test(tc, test_malformed_rejected);
	tcase_add_test(tc, test_fuzz_decoder);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
