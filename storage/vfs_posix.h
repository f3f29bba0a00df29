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

#include "base/vfs.h"

/*
 * Makes a vfs rooted at `root_dir` (NULL or "" means the current directory). The
 * directory must exist. Release with vfs_posix_free() after closing every file.
 */
err *vfs_posix_new(const char *root_dir, struct vfs **out);
void vfs_posix_free(struct vfs *vfs);

#endif
