/*
 * run.h — one simulated run of a cairn cluster: world, workload, checkers and the phases
 * of a run, all as events of the world so that a recorded trace replays exactly.
 *
 *   0 .. time_ms          faults (drawn per seed, or as configured) while the workloads
 *                         run and the checkers watch;
 *   time_ms ..            liveness: faults stop, partitions heal, crashed nodes restart;
 *                         every workload must complete an operation within liveness_ms;
 *   then                  drain: clients finish, the final reads run; every node must
 *                         reach the same applied index and state hash;
 *   end                   the histories are judged.
 * The options that shape a run are encoded in the trace header (the world's app name), so
 * `cairn-sim replay FILE` needs nothing but the file.
 */
#ifndef CAIRN_SIM_RUN_H
#define CAIRN_SIM_RUN_H

#include <stdio.h>

#include "sim/sim.h"

struct sim_run_options {
	uint64_t seed;
	uint32_t nodes;
	uint64_t time_ms;     /* length of the faulty phase */
	uint64_t liveness_ms; /* progress and convergence bound after faults stop */
	unsigned workloads;   /* enum sim_wl_kind mask */
	char faults
	    [128]; /* "all", "none", or a comma list: net,partition,clog,disk,crash,pause,clock */
	uint32_t mutation;        /* enum mutation; 0 for none */
	uint32_t scenario;        /* enum sim_scenario: a fault aimed at the leader, 0 for none */
	uint32_t op_timeout_ms;   /* a client gives up on an answer after this; 0: the default */
	uint32_t history_entries; /* the nodes' MVCC validation window; 0: MVCC's default */
};

/* The largest --history cairn-sim takes (a window of this many records costs 32 MiB). */
#define SIM_HISTORY_ENTRIES_MAX (1u << 20)

/*
 * Scenarios: a deliberate fault at SIM_SCENARIO_AT_MS aimed at whichever node leads then,
 * on top of the run's other faults (usually none), for recorded regression traces.
 */
enum sim_scenario {
	SIM_SCENARIO_NONE = 0,
	SIM_SCENARIO_LEADER_CRASH,    /* the leader crashes with commits in flight; back 2s later */
	SIM_SCENARIO_MINORITY_LEADER, /* the leader and one follower are cut off for 4s */
	SIM_SCENARIO_CLOGGED_LEADER,  /* every message to or from the leader is held for 3s */
	SIM_SCENARIO_FIGURE_8,        /* Raft's Figure 8, staged step by step (see run.c) */
	SIM_SCENARIO_COUNT,
};

#define SIM_SCENARIO_AT_MS 3000

/*
 * Parses "leader-crash", "minority-leader", "clogged-leader", "figure-8" (or "none");
 * false if unknown.
 */
bool sim_scenario_parse(const char *name, uint32_t *out);
const char *sim_scenario_name(uint32_t scenario);

void sim_run_options_default(struct sim_run_options *o);

struct sim_run_result {
	bool passed;
	char failure[512]; /* the broken invariant, when !passed */
	uint64_t steps;
	uint64_t sim_ms;
	uint64_t wall_ns;
};

/*
 * Runs a simulation. `trace` (may be NULL) receives the trace; `out` (may be NULL) the
 * summary. An error means the run could not be set up; a failed check is a result.
 */
err *sim_run(const struct sim_run_options *o, FILE *trace, FILE *out, struct sim_run_result *r);

/* Replays a trace written by sim_run(); see sim_replay() for the result. */
err *sim_run_replay(const char *path, const struct sim_replay_opts *opts,
                    struct sim_replay_result *result);

#endif
