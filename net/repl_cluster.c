/*
 * repl_cluster.c — how the REPL shows a node's status (!status), for the remote and the
 * embedded connections alike: both hold it as a protocol status (net/protocol.h).
 */
#include "net/repl_cluster.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

void repl_cluster_status_value(const struct net_status *st, const char *name, char *out, size_t cap)
{
	assert(cap > 0);
	out[0] = '\0';
	size_t name_len = strlen(name);
	for (uint32_t i = 0; i < st->line_count; i++) {
		const struct net_status_line *l = &st->lines[i];
		if (l->name.len != name_len || memcmp(l->name.ptr, name, name_len) != 0)
			continue;
		size_t n = l->value.len < cap - 1 ? l->value.len : cap - 1;
		memcpy(out, l->value.ptr, n);
		out[n] = '\0';
		return;
	}
}

static bool repl__is_storage_line(const struct net_status_line *l)
{
	return l->name.len > 3 && memcmp(l->name.ptr, "kv_", 3) == 0;
}

/* Prints the lines that are (storage) or are not (others) kv_ statistics, as name=value. */
static void repl__print_lines(const struct net_status *st, bool storage, FILE *out)
{
	for (uint32_t i = 0; i < st->line_count; i++) {
		const struct net_status_line *l = &st->lines[i];
		if (repl__is_storage_line(l) != storage)
			continue;
		fprintf(out, " %.*s=%.*s", (int)l->name.len, (const char *)l->name.ptr,
		        (int)l->value.len, (const char *)l->value.ptr);
	}
	fputc('\n', out);
}

void repl_cluster_print_status(const struct net_status *st, FILE *out)
{
	char role[64];
	repl_cluster_status_value(st, "role", role, sizeof role);
	fprintf(out, "node %" PRIu32 ": %s, term %" PRIu64 ", ", st->node_id,
	        role[0] ? role : "unknown role", st->term);
	if (st->leader_id)
		fprintf(out, "leader %" PRIu32 "\n", st->leader_id);
	else
		fprintf(out, "no known leader\n");
	fprintf(out,
	        "  commit index %" PRIu64 ", applied index %" PRIu64
	        ", active transactions %" PRIu64 "\n",
	        st->commit_index, st->applied_index, st->active_txns);
	fprintf(out, "  match index:");
	if (st->leader_id != st->node_id)
		fprintf(out, " (known on the leader, node %" PRIu32 ")", st->leader_id);
	for (uint32_t i = 0; i < st->peer_count && st->leader_id == st->node_id; i++)
		fprintf(out, " n%" PRIu32 "=%" PRIu64, st->peers[i].id, st->peers[i].match_index);
	fputc('\n', out);
	fprintf(out, "  storage:");
	repl__print_lines(st, true, out);
	fprintf(out, "  node:");
	repl__print_lines(st, false, out);
}
