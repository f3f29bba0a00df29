/*
 * Unit tests of a pacing leader (raft.h, "Pacing"): while the batch it wrote last is not
 * committed, new entries wait, for its own disk and its followers alike, and go out
 * together once it commits, once RAFT__PACE_MAX_ENTRIES wait or once a message's worth
 * of bytes is uncommitted; entries of an earlier term never make a new leader hold its
 * own; a lost append is repaired while the leader holds the entries after it; and an
 * unpaced leader sends each batch as it comes.
 */
#include <string.h>

#include "check_main.h"
#include "raft/replication.h"
#include "raft_fixture.h"

/* raft_config_default() for node 1 of three. */
static struct raft_config config_of_three(void)
{
	struct raft_config c;
	raft_config_default(&c, 1, (uint32_t[]){1, 2, 3}, 3);
	return c;
}

/*
 * Leader 1 of three in term 2 (syncing in place, configured by `c`) whose no-op both
 * followers acknowledged; returns the no-op's index.
 */
static uint64_t leader_of(struct fixture *f, const struct raft_config *c)
{
	fix_init_config(f, c, NULL, 0, (struct raft_hard_state){1, 0, 0});
	fix_make_leader(f);
	uint64_t noop = fix_status(f).last_index;
	fix_ack_append(f, 2, noop); /* with the leader's copy, a majority */
	fix_ack_append(f, 3, noop); /* out of probing: no longer one append at a time */
	ck_assert_uint_eq(fix_status(f).commit, noop);
	return noop;
}

/* The same, configured by default. */
static uint64_t leader_committed(struct fixture *f)
{
	struct raft_config c = config_of_three();
	return leader_of(f, &c);
}

/* The entries the drained append to `to` carried; -1 if there was none. */
static int64_t entries_to(const struct fixture *f, uint32_t to)
{
	const struct raft_message *m = fix_find(f, RAFT_MSG_APPEND, to);
	return m ? (int64_t)m->n_entries : -1;
}

START_TEST(test_entries_wait_for_the_last_batch_to_commit)
{
	struct fixture f;
	uint64_t noop = leader_committed(&f);
	fix_propose(&f, 1); /* nothing in flight: written and sent at once (3 is lazy: not yet) */
	ck_assert_uint_eq(f.entries_handed, 1);
	ck_assert_int_eq(entries_to(&f, 2), 1);
	fix_propose(&f, 2);
	fix_propose(&f, 3);
	ck_assert_uint_eq(f.entries_handed, 0);  /* held from this node's disk... */
	ck_assert_int_eq(entries_to(&f, 2), -1); /* ...and from its followers */
	ck_assert(!raft_has_ready(f.raft));      /* a held entry is no work to do */
	ck_assert_uint_eq(fix_status(&f).last_index, noop + 3);
	fix_ack_append(&f, 2, noop + 1); /* the batch commits: the held ones leave together */
	ck_assert_uint_eq(fix_status(&f).commit, noop + 1);
	ck_assert_uint_eq(f.entries_handed, 2);
	ck_assert_int_eq(entries_to(&f, 2), 2);
	fix_free(&f);
}
END_TEST

START_TEST(test_a_full_pace_goes_out_uncommitted)
{
	struct fixture f;
	leader_committed(&f);
	fix_propose(&f, 1);
	for (uint64_t id = 2; id <= RAFT__PACE_MAX_ENTRIES; id++) {
		fix_propose(&f, id);
		ck_assert_uint_eq(f.entries_handed, 0);
	}
	fix_propose(&f, RAFT__PACE_MAX_ENTRIES + 1); /* the cap: written and sent at once */
	ck_assert_uint_eq(f.entries_handed, RAFT__PACE_MAX_ENTRIES);
	ck_assert_int_eq(entries_to(&f, 2), RAFT__PACE_MAX_ENTRIES);
	fix_free(&f);
}
END_TEST

/* Big entries are not held: one message's worth of uncommitted bytes goes out at once. */
START_TEST(test_a_message_worth_of_bytes_goes_out_uncommitted)
{
	struct fixture f;
	struct raft_config c = config_of_three();
	c.max_msg_bytes = 64;
	leader_of(&f, &c);
	char payload[40];
	memset(payload, 'p', sizeof payload);
	ck_assert_ptr_null(raft_propose(f.raft, 1, payload, sizeof payload));
	fix_drain(&f);
	ck_assert_uint_eq(f.entries_handed, 1);
	ck_assert_ptr_null(raft_propose(f.raft, 2, payload, sizeof payload));
	fix_drain(&f); /* 80 bytes uncommitted, more than one message's 64: not held */
	ck_assert_uint_eq(f.entries_handed, 1);
	ck_assert_int_eq(entries_to(&f, 2), 1);
	fix_free(&f);
}
END_TEST

/*
 * A new leader whose written entries are all of earlier terms cannot commit them by
 * counting (§5.4.2): its no-op must go out at once, not wait for them.
 */
START_TEST(test_entries_of_an_earlier_term_hold_nothing_back)
{
	static const uint64_t terms[] = {1, 1};
	struct fixture f;
	fix_init(&f, 1, 3, terms, 2, (struct raft_hard_state){1, 0, 0});
	fix_make_leader(&f);
	ck_assert_uint_eq(fix_status(&f).commit, 0);
	ck_assert_uint_eq(fix_status(&f).last_index, 3);
	ck_assert_uint_eq(f.n_terms, 3); /* the no-op is written (and so sent) */
	ck_assert_uint_eq(f.terms[2], 2);
	fix_propose(&f, 1); /* behind the no-op of this term: held */
	ck_assert_uint_eq(f.entries_handed, 0);
	fix_free(&f);
}
END_TEST

/*
 * A follower whose append was lost answers a heartbeat behind the leader's written log:
 * it gets an append again although later entries are held (and it carries none of them).
 */
START_TEST(test_a_lost_append_is_repaired_while_pacing)
{
	struct fixture f;
	uint64_t noop = leader_committed(&f);
	fix_propose(&f, 1); /* to 2 (3 is lazy): lost */
	fix_propose(&f, 2); /* held */
	ck_assert_uint_eq(f.entries_handed, 0);
	fix_step(&f, (struct raft_message){.type = RAFT_MSG_HEARTBEAT_RESP,
	                                   .from = 2,
	                                   .to = 1,
	                                   .index = fix_status(&f).last_index, /* its last */
	                                   .term = fix_status(&f).term});
	const struct raft_message *m = fix_find(&f, RAFT_MSG_APPEND, 2);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_le(m->index + m->n_entries, noop + 1);
	fix_free(&f);
}
END_TEST

/* Without pacing, each batch's new entries are written and sent as they come. */
START_TEST(test_an_unpaced_leader_sends_each_batch)
{
	struct fixture f;
	struct raft_config c = config_of_three();
	c.pacing = false;
	uint64_t noop = leader_of(&f, &c);
	for (uint64_t id = 1; id <= 3; id++) {
		fix_propose(&f, id);
		ck_assert_uint_eq(f.entries_handed, 1);
		ck_assert_int_eq(entries_to(&f, 2), 1);
	}
	ck_assert_uint_eq(fix_status(&f).commit, noop);
	fix_free(&f);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("raft-pacing");
	TCase *tc = tcase_create("leader");
	tcase_add_test(tc, test_entries_wait_for_the_last_batch_to_commit);
	tcase_add_test(tc, test_a_full_pace_goes_out_uncommitted);
	tcase_add_test(tc, test_a_message_worth_of_bytes_goes_out_uncommitted);
	tcase_add_test(tc, test_entries_of_an_earlier_term_hold_nothing_back);
	tcase_add_test(tc, test_a_lost_append_is_repaired_while_pacing);
	tcase_add_test(tc, test_an_unpaced_leader_sends_each_batch);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
