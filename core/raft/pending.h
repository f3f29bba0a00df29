/*
 * pending.h — this node's outstanding proposals and read requests, so that none is ever
 * dropped silently.
 *
 * Every raft_propose() and raft_read_index() that is accepted gets an entry here, keyed by
 * (kind, caller's id). An entry ends in exactly one way:
 *   - a proposal: its entry commits (the committed entry carries origin = this node and
 *     the id; raft__pending_committed() clears it), or the leader refuses a forwarded one
 *     (RAFT_FAIL_NOT_PROPOSED), or it is failed as RAFT_FAIL_UNKNOWN;
 *   - a read: its read point is known (a raft_read output) or it fails (RAFT_FAIL_READ).
 * raft__pending_fail_all() runs on every role or term change: leadership lost or a new term
 * means the outcome of anything in flight is no longer ours to know (§6.3: clients retry).
 * Forwarded requests and reads also carry a deadline of two election timeouts, since the
 * message carrying them may simply have been lost.
 *
 * Bounded: entries plus results waiting in the outbox never exceed cfg.max_pending.
 */
#ifndef CAIRN_RAFT_PENDING_H
#define CAIRN_RAFT_PENDING_H

#include "raft/raft.h"

enum raft__pending_kind {
	RAFT__PENDING_PROPOSAL = 1,
	RAFT__PENDING_READ = 2,
};

struct raft__pending_entry {
	uint64_t id;
	uint8_t kind;      /* enum raft__pending_kind, 0 for a free slot */
	uint64_t deadline; /* tick after which it fails; 0 for none */
};

/*
 * A request takes the first free slot, so the used slots gather at the front: every scan
 * stops at `end`, one past the last used slot, not at `cap`.
 */
struct raft__pending {
	struct raft__pending_entry *slots;
	uint32_t cap;
	uint32_t count;
	uint32_t end;
};

struct raft;

err *raft__pending_init(struct raft__pending *p, uint32_t cap);
void raft__pending_free(struct raft__pending *p);

/*
 * Records a new request. ERR_EXISTS if (kind, id) is outstanding, ERR_LIMIT if the table
 * (with the results not yet handed out) is full.
 */
err *raft__pending_add(struct raft *r, uint8_t kind, uint64_t id, uint64_t deadline);

/* Removes (kind, id); returns false if it was not outstanding. */
bool raft__pending_remove(struct raft__pending *p, uint8_t kind, uint64_t id);

/* A proposal of ours committed: it needs no failure report. */
void raft__pending_committed(struct raft *r, uint64_t id);

/* A read of ours has its read point: hands it out if still outstanding. */
void raft__pending_read_ready(struct raft *r, uint64_t id, uint64_t index);

/* Fails (kind, id) with `failure` if it is still outstanding. */
void raft__pending_fail(struct raft *r, uint8_t kind, uint64_t id, uint8_t failure);

/* Fails everything outstanding: proposals as RAFT_FAIL_UNKNOWN, reads as RAFT_FAIL_READ. */
void raft__pending_fail_all(struct raft *r);

/* Fails the entries whose deadline has passed (called every tick). */
void raft__pending_tick(struct raft *r);

#endif
