/*
 * Tests for the vfs implementations: one conformance suite run against the posix, the
 * memory and the fault vfs, then the memory vfs's crash semantics (lost unsynced writes,
 * torn writes, durable creation and rename) and its space cap, the fault vfs's
 * overlay, crashes, power cuts, injected errors and bit flips, and the posix vfs's syncs
 * through Linux AIO.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/prng.h"
#include "check_main.h"
#include "storage/vfs_fault.h"
#include "storage/vfs_memory.h"
#include "storage/vfs_posix.h"

#define OK(expr) ck_assert_ptr_null(expr)

static void expect_err(err *e, enum err_code code)
{
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(err_code(e), code);
	err_free(e);
}

static char tmpdir[256];

static struct vfs *make_posix(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/cairn-test-vfs-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	struct vfs *v;
	OK(vfs_posix_new(tmpdir, &v));
	return v;
}

static void rm_tree(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* What every vfs must do, whatever is underneath. */
static void conformance(struct vfs *v)
{
	struct vfs_file *f;
	expect_err(vfs_open(v, "missing", 0, &f), ERR_NOT_FOUND);
	OK(vfs_mkdir(v, "d"));
	OK(vfs_mkdir(v, "d")); /* an existing directory is fine */
	OK(vfs_open(v, "d/b", VFS_CREATE, &f));
	uint64_t size = 99;
	OK(vfs_size(f, &size));
	ck_assert_uint_eq(size, 0);
	OK(vfs_write(f, 10, "hello", 5)); /* extends with zeroes */
	OK(vfs_size(f, &size));
	ck_assert_uint_eq(size, 15);
	uint8_t got[32];
	size_t n;
	OK(vfs_read(f, 0, got, sizeof got, &n));
	ck_assert_uint_eq(n, 15);
	for (int i = 0; i < 10; i++)
		ck_assert_uint_eq(got[i], 0);
	ck_assert(memcmp(got + 10, "hello", 5) == 0);
	OK(vfs_read(f, 100, got, 4, &n));
	ck_assert_uint_eq(n, 0);
	OK(vfs_sync(f));
	OK(vfs_truncate(f, 12));
	OK(vfs_size(f, &size));
	ck_assert_uint_eq(size, 12);
	expect_err(vfs_read_exact(f, 8, got, 8), ERR_CORRUPT);
	OK(vfs_truncate(f, 14)); /* growing again shows zeroes, not the old bytes */
	OK(vfs_read_exact(f, 10, got, 4));
	ck_assert(memcmp(got, "he\0\0", 4) == 0);
	vfs_close(f);

	OK(vfs_open(v, "d/a", VFS_CREATE, &f));
	vfs_close(f);
	struct vfs_names names;
	OK(vfs_list(v, "d", &names));
	ck_assert_uint_eq(names.count, 2);
	ck_assert_str_eq(names.names[0], "a");
	ck_assert_str_eq(names.names[1], "b");
	vfs_names_free(&names);

	OK(vfs_rename(v, "d/b", "d/a")); /* replaces the target */
	OK(vfs_list(v, "d", &names));
	ck_assert_uint_eq(names.count, 1);
	ck_assert_str_eq(names.names[0], "a");
	vfs_names_free(&names);
	OK(vfs_open(v, "d/a", 0, &f));
	OK(vfs_size(f, &size));
	ck_assert_uint_eq(size, 14);
	vfs_close(f);
	OK(vfs_remove(v, "d/a"));
	expect_err(vfs_remove(v, "d/a"), ERR_NOT_FOUND);
	OK(vfs_list(v, "d", &names));
	ck_assert_uint_eq(names.count, 0);
	vfs_names_free(&names);
}

/* Fills `block` (VFS_DIRECT_BLOCK bytes) with `c`. */
static uint8_t *fill(uint8_t *block, int c)
{
	memset(block, c, VFS_DIRECT_BLOCK);
	return block;
}

/* Expects bytes [offset, offset + VFS_DIRECT_BLOCK) of `f` to be all `c`. */
static void expect_block(struct vfs_file *f, uint64_t offset, int c)
{
	static uint8_t got[VFS_DIRECT_BLOCK];
	OK(vfs_read_exact(f, offset, got, sizeof got));
	for (size_t i = 0; i < sizeof got; i++)
		ck_assert_uint_eq(got[i], (uint8_t)c);
}

/*
 * VFS_DIRECT is a hint: aligned writes, unaligned ones, overwrites, gaps, truncation and
 * reopening read back exactly as without it, before and after a sync.
 */
static void direct_conformance(struct vfs *v)
{
	const uint64_t B = VFS_DIRECT_BLOCK;
	static uint8_t block[VFS_DIRECT_BLOCK];
	struct vfs_file *f;
	uint64_t size;
	OK(vfs_open(v, "direct", VFS_CREATE | VFS_DIRECT, &f));
	OK(vfs_write(f, 0, fill(block, 'a'), B));
	OK(vfs_write(f, B, fill(block, 'b'), B));
	OK(vfs_write(f, B, fill(block, 'c'), B)); /* rewrites the block just written */
	OK(vfs_size(f, &size));
	ck_assert_uint_eq(size, 2 * B);
	expect_block(f, 0, 'a');
	expect_block(f, B, 'c');
	OK(vfs_sync(f));
	expect_block(f, B, 'c');

	OK(vfs_write(f, 4 * B, fill(block, 'd'), B)); /* past the end: zeros between */
	OK(vfs_size(f, &size));
	ck_assert_uint_eq(size, 5 * B);
	expect_block(f, 2 * B, 0);
	expect_block(f, 4 * B, 'd');
	uint8_t got[8];
	size_t n;
	OK(vfs_read(f, 5 * B - 4, got, sizeof got, &n));
	ck_assert_uint_eq(n, 4);
	OK(vfs_write(f, 10, "xyz", 3)); /* unaligned: the aligned ones go first */
	OK(vfs_read_exact(f, 8, got, 6));
	ck_assert(memcmp(got, "aaxyza", 6) == 0);
	expect_block(f, 4 * B, 'd');

	OK(vfs_write(f, 5 * B, fill(block, 'e'), B));
	OK(vfs_truncate(f, 5 * B + 100)); /* cuts into bytes not yet synced */
	OK(vfs_size(f, &size));
	ck_assert_uint_eq(size, 5 * B + 100);
	OK(vfs_read(f, 5 * B + 96, got, sizeof got, &n));
	ck_assert_uint_eq(n, 4);
	ck_assert(memcmp(got, "eeee", 4) == 0);

	/* A large write, then a small one after the sync (the buffer shrinks again). */
	uint8_t *large = malloc(32 * B);
	ck_assert_ptr_nonnull(large);
	memset(large, 'g', 32 * B);
	OK(vfs_write(f, 8 * B, large, 32 * B));
	OK(vfs_sync(f));
	OK(vfs_write(f, 6 * B, fill(block, 'f'), B));
	expect_block(f, 8 * B, 'g');
	expect_block(f, 39 * B, 'g');
	free(large);
	OK(vfs_truncate(f, 7 * B));
	vfs_close(f); /* what was not synced reaches the file as any unsynced write would */
	OK(vfs_open(v, "direct", 0, &f));
	OK(vfs_size(f, &size));
	ck_assert_uint_eq(size, 7 * B);
	OK(vfs_read_exact(f, 8, got, 6));
	ck_assert(memcmp(got, "aaxyza", 6) == 0);
	expect_block(f, B, 'c');
	expect_block(f, 6 * B, 'f');
	OK(vfs_read_exact(f, 5 * B + 100, got, 4));
	ck_assert(memcmp(got, "\0\0\0\0", 4) == 0);
	vfs_close(f);
	OK(vfs_remove(v, "direct"));
}

START_TEST(posix_conformance)
{
	struct vfs *v = make_posix();
	conformance(v);
	direct_conformance(v);
	vfs_posix_free(v);
	rm_tree(tmpdir);
}
END_TEST

/* The bytes of `path` under the test directory as the file system has them (no vfs). */
static void expect_on_disk(const char *path, uint64_t offset, int c, size_t len)
{
	char full[512];
	snprintf(full, sizeof full, "%s/%s", tmpdir, path);
	int fd = open(full, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	uint8_t got[VFS_DIRECT_BLOCK];
	for (size_t done = 0; done < len; done += sizeof got) {
		ck_assert_int_eq(pread(fd, got, sizeof got, (off_t)(offset + done)), sizeof got);
		for (size_t i = 0; i < sizeof got; i++)
			ck_assert_uint_eq(got[i], (uint8_t)c);
	}
	close(fd);
}

/*
 * A direct file's sync goes to the kernel when it is one direct write, signals the
 * eventfd when it ends, and leaves the bytes in the file; anything else is turned down
 * (so the caller syncs as usual) and nothing is started.
 */
START_TEST(posix_aio_sync_writes_held_blocks_and_signals)
{
	const uint64_t B = VFS_DIRECT_BLOCK;
	static uint8_t block[VFS_DIRECT_BLOCK];
	struct vfs *v = make_posix();
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ck_assert_int_ge(efd, 0);
	struct vfs_posix_aio *aio;
	err *no_aio = vfs_posix_aio_new(efd, &aio);
	if (no_aio) {
		fprintf(stderr, "skipped: no Linux AIO here (%s)\n", err_msg(no_aio));
		err_free(no_aio);
		close(efd);
		vfs_posix_free(v);
		rm_tree(tmpdir);
		return;
	}
	struct vfs_file *f;
	OK(vfs_open(v, "log", VFS_CREATE | VFS_DIRECT, &f));
	OK(vfs_write(f, 0, fill(block, 'a'), B));
	/* A file just opened may hold another process's unsynced writes: fdatasync first. */
	ck_assert(!vfs_posix_aio_sync_start(aio, f));
	OK(vfs_sync(f));
	ck_assert(!vfs_posix_aio_sync_start(aio, f)); /* nothing held: nothing to write */
	OK(vfs_write(f, B, fill(block, 'b'), B));
	OK(vfs_write(f, 2 * B, fill(block, 'c'), B));
	if (!vfs_posix_aio_sync_start(aio, f)) {
		fprintf(stderr, "skipped: %s refuses O_DIRECT or AIO\n", tmpdir);
	} else {
		expect_block(f, 2 * B, 'c'); /* reads during the sync see the held bytes */
		struct pollfd p = {.fd = efd, .events = POLLIN};
		ck_assert_int_eq(poll(&p, 1, 10000), 1);
		err *result = NULL;
		ck_assert(vfs_posix_aio_sync_end(aio, false, &result));
		OK(result);
		expect_on_disk("log", B, 'b', B);
		expect_on_disk("log", 2 * B, 'c', B);
		/* Started and waited for at once. */
		OK(vfs_write(f, 3 * B, fill(block, 'd'), B));
		ck_assert(vfs_posix_aio_sync_start(aio, f));
		ck_assert(vfs_posix_aio_sync_end(aio, true, &result));
		OK(result);
		expect_on_disk("log", 3 * B, 'd', B);
		/* An unaligned write goes through the page cache: fdatasync's job, not AIO's. */
		OK(vfs_write(f, 4 * B, "tail", 4));
		ck_assert(!vfs_posix_aio_sync_start(aio, f));
		OK(vfs_sync(f));
	}
	vfs_close(f);
	struct vfs *memory;
	OK(vfs_memory_new(1 << 20, &memory));
	OK(vfs_open(memory, "log", VFS_CREATE | VFS_DIRECT, &f));
	OK(vfs_write(f, 0, fill(block, 'a'), B));
	ck_assert(!vfs_posix_aio_sync_start(aio, f)); /* not a posix file */
	vfs_close(f);
	vfs_memory_free(memory);
	vfs_posix_aio_free(aio);
	close(efd);
	vfs_posix_free(v);
	rm_tree(tmpdir);
}
END_TEST

/* A root locked by one vfs cannot be locked by another until the first is released. */
START_TEST(posix_lock_keeps_a_second_opener_out)
{
	struct vfs *first = make_posix();
	OK(vfs_posix_lock(first, "data directory"));
	struct vfs *second;
	OK(vfs_posix_new(tmpdir, &second));
	err *e = vfs_posix_lock(second, "data directory");
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(err_code(e), ERR_UNAVAILABLE);
	ck_assert_ptr_nonnull(strstr(err_msg(e), "in use by another process"));
	err_free(e);
	vfs_posix_free(first); /* releases the lock */
	OK(vfs_posix_lock(second, "data directory"));
	vfs_posix_free(second);
	rm_tree(tmpdir);
}
END_TEST

START_TEST(memory_conformance)
{
	struct vfs *v;
	OK(vfs_memory_new(1 << 20, &v));
	conformance(v);
	direct_conformance(v);
	ck_assert_uint_eq(vfs_memory_open_files(v), 0);
	ck_assert_uint_eq(vfs_memory_bytes(v), 0);
	vfs_memory_free(v);
}
END_TEST

START_TEST(memory_paths_are_canonical)
{
	struct vfs *v;
	OK(vfs_memory_new(1 << 20, &v));
	struct vfs_file *f;
	expect_err(vfs_open(v, "x/y", VFS_CREATE, &f), ERR_NOT_FOUND); /* no parent */
	OK(vfs_mkdir(v, "x"));
	OK(vfs_open(v, "./x//y/", VFS_CREATE, &f));
	vfs_close(f);
	OK(vfs_open(v, "/x/y", 0, &f));
	vfs_close(f);
	expect_err(vfs_open(v, "x/../y", VFS_CREATE, &f), ERR_INVALID);
	struct vfs_names names;
	OK(vfs_list(v, ".", &names));
	ck_assert_uint_eq(names.count, 1);
	ck_assert_str_eq(names.names[0], "x");
	vfs_names_free(&names);
	vfs_memory_free(v);
}
END_TEST

static void read_all(struct vfs_file *f, uint8_t *out, size_t *len)
{
	OK(vfs_read(f, 0, out, 1 << 16, len));
}

START_TEST(memory_crash_loses_unsynced_writes)
{
	struct vfs *v;
	OK(vfs_memory_new(1 << 20, &v));
	struct vfs_file *f;
	OK(vfs_open(v, "log", VFS_CREATE, &f));
	OK(vfs_write(f, 0, "durable", 7));
	OK(vfs_sync(f));
	OK(vfs_write(f, 0, "DUR", 3));
	OK(vfs_write(f, 7, "-lost", 5));
	vfs_memory_crash(v, NULL);
	static uint8_t got[1 << 16];
	size_t n;
	read_all(f, got, &n);
	ck_assert_uint_eq(n, 7);
	ck_assert(memcmp(got, "durable", 7) == 0);
	/* a truncate is lost too */
	OK(vfs_truncate(f, 2));
	vfs_memory_crash(v, NULL);
	read_all(f, got, &n);
	ck_assert_uint_eq(n, 7);
	vfs_close(f);
	/* created files and renames are durable at once, even if never synced */
	OK(vfs_open(v, "new", VFS_CREATE, &f));
	vfs_close(f);
	OK(vfs_rename(v, "log", "log2"));
	vfs_memory_crash(v, NULL);
	struct vfs_names names;
	OK(vfs_list(v, "", &names));
	ck_assert_uint_eq(names.count, 2);
	ck_assert_str_eq(names.names[0], "log2");
	ck_assert_str_eq(names.names[1], "new");
	vfs_names_free(&names);
	vfs_memory_free(v);
}
END_TEST

START_TEST(memory_crash_tears_the_last_write)
{
	struct prng prng;
	prng_seed(&prng, 7);
	size_t seen_lengths[9] = {0};
	for (int round = 0; round < 200; round++) {
		struct vfs *v;
		OK(vfs_memory_new(1 << 20, &v));
		struct vfs_file *f;
		OK(vfs_open(v, "f", VFS_CREATE, &f));
		OK(vfs_write(f, 0, "aaaa", 4));
		OK(vfs_sync(f));
		OK(vfs_write(f, 2, "xxxx", 4)); /* lost wholly: not the last write */
		OK(vfs_write(f, 2, "bbbbbbbb", 8));
		vfs_memory_crash(v, &prng);
		uint8_t got[64];
		size_t n;
		OK(vfs_read(f, 0, got, sizeof got, &n));
		/* the durable image plus a prefix of the last write */
		ck_assert(n == 4 || (n >= 5 && n <= 10));
		size_t kept =
		    n <= 4 ? (memcmp(got, "aabb", 4) == 0 ? 2 : (got[2] == 'b' ? 1 : 0)) : n - 2;
		ck_assert(memcmp(got, "aa", 2) == 0);
		for (size_t i = 0; i < kept; i++)
			ck_assert_uint_eq(got[2 + i], 'b');
		for (size_t i = 2 + kept; i < n; i++)
			ck_assert_uint_eq(got[i], 'a');
		seen_lengths[kept]++;
		/* what survived is durable: a second crash keeps it */
		vfs_memory_crash(v, NULL);
		size_t n2;
		uint8_t got2[64];
		OK(vfs_read(f, 0, got2, sizeof got2, &n2));
		ck_assert_uint_eq(n2, n);
		ck_assert(memcmp(got, got2, n) == 0);
		vfs_close(f);
		vfs_memory_free(v);
	}
	for (int k = 0; k <= 8; k++)
		ck_assert_uint_gt(seen_lengths[k], 0); /* every cut point happens */
}
END_TEST

START_TEST(memory_sync_copies_many_scattered_writes)
{
	struct prng prng;
	prng_seed(&prng, 3);
	struct vfs *v;
	OK(vfs_memory_new(8 << 20, &v));
	struct vfs_file *f;
	OK(vfs_open(v, "pages", VFS_CREATE, &f));
	static uint8_t model_durable[1 << 18], model_current[1 << 18];
	size_t dur_len = 0, cur_len = 0;
	for (int round = 0; round < 300; round++) {
		int writes = (int)prng_below(&prng, 200);
		for (int w = 0; w < writes; w++) {
			size_t off = (size_t)prng_below(&prng, sizeof model_current - 64);
			size_t len = 1 + (size_t)prng_below(&prng, 63);
			uint8_t bytes[64];
			for (size_t i = 0; i < len; i++)
				bytes[i] = (uint8_t)prng_next(&prng);
			OK(vfs_write(f, off, bytes, len));
			if (off > cur_len)
				memset(model_current + cur_len, 0, off - cur_len);
			memcpy(model_current + off, bytes, len);
			cur_len = off + len > cur_len ? off + len : cur_len;
		}
		if (prng_chance(&prng, 0.5)) {
			OK(vfs_sync(f));
			memcpy(model_durable, model_current, cur_len);
			dur_len = cur_len;
		} else {
			vfs_memory_crash(v, NULL);
			memcpy(model_current, model_durable, dur_len);
			cur_len = dur_len;
		}
		static uint8_t got[1 << 18];
		size_t n;
		OK(vfs_read(f, 0, got, sizeof got, &n));
		ck_assert_uint_eq(n, cur_len);
		ck_assert(memcmp(got, model_current, n) == 0);
	}
	vfs_close(f);
	vfs_memory_free(v);
}
END_TEST

START_TEST(memory_cap_is_enforced)
{
	struct vfs *v;
	OK(vfs_memory_new(10000, &v));
	struct vfs_file *f;
	OK(vfs_open(v, "big", VFS_CREATE, &f));
	static uint8_t bytes[6000];
	OK(vfs_write(f, 0, bytes, 4000));
	OK(vfs_sync(f)); /* 8000 bytes: current and durable */
	expect_err(vfs_write(f, 4000, bytes, 4000), ERR_IO);
	uint64_t size;
	OK(vfs_size(f, &size));
	ck_assert_uint_eq(size, 4000);
	ck_assert_uint_eq(vfs_memory_bytes(v), 8000);
	/* removing an open file keeps its bytes until the handle closes */
	OK(vfs_remove(v, "big"));
	ck_assert_uint_eq(vfs_memory_bytes(v), 8000);
	vfs_close(f);
	ck_assert_uint_eq(vfs_memory_bytes(v), 0);
	vfs_memory_free(v);
}
END_TEST

START_TEST(fault_conformance)
{
	struct vfs *mem, *v;
	OK(vfs_memory_new(1 << 20, &mem));
	OK(vfs_fault_new(mem, NULL, &v));
	conformance(v);
	direct_conformance(v);
	ck_assert_uint_gt(vfs_fault_count(v, VFS_FAULT_WRITE), 0);
	vfs_fault_free(v);
	vfs_memory_free(mem);
}
END_TEST

/* Random writes, truncates, syncs and crashes through the fault vfs, against a model. */
START_TEST(fault_overlay_matches_a_model_across_crashes)
{
	struct prng p;
	prng_seed(&p, 77);
	struct vfs *mem, *v;
	OK(vfs_memory_new(16 << 20, &mem));
	OK(vfs_fault_new(mem, &(struct vfs_fault_options){.seed = 1}, &v));
	struct vfs_file *f;
	OK(vfs_open(v, "f", VFS_CREATE, &f));
	static uint8_t durable[1 << 16], current[1 << 16], got[1 << 16];
	size_t dur_len = 0, cur_len = 0;
	for (int step = 0; step < 3000; step++) {
		double r = prng_double(&p);
		if (r < 0.6) {
			size_t off = (size_t)prng_below(&p, 60000),
			       len = 1 + (size_t)prng_below(&p, 500);
			uint8_t bytes[500];
			for (size_t i = 0; i < len; i++)
				bytes[i] = (uint8_t)prng_next(&p);
			OK(vfs_write(f, off, bytes, len));
			if (off > cur_len)
				memset(current + cur_len, 0, off - cur_len);
			memcpy(current + off, bytes, len);
			cur_len = off + len > cur_len ? off + len : cur_len;
		} else if (r < 0.7) {
			size_t size = (size_t)prng_below(&p, 61000);
			OK(vfs_truncate(f, size));
			if (size > cur_len)
				memset(current + cur_len, 0, size - cur_len);
			cur_len = size;
		} else if (r < 0.85) {
			OK(vfs_sync(f));
			memcpy(durable, current, cur_len);
			dur_len = cur_len;
		} else if (r < 0.9) {
			OK(vfs_fault_crash(v, VFS_FAULT_TEAR_NONE, 0));
			memcpy(current, durable, dur_len);
			cur_len = dur_len;
		}
		uint64_t size;
		OK(vfs_size(f, &size));
		ck_assert_uint_eq(size, cur_len);
		size_t off = (size_t)prng_below(&p, 62000), len = (size_t)prng_below(&p, 4000), n;
		OK(vfs_read(f, off, got, len, &n));
		size_t want = off >= cur_len ? 0 : (cur_len - off < len ? cur_len - off : len);
		ck_assert_uint_eq(n, want);
		ck_assert(n == 0 || memcmp(got, current + off, n) == 0);
	}
	vfs_close(f);
	vfs_fault_free(v);
	vfs_memory_free(mem);
}
END_TEST

START_TEST(fault_crash_tears_power_cuts_errors_and_flips)
{
	struct vfs *mem, *v;
	OK(vfs_memory_new(1 << 20, &mem));
	OK(vfs_fault_new(mem, NULL, &v));
	struct vfs_file *f;
	OK(vfs_open(v, "f", VFS_CREATE, &f));
	OK(vfs_write(f, 0, "0123456789", 10));
	OK(vfs_sync(f));
	OK(vfs_write(f, 0, "abcdefghij", 10));
	OK(vfs_write(f, 2, "XYZW", 4));
	OK(vfs_fault_crash(v, VFS_FAULT_TEAR_AT, 3)); /* "XYZ" of the last write survives */
	uint8_t got[16];
	OK(vfs_read_exact(f, 0, got, 10));
	ck_assert(memcmp(got, "01XYZ56789", 10) == 0);

	/* a power cut at the 2nd write-or-sync: it and everything after fail until the crash */
	vfs_fault_cut_after(v, 2);
	OK(vfs_write(f, 0, "A", 1));
	expect_err(vfs_sync(f), ERR_IO);
	ck_assert(vfs_fault_is_cut(v));
	expect_err(vfs_read_exact(f, 0, got, 1), ERR_IO);
	OK(vfs_fault_crash(v, VFS_FAULT_TEAR_NONE, 0));
	ck_assert(!vfs_fault_is_cut(v));
	OK(vfs_read_exact(f, 0, got, 10));
	ck_assert(memcmp(got, "01XYZ56789", 10) == 0);

	/* the 3rd read from now fails, once; a failed write changes nothing */
	vfs_fault_fail_nth(v, VFS_FAULT_READ, 3);
	OK(vfs_read_exact(f, 0, got, 1));
	OK(vfs_read_exact(f, 0, got, 1));
	expect_err(vfs_read_exact(f, 0, got, 1), ERR_IO);
	OK(vfs_read_exact(f, 0, got, 1));
	vfs_fault_fail_nth(v, VFS_FAULT_WRITE, 1);
	expect_err(vfs_write(f, 0, "Q", 1), ERR_IO);
	OK(vfs_read_exact(f, 0, got, 1));
	ck_assert_uint_eq(got[0], '0');

	/* a flip rule changes what reads return, not what is stored */
	OK(vfs_fault_flip(v, "f", 4, 0x01));
	OK(vfs_read_exact(f, 3, got, 3));
	ck_assert(memcmp(got, "YZ5", 3) != 0 && got[1] == ('Z' ^ 0x01));
	vfs_fault_clear_flips(v);
	OK(vfs_read_exact(f, 3, got, 3));
	ck_assert(memcmp(got, "YZ5", 3) == 0);
	ck_assert_uint_ge(vfs_fault_count(v, VFS_FAULT_READ), 9);
	vfs_close(f);
	vfs_fault_free(v);
	vfs_memory_free(mem);
}
END_TEST

START_TEST(fault_crash_can_keep_a_random_subset_of_writes)
{
	struct vfs *mem, *v;
	OK(vfs_memory_new(1 << 20, &mem));
	OK(vfs_fault_new(mem, &(struct vfs_fault_options){.seed = 8}, &v));
	struct vfs_file *f;
	OK(vfs_open(v, "f", VFS_CREATE, &f));
	int fates[3] = {0, 0, 0}; /* lost, kept, torn */
	for (int round = 0; round < 100; round++) {
		OK(vfs_write(f, 0, "........................", 24));
		OK(vfs_sync(f));
		for (int w = 0; w < 3; w++)
			OK(vfs_write(f, (uint64_t)w * 8, "ABCDEFGH", 8));
		OK(vfs_fault_crash(v, VFS_FAULT_KEEP_RANDOM, 0));
		uint8_t got[24];
		OK(vfs_read_exact(f, 0, got, 24));
		for (int w = 0; w < 3; w++) {
			/* each write: a prefix of "ABCDEFGH" (maybe empty or whole), then the old dots */
			int kept = 0;
			while (kept < 8 && got[w * 8 + kept] == "ABCDEFGH"[kept])
				kept++;
			for (int i = kept; i < 8; i++)
				ck_assert_uint_eq(got[w * 8 + i], '.');
			fates[kept == 0 ? 0 : kept == 8 ? 1 : 2]++;
		}
	}
	ck_assert_int_gt(fates[0], 20);
	ck_assert_int_gt(fates[1], 20);
	ck_assert_int_gt(fates[2], 20);
	vfs_close(f);
	vfs_fault_free(v);
	vfs_memory_free(mem);
}
END_TEST

START_TEST(fault_probabilities_are_deterministic)
{
	uint64_t outcome[2] = {0, 0};
	for (int run = 0; run < 2; run++) {
		struct vfs *mem, *v;
		OK(vfs_memory_new(1 << 20, &mem));
		struct vfs_fault_options o = {.seed = 42, .read_flip_probability = 0.3};
		o.error_probability[VFS_FAULT_WRITE] = 0.2;
		OK(vfs_fault_new(mem, &o, &v));
		struct vfs_file *f;
		OK(vfs_open(v, "f", VFS_CREATE, &f));
		int failures = 0, flips = 0;
		for (int i = 0; i < 200; i++) {
			err *e = vfs_write(f, (uint64_t)i, "z", 1);
			failures += e != NULL;
			if (!e)
				continue;
			err_free(e);
		}
		for (int i = 0; i < 200; i++) {
			uint8_t b = 0;
			size_t n;
			OK(vfs_read(f, (uint64_t)i, &b, 1, &n));
			flips += n == 1 && b != 'z';
			outcome[run] = outcome[run] * 31 + b;
		}
		ck_assert_int_gt(failures, 10);
		ck_assert_int_gt(flips, 10);
		vfs_close(f);
		vfs_fault_free(v);
		vfs_memory_free(mem);
	}
	ck_assert_uint_eq(outcome[0], outcome[1]);
}
END_TEST

static Suite *vfs_suite(void)
{
	Suite *s = suite_create("vfs");
	TCase *tc = tcase_create("vfs");
	tcase_add_test(tc, posix_conformance);
	tcase_add_test(tc, posix_aio_sync_writes_held_blocks_and_signals);
	tcase_add_test(tc, posix_lock_keeps_a_second_opener_out);
	tcase_add_test(tc, memory_conformance);
	tcase_add_test(tc, memory_paths_are_canonical);
	tcase_add_test(tc, memory_crash_loses_unsynced_writes);
	tcase_add_test(tc, memory_crash_tears_the_last_write);
	tcase_add_test(tc, memory_sync_copies_many_scattered_writes);
	tcase_add_test(tc, memory_cap_is_enforced);
	tcase_add_test(tc, fault_conformance);
	tcase_add_test(tc, fault_overlay_matches_a_model_across_crashes);
	tcase_add_test(tc, fault_crash_tears_power_cuts_errors_and_flips);
	tcase_add_test(tc, fault_crash_can_keep_a_random_subset_of_writes);
	tcase_add_test(tc, fault_probabilities_are_deterministic);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(vfs_suite());
}
