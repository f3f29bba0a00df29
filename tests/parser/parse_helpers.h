/*
 * parse_helpers.h — small helpers shared by the parser test suites.
 *
 * canon_stmt() and canon_expr() parse text and return the canonical SQL the formatter
 * prints for it, or "error: <message>" when parsing fails; the caller frees the string.
 * Comparing these strings is how the tests check the shape of a tree: the formatter
 * parenthesizes exactly where precedence requires, so `1 + (2 * 3)` and `(1 + 2) * 3`
 * print differently.
 */
#ifndef CAIRN_TESTS_PARSER_HELPERS_H
#define CAIRN_TESTS_PARSER_HELPERS_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "sql/arena.h"
#include "sql/ast_format.h"
#include "sql/parser.h"

/*
 * Like ck_assert_msg, but costs nothing when it holds: Check records the location of
 * every ck_assert (a write to its pipe), which dominates loops of thousands of parses.
 */
#define require(cond, ...)                         \
	do {                                       \
		if (!(cond))                       \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

/* Turns a buffer's bytes into a malloc'd NUL-terminated string and frees the buffer. */
static inline char *buf_to_string(struct buf *b)
{
	char *s = malloc(b->len + 1);
	require(s, "out of memory");
	if (b->len)
		memcpy(s, b->data, b->len);
	s[b->len] = '\0';
	buf_free(b);
	return s;
}

static inline char *error_string(err *e)
{
	const char *msg = err_msg(e);
	char *s = malloc(strlen(msg) + 8);
	require(s, "out of memory");
	strcpy(s, "error: ");
	strcat(s, msg);
	err_free(e);
	return s;
}

static inline char *canon_stmt(const char *sql)
{
	struct sql_arena arena;
	sql_arena_init(&arena, SQL_ARENA_DEFAULT_MAX_BYTES);
	struct sql_stmt *stmt;
	err *e = sql_parse_one(sql, strlen(sql), &arena, &stmt);
	if (e) {
		sql_arena_free(&arena);
		return error_string(e);
	}
	struct buf b;
	buf_init(&b, 1 << 24);
	require(sql_format_stmt(stmt, &b) == NULL, "format failed");
	sql_arena_free(&arena);
	return buf_to_string(&b);
}

static inline char *canon_expr(const char *sql)
{
	struct sql_arena arena;
	sql_arena_init(&arena, SQL_ARENA_DEFAULT_MAX_BYTES);
	struct sql_expr *expr;
	err *e = sql_parse_expr(sql, strlen(sql), &arena, &expr);
	if (e) {
		sql_arena_free(&arena);
		return error_string(e);
	}
	struct buf b;
	buf_init(&b, 1 << 24);
	require(sql_format_expr(expr, &b) == NULL, "format failed");
	sql_arena_free(&arena);
	return buf_to_string(&b);
}

/* Asserts that `sql` (a statement) formats as `want`. */
#define ck_stmt(sql, want)                    \
	do {                                  \
		char *got_ = canon_stmt(sql); \
		ck_assert_str_eq(got_, want); \
		free(got_);                   \
	} while (0)

/* Asserts that `sql` (an expression) formats as `want`. */
#define ck_expr(sql, want)                    \
	do {                                  \
		char *got_ = canon_expr(sql); \
		ck_assert_str_eq(got_, want); \
		free(got_);                   \
	} while (0)

/* Parses `sql` as a script and returns the error code (0 when it parsed). */
static inline enum err_code parse_code(const char *sql, size_t len)
{
	struct sql_arena arena;
	sql_arena_init(&arena, SQL_ARENA_DEFAULT_MAX_BYTES);
	struct sql_stmt_list list;
	err *e = sql_parse(sql, len, &arena, &list);
	enum err_code code = err_code(e);
	err_free(e);
	sql_arena_free(&arena);
	return code;
}

#endif
