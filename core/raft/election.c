#include "raft/election.h"

#include <assert.h>

#include "raft/replication.h"

void raft__election_reset(struct raft *r)
{
	assert(r->cfg.election_ticks >= 1);
	r->election_elapsed = 0;
	r->randomized_timeout =
	    r->cfg.election_ticks + (uint32_t)prng_below(r->prng, r->cfg.election_ticks);
	assert(r->randomized_timeout < 2 * r->cfg.election_ticks);
}

bool raft__in_lease(const struct raft *r)
{
	/* With read leases, a node just started may have heard from a leader before it stopped */
	bool booting = r->cfg.lease_ms > 0 && r->ticks < r->cfg.election_ticks;
	return (r->leader != 0 || booting) && r->election_elapsed < r->cfg.election_ticks;
}

/* What every role change does: a clean slate for timers, votes and requests in flight. */
static void raft__reset(struct raft *r, uint64_t term)
{
	assert(term >= r->term);
	if (term != r->term)
		r->ack_owed = 0; /* owed to a leader of a past term */
	raft__end_deferral(r);
	if (term != r->term) {
		r->term = term;
		r->vote = 0;
	}
	r->leader = 0;
	for (uint32_t i = 0; i < r->cfg.n_peers; i++) {
		r->votes[i] = 0;
		raft__progress_reset(&r->progress[i], r->cfg.peers[i], r->log.last + 1);
		r->progress[i].heard_tick = r->ticks; /* presumed alive until it falls silent */
	}
	raft__election_reset(r);
	r->heartbeat_elapsed = 0;
	r->uncommitted_bytes = 0;
	raft__reads_reset(&r->reads);
	raft__pending_fail_all(r);
}

void raft__become_follower(struct raft *r, uint64_t term, uint32_t leader)
{
	assert(leader == 0 || raft__peer_slot(r, leader) >= 0);
	raft__reset(r, term);
	r->role = RAFT_FOLLOWER;
	r->leader = leader;
}

err *raft__become_leader(struct raft *r)
{
	assert(r->role == RAFT_CANDIDATE);
	assert(r->vote == r->cfg.id);
	raft__reset(r, r->term);
	r->role = RAFT_LEADER;
	r->leader = r->cfg.id;
	struct raft__progress *self = raft__self_progress(r);
	self->match = r->log.stable;
	self->next = r->log.last + 1;
	self->state = RAFT__REPLICATE;
	if (r->log.last > 0)
		return raft__leader_append(r, RAFT_ENTRY_NOOP, 0, 0, NULL, 0);
	uint64_t cluster = 0;
	while (cluster == 0)
		cluster = prng_next(r->prng);
	uint8_t id[RAFT_CLUSTER_ID_BYTES];
	store_u64be(id, cluster);
	return raft__leader_append(r, RAFT_ENTRY_NOOP, 0, 0, id, sizeof id);
}

uint64_t raft_cluster_id_of(const struct raft_entry *first)
{
	assert(first->index == 1);
	bool has_id = first->type == RAFT_ENTRY_NOOP && first->len == RAFT_CLUSTER_ID_BYTES;
	return has_id ? load_u64be(first->data) : 0;
}

/* Counts votes: granted and rejected. */
static void raft__tally(const struct raft *r, uint32_t *granted, uint32_t *rejected)
{
	*granted = *rejected = 0;
	for (uint32_t i = 0; i < r->cfg.n_peers; i++) {
		*granted += r->votes[i] == 1;
		*rejected += r->votes[i] == 2;
	}
	assert(*granted + *rejected <= r->cfg.n_peers);
}

/* Acts on the votes counted so far: win, lose, or keep waiting. */
static err *raft__election_decide(struct raft *r)
{
	uint32_t granted, rejected;
	raft__tally(r, &granted, &rejected);
	if (granted >= r->quorum)
		return r->role == RAFT_PRE_CANDIDATE ? raft__campaign(r, false)
		                                     : raft__become_leader(r);
	if (rejected >= r->quorum)
		raft__become_follower(r, r->term, 0);
	return NULL;
}

err *raft__campaign(struct raft *r, bool pre)
{
	assert(r->role != RAFT_LEADER);
	assert(pre || r->role == RAFT_PRE_CANDIDATE);
	uint64_t term;
	if (pre) {
		raft__reset(r, r->term);
		r->role = RAFT_PRE_CANDIDATE;
		term = r->term + 1; /* the term we would campaign in; nothing changes yet */
	} else {
		raft__reset(r, r->term + 1);
		r->role = RAFT_CANDIDATE;
		r->vote = r->cfg.id;
		term = r->term;
	}
	r->votes[raft__peer_slot(r, r->cfg.id)] = 1;
	for (uint32_t i = 0; i < r->cfg.n_peers; i++) {
		if (r->cfg.peers[i] == r->cfg.id)
			continue;
		struct raft_message m = {.type = pre ? RAFT_MSG_PRE_VOTE : RAFT_MSG_VOTE,
		                         .to = r->cfg.peers[i],
		                         .term = term,
		                         .index = r->log.last,
		                         .log_term = raft__log_last_term(&r->log)};
		raft__send(r, &m);
	}
	return raft__election_decide(r);
}

err *raft__election_tick(struct raft *r)
{
	assert(r->role != RAFT_LEADER);
	r->election_elapsed++;
	if (r->election_elapsed < r->randomized_timeout)
		return NULL;
	return raft__campaign(r, true);
}

void raft__on_vote_request(struct raft *r, const struct raft_message *m)
{
	assert(m->type == RAFT_MSG_VOTE || m->type == RAFT_MSG_PRE_VOTE);
	assert(m->term >= r->term);
	bool pre = m->type == RAFT_MSG_PRE_VOTE;
	bool can_vote =
	    r->vote == m->from || (r->vote == 0 && r->leader == 0) || (pre && m->term > r->term);
	struct raft_message resp = {.type = pre ? RAFT_MSG_PRE_VOTE_RESP : RAFT_MSG_VOTE_RESP,
	                            .to = m->from};
	if (can_vote && raft__log_up_to_date(&r->log, m->index, m->log_term)) {
		resp.term = m->term;
		if (!pre) {
			r->vote = m->from;
			raft__election_reset(r);
		}
	} else {
		resp.term = r->term;
		resp.reject = true;
	}
	raft__send(r, &resp);
}

err *raft__on_vote_response(struct raft *r, const struct raft_message *m)
{
	assert(m->type == RAFT_MSG_VOTE_RESP || m->type == RAFT_MSG_PRE_VOTE_RESP);
	bool pre = m->type == RAFT_MSG_PRE_VOTE_RESP;
	if (pre ? r->role != RAFT_PRE_CANDIDATE : r->role != RAFT_CANDIDATE)
		return NULL; /* not campaigning for this any more */
	uint64_t expected = pre && !m->reject ? r->term + 1 : r->term;
	if (m->term != expected)
		return NULL;
	int slot = raft__peer_slot(r, m->from);
	assert(slot >= 0);
	if (r->votes[slot] == 0)
		r->votes[slot] = m->reject ? 2 : 1;
	return raft__election_decide(r);
}
