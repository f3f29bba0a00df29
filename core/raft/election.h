/*
 * election.h — leader election: randomized timeouts, PreVote, votes and role changes.
 *
 * Rules implemented (Ongaro & Ousterhout 2014 unless noted):
 *   - §5.2: a follower that hears nothing for its election timeout starts an election;
 *     timeouts are drawn at random from [election_ticks, 2 * election_ticks) so split
 *     votes resolve.
 *   - §9.6 (dissertation), PreVote: before incrementing its term a node asks whether it
 *     could win (sending term + 1, without changing state). Only a quorum of yes starts a
 *     real election, so a node rejoining from a partition does not force a new term on a
 *     healthy cluster.
 *   - §4.2.3 / §6.2 (dissertation): a node that heard from a leader within the minimum
 *     election timeout (with read leases, also a node in its first election timeout after
 *     starting) ignores (pre)vote requests of higher terms: the leader lease that
 *     CheckQuorum makes safe.
 *   - §5.2, §5.4.1: one vote per term, granted only to a candidate whose log is at least
 *     as up-to-date (the Election Restriction).
 *   - §5.4.2: a new leader appends a no-op entry of its term, the first entry it can
 *     commit by counting replicas; the read index waits for it (§6.4).
 */
#ifndef CAIRN_RAFT_ELECTION_H
#define CAIRN_RAFT_ELECTION_H

#include "raft/internal.h"

/* Restarts the election timer with a fresh random timeout (§5.2). */
void raft__election_reset(struct raft *r);

/* True while a leader is known and was heard from within election_ticks (§6.2 lease). */
bool raft__in_lease(const struct raft *r);

/*
 * Any state -> follower of `leader` (0 if unknown) in `term` >= the current term. A new
 * term clears the vote. Fails everything pending (see pending.h).
 */
void raft__become_follower(struct raft *r, uint64_t term, uint32_t leader);

/* Candidate -> leader (§5.2); appends the no-op (§5.4.2). Must be called as candidate. */
err *raft__become_leader(struct raft *r);

/*
 * Starts a pre-election (pre = true, §9.6) or an election (§5.2). Must be called in
 * follower, pre-candidate or (for pre = false) pre-candidate state.
 */
err *raft__campaign(struct raft *r, bool pre);

/* Follower and candidate ticks: campaign when the randomized timeout expires. */
err *raft__election_tick(struct raft *r);

/* A VOTE or PRE_VOTE request whose term is not below ours (§5.2, §5.4.1, §9.6). */
void raft__on_vote_request(struct raft *r, const struct raft_message *m);

/* A VOTE_RESP or PRE_VOTE_RESP; counts it if we are campaigning for it. */
err *raft__on_vote_response(struct raft *r, const struct raft_message *m);

#endif
