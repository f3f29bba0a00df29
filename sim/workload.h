/*
 * workload.h — clients that drive real SQL through sessions on random nodes of a world,
 * and record what they saw for the checkers (design.md §9).
 *
 *   bank      transfers between accounts inside serializable transactions; audits read
 *             every balance and require the total to be conserved and none negative;
 *   register  single-key reads, writes and compare-and-sets, checked for
 *             linearizability per key;
 *   append    transactions appending to and reading lists, checked for G0, G1 and G2
 *             anomalies and for lost acknowledged appends;
 *   groups    transactions that count a group's rows and insert one only below a limit,
 *             or delete one, some rows with a UNIQUE tag; audits require no group over
 *             the limit and no tag twice (phantoms, write skew through new keys).
 *
 * Every client runs one operation at a time, one statement at a time, on a node chosen at
 * random among those up; it retries nothing itself (an aborted operation is recorded as
 * failed and the client moves on). Outcomes follow history.h: a commit whose answer was
 * lost (the node crashed, the outcome was unknown, the client timed out) is SIM_UNKNOWN.
 * All randomness comes from the workload's seed (sim_workload_seed()).
 */
#ifndef CAIRN_SIM_WORKLOAD_H
#define CAIRN_SIM_WORKLOAD_H

#include <stdio.h>

#include "sim/sim.h"

enum sim_wl_kind {
	SIM_WL_BANK = 1u << 0,
	SIM_WL_REGISTER = 1u << 1,
	SIM_WL_APPEND = 1u << 2,
	SIM_WL_GROUPS = 1u << 3,
	SIM_WL_ALL = 15u,
};

#define SIM_WL_KINDS 4
#define SIM_WL_CLIENTS_MAX 32

struct sim_wl_config {
	unsigned kinds;         /* a mask of enum sim_wl_kind */
	uint32_t clients;       /* per kind, up to SIM_WL_CLIENTS_MAX */
	uint32_t think_ms;      /* mean pause between a client's operations */
	uint32_t op_timeout_ms; /* an operation unanswered for this long has an unknown outcome */
};

void sim_wl_config_default(struct sim_wl_config *cfg);

/* Parses "bank", "register", "append", "groups" or "mix" into a kind mask; 0 if unknown. */
unsigned sim_wl_parse(const char *name);

/* The name of a kind mask sim_wl_parse() reads back ("mix" for all of them); NULL if none. */
const char *sim_wl_name(unsigned kinds);

/* The name of the kind at index `kind_index` (the bit of its mask). */
const char *sim_wl_kind_name(unsigned kind_index);

struct sim_wl_stats {
	uint64_t ok, fail, unknown;
	uint64_t last_ok_ms; /* virtual time of the latest successful operation */
};

struct sim_workload;

err *sim_workload_new(struct sim_world *world, const struct sim_wl_config *cfg, uint64_t seed,
                      struct sim_workload **out);
void sim_workload_free(struct sim_workload *wl);

/* The world was freed first (its nodes took the sessions along): free without it. */
void sim_workload_detach(struct sim_workload *wl);

/* Schedules the setup (tables and rows, retried until done) and then the clients. */
err *sim_workload_start(struct sim_workload *wl);

/* True once the setup committed and the clients run. */
bool sim_workload_running(const struct sim_workload *wl);

/* Clients finish their current operation and start no new one. */
void sim_workload_drain(struct sim_workload *wl);

/*
 * True when no operation is in flight. After a drain, the first call that finds the
 * clients idle starts the final reads (each workload reads its whole state once more);
 * it returns true once those are done too: the workload is over.
 */
bool sim_workload_idle(struct sim_workload *wl);

/* Per kind (index 0 bank, 1 register, 2 append, 3 groups). */
const struct sim_wl_stats *sim_workload_stats(const struct sim_workload *wl, unsigned kind_index);

/*
 * Judges the recorded histories (linearizability, cycles, lost writes, bank totals).
 * Returns the first violation found, or NULL.
 */
err *sim_workload_check(struct sim_workload *wl);

void sim_workload_summary(const struct sim_workload *wl, FILE *out);

#endif
