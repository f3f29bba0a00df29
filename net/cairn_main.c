/*
 * cairn_main.c — cairn, the SQL shell.
 *
 *     cairn [-H HOST] [-p PORT] [-c SQL]
 *     cairn --embedded [-c SQL]
 *     cairn --local DIR|:memory: [-c SQL]
 *
 * By default cairn connects to the node at 127.0.0.1:9601 (-H and -p choose another):
 * one session on that node, over TCP. If nothing answers there and neither -H nor -p was
 * given, it starts an embedded cluster instead. --embedded runs a five-node cluster in
 * this process on the simulator's world, with commands to crash, restart and partition
 * its nodes (net/repl_cluster.h).
 * --local opens (or creates) a single-node database in DIR, in this process: no network,
 * no Raft. ":memory:" keeps it in memory. With -c the SQL runs and cairn
 * exits; otherwise statements come from the terminal (GNU readline, with history in
 * ~/.cairn_history) or, when stdin is not a terminal, from stdin without prompts. In -c
 * and stdin mode the exit status is 1 when any statement or command failed.
 *
 * Everything but reading lines is net/repl.h; the database is reached through a
 * connection (net/repl_conn.h).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "base/number.h"
#include "net/repl.h"
#include "net/repl_cluster.h"
#include "net/sock.h"

#define CAIRN_HISTORY_ENTRIES 1000
#define CAIRN_HISTORY_FILE ".cairn_history"

static void cairn__usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: cairn [-H HOST[:PORT]] [-p PORT] [--embedded] [--local DIR|:memory:] [-c SQL]\n"
	    "  -H HOST       the node to connect to (default 127.0.0.1); HOST:PORT gives its port\n"
	    "  -p PORT       its SQL port (default 9601)\n"
	    "  --embedded    run a five-node cluster in this process (simulated network)\n"
	    "  --local DIR   open or create a single-node database in DIR, in process\n"
	    "                (\":memory:\" keeps it in memory)\n"
	    "  -c SQL        run SQL (or a !command) and exit\n"
	    "  --version     print cairn's version\n"
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

/*
 * The terminal session, for readline's line callback (which takes no context). Ctrl-C
 * (SIGINT) at a prompt forgets the line being typed and the unfinished statement, as in
 * psql; while a statement runs it is ignored (the statement runs to its end).
 */
struct cairn__terminal {
	struct repl *repl;
	struct buf entry; /* the statement being typed, its lines joined, for the history */
	bool entry_ok;
	bool input_ended; /* Ctrl-D */
	bool line_done;   /* a line was handled: the prompt may have changed */
	bool prompting;   /* readline's line handler is installed */
};

static struct cairn__terminal *cairn__term;
static volatile sig_atomic_t cairn__interrupted;

static void cairn__on_sigint(int sig)
{
	(void)sig;
	cairn__interrupted = 1;
}

static void cairn__on_line(char *line)
{
	struct cairn__terminal *t = cairn__term;
	rl_callback_handler_remove(); /* the next prompt is installed once the line is handled */
	t->prompting = false;
	t->line_done = true;
	if (!line) {
		t->input_ended = true;
		return;
	}
	t->entry_ok = t->entry_ok && cairn__entry_add(&t->entry, line);
	repl_feed_line(t->repl, line);
	free(line);
	if (!repl_pending(t->repl)) {
		if (t->entry_ok && t->entry.len > 0 && cairn__terminate(&t->entry))
			add_history((const char *)t->entry.data);
		buf_clear(&t->entry);
		t->entry_ok = true;
	}
}

static void cairn__prompt(struct cairn__terminal *t)
{
	char prompt[REPL_PROMPT_BYTES];
	rl_callback_handler_install(repl_prompt(t->repl, prompt), cairn__on_line);
	t->prompting = true;
}

/* Ctrl-C at the prompt: a fresh line, nothing pending. */
static void cairn__interrupt(struct cairn__terminal *t)
{
	rl_free_line_state();
	rl_callback_sigcleanup();
	rl_callback_handler_remove();
	t->prompting = false;
	fputs("^C\n", stdout);
	repl_discard_pending(t->repl);
	buf_clear(&t->entry);
	t->entry_ok = true;
	cairn__prompt(t);
}

/* Reads lines with readline until !quit or Ctrl-D; whole statements go into the history. */
static void cairn__interactive(struct repl *repl, const char *greeting)
{
	char history[4096];
	bool has_history = cairn__history_path(history, sizeof history);
	using_history();
	stifle_history(CAIRN_HISTORY_ENTRIES);
	if (has_history)
		read_history(history);
	printf("%s Enter !help for instructions.\n", greeting);
	struct cairn__terminal t = {.repl = repl, .entry_ok = true};
	buf_init(&t.entry, REPL_PENDING_MAX_BYTES);
	cairn__term = &t;
	struct sigaction on_int = {.sa_handler = cairn__on_sigint}, before;
	sigemptyset(&on_int.sa_mask);
	sigaction(SIGINT, &on_int, &before); /* no SA_RESTART: poll() returns */
	cairn__prompt(&t);
	while (!repl->quit && !t.input_ended) {
		struct pollfd in = {.fd = STDIN_FILENO, .events = POLLIN};
		int ready = poll(&in, 1, -1);
		if (cairn__interrupted) {
			cairn__interrupted = 0;
			cairn__interrupt(&t);
			continue;
		}
		if (ready < 0 && errno != EINTR)
			break;
		if (ready <= 0)
			continue;
		t.line_done = false;
		rl_callback_read_char();
		if (t.line_done && !repl->quit && !t.input_ended) {
			cairn__interrupted = 0; /* one pressed while the statement ran */
			cairn__prompt(&t);
		}
	}
	if (t.prompting)
		rl_callback_handler_remove();
	if (t.input_ended)
		fputc('\n', stdout);
	sigaction(SIGINT, &before, NULL);
	cairn__term = NULL;
	buf_free(&t.entry);
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

/*
 * Opens what the options ask for: a local database (`path`), the embedded cluster, or a
 * node at host:port (port 0: 9601), falling back to the embedded cluster when no address
 * was given and nobody answers at the default one. `greeting` says what was opened.
 */
static err *cairn__open(const char *path, bool embedded, const char *host, uint16_t port,
                        char greeting[REPL_CLUSTER_GREETING_BYTES], struct repl_conn **conn)
{
	if (path) {
		snprintf(greeting, REPL_CLUSTER_GREETING_BYTES, "cairn: %.*s%s.", 100,
		         strcmp(path, ":memory:") == 0 ? "an in-memory database" : "database in ",
		         strcmp(path, ":memory:") == 0 ? "" : path);
		return repl_conn_open_local(path, conn);
	}
	uint64_t seed = 0;
	if (getrandom(&seed, sizeof seed, 0) != sizeof seed || seed == 0)
		seed = 1;
	if (embedded)
		return repl_conn_open_embedded(seed, greeting, conn);
	err *e = repl_conn_open_remote(host, port ? port : 9601, greeting, conn);
	if (!e || host || port)
		return e;
	fprintf(stderr, "cairn: %s; starting an embedded cluster instead (--embedded)\n",
	        err_msg(e));
	err_free(e);
	return repl_conn_open_embedded(seed, greeting, conn);
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	const char *command = NULL;
	const char *host = NULL;
	uint64_t port = 0;
	bool embedded = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--local") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else if (strcmp(argv[i], "-H") == 0 && i + 1 < argc) {
			host = argv[++i];
		} else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc) {
			err *e = number_parse_u64(argv[++i], UINT16_MAX, &port);
			if (e || port == 0) {
				fprintf(stderr, "cairn: -p: a port from 1 to 65535%s%s\n",
				        e ? ": " : "", e ? err_msg(e) : "");
				err_free(e);
				return 2;
			}
		} else if (strcmp(argv[i], "--embedded") == 0) {
			embedded = true;
		} else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			if (command) {
				fprintf(stderr, "cairn: -c given twice; give one, its statements "
				                "separated by ';'\n");
				return 2;
			}
			command = argv[++i];
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			cairn__usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("cairn %s\n", CAIRN_VERSION);
			return 0;
		} else {
			bool known = !strcmp(argv[i], "--local") || !strcmp(argv[i], "-H") ||
			             !strcmp(argv[i], "-p") || !strcmp(argv[i], "-c");
			fprintf(stderr, "cairn: %s %s\n", argv[i],
			        known ? "needs a value" : "is not an option");
			cairn__usage(stderr);
			return 2;
		}
	}
	struct net_addr at; /* -H HOST:PORT, as cairn-bench's -H takes it */
	if (host && strchr(host, ':')) {
		err *e = port ? err_new(ERR_INVALID, "the port is given twice, here and by -p")
		              : net_addr_parse(host, &at);
		if (e) {
			fprintf(stderr, "cairn: -H %s: %s\n", host, err_msg(e));
			err_free(e);
			return 2;
		}
		host = at.host;
		port = at.port;
	}
	if ((path != NULL) + embedded + (host || port) > 1) {
		fprintf(stderr, "cairn: choose one of --local, --embedded, or a node (-H, -p)\n");
		cairn__usage(stderr);
		return 2;
	}
	struct repl_conn *conn;
	char greeting[REPL_CLUSTER_GREETING_BYTES];
	err *e = cairn__open(path, embedded, host, (uint16_t)port, greeting, &conn);
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
		cairn__interactive(&repl, greeting);
	} else {
		cairn__piped(&repl);
	}
	int status = !interactive && repl.failures > 0 ? 1 : 0;
	repl_free(&repl);
	repl_conn_close(conn);
	return status;
}
