/*
 * check_append.c — serializability of list-append transactions, in the style of Elle
 * (Kingsbury & Alvaro, "Elle: Inferring Isolation Anomalies from Experimental
 * Observations", 2020).
 *
 * What. Transactions append unique elements to lists and read whole lists. Because an
 * append never overwrites, a read of a list names every append that came before it, in
 * order: reads reveal the version order of each key directly, which a register's reads
 * never do. From the version orders follow the dependencies between transactions, and a
 * serializable history has no cycle of them.
 *
 * How, in passes over the history:
 *  1. Index every append by (key, element); an element appended twice is a malformed
 *     history (ERR_INVALID).
 *  2. Check each read of a SIM_OK transaction element by element: an element nobody
 *     appended is an "unknown element"; one appended by a SIM_FAIL transaction is G1a
 *     (aborted read); one appended by a SIM_UNKNOWN transaction proves that transaction
 *     committed. A transaction reads its own writes: its earlier appends to the key must
 *     end the list, in order, and none of its appends may appear before them ("internal"
 *     otherwise). What precedes its own appends is what it read of others (the external
 *     read).
 *  3. Per key, the longest read is the version order; every other read must be a prefix
 *     of it ("incompatible order" otherwise), and it must not repeat an element
 *     ("duplicate element"). A read holding an append of transaction W but not W's final
 *     append to that key saw W half done: G1b (intermediate read).
 *  4. The dependency graph over committed transactions: ww from the appender of each
 *     element to the appender of the next; wr from the appender of the last element of an
 *     external read to the reader; rw from the reader to the appender of the element that
 *     follows its external read. Cycles are searched with Tarjan's components
 *     (check_graph.c) in three passes: ww edges only (G0), ww and wr edges through a wr
 *     edge (G1c), any edges through an rw edge (G2); one concrete cycle of each class is
 *     reported with its transactions and edge kinds.
 *  5. Strict serializability's real-time promise: a SIM_OK append missing from a read
 *     whose transaction began after the appending transaction completed is a lost
 *     append. Per key, reads are sorted by invocation with a suffix minimum of their
 *     lengths, so each append costs one binary search.
 *
 * Report. Every anomaly class found is named; the message details the first instance of
 * the most basic class (malformed data, then G1a, internal, incompatible order, G1b, G0,
 * G1c, G2, lost append) and lists the other classes found.
 *
 * Trade-offs. Keys whose order is incompatible or has duplicates get no edges (their
 * order is not known), so a cycle through them is not looked for. Appends never read are
 * outside every version order: they add no ww edges. Real-time edges are not added to the
 * graph; strictness is judged by the lost-append pass alone. Budgets bound the list
 * elements read in all and the edges; past them the answer is ERR_LIMIT.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/check.h"
#include "sim/check_graph.h"
#include "sim/check_internal.h"

#define CHECK__NONE UINT32_MAX
#define CHECK__MOPS_MAX 256   /* micro-operations in one transaction */
#define CHECK__SHOWN 8        /* list elements quoted in a message */
#define CHECK__DETAIL_MAX 700 /* one anomaly's description */

/* ---- anomalies found ---- */

enum check__anomaly {
	CHECK__DUPLICATE,
	CHECK__UNKNOWN_ELEMENT,
	CHECK__G1A,
	CHECK__INTERNAL,
	CHECK__INCOMPATIBLE,
	CHECK__G1B,
	CHECK__G0,
	CHECK__G1C,
	CHECK__G2,
	CHECK__LOST,
	CHECK__ANOMALIES
};

static const char *const check__anomaly_name[CHECK__ANOMALIES] = {
    [CHECK__DUPLICATE] = "duplicate element",
    [CHECK__UNKNOWN_ELEMENT] = "unknown element",
    [CHECK__G1A] = "G1a (aborted read)",
    [CHECK__INTERNAL] = "internal (a transaction misread its own appends)",
    [CHECK__INCOMPATIBLE] = "incompatible order",
    [CHECK__G1B] = "G1b (intermediate read)",
    [CHECK__G0] = "G0 (write cycle)",
    [CHECK__G1C] = "G1c (cyclic information flow)",
    [CHECK__G2] = "G2 (anti-dependency cycle)",
    [CHECK__LOST] = "lost append",
};

struct check__report {
	uint32_t found; /* bit per enum check__anomaly */
	char first[CHECK__ANOMALIES][CHECK__DETAIL_MAX];
};

/* Records an instance of `kind`; only the first of each kind is described. */
__attribute__((format(printf, 3, 4))) static void check__note(struct check__report *r,
                                                              enum check__anomaly kind,
                                                              const char *fmt, ...)
{
	if (r->found & (1u << kind))
		return;
	r->found |= 1u << kind;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->first[kind], sizeof r->first[kind], fmt, ap);
	va_end(ap);
}

static err *check__verdict(const struct check__report *r)
{
	if (!r->found)
		return NULL;
	int kind = 0;
	while (!(r->found & (1u << kind)))
		kind++;
	char also[256] = "";
	size_t len = 0;
	for (int k = kind + 1; k < CHECK__ANOMALIES; k++) {
		if (!(r->found & (1u << k)))
			continue;
		int w = snprintf(also + len, sizeof also - len, "%s%s",
		                 len ? ", " : " (also: ", check__anomaly_name[k]);
		if (w < 0 || (size_t)w >= sizeof also - len)
			break;
		len += (size_t)w;
	}
	return err_new(ERR_INTERNAL, "append: %s: %s%s%s", check__anomaly_name[kind],
	               r->first[kind], also, len ? ")" : "");
}

/* ---- the history, indexed ---- */

struct check__app {
	uint32_t key;
	int64_t value;
	uint32_t txn, mop;
	int64_t last_value; /* the value of the same transaction's final append to key */
	uint32_t pos;       /* place in the key's version order; CHECK__NONE if not in it */
};

struct check__read {
	uint32_t key;
	uint32_t txn, mop;
	const int64_t *list;
	uint32_t len;
	uint32_t ext_len; /* the external read: without the transaction's own appends */
	bool sane;        /* passed the internal check: its external read is meaningful */
};

struct check__key {
	uint32_t key;
	uint32_t first_read, n_reads; /* its reads, longest first */
	const int64_t *order;         /* the version order: the longest read */
	uint32_t len;
	bool known; /* the order is compatible with every read and has no duplicates */
};

struct check__ctx {
	const struct sim_txn *txns;
	size_t n_txns;
	const struct check__append_budget *budget;
	struct check__app *apps;
	size_t n_apps;
	struct check__read *reads;
	size_t n_reads;
	struct check__key *keys;
	size_t n_keys;
	bool *committed; /* per transaction: SIM_OK, or SIM_UNKNOWN with an append seen */
	struct check__report report;
};

static int check__cmp_app(const void *a, const void *b)
{
	const struct check__app *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	if (x->txn != y->txn)
		return x->txn < y->txn ? -1 : 1;
	return (x->mop > y->mop) - (x->mop < y->mop);
}

static int check__cmp_app_by_txn(const void *a, const void *b)
{
	const struct check__app *x = a, *y = b;
	if (x->txn != y->txn)
		return x->txn < y->txn ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->mop > y->mop) - (x->mop < y->mop);
}

static struct check__app *check__find(const struct check__ctx *c, uint32_t key, int64_t value)
{
	size_t lo = 0, hi = c->n_apps;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct check__app *a = &c->apps[mid];
		if (a->key < key || (a->key == key && a->value < value))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c->n_apps && c->apps[lo].key == key && c->apps[lo].value == value)
		return &c->apps[lo];
	return NULL;
}

/* ---- describing transactions and reads ---- */

static void check__txn_text(const struct check__ctx *c, uint32_t t, char *out, size_t cap)
{
	const struct sim_txn *txn = &c->txns[t];
	char when[80];
	check__interval(when, sizeof when, txn->invoke_us,
	                txn->outcome == SIM_OK ? txn->complete_us : SIM_NEVER);
	snprintf(out, cap, "T%u (client %u, %s%s)", t, txn->client, when,
	         txn->outcome == SIM_OK     ? ""
	         : txn->outcome == SIM_FAIL ? ", failed"
	                                    : ", outcome unknown");
}

static void check__list_text(const int64_t *list, uint32_t len, char *out, size_t cap)
{
	size_t used = 0;
	int w = snprintf(out, cap, "[");
	used = w > 0 ? (size_t)w : 0;
	for (uint32_t i = 0; i < len && i < CHECK__SHOWN && used < cap; i++) {
		w = snprintf(out + used, cap - used, "%s%lld", i ? " " : "", (long long)list[i]);
		used += w > 0 ? (size_t)w : 0;
	}
	if (used < cap && len > CHECK__SHOWN)
		snprintf(out + used, cap - used, " ... (%u elements)]", len);
	else if (used < cap)
		snprintf(out + used, cap - used, "]");
}

static void check__read_text(const struct check__ctx *c, const struct check__read *r, char *out,
                             size_t cap)
{
	char who[160], list[200];
	check__txn_text(c, r->txn, who, sizeof who);
	check__list_text(r->list, r->len, list, sizeof list);
	snprintf(out, cap, "%s read key %u = %s", who, r->key, list);
}

/* ---- pass 1: index the appends ---- */

static err *check__index_appends(struct check__ctx *c)
{
	size_t n = 0;
	for (size_t t = 0; t < c->n_txns; t++)
		for (uint32_t m = 0; m < c->txns[t].n_mops; m++)
			n += c->txns[t].mops[m].kind == SIM_MOP_APPEND;
	c->apps = malloc((n ? n : 1) * sizeof *c->apps);
	if (!c->apps)
		return err_new(ERR_NOMEM, "append checker: %zu appends", n);
	for (size_t t = 0; t < c->n_txns; t++) {
		const struct sim_txn *txn = &c->txns[t];
		for (uint32_t m = 0; m < txn->n_mops; m++) {
			const struct sim_mop *mop = &txn->mops[m];
			if (mop->kind != SIM_MOP_APPEND)
				continue;
			c->apps[c->n_apps++] = (struct check__app){.key = mop->key,
			                                           .value = mop->value,
			                                           .txn = (uint32_t)t,
			                                           .mop = m,
			                                           .pos = CHECK__NONE};
		}
	}
	assert(c->n_apps == n);
	/* grouped by (transaction, key), each append learns its group's final value */
	qsort(c->apps, c->n_apps, sizeof *c->apps, check__cmp_app_by_txn);
	for (size_t i = c->n_apps; i-- > 0;) {
		const struct check__app *next = i + 1 < c->n_apps ? &c->apps[i + 1] : NULL;
		bool same = next && next->txn == c->apps[i].txn && next->key == c->apps[i].key;
		c->apps[i].last_value = same ? next->last_value : c->apps[i].value;
	}
	qsort(c->apps, c->n_apps, sizeof *c->apps, check__cmp_app);
	for (size_t i = 1; i < c->n_apps; i++) {
		const struct check__app *a = &c->apps[i - 1], *b = &c->apps[i];
		if (a->key == b->key && a->value == b->value)
			return err_new(ERR_INVALID,
			               "append history: element %lld appended to key %u "
			               "by T%u and T%u",
			               (long long)a->value, a->key, a->txn, b->txn);
	}
	return NULL;
}

/* ---- pass 2: each read on its own ---- */

/*
 * Checks the read at txn t, mop m against the transaction's own earlier appends and sets
 * r->ext_len and r->sane. Promises: a sane read's first ext_len elements were appended by
 * other transactions and the rest are exactly t's earlier appends to the key, in order.
 */
static void check__own_appends(struct check__ctx *c, uint32_t t, uint32_t m, struct check__read *r)
{
	const struct sim_txn *txn = &c->txns[t];
	uint32_t own = 0;
	for (uint32_t j = 0; j < m; j++)
		own += txn->mops[j].kind == SIM_MOP_APPEND && txn->mops[j].key == r->key;
	r->sane = own <= r->len;
	r->ext_len = r->sane ? r->len - own : 0;
	for (uint32_t j = 0, i = r->ext_len; j < m && r->sane; j++)
		if (txn->mops[j].kind == SIM_MOP_APPEND && txn->mops[j].key == r->key)
			r->sane = r->list[i++] == txn->mops[j].value;
	for (uint32_t i = 0; i < r->ext_len && r->sane; i++) {
		const struct check__app *a = check__find(c, r->key, r->list[i]);
		r->sane = !a || a->txn != t;
	}
	if (!r->sane) {
		char text[400];
		check__read_text(c, r, text, sizeof text);
		check__note(&c->report, CHECK__INTERNAL,
		            "%s, which does not end with exactly its own %u earlier append(s) to "
		            "that key",
		            text, own);
	}
}

/* Checks every element of a read for its appender; marks unknown appenders committed. */
static void check__elements(struct check__ctx *c, const struct check__read *r)
{
	for (uint32_t i = 0; i < r->len; i++) {
		const struct check__app *a = check__find(c, r->key, r->list[i]);
		char text[400], who[160];
		if (!a) {
			check__read_text(c, r, text, sizeof text);
			check__note(&c->report, CHECK__UNKNOWN_ELEMENT,
			            "%s, but no transaction appended %lld to key %u", text,
			            (long long)r->list[i], r->key);
			continue;
		}
		uint8_t outcome = c->txns[a->txn].outcome;
		if (outcome == SIM_UNKNOWN)
			c->committed[a->txn] = true;
		if (outcome == SIM_FAIL) {
			check__read_text(c, r, text, sizeof text);
			check__txn_text(c, a->txn, who, sizeof who);
			check__note(&c->report, CHECK__G1A, "%s, which holds %lld appended by %s",
			            text, (long long)a->value, who);
		}
	}
}

static err *check__collect_reads(struct check__ctx *c)
{
	size_t n = 0;
	uint64_t elements = 0;
	for (size_t t = 0; t < c->n_txns; t++) {
		if (c->txns[t].outcome != SIM_OK)
			continue;
		for (uint32_t m = 0; m < c->txns[t].n_mops; m++) {
			const struct sim_mop *mop = &c->txns[t].mops[m];
			if (mop->kind != SIM_MOP_READ)
				continue;
			n++;
			elements += mop->list_len;
		}
	}
	if (elements > c->budget->elements)
		return err_new(ERR_LIMIT, "append history: %llu list elements read (at most %llu)",
		               (unsigned long long)elements,
		               (unsigned long long)c->budget->elements);
	c->reads = malloc((n ? n : 1) * sizeof *c->reads);
	if (!c->reads)
		return err_new(ERR_NOMEM, "append checker: %zu reads", n);
	for (size_t t = 0; t < c->n_txns; t++) {
		if (c->txns[t].outcome != SIM_OK)
			continue;
		for (uint32_t m = 0; m < c->txns[t].n_mops; m++) {
			const struct sim_mop *mop = &c->txns[t].mops[m];
			if (mop->kind != SIM_MOP_READ)
				continue;
			struct check__read *r = &c->reads[c->n_reads++];
			*r = (struct check__read){.key = mop->key,
			                          .txn = (uint32_t)t,
			                          .mop = m,
			                          .list = mop->list,
			                          .len = mop->list_len};
			check__elements(c, r);
			check__own_appends(c, (uint32_t)t, m, r);
		}
	}
	return NULL;
}

/* ---- pass 3: version orders ---- */

static int check__cmp_read(const void *a, const void *b)
{
	const struct check__read *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->len != y->len)
		return x->len > y->len ? -1 : 1; /* longest first */
	if (x->txn != y->txn)
		return x->txn < y->txn ? -1 : 1;
	return (x->mop > y->mop) - (x->mop < y->mop);
}

static int check__cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* True if the order of k repeats no element; notes the anomaly otherwise. */
static err *check__order_unique(struct check__ctx *c, const struct check__key *k, bool *unique)
{
	*unique = true;
	int64_t *sorted = malloc((k->len ? k->len : 1) * sizeof *sorted);
	if (!sorted)
		return err_new(ERR_NOMEM, "append checker: a list of %u elements", k->len);
	if (k->len)
		memcpy(sorted, k->order, k->len * sizeof *sorted);
	qsort(sorted, k->len, sizeof *sorted, check__cmp_i64);
	for (uint32_t i = 1; i < k->len && *unique; i++) {
		if (sorted[i] != sorted[i - 1])
			continue;
		char text[400];
		check__read_text(c, &c->reads[k->first_read], text, sizeof text);
		check__note(&c->report, CHECK__DUPLICATE, "%s, which holds %lld twice", text,
		            (long long)sorted[i]);
		*unique = false;
	}
	free(sorted);
	return NULL;
}

/* Derives the version order of every key read and checks each read is a prefix of it. */
static err *check__orders(struct check__ctx *c)
{
	qsort(c->reads, c->n_reads, sizeof *c->reads, check__cmp_read);
	c->keys = malloc((c->n_reads ? c->n_reads : 1) * sizeof *c->keys);
	if (!c->keys)
		return err_new(ERR_NOMEM, "append checker: %zu keys", c->n_reads);
	for (size_t start = 0, end; start < c->n_reads; start = end) {
		const struct check__read *longest = &c->reads[start];
		struct check__key *k = &c->keys[c->n_keys++];
		*k = (struct check__key){.key = longest->key,
		                         .first_read = (uint32_t)start,
		                         .order = longest->list,
		                         .len = longest->len,
		                         .known = true};
		for (end = start + 1; end < c->n_reads && c->reads[end].key == k->key; end++) {
			const struct check__read *r = &c->reads[end];
			if (r->len == 0 || memcmp(r->list, k->order, r->len * sizeof *r->list) == 0)
				continue;
			if (k->known) {
				char a[400], b[400];
				check__read_text(c, longest, a, sizeof a);
				check__read_text(c, r, b, sizeof b);
				check__note(&c->report, CHECK__INCOMPATIBLE,
				            "%s is not a prefix of %s", b, a);
			}
			k->known = false;
		}
		k->n_reads = (uint32_t)(end - start);
		bool unique = true;
		TRY(check__order_unique(c, k, &unique));
		k->known = k->known && unique;
		for (uint32_t i = 0; i < k->len && k->known; i++) {
			struct check__app *a = check__find(c, k->key, k->order[i]);
			if (a)
				a->pos = i;
		}
	}
	return NULL;
}

/* G1b: a read holding an append of W but not W's final append to that key. */
static void check__intermediate_reads(struct check__ctx *c)
{
	for (size_t ki = 0; ki < c->n_keys; ki++) {
		const struct check__key *k = &c->keys[ki];
		for (uint32_t ri = 0; ri < k->n_reads && k->known; ri++) {
			const struct check__read *r = &c->reads[k->first_read + ri];
			for (uint32_t i = 0; i < r->len; i++) {
				const struct check__app *a = check__find(c, k->key, r->list[i]);
				if (!a || a->txn == r->txn || a->last_value == a->value)
					continue;
				const struct check__app *last =
				    check__find(c, k->key, a->last_value);
				assert(last);
				if (last->pos != CHECK__NONE && last->pos < r->len)
					continue;
				char text[400], who[160];
				check__read_text(c, r, text, sizeof text);
				check__txn_text(c, a->txn, who, sizeof who);
				check__note(
				    &c->report, CHECK__G1B,
				    "%s, which holds %lld but not %lld, both appended by %s", text,
				    (long long)a->value, (long long)a->last_value, who);
			}
		}
	}
}

/* ---- pass 4: dependencies and their cycles ---- */

/* The committed appender of element i of k's order, or CHECK__NONE. */
static uint32_t check__writer(const struct check__ctx *c, const struct check__key *k, uint32_t i)
{
	assert(i < k->len);
	const struct check__app *a = check__find(c, k->key, k->order[i]);
	return a && c->committed[a->txn] ? a->txn : CHECK__NONE;
}

static err *check__edge(struct check__graph *g, uint32_t from, uint32_t to, uint8_t kind,
                        uint32_t key)
{
	if (from == CHECK__NONE || to == CHECK__NONE || from == to)
		return NULL;
	return check__graph_add(g, from, to, kind, key);
}

static err *check__build_graph(struct check__ctx *c, struct check__graph *g)
{
	for (size_t ki = 0; ki < c->n_keys; ki++) {
		const struct check__key *k = &c->keys[ki];
		if (!k->known)
			continue;
		for (uint32_t i = 1; i < k->len; i++)
			TRY(check__edge(g, check__writer(c, k, i - 1), check__writer(c, k, i),
			                CHECK__WW, k->key));
		for (uint32_t ri = 0; ri < k->n_reads; ri++) {
			const struct check__read *r = &c->reads[k->first_read + ri];
			if (!r->sane)
				continue;
			if (r->ext_len > 0)
				TRY(check__edge(g, check__writer(c, k, r->ext_len - 1), r->txn,
				                CHECK__WR, k->key));
			if (r->ext_len < k->len)
				TRY(check__edge(g, r->txn, check__writer(c, k, r->ext_len),
				                CHECK__RW, k->key));
		}
	}
	return check__graph_freeze(g);
}

static const char *check__edge_name(uint8_t kind)
{
	return kind == CHECK__WW ? "ww" : kind == CHECK__WR ? "wr" : "rw";
}

/* Looks for one cycle of a class and notes it. */
static err *check__cycles_of(struct check__ctx *c, const struct check__graph *g,
                             enum check__anomaly kind, uint8_t allowed, uint8_t required)
{
	uint64_t *cycle = NULL;
	uint32_t len = 0;
	TRY(check__graph_cycle(g, allowed, required, &cycle, &len));
	if (!len)
		return NULL;
	char text[CHECK__DETAIL_MAX], who[160];
	size_t used = 0;
	for (uint32_t i = 0; i < len && used < sizeof text; i++) {
		const struct check__edge *e = &g->edges[cycle[i]];
		check__txn_text(c, e->from, who, sizeof who);
		int w = snprintf(text + used, sizeof text - used, "%s -%s(key %u)-> ", who,
		                 check__edge_name(e->kind), e->key);
		used += w > 0 ? (size_t)w : 0;
	}
	if (used < sizeof text)
		snprintf(text + used, sizeof text - used, "T%u", g->edges[cycle[0]].from);
	check__note(&c->report, kind, "cycle %s", text);
	free(cycle);
	return NULL;
}

static err *check__cycles(struct check__ctx *c)
{
	assert(c->n_txns <= CHECK_HISTORY_MAX); /* so transaction numbers fit in 32 bits */
	struct check__graph g;
	check__graph_init(&g, (uint32_t)c->n_txns, c->budget->edges);
	err *e = check__build_graph(c, &g);
	if (!e)
		e = check__cycles_of(c, &g, CHECK__G0, CHECK__WW, CHECK__WW);
	if (!e)
		e = check__cycles_of(c, &g, CHECK__G1C, CHECK__WW | CHECK__WR, CHECK__WR);
	if (!e)
		e = check__cycles_of(c, &g, CHECK__G2, CHECK__WW | CHECK__WR | CHECK__RW,
		                     CHECK__RW);
	check__graph_free(&g);
	return e;
}

/* ---- pass 5: lost appends (real time) ---- */

struct check__timed {
	uint64_t invoke_us;
	uint32_t read;     /* index into c->reads */
	uint32_t min_len;  /* the shortest read invoked at or after this one... */
	uint32_t min_read; /* ...and which read that is */
};

static int check__cmp_timed(const void *a, const void *b)
{
	const struct check__timed *x = a, *y = b;
	if (x->invoke_us != y->invoke_us)
		return x->invoke_us < y->invoke_us ? -1 : 1;
	return (x->read > y->read) - (x->read < y->read);
}

/* The first of n entries invoked strictly after t_us (n if none). */
static uint32_t check__first_after(const struct check__timed *tm, uint32_t n, uint64_t t_us)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (tm[mid].invoke_us <= t_us)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void check__lost_in_key(struct check__ctx *c, const struct check__key *k,
                               struct check__timed *tm)
{
	for (uint32_t i = 0; i < k->n_reads; i++) {
		uint32_t ri = k->first_read + i;
		tm[i] = (struct check__timed){.invoke_us = c->txns[c->reads[ri].txn].invoke_us,
		                              .read = ri};
	}
	qsort(tm, k->n_reads, sizeof *tm, check__cmp_timed);
	for (uint32_t i = k->n_reads; i-- > 0;) {
		tm[i].min_len = c->reads[tm[i].read].len;
		tm[i].min_read = tm[i].read;
		if (i + 1 < k->n_reads && tm[i + 1].min_len < tm[i].min_len) {
			tm[i].min_len = tm[i + 1].min_len;
			tm[i].min_read = tm[i + 1].min_read;
		}
	}
	const struct check__app *a = c->apps;
	size_t lo = 0, hi = c->n_apps;
	while (lo < hi) { /* the first append to this key */
		size_t mid = lo + (hi - lo) / 2;
		if (c->apps[mid].key < k->key)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < c->n_apps && a[i].key == k->key; i++) {
		const struct sim_txn *w = &c->txns[a[i].txn];
		if (w->outcome != SIM_OK)
			continue;
		uint32_t first = check__first_after(tm, k->n_reads, w->complete_us);
		if (first == k->n_reads)
			continue;
		if (a[i].pos != CHECK__NONE && a[i].pos < tm[first].min_len)
			continue;
		char text[400], who[160];
		check__read_text(c, &c->reads[tm[first].min_read], text, sizeof text);
		check__txn_text(c, a[i].txn, who, sizeof who);
		check__note(&c->report, CHECK__LOST,
		            "%s appended %lld to key %u, missing from the later %s", who,
		            (long long)a[i].value, k->key, text);
	}
}

static err *check__lost_appends(struct check__ctx *c)
{
	struct check__timed *tm = malloc((c->n_reads ? c->n_reads : 1) * sizeof *tm);
	if (!tm)
		return err_new(ERR_NOMEM, "append checker: %zu reads", c->n_reads);
	for (size_t ki = 0; ki < c->n_keys; ki++)
		if (c->keys[ki].known)
			check__lost_in_key(c, &c->keys[ki], tm);
	free(tm);
	return NULL;
}

/* ---- the whole history ---- */

static err *check__validate(const struct sim_txn *txns, size_t n)
{
	if (n > CHECK_HISTORY_MAX)
		return err_new(ERR_LIMIT, "append history of %zu transactions (at most %zu)", n,
		               CHECK_HISTORY_MAX);
	for (size_t t = 0; t < n; t++) {
		const struct sim_txn *txn = &txns[t];
		if (txn->outcome < SIM_OK || txn->outcome > SIM_UNKNOWN)
			return err_new(ERR_INVALID, "append history: T%zu has outcome %u", t,
			               txn->outcome);
		if (txn->outcome == SIM_OK && txn->complete_us < txn->invoke_us)
			return err_new(ERR_INVALID,
			               "append history: T%zu completes before it begins", t);
		if (txn->n_mops > CHECK__MOPS_MAX)
			return err_new(ERR_LIMIT,
			               "append history: T%zu has %u operations (at most %d)", t,
			               txn->n_mops, CHECK__MOPS_MAX);
		if (txn->n_mops && !txn->mops)
			return err_new(ERR_INVALID, "append history: T%zu has no operations", t);
		for (uint32_t m = 0; m < txn->n_mops; m++) {
			const struct sim_mop *mop = &txn->mops[m];
			if (mop->kind != SIM_MOP_APPEND && mop->kind != SIM_MOP_READ)
				return err_new(ERR_INVALID,
				               "append history: T%zu operation %u has kind %u", t,
				               m, mop->kind);
			if (mop->kind == SIM_MOP_READ && txn->outcome == SIM_OK && mop->list_len &&
			    !mop->list)
				return err_new(ERR_INVALID,
				               "append history: T%zu read %u has no list", t, m);
		}
	}
	return NULL;
}

err *check__append(const struct sim_txn *txns, size_t n, const struct check__append_budget *budget)
{
	assert(budget);
	TRY(check__validate(txns, n));
	struct check__ctx *c = calloc(1, sizeof *c);
	if (!c)
		return err_new(ERR_NOMEM, "append checker");
	*c = (struct check__ctx){.txns = txns, .n_txns = n, .budget = budget};
	c->committed = calloc(n ? n : 1, sizeof *c->committed);
	err *e = c->committed ? NULL : err_new(ERR_NOMEM, "append checker: %zu transactions", n);
	for (size_t t = 0; t < n && !e; t++)
		c->committed[t] = txns[t].outcome == SIM_OK;
	if (!e)
		e = check__index_appends(c);
	if (!e)
		e = check__collect_reads(c);
	if (!e)
		e = check__orders(c);
	if (!e) {
		check__intermediate_reads(c);
		e = check__cycles(c);
	}
	if (!e)
		e = check__lost_appends(c);
	if (!e)
		e = check__verdict(&c->report);
	free(c->committed);
	free(c->apps);
	free(c->reads);
	free(c->keys);
	free(c);
	return e;
}

err *sim_check_append(const struct sim_txn *txns, size_t n)
{
	const struct check__append_budget budget = {.elements = CHECK_APPEND_ELEMENTS_DEFAULT,
	                                            .edges = CHECK_APPEND_EDGES_DEFAULT};
	return check__append(txns, n, &budget);
}
