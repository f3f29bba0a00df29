#include "raft/storage.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* Reconciles the hard state with the log after a crash between their syncs. */
static err *raft__storage_reconcile(struct raft_storage *s)
{
	assert(s->log != NULL);
	assert(raft_dlog_last_index(s->log) == 0 || raft_dlog_terms(s->log) != NULL);
	uint64_t last = raft_dlog_last_index(s->log);
	if (s->hs.commit > last)
		return err_new(ERR_CORRUPT,
		               "raft log ends at %" PRIu64 " but entries up to %" PRIu64
		               " were committed",
		               last, s->hs.commit);
	uint64_t last_term = last > 0 ? raft_dlog_terms(s->log)[last - 1] : 0;
	if (last_term > s->hs.term) {
		s->hs.term = last_term;
		s->hs.vote = 0;
		TRY(raft_hard_state_save(s->vfs, s->dir, &s->hs));
	}
	return NULL;
}

err *raft_storage_open(struct vfs *vfs, const char *dir, size_t segment_max_bytes,
                       struct raft_storage **out, struct raft_dlog_recovery *recovery)
{
	assert(vfs != NULL && dir != NULL);
	assert(out != NULL && recovery != NULL);
	struct raft_storage *s = calloc(1, sizeof *s);
	if (!s)
		return err_new(ERR_NOMEM, "raft storage");
	s->vfs = vfs;
	int n = snprintf(s->dir, sizeof s->dir, "%s", dir);
	err *e = n < 0 || (size_t)n >= sizeof s->dir ? err_new(ERR_LIMIT, "directory name too long")
	                                             : NULL;
	if (!e)
		e = raft_dlog_open(vfs, dir, segment_max_bytes, &s->log, recovery);
	if (!e)
		e = raft_hard_state_load(vfs, dir, &s->hs);
	if (!e)
		e = raft__storage_reconcile(s);
	if (e) {
		raft_storage_close(s);
		return e;
	}
	*out = s;
	return NULL;
}

void raft_storage_close(struct raft_storage *s)
{
	if (!s)
		return;
	raft_dlog_close(s->log);
	free(s);
}

void raft_storage_initial(const struct raft_storage *s, uint64_t applied, struct raft_initial *out)
{
	assert(applied <= s->hs.commit);
	out->hard_state = s->hs;
	out->terms = raft_dlog_terms(s->log);
	out->last_index = raft_dlog_last_index(s->log);
	out->applied = applied;
}

err *raft_storage_persist(struct raft_storage *s, const struct raft_ready *rd)
{
	assert(rd != NULL);
	assert(rd->n_entries == 0 || rd->entries != NULL);
	TRY(raft_dlog_append(s->log, rd->entries, rd->n_entries));
	if (!rd->hard_state_changed)
		return NULL;
	TRY(raft_hard_state_save(s->vfs, s->dir, &rd->hard_state));
	s->hs = rd->hard_state;
	return NULL;
}
