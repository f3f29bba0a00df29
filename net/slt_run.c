/*
 * slt_run.c — the sqllogictest runner: executes records, judges them, reports failures.
 */
#include "net/slt_run.h"

#include <assert.h>
#include <inttypes.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "net/slt_result.h"

/* A record's SQL may hold at most this many statements. */
#define SLT_MAX_STATEMENTS 64
/* At most this many labels per file. */
#define SLT_MAX_LABELS ((size_t)1 << 20)
/* Failure reports show at most this many values of a result. */
#define SLT_REPORT_VALUES 24
#define SLT_DEFAULT_HASH_THRESHOLD 8

/* ---- labels: label -> hash of the first result seen under it ---- */

struct slt__label {
	char *name; /* NULL: empty slot */
	char hash[MD5_HEX_BYTES];
};

struct slt__labels {
	struct slt__label *slots;
	size_t cap; /* a power of two, or 0 */
	size_t count;
};

static uint64_t slt__fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3u;
	return h;
}

static struct slt__label *slt__label_slot(struct slt__labels *t, const char *name)
{
	assert(t->cap > 0 && (t->cap & (t->cap - 1)) == 0);
	size_t i = (size_t)slt__fnv1a(name) & (t->cap - 1);
	for (size_t probes = 0; probes < t->cap; probes++, i = (i + 1) & (t->cap - 1))
		if (!t->slots[i].name || strcmp(t->slots[i].name, name) == 0)
			return &t->slots[i];
	assert(!"the label table is never full");
	return NULL;
}

static err *slt__labels_grow(struct slt__labels *t)
{
	size_t cap = t->cap ? 2 * t->cap : 256;
	struct slt__labels bigger = {.slots = calloc(cap, sizeof(struct slt__label)), .cap = cap};
	if (!bigger.slots)
		return err_new(ERR_NOMEM, "out of memory for labels");
	for (size_t i = 0; i < t->cap; i++) {
		if (t->slots[i].name) {
			*slt__label_slot(&bigger, t->slots[i].name) = t->slots[i];
			bigger.count++;
		}
	}
	free(t->slots);
	*t = bigger;
	return NULL;
}

/*
 * Checks `hash` against the label's first hash, recording it if the label is new.
 * *agrees is false when an earlier result under the label differed; *first_hash is then it.
 */
static err *slt__label_check(struct slt__labels *t, const char *name, const char *hash,
                             bool *agrees, const char **first_hash)
{
	if (t->count + 1 > t->cap / 2) {
		if (t->count >= SLT_MAX_LABELS)
			return err_new(ERR_LIMIT, "more than %zu labels in one file",
			               SLT_MAX_LABELS);
		TRY(slt__labels_grow(t));
	}
	struct slt__label *slot = slt__label_slot(t, name);
	if (slot->name) {
		*agrees = strcmp(slot->hash, hash) == 0;
		*first_hash = slot->hash;
		return NULL;
	}
	slot->name = strdup(name);
	if (!slot->name)
		return err_new(ERR_NOMEM, "out of memory for labels");
	memcpy(slot->hash, hash, MD5_HEX_BYTES);
	t->count++;
	*agrees = true;
	return NULL;
}

static void slt__labels_free(struct slt__labels *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->slots[i].name);
	free(t->slots);
	memset(t, 0, sizeof *t);
}

/* ---- one file's run ---- */

struct slt__run {
	const char *name;
	struct repl_conn *conn;
	const struct slt_options *opt;
	struct slt_counts *counts;
	uint64_t hash_threshold;
	struct slt__labels labels;
};

static bool slt__is_us(const char *engine)
{
	return strcasecmp(engine, "sqlite") == 0 || strcasecmp(engine, "cairn") == 0;
}

static bool slt__skipped(const struct slt_record *rec)
{
	for (size_t i = 0; i < rec->condition_count; i++) {
		bool us = slt__is_us(rec->conditions[i].engine);
		if (rec->conditions[i].only_if ? !us : us)
			return true;
	}
	return false;
}

static uint64_t slt__now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Executes every statement of the record's SQL, stopping at the first error. *last is
 * the error's result, or else the last statement's (SQL_RESULT_NONE if there was none).
 */
static void slt__execute(struct slt__run *run, const struct slt_record *rec,
                         struct sql_result *last)
{
	memset(last, 0, sizeof *last);
	size_t at = 0;
	for (int n = 0; at < rec->sql_len && n < SLT_MAX_STATEMENTS; n++) {
		struct sql_result r;
		size_t used = 0;
		repl_conn_execute(run->conn, rec->sql + at, rec->sql_len - at, &r, &used);
		at = used == 0 || used > rec->sql_len - at ? rec->sql_len : at + used;
		if (r.kind == SQL_RESULT_NONE) {
			sql_result_free(&r);
			continue;
		}
		sql_result_free(last);
		*last = r;
		if (r.kind == SQL_RESULT_ERROR)
			return;
	}
}

/* ---- failure reports ---- */

static void slt__report_header(struct slt__run *run, const struct slt_record *rec, const char *what)
{
	fprintf(run->opt->report, "%s:%" PRIu32 ": %s\n", run->name, rec->line, what);
	if (rec->sql)
		fprintf(run->opt->report, "  sql:      %.2000s\n", rec->sql);
}

static void slt__report_values(struct slt__run *run, const char *title, const char *const *values,
                               size_t count)
{
	fprintf(run->opt->report, "  %-9s %zu value%s\n", title, count, count == 1 ? "" : "s");
	for (size_t i = 0; i < count && i < SLT_REPORT_VALUES; i++)
		fprintf(run->opt->report, "            %.200s\n", values[i]);
	if (count > SLT_REPORT_VALUES)
		fprintf(run->opt->report, "            ... %zu more\n", count - SLT_REPORT_VALUES);
}

static void slt__report_got(struct slt__run *run, const struct slt_rendered *got, const char *hash)
{
	if (got->count > run->hash_threshold)
		fprintf(run->opt->report, "  got:      %zu values hashing to %s\n", got->count,
		        hash);
	slt__report_values(run, "got:", (const char *const *)got->values, got->count);
}

static void slt__report_error(struct slt__run *run, const struct sql_result *r)
{
	if (r->kind == SQL_RESULT_ERROR)
		fprintf(run->opt->report, "  error:    %s: %.500s\n",
		        err_code_name(err_code(r->error)), err_msg(r->error));
}

/* ---- judging records ---- */

static bool slt__pattern_matches(const char *pattern, const char *message)
{
	if (strcasestr(message, pattern))
		return true;
	regex_t re;
	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB | REG_ICASE) != 0)
		return false;
	bool matches = regexec(&re, message, 0, NULL, 0) == 0;
	regfree(&re);
	return matches;
}

static bool slt__judge_statement(struct slt__run *run, const struct slt_record *rec,
                                 const struct sql_result *r)
{
	bool failed = r->kind == SQL_RESULT_ERROR;
	if (rec->kind == SLT_STATEMENT_OK) {
		if (failed && run->opt->verbose) {
			slt__report_header(run, rec, "statement failed");
			slt__report_error(run, r);
		}
		return !failed;
	}
	if (!failed) {
		if (run->opt->verbose)
			slt__report_header(run, rec, "statement succeeded, an error was expected");
		return false;
	}
	if (rec->error_pattern && !slt__pattern_matches(rec->error_pattern, err_msg(r->error))) {
		if (run->opt->verbose) {
			slt__report_header(run, rec, "statement failed with an unexpected message");
			fprintf(run->opt->report, "  expected: %s\n", rec->error_pattern);
			slt__report_error(run, r);
		}
		return false;
	}
	return true;
}

/* Compares rendered values with the expected lines; *why is set when they differ. */
static bool slt__values_match(const struct slt_record *rec, const struct slt_rendered *got,
                              const char *hash, const char **why)
{
	uint64_t want_count;
	char want_hash[MD5_HEX_BYTES];
	if (rec->expected_count == 1 &&
	    slt_parse_hash_line(rec->expected[0], &want_count, want_hash)) {
		if (want_count != got->count || strcmp(want_hash, hash) != 0) {
			*why = "wrong result (hash differs)";
			return false;
		}
		return true;
	}
	if (rec->expected_count != got->count) {
		*why = "wrong number of values";
		return false;
	}
	for (size_t i = 0; i < got->count; i++) {
		if (strcmp(rec->expected[i], got->values[i]) != 0) {
			*why = "wrong result";
			return false;
		}
	}
	return true;
}

static err *slt__judge_query(struct slt__run *run, const struct slt_record *rec,
                             const struct sql_result *r, bool *passed)
{
	*passed = false;
	const char *why = NULL;
	if (r->kind == SQL_RESULT_ERROR)
		why = "query failed";
	else if (r->kind != SQL_RESULT_ROWS)
		why = "statement returned no rows";
	else if (r->column_count != rec->column_count)
		why = "wrong number of columns";
	if (why) {
		if (run->opt->verbose) {
			slt__report_header(run, rec, why);
			if (r->kind == SQL_RESULT_ROWS)
				fprintf(run->opt->report,
				        "  columns:  expected %zu, got %" PRIu32 "\n",
				        rec->column_count, r->column_count);
			slt__report_error(run, r);
		}
		return NULL;
	}
	struct slt_rendered got;
	err *e = slt_render(r, rec->types, rec->sort, &got);
	if (e) {
		if (run->opt->verbose) {
			slt__report_header(run, rec, "result could not be rendered");
			fprintf(run->opt->report, "  error:    %s\n", err_msg(e));
		}
		bool fatal = err_is(e, ERR_NOMEM);
		return fatal ? e : (err_free(e), NULL);
	}
	char hash[MD5_HEX_BYTES];
	slt_rendered_hash(&got, hash);
	*passed = slt__values_match(rec, &got, hash, &why);
	if (*passed && rec->label) {
		bool agrees = true;
		const char *first = NULL;
		e = slt__label_check(&run->labels, rec->label, hash, &agrees, &first);
		if (e) {
			slt_rendered_free(&got);
			return e;
		}
		if (!agrees) {
			*passed = false;
			why = "result differs from an earlier query with the same label";
		}
	}
	if (!*passed && run->opt->verbose) {
		slt__report_header(run, rec, why);
		slt__report_values(run, "expected:", rec->expected, rec->expected_count);
		slt__report_got(run, &got, hash);
	}
	slt_rendered_free(&got);
	return NULL;
}

/* Runs one statement or query record and counts it. */
static err *slt__run_record(struct slt__run *run, const struct slt_record *rec)
{
	if (slt__skipped(rec)) {
		run->counts->skipped++;
		return NULL;
	}
	uint64_t start_ms = run->opt->slow_ms ? slt__now_ms() : 0;
	struct sql_result r;
	slt__execute(run, rec, &r);
	bool passed;
	err *e = NULL;
	if (rec->kind == SLT_QUERY)
		e = slt__judge_query(run, rec, &r, &passed);
	else
		passed = slt__judge_statement(run, rec, &r);
	sql_result_free(&r);
	if (e)
		return e;
	if (passed)
		run->counts->passed++;
	else
		run->counts->failed++;
	if (run->opt->slow_ms) {
		uint64_t took_ms = slt__now_ms() - start_ms;
		if (took_ms >= run->opt->slow_ms)
			fprintf(run->opt->report, "%s:%" PRIu32 ": slow (%" PRIu64 " ms): %.300s\n",
			        run->name, rec->line, took_ms, rec->sql);
	}
	return NULL;
}

err *slt_run_reader(struct slt_reader *reader, const char *name, struct repl_conn *conn,
                    const struct slt_options *opt, struct slt_counts *counts)
{
	struct slt__run run = {
	    .name = name,
	    .conn = conn,
	    .opt = opt,
	    .counts = counts,
	    .hash_threshold = SLT_DEFAULT_HASH_THRESHOLD,
	};
	err *e = NULL;
	for (;;) {
		struct slt_record rec;
		bool done;
		e = slt_reader_next(reader, &rec, &done);
		if (e || done)
			break;
		bool skipped = slt__skipped(&rec);
		if (rec.kind == SLT_HALT && !skipped)
			break;
		if (rec.kind == SLT_HASH_THRESHOLD && !skipped)
			run.hash_threshold = rec.hash_threshold;
		if (rec.kind == SLT_MALFORMED) {
			counts->failed++;
			if (opt->verbose)
				fprintf(opt->report, "%s:%" PRIu32 ": malformed record: %s\n", name,
				        rec.line, rec.reason);
		}
		if (rec.kind == SLT_STATEMENT_OK || rec.kind == SLT_STATEMENT_ERROR ||
		    rec.kind == SLT_QUERY) {
			e = slt__run_record(&run, &rec);
			if (e)
				break;
		}
	}
	slt__labels_free(&run.labels);
	return e;
}

err *slt_run_file(const char *path, struct repl_conn *conn, const struct slt_options *opt,
                  struct slt_counts *counts)
{
	struct slt_reader *reader;
	TRY(slt_reader_open(path, &reader));
	err *e = slt_run_reader(reader, path, conn, opt, counts);
	slt_reader_close(reader);
	return e;
}
