/*
 * durable_log.h — Raft's log on disk: append-only segment files of checksummed entries.
 *
 * See the essay at the top of durable_log.c for the format, the crash reasoning and what
 * this design trades away. In short:
 *   - raft_dlog_append() writes many entries with one write and one sync (group commit);
 *   - raft_dlog_truncate() removes a conflicting suffix durably (§5.3);
 *   - raft_dlog_open() recovers: a torn or corrupt tail after the last good entry is cut
 *     off and reported in struct raft_dlog_recovery (the caller logs it); damage anywhere
 *     else is ERR_CORRUPT, because it would silently lose acknowledged entries.
 * All file access goes through the vfs.
 */
#ifndef CAIRN_RAFT_DURABLE_LOG_H
#define CAIRN_RAFT_DURABLE_LOG_H

#include "base/vfs.h"
#include "raft/raft.h"

/* Segments roll over once they exceed this many bytes (unless configured otherwise). */
#define RAFT_DLOG_SEGMENT_BYTES ((size_t)8 << 20)

struct raft_dlog;

/* What opening found at the end of the log. */
struct raft_dlog_recovery {
	uint64_t last_index;  /* last good entry */
	uint64_t cut_bytes;   /* bytes of a torn or corrupt tail that were cut off */
	uint64_t cut_offset;  /* where the cut happened in segment `cut_segment` */
	char cut_segment[64]; /* file name, "" if nothing was cut */
	uint32_t segments;
};

/*
 * Opens (creating `dir` if needed) the log in `dir`. Segments roll over past
 * segment_max_bytes. *recovery says what was repaired. Errors: ERR_CORRUPT for damage
 * before the tail, ERR_IO from the vfs.
 */
err *raft_dlog_open(struct vfs *vfs, const char *dir, size_t segment_max_bytes,
                    struct raft_dlog **out, struct raft_dlog_recovery *recovery);
void raft_dlog_close(struct raft_dlog *log);

uint64_t raft_dlog_last_index(const struct raft_dlog *log);
/* terms[i] is the term of entry i + 1, for raft_initial; valid until the log changes. */
const uint64_t *raft_dlog_terms(const struct raft_dlog *log);

/*
 * Appends entries[0..n) durably (one write, one sync). entries[0].index may be at most
 * last + 1; if it is lower, the log is first truncated there. Indexes must be consecutive
 * and terms non-decreasing (ERR_INVALID otherwise). After a failed write or sync the log
 * refuses further changes with ERR_IO: what reached the disk is unknown (a failed fsync
 * cannot be retried safely), and only reopening, which runs recovery, can tell.
 */
err *raft_dlog_append(struct raft_dlog *log, const struct raft_entry *entries, size_t n);

/*
 * Like raft_dlog_append(), but leaves the sync to the caller: the entries are durable once
 * vfs_sync(*to_sync) succeeds, which may run on another thread. Until then a crash may cut
 * them off (recovery sees a torn tail), and the caller must neither write to the log nor
 * truncate it: one unsynced batch at a time keeps the damage a crash can do at the tail.
 */
err *raft_dlog_append_unsynced(struct raft_dlog *log, const struct raft_entry *entries, size_t n,
                               struct vfs_file **to_sync);

/* Removes entries from `index` on, durably. */
err *raft_dlog_truncate(struct raft_dlog *log, uint64_t index);

/* Reads entry `index` back, verifying its checksum; out->data is malloc'd (caller frees). */
err *raft_dlog_load(struct raft_dlog *log, uint64_t index, struct raft_entry *out);

/*
 * Reads runs of entries with few reads: each read fetches up to 1 MiB of a segment, and
 * entries inside what was fetched cost no read at all (opening a node reads its MVCC
 * history window back this way). Checks as raft_dlog_load(). The log must not change
 * while a reader is in use.
 */
struct raft_dlog_reader {
	struct raft_dlog *log;
	struct buf chunk; /* bytes [start, start + chunk.len) of segment slot */
	uint32_t slot;
	uint64_t start;
	bool valid;
};

void raft_dlog_reader_init(struct raft_dlog_reader *r, struct raft_dlog *log);
void raft_dlog_reader_free(struct raft_dlog_reader *r);
/* Entry `index`; out->data points into the reader, valid until its next call. */
err *raft_dlog_reader_get(struct raft_dlog_reader *r, uint64_t index, struct raft_entry *out);

/* The log as a raft_log_source for raft_new(). */
struct raft_log_source raft_dlog_source(struct raft_dlog *log);

#endif
