/*
 * loop.h — the real world's event loop: epoll for file descriptors, a heap of timers on
 * the monotonic clock, deferred callbacks, and a clean stop on SIGTERM / SIGINT.
 *
 * One loop per process, one thread, like the simulator's event queue. Handles (struct
 * net_io, struct net_timer, struct net_defer) are allocated by the caller and registered
 * with the loop; the loop never allocates per event. A handle must stay valid while it is
 * registered, and may be unregistered (and freed) from inside any callback: the loop
 * forgets every event it still held for it.
 *
 * One step of the loop (net_loop_step):
 *   1. wait in epoll until an fd is ready, the next timer is due, or `max_wait_ms` passed;
 *   2. call the io callbacks of the ready fds;
 *   3. fire every timer whose deadline has passed, earliest first (ties in arming order);
 *   4. run the deferred callbacks queued so far (those queued while running wait for the
 *      next step).
 * net_loop_run() repeats steps until net_loop_stop() is called or a caught signal
 * arrives; the step in progress is finished first, so pending work completes.
 */
#ifndef CAIRN_NET_LOOP_H
#define CAIRN_NET_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "base/err.h"

/* At most this many timers may be armed at once. */
#define NET_LOOP_MAX_TIMERS 65536
/* epoll events taken per wait. */
#define NET_LOOP_EVENTS_PER_WAIT 64
/* net_loop_run waits at most this long per step (so a stop is noticed promptly). */
#define NET_LOOP_MAX_WAIT_MS 1000

struct net_loop;
struct net_io;
struct net_timer;
struct net_defer;

/* `events` is a mask of EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP as epoll reported them. */
typedef void (*net_io_cb)(struct net_io *io, uint32_t events);
typedef void (*net_timer_cb)(struct net_timer *timer);
typedef void (*net_defer_cb)(struct net_defer *defer);

struct net_io {
	int fd;
	uint32_t events; /* what we currently wait for */
	bool active;
	net_io_cb cb;
	void *data;
};

struct net_timer {
	uint64_t deadline_ms;
	uint64_t seq;      /* arming order, the tie-break between equal deadlines */
	size_t heap_index; /* position in the heap while armed */
	bool armed;
	net_timer_cb cb;
	void *data;
};

struct net_defer {
	struct net_defer *next;
	bool queued;
	net_defer_cb cb;
	void *data;
};

struct net_loop {
	int epoll_fd;
	int signal_fd; /* -1 unless signals are caught */
	struct net_io signal_io;
	bool stop;
	int stop_signal; /* the signal that stopped the loop, or 0 */

	struct epoll_event events[NET_LOOP_EVENTS_PER_WAIT];
	int event_count;
	int event_next; /* events before this one were handled */

	struct net_timer **heap;
	size_t heap_len;
	size_t heap_cap;
	uint64_t timer_seq;

	struct net_defer *defer_head;
	struct net_defer *defer_tail;
};

/* Makes a loop (the struct is the caller's). Release with net_loop_close(). */
err *net_loop_init(struct net_loop *loop);

/*
 * Releases the loop's own resources. Every io must have been stopped; armed timers and
 * queued defers are simply forgotten (their handles are the caller's).
 */
void net_loop_close(struct net_loop *loop);

/*
 * Blocks SIGTERM and SIGINT for the process and routes them to the loop: when one
 * arrives, the loop stops after the current step. Call before any thread exists.
 */
err *net_loop_catch_signals(struct net_loop *loop);

/* Milliseconds on CLOCK_MONOTONIC; never decreases. */
uint64_t net_loop_now_ms(const struct net_loop *loop);

/* Runs until stopped; returns NULL, or an error if epoll itself fails. */
err *net_loop_run(struct net_loop *loop);

/* Runs one step, waiting at most max_wait_ms for something to happen. */
err *net_loop_step(struct net_loop *loop, uint64_t max_wait_ms);

/* Asks net_loop_run to return after the current step. */
void net_loop_stop(struct net_loop *loop);

/* ---- file descriptors ---- */

/* Prepares `io` for `fd`; nothing is watched until net_io_start. */
void net_io_init(struct net_io *io, int fd, net_io_cb cb, void *data);

/* Watches io->fd for `events` (EPOLLIN and/or EPOLLOUT), replacing any earlier mask. */
err *net_io_start(struct net_loop *loop, struct net_io *io, uint32_t events);

/* Stops watching; pending events for the io in this step are dropped. Idempotent. */
void net_io_stop(struct net_loop *loop, struct net_io *io);

/* ---- timers ---- */

void net_timer_init(struct net_timer *timer, net_timer_cb cb, void *data);

/*
 * Arms `timer` to fire once, delay_ms from now; re-arming replaces the deadline. Fails
 * with ERR_LIMIT when NET_LOOP_MAX_TIMERS are armed already.
 */
err *net_timer_start(struct net_loop *loop, struct net_timer *timer, uint64_t delay_ms);

/* Disarms the timer; a disarmed timer is left alone. */
void net_timer_stop(struct net_loop *loop, struct net_timer *timer);

/* ---- deferred callbacks ---- */

void net_defer_init(struct net_defer *defer, net_defer_cb cb, void *data);

/* Queues `defer` to run at the end of the current step (once, even if queued twice). */
void net_defer_queue(struct net_loop *loop, struct net_defer *defer);

/* Removes a queued defer; idempotent. */
void net_defer_cancel(struct net_loop *loop, struct net_defer *defer);

#endif
