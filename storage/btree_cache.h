/*
 * btree_cache.h — a bounded cache of verified pages for the B+-tree.
 *
 * Holds up to a fixed number of 4 KiB pages that were read from disk and passed their
 * checksum (or were just written by a commit), so a hit costs a hash lookup and no
 * checksum. Eviction is CLOCK (second chance): deterministic, cheap, and close to LRU.
 * A page pointer from the cache is valid until the next btree_cache_insert() (which may
 * evict it) or btree_cache_drop().
 */
#ifndef CAIRN_STORAGE_BTREE_CACHE_H
#define CAIRN_STORAGE_BTREE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "storage/btree_pagemap.h"

#define BTREE_PAGE_SIZE 4096

struct btree_cache {
	uint8_t *mem;        /* nslots pages */
	uint64_t *slot_pgno; /* 0 = free slot */
	uint8_t *referenced; /* the CLOCK bit */
	size_t nslots, hand;
	struct btree_pagemap map; /* pgno -> page in mem */
	uint64_t hits, misses;
};

/* Makes a cache of max(bytes / 4 KiB, 16) pages. */
err *btree_cache_init(struct btree_cache *c, size_t bytes);
void btree_cache_free(struct btree_cache *c);

/* The cached page, or NULL (counted as a miss). */
const uint8_t *btree_cache_get(struct btree_cache *c, uint64_t pgno);

/*
 * Returns the buffer for page pgno, evicting another page if needed; the caller fills it.
 * If the page was cached its buffer is reused.
 */
err *btree_cache_insert(struct btree_cache *c, uint64_t pgno, uint8_t **page);

/* Forgets page pgno if cached. */
void btree_cache_drop(struct btree_cache *c, uint64_t pgno);

#endif
