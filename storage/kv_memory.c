/*
 * kv_memory.c — the memory KV engine, a skip list.
 *
 * A skip list is a sorted linked list with express lanes: every node is on level 0, about
 * a quarter of them also on level 1, a sixteenth on level 2, and so on. A search starts on
 * the highest lane and drops a level whenever the next node would overshoot, so it visits
 * O(log n) nodes. Level 0 is also linked backwards, which gives reverse scans for free.
 *
 * Why a skip list rather than a balanced tree: inserts and deletes touch only the
 * neighbours on each lane, there is no rebalancing to get wrong, and the code is short.
 * The price is randomness in the node heights; we draw them from a PRNG seeded with a
 * constant, so two engines fed the same batches have the same shape.
 *
 * Each node is one allocation: links, then the key bytes, then the value bytes. A batch is
 * applied in two passes: the first allocates a node for every put (the only step that can
 * fail), the second links and unlinks nodes and cannot fail. That is what makes kv_apply()
 * all-or-nothing.
 *
 * Accesses mostly come in ascending key order (MVCC applies a commit's keys sorted, a
 * transaction flushes its writes sorted, a load checks and appends rising keys). The
 * engine keeps a finger: the key of its last seek and that key's predecessors on every
 * level. A seek for a key above the finger's descends from the finger instead of from the
 * head, which for the next key costs about one comparison per level instead of several.
 */
#include "storage/kv_memory.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/prng.h"

/* With a 1-in-4 chance per extra level, 16 levels serve 4^16 (four billion) keys well. */
#define KVMEM__MAX_HEIGHT 16
/* Batches of at most this many operations keep their node array on the stack. */
#define KVMEM__FEW_OPS 16
/* The constant the level generator is seeded with: the same shape on every run. */
#define KVMEM__LEVEL_SEED 0x6b766d656d6c766cULL
/*
 * Keys up to this long leave the finger at them; a longer one seeks from the head next
 * time. It keeps struct kvmem under 1 KiB: every read-write transaction opens one for its
 * writes, and glibc serves a larger request only after merging its small-chunk caches.
 */
#define KVMEM__FINGER_KEY_MAX 256

struct kvmem__node {
	struct kvmem__node *prev; /* level 0 backwards; the head for the first node */
	uint32_t key_len;
	uint32_t value_len;
	uint32_t height;
	struct kvmem__node *next[]; /* height links, then key bytes, then value bytes */
};

struct kvmem {
	struct kv base;
	struct kvmem__node *head; /* a sentinel of full height holding no key */
	uint32_t height;          /* levels in use: 1..KVMEM__MAX_HEIGHT */
	struct prng levels;
	uint64_t generation; /* bumped by every apply and commit; iterators check it */
	uint32_t open_iters;
	struct kv_stats stats;
	struct buf meta;
	/*
	 * the finger: the last key sought and on every level a node below or at that key, no
	 * earlier than the last node below it (the head if none); valid when finger_len > 0
	 */
	struct kvmem__node *finger[KVMEM__MAX_HEIGHT];
	uint32_t finger_len;
	uint8_t finger_key[KVMEM__FINGER_KEY_MAX];
};

struct kvmem__iter {
	struct kv_iter base;
	struct kvmem *kv;
	uint64_t generation;    /* the engine's generation when opened */
	struct kvmem__node *at; /* the next node to return; NULL when exhausted */
	/*
	 * The first node past the range in the iterator's direction (NULL: none, run to the
	 * end), found once at open: the list cannot change while the iterator lives, so no
	 * key needs comparing with the bound on the way
	 */
	struct kvmem__node *stop;
	bool reverse;
};

static const struct kv_ops kvmem__ops;
static const struct kv_iter_ops kvmem__iter_ops;

/* ---- nodes ---- */

static uint8_t *kvmem__key_ptr(struct kvmem__node *n)
{
	return (uint8_t *)&n->next[n->height];
}

static struct slice kvmem__key(struct kvmem__node *n)
{
	return slice_of(kvmem__key_ptr(n), n->key_len);
}

static struct slice kvmem__value(struct kvmem__node *n)
{
	return slice_of(kvmem__key_ptr(n) + n->key_len, n->value_len);
}

/*
 * Compares node x's key with key, as slice_cmp. Keys of one store share long prefixes
 * (MVCC and SQL keys start with the same tags), so most comparisons are decided past the
 * first bytes: memcmp does that part, the common short cases stay inline.
 */
static inline int kvmem__cmp(const struct kvmem__node *x, struct slice key)
{
	const uint8_t *a = (const uint8_t *)&x->next[x->height];
	size_t n = x->key_len < key.len ? x->key_len : key.len;
	int c = n ? memcmp(a, key.ptr, n) : 0;
	if (c)
		return c;
	return (x->key_len > key.len) - (x->key_len < key.len);
}

/* Draws a height: 1, then each further level with probability 1/4. */
static uint32_t kvmem__random_height(struct kvmem *kv)
{
	uint64_t bits = prng_next(&kv->levels);
	uint32_t h = 1;
	while (h < KVMEM__MAX_HEIGHT && (bits & 3) == 0) {
		h++;
		bits >>= 2;
	}
	assert(h >= 1 && h <= KVMEM__MAX_HEIGHT);
	return h;
}

/* Allocates an unlinked node holding copies of key and value; NULL when out of memory. */
static struct kvmem__node *kvmem__node_new(uint32_t height, struct slice key, struct slice value)
{
	assert(height >= 1 && height <= KVMEM__MAX_HEIGHT);
	assert(key.len <= KV_KEY_MAX && value.len <= KV_VALUE_MAX);
	size_t size = sizeof(struct kvmem__node) + height * sizeof(struct kvmem__node *) + key.len +
	              value.len;
	struct kvmem__node *n = malloc(size);
	if (!n)
		return NULL;
	n->prev = NULL;
	n->key_len = (uint32_t)key.len;
	n->value_len = (uint32_t)value.len;
	n->height = height;
	for (uint32_t l = 0; l < height; l++)
		n->next[l] = NULL;
	if (key.len)
		memcpy(kvmem__key_ptr(n), key.ptr, key.len);
	if (value.len)
		memcpy(kvmem__key_ptr(n) + key.len, value.ptr, value.len);
	return n;
}

/* kvmem__seek, descending from the head. */
static struct kvmem__node *kvmem__seek_head(struct kvmem *kv, struct slice key,
                                            struct kvmem__node **preds)
{
	assert(kv->height >= 1 && kv->height <= KVMEM__MAX_HEIGHT);
	struct kvmem__node *x = kv->head;
	for (uint32_t l = KVMEM__MAX_HEIGHT; l-- > kv->height;)
		preds[l] = kv->head;
	/* the node that stopped the walk one level up is >= key: no need to compare it again */
	const struct kvmem__node *stop = NULL;
	for (uint32_t l = kv->height; l-- > 0;) {
		struct kvmem__node *next;
		while ((next = x->next[l]) && next != stop && kvmem__cmp(next, key) < 0)
			x = next;
		stop = next;
		preds[l] = x;
	}
	assert(preds[0] == kv->head || slice_cmp(kvmem__key(preds[0]), key) < 0);
	return x->next[0];
}

/*
 * kvmem__seek_head for a key above the finger's key f, descending from the finger. F[l]
 * is the last node on level l below f, or (after an insert of f) the one at f; either way
 * below key. Why it is exact: walking level l+1 either stayed at F[l+1], which is at or
 * before F[l] (on a lower level the last such node is never earlier), so level l may start
 * at F[l]; or it moved to some node y >= f, which is at or after F[l], so level l
 * continues from y.
 */
static struct kvmem__node *kvmem__seek_from_finger(struct kvmem *kv, struct slice key,
                                                   struct kvmem__node **preds)
{
	assert(kv->finger_len > 0);
	struct kvmem__node *x = kv->head;
	bool moved = false;
	const struct kvmem__node *stop = NULL;
	for (uint32_t l = KVMEM__MAX_HEIGHT; l-- > kv->height;)
		preds[l] = kv->head; /* empty levels: the finger is the head there too */
	for (uint32_t l = kv->height; l-- > 0;) {
		if (!moved)
			x = kv->finger[l];
		struct kvmem__node *next;
		while ((next = x->next[l]) && next != stop && kvmem__cmp(next, key) < 0) {
			x = next;
			moved = true;
		}
		stop = next;
		preds[l] = x;
	}
	assert(preds[0] == kv->head || kvmem__cmp(preds[0], key) < 0);
	return preds[0]->next[0];
}

/*
 * Fills preds[l] with the last node on level l whose key is < key (the head if none), for
 * every level. Returns the first node with key >= key (NULL if none). The search starts
 * from the finger when key is above the finger's key, and leaves the finger at key: preds
 * serve as the finger's nodes (the argument above holds for the last nodes < f as well).
 * Reads move the finger too, so a load's ascending uniqueness checks and a transaction's
 * sorted writes each start where the previous one ended. Every change to the list happens
 * right after a seek for its key, so the finger never holds an unlinked node.
 */
static struct kvmem__node *kvmem__seek(struct kvmem *kv, struct slice key,
                                       struct kvmem__node **preds)
{
	struct kvmem__node *succ =
	    kv->finger_len > 0 && slice_cmp(slice_of(kv->finger_key, kv->finger_len), key) < 0
	        ? kvmem__seek_from_finger(kv, key, preds)
	        : kvmem__seek_head(kv, key, preds);
	kv->finger_len = 0;
	if (key.len >= 1 && key.len <= KVMEM__FINGER_KEY_MAX) {
		memcpy(kv->finger, preds, sizeof kv->finger);
		memcpy(kv->finger_key, key.ptr, key.len);
		kv->finger_len = (uint32_t)key.len;
	}
	return succ;
}

/* The node with the largest key, or the head if the list is empty. */
static struct kvmem__node *kvmem__last(struct kvmem *kv)
{
	struct kvmem__node *x = kv->head;
	for (uint32_t l = kv->height; l-- > 0;)
		while (x->next[l])
			x = x->next[l];
	return x;
}

static void kvmem__stats_add(struct kvmem *kv, struct kvmem__node *n, int sign)
{
	if (sign > 0) {
		kv->stats.keys++;
		kv->stats.key_bytes += n->key_len;
		kv->stats.value_bytes += n->value_len;
	} else {
		assert(kv->stats.keys > 0 && kv->stats.key_bytes >= n->key_len);
		kv->stats.keys--;
		kv->stats.key_bytes -= n->key_len;
		kv->stats.value_bytes -= n->value_len;
	}
}

/* Unlinks and frees x, whose predecessors on every level are in preds (from a seek). */
static void kvmem__unlink(struct kvmem *kv, struct kvmem__node *x, struct kvmem__node **preds)
{
	for (uint32_t l = 0; l < x->height; l++) {
		assert(preds[l]->next[l] == x);
		preds[l]->next[l] = x->next[l];
	}
	if (x->next[0])
		x->next[0]->prev = x->prev;
	kvmem__stats_add(kv, x, -1);
	free(x);
}

/* Unlinks and frees the node with `key`, if there is one. */
static void kvmem__remove(struct kvmem *kv, struct slice key)
{
	struct kvmem__node *preds[KVMEM__MAX_HEIGHT];
	struct kvmem__node *x = kvmem__seek(kv, key, preds);
	if (x && slice_cmp(kvmem__key(x), key) == 0)
		kvmem__unlink(kv, x, preds);
}

/*
 * Links `n` in, replacing a node with the same key if there is one. The predecessors of
 * the replaced node are the new node's predecessors too, so one seek serves both.
 */
static void kvmem__insert(struct kvmem *kv, struct kvmem__node *n)
{
	struct kvmem__node *preds[KVMEM__MAX_HEIGHT];
	struct kvmem__node *succ = kvmem__seek(kv, kvmem__key(n), preds);
	if (succ && slice_cmp(kvmem__key(succ), kvmem__key(n)) == 0) {
		struct kvmem__node *old = succ;
		succ = old->next[0];
		kvmem__unlink(kv, old, preds);
	}
	assert(!succ || slice_cmp(kvmem__key(succ), kvmem__key(n)) > 0);
	for (uint32_t l = 0; l < n->height; l++) {
		n->next[l] = preds[l]->next[l];
		preds[l]->next[l] = n;
		kv->finger[l] = n; /* now the last node <= the finger key on this level */
	}
	n->prev = preds[0];
	if (succ)
		succ->prev = n;
	if (n->height > kv->height)
		kv->height = n->height;
	kvmem__stats_add(kv, n, +1);
}

/* ---- engine operations ---- */

static err *kvmem__get(struct kv *base, struct slice key, struct buf *out, bool *found)
{
	struct kvmem *kv = (struct kvmem *)base;
	assert(base->ops == &kvmem__ops);
	*found = false;
	TRY(kv_check_key(key));
	struct kvmem__node *preds[KVMEM__MAX_HEIGHT];
	struct kvmem__node *x = kvmem__seek(kv, key, preds);
	if (!x || slice_cmp(kvmem__key(x), key) != 0)
		return NULL;
	buf_clear(out);
	struct slice v = kvmem__value(x);
	TRY(buf_append(out, v.ptr, v.len));
	*found = true;
	return NULL;
}

/* Frees the first `count` nodes and the array, unless it is the on-stack `few`. */
static void kvmem__free_nodes(struct kvmem__node **nodes, uint32_t count, struct kvmem__node **few)
{
	for (uint32_t i = 0; i < count; i++)
		free(nodes[i]);
	if (nodes != few)
		free(nodes);
}

static err *kvmem__apply(struct kv *base, const struct kv_batch *batch)
{
	struct kvmem *kv = (struct kvmem *)base;
	assert(base->ops == &kvmem__ops);
	uint32_t count = batch->count;
	/* Pass 1: allocate every node the batch needs; nothing changes yet. */
	struct kvmem__node *few[KVMEM__FEW_OPS]; /* small batches (single writes) skip calloc */
	struct kvmem__node **nodes = count <= KVMEM__FEW_OPS ? few : calloc(count, sizeof *nodes);
	if (!nodes)
		return err_new(ERR_NOMEM, "cannot apply a batch of %u operations", count);
	struct kv_batch_cursor c;
	enum kv_op op;
	struct slice key, value;
	uint32_t i = 0;
	kv_batch_cursor_init(&c, batch);
	while (kv_batch_next(&c, &op, &key, &value)) {
		assert(i < count);
		assert(key.len >= 1 && key.len <= KV_KEY_MAX);
		nodes[i] = NULL;
		if (op == KV_PUT) {
			nodes[i] = kvmem__node_new(kvmem__random_height(kv), key, value);
			if (!nodes[i]) {
				kvmem__free_nodes(nodes, i, few);
				return err_new(ERR_NOMEM, "cannot store a key of %zu bytes",
				               key.len);
			}
		}
		i++;
	}
	assert(i == count);
	/* Pass 2: link and unlink; nothing here can fail. */
	kv_batch_cursor_init(&c, batch);
	for (i = 0; kv_batch_next(&c, &op, &key, &value); i++) {
		if (op == KV_PUT)
			kvmem__insert(kv, nodes[i]);
		else
			kvmem__remove(kv, key);
	}
	if (nodes != few)
		free(nodes);
	kv->generation++;
	return NULL;
}

static err *kvmem__commit(struct kv *base, struct slice meta, bool sync)
{
	struct kvmem *kv = (struct kvmem *)base;
	(void)sync; /* nothing to make durable */
	assert(base->ops == &kvmem__ops);
	if (meta.len > KV_META_MAX)
		return err_new(ERR_LIMIT, "commit metadata of %zu bytes exceeds %d bytes", meta.len,
		               KV_META_MAX);
	buf_clear(&kv->meta);
	TRY(buf_append(&kv->meta, meta.ptr, meta.len));
	kv->stats.commits++;
	kv->generation++;
	assert(kv->meta.len == meta.len);
	return NULL;
}

static err *kvmem__meta(struct kv *base, struct buf *out)
{
	struct kvmem *kv = (struct kvmem *)base;
	assert(base->ops == &kvmem__ops);
	buf_clear(out);
	return buf_append(out, kv->meta.data, kv->meta.len);
}

static err *kvmem__stats(struct kv *base, struct kv_stats *out)
{
	struct kvmem *kv = (struct kvmem *)base;
	assert(base->ops == &kvmem__ops);
	*out = kv->stats;
	return NULL;
}

static void kvmem__close(struct kv *base)
{
	struct kvmem *kv = (struct kvmem *)base;
	assert(base->ops == &kvmem__ops);
	assert(kv->open_iters == 0); /* iterators point into the engine */
	struct kvmem__node *x = kv->head->next[0];
	while (x) {
		struct kvmem__node *next = x->next[0];
		free(x);
		x = next;
	}
	free(kv->head);
	buf_free(&kv->meta);
	free(kv);
}

/* ---- iterators ---- */

static err *kvmem__iter_open(struct kv *base, const struct slice *from, const struct slice *to,
                             bool reverse, struct kv_iter **out)
{
	struct kvmem *kv = (struct kvmem *)base;
	assert(base->ops == &kvmem__ops);
	*out = NULL;
	const struct slice *bound = reverse ? from : to;
	size_t bound_len = bound ? bound->len : 0;
	if (bound_len > KV_KEY_MAX)
		return err_new(ERR_LIMIT, "scan bound of %zu bytes exceeds %d bytes", bound_len,
		               KV_KEY_MAX);
	struct kvmem__iter *it = malloc(sizeof *it);
	if (!it)
		return err_new(ERR_NOMEM, "cannot open an iterator");
	it->base.ops = &kvmem__iter_ops;
	it->kv = kv;
	it->generation = kv->generation;
	it->reverse = reverse;
	struct kvmem__node *preds[KVMEM__MAX_HEIGHT];
	if (!reverse) {
		/* [first >= from, first >= to) */
		it->at = from ? kvmem__seek(kv, *from, preds) : kv->head->next[0];
		it->stop = to ? kvmem__seek(kv, *to, preds) : NULL;
	} else {
		/* from the last node < to down to, not including, the last node < from */
		struct kvmem__node *last =
		    to ? (kvmem__seek(kv, *to, preds), preds[0]) : kvmem__last(kv);
		it->at = last == kv->head ? NULL : last;
		it->stop = from ? (kvmem__seek(kv, *from, preds), preds[0]) : NULL;
		if (it->stop == kv->head)
			it->stop = NULL;
	}
	if (from && to && slice_cmp(*from, *to) >= 0)
		it->at = NULL; /* an empty range */
	kv->open_iters++;
	*out = &it->base;
	return NULL;
}

static err *kvmem__iter_next(struct kv_iter *base, struct slice *key, struct slice *value,
                             bool *done)
{
	struct kvmem__iter *it = (struct kvmem__iter *)base;
	assert(base->ops == &kvmem__iter_ops);
	/* The kv contract: an iterator dies with the next apply or commit. */
	assert(it->generation == it->kv->generation);
	*done = true;
	struct kvmem__node *x = it->at;
	if (!x || x == it->stop) {
		it->at = NULL;
		return NULL;
	}
	*key = kvmem__key(x);
	*value = kvmem__value(x);
	*done = false;
	if (it->reverse)
		it->at = x->prev == it->kv->head ? NULL : x->prev;
	else
		it->at = x->next[0];
	return NULL;
}

static void kvmem__iter_close(struct kv_iter *base)
{
	struct kvmem__iter *it = (struct kvmem__iter *)base;
	assert(base->ops == &kvmem__iter_ops);
	assert(it->kv->open_iters > 0);
	it->kv->open_iters--;
	free(it);
}

static const struct kv_ops kvmem__ops = {
    .name = "memory",
    .get = kvmem__get,
    .apply = kvmem__apply,
    .commit = kvmem__commit,
    .meta = kvmem__meta,
    .iter_open = kvmem__iter_open,
    .stats = kvmem__stats,
    .close = kvmem__close,
};

static const struct kv_iter_ops kvmem__iter_ops = {
    .next = kvmem__iter_next,
    .close = kvmem__iter_close,
};

err *kvmem_open(struct kv **out)
{
	*out = NULL;
	struct kvmem *kv = calloc(1, sizeof *kv);
	if (!kv)
		return err_new(ERR_NOMEM, "cannot open a memory engine");
	kv->head = kvmem__node_new(KVMEM__MAX_HEIGHT, slice_of(NULL, 0), slice_of(NULL, 0));
	if (!kv->head) {
		free(kv);
		return err_new(ERR_NOMEM, "cannot open a memory engine");
	}
	kv->base.ops = &kvmem__ops;
	kv->height = 1;
	prng_seed(&kv->levels, KVMEM__LEVEL_SEED);
	buf_init(&kv->meta, KV_META_MAX);
	assert(kv->generation == 0 && kv->open_iters == 0);
	*out = &kv->base;
	return NULL;
}
