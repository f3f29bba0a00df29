/*
 * sql_split.c — the first statement of a text, found with the parser's cursor.
 */
#include "net/sql_split.h"

#include <assert.h>

#include "sql/parser.h"

size_t net_sql_first_statement(const char *text, size_t len, enum sql_stmt_kind *kind)
{
	struct sql_parser p;
	struct sql_arena arena;
	sql_parser_init(&p, text, len);
	sql_arena_init(&arena, SQL_ARENA_DEFAULT_MAX_BYTES);
	struct sql_stmt *stmt = NULL;
	err *e = sql_parse_next(&p, &arena, &stmt);
	if (kind)
		*kind = !e && stmt ? stmt->kind : 0;
	size_t n = e ? len : stmt ? sql_parser_offset(&p) : 0;
	err_free(e);
	sql_arena_free(&arena);
	assert(n <= len);
	return n;
}
