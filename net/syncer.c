#include "net/syncer.h"

#include <assert.h>
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* The worker: syncs each file it is handed, then wakes the loop. */
static void *net__syncer_worker(void *arg)
{
	struct net_syncer *s = arg;
	pthread_mutex_lock(&s->mutex);
	for (;;) {
		while (!s->stopping && (s->file == NULL || s->ended))
			pthread_cond_wait(&s->changed, &s->mutex);
		if (s->stopping)
			break;
		struct vfs_file *file = s->file;
		pthread_mutex_unlock(&s->mutex);
		err *e = vfs_sync(file);
		pthread_mutex_lock(&s->mutex);
		s->result = e;
		s->ended = true;
		pthread_mutex_unlock(&s->mutex);
		/* Both outside the mutex, so whoever wakes finds it free. */
		pthread_cond_broadcast(&s->changed);
		uint64_t one = 1;
		/* Cannot fail short of a closed fd; the loop also learns at finish() */
		ssize_t wrote = write(s->wake_fd, &one, sizeof one);
		(void)wrote;
		pthread_mutex_lock(&s->mutex);
	}
	pthread_mutex_unlock(&s->mutex);
	return NULL;
}

/* On the loop's thread: a sync ended. Tells the caller, unless it finished it already. */
static void net__syncer_on_wake(struct net_io *io, uint32_t events)
{
	struct net_syncer *s = io->data;
	(void)events;
	uint64_t count;
	ssize_t got = read(s->wake_fd, &count, sizeof count);
	(void)got; /* EAGAIN: a wake already consumed; the state below is what counts */
	if (s->aio_running) {
		err *result;
		if (!vfs_posix_aio_sync_end(s->aio, false, &result))
			return;
		s->aio_running = false;
		pthread_mutex_lock(&s->mutex);
		s->result = result;
		s->ended = true;
		pthread_mutex_unlock(&s->mutex);
		s->done(s->ctx);
		return;
	}
	pthread_mutex_lock(&s->mutex);
	bool deliver = s->file != NULL && s->ended;
	pthread_mutex_unlock(&s->mutex);
	if (deliver)
		s->done(s->ctx);
}

err *net_syncer_init(struct net_syncer *s, struct net_loop *loop, net_syncer_done_fn done,
                     void *ctx)
{
	memset(s, 0, sizeof *s);
	s->loop = loop;
	s->done = done;
	s->ctx = ctx;
	s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->wake_fd < 0)
		return err_new(ERR_IO, "syncer: eventfd: %s", strerror(errno));
	pthread_mutex_init(&s->mutex, NULL);
	pthread_cond_init(&s->changed, NULL);
	err *no_aio = vfs_posix_aio_new(s->wake_fd, &s->aio);
	err_free(no_aio); /* then every sync runs on the worker */
	net_io_init(&s->wake_io, s->wake_fd, net__syncer_on_wake, s);
	err *e = net_io_start(loop, &s->wake_io, EPOLLIN);
	if (!e) {
		int rc = pthread_create(&s->worker, NULL, net__syncer_worker, s);
		if (rc != 0) {
			net_io_stop(loop, &s->wake_io);
			e = err_new(ERR_IO, "syncer: cannot start a thread: %s", strerror(rc));
		}
	}
	if (e) {
		vfs_posix_aio_free(s->aio);
		s->aio = NULL;
		pthread_cond_destroy(&s->changed);
		pthread_mutex_destroy(&s->mutex);
		close(s->wake_fd);
		s->wake_fd = -1;
		return e;
	}
	s->worker_started = true;
	return NULL;
}

void net_syncer_close(struct net_syncer *s)
{
	if (!s->worker_started)
		return;
	err_free(net_syncer_finish(s));
	pthread_mutex_lock(&s->mutex);
	s->stopping = true;
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->mutex);
	pthread_join(s->worker, NULL);
	s->worker_started = false;
	net_io_stop(s->loop, &s->wake_io);
	vfs_posix_aio_free(s->aio);
	s->aio = NULL;
	close(s->wake_fd);
	s->wake_fd = -1;
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->mutex);
}

void net_syncer_start(struct net_syncer *s, struct vfs_file *file)
{
	assert(file != NULL && s->worker_started && !s->aio_running);
	if (s->aio && vfs_posix_aio_sync_start(s->aio, file)) {
		pthread_mutex_lock(&s->mutex);
		assert(s->file == NULL); /* the worker stays asleep */
		s->ended = false;
		s->result = NULL;
		pthread_mutex_unlock(&s->mutex);
		s->aio_running = true;
		return;
	}
	pthread_mutex_lock(&s->mutex);
	assert(s->file == NULL);
	s->file = file;
	s->ended = false;
	s->result = NULL;
	pthread_mutex_unlock(&s->mutex);
	/*
	 * After unlocking: signalled inside, the worker would wake only to wait for the mutex
	 * this thread still holds (two more futex calls and a context switch per sync).
	 */
	pthread_cond_broadcast(&s->changed);
}

err *net_syncer_finish(struct net_syncer *s)
{
	if (s->aio_running) {
		err *result;
		bool ended = vfs_posix_aio_sync_end(s->aio, true, &result);
		assert(ended);
		(void)ended;
		s->aio_running = false;
		return result;
	}
	pthread_mutex_lock(&s->mutex);
	while (s->file != NULL && !s->ended)
		pthread_cond_wait(&s->changed, &s->mutex);
	err *e = s->result;
	s->file = NULL;
	s->result = NULL;
	pthread_mutex_unlock(&s->mutex);
	return e;
}
