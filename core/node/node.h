/*
 * node.h — a cairn node: Raft, its durable log, the replicated MVCC/SQL state machine and
 * the SQL sessions of its clients, driven only through its env (design.md §3).
 *
 * The same node runs in the simulator (five in one process, virtual time) and in cairnd
 * (one per process, TCP, the wall clock). Its world calls it:
 *
 *     node_open()          at start and after a crash: recovers from env->vfs
 *     node_on_message()    a Raft message from a peer arrived
 *     node_on_timer()      a timer it armed fired
 *     node_session_*()     clients open sessions and submit SQL
 *
 * and it answers through env->send / env->timer_set and through each session's reply
 * callback. Nothing else: no clock, no sockets, no threads.
 *
 * How a statement runs (design.md §5):
 *   1. Outside an explicit transaction, the session first obtains a linearizable read
 *      point with Raft's ReadIndex (on the leader or, through it, on a follower) and waits
 *      until its own replica has applied that far. Inside a transaction the statement
 *      reads at the transaction's read version. An autocommit INSERT, UPDATE or DELETE
 *      skips the ReadIndex and reads at the local applied version: MVCC validation at
 *      commit makes it linearizable anyway, and one that wrote nothing or failed
 *      validation runs again with a read point (node_session.c).
 *   2. The statement executes locally (sql/session.h). Reads and read-only transactions
 *      end here: they never touch the log.
 *   3. A read-write transaction's commit record is proposed through Raft. When the entry
 *      is applied on this node, MVCC validation decides the outcome (identically on every
 *      replica) and the client gets its result.
 *   4. If leadership changes under a pending commit, the node proposes the same record
 *      again (same transaction id, so MVCC applies it at most once) up to
 *      NODE_COMMIT_ATTEMPTS times, then answers "outcome unknown". It never reports a
 *      commit that did not happen.
 * Group commit: the entries applied during NODE_FLUSH_TICKS ticks (at most
 * NODE_FLUSH_ENTRIES) share one B+-tree commit and its syncs. The Raft log already holds
 * every applied entry, so the state machine's commit only bounds how much log a restart
 * replays: the applied index lives in the B+-tree meta page, and a restarted node
 * re-applies from there. Committing every tick instead costs each node two syncs per tick
 * under load, which on one shared disk starves the log syncs that commits wait for.
 *
 * Batching: inputs do not run the ready loop themselves; they arm NODE_TIMER_READY with
 * no delay, and the loop runs when it fires. In cairnd that is after the event loop has
 * read every socket that was ready, so the proposals, forwarded proposals, appends and
 * read requests that arrived while the previous batch was being synced all share the
 * next batch: one log append and one sync on each node, one append message per follower.
 * A leader sends its append and heartbeat messages before syncing its own log (Raft
 * thesis §10.2.1: it counts itself towards a majority only once raft_advance() says the
 * entries are durable), so followers sync in parallel with it; every other message
 * (votes, acknowledgements, responses) still waits for the sync. Where the env can sync
 * in the background (cairnd with fsync on, the simulator), a leader does not wait for its
 * own sync at all: it writes a batch's entries, sends everything, and keeps taking
 * messages and proposals while its disk works (raft.h, "Syncing in the background").
 */
#ifndef CAIRN_NODE_NODE_H
#define CAIRN_NODE_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/env.h"
#include "base/err.h"
#include "raft/raft.h"
#include "sql/database.h"

/*
 * Timer ids a node arms on its env. NODE_TIMER_READY is armed with no delay whenever an
 * input (a message, a submission, a tick) leaves Raft work to do: the world delivers
 * every input that is already due first, so one ready batch — one log sync — serves all
 * the messages and statements that arrived together (see "Batching" below).
 * NODE_TIMER_SYNCED fires when a log sync started in the background has ended.
 */
enum node_timer { NODE_TIMER_TICK = 1, NODE_TIMER_READY = 2, NODE_TIMER_SYNCED = 3 };

/* A session's text is at most this long; more is ERR_LIMIT. */
#define NODE_TEXT_MAX ((size_t)1 << 20)
/* Open sessions per node. */
#define NODE_SESSIONS_MAX 1024
/* Times a commit record is proposed before the answer is "outcome unknown". */
#define NODE_COMMIT_ATTEMPTS 5
/*
 * Every NODE_GC_INTERVAL applied entries the node garbage-collects versions that no read
 * at or above (applied - NODE_GC_RETAIN) can see: at the same log indexes on every replica.
 * AS OF SYSTEM TIME reads can reach NODE_GC_RETAIN entries back.
 */
#define NODE_GC_INTERVAL 256
#define NODE_GC_RETAIN 1024
/*
 * Stored versions one GC step visits at most, so a large store never stalls a batch:
 * every replica steps at the same index, so a step is a pause of the whole cluster. 4,096
 * deletions take about 5 ms here; 16 versions per applied entry keep up with any workload
 * that writes fewer.
 */
#define NODE_GC_SLICE 4096
/* Applied entries that force a B+-tree commit before the next flush tick. */
#define NODE_FLUSH_ENTRIES 4096
/* Ticks between B+-tree commits while entries are being applied. */
#define NODE_FLUSH_TICKS 25
/* Ticks a statement may wait for a read point or a leader before it fails. */
#define NODE_WAIT_TICKS_MAX 200

struct node_config {
	uint32_t id;
	uint32_t peers[RAFT_MAX_NODES]; /* all voters, this node included */
	uint32_t n_peers;
	uint32_t tick_ms;         /* one Raft tick; 0 means 50 */
	uint32_t election_ticks;  /* 0 means 10 */
	uint32_t heartbeat_ticks; /* 0 means 2 */
	uint32_t max_msg_bytes;   /* entry bytes batched into one Raft append; 0: Raft's default */
	/*
	 * The leader's read lease (raft.h, "Reads under a lease"): 0 means half of
	 * (election_ticks - 1) ticks; NODE_READ_LEASE_OFF makes every read wait for a
	 * heartbeat round, with no assumption about clocks.
	 */
	uint32_t read_lease_ms;
	/* As leader, ask every follower to persist each append at once (raft.h, "Lazy
	 * followers"); by default the followers beyond a quorum may defer. */
	bool eager_followers;
	/* As leader, write and send new entries at the next batch instead of pacing them
	 * (raft.h, "Pacing"). */
	bool unpaced;
	/* The MVCC validation window in records (mvcc.h); 0: MVCC's default. It decides
	 * outcomes, so every node must have the same. */
	uint32_t history_entries;
};

#define NODE_READ_LEASE_OFF UINT32_MAX

struct node;
struct node_session;

/* What a node's data directory holds: the Raft hard state and log, the state machine. */
#define NODE_RAFT_DIR "raft"
#define NODE_STATE_FILE "state.db"

/*
 * Opens node `config->id` over `env` (which must outlive it), recovering from what its
 * disk holds: the Raft hard state and log under NODE_RAFT_DIR, the state machine in
 * NODE_STATE_FILE.
 * Arms its tick timer.
 */
err *node_open(const struct env *env, const struct node_config *config, struct node **out);

/*
 * Shuts down cleanly: makes every applied entry durable in the state machine (so a
 * restart replays nothing), then frees the node as node_free() does.
 */
err *node_close(struct node *n);

/*
 * Releases the node without writing anything (a crash looks the same from outside).
 * Open sessions are closed; their pending statements get no reply.
 */
void node_free(struct node *n);

/*
 * Handles a message from peer `from`. Malformed messages are counted and logged, not
 * errors. An error means the node's disk failed: the node must be freed and reopened.
 */
err *node_on_message(struct node *n, uint32_t from, const uint8_t *bytes, size_t len);

/* Handles a timer; errors as for node_on_message(). */
err *node_on_timer(struct node *n, uint32_t timer_id);

/*
 * Receives the result of each statement of a submitted text, in order. The callee owns
 * `result` (sql_result_free). `last` is true for the text's final result; then the
 * session accepts the next submission. The callback must not call into the node (submit,
 * close, free): a world reacts to a reply from a later event, never from inside it.
 */
typedef void (*node_reply_fn)(void *ctx, struct sql_result *result, bool last);

err *node_session_open(struct node *n, node_reply_fn reply, void *ctx, struct node_session **out);

/* Closes a session, rolling back its transaction; no reply is made after this. */
void node_session_close(struct node_session *s);

/*
 * Executes the statements of text[0..len) in order, replying once per statement. ERR_LIMIT
 * for text over NODE_TEXT_MAX, ERR_INVALID while a previous submission is still running.
 */
err *node_session_submit(struct node_session *s, const char *text, size_t len);

/* True when the session holds an explicit transaction (for a prompt). */
bool node_session_in_transaction(const struct node_session *s);

/* Table names and a table's schema, read at the node's applied state. */
err *node_session_tables(struct node_session *s, struct sql_names *out);
err *node_session_describe_table(struct node_session *s, const char *name, struct buf *out);

struct node_status {
	struct raft_status raft;
	uint64_t applied;
	uint32_t sessions;
	uint32_t active_transactions;
	uint64_t commits_ok;
	uint64_t commits_aborted;
	uint64_t commits_unknown;
	uint64_t kv_keys;
	uint64_t kv_pages;
	uint64_t kv_free_pages;
	uint64_t kv_file_bytes;
};

void node_status_get(struct node *n, struct node_status *out);

/*
 * The cluster's id (raft.h) once this node knows log entry 1 is committed; 0 before, and
 * for a cluster a build before ids began. Nodes of two clusters refuse each other by it.
 */
uint64_t node_cluster_id(const struct node *n);

/* The term of log entry `index` (for checkers: committed entries never change). */
err *node_log_term(struct node *n, uint64_t index, uint64_t *term);

/* The applied index and a hash of the replicated data at that index (for checkers). */
err *node_state_hash(struct node *n, uint64_t *applied, uint64_t *hash);

#endif
