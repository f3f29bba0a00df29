/*
 * The anomaly catalogue (Adya's G0, G1a, G1b, G1c, G-single, G2-item, G2 with a predicate;
 * Berenson et al.'s P4 lost update; Fekete et al.'s read-only transaction anomaly), one
 * test each. Every test drives the interleaving that produces the anomaly under weaker
 * isolation and checks that cairn prevents it: by snapshot reads or by aborting a
 * transaction at validation, leaving a state some serial order explains.
 */
#include <stdlib.h>

#include "mvcc_harness.h"

/* Encodes t's record now (as its COMMIT would propose it) and frees t. */
static void propose(struct mvcc_txn *t, struct buf *rec)
{
	buf_init(rec, MVCC_RECORD_MAX_BYTES);
	encode(t, rec);
	mvcc_txn_free(t);
}

/* Applies a proposed record at the next index and returns its outcome code. */
static enum err_code decide(struct store *s, struct buf *rec)
{
	struct mvcc_outcome o;
	apply_next(s, rec, &o);
	buf_free(rec);
	return o.code;
}

static int as_int(struct mvcc_txn *t, const char *key)
{
	char v[32];
	return atoi(get(t, key, v, sizeof v));
}

static void put_int(struct mvcc_txn *t, const char *key, int value)
{
	char v[32];
	snprintf(v, sizeof v, "%d", value);
	put(t, key, v);
}

/* G0, dirty write: two writers of x and y interleave; the result is one writer's pair. */
START_TEST(g0_dirty_write)
{
	struct store s;
	store_open(&s, 100);
	struct mvcc_txn *t1 = begin(&s, MVCC_LATEST, 0), *t2 = begin(&s, MVCC_LATEST, 0);
	put(t1, "x", "1");
	put(t2, "x", "2");
	put(t2, "y", "2");
	put(t1, "y", "1");
	struct buf r1, r2;
	propose(t2, &r2);
	propose(t1, &r1);
	ck_assert_int_eq(decide(&s, &r2), 0);
	ck_assert_int_eq(decide(&s, &r1), 0);
	char x[8], y[8];
	read_at(&s, MVCC_LATEST, "x", x, sizeof x);
	read_at(&s, MVCC_LATEST, "y", y, sizeof y);
	/* writes are installed whole, in log order: t1 (the later) wins both */
	ck_assert_str_eq(x, "1");
	ck_assert_str_eq(y, "1");
	/* and the intermediate state, after t2 alone, is t2's pair */
	read_at(&s, 1, "x", x, sizeof x);
	read_at(&s, 1, "y", y, sizeof y);
	ck_assert_str_eq(x, "2");
	ck_assert_str_eq(y, "2");
	store_close(&s);
}
END_TEST

/* G1a, aborted read: nobody sees writes of a rolled-back or validation-aborted transaction. */
START_TEST(g1a_aborted_read)
{
	struct store s;
	store_open(&s, 101);
	write_one(&s, "x", "good");
	/* rolled back before commit */
	struct mvcc_txn *t1 = begin(&s, MVCC_LATEST, 0);
	put(t1, "x", "bad");
	struct mvcc_txn *t2 = begin(&s, MVCC_LATEST, 0);
	char v[16];
	ck_assert_str_eq(get(t2, "x", v, sizeof v), "good");
	mvcc_txn_free(t1);
	ck_assert_str_eq(get(t2, "x", v, sizeof v), "good");
	mvcc_txn_free(t2);
	/* aborted at validation: its record reached the log, its writes did not */
	struct mvcc_txn *a = begin(&s, MVCC_LATEST, 0);
	get(a, "x", v, sizeof v);
	put(a, "x", "bad");
	write_one(&s, "x", "good2");
	ck_assert_int_eq(commit(&s, a), ERR_CONFLICT);
	ck_assert_str_eq(read_at(&s, MVCC_LATEST, "x", v, sizeof v), "good2");
	store_close(&s);
}
END_TEST

/* G1b, intermediate read: only a transaction's final write of a key is ever visible. */
START_TEST(g1b_intermediate_read)
{
	struct store s;
	store_open(&s, 102);
	write_one(&s, "x", "0");
	struct mvcc_txn *t1 = begin(&s, MVCC_LATEST, 0);
	put(t1, "x", "intermediate");
	struct mvcc_txn *t2 = begin(&s, MVCC_LATEST, MVCC_READ_ONLY);
	char v[32];
	ck_assert_str_eq(get(t2, "x", v, sizeof v), "0");
	put(t1, "x", "final");
	ck_assert_int_eq(commit(&s, t1), 0);
	ck_assert_str_eq(get(t2, "x", v, sizeof v), "0");
	mvcc_txn_free(t2);
	for (uint64_t version = 0; version <= mvcc_applied_version(s.m); version++)
		ck_assert_str_ne(read_at(&s, version, "x", v, sizeof v), "intermediate");
	ck_assert_str_eq(read_at(&s, MVCC_LATEST, "x", v, sizeof v), "final");
	store_close(&s);
}
END_TEST

/*
 * G1c, circular information flow: t1 writes x and reads y, t2 writes y and reads x. Each
 * would have to read the other's write for a cycle; each reads committed data only, and
 * the second to commit read what the first wrote, so it aborts.
 */
START_TEST(g1c_circular_information_flow)
{
	struct store s;
	store_open(&s, 103);
	write_one(&s, "x", "0");
	write_one(&s, "y", "0");
	struct mvcc_txn *t1 = begin(&s, MVCC_LATEST, 0), *t2 = begin(&s, MVCC_LATEST, 0);
	put(t1, "x", "1");
	put(t2, "y", "2");
	char v[16];
	ck_assert_str_eq(get(t1, "y", v, sizeof v), "0");
	ck_assert_str_eq(get(t2, "x", v, sizeof v), "0");
	struct buf r1, r2;
	propose(t1, &r1);
	propose(t2, &r2);
	ck_assert_int_eq(decide(&s, &r1), 0);
	ck_assert_int_eq(decide(&s, &r2), ERR_CONFLICT);
	ck_assert_str_eq(read_at(&s, MVCC_LATEST, "y", v, sizeof v), "0");
	store_close(&s);
}
END_TEST

/* P4, lost update: two increments from the same snapshot; one aborts, its retry counts. */
START_TEST(p4_lost_update)
{
	struct store s;
	store_open(&s, 104);
	write_one(&s, "counter", "0");
	struct mvcc_txn *t1 = begin(&s, MVCC_LATEST, 0), *t2 = begin(&s, MVCC_LATEST, 0);
	put_int(t1, "counter", as_int(t1, "counter") + 1);
	put_int(t2, "counter", as_int(t2, "counter") + 1);
	struct buf r1, r2;
	propose(t1, &r1);
	propose(t2, &r2);
	ck_assert_int_eq(decide(&s, &r1), 0);
	ck_assert_int_eq(decide(&s, &r2), ERR_CONFLICT);
	struct mvcc_txn *retry = begin(&s, MVCC_LATEST, 0);
	put_int(retry, "counter", as_int(retry, "counter") + 1);
	ck_assert_int_eq(commit(&s, retry), 0);
	char v[16];
	ck_assert_str_eq(read_at(&s, MVCC_LATEST, "counter", v, sizeof v), "2");
	store_close(&s);
}
END_TEST

/*
 * G-single, read skew: a transfer between x and y commits between a reader's two reads. The
 * reader still sees a consistent total, and a read-write reader aborts.
 */
START_TEST(g_single_read_skew)
{
	struct store s;
	store_open(&s, 105);
	struct mvcc_txn *init = begin(&s, MVCC_LATEST, 0);
	put(init, "x", "50");
	put(init, "y", "50");
	ck_assert_int_eq(commit(&s, init), 0);
	struct mvcc_txn *reader = begin(&s, MVCC_LATEST, MVCC_READ_ONLY);
	struct mvcc_txn *writer_reader = begin(&s, MVCC_LATEST, 0);
	int rx = as_int(reader, "x"), wx = as_int(writer_reader, "x");
	struct mvcc_txn *transfer = begin(&s, MVCC_LATEST, 0);
	put_int(transfer, "x", as_int(transfer, "x") - 25);
	put_int(transfer, "y", as_int(transfer, "y") + 25);
	ck_assert_int_eq(commit(&s, transfer), 0);
	ck_assert_int_eq(rx + as_int(reader, "y"), 100);
	int total = wx + as_int(writer_reader, "y");
	ck_assert_int_eq(total, 100);
	put_int(writer_reader, "total", total);
	ck_assert_int_eq(commit(&s, writer_reader), ERR_CONFLICT);
	mvcc_txn_free(reader);
	store_close(&s);
}
END_TEST

/*
 * G2-item, write skew: two doctors on call; each checks that the other is on call and goes
 * off. Under snapshot isolation both succeed; here the second aborts.
 */
START_TEST(g2_item_write_skew)
{
	struct store s;
	store_open(&s, 106);
	struct mvcc_txn *init = begin(&s, MVCC_LATEST, 0);
	put(init, "alice", "1");
	put(init, "bob", "1");
	ck_assert_int_eq(commit(&s, init), 0);
	struct mvcc_txn *t1 = begin(&s, MVCC_LATEST, 0), *t2 = begin(&s, MVCC_LATEST, 0);
	ck_assert_int_eq(as_int(t1, "alice") + as_int(t1, "bob"), 2);
	put(t1, "alice", "0");
	ck_assert_int_eq(as_int(t2, "alice") + as_int(t2, "bob"), 2);
	put(t2, "bob", "0");
	struct buf r1, r2;
	propose(t1, &r1);
	propose(t2, &r2);
	ck_assert_int_eq(decide(&s, &r1), 0);
	ck_assert_int_eq(decide(&s, &r2), ERR_CONFLICT);
	struct mvcc_txn *check = begin(&s, MVCC_LATEST, MVCC_READ_ONLY);
	ck_assert_int_eq(as_int(check, "alice") + as_int(check, "bob"), 1);
	mvcc_txn_free(check);
	store_close(&s);
}
END_TEST

/* Counts the keys in [from, to) through a scan. */
static int count_range(struct mvcc_txn *t, const char *from, const char *to)
{
	struct slice f = S(from), u = S(to);
	struct mvcc_scan *sc;
	ok(mvcc_scan_open(t, &f, &u, false, &sc));
	int n = 0;
	for (;;) {
		struct slice k, v;
		bool done;
		ok(mvcc_scan_next(sc, &k, &v, &done));
		if (done)
			break;
		n++;
	}
	mvcc_scan_close(sc);
	return n;
}

/*
 * G2 with a predicate, the phantom: at most 3 shifts per day. Two transactions count the
 * day's shifts by a range scan and each inserts a new key into the range. No key either
 * read existed before, so only the range in the read set can catch it.
 */
START_TEST(g2_predicate_phantom)
{
	struct store s;
	store_open(&s, 107);
	write_one(&s, "shift/mon/1", "ann");
	write_one(&s, "shift/mon/2", "ben");
	write_one(&s, "shift/tue/1", "cat");
	struct mvcc_txn *t1 = begin(&s, MVCC_LATEST, 0), *t2 = begin(&s, MVCC_LATEST, 0);
	ck_assert_int_eq(count_range(t1, "shift/mon/", "shift/mon0"), 2);
	put(t1, "shift/mon/3", "dan");
	ck_assert_int_eq(count_range(t2, "shift/mon/", "shift/mon0"), 2);
	put(t2, "shift/mon/4", "eve");
	struct buf r1, r2;
	propose(t1, &r1);
	propose(t2, &r2);
	ck_assert_int_eq(decide(&s, &r1), 0);
	ck_assert_int_eq(decide(&s, &r2), ERR_CONFLICT);
	struct mvcc_txn *check = begin(&s, MVCC_LATEST, MVCC_READ_ONLY);
	ck_assert_int_eq(count_range(check, "shift/mon/", "shift/mon0"), 3);
	mvcc_txn_free(check);
	/* an insert outside the scanned range is no conflict */
	struct mvcc_txn *t3 = begin(&s, MVCC_LATEST, 0);
	ck_assert_int_eq(count_range(t3, "shift/tue/", "shift/tue0"), 1);
	put(t3, "shift/tue/2", "fay");
	write_one(&s, "shift/wed/1", "gus");
	ck_assert_int_eq(commit(&s, t3), 0);
	store_close(&s);
}
END_TEST

/*
 * The read-only transaction anomaly (Fekete, O'Neil and O'Neil, 2004). Checking x and
 * savings y start at 0. T2 withdraws 10 from x, charging a penalty of 1 if x + y would go
 * negative; T1 deposits 20 into y; T3 only reads. Under snapshot isolation: T2 reads
 * (0, 0); T1 commits y = 20; T3 reads (0, 20), so T1 precedes T2 for T3; T2 commits
 * x = -11, which only makes sense if T2 preceded T1. Here T2 read y, which T1 wrote after
 * T2's snapshot, so T2 aborts; what T3 saw stays consistent with the serial order.
 */
START_TEST(read_only_transaction_anomaly)
{
	struct store s;
	store_open(&s, 108);
	struct mvcc_txn *init = begin(&s, MVCC_LATEST, 0);
	put(init, "x", "0");
	put(init, "y", "0");
	ck_assert_int_eq(commit(&s, init), 0);
	struct mvcc_txn *t2 = begin(&s, MVCC_LATEST, 0);
	int x = as_int(t2, "x"), y = as_int(t2, "y");
	struct mvcc_txn *t1 = begin(&s, MVCC_LATEST, 0);
	put_int(t1, "y", as_int(t1, "y") + 20);
	ck_assert_int_eq(commit(&s, t1), 0);
	struct mvcc_txn *t3 = begin(&s, MVCC_LATEST, MVCC_READ_ONLY);
	ck_assert_int_eq(as_int(t3, "x"), 0);
	ck_assert_int_eq(as_int(t3, "y"), 20);
	mvcc_txn_free(t3);
	put_int(t2, "x", x + y - 10 < 0 ? x - 11 : x - 10);
	ck_assert_int_eq(commit(&s, t2), ERR_CONFLICT);
	/* the retry sees the deposit and pays no penalty */
	t2 = begin(&s, MVCC_LATEST, 0);
	x = as_int(t2, "x");
	y = as_int(t2, "y");
	put_int(t2, "x", x + y - 10 < 0 ? x - 11 : x - 10);
	ck_assert_int_eq(commit(&s, t2), 0);
	struct mvcc_txn *check = begin(&s, MVCC_LATEST, MVCC_READ_ONLY);
	ck_assert_int_eq(as_int(check, "x"), -10);
	ck_assert_int_eq(as_int(check, "y"), 20);
	mvcc_txn_free(check);
	store_close(&s);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("mvcc_anomalies");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, g0_dirty_write);
	tcase_add_test(tc, g1a_aborted_read);
	tcase_add_test(tc, g1b_intermediate_read);
	tcase_add_test(tc, g1c_circular_information_flow);
	tcase_add_test(tc, p4_lost_update);
	tcase_add_test(tc, g_single_read_skew);
	tcase_add_test(tc, g2_item_write_skew);
	tcase_add_test(tc, g2_predicate_phantom);
	tcase_add_test(tc, read_only_transaction_anomaly);
	suite_add_tcase(suite, tc);
	return check_run(suite);
}
