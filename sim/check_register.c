/*
 * check_register.c — linearizability of single-key registers (read, write, compare-and-set).
 *
 * What. A history of register operations is linearizable if every SIM_OK operation (and
 * any subset of the SIM_UNKNOWN ones) can be given a point between its invocation and
 * its completion such that, taken in the order of those points, each read returns the
 * value last written (0 before any write), each swapped CAS found its expected value and
 * each CAS that did not swap found another. Registers are independent, so each key is
 * checked alone (P-compositionality): a search over one key's few thousand operations
 * instead of the whole history's.
 *
 * How. Wing & Gong's search as Porcupine runs it. Each operation contributes a call event
 * at its invocation and a return event at its completion; the events sit in one doubly
 * linked list in time order (calls before returns at the same microsecond, since an
 * operation that completes at t and one invoked at t overlap). Walking from the head, the
 * search tries to linearize each call it meets: if the model accepts the operation, both
 * its events are unlinked ("lifted"), the choice is pushed on a stack and the walk starts
 * over from the head. Meeting a return event means its operation was not linearized
 * before it had to be: the last choice is undone (the events relinked, dancing-links
 * style) and the walk moves on past that choice's call. The history is linearizable once
 * the walk falls off the end of the list; it is not when it must undo with an empty
 * stack.
 *
 * Memoisation. The search's future depends only on which operations are linearized and
 * on the register's value, so each (set, value) pair is explored once. Sets are not
 * stored: a set is named by the XOR of two 64-bit random keys per member (Zobrist
 * hashing), updated in O(1) per step. Two different sets sharing 128 bits would make the
 * search skip a state it never saw; that can only turn "linearizable" into "not" (never
 * the reverse), and with the default budget of 2^20 states it happens with probability
 * below 2^-87.
 *
 * Unknown operations. A SIM_UNKNOWN write or CAS may take effect at any point after its
 * invocation, or never; left as it is, each pending one doubles the states. So:
 *  - Forced: the only writer of a value that a SIM_OK read (or swapped CAS) observed
 *    must have taken effect before that observer completed: it gets a return event at
 *    that deadline, which the search must not pass without it. A forced CAS observed its
 *    expected value in turn, so forcing repeats along a chain of unknown operations. It
 *    gets no call event: it is tried where the optional ones are (below), first among
 *    them, so as late as it can be. Tried at its call, like an acknowledged operation,
 *    each forced write went in as early as it could, and dozens of them (clients that
 *    gave up early) had the search try their interleavings with the reads until the
 *    budget ran out (simulator seeds 425 and 518 with 15 ms client timeouts).
 *  - Dropped: an unknown CAS whose value no required operation observes (nor a CAS
 *    that is needed in turn) can only replace one value by another nobody looks at. A
 *    linearization that takes it is still one without it, unless an acknowledged CAS
 *    that did not swap needed the old value gone; all the others are left out.
 *  - The rest are optional and have no events. One is available once the frontier (the
 *    earliest return event left) reaches its invocation — exactly when the walk would
 *    have passed its call — and only the few that can matter are offered, after the
 *    required calls the walk meets first: CASes that find their expected value (a CAS
 *    that fails changes nothing), writes of values somebody may still look at (over junk
 *    too: a forced CAS may expect one), and one "pooled" write.
 *  - Canonical states. Every value has lookers: the reads returning it and the CASes
 *    (not dropped) expecting it. Once every looker with a deadline is linearized (their
 *    deadlines are all before the frontier) and no optional CAS expects it, nothing can
 *    tell the value from any other unobserved value: the state says "junk" instead.
 *    Likewise an optional write whose lookers are all done is interchangeable with every
 *    other such write, and all of them stay available forever: the state counts how many
 *    of this pool were used rather than naming them, and a state with fewer used
 *    dominates one with more. A pooled write onto junk is pointless and never tried.
 * SIM_FAIL operations and unknown reads (which changed nothing and observed nothing) are
 * left out too.
 *
 * Report. When a key is not linearizable, the error names the key, the operation whose
 * return event stopped the search furthest into the history (the one that "could not be
 * linearized"), the value the register held on that path, and the operations concurrent
 * with it: the smallest window a person has to look at.
 *
 * Trade-offs. The search is exponential in the worst case; the budget (states remembered
 * and steps per key) turns a search too large into ERR_LIMIT rather than minutes of work
 * or an unproven "valid". Only registers are modelled: each key starts at 0 and written
 * values should be unique (duplicates are handled correctly, just searched less cleverly).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/prng.h"
#include "sim/check.h"
#include "sim/check_internal.h"

#define CHECK__NIL UINT32_MAX
#define CHECK__CONCURRENT_SHOWN 6

/* ---- one key's operations, events and search state ---- */

struct check__rop {
	const struct sim_reg_op *src;
	bool optional;        /* may be linearized or not: SIM_UNKNOWN and not forced */
	bool forced;          /* SIM_UNKNOWN but must be linearized: no call event */
	bool dropped;         /* an optional CAS nothing needs (check__drop_pointless) */
	bool looked;          /* some operation looks at the value it writes... */
	uint64_t look_until;  /* ...the last of them by this deadline (SIM_NEVER: optional) */
	uint32_t call;        /* event node of the invocation; CHECK__NIL unless acknowledged */
	uint32_t ret;         /* event node of the completion; CHECK__NIL when optional */
	uint64_t deadline_us; /* when the return event falls: completion or forced deadline */
	uint64_t zkey[2];     /* Zobrist keys: a set's hash is the XOR of its members' */
};

struct check__node {
	uint32_t prev, next; /* the live list; node 0 is the head */
	uint32_t op;
	bool is_return;
	uint64_t at_us;
};

struct check__rstate {
	int64_t value;  /* 0 when junk */
	int64_t actual; /* the value really held, for reports (not part of the state) */
	bool junk;      /* the register holds a value nothing left can look at */
	bool looked;    /* who looks at the value held: as in struct check__rop */
	uint64_t look_until;
	uint32_t junk_used; /* expired optional writes linearized: the pool used */
	uint64_t hash[2];   /* Zobrist hash of the other linearized operations */
	uint32_t req_next;  /* first unlinearized operation in k->req_order */
	uint32_t exp_next;  /* first unexpired operation in k->exp_order */
};

struct check__slot {
	uint64_t hash[2];
	int64_t value;
	uint32_t junk_used;
	uint8_t junk;
	uint8_t full;
};

struct check__memo {
	struct check__slot *slots;
	uint32_t cap; /* a power of two, or 0 */
	uint32_t count;
	uint32_t max;
};

struct check__frame {
	uint32_t op;
	struct check__rstate before;
	uint32_t cur;  /* where the walk resumes when the choice is undone... */
	uint32_t cand; /* ...and the next candidate to try */
};

/* An operation of a key (an index into its ops) with a 64-bit rank to order it by. */
struct check__ranked {
	uint64_t rank;
	uint32_t op;
};

struct check__key {
	uint32_t key;
	struct check__rop *ops;
	uint32_t n_ops;
	struct check__node *nodes; /* 1 + events */
	struct check__frame *stack;
	uint32_t depth;
	bool *in_set;        /* per operation: linearized on the current path */
	uint32_t *req_order; /* required operations by deadline */
	uint32_t n_req;
	uint32_t *exp_order; /* optional writes someone looks at, by look_until */
	uint32_t n_exp;
	struct check__ranked *cas_order; /* optional CASes by (expected, index) */
	uint32_t n_cas;
	uint32_t *wr_order; /* optional writes by invocation */
	uint32_t n_wr;
	uint32_t *forced_order; /* forced operations by invocation */
	uint32_t n_forced;
	struct check__ranked *writers; /* every write and CAS by (value, index) */
	uint32_t n_writers;
	uint32_t *cand; /* the forced and optional operations to try in the current state */
	uint32_t n_cand;
	bool zero_looked; /* who looks at the initial 0 */
	uint64_t zero_look_until;
	struct check__memo memo;
	/* the return event that stopped the search furthest into the history */
	uint32_t worst_node;
	struct check__rstate worst_state;
};

/* ---- ordering operations by a rank ---- */

static int check__cmp_ranked(const void *a, const void *b)
{
	const struct check__ranked *x = a, *y = b;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return (x->op > y->op) - (x->op < y->op);
}

/* The first of the n ranked entries whose rank is at least `rank`. */
static size_t check__lower_rank(const struct check__ranked *a, size_t n, uint64_t rank)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a[mid].rank < rank)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A rank that orders signed values as they compare. */
static uint64_t check__value_rank(int64_t v)
{
	return (uint64_t)v ^ (1ULL << 63);
}

/* ---- the memo: an open-addressing set of canonical states ---- */

static uint64_t check__mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t check__slot_hash(const struct check__rstate *s)
{
	return s->hash[0] ^ check__mix((uint64_t)s->value ^ (uint64_t)s->junk);
}

static bool check__slot_is(const struct check__slot *slot, const struct check__rstate *s)
{
	return slot->hash[0] == s->hash[0] && slot->hash[1] == s->hash[1] &&
	       slot->value == s->value && slot->junk == (uint8_t)s->junk;
}

/* Places s in a table known to have room and not to hold it. */
static void check__memo_place(struct check__slot *slots, uint32_t cap,
                              const struct check__rstate *s)
{
	uint32_t i = (uint32_t)check__slot_hash(s) & (cap - 1);
	for (uint32_t probes = 0; probes < cap; probes++, i = (i + 1) & (cap - 1)) {
		if (!slots[i].full) {
			slots[i] = (struct check__slot){.hash = {s->hash[0], s->hash[1]},
			                                .value = s->value,
			                                .junk_used = s->junk_used,
			                                .junk = s->junk,
			                                .full = 1};
			return;
		}
	}
	assert(!"memo full");
}

static err *check__memo_grow(struct check__memo *m)
{
	uint32_t cap = m->cap ? m->cap * 2 : 1024;
	struct check__slot *slots = calloc(cap, sizeof *slots);
	if (!slots)
		return err_new(ERR_NOMEM, "register checker: memo of %u states", cap);
	for (uint32_t i = 0; i < m->cap; i++) {
		if (m->slots[i].full) {
			const struct check__slot *o = &m->slots[i];
			struct check__rstate s = {.value = o->value,
			                          .junk = o->junk,
			                          .junk_used = o->junk_used,
			                          .hash = {o->hash[0], o->hash[1]}};
			check__memo_place(slots, cap, &s);
		}
	}
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	return NULL;
}

/*
 * Adds s to the memo. *added is true when s is new (the search should enter it), false
 * when it or a state that dominates it was explored before: the same set and value with
 * no more pooled junk writes used (fewer used leaves more to use later). ERR_LIMIT when
 * the memo holds its maximum already.
 */
static err *check__memo_add(struct check__memo *m, const struct check__rstate *s, bool *added)
{
	*added = false;
	if (m->cap) {
		uint32_t i = (uint32_t)check__slot_hash(s) & (m->cap - 1);
		for (uint32_t probes = 0; probes < m->cap && m->slots[i].full; probes++) {
			if (check__slot_is(&m->slots[i], s)) {
				*added = s->junk_used < m->slots[i].junk_used;
				if (*added)
					m->slots[i].junk_used = s->junk_used;
				return NULL;
			}
			i = (i + 1) & (m->cap - 1);
		}
	}
	if (m->count >= m->max)
		return err_new(ERR_LIMIT, "more than %u states", m->max);
	if ((uint64_t)(m->count + 1) * 2 > m->cap)
		TRY(check__memo_grow(m));
	check__memo_place(m->slots, m->cap, s);
	m->count++;
	*added = true;
	return NULL;
}

/* ---- the model ---- */

/*
 * Applies op to *s as the register would (leaving the canonical form to the caller).
 * Returns false when op cannot take effect in state *s — or, for optional operations,
 * when taking effect would be pointless (a CAS that does not swap, a pooled write over
 * junk): skipping those loses no linearization.
 */
static bool check__apply(const struct check__rop *op, bool pool, struct check__rstate *s)
{
	const struct sim_reg_op *o = op->src;
	bool holds_expected = !s->junk && s->value == o->expected;
	switch (o->kind) {
	case SIM_REG_READ: assert(o->outcome == SIM_OK); return !s->junk && s->value == o->value;
	case SIM_REG_WRITE:
		if (pool && s->junk)
			return false;
		break;
	case SIM_REG_CAS:
		if (o->outcome == SIM_OK && !o->swapped)
			return !holds_expected; /* an observation only */
		if (!holds_expected)
			return false;
		break;
	default: assert(!"unknown kind"); return false;
	}
	s->value = o->value;
	s->actual = o->value;
	s->junk = false;
	s->looked = op->looked;
	s->look_until = op->look_until;
	return true;
}

/* ---- the search ---- */

static void check__unlink(struct check__node *nodes, uint32_t i)
{
	nodes[nodes[i].prev].next = nodes[i].next;
	if (nodes[i].next != CHECK__NIL)
		nodes[nodes[i].next].prev = nodes[i].prev;
}

static void check__relink(struct check__node *nodes, uint32_t i)
{
	nodes[nodes[i].prev].next = i;
	if (nodes[i].next != CHECK__NIL)
		nodes[nodes[i].next].prev = i;
}

/* Takes op's events, if it has any, out of the live list. */
static void check__lift(struct check__key *k, const struct check__rop *op)
{
	if (op->call != CHECK__NIL)
		check__unlink(k->nodes, op->call);
	if (op->ret != CHECK__NIL)
		check__unlink(k->nodes, op->ret);
}

/* Undoes check__lift(k, op); must be the most recent lift not yet undone. */
static void check__unlift(struct check__key *k, const struct check__rop *op)
{
	if (op->ret != CHECK__NIL)
		check__relink(k->nodes, op->ret);
	if (op->call != CHECK__NIL)
		check__relink(k->nodes, op->call);
}

/* The frontier: the earliest deadline of a required operation not yet linearized. */
static uint64_t check__frontier(const struct check__key *k, const struct check__rstate *s)
{
	return s->req_next < k->n_req ? k->ops[k->req_order[s->req_next]].deadline_us : SIM_NEVER;
}

/* True if nothing not yet linearized can look at a value so described, at frontier f. */
static bool check__expired(bool looked, uint64_t look_until, uint64_t f)
{
	return !looked || look_until < f;
}

/*
 * Brings *s to its canonical form after in_set changed: moves the frontier past
 * linearized required operations; optional writes whose lookers are all linearized
 * leave the hash for the pool count; a value nothing left can look at becomes junk.
 * Two states with the same canonical form have the same futures.
 */
static void check__canonical(const struct check__key *k, struct check__rstate *s)
{
	while (s->req_next < k->n_req && k->in_set[k->req_order[s->req_next]])
		s->req_next++;
	uint64_t f = check__frontier(k, s);
	while (s->exp_next < k->n_exp) {
		const struct check__rop *op = &k->ops[k->exp_order[s->exp_next]];
		if (!check__expired(op->looked, op->look_until, f))
			break;
		if (k->in_set[k->exp_order[s->exp_next]]) {
			s->hash[0] ^= op->zkey[0];
			s->hash[1] ^= op->zkey[1];
			s->junk_used++;
		}
		s->exp_next++;
	}
	if (s->junk || check__expired(s->looked, s->look_until, f)) {
		s->junk = true;
		s->value = 0;
	}
}

/*
 * The canonical state after linearizing operation i on top of *s, in *out, with i marked
 * in k->in_set (the caller unmarks it if it does not enter the state). False, with
 * nothing marked, when i cannot or need not take effect here.
 */
static bool check__enter(struct check__key *k, uint32_t i, const struct check__rstate *s,
                         struct check__rstate *out)
{
	const struct check__rop *op = &k->ops[i];
	bool pool = op->optional && op->src->kind == SIM_REG_WRITE &&
	            check__expired(op->looked, op->look_until, check__frontier(k, s));
	*out = *s;
	if (!check__apply(op, pool, out))
		return false;
	if (pool) {
		out->junk_used++;
	} else {
		out->hash[0] ^= op->zkey[0];
		out->hash[1] ^= op->zkey[1];
	}
	assert(!k->in_set[i]);
	k->in_set[i] = true;
	check__canonical(k, out);
	return true;
}

static int check__cmp_by_invoke(const struct check__key *k, uint32_t a, uint32_t b)
{
	uint64_t x = k->ops[a].src->invoke_us, y = k->ops[b].src->invoke_us;
	if (x != y)
		return x < y ? -1 : 1;
	return (a > b) - (a < b);
}

/*
 * Fills k->cand with the operations without a call event worth trying in state *s, all
 * available (invoked by the frontier) and not linearized: first the forced ones, then,
 * by invocation, the optional ones able to change something — a CAS finding its
 * expected value, a write somebody may still look at, and one pooled write standing for
 * all the others. Depends on *s and k->in_set only, so a state that is restored gets the
 * same list again. Returns the work done, for the step budget.
 */
static uint64_t check__candidates(struct check__key *k, const struct check__rstate *s)
{
	uint64_t f = check__frontier(k, s), work = 1;
	k->n_cand = 0;
	for (uint32_t w = 0; w < k->n_forced; w++) {
		uint32_t i = k->forced_order[w];
		work++;
		if (k->ops[i].src->invoke_us > f)
			break;
		if (!k->in_set[i])
			k->cand[k->n_cand++] = i;
	}
	uint32_t first_optional = k->n_cand;
	/*
	 * Over junk a CAS finds no expected value and a pooled write changes nothing, but a
	 * write somebody looks at matters: a forced CAS may expect its value.
	 */
	for (uint32_t e = s->exp_next; e < k->n_exp; e++) {
		uint32_t i = k->exp_order[e];
		work++;
		if (!k->in_set[i] && k->ops[i].src->invoke_us <= f)
			k->cand[k->n_cand++] = i;
	}
	if (s->junk)
		return work;
	uint64_t rank = check__value_rank(s->value);
	for (size_t c = check__lower_rank(k->cas_order, k->n_cas, rank);
	     c < k->n_cas && k->cas_order[c].rank == rank; c++) {
		uint32_t i = k->cas_order[c].op;
		work++;
		if (!k->in_set[i] && k->ops[i].src->invoke_us <= f)
			k->cand[k->n_cand++] = i;
	}
	for (uint32_t w = 0; w < k->n_wr; w++) {
		uint32_t i = k->wr_order[w];
		const struct check__rop *op = &k->ops[i];
		work++;
		if (op->src->invoke_us > f)
			break;
		if (!k->in_set[i] && check__expired(op->looked, op->look_until, f)) {
			k->cand[k->n_cand++] = i;
			break;
		}
	}
	assert(k->n_cand <= k->n_ops);
	for (uint32_t a = first_optional + 1; a < k->n_cand; a++) { /* few: insertion sort */
		uint32_t x = k->cand[a], b = a;
		for (; b > first_optional && check__cmp_by_invoke(k, k->cand[b - 1], x) > 0; b--)
			k->cand[b] = k->cand[b - 1];
		k->cand[b] = x;
	}
	return work;
}

/* Records the return event at node `block` if it stopped the search furthest yet. */
static void check__note_block(struct check__key *k, uint32_t block, const struct check__rstate *s)
{
	if (block > k->worst_node) {
		k->worst_node = block;
		k->worst_state = *s;
	}
}

/*
 * True when *s can lead nowhere: the required operation due first observes a value (a
 * read, or a CAS that swapped: its expected value) that the register does not hold and
 * that no operation left to linearize writes. Pruned at once — else every subset of the
 * optional operations available is tried in front of it before the search gives up.
 */
static bool check__hopeless(const struct check__key *k, const struct check__rstate *s)
{
	if (s->req_next >= k->n_req)
		return false;
	const struct sim_reg_op *o = k->ops[k->req_order[s->req_next]].src;
	int64_t v;
	if (o->kind == SIM_REG_READ)
		v = o->value;
	else if (o->kind == SIM_REG_CAS && (o->outcome != SIM_OK || o->swapped))
		v = o->expected; /* an unknown CAS is required only when it swapped */
	else
		return false;
	if (!s->junk && s->value == v)
		return false;
	uint64_t rank = check__value_rank(v);
	for (size_t w = check__lower_rank(k->writers, k->n_writers, rank);
	     w < k->n_writers && k->writers[w].rank == rank; w++)
		if (!k->in_set[k->writers[w].op])
			return false;
	return true;
}

/*
 * Runs the search on one key. *linearizable says the verdict; an error means none was
 * reached (ERR_LIMIT: the budget ran out; ERR_NOMEM).
 *
 * Acknowledged operations are tried in the order of the event list, as Porcupine does.
 * Forced and optional ones have no call event: one is available once the frontier (the
 * first return event left) is at or after its invocation, which is when the walk would
 * pass its call. The forced ones and the few optional ones worth trying in a state
 * (check__candidates) are tried where the walk meets the first return event: after
 * every acknowledged call before it. So each state still offers every available
 * operation that can matter, and the search takes unknown ones last: a history is
 * seldom explained by many unknown operations taking effect, and trying them first (as
 * the walk used to, merging them by invocation) made a history with dozens of unknown
 * outcomes per key exceed the budget before the search reached the linearization that
 * needs none of them.
 */
static err *check__search(struct check__key *k, const struct check__register_budget *budget,
                          bool *linearizable)
{
	struct check__rstate st = {.looked = k->zero_looked, .look_until = k->zero_look_until};
	check__canonical(k, &st);
	uint64_t steps = check__candidates(k, &st);
	uint32_t cur = k->nodes[0].next;
	uint32_t j = 0; /* the next candidate */
	*linearizable = false;
	k->worst_node = 0;
	while (cur != CHECK__NIL) {
		if (++steps > budget->steps_per_key)
			return err_new(ERR_LIMIT, "more than %llu steps",
			               (unsigned long long)budget->steps_per_key);
		const struct check__node *node = &k->nodes[cur];
		bool candidate = j < k->n_cand && node->is_return;
		if (node->is_return && !candidate) {
			/* nothing left to try here: undo the last choice */
			check__note_block(k, cur, &st);
			if (k->depth == 0)
				return NULL;
			struct check__frame top = k->stack[--k->depth];
			k->in_set[top.op] = false;
			check__unlift(k, &k->ops[top.op]);
			st = top.before;
			steps += check__candidates(k, &st);
			cur = top.cur;
			j = top.cand;
			continue;
		}
		uint32_t i = candidate ? k->cand[j] : node->op;
		struct check__rstate next;
		bool added = false;
		if (check__enter(k, i, &st, &next)) {
			bool hopeless = check__hopeless(k, &next);
			if (hopeless) /* the walk would block at the return of the operation due */
				check__note_block(k, k->ops[k->req_order[next.req_next]].ret,
				                  &next);
			err *e = hopeless ? NULL : check__memo_add(&k->memo, &next, &added);
			if (e || !added)
				k->in_set[i] = false;
			TRY(e);
		}
		if (!added) {
			if (candidate)
				j++;
			else
				cur = node->next;
			continue;
		}
		assert(k->depth < k->n_ops);
		k->stack[k->depth++] = (struct check__frame){.op = i,
		                                             .before = st,
		                                             .cur = candidate ? cur : node->next,
		                                             .cand = candidate ? j + 1 : j};
		check__lift(k, &k->ops[i]);
		st = next;
		steps += check__candidates(k, &st);
		cur = k->nodes[0].next;
		j = 0;
	}
	*linearizable = true;
	return NULL;
}

/* ---- describing the failure ---- */

static int check__describe(char *out, size_t cap, const struct sim_reg_op *o)
{
	char when[80];
	check__interval(when, sizeof when, o->invoke_us, o->complete_us);
	const char *unknown = o->outcome == SIM_UNKNOWN ? " (outcome unknown)" : "";
	switch (o->kind) {
	case SIM_REG_READ:
		return snprintf(out, cap, "read %lld%s by client %u at %s", (long long)o->value,
		                unknown, o->client, when);
	case SIM_REG_WRITE:
		return snprintf(out, cap, "write %lld%s by client %u at %s", (long long)o->value,
		                unknown, o->client, when);
	default:
		return snprintf(out, cap, "cas %lld->%lld%s%s by client %u at %s",
		                (long long)o->expected, (long long)o->value,
		                o->outcome != SIM_OK ? ""
		                : o->swapped         ? " swapped"
		                                     : " not swapped",
		                unknown, o->client, when);
	}
}

static bool check__overlap(const struct sim_reg_op *a, const struct sim_reg_op *b)
{
	uint64_t a_end = a->outcome == SIM_OK ? a->complete_us : SIM_NEVER;
	uint64_t b_end = b->outcome == SIM_OK ? b->complete_us : SIM_NEVER;
	return !(a_end < b->invoke_us || b_end < a->invoke_us);
}

static err *check__violation(const struct check__key *k)
{
	assert(k->worst_node > 0);
	const struct check__rop *bad = &k->ops[k->nodes[k->worst_node].op];
	char text[1024];
	size_t len = 0;
	int w = snprintf(text, sizeof text, "register key %u: not linearizable: ", k->key);
	len = w > 0 ? (size_t)w : 0;
	w = check__describe(text + len, sizeof text - len, bad->src);
	len += w > 0 && (size_t)w < sizeof text - len ? (size_t)w : 0;
	const struct check__rstate *s = &k->worst_state;
	w = snprintf(text + len, sizeof text - len,
	             " cannot be linearized (furthest search: the register held %lld)",
	             (long long)s->actual);
	len += w > 0 && (size_t)w < sizeof text - len ? (size_t)w : 0;
	uint32_t shown = 0, more = 0;
	for (uint32_t i = 0; i < k->n_ops; i++) {
		const struct check__rop *o = &k->ops[i];
		if (o == bad || !check__overlap(o->src, bad->src))
			continue;
		if (shown == CHECK__CONCURRENT_SHOWN || len + 8 >= sizeof text) {
			more++;
			continue;
		}
		w = snprintf(text + len, sizeof text - len, "%s", shown ? "; " : "; concurrent: ");
		len += w > 0 && (size_t)w < sizeof text - len ? (size_t)w : 0;
		w = check__describe(text + len, sizeof text - len, o->src);
		len += w > 0 && (size_t)w < sizeof text - len ? (size_t)w : 0;
		shown++;
	}
	if (shown == 0)
		snprintf(text + len, sizeof text - len, "; no concurrent operations");
	else if (more)
		snprintf(text + len, sizeof text - len, "; and %u more", more);
	return err_new(ERR_INTERNAL, "%s", text);
}

/* ---- preparing one key ---- */

static int check__cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* How many times v occurs in the sorted array a. */
static size_t check__count(const int64_t *a, size_t n, int64_t v)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t count = 0;
	while (lo + count < n && a[lo + count] == v)
		count++;
	return count;
}

static int check__cmp_node(const void *a, const void *b)
{
	const struct check__node *x = a, *y = b;
	if (x->at_us != y->at_us)
		return x->at_us < y->at_us ? -1 : 1;
	if (x->is_return != y->is_return)
		return x->is_return ? 1 : -1; /* calls first: equal times overlap */
	return (x->op > y->op) - (x->op < y->op);
}

/* An operation that looks at a value: reads it, or compares with it as a CAS. */
struct check__look {
	int64_t value;
	uint64_t until_us; /* its deadline; SIM_NEVER for an optional CAS */
};

static int check__cmp_look(const void *a, const void *b)
{
	const struct check__look *x = a, *y = b;
	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return (x->until_us > y->until_us) - (x->until_us < y->until_us);
}

/* Who looks at v, among the n sorted looks: *looked, and the last deadline of them. */
static void check__lookers(const struct check__look *looks, size_t n, int64_t v, bool *looked,
                           uint64_t *until_us)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (looks[mid].value < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	*looked = lo < n && looks[lo].value == v;
	*until_us = 0;
	while (lo < n && looks[lo].value == v)
		*until_us = looks[lo++].until_us; /* ascending: the last is the latest */
}

/*
 * The earliest deadline of a required operation that observes `value`: a SIM_OK read
 * returning it, or a CAS expecting it that swapped — a SIM_OK one, or an unknown one
 * forced already (its own value was observed, so it found `value`). SIM_NEVER if none.
 */
static uint64_t check__first_observer(const struct check__key *k, int64_t value)
{
	uint64_t first = SIM_NEVER;
	for (uint32_t i = 0; i < k->n_ops; i++) {
		const struct check__rop *op = &k->ops[i];
		const struct sim_reg_op *o = op->src;
		bool observes;
		if (o->kind == SIM_REG_READ)
			observes = o->outcome == SIM_OK && o->value == value;
		else if (o->kind == SIM_REG_CAS)
			observes = o->expected == value &&
			           (o->outcome == SIM_OK ? o->swapped : !op->optional);
		else
			observes = false;
		if (observes && op->deadline_us < first)
			first = op->deadline_us;
	}
	return first;
}

/*
 * Forces unknown writes and CASes that must have happened: the only operation writing a
 * value a required operation observes took effect before that observer's deadline, so it
 * gets a return event at that deadline and is no longer optional (unless the deadline
 * precedes its invocation: the observer then fails on its own). A forced CAS observes
 * the value it expected in turn, so forcing repeats until nothing changes: a chain of
 * unknown writes and CASes whose last value was read is required link by link.
 */
static err *check__force(struct check__key *k)
{
	int64_t *written = malloc(((size_t)k->n_ops + 1) * sizeof *written);
	if (!written)
		return err_new(ERR_NOMEM, "register checker: %u values", k->n_ops);
	size_t n = 0;
	for (uint32_t i = 0; i < k->n_ops; i++) {
		k->ops[i].deadline_us = k->ops[i].src->complete_us;
		if (k->ops[i].src->kind != SIM_REG_READ)
			written[n++] = k->ops[i].src->value;
	}
	qsort(written, n, sizeof *written, check__cmp_i64);
	bool changed = true;
	for (uint32_t round = 0; changed && round <= k->n_ops; round++) { /* each forces one */
		changed = false;
		for (uint32_t i = 0; i < k->n_ops; i++) {
			struct check__rop *op = &k->ops[i];
			const struct sim_reg_op *o = op->src;
			if (!op->optional || check__count(written, n, o->value) != 1)
				continue;
			uint64_t deadline = check__first_observer(k, o->value);
			if (deadline != SIM_NEVER && deadline >= o->invoke_us) {
				op->optional = false;
				op->forced = true;
				op->deadline_us = deadline;
				changed = true;
			}
		}
	}
	free(written);
	return NULL;
}

/*
 * Drops the unknown CASes nothing needs: those whose value no required operation
 * observes (a read, a CAS that swapped, a forced CAS), nor a CAS needed in turn, and
 * whose expected value no acknowledged CAS that did not swap expects. Such a CAS can
 * only replace a value by one nobody looks at, and nobody needs the old value gone: take
 * it (and the CASes it enabled) out of a linearization and what is left is one too.
 * Left in, each kept the unknown writes of its expected value out of the pool, since
 * somebody "looked at" them: a few dozen unknown writes and CASes between two
 * acknowledged operations made the search try their subsets (simulator seed 425 with
 * 15 ms client timeouts, key 2).
 */
static err *check__drop_pointless(struct check__key *k)
{
	size_t cap = 2 * (size_t)k->n_ops + 1;
	struct check__ranked *cas = malloc(cap * sizeof *cas); /* optional CASes by value */
	int64_t *work = malloc(cap * sizeof *work);            /* values needed, to visit */
	int64_t *refused = malloc(cap * sizeof *refused);      /* expected by a refused CAS */
	bool *needed = calloc(cap, sizeof *needed);            /* per entry of cas */
	err *e = NULL;
	if (!cas || !work || !refused || !needed) {
		e = err_new(ERR_NOMEM, "register checker: %u operations", k->n_ops);
		goto out;
	}
	size_t n_cas = 0, n_work = 0, n_refused = 0;
	for (uint32_t i = 0; i < k->n_ops; i++) {
		const struct check__rop *op = &k->ops[i];
		const struct sim_reg_op *o = op->src;
		if (o->kind == SIM_REG_READ)
			work[n_work++] = o->value;
		else if (o->kind != SIM_REG_CAS)
			continue;
		else if (o->outcome == SIM_OK && !o->swapped)
			refused[n_refused++] = o->expected;
		else if (o->outcome == SIM_OK || op->forced)
			work[n_work++] = o->expected;
		else if (op->optional)
			cas[n_cas++] = (struct check__ranked){check__value_rank(o->value), i};
	}
	qsort(cas, n_cas, sizeof *cas, check__cmp_ranked);
	qsort(refused, n_refused, sizeof *refused, check__cmp_i64);
	for (size_t j = 0; j < n_cas; j++) {
		int64_t expected = k->ops[cas[j].op].src->expected;
		if (check__count(refused, n_refused, expected) > 0) {
			needed[j] = true;
			work[n_work++] = expected;
		}
	}
	while (n_work > 0) { /* each CAS becomes needed once: at most 2 n_ops pushes in all */
		uint64_t rank = check__value_rank(work[--n_work]);
		for (size_t j = check__lower_rank(cas, n_cas, rank);
		     j < n_cas && cas[j].rank == rank; j++) {
			if (needed[j])
				continue;
			needed[j] = true;
			assert(n_work < cap);
			work[n_work++] = k->ops[cas[j].op].src->expected;
		}
	}
	for (size_t j = 0; j < n_cas; j++)
		k->ops[cas[j].op].dropped = !needed[j];
out:
	free(cas);
	free(work);
	free(refused);
	free(needed);
	return e;
}

/*
 * Prepares the canonical forms: who looks at each written value (and at 0), the
 * required operations by deadline and the optional writes somebody looks at by the time
 * their last looker is due. An optional write nobody looks at is pooled from the start.
 */
static err *check__classify(struct check__key *k)
{
	TRY(check__force(k));
	TRY(check__drop_pointless(k));
	size_t cap = (size_t)k->n_ops + 1;
	struct check__look *looks = malloc(cap * sizeof *looks);
	struct check__ranked *ranked = malloc(cap * sizeof *ranked);
	k->in_set = calloc(cap, sizeof *k->in_set);
	k->req_order = malloc(cap * sizeof *k->req_order);
	k->exp_order = malloc(cap * sizeof *k->exp_order);
	k->cas_order = malloc(cap * sizeof *k->cas_order);
	k->wr_order = malloc(cap * sizeof *k->wr_order);
	k->forced_order = malloc(cap * sizeof *k->forced_order);
	k->writers = malloc(cap * sizeof *k->writers);
	k->cand = malloc(cap * sizeof *k->cand);
	err *e = NULL;
	if (!looks || !ranked || !k->in_set || !k->req_order || !k->exp_order || !k->cas_order ||
	    !k->wr_order || !k->forced_order || !k->writers || !k->cand) {
		e = err_new(ERR_NOMEM, "register checker: %u operations", k->n_ops);
		goto out;
	}
	size_t n_looks = 0;
	for (uint32_t i = 0; i < k->n_ops; i++) {
		const struct sim_reg_op *o = k->ops[i].src;
		if (o->kind == SIM_REG_READ)
			looks[n_looks++] = (struct check__look){o->value, o->complete_us};
		else if (o->kind == SIM_REG_CAS && !k->ops[i].dropped)
			looks[n_looks++] = (struct check__look){
			    o->expected, o->outcome == SIM_OK ? o->complete_us : SIM_NEVER};
	}
	qsort(looks, n_looks, sizeof *looks, check__cmp_look);
	check__lookers(looks, n_looks, 0, &k->zero_looked, &k->zero_look_until);
	size_t n_ranked = 0;
	for (uint32_t i = 0; i < k->n_ops; i++) {
		struct check__rop *op = &k->ops[i];
		if (op->src->kind != SIM_REG_READ)
			check__lookers(looks, n_looks, op->src->value, &op->looked,
			               &op->look_until);
		if (!op->optional)
			ranked[n_ranked++] = (struct check__ranked){op->deadline_us, i};
	}
	qsort(ranked, n_ranked, sizeof *ranked, check__cmp_ranked);
	for (size_t i = 0; i < n_ranked; i++)
		k->req_order[i] = ranked[i].op;
	k->n_req = (uint32_t)n_ranked;
	n_ranked = 0;
	for (uint32_t i = 0; i < k->n_ops; i++) {
		const struct check__rop *op = &k->ops[i];
		if (op->optional && op->src->kind == SIM_REG_WRITE && op->looked)
			ranked[n_ranked++] = (struct check__ranked){op->look_until, i};
	}
	qsort(ranked, n_ranked, sizeof *ranked, check__cmp_ranked);
	for (size_t i = 0; i < n_ranked; i++)
		k->exp_order[i] = ranked[i].op;
	k->n_exp = (uint32_t)n_ranked;
	for (uint32_t i = 0; i < k->n_ops; i++) {
		const struct check__rop *op = &k->ops[i];
		if (op->optional && op->src->kind == SIM_REG_WRITE)
			k->wr_order[k->n_wr++] = i; /* k->ops is sorted by invocation */
		if (op->forced)
			k->forced_order[k->n_forced++] = i;
		if (op->optional && op->src->kind == SIM_REG_CAS && !op->dropped)
			k->cas_order[k->n_cas++] =
			    (struct check__ranked){check__value_rank(op->src->expected), i};
		if (op->src->kind != SIM_REG_READ)
			k->writers[k->n_writers++] =
			    (struct check__ranked){check__value_rank(op->src->value), i};
	}
	qsort(k->cas_order, k->n_cas, sizeof *k->cas_order, check__cmp_ranked);
	qsort(k->writers, k->n_writers, sizeof *k->writers, check__cmp_ranked);
out:
	free(looks);
	free(ranked);
	return e;
}

/*
 * Builds the event list of the required operations of k->ops (sorted by invocation), and
 * the Zobrist keys.
 */
static err *check__build_events(struct check__key *k)
{
	uint32_t n_events = 0;
	for (uint32_t i = 0; i < k->n_ops; i++)
		n_events += k->ops[i].optional ? 0 : k->ops[i].forced ? 1 : 2;
	k->nodes = calloc((size_t)n_events + 1, sizeof *k->nodes);
	k->stack = calloc((size_t)k->n_ops + 1, sizeof *k->stack);
	if (!k->nodes || !k->stack)
		return err_new(ERR_NOMEM, "register checker: %u events", n_events);
	struct check__node *ev = k->nodes + 1;
	uint32_t e = 0;
	struct prng prng;
	prng_seed(&prng, prng_subseed(0x5eed, "register-check", k->key));
	for (uint32_t i = 0; i < k->n_ops; i++) {
		const struct sim_reg_op *o = k->ops[i].src;
		if (!k->ops[i].optional) {
			if (!k->ops[i].forced)
				ev[e++] = (struct check__node){.op = i, .at_us = o->invoke_us};
			ev[e++] = (struct check__node){
			    .op = i, .is_return = true, .at_us = k->ops[i].deadline_us};
		}
		k->ops[i].zkey[0] = prng_next(&prng);
		k->ops[i].zkey[1] = prng_next(&prng);
	}
	assert(e == n_events);
	qsort(ev, n_events, sizeof *ev, check__cmp_node);
	k->nodes[0] = (struct check__node){.prev = CHECK__NIL, .next = n_events ? 1 : CHECK__NIL};
	for (uint32_t i = 1; i <= n_events; i++) {
		k->nodes[i].prev = i - 1;
		k->nodes[i].next = i < n_events ? i + 1 : CHECK__NIL;
		struct check__rop *op = &k->ops[k->nodes[i].op];
		if (k->nodes[i].is_return)
			op->ret = i;
		else
			op->call = i;
	}
	return NULL;
}

static err *check__key_run(struct check__key *k, const struct check__register_budget *budget)
{
	TRY(check__classify(k));
	TRY(check__build_events(k));
	bool linearizable = false;
	err *e = check__search(k, budget, &linearizable);
	if (e)
		return err_wrap(e,
		                "register key %u: cannot decide within the budget (%u operations)",
		                k->key, k->n_ops);
	return linearizable ? NULL : check__violation(k);
}

/* ---- the whole history ---- */

/* Where an operation goes in the per-key order: by key, then invocation, then position. */
struct check__place {
	uint32_t key;
	uint64_t invoke_us;
	size_t index;
};

static int check__cmp_place(const void *a, const void *b)
{
	const struct check__place *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->invoke_us != y->invoke_us)
		return x->invoke_us < y->invoke_us ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

static err *check__validate(const struct sim_reg_op *ops, size_t n)
{
	if (n > CHECK_HISTORY_MAX)
		return err_new(ERR_LIMIT, "register history of %zu operations (at most %zu)", n,
		               CHECK_HISTORY_MAX);
	for (size_t i = 0; i < n; i++) {
		const struct sim_reg_op *o = &ops[i];
		if (o->kind < SIM_REG_READ || o->kind > SIM_REG_CAS || o->outcome < SIM_OK ||
		    o->outcome > SIM_UNKNOWN)
			return err_new(ERR_INVALID,
			               "register history: operation %zu has kind %u, "
			               "outcome %u",
			               i, o->kind, o->outcome);
		if (o->outcome == SIM_OK && o->complete_us < o->invoke_us)
			return err_new(ERR_INVALID,
			               "register history: operation %zu completes "
			               "before it is invoked",
			               i);
	}
	return NULL;
}

static bool check__relevant(const struct sim_reg_op *o)
{
	if (o->outcome == SIM_FAIL)
		return false;
	return !(o->outcome == SIM_UNKNOWN && o->kind == SIM_REG_READ);
}

err *check__register(const struct sim_reg_op *ops, size_t n,
                     const struct check__register_budget *budget)
{
	assert(budget && budget->states_per_key > 0);
	assert(budget->states_per_key <= (uint32_t)1 << 30); /* the memo doubles below 2^32 */
	TRY(check__validate(ops, n));
	struct check__place *order = malloc((n ? n : 1) * sizeof *order);
	struct check__rop *rops = malloc((n ? n : 1) * sizeof *rops);
	err *e = NULL;
	if (!order || !rops) {
		e = err_new(ERR_NOMEM, "register checker: %zu operations", n);
		goto out;
	}
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (check__relevant(&ops[i]))
			order[m++] = (struct check__place){ops[i].key, ops[i].invoke_us, i};
	qsort(order, m, sizeof *order, check__cmp_place);
	for (size_t start = 0, end; start < m && !e; start = end) {
		uint32_t key = order[start].key;
		for (end = start; end < m && order[end].key == key; end++) {
			const struct sim_reg_op *o = &ops[order[end].index];
			rops[end - start] =
			    (struct check__rop){.src = o,
			                        .optional = o->outcome == SIM_UNKNOWN,
			                        .call = CHECK__NIL,
			                        .ret = CHECK__NIL};
		}
		struct check__key k = {.key = key,
		                       .ops = rops,
		                       .n_ops = (uint32_t)(end - start),
		                       .memo = {.max = budget->states_per_key}};
		e = check__key_run(&k, budget);
		free(k.nodes);
		free(k.stack);
		free(k.in_set);
		free(k.req_order);
		free(k.exp_order);
		free(k.cas_order);
		free(k.wr_order);
		free(k.forced_order);
		free(k.writers);
		free(k.cand);
		free(k.memo.slots);
	}
out:
	free(order);
	free(rops);
	return e;
}

err *sim_check_register(const struct sim_reg_op *ops, size_t n)
{
	const struct check__register_budget budget = {
	    .states_per_key = CHECK_REGISTER_STATES_DEFAULT,
	    .steps_per_key = CHECK_REGISTER_STEPS_DEFAULT};
	return check__register(ops, n, &budget);
}
