/*
 * durable_log.c — the Raft log on disk.
 *
 * What it is. A Raft node must not forget an entry it has acknowledged: the leader counts
 * that acknowledgement towards commitment (§5.3, §5.4). So entries are on disk, synced,
 * before the node says anything about them (the ready-batch contract in raft.h). This
 * file keeps them there, and gets them back after a crash.
 *
 * The format. The log is a directory of segment files named "seg-" followed by the
 * index of their first entry in 20 decimal digits, so that sorting names sorts
 * segments. A segment is a header and a sequence of records:
 *
 *     header:  "CRNLOG01" | u64be first index | u32be checksum32 of the previous 16 bytes
 *     record:  u32be payload length | u32be checksum32(payload) | payload
 *     payload: msgpack [index, term, type, origin, id, data]
 *
 * Each record carries its own length and checksum, so recovery can walk a segment and
 * tell a good entry from a bad one without trusting anything it has not verified; the
 * index inside the payload catches a record that is intact but in the wrong place.
 *
 * Writing. An append encodes all of its entries into one buffer, writes it at the end of
 * the last segment (or into a new segment, header included, once the last one is full)
 * and syncs once: a batch of a thousand entries costs one fsync (group commit). The
 * segment's file is kept longer than its records, zeroed ahead of them in steps of
 * RAFT__PREALLOC_BYTES (the zeros go out in the same write as the records that outgrow
 * the zeroed part), so most appends overwrite zeros inside the file: a sync of such a
 * write has no file size to update, and on ext4 it costs one device write and a flush
 * instead of three (measured: about half the CPU and two thirds of the time). Every
 * write covers whole blocks of RAFT__BLOCK bytes: it starts at the block the records
 * begin in, rewriting that block's earlier bytes as they were, and ends with zeros at a
 * block boundary; segment files are opened VFS_DIRECT, so the posix vfs writes them
 * around the page cache at the sync (rewriting a block with the bytes it holds cannot
 * harm them: a torn write keeps a prefix of the same bytes). Those bytes come from memory,
 * or after an open or a truncation from the disk, whose read may return a flipped bit:
 * the records they belong to are then read whole and checked before anything is written
 * back, so a passing read error never becomes a lasting one. An append
 * may leave that sync to its caller (raft_dlog_append_unsynced(), run in the background),
 * one batch at a time, so the unsynced bytes are always the log's tail. The
 * segment size is a soft bound; a batch is never split, which keeps a batch in one file
 * and one write. Truncation of a conflicting suffix (§5.3) removes whole segments from
 * the end backwards, then truncates the segment holding the new end, and syncs before
 * anything new is written there: if a crash could lose the truncation while keeping new
 * bytes written over the old ones, recovery would find fresh records followed by stale
 * ones, which it could not tell from corruption.
 *
 * Recovering. vfs.h promises that a crash loses at most the writes after the last sync,
 * and that a torn write keeps a prefix of its bytes. Since only the last segment is ever
 * written after a sync, the damage a crash can do is a tail of the last segment: a record
 * whose header or payload is cut short. A segment's records end where only zeros follow
 * (no record is all zeros: its length is never 0). Opening the log therefore cuts off a
 * tail made of a short record, or of a last record that fails its checksum and is
 * followed by nothing but zeros (a bit flip in the final record is indistinguishable
 * from a torn one and harmless to drop: it was never acknowledged if it was torn, and if
 * it was synced the leader will send it again). A segment that shows any damage is read
 * again first: a read may return a flipped bit that the disk does not store (vfs.h), and
 * that must neither cut an entry off nor make the log refuse to open. A bad record that
 * is followed by more data, a bad header, a missing segment in the sequence, or any damage
 * in a segment other than the last is corruption of synced data: ERR_CORRUPT, never a
 * silent loss of acknowledged entries.
 *
 * Reading. The state machine keeps the terms of all entries in memory and a bounded
 * cache of recent payloads (log.h). For anything older it calls raft_dlog_load(), which
 * finds the record through an in-memory table of (segment, offset) per entry and verifies
 * its checksum again, because a disk can flip bits after the fact.
 *
 * What it trades away. No compaction or snapshots yet (design.md §4 "Later"): the log
 * grows until RAFT_MAX_LOG_ENTRIES. The in-memory index costs 20 bytes per entry. Every
 * segment stays open. Opening reads every segment whole (bounded by the segment size
 * plus one batch), which is simple and fast enough at the sizes we use.
 */
#include "raft/durable_log.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/checksum.h"
#include "base/codec.h"

#define RAFT__SEG_MAGIC "CRNLOG01"
#define RAFT__SEG_HEADER 20
#define RAFT__REC_HEADER 8
/* A payload holds one entry of at most RAFT_MAX_ENTRY_BYTES and a few integers. */
#define RAFT__REC_MAX (RAFT_MAX_ENTRY_BYTES + 64)
/* Segments larger than this are refused when read whole. */
#define RAFT__SEG_READ_MAX ((uint64_t)BUF_ABSOLUTE_MAX)
#define RAFT__MAX_SEGMENTS 65536
/* How far ahead of its records a segment's file is zeroed (at most to the segment size). */
#define RAFT__PREALLOC_BYTES ((uint64_t)1 << 20)
/* Every write starts and ends on a block boundary (VFS_DIRECT). */
#define RAFT__BLOCK ((uint64_t)VFS_DIRECT_BLOCK)
/* Reads of damaged-looking records before the damage counts as the disk's, not a read's. */
#define RAFT__REREADS_MAX 3

struct raft__segment {
	char name[32];
	uint64_t first_index;
	uint64_t size;      /* where its records end: the next record goes here */
	uint64_t allocated; /* the file's length, >= size: zeros follow the records */
	struct vfs_file *file;
};

struct raft_dlog {
	struct vfs *vfs;
	char dir[VFS_PATH_MAX];
	size_t segment_max_bytes;
	struct raft__segment *segs;
	uint32_t n_segs;
	uint32_t segs_cap;
	/* Per entry i + 1: term, segment slot, offset of its record. */
	uint64_t *terms;
	uint32_t *seg_of;
	uint64_t *offset_of;
	uint64_t last;
	uint64_t cap;
	struct buf scratch; /* encoding a batch */
	bool broken;        /* a write or sync failed: the files' state is unknown */
	/*
	 * The bytes of the last segment's block that its records end in, up to that end:
	 * the next write starts with them. They belong to the segment whose first index is
	 * tail_first, with records ending at tail_end; anything else is read from the file.
	 */
	uint8_t tail[RAFT__BLOCK];
	uint64_t tail_first;
	uint64_t tail_end;
};

/* ---- small helpers ---- */

static err *raft__dlog_path(const struct raft_dlog *log, const char *name, char *out)
{
	int n = snprintf(out, VFS_PATH_MAX, "%s/%s", log->dir, name);
	if (n < 0 || n >= VFS_PATH_MAX)
		return err_new(ERR_LIMIT, "path %s/%s too long", log->dir, name);
	return NULL;
}

/* Parses "seg-<20 digits>"; returns false for any other name. */
static bool raft__seg_name_parse(const char *name, uint64_t *first)
{
	if (strncmp(name, "seg-", 4) != 0 || strlen(name) != 24)
		return false;
	uint64_t v = 0;
	for (int i = 4; i < 24; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		uint64_t digit = (uint64_t)(name[i] - '0');
		if (v > (UINT64_MAX - digit) / 10)
			return false;
		v = v * 10 + digit;
	}
	*first = v;
	return true;
}

static err *raft__dlog_reserve(struct raft_dlog *log, uint64_t entries)
{
	assert(log->cap <= RAFT_MAX_LOG_ENTRIES);
	assert(log->last <= log->cap);
	if (entries <= log->cap)
		return NULL;
	if (entries > RAFT_MAX_LOG_ENTRIES)
		return err_new(ERR_LIMIT, "log of %" PRIu64 " entries exceeds the limit", entries);
	uint64_t cap = log->cap ? log->cap : 1024;
	while (cap < entries)
		cap *= 2;
	uint64_t *terms = realloc(log->terms, cap * sizeof *terms);
	if (terms)
		log->terms = terms;
	uint32_t *seg_of = realloc(log->seg_of, cap * sizeof *seg_of);
	if (seg_of)
		log->seg_of = seg_of;
	uint64_t *offset_of = realloc(log->offset_of, cap * sizeof *offset_of);
	if (offset_of)
		log->offset_of = offset_of;
	if (!terms || !seg_of || !offset_of)
		return err_new(ERR_NOMEM, "durable log index");
	log->cap = cap;
	return NULL;
}

static err *raft__dlog_add_segment(struct raft_dlog *log, const char *name, uint64_t first,
                                   struct vfs_file *file, uint64_t size)
{
	assert(strlen(name) < sizeof log->segs[0].name);
	if (log->n_segs == RAFT__MAX_SEGMENTS)
		return err_new(ERR_LIMIT, "more than %d log segments", RAFT__MAX_SEGMENTS);
	if (log->n_segs == log->segs_cap) {
		uint32_t cap = log->segs_cap ? 2 * log->segs_cap : 16;
		struct raft__segment *segs = realloc(log->segs, cap * sizeof *segs);
		if (!segs)
			return err_new(ERR_NOMEM, "log segments");
		log->segs = segs;
		log->segs_cap = cap;
	}
	struct raft__segment *s = &log->segs[log->n_segs++];
	snprintf(s->name, sizeof s->name, "%s", name);
	s->first_index = first;
	s->file = file;
	s->size = size;
	s->allocated = size;
	return NULL;
}

/* ---- record encoding ---- */

static err *raft__record_encode(struct buf *b, const struct raft_entry *e)
{
	static const uint8_t zero[RAFT__REC_HEADER] = {0};
	size_t start = b->len;
	TRY(buf_append(b, zero, sizeof zero));
	struct codec_out o;
	codec_out_init(&o, b);
	codec_put_array(&o, 6);
	codec_put_u64(&o, e->index);
	codec_put_u64(&o, e->term);
	codec_put_u64(&o, e->type);
	codec_put_u64(&o, e->origin);
	codec_put_u64(&o, e->id);
	codec_put_bin(&o, e->data, e->len);
	TRY(codec_out_end(&o));
	size_t len = b->len - start - RAFT__REC_HEADER;
	assert(len <= RAFT__REC_MAX);
	store_u32be(b->data + start, (uint32_t)len);
	store_u32be(b->data + start + 4, checksum32(b->data + start + RAFT__REC_HEADER, len));
	return NULL;
}

/* Decodes a verified payload; out->data points into `payload`. */
static err *raft__record_decode(const uint8_t *payload, size_t len, struct raft_entry *out)
{
	assert(payload != NULL || len == 0);
	assert(len <= RAFT__REC_MAX);
	struct codec_doc doc;
	const msgpack_object *root;
	TRY(codec_parse(&doc, payload, len, &root));
	struct codec_in in;
	codec_in_init(&in, root, 6, 6);
	out->index = codec_get_u64(&in);
	out->term = codec_get_u64(&in);
	uint64_t type = codec_get_u64(&in);
	uint64_t origin = codec_get_u64(&in);
	out->id = codec_get_u64(&in);
	struct slice data = codec_get_bin(&in, RAFT_MAX_ENTRY_BYTES);
	if (type != RAFT_ENTRY_NORMAL && type != RAFT_ENTRY_NOOP)
		codec_in_fail(&in, "bad entry type");
	if (origin > UINT32_MAX)
		codec_in_fail(&in, "bad origin");
	out->type = (uint8_t)type;
	out->origin = (uint32_t)origin;
	out->data = data.ptr;
	out->len = data.len;
	err *e = codec_in_end(&in, false);
	codec_doc_free(&doc);
	return e;
}

/* ---- recovery ---- */

enum raft__scan_result {
	RAFT__SCAN_GOOD, /* a valid record */
	RAFT__SCAN_TORN, /* a bad record that ends the segment: a tail to cut */
	RAFT__SCAN_BAD,  /* a bad record followed by more bytes: corruption */
};

static bool raft__all_zero(const uint8_t *bytes, uint64_t len)
{
	for (uint64_t i = 0; i < len; i++)
		if (bytes[i] != 0)
			return false;
	return true;
}

/*
 * Examines the record at `off` of `bytes[0..size)` expected to hold entry `index`. A bad
 * record followed by zeros only is torn: a write cut short over the zeroed tail.
 */
static enum raft__scan_result raft__scan_record(const uint8_t *bytes, uint64_t size, uint64_t off,
                                                uint64_t index, struct raft_entry *e, uint64_t *end)
{
	assert(off <= size);
	if (size - off < RAFT__REC_HEADER)
		return RAFT__SCAN_TORN;
	uint32_t len = load_u32be(bytes + off);
	uint32_t sum = load_u32be(bytes + off + 4);
	/*
	 * No write makes such a length: a torn one keeps a prefix of a real length over
	 * zeros, which is no larger. Unless zeros follow, it is damage to synced records,
	 * whose entries must not be cut off with it.
	 */
	if (len > RAFT__REC_MAX)
		return raft__all_zero(bytes + off + 4, size - off - 4) ? RAFT__SCAN_TORN
		                                                       : RAFT__SCAN_BAD;
	if (size - off - RAFT__REC_HEADER < len)
		return RAFT__SCAN_TORN;
	*end = off + RAFT__REC_HEADER + len;
	const uint8_t *payload = bytes + off + RAFT__REC_HEADER;
	bool ok = checksum32(payload, len) == sum;
	if (ok) {
		err *de = raft__record_decode(payload, len, e);
		ok = de == NULL && e->index == index;
		err_free(de);
	}
	if (ok)
		return RAFT__SCAN_GOOD;
	return raft__all_zero(bytes + *end, size - *end) ? RAFT__SCAN_TORN : RAFT__SCAN_BAD;
}

/*
 * Cuts the tail of the last segment (read into `bytes`) at `off`, durably, and reports
 * the damaged bytes cut: up to the last one that is not zero.
 */
static err *raft__dlog_cut(struct raft_dlog *log, struct raft__segment *s, const uint8_t *bytes,
                           uint64_t off, struct raft_dlog_recovery *rec)
{
	assert(off <= s->size);
	assert(s == &log->segs[log->n_segs - 1]);
	uint64_t damaged_end = s->size;
	while (damaged_end > off && bytes[damaged_end - 1] == 0)
		damaged_end--;
	rec->cut_bytes = damaged_end - off;
	rec->cut_offset = off;
	snprintf(rec->cut_segment, sizeof rec->cut_segment, "%s", s->name);
	TRY(vfs_truncate(s->file, off));
	TRY(vfs_sync(s->file));
	s->size = off;
	s->allocated = off;
	return NULL;
}

/* Checks the header of segment `s` (read into bytes) and returns where records begin. */
static err *raft__check_header(const struct raft__segment *s, const uint8_t *bytes)
{
	if (s->size < RAFT__SEG_HEADER || memcmp(bytes, RAFT__SEG_MAGIC, 8) != 0 ||
	    load_u32be(bytes + 16) != checksum32(bytes, 16) ||
	    load_u64be(bytes + 8) != s->first_index)
		return err_new(ERR_CORRUPT, "log segment %s: bad header", s->name);
	return NULL;
}

/*
 * True if `bytes` — a segment's bytes from `from` (a record's start, or 0: the header of
 * a segment of entries from `first`) to `size` — hold an intact header and intact records
 * up to `size`, or with `zeros_end` up to where only zeros follow.
 */
static bool raft__records_intact(uint64_t first, const uint8_t *bytes, uint64_t from, uint64_t size,
                                 bool zeros_end)
{
	uint64_t off = from;
	if (off == 0) {
		struct raft__segment probe = {.first_index = first, .size = size};
		err *e = raft__check_header(&probe, bytes);
		bool intact = e == NULL;
		err_free(e); /* the caller reads again */
		if (!intact)
			return false;
		off = RAFT__SEG_HEADER;
	}
	while (off < size) {
		const uint8_t *rec = bytes + (off - from);
		uint64_t left = size - off;
		if (zeros_end && (left < RAFT__REC_HEADER || load_u32be(rec) == 0) &&
		    raft__all_zero(rec, left))
			return true;
		if (left < RAFT__REC_HEADER)
			return false;
		uint32_t len = load_u32be(rec);
		if (len > RAFT__REC_MAX || left - RAFT__REC_HEADER < len ||
		    checksum32(rec + RAFT__REC_HEADER, len) != load_u32be(rec + 4))
			return false;
		off += RAFT__REC_HEADER + len;
	}
	return off == size;
}

/* The last segment holds only part of its header: it was being created. Removes it. */
static err *raft__dlog_drop_torn_segment(struct raft_dlog *log, struct raft_dlog_recovery *rec)
{
	struct raft__segment *s = &log->segs[log->n_segs - 1];
	assert(s->size < RAFT__SEG_HEADER);
	rec->cut_bytes = s->size;
	rec->cut_offset = 0;
	snprintf(rec->cut_segment, sizeof rec->cut_segment, "%s", s->name);
	char path[VFS_PATH_MAX];
	TRY(raft__dlog_path(log, s->name, path));
	vfs_close(s->file);
	log->n_segs--;
	return vfs_remove(log->vfs, path);
}

/* Walks the records of segment `slot` (the last one if `last_segment`), indexing them. */
static err *raft__dlog_scan(struct raft_dlog *log, uint32_t slot, const uint8_t *bytes,
                            bool last_segment, struct raft_dlog_recovery *rec)
{
	assert(slot < log->n_segs);
	assert(bytes != NULL || log->segs[slot].size == 0);
	struct raft__segment *s = &log->segs[slot];
	if (s->first_index != log->last + 1)
		return err_new(ERR_CORRUPT,
		               "log segment %s starts at %" PRIu64 ", expected %" PRIu64, s->name,
		               s->first_index, log->last + 1);
	if (s->size < RAFT__SEG_HEADER && last_segment)
		return raft__dlog_drop_torn_segment(log, rec);
	TRY(raft__check_header(s, bytes));
	uint64_t off = RAFT__SEG_HEADER;
	while (off < s->size) {
		uint64_t left = s->size - off;
		bool zero_start = left < RAFT__REC_HEADER || load_u32be(bytes + off) == 0;
		if (zero_start && raft__all_zero(bytes + off, left)) {
			s->size = off; /* the zeroed tail: the records end here */
			break;
		}
		struct raft_entry e;
		uint64_t end = 0;
		enum raft__scan_result r =
		    raft__scan_record(bytes, s->size, off, log->last + 1, &e, &end);
		if (r == RAFT__SCAN_TORN && last_segment)
			return raft__dlog_cut(log, s, bytes, off, rec);
		if (r != RAFT__SCAN_GOOD)
			return err_new(ERR_CORRUPT,
			               "log segment %s: bad record for entry %" PRIu64
			               " at offset %" PRIu64,
			               s->name, log->last + 1, off);
		if (log->last > 0 && e.term < log->terms[log->last - 1])
			return err_new(ERR_CORRUPT,
			               "log segment %s: term goes back at entry %" PRIu64, s->name,
			               e.index);
		TRY(raft__dlog_reserve(log, log->last + 1));
		log->terms[log->last] = e.term;
		log->seg_of[log->last] = slot;
		log->offset_of[log->last] = off;
		log->last++;
		off = end;
	}
	return NULL;
}

/* Opens segment `name` and reads it whole into `b`. */
static err *raft__dlog_load_segment(struct raft_dlog *log, const char *name, uint64_t first,
                                    struct buf *b)
{
	assert(name != NULL && first >= 1);
	assert(b->max_bytes >= RAFT__SEG_READ_MAX);
	char path[VFS_PATH_MAX];
	TRY(raft__dlog_path(log, name, path));
	struct vfs_file *f;
	TRY(vfs_open(log->vfs, path, VFS_DIRECT, &f));
	uint64_t size = 0;
	err *e = vfs_size(f, &size);
	if (!e && size > RAFT__SEG_READ_MAX)
		e = err_new(ERR_CORRUPT, "log segment %s is too large", name);
	buf_clear(b);
	if (!e)
		e = buf_reserve(b, (size_t)size);
	/*
	 * A read may return a flipped bit (vfs.h): damage that a second read does not show is
	 * the read's, not the disk's, and must not be cut off as a torn tail or refused as
	 * corruption. What every read shows is judged by the scan.
	 */
	for (int read = 0; !e && size > 0 && read < RAFT__REREADS_MAX; read++) {
		e = vfs_read_exact(f, 0, b->data, (size_t)size);
		if (!e && raft__records_intact(first, b->data, 0, size, true))
			break;
	}
	if (!e)
		e = raft__dlog_add_segment(log, name, first, f, size);
	if (e) {
		vfs_close(f);
		return err_wrap(e, "log segment %s", name);
	}
	b->len = (size_t)size;
	return NULL;
}

static err *raft__dlog_recover(struct raft_dlog *log, struct raft_dlog_recovery *rec)
{
	assert(log->n_segs == 0 && log->last == 0);
	assert(rec->cut_bytes == 0);
	struct vfs_names names = {0};
	TRY(vfs_list(log->vfs, log->dir, &names));
	/* Count the segments first so the scan knows which one is last. */
	uint32_t total = 0;
	uint64_t first;
	for (size_t i = 0; i < names.count; i++)
		total += raft__seg_name_parse(names.names[i], &first);
	struct buf bytes;
	buf_init(&bytes, BUF_ABSOLUTE_MAX);
	err *e = NULL;
	uint32_t seen = 0;
	for (size_t i = 0; i < names.count && !e; i++) {
		if (!raft__seg_name_parse(names.names[i], &first))
			continue;
		e = raft__dlog_load_segment(log, names.names[i], first, &bytes);
		if (!e) {
			seen++;
			e = raft__dlog_scan(log, log->n_segs - 1, bytes.data, seen == total, rec);
		}
	}
	buf_free(&bytes);
	vfs_names_free(&names);
	return e;
}

/* ---- opening and closing ---- */

err *raft_dlog_open(struct vfs *vfs, const char *dir, size_t segment_max_bytes,
                    struct raft_dlog **out, struct raft_dlog_recovery *recovery)
{
	assert(vfs != NULL && dir != NULL);
	assert(segment_max_bytes > 0);
	memset(recovery, 0, sizeof *recovery);
	if (strlen(dir) + 32 >= VFS_PATH_MAX)
		return err_new(ERR_LIMIT, "log directory name too long");
	TRY(vfs_mkdir(vfs, dir));
	struct raft_dlog *log = calloc(1, sizeof *log);
	if (!log)
		return err_new(ERR_NOMEM, "durable log");
	log->vfs = vfs;
	snprintf(log->dir, sizeof log->dir, "%s", dir);
	log->segment_max_bytes = segment_max_bytes;
	buf_init(&log->scratch, BUF_ABSOLUTE_MAX);
	err *e = raft__dlog_recover(log, recovery);
	if (e) {
		raft_dlog_close(log);
		return err_wrap(e, "opening raft log in %s", dir);
	}
	recovery->last_index = log->last;
	recovery->segments = log->n_segs;
	*out = log;
	return NULL;
}

void raft_dlog_close(struct raft_dlog *log)
{
	if (!log)
		return;
	for (uint32_t i = 0; i < log->n_segs; i++)
		vfs_close(log->segs[i].file);
	free(log->segs);
	free(log->terms);
	free(log->seg_of);
	free(log->offset_of);
	buf_free(&log->scratch);
	free(log);
}

uint64_t raft_dlog_last_index(const struct raft_dlog *log)
{
	return log->last;
}

const uint64_t *raft_dlog_terms(const struct raft_dlog *log)
{
	return log->terms;
}

/* ---- truncating ---- */

err *raft_dlog_truncate(struct raft_dlog *log, uint64_t index)
{
	assert(index >= 1);
	assert(log->last <= log->cap);
	if (index > log->last)
		return NULL;
	if (log->broken)
		return err_new(ERR_IO, "raft log failed a write earlier; reopen it to recover");
	/* Marked broken until the truncation is complete and durable. */
	log->broken = true;
	uint32_t keep_slot = log->seg_of[index - 1];
	/* Whole segments beyond the new end go first, last to first: a crash leaves a prefix. */
	while (log->n_segs > keep_slot + 1 ||
	       (log->n_segs == keep_slot + 1 && log->segs[keep_slot].first_index == index)) {
		struct raft__segment *s = &log->segs[log->n_segs - 1];
		char path[VFS_PATH_MAX];
		TRY(raft__dlog_path(log, s->name, path));
		vfs_close(s->file);
		s->file = NULL;
		log->n_segs--;
		TRY(err_wrap(vfs_remove(log->vfs, path), "truncating raft log"));
	}
	if (log->n_segs == keep_slot + 1) {
		struct raft__segment *s = &log->segs[keep_slot];
		uint64_t off = log->offset_of[index - 1];
		TRY(err_wrap(vfs_truncate(s->file, off), "truncating raft log"));
		TRY(err_wrap(vfs_sync(s->file), "truncating raft log"));
		s->size = off;
		s->allocated = off;
	}
	log->last = index - 1;
	log->tail_end = 0; /* read again before the next write */
	log->broken = false;
	return NULL;
}

/* ---- appending ---- */

/*
 * Creates the segment file for entries from `first`, empty: its header goes out in the
 * same write as its first records, so that a torn write can only leave a prefix of both.
 */
static err *raft__dlog_new_segment(struct raft_dlog *log, uint64_t first)
{
	assert(first == log->last + 1);
	assert(log->n_segs == 0 || log->segs[log->n_segs - 1].first_index < first);
	char name[32], path[VFS_PATH_MAX];
	snprintf(name, sizeof name, "seg-%020" PRIu64, first);
	TRY(raft__dlog_path(log, name, path));
	struct vfs_file *f;
	TRY(vfs_open(log->vfs, path, VFS_CREATE | VFS_DIRECT, &f));
	err *e = vfs_truncate(f, 0);
	if (!e)
		e = raft__dlog_add_segment(log, name, first, f, 0);
	if (e)
		vfs_close(f);
	return e;
}

static err *raft__header_encode(struct buf *b, uint64_t first)
{
	uint8_t header[RAFT__SEG_HEADER];
	memcpy(header, RAFT__SEG_MAGIC, 8);
	store_u64be(header + 8, first);
	store_u32be(header + 16, checksum32(header, 16));
	return buf_append(b, header, sizeof header);
}

static err *raft__dlog_check_batch(const struct raft_dlog *log, const struct raft_entry *entries,
                                   size_t n)
{
	uint64_t prev_term = entries[0].index >= 2 ? log->terms[entries[0].index - 2] : 0;
	for (size_t i = 0; i < n; i++) {
		if (entries[i].index != entries[0].index + i || entries[i].term < prev_term ||
		    entries[i].len > RAFT_MAX_ENTRY_BYTES)
			return err_new(ERR_INVALID,
			               "append: entry %zu of the batch is out of order", i);
		prev_term = entries[i].term;
	}
	return NULL;
}

/*
 * When records ending at `records_end` outgrow the zeroed part of segment `s`, appends to
 * the scratch buffer (which holds them) the zeros that extend the file by another step.
 */
static err *raft__zero_ahead(struct raft_dlog *log, const struct raft__segment *s,
                             uint64_t records_end)
{
	if (records_end <= s->allocated)
		return NULL;
	uint64_t want = s->allocated + RAFT__PREALLOC_BYTES;
	if (want > log->segment_max_bytes)
		want = log->segment_max_bytes;
	if (want <= records_end)
		return NULL;
	size_t pad = (size_t)(want - records_end);
	TRY(buf_reserve(&log->scratch, pad));
	memset(log->scratch.data + log->scratch.len, 0, pad);
	log->scratch.len += pad;
	return NULL;
}

/*
 * Where the record holding byte `pos` (below where the records end) of the last segment
 * `s` begins; 0 when `pos` lies in the segment's header.
 */
static uint64_t raft__dlog_record_start(const struct raft_dlog *log, const struct raft__segment *s,
                                        uint64_t pos)
{
	uint64_t lo = s->first_index, hi = log->last + 1; /* entries of s: [first_index, last] */
	while (lo < hi) { /* the first entry whose record starts after pos */
		uint64_t mid = lo + (hi - lo) / 2;
		if (log->offset_of[mid - 1] <= pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == s->first_index ? 0 : log->offset_of[lo - 2];
}

/*
 * Makes log->tail hold the `head` bytes of segment `s` from `base` up to where its records
 * end: the next append writes them again. A read may return a flipped bit (vfs.h), and
 * writing it back would make it permanent in records already acknowledged, so every
 * record those bytes belong to is read whole and checked first (in log->scratch, which
 * the append fills afterwards); a read that fails the check is tried again, and one that
 * keeps failing is ERR_CORRUPT.
 */
static err *raft__dlog_load_tail(struct raft_dlog *log, const struct raft__segment *s,
                                 uint64_t base, size_t head)
{
	assert(head < RAFT__BLOCK && base + head == s->size);
	assert(s == &log->segs[log->n_segs - 1]);
	uint64_t from = raft__dlog_record_start(log, s, base);
	assert(from <= base && s->size - from <= RAFT__REC_HEADER + RAFT__REC_MAX + RAFT__BLOCK);
	size_t len = (size_t)(s->size - from);
	for (int attempt = 0;; attempt++) {
		buf_clear(&log->scratch);
		TRY(buf_reserve(&log->scratch, len));
		TRY(vfs_read_exact(s->file, from, log->scratch.data, len));
		if (raft__records_intact(s->first_index, log->scratch.data, from, s->size, false))
			break;
		if (attempt == RAFT__REREADS_MAX - 1)
			return err_new(ERR_CORRUPT,
			               "log segment %s: the records before offset %" PRIu64
			               " fail their checksums in %d reads",
			               s->name, s->size, RAFT__REREADS_MAX);
	}
	memcpy(log->tail, log->scratch.data + (base - from), head);
	log->tail_first = s->first_index;
	log->tail_end = s->size;
	return NULL;
}

/*
 * Appends entries[0..n) with one write; syncs it too if `sync`. *file: the file written.
 * The write covers whole blocks: it starts at the block its records begin in (rewriting
 * that block's earlier bytes as they were) and ends with zeros at a block boundary, so a
 * VFS_DIRECT file can write it around the page cache.
 */
static err *raft__dlog_write(struct raft_dlog *log, const struct raft_entry *entries, size_t n,
                             bool sync, struct vfs_file **file)
{
	assert(n > 0 && entries != NULL);
	uint64_t first = entries[0].index;
	if (log->broken)
		return err_new(ERR_IO, "raft log failed a write earlier; reopen it to recover");
	if (first == 0 || first > log->last + 1)
		return err_new(ERR_INVALID, "append at %" PRIu64 " after a log ending at %" PRIu64,
		               first, log->last);
	TRY(raft_dlog_truncate(log, first));
	TRY(raft__dlog_check_batch(log, entries, n));
	TRY(raft__dlog_reserve(log, log->last + n));
	if (log->n_segs == 0 || log->segs[log->n_segs - 1].size >= log->segment_max_bytes)
		TRY(raft__dlog_new_segment(log, first));
	uint32_t slot = log->n_segs - 1;
	struct raft__segment *s = &log->segs[slot];
	uint64_t base = s->size - s->size % RAFT__BLOCK;
	size_t head = (size_t)(s->size - base);
	if (head > 0 && (log->tail_first != s->first_index || log->tail_end != s->size))
		TRY(err_wrap(raft__dlog_load_tail(log, s, base, head), "appending to raft log"));
	buf_clear(&log->scratch);
	TRY(buf_append(&log->scratch, log->tail, head));
	if (s->size == 0)
		TRY(raft__header_encode(&log->scratch, first));
	for (size_t i = 0; i < n; i++) {
		log->offset_of[log->last + i] = base + log->scratch.len;
		TRY(raft__record_encode(&log->scratch, &entries[i]));
	}
	uint64_t records_end = base + log->scratch.len;
	TRY(raft__zero_ahead(log, s, records_end));
	size_t pad = (size_t)((RAFT__BLOCK - log->scratch.len % RAFT__BLOCK) % RAFT__BLOCK);
	TRY(buf_reserve(&log->scratch, pad));
	memset(log->scratch.data + log->scratch.len, 0, pad);
	log->scratch.len += pad;
	err *e = vfs_write(s->file, base, log->scratch.data, log->scratch.len);
	if (!e && sync)
		e = vfs_sync(s->file);
	if (e) {
		log->broken = true;
		return err_wrap(e, "appending to raft log");
	}
	if (base + log->scratch.len > s->allocated)
		s->allocated = base + log->scratch.len;
	s->size = records_end;
	size_t tail = (size_t)(records_end % RAFT__BLOCK);
	memcpy(log->tail, log->scratch.data + (records_end - tail - base), tail);
	log->tail_first = s->first_index;
	log->tail_end = records_end;
	assert(log->offset_of[log->last] >= RAFT__SEG_HEADER);
	for (size_t i = 0; i < n; i++) {
		log->terms[log->last + i] = entries[i].term;
		log->seg_of[log->last + i] = slot;
	}
	log->last += n;
	*file = s->file;
	return NULL;
}

err *raft_dlog_append(struct raft_dlog *log, const struct raft_entry *entries, size_t n)
{
	assert(n == 0 || entries != NULL);
	struct vfs_file *file;
	return n == 0 ? NULL : raft__dlog_write(log, entries, n, true, &file);
}

err *raft_dlog_append_unsynced(struct raft_dlog *log, const struct raft_entry *entries, size_t n,
                               struct vfs_file **to_sync)
{
	assert(n > 0 && entries != NULL && to_sync != NULL);
	return raft__dlog_write(log, entries, n, false, to_sync);
}

/* ---- reading ---- */

/*
 * Verifies the payload read back for entry `index` against its checksum `sum`, and decodes
 * it into out (out->data points into payload).
 */
static err *raft__dlog_check_read(const struct raft_dlog *log, uint64_t index,
                                  const uint8_t *payload, uint32_t len, uint32_t sum,
                                  struct raft_entry *out)
{
	if (checksum32(payload, len) != sum)
		return err_new(ERR_CORRUPT, "raft log entry %" PRIu64 ": checksum mismatch", index);
	TRY(raft__record_decode(payload, len, out));
	if (out->index != index || out->term != log->terms[index - 1])
		return err_new(ERR_CORRUPT, "raft log entry %" PRIu64 ": found another entry",
		               index);
	return NULL;
}

err *raft_dlog_load(struct raft_dlog *log, uint64_t index, struct raft_entry *out)
{
	assert(out != NULL);
	assert(log->last <= log->cap);
	if (index == 0 || index > log->last)
		return err_new(ERR_NOT_FOUND, "no entry %" PRIu64 " in the raft log", index);
	const struct raft__segment *s = &log->segs[log->seg_of[index - 1]];
	uint64_t off = log->offset_of[index - 1];
	uint8_t header[RAFT__REC_HEADER];
	TRY(vfs_read_exact(s->file, off, header, sizeof header));
	uint32_t len = load_u32be(header);
	if (len > RAFT__REC_MAX)
		return err_new(ERR_CORRUPT, "raft log entry %" PRIu64 ": bad length", index);
	uint8_t *payload = malloc(len ? len : 1);
	if (!payload)
		return err_new(ERR_NOMEM, "raft log entry %" PRIu64, index);
	err *e = vfs_read_exact(s->file, off + RAFT__REC_HEADER, payload, len);
	if (!e)
		e = raft__dlog_check_read(log, index, payload, len, load_u32be(header + 4), out);
	uint8_t *data = NULL;
	if (!e) {
		data = malloc(out->len ? out->len : 1);
		if (!data)
			e = err_new(ERR_NOMEM, "raft log entry %" PRIu64, index);
		else if (out->len)
			memcpy(data, out->data, out->len);
	}
	free(payload);
	if (e)
		return e;
	out->data = data;
	return NULL;
}

/* ---- reading runs of entries ---- */

/* How much of a segment a reader fetches at once (more if one record is larger). */
#define RAFT__READER_CHUNK ((uint64_t)1 << 20)

void raft_dlog_reader_init(struct raft_dlog_reader *r, struct raft_dlog *log)
{
	memset(r, 0, sizeof *r);
	r->log = log;
	buf_init(&r->chunk, RAFT__READER_CHUNK + RAFT__REC_HEADER + RAFT__REC_MAX);
}

void raft_dlog_reader_free(struct raft_dlog_reader *r)
{
	buf_free(&r->chunk);
	r->valid = false;
}

/* Where the record of entry `index` ends: the next record's start, or its segment's end. */
static uint64_t raft__record_end(const struct raft_dlog *log, uint64_t index)
{
	uint32_t slot = log->seg_of[index - 1];
	if (index < log->last && log->seg_of[index] == slot)
		return log->offset_of[index];
	return log->segs[slot].size;
}

err *raft_dlog_reader_get(struct raft_dlog_reader *r, uint64_t index, struct raft_entry *out)
{
	struct raft_dlog *log = r->log;
	if (index == 0 || index > log->last)
		return err_new(ERR_NOT_FOUND, "no entry %" PRIu64 " in the raft log", index);
	uint32_t slot = log->seg_of[index - 1];
	uint64_t off = log->offset_of[index - 1];
	uint64_t end = raft__record_end(log, index);
	if (end < off + RAFT__REC_HEADER || end - off > RAFT__REC_HEADER + RAFT__REC_MAX)
		return err_new(ERR_CORRUPT, "raft log entry %" PRIu64 ": bad length", index);
	bool held =
	    r->valid && r->slot == slot && off >= r->start && end <= r->start + r->chunk.len;
	if (!held) {
		const struct raft__segment *s = &log->segs[slot];
		uint64_t len =
		    s->size - off < RAFT__READER_CHUNK ? s->size - off : RAFT__READER_CHUNK;
		if (len < end - off)
			len = end - off;
		r->valid = false;
		buf_clear(&r->chunk);
		TRY(buf_reserve(&r->chunk, (size_t)len));
		TRY(vfs_read_exact(s->file, off, r->chunk.data, (size_t)len));
		r->chunk.len = (size_t)len;
		r->slot = slot;
		r->start = off;
		r->valid = true;
	}
	const uint8_t *record = r->chunk.data + (off - r->start);
	uint32_t len = load_u32be(record);
	if (len != end - off - RAFT__REC_HEADER)
		return err_new(ERR_CORRUPT, "raft log entry %" PRIu64 ": bad length", index);
	return raft__dlog_check_read(log, index, record + RAFT__REC_HEADER, len,
	                             load_u32be(record + 4), out);
}

static err *raft__dlog_source_load(void *impl, uint64_t index, struct raft_entry *out)
{
	return raft_dlog_load(impl, index, out);
}

struct raft_log_source raft_dlog_source(struct raft_dlog *log)
{
	return (struct raft_log_source){log, raft__dlog_source_load};
}
