/*
 * check_internal.h — the history checkers' budgets, and entry points that take a budget
 * explicitly so tests can make one run out. sim_check_register() and sim_check_append()
 * (check.h) call these with the defaults below.
 */
#ifndef CAIRN_SIM_CHECK_INTERNAL_H
#define CAIRN_SIM_CHECK_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "sim/history.h"

/* The largest history either checker accepts at all (operations or transactions). */
#define CHECK_HISTORY_MAX ((size_t)1 << 24)

struct check__register_budget {
	uint32_t states_per_key; /* distinct (linearized set, value) pairs remembered */
	uint64_t steps_per_key;  /* moves of the search, and candidates looked at */
};

#define CHECK_REGISTER_STATES_DEFAULT ((uint32_t)1 << 20)
#define CHECK_REGISTER_STEPS_DEFAULT ((uint64_t)1 << 26)

/* sim_check_register() with an explicit budget; ERR_LIMIT when a key exhausts it. */
err *check__register(const struct sim_reg_op *ops, size_t n,
                     const struct check__register_budget *budget);

struct check__append_budget {
	uint64_t elements; /* list elements over all reads */
	uint64_t edges;    /* dependency edges */
};

#define CHECK_APPEND_ELEMENTS_DEFAULT ((uint64_t)1 << 26)
#define CHECK_APPEND_EDGES_DEFAULT ((uint64_t)1 << 25)

/* sim_check_append() with an explicit budget; ERR_LIMIT when the history exceeds it. */
err *check__append(const struct sim_txn *txns, size_t n, const struct check__append_budget *budget);

/* Writes "[1.500ms, 2.000ms]" (or "[1.500ms, ?]" for SIM_NEVER) into out. */
static inline void check__interval(char *out, size_t cap, uint64_t invoke_us, uint64_t complete_us)
{
	if (complete_us == SIM_NEVER)
		snprintf(out, cap, "[%llu.%03llums, ?]", (unsigned long long)(invoke_us / 1000),
		         (unsigned long long)(invoke_us % 1000));
	else
		snprintf(out, cap, "[%llu.%03llums, %llu.%03llums]",
		         (unsigned long long)(invoke_us / 1000),
		         (unsigned long long)(invoke_us % 1000),
		         (unsigned long long)(complete_us / 1000),
		         (unsigned long long)(complete_us % 1000));
}

#endif
