/*
 * Tests of the dependency graph's cycle search (sim/check_graph.c): cycles of each class
 * are found only with the edges they are allowed, they are real and short, and a long
 * chain does not exhaust the stack.
 */
#include <stdlib.h>

#include "check_main.h"
#include "sim/check_graph.h"

/* Asserts that cycle[0..len) is a closed walk of allowed edges using a required one. */
static void assert_cycle(const struct check__graph *g, const uint64_t *cycle, uint32_t len,
                         uint8_t allowed, uint8_t required)
{
	ck_assert_uint_gt(len, 1);
	bool has_required = false, closed = true, kinds_allowed = true;
	for (uint32_t i = 0; i < len; i++) { /* one assertion at the end: Check's are slow */
		const struct check__edge *e = &g->edges[cycle[i]];
		const struct check__edge *next = &g->edges[cycle[(i + 1) % len]];
		closed &= e->to == next->from;
		kinds_allowed &= (e->kind & allowed) != 0;
		has_required |= (e->kind & required) != 0;
	}
	ck_assert(closed);
	ck_assert(kinds_allowed);
	ck_assert(has_required);
}

START_TEST(cycles_by_class)
{
	/* 0 -ww-> 1 -ww-> 0 ; 2 -wr-> 3 -ww-> 2 ; 4 -rw-> 5 -wr-> 4 ; 6 -ww-> 7 (no cycle) */
	struct check__graph g;
	check__graph_init(&g, 8, 100);
	ck_assert_ptr_null(check__graph_add(&g, 0, 1, CHECK__WW, 1));
	ck_assert_ptr_null(check__graph_add(&g, 1, 0, CHECK__WW, 2));
	ck_assert_ptr_null(check__graph_add(&g, 2, 3, CHECK__WR, 1));
	ck_assert_ptr_null(check__graph_add(&g, 3, 2, CHECK__WW, 1));
	ck_assert_ptr_null(check__graph_add(&g, 4, 5, CHECK__RW, 1));
	ck_assert_ptr_null(check__graph_add(&g, 5, 4, CHECK__WR, 1));
	ck_assert_ptr_null(check__graph_add(&g, 6, 7, CHECK__WW, 1));
	ck_assert_ptr_null(check__graph_add(&g, 6, 7, CHECK__WW, 1)); /* a duplicate */
	ck_assert_ptr_null(check__graph_freeze(&g));
	ck_assert_uint_eq(g.n_edges, 7);
	uint64_t *cycle;
	uint32_t len;
	ck_assert_ptr_null(check__graph_cycle(&g, CHECK__WW, CHECK__WW, &cycle, &len));
	assert_cycle(&g, cycle, len, CHECK__WW, CHECK__WW);
	ck_assert_uint_eq(g.edges[cycle[0]].from, 0);
	free(cycle);
	ck_assert_ptr_null(check__graph_cycle(&g, CHECK__WW | CHECK__WR, CHECK__WR, &cycle, &len));
	assert_cycle(&g, cycle, len, CHECK__WW | CHECK__WR, CHECK__WR);
	ck_assert_uint_eq(g.edges[cycle[0]].from, 2);
	free(cycle);
	ck_assert_ptr_null(
	    check__graph_cycle(&g, CHECK__WW | CHECK__WR | CHECK__RW, CHECK__RW, &cycle, &len));
	assert_cycle(&g, cycle, len, CHECK__WW | CHECK__WR | CHECK__RW, CHECK__RW);
	ck_assert_uint_eq(g.edges[cycle[0]].from, 4);
	free(cycle);
	/* without wr edges the rw edge lies on no cycle */
	ck_assert_ptr_null(check__graph_cycle(&g, CHECK__WW | CHECK__RW, CHECK__RW, &cycle, &len));
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_null(cycle);
	check__graph_free(&g);
}
END_TEST

START_TEST(shortest_closing_path)
{
	/* 0 -> 1 -> 2 -> 3 -> 0 and a shortcut 1 -> 3: the cycle through 0->1 has 3 edges */
	struct check__graph g;
	check__graph_init(&g, 4, 100);
	ck_assert_ptr_null(check__graph_add(&g, 0, 1, CHECK__WW, 0));
	ck_assert_ptr_null(check__graph_add(&g, 1, 2, CHECK__WW, 0));
	ck_assert_ptr_null(check__graph_add(&g, 2, 3, CHECK__WW, 0));
	ck_assert_ptr_null(check__graph_add(&g, 3, 0, CHECK__WW, 0));
	ck_assert_ptr_null(check__graph_add(&g, 1, 3, CHECK__WW, 0));
	ck_assert_ptr_null(check__graph_freeze(&g));
	uint64_t *cycle;
	uint32_t len;
	ck_assert_ptr_null(check__graph_cycle(&g, CHECK__WW, CHECK__WW, &cycle, &len));
	ck_assert_uint_eq(len, 3);
	assert_cycle(&g, cycle, len, CHECK__WW, CHECK__WW);
	free(cycle);
	check__graph_free(&g);
}
END_TEST

START_TEST(long_chain_does_not_recurse)
{
	/* a path of 300000 nodes closed at the end: one component, found iteratively */
	const uint32_t n = 300000;
	struct check__graph g;
	check__graph_init(&g, n, n);
	err *e = NULL;
	for (uint32_t i = 0; i + 1 < n && !e; i++)
		e = check__graph_add(&g, i, i + 1, CHECK__WW, 0);
	ck_assert_ptr_null(e);
	ck_assert_ptr_null(check__graph_add(&g, n - 1, 0, CHECK__RW, 0));
	ck_assert_ptr_null(check__graph_freeze(&g));
	uint64_t *cycle;
	uint32_t len;
	ck_assert_ptr_null(check__graph_cycle(&g, CHECK__WW, CHECK__WW, &cycle, &len));
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_null(check__graph_cycle(&g, CHECK__WW | CHECK__RW, CHECK__RW, &cycle, &len));
	ck_assert_uint_eq(len, n);
	assert_cycle(&g, cycle, len, CHECK__WW | CHECK__RW, CHECK__RW);
	free(cycle);
	check__graph_free(&g);
}
END_TEST

START_TEST(edge_budget)
{
	struct check__graph g;
	check__graph_init(&g, 3, 1);
	ck_assert_ptr_null(check__graph_add(&g, 0, 1, CHECK__WW, 0));
	err *e = check__graph_add(&g, 1, 2, CHECK__WW, 0);
	ck_assert_int_eq(err_code(e), ERR_LIMIT);
	err_free(e);
	check__graph_free(&g);
}
END_TEST

static Suite *graph_suite(void)
{
	Suite *s = suite_create("check_graph");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, cycles_by_class);
	tcase_add_test(tc, shortest_closing_path);
	tcase_add_test(tc, long_chain_does_not_recurse);
	tcase_add_test(tc, edge_budget);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(graph_suite());
}
