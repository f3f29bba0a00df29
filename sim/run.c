/*
 * run.c — the phases of a simulated run, as world events (see run.h).
 */
#include "sim/run.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/mutation.h"
#include "base/number.h"
#include "node/node.h"
#include "sim/cluster_check.h"
#include "sim/node_app.h"
#include "sim/workload.h"

#define RUN_POLL_MS 100
#define RUN_CHECK_MS 20
#define RUN_HASH_MS 5000
#define RUN_F8_POLL_MS 1     /* figure-8 watches the cluster every millisecond */
#define RUN_F8_STEP_MS 5000  /* a figure-8 step that does not come about by then is dropped */
#define RUN_F8_STRAND_MS 500 /* how long figure-8 waits for stranded entries before retrying */
#define RUN_F8_DOWN_MS 2000  /* how long figure-8's last crashes last */

enum run_phase { RUN_FAULTS, RUN_LIVENESS, RUN_DRAIN, RUN_CONVERGE, RUN_DONE };

enum run_f8_step { F8_WAIT, F8_STRAND, F8_USURP, F8_RETURN, F8_STRIKE, F8_DOWN, F8_OVER };

/* Where the figure-8 scenario stands (see run__figure8). */
struct run_f8 {
	enum run_f8_step step;
	uint64_t step_ms; /* when the step began */
	uint32_t ally;    /* A: cut off with the first leader */
	uint32_t usurper; /* M: leads a term alone */
	uint32_t leader;  /* N: leads after the first leader returns */
	uint64_t term;    /* the term the next leader must exceed */
	uint64_t commit;  /* N's commit index when it was found leading */
	uint32_t down;    /* mask of the nodes crashed by the last step */
};

struct run {
	struct sim_run_options o;
	struct sim_cairn_app app;
	struct sim_world *world;
	struct sim_workload *wl;
	struct sim_cluster_check *check;
	enum run_phase phase;
	uint64_t liveness_start_ms;
	uint64_t deadline_ms;
	uint32_t struck; /* the node a scenario struck */
	struct run_f8 f8;
};

void sim_run_options_default(struct sim_run_options *o)
{
	memset(o, 0, sizeof *o);
	o->seed = 1;
	o->nodes = 5;
	o->time_ms = 10000;
	o->liveness_ms = 30000;
	o->workloads = SIM_WL_ALL;
	snprintf(o->faults, sizeof o->faults, "all");
}

/* ---- options in the trace header ---- */

/*
 * The run's options in a trace header; ".oN" only for a client timeout other than 0,
 * then ".hN" only for a validation window other than the default.
 */
static void run__app_name(const struct sim_run_options *o, char *out, size_t cap)
{
	int n = snprintf(out, cap, "cairn.w%u.t%" PRIu64 ".l%" PRIu64 ".m%u.s%u", o->workloads,
	                 o->time_ms, o->liveness_ms, o->mutation, o->scenario);
	if (o->op_timeout_ms && n > 0 && (size_t)n < cap)
		n += snprintf(out + n, cap - (size_t)n, ".o%u", o->op_timeout_ms);
	if (o->history_entries && n > 0 && (size_t)n < cap)
		snprintf(out + n, cap - (size_t)n, ".h%u", o->history_entries);
}

/*
 * Reads an optional ".<tag>N" at *at, 1 <= N <= max, into *out, moving *at past it; false
 * if the tag is there with anything else.
 */
static bool run__app_suffix(const char *app, int *at, char tag, uint64_t max, unsigned *out)
{
	const char *p = app + *at;
	if (p[0] != '.' || p[1] != tag)
		return true;
	char digits[21];
	size_t len = strspn(p + 2, "0123456789");
	if (len == 0 || len >= sizeof digits)
		return false;
	memcpy(digits, p + 2, len);
	digits[len] = '\0';
	uint64_t n;
	err *e = number_parse_range(digits, 1, max, &n);
	if (e) {
		err_free(e);
		return false;
	}
	*out = (unsigned)n;
	*at += 2 + (int)len;
	return true;
}

static err *run__parse_app(const char *app, struct sim_run_options *o)
{
	unsigned w, m, sc;
	uint64_t t, l;
	unsigned op_timeout = 0, history = 0;
	int end = 0;
	if (sscanf(app, "cairn.w%u.t%" SCNu64 ".l%" SCNu64 ".m%u.s%u%n", &w, &t, &l, &m, &sc,
	           &end) != 5 ||
	    sc >= SIM_SCENARIO_COUNT || !run__app_suffix(app, &end, 'o', UINT32_MAX, &op_timeout) ||
	    !run__app_suffix(app, &end, 'h', SIM_HISTORY_ENTRIES_MAX, &history) || app[end] != '\0')
		return err_new(ERR_INVALID, "trace is not of a cairn run (app '%s')", app);
	o->scenario = sc;
	o->workloads = w;
	o->time_ms = t;
	o->liveness_ms = l;
	o->mutation = m;
	o->op_timeout_ms = op_timeout;
	o->history_entries = history;
	return NULL;
}

/* Turns off every kind of fault not named in `list` (a comma-separated list). */
static err *run__filter_faults(const char *list, struct sim_faults *f)
{
	static const char *const kinds[] = {"net",   "partition", "clog", "disk",
	                                    "crash", "pause",     "clock"};
	bool on[7] = {false};
	char copy[128];
	snprintf(copy, sizeof copy, "%s", list);
	for (char *save, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t k = 0;
		while (k < 7 && strcmp(tok, kinds[k]) != 0)
			k++;
		if (k == 7)
			return err_new(
			    ERR_INVALID,
			    "unknown fault kind '%s' (net, partition, clog, disk, crash, "
			    "pause, clock)",
			    tok);
		on[k] = true;
	}
	if (!on[0])
		f->loss = f->duplicate = 0;
	if (!on[1])
		f->partition_every_ms = 0;
	if (!on[2])
		f->clog_every_ms = 0;
	if (!on[3])
		f->read_flip = f->io_error = f->torn_write = f->slow_sync = 0, f->corrupt_mask = 0;
	if (!on[4])
		f->crash_every_ms = 0;
	if (!on[5])
		f->pause_every_ms = 0;
	if (!on[6])
		f->drift_every_ms = 0, f->offset_max_ms = 0;
	return NULL;
}

static err *run__config(const struct sim_run_options *o, struct sim_config *cfg)
{
	char app[SIM_APP_NAME_MAX];
	run__app_name(o, app, sizeof app);
	sim_config_default(cfg, o->seed, app);
	cfg->nodes = o->nodes;
	if (strcmp(o->faults, "none") == 0) {
		sim_faults_none(&cfg->faults);
	} else {
		sim_faults_swarm(o->seed, o->nodes, &cfg->faults);
		if (strcmp(o->faults, "all") != 0)
			TRY(run__filter_faults(o->faults, &cfg->faults));
	}
	return sim_config_check(cfg);
}

static void run__schedule(struct run *r, sim_call_fn fn, uint64_t at_ms)
{
	err *e = sim_schedule(r->world, at_ms, fn, r);
	if (e)
		sim_fail(r->world, e);
}

/* ---- scenarios ---- */

static const char *const scenario_names[SIM_SCENARIO_COUNT] = {
    [SIM_SCENARIO_NONE] = "none",
    [SIM_SCENARIO_LEADER_CRASH] = "leader-crash",
    [SIM_SCENARIO_MINORITY_LEADER] = "minority-leader",
    [SIM_SCENARIO_CLOGGED_LEADER] = "clogged-leader",
    [SIM_SCENARIO_FIGURE_8] = "figure-8",
};

bool sim_scenario_parse(const char *name, uint32_t *out)
{
	for (uint32_t i = 0; i < SIM_SCENARIO_COUNT; i++) {
		if (strcmp(name, scenario_names[i]) == 0) {
			*out = i;
			return true;
		}
	}
	return false;
}

const char *sim_scenario_name(uint32_t scenario)
{
	return scenario < SIM_SCENARIO_COUNT ? scenario_names[scenario] : "?";
}

/* The node leading the highest term now, or 0 if none leads. */
static uint32_t run__leader(struct sim_world *world)
{
	uint32_t leader = 0;
	uint64_t term = 0;
	for (uint32_t id = 1; id <= sim_world_config(world)->nodes; id++) {
		struct node *n = sim_node(world, id);
		if (!n)
			continue;
		struct node_status st;
		node_status_get(n, &st);
		if (st.raft.role == RAFT_LEADER && st.raft.term > term) {
			leader = id;
			term = st.raft.term;
		}
	}
	return leader;
}

static void run__restart(struct sim_world *world, void *ctx);
static void run__heal(struct sim_world *world, void *ctx);
static void run__figure8(struct sim_world *world, void *ctx);

/* Starts figure-8 (see run__figure8). */
static void run__figure8_start(struct run *r)
{
	if (sim_world_config(r->world)->nodes < 5) {
		sim_note(r->world, 0, "scenario figure-8 needs five nodes");
		return;
	}
	r->f8 = (struct run_f8){.step = F8_WAIT, .step_ms = sim_now_ms(r->world)};
	run__schedule(r, run__figure8, sim_now_ms(r->world) + RUN_F8_POLL_MS);
}

/* Strikes the leader as the scenario says, and schedules the recovery. */
static void run__scenario(struct sim_world *world, void *ctx)
{
	struct run *r = ctx;
	uint32_t leader = run__leader(world);
	if (!leader) {
		/* no leader yet: try again shortly (still deterministic) */
		run__schedule(r, run__scenario, sim_now_ms(world) + 100);
		return;
	}
	uint32_t nodes = sim_world_config(world)->nodes;
	sim_note(world, 0, "scenario %s: striking leader %u", sim_scenario_name(r->o.scenario),
	         leader);
	r->struck = leader;
	switch (r->o.scenario) {
	case SIM_SCENARIO_LEADER_CRASH:
		sim_crash(world, leader);
		run__schedule(r, run__restart, sim_now_ms(world) + 2000);
		break;
	case SIM_SCENARIO_MINORITY_LEADER:
		sim_net_partition(world, (1u << (leader - 1)) | (1u << (leader % nodes)));
		run__schedule(r, run__heal, sim_now_ms(world) + 4000);
		break;
	case SIM_SCENARIO_CLOGGED_LEADER: sim_net_clog(world, leader, 3000); break;
	case SIM_SCENARIO_FIGURE_8: run__figure8_start(r); break;
	default: break;
	}
}

static void run__restart(struct sim_world *world, void *ctx)
{
	struct run *r = ctx;
	sim_restart(world, r->struck);
}

static void run__heal(struct sim_world *world, void *ctx)
{
	(void)ctx;
	sim_net_heal(world);
}

/* ---- figure-8 ---- */

/* The node's status, or false if it is down. */
static bool run__status(struct sim_world *world, uint32_t id, struct node_status *st)
{
	struct node *n = sim_node(world, id);
	if (!n)
		return false;
	node_status_get(n, st);
	return true;
}

/* The term of the node's last log entry; 0 if it is down or its log is empty. */
static uint64_t run__last_term(struct sim_world *world, uint32_t id)
{
	struct node_status st;
	uint64_t term = 0;
	if (!run__status(world, id, &st))
		return 0;
	err *e = node_log_term(sim_node(world, id), st.raft.last_index, &term);
	if (e) {
		err_free(e);
		return 0;
	}
	return term;
}

/* A node of `mask` leading a term above `term`, or 0. */
static uint32_t run__leader_in(struct sim_world *world, uint32_t mask, uint64_t term)
{
	for (uint32_t id = 1; id <= sim_world_config(world)->nodes; id++) {
		struct node_status st;
		if ((mask & (1u << (id - 1))) && run__status(world, id, &st) &&
		    st.raft.role == RAFT_LEADER && st.raft.term > term)
			return id;
	}
	return 0;
}

/* Ends figure-8: links heal and every node it crashed restarts. */
static void run__figure8_end(struct run *r, const char *how)
{
	sim_note(r->world, 0, "scenario figure-8: %s", how);
	sim_net_heal(r->world);
	for (uint32_t id = 1; id <= sim_world_config(r->world)->nodes; id++)
		if ((r->f8.down & (1u << (id - 1))) && !sim_node(r->world, id))
			sim_restart(r->world, id);
	r->f8.step = F8_OVER;
	r->f8.down = 0;
}

/*
 * Figure 8 of the Raft paper (§5.4.2), staged: counting replicas of an entry from an
 * older term commits something a later leader may overwrite.
 *   wait    until the leader L has appended an entry it has not committed yet;
 *   strand  then L and the ally A (the next node) are cut off from the other three; once
 *           A holds entries of L that L could not commit, L crashes (if that does not
 *           happen within RUN_F8_STRAND_MS, the links heal and the scenario waits again);
 *   usurp   the other three elect M; the moment M leads it is cut off and crashes, so its
 *           entry of the new term lives on M alone;
 *   return  L restarts and the four elect N (L or A, whose logs are longest), which
 *           brings the other two up to date one entry per append (max_msg_bytes 1 in
 *           this scenario), so they acknowledge L's old entries before N's own;
 *   strike  the moment N's commit index moves, N and at most one other node that holds
 *           an entry of N's term crash (cut off, so nothing they sent arrives), and M
 *           restarts. Correct Raft commits only once an entry of N's term is on a
 *           majority, so a live node holding one refuses M, and M cannot win. A leader
 *           that commits by counting old-term replicas lets M win with the two others and
 *           overwrite an entry already committed, which the checkers see;
 *   down    RUN_F8_DOWN_MS later the crashed nodes restart and every link heals.
 * Each step watches the cluster every millisecond, within one network latency. A step that
 * does not come about (the workload proposed nothing, an election went elsewhere) ends
 * the scenario with the cluster healed.
 */
static void run__figure8(struct sim_world *world, void *ctx)
{
	struct run *r = ctx;
	struct run_f8 *f = &r->f8;
	uint64_t now = sim_now_ms(world);
	uint32_t nodes = sim_world_config(world)->nodes;
	uint32_t all = (1u << nodes) - 1;
	struct node_status st, ally;
	if (sim_world_failure(world) || r->phase != RUN_FAULTS || f->step == F8_OVER)
		return;
	if (f->step == F8_DOWN) {
		run__figure8_end(r, "the crashed nodes restart");
		return;
	}
	if (f->step != F8_WAIT && now > f->step_ms + RUN_F8_STEP_MS) {
		run__figure8_end(r, "a step did not come about");
		return;
	}
	switch (f->step) {
	case F8_WAIT:
		r->struck = run__leader(world);
		if (r->struck && run__status(world, r->struck, &st) &&
		    st.raft.last_index > st.raft.commit) {
			f->step = F8_STRAND;
			f->step_ms = now;
			f->ally = r->struck % nodes + 1;
			sim_net_partition(world, (1u << (r->struck - 1)) | (1u << (f->ally - 1)));
		}
		break;
	case F8_STRAND:
		if (now > f->step_ms + RUN_F8_STRAND_MS) {
			sim_net_heal(world);
			f->step = F8_WAIT;
			break;
		}
		if (run__status(world, r->struck, &st) && run__status(world, f->ally, &ally) &&
		    st.raft.persisted_index > st.raft.commit &&
		    ally.raft.persisted_index >= st.raft.persisted_index &&
		    run__last_term(world, f->ally) == st.raft.term) {
			sim_note(world, 0,
			         "scenario figure-8: n%u and n%u hold entries up to %llu, "
			         "committed to %llu; n%u crashes",
			         r->struck, f->ally, (unsigned long long)st.raft.persisted_index,
			         (unsigned long long)st.raft.commit, r->struck);
			f->term = st.raft.term;
			sim_crash(world, r->struck);
			f->step = F8_USURP;
			f->step_ms = now;
		}
		break;
	case F8_USURP:
		f->usurper = run__leader_in(
		    world, all & ~(1u << (r->struck - 1)) & ~(1u << (f->ally - 1)), f->term);
		if (f->usurper) {
			run__status(world, f->usurper, &st);
			sim_note(world, 0,
			         "scenario figure-8: n%u leads term %llu; cut off and crashed",
			         f->usurper, (unsigned long long)st.raft.term);
			f->term = st.raft.term;
			sim_net_heal(world);
			sim_net_partition(world, 1u << (f->usurper - 1));
			sim_crash(world, f->usurper);
			sim_restart(world, r->struck);
			f->step = F8_RETURN;
			f->step_ms = now;
		}
		break;
	case F8_RETURN:
		f->leader = run__leader_in(world, all & ~(1u << (f->usurper - 1)), f->term);
		if (f->leader) {
			run__status(world, f->leader, &st);
			f->term = st.raft.term;
			f->commit = st.raft.commit;
			f->step = F8_STRIKE;
			f->step_ms = now;
		}
		break;
	case F8_STRIKE:
		if (!run__status(world, f->leader, &st) || st.raft.term != f->term) {
			run__figure8_end(r, "the leader changed before it committed");
			return;
		}
		if (st.raft.commit > f->commit) {
			f->down = 1u << (f->leader - 1);
			for (uint32_t id = 1; id <= nodes; id++)
				if (id != f->leader && id != f->usurper &&
				    f->down == 1u << (f->leader - 1) &&
				    run__last_term(world, id) == f->term)
					f->down |= 1u << (id - 1);
			sim_note(world, 0,
			         "scenario figure-8: n%u committed %llu; nodes %#x crash, "
			         "n%u restarts",
			         f->leader, (unsigned long long)st.raft.commit, f->down,
			         f->usurper);
			sim_cluster_check_now(r->check, false);
			sim_net_heal(world);
			sim_net_partition(world, f->down);
			for (uint32_t id = 1; id <= nodes; id++)
				if (f->down & (1u << (id - 1)))
					sim_crash(world, id);
			sim_restart(world, f->usurper);
			f->step = F8_DOWN;
			run__schedule(r, run__figure8, now + RUN_F8_DOWN_MS);
			return;
		}
		break;
	case F8_DOWN:
	case F8_OVER: return;
	}
	run__schedule(r, run__figure8, now + RUN_F8_POLL_MS);
}

/* ---- the phases ---- */

static void run__poll(struct sim_world *world, void *ctx);

/* Each node's role, term, commit and applied index, and the leader's view of its peers. */
static void run__describe_cluster(struct sim_world *world, char *out, size_t cap)
{
	size_t at = 0;
	out[0] = '\0';
	for (uint32_t id = 1; id <= sim_world_config(world)->nodes && at < cap; id++) {
		struct node *n = sim_node(world, id);
		if (!n) {
			at += (size_t)snprintf(out + at, cap - at, "n%u down; ", id);
			continue;
		}
		struct node_status st;
		node_status_get(n, &st);
		at += (size_t)snprintf(
		    out + at, cap - at, "n%u %s t%llu c%llu a%llu", id,
		    raft_role_name(st.raft.role), (unsigned long long)st.raft.term,
		    (unsigned long long)st.raft.commit, (unsigned long long)st.applied);
		for (uint32_t p = 0; st.raft.role == RAFT_LEADER && p < st.raft.n_peers && at < cap;
		     p++)
			at += (size_t)snprintf(out + at, cap - at, " [n%u %s m%llu n%llu]",
			                       st.raft.peers[p].id, st.raft.peers[p].state,
			                       (unsigned long long)st.raft.peers[p].match,
			                       (unsigned long long)st.raft.peers[p].next);
		if (at < cap)
			at += (size_t)snprintf(out + at, cap - at, "; ");
	}
}

/* Fails the run for a liveness reason, with the cluster's state for the diagnosis. */
static void run__fail(struct run *r, const char *fmt, const char *what)
{
	char why[200], state[600];
	snprintf(why, sizeof why, fmt, what, (unsigned long long)r->o.liveness_ms);
	run__describe_cluster(r->world, state, sizeof state);
	sim_fail(r->world, err_new(ERR_INTERNAL, "%s (%s)", why, state));
}

static void run__liveness(struct sim_world *world, void *ctx)
{
	struct run *r = ctx;
	sim_liveness(world);
	r->phase = RUN_LIVENESS;
	r->liveness_start_ms = sim_now_ms(world);
	r->deadline_ms = r->liveness_start_ms + r->o.liveness_ms;
	sim_note(world, 0, "liveness phase: faults stop");
	run__schedule(r, run__poll, sim_now_ms(world) + RUN_POLL_MS);
}

/* The name of an enabled workload that has not succeeded since `since_ms`, or NULL. */
static const char *run__stalled_workload(const struct run *r, uint64_t since_ms)
{
	if (!sim_workload_running(r->wl))
		return "setup";
	for (unsigned k = 0; k < SIM_WL_KINDS; k++)
		if ((r->o.workloads & (1u << k)) &&
		    sim_workload_stats(r->wl, k)->last_ok_ms <= since_ms)
			return sim_wl_kind_name(k);
	return NULL;
}

static void run__poll(struct sim_world *world, void *ctx)
{
	struct run *r = ctx;
	if (sim_world_failure(world))
		return;
	uint64_t now = sim_now_ms(world);
	const char *stalled;
	switch (r->phase) {
	case RUN_LIVENESS:
		stalled = run__stalled_workload(r, r->liveness_start_ms);
		if (!stalled) {
			sim_workload_drain(r->wl);
			r->phase = RUN_DRAIN;
			r->deadline_ms = now + r->o.liveness_ms;
		} else if (now > r->deadline_ms) {
			run__fail(r,
			          "liveness: after faults stopped, the %s workload completed no "
			          "operation within %llu ms",
			          stalled);
			return;
		}
		break;
	case RUN_DRAIN:
		if (sim_workload_idle(r->wl)) {
			r->phase = RUN_CONVERGE;
			r->deadline_ms = now + r->o.liveness_ms;
		} else if (now > r->deadline_ms) {
			run__fail(r,
			          "liveness: %s operations still pending %llu ms after the drain",
			          "workload");
			return;
		}
		break;
	case RUN_CONVERGE:
		if (sim_cluster_converged(r->check)) {
			sim_cluster_check_now(r->check, true);
			r->phase = RUN_DONE;
			sim_note(world, 0, "converged");
			return;
		}
		if (now > r->deadline_ms) {
			run__fail(
			    r, "liveness: %s did not reach the same applied index within %llu ms",
			    "the replicas");
			return;
		}
		break;
	case RUN_FAULTS:
	case RUN_DONE: return;
	}
	run__schedule(r, run__poll, now + RUN_POLL_MS);
}

/* ---- building and tearing down ---- */

static void run__free(struct run *r, bool world_alive)
{
	if (!r)
		return;
	if (r->wl) {
		if (!world_alive)
			sim_workload_detach(r->wl);
		sim_workload_free(r->wl);
	}
	sim_cluster_check_free(r->check);
	if (world_alive)
		sim_world_free(r->world);
	free(r);
}

/* Builds the world, workload, checker and phase events for `cfg` and options `o`. */
static err *run__build(const struct sim_config *cfg, const struct sim_run_options *o,
                       struct run **out)
{
	struct run *r = calloc(1, sizeof *r);
	if (!r)
		return err_new(ERR_NOMEM, "run: out of memory");
	r->o = *o;
	sim_cairn_app_default(&r->app, cfg->nodes);
	if (o->scenario == SIM_SCENARIO_FIGURE_8)
		r->app.node.max_msg_bytes = 1; /* one entry per append: see run__figure8 */
	r->app.node.history_entries = o->history_entries;
	err *e = mutation_select((enum mutation)o->mutation);
	if (!e)
		e = sim_world_new(cfg, &sim_cairn_ops, &r->app, &r->world);
	if (!e) {
		struct sim_wl_config wc;
		sim_wl_config_default(&wc);
		wc.kinds = o->workloads;
		if (o->op_timeout_ms)
			wc.op_timeout_ms = o->op_timeout_ms;
		e = sim_workload_new(r->world, &wc, sim_workload_seed(cfg, 0), &r->wl);
	}
	if (!e)
		e = sim_workload_start(r->wl);
	if (!e)
		e = sim_cluster_check_new(r->world, &r->check);
	if (!e)
		e = sim_cluster_check_start(r->check, RUN_CHECK_MS, RUN_HASH_MS);
	if (!e && o->scenario)
		e = sim_schedule(r->world, SIM_SCENARIO_AT_MS, run__scenario, r);
	if (!e)
		e = sim_schedule(r->world, o->time_ms, run__liveness, r);
	if (e) {
		run__free(r, r->world != NULL);
		return e;
	}
	*out = r;
	return NULL;
}

static void run__command(const struct sim_run_options *o, char *out, size_t cap)
{
	const char *wl = sim_wl_name(o->workloads) ? sim_wl_name(o->workloads) : "mix";
	int n = snprintf(out, cap,
	                 "build/cairn-sim run --seed %" PRIu64 " --nodes %u --time %" PRIu64
	                 "ms --workload %s --faults %s",
	                 o->seed, o->nodes, o->time_ms, wl, o->faults);
	if (o->mutation && n > 0 && (size_t)n < cap)
		n += snprintf(out + n, cap - (size_t)n, " --mutation %s",
		              mutation_name((enum mutation)o->mutation));
	if (o->scenario && n > 0 && (size_t)n < cap)
		snprintf(out + n, cap - (size_t)n, " --scenario %s",
		         sim_scenario_name(o->scenario));
}

err *sim_run(const struct sim_run_options *o, FILE *trace, FILE *out, struct sim_run_result *res)
{
	memset(res, 0, sizeof *res);
	struct sim_config cfg;
	TRY(run__config(o, &cfg));
	struct run *r;
	TRY(run__build(&cfg, o, &r));
	err *e = trace ? sim_world_trace(r->world, trace) : NULL;
	if (e) {
		run__free(r, true);
		return e;
	}
	uint64_t limit_ms = o->time_ms + 4 * o->liveness_ms + 10000;
	const err *failure = NULL;
	while (r->phase != RUN_DONE && !failure && sim_now_ms(r->world) < limit_ms)
		failure = sim_run_until(r->world, sim_now_ms(r->world) + 500);
	if (!failure && r->phase != RUN_DONE)
		sim_fail(r->world,
		         err_new(ERR_INTERNAL, "run did not finish by %" PRIu64 " ms", limit_ms));
	failure = sim_world_failure(r->world);
	if (trace) {
		err *te = sim_world_trace_end(r->world);
		err_free(te);
	}
	err *verdict = failure ? err_new(err_code(failure), "%s", err_msg(failure))
	                       : sim_workload_check(r->wl);
	const struct sim_stats *st = sim_world_stats(r->world);
	res->passed = verdict == NULL;
	res->steps = st->steps;
	res->sim_ms = sim_now_ms(r->world);
	res->wall_ns = st->wall_ns;
	if (verdict)
		snprintf(res->failure, sizeof res->failure, "%s", err_msg(verdict));
	if (out) {
		fprintf(out, "seed %" PRIu64 ": %s\n", o->seed, res->passed ? "passed" : "FAILED");
		sim_world_summary(r->world, out);
		sim_workload_summary(r->wl, out);
		uint64_t terms, entries, hashes;
		sim_cluster_check_counts(r->check, &terms, &entries, &hashes);
		fprintf(out,
		        "  checked: %" PRIu64 " terms with a leader, %" PRIu64
		        " committed entries, %" PRIu64 " state hash comparisons\n",
		        terms, entries, hashes);
		if (verdict) {
			char cmd[512];
			run__command(o, cmd, sizeof cmd);
			fprintf(out, "  broken: %s\n  reproduce: %s\n", err_msg(verdict), cmd);
		}
	}
	err_free(verdict);
	run__free(r, true);
	return NULL;
}

/* ---- replay ---- */

struct run_replay_ctx {
	struct run *run;
};

static err *run__replay_build(const struct sim_config *cfg, void *ctx, struct sim_world **out)
{
	struct run_replay_ctx *rc = ctx;
	struct sim_run_options o;
	sim_run_options_default(&o);
	TRY(run__parse_app(cfg->app, &o));
	o.seed = cfg->seed;
	o.nodes = cfg->nodes;
	TRY(run__build(cfg, &o, &rc->run));
	*out = rc->run->world;
	return NULL;
}

err *sim_run_replay(const char *path, const struct sim_replay_opts *opts,
                    struct sim_replay_result *result)
{
	struct run_replay_ctx rc = {NULL};
	err *e = sim_replay(path, run__replay_build, &rc, opts, result);
	run__free(rc.run, false); /* sim_replay freed the world */
	return e;
}
