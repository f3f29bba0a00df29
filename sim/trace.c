/*
 * trace.c — what a run did, one line at a time, readable by a person and comparable by
 * a program.
 *
 * A trace starts with a header that describes the whole configuration, so the header alone
 * is enough to run the world again:
 *
 *     cairn-sim-trace 1 app=pingpong seed=42 nodes=5 trace_log=off net.latency_min_us=1000 ...
 *
 * Then each event is one line: its step (the event's number), the virtual time in seconds,
 * the node it happened to ("w" for the world) and what happened. What the node did during
 * the event follows, indented, under the same step:
 *
 *     118 0.412730 n2 recv from=n1 len=9 sum=5f0e3c21 ping 7
 *     118 0.412730 n2   send to=n1 len=9 sum=0c1d8a4e at=0.415112
 *     118 0.412730 n2   timer-set id=1 delay=100ms at=0.512730
 *     119 0.413001 w partition mask=0x3
 *
 * At the end, one "state" line per node and an "end" line. Replaying compares each line
 * the re-run produces with the recorded one, so the first difference points at the first
 * event whose outcome changed: a step debugger for nondeterminism and for regressions.
 */
#include "sim/sim_internal.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/number.h"

#define SIM__TRACE_MAGIC "cairn-sim-trace"
#define SIM__TRACE_VERSION 1

void sim__format_time(uint64_t us, char *out, size_t cap)
{
	assert(out != NULL && cap >= 24);
	snprintf(out, cap, "%" PRIu64 ".%06" PRIu64, us / 1000000, us % 1000000);
}

/* ---- emitting and comparing lines ---- */

/* Reads the next recorded line into the scratch buffer; "" at the end of the file. */
static const char *sim__trace_next_expected(struct sim__trace *t)
{
	assert(t->expect != NULL && t->scratch != NULL);
	if (!fgets(t->scratch, SIM_TRACE_LINE_MAX + 2, t->expect))
		t->scratch[0] = '\0';
	t->scratch[strcspn(t->scratch, "\n")] = '\0';
	return t->scratch;
}

static void sim__trace_emit(struct sim_world *w, uint32_t node, bool in_window, const char *line)
{
	struct sim__trace *t = &w->trace;
	assert(line != NULL && strchr(line, '\n') == NULL);
	t->lines++;
	if (t->out) {
		fputs(line, t->out);
		fputc('\n', t->out);
	}
	if (!t->expect)
		return;
	if (t->window && in_window && (t->window_node == 0 || t->window_node == node))
		fprintf(t->window, "%s\n", line);
	const char *expected = sim__trace_next_expected(t);
	if (strcmp(expected, line) == 0)
		return;
	struct sim_replay_result *r = t->result;
	r->identical = false;
	r->differs_at = t->lines;
	snprintf(r->expected, sizeof r->expected, "%s", expected);
	snprintf(r->actual, sizeof r->actual, "%s", line);
	sim__fail(w, err_new(ERR_CORRUPT, "sim: the trace differs at line %" PRIu64, t->lines));
}

/* True once a replay has found its difference: nothing more is compared. */
static bool sim__trace_stopped(const struct sim_world *w)
{
	return w->trace.ended || (w->trace.result && !w->trace.result->identical);
}

void sim__trace_v(struct sim_world *w, uint32_t node, bool action, const char *fmt, va_list ap)
{
	if (!sim__tracing(w) || sim__trace_stopped(w))
		return;
	assert(node <= w->cfg.nodes);
	char line[SIM_TRACE_LINE_MAX];
	char when[32];
	sim__format_time(w->now_us, when, sizeof when);
	char who[16] = "w";
	if (node)
		snprintf(who, sizeof who, "n%u", node);
	int n = snprintf(line, sizeof line, "%" PRIu64 " %s %s %s", w->step, when, who,
	                 action ? "  " : "");
	assert(n > 0 && (size_t)n < sizeof line);
	vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	/* A message from a node may hold anything; a line must stay one line. */
	for (char *c = line; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	bool in_window = w->step >= w->trace.window_from && w->step <= w->trace.window_to;
	sim__trace_emit(w, node, in_window, line);
}

void sim__trace(struct sim_world *w, uint32_t node, bool action, const char *fmt, ...)
{
	if (!sim__tracing(w))
		return;
	va_list ap;
	va_start(ap, fmt);
	sim__trace_v(w, node, action, fmt, ap);
	va_end(ap);
}

void sim_note(struct sim_world *w, uint32_t node, const char *fmt, ...)
{
	assert(node <= w->cfg.nodes);
	if (!sim__tracing(w))
		return;
	char body[SIM_TRACE_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	sim__trace(w, node, false, "note %s", body);
}

/* ---- the header ---- */

enum sim__field_type { SIM__U32, SIM__U64, SIM__F64, SIM__BOOL, SIM__LEVEL };

struct sim__field {
	const char *name;
	enum sim__field_type type;
	size_t offset;
};

#define SIM__FIELD(name, type, member)                          \
	{                                                       \
		name, type, offsetof(struct sim_config, member) \
	}

/* Every configuration field but the app's name, in header order. */
static const struct sim__field sim__fields[] = {
    SIM__FIELD("seed", SIM__U64, seed),
    SIM__FIELD("nodes", SIM__U32, nodes),
    SIM__FIELD("trace_log", SIM__LEVEL, trace_log_level),
    SIM__FIELD("net.latency_min_us", SIM__U32, net.latency_min_us),
    SIM__FIELD("net.latency_mean_us", SIM__U32, net.latency_mean_us),
    SIM__FIELD("net.latency_max_us", SIM__U32, net.latency_max_us),
    SIM__FIELD("net.inflight_max", SIM__U32, net.inflight_max),
    SIM__FIELD("net.message_max_bytes", SIM__U32, net.message_max_bytes),
    SIM__FIELD("disk.capacity_bytes", SIM__U64, disk.capacity_bytes),
    SIM__FIELD("disk.read_us", SIM__U32, disk.read_us),
    SIM__FIELD("disk.write_us", SIM__U32, disk.write_us),
    SIM__FIELD("disk.sync_us", SIM__U32, disk.sync_us),
    SIM__FIELD("faults.enabled", SIM__BOOL, faults.enabled),
    SIM__FIELD("faults.loss", SIM__F64, faults.loss),
    SIM__FIELD("faults.duplicate", SIM__F64, faults.duplicate),
    SIM__FIELD("faults.partition_every_ms", SIM__U32, faults.partition_every_ms),
    SIM__FIELD("faults.partition_max_ms", SIM__U32, faults.partition_max_ms),
    SIM__FIELD("faults.partition_one_way", SIM__F64, faults.partition_one_way),
    SIM__FIELD("faults.clog_every_ms", SIM__U32, faults.clog_every_ms),
    SIM__FIELD("faults.clog_max_ms", SIM__U32, faults.clog_max_ms),
    SIM__FIELD("faults.read_flip", SIM__F64, faults.read_flip),
    SIM__FIELD("faults.io_error", SIM__F64, faults.io_error),
    SIM__FIELD("faults.torn_write", SIM__F64, faults.torn_write),
    SIM__FIELD("faults.slow_sync", SIM__F64, faults.slow_sync),
    SIM__FIELD("faults.slow_sync_max_ms", SIM__U32, faults.slow_sync_max_ms),
    SIM__FIELD("faults.corrupt_mask", SIM__U32, faults.corrupt_mask),
    SIM__FIELD("faults.crash_every_ms", SIM__U32, faults.crash_every_ms),
    SIM__FIELD("faults.restart_min_ms", SIM__U32, faults.restart_min_ms),
    SIM__FIELD("faults.restart_max_ms", SIM__U32, faults.restart_max_ms),
    SIM__FIELD("faults.pause_every_ms", SIM__U32, faults.pause_every_ms),
    SIM__FIELD("faults.pause_max_ms", SIM__U32, faults.pause_max_ms),
    SIM__FIELD("faults.drift_every_ms", SIM__U32, faults.drift_every_ms),
    SIM__FIELD("faults.drift_max_ppm", SIM__U32, faults.drift_max_ppm),
    SIM__FIELD("faults.offset_max_ms", SIM__U32, faults.offset_max_ms),
    SIM__FIELD("faults.down_max", SIM__U32, faults.down_max),
};

#define SIM__FIELD_COUNT (sizeof sim__fields / sizeof sim__fields[0])

static const char *const sim__level_names[] = {"debug", "info", "warn", "error", "off"};

void sim__trace_format_header(const struct sim_config *cfg, char *out, size_t cap)
{
	assert(out != NULL && cap >= SIM_TRACE_LINE_MAX);
	size_t n = (size_t)snprintf(out, cap, "%s %d app=%s", SIM__TRACE_MAGIC, SIM__TRACE_VERSION,
	                            cfg->app);
	for (size_t i = 0; i < SIM__FIELD_COUNT && n < cap; i++) {
		const struct sim__field *f = &sim__fields[i];
		const char *at = (const char *)cfg + f->offset;
		char *dst = out + n;
		size_t room = cap - n;
		switch (f->type) {
		case SIM__U32:
			n += (size_t)snprintf(dst, room, " %s=%" PRIu32, f->name,
			                      *(const uint32_t *)at);
			break;
		case SIM__U64:
			n += (size_t)snprintf(dst, room, " %s=%" PRIu64, f->name,
			                      *(const uint64_t *)at);
			break;
		case SIM__F64:
			n += (size_t)snprintf(dst, room, " %s=%.17g", f->name, *(const double *)at);
			break;
		case SIM__BOOL:
			n += (size_t)snprintf(dst, room, " %s=%d", f->name, *(const bool *)at);
			break;
		case SIM__LEVEL:
			n += (size_t)snprintf(dst, room, " %s=%s", f->name,
			                      sim__level_names[*(const enum log_level *)at]);
			break;
		}
	}
	assert(n < cap); /* the header fits a trace line */
}

static err *sim__parse_field(const struct sim__field *f, const char *value, struct sim_config *cfg)
{
	char *at = (char *)cfg + f->offset;
	char *end = NULL;
	errno = 0;
	if (f->type == SIM__LEVEL) {
		int level = log_level_parse(value);
		if (level < 0)
			return err_new(ERR_DECODE, "sim: trace header: bad %s '%s'", f->name,
			               value);
		*(enum log_level *)at = (enum log_level)level;
		return NULL;
	}
	if (f->type == SIM__F64) {
		double v = strtod(value, &end);
		if (errno || end == value || *end)
			return err_new(ERR_DECODE, "sim: trace header: bad %s '%s'", f->name,
			               value);
		*(double *)at = v;
		return NULL;
	}
	uint64_t max = f->type == SIM__U32 ? UINT32_MAX : f->type == SIM__BOOL ? 1 : UINT64_MAX;
	uint64_t v;
	err *bad = number_parse_u64(value, max, &v);
	if (bad) {
		err *e =
		    err_new(ERR_DECODE, "sim: trace header: bad %s: %s", f->name, err_msg(bad));
		err_free(bad);
		return e;
	}
	if (f->type == SIM__U32)
		*(uint32_t *)at = (uint32_t)v;
	else if (f->type == SIM__U64)
		*(uint64_t *)at = v;
	else
		*(bool *)at = v == 1;
	return NULL;
}

/* Parses one "key=value" token into cfg. */
static err *sim__parse_token(char *token, struct sim_config *cfg)
{
	char *eq = strchr(token, '=');
	if (!eq)
		return err_new(ERR_DECODE, "sim: trace header: '%s' is not key=value", token);
	*eq = '\0';
	const char *value = eq + 1;
	if (strcmp(token, "app") == 0) {
		if (strlen(value) >= sizeof cfg->app)
			return err_new(ERR_DECODE, "sim: trace header: app name too long");
		snprintf(cfg->app, sizeof cfg->app, "%s", value);
		return NULL;
	}
	for (size_t i = 0; i < SIM__FIELD_COUNT; i++)
		if (strcmp(token, sim__fields[i].name) == 0)
			return sim__parse_field(&sim__fields[i], value, cfg);
	return err_new(ERR_DECODE, "sim: trace header: unknown field '%s'", token);
}

err *sim_trace_parse_header(const char *line, struct sim_config *cfg)
{
	assert(line != NULL && cfg != NULL);
	char copy[SIM_TRACE_LINE_MAX];
	if (strlen(line) >= sizeof copy)
		return err_new(ERR_DECODE, "sim: trace header too long");
	snprintf(copy, sizeof copy, "%s", line);
	copy[strcspn(copy, "\n")] = '\0';
	sim_config_default(cfg, 0, "");
	char *save = NULL;
	char *token = strtok_r(copy, " ", &save);
	if (!token || strcmp(token, SIM__TRACE_MAGIC) != 0)
		return err_new(ERR_DECODE, "sim: not a cairn-sim trace");
	token = strtok_r(NULL, " ", &save);
	if (!token || strcmp(token, "1") != 0)
		return err_new(ERR_DECODE, "sim: trace format version '%s' is not %d",
		               token ? token : "", SIM__TRACE_VERSION);
	size_t tokens = 0;
	while ((token = strtok_r(NULL, " ", &save)) != NULL) {
		if (++tokens > 2 * SIM__FIELD_COUNT)
			return err_new(ERR_DECODE, "sim: trace header has too many fields");
		TRY(sim__parse_token(token, cfg));
	}
	return err_wrap(sim_config_check(cfg), "sim: trace header");
}

void sim__trace_header(struct sim_world *w)
{
	assert(sim__tracing(w));
	assert(w->trace.lines == 0 && w->step == 0);
	char line[SIM_TRACE_LINE_MAX];
	sim__trace_format_header(&w->cfg, line, sizeof line);
	sim__trace_emit(w, 0, false, line);
}

/* ---- starting and ending a recording ---- */

err *sim_world_trace(struct sim_world *w, FILE *out)
{
	assert(out != NULL);
	if (w->started || sim__tracing(w))
		return err_new(ERR_INVALID, "sim: a trace must be attached once, before the run");
	w->trace.out = out;
	for (uint32_t id = 1; id <= w->cfg.nodes; id++)
		sim__host_update_log_level(sim__host(w, id));
	sim__trace_header(w);
	return NULL;
}

err *sim_world_trace_end(struct sim_world *w)
{
	if (!sim__tracing(w) || w->trace.ended)
		return err_new(ERR_INVALID, "sim: no trace to end");
	for (uint32_t id = 1; id <= w->cfg.nodes; id++) {
		uint64_t applied = 0, hash = 0;
		enum sim__host_status status = sim__host(w, id)->status;
		if (status == SIM__DOWN || status == SIM__PAUSED)
			sim__trace(w, id, false, "state %s",
			           status == SIM__DOWN ? "down" : "paused");
		else if (sim_node_state(w, id, &applied, &hash))
			sim__trace(w, id, false, "state applied=%" PRIu64 " hash=%016" PRIx64,
			           applied, hash);
		else
			sim__trace(w, id, false, "state none");
	}
	sim__trace(w, 0, false, "end steps=%" PRIu64 " t_us=%" PRIu64, w->step, w->now_us);
	w->trace.ended = true;
	if (w->trace.out && fflush(w->trace.out) != 0)
		return err_new(ERR_IO, "sim: writing the trace: %s", strerror(errno));
	return NULL;
}
