/*
 * Unit tests of a leader syncing its log in the background (raft.h, "Syncing in the
 * background"): its own copy counts towards commitment only after raft_synced(), entries
 * proposed meanwhile wait in memory (from its followers too: raft.h, "Pacing"), committed
 * entries are
 * handed out only once written here, a promise about the disk asks for the sync first,
 * a sync that ends after a truncation vouches for no entry written since, and a follower's
 * acknowledgement waits for the sync of what it acknowledges.
 */
#include "check_main.h"
#include "raft_fixture.h"

static void synced(struct fixture *f, uint64_t index)
{
	err *e = raft_synced(f->raft, index);
	ck_assert_ptr_null(e);
	fix_drain(f);
}

/* A leader of three nodes, term 2, whose no-op (entry 1) is written but not synced. */
static void leader_unsynced(struct fixture *f)
{
	fix_init(f, 1, 3, NULL, 0, (struct raft_hard_state){1, 0, 0});
	f->sync_in_background = true;
	fix_make_leader(f);
	ck_assert_uint_eq(fix_status(f).last_index, 1);
	ck_assert_uint_eq(fix_status(f).persisted_index, 0);
}

/* Two followers of three commit an entry the leader has not synced; one does not. */
START_TEST(test_followers_commit_without_the_leader)
{
	struct fixture f;
	leader_unsynced(&f);
	fix_ack_append(&f, 2, 1);
	ck_assert_uint_eq(fix_status(&f).commit, 0); /* the leader's unsynced copy does not count */
	fix_ack_append(&f, 3, 1);
	ck_assert_uint_eq(fix_status(&f).commit, 1);
	ck_assert_uint_eq(fix_status(&f).persisted_index, 0);
	fix_free(&f);
}
END_TEST

/* Once synced, the leader's own copy counts: with one follower it is a majority. */
START_TEST(test_leader_counts_itself_once_synced)
{
	struct fixture f;
	leader_unsynced(&f);
	fix_ack_append(&f, 2, 1);
	ck_assert_uint_eq(fix_status(&f).commit, 0);
	synced(&f, 1);
	ck_assert_uint_eq(fix_status(&f).persisted_index, 1);
	ck_assert_uint_eq(fix_status(&f).commit, 1);
	/* ...and the new commit index goes out to the followers at once */
	const struct raft_message *m = fix_find(&f, RAFT_MSG_APPEND, 2);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->commit, 1);
	fix_free(&f);
}
END_TEST

/*
 * While a sync runs, new entries are neither handed out nor replicated; once the synced
 * batch commits, they are both.
 */
START_TEST(test_entries_held_until_synced)
{
	struct fixture f;
	leader_unsynced(&f);
	fix_ack_append(&f, 2, 1); /* follower 2 leaves probing: appends are pipelined to it */
	fix_propose(&f, 7);
	ck_assert_uint_eq(f.entries_handed, 0);
	ck_assert_uint_eq(fix_status(&f).last_index, 2);
	ck_assert_ptr_null(fix_find(&f, RAFT_MSG_APPEND, 2));
	ck_assert(!raft_has_ready(f.raft)); /* a held entry is no work to do */
	synced(&f, 1);                      /* entry 1 commits (with follower 2's copy) */
	ck_assert_uint_eq(f.entries_handed, 1);
	ck_assert_uint_eq(fix_status(&f).persisted_index, 1);
	const struct raft_message *m = fix_find(&f, RAFT_MSG_APPEND, 2);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->n_entries, 1); /* entry 2 leaves with the batch that writes it */
	synced(&f, 2);
	ck_assert_uint_eq(fix_status(&f).persisted_index, 2);
	fix_free(&f);
}
END_TEST

/* An entry committed by the followers is applied only once the leader has written it. */
START_TEST(test_committed_waits_for_the_local_write)
{
	struct fixture f;
	leader_unsynced(&f);
	fix_propose(&f, 7); /* entry 2: held in memory (followers never see it before this node) */
	fix_ack_append(&f, 2, 2);
	fix_ack_append(&f, 3, 2);
	ck_assert_uint_eq(fix_status(&f).commit, 2);
	ck_assert_uint_eq(fix_status(&f).applied, 1); /* entry 2 is not in this node's log yet */
	synced(&f, 1);                                /* this batch writes entry 2... */
	ck_assert_uint_eq(f.entries_handed, 1);
	ck_assert_uint_eq(fix_status(&f).applied, 2); /* ...and hands it out to apply */
	fix_free(&f);
}
END_TEST

/* A batch with a new term is persisted in place, after the sync in flight. */
START_TEST(test_new_term_waits_for_the_sync)
{
	struct fixture f;
	leader_unsynced(&f);
	ck_assert(!raft_ready_changes_vote(f.raft));
	struct buf b;
	buf_init(&b, 1 << 20);
	err *e = raft_message_encode(
	    &(struct raft_message){
	        .type = RAFT_MSG_HEARTBEAT, .from = 2, .to = 1, .term = 5, .commit = 0},
	    &b);
	ck_assert_ptr_null(e);
	e = raft_receive(f.raft, b.data, b.len);
	ck_assert_ptr_null(e);
	buf_free(&b);
	ck_assert_int_eq(fix_status(&f).role, RAFT_FOLLOWER);
	ck_assert(raft_ready_changes_vote(f.raft));
	fix_free(&f);
}
END_TEST

/*
 * A sync that ends after a new leader truncated the unsynced entries vouches only for
 * what is still the same: entries written since are not durable yet.
 */
START_TEST(test_sync_after_truncation_is_clamped)
{
	struct fixture f;
	leader_unsynced(&f);
	fix_ack_append(&f, 2, 1);
	synced(&f, 1);      /* entry 1 commits */
	fix_propose(&f, 7); /* entry 2 of term 2, written, its sync running */
	ck_assert_uint_eq(f.entries_handed, 1);
	fix_propose(&f, 8); /* entry 3 held */
	/* A leader of term 3 replaces entry 2 with its own. */
	struct raft_entry replacement = {.term = 3, .index = 2, .type = RAFT_ENTRY_NORMAL};
	fix_step(&f, (struct raft_message){.type = RAFT_MSG_APPEND,
	                                   .from = 2,
	                                   .to = 1,
	                                   .term = 3,
	                                   .index = 1,
	                                   .log_term = 2,
	                                   .entries = &replacement,
	                                   .n_entries = 1});
	ck_assert_uint_eq(fix_status(&f).last_index, 2);
	/* The sync of the old entry 2 ends: it says nothing about the new one. */
	err *e = raft_synced(f.raft, 2);
	ck_assert_ptr_null(e);
	ck_assert_uint_le(fix_status(&f).persisted_index, 1);
	fix_free(&f);
}
END_TEST

static void append_from_2(struct fixture *f, uint64_t prev, uint64_t term)
{
	struct raft_entry e = {.term = term, .index = prev + 1, .type = RAFT_ENTRY_NORMAL};
	fix_step(f, (struct raft_message){.type = RAFT_MSG_APPEND,
	                                  .from = 2,
	                                  .to = 1,
	                                  .term = term,
	                                  .index = prev,
	                                  .log_term = prev ? term : 0,
	                                  .entries = &e,
	                                  .n_entries = 1});
}

/*
 * A follower acknowledges entries only once they are durable: while its sync runs, a new
 * append's entries and its acknowledgement both wait, and come out together after it.
 */
START_TEST(test_follower_ack_waits_for_the_sync)
{
	struct fixture f;
	fix_init(&f, 1, 3, NULL, 0, (struct raft_hard_state){1, 0, 0});
	f.sync_in_background = true;
	append_from_2(&f, 0, 2); /* a new term: persisted in place */
	ck_assert_ptr_nonnull(fix_find(&f, RAFT_MSG_APPEND_RESP, 2));
	ck_assert_uint_eq(fix_status(&f).persisted_index, 1);
	append_from_2(&f, 1, 2); /* written, its sync running */
	ck_assert_uint_eq(f.entries_handed, 1);
	ck_assert_uint_eq(fix_status(&f).persisted_index, 1);
	append_from_2(&f, 2, 2); /* held, and so is its acknowledgement */
	ck_assert_uint_eq(f.entries_handed, 0);
	ck_assert_ptr_null(fix_find(&f, RAFT_MSG_APPEND_RESP, 2));
	ck_assert(!raft_has_ready(f.raft));
	synced(&f, 2);
	ck_assert_uint_eq(f.entries_handed, 1);
	const struct raft_message *m = fix_find(&f, RAFT_MSG_APPEND_RESP, 2);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->index, 3);
	fix_free(&f);
}
END_TEST

static Suite *unsynced_suite(void)
{
	Suite *s = suite_create("raft-unsynced");
	TCase *tc = tcase_create("leader");
	tcase_add_test(tc, test_followers_commit_without_the_leader);
	tcase_add_test(tc, test_leader_counts_itself_once_synced);
	tcase_add_test(tc, test_entries_held_until_synced);
	tcase_add_test(tc, test_committed_waits_for_the_local_write);
	tcase_add_test(tc, test_new_term_waits_for_the_sync);
	tcase_add_test(tc, test_sync_after_truncation_is_clamped);
	tcase_add_test(tc, test_follower_ack_waits_for_the_sync);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(unsynced_suite());
}
