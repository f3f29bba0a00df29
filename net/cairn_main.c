/*
 * cairn_main.c — cairn, the SQL shell.
 *
 *     cairn [--local DIR | --local :memory:] [-c SQL]
 *
 * --local opens (or creates) a single-node database in DIR, in this process: no network,
 * no Raft. ":memory:" (the default) keeps it in memory. With -c the SQL runs and cairn
 * exits; otherwise statements come from the terminal (GNU readline, with history in
 * ~/.cairn_history) or, when stdin is not a terminal, from stdin without prompts. In -c
 * and stdin mode the exit status is 1 when any statement or command failed.
 *
 * Everything but reading lines is net/repl.h; the database is reached through a
 * connection (net/repl_conn.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "net/repl.h"

#define CAIRN_HISTORY_ENTRIES 1000
#define CAIRN_HISTORY_FILE ".cairn_history"

static void cairn__usage(FILE *out)
{
	fprintf(out, "usage: cairn [--local DIR|:memory:] [-c SQL]\n"
	             "  --local DIR   open or create a single-node database in DIR, in process\n"
	             "                (\":memory:\", the default, keeps it in memory)\n"
	             "  -c SQL        run SQL (or a !command) and exit\n"
	             "Without -c, statements are read from the terminal or from stdin.\n");
}

/* NUL-terminates the buffer's text; false if there was no room. */
static bool cairn__terminate(struct buf *b)
{
	err *e = buf_append(b, "", 1);
	err_free(e);
	return e == NULL;
}

/* ---- the terminal ---- */

static bool cairn__history_path(char *path, size_t size)
{
	const char *home = getenv("HOME");
	return home && home[0] &&
	       (size_t)snprintf(path, size, "%s/%s", home, CAIRN_HISTORY_FILE) < size;
}

/* Appends `line` to the history entry being built; false if it does not fit. */
static bool cairn__entry_add(struct buf *entry, const char *line)
{
	err *e = NULL;
	if (entry->len > 0)
		e = buf_append(entry, " ", 1);
	if (!e)
		e = buf_append(entry, line, strlen(line));
	err_free(e);
	return e == NULL;
}

/* Reads lines with readline until !quit or Ctrl-D; whole statements go into the history. */
static void cairn__interactive(struct repl *repl, const char *where)
{
	char history[4096];
	bool has_history = cairn__history_path(history, sizeof history);
	using_history();
	stifle_history(CAIRN_HISTORY_ENTRIES);
	if (has_history)
		read_history(history);
	printf("cairn: %s. Statements end with ';'; !help for help.\n", where);
	struct buf entry; /* the statement being typed, its lines joined, for the history */
	buf_init(&entry, REPL_PENDING_MAX_BYTES);
	bool entry_ok = true;
	while (!repl->quit) {
		char prompt[REPL_PROMPT_BYTES];
		char *line = readline(repl_prompt(repl, prompt));
		if (!line) {
			fputc('\n', stdout);
			break;
		}
		entry_ok = entry_ok && cairn__entry_add(&entry, line);
		repl_feed_line(repl, line);
		free(line);
		if (!repl_pending(repl)) {
			if (entry_ok && entry.len > 0 && cairn__terminate(&entry))
				add_history((const char *)entry.data);
			buf_clear(&entry);
			entry_ok = true;
		}
	}
	buf_free(&entry);
	if (has_history) {
		write_history(history);
		history_truncate_file(history, CAIRN_HISTORY_ENTRIES);
	}
}

/* ---- piped input ---- */

/*
 * Reads stdin line by line into the REPL, no prompts. A line longer than the REPL takes
 * is reported and skipped. Returns when input ends or !quit is given.
 */
static void cairn__piped(struct repl *repl)
{
	struct buf line;
	buf_init(&line, REPL_PENDING_MAX_BYTES);
	char chunk[4096];
	bool too_long = false;
	while (!repl->quit && fgets(chunk, sizeof chunk, stdin)) {
		size_t n = strlen(chunk);
		bool complete = n > 0 && chunk[n - 1] == '\n';
		if (complete)
			chunk[--n] = '\0';
		if (!too_long) {
			err *e = buf_append(&line, chunk, n);
			too_long = e != NULL;
			err_free(e);
		}
		if (!complete && !feof(stdin))
			continue;
		if (too_long) {
			fprintf(stderr, "Error: input line too long, skipped\n");
			repl->failures++;
		} else if (cairn__terminate(&line)) {
			repl_feed_line(repl, (const char *)line.data);
		}
		buf_clear(&line);
		too_long = false;
	}
	buf_free(&line);
	if (!repl->quit)
		repl_finish(repl);
}

int main(int argc, char **argv)
{
	const char *path = ":memory:";
	const char *command = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--local") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			command = argv[++i];
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			cairn__usage(stdout);
			return 0;
		} else {
			cairn__usage(stderr);
			return 2;
		}
	}
	struct repl_conn *conn;
	err *e = repl_conn_open_local(path, &conn);
	if (e) {
		fprintf(stderr, "cairn: %s\n", err_msg(e));
		err_free(e);
		return 1;
	}
	struct repl repl;
	repl_init(&repl, conn, stdout, stderr);
	bool interactive = !command && isatty(STDIN_FILENO);
	if (command) {
		repl_run_text(&repl, command, strlen(command));
	} else if (interactive) {
		char where[4200];
		snprintf(where, sizeof where, "%s%s",
		         strcmp(path, ":memory:") == 0 ? "an in-memory database" : "database in ",
		         strcmp(path, ":memory:") == 0 ? "" : path);
		cairn__interactive(&repl, where);
	} else {
		cairn__piped(&repl);
	}
	int status = !interactive && repl.failures > 0 ? 1 : 0;
	repl_free(&repl);
	repl_conn_close(conn);
	return status;
}
