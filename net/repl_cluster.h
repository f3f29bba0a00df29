/*
 * repl_cluster.h — the REPL's connections to a cluster, beside the embedded single-node
 * database of repl_conn.h:
 *
 *   remote    a TCP client (net/client.h) of one node's SQL port, one session on it;
 *             adds the command !status (that node's status). A lost connection fails
 *             the statement in flight (ERR_UNKNOWN_OUTCOME: it may have run) and is
 *             re-established when the next statement or command comes.
 *   embedded  a whole five-node cluster in this process on the simulator's world (no
 *             faults, memory disks), its virtual clock paced to the wall clock; adds
 *             !status (every node), !node N (where statements go; default 1),
 *             !crash N, !restart N, !partition 1,2 3,4,5 and !heal.
 *
 * Both split SQL text into statements with the parser and send one statement at a time
 * (repl_conn.h's execute contract), so every statement gets its own result.
 */
#ifndef CAIRN_NET_REPL_CLUSTER_H
#define CAIRN_NET_REPL_CLUSTER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"
#include "net/protocol.h"
#include "net/repl_conn.h"

/* A greeting line ("Connected to node 1 (version 0.1.0).") fits in this many bytes. */
#define REPL_CLUSTER_GREETING_BYTES 160
/* Each statement or command waits at most this long for its answer. */
#define REPL_CLUSTER_TIMEOUT_MS 30000

/*
 * Connects to the node at host:port (host NULL: 127.0.0.1) and asks for its status;
 * `greeting` receives "Connected to node N (version V)." ERR_UNAVAILABLE when nobody
 * answers there.
 */
err *repl_conn_open_remote(const char *host, uint16_t port,
                           char greeting[REPL_CLUSTER_GREETING_BYTES], struct repl_conn **out);

/*
 * Starts the embedded five-node cluster (seeded by `seed`) and waits until it has a
 * leader; `greeting` receives a line saying what was started.
 */
err *repl_conn_open_embedded(uint64_t seed, char greeting[REPL_CLUSTER_GREETING_BYTES],
                             struct repl_conn **out);

/* Prints one node's status, several lines: facts, match indexes, the other lines. */
void repl_cluster_print_status(const struct net_status *st, FILE *out);

/* The value of status line `name` ("" when absent), as a NUL-terminated copy. */
void repl_cluster_status_value(const struct net_status *st, const char *name, char *out,
                               size_t cap);

#endif
