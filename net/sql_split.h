/*
 * sql_split.h — where the first statement of a SQL text ends, for the parts of net/ that
 * send or run a text one statement at a time (the SQL port's sessions, the REPL's remote
 * and embedded connections).
 */
#ifndef CAIRN_NET_SQL_SPLIT_H
#define CAIRN_NET_SQL_SPLIT_H

#include <stddef.h>

#include "sql/ast.h"

/*
 * The length of the first statement of text[0..len), up to and including its ';', and
 * its kind in *kind (when kind is not NULL). A text that does not parse is taken whole,
 * kind 0: whoever runs it reports the syntax error. Returns 0 (kind 0) when only blanks
 * and comments are left.
 */
size_t net_sql_first_statement(const char *text, size_t len, enum sql_stmt_kind *kind);

/*
 * The same split found with the lexer alone, for the SQL port, where a full parse of
 * every statement only to find its end cost as much as the node's own parse of it. For
 * a text whose first statement parses, the length equals net_sql_first_statement()'s. A
 * first statement that lexes but does not parse ends at its first ';' (the session
 * reports the syntax error and runs nothing after it, as it would for the whole text);
 * a text that does not lex is taken whole.
 */
size_t net_sql_statement_end(const char *text, size_t len);

#endif
