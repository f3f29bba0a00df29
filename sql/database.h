/*
 * database.h — the SQL engine's public API: databases, sessions, statements, results.
 *
 * An embedded database is one MVCC store on one KV engine: a B+-tree file in a directory
 * (through the posix vfs) or the memory engine for ":memory:". Clients talk to it through
 * sessions. A session executes SQL text one statement at a time and holds at most one open
 * transaction; outside an explicit BEGIN each statement runs in its own transaction
 * (autocommit).
 *
 *     struct sql_db *db;
 *     struct sql_session *s;
 *     err *e = sql_db_open(":memory:", &db);          // or a directory path
 *     e = sql_session_open(db, &s);
 *     size_t at = 0;
 *     while (at < len) {
 *             struct sql_result r;
 *             size_t used;
 *             sql_session_execute(s, text + at, len - at, &r, &used);
 *             at += used;
 *             if (r.kind == SQL_RESULT_NONE) break;   // only blanks/comments were left
 *             ... print r ...
 *             sql_result_free(&r);
 *     }
 *     sql_session_close(s);
 *     sql_db_close(db);
 *
 * The same session code runs inside a replicated node, where beginning a transaction and
 * committing one go through Raft; sql/session.h is that lower-level, non-blocking API.
 * sql_session_execute() below is its synchronous form: for an embedded database it commits
 * locally before returning.
 *
 * Results are fully materialised and owned by the caller (release with sql_result_free()).
 * A statement that fails leaves the session's transaction as it was before the statement.
 */
#ifndef CAIRN_SQL_DATABASE_H
#define CAIRN_SQL_DATABASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "sql/value.h"

struct sql_db;
struct sql_session;

/* A query result may hold at most this many rows; more is an ERR_LIMIT error. */
#define SQL_RESULT_MAX_ROWS ((uint64_t)4 << 20)

enum sql_result_kind {
	SQL_RESULT_NONE = 0, /* the text held no statement (only blanks and comments) */
	SQL_RESULT_ROWS,     /* a query: column names and rows */
	SQL_RESULT_COUNT,    /* INSERT / UPDATE / DELETE: the number of rows affected */
	SQL_RESULT_ACK,      /* DDL and transaction control: see `ack` */
	SQL_RESULT_EXPLAIN,  /* EXPLAIN: the optimized plan as an indented tree in `text` */
	SQL_RESULT_ERROR,    /* the statement failed: see `error` */
};

enum sql_ack {
	SQL_ACK_CREATE_TABLE = 1,
	SQL_ACK_DROP_TABLE,
	SQL_ACK_CREATE_INDEX,
	SQL_ACK_DROP_INDEX,
	SQL_ACK_BEGIN,    /* `version` is the transaction's read version */
	SQL_ACK_COMMIT,   /* `version` is the commit version (the read version if read-only) */
	SQL_ACK_ROLLBACK, /* `version` is the read version of the abandoned transaction */
};

enum sql_count_kind { SQL_COUNT_INSERT = 1, SQL_COUNT_UPDATE, SQL_COUNT_DELETE };

struct sql_result {
	enum sql_result_kind kind;

	/* SQL_RESULT_ROWS: row i, column j is values[i * column_count + j]. */
	uint32_t column_count;
	char **column_names; /* column_count NUL-terminated names */
	uint64_t row_count;
	struct sql_value *values;

	/* SQL_RESULT_COUNT */
	enum sql_count_kind count_kind;
	uint64_t count;

	/* SQL_RESULT_ACK */
	enum sql_ack ack;
	uint64_t version;
	bool read_only; /* BEGIN: the transaction is read-only */

	/* SQL_RESULT_EXPLAIN: NUL-terminated text, one plan node per line */
	struct buf text;

	/* SQL_RESULT_ERROR: the error (owned by the result); its code says what kind */
	err *error;
};

/* Releases everything a result owns and zeroes it; a zeroed result may be freed too. */
void sql_result_free(struct sql_result *r);

/* The values of row `row` (row < r->row_count). */
static inline const struct sql_value *sql_result_row(const struct sql_result *r, uint64_t row)
{
	return &r->values[row * r->column_count];
}

/* ---- databases ---- */

/*
 * Opens the database in directory `path` (created if missing; the data lives in
 * `path`/cairn.db), or a fresh in-memory database when path is ":memory:".
 */
err *sql_db_open(const char *path, struct sql_db **out);

/* Closes the database; every session must be closed first. NULL is allowed. */
void sql_db_close(struct sql_db *db);

/* ---- sessions ---- */

err *sql_session_open(struct sql_db *db, struct sql_session **out);

/* Closes a session, rolling back its open transaction if any. NULL is allowed. */
void sql_session_close(struct sql_session *s);

/*
 * Executes the first statement of text[0..len) and reports its result in *out (always
 * filled in, to be released with sql_result_free()). *consumed is the number of bytes of
 * text the statement took, including its terminating ';'. When the text holds no
 * statement, out->kind is SQL_RESULT_NONE and *consumed is len. After a syntax error the
 * rest of the text is consumed (the statement boundary cannot be trusted).
 *
 * Errors are results, not return values: a constraint violation is an SQL_RESULT_ERROR
 * with code ERR_CONSTRAINT, a serialization failure one with ERR_CONFLICT and the message
 * "serialization failure, retry transaction" (the transaction is then rolled back).
 */
void sql_session_execute(struct sql_session *s, const char *text, size_t len,
                         struct sql_result *out, size_t *consumed);

/*
 * Turns the optimizer on (the default) or off for the session's later statements. Off,
 * every query, UPDATE and DELETE runs the plan the planner built, with no rule of
 * optimizer.h applied: full scans, nested loop joins, filters where the query wrote them,
 * full sorts under LIMIT. Results are the same either way (tests/sql/test_equivalence.c
 * checks it); EXPLAIN shows the plan that would run.
 */
void sql_session_set_optimizer(struct sql_session *s, bool enabled);

/* True when an explicit transaction (BEGIN ...) is open, e.g. for the REPL prompt. */
bool sql_session_in_transaction(const struct sql_session *s);

/* Table names in name order, as seen by the session (its open transaction, if any). */
struct sql_names {
	char **names;
	size_t count;
};
err *sql_session_tables(struct sql_session *s, struct sql_names *out);
void sql_names_free(struct sql_names *names);

/*
 * Appends to `create_sql` a CREATE TABLE statement (and CREATE INDEX statements, one per
 * line) that would recreate table `name`'s schema. ERR_NOT_FOUND if there is no such table.
 */
err *sql_session_describe_table(struct sql_session *s, const char *name, struct buf *create_sql);

#endif
