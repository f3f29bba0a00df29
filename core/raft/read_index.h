/*
 * read_index.h — linearizable reads without writing to the log (dissertation §6.4).
 *
 * The leader serves a read request like this:
 *   1. It must have committed an entry in its current term (its no-op), so its commit
 *      index is at least that of any earlier leader; requests wait until then.
 *   2. It records read index = its commit index and a new round number `seq`, and
 *      broadcasts a heartbeat carrying seq (ctx). Rounds start when the next ready batch
 *      is collected, one for every request that arrived since the last one (from this
 *      node and from every follower), not one per request.
 *   3. Once a quorum (itself included) has acknowledged round seq or later in this term,
 *      no other leader can have existed when the request arrived: the read index is safe.
 *      A request of the leader's own is handed out (raft_read); a follower's is answered
 *      with READ_INDEX_RESP.
 * The node then serves the read once its applied index reaches the read index. A follower
 * forwards its request to the leader (READ_INDEX) and hands out the index it gets back;
 * reads on a follower are as linearizable as on the leader.
 *
 * A leader cut off in a minority never gets a quorum of acknowledgements, so it cannot
 * serve a read; its requests fail when it steps down (CheckQuorum) or time out.
 *
 * With a lease (raft_config.lease_ms, raft.h "Reads under a lease"), every round — the
 * periodic heartbeats included — is timed; when a quorum has acknowledged a round sent at
 * T, the lease runs to T + lease_ms, and while it runs a request that arrives is answered
 * at once with the commit index (step 1 still applies).
 */
#ifndef CAIRN_RAFT_READ_INDEX_H
#define CAIRN_RAFT_READ_INDEX_H

#include "raft/raft.h"

/* Rounds whose send time is remembered for the lease. */
#define RAFT__ROUNDS_TIMED 64

struct raft__read_req {
	uint64_t id;
	uint32_t origin; /* the node that asked */
	uint64_t seq;    /* 0 until the read index is fixed */
	uint64_t index;
};

struct raft__reads {
	struct raft__read_req *queue; /* FIFO ring; seq never decreases along it */
	uint32_t cap;
	uint32_t head;
	uint32_t count;
	uint64_t seq;   /* the last round started in this term */
	bool round_due; /* requests wait for a round, started by the next ready batch */
	/* When the latest rounds were sent: sent[s % RAFT__ROUNDS_TIMED] = {s, ms} (leases). */
	struct {
		uint64_t seq;
		uint64_t ms;
	} sent[RAFT__ROUNDS_TIMED];
	uint64_t lease_until_ms; /* leader: reads need no round before this time */
};

struct raft;
struct raft_message;

err *raft__reads_init(struct raft__reads *q, uint32_t cap);
void raft__reads_free(struct raft__reads *q);
/* Forgets every queued request (on leaving leadership or a new term). */
void raft__reads_reset(struct raft__reads *q);

/*
 * Leader: queues read `id` asked by `origin`. Must be called in leader state. Returns
 * false if the queue is full (the caller fails or rejects the request).
 */
bool raft__read_request(struct raft *r, uint64_t id, uint32_t origin);

/* Leader: once an entry of this term is committed, waiting requests are due a round. */
void raft__read_on_commit(struct raft *r);

/* Starts the round that is due, if any (raft_ready_get, before handing out messages). */
void raft__read_start_due(struct raft *r);

/*
 * Leader: opens a timed round (for the lease) that the next heartbeat broadcast carries,
 * fixing the read index of every waiting request; the caller broadcasts it.
 */
void raft__read_heartbeat_round(struct raft *r);

/* Leader: a follower acknowledged round `ctx`; releases requests that reached a quorum. */
void raft__read_on_ack(struct raft *r, uint32_t from, uint64_t ctx);

/* Any role: a READ_INDEX request from a follower. */
void raft__read_on_request(struct raft *r, const struct raft_message *m);

/* Follower: the leader's answer to a forwarded request. */
void raft__read_on_response(struct raft *r, const struct raft_message *m);

#endif
