#include "sim/client.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_CLIENT_OUTPUT_MAX ((size_t)4 << 20)

/* Disowned sessions one client may hold at once: each waits on a paused or down node. */
#define SIM_CLIENT_DISOWNED_MAX 64

struct sim_client_link {
	struct sim_client *client; /* NULL once disowned */
	struct node_session *session;
	uint32_t node;
	uint32_t incarnation;
	struct sim_client_link *next; /* in the client's disowned list */
};

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

/*
 * Closes the link's session if its node is up. True when the link is done with: closed
 * now, or its session died with its node (which restarted since).
 */
static bool sim__link_close(struct sim_world *world, struct sim_client_link *l)
{
	if (sim_node_incarnation(world, l->node) != l->incarnation)
		return true;
	if (!sim_node(world, l->node))
		return false; /* paused, or down until it restarts */
	node_session_close(l->session);
	return true;
}

/* Lets go of the current session: closed now, or disowned until it can be. */
static void sim__client_let_go(struct sim_client *c)
{
	struct sim_client_link *l = c->link;
	c->link = NULL;
	c->session = NULL;
	if (!l)
		return;
	if (sim__link_close(c->world, l)) {
		free(l);
		return;
	}
	assert(c->n_disowned < SIM_CLIENT_DISOWNED_MAX);
	l->client = NULL;
	l->next = c->disowned;
	c->disowned = l;
	c->n_disowned++;
}

/* Closes the disowned sessions whose nodes are up again; `all`: frees every link. */
static void sim__client_sweep(struct sim_client *c, bool all)
{
	for (struct sim_client_link **p = &c->disowned; *p;) {
		struct sim_client_link *l = *p;
		if (!sim__link_close(c->world, l) && !all) {
			p = &l->next;
			continue;
		}
		*p = l->next;
		free(l);
		c->n_disowned--;
	}
}

void sim_client_free(struct sim_client *c)
{
	sim__client_let_go(c);
	sim__client_sweep(c, true);
	buf_free(&c->output);
}

void sim_client_forget(struct sim_client *c)
{
	free(c->link);
	c->link = NULL;
	c->session = NULL;
	while (c->disowned) {
		struct sim_client_link *l = c->disowned;
		c->disowned = l->next;
		free(l);
	}
	c->n_disowned = 0;
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
	struct sim_client_link *l = ctx;
	struct sim_client *c = l->client;
	if (!c) { /* a disowned session's late answer */
		sql_result_free(r);
		return;
	}
	assert(c->state == SIM_CLIENT_BUSY && c->link == l);
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
	sim__client_sweep(c, false);
	struct node *n = sim_node(c->world, node);
	if (!n)
		return err_new(ERR_UNAVAILABLE, "node %u is down", node);
	bool alive = c->node == node && sim__client_session_alive(c);
	if (!alive && !new_session) {
		sim__client_let_go(c);
		return err_new(ERR_UNAVAILABLE, "the session on node %u is gone", node);
	}
	if (!alive) {
		sim__client_let_go(c);
		struct sim_client_link *l = calloc(1, sizeof *l);
		if (!l)
			return err_new(ERR_NOMEM, "sim: no memory for a client session");
		*l = (struct sim_client_link){
		    .client = c, .node = node, .incarnation = sim_node_incarnation(c->world, node)};
		err *e = node_session_open(n, sim__client_reply, l, &l->session);
		if (e) {
			free(l);
			return e;
		}
		c->link = l;
		c->session = l->session;
		c->node = node;
		c->incarnation = l->incarnation;
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
		sim__client_let_go(c); /* the session died with its node */
	}
	return c->state;
}

void sim_client_abandon(struct sim_client *c)
{
	sim__client_let_go(c);
	c->state = SIM_CLIENT_IDLE;
}
