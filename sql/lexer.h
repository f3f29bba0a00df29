/*
 * lexer.h — SQL text to tokens.
 *
 * The lexer walks bytes and produces one token per call, with its position (byte
 * offset, 1-based line and column). Tokens borrow the text; nothing is allocated, and
 * decoding of literal values (numbers, '' escapes, identifier case) is left to the
 * parser, which owns an arena.
 *
 * Whitespace, `-- line comments` and `/ * block comments * /` are skipped. Keywords are
 * recognised case-insensitively: a keyword token is an SQL_TOK_IDENT whose `keyword` is
 * not SQL_KW_NONE, so the parser can accept non-reserved keywords as names.
 *
 * Lexical errors are ERR_SYNTAX with the message form
 * "syntax error at line L, column C: <what>": unterminated string, quoted identifier or
 * comment, a malformed number such as `12abc` or `1e+`, an unexpected character.
 */
#ifndef CAIRN_SQL_LEXER_H
#define CAIRN_SQL_LEXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

enum sql_token_kind {
	SQL_TOK_EOF = 1,
	SQL_TOK_IDENT,        /* name or keyword (see `keyword`) */
	SQL_TOK_QUOTED_IDENT, /* "name": text includes the quotes */
	SQL_TOK_INTEGER,      /* 123 */
	SQL_TOK_FLOAT,        /* 1.5, .5, 1., 1e10, 2.5E-3 */
	SQL_TOK_STRING,       /* 'text': text includes the quotes */
	SQL_TOK_LPAREN,
	SQL_TOK_RPAREN,
	SQL_TOK_COMMA,
	SQL_TOK_SEMICOLON,
	SQL_TOK_DOT,
	SQL_TOK_STAR,
	SQL_TOK_PLUS,
	SQL_TOK_MINUS,
	SQL_TOK_SLASH,
	SQL_TOK_PERCENT,
	SQL_TOK_CONCAT, /* || */
	SQL_TOK_EQ,     /* = or == */
	SQL_TOK_NE,     /* != or <> */
	SQL_TOK_LT,
	SQL_TOK_LE,
	SQL_TOK_GT,
	SQL_TOK_GE,
};

/* X-macro of keywords: (NAME, reserved), sorted. Reserved keywords can never be names. */
/* clang-format off */
#define SQL_KEYWORDS(X)                                                                    \
	X(ALL, 1) X(AND, 1) X(AS, 1) X(ASC, 1) X(BEGIN, 1) X(BETWEEN, 1) X(BIGINT, 0)      \
	X(BOOL, 0) X(BOOLEAN, 0) X(BY, 1) X(CASE, 1) X(CAST, 1) X(CHAR, 0)                 \
	X(CHARACTER, 0) X(COMMIT, 1) X(CREATE, 1) X(CROSS, 1) X(DECIMAL, 0) X(DEFAULT, 1)  \
	X(DELETE, 1) X(DESC, 1) X(DISTINCT, 1) X(DOUBLE, 0) X(DROP, 1) X(ELSE, 1) X(END, 1) \
	X(EXCEPT, 1) X(EXISTS, 1) X(EXPLAIN, 1) X(FALSE, 1) X(FIRST, 0) X(FLOAT, 0)        \
	X(FOREIGN, 1) X(FROM, 1) X(GROUP, 1) X(HAVING, 1) X(IF, 1) X(IN, 1) X(INDEX, 1)    \
	X(INNER, 1) X(INSERT, 1) X(INT, 0) X(INTEGER, 0) X(INTERSECT, 1) X(INTO, 1)        \
	X(IS, 1) X(ISNULL, 1) X(JOIN, 1) X(KEY, 0) X(LAST, 0) X(LEFT, 1) X(LIKE, 1)        \
	X(LIMIT, 1) X(NOT, 1) X(NOTNULL, 1) X(NULL, 1) X(NULLS, 0) X(NUMERIC, 0) X(OF, 0)  \
	X(OFFSET, 1) X(ON, 1) X(ONLY, 0) X(OR, 1) X(ORDER, 1) X(OUTER, 1) X(PRECISION, 0)  \
	X(PRIMARY, 1) X(READ, 0) X(REAL, 0) X(REFERENCES, 1) X(RIGHT, 1) X(ROLLBACK, 1)    \
	X(SELECT, 1) X(SET, 1) X(SMALLINT, 0) X(STRING, 0) X(SYSTEM, 0) X(TABLE, 1)        \
	X(TEXT, 0) X(THEN, 1) X(TIME, 0) X(TINYINT, 0) X(TRANSACTION, 0) X(TRUE, 1)        \
	X(UNION, 1) X(UNIQUE, 1) X(UPDATE, 1) X(VALUES, 1) X(VARCHAR, 0) X(WHEN, 1)        \
	X(WHERE, 1) X(WRITE, 0)
/* clang-format on */

enum sql_keyword {
	SQL_KW_NONE = 0,
#define SQL_KW_ENUM_(name, reserved) SQL_KW_##name,
	SQL_KEYWORDS(SQL_KW_ENUM_)
#undef SQL_KW_ENUM_
	    SQL_KW_COUNT_
};

struct sql_token {
	enum sql_token_kind kind;
	enum sql_keyword keyword; /* SQL_TOK_IDENT only; SQL_KW_NONE for plain names */
	const char *text;         /* the token's bytes in the source */
	size_t len;
	size_t offset; /* byte offset of text in the source */
	uint32_t line, column;
};

struct sql_lexer {
	const char *text;
	size_t len;
	size_t offset;     /* next byte to read */
	uint32_t line;     /* line of `offset` */
	size_t line_start; /* offset of the first byte of that line */
	bool unterminated; /* the last error was a string, quoted identifier or comment
	                      still open at the end of text (more input could fix it) */
};

/* Starts lexing `text[offset..len)`, where `offset` is on line `line` which begins at
 * `line_start` (use 0, 1, 0 for a whole text). */
void sql_lexer_init(struct sql_lexer *lx, const char *text, size_t len, size_t offset,
                    uint32_t line, size_t line_start);

/* Reads the next token; at the end of text returns SQL_TOK_EOF (again on every call). */
err *sql_lex_next(struct sql_lexer *lx, struct sql_token *out);

/* Whether `kw` is reserved (may not be used as a table, column or alias name). */
bool sql_keyword_reserved(enum sql_keyword kw);

/* The upper-case spelling of a keyword ("SELECT"); "" for SQL_KW_NONE. */
const char *sql_keyword_text(enum sql_keyword kw);

/* Finds the keyword spelled by `len` bytes at `s`, ignoring case; SQL_KW_NONE if none. */
enum sql_keyword sql_keyword_lookup(const char *s, size_t len);

#endif
