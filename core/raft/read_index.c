#include "raft/read_index.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/mutation.h"
#include "raft/internal.h"
#include "raft/replication.h"

err *raft__reads_init(struct raft__reads *q, uint32_t cap)
{
	assert(cap > 0);
	q->queue = calloc(cap, sizeof *q->queue);
	if (!q->queue)
		return err_new(ERR_NOMEM, "raft read queue");
	q->cap = cap;
	raft__reads_reset(q);
	return NULL;
}

void raft__reads_free(struct raft__reads *q)
{
	free(q->queue);
	q->queue = NULL;
	q->cap = 0;
}

void raft__reads_reset(struct raft__reads *q)
{
	q->head = 0;
	q->count = 0;
	q->seq = 0;
	q->round_due = false;
	memset(q->sent, 0, sizeof q->sent);
	q->lease_until_ms = 0;
}

static struct raft__read_req *raft__read_at(struct raft__reads *q, uint32_t i)
{
	assert(i < q->count);
	return &q->queue[(q->head + i) % q->cap];
}

static bool raft__committed_in_term(const struct raft *r)
{
	return raft__log_term(&r->log, r->commit) == r->term;
}

/*
 * Opens round seq + 1, timed now: every waiting request gets it and the commit index as
 * its read index, once the leader has committed an entry of its term (step 1).
 */
static void raft__read_open_round(struct raft *r)
{
	assert(r->role == RAFT_LEADER);
	struct raft__reads *q = &r->reads;
	q->seq++;
	q->sent[q->seq % RAFT__ROUNDS_TIMED].seq = q->seq;
	q->sent[q->seq % RAFT__ROUNDS_TIMED].ms = r->now_ms;
	if (!raft__committed_in_term(r))
		return;
	q->round_due = false;
	for (uint32_t i = 0; i < q->count; i++) {
		struct raft__read_req *req = raft__read_at(q, i);
		if (req->seq == 0) {
			req->seq = q->seq;
			req->index = r->commit;
		}
	}
}

/* Starts a round for the waiting requests, if any wait. */
static void raft__read_start_round(struct raft *r)
{
	assert(r->role == RAFT_LEADER);
	assert(raft__committed_in_term(r));
	struct raft__reads *q = &r->reads;
	bool waiting = false;
	for (uint32_t i = 0; i < q->count && !waiting; i++)
		waiting = raft__read_at(q, i)->seq == 0;
	if (!waiting)
		return;
	raft__read_heartbeat_round(r);
	raft__broadcast_heartbeat(r);
}

void raft__read_heartbeat_round(struct raft *r)
{
	raft__read_open_round(r);
	if (r->quorum == 1) /* no one else to ask */
		raft__read_on_ack(r, r->cfg.id, r->reads.seq);
}

/* Hands read point `index` to the node that asked: this one, or a follower. */
static void raft__read_answer(struct raft *r, uint64_t id, uint32_t origin, uint64_t index)
{
	if (origin == r->cfg.id) {
		raft__pending_read_ready(r, id, index);
		return;
	}
	struct raft_message m = {
	    .type = RAFT_MSG_READ_INDEX_RESP, .to = origin, .ctx = id, .index = index};
	raft__send(r, &m);
	raft__want_commit(r, origin, index); /* it serves the read once it applied that far */
	r->replicate_due = true;
}

/* Whether the leader holds a lease now: a read needs no round. */
static bool raft__read_leased(const struct raft *r)
{
	return r->cfg.lease_ms > 0 && r->now_ms < r->reads.lease_until_ms &&
	       raft__committed_in_term(r);
}

bool raft__read_request(struct raft *r, uint64_t id, uint32_t origin)
{
	assert(r->role == RAFT_LEADER);
	struct raft__reads *q = &r->reads;
	assert(q->count <= q->cap);
	if (raft__read_leased(r) && q->count == 0) { /* a queue must drain in order first */
		raft__read_answer(r, id, origin, r->commit);
		return true;
	}
	if (q->count == q->cap)
		return false;
	q->queue[(q->head + q->count) % q->cap] = (struct raft__read_req){id, origin, 0, 0};
	q->count++;
	if (raft__committed_in_term(r))
		q->round_due = true;
	return true;
}

void raft__read_on_commit(struct raft *r)
{
	if (r->role == RAFT_LEADER && r->reads.count > 0 && raft__committed_in_term(r))
		r->reads.round_due = true;
}

void raft__read_start_due(struct raft *r)
{
	if (!r->reads.round_due)
		return;
	r->reads.round_due = false;
	if (r->role == RAFT_LEADER && raft__committed_in_term(r))
		raft__read_start_round(r);
}

/* How many voters, this leader included, acknowledged round `seq`. */
static uint32_t raft__read_acks(const struct raft *r, uint64_t seq);

/* The newest round a quorum acknowledged renews the lease from the time it was sent. */
static void raft__read_renew_lease(struct raft *r)
{
	struct raft__reads *q = &r->reads;
	uint64_t acked[RAFT_MAX_NODES];
	uint32_t n = r->cfg.n_peers;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t a = r->cfg.peers[i] == r->cfg.id ? q->seq : r->progress[i].read_ack;
		uint32_t j = i; /* insertion sort, descending: n <= RAFT_MAX_NODES */
		for (; j > 0 && acked[j - 1] < a; j--)
			acked[j] = acked[j - 1];
		acked[j] = a;
	}
	uint64_t seq = acked[r->quorum - 1];
	if (seq == 0 || q->sent[seq % RAFT__ROUNDS_TIMED].seq != seq)
		return; /* none yet, or too old to be timed */
	uint64_t lease_ms = r->cfg.lease_ms * (mutation_on(MUTATION_RAFT_LONG_LEASE) ? 8 : 1);
	uint64_t until = q->sent[seq % RAFT__ROUNDS_TIMED].ms + lease_ms;
	if (until > q->lease_until_ms)
		q->lease_until_ms = until;
}

static uint32_t raft__read_acks(const struct raft *r, uint64_t seq)
{
	uint32_t acks = 0;
	for (uint32_t i = 0; i < r->cfg.n_peers; i++)
		if (r->cfg.peers[i] == r->cfg.id || r->progress[i].read_ack >= seq)
			acks++;
	return acks;
}

void raft__read_on_ack(struct raft *r, uint32_t from, uint64_t ctx)
{
	assert(r->role == RAFT_LEADER);
	int slot = raft__peer_slot(r, from);
	assert(slot >= 0);
	if (ctx > r->reads.seq)
		return; /* not a round of this term */
	if (ctx > r->progress[slot].read_ack)
		r->progress[slot].read_ack = ctx;
	if (r->cfg.lease_ms > 0)
		raft__read_renew_lease(r);
	struct raft__reads *q = &r->reads;
	while (q->count > 0) {
		struct raft__read_req req = *raft__read_at(q, 0);
		if (req.seq == 0 || raft__read_acks(r, req.seq) < r->quorum)
			break;
		q->head = (q->head + 1) % q->cap;
		q->count--;
		raft__read_answer(r, req.id, req.origin, req.index);
	}
}

void raft__read_on_request(struct raft *r, const struct raft_message *m)
{
	assert(m->type == RAFT_MSG_READ_INDEX);
	if (r->role == RAFT_LEADER && raft__read_request(r, m->ctx, m->from))
		return;
	struct raft_message resp = {
	    .type = RAFT_MSG_READ_INDEX_RESP, .to = m->from, .ctx = m->ctx, .reject = true};
	raft__send(r, &resp);
}

void raft__read_on_response(struct raft *r, const struct raft_message *m)
{
	assert(m->type == RAFT_MSG_READ_INDEX_RESP);
	if (m->from != r->leader)
		return; /* only the leader we asked may answer; anything else is stale */
	if (m->reject)
		raft__pending_fail(r, RAFT__PENDING_READ, m->ctx, RAFT_FAIL_READ);
	else
		raft__pending_read_ready(r, m->ctx, m->index);
}
