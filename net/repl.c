/*
 * repl.c — the REPL's commands and statement handling (input and transport live elsewhere).
 */
#include "net/repl.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "net/repl_print.h"
#include "sql/parser.h"

/* One input text may hold at most this many statements. */
#define REPL_MAX_STATEMENTS 100000

static const char repl__help[] =
    "Enter SQL statements, or a command. A statement on one line needs no ';'; one that\n"
    "spans lines ends with ';'. Commands:\n"
    "  !help            show this help\n"
    "  !tables          list the tables\n"
    "  !table NAME      show the CREATE TABLE statement of table NAME\n"
    "  !headers on|off  print column names above query results\n"
    "  !quit            leave (so does Ctrl-D)\n"
    "The prompt shows an open transaction: cairn:V> (read-write) or cairn@V> (read-only),\n"
    "V being the version the transaction reads.\n";

void repl_init(struct repl *r, struct repl_conn *conn, FILE *out, FILE *errors)
{
	assert(conn != NULL && out != NULL && errors != NULL);
	memset(r, 0, sizeof *r);
	r->conn = conn;
	r->out = out;
	r->errors = errors;
	buf_init(&r->pending, REPL_PENDING_MAX_BYTES);
}

void repl_free(struct repl *r)
{
	buf_free(&r->pending);
}

bool repl_pending(const struct repl *r)
{
	return r->pending.len > 0;
}

void repl_discard_pending(struct repl *r)
{
	buf_clear(&r->pending);
}

static void repl__fail(struct repl *r, const char *message)
{
	fflush(r->out); /* after the output before it, when both go to one file */
	fprintf(r->errors, "Error: %s\n", message);
	r->failures++;
}

/* ---- SQL ---- */

/*
 * An error's "at line L, column C" counts from the statement's own start: the text
 * before it (earlier statements of the same input) is added, so that the position is
 * where the user typed it. Messages without a position stay as they are.
 */
static void repl__locate_error(struct sql_result *res, const char *text, size_t at)
{
	static const char marker[] = " at line ";
	const char *msg = err_msg(res->error);
	const char *p = strstr(msg, marker);
	unsigned line, column;
	int used = 0;
	if (at == 0 || !p ||
	    sscanf(p + strlen(marker), "%u, column %u%n", &line, &column, &used) != 2)
		return;
	unsigned before_lines = 0;
	size_t line_start = 0;
	for (size_t i = 0; i < at; i++)
		if (text[i] == '\n') {
			before_lines++;
			line_start = i + 1;
		}
	if (line == 1)
		column += (unsigned)(at - line_start);
	line += before_lines;
	err *moved = err_new(err_code(res->error), "%.*s at line %u, column %u%s", (int)(p - msg),
	                     msg, line, column, p + strlen(marker) + used);
	err_free(res->error);
	res->error = moved;
}

static void repl__run_sql(struct repl *r, const char *text, size_t len)
{
	size_t at = 0;
	for (int n = 0; at < len && n < REPL_MAX_STATEMENTS; n++) {
		struct sql_result res;
		size_t used = 0;
		size_t start = at;
		repl_conn_execute(r->conn, text + at, len - at, &res, &used);
		at = used == 0 || used > len - at ? len : at + used;
		if (res.kind == SQL_RESULT_ERROR) {
			r->failures++;
			repl__locate_error(&res, text, start);
		}
		if (res.kind == SQL_RESULT_ACK && res.ack == SQL_ACK_BEGIN) {
			r->txn_version = res.version;
			r->txn_read_only = res.read_only;
		}
		err *e = repl_print_result(&res, r->headers, r->out, r->errors);
		sql_result_free(&res);
		if (e) {
			repl__fail(r, err_msg(e));
			err_free(e);
		}
	}
	fflush(r->out);
	fflush(r->errors);
}

/* ---- commands ---- */

static void repl__tables(struct repl *r)
{
	struct sql_names names;
	err *e = repl_conn_tables(r->conn, &names);
	if (e) {
		repl__fail(r, err_msg(e));
		err_free(e);
		return;
	}
	for (size_t i = 0; i < names.count; i++)
		fprintf(r->out, "%s\n", names.names[i]);
	sql_names_free(&names);
}

static void repl__table(struct repl *r, const char *name)
{
	struct buf text;
	buf_init(&text, REPL_PENDING_MAX_BYTES);
	err *e = repl_conn_describe_table(r->conn, name, &text);
	if (e) {
		repl__fail(r, err_msg(e));
		err_free(e);
	} else {
		size_t n = strnlen(text.len ? (const char *)text.data : "", text.len);
		fwrite(text.data, 1, n, r->out);
		if (n == 0 || text.data[n - 1] != '\n')
			fputc('\n', r->out);
	}
	buf_free(&text);
}

/* Splits off the next blank-separated word of *cursor (in place); NULL when none is left. */
static char *repl__word(char **cursor)
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

/*
 * Offers command `name` to the connection (its `command` op), with the rest of the line
 * after the name as arguments. False if the connection has no such command.
 */
static bool repl__conn_command(struct repl *r, const char *name, const char *line, size_t len)
{
	if (!r->conn->ops->command)
		return false;
	size_t at = 1;
	while (at < len && (line[at] == ' ' || line[at] == '\t'))
		at++;
	at += strlen(name);
	while (at < len && (line[at] == ' ' || line[at] == '\t'))
		at++;
	while (len > at && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	char args[512];
	assert(len - at < sizeof args); /* repl__command refuses longer lines */
	memcpy(args, line + at, len - at);
	args[len - at] = '\0';
	err *failure = NULL;
	if (!r->conn->ops->command(r->conn, name, args, r->out, &failure))
		return false;
	if (failure) {
		repl__fail(r, err_msg(failure));
		err_free(failure);
	}
	return true;
}

/* Runs command line `line` (starting with '!'). */
static void repl__command(struct repl *r, const char *line, size_t len)
{
	char copy[512];
	if (len >= sizeof copy) {
		repl__fail(r, "command too long");
		return;
	}
	memcpy(copy, line, len);
	copy[len] = '\0';
	char *cursor = copy + 1;
	char *name = repl__word(&cursor);
	char *arg = repl__word(&cursor);
	char *extra = repl__word(&cursor);
	int args = (arg != NULL) + (extra != NULL);
	char message[600];
	if (name && strcmp(name, "help") == 0 && args == 0) {
		fputs(repl__help, r->out);
		if (r->conn->ops->command_help)
			fputs(r->conn->ops->command_help, r->out);
	} else if (name && (strcmp(name, "quit") == 0 || strcmp(name, "exit") == 0) && args == 0) {
		r->quit = true;
	} else if (name && strcmp(name, "tables") == 0 && args == 0) {
		repl__tables(r);
	} else if (name && strcmp(name, "table") == 0 && args == 1) {
		repl__table(r, arg);
	} else if (name && strcmp(name, "headers") == 0 && args == 1 &&
	           (strcmp(arg, "on") == 0 || strcmp(arg, "off") == 0)) {
		r->headers = strcmp(arg, "on") == 0;
	} else if (name && (strcmp(name, "table") == 0 || strcmp(name, "headers") == 0)) {
		snprintf(message, sizeof message, "usage: !%s %s", name,
		         name[0] == 't' ? "NAME" : "on|off");
		repl__fail(r, message);
	} else if (name && repl__conn_command(r, name, line, len)) {
		/* the connection's own command (net/repl_conn.h) ran */
	} else {
		snprintf(message, sizeof message, "unknown command !%s (try !help)",
		         name ? name : "");
		repl__fail(r, message);
	}
	fflush(r->out);
	fflush(r->errors);
}

/* ---- input ---- */

static bool repl__blank(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r')
			return false;
	return true;
}

void repl_run_text(struct repl *r, const char *text, size_t len)
{
	size_t skip = 0;
	while (skip < len && (text[skip] == ' ' || text[skip] == '\t' || text[skip] == '\n'))
		skip++;
	if (skip < len && text[skip] == '!')
		repl__command(r, text + skip, len - skip);
	else
		repl__run_sql(r, text, len);
}

static void repl__run_pending(struct repl *r)
{
	if (!repl__blank((const char *)r->pending.data, r->pending.len))
		repl__run_sql(r, (const char *)r->pending.data, r->pending.len);
	buf_clear(&r->pending);
}

/*
 * True when the pending text is a single line that runs without a final ';': it parses
 * as whole statements (`SELECT * FROM movie`, `BEGIN; SELECT 1`), or it has an error no
 * further line could mend (`SELEC 1`), which is reported at once. A line that stops
 * early (`SELECT a FROM`) waits for more, and the text then runs at its ';'.
 */
static bool repl__one_line_statement(const struct repl *r)
{
	const char *text = (const char *)r->pending.data;
	assert(r->pending.len > 0 && text[r->pending.len - 1] == '\n');
	if (memchr(text, '\n', r->pending.len - 1))
		return false;
	return !sql_text_unfinished(text, r->pending.len);
}

void repl_feed_line(struct repl *r, const char *line)
{
	size_t len = strlen(line);
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (!repl_pending(r)) {
		size_t skip = 0;
		while (skip < len && (line[skip] == ' ' || line[skip] == '\t'))
			skip++;
		if (skip == len)
			return;
		if (line[skip] == '!') {
			repl__command(r, line + skip, len - skip);
			return;
		}
	}
	err *e = buf_append(&r->pending, line, len);
	if (!e)
		e = buf_append(&r->pending, "\n", 1);
	if (e) {
		err_free(e);
		buf_clear(&r->pending);
		repl__fail(r, "statement too long");
		return;
	}
	if (sql_statement_complete((const char *)r->pending.data, r->pending.len) ||
	    repl__one_line_statement(r))
		repl__run_pending(r);
}

void repl_finish(struct repl *r)
{
	repl__run_pending(r);
}

const char *repl_prompt(struct repl *r, char buf[REPL_PROMPT_BYTES])
{
	char main_prompt[REPL_PROMPT_BYTES];
	if (repl_conn_in_transaction(r->conn))
		snprintf(main_prompt, sizeof main_prompt, "cairn%c%" PRIu64 "> ",
		         r->txn_read_only ? '@' : ':', r->txn_version);
	else
		snprintf(main_prompt, sizeof main_prompt, "cairn> ");
	if (!repl_pending(r)) {
		memcpy(buf, main_prompt, sizeof main_prompt);
		return buf;
	}
	int width = (int)strlen(main_prompt);
	snprintf(buf, REPL_PROMPT_BYTES, "%*s", width, "...> ");
	return buf;
}
