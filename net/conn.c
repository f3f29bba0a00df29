/*
 * conn.c — a framed TCP connection: a small state machine over one socket.
 *
 *   CONNECTING --connected--> OPEN --net_conn_shutdown--> DRAINING --queue empty--> ENDED
 *        \________________________\______________________________\__error/close__/
 *
 * Epoll is level-triggered; the interest mask is recomputed after every change: EPOLLIN
 * while OPEN, EPOLLOUT while connecting or while frames wait to be written. Holding input
 * (paused by the owner, or back-pressure while the peer leaves hold_input_above bytes
 * unread) is lazy: EPOLLIN stays on until input actually arrives while held (a client with
 * one request in flight usually sends nothing more), which saves two epoll_ctl calls per
 * request; a flush that brings the queue under the mark takes input again. A read shorter
 * than the buffer ends the reading until epoll reports again. Reads are bounded per
 * readiness event (NET__READS_PER_EVENT) so one busy peer cannot starve the others. All
 * endings funnel through net__end(), which closes the socket at once and leaves on_close
 * and the free to a deferred callback.
 *
 * Sends are coalesced: net_conn_send() only queues, and a deferred callback writes the
 * queue at the end of the loop step, so every frame sent to one socket during a step
 * (a ready batch's messages to one peer) goes out in one sendmsg; net_conn_flush() writes
 * it sooner.
 */
#include "net/conn.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net/frame.h"
#include "net/sock.h"

#define NET__READS_PER_EVENT 16
#define NET__IOV_MAX 16

enum net__conn_state {
	NET__CONNECTING,
	NET__OPEN,
	NET__DRAINING,
	NET__ENDED,
};

/* One queued outgoing frame (header, payload and checksum, ready to write). */
struct net__out {
	struct net__out *next;
	size_t len;
	uint8_t bytes[];
};

struct net_conn {
	struct net_loop *loop;
	int fd;
	struct net_io io;
	struct net_timer timer; /* connect timeout, then linger */
	struct net_defer defer; /* drains frames after resume; ends the connection */
	struct net_defer flush; /* writes the frames queued during this loop step */
	enum net__conn_state state;
	bool paused;
	bool input_blocked; /* held (paused, or back-pressure) and input arrived: EPOLLIN off */
	bool frame_timed;   /* the timer runs for a partly received frame (net__watch_frame) */
	struct net_conn_limits limits;
	struct net_conn_callbacks cb;
	void *data;
	char name[96];

	struct net_frame_decoder decoder;

	struct net__out *out_head, *out_tail;
	size_t out_head_sent; /* bytes of out_head already written */
	size_t out_bytes;
	size_t out_frames;

	err *reason; /* why it ended (or will, once drained) */
};

static void net__end(struct net_conn *c, err *reason);

/* Whether frames wait undelivered: the owner paused, or the peer leaves too much unread. */
static bool net__holding(const struct net_conn *c)
{
	return c->paused ||
	       (c->limits.hold_input_above > 0 && c->out_bytes > c->limits.hold_input_above);
}

static void net__update_interest(struct net_conn *c)
{
	if (c->state == NET__ENDED)
		return;
	uint32_t events = 0;
	if (c->state == NET__CONNECTING || c->out_head)
		events |= EPOLLOUT;
	if (c->state == NET__OPEN && !c->input_blocked)
		events |= EPOLLIN;
	if (c->io.active && c->io.events == events)
		return;
	err *e = net_io_start(c->loop, &c->io, events);
	if (e)
		net__end(c, e);
}

static void net__free_queue(struct net_conn *c)
{
	while (c->out_head) {
		struct net__out *o = c->out_head;
		c->out_head = o->next;
		free(o);
	}
	c->out_tail = NULL;
	c->out_head_sent = 0;
	c->out_bytes = 0;
	c->out_frames = 0;
}

/* Ends the connection (once): closes the socket now, calls on_close from the loop. */
static void net__end(struct net_conn *c, err *reason)
{
	if (c->state == NET__ENDED) {
		err_free(reason);
		return;
	}
	c->state = NET__ENDED;
	net_io_stop(c->loop, &c->io);
	close(c->fd);
	c->fd = -1;
	net_timer_stop(c->loop, &c->timer);
	net_defer_cancel(c->loop, &c->flush);
	net__free_queue(c);
	if (reason) {
		err_free(c->reason);
		c->reason = reason;
	}
	net_defer_queue(c->loop, &c->defer);
}

/* ---- writing ---- */

/* Writes as much of the queue as the socket takes. */
static void net__flush(struct net_conn *c)
{
	assert(c->state == NET__OPEN || c->state == NET__DRAINING);
	bool was_holding = net__holding(c);
	while (c->out_head) {
		struct iovec iov[NET__IOV_MAX];
		int n = 0;
		size_t skip = c->out_head_sent;
		for (struct net__out *o = c->out_head; o && n < NET__IOV_MAX; o = o->next) {
			iov[n].iov_base = o->bytes + skip;
			iov[n].iov_len = o->len - skip;
			skip = 0;
			n++;
		}
		struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
		ssize_t sent = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
		if (sent < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			net__end(c, err_new(ERR_UNAVAILABLE, "%s: write failed: %s", c->name,
			                    strerror(errno)));
			return;
		}
		size_t left = (size_t)sent;
		while (left > 0) {
			struct net__out *o = c->out_head;
			size_t rest = o->len - c->out_head_sent;
			if (left < rest) {
				c->out_head_sent += left;
				break;
			}
			left -= rest;
			c->out_head = o->next;
			if (!c->out_head)
				c->out_tail = NULL;
			c->out_head_sent = 0;
			c->out_bytes -= o->len;
			c->out_frames--;
			free(o);
		}
	}
	if (!c->out_head && c->state == NET__DRAINING) {
		net__end(c, NULL);
		return;
	}
	if (was_holding && !net__holding(c) && c->state == NET__OPEN) {
		/* the peer read enough: take its input again, frames already here first */
		c->input_blocked = false;
		if (net_frame_decoder_pending(&c->decoder) > 0)
			net_defer_queue(c->loop, &c->defer);
	}
	net__update_interest(c);
}

err *net_conn_send(struct net_conn *c, const void *payload, size_t len)
{
	if (c->state == NET__ENDED || c->state == NET__DRAINING)
		return err_new(ERR_UNAVAILABLE, "%s: connection closed", c->name);
	if (len > c->limits.max_send_bytes)
		return err_new(ERR_LIMIT, "%s: message of %zu bytes exceeds the frame limit",
		               c->name, len);
	size_t frame_len = len + NET_FRAME_OVERHEAD_BYTES;
	if (c->out_frames >= c->limits.max_queue_frames ||
	    frame_len > c->limits.max_queue_bytes - c->out_bytes)
		return err_new(ERR_LIMIT, "%s: send queue full (%zu frames, %zu bytes)", c->name,
		               c->out_frames, c->out_bytes);
	struct net__out *o = malloc(sizeof *o + frame_len);
	if (!o)
		return err_new(ERR_NOMEM, "%s: no memory for a %zu-byte frame", c->name, len);
	struct buf b = {.data = o->bytes, .len = 0, .cap = frame_len, .max_bytes = frame_len};
	err *e = net_frame_encode(&b, payload, len, c->limits.max_send_bytes);
	assert(!e && b.len == frame_len && b.data == o->bytes);
	(void)e;
	o->len = frame_len;
	o->next = NULL;
	if (c->out_tail)
		c->out_tail->next = o;
	else
		c->out_head = o;
	c->out_tail = o;
	c->out_bytes += frame_len;
	c->out_frames++;
	if (c->state == NET__OPEN && c->out_head == o)
		net_defer_queue(c->loop, &c->flush);
	return NULL;
}

void net_conn_flush(struct net_conn *c)
{
	net_defer_cancel(c->loop, &c->flush);
	if ((c->state == NET__OPEN || c->state == NET__DRAINING) && c->out_head)
		net__flush(c);
}

/* ---- reading ---- */

/*
 * While a frame is partly received (and not held up by us), its timer runs: the peer
 * must complete it within frame_timeout_ms.
 */
static void net__watch_frame(struct net_conn *c)
{
	if (c->limits.frame_timeout_ms == 0 || c->state != NET__OPEN)
		return;
	if (net__holding(c) || net_frame_decoder_pending(&c->decoder) == 0) {
		net_timer_stop(c->loop, &c->timer);
		c->frame_timed = false;
		return;
	}
	if (c->frame_timed)
		return;
	err *e = net_timer_start(c->loop, &c->timer, c->limits.frame_timeout_ms);
	if (e)
		net__end(c, e);
	else
		c->frame_timed = true;
}

/* Hands out complete frames until held, ended or out of frames. */
static void net__deliver(struct net_conn *c)
{
	while (c->state == NET__OPEN && !net__holding(c)) {
		struct slice payload;
		bool ready;
		err *e = net_frame_decoder_next(&c->decoder, &payload, &ready);
		if (e) {
			e = err_wrap(e, "%s: bad frame", c->name);
			if (c->cb.on_bad_frame) {
				c->cb.on_bad_frame(c, e, c->data);
				net_conn_shutdown(c, e);
			} else {
				net__end(c, e);
			}
			return;
		}
		if (!ready)
			break;
		c->cb.on_frame(c, payload.ptr, payload.len, c->data);
	}
	net__watch_frame(c);
}

static void net__read(struct net_conn *c)
{
	uint8_t chunk[NET_FRAME_FEED_MAX_BYTES];
	for (int i = 0; i < NET__READS_PER_EVENT && c->state == NET__OPEN && !net__holding(c);
	     i++) {
		ssize_t n = read(c->fd, chunk, sizeof chunk);
		if (n == 0) {
			size_t partial = net_frame_decoder_pending(&c->decoder);
			if (partial > 0)
				net__end(c, err_new(ERR_UNAVAILABLE,
				                    "%s: closed by the peer inside a frame (%zu "
				                    "bytes pending)",
				                    c->name, partial));
			else
				net__end(
				    c, err_new(ERR_UNAVAILABLE, "%s: closed by the peer", c->name));
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			net__end(c, err_new(ERR_UNAVAILABLE, "%s: read failed: %s", c->name,
			                    strerror(errno)));
			return;
		}
		err *e = net_frame_decoder_feed(&c->decoder, chunk, (size_t)n);
		if (e) {
			net__end(c, err_wrap(e, "%s", c->name));
			return;
		}
		net__deliver(c);
		if ((size_t)n < sizeof chunk)
			return; /* drained for now; epoll reports more (level-triggered) */
	}
}

/* ---- events ---- */

static void net__on_connected(struct net_conn *c)
{
	err *e = net_sock_connect_result(c->fd);
	if (e) {
		net__end(c, err_wrap(e, "%s", c->name));
		return;
	}
	c->state = NET__OPEN;
	net_timer_stop(c->loop, &c->timer);
	if (c->cb.on_connect)
		c->cb.on_connect(c, c->data);
	if (c->state != NET__OPEN)
		return;
	if (c->out_head)
		net__flush(c);
	else
		net__update_interest(c);
}

static void net__on_io(struct net_io *io, uint32_t events)
{
	struct net_conn *c = io->data;
	if (c->state == NET__CONNECTING) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			net__on_connected(c);
		return;
	}
	if ((events & EPOLLOUT) && c->out_head)
		net__flush(c);
	if (c->state == NET__ENDED)
		return;
	if (c->state == NET__OPEN && !net__holding(c) &&
	    (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		net__read(c);
		return;
	}
	if (c->state == NET__OPEN && net__holding(c) && (events & EPOLLIN) &&
	    !(events & (EPOLLHUP | EPOLLERR))) {
		c->input_blocked = true;
		net__update_interest(c);
		return;
	}
	if (events & (EPOLLHUP | EPOLLERR))
		net__end(c, err_new(ERR_UNAVAILABLE, "%s: connection reset", c->name));
}

static void net__on_timer(struct net_timer *t)
{
	struct net_conn *c = t->data;
	if (c->state == NET__CONNECTING)
		net__end(c, err_new(ERR_UNAVAILABLE, "%s: connect timed out after %llums", c->name,
		                    (unsigned long long)c->limits.connect_timeout_ms));
	else if (c->state == NET__DRAINING)
		net__end(c, NULL);
	else if (c->state == NET__OPEN && c->frame_timed)
		net__end(c, err_new(ERR_UNAVAILABLE,
		                    "%s: sent %zu bytes of a frame and nothing more for %llums",
		                    c->name, net_frame_decoder_pending(&c->decoder),
		                    (unsigned long long)c->limits.frame_timeout_ms));
}

static void net__on_flush(struct net_defer *d)
{
	net_conn_flush(d->data);
}

static void net__on_defer(struct net_defer *d)
{
	struct net_conn *c = d->data;
	if (c->state != NET__ENDED) {
		net__deliver(c);
		return;
	}
	c->cb.on_close(c, c->reason, c->data);
	err_free(c->reason);
	net_frame_decoder_free(&c->decoder);
	free(c);
}

/* ---- the public calls ---- */

err *net_conn_new(struct net_loop *loop, int fd, bool connecting,
                  const struct net_conn_limits *limits, const struct net_conn_callbacks *cb,
                  void *data, const char *name, struct net_conn **out)
{
	assert(fd >= 0 && cb->on_frame && cb->on_close);
	assert(limits->max_frame_bytes > 0 && limits->max_queue_frames > 0);
	struct net_conn *c = calloc(1, sizeof *c);
	if (!c) {
		close(fd);
		return err_new(ERR_NOMEM, "no memory for a connection");
	}
	c->loop = loop;
	c->fd = fd;
	c->state = connecting ? NET__CONNECTING : NET__OPEN;
	c->limits = *limits;
	if (c->limits.max_send_bytes == 0)
		c->limits.max_send_bytes = limits->max_frame_bytes;
	c->cb = *cb;
	c->data = data;
	snprintf(c->name, sizeof c->name, "%s", name);
	net_io_init(&c->io, fd, net__on_io, c);
	net_timer_init(&c->timer, net__on_timer, c);
	net_defer_init(&c->defer, net__on_defer, c);
	net_defer_init(&c->flush, net__on_flush, c);
	net_frame_decoder_init(&c->decoder, limits->max_frame_bytes);
	err *e = NULL;
	if (connecting && limits->connect_timeout_ms > 0)
		e = net_timer_start(loop, &c->timer, limits->connect_timeout_ms);
	uint32_t events = connecting ? EPOLLOUT : EPOLLIN;
	if (!e)
		e = net_io_start(loop, &c->io, events);
	if (e) {
		net_timer_stop(loop, &c->timer);
		net_frame_decoder_free(&c->decoder);
		close(fd);
		free(c);
		return e;
	}
	*out = c;
	return NULL;
}

void net_conn_close(struct net_conn *c, err *reason)
{
	net__end(c, reason);
}

void net_conn_destroy(struct net_conn *c)
{
	if (c->state != NET__ENDED) {
		net_io_stop(c->loop, &c->io);
		close(c->fd);
		net_timer_stop(c->loop, &c->timer);
		net__free_queue(c);
	}
	net_defer_cancel(c->loop, &c->defer);
	net_defer_cancel(c->loop, &c->flush);
	err_free(c->reason);
	net_frame_decoder_free(&c->decoder);
	free(c);
}

void net_conn_shutdown(struct net_conn *c, err *reason)
{
	if (c->state == NET__ENDED || c->state == NET__DRAINING) {
		err_free(reason);
		return;
	}
	if (c->state == NET__CONNECTING || !c->out_head) {
		net__end(c, reason);
		return;
	}
	err_free(c->reason);
	c->reason = reason;
	c->state = NET__DRAINING;
	c->frame_timed = false; /* the timer is the linger's now */
	err *e = net_timer_start(c->loop, &c->timer, c->limits.linger_ms);
	if (e) {
		net__end(c, e);
		return;
	}
	net__flush(c);
}

void net_conn_pause(struct net_conn *c)
{
	if (c->paused || c->state == NET__ENDED)
		return;
	c->paused = true;
	net__update_interest(c);
}

void net_conn_resume(struct net_conn *c)
{
	if (!c->paused || c->state == NET__ENDED)
		return;
	c->paused = false;
	c->input_blocked = false;
	net__update_interest(c);
	if (c->state == NET__OPEN && net_frame_decoder_pending(&c->decoder) > 0)
		net_defer_queue(c->loop, &c->defer);
}

void net_conn_set_max_frame(struct net_conn *c, size_t max_frame_bytes)
{
	c->limits.max_frame_bytes = max_frame_bytes;
	net_frame_decoder_set_max(&c->decoder, max_frame_bytes);
}

bool net_conn_is_open(const struct net_conn *c)
{
	return c->state == NET__OPEN || c->state == NET__CONNECTING;
}

bool net_conn_is_connected(const struct net_conn *c)
{
	return c->state == NET__OPEN;
}

const char *net_conn_name(const struct net_conn *c)
{
	return c->name;
}

size_t net_conn_queued_bytes(const struct net_conn *c)
{
	return c->out_bytes;
}

size_t net_conn_queued_frames(const struct net_conn *c)
{
	return c->out_frames;
}
