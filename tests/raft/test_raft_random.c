/*
 * The randomized safety test: many seeded runs of a 3-, 5- or 7-node cluster under random
 * message loss, duplication, reordering, partitions, crashes and restarts, with random
 * proposals and reads, and leaders pacing their appends (raft.h, "Pacing") or not. The
 * harness checks Election Safety, Log Matching, Leader Completeness, State Machine
 * Safety and ReadIndex freshness after every step. Each run ends with the faults healed
 * and must then elect a leader and commit a proposal (liveness). A failure names its
 * seed; rerun one seed with RAFT_SEED=n.
 */
#include <stdio.h>
#include <stdlib.h>

#include "base/mutation.h"
#include "check_main.h"
#include "harness.h"

#define RUNS 1000
#define STEPS_PER_RUN 2000

struct run_stats {
	uint64_t steps;
	uint64_t proposed; /* accepted by raft_propose */
	uint64_t refused;  /* refused at once (no leader known, limits) */
	uint64_t applied;
	uint64_t elections;
	uint64_t reads;
	uint64_t failures;
};

/* One random action; the weights make delivery the common case. */
static void random_step(struct harness *h, struct prng *p, uint64_t *next_id,
                        struct run_stats *stats)
{
	uint32_t id = 1 + (uint32_t)prng_below(p, h->n);
	uint64_t roll = prng_below(p, 1000);
	if (roll < 550) {
		/* Mostly one of the oldest few (bounded reordering), sometimes any at all. */
		uint32_t window = h->n_net < 8 || prng_chance(p, 0.1) ? h->n_net : 8;
		if (window > 0)
			h_deliver(h, (uint32_t)prng_below(p, window));
	} else if (roll < 600) {
		if (h->n_net > 0)
			h_drop(h, (uint32_t)prng_below(p, h->n_net));
	} else if (roll < 630) {
		if (h->n_net > 0)
			h_duplicate(h, (uint32_t)prng_below(p, h->n_net));
	} else if (roll < 900) {
		h_tick(h, id);
	} else if (roll < 955) {
		if (*next_id < H_MAX_RESULTS) {
			int rc = h_propose(h, id, (*next_id)++, "v");
			stats->proposed += rc == 0;
			stats->refused += rc != 0;
		}
	} else if (roll < 976) {
		if (*next_id < H_MAX_RESULTS)
			h_read(h, id, (*next_id)++);
	} else if (roll < 984) {
		h_heal(h);
		if (prng_chance(p, 0.6))
			h_partition(h, (uint32_t)prng_below(p, 1u << (h->n + 1)) & ~1u);
	} else if (roll < 994) {
		if (h->nodes[id].raft)
			h_crash(h, id);
		else
			h_restart(h, id);
	} else {
		for (uint32_t other = 1; other <= h->n; other++)
			h_restart(h, other);
	}
}

/* Prints every node's status, to diagnose a failed run. */
static void dump(const struct harness *h)
{
	for (uint32_t id = 1; id <= h->n; id++) {
		struct raft_status st = h_status(h, id);
		printf("n%u %s term %llu leader %u commit %llu applied %llu last %llu pending %u "
		       "uncommitted %llu\n",
		       id, raft_role_name(st.role), (unsigned long long)st.term, st.leader,
		       (unsigned long long)st.commit, (unsigned long long)st.applied,
		       (unsigned long long)st.last_index, st.pending_requests,
		       (unsigned long long)st.uncommitted_bytes);
		for (uint32_t i = 0; st.role == RAFT_LEADER && i < st.n_peers; i++)
			printf("   peer %u match %llu next %llu %s\n", st.peers[i].id,
			       (unsigned long long)st.peers[i].match,
			       (unsigned long long)st.peers[i].next, st.peers[i].state);
	}
}

/*
 * After the faults: heal, restart, and require that a leader commits a new proposal. A
 * proposal may fail (the leader can still change while the cluster settles), so up to
 * five attempts are made; the ids at the top of the range are never used before.
 */
static void liveness(struct harness *h, uint64_t seed)
{
	h_heal(h);
	for (uint32_t id = 1; id <= h->n; id++)
		h_restart(h, id);
	bool done = false;
	for (uint64_t attempt = 1; attempt <= 5 && !done; attempt++) {
		uint32_t leader = h_elect(h, 300);
		ck_assert_msg(leader != 0, "seed %llu: no leader after healing",
		              (unsigned long long)seed);
		uint64_t pid = H_MAX_RESULTS - attempt;
		int rc = h_propose(h, leader, pid, "final");
		ck_assert_msg(rc == 0, "seed %llu: final proposal refused (%d)",
		              (unsigned long long)seed, rc);
		for (int r = 0; r < 300 && !done && !h_failure(h, leader, pid); r++) {
			h_run(h, 1);
			done = h_applied_id(h, leader, leader, pid);
		}
	}
	if (!done)
		dump(h);
	ck_assert_msg(done, "seed %llu: final proposal never applied", (unsigned long long)seed);
}

static void one_run(uint64_t seed, struct run_stats *stats)
{
	struct prng p;
	prng_seed(&p, prng_subseed(seed, "raft-random", 0));
	static const uint32_t sizes[] = {3, 5, 5, 7};
	uint32_t n = sizes[prng_below(&p, 4)];
	struct raft_config c;
	uint32_t one[1] = {1};
	raft_config_default(&c, 1, one, 1);
	c.election_ticks = 4 + (uint32_t)prng_below(&p, 6);
	c.heartbeat_ticks = 1 + c.election_ticks / 4;
	c.max_inflight_msgs = 1 + (uint32_t)prng_below(&p, 4);
	c.max_msg_bytes = 4 + prng_below(&p, 64);
	c.max_pending = 64;
	c.pacing = prng_below(&p, 4) != 0;
	struct harness *h = malloc(sizeof *h);
	ck_assert_ptr_nonnull(h);
	h_init(h, n, seed, &c);
	uint64_t next_id = 1;
	for (uint32_t step = 0; step < STEPS_PER_RUN && h->failure[0] == '\0'; step++)
		random_step(h, &p, &next_id, stats);
	ck_assert_msg(h->failure[0] == '\0', "%s", h->failure);
	liveness(h, seed);
	ck_assert_msg(h->failure[0] == '\0', "%s", h->failure);
	stats->steps += h->steps;
	stats->applied += h->max_applied;
	for (uint64_t t = 0; t < h->terms_cap; t++)
		stats->elections += h->leader_of_term[t] != 0;
	for (uint32_t id = 1; id <= n; id++) {
		stats->reads += h->nodes[id].n_reads;
		stats->failures += h->nodes[id].n_failures;
	}
	h_free(h);
	free(h);
}

START_TEST(test_random_runs)
{
	struct run_stats stats = {0};
	const char *only = getenv("RAFT_SEED");
	if (only) {
		one_run(strtoull(only, NULL, 10), &stats);
		return;
	}
	for (uint64_t seed = 1; seed <= RUNS; seed++)
		one_run(seed, &stats);
	printf("raft random: %d runs, %llu node steps, %llu proposals accepted (%llu refused), "
	       "%llu entries committed, %llu leaders, %llu reads served, %llu requests failed\n",
	       RUNS, (unsigned long long)stats.steps, (unsigned long long)stats.proposed,
	       (unsigned long long)stats.refused, (unsigned long long)stats.applied,
	       (unsigned long long)stats.elections, (unsigned long long)stats.reads,
	       (unsigned long long)stats.failures);
	ck_assert_uint_gt(stats.applied, RUNS);
	ck_assert_uint_gt(stats.reads, RUNS / 10);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("raft_random");
	TCase *tc = tcase_create("random");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_random_runs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	/* CAIRN_MUTATION=name runs the test against a deliberate bug (a mutations build). */
	const char *mutant = getenv("CAIRN_MUTATION");
	if (mutant) {
		enum mutation m;
		err *e = mutation_parse(mutant, &m);
		if (!e)
			e = mutation_select(m);
		if (e) {
			fprintf(stderr, "test_raft_random: %s\n", err_msg(e));
			err_free(e);
			return 2;
		}
	}
	return check_run(suite());
}
