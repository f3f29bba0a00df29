/*
 * host.c — a node's host: the env it sees, and its life (start, crash, pause, resume).
 *
 * The host is to a simulated node what a process and its machine are to a real one. It
 * implements env.h: a local clock that may start offset and run fast or slow, timers (one
 * pending per id; arming again replaces the deadline), sends into the simulated network,
 * log lines, a disk and a random stream. It calls the node back for messages and timers,
 * and interprets what the node returns (see sim_node_ops in sim.h).
 *
 * A crash drops the node object without any shutdown and then drops its disk's unsynced
 * writes; timers die with the process, messages already on the wire do not. A pause holds
 * every event for the node, in order, until it resumes (a stopped process, a long GC):
 * its clock keeps running, so its timers fire late. Disk latency makes the node busy: its
 * next events wait until the charged time has passed.
 */
#include "sim/sim_internal.h"

#include <assert.h>
#include <stdarg.h>
#include <string.h>

#include "base/checksum.h"

#define SIM__MILLION 1000000u

/* ---- the clock ---- */

uint64_t sim__host_local_us(const struct sim__host *h)
{
	const struct sim_world *w = h->world;
	assert(w->now_us >= h->clock_base_global_us);
	assert(h->drift_ppm > -(int32_t)SIM__MILLION);
	unsigned __int128 elapsed = w->now_us - h->clock_base_global_us;
	elapsed = elapsed * (uint64_t)((int64_t)SIM__MILLION + h->drift_ppm) / SIM__MILLION;
	return h->clock_base_local_us + (uint64_t)elapsed;
}

void sim__host_set_drift(struct sim__host *h, int32_t ppm)
{
	assert(sim__valid_id(h->world, h->id));
	if (ppm > SIM_DRIFT_PPM_MAX)
		ppm = SIM_DRIFT_PPM_MAX;
	if (ppm < -SIM_DRIFT_PPM_MAX)
		ppm = -SIM_DRIFT_PPM_MAX;
	/* Rebase so the local clock continues from where it is: it never goes back. */
	h->clock_base_local_us = sim__host_local_us(h);
	h->clock_base_global_us = h->world->now_us;
	h->drift_ppm = ppm;
	h->world->stats.drifts++;
	sim__trace(h->world, h->id, false, "drift ppm=%d", ppm);
}

/* How much world time passes while the node's clock advances local_us. */
static uint64_t sim__host_world_span(const struct sim__host *h, uint64_t local_us)
{
	assert(h->drift_ppm > -(int32_t)SIM__MILLION);
	uint64_t rate = (uint64_t)((int64_t)SIM__MILLION + h->drift_ppm);
	unsigned __int128 span = (unsigned __int128)local_us * SIM__MILLION + rate - 1;
	span /= rate;
	return span > UINT64_MAX / 4 ? UINT64_MAX / 4 : (uint64_t)span;
}

static uint64_t sim__env_now_ms(void *impl)
{
	struct sim__host *h = impl;
	assert(h != NULL && h->world != NULL);
	/* Any status: a node being dropped may still log (the line carries the time). */
	return sim__host_local_us(h) / 1000;
}

/* ---- timers ---- */

static struct sim__timer *sim__host_timer(struct sim__host *h, uint32_t timer_id)
{
	assert(h->timer_count <= SIM_TIMERS_PER_NODE);
	for (uint32_t i = 0; i < h->timer_count; i++)
		if (h->timers[i].id == timer_id)
			return &h->timers[i];
	return NULL;
}

static void sim__host_forget_timer(struct sim__host *h, struct sim__timer *t)
{
	assert(t >= h->timers && t < h->timers + h->timer_count);
	/* Keep the table in arming order, so nothing depends on where a timer sat. */
	size_t i = (size_t)(t - h->timers);
	memmove(&h->timers[i], &h->timers[i + 1], (h->timer_count - i - 1) * sizeof *t);
	h->timer_count--;
}

/* Arms timer `timer_id` of an up node for world time `at_us`; false if the world failed. */
static bool sim__host_arm(struct sim__host *h, uint32_t timer_id, uint64_t at_us)
{
	struct sim_world *w = h->world;
	assert(h->status == SIM__UP);
	if (w->failure)
		return false;
	struct sim__timer *t = sim__host_timer(h, timer_id);
	if (t) {
		sim__queue_remove(&w->queue, t->slot);
	} else {
		if (h->timer_count == SIM_TIMERS_PER_NODE) {
			sim__fail(w, err_new(ERR_LIMIT, "sim: node %u armed more than %d timers",
			                     h->id, SIM_TIMERS_PER_NODE));
			return false;
		}
		t = &h->timers[h->timer_count++];
		t->id = timer_id;
		t->slot = sim__queue_alloc(&w->queue, SIM__EV_TIMER, h->id);
		sim__event(&w->queue, t->slot)->u.timer_id = timer_id;
	}
	sim__queue_push(&w->queue, t->slot, at_us);
	return true;
}

static void sim__env_timer_set(void *impl, uint32_t timer_id, uint64_t delay_ms)
{
	struct sim__host *h = impl;
	struct sim_world *w = h->world;
	uint64_t local_us = delay_ms > UINT64_MAX / 4000 ? UINT64_MAX / 4 : delay_ms * 1000;
	uint64_t at_us = w->now_us + sim__host_world_span(h, local_us);
	if (sim__host_arm(h, timer_id, at_us) && sim__tracing(w)) {
		char at[32];
		sim__format_time(at_us, at, sizeof at);
		sim__trace(w, h->id, true, "timer-set id=%u delay=%llums at=%s", timer_id,
		           (unsigned long long)delay_ms, at);
	}
}

/*
 * A sync in the background takes the disk's sync latency of world time (longer when the
 * disk stalls), during which the node is not busy; its timer fires when it is done. A crash before then loses the
 * unsynced writes, as it would on a real disk.
 */
static void sim__env_sync_start(void *impl, struct vfs_file *file, uint32_t timer_id)
{
	struct sim__host *h = impl;
	struct sim_world *w = h->world;
	assert(h->sync_file == NULL && file != NULL);
	h->sync_file = file;
	h->sync_done_us = w->now_us + sim__disk_sync_latency_us(&h->disk);
	if (sim__host_arm(h, timer_id, h->sync_done_us) && sim__tracing(w)) {
		char at[32];
		sim__format_time(h->sync_done_us, at, sizeof at);
		sim__trace(w, h->id, true, "sync-start id=%u at=%s", timer_id, at);
	}
}

/* Syncs now; a node that did not wait for the timer is busy for the time that was left. */
static err *sim__env_sync_finish(void *impl)
{
	struct sim__host *h = impl;
	struct vfs_file *file = h->sync_file;
	h->sync_file = NULL;
	if (!file || h->status != SIM__UP)
		return NULL; /* none started, or the process is going away: the writes stay unsynced */
	uint64_t now_us = h->world->now_us;
	uint64_t left_us = h->sync_done_us > now_us ? h->sync_done_us - now_us : 0;
	return sim__disk_sync_background(&h->disk, file, (uint32_t)left_us);
}

static void sim__env_timer_cancel(void *impl, uint32_t timer_id)
{
	struct sim__host *h = impl;
	struct sim_world *w = h->world;
	assert(h->status == SIM__UP);
	struct sim__timer *t = sim__host_timer(h, timer_id);
	if (!t)
		return;
	sim__queue_remove(&w->queue, t->slot);
	sim__queue_release(&w->queue, t->slot);
	sim__host_forget_timer(h, t);
	sim__trace(w, h->id, true, "timer-cancel id=%u", timer_id);
}

/* Drops every armed timer: they die with the process. */
static void sim__host_drop_timers(struct sim__host *h)
{
	struct sim_world *w = h->world;
	assert(h->timer_count <= SIM_TIMERS_PER_NODE);
	for (uint32_t i = 0; i < h->timer_count; i++) {
		uint32_t slot = h->timers[i].slot;
		if (sim__event(&w->queue, slot)->heap_pos != SIM__NONE)
			sim__queue_remove(&w->queue, slot);
		sim__queue_release(&w->queue, slot);
	}
	h->timer_count = 0;
}

void sim__host_fire_timer(struct sim__host *h, uint32_t slot)
{
	struct sim_world *w = h->world;
	assert(h->status == SIM__UP && !h->in_callback);
	uint32_t timer_id = sim__event(&w->queue, slot)->u.timer_id;
	struct sim__timer *t = sim__host_timer(h, timer_id);
	assert(t && t->slot == slot);
	sim__host_forget_timer(h, t);
	sim__queue_release(&w->queue, slot);
	w->stats.timers_fired++;
	sim__trace(w, h->id, false, "timer id=%u", timer_id);
	h->in_callback = true;
	err *e = w->ops->on_timer(h->node, timer_id);
	h->in_callback = false;
	sim__host_outcome(h, e, "timer");
}

/* ---- sending and logging ---- */

static void sim__env_send(void *impl, uint32_t to, const uint8_t *bytes, size_t len)
{
	struct sim__host *h = impl;
	assert(h->status == SIM__UP);
	assert(bytes != NULL || len == 0);
	if (h->world->failure)
		return;
	sim__net_send(h, to, bytes, len);
}

static void sim__env_log_line(void *impl, enum log_level level, const char *line)
{
	struct sim__host *h = impl;
	struct sim_world *w = h->world;
	assert(line != NULL);
	if (w->log_sink && level >= w->log_level)
		fprintf(w->log_sink, "%s\n", line);
	if (level >= w->cfg.trace_log_level && sim__tracing(w))
		sim__trace(w, h->id, true, "log %s", line);
}

void sim__host_update_log_level(struct sim__host *h)
{
	const struct sim_world *w = h->world;
	enum log_level level = LOG_OFF;
	if (w->log_sink)
		level = w->log_level;
	if (sim__tracing(w) && w->cfg.trace_log_level < level)
		level = w->cfg.trace_log_level;
	h->env.log_level = level;
}

/* ---- life ---- */

err *sim__host_init(struct sim_world *w, struct sim__host *h, uint32_t id)
{
	assert(sim__valid_id(w, id));
	assert(h == sim__host(w, id));
	*h = (struct sim__host){.world = w,
	                        .id = id,
	                        .status = SIM__DOWN,
	                        .waiting_head = SIM__NONE,
	                        .waiting_tail = SIM__NONE,
	                        .restart_slot = SIM__NONE,
	                        .resume_slot = SIM__NONE};
	h->env = (struct env){.impl = h,
	                      .node_id = id,
	                      .now_ms = sim__env_now_ms,
	                      .timer_set = sim__env_timer_set,
	                      .timer_cancel = sim__env_timer_cancel,
	                      .send = sim__env_send,
	                      .sync_start = sim__env_sync_start,
	                      .sync_finish = sim__env_sync_finish,
	                      .log_line = sim__env_log_line,
	                      .log_level = LOG_OFF,
	                      .vfs = &h->disk.shim,
	                      .prng = &h->prng};
	return sim__disk_init(&h->disk, h);
}

void sim__host_free(struct sim__host *h)
{
	assert(!h->in_callback);
	if (h->status != SIM__DOWN) {
		h->status = SIM__DOWN;
		h->world->ops->destroy(h->node);
	}
	h->node = NULL;
	sim__disk_free(&h->disk);
}

/*
 * The process is gone: its files must be closed (a node that leaks an open file fails the
 * run, since a real restart would find it closed), and the disk loses power.
 */
static void sim__host_power_off(struct sim__host *h)
{
	struct sim_world *w = h->world;
	assert(h->status == SIM__DOWN && h->node == NULL);
	h->busy_until_us = 0;
	assert(h->sync_file == NULL); /* the node's free finished it, or none was started */
	size_t open_files = sim__disk_close_all(&h->disk);
	if (open_files)
		sim__fail(w, err_new(ERR_INTERNAL, "sim: node %u left %zu files open when dropped",
		                     h->id, open_files));
	sim__disk_crash(&h->disk);
}

/* Closes what a failed create left behind: the process exits. */
static void sim__host_abandon(struct sim__host *h)
{
	assert(h->status == SIM__UP && h->node == NULL);
	sim__host_drop_timers(h);
	h->status = SIM__DOWN;
	sim__host_power_off(h);
}

void sim__host_start(struct sim__host *h)
{
	struct sim_world *w = h->world;
	assert(h->status == SIM__DOWN && !h->in_callback);
	assert(h->timer_count == 0 && h->waiting_head == SIM__NONE);
	h->incarnation++;
	prng_seed(&h->prng, prng_subseed(prng_subseed(w->cfg.seed, "node", h->id), "incarnation",
	                                 h->incarnation));
	sim__host_update_log_level(h);
	h->status = SIM__UP;
	if (h->incarnation > 1)
		w->stats.restarts++;
	sim__trace(w, h->id, false, "start incarnation=%u", h->incarnation);
	void *node = NULL;
	h->in_callback = true;
	err *e = w->ops->create(&h->env, w->app, &node);
	h->in_callback = false;
	if (!e) {
		assert(node != NULL);
		h->node = node;
		h->restart_failures = 0;
		return;
	}
	sim__trace(w, h->id, false, "start-failed %s: %s", err_code_name(err_code(e)), err_msg(e));
	sim__host_abandon(h);
	if (err_is(e, ERR_INTERNAL) || ++h->restart_failures > SIM_RESTART_FAILURES_MAX) {
		sim__fail(w, err_wrap(e, "sim: node %u could not start", h->id));
		return;
	}
	err_free(e);
	sim__faults_schedule_restart(h);
}

/* Releases every event held while the node was paused. */
static void sim__host_drop_waiting(struct sim__host *h)
{
	struct sim_world *w = h->world;
	uint32_t bound = w->queue.capacity;
	while (h->waiting_head != SIM__NONE) {
		assert(bound-- > 0);
		uint32_t slot = h->waiting_head;
		h->waiting_head = sim__event(&w->queue, slot)->next;
		sim__event(&w->queue, slot)->next = SIM__NONE;
		/* A held timer stays owned by the timer table, which drops it next. */
		if (sim__event(&w->queue, slot)->kind == SIM__EV_MESSAGE)
			sim__net_discard(w, slot);
		else
			assert(sim__event(&w->queue, slot)->kind == SIM__EV_TIMER);
	}
	h->waiting_tail = SIM__NONE;
}

void sim__host_crash(struct sim__host *h, const char *why)
{
	struct sim_world *w = h->world;
	assert(h->status == SIM__UP || h->status == SIM__PAUSED);
	assert(!h->in_callback && h->node != NULL);
	w->stats.crashes++;
	sim__trace(w, h->id, false, "crash (%s)", why);
	sim__host_drop_waiting(h);
	sim__host_drop_timers(h);
	if (h->resume_slot != SIM__NONE) {
		sim__queue_remove(&w->queue, h->resume_slot);
		sim__queue_release(&w->queue, h->resume_slot);
		h->resume_slot = SIM__NONE;
	}
	h->status = SIM__DOWN; /* the env refuses calls from here on */
	w->ops->destroy(h->node);
	h->node = NULL;
	sim__host_power_off(h);
}

void sim__host_outcome(struct sim__host *h, err *e, const char *what)
{
	struct sim_world *w = h->world;
	assert(!h->in_callback);
	if (!e)
		return;
	if (err_is(e, ERR_INTERNAL)) {
		sim__fail(w, err_wrap(e, "node %u, %s", h->id, what));
		return;
	}
	assert(h->status == SIM__UP);
	w->stats.failstops++;
	sim__trace(w, h->id, false, "failstop %s: %s", err_code_name(err_code(e)), err_msg(e));
	err_free(e);
	sim__host_crash(h, "failstop");
	sim__faults_schedule_restart(h);
}

void sim__host_pause(struct sim__host *h)
{
	assert(h->status == SIM__UP && !h->in_callback);
	assert(h->waiting_head == SIM__NONE);
	h->status = SIM__PAUSED;
	h->world->stats.pauses++;
	sim__trace(h->world, h->id, false, "pause");
}

void sim__host_resume(struct sim__host *h)
{
	struct sim_world *w = h->world;
	assert(h->status == SIM__PAUSED && !h->in_callback);
	h->status = SIM__UP;
	sim__trace(w, h->id, false, "resume");
	if (h->resume_slot != SIM__NONE) {
		sim__queue_remove(&w->queue, h->resume_slot);
		sim__queue_release(&w->queue, h->resume_slot);
		h->resume_slot = SIM__NONE;
	}
	/* Held events run now, in the order they were due. */
	uint32_t bound = w->queue.capacity;
	while (h->waiting_head != SIM__NONE) {
		assert(bound-- > 0);
		uint32_t slot = h->waiting_head;
		h->waiting_head = sim__event(&w->queue, slot)->next;
		sim__event(&w->queue, slot)->next = SIM__NONE;
		sim__queue_push(&w->queue, slot, w->now_us);
	}
	h->waiting_tail = SIM__NONE;
}

/* Names a gated event in a trace line: "timer 3" or "message from n2". */
static void sim__host_trace_gated(struct sim__host *h, uint32_t slot, const char *what,
                                  uint64_t until_us)
{
	struct sim_world *w = h->world;
	const struct sim__event *ev = sim__event(&w->queue, slot);
	assert(ev->kind == SIM__EV_MESSAGE || ev->kind == SIM__EV_TIMER);
	if (!sim__tracing(w))
		return;
	char until[32] = "resume";
	if (until_us)
		sim__format_time(until_us, until, sizeof until);
	if (ev->kind == SIM__EV_TIMER)
		sim__trace(w, h->id, false, "%s timer id=%u until=%s", what, ev->u.timer_id, until);
	else
		sim__trace(w, h->id, false, "%s message from=n%u until=%s", what, ev->u.msg.from,
		           until);
}

bool sim__host_gate(struct sim__host *h, uint32_t slot)
{
	struct sim_world *w = h->world;
	assert(h->status != SIM__DOWN);
	assert(sim__event(&w->queue, slot)->heap_pos == SIM__NONE);
	if (h->status == SIM__PAUSED) {
		sim__event(&w->queue, slot)->next = SIM__NONE;
		if (h->waiting_tail == SIM__NONE)
			h->waiting_head = slot;
		else
			sim__event(&w->queue, h->waiting_tail)->next = slot;
		h->waiting_tail = slot;
		sim__host_trace_gated(h, slot, "held", 0);
		return false;
	}
	if (h->busy_until_us > w->now_us) {
		sim__queue_push(&w->queue, slot, h->busy_until_us);
		sim__host_trace_gated(h, slot, "busy", h->busy_until_us);
		return false;
	}
	return true;
}

void sim__host_charge(struct sim__host *h, uint64_t us)
{
	uint64_t now_us = h->world->now_us;
	assert(h->status == SIM__UP);
	assert(us < UINT64_MAX / 4);
	h->busy_until_us = (h->busy_until_us > now_us ? h->busy_until_us : now_us) + us;
}

void sim__host_deliver(struct sim__host *h, uint32_t slot)
{
	struct sim_world *w = h->world;
	assert(h->status == SIM__UP && !h->in_callback);
	struct sim__event *ev = sim__event(&w->queue, slot);
	assert(ev->kind == SIM__EV_MESSAGE && ev->node == h->id);
	w->stats.delivered++;
	if (sim__tracing(w)) {
		char desc[128] = "";
		if (w->ops->describe)
			w->ops->describe(ev->u.msg.bytes, ev->u.msg.len, desc, sizeof desc);
		sim__trace(w, h->id, false, "recv from=n%u len=%u sum=%08x %s", ev->u.msg.from,
		           ev->u.msg.len, checksum32(ev->u.msg.bytes, ev->u.msg.len), desc);
	}
	h->in_callback = true;
	err *e = w->ops->on_message(h->node, ev->u.msg.from, ev->u.msg.bytes, ev->u.msg.len);
	h->in_callback = false;
	sim__net_discard(w, slot);
	sim__host_outcome(h, e, "message");
}
