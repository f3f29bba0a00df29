/*
 * repl.h — the REPL's command handling, apart from its input and its transport.
 *
 * A `struct repl` is fed input one line at a time (from readline, a pipe or a test) and
 * talks to the database only through a connection (net/repl_conn.h), so the same code
 * serves an embedded database now and a remote node later.
 *
 * Input. A line starting with '!' when no statement is pending is a command:
 *     !help  !quit  !tables  !table NAME  !headers on|off
 * A connection may add commands of its own (repl_conn.h's `command` op: !status, ...).
 * Anything else is SQL, collected across lines until sql_statement_complete() says the
 * text ends a statement (a ';' outside strings and comments) or, for a statement typed
 * on one line, until that line parses as whole statements; then it is executed
 * statement by statement, each result printed as net/repl_print.h says. Errors print
 * "Error: ..." and the session goes on; repl_failures() counts them (commands included).
 *
 * Prompts (repl_prompt()): "cairn> " outside a transaction; inside one, toyDB's style with
 * the transaction's read version: "cairn:12> " for a read-write transaction, "cairn@12> "
 * for a read-only one (READ ONLY, or AS OF SYSTEM TIME 12). While a statement continues
 * over several lines the prompt is "...> " right-aligned to the same width.
 */
#ifndef CAIRN_NET_REPL_H
#define CAIRN_NET_REPL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/buf.h"
#include "base/err.h"
#include "net/repl_conn.h"

/* A statement may span at most this many bytes of input. */
#define REPL_PENDING_MAX_BYTES ((size_t)1 << 20)
#define REPL_PROMPT_BYTES 48

struct repl {
	struct repl_conn *conn; /* borrowed */
	FILE *out;              /* results */
	FILE *errors;           /* "Error: ..." lines */
	bool headers;
	bool quit;            /* !quit was given */
	uint64_t failures;    /* statements and commands that failed */
	struct buf pending;   /* SQL lines read so far of an unfinished statement */
	uint64_t txn_version; /* the open transaction's read version (when one is open) */
	bool txn_read_only;
};

void repl_init(struct repl *r, struct repl_conn *conn, FILE *out, FILE *errors);
void repl_free(struct repl *r);

/*
 * Feeds one line of input (without its newline). Runs the command or, when the line
 * completes a statement, every statement collected so far.
 */
void repl_feed_line(struct repl *r, const char *line);

/* At the end of input: runs what is pending even without its ';'. */
void repl_finish(struct repl *r);

/* Runs text[0..len) as SQL statements (or as one command if it starts with '!'). */
void repl_run_text(struct repl *r, const char *text, size_t len);

/* True while a statement is unfinished (the next line continues it). */
bool repl_pending(const struct repl *r);

/* Forgets the unfinished statement's lines (the user pressed Ctrl-C). */
void repl_discard_pending(struct repl *r);

/* The prompt for the next line (see above), written into buf. */
const char *repl_prompt(struct repl *r, char buf[REPL_PROMPT_BYTES]);

#endif
