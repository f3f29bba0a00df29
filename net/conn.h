/*
 * conn.h — one framed TCP connection on the event loop.
 *
 * A connection reads bytes, cuts them into frames (frame.h) and hands each payload to its
 * owner; it writes frames from a bounded FIFO queue. Both the Raft transport and the SQL
 * server are built on it.
 *
 * Lifetime. A connection ends exactly once, for one reason: the peer closed, an I/O error,
 * a bad frame, a connect failure or timeout, or the owner's net_conn_close(). Then the
 * socket is closed at once, no more frames are delivered, and `on_close` is called from a
 * deferred callback (never from inside the owner's own call), after which the connection
 * is freed. Until on_close the pointer stays valid, so the owner may call net_conn_send()
 * (it fails) or net_conn_close() (it does nothing) on a connection that has ended.
 *
 * Bounds. The receive side never buffers more than one maximal frame plus one read; the
 * send queue holds at most `max_queue_bytes` and `max_queue_frames`; a send beyond either
 * is refused with ERR_LIMIT and the connection stays up (the caller decides whether a
 * dropped message matters). With `hold_input_above`, input waits while the peer leaves
 * that much unread; with `frame_timeout_ms`, a peer cannot hold a connection with half a
 * frame.
 */
#ifndef CAIRN_NET_CONN_H
#define CAIRN_NET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "net/loop.h"

struct net_conn;

struct net_conn_limits {
	size_t max_frame_bytes;  /* incoming payloads */
	size_t max_send_bytes;   /* outgoing payloads; 0: max_frame_bytes */
	size_t max_queue_bytes;  /* bytes of queued outgoing frames */
	size_t max_queue_frames; /* queued outgoing frames */
	uint64_t connect_timeout_ms;
	uint64_t linger_ms; /* how long net_conn_shutdown waits for the queue to drain */
	/*
	 * Back-pressure (0: none): while more than this many bytes wait to be sent, no frame
	 * is read or delivered, so a peer that sends without reading is held up by TCP.
	 */
	size_t hold_input_above;
	/* A frame begun must be complete within this time, or the connection ends (0: none). */
	uint64_t frame_timeout_ms;
};

struct net_conn_callbacks {
	/* An outgoing connection was established (optional). */
	void (*on_connect)(struct net_conn *conn, void *data);
	/* One received frame; the payload is valid only during the call. */
	void (*on_frame)(struct net_conn *conn, const uint8_t *payload, size_t len, void *data);
	/*
	 * The stream carried a bad frame (optional). Called before the connection shuts down;
	 * a frame sent from here (an error reply) is flushed before the socket closes.
	 */
	void (*on_bad_frame)(struct net_conn *conn, const err *reason, void *data);
	/* The connection ended; `reason` is NULL for an orderly close by the owner. */
	void (*on_close)(struct net_conn *conn, const err *reason, void *data);
};

/*
 * Wraps an open non-blocking socket (taking ownership of fd; it is closed on failure too).
 * `connecting` says fd is an outgoing connection still in progress. `name` labels the
 * connection in logs and errors ("peer 3", "client 127.0.0.1:5123").
 */
err *net_conn_new(struct net_loop *loop, int fd, bool connecting,
                  const struct net_conn_limits *limits, const struct net_conn_callbacks *cb,
                  void *data, const char *name, struct net_conn **out);

/*
 * Frames `payload` and queues it. Queued frames are written at the end of the current
 * loop step (or by net_conn_flush), all together; while connecting they are held until
 * connected. ERR_LIMIT if the queue is full or the payload too large; ERR_UNAVAILABLE if
 * the connection has ended.
 */
err *net_conn_send(struct net_conn *conn, const void *payload, size_t len);

/* Writes the queued frames now, as far as the socket takes them (before blocking work). */
void net_conn_flush(struct net_conn *conn);

/* Ends the connection now, dropping queued frames; `reason` (owned) may be NULL. */
void net_conn_close(struct net_conn *conn, err *reason);

/*
 * Stops reading and ends the connection once the queue is flushed, or after linger_ms;
 * `reason` (owned) is passed to on_close.
 */
void net_conn_shutdown(struct net_conn *conn, err *reason);

/*
 * Frees the connection now without calling on_close (teardown of the owner). Must not be
 * called from inside one of this connection's own callbacks.
 */
void net_conn_destroy(struct net_conn *conn);

/* Stops delivering frames until net_conn_resume() (back-pressure for one request at a time). */
void net_conn_pause(struct net_conn *conn);
void net_conn_resume(struct net_conn *conn);

/* Changes the largest incoming payload, for frames not yet received (a handshake done). */
void net_conn_set_max_frame(struct net_conn *conn, size_t max_frame_bytes);

bool net_conn_is_open(const struct net_conn *conn);
bool net_conn_is_connected(const struct net_conn *conn);
const char *net_conn_name(const struct net_conn *conn);
size_t net_conn_queued_bytes(const struct net_conn *conn);
size_t net_conn_queued_frames(const struct net_conn *conn);

#endif
