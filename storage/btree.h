/*
 * btree.h — the copy-on-write B+-tree KV engine (implements kv.h).
 *
 * One file of 4 KiB pages reached through a vfs. A commit never overwrites a page the last
 * durable commit can reach: it writes new pages, syncs, then writes one of two alternating
 * meta pages and syncs again, so after a crash the file opens at exactly the last durable
 * commit, with no write-ahead log and no recovery step. Every page carries a checksum and
 * its own page number; a mismatch is ERR_CORRUPT naming the page, never data.
 *
 * kv_commit(sync=false) writes the committed pages but not the meta page: the commit is
 * visible at once and becomes durable with the next synced commit (group commit). A crash
 * before that reopens at the last synced commit.
 *
 * After an I/O error during a commit the engine refuses further work (ERR_IO) and must be
 * reopened: what reached the disk is unknown, and a failed fsync cannot be retried safely.
 * A failed kv_apply() leaves the engine exactly as before the call.
 */
#ifndef CAIRN_STORAGE_BTREE_H
#define CAIRN_STORAGE_BTREE_H

#include <stddef.h>

#include "base/vfs.h"
#include "storage/kv.h"

struct btree_options {
	size_t cache_bytes; /* the page cache; 0 means BTREE_DEFAULT_CACHE_BYTES */
};

#define BTREE_DEFAULT_CACHE_BYTES ((size_t)64 << 20)

/* Opens (creating if missing) the tree in file `path` of `vfs`. opts may be NULL. */
err *btree_open(struct vfs *vfs, const char *path, const struct btree_options *opts,
                struct kv **out);

/*
 * Checks the whole tree: every reachable page's checksum and structure, key order across
 * pages, equal leaf depth, the key count, and that every page of the file is in exactly
 * one place (the tree, an overflow chain, the free list, or the free-list pages). For
 * tests and `cairn` maintenance; reads the whole file.
 */
err *btree_verify(struct kv *kv);

/* Page cache hits and misses since open (for benchmarks). */
void btree_cache_counts(struct kv *kv, uint64_t *hits, uint64_t *misses);

#endif
