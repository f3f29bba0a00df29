/*
 * replay.c — running a recorded trace again and finding where it stops matching.
 *
 * A trace's header holds the whole configuration, and its last line says when the run
 * ended (steps and virtual microseconds). Replay parses the header, asks the caller to
 * build the same world (the same node ops, the same client steps: a run is a function of
 * header and code), runs it to that time and compares every line it produces with the
 * recorded one. The first difference stops the run and is reported with both lines; the
 * step number at its start says which event to look at, and the window (--node, --from,
 * --to in cairn-sim) prints the lines around it.
 *
 * Replay finds two kinds of news: nondeterminism (same code, same seed, a different
 * line), and behaviour changes (a recorded trace in traces/ that the current code no
 * longer reproduces).
 */
#include "sim/sim_internal.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Reads one line of at most SIM_TRACE_LINE_MAX bytes into buf (newline removed). */
static err *sim__read_line(FILE *f, char *buf, size_t cap, bool *got)
{
	assert(cap == SIM_TRACE_LINE_MAX + 2);
	*got = fgets(buf, (int)cap, f) != NULL;
	if (!*got)
		return ferror(f) ? err_new(ERR_IO, "sim: reading the trace failed") : NULL;
	size_t len = strcspn(buf, "\n");
	if (buf[len] != '\n' && !feof(f))
		return err_new(ERR_DECODE, "sim: a trace line is longer than %d bytes",
		               SIM_TRACE_LINE_MAX);
	buf[len] = '\0';
	return NULL;
}

/* Reads the header into cfg and the end time from the last line. */
static err *sim__replay_scan(FILE *f, char *buf, size_t cap, struct sim_config *cfg,
                             uint64_t *end_us)
{
	bool got = false;
	TRY(sim__read_line(f, buf, cap, &got));
	if (!got)
		return err_new(ERR_DECODE, "sim: the trace is empty");
	TRY(sim_trace_parse_header(buf, cfg));
	bool ended = false;
	for (;;) {
		TRY(sim__read_line(f, buf, cap, &got));
		if (!got)
			break;
		const char *end = strstr(buf, " w end steps=");
		unsigned long long steps = 0, t_us = 0;
		if (end && sscanf(end, " w end steps=%llu t_us=%llu", &steps, &t_us) == 2) {
			ended = true;
			*end_us = t_us;
		}
	}
	if (!ended)
		return err_new(ERR_DECODE,
		               "sim: the trace has no end line (was the run cut short?)");
	if (fseek(f, 0, SEEK_SET) != 0)
		return err_new(ERR_IO, "sim: rewinding the trace: %s", strerror(errno));
	return NULL;
}

static void sim__replay_verdict(const struct sim_replay_result *r, FILE *out)
{
	if (!out)
		return;
	if (r->identical) {
		fprintf(out, "replay: identical, %" PRIu64 " lines\n", r->lines);
		return;
	}
	fprintf(out, "replay: line %" PRIu64 " differs\n  expected: %s\n  actual:   %s\n",
	        r->differs_at, r->expected[0] ? r->expected : "(end of trace)",
	        r->actual[0] ? r->actual : "(end of run)");
}

/* Runs the built world against the recording in f. */
static void sim__replay_run(struct sim_world *w, FILE *f, const struct sim_replay_opts *opts,
                            struct sim_replay_result *result, uint64_t end_us)
{
	struct sim__trace *t = &w->trace;
	t->expect = f;
	t->result = result;
	if (opts->to_step) {
		t->window = opts->out;
		t->window_node = opts->node;
		t->window_from = opts->from_step;
		t->window_to = opts->to_step;
	}
	for (uint32_t id = 1; id <= w->cfg.nodes; id++)
		sim__host_update_log_level(sim__host(w, id));
	sim__trace_header(w);
	sim__run_until_us(w, end_us);
	if (!t->ended)
		err_free(sim_world_trace_end(w));
	result->lines = t->lines;
	if (!result->identical)
		return;
	/* The re-run ended; so must the recording. */
	const char *more = fgets(t->scratch, SIM_TRACE_LINE_MAX + 2, f);
	if (more) {
		t->scratch[strcspn(t->scratch, "\n")] = '\0';
		result->identical = false;
		result->differs_at = t->lines + 1;
		snprintf(result->expected, sizeof result->expected, "%s", t->scratch);
		result->actual[0] = '\0';
	}
}

err *sim_replay(const char *path, sim_build_fn build, void *ctx, const struct sim_replay_opts *opts,
                struct sim_replay_result *result)
{
	assert(path != NULL && build != NULL);
	assert(opts != NULL && result != NULL);
	*result = (struct sim_replay_result){.identical = true};
	FILE *f = fopen(path, "r");
	if (!f)
		return err_new(ERR_IO, "sim: cannot open trace %s: %s", path, strerror(errno));
	char *scratch = malloc(SIM_TRACE_LINE_MAX + 2);
	struct sim_world *w = NULL;
	struct sim_config cfg;
	uint64_t end_us = 0;
	err *e = scratch ? NULL : err_new(ERR_NOMEM, "sim: no memory to replay");
	if (!e)
		e = sim__replay_scan(f, scratch, SIM_TRACE_LINE_MAX + 2, &cfg, &end_us);
	if (!e)
		e = build(&cfg, ctx, &w);
	if (!e && (w->started || sim__tracing(w)))
		e = err_new(ERR_INVALID, "sim: the built world has already run or traced");
	if (e) {
		free(scratch);
		sim_world_free(w);
		fclose(f);
		return err_wrap(e, "replaying %s", path);
	}
	w->trace.scratch = scratch; /* the world frees it */
	sim__replay_run(w, f, opts, result, end_us);
	sim_world_free(w);
	fclose(f);
	sim__replay_verdict(result, opts->out);
	return NULL;
}
