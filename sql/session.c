/*
 * session.c — sessions: statement dispatch, transactions and results (session.h).
 *
 * Each statement is parsed into a fresh arena, then runs inside the session's open
 * transaction or, without BEGIN, a transaction of its own. Statements write into a
 * statement overlay (txn.h) that is moved into the MVCC transaction only when the
 * statement succeeds; a failed statement therefore leaves its transaction as it was. If
 * even that move fails (the transaction hit MVCC's size bounds), the transaction is
 * rolled back and the error says so.
 */
#include "sql/session.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sql/parser.h"
#include "sql/statement.h"

struct sql_session {
	struct sql_host host;
	struct mvcc_txn *txn; /* the open transaction: explicit, or an autocommit one pending */
	bool explicit_txn;
	bool read_only; /* the explicit transaction is READ ONLY (or AS OF a version) */
	bool pending;
	bool unoptimized;                  /* sql_session_set_optimizer(s, false) */
	struct sql_result pending_result;  /* reported once the pending commit completes */
	struct sql_arena arena;            /* the statement's; reset, not freed, after each */
	struct sql_catalog_cache *catalog; /* the schemas its statements decoded */
	/*
	 * A statement that could not begin its autocommit transaction (the host had no read
	 * version yet), kept parsed in `arena` with a copy of its text: a host runs such a
	 * statement again once it has a read version, and then it is not parsed twice.
	 */
	struct sql_stmt *kept;
	const char *kept_text;
	size_t kept_len;
	bool kept_to_end; /* it ran to the end of its text (no ';' ended it) */
};

err *sql_session_new(const struct sql_host *host, struct sql_session **out)
{
	assert(host && host->store && host->read_version);
	struct sql_session *s = calloc(1, sizeof *s);
	if (!s)
		return err_new(ERR_NOMEM, "out of memory for a session");
	s->host = *host;
	err *e = sql_catalog_cache_new(&s->catalog);
	if (e) {
		free(s);
		return e;
	}
	sql_arena_init(&s->arena, SQL_ARENA_DEFAULT_MAX_BYTES);
	*out = s;
	return NULL;
}

void sql_session_close(struct sql_session *s)
{
	if (!s)
		return;
	mvcc_txn_free(s->txn);
	sql_result_free(&s->pending_result);
	sql_arena_free(&s->arena);
	sql_catalog_cache_free(s->catalog);
	free(s);
}

void sql_session_set_optimizer(struct sql_session *s, bool enabled)
{
	s->unoptimized = !enabled;
}

bool sql_session_in_transaction(const struct sql_session *s)
{
	return s->explicit_txn;
}

struct mvcc_txn *sql_session_pending_txn(struct sql_session *s)
{
	return s->pending ? s->txn : NULL;
}

/* ---- results ---- */

void sql_result_free(struct sql_result *r)
{
	for (uint32_t i = 0; r->column_names && i < r->column_count; i++)
		free(r->column_names[i]);
	free(r->column_names);
	for (uint64_t i = 0; r->values && i < r->row_count * r->column_count; i++)
		sql_value_free(&r->values[i]);
	free(r->values);
	buf_free(&r->text);
	err_free(r->error);
	memset(r, 0, sizeof *r);
}

static void result_error(struct sql_result *out, err *e)
{
	sql_result_free(out);
	out->kind = SQL_RESULT_ERROR;
	out->error = e;
}

static void result_ack(struct sql_result *out, enum sql_ack ack, uint64_t version)
{
	memset(out, 0, sizeof *out);
	out->kind = SQL_RESULT_ACK;
	out->ack = ack;
	out->version = version;
}

/* Runs a query to completion into a rows result. */
static err *query_result(struct sql__stmt *st, const struct sql_plan *plan, struct sql_result *out)
{
	out->kind = SQL_RESULT_ROWS;
	out->column_count = plan->width;
	out->column_names = calloc(plan->width + 1, sizeof *out->column_names);
	if (!out->column_names)
		return err_new(ERR_NOMEM, "out of memory for a result");
	for (uint32_t i = 0; i < plan->width; i++) {
		const char *n = plan->names[i] ? plan->names[i] : "";
		out->column_names[i] = strdup(n);
		if (!out->column_names[i])
			return err_new(ERR_NOMEM, "out of memory for a result");
	}
	struct sql_rows rows;
	sql_rows_init(&rows, plan->width);
	err *e = sql_exec_collect(&st->exec, plan, NULL, &rows);
	if (!e && rows.count > SQL_RESULT_MAX_ROWS)
		e = err_new(ERR_LIMIT, "a result may hold at most %llu rows",
		            (unsigned long long)SQL_RESULT_MAX_ROWS);
	if (e) {
		sql_rows_free(&rows);
		return e;
	}
	/* hand the values over without copying */
	out->row_count = rows.count;
	out->values = rows.values;
	return NULL;
}

static err *explain(struct sql__stmt *st, const struct sql_stmt *inner, struct sql_result *out)
{
	struct sql_plan *plan = NULL;
	const struct sql_table *t = NULL;
	switch (inner->kind) {
	case SQL_STMT_SELECT: TRY(sql__plan_query(st, inner->select, &plan)); break;
	case SQL_STMT_INSERT:
		if (inner->insert.source != SQL_INSERT_SELECT)
			return err_new(ERR_INVALID, "EXPLAIN INSERT needs INSERT ... SELECT");
		TRY(sql__plan_query(st, inner->insert.select, &plan));
		break;
	case SQL_STMT_UPDATE:
	case SQL_STMT_DELETE: {
		const char *name =
		    inner->kind == SQL_STMT_UPDATE ? inner->update.table : inner->delete_.table;
		TRY(sql_catalog_read(st->txn, st->arena, name, &t));
		if (!t)
			return err_new(ERR_NOT_FOUND, "no such table: %s", name);
		TRY(sql__plan_target(st, t,
		                     inner->kind == SQL_STMT_UPDATE ? inner->update.where
		                                                    : inner->delete_.where,
		                     &plan));
		break;
	}
	default: return err_new(ERR_INVALID, "EXPLAIN shows plans of queries and DML only");
	}
	out->kind = SQL_RESULT_EXPLAIN;
	buf_init(&out->text, (size_t)16 << 20);
	TRY(sql_plan_explain(plan, &out->text));
	return buf_append(&out->text, "", 1);
}

/* Executes one data statement inside the transaction `st` wraps. */
static err *dispatch(struct sql__stmt *st, const struct sql_stmt *stmt, struct sql_result *out)
{
	memset(out, 0, sizeof *out);
	uint64_t count = 0;
	switch (stmt->kind) {
	case SQL_STMT_SELECT: {
		struct sql_plan *plan;
		TRY(sql__plan_query(st, stmt->select, &plan));
		return query_result(st, plan, out);
	}
	case SQL_STMT_EXPLAIN: return explain(st, stmt->explain, out);
	case SQL_STMT_INSERT:
	case SQL_STMT_UPDATE:
	case SQL_STMT_DELETE:
		out->kind = SQL_RESULT_COUNT;
		out->count_kind = stmt->kind == SQL_STMT_INSERT   ? SQL_COUNT_INSERT
		                  : stmt->kind == SQL_STMT_UPDATE ? SQL_COUNT_UPDATE
		                                                  : SQL_COUNT_DELETE;
		TRY(stmt->kind == SQL_STMT_INSERT   ? sql__insert(st, stmt, &count)
		    : stmt->kind == SQL_STMT_UPDATE ? sql__update(st, stmt, &count)
		                                    : sql__delete(st, stmt, &count));
		out->count = count;
		return NULL;
	case SQL_STMT_CREATE_TABLE:
		result_ack(out, SQL_ACK_CREATE_TABLE, 0);
		return sql__create_table(st, stmt);
	case SQL_STMT_DROP_TABLE:
		result_ack(out, SQL_ACK_DROP_TABLE, 0);
		return sql__drop_table(st, stmt);
	case SQL_STMT_CREATE_INDEX:
		result_ack(out, SQL_ACK_CREATE_INDEX, 0);
		return sql__create_index(st, stmt);
	case SQL_STMT_DROP_INDEX:
		result_ack(out, SQL_ACK_DROP_INDEX, 0);
		return sql__drop_index(st, stmt);
	default: return err_new(ERR_INTERNAL, "not a data statement");
	}
}

static bool writes(const struct sql_stmt *stmt)
{
	return stmt->kind != SQL_STMT_SELECT && stmt->kind != SQL_STMT_EXPLAIN;
}

/* Whether an autocommitted `stmt` is a write that commit validation covers (sql_host). */
static bool validated_write(const struct sql_stmt *stmt)
{
	return stmt->kind == SQL_STMT_INSERT || stmt->kind == SQL_STMT_UPDATE ||
	       stmt->kind == SQL_STMT_DELETE;
}

static err *begin_txn(struct sql_session *s, bool has_version, uint64_t version, bool read_only,
                      bool autocommit_write)
{
	if (!has_version)
		TRY(s->host.read_version(s->host.ctx, autocommit_write, &version));
	if (has_version && version > mvcc_applied_version(s->host.store)) {
		/*
		 * AS OF a version this replica has not applied: it may be committed already (a
		 * COMMIT answered on another node). A read point is at least every version
		 * committed before it was asked for; the host waits for one and runs the
		 * statement again, or refuses for a while (no leader).
		 */
		uint64_t latest;
		TRY(s->host.read_version(s->host.ctx, false, &latest));
		if (version > latest)
			return err_new(ERR_INVALID,
			               "version %llu is not committed yet (the latest is %llu)",
			               (unsigned long long)version, (unsigned long long)latest);
	}
	return mvcc_begin(s->host.store, version, read_only ? MVCC_READ_ONLY : 0, &s->txn);
}

static void end_txn(struct sql_session *s)
{
	mvcc_txn_free(s->txn);
	s->txn = NULL;
	s->explicit_txn = false;
	s->read_only = false;
}

/* Runs a parsed statement; *not_begun says its autocommit transaction could not begin. */
static enum sql_step run(struct sql_session *s, const struct sql_stmt *stmt,
                         struct sql_arena *arena, struct sql_result *out, bool *not_begun)
{
	assert(!s->pending);
	assert(s->txn || !s->explicit_txn);
	bool autocommit = !s->txn;
	err *e = NULL;
	*not_begun = false;
	if (autocommit) {
		e = begin_txn(s, false, 0, !writes(stmt), validated_write(stmt));
		*not_begun = e != NULL;
	} else if (writes(stmt) && s->read_only) {
		e = err_new(ERR_INVALID, "cannot write in a READ ONLY transaction");
	}
	if (e) {
		result_error(out, e);
		return SQL_STEP_DONE;
	}
	struct sql_txn overlay;
	sql_txn_init(&overlay, s->txn);
	sql_catalog_cache_next_statement(s->catalog); /* the tables of earlier ones may go */
	overlay.catalog_cache = s->catalog;
	struct sql__stmt st = {.arena = arena, .txn = &overlay, .unoptimized = s->unoptimized};
	st.planner = (struct sql_planner){arena, &overlay, 0};
	sql_exec_init(&st.exec, &overlay);
	e = dispatch(&st, stmt, out);
	sql_exec_free(&st.exec);
	bool tainted = false;
	if (!e) {
		e = sql_txn_flush(&overlay);
		tainted = e != NULL;
	} else {
		sql_txn_discard(&overlay);
	}
	if (e) {
		if (tainted && !autocommit)
			e = err_wrap(e, "the transaction was rolled back");
		if (tainted || autocommit)
			end_txn(s);
		result_error(out, e);
		return SQL_STEP_DONE;
	}
	if (!autocommit)
		return SQL_STEP_DONE;
	if (mvcc_txn_is_read_only(s->txn)) {
		end_txn(s);
		return SQL_STEP_DONE;
	}
	s->pending = true;
	s->pending_result = *out;
	memset(out, 0, sizeof *out);
	return SQL_STEP_COMMIT_PENDING;
}

/* ---- transaction control ---- */

static enum sql_step begin(struct sql_session *s, const struct sql_stmt *stmt,
                           struct sql_result *out)
{
	if (s->txn) {
		result_error(out, err_new(ERR_INVALID, "a transaction is already open"));
		return SQL_STEP_DONE;
	}
	/* reading an old version is read-only: a write there could never commit */
	if (stmt->begin.read_write && stmt->begin.has_as_of) {
		result_error(out,
		             err_new(ERR_INVALID, "a transaction AS OF SYSTEM TIME is read-only: "
		                                  "READ WRITE cannot go with it"));
		return SQL_STEP_DONE;
	}
	bool read_only = stmt->begin.read_only || stmt->begin.has_as_of;
	err *e = begin_txn(s, stmt->begin.has_as_of, stmt->begin.as_of, read_only, false);
	if (e) {
		result_error(out, e);
		return SQL_STEP_DONE;
	}
	s->explicit_txn = true;
	s->read_only = read_only;
	result_ack(out, SQL_ACK_BEGIN, mvcc_txn_read_version(s->txn));
	out->read_only = read_only;
	return SQL_STEP_DONE;
}

static enum sql_step commit(struct sql_session *s, struct sql_result *out)
{
	if (!s->txn) {
		result_error(out, err_new(ERR_INVALID, "no transaction is open"));
		return SQL_STEP_DONE;
	}
	uint64_t version = mvcc_txn_read_version(s->txn);
	if (mvcc_txn_is_read_only(s->txn)) {
		end_txn(s);
		result_ack(out, SQL_ACK_COMMIT, version);
		return SQL_STEP_DONE;
	}
	result_ack(&s->pending_result, SQL_ACK_COMMIT, version);
	s->pending = true;
	return SQL_STEP_COMMIT_PENDING;
}

static enum sql_step rollback(struct sql_session *s, struct sql_result *out)
{
	if (!s->txn) {
		result_error(out, err_new(ERR_INVALID, "no transaction is open"));
		return SQL_STEP_DONE;
	}
	uint64_t version = mvcc_txn_read_version(s->txn);
	end_txn(s);
	result_ack(out, SQL_ACK_ROLLBACK, version);
	return SQL_STEP_DONE;
}

/* ---- statements ---- */

enum sql_step sql_session_step(struct sql_session *s, const char *text, size_t len,
                               struct sql_result *out, size_t *consumed)
{
	memset(out, 0, sizeof *out);
	*consumed = len;
	if (s->pending) {
		result_error(out, err_new(ERR_INVALID, "a commit is pending"));
		return SQL_STEP_DONE;
	}
	struct sql_stmt *stmt = NULL;
	err *e = NULL;
	/* The same bytes up to its ';', or the same whole text, are the same statement. */
	if (s->kept && (s->kept_to_end ? len == s->kept_len : s->kept_len <= len) &&
	    memcmp(s->kept_text, text, s->kept_len) == 0) {
		stmt = s->kept; /* the statement that could not begin last time */
		*consumed = s->kept_len;
	} else {
		sql_arena_reset(&s->arena); /* drops a kept statement */
		struct sql_parser parser;
		sql_parser_init(&parser, text, len);
		e = sql_parse_next(&parser, &s->arena, &stmt);
		if (!e && stmt)
			*consumed = sql_parser_offset(&parser);
	}
	s->kept = NULL;
	enum sql_step step = SQL_STEP_DONE;
	bool not_begun = false;
	if (e) {
		result_error(out, e);
	} else if (stmt) {
		switch (stmt->kind) {
		case SQL_STMT_BEGIN: step = begin(s, stmt, out); break;
		case SQL_STMT_COMMIT: step = commit(s, out); break;
		case SQL_STMT_ROLLBACK: step = rollback(s, out); break;
		default: step = run(s, stmt, &s->arena, out, &not_begun);
		}
	}
	if (not_begun) {
		char *copy = sql_arena_alloc(&s->arena, *consumed);
		if (copy) {
			memcpy(copy, text, *consumed);
			s->kept = stmt;
			s->kept_text = copy;
			s->kept_len = *consumed;
			s->kept_to_end = *consumed == len;
			return step;
		}
	}
	sql_arena_reset(&s->arena);
	return step;
}

void sql_session_commit_done(struct sql_session *s, const struct mvcc_outcome *outcome,
                             err *failure, struct sql_result *out)
{
	assert(s->pending);
	memset(out, 0, sizeof *out);
	if (failure) {
		sql_result_free(&s->pending_result);
		result_error(out, failure);
	} else if (!outcome->committed) {
		sql_result_free(&s->pending_result);
		if (outcome->code == ERR_CONFLICT)
			result_error(
			    out, err_new(ERR_CONFLICT, "serialization failure, retry transaction"));
		else
			result_error(out, err_new(outcome->code ? outcome->code : ERR_INTERNAL,
			                          "%s", outcome->message));
	} else {
		*out = s->pending_result;
		if (out->kind == SQL_RESULT_ACK && out->ack == SQL_ACK_COMMIT)
			out->version = outcome->index;
	}
	memset(&s->pending_result, 0, sizeof s->pending_result);
	s->pending = false;
	end_txn(s);
}

void sql_session_execute(struct sql_session *s, const char *text, size_t len,
                         struct sql_result *out, size_t *consumed)
{
	if (sql_session_step(s, text, len, out, consumed) == SQL_STEP_DONE)
		return;
	struct mvcc_outcome outcome;
	memset(&outcome, 0, sizeof outcome);
	err *e = s->host.commit ? s->host.commit(s->host.ctx, s->txn, &outcome)
	                        : err_new(ERR_INVALID, "this session commits through its host");
	sql_session_commit_done(s, e ? NULL : &outcome, e, out);
}

/* ---- catalog views ---- */

/*
 * Prepares to read the catalog: through the open transaction, or a fresh read-only one
 * returned in *fresh (to be freed by the caller).
 */
static err *with_catalog(struct sql_session *s, struct sql_arena *arena, struct sql_txn *t,
                         struct mvcc_txn **fresh)
{
	*fresh = NULL;
	if (s->pending)
		return err_new(ERR_INVALID, "a commit is pending");
	struct mvcc_txn *m = s->txn;
	if (!m) {
		uint64_t version;
		TRY(s->host.read_version(s->host.ctx, false, &version));
		TRY(mvcc_begin(s->host.store, version, MVCC_READ_ONLY, fresh));
		m = *fresh;
	}
	sql_arena_init(arena, SQL_ARENA_DEFAULT_MAX_BYTES);
	sql_txn_init(t, m);
	return NULL;
}

err *sql_session_tables(struct sql_session *s, struct sql_names *out)
{
	memset(out, 0, sizeof *out);
	struct sql_arena arena;
	struct sql_txn t;
	struct mvcc_txn *fresh;
	TRY(with_catalog(s, &arena, &t, &fresh));
	struct sql_table **all;
	uint32_t n = 0;
	err *e = sql_catalog_list(&t, &arena, &all, &n);
	if (!e && n) {
		out->names = calloc(n, sizeof *out->names);
		if (!out->names)
			e = err_new(ERR_NOMEM, "out of memory listing tables");
	}
	for (uint32_t i = 0; !e && i < n; i++) {
		out->names[i] = strdup(all[i]->name);
		if (!out->names[i])
			e = err_new(ERR_NOMEM, "out of memory listing tables");
		else
			out->count++;
	}
	sql_arena_free(&arena);
	mvcc_txn_free(fresh);
	if (e)
		sql_names_free(out);
	return e;
}

void sql_names_free(struct sql_names *names)
{
	for (size_t i = 0; i < names->count; i++)
		free(names->names[i]);
	free(names->names);
	memset(names, 0, sizeof *names);
}

err *sql_session_describe_table(struct sql_session *s, const char *name, struct buf *create_sql)
{
	struct sql_arena arena;
	struct sql_txn t;
	struct mvcc_txn *fresh;
	TRY(with_catalog(s, &arena, &t, &fresh));
	struct sql_table *table = NULL;
	err *e = sql_catalog_get(&t, &arena, name, &table);
	if (!e && !table)
		e = err_new(ERR_NOT_FOUND, "no such table: %s", name);
	if (!e)
		e = sql_table_describe(table, create_sql);
	sql_arena_free(&arena);
	mvcc_txn_free(fresh);
	return e;
}
