/*
 * repl_conn_remote.c — the REPL's connection to one node over TCP (net/client.h): one
 * statement per EXECUTE request, each response turned back into the `struct sql_result`
 * the REPL prints (net/node_server.h documents how results travel).
 *
 * The response does not say everything a result holds, so the statement fills in the
 * rest: a COUNT is an insert, update or delete as the statement was, and the rows of an
 * EXPLAIN are its plan. The statement is parsed here anyway, to split the text.
 *
 * A connection that fails (the node went away, a timeout) is closed and the failure is
 * the statement's error; the next statement or command connects again.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/client.h"
#include "net/repl_cluster.h"
#include "net/sql_split.h"

struct repl_conn_remote {
	struct repl_conn base; /* first, so a struct repl_conn * converts back */
	char host[256];
	uint16_t port;
	struct net_client *client; /* NULL while disconnected */
	bool in_transaction;
};

static struct repl_conn_remote *repl__remote(struct repl_conn *c)
{
	assert(c != NULL);
	return (struct repl_conn_remote *)c;
}

/* Connects if not connected. */
static err *repl__remote_connect(struct repl_conn_remote *r)
{
	if (r->client && net_client_is_connected(r->client))
		return NULL;
	net_client_close(r->client);
	r->client = NULL;
	r->in_transaction = false;
	err *e = net_client_connect(r->host, r->port, REPL_CLUSTER_TIMEOUT_MS, &r->client);
	return err_wrap(e, "no cairn node answers");
}

/*
 * One request and its response. A failure of the connection closes it (the next call
 * reconnects) and says so; an ERROR response is not a failure here.
 */
static err *repl__remote_call(struct repl_conn_remote *r, enum net_request_kind kind,
                              const char *text, size_t len, struct net_response *resp)
{
	memset(resp, 0, sizeof *resp);
	if (r->client && net_client_closed_by_peer(r->client)) {
		/* the node closed it while cairn waited for input (it restarted, say) */
		bool had_transaction = r->in_transaction;
		net_client_close(r->client);
		r->client = NULL;
		r->in_transaction = false;
		if (had_transaction)
			return err_new(
			    ERR_UNAVAILABLE,
			    "the node closed the connection: the open transaction is gone "
			    "(rolled back); cairn reconnects with the next statement");
	}
	TRY(repl__remote_connect(r));
	struct net_request req = {kind, {(const uint8_t *)text, len}};
	err *e = net_client_call(r->client, &req, resp);
	if (e && !net_client_is_connected(r->client)) {
		net_client_close(r->client);
		r->client = NULL;
		r->in_transaction = false;
		err *lost = err_new(err_code(e), "%s (cairn reconnects with the next statement)",
		                    err_msg(e));
		err_free(e);
		return lost;
	}
	return e;
}

/* ---- responses to results ---- */

static err *repl__value(const struct net_value *v, struct sql_value *out)
{
	switch (v->type) {
	case NET_VALUE_NULL: *out = sql_null(); return NULL;
	case NET_VALUE_BOOLEAN: *out = sql_bool(v->as.boolean); return NULL;
	case NET_VALUE_INTEGER: *out = sql_int(v->as.integer); return NULL;
	case NET_VALUE_FLOAT: *out = sql_float(v->as.real); return NULL;
	case NET_VALUE_TEXT: return sql_text((const char *)v->as.text.ptr, v->as.text.len, out);
	}
	return err_new(ERR_DECODE, "unknown value type %d", (int)v->type);
}

static err *repl__rows(const struct net_response *resp, struct sql_result *out)
{
	out->kind = SQL_RESULT_ROWS;
	out->column_count = resp->column_count;
	out->column_names = calloc(resp->column_count ? resp->column_count : 1, sizeof(char *));
	uint64_t values = resp->row_count * resp->column_count;
	out->values = calloc(values ? values : 1, sizeof *out->values);
	if (!out->column_names || !out->values)
		return err_new(ERR_NOMEM, "out of memory reading a result");
	for (uint32_t c = 0; c < resp->column_count; c++) {
		out->column_names[c] =
		    strndup((const char *)resp->columns[c].ptr, resp->columns[c].len);
		if (!out->column_names[c])
			return err_new(ERR_NOMEM, "out of memory reading a result");
	}
	out->row_count = resp->row_count;
	for (uint64_t i = 0; i < values; i++)
		TRY(repl__value(&resp->values[i], &out->values[i]));
	return NULL;
}

/* An EXPLAIN's rows (one column, one line each) back into its plan text. */
static err *repl__plan(const struct net_response *resp, struct sql_result *out)
{
	out->kind = SQL_RESULT_EXPLAIN;
	buf_init(&out->text, NET_PROTOCOL_MAX_TEXT_BYTES * 2);
	for (uint64_t row = 0; row < resp->row_count && resp->column_count == 1; row++) {
		const struct net_value *v = net_response_value(resp, row, 0);
		if (v->type == NET_VALUE_TEXT)
			TRY(buf_append(&out->text, v->as.text.ptr, v->as.text.len));
		TRY(buf_append(&out->text, "\n", 1));
	}
	return buf_append(&out->text, "", 1);
}

/* An ACK message ("COMMIT 42", "CREATE TABLE", ...) back into its result. */
static err *repl__ack(const struct net_response *resp, struct sql_result *out)
{
	static const struct {
		const char *name;
		enum sql_ack ack;
	} acks[] = {
	    {"CREATE TABLE", SQL_ACK_CREATE_TABLE},
	    {"DROP TABLE", SQL_ACK_DROP_TABLE},
	    {"CREATE INDEX", SQL_ACK_CREATE_INDEX},
	    {"DROP INDEX", SQL_ACK_DROP_INDEX},
	    {"BEGIN READ ONLY", SQL_ACK_BEGIN},
	    {"BEGIN", SQL_ACK_BEGIN},
	    {"COMMIT", SQL_ACK_COMMIT},
	    {"ROLLBACK", SQL_ACK_ROLLBACK},
	};
	char message[96];
	if (resp->message.len == 0)
		return NULL; /* the text held no statement: SQL_RESULT_NONE */
	if (resp->message.len >= sizeof message)
		return err_new(ERR_DECODE, "unexpected acknowledgement from the node");
	memcpy(message, resp->message.ptr, resp->message.len);
	message[resp->message.len] = '\0';
	for (size_t i = 0; i < sizeof acks / sizeof acks[0]; i++) {
		size_t n = strlen(acks[i].name);
		if (strncmp(message, acks[i].name, n) != 0 || (message[n] && message[n] != ' '))
			continue;
		out->kind = SQL_RESULT_ACK;
		out->ack = acks[i].ack;
		out->read_only = acks[i].ack == SQL_ACK_BEGIN && n > strlen("BEGIN");
		if (message[n] && sscanf(message + n, " %" SCNu64, &out->version) != 1)
			break;
		return NULL;
	}
	return err_new(ERR_DECODE, "unexpected acknowledgement from the node: %s", message);
}

/* Turns `resp` to statement `kind` (0: unknown) into *out. */
static err *repl__result(const struct net_response *resp, enum sql_stmt_kind kind,
                         struct sql_result *out)
{
	switch (resp->kind) {
	case NET_RESP_ROWS:
		if (kind == SQL_STMT_EXPLAIN)
			return repl__plan(resp, out);
		return repl__rows(resp, out);
	case NET_RESP_COUNT:
		out->kind = SQL_RESULT_COUNT;
		out->count = resp->count;
		out->count_kind = kind == SQL_STMT_UPDATE   ? SQL_COUNT_UPDATE
		                  : kind == SQL_STMT_DELETE ? SQL_COUNT_DELETE
		                                            : SQL_COUNT_INSERT;
		return NULL;
	case NET_RESP_ACK: return repl__ack(resp, out);
	case NET_RESP_ERROR: return net_response_to_err(resp);
	case NET_RESP_STATUS: break;
	}
	return err_new(ERR_DECODE, "unexpected response to a statement");
}

/* ---- the connection's operations ---- */

static void repl__remote_execute(struct repl_conn *c, const char *text, size_t len,
                                 struct sql_result *out, size_t *consumed)
{
	struct repl_conn_remote *r = repl__remote(c);
	memset(out, 0, sizeof *out);
	enum sql_stmt_kind kind;
	size_t n = net_sql_first_statement(text, len, &kind);
	*consumed = n ? n : len;
	if (n == 0)
		return; /* only blanks and comments */
	struct net_response resp;
	err *e = repl__remote_call(r, NET_REQ_EXECUTE, text, n, &resp);
	if (!e)
		e = repl__result(&resp, kind, out);
	net_response_free(&resp);
	if (out->kind == SQL_RESULT_ACK && out->ack == SQL_ACK_BEGIN)
		r->in_transaction = true;
	if (kind == SQL_STMT_COMMIT || kind == SQL_STMT_ROLLBACK || err_is(e, ERR_CONFLICT) ||
	    err_is(e, ERR_UNKNOWN_OUTCOME))
		r->in_transaction = false;
	if (e) {
		sql_result_free(out);
		out->kind = SQL_RESULT_ERROR;
		out->error = e;
	}
}

static bool repl__remote_in_transaction(struct repl_conn *c)
{
	return repl__remote(c)->in_transaction;
}

static err *repl__remote_tables(struct repl_conn *c, struct sql_names *out)
{
	memset(out, 0, sizeof *out);
	struct net_response resp;
	err *e = repl__remote_call(repl__remote(c), NET_REQ_LIST_TABLES, "", 0, &resp);
	if (!e && resp.kind == NET_RESP_ERROR)
		e = net_response_to_err(&resp);
	else if (!e && (resp.kind != NET_RESP_ROWS || resp.column_count != 1))
		e = err_new(ERR_DECODE, "unexpected response listing tables");
	if (!e) {
		out->names = calloc(resp.row_count ? resp.row_count : 1, sizeof(char *));
		if (!out->names)
			e = err_new(ERR_NOMEM, "out of memory listing tables");
	}
	for (uint64_t i = 0; !e && i < resp.row_count; i++) {
		const struct net_value *v = net_response_value(&resp, i, 0);
		out->names[i] = v->type == NET_VALUE_TEXT
		                    ? strndup((const char *)v->as.text.ptr, v->as.text.len)
		                    : NULL;
		if (!out->names[i])
			e = err_new(ERR_DECODE, "bad table name in the listing");
		else
			out->count++;
	}
	net_response_free(&resp);
	if (e)
		sql_names_free(out);
	return e;
}

static err *repl__remote_describe(struct repl_conn *c, const char *name, struct buf *out)
{
	struct net_response resp;
	err *e =
	    repl__remote_call(repl__remote(c), NET_REQ_DESCRIBE_TABLE, name, strlen(name), &resp);
	if (!e && resp.kind == NET_RESP_ERROR)
		e = net_response_to_err(&resp);
	else if (!e && resp.kind != NET_RESP_ACK)
		e = err_new(ERR_DECODE, "unexpected response describing a table");
	if (!e)
		e = buf_append(out, resp.message.ptr, resp.message.len);
	net_response_free(&resp);
	return e;
}

/* Asks for the node's status; on success *resp holds it (net_response_free). */
static err *repl__remote_status(struct repl_conn_remote *r, struct net_response *resp)
{
	err *e = repl__remote_call(r, NET_REQ_STATUS, "", 0, resp);
	if (!e && resp->kind == NET_RESP_ERROR)
		e = net_response_to_err(resp);
	else if (!e && resp->kind != NET_RESP_STATUS)
		e = err_new(ERR_DECODE, "unexpected response to a status request");
	if (e)
		net_response_free(resp);
	return e;
}

static bool repl__remote_command(struct repl_conn *c, const char *name, const char *args, FILE *out,
                                 err **failure)
{
	*failure = NULL;
	if (strcmp(name, "status") != 0)
		return false;
	if (args[0]) {
		*failure = err_new(ERR_INVALID, "usage: !status");
		return true;
	}
	struct net_response resp;
	*failure = repl__remote_status(repl__remote(c), &resp);
	if (!*failure) {
		repl_cluster_print_status(&resp.status, out);
		net_response_free(&resp);
	}
	return true;
}

static void repl__remote_close(struct repl_conn *c)
{
	struct repl_conn_remote *r = repl__remote(c);
	net_client_close(r->client);
	free(r);
}

static const struct repl_conn_ops repl__remote_ops = {
    .execute = repl__remote_execute,
    .in_transaction = repl__remote_in_transaction,
    .tables = repl__remote_tables,
    .describe_table = repl__remote_describe,
    .close = repl__remote_close,
    .command = repl__remote_command,
    .command_help = "  !status          the node's role, term, leader, log indexes and storage\n",
};

err *repl_conn_open_remote(const char *host, uint16_t port,
                           char greeting[REPL_CLUSTER_GREETING_BYTES], struct repl_conn **out)
{
	*out = NULL;
	host = host ? host : "127.0.0.1";
	struct repl_conn_remote *r = calloc(1, sizeof *r);
	if (!r)
		return err_new(ERR_NOMEM, "out of memory");
	r->base.ops = &repl__remote_ops;
	snprintf(r->host, sizeof r->host, "%s", host);
	r->port = port;
	struct net_response resp;
	err *e = repl__remote_status(r, &resp);
	if (e) {
		repl__remote_close(&r->base);
		return e;
	}
	char version[64];
	repl_cluster_status_value(&resp.status, "version", version, sizeof version);
	snprintf(greeting, REPL_CLUSTER_GREETING_BYTES,
	         "Connected to node %" PRIu32 " (version %s).", resp.status.node_id,
	         version[0] ? version : "unknown");
	net_response_free(&resp);
	*out = &r->base;
	return NULL;
}
