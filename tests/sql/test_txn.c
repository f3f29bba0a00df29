/*
 * Tests for the statement overlay (sql/txn.h): random puts, deletes, range deletions and
 * statement flushes against a model, every scan compared with the model's keys in the
 * range. The overlay's scans search a sorted index of the writes plus the writes made
 * since it was last brought up to date, so the runs are long enough to cross that
 * boundary many times. The first run found a second range deletion dropping the writes
 * made after the first one inside the first one's range.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "base/prng.h"
#include "check_main.h"
#include "sql/txn.h"
#include "storage/kv_memory.h"
#include "storage/mvcc.h"

#define KEYS 700

/* What the transaction holds for each key: a value number, or 0 when absent. */
static uint32_t model[KEYS];

static struct slice key_of(uint32_t i, uint8_t out[3])
{
	out[0] = 't';
	out[1] = (uint8_t)(i >> 8);
	out[2] = (uint8_t)i;
	return slice_of(out, 3);
}

/* Scans [from, to) of the overlay and checks it against the model. */
static void check_scan(struct sql_txn *t, uint32_t from, uint32_t to)
{
	uint8_t fb[3], tb[3];
	struct sql_txn_scan *sc;
	ck_assert_ptr_null(sql_txn_scan_open(t, key_of(from, fb), key_of(to, tb), &sc));
	uint32_t want = from;
	for (;;) {
		while (want < to && model[want] == 0)
			want++;
		struct slice k, v;
		bool done;
		ck_assert_ptr_null(sql_txn_scan_next(sc, &k, &v, &done));
		if (done) {
			ck_assert_msg(want == to, "scan [%u, %u) ended before key %u", from, to,
			              want);
			break;
		}
		ck_assert_uint_eq(k.len, 3);
		uint32_t got = (uint32_t)k.ptr[1] << 8 | k.ptr[2];
		ck_assert_msg(got == want, "scan [%u, %u) returned key %u, wanted %u", from, to,
		              got, want);
		uint32_t value;
		ck_assert_uint_eq(v.len, sizeof value);
		memcpy(&value, v.ptr, sizeof value);
		ck_assert_uint_eq(value, model[want]);
		want++;
	}
	sql_txn_scan_close(sc);
}

START_TEST(scans_agree_with_a_model)
{
	struct kv *kv;
	ck_assert_ptr_null(kvmem_open(&kv));
	struct prng p;
	prng_seed(&p, 77 + (uint64_t)_i);
	struct mvcc_options opts = {.prng = &p};
	struct mvcc *m;
	ck_assert_ptr_null(mvcc_open(kv, &opts, &m));
	struct mvcc_txn *mt;
	ck_assert_ptr_null(mvcc_begin(m, MVCC_LATEST, 0, &mt));
	memset(model, 0, sizeof model);
	struct sql_txn t;
	sql_txn_init(&t, mt);
	uint32_t next_value = 1;
	for (int op = 0; op < 6000; op++) {
		uint32_t roll = (uint32_t)prng_below(&p, 1000), k = (uint32_t)prng_below(&p, KEYS);
		uint8_t kb[3], eb[3];
		if (roll < 600) {
			uint32_t value = next_value++;
			ck_assert_ptr_null(
			    sql_txn_put(&t, key_of(k, kb), slice_of(&value, sizeof value)));
			model[k] = value;
		} else if (roll < 800) {
			ck_assert_ptr_null(sql_txn_delete(&t, key_of(k, kb)));
			model[k] = 0;
		} else if (roll < 805) {
			uint32_t end = k + 1 + (uint32_t)prng_below(&p, 40);
			end = end > KEYS ? KEYS : end;
			ck_assert_ptr_null(
			    sql_txn_delete_range(&t, key_of(k, kb), key_of(end, eb)));
			for (uint32_t i = k; i < end; i++)
				model[i] = 0;
		} else if (roll < 808) {
			ck_assert_ptr_null(
			    sql_txn_flush(&t)); /* the statement ends; a new one starts */
		} else {
			uint32_t end = k + (uint32_t)prng_below(&p, roll < 990 ? 20 : KEYS) + 1;
			check_scan(&t, k, end > KEYS ? KEYS : end);
		}
	}
	check_scan(&t, 0, KEYS);
	sql_txn_discard(&t);
	mvcc_txn_free(mt);
	mvcc_close(m);
	kv_close(kv);
}
END_TEST

static Suite *txn_suite(void)
{
	Suite *s = suite_create("txn");
	TCase *tc = tcase_create("overlay");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, scans_agree_with_a_model, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(txn_suite());
}
