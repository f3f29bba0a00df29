/*
 * vfs_fault.h — a vfs that wraps another and injects the faults real disks have.
 *
 * Used by storage crash tests and reusable by the simulator. It keeps, per file, an
 * overlay of the writes and truncates not yet synced: reads see them, sync() pushes them
 * to the wrapped vfs and syncs it, and vfs_fault_crash() throws them away (optionally
 * keeping a prefix of each file's last write: a torn write, or keeping a random subset of
 * them, some torn, as a disk that reorders writes may). So whatever the wrapped vfs
 * is, a declared crash loses exactly what vfs.h allows to be lost. Namespace operations
 * (open with create, rename, remove, mkdir) pass straight through: they are durable when
 * they return, as vfs.h promises.
 *
 * Faults on top:
 *   - errors: each operation kind can fail with ERR_IO with a probability, or on its Nth
 *     call from now (once); a failed operation has no effect;
 *   - power cut: vfs_fault_cut_after(n) makes the nth write-or-sync from now, and every
 *     operation after it, fail with ERR_IO until vfs_fault_crash() "reboots" the disk;
 *   - bit flips on read: each read flips one random bit of what it returns with a
 *     probability, and vfs_fault_flip() makes every read covering a given byte of a given
 *     file return it flipped (the disk itself is never changed);
 *   - counters of every operation kind.
 * Every random choice comes from the prng seeded by the options: deterministic.
 */
#ifndef CAIRN_STORAGE_VFS_FAULT_H
#define CAIRN_STORAGE_VFS_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/vfs.h"

enum vfs_fault_op {
	VFS_FAULT_OPEN,
	VFS_FAULT_READ,
	VFS_FAULT_WRITE,
	VFS_FAULT_SYNC,
	VFS_FAULT_TRUNCATE,
	VFS_FAULT_SIZE,
	VFS_FAULT_RENAME,
	VFS_FAULT_REMOVE,
	VFS_FAULT_MKDIR,
	VFS_FAULT_LIST,
	VFS_FAULT_OPS /* the number of kinds */
};

struct vfs_fault_options {
	uint64_t seed;
	double error_probability[VFS_FAULT_OPS]; /* per call of each kind */
	double read_flip_probability;            /* per read call */
};

/* Unsynced bytes the overlay may hold in all files together; past it writes are ERR_LIMIT. */
#define VFS_FAULT_OVERLAY_MAX ((size_t)256 << 20)
/* Bit-flip rules held at once. */
#define VFS_FAULT_FLIPS_MAX 64

/* Wraps `inner` (which stays owned by the caller and must outlive the fault vfs). */
err *vfs_fault_new(struct vfs *inner, const struct vfs_fault_options *opts, struct vfs **out);
/* Releases the fault vfs; every file opened through it must have been closed. */
void vfs_fault_free(struct vfs *vfs);

/* The nth call (1 = the next) of kind `op` fails with ERR_IO, once. 0 cancels. */
void vfs_fault_fail_nth(struct vfs *vfs, enum vfs_fault_op op, uint64_t n);

/* Power cut: the nth write-or-sync from now (1 = the next) and everything after fail. */
void vfs_fault_cut_after(struct vfs *vfs, uint64_t n);

/* True after a power cut happened and before the next crash. */
bool vfs_fault_is_cut(const struct vfs *vfs);

enum vfs_fault_tear {
	VFS_FAULT_TEAR_NONE,   /* every unsynced write is lost */
	VFS_FAULT_TEAR_RANDOM, /* a random prefix (0..all bytes) of each file's last write stays */
	VFS_FAULT_TEAR_AT,     /* the first `tear_bytes` of each file's last write stay */
	VFS_FAULT_KEEP_RANDOM, /* each unsynced write and truncate independently stays, is
	                          lost, or (writes) stays torn: the disk reordered them */
};

/*
 * Simulates the machine losing power and coming back: every unsynced write and truncate
 * is dropped (but for the torn prefix the mode asks for, which is written through and
 * synced), a power cut ends, and open handles stay usable. ERR_IO only if the wrapped vfs
 * fails to take the torn bytes.
 */
err *vfs_fault_crash(struct vfs *vfs, enum vfs_fault_tear tear, size_t tear_bytes);

/* Every read of file `path` covering byte `offset` returns it XORed with `mask`. */
err *vfs_fault_flip(struct vfs *vfs, const char *path, uint64_t offset, uint8_t mask);
void vfs_fault_clear_flips(struct vfs *vfs);

/* Calls of kind `op` so far (failed ones included). */
uint64_t vfs_fault_count(const struct vfs *vfs, enum vfs_fault_op op);

#endif
