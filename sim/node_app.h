/*
 * node_app.h — real cairn nodes (core/node) inside the simulator's world.
 *
 * sim_cairn_ops is the sim_node_ops a world uses to create, drive and crash cairn nodes;
 * the world's `app` pointer is a struct sim_cairn_app naming the cluster's shape. The
 * node ids of the world (1..nodes) are the Raft peer ids.
 */
#ifndef CAIRN_SIM_NODE_APP_H
#define CAIRN_SIM_NODE_APP_H

#include "node/node.h"
#include "sim/sim.h"

struct sim_cairn_app {
	struct node_config node; /* id and peers are filled in per node */
};

extern const struct sim_node_ops sim_cairn_ops;

/* A default app for a world of `nodes` nodes. */
void sim_cairn_app_default(struct sim_cairn_app *app, uint32_t nodes);

#endif
