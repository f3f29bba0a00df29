/*
 * transport.h — Raft messages between nodes over TCP.
 *
 * Who dials: every node dials each peer, and accepts the peers' dials. Between nodes a and
 * b (a < b) both directions travel on the connection a dialled: a sends on it and b answers
 * on it, so each message's TCP acknowledgement rides on the next message the other way
 * instead of costing a packet of its own. The other dial is the fallback, for both: each
 * sends on it while the shared one is not connected (a restarting, or one of the two
 * unable to reach the other). No node ever has to decide which of two crossing dials
 * wins. The first frame on a connection is a hello naming sender, receiver and the
 * sender's cluster:
 *
 *     hello = ["cairn-raft", version, from_id, to_id, cluster_id]      (msgpack)
 *
 * A receiver accepts a connection only after a hello from a configured peer addressed to
 * itself, of its own cluster: a node that knows its cluster's id (core/node/node.h)
 * accepts only hellos carrying it, so a node started on a data directory of another
 * cluster cannot join in, and least of all lead, and a sender must know the id to be
 * heard; a node that knows no id yet (a new data directory) accepts any hello and learns
 * the first id it is told, which its own hellos then carry. Until its hello a connection
 * may send frames no larger than a hello. The id is no secret (it travels in clear, and
 * the nodes log it): the Raft port belongs on a network only the cluster's nodes reach. A newer
 * connection from the same peer replaces the older one (the peer restarted); one within
 * a second of the last, while that is still open, is also logged as a warning: two
 * processes run as that node. Everything after the hello, in either direction, is one Raft message per
 * frame, delivered as `receive(ctx, from_id, bytes, len)`.
 *
 * Sending is best effort, as env.h promises: a message for a peer that is not connected
 * (or whose bounded queue is full) is dropped and counted — Raft retransmits. A lost
 * outgoing connection is re-dialled after a back-off that doubles from backoff_min_ms to
 * backoff_max_ms, and starts again from backoff_min_ms after a connection that lasted
 * backoff_max_ms (a peer that closes at once, refusing the hello, is not redialled twenty
 * times a second).
 */
#ifndef CAIRN_NET_TRANSPORT_H
#define CAIRN_NET_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/log.h"
#include "net/loop.h"
#include "net/sock.h"

/* A cluster has at most this many nodes (Raft's RAFT_MAX_NODES; cairnd checks they agree). */
#define NET_TRANSPORT_MAX_NODES 9
#define NET_TRANSPORT_HELLO_MAGIC "cairn-raft"
/*
 * Raised whenever two builds could not share a cluster: a different wire format, or
 * different rules for applying an entry (replicas must decide every transaction alike).
 * 2: the MVCC validation window drops records in chunks (MVCC format 3).
 * 3: a higher-id node answers on the connection the lower id dialled (version 2 closes a
 *    connection it dialled when frames come back on it).
 * 4: a heartbeat's answer carries the follower's last index, which a leader reads as a
 *    lost log when it is below the follower's match (version 3 sends 0 there).
 * 5: the hello carries the cluster's id.
 */
#define NET_TRANSPORT_VERSION 5

struct net_transport;

struct net_transport_peer {
	uint32_t id;
	struct net_addr addr; /* where the peer's transport listens */
};

/* Receives one message from node `from`; the bytes are valid only during the call. */
typedef void (*net_transport_receive_fn)(void *ctx, uint32_t from, const uint8_t *bytes,
                                         size_t len);

/* The id of the cluster this node belongs to, 0 while it does not know it. */
typedef uint64_t (*net_transport_cluster_id_fn)(void *ctx);

/* Receives one log message (no prefix, no newline); the env adds time and node. */
typedef void (*net_log_fn)(void *ctx, enum log_level level, const char *line);

struct net_transport_config {
	uint32_t self_id;
	struct net_addr listen; /* port 0 picks a free port; see net_transport_port() */
	const struct net_transport_peer *peers; /* the other nodes (self is skipped) */
	size_t peer_count;
	size_t max_frame_bytes;      /* 0: NET_FRAME_MAX_RAFT_BYTES */
	size_t max_queue_bytes;      /* per peer; 0: 64 MiB */
	size_t max_queue_frames;     /* per peer; 0: 4096 */
	uint64_t backoff_min_ms;     /* 0: 50 */
	uint64_t backoff_max_ms;     /* 0: 2000 */
	uint64_t connect_timeout_ms; /* 0: 2000 */
	uint64_t hello_timeout_ms;   /* an incoming connection must say hello by then; 0: 5000 */
	net_transport_receive_fn receive;
	void *receive_ctx;
	net_transport_cluster_id_fn cluster_id; /* may be NULL: no cluster id; ctx: receive_ctx */
	net_log_fn log;                         /* may be NULL */
	void *log_ctx;
};

struct net_transport_stats {
	uint64_t sent;     /* messages queued on a connection */
	uint64_t dropped;  /* messages dropped: no connection or queue full */
	uint64_t received; /* messages delivered to `receive` */
	uint64_t dials;    /* outgoing connection attempts */
	uint64_t rejected; /* incoming connections closed for a bad hello or frame */
};

/* Listens and starts dialling every peer. The config's arrays are copied. */
err *net_transport_new(struct net_loop *loop, const struct net_transport_config *config,
                       struct net_transport **out);

/* Closes every connection and the listener at once; not from inside `receive`. */
void net_transport_free(struct net_transport *t);

/*
 * Queues a message for node `to` (copied), or drops it; never blocks. Messages queued for
 * one peer during a loop step are written together at its end (conn.h).
 */
void net_transport_send(struct net_transport *t, uint32_t to, const uint8_t *bytes, size_t len);

/* Writes every peer's queued messages now (before the caller blocks). */
void net_transport_flush(struct net_transport *t);

/* The port the transport listens on. */
uint16_t net_transport_port(const struct net_transport *t);

/* True when our own dial to `to` is established (and its hello queued). */
bool net_transport_connected(const struct net_transport *t, uint32_t to);

struct net_transport_stats net_transport_stats(const struct net_transport *t);

#endif
