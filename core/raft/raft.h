/*
 * raft.h — Raft consensus as a pure state machine (design.md §4). This header is the manual.
 *
 * A `struct raft` does no I/O, reads no clock and draws randomness only from the prng it is
 * given. It is driven by inputs and answers with a *ready batch*:
 *
 *     inputs                                  outputs (struct raft_ready)
 *     ------                                  ---------------------------
 *     raft_tick()          one logical tick   hard state to persist (term, vote, commit)
 *     raft_receive()       a message's bytes  entries to persist (append, maybe truncating)
 *                                             messages to send *after* persisting
 *     raft_propose()       a client command   committed entries to apply, in index order
 *     raft_read_index()    a read request     read requests now safe to serve, with index
 *     raft_advance()       the batch is done  proposals and reads that failed
 *     raft_synced()        entries durable
 *
 * The ready-batch contract (what the caller must do, in this order):
 *   1. raft_ready_get() hands out everything produced since the last batch.
 *   2. Persist: if `entries` is non-empty, truncate the durable log from entries[0].index
 *      and append the entries (one sync); if `hard_state_changed`, write and sync the hard
 *      state. Both must be durable before step 3: a vote or an acknowledgement sent before
 *      it is on disk could be forgotten by a crash, which breaks Election Safety.
 *      core/node does it (node__persist(): the hard state first, then the entries).
 *   3. Send `messages` (best effort; loss is fine).
 *   4. Apply `committed` in order (each entry carries the proposer's node id and the
 *      proposal id it chose, so the proposer can answer its client).
 *   5. Serve `reads`: request `id` may be answered once the local applied index is at
 *      least `index`. Report `failures` to their callers.
 *   6. raft_advance(): the entries are now persisted (the leader counts its own copy for
 *      commitment only from here on) and the batch memory is released.
 * No other input may be given between raft_ready_get() and raft_advance(). If step 2
 * fails, nothing of the batch may be sent or served: the node discards this state machine
 * and restarts from its durable state (the hard state and the log, then raft_new()).
 *
 * Syncing in the background. A node need not stop while its disk syncs: only what it
 * promises about that disk must wait. When raft_ready_changes_vote() is false before the
 * batch is taken, the caller may write the batch's entries, start their sync in the
 * background, send the messages marked before_persist at once, keep the others (the
 * acknowledgements) until the sync has completed, end the batch with
 * raft_advance_unsynced(), and call raft_synced() when the sync is done. Until then later
 * batches hand out neither new entries nor messages that wait for persistence (both stay
 * here), so at most one unsynced write exists at any time and a crash can only tear the
 * log's tail. A leader counts its own
 * copy only from raft_synced() on (thesis §10.2.1: four followers of five are a majority
 * without it). If raft_ready_changes_vote() turns true meanwhile, the caller waits for the
 * sync and calls raft_synced() before taking the next batch, which it persists in place.
 * Committed entries are handed out only once written locally, so a state machine never
 * gets ahead of its own log; the caller must still not make applied state durable beyond
 * its synced log (wait for the sync first). The one exception is a lazy follower's, below.
 *
 * Lazy followers (raft_config.lazy_followers, on by default). A commit needs the leader
 * and quorum - 1 followers; the rest of the syncs of a five-node cluster only cost CPU and
 * disk. So a leader asks the quorum - 1 followers furthest along (by match index) to
 * persist each append at once and tells the others they may defer: such a follower keeps
 * the entries in memory, hands out neither them nor its acknowledgements, and writes
 * them all in one batch at its next tick, when the leader asks for haste, when 4,096 of
 * them wait, or when its term or role changes. Meanwhile it still hands out committed
 * entries, from memory, so its clients are answered as fast as anyone's: its caller must
 * not make applied state durable while applied entries are not yet written (the ready
 * batches will soon hand them out). A lazy follower whose eager peers fail overtakes
 * them in match index at its next tick and is asked for haste from then on. Since a lazy
 * follower is no part of a commit, the leader does not wake it for every append or
 * commit either: it sends it entries and commit indexes when one of its own proposals
 * or read points has committed, once a tick, or when 1,024 entries wait for it.
 *
 * Pacing (raft_config.pacing, on by default). A leader replicates an entry in the batch
 * that hands it to its own disk, never before. With pacing, while the batch it handed out
 * last is not committed, it holds new entries back (in memory, from its disk and its
 * followers alike) until that batch commits, or until RAFT__PACE_MAX_ENTRIES of them or
 * max_msg_bytes of uncommitted entries wait; an entry of the leader's own term must be
 * among those written (older ones cannot commit by counting, §5.4.2), or nothing is
 * held. The entries proposed during one commit round thus travel as one batch: one log
 * write on each of the quorum's nodes and one append per follower, where sending each as
 * it came costs a write and a message per entry (when the followers are busy syncing the
 * batch before, sending early saves no time). An idle leader holds nothing: a lone
 * proposal leaves at once. The price is latency where the network is slow next to the
 * disk: an entry held for one round cannot meet an idle follower's disk a round early
 * (the simulator's 1–10 ms messages: about 5% fewer operations). Without pacing, new
 * entries are written, and sent, at the next batch.
 *
 * Reads under a lease (thesis §6.4.1, optional: raft_config.lease_ms). A follower that
 * heard from its leader ignores (pre)vote requests for election_ticks ticks, and so does a
 * node for its first election_ticks ticks after raft_new() (it may have heard from a
 * leader just before a restart). So once a majority acknowledged a heartbeat the leader
 * sent at time T, no other leader can be elected before T plus election_ticks ticks of the
 * slowest-ticking follower. Until T + lease_ms on its own clock, the leader answers read
 * requests with its commit index at once, with no round. This rests on two assumptions the
 * round does not need: every clock runs within 10% of the true rate, and the caller's
 * clock (raft_clock(), monotonic) keeps counting while the process is stopped, so that a
 * leader resuming from a pause finds its lease expired. lease_ms must be at most
 * (election_ticks - 1) * tick * 0.9 / 1.1; half of (election_ticks - 1) ticks leaves room.
 *
 * Proposal and read ids are chosen by the caller and must never be reused by this node
 * (a counter that survives restarts, or one salted with a boot number, will do): a late
 * answer to an old request must not be mistaken for the answer to a new one. The id and
 * the proposer's node id travel inside the log entry, so a node recognises its own
 * committed proposals. A forwarded proposal duplicated by the network may commit twice;
 * the state machine applying entries de-duplicates by (origin, id) (design.md §5).
 *
 * A proposal is never dropped silently: it either commits (and appears in `committed` on
 * its proposer) or is reported in `failures` with RAFT_FAIL_NOT_PROPOSED (the leader
 * refused it: a copy the network duplicated may still have entered its log, so only a
 * proposer that de-duplicates may retry) or RAFT_FAIL_UNKNOWN (it may still commit later;
 * the caller must not assume either way). A read request either appears in `reads` or in
 * `failures` as RAFT_FAIL_READ.
 *
 * Implemented from Ongaro & Ousterhout, "In Search of an Understandable Consensus
 * Algorithm" (2014), and Ongaro's dissertation (2014): PreVote (§9.6), CheckQuorum and
 * leader leases for votes (§6.2, §4.2.3), ReadIndex (§6.4), the commitment rule of §3.6 /
 * Figure 8. docs/architecture.md maps every rule to the function implementing it.
 */
#ifndef CAIRN_RAFT_RAFT_H
#define CAIRN_RAFT_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/prng.h"

/* Cluster sizes up to this many voters are supported (3, 5 and 7 are the common ones). */
#define RAFT_MAX_NODES 9
/* A log holds at most this many entries (no compaction yet, see design.md §4 "Later"). */
#define RAFT_MAX_LOG_ENTRIES ((uint64_t)1 << 26)
/* One entry's payload may not exceed this. */
#define RAFT_MAX_ENTRY_BYTES ((size_t)1 << 20)
/* A message carries at most this many entries. */
#define RAFT_MAX_MSG_ENTRIES 1024

enum raft_role {
	RAFT_FOLLOWER,
	RAFT_PRE_CANDIDATE,
	RAFT_CANDIDATE,
	RAFT_LEADER,
};

enum raft_entry_type {
	RAFT_ENTRY_NORMAL = 1, /* a client command */
	RAFT_ENTRY_NOOP = 2,   /* appended by a new leader (§5.4.2, §6.4) */
};

struct raft_entry {
	uint64_t term;
	uint64_t index;
	uint8_t type;    /* enum raft_entry_type */
	uint32_t origin; /* node id of the proposer, 0 for no-ops */
	uint64_t id;     /* the proposer's proposal id, 0 for no-ops */
	const uint8_t *data;
	size_t len;
};

/*
 * The cluster's id: the first leader, whose log is empty, draws a random nonzero u64 and
 * writes it big-endian as the data of its no-op at index 1. Once entry 1 is committed the
 * id is every replica's for good (a no-op at index 1 that holds no id comes from a build
 * before ids: no id). raft_cluster_id_of() reads it from entry 1.
 */
#define RAFT_CLUSTER_ID_BYTES 8
uint64_t raft_cluster_id_of(const struct raft_entry *first);

struct raft_hard_state {
	uint64_t term;
	uint32_t vote; /* 0: no vote in this term */
	uint64_t commit;
};

/*
 * Reads one persisted entry back from the durable log: fills *out and stores a malloc'd
 * copy of the payload in out->data (the caller frees it). Raft calls this only for
 * entries older than its cache and at most as many times as the bounded batches need.
 */
struct raft_log_source {
	void *impl;
	err *(*load)(void *impl, uint64_t index, struct raft_entry *out);
};

struct raft_config {
	uint32_t id;                    /* this node, one of `peers` */
	uint32_t peers[RAFT_MAX_NODES]; /* all voters including this node; distinct, non-zero */
	uint32_t n_peers;
	uint32_t election_ticks;      /* election timeout drawn from [election, 2*election) ticks */
	uint32_t heartbeat_ticks;     /* leader heartbeat interval; < election_ticks */
	uint32_t max_inflight_msgs;   /* appends in flight per follower when pipelining */
	size_t max_inflight_bytes;    /* bytes in flight per follower */
	size_t max_msg_bytes;         /* entry bytes batched into one append */
	size_t max_uncommitted_bytes; /* leader refuses proposals beyond this */
	size_t max_cache_bytes;       /* persisted entries kept in memory */
	uint32_t max_pending;         /* outstanding proposals and reads per node */
	/*
	 * Leader: let followers beyond the quorum persist lazily (see "Lazy followers"
	 * above). Followers honour the leader's request whatever their own setting.
	 */
	bool lazy_followers;
	/* Leader: hold new entries while the batch written last commits (see "Pacing"). */
	bool pacing;
	/*
	 * Leader lease for reads (§6.4.1), in milliseconds of this node's clock (raft_clock());
	 * 0: every read waits for a heartbeat round. See "Reads under a lease" above.
	 */
	uint32_t lease_ms;
};

/* Fills `c` with sensible defaults for node `id` of the given peers. */
void raft_config_default(struct raft_config *c, uint32_t id, const uint32_t *peers,
                         uint32_t n_peers);

/* What a node restarts from: its hard state and the terms of its persisted log. */
struct raft_initial {
	struct raft_hard_state hard_state;
	const uint64_t *terms; /* terms[i] is the term of entry i+1 */
	uint64_t last_index;
	uint64_t applied; /* entries up to here are already applied by the caller */
};

enum raft_failure_kind {
	RAFT_FAIL_NOT_PROPOSED = 1, /* refused by the leader (see above); retry de-duplicated */
	RAFT_FAIL_UNKNOWN = 2,      /* may or may not commit */
	RAFT_FAIL_READ = 3,         /* a read request could not be served; safe to retry */
};

struct raft_failure {
	uint64_t id;
	uint8_t kind; /* enum raft_failure_kind */
};

struct raft_read {
	uint64_t id;
	uint64_t index; /* serve once applied >= index */
};

struct raft_outgoing {
	uint32_t to;
	const uint8_t *bytes;
	size_t len;
	/*
	 * May be sent before the batch is persisted: a leader's append or heartbeat (Raft
	 * thesis §10.2.1: the leader counts its own entries towards a majority only after
	 * raft_advance()), and the requests and answers that promise nothing about the
	 * sender's disk — a forwarded proposal or read request, the leader's refusal of a
	 * proposal, a read point (a commit index, already durable on a majority). Votes and
	 * acknowledgements of appends and heartbeats must wait for step 2 of the contract.
	 */
	bool before_persist;
};

/* One batch of outputs; every pointer stays valid until raft_advance(). */
struct raft_ready {
	bool hard_state_changed;
	struct raft_hard_state hard_state;
	const struct raft_entry *entries;
	size_t n_entries;
	const struct raft_outgoing *messages;
	size_t n_messages;
	const struct raft_entry *committed;
	size_t n_committed;
	const struct raft_read *reads;
	size_t n_reads;
	const struct raft_failure *failures;
	size_t n_failures;
};

struct raft_peer_status {
	uint32_t id;
	uint64_t match;
	uint64_t next;
	const char *state; /* "probe", "replicate" or "self" */
	bool recently_active;
};

struct raft_status {
	uint32_t id;
	enum raft_role role;
	uint64_t term;
	uint32_t vote;
	uint32_t leader;
	uint64_t commit;
	uint64_t applied;
	uint64_t last_index;
	uint64_t persisted_index;
	uint64_t malformed_messages; /* messages rejected by raft_receive() */
	uint64_t dropped_messages;   /* outgoing messages dropped because the outbox was full */
	uint32_t pending_requests;   /* proposals and reads awaiting an outcome */
	uint64_t uncommitted_bytes;  /* leader: payload bytes appended but not committed */
	uint32_t n_peers;
	struct raft_peer_status peers[RAFT_MAX_NODES]; /* meaningful on the leader */
};

struct raft;

/*
 * Makes a state machine from its configuration and durable state. `prng` must outlive it;
 * `source` loads persisted entries (the durable log). Errors: ERR_INVALID for a bad
 * configuration, ERR_CORRUPT when the hard state contradicts the log.
 */
err *raft_new(const struct raft_config *config, const struct raft_initial *initial,
              struct prng *prng, struct raft_log_source source, struct raft **out);
void raft_free(struct raft *r);

/*
 * The time on this node's monotonic clock, in milliseconds; needed only with a lease
 * (lease_ms > 0), given before the inputs it should see. It never goes back.
 */
void raft_clock(struct raft *r, uint64_t now_ms);

/* Advances logical time by one tick (elections, heartbeats, CheckQuorum, timeouts). */
err *raft_tick(struct raft *r);

/*
 * Decodes and steps a message. Malformed bytes are counted and returned as ERR_DECODE; a
 * message no correct peer sends (not addressed to this node of this cluster, terms and
 * log positions that contradict each other, a leader taking back an entry it sent in its
 * term, an answer about an entry beyond the leader's log) is counted too and returned as
 * ERR_INVALID, the log untouched.
 */
err *raft_receive(struct raft *r, const uint8_t *bytes, size_t len);

/*
 * Proposes `data` under the caller's `id`. On the leader it is appended; on a follower it
 * is forwarded to the leader. Returns ERR_UNAVAILABLE when no leader is known, ERR_LIMIT
 * when too much is uncommitted or pending, ERR_EXISTS for an id already pending: in all
 * these cases the proposal was not proposed.
 */
err *raft_propose(struct raft *r, uint64_t id, const void *data, size_t len);

/*
 * Asks for a linearizable read point (§6.4). The answer arrives in a later ready batch as
 * a raft_read or a RAFT_FAIL_READ failure. ERR_UNAVAILABLE/ERR_LIMIT/ERR_EXISTS as above.
 */
err *raft_read_index(struct raft *r, uint64_t id);

bool raft_has_ready(const struct raft *r);
/* Moves the pending outputs into *rd (see the contract above). */
err *raft_ready_get(struct raft *r, struct raft_ready *rd);
/* The batch from raft_ready_get() has been handled and its entries are durable; releases it. */
err *raft_advance(struct raft *r);

/*
 * True when the next batch changes the term or the vote: hard state that must be durable
 * before anything of the batch is sent (see "Syncing in the background" above).
 */
bool raft_ready_changes_vote(const struct raft *r);

/*
 * The batch has been handled and its entries written, but their sync is still running
 * (allowed only if raft_ready_changes_vote() was false before raft_ready_get()); the
 * batch's messages that wait for persistence are sent when it completes. Later batches
 * hold back new entries and such messages until raft_synced().
 */
err *raft_advance_unsynced(struct raft *r);

/*
 * An input: entries up to `index` (the last one written before raft_advance_unsynced())
 * are durable. A leader counts its own copy towards commitment from here on.
 */
err *raft_synced(struct raft *r, uint64_t index);

void raft_status_get(const struct raft *r, struct raft_status *out);

/* The term of entry `index` of the local log (0 for index 0); ERR_NOT_FOUND beyond it. */
err *raft_term_at(const struct raft *r, uint64_t index, uint64_t *term);

const char *raft_role_name(enum raft_role role);

#endif
