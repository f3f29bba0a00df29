/*
 * check_graph.h — a dependency graph between transactions and the search for its cycles,
 * for the list-append checker (check_append.c).
 *
 * Nodes are numbers below n_nodes; edges carry a kind (a bit: ww, wr or rw) and the key
 * that caused them. After check__graph_freeze() the graph is read-only and
 * check__graph_cycle() finds a cycle made of edges of allowed kinds that uses at least
 * one edge of a required kind, if there is one.
 */
#ifndef CAIRN_SIM_CHECK_GRAPH_H
#define CAIRN_SIM_CHECK_GRAPH_H

#include <stdint.h>

#include "base/err.h"

enum check__edge_kind { CHECK__WW = 1, CHECK__WR = 2, CHECK__RW = 4 };

struct check__edge {
	uint32_t from, to;
	uint32_t key;
	uint8_t kind; /* one enum check__edge_kind bit */
};

struct check__graph {
	uint32_t n_nodes;
	struct check__edge *edges; /* after freeze: sorted by (from, to, kind, key), unique */
	uint64_t n_edges, cap_edges, max_edges;
	uint64_t *first; /* after freeze: node v's edges are [first[v], first[v + 1]) */
};

/* An empty graph of n_nodes nodes that refuses (ERR_LIMIT) more than max_edges edges. */
void check__graph_init(struct check__graph *g, uint32_t n_nodes, uint64_t max_edges);
void check__graph_free(struct check__graph *g);

/* Adds an edge; from != to. Only before check__graph_freeze(). */
err *check__graph_add(struct check__graph *g, uint32_t from, uint32_t to, uint8_t kind,
                      uint32_t key);

/* Sorts the edges, drops exact duplicates and indexes them by source node. */
err *check__graph_freeze(struct check__graph *g);

/*
 * Looks for a cycle of edges whose kinds are in `allowed` containing at least one edge
 * whose kind is in `required`. On success *cycle (owned by the caller, free()) holds the
 * cycle's edge indices in order, each edge's `to` being the next one's `from`, and *len
 * its length; *len == 0 (and *cycle NULL) when there is none. Deterministic: the same
 * graph always yields the same cycle, a shortest one through the first required edge
 * (in edge order) that lies on any cycle.
 */
err *check__graph_cycle(const struct check__graph *g, uint8_t allowed, uint8_t required,
                        uint64_t **cycle, uint32_t *len);

#endif
