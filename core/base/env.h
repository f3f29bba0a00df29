/*
 * env.h — everything a node may ask of the world (design.md §3).
 *
 * A node is a deterministic state machine. It reads the clock, sets timers, sends
 * messages, touches files, draws random numbers and logs only through its env. Two
 * implementations exist: net/ (epoll, TCP, posix files, the wall clock) and sim/ (an event
 * queue, a simulated network and disks, a virtual clock). Given the same env behaviour a
 * node behaves the same, which is what makes a simulated run a function of its seed.
 *
 * The env calls the node back, never the other way round within one call:
 *   - a message arrived      -> node_on_message(node, from, bytes, len)
 *   - a timer fired          -> node_on_timer(node, timer_id)
 *   - a background sync done -> node_on_timer(node, the timer id it was started with)
 * (declared by core/node). Sends are best-effort and asynchronous: a message may be lost,
 * delayed, duplicated or reordered, and Raft is built to cope. File I/O through `vfs` is
 * synchronous (a log sync may run in the background: sync_start); its crash semantics are
 * in vfs.h.
 */
#ifndef CAIRN_BASE_ENV_H
#define CAIRN_BASE_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"
#include "base/prng.h"
#include "base/vfs.h"

struct env {
	void *impl;       /* the implementation's own state, passed to every call */
	uint32_t node_id; /* the node this env serves; 1-based */

	/* Monotonic milliseconds since some fixed origin; never decreases. */
	uint64_t (*now_ms)(void *impl);

	/*
	 * Arms timer `timer_id` to fire once, `delay_ms` from now. Arming an armed timer
	 * replaces its deadline. Timers with equal deadlines fire in the order they were armed.
	 */
	void (*timer_set)(void *impl, uint32_t timer_id, uint64_t delay_ms);
	void (*timer_cancel)(void *impl, uint32_t timer_id);

	/* Sends `len` bytes to node `to` (best effort; the bytes are copied before return). */
	void (*send)(void *impl, uint32_t to, const uint8_t *bytes, size_t len);
	/*
	 * Optional (NULL: sends are never held back). An env may hold sends back to write
	 * several to one peer together; this hands everything sent so far to the network now.
	 * A node calls it before blocking on its disk, so earlier sends do not wait for it.
	 */
	void (*flush)(void *impl);

	/*
	 * Optional (both NULL: the node syncs in place, blocking). Starts vfs_sync(file) away
	 * from the node's thread and fires timer `timer_id` (as node_on_timer) once it is done;
	 * at most one runs at a time, and the node neither writes `file` nor closes it until it
	 * has called sync_finish(). sync_finish() waits for the sync if it is still running and
	 * returns its result (NULL if none was started, or the node's process is going away).
	 * A simulated env completes the sync as an event of its own, at a seeded time.
	 */
	void (*sync_start)(void *impl, struct vfs_file *file, uint32_t timer_id);
	err *(*sync_finish)(void *impl);

	/* Receives one formatted log line (no newline); lines below log_level never arrive. */
	void (*log_line)(void *impl, enum log_level level, const char *line);
	enum log_level log_level;

	struct vfs *vfs;   /* the node's disk */
	struct prng *prng; /* the node's own random stream */
};

static inline uint64_t env_now_ms(const struct env *env)
{
	return env->now_ms(env->impl);
}

static inline void env_timer_set(const struct env *env, uint32_t timer_id, uint64_t delay_ms)
{
	env->timer_set(env->impl, timer_id, delay_ms);
}

static inline void env_timer_cancel(const struct env *env, uint32_t timer_id)
{
	env->timer_cancel(env->impl, timer_id);
}

static inline void env_send(const struct env *env, uint32_t to, const uint8_t *bytes, size_t len)
{
	env->send(env->impl, to, bytes, len);
}

static inline void env_flush(const struct env *env)
{
	if (env->flush)
		env->flush(env->impl);
}

static inline bool env_syncs_in_background(const struct env *env)
{
	return env->sync_start != NULL;
}

/* Formats and logs a line prefixed with the env's time and node id. */
void env_logf(const struct env *env, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
