/*
 * raft_fixture.h — one Raft state machine driven by hand-made messages, for unit tests
 * that check a single rule precisely (the harness in harness.h drives whole clusters).
 */
#ifndef CAIRN_TESTS_RAFT_FIXTURE_H
#define CAIRN_TESTS_RAFT_FIXTURE_H

#include "raft/message.h"
#include "raft/raft.h"

#define FIX_MAX_OUT 256
/* Entries the fixture's log holds at most. */
#define FIX_MAX_LOG 128

struct fixture {
	struct raft *raft;
	struct prng prng;
	uint64_t terms[FIX_MAX_LOG]; /* the durable log's terms; payloads are empty */
	uint64_t n_terms;
	/* Messages from the last fix_drain(), decoded. */
	struct raft_message out[FIX_MAX_OUT];
	uint8_t *out_bytes[FIX_MAX_OUT];
	bool out_early[FIX_MAX_OUT]; /* before_persist: may leave before the batch is durable */
	uint32_t n_out;
	/*
	 * Batches that may (raft_ready_changes_vote() false) end with raft_advance_unsynced():
	 * their entries stay unsynced until the test calls raft_synced().
	 */
	bool sync_in_background;
	uint64_t entries_handed; /* entries handed out by the last fix_drain() */
	uint64_t reads_handed;   /* read points handed out by the last fix_drain() */
};

/* Node `id` of peers 1..n, starting from a log with the given terms and hard state. */
void fix_init(struct fixture *f, uint32_t id, uint32_t n, const uint64_t *terms, uint64_t n_terms,
              struct raft_hard_state hs);
/* As fix_init, with read leases of `lease_ms` (raft_config.lease_ms). */
void fix_init_lease(struct fixture *f, uint32_t id, uint32_t n, const uint64_t *terms,
                    uint64_t n_terms, struct raft_hard_state hs, uint32_t lease_ms);
/* As fix_init, with a configuration of the test's own; its peers must be 1..n_peers. */
void fix_init_config(struct fixture *f, const struct raft_config *c, const uint64_t *terms,
                     uint64_t n_terms, struct raft_hard_state hs);
void fix_free(struct fixture *f);

/* Handles every ready batch (persisting nothing, keeping the messages) until none. */
void fix_drain(struct fixture *f);

/* Proposes a one-byte command under proposal id `id` (it must be accepted), then drains. */
void fix_propose(struct fixture *f, uint64_t id);

/* Encodes m and feeds it to the node; returns raft_receive's error code (0 if none). */
int fix_step(struct fixture *f, struct raft_message m);

/* Node `from` acknowledges the node's appends up to `index` in its current term. */
void fix_ack_append(struct fixture *f, uint32_t from, uint64_t index);

/* Whether drained message `m` (from fix_find) was marked to leave before persisting. */
bool fix_early(const struct fixture *f, const struct raft_message *m);

/* The first drained message of `type` to `to` (0: anyone), or NULL. */
const struct raft_message *fix_find(const struct fixture *f, uint8_t type, uint32_t to);

/* Makes the node leader of term r.term + 1 with votes from nodes 2 and 3. */
void fix_make_leader(struct fixture *f);

struct raft_status fix_status(const struct fixture *f);

#endif
