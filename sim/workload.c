/*
 * workload.c — the driver: setup, client loops, error classification, final reads.
 *
 * Time in a workload is the world's virtual time. A client polls its statement every
 * WL_POLL_MS; an answer that takes longer than op_timeout_ms ends the operation as
 * unknown (if it may have committed) or failed. After a drain, one "final" client per
 * workload reads the whole state once more, so the checkers can verify that no
 * acknowledged write was lost.
 */
#include "sim/workload_internal.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WL_POLL_MS 10
#define WL_SETUP_RETRY_MS 200
#define WL_SETUP_TRIES_MAX 1000
#define WL_FINAL_TRIES_MAX 50

void sim_wl_config_default(struct sim_wl_config *cfg)
{
	cfg->kinds = SIM_WL_ALL;
	cfg->clients = 3;
	cfg->think_ms = 20;
	cfg->op_timeout_ms = 10000;
}

static const struct wl_kind *const wl__kinds[SIM_WL_KINDS] = {&wl_bank, &wl_register, &wl_append,
                                                              &wl_groups};

unsigned sim_wl_parse(const char *name)
{
	if (strcmp(name, "mix") == 0)
		return SIM_WL_ALL;
	for (unsigned k = 0; k < SIM_WL_KINDS; k++)
		if (strcmp(name, wl__kinds[k]->name) == 0)
			return 1u << k;
	return 0;
}

const char *sim_wl_name(unsigned kinds)
{
	if (kinds == SIM_WL_ALL)
		return "mix";
	for (unsigned k = 0; k < SIM_WL_KINDS; k++)
		if (kinds == 1u << k)
			return wl__kinds[k]->name;
	return NULL;
}

const char *sim_wl_kind_name(unsigned kind_index)
{
	assert(kind_index < SIM_WL_KINDS);
	return wl__kinds[kind_index]->name;
}

err *wl__check_final_audit(struct sim_workload *wl, unsigned kind_index)
{
	const struct wl_client *final = &wl->finals[kind_index];
	if (final->final_tries && !final->final_done)
		return err_new(ERR_UNAVAILABLE, "%s: the final audit never succeeded",
		               wl__kinds[kind_index]->name);
	return NULL;
}

void wl__violation(struct sim_workload *wl, err *e)
{
	if (wl->violation) {
		err_free(e);
		return;
	}
	wl->violation = e;
	sim_fail(wl->world, err_new(err_code(e), "%s", err_msg(e)));
}

const char *wl__output(struct wl_client *cl)
{
	struct buf *b = &cl->c.output;
	if (b->len == 0 || b->data[b->len - 1] != '\0')
		buf_append(b, "", 1); /* cannot fail below the cap; a cut output reads short */
	return b->len ? (const char *)b->data : "";
}

bool wl__output_int(struct wl_client *cl, int64_t *out)
{
	const char *s = wl__output(cl);
	char *end;
	long long v = strtoll(s, &end, 10);
	if (end == s)
		return false;
	*out = v;
	return true;
}

/* ---- choosing nodes ---- */

/* A random node that is up, or 0 if none is. */
static uint32_t wl__pick_node(struct sim_workload *wl)
{
	uint32_t nodes = sim_world_config(wl->world)->nodes;
	uint32_t start = (uint32_t)prng_below(&wl->prng, nodes);
	for (uint32_t i = 0; i < nodes; i++) {
		uint32_t id = (start + i) % nodes + 1;
		if (sim_node(wl->world, id))
			return id;
	}
	return 0;
}

/* ---- the client loop ---- */

static void wl__step(struct sim_world *world, void *ctx);

static void wl__schedule(struct wl_client *cl, uint64_t delay_ms)
{
	err *e = sim_schedule(cl->wl->world, sim_now_ms(cl->wl->world) + delay_ms, wl__step, cl);
	if (e)
		sim_fail(cl->wl->world, e);
}

void wl__submit(struct wl_client *cl, bool may_commit, const char *fmt, ...)
{
	assert(!cl->waiting);
	char sql[WL_SQL_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	/* an operation's statements all go to its first session; a new operation anywhere */
	uint32_t node = cl->in_op ? cl->c.node : wl__pick_node(cl->wl);
	err *e = node ? sim_client_submit(&cl->c, node, sql, !cl->in_op)
	              : err_new(ERR_UNAVAILABLE, "every node is down");
	if (e) {
		err_free(e);
		/* never reached a node: nothing of this statement happened */
		if (!cl->in_op) {
			wl__schedule(cl, WL_SETUP_RETRY_MS);
			return;
		}
		cl->in_txn = false; /* the session (and its transaction) is gone */
		wl__end(cl, SIM_FAIL);
		return;
	}
	if (!cl->in_op) {
		cl->in_op = true;
		cl->invoke_ms = sim_now_ms(cl->wl->world);
	}
	cl->may_commit = may_commit;
	cl->waiting = true;
	wl__schedule(cl, 1);
}

void wl__end(struct wl_client *cl, uint8_t outcome)
{
	struct sim_workload *wl = cl->wl;
	if (!cl->rolling_back) {
		/* the operation's outcome is decided now; record it once */
		if (cl->kind->end)
			cl->kind->end(cl, outcome);
		struct sim_wl_stats *st = &wl->stats[cl->kind_index];
		if (cl->final) {
			/* the register's final read records its reads itself and ends as SIM_FAIL */
			cl->final_done = cl->final_done || outcome == SIM_OK;
		} else {
			st->ok += outcome == SIM_OK;
			st->fail += outcome == SIM_FAIL;
			st->unknown += outcome == SIM_UNKNOWN;
			if (outcome == SIM_OK)
				st->last_ok_ms = sim_now_ms(wl->world);
		}
		if (cl->in_txn && outcome != SIM_OK && cl->c.session &&
		    sim_client_poll(&cl->c) == SIM_CLIENT_IDLE) {
			/* leave the session clean before the next operation */
			cl->rolling_back = true;
			cl->waiting = false;
			wl__submit(cl, false, "ROLLBACK");
			return;
		}
	}
	cl->in_op = false;
	cl->in_txn = false;
	cl->rolling_back = false;
	cl->waiting = false;
	cl->phase = 0;
	if (cl->final) {
		if (!cl->final_done)
			wl__schedule(cl, WL_SETUP_RETRY_MS);
		return;
	}
	uint64_t think = wl->cfg.think_ms ? prng_below(&wl->prng, 2ull * wl->cfg.think_ms) : 0;
	wl__schedule(cl, think + 1);
}

/* Decides what a failed statement means for its operation. */
static void wl__statement_failed(struct wl_client *cl, enum err_code code)
{
	switch (code) {
	case ERR_SYNTAX:
	case ERR_TYPE:
	case ERR_NOT_FOUND:
	case ERR_INTERNAL:
		wl__violation(cl->wl, err_new(ERR_INTERNAL, "%s workload: unexpected error: %s",
		                              cl->kind->name, wl__output(cl)));
		wl__end(cl, cl->may_commit ? SIM_UNKNOWN : SIM_FAIL);
		return;
	case ERR_CONFLICT:
	case ERR_CONSTRAINT:
		wl__end(cl, SIM_FAIL); /* aborted: validation or a constraint refused it */
		return;
	case ERR_UNAVAILABLE:
		/* no read point: the statement never ran (inside a transaction nothing needs one) */
		wl__end(cl, SIM_FAIL);
		return;
	default: wl__end(cl, cl->may_commit ? SIM_UNKNOWN : SIM_FAIL); return;
	}
}

static void wl__step(struct sim_world *world, void *ctx)
{
	struct wl_client *cl = ctx;
	struct sim_workload *wl = cl->wl;
	if (sim_world_failure(world))
		return;
	if (!cl->waiting) {
		if (cl->final) {
			if (!cl->final_done && cl->final_tries++ < WL_FINAL_TRIES_MAX)
				cl->kind->begin(cl);
			return;
		}
		if (!wl->draining)
			cl->kind->begin(cl);
		return;
	}
	enum sim_client_state state = sim_client_poll(&cl->c);
	uint64_t waited = sim_now_ms(world) - cl->c.submitted_ms;
	if (state == SIM_CLIENT_BUSY && waited < wl->cfg.op_timeout_ms) {
		wl__schedule(cl, WL_POLL_MS);
		return;
	}
	cl->waiting = false;
	if (state != SIM_CLIENT_IDLE) {
		/* the node crashed, or the answer is overdue: the session is abandoned */
		sim_client_abandon(&cl->c);
		cl->in_txn = false;
		wl__end(cl, cl->may_commit ? SIM_UNKNOWN : SIM_FAIL);
		return;
	}
	if (cl->rolling_back) {
		wl__end(cl, SIM_FAIL); /* ignored: the outcome was recorded before the rollback */
		return;
	}
	if (cl->c.first_error) {
		wl__statement_failed(cl, cl->c.first_error);
		return;
	}
	cl->kind->result(cl);
}

/* ---- setup ---- */

static void wl__setup_step(struct sim_world *world, void *ctx);

static void wl__setup_schedule(struct sim_workload *wl, uint64_t delay_ms)
{
	err *e = sim_schedule(wl->world, sim_now_ms(wl->world) + delay_ms, wl__setup_step, wl);
	if (e)
		sim_fail(wl->world, e);
}

static void wl__start_clients(struct sim_workload *wl)
{
	wl->running = true;
	for (unsigned k = 0; k < SIM_WL_KINDS; k++) {
		if (!wl->kinds[k])
			continue;
		for (uint32_t i = 0; i < wl->cfg.clients; i++)
			wl__schedule(&wl->clients[k][i], 1 + i);
	}
}

/* Runs the setup script one statement at a time, retrying each until it is done. */
static void wl__setup_step(struct sim_world *world, void *ctx)
{
	struct sim_workload *wl = ctx;
	if (sim_world_failure(world))
		return;
	if (wl->setup_waiting) {
		enum sim_client_state state = sim_client_poll(&wl->setup);
		if (state == SIM_CLIENT_BUSY &&
		    sim_now_ms(world) - wl->setup.submitted_ms < wl->cfg.op_timeout_ms) {
			wl__setup_schedule(wl, WL_POLL_MS);
			return;
		}
		wl->setup_waiting = false;
		bool done = state == SIM_CLIENT_IDLE &&
		            (wl->setup.first_error == 0 || wl->setup.first_error == ERR_CONSTRAINT);
		if (state != SIM_CLIENT_IDLE) {
			/* the node crashed, or the answer is overdue: the session is abandoned */
			sim_client_abandon(&wl->setup);
		}
		if (done) {
			const char *text = (const char *)wl->setup_script.data;
			const char *semi = strchr(text + wl->setup_pos, ';');
			wl->setup_pos = semi ? (size_t)(semi - text) + 1 : wl->setup_script.len;
			wl->setup_tries = 0;
		}
	}
	const char *text = (const char *)wl->setup_script.data;
	if (wl->setup_pos >= wl->setup_script.len - 1) {
		wl__start_clients(wl);
		return;
	}
	if (++wl->setup_tries > WL_SETUP_TRIES_MAX) {
		sim_fail(world, err_new(ERR_UNAVAILABLE, "workload setup never completed"));
		return;
	}
	const char *semi = strchr(text + wl->setup_pos, ';');
	size_t len = semi ? (size_t)(semi - (text + wl->setup_pos)) : strlen(text + wl->setup_pos);
	char stmt[16384];
	if (len >= sizeof stmt) {
		sim_fail(world, err_new(ERR_INTERNAL, "workload setup statement too long"));
		return;
	}
	memcpy(stmt, text + wl->setup_pos, len);
	stmt[len] = '\0';
	uint32_t node = wl__pick_node(wl);
	err *e = node ? sim_client_submit(&wl->setup, node, stmt, true)
	              : err_new(ERR_UNAVAILABLE, "every node is down");
	if (e) {
		err_free(e);
		wl__setup_schedule(wl, WL_SETUP_RETRY_MS);
		return;
	}
	wl->setup_waiting = true;
	wl__setup_schedule(wl, 1);
}

/* ---- the workload ---- */

err *sim_workload_new(struct sim_world *world, const struct sim_wl_config *cfg, uint64_t seed,
                      struct sim_workload **out)
{
	*out = NULL;
	if (!cfg->kinds || (cfg->kinds & ~SIM_WL_ALL) || !cfg->clients ||
	    cfg->clients > SIM_WL_CLIENTS_MAX)
		return err_new(ERR_INVALID, "workload: bad configuration");
	struct sim_workload *wl = calloc(1, sizeof *wl);
	if (!wl)
		return err_new(ERR_NOMEM, "workload: out of memory");
	wl->world = world;
	wl->cfg = *cfg;
	prng_seed(&wl->prng, seed);
	buf_init(&wl->setup_script, (size_t)1 << 20);
	sim_client_init(&wl->setup, world);
	for (unsigned k = 0; k < SIM_WL_KINDS; k++) {
		if (!(cfg->kinds & (1u << k)))
			continue;
		wl->kinds[k] = wl__kinds[k];
		wl__kinds[k]->setup(wl, &wl->setup_script);
		for (uint32_t i = 0; i <= cfg->clients; i++) {
			bool final = i == cfg->clients;
			struct wl_client *cl = final ? &wl->finals[k] : &wl->clients[k][i];
			cl->wl = wl;
			cl->kind = wl__kinds[k];
			cl->kind_index = k;
			cl->id = final ? 1000 + k : k * SIM_WL_CLIENTS_MAX + i;
			cl->final = final;
			sim_client_init(&cl->c, world);
		}
	}
	buf_append(&wl->setup_script, "", 1);
	*out = wl;
	return NULL;
}

void sim_workload_detach(struct sim_workload *wl)
{
	wl->detached = true;
}

static void wl__client_release(struct sim_workload *wl, struct sim_client *c)
{
	if (wl->detached)
		sim_client_forget(c);
	else
		sim_client_free(c);
}

void sim_workload_free(struct sim_workload *wl)
{
	if (!wl)
		return;
	for (unsigned k = 0; k < SIM_WL_KINDS; k++) {
		if (!wl->kinds[k])
			continue;
		for (uint32_t i = 0; i < wl->cfg.clients; i++)
			wl__client_release(wl, &wl->clients[k][i].c);
		wl__client_release(wl, &wl->finals[k].c);
		if (wl->kinds[k]->free)
			wl->kinds[k]->free(wl);
	}
	wl__client_release(wl, &wl->setup);
	buf_free(&wl->setup_script);
	err_free(wl->violation);
	free(wl);
}

err *sim_workload_start(struct sim_workload *wl)
{
	return sim_schedule(wl->world, sim_now_ms(wl->world), wl__setup_step, wl);
}

bool sim_workload_running(const struct sim_workload *wl)
{
	return wl->running;
}

void sim_workload_drain(struct sim_workload *wl)
{
	wl->draining = true;
}

/* Starts the final reads once every regular client is done. */
static bool wl__clients_idle(const struct sim_workload *wl)
{
	for (unsigned k = 0; k < SIM_WL_KINDS; k++) {
		if (!wl->kinds[k])
			continue;
		for (uint32_t i = 0; i < wl->cfg.clients; i++)
			if (wl->clients[k][i].in_op)
				return false;
	}
	return true;
}

static bool wl__finals_busy(const struct sim_workload *wl)
{
	for (unsigned k = 0; k < SIM_WL_KINDS; k++)
		if (wl->kinds[k] && wl->finals[k].in_op)
			return true;
	return false;
}

bool sim_workload_idle(struct sim_workload *wl)
{
	if (!wl->running)
		return true;
	if (!wl__clients_idle(wl))
		return false;
	bool all_done = true;
	for (unsigned k = 0; k < SIM_WL_KINDS; k++) {
		struct wl_client *cl = &wl->finals[k];
		if (!wl->kinds[k] || cl->final_done || cl->final_tries >= WL_FINAL_TRIES_MAX)
			continue;
		all_done = false;
		if (!wl->finals_started)
			wl__schedule(cl, 1);
	}
	wl->finals_started = true;
	return all_done && !wl__finals_busy(wl);
}

const struct sim_wl_stats *sim_workload_stats(const struct sim_workload *wl, unsigned kind_index)
{
	assert(kind_index < SIM_WL_KINDS);
	return &wl->stats[kind_index];
}

err *sim_workload_check(struct sim_workload *wl)
{
	if (wl->violation)
		return err_new(err_code(wl->violation), "%s", err_msg(wl->violation));
	for (unsigned k = 0; k < SIM_WL_KINDS; k++)
		if (wl->kinds[k])
			TRY(wl->kinds[k]->check(wl));
	return NULL;
}

void sim_workload_summary(const struct sim_workload *wl, FILE *out)
{
	for (unsigned k = 0; k < SIM_WL_KINDS; k++) {
		if (!wl->kinds[k])
			continue;
		const struct sim_wl_stats *st = &wl->stats[k];
		fprintf(out, "  %-8s %6" PRIu64 " ok  %5" PRIu64 " failed  %4" PRIu64 " unknown\n",
		        wl->kinds[k]->name, st->ok, st->fail, st->unknown);
	}
}
