/*
 * session.h — SQL sessions over a host: the non-blocking API a replicated node uses.
 *
 * A session executes statements against an MVCC store supplied by its host. The host
 * decides the two things that differ between an embedded database and a Raft node:
 *
 *   - the read version of a new transaction (`read_version`): embedded, the last applied
 *     version; a node, the ReadIndex read point it obtained (and applied up to) before
 *     asking the session to execute;
 *   - how a read-write transaction commits. Executing COMMIT, or an autocommitted
 *     statement that wrote something, does not commit: sql_session_step() returns
 *     SQL_STEP_COMMIT_PENDING and sql_session_pending_txn() gives the MVCC transaction,
 *     whose commit record (mvcc_txn_encode_commit) the host commits — embedded with
 *     mvcc_commit_local(), a node by proposing it through Raft and waiting until it is
 *     applied. The host then calls sql_session_commit_done() with the outcome, which
 *     produces the statement's result (COMMIT acknowledgement with the commit version,
 *     the row count of the autocommitted statement, or the serialization failure).
 *
 * Read-only transactions (SELECTs, BEGIN READ ONLY, or any transaction that wrote
 * nothing) never produce a commit record: they finish inside sql_session_step().
 *
 * A session is single-threaded like everything in a node; while a commit is pending it
 * accepts no other statement (ERR_INVALID).
 */
#ifndef CAIRN_SQL_SESSION_H
#define CAIRN_SQL_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sql/database.h"
#include "storage/mvcc.h"

struct sql_host {
	void *ctx;
	struct mvcc *store;
	/*
	 * The read version for a new transaction (see above). `validated_write` says the
	 * transaction is one autocommitted INSERT, UPDATE or DELETE: if it commits, commit
	 * validation proves everything it read still held at its commit, so a host may give
	 * it an older version than a read would need (if it writes nothing, it never reaches
	 * validation, and its result proves nothing about the latest state).
	 */
	err *(*read_version)(void *ctx, bool validated_write, uint64_t *version);
	/*
	 * Optional synchronous commit, used by sql_session_execute() (database.h). Hosts that
	 * commit asynchronously leave it NULL and drive sql_session_step() themselves.
	 */
	err *(*commit)(void *ctx, struct mvcc_txn *txn, struct mvcc_outcome *out);
};

/* Opens a session over `host` (copied; its store must outlive the session). */
err *sql_session_new(const struct sql_host *host, struct sql_session **out);

enum sql_step {
	SQL_STEP_DONE,           /* *out holds the statement's result */
	SQL_STEP_COMMIT_PENDING, /* commit sql_session_pending_txn(), then commit_done() */
};

/*
 * Executes the first statement of text[0..len) like sql_session_execute(), except that a
 * commit is left to the host. With SQL_STEP_DONE *out is filled in; with
 * SQL_STEP_COMMIT_PENDING *out is untouched and the result comes from commit_done().
 * When the host's read_version() fails, the statement's error is the result, and the
 * statement stays parsed: the next step over the same statement text (the host running
 * it again once it has a read point) does not parse it again.
 */
enum sql_step sql_session_step(struct sql_session *s, const char *text, size_t len,
                               struct sql_result *out, size_t *consumed);

/* The transaction awaiting commit, or NULL when none is pending. */
struct mvcc_txn *sql_session_pending_txn(struct sql_session *s);

/*
 * Completes a pending commit. `failure` (owned, may be NULL) means the host could not
 * learn the outcome (e.g. ERR_UNKNOWN_OUTCOME, ERR_UNAVAILABLE): the result is that
 * error. Otherwise `outcome` says whether the transaction committed (and at which index)
 * or why it aborted. The transaction is released either way; *out is the result.
 */
void sql_session_commit_done(struct sql_session *s, const struct mvcc_outcome *outcome,
                             err *failure, struct sql_result *out);

#endif
