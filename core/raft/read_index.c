#include "raft/read_index.h"

#include <assert.h>
#include <stdlib.h>

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

/* Fixes the read index of every waiting request to the commit index, in one new round. */
static void raft__read_start_round(struct raft *r)
{
	assert(r->role == RAFT_LEADER);
	assert(raft__committed_in_term(r));
	struct raft__reads *q = &r->reads;
	bool started = false;
	for (uint32_t i = 0; i < q->count; i++) {
		struct raft__read_req *req = raft__read_at(q, i);
		if (req->seq != 0)
			continue;
		if (!started)
			q->seq++;
		started = true;
		req->seq = q->seq;
		req->index = r->commit;
	}
	if (!started)
		return;
	if (r->quorum == 1)
		raft__read_on_ack(r, r->cfg.id, q->seq);
	else
		raft__broadcast_heartbeat(r);
}

bool raft__read_request(struct raft *r, uint64_t id, uint32_t origin)
{
	assert(r->role == RAFT_LEADER);
	struct raft__reads *q = &r->reads;
	assert(q->count <= q->cap);
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
	struct raft__reads *q = &r->reads;
	while (q->count > 0) {
		struct raft__read_req req = *raft__read_at(q, 0);
		if (req.seq == 0 || raft__read_acks(r, req.seq) < r->quorum)
			break;
		q->head = (q->head + 1) % q->cap;
		q->count--;
		if (req.origin == r->cfg.id) {
			raft__pending_read_ready(r, req.id, req.index);
		} else {
			struct raft_message m = {.type = RAFT_MSG_READ_INDEX_RESP,
			                         .to = req.origin,
			                         .ctx = req.id,
			                         .index = req.index};
			raft__send(r, &m);
		}
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
