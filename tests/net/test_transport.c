/*
 * Transport tests: three transports in one process on 127.0.0.1 exchange messages; one is
 * restarted and the others reconnect to it; two nodes of which only one can dial the
 * other talk both ways over that dial; a full send queue drops; strangers with a bad
 * hello or garbage are disconnected while the peers keep talking; a node of another
 * cluster is refused both ways.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/codec.h"
#include "check_main.h"
#include "net/frame.h"
#include "net/transport.h"

#define NODES 3

struct inbox {
	uint32_t self;
	uint64_t cluster_id; /* what the node says its cluster is; 0: unknown */
	bool second_process_warned;
	int count;
	int from_count[NODES + 1];
	char last[64];
};

static void on_receive(void *ctx, uint32_t from, const uint8_t *bytes, size_t len)
{
	struct inbox *box = ctx;
	ck_assert_uint_ge(from, 1);
	ck_assert_uint_le(from, NODES);
	ck_assert_uint_ne(from, box->self);
	ck_assert_uint_lt(len, sizeof box->last);
	memcpy(box->last, bytes, len);
	box->last[len] = '\0';
	box->count++;
	box->from_count[from]++;
}

static void box_log(void *ctx, enum log_level level, const char *line)
{
	struct inbox *box = ctx;
	if (level == LOG_WARN && strstr(line, "do two processes run as node"))
		box->second_process_warned = true;
}

static uint64_t box_cluster_id(void *ctx)
{
	const struct inbox *box = ctx;
	return box->cluster_id;
}

/* A port that was free a moment ago (bind to 0, read it back, release it). */
static uint16_t free_port(void)
{
	struct net_addr addr;
	ck_assert_ptr_null(net_addr_parse("127.0.0.1:0", &addr));
	int fd;
	ck_assert_ptr_null(net_sock_listen(&addr, 1, &fd));
	uint16_t port;
	ck_assert_ptr_null(net_sock_local_port(fd, &port));
	close(fd);
	return port;
}

struct cluster {
	struct net_loop loop;
	struct net_transport_peer peers[NODES];
	struct net_transport *t[NODES + 1];
	struct inbox box[NODES + 1];
	/* what heard() waits for: `listener` hearing from `speaker`, who offers `offer` */
	uint32_t listener, speaker;
	const char *offer;
};

/* Starts node `id`, which knows the cluster as `peers` (normally c->peers). */
static void start_node_with(struct cluster *c, uint32_t id, const struct net_transport_peer *peers,
                            size_t max_queue_frames)
{
	struct net_transport_config cfg = {
	    .self_id = id,
	    .listen = c->peers[id - 1].addr,
	    .peers = peers,
	    .peer_count = NODES,
	    .max_queue_frames = max_queue_frames,
	    .backoff_min_ms = 10,
	    .backoff_max_ms = 80,
	    .hello_timeout_ms = 200,
	    .receive = on_receive,
	    .receive_ctx = &c->box[id],
	    .cluster_id = box_cluster_id,
	    .log = box_log,
	    .log_ctx = &c->box[id],
	};
	c->box[id].self = id;
	ck_assert_ptr_null(net_transport_new(&c->loop, &cfg, &c->t[id]));
	ck_assert_uint_eq(net_transport_port(c->t[id]), c->peers[id - 1].addr.port);
}

static void start_node(struct cluster *c, uint32_t id, size_t max_queue_frames)
{
	start_node_with(c, id, c->peers, max_queue_frames);
}

/* A loop and NODES free addresses; no node started. */
static void cluster_init(struct cluster *c)
{
	memset(c, 0, sizeof *c);
	ck_assert_ptr_null(net_loop_init(&c->loop));
	for (uint32_t id = 1; id <= NODES; id++) {
		c->peers[id - 1].id = id;
		ck_assert_ptr_null(net_addr_set(&c->peers[id - 1].addr, "127.0.0.1", free_port()));
	}
}

static void cluster_start(struct cluster *c)
{
	cluster_init(c);
	for (uint32_t id = 1; id <= NODES; id++)
		start_node(c, id, 0);
}

static void cluster_stop(struct cluster *c)
{
	for (uint32_t id = 1; id <= NODES; id++)
		net_transport_free(c->t[id]);
	net_loop_close(&c->loop);
}

static bool all_connected(struct cluster *c)
{
	for (uint32_t a = 1; a <= NODES; a++)
		for (uint32_t b = 1; b <= NODES; b++)
			if (a != b && !net_transport_connected(c->t[a], b))
				return false;
	return true;
}

/* Steps the loop until pred(c) or the time limit; returns pred(c). */
static bool pump(struct cluster *c, bool (*pred)(struct cluster *), uint64_t limit_ms)
{
	uint64_t end = net_loop_now_ms(&c->loop) + limit_ms;
	while (!pred(c) && net_loop_now_ms(&c->loop) < end)
		ck_assert_ptr_null(net_loop_step(&c->loop, 5));
	return pred(c);
}

static void send_str(struct net_transport *t, uint32_t to, const char *s)
{
	net_transport_send(t, to, (const uint8_t *)s, strlen(s));
}

static bool heard(struct cluster *c)
{
	if (c->box[c->listener].from_count[c->speaker] > 0)
		return true;
	/* keep offering: messages sent before the connection is up are dropped */
	if (c->offer)
		send_str(c->t[c->speaker], c->listener, c->offer);
	return false;
}

/* Steps until `listener` hears from `speaker`, who keeps sending `offer` (if not NULL). */
static bool hears(struct cluster *c, uint32_t listener, uint32_t speaker, const char *offer)
{
	c->listener = listener;
	c->speaker = speaker;
	c->offer = offer;
	return pump(c, heard, 5000);
}

static bool everyone_heard_from_everyone(struct cluster *c)
{
	for (uint32_t a = 1; a <= NODES; a++)
		for (uint32_t b = 1; b <= NODES; b++)
			if (a != b && c->box[a].from_count[b] < 10)
				return false;
	return true;
}

START_TEST(three_nodes_exchange_messages)
{
	struct cluster c;
	cluster_start(&c);
	ck_assert(pump(&c, all_connected, 5000));
	for (int round = 0; round < 10; round++)
		for (uint32_t a = 1; a <= NODES; a++)
			for (uint32_t b = 1; b <= NODES; b++)
				if (a != b)
					send_str(c.t[a], b, "hello");
	ck_assert(pump(&c, everyone_heard_from_everyone, 5000));
	for (uint32_t a = 1; a <= NODES; a++) {
		ck_assert_int_eq(c.box[a].count, 20);
		ck_assert_str_eq(c.box[a].last, "hello");
		struct net_transport_stats s = net_transport_stats(c.t[a]);
		ck_assert_uint_eq(s.sent, 20);
		ck_assert_uint_eq(s.received, 20);
		ck_assert_uint_eq(s.dropped, 0);
	}
	/* a message to an unknown node is dropped, not an error */
	send_str(c.t[1], 9, "nobody");
	ck_assert_uint_eq(net_transport_stats(c.t[1]).dropped, 1);
	cluster_stop(&c);
}
END_TEST

START_TEST(a_restarted_node_is_reconnected)
{
	struct cluster c;
	cluster_start(&c);
	ck_assert(pump(&c, all_connected, 5000));
	net_transport_free(c.t[2]);
	c.t[2] = NULL;
	memset(&c.box[2], 0, sizeof c.box[2]);
	/* let the others notice the loss and back off a few times */
	uint64_t end = net_loop_now_ms(&c.loop) + 150;
	while (net_loop_now_ms(&c.loop) < end) {
		send_str(c.t[1], 2, "into the void");
		ck_assert_ptr_null(net_loop_step(&c.loop, 5));
	}
	ck_assert(!net_transport_connected(c.t[1], 2));
	ck_assert_uint_gt(net_transport_stats(c.t[1]).dropped, 0);
	uint64_t dials_before = net_transport_stats(c.t[1]).dials;
	start_node(&c, 2, 0);
	ck_assert(hears(&c, 2, 1, "again")); /* perhaps over node 2's dial, before node 1's */
	ck_assert_str_eq(c.box[2].last, "again");
	send_str(c.t[2], 1, "back");
	ck_assert(hears(&c, 1, 2, NULL));
	ck_assert_str_eq(c.box[1].last, "back");
	ck_assert(pump(&c, all_connected, 5000)); /* node 1 dialled the new node 2 again */
	ck_assert_uint_gt(net_transport_stats(c.t[1]).dials, dials_before);
	cluster_stop(&c);
}
END_TEST

/* A free port that none of the cluster's nodes will listen on. */
static uint16_t closed_port(const struct cluster *c)
{
	for (int tries = 0; tries < 100; tries++) {
		uint16_t port = free_port();
		bool taken = false;
		for (uint32_t i = 0; i < NODES; i++)
			taken = taken || c->peers[i].addr.port == port;
		if (!taken)
			return port;
	}
	ck_abort_msg("no free port besides the cluster's");
	return 0;
}

/*
 * Node 3 has a wrong address for node 1 and node 1 one for node 2 (closed ports), so those
 * two dials never connect. Node 1 and node 3 talk both ways over node 1's dial (the one
 * they share, the lower id's); node 1 and node 2 over node 2's (the fallback).
 */
START_TEST(a_dial_that_connects_carries_both_ways)
{
	struct cluster c;
	cluster_init(&c);
	struct net_transport_peer for_1[NODES], for_3[NODES];
	memcpy(for_1, c.peers, sizeof for_1);
	memcpy(for_3, c.peers, sizeof for_3);
	for_1[1].addr.port = closed_port(&c);
	for_3[0].addr.port = closed_port(&c);
	start_node_with(&c, 1, for_1, 0);
	start_node(&c, 2, 0);
	start_node_with(&c, 3, for_3, 0);
	ck_assert(hears(&c, 1, 3, "up"));
	ck_assert_str_eq(c.box[1].last, "up");
	ck_assert(!net_transport_connected(c.t[3], 1));
	ck_assert(hears(&c, 3, 1, "down"));
	ck_assert_str_eq(c.box[3].last, "down");
	ck_assert(hears(&c, 2, 1, "over"));
	ck_assert(!net_transport_connected(c.t[1], 2));
	ck_assert(hears(&c, 1, 2, "back"));
	ck_assert_str_eq(c.box[1].last, "back");
	cluster_stop(&c);
}
END_TEST

START_TEST(a_full_queue_drops)
{
	struct cluster c;
	cluster_init(&c);
	/* node 2 listens but never accepts; node 1 has room for its hello and three messages */
	int listener;
	ck_assert_ptr_null(net_sock_listen(&c.peers[1].addr, 8, &listener));
	start_node(&c, 1, 4);
	for (int i = 0; i < 10; i++)
		send_str(c.t[1], 2, "queued or dropped");
	struct net_transport_stats s = net_transport_stats(c.t[1]);
	ck_assert_uint_eq(s.sent, 3);
	ck_assert_uint_eq(s.dropped, 7);
	net_transport_free(c.t[1]);
	close(listener);
	net_loop_close(&c.loop);
}
END_TEST

/* Connects a raw socket to node `id` and writes `bytes`. */
static int raw_connect_and_write(struct cluster *c, uint32_t id, const void *bytes, size_t len)
{
	int fd;
	ck_assert_ptr_null(net_sock_connect_start(&c->peers[id - 1].addr, &fd));
	/* the kernel completes a loopback connect without the loop's accept */
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	ck_assert_int_eq(poll(&p, 1, 2000), 1);
	ck_assert_ptr_null(net_sock_connect_result(fd));
	uint64_t end = net_loop_now_ms(&c->loop) + 2000;
	for (;;) {
		ssize_t n = send(fd, bytes, len, MSG_NOSIGNAL);
		if (n == (ssize_t)len)
			break;
		ck_assert_uint_lt(net_loop_now_ms(&c->loop), end);
		ck_assert_ptr_null(net_loop_step(&c->loop, 5));
	}
	return fd;
}

/* Steps until the server closed fd (read returns 0 or an error) or the time limit. */
static bool closed_by_peer(struct cluster *c, int fd, uint64_t limit_ms)
{
	uint64_t end = net_loop_now_ms(&c->loop) + limit_ms;
	while (net_loop_now_ms(&c->loop) < end) {
		ck_assert_ptr_null(net_loop_step(&c->loop, 5));
		char b[64];
		ssize_t n = recv(fd, b, sizeof b, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			return true;
	}
	return false;
}

/* A framed hello of `version` from `from` to `to` of cluster `cluster`, into `frame`. */
static void raw_hello(struct buf *frame, uint64_t version, uint64_t from, uint64_t to,
                      uint64_t cluster)
{
	struct buf hello;
	buf_init(&hello, 256);
	struct codec_out o;
	codec_out_init(&o, &hello);
	codec_put_array(&o, 5);
	codec_put_str(&o, NET_TRANSPORT_HELLO_MAGIC, strlen(NET_TRANSPORT_HELLO_MAGIC));
	codec_put_u64(&o, version);
	codec_put_u64(&o, from);
	codec_put_u64(&o, to);
	codec_put_u64(&o, cluster);
	ck_assert_ptr_null(codec_out_end(&o));
	buf_clear(frame);
	ck_assert_ptr_null(net_frame_encode(frame, hello.data, hello.len, 256));
	buf_free(&hello);
}

START_TEST(strangers_are_disconnected)
{
	struct cluster c;
	cluster_start(&c);
	ck_assert(pump(&c, all_connected, 5000));
	/* garbage: an oversized length prefix */
	int g = raw_connect_and_write(&c, 1, "\xff\xff\xff\xff garbage", 12);
	ck_assert(closed_by_peer(&c, g, 3000));
	close(g);
	/* a valid frame holding a hello from a node that is not a peer */
	struct buf frame;
	buf_init(&frame, 256);
	raw_hello(&frame, NET_TRANSPORT_VERSION, 7, 1, 0);
	int h = raw_connect_and_write(&c, 1, frame.data, frame.len);
	ck_assert(closed_by_peer(&c, h, 3000));
	close(h);
	/* a peer of another build: the version an older one says */
	raw_hello(&frame, NET_TRANSPORT_VERSION - 1, 2, 1, 0);
	int v = raw_connect_and_write(&c, 1, frame.data, frame.len);
	ck_assert(closed_by_peer(&c, v, 3000));
	close(v);
	/* a peer's id, of another cluster */
	c.box[1].cluster_id = 0xa;
	raw_hello(&frame, NET_TRANSPORT_VERSION, 2, 1, 0xb);
	int o = raw_connect_and_write(&c, 1, frame.data, frame.len);
	ck_assert(closed_by_peer(&c, o, 3000));
	close(o);
	/* a peer's id without the cluster's, to a node that knows it */
	raw_hello(&frame, NET_TRANSPORT_VERSION, 2, 1, 0);
	int z = raw_connect_and_write(&c, 1, frame.data, frame.len);
	ck_assert(closed_by_peer(&c, z, 3000));
	close(z);
	/* two processes as node 2: the second's hello replaces the first's connection at once */
	raw_hello(&frame, NET_TRANSPORT_VERSION, 2, 1, 0xa);
	int twin1 = raw_connect_and_write(&c, 1, frame.data, frame.len);
	int twin2 = raw_connect_and_write(&c, 1, frame.data, frame.len);
	ck_assert(closed_by_peer(&c, twin1, 3000));
	ck_assert(c.box[1].second_process_warned);
	close(twin1);
	close(twin2);
	/* a frame that is not msgpack at all */
	buf_clear(&frame);
	ck_assert_ptr_null(net_frame_encode(&frame, "\xc1\xc1", 2, 256));
	int m = raw_connect_and_write(&c, 1, frame.data, frame.len);
	ck_assert(closed_by_peer(&c, m, 3000));
	close(m);
	buf_free(&frame);
	/* a connection that never says hello */
	int q = raw_connect_and_write(&c, 1, "", 0);
	ck_assert(closed_by_peer(&c, q, 3000));
	close(q);
	ck_assert_uint_ge(net_transport_stats(c.t[1]).rejected, 7);
	/* the peers still talk */
	for (int round = 0; round < 10; round++)
		for (uint32_t a = 1; a <= NODES; a++)
			for (uint32_t b = 1; b <= NODES; b++)
				if (a != b)
					send_str(c.t[a], b, "still here");
	ck_assert(pump(&c, everyone_heard_from_everyone, 5000));
	cluster_stop(&c);
}
END_TEST

/*
 * Nodes 1 and 2 know their cluster as A, node 3 (as if started on another cluster's data
 * directory) as B: 1 and 2 talk, node 3 and they never hear each other. A node that knows
 * no cluster yet (a new data directory) learns A from their hellos and is let in.
 */
START_TEST(a_node_of_another_cluster_is_refused)
{
	struct cluster c;
	cluster_init(&c);
	c.box[1].cluster_id = c.box[2].cluster_id = 0xa;
	c.box[3].cluster_id = 0xb;
	for (uint32_t id = 1; id <= NODES; id++)
		start_node(&c, id, 0);
	ck_assert(hears(&c, 2, 1, "same cluster"));
	ck_assert(hears(&c, 1, 2, "same cluster"));
	c.listener = 1, c.speaker = 3, c.offer = "another cluster";
	ck_assert(!pump(&c, heard, 1000));
	c.listener = 3, c.speaker = 2, c.offer = "another cluster";
	ck_assert(!pump(&c, heard, 1000));
	ck_assert(!net_transport_connected(c.t[1], 3) && !net_transport_connected(c.t[3], 2));
	ck_assert_uint_ge(net_transport_stats(c.t[1]).rejected, 1);
	ck_assert_uint_ge(net_transport_stats(c.t[3]).rejected, 1);
	c.box[3].cluster_id = 0;
	ck_assert(hears(&c, 1, 3, "new here"));
	ck_assert(hears(&c, 3, 2, "welcome"));
	cluster_stop(&c);
}
END_TEST

/*
 * Before its hello a connection may send no more than a hello: the header of a 1 MiB
 * frame ends it at once, where the node used to buffer such frames from every stranger
 * until the hello timeout.
 */
START_TEST(a_stranger_sends_no_more_than_a_hello)
{
	struct cluster c;
	cluster_init(&c);
	struct net_transport_config cfg = {
	    .self_id = 1,
	    .listen = c.peers[0].addr,
	    .peers = c.peers,
	    .peer_count = NODES,
	    .hello_timeout_ms = 60000,
	    .receive = on_receive,
	    .receive_ctx = &c.box[1],
	};
	ck_assert_ptr_null(net_transport_new(&c.loop, &cfg, &c.t[1]));
	uint8_t header[4];
	store_u32be(header, 1u << 20);
	int fd = raw_connect_and_write(&c, 1, header, sizeof header);
	ck_assert(closed_by_peer(&c, fd, 3000));
	close(fd);
	ck_assert_uint_eq(net_transport_stats(c.t[1]).rejected, 1);
	net_transport_free(c.t[1]);
	net_loop_close(&c.loop);
}
END_TEST

static Suite *transport_suite(void)
{
	Suite *s = suite_create("transport");
	TCase *tc = tcase_create("transport");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, three_nodes_exchange_messages);
	tcase_add_test(tc, a_restarted_node_is_reconnected);
	tcase_add_test(tc, a_dial_that_connects_carries_both_ways);
	tcase_add_test(tc, a_full_queue_drops);
	tcase_add_test(tc, strangers_are_disconnected);
	tcase_add_test(tc, a_node_of_another_cluster_is_refused);
	tcase_add_test(tc, a_stranger_sends_no_more_than_a_hello);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(transport_suite());
}
