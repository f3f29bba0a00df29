/*
 * sql_check.h — helpers for the SQL engine's Check suites: run SQL through a session and
 * render each result as one string, so a test reads like a transcript:
 *
 *     ck_assert_str_eq(q(s, "SELECT 1 + 1"), "2");
 *     ck_assert_str_eq(q(s, "SELECT 1 + 'a'"), "Error(type): cannot apply + to ...");
 *
 * Rendering: rows joined by '\n', values by '|' (sql_value_format), "ok" for DDL and
 * transaction acknowledgements, "count N" for DML, the plan text for EXPLAIN, and
 * "Error(CODE): message" for errors. Strings live in a static ring, valid for a few calls.
 */
#ifndef CAIRN_TESTS_SQL_CHECK_H
#define CAIRN_TESTS_SQL_CHECK_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/database.h"

#define SQL_CHECK_RING 8
#define SQL_CHECK_BYTES (1 << 16)

static inline char *sql_check_render(struct sql_result *r)
{
	static char ring[SQL_CHECK_RING][SQL_CHECK_BYTES];
	static unsigned next;
	char *out = ring[next++ % SQL_CHECK_RING];
	struct buf b;
	buf_init(&b, SQL_CHECK_BYTES - 1);
	err *e = NULL;
	switch (r->kind) {
	case SQL_RESULT_NONE: e = buf_append(&b, "none", 4); break;
	case SQL_RESULT_ROWS:
		for (uint64_t i = 0; i < r->row_count && !e; i++) {
			if (i)
				e = buf_append(&b, "\n", 1);
			for (uint32_t j = 0; j < r->column_count && !e; j++) {
				if (j)
					e = buf_append(&b, "|", 1);
				if (!e)
					e = sql_value_format(&sql_result_row(r, i)[j], &b);
			}
		}
		break;
	case SQL_RESULT_COUNT: {
		char tmp[32];
		snprintf(tmp, sizeof tmp, "count %llu", (unsigned long long)r->count);
		e = buf_append(&b, tmp, strlen(tmp));
		break;
	}
	case SQL_RESULT_ACK: e = buf_append(&b, "ok", 2); break;
	case SQL_RESULT_EXPLAIN:
		e = buf_append(&b, r->text.data, strlen((char *)r->text.data));
		break;
	case SQL_RESULT_ERROR: {
		char tmp[64];
		snprintf(tmp, sizeof tmp, "Error(%s): ", err_code_name(err_code(r->error)));
		e = buf_append(&b, tmp, strlen(tmp));
		if (!e)
			e = buf_append(&b, err_msg(r->error), strlen(err_msg(r->error)));
		break;
	}
	}
	ck_assert_ptr_null(e);
	memcpy(out, b.data ? (char *)b.data : "", b.len);
	out[b.len] = '\0';
	buf_free(&b);
	return out;
}

/* Executes exactly one statement and renders its result. */
static inline char *q(struct sql_session *s, const char *sql)
{
	struct sql_result r;
	size_t used;
	sql_session_execute(s, sql, strlen(sql), &r, &used);
	char *out = sql_check_render(&r);
	sql_result_free(&r);
	return out;
}

/* Executes every statement of a script, failing the test on any error. */
static inline void script(struct sql_session *s, const char *sql)
{
	size_t len = strlen(sql), at = 0;
	while (at < len) {
		struct sql_result r;
		size_t used;
		sql_session_execute(s, sql + at, len - at, &r, &used);
		if (r.kind == SQL_RESULT_ERROR)
			ck_abort_msg("%.*s: %s", (int)used, sql + at, err_msg(r.error));
		bool none = r.kind == SQL_RESULT_NONE;
		sql_result_free(&r);
		at += used;
		if (none)
			break;
	}
}

/* True when `text` starts with `prefix`. */
static inline bool starts(const char *text, const char *prefix)
{
	return strncmp(text, prefix, strlen(prefix)) == 0;
}

#endif
