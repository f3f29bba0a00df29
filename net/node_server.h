/*
 * node_server.h — a node's SQL port: client connections (net/server.h) become node
 * sessions (core/node/node.h), and the protocol's requests (net/protocol.h) become calls
 * into the node.
 *
 * One connection is one node session (node_session_open when it connects,
 * node_session_close when it leaves, rolling back an open transaction). Requests:
 *
 *   EXECUTE         the text is split into statements with the SQL parser and they are
 *                   submitted to the session one at a time, in order. The first statement
 *                   that fails stops the text: the response is its error, the statements
 *                   before it have taken effect and the ones after it never ran. When
 *                   every statement succeeds the response is the last one's result. Text
 *                   holding no statement is answered ACK "".
 *   STATUS          node_status_get(), as net_node_status_make() below describes.
 *   LIST_TABLES     ROWS with one column "table", one row per table name, sorted.
 *   DESCRIBE_TABLE  ACK whose message is the CREATE TABLE statement (and CREATE INDEX
 *                   statements), one per line; ERR_NOT_FOUND for an unknown table.
 *
 * How statement results travel (the REPL's remote connection reverses this):
 *   rows       ROWS with the column names and values
 *   counts     COUNT (the statement itself says whether it inserted, updated or deleted)
 *   DDL        ACK "CREATE TABLE", "DROP TABLE", "CREATE INDEX", "DROP INDEX"
 *   BEGIN      ACK "BEGIN V" or "BEGIN READ ONLY V", V the transaction's read version
 *   COMMIT     ACK "COMMIT V" (V the commit version); ROLLBACK: ACK "ROLLBACK V"
 *   EXPLAIN    ROWS with one column "plan", one row per line of the plan
 *   errors     ERROR with the error's code and message
 *
 * Replies from the node arrive inside node callbacks, where the node must not be called,
 * so each session continues (submits its next statement, or answers the client) from a
 * deferred callback at the end of the loop's step.
 */
#ifndef CAIRN_NET_NODE_SERVER_H
#define CAIRN_NET_NODE_SERVER_H

#include <stdint.h>

#include "base/err.h"
#include "net/loop.h"
#include "net/protocol.h"
#include "net/server.h"
#include "node/node.h"

struct net_node_server;

/*
 * Listens on config->listen and serves `node` (which must outlive the server, or be
 * detached first). The config is copied.
 */
err *net_node_server_new(struct net_loop *loop, struct node *node,
                         const struct net_server_config *config, struct net_node_server **out);

/* Closes every connection (closing their node sessions unless detached) and the listener. */
void net_node_server_free(struct net_node_server *ns);

uint16_t net_node_server_port(const struct net_node_server *ns);

/*
 * Forgets the node after it failed: from now on no call reaches it (not even to close a
 * session; freeing the node closes them), and every request is answered ERR_UNAVAILABLE.
 */
void net_node_server_detach(struct net_node_server *ns);

/* ---- status ---- */

/* Free-form lines a status carries besides the fixed facts. */
#define NET_NODE_STATUS_LINES 24
#define NET_NODE_STATUS_TEXT_BYTES 64

/* A node_status in the protocol's form, with the storage its slices point into. */
struct net_node_status {
	struct net_status status; /* points into the arrays below */
	struct net_status_peer peers[RAFT_MAX_NODES];
	struct net_status_line lines[NET_NODE_STATUS_LINES];
	char names[NET_NODE_STATUS_LINES][NET_NODE_STATUS_TEXT_BYTES];
	char values[NET_NODE_STATUS_LINES][NET_NODE_STATUS_TEXT_BYTES];
};

/*
 * Describes `st` (node_status_get) as a protocol status: node, leader, term, commit and
 * applied index, active transactions, each other voter's match index (known on the
 * leader; 0 elsewhere), and the lines version, role, last_index, sessions, commits_ok,
 * commits_aborted, commits_unknown, kv_keys, kv_pages, kv_free_pages, kv_file_bytes.
 * `out` must not move while out->status is in use.
 */
void net_node_status_make(const struct node_status *st, struct net_node_status *out);

#endif
