/*
 * cluster_check.h — invariants of the replicated cluster, checked while a world runs
 * (design.md §9):
 *   - at most one leader per term (Election Safety);
 *   - a committed entry never changes: every node that has committed index i agrees on
 *     its term (State Machine Safety, with Log Matching making the term a proxy for the
 *     entry);
 *   - replicas at the same applied index have the same state hash;
 * and, at the end, convergence: once faults stop, every node reaches the same applied
 * index with the same state.
 * A violation fails the world (sim_fail) with a message naming nodes, terms and indexes.
 */
#ifndef CAIRN_SIM_CLUSTER_CHECK_H
#define CAIRN_SIM_CLUSTER_CHECK_H

#include "sim/sim.h"

struct sim_cluster_check;

err *sim_cluster_check_new(struct sim_world *world, struct sim_cluster_check **out);
void sim_cluster_check_free(struct sim_cluster_check *c);

/* Checks every `period_ms` (state hashes every hash_period_ms) from now on. */
err *sim_cluster_check_start(struct sim_cluster_check *c, uint32_t period_ms,
                             uint32_t hash_period_ms);

/* Checks the invariants once, now. */
void sim_cluster_check_now(struct sim_cluster_check *c, bool hashes);

/* True when every node is up and all have applied the same index. */
bool sim_cluster_converged(struct sim_cluster_check *c);

/* Leaders seen (distinct terms with a leader) and entries verified, for summaries. */
void sim_cluster_check_counts(const struct sim_cluster_check *c, uint64_t *terms, uint64_t *entries,
                              uint64_t *hashes);

#endif
