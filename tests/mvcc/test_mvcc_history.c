/*
 * The validation history on its own: entries copy their keys (also picked out of an
 * array of writes by stride), and the conflict test finds, for every read version of a
 * window with gaps in its indexes, exactly the oldest conflicting entry a plain scan
 * finds — the search back from the newest entry must agree with it at every boundary.
 */
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "storage/mvcc_history.h"
#include "storage/mvcc_record.h"

static struct slice key_of(const char *s)
{
	return slice_of(s, strlen(s));
}

START_TEST(entry_copies_keys_by_stride)
{
	char a[] = "apple", b[] = "banana";
	struct mvcc__write writes[2] = {{.key = key_of(a)}, {.key = key_of(b)}};
	struct mvcc__history_entry e;
	ck_assert_ptr_null(mvcc__history_entry_make(&e, 7, (struct mvcc_txn_id){1, 2},
	                                            &writes[0].key, sizeof *writes, 2));
	a[0] = b[0] = 'X'; /* the entry holds copies */
	ck_assert_uint_eq(e.key_count, 2);
	ck_assert_int_eq(slice_cmp(e.keys[0], key_of("apple")), 0);
	ck_assert_int_eq(slice_cmp(e.keys[1], key_of("banana")), 0);
	ck_assert_uint_eq(e.index, 7);
	mvcc__history_entry_free(&e);
	struct mvcc__history_entry none;
	ck_assert_ptr_null(mvcc__history_entry_make(&none, 8, (struct mvcc_txn_id){1, 3}, NULL,
	                                            sizeof *writes, 0));
	ck_assert_uint_eq(none.key_count, 0);
	mvcc__history_entry_free(&none);
}
END_TEST

#define ENTRIES 300

/* Entry i (index 3 * i + 1) wrote key "k<i % 17>"; every fifth wrote nothing (aborted). */
static void fill(struct mvcc__history *h, uint64_t *indexes)
{
	mvcc__history_init(h, ENTRIES, (uint64_t)1 << 30);
	for (uint32_t i = 0; i < ENTRIES; i++) {
		char name[8];
		snprintf(name, sizeof name, "k%02u", i % 17);
		struct slice k = key_of(name);
		struct mvcc__history_entry e;
		indexes[i] = 3 * (uint64_t)i + 1;
		ck_assert_ptr_null(mvcc__history_entry_make(&e, indexes[i],
		                                            (struct mvcc_txn_id){1, i + 1}, &k,
		                                            sizeof k, i % 5 == 4 ? 0 : 1));
		ck_assert_ptr_null(mvcc__history_reserve(h));
		mvcc__history_push(h, &e);
	}
}

START_TEST(conflict_search_matches_a_scan)
{
	struct mvcc__history h;
	uint64_t indexes[ENTRIES];
	fill(&h, indexes);
	const char *keys[] = {"k00", "k05", "k16", "zz"};
	for (size_t k = 0; k < 2 * sizeof keys / sizeof *keys; k++) {
		/* a point range [key, key 0x00), then [key, key "5"): k05..k059, k16..k165 */
		const char *key = keys[k / 2];
		bool point = k % 2 == 0;
		char to[8];
		snprintf(to, sizeof to, "%s%s", key, point ? "" : "5");
		struct mvcc__range range = {
		    .from = key_of(key), .to = slice_of(to, strlen(to) + point), .bounded = true};
		for (uint64_t rv = h.floor; rv <= indexes[ENTRIES - 1] + 1; rv++) {
			uint64_t want = 0;
			for (uint32_t i = 0; i < ENTRIES && !want; i++) {
				const struct mvcc__history_entry *e = mvcc__history_at(&h, i);
				if (e->index > rv && e->key_count == 1 &&
				    slice_cmp(e->keys[0], range.from) >= 0 &&
				    slice_cmp(e->keys[0], range.to) < 0)
					want = e->index;
			}
			uint64_t at = 0;
			bool hit = mvcc__history_conflict(&h, rv, &range, 1, &at);
			ck_assert_msg(hit == (want != 0), "range from %s to %s, read version %llu",
			              key, to, (unsigned long long)rv);
			if (hit)
				ck_assert_uint_eq(at, want);
		}
	}
	mvcc__history_free(&h);
}
END_TEST

/* A point read is found among many keys of one entry too, and a near miss is not. */
START_TEST(point_read_of_a_wide_entry)
{
	enum { KEYS = 40 };
	char names[KEYS][8];
	struct slice keys[KEYS];
	for (int i = 0; i < KEYS; i++) {
		snprintf(names[i], sizeof names[i], "w%03d", 2 * i);
		keys[i] = key_of(names[i]);
	}
	struct mvcc__history h;
	mvcc__history_init(&h, 16, (uint64_t)1 << 20);
	for (uint32_t n = KEYS; n >= 4; n /= 3) { /* entries of 40, 13 and 4 keys */
		struct mvcc__history_entry e;
		ck_assert_ptr_null(mvcc__history_entry_make(
		    &e, h.count + 1, (struct mvcc_txn_id){4, n}, keys, sizeof *keys, n));
		ck_assert_ptr_null(mvcc__history_reserve(&h));
		mvcc__history_push(&h, &e);
	}
	uint64_t at;
	char hit_to[] = "w006\0", miss_to[] = "w007\0";
	struct mvcc__range hit = {key_of("w006"), slice_of(hit_to, 5), true};
	struct mvcc__range miss = {key_of("w007"), slice_of(miss_to, 5), true};
	for (uint64_t rv = 0; rv < 3; rv++) {
		ck_assert(mvcc__history_conflict(&h, rv, &hit, 1, &at));
		ck_assert_uint_eq(at, rv + 1);
		ck_assert(!mvcc__history_conflict(&h, rv, &miss, 1, &at));
	}
	char far_to[] = "w078\0"; /* only the first entry has it */
	struct mvcc__range far = {key_of("w078"), slice_of(far_to, 5), true};
	ck_assert(mvcc__history_conflict(&h, 0, &far, 1, &at));
	ck_assert(!mvcc__history_conflict(&h, 1, &far, 1, &at));
	mvcc__history_free(&h);
}
END_TEST

/* Pushes entries with indexes 1..n, one key of `key_bytes` bytes each. */
static void push_entries(struct mvcc__history *h, uint32_t n, size_t key_bytes)
{
	char key[64] = {0};
	ck_assert_uint_le(key_bytes, sizeof key);
	memset(key, 'k', key_bytes);
	for (uint32_t i = 1; i <= n; i++) {
		struct slice k = slice_of(key, key_bytes);
		struct mvcc__history_entry e;
		ck_assert_ptr_null(
		    mvcc__history_entry_make(&e, i, (struct mvcc_txn_id){2, i}, &k, sizeof k, 1));
		ck_assert_ptr_null(mvcc__history_reserve(h));
		mvcc__history_push(h, &e);
	}
}

/*
 * A full window drops a chunk of max_entries / 64 at once (one below 128 entries); an
 * entry over the byte bound on its own still goes with all the others.
 */
START_TEST(full_window_drops_a_chunk)
{
	struct mvcc__history h;
	mvcc__history_init(&h, 256, (uint64_t)1 << 30);
	push_entries(&h, 256, 8);
	struct mvcc__history_entry next;
	struct slice k = key_of("k");
	ck_assert_ptr_null(
	    mvcc__history_entry_make(&next, 257, (struct mvcc_txn_id){3, 1}, &k, sizeof k, 1));
	ck_assert_uint_eq(mvcc__history_drop_count(&h, &next), 4);
	mvcc__history_free(&h);
	mvcc__history_init(&h, 100, (uint64_t)1 << 30);
	push_entries(&h, 100, 8);
	ck_assert_uint_eq(mvcc__history_drop_count(&h, &next), 1);
	mvcc__history_free(&h);
	/* bytes: 10 entries fit, the incoming one alone is over the bound */
	uint64_t each = MVCC__HISTORY_ENTRY_OVERHEAD + MVCC__HISTORY_KEY_OVERHEAD + 8;
	mvcc__history_init(&h, 256, 10 * each);
	push_entries(&h, 10, 8);
	struct mvcc__history_entry big;
	char wide[64];
	memset(wide, 'w', sizeof wide);
	struct slice w = slice_of(wide, sizeof wide);
	ck_assert_ptr_null(
	    mvcc__history_entry_make(&big, 11, (struct mvcc_txn_id){3, 2}, &w, sizeof w, 1));
	big.cost = 11 * each;
	ck_assert_uint_eq(mvcc__history_drop_count(&h, &big), 11);
	ck_assert_uint_eq(mvcc__history_drop_count(&h, &next), 4); /* one over: a chunk */
	mvcc__history_entry_free(&big);
	mvcc__history_entry_free(&next);
	mvcc__history_free(&h);
}
END_TEST

static Suite *history_suite(void)
{
	Suite *s = suite_create("mvcc_history");
	TCase *tc = tcase_create("history");
	tcase_add_test(tc, entry_copies_keys_by_stride);
	tcase_add_test(tc, conflict_search_matches_a_scan);
	tcase_add_test(tc, point_read_of_a_wide_entry);
	tcase_add_test(tc, full_window_drops_a_chunk);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(history_suite());
}
