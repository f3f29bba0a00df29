/*
 * server.h — the SQL port: a listener whose connections are client sessions.
 *
 * The server knows framing and the client protocol, nothing about SQL. Each connection
 * becomes a session through a handler the node supplies:
 *
 *   open(ctx, session)                 -> the handler's per-session state (NULL refuses)
 *   request(ctx, state, session, req)  -> the handler answers with net_session_reply(),
 *                                         at once or later (a COMMIT waits for Raft)
 *   close(ctx, state)                  -> the session is over; free the state
 *
 * A session has at most one request in flight: the server stops reading from the
 * connection until the reply is given, and while more than 256 KiB of replies wait for
 * the client to read them, so requests are answered in order and a client that floods
 * requests without reading is throttled by TCP itself (it used to be cut off once 64
 * replies queued, some of its statements run and unreported). A client must complete a
 * frame it began within 10 s. While more than 256 MiB of replies wait unread over all
 * sessions, a new request is answered ERR_UNAVAILABLE ("server busy") instead of run: a
 * few hundred clients that never read large results held gigabytes.
 *
 * Untrusted input: a bad frame (oversized, checksum failure) or a frame that is not a
 * request closes that connection after an error response is sent, if the socket still
 * takes it; other sessions are unaffected. Connections beyond max_connections receive an
 * ERR_UNAVAILABLE error and are closed.
 */
#ifndef CAIRN_NET_SERVER_H
#define CAIRN_NET_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "net/loop.h"
#include "net/protocol.h"
#include "net/sock.h"
#include "net/transport.h" /* net_log_fn */

struct net_server;
struct net_session;

struct net_session_handler {
	void *ctx;
	void *(*open)(void *ctx, struct net_session *session);
	/* `req` and its text are valid only during the call. */
	void (*request)(void *ctx, void *state, struct net_session *session,
	                const struct net_request *req);
	/* After close returns, the session handle is dead: a reply still owed is dropped. */
	void (*close)(void *ctx, void *state);
};

struct net_server_config {
	struct net_addr listen;    /* port 0 picks a free port; see net_server_port() */
	size_t max_connections;    /* 0: 256 */
	size_t max_request_bytes;  /* 0: NET_FRAME_MAX_REQUEST_BYTES */
	size_t max_response_bytes; /* 0: NET_FRAME_MAX_RESPONSE_BYTES */
	uint64_t frame_timeout_ms; /* a frame begun must be complete in time; 0: 10 s */
	net_log_fn log;            /* may be NULL */
	void *log_ctx;
};

struct net_server_stats {
	uint64_t accepted;     /* sessions opened */
	uint64_t refused;      /* connections turned away (limit, or the handler said no) */
	uint64_t requests;     /* requests handed to the handler */
	uint64_t bad_requests; /* connections closed for a bad frame or request */
	uint64_t active;       /* sessions open now */
};

/* Listens; the handler is copied. */
err *net_server_new(struct net_loop *loop, const struct net_server_config *config,
                    const struct net_session_handler *handler, struct net_server **out);

/* Closes every session (calling the handler's close) and the listener. */
void net_server_free(struct net_server *server);

uint16_t net_server_port(const struct net_server *server);
struct net_server_stats net_server_stats(const struct net_server *server);

/*
 * Answers the session's request in flight; exactly once per request. A response that
 * exceeds a protocol bound is replaced by an ERR_LIMIT error response. If the connection
 * ended meanwhile the reply is dropped (close follows, or has been called).
 */
void net_session_reply(struct net_session *session, const struct net_response *resp);

/* "ip:port" of the client, for logs. */
const char *net_session_peer(const struct net_session *session);

#endif
