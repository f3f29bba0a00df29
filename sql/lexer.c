/*
 * lexer.c — a hand-written scanner over bytes.
 *
 * One function per token class; each consumes bytes while they fit and stops at the end
 * of text, so every loop is bounded by the text length. Non-ASCII bytes are allowed only
 * inside strings, quoted identifiers and comments (SQL keywords and plain names are
 * ASCII); elsewhere they are an "unexpected character" error.
 */
#include "sql/lexer.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <threads.h>

struct keyword_entry {
	const char *text;
	uint8_t len;
	enum sql_keyword keyword;
	bool reserved;
};

/* In enum order, which is by spelling (a test checks it): keywords[kw - 1] is kw's. */
static const struct keyword_entry keywords[] = {
#define KW_ENTRY_(name, res) {#name, sizeof #name - 1, SQL_KW_##name, res},
    SQL_KEYWORDS(KW_ENTRY_)
#undef KW_ENTRY_
};

#define KEYWORD_COUNT (sizeof keywords / sizeof keywords[0])

/* The longest keyword's length ("TRANSACTION"). */
#define KEYWORD_MAX_LEN 11
#define KW_LENGTH_CHECK_(name, res) \
	_Static_assert(sizeof #name - 1 <= KEYWORD_MAX_LEN, "keyword " #name " too long");
SQL_KEYWORDS(KW_LENGTH_CHECK_)
#undef KW_LENGTH_CHECK_

/*
 * A hash table over the keywords, built once: slot i holds 1 + the index of a keyword in
 * keywords[], or 0. At most a third of the slots are used, so every probe ends at an
 * empty one soon.
 */
#define KEYWORD_SLOTS 512
_Static_assert(KEYWORD_COUNT * 3 <= KEYWORD_SLOTS, "too many keywords for the table");
static uint8_t keyword_slots[KEYWORD_SLOTS];
static once_flag keyword_slots_once = ONCE_FLAG_INIT;

static unsigned keyword_hash(const char *upper, size_t len)
{
	unsigned h = (unsigned)len;
	for (size_t i = 0; i < len; i++)
		h = h * 31 + (unsigned char)upper[i];
	return h & (KEYWORD_SLOTS - 1);
}

static void keyword_slots_build(void)
{
	for (size_t k = 0; k < KEYWORD_COUNT; k++) {
		unsigned i = keyword_hash(keywords[k].text, keywords[k].len);
		while (keyword_slots[i] != 0)
			i = (i + 1) & (KEYWORD_SLOTS - 1);
		keyword_slots[i] = (uint8_t)(k + 1);
	}
}

enum sql_keyword sql_keyword_lookup(const char *s, size_t len)
{
	/* Keywords are 2 to KEYWORD_MAX_LEN letters: look up an upper-case copy. */
	if (len < 2 || len > KEYWORD_MAX_LEN)
		return SQL_KW_NONE;
	char up[KEYWORD_MAX_LEN];
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (c < 'A' || c > 'Z')
			return SQL_KW_NONE;
		up[i] = c;
	}
	call_once(&keyword_slots_once, keyword_slots_build);
	for (unsigned i = keyword_hash(up, len); keyword_slots[i] != 0;
	     i = (i + 1) & (KEYWORD_SLOTS - 1)) {
		const struct keyword_entry *kw = &keywords[keyword_slots[i] - 1];
		if (kw->len == len && memcmp(kw->text, up, len) == 0)
			return kw->keyword;
	}
	return SQL_KW_NONE;
}

bool sql_keyword_reserved(enum sql_keyword kw)
{
	assert(kw < SQL_KW_COUNT_);
	return kw != SQL_KW_NONE && keywords[kw - 1].reserved;
}

const char *sql_keyword_text(enum sql_keyword kw)
{
	assert(kw < SQL_KW_COUNT_);
	return kw == SQL_KW_NONE ? "" : keywords[kw - 1].text;
}

void sql_lexer_init(struct sql_lexer *lx, const char *text, size_t len, size_t offset,
                    uint32_t line, size_t line_start)
{
	assert(offset <= len && line_start <= offset && line >= 1);
	lx->text = text;
	lx->len = len;
	lx->offset = offset;
	lx->line = line;
	lx->line_start = line_start;
	lx->unterminated = false;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(char c)
{
	return is_ident_start(c) || is_digit(c) || c == '$';
}

static uint32_t column_of(const struct sql_lexer *lx, size_t offset)
{
	size_t col = offset - lx->line_start + 1;
	return col > UINT32_MAX ? UINT32_MAX : (uint32_t)col;
}

static err *lex_error(const struct sql_lexer *lx, uint32_t line, size_t offset, const char *what)
{
	size_t line_start = lx->line_start <= offset ? lx->line_start : offset;
	size_t col = offset - line_start + 1;
	return err_new(ERR_SYNTAX, "syntax error at line %u, column %zu: %s", (unsigned)line, col,
	               what);
}

/* Advances one byte, keeping line and line_start current. */
static void advance(struct sql_lexer *lx)
{
	assert(lx->offset < lx->len);
	if (lx->text[lx->offset] == '\n') {
		lx->line++;
		lx->line_start = lx->offset + 1;
	}
	lx->offset++;
}

static char peek(const struct sql_lexer *lx, size_t ahead)
{
	return lx->offset + ahead < lx->len ? lx->text[lx->offset + ahead] : '\0';
}

static bool at_end(const struct sql_lexer *lx, size_t ahead)
{
	return lx->offset + ahead >= lx->len;
}

/* Skips whitespace and comments; fails only on an unterminated block comment. */
static err *skip_space(struct sql_lexer *lx)
{
	while (!at_end(lx, 0)) {
		char c = peek(lx, 0);
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
			advance(lx);
		} else if (c == '-' && peek(lx, 1) == '-' && !at_end(lx, 1)) {
			while (!at_end(lx, 0) && peek(lx, 0) != '\n')
				advance(lx);
		} else if (c == '/' && peek(lx, 1) == '*' && !at_end(lx, 1)) {
			uint32_t line = lx->line;
			size_t start = lx->offset;
			uint32_t col = column_of(lx, start);
			advance(lx);
			advance(lx);
			while (!(peek(lx, 0) == '*' && peek(lx, 1) == '/' && !at_end(lx, 1))) {
				if (at_end(lx, 0)) {
					lx->unterminated = true;
					return err_new(ERR_SYNTAX,
					               "syntax error at line %u, column %u: "
					               "unterminated comment",
					               (unsigned)line, (unsigned)col);
				}
				advance(lx);
			}
			advance(lx);
			advance(lx);
		} else {
			break;
		}
	}
	return NULL;
}

/* Moves to offset `to` (<= len) over bytes that may hold newlines, keeping line current. */
static void advance_to(struct sql_lexer *lx, size_t to)
{
	assert(lx->offset <= to && to <= lx->len);
	const char *at = lx->text + lx->offset, *end = lx->text + to;
	/* every round passes a newline, so there are at most to - offset rounds */
	while ((at = memchr(at, '\n', (size_t)(end - at))) != NULL) {
		at++;
		lx->line++;
		lx->line_start = (size_t)(at - lx->text);
	}
	lx->offset = to;
}

/* Scans 'string' or "identifier" with doubled quotes as escapes. */
static err *lex_quoted(struct sql_lexer *lx, char quote, struct sql_token *tok)
{
	uint32_t line = lx->line;
	uint32_t col = column_of(lx, lx->offset);
	advance(lx);
	for (;;) {
		const char *end = memchr(lx->text + lx->offset, quote, lx->len - lx->offset);
		if (!end) {
			advance_to(lx, lx->len);
			lx->unterminated = true;
			return err_new(ERR_SYNTAX,
			               "syntax error at line %u, column %u: unterminated %s",
			               (unsigned)line, (unsigned)col,
			               quote == '\'' ? "string literal" : "quoted identifier");
		}
		advance_to(lx, (size_t)(end - lx->text) + 1);
		if (peek(lx, 0) == quote && !at_end(lx, 0)) {
			advance(lx); /* a doubled quote stands for one */
			continue;
		}
		break;
	}
	tok->kind = quote == '\'' ? SQL_TOK_STRING : SQL_TOK_QUOTED_IDENT;
	return NULL;
}

/* Scans digits [. digits] [e [+-] digits], or . digits [exponent]. */
static err *lex_number(struct sql_lexer *lx, struct sql_token *tok)
{
	size_t start = lx->offset;
	bool is_float = false;
	while (is_digit(peek(lx, 0)) && !at_end(lx, 0))
		advance(lx);
	if (peek(lx, 0) == '.' && !at_end(lx, 0)) {
		is_float = true;
		advance(lx);
		while (is_digit(peek(lx, 0)) && !at_end(lx, 0))
			advance(lx);
	}
	char e = peek(lx, 0);
	if ((e == 'e' || e == 'E') && !at_end(lx, 0)) {
		is_float = true;
		advance(lx);
		if ((peek(lx, 0) == '+' || peek(lx, 0) == '-') && !at_end(lx, 0))
			advance(lx);
		if (!is_digit(peek(lx, 0)) || at_end(lx, 0))
			return lex_error(lx, lx->line, start,
			                 "malformed number: missing exponent digits");
		while (is_digit(peek(lx, 0)) && !at_end(lx, 0))
			advance(lx);
	}
	if (!at_end(lx, 0) && (is_ident_char(peek(lx, 0)) || peek(lx, 0) == '.'))
		return lex_error(lx, lx->line, start, "malformed number");
	tok->kind = is_float ? SQL_TOK_FLOAT : SQL_TOK_INTEGER;
	return NULL;
}

/* Scans an operator or punctuation of one or two bytes; 0 kind when `c` is none. */
static enum sql_token_kind lex_symbol(struct sql_lexer *lx, char c)
{
	char n = at_end(lx, 1) ? '\0' : peek(lx, 1);
	size_t width = 1;
	enum sql_token_kind kind;
	switch (c) {
	case '(': kind = SQL_TOK_LPAREN; break;
	case ')': kind = SQL_TOK_RPAREN; break;
	case ',': kind = SQL_TOK_COMMA; break;
	case ';': kind = SQL_TOK_SEMICOLON; break;
	case '.': kind = SQL_TOK_DOT; break;
	case '*': kind = SQL_TOK_STAR; break;
	case '+': kind = SQL_TOK_PLUS; break;
	case '-': kind = SQL_TOK_MINUS; break;
	case '/': kind = SQL_TOK_SLASH; break;
	case '%': kind = SQL_TOK_PERCENT; break;
	case '|':
		if (n != '|')
			return 0;
		kind = SQL_TOK_CONCAT;
		width = 2;
		break;
	case '=':
		kind = SQL_TOK_EQ;
		width = n == '=' ? 2 : 1;
		break;
	case '!':
		if (n != '=')
			return 0;
		kind = SQL_TOK_NE;
		width = 2;
		break;
	case '<':
		kind = n == '=' ? SQL_TOK_LE : n == '>' ? SQL_TOK_NE : SQL_TOK_LT;
		width = (n == '=' || n == '>') ? 2 : 1;
		break;
	case '>':
		kind = n == '=' ? SQL_TOK_GE : SQL_TOK_GT;
		width = n == '=' ? 2 : 1;
		break;
	default: return 0;
	}
	for (size_t i = 0; i < width; i++)
		advance(lx);
	return kind;
}

err *sql_lex_next(struct sql_lexer *lx, struct sql_token *out)
{
	assert(lx->offset <= lx->len);
	TRY(skip_space(lx));
	struct sql_token tok = {.keyword = SQL_KW_NONE};
	tok.offset = lx->offset;
	tok.line = lx->line;
	tok.column = column_of(lx, lx->offset);
	tok.text = lx->text + lx->offset;
	if (at_end(lx, 0)) {
		tok.kind = SQL_TOK_EOF;
		*out = tok;
		return NULL;
	}
	char c = peek(lx, 0);
	if (is_ident_start(c)) {
		size_t end = lx->offset + 1;
		while (end < lx->len && is_ident_char(lx->text[end]))
			end++;
		lx->offset = end; /* a name holds no newline */
		tok.kind = SQL_TOK_IDENT;
		tok.keyword = sql_keyword_lookup(tok.text, lx->offset - tok.offset);
	} else if (is_digit(c) || (c == '.' && is_digit(peek(lx, 1)) && !at_end(lx, 1))) {
		TRY(lex_number(lx, &tok));
	} else if (c == '\'' || c == '"') {
		TRY(lex_quoted(lx, c, &tok));
	} else {
		tok.kind = lex_symbol(lx, c);
		if (tok.kind == 0) {
			unsigned char u = (unsigned char)c;
			if (u >= 0x21 && u < 0x7f) {
				char what[40];
				snprintf(what, sizeof what, "unexpected character '%c'", c);
				return lex_error(lx, lx->line, lx->offset, what);
			}
			char what[40];
			snprintf(what, sizeof what, "unexpected byte 0x%02x", u);
			return lex_error(lx, lx->line, lx->offset, what);
		}
	}
	tok.len = lx->offset - tok.offset;
	assert(tok.len > 0);
	*out = tok;
	return NULL;
}
