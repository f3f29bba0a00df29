/*
 * wl_groups.c — phantoms and UNIQUE under serializable transactions.
 *
 * Rows of `slot` belong to one of WL_GROUPS groups (an index on grp) and may carry a tag
 * (UNIQUE). A claim is one transaction: count the group's rows, and insert one only if
 * the group holds fewer than WL_GROUP_LIMIT, half the time with a tag drawn from a few;
 * a release deletes a group's oldest row. An audit looks for a group over the limit or a
 * tag held twice. Two claims that both count a group below the limit and both insert are
 * write skew through a phantom: a serializable store must abort one, so no successful
 * audit ever sees either. The other workloads only read and update rows that exist; here
 * reads find nothing (an empty group, a free tag) and writes create keys, so read ranges
 * that miss new keys, or UNIQUE checks that do not conflict, show up. The final client
 * runs both audits after the run.
 */
#include <inttypes.h>
#include <string.h>

#include "sim/workload_internal.h"

enum groups_phase {
	GROUPS_BEGIN,
	GROUPS_COUNT,
	GROUPS_INSERT,
	GROUPS_OLDEST,
	GROUPS_DELETE,
	GROUPS_COMMIT,
	GROUPS_AUDIT_TAGS,
};

static void groups__setup(struct sim_workload *wl, struct buf *script)
{
	(void)wl;
	const char *create = "CREATE TABLE IF NOT EXISTS slot (id INTEGER PRIMARY KEY, grp "
	                     "INTEGER NOT NULL, tag INTEGER UNIQUE);CREATE INDEX IF NOT EXISTS "
	                     "slot_grp ON slot (grp);";
	buf_append(script, create, strlen(create));
}

/* The first audit: no group over the limit (the second, tags, follows on the final). */
static void groups__audit(struct wl_client *cl)
{
	cl->audit = true;
	cl->phase = GROUPS_COUNT;
	wl__submit(cl, false, "SELECT grp, COUNT(*) FROM slot GROUP BY grp HAVING COUNT(*) > %d",
	           WL_GROUP_LIMIT);
}

static void groups__audit_tags(struct wl_client *cl)
{
	cl->audit = true;
	cl->phase = GROUPS_AUDIT_TAGS;
	wl__submit(cl, false,
	           "SELECT tag, COUNT(*) FROM slot WHERE tag IS NOT NULL GROUP BY tag "
	           "HAVING COUNT(*) > 1");
}

static void groups__begin(struct wl_client *cl)
{
	struct sim_workload *wl = cl->wl;
	cl->audit = false;
	uint64_t dice = prng_below(&wl->prng, 10);
	if (cl->final || dice == 0) {
		groups__audit(cl);
		return;
	}
	if (dice == 1) {
		groups__audit_tags(cl);
		return;
	}
	cl->from = (uint32_t)prng_below(&wl->prng, WL_GROUPS);
	cl->claim = dice >= 4; /* six claims for every two releases */
	cl->phase = GROUPS_BEGIN;
	wl__submit(cl, false, "BEGIN");
}

/* An audit's answer must be empty: any row names a broken invariant. */
static void groups__check_audit(struct wl_client *cl, const char *what)
{
	struct sim_workload *wl = cl->wl;
	const char *out = wl__output(cl);
	if (out[0] != '\0')
		wl__violation(wl, err_new(ERR_INTERNAL,
		                          "groups: audit at %" PRIu64 "ms found %s: %.200s",
		                          sim_now_ms(wl->world), what, out));
}

static void groups__result(struct wl_client *cl)
{
	struct sim_workload *wl = cl->wl;
	int64_t n;
	if (cl->audit) {
		if (cl->phase == GROUPS_COUNT) {
			groups__check_audit(cl, "a group over the limit (grp|rows)");
			if (cl->final) {
				groups__audit_tags(cl);
				return;
			}
		} else {
			groups__check_audit(cl, "a tag held twice (tag|rows)");
		}
		wl__end(cl, SIM_OK);
		return;
	}
	switch (cl->phase) {
	case GROUPS_BEGIN:
		cl->in_txn = true;
		if (cl->claim) {
			cl->phase = GROUPS_COUNT;
			wl__submit(cl, false, "SELECT COUNT(*) FROM slot WHERE grp = %u", cl->from);
		} else {
			cl->phase = GROUPS_OLDEST;
			wl__submit(cl, false, "SELECT MIN(id) FROM slot WHERE grp = %u", cl->from);
		}
		return;
	case GROUPS_COUNT:
		if (!wl__output_int(cl, &n) || n >= WL_GROUP_LIMIT) {
			wl__end(cl, SIM_FAIL); /* the group is full: rolled back */
			return;
		}
		cl->phase = GROUPS_INSERT;
		if (prng_below(&wl->prng, 2))
			wl__submit(cl, false, "INSERT INTO slot VALUES (%" PRId64 ", %u, %u)",
			           ++wl->next_value, cl->from,
			           (unsigned)prng_below(&wl->prng, WL_TAGS));
		else
			wl__submit(cl, false, "INSERT INTO slot (id, grp) VALUES (%" PRId64 ", %u)",
			           ++wl->next_value, cl->from);
		return;
	case GROUPS_OLDEST:
		if (!wl__output_int(cl, &n)) {
			wl__end(cl, SIM_FAIL); /* the group is empty (NULL): rolled back */
			return;
		}
		cl->phase = GROUPS_DELETE;
		wl__submit(cl, false, "DELETE FROM slot WHERE id = %" PRId64, n);
		return;
	case GROUPS_INSERT:
	case GROUPS_DELETE:
		cl->phase = GROUPS_COMMIT;
		wl__submit(cl, true, "COMMIT");
		return;
	default:
		cl->in_txn = false;
		wl__end(cl, SIM_OK);
		return;
	}
}

/* The audits are the check: nothing is recorded per claim. */
static err *groups__check(struct sim_workload *wl)
{
	return wl__check_final_audit(wl, WL_KIND_GROUPS);
}

const struct wl_kind wl_groups = {
    .name = "groups",
    .setup = groups__setup,
    .begin = groups__begin,
    .result = groups__result,
    .check = groups__check,
};
