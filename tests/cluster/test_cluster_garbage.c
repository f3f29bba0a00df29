/*
 * test_cluster_garbage.c — untrusted bytes against a running cairnd (started by
 * test_cluster_garbage.sh, which passes the ports in the environment):
 *
 *   CAIRN_TEST_SQL_PORT    node 1's SQL port
 *   CAIRN_TEST_RAFT_PORT   node 1's Raft port
 *
 * Garbage, random bytes, truncated frames, oversized length prefixes, bad checksums and
 * valid frames whose payload is not valid msgpack (or not a request / not a hello) are
 * sent to both ports. Each such connection must get an error response or be closed
 * (never hang, never get a normal answer), and afterwards node 1 must still serve SQL:
 * reads, and writes, which need its Raft links to the other nodes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/codec.h"
#include "base/prng.h"
#include "check_main.h"
#include "net/client.h"
#include "net/frame.h"
#include "net/protocol.h"

#define READ_TIMEOUT_S 5
/* How long a write may wait for the cluster to heal a Raft link we disturbed. */
#define WRITE_RETRY_MS 10000

static uint16_t sql_port;
static uint16_t raft_port;

/* The port in environment variable `name`, or 0 when it is missing or not a port. */
static uint16_t port_from_env(const char *name)
{
	const char *v = getenv(name);
	long p = v ? strtol(v, NULL, 10) : 0;
	return p > 0 && p < 65536 ? (uint16_t)p : 0;
}

static int dial(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	struct timeval tv = {READ_TIMEOUT_S, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
	return fd;
}

/* Sends the bytes; a peer that closed early is fine (that is one allowed outcome). */
static void send_bytes(int fd, const void *bytes, size_t len)
{
	const uint8_t *p = bytes;
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

enum outcome { CLOSED, ERROR_RESPONSE, OTHER_RESPONSE, TIMEOUT };

/*
 * Reads what the node does next: closes the connection, or sends a frame (an ERROR
 * response, or something else), or nothing within READ_TIMEOUT_S.
 */
static enum outcome read_outcome(int fd, enum err_code *code)
{
	struct net_frame_decoder d;
	net_frame_decoder_init(&d, NET_FRAME_MAX_RESPONSE_BYTES);
	enum outcome result = TIMEOUT;
	for (int reads = 0; reads < 4096; reads++) {
		uint8_t bytes[4096];
		ssize_t n = recv(fd, bytes, sizeof bytes, 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET)) {
			result = CLOSED;
			break;
		}
		if (n < 0)
			break; /* the timeout */
		err *e = net_frame_decoder_feed(&d, bytes, (size_t)n);
		struct slice payload;
		bool ready = false;
		if (!e)
			e = net_frame_decoder_next(&d, &payload, &ready);
		ck_assert_msg(e == NULL, "the node sent a bad frame: %s", err_msg(e));
		if (!ready)
			continue;
		struct net_response resp;
		e = net_response_decode(payload.ptr, payload.len, &resp);
		ck_assert_msg(e == NULL, "the node sent a bad response: %s", err_msg(e));
		result = resp.kind == NET_RESP_ERROR ? ERROR_RESPONSE : OTHER_RESPONSE;
		*code = resp.code;
		net_response_free(&resp);
		break;
	}
	net_frame_decoder_free(&d);
	return result;
}

/* A frame around `payload` with a correct checksum. */
static void framed(const void *payload, size_t len, struct buf *out)
{
	buf_init(out, NET_FRAME_MAX_RAFT_BYTES);
	err *e = net_frame_encode(out, payload, len, NET_FRAME_MAX_RAFT_BYTES);
	ck_assert(e == NULL);
}

/* The node still answers a read on its SQL port. */
static void assert_serving(void)
{
	struct net_client *c;
	err *e = net_client_connect(NULL, sql_port, 10000, &c);
	ck_assert_msg(e == NULL, "cannot connect after garbage: %s", e ? err_msg(e) : "");
	struct net_response resp;
	e = net_client_execute(c, "SELECT 1 + 1", &resp);
	ck_assert_msg(e == NULL, "no answer after garbage: %s", e ? err_msg(e) : "");
	ck_assert_int_eq(resp.kind, NET_RESP_ROWS);
	ck_assert_int_eq(resp.row_count, 1);
	ck_assert_int_eq(net_response_value(&resp, 0, 0)->as.integer, 2);
	net_response_free(&resp);
	net_client_close(c);
}

/* The bad inputs, as (name, bytes) built fresh for each use. */
enum bad_kind {
	BAD_TEXT,
	BAD_RANDOM,
	BAD_TRUNCATED,
	BAD_OVERSIZED,
	BAD_CHECKSUM,
	BAD_MSGPACK,
	BAD_SHAPE,
	BAD_KINDS,
};

static const char *bad_name(enum bad_kind k)
{
	static const char *names[] = {"text",
	                              "random bytes",
	                              "truncated frame",
	                              "oversized length prefix",
	                              "bad checksum",
	                              "invalid msgpack",
	                              "msgpack of the wrong shape"};
	return names[k];
}

static void bad_bytes(enum bad_kind k, struct buf *out)
{
	static const uint8_t not_msgpack[] = {0xc1, 0xc1, 0xc1};
	static const uint8_t truncated[] = {0, 0, 0, 100, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	static const uint8_t oversized[] = {0xff, 0xff, 0xff, 0xff, 0x93, 1, 2};
	struct prng prng;
	uint8_t random[256];
	switch (k) {
	case BAD_TEXT:
		buf_init(out, 1024);
		ck_assert(buf_append(out, "GET / HTTP/1.1\r\nHost: cairn\r\n\r\n", 31) == NULL);
		return;
	case BAD_RANDOM:
		prng_seed(&prng, 42);
		for (size_t i = 0; i < sizeof random; i++)
			random[i] = (uint8_t)prng_next(&prng);
		buf_init(out, 1024);
		ck_assert(buf_append(out, random, sizeof random) == NULL);
		return;
	case BAD_TRUNCATED:
		buf_init(out, 1024);
		ck_assert(buf_append(out, truncated, sizeof truncated) == NULL);
		return;
	case BAD_OVERSIZED:
		buf_init(out, 1024);
		ck_assert(buf_append(out, oversized, sizeof oversized) == NULL);
		return;
	case BAD_CHECKSUM:
		framed(not_msgpack, sizeof not_msgpack, out);
		out->data[out->len - 1] ^= 0x5a;
		return;
	case BAD_MSGPACK: framed(not_msgpack, sizeof not_msgpack, out); return;
	case BAD_SHAPE: {
		struct buf payload;
		buf_init(&payload, 1024);
		struct codec_out o;
		codec_out_init(&o, &payload);
		codec_put_array(&o, 2);
		codec_put_u64(&o, 99);
		codec_put_str(&o, "x", 1);
		ck_assert(codec_out_end(&o) == NULL);
		framed(payload.data, payload.len, out);
		buf_free(&payload);
		return;
	}
	case BAD_KINDS: break;
	}
	ck_abort_msg("no such bad input");
}

/* Sends bad input `k` on a fresh connection to `port`; ends our side for truncation. */
static enum outcome send_bad(uint16_t port, enum bad_kind k, enum err_code *code)
{
	int fd = dial(port);
	struct buf bytes;
	bad_bytes(k, &bytes);
	send_bytes(fd, bytes.data, bytes.len);
	buf_free(&bytes);
	if (k == BAD_TRUNCATED)
		shutdown(fd, SHUT_WR);
	enum outcome o = read_outcome(fd, code);
	close(fd);
	return o;
}

START_TEST(test_sql_port)
{
	/* a session opened before the garbage, inside a transaction, must survive it */
	struct net_client *bystander;
	ck_assert(net_client_connect(NULL, sql_port, 10000, &bystander) == NULL);
	struct net_response resp;
	ck_assert(net_client_execute(bystander, "BEGIN", &resp) == NULL);
	ck_assert_int_eq(resp.kind, NET_RESP_ACK);
	net_response_free(&resp);
	for (enum bad_kind k = 0; k < BAD_KINDS; k++) {
		enum err_code code = 0;
		enum outcome o = send_bad(sql_port, k, &code);
		ck_assert_msg(
		    o == CLOSED || o == ERROR_RESPONSE,
		    "SQL port, %s: the node neither answered with an error nor closed (%d)",
		    bad_name(k), (int)o);
		printf("SQL port, %s: %s\n", bad_name(k),
		       o == CLOSED ? "closed" : err_code_name(code));
		assert_serving();
	}
	ck_assert(net_client_execute(bystander, "SELECT 40 + 2", &resp) == NULL);
	ck_assert_int_eq(resp.kind, NET_RESP_ROWS);
	ck_assert_int_eq(net_response_value(&resp, 0, 0)->as.integer, 42);
	net_response_free(&resp);
	ck_assert(net_client_execute(bystander, "COMMIT", &resp) == NULL);
	ck_assert_int_eq(resp.kind, NET_RESP_ACK);
	net_response_free(&resp);
	net_client_close(bystander);
}
END_TEST

START_TEST(test_raft_port)
{
	for (enum bad_kind k = 0; k < BAD_KINDS; k++) {
		enum err_code code = 0;
		enum outcome o = send_bad(raft_port, k, &code);
		ck_assert_msg(o == CLOSED, "Raft port, %s: the connection was not closed (%d)",
		              bad_name(k), (int)o);
		printf("Raft port, %s: closed\n", bad_name(k));
		assert_serving();
	}
}
END_TEST

/* A hello that claims to be node 2, then messages that are not Raft messages. */
START_TEST(test_raft_forged_peer)
{
	struct buf hello, frames;
	buf_init(&hello, 1024);
	struct codec_out o;
	codec_out_init(&o, &hello);
	codec_put_array(&o, 4);
	codec_put_str(&o, "cairn-raft", 10);
	codec_put_u64(&o, 1);
	codec_put_u64(&o, 2);
	codec_put_u64(&o, 1);
	ck_assert(codec_out_end(&o) == NULL);
	framed(hello.data, hello.len, &frames);
	static const uint8_t junk[][4] = {{0xc1}, {0x93, 1, 2, 3}, {0x07}, {0x91, 0xc0}};
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
		ck_assert(net_frame_encode(&frames, junk[i], sizeof junk[i],
		                           NET_FRAME_MAX_RAFT_BYTES) == NULL);
	int fd = dial(raft_port);
	send_bytes(fd, frames.data, frames.len);
	struct timespec pause = {0, 200 * 1000000};
	nanosleep(&pause, NULL);
	close(fd);
	buf_free(&hello);
	buf_free(&frames);
	assert_serving();

	/* A write needs node 1's Raft links to a majority: they must have healed. */
	struct net_client *c;
	ck_assert(net_client_connect(NULL, sql_port, 10000, &c) == NULL);
	struct net_response resp = {0};
	bool written = false;
	for (int tries = 0; tries < WRITE_RETRY_MS / 100 && !written; tries++) {
		err *e = net_client_execute(
		    c, "CREATE TABLE IF NOT EXISTS garbage (id INTEGER PRIMARY KEY)", &resp);
		ck_assert_msg(e == NULL, "write failed: %s", e ? err_msg(e) : "");
		written = resp.kind == NET_RESP_ACK;
		net_response_free(&resp);
		if (!written)
			nanosleep(&(struct timespec){0, 100 * 1000000}, NULL);
	}
	net_client_close(c);
	ck_assert_msg(written, "node 1 could not write after a forged Raft peer");
}
END_TEST

int main(void)
{
	sql_port = port_from_env("CAIRN_TEST_SQL_PORT");
	raft_port = port_from_env("CAIRN_TEST_RAFT_PORT");
	if (!sql_port || !raft_port) {
		fprintf(stderr, "CAIRN_TEST_SQL_PORT and CAIRN_TEST_RAFT_PORT must name the ports "
		                "of a running node (test_cluster_garbage.sh sets them)\n");
		return EXIT_FAILURE;
	}
	Suite *s = suite_create("cluster_garbage");
	TCase *tc = tcase_create("garbage");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sql_port);
	tcase_add_test(tc, test_raft_port);
	tcase_add_test(tc, test_raft_forged_peer);
	suite_add_tcase(s, tc);
	return check_run(s);
}
