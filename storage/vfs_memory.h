/*
 * vfs_memory.h — an in-memory vfs with real crash semantics (tests, Raft, simulated disks).
 *
 * Each file keeps two images: its current bytes (what reads return) and its durable bytes
 * (what the last sync() made safe). vfs_memory_crash() simulates power loss: every file
 * reverts to its durable image, so writes and truncates not followed by a sync are lost.
 * Given a prng the crash may also tear: of each file's last unsynced write a random prefix
 * (0..all of its bytes, cut at a byte boundary) survives on top of the durable image,
 * which is the worst case vfs.h allows for that write. Everything else vfs.h promises
 * holds: a file exists durably once open(VFS_CREATE) returns, mkdir, rename and remove
 * are atomic and durable at once, listings are sorted by strcmp.
 *
 * Paths are '/'-separated and relative to the disk's root ("a/b", "./a//b/" and "/a/b"
 * name the same file); ".." is refused. As on POSIX, the parent directory of a file must
 * exist, a removed file stays readable through handles still open on it, and rename
 * replaces an existing target file. Directories cannot be renamed or removed.
 *
 * Memory is bounded: the current and durable images of all files together may not exceed
 * the cap given at creation; a write or truncate past it fails with ERR_IO ("no space"),
 * as a full disk would, and leaves the file unchanged.
 *
 * Deterministic: no clock, no randomness except the prng passed to vfs_memory_crash().
 * Not thread-safe (nothing in cairn's core is).
 */
#ifndef CAIRN_STORAGE_VFS_MEMORY_H
#define CAIRN_STORAGE_VFS_MEMORY_H

#include <stddef.h>

#include "base/prng.h"
#include "base/vfs.h"

/* Makes an empty disk that may hold up to `max_bytes` (current + durable images). */
err *vfs_memory_new(size_t max_bytes, struct vfs **out);

/* Releases the disk. Every file opened on it must have been closed. */
void vfs_memory_free(struct vfs *vfs);

/*
 * Simulates a power loss: every file reverts to its last synced image. With a prng, a
 * random prefix of each file's last unsynced write survives (a torn write). Whatever
 * survives is durable afterwards. Open handles stay usable and see the new state, but a
 * crashed program should close them; the simulator closes a node's files when it crashes.
 */
void vfs_memory_crash(struct vfs *vfs, struct prng *prng);

/* Bytes held by all files (current plus durable images), the quantity the cap bounds. */
size_t vfs_memory_bytes(const struct vfs *vfs);

/* Files currently open; handy for leak checks in tests. */
size_t vfs_memory_open_files(const struct vfs *vfs);

#endif
