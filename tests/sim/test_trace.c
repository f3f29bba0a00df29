/*
 * Tests for determinism, traces and replay: the same seed gives byte-identical traces, a
 * different seed does not; a recorded trace replays identically; a perturbed trace is
 * reported at its first differing line; the window prints one node's steps; the header
 * round-trips every configuration field.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "gossip_node.h"
#include "sim_test.h"

/* ---- the application replayed in these tests: gossip with a liveness phase ---- */

static void start_liveness(struct sim_world *w, void *ctx)
{
	(void)ctx;
	sim_liveness(w);
}

static void note_counters(struct sim_world *w, void *ctx)
{
	(void)ctx;
	for (uint32_t id = 1; id <= sim_world_config(w)->nodes; id++) {
		uint64_t applied, hash;
		if (sim_node_state(w, id, &applied, &hash))
			sim_note(w, id, "counter %llu", (unsigned long long)applied);
	}
}

static err *gossip_build(const struct sim_config *cfg, void *ctx, struct sim_world **out)
{
	struct gossip_app *app = ctx;
	gossip_app_init(app, cfg->nodes, true);
	TRY(sim_world_new(cfg, &gossip_ops, app, out));
	err *e = sim_schedule(*out, 3000, start_liveness, NULL);
	if (!e)
		e = sim_schedule(*out, 4000, note_counters, NULL);
	if (e) {
		sim_world_free(*out);
		*out = NULL;
	}
	return e;
}

static void swarm_config(struct sim_config *cfg, uint64_t seed)
{
	sim_config_default(cfg, seed, "gossip");
	sim_faults_swarm(seed, cfg->nodes, &cfg->faults);
	cfg->faults.crash_every_ms = 700; /* make every run eventful */
	cfg->faults.restart_max_ms = cfg->faults.restart_min_ms + 500;
	cfg->faults.down_max = 2;
	cfg->faults.loss = 0.05;
	cfg->trace_log_level = LOG_DEBUG;
}

/* Runs the app for `seed` to 5s and returns its trace (malloc'd, NUL-terminated). */
static char *record(uint64_t seed, size_t *len, uint64_t hashes[SIM_NODES_MAX + 1])
{
	struct sim_config cfg;
	swarm_config(&cfg, seed);
	struct gossip_app app;
	struct sim_world *w = NULL;
	OK(gossip_build(&cfg, &app, &w));
	char *text = NULL;
	FILE *out = open_memstream(&text, len);
	ck_assert_ptr_nonnull(out);
	OK(sim_world_trace(w, out));
	sim_test_expect(sim_world_trace(w, out), ERR_INVALID); /* only once */
	sim_test_run(w, 5000);
	OK(sim_world_trace_end(w));
	sim_test_expect(sim_world_trace_end(w), ERR_INVALID);
	for (uint32_t id = 1; hashes && id <= cfg.nodes; id++) {
		uint64_t applied;
		ck_assert(sim_node_state(w, id, &applied, &hashes[id]));
	}
	sim_world_free(w);
	fclose(out);
	return text;
}

START_TEST(the_same_seed_gives_the_same_trace)
{
	size_t len1, len2, len3;
	uint64_t h1[SIM_NODES_MAX + 1], h2[SIM_NODES_MAX + 1];
	char *a = record(42, &len1, h1);
	char *b = record(42, &len2, h2);
	char *c = record(43, &len3, NULL);
	ck_assert_uint_gt(len1, 10000);
	ck_assert_uint_eq(len1, len2);
	ck_assert(memcmp(a, b, len1) == 0);
	ck_assert(memcmp(h1 + 1, h2 + 1, sizeof(uint64_t) * 5) == 0);
	ck_assert(len1 != len3 || memcmp(a, c, len1) != 0);
	/* The trace shows what it promises. */
	ck_assert(strncmp(a, "cairn-sim-trace 1 app=gossip seed=42 nodes=5 ", 45) == 0);
	ck_assert_ptr_nonnull(strstr(a, " n1 start incarnation=1\n"));
	ck_assert_ptr_nonnull(strstr(a, " recv from=n"));
	ck_assert_ptr_nonnull(strstr(a, " gossip 1\n")); /* sim_node_ops.describe */
	ck_assert_ptr_nonnull(strstr(a, "   send to=n"));
	ck_assert_ptr_nonnull(strstr(a, "   timer-set id=1 "));
	ck_assert_ptr_nonnull(strstr(a, " crash (fault)\n"));
	ck_assert_ptr_nonnull(strstr(a, " w liveness\n"));
	ck_assert_ptr_nonnull(strstr(a, " busy message from=n")); /* disk latency */
	ck_assert_ptr_nonnull(strstr(a, "   log "));
	ck_assert_ptr_nonnull(strstr(a, " note counter "));
	ck_assert_ptr_nonnull(strstr(a, " w end steps="));
	free(a);
	free(b);
	free(c);
}
END_TEST

START_TEST(many_swarm_seeds_are_deterministic)
{
	for (uint64_t seed = 100; seed < 130; seed++) {
		size_t len1, len2;
		char *a = record(seed, &len1, NULL); /* a failed run fails the test */
		char *b = record(seed, &len2, NULL);
		ck_assert_msg(len1 == len2 && memcmp(a, b, len1) == 0, "seed %llu differs",
		              (unsigned long long)seed);
		free(a);
		free(b);
	}
}
END_TEST

START_TEST(tracing_does_not_change_the_run)
{
	uint64_t traced[SIM_NODES_MAX + 1];
	size_t len;
	free(record(44, &len, traced));
	struct sim_config cfg;
	swarm_config(&cfg, 44);
	struct gossip_app app;
	struct sim_world *w = NULL;
	OK(gossip_build(&cfg, &app, &w));
	sim_test_run(w, 5000);
	for (uint32_t id = 1; id <= cfg.nodes; id++) {
		uint64_t applied, hash;
		ck_assert(sim_node_state(w, id, &applied, &hash));
		ck_assert_uint_eq(hash, traced[id]);
	}
	sim_world_free(w);
}
END_TEST

START_TEST(the_workload_seed_ignores_fault_rates)
{
	struct sim_config a, b;
	swarm_config(&a, 9);
	sim_config_default(&b, 9, "other");
	ck_assert_uint_eq(sim_workload_seed(&a, 0), sim_workload_seed(&b, 0));
	ck_assert_uint_ne(sim_workload_seed(&a, 0), sim_workload_seed(&a, 1));
}
END_TEST

/* Writes `text` to a fresh temporary file and returns its path (static buffer per slot). */
static const char *temp_file(const char *text, size_t len, int slot)
{
	static char paths[3][64];
	snprintf(paths[slot], sizeof paths[slot], "/tmp/cairn-sim-trace-XXXXXX");
	int fd = mkstemp(paths[slot]);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return paths[slot];
}

static uint64_t count_lines(const char *text)
{
	uint64_t lines = 0;
	for (const char *c = text; *c; c++)
		lines += *c == '\n';
	return lines;
}

START_TEST(a_recorded_trace_replays_identically)
{
	size_t len;
	char *text = record(45, &len, NULL);
	const char *path = temp_file(text, len, 0);
	struct gossip_app app;
	struct sim_replay_result result;
	char *verdict = NULL;
	size_t verdict_len;
	FILE *out = open_memstream(&verdict, &verdict_len);
	struct sim_replay_opts opts = {.out = out};
	OK(sim_replay(path, gossip_build, &app, &opts, &result));
	fclose(out);
	ck_assert(result.identical);
	ck_assert_uint_eq(result.differs_at, 0);
	ck_assert_uint_eq(result.lines, count_lines(text));
	ck_assert_ptr_nonnull(strstr(verdict, "replay: identical"));
	unlink(path);
	free(verdict);
	free(text);
}
END_TEST

/* Returns a copy of text with one character of line `line` (1-based) changed. */
static char *perturb(const char *text, uint64_t line, char **changed_line)
{
	char *copy = strdup(text);
	char *at = copy;
	for (uint64_t i = 1; i < line; i++)
		at = strchr(at, '\n') + 1;
	char *end = strchr(at, '\n');
	end[-1] = end[-1] == '0' ? '1' : '0';
	*changed_line = strndup(at, (size_t)(end - at));
	return copy;
}

START_TEST(a_perturbed_trace_reports_its_first_difference)
{
	size_t len;
	char *text = record(46, &len, NULL);
	char *changed = NULL;
	char *bad = perturb(text, 500, &changed);
	char *line500 = text;
	for (int i = 1; i < 500; i++)
		line500 = strchr(line500, '\n') + 1;
	char *expected_actual = strndup(line500, strcspn(line500, "\n"));
	const char *path = temp_file(bad, len, 1);
	struct gossip_app app;
	struct sim_replay_result result;
	char *verdict = NULL;
	size_t verdict_len;
	FILE *out = open_memstream(&verdict, &verdict_len);
	struct sim_replay_opts opts = {.out = out};
	OK(sim_replay(path, gossip_build, &app, &opts, &result));
	fclose(out);
	ck_assert(!result.identical);
	ck_assert_uint_eq(result.differs_at, 500);
	ck_assert_str_eq(result.expected, changed);
	ck_assert_str_eq(result.actual, expected_actual);
	ck_assert_ptr_nonnull(strstr(verdict, "replay: line 500 differs"));
	ck_assert_ptr_nonnull(strstr(verdict, changed));
	unlink(path);
	free(verdict);
	free(expected_actual);
	free(changed);
	free(bad);
	free(text);
}
END_TEST

START_TEST(a_cut_or_foreign_trace_is_an_error)
{
	size_t len;
	char *text = record(47, &len, NULL);
	/* Without its last line (the end line) the trace cannot say when to stop. */
	size_t cut = len - 1;
	while (cut > 0 && text[cut - 1] != '\n')
		cut--;
	const char *path = temp_file(text, cut, 2);
	struct gossip_app app;
	struct sim_replay_result result;
	struct sim_replay_opts opts = {0};
	sim_test_expect(sim_replay(path, gossip_build, &app, &opts, &result), ERR_DECODE);
	unlink(path);
	path = temp_file("hello\n", 6, 2);
	sim_test_expect(sim_replay(path, gossip_build, &app, &opts, &result), ERR_DECODE);
	unlink(path);
	sim_test_expect(sim_replay("/nonexistent/trace", gossip_build, &app, &opts, &result),
	                ERR_IO);
	/* A trace with a line more than the re-run makes differs after the end line. */
	char *longer = malloc(len + 16);
	memcpy(longer, text, len);
	memcpy(longer + len, "extra line\n", 12);
	path = temp_file(longer, len + 11, 2);
	OK(sim_replay(path, gossip_build, &app, &opts, &result));
	ck_assert(!result.identical);
	ck_assert_uint_eq(result.differs_at, count_lines(text) + 1);
	ck_assert_str_eq(result.expected, "extra line");
	ck_assert_str_eq(result.actual, "");
	unlink(path);
	free(longer);
	free(text);
}
END_TEST

START_TEST(the_window_shows_one_node_between_two_steps)
{
	size_t len;
	char *text = record(48, &len, NULL);
	const char *path = temp_file(text, len, 0);
	struct gossip_app app;
	struct sim_replay_result result;
	char *shown = NULL;
	size_t shown_len;
	FILE *out = open_memstream(&shown, &shown_len);
	struct sim_replay_opts opts = {.out = out, .node = 2, .from_step = 100, .to_step = 300};
	OK(sim_replay(path, gossip_build, &app, &opts, &result));
	fclose(out);
	ck_assert(result.identical);
	int lines = 0;
	for (char *line = shown; *line; line = strchr(line, '\n') + 1) {
		unsigned long long step;
		char time[32], who[8];
		if (strncmp(line, "replay:", 7) == 0)
			break;
		ck_assert_int_eq(sscanf(line, "%llu %31s %7s", &step, time, who), 3);
		ck_assert(step >= 100 && step <= 300);
		ck_assert_str_eq(who, "n2");
		lines++;
	}
	ck_assert_int_gt(lines, 20);
	unlink(path);
	free(shown);
	free(text);
}
END_TEST

/* Declares node 3 synced beyond its counter and restarts it: its create fails the run. */
static void sabotage(struct sim_world *w, void *ctx)
{
	struct gossip_app *app = ctx;
	sim_crash(w, 3);
	app->synced[3] = 1u << 30;
	sim_restart(w, 3);
}

static err *failing_build(const struct sim_config *cfg, void *ctx, struct sim_world **out)
{
	TRY(gossip_build(cfg, ctx, out));
	return sim_schedule(*out, 1000, sabotage, ctx);
}

START_TEST(a_failing_run_replays_to_its_failure)
{
	struct sim_config cfg;
	swarm_config(&cfg, 49);
	struct gossip_app app;
	struct sim_world *w = NULL;
	OK(failing_build(&cfg, &app, &w));
	char *text = NULL;
	size_t len;
	FILE *out = open_memstream(&text, &len);
	OK(sim_world_trace(w, out));
	const err *e = sim_run_until(w, 5000);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(err_code(e), ERR_INTERNAL);
	ck_assert_uint_eq(sim_now_ms(w), 1000);
	OK(sim_world_trace_end(w));
	sim_world_free(w);
	fclose(out);
	ck_assert_ptr_nonnull(strstr(text, " w fail internal: sim: node 3 could not start"));
	const char *path = temp_file(text, len, 0);
	struct sim_replay_result result;
	struct sim_replay_opts opts = {0};
	OK(sim_replay(path, failing_build, &app, &opts, &result));
	ck_assert(result.identical);
	ck_assert_uint_eq(result.lines, count_lines(text));
	unlink(path);
	free(text);
}
END_TEST

START_TEST(the_header_round_trips_every_field)
{
	for (uint64_t seed = 1; seed <= 50; seed++) {
		struct sim_config cfg, parsed;
		swarm_config(&cfg, seed * 7919);
		cfg.nodes = 1 + seed % 7;
		sim_faults_swarm(seed, cfg.nodes, &cfg.faults);
		cfg.disk.capacity_bytes = seed << 20;
		struct sim_world *w = NULL;
		struct gossip_app app;
		OK(gossip_build(&cfg, &app, &w));
		char *text = NULL;
		size_t len;
		FILE *out = open_memstream(&text, &len);
		OK(sim_world_trace(w, out));
		fclose(out);
		sim_world_free(w);
		OK(sim_trace_parse_header(text, &parsed));
		ck_assert(memcmp(&parsed.faults, &cfg.faults, sizeof cfg.faults) == 0);
		ck_assert(memcmp(&parsed.net, &cfg.net, sizeof cfg.net) == 0);
		ck_assert(memcmp(&parsed.disk, &cfg.disk, sizeof cfg.disk) == 0);
		ck_assert_uint_eq(parsed.seed, cfg.seed);
		ck_assert_uint_eq(parsed.nodes, cfg.nodes);
		ck_assert_str_eq(parsed.app, "gossip");
		ck_assert_int_eq(parsed.trace_log_level, LOG_DEBUG);
		free(text);
	}
	struct sim_config cfg;
	sim_test_expect(sim_trace_parse_header("cairn-sim-trace 2 app=x", &cfg), ERR_DECODE);
	sim_test_expect(sim_trace_parse_header("other 1 app=x", &cfg), ERR_DECODE);
	sim_test_expect(sim_trace_parse_header("cairn-sim-trace 1 app=x bogus=1", &cfg),
	                ERR_DECODE);
	sim_test_expect(sim_trace_parse_header("cairn-sim-trace 1 app=x nodes=-1", &cfg),
	                ERR_DECODE);
	sim_test_expect(sim_trace_parse_header("cairn-sim-trace 1 app=x nodes=5x", &cfg),
	                ERR_DECODE);
	sim_test_expect(sim_trace_parse_header("cairn-sim-trace 1 app=x faults.loss=0.5.1", &cfg),
	                ERR_DECODE);
	sim_test_expect(sim_trace_parse_header("cairn-sim-trace 1 app=x nodes", &cfg), ERR_DECODE);
	sim_test_expect(sim_trace_parse_header("cairn-sim-trace 1 app=x nodes=99", &cfg),
	                ERR_INVALID);
	OK(sim_trace_parse_header("cairn-sim-trace 1 app=x nodes=3 faults.loss=0.25", &cfg));
	ck_assert_uint_eq(cfg.nodes, 3);
	ck_assert(cfg.faults.loss == 0.25);
}
END_TEST

static Suite *trace_suite(void)
{
	Suite *s = suite_create("sim_trace");
	TCase *tc = tcase_create("trace");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, the_same_seed_gives_the_same_trace);
	tcase_add_test(tc, many_swarm_seeds_are_deterministic);
	tcase_add_test(tc, tracing_does_not_change_the_run);
	tcase_add_test(tc, the_workload_seed_ignores_fault_rates);
	tcase_add_test(tc, a_recorded_trace_replays_identically);
	tcase_add_test(tc, a_perturbed_trace_reports_its_first_difference);
	tcase_add_test(tc, a_cut_or_foreign_trace_is_an_error);
	tcase_add_test(tc, the_window_shows_one_node_between_two_steps);
	tcase_add_test(tc, a_failing_run_replays_to_its_failure);
	tcase_add_test(tc, the_header_round_trips_every_field);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(trace_suite());
}
