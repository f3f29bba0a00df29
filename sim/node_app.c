#include "sim/node_app.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

void sim_cairn_app_default(struct sim_cairn_app *app, uint32_t nodes)
{
	assert(nodes > 0 && nodes <= RAFT_MAX_NODES);
	memset(app, 0, sizeof *app);
	for (uint32_t i = 0; i < nodes; i++)
		app->node.peers[i] = i + 1;
	app->node.n_peers = nodes;
}

static err *sim__cairn_create(const struct env *env, void *app, void **node)
{
	const struct sim_cairn_app *a = app;
	struct node_config cfg = a->node;
	cfg.id = env->node_id;
	struct node *n;
	TRY(node_open(env, &cfg, &n));
	*node = n;
	return NULL;
}

static err *sim__cairn_on_message(void *node, uint32_t from, const uint8_t *bytes, size_t len)
{
	return node_on_message(node, from, bytes, len);
}

static err *sim__cairn_on_timer(void *node, uint32_t timer_id)
{
	return node_on_timer(node, timer_id);
}

static void sim__cairn_destroy(void *node)
{
	node_free(node);
}

static bool sim__cairn_state(void *node, uint64_t *applied_index, uint64_t *state_hash)
{
	err *e = node_state_hash(node, applied_index, state_hash);
	if (e) {
		err_free(e);
		return false;
	}
	return true;
}

const struct sim_node_ops sim_cairn_ops = {
    .create = sim__cairn_create,
    .on_message = sim__cairn_on_message,
    .on_timer = sim__cairn_on_timer,
    .destroy = sim__cairn_destroy,
    .state = sim__cairn_state,
    .describe = NULL,
};
