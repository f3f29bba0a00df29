/*
 * storage.h — a Raft node's durable state in one directory: the hard state
 * (hard_state.h) and the log (durable_log.h), and the one call that persists a ready batch
 * (step 2 of the contract in raft.h).
 *
 * Order of writes: entries first, then the hard state. The commit index in the hard
 * state therefore never points past the durable log, and opening treats that case as
 * ERR_CORRUPT. The other order of damage is a crash between the two syncs: the log may
 * then hold entries of a term newer than the saved term. Nothing was sent in that term
 * (messages go out only after both syncs), so opening adopts that term with no vote.
 */
#ifndef CAIRN_RAFT_STORAGE_H
#define CAIRN_RAFT_STORAGE_H

#include "raft/durable_log.h"
#include "raft/hard_state.h"

struct raft_storage {
	struct vfs *vfs;
	char dir[VFS_PATH_MAX];
	struct raft_hard_state hs;
	struct raft_dlog *log;
};

/* Opens the state in `dir` (created if missing); *recovery reports a cut log tail. */
err *raft_storage_open(struct vfs *vfs, const char *dir, size_t segment_max_bytes,
                       struct raft_storage **out, struct raft_dlog_recovery *recovery);
void raft_storage_close(struct raft_storage *s);

/* What raft_new() needs to restart; valid until the storage changes. */
void raft_storage_initial(const struct raft_storage *s, uint64_t applied, struct raft_initial *out);

/* Makes a ready batch's entries and hard state durable (entries, then hard state). */
err *raft_storage_persist(struct raft_storage *s, const struct raft_ready *rd);

#endif
