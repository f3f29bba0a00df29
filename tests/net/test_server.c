/*
 * Server and client tests. The server runs its event loop on a second thread with a fake
 * session handler (echoes, fake results, a reply that comes later like a COMMIT waiting
 * for Raft); the main thread talks to it with the blocking client and with raw sockets
 * that send garbage, truncated frames, oversized length prefixes and valid frames that are
 * not requests. Each bad connection gets an error or is closed, and the server keeps
 * serving the next client.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/prng.h"
#include "check_main.h"
#include "net/client.h"
#include "net/frame.h"
#include "net/server.h"

/* ---- the fake handler ---- */

/* Longer than any test runs: whoever sends "STALL" gives up or leaves before the answer. */
#define STALL_MS 60000

struct fake {
	struct net_loop *loop;
	bool refuse;
	int opened;
	int closed;
};

struct fake_session {
	struct fake *fake;
	struct net_session *session;
	struct net_timer slow; /* replies to "SLOW" 50 ms later, to "STALL" after STALL_MS */
	int statements;
	bool in_txn;
};

static void *fake_open(void *ctx, struct net_session *session)
{
	struct fake *f = ctx;
	if (f->refuse)
		return NULL;
	struct fake_session *fs = calloc(1, sizeof *fs);
	ck_assert_ptr_nonnull(fs);
	fs->fake = f;
	fs->session = session;
	f->opened++;
	return fs;
}

static void reply_text(struct net_session *session, const char *col, const char *text, int64_t n)
{
	struct slice cols[2] = {slice_of(col, strlen(col)), slice_of("n", 1)};
	struct net_value vals[2] = {
	    {.type = NET_VALUE_TEXT, .as.text = slice_of(text, strlen(text))},
	    {.type = NET_VALUE_INTEGER, .as.integer = n},
	};
	struct net_response r = {.kind = NET_RESP_ROWS,
	                         .columns = cols,
	                         .column_count = 2,
	                         .values = vals,
	                         .row_count = 1};
	net_session_reply(session, &r);
}

static void on_slow(struct net_timer *t)
{
	struct fake_session *fs = t->data;
	struct net_response r = net_response_ack("COMMIT 42");
	net_session_reply(fs->session, &r);
}

static void fake_execute(struct fake_session *fs, struct net_session *session, const char *sql)
{
	fs->statements++;
	if (strcmp(sql, "SLOW") == 0 || strcmp(sql, "STALL") == 0) {
		net_timer_init(&fs->slow, on_slow, fs);
		uint64_t delay_ms = strcmp(sql, "SLOW") == 0 ? 50 : STALL_MS;
		ck_assert_ptr_null(net_timer_start(fs->fake->loop, &fs->slow, delay_ms));
		return;
	}
	if (strcmp(sql, "BEGIN") == 0) {
		fs->in_txn = true;
		struct net_response r = net_response_ack("BEGIN");
		net_session_reply(session, &r);
		return;
	}
	if (strcmp(sql, "COMMIT") == 0) {
		char msg[32];
		snprintf(msg, sizeof msg, "COMMIT %d", fs->in_txn ? fs->statements : -1);
		fs->in_txn = false;
		struct net_response r = net_response_ack(msg);
		net_session_reply(session, &r);
		return;
	}
	if (strcmp(sql, "BIG") == 0) {
		struct slice col = slice_of("x", 1);
		struct net_response r = {.kind = NET_RESP_ROWS,
		                         .columns = &col,
		                         .column_count = 1,
		                         .row_count = NET_PROTOCOL_MAX_VALUES + 1};
		net_session_reply(session, &r);
		return;
	}
	if (strcmp(sql, "FILL") == 0) { /* about 100 KB: 1,000 rows of 100 bytes */
		static char text[101];
		memset(text, 'f', 100);
		struct slice col = slice_of("x", 1);
		static struct net_value vals[1000];
		for (int i = 0; i < 1000; i++)
			vals[i] = (struct net_value){.type = NET_VALUE_TEXT,
			                             .as.text = slice_of(text, 100)};
		struct net_response r = {.kind = NET_RESP_ROWS,
		                         .columns = &col,
		                         .column_count = 1,
		                         .values = vals,
		                         .row_count = 1000};
		net_session_reply(session, &r);
		return;
	}
	if (strncmp(sql, "DELETE", 6) == 0) {
		struct net_response r = net_response_count(3);
		net_session_reply(session, &r);
		return;
	}
	reply_text(session, "echo", sql, fs->statements);
}

static void fake_request(void *ctx, void *state, struct net_session *session,
                         const struct net_request *req)
{
	struct fake_session *fs = state;
	(void)ctx;
	char text[256];
	ck_assert_uint_lt(req->text.len, sizeof text);
	memcpy(text, req->text.ptr, req->text.len);
	text[req->text.len] = '\0';
	switch (req->kind) {
	case NET_REQ_EXECUTE: fake_execute(fs, session, text); return;
	case NET_REQ_STATUS: {
		struct net_status_line line = {slice_of("role", 4), slice_of("leader", 6)};
		struct net_response r = {
		    .kind = NET_RESP_STATUS,
		    .status = {
		        .node_id = 1, .leader_id = 1, .term = 3, .lines = &line, .line_count = 1}};
		net_session_reply(session, &r);
		return;
	}
	case NET_REQ_LIST_TABLES: reply_text(session, "table", "accounts", 1); return;
	case NET_REQ_DESCRIBE_TABLE: {
		struct net_response r = net_response_error(ERR_NOT_FOUND, "no such table");
		net_session_reply(session, &r);
		return;
	}
	}
}

static void fake_close(void *ctx, void *state)
{
	struct fake *f = ctx;
	struct fake_session *fs = state;
	net_timer_stop(f->loop, &fs->slow);
	f->closed++;
	free(fs);
}

/* ---- the server on its own thread ---- */

struct server_thread {
	struct net_loop loop;
	struct net_server *server;
	struct fake fake;
	int stop_pipe[2];
	struct net_io stop_io;
	pthread_t thread;
	bool running; /* the thread runs the loop: server_join() not called yet */
	uint16_t port;
	int warnings; /* WARN lines the server logged; read after server_join */
	char first_warning[256];
};

static void on_log(void *ctx, enum log_level level, const char *message)
{
	struct server_thread *st = ctx;
	if (level != LOG_WARN)
		return;
	if (st->warnings++ == 0)
		snprintf(st->first_warning, sizeof st->first_warning, "%s", message);
}

static void on_stop(struct net_io *io, uint32_t events)
{
	struct server_thread *st = io->data;
	(void)events;
	net_loop_stop(&st->loop);
}

static void *server_main(void *arg)
{
	struct server_thread *st = arg;
	err *e = net_loop_run(&st->loop);
	ck_assert_ptr_null(e);
	return NULL;
}

/*
 * The one server a test runs. It lives outside the test's stack frame: a failed assertion
 * leaves the test function at once, and the server thread must not go on using memory the
 * next test reuses; the fixture's teardown stops it instead.
 */
static struct server_thread the_server;

static struct server_thread *server_start_timeout(size_t max_connections, uint64_t frame_timeout_ms)
{
	struct server_thread *st = &the_server;
	memset(st, 0, sizeof *st);
	ck_assert_ptr_null(net_loop_init(&st->loop));
	st->fake.loop = &st->loop;
	struct net_server_config cfg = {.max_connections = max_connections,
	                                .frame_timeout_ms = frame_timeout_ms,
	                                .log = on_log,
	                                .log_ctx = st};
	ck_assert_ptr_null(net_addr_parse("127.0.0.1:0", &cfg.listen));
	struct net_session_handler h = {&st->fake, fake_open, fake_request, fake_close};
	ck_assert_ptr_null(net_server_new(&st->loop, &cfg, &h, &st->server));
	st->port = net_server_port(st->server);
	ck_assert_uint_ne(st->port, 0);
	ck_assert_int_eq(pipe(st->stop_pipe), 0);
	net_io_init(&st->stop_io, st->stop_pipe[0], on_stop, st);
	ck_assert_ptr_null(net_io_start(&st->loop, &st->stop_io, EPOLLIN));
	ck_assert_int_eq(pthread_create(&st->thread, NULL, server_main, st), 0);
	st->running = true;
	return st;
}

static struct server_thread *server_start(size_t max_connections)
{
	return server_start_timeout(max_connections, 0);
}

/* Stops the thread; afterwards the server's state may be read safely. */
static void server_join(struct server_thread *st)
{
	ck_assert_int_eq(write(st->stop_pipe[1], "x", 1), 1);
	ck_assert_int_eq(pthread_join(st->thread, NULL), 0);
	st->running = false;
}

static void server_free(struct server_thread *st)
{
	net_server_free(st->server);
	st->server = NULL;
	net_io_stop(&st->loop, &st->stop_io);
	close(st->stop_pipe[0]);
	close(st->stop_pipe[1]);
	net_loop_close(&st->loop);
}

/* After every test, passed or failed: a server the test left running is stopped and freed. */
static void server_teardown(void)
{
	struct server_thread *st = &the_server;
	if (st->running)
		server_join(st);
	if (st->server)
		server_free(st);
}

static struct net_client *client(struct server_thread *st)
{
	struct net_client *c;
	ck_assert_ptr_null(net_client_connect("127.0.0.1", st->port, 2000, &c));
	net_client_set_timeout(c, 5000);
	return c;
}

static void expect_echo(struct net_client *c, const char *sql, int64_t n)
{
	struct net_response r;
	ck_assert_ptr_null(net_client_execute(c, sql, &r));
	ck_assert_int_eq(r.kind, NET_RESP_ROWS);
	ck_assert_uint_eq(r.column_count, 2);
	ck_assert_uint_eq(r.row_count, 1);
	ck_assert(slice_eq(net_response_value(&r, 0, 0)->as.text, slice_of(sql, strlen(sql))));
	ck_assert_int_eq(net_response_value(&r, 0, 1)->as.integer, n);
	net_response_free(&r);
}

static void expect_ack(struct net_client *c, const char *sql, const char *message)
{
	struct net_response r;
	ck_assert_ptr_null(net_client_execute(c, sql, &r));
	ck_assert_int_eq(r.kind, NET_RESP_ACK);
	ck_assert(slice_eq(r.message, slice_of(message, strlen(message))));
	net_response_free(&r);
}

/* ---- tests ---- */

START_TEST(requests_and_sessions)
{
	struct server_thread *st = server_start(0);
	struct net_client *a = client(st), *b;
	char address[32];
	snprintf(address, sizeof address, "%u", st->port); /* a bare port means 127.0.0.1 */
	ck_assert_ptr_null(net_client_connect_addr(address, 2000, &b));
	expect_echo(a, "SELECT 1", 1);
	expect_ack(a, "BEGIN", "BEGIN");
	expect_echo(b, "SELECT 2", 1); /* b is its own session */
	expect_ack(a, "COMMIT", "COMMIT 3");
	expect_ack(b, "COMMIT", "COMMIT -1");
	struct net_response r;
	ck_assert_ptr_null(net_client_execute(a, "DELETE FROM t", &r));
	ck_assert_int_eq(r.kind, NET_RESP_COUNT);
	ck_assert_uint_eq(r.count, 3);
	net_response_free(&r);

	struct net_request status = {NET_REQ_STATUS, slice_of("", 0)};
	ck_assert_ptr_null(net_client_call(a, &status, &r));
	ck_assert_int_eq(r.kind, NET_RESP_STATUS);
	ck_assert_uint_eq(r.status.term, 3);
	ck_assert_uint_eq(r.status.line_count, 1);
	net_response_free(&r);

	struct net_request describe = {NET_REQ_DESCRIBE_TABLE, slice_of("nope", 4)};
	ck_assert_ptr_null(net_client_call(a, &describe, &r));
	err *e = net_response_to_err(&r);
	ck_assert(err_is(e, ERR_NOT_FOUND));
	err_free(e);
	net_response_free(&r);

	/* a result over the protocol's bounds comes back as an error, the session lives */
	ck_assert_ptr_null(net_client_execute(a, "BIG", &r));
	ck_assert_int_eq(r.kind, NET_RESP_ERROR);
	ck_assert_int_eq(r.code, ERR_LIMIT);
	ck_assert(memmem(r.message.ptr, r.message.len, "result too large to send", 24));
	net_response_free(&r);
	expect_echo(a, "SELECT 3", 6);

	/* an asynchronous reply */
	expect_ack(b, "SLOW", "COMMIT 42");
	net_client_close(a);
	net_client_close(b);
	server_join(st);
	ck_assert_int_eq(st->fake.opened, 2);
	struct net_server_stats s = net_server_stats(st->server);
	ck_assert_uint_eq(s.requests, 11);
	ck_assert_uint_eq(s.bad_requests, 0);
	server_free(st);
	ck_assert_int_eq(st->fake.closed, 2);
}
END_TEST

START_TEST(a_client_leaving_with_a_reply_pending)
{
	struct server_thread *st = server_start(0);
	struct net_client *a = client(st);
	net_client_set_timeout(a, 10); /* gives up long before the reply */
	struct net_response r;
	err *e = net_client_execute(a, "STALL", &r);
	ck_assert(err_is(e, ERR_UNKNOWN_OUTCOME));
	err_free(e);
	ck_assert(!net_client_is_connected(a));
	e = net_client_execute(a, "SELECT 1", &r);
	ck_assert(err_is(e, ERR_UNAVAILABLE));
	err_free(e);
	net_client_close(a);
	/* the server notices, drops the pending reply, and serves others */
	struct net_client *b = client(st);
	expect_echo(b, "SELECT 1", 1);
	expect_ack(b, "SLOW", "COMMIT 42");
	net_client_close(b);
	server_join(st);
	server_free(st);
	ck_assert_int_eq(st->fake.opened, st->fake.closed);
}
END_TEST

/* A raw blocking socket with a receive timeout. */
static int raw_connect(struct server_thread *st)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	struct timeval tv = {.tv_sec = 5};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(st->port)};
	sin.sin_addr.s_addr = htonl(0x7f000001);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	return fd;
}

/*
 * Reads until the server closes the connection; returns the error code of the error
 * response received first, or 0 if none came. Fails the test on a timeout.
 */
static int read_until_closed(int fd)
{
	struct net_frame_decoder d;
	net_frame_decoder_init(&d, NET_FRAME_MAX_RESPONSE_BYTES);
	int code = 0;
	for (int i = 0; i < 1000; i++) {
		uint8_t chunk[4096];
		ssize_t n = recv(fd, chunk, sizeof chunk, 0);
		if (n < 0 && errno == ECONNRESET)
			break;
		ck_assert_msg(n >= 0, "no close from the server: %s", strerror(errno));
		if (n == 0)
			break;
		ck_assert_ptr_null(net_frame_decoder_feed(&d, chunk, (size_t)n));
		struct slice p;
		bool ready;
		ck_assert_ptr_null(net_frame_decoder_next(&d, &p, &ready));
		if (ready && code == 0) {
			struct net_response r;
			ck_assert_ptr_null(net_response_decode(p.ptr, p.len, &r));
			ck_assert_int_eq(r.kind, NET_RESP_ERROR);
			code = (int)r.code;
			net_response_free(&r);
		}
	}
	net_frame_decoder_free(&d);
	return code;
}

static void send_all(int fd, const void *bytes, size_t len)
{
	ck_assert_int_eq(send(fd, bytes, len, MSG_NOSIGNAL), (ssize_t)len);
}

START_TEST(bad_input_closes_only_that_connection)
{
	struct server_thread *st = server_start(0);
	struct net_client *good = client(st);
	expect_echo(good, "SELECT 1", 1);

	/* garbage bytes: read as a huge length prefix */
	int fd = raw_connect(st);
	send_all(fd, "GET / HTTP/1.1\r\n\r\n", 18);
	ck_assert_int_eq(read_until_closed(fd), ERR_LIMIT);
	close(fd);

	/* an oversized length prefix, with no body at all */
	fd = raw_connect(st);
	send_all(fd, "\x00\x10\x00\x01", 4);
	ck_assert_int_eq(read_until_closed(fd), ERR_LIMIT);
	close(fd);

	/* a frame whose checksum does not match */
	struct buf frame;
	buf_init(&frame, 1024);
	ck_assert_ptr_null(net_frame_encode(&frame, "\x92\x01\xa1x", 4, 1024));
	frame.data[frame.len - 1] ^= 0xff;
	fd = raw_connect(st);
	send_all(fd, frame.data, frame.len);
	ck_assert_int_eq(read_until_closed(fd), ERR_CORRUPT);
	close(fd);

	/* a valid frame holding invalid msgpack, and one holding msgpack that is no request */
	const char *payloads[] = {"\xc1\xc1\xc1", "\x93\x01\x02\x03", "\x92\x09\xa0"};
	size_t lens[] = {3, 4, 3};
	for (int i = 0; i < 3; i++) {
		buf_clear(&frame);
		ck_assert_ptr_null(net_frame_encode(&frame, payloads[i], lens[i], 1024));
		fd = raw_connect(st);
		send_all(fd, frame.data, frame.len);
		ck_assert_int_eq(read_until_closed(fd), ERR_DECODE);
		close(fd);
	}

	/* a truncated frame, then the client goes away: the server just closes */
	buf_clear(&frame);
	ck_assert_ptr_null(net_frame_encode(&frame, "\x92\x01\xa1x", 4, 1024));
	fd = raw_connect(st);
	send_all(fd, frame.data, frame.len - 3);
	shutdown(fd, SHUT_WR);
	ck_assert_int_eq(read_until_closed(fd), 0);
	close(fd);

	/* two requests in one write are answered in order */
	struct buf req;
	buf_init(&req, 256);
	buf_clear(&frame);
	for (int i = 0; i < 2; i++) {
		buf_clear(&req);
		struct net_request r = {NET_REQ_EXECUTE, slice_of(i ? "two" : "one", 3)};
		ck_assert_ptr_null(net_request_encode(&r, &req));
		ck_assert_ptr_null(net_frame_encode(&frame, req.data, req.len, 1024));
	}
	fd = raw_connect(st);
	send_all(fd, frame.data, frame.len);
	struct net_frame_decoder d;
	net_frame_decoder_init(&d, NET_FRAME_MAX_RESPONSE_BYTES);
	int answered = 0;
	for (int i = 0; i < 100 && answered < 2; i++) {
		uint8_t chunk[4096];
		ssize_t n = recv(fd, chunk, sizeof chunk, 0);
		ck_assert_int_gt(n, 0);
		ck_assert_ptr_null(net_frame_decoder_feed(&d, chunk, (size_t)n));
		struct slice p;
		bool ready;
		for (;;) {
			ck_assert_ptr_null(net_frame_decoder_next(&d, &p, &ready));
			if (!ready)
				break;
			struct net_response r;
			ck_assert_ptr_null(net_response_decode(p.ptr, p.len, &r));
			const char *want = answered ? "two" : "one";
			ck_assert(
			    slice_eq(net_response_value(&r, 0, 0)->as.text, slice_of(want, 3)));
			net_response_free(&r);
			answered++;
		}
	}
	ck_assert_int_eq(answered, 2);
	net_frame_decoder_free(&d);
	close(fd);
	buf_free(&req);
	buf_free(&frame);

	/* the first client and a new one are still served */
	expect_echo(good, "SELECT 2", 2);
	struct net_client *second = client(st);
	expect_echo(second, "SELECT 1", 1);
	net_client_close(good);
	net_client_close(second);
	server_join(st);
	ck_assert_uint_eq(net_server_stats(st->server).bad_requests, 6);
	ck_assert_int_eq(st->warnings, 6);
	ck_assert_msg(strstr(st->first_warning, "sql: closing client 127.0.0.1:") &&
	                  strstr(st->first_warning, "bad frame: frame of 1195725856 bytes exceeds"),
	              "%s", st->first_warning);
	server_free(st);
	ck_assert_int_eq(st->fake.opened, st->fake.closed);
}
END_TEST

/* Reads whatever the server sends until it closes the connection; false on a timeout. */
static bool drain_until_closed(int fd)
{
	for (int i = 0; i < 10000; i++) {
		uint8_t chunk[4096];
		ssize_t n = recv(fd, chunk, sizeof chunk, 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
		if (n < 0)
			return false;
	}
	return false;
}

START_TEST(random_input_never_hurts_the_server)
{
	struct server_thread *st = server_start(0);
	struct prng rng;
	prng_seed(&rng, 0xbadf00d);
	struct buf req, frame;
	buf_init(&req, 4096);
	buf_init(&frame, 4096);
	for (int i = 0; i < 200; i++) {
		buf_clear(&req);
		buf_clear(&frame);
		struct net_request r = {(enum net_request_kind)(1 + prng_below(&rng, 4)),
		                        slice_of("SELECT 1", 8)};
		ck_assert_ptr_null(net_request_encode(&r, &req));
		for (int k = 0; k < 1 + (int)prng_below(&rng, 3); k++)
			ck_assert_ptr_null(net_frame_encode(&frame, req.data, req.len, 4096));
		switch (i % 4) {
		case 0: /* random bytes */
			for (size_t k = 0; k < frame.len; k++)
				frame.data[k] = (uint8_t)prng_next(&rng);
			break;
		case 1: /* bit flips */
			frame.data[prng_below(&rng, frame.len)] ^=
			    (uint8_t)(1u << prng_below(&rng, 8));
			break;
		case 2: /* truncated */ frame.len = (size_t)prng_below(&rng, frame.len); break;
		default: /* intact requests: answered, then the server sees the end */ break;
		}
		int fd = raw_connect(st);
		if (frame.len > 0)
			send_all(fd, frame.data, frame.len);
		shutdown(fd, SHUT_WR);
		ck_assert(drain_until_closed(fd));
		close(fd);
	}
	buf_free(&req);
	buf_free(&frame);
	struct net_client *c = client(st);
	expect_echo(c, "still serving", 1);
	net_client_close(c);
	server_join(st);
	ck_assert_uint_eq(net_server_stats(st->server).accepted, 201);
	server_free(st);
	ck_assert_int_eq(st->fake.opened, st->fake.closed);
}
END_TEST

START_TEST(connections_beyond_the_limit_are_refused)
{
	struct server_thread *st = server_start(2);
	struct net_client *a = client(st), *b = client(st);
	expect_echo(a, "SELECT 1", 1);
	expect_echo(b, "SELECT 1", 1);
	int fd = raw_connect(st);
	ck_assert_int_eq(read_until_closed(fd), ERR_UNAVAILABLE);
	close(fd);
	net_client_close(a);
	/* a slot is free again once the server saw a leave */
	struct net_client *c = NULL;
	for (int i = 0; i < 100 && !c; i++) {
		struct net_response r;
		struct net_client *try = client(st);
		err *e = net_client_execute(try, "SELECT 1", &r);
		if (!e && r.kind == NET_RESP_ROWS)
			c = try;
		else
			net_client_close(try);
		err_free(e);
		net_response_free(&r);
		usleep(10000);
	}
	ck_assert_ptr_nonnull(c);
	net_client_close(b);
	net_client_close(c);
	server_join(st);
	ck_assert_uint_ge(net_server_stats(st->server).refused, 1);
	server_free(st);
}
END_TEST

START_TEST(connecting_to_nothing_is_a_clear_error)
{
	struct server_thread *st = server_start(0);
	uint16_t port = st->port;
	server_join(st);
	server_free(st);
	struct net_client *c;
	err *e = net_client_connect("127.0.0.1", port, 1000, &c);
	ck_assert(err_is(e, ERR_UNAVAILABLE));
	ck_assert_ptr_nonnull(strstr(err_msg(e), "cannot connect to 127.0.0.1:"));
	err_free(e);
}
END_TEST

START_TEST(a_server_going_away_is_a_lost_connection)
{
	struct server_thread *st = server_start(0);
	struct net_client *a = client(st);
	expect_echo(a, "SELECT 1", 1);
	server_join(st);
	server_free(st);
	struct net_response r;
	struct net_request status = {NET_REQ_STATUS, slice_of("", 0)};
	err *e = net_client_call(a, &status, &r);
	ck_assert(err_is(e, ERR_UNAVAILABLE));
	ck_assert_ptr_nonnull(strstr(err_msg(e), "lost"));
	err_free(e);
	net_client_close(a);
}
END_TEST

/*
 * A client that sends many requests and reads nothing for a while: the server stops
 * reading its requests while its replies wait unread (TCP holds the client up), and
 * answers every one, in order, once it reads. It used to cut the connection once 64
 * replies queued, with statements run and never reported.
 */
START_TEST(a_client_that_does_not_read_is_held_not_cut_off)
{
	enum { REQUESTS = 200 }; /* 20 MB of replies, more than the queue ever took */
	struct server_thread *st = server_start(0);
	int fd = raw_connect(st);
	int small = 65536;
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
	struct buf req, frame;
	buf_init(&req, 256);
	buf_init(&frame, (size_t)1 << 20);
	for (int i = 0; i < REQUESTS; i++) {
		buf_clear(&req);
		struct net_request r = {NET_REQ_EXECUTE, slice_of("FILL", 4)};
		ck_assert_ptr_null(net_request_encode(&r, &req));
		ck_assert_ptr_null(net_frame_encode(&frame, req.data, req.len, 1024));
	}
	/* the requests fit the socket's buffers; the server's replies do not */
	ck_assert_int_eq(send(fd, frame.data, frame.len, MSG_NOSIGNAL | MSG_DONTWAIT),
	                 (ssize_t)frame.len);
	usleep(300 * 1000);
	struct net_frame_decoder d;
	net_frame_decoder_init(&d, NET_FRAME_MAX_RESPONSE_BYTES);
	int answered = 0;
	struct timeval tv = {.tv_sec = 5};
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
	while (answered < REQUESTS) {
		uint8_t chunk[65536];
		ssize_t n = recv(fd, chunk, sizeof chunk, 0);
		ck_assert_msg(n > 0, "connection ended after %d replies", answered);
		ck_assert_ptr_null(net_frame_decoder_feed(&d, chunk, (size_t)n));
		for (;;) {
			struct slice p;
			bool ready;
			ck_assert_ptr_null(net_frame_decoder_next(&d, &p, &ready));
			if (!ready)
				break;
			struct net_response resp;
			ck_assert_ptr_null(net_response_decode(p.ptr, p.len, &resp));
			ck_assert_int_eq(resp.kind, NET_RESP_ROWS);
			ck_assert_uint_eq(resp.row_count, 1000);
			net_response_free(&resp);
			answered++;
		}
	}
	net_frame_decoder_free(&d);
	buf_free(&req);
	buf_free(&frame);
	close(fd);
	server_join(st);
	ck_assert_int_eq(st->warnings, 0);
	server_free(st);
}
END_TEST

/* Half a frame, then nothing: the server closes that connection and serves the others. */
START_TEST(half_a_frame_times_out)
{
	struct server_thread *st = server_start_timeout(0, 300);
	struct buf req, frame;
	buf_init(&req, 256);
	buf_init(&frame, 1024);
	struct net_request r = {NET_REQ_EXECUTE, slice_of("SELECT 1", 8)};
	ck_assert_ptr_null(net_request_encode(&r, &req));
	ck_assert_ptr_null(net_frame_encode(&frame, req.data, req.len, 1024));
	int fd = raw_connect(st);
	send_all(fd, frame.data, frame.len / 2);
	struct net_client *good = client(st); /* waits for nothing of the stalled one */
	expect_echo(good, "SELECT 2", 1);
	ck_assert_int_eq(read_until_closed(fd), 0); /* closed after 300 ms, no reply */
	expect_echo(good, "SELECT 3", 2);
	close(fd);
	net_client_close(good);
	buf_free(&req);
	buf_free(&frame);
	server_join(st);
	ck_assert_int_eq(st->warnings, 0);
	server_free(st);
}
END_TEST

static Suite *server_suite(void)
{
	Suite *s = suite_create("server");
	TCase *tc = tcase_create("server");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, server_teardown);
	tcase_add_test(tc, requests_and_sessions);
	tcase_add_test(tc, a_client_leaving_with_a_reply_pending);
	tcase_add_test(tc, bad_input_closes_only_that_connection);
	tcase_add_test(tc, random_input_never_hurts_the_server);
	tcase_add_test(tc, connections_beyond_the_limit_are_refused);
	tcase_add_test(tc, connecting_to_nothing_is_a_clear_error);
	tcase_add_test(tc, a_server_going_away_is_a_lost_connection);
	tcase_add_test(tc, a_client_that_does_not_read_is_held_not_cut_off);
	tcase_add_test(tc, half_a_frame_times_out);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(server_suite());
}
