/*
 * repl_conn_embedded.c — a whole five-node cairn cluster inside the REPL's process.
 *
 * The cluster is the simulator's world (sim/sim.h) running real cairn nodes
 * (sim/node_app.h) on memory disks with no injected faults. The REPL has one thread and
 * blocks in readline between statements, so the world does not run by itself: its virtual
 * clock is brought up to the wall clock whenever the REPL acts (before each statement or
 * command) and, while a statement waits for its answer, in steps of a millisecond of
 * wall time. Raft therefore sees real time pass — elections, heartbeats and the
 * statement's round trips take as long as they would on a fast network — but nothing
 * happens while nobody types; the catch-up then replays the idle heartbeats at once.
 *
 * Statements go to one node through a node session of our own. (sim/client.h renders
 * results as text; the REPL needs them as results.) The session lives as long as its
 * node's incarnation: a crash takes it and its pending statement with it, which is
 * reported as ERR_UNKNOWN_OUTCOME, and the next statement opens a new one.
 *
 * Commands: !status (every node), !node N, !crash N, !restart N, !partition GROUPS,
 * !heal (see repl_cluster.h).
 */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/number.h"
#include "net/node_server.h"
#include "net/repl_cluster.h"
#include "sim/node_app.h"
#include "net/sql_split.h"

#define REPL_EMBEDDED_NODES 5
/* Virtual time the cluster may take to elect its first leader. */
#define REPL_EMBEDDED_ELECTION_MS 10000
#define REPL_EMBEDDED_PARTITION_TEXT 128

struct repl_conn_embedded {
	struct repl_conn base; /* first, so a struct repl_conn * converts back */
	struct sim_world *world;
	struct sim_cairn_app app;
	uint64_t origin_ms; /* the wall clock's reading at virtual time 0 */
	uint32_t target;    /* the node statements go to */

	/* the session: on node `node` while its incarnation is `incarnation` */
	struct node_session *session;
	uint32_t node;
	uint32_t incarnation;
	bool busy;                /* a statement is waiting for its result */
	struct sql_result result; /* its result, once it came */

	char partition[REPL_EMBEDDED_PARTITION_TEXT]; /* "" when the network is whole */
};

static struct repl_conn_embedded *repl__embedded(struct repl_conn *c)
{
	assert(c != NULL);
	return (struct repl_conn_embedded *)c;
}

static uint64_t repl__wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Runs the world up to the wall clock. An error is the world's failure (a copy). */
static err *repl__catch_up(struct repl_conn_embedded *m)
{
	uint64_t now = repl__wall_ms() - m->origin_ms;
	const err *failure =
	    now > sim_now_ms(m->world) ? sim_run_until(m->world, now) : sim_world_failure(m->world);
	return failure
	           ? err_new(err_code(failure), "the embedded cluster failed: %s", err_msg(failure))
	           : NULL;
}

/* ---- the session ---- */

static bool repl__session_alive(const struct repl_conn_embedded *m)
{
	return m->session && sim_node(m->world, m->node) &&
	       sim_node_incarnation(m->world, m->node) == m->incarnation;
}

/* Forgets a session its node took down with it (a crash frees it). */
static void repl__session_check(struct repl_conn_embedded *m)
{
	if (m->session && !repl__session_alive(m)) {
		m->session = NULL;
		m->busy = false;
	}
}

static void repl__reply(void *ctx, struct sql_result *result, bool last)
{
	struct repl_conn_embedded *m = ctx;
	assert(m->busy);
	if (result->kind != SQL_RESULT_NONE && m->result.kind != SQL_RESULT_ERROR) {
		sql_result_free(&m->result);
		m->result = *result;
		memset(result, 0, sizeof *result);
	}
	sql_result_free(result);
	if (last)
		m->busy = false;
}

/* A session on the target node, opened if there is none there. */
static err *repl__session(struct repl_conn_embedded *m)
{
	repl__session_check(m);
	if (m->session && m->node == m->target)
		return NULL;
	if (m->session)
		node_session_close(m->session);
	m->session = NULL;
	struct node *n = sim_node(m->world, m->target);
	if (!n)
		return err_new(ERR_UNAVAILABLE, "node %" PRIu32 " is down (!restart %" PRIu32 ")",
		               m->target, m->target);
	TRY(node_session_open(n, repl__reply, m, &m->session));
	m->node = m->target;
	m->incarnation = sim_node_incarnation(m->world, m->target);
	return NULL;
}

/* Runs the world, paced to the wall clock, until the statement in flight is answered. */
static err *repl__wait(struct repl_conn_embedded *m)
{
	uint64_t deadline = repl__wall_ms() + REPL_CLUSTER_TIMEOUT_MS;
	while (m->busy) {
		TRY(repl__catch_up(m));
		repl__session_check(m);
		if (!m->session)
			return err_new(ERR_UNKNOWN_OUTCOME,
			               "node %" PRIu32 " crashed; the statement "
			               "may or may not have run",
			               m->node);
		if (!m->busy)
			break;
		if (repl__wall_ms() >= deadline) {
			node_session_close(m->session);
			m->session = NULL;
			m->busy = false;
			return err_new(ERR_UNKNOWN_OUTCOME,
			               "no answer from node %" PRIu32 " in %d ms; "
			               "the statement may or may not have run",
			               m->node, REPL_CLUSTER_TIMEOUT_MS);
		}
		struct timespec ms = {0, 1000000};
		nanosleep(&ms, NULL);
	}
	return NULL;
}

/* ---- the connection's operations ---- */

static void repl__embedded_execute(struct repl_conn *c, const char *text, size_t len,
                                   struct sql_result *out, size_t *consumed)
{
	struct repl_conn_embedded *m = repl__embedded(c);
	memset(out, 0, sizeof *out);
	size_t n = net_sql_first_statement(text, len, NULL);
	*consumed = n ? n : len;
	if (n == 0)
		return;
	err *e = repl__catch_up(m);
	if (!e)
		e = repl__session(m);
	if (!e) {
		memset(&m->result, 0, sizeof m->result);
		m->busy = true;
		e = node_session_submit(m->session, text, n);
		if (e)
			m->busy = false;
	}
	if (!e)
		e = repl__wait(m);
	if (e) {
		sql_result_free(&m->result);
		out->kind = SQL_RESULT_ERROR;
		out->error = e;
		return;
	}
	*out = m->result;
	memset(&m->result, 0, sizeof m->result);
}

static bool repl__embedded_in_transaction(struct repl_conn *c)
{
	struct repl_conn_embedded *m = repl__embedded(c);
	repl__session_check(m);
	return m->session && node_session_in_transaction(m->session);
}

static err *repl__embedded_tables(struct repl_conn *c, struct sql_names *out)
{
	struct repl_conn_embedded *m = repl__embedded(c);
	memset(out, 0, sizeof *out);
	TRY(repl__catch_up(m));
	TRY(repl__session(m));
	return node_session_tables(m->session, out);
}

static err *repl__embedded_describe(struct repl_conn *c, const char *name, struct buf *out)
{
	struct repl_conn_embedded *m = repl__embedded(c);
	TRY(repl__catch_up(m));
	TRY(repl__session(m));
	return node_session_describe_table(m->session, name, out);
}

static void repl__embedded_close(struct repl_conn *c)
{
	struct repl_conn_embedded *m = repl__embedded(c);
	repl__session_check(m);
	if (m->session)
		node_session_close(m->session);
	sql_result_free(&m->result);
	sim_world_free(m->world);
	free(m);
}

/* ---- commands ---- */

/* Parses a node id 1..REPL_EMBEDDED_NODES from the whole of `text`. */
static err *repl__node_id(const char *text, uint32_t *id)
{
	uint64_t v = 0;
	err *e = number_parse_u64(text, REPL_EMBEDDED_NODES, &v);
	err_free(e);
	if (e || v < 1)
		return err_new(ERR_INVALID, "'%s' is not a node (1 to %d)", text,
		               REPL_EMBEDDED_NODES);
	*id = (uint32_t)v;
	return NULL;
}

static void repl__status_row(struct repl_conn_embedded *m, uint32_t id, FILE *out)
{
	struct node *n = sim_node(m->world, id);
	if (!n) {
		fprintf(out, "%4" PRIu32 "  %-10s\n", id, "down");
		return;
	}
	struct node_status st;
	node_status_get(n, &st);
	struct net_node_status ns;
	net_node_status_make(&st, &ns);
	const struct net_status *s = &ns.status;
	char role[32];
	repl_cluster_status_value(s, "role", role, sizeof role);
	fprintf(out,
	        "%4" PRIu32 "  %-10s %5" PRIu64 " %7" PRIu32 " %7" PRIu64 " %8" PRIu64 " %5" PRIu64
	        " %6" PRIu64 " ",
	        id, role, s->term, s->leader_id, s->commit_index, s->applied_index, s->active_txns,
	        st.kv_keys);
	for (uint32_t i = 0; i < s->peer_count && s->leader_id == id; i++)
		fprintf(out, " n%" PRIu32 "=%" PRIu64, s->peers[i].id, s->peers[i].match_index);
	fputc('\n', out);
}

static err *repl__cmd_status(struct repl_conn_embedded *m, FILE *out)
{
	TRY(repl__catch_up(m));
	fprintf(out,
	        "node  role        term  leader  commit  applied  txns   keys  match (leader)\n");
	for (uint32_t id = 1; id <= REPL_EMBEDDED_NODES; id++)
		repl__status_row(m, id, out);
	fprintf(out, "network: %s; statements go to node %" PRIu32 "; virtual time %.3fs\n",
	        m->partition[0] ? m->partition : "whole", m->target,
	        (double)sim_now_ms(m->world) / 1000.0);
	return NULL;
}

/*
 * !partition GROUPS: each group is comma-separated node ids, groups separated by blanks
 * ("1,2 3,4,5"); nodes named in no group form one more group. Links between groups are
 * cut both ways; links within a group work.
 */
static err *repl__cmd_partition(struct repl_conn_embedded *m, const char *args)
{
	uint32_t group_of[REPL_EMBEDDED_NODES + 1] = {0}; /* 0: not named */
	uint32_t groups = 0;
	char copy[REPL_EMBEDDED_PARTITION_TEXT];
	if (strlen(args) >= sizeof copy)
		return err_new(ERR_INVALID, "usage: !partition 1,2 3,4,5");
	snprintf(copy, sizeof copy, "%s", args);
	char *save = NULL;
	for (char *g = strtok_r(copy, " \t", &save); g; g = strtok_r(NULL, " \t", &save)) {
		groups++;
		char *save_id = NULL;
		for (char *t = strtok_r(g, ",", &save_id); t; t = strtok_r(NULL, ",", &save_id)) {
			uint32_t id;
			TRY(repl__node_id(t, &id));
			if (group_of[id])
				return err_new(ERR_INVALID, "node %" PRIu32 " is in two groups",
				               id);
			group_of[id] = groups;
		}
	}
	if (groups == 0)
		return err_new(ERR_INVALID, "usage: !partition 1,2 3,4,5");
	sim_net_heal(m->world);
	for (uint32_t a = 1; a <= REPL_EMBEDDED_NODES; a++)
		for (uint32_t b = 1; b <= REPL_EMBEDDED_NODES; b++)
			if (a != b && group_of[a] != group_of[b])
				sim_net_block(m->world, a, b, true);
	snprintf(m->partition, sizeof m->partition, "partitioned %s", args);
	return NULL;
}

/* Runs one cluster command; false if `name` is not one. */
static bool repl__embedded_command(struct repl_conn *c, const char *name, const char *args,
                                   FILE *out, err **failure)
{
	struct repl_conn_embedded *m = repl__embedded(c);
	uint32_t id = 0;
	bool takes_node =
	    strcmp(name, "node") == 0 || strcmp(name, "crash") == 0 || strcmp(name, "restart") == 0;
	bool bare = strcmp(name, "status") == 0 || strcmp(name, "heal") == 0;
	if (!takes_node && !bare && strcmp(name, "partition") != 0)
		return false;
	*failure = repl__catch_up(m);
	if (!*failure && bare && args[0])
		*failure = err_new(ERR_INVALID, "usage: !%s", name);
	if (!*failure && takes_node)
		*failure = err_wrap(repl__node_id(args, &id), "usage: !%s N", name);
	if (*failure)
		return true;
	if (strcmp(name, "status") == 0) {
		*failure = repl__cmd_status(m, out);
	} else if (strcmp(name, "node") == 0) {
		m->target = id;
		fprintf(out, "Statements go to node %" PRIu32 ".\n", id);
	} else if (strcmp(name, "crash") == 0) {
		if (!sim_node(m->world, id))
			*failure = err_new(ERR_INVALID, "node %" PRIu32 " is down already", id);
		else
			sim_crash(m->world, id);
		if (!*failure)
			fprintf(out, "Crashed node %" PRIu32 ".\n", id);
	} else if (strcmp(name, "restart") == 0) {
		if (sim_node(m->world, id))
			*failure = err_new(ERR_INVALID, "node %" PRIu32 " is up", id);
		else
			sim_restart(m->world, id);
		if (!*failure)
			fprintf(out, "Restarted node %" PRIu32 ".\n", id);
	} else if (strcmp(name, "partition") == 0) {
		*failure = repl__cmd_partition(m, args);
		if (!*failure)
			fprintf(out, "Partitioned the network: %s.\n", args);
	} else {
		sim_net_heal(m->world);
		m->partition[0] = '\0';
		fprintf(out, "Healed the network.\n");
	}
	return true;
}

static const struct repl_conn_ops repl__embedded_ops = {
    .execute = repl__embedded_execute,
    .in_transaction = repl__embedded_in_transaction,
    .tables = repl__embedded_tables,
    .describe_table = repl__embedded_describe,
    .close = repl__embedded_close,
    .command = repl__embedded_command,
    .command_help = "The embedded cluster (five nodes in this process):\n"
                    "  !status          every node's role, term, leader, log indexes and storage\n"
                    "  !node N          send statements to node N (default 1)\n"
                    "  !crash N         crash node N (its unsynced writes are lost)\n"
                    "  !restart N       restart crashed node N over its disk\n"
                    "  !partition 1,2 3,4,5   cut the network between groups of nodes\n"
                    "  !heal            reconnect every node\n",
};

/* True when some up node is the leader. */
static bool repl__has_leader(const struct repl_conn_embedded *m)
{
	for (uint32_t id = 1; id <= REPL_EMBEDDED_NODES; id++) {
		struct node *n = sim_node(m->world, id);
		if (!n)
			continue;
		struct node_status st;
		node_status_get(n, &st);
		if (st.raft.role == RAFT_LEADER)
			return true;
	}
	return false;
}

err *repl_conn_open_embedded(uint64_t seed, char greeting[REPL_CLUSTER_GREETING_BYTES],
                             struct repl_conn **out)
{
	*out = NULL;
	struct repl_conn_embedded *m = calloc(1, sizeof *m);
	if (!m)
		return err_new(ERR_NOMEM, "out of memory");
	m->base.ops = &repl__embedded_ops;
	m->target = 1;
	struct sim_config cfg;
	sim_config_default(&cfg, seed, "cairn");
	cfg.nodes = REPL_EMBEDDED_NODES;
	sim_faults_none(&cfg.faults);
	sim_cairn_app_default(&m->app, REPL_EMBEDDED_NODES);
	err *e = sim_world_new(&cfg, &sim_cairn_ops, &m->app, &m->world);
	if (e) {
		free(m);
		return err_wrap(e, "starting the embedded cluster");
	}
	/* Elect a leader as fast as the CPU allows, then let the wall clock lead. */
	const err *failure = NULL;
	for (uint64_t t = 10; !failure && t <= REPL_EMBEDDED_ELECTION_MS && !repl__has_leader(m);
	     t += 10)
		failure = sim_run_until(m->world, t);
	if (failure || !repl__has_leader(m)) {
		e = err_new(ERR_UNAVAILABLE, "the embedded cluster elected no leader%s%s",
		            failure ? ": " : "", failure ? err_msg(failure) : "");
		repl__embedded_close(&m->base);
		return e;
	}
	m->origin_ms = repl__wall_ms() - sim_now_ms(m->world);
	snprintf(greeting, REPL_CLUSTER_GREETING_BYTES,
	         "Started an embedded five-node cluster (version %s, seed %" PRIu64
	         "); statements go to node 1.",
	         CAIRN_VERSION, seed);
	*out = &m->base;
	return NULL;
}
