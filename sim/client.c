#include "sim/client.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define SIM_CLIENT_OUTPUT_MAX ((size_t)4 << 20)

void sim_client_init(struct sim_client *c, struct sim_world *world)
{
	memset(c, 0, sizeof *c);
	c->world = world;
	buf_init(&c->output, SIM_CLIENT_OUTPUT_MAX);
}

/* True if the client's session still lives on an up node. */
static bool sim__client_session_alive(const struct sim_client *c)
{
	return c->session && sim_node_incarnation(c->world, c->node) == c->incarnation &&
	       sim_node(c->world, c->node) != NULL;
}

void sim_client_free(struct sim_client *c)
{
	if (c->session && sim_node_incarnation(c->world, c->node) == c->incarnation &&
	    sim_node(c->world, c->node))
		node_session_close(c->session);
	c->session = NULL;
	buf_free(&c->output);
}

void sim_client_forget(struct sim_client *c)
{
	c->session = NULL;
	buf_free(&c->output);
}

static err *sim__append_str(struct buf *out, const char *s)
{
	return buf_append(out, s, strlen(s));
}

err *sim_client_render(const struct sql_result *r, struct buf *out)
{
	char line[128];
	switch (r->kind) {
	case SQL_RESULT_NONE: return NULL;
	case SQL_RESULT_ROWS:
		for (uint64_t row = 0; row < r->row_count; row++) {
			const struct sql_value *v = sql_result_row(r, row);
			for (uint32_t col = 0; col < r->column_count; col++) {
				if (col)
					TRY(buf_append(out, "|", 1));
				TRY(sql_value_format(&v[col], out));
			}
			TRY(buf_append(out, "\n", 1));
		}
		return NULL;
	case SQL_RESULT_COUNT:
		snprintf(line, sizeof line, "%s %llu\n",
		         r->count_kind == SQL_COUNT_INSERT   ? "INSERT"
		         : r->count_kind == SQL_COUNT_UPDATE ? "UPDATE"
		                                             : "DELETE",
		         (unsigned long long)r->count);
		return sim__append_str(out, line);
	case SQL_RESULT_ACK:
		/* only transaction control has a meaningful version */
		if (r->ack >= SQL_ACK_BEGIN)
			snprintf(line, sizeof line, "ACK %d %llu\n", (int)r->ack,
			         (unsigned long long)r->version);
		else
			snprintf(line, sizeof line, "ACK %d\n", (int)r->ack);
		return sim__append_str(out, line);
	case SQL_RESULT_EXPLAIN:
		TRY(buf_append(out, r->text.data, r->text.len ? r->text.len - 1 : 0));
		return buf_append(out, "\n", 1);
	case SQL_RESULT_ERROR:
		TRY(sim__append_str(out, "Error: "));
		TRY(sim__append_str(out, err_msg(r->error)));
		return buf_append(out, "\n", 1);
	}
	return NULL;
}

static void sim__client_reply(void *ctx, struct sql_result *r, bool last)
{
	struct sim_client *c = ctx;
	assert(c->state == SIM_CLIENT_BUSY);
	if (r->kind == SQL_RESULT_ERROR && !c->first_error)
		c->first_error = err_code(r->error);
	err *e = sim_client_render(r, &c->output);
	err_free(e); /* an overlong rendering is cut; the test reading it will notice */
	c->results++;
	sql_result_free(r);
	if (last) {
		c->state = SIM_CLIENT_IDLE;
		c->completed_ms = sim_now_ms(c->world);
	}
}

err *sim_client_submit(struct sim_client *c, uint32_t node, const char *sql, bool new_session)
{
	assert(c->state != SIM_CLIENT_BUSY);
	struct node *n = sim_node(c->world, node);
	if (!n)
		return err_new(ERR_UNAVAILABLE, "node %u is down", node);
	bool alive = c->node == node && sim__client_session_alive(c);
	if (!alive && !new_session) {
		c->session = NULL;
		return err_new(ERR_UNAVAILABLE, "the session on node %u is gone", node);
	}
	if (!alive) {
		if (sim__client_session_alive(c))
			node_session_close(c->session);
		c->session = NULL;
		c->node = node;
		c->incarnation = sim_node_incarnation(c->world, node);
		TRY(node_session_open(n, sim__client_reply, c, &c->session));
	}
	buf_clear(&c->output);
	c->first_error = 0;
	c->results = 0;
	c->state = SIM_CLIENT_BUSY;
	c->submitted_ms = sim_now_ms(c->world);
	err *e = node_session_submit(c->session, sql, strlen(sql));
	if (e && c->state == SIM_CLIENT_BUSY)
		c->state = SIM_CLIENT_IDLE;
	return e;
}

enum sim_client_state sim_client_poll(struct sim_client *c)
{
	if (c->state == SIM_CLIENT_BUSY &&
	    sim_node_incarnation(c->world, c->node) != c->incarnation) {
		c->state = SIM_CLIENT_LOST;
		c->session = NULL;
	}
	return c->state;
}
