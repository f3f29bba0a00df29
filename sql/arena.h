/*
 * arena.h — a bump allocator that owns every node of a parsed statement.
 *
 * The parser allocates AST nodes, strings and lists from an arena; nothing in the AST is
 * freed on its own. Whoever owns the arena frees the whole tree at once with
 * sql_arena_free(), which makes error paths in the parser trivial (no partial trees to
 * unwind) and means a caller can never leak or double-free a node.
 *
 * An arena has a hard cap (`max_bytes`), so SQL text cannot make the parser allocate
 * without bound: allocations past the cap fail like allocation failures do.
 */
#ifndef CAIRN_SQL_ARENA_H
#define CAIRN_SQL_ARENA_H

#include <stddef.h>

/* The default cap for one arena: 64 MiB, far above what a 1 MiB statement needs. */
#define SQL_ARENA_DEFAULT_MAX_BYTES ((size_t)64 << 20)

struct sql_arena_block;

struct sql_arena {
	struct sql_arena_block *head; /* newest block; older ones are chained behind it */
	size_t used_bytes;            /* bytes taken from malloc, including block headers */
	size_t max_bytes;             /* cap on used_bytes */
};

/* Makes an empty arena that may take up to `max_bytes` from the heap (> 0). */
void sql_arena_init(struct sql_arena *a, size_t max_bytes);

/*
 * Returns `size` zeroed bytes aligned for any object type, valid until sql_arena_free().
 * Returns NULL when the cap would be exceeded or malloc fails; the arena stays usable.
 */
void *sql_arena_alloc(struct sql_arena *a, size_t size);

/* Copies `len` bytes of `s` and appends a NUL; NULL on failure like sql_arena_alloc(). */
char *sql_arena_strndup(struct sql_arena *a, const char *s, size_t len);

/* Releases every allocation; the arena is empty and reusable afterwards. */
void sql_arena_free(struct sql_arena *a);

/*
 * Releases every allocation like sql_arena_free() but keeps one block of the usual size,
 * empty, for the next allocations: an arena reset after each statement asks malloc for
 * nothing while its statements fit in that block (glibc serves a 16 KiB request only
 * after merging its caches of small free chunks, which every statement used to pay for).
 */
void sql_arena_reset(struct sql_arena *a);

#endif
