/*
 * replication.h — log replication, heartbeats, commitment and CheckQuorum.
 *
 * Rules implemented (Ongaro & Ousterhout 2014 unless noted):
 *   - §5.3: AppendEntries carries the (index, term) of the entry preceding the new ones;
 *     a follower accepts only if its log holds that entry (the Log Matching Property),
 *     deletes a conflicting suffix and appends what it lacks. A rejection carries a hint
 *     (the conflicting term and the first index the follower holds for it, or its log
 *     length) so the leader skips a whole term per round trip (end of §5.3).
 *   - §5.3 / progress.h: pipelining and batching within flow-control bounds.
 *   - §5.4.2 and Figure 8 (§3.6 of the dissertation): the leader advances its commit
 *     index to the highest index stored on a quorum *only if that entry has the current
 *     term*; earlier entries commit indirectly.
 *   - §5.2: heartbeats (empty appends' cheap cousin) every heartbeat_ticks keep followers
 *     from campaigning and carry the commit index and the ReadIndex round (§6.4).
 *   - §6.2 (dissertation), CheckQuorum: a leader that has not heard from a quorum within
 *     an election timeout steps down, so a partitioned leader stops claiming leadership
 *     (and the lease its followers grant is sound).
 *   - Lazy followers (raft.h): appends to the followers beyond the quorum - 1 furthest
 *     along carry RAFT_APPEND_LAZY; such a follower defers its write and acknowledgement
 *     until the end of the deferral (raft__end_deferral), one acknowledgement for all.
 *     A lazy follower is sent entries and commit indexes only when it waits for one of
 *     its own proposals or read points to commit, or once a tick (raft__broadcast_append).
 */
#ifndef CAIRN_RAFT_REPLICATION_H
#define CAIRN_RAFT_REPLICATION_H

#include "raft/internal.h"

/*
 * Leader: appends one entry of the current term to the local log and replicates it.
 * Must be called in leader state.
 */
err *raft__leader_append(struct raft *r, uint8_t type, uint32_t origin, uint64_t id,
                         const void *data, size_t len);

/*
 * Leader: sends the follower in slot `slot` what flow control allows. With allow_empty an
 * append is sent even with no entries (to probe, or to carry a new commit index).
 */
err *raft__replicate_to(struct raft *r, int slot, bool allow_empty);

/*
 * Leader: replicate_to() every follower. A lazy follower (raft__append_lazy) gets entries
 * and commit indexes only when it waits for a commit (raft__want_commit), at the first
 * broadcast after a tick, or once RAFT__LAZY_HOLD_MAX_ENTRIES wait for it: it is not
 * part of the commit quorum, and the rest of the time the messages would only wake it.
 * The others get everything at once: the eager followers' answers to commit-only
 * appends also show the leader at once when one of their appends was lost.
 */
err *raft__broadcast_append(struct raft *r, bool allow_empty);

/*
 * Leader: follower `id` waits to learn that `index` committed — its own proposal's entry,
 * or the read point it was handed — so the next broadcast after `index` commits brings it
 * the commit index (and the entries up to it). Nothing for the leader itself.
 */
void raft__want_commit(struct raft *r, uint32_t id, uint64_t index);

/* Entries held from a lazy follower at most; more go out at once. */
#define RAFT__LAZY_HOLD_MAX_ENTRIES 1024

/* Entries a pacing leader holds at most (raft.h, "Pacing"); more are written and sent. */
#define RAFT__PACE_MAX_ENTRIES 64

/* Leader: a heartbeat to every follower, carrying the current ReadIndex round. */
void raft__broadcast_heartbeat(struct raft *r);

/* Leader: advances the commit index by the Figure 8 rule; returns true if it moved. */
bool raft__maybe_commit(struct raft *r);

/* Leader: heartbeat and CheckQuorum timers. */
err *raft__leader_tick(struct raft *r);

/* A leader counts a follower as answering for lazy appends this many ticks after it last
 * heard from it (a lazy follower answers at least once a tick). */
#define RAFT__LAZY_HEARD_TICKS 2

/* Entries a lazy follower keeps unwritten at most; more end the deferral. */
#define RAFT__DEFER_MAX_ENTRIES 4096

/* Follower: an APPEND of the current leader (§5.3). */
err *raft__on_append(struct raft *r, const struct raft_message *m);

/*
 * Follower: ends a lazy deferral (at a tick, on an append asking for haste, on a change
 * of role or term): the entries go out in the next ready batch, and the acknowledgement
 * owed for them, if its leader is still ours, after them.
 */
void raft__end_deferral(struct raft *r);

/* Follower: a HEARTBEAT of the current leader. */
void raft__on_heartbeat(struct raft *r, const struct raft_message *m);

/* Leader: a follower's answer to an append. */
err *raft__on_append_resp(struct raft *r, const struct raft_message *m);

/* Leader: a follower's answer to a heartbeat. */
err *raft__on_heartbeat_resp(struct raft *r, const struct raft_message *m);

/* Leader: a follower forwarded proposals (appended, or refused as never proposed). */
err *raft__on_propose(struct raft *r, const struct raft_message *m);

#endif
