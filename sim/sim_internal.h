/*
 * sim_internal.h — the world's parts as they see each other (not for users of sim.h).
 *
 *   queue.c    the event pool and the priority queue (time, then sequence number)
 *   host.c     a node's host: its env (clock, timers, send, log), start, crash, pause
 *   network.c  sends and deliveries: latency, loss, duplication, partitions, clogs
 *   disk.c     a node's disk: vfs_memory under vfs_fault, latency charged to the node
 *   faults.c   swarm fault mixes, the fault schedule, the liveness phase
 *   trace.c    trace lines, the header, comparing lines in replay
 *   replay.c   sim_replay()
 *   world.c    the world and its event loop
 */
#ifndef CAIRN_SIM_SIM_INTERNAL_H
#define CAIRN_SIM_SIM_INTERNAL_H

#include <stdarg.h>

#include "base/prng.h"
#include "sim/sim.h"

#define SIM__NONE UINT32_MAX

/* ---- events (queue.c) ---- */

enum sim__event_kind {
	SIM__EV_MESSAGE, /* a message reaches its destination */
	SIM__EV_TIMER,   /* a node's timer expires */
	SIM__EV_CALL,    /* a client step */
	SIM__EV_FAULT,   /* the fault schedule acts, or a node starts */
};

enum sim__fault_kind {
	SIM__FAULT_CRASH,                    /* tick: crash a random node */
	SIM__FAULT_PAUSE,                    /* tick: pause a random node */
	SIM__FAULT_PARTITION,                /* tick: partition the network */
	SIM__FAULT_CLOG,                     /* tick: clog a random node's links */
	SIM__FAULT_DRIFT,                    /* tick: change a random node's clock rate */
	SIM__FAULT_TICKS,                    /* (the number of tick kinds) */
	SIM__FAULT_START = SIM__FAULT_TICKS, /* a node: create it (start or restart) */
	SIM__FAULT_RESUME,                   /* a node: resume it */
	SIM__FAULT_HEAL,                     /* heal the network */
};

struct sim__event {
	uint64_t at_us;
	uint64_t seq;      /* assigned when queued: the tie-break, and the total order */
	uint32_t heap_pos; /* SIM__NONE when not in the heap */
	uint32_t next;     /* the free list, or a paused node's waiting list */
	uint32_t node;     /* the node it is for; 0 for the world */
	enum sim__event_kind kind;
	union {
		struct {
			uint8_t *bytes;
			uint32_t len;
			uint32_t from;
		} msg;
		uint32_t timer_id;
		struct {
			sim_call_fn fn;
			void *ctx;
		} call;
		enum sim__fault_kind fault;
	} u;
};

/* A heap entry carries its event's key, so ordering reads no event. */
struct sim__heap_entry {
	uint64_t at_us;
	uint64_t seq;
	uint32_t slot;
};

/* A slot's message buffer, kept across the slot's uses so most messages need no malloc. */
struct sim__msg_buf {
	uint8_t *bytes;
	uint32_t cap;
};

struct sim__queue {
	struct sim__event *events;    /* the pool: `capacity` slots */
	struct sim__heap_entry *heap; /* a binary min-heap on (at_us, seq) */
	struct sim__msg_buf *bufs;    /* per slot; a message event's bytes live in its slot's */
	uint32_t capacity;
	uint32_t count; /* slots in the heap */
	uint32_t used;  /* slots allocated (in the heap, held, or being handled) */
	uint32_t free_head;
	uint64_t next_seq;
};

err *sim__queue_init(struct sim__queue *q, uint32_t capacity);
void sim__queue_free(struct sim__queue *q);
/* Takes a free slot; the caller has checked its kind's bound, so one is always free. */
uint32_t sim__queue_alloc(struct sim__queue *q, enum sim__event_kind kind, uint32_t node);
/* Returns a slot (not in the heap) to the pool; its message buffer stays with the slot. */
void sim__queue_release(struct sim__queue *q, uint32_t slot);
/*
 * A buffer of at least len bytes owned by an allocated slot, valid until the slot's next
 * call of this; NULL when out of memory. A message event's bytes point into it.
 */
uint8_t *sim__queue_msg_buf(struct sim__queue *q, uint32_t slot, size_t len);
/* Puts an allocated slot not in the heap into it, due at at_us, with a new sequence. */
void sim__queue_push(struct sim__queue *q, uint32_t slot, uint64_t at_us);
/* Takes a slot out of the heap (it stays allocated). */
void sim__queue_remove(struct sim__queue *q, uint32_t slot);
/* The first slot in (time, sequence) order, or SIM__NONE; it stays in the heap. */
uint32_t sim__queue_peek(const struct sim__queue *q);

static inline struct sim__event *sim__event(struct sim__queue *q, uint32_t slot)
{
	return &q->events[slot];
}

/* ---- a node's disk (disk.c) ---- */

struct sim__host;

struct sim__file;

struct sim__disk {
	struct vfs shim;    /* what the node sees: counts, charges latency, draws faults */
	struct vfs *memory; /* vfs_memory: the durable bytes */
	struct vfs *fault;  /* vfs_fault over memory: unsynced overlay, errors, flips, tears */
	struct prng prng;   /* which operations fail or flip, whether a crash tears */
	double io_error;    /* the rates in force now (0 when faults are off) */
	double read_flip;
	bool background;             /* the next sync ends one started in the background */
	uint32_t background_left_us; /* what is left of its latency */
	struct sim__file *open_files;
	struct sim__host *host;
};

err *sim__disk_init(struct sim__disk *disk, struct sim__host *host);
void sim__disk_free(struct sim__disk *disk);
/* Applies the world's fault configuration to the disk. */
void sim__disk_configure(struct sim__disk *disk);
/* Closes the files a dropped node left open; returns how many there were. */
size_t sim__disk_close_all(struct sim__disk *disk);
/* Power loss: unsynced writes are lost (torn with the configured probability). */
void sim__disk_crash(struct sim__disk *disk);
/* How long a sync started in the background now takes (slow_sync faults included). */
uint64_t sim__disk_sync_latency_us(struct sim__disk *disk);
/*
 * Syncs `file`, a file of the disk's shim or of a vfs over it, for a sync the node started
 * in the background: the node waits only `remaining_us` for it (busy).
 */
err *sim__disk_sync_background(struct sim__disk *disk, struct vfs_file *file,
                               uint32_t remaining_us);

/* ---- a node's host (host.c) ---- */

enum sim__host_status {
	SIM__DOWN,
	SIM__UP,
	SIM__PAUSED,
};

struct sim__timer {
	uint32_t id;
	uint32_t slot;
};

struct sim__host {
	struct sim_world *world;
	uint32_t id;
	enum sim__host_status status;
	void *node;
	uint32_t incarnation;
	uint32_t restart_failures; /* consecutive failed creates */
	bool in_callback;
	struct env env;
	struct prng prng; /* the node's own stream, reseeded per incarnation */
	struct sim__timer timers[SIM_TIMERS_PER_NODE];
	uint32_t timer_count;
	/* The local clock: local = base_local + (now - base_global) * (1e6 + ppm) / 1e6. */
	uint64_t clock_base_global_us;
	uint64_t clock_base_local_us;
	int32_t drift_ppm;
	uint64_t busy_until_us;     /* disk latency charged: events wait until then */
	struct vfs_file *sync_file; /* a sync in the background (env sync_start), or NULL */
	uint64_t sync_done_us;      /* when it ends, in world time */
	uint64_t clog_until_us;     /* messages to or from the node wait until then */
	uint32_t waiting_head;      /* events held while paused, in arrival order */
	uint32_t waiting_tail;
	uint32_t restart_slot; /* the pending start event, or SIM__NONE */
	uint32_t resume_slot;  /* the pending resume event, or SIM__NONE */
	struct sim__disk disk;
};

err *sim__host_init(struct sim_world *w, struct sim__host *h, uint32_t id);
void sim__host_free(struct sim__host *h);
/* The node's local clock in microseconds. */
uint64_t sim__host_local_us(const struct sim__host *h);
/* Creates the node (it must be down). */
void sim__host_start(struct sim__host *h);
/* Drops the node and its disk's unsynced writes (it must be up or paused). */
void sim__host_crash(struct sim__host *h, const char *why);
void sim__host_pause(struct sim__host *h);
void sim__host_resume(struct sim__host *h);
void sim__host_set_drift(struct sim__host *h, int32_t ppm);
/*
 * Decides whether an event for the host may run now. If the host is paused the event is
 * held until it resumes; if it is busy (disk latency) the event is queued again for when it
 * is free. Returns true if the caller should handle the event now.
 */
bool sim__host_gate(struct sim__host *h, uint32_t slot);
/* Handles a due timer event (gated). */
void sim__host_fire_timer(struct sim__host *h, uint32_t slot);
/* Delivers a message event to the node (gated, host up). */
void sim__host_deliver(struct sim__host *h, uint32_t slot);
/* Adds disk latency: the node's next events wait `us` longer. */
void sim__host_charge(struct sim__host *h, uint64_t us);
/*
 * Interprets what a node callback returned: nothing, a fail-stop (crash, restart later)
 * or a bug (ERR_INTERNAL: the run fails). Takes `e`.
 */
void sim__host_outcome(struct sim__host *h, err *e, const char *what);
/* Sets the env's log threshold from the world's log sink and trace settings. */
void sim__host_update_log_level(struct sim__host *h);

/* ---- network (network.c) ---- */

/* Checks a network configuration's bounds. */
err *sim__net_check(const struct sim_net_config *net);
void sim__net_send(struct sim__host *from, uint32_t to, const uint8_t *bytes, size_t len);
/* Handles a due message event: drop, delay, hold or deliver. */
void sim__net_arrive(struct sim_world *w, uint32_t slot);
/* Releases a message event that left the wire (delivered or dropped). */
void sim__net_discard(struct sim_world *w, uint32_t slot);

/* ---- faults (faults.c) ---- */

/* Checks a fault configuration for a world of `nodes` nodes. */
err *sim__faults_check(const struct sim_faults *f, uint32_t nodes);
/* At the world's making: draws clock offsets, queues every node's start, arms the ticks. */
void sim__faults_start(struct sim_world *w);
/* Arms or disarms the fault ticks (and disk faults) to match the world's configuration. */
void sim__faults_arm(struct sim_world *w);
/* Handles a due fault event. */
void sim__faults_fire(struct sim_world *w, uint32_t slot);
/* Schedules the host's restart after the configured delay (a crash or a fail-stop). */
void sim__faults_schedule_restart(struct sim__host *h);

/* ---- traces (trace.c) ---- */

struct sim__trace {
	FILE *out;    /* recording: lines are written here */
	FILE *expect; /* replaying: lines are compared with these */
	struct sim_replay_result *result;
	FILE *window; /* replaying: lines in the window are printed here */
	uint32_t window_node;
	uint64_t window_from, window_to;
	uint64_t lines;
	bool ended;
	char *scratch; /* SIM_TRACE_LINE_MAX + 2 bytes for reading expected lines */
};

/*
 * Emits one trace line for `node` (0: the world) at the current step and time; an action a
 * node takes inside an event is indented. In replay, compares it with the next line of the
 * recording and fails the run at the first difference.
 */
void sim__trace(struct sim_world *w, uint32_t node, bool action, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void sim__trace_v(struct sim_world *w, uint32_t node, bool action, const char *fmt, va_list ap);
/* Emits the header line (recording or replaying). */
void sim__trace_header(struct sim_world *w);
/* Formats the header line for `cfg` into out (no newline). */
void sim__trace_format_header(const struct sim_config *cfg, char *out, size_t cap);

/* ---- the world (world.c) ---- */

struct sim_world {
	struct sim_config cfg;
	bool faults_configured; /* cfg.faults.enabled as given (the liveness phase clears it) */
	const struct sim_node_ops *ops;
	void *app;
	struct sim__queue queue;
	uint64_t now_us;
	uint64_t step;
	bool started;
	err *failure;
	struct sim__host hosts[SIM_NODES_MAX]; /* hosts[id - 1] */
	uint32_t hosts_ready;                  /* hosts initialised (to free on failure) */
	struct prng net_prng;
	struct prng fault_prng[SIM__FAULT_TICKS];
	bool blocked[SIM_NODES_MAX][SIM_NODES_MAX]; /* [from - 1][to - 1] */
	uint32_t inflight[SIM_NODES_MAX][SIM_NODES_MAX];
	uint32_t calls_pending;
	uint32_t inflight_reserved; /* the queue has room for this many per link */
	uint32_t tick_slot[SIM__FAULT_TICKS];
	uint32_t heal_slot;
	FILE *log_sink;
	enum log_level log_level;
	struct sim__trace trace;
	struct sim_stats stats;
};

static inline bool sim__tracing(const struct sim_world *w)
{
	return w->trace.out != NULL || w->trace.expect != NULL;
}

static inline struct sim__host *sim__host(struct sim_world *w, uint32_t id)
{
	return &w->hosts[id - 1];
}

static inline bool sim__valid_id(const struct sim_world *w, uint32_t id)
{
	return id >= 1 && id <= w->cfg.nodes;
}

/* sim_run_until() to the microsecond (replay ends where the recording ended). */
const err *sim__run_until_us(struct sim_world *w, uint64_t until_us);

/* Records the run's first failure (takes `e`) and stops the world. */
void sim__fail(struct sim_world *w, err *e);

/* Formats virtual microseconds as "s.uuuuuu" into out (at least 24 bytes). */
void sim__format_time(uint64_t us, char *out, size_t cap);

#endif
