/*
 * Randomized MVCC workload with a serial-replay oracle, restarts, crashes and a twin
 * replica.
 *
 * Up to SLOTS transactions interleave random gets, scans (forward or reverse, bounded or
 * not, sometimes stopped early), puts, deletes, range deletions, commits and rollbacks, some read-only and
 * some reading at older versions. Commits are proposed into a queue that is applied later
 * (a lagging Raft log), mixed with no-op entries. Checked:
 *
 *   - every transaction read exactly the state at its read version plus its own writes;
 *   - every committed transaction, replayed alone at its commit index against a plain
 *     array holding the serial state, reads exactly what it read: the committed history is
 *     serializable in log order; the final state equals the array;
 *   - replica B is fed the same log (and the same GC calls) and ends byte-identical to A
 *     (same state hash, same rows): apply is deterministic;
 *   - A restarts (close and reopen over the same engine, keeping unflushed batches) and
 *     crashes (back to a copy of the engine taken at its last flush), then re-applies the
 *     log from mvcc_applied_version() + 1: every re-applied entry gets its original
 *     outcome, and A still matches B: committed transactions survive, nothing else does.
 */
#include <stdlib.h>

#include "mvcc_harness.h"

#define NKEYS 12
#define SLOTS 5
#define MAX_OPS 48
#define MAX_PENDING 12
#define MAX_LOG 16000
#define ABSENT (-1)
#define UNTOUCHED (-2)

enum op_kind { OP_GET, OP_SCAN, OP_PUT, OP_DEL, OP_DEL_RANGE };

struct op {
	enum op_kind kind;
	int key;
	int from, to; /* scan or deleted range bounds as key numbers; -1 unbounded (scans) */
	bool reverse;
	int limit;
	int value; /* put: the value; get: what was read (ABSENT if nothing) */
	int n;     /* scan: what was read */
	int keys[NKEYS];
	int vals[NKEYS];
};

struct tx {
	struct mvcc_txn *t;
	uint64_t rv;
	bool read_only; /* begun with MVCC_READ_ONLY */
	int nops;
	struct op ops[MAX_OPS];
};

struct proposal {
	struct buf rec;
	int nops;
	struct op ops[MAX_OPS];
};

enum entry_kind { ENTRY_RECORD, ENTRY_NOOP };

struct entry {
	enum entry_kind kind;
	struct buf rec;
	struct mvcc_outcome outcome;
};

struct world {
	struct prng rng;
	struct store a, b;
	struct kv *saved; /* A's engine as of its last flush */
	struct tx slots[SLOTS];
	struct proposal *pending[MAX_PENDING];
	int npending;
	struct entry *log;   /* log[i] is index i */
	uint64_t last;       /* the highest index in the log */
	int (*snaps)[NKEYS]; /* snaps[v]: the serial state after index v */
	int model[NKEYS];
	int next_value; /* every put writes a value never written before */
	int committed, aborted, readonly, crashes, restarts;
};

static void key_name(char *out, int k)
{
	snprintf(out, 8, "k%02d", k);
}

/* ---- the oracle ---- */

/* Replays ops against base with the transaction's own overlay; true if every read matches. */
static bool replay(const int *base, const struct op *ops, int nops, int *overlay)
{
	for (int k = 0; k < NKEYS; k++)
		overlay[k] = UNTOUCHED;
	for (int i = 0; i < nops; i++) {
		const struct op *o = &ops[i];
		if (o->kind == OP_PUT || o->kind == OP_DEL) {
			overlay[o->key] = o->kind == OP_PUT ? o->value : ABSENT;
			continue;
		}
		if (o->kind == OP_DEL_RANGE) {
			for (int k = o->from; k < o->to; k++)
				overlay[k] = ABSENT;
			continue;
		}
		if (o->kind == OP_GET) {
			int want = overlay[o->key] != UNTOUCHED ? overlay[o->key] : base[o->key];
			if (want != o->value)
				return false;
			continue;
		}
		int lo = o->from < 0 ? 0 : o->from, hi = o->to < 0 ? NKEYS : o->to, n = 0;
		for (int j = 0; j < NKEYS && n < o->limit; j++) {
			int k = o->reverse ? NKEYS - 1 - j : j;
			if (k < lo || k >= hi)
				continue;
			int v = overlay[k] != UNTOUCHED ? overlay[k] : base[k];
			if (v == ABSENT)
				continue;
			if (n >= o->n || o->keys[n] != k || o->vals[n] != v)
				return false;
			n++;
		}
		if (n != o->n)
			return false;
	}
	return true;
}

static void check_snapshot(struct world *w, const struct tx *x)
{
	int overlay[NKEYS];
	ck_assert_msg(replay(w->snaps[x->rv], x->ops, x->nops, overlay),
	              "a transaction at version %llu did not read its snapshot",
	              (unsigned long long)x->rv);
}

/* ---- transactions ---- */

static int parse_value(struct slice v)
{
	char s[16];
	ck_assert_uint_lt(v.len, sizeof s);
	memcpy(s, v.ptr, v.len);
	s[v.len] = 0;
	return atoi(s);
}

static void do_get(struct tx *x, struct op *o)
{
	char k[8], v[16];
	key_name(k, o->key);
	get(x->t, k, v, sizeof v);
	o->value = v[0] ? atoi(v) : ABSENT;
}

static void do_scan(struct tx *x, struct op *o)
{
	char f[8], t[8];
	key_name(f, o->from);
	key_name(t, o->to);
	struct slice fs = S(f), ts = S(t);
	struct mvcc_scan *sc;
	ok(mvcc_scan_open(x->t, o->from >= 0 ? &fs : NULL, o->to >= 0 ? &ts : NULL, o->reverse,
	                  &sc));
	o->n = 0;
	while (o->n < o->limit) {
		struct slice k, v;
		bool done;
		ok(mvcc_scan_next(sc, &k, &v, &done));
		if (done)
			break;
		ck_assert_uint_eq(k.len, 3);
		o->keys[o->n] = (k.ptr[1] - '0') * 10 + (k.ptr[2] - '0');
		o->vals[o->n] = parse_value(v);
		o->n++;
	}
	mvcc_scan_close(sc);
}

static void do_write(struct world *w, struct tx *x, struct op *o)
{
	char k[8], v[16];
	key_name(k, o->key);
	if (o->kind == OP_DEL) {
		ok(mvcc_delete(x->t, S(k)));
		return;
	}
	if (o->kind == OP_DEL_RANGE) {
		char f[8], t[8];
		key_name(f, o->from);
		key_name(t, o->to);
		ok(mvcc_delete_range(x->t, S(f), S(t)));
		return;
	}
	o->value = ++w->next_value;
	snprintf(v, sizeof v, "%d", o->value);
	put(x->t, k, v);
}

static void random_op(struct world *w, struct tx *x)
{
	struct op *o = &x->ops[x->nops];
	memset(o, 0, sizeof *o);
	uint64_t r = prng_below(&w->rng, 100);
	o->kind = r < 40   ? OP_GET
	          : r < 60 ? OP_SCAN
	          : r < 86 ? OP_PUT
	          : r < 96 ? OP_DEL
	                   : OP_DEL_RANGE;
	o->key = (int)prng_below(&w->rng, NKEYS);
	if (o->kind == OP_DEL_RANGE) {
		o->from = (int)prng_below(&w->rng, NKEYS);
		o->to = o->from + 1 + (int)prng_below(&w->rng, (uint64_t)(NKEYS - o->from));
	}
	if (o->kind == OP_SCAN) {
		o->from = prng_chance(&w->rng, 0.3) ? -1 : (int)prng_below(&w->rng, NKEYS);
		o->to = prng_chance(&w->rng, 0.3) ? -1 : (int)prng_below(&w->rng, NKEYS + 1);
		o->reverse = prng_chance(&w->rng, 0.5);
		o->limit = prng_chance(&w->rng, 0.3) ? 1 + (int)prng_below(&w->rng, 3) : NKEYS;
		do_scan(x, o);
	} else if (o->kind == OP_GET || x->read_only) {
		o->kind = OP_GET;
		do_get(x, o);
	} else {
		do_write(w, x, o);
	}
	x->nops++;
}

/* ---- the log ---- */

static void snap_now(struct world *w, uint64_t index)
{
	ck_assert_uint_lt(index, MAX_LOG);
	memcpy(w->snaps[index], w->model, sizeof w->model);
}

static void outcomes_equal(const struct mvcc_outcome *x, const struct mvcc_outcome *y)
{
	ck_assert_int_eq(x->code, y->code);
	ck_assert_int_eq(x->committed, y->committed);
	ck_assert_int_eq(x->duplicate, y->duplicate);
	ck_assert_uint_eq(x->index, y->index);
	ck_assert_str_eq(x->message, y->message);
}

/* Applies the oldest pending proposal on both replicas and checks it against the oracle. */
static void apply_pending(struct world *w)
{
	struct proposal *p = w->pending[0];
	memmove(&w->pending[0], &w->pending[1], (size_t)(w->npending - 1) * sizeof p);
	w->npending--;
	uint64_t index = ++w->last;
	struct entry *e = &w->log[index];
	e->kind = ENTRY_RECORD;
	e->rec = p->rec;
	struct mvcc_outcome ob;
	ok(mvcc_apply(w->a.m, e->rec.data, e->rec.len, index, &e->outcome));
	ok(mvcc_apply(w->b.m, e->rec.data, e->rec.len, index, &ob));
	outcomes_equal(&e->outcome, &ob);
	if (e->outcome.committed) {
		int overlay[NKEYS];
		ck_assert_msg(replay(w->model, p->ops, p->nops, overlay),
		              "committed at %llu but not serializable there",
		              (unsigned long long)index);
		for (int k = 0; k < NKEYS; k++)
			if (overlay[k] != UNTOUCHED)
				w->model[k] = overlay[k];
		w->committed++;
	} else {
		ck_assert(e->outcome.code == ERR_CONFLICT ||
		          e->outcome.code == ERR_UNKNOWN_OUTCOME);
		w->aborted++;
	}
	snap_now(w, index);
	free(p);
}

static void apply_noop(struct world *w)
{
	uint64_t index = ++w->last;
	w->log[index].kind = ENTRY_NOOP;
	ok(mvcc_advance(w->a.m, index));
	ok(mvcc_advance(w->b.m, index));
	snap_now(w, index);
}

/* Ends a transaction: it is checked against its snapshot, then proposed or dropped. */
static void finish(struct world *w, struct tx *x, bool commit_it)
{
	check_snapshot(w, x);
	if (commit_it && !mvcc_txn_is_read_only(x->t)) {
		if (w->npending == MAX_PENDING)
			apply_pending(w);
		struct proposal *p = malloc(sizeof *p);
		ck_assert_ptr_nonnull(p);
		buf_init(&p->rec, MVCC_RECORD_MAX_BYTES);
		encode(x->t, &p->rec);
		p->nops = x->nops;
		memcpy(p->ops, x->ops, sizeof x->ops);
		w->pending[w->npending++] = p;
	} else if (commit_it) {
		w->readonly++;
	}
	mvcc_txn_free(x->t);
	x->t = NULL;
}

static void begin_slot(struct world *w, struct tx *x)
{
	uint64_t applied = mvcc_applied_version(w->a.m);
	uint64_t oldest = mvcc_gc_low_water(w->a.m);
	if (applied >= 3 && applied - 3 > oldest)
		oldest = applied - 3;
	x->rv = oldest + prng_below(&w->rng, applied - oldest + 1);
	x->nops = 0;
	x->read_only = prng_chance(&w->rng, 0.2);
	ok(mvcc_begin(w->a.m, x->rv, x->read_only ? MVCC_READ_ONLY : 0, &x->t));
}

/* ---- flush, GC, restarts and crashes ---- */

static struct kv *clone_kv(struct kv *src)
{
	struct kv *dst;
	ok(kvmem_open(&dst));
	struct kv_batch batch;
	kv_batch_init(&batch);
	struct kv_iter *it;
	ok(kv_iter_open(src, NULL, NULL, false, &it));
	for (;;) {
		struct slice k, v;
		bool done;
		ok(kv_iter_next(it, &k, &v, &done));
		if (done)
			break;
		ok(kv_batch_put(&batch, k, v));
	}
	kv_iter_close(it);
	ok(kv_apply(dst, &batch));
	kv_batch_free(&batch);
	struct buf meta;
	buf_init(&meta, KV_META_MAX);
	ok(kv_meta(src, &meta));
	ok(kv_commit(dst, buf_slice(&meta), true));
	buf_free(&meta);
	return dst;
}

/* GC on both replicas at the same log position, then a flush of A (a durable point). */
static void gc_and_flush(struct world *w)
{
	uint64_t low = mvcc_applied_version(w->a.m);
	for (int i = 0; i < SLOTS; i++)
		if (w->slots[i].t && w->slots[i].rv < low)
			low = w->slots[i].rv;
	if (low > 2)
		low -= prng_below(&w->rng, 3);
	ok(mvcc_gc(w->a.m, low));
	ok(mvcc_gc(w->b.m, low));
	ck_assert_uint_eq(mvcc_gc_low_water(w->a.m), mvcc_gc_low_water(w->b.m));
	ok(mvcc_flush(w->a.m, true));
	kv_close(w->saved);
	w->saved = clone_kv(w->a.kv);
}

static void check_replicas_equal(struct world *w)
{
	uint64_t ha, hb;
	ok(mvcc_state_hash(w->a.m, &ha));
	ok(mvcc_state_hash(w->b.m, &hb));
	ck_assert_uint_eq(ha, hb);
}

/* A's log source: the records of the world's log. */
static err *world_load(void *ctx, uint64_t index, struct buf *out)
{
	const struct world *w = ctx;
	ck_assert_uint_le(index, w->last);
	const struct entry *e = &w->log[index];
	return e->kind == ENTRY_RECORD ? buf_append(out, e->rec.data, e->rec.len) : NULL;
}

/* A node restart: sessions die, MVCC reopens (crash: on the last flushed engine), replays. */
static void restart(struct world *w, bool crash)
{
	for (int i = 0; i < SLOTS; i++)
		if (w->slots[i].t)
			finish(w, &w->slots[i], false);
	mvcc_close(w->a.m);
	if (crash) {
		kv_close(w->a.kv);
		w->a.kv = clone_kv(w->saved);
		w->crashes++;
	} else {
		w->restarts++;
	}
	ok(mvcc_open(w->a.kv, &w->a.options, &w->a.m));
	uint64_t from = mvcc_applied_version(w->a.m) + 1;
	ck_assert_uint_le(from, w->last + 1);
	for (uint64_t i = from; i <= w->last; i++) {
		struct entry *e = &w->log[i];
		if (e->kind == ENTRY_NOOP) {
			ok(mvcc_advance(w->a.m, i));
			continue;
		}
		struct mvcc_outcome again;
		ok(mvcc_apply(w->a.m, e->rec.data, e->rec.len, i, &again));
		outcomes_equal(&again, &e->outcome);
	}
	check_replicas_equal(w);
}

/* ---- the run ---- */

static void check_final_state(struct world *w)
{
	struct mvcc_txn *t = begin(&w->a, MVCC_LATEST, MVCC_READ_ONLY);
	for (int k = 0; k < NKEYS; k++) {
		char name[8], v[16];
		key_name(name, k);
		get(t, name, v, sizeof v);
		ck_assert_int_eq(v[0] ? atoi(v) : ABSENT, w->model[k]);
	}
	mvcc_txn_free(t);
	check_replicas_equal(w);
	/* row by row, not only the hash */
	struct kv_iter *ia, *ib;
	ok(kv_iter_open(w->a.kv, NULL, NULL, false, &ia));
	ok(kv_iter_open(w->b.kv, NULL, NULL, false, &ib));
	uint64_t rows = 0;
	for (;;) {
		struct slice ka, va, kb, vb;
		bool da, db;
		ok(kv_iter_next(ia, &ka, &va, &da));
		ok(kv_iter_next(ib, &kb, &vb, &db));
		ck_assert_int_eq(da, db);
		if (da)
			break;
		ck_assert(slice_eq(ka, kb) && slice_eq(va, vb));
		rows++;
	}
	kv_iter_close(ia);
	kv_iter_close(ib);
	ck_assert_uint_gt(rows, 0);
}

static void step(struct world *w)
{
	uint64_t r = prng_below(&w->rng, 1000);
	if (r < 250 && w->npending > 0) {
		apply_pending(w);
	} else if (r < 280) {
		apply_noop(w);
	} else if (r < 292) {
		gc_and_flush(w);
	} else if (r < 296) {
		restart(w, true);
	} else if (r < 299) {
		restart(w, false);
	} else {
		struct tx *x = &w->slots[prng_below(&w->rng, SLOTS)];
		if (!x->t) {
			begin_slot(w, x);
			return;
		}
		uint64_t end = prng_below(&w->rng, 100);
		if (x->nops == MAX_OPS || end < 12)
			finish(w, x, true);
		else if (end < 16)
			finish(w, x, false);
		else
			random_op(w, x);
	}
}

static void run(uint64_t seed, int steps)
{
	struct world *w = calloc(1, sizeof *w);
	ck_assert_ptr_nonnull(w);
	w->log = calloc(MAX_LOG, sizeof *w->log);
	w->snaps = calloc(MAX_LOG, sizeof *w->snaps);
	ck_assert(w->log && w->snaps);
	prng_seed(&w->rng, seed);
	for (int k = 0; k < NKEYS; k++)
		w->model[k] = ABSENT;
	snap_now(w, 0);
	store_open(&w->a, prng_subseed(seed, "a", 0));
	store_open(&w->b, prng_subseed(seed, "b", 0));
	/* a small window, so it slides, is rebuilt on restart and sometimes refuses old reads */
	w->a.options.history_max_entries = w->b.options.history_max_entries = 64;
	w->a.options.log = (struct mvcc_log_source){w, world_load};
	mvcc_close(w->a.m);
	mvcc_close(w->b.m);
	ok(mvcc_open(w->a.kv, &w->a.options, &w->a.m));
	ok(mvcc_open(w->b.kv, &w->b.options, &w->b.m));
	w->saved = clone_kv(w->a.kv);
	for (int i = 0; i < steps && w->last + MAX_PENDING + 2 < MAX_LOG; i++)
		step(w);
	for (int i = 0; i < SLOTS; i++)
		if (w->slots[i].t)
			finish(w, &w->slots[i], true);
	while (w->npending > 0)
		apply_pending(w);
	check_final_state(w);
	ck_assert_int_gt(w->committed, 50);
	ck_assert_int_gt(w->aborted, 5);
	ck_assert_int_gt(w->crashes + w->restarts, 2);
	for (uint64_t i = 1; i <= w->last; i++)
		if (w->log[i].kind == ENTRY_RECORD)
			buf_free(&w->log[i].rec);
	kv_close(w->saved);
	store_close(&w->a);
	store_close(&w->b);
	free(w->log);
	free(w->snaps);
	free(w);
}

START_TEST(random_workloads_are_serializable_and_replicas_agree)
{
	run(1000 + (uint64_t)_i, 30000);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("mvcc_random");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, random_workloads_are_serializable_and_replicas_agree, 0, 4);
	suite_add_tcase(suite, tc);
	return check_run(suite);
}
