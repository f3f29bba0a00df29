#include "raft/replication.h"

#include <assert.h>
#include <stdlib.h>

#include "base/mutation.h"
#include "raft/election.h"

/* ---- leader: sending ---- */

/* Frees the payloads that were loaded from disk for one message. */
static void raft__release(struct raft_entry *entries, const bool *owned, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (owned[i])
			free((void *)entries[i].data);
}

/* A follower heard from within the last RAFT__LAZY_HEARD_TICKS ticks, streaming. */
static bool raft__lazy_candidate(const struct raft *r, const struct raft__progress *q)
{
	return q->state == RAFT__REPLICATE && r->ticks - q->heard_tick <= RAFT__LAZY_HEARD_TICKS;
}

/*
 * Whether `pr` may persist what it is sent lazily: not if its acknowledgement is one the
 * next commit waits for. Counting from the leader's slot onwards, the first quorum - 1
 * followers that answer and stream persist at once, and with the leader's own copy make a
 * majority (a fixed order: ranking by match index instead reshuffled the roles at every
 * acknowledgement, and each change of role costs a sync). A follower fallen silent or
 * still probing, or whose window is half full or would be full after this append (its
 * acknowledgements free it, and a lazy one holds them until its tick), persists at once
 * too; one that falls silent hands its role to the next within a few ticks.
 */
static bool raft__append_lazy(const struct raft *r, const struct raft__progress *pr)
{
	if (!r->cfg.lazy_followers || !raft__lazy_candidate(r, pr) ||
	    pr->inflight_count * 2 >= r->cfg.max_inflight_msgs ||
	    pr->inflight_count + 1 >= r->cfg.max_inflight_msgs ||
	    pr->inflight_total * 2 >= r->cfg.max_inflight_bytes)
		return false;
	uint32_t n = r->cfg.n_peers, self = (uint32_t)raft__peer_slot(r, r->cfg.id), ahead = 0;
	for (uint32_t k = 1; k < n; k++) {
		const struct raft__progress *q = &r->progress[(self + k) % n];
		if (q == pr)
			break;
		ahead += raft__lazy_candidate(r, q);
	}
	return ahead >= r->quorum - 1;
}

/*
 * Whether an append of n entries to `pr` needs no answer: it carries none, and the
 * follower streams with everything sent acknowledged, so an answer would repeat its match
 * index. (A probing follower must answer: that answer is what ends the probe.)
 */
static bool raft__append_quiet(const struct raft__progress *pr, size_t n)
{
	return n == 0 && pr->state == RAFT__REPLICATE && pr->match == pr->next - 1;
}

/*
 * Sends one append to `pr` starting at pr->next: as many entries as fit in max_msg_bytes
 * (at least one if any) among those handed to this node's own disk already (a leader
 * sends nothing its own log has not been given to write), or none if allow_empty. A
 * full in-flight window holds back the entries but not, to a streaming follower, an
 * append with the commit index alone (which takes no slot of the window:
 * raft__progress_sent). Sets *sent.
 */
static err *raft__send_append(struct raft *r, struct raft__progress *pr, bool allow_empty,
                              bool *sent)
{
	assert(r->role == RAFT_LEADER);
	assert(pr->next >= 1 && pr->next <= r->log.last + 1);
	struct raft_entry *entries = r->scratch;
	bool *owned = r->scratch_owned;
	*sent = false;
	bool paused =
	    raft__progress_paused(pr, r->cfg.max_inflight_msgs, r->cfg.max_inflight_bytes);
	if (paused && !(allow_empty && pr->state == RAFT__REPLICATE))
		return NULL;
	size_t n = 0, bytes = 0;
	for (uint64_t i = pr->next; !paused && i <= r->log.written && n < RAFT_MAX_MSG_ENTRIES;
	     i++) {
		size_t len = raft__log_len(&r->log, i);
		if (n > 0 && bytes + len > r->cfg.max_msg_bytes)
			break;
		err *e = raft__log_get(&r->log, i, &entries[n], &owned[n]);
		if (e) {
			raft__release(entries, owned, n);
			return e;
		}
		n++;
		bytes += len;
	}
	if (n == 0 && !allow_empty)
		return NULL;
	struct raft_message m = {.type = RAFT_MSG_APPEND,
	                         .to = pr->id,
	                         .term = r->term,
	                         .index = pr->next - 1,
	                         .log_term = raft__log_term(&r->log, pr->next - 1),
	                         .commit = r->commit,
	                         .ctx = (raft__append_lazy(r, pr) ? RAFT_APPEND_LAZY : 0) |
	                                (raft__append_quiet(pr, n) ? RAFT_APPEND_QUIET : 0),
	                         .entries = entries,
	                         .n_entries = n};
	raft__send(r, &m);
	raft__release(entries, owned, n);
	raft__progress_sent(pr, pr->next - 1 + n, bytes);
	/* the follower takes the commit index up to its last new entry (raft__on_append) */
	uint64_t told = r->commit < m.index + n ? r->commit : m.index + n;
	if (told > pr->told)
		pr->told = told;
	if (pr->want_hi <= pr->told)
		pr->want_lo = pr->want_hi = 0;
	else if (pr->want_lo <= pr->told)
		pr->want_lo = pr->told + 1; /* which ones it still waits for is not kept */
	*sent = true;
	return NULL;
}

err *raft__replicate_to(struct raft *r, int slot, bool allow_empty)
{
	assert(slot >= 0 && (uint32_t)slot < r->cfg.n_peers);
	struct raft__progress *pr = &r->progress[slot];
	assert(pr->id != r->cfg.id);
	/* Bounded by the in-flight window: each message sent takes a slot of it. */
	for (uint32_t round = 0; round <= r->cfg.max_inflight_msgs; round++) {
		bool sent;
		TRY(raft__send_append(r, pr, allow_empty && round == 0, &sent));
		if (!sent || pr->state == RAFT__PROBE || pr->next > r->log.written)
			break;
	}
	return NULL;
}

void raft__want_commit(struct raft *r, uint32_t id, uint64_t index)
{
	int slot = raft__peer_slot(r, id);
	if (slot < 0 || id == r->cfg.id)
		return;
	struct raft__progress *pr = &r->progress[slot];
	if (index <= pr->told)
		return;
	if (pr->want_lo == 0 || index < pr->want_lo)
		pr->want_lo = index;
	if (index > pr->want_hi)
		pr->want_hi = index;
}

err *raft__broadcast_append(struct raft *r, bool allow_empty)
{
	assert(r->role == RAFT_LEADER);
	bool flush = r->lazy_flush_due;
	r->lazy_flush_due = false;
	for (uint32_t i = 0; i < r->cfg.n_peers; i++) {
		struct raft__progress *pr = &r->progress[i];
		if (pr->id == r->cfg.id)
			continue;
		if (!raft__append_lazy(r, pr)) {
			TRY(raft__replicate_to(r, (int)i, allow_empty));
			continue;
		}
		/* a lazy follower gets entries when it waits, or a tick later */
		bool awaited = pr->want_lo != 0 && pr->want_lo <= r->commit;
		uint64_t waiting = pr->next <= r->log.written ? r->log.written - pr->next + 1 : 0;
		if (awaited || flush || waiting >= RAFT__LAZY_HOLD_MAX_ENTRIES)
			TRY(raft__replicate_to(r, (int)i, awaited));
	}
	return NULL;
}

void raft__broadcast_heartbeat(struct raft *r)
{
	assert(r->role == RAFT_LEADER);
	for (uint32_t i = 0; i < r->cfg.n_peers; i++) {
		const struct raft__progress *pr = &r->progress[i];
		if (pr->id == r->cfg.id)
			continue;
		struct raft_message m = {.type = RAFT_MSG_HEARTBEAT,
		                         .to = pr->id,
		                         .term = r->term,
		                         .commit = pr->match < r->commit ? pr->match : r->commit,
		                         .ctx = r->reads.seq};
		raft__send(r, &m);
	}
}

err *raft__leader_append(struct raft *r, uint8_t type, uint32_t origin, uint64_t id,
                         const void *data, size_t len)
{
	assert(r->role == RAFT_LEADER);
	assert(len <= RAFT_MAX_ENTRY_BYTES);
	struct raft_entry e = {.term = r->term,
	                       .index = r->log.last + 1,
	                       .type = type,
	                       .origin = origin,
	                       .id = id,
	                       .data = data,
	                       .len = len};
	TRY(raft__log_append(&r->log, &e));
	raft__want_commit(r, origin, e.index);
	r->uncommitted_bytes += len;
	raft__self_progress(r)->next = r->log.last + 1;
	return NULL; /* followers get it once this node's own disk does (raft__ready_entries) */
}

/* ---- leader: commitment ---- */

bool raft__maybe_commit(struct raft *r)
{
	assert(r->role == RAFT_LEADER);
	uint64_t match[RAFT_MAX_NODES];
	uint32_t n = r->cfg.n_peers;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t m = r->cfg.peers[i] == r->cfg.id ? r->log.stable : r->progress[i].match;
		uint32_t j = i; /* insertion sort, descending: n <= RAFT_MAX_NODES */
		for (; j > 0 && match[j - 1] < m; j--)
			match[j] = match[j - 1];
		match[j] = m;
	}
	uint64_t q = match[r->quorum - 1];
	assert(q <= r->log.last);
	/*
	 * Figure 8: only an entry of the current term commits by counting replicas. The
	 * raft-commit-any-term mutation drops that check, the bug Figure 8 warns about.
	 */
	if (q <= r->commit ||
	    (raft__log_term(&r->log, q) != r->term && !mutation_on(MUTATION_RAFT_COMMIT_ANY_TERM)))
		return false;
	for (uint64_t i = r->commit + 1; i <= q; i++) {
		if (raft__log_term(&r->log, i) != r->term)
			continue;
		size_t len = raft__log_len(&r->log, i);
		r->uncommitted_bytes -= len < r->uncommitted_bytes ? len : r->uncommitted_bytes;
	}
	r->commit = q;
	raft__read_on_commit(r);
	return true;
}

/* ---- leader: timers ---- */

/* CheckQuorum (§6.2): true if a quorum was heard from since the last check. */
static bool raft__check_quorum(struct raft *r)
{
	uint32_t active = 0;
	for (uint32_t i = 0; i < r->cfg.n_peers; i++) {
		if (r->cfg.peers[i] == r->cfg.id || r->progress[i].active)
			active++;
		r->progress[i].active = false;
	}
	assert(active >= 1 && active <= r->cfg.n_peers);
	return active >= r->quorum;
}

err *raft__leader_tick(struct raft *r)
{
	assert(r->role == RAFT_LEADER);
	r->election_elapsed++;
	r->heartbeat_elapsed++;
	r->lazy_flush_due = true; /* a lazy follower writes, and answers, once a tick */
	r->replicate_due = true;
	if (r->election_elapsed >= r->cfg.election_ticks) {
		r->election_elapsed = 0;
		if (!raft__check_quorum(r)) {
			raft__become_follower(r, r->term, 0);
			return NULL;
		}
	}
	if (r->heartbeat_elapsed >= r->cfg.heartbeat_ticks) {
		r->heartbeat_elapsed = 0;
		if (r->cfg.lease_ms > 0)
			raft__read_heartbeat_round(
			    r); /* timed, so that its acknowledgements renew the lease */
		raft__broadcast_heartbeat(r);
	}
	assert(r->role == RAFT_LEADER);
	return NULL;
}

/* ---- follower ---- */

/* The rejection of an append whose previous entry we lack, with the backtracking hint. */
static void raft__reject_append(struct raft *r, const struct raft_message *m)
{
	assert(r->role == RAFT_FOLLOWER);
	assert(!raft__log_matches(&r->log, m->index, m->log_term));
	struct raft_message resp = {.type = RAFT_MSG_APPEND_RESP,
	                            .to = m->from,
	                            .term = r->term,
	                            .reject = true,
	                            .index = m->index};
	if (m->index > r->log.last) {
		resp.hint_index = r->log.last + 1;
	} else {
		resp.hint_term = raft__log_term(&r->log, m->index);
		resp.hint_index = raft__log_term_start(&r->log, m->index, r->commit);
	}
	raft__send(r, &resp);
}

/*
 * Appends m's entries after its matching previous entry, dropping a conflicting suffix;
 * *truncated says whether it dropped one.
 */
static err *raft__accept_entries(struct raft *r, const struct raft_message *m, bool *truncated)
{
	*truncated = false;
	for (size_t i = 0; i < m->n_entries; i++) {
		const struct raft_entry *e = &m->entries[i];
		assert(e->index == m->index + 1 + i);
		if (e->index <= r->log.last) {
			if (raft__log_term(&r->log, e->index) == e->term)
				continue;
			/* raft__on_append only gets here with m->index >= commit. */
			assert(e->index > r->commit);
			/* up to ack_owed, the entries came from this term's leader itself */
			if (e->index <= r->ack_owed)
				return err_new(
				    ERR_INVALID, "leader of term %llu takes back entry %llu",
				    (unsigned long long)r->term, (unsigned long long)e->index);
			raft__log_truncate(&r->log, e->index);
			*truncated = true;
		}
		if (e->term > m->term || e->term < raft__log_last_term(&r->log))
			return err_new(ERR_INVALID,
			               "append carries entry %llu of term %llu out of order",
			               (unsigned long long)e->index, (unsigned long long)e->term);
		TRY(raft__log_append(&r->log, e));
	}
	return NULL;
}

err *raft__on_append(struct raft *r, const struct raft_message *m)
{
	assert(r->role == RAFT_FOLLOWER && r->leader == m->from);
	assert(m->term == r->term);
	struct raft_message resp = {
	    .type = RAFT_MSG_APPEND_RESP, .to = m->from, .term = r->term, .index = r->commit};
	if (m->index < r->commit) {
		raft__send(r, &resp); /* already committed here: tell where we are */
		return NULL;
	}
	if (!raft__log_matches(&r->log, m->index, m->log_term)) {
		raft__reject_append(r, m);
		return NULL;
	}
	bool truncated;
	TRY(raft__accept_entries(r, m, &truncated));
	uint64_t last_new = m->index + m->n_entries;
	if (m->commit > r->commit)
		r->commit = m->commit < last_new ? m->commit : last_new;
	bool quiet = m->n_entries == 0 && (m->ctx & RAFT_APPEND_QUIET) != 0;
	if (last_new > r->ack_owed && !quiet)
		r->ack_owed = last_new;
	/*
	 * A conflicting suffix dropped in memory is still on disk: deferring the write, the
	 * node would apply the new entries and commit its state over a log whose durable
	 * entries at those indexes are the dropped ones (a crash then restarted it on them).
	 */
	r->deferring = (m->ctx & RAFT_APPEND_LAZY) != 0 && !truncated &&
	               r->log.last - r->log.written < RAFT__DEFER_MAX_ENTRIES;
	if (!r->deferring)
		raft__end_deferral(r);
	return NULL;
}

void raft__end_deferral(struct raft *r)
{
	/*
	 * Within a term the leader never takes back an entry it sent (§5.3), so the log
	 * still matches the leader's through everything accepted in it.
	 */
	if (r->ack_owed > 0 && r->role == RAFT_FOLLOWER && r->leader != 0) {
		assert(r->ack_owed <= r->log.last);
		struct raft_message resp = {.type = RAFT_MSG_APPEND_RESP,
		                            .to = r->leader,
		                            .term = r->term,
		                            .index = r->ack_owed};
		raft__send(r, &resp);
	}
	r->ack_owed = 0;
	r->deferring = false;
}

void raft__on_heartbeat(struct raft *r, const struct raft_message *m)
{
	assert(r->role == RAFT_FOLLOWER && r->leader == m->from);
	assert(m->term == r->term);
	/* The leader caps the commit index at what it knows we hold (our match index). */
	uint64_t commit = m->commit < r->log.last ? m->commit : r->log.last;
	if (commit > r->commit)
		r->commit = commit;
	struct raft_message resp = {.type = RAFT_MSG_HEARTBEAT_RESP,
	                            .to = m->from,
	                            .term = r->term,
	                            .index = r->log.last,
	                            .ctx = m->ctx};
	raft__send(r, &resp);
}

/* ---- leader: answers ---- */

err *raft__on_append_resp(struct raft *r, const struct raft_message *m)
{
	assert(r->role == RAFT_LEADER);
	int slot = raft__peer_slot(r, m->from);
	assert(slot >= 0);
	struct raft__progress *pr = &r->progress[slot];
	/* answers name an append this leader sent: in its log, rejected or acknowledged */
	if (m->index > r->log.last)
		return err_new(ERR_INVALID, "node %u answered for index %llu beyond our log",
		               m->from, (unsigned long long)m->index);
	pr->active = true;
	pr->heard_tick = r->ticks;
	if (m->reject) {
		uint64_t hint = m->hint_index;
		if (m->hint_term != 0) {
			uint64_t last_of_term = raft__log_last_of_term(&r->log, m->hint_term);
			if (last_of_term != 0)
				hint = last_of_term + 1;
		}
		if (raft__progress_reject(pr, m->index, hint))
			return raft__replicate_to(r, slot, true);
		return NULL;
	}
	if (raft__progress_ack(pr, m->index) && raft__maybe_commit(r))
		r->commit_due = true;
	r->replicate_due = true; /* the acknowledgement may have opened its window */
	return NULL;
}

err *raft__on_heartbeat_resp(struct raft *r, const struct raft_message *m)
{
	assert(r->role == RAFT_LEADER);
	int slot = raft__peer_slot(r, m->from);
	assert(slot >= 0);
	struct raft__progress *pr = &r->progress[slot];
	pr->active = true;
	pr->heard_tick = r->ticks;
	raft__progress_heartbeat_ack(pr);
	raft__read_on_ack(r, m->from, m->ctx);
	/*
	 * Its log ends before what it acknowledged: its disk lost entries (a wiped data
	 * directory). Without appends to reject (an idle leader sends none to a follower it
	 * believes caught up) nothing else would start the repair.
	 */
	if (m->index < pr->match && raft__progress_reject(pr, pr->match, m->index + 1))
		return raft__replicate_to(r, slot, true);
	/*
	 * The follower lags. If every entry it may have has been sent once (next is past
	 * what this node wrote), the appends carrying them may have been lost, and an idle or
	 * pacing leader would never send again: send an (empty) append at next, which the
	 * follower rejects if it lacks the entries before it, and backtracking (§5.3)
	 * repairs the gap.
	 */
	if (r->role == RAFT_LEADER && pr->match < r->log.written)
		return raft__replicate_to(r, slot, pr->next > r->log.written);
	return NULL;
}

err *raft__on_propose(struct raft *r, const struct raft_message *m)
{
	assert(m->type == RAFT_MSG_PROPOSE);
	assert(m->n_entries <= RAFT_MAX_MSG_ENTRIES);
	for (size_t i = 0; i < m->n_entries; i++) {
		const struct raft_entry *e = &m->entries[i];
		bool fits = r->uncommitted_bytes == 0 ||
		            r->uncommitted_bytes + e->len <= r->cfg.max_uncommitted_bytes;
		if (r->role == RAFT_LEADER && fits && e->origin == m->from &&
		    e->type == RAFT_ENTRY_NORMAL) {
			TRY(raft__leader_append(r, RAFT_ENTRY_NORMAL, e->origin, e->id, e->data,
			                        e->len));
			continue;
		}
		struct raft_message resp = {
		    .type = RAFT_MSG_PROPOSE_RESP, .to = m->from, .reject = true, .ctx = e->id};
		raft__send(r, &resp);
	}
	return NULL;
}
