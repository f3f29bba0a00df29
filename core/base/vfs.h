/*
 * vfs.h — the only file API in cairn.
 *
 * A table of function pointers in the spirit of SQLite's VFS. Two implementations exist:
 * the posix one (storage/vfs_posix.c) for real deployments, and fault-injecting ones that
 * wrap another vfs or keep files in memory (tests, the simulator). Code above this layer
 * never touches a file descriptor.
 *
 * Crash semantics every implementation promises, and every caller may rely on no more:
 *   - read returns what was last written, or (after a crash) what was last synced;
 *   - a write not yet followed by sync() of the same file may be lost, wholly or in part,
 *     by a crash: a torn write keeps a prefix of the new bytes at some byte boundary;
 *   - sync() returning NULL makes every earlier write and truncate of the file durable;
 *   - a file created by open(VFS_CREATE) exists durably once open() returns;
 *   - rename() and remove() are atomic and durable when they return.
 * Reads may also return corrupted bytes (bit flips) on a faulty disk; that is why pages,
 * log entries and frames carry checksums.
 */
#ifndef CAIRN_BASE_VFS_H
#define CAIRN_BASE_VFS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

enum vfs_open_flags {
	VFS_CREATE = 1 << 0, /* create the file if it does not exist */
	/*
	 * A hint, for a file written in whole aligned blocks (offset and length multiples of
	 * VFS_DIRECT_BLOCK) and read back rarely, such as the Raft log: the implementation
	 * may hold such writes in memory until sync() and then write them around the
	 * operating system's page cache, which costs less per sync. Reads, sizes and the
	 * crash semantics above are the same with or without it; an implementation may
	 * ignore it.
	 */
	VFS_DIRECT = 1 << 1,
};

/* The block of VFS_DIRECT writes: a multiple of every device's logical block size. */
#define VFS_DIRECT_BLOCK 4096

/* A directory listing holds at most this many names; more is an ERR_LIMIT error. */
#define VFS_LIST_MAX 65536
#define VFS_PATH_MAX 1024

struct vfs;

/* An open file. Implementations embed this as their first member. */
struct vfs_file {
	struct vfs *vfs;
};

struct vfs_names {
	char **names; /* sorted by strcmp, so listings are deterministic */
	size_t count;
};

struct vfs {
	void *impl;
	err *(*open)(struct vfs *vfs, const char *path, unsigned flags, struct vfs_file **out);
	/* Reads up to len bytes at offset; *got < len only at the end of the file. */
	err *(*read)(struct vfs_file *f, uint64_t offset, void *bytes, size_t len, size_t *got);
	/* Writes all len bytes at offset, extending the file (with zeroes) if needed. */
	err *(*write)(struct vfs_file *f, uint64_t offset, const void *bytes, size_t len);
	err *(*sync)(struct vfs_file *f);
	err *(*truncate)(struct vfs_file *f, uint64_t size);
	err *(*size)(struct vfs_file *f, uint64_t *size);
	void (*close)(struct vfs_file *f);
	err *(*rename)(struct vfs *vfs, const char *from, const char *to);
	err *(*remove)(struct vfs *vfs, const char *path);
	/* Creates a directory; an existing one is not an error. */
	err *(*mkdir)(struct vfs *vfs, const char *path);
	/* Lists the names in a directory (not "." or ".."), sorted. */
	err *(*list)(struct vfs *vfs, const char *dir, struct vfs_names *out);
};

static inline err *vfs_open(struct vfs *vfs, const char *path, unsigned flags,
                            struct vfs_file **out)
{
	return vfs->open(vfs, path, flags, out);
}

static inline err *vfs_read(struct vfs_file *f, uint64_t offset, void *bytes, size_t len,
                            size_t *got)
{
	return f->vfs->read(f, offset, bytes, len, got);
}

static inline err *vfs_write(struct vfs_file *f, uint64_t offset, const void *bytes, size_t len)
{
	return f->vfs->write(f, offset, bytes, len);
}

static inline err *vfs_sync(struct vfs_file *f)
{
	return f->vfs->sync(f);
}

static inline err *vfs_truncate(struct vfs_file *f, uint64_t size)
{
	return f->vfs->truncate(f, size);
}

static inline err *vfs_size(struct vfs_file *f, uint64_t *size)
{
	return f->vfs->size(f, size);
}

static inline void vfs_close(struct vfs_file *f)
{
	if (f)
		f->vfs->close(f);
}

static inline err *vfs_rename(struct vfs *vfs, const char *from, const char *to)
{
	return vfs->rename(vfs, from, to);
}

static inline err *vfs_remove(struct vfs *vfs, const char *path)
{
	return vfs->remove(vfs, path);
}

static inline err *vfs_mkdir(struct vfs *vfs, const char *path)
{
	return vfs->mkdir(vfs, path);
}

static inline err *vfs_list(struct vfs *vfs, const char *dir, struct vfs_names *out)
{
	return vfs->list(vfs, dir, out);
}

/* Reads exactly len bytes at offset; a short read is ERR_CORRUPT ("file too short"). */
err *vfs_read_exact(struct vfs_file *f, uint64_t offset, void *bytes, size_t len);

/* Frees a listing's names; the listing is empty afterwards. */
void vfs_names_free(struct vfs_names *names);

#endif
