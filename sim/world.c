/*
 * world.c — the deterministic world: many nodes, one thread, one clock, one queue.
 *
 * Distributed systems fail in the gaps between machines: a message that arrives after
 * the timeout, a disk that acknowledged a write it never made durable, a node that wakes
 * from a pause believing it is still the leader. Tests on real machines meet these cases
 * by luck, and cannot show them twice. FoundationDB's answer, which TigerBeetle's VOPR
 * sharpened, is to run the whole cluster inside one process, with the network, the disks
 * and time itself simulated, so that every run is a pure function of a seed. A failure
 * found once is found forever: rerun the seed, and add a log line, and rerun again.
 *
 * This file is the loop that makes that true. Everything that happens is an event in one
 * priority queue ordered by (virtual time, sequence number): a message reaching a node, a
 * timer expiring, a client step, a fault. The loop takes the first event, sets the clock
 * to its time and hands it to the part that owns it; that part may call a node, which
 * answers through its env by queuing more events. Nothing else moves: no thread, no wall
 * clock, no pointer value or hash order decides anything, and every random draw comes
 * from a stream named after the subsystem that draws it. Virtual time jumps from event to
 * event, so an idle cluster's minute costs nothing and the simulator runs as fast as the
 * nodes' code allows.
 *
 * What the world gives up for this: nodes are single-threaded state machines with
 * synchronous file I/O (design.md §3), and the models of networks and disks are only as
 * cruel as faults.c, network.c and disk.c make them. docs/simulation.md lists what is
 * injected, and why cairn is expected to survive it.
 */
#include "sim/sim_internal.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <time.h>

/* More events than this at one virtual instant is a livelock (e.g. a zero-delay timer loop). */
#define SIM__STEPS_PER_INSTANT_MAX 1000000

/* The queue holds at most every kind's bound at once, so it never fills. */
static uint32_t sim__queue_capacity(const struct sim_config *cfg)
{
	uint64_t n = cfg->nodes;
	uint64_t capacity = n * n * cfg->net.inflight_max + n * SIM_TIMERS_PER_NODE +
	                    SIM_CALLS_MAX + SIM__FAULT_TICKS + 2 * n + 1;
	assert(capacity < UINT32_MAX);
	return (uint32_t)capacity;
}

err *sim_world_new(const struct sim_config *cfg, const struct sim_node_ops *ops, void *app,
                   struct sim_world **out)
{
	assert(cfg != NULL && out != NULL);
	*out = NULL;
	TRY(sim_config_check(cfg));
	if (!ops || !ops->create || !ops->on_message || !ops->on_timer || !ops->destroy)
		return err_new(ERR_INVALID,
		               "sim: create, on_message, on_timer and destroy are needed");
	struct sim_world *w = calloc(1, sizeof *w);
	if (!w)
		return err_new(ERR_NOMEM, "sim: no memory for a world");
	w->cfg = *cfg;
	w->faults_configured = cfg->faults.enabled;
	w->ops = ops;
	w->app = app;
	w->heal_slot = SIM__NONE;
	w->inflight_reserved = cfg->net.inflight_max;
	w->log_level = LOG_OFF;
	for (int k = 0; k < SIM__FAULT_TICKS; k++) {
		w->tick_slot[k] = SIM__NONE;
		prng_seed(&w->fault_prng[k], prng_subseed(cfg->seed, "faults", 1 + (uint64_t)k));
	}
	prng_seed(&w->net_prng, prng_subseed(cfg->seed, "network", 0));
	err *e = sim__queue_init(&w->queue, sim__queue_capacity(cfg));
	for (uint32_t id = 1; id <= cfg->nodes && !e; id++) {
		e = sim__host_init(w, sim__host(w, id), id);
		if (!e)
			w->hosts_ready = id;
	}
	if (e) {
		sim_world_free(w);
		return e;
	}
	sim__faults_start(w);
	*out = w;
	return NULL;
}

void sim_world_free(struct sim_world *w)
{
	if (!w)
		return;
	assert(w->hosts_ready <= SIM_NODES_MAX);
	for (uint32_t id = 1; id <= w->hosts_ready; id++)
		sim__host_free(sim__host(w, id));
	sim__queue_free(&w->queue);
	err_free(w->failure);
	free(w->trace.scratch);
	free(w);
}

const struct sim_config *sim_world_config(const struct sim_world *w)
{
	return &w->cfg;
}

void sim_world_log(struct sim_world *w, FILE *sink, enum log_level level)
{
	assert((unsigned)level <= LOG_OFF);
	w->log_sink = sink;
	w->log_level = level;
	for (uint32_t id = 1; id <= w->cfg.nodes; id++)
		sim__host_update_log_level(sim__host(w, id));
}

/* ---- failures ---- */

void sim__fail(struct sim_world *w, err *e)
{
	assert(e != NULL);
	if (w->failure) {
		err_free(e);
		return;
	}
	w->failure = e;
	sim__trace(w, 0, false, "fail %s: %s", err_code_name(err_code(e)), err_msg(e));
}

void sim_fail(struct sim_world *w, err *e)
{
	sim__fail(w, e);
}

const err *sim_world_failure(const struct sim_world *w)
{
	return w->failure;
}

/* ---- the loop ---- */

static void sim__dispatch(struct sim_world *w, uint32_t slot)
{
	struct sim__event *ev = sim__event(&w->queue, slot);
	assert(ev->heap_pos == SIM__NONE);
	assert(ev->node <= w->cfg.nodes);
	switch (ev->kind) {
	case SIM__EV_MESSAGE: sim__net_arrive(w, slot); return;
	case SIM__EV_TIMER: {
		struct sim__host *h = sim__host(w, ev->node);
		assert(h->status != SIM__DOWN); /* a crash drops the node's timers */
		if (sim__host_gate(h, slot))
			sim__host_fire_timer(h, slot);
		return;
	}
	case SIM__EV_CALL: {
		sim_call_fn fn = ev->u.call.fn;
		void *ctx = ev->u.call.ctx;
		sim__queue_release(&w->queue, slot);
		assert(w->calls_pending > 0);
		w->calls_pending--;
		w->stats.calls++;
		sim__trace(w, 0, false, "call");
		fn(w, ctx);
		return;
	}
	case SIM__EV_FAULT: sim__faults_fire(w, slot); return;
	}
	assert(!"unknown event kind");
}

static uint64_t sim__wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const err *sim_run_until(struct sim_world *w, uint64_t until_ms)
{
	assert(w != NULL);
	return sim__run_until_us(w,
	                         until_ms > UINT64_MAX / 4000 ? UINT64_MAX / 4 : until_ms * 1000);
}

const err *sim__run_until_us(struct sim_world *w, uint64_t until_us)
{
	assert(w != NULL);
	if (w->failure)
		return w->failure;
	uint64_t wall_start = sim__wall_ns(); /* for the speed figure only */
	w->started = true;
	uint64_t instant_steps = 0;
	while (!w->failure) {
		uint32_t slot = sim__queue_peek(&w->queue);
		if (slot == SIM__NONE || sim__event(&w->queue, slot)->at_us > until_us)
			break;
		uint64_t at_us = sim__event(&w->queue, slot)->at_us;
		assert(at_us >= w->now_us); /* time never goes back */
		instant_steps = at_us == w->now_us ? instant_steps + 1 : 0;
		if (instant_steps > SIM__STEPS_PER_INSTANT_MAX) {
			sim__fail(w,
			          err_new(ERR_LIMIT, "sim: livelock, over %d events at one instant",
			                  SIM__STEPS_PER_INSTANT_MAX));
			break;
		}
		sim__queue_remove(&w->queue, slot);
		w->now_us = at_us;
		w->step++;
		w->stats.steps++;
		sim__dispatch(w, slot);
	}
	if (!w->failure && w->now_us < until_us)
		w->now_us = until_us;
	w->stats.wall_ns += sim__wall_ns() - wall_start;
	return w->failure;
}

uint64_t sim_now_ms(const struct sim_world *w)
{
	return w->now_us / 1000;
}

uint64_t sim_steps(const struct sim_world *w)
{
	return w->step;
}

err *sim_schedule(struct sim_world *w, uint64_t at_ms, sim_call_fn fn, void *ctx)
{
	assert(fn != NULL);
	assert(w->calls_pending <= SIM_CALLS_MAX);
	if (w->calls_pending >= SIM_CALLS_MAX)
		return err_new(ERR_LIMIT, "sim: %d client steps pending", SIM_CALLS_MAX);
	uint64_t at_us = at_ms > UINT64_MAX / 4000 ? UINT64_MAX / 4 : at_ms * 1000;
	if (at_us < w->now_us)
		at_us = w->now_us;
	uint32_t slot = sim__queue_alloc(&w->queue, SIM__EV_CALL, 0);
	sim__event(&w->queue, slot)->u.call.fn = fn;
	sim__event(&w->queue, slot)->u.call.ctx = ctx;
	sim__queue_push(&w->queue, slot, at_us);
	w->calls_pending++;
	return NULL;
}

/* ---- nodes ---- */

void *sim_node(const struct sim_world *w, uint32_t id)
{
	assert(sim__valid_id(w, id));
	const struct sim__host *h = &w->hosts[id - 1];
	return h->status == SIM__UP ? h->node : NULL;
}

const struct env *sim_node_env(const struct sim_world *w, uint32_t id)
{
	assert(sim__valid_id(w, id));
	const struct sim__host *h = &w->hosts[id - 1];
	return h->status == SIM__UP ? &h->env : NULL;
}

bool sim_node_state(const struct sim_world *w, uint32_t id, uint64_t *applied_index,
                    uint64_t *state_hash)
{
	assert(applied_index != NULL && state_hash != NULL);
	void *node = sim_node(w, id);
	if (!node || !w->ops->state)
		return false;
	return w->ops->state(node, applied_index, state_hash);
}

uint32_t sim_node_incarnation(const struct sim_world *w, uint32_t id)
{
	assert(sim__valid_id(w, id));
	return w->hosts[id - 1].incarnation;
}

struct vfs *sim_node_disk(const struct sim_world *w, uint32_t id)
{
	assert(sim__valid_id(w, id));
	return (struct vfs *)&w->hosts[id - 1].disk.shim;
}

/* ---- statistics ---- */

const struct sim_stats *sim_world_stats(const struct sim_world *w)
{
	return &w->stats;
}

void sim_world_summary(const struct sim_world *w, FILE *out)
{
	const struct sim_stats *s = &w->stats;
	double wall_s = (double)s->wall_ns / 1e9;
	double virtual_s = (double)w->now_us / 1e6;
	fprintf(out, "sim: app=%s seed=%" PRIu64 " nodes=%u faults=%s%s\n", w->cfg.app, w->cfg.seed,
	        w->cfg.nodes, w->faults_configured ? "on" : "off", w->failure ? " FAILED" : "");
	fprintf(out,
	        "  %.3fs virtual in %.3fs wall: %" PRIu64 " events, %.0f events/s, %.1fx "
	        "real time\n",
	        virtual_s, wall_s, s->steps, wall_s > 0 ? (double)s->steps / wall_s : 0.0,
	        wall_s > 0 ? virtual_s / wall_s : 0.0);
	fprintf(out,
	        "  messages: %" PRIu64 " sent, %" PRIu64 " delivered, %" PRIu64
	        " duplicated, %" PRIu64 " delayed by clogs; dropped: %" PRIu64 " lost, %" PRIu64
	        " partitioned, %" PRIu64 " over in-flight bound, %" PRIu64
	        " to down nodes, %" PRIu64 " oversized, %" PRIu64 " bad destination\n",
	        s->sent, s->delivered, s->duplicated, s->clog_delays, s->lost, s->partitioned,
	        s->over_inflight, s->to_down_node, s->oversized, s->bad_destination);
	fprintf(out,
	        "  nodes: %" PRIu64 " timers fired, %" PRIu64 " client steps, %" PRIu64
	        " crashes, %" PRIu64 " restarts, %" PRIu64 " fail-stops, %" PRIu64 " pauses\n",
	        s->timers_fired, s->calls, s->crashes, s->restarts, s->failstops, s->pauses);
	fprintf(out,
	        "  network faults: %" PRIu64 " partitions, %" PRIu64 " clogs, %" PRIu64
	        " clock drifts\n",
	        s->partitions, s->clogs, s->drifts);
	fprintf(out,
	        "  disks: %" PRIu64 " reads, %" PRIu64 " writes, %" PRIu64 " syncs, %" PRIu64
	        " errors\n",
	        s->disk_reads, s->disk_writes, s->disk_syncs, s->disk_errors);
	if (w->failure)
		fprintf(out, "  failure: %s\n", err_msg(w->failure));
}
