/*
 * config.c — parsing cairnd's configuration file and flags into struct net_config.
 *
 * One table lists the keys; the file parser and the flag parser both end in
 * net_config_set(), so a key behaves the same wherever it is written.
 */
#include "net/config.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/number.h"
#include "storage/vfs_posix.h"

#define NET__LINE_MAX 4096
#define NET__KEY_MAX 32

struct net__key {
	const char *name;
	err *(*set)(struct net_config *c, const char *value);
};

/* ---- values ---- */

static err *net__set_id(struct net_config *c, const char *value)
{
	uint64_t id;
	TRY(number_parse_u64(value, UINT32_MAX, &id));
	if (id == 0)
		return err_new(ERR_INVALID, "node id 0 is not valid (ids start at 1)");
	c->node_id = (uint32_t)id;
	return NULL;
}

static err *net__set_sql_listen(struct net_config *c, const char *value)
{
	TRY(net_addr_parse(value, &c->sql_listen));
	c->sql_listen_set = true;
	return NULL;
}

static err *net__set_raft_listen(struct net_config *c, const char *value)
{
	TRY(net_addr_parse(value, &c->raft_listen));
	c->raft_listen_set = true;
	return NULL;
}

/* Parses one "id=address" entry of the peers list (NUL-terminated, trimmed). */
static err *net__parse_peer(const char *entry, struct net_transport_peer *out)
{
	const char *eq = strchr(entry, '=');
	if (!eq)
		return err_new(ERR_INVALID, "peer '%s' is not id=host:port", entry);
	char id[16];
	size_t id_len = (size_t)(eq - entry);
	if (id_len == 0 || id_len >= sizeof id)
		return err_new(ERR_INVALID, "peer '%s' has no valid id", entry);
	memcpy(id, entry, id_len);
	id[id_len] = '\0';
	uint64_t v;
	TRY(err_wrap(number_parse_u64(id, UINT32_MAX, &v), "peer '%s'", entry));
	if (v == 0)
		return err_new(ERR_INVALID, "peer '%s': id 0 is not valid", entry);
	out->id = (uint32_t)v;
	return err_wrap(net_addr_parse(eq + 1, &out->addr), "peer '%s'", entry);
}

static void net__trim(char **start, char **end)
{
	while (*start < *end && isspace((unsigned char)**start))
		(*start)++;
	while (*end > *start && isspace((unsigned char)(*end)[-1]))
		(*end)--;
}

static err *net__set_peers(struct net_config *c, const char *value)
{
	struct net_transport_peer peers[NET_TRANSPORT_MAX_NODES];
	size_t count = 0;
	const char *p = value;
	for (;;) {
		const char *comma = strchr(p, ',');
		const char *stop = comma ? comma : p + strlen(p);
		char entry[NET_HOST_MAX + 32];
		if ((size_t)(stop - p) >= sizeof entry)
			return err_new(ERR_INVALID, "peer entry too long");
		memcpy(entry, p, (size_t)(stop - p));
		entry[stop - p] = '\0';
		char *s = entry, *e = entry + strlen(entry);
		net__trim(&s, &e);
		*e = '\0';
		if (*s == '\0')
			return err_new(ERR_INVALID, "empty entry in the peers list");
		if (count == NET_TRANSPORT_MAX_NODES)
			return err_new(ERR_LIMIT, "more than %d nodes in the peers list",
			               NET_TRANSPORT_MAX_NODES);
		TRY(net__parse_peer(s, &peers[count]));
		for (size_t i = 0; i < count; i++)
			if (peers[i].id == peers[count].id)
				return err_new(ERR_INVALID, "node %u is listed twice in peers",
				               peers[i].id);
		count++;
		if (!comma)
			break;
		p = comma + 1;
	}
	memcpy(c->peers, peers, count * sizeof peers[0]);
	c->peer_count = count;
	return NULL;
}

static err *net__set_data_dir(struct net_config *c, const char *value)
{
	size_t len = strlen(value);
	if (len == 0 || len >= sizeof c->data_dir)
		return err_new(ERR_INVALID, "data directory path of %zu bytes", len);
	memcpy(c->data_dir, value, len + 1);
	c->data_dir_set = true;
	return NULL;
}

/* Parses on/off (also true/false, yes/no, 1/0) into *out. */
static err *net__parse_switch(const char *value, bool *out)
{
	static const char *const on[] = {"on", "true", "yes", "1"};
	static const char *const off[] = {"off", "false", "no", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (strcmp(value, on[i]) == 0) {
			*out = true;
			return NULL;
		}
		if (strcmp(value, off[i]) == 0) {
			*out = false;
			return NULL;
		}
	}
	return err_new(ERR_INVALID, "'%s' is not on or off", value);
}

static err *net__set_fsync(struct net_config *c, const char *value)
{
	return net__parse_switch(value, &c->fsync);
}

static err *net__set_read_lease(struct net_config *c, const char *value)
{
	return net__parse_switch(value, &c->read_lease);
}

static err *net__set_lazy_followers(struct net_config *c, const char *value)
{
	return net__parse_switch(value, &c->lazy_followers);
}

static err *net__set_pacing(struct net_config *c, const char *value)
{
	return net__parse_switch(value, &c->pacing);
}

static err *net__set_log_level(struct net_config *c, const char *value)
{
	int level = log_level_parse(value);
	if (level < 0)
		return err_new(ERR_INVALID, "'%s' is not debug, info, warn, error or off", value);
	c->log_level = (enum log_level)level;
	return NULL;
}

static err *net__set_seed(struct net_config *c, const char *value)
{
	return number_parse_u64(value, UINT64_MAX, &c->seed);
}

static const struct net__key net__keys[] = {
    {"id", net__set_id},
    {"sql_listen", net__set_sql_listen},
    {"raft_listen", net__set_raft_listen},
    {"peers", net__set_peers},
    {"data_dir", net__set_data_dir},
    {"fsync", net__set_fsync},
    {"read_lease", net__set_read_lease},
    {"lazy_followers", net__set_lazy_followers},
    {"pacing", net__set_pacing},
    {"log_level", net__set_log_level},
    {"seed", net__set_seed},
};

/* ---- keys ---- */

void net_config_init(struct net_config *c)
{
	memset(c, 0, sizeof *c);
	c->fsync = true;
	c->read_lease = true;
	c->lazy_followers = true;
	c->pacing = true;
	c->log_level = LOG_INFO;
}

/* The setting named `key` (dashes or underscores), or NULL if there is none. */
static const struct net__key *net__find(const char *key)
{
	char name[NET__KEY_MAX];
	size_t len = strlen(key);
	if (len >= sizeof name)
		return NULL;
	for (size_t i = 0; i <= len; i++)
		name[i] = key[i] == '-' ? '_' : key[i];
	for (size_t i = 0; i < sizeof net__keys / sizeof net__keys[0]; i++)
		if (strcmp(name, net__keys[i].name) == 0)
			return &net__keys[i];
	return NULL;
}

/*
 * Sets `key` (dashes or underscores) to `value`; an error names the key as written where
 * it came from: "--key" for a flag, "key" in a file.
 */
static err *net__set(struct net_config *c, const char *key, const char *value, bool flag)
{
	const char *dashes = flag ? "--" : "";
	const struct net__key *k = net__find(key);
	if (k)
		return err_wrap(k->set(c, value), "%s%s", dashes, key);
	return err_new(ERR_INVALID, "unknown %s '%s%.*s%s'", flag ? "flag" : "key", dashes,
	               NET__KEY_MAX, key, strlen(key) > NET__KEY_MAX ? "..." : "");
}

err *net_config_set(struct net_config *c, const char *key, const char *value)
{
	return net__set(c, key, value, false);
}

/* ---- the file ---- */

/* Applies one line (NUL-terminated, without its newline). */
static err *net__load_line(struct net_config *c, char *line)
{
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	char *start = line, *end = line + strlen(line);
	net__trim(&start, &end);
	if (start == end)
		return NULL;
	*end = '\0';
	char *eq = strchr(start, '=');
	if (!eq)
		return err_new(ERR_INVALID, "expected key = value");
	char *key_end = eq, *value = eq + 1;
	net__trim(&start, &key_end);
	*key_end = '\0';
	net__trim(&value, &end);
	*end = '\0';
	if (*start == '\0')
		return err_new(ERR_INVALID, "missing key before '='");
	if (*value == '\0')
		return err_new(ERR_INVALID, "missing value for '%s'", start);
	return net_config_set(c, start, value);
}

err *net_config_load_text(struct net_config *c, const char *text, size_t len, const char *source)
{
	size_t line_no = 0;
	size_t pos = 0;
	while (pos < len) {
		line_no++;
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t line_len = nl ? (size_t)(nl - (text + pos)) : len - pos;
		if (line_len >= NET__LINE_MAX)
			return err_new(ERR_INVALID, "%s:%zu: line longer than %d bytes", source,
			               line_no, NET__LINE_MAX);
		char line[NET__LINE_MAX];
		memcpy(line, text + pos, line_len);
		line[line_len] = '\0';
		if (memchr(line, '\0', line_len))
			return err_new(ERR_INVALID, "%s:%zu: NUL byte in the line", source,
			               line_no);
		TRY(err_wrap(net__load_line(c, line), "%s:%zu", source, line_no));
		pos += line_len + (nl ? 1 : 0);
	}
	return NULL;
}

err *net_config_load_file(struct net_config *c, const char *path)
{
	struct vfs *vfs;
	TRY(vfs_posix_new(NULL, &vfs));
	struct vfs_file *f = NULL;
	char *text = NULL;
	uint64_t size = 0;
	err *e = vfs_open(vfs, path, 0, &f);
	if (!e)
		e = vfs_size(f, &size);
	if (!e && size > NET_CONFIG_FILE_MAX_BYTES)
		e = err_new(ERR_LIMIT, "larger than %d bytes", NET_CONFIG_FILE_MAX_BYTES);
	if (!e && !(text = malloc(size + 1)))
		e = err_new(ERR_NOMEM, "no memory for %llu bytes", (unsigned long long)size);
	if (!e)
		e = vfs_read_exact(f, 0, text, (size_t)size);
	vfs_close(f);
	vfs_posix_free(vfs);
	if (e) {
		free(text);
		return err_wrap(e, "cannot read configuration file %s", path);
	}
	e = net_config_load_text(c, text, (size_t)size, path);
	free(text);
	return e;
}

/* ---- flags ---- */

/* Splits argv[*i] into a flag name and value, advancing *i past what it used. */
static err *net__flag(int argc, char **argv, int *i, char *name, size_t cap, const char **value)
{
	const char *arg = argv[*i];
	if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
		return err_new(ERR_INVALID, "unexpected argument '%s'", arg);
	arg += 2;
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	if (len >= cap)
		return err_new(ERR_INVALID, "unknown flag '--%s'", arg);
	memcpy(name, arg, len);
	name[len] = '\0';
	if (eq) {
		*value = eq + 1;
	} else {
		if (strcmp(name, "config") != 0 && !net__find(name))
			return err_new(ERR_INVALID, "unknown flag '--%s'", name);
		if (*i + 1 >= argc)
			return err_new(ERR_INVALID, "flag '--%s' needs a value", name);
		*value = argv[++*i];
	}
	(*i)++;
	return NULL;
}

err *net_config_parse_args(struct net_config *c, int argc, char **argv)
{
	char name[NET__KEY_MAX];
	const char *value;
	for (int i = 1; i < argc;) {
		TRY(net__flag(argc, argv, &i, name, sizeof name, &value));
		if (strcmp(name, "config") == 0)
			TRY(net_config_load_file(c, value));
	}
	for (int i = 1; i < argc;) {
		TRY(net__flag(argc, argv, &i, name, sizeof name, &value));
		if (strcmp(name, "config") != 0)
			TRY(net__set(c, name, value, true));
	}
	return NULL;
}

/* ---- the whole ---- */

err *net_config_finish(struct net_config *c)
{
	if (c->node_id == 0)
		return err_new(ERR_INVALID, "the node id is not set (key 'id', flag --id)");
	const struct net_transport_peer *self = NULL;
	for (size_t i = 0; i < c->peer_count; i++)
		if (c->peers[i].id == c->node_id)
			self = &c->peers[i];
	if (!self && c->peer_count == NET_TRANSPORT_MAX_NODES)
		return err_new(
		    ERR_LIMIT,
		    "the peers list holds %d nodes besides node %u: a cluster has at most "
		    "%d",
		    NET_TRANSPORT_MAX_NODES, c->node_id, NET_TRANSPORT_MAX_NODES);
	if (!c->raft_listen_set && self) {
		c->raft_listen = self->addr;
		c->raft_listen_set = true;
	}
	uint32_t id = c->node_id;
	if (!c->sql_listen_set) {
		if (id > 65535 - NET_CONFIG_SQL_PORT_BASE)
			return err_new(ERR_INVALID,
			               "node %u has no default SQL port; set sql_listen", id);
		TRY(net_addr_set(&c->sql_listen, NULL, (uint16_t)(NET_CONFIG_SQL_PORT_BASE + id)));
	}
	if (!c->raft_listen_set) {
		if (id > 65535 - NET_CONFIG_RAFT_PORT_BASE)
			return err_new(ERR_INVALID,
			               "node %u has no default Raft port; set raft_listen", id);
		TRY(net_addr_set(&c->raft_listen, NULL,
		                 (uint16_t)(NET_CONFIG_RAFT_PORT_BASE + id)));
	}
	if (!c->data_dir_set)
		snprintf(c->data_dir, sizeof c->data_dir, "data/n%u", id);
	if (c->sql_listen.port != 0 && c->sql_listen.port == c->raft_listen.port &&
	    strcmp(c->sql_listen.host, c->raft_listen.host) == 0)
		return err_new(ERR_INVALID, "sql_listen and raft_listen are both %s:%u",
		               c->sql_listen.host, c->sql_listen.port);
	return NULL;
}

const char *net_config_usage(void)
{
	return "  --config FILE        read key = value settings from FILE first\n"
	       "  --id N               this node's id (required; 1, 2, ...)\n"
	       "  --sql-listen ADDR    SQL port for clients (default 127.0.0.1:9600+id)\n"
	       "  --raft-listen ADDR   Raft port for peers (default: own entry in peers,\n"
	       "                       else 127.0.0.1:9700+id)\n"
	       "  --peers LIST         the cluster: id=host:port,id=host:port,...\n"
	       "  --data-dir DIR       where the node keeps its files (default data/n<id>)\n"
	       "  --fsync on|off       sync writes to disk (default on)\n"
	       "  --read-lease on|off  the leader serves reads under a lease, trusting clocks\n"
	       "                       to drift less than 10% (default on; off: a heartbeat\n"
	       "                       round per batch of reads)\n"
	       "  --lazy-followers on|off  as leader, let the followers beyond a majority\n"
	       "                       sync lazily (default on; off: every follower syncs\n"
	       "                       every append at once)\n"
	       "  --pacing on|off      as leader, hold new entries while the last batch\n"
	       "                       commits and send them as one (default on; off: each\n"
	       "                       batch is written and sent as it comes)\n"
	       "  --log-level LEVEL    debug, info, warn, error or off (default info)\n"
	       "  --seed N             seed of the node's random choices (default: random)\n"
	       "  --version            print cairnd's version and exit\n";
}
