/*
 * vfs_nosync.h — a vfs that wraps another and never syncs.
 *
 * Every operation passes through, except sync(), which returns success at once. Writes
 * reach the wrapped vfs (and so the operating system's cache) but nothing waits for the
 * disk: a power failure may lose anything written since the system last flushed on its
 * own, breaking the durability every layer above promises. It exists for two uses only:
 * `cairnd --fsync off` in benchmarks that measure cairn without fsync, and the
 * simulator's "acknowledge before sync" mutation, which must be caught.
 */
#ifndef CAIRN_STORAGE_VFS_NOSYNC_H
#define CAIRN_STORAGE_VFS_NOSYNC_H

#include "base/vfs.h"

/* Wraps `inner` (not owned; it must outlive the wrapper). */
err *vfs_nosync_new(struct vfs *inner, struct vfs **out);
void vfs_nosync_free(struct vfs *vfs);

#endif
