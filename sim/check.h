/*
 * check.h — checkers of recorded histories (history.h). Each returns NULL when the
 * history is consistent with the promised model, or an error (code ERR_INTERNAL) whose
 * message names the anomaly and the operations involved, e.g.
 * "register key 3: not linearizable: read 7 at [120ms, 130ms] ...".
 *
 * Both are bounded: a history too large or too ambiguous to judge within the checker's
 * search budget yields ERR_LIMIT (the caller reports "unknown", never "valid").
 */
#ifndef CAIRN_SIM_CHECK_H
#define CAIRN_SIM_CHECK_H

#include "sim/history.h"

/*
 * Linearizability per key (Wing & Gong's search with memoisation of visited
 * (linearized set, state) pairs, in the style of Porcupine): there is a total order of
 * the SIM_OK operations and some of the SIM_UNKNOWN ones, consistent with real time, in
 * which every read returns the latest write and every CAS swaps exactly when it finds its
 * expected value. SIM_FAIL operations took no effect.
 */
err *sim_check_register(const struct sim_reg_op *ops, size_t n);

/*
 * Serializability of list-append transactions, in the style of Elle: infers each key's
 * version order from the reads, then write-write, write-read and read-write dependencies,
 * and reports G0 (a cycle of ww edges), G1a (a read of an aborted append), G1b (a read of
 * an intermediate state), G1c (a cycle of ww/wr edges), G2 (a cycle with rw edges),
 * incompatible orders (two reads of one key that are not prefixes of each other), and a
 * lost append (a SIM_OK append missing from a read that began after its transaction
 * completed: strict serializability).
 */
err *sim_check_append(const struct sim_txn *txns, size_t n);

#endif
