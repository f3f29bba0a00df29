/*
 * Tests for the vfs implementations: one conformance suite run against the posix and the
 * memory vfs, then the memory vfs's crash semantics (lost unsynced writes, torn writes,
 * durable creation and rename) and its space cap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/prng.h"
#include "check_main.h"
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

START_TEST(posix_conformance)
{
	struct vfs *v = make_posix();
	conformance(v);
	vfs_posix_free(v);
	rm_tree(tmpdir);
}
END_TEST

START_TEST(memory_conformance)
{
	struct vfs *v;
	OK(vfs_memory_new(1 << 20, &v));
	conformance(v);
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

static Suite *vfs_suite(void)
{
	Suite *s = suite_create("vfs");
	TCase *tc = tcase_create("vfs");
	tcase_add_test(tc, posix_conformance);
	tcase_add_test(tc, memory_conformance);
	tcase_add_test(tc, memory_paths_are_canonical);
	tcase_add_test(tc, memory_crash_loses_unsynced_writes);
	tcase_add_test(tc, memory_crash_tears_the_last_write);
	tcase_add_test(tc, memory_sync_copies_many_scattered_writes);
	tcase_add_test(tc, memory_cap_is_enforced);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(vfs_suite());
}
