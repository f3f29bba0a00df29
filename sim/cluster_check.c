/*
 * cluster_check.c — watching the cluster from outside, between events.
 *
 * The checker samples every node periodically. Leaders are remembered per term in a
 * growable table indexed by term; the terms of committed entries in a growable table
 * indexed by log index (each node's committed prefix is verified once, incrementally);
 * state hashes per applied index in a small open-addressed table. All are bounded by
 * the run's length: terms and indexes only grow as fast as the cluster works.
 */
#include "sim/cluster_check.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sim/node_app.h"

#define CHECK_TABLE_MAX ((uint64_t)1 << 26) /* entries or terms tracked at most */
#define CHECK_HASHES 4096                   /* applied-index samples remembered */

struct hash_sample {
	uint64_t applied; /* 0: empty slot */
	uint64_t hash;
	uint32_t node;
};

struct sim_cluster_check {
	struct sim_world *world;
	uint32_t period_ms;
	uint32_t hash_period_ms;
	uint64_t last_hash_ms;
	uint32_t *leader_of_term; /* 0: none seen */
	uint64_t terms_cap;
	uint64_t *term_of_index; /* 0: not yet seen committed */
	uint64_t index_cap;
	uint64_t verified[SIM_NODES_MAX + 1]; /* per node: committed prefix already checked */
	uint32_t incarnation[SIM_NODES_MAX + 1];
	struct hash_sample hashes[CHECK_HASHES];
	uint64_t cluster_id; /* the first a node reported; 0: none yet */
	uint32_t cluster_id_node;
	uint64_t leaders_seen, entries_seen, hashes_compared;
};

err *sim_cluster_check_new(struct sim_world *world, struct sim_cluster_check **out)
{
	struct sim_cluster_check *c = calloc(1, sizeof *c);
	if (!c)
		return err_new(ERR_NOMEM, "cluster check: out of memory");
	c->world = world;
	*out = c;
	return NULL;
}

void sim_cluster_check_free(struct sim_cluster_check *c)
{
	if (!c)
		return;
	free(c->leader_of_term);
	free(c->term_of_index);
	free(c);
}

/* Grows *table (elements of `size` bytes) to hold index `i`; false past the bound. */
static bool check__grow(void **table, uint64_t *cap, uint64_t i, size_t size)
{
	if (i < *cap)
		return true;
	if (i >= CHECK_TABLE_MAX)
		return false;
	uint64_t n = *cap ? *cap : 1024;
	while (n <= i)
		n *= 2;
	void *grown = realloc(*table, n * size);
	if (!grown)
		return false;
	memset((char *)grown + *cap * size, 0, (n - *cap) * size);
	*table = grown;
	*cap = n;
	return true;
}

static void check__leader(struct sim_cluster_check *c, uint32_t id, const struct node_status *st)
{
	if (st->raft.role != RAFT_LEADER)
		return;
	uint64_t term = st->raft.term;
	if (!check__grow((void **)&c->leader_of_term, &c->terms_cap, term, sizeof(uint32_t)))
		return;
	uint32_t *seen = &c->leader_of_term[term];
	if (*seen == 0) {
		*seen = id;
		c->leaders_seen++;
	} else if (*seen != id) {
		sim_fail(c->world, err_new(ERR_INTERNAL,
		                           "election safety: nodes %u and %u both led term %llu",
		                           *seen, id, (unsigned long long)term));
	}
}

static void check__committed(struct sim_cluster_check *c, uint32_t id, struct node *n,
                             const struct node_status *st)
{
	uint32_t inc = sim_node_incarnation(c->world, id);
	if (inc != c->incarnation[id]) {
		c->incarnation[id] = inc;
		c->verified[id] = 0; /* a restarted node may have lost its uncommitted tail */
	}
	uint64_t commit = st->raft.commit;
	for (uint64_t i = c->verified[id] + 1; i <= commit; i++) {
		uint64_t term;
		err *e = node_log_term(n, i, &term);
		if (e) {
			err_free(e);
			return;
		}
		if (!check__grow((void **)&c->term_of_index, &c->index_cap, i, sizeof(uint64_t)))
			return;
		uint64_t *known = &c->term_of_index[i];
		if (*known == 0) {
			*known = term;
			c->entries_seen++;
		} else if (*known != term) {
			sim_fail(c->world,
			         err_new(ERR_INTERNAL,
			                 "state machine safety: node %u has committed entry %llu "
			                 "in term %llu, but it was committed in term %llu",
			                 id, (unsigned long long)i, (unsigned long long)term,
			                 (unsigned long long)*known));
			return;
		}
		c->verified[id] = i;
	}
}

static void check__hash(struct sim_cluster_check *c, uint32_t id)
{
	uint64_t applied, hash;
	if (!sim_node_state(c->world, id, &applied, &hash) || applied == 0)
		return;
	struct hash_sample *slot = &c->hashes[applied % CHECK_HASHES];
	if (slot->applied != applied) {
		*slot = (struct hash_sample){applied, hash, id};
		return;
	}
	c->hashes_compared++;
	if (slot->hash != hash)
		sim_fail(c->world,
		         err_new(ERR_INTERNAL,
		                 "replicas diverged: nodes %u and %u applied %llu entries "
		                 "but their state hashes differ (%016llx, %016llx)",
		                 slot->node, id, (unsigned long long)applied,
		                 (unsigned long long)slot->hash, (unsigned long long)hash));
}

/* A node that applied an entry knows the cluster's id, and every node knows the same. */
static void check__cluster_id(struct sim_cluster_check *c, uint32_t id, struct node *n,
                              const struct node_status *st)
{
	uint64_t mine = node_cluster_id(n);
	if (mine == 0) {
		if (st->applied > 0)
			sim_fail(c->world,
			         err_new(ERR_INTERNAL,
			                 "node %u applied %llu entries but knows no cluster id", id,
			                 (unsigned long long)st->applied));
		return;
	}
	if (c->cluster_id == 0) {
		c->cluster_id = mine;
		c->cluster_id_node = id;
	} else if (mine != c->cluster_id) {
		sim_fail(c->world,
		         err_new(ERR_INTERNAL,
		                 "nodes %u and %u know different cluster ids (%016llx, "
		                 "%016llx)",
		                 c->cluster_id_node, id, (unsigned long long)c->cluster_id,
		                 (unsigned long long)mine));
	}
}

void sim_cluster_check_now(struct sim_cluster_check *c, bool hashes)
{
	uint32_t nodes = sim_world_config(c->world)->nodes;
	for (uint32_t id = 1; id <= nodes; id++) {
		struct node *n = sim_node(c->world, id);
		if (!n)
			continue;
		struct node_status st;
		node_status_get(n, &st);
		check__leader(c, id, &st);
		check__committed(c, id, n, &st);
		check__cluster_id(c, id, n, &st);
		if (hashes)
			check__hash(c, id);
	}
}

static void check__step(struct sim_world *world, void *ctx)
{
	struct sim_cluster_check *c = ctx;
	if (sim_world_failure(world))
		return;
	uint64_t now = sim_now_ms(world);
	bool hashes = now - c->last_hash_ms >= c->hash_period_ms;
	if (hashes)
		c->last_hash_ms = now;
	sim_cluster_check_now(c, hashes);
	err *e = sim_schedule(world, now + c->period_ms, check__step, c);
	if (e)
		sim_fail(world, e);
}

err *sim_cluster_check_start(struct sim_cluster_check *c, uint32_t period_ms,
                             uint32_t hash_period_ms)
{
	assert(period_ms > 0);
	c->period_ms = period_ms;
	c->hash_period_ms = hash_period_ms;
	c->last_hash_ms = sim_now_ms(c->world);
	return sim_schedule(c->world, sim_now_ms(c->world) + period_ms, check__step, c);
}

bool sim_cluster_converged(struct sim_cluster_check *c)
{
	uint32_t nodes = sim_world_config(c->world)->nodes;
	uint64_t applied0 = 0;
	for (uint32_t id = 1; id <= nodes; id++) {
		struct node *n = sim_node(c->world, id);
		if (!n)
			return false;
		struct node_status st;
		node_status_get(n, &st);
		if (id == 1)
			applied0 = st.applied;
		if (st.applied != applied0 || st.applied < st.raft.commit)
			return false;
	}
	return true;
}

void sim_cluster_check_counts(const struct sim_cluster_check *c, uint64_t *terms, uint64_t *entries,
                              uint64_t *hashes)
{
	*terms = c->leaders_seen;
	*entries = c->entries_seen;
	*hashes = c->hashes_compared;
}
