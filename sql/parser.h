/*
 * parser.h — SQL text to AST (ast.h).
 *
 * A hand-written recursive-descent parser; expressions use precedence climbing with
 * SQLite's operator precedence (see docs/architecture.md, "SQL front end"). The text is
 * never trusted: every input either parses or yields an error, within bounded time, stack
 * and memory (the limits below).
 *
 * Errors:
 *   ERR_SYNTAX  "syntax error at line L, column C: expected X, found 'Y'" (or "found end
 *               of input"), and lexical errors in the same "syntax error at line L,
 *               column C: ..." form (unterminated string, bad number, unknown character).
 *   ERR_LIMIT   "... at line L, column C: ..." when a limit below is exceeded.
 *   ERR_NOMEM   when the arena is full or malloc fails.
 *
 * Two ways to use it: sql_parse() for a whole script, or a cursor (sql_parser_init() +
 * sql_parse_next()) that yields one statement at a time and says where it ended, for
 * callers (the REPL, the sqllogictest runner) that must split scripts themselves.
 */
#ifndef CAIRN_SQL_PARSER_H
#define CAIRN_SQL_PARSER_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "sql/arena.h"
#include "sql/ast.h"

/* Limits. Exceeding one is an ERR_LIMIT error, never a crash. */
/* Nesting of expressions and subqueries; each operator of a chain (a + b + c) counts. */
#define SQL_MAX_DEPTH 1000
#define SQL_MAX_DEPTH_TEXT "1000"
#define SQL_MAX_STATEMENT_BYTES ((size_t)1 << 20) /* one statement's text */
#define SQL_MAX_IDENT_BYTES 128                   /* an identifier, after unquoting */
#define SQL_MAX_LIST_ITEMS 65536                  /* items in any one list (columns, rows) */
/* Tables and subqueries joined in one FROM clause (SQLite's limit too). */
#define SQL_MAX_JOIN_TABLES 64
#define SQL_MAX_JOIN_TABLES_TEXT "64"

/* A cursor over a script. Caller-allocated; holds no heap memory. */
struct sql_parser {
	const char *text;
	size_t len;
	size_t offset;      /* where the next statement starts */
	unsigned line;      /* line at `offset` (1-based) */
	size_t line_start;  /* offset of the first byte of that line */
	bool failed;        /* an error was returned; the cursor is spent */
	bool failed_at_end; /* ...and it was at the end of the text: more text might parse */
};

/* Starts a cursor over `text[0..len)`; the text must outlive the cursor and the AST. */
void sql_parser_init(struct sql_parser *p, const char *text, size_t len);

/*
 * Parses the next statement into `arena`. Empty statements (";;") are skipped. On
 * success *out is the statement, or NULL when only whitespace and comments remain; the
 * cursor then stands just past the statement's terminating ';' (or at the end of text),
 * see sql_parser_offset(). After an error the cursor is spent: further calls return
 * ERR_INVALID.
 */
err *sql_parse_next(struct sql_parser *p, struct sql_arena *arena, struct sql_stmt **out);

/* The byte offset where the next statement starts (just past the last one's ';'). */
size_t sql_parser_offset(const struct sql_parser *p);

/* Parses a whole script (zero or more statements separated by ';') into `arena`. A
 * script may hold at most SQL_MAX_LIST_ITEMS statements; use the cursor for longer ones. */
err *sql_parse(const char *text, size_t len, struct sql_arena *arena, struct sql_stmt_list *out);

/*
 * Whether `text` fails to parse only because it stops early: its error is at the end of
 * the text (`SELECT a FROM`, `SELECT (1`, an open string or comment), so more lines
 * could complete it. False for text that parses, and for text with an error before its
 * end (`SELEC 1`), which no further line can mend.
 */
bool sql_text_unfinished(const char *text, size_t len);

/* Parses exactly one statement, with or without a trailing ';'. */
err *sql_parse_one(const char *text, size_t len, struct sql_arena *arena, struct sql_stmt **out);

/* Parses exactly one expression (nothing may follow it but whitespace and comments). */
err *sql_parse_expr(const char *text, size_t len, struct sql_arena *arena, struct sql_expr **out);

/*
 * Tells whether `text` ends a complete statement: true when its last token is ';' (only
 * whitespace and comments may follow) and no string, quoted identifier or comment is
 * left open. The REPL reads another line while this is false. Text whose only tokens
 * are ';' is complete; empty text is not. Text with another lexical error (an unknown
 * character, a malformed number) is complete, so the parser gets to report the error.
 */
bool sql_statement_complete(const char *text, size_t len);

#endif
