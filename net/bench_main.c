/*
 * bench_main.c — the cairn-bench program: benchmarks that print numbers.
 *
 *     cairn-bench storage [--engine cairn|sqlite] [--keys N] [--dir D] [--cache-mb M]
 *     cairn-bench read|write|bank [-H host:port,...] [-c CLIENTS] [-n TXNS] [--seed N]
 *     cairn-bench sql [--rows N] [--join-rows N] [--lookups N] [--repeat N]
 *     cairn-bench sync [--dir D] [-n SYNCS]
 *
 * Each workload is a subcommand implemented in its own file; this file only dispatches.
 * Benchmarks measure and print; they never assert on timings.
 */
#include <stdio.h>
#include <string.h>

#include "net/bench_cluster.h"

/* bench_storage.c: the storage engine benchmark; returns the exit status. */
int bench_storage_main(int argc, char **argv);
/* bench_sql.c: the SQL engine against SQLite; returns the exit status. */
int bench_sql_main(int argc, char **argv);
/* bench_sync.c: what one log sync costs on this disk; returns the exit status. */
int bench_sync_main(int argc, char **argv);

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: cairn-bench storage [--engine cairn|sqlite] [--keys N] [--dir D] "
	        "[--cache-mb M]\n"
	        "       cairn-bench read|write|bank [-H host:port,...] [-c CLIENTS] [-n TXNS] "
	        "[--seed N]\n"
	        "       cairn-bench sql [--rows N] [--join-rows N] [--lookups N] [--repeat N]\n"
	        "       cairn-bench sync [--dir D] [-n SYNCS]\n");
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "storage") == 0)
		return bench_storage_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "sql") == 0)
		return bench_sql_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "sync") == 0)
		return bench_sync_main(argc - 1, argv + 1);
	const struct bench_workload *workloads[] = {&bench_read_workload, &bench_write_workload,
	                                            &bench_bank_workload};
	for (size_t i = 0; argc >= 2 && i < sizeof workloads / sizeof workloads[0]; i++)
		if (strcmp(argv[1], workloads[i]->name) == 0)
			return bench_cluster_main(workloads[i], argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
