/*
 * slt_record.c — the sqllogictest record reader.
 *
 * The reader owns the file's text and cuts it into lines in place (each '\n' becomes a NUL,
 * a trailing '\r' is dropped), so records can point into it without copies. Only the SQL,
 * which must have comment lines removed and its lines joined, is assembled in a buffer.
 */
#include "net/slt_record.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/number.h"

/* A record may have at most this many lines (its expected values and a little more). */
#define SLT_MAX_RECORD_LINES (SLT_MAX_EXPECTED_VALUES + 64)

struct slt_reader {
	char *text; /* owned; text[len] is a NUL */
	size_t len;
	size_t pos;       /* start of the next unread line */
	uint32_t line_no; /* number of the last line read */
	struct buf sql;   /* the current record's SQL, NUL-terminated */
	char **lines;     /* the current record's lines, comments removed */
	size_t lines_cap;
};

/* ---- opening ---- */

static err *slt__reader_adopt(char *text, size_t len, struct slt_reader **out)
{
	struct slt_reader *r = calloc(1, sizeof *r);
	if (!r) {
		free(text);
		return err_new(ERR_NOMEM, "out of memory");
	}
	r->text = text;
	r->len = len;
	buf_init(&r->sql, SLT_SQL_MAX_BYTES + 1);
	*out = r;
	return NULL;
}

err *slt_reader_open_text(const char *text, size_t len, struct slt_reader **out)
{
	*out = NULL;
	if (len > SLT_FILE_MAX_BYTES)
		return err_new(ERR_LIMIT, "text of %zu bytes is larger than %zu", len,
		               SLT_FILE_MAX_BYTES);
	char *copy = malloc(len + 1);
	if (!copy)
		return err_new(ERR_NOMEM, "out of memory");
	memcpy(copy, text, len);
	copy[len] = '\0';
	return slt__reader_adopt(copy, len, out);
}

err *slt_reader_open(const char *path, struct slt_reader **out)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return err_new(errno == ENOENT ? ERR_NOT_FOUND : ERR_IO, "%s: %s", path,
		               strerror(errno));
	struct buf b;
	buf_init(&b, SLT_FILE_MAX_BYTES + 1);
	err *e = NULL;
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		e = buf_append(&b, chunk, n);
		if (e) {
			e = err_wrap(e, "%s is too large", path);
			break;
		}
	}
	if (!e && ferror(f))
		e = err_new(ERR_IO, "%s: read failed", path);
	fclose(f);
	if (!e)
		e = buf_append(&b, "", 1);
	if (e) {
		buf_free(&b);
		return e;
	}
	return slt__reader_adopt((char *)b.data, b.len - 1, out);
}

void slt_reader_close(struct slt_reader *r)
{
	if (!r)
		return;
	free(r->text);
	buf_free(&r->sql);
	free(r->lines);
	free(r);
}

/* ---- lines ---- */

/* Cuts the next line out of the text and returns it, or NULL at the end of the text. */
static char *slt__next_line(struct slt_reader *r)
{
	if (r->pos >= r->len)
		return NULL;
	char *start = r->text + r->pos;
	char *nl = memchr(start, '\n', r->len - r->pos);
	size_t line_len = nl ? (size_t)(nl - start) : r->len - r->pos;
	start[line_len] = '\0';
	if (line_len > 0 && start[line_len - 1] == '\r')
		start[line_len - 1] = '\0';
	r->pos += line_len + (nl ? 1 : 0);
	r->line_no++;
	assert(r->pos <= r->len);
	return start;
}

static bool slt__is_blank(const char *line)
{
	for (; *line; line++)
		if (*line != ' ' && *line != '\t')
			return false;
	return true;
}

static bool slt__is_comment(const char *line)
{
	return line[0] == '#';
}

static err *slt__push_line(struct slt_reader *r, size_t count, char *line)
{
	if (count == r->lines_cap) {
		size_t cap = r->lines_cap ? 2 * r->lines_cap : 64;
		char **lines = realloc(r->lines, cap * sizeof *lines);
		if (!lines)
			return err_new(ERR_NOMEM, "out of memory reading a record");
		r->lines = lines;
		r->lines_cap = cap;
	}
	r->lines[count] = line;
	return NULL;
}

/*
 * Splits off the next whitespace-separated token at *cursor (writing a NUL after it) and
 * returns it, or NULL when only blanks are left.
 */
static char *slt__token(char **cursor)
{
	char *p = *cursor;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p) {
		*cursor = p;
		return NULL;
	}
	char *start = p;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	if (*p)
		*p++ = '\0';
	*cursor = p;
	return start;
}

/* True when the first token of `line` is `word` (the line is not changed). */
static bool slt__first_word_is(const char *line, const char *word)
{
	while (*line == ' ' || *line == '\t')
		line++;
	size_t len = strlen(word);
	return strncmp(line, word, len) == 0 &&
	       (line[len] == '\0' || line[len] == ' ' || line[len] == '\t');
}

/* ---- records ---- */

static void slt__malformed(struct slt_record *rec, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void slt__malformed(struct slt_record *rec, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rec->reason, sizeof rec->reason, fmt, ap);
	va_end(ap);
	rec->kind = SLT_MALFORMED;
}

/* Joins lines[from..to) with '\n' into the reader's SQL buffer. */
static err *slt__join_sql(struct slt_reader *r, struct slt_record *rec, size_t from, size_t to)
{
	buf_clear(&r->sql);
	for (size_t i = from; i < to; i++) {
		if (i > from)
			TRY(buf_append(&r->sql, "\n", 1));
		TRY(buf_append(&r->sql, r->lines[i], strlen(r->lines[i])));
	}
	TRY(buf_append(&r->sql, "", 1));
	rec->sql = (const char *)r->sql.data;
	rec->sql_len = r->sql.len - 1;
	return NULL;
}

static bool slt__parse_sort(const char *word, enum slt_sort *out)
{
	static const struct {
		const char *name;
		enum slt_sort sort;
	} modes[] = {
	    {"nosort", SLT_NOSORT}, {"rowsort", SLT_ROWSORT}, {"valuesort", SLT_VALUESORT}};
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		if (strcmp(word, modes[i].name) == 0) {
			*out = modes[i].sort;
			return true;
		}
	}
	return false;
}

/* Interprets a query record: header tokens at `cursor`, SQL and results in lines[at..n). */
static err *slt__parse_query(struct slt_reader *r, struct slt_record *rec, char *cursor, size_t at,
                             size_t n)
{
	char *types = slt__token(&cursor);
	char *sort = slt__token(&cursor);
	char *label = slt__token(&cursor);
	if (!types || strspn(types, "IRT") != strlen(types)) {
		slt__malformed(rec, "query needs a type string of I, R and T");
		return NULL;
	}
	if (strlen(types) > SLT_MAX_COLUMNS) {
		slt__malformed(rec, "query has more than %d columns", SLT_MAX_COLUMNS);
		return NULL;
	}
	rec->kind = SLT_QUERY;
	rec->types = types;
	rec->column_count = strlen(types);
	if (sort && !slt__parse_sort(sort, &rec->sort)) {
		slt__malformed(rec, "unknown sort mode '%.40s'", sort);
		return NULL;
	}
	rec->label = label;
	if (slt__token(&cursor)) {
		slt__malformed(rec, "unexpected words after the query label");
		return NULL;
	}
	size_t sep = at;
	while (sep < n && strcmp(r->lines[sep], "----") != 0)
		sep++;
	if (sep == at) {
		slt__malformed(rec, "query without SQL");
		return NULL;
	}
	TRY(slt__join_sql(r, rec, at, sep));
	if (sep < n) {
		rec->expected = (const char *const *)&r->lines[sep + 1];
		rec->expected_count = n - sep - 1;
	}
	return NULL;
}

/* Interprets the record in lines[0..n) (n >= 1). */
static err *slt__parse_record(struct slt_reader *r, struct slt_record *rec, size_t n)
{
	size_t at = 0;
	for (; at < n; at++) {
		char *cursor = r->lines[at];
		bool only_if = slt__first_word_is(cursor, "onlyif");
		if (!only_if && !slt__first_word_is(cursor, "skipif"))
			break;
		slt__token(&cursor);
		char *engine = slt__token(&cursor);
		if (!engine) {
			slt__malformed(rec, "%s without an engine name",
			               only_if ? "onlyif" : "skipif");
			return NULL;
		}
		if (rec->condition_count == SLT_MAX_CONDITIONS) {
			slt__malformed(rec, "more than %d conditions", SLT_MAX_CONDITIONS);
			return NULL;
		}
		rec->conditions[rec->condition_count++] =
		    (struct slt_condition){.only_if = only_if, .engine = engine};
	}
	if (at == n) {
		slt__malformed(rec, "conditions without a statement or query");
		return NULL;
	}
	char *cursor = r->lines[at++];
	char *word = slt__token(&cursor);
	assert(word != NULL); /* blank lines never enter a record */
	if (strcmp(word, "statement") == 0) {
		char *outcome = slt__token(&cursor);
		if (outcome && strcmp(outcome, "ok") == 0 && !slt__token(&cursor)) {
			rec->kind = SLT_STATEMENT_OK;
		} else if (outcome && strcmp(outcome, "error") == 0) {
			rec->kind = SLT_STATEMENT_ERROR;
			while (*cursor == ' ' || *cursor == '\t')
				cursor++;
			rec->error_pattern = *cursor ? cursor : NULL;
		} else {
			slt__malformed(rec, "statement must be followed by ok or error");
			return NULL;
		}
		if (at == n) {
			slt__malformed(rec, "statement without SQL");
			return NULL;
		}
		return slt__join_sql(r, rec, at, n);
	}
	if (strcmp(word, "query") == 0)
		return slt__parse_query(r, rec, cursor, at, n);
	if (strcmp(word, "hash-threshold") == 0) {
		char *number = slt__token(&cursor);
		uint64_t v = 0;
		err *bad = number ? number_parse_u64(number, UINT32_MAX, &v) : NULL;
		err_free(bad);
		if (!number || bad) {
			slt__malformed(rec, "hash-threshold needs a number");
			return NULL;
		}
		rec->kind = SLT_HASH_THRESHOLD;
		rec->hash_threshold = v;
		return NULL;
	}
	if (strcmp(word, "halt") == 0) {
		rec->kind = SLT_HALT;
		return NULL;
	}
	slt__malformed(rec, "unknown record type '%.40s'", word);
	return NULL;
}

err *slt_reader_next(struct slt_reader *r, struct slt_record *rec, bool *done)
{
	memset(rec, 0, sizeof *rec);
	*done = false;
	char *line;
	while ((line = slt__next_line(r)) && (slt__is_blank(line) || slt__is_comment(line)))
		;
	if (!line) {
		*done = true;
		return NULL;
	}
	rec->line = r->line_no;
	size_t n = 0;
	bool too_long = false;
	for (; line && !slt__is_blank(line); line = slt__next_line(r)) {
		if (slt__is_comment(line))
			continue;
		if (n == SLT_MAX_RECORD_LINES) {
			too_long = true; /* read on to the end of the record, keeping nothing */
			continue;
		}
		TRY(slt__push_line(r, n++, line));
	}
	if (too_long) {
		slt__malformed(rec, "record longer than %zu lines", (size_t)SLT_MAX_RECORD_LINES);
		return NULL;
	}
	assert(n >= 1);
	err *e = slt__parse_record(r, rec, n);
	if (e && err_is(e, ERR_LIMIT)) {
		slt__malformed(rec, "%.100s", err_msg(e));
		err_free(e);
		return NULL;
	}
	return e;
}
