/*
 * node_session.c — a client's SQL session on a node: statements that wait for read
 * points and commits that wait for Raft.
 *
 * A session runs the statements of a submitted text one at a time through the SQL
 * engine's non-blocking session (sql/session.h), whose host is the node:
 *
 *   - When the engine begins a transaction it asks the host for a read version. If the
 *     session has no fresh read point, the host refuses, the statement's result is
 *     discarded (nothing happened yet: beginning is the first thing a statement does), and
 *     the session asks Raft for a ReadIndex. Once Raft answers and the replica has applied
 *     that far, the same statement runs again and gets the applied version, which is at
 *     least the read point. A read point serves one transaction only.
 *   - When the engine has a transaction to commit, the session proposes its commit record
 *     and waits until this node applies the entry (or Raft reports the proposal failed).
 *
 * An autocommit INSERT, UPDATE or DELETE skips the ReadIndex round: it begins at the
 * local applied version, however stale. That is safe because MVCC validates a
 * read-write transaction's whole read set against every commit between its read version
 * and its own log index: if the transaction commits, everything it read still held at
 * its commit point, so its result is the one it would have had there — a point inside
 * the statement's real-time interval, since the entry is proposed after the statement
 * arrived and the reply waits for it to be applied. Three cases need care, and each
 * falls back to the ReadIndex path (running the statement again: an autocommit statement
 * that did not commit had no effect):
 *   - the statement wrote nothing (an UPDATE matching no row, a failed INSERT): it never
 *     reaches validation, so its result from a stale snapshot proves nothing;
 *   - validation failed (ERR_CONFLICT): the conflict may be the stale snapshot's doing,
 *     and a client of the ReadIndex path would not have seen it;
 *   - the snapshot was older than MVCC's validation history (ERR_UNKNOWN_OUTCOME): with
 *     a single proposal of the record, that first application decided "not committed".
 * A replica whose applied version lags its known commit index by more than
 * NODE_STALE_LAG_MAX entries takes the ReadIndex path from the start. Reads and explicit
 * transactions always take it: a read has no commit point to validate at.
 *
 * Every wait is bounded by NODE_WAIT_TICKS_MAX ticks; a refused proposal is retried on
 * the next tick, and a proposal whose fate is unknown is proposed again with the same
 * record up to NODE_COMMIT_ATTEMPTS times. MVCC applies a transaction id at most once, so
 * whichever copy is applied first decides and the rest are remembered duplicates.
 */
#include "node/internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Statements one text may hold before the session yields to other work. */
#define NODE_STATEMENTS_PER_RUN 4096
/*
 * How far the applied version may lag the known commit index for a statement to begin
 * without a read point: far less than MVCC's validation history, so such a record is
 * practically never too old to validate.
 */
#define NODE_STALE_LAG_MAX 1024

/* Whether this replica is close enough to its known commit index to begin stale writes. */
static bool node__nearly_caught_up(struct node *n)
{
	struct raft_status st;
	raft_status_get(n->raft, &st);
	return st.leader != 0 && mvcc_applied_version(n->mvcc) + NODE_STALE_LAG_MAX >= st.commit;
}

static err *node__host_read_version(void *ctx, bool validated_write, uint64_t *version)
{
	struct node_session *s = ctx;
	if (!s->read_point_ready && validated_write && !s->stale_refused &&
	    node__nearly_caught_up(s->node)) {
		s->began_stale = true;
		*version = mvcc_applied_version(s->node->mvcc);
		return NULL;
	}
	if (!s->read_point_ready) {
		s->read_point_asked = true;
		return err_new(ERR_UNAVAILABLE, "no read point yet");
	}
	s->read_point_ready = false; /* one transaction per read point */
	*version = mvcc_applied_version(s->node->mvcc);
	assert(*version >= s->read_index);
	return NULL;
}

err *node_session_open(struct node *n, node_reply_fn reply, void *ctx, struct node_session **out)
{
	*out = NULL;
	if (n->n_sessions >= NODE_SESSIONS_MAX)
		return err_new(ERR_LIMIT, "node: too many sessions (%d)", NODE_SESSIONS_MAX);
	struct node_session *s = calloc(1, sizeof *s);
	if (!s)
		return err_new(ERR_NOMEM, "node: out of memory");
	s->node = n;
	s->reply = reply;
	s->reply_ctx = ctx;
	buf_init(&s->record, MVCC_RECORD_MAX_BYTES);
	struct sql_host host = {
	    .ctx = s,
	    .store = n->mvcc,
	    .read_version = node__host_read_version,
	    .commit = NULL,
	};
	err *e = sql_session_new(&host, &s->sql);
	if (e) {
		buf_free(&s->record);
		free(s);
		return e;
	}
	n->sessions[n->n_sessions++] = s;
	*out = s;
	return NULL;
}

void node_session_close(struct node_session *s)
{
	if (!s)
		return;
	struct node *n = s->node;
	assert(!n->in_reply);
	for (uint32_t i = 0; i < n->n_sessions; i++) {
		if (n->sessions[i] == s) {
			n->sessions[i] = n->sessions[--n->n_sessions];
			break;
		}
	}
	if (s->wait == NODE_WAIT_COMMIT || s->wait == NODE_WAIT_COMMIT_RETRY) {
		struct sql_result dropped;
		sql_session_commit_done(s->sql, NULL,
		                        err_new(ERR_UNKNOWN_OUTCOME, "session closed"), &dropped);
		sql_result_free(&dropped);
	}
	if (s->holding)
		sql_result_free(&s->held);
	sql_session_close(s->sql);
	buf_free(&s->record);
	free(s->text);
	free(s);
}

bool node_session_in_transaction(const struct node_session *s)
{
	return sql_session_in_transaction(s->sql);
}

/* Reads outside a transaction use the applied state: give the host a read point. */
err *node_session_tables(struct node_session *s, struct sql_names *out)
{
	if (s->busy)
		return err_new(ERR_INVALID, "session is executing a statement");
	s->read_point_ready = true;
	s->read_index = 0;
	err *e = sql_session_tables(s->sql, out);
	s->read_point_ready = false;
	return e;
}

err *node_session_describe_table(struct node_session *s, const char *name, struct buf *out)
{
	if (s->busy)
		return err_new(ERR_INVALID, "session is executing a statement");
	s->read_point_ready = true;
	s->read_index = 0;
	err *e = sql_session_describe_table(s->sql, name, out);
	s->read_point_ready = false;
	return e;
}

/* ---- results ---- */

/* Passes on the held result (not the last one) and holds `r` in its place. */
static void node__reply(struct node_session *s, struct sql_result *r, bool last)
{
	struct node *n = s->node;
	assert(!n->in_reply);
	n->in_reply = true;
	s->reply(s->reply_ctx, r, last);
	n->in_reply = false;
}

static void node__session_result(struct node_session *s, struct sql_result *r)
{
	if (s->holding)
		node__reply(s, &s->held, false);
	s->held = *r;
	s->holding = true;
	memset(r, 0, sizeof *r);
}

/* The text is done: the held result is the last one. */
static void node__session_finish(struct node_session *s)
{
	assert(s->busy);
	s->busy = false;
	s->wait = NODE_WAIT_NONE;
	free(s->text);
	s->text = NULL;
	if (!s->holding)
		memset(&s->held, 0, sizeof s->held); /* SQL_RESULT_NONE */
	s->holding = false;
	node__reply(s, &s->held, true);
}

/* Ends the current statement with an error and abandons the rest of the text. */
static void node__session_fail(struct node_session *s, err *e)
{
	struct sql_result r;
	memset(&r, 0, sizeof r);
	if (s->wait == NODE_WAIT_COMMIT || s->wait == NODE_WAIT_COMMIT_RETRY) {
		if (err_is(e, ERR_UNKNOWN_OUTCOME))
			s->node->commits_unknown++;
		sql_session_commit_done(s->sql, NULL, e, &r);
	} else {
		r.kind = SQL_RESULT_ERROR;
		r.error = e;
	}
	s->wait = NODE_WAIT_NONE;
	node__session_result(s, &r);
	node__session_finish(s);
}

/* ---- asking Raft ---- */

/*
 * Joins the node's shared read request, opening one if none is open. The request goes to
 * Raft only when the next ready loop starts, after every session in it asked, so its read
 * point is at least the commit index at the time each of their statements began: sharing
 * it keeps every one of them linearizable.
 */
static void node__ask_read_point(struct node_session *s)
{
	struct node *n = s->node;
	assert(!n->in_ready);
	if (!n->read_batch_open) {
		n->read_batch_id = node__request_id(n);
		n->read_batch_open = true;
	}
	s->read_id = n->read_batch_id;
	s->wait = NODE_WAIT_READ;
}

/* Every session waiting on read request `id` moves to `wait` (answered or failed). */
static void node__read_requests_end(struct node *n, uint64_t id, uint64_t index,
                                    enum node__wait wait)
{
	for (uint32_t i = 0; i < n->n_sessions; i++) {
		struct node_session *s = n->sessions[i];
		if (s->wait == NODE_WAIT_READ && s->read_id == id) {
			s->read_index = index;
			s->wait = wait;
		}
	}
}

void node__read_batch_issue(struct node *n)
{
	assert(!n->in_ready);
	if (!n->read_batch_open)
		return;
	n->read_batch_open = false;
	err *e = raft_read_index(n->raft, n->read_batch_id);
	if (e) /* asked again at the next tick */
		node__read_requests_end(n, n->read_batch_id, 0, NODE_WAIT_READ_RETRY);
	err_free(e);
}

static void node__propose(struct node_session *s)
{
	struct node *n = s->node;
	assert(!n->in_ready);
	assert(s->attempts < NODE_COMMIT_ATTEMPTS);
	uint64_t id = node__request_id(n);
	err *e = raft_propose(n->raft, id, s->record.data, s->record.len);
	if (e) {
		/* not proposed at all: try again at the next tick */
		s->wait = NODE_WAIT_COMMIT_RETRY;
		err_free(e);
		return;
	}
	s->attempt_ids[s->attempts++] = id;
	s->wait = NODE_WAIT_COMMIT;
}

/* The engine has a transaction to commit: encode its record and propose it. */
static void node__start_commit(struct node_session *s)
{
	struct mvcc_txn *txn = sql_session_pending_txn(s->sql);
	assert(txn);
	buf_clear(&s->record);
	err *e = mvcc_txn_encode_commit(txn, &s->record);
	if (!e && s->record.len > RAFT_MAX_ENTRY_BYTES) /* Raft would refuse it at every try */
		e = err_new(ERR_LIMIT,
		            "transaction too large to commit: its record of %zu bytes exceeds the "
		            "%zu bytes of one log entry; change fewer rows per transaction",
		            s->record.len, (size_t)RAFT_MAX_ENTRY_BYTES);
	s->attempts = 0;
	s->outcome_ready = false;
	s->wait_ticks = 0;
	s->wait = NODE_WAIT_COMMIT;
	if (e) {
		node__session_fail(s, e);
		return;
	}
	node__propose(s);
}

/* ---- running statements ---- */

/* Runs the statement at stmt_pos again, this time after a ReadIndex round. */
static void node__read_point_again(struct node_session *s)
{
	s->pos = s->stmt_pos;
	s->stale_refused = true;
	s->began_stale = false;
	s->wait_ticks = 0;
	node__ask_read_point(s);
}

/* Executes statements until one must wait or the text is done. */
static void node__session_run(struct node_session *s)
{
	for (int i = 0; i < NODE_STATEMENTS_PER_RUN && s->busy && s->wait == NODE_WAIT_NONE; i++) {
		if (s->pos >= s->len) {
			node__session_finish(s);
			return;
		}
		struct sql_result r;
		size_t consumed = 0;
		s->read_point_asked = false;
		s->began_stale = false;
		if (s->stmt_pos != s->pos) {
			s->stmt_pos = s->pos;
			s->stale_refused = false;
		}
		enum sql_step step =
		    sql_session_step(s->sql, s->text + s->pos, s->len - s->pos, &r, &consumed);
		bool no_begin = s->read_point_asked && r.kind == SQL_RESULT_ERROR;
		if (step == SQL_STEP_DONE && (s->began_stale || no_begin)) {
			/*
			 * It could not begin, or began stale and ended unvalidated: get a read
			 * point and run the same statement again.
			 */
			sql_result_free(&r);
			node__read_point_again(s);
			return;
		}
		assert(consumed <= s->len - s->pos);
		s->pos += consumed;
		if (step == SQL_STEP_COMMIT_PENDING) {
			node__start_commit(s);
			return;
		}
		if (r.kind == SQL_RESULT_NONE) {
			sql_result_free(&r);
			s->pos = s->len;
			continue;
		}
		node__session_result(s, &r);
	}
}

err *node_session_submit(struct node_session *s, const char *text, size_t len)
{
	assert(!s->node->in_reply);
	TRY(node__check(s->node));
	if (s->busy)
		return err_new(ERR_INVALID, "session is still executing a statement");
	if (len > NODE_TEXT_MAX)
		return err_new(ERR_LIMIT, "statement text of %zu bytes exceeds %zu bytes", len,
		               NODE_TEXT_MAX);
	char *copy = malloc(len ? len : 1);
	if (!copy)
		return err_new(ERR_NOMEM, "node: out of memory");
	memcpy(copy, text, len);
	s->text = copy;
	s->len = len;
	s->pos = 0;
	s->stmt_pos = SIZE_MAX; /* no statement started yet */
	s->busy = true;
	s->wait = NODE_WAIT_NONE;
	s->holding = false;
	node__session_run(s);
	return node__schedule(s->node);
}

/* ---- events from the ready loop ---- */

static struct node_session *node__session_by_attempt(struct node *n, uint64_t id)
{
	for (uint32_t i = 0; i < n->n_sessions; i++) {
		struct node_session *s = n->sessions[i];
		if (s->wait != NODE_WAIT_COMMIT && s->wait != NODE_WAIT_COMMIT_RETRY)
			continue;
		for (uint32_t a = 0; a < s->attempts; a++)
			if (s->attempt_ids[a] == id)
				return s;
	}
	return NULL;
}

void node__read_ready(struct node *n, uint64_t id, uint64_t index)
{
	/* Sessions that timed out or closed meanwhile are simply not found. */
	node__read_requests_end(n, id, index, NODE_WAIT_APPLY);
}

void node__request_failed(struct node *n, uint64_t id, uint8_t kind)
{
	if (kind == RAFT_FAIL_READ) {
		node__read_requests_end(n, id, 0, NODE_WAIT_READ_RETRY);
		return;
	}
	struct node_session *s = node__session_by_attempt(n, id);
	if (!s || s->outcome_ready)
		return;
	/* Not proposed, or maybe lost: either way the same record goes out again. */
	s->wait = NODE_WAIT_COMMIT_RETRY;
}

void node__commit_applied(struct node *n, uint64_t id, const struct mvcc_outcome *outcome)
{
	struct node_session *s = node__session_by_attempt(n, id);
	if (!s || s->outcome_ready)
		return;
	s->outcome = *outcome;
	s->outcome_ready = true;
}

/*
 * Whether a statement that began stale was aborted in a way that proves it did not commit
 * and that a read point may avoid (see the top of the file): then it runs again.
 */
static bool node__stale_abort(const struct node_session *s)
{
	if (s->outcome.committed)
		return false;
	if (s->outcome.code == ERR_CONFLICT)
		return true;
	return s->outcome.code == ERR_UNKNOWN_OUTCOME && !s->outcome.duplicate && s->attempts == 1;
}

/* Delivers a decided commit to the engine, which produces the statement's result. */
static void node__complete_commit(struct node_session *s)
{
	struct node *n = s->node;
	struct sql_result r;
	err *failure = NULL;
	bool again = s->began_stale && node__stale_abort(s);
	if (s->outcome.committed)
		n->commits_ok++;
	else if (s->outcome.code == ERR_UNKNOWN_OUTCOME && !again)
		n->commits_unknown++;
	else
		n->commits_aborted++;
	sql_session_commit_done(s->sql, &s->outcome, failure, &r);
	s->wait = NODE_WAIT_NONE;
	s->outcome_ready = false;
	if (again) {
		sql_result_free(&r);
		node__read_point_again(s);
		return;
	}
	node__session_result(s, &r);
}

void node__sessions_answer(struct node *n)
{
	/* Sessions may close themselves through their reply callbacks: walk a snapshot. */
	struct node_session *done[NODE_SESSIONS_MAX];
	uint32_t count = 0;
	for (uint32_t i = 0; i < n->n_sessions; i++) {
		struct node_session *s = n->sessions[i];
		bool decided = (s->wait == NODE_WAIT_COMMIT || s->wait == NODE_WAIT_COMMIT_RETRY) &&
		               s->outcome_ready;
		if (decided && s->pos >= s->len && !(s->began_stale && node__stale_abort(s)))
			done[count++] = s;
	}
	for (uint32_t i = 0; i < count; i++) {
		node__complete_commit(done[i]);
		node__session_finish(done[i]);
	}
}

void node__sessions_resume(struct node *n)
{
	assert(!n->in_ready);
	uint64_t applied = mvcc_applied_version(n->mvcc);
	/* Sessions may close themselves through their reply callbacks: walk a snapshot. */
	struct node_session *ready[NODE_SESSIONS_MAX];
	uint32_t count = 0;
	for (uint32_t i = 0; i < n->n_sessions; i++) {
		struct node_session *s = n->sessions[i];
		bool commit_done =
		    (s->wait == NODE_WAIT_COMMIT || s->wait == NODE_WAIT_COMMIT_RETRY) &&
		    s->outcome_ready;
		if ((s->wait == NODE_WAIT_APPLY && applied >= s->read_index) || commit_done)
			ready[count++] = s;
	}
	for (uint32_t i = 0; i < count; i++) {
		struct node_session *s = ready[i];
		if (s->wait == NODE_WAIT_APPLY) {
			s->wait = NODE_WAIT_NONE;
			s->read_point_ready = true;
		} else {
			node__complete_commit(s);
		}
		node__session_run(s);
	}
}

void node__sessions_tick(struct node *n)
{
	assert(!n->in_ready);
	struct node_session *waiting[NODE_SESSIONS_MAX];
	uint32_t count = 0;
	for (uint32_t i = 0; i < n->n_sessions; i++)
		if (n->sessions[i]->wait != NODE_WAIT_NONE)
			waiting[count++] = n->sessions[i];
	for (uint32_t i = 0; i < count; i++) {
		struct node_session *s = waiting[i];
		bool committing = s->wait == NODE_WAIT_COMMIT || s->wait == NODE_WAIT_COMMIT_RETRY;
		if (++s->wait_ticks > NODE_WAIT_TICKS_MAX && !s->outcome_ready) {
			node__session_fail(
			    s, committing ? err_new(ERR_UNKNOWN_OUTCOME,
			                            "commit outcome unknown: no answer from the "
			                            "cluster in time")
			                  : err_new(ERR_UNAVAILABLE,
			                            "no leader: could not obtain a read point"));
		} else if (s->wait == NODE_WAIT_READ_RETRY) {
			node__ask_read_point(s);
		} else if (s->wait == NODE_WAIT_COMMIT_RETRY && !s->outcome_ready) {
			if (s->attempts < NODE_COMMIT_ATTEMPTS)
				node__propose(s);
			else
				node__session_fail(
				    s, err_new(ERR_UNKNOWN_OUTCOME,
				               "commit outcome unknown after %d attempts",
				               NODE_COMMIT_ATTEMPTS));
		}
	}
}
