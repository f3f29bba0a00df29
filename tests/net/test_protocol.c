/*
 * Client protocol tests: every request and response kind round-trips; malformed messages
 * are ERR_DECODE; bounds hold on both sides; and a fuzz test feeds each decoder tens of
 * thousands of random, truncated, bit-flipped and randomly structured inputs, each of which
 * must decode to an error or to a message that re-encodes and decodes to the same thing.
 */
#include <string.h>

#include "base/codec.h"
#include "base/prng.h"
#include "check_main.h"
#include "net/protocol.h"

#define FUZZ_INPUTS_PER_KIND 12000

static struct slice cstr(const char *s)
{
	return slice_of(s, strlen(s));
}

START_TEST(requests_round_trip)
{
	struct net_request reqs[] = {
	    {NET_REQ_EXECUTE, cstr("SELECT * FROM t WHERE x = 'a'")},
	    {NET_REQ_STATUS, cstr("")},
	    {NET_REQ_LIST_TABLES, cstr("")},
	    {NET_REQ_DESCRIBE_TABLE, cstr("accounts")},
	};
	for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
		struct buf b;
		buf_init(&b, 1024);
		ck_assert_ptr_null(net_request_encode(&reqs[i], &b));
		struct net_request out;
		ck_assert_ptr_null(net_request_decode(b.data, b.len, &out));
		ck_assert_int_eq(out.kind, reqs[i].kind);
		ck_assert(slice_eq(out.text, reqs[i].text));
		ck_assert_ptr_nonnull(out.text.ptr);
		buf_free(&b);
	}
}
END_TEST

static struct net_response decode_ok(const struct buf *b)
{
	struct net_response r;
	err *e = net_response_decode(b->data, b->len, &r);
	ck_assert_msg(!e, "%s", e ? err_msg(e) : "");
	return r;
}

START_TEST(result_sets_round_trip_with_every_value_type)
{
	struct slice cols[3] = {cstr("id"), cstr("name"), cstr("score")};
	struct net_value vals[6] = {
	    {.type = NET_VALUE_INTEGER, .as.integer = INT64_MIN},
	    {.type = NET_VALUE_TEXT, .as.text = cstr("alice")},
	    {.type = NET_VALUE_FLOAT, .as.real = 2.5},
	    {.type = NET_VALUE_INTEGER, .as.integer = INT64_MAX},
	    {.type = NET_VALUE_NULL},
	    {.type = NET_VALUE_BOOLEAN, .as.boolean = true},
	};
	struct net_response r = {.kind = NET_RESP_ROWS,
	                         .columns = cols,
	                         .column_count = 3,
	                         .values = vals,
	                         .row_count = 2};
	struct buf b;
	buf_init(&b, 4096);
	ck_assert_ptr_null(net_response_encode(&r, &b));
	struct net_response d = decode_ok(&b);
	ck_assert_int_eq(d.kind, NET_RESP_ROWS);
	ck_assert_uint_eq(d.column_count, 3);
	ck_assert_uint_eq(d.row_count, 2);
	ck_assert(slice_eq(d.columns[1], cstr("name")));
	ck_assert_int_eq(net_response_value(&d, 0, 0)->as.integer, INT64_MIN);
	ck_assert(slice_eq(net_response_value(&d, 0, 1)->as.text, cstr("alice")));
	ck_assert(net_response_value(&d, 0, 2)->as.real == 2.5);
	ck_assert_int_eq(net_response_value(&d, 1, 0)->as.integer, INT64_MAX);
	ck_assert_int_eq(net_response_value(&d, 1, 1)->type, NET_VALUE_NULL);
	ck_assert_int_eq(net_response_value(&d, 1, 2)->type, NET_VALUE_BOOLEAN);
	ck_assert(net_response_value(&d, 1, 2)->as.boolean);
	net_response_free(&d);
	/* an empty result keeps its columns */
	r.row_count = 0;
	buf_clear(&b);
	ck_assert_ptr_null(net_response_encode(&r, &b));
	d = decode_ok(&b);
	ck_assert_uint_eq(d.column_count, 3);
	ck_assert_uint_eq(d.row_count, 0);
	net_response_free(&d);
	buf_free(&b);
}
END_TEST

START_TEST(simple_responses_round_trip)
{
	struct buf b;
	buf_init(&b, 1024);
	struct net_response r = net_response_count(UINT64_MAX);
	ck_assert_ptr_null(net_response_encode(&r, &b));
	struct net_response d = decode_ok(&b);
	ck_assert_int_eq(d.kind, NET_RESP_COUNT);
	ck_assert_uint_eq(d.count, UINT64_MAX);
	net_response_free(&d);

	buf_clear(&b);
	r = net_response_ack("COMMIT 42");
	ck_assert_ptr_null(net_response_encode(&r, &b));
	d = decode_ok(&b);
	ck_assert_int_eq(d.kind, NET_RESP_ACK);
	ck_assert(slice_eq(d.message, cstr("COMMIT 42")));
	net_response_free(&d);

	buf_clear(&b);
	r = net_response_error(ERR_CONFLICT, "serialization failure");
	ck_assert_ptr_null(net_response_encode(&r, &b));
	d = decode_ok(&b);
	ck_assert_int_eq(d.kind, NET_RESP_ERROR);
	err *e = net_response_to_err(&d);
	ck_assert(err_is(e, ERR_CONFLICT));
	ck_assert_str_eq(err_msg(e), "serialization failure");
	err_free(e);
	net_response_free(&d);
	buf_free(&b);
}
END_TEST

START_TEST(status_round_trips)
{
	struct net_status_peer peers[2] = {{2, 17}, {3, 15}};
	struct net_status_line lines[2] = {{cstr("storage.pages"), cstr("1024")},
	                                   {cstr("role"), cstr("leader")}};
	struct net_response r = {.kind = NET_RESP_STATUS,
	                         .status = {.node_id = 1,
	                                    .leader_id = 1,
	                                    .term = 4,
	                                    .commit_index = 17,
	                                    .applied_index = 16,
	                                    .active_txns = 3,
	                                    .peers = peers,
	                                    .peer_count = 2,
	                                    .lines = lines,
	                                    .line_count = 2}};
	struct buf b;
	buf_init(&b, 1024);
	ck_assert_ptr_null(net_response_encode(&r, &b));
	struct net_response d = decode_ok(&b);
	ck_assert_int_eq(d.kind, NET_RESP_STATUS);
	ck_assert_uint_eq(d.status.term, 4);
	ck_assert_uint_eq(d.status.applied_index, 16);
	ck_assert_uint_eq(d.status.active_txns, 3);
	ck_assert_uint_eq(d.status.peer_count, 2);
	ck_assert_uint_eq(d.status.peers[1].id, 3);
	ck_assert_uint_eq(d.status.peers[1].match_index, 15);
	ck_assert_uint_eq(d.status.line_count, 2);
	ck_assert(slice_eq(d.status.lines[1].value, cstr("leader")));
	net_response_free(&d);
	buf_free(&b);
}
END_TEST

static void expect_bad_response(const struct buf *b)
{
	struct net_response d;
	err *e = net_response_decode(b->data, b->len, &d);
	ck_assert(err_is(e, ERR_DECODE));
	ck_assert_ptr_null(d.columns);
	ck_assert_ptr_null(d.values);
	err_free(e);
}

START_TEST(malformed_messages_are_decode_errors)
{
	struct buf b;
	buf_init(&b, 1024);
	struct codec_out o;
	/* unknown response kind */
	codec_out_init(&o, &b);
	codec_put_array(&o, 2);
	codec_put_u64(&o, 99);
	codec_put_u64(&o, 1);
	ck_assert_ptr_null(codec_out_end(&o));
	expect_bad_response(&b);
	/* a row with the wrong number of cells */
	buf_clear(&b);
	codec_out_init(&o, &b);
	codec_put_array(&o, 3);
	codec_put_u64(&o, NET_RESP_ROWS);
	codec_put_array(&o, 2);
	codec_put_str(&o, "a", 1);
	codec_put_str(&o, "b", 1);
	codec_put_array(&o, 1);
	codec_put_array(&o, 1);
	codec_put_nil(&o);
	ck_assert_ptr_null(codec_out_end(&o));
	expect_bad_response(&b);
	/* a value that is not a value (binary) */
	buf_clear(&b);
	codec_out_init(&o, &b);
	codec_put_array(&o, 3);
	codec_put_u64(&o, NET_RESP_ROWS);
	codec_put_array(&o, 1);
	codec_put_str(&o, "a", 1);
	codec_put_array(&o, 1);
	codec_put_array(&o, 1);
	codec_put_bin(&o, "x", 1);
	ck_assert_ptr_null(codec_out_end(&o));
	expect_bad_response(&b);
	/* an integer above int64 */
	buf_clear(&b);
	codec_out_init(&o, &b);
	codec_put_array(&o, 3);
	codec_put_u64(&o, NET_RESP_ROWS);
	codec_put_array(&o, 1);
	codec_put_str(&o, "a", 1);
	codec_put_array(&o, 1);
	codec_put_array(&o, 1);
	codec_put_u64(&o, UINT64_MAX);
	ck_assert_ptr_null(codec_out_end(&o));
	expect_bad_response(&b);
	/* an error code outside enum err_code */
	buf_clear(&b);
	codec_out_init(&o, &b);
	codec_put_array(&o, 3);
	codec_put_u64(&o, NET_RESP_ERROR);
	codec_put_u64(&o, 0);
	codec_put_str(&o, "x", 1);
	ck_assert_ptr_null(codec_out_end(&o));
	expect_bad_response(&b);
	/* requests: unknown kind, wrong type, trailing field */
	const char *bad_requests[] = {"\x92\x09\xa0", "\x92\xa1x\xa0", "\x93\x01\xa0\x01",
	                              "\x91\x01"};
	size_t bad_lens[] = {3, 4, 4, 2};
	for (int i = 0; i < 4; i++) {
		struct net_request req;
		err *e = net_request_decode((const uint8_t *)bad_requests[i], bad_lens[i], &req);
		ck_assert(err_is(e, ERR_DECODE));
		err_free(e);
	}
	buf_free(&b);
}
END_TEST

START_TEST(encoders_enforce_the_bounds)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	struct net_response r = {
	    .kind = NET_RESP_ROWS, .column_count = 2, .row_count = NET_PROTOCOL_MAX_VALUES};
	err *e = net_response_encode(&r, &b);
	ck_assert(err_is(e, ERR_LIMIT));
	err_free(e);
	r = net_response_error((enum err_code)0, "no such code");
	e = net_response_encode(&r, &b);
	ck_assert(err_is(e, ERR_INVALID));
	err_free(e);
	/* a response that does not fit the buffer leaves nothing behind */
	struct buf small;
	buf_init(&small, 8);
	r = net_response_ack("a message longer than eight bytes");
	e = net_response_encode(&r, &small);
	ck_assert(err_is(e, ERR_LIMIT));
	ck_assert_uint_eq(small.len, 0);
	err_free(e);
	buf_free(&small);
	struct net_request req = {(enum net_request_kind)7, cstr("")};
	e = net_request_encode(&req, &b);
	ck_assert(err_is(e, ERR_INVALID));
	err_free(e);
	buf_free(&b);
}
END_TEST

/* ---- fuzzing ---- */

/* Writes a random msgpack value of bounded depth, biased towards protocol-like shapes. */
static void random_value(struct prng *rng, struct codec_out *o, int depth)
{
	int pick = (int)prng_below(rng, depth >= 4 ? 7 : 9);
	switch (pick) {
	case 0: codec_put_nil(o); break;
	case 1: codec_put_bool(o, prng_chance(rng, 0.5)); break;
	case 2: codec_put_u64(o, prng_below(rng, 8)); break;
	case 3: codec_put_i64(o, (int64_t)prng_next(rng)); break;
	case 4: codec_put_f64(o, prng_double(rng)); break;
	case 5: codec_put_str(o, "col", prng_below(rng, 4)); break;
	case 6: codec_put_bin(o, "bb", prng_below(rng, 3)); break;
	default: {
		uint32_t n = (uint32_t)prng_below(rng, 5);
		codec_put_array(o, n);
		for (uint32_t i = 0; i < n; i++)
			random_value(rng, o, depth + 1);
	}
	}
}

/* A valid response of a random kind (strings borrowed from static storage). */
static void random_response(struct prng *rng, struct buf *b)
{
	static struct slice cols[4] = {{(const uint8_t *)"a", 1},
	                               {(const uint8_t *)"bb", 2},
	                               {(const uint8_t *)"", 0},
	                               {(const uint8_t *)"dd", 2}};
	struct net_value vals[16];
	for (int i = 0; i < 16; i++) {
		vals[i].type = (enum net_value_type)prng_below(rng, 5);
		vals[i].as.integer = (int64_t)prng_next(rng);
		if (vals[i].type == NET_VALUE_TEXT)
			vals[i].as.text = cols[prng_below(rng, 4)];
		if (vals[i].type == NET_VALUE_BOOLEAN)
			vals[i].as.boolean = prng_chance(rng, 0.5);
		if (vals[i].type == NET_VALUE_FLOAT)
			vals[i].as.real = prng_double(rng);
	}
	struct net_status_peer peers[2] = {{2, 5}, {3, 4}};
	struct net_status_line lines[1] = {{cols[0], cols[1]}};
	struct net_response r;
	switch (prng_below(rng, 5)) {
	case 0:
		r = (struct net_response){.kind = NET_RESP_ROWS,
		                          .columns = cols,
		                          .column_count = 4,
		                          .values = vals,
		                          .row_count = prng_below(rng, 5)};
		break;
	case 1: r = net_response_count(prng_next(rng)); break;
	case 2: r = net_response_ack("COMMIT 7"); break;
	case 3:
		r = (struct net_response){.kind = NET_RESP_STATUS,
		                          .status = {.node_id = 1,
		                                     .peers = peers,
		                                     .peer_count = 2,
		                                     .lines = lines,
		                                     .line_count = 1}};
		break;
	default: r = net_response_error(ERR_SYNTAX, "near FROM"); break;
	}
	ck_assert_ptr_null(net_response_encode(&r, b));
}

static void random_request(struct prng *rng, struct buf *b)
{
	struct net_request req = {(enum net_request_kind)(1 + prng_below(rng, 4)),
	                          cstr("SELECT 1")};
	ck_assert_ptr_null(net_request_encode(&req, b));
}

/* Damages a valid encoding: truncation, bit flips or a random byte overwrite. */
static size_t damage(struct prng *rng, uint8_t *bytes, size_t len)
{
	switch (prng_below(rng, 3)) {
	case 0: return (size_t)prng_below(rng, len);
	case 1:
		for (int i = 0; i < 1 + (int)prng_below(rng, 3); i++)
			bytes[prng_below(rng, len)] ^= (uint8_t)(1u << prng_below(rng, 8));
		return len;
	default: bytes[prng_below(rng, len)] = (uint8_t)prng_next(rng); return len;
	}
}

/* Makes one fuzz input of `kind` into b (0 random bytes, 1 random msgpack, 2 damaged). */
static void fuzz_input(struct prng *rng, int kind, bool response, struct buf *b)
{
	buf_clear(b);
	if (kind == 0) {
		size_t len = (size_t)prng_below(rng, 48);
		for (size_t i = 0; i < len; i++) {
			uint8_t byte = (uint8_t)prng_next(rng);
			ck_assert_ptr_null(buf_append(b, &byte, 1));
		}
		return;
	}
	if (kind == 1) {
		struct codec_out o;
		codec_out_init(&o, b);
		uint32_t n = 1 + (uint32_t)prng_below(rng, 9);
		codec_put_array(&o, n);
		codec_put_u64(&o, prng_below(rng, 7));
		for (uint32_t i = 1; i < n; i++)
			random_value(rng, &o, 1);
		ck_assert_ptr_null(codec_out_end(&o));
		return;
	}
	if (response)
		random_response(rng, b);
	else
		random_request(rng, b);
	if (b->len > 0)
		b->len = damage(rng, b->data, b->len);
}

/* A decoded response re-encodes, and the re-encoding decodes to the same shape. */
static void check_response(const struct net_response *r)
{
	struct buf again;
	buf_init(&again, 1 << 20);
	ck_assert_ptr_null(net_response_encode(r, &again));
	struct net_response d = decode_ok(&again);
	ck_assert_int_eq(d.kind, r->kind);
	if (r->kind == NET_RESP_ROWS) {
		ck_assert_uint_le(r->column_count, NET_PROTOCOL_MAX_COLUMNS);
		ck_assert_uint_eq(d.column_count, r->column_count);
		ck_assert_uint_eq(d.row_count, r->row_count);
		for (uint64_t i = 0; i < r->row_count * r->column_count; i++) {
			ck_assert_int_eq(d.values[i].type, r->values[i].type);
			ck_assert_int_le(r->values[i].type, NET_VALUE_TEXT);
		}
	}
	if (r->kind == NET_RESP_ERROR)
		ck_assert(r->code >= ERR_IO && r->code <= ERR_INTERNAL);
	net_response_free(&d);
	buf_free(&again);
}

START_TEST(fuzz_response_decoder)
{
	struct prng rng;
	prng_seed(&rng, 0x5e5510);
	struct buf b;
	buf_init(&b, 1 << 16);
	int ok[3] = {0}, bad[3] = {0};
	for (int kind = 0; kind < 3; kind++) {
		for (int i = 0; i < FUZZ_INPUTS_PER_KIND; i++) {
			fuzz_input(&rng, kind, true, &b);
			struct net_response r;
			err *e = net_response_decode(b.data, b.len, &r);
			if (e) {
				ck_assert(err_is(e, ERR_DECODE));
				ck_assert_ptr_null(r.values);
				err_free(e);
				bad[kind]++;
				continue;
			}
			ok[kind]++;
			check_response(&r);
			net_response_free(&r);
		}
	}
	/* random msgpack and damaged responses must both succeed and fail often */
	ck_assert_int_gt(ok[1], 20);
	ck_assert_int_gt(ok[2], 100);
	ck_assert_int_gt(bad[0] + bad[1] + bad[2], FUZZ_INPUTS_PER_KIND);
	buf_free(&b);
}
END_TEST

START_TEST(fuzz_request_decoder)
{
	struct prng rng;
	prng_seed(&rng, 0x4e9);
	struct buf b, again;
	buf_init(&b, 1 << 16);
	buf_init(&again, 1 << 16);
	int ok = 0, bad = 0;
	for (int kind = 0; kind < 3; kind++) {
		for (int i = 0; i < FUZZ_INPUTS_PER_KIND; i++) {
			fuzz_input(&rng, kind, false, &b);
			struct net_request req;
			err *e = net_request_decode(b.data, b.len, &req);
			if (e) {
				ck_assert(err_is(e, ERR_DECODE));
				err_free(e);
				bad++;
				continue;
			}
			ok++;
			ck_assert(req.kind >= NET_REQ_EXECUTE &&
			          req.kind <= NET_REQ_DESCRIBE_TABLE);
			buf_clear(&again);
			ck_assert_ptr_null(net_request_encode(&req, &again));
			struct net_request d;
			ck_assert_ptr_null(net_request_decode(again.data, again.len, &d));
			ck_assert_int_eq(d.kind, req.kind);
			ck_assert(slice_eq(d.text, req.text));
		}
	}
	ck_assert_int_gt(ok, 100);
	ck_assert_int_gt(bad, FUZZ_INPUTS_PER_KIND);
	buf_free(&b);
	buf_free(&again);
}
END_TEST

static Suite *protocol_suite(void)
{
	Suite *s = suite_create("protocol");
	TCase *tc = tcase_create("protocol");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, requests_round_trip);
	tcase_add_test(tc, result_sets_round_trip_with_every_value_type);
	tcase_add_test(tc, simple_responses_round_trip);
	tcase_add_test(tc, status_round_trips);
	tcase_add_test(tc, malformed_messages_are_decode_errors);
	tcase_add_test(tc, encoders_enforce_the_bounds);
	tcase_add_test(tc, fuzz_response_decoder);
	tcase_add_test(tc, fuzz_request_decoder);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(protocol_suite());
}
