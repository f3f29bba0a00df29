/*
 * wl_bank.c — bank transfers under serializable transactions.
 *
 * WL_BANK_ACCOUNTS accounts start with WL_BANK_INITIAL each. A transfer is one explicit
 * transaction: read the source balance, move a random amount it can afford with two
 * UPDATEs, commit. An audit reads every balance in one statement. Serializability
 * promises every successful audit sees the total conserved and no balance below zero;
 * the first audit that does not is a violation. The final client audits once more after
 * the run, so an acknowledged transfer that was lost (or applied twice) shows up too.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sim/workload_internal.h"

enum bank_phase { BANK_BEGIN, BANK_READ, BANK_DEBIT, BANK_CREDIT, BANK_COMMIT };

static void bank__setup(struct sim_workload *wl, struct buf *script)
{
	(void)wl;
	char row[64];
	const char *create = "CREATE TABLE IF NOT EXISTS acct (id INTEGER PRIMARY KEY, bal "
	                     "INTEGER NOT NULL);INSERT INTO acct VALUES ";
	buf_append(script, create, strlen(create));
	for (uint32_t i = 0; i < WL_BANK_ACCOUNTS; i++) {
		int n = snprintf(row, sizeof row, "%s(%u, %d)", i ? ", " : "", i, WL_BANK_INITIAL);
		buf_append(script, row, (size_t)n);
	}
	buf_append(script, ";", 1);
}

static void bank__audit(struct wl_client *cl)
{
	cl->audit = true;
	wl__submit(cl, false, "SELECT SUM(bal), MIN(bal), COUNT(*) FROM acct");
}

static void bank__begin(struct wl_client *cl)
{
	struct sim_workload *wl = cl->wl;
	cl->audit = false;
	if (cl->final || prng_below(&wl->prng, 5) == 0) {
		bank__audit(cl);
		return;
	}
	cl->from = (uint32_t)prng_below(&wl->prng, WL_BANK_ACCOUNTS);
	cl->to = (cl->from + 1 + (uint32_t)prng_below(&wl->prng, WL_BANK_ACCOUNTS - 1)) %
	         WL_BANK_ACCOUNTS;
	cl->phase = BANK_BEGIN;
	wl__submit(cl, false, "BEGIN");
}

/* Checks an audit's "sum|min|count" line. */
static void bank__check_audit(struct wl_client *cl)
{
	struct sim_workload *wl = cl->wl;
	long long sum, min, count;
	const char *out = wl__output(cl);
	if (sscanf(out, "%lld|%lld|%lld", &sum, &min, &count) != 3) {
		wl__violation(wl, err_new(ERR_INTERNAL, "bank: unreadable audit: %s", out));
		return;
	}
	if (sum != (long long)WL_BANK_ACCOUNTS * WL_BANK_INITIAL || min < 0 ||
	    count != WL_BANK_ACCOUNTS)
		wl__violation(wl, err_new(ERR_INTERNAL,
		                          "bank: audit at %" PRIu64 "ms saw total %lld (expected "
		                          "%d), lowest balance %lld, %lld accounts",
		                          sim_now_ms(wl->world), sum,
		                          WL_BANK_ACCOUNTS * WL_BANK_INITIAL, min, count));
}

static void bank__result(struct wl_client *cl)
{
	struct sim_workload *wl = cl->wl;
	if (cl->audit) {
		bank__check_audit(cl);
		wl__end(cl, SIM_OK);
		return;
	}
	int64_t balance;
	switch (cl->phase) {
	case BANK_BEGIN:
		cl->in_txn = true;
		cl->phase = BANK_READ;
		wl__submit(cl, false, "SELECT bal FROM acct WHERE id = %u", cl->from);
		return;
	case BANK_READ:
		if (!wl__output_int(cl, &balance) || balance <= 0) {
			wl__end(cl, SIM_FAIL); /* nothing to move: rolled back */
			return;
		}
		cl->amount =
		    1 + (int64_t)prng_below(&wl->prng, balance < 20 ? (uint64_t)balance : 20);
		cl->phase = BANK_DEBIT;
		wl__submit(cl, false, "UPDATE acct SET bal = bal - %lld WHERE id = %u",
		           (long long)cl->amount, cl->from);
		return;
	case BANK_DEBIT:
		cl->phase = BANK_CREDIT;
		wl__submit(cl, false, "UPDATE acct SET bal = bal + %lld WHERE id = %u",
		           (long long)cl->amount, cl->to);
		return;
	case BANK_CREDIT:
		cl->phase = BANK_COMMIT;
		wl__submit(cl, true, "COMMIT");
		return;
	default:
		cl->in_txn = false;
		wl__end(cl, SIM_OK);
		return;
	}
}

/* The audits are the check: nothing is recorded per transfer. */
static err *bank__check(struct sim_workload *wl)
{
	return wl__check_final_audit(wl, WL_KIND_BANK);
}

const struct wl_kind wl_bank = {
    .name = "bank",
    .setup = bank__setup,
    .begin = bank__begin,
    .result = bank__result,
    .check = bank__check,
};
