/*
 * repl_conn.h — a client's connection to a cairn database: SQL text in, results out.
 *
 * The REPL (net/repl.h) and the sqllogictest runner (net/slt_run.h) talk to a database
 * only through this small interface, so they do not care where the database is. Here
 * is the local one (repl_conn_open_local(): a database opened in this process from a
 * directory or ":memory:"); net/repl_cluster.h adds a remote one (a TCP client speaking
 * the client protocol of design §8 to any node) and an embedded five-node cluster. All
 * provide the same operations; results travel as the same `struct sql_result`.
 *
 * A connection is one SQL session: it holds at most one open transaction.
 */
#ifndef CAIRN_NET_REPL_CONN_H
#define CAIRN_NET_REPL_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/buf.h"
#include "base/err.h"
#include "sql/database.h"

struct repl_conn;

struct repl_conn_ops {
	/*
	 * Executes the first statement of text[0..len): *out is always filled in (an error is
	 * an SQL_RESULT_ERROR result, also when the connection itself failed) and *consumed
	 * says how many bytes the statement took. Same contract as sql_session_execute().
	 */
	void (*execute)(struct repl_conn *c, const char *text, size_t len, struct sql_result *out,
	                size_t *consumed);
	/* True while an explicit transaction is open. */
	bool (*in_transaction)(struct repl_conn *c);
	/* The table names, sorted. */
	err *(*tables)(struct repl_conn *c, struct sql_names *out);
	/* Appends the CREATE TABLE (and CREATE INDEX) statements of table `name`. */
	err *(*describe_table)(struct repl_conn *c, const char *name, struct buf *out);
	/* Closes the connection (rolling back an open transaction) and frees it. */
	void (*close)(struct repl_conn *c);
	/*
	 * Optional (NULL: none): runs a command this connection adds to the REPL ("!status",
	 * "!crash 2"). `name` is the word after '!', `args` the rest of the line, trimmed.
	 * Returns false when the connection has no such command; otherwise it wrote its
	 * output to `out` and set *failure to an error if the command failed.
	 */
	bool (*command)(struct repl_conn *c, const char *name, const char *args, FILE *out,
	                err **failure);
	/* Optional: help lines for those commands, appended to !help. */
	const char *command_help;
};

struct repl_conn {
	const struct repl_conn_ops *ops;
};

/*
 * Opens an embedded single-node database (no network, no Raft) in directory `path`
 * (created if missing) or in memory when path is ":memory:", and one session on it.
 */
err *repl_conn_open_local(const char *path, struct repl_conn **out);

static inline void repl_conn_execute(struct repl_conn *c, const char *text, size_t len,
                                     struct sql_result *out, size_t *consumed)
{
	c->ops->execute(c, text, len, out, consumed);
}

static inline bool repl_conn_in_transaction(struct repl_conn *c)
{
	return c->ops->in_transaction(c);
}

static inline err *repl_conn_tables(struct repl_conn *c, struct sql_names *out)
{
	return c->ops->tables(c, out);
}

static inline err *repl_conn_describe_table(struct repl_conn *c, const char *name, struct buf *out)
{
	return c->ops->describe_table(c, name, out);
}

/* Closes and frees the connection; NULL is allowed. */
static inline void repl_conn_close(struct repl_conn *c)
{
	if (c)
		c->ops->close(c);
}

#endif
