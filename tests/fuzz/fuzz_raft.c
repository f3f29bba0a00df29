/*
 * fuzz_raft.c — one Raft node (node 1 of three) driven by any sequence of inputs
 * (fuzz.h): ticks, clock steps, proposals, read requests, and messages from its peers
 * whose fields come from the input, so they decode but may contradict the protocol.
 *
 * Input: a sequence of operations, one byte each (its value modulo 5 picks it), a message
 * followed by ten bytes for its fields and one per entry (the entry's term). The first
 * byte's low bit also turns read leases on.
 *
 * Properties, beyond the sanitizers' and the assertions' (no invariant may be reachable
 * from a peer's message): every input is either stepped or refused with an error naming
 * its reason; the term and the commit index never go back; the commit index never passes
 * the log; every ready batch hands out entries in order, as the log holds them.
 */
#include <string.h>

#include "base/prng.h"
#include "fuzz.h"
#include "raft/message.h"
#include "raft/raft.h"

/* Entries the node's log may hold; an input that grows it further ends early. */
#define FUZZ_RAFT_LOG_MAX 4096
#define FUZZ_RAFT_DRAIN_ROUNDS 16
#define FUZZ_RAFT_MESSAGE_BYTES 10
#define FUZZ_RAFT_ENTRIES_MAX 3

enum fuzz_raft_op {
	FUZZ_RAFT_TICK,
	FUZZ_RAFT_PROPOSE,
	FUZZ_RAFT_READ,
	FUZZ_RAFT_CLOCK,
	FUZZ_RAFT_MESSAGE,
	FUZZ_RAFT_OPS,
};

/* The durable log: the terms of the persisted entries (payloads are not needed). */
struct fuzz_raft_log {
	uint64_t terms[FUZZ_RAFT_LOG_MAX];
	uint64_t last;
};

static err *fuzz_raft_load(void *impl, uint64_t index, struct raft_entry *out)
{
	const struct fuzz_raft_log *log = impl;
	if (index == 0 || index > log->last)
		return err_new(ERR_NOT_FOUND, "no entry %llu", (unsigned long long)index);
	*out = (struct raft_entry){.term = log->terms[index - 1],
	                           .index = index,
	                           .type = RAFT_ENTRY_NORMAL,
	                           .data = malloc(1)};
	FUZZ_REQUIRE(out->data != NULL);
	return NULL;
}

/* Persists and acknowledges every ready batch; false if the log would outgrow its bound. */
static bool fuzz_raft_drain(struct raft *r, struct fuzz_raft_log *log)
{
	for (int round = 0; round < FUZZ_RAFT_DRAIN_ROUNDS && raft_has_ready(r); round++) {
		struct raft_ready rd;
		FUZZ_REQUIRE(raft_ready_get(r, &rd) == NULL);
		for (size_t i = 0; i < rd.n_entries; i++) {
			uint64_t index = rd.entries[i].index;
			FUZZ_REQUIRE(index >= 1 && index <= log->last + 1);
			FUZZ_REQUIRE(i == 0 || index == rd.entries[i - 1].index + 1);
			if (index > FUZZ_RAFT_LOG_MAX)
				return false;
			log->terms[index - 1] = rd.entries[i].term;
			log->last = index;
		}
		for (size_t i = 1; i < rd.n_committed; i++)
			FUZZ_REQUIRE(rd.committed[i].index == rd.committed[i - 1].index + 1);
		err *e = raft_advance(r);
		FUZZ_REQUIRE(e == NULL);
	}
	return true;
}

/* Builds the message the next FUZZ_RAFT_MESSAGE_BYTES (and entry) bytes describe. */
static size_t fuzz_raft_message(const uint8_t *d, size_t n, struct raft_message *m,
                                struct raft_entry *entries)
{
	static const uint8_t payload[] = {1, 2, 3, 4};
	*m = (struct raft_message){
	    .type = (uint8_t)(1 + d[0] % RAFT_MSG_TYPE_MAX),
	    .term = d[1] % 8,
	    .from = 1 + d[2] % 4, /* node 4 is no member */
	    .to = 1,
	    .index = d[3] % 16,
	    .log_term = d[4] % 8,
	    .commit = d[5] % 20,
	    .reject = (d[6] & 1) != 0,
	    .hint_index = d[6] % 16,
	    .hint_term = d[7] % 8,
	    .ctx = d[8] % 4,
	    .n_entries = d[9] % (FUZZ_RAFT_ENTRIES_MAX + 1),
	};
	size_t used = FUZZ_RAFT_MESSAGE_BYTES;
	for (size_t i = 0; i < m->n_entries; i++) {
		uint8_t term = used < n ? d[used++] : 1;
		entries[i] = (struct raft_entry){.term = term % 8,
		                                 .type = RAFT_ENTRY_NORMAL,
		                                 .origin = 2,
		                                 .id = i + 1,
		                                 .data = payload,
		                                 .len = sizeof payload};
	}
	m->entries = m->n_entries > 0 ? entries : NULL;
	return used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_raft_log log;
	log.last = 0;
	static const uint32_t peers[] = {1, 2, 3};
	struct raft_config config;
	raft_config_default(&config, 1, peers, 3);
	config.lease_ms = size > 0 && (data[0] & 1) ? 100 : 0;
	struct prng prng;
	prng_seed(&prng, 7);
	struct raft_initial initial = {.terms = log.terms};
	struct raft *r;
	FUZZ_REQUIRE(raft_new(&config, &initial, &prng,
	                      (struct raft_log_source){&log, fuzz_raft_load}, &r) == NULL);
	struct buf encoded;
	buf_init(&encoded, (size_t)1 << 20);
	uint64_t now_ms = 0, term = 0, commit = 0, request = 0;
	size_t at = 0;
	while (at < size) {
		enum fuzz_raft_op op = (enum fuzz_raft_op)(data[at++] % FUZZ_RAFT_OPS);
		static const uint8_t command[] = {7};
		err *e = NULL;
		switch (op) {
		case FUZZ_RAFT_TICK: e = raft_tick(r); break;
		case FUZZ_RAFT_PROPOSE:
			e = raft_propose(r, ++request, command, sizeof command);
			break;
		case FUZZ_RAFT_READ: e = raft_read_index(r, ++request); break;
		case FUZZ_RAFT_CLOCK:
			now_ms += 10;
			raft_clock(r, now_ms);
			break;
		case FUZZ_RAFT_MESSAGE: {
			if (size - at < FUZZ_RAFT_MESSAGE_BYTES) {
				at = size;
				break;
			}
			struct raft_message m;
			struct raft_entry entries[FUZZ_RAFT_ENTRIES_MAX];
			at += fuzz_raft_message(data + at, size - at, &m, entries);
			buf_clear(&encoded);
			FUZZ_REQUIRE(raft_message_encode(&m, &encoded) == NULL);
			e = raft_receive(r, encoded.data, encoded.len);
			break;
		}
		case FUZZ_RAFT_OPS: break;
		}
		if (e) {
			FUZZ_REQUIRE(err_code(e) != ERR_INTERNAL && err_msg(e)[0] != '\0');
			err_free(e);
		}
		if (!fuzz_raft_drain(r, &log))
			break;
		struct raft_status st;
		raft_status_get(r, &st);
		FUZZ_REQUIRE(st.term >= term && st.commit >= commit && st.commit <= st.last_index);
		term = st.term;
		commit = st.commit;
	}
	buf_free(&encoded);
	raft_free(r);
	return 0;
}

/* Op bytes: 0 tick, 1 propose, 2 read, 3 clock, 4 message (then its ten field bytes). */
static const uint8_t fuzz_raft_elected[] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 4, 7, 1, 1, 0, 0, 0, 0, 0, 0, 0, /* a granted pre-vote from node 2 */
    0, 4, 5, 1, 1, 0, 0, 0, 0, 0, 0, 0,                /* a granted vote from node 2 */
    1, 1, 2, 4, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,          /* proposals, then node 2 acknowledges */
};
static const uint8_t fuzz_raft_follower[] = {
    4, 0, 2, 1, 0, 0, 0, 0, 0, 0, 2, 1, 1,          /* node 2, leader of term 2: entries 1 and 2 */
    4, 2, 2, 1, 2, 1, 2, 0, 0, 0, 0,                /* a heartbeat with commit index 2 */
    1, 2, 3, 0, 0, 4, 0, 3, 1, 2, 2, 5, 0, 0, 1, 2, /* requests, ticks, a term 3 append */
};

void fuzz_seeds(fuzz_add_fn *add, void *ctx)
{
	add(ctx, fuzz_raft_elected, sizeof fuzz_raft_elected);
	add(ctx, fuzz_raft_follower, sizeof fuzz_raft_follower);
}

/* Starts of a message of each type in term 1, a burst of proposals, an election's ticks. */
const char *const fuzz_tokens[] = {
    "\x04\x0c\x01",
    "\x04\x01\x01",
    "\x04\x02\x01",
    "\x04\x03\x01",
    "\x04\x04\x01",
    "\x04\x05\x01",
    "\x04\x06\x01",
    "\x04\x07\x01",
    "\x04\x08\x01",
    "\x04\x09\x01",
    "\x04\x0a\x01",
    "\x04\x0b\x01",
    "\x01\x01\x01\x01",
    "\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05",
    NULL,
};
