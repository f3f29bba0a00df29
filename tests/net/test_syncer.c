/*
 * Tests of the sync thread (net/syncer.h): a sync started on it ends with a `done` call
 * on the loop's thread and finish() returns its result; a sync finished early is never
 * reported afterwards; a failed sync's error comes back from finish(); closing with a
 * sync unfinished waits for it; syncs back to back are all done and only the running one
 * is reported. Files live in memory behind a fault-injecting vfs, which
 * also tells whether the sync really happened (a crash keeps only synced bytes).
 */
#include <string.h>

#include "check_main.h"
#include "net/syncer.h"
#include "storage/vfs_fault.h"
#include "storage/vfs_memory.h"

struct fixture {
	struct net_loop loop;
	struct net_syncer syncer;
	struct vfs *memory;
	struct vfs *fault;
	struct vfs_file *file;
	int done_calls;
};

static void on_done(void *ctx)
{
	struct fixture *fx = ctx;
	fx->done_calls++;
}

static void fixture_start(struct fixture *fx)
{
	memset(fx, 0, sizeof *fx);
	ck_assert_ptr_null(net_loop_init(&fx->loop));
	ck_assert_ptr_null(net_syncer_init(&fx->syncer, &fx->loop, on_done, fx));
	ck_assert_ptr_null(vfs_memory_new(1 << 20, &fx->memory));
	ck_assert_ptr_null(
	    vfs_fault_new(fx->memory, &(struct vfs_fault_options){.seed = 1}, &fx->fault));
	ck_assert_ptr_null(vfs_open(fx->fault, "log", VFS_CREATE, &fx->file));
	ck_assert_ptr_null(vfs_write(fx->file, 0, "entries", 7));
}

static void fixture_stop(struct fixture *fx)
{
	net_syncer_close(&fx->syncer);
	vfs_close(fx->file);
	vfs_fault_free(fx->fault);
	vfs_memory_free(fx->memory);
	net_loop_close(&fx->loop);
}

/* The bytes that survive a crash of the fault layer. */
static uint64_t durable_size(struct fixture *fx)
{
	vfs_close(fx->file);
	fx->file = NULL;
	ck_assert_ptr_null(vfs_fault_crash(fx->fault, VFS_FAULT_TEAR_NONE, 0));
	struct vfs_file *f;
	ck_assert_ptr_null(vfs_open(fx->fault, "log", 0, &f));
	uint64_t size;
	ck_assert_ptr_null(vfs_size(f, &size));
	fx->file = f;
	return size;
}

/* Runs loop steps until `done` was called `calls` times (bounded). */
static void await_done(struct fixture *fx, int calls)
{
	for (int i = 0; i < 2000 && fx->done_calls < calls; i++)
		ck_assert_ptr_null(net_loop_step(&fx->loop, 5));
	ck_assert_int_eq(fx->done_calls, calls);
}

START_TEST(test_sync_ends_on_the_loop)
{
	struct fixture fx;
	fixture_start(&fx);
	for (int round = 1; round <= 3; round++) {
		net_syncer_start(&fx.syncer, fx.file);
		await_done(&fx, round);
		ck_assert_ptr_null(net_syncer_finish(&fx.syncer));
	}
	ck_assert_uint_eq(durable_size(&fx), 7);
	fixture_stop(&fx);
}
END_TEST

START_TEST(test_finish_early_is_not_reported)
{
	struct fixture fx;
	fixture_start(&fx);
	net_syncer_start(&fx.syncer, fx.file);
	ck_assert_ptr_null(net_syncer_finish(&fx.syncer)); /* waits for the worker */
	ck_assert_uint_eq(durable_size(&fx), 7);
	for (int i = 0; i < 20; i++)
		ck_assert_ptr_null(net_loop_step(&fx.loop, 1));
	ck_assert_int_eq(fx.done_calls, 0);
	ck_assert_ptr_null(net_syncer_finish(&fx.syncer)); /* none running: nothing to wait for */
	fixture_stop(&fx);
}
END_TEST

START_TEST(test_failed_sync_is_returned)
{
	struct fixture fx;
	fixture_start(&fx);
	vfs_fault_fail_nth(fx.fault, VFS_FAULT_SYNC, 1);
	net_syncer_start(&fx.syncer, fx.file);
	await_done(&fx, 1);
	err *e = net_syncer_finish(&fx.syncer);
	ck_assert_ptr_nonnull(e);
	ck_assert(err_is(e, ERR_IO));
	err_free(e);
	ck_assert_uint_eq(durable_size(&fx), 0);
	fixture_stop(&fx);
}
END_TEST

START_TEST(test_close_waits_for_a_running_sync)
{
	struct fixture fx;
	fixture_start(&fx);
	net_syncer_start(&fx.syncer, fx.file);
	net_syncer_close(&fx.syncer);
	ck_assert_int_eq(fx.done_calls, 0);
	ck_assert_uint_eq(durable_size(&fx), 7);
	fixture_stop(&fx); /* closing twice is harmless */
}
END_TEST

/*
 * Syncs back to back, each finished and the next started at once (the worker may still be
 * waking the loop for the last): every one reaches the disk, and the loop hears only of
 * the one left running.
 */
START_TEST(test_back_to_back_syncs)
{
	struct fixture fx;
	fixture_start(&fx);
	for (int i = 0; i < 200; i++) {
		ck_assert_ptr_null(vfs_write(fx.file, 7 + (uint64_t)i, "+", 1));
		net_syncer_start(&fx.syncer, fx.file);
		ck_assert_ptr_null(net_syncer_finish(&fx.syncer));
		if (i % 50 == 0)
			ck_assert_ptr_null(
			    net_loop_step(&fx.loop, 0)); /* stale wakes are dropped */
	}
	net_syncer_start(&fx.syncer, fx.file);
	await_done(&fx, 1);
	ck_assert_ptr_null(net_syncer_finish(&fx.syncer));
	for (int i = 0; i < 20; i++)
		ck_assert_ptr_null(net_loop_step(&fx.loop, 1));
	ck_assert_int_eq(fx.done_calls, 1);
	ck_assert_uint_eq(durable_size(&fx), 207);
	fixture_stop(&fx);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("syncer");
	TCase *tc = tcase_create("syncer");
	tcase_add_test(tc, test_sync_ends_on_the_loop);
	tcase_add_test(tc, test_finish_early_is_not_reported);
	tcase_add_test(tc, test_failed_sync_is_returned);
	tcase_add_test(tc, test_close_waits_for_a_running_sync);
	tcase_add_test(tc, test_back_to_back_syncs);
	suite_add_tcase(s, tc);
	return check_run(s);
}
