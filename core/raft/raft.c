/*
 * raft.c — the public face of the state machine: creation, the step dispatcher with the
 * term rules every message obeys (§5.1), ticks, client requests and status. The ready
 * batch is in ready.c.
 */
#include "raft/raft.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "raft/election.h"
#include "raft/internal.h"
#include "raft/replication.h"

/* Encoded messages may hold one oversized entry beyond max_msg_bytes, plus framing. */
#define RAFT__MSG_OVERHEAD ((size_t)64 * 1024)

/* ---- configuration ---- */

void raft_config_default(struct raft_config *c, uint32_t id, const uint32_t *peers,
                         uint32_t n_peers)
{
	assert(n_peers <= RAFT_MAX_NODES);
	memset(c, 0, sizeof *c);
	c->id = id;
	memcpy(c->peers, peers, n_peers * sizeof *peers);
	c->n_peers = n_peers;
	c->election_ticks = 10;
	c->heartbeat_ticks = 2;
	c->max_inflight_msgs = 64;
	c->max_inflight_bytes = (size_t)4 << 20;
	c->max_msg_bytes = (size_t)256 << 10;
	c->max_uncommitted_bytes = (size_t)16 << 20;
	c->max_cache_bytes = (size_t)8 << 20;
	c->max_pending = 256;
	c->lazy_followers = true;
	c->pacing = true;
}

static err *raft__config_check(const struct raft_config *c)
{
	assert(c != NULL);
	if (c->n_peers == 0 || c->n_peers > RAFT_MAX_NODES)
		return err_new(ERR_INVALID, "%u peers (1..%d allowed)", c->n_peers, RAFT_MAX_NODES);
	bool self = false;
	for (uint32_t i = 0; i < c->n_peers; i++) {
		if (c->peers[i] == 0)
			return err_new(ERR_INVALID, "peer id 0");
		for (uint32_t j = 0; j < i; j++)
			if (c->peers[j] == c->peers[i])
				return err_new(ERR_INVALID, "peer %u listed twice", c->peers[i]);
		self |= c->peers[i] == c->id;
	}
	if (!self)
		return err_new(ERR_INVALID, "node %u is not among its peers", c->id);
	if (c->election_ticks < 2 || c->heartbeat_ticks == 0 ||
	    c->heartbeat_ticks >= c->election_ticks)
		return err_new(ERR_INVALID, "need 0 < heartbeat_ticks < election_ticks");
	if (c->max_inflight_msgs == 0 || c->max_inflight_msgs > RAFT_MAX_INFLIGHT)
		return err_new(ERR_INVALID, "max_inflight_msgs must be in 1..%d",
		               RAFT_MAX_INFLIGHT);
	if (c->max_msg_bytes == 0 || c->max_inflight_bytes == 0 || c->max_pending == 0 ||
	    c->max_msg_bytes > BUF_ABSOLUTE_MAX / 2)
		return err_new(ERR_INVALID, "message, in-flight and pending bounds must be > 0");
	return NULL;
}

static err *raft__initial_check(const struct raft_config *c, const struct raft_initial *in)
{
	assert(c->n_peers <= RAFT_MAX_NODES);
	assert(in->last_index == 0 || in->terms != NULL);
	const struct raft_hard_state *hs = &in->hard_state;
	if (hs->term > RAFT__TERM_MAX) /* the next campaign would wrap it */
		return err_new(ERR_CORRUPT, "hard state term %llu beyond the largest, %llu",
		               (unsigned long long)hs->term, (unsigned long long)RAFT__TERM_MAX);
	if (hs->vote != 0) {
		bool member = false;
		for (uint32_t i = 0; i < c->n_peers; i++)
			member |= c->peers[i] == hs->vote;
		if (!member)
			return err_new(ERR_CORRUPT, "hard state votes for unknown node %u",
			               hs->vote);
	}
	if (hs->commit > in->last_index)
		return err_new(ERR_CORRUPT, "hard state commit %llu beyond the log's end %llu",
		               (unsigned long long)hs->commit, (unsigned long long)in->last_index);
	if (in->last_index > 0 && in->terms[in->last_index - 1] > hs->term)
		return err_new(ERR_CORRUPT, "log holds term %llu beyond the current term %llu",
		               (unsigned long long)in->terms[in->last_index - 1],
		               (unsigned long long)hs->term);
	if (in->applied > hs->commit)
		return err_new(ERR_INVALID, "applied %llu beyond commit %llu",
		               (unsigned long long)in->applied, (unsigned long long)hs->commit);
	return NULL;
}

/* ---- creation ---- */

err *raft_new(const struct raft_config *config, const struct raft_initial *initial,
              struct prng *prng, struct raft_log_source source, struct raft **out)
{
	assert(prng != NULL && source.load != NULL);
	assert(out != NULL);
	TRY(raft__config_check(config));
	TRY(raft__initial_check(config, initial));
	struct raft *r = calloc(1, sizeof *r);
	if (!r)
		return err_new(ERR_NOMEM, "raft");
	r->cfg = *config;
	r->prng = prng;
	r->quorum = config->n_peers / 2 + 1;
	size_t msg_cap = config->max_msg_bytes + RAFT_MAX_ENTRY_BYTES + RAFT__MSG_OVERHEAD;
	err *e = raft__log_init(&r->log, initial, source, config->max_cache_bytes);
	if (!e)
		e = raft__outbox_init(&r->filling, msg_cap, config->max_pending);
	if (!e)
		e = raft__outbox_init(&r->handed, msg_cap, config->max_pending);
	if (!e)
		e = raft__pending_init(&r->pending, config->max_pending);
	if (!e)
		e = raft__reads_init(&r->reads, 4 * config->max_pending);
	if (e) {
		raft_free(r);
		return e;
	}
	r->term = initial->hard_state.term;
	r->vote = initial->hard_state.vote;
	r->commit = initial->hard_state.commit;
	r->persisted_hs = initial->hard_state;
	r->applied = initial->applied;
	raft__become_follower(r, r->term, 0);
	*out = r;
	return NULL;
}

void raft_free(struct raft *r)
{
	if (!r)
		return;
	raft__ready_release(r);
	raft__log_free(&r->log);
	raft__outbox_free(&r->filling);
	raft__outbox_free(&r->handed);
	raft__pending_free(&r->pending);
	raft__reads_free(&r->reads);
	free(r->ready_entries);
	free(r->ready_committed);
	free(r->ready_committed_owned);
	free(r);
}

/* ---- shared helpers ---- */

int raft__peer_slot(const struct raft *r, uint32_t id)
{
	for (uint32_t i = 0; i < r->cfg.n_peers; i++)
		if (r->cfg.peers[i] == id)
			return (int)i;
	return -1;
}

struct raft__progress *raft__self_progress(struct raft *r)
{
	int slot = raft__peer_slot(r, r->cfg.id);
	assert(slot >= 0);
	return &r->progress[slot];
}

void raft__send(struct raft *r, struct raft_message *m)
{
	assert(raft__peer_slot(r, m->to) >= 0);
	m->from = r->cfg.id;
	raft__outbox_message(&r->filling, m);
}

/* ---- inputs ---- */

/* Messages about requests (proposals, reads) carry no term and skip the term rules. */
static bool raft__is_request(uint8_t type)
{
	return type == RAFT_MSG_PROPOSE || type == RAFT_MSG_PROPOSE_RESP ||
	       type == RAFT_MSG_READ_INDEX || type == RAFT_MSG_READ_INDEX_RESP;
}

static err *raft__step_request(struct raft *r, const struct raft_message *m)
{
	assert(raft__is_request(m->type));
	assert(m->from != r->cfg.id);
	switch (m->type) {
	case RAFT_MSG_PROPOSE: return raft__on_propose(r, m);
	case RAFT_MSG_PROPOSE_RESP:
		if (m->reject && m->from == r->leader)
			raft__pending_fail(r, RAFT__PENDING_PROPOSAL, m->ctx,
			                   RAFT_FAIL_NOT_PROPOSED);
		return NULL;
	case RAFT_MSG_READ_INDEX: raft__read_on_request(r, m); return NULL;
	default: raft__read_on_response(r, m); return NULL;
	}
}

/*
 * §5.1: a message of a higher term makes us a follower in it; one of a lower term is
 * stale. Exceptions: PreVote requests and granted PreVote answers carry a future term
 * without changing ours (§9.6); (pre)vote requests are ignored during a leader lease
 * (§6.2). Returns true if the message should be processed further.
 */
static bool raft__step_term(struct raft *r, const struct raft_message *m)
{
	assert(!raft__is_request(m->type));
	assert(m->to == r->cfg.id);
	bool vote_request = m->type == RAFT_MSG_VOTE || m->type == RAFT_MSG_PRE_VOTE;
	bool from_leader = m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_HEARTBEAT;
	if (m->term > r->term) {
		if (vote_request && raft__in_lease(r))
			return false;
		bool keeps_term = m->type == RAFT_MSG_PRE_VOTE ||
		                  (m->type == RAFT_MSG_PRE_VOTE_RESP && !m->reject);
		if (!keeps_term)
			raft__become_follower(r, m->term, from_leader ? m->from : 0);
		return true;
	}
	if (m->term < r->term) {
		/* Tell a stale leader or pre-candidate about our term so it steps down. */
		if (from_leader || m->type == RAFT_MSG_PRE_VOTE) {
			struct raft_message resp = {.type = from_leader ? RAFT_MSG_APPEND_RESP
			                                                : RAFT_MSG_PRE_VOTE_RESP,
			                            .to = m->from,
			                            .term = r->term,
			                            .reject = m->type == RAFT_MSG_PRE_VOTE};
			raft__send(r, &resp);
		}
		return false;
	}
	return true;
}

/* An append or heartbeat of the current term: its sender is the leader (§5.2). */
static err *raft__step_from_leader(struct raft *r, const struct raft_message *m)
{
	assert(m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_HEARTBEAT);
	assert(m->term == r->term);
	if (r->role == RAFT_LEADER)
		return err_new(ERR_INVALID, "node %u claims leadership of our term %llu", m->from,
		               (unsigned long long)r->term);
	if (r->role != RAFT_FOLLOWER)
		raft__become_follower(r, r->term, m->from);
	r->leader = m->from;
	r->election_elapsed = 0;
	if (m->type == RAFT_MSG_APPEND)
		return raft__on_append(r, m);
	raft__on_heartbeat(r, m);
	return NULL;
}

/*
 * Rejects what no correct peer sends: terms and log positions that contradict each other.
 * The steps below assume a peer follows the protocol (a leader's previous entry, entry
 * terms and term agree); a message that does not is malformed, whatever its checksum.
 */
static err *raft__check_terms(const struct raft_message *m)
{
	/*
	 * No cluster counts that far (a term a second for 2^63 seconds); a peer that claims
	 * to would have every node adopt it, and the next campaign's term + 1 would wrap.
	 */
	if (m->term > RAFT__TERM_MAX)
		return err_new(ERR_INVALID, "%s of term %llu, beyond any real term",
		               raft_message_type_name(m->type), (unsigned long long)m->term);
	bool from_leader = m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_HEARTBEAT;
	bool vote_request = m->type == RAFT_MSG_VOTE || m->type == RAFT_MSG_PRE_VOTE;
	if (!from_leader && !vote_request) {
		if (m->hint_term > m->term)
			return err_new(ERR_INVALID, "hint of term %llu in term %llu",
			               (unsigned long long)m->hint_term,
			               (unsigned long long)m->term);
		return NULL;
	}
	/*
	 * A leader's or candidate's term is at least 1 and no entry of its log is newer; an
	 * entry's term is at least 1, and only the empty log's index 0 has term 0.
	 */
	bool names_entry = m->type != RAFT_MSG_HEARTBEAT;
	if (m->term == 0 || m->log_term > m->term ||
	    (names_entry && (m->index == 0) != (m->log_term == 0)))
		return err_new(ERR_INVALID, "%s of term %llu names entry %llu of term %llu",
		               raft_message_type_name(m->type), (unsigned long long)m->term,
		               (unsigned long long)m->index, (unsigned long long)m->log_term);
	uint64_t floor = m->log_term > 0 ? m->log_term : 1;
	for (size_t i = 0; i < m->n_entries; i++) {
		const struct raft_entry *e = &m->entries[i];
		if (e->term < floor || e->term > m->term)
			return err_new(ERR_INVALID,
			               "append of term %llu carries entry %llu of term %llu",
			               (unsigned long long)m->term, (unsigned long long)e->index,
			               (unsigned long long)e->term);
		floor = e->term;
	}
	return NULL;
}

static err *raft__step(struct raft *r, const struct raft_message *m)
{
	assert(!r->ready_outstanding);
	if (m->to != r->cfg.id || m->from == r->cfg.id || raft__peer_slot(r, m->from) < 0)
		return err_new(ERR_INVALID, "message %u -> %u is not for node %u of this cluster",
		               m->from, m->to, r->cfg.id);
	if (raft__is_request(m->type))
		return raft__step_request(r, m);
	TRY(raft__check_terms(m));
	if (m->term > r->term + RAFT__TERM_JUMP_MAX)
		return err_new(ERR_INVALID,
		               "%s of term %llu, more than %llu terms past this node's %llu: no "
		               "cluster elects that often",
		               raft_message_type_name(m->type), (unsigned long long)m->term,
		               (unsigned long long)RAFT__TERM_JUMP_MAX,
		               (unsigned long long)r->term);
	if (!raft__step_term(r, m))
		return NULL;
	switch (m->type) {
	case RAFT_MSG_APPEND:
	case RAFT_MSG_HEARTBEAT: return raft__step_from_leader(r, m);
	case RAFT_MSG_APPEND_RESP:
		return r->role == RAFT_LEADER ? raft__on_append_resp(r, m) : NULL;
	case RAFT_MSG_HEARTBEAT_RESP:
		return r->role == RAFT_LEADER ? raft__on_heartbeat_resp(r, m) : NULL;
	case RAFT_MSG_VOTE:
	case RAFT_MSG_PRE_VOTE: raft__on_vote_request(r, m); return NULL;
	default: return raft__on_vote_response(r, m);
	}
}

err *raft_receive(struct raft *r, const uint8_t *bytes, size_t len)
{
	assert(!r->ready_outstanding);
	struct raft_message m;
	err *e = raft_message_decode(bytes, len, &m);
	if (!e) {
		e = raft__step(r, &m);
		if (e && err_is(e, ERR_INVALID))
			r->malformed_messages++;
		raft_message_free(&m);
		return e;
	}
	r->malformed_messages++;
	return e;
}

void raft_clock(struct raft *r, uint64_t now_ms)
{
	if (now_ms > r->now_ms)
		r->now_ms = now_ms;
}

err *raft_tick(struct raft *r)
{
	assert(!r->ready_outstanding);
	r->ticks++;
	raft__pending_tick(r);
	if (r->role == RAFT_LEADER)
		return raft__leader_tick(r);
	if (r->deferring)
		raft__end_deferral(r); /* a lazy follower writes at least once a tick */
	return raft__election_tick(r);
}

/* Requests that must reach the leader expire after two election timeouts. */
static uint64_t raft__deadline(const struct raft *r)
{
	return r->ticks + 2 * (uint64_t)r->cfg.election_ticks;
}

err *raft_propose(struct raft *r, uint64_t id, const void *data, size_t len)
{
	assert(!r->ready_outstanding);
	assert(data != NULL || len == 0);
	if (len > RAFT_MAX_ENTRY_BYTES)
		return err_new(ERR_LIMIT, "proposal of %zu bytes is too large", len);
	if (r->role == RAFT_LEADER) {
		if (r->uncommitted_bytes > 0 &&
		    r->uncommitted_bytes + len > r->cfg.max_uncommitted_bytes)
			return err_new(ERR_LIMIT, "%zu bytes uncommitted", r->uncommitted_bytes);
		TRY(raft__pending_add(r, RAFT__PENDING_PROPOSAL, id, 0));
		uint64_t before = r->log.last;
		err *e = raft__leader_append(r, RAFT_ENTRY_NORMAL, r->cfg.id, id, data, len);
		/* Not appended: never proposed. Appended but not sent: it stays pending. */
		if (e && r->log.last == before)
			raft__pending_remove(&r->pending, RAFT__PENDING_PROPOSAL, id);
		return e;
	}
	if (r->role != RAFT_FOLLOWER || r->leader == 0)
		return err_new(ERR_UNAVAILABLE, "no leader known");
	TRY(raft__pending_add(r, RAFT__PENDING_PROPOSAL, id, raft__deadline(r)));
	struct raft_entry e = {
	    .type = RAFT_ENTRY_NORMAL, .origin = r->cfg.id, .id = id, .data = data, .len = len};
	struct raft_message m = {
	    .type = RAFT_MSG_PROPOSE, .to = r->leader, .entries = &e, .n_entries = 1};
	raft__send(r, &m);
	return NULL;
}

err *raft_read_index(struct raft *r, uint64_t id)
{
	assert(!r->ready_outstanding);
	if (r->role != RAFT_LEADER && (r->role != RAFT_FOLLOWER || r->leader == 0))
		return err_new(ERR_UNAVAILABLE, "no leader known");
	TRY(raft__pending_add(r, RAFT__PENDING_READ, id, raft__deadline(r)));
	if (r->role == RAFT_LEADER) {
		if (!raft__read_request(r, id, r->cfg.id)) {
			raft__pending_remove(&r->pending, RAFT__PENDING_READ, id);
			return err_new(ERR_LIMIT, "read queue full");
		}
		return NULL;
	}
	struct raft_message m = {.type = RAFT_MSG_READ_INDEX, .to = r->leader, .ctx = id};
	raft__send(r, &m);
	return NULL;
}

/* ---- status ---- */

const char *raft_role_name(enum raft_role role)
{
	switch (role) {
	case RAFT_FOLLOWER: return "follower";
	case RAFT_PRE_CANDIDATE: return "pre-candidate";
	case RAFT_CANDIDATE: return "candidate";
	default: return "leader";
	}
}

void raft_status_get(const struct raft *r, struct raft_status *out)
{
	memset(out, 0, sizeof *out);
	out->id = r->cfg.id;
	out->role = r->role;
	out->term = r->term;
	out->vote = r->vote;
	out->leader = r->leader;
	out->commit = r->commit;
	out->applied = r->applied;
	out->last_index = r->log.last;
	out->persisted_index = r->log.stable;
	out->malformed_messages = r->malformed_messages;
	out->dropped_messages = r->filling.dropped + r->handed.dropped;
	out->pending_requests = r->pending.count;
	out->uncommitted_bytes = r->uncommitted_bytes;
	out->n_peers = r->cfg.n_peers;
	for (uint32_t i = 0; i < r->cfg.n_peers; i++) {
		const struct raft__progress *pr = &r->progress[i];
		bool self = pr->id == r->cfg.id;
		out->peers[i] = (struct raft_peer_status){
		    .id = r->cfg.peers[i],
		    .match = self ? r->log.stable : pr->match,
		    .next = self ? r->log.last + 1 : pr->next,
		    .state = self ? "self" : raft__progress_state_name(pr->state),
		    .recently_active = self || pr->active,
		};
	}
}

err *raft_term_at(const struct raft *r, uint64_t index, uint64_t *term)
{
	if (index > r->log.last)
		return err_new(ERR_NOT_FOUND, "index %llu beyond the log's end %llu",
		               (unsigned long long)index, (unsigned long long)r->log.last);
	*term = raft__log_term(&r->log, index);
	return NULL;
}
