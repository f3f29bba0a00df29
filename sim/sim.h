/*
 * sim.h — the deterministic world: the whole public API of cairn's simulator.
 *
 * A world holds N nodes (default 5) in one process and one thread. Each node is an opaque
 * deterministic state machine behind `struct sim_node_ops`; the world gives it a
 * `struct env` (base/env.h) whose clock is virtual, whose sends go through a simulated
 * network and whose files live on a simulated disk. One priority queue of events, totally
 * ordered by (virtual time, sequence number), drives everything: message deliveries, timer
 * expiries, client steps registered by a workload, and faults.
 *
 * A run is a pure function of (configuration, seed, code). Every random draw comes from a
 * stream derived from the root seed with prng_subseed(): "network", "disk" (per node),
 * "faults" (per fault kind), "node" (per node and incarnation), "workload" (for the
 * caller, sim_workload_seed()). Changing one fault rate therefore never perturbs the
 * workload's choices.
 *
 * Any run may write a trace (sim_world_trace): a header that fully describes the
 * configuration, then one line per event and per action a node took during it.
 * sim_replay() re-runs a trace and reports the first line that differs. The trace format
 * and the fault model are described in docs/simulation.md.
 *
 * Units: the API speaks milliseconds (as env.h does); the world keeps microseconds inside
 * so that network latencies below a millisecond still order events.
 */
#ifndef CAIRN_SIM_SIM_H
#define CAIRN_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/env.h"
#include "base/err.h"
#include "base/log.h"
#include "base/vfs.h"

/* ---- bounds ---- */

#define SIM_NODES_MAX 16            /* nodes in one world; ids are 1..nodes */
#define SIM_TIMERS_PER_NODE 32      /* distinct timer ids a node may have armed at once */
#define SIM_CALLS_MAX 4096          /* client steps pending at once (sim_schedule) */
#define SIM_INFLIGHT_MAX 4096       /* the largest allowed per-link in-flight bound */
#define SIM_MESSAGE_MAX (16u << 20) /* the largest allowed message size bound */
#define SIM_DRIFT_PPM_MAX 100000    /* clocks run at most 10% fast or slow */
#define SIM_RESTART_FAILURES_MAX 16 /* consecutive failed restarts before the run fails */
#define SIM_APP_NAME_MAX 64         /* the application's name in a trace header */
#define SIM_TRACE_LINE_MAX 2048     /* a trace line longer than this is cut */

/* ---- the node interface ---- */

/*
 * What the world needs from a node. The real node (core/node) and test nodes implement it.
 * All callbacks run on the world's one thread, never re-entrantly for the same node.
 *
 * Errors returned by create, on_message and on_timer are the node's way to stop:
 *   - ERR_INTERNAL means the node caught a bug (a broken invariant): the run fails, and
 *     sim_run_until() returns the error;
 *   - any other error is a fail-stop (an I/O error it cannot recover from, corruption it
 *     will not serve): the world treats it as a crash and restarts the node over its disk
 *     after a delay, as a supervisor would restart a real process.
 */
struct sim_node_ops {
	/*
	 * Creates a node over `env` (valid until destroy) and `app` (the pointer given to
	 * sim_world_new). Called at the world's start and at each restart: the disk behind
	 * env->vfs holds whatever survived earlier incarnations. May send and arm timers.
	 */
	err *(*create)(const struct env *env, void *app, void **node);

	/* A message from node `from` arrived; the bytes are valid only during the call. */
	err *(*on_message)(void *node, uint32_t from, const uint8_t *bytes, size_t len);

	/* Timer `timer_id` fired (it is disarmed before the call, so it may be re-armed). */
	err *(*on_timer)(void *node, uint32_t timer_id);

	/*
	 * Drops the node: frees its memory and closes its files, nothing else. This models a
	 * crash, so it must not write, sync, send or arm timers (it may log); the world then
	 * drops every unsynced write of its disk. A node that leaves a file open fails the run
	 * (the world closes the file).
	 */
	void (*destroy)(void *node);

	/*
	 * Optional (may be NULL): the node's replicated state for checkers, the index of the
	 * last applied log entry and a hash of the state at that index. Returns false if it
	 * has none yet.
	 */
	bool (*state)(void *node, uint64_t *applied_index, uint64_t *state_hash);

	/*
	 * Optional (may be NULL): a short human description of a message ("append term=3
	 * n=2") for traces. Must be deterministic and must not trust the bytes.
	 */
	void (*describe)(const uint8_t *bytes, size_t len, char *out, size_t cap);
};

/* ---- configuration ---- */

struct sim_net_config {
	uint32_t latency_min_us;    /* every message takes at least this long */
	uint32_t latency_mean_us;   /* plus an exponential extra with this mean (reordering) */
	uint32_t latency_max_us;    /* no message takes longer than this (before clogs) */
	uint32_t inflight_max;      /* per directed link; a send beyond it is dropped */
	uint32_t message_max_bytes; /* a larger send is dropped */
};

struct sim_disk_config {
	uint64_t capacity_bytes; /* a full disk fails writes with ERR_IO */
	uint32_t read_us;        /* latency charged per read, write and sync: the node is */
	uint32_t write_us;       /* busy that long after its callback (its next events wait) */
	uint32_t sync_us;
};

/*
 * The faults a run injects. Zero rates and intervals disable a kind. Drawn per seed by
 * sim_faults_swarm() (swarm testing: each seed gets its own mix), or set by hand.
 */
struct sim_faults {
	bool enabled; /* false: the liveness phase, no fault of any kind is injected */

	/* network */
	double loss;                 /* probability a message is lost */
	double duplicate;            /* probability a message is delivered twice */
	uint32_t partition_every_ms; /* mean time between partitions (symmetric or one-way) */
	uint32_t partition_max_ms;   /* a partition heals after up to this long */
	double partition_one_way;    /* probability a partition is one-way (a single link) */
	uint32_t clog_every_ms;      /* mean time between clogs of one node's links */
	uint32_t clog_max_ms;        /* a clog lasts up to this long */

	/* disk */
	double read_flip;  /* probability a read returns a flipped bit (corrupt disks only) */
	double io_error;   /* probability a disk operation fails with ERR_IO */
	double torn_write; /* probability a crash tears the last unsynced write of a file */
	double slow_sync;  /* probability a sync in the background takes up to... */
	uint32_t slow_sync_max_ms; /* ...this much longer (a disk that stalls) */
	uint32_t corrupt_mask;     /* bit i-1 set: node i's disk may flip bits; always a minority */

	/* nodes */
	uint32_t crash_every_ms; /* mean time between crashes (of a random node) */
	uint32_t restart_min_ms; /* a crashed node restarts after a delay in [min, max] */
	uint32_t restart_max_ms;
	uint32_t pause_every_ms; /* mean time between pauses (of a random node) */
	uint32_t pause_max_ms;   /* a pause lasts up to this long */
	uint32_t drift_every_ms; /* mean time between changes of a random node's clock rate */
	uint32_t drift_max_ppm;  /* clocks run up to this many millionths fast or slow */
	uint32_t offset_max_ms;  /* each node's clock starts up to this far from zero */
	uint32_t down_max;       /* nodes crashed or paused at once by faults */
};

struct sim_config {
	uint64_t seed;
	uint32_t nodes;
	char app[SIM_APP_NAME_MAX];     /* what runs on the nodes, for replay: [A-Za-z0-9_.-]+ */
	enum log_level trace_log_level; /* node log lines at or above go into the trace */
	struct sim_net_config net;
	struct sim_disk_config disk;
	struct sim_faults faults;
};

/* Fills `cfg` with defaults: 5 nodes, 1-10ms latency, a 64 MiB disk, no faults. */
void sim_config_default(struct sim_config *cfg, uint64_t seed, const char *app);

/* No faults at all. */
void sim_faults_none(struct sim_faults *faults);

/*
 * Draws a fault mix for `seed` from its "faults" stream: which kinds are on, their rates,
 * which minority of disks may flip bits. Different seeds get very different mixes.
 */
void sim_faults_swarm(uint64_t seed, uint32_t nodes, struct sim_faults *faults);

/* Checks a configuration: node count, bounds, probabilities in [0, 1]. */
err *sim_config_check(const struct sim_config *cfg);

/* The workload's seed: prng_subseed(seed, "workload", index). */
uint64_t sim_workload_seed(const struct sim_config *cfg, uint64_t index);

/* ---- the world ---- */

struct sim_world;

/* A client step: runs at its time, outside any node callback. */
typedef void (*sim_call_fn)(struct sim_world *world, void *ctx);

/*
 * Makes a world of cfg->nodes nodes, none started yet: they are created at time 0 when
 * the world first runs, so a trace can be attached and client steps scheduled first.
 */
err *sim_world_new(const struct sim_config *cfg, const struct sim_node_ops *ops, void *app,
                   struct sim_world **out);

/* Drops every node (as a crash would) and frees the world. */
void sim_world_free(struct sim_world *world);

const struct sim_config *sim_world_config(const struct sim_world *world);

/*
 * Records a trace into `out` (the caller keeps and closes it): writes the header now and
 * one line per event as the world runs. Only before the first run.
 */
err *sim_world_trace(struct sim_world *world, FILE *out);

/* Ends a trace: one line per node's state, then "end". Call once, after the last run. */
err *sim_world_trace_end(struct sim_world *world);

/* Sends node log lines at or above `level` to `sink` (NULL: nowhere, the default). */
void sim_world_log(struct sim_world *world, FILE *sink, enum log_level level);

/*
 * Runs every event due at or before `until_ms`, then sets the clock to until_ms. Returns
 * the run's failure, if any (a node's ERR_INTERNAL, sim_fail(), a trace that differs in
 * replay): the world stops at the failing event and later calls return the same error
 * (owned by the world: do not free it).
 */
const err *sim_run_until(struct sim_world *world, uint64_t until_ms);

/* The failure that stopped the world, or NULL. */
const err *sim_world_failure(const struct sim_world *world);

/* Virtual milliseconds since the world began. */
uint64_t sim_now_ms(const struct sim_world *world);

/* Events processed so far (each is one step of a trace). */
uint64_t sim_steps(const struct sim_world *world);

/*
 * Runs fn(world, ctx) at `at_ms` (now, if earlier). Steps at the same time run in the
 * order they were scheduled. ERR_LIMIT if SIM_CALLS_MAX steps are pending.
 */
err *sim_schedule(struct sim_world *world, uint64_t at_ms, sim_call_fn fn, void *ctx);

/* Fails the run (a checker found a violation); takes `e`. The first failure wins. */
void sim_fail(struct sim_world *world, err *e);

/* Writes a line into the trace on behalf of `node` (0: the world), e.g. a client request. */
void sim_note(struct sim_world *world, uint32_t node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- nodes ---- */

/* The node object, or NULL if it is down or paused (it cannot serve clients then). */
void *sim_node(const struct sim_world *world, uint32_t id);

/* The node's env (valid while the node is up), e.g. for a client step to use its clock. */
const struct env *sim_node_env(const struct sim_world *world, uint32_t id);

/* Asks an up node for its state (sim_node_ops.state); false if down or no state. */
bool sim_node_state(const struct sim_world *world, uint32_t id, uint64_t *applied_index,
                    uint64_t *state_hash);

/* How often the node was created (1 after the start, +1 per restart). */
uint32_t sim_node_incarnation(const struct sim_world *world, uint32_t id);

/* The node's disk (always there, even while the node is down), for tests and checkers. */
struct vfs *sim_node_disk(const struct sim_world *world, uint32_t id);

/* Crashes an up or paused node now: dropped without shutdown, unsynced writes lost. */
void sim_crash(struct sim_world *world, uint32_t id);

/* Restarts a crashed node now over its disk. */
void sim_restart(struct sim_world *world, uint32_t id);

/* Pauses an up node: its events wait, in order, until sim_resume(). */
void sim_pause(struct sim_world *world, uint32_t id);
void sim_resume(struct sim_world *world, uint32_t id);

/* Sets the node's clock rate: ppm millionths fast (> 0) or slow (< 0); stays monotonic. */
void sim_set_drift(struct sim_world *world, uint32_t id, int32_t ppm);

/* ---- network ---- */

/* Changes latency and bounds from now on (messages in flight keep their times). */
err *sim_net_set(struct sim_world *world, const struct sim_net_config *net);

/* Blocks (or unblocks) the one-way link from -> to; messages on it are lost. */
void sim_net_block(struct sim_world *world, uint32_t from, uint32_t to, bool blocked);

/* Partitions the nodes in `mask` (bit id-1) from the others, both ways. */
void sim_net_partition(struct sim_world *world, uint32_t mask);

/* Unblocks every link. */
void sim_net_heal(struct sim_world *world);

/* Delays every message to or from `id` until duration_ms from now. */
void sim_net_clog(struct sim_world *world, uint32_t id, uint64_t duration_ms);

/* ---- faults ---- */

/* Replaces the fault configuration from now on (rates, disk faults, schedule). */
err *sim_faults_set(struct sim_world *world, const struct sim_faults *faults);

/*
 * Begins the liveness phase: faults stop, partitions and clogs heal, clocks stop
 * drifting, paused nodes resume and crashed nodes restart. The cluster must now converge.
 */
void sim_liveness(struct sim_world *world);

/* ---- statistics ---- */

struct sim_stats {
	uint64_t steps;
	uint64_t sent, delivered, duplicated, clog_delays;
	uint64_t lost, partitioned, over_inflight, oversized, bad_destination, to_down_node;
	uint64_t timers_fired, calls;
	uint64_t crashes, restarts, failstops, pauses, partitions, clogs, drifts;
	uint64_t disk_reads, disk_writes, disk_syncs, disk_errors;
	uint64_t wall_ns; /* wall time spent in sim_run_until, only for reporting speed */
};

const struct sim_stats *sim_world_stats(const struct sim_world *world);

/* Prints a summary: virtual and wall time, events per wall second, message and fault counts. */
void sim_world_summary(const struct sim_world *world, FILE *out);

/* ---- replay ---- */

/*
 * Builds the world a trace describes: the same ops, app state and client steps as the
 * recording run, for `cfg` as parsed from the trace header. The world is freed by
 * sim_replay(); app state is the caller's.
 */
typedef err *(*sim_build_fn)(const struct sim_config *cfg, void *ctx, struct sim_world **out);

struct sim_replay_opts {
	FILE *out;          /* the verdict and the window go here (NULL: nowhere) */
	uint32_t node;      /* the window shows only this node's lines (0: all nodes) */
	uint64_t from_step; /* the window: steps in [from_step, to_step] are printed */
	uint64_t to_step;   /* (to_step 0: no window) */
};

struct sim_replay_result {
	bool identical;                    /* every line matched */
	uint64_t lines;                    /* lines compared (the header included) */
	uint64_t differs_at;               /* the first differing line (1-based), 0 if identical */
	char expected[SIM_TRACE_LINE_MAX]; /* that line in the file ("" past its end) */
	char actual[SIM_TRACE_LINE_MAX];   /* that line in the re-run ("" past its end) */
};

/*
 * Re-runs the trace at `path`: parses its header, builds the world with `build`, runs it
 * to the time the trace ends while comparing each line, and stops at the first line that
 * differs. Returns an error only if the trace cannot be read or the world cannot be
 * built; a difference is reported in `result` (and printed to opts->out).
 */
err *sim_replay(const char *path, sim_build_fn build, void *ctx, const struct sim_replay_opts *opts,
                struct sim_replay_result *result);

/* Parses a trace header line into `cfg`. */
err *sim_trace_parse_header(const char *line, struct sim_config *cfg);

#endif
