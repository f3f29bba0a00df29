/*
 * Tests for the simulated network: latency and reordering, loss, duplication, symmetric
 * and one-way partitions, clogs, the in-flight bound and oversized messages. Rates are
 * checked statistically with fixed seeds (bounds of about five standard deviations).
 */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "check_main.h"
#include "sim_test.h"

/* ---- a node that floods its peers with numbered messages ---- */

#define FLOOD_RECEIPTS_MAX 100000

struct receipt {
	uint32_t from, to, seq;
	uint64_t sent_ms, recv_ms;
};

struct flood_app {
	struct sim_world *world;
	uint32_t nodes;
	uint32_t senders;     /* a mask of the nodes that send (bit id - 1) */
	uint32_t interval_ms; /* each sender sends to every peer this often */
	uint64_t stop_ms;     /* and stops at this time */
	uint32_t size;        /* bytes per message (at least 12) */
	uint32_t burst;       /* a sender also sends this many messages at once when created */
	struct receipt *receipts;
	uint32_t count;
	uint64_t sent;
};

struct flood_node {
	const struct env *env;
	struct flood_app *app;
	uint32_t seq;
};

static void flood_send(struct flood_node *n, uint32_t to)
{
	uint8_t msg[64] = {0};
	ck_assert_uint_le(n->app->size, sizeof msg);
	store_u32be(msg, ++n->seq);
	store_u64be(msg + 4, env_now_ms(n->env));
	env_send(n->env, to, msg, n->app->size);
	n->app->sent++;
}

static void flood_all(struct flood_node *n)
{
	for (uint32_t to = 1; to <= n->app->nodes; to++)
		if (to != n->env->node_id)
			flood_send(n, to);
}

static err *flood_create(const struct env *env, void *app_ptr, void **out)
{
	struct flood_app *app = app_ptr;
	struct flood_node *n = calloc(1, sizeof *n);
	ck_assert_ptr_nonnull(n);
	n->env = env;
	n->app = app;
	*out = n;
	if (!(app->senders >> (env->node_id - 1) & 1))
		return NULL;
	for (uint32_t i = 0; i < app->burst; i++)
		flood_all(n);
	if (app->interval_ms)
		env_timer_set(env, 1, app->interval_ms);
	return NULL;
}

static err *flood_on_timer(void *node, uint32_t timer_id)
{
	struct flood_node *n = node;
	ck_assert_uint_eq(timer_id, 1);
	flood_all(n);
	if (env_now_ms(n->env) + n->app->interval_ms < n->app->stop_ms)
		env_timer_set(n->env, 1, n->app->interval_ms);
	return NULL;
}

static err *flood_on_message(void *node, uint32_t from, const uint8_t *bytes, size_t len)
{
	struct flood_node *n = node;
	struct flood_app *app = n->app;
	ck_assert_uint_eq(len, app->size);
	ck_assert_uint_lt(app->count, FLOOD_RECEIPTS_MAX);
	app->receipts[app->count++] = (struct receipt){from, n->env->node_id, load_u32be(bytes),
	                                               load_u64be(bytes + 4), env_now_ms(n->env)};
	return NULL;
}

static void flood_destroy(void *node)
{
	free(node);
}

static const struct sim_node_ops flood_ops = {
    .create = flood_create,
    .on_message = flood_on_message,
    .on_timer = flood_on_timer,
    .destroy = flood_destroy,
};

/* A world where node 1 sends to node 2 every millisecond for ten seconds. */
static struct sim_world *flood_world(struct flood_app *app, struct sim_config *cfg)
{
	static struct receipt receipts[FLOOD_RECEIPTS_MAX];
	if (app->nodes == 0) {
		app->nodes = 2;
		app->senders = 1;
		app->interval_ms = 1;
		app->stop_ms = 10000;
	}
	if (app->size == 0)
		app->size = 12;
	app->receipts = receipts;
	cfg->nodes = app->nodes;
	app->world = sim_test_world(cfg, &flood_ops, app);
	return app->world;
}

static uint32_t flood_inversions(const struct flood_app *app)
{
	uint32_t inversions = 0, last[SIM_NODES_MAX + 1][SIM_NODES_MAX + 1] = {{0}};
	for (uint32_t i = 0; i < app->count; i++) {
		const struct receipt *r = &app->receipts[i];
		inversions += r->seq < last[r->from][r->to];
		if (r->seq > last[r->from][r->to])
			last[r->from][r->to] = r->seq;
	}
	return inversions;
}

/* ---- tests ---- */

START_TEST(latency_follows_its_distribution_and_reorders)
{
	struct flood_app app = {0};
	struct sim_config cfg;
	sim_config_default(&cfg, 11, "flood");
	struct sim_world *w = flood_world(&app, &cfg);
	sim_test_run(w, 11000);
	ck_assert_uint_eq(app.count, app.sent); /* no faults: everything arrives */
	ck_assert_uint_gt(app.sent, 9900);
	double total = 0;
	for (uint32_t i = 0; i < app.count; i++) {
		uint64_t latency = app.receipts[i].recv_ms - app.receipts[i].sent_ms;
		ck_assert_uint_le(latency, 10); /* latency_max_us is 10ms */
		total += (double)latency;
	}
	/* 1ms + an exponential of mean 2ms, capped at 10ms, seen at millisecond resolution. */
	double mean = total / app.count;
	ck_assert_msg(mean > 2.3 && mean < 3.3, "mean latency %.2fms", mean);
	ck_assert_uint_gt(flood_inversions(&app), 100);
	ck_assert_uint_eq(sim_world_stats(w)->delivered, app.count);
	sim_world_free(w);
}
END_TEST

START_TEST(a_fixed_latency_keeps_order)
{
	struct flood_app app = {0};
	struct sim_config cfg;
	sim_config_default(&cfg, 11, "flood");
	cfg.net.latency_min_us = cfg.net.latency_max_us = 2500;
	cfg.net.latency_mean_us = 0;
	struct sim_world *w = flood_world(&app, &cfg);
	sim_test_run(w, 11000);
	ck_assert_uint_eq(app.count, app.sent);
	ck_assert_uint_eq(flood_inversions(&app), 0);
	sim_world_free(w);
}
END_TEST

START_TEST(messages_are_lost_at_the_configured_rate)
{
	struct flood_app app = {0};
	struct sim_config cfg;
	sim_config_default(&cfg, 12, "flood");
	cfg.faults.enabled = true;
	cfg.faults.loss = 0.1;
	struct sim_world *w = flood_world(&app, &cfg);
	sim_test_run(w, 11000);
	const struct sim_stats *s = sim_world_stats(w);
	/* 10000 sends, 10% lost: 1000 expected, a standard deviation of 30. */
	ck_assert_msg(s->lost > 850 && s->lost < 1150, "lost %llu", (unsigned long long)s->lost);
	ck_assert_uint_eq(app.count + s->lost, app.sent);
	sim_world_free(w);
}
END_TEST

START_TEST(messages_are_duplicated_at_the_configured_rate)
{
	struct flood_app app = {0};
	struct sim_config cfg;
	sim_config_default(&cfg, 13, "flood");
	cfg.faults.enabled = true;
	cfg.faults.duplicate = 0.05;
	struct sim_world *w = flood_world(&app, &cfg);
	sim_test_run(w, 11000);
	const struct sim_stats *s = sim_world_stats(w);
	ck_assert_msg(s->duplicated > 390 && s->duplicated < 610, "duplicated %llu",
	              (unsigned long long)s->duplicated);
	ck_assert_uint_eq(app.count, app.sent + s->duplicated);
	sim_world_free(w);
}
END_TEST

/* Every node sends to every other every 10ms; checks who heard whom, and when. */
struct window {
	uint64_t from_ms, to_ms;
	uint32_t heard[SIM_NODES_MAX + 1][SIM_NODES_MAX + 1];
};

static void count_window(const struct flood_app *app, struct window *win)
{
	memset(win->heard, 0, sizeof win->heard);
	for (uint32_t i = 0; i < app->count; i++) {
		const struct receipt *r = &app->receipts[i];
		if (r->recv_ms >= win->from_ms && r->recv_ms < win->to_ms)
			win->heard[r->from][r->to]++;
	}
}

static struct sim_world *mesh_world(struct flood_app *app, uint64_t seed)
{
	*app = (struct flood_app){.nodes = 3, .senders = 0x7, .interval_ms = 10, .stop_ms = 3000};
	struct sim_config cfg;
	sim_config_default(&cfg, seed, "flood");
	return flood_world(app, &cfg);
}

static void partition_one(struct sim_world *w, void *ctx)
{
	(void)ctx;
	sim_net_partition(w, 0x1); /* {n1} | {n2, n3} */
}

static void heal(struct sim_world *w, void *ctx)
{
	(void)ctx;
	sim_net_heal(w);
}

START_TEST(a_partition_cuts_both_ways_until_healed)
{
	struct flood_app app;
	struct sim_world *w = mesh_world(&app, 14);
	OK(sim_schedule(w, 1000, partition_one, NULL));
	OK(sim_schedule(w, 2000, heal, NULL));
	sim_test_run(w, 3500);
	struct window during = {.from_ms = 1000, .to_ms = 2000};
	count_window(&app, &during);
	ck_assert_uint_eq(during.heard[1][2] + during.heard[1][3], 0);
	ck_assert_uint_eq(during.heard[2][1] + during.heard[3][1], 0);
	ck_assert_uint_ge(during.heard[2][3], 95); /* the majority side talks on */
	ck_assert_uint_ge(during.heard[3][2], 95);
	struct window after = {.from_ms = 2020, .to_ms = 3000};
	count_window(&app, &after);
	ck_assert_uint_ge(after.heard[1][2], 95);
	ck_assert_uint_ge(after.heard[3][1], 95);
	ck_assert_uint_gt(sim_world_stats(w)->partitioned, 300);
	sim_world_free(w);
}
END_TEST

static void block_one_to_two(struct sim_world *w, void *ctx)
{
	(void)ctx;
	sim_net_block(w, 1, 2, true);
}

START_TEST(a_one_way_partition_cuts_one_direction)
{
	struct flood_app app;
	struct sim_world *w = mesh_world(&app, 15);
	OK(sim_schedule(w, 0, block_one_to_two, NULL));
	sim_test_run(w, 3500);
	struct window all = {.from_ms = 0, .to_ms = 4000};
	count_window(&app, &all);
	ck_assert_uint_eq(all.heard[1][2], 0);
	ck_assert_uint_ge(all.heard[2][1], 290);
	ck_assert_uint_ge(all.heard[1][3], 290);
	sim_net_block(w, 1, 2, false);
	sim_world_free(w);
}
END_TEST

static void clog_two(struct sim_world *w, void *ctx)
{
	(void)ctx;
	sim_net_clog(w, 2, 500);
}

START_TEST(a_clog_delays_without_losing)
{
	struct flood_app app;
	struct sim_world *w = mesh_world(&app, 16);
	OK(sim_schedule(w, 1000, clog_two, NULL));
	sim_test_run(w, 3500);
	ck_assert_uint_eq(app.count, app.sent); /* nothing lost */
	struct window during = {.from_ms = 1000, .to_ms = 1500};
	count_window(&app, &during);
	for (uint32_t peer = 1; peer <= 3; peer++) {
		ck_assert_uint_eq(during.heard[peer][2], 0);
		ck_assert_uint_eq(during.heard[2][peer], 0);
	}
	ck_assert_uint_ge(during.heard[1][3], 45);
	struct window release = {.from_ms = 1500, .to_ms = 1501};
	count_window(&app, &release);
	ck_assert_uint_ge(release.heard[1][2], 45); /* held until the clog ended */
	ck_assert_uint_ge(release.heard[2][3], 45);
	ck_assert_uint_gt(sim_world_stats(w)->clog_delays, 150);
	sim_world_free(w);
}
END_TEST

START_TEST(links_carry_a_bounded_number_of_messages)
{
	struct flood_app app = {.nodes = 2, .senders = 1, .burst = 10};
	struct sim_config cfg;
	sim_config_default(&cfg, 17, "flood");
	cfg.net.inflight_max = 4;
	struct sim_world *w = flood_world(&app, &cfg);
	sim_test_run(w, 100);
	ck_assert_uint_eq(app.count, 4);
	ck_assert_uint_eq(sim_world_stats(w)->over_inflight, 6);
	struct sim_net_config wider = cfg.net;
	wider.inflight_max = 5; /* more than the world reserved room for */
	sim_test_expect(sim_net_set(w, &wider), ERR_INVALID);
	sim_world_free(w);
}
END_TEST

static err *stray_create(const struct env *env, void *app, void **out)
{
	(void)app;
	uint8_t big[32] = {0};
	env_send(env, 2, big, sizeof big); /* larger than message_max_bytes */
	env_send(env, 0, big, 1);          /* no such node */
	env_send(env, 9, big, 1);
	env_send(env, 2, big, 0); /* an empty message is a message */
	*out = calloc(1, 1);
	return NULL;
}

static err *stray_on_message(void *node, uint32_t from, const uint8_t *bytes, size_t len)
{
	(void)node;
	(void)bytes;
	ck_assert(from == 1 || from == 2);
	ck_assert_uint_eq(len, 0);
	return NULL;
}

static err *stray_on_timer(void *node, uint32_t timer_id)
{
	(void)node;
	return err_new(ERR_INTERNAL, "no timer %u was armed", timer_id);
}

START_TEST(oversized_and_misaddressed_messages_are_dropped)
{
	static const struct sim_node_ops ops = {.create = stray_create,
	                                        .on_message = stray_on_message,
	                                        .on_timer = stray_on_timer,
	                                        .destroy = flood_destroy};
	struct sim_config cfg;
	sim_config_default(&cfg, 18, "stray");
	cfg.nodes = 2;
	cfg.net.message_max_bytes = 16;
	struct sim_world *w = sim_test_world(&cfg, &ops, NULL);
	sim_test_run(w, 100);
	const struct sim_stats *s = sim_world_stats(w);
	ck_assert_uint_eq(s->oversized, 2);
	ck_assert_uint_eq(s->bad_destination, 4);
	ck_assert_uint_eq(s->delivered, 2);
	sim_world_free(w);
}
END_TEST

static void lossy(struct sim_world *w, void *ctx)
{
	(void)ctx;
	struct sim_faults faults = sim_world_config(w)->faults;
	faults.enabled = true;
	faults.loss = 0.5;
	OK(sim_faults_set(w, &faults));
	faults.loss = 2;
	sim_test_expect(sim_faults_set(w, &faults), ERR_INVALID);
}

START_TEST(fault_rates_change_at_runtime)
{
	struct flood_app app = {0};
	struct sim_config cfg;
	sim_config_default(&cfg, 19, "flood");
	struct sim_world *w = flood_world(&app, &cfg);
	OK(sim_schedule(w, 5000, lossy, NULL));
	sim_test_run(w, 5000);
	ck_assert_uint_eq(sim_world_stats(w)->lost, 0);
	sim_test_run(w, 11000);
	uint64_t lost = sim_world_stats(w)->lost;
	ck_assert_msg(lost > 2300 && lost < 2700, "lost %llu", (unsigned long long)lost);
	ck_assert(sim_world_config(w)->faults.loss == 0.5);
	sim_world_free(w);
}
END_TEST

static Suite *network_suite(void)
{
	Suite *s = suite_create("sim_network");
	TCase *tc = tcase_create("network");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, latency_follows_its_distribution_and_reorders);
	tcase_add_test(tc, a_fixed_latency_keeps_order);
	tcase_add_test(tc, messages_are_lost_at_the_configured_rate);
	tcase_add_test(tc, messages_are_duplicated_at_the_configured_rate);
	tcase_add_test(tc, a_partition_cuts_both_ways_until_healed);
	tcase_add_test(tc, a_one_way_partition_cuts_one_direction);
	tcase_add_test(tc, a_clog_delays_without_losing);
	tcase_add_test(tc, links_carry_a_bounded_number_of_messages);
	tcase_add_test(tc, oversized_and_misaddressed_messages_are_dropped);
	tcase_add_test(tc, fault_rates_change_at_runtime);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(network_suite());
}
