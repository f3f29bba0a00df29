/*
 * transport.c — peers, dialling with back-off, the hello handshake, inbound connections.
 *
 * Each peer has at most one outgoing connection (our dial) and one incoming connection
 * (theirs); messages go on the one the lower id dialled when it is there (transport.h),
 * and are received on both. Incoming connections live in a fixed table of slots until
 * they end; a slot learns its peer from the hello. The table bounds how many sockets
 * strangers can make us hold open.
 */
#include "net/transport.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/codec.h"
#include "net/conn.h"
#include "net/frame.h"

/* Incoming connections held at once (hello pending or established). */
#define NET__MAX_INBOUND (2 * NET_TRANSPORT_MAX_NODES)
#define NET__ACCEPTS_PER_EVENT 64
#define NET__LISTEN_BACKLOG 64
#define NET__HELLO_MAX_BYTES 64
#define NET__LINGER_MS 1000
/* A peer's new connection this soon after its last, still open, is a second process. */
#define NET__REPLACED_SOON_MS 1000

struct net_transport;

struct net__peer {
	struct net_transport *t;
	uint32_t id;
	struct net_addr addr;
	struct net_conn *out;    /* our dial, or NULL while backing off */
	struct net_conn *in;     /* their dial, once its hello arrived */
	struct net_timer redial; /* armed while backing off */
	uint64_t backoff_ms;     /* the next back-off */
	uint64_t connected_ms;   /* when our dial last connected (loop time) */
	uint64_t in_since_ms;    /* when `in` said hello */
};

struct net__inbound {
	struct net_transport *t;
	struct net_conn *conn;  /* NULL: slot free */
	struct net__peer *peer; /* NULL until the hello */
	struct net_timer hello_timer;
};

struct net_transport {
	struct net_loop *loop;
	struct net_transport_config config;
	struct net__peer peers[NET_TRANSPORT_MAX_NODES];
	size_t peer_count;
	struct net__inbound inbound[NET__MAX_INBOUND];
	int listen_fd;
	struct net_io listen_io;
	uint16_t port;
	struct net_transport_stats stats;
	uint64_t learned_cluster_id; /* while the node knows none: the one peers' hellos carry */
};

static void net__logf(struct net_transport *t, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void net__logf(struct net_transport *t, enum log_level level, const char *fmt, ...)
{
	if (!t->config.log)
		return;
	char line[LOG_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	t->config.log(t->config.log_ctx, level, line);
}

static struct net__peer *net__find_peer(struct net_transport *t, uint32_t id)
{
	for (size_t i = 0; i < t->peer_count; i++)
		if (t->peers[i].id == id)
			return &t->peers[i];
	return NULL;
}

static struct net_conn_limits net__limits(const struct net_transport *t)
{
	return (struct net_conn_limits){
	    .max_frame_bytes = t->config.max_frame_bytes,
	    .max_queue_bytes = t->config.max_queue_bytes,
	    .max_queue_frames = t->config.max_queue_frames,
	    .connect_timeout_ms = t->config.connect_timeout_ms,
	    .linger_ms = NET__LINGER_MS,
	};
}

/* ---- the hello ---- */

/* The id of the cluster this node knows it belongs to (0: none yet). */
static uint64_t net__cluster_id(const struct net_transport *t)
{
	return t->config.cluster_id ? t->config.cluster_id(t->config.receive_ctx) : 0;
}

/* The id this node's hellos carry: its own, or else the one its peers' hellos carried. */
static uint64_t net__hello_cluster_id(const struct net_transport *t)
{
	uint64_t own = net__cluster_id(t);
	return own ? own : t->learned_cluster_id;
}

/*
 * Admits a hello of cluster `theirs` from node `from`. A node that knows its cluster
 * admits only that cluster's id, so a stranger must know it; a node that knows none yet
 * (a new data directory) admits anyone and learns the first id it is told, which its own
 * hellos then carry.
 */
static err *net__admit_cluster(struct net_transport *t, uint32_t from, uint64_t theirs)
{
	uint64_t own = net__cluster_id(t);
	uint64_t known = own ? own : t->learned_cluster_id;
	if (theirs != 0 && known != 0 && theirs != known)
		return err_new(ERR_INVALID,
		               "hello from node %u of another cluster (id %016llx; this node's "
		               "cluster is %016llx): was that node started on another cluster's "
		               "data directory?",
		               from, (unsigned long long)theirs, (unsigned long long)known);
	if (theirs == 0 && own != 0)
		return err_new(ERR_INVALID,
		               "hello from node %u without the cluster's id (a node on a new data "
		               "directory learns it from its peers' hellos, then dials again)",
		               from);
	if (known == 0 && theirs != 0) {
		t->learned_cluster_id = theirs;
		net__logf(t, LOG_INFO, "transport: node %u says the cluster's id is %016llx", from,
		          (unsigned long long)theirs);
	}
	return NULL;
}

static err *net__hello_encode(uint32_t from, uint32_t to, uint64_t cluster, struct buf *out)
{
	struct codec_out o;
	codec_out_init(&o, out);
	codec_put_array(&o, 5);
	codec_put_str(&o, NET_TRANSPORT_HELLO_MAGIC, strlen(NET_TRANSPORT_HELLO_MAGIC));
	codec_put_u64(&o, NET_TRANSPORT_VERSION);
	codec_put_u64(&o, from);
	codec_put_u64(&o, to);
	codec_put_u64(&o, cluster);
	return codec_out_end(&o);
}

/* Checks a hello addressed to `self`; returns the sender's id and its cluster's. */
static err *net__hello_decode(const uint8_t *bytes, size_t len, uint32_t self, uint32_t *from,
                              uint64_t *cluster)
{
	struct codec_doc doc;
	const msgpack_object *root;
	TRY(codec_parse(&doc, bytes, len, &root));
	struct codec_in in;
	codec_in_init(&in, root, 4, 5);
	struct slice magic = codec_get_str(&in, NET__HELLO_MAX_BYTES);
	uint64_t version = codec_get_u64(&in);
	uint64_t sender = codec_get_u64(&in);
	uint64_t receiver = codec_get_u64(&in);
	uint64_t theirs = codec_in_remaining(&in) > 0 ? codec_get_u64(&in) : 0;
	err *e = codec_in_end(&in, false);
	codec_doc_free(&doc);
	if (e)
		return err_wrap(e, "bad hello");
	if (!slice_eq(magic,
	              slice_of(NET_TRANSPORT_HELLO_MAGIC, strlen(NET_TRANSPORT_HELLO_MAGIC))))
		return err_new(ERR_DECODE, "bad hello: not a cairn raft connection");
	if (version != NET_TRANSPORT_VERSION)
		return err_new(ERR_DECODE, "bad hello: version %llu, expected %d",
		               (unsigned long long)version, NET_TRANSPORT_VERSION);
	if (receiver != self)
		return err_new(ERR_DECODE, "bad hello: addressed to node %llu, this is node %u",
		               (unsigned long long)receiver, self);
	if (sender == 0 || sender > UINT32_MAX)
		return err_new(ERR_DECODE, "bad hello: sender id %llu", (unsigned long long)sender);
	*from = (uint32_t)sender;
	*cluster = theirs;
	return NULL;
}

/* ---- outgoing connections ---- */

static void net__dial(struct net__peer *p);

static void net__schedule_redial(struct net__peer *p)
{
	struct net_transport *t = p->t;
	err *e = net_timer_start(t->loop, &p->redial, p->backoff_ms);
	if (e) {
		net__logf(t, LOG_ERROR, "transport: cannot schedule a redial of peer %u: %s", p->id,
		          err_msg(e));
		err_free(e);
	}
	uint64_t next = p->backoff_ms * 2;
	p->backoff_ms = next < t->config.backoff_max_ms ? next : t->config.backoff_max_ms;
}

static void net__out_connected(struct net_conn *conn, void *data)
{
	struct net__peer *p = data;
	(void)conn;
	p->connected_ms = net_loop_now_ms(p->t->loop);
	net__logf(p->t, LOG_INFO, "transport: connected to peer %u at %s:%u", p->id, p->addr.host,
	          p->addr.port);
}

static void net__deliver(struct net_transport *t, const struct net__peer *from,
                         const uint8_t *payload, size_t len)
{
	t->stats.received++;
	t->config.receive(t->config.receive_ctx, from->id, payload, len);
}

/* Frames from the peer on our dial: it is the shared one, or the peer's is down. */
static void net__out_frame(struct net_conn *conn, const uint8_t *payload, size_t len, void *data)
{
	struct net__peer *p = data;
	(void)conn;
	net__deliver(p->t, p, payload, len);
}

static void net__out_closed(struct net_conn *conn, const err *reason, void *data)
{
	struct net__peer *p = data;
	assert(p->out == conn);
	(void)conn;
	p->out = NULL;
	/*
	 * The back-off starts again only after a connection that lasted: one the peer closes
	 * at once (it refused the hello: another cluster, another build) is redialled ever
	 * more slowly, not twenty times a second.
	 */
	uint64_t now = net_loop_now_ms(p->t->loop);
	if (p->connected_ms && now - p->connected_ms >= p->t->config.backoff_max_ms)
		p->backoff_ms = p->t->config.backoff_min_ms;
	p->connected_ms = 0;
	net__logf(p->t, LOG_INFO, "transport: connection to peer %u lost (%s); redial in %llums",
	          p->id, reason ? err_msg(reason) : "closed", (unsigned long long)p->backoff_ms);
	net__schedule_redial(p);
}

static void net__dial(struct net__peer *p)
{
	struct net_transport *t = p->t;
	assert(!p->out);
	t->stats.dials++;
	int fd;
	err *e = net_sock_connect_start(&p->addr, &fd);
	char name[64];
	snprintf(name, sizeof name, "peer %u", p->id);
	static const struct net_conn_callbacks cb = {
	    .on_connect = net__out_connected,
	    .on_frame = net__out_frame,
	    .on_close = net__out_closed,
	};
	struct net_conn_limits limits = net__limits(t);
	if (!e)
		e = net_conn_new(t->loop, fd, true, &limits, &cb, p, name, &p->out);
	if (!e) {
		struct buf hello;
		buf_init(&hello, NET__HELLO_MAX_BYTES);
		e = net__hello_encode(t->config.self_id, p->id, net__hello_cluster_id(t), &hello);
		if (!e)
			e = net_conn_send(p->out, hello.data, hello.len);
		buf_free(&hello);
		if (e) {
			net_conn_destroy(p->out);
			p->out = NULL;
		}
	}
	if (e) {
		net__logf(t, LOG_WARN, "transport: cannot dial peer %u: %s", p->id, err_msg(e));
		err_free(e);
		net__schedule_redial(p);
	}
}

static void net__on_redial(struct net_timer *timer)
{
	struct net__peer *p = timer->data;
	if (!p->out)
		net__dial(p);
}

/* ---- incoming connections ---- */

static void net__in_frame(struct net_conn *conn, const uint8_t *payload, size_t len, void *data)
{
	struct net__inbound *slot = data;
	struct net_transport *t = slot->t;
	if (slot->peer) {
		net__deliver(t, slot->peer, payload, len);
		return;
	}
	uint32_t from = 0;
	uint64_t cluster = 0;
	err *e = net__hello_decode(payload, len, t->config.self_id, &from, &cluster);
	struct net__peer *p = e ? NULL : net__find_peer(t, from);
	if (!e && !p)
		e = err_new(ERR_DECODE, "hello from node %u, which is not a peer", from);
	if (!e)
		e = net__admit_cluster(t, from, cluster);
	if (e) {
		t->stats.rejected++;
		net_conn_close(conn, err_wrap(e, "%s", net_conn_name(conn)));
		return;
	}
	net_timer_stop(t->loop, &slot->hello_timer);
	uint64_t now = net_loop_now_ms(t->loop);
	if (p->in) {
		/* a restarted peer replaces a connection it left behind, not one it just made */
		if (now - p->in_since_ms < NET__REPLACED_SOON_MS)
			net__logf(
			    t, LOG_WARN,
			    "transport: peer %u connected again %llums after its last "
			    "connection, which is still open: do two processes run as node %u?",
			    p->id, (unsigned long long)(now - p->in_since_ms), p->id);
		net_conn_close(p->in, err_new(ERR_UNAVAILABLE,
		                              "replaced by a newer connection "
		                              "from peer %u",
		                              p->id));
	}
	slot->peer = p;
	p->in = conn;
	p->in_since_ms = now;
	net_conn_set_max_frame(conn, t->config.max_frame_bytes);
	net__logf(t, LOG_INFO, "transport: peer %u connected", p->id);
}

static void net__in_closed(struct net_conn *conn, const err *reason, void *data)
{
	struct net__inbound *slot = data;
	struct net_transport *t = slot->t;
	if (slot->peer) {
		if (slot->peer->in == conn)
			slot->peer->in = NULL;
		net__logf(t, LOG_INFO, "transport: connection from peer %u ended (%s)",
		          slot->peer->id, reason ? err_msg(reason) : "closed");
	} else {
		net__logf(t, LOG_WARN, "transport: closed %s",
		          reason ? err_msg(reason) : net_conn_name(conn));
	}
	net_timer_stop(t->loop, &slot->hello_timer);
	slot->conn = NULL;
	slot->peer = NULL;
}

static void net__on_hello_timeout(struct net_timer *timer)
{
	struct net__inbound *slot = timer->data;
	assert(slot->conn && !slot->peer);
	slot->t->stats.rejected++;
	net_conn_close(slot->conn, err_new(ERR_UNAVAILABLE, "%s: no hello within %llums",
	                                   net_conn_name(slot->conn),
	                                   (unsigned long long)slot->t->config.hello_timeout_ms));
}

static void net__in_bad_frame(struct net_conn *conn, const err *reason, void *data)
{
	struct net__inbound *slot = data;
	(void)conn;
	(void)reason;
	slot->t->stats.rejected++;
}

static void net__accept_one(struct net_transport *t, int fd)
{
	struct net__inbound *slot = NULL;
	for (size_t i = 0; i < NET__MAX_INBOUND && !slot; i++)
		if (!t->inbound[i].conn)
			slot = &t->inbound[i];
	if (!slot) {
		t->stats.rejected++;
		net__logf(t, LOG_WARN, "transport: refusing a connection: %d already open",
		          NET__MAX_INBOUND);
		close(fd);
		return;
	}
	static const struct net_conn_callbacks cb = {
	    .on_frame = net__in_frame,
	    .on_bad_frame = net__in_bad_frame,
	    .on_close = net__in_closed,
	};
	/* until its hello, a stranger may send no more than a hello */
	struct net_conn_limits limits = net__limits(t);
	limits.max_send_bytes = limits.max_frame_bytes;
	limits.max_frame_bytes = NET__HELLO_MAX_BYTES;
	char peer[64], name[96];
	net_sock_peer_name(fd, peer, sizeof peer);
	snprintf(name, sizeof name, "raft connection from %s", peer);
	slot->t = t;
	slot->peer = NULL;
	err *e = net_conn_new(t->loop, fd, false, &limits, &cb, slot, name, &slot->conn);
	if (!e) {
		net_timer_init(&slot->hello_timer, net__on_hello_timeout, slot);
		e = net_timer_start(t->loop, &slot->hello_timer, t->config.hello_timeout_ms);
		if (e)
			net_conn_destroy(slot->conn);
	}
	if (e) {
		slot->conn = NULL;
		net__logf(t, LOG_WARN, "transport: %s", err_msg(e));
		err_free(e);
	}
}

static void net__on_listen(struct net_io *io, uint32_t events)
{
	struct net_transport *t = io->data;
	(void)events;
	for (int i = 0; i < NET__ACCEPTS_PER_EVENT; i++) {
		int fd;
		err *e = net_sock_accept(t->listen_fd, &fd);
		if (e) {
			net__logf(t, LOG_WARN, "transport: %s", err_msg(e));
			err_free(e);
			return;
		}
		if (fd < 0)
			return;
		net__accept_one(t, fd);
	}
}

/* ---- the public calls ---- */

static err *net__check_config(const struct net_transport_config *c)
{
	if (c->self_id == 0)
		return err_new(ERR_INVALID, "transport: node id 0 is not valid");
	if (!c->receive)
		return err_new(ERR_INVALID, "transport: no receive callback");
	if (c->peer_count > NET_TRANSPORT_MAX_NODES)
		return err_new(ERR_LIMIT, "transport: %zu peers, at most %d", c->peer_count,
		               NET_TRANSPORT_MAX_NODES);
	for (size_t i = 0; i < c->peer_count; i++) {
		if (c->peers[i].id == 0)
			return err_new(ERR_INVALID, "transport: peer id 0 is not valid");
		for (size_t j = 0; j < i; j++)
			if (c->peers[i].id == c->peers[j].id)
				return err_new(ERR_INVALID, "transport: peer %u listed twice",
				               c->peers[i].id);
	}
	return NULL;
}

static void net__apply_defaults(struct net_transport_config *c)
{
	if (c->max_frame_bytes == 0)
		c->max_frame_bytes = NET_FRAME_MAX_RAFT_BYTES;
	if (c->max_queue_bytes == 0)
		c->max_queue_bytes = (size_t)64 << 20;
	if (c->max_queue_frames == 0)
		c->max_queue_frames = 4096;
	if (c->backoff_min_ms == 0)
		c->backoff_min_ms = 50;
	if (c->backoff_max_ms < c->backoff_min_ms)
		c->backoff_max_ms = c->backoff_min_ms > 2000 ? c->backoff_min_ms : 2000;
	if (c->connect_timeout_ms == 0)
		c->connect_timeout_ms = 2000;
	if (c->hello_timeout_ms == 0)
		c->hello_timeout_ms = 5000;
}

err *net_transport_new(struct net_loop *loop, const struct net_transport_config *config,
                       struct net_transport **out)
{
	TRY(net__check_config(config));
	struct net_transport *t = calloc(1, sizeof *t);
	if (!t)
		return err_new(ERR_NOMEM, "no memory for the transport");
	t->loop = loop;
	t->config = *config;
	t->config.peers = NULL; /* copied into t->peers below */
	net__apply_defaults(&t->config);
	err *e = net_sock_listen(&config->listen, NET__LISTEN_BACKLOG, &t->listen_fd);
	if (e) {
		free(t);
		return err_wrap(e, "transport");
	}
	e = net_sock_local_port(t->listen_fd, &t->port);
	if (!e) {
		net_io_init(&t->listen_io, t->listen_fd, net__on_listen, t);
		e = net_io_start(loop, &t->listen_io, EPOLLIN);
	}
	if (e) {
		close(t->listen_fd);
		free(t);
		return err_wrap(e, "transport");
	}
	for (size_t i = 0; i < config->peer_count; i++) {
		if (config->peers[i].id == config->self_id)
			continue;
		struct net__peer *p = &t->peers[t->peer_count++];
		p->t = t;
		p->id = config->peers[i].id;
		p->addr = config->peers[i].addr;
		p->backoff_ms = t->config.backoff_min_ms;
		net_timer_init(&p->redial, net__on_redial, p);
	}
	for (size_t i = 0; i < t->peer_count; i++)
		net__dial(&t->peers[i]);
	*out = t;
	return NULL;
}

void net_transport_free(struct net_transport *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->peer_count; i++) {
		struct net__peer *p = &t->peers[i];
		net_timer_stop(t->loop, &p->redial);
		if (p->out)
			net_conn_destroy(p->out);
	}
	for (size_t i = 0; i < NET__MAX_INBOUND; i++) {
		if (!t->inbound[i].conn)
			continue;
		net_timer_stop(t->loop, &t->inbound[i].hello_timer);
		net_conn_destroy(t->inbound[i].conn);
	}
	net_io_stop(t->loop, &t->listen_io);
	close(t->listen_fd);
	free(t);
}

/*
 * The connection a message for `p` goes on: the one the lower id of the two dialled, so
 * that both directions share it; the other while that one is not connected (the peer
 * restarting, or one of the two unable to reach the other).
 */
static struct net_conn *net__send_conn(const struct net__peer *p)
{
	struct net_conn *shared = p->t->config.self_id < p->id ? p->out : p->in;
	struct net_conn *other = shared == p->out ? p->in : p->out;
	if (shared && net_conn_is_connected(shared))
		return shared;
	if (other && net_conn_is_connected(other))
		return other;
	if (shared && net_conn_is_open(shared))
		return shared; /* still connecting: queued until it is */
	return other && net_conn_is_open(other) ? other : NULL;
}

void net_transport_send(struct net_transport *t, uint32_t to, const uint8_t *bytes, size_t len)
{
	struct net__peer *p = net__find_peer(t, to);
	struct net_conn *conn = p ? net__send_conn(p) : NULL;
	if (!conn) {
		t->stats.dropped++;
		return;
	}
	err *e = net_conn_send(conn, bytes, len);
	if (e) {
		t->stats.dropped++;
		net__logf(t, LOG_DEBUG, "transport: dropped a message to peer %u: %s", to,
		          err_msg(e));
		err_free(e);
		return;
	}
	t->stats.sent++;
}

void net_transport_flush(struct net_transport *t)
{
	for (size_t i = 0; i < t->peer_count; i++) {
		if (t->peers[i].out)
			net_conn_flush(t->peers[i].out);
		if (t->peers[i].in)
			net_conn_flush(t->peers[i].in);
	}
}

uint16_t net_transport_port(const struct net_transport *t)
{
	return t->port;
}

bool net_transport_connected(const struct net_transport *t, uint32_t to)
{
	for (size_t i = 0; i < t->peer_count; i++)
		if (t->peers[i].id == to)
			return t->peers[i].out && net_conn_is_connected(t->peers[i].out);
	return false;
}

struct net_transport_stats net_transport_stats(const struct net_transport *t)
{
	return t->stats;
}
