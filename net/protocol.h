/*
 * protocol.h — the client protocol: what a client asks a node on the SQL port, and what
 * the node answers (design.md §8).
 *
 * A connection is a session: it may hold an open transaction across requests. The client
 * sends one request frame and reads one response frame, strictly in turn. Each frame's
 * payload is one msgpack array whose first element is its kind:
 *
 *   request  = [kind, text]
 *       EXECUTE        text is SQL (one or more statements)
 *       STATUS         text is ""
 *       LIST_TABLES    text is ""
 *       DESCRIBE_TABLE text is the table name
 *
 *   response = [ROWS,   [column name...], [[value...]...]]   a result set
 *            | [COUNT,  count]                               rows affected
 *            | [ACK,    message]                             e.g. "BEGIN", "COMMIT 42"
 *            | [STATUS, node, leader, term, commit, applied, active_txns,
 *                       [[peer id, match index]...], [[name, value]...]]
 *            | [ERROR,  code, message]                       code: enum err_code
 *
 * A value is a msgpack nil (NULL), boolean (BOOLEAN), integer that fits int64 (INTEGER),
 * float (FLOAT) or string (TEXT). The protocol keeps its own small value type so that it
 * does not depend on sql/; the node converts.
 *
 * Decoders trust nothing: counts, lengths and kinds are checked; a message that does not
 * decode is an ERR_DECODE error. Decoded strings point into the payload bytes (an empty
 * string at a static "", never NULL); arrays are allocated, and net_response_free
 * releases them.
 */
#ifndef CAIRN_NET_PROTOCOL_H
#define CAIRN_NET_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

#define NET_PROTOCOL_MAX_TEXT_BYTES ((size_t)1 << 20) /* SQL text, messages, TEXT values */
#define NET_PROTOCOL_MAX_NAME_BYTES 1024              /* column, table and status names */
#define NET_PROTOCOL_MAX_COLUMNS 1024
#define NET_PROTOCOL_MAX_VALUES ((size_t)1 << 20) /* rows × columns in one result set */
#define NET_PROTOCOL_MAX_PEERS 64
#define NET_PROTOCOL_MAX_STATUS_LINES 256

enum net_request_kind {
	NET_REQ_EXECUTE = 1,
	NET_REQ_STATUS = 2,
	NET_REQ_LIST_TABLES = 3,
	NET_REQ_DESCRIBE_TABLE = 4,
};

struct net_request {
	enum net_request_kind kind;
	struct slice text; /* SQL for EXECUTE, the table for DESCRIBE_TABLE, else empty */
};

enum net_value_type {
	NET_VALUE_NULL,
	NET_VALUE_BOOLEAN,
	NET_VALUE_INTEGER,
	NET_VALUE_FLOAT,
	NET_VALUE_TEXT,
};

struct net_value {
	enum net_value_type type;
	union {
		bool boolean;
		int64_t integer;
		double real;
		struct slice text;
	} as;
};

struct net_status_peer {
	uint32_t id;
	uint64_t match_index;
};

struct net_status_line {
	struct slice name;
	struct slice value;
};

/* A node's status: the fixed facts the REPL prints, plus free-form lines (storage stats). */
struct net_status {
	uint32_t node_id;
	uint32_t leader_id; /* 0: no known leader */
	uint64_t term;
	uint64_t commit_index;
	uint64_t applied_index;
	uint64_t active_txns;
	struct net_status_peer *peers;
	uint32_t peer_count;
	struct net_status_line *lines;
	uint32_t line_count;
};

enum net_response_kind {
	NET_RESP_ROWS = 1,
	NET_RESP_COUNT = 2,
	NET_RESP_ACK = 3,
	NET_RESP_STATUS = 4,
	NET_RESP_ERROR = 5,
};

struct net_response {
	enum net_response_kind kind;
	/* ROWS: values holds row_count rows of column_count values each, row by row */
	struct slice *columns;
	uint32_t column_count;
	struct net_value *values;
	uint64_t row_count;
	/* COUNT */
	uint64_t count;
	/* ACK and ERROR */
	struct slice message;
	enum err_code code; /* ERROR */
	/* STATUS */
	struct net_status status;
};

/* Appends the encoding of `req` to `out`. */
err *net_request_encode(const struct net_request *req, struct buf *out);

/* Decodes a request; req->text points into `bytes`. */
err *net_request_decode(const uint8_t *bytes, size_t len, struct net_request *req);

/* Appends the encoding of `resp` to `out`; ERR_LIMIT if it exceeds a protocol bound. */
err *net_response_encode(const struct net_response *resp, struct buf *out);

/*
 * Decodes a response; its strings point into `bytes`, its arrays are allocated. Release
 * with net_response_free() (also after a failed decode).
 */
err *net_response_decode(const uint8_t *bytes, size_t len, struct net_response *resp);
void net_response_free(struct net_response *resp);

/* Convenience constructors for the simple responses (the message is borrowed). */
struct net_response net_response_error(enum err_code code, const char *message);
struct net_response net_response_ack(const char *message);
struct net_response net_response_count(uint64_t count);

/* The value at (row, column) of a ROWS response. */
const struct net_value *net_response_value(const struct net_response *resp, uint64_t row,
                                           uint32_t column);

/* The error an ERROR response describes (owned by the caller), or NULL for other kinds. */
err *net_response_to_err(const struct net_response *resp);

const char *net_request_kind_name(enum net_request_kind kind);

#endif
