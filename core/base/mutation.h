/*
 * mutation.h — named, deliberate bugs that prove the simulator's checkers can fail.
 *
 * Built only with `meson configure -Dmutations=true` (CAIRN_MUTATIONS defined); otherwise
 * mutation_on() is a constant false and every bug path compiles away. With them built in,
 * `cairn-sim run --mutation NAME` switches one on for the whole process before any node
 * starts; the test suite shows a seed sweep catches each one.
 */
#ifndef CAIRN_BASE_MUTATION_H
#define CAIRN_BASE_MUTATION_H

#include <stdbool.h>

#include "base/err.h"

enum mutation {
	MUTATION_NONE = 0,
	MUTATION_RAFT_COMMIT_ANY_TERM, /* count replicas of old-term entries (Figure 8) */
	MUTATION_MVCC_SKIP_VALIDATION, /* install writes without checking the read set */
	MUTATION_NODE_ACK_BEFORE_SYNC, /* the Raft log and hard state are never synced */
	MUTATION_NODE_REAPPLY,         /* after a restart, re-apply the last entry as new */
	MUTATION_RAFT_LONG_LEASE,      /* a read lease eight times too long (stale reads) */
	MUTATION_COUNT,
};

#ifdef CAIRN_MUTATIONS
extern enum mutation mutation_active;
static inline bool mutation_on(enum mutation m)
{
	return mutation_active == m;
}
#else
static inline bool mutation_on(enum mutation m)
{
	(void)m;
	return false;
}
#endif

/* The mutation's name, e.g. "raft-commit-any-term"; "none" for MUTATION_NONE. */
const char *mutation_name(enum mutation m);

/* Parses a name; ERR_INVALID if unknown, ERR_UNAVAILABLE if mutations are not built in. */
err *mutation_parse(const char *name, enum mutation *out);

/* Switches `m` on (MUTATION_NONE: off); ERR_UNAVAILABLE unless built in. */
err *mutation_select(enum mutation m);

#endif
