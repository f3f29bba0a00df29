/*
 * ast_format.h — print AST nodes back as SQL text.
 *
 * The output is canonical: keywords in upper case, one space between tokens, names
 * quoted only when they must be (not lower-case [a-z_][a-z0-9_$]*, or a reserved
 * keyword), string literals with '' escapes, floats in their shortest exact form, and
 * parentheses only where precedence needs them (so `- - 48` prints as `-(-48)` and
 * `(a + b) * c` keeps its parentheses). Parsing the output gives back an equal tree, and
 * formatting that tree gives the same text: the round-trip tests check both.
 *
 * Used by EXPLAIN, by the REPL's `!table NAME` (a table's CREATE TABLE) and by tests.
 * Every function appends to `out` (no NUL terminator) and fails only when the buffer
 * hits its cap (ERR_LIMIT) or memory runs out; on failure `out` may hold a prefix.
 */
#ifndef CAIRN_SQL_AST_FORMAT_H
#define CAIRN_SQL_AST_FORMAT_H

#include "base/buf.h"
#include "base/err.h"
#include "sql/ast.h"

err *sql_format_expr(const struct sql_expr *e, struct buf *out);
err *sql_format_select(const struct sql_select *s, struct buf *out);
err *sql_format_stmt(const struct sql_stmt *s, struct buf *out);

/* A type as it would appear in CREATE TABLE: "INTEGER", "VARCHAR(20)", ... */
err *sql_format_type(struct sql_type_name type, struct buf *out);

/* A table, column or alias name, quoted when necessary. */
err *sql_format_name(const char *name, struct buf *out);

/* One column definition as in CREATE TABLE: "id INTEGER PRIMARY KEY NOT NULL". */
err *sql_format_column_def(const struct sql_column_def *c, struct buf *out);

#endif
