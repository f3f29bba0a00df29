/*
 * network.c — the simulated network: every message is an event.
 *
 * A send copies the bytes and queues a delivery after a latency drawn from the network's
 * own stream: latency_min_us plus an exponential extra with mean latency_mean_us, capped
 * at latency_max_us. Random latencies reorder messages on the same link, which real
 * networks (and retransmitting transports across reconnects) do too. On the way a message
 * may be lost or duplicated (fault rates), and it is dropped at once if the link is
 * blocked, if it is larger than message_max_bytes, or if its link already carries
 * inflight_max messages: every link has a bounded queue, like a socket buffer.
 *
 * At delivery the world looks again: a message to a node that is down, or over a link
 * that was blocked meanwhile, is lost; a message to or from a clogged node waits until the
 * clog ends (that is how a slow or overloaded link looks from outside); a message for a
 * paused or busy node waits for it (host.c).
 *
 * Links are directed, so a partition may be one-way: n1 hears n2 but n2 does not hear n1,
 * the case that makes naive leader election flap.
 */
#include "sim/sim_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/checksum.h"

err *sim__net_check(const struct sim_net_config *net)
{
	assert(net != NULL);
	if (net->latency_min_us > net->latency_max_us)
		return err_new(ERR_INVALID, "sim: latency_min_us %u > latency_max_us %u",
		               net->latency_min_us, net->latency_max_us);
	if (net->latency_mean_us > net->latency_max_us)
		return err_new(ERR_INVALID, "sim: latency_mean_us %u > latency_max_us %u",
		               net->latency_mean_us, net->latency_max_us);
	if (net->inflight_max < 1 || net->inflight_max > SIM_INFLIGHT_MAX)
		return err_new(ERR_INVALID, "sim: inflight_max must be in [1, %d]",
		               SIM_INFLIGHT_MAX);
	if (net->message_max_bytes < 1 || net->message_max_bytes > SIM_MESSAGE_MAX)
		return err_new(ERR_INVALID, "sim: message_max_bytes must be in [1, %u]",
		               SIM_MESSAGE_MAX);
	return NULL;
}

static uint64_t sim__net_latency_us(struct sim_world *w)
{
	const struct sim_net_config *net = &w->cfg.net;
	assert(net->latency_min_us <= net->latency_max_us);
	double extra =
	    net->latency_mean_us ? prng_exponential(&w->net_prng, net->latency_mean_us) : 0.0;
	double latency = (double)net->latency_min_us + extra;
	if (latency > (double)net->latency_max_us)
		latency = (double)net->latency_max_us;
	assert(latency >= 0);
	return (uint64_t)latency;
}

/* Traces a send that went nowhere; `why` names the counter that was bumped. */
static void sim__net_trace_drop(struct sim_world *w, uint32_t from, uint32_t to,
                                const uint8_t *bytes, size_t len, const char *why)
{
	if (sim__tracing(w))
		sim__trace(w, from, true, "send to=n%u len=%zu sum=%08x drop=%s", to, len,
		           checksum32(bytes, len), why);
}

/* Queues one copy of a message; false if its link is full. */
static bool sim__net_queue(struct sim_world *w, uint32_t from, uint32_t to, const uint8_t *bytes,
                           size_t len, bool duplicate)
{
	assert(sim__valid_id(w, from) && sim__valid_id(w, to));
	assert(len <= w->cfg.net.message_max_bytes);
	uint32_t *inflight = &w->inflight[from - 1][to - 1];
	if (*inflight >= w->cfg.net.inflight_max) {
		w->stats.over_inflight++;
		sim__net_trace_drop(w, from, to, bytes, len, "inflight");
		return false;
	}
	uint32_t slot = sim__queue_alloc(&w->queue, SIM__EV_MESSAGE, to);
	uint8_t *copy = sim__queue_msg_buf(&w->queue, slot, len);
	if (!copy) {
		sim__queue_release(&w->queue, slot);
		sim__fail(w, err_new(ERR_NOMEM, "sim: no memory for a %zu-byte message", len));
		return false;
	}
	if (len)
		memcpy(copy, bytes, len);
	struct sim__event *ev = sim__event(&w->queue, slot);
	ev->u.msg.bytes = copy;
	ev->u.msg.len = (uint32_t)len;
	ev->u.msg.from = from;
	uint64_t at_us = w->now_us + sim__net_latency_us(w);
	sim__queue_push(&w->queue, slot, at_us);
	(*inflight)++;
	if (duplicate)
		w->stats.duplicated++;
	if (sim__tracing(w)) {
		char at[32];
		sim__format_time(at_us, at, sizeof at);
		sim__trace(w, from, true, "send to=n%u len=%zu sum=%08x at=%s%s", to, len,
		           checksum32(bytes, len), at, duplicate ? " dup" : "");
	}
	return true;
}

void sim__net_send(struct sim__host *h, uint32_t to, const uint8_t *bytes, size_t len)
{
	struct sim_world *w = h->world;
	const struct sim_faults *f = &w->cfg.faults;
	assert(h->status == SIM__UP);
	w->stats.sent++;
	if (!sim__valid_id(w, to)) {
		w->stats.bad_destination++;
		sim__net_trace_drop(w, h->id, to, bytes, len, "bad-destination");
		return;
	}
	if (len > w->cfg.net.message_max_bytes) {
		w->stats.oversized++;
		sim__net_trace_drop(w, h->id, to, bytes, len, "oversized");
		return;
	}
	if (w->blocked[h->id - 1][to - 1]) {
		w->stats.partitioned++;
		sim__net_trace_drop(w, h->id, to, bytes, len, "partition");
		return;
	}
	if (f->enabled && prng_chance(&w->net_prng, f->loss)) {
		w->stats.lost++;
		sim__net_trace_drop(w, h->id, to, bytes, len, "loss");
		return;
	}
	bool twice = f->enabled && prng_chance(&w->net_prng, f->duplicate);
	if (sim__net_queue(w, h->id, to, bytes, len, false) && twice)
		sim__net_queue(w, h->id, to, bytes, len, true);
}

void sim__net_discard(struct sim_world *w, uint32_t slot)
{
	struct sim__event *ev = sim__event(&w->queue, slot);
	assert(ev->kind == SIM__EV_MESSAGE);
	assert(w->inflight[ev->u.msg.from - 1][ev->node - 1] > 0);
	w->inflight[ev->u.msg.from - 1][ev->node - 1]--;
	sim__queue_release(&w->queue, slot);
}

void sim__net_arrive(struct sim_world *w, uint32_t slot)
{
	struct sim__event *ev = sim__event(&w->queue, slot);
	assert(ev->kind == SIM__EV_MESSAGE && ev->heap_pos == SIM__NONE);
	uint32_t from = ev->u.msg.from, to = ev->node;
	struct sim__host *h = sim__host(w, to);
	const char *dropped = NULL;
	if (h->status == SIM__DOWN) {
		w->stats.to_down_node++;
		dropped = "down";
	} else if (w->blocked[from - 1][to - 1]) {
		w->stats.partitioned++;
		dropped = "partition";
	}
	if (dropped) {
		sim__trace(w, to, false, "drop from=n%u len=%u reason=%s", from, ev->u.msg.len,
		           dropped);
		sim__net_discard(w, slot);
		return;
	}
	uint64_t clog_us = sim__host(w, from)->clog_until_us;
	if (h->clog_until_us > clog_us)
		clog_us = h->clog_until_us;
	if (clog_us > w->now_us) {
		w->stats.clog_delays++;
		sim__queue_push(&w->queue, slot, clog_us);
		if (sim__tracing(w)) {
			char until[32];
			sim__format_time(clog_us, until, sizeof until);
			sim__trace(w, to, false, "clogged from=n%u until=%s", from, until);
		}
		return;
	}
	if (sim__host_gate(h, slot))
		sim__host_deliver(h, slot);
}

/* ---- the public controls ---- */

err *sim_net_set(struct sim_world *w, const struct sim_net_config *net)
{
	TRY(sim__net_check(net));
	if (net->inflight_max > w->inflight_reserved)
		return err_new(ERR_INVALID,
		               "sim: the world was made for at most %u messages in "
		               "flight per link",
		               w->inflight_reserved);
	w->cfg.net = *net;
	sim__trace(w, 0, false, "net latency=%u+%u<=%uus inflight<=%u size<=%u",
	           net->latency_min_us, net->latency_mean_us, net->latency_max_us,
	           net->inflight_max, net->message_max_bytes);
	return NULL;
}

void sim_net_block(struct sim_world *w, uint32_t from, uint32_t to, bool blocked)
{
	assert(sim__valid_id(w, from) && sim__valid_id(w, to));
	w->blocked[from - 1][to - 1] = blocked;
	sim__trace(w, 0, false, "%s n%u->n%u", blocked ? "block" : "unblock", from, to);
}

void sim_net_partition(struct sim_world *w, uint32_t mask)
{
	assert(w->cfg.nodes <= SIM_NODES_MAX);
	w->stats.partitions++;
	for (uint32_t a = 1; a <= w->cfg.nodes; a++)
		for (uint32_t b = 1; b <= w->cfg.nodes; b++)
			if (((mask >> (a - 1)) & 1) != ((mask >> (b - 1)) & 1))
				w->blocked[a - 1][b - 1] = true;
	sim__trace(w, 0, false, "partition mask=%#x", mask);
}

void sim_net_heal(struct sim_world *w)
{
	assert(w->cfg.nodes <= SIM_NODES_MAX);
	memset(w->blocked, 0, sizeof w->blocked);
	sim__trace(w, 0, false, "heal");
}

void sim_net_clog(struct sim_world *w, uint32_t id, uint64_t duration_ms)
{
	assert(sim__valid_id(w, id));
	assert(duration_ms < UINT64_MAX / 4000);
	struct sim__host *h = sim__host(w, id);
	uint64_t until_us = w->now_us + duration_ms * 1000;
	if (until_us > h->clog_until_us)
		h->clog_until_us = until_us;
	w->stats.clogs++;
	if (sim__tracing(w)) {
		char until[32];
		sim__format_time(h->clog_until_us, until, sizeof until);
		sim__trace(w, id, false, "clog until=%s", until);
	}
}
