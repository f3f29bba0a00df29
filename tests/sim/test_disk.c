/*
 * Tests for the simulated disks: torn writes at a crash, latency charged to the node, a
 * full disk, and (through storage/vfs_fault) bit flips caught by checksums and I/O errors
 * that make a node fail-stop and come back.
 */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "check_main.h"
#include "gossip_node.h"
#include "sim_test.h"

/* ---- a node that writes a synced head and an unsynced tail ---- */

struct writer_app {
	struct sim_world *world;
	uint64_t size_at_start[4]; /* per incarnation of node 1 */
	uint64_t timer_fired_ms;
	enum err_code write_error;
	size_t tail_bytes;
	bool sync_tail; /* sync the tail too (the error shows at the sync) */
};

struct writer_node {
	const struct env *env;
	struct writer_app *app;
	struct vfs_file *file;
};

static err *writer_start(struct writer_node *n)
{
	struct writer_app *app = n->app;
	TRY(vfs_open(n->env->vfs, "f", VFS_CREATE, &n->file));
	uint64_t size = 0;
	TRY(vfs_size(n->file, &size));
	uint32_t incarnation = sim_node_incarnation(app->world, n->env->node_id);
	ck_assert_uint_lt(incarnation, 4);
	app->size_at_start[incarnation] = size;
	if (size)
		return NULL;
	TRY(vfs_write(n->file, 0, "headhead", 8));
	TRY(vfs_sync(n->file));
	uint8_t *tail = calloc(1, app->tail_bytes);
	ck_assert_ptr_nonnull(tail);
	memset(tail, 't', app->tail_bytes);
	err *e = vfs_write(n->file, 8, tail, app->tail_bytes);
	free(tail);
	if (!e && app->sync_tail)
		e = vfs_sync(n->file);
	if (e) {
		app->write_error = err_code(e);
		err_free(e);
	}
	env_timer_set(n->env, 1, 1);
	return NULL;
}

static void writer_destroy(void *node)
{
	struct writer_node *n = node;
	vfs_close(n->file);
	free(n);
}

static err *writer_create(const struct env *env, void *app, void **out)
{
	struct writer_node *n = calloc(1, sizeof *n);
	ck_assert_ptr_nonnull(n);
	n->env = env;
	n->app = app;
	err *e = writer_start(n);
	if (e) {
		writer_destroy(n);
		return e;
	}
	*out = n;
	return NULL;
}

static err *writer_on_timer(void *node, uint32_t timer_id)
{
	struct writer_node *n = node;
	ck_assert_uint_eq(timer_id, 1);
	n->app->timer_fired_ms = sim_now_ms(n->app->world);
	return NULL;
}

static err *writer_on_message(void *node, uint32_t from, const uint8_t *bytes, size_t len)
{
	(void)node;
	(void)from;
	(void)bytes;
	(void)len;
	return err_new(ERR_INTERNAL, "no one sends to a writer");
}

static const struct sim_node_ops writer_ops = {
    .create = writer_create,
    .on_message = writer_on_message,
    .on_timer = writer_on_timer,
    .destroy = writer_destroy,
};

static struct sim_world *writer_world(struct writer_app *app, struct sim_config *cfg)
{
	cfg->nodes = 1;
	if (!app->tail_bytes)
		app->tail_bytes = 100;
	app->world = sim_test_world(cfg, &writer_ops, app);
	return app->world;
}

/* ---- tests ---- */

START_TEST(a_crash_may_tear_the_last_unsynced_write)
{
	int torn = 0, lost = 0, whole = 0;
	for (uint64_t seed = 1; seed <= 40; seed++) {
		struct writer_app app = {0};
		struct sim_config cfg;
		sim_config_default(&cfg, seed, "writer");
		cfg.faults.enabled = true;
		cfg.faults.torn_write = 1.0;
		struct sim_world *w = writer_world(&app, &cfg);
		sim_test_run(w, 10);
		sim_crash(w, 1);
		sim_restart(w, 1);
		uint64_t size = app.size_at_start[2];
		ck_assert(size >= 8 && size <= 108); /* the synced head always survives */
		torn += size > 8 && size < 108;
		lost += size == 8;
		whole += size == 108;
		sim_world_free(w);
	}
	ck_assert_int_gt(torn, 20);
	ck_assert_int_eq(torn + lost + whole, 40);
}
END_TEST

START_TEST(without_tearing_a_crash_loses_the_whole_unsynced_write)
{
	for (uint64_t seed = 1; seed <= 10; seed++) {
		struct writer_app app = {0};
		struct sim_config cfg;
		sim_config_default(&cfg, seed, "writer");
		struct sim_world *w = writer_world(&app, &cfg);
		sim_test_run(w, 10);
		sim_crash(w, 1);
		sim_restart(w, 1);
		ck_assert_uint_eq(app.size_at_start[1], 0);
		ck_assert_uint_eq(app.size_at_start[2], 8);
		sim_world_free(w);
	}
}
END_TEST

START_TEST(disk_latency_makes_the_node_busy)
{
	struct writer_app app = {0};
	struct sim_config cfg;
	sim_config_default(&cfg, 1, "writer");
	cfg.disk.sync_us = 7000;
	cfg.disk.write_us = 1000;
	struct sim_world *w = writer_world(&app, &cfg);
	sim_test_run(w, 100);
	/* Two writes and a sync at start: the 1ms timer waits until 9ms. */
	ck_assert_uint_eq(app.timer_fired_ms, 9);
	const struct sim_stats *s = sim_world_stats(w);
	ck_assert_uint_eq(s->disk_writes, 2);
	ck_assert_uint_eq(s->disk_syncs, 1);
	sim_world_free(w);
}
END_TEST

START_TEST(a_full_disk_fails_writes)
{
	struct writer_app app = {.tail_bytes = 4096, .sync_tail = true};
	struct sim_config cfg;
	sim_config_default(&cfg, 1, "writer");
	cfg.disk.capacity_bytes = 1024;
	struct sim_world *w = writer_world(&app, &cfg);
	sim_test_run(w, 10);
	ck_assert_int_eq(app.write_error, ERR_IO);
	ck_assert_uint_ge(sim_world_stats(w)->disk_errors, 1);
	sim_world_free(w);
}
END_TEST

static struct sim_world *gossip_crashing_world(struct gossip_app *app, uint64_t seed)
{
	gossip_app_init(app, 5, true);
	struct sim_config cfg;
	sim_config_default(&cfg, seed, "gossip");
	cfg.faults.enabled = true;
	cfg.faults.crash_every_ms = 100;
	cfg.faults.restart_min_ms = 10;
	cfg.faults.restart_max_ms = 50;
	cfg.faults.down_max = 2;
	cfg.faults.torn_write = 0.5;
	return sim_test_world(&cfg, &gossip_ops, app);
}

START_TEST(bit_flips_hit_only_corrupt_disks_and_are_caught)
{
	struct gossip_app app;
	struct sim_world *w = gossip_crashing_world(&app, 21);
	struct sim_faults faults = sim_world_config(w)->faults;
	faults.read_flip = 0.05;
	faults.corrupt_mask = 0x3; /* nodes 1 and 2: a minority of five */
	OK(sim_faults_set(w, &faults));
	sim_test_run(w, 30000); /* a synced counter recovered short would fail the run */
	ck_assert_uint_gt(sim_world_stats(w)->crashes, 100);
	ck_assert_uint_gt(app.reread[1] + app.reread[2], 0); /* flips caught by checksums */
	for (uint32_t id = 3; id <= 5; id++)
		ck_assert_uint_eq(app.reread[id], 0);
	sim_liveness(w);
	uint64_t before = app.reread[1] + app.reread[2];
	for (uint32_t id = 1; id <= 5; id++) {
		sim_crash(w, id);
		sim_restart(w, id);
	}
	ck_assert_uint_eq(app.reread[1] + app.reread[2], before); /* no flips when calm */
	sim_world_free(w);
}
END_TEST

START_TEST(io_errors_make_nodes_failstop_and_recover)
{
	struct gossip_app app;
	struct sim_world *w = gossip_crashing_world(&app, 22);
	struct sim_faults faults = sim_world_config(w)->faults;
	faults.crash_every_ms = 0;
	faults.io_error = 0.002; /* a start reads a few hundred records: keep most starts whole */
	OK(sim_faults_set(w, &faults));
	sim_test_run(w, 30000);
	const struct sim_stats *s = sim_world_stats(w);
	ck_assert_uint_gt(s->disk_errors, 10);
	ck_assert_uint_gt(s->failstops, 10);
	ck_assert_uint_eq(s->failstops, s->crashes); /* every crash was a fail-stop */
	ck_assert_uint_gt(s->restarts, 10);
	sim_liveness(w);
	uint64_t errors = s->disk_errors;
	sim_test_run(w, 35000);
	ck_assert_uint_eq(s->disk_errors, errors); /* the liveness phase ends disk faults */
	for (uint32_t id = 1; id <= 5; id++)
		ck_assert_ptr_nonnull(sim_node(w, id));
	sim_world_free(w);
}
END_TEST

static Suite *disk_suite(void)
{
	Suite *s = suite_create("sim_disk");
	TCase *tc = tcase_create("disk");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, a_crash_may_tear_the_last_unsynced_write);
	tcase_add_test(tc, without_tearing_a_crash_loses_the_whole_unsynced_write);
	tcase_add_test(tc, disk_latency_makes_the_node_busy);
	tcase_add_test(tc, a_full_disk_fails_writes);
	tcase_add_test(tc, bit_flips_hit_only_corrupt_disks_and_are_caught);
	tcase_add_test(tc, io_errors_make_nodes_failstop_and_recover);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(disk_suite());
}
