/*
 * btree_pagemap.h — a bounded hash map from page numbers to pointers.
 *
 * Used by the B+-tree for its dirty pages and by its page cache. Open addressing with
 * linear probing and backward-shift deletion (no tombstones), so lookups stay short
 * however many inserts and deletes happen. Page number 0 is the empty marker: it is
 * a meta page, which never goes through a map. Lookups do not depend on pointer values,
 * and the map is never iterated for anything whose order matters without sorting.
 */
#ifndef CAIRN_STORAGE_BTREE_PAGEMAP_H
#define CAIRN_STORAGE_BTREE_PAGEMAP_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* A map holds at most this many entries (4 Mi pages = 16 GiB of 4 KiB pages). */
#define BTREE_PAGEMAP_MAX ((size_t)1 << 22)

struct btree_pagemap {
	uint64_t *keys; /* 0 = empty slot */
	void **vals;
	size_t cap; /* a power of two, or 0 before the first insert */
	size_t count;
};

void btree_pagemap_init(struct btree_pagemap *m);
void btree_pagemap_free(struct btree_pagemap *m);
void *btree_pagemap_get(const struct btree_pagemap *m, uint64_t pgno);
/*
 * Inserts a page number not in the map. ERR_EXISTS if it is there (the map keeps its
 * entry: replacing it would lose the old value), ERR_LIMIT past BTREE_PAGEMAP_MAX,
 * ERR_NOMEM if growing fails.
 */
err *btree_pagemap_put(struct btree_pagemap *m, uint64_t pgno, void *val);
/* Removes the entry if present and returns its value (NULL if absent). */
void *btree_pagemap_del(struct btree_pagemap *m, uint64_t pgno);

#endif
