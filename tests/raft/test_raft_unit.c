/*
 * Unit tests of single Raft rules on one state machine fed hand-made messages
 * (raft_fixture.h): the Figure 8 commitment rule, fast backtracking hints on both sides,
 * the PreVote and lease rules, stale-term handling, malformed and misaddressed messages,
 * configuration checks, the bounds on pending requests, one ReadIndex round per ready
 * batch and one append per follower per ready batch.
 */
#include "check_main.h"
#include "raft/replication.h"
#include "raft_fixture.h"

static struct raft_hard_state hs_term(uint64_t term)
{
	return (struct raft_hard_state){term, 0, 0};
}

/* Node 1's append to node 2 in `term`, after entry `index` of `log_term`; fix_step()'s code. */
static int append_1_to_2(struct fixture *f, uint64_t term, uint64_t index, uint64_t log_term,
                         uint64_t ctx, struct raft_entry *entries, size_t n_entries)
{
	return fix_step(f, (struct raft_message){.type = RAFT_MSG_APPEND,
	                                         .from = 1,
	                                         .to = 2,
	                                         .term = term,
	                                         .index = index,
	                                         .log_term = log_term,
	                                         .ctx = ctx,
	                                         .entries = entries,
	                                         .n_entries = n_entries});
}

/* §5.4.2 / Figure 8: a quorum holding an entry of an older term does not commit it. */
START_TEST(test_commit_only_current_term_by_counting)
{
	static const uint64_t terms[] = {1, 2};
	struct fixture f;
	fix_init(&f, 1, 5, terms, 2, (struct raft_hard_state){3, 0, 1});
	fix_make_leader(&f);
	ck_assert_uint_eq(fix_status(&f).term, 4);
	ck_assert_uint_eq(fix_status(&f).last_index, 3); /* the no-op of term 4 */
	for (uint32_t from = 2; from <= 3; from++)
		fix_step(&f, (struct raft_message){.type = RAFT_MSG_APPEND_RESP,
		                                   .from = from,
		                                   .to = 1,
		                                   .term = 4,
		                                   .index = 2});
	/* Entry 2 (term 2) is on three of five nodes, yet it is not committed. */
	ck_assert_uint_eq(fix_status(&f).commit, 1);
	fix_step(&f, (struct raft_message){
	                 .type = RAFT_MSG_APPEND_RESP, .from = 2, .to = 1, .term = 4, .index = 3});
	ck_assert_uint_eq(fix_status(&f).commit, 1);
	fix_step(&f, (struct raft_message){
	                 .type = RAFT_MSG_APPEND_RESP, .from = 3, .to = 1, .term = 4, .index = 3});
	/* The no-op of term 4 reached a quorum: it commits, and entry 2 with it. */
	ck_assert_uint_eq(fix_status(&f).commit, 3);
	const struct raft_message *m = fix_find(&f, RAFT_MSG_APPEND, 2);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->commit, 3);
	fix_free(&f);
}
END_TEST

/* End of §5.3: the follower's rejection names the conflicting term and where it starts. */
START_TEST(test_reject_hint_follower)
{
	static const uint64_t terms[] = {1, 1, 1, 4, 4, 4, 4};
	struct fixture f;
	fix_init(&f, 2, 3, terms, 7, hs_term(7));
	fix_step(&f, (struct raft_message){.type = RAFT_MSG_APPEND,
	                                   .from = 1,
	                                   .to = 2,
	                                   .term = 8,
	                                   .index = 10,
	                                   .log_term = 6});
	const struct raft_message *m = fix_find(&f, RAFT_MSG_APPEND_RESP, 1);
	ck_assert_ptr_nonnull(m);
	ck_assert(m->reject);
	ck_assert_uint_eq(m->index, 10);
	ck_assert_uint_eq(m->hint_index, 8); /* our log is too short: try after its end */
	ck_assert_uint_eq(m->hint_term, 0);
	fix_step(
	    &f,
	    (struct raft_message){
	        .type = RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 8, .index = 7, .log_term = 5});
	m = fix_find(&f, RAFT_MSG_APPEND_RESP, 1);
	ck_assert_ptr_nonnull(m);
	ck_assert(m->reject);
	ck_assert_uint_eq(m->hint_term, 4);
	ck_assert_uint_eq(m->hint_index, 4); /* the whole term-4 run is skipped at once */
	ck_assert_uint_eq(fix_status(&f).leader, 1);
	fix_free(&f);
}
END_TEST

/* The leader jumps `next` past the follower's conflicting term in one step. */
/* What the leader knows node `id` holds. */
static uint64_t peer_match(const struct fixture *f, uint32_t id)
{
	struct raft_status st = fix_status(f);
	for (uint32_t i = 0; i < st.n_peers; i++)
		if (st.peers[i].id == id)
			return st.peers[i].match;
	ck_abort_msg("node %u is no peer", id);
	return 0;
}

START_TEST(test_reject_hint_leader)
{
	static const uint64_t terms[] = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6};
	struct fixture f;
	fix_init(&f, 1, 3, terms, 10, hs_term(7));
	fix_make_leader(&f);
	/* Follower 2 rejects the probe at 10 with term 4 starting at 4: we hold term 4 up
	 * to index 5, so the next probe goes after index 5. */
	fix_step(&f, (struct raft_message){.type = RAFT_MSG_APPEND_RESP,
	                                   .from = 2,
	                                   .to = 1,
	                                   .term = 8,
	                                   .reject = true,
	                                   .index = 10,
	                                   .hint_index = 4,
	                                   .hint_term = 4});
	const struct raft_message *m = fix_find(&f, RAFT_MSG_APPEND, 2);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->index, 5);
	ck_assert_uint_eq(m->log_term, 4);
	ck_assert_uint_eq(m->n_entries, 6); /* 6..11 in one batch */
	/* a rejection moves where the leader probes, never what it knows the follower holds */
	ck_assert_uint_eq(peer_match(&f, 2), 0);
	/* A term we never had: fall back to the follower's index. Answers to stale probes
	 * are ignored. */
	fix_step(&f, (struct raft_message){.type = RAFT_MSG_APPEND_RESP,
	                                   .from = 2,
	                                   .to = 1,
	                                   .term = 8,
	                                   .reject = true,
	                                   .index = 9,
	                                   .hint_index = 2,
	                                   .hint_term = 3});
	ck_assert_ptr_null(fix_find(&f, RAFT_MSG_APPEND, 2));
	fix_step(&f, (struct raft_message){.type = RAFT_MSG_APPEND_RESP,
	                                   .from = 2,
	                                   .to = 1,
	                                   .term = 8,
	                                   .reject = true,
	                                   .index = 5,
	                                   .hint_index = 2,
	                                   .hint_term = 3});
	m = fix_find(&f, RAFT_MSG_APPEND, 2);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->index, 1);
	ck_assert_uint_eq(peer_match(&f, 2), 0);
	fix_free(&f);
}
END_TEST

/* §9.6: a PreVote is granted without changing term or vote. */
START_TEST(test_prevote_keeps_term)
{
	struct fixture f;
	fix_init(&f, 2, 3, NULL, 0, hs_term(5));
	fix_step(&f, (struct raft_message){
	                 .type = RAFT_MSG_PRE_VOTE, .from = 3, .to = 2, .term = 6, .index = 0});
	const struct raft_message *m = fix_find(&f, RAFT_MSG_PRE_VOTE_RESP, 3);
	ck_assert_ptr_nonnull(m);
	ck_assert(!m->reject);
	ck_assert_uint_eq(m->term, 6);
	ck_assert_uint_eq(fix_status(&f).term, 5);
	ck_assert_uint_eq(fix_status(&f).vote, 0);
	/* A PreVote from a lower term is refused with our term, so the sender catches up. */
	fix_step(&f,
	         (struct raft_message){.type = RAFT_MSG_PRE_VOTE, .from = 3, .to = 2, .term = 4});
	m = fix_find(&f, RAFT_MSG_PRE_VOTE_RESP, 3);
	ck_assert_ptr_nonnull(m);
	ck_assert(m->reject);
	ck_assert_uint_eq(m->term, 5);
	fix_free(&f);
}
END_TEST

/* §6.2: within the lease of a live leader, (pre)vote requests are ignored. */
START_TEST(test_lease_ignores_votes)
{
	struct fixture f;
	fix_init(&f, 2, 3, NULL, 0, hs_term(5));
	fix_step(&f,
	         (struct raft_message){.type = RAFT_MSG_HEARTBEAT, .from = 1, .to = 2, .term = 5});
	ck_assert_uint_eq(fix_status(&f).leader, 1);
	fix_step(&f, (struct raft_message){.type = RAFT_MSG_VOTE, .from = 3, .to = 2, .term = 9});
	ck_assert_uint_eq(fix_status(&f).term, 5);
	ck_assert_ptr_null(fix_find(&f, RAFT_MSG_VOTE_RESP, 3));
	fix_step(&f,
	         (struct raft_message){.type = RAFT_MSG_PRE_VOTE, .from = 3, .to = 2, .term = 6});
	ck_assert_ptr_null(fix_find(&f, RAFT_MSG_PRE_VOTE_RESP, 3));
	fix_free(&f);
}
END_TEST

/* §5.4.1: votes only for candidates at least as up to date; one vote per term. */
START_TEST(test_vote_rules)
{
	static const uint64_t terms[] = {1, 2, 2};
	struct fixture f;
	fix_init(&f, 2, 3, terms, 3, hs_term(2));
	fix_step(
	    &f,
	    (struct raft_message){
	        .type = RAFT_MSG_VOTE, .from = 3, .to = 2, .term = 3, .index = 5, .log_term = 1});
	ck_assert(fix_find(&f, RAFT_MSG_VOTE_RESP, 3)->reject); /* older last term */
	ck_assert_uint_eq(fix_status(&f).term, 3);
	fix_step(
	    &f,
	    (struct raft_message){
	        .type = RAFT_MSG_VOTE, .from = 3, .to = 2, .term = 3, .index = 3, .log_term = 2});
	ck_assert(!fix_find(&f, RAFT_MSG_VOTE_RESP, 3)->reject);
	/* a granted vote leaves only once the vote is on disk (§5.2: else a crash forgets it) */
	ck_assert(!fix_early(&f, fix_find(&f, RAFT_MSG_VOTE_RESP, 3)));
	ck_assert_uint_eq(fix_status(&f).vote, 3);
	fix_step(
	    &f,
	    (struct raft_message){
	        .type = RAFT_MSG_VOTE, .from = 1, .to = 2, .term = 3, .index = 9, .log_term = 2});
	ck_assert(fix_find(&f, RAFT_MSG_VOTE_RESP, 1)->reject); /* already voted this term */
	/* The vote is in the hard state handed out to be persisted. */
	ck_assert_uint_eq(fix_status(&f).vote, 3);
	fix_free(&f);
}
END_TEST

/*
 * PreVote asks the same question as a vote: a candidate whose log is behind is refused,
 * or it would raise its term, depose the leader and then lose the real vote (found by a
 * mutation review: no test noticed a PreVote granted without the log check).
 */
START_TEST(test_prevote_refuses_a_log_behind)
{
	static const uint64_t terms[] = {1, 2};
	struct fixture f;
	fix_init(&f, 2, 3, terms, 2, hs_term(2));
	for (int t = 0; t < 40; t++) /* the election timeout passes: no leader, no lease */
		err_free(raft_tick(f.raft));
	fix_drain(&f);
	fix_step(&f, (struct raft_message){.type = RAFT_MSG_PRE_VOTE,
	                                   .from = 3,
	                                   .to = 2,
	                                   .term = 3,
	                                   .index = 1,
	                                   .log_term = 1});
	const struct raft_message *m = fix_find(&f, RAFT_MSG_PRE_VOTE_RESP, 3);
	ck_assert_ptr_nonnull(m);
	ck_assert(m->reject);
	fix_step(&f, (struct raft_message){.type = RAFT_MSG_PRE_VOTE,
	                                   .from = 3,
	                                   .to = 2,
	                                   .term = 3,
	                                   .index = 2,
	                                   .log_term = 2});
	m = fix_find(&f, RAFT_MSG_PRE_VOTE_RESP, 3);
	ck_assert_ptr_nonnull(m);
	ck_assert(!m->reject);
	fix_free(&f);
}
END_TEST

/*
 * A follower's commit index stops at the last entry the append vouched for: entries
 * after it may be a deposed leader's (§5.3, "min(leaderCommit, index of last new entry)").
 * An append that ends inside a stale suffix it matches so far commits none of the rest.
 */
START_TEST(test_commit_stops_at_the_last_new_entry)
{
	static const uint64_t terms[] = {1, 1, 2, 2};
	struct fixture f;
	fix_init(&f, 2, 3, terms, 4, hs_term(2));
	struct raft_entry second = {.term = 1, .index = 2, .type = RAFT_ENTRY_NORMAL};
	ck_assert_int_eq(fix_step(&f, (struct raft_message){.type = RAFT_MSG_APPEND,
	                                                    .from = 1,
	                                                    .to = 2,
	                                                    .term = 3,
	                                                    .index = 1,
	                                                    .log_term = 1,
	                                                    .commit = 4,
	                                                    .entries = &second,
	                                                    .n_entries = 1}),
	                 0);
	ck_assert_uint_eq(fix_status(&f).commit, 2);
	const struct raft_message *m = fix_find(&f, RAFT_MSG_APPEND_RESP, 1);
	ck_assert_ptr_nonnull(m);
	ck_assert(!m->reject);
	/* and the acknowledgement waits for the entries' sync */
	ck_assert(!fix_early(&f, m));
	fix_free(&f);
}
END_TEST

/* A stale leader is told the newer term and steps down. */
START_TEST(test_stale_leader_steps_down)
{
	struct fixture f;
	fix_init(&f, 1, 3, NULL, 0, hs_term(1));
	fix_make_leader(&f);
	fix_step(&f, (struct raft_message){
	                 .type = RAFT_MSG_APPEND_RESP, .from = 2, .to = 1, .term = 9, .index = 0});
	ck_assert_int_eq(fix_status(&f).role, RAFT_FOLLOWER);
	ck_assert_uint_eq(fix_status(&f).term, 9);
	/* And an append from an older term is answered with ours. */
	fix_step(&f, (struct raft_message){.type = RAFT_MSG_APPEND, .from = 3, .to = 1, .term = 4});
	const struct raft_message *m = fix_find(&f, RAFT_MSG_APPEND_RESP, 3);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->term, 9);
	fix_free(&f);
}
END_TEST

/* Garbage, misaddressed and hostile messages are refused and counted, never crashed on. */
START_TEST(test_bad_messages_counted)
{
	static const uint64_t terms[] = {1, 1};
	struct fixture f;
	fix_init(&f, 2, 3, terms, 2, (struct raft_hard_state){1, 0, 2});
	err *e = raft_receive(f.raft, (const uint8_t *)"\x93\x01\x02", 3);
	ck_assert(err_is(e, ERR_DECODE));
	err_free(e);
	ck_assert_int_eq(fix_step(&f,
	                          (struct raft_message){
	                              .type = RAFT_MSG_HEARTBEAT, .from = 7, .to = 2, .term = 1}),
	                 ERR_INVALID);
	ck_assert_int_eq(fix_step(&f,
	                          (struct raft_message){
	                              .type = RAFT_MSG_HEARTBEAT, .from = 1, .to = 3, .term = 1}),
	                 ERR_INVALID);
	/* A "leader" of term 2 sending an entry of term 5. */
	struct raft_entry bad = {.term = 5, .type = RAFT_ENTRY_NORMAL};
	ck_assert_int_eq(append_1_to_2(&f, 2, 2, 1, 0, &bad, 1), ERR_INVALID);
	ck_assert_uint_eq(fix_status(&f).last_index, 2);
	ck_assert_uint_eq(fix_status(&f).malformed_messages, 4);
	fix_free(&f);
}
END_TEST

/*
 * Messages no correct peer sends, found by fuzzing: each used to trip an assertion (a
 * previous entry 0 of a nonzero term; a leader taking back an entry it sent in its term
 * while the follower deferred its acknowledgement). Each is now malformed: rejected before
 * it changes anything, and the node goes on.
 */
START_TEST(test_contradictions_rejected)
{
	static const uint64_t terms[] = {1, 1};
	struct fixture f;
	fix_init(&f, 2, 3, terms, 2, (struct raft_hard_state){1, 0, 2});
	struct raft_entry zero = {.term = 0, .type = RAFT_ENTRY_NORMAL};
	struct raft_message bad[] = {
	    {.type = RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 2, .index = 0, .log_term = 5},
	    {.type = RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 2, .index = 2, .log_term = 0},
	    {.type = RAFT_MSG_APPEND,
	     .from = 1,
	     .to = 2,
	     .term = 2,
	     .index = 0,
	     .entries = &zero,
	     .n_entries = 1},
	    {.type = RAFT_MSG_HEARTBEAT, .from = 1, .to = 2, .term = 0},
	    {.type = RAFT_MSG_VOTE, .from = 3, .to = 2, .term = 3, .index = 2, .log_term = 4},
	    {.type = RAFT_MSG_APPEND_RESP,
	     .from = 3,
	     .to = 2,
	     .term = 1,
	     .reject = true,
	     .hint_index = 1,
	     .hint_term = 2},
	    /* adopted, a term this large made the next campaign's term wrap to 0 */
	    {.type = RAFT_MSG_HEARTBEAT, .from = 1, .to = 2, .term = UINT64_MAX},
	    {.type = RAFT_MSG_VOTE_RESP, .from = 3, .to = 2, .term = (UINT64_MAX >> 1) + 1},
	    /* adopted, the largest term left every node unable to campaign, for good (a forged
	     * heartbeat, found by a review); no jump of more than 2^32 terms is real */
	    {.type = RAFT_MSG_HEARTBEAT, .from = 1, .to = 2, .term = UINT64_MAX >> 1},
	    {.type = RAFT_MSG_PRE_VOTE,
	     .from = 3,
	     .to = 2,
	     .term = 1 + ((uint64_t)1 << 32) + 1,
	     .index = 2,
	     .log_term = 1},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_int_eq(fix_step(&f, bad[i]), ERR_INVALID);
	ck_assert_uint_eq(fix_status(&f).term, 1);
	ck_assert_uint_eq(fix_status(&f).malformed_messages, 10);

	/* The leader of term 2 sends entries 3 and 4, which this follower writes lazily... */
	struct raft_entry sent[2] = {{.term = 2, .type = RAFT_ENTRY_NORMAL},
	                             {.term = 2, .type = RAFT_ENTRY_NORMAL}};
	ck_assert_int_eq(append_1_to_2(&f, 2, 2, 1, RAFT_APPEND_LAZY, sent, 2), 0);
	fix_drain(&f);
	/* ...then claims another entry 3: it cannot take back what it sent in its term. */
	struct raft_entry other = {.term = 1, .type = RAFT_ENTRY_NORMAL};
	ck_assert_int_eq(append_1_to_2(&f, 2, 2, 1, 0, &other, 1), ERR_INVALID);
	ck_assert_uint_eq(fix_status(&f).last_index, 4);
	/* the deferred acknowledgement still goes out at the next tick, for what it holds */
	err_free(raft_tick(f.raft));
	fix_drain(&f);
	const struct raft_message *ack = fix_find(&f, RAFT_MSG_APPEND_RESP, 1);
	ck_assert_ptr_nonnull(ack);
	ck_assert(!ack->reject);
	ck_assert_uint_eq(ack->index, 4);
	/* a jump of exactly 2^32 terms is still taken */
	ck_assert_int_eq(fix_step(&f, (struct raft_message){.type = RAFT_MSG_HEARTBEAT,
	                                                    .from = 1,
	                                                    .to = 2,
	                                                    .term = 2 + ((uint64_t)1 << 32)}),
	                 0);
	ck_assert_uint_eq(fix_status(&f).term, 2 + ((uint64_t)1 << 32));
	fix_free(&f);
}
END_TEST

/* A follower's answer names an append the leader sent: one beyond its log is malformed. */
START_TEST(test_answer_beyond_the_log_rejected)
{
	static const uint64_t terms[] = {1, 1};
	struct fixture f;
	fix_init(&f, 1, 3, terms, 2, hs_term(1));
	fix_make_leader(&f); /* term 2, its no-op at index 3 */
	uint64_t term = fix_status(&f).term;
	ck_assert_uint_eq(fix_status(&f).last_index, 3);
	/* this rejection used to move node 2's next index past the log (an assertion) */
	ck_assert_int_eq(fix_step(&f, (struct raft_message){.type = RAFT_MSG_APPEND_RESP,
	                                                    .from = 2,
	                                                    .to = 1,
	                                                    .term = term,
	                                                    .reject = true,
	                                                    .index = 10,
	                                                    .hint_index = 7}),
	                 ERR_INVALID);
	ck_assert_int_eq(fix_step(&f, (struct raft_message){.type = RAFT_MSG_APPEND_RESP,
	                                                    .from = 2,
	                                                    .to = 1,
	                                                    .term = term,
	                                                    .index = 4}),
	                 ERR_INVALID);
	ck_assert_uint_eq(fix_status(&f).malformed_messages, 2);
	fix_ack_append(&f, 2, 3);
	ck_assert_uint_eq(fix_status(&f).commit, 3);
	fix_free(&f);
}
END_TEST

static err *no_load(void *impl, uint64_t index, struct raft_entry *out)
{
	(void)impl;
	(void)out;
	return err_new(ERR_NOT_FOUND, "no entry %llu", (unsigned long long)index);
}

START_TEST(test_config_and_initial_state_checked)
{
	struct prng p;
	prng_seed(&p, 1);
	uint32_t peers[3] = {1, 2, 3};
	struct raft_config c;
	raft_config_default(&c, 4, peers, 3);
	struct raft_initial init = {{1, 0, 0}, NULL, 0, 0};
	struct raft *r = NULL;
	struct raft_log_source src = {NULL, no_load};
	err *e = raft_new(&c, &init, &p, src, &r);
	ck_assert(err_is(e, ERR_INVALID)); /* not a member */
	err_free(e);
	raft_config_default(&c, 1, peers, 3);
	c.heartbeat_ticks = c.election_ticks;
	e = raft_new(&c, &init, &p, src, &r);
	ck_assert(err_is(e, ERR_INVALID));
	err_free(e);
	raft_config_default(&c, 1, peers, 3);
	init.hard_state.commit = 5; /* beyond the log */
	e = raft_new(&c, &init, &p, src, &r);
	ck_assert(err_is(e, ERR_CORRUPT));
	err_free(e);
	init.hard_state = (struct raft_hard_state){1, 9, 0}; /* a vote for a stranger */
	e = raft_new(&c, &init, &p, src, &r);
	ck_assert(err_is(e, ERR_CORRUPT));
	err_free(e);
	/* a term whose next campaign would wrap to 0 (the node campaigned at term 0 for ever) */
	init.hard_state = (struct raft_hard_state){UINT64_MAX, 0, 0};
	e = raft_new(&c, &init, &p, src, &r);
	ck_assert(err_is(e, ERR_CORRUPT));
	err_free(e);
	ck_assert_ptr_null(r);
}
END_TEST

/* Requests are bounded: beyond max_pending they are refused, never queued without end. */
START_TEST(test_pending_bounded)
{
	struct fixture f;
	fix_init(&f, 1, 3, NULL, 0, hs_term(1));
	fix_make_leader(&f);
	uint32_t accepted = 0;
	for (uint64_t id = 1; id <= 1000; id++) {
		err *e = raft_read_index(f.raft, id);
		if (!e)
			accepted++;
		else
			ck_assert(err_is(e, ERR_LIMIT));
		err_free(e);
	}
	ck_assert_uint_eq(accepted, 256);
	ck_assert_uint_eq(fix_status(&f).pending_requests, 256);
	/* Stepping down fails every one of them, each exactly once. */
	fix_step(&f, (struct raft_message){.type = RAFT_MSG_APPEND, .from = 2, .to = 1, .term = 9});
	struct raft_status st = fix_status(&f);
	ck_assert_uint_eq(st.pending_requests, 0);
	/* the table is whole again: as many fit as before, no more */
	fix_make_leader(&f);
	accepted = 0;
	for (uint64_t id = 1001; id <= 1300; id++) {
		err *e = raft_read_index(f.raft, id);
		accepted += e == NULL;
		err_free(e);
	}
	ck_assert_uint_eq(accepted, 256);
	fix_free(&f);
}
END_TEST

/* Feeds m without draining, so that several inputs share the next ready batch. */
static void receive_only(struct fixture *f, struct raft_message m)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	err *e = raft_message_encode(&m, &b);
	ck_assert_ptr_null(e);
	e = raft_receive(f->raft, b.data, b.len);
	ck_assert_ptr_null(e);
	buf_free(&b);
}

/* §6.4: every read request that arrived since the last ready batch shares one round. */
START_TEST(test_read_round_per_batch)
{
	struct fixture f;
	fix_init(&f, 1, 5, NULL, 0, hs_term(1));
	fix_make_leader(&f);
	uint64_t noop = fix_status(&f).last_index;
	for (uint32_t from = 2; from <= 3; from++)
		fix_step(&f, (struct raft_message){.type = RAFT_MSG_APPEND_RESP,
		                                   .from = from,
		                                   .to = 1,
		                                   .term = 2,
		                                   .index = noop});
	ck_assert_uint_eq(fix_status(&f).commit, noop);
	ck_assert_ptr_null(raft_read_index(f.raft, 101));
	ck_assert_ptr_null(raft_read_index(f.raft, 102));
	for (uint32_t from = 4; from <= 5; from++)
		receive_only(
		    &f, (struct raft_message){
		            .type = RAFT_MSG_READ_INDEX, .from = from, .to = 1, .ctx = 200 + from});
	fix_drain(&f);
	uint32_t heartbeats = 0;
	uint64_t round = 0;
	for (uint32_t i = 0; i < f.n_out; i++) {
		if (f.out[i].type != RAFT_MSG_HEARTBEAT)
			continue;
		heartbeats++;
		ck_assert(round == 0 || f.out[i].ctx == round);
		round = f.out[i].ctx;
	}
	ck_assert_uint_eq(heartbeats, 4); /* one round: one heartbeat per follower */
	ck_assert_uint_ne(round, 0);
	for (uint32_t from = 2; from <= 3; from++)
		fix_step(&f,
		         (struct raft_message){.type = RAFT_MSG_HEARTBEAT_RESP,
		                               .from = from,
		                               .to = 1,
		                               .index = fix_status(&f).last_index, /* its last */
		                               .term = 2,
		                               .ctx = round});
	for (uint32_t to = 4; to <= 5; to++) {
		const struct raft_message *m = fix_find(&f, RAFT_MSG_READ_INDEX_RESP, to);
		ck_assert_ptr_nonnull(m);
		ck_assert(!m->reject);
		ck_assert_uint_eq(m->ctx, 200 + to);
		ck_assert_uint_eq(m->index, noop);
	}
	fix_free(&f);
}
END_TEST

/* Appends to `to` among the drained messages, and the entries they carry. */
static uint32_t appends_to(const struct fixture *f, uint32_t to, uint64_t *entries)
{
	uint32_t n = 0;
	*entries = 0;
	for (uint32_t i = 0; i < f->n_out; i++) {
		if (f->out[i].type == RAFT_MSG_APPEND && f->out[i].to == to) {
			n++;
			*entries += f->out[i].n_entries;
		}
	}
	return n;
}

/*
 * A leader sends each follower at most one append per ready batch: for all the proposals
 * of the batch together, and for all the acknowledgements that advanced its commit index.
 * The eager followers get new entries and commit indexes at once; the lazy ones (4 and 5)
 * get both a tick later, as no proposal of theirs waits.
 */
START_TEST(test_one_append_per_follower_per_batch)
{
	struct fixture f;
	fix_init(&f, 1, 5, NULL, 0, hs_term(1));
	fix_make_leader(&f);
	uint64_t noop = fix_status(&f).last_index;
	for (uint32_t from = 2; from <= 5; from++) /* out of probing: appends may pipeline */
		fix_ack_append(&f, from, noop);
	fix_drain(&f);
	for (uint64_t id = 1; id <= 10; id++)
		ck_assert_ptr_null(raft_propose(f.raft, id, "x", 1));
	struct raft_entry forwarded = {.type = RAFT_ENTRY_NORMAL,
	                               .origin = 3,
	                               .id = 1,
	                               .data = (const uint8_t *)"y",
	                               .len = 1};
	receive_only(&f, (struct raft_message){.type = RAFT_MSG_PROPOSE,
	                                       .from = 3,
	                                       .to = 1,
	                                       .term = 2,
	                                       .entries = &forwarded,
	                                       .n_entries = 1});
	fix_drain(&f);
	uint64_t entries;
	for (uint32_t to = 2; to <= 3; to++) {
		ck_assert_uint_eq(appends_to(&f, to, &entries), 1);
		ck_assert_uint_eq(entries, 11);
	}
	for (uint32_t to = 4; to <= 5; to++)
		ck_assert_uint_eq(appends_to(&f, to, &entries), 0);
	for (uint32_t from = 2; from <= 3; from++)
		receive_only(&f, (struct raft_message){.type = RAFT_MSG_APPEND_RESP,
		                                       .from = from,
		                                       .to = 1,
		                                       .term = 2,
		                                       .index = noop + 11});
	fix_drain(&f);
	ck_assert_uint_eq(fix_status(&f).commit, noop + 11);
	for (uint32_t to = 2; to <= 3; to++) {
		ck_assert_uint_eq(appends_to(&f, to, &entries), 1);
		ck_assert_uint_eq(entries, 0);
		ck_assert_uint_eq(fix_find(&f, RAFT_MSG_APPEND, to)->commit, noop + 11);
	}
	for (uint32_t to = 4; to <= 5; to++)
		ck_assert_uint_eq(appends_to(&f, to, &entries), 0);
	ck_assert_ptr_null(raft_tick(f.raft));
	fix_drain(&f);
	for (uint32_t to = 4; to <= 5; to++) {
		ck_assert_uint_eq(appends_to(&f, to, &entries), 1);
		ck_assert_uint_eq(entries, 11);
		ck_assert_uint_eq(fix_find(&f, RAFT_MSG_APPEND, to)->commit, noop + 11);
	}
	fix_free(&f);
}
END_TEST

/*
 * A commit index alone goes to a fully acknowledged follower as a quiet append, and to
 * one with appends in flight as an ordinary one (its answer frees its window).
 */
START_TEST(test_commit_alone_is_quiet_when_nothing_is_in_flight)
{
	struct fixture f;
	fix_init(&f, 1, 5, NULL, 0, hs_term(1));
	fix_make_leader(&f);
	uint64_t noop = fix_status(&f).last_index;
	for (uint32_t from = 2; from <= 5; from++)
		fix_ack_append(&f, from, noop);
	/* one entry in flight, then a full pace (raft.h, "Pacing") goes out behind it */
	for (uint64_t id = 1; id <= 1 + RAFT__PACE_MAX_ENTRIES; id++)
		fix_propose(&f, id);
	uint64_t last = fix_status(&f).last_index; /* 2 and 3 have two appends in flight */
	fix_ack_append(&f, 2, last);
	fix_ack_append(&f, 3, noop + 1); /* commits noop + 1; 3 still has one in flight */
	ck_assert_uint_eq(fix_status(&f).commit, noop + 1);
	const struct raft_message *to2 = fix_find(&f, RAFT_MSG_APPEND, 2);
	const struct raft_message *to3 = fix_find(&f, RAFT_MSG_APPEND, 3);
	ck_assert_ptr_nonnull(to2);
	ck_assert_ptr_nonnull(to3);
	ck_assert_uint_eq(to2->n_entries, 0);
	ck_assert(to2->ctx & RAFT_APPEND_QUIET);
	ck_assert(!(to3->ctx & RAFT_APPEND_QUIET));
	fix_free(&f);
}
END_TEST

/* A follower takes a quiet append's commit index without answering; a mismatch it answers. */
START_TEST(test_quiet_append_is_not_answered)
{
	static const uint64_t terms[] = {1, 1};
	struct fixture f;
	fix_init(&f, 2, 3, terms, 2, hs_term(1));
	fix_step(&f, (struct raft_message){.type = RAFT_MSG_APPEND,
	                                   .from = 1,
	                                   .to = 2,
	                                   .term = 1,
	                                   .index = 2,
	                                   .log_term = 1,
	                                   .commit = 2,
	                                   .ctx = RAFT_APPEND_QUIET});
	ck_assert_uint_eq(fix_status(&f).commit, 2);
	ck_assert_ptr_null(fix_find(&f, RAFT_MSG_APPEND_RESP, 1));
	fix_step(&f, (struct raft_message){.type = RAFT_MSG_APPEND,
	                                   .from = 1,
	                                   .to = 2,
	                                   .term = 1,
	                                   .index = 5,
	                                   .log_term = 1,
	                                   .commit = 2,
	                                   .ctx = RAFT_APPEND_QUIET});
	const struct raft_message *m = fix_find(&f, RAFT_MSG_APPEND_RESP, 1);
	ck_assert_ptr_nonnull(m);
	ck_assert(m->reject);
	fix_free(&f);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("raft_unit");
	TCase *tc = tcase_create("rules");
	tcase_add_test(tc, test_commit_only_current_term_by_counting);
	tcase_add_test(tc, test_reject_hint_follower);
	tcase_add_test(tc, test_reject_hint_leader);
	tcase_add_test(tc, test_prevote_keeps_term);
	tcase_add_test(tc, test_lease_ignores_votes);
	tcase_add_test(tc, test_vote_rules);
	tcase_add_test(tc, test_prevote_refuses_a_log_behind);
	tcase_add_test(tc, test_commit_stops_at_the_last_new_entry);
	tcase_add_test(tc, test_stale_leader_steps_down);
	tcase_add_test(tc, test_bad_messages_counted);
	tcase_add_test(tc, test_contradictions_rejected);
	tcase_add_test(tc, test_answer_beyond_the_log_rejected);
	tcase_add_test(tc, test_config_and_initial_state_checked);
	tcase_add_test(tc, test_pending_bounded);
	tcase_add_test(tc, test_read_round_per_batch);
	tcase_add_test(tc, test_one_append_per_follower_per_batch);
	tcase_add_test(tc, test_commit_alone_is_quiet_when_nothing_is_in_flight);
	tcase_add_test(tc, test_quiet_append_is_not_answered);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
