/*
 * Running out of memory while decoding a commit record is the engine failing, not a bad
 * record: mvcc_apply returns ERR_NOMEM and changes nothing (a replica that recorded an
 * aborted outcome instead would differ from the others, which decode the same bytes),
 * and reopening a store returns ERR_NOMEM rather than rebuilding a validation window
 * without that record (which then let a conflicting transaction commit on this replica
 * alone). Allocation failures are injected by wrapping malloc (-Wl,--wrap=malloc): the
 * next allocation of a chosen size fails.
 */
#include "mvcc_harness.h"
#include "storage/mvcc_record.h"

void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);

static size_t fail_size; /* 0: no failure armed */
static int failures;

void *__wrap_malloc(size_t n)
{
	if (fail_size != 0 && n == fail_size) {
		fail_size = 0;
		failures++;
		return NULL;
	}
	return __real_malloc(n);
}

enum { READS = 6 }; /* more read ranges than a record keeps inline: the decoder allocates */

/* Arms the failure of the next allocation of the decoder's read set. */
static void fail_next_read_set(void)
{
	failures = 0;
	fail_size = READS * sizeof(struct mvcc__range);
}

/* A record that read READS keys at the latest version and writes `key`. */
static void wide_record(struct store *s, const char *key, struct buf *rec)
{
	struct mvcc_txn *t = begin(s, MVCC_LATEST, 0);
	char name[8], out[16];
	for (int i = 0; i < READS; i++) {
		snprintf(name, sizeof name, "r%d", i);
		get(t, name, out, sizeof out);
	}
	put(t, key, "w");
	encode(t, rec);
	mvcc_txn_free(t);
}

START_TEST(apply_out_of_memory_changes_nothing)
{
	struct store a, b;
	store_open(&a, 1);
	store_open(&b, 1);
	struct buf rec;
	buf_init(&rec, MVCC_RECORD_MAX_BYTES);
	wide_record(&a, "x", &rec);
	struct mvcc_outcome o;
	fail_next_read_set();
	err *e = mvcc_apply(a.m, rec.data, rec.len, 1, &o);
	ck_assert_int_eq(failures, 1);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(err_code(e), ERR_NOMEM);
	err_free(e);
	ck_assert_uint_eq(mvcc_applied_version(a.m), 0);
	/* applied again with memory, the record commits as on the replica that had it */
	struct mvcc_outcome oa, ob;
	ok(mvcc_apply(a.m, rec.data, rec.len, 1, &oa));
	ok(mvcc_apply(b.m, rec.data, rec.len, 1, &ob));
	ck_assert(oa.committed && ob.committed);
	uint64_t ha, hb;
	ok(mvcc_data_hash(a.m, &ha));
	ok(mvcc_data_hash(b.m, &hb));
	ck_assert_uint_eq(ha, hb);
	buf_free(&rec);
	store_close(&a);
	store_close(&b);
}
END_TEST

START_TEST(reopen_out_of_memory_is_an_error)
{
	struct store a, b;
	store_open(&a, 2);
	store_open(&b, 2);
	struct store *both[] = {&a, &b};
	write_one(&a, "x", "0");
	write_one(&b, "x", "0");
	/* later: a transaction that read x at version 1 ... */
	struct buf late, wide;
	buf_init(&late, MVCC_RECORD_MAX_BYTES);
	buf_init(&wide, MVCC_RECORD_MAX_BYTES);
	struct mvcc_txn *t = begin(&a, MVCC_LATEST, 0);
	char out[16];
	get(t, "x", out, sizeof out);
	put(t, "y", "1");
	encode(t, &late);
	mvcc_txn_free(t);
	/* ... while x is written again at version 2 by a record the reopen must decode */
	wide_record(&a, "x", &wide);
	struct mvcc_outcome o;
	for (int i = 0; i < 2; i++) {
		ck_assert(apply_next(both[i], &wide, &o));
		ok(mvcc_flush(both[i]->m, true));
	}
	mvcc_close(a.m);
	a.m = NULL;
	fail_next_read_set();
	err *e = mvcc_open(a.kv, &a.options, &a.m);
	ck_assert_int_eq(failures, 1);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(err_code(e), ERR_NOMEM);
	err_free(e);
	ok(mvcc_open(a.kv, &a.options, &a.m));
	struct mvcc_outcome oa, ob;
	apply_next(&a, &late, &oa);
	apply_next(&b, &late, &ob);
	ck_assert(!oa.committed && !ob.committed); /* x changed after the read */
	buf_free(&late);
	buf_free(&wide);
	store_close(&a);
	store_close(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mvcc_nomem");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, apply_out_of_memory_changes_nothing);
	tcase_add_test(tc, reopen_out_of_memory_is_an_error);
	suite_add_tcase(s, tc);
	return check_run(s);
}
