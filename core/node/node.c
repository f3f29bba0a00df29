/*
 * node.c — a node's life: recovery, the Raft ready loop, and applying committed entries.
 *
 * The ready loop follows raft.h's contract, with reorderings the contract's reasons
 * allow. For each batch: send the messages that may precede persistence (a leader's
 * appends and heartbeats, forwarded requests and their answers: raft.h); if a sync
 * follows, apply the committed entries already in the durable log and answer their
 * clients, and flush the env's sends; make hard state and entries durable (each syncs),
 * only then send the other messages (a vote or an acknowledgement must never outrun the
 * disk), apply the rest of the committed entries to MVCC, hand read points and failures
 * to the sessions, and advance. The B+-tree commits every NODE_FLUSH_TICKS ticks or
 * NODE_FLUSH_ENTRIES entries (group commit). Sessions waiting on any of that run only after the batch is closed, because a
 * session may propose or ask for a read point, and Raft takes no input inside a batch.
 *
 * Why the leader's appends may go first (Raft thesis §10.2.1): an entry is committed
 * when a majority has it durably, and Raft counts the leader's own copy only after
 * raft_advance(), that is after the sync. Followers that receive entries before the
 * leader's sync completes only make the same entries durable sooner; if the leader
 * crashes first, the entries are exactly as if a follower had them and the leader never
 * did, which Raft already handles. What must wait is a node's promise about its own disk:
 * votes and append acknowledgements, and those are never sent early.
 *
 * A sync in the background. Where the env offers it, a batch with entries and no change of
 * term or vote (raft_ready_changes_vote()) writes its entries, starts their sync on the
 * env, sends what promises nothing about this node's disk, keeps the acknowledgements
 * until the sync ends, and ends at once (raft_advance_unsynced()). The node goes on
 * taking messages, statements and read requests, applying and answering; the next
 * batches carry no new entries and no acknowledgements until NODE_TIMER_SYNCED says the
 * sync ended (raft_synced()). What needs the disk in a known state waits for the sync
 * first: a new term or vote, a B+-tree commit (the state machine must never be durable
 * beyond the durable log), closing the node.
 *
 * The loop does not run inside each input: an input arms NODE_TIMER_READY with no delay
 * (node__schedule), and the loop runs when it fires, once the world has delivered the
 * other inputs already due. Under load that is what makes batches large: whatever arrived
 * while the previous batch was syncing goes into the next one together.
 *
 * What a restart relies on: the log holds every entry this node acknowledged, the hard
 * state holds its term and vote, and the B+-tree meta page holds the applied index. Raft
 * re-delivers committed entries above that index, and applying them again reproduces the
 * same state, because applying is a pure function of the log.
 */
#include "node/internal.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mutation.h"
#include "raft/hard_state.h"
#include "storage/btree.h"
#include "storage/vfs_nosync.h"

/* Ready batches handled per input; Raft produces at most a few per input. */
#define NODE_READY_ROUNDS_MAX 1024

static err *node__flush(struct node *n);
static err *node__sync_wait(struct node *n);

uint64_t node__request_id(struct node *n)
{
	assert((n->next_request_id & 0xffffffffu) != 0xffffffffu);
	return n->next_request_id++;
}

static void node__config_defaults(struct node_config *c)
{
	if (!c->tick_ms)
		c->tick_ms = 50;
	if (!c->election_ticks)
		c->election_ticks = 10;
	if (!c->heartbeat_ticks)
		c->heartbeat_ticks = 2;
	if (!c->read_lease_ms)
		c->read_lease_ms = (c->election_ticks - 1) * c->tick_ms / 2;
}

/*
 * MVCC's log source while it opens: the commit record of entry `index`, read back from the
 * durable log (in runs: opening reads the whole history window in order).
 */
static err *node__load_record(void *ctx, uint64_t index, struct buf *out)
{
	struct raft_entry entry;
	err *e = raft_dlog_reader_get(ctx, index, &entry);
	if (err_is(e, ERR_NOT_FOUND)) {
		err *why =
		    err_new(ERR_CORRUPT,
		            "%s: the state machine (" NODE_STATE_FILE ") has applied entries "
		            "its Raft log (" NODE_RAFT_DIR "/) does not hold; restore the log, "
		            "or remove " NODE_STATE_FILE " to rebuild it from the log",
		            err_msg(e));
		err_free(e);
		return why;
	}
	TRY(e);
	bool record = entry.type == RAFT_ENTRY_NORMAL && entry.len > 0;
	return record ? buf_append(out, entry.data, entry.len) : NULL;
}

/* Opens the durable log and hard state, and the state machine, from the node's disk. */
static err *node__recover(struct node *n, struct raft_hard_state *hs)
{
	struct vfs *vfs = n->env->vfs;
	n->raft_vfs = vfs;
	if (mutation_on(MUTATION_NODE_ACK_BEFORE_SYNC)) {
		TRY(vfs_nosync_new(vfs, &n->nosync_vfs));
		n->raft_vfs = n->nosync_vfs;
	}
	TRY(vfs_mkdir(vfs, NODE_RAFT_DIR));
	struct raft_dlog_recovery recovery;
	TRY(raft_dlog_open(n->raft_vfs, NODE_RAFT_DIR, RAFT_DLOG_SEGMENT_BYTES, &n->dlog,
	                   &recovery));
	if (recovery.cut_bytes)
		env_logf(n->env, LOG_WARN,
		         "node: cut %llu bytes of torn or corrupt log tail at %s offset %llu",
		         (unsigned long long)recovery.cut_bytes, recovery.cut_segment,
		         (unsigned long long)recovery.cut_offset);
	TRY(raft_hard_state_load(n->raft_vfs, NODE_RAFT_DIR, n->config.id, hs));
	TRY(btree_open(vfs, NODE_STATE_FILE, NULL, &n->kv));
	struct raft_dlog_reader reader;
	raft_dlog_reader_init(&reader, n->dlog);
	struct mvcc_options opts = {.prng = n->env->prng,
	                            .history_max_entries = n->config.history_entries,
	                            .log = {&reader, node__load_record}};
	err *e = mvcc_open(n->kv, &opts, &n->mvcc);
	raft_dlog_reader_free(&reader);
	return e;
}

/* Takes the cluster's id from log entry 1, which the caller knows is committed. */
static void node__learn_cluster_id(struct node *n, const struct raft_entry *first)
{
	n->cluster_id = raft_cluster_id_of(first);
	if (n->cluster_id)
		env_logf(n->env, LOG_INFO, "node: cluster id %016llx",
		         (unsigned long long)n->cluster_id);
}

err *node_open(const struct env *env, const struct node_config *config, struct node **out)
{
	assert(env && config && out);
	*out = NULL;
	if (config->n_peers == 0 || config->n_peers > RAFT_MAX_NODES)
		return err_new(ERR_INVALID, "node: %u peers (1 to %d allowed)", config->n_peers,
		               RAFT_MAX_NODES);
	struct node *n = calloc(1, sizeof *n);
	if (!n)
		return err_new(ERR_NOMEM, "node: out of memory");
	n->env = env;
	n->config = *config;
	buf_init(&n->after_sync, BUF_ABSOLUTE_MAX);
	node__config_defaults(&n->config);
	n->next_request_id = ((prng_next(env->prng) & 0x7fffffffu) << 32) | 1;

	struct raft_hard_state hs;
	err *e = node__recover(n, &hs);
	if (e)
		goto fail;
	n->saved = hs;
	uint64_t applied = mvcc_applied_version(n->mvcc);
	uint64_t last = raft_dlog_last_index(n->dlog);
	n->reapply_pending = mutation_on(MUTATION_NODE_REAPPLY) && applied > 0;
	if (applied > last) {
		e = err_new(ERR_CORRUPT,
		            "node: state machine applied %llu entries but the log ends at %llu",
		            (unsigned long long)applied, (unsigned long long)last);
		goto fail;
	}
	/* Applied entries were committed, even if the saved commit index lags behind. */
	if (hs.commit < applied)
		hs.commit = applied;
	if (hs.commit > last)
		hs.commit = last;
	if (hs.commit >= 1) {
		struct raft_entry first;
		e = raft_dlog_load(n->dlog, 1, &first);
		if (e)
			goto fail;
		node__learn_cluster_id(n, &first);
		free((void *)first.data);
	}
	struct raft_initial initial = {
	    .hard_state = hs,
	    .terms = raft_dlog_terms(n->dlog),
	    .last_index = last,
	    .applied = applied,
	};
	struct raft_config rc;
	raft_config_default(&rc, config->id, config->peers, config->n_peers);
	rc.election_ticks = n->config.election_ticks;
	rc.heartbeat_ticks = n->config.heartbeat_ticks;
	if (n->config.max_msg_bytes)
		rc.max_msg_bytes = n->config.max_msg_bytes;
	rc.lazy_followers = !n->config.eager_followers;
	rc.pacing = !n->config.unpaced;
	rc.lease_ms = n->config.read_lease_ms == NODE_READ_LEASE_OFF ? 0 : n->config.read_lease_ms;
	e = raft_new(&rc, &initial, env->prng, raft_dlog_source(n->dlog), &n->raft);
	if (e)
		goto fail;
	env_logf(env, LOG_INFO, "node: open at term %llu, log %llu, applied %llu",
	         (unsigned long long)hs.term, (unsigned long long)last,
	         (unsigned long long)applied);
	env_timer_set(env, NODE_TIMER_TICK, n->config.tick_ms);
	*out = n;
	return NULL;
fail:
	node_free(n);
	return e; /* the world names the node (cairnd's message, the simulator's trace) */
}

err *node_close(struct node *n)
{
	if (!n)
		return NULL;
	err *e = n->failed ? NULL : node__sync_wait(n);
	if (!e && !n->failed)
		e = node__flush(n);
	node_free(n);
	return e;
}

void node_free(struct node *n)
{
	if (!n)
		return;
	if (n->syncing) /* its file is about to close; a crashed process has no sync to finish */
		err_free(n->env->sync_finish(n->env->impl));
	buf_free(&n->after_sync);
	while (n->n_sessions > 0)
		node_session_close(n->sessions[n->n_sessions - 1]);
	raft_free(n->raft);
	mvcc_close(n->mvcc);
	kv_close(n->kv);
	raft_dlog_close(n->dlog);
	vfs_nosync_free(n->nosync_vfs);
	free(n);
}

/* ---- the ready loop ---- */

/*
 * Waits for the log sync in the background, if one runs. Raft learns that it ended from
 * node__synced_report(), outside any batch.
 */
static err *node__sync_wait(struct node *n)
{
	if (!n->syncing)
		return NULL;
	n->syncing = false;
	env_timer_cancel(n->env, NODE_TIMER_SYNCED);
	TRY(n->env->sync_finish(n->env->impl));
	n->synced_unreported = true;
	const uint8_t *p = n->after_sync.data, *end = p + n->after_sync.len;
	while (p < end) {
		uint32_t to = load_u32be(p), len = load_u32be(p + 4);
		env_send(n->env, to, p + 8, len);
		p += 8 + len;
	}
	buf_clear(&n->after_sync);
	env_flush(n->env); /* the leader waits for these acknowledgements to commit */
	return NULL;
}

/* Keeps the batch's messages that must wait for the sync now running. */
static err *node__send_after_sync(struct node *n, const struct raft_ready *rd)
{
	for (size_t i = 0; i < rd->n_messages; i++) {
		const struct raft_outgoing *m = &rd->messages[i];
		if (m->before_persist)
			continue;
		TRY(buf_append_u32be(&n->after_sync, m->to));
		TRY(buf_append_u32be(&n->after_sync, (uint32_t)m->len));
		TRY(buf_append(&n->after_sync, m->bytes, m->len));
	}
	return NULL;
}

/* Tells Raft that the sync which ended is done: its entries count as durable from now. */
static err *node__synced_report(struct node *n)
{
	assert(!n->in_ready);
	if (!n->synced_unreported)
		return NULL;
	n->synced_unreported = false;
	return raft_synced(n->raft, n->sync_index);
}

/*
 * Step 2 of the contract: entries and hard state durable before anything is sent. The
 * hard state is written only when the term or the vote changed: those must never be
 * forgotten (§5.2), while a lost commit index is merely relearned — on restart from the
 * applied index in the state machine, then from the leader — so rewriting the file for
 * every batch that only advances the commit index would buy nothing.
 *
 * The hard state goes first: a failure or crash between the two writes then leaves the
 * term without its entries (harmless), never entries of a term the node has not saved as
 * its own, which a restart could not reconcile without forgetting a vote of that term.
 * A saved commit index beyond the log is clamped by node_open().
 */
static err *node__persist(struct node *n, const struct raft_ready *rd)
{
	if (rd->hard_state_changed &&
	    (rd->hard_state.term != n->saved.term || rd->hard_state.vote != n->saved.vote)) {
		TRY(raft_hard_state_save(n->raft_vfs, NODE_RAFT_DIR, n->config.id,
		                         &rd->hard_state));
		n->saved = rd->hard_state;
	}
	if (rd->n_entries > 0)
		TRY(raft_dlog_append(n->dlog, rd->entries, rd->n_entries));
	return NULL;
}

/*
 * Makes every applied entry durable in the state machine with one B+-tree commit. A lazy
 * follower (raft.h) may have applied entries its log has not written yet: then the
 * commit waits (for a later tick or batch) until the log has them, so the state machine
 * is never durable beyond the log a restart replays.
 */
static err *node__flush(struct node *n)
{
	if (mvcc_applied_version(n->mvcc) > raft_dlog_last_index(n->dlog))
		return NULL;
	n->flush_ticks = 0;
	if (n->unflushed == 0)
		return NULL;
	env_flush(n->env);       /* nothing already sent waits for the syncs */
	TRY(node__sync_wait(n)); /* applied entries are all written: now they are durable */
	TRY(mvcc_flush(n->mvcc, true));
	n->unflushed = 0;
	return NULL;
}

/*
 * MUTATION_NODE_REAPPLY: the deliberate bug of re-applying the last applied entry once
 * after a restart, as if it were the next one. Its record is a duplicate to MVCC, so the
 * index passes with no writes, and the real next entry is then skipped as applied: this
 * replica silently loses one transaction. The state hash checker must notice.
 */
static err *node__mutant_reapply(struct node *n)
{
	n->reapply_pending = false;
	uint64_t applied = mvcc_applied_version(n->mvcc);
	struct raft_entry last;
	TRY(raft_dlog_load(n->dlog, applied, &last));
	struct mvcc_outcome outcome;
	err *e = last.type == RAFT_ENTRY_NORMAL && last.len > 0
	             ? mvcc_apply(n->mvcc, last.data, last.len, applied + 1, &outcome)
	             : mvcc_advance(n->mvcc, applied + 1);
	free((void *)last.data);
	return e;
}

/*
 * Step 4: apply the committed entries below index `end`, in order; commit the B+-tree
 * once enough piled up. Entries already applied (in this batch, or before a restart) are
 * skipped, so a batch may be applied in two calls.
 */
static err *node__apply(struct node *n, const struct raft_ready *rd, uint64_t end)
{
	if (n->reapply_pending && rd->n_committed > 0)
		TRY(node__mutant_reapply(n));
	uint64_t first = mvcc_applied_version(n->mvcc) + 1;
	size_t applied_now = 0;
	for (size_t i = 0; i < rd->n_committed && rd->committed[i].index < end; i++) {
		const struct raft_entry *entry = &rd->committed[i];
		assert(i == 0 || entry->index == rd->committed[i - 1].index + 1);
		if (entry->index == 1 && n->cluster_id == 0)
			node__learn_cluster_id(n, entry);
		if (entry->index <= mvcc_applied_version(n->mvcc))
			continue; /* applied before a restart or by the first call; the store has it */
		applied_now++;
		if (entry->type != RAFT_ENTRY_NORMAL || entry->len == 0) {
			TRY(mvcc_advance(n->mvcc, entry->index));
			continue;
		}
		struct mvcc_outcome outcome;
		TRY(mvcc_apply(n->mvcc, entry->data, entry->len, entry->index, &outcome));
		if (entry->origin == n->config.id)
			node__commit_applied(n, entry->id, &outcome);
	}
	/* GC runs at every multiple of the interval this call passed, as on every replica */
	TRY(mvcc_gc_periodic(n->mvcc, first - 1, NODE_GC_INTERVAL, NODE_GC_RETAIN, NODE_GC_SLICE));
	n->unflushed += applied_now;
	if (n->unflushed >= NODE_FLUSH_ENTRIES)
		TRY(node__flush(n));
	return NULL;
}

/*
 * Step 3 of the contract; `early` picks the messages sent before persisting, or the rest.
 * The early ones leave at once, before the batch's applying and answering: a leader's
 * appends and commit index, a follower's forwarded proposals are what other nodes wait for.
 */
static void node__send(struct node *n, const struct raft_ready *rd, bool early)
{
	bool sent = false;
	for (size_t i = 0; i < rd->n_messages; i++) {
		const struct raft_outgoing *m = &rd->messages[i];
		if (m->before_persist == early) {
			env_send(n->env, m->to, m->bytes, m->len);
			sent = true;
		}
	}
	if (early && sent)
		env_flush(n->env);
}

/*
 * Writes the batch's entries and starts their sync in the background, then does what the
 * batch asks; the messages that promise something about the disk leave when the sync
 * has ended (node__sync_wait).
 */
static err *node__handle_ready_unsynced(struct node *n, const struct raft_ready *rd)
{
	assert(!n->syncing && rd->n_entries > 0 && n->after_sync.len == 0);
	assert(rd->hard_state.term == n->saved.term && rd->hard_state.vote == n->saved.vote);
	node__send(n, rd, true);
	struct vfs_file *to_sync;
	TRY(raft_dlog_append_unsynced(n->dlog, rd->entries, rd->n_entries, &to_sync));
	TRY(node__send_after_sync(n, rd));
	n->syncing = true;
	n->sync_index = rd->entries[rd->n_entries - 1].index;
	n->env->sync_start(n->env->impl, to_sync, NODE_TIMER_SYNCED);
	TRY(node__apply(n, rd, UINT64_MAX));
	node__sessions_answer(n);
	for (size_t i = 0; i < rd->n_reads; i++)
		node__read_ready(n, rd->reads[i].id, rd->reads[i].index);
	for (size_t i = 0; i < rd->n_failures; i++)
		node__request_failed(n, rd->failures[i].id, rd->failures[i].kind);
	return NULL;
}

/* Handles a batch the contract's way: persist (syncing in place) before the late messages. */
static err *node__handle_ready_synced(struct node *n, const struct raft_ready *rd)
{
	node__send(n, rd, true);
	if (rd->n_entries > 0 || rd->hard_state_changed) {
		/*
		 * A sync follows. Entries below the first new one are durable here already, so
		 * they are applied and their clients answered first, without waiting for it.
		 */
		TRY(node__apply(n, rd, rd->n_entries > 0 ? rd->entries[0].index : UINT64_MAX));
		node__sessions_answer(n);
		env_flush(n->env); /* what was sent goes out before the sync blocks the node */
	}
	TRY(node__persist(n, rd));
	node__send(n, rd, false);
	TRY(node__apply(n, rd, UINT64_MAX));
	for (size_t i = 0; i < rd->n_reads; i++)
		node__read_ready(n, rd->reads[i].id, rd->reads[i].index);
	for (size_t i = 0; i < rd->n_failures; i++)
		node__request_failed(n, rd->failures[i].id, rd->failures[i].kind);
	return NULL;
}

static err *node__handle_ready(struct node *n)
{
	bool changes_vote = raft_ready_changes_vote(n->raft);
	if (changes_vote) { /* the batch is persisted in place, after the write in flight */
		TRY(node__sync_wait(n));
		TRY(node__synced_report(n));
	}
	/* While a sync runs, Raft holds new entries back: the batch has none to write. */
	bool unsynced = !changes_vote && !n->syncing && env_syncs_in_background(n->env);
	struct raft_ready rd;
	TRY(raft_ready_get(n->raft, &rd));
	unsynced = unsynced && rd.n_entries > 0;
	n->in_ready = true;
	err *e = unsynced ? node__handle_ready_unsynced(n, &rd) : node__handle_ready_synced(n, &rd);
	err *advanced = unsynced ? raft_advance_unsynced(n->raft) : raft_advance(n->raft);
	n->in_ready = false;
	if (!advanced)
		advanced = node__synced_report(n); /* a B+-tree commit may have waited for it */
	if (e) {
		err_free(advanced);
		return e;
	}
	return advanced;
}

/* Returns the latched failure again, as a fresh error for the caller to own. */
static err *node__failure(const struct node *n)
{
	return err_new(n->failed_code, "node %u stopped after a failure: %s", n->config.id,
	               n->failed_msg);
}

/* Latches a disk failure: the node takes no more input until it is reopened. */
static void node__fail(struct node *n, const err *e)
{
	n->failed = true;
	n->failed_code = err_code(e);
	snprintf(n->failed_msg, sizeof n->failed_msg, "%s", err_msg(e));
	env_logf(n->env, LOG_ERROR, "node: stopping: %s", err_msg(e));
}

err *node__check(const struct node *n)
{
	return n->failed ? node__failure(n) : NULL;
}

/*
 * Handles ready batches until Raft has nothing more, then lets the sessions run. What the
 * sessions propose or ask for waits for the next firing of NODE_TIMER_READY, so that it
 * shares a batch (and a log sync) with whatever input arrived meanwhile.
 */
err *node__drain(struct node *n)
{
	assert(!n->in_ready);
	TRY(node__check(n));
	raft_clock(n->raft, env_now_ms(n->env));
	node__read_batch_issue(n);
	for (int round = 0; round < NODE_READY_ROUNDS_MAX; round++) {
		if (!raft_has_ready(n->raft)) {
			node__sessions_resume(n);
			return node__schedule(n);
		}
		err *e = node__handle_ready(n);
		if (e) {
			node__fail(n, e);
			return e;
		}
	}
	return node__schedule(n); /* the rest is handled when the timer fires again */
}

err *node__schedule(struct node *n)
{
	TRY(node__check(n));
	if (!n->ready_armed && (n->read_batch_open || raft_has_ready(n->raft))) {
		n->ready_armed = true;
		env_timer_set(n->env, NODE_TIMER_READY, 0);
	}
	return NULL;
}

err *node_on_message(struct node *n, uint32_t from, const uint8_t *bytes, size_t len)
{
	TRY(node__check(n));
	raft_clock(n->raft, env_now_ms(n->env));
	err *e = raft_receive(n->raft, bytes, len);
	if (e) {
		env_logf(n->env, LOG_WARN, "node: dropped a message from node %u: %s", from,
		         err_msg(e));
		err_free(e);
	}
	return node__schedule(n);
}

err *node_on_timer(struct node *n, uint32_t timer_id)
{
	TRY(node__check(n));
	if (timer_id == NODE_TIMER_READY) {
		n->ready_armed = false;
		return node__drain(n);
	}
	if (timer_id == NODE_TIMER_SYNCED) {
		err *e = node__sync_wait(n);
		if (!e)
			e = node__synced_report(n);
		if (e) {
			node__fail(n, e);
			return e;
		}
		return node__schedule(n);
	}
	if (timer_id != NODE_TIMER_TICK)
		return NULL;
	env_timer_set(n->env, NODE_TIMER_TICK, n->config.tick_ms);
	err *e = ++n->flush_ticks >= NODE_FLUSH_TICKS ? node__flush(n) : NULL;
	if (!e)
		e = node__synced_report(n);
	if (e) {
		node__fail(n, e);
		return e;
	}
	raft_clock(n->raft, env_now_ms(n->env));
	TRY(raft_tick(n->raft));
	node__sessions_tick(n);
	return node__schedule(n);
}

/* ---- status ---- */

void node_status_get(struct node *n, struct node_status *out)
{
	memset(out, 0, sizeof *out);
	raft_status_get(n->raft, &out->raft);
	out->applied = mvcc_applied_version(n->mvcc);
	out->sessions = n->n_sessions;
	for (uint32_t i = 0; i < n->n_sessions; i++)
		out->active_transactions += sql_session_in_transaction(n->sessions[i]->sql);
	out->commits_ok = n->commits_ok;
	out->commits_aborted = n->commits_aborted;
	out->commits_unknown = n->commits_unknown;
	struct kv_stats ks;
	err *e = kv_stats(n->kv, &ks);
	if (!e) {
		out->kv_keys = ks.keys;
		out->kv_pages = ks.pages;
		out->kv_free_pages = ks.free_pages;
		out->kv_file_bytes = ks.file_bytes;
	}
	err_free(e);
}

uint64_t node_cluster_id(const struct node *n)
{
	return n->cluster_id;
}

err *node_log_term(struct node *n, uint64_t index, uint64_t *term)
{
	return raft_term_at(n->raft, index, term);
}

err *node_state_hash(struct node *n, uint64_t *applied, uint64_t *hash)
{
	*applied = mvcc_applied_version(n->mvcc);
	return mvcc_data_hash(n->mvcc, hash);
}
