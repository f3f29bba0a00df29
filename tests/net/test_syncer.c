/*
 * Tests of the sync thread (net/syncer.h): a sync started on it ends with a `done` call
 * on the loop's thread and finish() returns its result; a sync finished early is never
 * reported afterwards; a failed sync's error comes back from finish(); closing with a
 * sync unfinished waits for it; syncs back to back are all done and only the running one
 * is reported. Files live in memory behind a fault-injecting vfs, which
 * also tells whether the sync really happened (a crash keeps only synced bytes). Last,
 * the same contract for syncs that go to the kernel (Linux AIO) on a real direct file.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "net/syncer.h"
#include "storage/vfs_fault.h"
#include "storage/vfs_memory.h"
#include "storage/vfs_posix.h"

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

/* The first `len` bytes of `path` as the file system has them: all `c`? */
static bool on_disk_all(const char *path, int c, size_t len)
{
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	bool all = true;
	char byte;
	for (size_t i = 0; i < len && all; i++)
		all = pread(fd, &byte, 1, (off_t)i) == 1 && byte == c;
	close(fd);
	return all;
}

/*
 * A direct file's syncs take the kernel's way: `done` once per sync on the loop, finish()
 * early drops the report, the bytes are in the file, and close() waits for one in flight.
 * The first sync after opening (the file may hold unsynced writes of another process)
 * and an unaligned write's sync take the worker's way in between.
 */
START_TEST(test_direct_file_syncs_through_the_kernel)
{
	struct fixture fx;
	memset(&fx, 0, sizeof fx);
	ck_assert_ptr_null(net_loop_init(&fx.loop));
	ck_assert_ptr_null(net_syncer_init(&fx.syncer, &fx.loop, on_done, &fx));
	if (!fx.syncer.aio) {
		fprintf(stderr, "skipped: no Linux AIO here\n");
		net_syncer_close(&fx.syncer);
		net_loop_close(&fx.loop);
		return;
	}
	char dir[] = "/tmp/cairn-test-syncer-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	struct vfs *v;
	ck_assert_ptr_null(vfs_posix_new(dir, &v));
	struct vfs_file *f;
	ck_assert_ptr_null(vfs_open(v, "log", VFS_CREATE | VFS_DIRECT, &f));
	static char block[VFS_DIRECT_BLOCK];
	char path[256];
	snprintf(path, sizeof path, "%s/log", dir);
	for (int round = 0; round < 40; round++) {
		uint64_t size = (uint64_t)(round + 1) * VFS_DIRECT_BLOCK;
		memset(block, 'a' + round % 26, sizeof block);
		for (uint64_t at = 0; at < size; at += VFS_DIRECT_BLOCK) /* rewrites the file */
			ck_assert_ptr_null(vfs_write(f, at, block, sizeof block));
		net_syncer_start(&fx.syncer, f);
		ck_assert(fx.syncer.aio_running == (round > 0)); /* the first: fdatasync too */
		if (round % 3 == 2) {
			ck_assert_ptr_null(net_syncer_finish(&fx.syncer)); /* early: not reported */
		} else {
			fx.done_calls = 0;
			await_done(&fx, 1);
			ck_assert_ptr_null(net_syncer_finish(&fx.syncer));
		}
		ck_assert(on_disk_all(path, 'a' + round % 26, size));
	}
	for (int i = 0; i < 10; i++)
		ck_assert_ptr_null(net_loop_step(&fx.loop, 1));
	ck_assert_int_eq(fx.done_calls, 1); /* only the last awaited one, none of the early */
	ck_assert_ptr_null(vfs_write(f, 0, "x", 1)); /* unaligned: through the page cache */
	net_syncer_start(&fx.syncer, f);
	ck_assert(!fx.syncer.aio_running);
	ck_assert_ptr_null(net_syncer_finish(&fx.syncer));
	memset(block, 'z', sizeof block);
	ck_assert_ptr_null(vfs_write(f, 0, block, sizeof block));
	net_syncer_start(&fx.syncer, f);
	ck_assert(fx.syncer.aio_running);
	net_syncer_close(&fx.syncer); /* waits for it */
	ck_assert(on_disk_all(path, 'z', VFS_DIRECT_BLOCK));
	vfs_close(f);
	vfs_posix_free(v);
	net_loop_close(&fx.loop);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
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
	tcase_add_test(tc, test_direct_file_syncs_through_the_kernel);
	suite_add_tcase(s, tc);
	return check_run(s);
}
