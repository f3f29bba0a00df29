/*
 * sql_split.c — the first statement of a text, found with the parser's cursor or, where
 * the kind is not needed, with the lexer alone.
 */
#include "net/sql_split.h"

#include <assert.h>
#include <string.h>

#include "sql/lexer.h"
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

size_t net_sql_statement_end(const char *text, size_t len)
{
	/* without a ';' the first token decides: the text is one statement, or empty */
	bool has_semicolon = memchr(text, ';', len) != NULL;
	struct sql_lexer lx;
	struct sql_token tok;
	sql_lexer_init(&lx, text, len, 0, 1, 0);
	bool started = false; /* a token other than ';' was seen */
	/* every round consumes a token, and a text of len bytes has at most len + 1 */
	for (size_t round = 0; round <= len; round++) {
		err *e = sql_lex_next(&lx, &tok);
		if (e) {
			err_free(e);
			return len;
		}
		if (tok.kind == SQL_TOK_EOF)
			return started ? len : 0;
		if (tok.kind == SQL_TOK_SEMICOLON && started)
			return tok.offset + 1;
		started = started || tok.kind != SQL_TOK_SEMICOLON;
		if (started && !has_semicolon)
			return len;
	}
	assert(!"the lexer made no progress");
	return len;
}
