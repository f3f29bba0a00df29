/*
 * wl_append.c — list-append transactions, judged Elle-style (sim_check_append).
 *
 * Lists are rows of `lists (k INTEGER PRIMARY KEY, v TEXT)` holding ",3,7,12". A
 * transaction is BEGIN, one to WL_MOPS_MAX micro-operations — append a unique element to
 * a list (`UPDATE ... SET v = v || ',12'`) or read a list — and COMMIT. Only a few lists
 * are in use at a time (WL_APPEND_ACTIVE); a list retires after WL_APPEND_PER_KEY
 * appends so its text stays short, which also keeps the checker's version orders small.
 * The final client reads every list that was ever used, in one read-only transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "sim/check.h"
#include "sim/workload_internal.h"

#define APPEND_LIST_MAX 256

static void append__setup(struct sim_workload *wl, struct buf *script)
{
	(void)wl;
	char row[64];
	const char *create = "CREATE TABLE IF NOT EXISTS lists (k INTEGER PRIMARY KEY, v TEXT NOT "
	                     "NULL)";
	buf_append(script, create, strlen(create));
	for (uint32_t k = 0; k < WL_APPEND_KEYS; k++) {
		int n = snprintf(row, sizeof row, "%s(%u, '')",
		                 k % 128 == 0 ? ";INSERT INTO lists VALUES " : ", ", k);
		buf_append(script, row, (size_t)n);
	}
	buf_append(script, ";", 1);
}

/* A list to use now, retiring full ones. */
static uint32_t append__pick_key(struct sim_workload *wl)
{
	for (int tries = 0; tries < 4; tries++) {
		uint32_t key = wl->append_base + (uint32_t)prng_below(&wl->prng, WL_APPEND_ACTIVE);
		if (wl->append_count[key] < WL_APPEND_PER_KEY)
			return key;
		if (wl->append_base + WL_APPEND_ACTIVE < WL_APPEND_KEYS)
			wl->append_base++;
	}
	return wl->append_base;
}

static void append__free_txn(struct sim_txn *t)
{
	for (uint32_t i = 0; i < t->n_mops; i++)
		free(t->mops[i].list);
	free(t->mops);
	memset(t, 0, sizeof *t);
}

static void append__begin(struct wl_client *cl)
{
	struct sim_workload *wl = cl->wl;
	append__free_txn(&cl->txn);
	uint32_t n = cl->final ? wl->append_base + WL_APPEND_ACTIVE
	                       : 1 + (uint32_t)prng_below(&wl->prng, WL_MOPS_MAX);
	cl->txn.mops = calloc(n, sizeof *cl->txn.mops);
	if (!cl->txn.mops) {
		wl__violation(wl, err_new(ERR_NOMEM, "append workload: out of memory"));
		return;
	}
	cl->txn.n_mops = n;
	cl->txn.client = cl->id;
	for (uint32_t i = 0; i < n; i++) {
		struct sim_mop *m = &cl->txn.mops[i];
		if (cl->final) {
			m->kind = SIM_MOP_READ;
			m->key = i;
			continue;
		}
		m->key = append__pick_key(wl);
		if (prng_below(&wl->prng, 2) == 0) {
			m->kind = SIM_MOP_APPEND;
			m->value = ++wl->next_value;
			wl->append_count[m->key]++;
		} else {
			m->kind = SIM_MOP_READ;
		}
	}
	cl->phase = 0;
	wl__submit(cl, false, cl->final ? "BEGIN READ ONLY" : "BEGIN");
}

/* Parses ",3,7" into the mop's list. */
static bool append__parse(struct sim_mop *m, const char *text)
{
	int64_t items[APPEND_LIST_MAX];
	uint32_t n = 0;
	const char *p = text;
	while (*p == ',') {
		char *end;
		long long v = strtoll(p + 1, &end, 10);
		if (end == p + 1 || n == APPEND_LIST_MAX)
			return false;
		items[n++] = v;
		p = end;
	}
	if (*p != '\n' && *p != '\0')
		return false;
	m->list = malloc((n ? n : 1) * sizeof *m->list);
	if (!m->list)
		return false;
	memcpy(m->list, items, n * sizeof *items);
	m->list_len = n;
	return true;
}

static void append__result(struct wl_client *cl)
{
	struct sim_workload *wl = cl->wl;
	/* phase p > 0: the answer to mop p-1 arrived; phase 0: BEGIN's answer */
	if (cl->phase == 0) {
		cl->in_txn = true;
	} else if (cl->phase <= cl->txn.n_mops) {
		struct sim_mop *m = &cl->txn.mops[cl->phase - 1];
		if (m->kind == SIM_MOP_READ && !append__parse(m, wl__output(cl))) {
			wl__violation(wl, err_new(ERR_INTERNAL, "append: unreadable list %u: %s",
			                          m->key, wl__output(cl)));
			wl__end(cl, SIM_FAIL);
			return;
		}
	} else {
		cl->in_txn = false;
		wl__end(cl, SIM_OK);
		return;
	}
	uint32_t next = cl->phase++;
	if (next == cl->txn.n_mops) {
		wl__submit(cl, !cl->final, "COMMIT");
		return;
	}
	const struct sim_mop *m = &cl->txn.mops[next];
	if (m->kind == SIM_MOP_APPEND)
		wl__submit(cl, false, "UPDATE lists SET v = v || ',%lld' WHERE k = %u",
		           (long long)m->value, m->key);
	else
		wl__submit(cl, false, "SELECT v FROM lists WHERE k = %u", m->key);
}

static void append__end(struct wl_client *cl, uint8_t outcome)
{
	struct sim_workload *wl = cl->wl;
	if (!cl->txn.mops)
		return;
	if (outcome != SIM_OK) {
		/* reads of a transaction that did not commit tell nothing */
		for (uint32_t i = 0; i < cl->txn.n_mops; i++) {
			free(cl->txn.mops[i].list);
			cl->txn.mops[i].list = NULL;
			cl->txn.mops[i].list_len = 0;
		}
	}
	if (wl->n_txns >= WL_HISTORY_MAX) {
		append__free_txn(&cl->txn);
		return;
	}
	if (!wl->txns) {
		wl->txns = calloc(WL_HISTORY_MAX, sizeof *wl->txns);
		if (!wl->txns) {
			append__free_txn(&cl->txn);
			return;
		}
	}
	cl->txn.outcome = outcome;
	cl->txn.invoke_us = cl->invoke_ms * 1000;
	cl->txn.complete_us =
	    outcome == SIM_UNKNOWN ? SIM_NEVER : sim_now_ms(wl->world) * 1000 + 999;
	wl->txns[wl->n_txns++] = cl->txn; /* the history owns the mops now */
	memset(&cl->txn, 0, sizeof cl->txn);
}

static err *append__check(struct sim_workload *wl)
{
	return wl->n_txns ? sim_check_append(wl->txns, wl->n_txns) : NULL;
}

static void append__free(struct sim_workload *wl)
{
	for (size_t i = 0; i < wl->n_txns; i++)
		append__free_txn(&wl->txns[i]);
	free(wl->txns);
	wl->txns = NULL;
	for (unsigned k = 0; k < SIM_WL_KINDS; k++) {
		for (uint32_t i = 0; i < SIM_WL_CLIENTS_MAX; i++)
			if (wl->clients[k][i].kind == &wl_append)
				append__free_txn(&wl->clients[k][i].txn);
		if (wl->finals[k].kind == &wl_append)
			append__free_txn(&wl->finals[k].txn);
	}
}

const struct wl_kind wl_append = {
    .name = "append",
    .setup = append__setup,
    .begin = append__begin,
    .result = append__result,
    .end = append__end,
    .check = append__check,
    .free = append__free,
};
