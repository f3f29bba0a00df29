/*
 * history.h — what workloads record and checkers judge.
 *
 * A history lists the operations clients invoked, with the virtual times they were
 * invoked and completed, and what they observed. An operation's outcome is one of:
 *   SIM_OK       it took effect (a write committed; a read returned what it saw);
 *   SIM_FAIL     it certainly took no effect (aborted, refused, never submitted);
 *   SIM_UNKNOWN  it may or may not have taken effect (the node crashed, the commit
 *                outcome was unknown, the client timed out). Its completion time is
 *                SIM_NEVER: it may take effect at any time after its invocation.
 * Checkers never assume more than that.
 */
#ifndef CAIRN_SIM_HISTORY_H
#define CAIRN_SIM_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define SIM_NEVER UINT64_MAX

enum sim_outcome { SIM_OK = 1, SIM_FAIL, SIM_UNKNOWN };

/* ---- register workload: single-key reads, writes and compare-and-set ---- */
/* Every key holds 0 before the history begins; written values are unique per key. */

enum sim_reg_kind { SIM_REG_READ = 1, SIM_REG_WRITE, SIM_REG_CAS };

struct sim_reg_op {
	uint32_t client;
	uint32_t key;
	uint8_t kind;    /* enum sim_reg_kind */
	uint8_t outcome; /* enum sim_outcome */
	/* READ: the value read. WRITE: the value written. CAS: the value to set. */
	int64_t value;
	/* CAS: the value expected. */
	int64_t expected;
	/* CAS with outcome SIM_OK: true if it swapped, false if it found another value. */
	bool swapped;
	uint64_t invoke_us;
	uint64_t complete_us; /* SIM_NEVER when the outcome is SIM_UNKNOWN */
};

/* ---- append workload: transactions of appends to and reads of lists ---- */
/* Every list is empty before the history begins; reads return the whole list in order. */

enum sim_mop_kind { SIM_MOP_APPEND = 1, SIM_MOP_READ };

struct sim_mop {
	uint8_t kind; /* enum sim_mop_kind */
	uint32_t key;
	int64_t value; /* APPEND: the element appended (unique per key in a history) */
	int64_t *list; /* READ in a SIM_OK transaction: the list read (owned) */
	uint32_t list_len;
};

struct sim_txn {
	uint32_t client;
	uint8_t outcome; /* enum sim_outcome */
	uint64_t invoke_us;
	uint64_t complete_us;
	struct sim_mop *mops; /* owned */
	uint32_t n_mops;
};

#endif
