/*
 * loop.c — epoll, a binary min-heap of timers, a FIFO of deferred callbacks, signalfd.
 *
 * The heap orders timers by (deadline_ms, seq); each timer remembers its index so that
 * stopping or re-arming one is O(log n). Events from one epoll_wait are kept in the loop so
 * that net_io_stop() can forget those not yet handled: a callback may close another
 * connection whose event is still pending in the same batch.
 */
#include "net/loop.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

/* ---- clock ---- */

uint64_t net_loop_now_ms(const struct net_loop *loop)
{
	(void)loop;
	struct timespec ts;
	int rc = clock_gettime(CLOCK_MONOTONIC, &ts);
	assert(rc == 0);
	(void)rc;
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- timer heap ---- */

static bool net__timer_before(const struct net_timer *a, const struct net_timer *b)
{
	if (a->deadline_ms != b->deadline_ms)
		return a->deadline_ms < b->deadline_ms;
	return a->seq < b->seq;
}

static void net__heap_place(struct net_loop *loop, size_t i, struct net_timer *t)
{
	loop->heap[i] = t;
	t->heap_index = i;
}

static void net__heap_up(struct net_loop *loop, size_t i)
{
	struct net_timer *t = loop->heap[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!net__timer_before(t, loop->heap[parent]))
			break;
		net__heap_place(loop, i, loop->heap[parent]);
		i = parent;
	}
	net__heap_place(loop, i, t);
}

static void net__heap_down(struct net_loop *loop, size_t i)
{
	struct net_timer *t = loop->heap[i];
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= loop->heap_len)
			break;
		if (child + 1 < loop->heap_len &&
		    net__timer_before(loop->heap[child + 1], loop->heap[child]))
			child++;
		if (!net__timer_before(loop->heap[child], t))
			break;
		net__heap_place(loop, i, loop->heap[child]);
		i = child;
	}
	net__heap_place(loop, i, t);
}

static void net__heap_remove(struct net_loop *loop, struct net_timer *t)
{
	assert(t->armed && t->heap_index < loop->heap_len && loop->heap[t->heap_index] == t);
	size_t i = t->heap_index;
	struct net_timer *last = loop->heap[--loop->heap_len];
	t->armed = false;
	if (last == t)
		return;
	net__heap_place(loop, i, last);
	net__heap_up(loop, i);
	net__heap_down(loop, last->heap_index);
}

void net_timer_init(struct net_timer *timer, net_timer_cb cb, void *data)
{
	memset(timer, 0, sizeof *timer);
	timer->cb = cb;
	timer->data = data;
}

err *net_timer_start(struct net_loop *loop, struct net_timer *timer, uint64_t delay_ms)
{
	assert(timer->cb);
	if (timer->armed)
		net__heap_remove(loop, timer);
	if (loop->heap_len == loop->heap_cap) {
		if (loop->heap_cap >= NET_LOOP_MAX_TIMERS)
			return err_new(ERR_LIMIT, "more than %d timers armed", NET_LOOP_MAX_TIMERS);
		size_t cap = loop->heap_cap ? loop->heap_cap * 2 : 16;
		struct net_timer **heap = realloc(loop->heap, cap * sizeof *heap);
		if (!heap)
			return err_new(ERR_NOMEM, "cannot grow the timer heap to %zu", cap);
		loop->heap = heap;
		loop->heap_cap = cap;
	}
	timer->deadline_ms = net_loop_now_ms(loop) + delay_ms;
	timer->seq = loop->timer_seq++;
	timer->armed = true;
	net__heap_place(loop, loop->heap_len++, timer);
	net__heap_up(loop, timer->heap_index);
	return NULL;
}

void net_timer_stop(struct net_loop *loop, struct net_timer *timer)
{
	if (timer->armed)
		net__heap_remove(loop, timer);
}

/* Fires the timers due at `now`, earliest first; a timer armed by a callback for `now`
 * or earlier waits for the next step, so a zero-delay re-arm cannot spin forever. */
static void net__fire_timers(struct net_loop *loop, uint64_t now)
{
	uint64_t seq_limit = loop->timer_seq;
	while (loop->heap_len > 0) {
		struct net_timer *t = loop->heap[0];
		if (t->deadline_ms > now || t->seq >= seq_limit)
			break;
		net__heap_remove(loop, t);
		t->cb(t);
	}
}

/* ---- deferred callbacks ---- */

void net_defer_init(struct net_defer *defer, net_defer_cb cb, void *data)
{
	memset(defer, 0, sizeof *defer);
	defer->cb = cb;
	defer->data = data;
}

void net_defer_queue(struct net_loop *loop, struct net_defer *defer)
{
	assert(defer->cb);
	if (defer->queued)
		return;
	defer->queued = true;
	defer->next = NULL;
	if (loop->defer_tail)
		loop->defer_tail->next = defer;
	else
		loop->defer_head = defer;
	loop->defer_tail = defer;
}

void net_defer_cancel(struct net_loop *loop, struct net_defer *defer)
{
	if (!defer->queued)
		return;
	struct net_defer **p = &loop->defer_head, *prev = NULL;
	while (*p != defer) {
		assert(*p);
		prev = *p;
		p = &(*p)->next;
	}
	*p = defer->next;
	if (loop->defer_tail == defer)
		loop->defer_tail = prev;
	defer->queued = false;
	defer->next = NULL;
}

/* Runs the defers queued before this call; later ones wait for the next step. */
static void net__run_defers(struct net_loop *loop)
{
	struct net_defer *last = loop->defer_tail;
	while (last && loop->defer_head) {
		struct net_defer *d = loop->defer_head;
		loop->defer_head = d->next;
		if (!loop->defer_head)
			loop->defer_tail = NULL;
		d->queued = false;
		d->next = NULL;
		d->cb(d);
		if (d == last)
			break;
	}
}

/* ---- file descriptors ---- */

void net_io_init(struct net_io *io, int fd, net_io_cb cb, void *data)
{
	memset(io, 0, sizeof *io);
	io->fd = fd;
	io->cb = cb;
	io->data = data;
}

err *net_io_start(struct net_loop *loop, struct net_io *io, uint32_t events)
{
	assert(io->fd >= 0 && io->cb);
	struct epoll_event ev = {.events = events, .data.ptr = io};
	int op = io->active ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(loop->epoll_fd, op, io->fd, &ev) != 0)
		return err_new(ERR_IO, "epoll_ctl(fd %d): %s", io->fd, strerror(errno));
	io->active = true;
	io->events = events;
	return NULL;
}

void net_io_stop(struct net_loop *loop, struct net_io *io)
{
	if (!io->active)
		return;
	int rc = epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, io->fd, NULL);
	assert(rc == 0 || errno == EBADF || errno == ENOENT);
	(void)rc;
	io->active = false;
	io->events = 0;
	for (int i = loop->event_next; i < loop->event_count; i++)
		if (loop->events[i].data.ptr == io)
			loop->events[i].data.ptr = NULL;
}

/* ---- signals ---- */

static void net__on_signal(struct net_io *io, uint32_t events)
{
	struct net_loop *loop = io->data;
	(void)events;
	struct signalfd_siginfo info;
	while (read(loop->signal_fd, &info, sizeof info) == (ssize_t)sizeof info) {
		loop->stop = true;
		loop->stop_signal = (int)info.ssi_signo;
	}
}

err *net_loop_catch_signals(struct net_loop *loop)
{
	assert(loop->signal_fd < 0);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return err_new(ERR_IO, "sigprocmask: %s", strerror(errno));
	loop->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (loop->signal_fd < 0)
		return err_new(ERR_IO, "signalfd: %s", strerror(errno));
	net_io_init(&loop->signal_io, loop->signal_fd, net__on_signal, loop);
	err *e = net_io_start(loop, &loop->signal_io, EPOLLIN);
	if (e) {
		close(loop->signal_fd);
		loop->signal_fd = -1;
	}
	return e;
}

/* ---- the loop ---- */

err *net_loop_init(struct net_loop *loop)
{
	memset(loop, 0, sizeof *loop);
	loop->signal_fd = -1;
	loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epoll_fd < 0)
		return err_new(ERR_IO, "epoll_create1: %s", strerror(errno));
	return NULL;
}

void net_loop_close(struct net_loop *loop)
{
	if (loop->signal_fd >= 0) {
		net_io_stop(loop, &loop->signal_io);
		close(loop->signal_fd);
		loop->signal_fd = -1;
	}
	if (loop->epoll_fd >= 0)
		close(loop->epoll_fd);
	loop->epoll_fd = -1;
	free(loop->heap);
	loop->heap = NULL;
	loop->heap_len = loop->heap_cap = 0;
	loop->defer_head = loop->defer_tail = NULL;
}

void net_loop_stop(struct net_loop *loop)
{
	loop->stop = true;
}

err *net_loop_step(struct net_loop *loop, uint64_t max_wait_ms)
{
	uint64_t now = net_loop_now_ms(loop);
	uint64_t wait_ms = max_wait_ms;
	if (loop->defer_head)
		wait_ms = 0;
	if (loop->heap_len > 0) {
		uint64_t deadline = loop->heap[0]->deadline_ms;
		uint64_t until = deadline > now ? deadline - now : 0;
		if (until < wait_ms)
			wait_ms = until;
	}
	if (wait_ms > NET_LOOP_MAX_WAIT_MS)
		wait_ms = NET_LOOP_MAX_WAIT_MS;
	int n = epoll_wait(loop->epoll_fd, loop->events, NET_LOOP_EVENTS_PER_WAIT, (int)wait_ms);
	if (n < 0) {
		if (errno != EINTR)
			return err_new(ERR_IO, "epoll_wait: %s", strerror(errno));
		n = 0;
	}
	loop->event_count = n;
	for (loop->event_next = 0; loop->event_next < loop->event_count;) {
		struct epoll_event ev = loop->events[loop->event_next++];
		struct net_io *io = ev.data.ptr;
		if (io)
			io->cb(io, ev.events);
	}
	loop->event_count = loop->event_next = 0;
	net__fire_timers(loop, net_loop_now_ms(loop));
	net__run_defers(loop);
	return NULL;
}

err *net_loop_run(struct net_loop *loop)
{
	while (!loop->stop)
		TRY(net_loop_step(loop, NET_LOOP_MAX_WAIT_MS));
	loop->stop = false;
	return NULL;
}
