#include "base/mutation.h"

#include <string.h>

#ifdef CAIRN_MUTATIONS
enum mutation mutation_active = MUTATION_NONE;
#endif

static const char *const mutation_names[MUTATION_COUNT] = {
    [MUTATION_NONE] = "none",
    [MUTATION_RAFT_COMMIT_ANY_TERM] = "raft-commit-any-term",
    [MUTATION_MVCC_SKIP_VALIDATION] = "mvcc-skip-validation",
    [MUTATION_NODE_ACK_BEFORE_SYNC] = "node-ack-before-sync",
    [MUTATION_NODE_REAPPLY] = "node-reapply",
    [MUTATION_RAFT_LONG_LEASE] = "raft-long-lease",
};

const char *mutation_name(enum mutation m)
{
	return (unsigned)m < MUTATION_COUNT ? mutation_names[m] : "?";
}

err *mutation_parse(const char *name, enum mutation *out)
{
	for (int m = 0; m < MUTATION_COUNT; m++) {
		if (strcmp(name, mutation_names[m]) == 0) {
			*out = (enum mutation)m;
			return NULL;
		}
	}
	return err_new(ERR_INVALID, "unknown mutation '%s'", name);
}

err *mutation_select(enum mutation m)
{
	if ((unsigned)m >= MUTATION_COUNT)
		return err_new(ERR_INVALID, "mutation %d out of range", (int)m);
#ifdef CAIRN_MUTATIONS
	mutation_active = m;
	return NULL;
#else
	if (m == MUTATION_NONE)
		return NULL;
	return err_new(ERR_UNAVAILABLE,
	               "mutations are not built in (configure with -Dmutations=true)");
#endif
}
