/*
 * internal.h — the state of a `struct raft`, shared by the modules that implement it.
 *
 * Module map (each a .h/.c pair with its contract):
 *   log          terms of all entries, bounded payload cache          §5.3
 *   progress     per-follower match/next and flow control             §5.3
 *   election     timeouts, PreVote, votes, role changes               §5.2, §5.4.1, §9.6
 *   replication  appends, heartbeats, commitment, CheckQuorum         §5.3, §5.4.2, §6.2
 *   read_index   linearizable reads on leader and followers           §6.4
 *   pending      outstanding proposals/reads, forwarding, failures    §6.2, §6.3
 *   outbox       the outputs of the ready batch under construction
 *   ready.c      handing out and releasing the ready batch
 *   raft.c       creation, the step dispatcher (term rules §5.1), ticks, status
 */
#ifndef CAIRN_RAFT_INTERNAL_H
#define CAIRN_RAFT_INTERNAL_H

#include "raft/log.h"
#include "raft/message.h"
#include "raft/outbox.h"
#include "raft/pending.h"
#include "raft/progress.h"
#include "raft/raft.h"
#include "raft/read_index.h"

/* The largest term a message may carry (raft__check_terms): a campaign's term + 1 never wraps. */
#define RAFT__TERM_MAX (UINT64_MAX >> 1)
/*
 * A message's term at most this far past the node's own: 2^32 elections lie beyond any
 * partition a node comes back from (one every 50 ms would take 6.8 years), so a larger
 * jump is a forged or damaged message, and refusing it keeps one message from taking a
 * cluster to RAFT__TERM_MAX, where no node could campaign again.
 */
#define RAFT__TERM_JUMP_MAX ((uint64_t)1 << 32)

struct raft {
	struct raft_config cfg;
	struct prng *prng;
	uint32_t quorum; /* n_peers / 2 + 1 */

	/* Persistent state (§5, Figure 2), written through the ready batch. */
	uint64_t term;
	uint32_t vote;
	uint64_t commit;
	struct raft_hard_state persisted_hs; /* as of the last raft_advance() */

	enum raft_role role;
	uint32_t leader;
	uint64_t applied; /* last index handed out in a ready batch */
	struct raft__log log;

	/* Logical time, and the clock for leases (raft_clock()). */
	uint64_t ticks;
	uint64_t now_ms;
	uint32_t election_elapsed;
	uint32_t heartbeat_elapsed;
	uint32_t randomized_timeout;

	/* Candidates: votes[i] for cfg.peers[i]: 0 unknown, 1 granted, 2 rejected. */
	uint8_t votes[RAFT_MAX_NODES];

	/* Leaders. */
	struct raft__progress progress[RAFT_MAX_NODES]; /* index i is cfg.peers[i] */
	size_t uncommitted_bytes;
	/*
	 * Appends owed to the followers, sent when the next ready batch is taken: entries not
	 * yet sent (replicate_due), and a commit index to announce even without entries
	 * (commit_due). So a batch sends each follower one append for all the proposals and
	 * acknowledgements it saw, not one per proposal and per commit advance.
	 */
	bool replicate_due;
	bool commit_due;
	bool lazy_flush_due; /* a tick passed: entries held from lazy followers go out */

	struct raft__reads reads;
	struct raft__pending pending;

	/*
	 * Followers told to persist lazily (replication.h): entries received since are kept
	 * from the ready batches, and so is the acknowledgement owed for them.
	 */
	bool deferring;
	uint64_t ack_owed; /* 0: none; else the last index an acknowledgement is owed for */

	struct raft__outbox filling; /* outputs being produced */
	struct raft__outbox handed;  /* outputs of the batch being handled by the caller */
	bool ready_outstanding;
	/* Between raft_advance_unsynced() and raft_synced(): batches carry no new entries. */
	bool entries_held;
	struct raft_entry *ready_entries;
	size_t ready_entries_cap;
	struct raft_entry *ready_committed;
	bool *ready_committed_owned;
	size_t n_ready_committed;

	uint64_t malformed_messages;

	/* Scratch for building one append message. */
	struct raft_entry scratch[RAFT_MAX_MSG_ENTRIES];
	bool scratch_owned[RAFT_MAX_MSG_ENTRIES];
};

/* The slot of `id` in cfg.peers, or -1 if it is not a member. */
int raft__peer_slot(const struct raft *r, uint32_t id);

/* The progress of this node itself. */
struct raft__progress *raft__self_progress(struct raft *r);

/* Frees the payloads a handed-out batch loaded from disk. */
void raft__ready_release(struct raft *r);

/* Queues `m` (from/to filled by the caller) for sending after the next persist. */
void raft__send(struct raft *r, struct raft_message *m);

#endif
