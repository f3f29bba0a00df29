/*
 * protocol.c — encoding and decoding of client requests and responses.
 *
 * Encoders check the same bounds the decoders enforce, so a node never sends what a client
 * would refuse: a too-large result set becomes an ERR_LIMIT the server reports instead.
 * Decoders read with struct codec_in (sticky errors) and allocate arrays only after the
 * declared counts passed their bounds; codec_parse has already proved the counts fit in
 * the bytes received.
 */
#include "net/protocol.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"

/* ---- names and constructors ---- */

const char *net_request_kind_name(enum net_request_kind kind)
{
	switch (kind) {
	case NET_REQ_EXECUTE: return "execute";
	case NET_REQ_STATUS: return "status";
	case NET_REQ_LIST_TABLES: return "list tables";
	case NET_REQ_DESCRIBE_TABLE: return "describe table";
	}
	return "?";
}

static struct slice net__cstr(const char *s)
{
	return slice_of(s, strlen(s));
}

struct net_response net_response_error(enum err_code code, const char *message)
{
	return (struct net_response){
	    .kind = NET_RESP_ERROR, .code = code, .message = net__cstr(message)};
}

struct net_response net_response_ack(const char *message)
{
	return (struct net_response){.kind = NET_RESP_ACK, .message = net__cstr(message)};
}

struct net_response net_response_count(uint64_t count)
{
	return (struct net_response){.kind = NET_RESP_COUNT, .count = count};
}

const struct net_value *net_response_value(const struct net_response *resp, uint64_t row,
                                           uint32_t column)
{
	assert(resp->kind == NET_RESP_ROWS);
	assert(row < resp->row_count && column < resp->column_count);
	return &resp->values[row * resp->column_count + column];
}

err *net_response_to_err(const struct net_response *resp)
{
	if (resp->kind != NET_RESP_ERROR)
		return NULL;
	return err_new(resp->code, "%.*s", (int)resp->message.len, (const char *)resp->message.ptr);
}

/*
 * Reads a string; an empty one points at "" rather than NULL, so that callers may hand any
 * decoded string to memcpy and friends.
 */
static struct slice net__get_str(struct codec_in *in, size_t max_len)
{
	struct slice s = codec_get_str(in, max_len);
	if (!s.ptr)
		s.ptr = (const uint8_t *)"";
	return s;
}

/* ---- requests ---- */

static bool net__request_kind_valid(uint64_t kind)
{
	return kind >= NET_REQ_EXECUTE && kind <= NET_REQ_DESCRIBE_TABLE;
}

err *net_request_encode(const struct net_request *req, struct buf *out)
{
	if (!net__request_kind_valid(req->kind))
		return err_new(ERR_INVALID, "request kind %d", (int)req->kind);
	if (req->text.len > NET_PROTOCOL_MAX_TEXT_BYTES)
		return err_new(ERR_LIMIT, "request text of %zu bytes exceeds %zu", req->text.len,
		               NET_PROTOCOL_MAX_TEXT_BYTES);
	struct codec_out o;
	codec_out_init(&o, out);
	codec_put_array(&o, 2);
	codec_put_u64(&o, (uint64_t)req->kind);
	codec_put_str(&o, (const char *)req->text.ptr, req->text.len);
	return codec_out_end(&o);
}

err *net_request_decode(const uint8_t *bytes, size_t len, struct net_request *req)
{
	memset(req, 0, sizeof *req);
	struct codec_doc doc;
	const msgpack_object *root;
	TRY(err_wrap(codec_parse(&doc, bytes, len, &root), "request"));
	struct codec_in in;
	codec_in_init(&in, root, 2, 2);
	uint64_t kind = codec_get_u64(&in);
	if (!in.error && !net__request_kind_valid(kind))
		codec_in_fail(&in, "unknown request kind");
	req->text = net__get_str(&in, NET_PROTOCOL_MAX_TEXT_BYTES);
	err *e = codec_in_end(&in, false);
	codec_doc_free(&doc);
	if (e) {
		memset(req, 0, sizeof *req);
		return err_wrap(e, "request");
	}
	req->kind = (enum net_request_kind)kind;
	return NULL;
}

/* ---- values ---- */

static void net__put_value(struct codec_out *o, const struct net_value *v)
{
	switch (v->type) {
	case NET_VALUE_NULL: codec_put_nil(o); return;
	case NET_VALUE_BOOLEAN: codec_put_bool(o, v->as.boolean); return;
	case NET_VALUE_INTEGER: codec_put_i64(o, v->as.integer); return;
	case NET_VALUE_FLOAT: codec_put_f64(o, v->as.real); return;
	case NET_VALUE_TEXT: codec_put_str(o, (const char *)v->as.text.ptr, v->as.text.len); return;
	}
	assert(!"unknown value type");
}

static void net__get_value(struct codec_in *in, struct net_value *v)
{
	const msgpack_object *obj = codec_get_object(in);
	memset(v, 0, sizeof *v);
	if (!obj)
		return;
	switch (obj->type) {
	case MSGPACK_OBJECT_NIL: v->type = NET_VALUE_NULL; return;
	case MSGPACK_OBJECT_BOOLEAN:
		v->type = NET_VALUE_BOOLEAN;
		v->as.boolean = obj->via.boolean;
		return;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (obj->via.u64 > INT64_MAX)
			break;
		v->type = NET_VALUE_INTEGER;
		v->as.integer = (int64_t)obj->via.u64;
		return;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		v->type = NET_VALUE_INTEGER;
		v->as.integer = obj->via.i64;
		return;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		v->type = NET_VALUE_FLOAT;
		v->as.real = obj->via.f64;
		return;
	case MSGPACK_OBJECT_STR:
		if (obj->via.str.size > NET_PROTOCOL_MAX_TEXT_BYTES)
			break;
		v->type = NET_VALUE_TEXT;
		v->as.text = obj->via.str.size ? slice_of(obj->via.str.ptr, obj->via.str.size)
		                               : slice_of("", 0);
		return;
	default: break;
	}
	memset(v, 0, sizeof *v);
	codec_in_fail(in, "not a value (nil, boolean, integer, float or string)");
}

/* ---- responses: encoding ---- */

static err *net__check_response(const struct net_response *r)
{
	switch (r->kind) {
	case NET_RESP_ROWS:
		if (r->column_count > NET_PROTOCOL_MAX_COLUMNS)
			return err_new(ERR_LIMIT, "%u columns exceed %d", r->column_count,
			               NET_PROTOCOL_MAX_COLUMNS);
		if (r->row_count > NET_PROTOCOL_MAX_VALUES ||
		    r->row_count * r->column_count > NET_PROTOCOL_MAX_VALUES)
			return err_new(ERR_LIMIT, "result of %llu rows exceeds %zu values",
			               (unsigned long long)r->row_count, NET_PROTOCOL_MAX_VALUES);
		for (uint32_t i = 0; i < r->column_count; i++)
			if (r->columns[i].len > NET_PROTOCOL_MAX_NAME_BYTES)
				return err_new(ERR_LIMIT, "column name too long");
		for (uint64_t i = 0; i < r->row_count * r->column_count; i++)
			if (r->values[i].type == NET_VALUE_TEXT &&
			    r->values[i].as.text.len > NET_PROTOCOL_MAX_TEXT_BYTES)
				return err_new(ERR_LIMIT, "text value too long");
		return NULL;
	case NET_RESP_COUNT: return NULL;
	case NET_RESP_ACK:
	case NET_RESP_ERROR:
		if (r->message.len > NET_PROTOCOL_MAX_TEXT_BYTES)
			return err_new(ERR_LIMIT, "message too long");
		if (r->kind == NET_RESP_ERROR && (r->code < ERR_IO || r->code > ERR_INTERNAL))
			return err_new(ERR_INVALID, "error code %d", (int)r->code);
		return NULL;
	case NET_RESP_STATUS:
		if (r->status.peer_count > NET_PROTOCOL_MAX_PEERS ||
		    r->status.line_count > NET_PROTOCOL_MAX_STATUS_LINES)
			return err_new(ERR_LIMIT, "status too large");
		for (uint32_t i = 0; i < r->status.line_count; i++)
			if (r->status.lines[i].name.len > NET_PROTOCOL_MAX_NAME_BYTES ||
			    r->status.lines[i].value.len > NET_PROTOCOL_MAX_TEXT_BYTES)
				return err_new(ERR_LIMIT, "status line too long");
		return NULL;
	}
	return err_new(ERR_INVALID, "response kind %d", (int)r->kind);
}

static void net__put_slice(struct codec_out *o, struct slice s)
{
	codec_put_str(o, (const char *)s.ptr, s.len);
}

static void net__put_status(struct codec_out *o, const struct net_status *s)
{
	codec_put_u64(o, s->node_id);
	codec_put_u64(o, s->leader_id);
	codec_put_u64(o, s->term);
	codec_put_u64(o, s->commit_index);
	codec_put_u64(o, s->applied_index);
	codec_put_u64(o, s->active_txns);
	codec_put_array(o, s->peer_count);
	for (uint32_t i = 0; i < s->peer_count; i++) {
		codec_put_array(o, 2);
		codec_put_u64(o, s->peers[i].id);
		codec_put_u64(o, s->peers[i].match_index);
	}
	codec_put_array(o, s->line_count);
	for (uint32_t i = 0; i < s->line_count; i++) {
		codec_put_array(o, 2);
		net__put_slice(o, s->lines[i].name);
		net__put_slice(o, s->lines[i].value);
	}
}

err *net_response_encode(const struct net_response *r, struct buf *out)
{
	TRY(net__check_response(r));
	size_t start = out->len;
	struct codec_out o;
	codec_out_init(&o, out);
	switch (r->kind) {
	case NET_RESP_ROWS:
		codec_put_array(&o, 3);
		codec_put_u64(&o, NET_RESP_ROWS);
		codec_put_array(&o, r->column_count);
		for (uint32_t i = 0; i < r->column_count; i++)
			net__put_slice(&o, r->columns[i]);
		codec_put_array(&o, (uint32_t)r->row_count);
		for (uint64_t row = 0; row < r->row_count; row++) {
			codec_put_array(&o, r->column_count);
			for (uint32_t c = 0; c < r->column_count; c++)
				net__put_value(&o, &r->values[row * r->column_count + c]);
		}
		break;
	case NET_RESP_COUNT:
		codec_put_array(&o, 2);
		codec_put_u64(&o, NET_RESP_COUNT);
		codec_put_u64(&o, r->count);
		break;
	case NET_RESP_ACK:
		codec_put_array(&o, 2);
		codec_put_u64(&o, NET_RESP_ACK);
		net__put_slice(&o, r->message);
		break;
	case NET_RESP_STATUS:
		codec_put_array(&o, 9);
		codec_put_u64(&o, NET_RESP_STATUS);
		net__put_status(&o, &r->status);
		break;
	case NET_RESP_ERROR:
		codec_put_array(&o, 3);
		codec_put_u64(&o, NET_RESP_ERROR);
		codec_put_u64(&o, (uint64_t)r->code);
		net__put_slice(&o, r->message);
		break;
	}
	err *e = codec_out_end(&o);
	if (e)
		out->len = start; /* no half-written response */
	return e;
}

/* ---- responses: decoding ---- */

void net_response_free(struct net_response *r)
{
	free(r->columns);
	free(r->values);
	free(r->status.peers);
	free(r->status.lines);
	memset(r, 0, sizeof *r);
}

static void net__get_rows(struct codec_in *in, struct net_response *r)
{
	struct codec_in cols, rows;
	codec_get_array(in, &cols, 0, NET_PROTOCOL_MAX_COLUMNS);
	uint32_t ncols = codec_in_remaining(&cols);
	if (ncols > 0 && !(r->columns = calloc(ncols, sizeof *r->columns)))
		codec_in_fail(&cols, "out of memory");
	for (uint32_t i = 0; i < ncols && !cols.error; i++)
		r->columns[i] = net__get_str(&cols, NET_PROTOCOL_MAX_NAME_BYTES);
	r->column_count = r->columns ? ncols : 0;
	err *e = codec_in_end(&cols, false);
	if (e) {
		codec_in_fail(in, err_msg(e));
		err_free(e);
	}
	codec_get_array(in, &rows, 0, (uint32_t)NET_PROTOCOL_MAX_VALUES);
	uint64_t nrows = codec_in_remaining(&rows);
	if (!in->error && nrows * r->column_count > NET_PROTOCOL_MAX_VALUES)
		codec_in_fail(&rows, "result set too large");
	size_t nvalues = (size_t)(nrows * r->column_count);
	if (!in->error && !rows.error && nvalues > 0 &&
	    !(r->values = calloc(nvalues, sizeof *r->values)))
		codec_in_fail(&rows, "out of memory");
	for (uint64_t row = 0; row < nrows && !in->error && !rows.error; row++) {
		struct codec_in cells;
		codec_get_array(&rows, &cells, r->column_count, r->column_count);
		for (uint32_t c = 0; c < r->column_count && !cells.error; c++)
			net__get_value(&cells, &r->values[row * r->column_count + c]);
		e = codec_in_end(&cells, false);
		if (e) {
			codec_in_fail(&rows, err_msg(e));
			err_free(e);
		}
	}
	r->row_count = nrows;
	e = codec_in_end(&rows, false);
	if (e) {
		codec_in_fail(in, err_msg(e));
		err_free(e);
	}
}

/* Reads an unsigned integer that must fit in 32 bits. */
static uint32_t net__get_u32(struct codec_in *in)
{
	uint64_t v = codec_get_u64(in);
	if (v > UINT32_MAX) {
		codec_in_fail(in, "above 32 bits");
		return 0;
	}
	return (uint32_t)v;
}

/* Reads an array of pairs with `read_pair`, into *items (allocated) and *count. */
static void net__get_pairs(struct codec_in *in, uint32_t max, size_t item_size, void **items,
                           uint32_t *count, void (*read_pair)(struct codec_in *, void *))
{
	struct codec_in list;
	codec_get_array(in, &list, 0, max);
	uint32_t n = codec_in_remaining(&list);
	if (n > 0 && !(*items = calloc(n, item_size)))
		codec_in_fail(&list, "out of memory");
	for (uint32_t i = 0; i < n && !list.error; i++) {
		struct codec_in pair;
		codec_get_array(&list, &pair, 2, 2);
		read_pair(&pair, (char *)*items + i * item_size);
		err *e = codec_in_end(&pair, false);
		if (e) {
			codec_in_fail(&list, err_msg(e));
			err_free(e);
		}
	}
	*count = *items ? n : 0;
	err *e = codec_in_end(&list, false);
	if (e) {
		codec_in_fail(in, err_msg(e));
		err_free(e);
	}
}

static void net__read_peer(struct codec_in *pair, void *item)
{
	struct net_status_peer *p = item;
	p->id = net__get_u32(pair);
	p->match_index = codec_get_u64(pair);
}

static void net__read_line(struct codec_in *pair, void *item)
{
	struct net_status_line *l = item;
	l->name = net__get_str(pair, NET_PROTOCOL_MAX_NAME_BYTES);
	l->value = net__get_str(pair, NET_PROTOCOL_MAX_TEXT_BYTES);
}

static void net__get_status(struct codec_in *in, struct net_status *s)
{
	s->node_id = net__get_u32(in);
	s->leader_id = net__get_u32(in);
	s->term = codec_get_u64(in);
	s->commit_index = codec_get_u64(in);
	s->applied_index = codec_get_u64(in);
	s->active_txns = codec_get_u64(in);
	void *peers = NULL, *lines = NULL;
	net__get_pairs(in, NET_PROTOCOL_MAX_PEERS, sizeof(struct net_status_peer), &peers,
	               &s->peer_count, net__read_peer);
	s->peers = peers;
	net__get_pairs(in, NET_PROTOCOL_MAX_STATUS_LINES, sizeof(struct net_status_line), &lines,
	               &s->line_count, net__read_line);
	s->lines = lines;
}

/* Elements of each response kind's array, the kind included. */
static uint32_t net__response_arity(uint64_t kind)
{
	switch (kind) {
	case NET_RESP_ROWS: return 3;
	case NET_RESP_COUNT: return 2;
	case NET_RESP_ACK: return 2;
	case NET_RESP_STATUS: return 9;
	case NET_RESP_ERROR: return 3;
	default: return 0;
	}
}

err *net_response_decode(const uint8_t *bytes, size_t len, struct net_response *r)
{
	memset(r, 0, sizeof *r);
	struct codec_doc doc;
	const msgpack_object *root;
	TRY(err_wrap(codec_parse(&doc, bytes, len, &root), "response"));
	struct codec_in in;
	codec_in_init(&in, root, 2, 9);
	uint64_t kind = codec_get_u64(&in);
	if (!in.error && net__response_arity(kind) != in.count)
		codec_in_fail(&in, "unknown response kind or wrong field count");
	if (!in.error) {
		r->kind = (enum net_response_kind)kind;
		switch (r->kind) {
		case NET_RESP_ROWS: net__get_rows(&in, r); break;
		case NET_RESP_COUNT: r->count = codec_get_u64(&in); break;
		case NET_RESP_ACK:
			r->message = net__get_str(&in, NET_PROTOCOL_MAX_TEXT_BYTES);
			break;
		case NET_RESP_STATUS: net__get_status(&in, &r->status); break;
		case NET_RESP_ERROR: {
			uint64_t code = codec_get_u64(&in);
			if (!in.error && (code < ERR_IO || code > ERR_INTERNAL))
				codec_in_fail(&in, "unknown error code");
			r->code = (enum err_code)code;
			r->message = net__get_str(&in, NET_PROTOCOL_MAX_TEXT_BYTES);
			break;
		}
		}
	}
	err *e = codec_in_end(&in, false);
	codec_doc_free(&doc);
	if (e) {
		net_response_free(r);
		return err_wrap(e, "response");
	}
	return NULL;
}
