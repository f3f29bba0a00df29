/*
 * vfs_posix.h — the vfs over real POSIX files (real deployments, benchmarks).
 *
 * Every path given to the vfs is taken relative to the root directory it was made with
 * (an absolute path is used as is). The crash semantics of vfs.h hold on a file system
 * that honours fsync(): sync() is fdatasync(), which makes the data durable together with
 * the metadata needed to read it back (the file size; not the modification time), and
 * creating, renaming or removing a file fsyncs its directory before returning, so the
 * directory entry is as durable as the promise says.
 *
 * VFS_DIRECT files (where the file system allows O_DIRECT) hold their aligned writes in
 * memory until sync(), which writes them with O_DIRECT and RWF_DSYNC: one device write
 * and flush, without the page cache's writeback. Other writes to them go through the page
 * cache, after the held ones. A crash of the process loses held bytes that were not
 * synced, as a crash of the machine loses unsynced writes.
 *
 * Errors from the operating system are ERR_IO (ERR_NOT_FOUND for a missing file opened
 * without VFS_CREATE or removed), with the path and strerror() in the message.
 */
#ifndef CAIRN_STORAGE_VFS_POSIX_H
#define CAIRN_STORAGE_VFS_POSIX_H

#include <stdbool.h>

#include "base/vfs.h"

/*
 * Makes a vfs rooted at `root_dir` (NULL or "" means the current directory). The
 * directory must exist. Release with vfs_posix_free() after closing every file.
 */
err *vfs_posix_new(const char *root_dir, struct vfs **out);
/* Releases the vfs, and with it the lock of vfs_posix_lock() if it holds one. */
void vfs_posix_free(struct vfs *vfs);

/*
 * Takes the root directory for this process alone: an exclusive lock (flock) on the file
 * VFS_POSIX_LOCK_FILE in it, created if missing, held until vfs_posix_free() or the
 * process ends, however it ends. When another process holds it, fails with
 * ERR_UNAVAILABLE and a message naming `what` (such as "data directory") and the root.
 * Two processes writing one database would each overwrite what the other committed.
 */
#define VFS_POSIX_LOCK_FILE "LOCK"
err *vfs_posix_lock(struct vfs *vfs, const char *what);

/*
 * Syncs that need no waiting thread (Linux AIO). The sync of a VFS_DIRECT file whose
 * writes since its last sync are all held is one direct write with RWF_DSYNC, which the
 * kernel can run on its own and announce by signalling an eventfd: a caller on an event
 * loop starts it, goes on, and collects the result when the eventfd turns readable.
 * One sync is in flight per context at a time, and until it has ended the caller neither
 * writes, truncates nor closes its file (reads are fine).
 */
struct vfs_posix_aio;

/* A context whose syncs signal `notify_fd` (an eventfd) as they end. */
err *vfs_posix_aio_new(int notify_fd, struct vfs_posix_aio **out);
/* Waits for a sync still in flight (its result is dropped) and releases the context. */
void vfs_posix_aio_free(struct vfs_posix_aio *a);

/*
 * Starts vfs_sync(file) in the kernel and returns true, when `file` is a posix vfs file
 * whose sync is exactly one direct write; returns false, having started nothing, for any
 * other file (not posix, nothing held, unsynced writes through the page cache) or when
 * the kernel turns the request down: then the caller calls vfs_sync() as usual.
 * Precondition: no sync of this context in flight.
 */
bool vfs_posix_aio_sync_start(struct vfs_posix_aio *a, struct vfs_file *file);

/*
 * Whether the sync in flight has ended; waits for it if `wait`. When it has (true),
 * *result is what vfs_sync() would have returned, and the context is free again. A
 * write the kernel refused or did not finish is done again here, synchronously.
 */
bool vfs_posix_aio_sync_end(struct vfs_posix_aio *a, bool wait, err **result);

#endif
