/*
 * Tests for the world: the order of events, timers, pauses, crashes and restarts over a
 * disk, fail-stops, clock drift, the bounds, configurations and swarm fault mixes.
 */
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "gossip_node.h"
#include "sim/sim_internal.h"
#include "sim_test.h"

/* ---- a node that records what happens to it ---- */

#define REC_MAX 4096

enum rec_mode {
	REC_TIMERS,      /* arms, re-arms and cancels timers at start */
	REC_TICKER,      /* ticks every 10ms and sends its tick number to every peer */
	REC_WRITER,      /* writes a synced and an unsynced record at start */
	REC_FAILSTOP,    /* its first tick returns ERR_IO in its first incarnation */
	REC_BUG,         /* its first tick returns ERR_INTERNAL */
	REC_MANY_TIMERS, /* arms more timers than a node may have */
	REC_LIVELOCK,    /* re-arms a zero-delay timer forever */
	REC_BAD_START,   /* fails to start (ERR_IO) in its first incarnation */
	REC_NO_START,    /* never starts */
};

struct rec_event {
	uint32_t node, what, from; /* what: a timer id, or 1000 + a tick number received */
	uint64_t local_ms;         /* the node's clock */
	uint64_t world_ms;         /* the world's clock */
};

struct rec_app {
	enum rec_mode mode;
	uint32_t nodes;
	struct sim_world *world;
	struct rec_event events[REC_MAX];
	int count;
	uint64_t recovered_size[SIM_NODES_MAX + 1];
	uint64_t stop_ticks_ms; /* tickers stop re-arming after this local time */
};

struct rec_node {
	const struct env *env;
	struct rec_app *app;
	struct vfs_file *file;
	uint32_t ticks;
};

static void rec_log(struct rec_node *n, uint32_t what, uint32_t from)
{
	struct rec_app *app = n->app;
	ck_assert_int_lt(app->count, REC_MAX);
	app->events[app->count++] = (struct rec_event){n->env->node_id, what, from,
	                                               env_now_ms(n->env), sim_now_ms(app->world)};
}

static err *rec_writer_start(struct rec_node *n)
{
	TRY(vfs_open(n->env->vfs, "f", VFS_CREATE, &n->file));
	uint64_t size = 0;
	TRY(vfs_size(n->file, &size));
	n->app->recovered_size[n->env->node_id] = size;
	if (size)
		return NULL;
	TRY(vfs_write(n->file, 0, "durable", 7));
	TRY(vfs_sync(n->file));
	uint8_t tail[100];
	memset(tail, 'v', sizeof tail);
	return vfs_write(n->file, 7, tail, sizeof tail);
}

static err *rec_create(const struct env *env, void *app_ptr, void **out)
{
	struct rec_app *app = app_ptr;
	uint32_t incarnation = sim_node_incarnation(app->world, env->node_id);
	if (app->mode == REC_NO_START || (app->mode == REC_BAD_START && incarnation == 1))
		return err_new(ERR_IO, "cannot read the disk");
	struct rec_node *n = calloc(1, sizeof *n);
	ck_assert_ptr_nonnull(n);
	n->env = env;
	n->app = app;
	*out = n;
	switch (app->mode) {
	case REC_TIMERS:
		env_timer_set(env, 1, 100);
		env_timer_set(env, 2, 100);
		env_timer_set(env, 3, 100);
		env_timer_set(env, 1, 50); /* replaces the 100ms deadline */
		env_timer_cancel(env, 3);
		env_timer_cancel(env, 9); /* not armed: nothing happens */
		env_timer_set(env, 7, 100);
		break;
	case REC_WRITER: {
		err *e = rec_writer_start(n);
		if (e) {
			vfs_close(n->file);
			free(n);
			return e;
		}
		break;
	}
	case REC_MANY_TIMERS:
		for (uint32_t i = 0; i <= SIM_TIMERS_PER_NODE; i++)
			env_timer_set(env, 100 + i, 10);
		break;
	default: env_timer_set(env, 1, app->mode == REC_LIVELOCK ? 0 : 10); break;
	}
	return NULL;
}

static err *rec_on_timer(void *node, uint32_t timer_id)
{
	struct rec_node *n = node;
	struct rec_app *app = n->app;
	if (app->mode == REC_LIVELOCK) {
		env_timer_set(n->env, 1, 0);
		return NULL;
	}
	rec_log(n, timer_id, 0);
	switch (app->mode) {
	case REC_TIMERS:
		if (timer_id == 1 && n->ticks++ == 0)
			env_timer_set(n->env, 1, 30); /* re-armed while firing */
		return NULL;
	case REC_TICKER: {
		n->ticks++;
		uint8_t msg[4];
		store_u32be(msg, n->ticks);
		for (uint32_t peer = 1; peer <= app->nodes; peer++)
			if (peer != n->env->node_id)
				env_send(n->env, peer, msg, sizeof msg);
		if (env_now_ms(n->env) < app->stop_ticks_ms)
			env_timer_set(n->env, 1, 10);
		return NULL;
	}
	case REC_FAILSTOP:
		if (sim_node_incarnation(app->world, n->env->node_id) == 1)
			return err_new(ERR_IO, "the disk failed");
		return NULL;
	case REC_BUG: return err_new(ERR_INTERNAL, "an invariant broke");
	default: return NULL;
	}
}

static err *rec_on_message(void *node, uint32_t from, const uint8_t *bytes, size_t len)
{
	struct rec_node *n = node;
	ck_assert_uint_eq(len, 4);
	rec_log(n, 1000 + load_u32be(bytes), from);
	return NULL;
}

static void rec_destroy(void *node)
{
	struct rec_node *n = node;
	vfs_close(n->file);
	free(n);
}

static const struct sim_node_ops rec_ops = {
    .create = rec_create,
    .on_message = rec_on_message,
    .on_timer = rec_on_timer,
    .destroy = rec_destroy,
};

static struct sim_world *rec_world(struct rec_app *app, enum rec_mode mode, uint32_t nodes,
                                   uint64_t seed)
{
	memset(app, 0, sizeof *app);
	app->mode = mode;
	app->nodes = nodes;
	app->stop_ticks_ms = UINT64_MAX;
	struct sim_config cfg;
	sim_config_default(&cfg, seed, "rec");
	cfg.nodes = nodes;
	app->world = sim_test_world(&cfg, &rec_ops, app);
	return app->world;
}

/* ---- the order of events ---- */

START_TEST(the_queue_orders_by_time_then_sequence)
{
	/* Random pushes (many ties), re-pushes and removals against a simple model. */
	enum { SLOTS = 512 };
	struct sim__queue q;
	OK(sim__queue_init(&q, SLOTS));
	struct prng p;
	prng_seed(&p, 77);
	bool queued[SLOTS] = {false};
	uint32_t slots[SLOTS];
	for (uint32_t i = 0; i < SLOTS; i++) {
		slots[i] = sim__queue_alloc(&q, SIM__EV_CALL, 0);
		sim__queue_push(&q, slots[i], prng_below(&p, 50));
		queued[i] = true;
	}
	for (int round = 0; round < 2000; round++) {
		uint32_t i = (uint32_t)prng_below(&p, SLOTS);
		if (queued[i])
			sim__queue_remove(&q, slots[i]);
		if (prng_chance(&p, 0.7))
			sim__queue_push(&q, slots[i], prng_below(&p, 50));
		queued[i] = sim__event(&q, slots[i])->heap_pos != SIM__NONE;
	}
	uint32_t expected = 0;
	for (uint32_t i = 0; i < SLOTS; i++)
		expected += queued[i];
	ck_assert_uint_eq(q.count, expected);
	uint64_t last_at = 0, last_seq = 0;
	for (uint32_t popped = 0; popped < expected; popped++) {
		uint32_t slot = sim__queue_peek(&q);
		ck_assert_uint_ne(slot, SIM__NONE);
		const struct sim__event *e = sim__event(&q, slot);
		ck_assert(e->at_us > last_at || (e->at_us == last_at && e->seq > last_seq) ||
		          popped == 0);
		last_at = e->at_us;
		last_seq = e->seq;
		sim__queue_remove(&q, slot);
	}
	ck_assert_uint_eq(sim__queue_peek(&q), SIM__NONE);
	for (uint32_t i = 0; i < SLOTS; i++)
		sim__queue_release(&q, slots[i]);
	ck_assert_uint_eq(q.used, 0);
	sim__queue_free(&q);
}
END_TEST

struct order_call {
	int tag;
	int *seen;
	int *count;
	uint64_t *at_ms;
};

static void order_record(struct sim_world *w, void *ctx)
{
	struct order_call *c = ctx;
	c->seen[*c->count] = c->tag;
	c->at_ms[*c->count] = sim_now_ms(w);
	(*c->count)++;
}

static void order_late(struct sim_world *w, void *ctx)
{
	order_record(w, ctx);
	/* A step scheduled in the past runs now, after steps already due now. */
	struct order_call *c = ctx;
	OK(sim_schedule(w, 0, order_record, c + 1));
}

START_TEST(calls_run_in_time_then_schedule_order)
{
	struct rec_app app;
	struct sim_world *w = rec_world(&app, REC_TIMERS, 1, 1);
	int seen[8], count = 0;
	uint64_t at_ms[8];
	struct order_call calls[7];
	for (int i = 0; i < 7; i++)
		calls[i] = (struct order_call){i, seen, &count, at_ms};
	OK(sim_schedule(w, 20, order_record, &calls[0]));
	OK(sim_schedule(w, 10, order_record, &calls[1]));
	OK(sim_schedule(w, 10, order_record, &calls[2]));
	OK(sim_schedule(w, 0, order_record, &calls[3]));
	OK(sim_schedule(w, 20, order_late, &calls[4])); /* queues calls[5] at 20ms */
	OK(sim_schedule(w, 20, order_record, &calls[6]));
	sim_test_run(w, 30);
	int expected[] = {3, 1, 2, 0, 4, 6, 5};
	uint64_t expected_ms[] = {0, 10, 10, 20, 20, 20, 20};
	ck_assert_int_eq(count, 7);
	for (int i = 0; i < 7; i++) {
		ck_assert_int_eq(seen[i], expected[i]);
		ck_assert_uint_eq(at_ms[i], expected_ms[i]);
	}
	ck_assert_uint_eq(sim_world_stats(w)->calls, 7);
	sim_world_free(w);
}
END_TEST

START_TEST(calls_are_bounded)
{
	struct rec_app app;
	struct sim_world *w = rec_world(&app, REC_TIMERS, 1, 1);
	int seen[1], count = 0;
	uint64_t at_ms[1];
	struct order_call call = {0, seen, &count, at_ms};
	for (int i = 0; i < SIM_CALLS_MAX; i++)
		OK(sim_schedule(w, 1000, order_record, &call));
	sim_test_expect(sim_schedule(w, 1000, order_record, &call), ERR_LIMIT);
	sim_world_free(w);
}
END_TEST

/* ---- timers ---- */

START_TEST(timers_rearm_replace_and_cancel)
{
	struct rec_app app;
	struct sim_world *w = rec_world(&app, REC_TIMERS, 1, 1);
	sim_test_run(w, 1000);
	/* 1 re-armed to 50ms, re-armed again when it fired; 3 cancelled; 2 and 7 tie at
	 * 100ms and fire in the order they were armed. */
	uint32_t ids[] = {1, 1, 2, 7};
	uint64_t at[] = {50, 80, 100, 100};
	ck_assert_int_eq(app.count, 4);
	for (int i = 0; i < 4; i++) {
		ck_assert_uint_eq(app.events[i].what, ids[i]);
		ck_assert_uint_eq(app.events[i].world_ms, at[i]);
		ck_assert_uint_eq(app.events[i].local_ms, at[i]); /* no drift, no offset */
	}
	ck_assert_uint_eq(sim_world_stats(w)->timers_fired, 4);
	sim_world_free(w);
}
END_TEST

START_TEST(too_many_timers_fail_the_run)
{
	struct rec_app app;
	struct sim_world *w = rec_world(&app, REC_MANY_TIMERS, 1, 1);
	const err *e = sim_run_until(w, 100);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(err_code(e), ERR_LIMIT);
	ck_assert_ptr_eq(sim_run_until(w, 200), e); /* the failure is sticky */
	sim_world_free(w);
}
END_TEST

START_TEST(a_livelock_is_caught)
{
	struct rec_app app;
	struct sim_world *w = rec_world(&app, REC_LIVELOCK, 1, 1);
	const err *e = sim_run_until(w, 100);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(err_code(e), ERR_LIMIT);
	ck_assert_ptr_nonnull(strstr(err_msg(e), "livelock"));
	ck_assert_uint_eq(sim_now_ms(w), 0);
	sim_world_free(w);
}
END_TEST

/* ---- crashes, restarts, fail-stops ---- */

START_TEST(crash_and_restart_recreate_the_node_over_its_disk)
{
	struct gossip_app app;
	gossip_app_init(&app, 3, true);
	struct sim_config cfg;
	sim_config_default(&cfg, 7, "gossip");
	cfg.nodes = 3;
	struct sim_world *w = sim_test_world(&cfg, &gossip_ops, &app);
	sim_test_run(w, 1000);
	ck_assert_ptr_nonnull(sim_node(w, 2));
	ck_assert_uint_eq(sim_node_incarnation(w, 2), 1);
	uint64_t synced = app.synced[2];
	ck_assert_uint_gt(synced, 10);
	sim_crash(w, 2);
	ck_assert_ptr_null(sim_node(w, 2));
	ck_assert_ptr_null(sim_node_env(w, 2));
	uint64_t applied, hash;
	ck_assert(!sim_node_state(w, 2, &applied, &hash));
	sim_test_run(w, 2000);
	ck_assert_ptr_null(sim_node(w, 2)); /* stays down until restarted */
	sim_restart(w, 2);
	ck_assert_ptr_nonnull(sim_node(w, 2));
	ck_assert_uint_eq(sim_node_incarnation(w, 2), 2);
	ck_assert(sim_node_state(w, 2, &applied, &hash));
	ck_assert_uint_ge(applied, synced); /* it came back with what it had synced */
	ck_assert_uint_eq(app.recoveries, 1);
	sim_test_run(w, 3000);
	const struct sim_stats *s = sim_world_stats(w);
	ck_assert_uint_eq(s->crashes, 1);
	ck_assert_uint_eq(s->restarts, 1);
	ck_assert_uint_gt(s->to_down_node, 0); /* gossip to n2 while it was down */
	ck_assert_uint_gt(s->disk_syncs, 0);
	sim_world_free(w);
}
END_TEST

START_TEST(a_crash_keeps_synced_writes_and_loses_the_rest)
{
	struct rec_app app;
	struct sim_world *w = rec_world(&app, REC_WRITER, 1, 1);
	sim_test_run(w, 10);
	ck_assert_uint_eq(app.recovered_size[1], 0);
	sim_crash(w, 1);
	struct vfs_file *f;
	OK(vfs_open(sim_node_disk(w, 1), "f", 0, &f));
	uint64_t size;
	OK(vfs_size(f, &size));
	ck_assert_uint_eq(size, 7);
	char bytes[8] = {0};
	OK(vfs_read_exact(f, 0, bytes, 7));
	ck_assert_str_eq(bytes, "durable");
	vfs_close(f);
	sim_restart(w, 1);
	ck_assert_uint_eq(app.recovered_size[1], 7); /* the new incarnation sees the same */
	sim_world_free(w);
}
END_TEST

START_TEST(a_failstop_restarts_the_node)
{
	struct rec_app app;
	struct sim_world *w = rec_world(&app, REC_FAILSTOP, 1, 1);
	sim_test_run(w, 100);
	ck_assert_uint_eq(sim_node_incarnation(w, 1), 2);
	ck_assert_ptr_nonnull(sim_node(w, 1));
	ck_assert_uint_eq(sim_world_stats(w)->failstops, 1);
	ck_assert_uint_eq(sim_world_stats(w)->crashes, 1);
	sim_world_free(w);
}
END_TEST

START_TEST(an_internal_error_fails_the_run)
{
	struct rec_app app;
	struct sim_world *w = rec_world(&app, REC_BUG, 1, 1);
	const err *e = sim_run_until(w, 100);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(err_code(e), ERR_INTERNAL);
	ck_assert_ptr_nonnull(strstr(err_msg(e), "an invariant broke"));
	ck_assert_uint_eq(sim_now_ms(w), 10); /* stopped at the failing event */
	ck_assert_ptr_eq(sim_world_failure(w), e);
	sim_world_free(w);
}
END_TEST

START_TEST(a_failed_start_is_retried)
{
	struct rec_app app;
	struct sim_world *w = rec_world(&app, REC_BAD_START, 1, 1);
	sim_test_run(w, 100);
	ck_assert_uint_eq(sim_node_incarnation(w, 1), 2);
	ck_assert_ptr_nonnull(sim_node(w, 1));
	sim_world_free(w);
}
END_TEST

START_TEST(a_node_that_never_starts_fails_the_run)
{
	struct rec_app app;
	struct sim_world *w = rec_world(&app, REC_NO_START, 1, 1);
	const err *e = sim_run_until(w, 100);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(err_code(e), ERR_IO);
	ck_assert_ptr_nonnull(strstr(err_msg(e), "could not start"));
	ck_assert_uint_eq(sim_node_incarnation(w, 1), SIM_RESTART_FAILURES_MAX + 1);
	sim_world_free(w);
}
END_TEST

START_TEST(node_logs_reach_the_sink_at_its_level)
{
	struct gossip_app app;
	gossip_app_init(&app, 2, false);
	struct sim_config cfg;
	sim_config_default(&cfg, 8, "gossip");
	cfg.nodes = 2;
	struct sim_world *w = sim_test_world(&cfg, &gossip_ops, &app);
	char *text = NULL;
	size_t len = 0;
	FILE *sink = open_memstream(&text, &len);
	sim_world_log(w, sink, LOG_INFO);
	sim_test_run(w, 1000);
	sim_world_log(w, NULL, LOG_OFF);
	fclose(sink);
	ck_assert_ptr_nonnull(strstr(text, "0.000s n1 INFO gossip: up with counter 0\n"));
	ck_assert_ptr_nonnull(strstr(text, "0.000s n2 INFO gossip: up with counter 0\n"));
	ck_assert_ptr_null(strstr(text, "DEBUG")); /* below the sink's level */
	free(text);
	sim_world_free(w);
}
END_TEST

/* ---- pauses ---- */

static void pause_two(struct sim_world *w, void *ctx)
{
	(void)ctx;
	sim_pause(w, 2);
	ck_assert_ptr_null(sim_node(w, 2));
}

static void resume_two(struct sim_world *w, void *ctx)
{
	(void)ctx;
	sim_resume(w, 2);
	ck_assert_ptr_nonnull(sim_node(w, 2));
}

START_TEST(a_paused_node_handles_its_events_late_and_in_order)
{
	struct rec_app app;
	struct sim_world *w = rec_world(&app, REC_TICKER, 2, 3);
	app.stop_ticks_ms = 1000;
	/* A fixed latency: the only reordering would be the pause's. */
	struct sim_net_config net = sim_world_config(w)->net;
	net.latency_min_us = net.latency_max_us = 1000;
	net.latency_mean_us = 0;
	OK(sim_net_set(w, &net));
	OK(sim_schedule(w, 105, pause_two, NULL));
	OK(sim_schedule(w, 605, resume_two, NULL));
	sim_test_run(w, 1200);
	uint32_t last_tick_from_1 = 0;
	int late = 0;
	for (int i = 0; i < app.count; i++) {
		const struct rec_event *e = &app.events[i];
		if (e->node != 2)
			continue;
		/* Nothing happens to n2 while it is paused. */
		ck_assert(e->world_ms < 105 || e->world_ms >= 605);
		if (e->what > 1000) {
			ck_assert_uint_eq(e->what - 1000, last_tick_from_1 + 1); /* in order */
			last_tick_from_1 = e->what - 1000;
			late += e->world_ms == 605;
		}
	}
	ck_assert_int_ge(late, 45); /* about 50 ticks of n1 were held */
	ck_assert_uint_eq(sim_world_stats(w)->pauses, 1);
	sim_world_free(w);
}
END_TEST

START_TEST(scheduled_pauses_end)
{
	struct gossip_app app;
	gossip_app_init(&app, 5, true);
	struct sim_config cfg;
	sim_config_default(&cfg, 9, "gossip");
	cfg.faults.enabled = true;
	cfg.faults.pause_every_ms = 200;
	cfg.faults.pause_max_ms = 300;
	cfg.faults.down_max = 2;
	struct sim_world *w = sim_test_world(&cfg, &gossip_ops, &app);
	int paused_seen = 0;
	for (uint64_t t = 100; t <= 10000; t += 100) {
		sim_test_run(w, t);
		int paused = 0;
		for (uint32_t id = 1; id <= 5; id++)
			paused += sim_node(w, id) == NULL;
		ck_assert_int_le(paused, 2); /* never more than down_max */
		paused_seen += paused;
	}
	ck_assert_int_gt(paused_seen, 10);
	ck_assert_uint_gt(sim_world_stats(w)->pauses, 20);
	ck_assert_uint_eq(sim_world_stats(w)->crashes, 0);
	sim_liveness(w);
	for (uint32_t id = 1; id <= 5; id++)
		ck_assert_ptr_nonnull(sim_node(w, id));
	sim_world_free(w);
}
END_TEST

/* ---- clocks ---- */

static void drift_two(struct sim_world *w, void *ctx)
{
	(void)ctx;
	sim_set_drift(w, 2, 100000); /* 10% fast */
}

START_TEST(a_drifting_clock_runs_fast_and_stays_monotonic)
{
	struct rec_app app;
	struct sim_world *w = rec_world(&app, REC_TICKER, 2, 4);
	app.stop_ticks_ms = 2000;
	OK(sim_schedule(w, 500, drift_two, NULL));
	sim_test_run(w, 1000);
	const struct env *env = sim_node_env(w, 2);
	ck_assert_ptr_nonnull(env);
	ck_assert_uint_eq(env_now_ms(env), 1050); /* 500 + 500 * 1.1 */
	ck_assert_uint_eq(env_now_ms(sim_node_env(w, 1)), 1000);
	sim_set_drift(w, 2, -2000000); /* clamped to 10% slow */
	sim_test_run(w, 2000);
	ck_assert_uint_eq(env_now_ms(env), 1950);
	uint64_t last = 0;
	for (int i = 0; i < app.count; i++)
		if (app.events[i].node == 2) {
			ck_assert_uint_ge(app.events[i].local_ms, last);
			last = app.events[i].local_ms;
		}
	sim_world_free(w);
}
END_TEST

START_TEST(clocks_start_at_drawn_offsets)
{
	struct gossip_app app;
	gossip_app_init(&app, 5, false);
	struct sim_config cfg;
	sim_config_default(&cfg, 5, "gossip");
	cfg.faults.enabled = true;
	cfg.faults.offset_max_ms = 5000;
	struct sim_world *w = sim_test_world(&cfg, &gossip_ops, &app);
	sim_test_run(w, 100);
	bool some_offset = false;
	for (uint32_t id = 1; id <= 5; id++) {
		uint64_t now = env_now_ms(sim_node_env(w, id));
		ck_assert(now >= 100 && now <= 5100);
		some_offset |= now != 100;
	}
	ck_assert(some_offset);
	sim_world_free(w);
}
END_TEST

/* ---- configurations and swarm testing ---- */

START_TEST(bad_configurations_are_refused)
{
	struct sim_config cfg;
	struct sim_world *w = NULL;
	sim_config_default(&cfg, 1, "x");
	OK(sim_config_check(&cfg));
	cfg.nodes = 0;
	sim_test_expect(sim_config_check(&cfg), ERR_INVALID);
	cfg.nodes = SIM_NODES_MAX + 1;
	sim_test_expect(sim_world_new(&cfg, &gossip_ops, NULL, &w), ERR_INVALID);
	ck_assert_ptr_null(w);
	sim_config_default(&cfg, 1, "has space");
	sim_test_expect(sim_config_check(&cfg), ERR_INVALID);
	sim_config_default(&cfg, 1, "");
	sim_test_expect(sim_config_check(&cfg), ERR_INVALID);
	sim_config_default(&cfg, 1, "x");
	cfg.faults.loss = 1.5;
	sim_test_expect(sim_config_check(&cfg), ERR_INVALID);
	sim_config_default(&cfg, 1, "x");
	cfg.faults.corrupt_mask = 0x7; /* three of five disks */
	sim_test_expect(sim_config_check(&cfg), ERR_INVALID);
	cfg.faults.corrupt_mask = 0x20; /* node 6 of 5 */
	sim_test_expect(sim_config_check(&cfg), ERR_INVALID);
	sim_config_default(&cfg, 1, "x");
	cfg.faults.down_max = 5;
	sim_test_expect(sim_config_check(&cfg), ERR_INVALID);
	sim_config_default(&cfg, 1, "x");
	cfg.net.latency_min_us = cfg.net.latency_max_us + 1;
	sim_test_expect(sim_config_check(&cfg), ERR_INVALID);
	sim_config_default(&cfg, 1, "x");
	cfg.net.inflight_max = 0;
	sim_test_expect(sim_config_check(&cfg), ERR_INVALID);
	sim_config_default(&cfg, 1, "x");
	cfg.faults.restart_min_ms = 10;
	sim_test_expect(sim_config_check(&cfg), ERR_INVALID);
	sim_config_default(&cfg, 1, "x");
	static const struct sim_node_ops no_timers = {
	    .create = gossip_create, .on_message = gossip_on_message, .destroy = gossip_destroy};
	sim_test_expect(sim_world_new(&cfg, &no_timers, NULL, &w), ERR_INVALID);
}
END_TEST

START_TEST(swarm_mixes_vary_by_seed_and_stay_survivable)
{
	int with_loss = 0, with_crashes = 0, with_flips = 0, distinct = 0;
	struct sim_faults previous;
	sim_faults_none(&previous);
	for (uint64_t seed = 1; seed <= 200; seed++) {
		struct sim_config cfg;
		sim_config_default(&cfg, seed, "swarm");
		sim_faults_swarm(seed, cfg.nodes, &cfg.faults);
		OK(sim_config_check(&cfg));
		ck_assert(cfg.faults.enabled);
		ck_assert_uint_le(__builtin_popcount(cfg.faults.corrupt_mask), 2);
		ck_assert_uint_le(cfg.faults.down_max, 2);
		with_loss += cfg.faults.loss > 0;
		with_crashes += cfg.faults.crash_every_ms > 0;
		with_flips += cfg.faults.read_flip > 0;
		distinct += memcmp(&previous, &cfg.faults, sizeof previous) != 0;
		previous = cfg.faults;
		struct sim_faults again;
		sim_faults_swarm(seed, cfg.nodes, &again);
		ck_assert(memcmp(&again, &cfg.faults, sizeof again) ==
		          0); /* a function of the seed */
	}
	/* Each kind is on for some seeds and off for others. */
	ck_assert(with_loss > 50 && with_loss < 150);
	ck_assert(with_crashes > 80 && with_crashes < 170);
	ck_assert(with_flips > 20 && with_flips < 110);
	ck_assert_int_eq(distinct, 200);
	/* One node has no minority to lose. */
	struct sim_faults single;
	sim_faults_swarm(3, 1, &single);
	ck_assert_uint_eq(single.down_max, 0);
	ck_assert_uint_eq(single.corrupt_mask, 0);
	ck_assert_uint_eq(single.crash_every_ms, 0);
}
END_TEST

START_TEST(the_liveness_phase_heals_everything)
{
	for (uint64_t seed = 1; seed <= 6; seed++) {
		struct gossip_app app;
		gossip_app_init(&app, 5, true);
		struct sim_config cfg;
		sim_config_default(&cfg, seed, "gossip");
		sim_faults_swarm(seed, cfg.nodes, &cfg.faults);
		cfg.faults.crash_every_ms = 500; /* make sure something is broken */
		cfg.faults.restart_min_ms = 1000;
		cfg.faults.restart_max_ms = 5000;
		cfg.faults.down_max = 2;
		struct sim_world *w = sim_test_world(&cfg, &gossip_ops, &app);
		sim_test_run(w, 10000);
		ck_assert_uint_gt(sim_world_stats(w)->crashes, 0);
		sim_liveness(w);
		for (uint32_t id = 1; id <= 5; id++)
			ck_assert_ptr_nonnull(sim_node(w, id));
		uint64_t crashes = sim_world_stats(w)->crashes;
		sim_test_run(w, 15000);
		ck_assert_uint_eq(sim_world_stats(w)->crashes, crashes); /* faults stopped */
		uint64_t lo = UINT64_MAX, hi = 0;
		for (uint32_t id = 1; id <= 5; id++) {
			uint64_t applied, hash;
			ck_assert(sim_node_state(w, id, &applied, &hash));
			lo = applied < lo ? applied : lo;
			hi = applied > hi ? applied : hi;
		}
		ck_assert_uint_le(hi - lo, 5); /* the counters converged */
		sim_world_free(w);
	}
}
END_TEST

static Suite *world_suite(void)
{
	Suite *s = suite_create("sim_world");
	TCase *tc = tcase_create("world");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, the_queue_orders_by_time_then_sequence);
	tcase_add_test(tc, calls_run_in_time_then_schedule_order);
	tcase_add_test(tc, calls_are_bounded);
	tcase_add_test(tc, timers_rearm_replace_and_cancel);
	tcase_add_test(tc, too_many_timers_fail_the_run);
	tcase_add_test(tc, a_livelock_is_caught);
	tcase_add_test(tc, crash_and_restart_recreate_the_node_over_its_disk);
	tcase_add_test(tc, a_crash_keeps_synced_writes_and_loses_the_rest);
	tcase_add_test(tc, a_failstop_restarts_the_node);
	tcase_add_test(tc, an_internal_error_fails_the_run);
	tcase_add_test(tc, a_failed_start_is_retried);
	tcase_add_test(tc, a_node_that_never_starts_fails_the_run);
	tcase_add_test(tc, node_logs_reach_the_sink_at_its_level);
	tcase_add_test(tc, scheduled_pauses_end);
	tcase_add_test(tc, a_paused_node_handles_its_events_late_and_in_order);
	tcase_add_test(tc, a_drifting_clock_runs_fast_and_stays_monotonic);
	tcase_add_test(tc, clocks_start_at_drawn_offsets);
	tcase_add_test(tc, bad_configurations_are_refused);
	tcase_add_test(tc, swarm_mixes_vary_by_seed_and_stay_survivable);
	tcase_add_test(tc, the_liveness_phase_heals_everything);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(world_suite());
}
