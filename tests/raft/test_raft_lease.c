/*
 * Unit tests of reads under a lease (raft.h, "Reads under a lease"): a leader answers a
 * read at once only while a quorum-acknowledged round sent within lease_ms vouches for
 * it, never before its first such round and never after the lease ran out or it left
 * leadership for a new term; periodic heartbeats renew the lease; and a node just started
 * ignores vote requests for an election timeout, as if it had heard from a leader before
 * it stopped.
 */
#include "check_main.h"
#include "raft_fixture.h"

#define LEASE_MS 200

static void ack_heartbeat(struct fixture *f, uint32_t from, uint64_t ctx)
{
	fix_step(f, (struct raft_message){.type = RAFT_MSG_HEARTBEAT_RESP,
	                                  .from = from,
	                                  .to = 1,
	                                  .index = fix_status(f).last_index, /* its last */
	                                  .term = fix_status(f).term,
	                                  .ctx = ctx});
}

static void read_at(struct fixture *f, uint64_t now_ms, uint64_t id)
{
	raft_clock(f->raft, now_ms);
	ck_assert_ptr_null(raft_read_index(f->raft, id));
	fix_drain(f);
}

/* Node 1, leader of three at time 1000 with its no-op committed; no round acknowledged. */
static void leader(struct fixture *f, uint32_t lease_ms)
{
	fix_init_lease(f, 1, 3, NULL, 0, (struct raft_hard_state){1, 0, 0}, lease_ms);
	raft_clock(f->raft, 1000);
	fix_make_leader(f);
	fix_ack_append(f, 2, 1);
	ck_assert_uint_eq(fix_status(f).commit, 1);
}

/* The ctx of the heartbeat round in the last drain (0 if none was sent). */
static uint64_t round_sent(const struct fixture *f)
{
	const struct raft_message *m = fix_find(f, RAFT_MSG_HEARTBEAT, 2);
	return m ? m->ctx : 0;
}

START_TEST(test_lease_answers_at_once_until_it_ends)
{
	struct fixture f;
	leader(&f, LEASE_MS);
	read_at(&f, 1000, 11); /* no lease yet: a round */
	uint64_t seq = round_sent(&f);
	ck_assert_uint_gt(seq, 0);
	ck_assert_uint_eq(f.reads_handed, 0);
	ack_heartbeat(&f, 2, seq); /* a quorum: the read is served, the lease runs to 1200 */
	ck_assert_uint_eq(f.reads_handed, 1);

	read_at(&f, 1150, 12); /* within the lease: answered at once, no round */
	ck_assert_uint_eq(f.reads_handed, 1);
	ck_assert_uint_eq(round_sent(&f), 0);

	read_at(&f, 1200, 13); /* the lease has ended: a round again */
	ck_assert_uint_eq(f.reads_handed, 0);
	ck_assert_uint_gt(round_sent(&f), seq);
	fix_free(&f);
}
END_TEST

/* The lease runs from when the acknowledged round was sent, not from the acknowledgement. */
START_TEST(test_lease_counts_from_the_send)
{
	struct fixture f;
	leader(&f, LEASE_MS);
	read_at(&f, 1000, 11);
	uint64_t seq = round_sent(&f);
	raft_clock(f.raft, 1190); /* a slow acknowledgement */
	ack_heartbeat(&f, 2, seq);
	ck_assert_uint_eq(f.reads_handed, 1);
	read_at(&f, 1210, 12); /* 1000 + 200 has passed */
	ck_assert_uint_eq(f.reads_handed, 0);
	ck_assert_uint_gt(round_sent(&f), 0);
	fix_free(&f);
}
END_TEST

/* Without lease_ms every read waits for its round, lease or no lease. */
START_TEST(test_no_lease_without_lease_ms)
{
	struct fixture f;
	leader(&f, 0);
	read_at(&f, 1000, 11);
	ack_heartbeat(&f, 2, round_sent(&f));
	ck_assert_uint_eq(f.reads_handed, 1);
	read_at(&f, 1001, 12);
	ck_assert_uint_eq(f.reads_handed, 0);
	ck_assert_uint_gt(round_sent(&f), 0);
	fix_free(&f);
}
END_TEST

/* Periodic heartbeats are timed rounds: their acknowledgements keep the lease going. */
START_TEST(test_heartbeats_renew_the_lease)
{
	struct fixture f;
	leader(&f, LEASE_MS);
	for (uint64_t now = 1000; now < 1400; now += 50) {
		raft_clock(f.raft, now);
		for (uint32_t t = 0; t < 2; t++) /* heartbeat_ticks */
			ck_assert_ptr_null(raft_tick(f.raft));
		fix_drain(&f);
		uint64_t seq = round_sent(&f);
		ck_assert_uint_gt(seq, 0);
		ack_heartbeat(&f, 3, seq);
	}
	read_at(&f, 1400, 12); /* the last heartbeat, sent at 1350, vouches until 1550 */
	ck_assert_uint_eq(f.reads_handed, 1);
	ck_assert_uint_eq(round_sent(&f), 0);
	fix_free(&f);
}
END_TEST

/* A lease belongs to its term: a leader elected again starts without one. */
START_TEST(test_a_new_term_starts_without_a_lease)
{
	struct fixture f;
	leader(&f, LEASE_MS);
	read_at(&f, 1000, 11);
	ack_heartbeat(&f, 2, round_sent(&f)); /* leased until 1200 in term 2 */
	fix_step(&f,
	         (struct raft_message){.type = RAFT_MSG_HEARTBEAT, .from = 3, .to = 1, .term = 9});
	ck_assert_int_eq(fix_status(&f).role, RAFT_FOLLOWER);
	fix_make_leader(&f);
	ck_assert_uint_eq(fix_status(&f).term, 10);
	fix_ack_append(&f, 2, fix_status(&f).last_index);
	read_at(&f, 1100, 12);
	ck_assert_uint_eq(f.reads_handed, 0);
	ck_assert_uint_gt(round_sent(&f), 0);
	fix_free(&f);
}
END_TEST

/* A node just started ignores vote requests for election_ticks ticks (with leases only). */
START_TEST(test_booting_node_ignores_votes)
{
	struct raft_message vote = {
	    .type = RAFT_MSG_VOTE, .from = 2, .to = 1, .term = 2, .index = 0, .log_term = 0};
	struct fixture f;
	fix_init_lease(&f, 1, 3, NULL, 0, (struct raft_hard_state){1, 0, 0}, LEASE_MS);
	fix_step(&f, vote);
	ck_assert_ptr_null(fix_find(&f, RAFT_MSG_VOTE_RESP, 2));
	ck_assert_uint_eq(fix_status(&f).term, 1);
	for (int t = 0; t < 10; t++) /* election_ticks */
		ck_assert_ptr_null(raft_tick(f.raft));
	fix_drain(&f);
	fix_step(&f, (struct raft_message){.type = RAFT_MSG_VOTE, .from = 2, .to = 1, .term = 3});
	const struct raft_message *m = fix_find(&f, RAFT_MSG_VOTE_RESP, 2);
	ck_assert_ptr_nonnull(m);
	ck_assert(!m->reject);
	fix_free(&f);

	fix_init(&f, 1, 3, NULL, 0, (struct raft_hard_state){1, 0, 0}); /* no leases */
	fix_step(&f, vote);
	m = fix_find(&f, RAFT_MSG_VOTE_RESP, 2);
	ck_assert_ptr_nonnull(m);
	ck_assert(!m->reject);
	fix_free(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("raft-lease");
	TCase *tc = tcase_create("lease");
	tcase_add_test(tc, test_lease_answers_at_once_until_it_ends);
	tcase_add_test(tc, test_lease_counts_from_the_send);
	tcase_add_test(tc, test_no_lease_without_lease_ms);
	tcase_add_test(tc, test_heartbeats_renew_the_lease);
	tcase_add_test(tc, test_a_new_term_starts_without_a_lease);
	tcase_add_test(tc, test_booting_node_ignores_votes);
	suite_add_tcase(s, tc);
	return check_run(s);
}
