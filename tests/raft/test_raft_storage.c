/*
 * The durable side of Raft on the crash-simulating in-memory vfs (storage/vfs_memory.h):
 * hard state written atomically, the segmented log (batching, truncation, reading back),
 * recovery from torn tails (cut and reported) and from corruption before the tail (a
 * clear ERR_CORRUPT), and a node that restarts with its term, vote and log intact.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "base/checksum.h"
#include "raft/durable_log.h"
#include "raft/hard_state.h"
#include "storage/vfs_memory.h"

#define DISK_BYTES ((size_t)64 << 20)
#define DIR "raft"

/* ---- a vfs shim that counts syncs, reads and writes, and can make syncs fail ---- */

struct shim {
	struct vfs vfs;
	struct vfs *inner;
	int syncs;
	int reads;
	int writes;
	int unaligned_writes; /* offset or length not a multiple of VFS_DIRECT_BLOCK */
	int direct_opens;     /* files opened with VFS_DIRECT */
	bool fail_sync;
	int flipped_reads; /* reads still to come that return the byte at flip_at flipped */
	uint64_t flip_at;  /* (what is stored stays intact, as with a disk's read errors) */
};

static struct shim *shim_of(struct vfs *vfs)
{
	return vfs->impl;
}

static err *shim_open(struct vfs *vfs, const char *path, unsigned flags, struct vfs_file **out)
{
	shim_of(vfs)->direct_opens += (flags & VFS_DIRECT) != 0;
	return vfs_open(shim_of(vfs)->inner, path, flags, out);
}

static err *shim_rename(struct vfs *vfs, const char *from, const char *to)
{
	return vfs_rename(shim_of(vfs)->inner, from, to);
}

static err *shim_remove(struct vfs *vfs, const char *path)
{
	return vfs_remove(shim_of(vfs)->inner, path);
}

static err *shim_mkdir(struct vfs *vfs, const char *path)
{
	return vfs_mkdir(shim_of(vfs)->inner, path);
}

static err *shim_list(struct vfs *vfs, const char *dir, struct vfs_names *out)
{
	return vfs_list(shim_of(vfs)->inner, dir, out);
}

/* Files are the inner vfs's own; sync, read and write are intercepted, through a wrapped
 * table. */
static struct shim *the_shim;
static err *(*inner_sync)(struct vfs_file *f);
static err *(*inner_read)(struct vfs_file *f, uint64_t offset, void *bytes, size_t len,
                          size_t *got);
static err *(*inner_write)(struct vfs_file *f, uint64_t offset, const void *bytes, size_t len);

static err *shim_write(struct vfs_file *f, uint64_t offset, const void *bytes, size_t len)
{
	the_shim->writes++;
	the_shim->unaligned_writes += offset % VFS_DIRECT_BLOCK != 0 || len % VFS_DIRECT_BLOCK != 0;
	return inner_write(f, offset, bytes, len);
}

static err *shim_read(struct vfs_file *f, uint64_t offset, void *bytes, size_t len, size_t *got)
{
	the_shim->reads++;
	err *e = inner_read(f, offset, bytes, len, got);
	uint64_t at = the_shim->flip_at;
	if (!e && the_shim->flipped_reads > 0 && at >= offset && at < offset + *got) {
		((uint8_t *)bytes)[at - offset] ^= 0x10;
		the_shim->flipped_reads--;
	}
	return e;
}

static err *shim_sync(struct vfs_file *f)
{
	the_shim->syncs++;
	if (the_shim->fail_sync)
		return err_new(ERR_IO, "sync refused by the test");
	return inner_sync(f);
}

static struct vfs *disk_new(struct shim *s)
{
	memset(s, 0, sizeof *s);
	ck_assert_ptr_null(vfs_memory_new(DISK_BYTES, &s->inner));
	inner_sync = s->inner->sync;
	s->inner->sync = shim_sync;
	inner_read = s->inner->read;
	s->inner->read = shim_read;
	inner_write = s->inner->write;
	s->inner->write = shim_write;
	the_shim = s;
	s->vfs = (struct vfs){.impl = s,
	                      .open = shim_open,
	                      .rename = shim_rename,
	                      .remove = shim_remove,
	                      .mkdir = shim_mkdir,
	                      .list = shim_list};
	return &s->vfs;
}

static void disk_free(struct shim *s)
{
	ck_assert_uint_eq(vfs_memory_open_files(s->inner), 0);
	vfs_memory_free(s->inner);
}

/* ---- helpers ---- */

static struct raft_entry entry(uint64_t index, uint64_t term, const char *text)
{
	return (struct raft_entry){.index = index,
	                           .term = term,
	                           .type = RAFT_ENTRY_NORMAL,
	                           .origin = 1,
	                           .id = index,
	                           .data = (const uint8_t *)text,
	                           .len = strlen(text)};
}

static struct raft_dlog *open_log(struct vfs *vfs, size_t segment, struct raft_dlog_recovery *rec)
{
	struct raft_dlog *log = NULL;
	err *e = raft_dlog_open(vfs, DIR, segment, &log, rec);
	ck_assert_msg(e == NULL, "open: %s", e ? err_msg(e) : "");
	return log;
}

static void append_range(struct raft_dlog *log, uint64_t from, uint64_t to, uint64_t term)
{
	static char texts[64][32];
	struct raft_entry batch[64];
	ck_assert_uint_le(to - from + 1, 64);
	for (uint64_t i = from; i <= to; i++) {
		snprintf(texts[i - from], sizeof texts[0], "entry %llu term %llu",
		         (unsigned long long)i, (unsigned long long)term);
		batch[i - from] = entry(i, term, texts[i - from]);
	}
	ck_assert_ptr_null(raft_dlog_append(log, batch, to - from + 1));
}

static void assert_entry(struct raft_dlog *log, uint64_t index, uint64_t term)
{
	struct raft_entry e;
	err *fail = raft_dlog_load(log, index, &e);
	ck_assert_msg(fail == NULL, "load %llu: %s", (unsigned long long)index,
	              fail ? err_msg(fail) : "");
	char want[32];
	snprintf(want, sizeof want, "entry %llu term %llu", (unsigned long long)index,
	         (unsigned long long)term);
	ck_assert_uint_eq(e.index, index);
	ck_assert_uint_eq(e.term, term);
	ck_assert_uint_eq(e.len, strlen(want));
	ck_assert_mem_eq(e.data, want, e.len);
	free((void *)e.data);
}

/* The single segment file of the test log (or the last one). */
static struct vfs_file *last_segment(struct vfs *vfs, uint64_t *size)
{
	struct vfs_names names = {0};
	ck_assert_ptr_null(vfs_list(vfs, DIR, &names));
	char path[VFS_PATH_MAX] = "";
	for (size_t i = 0; i < names.count; i++)
		if (strncmp(names.names[i], "seg-", 4) == 0)
			snprintf(path, sizeof path, DIR "/%s", names.names[i]);
	vfs_names_free(&names);
	ck_assert_str_ne(path, "");
	struct vfs_file *f;
	ck_assert_ptr_null(vfs_open(vfs, path, 0, &f));
	ck_assert_ptr_null(vfs_size(f, size));
	return f;
}

/* Where the records of segment file `f` of `size` bytes end: zeros follow them. */
static uint64_t records_end(struct vfs_file *f, uint64_t size)
{
	uint8_t *bytes = malloc(size);
	ck_assert_ptr_nonnull(bytes);
	ck_assert_ptr_null(vfs_read_exact(f, 0, bytes, size));
	uint64_t end = size;
	while (end > 0 && bytes[end - 1] == 0)
		end--;
	free(bytes);
	return end;
}

/* Where the records of the test log's last segment end. */
static uint64_t log_records_end(struct vfs *vfs)
{
	uint64_t size;
	struct vfs_file *f = last_segment(vfs, &size);
	uint64_t end = records_end(f, size);
	vfs_close(f);
	return end;
}

static void flip_byte(struct vfs_file *f, uint64_t offset)
{
	uint8_t b;
	ck_assert_ptr_null(vfs_read_exact(f, offset, &b, 1));
	b ^= 0x40;
	ck_assert_ptr_null(vfs_write(f, offset, &b, 1));
	ck_assert_ptr_null(vfs_sync(f));
}

/* ---- hard state ---- */

START_TEST(test_hard_state_atomic)
{
	struct shim s;
	struct vfs *vfs = disk_new(&s);
	ck_assert_ptr_null(vfs_mkdir(vfs, DIR));
	struct raft_hard_state hs;
	ck_assert_ptr_null(raft_hard_state_load(vfs, DIR, 1, &hs));
	ck_assert_uint_eq(hs.term, 0); /* a new node */
	struct raft_hard_state a = {5, 3, 17};
	ck_assert_ptr_null(raft_hard_state_save(vfs, DIR, 1, &a));
	vfs_memory_crash(s.inner, NULL);
	ck_assert_ptr_null(raft_hard_state_load(vfs, DIR, 1, &hs));
	ck_assert_uint_eq(hs.term, 5);
	ck_assert_uint_eq(hs.vote, 3);
	ck_assert_uint_eq(hs.commit, 17);
	/* A save whose temp file never got synced leaves the old state after a crash. */
	s.fail_sync = true;
	struct raft_hard_state b = {6, 0, 17};
	err *e = raft_hard_state_save(vfs, DIR, 1, &b);
	ck_assert(err_is(e, ERR_IO));
	err_free(e);
	s.fail_sync = false;
	struct prng p;
	prng_seed(&p, 3);
	vfs_memory_crash(s.inner, &p);
	ck_assert_ptr_null(raft_hard_state_load(vfs, DIR, 1, &hs));
	ck_assert_uint_eq(hs.term, 5);
	/* A damaged file is corruption, not a zero term. */
	struct vfs_file *f;
	ck_assert_ptr_null(vfs_open(vfs, DIR "/hardstate", 0, &f));
	flip_byte(f, 14);
	vfs_close(f);
	e = raft_hard_state_load(vfs, DIR, 1, &hs);
	ck_assert(err_is(e, ERR_CORRUPT));
	err_free(e);
	disk_free(&s);
}
END_TEST

/* ---- the log ---- */

START_TEST(test_log_append_batch_one_sync)
{
	struct shim s;
	struct vfs *vfs = disk_new(&s);
	struct raft_dlog_recovery rec;
	struct raft_dlog *log = open_log(vfs, RAFT_DLOG_SEGMENT_BYTES, &rec);
	ck_assert_uint_eq(rec.last_index, 0);
	int before = s.syncs;
	append_range(log, 1, 50, 1);
	ck_assert_int_eq(s.syncs - before, 1); /* fifty entries, one sync */
	append_range(log, 51, 60, 2);
	ck_assert_uint_eq(raft_dlog_last_index(log), 60);
	for (uint64_t i = 1; i <= 60; i++)
		assert_entry(log, i, i <= 50 ? 1 : 2);
	raft_dlog_close(log);
	vfs_memory_crash(s.inner, NULL);
	log = open_log(vfs, RAFT_DLOG_SEGMENT_BYTES, &rec);
	ck_assert_uint_eq(rec.last_index, 60);
	ck_assert_uint_eq(rec.cut_bytes, 0);
	ck_assert_uint_eq(raft_dlog_terms(log)[59], 2);
	assert_entry(log, 33, 1);
	/* Appends must continue the log without gaps and with non-decreasing terms. */
	struct raft_entry gap = entry(70, 2, "x");
	err *e = raft_dlog_append(log, &gap, 1);
	ck_assert(err_is(e, ERR_INVALID));
	err_free(e);
	struct raft_entry back = entry(61, 1, "x");
	e = raft_dlog_append(log, &back, 1);
	ck_assert(err_is(e, ERR_INVALID));
	err_free(e);
	raft_dlog_close(log);
	disk_free(&s);
}
END_TEST

START_TEST(test_log_segments_and_truncation)
{
	struct shim s;
	struct vfs *vfs = disk_new(&s);
	struct raft_dlog_recovery rec;
	struct raft_dlog *log = open_log(vfs, 256, &rec); /* tiny segments */
	for (uint64_t i = 1; i <= 100; i += 10)
		append_range(log, i, i + 9, 1 + i / 50);
	raft_dlog_close(log);
	log = open_log(vfs, 256, &rec);
	ck_assert_uint_gt(rec.segments, 3);
	ck_assert_uint_eq(rec.last_index, 100);
	/* A conflicting suffix is replaced: entries 35.. of term 7 (§5.3). */
	append_range(log, 35, 40, 7);
	ck_assert_uint_eq(raft_dlog_last_index(log), 40);
	for (uint64_t i = 1; i <= 40; i++)
		assert_entry(log, i, i >= 35 ? 7 : 1 + ((i - 1) / 10 * 10 + 1) / 50);
	raft_dlog_close(log);
	vfs_memory_crash(s.inner, NULL);
	log = open_log(vfs, 256, &rec);
	ck_assert_uint_eq(rec.last_index, 40);
	assert_entry(log, 40, 7);
	/* Truncation at a segment's first entry removes the whole segment. */
	uint32_t segs = rec.segments;
	ck_assert_ptr_null(raft_dlog_truncate(log, 21));
	raft_dlog_close(log);
	log = open_log(vfs, 256, &rec);
	ck_assert_uint_eq(rec.last_index, 20);
	ck_assert_uint_lt(rec.segments, segs);
	append_range(log, 21, 22, 9);
	assert_entry(log, 22, 9);
	raft_dlog_close(log);
	disk_free(&s);
}
END_TEST

/*
 * Every write of the log covers whole blocks of files opened VFS_DIRECT, so the posix vfs
 * can write them around the page cache: across segment rollovers, truncations and
 * reopenings (which must read back the bytes of the block the records end in).
 */
START_TEST(test_writes_are_whole_blocks)
{
	struct shim s;
	struct vfs *vfs = disk_new(&s);
	struct raft_dlog_recovery rec;
	struct raft_dlog *log = open_log(vfs, VFS_DIRECT_BLOCK, &rec);
	for (uint64_t i = 1; i <= 300; i += 30)
		append_range(log, i, i + 29, 1);
	raft_dlog_close(log);
	log = open_log(vfs, VFS_DIRECT_BLOCK, &rec);
	ck_assert_uint_gt(rec.segments, 1);
	append_range(log, 301, 305, 1); /* the block's first bytes come from the file */
	append_range(log, 290, 296, 2); /* a truncation inside a block, then a write there */
	raft_dlog_close(log);
	log = open_log(vfs, VFS_DIRECT_BLOCK, &rec);
	ck_assert_uint_eq(rec.last_index, 296);
	ck_assert_uint_eq(rec.cut_bytes, 0);
	for (uint64_t i = 1; i <= 296; i++)
		assert_entry(log, i, i >= 290 ? 2 : 1);
	raft_dlog_close(log);
	ck_assert_int_ge(s.writes, 12);
	ck_assert_int_eq(s.unaligned_writes, 0);
	ck_assert_int_ge(s.direct_opens, rec.segments);
	disk_free(&s);
}
END_TEST

/* A crash in the middle of an append leaves a torn tail, which opening cuts off. */
START_TEST(test_torn_tail_recovery)
{
	int torn = 0;
	for (uint64_t seed = 1; seed <= 60; seed++) {
		struct shim s;
		struct vfs *vfs = disk_new(&s);
		struct raft_dlog_recovery rec;
		size_t segment = seed % 2 ? 512 : RAFT_DLOG_SEGMENT_BYTES;
		struct raft_dlog *log = open_log(vfs, segment, &rec);
		append_range(log, 1, 20, 1);
		s.fail_sync = true; /* the next batch is written but never synced */
		struct raft_entry batch[30];
		char texts[30][32];
		for (uint64_t i = 21; i <= 50; i++) {
			snprintf(texts[i - 21], sizeof texts[0], "entry %llu term 2",
			         (unsigned long long)i);
			batch[i - 21] = entry(i, 2, texts[i - 21]);
		}
		err *e = raft_dlog_append(log, batch, 30);
		ck_assert(err_is(e, ERR_IO));
		err_free(e);
		s.fail_sync = false;
		e = raft_dlog_append(log, batch, 1); /* refused until reopened */
		ck_assert(err_is(e, ERR_IO));
		err_free(e);
		raft_dlog_close(log);
		s.fail_sync = false;
		struct prng p;
		prng_seed(&p, seed);
		vfs_memory_crash(s.inner, &p);
		log = open_log(vfs, segment, &rec);
		ck_assert_uint_ge(rec.last_index, 20);
		ck_assert_uint_le(rec.last_index, 50);
		torn += rec.cut_bytes > 0;
		for (uint64_t i = 1; i <= rec.last_index; i++)
			assert_entry(log, i, i <= 20 ? 1 : 2);
		/* The log goes on from where recovery left it. */
		append_range(log, rec.last_index + 1, rec.last_index + 3, 3);
		raft_dlog_close(log);
		log = open_log(vfs, segment, &rec);
		ck_assert_uint_eq(rec.cut_bytes, 0);
		assert_entry(log, raft_dlog_last_index(log), 3);
		raft_dlog_close(log);
		disk_free(&s);
	}
	ck_assert_int_gt(torn, 10); /* most crashes tore a record */
}
END_TEST

START_TEST(test_torn_tail_reported)
{
	struct shim s;
	struct vfs *vfs = disk_new(&s);
	struct raft_dlog_recovery rec;
	struct raft_dlog *log = open_log(vfs, RAFT_DLOG_SEGMENT_BYTES, &rec);
	append_range(log, 1, 5, 1);
	raft_dlog_close(log);
	uint64_t size;
	struct vfs_file *f = last_segment(vfs, &size);
	uint64_t end = records_end(f, size);
	static const uint8_t half[] = {0, 0, 0, 40, 1, 2, 3}; /* a record cut short */
	ck_assert_ptr_null(vfs_write(f, end, half, sizeof half));
	ck_assert_ptr_null(vfs_sync(f));
	vfs_close(f);
	log = open_log(vfs, RAFT_DLOG_SEGMENT_BYTES, &rec);
	ck_assert_uint_eq(rec.last_index, 5);
	ck_assert_uint_eq(rec.cut_bytes, sizeof half);
	ck_assert_uint_eq(rec.cut_offset, end);
	ck_assert(strncmp(rec.cut_segment, "seg-", 4) == 0);
	raft_dlog_close(log);
	/* A bit flip in the very last record is cut off the same way. */
	f = last_segment(vfs, &size);
	flip_byte(f, records_end(f, size) - 2);
	vfs_close(f);
	log = open_log(vfs, RAFT_DLOG_SEGMENT_BYTES, &rec);
	ck_assert_uint_eq(rec.last_index, 4);
	ck_assert_uint_gt(rec.cut_bytes, 0);
	raft_dlog_close(log);
	disk_free(&s);
}
END_TEST

/*
 * A reader gives back every entry as raft_dlog_load() does, across segments and in any
 * order, with one read per chunk it fetches rather than per entry; damage is ERR_CORRUPT.
 */
START_TEST(test_reader_reads_runs)
{
	struct shim s;
	struct vfs *vfs = disk_new(&s);
	struct raft_dlog_recovery rec;
	struct raft_dlog *log = open_log(vfs, 2048, &rec);
	for (uint64_t i = 1; i <= 300; i += 30)
		append_range(log, i, i + 29, 1 + i / 100);
	struct raft_dlog_reader r;
	raft_dlog_reader_init(&r, log);
	int reads_before = s.reads;
	for (uint64_t i = 1; i <= 300; i++) {
		struct raft_entry got, want;
		ck_assert_ptr_null(raft_dlog_reader_get(&r, i, &got));
		ck_assert_ptr_null(raft_dlog_load(log, i, &want));
		ck_assert_uint_eq(got.index, i);
		ck_assert_uint_eq(got.term, want.term);
		ck_assert_uint_eq(got.len, want.len);
		ck_assert(memcmp(got.data, want.data, got.len) == 0);
		free((void *)want.data);
	}
	/* 300 loads take two reads each; the reader one per segment it visits */
	struct vfs_names names = {0};
	ck_assert_ptr_null(vfs_list(vfs, DIR, &names));
	int segments = (int)names.count;
	vfs_names_free(&names);
	ck_assert_int_le(s.reads - reads_before - 2 * 300, segments);
	struct raft_entry e;
	ck_assert_ptr_null(raft_dlog_reader_get(&r, 7, &e)); /* backwards: fetched again */
	ck_assert_uint_eq(e.index, 7);
	err *missing = raft_dlog_reader_get(&r, 301, &e);
	ck_assert(err_is(missing, ERR_NOT_FOUND));
	err_free(missing);
	raft_dlog_reader_free(&r);
	/* a byte of entry 1's payload rots on the disk after the log was opened */
	struct vfs_file *f;
	ck_assert_ptr_null(vfs_open(vfs, DIR "/seg-00000000000000000001", 0, &f));
	flip_byte(f, 20 + 8 + 3);
	vfs_close(f);
	raft_dlog_reader_init(&r, log);
	err *rotten = raft_dlog_reader_get(&r, 1, &e);
	ck_assert(err_is(rotten, ERR_CORRUPT));
	err_free(rotten);
	ck_assert_ptr_null(raft_dlog_reader_get(&r, 2, &e));
	raft_dlog_reader_free(&r);
	raft_dlog_close(log);
	disk_free(&s);
}
END_TEST

static void assert_corrupt(struct vfs *vfs, size_t segment)
{
	struct raft_dlog *log = NULL;
	struct raft_dlog_recovery rec;
	err *e = raft_dlog_open(vfs, DIR, segment, &log, &rec);
	ck_assert_msg(err_is(e, ERR_CORRUPT), "expected corruption, got %s", e ? err_msg(e) : "ok");
	ck_assert_ptr_null(log);
	err_free(e);
}

/*
 * A segment's file is zeroed ahead of its records, so that appends overwrite zeros: the
 * zeros are not entries, appends after a reopen continue where the records end, and a
 * segment rolls over by its records' size, not its file's.
 */
START_TEST(test_zeroed_tail)
{
	struct shim s;
	struct vfs *vfs = disk_new(&s);
	struct raft_dlog_recovery rec;
	struct raft_dlog *log = open_log(vfs, RAFT_DLOG_SEGMENT_BYTES, &rec);
	append_range(log, 1, 5, 1);
	uint64_t size;
	struct vfs_file *f = last_segment(vfs, &size);
	uint64_t end = records_end(f, size);
	vfs_close(f);
	ck_assert_uint_gt(size, end + 4096);
	ck_assert_uint_le(size, RAFT_DLOG_SEGMENT_BYTES);
	raft_dlog_close(log);
	log = open_log(vfs, RAFT_DLOG_SEGMENT_BYTES, &rec);
	ck_assert_uint_eq(rec.last_index, 5);
	ck_assert_uint_eq(rec.cut_bytes, 0);
	append_range(log, 6, 9, 1);
	raft_dlog_close(log);
	f = last_segment(vfs, &size);
	ck_assert_uint_gt(records_end(f, size), end);
	vfs_close(f);
	log = open_log(vfs, RAFT_DLOG_SEGMENT_BYTES, &rec);
	ck_assert_uint_eq(rec.last_index, 9);
	ck_assert_uint_eq(rec.segments, 1);
	struct raft_entry e;
	ck_assert_ptr_null(raft_dlog_load(log, 7, &e));
	ck_assert_uint_eq(e.index, 7);
	free((void *)e.data);
	raft_dlog_close(log);
	/* Zeros shorter than a record header are the end too, in any segment. */
	f = last_segment(vfs, &size);
	end = records_end(f, size);
	ck_assert_ptr_null(vfs_truncate(f, end + 3));
	ck_assert_ptr_null(vfs_sync(f));
	vfs_close(f);
	log = open_log(vfs, RAFT_DLOG_SEGMENT_BYTES, &rec);
	ck_assert_uint_eq(rec.last_index, 9);
	ck_assert_uint_eq(rec.cut_bytes, 0);
	raft_dlog_close(log);
	/* Bytes far beyond the records are no torn write: corruption. */
	f = last_segment(vfs, &size);
	static const uint8_t stray = 7;
	ck_assert_ptr_null(vfs_write(f, end + 4096, &stray, 1));
	ck_assert_ptr_null(vfs_sync(f));
	vfs_close(f);
	assert_corrupt(vfs, RAFT_DLOG_SEGMENT_BYTES);
	disk_free(&s);
}
END_TEST

START_TEST(test_corruption_in_the_middle)
{
	struct shim s;
	struct vfs *vfs = disk_new(&s);
	struct raft_dlog_recovery rec;
	struct raft_dlog *log = open_log(vfs, RAFT_DLOG_SEGMENT_BYTES, &rec);
	append_range(log, 1, 10, 1);
	raft_dlog_close(log);
	uint64_t size;
	struct vfs_file *f = last_segment(vfs, &size);
	flip_byte(f, 20 + 8 + 3); /* inside entry 1's payload; nine good entries follow */
	vfs_close(f);
	assert_corrupt(vfs, RAFT_DLOG_SEGMENT_BYTES);
	disk_free(&s);
	/*
	 * A length no write makes, in a record good ones follow: it was taken for a torn tail,
	 * and the open cut the nine entries after it off the disk.
	 */
	vfs = disk_new(&s);
	log = open_log(vfs, RAFT_DLOG_SEGMENT_BYTES, &rec);
	append_range(log, 1, 10, 1);
	raft_dlog_close(log);
	f = last_segment(vfs, &size);
	flip_byte(f, 20); /* the high byte of entry 1's length */
	vfs_close(f);
	assert_corrupt(vfs, RAFT_DLOG_SEGMENT_BYTES);
	uint64_t after;
	f = last_segment(vfs, &after);
	vfs_close(f);
	ck_assert_uint_eq(after, size); /* nothing was cut */
	disk_free(&s);
	/* A damaged segment header. */
	vfs = disk_new(&s);
	log = open_log(vfs, RAFT_DLOG_SEGMENT_BYTES, &rec);
	append_range(log, 1, 3, 1);
	raft_dlog_close(log);
	f = last_segment(vfs, &size);
	flip_byte(f, 9);
	vfs_close(f);
	assert_corrupt(vfs, RAFT_DLOG_SEGMENT_BYTES);
	disk_free(&s);
	/* Damage at the end of a segment that is not the last one. */
	vfs = disk_new(&s);
	log = open_log(vfs, 128, &rec);
	for (uint64_t i = 1; i <= 30; i += 5)
		append_range(log, i, i + 4, 1);
	raft_dlog_close(log);
	struct vfs_names names = {0};
	ck_assert_ptr_null(vfs_list(vfs, DIR, &names));
	ck_assert_uint_gt(names.count, 2);
	char path[VFS_PATH_MAX];
	snprintf(path, sizeof path, DIR "/%s", names.names[0]);
	vfs_names_free(&names);
	ck_assert_ptr_null(vfs_open(vfs, path, 0, &f));
	ck_assert_ptr_null(vfs_size(f, &size));
	flip_byte(f, size - 1);
	vfs_close(f);
	assert_corrupt(vfs, 128);
	/* A missing segment in the sequence. */
	ck_assert_ptr_null(vfs_remove(vfs, path));
	assert_corrupt(vfs, 128);
	disk_free(&s);
}
END_TEST

/*
 * An append writes again the start of the block the records end in, read back from the
 * disk. A read that returned a flipped bit (what the disk stores stays intact) used to be
 * written back, making the flip permanent in an acknowledged record: the log refused to
 * open ever after (the simulator's seed 400856 of the bank workload). The records those
 * bytes belong to are checked first: a passing flip costs a second read, a lasting one
 * fails the append with ERR_CORRUPT and writes nothing.
 */
START_TEST(test_append_writes_back_no_flipped_read)
{
	struct shim s;
	struct vfs *vfs = disk_new(&s);
	struct raft_dlog_recovery rec;
	struct raft_dlog *log = open_log(vfs, RAFT_DLOG_SEGMENT_BYTES, &rec);
	for (uint64_t i = 1; i <= 192; i += 32)
		append_range(log, i, i + 31, 1);
	raft_dlog_close(log);
	uint64_t end = log_records_end(vfs);
	uint64_t block = end - end % VFS_DIRECT_BLOCK;
	ck_assert_uint_gt(block, 0);
	ck_assert_uint_gt(end - block, 8); /* the append reads back at least 8 bytes */
	s.flip_at = block + 5;

	log = open_log(vfs, RAFT_DLOG_SEGMENT_BYTES, &rec); /* the tail is read at the append */
	s.flipped_reads = 1;
	append_range(log, 193, 194, 1);
	ck_assert_int_eq(s.flipped_reads, 0);
	raft_dlog_close(log);

	log = open_log(vfs, RAFT_DLOG_SEGMENT_BYTES, &rec);
	s.flipped_reads = 1000;
	int writes = s.writes;
	struct raft_entry more = entry(195, 1, "entry 195 term 1");
	err *e = raft_dlog_append(log, &more, 1);
	ck_assert_int_eq(err_code(e), ERR_CORRUPT);
	err_free(e);
	ck_assert_int_eq(s.writes, writes);
	s.flipped_reads = 0;
	raft_dlog_close(log);

	log = open_log(vfs, RAFT_DLOG_SEGMENT_BYTES, &rec);
	ck_assert_uint_eq(rec.cut_bytes, 0);
	for (uint64_t i = 1; i <= 194; i++)
		assert_entry(log, i, 1);
	raft_dlog_close(log);
	disk_free(&s);
}
END_TEST

/*
 * Opening reads every segment; a read that returns a flipped bit must not make the log
 * refuse to open (a bad record in the middle) nor cut off its last entry as torn (a bad
 * last record before the zeros): damage that a second read does not show is the read's.
 */
START_TEST(test_open_reads_again_what_looks_damaged)
{
	struct shim s;
	struct vfs *vfs = disk_new(&s);
	struct raft_dlog_recovery rec;
	struct raft_dlog *log = open_log(vfs, RAFT_DLOG_SEGMENT_BYTES, &rec);
	append_range(log, 1, 10, 1);
	raft_dlog_close(log);
	uint64_t end = log_records_end(vfs);
	uint64_t at[] = {20 + 8 + 3, end - 2}; /* entry 1's payload; the last entry's */
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
		s.flip_at = at[i];
		s.flipped_reads = 1;
		log = open_log(vfs, RAFT_DLOG_SEGMENT_BYTES, &rec);
		ck_assert_int_eq(s.flipped_reads, 0);
		ck_assert_uint_eq(rec.cut_bytes, 0);
		for (uint64_t e = 1; e <= 10; e++)
			assert_entry(log, e, 1);
		raft_dlog_close(log);
	}
	disk_free(&s);
}
END_TEST

/* ---- a node on its storage ---- */

/* A node's durable state as core/node keeps it: the hard state and the log in DIR. */
struct disk_state {
	struct raft_hard_state hs;
	struct raft_dlog *log;
};

static void disk_state_open(struct vfs *vfs, struct disk_state *d)
{
	struct raft_dlog_recovery rec;
	d->log = open_log(vfs, 512, &rec);
	ck_assert_uint_eq(rec.cut_bytes, 0);
	ck_assert_ptr_null(raft_hard_state_load(vfs, DIR, 1, &d->hs));
}

/* Persists and drains every ready batch of a single-node cluster: a changed term or vote
 * first, then the entries (node.c's order). */
static void drain(struct raft *r, struct vfs *vfs, struct disk_state *d, uint64_t *applied)
{
	for (int i = 0; i < 16 && raft_has_ready(r); i++) {
		struct raft_ready rd;
		ck_assert_ptr_null(raft_ready_get(r, &rd));
		if (rd.hard_state_changed) {
			ck_assert_ptr_null(raft_hard_state_save(vfs, DIR, 1, &rd.hard_state));
			d->hs = rd.hard_state;
		}
		ck_assert_ptr_null(raft_dlog_append(d->log, rd.entries, rd.n_entries));
		for (size_t k = 0; k < rd.n_committed; k++) {
			ck_assert_uint_eq(rd.committed[k].index, *applied + 1);
			*applied = rd.committed[k].index;
		}
		ck_assert_ptr_null(raft_advance(r));
	}
}

static struct raft *start_node(const struct disk_state *d, struct prng *p)
{
	uint32_t peers[1] = {1};
	struct raft_config c;
	raft_config_default(&c, 1, peers, 1);
	c.max_cache_bytes = 0; /* read every persisted entry back from the log */
	struct raft_initial init = {
	    .hard_state = d->hs,
	    .terms = raft_dlog_terms(d->log),
	    .last_index = raft_dlog_last_index(d->log),
	};
	struct raft *r = NULL;
	ck_assert_ptr_null(raft_new(&c, &init, p, raft_dlog_source(d->log), &r));
	return r;
}

START_TEST(test_restart_keeps_term_vote_log)
{
	struct shim s;
	struct vfs *vfs = disk_new(&s);
	ck_assert_ptr_null(vfs_mkdir(vfs, DIR));
	struct prng p;
	prng_seed(&p, 5);
	struct disk_state d;
	disk_state_open(vfs, &d);
	struct raft *r = start_node(&d, &p);
	uint64_t applied = 0;
	for (int t = 0; t < 40; t++) {
		struct raft_status now;
		raft_status_get(r, &now);
		if (now.role == RAFT_LEADER)
			break;
		ck_assert_ptr_null(raft_tick(r));
		drain(r, vfs, &d, &applied);
	}
	for (uint64_t id = 1; id <= 40; id++) {
		ck_assert_ptr_null(raft_propose(r, id, "some command", 12));
		drain(r, vfs, &d, &applied);
	}
	struct raft_status before;
	raft_status_get(r, &before);
	ck_assert_int_eq(before.role, RAFT_LEADER);
	ck_assert_uint_eq(before.commit, 41);
	ck_assert_uint_eq(applied, 41);
	raft_free(r);
	raft_dlog_close(d.log);
	vfs_memory_crash(s.inner, &p);
	disk_state_open(vfs, &d);
	r = start_node(&d, &p);
	struct raft_status after;
	raft_status_get(r, &after);
	ck_assert_uint_eq(after.term, before.term);
	ck_assert_uint_eq(after.vote, 1);
	ck_assert_uint_eq(after.last_index, before.last_index);
	ck_assert_uint_eq(after.commit, before.commit);
	/* The committed log is re-applied from disk after the restart. */
	applied = 0;
	drain(r, vfs, &d, &applied);
	ck_assert_uint_eq(applied, 41);
	raft_free(r);
	raft_dlog_close(d.log);
	disk_free(&s);
}
END_TEST

/* A data directory belongs to the node that saved its hard state: started as another
 * node, that node would take the owner's vote for its own. */
START_TEST(test_hard_state_belongs_to_its_node)
{
	struct shim s;
	struct vfs *vfs = disk_new(&s);
	ck_assert_ptr_null(vfs_mkdir(vfs, DIR));
	struct raft_hard_state a = {7, 3, 2}, hs;
	ck_assert_ptr_null(raft_hard_state_save(vfs, DIR, 3, &a));
	ck_assert_ptr_null(raft_hard_state_load(vfs, DIR, 3, &hs));
	ck_assert_uint_eq(hs.vote, 3);
	err *e = raft_hard_state_load(vfs, DIR, 4, &hs);
	ck_assert(err_is(e, ERR_INVALID));
	ck_assert_ptr_nonnull(strstr(err_msg(e), "saved by node 3, and this is node 4"));
	err_free(e);
	ck_assert_uint_eq(hs.term, 0);
	/* A file written before the node id was kept ([term, vote, commit]) is any node's. */
	static const uint8_t payload[] = {0x93, 0x07, 0x03, 0x02};
	uint8_t old[8 + 4 + sizeof payload + 4];
	memcpy(old, "CRNHS001", 8);
	store_u32be(old + 8, sizeof payload);
	memcpy(old + 12, payload, sizeof payload);
	store_u32be(old + 12 + sizeof payload, checksum32(payload, sizeof payload));
	struct vfs_file *f;
	ck_assert_ptr_null(vfs_open(vfs, DIR "/hardstate", 0, &f));
	ck_assert_ptr_null(vfs_truncate(f, 0));
	ck_assert_ptr_null(vfs_write(f, 0, old, sizeof old));
	vfs_close(f);
	ck_assert_ptr_null(raft_hard_state_load(vfs, DIR, 4, &hs));
	ck_assert_uint_eq(hs.term, 7);
	ck_assert_uint_eq(hs.vote, 3);
	ck_assert_uint_eq(hs.commit, 2);
	disk_free(&s);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("raft_storage");
	TCase *tc = tcase_create("durable");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_hard_state_atomic);
	tcase_add_test(tc, test_log_append_batch_one_sync);
	tcase_add_test(tc, test_log_segments_and_truncation);
	tcase_add_test(tc, test_torn_tail_recovery);
	tcase_add_test(tc, test_torn_tail_reported);
	tcase_add_test(tc, test_zeroed_tail);
	tcase_add_test(tc, test_writes_are_whole_blocks);
	tcase_add_test(tc, test_reader_reads_runs);
	tcase_add_test(tc, test_corruption_in_the_middle);
	tcase_add_test(tc, test_append_writes_back_no_flipped_read);
	tcase_add_test(tc, test_open_reads_again_what_looks_damaged);
	tcase_add_test(tc, test_restart_keeps_term_vote_log);
	tcase_add_test(tc, test_hard_state_belongs_to_its_node);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
