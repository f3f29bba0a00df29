/*
 * sim_test.h — helpers shared by the simulator's test suites.
 */
#ifndef CAIRN_TESTS_SIM_SIM_TEST_H
#define CAIRN_TESTS_SIM_SIM_TEST_H

#include <check.h>
#include <stdlib.h>

#include "sim/sim.h"

#define OK(expr) ck_assert_ptr_null(expr)

/* Makes a world or fails the test. */
static inline struct sim_world *sim_test_world(const struct sim_config *cfg,
                                               const struct sim_node_ops *ops, void *app)
{
	struct sim_world *w = NULL;
	OK(sim_world_new(cfg, ops, app, &w));
	ck_assert_ptr_nonnull(w);
	return w;
}

/* Runs to until_ms and fails the test if the world failed. */
static inline void sim_test_run(struct sim_world *w, uint64_t until_ms)
{
	const err *e = sim_run_until(w, until_ms);
	if (e)
		ck_abort_msg("the world failed: %s", err_msg(e));
	ck_assert_uint_eq(sim_now_ms(w), until_ms);
}

/* Checks that `e` is an error with `code`, and frees it. */
static inline void sim_test_expect(err *e, enum err_code code)
{
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(err_code(e), code);
	err_free(e);
}

#endif
