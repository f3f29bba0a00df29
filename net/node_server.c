/*
 * node_server.c — client sessions of a node over the SQL port (see node_server.h).
 *
 * Each connection has a `struct net__ns_session`: its node session, the text of the
 * EXECUTE request in flight with the position of the next statement, and the result to
 * answer with. The node calls net__ns_reply() with each statement's result; once the
 * statement is done a deferred callback either submits the next statement or answers.
 */
#include "net/node_server.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/sql_split.h"

#ifndef CAIRN_VERSION
#error "CAIRN_VERSION must be defined by the build"
#endif

struct net_node_server {
	struct net_loop *loop;
	struct node *node; /* NULL once detached */
	struct net_server *server;
};

struct net__ns_session {
	struct net_node_server *ns;
	struct net_session *session;
	struct node_session *node_session;
	struct net_defer defer; /* continues the request outside node callbacks */
	bool executing;         /* an EXECUTE request is in flight */
	char *text;             /* its text (a copy) */
	size_t len;
	size_t pos;               /* where the next statement starts */
	struct sql_result result; /* what the request answers so far (kind NONE: nothing yet) */
	bool failed;              /* result is an error: the rest of the text is abandoned */
};

/* ---- results to responses ---- */

static const char *net__ack_name(enum sql_ack ack)
{
	switch (ack) {
	case SQL_ACK_CREATE_TABLE: return "CREATE TABLE";
	case SQL_ACK_DROP_TABLE: return "DROP TABLE";
	case SQL_ACK_CREATE_INDEX: return "CREATE INDEX";
	case SQL_ACK_DROP_INDEX: return "DROP INDEX";
	case SQL_ACK_BEGIN: return "BEGIN";
	case SQL_ACK_COMMIT: return "COMMIT";
	case SQL_ACK_ROLLBACK: return "ROLLBACK";
	}
	return "?";
}

static struct net_value net__value(const struct sql_value *v)
{
	switch (v->type) {
	case SQL_NULL: break;
	case SQL_BOOL: return (struct net_value){.type = NET_VALUE_BOOLEAN, .as.boolean = v->u.b};
	case SQL_INT: return (struct net_value){.type = NET_VALUE_INTEGER, .as.integer = v->u.i};
	case SQL_FLOAT: return (struct net_value){.type = NET_VALUE_FLOAT, .as.real = v->u.f};
	case SQL_TEXT:
		return (struct net_value){.type = NET_VALUE_TEXT,
		                          .as.text = {(const uint8_t *)v->u.s.ptr, v->u.s.len}};
	}
	return (struct net_value){.type = NET_VALUE_NULL};
}

static void net__reply_error(struct net_session *session, enum err_code code, const char *msg)
{
	struct net_response resp = net_response_error(code, msg);
	net_session_reply(session, &resp);
}

/* Answers with a result set: its arrays point into `r`, which outlives the reply. */
static void net__reply_rows(struct net_session *session, const struct sql_result *r)
{
	uint64_t values = r->row_count * r->column_count;
	if (r->column_count > NET_PROTOCOL_MAX_COLUMNS || values > NET_PROTOCOL_MAX_VALUES) {
		char message[128];
		snprintf(
		    message, sizeof message,
		    "result too large to send: at most %d columns and %zu values (use LIMIT, or "
		    "fewer columns)",
		    NET_PROTOCOL_MAX_COLUMNS, NET_PROTOCOL_MAX_VALUES);
		net__reply_error(session, ERR_LIMIT, message);
		return;
	}
	struct net_response resp = {
	    .kind = NET_RESP_ROWS, .column_count = r->column_count, .row_count = r->row_count};
	resp.columns = calloc(r->column_count ? r->column_count : 1, sizeof *resp.columns);
	resp.values = calloc(values ? values : 1, sizeof *resp.values);
	if (!resp.columns || !resp.values) {
		net__reply_error(session, ERR_NOMEM, "out of memory sending a result");
	} else {
		for (uint32_t c = 0; c < r->column_count; c++)
			resp.columns[c] = (struct slice){(const uint8_t *)r->column_names[c],
			                                 strlen(r->column_names[c])};
		for (uint64_t i = 0; i < values; i++)
			resp.values[i] = net__value(&r->values[i]);
		net_session_reply(session, &resp);
	}
	free(resp.columns);
	free(resp.values);
}

/* Answers with an EXPLAIN plan: one column "plan", one row per line. */
static void net__reply_plan(struct net_session *session, const struct sql_result *r)
{
	const char *text = r->text.len ? (const char *)r->text.data : "";
	size_t len = strnlen(text, r->text.len);
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n' || i + 1 == len;
	if (lines > NET_PROTOCOL_MAX_VALUES) {
		net__reply_error(session, ERR_LIMIT, "the plan is too large to send");
		return;
	}
	struct slice column = {(const uint8_t *)"plan", 4};
	struct net_response resp = {.kind = NET_RESP_ROWS, .columns = &column, .column_count = 1};
	resp.values = calloc(lines ? lines : 1, sizeof *resp.values);
	if (!resp.values) {
		net__reply_error(session, ERR_NOMEM, "out of memory sending a plan");
		return;
	}
	for (size_t start = 0, i = 0; i < len; i++) {
		if (text[i] != '\n' && i + 1 < len)
			continue;
		size_t end = text[i] == '\n' ? i : i + 1;
		resp.values[resp.row_count++] =
		    (struct net_value){.type = NET_VALUE_TEXT,
		                       .as.text = {(const uint8_t *)text + start, end - start}};
		start = i + 1;
	}
	assert(resp.row_count == lines);
	net_session_reply(session, &resp);
	free(resp.values);
}

/* Answers the request with statement result `r` (see node_server.h for the mapping). */
static void net__reply_result(struct net_session *session, const struct sql_result *r)
{
	char message[96];
	struct net_response resp;
	switch (r->kind) {
	case SQL_RESULT_NONE: resp = net_response_ack(""); break;
	case SQL_RESULT_ROWS: net__reply_rows(session, r); return;
	case SQL_RESULT_EXPLAIN: net__reply_plan(session, r); return;
	case SQL_RESULT_COUNT: resp = net_response_count(r->count); break;
	case SQL_RESULT_ERROR:
		resp = net_response_error(err_code(r->error), err_msg(r->error));
		break;
	case SQL_RESULT_ACK:
		if (r->ack >= SQL_ACK_BEGIN)
			snprintf(message, sizeof message, "%s%s %" PRIu64, net__ack_name(r->ack),
			         r->ack == SQL_ACK_BEGIN && r->read_only ? " READ ONLY" : "",
			         r->version);
		else
			snprintf(message, sizeof message, "%s", net__ack_name(r->ack));
		resp = net_response_ack(message);
		break;
	default: resp = net_response_error(ERR_INTERNAL, "unknown result kind"); break;
	}
	net_session_reply(session, &resp);
}

/* ---- executing a text ---- */

static void net__ns_finish(struct net__ns_session *s);

/*
 * The node's reply: keeps the first error, else the latest result; then continues with
 * the next statement from the loop (the node may not be re-entered from its callback),
 * or, after the text's last one, answers at once: results held until a deferred step
 * added up, a few hundred sessions' large results answered in one step to gigabytes.
 */
static void net__ns_reply(void *ctx, struct sql_result *result, bool last)
{
	struct net__ns_session *s = ctx;
	assert(s->executing);
	if (result->kind == SQL_RESULT_NONE || s->failed) {
		sql_result_free(result);
	} else {
		sql_result_free(&s->result);
		s->result = *result;
		s->failed = result->kind == SQL_RESULT_ERROR;
		memset(result, 0, sizeof *result);
	}
	if (!last)
		return;
	if (s->failed || net_sql_statement_end(s->text + s->pos, s->len - s->pos) == 0)
		net__ns_finish(s); /* sends the reply; does not call into the node */
	else
		net_defer_queue(s->ns->loop, &s->defer);
}

static void net__ns_finish(struct net__ns_session *s)
{
	assert(s->executing);
	s->executing = false;
	net__reply_result(s->session, &s->result);
	sql_result_free(&s->result);
	free(s->text);
	s->text = NULL;
}

/* Submits the next statement of the text, or answers when there is none left. */
static void net__ns_continue(struct net__ns_session *s)
{
	if (!s->ns->node) {
		sql_result_free(&s->result);
		s->result = (struct sql_result){
		    .kind = SQL_RESULT_ERROR, .error = err_new(ERR_UNAVAILABLE, "the node failed")};
		s->failed = true;
	}
	size_t n = s->failed ? 0 : net_sql_statement_end(s->text + s->pos, s->len - s->pos);
	if (n == 0) {
		net__ns_finish(s);
		return;
	}
	const char *statement = s->text + s->pos;
	s->pos += n;
	err *e = node_session_submit(s->node_session, statement, n);
	if (e) {
		/* the node may have answered before it failed: this error is the answer */
		net_defer_cancel(s->ns->loop, &s->defer);
		sql_result_free(&s->result);
		s->result = (struct sql_result){.kind = SQL_RESULT_ERROR, .error = e};
		s->failed = true;
		net__ns_finish(s);
	}
}

static void net__ns_deferred(struct net_defer *defer)
{
	net__ns_continue(defer->data);
}

static void net__ns_execute(struct net__ns_session *s, struct slice text)
{
	s->text = malloc(text.len ? text.len : 1);
	if (!s->text) {
		net__reply_error(s->session, ERR_NOMEM, "out of memory");
		return;
	}
	memcpy(s->text, text.ptr, text.len);
	s->len = text.len;
	s->pos = 0;
	s->failed = false;
	s->executing = true;
	memset(&s->result, 0, sizeof s->result);
	net__ns_continue(s);
}

/* ---- the other requests ---- */

static void net__ns_status(struct net__ns_session *s)
{
	struct node_status st;
	node_status_get(s->ns->node, &st);
	struct net_node_status ns;
	net_node_status_make(&st, &ns);
	struct net_response resp = {.kind = NET_RESP_STATUS, .status = ns.status};
	net_session_reply(s->session, &resp);
}

static void net__ns_tables(struct net__ns_session *s)
{
	struct sql_names names;
	err *e = node_session_tables(s->node_session, &names);
	if (e) {
		net__reply_error(s->session, err_code(e), err_msg(e));
		err_free(e);
		return;
	}
	char column[] = "table";
	char *columns[] = {column};
	struct sql_result r = {.kind = SQL_RESULT_ROWS,
	                       .column_count = 1,
	                       .column_names = columns,
	                       .row_count = names.count};
	r.values = calloc(names.count ? names.count : 1, sizeof *r.values);
	if (!r.values) {
		net__reply_error(s->session, ERR_NOMEM, "out of memory listing tables");
	} else {
		for (size_t i = 0; i < names.count; i++)
			r.values[i] = (struct sql_value){
			    .type = SQL_TEXT,
			    .u.s = {names.names[i], (uint32_t)strlen(names.names[i])}};
		net__reply_rows(s->session, &r);
	}
	free(r.values); /* the names belong to `names` */
	sql_names_free(&names);
}

static void net__ns_describe(struct net__ns_session *s, struct slice name)
{
	char table[NET_PROTOCOL_MAX_NAME_BYTES + 1];
	if (name.len > NET_PROTOCOL_MAX_NAME_BYTES || memchr(name.ptr, '\0', name.len)) {
		net__reply_error(s->session, ERR_INVALID, "bad table name");
		return;
	}
	memcpy(table, name.ptr, name.len);
	table[name.len] = '\0';
	struct buf text;
	buf_init(&text, NET_PROTOCOL_MAX_TEXT_BYTES);
	err *e = node_session_describe_table(s->node_session, table, &text);
	if (!e)
		e = buf_append(&text, "", 1);
	if (e) {
		net__reply_error(s->session, err_code(e), err_msg(e));
		err_free(e);
	} else {
		struct net_response resp = net_response_ack((const char *)text.data);
		net_session_reply(s->session, &resp);
	}
	buf_free(&text);
}

/* ---- the session handler ---- */

static void *net__ns_open(void *ctx, struct net_session *session)
{
	struct net_node_server *ns = ctx;
	if (!ns->node)
		return NULL;
	struct net__ns_session *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->ns = ns;
	s->session = session;
	net_defer_init(&s->defer, net__ns_deferred, s);
	err *e = node_session_open(ns->node, net__ns_reply, s, &s->node_session);
	if (e) {
		err_free(e);
		free(s);
		return NULL;
	}
	return s;
}

static void net__ns_request(void *ctx, void *state, struct net_session *session,
                            const struct net_request *req)
{
	struct net_node_server *ns = ctx;
	struct net__ns_session *s = state;
	assert(s->session == session && !s->executing);
	if (!ns->node) {
		net__reply_error(session, ERR_UNAVAILABLE, "the node failed");
		return;
	}
	switch (req->kind) {
	case NET_REQ_EXECUTE: net__ns_execute(s, req->text); return;
	case NET_REQ_STATUS: net__ns_status(s); return;
	case NET_REQ_LIST_TABLES: net__ns_tables(s); return;
	case NET_REQ_DESCRIBE_TABLE: net__ns_describe(s, req->text); return;
	}
	net__reply_error(session, ERR_INVALID, "unknown request");
}

static void net__ns_close(void *ctx, void *state)
{
	struct net_node_server *ns = ctx;
	struct net__ns_session *s = state;
	net_defer_cancel(ns->loop, &s->defer);
	if (ns->node)
		node_session_close(s->node_session);
	sql_result_free(&s->result);
	free(s->text);
	free(s);
}

err *net_node_server_new(struct net_loop *loop, struct node *node,
                         const struct net_server_config *config, struct net_node_server **out)
{
	assert(loop && node && config && out);
	struct net_node_server *ns = calloc(1, sizeof *ns);
	if (!ns)
		return err_new(ERR_NOMEM, "no memory for the node server");
	ns->loop = loop;
	ns->node = node;
	struct net_session_handler handler = {
	    .ctx = ns, .open = net__ns_open, .request = net__ns_request, .close = net__ns_close};
	err *e = net_server_new(loop, config, &handler, &ns->server);
	if (e) {
		free(ns);
		return e;
	}
	*out = ns;
	return NULL;
}

void net_node_server_free(struct net_node_server *ns)
{
	if (!ns)
		return;
	net_server_free(ns->server);
	free(ns);
}

uint16_t net_node_server_port(const struct net_node_server *ns)
{
	return net_server_port(ns->server);
}

void net_node_server_detach(struct net_node_server *ns)
{
	ns->node = NULL;
}

/* ---- status ---- */

static void net__status_line(struct net_node_status *out, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void net__status_line(struct net_node_status *out, const char *name, const char *fmt, ...)
{
	uint32_t i = out->status.line_count;
	assert(i < NET_NODE_STATUS_LINES);
	snprintf(out->names[i], NET_NODE_STATUS_TEXT_BYTES, "%s", name);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->values[i], NET_NODE_STATUS_TEXT_BYTES, fmt, ap);
	va_end(ap);
	out->lines[i] =
	    (struct net_status_line){{(const uint8_t *)out->names[i], strlen(out->names[i])},
	                             {(const uint8_t *)out->values[i], strlen(out->values[i])}};
	out->status.line_count++;
}

void net_node_status_make(const struct node_status *st, struct net_node_status *out)
{
	memset(out, 0, sizeof *out);
	const struct raft_status *r = &st->raft;
	assert(r->n_peers <= RAFT_MAX_NODES);
	out->status = (struct net_status){
	    .node_id = r->id,
	    .leader_id = r->leader,
	    .term = r->term,
	    .commit_index = r->commit,
	    .applied_index = st->applied,
	    .active_txns = st->active_transactions,
	    .peers = out->peers,
	    .lines = out->lines,
	};
	for (uint32_t i = 0; i < r->n_peers; i++)
		out->peers[out->status.peer_count++] = (struct net_status_peer){
		    r->peers[i].id, r->role == RAFT_LEADER ? r->peers[i].match : 0};
	net__status_line(out, "version", "%s", CAIRN_VERSION);
	net__status_line(out, "role", "%s", raft_role_name(r->role));
	net__status_line(out, "last_index", "%" PRIu64, r->last_index);
	net__status_line(out, "sessions", "%" PRIu32, st->sessions);
	net__status_line(out, "commits_ok", "%" PRIu64, st->commits_ok);
	net__status_line(out, "commits_aborted", "%" PRIu64, st->commits_aborted);
	net__status_line(out, "commits_unknown", "%" PRIu64, st->commits_unknown);
	net__status_line(out, "kv_keys", "%" PRIu64, st->kv_keys);
	net__status_line(out, "kv_pages", "%" PRIu64, st->kv_pages);
	net__status_line(out, "kv_free_pages", "%" PRIu64, st->kv_free_pages);
	net__status_line(out, "kv_file_bytes", "%" PRIu64, st->kv_file_bytes);
}
