/*
 * syncer.h — one file sync at a time on a thread of its own, completing on the event loop.
 *
 * A node's event loop must not stop for an fdatasync of several milliseconds while its
 * peers' acknowledgements and its clients' statements wait in the sockets. The syncer
 * runs vfs_sync() in the background and, when it is done, calls `done` on the loop's
 * thread (woken through an eventfd). A sync that is one direct write of a posix file
 * (the Raft log's usual one) goes to the kernel through Linux AIO, which signals the
 * eventfd itself; any other sync, or every sync where the kernel offers no AIO, runs
 * on a worker thread. The kernel route saves the hand-off to the thread and back (two
 * context switches, a futex and an eventfd write per sync). Its contract with the caller:
 *   - at most one sync runs: net_syncer_start() requires the previous one finished;
 *   - the caller neither writes nor closes the file until net_syncer_finish();
 *   - net_syncer_finish() returns the sync's result, waiting for it if it still runs; a
 *     `done` notification that arrives after finish() is dropped, never delivered twice.
 * The worker touches nothing but the file it syncs and the syncer's own fields (under its
 * mutex), so the rest of the process stays single-threaded.
 */
#ifndef CAIRN_NET_SYNCER_H
#define CAIRN_NET_SYNCER_H

#include <pthread.h>
#include <stdbool.h>

#include "base/err.h"
#include "base/vfs.h"
#include "net/loop.h"
#include "storage/vfs_posix.h"

typedef void (*net_syncer_done_fn)(void *ctx);

struct net_syncer {
	struct net_loop *loop;
	net_syncer_done_fn done;
	void *ctx;
	int wake_fd; /* eventfd: the worker's "a sync ended" */
	struct net_io wake_io;
	struct vfs_posix_aio *aio; /* NULL: the kernel has no AIO for us */
	bool aio_running;          /* the sync in flight went to the kernel (loop thread only) */
	pthread_t worker;
	bool worker_started;
	pthread_mutex_t mutex;
	pthread_cond_t changed;
	/* Under `mutex`: */
	struct vfs_file *file; /* the worker's sync started and not yet finished, or NULL */
	bool ended;            /* the worker has synced `file`; `result` holds the outcome */
	err *result;
	bool stopping;
};

/* Starts the worker thread; `done(ctx)` runs on the loop's thread when a sync ends. */
err *net_syncer_init(struct net_syncer *s, struct net_loop *loop, net_syncer_done_fn done,
                     void *ctx);

/* Finishes a sync still running (its result is dropped) and stops the worker. */
void net_syncer_close(struct net_syncer *s);

/* Hands `file` to the worker to sync. Precondition: no sync unfinished. */
void net_syncer_start(struct net_syncer *s, struct vfs_file *file);

/* Waits for the sync started last, if any, and returns its result (NULL: synced). */
err *net_syncer_finish(struct net_syncer *s);

#endif
