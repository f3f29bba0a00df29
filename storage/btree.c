/*
 * btree.c — a copy-on-write B+-tree in one file of 4 KiB pages.
 *
 * What it is. An ordered map from byte-string keys to byte-string values, kept as a
 * B+-tree: branch pages hold separator keys and child page numbers, leaf pages hold the
 * entries, values too large to sit in a leaf go to chains of overflow pages. Pages are
 * slotted: a header, an array of 2-byte cell offsets growing up, cells growing down, so a
 * page is searched by binary search over the offsets without decoding anything.
 *
 * Why copy-on-write. A page reachable from the last durable commit is never written in
 * place. The first time a transaction touches a page it gets a copy at a free page number
 * (and so does every parent up to the root, which must point to the copy); the old page
 * goes on the list of pages freed by this transaction. A commit writes the new pages,
 * syncs, then writes a meta page and syncs again. There are two meta pages (0 and 1) and
 * commits alternate between them, each carrying a transaction counter and a checksum; on
 * open the valid one with the higher counter wins. A crash at any point therefore leaves
 * either the old meta page, whose tree was not touched, or the new one, whose pages were
 * synced before it was written: no write-ahead log, no recovery, no torn tree. This is
 * LMDB's design, without its memory map: pages are read through the vfs into a bounded
 * cache of verified pages, and modified pages live in memory until commit.
 *
 * Free pages. Pages freed by a transaction still belong to the last durable tree; if they
 * were overwritten before the next meta page is durable, a crash would reopen a damaged
 * tree. So they wait on the "pending" list and become "ready" (reusable) only when a
 * synced commit has made the tree that used them unreachable. Pages both allocated and
 * freed inside one transaction never belonged to a durable tree and are ready at once.
 * The free list itself is stored at each synced commit in a chain of free-list pages
 * taken from the ready pages; the previous chain becomes pending like any other page.
 *
 * Atomic batches. kv_apply() journals what it changes (page images it overwrote, pages it
 * allocated or freed, the root and counters) and undoes the journal if any operation fails,
 * so a failed batch leaves no trace.
 *
 * Remembered descents. Applying a batch touches a few leaves over and over (the ends of
 * key spaces, a few meta keys; GC deletes in key order), so the last four root-to-leaf
 * paths are kept: while no page has been made, freed or written out since (the tree's
 * "shape"), their pages are still this transaction's copies and their branch slots still
 * right, and a key between a kept leaf's first key and its fence (the separator bounding
 * it on the right) skips the descent.
 *
 * What it trades away. Every write transaction copies the whole root-to-leaf path (write
 * amplification a log-structured tree would avoid); one writer at a time; deleted space
 * is reclaimed by merging a page into a sibling only when it falls below a quarter full
 * and the two fit in one page (no redistribution), so a tree emptied at random is looser
 * than one built by appends; the file never shrinks (free pages are reused, not returned).
 *
 * Page format (all integers big-endian):
 *   0  u32 checksum32 of bytes 4..4095     4  u64 page number     12  u8 type
 *   14 u16 cell count                      16 u16 start of the cell area
 *   18 u16 bytes of removed cells still in the cell area (reclaimed when the page is
 *          rebuilt), so a page's used bytes are known without walking its cells
 *   24 u64 leftmost child (branch) / next page (overflow, free list)
 *   32 cell offsets (u16 each) ... free ... cells
 * Leaf cell:   u16 key length, u32 value length, u8 flags (1 = overflow), key,
 *              value or u64 first overflow page.
 * Branch cell: u16 key length, u64 child, key. Child i+1 holds keys >= cell i's key.
 */
#include "storage/btree.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/checksum.h"
#include "storage/btree_cache.h"
#include "storage/btree_pagemap.h"

#define PG BTREE_PAGE_SIZE
#define HDR 32
#define BT_MAGIC 0x636169726e627431ull /* "cairnbt1" */
#define BT_VERSION 2                   /* 2: pages count the bytes of their removed cells */
#define BT_DEPTH_MAX 32
#define BT_CELLS_MAX 512 /* more than fit in a page, plus one being inserted */
#define BT_LEAF_CELL_HDR 7
#define BT_BRANCH_CELL_HDR 10
/* A leaf cell holding its value inline is at most as large as one pointing to overflow. */
#define BT_CELL_MAX (BT_LEAF_CELL_HDR + KV_KEY_MAX + 8)
#define BT_OVERFLOW_DATA (PG - HDR)
#define BT_FREELIST_PER_PAGE ((PG - HDR) / 8)
#define BT_MERGE_BELOW (PG / 4)
#define BT_JOURNAL_MAX ((size_t)1 << 24)
#define BT_PAGES_MAX ((uint64_t)1 << 32)

enum bt_page_type {
	BT_META = 1,
	BT_BRANCH = 2,
	BT_LEAF = 3,
	BT_OVERFLOW = 4,
	BT_FREELIST = 5,
};

/* ---- page layout accessors ---- */

static inline uint16_t ld16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline void st16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline unsigned pg_n(const uint8_t *p)
{
	return ld16(p + 14);
}

static inline unsigned pg_content(const uint8_t *p)
{
	return ld16(p + 16);
}

static inline unsigned pg_dead(const uint8_t *p)
{
	return ld16(p + 18);
}

static inline uint64_t pg_extra(const uint8_t *p)
{
	return load_u64be(p + 24);
}

static inline const uint8_t *pg_cell(const uint8_t *p, unsigned i)
{
	return p + ld16(p + HDR + 2 * i);
}

static inline struct slice cell_key(const uint8_t *page, const uint8_t *c)
{
	unsigned off = page[12] == BT_LEAF ? BT_LEAF_CELL_HDR : BT_BRANCH_CELL_HDR;
	return slice_of(c + off, ld16(c));
}

static inline size_t cell_size(const uint8_t *page, const uint8_t *c)
{
	if (page[12] == BT_BRANCH)
		return BT_BRANCH_CELL_HDR + ld16(c);
	return BT_LEAF_CELL_HDR + ld16(c) + ((c[6] & 1) ? 8 : load_u32be(c + 2));
}

static inline uint64_t branch_child(const uint8_t *p, unsigned i)
{
	return i == 0 ? pg_extra(p) : load_u64be(pg_cell(p, i - 1) + 2);
}

/* Sets child i; only for a page being written (dirty). */
static inline void branch_set_child(uint8_t *p, unsigned i, uint64_t child)
{
	if (i == 0)
		store_u64be(p + 24, child);
	else
		store_u64be((uint8_t *)pg_cell(p, i - 1) + 2, child);
}

/* A new page holds zeros wherever nothing is written, so no stale byte reaches the disk. */
static void pg_init(uint8_t *p, uint64_t pgno, enum bt_page_type type)
{
	memset(p, 0, PG);
	store_u64be(p + 4, pgno);
	p[12] = (uint8_t)type;
	st16(p + 16, PG);
}

static inline int key_cmp(struct slice a, struct slice b)
{
	size_t n = a.len < b.len ? a.len : b.len;
	int c = memcmp(a.ptr, b.ptr, n);
	if (c)
		return c;
	return (a.len > b.len) - (a.len < b.len);
}

/* Index of the first cell whose key is >= key (n if none); *exact if equal. */
static unsigned pg_lower_bound(const uint8_t *p, struct slice key, bool *exact)
{
	unsigned lo = 0, hi = pg_n(p);
	*exact = false;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		int c = key_cmp(cell_key(p, pg_cell(p, mid)), key);
		if (c < 0) {
			lo = mid + 1;
		} else {
			if (c == 0)
				*exact = true;
			hi = mid;
		}
	}
	return lo;
}

/* The child of a branch page whose subtree holds `key`. */
static unsigned branch_find(const uint8_t *p, struct slice key)
{
	bool exact;
	unsigned i = pg_lower_bound(p, key, &exact);
	return exact ? i + 1 : i;
}

/* Bytes in use: the header, the offsets and the live cells. */
static size_t pg_used(const uint8_t *p)
{
	return HDR + 2 * pg_n(p) + (PG - pg_content(p)) - pg_dead(p);
}

/* Inserts a cell at index i if the free gap holds it; false if it does not. */
static bool pg_insert_fast(uint8_t *p, unsigned i, const uint8_t *cell, size_t len)
{
	unsigned n = pg_n(p), content = pg_content(p);
	assert(i <= n);
	if (content < HDR + 2 * (n + 1) + len)
		return false;
	content -= (unsigned)len;
	memcpy(p + content, cell, len);
	memmove(p + HDR + 2 * (i + 1), p + HDR + 2 * i, 2 * (n - i));
	st16(p + HDR + 2 * i, (uint16_t)content);
	st16(p + 14, (uint16_t)(n + 1));
	st16(p + 16, (uint16_t)content);
	return true;
}

static void pg_remove(uint8_t *p, unsigned i)
{
	unsigned n = pg_n(p);
	assert(i < n);
	size_t dead = pg_dead(p) + cell_size(p, pg_cell(p, i));
	memmove(p + HDR + 2 * i, p + HDR + 2 * (i + 1), 2 * (n - i - 1));
	st16(p + HDR + 2 * (n - 1), 0); /* the free gap stays zero */
	st16(p + 14, (uint16_t)(n - 1));
	if (n == 1) {
		st16(p + 16, PG); /* empty: the whole cell area is free again */
		dead = 0;
	}
	assert(dead <= PG - pg_content(p));
	st16(p + 18, (uint16_t)dead);
}

struct cellref {
	const uint8_t *p;
	size_t len;
};

/* Rewrites page p (header kept) with exactly `cells`, packed. Cells may point into p. */
static void pg_rebuild(uint8_t *p, const struct cellref *cells, size_t n)
{
	uint8_t tmp[PG];
	memcpy(tmp, p, HDR);
	size_t content = PG;
	for (size_t i = 0; i < n; i++) {
		content -= cells[i].len;
		assert(content >= HDR + 2 * n);
		memcpy(tmp + content, cells[i].p, cells[i].len);
		st16(tmp + HDR + 2 * i, (uint16_t)content);
	}
	memset(tmp + HDR + 2 * n, 0, content - (HDR + 2 * n)); /* the free gap */
	st16(tmp + 14, (uint16_t)n);
	st16(tmp + 16, (uint16_t)content);
	st16(tmp + 18, 0);
	memcpy(p, tmp, PG);
}

static size_t pg_collect(const uint8_t *p, struct cellref *cells)
{
	unsigned n = pg_n(p);
	assert(n < BT_CELLS_MAX);
	for (unsigned i = 0; i < n; i++) {
		cells[i].p = pg_cell(p, i);
		cells[i].len = cell_size(p, cells[i].p);
	}
	return n;
}

static void pg_seal(uint8_t *p)
{
	store_u32be(p, checksum32(p + 4, PG - 4));
}

/* ---- the engine ---- */

struct u64vec {
	uint64_t *v;
	size_t len, cap;
};

/* Makes room for one more entry. */
static err *vec_reserve(struct u64vec *a)
{
	if (a->len == a->cap) {
		size_t ncap = a->cap ? a->cap * 2 : 64;
		if (ncap > BT_PAGES_MAX)
			return err_new(ERR_LIMIT, "b-tree: page list too long");
		uint64_t *v = realloc(a->v, ncap * sizeof *v);
		if (!v)
			return err_new(ERR_NOMEM, "b-tree: out of memory");
		a->v = v;
		a->cap = ncap;
	}
	return NULL;
}

static err *vec_push(struct u64vec *a, uint64_t x)
{
	TRY(vec_reserve(a));
	a->v[a->len++] = x;
	return NULL;
}

static int cmp_u64_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x < y) - (x > y);
}

/* Sorts page numbers high to low, so popping from the end yields the lowest. */
static void vec_sort_desc(struct u64vec *a)
{
	if (a->len > 1) /* the numbers are distinct, so the order is total */
		qsort(a->v, a->len, sizeof *a->v, cmp_u64_desc);
}

struct bt_dirty {
	uint8_t page[PG];
	uint64_t gen; /* the batch that last saved an undo image of it */
};

enum bt_jkind { J_SAVE, J_NEW, J_FREED_DIRTY, J_READY_POP, J_READY_PUSH, J_PENDING_PUSH };

/* Undo images kept for the next batches: a batch saves a few pages, every batch. */
#define BT_SPARE_IMAGES 16
/* Dirty-page records kept for reuse after a commit moved their pages into the cache. */
#define BT_SPARE_DIRTY 64

struct bt_jrec {
	enum bt_jkind kind;
	uint64_t pgno;
	void *ptr; /* J_SAVE: the saved image; J_FREED_DIRTY: the dirty entry */
};

/* What a batch may change besides pages and page lists; restored on rollback. */
struct bt_state {
	uint64_t root, page_count, keys, key_bytes, value_bytes;
};

struct bt_path {
	uint64_t pgno[BT_DEPTH_MAX];
	unsigned idx[BT_DEPTH_MAX];
	unsigned depth; /* levels used; the leaf is at depth - 1 */
	bool rightmost;
};

/*
 * A recent descent, kept to skip the next ones to the same leaf (bt__descend_writable).
 * Its pages are dirty and its branch indexes right as long as the tree's shape has not
 * changed since: no page made, freed or written out, no rollback (struct btree's shape).
 * The leaf holds every key from its first one up to the fence (the separator above it
 * that bounds its subtree on the right; none: it is the rightmost leaf).
 */
struct bt_hint {
	uint64_t shape; /* the tree's shape when taken; 0: empty */
	struct bt_path path;
	bool above_rightmost; /* every branch level took its last child */
	bool fenced;
	uint16_t fence_len;
	uint8_t fence[KV_KEY_MAX];
};

#define BT_HINTS 4

struct btree {
	struct kv kv;
	struct vfs_file *file;
	char path[VFS_PATH_MAX];
	struct btree_cache cache;
	struct btree_pagemap dirty; /* pgno -> struct bt_dirty */
	struct bt_state st;
	uint64_t txn; /* counter of the last durable meta page */
	uint64_t fl_head, fl_count;
	struct u64vec fl_pages; /* pages holding the durable free list */
	struct u64vec ready, pending;
	uint8_t user_meta[KV_META_MAX];
	size_t user_meta_len;
	struct bt_jrec *journal;
	size_t jlen, jcap;
	void *spare[BT_SPARE_IMAGES]; /* undo images of past batches, kept for reuse */
	unsigned n_spare;
	struct bt_dirty *spare_dirty[BT_SPARE_DIRTY]; /* records of flushed pages, for reuse */
	unsigned n_spare_dirty;
	uint8_t *run; /* bt__flush_dirty's buffer of BT_WRITE_RUN pages; NULL until the first */
	struct bt_iter *spare_iter; /* the last closed iterator, its buffers kept, for reuse */
	uint64_t gen;               /* batch generation */
	uint64_t iter_gen;          /* bumped by apply and commit; iterators assert it */
	uint64_t shape; /* bumped when a page is made, freed or written out, or on rollback */
	struct bt_hint hints[BT_HINTS];
	unsigned next_hint; /* the slot the next new hint takes */
	uint64_t commits;
	bool failed;
};

static err *bt__corrupt(uint64_t pgno, const char *what)
{
	return err_new(ERR_CORRUPT, "b-tree page %llu: %s", (unsigned long long)pgno, what);
}

/* Structural checks of a page whose checksum passed; a bad page is ERR_CORRUPT. */
static err *bt__check_page(const uint8_t *p, uint64_t pgno)
{
	unsigned type = p[12];
	if (type != BT_BRANCH && type != BT_LEAF && type != BT_OVERFLOW && type != BT_FREELIST)
		return bt__corrupt(pgno, "unknown page type");
	if (type == BT_OVERFLOW)
		return NULL;
	unsigned n = pg_n(p), content = pg_content(p);
	if (type == BT_FREELIST)
		return n <= BT_FREELIST_PER_PAGE ? NULL : bt__corrupt(pgno, "bad free-list count");
	if (HDR + 2 * n > content || content > PG)
		return bt__corrupt(pgno, "bad cell area");
	size_t cells = 0; /* bytes of the live cells */
	for (unsigned i = 0; i < n; i++) {
		unsigned off = ld16(p + HDR + 2 * i);
		unsigned hdr = type == BT_LEAF ? BT_LEAF_CELL_HDR : BT_BRANCH_CELL_HDR;
		if (off < content || off + hdr > PG)
			return bt__corrupt(pgno, "cell offset out of range");
		const uint8_t *c = p + off;
		if (ld16(c) == 0 || ld16(c) > KV_KEY_MAX || off + cell_size(p, c) > PG)
			return bt__corrupt(pgno, "cell out of range");
		if (type == BT_LEAF && load_u32be(c + 2) > KV_VALUE_MAX)
			return bt__corrupt(pgno, "value length out of range");
		cells += cell_size(p, c);
	}
	/* the cell area holds the live cells and the removed ones counted at offset 18 */
	if (cells + pg_dead(p) != PG - content)
		return bt__corrupt(pgno, "cell area does not add up");
	return NULL;
}

/* Reads, verifies and caches page pgno from the file. */
static err *bt__load(struct btree *bt, uint64_t pgno, const uint8_t **out)
{
	assert(pgno >= 2 && pgno < bt->st.page_count);
	uint8_t *buf;
	TRY(btree_cache_insert(&bt->cache, pgno, &buf));
	err *e = vfs_read_exact(bt->file, pgno * PG, buf, PG);
	if (!e && load_u32be(buf) != checksum32(buf + 4, PG - 4))
		e = bt__corrupt(pgno, "checksum mismatch");
	if (!e && load_u64be(buf + 4) != pgno)
		e = bt__corrupt(pgno, "page holds another page number");
	if (!e)
		e = bt__check_page(buf, pgno);
	if (e) {
		btree_cache_drop(&bt->cache, pgno);
		return err_wrap(e, "%s", bt->path);
	}
	*out = buf;
	return NULL;
}

/*
 * Every page number the tree follows comes from a page (a child, an overflow link, the
 * free list) or a meta page, so a damaged one is checked before any lookup by it.
 */
static err *bt__check_pgno(const struct btree *bt, uint64_t pgno)
{
	if (pgno < 2 || pgno >= bt->st.page_count)
		return err_wrap(bt__corrupt(pgno, "page number out of range"), "%s", bt->path);
	return NULL;
}

/*
 * The current image of page pgno: dirty if modified, else cached or loaded. A clean
 * page's pointer is valid until the next page is read.
 */
static err *bt__page(struct btree *bt, uint64_t pgno, const uint8_t **out)
{
	TRY(bt__check_pgno(bt, pgno));
	struct bt_dirty *d = btree_pagemap_get(&bt->dirty, pgno);
	if (d) {
		*out = d->page;
		return NULL;
	}
	*out = btree_cache_get(&bt->cache, pgno);
	if (*out)
		return NULL;
	return bt__load(bt, pgno, out);
}

/* Reads page pgno and checks it has the expected type. */
static err *bt__page_typed(struct btree *bt, uint64_t pgno, enum bt_page_type type,
                           const uint8_t **out)
{
	TRY(bt__page(bt, pgno, out));
	if ((*out)[12] != type)
		return err_wrap(bt__corrupt(pgno, "unexpected page type"), "%s", bt->path);
	return NULL;
}

/* ---- page allocation with the batch journal ---- */

/* Makes room for `n` more journal records, so the changes that follow cannot fail. */
static err *bt__journal_reserve(struct btree *bt, size_t n)
{
	if (bt->jlen + n > bt->jcap) {
		size_t ncap = bt->jcap ? bt->jcap * 2 : 256;
		if (ncap > BT_JOURNAL_MAX)
			return err_new(ERR_LIMIT, "b-tree: batch touches too many pages");
		struct bt_jrec *j = realloc(bt->journal, ncap * sizeof *j);
		if (!j)
			return err_new(ERR_NOMEM, "b-tree: out of memory");
		bt->journal = j;
		bt->jcap = ncap;
	}
	return NULL;
}

static void bt__jpush(struct btree *bt, enum bt_jkind kind, uint64_t pgno, void *ptr)
{
	assert(bt->jlen < bt->jcap);
	bt->journal[bt->jlen++] = (struct bt_jrec){kind, pgno, ptr};
}

/* A free page number: the lowest ready one, else the end of the file. */
static err *bt__alloc(struct btree *bt, uint64_t *pgno)
{
	if (bt->ready.len > 0) {
		TRY(bt__journal_reserve(bt, 1));
		*pgno = bt->ready.v[--bt->ready.len];
		bt__jpush(bt, J_READY_POP, *pgno, NULL);
		return NULL;
	}
	if (bt->st.page_count >= BT_PAGES_MAX)
		return err_new(ERR_LIMIT, "b-tree: file has %llu pages, the maximum",
		               (unsigned long long)bt->st.page_count);
	*pgno = bt->st.page_count++; /* restored from the state snapshot on rollback */
	return NULL;
}

/* A dirty-page record: a kept one if there is one (its contents are stale), else a new one. */
static struct bt_dirty *bt__dirty_alloc(struct btree *bt)
{
	assert(bt->n_spare_dirty <= BT_SPARE_DIRTY);
	return bt->n_spare_dirty ? bt->spare_dirty[--bt->n_spare_dirty]
	                         : malloc(sizeof(struct bt_dirty));
}

/* Keeps a dirty-page record no longer in the map for reuse, or frees it. */
static void bt__dirty_release(struct btree *bt, struct bt_dirty *d)
{
	if (bt->n_spare_dirty < BT_SPARE_DIRTY)
		bt->spare_dirty[bt->n_spare_dirty++] = d;
	else
		free(d);
}

/* Makes a new dirty page at a fresh page number, initialised as `type`. */
static err *bt__new_page(struct btree *bt, enum bt_page_type type, uint64_t *pgno, uint8_t **page)
{
	TRY(bt__journal_reserve(bt, 2));
	struct bt_dirty *d = bt__dirty_alloc(bt);
	if (!d)
		return err_new(ERR_NOMEM, "b-tree: out of memory");
	err *e = bt__alloc(bt, pgno);
	if (!e)
		e = btree_pagemap_put(&bt->dirty, *pgno, d);
	if (e && err_is(e, ERR_EXISTS)) { /* a damaged free list named the page twice */
		err_free(e);
		e = err_wrap(bt__corrupt(*pgno, "free, yet in use"), "%s", bt->path);
	}
	if (e) {
		bt__dirty_release(bt, d);
		return e;
	}
	bt__jpush(bt, J_NEW, *pgno, NULL);
	bt->shape++;
	d->gen = bt->gen;
	pg_init(d->page, *pgno, type);
	*page = d->page;
	return NULL;
}

/* Frees page pgno: at once if this transaction made it, else once the next sync is done. */
static err *bt__free_page(struct btree *bt, uint64_t pgno)
{
	assert(pgno >= 2 && pgno < bt->st.page_count);
	TRY(bt__journal_reserve(bt, 2));
	bt->shape++;
	struct bt_dirty *d = btree_pagemap_get(&bt->dirty, pgno);
	if (!d) {
		TRY(vec_push(&bt->pending, pgno));
		bt__jpush(bt, J_PENDING_PUSH, pgno, NULL);
		return NULL;
	}
	TRY(vec_reserve(&bt->ready));
	bt__jpush(bt, J_FREED_DIRTY, pgno, d);
	btree_pagemap_del(&bt->dirty, pgno);
	bt->ready.v[bt->ready.len++] = pgno;
	bt__jpush(bt, J_READY_PUSH, pgno, NULL);
	return NULL;
}

/* Saves an undo image of dirty page pgno unless this batch already has one (or made it). */
static err *bt__save(struct btree *bt, uint64_t pgno, struct bt_dirty *d)
{
	assert(btree_pagemap_get(&bt->dirty, pgno) == d);
	if (d->gen == bt->gen)
		return NULL;
	TRY(bt__journal_reserve(bt, 1));
	uint8_t *save = bt->n_spare ? bt->spare[--bt->n_spare] : malloc(PG);
	if (!save)
		return err_new(ERR_NOMEM, "b-tree: out of memory");
	memcpy(save, d->page, PG);
	bt__jpush(bt, J_SAVE, pgno, save);
	d->gen = bt->gen;
	return NULL;
}

/*
 * Makes page pgno dirty in this transaction: a dirty page is returned as is, a clean one
 * is copied to a new page number (*out_pgno) and the original freed. With `save`, a dirty
 * page also gets its undo image for this batch; without, the caller must get the page
 * through bt__modify before changing it (descending touches every level, but a branch
 * changes only when a child moves, splits or merges: most batches leave it as it was, and
 * need no 4 KiB copy of it).
 */
static err *bt__touch(struct btree *bt, uint64_t pgno, uint64_t *out_pgno, uint8_t **page,
                      bool save)
{
	TRY(bt__check_pgno(bt, pgno));
	struct bt_dirty *d = btree_pagemap_get(&bt->dirty, pgno);
	if (d) {
		if (save)
			TRY(bt__save(bt, pgno, d));
		*out_pgno = pgno;
		*page = d->page;
		return NULL;
	}
	const uint8_t *src;
	TRY(bt__page(bt, pgno, &src));
	uint8_t *np;
	/* allocating reads no page, so src stays valid */
	TRY(bt__new_page(bt, (enum bt_page_type)src[12], out_pgno, &np));
	if (*out_pgno == pgno) /* only a damaged file lists a page of its tree as free */
		return err_wrap(bt__corrupt(pgno, "in the tree and on the free list"), "%s",
		                bt->path);
	memcpy(np, src, PG);
	store_u64be(np + 4, *out_pgno);
	*page = np;
	return bt__free_page(bt, pgno);
}

/* A dirty page about to be changed by this batch, with its undo image saved. */
static err *bt__modify(struct btree *bt, uint64_t pgno, uint8_t **page)
{
	struct bt_dirty *d = btree_pagemap_get(&bt->dirty, pgno);
	assert(d != NULL);
	TRY(bt__save(bt, pgno, d));
	*page = d->page;
	return NULL;
}

/* Keeps an undo image no longer needed for reuse, or frees it. */
static void bt__spare_image(struct btree *bt, void *image)
{
	if (bt->n_spare < BT_SPARE_IMAGES)
		bt->spare[bt->n_spare++] = image;
	else
		free(image);
}

/* Undoes the current batch's journal, newest record first. */
static void bt__rollback(struct btree *bt, const struct bt_state *saved)
{
	bt->shape++;
	for (size_t i = bt->jlen; i-- > 0;) {
		struct bt_jrec *r = &bt->journal[i];
		struct bt_dirty *d;
		switch (r->kind) {
		case J_SAVE:
			d = btree_pagemap_get(&bt->dirty, r->pgno);
			assert(d != NULL);
			memcpy(d->page, r->ptr, PG);
			d->gen = 0;
			bt__spare_image(bt, r->ptr);
			break;
		case J_NEW: bt__dirty_release(bt, btree_pagemap_del(&bt->dirty, r->pgno)); break;
		case J_FREED_DIRTY: {
			/* the map had room for it before, and shrank since: cannot fail */
			err *e = btree_pagemap_put(&bt->dirty, r->pgno, r->ptr);
			assert(e == NULL);
			(void)e;
			break;
		}
		case J_READY_POP: bt->ready.v[bt->ready.len++] = r->pgno; break;
		case J_READY_PUSH:
			assert(bt->ready.len > 0 && bt->ready.v[bt->ready.len - 1] == r->pgno);
			bt->ready.len--;
			break;
		case J_PENDING_PUSH:
			assert(bt->pending.len > 0);
			bt->pending.len--;
			break;
		}
	}
	bt->jlen = 0;
	bt->st = *saved;
}

/* Forgets the journal of a successful batch, releasing what it held. */
static void bt__journal_done(struct btree *bt)
{
	for (size_t i = 0; i < bt->jlen; i++) {
		if (bt->journal[i].kind == J_SAVE)
			bt__spare_image(bt, bt->journal[i].ptr);
		else if (bt->journal[i].kind == J_FREED_DIRTY)
			bt__dirty_release(bt, bt->journal[i].ptr);
	}
	bt->jlen = 0;
}

/* ---- overflow chains ---- */

/* Writes value v into a new chain of overflow pages; *first is its first page. */
static err *bt__overflow_write(struct btree *bt, struct slice v, uint64_t *first)
{
	assert(v.len > 0 && v.len <= KV_VALUE_MAX);
	uint8_t *prev = NULL;
	for (size_t off = 0; off < v.len; off += BT_OVERFLOW_DATA) {
		uint64_t pgno;
		uint8_t *page;
		TRY(bt__new_page(bt, BT_OVERFLOW, &pgno, &page));
		size_t n = v.len - off < BT_OVERFLOW_DATA ? v.len - off : BT_OVERFLOW_DATA;
		memcpy(page + HDR, v.ptr + off, n);
		if (prev)
			store_u64be(prev + 24, pgno);
		else
			*first = pgno;
		prev = page;
	}
	return NULL;
}

/* Reads a value of `len` bytes from the chain starting at page `first` into out. */
static err *bt__overflow_read(struct btree *bt, uint64_t first, size_t len, struct buf *out)
{
	TRY(buf_reserve(out, len));
	uint64_t pgno = first;
	for (size_t off = 0; off < len; off += BT_OVERFLOW_DATA) {
		const uint8_t *p;
		TRY(bt__page_typed(bt, pgno, BT_OVERFLOW, &p));
		size_t n = len - off < BT_OVERFLOW_DATA ? len - off : BT_OVERFLOW_DATA;
		memcpy(out->data + out->len, p + HDR, n);
		out->len += n;
		pgno = pg_extra(p);
	}
	return NULL;
}

static err *bt__overflow_free(struct btree *bt, uint64_t first, size_t len)
{
	uint64_t pgno = first;
	for (size_t off = 0; off < len; off += BT_OVERFLOW_DATA) {
		const uint8_t *p;
		TRY(bt__page_typed(bt, pgno, BT_OVERFLOW, &p));
		uint64_t next = pg_extra(p);
		TRY(bt__free_page(bt, pgno));
		pgno = next;
	}
	return NULL;
}

/* ---- descent, insertion with splits, deletion with merges ---- */

/*
 * The path to the leaf for `key` from a hint, if one still holds and its leaf covers the
 * key (from its first key up to its fence); the leaf's slot is found again.
 */
static bool bt__descend_hinted(struct btree *bt, struct slice key, struct bt_path *path,
                               bool *exact)
{
	for (unsigned h = 0; h < BT_HINTS; h++) {
		const struct bt_hint *hint = &bt->hints[h];
		if (hint->shape != bt->shape)
			continue;
		unsigned leaf = hint->path.depth - 1;
		struct bt_dirty *d = btree_pagemap_get(&bt->dirty, hint->path.pgno[leaf]);
		assert(d != NULL && d->page[12] == BT_LEAF); /* the shape has not changed */
		unsigned n = pg_n(d->page);
		if (n == 0 || key_cmp(key, cell_key(d->page, pg_cell(d->page, 0))) < 0)
			continue;
		if (hint->fenced && key_cmp(key, slice_of(hint->fence, hint->fence_len)) >= 0)
			continue;
		*path = hint->path;
		path->idx[leaf] = pg_lower_bound(d->page, key, exact);
		path->rightmost = hint->above_rightmost && path->idx[leaf] == n;
		return true;
	}
	return false;
}

/* Keeps the path just walked as a hint (its leaf's slot in the same hint if it has one). */
static void bt__hint_keep(struct btree *bt, const struct bt_path *path, bool above_rightmost,
                          const uint8_t *fence, size_t fence_len)
{
	unsigned leaf = path->depth - 1, slot = bt->next_hint;
	for (unsigned h = 0; h < BT_HINTS; h++)
		if (bt->hints[h].shape == bt->shape &&
		    bt->hints[h].path.pgno[bt->hints[h].path.depth - 1] == path->pgno[leaf])
			slot = h;
	if (slot == bt->next_hint)
		bt->next_hint = (bt->next_hint + 1) % BT_HINTS;
	struct bt_hint *hint = &bt->hints[slot];
	hint->shape = bt->shape;
	hint->path = *path;
	hint->above_rightmost = above_rightmost;
	hint->fenced = fence != NULL;
	hint->fence_len = (uint16_t)fence_len;
	if (fence)
		memcpy(hint->fence, fence, fence_len);
}

/*
 * Walks from the root to the leaf for `key`, making every page on the way writable and
 * recording the path (child index per branch level, the lower-bound slot in the leaf);
 * a remembered path that still holds serves instead, and a walked one is remembered.
 */
static err *bt__descend_writable(struct btree *bt, struct slice key, struct bt_path *path,
                                 bool *exact)
{
	assert(bt->st.root != 0);
	if (bt__descend_hinted(bt, key, path, exact))
		return NULL;
	uint64_t pgno;
	uint8_t *page;
	TRY(bt__touch(bt, bt->st.root, &pgno, &page, false));
	bt->st.root = pgno;
	path->depth = 0;
	path->rightmost = true;
	const uint8_t *fence = NULL; /* the tightest separator bounding the subtree on the right */
	size_t fence_len = 0;
	for (;;) {
		if (path->depth == BT_DEPTH_MAX)
			return bt__corrupt(pgno, "tree deeper than the limit");
		path->pgno[path->depth] = pgno;
		if (page[12] == BT_LEAF) {
			bool above_rightmost = path->rightmost;
			path->idx[path->depth++] = pg_lower_bound(page, key, exact);
			path->rightmost =
			    path->rightmost && path->idx[path->depth - 1] == pg_n(page);
			bt__hint_keep(bt, path, above_rightmost, fence, fence_len);
			return NULL;
		}
		if (page[12] != BT_BRANCH)
			return bt__corrupt(pgno, "unexpected page type");
		unsigned j = branch_find(page, key);
		path->idx[path->depth++] = j;
		path->rightmost = path->rightmost && j == pg_n(page);
		uint64_t child = branch_child(page, j), nchild;
		uint8_t *cpage;
		TRY(bt__touch(bt, child, &nchild, &cpage, false));
		if (nchild != child) {
			TRY(bt__modify(bt, pgno, &page));
			branch_set_child(page, j, nchild);
		}
		if (j < pg_n(page)) {
			struct slice sep = cell_key(page, pg_cell(page, j));
			fence = sep.ptr;
			fence_len = sep.len;
		}
		pgno = nchild;
		page = cpage;
	}
}

static size_t make_branch_cell(uint8_t *out, struct slice key, uint64_t child)
{
	assert(key.len > 0 && key.len <= KV_KEY_MAX);
	st16(out, (uint16_t)key.len);
	store_u64be(out + 2, child);
	memcpy(out + BT_BRANCH_CELL_HDR, key.ptr, key.len);
	return BT_BRANCH_CELL_HDR + key.len;
}

/*
 * Inserts `cell` at index idx of the page at path level `level`, splitting it (and its
 * ancestors, and growing a new root) when it does not fit.
 */
static err *bt__insert_cell(struct btree *bt, struct bt_path *path, unsigned level, unsigned idx,
                            const uint8_t *cell, size_t len)
{
	uint8_t *page;
	TRY(bt__modify(bt, path->pgno[level], &page));
	assert(len <= BT_CELL_MAX);
	if (pg_insert_fast(page, idx, cell, len))
		return NULL;
	struct cellref cells[BT_CELLS_MAX];
	size_t n = pg_collect(page, cells);
	memmove(cells + idx + 1, cells + idx, (n - idx) * sizeof *cells);
	cells[idx] = (struct cellref){cell, len};
	n++;
	size_t total = HDR;
	for (size_t i = 0; i < n; i++)
		total += cells[i].len + 2;
	if (total <= PG) {
		pg_rebuild(page, cells, n);
		return NULL;
	}
	bool leaf = page[12] == BT_LEAF;
	/* left gets cells [0, m); a branch pushes cell m up; the right gets the rest */
	size_t m;
	if (path->rightmost && idx == n - 1) {
		m = n - 1; /* appending at the right edge: keep the left page full */
	} else {
		size_t acc = HDR;
		for (m = 0; m < n - 1 && acc + cells[m].len + 2 <= (total + HDR) / 2; m++)
			acc += cells[m].len + 2;
		if (m == 0)
			m = 1;
	}
	assert(m >= 1 && m < n);
	uint8_t sep_cell[BT_BRANCH_CELL_HDR + KV_KEY_MAX];
	uint64_t right_pgno;
	uint8_t *right;
	TRY(bt__new_page(bt, leaf ? BT_LEAF : BT_BRANCH, &right_pgno, &right));
	size_t sep_len = make_branch_cell(sep_cell, cell_key(page, cells[m].p), right_pgno);
	if (leaf) {
		pg_rebuild(right, cells + m, n - m);
	} else {
		store_u64be(right + 24, load_u64be(cells[m].p + 2));
		pg_rebuild(right, cells + m + 1, n - m - 1);
	}
	pg_rebuild(page, cells, m);
	if (level == 0) {
		uint64_t root_pgno;
		uint8_t *root;
		TRY(bt__new_page(bt, BT_BRANCH, &root_pgno, &root));
		store_u64be(root + 24, path->pgno[0]);
		bool fit = pg_insert_fast(root, 0, sep_cell, sep_len);
		assert(fit);
		(void)fit;
		bt->st.root = root_pgno;
		return NULL;
	}
	return bt__insert_cell(bt, path, level - 1, path->idx[level - 1], sep_cell, sep_len);
}

/*
 * After a removal from the page at `level`, merges it with a sibling when it fell below a
 * quarter full and the two fit in one page, then checks the parent the same way; an empty
 * root leaf empties the tree and a root branch with one child is replaced by that child.
 */
static err *bt__rebalance(struct btree *bt, struct bt_path *path, unsigned level)
{
	for (;;) {
		uint8_t *page;
		TRY(bt__modify(bt, path->pgno[level], &page));
		if (level == 0) {
			if (pg_n(page) > 0)
				return NULL;
			uint64_t old = path->pgno[0];
			bt->st.root = page[12] == BT_LEAF ? 0 : pg_extra(page);
			return bt__free_page(bt, old);
		}
		if (pg_n(page) > 0 && pg_used(page) >= BT_MERGE_BELOW)
			return NULL;
		uint8_t *parent;
		TRY(bt__modify(bt, path->pgno[level - 1], &parent));
		unsigned j = path->idx[level - 1], nch = pg_n(parent) + 1;
		if (nch == 1) {
			level--;
			continue;
		}
		unsigned li = j + 1 < nch ? j : j - 1;
		uint64_t lpg = branch_child(parent, li), rpg = branch_child(parent, li + 1);
		uint8_t sep_cell[BT_BRANCH_CELL_HDR + KV_KEY_MAX];
		size_t sep_len = 0;
		const uint8_t *right;
		TRY(bt__page(bt, rpg, &right));
		size_t rused = pg_used(right);
		if (page[12] == BT_BRANCH)
			sep_len = make_branch_cell(sep_cell, cell_key(parent, pg_cell(parent, li)),
			                           pg_extra(right));
		const uint8_t *left_ro;
		TRY(bt__page(bt, lpg, &left_ro));
		size_t lused = pg_used(left_ro);
		if (lused + rused - HDR + (sep_len ? sep_len + 2 : 0) > PG)
			return NULL;
		uint64_t nl;
		uint8_t *left;
		TRY(bt__touch(bt, lpg, &nl, &left, true));
		if (nl != lpg)
			branch_set_child(parent, li, nl);
		TRY(bt__page(bt, rpg, &right)); /* touching may have evicted it */
		struct cellref cells[BT_CELLS_MAX];
		size_t n = pg_collect(left, cells);
		if (sep_len)
			cells[n++] = (struct cellref){sep_cell, sep_len};
		n += pg_collect(right, cells + n);
		assert(n < BT_CELLS_MAX);
		pg_rebuild(left, cells, n);
		TRY(bt__free_page(bt, rpg));
		pg_remove(parent, li);
		level--;
	}
}

static err *bt__put(struct btree *bt, struct slice key, struct slice value)
{
	uint8_t cell[BT_CELL_MAX];
	size_t len = BT_LEAF_CELL_HDR + key.len;
	st16(cell, (uint16_t)key.len);
	store_u32be(cell + 2, (uint32_t)value.len);
	memcpy(cell + BT_LEAF_CELL_HDR, key.ptr, key.len);
	if (len + value.len <= BT_CELL_MAX) {
		cell[6] = 0;
		memcpy(cell + len, value.ptr, value.len);
		len += value.len;
	} else {
		uint64_t first;
		TRY(bt__overflow_write(bt, value, &first));
		cell[6] = 1;
		store_u64be(cell + len, first);
		len += 8;
	}
	if (bt->st.root == 0) {
		uint64_t pgno;
		uint8_t *page;
		TRY(bt__new_page(bt, BT_LEAF, &pgno, &page));
		pg_insert_fast(page, 0, cell, len);
		bt->st.root = pgno;
		bt->st.keys++;
		bt->st.key_bytes += key.len;
		bt->st.value_bytes += value.len;
		return NULL;
	}
	struct bt_path path;
	bool exact;
	TRY(bt__descend_writable(bt, key, &path, &exact));
	unsigned leaf = path.depth - 1, idx = path.idx[leaf];
	uint8_t *page;
	TRY(bt__modify(bt, path.pgno[leaf], &page));
	if (exact) {
		uint8_t *old = (uint8_t *)pg_cell(page, idx);
		size_t old_vlen = load_u32be(old + 2), old_len = cell_size(page, old);
		if (old[6] & 1)
			TRY(bt__overflow_free(bt, load_u64be(old + BT_LEAF_CELL_HDR + key.len),
			                      old_vlen));
		bt->st.value_bytes += value.len - old_vlen;
		if (old_len == len) { /* same size: overwrite the cell where it is */
			memcpy(old, cell, len);
			return NULL;
		}
		bt->st.keys--;
		bt->st.key_bytes -= key.len;
		pg_remove(page, idx);
		bt->st.value_bytes -= value.len;
	}
	TRY(bt__insert_cell(bt, &path, leaf, idx, cell, len));
	bt->st.keys++;
	bt->st.key_bytes += key.len;
	bt->st.value_bytes += value.len;
	return NULL;
}

/* Finds key without changing anything: the leaf cell (valid until the next read) or NULL. */
static err *bt__find(struct btree *bt, struct slice key, const uint8_t **cell)
{
	*cell = NULL;
	uint64_t pgno = bt->st.root;
	for (unsigned depth = 0; pgno != 0; depth++) {
		if (depth == BT_DEPTH_MAX)
			return bt__corrupt(pgno, "tree deeper than the limit");
		const uint8_t *p;
		TRY(bt__page(bt, pgno, &p));
		if (p[12] == BT_LEAF) {
			bool exact;
			unsigned i = pg_lower_bound(p, key, &exact);
			if (exact)
				*cell = pg_cell(p, i);
			return NULL;
		}
		if (p[12] != BT_BRANCH)
			return err_wrap(bt__corrupt(pgno, "unexpected page type"), "%s", bt->path);
		pgno = branch_child(p, branch_find(p, key));
	}
	return NULL;
}

/*
 * Deletes key if present. One descent, which makes the path writable even when the key
 * turns out to be missing: the pages copied then hold what they held (a commit writes
 * them again, nothing changes). Deletes of missing keys are rare (GC and MVCC delete
 * keys they have just seen), so a second, read-only descent first would cost more.
 */
static err *bt__delete(struct btree *bt, struct slice key)
{
	if (bt->st.root == 0)
		return NULL;
	struct bt_path path;
	bool exact;
	TRY(bt__descend_writable(bt, key, &path, &exact));
	if (!exact)
		return NULL;
	unsigned leaf = path.depth - 1;
	uint8_t *page;
	TRY(bt__modify(bt, path.pgno[leaf], &page));
	const uint8_t *c = pg_cell(page, path.idx[leaf]);
	size_t vlen = load_u32be(c + 2);
	if (c[6] & 1)
		TRY(bt__overflow_free(bt, load_u64be(c + BT_LEAF_CELL_HDR + key.len), vlen));
	pg_remove(page, path.idx[leaf]);
	bt->st.keys--;
	bt->st.key_bytes -= key.len;
	bt->st.value_bytes -= vlen;
	return bt__rebalance(bt, &path, leaf);
}

/* ---- kv operations ---- */

static err *bt__usable(const struct btree *bt)
{
	if (bt->failed)
		return err_new(ERR_IO, "b-tree %s: an earlier commit failed; reopen it", bt->path);
	return NULL;
}

static err *bt_get(struct kv *kv, struct slice key, struct buf *out, bool *found)
{
	struct btree *bt = (struct btree *)kv;
	TRY(bt__usable(bt));
	TRY(kv_check_key(key));
	const uint8_t *c;
	TRY(bt__find(bt, key, &c));
	*found = c != NULL;
	if (!c)
		return NULL;
	buf_clear(out);
	size_t vlen = load_u32be(c + 2);
	if (c[6] & 1)
		return bt__overflow_read(bt, load_u64be(c + BT_LEAF_CELL_HDR + key.len), vlen, out);
	return buf_append(out, c + BT_LEAF_CELL_HDR + key.len, vlen);
}

static err *bt_apply(struct kv *kv, const struct kv_batch *batch)
{
	struct btree *bt = (struct btree *)kv;
	TRY(bt__usable(bt));
	assert(bt->jlen == 0);
	bt->iter_gen++;
	bt->gen++;
	struct bt_state saved = bt->st;
	struct kv_batch_cursor cur;
	kv_batch_cursor_init(&cur, batch);
	enum kv_op op;
	struct slice key, value;
	err *e = NULL;
	while (!e && kv_batch_next(&cur, &op, &key, &value)) {
		e = kv_check_key(key);
		if (!e && op == KV_PUT)
			e = kv_check_value(value);
		if (!e)
			e = op == KV_PUT ? bt__put(bt, key, value) : bt__delete(bt, key);
	}
	if (e) {
		bt__rollback(bt, &saved);
		return err_wrap(e, "b-tree %s: batch not applied", bt->path);
	}
	bt__journal_done(bt);
	return NULL;
}

static void bt__write_meta(const struct btree *bt, uint8_t *p, uint64_t txn)
{
	memset(p, 0, PG);
	pg_init(p, txn & 1, BT_META);
	uint8_t *m = p + HDR;
	store_u64be(m, BT_MAGIC);
	store_u32be(m + 8, BT_VERSION);
	store_u32be(m + 12, PG);
	store_u64be(m + 16, txn);
	store_u64be(m + 24, bt->st.root);
	store_u64be(m + 32, bt->st.page_count);
	store_u64be(m + 40, bt->fl_head);
	store_u64be(m + 48, bt->fl_count);
	store_u64be(m + 56, bt->st.keys);
	store_u64be(m + 64, bt->st.key_bytes);
	store_u64be(m + 72, bt->st.value_bytes);
	st16(m + 80, (uint16_t)bt->user_meta_len);
	memcpy(m + 82, bt->user_meta, bt->user_meta_len);
	pg_seal(p);
}

/* Consecutive dirty pages are written with one call of up to this many pages. */
#define BT_WRITE_RUN 64

/*
 * Writes every dirty page in page order, runs of consecutive page numbers in one write
 * each (fewer system calls), and moves the pages into the cache.
 */
static err *bt__flush_dirty(struct btree *bt)
{
	struct u64vec order = {0};
	err *e = NULL;
	for (size_t i = 0; !e && i < bt->dirty.cap; i++)
		if (bt->dirty.keys[i] != 0)
			e = vec_push(&order, bt->dirty.keys[i]);
	if (!e && !bt->run) {
		bt->run = malloc(BT_WRITE_RUN * PG);
		if (!bt->run)
			e = err_new(ERR_NOMEM, "b-tree: out of memory");
	}
	uint8_t *run = bt->run;
	/* descending, walked from the back: ascending page order on disk */
	vec_sort_desc(&order);
	size_t run_len = 0;
	uint64_t run_start = 0;
	for (size_t i = order.len; !e && i-- > 0;) {
		uint64_t pgno = order.v[i];
		struct bt_dirty *d = btree_pagemap_get(&bt->dirty, pgno);
		pg_seal(d->page);
		if (run_len > 0 && (pgno != run_start + run_len || run_len == BT_WRITE_RUN)) {
			e = vfs_write(bt->file, run_start * PG, run, run_len * PG);
			run_len = 0;
		}
		if (run_len == 0)
			run_start = pgno;
		memcpy(run + run_len * PG, d->page, PG);
		run_len++;
	}
	if (!e && run_len > 0)
		e = vfs_write(bt->file, run_start * PG, run, run_len * PG);
	for (size_t i = 0; !e && i < order.len; i++) {
		struct bt_dirty *d = btree_pagemap_del(&bt->dirty, order.v[i]);
		uint8_t *slot;
		e = btree_cache_insert(&bt->cache, order.v[i], &slot);
		if (!e)
			memcpy(slot, d->page, PG);
		bt__dirty_release(bt, d);
	}
	free(order.v);
	return e;
}

/*
 * Stores the free list for the next meta page: every ready and pending page plus the old
 * list's own pages, in a chain of pages taken from the ready ones (or the end of the file).
 * On success bt->ready holds every free page and pending is empty, as they will be once
 * the meta page is durable.
 */
static err *bt__write_freelist(struct btree *bt)
{
	for (size_t i = 0; i < bt->fl_pages.len; i++)
		TRY(vec_push(&bt->pending, bt->fl_pages.v[i]));
	bt->fl_pages.len = 0;
	struct u64vec chain = {0};
	err *e = NULL;
	/* take chain pages from the low end of ready until the rest fits in the chain */
	vec_sort_desc(&bt->ready);
	while (!e && chain.len * BT_FREELIST_PER_PAGE < bt->ready.len + bt->pending.len) {
		uint64_t pgno;
		if (bt->ready.len > 0)
			pgno = bt->ready.v[--bt->ready.len];
		else
			pgno = bt->st.page_count++;
		e = vec_push(&chain, pgno);
	}
	for (size_t i = 0; !e && i < bt->pending.len; i++)
		e = vec_push(&bt->ready, bt->pending.v[i]);
	if (e) {
		free(chain.v);
		return e;
	}
	bt->pending.len = 0;
	vec_sort_desc(&bt->ready);
	size_t next = 0;
	for (size_t c = 0; !e && c < chain.len; c++) {
		uint8_t page[PG];
		pg_init(page, chain.v[c], BT_FREELIST);
		store_u64be(page + 24, c + 1 < chain.len ? chain.v[c + 1] : 0);
		size_t k = 0;
		for (; k < BT_FREELIST_PER_PAGE && next < bt->ready.len; k++, next++)
			store_u64be(page + HDR + 8 * k, bt->ready.v[next]);
		st16(page + 14, (uint16_t)k);
		pg_seal(page);
		e = vfs_write(bt->file, chain.v[c] * PG, page, PG);
	}
	assert(e || next == bt->ready.len);
	bt->fl_head = chain.len ? chain.v[0] : 0;
	bt->fl_count = bt->ready.len;
	free(bt->fl_pages.v);
	bt->fl_pages = chain;
	return e;
}

static err *bt_commit(struct kv *kv, struct slice meta, bool sync)
{
	struct btree *bt = (struct btree *)kv;
	TRY(bt__usable(bt));
	if (meta.len > KV_META_MAX)
		return err_new(ERR_LIMIT, "commit metadata of %zu bytes exceeds %d", meta.len,
		               KV_META_MAX);
	bt->iter_gen++;
	bt->shape++; /* the dirty pages become clean: the next change copies them */
	memcpy(bt->user_meta, meta.ptr, meta.len);
	bt->user_meta_len = meta.len;
	err *e = bt__flush_dirty(bt);
	if (!e && sync) {
		uint8_t page[PG];
		e = bt__write_freelist(bt);
		if (!e)
			e = vfs_sync(bt->file);
		if (!e) {
			bt__write_meta(bt, page, bt->txn + 1);
			e = vfs_write(bt->file, ((bt->txn + 1) & 1) * PG, page, PG);
		}
		if (!e)
			e = vfs_sync(bt->file);
		if (!e)
			bt->txn++;
	}
	if (e) {
		bt->failed = true;
		return err_wrap(e, "b-tree %s: commit failed", bt->path);
	}
	bt->commits++;
	return NULL;
}

static err *bt_meta(struct kv *kv, struct buf *out)
{
	struct btree *bt = (struct btree *)kv;
	buf_clear(out);
	return buf_append(out, bt->user_meta, bt->user_meta_len);
}

static err *bt_stats(struct kv *kv, struct kv_stats *out)
{
	struct btree *bt = (struct btree *)kv;
	TRY(bt__usable(bt));
	memset(out, 0, sizeof *out);
	out->keys = bt->st.keys;
	out->key_bytes = bt->st.key_bytes;
	out->value_bytes = bt->st.value_bytes;
	out->pages = bt->st.page_count;
	out->free_pages = bt->ready.len + bt->pending.len;
	out->commits = bt->commits;
	return vfs_size(bt->file, &out->file_bytes);
}

struct bt_iter;
static void bt__iter_free(struct bt_iter *it);

static void bt_close(struct kv *kv)
{
	struct btree *bt = (struct btree *)kv;
	assert(bt->jlen == 0);
	for (size_t i = 0; i < bt->dirty.cap; i++)
		if (bt->dirty.keys[i] != 0)
			free(bt->dirty.vals[i]);
	btree_pagemap_free(&bt->dirty);
	btree_cache_free(&bt->cache);
	vfs_close(bt->file);
	free(bt->fl_pages.v);
	free(bt->ready.v);
	free(bt->pending.v);
	free(bt->journal);
	while (bt->n_spare > 0)
		free(bt->spare[--bt->n_spare]);
	while (bt->n_spare_dirty > 0)
		free(bt->spare_dirty[--bt->n_spare_dirty]);
	free(bt->run);
	bt__iter_free(bt->spare_iter);
	free(bt);
}

/* ---- iterators ---- */

struct bt_iter {
	struct kv_iter base;
	struct btree *bt;
	uint64_t gen;
	bool reverse, done, positioned;
	struct buf from, to;
	bool has_from, has_to;
	uint64_t pgno[BT_DEPTH_MAX];
	int idx[BT_DEPTH_MAX];
	unsigned depth;
	struct buf key, value;
};

/* Descends from level `it->depth - 1`'s current child to a leaf, at its first or last. */
static err *bt__iter_descend(struct bt_iter *it, const struct slice *target)
{
	for (;;) {
		unsigned d = it->depth - 1;
		const uint8_t *p;
		TRY(bt__page(it->bt, it->pgno[d], &p));
		if (p[12] == BT_LEAF) {
			if (target) {
				bool exact;
				int i = (int)pg_lower_bound(p, *target, &exact);
				it->idx[d] = it->reverse ? i - 1 : i;
			} else {
				it->idx[d] = it->reverse ? (int)pg_n(p) - 1 : 0;
			}
			return NULL;
		}
		if (p[12] != BT_BRANCH)
			return bt__corrupt(it->pgno[d], "unexpected page type");
		if (it->depth == BT_DEPTH_MAX)
			return bt__corrupt(it->pgno[d], "tree deeper than the limit");
		unsigned j = target ? branch_find(p, *target) : (it->reverse ? pg_n(p) : 0);
		it->idx[d] = (int)j;
		it->pgno[it->depth++] = branch_child(p, j);
	}
}

/* Moves to the next leaf (or previous, in reverse) when the leaf position ran off. */
static err *bt__iter_settle(struct bt_iter *it)
{
	for (uint64_t leaves = 0;; leaves++) {
		unsigned d = it->depth - 1;
		if (leaves > it->bt->st.page_count)
			return bt__corrupt(it->pgno[d], "iteration visits more leaves than pages");
		const uint8_t *p;
		TRY(bt__page(it->bt, it->pgno[d], &p));
		if (it->idx[d] >= 0 && it->idx[d] < (int)pg_n(p))
			return NULL;
		/* climb to the nearest level with a sibling in our direction */
		for (;;) {
			if (it->depth == 1) {
				it->done = true;
				return NULL;
			}
			it->depth--;
			unsigned b = it->depth - 1;
			TRY(bt__page(it->bt, it->pgno[b], &p));
			int next = it->idx[b] + (it->reverse ? -1 : 1);
			if (next >= 0 && next <= (int)pg_n(p)) {
				it->idx[b] = next;
				it->pgno[it->depth++] = branch_child(p, (unsigned)next);
				break;
			}
		}
		TRY(bt__iter_descend(it, NULL));
	}
}

static err *bt_iter_next(struct kv_iter *base, struct slice *key, struct slice *value, bool *done)
{
	struct bt_iter *it = (struct bt_iter *)base;
	struct btree *bt = it->bt;
	assert(it->gen == bt->iter_gen); /* no apply or commit since the iterator opened */
	TRY(bt__usable(bt));
	if (!it->positioned && !it->done) {
		it->positioned = true;
		if (bt->st.root == 0) {
			it->done = true;
		} else {
			it->depth = 1;
			it->pgno[0] = bt->st.root;
			struct slice from = buf_slice(&it->from), to = buf_slice(&it->to);
			const struct slice *target =
			    it->reverse ? (it->has_to ? &to : NULL) : (it->has_from ? &from : NULL);
			TRY(bt__iter_descend(it, target));
		}
	}
	if (!it->done)
		TRY(bt__iter_settle(it));
	if (it->done) {
		*done = true;
		return NULL;
	}
	unsigned d = it->depth - 1;
	const uint8_t *p;
	TRY(bt__page(bt, it->pgno[d], &p));
	const uint8_t *c = pg_cell(p, (unsigned)it->idx[d]);
	struct slice k = cell_key(p, c);
	if ((!it->reverse && it->has_to && key_cmp(k, buf_slice(&it->to)) >= 0) ||
	    (it->reverse && it->has_from && key_cmp(k, buf_slice(&it->from)) < 0)) {
		it->done = true;
		*done = true;
		return NULL;
	}
	size_t vlen = load_u32be(c + 2);
	if (c[6] & 1) {
		buf_clear(&it->key);
		buf_clear(&it->value);
		TRY(buf_append(&it->key, k.ptr, k.len));
		TRY(bt__overflow_read(bt, load_u64be(c + BT_LEAF_CELL_HDR + k.len), vlen,
		                      &it->value));
		*key = buf_slice(&it->key);
		*value = buf_slice(&it->value);
	} else {
		*key = k;
		*value = slice_of(c + BT_LEAF_CELL_HDR + k.len, vlen);
	}
	it->idx[d] += it->reverse ? -1 : 1;
	*done = false;
	return NULL;
}

static void bt__iter_free(struct bt_iter *it)
{
	if (!it)
		return;
	buf_free(&it->from);
	buf_free(&it->to);
	buf_free(&it->key);
	buf_free(&it->value);
	free(it);
}

/* Keeps the iterator as the tree's spare (a point read opens and closes one each time). */
static void bt_iter_close(struct kv_iter *base)
{
	struct bt_iter *it = (struct bt_iter *)base;
	if (it->bt->spare_iter) {
		bt__iter_free(it);
		return;
	}
	it->bt->spare_iter = it;
}

static const struct kv_iter_ops bt_iter_ops = {
    .next = bt_iter_next,
    .close = bt_iter_close,
};

static err *bt_iter_open(struct kv *kv, const struct slice *from, const struct slice *to,
                         bool reverse, struct kv_iter **out)
{
	struct btree *bt = (struct btree *)kv;
	TRY(bt__usable(bt));
	struct bt_iter *it = bt->spare_iter;
	if (it) {
		bt->spare_iter = NULL;
		struct buf kept[4] = {it->from, it->to, it->key, it->value};
		memset(it, 0, sizeof *it);
		it->from = kept[0];
		it->to = kept[1];
		it->key = kept[2];
		it->value = kept[3];
		buf_clear(&it->from);
		buf_clear(&it->to);
		buf_clear(&it->key);
		buf_clear(&it->value);
	} else {
		it = calloc(1, sizeof *it);
		if (!it)
			return err_new(ERR_NOMEM, "b-tree: out of memory");
		buf_init(&it->from, KV_KEY_MAX);
		buf_init(&it->to, KV_KEY_MAX);
		buf_init(&it->key, KV_KEY_MAX);
		buf_init(&it->value, KV_VALUE_MAX);
	}
	it->base.ops = &bt_iter_ops;
	it->bt = bt;
	it->gen = bt->iter_gen;
	it->reverse = reverse;
	err *e = NULL;
	if (from) {
		it->has_from = true;
		e = buf_append(&it->from, from->ptr, from->len);
	}
	if (to && !e) {
		it->has_to = true;
		e = buf_append(&it->to, to->ptr, to->len);
	}
	if (e) {
		bt_iter_close(&it->base);
		return err_wrap(e, "b-tree: range bound");
	}
	if (from && to && key_cmp(*from, *to) >= 0)
		it->done = true; /* an empty range */
	*out = &it->base;
	return NULL;
}

static const struct kv_ops bt_ops = {
    .name = "btree",
    .get = bt_get,
    .apply = bt_apply,
    .commit = bt_commit,
    .meta = bt_meta,
    .iter_open = bt_iter_open,
    .stats = bt_stats,
    .close = bt_close,
};

/* ---- open ---- */

/* The fields of a meta page. */
struct bt_meta {
	uint64_t txn, fl_head, fl_count;
	struct bt_state st;
	uint8_t user[KV_META_MAX];
	size_t user_len;
};

/* Reads of a meta page that fails its checksum are retried this often before it is given up. */
#define BT_META_READS 3

/*
 * Parses meta page `slot`; *valid says whether it passed every check. A meta page that
 * fails its checksum is read again: a flip on the way from the disk must not make the
 * engine fall back to the older meta page (a torn meta page fails every time).
 */
static err *bt__read_meta(struct btree *bt, unsigned slot, struct bt_meta *out, bool *valid)
{
	uint8_t p[PG];
	*valid = false;
	bool sound = false;
	for (int attempt = 0; !sound && attempt < BT_META_READS; attempt++) {
		TRY(vfs_read_exact(bt->file, (uint64_t)slot * PG, p, PG));
		sound = load_u32be(p) == checksum32(p + 4, PG - 4);
	}
	if (!sound || load_u64be(p + 4) != slot || p[12] != BT_META)
		return NULL;
	const uint8_t *m = p + HDR;
	if (load_u64be(m) == BT_MAGIC && load_u32be(m + 8) != BT_VERSION)
		return err_new(ERR_INVALID,
		               "%s: b-tree format version %u; this build reads version %u only",
		               bt->path, (unsigned)load_u32be(m + 8), (unsigned)BT_VERSION);
	if (load_u64be(m) != BT_MAGIC || load_u32be(m + 12) != PG)
		return NULL;
	out->txn = load_u64be(m + 16);
	out->st.root = load_u64be(m + 24);
	out->st.page_count = load_u64be(m + 32);
	out->fl_head = load_u64be(m + 40);
	out->fl_count = load_u64be(m + 48);
	out->st.keys = load_u64be(m + 56);
	out->st.key_bytes = load_u64be(m + 64);
	out->st.value_bytes = load_u64be(m + 72);
	out->user_len = ld16(m + 80);
	const struct bt_state *st = &out->st;
	if (st->page_count < 2 || st->page_count > BT_PAGES_MAX || st->root >= st->page_count ||
	    st->root == 1 || out->fl_head >= st->page_count || out->fl_head == 1 ||
	    out->user_len > KV_META_MAX || (out->txn & 1) != slot)
		return NULL;
	memcpy(out->user, m + 82, out->user_len);
	*valid = true;
	return NULL;
}

/* Loads the durable free list into bt->ready and its chain pages into bt->fl_pages. */
static err *bt__load_freelist(struct btree *bt)
{
	uint64_t pgno = bt->fl_head;
	while (pgno != 0) {
		if (bt->fl_pages.len >= bt->st.page_count)
			return bt__corrupt(pgno, "free-list chain loops");
		const uint8_t *p;
		TRY(bt__page_typed(bt, pgno, BT_FREELIST, &p));
		unsigned n = pg_n(p);
		for (unsigned i = 0; i < n; i++) {
			uint64_t f = load_u64be(p + HDR + 8 * i);
			if (f < 2 || f >= bt->st.page_count)
				return bt__corrupt(pgno, "free page number out of range");
			TRY(vec_push(&bt->ready, f));
		}
		TRY(vec_push(&bt->fl_pages, pgno));
		uint64_t next = pg_extra(p);
		btree_cache_drop(&bt->cache, pgno); /* will be rewritten, no need to keep */
		pgno = next;
	}
	if (bt->ready.len != bt->fl_count)
		return bt__corrupt(bt->fl_head, "free-list count disagrees with the meta page");
	vec_sort_desc(&bt->ready);
	return NULL;
}

/* Writes both meta pages of an empty tree and syncs. */
static err *bt__format(struct btree *bt)
{
	memset(&bt->st, 0, sizeof bt->st);
	bt->st.page_count = 2;
	uint8_t p[PG];
	for (uint64_t txn = 0; txn < 2; txn++) {
		bt__write_meta(bt, p, txn);
		TRY(vfs_write(bt->file, txn * PG, p, PG));
	}
	TRY(vfs_sync(bt->file));
	bt->txn = 1;
	return NULL;
}

/* Opens the file: formats an empty one, else adopts the newest valid meta page. */
static err *bt__open_file(struct btree *bt)
{
	uint64_t size;
	TRY(vfs_size(bt->file, &size));
	struct bt_meta meta[2];
	bool valid[2] = {false, false};
	if (size < 2 * PG) {
		/*
		 * Never committed: a crash during creation leaves at most this, a prefix of the
		 * meta pages bt__format() writes (or zeros). Anything else is not ours to
		 * format over: a damaged or foreign file.
		 */
		if (size >= PG)
			TRY(bt__read_meta(bt, 0, &meta[0], &valid[0]));
		if (valid[0] && meta[0].txn > 0)
			return err_new(ERR_CORRUPT, "%s: file truncated", bt->path);
		uint8_t head[8] = {0}, magic[8], zeros[8] = {0};
		size_t n = size < sizeof head ? (size_t)size : sizeof head;
		if (n > 0)
			TRY(vfs_read_exact(bt->file, 0, head, n));
		store_u64be(magic, BT_MAGIC);
		if (!valid[0] && memcmp(head, magic, n) != 0 && memcmp(head, zeros, n) != 0)
			return err_new(
			    ERR_CORRUPT,
			    "%s: %llu bytes that are not a b-tree of cairn's (no meta page); "
			    "not formatting over them",
			    bt->path, (unsigned long long)size);
		return bt__format(bt);
	}
	TRY(bt__read_meta(bt, 0, &meta[0], &valid[0]));
	TRY(bt__read_meta(bt, 1, &meta[1], &valid[1]));
	if (!valid[0] && !valid[1])
		return err_new(ERR_CORRUPT, "%s: no valid meta page (pages 0 and 1)", bt->path);
	const struct bt_meta *m =
	    !valid[0] || (valid[1] && meta[1].txn > meta[0].txn) ? &meta[1] : &meta[0];
	bt->txn = m->txn;
	bt->st = m->st;
	bt->fl_head = m->fl_head;
	bt->fl_count = m->fl_count;
	bt->user_meta_len = m->user_len;
	memcpy(bt->user_meta, m->user, m->user_len);
	return bt__load_freelist(bt);
}

err *btree_open(struct vfs *vfs, const char *path, const struct btree_options *opts,
                struct kv **out)
{
	assert(vfs != NULL && path != NULL && out != NULL);
	if (strlen(path) >= VFS_PATH_MAX)
		return err_new(ERR_LIMIT, "b-tree path too long");
	struct btree *bt = calloc(1, sizeof *bt);
	if (!bt)
		return err_new(ERR_NOMEM, "b-tree: out of memory");
	bt->kv.ops = &bt_ops;
	bt->shape = 1; /* no hint matches: theirs are 0 */
	strcpy(bt->path, path);
	btree_pagemap_init(&bt->dirty);
	size_t cache = opts && opts->cache_bytes ? opts->cache_bytes : BTREE_DEFAULT_CACHE_BYTES;
	err *e = btree_cache_init(&bt->cache, cache);
	if (e) {
		free(bt);
		return e;
	}
	e = vfs_open(vfs, path, VFS_CREATE, &bt->file);
	if (!e)
		e = bt__open_file(bt);
	if (e) {
		bt_close(&bt->kv);
		return err_wrap(e, "opening b-tree");
	}
	*out = &bt->kv;
	return NULL;
}

/* ---- verification ---- */

struct bt_verify {
	uint8_t *seen; /* one bit per page */
	uint64_t keys;
	int leaf_depth;
	struct buf prev; /* the last key seen, for the global order */
	bool have_prev;
};

static err *bt__mark(struct btree *bt, struct bt_verify *v, uint64_t pgno, const char *what)
{
	if (pgno < 2 || pgno >= bt->st.page_count)
		return err_new(ERR_CORRUPT, "%s page %llu out of range", what,
		               (unsigned long long)pgno);
	if (v->seen[pgno / 8] & (1u << (pgno % 8)))
		return err_new(ERR_CORRUPT, "%s page %llu is used twice", what,
		               (unsigned long long)pgno);
	v->seen[pgno / 8] |= (uint8_t)(1u << (pgno % 8));
	return NULL;
}

static err *bt__verify_node(struct btree *bt, struct bt_verify *v, uint64_t pgno, int depth)
{
	if (depth >= BT_DEPTH_MAX)
		return bt__corrupt(pgno, "tree deeper than the limit");
	TRY(bt__mark(bt, v, pgno, "tree"));
	const uint8_t *src;
	TRY(bt__page(bt, pgno, &src));
	uint8_t *p = malloc(PG); /* a private copy: reading children may evict the page */
	if (!p)
		return err_new(ERR_NOMEM, "b-tree verify: out of memory");
	memcpy(p, src, PG);
	err *e = bt__check_page(p, pgno);
	if (!e && p[12] == BT_LEAF) {
		if (v->leaf_depth < 0)
			v->leaf_depth = depth;
		if (depth != v->leaf_depth)
			e = bt__corrupt(pgno, "leaves at different depths");
		for (unsigned i = 0; !e && i < pg_n(p); i++) {
			const uint8_t *c = pg_cell(p, i);
			struct slice k = cell_key(p, c);
			if (v->have_prev && key_cmp(buf_slice(&v->prev), k) >= 0)
				e = bt__corrupt(pgno, "keys out of order");
			buf_clear(&v->prev);
			if (!e)
				e = buf_append(&v->prev, k.ptr, k.len);
			v->have_prev = true;
			v->keys++;
			uint64_t ovf = (c[6] & 1) ? load_u64be(c + BT_LEAF_CELL_HDR + k.len) : 0;
			for (size_t off = 0; !e && ovf && off < load_u32be(c + 2);
			     off += BT_OVERFLOW_DATA) {
				const uint8_t *o;
				e = bt__mark(bt, v, ovf, "overflow");
				if (!e)
					e = bt__page_typed(bt, ovf, BT_OVERFLOW, &o);
				if (!e)
					ovf = pg_extra(o);
			}
		}
	} else if (!e && p[12] == BT_BRANCH) {
		for (unsigned i = 0; !e && i <= pg_n(p); i++) {
			e = bt__verify_node(bt, v, branch_child(p, i), depth + 1);
			/* everything left of separator i is below it, everything after at or above */
			if (!e && i < pg_n(p) && v->have_prev &&
			    key_cmp(buf_slice(&v->prev), cell_key(p, pg_cell(p, i))) >= 0)
				e = bt__corrupt(pgno, "separator not above its left subtree");
		}
	} else if (!e) {
		e = bt__corrupt(pgno, "unexpected page type in the tree");
	}
	free(p);
	return e;
}

err *btree_verify(struct kv *kv)
{
	struct btree *bt = (struct btree *)kv;
	assert(kv->ops == &bt_ops);
	TRY(bt__usable(bt));
	struct bt_verify v = {.leaf_depth = -1};
	v.seen = calloc((size_t)(bt->st.page_count / 8 + 1), 1);
	if (!v.seen)
		return err_new(ERR_NOMEM, "b-tree verify: out of memory");
	buf_init(&v.prev, KV_KEY_MAX);
	err *e = bt->st.root ? bt__verify_node(bt, &v, bt->st.root, 0) : NULL;
	if (!e && v.keys != bt->st.keys)
		e = err_new(ERR_CORRUPT, "tree holds %llu keys, the meta page says %llu",
		            (unsigned long long)v.keys, (unsigned long long)bt->st.keys);
	const struct u64vec *lists[] = {&bt->ready, &bt->pending, &bt->fl_pages};
	for (size_t l = 0; l < 3; l++)
		for (size_t i = 0; !e && i < lists[l]->len; i++)
			e = bt__mark(bt, &v, lists[l]->v[i], "free");
	for (uint64_t pg = 2; !e && pg < bt->st.page_count; pg++)
		if (!(v.seen[pg / 8] & (1u << (pg % 8))))
			e = err_new(ERR_CORRUPT, "page %llu is lost: neither in the tree nor free",
			            (unsigned long long)pg);
	buf_free(&v.prev);
	free(v.seen);
	return e ? err_wrap(e, "b-tree %s", bt->path) : NULL;
}

void btree_cache_counts(struct kv *kv, uint64_t *hits, uint64_t *misses)
{
	struct btree *bt = (struct btree *)kv;
	assert(kv->ops == &bt_ops);
	*hits = bt->cache.hits;
	*misses = bt->cache.misses;
}
