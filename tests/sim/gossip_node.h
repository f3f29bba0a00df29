/*
 * gossip_node.h — a small node for the simulator's tests: it gossips a counter and keeps
 * it on disk the way a real node keeps its state.
 *
 * Every tick (timer 1, about every 50ms) a node increments its counter, writes it to one of
 * two checksummed slots in "counter" (alternating, LMDB-style meta pages: the slot not
 * holding the newest version is overwritten), syncs, and sends it to every peer. A node
 * that hears a larger counter adopts it and appends it to "log" without syncing: that log
 * is the lazily persisted part, the part a crash may lose or tear. At start the node
 * recovers max(newest valid slot, valid log records) and truncates the log at the first
 * record that fails its checksum (a torn tail). A record that fails its checksum is read
 * again a few times first: a bit flip on read is transient, a torn write is not.
 *
 * The invariant the tests check: a restarted node never recovers less than the counter it
 * had synced (the app remembers it across incarnations; a violation is ERR_INTERNAL and
 * fails the run). Slots that fail their checksums on every read are a fail-stop
 * (ERR_CORRUPT); I/O errors are fail-stops too, and the restart reads again.
 */
#ifndef CAIRN_TESTS_SIM_GOSSIP_NODE_H
#define CAIRN_TESTS_SIM_GOSSIP_NODE_H

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/checksum.h"
#include "sim/sim.h"

#define GOSSIP_TICK 1
#define GOSSIP_TICK_MS 50
#define GOSSIP_MSG 0x47     /* 'G' */
#define GOSSIP_RECORD 20    /* version u64, counter u64, checksum u32 */
#define GOSSIP_LOG_MAX 256  /* log records before the log is folded into a slot */
#define GOSSIP_READ_TRIES 8 /* reads of a record before its checksum failure is believed */

struct gossip_app {
	uint32_t nodes;
	uint64_t synced[SIM_NODES_MAX + 1]; /* synced[id]: the counter node id last synced */
	uint64_t torn_tails;                /* log tails cut at restart */
	uint64_t reread[SIM_NODES_MAX + 1]; /* reread[id]: records that passed on a re-read */
	uint64_t recoveries;                /* starts that found state on disk */
	bool lazy_log;                      /* append received counters to the log */
};

struct gossip_node {
	const struct env *env;
	struct gossip_app *app;
	struct vfs_file *slots;
	struct vfs_file *log;
	uint64_t version; /* of the newest slot */
	uint64_t counter;
	uint64_t log_records;
};

static void gossip_encode(uint8_t rec[GOSSIP_RECORD], uint64_t version, uint64_t counter)
{
	store_u64be(rec, version);
	store_u64be(rec + 8, counter);
	store_u32be(rec + 16, checksum32(rec, 16));
}

static bool gossip_decode(const uint8_t rec[GOSSIP_RECORD], uint64_t *version, uint64_t *counter)
{
	if (load_u32be(rec + 16) != checksum32(rec, 16))
		return false;
	*version = load_u64be(rec);
	*counter = load_u64be(rec + 8);
	return true;
}

/*
 * Reads the record at `offset`, reading again while it fails its checksum: a bit flipped
 * on the way from the disk is transient, a torn write is not. *valid is false if no read
 * passed.
 */
static err *gossip_read_record(struct gossip_node *n, struct vfs_file *f, uint64_t offset,
                               uint64_t *version, uint64_t *counter, bool *valid)
{
	uint8_t rec[GOSSIP_RECORD];
	*valid = false;
	for (int attempt = 0; attempt < GOSSIP_READ_TRIES && !*valid; attempt++) {
		TRY(vfs_read_exact(f, offset, rec, sizeof rec));
		*valid = gossip_decode(rec, version, counter);
		if (*valid && attempt > 0)
			n->app->reread[n->env->node_id]++;
	}
	return NULL;
}

/* Reads the newest valid slot; ERR_CORRUPT if slots exist but none is valid. */
static err *gossip_load_slots(struct gossip_node *n)
{
	uint64_t size = 0;
	TRY(vfs_size(n->slots, &size));
	bool any = false, found = false;
	for (uint64_t offset = 0; offset + GOSSIP_RECORD <= size && offset < 2 * GOSSIP_RECORD;
	     offset += GOSSIP_RECORD) {
		uint64_t version, counter;
		bool valid;
		any = true;
		TRY(gossip_read_record(n, n->slots, offset, &version, &counter, &valid));
		if (!valid || version < n->version)
			continue;
		found = true;
		n->version = version;
		n->counter = counter;
	}
	if (any && !found)
		return err_new(ERR_CORRUPT, "gossip: both slots fail their checksums");
	return NULL;
}

/* Adopts the valid prefix of the log and cuts the rest (a torn tail). */
static err *gossip_load_log(struct gossip_node *n)
{
	uint64_t size = 0;
	TRY(vfs_size(n->log, &size));
	uint64_t offset = 0;
	for (; offset + GOSSIP_RECORD <= size && n->log_records < GOSSIP_LOG_MAX;
	     offset += GOSSIP_RECORD) {
		uint64_t version, counter;
		bool valid;
		TRY(gossip_read_record(n, n->log, offset, &version, &counter, &valid));
		if (!valid)
			break;
		n->log_records++;
		if (counter > n->counter)
			n->counter = counter;
	}
	if (offset < size) {
		n->app->torn_tails++;
		TRY(vfs_truncate(n->log, offset));
		TRY(vfs_sync(n->log));
	}
	return NULL;
}

/* Writes the counter to the older slot and syncs; the log is folded in when full. */
static err *gossip_persist(struct gossip_node *n)
{
	uint8_t rec[GOSSIP_RECORD];
	n->version++;
	gossip_encode(rec, n->version, n->counter);
	TRY(vfs_write(n->slots, (n->version % 2) * GOSSIP_RECORD, rec, sizeof rec));
	TRY(vfs_sync(n->slots));
	TRY(vfs_sync(n->log));
	n->app->synced[n->env->node_id] = n->counter;
	if (n->log_records >= GOSSIP_LOG_MAX) {
		TRY(vfs_truncate(n->log, 0));
		TRY(vfs_sync(n->log));
		n->log_records = 0;
	}
	return NULL;
}

static void gossip_destroy(void *node)
{
	struct gossip_node *n = node;
	vfs_close(n->slots);
	vfs_close(n->log);
	free(n);
}

static void gossip_arm(struct gossip_node *n)
{
	env_timer_set(n->env, GOSSIP_TICK, GOSSIP_TICK_MS + prng_below(n->env->prng, 10));
}

static err *gossip_create(const struct env *env, void *app, void **out)
{
	struct gossip_node *n = calloc(1, sizeof *n);
	if (!n)
		return err_new(ERR_NOMEM, "gossip: no memory");
	n->env = env;
	n->app = app;
	err *e = vfs_open(env->vfs, "counter", VFS_CREATE, &n->slots);
	if (!e)
		e = vfs_open(env->vfs, "log", VFS_CREATE, &n->log);
	if (!e)
		e = gossip_load_slots(n);
	if (!e)
		e = gossip_load_log(n);
	if (!e && n->counter < n->app->synced[env->node_id])
		e = err_new(ERR_INTERNAL, "gossip: n%u recovered %llu < synced %llu", env->node_id,
		            (unsigned long long)n->counter,
		            (unsigned long long)n->app->synced[env->node_id]);
	if (e) {
		gossip_destroy(n);
		return e;
	}
	if (n->version || n->log_records)
		n->app->recoveries++;
	env_logf(env, LOG_INFO, "gossip: up with counter %llu", (unsigned long long)n->counter);
	gossip_arm(n);
	*out = n;
	return NULL;
}

static err *gossip_on_timer(void *node, uint32_t timer_id)
{
	struct gossip_node *n = node;
	if (timer_id != GOSSIP_TICK)
		return err_new(ERR_INTERNAL, "gossip: unknown timer %u", timer_id);
	n->counter++;
	TRY(gossip_persist(n));
	uint8_t msg[9];
	msg[0] = GOSSIP_MSG;
	store_u64be(msg + 1, n->counter);
	for (uint32_t peer = 1; peer <= n->app->nodes; peer++)
		if (peer != n->env->node_id)
			env_send(n->env, peer, msg, sizeof msg);
	gossip_arm(n);
	return NULL;
}

static err *gossip_on_message(void *node, uint32_t from, const uint8_t *bytes, size_t len)
{
	struct gossip_node *n = node;
	(void)from;
	if (len != 9 || bytes[0] != GOSSIP_MSG)
		return NULL; /* not ours: ignored, as a real node ignores a bad frame */
	uint64_t v = load_u64be(bytes + 1);
	if (v <= n->counter)
		return NULL;
	n->counter = v;
	env_logf(n->env, LOG_DEBUG, "gossip: adopted %llu from n%u", (unsigned long long)v, from);
	if (!n->app->lazy_log || n->log_records >= GOSSIP_LOG_MAX)
		return NULL;
	uint8_t rec[GOSSIP_RECORD];
	gossip_encode(rec, 0, v);
	TRY(vfs_write(n->log, n->log_records * GOSSIP_RECORD, rec, sizeof rec));
	n->log_records++;
	return NULL;
}

static bool gossip_state(void *node, uint64_t *applied_index, uint64_t *state_hash)
{
	struct gossip_node *n = node;
	*applied_index = n->counter;
	*state_hash = checksum32(&n->counter, sizeof n->counter);
	return true;
}

static void gossip_describe(const uint8_t *bytes, size_t len, char *out, size_t cap)
{
	if (len == 9 && bytes[0] == GOSSIP_MSG)
		snprintf(out, cap, "gossip %llu", (unsigned long long)load_u64be(bytes + 1));
	else
		snprintf(out, cap, "garbage");
}

static const struct sim_node_ops gossip_ops = {
    .create = gossip_create,
    .on_message = gossip_on_message,
    .on_timer = gossip_on_timer,
    .destroy = gossip_destroy,
    .state = gossip_state,
    .describe = gossip_describe,
};

/* Prepares an app for a world of `nodes` nodes. */
static inline void gossip_app_init(struct gossip_app *app, uint32_t nodes, bool lazy_log)
{
	memset(app, 0, sizeof *app);
	app->nodes = nodes;
	app->lazy_log = lazy_log;
}

#endif
