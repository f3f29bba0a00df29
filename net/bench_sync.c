/*
 * bench_sync.c — `cairn-bench sync`: what one log sync costs on this machine's disk.
 *
 *     cairn-bench sync [--dir D] [-n SYNCS]
 *
 * Writes SYNCS blocks (default 5,000) of VFS_DIRECT_BLOCK bytes, one at a time, into a
 * file in D (default: the current directory), and makes each durable the way a node makes
 * its Raft log durable: the file is opened VFS_DIRECT, so the write is held until the sync,
 * which goes to the kernel as one direct write with RWF_DSYNC through Linux AIO
 * (storage/vfs_posix.h) and is waited for on its eventfd. The blocks cycle through a
 * region written and synced before the timing starts, so no sync changes the file's size
 * (the log's segments are zeroed ahead for the same reason). The file is removed after;
 * one already there (someone else's, or a killed probe's) is left alone and refused.
 *
 * The report, like the cluster workloads', is one human line and one line for scripts:
 *
 *     sync: 5000 syncs in 0.470 s: 10638 syncs/s; latency us p50 86 p90 104 p99 160 ...
 *     result workload=sync syncs=5000 seconds=0.470 syncs_per_s=10638.3 p50_us=86
 *            p90_us=104 p99_us=160 max_us=410 cpu_us=37.2 route=aio
 *
 * cpu_us is the machine's busy CPU time over the run (/proc/stat: user, nice, system, irq
 * and softirq of every CPU) per sync: the submission, the device write and its flush,
 * their interrupts and the kernel's completion work, wherever they ran, and whatever else
 * the machine did meanwhile (on a busy machine it is an upper bound; -1 where /proc/stat
 * cannot be read). /proc/stat counts in clock ticks (USER_HZ, 100 a second here), so the
 * figure is coarse below some thousands of syncs. route is "aio" when the kernel took
 * every sync as a direct write, and "fallback" when some had to go the ordinary way (a
 * file system without O_DIRECT, or a kernel without AIO).
 * Errors print a message and exit 1; bad options exit 2.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/number.h"
#include "net/bench_stats.h"
#include "storage/vfs_posix.h"

#define BENCH_SYNC_DEFAULT 5000
#define BENCH_SYNC_MAX 10000000
/* Blocks the syncs cycle through (1 MiB). */
#define BENCH_SYNC_BLOCKS 256
#define BENCH_SYNC_FILE "cairn-bench-sync.dat"

int bench_sync_main(int argc, char **argv);

/* The machine's busy CPU time so far in clock ticks; false where /proc/stat is unreadable. */
static bool bench__busy_ticks(uint64_t *ticks)
{
	FILE *f = fopen("/proc/stat", "r");
	if (!f)
		return false;
	unsigned long long user, nice, system, idle, iowait, irq, softirq;
	int got = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system, &idle,
	                 &iowait, &irq, &softirq);
	fclose(f);
	if (got != 7)
		return false;
	*ticks = user + nice + system + irq + softirq;
	return true;
}

/* Waits for the sync in flight on `aio` to end (its eventfd first, as a node's loop does). */
static err *bench__sync_wait(struct vfs_posix_aio *aio, int notify_fd)
{
	for (;;) {
		struct pollfd p = {.fd = notify_fd, .events = POLLIN};
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return err_new(ERR_IO, "poll: %s", strerror(errno));
		uint64_t count;
		ssize_t got = read(notify_fd, &count, sizeof count);
		(void)got; /* EAGAIN: woken without a count; the sync's state is what counts */
		err *result;
		if (vfs_posix_aio_sync_end(aio, false, &result))
			return result;
	}
}

/*
 * Writes and syncs `syncs` blocks of `f` one at a time, recording each one's latency;
 * *fallbacks counts the syncs the kernel did not take as direct writes.
 */
static err *bench__sync_run(struct vfs_file *f, struct vfs_posix_aio *aio, int notify_fd,
                            uint64_t syncs, struct bench_latencies *lat, uint64_t *fallbacks)
{
	uint8_t block[VFS_DIRECT_BLOCK] = {0};
	*fallbacks = 0;
	for (uint64_t i = 0; i < syncs; i++) {
		memcpy(block, &i, sizeof i); /* every write changes the block */
		TRY(vfs_write(f, (i % BENCH_SYNC_BLOCKS) * VFS_DIRECT_BLOCK, block, sizeof block));
		uint64_t start = bench_now_us();
		if (aio && vfs_posix_aio_sync_start(aio, f)) {
			TRY(bench__sync_wait(aio, notify_fd));
		} else {
			++*fallbacks;
			TRY(vfs_sync(f));
		}
		bench_latencies_add(lat, bench_now_us() - start);
	}
	return NULL;
}

/* Prepares the file and the AIO context, runs, reports; returns the exit status. */
static int bench__sync(const char *dir, uint64_t syncs)
{
	struct vfs *vfs = NULL;
	struct vfs_file *f = NULL;
	struct vfs_posix_aio *aio = NULL;
	struct bench_latencies lat = {0};
	int notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	err *e = notify_fd < 0 ? err_new(ERR_IO, "eventfd: %s", strerror(errno)) : NULL;
	if (!e)
		e = vfs_posix_new(dir, &vfs);
	if (!e) { /* never over a file of someone else's (or a killed probe's) */
		e = vfs_open(vfs, BENCH_SYNC_FILE, 0, &f);
		if (!e) {
			vfs_close(f);
			f = NULL;
			e = err_new(ERR_INVALID, "%s exists; remove it or choose another --dir",
			            BENCH_SYNC_FILE);
		} else if (err_code(e) == ERR_NOT_FOUND) {
			err_free(e);
			e = vfs_open(vfs, BENCH_SYNC_FILE, VFS_CREATE | VFS_DIRECT, &f);
		}
	}
	static const uint8_t zeros[VFS_DIRECT_BLOCK];
	for (uint64_t b = 0; !e && b < BENCH_SYNC_BLOCKS; b++)
		e = vfs_write(f, b * VFS_DIRECT_BLOCK, zeros, sizeof zeros);
	if (!e)
		e = vfs_sync(f);
	if (!e) {
		err *no_aio = vfs_posix_aio_new(notify_fd, &aio);
		err_free(no_aio); /* then every sync takes the fallback, as a node's would */
	}
	if (!e)
		e = bench_latencies_init(&lat, syncs);
	uint64_t busy0 = 0, busy1 = 0, fallbacks = 0;
	bool have_cpu = bench__busy_ticks(&busy0);
	uint64_t t0 = bench_now_us();
	if (!e)
		e = bench__sync_run(f, aio, notify_fd, syncs, &lat, &fallbacks);
	uint64_t t1 = bench_now_us();
	have_cpu = bench__busy_ticks(&busy1) && have_cpu;
	vfs_posix_aio_free(aio);
	if (f) {
		vfs_close(f);
		err_free(vfs_remove(vfs, BENCH_SYNC_FILE));
	}
	vfs_posix_free(vfs);
	if (notify_fd >= 0)
		close(notify_fd);
	if (e) {
		fprintf(stderr, "cairn-bench sync: %s: %s\n", dir, err_msg(e));
		err_free(e);
		bench_latencies_free(&lat);
		return 1;
	}
	struct bench_summary s = bench_latencies_summary(&lat);
	bench_latencies_free(&lat);
	double seconds = (double)(t1 - t0) / 1e6;
	long hz = sysconf(_SC_CLK_TCK);
	double cpu_us =
	    have_cpu && hz > 0 ? (double)(busy1 - busy0) * 1e6 / (double)hz / (double)syncs : -1;
	const char *route = fallbacks ? "fallback" : "aio";
	printf("sync: %" PRIu64 " syncs in %.3f s: %.0f syncs/s; latency us p50 %" PRIu64
	       " p90 %" PRIu64 " p99 %" PRIu64 " max %" PRIu64 "; %.1f us of machine CPU each "
	       "(%s)\n",
	       syncs, seconds, (double)syncs / seconds, s.p50_us, s.p90_us, s.p99_us, s.max_us,
	       cpu_us, route);
	printf("result workload=sync syncs=%" PRIu64
	       " seconds=%.3f syncs_per_s=%.1f p50_us=%" PRIu64 " p90_us=%" PRIu64
	       " p99_us=%" PRIu64 " max_us=%" PRIu64 " cpu_us=%.1f route=%s\n",
	       syncs, seconds, (double)syncs / seconds, s.p50_us, s.p90_us, s.p99_us, s.max_us,
	       cpu_us, route);
	return 0;
}

int bench_sync_main(int argc, char **argv)
{
	const char *dir = ".";
	uint64_t syncs = BENCH_SYNC_DEFAULT;
	for (int i = 1; i < argc; i += 2) {
		const char *flag = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (val && strcmp(flag, "--dir") == 0) {
			dir = val;
			continue;
		}
		err *e = NULL;
		if (val && strcmp(flag, "-n") == 0) {
			e = number_parse_range(val, 1, BENCH_SYNC_MAX, &syncs);
			if (!e)
				continue;
		}
		fprintf(stderr,
		        "usage: cairn-bench sync [--dir D] [-n SYNCS]\n"
		        "  --dir  where to write the probe's file (default: here)\n"
		        "  -n     syncs, 1 to %d (default %d)%s%s\n",
		        BENCH_SYNC_MAX, BENCH_SYNC_DEFAULT, e ? "; " : "", e ? err_msg(e) : "");
		err_free(e);
		return 2;
	}
	return bench__sync(dir, syncs);
}
