/*
 * ready.c — the ready batch: what the state machine produced since the last batch, handed
 * out by raft_ready_get() and released by raft_advance() (the contract is in raft.h).
 *
 * Entries to persist are the unpersisted suffix of the log (always in the cache, see
 * log.h); committed entries are a bounded run after the applied index, loaded from the
 * durable log when they are no longer cached; messages, reads and failures come from the
 * outbox being filled, which is swapped with the one handed out, so producing outputs
 * never touches memory the caller is still reading.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "raft/internal.h"
#include "raft/read_index.h"
#include "raft/replication.h"

/* A ready batch hands out at most this many committed entries. */
#define RAFT__APPLY_MAX_ENTRIES 1024

void raft__ready_release(struct raft *r)
{
	for (size_t i = 0; i < r->n_ready_committed; i++)
		if (r->ready_committed_owned[i])
			free((void *)r->ready_committed[i].data);
	r->n_ready_committed = 0;
}

/* ---- the ready batch ---- */

static bool raft__hs_equal(const struct raft_hard_state *a, const struct raft_hard_state *b)
{
	return a->term == b->term && a->vote == b->vote && a->commit == b->commit;
}

/*
 * Committed entries are handed out to apply only once they are written here (in this
 * batch at the latest): a leader may learn that entries committed on its followers before
 * it has taken them out of memory itself, and the caller's state machine must never get
 * ahead of its own log, which a restart replays. A lazy follower applies them from memory
 * (raft.h, "Lazy followers"; its caller keeps such state from the disk).
 */
static uint64_t raft__applicable(const struct raft *r)
{
	if (r->deferring)
		return r->commit;
	return r->commit < r->log.written ? r->commit : r->log.written;
}

/* Whether new entries, and the messages that wait for them, stay out of the batches. */
static bool raft__entries_kept(const struct raft *r)
{
	return r->entries_held || r->deferring;
}

/*
 * Whether a leader holds its new entries back, from its own disk and from its followers
 * alike, because the batch it wrote last has not committed yet (raft.h, "Pacing"). Only
 * an entry of its own term commits by counting (§5.4.2): written entries of earlier terms
 * alone wait for the next one, which is never held.
 */
static bool raft__leader_paced(const struct raft *r)
{
	return r->cfg.pacing && r->role == RAFT_LEADER && r->commit < r->log.written &&
	       raft__log_term(&r->log, r->log.written) == r->term &&
	       r->log.last - r->log.written < RAFT__PACE_MAX_ENTRIES &&
	       r->uncommitted_bytes < r->cfg.max_msg_bytes;
}

/*
 * The commit index a batch's hard state carries: never beyond the entries written by the
 * end of the batch (a lazy follower learns of commits its disk does not hold yet).
 */
static uint64_t raft__hs_commit(const struct raft *r)
{
	uint64_t end = raft__entries_kept(r) ? r->log.written : r->log.last;
	return r->commit < end ? r->commit : end;
}

bool raft_ready_changes_vote(const struct raft *r)
{
	return r->term != r->persisted_hs.term || r->vote != r->persisted_hs.vote;
}

bool raft_has_ready(const struct raft *r)
{
	struct raft_hard_state hs = {r->term, r->vote, raft__hs_commit(r)};
	const struct raft__outbox *o = &r->filling;
	/* While entries are kept, so are the messages that wait for persistence. */
	bool kept = raft__entries_kept(r);
	size_t n_msgs = kept ? o->n_msgs - o->n_late : o->n_msgs;
	bool new_entries = !kept && !raft__leader_paced(r) && r->log.written < r->log.last;
	return !raft__hs_equal(&hs, &r->persisted_hs) || new_entries ||
	       r->applied < raft__applicable(r) || n_msgs > 0 || o->n_reads > 0 ||
	       o->n_failures > 0 || r->reads.round_due ||
	       (r->role == RAFT_LEADER && (r->replicate_due || r->commit_due));
}

/*
 * Collects the entries to persist: all of written+1..last, which are all cached; none
 * while the entries are held (one unsynced write at a time, raft_advance_unsynced()), a
 * lazy follower defers them or a leader paces them. A leader's followers get what it
 * hands out here, in the same batch.
 */
static err *raft__ready_entries(struct raft *r, struct raft_ready *rd)
{
	if (raft__entries_kept(r) || raft__leader_paced(r))
		return NULL;
	size_t n = (size_t)(r->log.last - r->log.written);
	if (n > r->ready_entries_cap) {
		struct raft_entry *a = realloc(r->ready_entries, n * sizeof *a);
		if (!a)
			return err_new(ERR_NOMEM, "ready batch of %zu entries", n);
		r->ready_entries = a;
		r->ready_entries_cap = n;
	}
	for (size_t i = 0; i < n; i++) {
		bool owned;
		TRY(raft__log_get(&r->log, r->log.written + 1 + i, &r->ready_entries[i], &owned));
		assert(!owned); /* unpersisted entries live only in the cache */
	}
	rd->entries = r->ready_entries;
	rd->n_entries = n;
	r->log.written = r->log.last; /* the caller writes them before anything else */
	if (r->role == RAFT_LEADER && n > 0)
		r->replicate_due = true;
	return NULL;
}

/* Collects committed entries to apply: a bounded run after `applied`. */
static err *raft__ready_committed(struct raft *r, struct raft_ready *rd)
{
	assert(r->applied <= r->commit);
	assert(r->applied <= r->log.last);
	if (!r->ready_committed) {
		r->ready_committed = calloc(RAFT__APPLY_MAX_ENTRIES, sizeof *r->ready_committed);
		r->ready_committed_owned =
		    calloc(RAFT__APPLY_MAX_ENTRIES, sizeof *r->ready_committed_owned);
		if (!r->ready_committed || !r->ready_committed_owned)
			return err_new(ERR_NOMEM, "ready batch");
	}
	assert(r->n_ready_committed == 0);
	uint64_t end = raft__applicable(r);
	size_t bytes = 0;
	for (uint64_t i = r->applied + 1; i <= end; i++) {
		size_t n = r->n_ready_committed;
		size_t len = raft__log_len(&r->log, i);
		if (n == RAFT__APPLY_MAX_ENTRIES || (n > 0 && bytes + len > r->cfg.max_msg_bytes))
			break;
		TRY(raft__log_get(&r->log, i, &r->ready_committed[n],
		                  &r->ready_committed_owned[n]));
		r->n_ready_committed++;
		bytes += len;
	}
	for (size_t i = 0; i < r->n_ready_committed; i++) {
		const struct raft_entry *e = &r->ready_committed[i];
		if (e->type == RAFT_ENTRY_NORMAL && e->origin == r->cfg.id)
			raft__pending_committed(r, e->id);
	}
	r->applied += r->n_ready_committed;
	rd->committed = r->ready_committed;
	rd->n_committed = r->n_ready_committed;
	return NULL;
}

err *raft_ready_get(struct raft *r, struct raft_ready *rd)
{
	assert(!r->ready_outstanding);
	assert(r->applied <= r->commit);
	memset(rd, 0, sizeof *rd);
	raft__read_start_due(r); /* one round for every read request since the last batch */
	rd->hard_state = (struct raft_hard_state){r->term, r->vote, raft__hs_commit(r)};
	rd->hard_state_changed = !raft__hs_equal(&rd->hard_state, &r->persisted_hs);
	TRY(raft__ready_entries(r, rd));
	if (r->role == RAFT_LEADER && (r->replicate_due || r->commit_due))
		TRY(raft__broadcast_append(r, r->commit_due));
	r->replicate_due = false;
	r->commit_due = false;
	err *e = raft__ready_committed(r, rd);
	if (e) {
		raft__ready_release(r);
		return e;
	}
	struct raft__outbox tmp = r->handed;
	r->handed = r->filling;
	r->filling = tmp;
	if (raft__entries_kept(r)) /* they promise entries that are not written yet */
		raft__outbox_move_late(&r->handed, &r->filling);
	rd->messages = r->handed.msgs;
	rd->n_messages = r->handed.n_msgs;
	rd->reads = r->handed.reads;
	rd->n_reads = r->handed.n_reads;
	rd->failures = r->handed.failures;
	rd->n_failures = r->handed.n_failures;
	r->persisted_hs = rd->hard_state; /* takes effect when the caller has synced it */
	r->ready_outstanding = true;
	return NULL;
}

/* Ends the handed batch; `synced` says whether its entries are durable already. */
static err *raft__advance(struct raft *r, bool synced)
{
	assert(r->ready_outstanding);
	r->ready_outstanding = false;
	raft__ready_release(r);
	raft__outbox_clear(&r->handed);
	if (r->entries_held) /* no entries in this batch: the write in flight ends in raft_synced() */
		return NULL;
	r->entries_held = !synced;
	return synced ? raft_synced(r, r->log.written) : NULL;
}

err *raft_advance(struct raft *r)
{
	return raft__advance(r, true);
}

err *raft_advance_unsynced(struct raft *r)
{
	return raft__advance(r, false);
}

err *raft_synced(struct raft *r, uint64_t index)
{
	assert(!r->ready_outstanding);
	r->entries_held = false;
	raft__log_persisted(&r->log, index);
	if (r->role != RAFT_LEADER)
		return NULL;
	/* Our own copy counts towards a quorum only now that it is durable. */
	raft__self_progress(r)->match = r->log.stable;
	if (raft__maybe_commit(r))
		r->commit_due = true;
	return NULL;
}
