/*
 * Unit tests of lazy followers (raft.h, "Lazy followers"). The leader's side: the first
 * quorum - 1 answering followers after it are asked to persist at once and the others may
 * defer, and get new entries a tick later unless they wait for a commit; a follower
 * fallen silent hands its role on; a half-full window asks for haste; of the lazy ones,
 * only those waiting for it hear of a commit index at once (their proposals, their read
 * points).
 * The follower's side: a lazy append's entries and acknowledgement wait (its committed
 * entries do not), until a tick or an append asking for haste ends the wait with one
 * acknowledgement for all; a new term drops what was owed to the old leader.
 */
#include "check_main.h"
#include "raft/replication.h"
#include "raft_fixture.h"

static struct raft_hard_state hs_term(uint64_t term)
{
	return (struct raft_hard_state){term, 0, 0};
}

/* Whether the drained append to `to` carried RAFT_APPEND_LAZY (it must exist). */
static bool lazy_to(const struct fixture *f, uint32_t to)
{
	const struct raft_message *m = fix_find(f, RAFT_MSG_APPEND, to);
	ck_assert_ptr_nonnull(m);
	return (m->ctx & RAFT_APPEND_LAZY) != 0;
}

/* Leader 1 of five, every follower streaming (acknowledged the no-op); returns it. */
static uint64_t leader_of_five(struct fixture *f)
{
	fix_init(f, 1, 5, NULL, 0, hs_term(1));
	fix_make_leader(f);
	uint64_t noop = fix_status(f).last_index;
	for (uint32_t from = 2; from <= 5; from++)
		fix_ack_append(f, from, noop);
	return noop;
}

static void tick(struct fixture *f)
{
	ck_assert_ptr_null(raft_tick(f->raft));
	fix_drain(f);
}

/* Follower `from` forwards proposal `id`; followers 2 and 3 acknowledge it: it commits. */
static void forward_and_commit(struct fixture *f, uint32_t from, uint64_t id)
{
	uint64_t term = fix_status(f).term;
	struct raft_entry e = {.type = RAFT_ENTRY_NORMAL,
	                       .origin = from,
	                       .id = id,
	                       .data = (const uint8_t *)"x",
	                       .len = 1};
	fix_step(f, (struct raft_message){.type = RAFT_MSG_PROPOSE,
	                                  .from = from,
	                                  .to = 1,
	                                  .term = term,
	                                  .entries = &e,
	                                  .n_entries = 1});
	uint64_t last = fix_status(f).last_index;
	fix_ack_append(f, 2, last);
	fix_ack_append(f, 3, last);
	ck_assert_uint_eq(fix_status(f).commit, last);
}

/* Eager followers get new entries at once; lazy ones a tick later, marked lazy. */
START_TEST(test_leader_asks_a_quorum_for_haste)
{
	struct fixture f;
	leader_of_five(&f);
	for (uint64_t id = 1; id <= 3; id++) {
		fix_propose(&f, id);
		ck_assert(!lazy_to(&f, 2));
		ck_assert(!lazy_to(&f, 3));
		ck_assert_ptr_null(fix_find(&f, RAFT_MSG_APPEND, 4));
		ck_assert_ptr_null(fix_find(&f, RAFT_MSG_APPEND, 5));
		tick(&f);
		ck_assert(lazy_to(&f, 4));
		ck_assert(lazy_to(&f, 5));
		ck_assert_uint_eq(fix_find(&f, RAFT_MSG_APPEND, 4)->n_entries, 1);
		for (uint32_t from = 2; from <= 5; from++) /* lazy ones answer at their ticks */
			fix_ack_append(&f, from, fix_status(&f).last_index);
	}
	fix_free(&f);
}
END_TEST

/* Follower 2 stops answering: within a few ticks follower 4 persists at once instead. */
START_TEST(test_silent_follower_hands_its_role_on)
{
	struct fixture f;
	leader_of_five(&f);
	for (int t = 0; t <= RAFT__LAZY_HEARD_TICKS; t++) {
		tick(&f);
		for (uint32_t from = 3; from <= 5; from++) /* everyone but 2 answers */
			fix_step(&f, (struct raft_message){
			                 .type = RAFT_MSG_HEARTBEAT_RESP,
			                 .from = from,
			                 .to = 1,
			                 .index = fix_status(&f).last_index, /* its last */
			                 .term = fix_status(&f).term});
	}
	fix_propose(&f, 1);
	ck_assert(!lazy_to(&f, 2)); /* silent: asked for haste, in case it is only slow */
	ck_assert(!lazy_to(&f, 3));
	ck_assert(!lazy_to(&f, 4));
	ck_assert_ptr_null(fix_find(&f, RAFT_MSG_APPEND, 5));
	tick(&f);
	ck_assert(lazy_to(&f, 5));
	fix_free(&f);
}
END_TEST

/* A lazy follower's commits, announced to it as they come, fill its window: at half, it
 * is hurried, and gets new entries at once. */
START_TEST(test_half_full_window_asks_for_haste)
{
	struct fixture f;
	leader_of_five(&f);
	struct raft_config defaults;
	uint32_t peers[] = {1, 2, 3, 4, 5};
	raft_config_default(&defaults, 1, peers, 5);
	uint32_t half = defaults.max_inflight_msgs / 2;
	for (uint64_t id = 1; id <= half; id++) {
		forward_and_commit(&f, 4, id);
		ck_assert(lazy_to(&f, 4));
	}
	fix_propose(&f, half + 1);
	ck_assert(!lazy_to(&f, 4));
	fix_free(&f);
}
END_TEST

/* Of the lazy followers, a commit index goes only to the one whose proposal it commits,
 * with the entries it waits for; the eager ones hear of every commit. */
START_TEST(test_commit_announced_where_awaited)
{
	struct fixture f;
	uint64_t noop = leader_of_five(&f);
	forward_and_commit(&f, 5, 1);
	const struct raft_message *m = fix_find(&f, RAFT_MSG_APPEND, 5);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->commit, noop + 1);
	ck_assert_uint_eq(m->n_entries, 1);
	ck_assert(m->ctx & RAFT_APPEND_LAZY);
	ck_assert_ptr_null(fix_find(&f, RAFT_MSG_APPEND, 4));
	for (uint32_t to = 2; to <= 3; to++)
		ck_assert_uint_eq(fix_find(&f, RAFT_MSG_APPEND, to)->commit, noop + 1);
	forward_and_commit(&f, 4, 2); /* now the other lazy one's: a commit index alone */
	m = fix_find(&f, RAFT_MSG_APPEND, 4);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->commit, noop + 2);
	ck_assert_uint_eq(m->n_entries, 2); /* the entries held from it come along */
	ck_assert_ptr_null(fix_find(&f, RAFT_MSG_APPEND, 5));
	fix_free(&f);
}
END_TEST

/* A follower handed a read point learns the commit index that lets it serve the read. */
START_TEST(test_read_point_brings_the_commit)
{
	struct fixture f;
	uint64_t noop = leader_of_five(&f);
	ck_assert_ptr_null(fix_find(&f, RAFT_MSG_APPEND, 4)); /* nobody waited for the no-op */
	uint64_t term = fix_status(&f).term;
	fix_step(&f, (struct raft_message){
	                 .type = RAFT_MSG_READ_INDEX, .from = 4, .to = 1, .term = term, .ctx = 77});
	const struct raft_message *hb = fix_find(&f, RAFT_MSG_HEARTBEAT, 2);
	ck_assert_ptr_nonnull(hb); /* the round that confirms leadership */
	uint64_t round = hb->ctx;
	for (uint32_t from = 2; from <= 3; from++)
		fix_step(&f,
		         (struct raft_message){.type = RAFT_MSG_HEARTBEAT_RESP,
		                               .from = from,
		                               .to = 1,
		                               .index = fix_status(&f).last_index, /* its last */
		                               .term = term,
		                               .ctx = round});
	const struct raft_message *resp = fix_find(&f, RAFT_MSG_READ_INDEX_RESP, 4);
	ck_assert_ptr_nonnull(resp);
	ck_assert_uint_eq(resp->index, noop);
	const struct raft_message *m = fix_find(&f, RAFT_MSG_APPEND, 4);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->commit, noop);
	fix_free(&f);
}
END_TEST

/* Follower 2 of three in term 1, its leader 1, with an empty log. */
static void follower(struct fixture *f)
{
	fix_init(f, 2, 3, NULL, 0, hs_term(1));
}

static struct raft_entry entries[4] = {
    {.term = 1,
     .type = RAFT_ENTRY_NORMAL,
     .origin = 1,
     .id = 1,
     .data = (const uint8_t *)"a",
     .len = 1},
    {.term = 1,
     .type = RAFT_ENTRY_NORMAL,
     .origin = 1,
     .id = 2,
     .data = (const uint8_t *)"b",
     .len = 1},
    {.term = 1,
     .type = RAFT_ENTRY_NORMAL,
     .origin = 1,
     .id = 3,
     .data = (const uint8_t *)"c",
     .len = 1},
    {.term = 1,
     .type = RAFT_ENTRY_NORMAL,
     .origin = 1,
     .id = 4,
     .data = (const uint8_t *)"d",
     .len = 1},
};

/* The leader's append of entries[from - 1 .. from - 1 + n) with commit `commit`. */
static void append(struct fixture *f, uint64_t term, uint64_t from, size_t n, uint64_t commit,
                   bool lazy)
{
	ck_assert_int_eq(fix_step(f, (struct raft_message){.type = RAFT_MSG_APPEND,
	                                                   .from = 1,
	                                                   .to = 2,
	                                                   .term = term,
	                                                   .index = from - 1,
	                                                   .log_term = from > 1 ? 1 : 0,
	                                                   .commit = commit,
	                                                   .ctx = lazy ? RAFT_APPEND_LAZY : 0,
	                                                   .entries = &entries[from - 1],
	                                                   .n_entries = n}),
	                 0);
}

/* The acknowledgements drained, all to node 1: how many, and the highest index. */
static uint32_t acks(const struct fixture *f, uint64_t *index)
{
	uint32_t n = 0;
	*index = 0;
	for (uint32_t i = 0; i < f->n_out; i++) {
		const struct raft_message *m = &f->out[i];
		if (m->type != RAFT_MSG_APPEND_RESP)
			continue;
		ck_assert(!m->reject);
		n++;
		if (m->index > *index)
			*index = m->index;
	}
	return n;
}

START_TEST(test_lazy_follower_defers_writes_not_applies)
{
	struct fixture f;
	follower(&f);
	uint64_t index;
	append(&f, 1, 1, 2, 0, true);
	ck_assert_uint_eq(f.entries_handed, 0);
	ck_assert_uint_eq(acks(&f, &index), 0);
	append(&f, 1, 3, 1, 2, true); /* entry 3, and 1..2 are committed */
	ck_assert_uint_eq(f.entries_handed, 0);
	ck_assert_uint_eq(acks(&f, &index), 0);
	ck_assert_uint_eq(fix_status(&f).applied, 2); /* handed out from memory */
	ck_assert_uint_eq(fix_status(&f).persisted_index, 0);
	ck_assert(!raft_has_ready(f.raft));
	ck_assert_ptr_null(raft_tick(f.raft)); /* at its tick it writes, then acknowledges */
	fix_drain(&f);
	ck_assert_uint_eq(f.entries_handed, 3);
	ck_assert_uint_eq(acks(&f, &index), 1);
	ck_assert_uint_eq(index, 3);
	ck_assert_uint_eq(fix_status(&f).persisted_index, 3);
	fix_free(&f);
}
END_TEST

START_TEST(test_append_asking_for_haste_ends_the_wait)
{
	struct fixture f;
	follower(&f);
	uint64_t index;
	append(&f, 1, 1, 2, 0, true);
	append(&f, 1, 3, 1, 0, true);
	append(&f, 1, 4, 1, 1, false);
	ck_assert_uint_eq(f.entries_handed, 4);
	ck_assert_uint_eq(acks(&f, &index), 1); /* one for all four */
	ck_assert_uint_eq(index, 4);
	append(&f, 1, 2, 1, 1, false); /* a stale duplicate: acknowledged at once, as it was */
	ck_assert_uint_eq(acks(&f, &index), 1);
	ck_assert_uint_eq(index, 2);
	fix_free(&f);
}
END_TEST

/* A new leader's append in term 2: the entries are written, no ack goes to the old one. */
START_TEST(test_new_term_drops_the_owed_ack)
{
	struct fixture f;
	follower(&f);
	uint64_t index;
	append(&f, 1, 1, 2, 0, true);
	ck_assert_uint_eq(acks(&f, &index), 0);
	ck_assert_int_eq(fix_step(&f,
	                          (struct raft_message){
	                              .type = RAFT_MSG_HEARTBEAT, .from = 3, .to = 2, .term = 2}),
	                 0);
	ck_assert_uint_eq(f.entries_handed, 2);
	for (uint32_t i = 0; i < f.n_out; i++)
		ck_assert(f.out[i].type != RAFT_MSG_APPEND_RESP);
	ck_assert_ptr_nonnull(fix_find(&f, RAFT_MSG_HEARTBEAT_RESP, 3));
	fix_free(&f);
}
END_TEST

/*
 * A lazy append that replaces a conflicting suffix already on disk is written at once:
 * deferred, the new entries were applied from memory while the durable log still held
 * the replaced ones at the same indexes, and long enough that the node's guard on its
 * state commit (applied <= durable last index) let the state become durable over them;
 * after a crash the node took the stale entries for committed and never caught up.
 */
START_TEST(test_lazy_append_that_truncates_is_written_at_once)
{
	struct fixture f;
	uint64_t terms[4] = {1, 1, 1, 1}; /* 3 and 4: an old leader's uncommitted entries */
	fix_init(&f, 2, 3, terms, 4, (struct raft_hard_state){.term = 2, .vote = 0, .commit = 2});
	struct raft_entry fresh[2] = {
	    {.term = 2, .index = 3, .type = RAFT_ENTRY_NORMAL, .origin = 3, .id = 7},
	    {.term = 2, .index = 4, .type = RAFT_ENTRY_NORMAL, .origin = 3, .id = 8},
	};
	ck_assert_int_eq(fix_step(&f, (struct raft_message){.type = RAFT_MSG_APPEND,
	                                                    .from = 3,
	                                                    .to = 2,
	                                                    .term = 2,
	                                                    .index = 2,
	                                                    .log_term = 1,
	                                                    .commit = 4,
	                                                    .ctx = RAFT_APPEND_LAZY,
	                                                    .entries = fresh,
	                                                    .n_entries = 2}),
	                 0);
	/* the durable log now holds the leader's entries 3 and 4, of term 2 */
	ck_assert_uint_eq(f.entries_handed, 2);
	ck_assert_uint_eq(f.n_terms, 4);
	ck_assert_uint_eq(f.terms[2], 2);
	ck_assert_uint_eq(f.terms[3], 2);
	ck_assert_uint_eq(fix_status(&f).persisted_index, 4);
	uint64_t index;
	ck_assert_uint_eq(acks(&f, &index), 1); /* and acknowledged, not owed */
	ck_assert_uint_eq(index, 4);
	fix_free(&f);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("raft_lazy");
	TCase *tc = tcase_create("lazy");
	tcase_add_test(tc, test_leader_asks_a_quorum_for_haste);
	tcase_add_test(tc, test_silent_follower_hands_its_role_on);
	tcase_add_test(tc, test_half_full_window_asks_for_haste);
	tcase_add_test(tc, test_commit_announced_where_awaited);
	tcase_add_test(tc, test_read_point_brings_the_commit);
	tcase_add_test(tc, test_lazy_follower_defers_writes_not_applies);
	tcase_add_test(tc, test_append_asking_for_haste_ends_the_wait);
	tcase_add_test(tc, test_new_term_drops_the_owed_ack);
	tcase_add_test(tc, test_lazy_append_that_truncates_is_written_at_once);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
