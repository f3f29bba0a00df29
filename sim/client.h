/*
 * client.h — a simulated SQL client: one session on one node of a world.
 *
 * A client submits SQL text to a node's session and collects the results, rendered as
 * text (rows as `a|b`, counts as `INSERT 3`, errors as `Error: message`). A node that
 * crashes takes its sessions with it: the client notices (the node's incarnation changed)
 * and reports the pending text as SIM_CLIENT_LOST — its effect is unknown.
 *
 * Replies arrive inside node callbacks, where the node must not be re-entered, so a
 * client's completion hook is only told; it must act (submit again) from a later step.
 *
 * A client may let go of a session it cannot close: its node is paused (a stopped
 * process notices a closed connection only when it runs again) or down. The client then
 * disowns the session: whatever it still answers reaches no one — never the client's
 * next statement — and the client closes it once the node is up again (or forgets it
 * once the node restarted and the session died with it).
 */
#ifndef CAIRN_SIM_CLIENT_H
#define CAIRN_SIM_CLIENT_H

#include "base/buf.h"
#include "node/node.h"
#include "sim/sim.h"

enum sim_client_state {
	SIM_CLIENT_IDLE, /* nothing submitted, or the last text completed */
	SIM_CLIENT_BUSY, /* waiting for replies */
	SIM_CLIENT_LOST, /* the node crashed while the text was pending */
};

/* A session's way back to its client (client.c). */
struct sim_client_link;

struct sim_client {
	struct sim_world *world;
	uint32_t node;
	uint32_t incarnation;
	struct node_session *session;
	struct sim_client_link *link;     /* the session's, the context of its replies */
	struct sim_client_link *disowned; /* sessions let go of before they could be closed */
	uint32_t n_disowned;
	enum sim_client_state state;
	struct buf output;         /* rendered results of the last text, one per line */
	enum err_code first_error; /* code of the first failed statement of the last text */
	uint32_t results;
	uint64_t submitted_ms;
	uint64_t completed_ms;
};

void sim_client_init(struct sim_client *c, struct sim_world *world);

/*
 * Closes the client's sessions whose nodes are up. Only for a world that will not run
 * again, or that has no node paused: a disowned session left on a paused node would
 * answer into freed memory.
 */
void sim_client_free(struct sim_client *c);

/* Releases the client without touching its world (which is gone, with its sessions). */
void sim_client_forget(struct sim_client *c);

/*
 * Submits `sql` to node `node`. With `new_session` true, a session is opened there if the
 * client has none, or its node changed or restarted. With it false the text must go to
 * the client's existing session (the next statement of a transaction): if that session
 * died with its node, the result is ERR_UNAVAILABLE and nothing is submitted — a new
 * session would silently run the rest of the transaction outside it.
 * ERR_UNAVAILABLE also when the node is down or paused.
 */
err *sim_client_submit(struct sim_client *c, uint32_t node, const char *sql, bool new_session);

/* Updates the state: notices a crashed node. Returns the state. */
enum sim_client_state sim_client_poll(struct sim_client *c);

/*
 * Gives up on the pending text (an answer overdue, a node crashed): the session is closed,
 * or disowned if its node cannot close it now. The client is idle with no session.
 */
void sim_client_abandon(struct sim_client *c);

/* Renders one result as a line into out (rows one per line). */
err *sim_client_render(const struct sql_result *r, struct buf *out);

#endif
