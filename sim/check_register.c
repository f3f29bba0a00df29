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
 * stack. SIM_UNKNOWN operations have no return event, so they may be linearized at any
 * point after their invocation or never.
 *
 * Memoisation. The search's future depends only on which operations are linearized and
 * on the register's value, so each (set, value) pair is explored once. Sets are not
 * stored: a set is named by the XOR of two 64-bit random keys per member (Zobrist
 * hashing), updated in O(1) per step. Two different sets sharing 128 bits would make the
 * search skip a state it never saw; that can only turn "linearizable" into "not" (never
 * the reverse), and with the default budget of 2^21 states it happens with probability
 * below 2^-85.
 *
 * Unknown writes. Writes that may or may not have happened make the search exponential in
 * how many of them are pending. Two rules keep that in check without losing answers:
 *  - An unknown write or CAS whose new value nobody observes (no SIM_OK read returns it,
 *    no CAS that may have happened expects it) is "junk": all such values behave alike,
 *    since no test on the register can tell them apart. Junk writes are pooled: the state
 *    remembers how many were used, not which, because every unused one stays usable at
 *    every later point. A junk write on a register already holding junk is pointless and
 *    is never tried.
 *  - An unknown CAS is only tried where it would swap: one that fails changes nothing.
 * SIM_FAIL operations and unknown reads (which changed nothing and observed nothing) are
 * left out.
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
	bool junk;            /* optional, and its new value is never observed */
	bool pooled;          /* a junk write: counted, not named, in the state */
	uint32_t call;        /* event node of the invocation */
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
	int64_t value;
	bool junk;          /* the register holds a value nobody observes */
	uint32_t junk_used; /* pooled junk writes linearized so far */
	uint64_t hash[2];   /* Zobrist hash of the linearized non-pooled operations */
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
};

struct check__key {
	uint32_t key;
	struct check__rop *ops;
	uint32_t n_ops;
	struct check__node *nodes; /* 1 + events */
	struct check__frame *stack;
	uint32_t depth;
	struct check__memo memo;
	/* the return event that stopped the search furthest into the history */
	uint32_t worst_node;
	struct check__rstate worst_state;
};

/* ---- the memo: an open-addressing set of states ---- */

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
 * Applies op to *s as the register would. Returns false when op cannot take effect in
 * state *s — or, for optional operations, when taking effect would be pointless (a CAS
 * that does not swap, a junk write over junk): skipping those loses no linearization.
 */
static bool check__apply(const struct check__rop *op, struct check__rstate *s)
{
	const struct sim_reg_op *o = op->src;
	bool holds_expected = !s->junk && s->value == o->expected;
	switch (o->kind) {
	case SIM_REG_READ: assert(o->outcome == SIM_OK); return !s->junk && s->value == o->value;
	case SIM_REG_WRITE:
		if (op->junk && s->junk)
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
	s->junk = op->junk;
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

static void check__lift(struct check__key *k, const struct check__rop *op)
{
	check__unlink(k->nodes, op->call);
	if (op->ret != CHECK__NIL)
		check__unlink(k->nodes, op->ret);
}

/* Undoes check__lift(k, op); must be the most recent lift not yet undone. */
static void check__unlift(struct check__key *k, const struct check__rop *op)
{
	if (op->ret != CHECK__NIL)
		check__relink(k->nodes, op->ret);
	check__relink(k->nodes, op->call);
}

/* The state after linearizing op on top of *s, with the set's hash updated. */
static bool check__step(const struct check__rop *op, const struct check__rstate *s,
                        struct check__rstate *out)
{
	*out = *s;
	if (!check__apply(op, out))
		return false;
	if (op->pooled) {
		out->junk_used++;
	} else {
		out->hash[0] ^= op->zkey[0];
		out->hash[1] ^= op->zkey[1];
	}
	return true;
}

/*
 * Runs the search on one key. *linearizable says the verdict; an error means none was
 * reached (ERR_LIMIT: the budget ran out; ERR_NOMEM).
 */
static err *check__search(struct check__key *k, const struct check__register_budget *budget,
                          bool *linearizable)
{
	struct check__rstate st = {0};
	uint32_t cur = k->nodes[0].next;
	uint64_t steps = 0;
	*linearizable = false;
	k->worst_node = 0;
	while (cur != CHECK__NIL) {
		if (++steps > budget->steps_per_key)
			return err_new(ERR_LIMIT, "more than %llu steps",
			               (unsigned long long)budget->steps_per_key);
		const struct check__node *node = &k->nodes[cur];
		if (!node->is_return) {
			const struct check__rop *op = &k->ops[node->op];
			struct check__rstate next;
			bool added = false;
			if (check__step(op, &st, &next))
				TRY(check__memo_add(&k->memo, &next, &added));
			if (!added) {
				cur = node->next;
				continue;
			}
			assert(k->depth < k->n_ops);
			k->stack[k->depth++] = (struct check__frame){.op = node->op, .before = st};
			st = next;
			check__lift(k, op);
			cur = k->nodes[0].next;
			continue;
		}
		if (cur > k->worst_node) {
			k->worst_node = cur;
			k->worst_state = st;
		}
		if (k->depth == 0)
			return NULL;
		struct check__frame top = k->stack[--k->depth];
		const struct check__rop *undone = &k->ops[top.op];
		check__unlift(k, undone);
		st = top.before;
		cur = k->nodes[undone->call].next;
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
	if (s->junk)
		w = snprintf(text + len, sizeof text - len,
		             " cannot be linearized (furthest search: the register held an unread "
		             "value)");
	else
		w = snprintf(text + len, sizeof text - len,
		             " cannot be linearized (furthest search: the register held %lld)",
		             (long long)s->value);
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

static bool check__observed(const int64_t *seen, size_t n, int64_t v)
{
	return bsearch(&v, seen, n, sizeof *seen, check__cmp_i64) != NULL;
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

/*
 * The earliest completion of a SIM_OK operation that observes `value`: a read returning
 * it or a swapped CAS expecting it. SIM_NEVER if none does.
 */
static uint64_t check__first_observer(const struct check__key *k, int64_t value)
{
	uint64_t first = SIM_NEVER;
	for (uint32_t i = 0; i < k->n_ops; i++) {
		const struct sim_reg_op *o = k->ops[i].src;
		bool observes = o->outcome == SIM_OK &&
		                ((o->kind == SIM_REG_READ && o->value == value) ||
		                 (o->kind == SIM_REG_CAS && o->swapped && o->expected == value));
		if (observes && o->complete_us < first)
			first = o->complete_us;
	}
	return first;
}

/*
 * Sorts out the unknown writes and CASes of k:
 *  - forced: the only operation writing a value that a SIM_OK operation observes must
 *    have taken effect before that observer completed, so it gets a return event at that
 *    deadline and is no longer optional (unless the deadline precedes its invocation: the
 *    observer then fails on its own);
 *  - junk: one whose new value nobody can observe (no read returns it, no CAS expects
 *    it). Junk writes are pooled; a junk CAS still counts by name, since it can only
 *    take effect where it finds its expected value.
 */
static err *check__classify(struct check__key *k)
{
	int64_t *seen = malloc(((size_t)k->n_ops * 2 + 1) * sizeof *seen);
	int64_t *written = malloc(((size_t)k->n_ops + 1) * sizeof *written);
	err *e = NULL;
	if (!seen || !written) {
		e = err_new(ERR_NOMEM, "register checker: %u values", k->n_ops);
		goto out;
	}
	size_t n_seen = 0, n_written = 0;
	for (uint32_t i = 0; i < k->n_ops; i++) {
		const struct sim_reg_op *o = k->ops[i].src;
		if (o->kind == SIM_REG_READ)
			seen[n_seen++] = o->value;
		else
			written[n_written++] = o->value;
		if (o->kind == SIM_REG_CAS)
			seen[n_seen++] = o->expected;
	}
	qsort(seen, n_seen, sizeof *seen, check__cmp_i64);
	qsort(written, n_written, sizeof *written, check__cmp_i64);
	for (uint32_t i = 0; i < k->n_ops; i++) {
		struct check__rop *op = &k->ops[i];
		const struct sim_reg_op *o = op->src;
		op->deadline_us = o->complete_us;
		if (!op->optional)
			continue;
		op->junk = !check__observed(seen, n_seen, o->value);
		op->pooled = op->junk && o->kind == SIM_REG_WRITE;
		if (op->junk || check__count(written, n_written, o->value) != 1)
			continue;
		uint64_t deadline = check__first_observer(k, o->value);
		if (deadline != SIM_NEVER && deadline >= o->invoke_us) {
			op->optional = false;
			op->deadline_us = deadline;
		}
	}
out:
	free(seen);
	free(written);
	return e;
}

/* Builds the event list of k->ops (sorted by invocation) and the Zobrist keys. */
static err *check__build_events(struct check__key *k)
{
	uint32_t n_events = 0;
	for (uint32_t i = 0; i < k->n_ops; i++)
		n_events += k->ops[i].optional ? 1 : 2;
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
		ev[e++] = (struct check__node){.op = i, .at_us = o->invoke_us};
		if (!k->ops[i].optional)
			ev[e++] = (struct check__node){
			    .op = i, .is_return = true, .at_us = k->ops[i].deadline_us};
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
