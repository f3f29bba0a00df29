/*
 * check_graph.c — strongly connected components and concrete cycles of a dependency
 * graph.
 *
 * What. The list-append checker reduces "is there an anomaly of class X" to "is there a
 * cycle whose edges are of kinds A that uses an edge of kind R": G0 is a cycle of ww
 * edges, G1c one of ww and wr edges with at least one wr, G2 any cycle with an rw edge.
 *
 * How. Tarjan's algorithm finds the strongly connected components of the subgraph of
 * allowed edges in one linear pass; it runs with an explicit stack (one frame per node on
 * the current path, holding the next edge to look at) so a history of a million
 * transactions cannot overflow the C stack. An edge lies on a cycle of allowed edges
 * exactly when both its ends are in the same component. For the first such edge of a
 * required kind, a breadth-first search inside that component from the edge's head back
 * to its tail gives the shortest path closing the cycle, which is what a person wants to
 * read.
 *
 * Trade-offs. Edges are kept in one sorted array indexed by source (compressed sparse
 * rows): compact, cache-friendly and deterministic, but frozen once built. The cycle
 * reported is short, not necessarily the shortest of its class in the whole graph.
 */
#include "sim/check_graph.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define CHECK__NONE UINT32_MAX

void check__graph_init(struct check__graph *g, uint32_t n_nodes, uint64_t max_edges)
{
	*g = (struct check__graph){.n_nodes = n_nodes, .max_edges = max_edges};
}

void check__graph_free(struct check__graph *g)
{
	free(g->edges);
	free(g->first);
	*g = (struct check__graph){0};
}

err *check__graph_add(struct check__graph *g, uint32_t from, uint32_t to, uint8_t kind,
                      uint32_t key)
{
	assert(from < g->n_nodes && to < g->n_nodes && from != to);
	assert(kind == CHECK__WW || kind == CHECK__WR || kind == CHECK__RW);
	assert(!g->first);
	if (g->n_edges >= g->max_edges)
		return err_new(ERR_LIMIT, "more than %llu dependency edges",
		               (unsigned long long)g->max_edges);
	if (g->n_edges == g->cap_edges) {
		uint64_t cap = g->cap_edges ? g->cap_edges * 2 : 256;
		struct check__edge *edges = realloc(g->edges, cap * sizeof *edges);
		if (!edges)
			return err_new(ERR_NOMEM, "dependency graph of %llu edges",
			               (unsigned long long)cap);
		g->edges = edges;
		g->cap_edges = cap;
	}
	g->edges[g->n_edges++] =
	    (struct check__edge){.from = from, .to = to, .key = key, .kind = kind};
	return NULL;
}

static int check__cmp_edge(const void *a, const void *b)
{
	const struct check__edge *x = a, *y = b;
	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	if (x->to != y->to)
		return x->to < y->to ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return (x->key > y->key) - (x->key < y->key);
}

err *check__graph_freeze(struct check__graph *g)
{
	assert(!g->first);
	g->first = calloc((size_t)g->n_nodes + 1, sizeof *g->first);
	if (!g->first)
		return err_new(ERR_NOMEM, "dependency graph of %u nodes", g->n_nodes);
	if (g->n_edges)
		qsort(g->edges, g->n_edges, sizeof *g->edges, check__cmp_edge);
	uint64_t kept = 0;
	for (uint64_t i = 0; i < g->n_edges; i++)
		if (kept == 0 || check__cmp_edge(&g->edges[kept - 1], &g->edges[i]) != 0)
			g->edges[kept++] = g->edges[i];
	g->n_edges = kept;
	for (uint64_t i = 0; i < g->n_edges; i++)
		g->first[g->edges[i].from + 1]++;
	for (uint32_t v = 0; v < g->n_nodes; v++)
		g->first[v + 1] += g->first[v];
	assert(g->first[g->n_nodes] == g->n_edges);
	return NULL;
}

/* ---- Tarjan's strongly connected components, iteratively ---- */

struct check__tarjan {
	uint32_t *index; /* discovery order, CHECK__NONE before discovery */
	uint32_t *low;   /* lowest index reachable through the DFS subtree and back edges */
	uint32_t *comp;  /* component number, CHECK__NONE until assigned */
	uint32_t *stack; /* Tarjan's stack of nodes not yet in a component */
	uint8_t *on_stack;
	uint32_t *path;      /* the DFS path, replacing recursion */
	uint64_t *next_edge; /* per path frame: the next edge of that node to look at */
};

/*
 * Numbers the components of the subgraph of edges with kind in `allowed` into
 * t->comp. Every node gets a component; a node on no cycle is alone in its own.
 */
static void check__tarjan_run(const struct check__graph *g, uint8_t allowed,
                              struct check__tarjan *t)
{
	uint32_t counter = 0, n_comp = 0, top = 0;
	for (uint32_t root = 0; root < g->n_nodes; root++) {
		if (t->index[root] != CHECK__NONE)
			continue;
		uint32_t depth = 0;
		t->path[depth] = root;
		t->next_edge[depth] = g->first[root];
		t->index[root] = t->low[root] = counter++;
		t->stack[top++] = root;
		t->on_stack[root] = 1;
		depth++;
		while (depth > 0) {
			uint32_t v = t->path[depth - 1];
			uint64_t *e = &t->next_edge[depth - 1];
			bool descended = false;
			for (; *e < g->first[v + 1]; (*e)++) {
				const struct check__edge *edge = &g->edges[*e];
				if (!(edge->kind & allowed))
					continue;
				uint32_t w = edge->to;
				if (t->index[w] == CHECK__NONE) {
					(*e)++;
					assert(depth < g->n_nodes);
					t->path[depth] = w;
					t->next_edge[depth] = g->first[w];
					t->index[w] = t->low[w] = counter++;
					t->stack[top++] = w;
					t->on_stack[w] = 1;
					depth++;
					descended = true;
					break;
				}
				if (t->on_stack[w] && t->index[w] < t->low[v])
					t->low[v] = t->index[w];
			}
			if (descended)
				continue;
			if (t->low[v] == t->index[v]) {
				uint32_t w;
				do {
					assert(top > 0);
					w = t->stack[--top];
					t->on_stack[w] = 0;
					t->comp[w] = n_comp;
				} while (w != v);
				n_comp++;
			}
			depth--;
			if (depth > 0) {
				uint32_t parent = t->path[depth - 1];
				if (t->low[v] < t->low[parent])
					t->low[parent] = t->low[v];
			}
		}
	}
	assert(top == 0);
}

/* ---- a shortest closing path inside one component ---- */

/*
 * Breadth-first search from `start` to `goal` over allowed edges between nodes of
 * component `comp`. Fills parent_edge[] for reached nodes; returns true if goal was
 * reached. `queue` and `parent_edge` have room for every node.
 */
static bool check__bfs(const struct check__graph *g, uint8_t allowed, const uint32_t *comp,
                       uint32_t start, uint32_t goal, uint32_t *queue, uint64_t *parent_edge,
                       uint8_t *seen)
{
	uint32_t head = 0, tail = 0;
	queue[tail++] = start;
	seen[start] = 1;
	while (head < tail) {
		uint32_t v = queue[head++];
		if (v == goal)
			return true;
		for (uint64_t e = g->first[v]; e < g->first[v + 1]; e++) {
			const struct check__edge *edge = &g->edges[e];
			uint32_t w = edge->to;
			if (!(edge->kind & allowed) || comp[w] != comp[start] || seen[w])
				continue;
			assert(tail < g->n_nodes);
			seen[w] = 1;
			parent_edge[w] = e;
			queue[tail++] = w;
		}
	}
	return false;
}

static err *check__closing_cycle(const struct check__graph *g, uint8_t allowed,
                                 const uint32_t *comp, uint64_t via, uint64_t **cycle,
                                 uint32_t *len)
{
	const struct check__edge *first = &g->edges[via];
	uint32_t *queue = malloc((size_t)g->n_nodes * sizeof *queue);
	uint64_t *parent_edge = malloc((size_t)g->n_nodes * sizeof *parent_edge);
	uint8_t *seen = calloc(g->n_nodes, 1);
	uint64_t *out = malloc(((size_t)g->n_nodes + 1) * sizeof *out);
	err *e = NULL;
	if (!queue || !parent_edge || !seen || !out) {
		e = err_new(ERR_NOMEM, "cycle search over %u nodes", g->n_nodes);
		goto done;
	}
	bool found = check__bfs(g, allowed, comp, first->to, first->from, queue, parent_edge, seen);
	assert(found); /* both ends share a component: a path back exists */
	(void)found;
	uint32_t n = 0;
	for (uint32_t v = first->from; v != first->to; v = g->edges[parent_edge[v]].from) {
		assert(n < g->n_nodes);
		out[n++] = parent_edge[v];
	}
	out[n++] = via;
	for (uint32_t i = 0; i < n / 2; i++) { /* collected backwards */
		uint64_t x = out[i];
		out[i] = out[n - 1 - i];
		out[n - 1 - i] = x;
	}
	*cycle = out;
	*len = n;
	out = NULL;
done:
	free(queue);
	free(parent_edge);
	free(seen);
	free(out);
	return e;
}

err *check__graph_cycle(const struct check__graph *g, uint8_t allowed, uint8_t required,
                        uint64_t **cycle, uint32_t *len)
{
	assert(g->first);
	assert((required & allowed) == required);
	*cycle = NULL;
	*len = 0;
	size_t n = g->n_nodes ? g->n_nodes : 1;
	struct check__tarjan t = {.index = malloc(n * sizeof *t.index),
	                          .low = malloc(n * sizeof *t.low),
	                          .comp = malloc(n * sizeof *t.comp),
	                          .stack = malloc(n * sizeof *t.stack),
	                          .on_stack = calloc(n, 1),
	                          .path = malloc(n * sizeof *t.path),
	                          .next_edge = malloc(n * sizeof *t.next_edge)};
	err *e = NULL;
	if (!t.index || !t.low || !t.comp || !t.stack || !t.on_stack || !t.path || !t.next_edge) {
		e = err_new(ERR_NOMEM, "component search over %u nodes", g->n_nodes);
		goto done;
	}
	memset(t.index, 0xff, n * sizeof *t.index);
	memset(t.comp, 0xff, n * sizeof *t.comp);
	check__tarjan_run(g, allowed, &t);
	for (uint64_t i = 0; i < g->n_edges; i++) {
		const struct check__edge *edge = &g->edges[i];
		if ((edge->kind & required) && t.comp[edge->from] == t.comp[edge->to]) {
			e = check__closing_cycle(g, allowed, t.comp, i, cycle, len);
			break;
		}
	}
done:
	free(t.index);
	free(t.low);
	free(t.comp);
	free(t.stack);
	free(t.on_stack);
	free(t.path);
	free(t.next_edge);
	return e;
}
