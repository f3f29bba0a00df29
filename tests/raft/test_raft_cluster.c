/*
 * Scenario tests of the Raft state machine in a hand-driven cluster (harness.h): elections,
 * partitions, PreVote, CheckQuorum, log repair (Figures 7 and 8 of the Raft paper),
 * ReadIndex on leaders and followers, forwarding, and restarts. The harness checks the
 * safety properties after every batch; each test also asserts its own outcome.
 */
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "harness.h"

#define ROUNDS 200

static struct raft_config test_config(void)
{
	struct raft_config c;
	uint32_t none[1] = {1};
	raft_config_default(&c, 1, none, 1);
	c.max_inflight_msgs = 4;
	c.max_msg_bytes = 256;
	return c;
}

static void setup(struct harness *h, uint32_t n, uint64_t seed)
{
	struct raft_config c = test_config();
	h_init(h, n, seed, &c);
}

static void assert_safe(const struct harness *h)
{
	ck_assert_msg(h->failure[0] == '\0', "%s", h->failure);
}

/* Every running node follows `leader` in its term. */
static void assert_one_leader(const struct harness *h, uint32_t leader)
{
	struct raft_status ls = h_status(h, leader);
	ck_assert_int_eq(ls.role, RAFT_LEADER);
	for (uint32_t id = 1; id <= h->n; id++) {
		struct raft_status st = h_status(h, id);
		ck_assert_uint_eq(st.term, ls.term);
		ck_assert_uint_eq(st.leader, leader);
		if (id != leader)
			ck_assert_int_eq(st.role, RAFT_FOLLOWER);
	}
}

/* Runs until every node applied proposal (origin, pid); returns false if it never does. */
static bool run_until_applied(struct harness *h, uint32_t origin, uint64_t pid)
{
	for (int r = 0; r < ROUNDS; r++) {
		bool all = true;
		for (uint32_t id = 1; id <= h->n; id++)
			all &= h->nodes[id].raft == NULL || h_applied_id(h, id, origin, pid);
		if (all)
			return true;
		h_run(h, 1);
	}
	return false;
}

/* ---- elections ---- */

static void check_election(uint32_t n)
{
	for (uint64_t seed = 1; seed <= 20; seed++) {
		struct harness h;
		setup(&h, n, seed);
		uint32_t leader = h_elect(&h, ROUNDS);
		ck_assert_uint_ne(leader, 0);
		h_run(&h, 5);
		assert_one_leader(&h, leader);
		assert_safe(&h);
		h_free(&h);
	}
}

/*
 * Appends to a follower in replicate state are lost and the cluster goes idle: nothing new
 * is proposed, so only heartbeats flow. The follower must still catch up (the leader probes
 * with an empty append when everything was sent once and never acknowledged). Found by the
 * simulator: register seeds 21, 36 and 73 stalled a replica forever.
 */
START_TEST(test_lost_appends_repaired_when_idle)
{
	struct harness h;
	struct raft_config c = test_config();
	h_init(&h, 3, 41, &c);
	uint32_t leader = h_elect(&h, 300);
	ck_assert_uint_ne(leader, 0);
	uint32_t slow = leader % 3 + 1;
	ck_assert_int_eq(h_propose(&h, leader, 1, "before"), 0);
	h_run(&h, 5);
	ck_assert_uint_eq(h_status(&h, slow).last_index, h_status(&h, leader).last_index);
	h_cut(&h, leader, slow);
	for (uint64_t pid = 2; pid <= 4; pid++)
		ck_assert_int_eq(h_propose(&h, leader, pid, "lost on the way"), 0);
	h_deliver_all(&h, 1000);
	ck_assert_uint_lt(h_status(&h, slow).last_index, h_status(&h, leader).last_index);
	h_heal(&h);
	h_run(&h, 40); /* heartbeats only */
	ck_assert_uint_eq(h_status(&h, slow).last_index, h_status(&h, leader).last_index);
	ck_assert_uint_eq(h_status(&h, slow).commit, h_status(&h, leader).commit);
	assert_safe(&h);
	h_free(&h);
}
END_TEST

START_TEST(test_election_3)
{
	check_election(3);
}
END_TEST

START_TEST(test_election_5)
{
	check_election(5);
}
END_TEST

START_TEST(test_election_7)
{
	check_election(7);
}
END_TEST

START_TEST(test_reelection_after_leader_partitioned)
{
	struct harness h;
	setup(&h, 5, 7);
	uint32_t old = h_elect(&h, ROUNDS);
	ck_assert_uint_ne(old, 0);
	uint64_t old_term = h_status(&h, old).term;
	h_partition(&h, 1u << old);
	uint32_t leader = 0;
	for (int r = 0; r < ROUNDS && (leader == 0 || leader == old); r++) {
		h_run(&h, 1);
		leader = h_leader(&h);
	}
	ck_assert_uint_ne(leader, 0);
	ck_assert_uint_ne(leader, old);
	ck_assert_uint_gt(h_status(&h, leader).term, old_term);
	/* The new leader commits without the old one. */
	ck_assert_int_eq(h_propose(&h, leader, 1, "after"), 0);
	h_run(&h, 10);
	ck_assert(h_applied_id(&h, leader, leader, 1));
	/* Healed, the old leader follows the new one and catches up. */
	h_heal(&h);
	ck_assert(run_until_applied(&h, leader, 1));
	h_run(&h, 5);
	assert_one_leader(&h, leader);
	assert_safe(&h);
	h_free(&h);
}
END_TEST

/* The first leader draws the cluster's id into entry 1; a later leader's no-op is empty. */
START_TEST(test_first_leader_writes_the_cluster_id)
{
	struct harness h;
	setup(&h, 5, 11);
	uint32_t first = h_elect(&h, ROUNDS);
	ck_assert_uint_ne(first, 0);
	h_run(&h, 10);
	uint64_t id = raft_cluster_id_of(&h.nodes[first].log[0]);
	ck_assert_uint_ne(id, 0);
	for (uint32_t n = 1; n <= 5; n++) {
		ck_assert_uint_ge(h.nodes[n].log_len, 1);
		ck_assert_uint_eq(raft_cluster_id_of(&h.nodes[n].log[0]), id);
	}
	h_partition(&h, 1u << first);
	uint32_t next = 0;
	for (int r = 0; r < ROUNDS && (next == 0 || next == first); r++) {
		h_run(&h, 1);
		next = h_leader(&h);
	}
	ck_assert_uint_ne(next, first);
	h_run(&h, 10);
	const struct h_node *n = &h.nodes[next];
	const struct raft_entry *noop = &n->log[n->log_len - 1];
	ck_assert_uint_eq(noop->term, h_status(&h, next).term);
	ck_assert_uint_eq(noop->type, RAFT_ENTRY_NOOP);
	ck_assert_uint_eq(noop->len, 0);
	ck_assert_uint_eq(raft_cluster_id_of(&n->log[0]), id);
	assert_safe(&h);
	h_free(&h);
}
END_TEST

START_TEST(test_prevote_rejoin_does_not_disrupt)
{
	struct harness h;
	setup(&h, 5, 11);
	uint32_t leader = h_elect(&h, ROUNDS);
	ck_assert_uint_ne(leader, 0);
	uint64_t term = h_status(&h, leader).term;
	uint32_t lonely = leader % 5 + 1;
	h_partition(&h, 1u << lonely);
	h_run(&h, 100); /* many election timeouts: without PreVote its term would soar */
	ck_assert_uint_eq(h_status(&h, lonely).term, term);
	ck_assert_int_ne(h_status(&h, lonely).role, RAFT_LEADER);
	h_heal(&h);
	h_run(&h, 30);
	ck_assert_uint_eq(h_leader(&h), leader);
	ck_assert_uint_eq(h_status(&h, leader).term, term);
	assert_one_leader(&h, leader);
	assert_safe(&h);
	h_free(&h);
}
END_TEST

START_TEST(test_isolated_leader_steps_down)
{
	struct harness h;
	setup(&h, 3, 5);
	uint32_t leader = h_elect(&h, ROUNDS);
	ck_assert_uint_ne(leader, 0);
	uint64_t term = h_status(&h, leader).term;
	h_partition(&h, 1u << leader);
	/* Keep the others from electing anyone: only the leader's clock runs. */
	for (uint32_t t = 0; t < 2 * h.config.election_ticks; t++)
		h_tick(&h, leader);
	struct raft_status st = h_status(&h, leader);
	ck_assert_int_eq(st.role, RAFT_FOLLOWER);
	ck_assert_uint_eq(st.term, term); /* stepping down needs no new term */
	ck_assert_uint_eq(st.leader, 0);
	assert_safe(&h);
	h_free(&h);
}
END_TEST

/* ---- log repair ---- */

/* Figure 7: a leader of term 8 and six followers with missing and extra entries. */
START_TEST(test_figure7_logs_repaired)
{
	static const uint64_t leader[] = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6};
	static const uint64_t a[] = {1, 1, 1, 4, 4, 5, 5, 6, 6};
	static const uint64_t b[] = {1, 1, 1, 4};
	static const uint64_t c[] = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6};
	static const uint64_t d[] = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7};
	static const uint64_t e[] = {1, 1, 1, 4, 4, 4, 4};
	static const uint64_t f[] = {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3};
	const uint64_t *terms[] = {NULL, leader, a, b, c, d, e, f};
	const uint64_t lens[] = {0, 10, 9, 4, 11, 12, 7, 11};
	struct raft_config config = test_config();
	struct harness h;
	h_init_logs(&h, 7, 3, &config, terms, lens, 7);
	ck_assert(h_make_leader(&h, 1));
	ck_assert_uint_eq(h_status(&h, 1).term, 8);
	ck_assert_int_eq(h_propose(&h, 1, 1, "x"), 0);
	ck_assert(run_until_applied(&h, 1, 1));
	/* Every log is now the leader's: its ten entries, the no-op of term 8, "x". */
	for (uint32_t id = 1; id <= 7; id++) {
		ck_assert_uint_eq(h.nodes[id].log_len, 12);
		for (uint64_t i = 1; i <= 10; i++)
			ck_assert_uint_eq(h_log_term(&h, id, i), leader[i - 1]);
		ck_assert_uint_eq(h_log_term(&h, id, 11), 8);
		ck_assert_uint_eq(h_log_term(&h, id, 12), 8);
	}
	assert_safe(&h);
	h_free(&h);
}
END_TEST

/*
 * Figure 8: S1 (term 2) replicates entry 2 to S2 only and crashes; S5 wins term 3 with
 * S3 and S4 and takes a different entry 2, then crashes; S1 comes back and leads again.
 * Entry 2 of term 2 may commit only together with an entry of S1's new term; S5 must
 * never be able to overwrite a committed entry; everyone converges.
 */
START_TEST(test_figure8_commit_rule)
{
	struct harness h;
	setup(&h, 5, 13);
	ck_assert(h_make_leader(&h, 1));
	h_run(&h, 5);
	uint64_t base = h_status(&h, 1).commit;
	ck_assert_uint_eq(h_status(&h, 5).commit, base);
	/* (a) S1 replicates a new entry to S2 only. */
	h_partition(&h, (1u << 1) | (1u << 2));
	ck_assert_int_eq(h_propose(&h, 1, 1, "from-s1"), 0);
	h_deliver_all(&h, 1000);
	ck_assert_uint_eq(h.nodes[2].log_len, base + 1);
	ck_assert_uint_eq(h_status(&h, 1).commit, base);
	/* (b) S1 crashes; S5 leads S3, S4 and appends its own entry at the same index. */
	h_crash(&h, 1);
	ck_assert(h_make_leader(&h, 5));
	h_drop_all(&h);
	h_partition(&h, 1u << 5);
	ck_assert_int_eq(h_propose(&h, 5, 2, "from-s5"), 0);
	h_drop_all(&h);
	/* (c) S5 crashes; S1 restarts and leads S2, S3, S4 in a higher term. */
	h_crash(&h, 5);
	h_heal(&h);
	h_restart(&h, 1);
	ck_assert(h_make_leader(&h, 1));
	ck_assert(run_until_applied(&h, 1, 1));
	/* (d)-(e) S5 returns: its log is behind the quorum's, it cannot win, and its entry
	 * is replaced by the committed one. */
	h_restart(&h, 5);
	ck_assert(run_until_applied(&h, 1, 1));
	h_run(&h, 20);
	ck_assert(!h_applied_id(&h, 5, 5, 2));
	ck_assert_uint_eq(h_log_term(&h, 5, base + 1), h_log_term(&h, 1, base + 1));
	ck_assert_uint_eq(h_leader(&h), 1);
	assert_safe(&h);
	h_free(&h);
}
END_TEST

/* ---- reads ---- */

START_TEST(test_read_index_leader_and_follower)
{
	struct harness h;
	setup(&h, 3, 17);
	uint32_t leader = h_elect(&h, ROUNDS);
	ck_assert_uint_ne(leader, 0);
	uint32_t follower = leader % 3 + 1;
	ck_assert_int_eq(h_propose(&h, leader, 1, "write"), 0);
	ck_assert(run_until_applied(&h, leader, 1));
	uint64_t acked = h.max_applied; /* the write is acknowledged: reads begin now */
	ck_assert_int_eq(h_read(&h, leader, 10), 0);
	ck_assert_int_eq(h_read(&h, follower, 11), 0);
	h_run(&h, 5);
	ck_assert_uint_ge(h_read_result(&h, leader, 10), acked);
	ck_assert_uint_ge(h_read_result(&h, follower, 11), acked);
	/* A follower that has not applied the write yet still gets a read point past it. */
	uint32_t slow = follower % 3 + 1 == leader ? leader % 3 + 1 : follower % 3 + 1;
	h_cut(&h, leader, slow);
	ck_assert_int_eq(h_propose(&h, leader, 2, "write2"), 0);
	h_deliver_all(&h, 1000);
	h_run(&h, 1);
	uint64_t acked2 = h.max_applied;
	h_heal(&h);
	ck_assert_int_eq(h_read(&h, slow, 12), 0);
	h_run(&h, 5);
	ck_assert_uint_ge(h_read_result(&h, slow, 12), acked2);
	assert_safe(&h);
	h_free(&h);
}
END_TEST

START_TEST(test_read_index_minority_leader_cannot_serve)
{
	struct harness h;
	setup(&h, 5, 19);
	uint32_t leader = h_elect(&h, ROUNDS);
	ck_assert_uint_ne(leader, 0);
	uint32_t buddy = leader % 5 + 1;
	h_partition(&h, (1u << leader) | (1u << buddy));
	ck_assert_int_eq(h_read(&h, leader, 20), 0);
	for (int r = 0; r < 40; r++) {
		h_run(&h, 1);
		ck_assert_uint_eq(h_read_result(&h, leader, 20), 0);
	}
	/* It stepped down (CheckQuorum) and failed the read instead of answering it. */
	ck_assert_int_ne(h_status(&h, leader).role, RAFT_LEADER);
	ck_assert_uint_eq(h_failure(&h, leader, 20), RAFT_FAIL_READ);
	/* The majority elected a leader that serves reads. */
	uint32_t now = h_leader(&h);
	ck_assert_uint_ne(now, 0);
	ck_assert_uint_ne(now, leader);
	ck_assert_int_eq(h_read(&h, now, 21), 0);
	h_run(&h, 3);
	ck_assert_uint_gt(h_read_result(&h, now, 21), 0);
	assert_safe(&h);
	h_free(&h);
}
END_TEST

/* ---- forwarding ---- */

START_TEST(test_forwarding)
{
	struct harness h;
	setup(&h, 3, 23);
	/* No leader known yet: refused as never proposed. */
	ck_assert_int_eq(h_propose(&h, 1, 1, "early"), ERR_UNAVAILABLE);
	ck_assert_int_eq(h_read(&h, 1, 1), ERR_UNAVAILABLE);
	uint32_t leader = h_elect(&h, ROUNDS);
	ck_assert_uint_ne(leader, 0);
	uint32_t follower = leader % 3 + 1;
	ck_assert_int_eq(h_propose(&h, follower, 2, "forwarded"), 0);
	ck_assert(run_until_applied(&h, follower, 2));
	ck_assert_uint_eq(h_failure(&h, follower, 2), 0);
	ck_assert_int_eq(h_propose(&h, follower, 2, "dup"), 0); /* id 2 is no longer pending */
	ck_assert_int_eq(h_propose(&h, follower, 3, "a"), 0);
	ck_assert_int_eq(h_propose(&h, follower, 3, "b"), ERR_EXISTS);
	ck_assert(run_until_applied(&h, follower, 3));
	/* The forward is lost: reported as unknown once its deadline passes. */
	ck_assert_int_eq(h_propose(&h, follower, 4, "lost"), 0);
	h_drop_all(&h);
	h_run(&h, 3 * h.config.election_ticks);
	ck_assert_uint_eq(h_failure(&h, follower, 4), RAFT_FAIL_UNKNOWN);
	/* The leader restarted and is a follower when the forward arrives: never proposed. */
	h_run(&h, 5);
	leader = h_leader(&h);
	follower = leader % 3 + 1;
	ck_assert_int_eq(h_propose(&h, follower, 5, "refused"), 0);
	h_crash(&h, leader);
	h_restart(&h, leader);
	h_deliver(&h, 0); /* the forward reaches the restarted node */
	h_deliver_all(&h, 100);
	ck_assert_uint_eq(h_failure(&h, follower, 5), RAFT_FAIL_NOT_PROPOSED);
	assert_safe(&h);
	h_free(&h);
}
END_TEST

START_TEST(test_leader_change_fails_pending_as_unknown)
{
	struct harness h;
	setup(&h, 3, 29);
	uint32_t leader = h_elect(&h, ROUNDS);
	ck_assert_uint_ne(leader, 0);
	h_partition(&h, 1u << leader);
	ck_assert_int_eq(h_propose(&h, leader, 7, "stranded"), 0);
	ck_assert_int_eq(h_read(&h, leader, 8), 0);
	h_run(&h, 3 * h.config.election_ticks);
	ck_assert_uint_eq(h_failure(&h, leader, 7), RAFT_FAIL_UNKNOWN);
	ck_assert_uint_eq(h_failure(&h, leader, 8), RAFT_FAIL_READ);
	assert_safe(&h);
	h_free(&h);
}
END_TEST

/* ---- restarts ---- */

/*
 * A follower whose disk lost everything (a wiped data directory) rejects the leader's
 * appends at an index below what it had acknowledged. The leader took that for an old
 * answer and never repaired it while it led; now it probes from the follower's hint.
 */
START_TEST(test_wiped_follower_is_repaired_by_the_same_leader)
{
	struct harness h;
	setup(&h, 3, 37);
	uint32_t leader = h_elect(&h, ROUNDS);
	ck_assert_uint_ne(leader, 0);
	for (uint64_t i = 1; i <= 5; i++)
		ck_assert_int_eq(h_propose(&h, leader, i, "entry"), 0);
	ck_assert(run_until_applied(&h, leader, 5));
	h_run(&h, 5);
	uint32_t wiped = leader % 3 + 1;
	ck_assert_uint_eq(h_status(&h, wiped).commit, h_status(&h, leader).commit);
	h_crash(&h, wiped);
	struct h_node *node = &h.nodes[wiped];
	while (node->log_len > 0)
		free((void *)node->log[--node->log_len].data);
	node->hs = (struct raft_hard_state){0};
	h_restart(&h, wiped);
	h_run(&h, 20); /* idle: the heartbeats' answers show the loss */
	ck_assert_uint_eq(h_status(&h, wiped).last_index, h_status(&h, leader).last_index);
	ck_assert_int_eq(h_propose(&h, leader, 6, "after"), 0);
	h_run(&h, 20);
	ck_assert_uint_eq(h_leader(&h), leader); /* the same leader throughout */
	struct raft_status st = h_status(&h, wiped);
	ck_assert_uint_eq(st.last_index, h_status(&h, leader).last_index);
	ck_assert_uint_eq(st.commit, h_status(&h, leader).commit);
	ck_assert(h_applied_id(&h, wiped, leader, 6));
	h_free(&h);
}
END_TEST

START_TEST(test_restart_keeps_term_vote_log)
{
	struct harness h;
	setup(&h, 3, 31);
	uint32_t leader = h_elect(&h, ROUNDS);
	ck_assert_uint_ne(leader, 0);
	for (uint64_t i = 1; i <= 5; i++)
		ck_assert_int_eq(h_propose(&h, leader, i, "entry"), 0);
	ck_assert(run_until_applied(&h, leader, 5));
	struct raft_status before[4];
	for (uint32_t id = 1; id <= 3; id++) {
		before[id] = h_status(&h, id);
		h_crash(&h, id);
	}
	for (uint32_t id = 1; id <= 3; id++) {
		h_restart(&h, id);
		struct raft_status st = h_status(&h, id);
		ck_assert_uint_eq(st.term, before[id].term);
		ck_assert_uint_eq(st.vote, before[id].vote);
		ck_assert_uint_eq(st.last_index, before[id].last_index);
		ck_assert_uint_eq(st.commit, before[id].commit);
	}
	/* Restarted nodes re-apply their committed log and elect again. */
	ck_assert_uint_ne(h_elect(&h, ROUNDS), 0);
	for (uint32_t id = 1; id <= 3; id++)
		ck_assert(h_applied_id(&h, id, leader, 5));
	assert_safe(&h);
	h_free(&h);
}
END_TEST

/* A follower far behind is caught up from the leader's disk once its cache is small. */
START_TEST(test_catch_up_from_disk)
{
	struct raft_config c = test_config();
	c.max_cache_bytes = 64;
	struct harness h;
	h_init(&h, 3, 41, &c);
	uint32_t leader = h_elect(&h, ROUNDS);
	ck_assert_uint_ne(leader, 0);
	uint32_t lagging = leader % 3 + 1;
	h_crash(&h, lagging);
	for (uint64_t i = 1; i <= 100; i++) {
		ck_assert_int_eq(h_propose(&h, leader, i, "a command of some length"), 0);
		h_run(&h, 1);
	}
	ck_assert_uint_eq(h.nodes[leader].loads, 0);
	h_restart(&h, lagging);
	ck_assert(run_until_applied(&h, leader, 100));
	ck_assert_uint_gt(h.nodes[leader].loads, 50);
	ck_assert_uint_eq(h.nodes[lagging].log_len, h.nodes[leader].log_len);
	assert_safe(&h);
	h_free(&h);
}
END_TEST

START_TEST(test_pipelining_and_batching)
{
	struct harness h;
	setup(&h, 3, 37);
	uint32_t leader = h_elect(&h, ROUNDS);
	ck_assert_uint_ne(leader, 0);
	char text[64];
	for (uint64_t i = 1; i <= 200; i++) {
		snprintf(text, sizeof text, "entry number %llu", (unsigned long long)i);
		ck_assert_int_eq(h_propose(&h, leader, i, text), 0);
	}
	/* Flow control: at most max_inflight appends per follower are in the network. */
	uint32_t appends_to[4] = {0};
	for (uint32_t i = 0; i < h.n_net; i++)
		appends_to[h.net[i].to]++;
	for (uint32_t id = 1; id <= 3; id++)
		ck_assert_uint_le(appends_to[id], h.config.max_inflight_msgs);
	ck_assert(run_until_applied(&h, leader, 200));
	/* Recent entries come from the leader's cache, never from its disk. */
	ck_assert_uint_eq(h.nodes[leader].loads, 0);
	struct raft_status st = h_status(&h, leader);
	for (uint32_t i = 0; i < st.n_peers; i++) {
		ck_assert_uint_eq(st.peers[i].match, st.last_index);
		ck_assert_str_ne(st.peers[i].state, "probe");
	}
	assert_safe(&h);
	h_free(&h);
}
END_TEST

/*
 * With a window of one append per follower, proposals still commit and reach their
 * origin without waiting for a tick: an append that only carries the commit index takes no
 * slot of the window (it is not answered, so nothing would free it), and a full window
 * holds back entries but not the commit index.
 */
START_TEST(test_one_append_window_needs_no_ticks)
{
	struct raft_config c = test_config();
	c.max_inflight_msgs = 1;
	struct harness h;
	h_init(&h, 5, 41, &c);
	uint32_t leader = h_elect(&h, ROUNDS);
	ck_assert_uint_ne(leader, 0);
	h_run(&h, 3);
	for (uint64_t pid = 1; pid <= 20; pid++) {
		uint32_t follower = (leader + (uint32_t)pid % 4) % 5 + 1;
		ck_assert_int_eq(h_propose(&h, follower, pid, "a forwarded entry"), 0);
		if (pid % 3 == 0)
			ck_assert_int_eq(h_propose(&h, leader, 100 + pid, "one on the leader"), 0);
		h_deliver_all(&h, 1000); /* no tick */
		ck_assert_msg(h_applied_id(&h, follower, follower, pid), "proposal %llu waits",
		              (unsigned long long)pid);
	}
	assert_safe(&h);
	h_free(&h);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("raft_cluster");
	TCase *tc = tcase_create("scenarios");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_election_3);
	tcase_add_test(tc, test_lost_appends_repaired_when_idle);
	tcase_add_test(tc, test_election_5);
	tcase_add_test(tc, test_election_7);
	tcase_add_test(tc, test_reelection_after_leader_partitioned);
	tcase_add_test(tc, test_first_leader_writes_the_cluster_id);
	tcase_add_test(tc, test_prevote_rejoin_does_not_disrupt);
	tcase_add_test(tc, test_isolated_leader_steps_down);
	tcase_add_test(tc, test_figure7_logs_repaired);
	tcase_add_test(tc, test_figure8_commit_rule);
	tcase_add_test(tc, test_read_index_leader_and_follower);
	tcase_add_test(tc, test_read_index_minority_leader_cannot_serve);
	tcase_add_test(tc, test_forwarding);
	tcase_add_test(tc, test_one_append_window_needs_no_ticks);
	tcase_add_test(tc, test_leader_change_fails_pending_as_unknown);
	tcase_add_test(tc, test_wiped_follower_is_repaired_by_the_same_leader);
	tcase_add_test(tc, test_restart_keeps_term_vote_log);
	tcase_add_test(tc, test_pipelining_and_batching);
	tcase_add_test(tc, test_catch_up_from_disk);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
