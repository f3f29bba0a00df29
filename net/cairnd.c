/*
 * cairnd.c — one cairn node in one process: the node (core/node) over the real world's
 * env (net/env.h), Raft over TCP (net/transport.h) and clients on the SQL port
 * (net/node_server.h). docs/operations.md describes the configuration, ports and logs.
 *
 *     cairnd --config FILE [--id N] [--sql-listen ADDR] [--raft-listen ADDR]
 *            [--peers ID=ADDR,...] [--data-dir DIR] [--fsync on|off] [--read-lease on|off]
 *            [--lazy-followers on|off] [--pacing on|off] [--log-level L]
 *
 * Exit status: 0 after SIGTERM or SIGINT (the node was closed cleanly, every applied
 * entry flushed), 2 for bad configuration (one line on stderr), 1 when the node could
 * not start or failed while running. A node whose disk failed (an error from
 * node_on_message or node_on_timer) is never called again: the process stops without
 * writing anything more and exits 1, for a supervisor to restart it over its files.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "net/config.h"
#include "net/env.h"
#include "net/node_server.h"
#include "net/transport.h"
#include "node/node.h"
#include "storage/vfs_nosync.h"

struct cairnd {
	struct net_loop loop;
	struct net_env env;
	struct node *node;
	struct net_transport *transport;
	struct net_node_server *server;
	struct vfs *nosync; /* wraps the env's vfs when fsync is off */
	bool failed;        /* the node returned an error: it is never called again */
};

/* The node failed: stop calling it, stop the loop, and let main exit 1. */
static void cairnd__fail(struct cairnd *d, err *e, const char *where)
{
	env_logf(&d->env.env, LOG_ERROR, "node: failed in %s: %s; stopping (exit 1)", where,
	         err_msg(e));
	err_free(e);
	d->failed = true;
	if (d->server)
		net_node_server_detach(d->server);
	net_loop_stop(&d->loop);
}

static void cairnd__receive(void *ctx, uint32_t from, const uint8_t *bytes, size_t len)
{
	struct cairnd *d = ctx;
	if (d->failed)
		return;
	err *e = node_on_message(d->node, from, bytes, len);
	if (e)
		cairnd__fail(d, e, "a message");
}

static uint64_t cairnd__cluster_id(void *ctx)
{
	const struct cairnd *d = ctx;
	return node_cluster_id(d->node);
}

static void cairnd__timer(void *ctx, uint32_t timer_id)
{
	struct cairnd *d = ctx;
	if (d->failed)
		return;
	err *e = node_on_timer(d->node, timer_id);
	if (e)
		cairnd__fail(d, e, "a timer");
}

_Static_assert(NET_TRANSPORT_MAX_NODES == RAFT_MAX_NODES,
               "the configuration takes as many nodes as Raft counts");

/* The node's voters: every id in `peers`, and this node's own (net_config_finish() left
 * room for it). */
static void cairnd__node_config(const struct net_config *c, struct node_config *out)
{
	memset(out, 0, sizeof *out);
	out->id = c->node_id;
	bool self = false;
	for (size_t i = 0; i < c->peer_count; i++) {
		out->peers[out->n_peers++] = c->peers[i].id;
		self = self || c->peers[i].id == c->node_id;
	}
	if (!self) {
		assert(out->n_peers < RAFT_MAX_NODES);
		out->peers[out->n_peers++] = c->node_id;
	}
	out->read_lease_ms = c->read_lease ? 0 : NODE_READ_LEASE_OFF; /* 0: the node's default */
	out->eager_followers = !c->lazy_followers;
	out->unpaced = !c->pacing;
}

/* Opens the node and everything around it, in the order net/env.h prescribes. */
static err *cairnd__start(struct cairnd *d, const struct net_config *c)
{
	struct net_env_config ec = {.node_id = c->node_id,
	                            .data_dir = c->data_dir,
	                            .seed = c->seed,
	                            .log_level = c->log_level,
	                            .background_sync = c->fsync};
	TRY(net_env_init(&d->env, &d->loop, &ec));
	if (!c->fsync) {
		TRY(vfs_nosync_new(d->env.vfs, &d->nosync));
		d->env.env.vfs = d->nosync;
	}
	struct node_config nc;
	cairnd__node_config(c, &nc);
	TRY(err_wrap(node_open(&d->env.env, &nc, &d->node), "%s", c->data_dir));
	struct net_transport_config tc = {
	    .self_id = c->node_id,
	    .listen = c->raft_listen,
	    .peers = c->peers,
	    .peer_count = c->peer_count,
	    .receive = cairnd__receive,
	    .receive_ctx = d,
	    .cluster_id = cairnd__cluster_id,
	    .log = net_env_log,
	    .log_ctx = &d->env,
	};
	TRY(net_transport_new(&d->loop, &tc, &d->transport));
	net_env_set_transport(&d->env, d->transport);
	net_env_set_timer_handler(&d->env, cairnd__timer, d);
	struct net_server_config sc = {
	    .listen = c->sql_listen, .log = net_env_log, .log_ctx = &d->env};
	TRY(net_node_server_new(&d->loop, d->node, &sc, &d->server));
	env_logf(&d->env.env, LOG_INFO,
	         "cairnd %s: node %u, SQL on %s:%u, Raft on %s:%u, %zu peers, data in %s, "
	         "fsync %s, read lease %s, lazy followers %s, pacing %s, seed %llu",
	         CAIRN_VERSION, c->node_id, c->sql_listen.host, net_node_server_port(d->server),
	         c->raft_listen.host, net_transport_port(d->transport), c->peer_count, c->data_dir,
	         c->fsync ? "on" : "off", c->read_lease ? "on" : "off",
	         c->lazy_followers ? "on" : "off", c->pacing ? "on" : "off",
	         (unsigned long long)d->env.seed);
	return NULL;
}

/* Closes what is open, in reverse order; returns false if the node's close failed. */
static bool cairnd__stop(struct cairnd *d)
{
	bool ok = true;
	net_node_server_free(d->server);
	net_transport_free(d->transport);
	net_env_set_transport(&d->env, NULL);
	if (d->node && d->failed) {
		node_free(d->node);
	} else if (d->node) {
		err *e = node_close(d->node);
		if (e) {
			env_logf(&d->env.env, LOG_ERROR, "node: close failed: %s", err_msg(e));
			err_free(e);
			ok = false;
		}
	}
	if (d->nosync) {
		d->env.env.vfs = d->env.vfs;
		vfs_nosync_free(d->nosync);
	}
	if (d->env.loop)
		net_env_close(&d->env);
	return ok;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: cairnd [--config FILE] [flags]\n%s", net_config_usage());
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("cairnd %s\n", CAIRN_VERSION);
			return 0;
		}
	}
	struct net_config config;
	net_config_init(&config);
	err *e = net_config_parse_args(&config, argc, argv);
	if (!e)
		e = net_config_finish(&config);
	if (e) {
		fprintf(stderr, "cairnd: %s\n", err_msg(e));
		err_free(e);
		return 2;
	}
	static struct cairnd d; /* large (the env's timers), and one per process */
	e = net_loop_init(&d.loop);
	if (!e)
		e = net_loop_catch_signals(&d.loop);
	if (e) {
		fprintf(stderr, "cairnd: %s\n", err_msg(e));
		err_free(e);
		return 1;
	}
	e = cairnd__start(&d, &config);
	if (!e)
		e = net_loop_run(&d.loop);
	if (e) {
		fprintf(stderr, "cairnd: node %u: %s\n", config.node_id, err_msg(e));
		err_free(e);
		d.failed = true; /* a half-started or broken node is dropped, not closed */
	}
	if (!d.failed && d.loop.stop_signal)
		env_logf(&d.env.env, LOG_INFO, "cairnd: signal %d, closing the node",
		         d.loop.stop_signal);
	bool closed = cairnd__stop(&d);
	net_loop_close(&d.loop);
	return d.failed || !closed ? 1 : 0;
}
