/*
 * arena.c — a chain of malloc'd blocks carved from the front.
 *
 * Each block holds many small allocations; a request larger than the usual block size
 * gets a block of its own. Freeing walks the chain once. Alignment is that of
 * max_align_t, so any node type may live in an arena.
 */
#include "sql/arena.h"

#include <assert.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The usual block size: big enough that a typical statement needs one or two. */
#define ARENA_BLOCK_BYTES ((size_t)16 << 10)

struct sql_arena_block {
	struct sql_arena_block *next;
	size_t size; /* usable bytes in data[] */
	size_t used; /* bytes of data[] handed out */
	alignas(max_align_t) unsigned char data[];
};

void sql_arena_init(struct sql_arena *a, size_t max_bytes)
{
	assert(max_bytes > 0);
	a->head = NULL;
	a->used_bytes = 0;
	a->max_bytes = max_bytes;
}

static size_t align_up(size_t n)
{
	const size_t align = alignof(max_align_t);
	return (n + align - 1) & ~(align - 1);
}

/* Adds a block with at least `size` usable bytes in front of the chain; NULL on failure. */
static struct sql_arena_block *arena_grow(struct sql_arena *a, size_t size)
{
	size_t usable = size > ARENA_BLOCK_BYTES ? size : ARENA_BLOCK_BYTES;
	size_t total = sizeof(struct sql_arena_block) + usable;
	if (usable > SIZE_MAX / 2 || total > a->max_bytes - a->used_bytes)
		return NULL;
	struct sql_arena_block *b = malloc(total);
	if (!b)
		return NULL;
	b->next = a->head;
	b->size = usable;
	b->used = 0;
	a->head = b;
	a->used_bytes += total;
	return b;
}

void *sql_arena_alloc(struct sql_arena *a, size_t size)
{
	assert(a->used_bytes <= a->max_bytes);
	if (size == 0)
		size = 1;
	if (size > a->max_bytes)
		return NULL;
	size = align_up(size);
	struct sql_arena_block *b = a->head;
	if (!b || b->size - b->used < size) {
		b = arena_grow(a, size);
		if (!b)
			return NULL;
	}
	void *p = b->data + b->used;
	b->used += size;
	assert(b->used <= b->size);
	memset(p, 0, size);
	return p;
}

char *sql_arena_strndup(struct sql_arena *a, const char *s, size_t len)
{
	if (len == SIZE_MAX)
		return NULL;
	char *copy = sql_arena_alloc(a, len + 1);
	if (!copy)
		return NULL;
	if (len)
		memcpy(copy, s, len);
	copy[len] = '\0';
	return copy;
}

void sql_arena_free(struct sql_arena *a)
{
	struct sql_arena_block *b = a->head;
	while (b) {
		struct sql_arena_block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
	a->used_bytes = 0;
}

void sql_arena_reset(struct sql_arena *a)
{
	struct sql_arena_block *kept = NULL, *b = a->head;
	while (b) {
		struct sql_arena_block *next = b->next;
		if (!kept && b->size == ARENA_BLOCK_BYTES) {
			kept = b;
		} else {
			free(b);
		}
		b = next;
	}
	a->head = kept;
	a->used_bytes = 0;
	if (kept) {
		kept->next = NULL;
		kept->used = 0;
		a->used_bytes = sizeof *kept + kept->size;
	}
}
