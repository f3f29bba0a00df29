/*
 * repl_conn_local.c — the embedded connection: a database opened in this process and one
 * session on it. Every operation is a direct call into sql/database.h.
 */
#include "net/repl_conn.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "node/node.h"

struct repl_conn_local {
	struct repl_conn base; /* first, so a struct repl_conn * converts back */
	struct sql_db *db;
	struct sql_session *session;
};

static struct repl_conn_local *repl_conn__local(struct repl_conn *c)
{
	assert(c != NULL);
	struct repl_conn_local *l = (struct repl_conn_local *)c;
	assert(l->db != NULL && l->session != NULL);
	return l;
}

static void repl_conn__local_execute(struct repl_conn *c, const char *text, size_t len,
                                     struct sql_result *out, size_t *consumed)
{
	sql_session_execute(repl_conn__local(c)->session, text, len, out, consumed);
}

static bool repl_conn__local_in_transaction(struct repl_conn *c)
{
	return sql_session_in_transaction(repl_conn__local(c)->session);
}

static err *repl_conn__local_tables(struct repl_conn *c, struct sql_names *out)
{
	return sql_session_tables(repl_conn__local(c)->session, out);
}

static err *repl_conn__local_describe_table(struct repl_conn *c, const char *name, struct buf *out)
{
	return sql_session_describe_table(repl_conn__local(c)->session, name, out);
}

static void repl_conn__local_close(struct repl_conn *c)
{
	struct repl_conn_local *l = repl_conn__local(c);
	sql_session_close(l->session);
	sql_db_close(l->db);
	free(l);
}

static const struct repl_conn_ops repl_conn__local_ops = {
    .execute = repl_conn__local_execute,
    .in_transaction = repl_conn__local_in_transaction,
    .tables = repl_conn__local_tables,
    .describe_table = repl_conn__local_describe_table,
    .close = repl_conn__local_close,
};

/*
 * Refuses a cairnd node's data directory: a single-node database there would be a new,
 * empty one beside the node's.
 */
static err *repl__refuse_node_data(const char *path)
{
	static const char *const node_files[] = {NODE_RAFT_DIR, NODE_STATE_FILE};
	for (size_t i = 0; i < sizeof node_files / sizeof *node_files; i++) {
		char file[4096];
		struct stat st;
		if ((size_t)snprintf(file, sizeof file, "%s/%s", path, node_files[i]) <
		        sizeof file &&
		    stat(file, &st) == 0)
			return err_new(ERR_INVALID,
			               "%s holds a cairnd node's data (" NODE_RAFT_DIR
			               "/, " NODE_STATE_FILE
			               "), not a single-node database: connect "
			               "to the node instead (cairn -p PORT)",
			               path);
	}
	return NULL;
}

err *repl_conn_open_local(const char *path, struct repl_conn **out)
{
	assert(path != NULL && out != NULL);
	*out = NULL;
	TRY(repl__refuse_node_data(path));
	struct repl_conn_local *l = calloc(1, sizeof *l);
	if (!l)
		return err_new(ERR_NOMEM, "out of memory opening %s", path);
	l->base.ops = &repl_conn__local_ops;
	err *e = sql_db_open(path, &l->db);
	if (e)
		goto err_after_alloc;
	e = sql_session_open(l->db, &l->session);
	if (e)
		goto err_after_db;
	*out = &l->base;
	return NULL;

err_after_db:
	sql_db_close(l->db);
err_after_alloc:
	free(l);
	return e; /* sql_db_open() names the path */
}
