/*
 * server.c — accepting client connections and turning frames into handler calls.
 *
 * Sessions are kept on a doubly linked list so the server can close them all when it
 * stops. A connection turned away (over the limit, or refused by the handler) still gets a
 * session object in the `refused` state: it exists only to deliver the error and close.
 * Such sessions are bounded too (NET__MAX_REFUSING), beyond which a socket is closed
 * without a word.
 */
#include "net/server.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/conn.h"
#include "net/frame.h"

#define NET__MAX_REFUSING 16
#define NET__ACCEPTS_PER_EVENT 64
#define NET__LISTEN_BACKLOG 128
#define NET__LINGER_MS 1000
#define NET__QUEUE_FRAMES 64
/* Replies a client leaves unread beyond this hold its next request back (back-pressure). */
#define NET__HOLD_INPUT_ABOVE ((size_t)256 << 10)
/*
 * Replies all clients leave unread beyond this: new requests are refused, and a large
 * reply is replaced by an error, until they read.
 */
#define NET__UNREAD_BUDGET_BYTES ((size_t)256 << 20)
#define NET__LARGE_REPLY_BYTES ((size_t)1 << 20)

struct net_session {
	struct net_server *server;
	struct net_session *prev, *next;
	struct net_conn *conn;
	void *state;    /* the handler's; valid when opened */
	bool opened;    /* the handler's open() accepted it */
	bool in_flight; /* a request awaits its reply */
	char peer[64];
};

struct net_server {
	struct net_loop *loop;
	struct net_server_config config;
	struct net_session_handler handler;
	int listen_fd;
	struct net_io listen_io;
	uint16_t port;
	struct net_session *sessions;
	size_t refusing;
	struct net_server_stats stats;
	struct buf reply; /* encoding scratch */
};

static void net__logf(struct net_server *s, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void net__logf(struct net_server *s, enum log_level level, const char *fmt, ...)
{
	if (!s->config.log)
		return;
	char line[LOG_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	s->config.log(s->config.log_ctx, level, line);
}

/*
 * Encodes and writes a response at once (a session has one request in flight, so there
 * is nothing to coalesce it with, and it must not wait for a sync later in this loop
 * step); on failure the connection is closed.
 */
/* Bytes of replies waiting for their clients to read them, over every session (<= 256). */
static size_t net__unread_bytes(const struct net_server *s)
{
	size_t total = 0;
	for (const struct net_session *ss = s->sessions; ss; ss = ss->next)
		total += net_conn_queued_bytes(ss->conn);
	return total;
}

/* Encodes an error response in place of what s->reply holds. */
static void net__reply_error(struct net_server *s, enum err_code code, const char *message)
{
	buf_clear(&s->reply);
	struct net_response resp = net_response_error(code, message);
	err *e = net_response_encode(&resp, &s->reply);
	assert(!e); /* a short error always fits */
	(void)e;
}

static void net__send(struct net_session *ss, const struct net_response *resp)
{
	struct net_server *s = ss->server;
	buf_clear(&s->reply);
	err *e = net_response_encode(resp, &s->reply);
	if (err_is(e, ERR_LIMIT)) {
		char message[128];
		snprintf(message, sizeof message,
		         "result too large to send: at most %zu MiB and %zu values (use LIMIT, "
		         "or fewer columns)",
		         s->config.max_response_bytes >> 20, NET_PROTOCOL_MAX_VALUES);
		net__reply_error(s, ERR_LIMIT, message);
	} else if (e) {
		net__reply_error(s, err_code(e), err_msg(e));
	}
	err_free(e);
	if (s->reply.len > NET__LARGE_REPLY_BYTES) {
		/* requests that ran together (reads wait for a read point) may all answer big */
		size_t unread = net__unread_bytes(s);
		if (unread + s->reply.len > NET__UNREAD_BUDGET_BYTES) {
			char message[160];
			snprintf(
			    message, sizeof message,
			    "server busy: a result of %zu MiB not sent, %zu MiB of replies wait "
			    "for their clients to read them; try again",
			    s->reply.len >> 20, unread >> 20);
			net__reply_error(s, ERR_UNAVAILABLE, message);
		}
	}
	e = net_conn_send(ss->conn, s->reply.data, s->reply.len);
	if (e)
		net_conn_close(ss->conn, e);
	else
		net_conn_flush(ss->conn);
}

/* Sends an error and closes the connection once it is written. */
static void net__send_error_and_close(struct net_session *ss, enum err_code code,
                                      const char *message)
{
	struct net_response resp = net_response_error(code, message);
	net__send(ss, &resp);
	net_conn_shutdown(ss->conn, NULL);
}

/* ---- connection callbacks ---- */

static void net__on_frame(struct net_conn *conn, const uint8_t *payload, size_t len, void *data)
{
	struct net_session *ss = data;
	struct net_server *s = ss->server;
	(void)conn;
	assert(ss->opened && !ss->in_flight);
	struct net_request req;
	err *e = net_request_decode(payload, len, &req);
	if (e) {
		s->stats.bad_requests++;
		net__logf(s, LOG_WARN, "sql: closing client %s: %s", ss->peer, err_msg(e));
		net__send_error_and_close(ss, ERR_DECODE, err_msg(e));
		err_free(e);
		return;
	}
	s->stats.requests++;
	size_t unread = net__unread_bytes(s);
	if (unread > NET__UNREAD_BUDGET_BYTES) {
		/* each request may add a large reply: none runs until clients read theirs */
		char message[128];
		snprintf(message, sizeof message,
		         "server busy: %zu MiB of replies wait for their clients to read them; "
		         "try again",
		         unread >> 20);
		struct net_response resp = net_response_error(ERR_UNAVAILABLE, message);
		net__send(ss, &resp);
		return;
	}
	ss->in_flight = true;
	net_conn_pause(ss->conn);
	s->handler.request(s->handler.ctx, ss->state, ss, &req);
}

static void net__on_bad_frame(struct net_conn *conn, const err *reason, void *data)
{
	struct net_session *ss = data;
	(void)conn;
	ss->server->stats.bad_requests++;
	net__logf(ss->server, LOG_WARN, "sql: closing %s", err_msg(reason));
	struct net_response resp = net_response_error(err_code(reason), err_msg(reason));
	net__send(ss, &resp);
}

/* Unlinks and frees a session; the handler's close runs if it opened the session. */
static void net__session_free(struct net_session *ss, bool notify)
{
	struct net_server *s = ss->server;
	if (ss->prev)
		ss->prev->next = ss->next;
	else
		s->sessions = ss->next;
	if (ss->next)
		ss->next->prev = ss->prev;
	if (ss->opened) {
		assert(s->stats.active > 0);
		s->stats.active--;
		if (notify)
			s->handler.close(s->handler.ctx, ss->state);
	} else {
		assert(s->refusing > 0);
		s->refusing--;
	}
	free(ss);
}

static void net__on_close(struct net_conn *conn, const err *reason, void *data)
{
	struct net_session *ss = data;
	(void)conn;
	net__logf(ss->server, LOG_DEBUG, "sql: client %s left (%s)", ss->peer,
	          reason ? err_msg(reason) : "closed");
	net__session_free(ss, true);
}

/* ---- accepting ---- */

static void net__accept_one(struct net_server *s, int fd)
{
	bool full = s->stats.active >= s->config.max_connections;
	if (full && s->refusing >= NET__MAX_REFUSING) {
		s->stats.refused++;
		close(fd);
		return;
	}
	struct net_session *ss = calloc(1, sizeof *ss);
	if (!ss) {
		s->stats.refused++;
		close(fd);
		return;
	}
	ss->server = s;
	net_sock_peer_name(fd, ss->peer, sizeof ss->peer);
	char name[96];
	snprintf(name, sizeof name, "client %s", ss->peer);
	static const struct net_conn_callbacks cb = {
	    .on_frame = net__on_frame,
	    .on_bad_frame = net__on_bad_frame,
	    .on_close = net__on_close,
	};
	struct net_conn_limits limits = {
	    .max_frame_bytes = s->config.max_request_bytes,
	    .max_send_bytes = s->config.max_response_bytes,
	    .max_queue_bytes = s->config.max_response_bytes + NET_FRAME_OVERHEAD_BYTES,
	    .max_queue_frames = NET__QUEUE_FRAMES,
	    .linger_ms = NET__LINGER_MS,
	    .hold_input_above = NET__HOLD_INPUT_ABOVE,
	    .frame_timeout_ms = s->config.frame_timeout_ms,
	};
	err *e = net_conn_new(s->loop, fd, false, &limits, &cb, ss, name, &ss->conn);
	if (e) {
		net__logf(s, LOG_WARN, "sql: %s", err_msg(e));
		err_free(e);
		free(ss);
		return;
	}
	ss->next = s->sessions;
	if (s->sessions)
		s->sessions->prev = ss;
	s->sessions = ss;
	if (!full) {
		ss->state = s->handler.open(s->handler.ctx, ss);
		ss->opened = ss->state != NULL;
	}
	if (ss->opened) {
		s->stats.accepted++;
		s->stats.active++;
		net__logf(s, LOG_DEBUG, "sql: client %s connected", ss->peer);
		return;
	}
	s->refusing++;
	s->stats.refused++;
	net__logf(s, LOG_WARN, "sql: refusing client %s: %s", ss->peer,
	          full ? "too many connections" : "the node refused the session");
	net__send_error_and_close(ss, ERR_UNAVAILABLE,
	                          full ? "too many connections" : "session refused");
}

static void net__on_listen(struct net_io *io, uint32_t events)
{
	struct net_server *s = io->data;
	(void)events;
	for (int i = 0; i < NET__ACCEPTS_PER_EVENT; i++) {
		int fd;
		err *e = net_sock_accept(s->listen_fd, &fd);
		if (e) {
			net__logf(s, LOG_WARN, "sql: %s", err_msg(e));
			err_free(e);
			return;
		}
		if (fd < 0)
			return;
		net__accept_one(s, fd);
	}
}

/* ---- the public calls ---- */

err *net_server_new(struct net_loop *loop, const struct net_server_config *config,
                    const struct net_session_handler *handler, struct net_server **out)
{
	assert(handler->open && handler->request && handler->close);
	struct net_server *s = calloc(1, sizeof *s);
	if (!s)
		return err_new(ERR_NOMEM, "no memory for the server");
	s->loop = loop;
	s->config = *config;
	s->handler = *handler;
	if (s->config.max_connections == 0)
		s->config.max_connections = 256;
	if (s->config.frame_timeout_ms == 0)
		s->config.frame_timeout_ms = 10000; /* no half frames held forever */
	if (s->config.max_request_bytes == 0)
		s->config.max_request_bytes = NET_FRAME_MAX_REQUEST_BYTES;
	if (s->config.max_response_bytes == 0)
		s->config.max_response_bytes = NET_FRAME_MAX_RESPONSE_BYTES;
	buf_init(&s->reply, s->config.max_response_bytes);
	err *e = net_sock_listen(&config->listen, NET__LISTEN_BACKLOG, &s->listen_fd);
	if (e) {
		buf_free(&s->reply);
		free(s);
		return err_wrap(e, "sql server");
	}
	e = net_sock_local_port(s->listen_fd, &s->port);
	if (!e) {
		net_io_init(&s->listen_io, s->listen_fd, net__on_listen, s);
		e = net_io_start(loop, &s->listen_io, EPOLLIN);
	}
	if (e) {
		close(s->listen_fd);
		buf_free(&s->reply);
		free(s);
		return err_wrap(e, "sql server");
	}
	*out = s;
	return NULL;
}

void net_server_free(struct net_server *s)
{
	if (!s)
		return;
	while (s->sessions) {
		struct net_session *ss = s->sessions;
		net_conn_destroy(ss->conn);
		net__session_free(ss, true);
	}
	net_io_stop(s->loop, &s->listen_io);
	close(s->listen_fd);
	buf_free(&s->reply);
	free(s);
}

uint16_t net_server_port(const struct net_server *s)
{
	return s->port;
}

struct net_server_stats net_server_stats(const struct net_server *s)
{
	return s->stats;
}

void net_session_reply(struct net_session *ss, const struct net_response *resp)
{
	assert(ss->opened && ss->in_flight);
	ss->in_flight = false;
	if (!net_conn_is_open(ss->conn))
		return;
	net__send(ss, resp);
	net_conn_resume(ss->conn);
}

const char *net_session_peer(const struct net_session *ss)
{
	return ss->peer;
}
