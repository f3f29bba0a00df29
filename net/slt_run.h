/*
 * slt_run.h — running sqllogictest files against a database connection.
 *
 * The runner reads records (net/slt_record.h) and executes each against a connection
 * (net/repl_conn.h), counting every statement and query record as passed, failed or
 * skipped:
 *   - skipped only through conditions: `skipif E` when E names us, `onlyif E` when it
 *     does not. We answer to the engine names "sqlite" (the corpus' results are SQLite's)
 *     and "cairn" (for conditions in our own tests);
 *   - `statement ok` passes when every statement of its SQL succeeds; `statement error`
 *     when one fails, and, with a pattern, when the error message contains the pattern as
 *     a substring or matches it as a POSIX extended regular expression (both ignoring
 *     case);
 *   - `query` passes when the last statement returns rows with as many columns as the type
 *     string has letters and the rendered, sorted values (net/slt_result.h) equal the
 *     expected ones. Expected values written as one line "N values hashing to H" are
 *     compared by count and MD5; otherwise value by value (so our own tests may list
 *     results of any length). A query with a label must also agree (by hash) with the first
 *     query run under the same label;
 *   - a malformed record fails; the runner carries on with the next one.
 * `hash-threshold N` only changes how results are described in failure reports (above N
 * values, as a hash); `halt` ends the file.
 */
#ifndef CAIRN_NET_SLT_RUN_H
#define CAIRN_NET_SLT_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"
#include "net/repl_conn.h"
#include "net/slt_record.h"

struct slt_counts {
	uint64_t passed;
	uint64_t failed;
	uint64_t skipped;
};

struct slt_options {
	FILE *report;     /* where failures and slow records are described */
	bool verbose;     /* describe each failure: SQL, expected, got or the error */
	uint64_t slow_ms; /* when non-zero, report records that ran at least this long */
};

/*
 * Runs every record `reader` yields against `conn` and adds the outcomes to *counts.
 * `name` names the file in reports. Returns an error only when the reader fails (out of
 * memory); failing records are counted, never returned.
 */
err *slt_run_reader(struct slt_reader *reader, const char *name, struct repl_conn *conn,
                    const struct slt_options *opt, struct slt_counts *counts);

/* Opens `path` and runs it as slt_run_reader() does. */
err *slt_run_file(const char *path, struct repl_conn *conn, const struct slt_options *opt,
                  struct slt_counts *counts);

#endif
