/*
 * config.h — cairnd's configuration: a plain `key = value` file and command-line flags
 * that override it (docs/operations.md lists every key).
 *
 *     # node 1 of a local three-node cluster
 *     id          = 1
 *     sql_listen  = 127.0.0.1:9601
 *     raft_listen = 127.0.0.1:9701
 *     peers       = 1=127.0.0.1:9701, 2=127.0.0.1:9702, 3=127.0.0.1:9703
 *     data_dir    = data/n1
 *     fsync       = on
 *     read_lease  = on
 *     lazy_followers = on
 *     pacing      = on
 *     log_level   = info
 *
 * Every key is also a flag: `--id 1`, `--sql-listen 9601`, `--peers=...` (dashes or
 * underscores, value separate or after '='); `--config FILE` reads a file first, wherever
 * it appears, and the other flags then override it. Addresses are "host:port" or just
 * "port" (meaning 127.0.0.1). Anything wrong is one error with a one-line message naming
 * the file and line or the flag; cairnd prints it and exits with status 2.
 */
#ifndef CAIRN_NET_CONFIG_H
#define CAIRN_NET_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/log.h"
#include "base/vfs.h"
#include "net/sock.h"
#include "net/transport.h"

/* Default ports: node n listens on 9600+n for SQL and 9700+n for Raft. */
#define NET_CONFIG_SQL_PORT_BASE 9600
#define NET_CONFIG_RAFT_PORT_BASE 9700
/* A configuration file larger than this is refused. */
#define NET_CONFIG_FILE_MAX_BYTES (64 * 1024)

struct net_config {
	uint32_t node_id;
	struct net_addr sql_listen;
	struct net_addr raft_listen;
	struct net_transport_peer peers[NET_TRANSPORT_MAX_NODES]; /* may include this node */
	size_t peer_count;
	char data_dir[VFS_PATH_MAX];
	bool fsync;
	bool read_lease;     /* the leader's read lease (node_config.read_lease_ms) */
	bool lazy_followers; /* !node_config.eager_followers */
	bool pacing;         /* !node_config.unpaced */
	enum log_level log_level;
	uint64_t seed; /* the node's PRNG seed; 0: drawn from the OS */

	/* which keys were given, so net_config_finish() can fill in the rest */
	bool sql_listen_set, raft_listen_set, data_dir_set;
};

/* Nothing set yet: fsync on, read lease on, lazy followers on, log level info, seed 0. */
void net_config_init(struct net_config *c);

/* Sets one key (file spelling: "sql_listen"; dashes are accepted too). */
err *net_config_set(struct net_config *c, const char *key, const char *value);

/* Applies `key = value` lines; `source` names them in errors ("cairnd.conf"). */
err *net_config_load_text(struct net_config *c, const char *text, size_t len, const char *source);

/* Reads and applies a file. */
err *net_config_load_file(struct net_config *c, const char *path);

/*
 * Applies command-line arguments (argv[0] is the program and is skipped): first the file
 * of any --config, then every other flag in order. `--help` is not handled here.
 */
err *net_config_parse_args(struct net_config *c, int argc, char **argv);

/*
 * Checks the whole and fills defaults: the node id is required; sql_listen defaults to
 * 127.0.0.1:9600+id; raft_listen to this node's entry in peers, else 127.0.0.1:9700+id;
 * data_dir to "data/n<id>".
 */
err *net_config_finish(struct net_config *c);

/* The flags, one per line, for --help. */
const char *net_config_usage(void);

#endif
