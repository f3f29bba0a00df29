/*
 * slt_record.h — reading sqllogictest files, one record at a time.
 *
 * The format (SQLite's sqllogictest, see ../shared/slt/README.md): records are separated
 * by blank lines; lines starting with '#' are comments and vanish wherever they are (they do
 * not separate records). A record is
 *
 *     [skipif ENGINE | onlyif ENGINE]...        conditions, any number (bounded)
 *     statement ok                              then the SQL on the following lines
 *     statement error [PATTERN]                 the SQL must fail (message matching PATTERN)
 *     query TYPES [nosort|rowsort|valuesort] [LABEL]
 *     SQL...
 *     ----                                      then the expected values, one per line
 *     hash-threshold N
 *     halt
 *
 * Lines may end in "\r\n" (most corpus files do). Nothing in a file is trusted: every
 * record that does not fit this grammar comes back as SLT_MALFORMED with a reason and the
 * reader goes on with the next record. Lengths and counts are bounded by the limits below.
 */
#ifndef CAIRN_NET_SLT_RECORD_H
#define CAIRN_NET_SLT_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

#define SLT_FILE_MAX_BYTES ((size_t)256 << 20)
#define SLT_MAX_CONDITIONS 8
#define SLT_MAX_COLUMNS 256
#define SLT_MAX_EXPECTED_VALUES ((size_t)1 << 22)
#define SLT_SQL_MAX_BYTES ((size_t)1 << 20)
#define SLT_REASON_BYTES 160

enum slt_kind {
	SLT_STATEMENT_OK = 1,
	SLT_STATEMENT_ERROR,
	SLT_QUERY,
	SLT_HASH_THRESHOLD,
	SLT_HALT,
	SLT_MALFORMED,
};

enum slt_sort { SLT_NOSORT = 0, SLT_ROWSORT, SLT_VALUESORT };

struct slt_condition {
	bool only_if;       /* onlyif (else skipif) */
	const char *engine; /* as written, e.g. "mysql" */
};

/*
 * One record. Every pointer borrows from the reader (valid until the next
 * slt_reader_next() or slt_reader_close()).
 */
struct slt_record {
	enum slt_kind kind;
	uint32_t line; /* line number of the record's first line, from 1 */
	struct slt_condition conditions[SLT_MAX_CONDITIONS];
	size_t condition_count;

	/* statements and queries: the SQL, comment lines removed, lines joined by '\n' */
	const char *sql;
	size_t sql_len;

	/* SLT_STATEMENT_ERROR: the expected message pattern, or NULL for "any error" */
	const char *error_pattern;

	/* SLT_QUERY */
	const char *types; /* one of 'I', 'R', 'T' per column */
	size_t column_count;
	enum slt_sort sort;
	const char *label;           /* NULL when there is none */
	const char *const *expected; /* the lines after "----" */
	size_t expected_count;

	/* SLT_HASH_THRESHOLD */
	uint64_t hash_threshold;

	/* SLT_MALFORMED: why */
	char reason[SLT_REASON_BYTES];
};

struct slt_reader;

/* Reads the whole file at `path` (at most SLT_FILE_MAX_BYTES) and makes a reader over it. */
err *slt_reader_open(const char *path, struct slt_reader **out);

/* Makes a reader over a copy of text[0..len) (for tests). */
err *slt_reader_open_text(const char *text, size_t len, struct slt_reader **out);

/*
 * Reads the next record into *rec. Returns NULL with *done false on a record (which may be
 * SLT_MALFORMED), NULL with *done true at the end of the file, or an error when memory ran
 * out (the reader cannot go on then).
 */
err *slt_reader_next(struct slt_reader *r, struct slt_record *rec, bool *done);

void slt_reader_close(struct slt_reader *r);

#endif
