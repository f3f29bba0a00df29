/*
 * harness.h — a deterministic in-process cluster of Raft state machines for tests.
 *
 * The harness plays every part the node and the world would: it persists each node's
 * ready batch to an in-memory "disk" (hard state and log, kept across crashes), holds the
 * messages in flight in one network pool that tests deliver, drop, duplicate and reorder
 * by hand, cuts links for partitions, advances ticks, and crashes and restarts nodes from
 * their durable state.
 *
 * After every batch it checks the safety properties of Raft (§5.4, Figure 3):
 *   - Election Safety: at most one leader per term;
 *   - Log Matching: an (index, term) pair names one entry, with one predecessor term;
 *   - Leader Completeness: a leader holds every entry committed in an earlier term;
 *   - State Machine Safety: no two nodes apply different entries at one index;
 *   - ReadIndex: a read point is never older than an entry applied anywhere before the
 *     read was asked.
 * A violation is recorded in `failure` (first one wins); tests assert it stays empty.
 */
#ifndef CAIRN_TESTS_RAFT_HARNESS_H
#define CAIRN_TESTS_RAFT_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "raft/raft.h"

#define H_MAX_MSGS 2048
#define H_MAX_RESULTS 512

struct h_msg {
	uint32_t from;
	uint32_t to;
	uint8_t *bytes;
	size_t len;
};

struct h_read {
	uint64_t id;
	uint64_t index;
	uint64_t floor; /* highest index applied anywhere when the read was asked */
};

struct h_node {
	uint32_t id;
	struct raft *raft; /* NULL while crashed */
	struct prng prng;
	/* The durable state. */
	struct raft_hard_state hs;
	struct raft_entry *log; /* log[i] is entry i+1; payloads owned */
	uint64_t log_len;
	uint64_t log_cap;
	uint64_t loads; /* entries raft read back from this "disk" (cache misses) */
	/* The applied state. */
	uint64_t applied;
	/* Request bookkeeping. */
	uint64_t read_floor[H_MAX_RESULTS]; /* by read id */
	struct h_read reads[H_MAX_RESULTS];
	uint32_t n_reads;
	struct raft_failure failures[H_MAX_RESULTS];
	uint32_t n_failures;
	uint64_t leader_term_seen; /* the last term we checked this node as leader */
};

struct h_applied {
	uint64_t term;
	uint64_t hash;
	uint64_t commit_term; /* lowest leader term seen committing it */
};

struct h_pair {
	uint64_t index;
	uint64_t term;
	uint64_t hash;
	uint64_t prev_term;
};

struct harness {
	uint32_t n;
	struct h_node nodes[RAFT_MAX_NODES + 1]; /* by id, 1..n */
	struct raft_config config;               /* template; id filled per node */
	struct h_msg net[H_MAX_MSGS];
	uint32_t n_net;
	bool cut[RAFT_MAX_NODES + 1][RAFT_MAX_NODES + 1]; /* cut[from][to] */
	uint64_t seed;
	/* Checker state. */
	uint32_t *leader_of_term; /* by term */
	uint64_t terms_cap;
	struct h_applied *applied; /* by index - 1 */
	uint64_t applied_cap;
	uint64_t max_applied;
	uint64_t dirty_from; /* lowest applied record changed since the last leader check */
	struct h_pair *pairs;
	uint64_t n_pairs;
	uint64_t pairs_cap;
	uint64_t steps;
	char failure[512];
};

/* Builds n nodes (ids 1..n) from `config` (its id and peers are filled in). */
void h_init(struct harness *h, uint32_t n, uint64_t seed, const struct raft_config *config);
void h_free(struct harness *h);

/*
 * Like h_init, but node id starts from a durable log whose entry i has term
 * terms[id][i - 1] (lens[id] entries) and a hard state of `term`. Entry contents are a
 * function of (index, term), as Log Matching requires of any real history.
 */
void h_init_logs(struct harness *h, uint32_t n, uint64_t seed, const struct raft_config *config,
                 const uint64_t *const *terms, const uint64_t *lens, uint64_t term);

/*
 * Makes node id the leader of a new term: expires every other node's lease with messages
 * dropped, lets id campaign, and delivers only its traffic until it wins. Returns true if
 * it won.
 */
bool h_make_leader(struct harness *h, uint32_t id);

/* Handles node id's ready batches until it has none. */
void h_process(struct harness *h, uint32_t id);

void h_tick(struct harness *h, uint32_t id);
/* One tick on every running node. */
void h_tick_all(struct harness *h);

/* Delivers message i of the pool (removing it); messages to a crashed node vanish. */
void h_deliver(struct harness *h, uint32_t i);
/* Delivers until the pool is empty, at most max_msgs messages; returns how many. */
uint32_t h_deliver_all(struct harness *h, uint32_t max_msgs);
void h_drop(struct harness *h, uint32_t i);
void h_duplicate(struct harness *h, uint32_t i);
void h_drop_all(struct harness *h);

/* Cuts every link between nodes in `group` (a bit per id) and nodes outside it. */
void h_partition(struct harness *h, uint32_t group);
/* Cuts both links between a and b. */
void h_cut(struct harness *h, uint32_t a, uint32_t b);
void h_heal(struct harness *h);

void h_crash(struct harness *h, uint32_t id);
void h_restart(struct harness *h, uint32_t id);

/* Ticks all and delivers everything, `rounds` times. */
void h_run(struct harness *h, uint32_t rounds);

/* The running leader of the highest term, or 0. */
uint32_t h_leader(const struct harness *h);
/* Runs until some node is leader and has committed an entry of its term; returns it. */
uint32_t h_elect(struct harness *h, uint32_t max_rounds);

struct raft_status h_status(const struct harness *h, uint32_t id);

/* Proposes on node id; returns raft_propose's error code (0 for success). */
int h_propose(struct harness *h, uint32_t id, uint64_t pid, const char *text);
int h_read(struct harness *h, uint32_t id, uint64_t rid);

/* True if node id applied an entry proposed by origin with this id. */
bool h_applied_id(const struct harness *h, uint32_t id, uint32_t origin, uint64_t pid);
/* The index of the result for read rid on node id, or 0 if none (yet). */
uint64_t h_read_result(const struct harness *h, uint32_t id, uint64_t rid);
/* The failure kind reported for request rid on node id, or 0. */
uint8_t h_failure(const struct harness *h, uint32_t id, uint64_t rid);

/* The term of entry index in id's durable log (0 beyond it). */
uint64_t h_log_term(const struct harness *h, uint32_t id, uint64_t index);

#endif
