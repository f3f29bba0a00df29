/* btree_pagemap.c — see btree_pagemap.h. */
#include "storage/btree_pagemap.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>

static size_t pagemap__slot(uint64_t pgno, size_t cap)
{
	return (size_t)((pgno * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
}

void btree_pagemap_init(struct btree_pagemap *m)
{
	m->keys = NULL;
	m->vals = NULL;
	m->cap = 0;
	m->count = 0;
}

void btree_pagemap_free(struct btree_pagemap *m)
{
	free(m->keys);
	free(m->vals);
	btree_pagemap_init(m);
}

void *btree_pagemap_get(const struct btree_pagemap *m, uint64_t pgno)
{
	assert(pgno != 0);
	if (m->count == 0)
		return NULL;
	size_t mask = m->cap - 1;
	for (size_t i = pagemap__slot(pgno, m->cap);; i = (i + 1) & mask) {
		if (m->keys[i] == pgno)
			return m->vals[i];
		if (m->keys[i] == 0)
			return NULL;
	}
}

/* Doubles the table, reinserting every entry. */
static err *pagemap__grow(struct btree_pagemap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64;
	uint64_t *keys = calloc(ncap, sizeof *keys);
	void **vals = calloc(ncap, sizeof *vals);
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return err_new(ERR_NOMEM, "page map: cannot grow to %zu slots", ncap);
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (m->keys[i] == 0)
			continue;
		size_t j = pagemap__slot(m->keys[i], ncap);
		while (keys[j] != 0)
			j = (j + 1) & (ncap - 1);
		keys[j] = m->keys[i];
		vals[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->cap = ncap;
	return NULL;
}

err *btree_pagemap_put(struct btree_pagemap *m, uint64_t pgno, void *val)
{
	assert(pgno != 0);
	if (m->count >= BTREE_PAGEMAP_MAX)
		return err_new(ERR_LIMIT, "page map: more than %zu pages", BTREE_PAGEMAP_MAX);
	if ((m->count + 1) * 2 > m->cap)
		TRY(pagemap__grow(m));
	size_t mask = m->cap - 1;
	size_t i = pagemap__slot(pgno, m->cap);
	while (m->keys[i] != 0) {
		if (m->keys[i] == pgno)
			return err_new(ERR_EXISTS, "page map: page %llu is there already",
			               (unsigned long long)pgno);
		i = (i + 1) & mask;
	}
	m->count++;
	m->keys[i] = pgno;
	m->vals[i] = val;
	assert(m->count * 2 <= m->cap);
	return NULL;
}

void *btree_pagemap_del(struct btree_pagemap *m, uint64_t pgno)
{
	assert(pgno != 0);
	if (m->count == 0)
		return NULL;
	size_t mask = m->cap - 1;
	size_t i = pagemap__slot(pgno, m->cap);
	while (m->keys[i] != pgno) {
		if (m->keys[i] == 0)
			return NULL;
		i = (i + 1) & mask;
	}
	void *val = m->vals[i];
	/* backward shift: move later entries of the cluster into the hole when allowed */
	size_t hole = i;
	for (size_t j = (i + 1) & mask; m->keys[j] != 0; j = (j + 1) & mask) {
		size_t home = pagemap__slot(m->keys[j], m->cap);
		/* j may move to the hole unless its home lies cyclically in (hole, j] */
		bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (stays)
			continue;
		m->keys[hole] = m->keys[j];
		m->vals[hole] = m->vals[j];
		hole = j;
	}
	m->keys[hole] = 0;
	m->vals[hole] = NULL;
	m->count--;
	return val;
}
