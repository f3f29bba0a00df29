/*
 * repl_print.c — rendering results for people: rows as `a|b|c` lines, messages for the rest.
 */
#include "net/repl_print.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

/* One rendered line of output may be at most this long (a row of long texts). */
#define REPL_LINE_MAX_BYTES ((size_t)16 << 20)

static err *repl__print_rows(const struct sql_result *r, bool headers, FILE *out)
{
	assert(r->kind == SQL_RESULT_ROWS);
	if (headers) {
		for (uint32_t c = 0; c < r->column_count; c++)
			fprintf(out, "%s%s", c ? "|" : "", r->column_names[c]);
		fputc('\n', out);
	}
	struct buf line;
	buf_init(&line, REPL_LINE_MAX_BYTES);
	err *e = NULL;
	for (uint64_t row = 0; row < r->row_count && !e; row++) {
		const struct sql_value *values = sql_result_row(r, row);
		buf_clear(&line);
		for (uint32_t c = 0; c < r->column_count && !e; c++) {
			if (c)
				e = buf_append(&line, "|", 1);
			if (!e)
				e = sql_value_format(&values[c], &line);
		}
		if (!e) {
			if (line.len)
				fwrite(line.data, 1, line.len, out);
			fputc('\n', out);
		}
	}
	buf_free(&line);
	return e;
}

static void repl__print_count(const struct sql_result *r, FILE *out)
{
	const char *verb = r->count_kind == SQL_COUNT_INSERT   ? "Inserted"
	                   : r->count_kind == SQL_COUNT_UPDATE ? "Updated"
	                                                       : "Deleted";
	fprintf(out, "%s %" PRIu64 " row%s\n", verb, r->count, r->count == 1 ? "" : "s");
}

static void repl__print_ack(const struct sql_result *r, FILE *out)
{
	switch (r->ack) {
	case SQL_ACK_CREATE_TABLE: fprintf(out, "Created table\n"); break;
	case SQL_ACK_DROP_TABLE: fprintf(out, "Dropped table\n"); break;
	case SQL_ACK_CREATE_INDEX: fprintf(out, "Created index\n"); break;
	case SQL_ACK_DROP_INDEX: fprintf(out, "Dropped index\n"); break;
	case SQL_ACK_BEGIN:
		fprintf(out, "Began %stransaction at version %" PRIu64 "\n",
		        r->read_only ? "read-only " : "", r->version);
		break;
	case SQL_ACK_COMMIT:
		fprintf(out, "Committed transaction at version %" PRIu64 "\n", r->version);
		break;
	case SQL_ACK_ROLLBACK: fprintf(out, "Rolled back transaction\n"); break;
	}
}

/* Prints NUL-terminated (or len-bounded) text, ending it with a newline. */
static void repl__print_text(const struct buf *text, FILE *out)
{
	const char *t = text->data ? (const char *)text->data : "";
	size_t n = strnlen(t, text->len);
	fwrite(t, 1, n, out);
	if (n == 0 || t[n - 1] != '\n')
		fputc('\n', out);
}

err *repl_print_result(const struct sql_result *r, bool headers, FILE *out, FILE *errors)
{
	switch (r->kind) {
	case SQL_RESULT_NONE: return NULL;
	case SQL_RESULT_ROWS: return repl__print_rows(r, headers, out);
	case SQL_RESULT_COUNT: repl__print_count(r, out); return NULL;
	case SQL_RESULT_ACK: repl__print_ack(r, out); return NULL;
	case SQL_RESULT_EXPLAIN: repl__print_text(&r->text, out); return NULL;
	case SQL_RESULT_ERROR:
		fflush(out); /* the error follows what came before it, where both reach one place */
		fprintf(errors, "Error: %s\n", err_msg(r->error));
		return NULL;
	}
	return NULL;
}
