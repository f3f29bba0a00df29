/* btree_cache.c — see btree_cache.h. */
#include "storage/btree_cache.h"

#include <assert.h>
#include <stdlib.h>

#define BTREE_CACHE_MIN_PAGES 16

err *btree_cache_init(struct btree_cache *c, size_t bytes)
{
	size_t n = bytes / BTREE_PAGE_SIZE;
	if (n < BTREE_CACHE_MIN_PAGES)
		n = BTREE_CACHE_MIN_PAGES;
	if (n > BTREE_PAGEMAP_MAX / 2)
		return err_new(ERR_LIMIT, "page cache of %zu pages is too large", n);
	c->mem = malloc(n * BTREE_PAGE_SIZE);
	c->slot_pgno = calloc(n, sizeof *c->slot_pgno);
	c->referenced = calloc(n, 1);
	btree_pagemap_init(&c->map);
	c->nslots = n;
	c->hand = 0;
	c->hits = c->misses = 0;
	if (!c->mem || !c->slot_pgno || !c->referenced) {
		btree_cache_free(c);
		return err_new(ERR_NOMEM, "cannot allocate a page cache of %zu pages", n);
	}
	return NULL;
}

void btree_cache_free(struct btree_cache *c)
{
	free(c->mem);
	free(c->slot_pgno);
	free(c->referenced);
	btree_pagemap_free(&c->map);
	c->mem = NULL;
	c->slot_pgno = NULL;
	c->referenced = NULL;
	c->nslots = 0;
}

const uint8_t *btree_cache_get(struct btree_cache *c, uint64_t pgno)
{
	uint8_t *page = btree_pagemap_get(&c->map, pgno);
	if (!page) {
		c->misses++;
		return NULL;
	}
	size_t slot = (size_t)(page - c->mem) / BTREE_PAGE_SIZE;
	assert(slot < c->nslots && c->slot_pgno[slot] == pgno);
	c->referenced[slot] = 1;
	c->hits++;
	return page;
}

err *btree_cache_insert(struct btree_cache *c, uint64_t pgno, uint8_t **page)
{
	assert(pgno != 0);
	uint8_t *cached = btree_pagemap_get(&c->map, pgno);
	if (cached) {
		*page = cached;
		return NULL;
	}
	/* CLOCK: clear reference bits until an unreferenced slot comes by (two sweeps max) */
	size_t slot = c->hand;
	for (size_t step = 0; step < 2 * c->nslots + 1; step++) {
		slot = c->hand;
		c->hand = (c->hand + 1) % c->nslots;
		if (c->slot_pgno[slot] == 0 || !c->referenced[slot])
			break;
		c->referenced[slot] = 0;
	}
	assert(c->slot_pgno[slot] == 0 || !c->referenced[slot]);
	uint8_t *buf = c->mem + slot * BTREE_PAGE_SIZE;
	if (c->slot_pgno[slot] != 0)
		btree_pagemap_del(&c->map, c->slot_pgno[slot]);
	c->slot_pgno[slot] = 0;
	TRY(btree_pagemap_put(&c->map, pgno, buf));
	c->slot_pgno[slot] = pgno;
	c->referenced[slot] = 1;
	*page = buf;
	return NULL;
}

void btree_cache_drop(struct btree_cache *c, uint64_t pgno)
{
	uint8_t *page = btree_pagemap_del(&c->map, pgno);
	if (!page)
		return;
	size_t slot = (size_t)(page - c->mem) / BTREE_PAGE_SIZE;
	assert(slot < c->nslots && c->slot_pgno[slot] == pgno);
	c->slot_pgno[slot] = 0;
	c->referenced[slot] = 0;
}
