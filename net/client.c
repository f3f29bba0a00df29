/*
 * client.c — a blocking client: a non-blocking socket driven with poll() so that every
 * wait has a deadline.
 */
#include "net/client.h"

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/frame.h"
#include "net/sock.h"

struct net_client {
	int fd;
	char name[NET_HOST_MAX + 16];
	uint32_t timeout_ms;
	bool broken;
	struct buf out;
	struct net_frame_decoder in;
};

static uint64_t net__now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Waits until fd is ready for `events` or the deadline (0: none) passes. */
static err *net__wait(struct net_client *c, short events, uint64_t deadline_ms)
{
	for (;;) {
		int wait = -1;
		if (deadline_ms) {
			uint64_t now = net__now_ms();
			if (now >= deadline_ms)
				return err_new(ERR_UNAVAILABLE, "%s: timed out after %ums", c->name,
				               c->timeout_ms);
			wait = (int)(deadline_ms - now);
		}
		struct pollfd p = {.fd = c->fd, .events = events};
		int n = poll(&p, 1, wait);
		if (n > 0)
			return NULL;
		if (n < 0 && errno != EINTR)
			return err_new(ERR_IO, "%s: poll: %s", c->name, strerror(errno));
	}
}

static uint64_t net__deadline(const struct net_client *c)
{
	return c->timeout_ms ? net__now_ms() + c->timeout_ms : 0;
}

err *net_client_connect(const char *host, uint16_t port, uint32_t timeout_ms,
                        struct net_client **out)
{
	struct net_addr addr;
	TRY(net_addr_set(&addr, host, port));
	struct net_client *c = calloc(1, sizeof *c);
	if (!c)
		return err_new(ERR_NOMEM, "no memory for a client");
	snprintf(c->name, sizeof c->name, "%s:%u", addr.host, port);
	c->timeout_ms = timeout_ms ? timeout_ms : NET_CLIENT_DEFAULT_TIMEOUT_MS;
	buf_init(&c->out, NET_FRAME_MAX_REQUEST_BYTES + NET_FRAME_OVERHEAD_BYTES);
	net_frame_decoder_init(&c->in, NET_FRAME_MAX_RESPONSE_BYTES);
	err *e = net_sock_connect_start(&addr, &c->fd);
	if (e) {
		c->fd = -1;
		goto fail;
	}
	e = net__wait(c, POLLOUT, net__deadline(c));
	if (!e)
		e = net_sock_connect_result(c->fd);
	if (e)
		goto fail;
	*out = c;
	return NULL;
fail:
	e = err_wrap(e, "cannot connect to %s", c->name);
	net_client_close(c);
	return e;
}

err *net_client_connect_addr(const char *address, uint32_t timeout_ms, struct net_client **out)
{
	struct net_addr addr;
	TRY(net_addr_parse(address, &addr));
	return net_client_connect(addr.host, addr.port, timeout_ms, out);
}

void net_client_set_timeout(struct net_client *c, uint32_t timeout_ms)
{
	c->timeout_ms = timeout_ms;
}

bool net_client_is_connected(const struct net_client *c)
{
	return !c->broken;
}

bool net_client_closed_by_peer(struct net_client *c)
{
	if (c->broken)
		return true;
	struct pollfd p = {.fd = c->fd, .events = POLLIN | POLLRDHUP};
	if (poll(&p, 1, 0) <= 0)
		return false;
	char byte;
	ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n > 0 && !(p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
		return false; /* bytes nobody asked for: the next call reads them */
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	c->broken = true;
	return true;
}

void net_client_close(struct net_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	buf_free(&c->out);
	net_frame_decoder_free(&c->in);
	free(c);
}

/* Writes all of c->out. */
static err *net__write_all(struct net_client *c, uint64_t deadline)
{
	size_t off = 0;
	while (off < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + off, c->out.len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			TRY(net__wait(c, POLLOUT, deadline));
			continue;
		}
		return err_new(ERR_UNAVAILABLE, "connection to %s lost: %s", c->name,
		               n < 0 ? strerror(errno) : "write failed");
	}
	return NULL;
}

/*
 * Reads what has arrived, without waiting for more: *ready once a frame is complete
 * (*payload then points into the decoder).
 */
static err *net__read_some(struct net_client *c, struct slice *payload, bool *ready)
{
	for (;;) {
		TRY(err_wrap(net_frame_decoder_next(&c->in, payload, ready), "from %s", c->name));
		if (*ready)
			return NULL;
		uint8_t chunk[NET_FRAME_FEED_MAX_BYTES];
		ssize_t n = recv(c->fd, chunk, sizeof chunk, 0);
		if (n == 0)
			return err_new(ERR_UNAVAILABLE,
			               "connection to %s lost: closed by the server", c->name);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return NULL;
			return err_new(ERR_UNAVAILABLE, "connection to %s lost: %s", c->name,
			               strerror(errno));
		}
		TRY(err_wrap(net_frame_decoder_feed(&c->in, chunk, (size_t)n), "from %s", c->name));
	}
}

/* Reads until one frame is complete; *payload points into the decoder. */
static err *net__read_frame(struct net_client *c, uint64_t deadline, struct slice *payload)
{
	for (;;) {
		bool ready;
		TRY(net__read_some(c, payload, &ready));
		if (ready)
			return NULL;
		TRY(net__wait(c, POLLIN, deadline));
	}
}

/* Encodes `req` and writes it whole. A failed write breaks the connection. */
static err *net__send_request(struct net_client *c, const struct net_request *req,
                              uint64_t deadline)
{
	if (c->broken)
		return err_new(ERR_UNAVAILABLE, "connection to %s is closed", c->name);
	struct buf payload;
	buf_init(&payload, NET_FRAME_MAX_REQUEST_BYTES);
	buf_clear(&c->out);
	err *e = net_request_encode(req, &payload);
	if (!e)
		e = net_frame_encode(&c->out, payload.data, payload.len,
		                     NET_FRAME_MAX_REQUEST_BYTES);
	buf_free(&payload);
	if (e)
		return e; /* the request is unusable; the connection is fine */
	e = net__write_all(c, deadline);
	if (e)
		c->broken = true;
	return e;
}

/* Breaks the connection after a failure to get the answer to a request of `kind`. */
static err *net__answer_lost(struct net_client *c, enum net_request_kind kind, err *e)
{
	c->broken = true;
	if (kind == NET_REQ_EXECUTE && err_is(e, ERR_UNAVAILABLE)) {
		err *unknown = err_new(ERR_UNKNOWN_OUTCOME,
		                       "%s; the statement may or may not have run", err_msg(e));
		err_free(e);
		return unknown;
	}
	return e;
}

err *net_client_call(struct net_client *c, const struct net_request *req, struct net_response *resp)
{
	memset(resp, 0, sizeof *resp);
	uint64_t deadline = net__deadline(c);
	TRY(net__send_request(c, req, deadline));
	struct slice frame;
	err *e = net__read_frame(c, deadline, &frame);
	if (!e)
		e = net_response_decode(frame.ptr, frame.len, resp);
	return e ? net__answer_lost(c, req->kind, e) : NULL;
}

int net_client_fd(const struct net_client *c)
{
	return c->fd;
}

err *net_client_send_execute(struct net_client *c, const char *sql)
{
	struct net_request req = {NET_REQ_EXECUTE, slice_of(sql, strlen(sql))};
	return net__send_request(c, &req, net__deadline(c));
}

err *net_client_poll_response(struct net_client *c, struct net_response *resp, bool *done)
{
	memset(resp, 0, sizeof *resp);
	*done = false;
	if (c->broken)
		return err_new(ERR_UNAVAILABLE, "connection to %s is closed", c->name);
	struct slice frame;
	bool ready;
	err *e = net__read_some(c, &frame, &ready);
	if (!e && ready)
		e = net_response_decode(frame.ptr, frame.len, resp);
	if (e)
		return net__answer_lost(c, NET_REQ_EXECUTE, e);
	*done = ready;
	return NULL;
}

err *net_client_execute(struct net_client *c, const char *sql, struct net_response *resp)
{
	struct net_request req = {NET_REQ_EXECUTE, slice_of(sql, strlen(sql))};
	return net_client_call(c, &req, resp);
}
