/*
 * wl_register.c — single-key registers: reads, blind writes and compare-and-sets, each
 * one autocommitted statement, judged for linearizability per key (sim_check_register).
 *
 * Written values are unique (a workload-wide counter), so a read names the write it saw.
 * A CAS is `UPDATE reg SET v = new WHERE k = key AND v = expected`: one row updated means
 * it swapped, none means it found another value — an observation, even though nothing
 * was written. The final client reads every key once more after the run.
 */
#include <stdlib.h>
#include <string.h>

#include "sim/check.h"
#include "sim/workload_internal.h"

static void reg__setup(struct sim_workload *wl, struct buf *script)
{
	char line[128];
	const char *create = "CREATE TABLE IF NOT EXISTS reg (k INTEGER PRIMARY KEY, v INTEGER "
	                     "NOT NULL);INSERT INTO reg VALUES ";
	buf_append(script, create, strlen(create));
	for (uint32_t k = 0; k < WL_REG_KEYS; k++) {
		int n = snprintf(line, sizeof line, "%s(%u, 0)", k ? ", " : "", k);
		buf_append(script, line, (size_t)n);
		wl->reg_last[k] = 0;
	}
	buf_append(script, ";", 1);
}

static void reg__begin(struct wl_client *cl)
{
	struct sim_workload *wl = cl->wl;
	memset(&cl->reg, 0, sizeof cl->reg);
	cl->reg.client = cl->id;
	if (cl->final) {
		/* one snapshot of every key, recorded as one read per key */
		cl->reg.kind = SIM_REG_READ;
		wl__submit(cl, false, "SELECT k, v FROM reg ORDER BY k");
		return;
	}
	cl->reg.key = (uint32_t)prng_below(&wl->prng, WL_REG_KEYS);
	uint64_t dice = prng_below(&wl->prng, 4);
	if (dice < 2) {
		cl->reg.kind = SIM_REG_READ;
		wl__submit(cl, false, "SELECT v FROM reg WHERE k = %u", cl->reg.key);
	} else if (dice == 2) {
		cl->reg.kind = SIM_REG_WRITE;
		cl->reg.value = ++wl->next_value;
		wl__submit(cl, true, "UPDATE reg SET v = %lld WHERE k = %u",
		           (long long)cl->reg.value, cl->reg.key);
	} else {
		cl->reg.kind = SIM_REG_CAS;
		cl->reg.expected = wl->reg_last[cl->reg.key];
		cl->reg.value = ++wl->next_value;
		wl__submit(cl, true, "UPDATE reg SET v = %lld WHERE k = %u AND v = %lld",
		           (long long)cl->reg.value, cl->reg.key, (long long)cl->reg.expected);
	}
	if (cl->reg.kind != SIM_REG_READ)
		wl->reg_last[cl->reg.key] = cl->reg.value;
}

/* Records the final snapshot "k|v" lines as reads of every key. */
static void reg__final_result(struct wl_client *cl)
{
	struct sim_workload *wl = cl->wl;
	const char *p = wl__output(cl);
	uint32_t seen = 0;
	while (*p && wl->reg_ops && wl->n_reg < WL_HISTORY_MAX) {
		char *end;
		long long k = strtoll(p, &end, 10);
		if (*end != '|' || k < 0 || k >= WL_REG_KEYS)
			break;
		long long v = strtoll(end + 1, &end, 10);
		struct sim_reg_op op = {.client = cl->id,
		                        .key = (uint32_t)k,
		                        .kind = SIM_REG_READ,
		                        .outcome = SIM_OK,
		                        .value = v,
		                        .invoke_us = cl->invoke_ms * 1000,
		                        .complete_us = sim_now_ms(wl->world) * 1000 + 999};
		wl->reg_ops[wl->n_reg++] = op;
		seen++;
		p = *end == '\n' ? end + 1 : end;
	}
	if (seen != WL_REG_KEYS && wl->n_reg < WL_HISTORY_MAX && wl->reg_ops)
		wl__violation(wl, err_new(ERR_INTERNAL, "register: final read saw %u of %d keys",
		                          seen, WL_REG_KEYS));
	cl->final_done = true;
	wl__end(cl, SIM_FAIL); /* recorded above; SIM_FAIL keeps reg__end from adding more */
}

static void reg__result(struct wl_client *cl)
{
	if (cl->final) {
		reg__final_result(cl);
		return;
	}
	int64_t v = 0;
	const char *out = wl__output(cl);
	switch (cl->reg.kind) {
	case SIM_REG_READ:
		if (!wl__output_int(cl, &v)) {
			wl__violation(
			    cl->wl,
			    err_new(ERR_INTERNAL, "register key %u: read no value", cl->reg.key));
			wl__end(cl, SIM_FAIL);
			return;
		}
		cl->reg.value = v;
		break;
	case SIM_REG_WRITE: break;
	case SIM_REG_CAS: cl->reg.swapped = strncmp(out, "UPDATE 1", 8) == 0; break;
	}
	wl__end(cl, SIM_OK);
}

static void reg__end(struct wl_client *cl, uint8_t outcome)
{
	struct sim_workload *wl = cl->wl;
	if (outcome == SIM_FAIL)
		return; /* took no effect: nothing for the checker */
	if (wl->n_reg >= WL_HISTORY_MAX)
		return;
	if (!wl->reg_ops) {
		wl->reg_ops = calloc(WL_HISTORY_MAX, sizeof *wl->reg_ops);
		if (!wl->reg_ops)
			return;
	}
	struct sim_reg_op op = cl->reg;
	op.outcome = outcome;
	op.invoke_us = cl->invoke_ms * 1000;
	/* widened to whole milliseconds: never tighter than what really happened */
	op.complete_us = outcome == SIM_OK ? sim_now_ms(wl->world) * 1000 + 999 : SIM_NEVER;
	wl->reg_ops[wl->n_reg++] = op;
}

static err *reg__check(struct sim_workload *wl)
{
	return wl->n_reg ? sim_check_register(wl->reg_ops, wl->n_reg) : NULL;
}

static void reg__free(struct sim_workload *wl)
{
	free(wl->reg_ops);
	wl->reg_ops = NULL;
}

const struct wl_kind wl_register = {
    .name = "register",
    .setup = reg__setup,
    .begin = reg__begin,
    .result = reg__result,
    .end = reg__end,
    .check = reg__check,
    .free = reg__free,
};
