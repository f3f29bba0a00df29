/*
 * cairn_sim.c — the cairn-sim program: run one seed, sweep many, replay a trace.
 *
 *   cairn-sim run --seed N [--nodes 5] [--time 60s] [--workload bank|register|append|groups|mix]
 *                 [--faults all|none|LIST] [--trace FILE] [--mutation NAME]
 *                 [--op-timeout 10s] (a client gives up on an answer after this long)
 *                 [--history N] (the nodes' MVCC validation window, in records)
 *   cairn-sim sweep --seeds A..B [the same options but --seed and --trace]
 *   cairn-sim replay FILE [--node N] [--from STEP] [--to STEP]
 *
 * Exit status: 0 when every run passed (or the replay matched), 1 when a check failed,
 * 2 for a usage error.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/mutation.h"
#include "base/number.h"
#include "sim/run.h"
#include "sim/workload.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: cairn-sim run [--seed 1] [--nodes 5] [--time 10s] "
	    "[--workload bank|register|append|groups|mix]\n"
	    "                     [--faults all|none|LIST] [--trace FILE] [--mutation NAME]\n"
	    "                     [--scenario leader-crash|minority-leader|clogged-leader|figure-8]\n"
	    "                     [--op-timeout 10s] [--history RECORDS]\n"
	    "       cairn-sim sweep --seeds A..B [--expect-failure] [options as for run]\n"
	    "       cairn-sim replay FILE [--node N] [--from STEP] [--to STEP]\n"
	    "fault kinds for LIST: net,partition,clog,disk,crash,pause,clock\n"
	    "mutations (built with -Dmutations=true): raft-commit-any-term, "
	    "mvcc-skip-validation, node-ack-before-sync, node-reapply\n");
}

/* Parses a whole number (base/number.h's rule) from min to max; false on anything else. */
static bool parse_range(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	err *e = number_parse_range(s, min, max, out);
	err_free(e);
	return e == NULL;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	return parse_range(s, 0, UINT64_MAX, out);
}

/* "60s", "500ms" or "60" (seconds), at most a day, into milliseconds. */
static bool parse_duration_ms(const char *s, uint64_t *ms)
{
	const uint64_t day_ms = 24ull * 3600 * 1000;
	size_t digits = strspn(s, "0123456789");
	char number[24];
	if (digits >= sizeof number)
		return false;
	memcpy(number, s, digits);
	number[digits] = '\0';
	const char *unit = s + digits;
	uint64_t scale = strcmp(unit, "ms") == 0                   ? 1
	                 : strcmp(unit, "s") == 0 || *unit == '\0' ? 1000
	                                                           : 0;
	uint64_t v;
	if (scale == 0 || !parse_range(number, 1, day_ms / scale, &v))
		return false;
	*ms = v * scale;
	return true;
}

struct cli {
	struct sim_run_options run;
	const char *trace;
	uint64_t seed_lo, seed_hi;
	bool seeds_given;
	bool expect_failure; /* sweep: stop at the first failing seed; success means one failed */
};

/* What option `opt` of run and sweep takes, for the message when its value is refused. */
static const char *option_expects(const char *opt)
{
	static_assert(SIM_HISTORY_ENTRIES_MAX == 1u << 20, "--history's message names 2^20");
	static const struct {
		const char *opt, *expects;
	} table[] = {
	    {"--seed", "a number"},
	    {"--seeds", "A..B, numbers with A <= B"},
	    {"--nodes", "a number from 1 to 9"},
	    {"--time", "a duration of up to a day, such as 30s or 500ms"},
	    {"--op-timeout", "a duration of up to a day, such as 10s or 15ms"},
	    {"--history", "a number of records from 1 to 2^20"},
	    {"--workload", "bank, register, append, groups or mix"},
	    {"--faults", "all, none or a list of net,partition,clog,disk,crash,pause,clock"},
	    {"--scenario", "leader-crash, minority-leader, clogged-leader or figure-8"},
	};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (strcmp(opt, table[i].opt) == 0)
			return table[i].expects;
	return NULL;
}

/* Parses the options shared by run and sweep; returns false (after a message) on error. */
static bool parse_run_options(int argc, char **argv, struct cli *c)
{
	for (int i = 0; i < argc; i++) {
		const char *opt = argv[i];
		if (strcmp(opt, "--expect-failure") == 0) {
			c->expect_failure = true;
			continue;
		}
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!val) {
			fprintf(stderr, "cairn-sim: %s needs a value\n", opt);
			return false;
		}
		i++;
		uint64_t n;
		if (strcmp(opt, "--seed") == 0 && parse_u64(val, &n)) {
			c->run.seed = n;
		} else if (strcmp(opt, "--seeds") == 0) {
			const char *dots = strstr(val, "..");
			char lo[32];
			if (!dots || (size_t)(dots - val) >= sizeof lo)
				goto bad;
			memcpy(lo, val, (size_t)(dots - val));
			lo[dots - val] = '\0';
			if (!parse_u64(lo, &c->seed_lo) || !parse_u64(dots + 2, &c->seed_hi) ||
			    c->seed_hi < c->seed_lo)
				goto bad;
			c->seeds_given = true;
		} else if (strcmp(opt, "--nodes") == 0 && parse_range(val, 1, 9, &n)) {
			c->run.nodes = (uint32_t)n;
		} else if (strcmp(opt, "--time") == 0 && parse_duration_ms(val, &n)) {
			c->run.time_ms = n;
		} else if (strcmp(opt, "--op-timeout") == 0 && parse_duration_ms(val, &n) &&
		           n >= 1 && n <= UINT32_MAX) {
			c->run.op_timeout_ms = (uint32_t)n;
		} else if (strcmp(opt, "--history") == 0 &&
		           parse_range(val, 1, SIM_HISTORY_ENTRIES_MAX, &n)) {
			c->run.history_entries = (uint32_t)n;
		} else if (strcmp(opt, "--workload") == 0 && sim_wl_parse(val)) {
			c->run.workloads = sim_wl_parse(val);
		} else if (strcmp(opt, "--faults") == 0 && strlen(val) < sizeof c->run.faults) {
			snprintf(c->run.faults, sizeof c->run.faults, "%s", val);
		} else if (strcmp(opt, "--scenario") == 0 &&
		           sim_scenario_parse(val, &c->run.scenario)) {
			continue;
		} else if (strcmp(opt, "--trace") == 0) {
			c->trace = val;
		} else if (strcmp(opt, "--mutation") == 0) {
			enum mutation m;
			err *e = mutation_parse(val, &m);
			if (!e)
				e = mutation_select(m);
			if (e) {
				fprintf(stderr, "cairn-sim: %s\n", err_msg(e));
				err_free(e);
				return false;
			}
			mutation_select(MUTATION_NONE); /* each run selects it again */
			c->run.mutation = m;
		} else {
			goto bad;
		}
		continue;
	bad:
		if (option_expects(opt))
			fprintf(stderr, "cairn-sim: %s: expected %s, not '%s'\n", opt,
			        option_expects(opt), val);
		else
			fprintf(stderr, "cairn-sim: unknown option %s\n", opt);
		return false;
	}
	return true;
}

static int cmd_run(struct cli *c)
{
	FILE *trace = NULL;
	if (c->trace) {
		trace = fopen(c->trace, "w");
		if (!trace) {
			fprintf(stderr, "cairn-sim: cannot write %s\n", c->trace);
			return 2;
		}
	}
	struct sim_run_result r;
	err *e = sim_run(&c->run, trace, stdout, &r);
	if (trace)
		fclose(trace);
	if (e) {
		fprintf(stderr, "cairn-sim: %s\n", err_msg(e));
		err_free(e);
		return 2;
	}
	double wall_s = r.wall_ns / 1e9;
	if (wall_s > 0)
		printf("  speed: %.1f simulated seconds per wall second, %.0f events per second\n",
		       r.sim_ms / 1000.0 / wall_s, r.steps / wall_s);
	return r.passed ? 0 : 1;
}

static int cmd_sweep(struct cli *c)
{
	if (!c->seeds_given) {
		fprintf(stderr, "cairn-sim: sweep needs --seeds A..B\n");
		return 2;
	}
	uint64_t passed = 0, failed = 0;
	uint64_t failing[64];
	uint32_t n_failing = 0;
	for (uint64_t seed = c->seed_lo; seed <= c->seed_hi; seed++) {
		c->run.seed = seed;
		struct sim_run_result r;
		err *e = sim_run(&c->run, NULL, NULL, &r);
		if (e) {
			fprintf(stderr, "cairn-sim: %s\n", err_msg(e));
			err_free(e);
			return 2;
		}
		if (r.passed) {
			passed++;
		} else {
			failed++;
			if (n_failing < 64)
				failing[n_failing++] = seed;
			printf("seed %" PRIu64 " FAILED: %s\n", seed, r.failure);
		}
		printf("[%" PRIu64 "/%" PRIu64 "] seed %" PRIu64 " %s, %.1fs simulated in %.2fs\n",
		       seed - c->seed_lo + 1, c->seed_hi - c->seed_lo + 1, seed,
		       r.passed ? "passed" : "FAILED", r.sim_ms / 1000.0, r.wall_ns / 1e9);
		fflush(stdout);
		if (c->expect_failure && !r.passed) {
			printf("caught after %" PRIu64 " seeds\n", seed - c->seed_lo + 1);
			return 0;
		}
		if (seed == UINT64_MAX)
			break;
	}
	if (n_failing) {
		printf("failing seeds:");
		for (uint32_t i = 0; i < n_failing; i++)
			printf(" %" PRIu64, failing[i]);
		printf("\n");
	}
	printf("%" PRIu64 " seeds: %" PRIu64 " passed, %" PRIu64 " failed\n", passed + failed,
	       passed, failed);
	if (c->expect_failure) {
		printf("not caught: every seed passed\n");
		return 1;
	}
	return failed ? 1 : 0;
}

static int cmd_replay(int argc, char **argv)
{
	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	struct sim_replay_opts opts = {.out = stdout};
	for (int i = 1; i < argc; i += 2) {
		uint64_t n;
		if (i + 1 >= argc || !parse_u64(argv[i + 1], &n)) {
			fprintf(stderr, "cairn-sim: bad option %s\n", argv[i]);
			return 2;
		}
		if (strcmp(argv[i], "--node") == 0)
			opts.node = (uint32_t)n;
		else if (strcmp(argv[i], "--from") == 0)
			opts.from_step = n;
		else if (strcmp(argv[i], "--to") == 0)
			opts.to_step = n;
		else {
			fprintf(stderr, "cairn-sim: bad option %s\n", argv[i]);
			return 2;
		}
	}
	if ((opts.node || opts.from_step) && !opts.to_step)
		opts.to_step = UINT64_MAX;
	struct sim_replay_result r;
	err *e = sim_run_replay(argv[0], &opts, &r);
	if (e) {
		fprintf(stderr, "cairn-sim: %s\n", err_msg(e));
		err_free(e);
		return 2;
	}
	return r.identical ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "replay") == 0)
		return cmd_replay(argc - 2, argv + 2);
	struct cli c = {0};
	sim_run_options_default(&c.run);
	if (strcmp(argv[1], "run") != 0 && strcmp(argv[1], "sweep") != 0) {
		usage(stderr);
		return 2;
	}
	if (!parse_run_options(argc - 2, argv + 2, &c))
		return 2;
	return strcmp(argv[1], "run") == 0 ? cmd_run(&c) : cmd_sweep(&c);
}
