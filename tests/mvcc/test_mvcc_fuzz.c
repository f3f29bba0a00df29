/*
 * Fuzzing mvcc_apply()'s commit-record decoder: random buffers, truncations and bit flips
 * of valid records (FUZZ_INPUTS_PER_KIND each), and hand-built records that break one
 * rule each. Every input must give an outcome (never an `err *`, never a crash or a
 * sanitizer report); an undecodable one must change nothing; the store must stay readable.
 */
#include <stdlib.h>

#include "base/codec.h"
#include "mvcc_harness.h"

#define FUZZ_INPUTS_PER_KIND 12000
#define SEEDS 24

struct fuzz {
	struct store s;
	struct prng rng;
	struct buf seeds[SEEDS];
	uint64_t inputs, committed, decode_errors, other_aborts;
};

/*
 * Builds valid records from real transactions with reads, scans, puts, deletes and range
 * deletions.
 */
static void make_seeds(struct fuzz *f)
{
	for (int i = 0; i < SEEDS; i++) {
		struct mvcc_txn *t = begin(&f->s, MVCC_LATEST, 0);
		int ops = 1 + (int)prng_below(&f->rng, 8);
		for (int j = 0; j < ops; j++) {
			char k[16], v[32], rows[4096];
			snprintf(k, sizeof k, "key%u", (unsigned)prng_below(&f->rng, 40));
			uint64_t r = prng_below(&f->rng, 5);
			if (r == 0)
				get(t, k, v, sizeof v);
			else if (r == 1)
				scan_all(t, prng_chance(&f->rng, 0.5) ? k : NULL, NULL,
				         prng_chance(&f->rng, 0.5), rows, sizeof rows);
			else if (r == 2)
				put(t, k, "value");
			else if (r == 3)
				ok(mvcc_delete(t, S(k)));
			else
				ok(mvcc_delete_range(t, S(k), S("key~"))); /* format 2 */
		}
		put(t, "always", "written");
		buf_init(&f->seeds[i], MVCC_RECORD_MAX_BYTES);
		encode(t, &f->seeds[i]);
		mvcc_txn_free(t);
	}
}

/* Applies one input at the next index and checks the outcome is a sane value. */
static void apply_input(struct fuzz *f, const uint8_t *bytes, size_t len)
{
	bool check_hash = f->inputs % 64 == 0;
	uint64_t before = 0, after = 0;
	if (check_hash)
		ok(mvcc_state_hash(f->s.m, &before));
	uint64_t index = mvcc_applied_version(f->s.m) + 1;
	struct mvcc_outcome o;
	ok(mvcc_apply(f->s.m, bytes, len, index, &o));
	ck_assert_uint_eq(mvcc_applied_version(f->s.m), index);
	ck_assert_uint_lt(strlen(o.message), MVCC_MESSAGE_MAX);
	if (o.committed) {
		ck_assert_int_eq(o.code, 0);
		f->committed++;
	} else if (o.code == ERR_DECODE) {
		f->decode_errors++;
		if (check_hash) {
			ok(mvcc_state_hash(f->s.m, &after));
			ck_assert_uint_eq(before, after);
		}
	} else {
		ck_assert(o.code == ERR_CONFLICT || o.code == ERR_INVALID ||
		          o.code == ERR_UNKNOWN_OUTCOME);
		ck_assert_uint_gt(strlen(o.message), 0);
		f->other_aborts++;
	}
	f->inputs++;
}

static void fuzz_open(struct fuzz *f, uint64_t seed)
{
	memset(f, 0, sizeof *f);
	prng_seed(&f->rng, seed);
	struct kv *kv;
	ok(kvmem_open(&kv));
	f->s.kv = kv;
	prng_seed(&f->s.prng, seed + 1);
	f->s.log = (struct store_log){0};
	f->s.options = store_options(&f->s, 128);
	ok(mvcc_open(kv, &f->s.options, &f->s.m));
	for (int i = 0; i < 10; i++) {
		char k[16];
		snprintf(k, sizeof k, "key%d", i * 4);
		write_one(&f->s, k, "initial");
	}
	make_seeds(f);
}

/* The store still reads: a full scan at the latest version works. */
static void fuzz_close(struct fuzz *f)
{
	struct mvcc_txn *t = begin(&f->s, MVCC_LATEST, MVCC_READ_ONLY);
	struct mvcc_scan *sc;
	ok(mvcc_scan_open(t, NULL, NULL, false, &sc));
	for (int n = 0;; n++) {
		struct slice k, v;
		bool done;
		ok(mvcc_scan_next(sc, &k, &v, &done));
		if (done)
			break;
		ck_assert_int_lt(n, 1 << 20);
	}
	mvcc_scan_close(sc);
	mvcc_txn_free(t);
	for (int i = 0; i < SEEDS; i++)
		buf_free(&f->seeds[i]);
	store_close(&f->s);
}

START_TEST(fuzz_random_buffers)
{
	struct fuzz f;
	fuzz_open(&f, 1);
	uint8_t bytes[256];
	for (int i = 0; i < FUZZ_INPUTS_PER_KIND; i++) {
		size_t len = prng_below(&f.rng, sizeof bytes);
		for (size_t j = 0; j < len; j++)
			bytes[j] = (uint8_t)prng_next(&f.rng);
		/* half of them start like a record, to get past the first checks */
		if (len > 2 && i % 2) {
			bytes[0] = 0x96;
			bytes[1] = 0x01;
		}
		apply_input(&f, bytes, len);
	}
	ck_assert_uint_gt(f.decode_errors, FUZZ_INPUTS_PER_KIND / 2);
	fuzz_close(&f);
}
END_TEST

START_TEST(fuzz_truncated_records)
{
	struct fuzz f;
	fuzz_open(&f, 2);
	for (int i = 0; i < FUZZ_INPUTS_PER_KIND; i++) {
		const struct buf *seed = &f.seeds[prng_below(&f.rng, SEEDS)];
		size_t len = prng_below(&f.rng, seed->len); /* strictly shorter */
		apply_input(&f, seed->data, len);
	}
	ck_assert_uint_eq(f.decode_errors, FUZZ_INPUTS_PER_KIND);
	fuzz_close(&f);
}
END_TEST

START_TEST(fuzz_bit_flipped_records)
{
	struct fuzz f;
	fuzz_open(&f, 3);
	uint8_t *copy = malloc(1 << 16);
	ck_assert_ptr_nonnull(copy);
	for (int i = 0; i < FUZZ_INPUTS_PER_KIND; i++) {
		const struct buf *seed = &f.seeds[prng_below(&f.rng, SEEDS)];
		ck_assert_uint_le(seed->len, 1 << 16);
		memcpy(copy, seed->data, seed->len);
		int flips = 1 + (int)prng_below(&f.rng, 4);
		for (int j = 0; j < flips; j++)
			copy[prng_below(&f.rng, seed->len)] ^=
			    (uint8_t)(1u << prng_below(&f.rng, 8));
		apply_input(&f, copy, seed->len);
	}
	/* flips of ids, versions and bytes inside keys decode fine: both kinds occur */
	ck_assert_uint_gt(f.decode_errors, 0);
	ck_assert_uint_gt(f.committed + f.other_aborts, 0);
	free(copy);
	fuzz_close(&f);
}
END_TEST

/* Hand-built records, each breaking one rule. */
struct shape {
	uint64_t format, id_hi, id_lo, read_version;
	uint32_t range_elems; /* elements in the read-set array */
	const char *from, *to;
	uint32_t write_elems;
	const char *k1, *k2;
	size_t k1_len;
	bool ranges;            /* a seventh element: the deleted ranges */
	uint32_t deleted_elems; /* elements in it */
	const char *d_from, *d_to;
};

static void encode_shape(const struct shape *sh, struct buf *out)
{
	buf_clear(out);
	struct codec_out o;
	codec_out_init(&o, out);
	codec_put_array(&o, sh->ranges ? 7 : 6);
	codec_put_u64(&o, sh->format);
	codec_put_u64(&o, sh->id_hi);
	codec_put_u64(&o, sh->id_lo);
	codec_put_u64(&o, sh->read_version);
	codec_put_array(&o, sh->range_elems);
	for (uint32_t i = 0; i < sh->range_elems; i++) {
		const char *b = i % 2 ? sh->to : sh->from;
		if (b)
			codec_put_bin(&o, b, strlen(b));
		else
			codec_put_nil(&o);
	}
	codec_put_array(&o, sh->write_elems);
	for (uint32_t i = 0; i < sh->write_elems; i++) {
		if (i % 2) {
			codec_put_bin(&o, "v", 1);
			continue;
		}
		const char *k = i == 0 ? sh->k1 : sh->k2;
		codec_put_bin(&o, k, i == 0 && sh->k1_len ? sh->k1_len : strlen(k));
	}
	if (sh->ranges) {
		codec_put_array(&o, sh->deleted_elems);
		for (uint32_t i = 0; i < sh->deleted_elems; i++) {
			const char *b = i % 2 ? sh->d_to : sh->d_from;
			codec_put_bin(&o, b, strlen(b));
		}
	}
	ok(codec_out_end(&o));
}

START_TEST(records_breaking_one_rule)
{
	struct fuzz f;
	fuzz_open(&f, 4);
	static char long_key[MVCC_KEY_MAX + 1];
	memset(long_key, 'x', sizeof long_key);
	const struct shape good = {1, 7, 9, 0, 2, "a", "b", 4, "k1", "k2", 0};
	struct {
		struct shape sh;
		enum err_code code;
	} cases[] = {
	    {good, 0},
	    {{2, 7, 10, 0, 2, "a", "b", 4, "k1", "k2", 0}, ERR_DECODE},   /* format */
	    {{1, 0, 0, 0, 2, "a", "b", 4, "k1", "k2", 0}, ERR_DECODE},    /* zero id */
	    {{1, 7, 11, 99, 2, "a", "b", 4, "k1", "k2", 0}, ERR_INVALID}, /* future read */
	    {{1, 7, 12, 0, 3, "a", "b", 4, "k1", "k2", 0}, ERR_DECODE},   /* odd ranges */
	    {{1, 7, 13, 0, 2, "b", "a", 4, "k1", "k2", 0}, ERR_DECODE},   /* from > to */
	    {{1, 7, 14, 0, 2, "a", "a", 4, "k1", "k2", 0}, ERR_DECODE},   /* empty range */
	    {{1, 7, 15, 0, 2, "a", NULL, 4, "k2", "k1", 0}, ERR_DECODE},  /* unsorted writes */
	    {{1, 7, 16, 0, 2, "a", NULL, 4, "k1", "k1", 0}, ERR_DECODE},  /* duplicate write */
	    {{1, 7, 17, 0, 2, "a", NULL, 3, "k1", "k2", 0}, ERR_DECODE},  /* odd writes */
	    {{1, 7, 18, 0, 0, NULL, NULL, 2, "", "k2", 0}, ERR_DECODE},   /* empty key */
	    {{1, 7, 19, 0, 0, NULL, NULL, 2, long_key, "", MVCC_KEY_MAX + 1}, ERR_DECODE},
	    {{1, 7, 20, 0, 0, NULL, NULL, 2, long_key, "", MVCC_KEY_MAX}, 0}, /* longest key */
	    /* format 2: deleted ranges */
	    {{2, 7, 21, 0, 2, "a", "b", 4, "k1", "k2", 0, true, 2, "c", "d"}, 0},
	    {{1, 7, 22, 0, 2, "a", "b", 4, "k1", "k2", 0, true, 2, "c", "d"}, ERR_DECODE},
	    {{2, 7, 23, 0, 2, "a", "b", 4, "k1", "k2", 0, true, 0, "c", "d"}, ERR_DECODE},
	    {{2, 7, 24, 0, 2, "a", "b", 4, "k1", "k2", 0, true, 3, "c", "d"}, ERR_DECODE},
	    {{2, 7, 25, 0, 2, "a", "b", 4, "k1", "k2", 0, true, 2, "d", "c"}, ERR_DECODE},
	    {{2, 7, 26, 0, 2, "a", "b", 4, "k1", "k2", 0, true, 2, "c", "c"}, ERR_DECODE},
	    {{2, 7, 27, 0, 2, "a", "b", 4, "k1", "k2", 0, true, 2, "", "c"}, ERR_DECODE},
	    {good, 0}, /* the same id again: the first outcome, as a duplicate */
	};
	struct buf rec;
	buf_init(&rec, 1 << 16);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		encode_shape(&cases[i].sh, &rec);
		struct mvcc_outcome o;
		ck_assert(!apply_next(&f.s, &rec, &o) || cases[i].code == 0);
		ck_assert_msg(o.code == cases[i].code, "case %zu: got %d (%s)", i, o.code,
		              o.message);
		ck_assert_int_eq(o.duplicate, i == sizeof cases / sizeof cases[0] - 1);
	}
	/* a record larger than the bound is refused by its length alone: no byte is read */
	struct mvcc_outcome o;
	ok(mvcc_apply(f.s.m, rec.data, MVCC_RECORD_MAX_BYTES + 1, mvcc_applied_version(f.s.m) + 1,
	              &o));
	ck_assert_int_eq(o.code, ERR_DECODE);
	buf_free(&rec);
	fuzz_close(&f);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("mvcc_fuzz");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, fuzz_random_buffers);
	tcase_add_test(tc, fuzz_truncated_records);
	tcase_add_test(tc, fuzz_bit_flipped_records);
	tcase_add_test(tc, records_breaking_one_rule);
	suite_add_tcase(suite, tc);
	return check_run(suite);
}
