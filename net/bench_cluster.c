/*
 * bench_cluster.c — the harness of the read, write and bank workloads (see bench_cluster.h).
 *
 * Threads live here only, in a net/ program: each thread owns its clients (connections,
 * PRNGs, latency samples) and waits on all of their connections with epoll, sending a
 * client's next request as soon as its answer arrives. Threads share nothing but the
 * workload's key sequence, a counter of finished transactions (for the progress line)
 * and a stop flag raised by the first thread that fails. The main thread joins them and
 * merges the samples. Nothing here asserts on timings: the numbers are printed, never
 * judged.
 */
#include "net/bench_cluster.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "base/number.h"
#include "net/bench_stats.h"

#define BENCH_DEFAULT_HOSTS \
	"127.0.0.1:9601,127.0.0.1:9602,127.0.0.1:9603,127.0.0.1:9604,127.0.0.1:9605"
#define BENCH_DEFAULT_CLIENTS 16
#define BENCH_THREADS_MAX 64
/* How long a thread's epoll_wait() sleeps at most, to notice the stop flag. */
#define BENCH_WAIT_MS 100
#define BENCH_PROGRESS_US 1000000u
#define BENCH_POLL_NS 50000000L
#define BENCH_SETTLE_MS 60000 /* the longest wait for the replicas to apply the setup */
#define BENCH_TXNS_MAX ((uint64_t)BENCH_LATENCIES_MAX)

struct bench_options {
	char hosts[BENCH_HOSTS_MAX][64];
	uint32_t n_hosts;
	uint32_t clients;
	uint32_t threads;
	uint64_t txns;
	uint64_t seed;
};

/* What the main thread and all clients share. */
struct bench_shared {
	const struct bench_workload *workload;
	atomic_uint_fast64_t sequence;
	atomic_uint_fast64_t done;
	atomic_uint_fast64_t retries;
	atomic_bool stop;
};

/* A client and where its current transaction stands. */
struct bench_slot {
	struct bench_client client;
	uint64_t quota;      /* transactions still to start */
	uint64_t started_us; /* when the current transaction began (its first try) */
	uint64_t sent_us;    /* when the request in flight was sent */
	uint32_t attempt;    /* tries of the current transaction that failed */
	bool rolling_back;   /* the request in flight is the ROLLBACK after a failed try */
	bool busy;           /* a request is in flight */
};

struct bench_thread {
	struct bench_shared *shared;
	struct bench_slot *slots;
	uint32_t n_slots;
	struct bench_latencies latencies;
	err *failure;
	uint64_t finished_us; /* when its last client's last answer arrived */
	pthread_t thread;
	bool started;
};

/* ---- helpers for the workloads ---- */

err *bench_execute(struct net_client *conn, const char *sql, struct net_response *resp)
{
	memset(resp, 0, sizeof *resp);
	TRY(net_client_execute(conn, sql, resp));
	if (resp->kind != NET_RESP_ERROR)
		return NULL;
	err *e = net_response_to_err(resp);
	net_response_free(resp);
	return e;
}

err *bench_exec(struct net_client *conn, const char *sql)
{
	struct net_response resp;
	TRY(bench_execute(conn, sql, &resp));
	net_response_free(&resp);
	return NULL;
}

err *bench_integer(const struct net_response *resp, uint64_t row, uint32_t column, int64_t *out)
{
	if (resp->kind != NET_RESP_ROWS || row >= resp->row_count || column >= resp->column_count)
		return err_new(ERR_TYPE, "bench: expected a row with at least %u columns",
		               column + 1);
	const struct net_value *v = net_response_value(resp, row, column);
	if (v->type != NET_VALUE_INTEGER)
		return err_new(ERR_TYPE, "bench: expected an INTEGER in column %u", column + 1);
	*out = v->as.integer;
	return NULL;
}

void bench_random_text(struct prng *prng, char *out, size_t len)
{
	static const char alphabet[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	for (size_t i = 0; i < len; i++)
		out[i] = alphabet[prng_below(prng, sizeof alphabet - 1)];
	out[len] = '\0';
}

/* ---- options ---- */

static void bench__usage(FILE *out, const char *name)
{
	fprintf(out,
	        "usage: cairn-bench %s [-H host:port,...] [-c CLIENTS] [-j THREADS] [-n TXNS] "
	        "[--seed N]\n"
	        "  -H  the nodes to spread clients over (default 127.0.0.1:9601..9605)\n"
	        "  -c  concurrent clients, one connection each (default %d, at most %d)\n"
	        "  -j  threads driving the clients (default: one per CPU, at most %d)\n"
	        "  -n  transactions in all\n",
	        name, BENCH_DEFAULT_CLIENTS, BENCH_CLIENTS_MAX, BENCH_THREADS_MAX);
}

static err *bench__number(const char *flag, const char *text, uint64_t lo, uint64_t hi,
                          uint64_t *out)
{
	uint64_t v;
	err *e = text ? number_parse_range(text, lo, hi, &v) : err_new(ERR_INVALID, "missing");
	if (e)
		return err_wrap(e, "%s: expected a number from %" PRIu64 " to %" PRIu64, flag, lo,
		                hi);
	*out = v;
	return NULL;
}

static err *bench__hosts(const char *text, struct bench_options *o)
{
	o->n_hosts = 0;
	const char *p = text;
	while (*p) {
		size_t len = strcspn(p, ",");
		if (len == 0 || len >= sizeof o->hosts[0])
			return err_new(ERR_INVALID, "-H: bad address list '%s'", text);
		if (o->n_hosts == BENCH_HOSTS_MAX)
			return err_new(ERR_INVALID, "-H: more than %d hosts", BENCH_HOSTS_MAX);
		memcpy(o->hosts[o->n_hosts], p, len);
		o->hosts[o->n_hosts++][len] = '\0';
		p += len + (p[len] == ',');
	}
	if (o->n_hosts == 0)
		return err_new(ERR_INVALID, "-H: no address given");
	return NULL;
}

static err *bench__options(const struct bench_workload *w, int argc, char **argv,
                           struct bench_options *o)
{
	memset(o, 0, sizeof *o);
	o->clients = BENCH_DEFAULT_CLIENTS;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	o->threads = cpus < 1 ? 1 : cpus > BENCH_THREADS_MAX ? BENCH_THREADS_MAX : (uint32_t)cpus;
	o->txns = w->default_txns;
	o->seed = 1;
	TRY(bench__hosts(BENCH_DEFAULT_HOSTS, o));
	for (int i = 1; i < argc; i++) {
		const char *flag = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t v;
		if (strcmp(flag, "-H") == 0 && value) {
			TRY(bench__hosts(value, o));
		} else if (strcmp(flag, "-c") == 0) {
			TRY(bench__number(flag, value, 1, BENCH_CLIENTS_MAX, &v));
			o->clients = (uint32_t)v;
		} else if (strcmp(flag, "-j") == 0) {
			TRY(bench__number(flag, value, 1, BENCH_THREADS_MAX, &v));
			o->threads = (uint32_t)v;
		} else if (strcmp(flag, "-n") == 0) {
			TRY(bench__number(flag, value, 1, BENCH_TXNS_MAX, &o->txns));
		} else if (strcmp(flag, "--seed") == 0) {
			TRY(bench__number(flag, value, 0, UINT64_MAX, &o->seed));
		} else {
			return err_new(ERR_INVALID, "unknown or incomplete option '%s'", flag);
		}
		i++;
	}
	if (o->threads > o->clients)
		o->threads = o->clients;
	return NULL;
}

/* ---- the client threads ---- */

/* Sends `sql` as the slot's next request. */
static err *bench__send(struct bench_slot *sl, const char *sql)
{
	sl->sent_us = bench_now_us();
	sl->busy = true;
	return net_client_send_execute(sl->client.conn, sql);
}

/* Sends the first request of a try of the slot's transaction. */
static err *bench__try(struct bench_thread *t, struct bench_slot *sl)
{
	char sql[BENCH_SQL_MAX];
	bool done = false;
	sl->client.step = 0;
	TRY(t->shared->workload->step(&sl->client, NULL, sql, &done));
	assert(!done);
	return bench__send(sl, sql);
}

/* Starts the slot's next transaction, if it has one left and nobody failed. */
static err *bench__begin(struct bench_thread *t, struct bench_slot *sl)
{
	if (sl->quota == 0 || atomic_load(&t->shared->stop))
		return NULL;
	sl->quota--;
	sl->started_us = bench_now_us();
	sl->attempt = 0;
	return bench__try(t, sl);
}

/* A try failed with `e`: a serialization failure is tried again, anything else ends the run. */
static err *bench__failed(struct bench_thread *t, struct bench_slot *sl, err *e)
{
	if (!err_is(e, ERR_CONFLICT) || sl->attempt + 1 >= BENCH_RETRIES_MAX)
		return e;
	err_free(e);
	sl->attempt++;
	atomic_fetch_add(&t->shared->retries, 1);
	if (!t->shared->workload->explicit_transaction)
		return bench__try(t, sl);
	/* The server may have ended the transaction already: ROLLBACK's answer does not matter. */
	sl->rolling_back = true;
	return bench__send(sl, "ROLLBACK");
}

/* Handles the answer to the slot's request in flight. */
static err *bench__answered(struct bench_thread *t, struct bench_slot *sl,
                            struct net_response *resp)
{
	sl->busy = false;
	if (sl->rolling_back) {
		sl->rolling_back = false;
		net_response_free(resp);
		return bench__try(t, sl);
	}
	if (resp->kind == NET_RESP_ERROR) {
		err *e = net_response_to_err(resp);
		net_response_free(resp);
		return bench__failed(t, sl, e);
	}
	char sql[BENCH_SQL_MAX];
	bool done = false;
	err *e = t->shared->workload->step(&sl->client, resp, sql, &done);
	net_response_free(resp);
	if (e)
		return e;
	if (!done)
		return bench__send(sl, sql);
	bench_latencies_add(&t->latencies, bench_now_us() - sl->started_us);
	atomic_fetch_add(&t->shared->done, 1);
	return bench__begin(t, sl);
}

/* Waits for answers on every busy slot's connection and handles those that arrived. */
static err *bench__wait(struct bench_thread *t, int epoll_fd, struct epoll_event *events,
                        uint32_t *busy)
{
	uint32_t n = 0;
	uint64_t now = bench_now_us();
	for (uint32_t i = 0; i < t->n_slots; i++) {
		struct bench_slot *sl = &t->slots[i];
		if (!sl->busy)
			continue;
		if (now - sl->sent_us > (uint64_t)NET_CLIENT_DEFAULT_TIMEOUT_MS * 1000)
			return err_new(ERR_UNAVAILABLE, "client %u: no answer within %u ms",
			               sl->client.index, NET_CLIENT_DEFAULT_TIMEOUT_MS);
		n++;
	}
	*busy = n;
	if (n == 0)
		return NULL;
	int ready = epoll_wait(epoll_fd, events, (int)t->n_slots, BENCH_WAIT_MS);
	if (ready < 0 && errno != EINTR)
		return err_new(ERR_IO, "epoll_wait: %s", strerror(errno));
	for (int k = 0; k < ready; k++) {
		struct bench_slot *sl = &t->slots[events[k].data.u32];
		if (!sl->busy) { /* finished: its connection is watched no more (say it closed) */
			epoll_ctl(epoll_fd, EPOLL_CTL_DEL, net_client_fd(sl->client.conn), NULL);
			continue;
		}
		struct net_response resp;
		bool done;
		TRY(err_wrap(net_client_poll_response(sl->client.conn, &resp, &done), "client %u",
		             sl->client.index));
		if (done)
			TRY(err_wrap(bench__answered(t, sl, &resp), "client %u", sl->client.index));
	}
	return NULL;
}

/* An epoll set watching every slot of the thread for answers (data: the slot's index). */
static err *bench__watch(const struct bench_thread *t, int *epoll_fd)
{
	int fd = epoll_create1(EPOLL_CLOEXEC);
	if (fd < 0)
		return err_new(ERR_IO, "epoll_create1: %s", strerror(errno));
	for (uint32_t i = 0; i < t->n_slots; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
		if (epoll_ctl(fd, EPOLL_CTL_ADD, net_client_fd(t->slots[i].client.conn), &ev) !=
		    0) {
			err *e = err_new(ERR_IO, "epoll_ctl: %s", strerror(errno));
			close(fd);
			return e;
		}
	}
	*epoll_fd = fd;
	return NULL;
}

static void *bench__thread(void *arg)
{
	struct bench_thread *t = arg;
	int epoll_fd = -1;
	struct epoll_event *events = calloc(t->n_slots, sizeof *events);
	err *e = events ? bench__watch(t, &epoll_fd)
	                : err_new(ERR_NOMEM, "bench: no memory for the event list");
	for (uint32_t i = 0; i < t->n_slots && !e; i++)
		e = err_wrap(bench__begin(t, &t->slots[i]), "client %u", t->slots[i].client.index);
	uint32_t busy = 1;
	while (!e && busy > 0 && !atomic_load(&t->shared->stop))
		e = bench__wait(t, epoll_fd, events, &busy);
	t->finished_us = bench_now_us();
	free(events);
	if (epoll_fd >= 0)
		close(epoll_fd);
	if (e) {
		t->failure = e;
		atomic_store(&t->shared->stop, true);
	}
	return NULL;
}

/* Connects the clients, deals them out to the threads and gives each its share. */
static err *bench__prepare(const struct bench_options *o, struct bench_shared *shared,
                           struct bench_slot *slots, struct bench_thread *threads)
{
	uint32_t first = 0;
	for (uint32_t j = 0; j < o->threads; j++) {
		struct bench_thread *t = &threads[j];
		t->shared = shared;
		t->slots = &slots[first];
		t->n_slots = o->clients / o->threads + (j < o->clients % o->threads);
		uint64_t quota = 0;
		for (uint32_t i = first; i < first + t->n_slots; i++) {
			slots[i].quota = o->txns / o->clients + (i < o->txns % o->clients);
			quota += slots[i].quota;
		}
		first += t->n_slots;
		TRY(bench_latencies_init(&t->latencies, quota));
	}
	assert(first == o->clients);
	for (uint32_t i = 0; i < o->clients; i++) {
		struct bench_slot *sl = &slots[i];
		sl->client.index = i;
		sl->client.sequence = &shared->sequence;
		prng_seed(&sl->client.prng, prng_subseed(o->seed, "bench-client", i));
		const char *host = o->hosts[i % o->n_hosts];
		TRY(err_wrap(net_client_connect_addr(host, 0, &sl->client.conn), "client %u", i));
	}
	return NULL;
}

static void bench__sleep_poll(void)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = BENCH_POLL_NS};
	nanosleep(&ts, NULL);
}

/* Waits for the threads, printing a progress line every second. */
static void bench__progress(const struct bench_options *o, struct bench_shared *shared,
                            uint64_t start_us)
{
	uint64_t last_us = start_us, last_done = 0;
	for (;;) {
		uint64_t done = atomic_load(&shared->done);
		if (done >= o->txns || atomic_load(&shared->stop))
			return;
		bench__sleep_poll();
		uint64_t now = bench_now_us();
		if (now - last_us < BENCH_PROGRESS_US)
			continue;
		done = atomic_load(&shared->done);
		fprintf(stderr, "%s: %6.1fs %10" PRIu64 " txns %9.0f txn/s (last second %.0f)\n",
		        shared->workload->name, (double)(now - start_us) / 1e6, done,
		        (double)done * 1e6 / (double)(now - start_us),
		        (double)(done - last_done) * 1e6 / (double)(now - last_us));
		last_us = now;
		last_done = done;
	}
}

static void bench__report(const struct bench_options *o, const struct bench_shared *shared,
                          struct bench_latencies *all, uint64_t elapsed_us)
{
	struct bench_summary s = bench_latencies_summary(all);
	double seconds = (double)elapsed_us / 1e6;
	double tps = seconds > 0 ? (double)s.count / seconds : 0;
	uint64_t retries = atomic_load(&shared->retries);
	const char *name = shared->workload->name;
	printf("%s: %zu txns, %u clients, %u hosts, %.2fs: %.0f txn/s; latency ms p50 %.2f "
	       "p90 %.2f p99 %.2f max %.2f; %" PRIu64 " retries\n",
	       name, s.count, o->clients, o->n_hosts, seconds, tps, (double)s.p50_us / 1e3,
	       (double)s.p90_us / 1e3, (double)s.p99_us / 1e3, (double)s.max_us / 1e3, retries);
	printf("result workload=%s clients=%u txns=%zu seconds=%.3f tps=%.1f p50_ms=%.3f "
	       "p90_ms=%.3f p99_ms=%.3f max_ms=%.3f retries=%" PRIu64 "\n",
	       name, o->clients, s.count, seconds, tps, (double)s.p50_us / 1e3,
	       (double)s.p90_us / 1e3, (double)s.p99_us / 1e3, (double)s.max_us / 1e3, retries);
	fflush(stdout);
}

/* Starts the threads, waits for them and merges what they measured. */
static err *bench__run(const struct bench_options *o, struct bench_shared *shared,
                       struct bench_thread *threads)
{
	uint64_t start = bench_now_us();
	err *e = NULL;
	for (uint32_t i = 0; i < o->threads && !e; i++) {
		if (pthread_create(&threads[i].thread, NULL, bench__thread, &threads[i]) != 0) {
			e = err_new(ERR_NOMEM, "bench: cannot start client thread %u", i);
			atomic_store(&shared->stop, true);
		} else {
			threads[i].started = true;
		}
	}
	if (!e)
		bench__progress(o, shared, start);
	/* the run ends with its last answer, not when the progress loop next looks */
	uint64_t end = start;
	for (uint32_t i = 0; i < o->threads; i++) {
		if (!threads[i].started)
			continue;
		pthread_join(threads[i].thread, NULL);
		if (threads[i].finished_us > end)
			end = threads[i].finished_us;
	}
	uint64_t elapsed = end - start;
	for (uint32_t i = 0; i < o->threads && !e; i++) {
		e = threads[i].failure;
		threads[i].failure = NULL;
	}
	if (e)
		return e;
	struct bench_latencies all;
	TRY(bench_latencies_init(&all, o->txns));
	for (uint32_t i = 0; i < o->threads && !e; i++)
		e = bench_latencies_merge(&all, &threads[i].latencies);
	if (!e)
		bench__report(o, shared, &all, elapsed);
	bench_latencies_free(&all);
	return e;
}

static err *bench__setup(const struct bench_workload *w, const struct bench_options *o)
{
	struct net_client *conn;
	TRY(err_wrap(net_client_connect_addr(o->hosts[0], 0, &conn), "setup"));
	struct prng prng;
	prng_seed(&prng, prng_subseed(o->seed, "bench-setup", 0));
	err *e = w->setup(conn, &prng);
	net_client_close(conn);
	return err_wrap(e, "%s setup", w->name);
}

/* A node's status over `conn`. */
static err *bench__status(struct net_client *conn, uint64_t *commit, uint64_t *applied)
{
	struct net_request req = {.kind = NET_REQ_STATUS};
	struct net_response resp;
	TRY(net_client_call(conn, &req, &resp));
	err *e = NULL;
	if (resp.kind == NET_RESP_STATUS) {
		*commit = resp.status.commit_index;
		*applied = resp.status.applied_index;
	} else {
		e = err_new(ERR_DECODE, "unexpected answer to status");
	}
	net_response_free(&resp);
	return e;
}

/*
 * Waits until every node has applied all that the setup wrote (the first node's commit
 * index after it), polling each node's status for at most BENCH_SETTLE_MS. Without it a
 * replica may still be applying the setup — the thousands of rows of a new table, the
 * deletion versions of a dropped one — while the timed run goes: this is cairn's
 * counterpart of the checkpoint that starts PostgreSQL's timed runs quiet.
 */
static err *bench__settle(const struct bench_options *o)
{
	uint64_t target = 0, applied;
	for (uint32_t h = 0; h < o->n_hosts; h++) {
		struct net_client *conn;
		TRY(err_wrap(net_client_connect_addr(o->hosts[h], 0, &conn), "settle"));
		uint64_t commit;
		err *e = bench__status(conn, &commit, &applied);
		if (!e && h == 0)
			target = commit;
		for (uint32_t waited = 0; !e && applied < target;
		     waited += BENCH_POLL_NS / 1000000) {
			if (waited >= BENCH_SETTLE_MS) {
				e = err_new(ERR_UNAVAILABLE,
				            "node %s applied %" PRIu64 " of %" PRIu64
				            " after %d ms",
				            o->hosts[h], applied, target, BENCH_SETTLE_MS);
				break;
			}
			bench__sleep_poll();
			e = bench__status(conn, &commit, &applied);
		}
		net_client_close(conn);
		if (e)
			return err_wrap(e, "waiting for the replicas to apply the setup");
	}
	return NULL;
}

static err *bench__check(const struct bench_workload *w, const struct bench_options *o)
{
	if (!w->check)
		return NULL;
	struct net_client *conn;
	TRY(err_wrap(net_client_connect_addr(o->hosts[0], 0, &conn), "check"));
	err *e = w->check(conn);
	net_client_close(conn);
	return err_wrap(e, "%s check", w->name);
}

int bench_cluster_main(const struct bench_workload *w, int argc, char **argv)
{
	struct bench_options o;
	err *e = bench__options(w, argc, argv, &o);
	if (e) {
		fprintf(stderr, "cairn-bench %s: %s\n", w->name, err_msg(e));
		bench__usage(stderr, w->name);
		err_free(e);
		return 2;
	}
	struct bench_shared shared = {.workload = w};
	struct bench_thread *threads = calloc(o.threads, sizeof *threads);
	struct bench_slot *slots = calloc(o.clients, sizeof *slots);
	if (!threads || !slots) {
		free(threads);
		free(slots);
		fprintf(stderr, "cairn-bench %s: out of memory\n", w->name);
		return 1;
	}
	e = bench__setup(w, &o);
	if (!e)
		e = bench__settle(&o);
	if (!e)
		e = bench__prepare(&o, &shared, slots, threads);
	if (!e)
		e = bench__run(&o, &shared, threads);
	if (!e)
		e = bench__check(w, &o);
	for (uint32_t i = 0; i < o.clients; i++)
		net_client_close(slots[i].client.conn);
	for (uint32_t i = 0; i < o.threads; i++) {
		bench_latencies_free(&threads[i].latencies);
		err_free(threads[i].failure);
	}
	free(slots);
	free(threads);
	if (e) {
		fprintf(stderr, "cairn-bench %s: %s\n", w->name, err_msg(e));
		err_free(e);
		return 1;
	}
	return 0;
}
