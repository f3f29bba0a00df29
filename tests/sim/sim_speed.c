/*
 * sim_speed — how fast the world runs: events per wall second for the gossip test node on
 * five nodes, without faults and with a swarm fault mix. Prints figures, asserts nothing
 * about time (the numbers depend on the machine).
 *
 *     meson test -C build --benchmark sim_speed -v
 */
#include <stdio.h>

#include "gossip_node.h"

static int run(const char *what, uint64_t seed, bool faults, bool traced, uint64_t virtual_ms)
{
	struct sim_config cfg;
	sim_config_default(&cfg, seed, "gossip");
	if (faults)
		sim_faults_swarm(seed, cfg.nodes, &cfg.faults);
	struct gossip_app app;
	gossip_app_init(&app, cfg.nodes, true);
	struct sim_world *w = NULL;
	err *e = sim_world_new(&cfg, &gossip_ops, &app, &w);
	if (e) {
		fprintf(stderr, "sim_speed: %s\n", err_msg(e));
		err_free(e);
		return 1;
	}
	FILE *trace = traced ? fopen("/dev/null", "w") : NULL;
	if (trace)
		err_free(sim_world_trace(w, trace)); /* the cost of formatting every line */
	const err *failure = sim_run_until(w, virtual_ms);
	printf("== %s\n", what);
	sim_world_summary(w, stdout);
	int status = failure ? 1 : 0;
	sim_world_free(w);
	if (trace)
		fclose(trace);
	return status;
}

int main(void)
{
	int failed = run("5 gossip nodes, no faults, 10 virtual minutes", 1, false, false, 600000);
	failed |= run("5 gossip nodes, swarm faults (seed 2), 10 virtual minutes", 2, true, false,
	              600000);
	failed |= run("the same, traced (to /dev/null)", 2, true, true, 600000);
	return failed;
}
