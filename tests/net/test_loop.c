/*
 * Event loop tests: timers fire in deadline order with ties in arming order, re-arming and
 * stopping work, deferred callbacks run once, fds are watched and can be unwatched from
 * inside a callback, and SIGTERM stops net_loop_run cleanly.
 */
#include <signal.h>
#include <unistd.h>

#include "check_main.h"
#include "net/loop.h"

struct record {
	int order[16];
	int count;
};

struct tagged_timer {
	struct net_timer timer;
	struct record *rec;
	int tag;
};

static void on_tagged(struct net_timer *t)
{
	struct tagged_timer *tt = t->data;
	ck_assert_int_lt(tt->rec->count, 16);
	tt->rec->order[tt->rec->count++] = tt->tag;
}

/* Steps the loop until `done` or `limit_ms` of monotonic time passed. */
static void run_until(struct net_loop *loop, const int *done, int want, uint64_t limit_ms)
{
	uint64_t end = net_loop_now_ms(loop) + limit_ms;
	while (*done < want && net_loop_now_ms(loop) < end)
		ck_assert_ptr_null(net_loop_step(loop, 10));
}

START_TEST(timers_fire_in_deadline_then_arming_order)
{
	struct net_loop loop;
	ck_assert_ptr_null(net_loop_init(&loop));
	struct record rec = {0};
	struct tagged_timer t[5];
	uint64_t delays[5] = {30, 10, 10, 0, 20};
	/* read the clock before arming: a deadline counts from the moment its timer is armed */
	uint64_t start = net_loop_now_ms(&loop);
	for (int i = 0; i < 5; i++) {
		t[i].rec = &rec;
		t[i].tag = i;
		net_timer_init(&t[i].timer, on_tagged, &t[i]);
		ck_assert_ptr_null(net_timer_start(&loop, &t[i].timer, delays[i]));
	}
	run_until(&loop, &rec.count, 5, 2000);
	ck_assert_int_eq(rec.count, 5);
	int want[5] = {3, 1, 2, 4, 0};
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(rec.order[i], want[i]);
	ck_assert_uint_ge(net_loop_now_ms(&loop) - start, 30);
	net_loop_close(&loop);
}
END_TEST

START_TEST(rearm_replaces_and_stop_disarms)
{
	struct net_loop loop;
	ck_assert_ptr_null(net_loop_init(&loop));
	struct record rec = {0};
	struct tagged_timer a = {.rec = &rec, .tag = 1}, b = {.rec = &rec, .tag = 2};
	net_timer_init(&a.timer, on_tagged, &a);
	net_timer_init(&b.timer, on_tagged, &b);
	ck_assert_ptr_null(net_timer_start(&loop, &a.timer, 5));
	ck_assert_ptr_null(net_timer_start(&loop, &b.timer, 10));
	ck_assert_ptr_null(net_timer_start(&loop, &a.timer, 40)); /* a now after b */
	net_timer_stop(&loop, &b.timer);
	net_timer_stop(&loop, &b.timer); /* idempotent */
	ck_assert(!b.timer.armed);
	run_until(&loop, &rec.count, 1, 2000);
	ck_assert_int_eq(rec.count, 1);
	ck_assert_int_eq(rec.order[0], 1);
	/* nothing else is armed: a step returns without firing */
	ck_assert_ptr_null(net_loop_step(&loop, 20));
	ck_assert_int_eq(rec.count, 1);
	net_loop_close(&loop);
}
END_TEST

static uint64_t last_deadline;
static int heap_fired;

static void on_heap_timer(struct net_timer *t)
{
	ck_assert_uint_ge(t->deadline_ms, last_deadline);
	last_deadline = t->deadline_ms;
	heap_fired++;
	ck_assert(t->data == NULL);
}

START_TEST(many_timers_keep_heap_order)
{
	struct net_loop loop;
	ck_assert_ptr_null(net_loop_init(&loop));
	enum { N = 300 };
	static struct net_timer timers[N];
	struct prng_like {
		uint64_t x;
	} rng = {12345};
	last_deadline = 0;
	heap_fired = 0;
	for (int i = 0; i < N; i++) {
		rng.x = rng.x * 6364136223846793005u + 1442695040888963407u;
		net_timer_init(&timers[i], on_heap_timer, NULL);
		ck_assert_ptr_null(net_timer_start(&loop, &timers[i], (rng.x >> 33) % 40));
	}
	for (int i = 0; i < N; i += 3)
		net_timer_stop(&loop, &timers[i]);
	run_until(&loop, &heap_fired, N - N / 3, 2000);
	ck_assert_int_eq(heap_fired, N - N / 3);
	ck_assert_uint_eq(loop.heap_len, 0);
	net_loop_close(&loop);
}
END_TEST

struct defer_count {
	struct net_defer defer;
	int runs;
	struct net_loop *loop;
	bool requeue;
};

static void on_defer(struct net_defer *d)
{
	struct defer_count *dc = d->data;
	dc->runs++;
	if (dc->requeue) {
		dc->requeue = false;
		net_defer_queue(dc->loop, d); /* runs in the next step, not this one */
	}
}

START_TEST(defers_run_once_per_queueing)
{
	struct net_loop loop;
	ck_assert_ptr_null(net_loop_init(&loop));
	struct defer_count a = {.loop = &loop, .requeue = true}, b = {.loop = &loop};
	net_defer_init(&a.defer, on_defer, &a);
	net_defer_init(&b.defer, on_defer, &b);
	net_defer_queue(&loop, &a.defer);
	net_defer_queue(&loop, &a.defer);
	net_defer_queue(&loop, &b.defer);
	net_defer_cancel(&loop, &b.defer);
	uint64_t t0 = net_loop_now_ms(&loop);
	ck_assert_ptr_null(net_loop_step(&loop, 10000));
	ck_assert_int_eq(a.runs, 1);
	ck_assert_int_eq(b.runs, 0);
	ck_assert_ptr_null(net_loop_step(&loop, 10000)); /* a pending defer means no waiting */
	ck_assert_int_eq(a.runs, 2);
	/* far below one wait, however loaded the machine */
	ck_assert_uint_lt(net_loop_now_ms(&loop) - t0, 5000);
	net_loop_close(&loop);
}
END_TEST

struct pipe_reader {
	struct net_io io;
	struct net_loop *loop;
	int reads;
	struct net_io *victim; /* stopped from inside the callback */
};

static void on_pipe(struct net_io *io, uint32_t events)
{
	struct pipe_reader *r = io->data;
	ck_assert(events & EPOLLIN);
	char c;
	ck_assert_int_eq(read(io->fd, &c, 1), 1);
	r->reads++;
	if (r->victim)
		net_io_stop(r->loop, r->victim);
}

START_TEST(io_callbacks_and_stop_inside_a_batch)
{
	struct net_loop loop;
	ck_assert_ptr_null(net_loop_init(&loop));
	int p1[2], p2[2];
	ck_assert_int_eq(pipe(p1), 0);
	ck_assert_int_eq(pipe(p2), 0);
	struct pipe_reader r1 = {.loop = &loop}, r2 = {.loop = &loop};
	net_io_init(&r1.io, p1[0], on_pipe, &r1);
	net_io_init(&r2.io, p2[0], on_pipe, &r2);
	r1.victim = &r2.io;
	r2.victim = &r1.io;
	ck_assert_ptr_null(net_io_start(&loop, &r1.io, EPOLLIN));
	ck_assert_ptr_null(net_io_start(&loop, &r2.io, EPOLLIN));
	/* both ready in one batch: whichever runs first stops the other */
	ck_assert_int_eq(write(p1[1], "x", 1), 1);
	ck_assert_int_eq(write(p2[1], "y", 1), 1);
	ck_assert_ptr_null(net_loop_step(&loop, 500));
	ck_assert_int_eq(r1.reads + r2.reads, 1);
	net_io_stop(&loop, &r1.io);
	net_io_stop(&loop, &r2.io);
	for (int i = 0; i < 2; i++) {
		close(p1[i]);
		close(p2[i]);
	}
	net_loop_close(&loop);
}
END_TEST

static void on_never(struct net_timer *t)
{
	(void)t;
	ck_abort_msg("the loop ran past its stop");
}

START_TEST(sigterm_stops_the_loop)
{
	struct net_loop loop;
	ck_assert_ptr_null(net_loop_init(&loop));
	ck_assert_ptr_null(net_loop_catch_signals(&loop));
	struct net_timer never;
	net_timer_init(&never, on_never, NULL);
	ck_assert_ptr_null(net_timer_start(&loop, &never, 5000));
	ck_assert_int_eq(raise(SIGTERM), 0); /* blocked, so it waits on the signalfd */
	uint64_t t0 = net_loop_now_ms(&loop);
	ck_assert_ptr_null(net_loop_run(&loop));
	ck_assert_int_eq(loop.stop_signal, SIGTERM);
	ck_assert_uint_lt(net_loop_now_ms(&loop) - t0, 2000);
	net_loop_stop(&loop); /* a stop before run returns after one step */
	ck_assert_ptr_null(net_loop_run(&loop));
	net_loop_close(&loop);
}
END_TEST

static Suite *loop_suite(void)
{
	Suite *s = suite_create("loop");
	TCase *tc = tcase_create("loop");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, timers_fire_in_deadline_then_arming_order);
	tcase_add_test(tc, rearm_replaces_and_stop_disarms);
	tcase_add_test(tc, many_timers_keep_heap_order);
	tcase_add_test(tc, defers_run_once_per_queueing);
	tcase_add_test(tc, io_callbacks_and_stop_inside_a_batch);
	tcase_add_test(tc, sigterm_stops_the_loop);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(loop_suite());
}
