/*
 * bench_main.c — the cairn-bench program: benchmarks that print numbers.
 *
 *     cairn-bench storage [--engine cairn|sqlite] [--keys N] [--dir D] [--cache-mb M]
 *
 * Each workload is a subcommand implemented in its own file; this file only dispatches.
 * Benchmarks measure and print; they never assert on timings.
 */
#include <stdio.h>
#include <string.h>

/* bench_storage.c: the storage engine benchmark; returns the exit status. */
int bench_storage_main(int argc, char **argv);

static void usage(FILE *out)
{
	fprintf(out, "usage: cairn-bench storage [--engine cairn|sqlite] [--keys N] [--dir D] "
	             "[--cache-mb M]\n");
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "storage") == 0)
		return bench_storage_main(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
