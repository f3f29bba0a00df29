/*
 * parser.c — recursive descent over tokens, precedence climbing for expressions.
 *
 * How it works. `struct parse` holds the lexer and the current token (one token of
 * lookahead; `peek()` lexes a copy of the lexer for a second token where the grammar
 * needs it: `t.*`, `NOT IN`, `(SELECT`). Each grammar rule is one function that either
 * fills its node and returns NULL, or returns an error; there is nothing to unwind on
 * failure because every node lives in the caller's arena.
 *
 * Expressions use precedence climbing: parse_expr(min) parses a prefix form and then
 * absorbs infix and postfix operators whose precedence is at least `min`. The levels
 * (enum sql_precedence in ast.h, shared with the formatter) are SQLite's, lowest first:
 *
 *   1 OR   2 AND   3 NOT (prefix)   4 = == != <> IS [NOT] [NOT] IN/LIKE/BETWEEN ISNULL
 *   NOTNULL   5 < <= > >=   6 + -   7 * / %   8 ||   9 unary - +
 *
 * so `NOT a = b` is NOT (a = b) and `- - 48 * + 92` is (-(-48)) * (+92).
 *
 * Bounds. parse_expr(), parse_select() and parenthesized FROM items count their nesting
 * in `depth`, and so does every operator a chain of them adds (the tree grows a level
 * each), failing past SQL_MAX_DEPTH, so no input recurses without bound. Lists
 * stop at SQL_MAX_LIST_ITEMS, names at SQL_MAX_IDENT_BYTES and a statement at
 * SQL_MAX_STATEMENT_BYTES; every loop consumes a token per iteration.
 */
#include "sql/parser.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/lexer.h"

/* ------------------------------------------------------------ parse state -- */

struct parse {
	struct sql_lexer lx;
	struct sql_token tok; /* the current token, not yet consumed */
	size_t prev_end;      /* offset just past the last consumed token */
	size_t stmt_start;    /* offset of the statement's first token */
	struct sql_arena *arena;
	unsigned depth;       /* current nesting of expressions, selects, FROM parens */
	unsigned from_tables; /* tables and subqueries so far in the FROM clause being parsed */
};

/* A growable array in the arena: doubling, so copies cost O(n) in total. */
struct list {
	void *items;
	uint32_t count;
	uint32_t cap;
};

static struct sql_pos pos_of(const struct sql_token *t)
{
	return (struct sql_pos){t->line, t->column};
}

/* Describes the current token for "found ..." in messages. */
static void describe_token(const struct sql_token *t, char *out, size_t size)
{
	if (t->kind == SQL_TOK_EOF) {
		snprintf(out, size, "end of input");
		return;
	}
	size_t n = t->len;
	const char *nl = memchr(t->text, '\n', n);
	if (nl)
		n = (size_t)(nl - t->text);
	const size_t max_shown = 40;
	snprintf(out, size, "'%.*s%s'", (int)(n < max_shown ? n : max_shown), t->text,
	         n < t->len || n > max_shown ? "..." : "");
}

/* "syntax error at line L, column C: expected X, found 'Y'" at the current token. */
static err *expected(const struct parse *p, const char *what)
{
	char found[64];
	describe_token(&p->tok, found, sizeof found);
	return err_new(ERR_SYNTAX, "syntax error at line %u, column %u: expected %s, found %s",
	               (unsigned)p->tok.line, (unsigned)p->tok.column, what, found);
}

/* A syntax error at `pos` with a free-form reason. */
static err *syntax_error_at(struct sql_pos pos, const char *what)
{
	return err_new(ERR_SYNTAX, "syntax error at line %u, column %u: %s", (unsigned)pos.line,
	               (unsigned)pos.column, what);
}

static err *limit_error(const struct parse *p, const char *what)
{
	return err_new(ERR_LIMIT, "limit exceeded at line %u, column %u: %s", (unsigned)p->tok.line,
	               (unsigned)p->tok.column, what);
}

static err *nomem(void)
{
	return err_new(ERR_NOMEM, "out of memory while parsing (statement too large?)");
}

/* Consumes the current token and reads the next one. */
static err *next(struct parse *p)
{
	assert(p->tok.kind != SQL_TOK_EOF);
	p->prev_end = p->tok.offset + p->tok.len;
	TRY(sql_lex_next(&p->lx, &p->tok));
	if (p->tok.offset - p->stmt_start > SQL_MAX_STATEMENT_BYTES)
		return limit_error(p, "statement longer than 1 MiB");
	return NULL;
}

/* Reads the token after the current one without consuming anything. A lexical error
 * there shows as an EOF token; it is reported when the token is really reached. */
static struct sql_token peek(const struct parse *p)
{
	struct sql_lexer copy = p->lx;
	struct sql_token t;
	err *e = sql_lex_next(&copy, &t);
	if (e) {
		err_free(e);
		t = (struct sql_token){.kind = SQL_TOK_EOF};
	}
	return t;
}

static bool at(const struct parse *p, enum sql_token_kind kind)
{
	return p->tok.kind == kind;
}

static bool at_kw(const struct parse *p, enum sql_keyword kw)
{
	return p->tok.kind == SQL_TOK_IDENT && p->tok.keyword == kw;
}

/* Consumes the token if it is `kind`; *found tells whether it was. */
static err *accept(struct parse *p, enum sql_token_kind kind, bool *found)
{
	*found = at(p, kind);
	return *found ? next(p) : NULL;
}

static err *accept_kw(struct parse *p, enum sql_keyword kw, bool *found)
{
	*found = at_kw(p, kw);
	return *found ? next(p) : NULL;
}

static err *expect(struct parse *p, enum sql_token_kind kind, const char *what)
{
	if (!at(p, kind))
		return expected(p, what);
	return next(p);
}

static err *expect_kw(struct parse *p, enum sql_keyword kw)
{
	if (!at_kw(p, kw))
		return expected(p, sql_keyword_text(kw));
	return next(p);
}

static err *enter(struct parse *p)
{
	if (p->depth >= SQL_MAX_DEPTH)
		return limit_error(p, "nested deeper than " SQL_MAX_DEPTH_TEXT " levels "
		                      "(parentheses, subqueries, chained operators)");
	p->depth++;
	return NULL;
}

static void leave(struct parse *p)
{
	assert(p->depth > 0);
	p->depth--;
}

static err *alloc(struct parse *p, size_t size, void **out)
{
	*out = sql_arena_alloc(p->arena, size);
	return *out ? NULL : nomem();
}

/* Appends a zeroed element of `elem_size` bytes to `l`; *slot points at it. */
static err *list_push(struct parse *p, struct list *l, size_t elem_size, void **slot)
{
	assert(l->count <= l->cap);
	if (l->count >= SQL_MAX_LIST_ITEMS)
		return limit_error(p, "more than 65536 items in a list");
	if (l->count == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 4;
		void *items;
		TRY(alloc(p, (size_t)cap * elem_size, &items));
		if (l->count)
			memcpy(items, l->items, (size_t)l->count * elem_size);
		l->items = items;
		l->cap = cap;
	}
	*slot = (unsigned char *)l->items + (size_t)l->count * elem_size;
	l->count++;
	return NULL;
}

/* ----------------------------------------------------------------- names -- */

static bool at_name(const struct parse *p)
{
	return at(p, SQL_TOK_QUOTED_IDENT) ||
	       (at(p, SQL_TOK_IDENT) && !sql_keyword_reserved(p->tok.keyword));
}

/*
 * Consumes a name (a plain identifier, a non-reserved keyword or a "quoted" identifier)
 * and returns it normalized: plain names in lower case, quoted ones unescaped.
 */
static err *parse_name(struct parse *p, const char *what, const char **out)
{
	if (!at_name(p))
		return expected(p, what);
	const struct sql_token *t = &p->tok;
	char buf[SQL_MAX_IDENT_BYTES];
	size_t n = 0;
	if (t->kind == SQL_TOK_QUOTED_IDENT) {
		assert(t->len >= 2);
		for (size_t i = 1; i + 1 < t->len; i++) {
			if (n == sizeof buf)
				return limit_error(p, "identifier longer than 128 bytes");
			if (t->text[i] == '\0')
				return syntax_error_at(pos_of(t),
				                       "NUL byte in a quoted identifier");
			buf[n++] = t->text[i];
			if (t->text[i] == '"')
				i++; /* "" stands for one " */
		}
		if (n == 0)
			return syntax_error_at(pos_of(t), "empty quoted identifier");
	} else {
		if (t->len > sizeof buf)
			return limit_error(p, "identifier longer than 128 bytes");
		for (size_t i = 0; i < t->len; i++) {
			char c = t->text[i];
			buf[n++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
		}
	}
	*out = sql_arena_strndup(p->arena, buf, n);
	if (!*out)
		return nomem();
	return next(p);
}

/* ( name, name, ... ) */
static err *parse_name_list(struct parse *p, const char *what, struct sql_name_list *out)
{
	TRY(expect(p, SQL_TOK_LPAREN, "'('"));
	struct list l = {0};
	bool comma = true;
	while (comma) {
		void *slot;
		TRY(list_push(p, &l, sizeof(const char *), &slot));
		TRY(parse_name(p, what, (const char **)slot));
		TRY(accept(p, SQL_TOK_COMMA, &comma));
	}
	TRY(expect(p, SQL_TOK_RPAREN, "',' or ')'"));
	out->names = l.items;
	out->count = l.count;
	return NULL;
}

/* ----------------------------------------------------------------- types -- */

/* ( n ) for VARCHAR/CHAR: a positive integer that fits 31 bits. */
static err *parse_type_length(struct parse *p, uint32_t *out)
{
	TRY(next(p)); /* ( */
	if (!at(p, SQL_TOK_INTEGER))
		return expected(p, "a length");
	uint64_t n = 0;
	for (size_t i = 0; i < p->tok.len; i++) {
		n = n * 10 + (uint64_t)(p->tok.text[i] - '0');
		if (n > INT32_MAX)
			return syntax_error_at(pos_of(&p->tok), "type length out of range");
	}
	if (n == 0)
		return syntax_error_at(pos_of(&p->tok), "type length must be positive");
	*out = (uint32_t)n;
	TRY(next(p));
	return expect(p, SQL_TOK_RPAREN, "')'");
}

/* (p [, s]) after DECIMAL/NUMERIC/FLOAT: accepted and ignored (all floats are doubles). */
static err *skip_precision(struct parse *p)
{
	if (!at(p, SQL_TOK_LPAREN))
		return NULL;
	TRY(next(p));
	TRY(expect(p, SQL_TOK_INTEGER, "a precision"));
	bool comma;
	TRY(accept(p, SQL_TOK_COMMA, &comma));
	if (comma)
		TRY(expect(p, SQL_TOK_INTEGER, "a scale"));
	return expect(p, SQL_TOK_RPAREN, "')'");
}

static err *parse_type(struct parse *p, struct sql_type_name *out)
{
	*out = (struct sql_type_name){0};
	if (!at(p, SQL_TOK_IDENT))
		return expected(p, "a type name");
	switch (p->tok.keyword) {
	case SQL_KW_BOOLEAN:
	case SQL_KW_BOOL: out->type = SQL_TYPE_BOOLEAN; return next(p);
	case SQL_KW_INTEGER:
	case SQL_KW_INT:
	case SQL_KW_BIGINT:
	case SQL_KW_SMALLINT:
	case SQL_KW_TINYINT: out->type = SQL_TYPE_INTEGER; return next(p);
	case SQL_KW_REAL: out->type = SQL_TYPE_FLOAT; return next(p);
	case SQL_KW_FLOAT:
	case SQL_KW_DECIMAL:
	case SQL_KW_NUMERIC:
		out->type = SQL_TYPE_FLOAT;
		TRY(next(p));
		return skip_precision(p);
	case SQL_KW_DOUBLE: {
		out->type = SQL_TYPE_FLOAT;
		TRY(next(p));
		bool precision;
		return accept_kw(p, SQL_KW_PRECISION, &precision);
	}
	case SQL_KW_TEXT:
	case SQL_KW_STRING: out->type = SQL_TYPE_STRING; return next(p);
	case SQL_KW_VARCHAR:
	case SQL_KW_CHAR:
	case SQL_KW_CHARACTER:
		out->type = SQL_TYPE_STRING;
		TRY(next(p));
		return at(p, SQL_TOK_LPAREN) ? parse_type_length(p, &out->max_len) : NULL;
	default: return expected(p, "a type name");
	}
}

/* ----------------------------------------------------------- expressions -- */

static err *parse_expr(struct parse *p, enum sql_precedence min_prec, struct sql_expr **out);
static err *parse_select(struct parse *p, struct sql_select **out);

static err *new_expr(struct parse *p, enum sql_expr_kind kind, struct sql_pos pos,
                     struct sql_expr **out)
{
	void *e;
	TRY(alloc(p, sizeof(struct sql_expr), &e));
	*out = e;
	(*out)->kind = kind;
	(*out)->pos = pos;
	return NULL;
}

/* Whether the current token is `(` directly followed by SELECT. */
static bool at_paren_select(const struct parse *p)
{
	if (!at(p, SQL_TOK_LPAREN))
		return false;
	struct sql_token t = peek(p);
	return t.kind == SQL_TOK_IDENT && t.keyword == SQL_KW_SELECT;
}

/* ( SELECT ... ) */
static err *parse_paren_select(struct parse *p, struct sql_select **out)
{
	TRY(expect(p, SQL_TOK_LPAREN, "'('"));
	TRY(parse_select(p, out));
	return expect(p, SQL_TOK_RPAREN, "')'");
}

/* Decimal digits to uint64; *overflow when the value does not fit. */
static uint64_t parse_digits(const char *s, size_t len, bool *overflow)
{
	uint64_t v = 0;
	*overflow = false;
	for (size_t i = 0; i < len; i++) {
		assert(s[i] >= '0' && s[i] <= '9');
		uint64_t d = (uint64_t)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10) {
			*overflow = true;
			return 0;
		}
		v = v * 10 + d;
	}
	return v;
}

static err *parse_float_text(struct parse *p, const char *s, size_t len, double *out)
{
	char *copy = sql_arena_strndup(p->arena, s, len);
	if (!copy)
		return nomem();
	*out = strtod(copy, NULL);
	assert(!isnan(*out) && *out >= 0);
	return NULL;
}

/* An integer or float token; integers past INT64_MAX become floats, as in SQLite. */
static err *parse_number(struct parse *p, struct sql_expr **out)
{
	const struct sql_token *t = &p->tok;
	if (t->kind == SQL_TOK_INTEGER) {
		bool overflow;
		uint64_t v = parse_digits(t->text, t->len, &overflow);
		if (!overflow && v <= INT64_MAX) {
			TRY(new_expr(p, SQL_EXPR_INT, pos_of(t), out));
			(*out)->integer = (int64_t)v;
			return next(p);
		}
	}
	TRY(new_expr(p, SQL_EXPR_FLOAT, pos_of(t), out));
	TRY(parse_float_text(p, t->text, t->len, &(*out)->floating));
	return next(p);
}

/* A 'string' token, with '' unescaped. */
static err *parse_string(struct parse *p, struct sql_expr **out)
{
	const struct sql_token *t = &p->tok;
	assert(t->len >= 2);
	TRY(new_expr(p, SQL_EXPR_STRING, pos_of(t), out));
	char *s;
	TRY(alloc(p, t->len - 1, (void **)&s));
	size_t n = 0;
	for (size_t i = 1; i + 1 < t->len; i++) {
		s[n++] = t->text[i];
		if (t->text[i] == '\'')
			i++;
	}
	s[n] = '\0';
	(*out)->string.ptr = s;
	(*out)->string.len = n;
	return next(p);
}

/* Comma-separated expressions up to (not including) the closing ')'. */
static err *parse_expr_list(struct parse *p, struct sql_expr_list *out)
{
	struct list l = {0};
	bool comma = true;
	while (comma) {
		void *slot;
		TRY(list_push(p, &l, sizeof(struct sql_expr *), &slot));
		TRY(parse_expr(p, SQL_PREC_ANY, (struct sql_expr **)slot));
		TRY(accept(p, SQL_TOK_COMMA, &comma));
	}
	out->items = l.items;
	out->count = l.count;
	return NULL;
}

/* name ( [DISTINCT | ALL] args ) or name ( * ) or name ( ); the name is consumed. */
static err *parse_call(struct parse *p, const char *name, struct sql_pos pos, struct sql_expr **out)
{
	assert(at(p, SQL_TOK_LPAREN) && name);
	TRY(new_expr(p, SQL_EXPR_FUNCTION, pos, out));
	struct sql_expr *e = *out;
	e->function.name = name;
	TRY(next(p)); /* ( */
	bool done;
	TRY(accept(p, SQL_TOK_STAR, &e->function.star));
	if (e->function.star)
		return expect(p, SQL_TOK_RPAREN, "')'");
	TRY(accept(p, SQL_TOK_RPAREN, &done));
	if (done)
		return NULL;
	bool all;
	TRY(accept_kw(p, SQL_KW_DISTINCT, &e->function.distinct));
	if (!e->function.distinct)
		TRY(accept_kw(p, SQL_KW_ALL, &all));
	TRY(parse_expr_list(p, &e->function.args));
	return expect(p, SQL_TOK_RPAREN, "',' or ')'");
}

/* A column reference, qualified column reference or function call. */
static err *parse_name_expr(struct parse *p, struct sql_expr **out)
{
	struct sql_pos pos = pos_of(&p->tok);
	const char *name;
	TRY(parse_name(p, "an expression", &name));
	if (at(p, SQL_TOK_LPAREN))
		return parse_call(p, name, pos, out);
	TRY(new_expr(p, SQL_EXPR_COLUMN, pos, out));
	bool dot;
	TRY(accept(p, SQL_TOK_DOT, &dot));
	if (!dot) {
		(*out)->column.name = name;
		return NULL;
	}
	(*out)->column.table = name;
	return parse_name(p, "a column name", &(*out)->column.name);
}

/* CASE [operand] WHEN x THEN y ... [ELSE z] END; CASE is the current token. */
static err *parse_case(struct parse *p, struct sql_expr **out)
{
	assert(at_kw(p, SQL_KW_CASE));
	TRY(new_expr(p, SQL_EXPR_CASE, pos_of(&p->tok), out));
	struct sql_expr *e = *out;
	TRY(next(p));
	if (!at_kw(p, SQL_KW_WHEN))
		TRY(parse_expr(p, SQL_PREC_ANY, &e->case_.operand));
	if (!at_kw(p, SQL_KW_WHEN))
		return expected(p, "WHEN");
	struct list l = {0};
	bool when = true;
	while (when) {
		TRY(next(p)); /* WHEN */
		void *slot;
		TRY(list_push(p, &l, sizeof(struct sql_case_when), &slot));
		struct sql_case_when *w = slot;
		TRY(parse_expr(p, SQL_PREC_ANY, &w->when));
		TRY(expect_kw(p, SQL_KW_THEN));
		TRY(parse_expr(p, SQL_PREC_ANY, &w->then));
		when = at_kw(p, SQL_KW_WHEN);
	}
	e->case_.whens = l.items;
	e->case_.when_count = l.count;
	bool has_else;
	TRY(accept_kw(p, SQL_KW_ELSE, &has_else));
	if (has_else)
		TRY(parse_expr(p, SQL_PREC_ANY, &e->case_.else_result));
	if (!at_kw(p, SQL_KW_END))
		return expected(p, has_else ? "END" : "WHEN, ELSE or END");
	return next(p);
}

/* CAST ( expr AS type ); CAST is the current token. */
static err *parse_cast(struct parse *p, struct sql_expr **out)
{
	assert(at_kw(p, SQL_KW_CAST));
	TRY(new_expr(p, SQL_EXPR_CAST, pos_of(&p->tok), out));
	TRY(next(p));
	TRY(expect(p, SQL_TOK_LPAREN, "'('"));
	TRY(parse_expr(p, SQL_PREC_ANY, &(*out)->cast.operand));
	TRY(expect_kw(p, SQL_KW_AS));
	TRY(parse_type(p, &(*out)->cast.type));
	return expect(p, SQL_TOK_RPAREN, "')'");
}

/* Literals, names, calls, CASE, CAST, EXISTS, (subquery) and (expr). */
static err *parse_primary(struct parse *p, struct sql_expr **out)
{
	const struct sql_token *t = &p->tok;
	struct sql_pos pos = pos_of(t);
	switch (t->kind) {
	case SQL_TOK_INTEGER:
	case SQL_TOK_FLOAT: return parse_number(p, out);
	case SQL_TOK_STRING: return parse_string(p, out);
	case SQL_TOK_QUOTED_IDENT: return parse_name_expr(p, out);
	case SQL_TOK_LPAREN:
		if (at_paren_select(p)) {
			TRY(new_expr(p, SQL_EXPR_SUBQUERY, pos, out));
			return parse_paren_select(p, &(*out)->subquery.select);
		}
		TRY(next(p));
		TRY(parse_expr(p, SQL_PREC_ANY, out));
		return expect(p, SQL_TOK_RPAREN, "')'");
	case SQL_TOK_IDENT: break;
	default: return expected(p, "an expression");
	}
	switch (t->keyword) {
	case SQL_KW_NULL: TRY(new_expr(p, SQL_EXPR_NULL, pos, out)); return next(p);
	case SQL_KW_TRUE:
	case SQL_KW_FALSE:
		TRY(new_expr(p, SQL_EXPR_BOOL, pos, out));
		(*out)->boolean = t->keyword == SQL_KW_TRUE;
		return next(p);
	case SQL_KW_CASE: return parse_case(p, out);
	case SQL_KW_CAST: return parse_cast(p, out);
	case SQL_KW_EXISTS:
		TRY(new_expr(p, SQL_EXPR_EXISTS, pos, out));
		TRY(next(p));
		if (!at_paren_select(p))
			return expected(p, "'(' and a subquery");
		return parse_paren_select(p, &(*out)->exists.select);
	default: return parse_name_expr(p, out);
	}
}

/* Prefix forms: NOT x, -x, +x, else a primary. `-9223372036854775808` is one literal. */
static err *parse_prefix(struct parse *p, struct sql_expr **out)
{
	struct sql_pos pos = pos_of(&p->tok);
	enum sql_unary_op op;
	enum sql_precedence operand_prec;
	if (at_kw(p, SQL_KW_NOT)) {
		op = SQL_UNARY_NOT;
		operand_prec = SQL_PREC_NOT;
	} else if (at(p, SQL_TOK_MINUS) || at(p, SQL_TOK_PLUS)) {
		op = at(p, SQL_TOK_MINUS) ? SQL_UNARY_NEG : SQL_UNARY_PLUS;
		operand_prec = SQL_PREC_UNARY;
	} else {
		return parse_primary(p, out);
	}
	TRY(next(p));
	if (op == SQL_UNARY_NEG && at(p, SQL_TOK_INTEGER)) {
		bool overflow;
		uint64_t v = parse_digits(p->tok.text, p->tok.len, &overflow);
		if (!overflow && v == (uint64_t)INT64_MAX + 1) {
			TRY(new_expr(p, SQL_EXPR_INT, pos, out));
			(*out)->integer = INT64_MIN;
			return next(p);
		}
	}
	TRY(new_expr(p, SQL_EXPR_UNARY, pos, out));
	(*out)->unary.op = op;
	return parse_expr(p, operand_prec, &(*out)->unary.operand);
}

/* Whether the current token is a binary operator; *op tells which. */
static bool binary_op_at(const struct parse *p, enum sql_binary_op *op)
{
	switch (p->tok.kind) {
	case SQL_TOK_EQ: *op = SQL_BINARY_EQ; return true;
	case SQL_TOK_NE: *op = SQL_BINARY_NE; return true;
	case SQL_TOK_LT: *op = SQL_BINARY_LT; return true;
	case SQL_TOK_LE: *op = SQL_BINARY_LE; return true;
	case SQL_TOK_GT: *op = SQL_BINARY_GT; return true;
	case SQL_TOK_GE: *op = SQL_BINARY_GE; return true;
	case SQL_TOK_PLUS: *op = SQL_BINARY_ADD; return true;
	case SQL_TOK_MINUS: *op = SQL_BINARY_SUB; return true;
	case SQL_TOK_STAR: *op = SQL_BINARY_MUL; return true;
	case SQL_TOK_SLASH: *op = SQL_BINARY_DIV; return true;
	case SQL_TOK_PERCENT: *op = SQL_BINARY_MOD; return true;
	case SQL_TOK_CONCAT: *op = SQL_BINARY_CONCAT; return true;
	case SQL_TOK_IDENT:
		*op = p->tok.keyword == SQL_KW_OR ? SQL_BINARY_OR : SQL_BINARY_AND;
		return p->tok.keyword == SQL_KW_OR || p->tok.keyword == SQL_KW_AND;
	default: return false;
	}
}

/* Whether the current token starts a level-4 keyword operator: IS, IN, LIKE, BETWEEN,
 * ISNULL, NOTNULL, or NOT followed by IN, LIKE, BETWEEN or NULL. */
static bool at_keyword_op(const struct parse *p)
{
	switch (p->tok.kind == SQL_TOK_IDENT ? p->tok.keyword : SQL_KW_NONE) {
	case SQL_KW_IS:
	case SQL_KW_IN:
	case SQL_KW_LIKE:
	case SQL_KW_BETWEEN:
	case SQL_KW_ISNULL:
	case SQL_KW_NOTNULL: return true;
	case SQL_KW_NOT: {
		struct sql_token t = peek(p);
		return t.kind == SQL_TOK_IDENT &&
		       (t.keyword == SQL_KW_IN || t.keyword == SQL_KW_LIKE ||
		        t.keyword == SQL_KW_BETWEEN || t.keyword == SQL_KW_NULL);
	}
	default: return false;
	}
}

/* x [NOT] IN ( list | SELECT ... ); IN is the current token. */
static err *parse_in(struct parse *p, struct sql_expr *left, bool negated, struct sql_expr **out)
{
	assert(at_kw(p, SQL_KW_IN) && left);
	struct sql_pos pos = pos_of(&p->tok);
	TRY(next(p));
	if (at_paren_select(p)) {
		TRY(new_expr(p, SQL_EXPR_IN_SELECT, pos, out));
		(*out)->in_select.operand = left;
		(*out)->in_select.negated = negated;
		return parse_paren_select(p, &(*out)->in_select.select);
	}
	TRY(new_expr(p, SQL_EXPR_IN_LIST, pos, out));
	(*out)->in_list.operand = left;
	(*out)->in_list.negated = negated;
	TRY(expect(p, SQL_TOK_LPAREN, "'('"));
	bool empty;
	TRY(accept(p, SQL_TOK_RPAREN, &empty));
	if (empty)
		return NULL;
	TRY(parse_expr_list(p, &(*out)->in_list.list));
	return expect(p, SQL_TOK_RPAREN, "',' or ')'");
}

/* One level-4 keyword operator applied to `left` (see at_keyword_op()). */
static err *parse_keyword_op(struct parse *p, struct sql_expr *left, struct sql_expr **out)
{
	assert(at_keyword_op(p) && left);
	struct sql_pos pos = pos_of(&p->tok);
	bool negated;
	TRY(accept_kw(p, SQL_KW_NOT, &negated));
	enum sql_keyword kw = p->tok.keyword;
	if (kw == SQL_KW_IN)
		return parse_in(p, left, negated, out);
	TRY(next(p));
	switch (kw) {
	case SQL_KW_NULL:
	case SQL_KW_ISNULL:
	case SQL_KW_NOTNULL:
		TRY(new_expr(p, SQL_EXPR_IS_NULL, pos, out));
		(*out)->is_null.operand = left;
		(*out)->is_null.negated = negated || kw == SQL_KW_NOTNULL;
		return NULL;
	case SQL_KW_IS: {
		bool is_not;
		TRY(accept_kw(p, SQL_KW_NOT, &is_not));
		struct sql_expr *right;
		TRY(parse_expr(p, SQL_PREC_CMP, &right));
		if (right->kind == SQL_EXPR_NULL) {
			TRY(new_expr(p, SQL_EXPR_IS_NULL, pos, out));
			(*out)->is_null.operand = left;
			(*out)->is_null.negated = is_not;
			return NULL;
		}
		TRY(new_expr(p, SQL_EXPR_IS, pos, out));
		(*out)->is.left = left;
		(*out)->is.right = right;
		(*out)->is.negated = is_not;
		return NULL;
	}
	case SQL_KW_LIKE:
		TRY(new_expr(p, SQL_EXPR_LIKE, pos, out));
		(*out)->like.operand = left;
		(*out)->like.negated = negated;
		return parse_expr(p, SQL_PREC_CMP, &(*out)->like.pattern);
	case SQL_KW_BETWEEN:
		TRY(new_expr(p, SQL_EXPR_BETWEEN, pos, out));
		(*out)->between.operand = left;
		(*out)->between.negated = negated;
		TRY(parse_expr(p, SQL_PREC_CMP, &(*out)->between.low));
		TRY(expect_kw(p, SQL_KW_AND));
		return parse_expr(p, SQL_PREC_CMP, &(*out)->between.high);
	default: assert(!"at_keyword_op() admitted an unknown operator"); return NULL;
	}
}

/*
 * Parses an expression whose operators all bind at least as tightly as `min_prec`.
 * Left-associative: after an operator of precedence P, the right side is parsed with
 * P + 1, so equal operators group to the left.
 */
static err *parse_expr(struct parse *p, enum sql_precedence min_prec, struct sql_expr **out)
{
	TRY(enter(p));
	struct sql_expr *left;
	uint32_t links = 0; /* operators chained at this level */
	TRY(parse_prefix(p, &left));
	for (;;) {
		enum sql_binary_op op;
		if (!binary_op_at(p, &op)) {
			if (!at_keyword_op(p) || SQL_PREC_EQ < min_prec)
				break;
			TRY(enter(p)); /* x IS NULL IS NULL ... deepens the tree too */
			links++;
			TRY(parse_keyword_op(p, left, &left));
			continue;
		}
		enum sql_precedence prec = sql_binary_op_precedence(op);
		if (prec < min_prec)
			break;
		/*
		 * Each operator of a chain (a + b + c ...) puts the tree one level deeper on its
		 * left: it counts as nesting, or a long chain overflows every recursive walk (a
		 * SELECT of 50,000 terms crashed a node).
		 */
		TRY(enter(p));
		links++;
		struct sql_expr *e;
		TRY(new_expr(p, SQL_EXPR_BINARY, pos_of(&p->tok), &e));
		e->binary.op = op;
		e->binary.left = left;
		TRY(next(p));
		TRY(parse_expr(p, (enum sql_precedence)(prec + 1), &e->binary.right));
		left = e;
	}
	for (; links > 0; links--)
		leave(p);
	leave(p);
	assert(left && left->kind >= SQL_EXPR_NULL && left->kind <= SQL_EXPR_DEFAULT);
	*out = left;
	return NULL;
}

/* ---------------------------------------------------------------- SELECT -- */

/* * | table.* | expr [[AS] alias] */
static err *parse_select_item(struct parse *p, struct sql_select_item *item)
{
	item->pos = pos_of(&p->tok);
	bool star;
	TRY(accept(p, SQL_TOK_STAR, &star));
	if (star) {
		item->kind = SQL_ITEM_STAR;
		return NULL;
	}
	if (at_name(p) && peek(p).kind == SQL_TOK_DOT) {
		struct sql_lexer saved_lx = p->lx;
		struct sql_token saved_tok = p->tok;
		size_t saved_end = p->prev_end;
		const char *table;
		TRY(parse_name(p, "a table name", &table));
		TRY(next(p)); /* . */
		if (at(p, SQL_TOK_STAR)) {
			item->kind = SQL_ITEM_TABLE_STAR;
			item->table = table;
			return next(p);
		}
		p->lx = saved_lx; /* not t.*: reparse as an expression */
		p->tok = saved_tok;
		p->prev_end = saved_end;
	}
	item->kind = SQL_ITEM_EXPR;
	TRY(parse_expr(p, SQL_PREC_ANY, &item->expr));
	bool as;
	TRY(accept_kw(p, SQL_KW_AS, &as));
	if (as || at_name(p))
		TRY(parse_name(p, "an alias", &item->alias));
	return NULL;
}

static err *parse_from(struct parse *p, struct sql_from **out);

/* An optional [AS] alias after a FROM item. */
static err *parse_from_alias(struct parse *p, const char **alias)
{
	bool as;
	TRY(accept_kw(p, SQL_KW_AS, &as));
	if (as || at_name(p))
		TRY(parse_name(p, "an alias", alias));
	return NULL;
}

/* table [[AS] alias] | ( SELECT ... ) [[AS] alias] | ( join ) */
static err *parse_from_item(struct parse *p, struct sql_from **out)
{
	if (at(p, SQL_TOK_LPAREN) && !at_paren_select(p)) {
		TRY(enter(p));
		TRY(next(p));
		TRY(parse_from(p, out));
		TRY(expect(p, SQL_TOK_RPAREN, "')'"));
		leave(p);
		return NULL;
	}
	if (++p->from_tables > SQL_MAX_JOIN_TABLES)
		return limit_error(p, "more than " SQL_MAX_JOIN_TABLES_TEXT
		                      " tables in one FROM clause");
	void *node;
	TRY(alloc(p, sizeof(struct sql_from), &node));
	struct sql_from *f = node;
	f->pos = pos_of(&p->tok);
	if (at(p, SQL_TOK_LPAREN)) {
		f->kind = SQL_FROM_SUBQUERY;
		TRY(parse_paren_select(p, &f->subquery.select));
		TRY(parse_from_alias(p, &f->subquery.alias));
	} else {
		f->kind = SQL_FROM_TABLE;
		TRY(parse_name(p, "a table name", &f->table.name));
		TRY(parse_from_alias(p, &f->table.alias));
	}
	*out = f;
	return NULL;
}

/* The join operator at the current token, consumed; 0 when there is none. */
static err *parse_join_op(struct parse *p, enum sql_join_kind *kind, bool *comma)
{
	*kind = 0;
	TRY(accept(p, SQL_TOK_COMMA, comma));
	if (*comma) {
		*kind = SQL_JOIN_CROSS;
		return NULL;
	}
	if (at_kw(p, SQL_KW_CROSS)) {
		*kind = SQL_JOIN_CROSS;
		TRY(next(p));
	} else if (at_kw(p, SQL_KW_INNER)) {
		*kind = SQL_JOIN_INNER;
		TRY(next(p));
	} else if (at_kw(p, SQL_KW_LEFT) || at_kw(p, SQL_KW_RIGHT)) {
		*kind = at_kw(p, SQL_KW_LEFT) ? SQL_JOIN_LEFT : SQL_JOIN_RIGHT;
		TRY(next(p));
		bool outer;
		TRY(accept_kw(p, SQL_KW_OUTER, &outer));
	} else if (at_kw(p, SQL_KW_JOIN)) {
		*kind = SQL_JOIN_INNER;
		return next(p);
	} else {
		return NULL;
	}
	return expect_kw(p, SQL_KW_JOIN);
}

/* from-item { join-op from-item [ON expr] }, left-associative. */
static err *parse_from(struct parse *p, struct sql_from **out)
{
	struct sql_from *left;
	TRY(parse_from_item(p, &left));
	for (;;) { /* bounded: each join adds a table, and their number is (parse_from_item) */
		enum sql_join_kind kind;
		bool comma;
		TRY(parse_join_op(p, &kind, &comma));
		if (kind == 0)
			break;
		void *node;
		TRY(alloc(p, sizeof(struct sql_from), &node));
		struct sql_from *j = node;
		j->kind = SQL_FROM_JOIN;
		j->pos = left->pos;
		j->join.kind = kind;
		j->join.comma = comma;
		j->join.left = left;
		TRY(parse_from_item(p, &j->join.right));
		if (kind != SQL_JOIN_CROSS) {
			TRY(expect_kw(p, SQL_KW_ON));
			TRY(parse_expr(p, SQL_PREC_ANY, &j->join.on));
		}
		left = j;
	}
	*out = left;
	return NULL;
}

/* SELECT [ALL | DISTINCT] items [FROM ...] [WHERE ...] [GROUP BY ...] [HAVING ...] */
static err *parse_select_core(struct parse *p, struct sql_select **out)
{
	void *node;
	TRY(alloc(p, sizeof(struct sql_select), &node));
	struct sql_select *s = node;
	s->kind = SQL_SELECT_CORE;
	s->pos = pos_of(&p->tok);
	TRY(expect_kw(p, SQL_KW_SELECT));
	bool all, found;
	TRY(accept_kw(p, SQL_KW_DISTINCT, &s->distinct));
	if (!s->distinct)
		TRY(accept_kw(p, SQL_KW_ALL, &all));
	struct list items = {0};
	bool comma = true;
	while (comma) {
		void *slot;
		TRY(list_push(p, &items, sizeof(struct sql_select_item), &slot));
		TRY(parse_select_item(p, slot));
		TRY(accept(p, SQL_TOK_COMMA, &comma));
	}
	s->items = items.items;
	s->item_count = items.count;
	TRY(accept_kw(p, SQL_KW_FROM, &found));
	if (found) {
		unsigned outer_tables =
		    p->from_tables; /* this may be a subquery of a FROM clause */
		p->from_tables = 0;
		TRY(parse_from(p, &s->from));
		p->from_tables = outer_tables;
	}
	TRY(accept_kw(p, SQL_KW_WHERE, &found));
	if (found)
		TRY(parse_expr(p, SQL_PREC_ANY, &s->where));
	TRY(accept_kw(p, SQL_KW_GROUP, &found));
	if (found) {
		TRY(expect_kw(p, SQL_KW_BY));
		TRY(parse_expr_list(p, &s->group_by));
	}
	TRY(accept_kw(p, SQL_KW_HAVING, &found));
	if (found)
		TRY(parse_expr(p, SQL_PREC_ANY, &s->having));
	*out = s;
	return NULL;
}

/* ORDER BY expr [ASC | DESC] [NULLS FIRST | LAST], ... */
static err *parse_order_by(struct parse *p, struct sql_select *s)
{
	TRY(expect_kw(p, SQL_KW_BY));
	struct list l = {0};
	bool comma = true;
	while (comma) {
		void *slot;
		TRY(list_push(p, &l, sizeof(struct sql_order_item), &slot));
		struct sql_order_item *o = slot;
		TRY(parse_expr(p, SQL_PREC_ANY, &o->expr));
		bool asc, nulls;
		TRY(accept_kw(p, SQL_KW_DESC, &o->desc));
		if (!o->desc)
			TRY(accept_kw(p, SQL_KW_ASC, &asc));
		TRY(accept_kw(p, SQL_KW_NULLS, &nulls));
		if (nulls) {
			if (at_kw(p, SQL_KW_FIRST))
				o->nulls = SQL_NULLS_FIRST;
			else if (at_kw(p, SQL_KW_LAST))
				o->nulls = SQL_NULLS_LAST;
			else
				return expected(p, "FIRST or LAST");
			TRY(next(p));
		}
		TRY(accept(p, SQL_TOK_COMMA, &comma));
	}
	s->order_by = l.items;
	s->order_count = l.count;
	return NULL;
}

/* The compound operator at the current token, consumed; 0 when there is none. */
static err *parse_compound_op(struct parse *p, enum sql_compound_op *op)
{
	*op = at_kw(p, SQL_KW_UNION)       ? SQL_COMPOUND_UNION
	      : at_kw(p, SQL_KW_INTERSECT) ? SQL_COMPOUND_INTERSECT
	      : at_kw(p, SQL_KW_EXCEPT)    ? SQL_COMPOUND_EXCEPT
	                                   : 0;
	if (*op == 0)
		return NULL;
	TRY(next(p));
	bool all = false;
	if (*op == SQL_COMPOUND_UNION)
		TRY(accept_kw(p, SQL_KW_ALL, &all));
	if (all)
		*op = SQL_COMPOUND_UNION_ALL;
	return NULL;
}

/* A full query: cores joined by UNION/INTERSECT/EXCEPT, then ORDER BY and LIMIT. */
static err *parse_select(struct parse *p, struct sql_select **out)
{
	TRY(enter(p));
	struct sql_select *s;
	TRY(parse_select_core(p, &s));
	for (uint32_t n = 0;; n++) {
		enum sql_compound_op op;
		TRY(parse_compound_op(p, &op));
		if (op == 0)
			break;
		if (n >= SQL_MAX_LIST_ITEMS)
			return limit_error(p, "more than 65536 compound selects");
		void *node;
		TRY(alloc(p, sizeof(struct sql_select), &node));
		struct sql_select *c = node;
		c->kind = SQL_SELECT_COMPOUND;
		c->pos = s->pos;
		c->op = op;
		c->left = s;
		TRY(parse_select_core(p, &c->right));
		s = c;
	}
	bool found;
	TRY(accept_kw(p, SQL_KW_ORDER, &found));
	if (found)
		TRY(parse_order_by(p, s));
	TRY(accept_kw(p, SQL_KW_LIMIT, &found));
	if (found) {
		TRY(parse_expr(p, SQL_PREC_ANY, &s->limit));
		TRY(accept_kw(p, SQL_KW_OFFSET, &found));
		if (found)
			TRY(parse_expr(p, SQL_PREC_ANY, &s->offset));
	}
	leave(p);
	assert(s->kind == SQL_SELECT_CORE ? s->item_count > 0 : s->left && s->right);
	*out = s;
	return NULL;
}

/* ------------------------------------------------------------------- DDL -- */

static err *parse_if_not_exists(struct parse *p, bool *out)
{
	TRY(accept_kw(p, SQL_KW_IF, out));
	if (!*out)
		return NULL;
	TRY(expect_kw(p, SQL_KW_NOT));
	return expect_kw(p, SQL_KW_EXISTS);
}

/* REFERENCES table [(column)] */
static err *parse_references(struct parse *p, const char **table, const char **column)
{
	TRY(next(p)); /* REFERENCES */
	TRY(parse_name(p, "a table name", table));
	bool paren;
	TRY(accept(p, SQL_TOK_LPAREN, &paren));
	if (!paren)
		return NULL;
	TRY(parse_name(p, "a column name", column));
	return expect(p, SQL_TOK_RPAREN, "')'");
}

/* name type { PRIMARY KEY | NOT NULL | NULL | DEFAULT expr | UNIQUE | REFERENCES ... } */
static err *parse_column_def(struct parse *p, struct sql_column_def *c)
{
	c->pos = pos_of(&p->tok);
	TRY(parse_name(p, "a column name", &c->name));
	TRY(parse_type(p, &c->type));
	for (;;) {
		struct sql_pos pos = pos_of(&p->tok);
		if (at_kw(p, SQL_KW_PRIMARY)) {
			TRY(next(p));
			TRY(expect_kw(p, SQL_KW_KEY));
			c->primary_key = true;
		} else if (at_kw(p, SQL_KW_NOT)) {
			TRY(next(p));
			TRY(expect_kw(p, SQL_KW_NULL));
			if (c->nullable)
				return syntax_error_at(pos,
				                       "column is declared both NULL and NOT NULL");
			c->not_null = true;
		} else if (at_kw(p, SQL_KW_NULL)) {
			TRY(next(p));
			if (c->not_null)
				return syntax_error_at(pos,
				                       "column is declared both NULL and NOT NULL");
			c->nullable = true;
		} else if (at_kw(p, SQL_KW_DEFAULT)) {
			TRY(next(p));
			if (c->default_value)
				return syntax_error_at(pos, "column has two DEFAULT clauses");
			/* Above the level of NOT NULL, so `DEFAULT 1 NOT NULL` means two clauses. */
			TRY(parse_expr(p, SQL_PREC_ADD, &c->default_value));
		} else if (at_kw(p, SQL_KW_UNIQUE)) {
			TRY(next(p));
			c->unique = true;
		} else if (at_kw(p, SQL_KW_REFERENCES)) {
			if (c->references_table)
				return syntax_error_at(pos, "column has two REFERENCES clauses");
			TRY(parse_references(p, &c->references_table, &c->references_column));
		} else {
			return NULL;
		}
	}
}

/* PRIMARY KEY (cols) | UNIQUE (cols) | FOREIGN KEY (cols) REFERENCES t [(cols)] */
static err *parse_table_constraint(struct parse *p, struct sql_table_constraint *c)
{
	c->pos = pos_of(&p->tok);
	if (at_kw(p, SQL_KW_UNIQUE)) {
		c->kind = SQL_CONSTRAINT_UNIQUE;
		TRY(next(p));
		return parse_name_list(p, "a column name", &c->columns);
	}
	bool primary = at_kw(p, SQL_KW_PRIMARY);
	c->kind = primary ? SQL_CONSTRAINT_PRIMARY_KEY : SQL_CONSTRAINT_FOREIGN_KEY;
	TRY(next(p));
	TRY(expect_kw(p, SQL_KW_KEY));
	TRY(parse_name_list(p, "a column name", &c->columns));
	if (primary)
		return NULL;
	if (!at_kw(p, SQL_KW_REFERENCES))
		return expected(p, "REFERENCES");
	TRY(next(p));
	TRY(parse_name(p, "a table name", &c->references_table));
	if (at(p, SQL_TOK_LPAREN))
		TRY(parse_name_list(p, "a column name", &c->ref_columns));
	return NULL;
}

/* CREATE TABLE [IF NOT EXISTS] name ( column-def | table-constraint, ... ) */
static err *parse_create_table(struct parse *p, struct sql_stmt *s)
{
	assert(at_kw(p, SQL_KW_TABLE));
	s->kind = SQL_STMT_CREATE_TABLE;
	TRY(next(p)); /* TABLE */
	TRY(parse_if_not_exists(p, &s->create_table.if_not_exists));
	TRY(parse_name(p, "a table name", &s->create_table.name));
	TRY(expect(p, SQL_TOK_LPAREN, "'('"));
	struct list cols = {0}, cons = {0};
	bool comma = true;
	while (comma) {
		void *slot;
		if (at_kw(p, SQL_KW_PRIMARY) || at_kw(p, SQL_KW_UNIQUE) ||
		    at_kw(p, SQL_KW_FOREIGN)) {
			TRY(list_push(p, &cons, sizeof(struct sql_table_constraint), &slot));
			TRY(parse_table_constraint(p, slot));
		} else if (cons.count > 0) {
			return expected(p, "PRIMARY KEY, UNIQUE or FOREIGN KEY");
		} else {
			TRY(list_push(p, &cols, sizeof(struct sql_column_def), &slot));
			TRY(parse_column_def(p, slot));
		}
		TRY(accept(p, SQL_TOK_COMMA, &comma));
	}
	if (cols.count == 0)
		return syntax_error_at(s->pos, "a table needs at least one column");
	TRY(expect(p, SQL_TOK_RPAREN, "',' or ')'"));
	s->create_table.columns = cols.items;
	s->create_table.column_count = cols.count;
	s->create_table.constraints = cons.items;
	s->create_table.constraint_count = cons.count;
	return NULL;
}

/* CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON table ( column [ASC | DESC], ... ) */
static err *parse_create_index(struct parse *p, struct sql_stmt *s, bool unique)
{
	s->kind = SQL_STMT_CREATE_INDEX;
	s->create_index.unique = unique;
	TRY(expect_kw(p, SQL_KW_INDEX));
	TRY(parse_if_not_exists(p, &s->create_index.if_not_exists));
	TRY(parse_name(p, "an index name", &s->create_index.name));
	TRY(expect_kw(p, SQL_KW_ON));
	TRY(parse_name(p, "a table name", &s->create_index.table));
	TRY(expect(p, SQL_TOK_LPAREN, "'('"));
	struct list l = {0};
	bool comma = true;
	while (comma) {
		void *slot;
		TRY(list_push(p, &l, sizeof(struct sql_index_column), &slot));
		struct sql_index_column *c = slot;
		c->pos = pos_of(&p->tok);
		TRY(parse_name(p, "a column name", &c->name));
		bool asc;
		TRY(accept_kw(p, SQL_KW_DESC, &c->desc));
		if (!c->desc)
			TRY(accept_kw(p, SQL_KW_ASC, &asc));
		TRY(accept(p, SQL_TOK_COMMA, &comma));
	}
	TRY(expect(p, SQL_TOK_RPAREN, "',' or ')'"));
	s->create_index.columns = l.items;
	s->create_index.column_count = l.count;
	return NULL;
}

static err *parse_create(struct parse *p, struct sql_stmt *s)
{
	TRY(next(p)); /* CREATE */
	if (at_kw(p, SQL_KW_TABLE))
		return parse_create_table(p, s);
	bool unique;
	TRY(accept_kw(p, SQL_KW_UNIQUE, &unique));
	if (!unique && !at_kw(p, SQL_KW_INDEX))
		return expected(p, "TABLE, INDEX or UNIQUE");
	return parse_create_index(p, s, unique);
}

/* DROP TABLE [IF EXISTS] name | DROP INDEX [IF EXISTS] name */
static err *parse_drop(struct parse *p, struct sql_stmt *s)
{
	TRY(next(p)); /* DROP */
	bool table = at_kw(p, SQL_KW_TABLE);
	if (!table && !at_kw(p, SQL_KW_INDEX))
		return expected(p, "TABLE or INDEX");
	TRY(next(p));
	bool if_exists;
	TRY(accept_kw(p, SQL_KW_IF, &if_exists));
	if (if_exists)
		TRY(expect_kw(p, SQL_KW_EXISTS));
	if (table) {
		s->kind = SQL_STMT_DROP_TABLE;
		s->drop_table.if_exists = if_exists;
		return parse_name(p, "a table name", &s->drop_table.name);
	}
	s->kind = SQL_STMT_DROP_INDEX;
	s->drop_index.if_exists = if_exists;
	return parse_name(p, "an index name", &s->drop_index.name);
}

/* ------------------------------------------------------------------- DML -- */

/* ( expr | DEFAULT, ... ) */
static err *parse_values_row(struct parse *p, struct sql_expr_list *row)
{
	TRY(expect(p, SQL_TOK_LPAREN, "'('"));
	struct list l = {0};
	bool comma = true;
	while (comma) {
		void *slot;
		TRY(list_push(p, &l, sizeof(struct sql_expr *), &slot));
		struct sql_expr **e = slot;
		if (at_kw(p, SQL_KW_DEFAULT)) {
			TRY(new_expr(p, SQL_EXPR_DEFAULT, pos_of(&p->tok), e));
			TRY(next(p));
		} else {
			TRY(parse_expr(p, SQL_PREC_ANY, e));
		}
		TRY(accept(p, SQL_TOK_COMMA, &comma));
	}
	row->items = l.items;
	row->count = l.count;
	return expect(p, SQL_TOK_RPAREN, "',' or ')'");
}

/* INSERT INTO t [(cols)] { VALUES rows | SELECT ... | DEFAULT VALUES } */
static err *parse_insert(struct parse *p, struct sql_stmt *s)
{
	s->kind = SQL_STMT_INSERT;
	TRY(next(p)); /* INSERT */
	TRY(expect_kw(p, SQL_KW_INTO));
	TRY(parse_name(p, "a table name", &s->insert.table));
	if (at(p, SQL_TOK_LPAREN))
		TRY(parse_name_list(p, "a column name", &s->insert.columns));
	if (at_kw(p, SQL_KW_SELECT)) {
		s->insert.source = SQL_INSERT_SELECT;
		return parse_select(p, &s->insert.select);
	}
	if (at_kw(p, SQL_KW_DEFAULT)) {
		s->insert.source = SQL_INSERT_DEFAULT_VALUES;
		TRY(next(p));
		return expect_kw(p, SQL_KW_VALUES);
	}
	if (!at_kw(p, SQL_KW_VALUES))
		return expected(p, s->insert.columns.count
		                       ? "VALUES or SELECT"
		                       : "'(', VALUES, SELECT or DEFAULT VALUES");
	s->insert.source = SQL_INSERT_VALUES;
	TRY(next(p));
	struct list rows = {0};
	bool comma = true;
	while (comma) {
		void *slot;
		TRY(list_push(p, &rows, sizeof(struct sql_expr_list), &slot));
		TRY(parse_values_row(p, slot));
		TRY(accept(p, SQL_TOK_COMMA, &comma));
	}
	s->insert.rows = rows.items;
	s->insert.row_count = rows.count;
	return NULL;
}

/* UPDATE t SET col = expr, ... [WHERE expr] */
static err *parse_update(struct parse *p, struct sql_stmt *s)
{
	s->kind = SQL_STMT_UPDATE;
	TRY(next(p)); /* UPDATE */
	TRY(parse_name(p, "a table name", &s->update.table));
	TRY(expect_kw(p, SQL_KW_SET));
	struct list l = {0};
	bool comma = true;
	while (comma) {
		void *slot;
		TRY(list_push(p, &l, sizeof(struct sql_assignment), &slot));
		struct sql_assignment *a = slot;
		a->pos = pos_of(&p->tok);
		TRY(parse_name(p, "a column name", &a->column));
		TRY(expect(p, SQL_TOK_EQ, "'='"));
		TRY(parse_expr(p, SQL_PREC_ANY, &a->value));
		TRY(accept(p, SQL_TOK_COMMA, &comma));
	}
	s->update.set = l.items;
	s->update.set_count = l.count;
	bool where;
	TRY(accept_kw(p, SQL_KW_WHERE, &where));
	return where ? parse_expr(p, SQL_PREC_ANY, &s->update.where) : NULL;
}

/* DELETE FROM t [WHERE expr] */
static err *parse_delete(struct parse *p, struct sql_stmt *s)
{
	s->kind = SQL_STMT_DELETE;
	TRY(next(p)); /* DELETE */
	TRY(expect_kw(p, SQL_KW_FROM));
	TRY(parse_name(p, "a table name", &s->delete_.table));
	bool where;
	TRY(accept_kw(p, SQL_KW_WHERE, &where));
	return where ? parse_expr(p, SQL_PREC_ANY, &s->delete_.where) : NULL;
}

/* --------------------------------------------------------- transactions -- */

/* BEGIN [TRANSACTION] [READ ONLY | READ WRITE] [AS OF SYSTEM TIME n] */
static err *parse_begin(struct parse *p, struct sql_stmt *s)
{
	s->kind = SQL_STMT_BEGIN;
	TRY(next(p)); /* BEGIN */
	bool found;
	TRY(accept_kw(p, SQL_KW_TRANSACTION, &found));
	TRY(accept_kw(p, SQL_KW_READ, &found));
	if (found) {
		if (at_kw(p, SQL_KW_ONLY))
			s->begin.read_only = true;
		else if (at_kw(p, SQL_KW_WRITE))
			s->begin.read_write = true;
		else
			return expected(p, "ONLY or WRITE");
		TRY(next(p));
	}
	TRY(accept_kw(p, SQL_KW_AS, &found));
	if (!found)
		return NULL;
	TRY(expect_kw(p, SQL_KW_OF));
	TRY(expect_kw(p, SQL_KW_SYSTEM));
	TRY(expect_kw(p, SQL_KW_TIME));
	if (!at(p, SQL_TOK_INTEGER))
		return expected(p, "a version number");
	bool overflow;
	uint64_t v = parse_digits(p->tok.text, p->tok.len, &overflow);
	if (overflow || v > INT64_MAX)
		return syntax_error_at(pos_of(&p->tok), "version number out of range");
	s->begin.has_as_of = true;
	s->begin.as_of = v;
	return next(p);
}

/* COMMIT [TRANSACTION] | ROLLBACK [TRANSACTION] */
static err *parse_end_txn(struct parse *p, struct sql_stmt *s)
{
	s->kind = at_kw(p, SQL_KW_COMMIT) ? SQL_STMT_COMMIT : SQL_STMT_ROLLBACK;
	TRY(next(p));
	bool transaction;
	return accept_kw(p, SQL_KW_TRANSACTION, &transaction);
}

/* ------------------------------------------------------------ statements -- */

static err *parse_statement(struct parse *p, bool explained, struct sql_stmt **out)
{
	void *node;
	TRY(alloc(p, sizeof(struct sql_stmt), &node));
	struct sql_stmt *s = node;
	s->pos = pos_of(&p->tok);
	s->text_start = p->tok.offset;
	enum sql_keyword kw = at(p, SQL_TOK_IDENT) ? p->tok.keyword : SQL_KW_NONE;
	switch (kw) {
	case SQL_KW_SELECT:
		s->kind = SQL_STMT_SELECT;
		TRY(parse_select(p, &s->select));
		break;
	case SQL_KW_INSERT: TRY(parse_insert(p, s)); break;
	case SQL_KW_UPDATE: TRY(parse_update(p, s)); break;
	case SQL_KW_DELETE: TRY(parse_delete(p, s)); break;
	case SQL_KW_CREATE: TRY(parse_create(p, s)); break;
	case SQL_KW_DROP: TRY(parse_drop(p, s)); break;
	case SQL_KW_BEGIN: TRY(parse_begin(p, s)); break;
	case SQL_KW_COMMIT:
	case SQL_KW_ROLLBACK: TRY(parse_end_txn(p, s)); break;
	case SQL_KW_EXPLAIN:
		if (explained)
			return expected(p, "a statement to explain");
		s->kind = SQL_STMT_EXPLAIN;
		TRY(next(p));
		TRY(parse_statement(p, true, &s->explain));
		break;
	default: return expected(p, "a statement");
	}
	s->text_end = p->prev_end;
	assert(s->kind >= SQL_STMT_CREATE_TABLE && s->kind <= SQL_STMT_EXPLAIN);
	assert(s->text_start < s->text_end);
	*out = s;
	return NULL;
}

/* ---------------------------------------------------------------- public -- */

void sql_parser_init(struct sql_parser *p, const char *text, size_t len)
{
	assert(text || len == 0);
	p->text = text ? text : "";
	p->len = len;
	p->offset = 0;
	p->line = 1;
	p->line_start = 0;
	p->failed = false;
}

size_t sql_parser_offset(const struct sql_parser *p)
{
	return p->offset;
}

/* Skips ';' tokens; leaves the state at the first other token (or EOF). */
static err *skip_empty_statements(struct parse *ps)
{
	while (at(ps, SQL_TOK_SEMICOLON)) {
		ps->prev_end = ps->tok.offset + ps->tok.len;
		TRY(sql_lex_next(&ps->lx, &ps->tok));
	}
	return NULL;
}

/* Parses one statement at the cursor and its terminator (';' or end of text). */
static err *parse_next(struct sql_parser *p, struct parse *ps, struct sql_stmt **out)
{
	sql_lexer_init(&ps->lx, p->text, p->len, p->offset, p->line, p->line_start);
	TRY(sql_lex_next(&ps->lx, &ps->tok));
	TRY(skip_empty_statements(ps));
	ps->stmt_start = ps->tok.offset;
	if (at(ps, SQL_TOK_EOF)) {
		*out = NULL;
		return NULL;
	}
	TRY(parse_statement(ps, false, out));
	if (!at(ps, SQL_TOK_SEMICOLON) && !at(ps, SQL_TOK_EOF))
		return expected(ps, "';' or end of input");
	assert(ps->depth == 0);
	return NULL;
}

err *sql_parse_next(struct sql_parser *p, struct sql_arena *arena, struct sql_stmt **out)
{
	*out = NULL;
	if (p->failed)
		return err_new(ERR_INVALID, "the parser stopped at an earlier error");
	struct parse ps = {.arena = arena};
	err *e = parse_next(p, &ps, out);
	if (e) {
		p->failed = true;
		p->failed_at_end = ps.lx.unterminated || at(&ps, SQL_TOK_EOF);
		*out = NULL;
		return e;
	}
	/* Stand just past the ';' (or at the end): the lexer is there now. */
	if (at(&ps, SQL_TOK_SEMICOLON)) {
		p->offset = ps.tok.offset + 1;
		p->line = ps.tok.line;
		p->line_start = ps.tok.offset + 1 - ps.tok.column;
	} else {
		p->offset = ps.tok.offset;
		p->line = ps.lx.line;
		p->line_start = ps.lx.line_start;
	}
	return NULL;
}

err *sql_parse(const char *text, size_t len, struct sql_arena *arena, struct sql_stmt_list *out)
{
	struct sql_parser p;
	sql_parser_init(&p, text, len);
	struct parse ps = {.arena = arena};
	struct list l = {0};
	*out = (struct sql_stmt_list){0};
	for (;;) {
		struct sql_stmt *s;
		TRY(sql_parse_next(&p, arena, &s));
		if (!s)
			break;
		void *slot;
		/* list_push() reports a limit at the current token: the statement's start. */
		ps.tok = (struct sql_token){.line = s->pos.line, .column = s->pos.column};
		TRY(list_push(&ps, &l, sizeof(struct sql_stmt *), &slot));
		*(struct sql_stmt **)slot = s;
	}
	out->items = l.items;
	out->count = l.count;
	return NULL;
}

err *sql_parse_one(const char *text, size_t len, struct sql_arena *arena, struct sql_stmt **out)
{
	struct sql_parser p;
	sql_parser_init(&p, text, len);
	TRY(sql_parse_next(&p, arena, out));
	if (!*out)
		return err_new(ERR_SYNTAX,
		               "syntax error at line 1, column 1: expected a statement, "
		               "found end of input");
	/* Only ';' may follow: look at the next other token without parsing further. */
	struct parse ps = {.arena = arena};
	sql_lexer_init(&ps.lx, p.text, p.len, p.offset, p.line, p.line_start);
	err *e = sql_lex_next(&ps.lx, &ps.tok);
	if (!e)
		e = skip_empty_statements(&ps);
	if (!e && !at(&ps, SQL_TOK_EOF))
		e = expected(&ps, "end of input");
	if (e)
		*out = NULL;
	return e;
}

err *sql_parse_expr(const char *text, size_t len, struct sql_arena *arena, struct sql_expr **out)
{
	struct parse ps = {.arena = arena};
	sql_lexer_init(&ps.lx, text ? text : "", len, 0, 1, 0);
	*out = NULL;
	TRY(sql_lex_next(&ps.lx, &ps.tok));
	TRY(parse_expr(&ps, SQL_PREC_ANY, out));
	if (!at(&ps, SQL_TOK_EOF)) {
		*out = NULL;
		return expected(&ps, "end of input");
	}
	return NULL;
}

bool sql_text_unfinished(const char *text, size_t len)
{
	struct sql_arena arena;
	sql_arena_init(&arena, SQL_ARENA_DEFAULT_MAX_BYTES);
	struct sql_parser p;
	sql_parser_init(&p, text ? text : "", len);
	err *e = NULL;
	for (uint32_t i = 0; i < SQL_MAX_LIST_ITEMS && !e; i++) {
		struct sql_stmt *s;
		e = sql_parse_next(&p, &arena, &s);
		if (!e && !s)
			break;
	}
	sql_arena_free(&arena);
	err_free(e);
	return e != NULL && p.failed_at_end;
}

bool sql_statement_complete(const char *text, size_t len)
{
	struct sql_lexer lx;
	sql_lexer_init(&lx, text ? text : "", len, 0, 1, 0);
	bool ends_with_semicolon = false;
	for (;;) {
		struct sql_token t;
		err *e = sql_lex_next(&lx, &t);
		if (e) {
			err_free(e);
			/* Open text wants more lines; any other error is for the parser to report. */
			return !lx.unterminated;
		}
		if (t.kind == SQL_TOK_EOF)
			return ends_with_semicolon;
		ends_with_semicolon = t.kind == SQL_TOK_SEMICOLON;
	}
}
