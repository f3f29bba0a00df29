#include "net/env.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "storage/vfs_posix.h"

/* One node timer: its id and the loop timer that serves it. Allocated once per id so the
 * loop's pointer to it stays valid. */
struct net__env_timer {
	uint32_t id;
	struct net_env *env;
	struct net_timer timer;
};

static struct net_env *net__env(void *impl)
{
	return impl;
}

static uint64_t net__now_ms(void *impl)
{
	struct net_env *ne = net__env(impl);
	return net_loop_now_ms(ne->loop) - ne->origin_ms;
}

static void net__on_timer(struct net_timer *t)
{
	struct net__env_timer *et = t->data;
	struct net_env *ne = et->env;
	assert(ne->on_timer); /* set before the loop runs */
	ne->on_timer(ne->timer_ctx, et->id);
}

/* The timer for `id`, made on first use; NULL (logged) past NET_ENV_MAX_TIMERS. */
static struct net__env_timer *net__timer(struct net_env *ne, uint32_t id, bool create)
{
	for (size_t i = 0; i < ne->timer_count; i++)
		if (ne->timers[i]->id == id)
			return ne->timers[i];
	if (!create)
		return NULL;
	if (ne->timer_count == NET_ENV_MAX_TIMERS) {
		env_logf(&ne->env, LOG_ERROR, "env: more than %d timer ids; timer %u not set",
		         NET_ENV_MAX_TIMERS, id);
		return NULL;
	}
	if (ne->timer_count == ne->timer_cap) {
		size_t cap = ne->timer_cap ? ne->timer_cap * 2 : 16;
		struct net__env_timer **timers = realloc(ne->timers, cap * sizeof *timers);
		if (!timers)
			return NULL;
		ne->timers = timers;
		ne->timer_cap = cap;
	}
	struct net__env_timer *et = calloc(1, sizeof *et);
	if (!et)
		return NULL;
	et->id = id;
	et->env = ne;
	net_timer_init(&et->timer, net__on_timer, et);
	ne->timers[ne->timer_count++] = et;
	return et;
}

static void net__timer_set(void *impl, uint32_t timer_id, uint64_t delay_ms)
{
	struct net_env *ne = net__env(impl);
	struct net__env_timer *et = net__timer(ne, timer_id, true);
	err *e = et ? net_timer_start(ne->loop, &et->timer, delay_ms)
	            : err_new(ERR_NOMEM, "no timer slot");
	if (e) {
		env_logf(&ne->env, LOG_ERROR, "env: cannot set timer %u: %s", timer_id, err_msg(e));
		err_free(e);
	}
}

static void net__timer_cancel(void *impl, uint32_t timer_id)
{
	struct net_env *ne = net__env(impl);
	struct net__env_timer *et = net__timer(ne, timer_id, false);
	if (et)
		net_timer_stop(ne->loop, &et->timer);
}

static void net__send(void *impl, uint32_t to, const uint8_t *bytes, size_t len)
{
	struct net_env *ne = net__env(impl);
	if (ne->transport)
		net_transport_send(ne->transport, to, bytes, len);
}

static void net__flush_sends(void *impl)
{
	struct net_env *ne = net__env(impl);
	if (ne->transport)
		net_transport_flush(ne->transport);
}

static void net__sync_start(void *impl, struct vfs_file *file, uint32_t timer_id)
{
	struct net_env *ne = net__env(impl);
	ne->sync_timer_id = timer_id;
	net_syncer_start(&ne->syncer, file);
}

static err *net__sync_finish(void *impl)
{
	return net_syncer_finish(&net__env(impl)->syncer);
}

/* On the loop's thread: the sync ended; the node hears it as its timer. */
static void net__sync_done(void *ctx)
{
	struct net_env *ne = ctx;
	assert(ne->on_timer);
	ne->on_timer(ne->timer_ctx, ne->sync_timer_id);
}

static void net__log_line(void *impl, enum log_level level, const char *line)
{
	struct net_env *ne = net__env(impl);
	uint64_t second = (net_loop_now_ms(ne->loop) - ne->origin_ms) / 1000;
	if (second != ne->log_second) {
		uint64_t dropped = ne->log_dropped, was = ne->log_second;
		ne->log_second = second;
		ne->log_lines = 0;
		ne->log_dropped = 0;
		if (dropped) /* written through this function, in the new second's budget */
			env_logf(
			    &ne->env, LOG_WARN,
			    "log: %llu lines not written in second %llu (more than %d a second)",
			    (unsigned long long)dropped, (unsigned long long)was,
			    NET_ENV_LOG_LINES_PER_SECOND);
	}
	if (level < LOG_ERROR && ne->log_lines >= NET_ENV_LOG_LINES_PER_SECOND) {
		ne->log_dropped++;
		return;
	}
	ne->log_lines++;
	fprintf(ne->log_stream, "%s\n", line);
	fflush(ne->log_stream);
}

void net_env_log(void *ctx, enum log_level level, const char *message)
{
	struct net_env *ne = ctx;
	env_logf(&ne->env, level, "%s", message);
}

/* Creates `path` and its parents through a vfs rooted at the working directory. */
static err *net__mkdirs(const char *path)
{
	size_t len = strlen(path);
	if (len == 0 || len >= VFS_PATH_MAX)
		return err_new(ERR_INVALID, "data directory path of %zu bytes", len);
	struct vfs *vfs;
	TRY(vfs_posix_new(NULL, &vfs));
	char prefix[VFS_PATH_MAX];
	err *e = NULL;
	for (size_t i = 1; i <= len && !e; i++) {
		if (i < len && path[i] != '/')
			continue;
		memcpy(prefix, path, i);
		prefix[i] = '\0';
		e = vfs_mkdir(vfs, prefix);
	}
	vfs_posix_free(vfs);
	return err_wrap(e, "cannot create data directory %s", path);
}

err *net_env_init(struct net_env *ne, struct net_loop *loop, const struct net_env_config *cfg)
{
	assert(cfg->node_id > 0 && cfg->data_dir);
	memset(ne, 0, sizeof *ne);
	ne->loop = loop;
	ne->origin_ms = net_loop_now_ms(loop);
	ne->log_stream = cfg->log_stream ? cfg->log_stream : stderr;
	ne->seed = cfg->seed;
	if (ne->seed == 0 && getrandom(&ne->seed, sizeof ne->seed, 0) != sizeof ne->seed)
		return err_new(ERR_IO, "getrandom failed");
	prng_seed(&ne->prng, ne->seed);
	TRY(net__mkdirs(cfg->data_dir));
	TRY(vfs_posix_new(cfg->data_dir, &ne->vfs));
	err *locked = vfs_posix_lock(ne->vfs, "data directory");
	if (locked) {
		vfs_posix_free(ne->vfs);
		ne->vfs = NULL;
		return locked;
	}
	ne->env = (struct env){
	    .impl = ne,
	    .node_id = cfg->node_id,
	    .now_ms = net__now_ms,
	    .timer_set = net__timer_set,
	    .timer_cancel = net__timer_cancel,
	    .send = net__send,
	    .flush = net__flush_sends,
	    .log_line = net__log_line,
	    .log_level = cfg->log_level,
	    .vfs = ne->vfs,
	    .prng = &ne->prng,
	};
	if (cfg->background_sync) {
		err *e = net_syncer_init(&ne->syncer, loop, net__sync_done, ne);
		if (e) {
			net_env_close(ne);
			return e;
		}
		ne->env.sync_start = net__sync_start;
		ne->env.sync_finish = net__sync_finish;
	}
	return NULL;
}

void net_env_close(struct net_env *ne)
{
	net_syncer_close(&ne->syncer);
	for (size_t i = 0; i < ne->timer_count; i++) {
		net_timer_stop(ne->loop, &ne->timers[i]->timer);
		free(ne->timers[i]);
	}
	free(ne->timers);
	ne->timers = NULL;
	ne->timer_count = ne->timer_cap = 0;
	if (ne->vfs)
		vfs_posix_free(ne->vfs);
	ne->vfs = NULL;
}

void net_env_set_transport(struct net_env *ne, struct net_transport *t)
{
	ne->transport = t;
}

void net_env_set_timer_handler(struct net_env *ne, net_env_timer_fn fn, void *ctx)
{
	ne->on_timer = fn;
	ne->timer_ctx = ctx;
}
