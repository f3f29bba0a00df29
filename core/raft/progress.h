/*
 * progress.h — what a leader knows about each follower's log (§5.3 nextIndex/matchIndex),
 * and the flow control that decides when it may send more.
 *
 * A follower is in one of two states, as in etcd-io/raft:
 *   - probe: the leader does not know where the logs agree. It sends one append at a time
 *     (pausing until an answer or the next heartbeat) and moves `next` back on each
 *     rejection, jumping by the follower's conflict hint (fast backtracking).
 *   - replicate: the logs agree up to `match`. The leader streams appends optimistically
 *     (pipelining), advancing `next` as it sends, bounded by max_inflight_msgs messages
 *     and max_inflight_bytes payload bytes not yet acknowledged.
 * Invariant: match < next, in every state.
 */
#ifndef CAIRN_RAFT_PROGRESS_H
#define CAIRN_RAFT_PROGRESS_H

#include "raft/raft.h"

/* The hard cap on max_inflight_msgs. */
#define RAFT_MAX_INFLIGHT 256

enum raft__progress_state {
	RAFT__PROBE,
	RAFT__REPLICATE,
};

struct raft__progress {
	uint32_t id;
	uint64_t match;
	uint64_t next;
	uint8_t state;       /* enum raft__progress_state */
	bool probe_sent;     /* probe: an append is outstanding, wait */
	bool active;         /* heard from since the last CheckQuorum round (§6.2) */
	uint64_t heard_tick; /* the leader's tick count when it last heard from it */
	uint64_t read_ack;   /* highest ReadIndex round acknowledged this term (§6.4) */
	/*
	 * Commit announcements (replication.h): `told` is the commit index the last append
	 * let the follower learn; it waits to learn one in [want_lo, want_hi] (0: nothing).
	 */
	uint64_t told;
	uint64_t want_lo;
	uint64_t want_hi;
	/* In-flight appends (replicate state): last index and bytes of each, oldest first. */
	uint64_t inflight_last[RAFT_MAX_INFLIGHT];
	size_t inflight_bytes[RAFT_MAX_INFLIGHT];
	uint32_t inflight_head;
	uint32_t inflight_count;
	size_t inflight_total;
};

/* Starts tracking a follower whose log the leader knows nothing about (probe at `next`). */
void raft__progress_reset(struct raft__progress *pr, uint32_t id, uint64_t next);

/* True if flow control forbids sending another append now. */
bool raft__progress_paused(const struct raft__progress *pr, uint32_t max_msgs, size_t max_bytes);

/* Records an append that carried entries up to `last` (`bytes` of payload) or a probe. */
void raft__progress_sent(struct raft__progress *pr, uint64_t last, size_t bytes);

/*
 * A success response says the follower's log matches through `index`. Returns true if
 * that is news (match advanced). Unless it is older than what we know, it moves probe to
 * replicate (streaming from match + 1) and frees the in-flight slots it acknowledges.
 */
bool raft__progress_ack(struct raft__progress *pr, uint64_t index);

/*
 * A rejection of the append whose previous index was `rejected`, with the next index the
 * conflict hint suggests. Returns false for a stale rejection (ignored); otherwise moves
 * back to probe at the new `next` (clamped to (match, rejected]). A rejection at or below
 * `match` whose hint is too (the follower's log is shorter than what it acknowledged:
 * its disk lost entries) resets match to 0 and probes from the hint.
 */
bool raft__progress_reject(struct raft__progress *pr, uint64_t rejected, uint64_t hint_next);

/*
 * A heartbeat answer arrived. Appends may have been lost, and a full window would then
 * stall replication for good: free the oldest in-flight slot (and allow a new probe), so
 * one more append goes out; if its predecessor was lost, the follower's rejection moves
 * the follower back to probe.
 */
void raft__progress_heartbeat_ack(struct raft__progress *pr);

const char *raft__progress_state_name(uint8_t state);

#endif
