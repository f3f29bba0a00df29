/*
 * env.h (net) — the real world's implementation of `struct env` (core/base/env.h) for one
 * node in one process.
 *
 *   now_ms        CLOCK_MONOTONIC, counted from net_env_init (logs read "0.052s n1 ...")
 *   timer_set     one loop timer per timer id; when it fires, the timer handler set with
 *                 net_env_set_timer_handler() is called with the id
 *   send          the Raft transport (messages sent before one is attached are dropped)
 *   log_line      one line per call to the log stream (stderr by default), level-filtered
 *   sync_start    if background_sync: a net_syncer thread; the node's timer handler gets
 *                 the timer id when the sync ends (net/syncer.h)
 *   vfs           the posix vfs rooted at the data directory (created if missing)
 *   prng          seeded from the configuration, or from the OS when the seed is 0
 *
 * Wiring a node, in this order: net_loop_init, net_env_init, create the node with
 * &env.env, net_transport_new (receive -> the node), net_env_set_transport,
 * net_env_set_timer_handler, then net_loop_run. Timers armed before the handler is set
 * wait in the loop; the handler must be set before the loop runs.
 */
#ifndef CAIRN_NET_ENV_H
#define CAIRN_NET_ENV_H

#include <stdint.h>
#include <stdio.h>

#include "base/env.h"
#include "net/loop.h"
#include "net/syncer.h"
#include "net/transport.h"

/* A node may use at most this many distinct timer ids. */
#define NET_ENV_MAX_TIMERS 1024

typedef void (*net_env_timer_fn)(void *ctx, uint32_t timer_id);

struct net_env_config {
	uint32_t node_id;
	const char *data_dir;
	uint64_t seed; /* 0: from getrandom() */
	enum log_level log_level;
	FILE *log_stream; /* NULL: stderr */
	/* Log syncs may run on a thread of their own (pointless when syncs are no-ops). */
	bool background_sync;
};

struct net__env_timer;

struct net_env {
	struct env env; /* what the node is given */
	struct net_loop *loop;
	struct net_transport *transport;
	struct vfs *vfs;
	struct prng prng;
	uint64_t seed; /* the seed actually used, for the startup log line */
	uint64_t origin_ms;
	FILE *log_stream;
	net_env_timer_fn on_timer;
	void *timer_ctx;
	struct net__env_timer **timers;
	size_t timer_count;
	size_t timer_cap;
	struct net_syncer syncer; /* when background_sync */
	uint32_t sync_timer_id;   /* fired when the sync in the background ends */
	/* the log's budget: lines below `error` written in the current second, and dropped */
	uint64_t log_second;
	uint32_t log_lines;
	uint64_t log_dropped;
};

/*
 * Lines below `error` a node logs in one second at most: hostile input (a stranger's
 * connections or messages, each refused with a line) cannot fill the disk through the
 * log. The lines past it are counted, and the count is logged with the next line.
 */
#define NET_ENV_LOG_LINES_PER_SECOND 200

/* Makes the env; creates the data directory (and its parents) if missing. */
err *net_env_init(struct net_env *ne, struct net_loop *loop, const struct net_env_config *cfg);

/* Releases timers, the sync thread and the vfs (every file must be closed). */
void net_env_close(struct net_env *ne);

void net_env_set_transport(struct net_env *ne, struct net_transport *t);
void net_env_set_timer_handler(struct net_env *ne, net_env_timer_fn fn, void *ctx);

/*
 * A net_log_fn (transport.h) for the transport and server: `ctx` is a struct net_env *;
 * each message is logged through the env with its time and node prefix.
 */
void net_env_log(void *ctx, enum log_level level, const char *message);

#endif
