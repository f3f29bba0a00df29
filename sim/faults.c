/*
 * faults.c — what goes wrong, when, and how much: swarm fault mixes, the fault schedule,
 * node faults and the liveness phase.
 *
 * Swarm testing (Groce et al., "Swarm Testing", ISSTA 2012; TigerBeetle's VOPR does the
 * same): instead of one fixed mix of faults for every run, each seed draws its own. One
 * seed loses 15% of messages and never crashes; the next crashes a node every few seconds
 * over a perfect network. Bugs that need one fault to be frequent and another to be absent
 * are found far sooner than under an average of everything.
 *
 * The schedule is a set of Poisson processes, one per kind (crash, pause, partition, clog,
 * drift), each drawing from its own stream prng_subseed(seed, "faults", 1 + kind), so
 * turning one kind off does not move the others. A crash or pause hits a random node
 * that is up, as long as fewer than down_max nodes are already crashed or paused;
 * a crashed node restarts after a drawn delay, a paused one resumes. One fault partition
 * exists at a time and heals after a drawn delay. Message loss and duplication are drawn
 * by the network, disk faults by each disk.
 *
 * The liveness phase ends all of it at once; docs/simulation.md says why the system is
 * expected to survive each fault, and why it must converge afterwards.
 */
#include "sim/sim_internal.h"

#include <assert.h>
#include <math.h>
#include <string.h>

/* ---- configurations ---- */

void sim_faults_none(struct sim_faults *f)
{
	assert(f != NULL);
	*f = (struct sim_faults){.enabled = false};
}

void sim_config_default(struct sim_config *cfg, uint64_t seed, const char *app)
{
	assert(cfg != NULL && app != NULL);
	*cfg = (struct sim_config){
	    .seed = seed,
	    .nodes = 5,
	    .trace_log_level = LOG_OFF,
	    .net = {.latency_min_us = 1000,
	            .latency_mean_us = 2000,
	            .latency_max_us = 10000,
	            .inflight_max = 256,
	            .message_max_bytes = 4u << 20},
	    .disk = {.capacity_bytes = 64u << 20, .read_us = 20, .write_us = 30, .sync_us = 500},
	};
	snprintf(cfg->app, sizeof cfg->app, "%s", app);
	sim_faults_none(&cfg->faults);
}

/* Log-uniform in [lo, hi]: as likely to be near 0.001 as near 0.1. */
static double sim__log_uniform(struct prng *p, double lo, double hi)
{
	assert(lo > 0 && lo <= hi);
	double v = exp(log(lo) + prng_double(p) * (log(hi) - log(lo)));
	assert(v > 0);
	return v < lo ? lo : v > hi ? hi : v;
}

static uint32_t sim__draw_u32(struct prng *p, uint32_t lo, uint32_t hi)
{
	assert(lo <= hi);
	return (uint32_t)prng_between(p, lo, hi);
}

void sim_faults_swarm(uint64_t seed, uint32_t nodes, struct sim_faults *f)
{
	assert(nodes >= 1 && nodes <= SIM_NODES_MAX);
	struct prng p;
	prng_seed(&p, prng_subseed(seed, "faults", 0));
	sim_faults_none(f);
	f->enabled = true;
	uint32_t minority = (nodes - 1) / 2;
	f->down_max = minority;
	if (prng_chance(&p, 0.5))
		f->loss = sim__log_uniform(&p, 0.001, 0.2);
	if (prng_chance(&p, 0.3))
		f->duplicate = sim__log_uniform(&p, 0.001, 0.05);
	if (nodes > 1 && prng_chance(&p, 0.5)) {
		f->partition_every_ms = sim__draw_u32(&p, 2000, 20000);
		f->partition_max_ms = sim__draw_u32(&p, 500, 10000);
		f->partition_one_way = prng_double(&p);
	}
	if (prng_chance(&p, 0.4)) {
		f->clog_every_ms = sim__draw_u32(&p, 2000, 20000);
		f->clog_max_ms = sim__draw_u32(&p, 100, 3000);
	}
	if (minority > 0 && prng_chance(&p, 0.3)) {
		f->read_flip = sim__log_uniform(&p, 1e-5, 1e-3);
		uint32_t corrupt = sim__draw_u32(&p, 1, minority);
		for (uint32_t i = 0; i < corrupt; i++) {
			uint32_t bit = (uint32_t)prng_below(&p, nodes);
			while (f->corrupt_mask & (1u << bit))
				bit = (bit + 1) % nodes;
			f->corrupt_mask |= 1u << bit;
		}
	}
	if (prng_chance(&p, 0.2))
		f->io_error = sim__log_uniform(&p, 1e-5, 1e-3);
	if (prng_chance(&p, 0.5))
		f->torn_write = prng_double(&p);
	if (prng_chance(&p, 0.4)) {
		f->slow_sync = sim__log_uniform(&p, 0.01, 0.5);
		f->slow_sync_max_ms = sim__draw_u32(&p, 2, 200);
	}
	if (minority > 0 && prng_chance(&p, 0.6)) {
		f->crash_every_ms = sim__draw_u32(&p, 2000, 30000);
		f->restart_min_ms = sim__draw_u32(&p, 0, 5000);
		f->restart_max_ms = f->restart_min_ms + sim__draw_u32(&p, 0, 10000);
	}
	if (minority > 0 && prng_chance(&p, 0.4)) {
		f->pause_every_ms = sim__draw_u32(&p, 2000, 30000);
		f->pause_max_ms = sim__draw_u32(&p, 100, 5000);
	}
	if (prng_chance(&p, 0.4)) {
		f->drift_every_ms = sim__draw_u32(&p, 5000, 60000);
		f->drift_max_ppm = sim__draw_u32(&p, 100, 50000);
	}
	if (prng_chance(&p, 0.5))
		f->offset_max_ms = sim__draw_u32(&p, 1, 60000);
}

static err *sim__check_probability(const char *name, double v)
{
	if (!(v >= 0.0 && v <= 1.0))
		return err_new(ERR_INVALID, "sim: %s must be a probability, not %g", name, v);
	return NULL;
}

err *sim__faults_check(const struct sim_faults *f, uint32_t nodes)
{
	assert(f != NULL);
	assert(nodes >= 1 && nodes <= SIM_NODES_MAX);
	TRY(sim__check_probability("loss", f->loss));
	TRY(sim__check_probability("duplicate", f->duplicate));
	TRY(sim__check_probability("partition_one_way", f->partition_one_way));
	TRY(sim__check_probability("read_flip", f->read_flip));
	TRY(sim__check_probability("io_error", f->io_error));
	TRY(sim__check_probability("torn_write", f->torn_write));
	TRY(sim__check_probability("slow_sync", f->slow_sync));
	if (f->restart_min_ms > f->restart_max_ms)
		return err_new(ERR_INVALID, "sim: restart_min_ms > restart_max_ms");
	if (f->drift_max_ppm > SIM_DRIFT_PPM_MAX)
		return err_new(ERR_INVALID, "sim: drift_max_ppm above %d", SIM_DRIFT_PPM_MAX);
	if (f->down_max >= nodes)
		return err_new(ERR_INVALID, "sim: down_max must leave a node up");
	if (nodes < 32 && (f->corrupt_mask >> nodes) != 0)
		return err_new(ERR_INVALID, "sim: corrupt_mask names nodes that do not exist");
	if ((uint32_t)__builtin_popcount(f->corrupt_mask) > (nodes - 1) / 2)
		return err_new(ERR_INVALID, "sim: bit flips on a majority of disks are beyond "
		                            "what replication can survive");
	return NULL;
}

err *sim_config_check(const struct sim_config *cfg)
{
	assert(cfg != NULL);
	if (cfg->nodes < 1 || cfg->nodes > SIM_NODES_MAX)
		return err_new(ERR_INVALID, "sim: nodes must be in [1, %d]", SIM_NODES_MAX);
	size_t app_len = strnlen(cfg->app, sizeof cfg->app);
	if (app_len == 0 || app_len == sizeof cfg->app)
		return err_new(ERR_INVALID, "sim: the app name must have 1 to %d characters",
		               SIM_APP_NAME_MAX - 1);
	for (size_t i = 0; i < app_len; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-",
		            cfg->app[i]))
			return err_new(ERR_INVALID, "sim: the app name may not contain '%c'",
			               cfg->app[i]);
	if ((unsigned)cfg->trace_log_level > LOG_OFF)
		return err_new(ERR_INVALID, "sim: no such log level");
	if (cfg->disk.capacity_bytes == 0 || cfg->disk.capacity_bytes > SIZE_MAX / 2)
		return err_new(ERR_INVALID, "sim: disk capacity out of range");
	TRY(sim__net_check(&cfg->net));
	return sim__faults_check(&cfg->faults, cfg->nodes);
}

uint64_t sim_workload_seed(const struct sim_config *cfg, uint64_t index)
{
	assert(cfg != NULL);
	return prng_subseed(cfg->seed, "workload", index);
}

/* ---- the schedule ---- */

static uint32_t sim__tick_every_ms(const struct sim_faults *f, enum sim__fault_kind kind)
{
	switch (kind) {
	case SIM__FAULT_CRASH: return f->crash_every_ms;
	case SIM__FAULT_PAUSE: return f->pause_every_ms;
	case SIM__FAULT_PARTITION: return f->partition_every_ms;
	case SIM__FAULT_CLOG: return f->clog_every_ms;
	case SIM__FAULT_DRIFT: return f->drift_every_ms;
	default: assert(!"not a tick"); return 0;
	}
}

static uint64_t sim__tick_next_us(struct sim_world *w, enum sim__fault_kind kind)
{
	uint32_t every_ms = sim__tick_every_ms(&w->cfg.faults, kind);
	assert(every_ms > 0);
	double gap_us = prng_exponential(&w->fault_prng[kind], every_ms * 1000.0);
	assert(gap_us >= 0);
	return w->now_us + 1 + (gap_us > 1e15 ? (uint64_t)1e15 : (uint64_t)gap_us);
}

/* Removes a pending fault event and frees its slot; *slot becomes SIM__NONE. */
static void sim__faults_cancel(struct sim_world *w, uint32_t *slot)
{
	if (*slot == SIM__NONE)
		return;
	assert(sim__event(&w->queue, *slot)->kind == SIM__EV_FAULT);
	sim__queue_remove(&w->queue, *slot);
	sim__queue_release(&w->queue, *slot);
	*slot = SIM__NONE;
}

/* Queues a fault event in *slot (moving it if already pending). */
static void sim__faults_at(struct sim_world *w, uint32_t *slot, enum sim__fault_kind kind,
                           uint32_t node, uint64_t at_us)
{
	assert(at_us >= w->now_us);
	if (*slot == SIM__NONE) {
		*slot = sim__queue_alloc(&w->queue, SIM__EV_FAULT, node);
		sim__event(&w->queue, *slot)->u.fault = kind;
	} else {
		sim__queue_remove(&w->queue, *slot);
	}
	assert(sim__event(&w->queue, *slot)->u.fault == kind);
	sim__queue_push(&w->queue, *slot, at_us);
}

void sim__faults_arm(struct sim_world *w)
{
	for (int k = 0; k < SIM__FAULT_TICKS; k++) {
		bool on = w->cfg.faults.enabled && sim__tick_every_ms(&w->cfg.faults, k) > 0;
		if (on && w->tick_slot[k] == SIM__NONE)
			sim__faults_at(w, &w->tick_slot[k], k, 0, sim__tick_next_us(w, k));
		else if (!on)
			sim__faults_cancel(w, &w->tick_slot[k]);
	}
	for (uint32_t id = 1; id <= w->cfg.nodes; id++)
		sim__disk_configure(&sim__host(w, id)->disk);
}

void sim__faults_start(struct sim_world *w)
{
	assert(!w->started);
	const struct sim_faults *f = &w->cfg.faults;
	for (uint32_t id = 1; id <= w->cfg.nodes; id++) {
		struct sim__host *h = sim__host(w, id);
		if (f->enabled && f->offset_max_ms)
			h->clock_base_local_us = (uint64_t)prng_between(
			    &w->fault_prng[SIM__FAULT_DRIFT], 0, (int64_t)f->offset_max_ms * 1000);
		sim__faults_at(w, &h->restart_slot, SIM__FAULT_START, id, 0);
	}
	sim__faults_arm(w);
}

void sim__faults_schedule_restart(struct sim__host *h)
{
	struct sim_world *w = h->world;
	const struct sim_faults *f = &w->cfg.faults;
	assert(h->status == SIM__DOWN);
	uint32_t delay_ms =
	    sim__draw_u32(&w->fault_prng[SIM__FAULT_CRASH], f->restart_min_ms, f->restart_max_ms);
	sim__faults_at(w, &h->restart_slot, SIM__FAULT_START, h->id,
	               w->now_us + (uint64_t)delay_ms * 1000);
}

static uint32_t sim__faults_down(const struct sim_world *w)
{
	uint32_t down = 0;
	for (uint32_t id = 1; id <= w->cfg.nodes; id++)
		down += w->hosts[id - 1].status != SIM__UP;
	assert(down <= w->cfg.nodes);
	return down;
}

/* A random node that is up, or 0 if none is. */
static uint32_t sim__faults_pick_up(struct sim_world *w, struct prng *p)
{
	uint32_t up = w->cfg.nodes - sim__faults_down(w);
	if (up == 0)
		return 0;
	uint64_t pick = prng_below(p, up);
	for (uint32_t id = 1; id <= w->cfg.nodes; id++)
		if (sim__host(w, id)->status == SIM__UP && pick-- == 0)
			return id;
	assert(!"counted nodes that are up");
	return 0;
}

static void sim__faults_partition(struct sim_world *w, struct prng *p)
{
	const struct sim_faults *f = &w->cfg.faults;
	uint32_t n = w->cfg.nodes;
	if (n < 2 || w->heal_slot != SIM__NONE)
		return; /* one fault partition at a time */
	if (prng_chance(p, f->partition_one_way)) {
		uint32_t from = 1 + (uint32_t)prng_below(p, n);
		uint32_t to = 1 + (uint32_t)((from + prng_below(p, n - 1)) % n);
		assert(from != to);
		w->stats.partitions++;
		sim_net_block(w, from, to, true);
	} else {
		/* A random split with both sides non-empty. */
		uint32_t mask = 1 + (uint32_t)prng_below(p, (1u << n) - 2);
		sim_net_partition(w, mask);
	}
	uint32_t heal_ms = sim__draw_u32(p, 1, f->partition_max_ms ? f->partition_max_ms : 1);
	sim__faults_at(w, &w->heal_slot, SIM__FAULT_HEAL, 0, w->now_us + (uint64_t)heal_ms * 1000);
}

static void sim__faults_tick(struct sim_world *w, enum sim__fault_kind kind)
{
	const struct sim_faults *f = &w->cfg.faults;
	struct prng *p = &w->fault_prng[kind];
	assert(f->enabled);
	uint32_t id;
	switch (kind) {
	case SIM__FAULT_CRASH:
		if (sim__faults_down(w) < f->down_max && (id = sim__faults_pick_up(w, p))) {
			sim__host_crash(sim__host(w, id), "fault");
			sim__faults_schedule_restart(sim__host(w, id));
		}
		break;
	case SIM__FAULT_PAUSE:
		if (sim__faults_down(w) < f->down_max && (id = sim__faults_pick_up(w, p))) {
			struct sim__host *h = sim__host(w, id);
			sim__host_pause(h);
			uint32_t ms = sim__draw_u32(p, 1, f->pause_max_ms ? f->pause_max_ms : 1);
			sim__faults_at(w, &h->resume_slot, SIM__FAULT_RESUME, id,
			               w->now_us + (uint64_t)ms * 1000);
		}
		break;
	case SIM__FAULT_PARTITION: sim__faults_partition(w, p); break;
	case SIM__FAULT_CLOG:
		id = 1 + (uint32_t)prng_below(p, w->cfg.nodes);
		sim_net_clog(w, id, sim__draw_u32(p, 1, f->clog_max_ms ? f->clog_max_ms : 1));
		break;
	case SIM__FAULT_DRIFT:
		id = 1 + (uint32_t)prng_below(p, w->cfg.nodes);
		sim__host_set_drift(
		    sim__host(w, id),
		    (int32_t)prng_between(p, -(int64_t)f->drift_max_ppm, f->drift_max_ppm));
		break;
	default: assert(!"not a tick");
	}
}

void sim__faults_fire(struct sim_world *w, uint32_t slot)
{
	struct sim__event *ev = sim__event(&w->queue, slot);
	assert(ev->kind == SIM__EV_FAULT && ev->heap_pos == SIM__NONE);
	enum sim__fault_kind kind = ev->u.fault;
	struct sim__host *h = ev->node ? sim__host(w, ev->node) : NULL;
	switch (kind) {
	case SIM__FAULT_START:
		assert(h && h->restart_slot == slot);
		h->restart_slot = SIM__NONE;
		sim__queue_release(&w->queue, slot);
		if (h->status == SIM__DOWN)
			sim__host_start(h);
		return;
	case SIM__FAULT_RESUME:
		assert(h && h->resume_slot == slot);
		h->resume_slot = SIM__NONE;
		sim__queue_release(&w->queue, slot);
		if (h->status == SIM__PAUSED)
			sim__host_resume(h);
		return;
	case SIM__FAULT_HEAL:
		assert(w->heal_slot == slot);
		w->heal_slot = SIM__NONE;
		sim__queue_release(&w->queue, slot);
		sim_net_heal(w);
		return;
	default:
		assert(kind < SIM__FAULT_TICKS && w->tick_slot[kind] == slot);
		sim__queue_push(&w->queue, slot, sim__tick_next_us(w, kind));
		sim__faults_tick(w, kind);
		return;
	}
}

/* ---- the public controls ---- */

err *sim_faults_set(struct sim_world *w, const struct sim_faults *f)
{
	TRY(sim__faults_check(f, w->cfg.nodes));
	w->cfg.faults = *f;
	sim__trace(w, 0, false, "faults %s", f->enabled ? "on" : "off");
	sim__faults_arm(w);
	return NULL;
}

void sim_liveness(struct sim_world *w)
{
	sim__trace(w, 0, false, "liveness");
	w->cfg.faults.enabled = false;
	sim__faults_arm(w);
	sim__faults_cancel(w, &w->heal_slot);
	sim_net_heal(w);
	for (uint32_t id = 1; id <= w->cfg.nodes; id++) {
		struct sim__host *h = sim__host(w, id);
		h->clog_until_us = 0;
		if (h->drift_ppm != 0)
			sim__host_set_drift(h, 0);
		if (h->status == SIM__PAUSED)
			sim__host_resume(h);
		if (h->status == SIM__DOWN) {
			sim__faults_cancel(w, &h->restart_slot);
			sim__host_start(h);
		}
	}
}

void sim_crash(struct sim_world *w, uint32_t id)
{
	assert(sim__valid_id(w, id));
	struct sim__host *h = sim__host(w, id);
	assert(!h->in_callback);
	if (h->status != SIM__DOWN)
		sim__host_crash(h, "requested");
}

void sim_restart(struct sim_world *w, uint32_t id)
{
	assert(sim__valid_id(w, id));
	struct sim__host *h = sim__host(w, id);
	assert(!h->in_callback);
	if (h->status != SIM__DOWN)
		return;
	sim__faults_cancel(w, &h->restart_slot);
	sim__host_start(h);
}

void sim_pause(struct sim_world *w, uint32_t id)
{
	assert(sim__valid_id(w, id));
	assert(!sim__host(w, id)->in_callback);
	if (sim__host(w, id)->status == SIM__UP)
		sim__host_pause(sim__host(w, id));
}

void sim_resume(struct sim_world *w, uint32_t id)
{
	assert(sim__valid_id(w, id));
	assert(!sim__host(w, id)->in_callback);
	if (sim__host(w, id)->status == SIM__PAUSED)
		sim__host_resume(sim__host(w, id));
}

void sim_set_drift(struct sim_world *w, uint32_t id, int32_t ppm)
{
	assert(sim__valid_id(w, id));
	sim__host_set_drift(sim__host(w, id), ppm);
}
