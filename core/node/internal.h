/*
 * internal.h — what node.c and node_session.c share. Not part of the node's API.
 */
#ifndef CAIRN_NODE_INTERNAL_H
#define CAIRN_NODE_INTERNAL_H

#include "node/node.h"
#include "raft/durable_log.h"
#include "sql/session.h"
#include "storage/kv.h"
#include "storage/mvcc.h"

/* Where a session's current statement is. */
enum node__wait {
	NODE_WAIT_NONE,         /* runnable, or idle when no text is submitted */
	NODE_WAIT_READ,         /* asked Raft for a read point */
	NODE_WAIT_READ_RETRY,   /* the read request failed; ask again at the next tick */
	NODE_WAIT_APPLY,        /* has a read point; waiting to apply that far */
	NODE_WAIT_COMMIT,       /* the commit record is proposed */
	NODE_WAIT_COMMIT_RETRY, /* the proposal was refused; propose again at the next tick */
};

struct node_session {
	struct node *node;
	struct sql_session *sql;
	node_reply_fn reply;
	void *reply_ctx;

	/* The submitted text and how far it has been executed. */
	char *text;
	size_t len;
	size_t pos;
	bool busy;
	struct sql_result held; /* the previous statement's result, replied once the next ends */
	bool holding;

	enum node__wait wait;
	uint32_t wait_ticks;
	bool read_point_ready; /* a fresh read point is applied: the next begin may use it */
	bool read_point_asked; /* sql asked for a read version we did not have */
	/*
	 * The statement at stmt_pos: whether it must run with a read point this time, after a
	 * stale attempt proved nothing (stale_refused), and whether the current attempt began
	 * at the local applied version without one (began_stale). See node_session.c.
	 */
	bool stale_refused;
	bool began_stale;
	size_t stmt_pos;
	uint64_t read_id;
	uint64_t read_index;

	/* The pending commit: its record and every proposal id it went out under. */
	struct buf record;
	uint64_t attempt_ids[NODE_COMMIT_ATTEMPTS];
	uint32_t attempts;
	bool outcome_ready;
	struct mvcc_outcome outcome;
};

struct node {
	const struct env *env;
	struct node_config config;
	struct raft_dlog *dlog;
	struct vfs *raft_vfs;   /* where the log and hard state live: env->vfs, or a mutant's */
	struct vfs *nosync_vfs; /* the mutant wrapper (MUTATION_NODE_ACK_BEFORE_SYNC) */
	bool reapply_pending;   /* MUTATION_NODE_REAPPLY: not yet re-applied since open */
	struct raft *raft;
	struct kv *kv;
	struct mvcc *mvcc;

	struct raft_hard_state saved; /* the hard state last written to disk */
	uint64_t cluster_id;          /* node_cluster_id() */
	uint64_t unflushed;           /* entries applied since the last B+-tree commit */
	uint32_t flush_ticks;         /* ticks since the last B+-tree commit */
	uint64_t next_request_id;     /* boot salt in the high half, a counter in the low half */
	struct node_session *sessions[NODE_SESSIONS_MAX];
	uint32_t n_sessions;
	/*
	 * A log sync running in the background (env sync_start): the log is written up to
	 * sync_index, durable once the sync ends. Raft learns of it (raft_synced) outside a
	 * batch, so a sync that ended inside one is reported after it.
	 */
	bool syncing;
	bool synced_unreported;
	uint64_t sync_index;
	/* Messages that wait for that sync (acknowledgements): [u32 to][u32 len][bytes]... */
	struct buf after_sync;
	bool in_ready;    /* between raft_ready_get() and raft_advance(): no Raft input allowed */
	bool ready_armed; /* NODE_TIMER_READY is armed: the ready loop runs when it fires */
	/*
	 * The shared read request: sessions that need a read point join it until the next
	 * ready loop issues it to Raft as one ReadIndex (so one round serves them all).
	 */
	bool read_batch_open;
	uint64_t read_batch_id;
	bool in_reply; /* inside a reply callback: the node must not be re-entered */
	/*
	 * Set when the ready loop failed (the disk failed): Raft may believe entries are
	 * durable that are not, so the node takes no more input and must be reopened.
	 */
	bool failed;
	enum err_code failed_code;
	char failed_msg[200];

	uint64_t commits_ok;
	uint64_t commits_aborted;
	uint64_t commits_unknown;
};

/* A request id never used before by this node, in this or an earlier life. */
uint64_t node__request_id(struct node *n);

/* The node's latched failure as a new error, or NULL while it is healthy. */
err *node__check(const struct node *n);

/* Processes the Raft ready batches, then lets sessions that can proceed run. */
err *node__drain(struct node *n);

/*
 * After an input: arms NODE_TIMER_READY (once) if Raft has work, so the ready loop runs
 * after the world has delivered everything else that is due. Returns the latched failure.
 */
err *node__schedule(struct node *n);

/* ---- node_session.c ---- */

/* Issues the shared read request, if sessions joined it (outside a ready batch). */
void node__read_batch_issue(struct node *n);

/* Raft answered read request `id` with read point `index`. */
void node__read_ready(struct node *n, uint64_t id, uint64_t index);
/* Raft reports request `id` failed in the given way. */
void node__request_failed(struct node *n, uint64_t id, uint8_t kind);
/* This node's proposal `id` was applied with `outcome`. */
void node__commit_applied(struct node *n, uint64_t id, const struct mvcc_outcome *outcome);
/*
 * Inside a ready batch: answers the sessions whose commit is decided and whose text ends
 * with it (what needs Raft waits for node__sessions_resume).
 */
void node__sessions_answer(struct node *n);
/* Lets every session that can make progress run (outside a ready batch). */
void node__sessions_resume(struct node *n);
/* One tick passed: retry refused requests, time out the ones waiting too long. */
void node__sessions_tick(struct node *n);

#endif
