#include "raft_fixture.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static err *fix_load(void *impl, uint64_t index, struct raft_entry *out)
{
	struct fixture *f = impl;
	if (index == 0 || index > f->n_terms)
		return err_new(ERR_NOT_FOUND, "no entry %llu", (unsigned long long)index);
	*out = (struct raft_entry){.term = f->terms[index - 1],
	                           .index = index,
	                           .type = RAFT_ENTRY_NORMAL,
	                           .data = malloc(1)};
	return NULL;
}

static void fix_clear(struct fixture *f)
{
	for (uint32_t i = 0; i < f->n_out; i++) {
		raft_message_free(&f->out[i]);
		free(f->out_bytes[i]);
	}
	f->n_out = 0;
}

void fix_init(struct fixture *f, uint32_t id, uint32_t n, const uint64_t *terms, uint64_t n_terms,
              struct raft_hard_state hs)
{
	fix_init_lease(f, id, n, terms, n_terms, hs, 0);
}

void fix_init_lease(struct fixture *f, uint32_t id, uint32_t n, const uint64_t *terms,
                    uint64_t n_terms, struct raft_hard_state hs, uint32_t lease_ms)
{
	uint32_t peers[RAFT_MAX_NODES];
	for (uint32_t i = 0; i < n; i++)
		peers[i] = i + 1;
	struct raft_config c;
	raft_config_default(&c, id, peers, n);
	c.lease_ms = lease_ms;
	fix_init_config(f, &c, terms, n_terms, hs);
}

void fix_init_config(struct fixture *f, const struct raft_config *c, const uint64_t *terms,
                     uint64_t n_terms, struct raft_hard_state hs)
{
	assert(n_terms <= FIX_MAX_LOG);
	memset(f, 0, sizeof *f);
	if (n_terms > 0)
		memcpy(f->terms, terms, n_terms * sizeof *terms);
	f->n_terms = n_terms;
	prng_seed(&f->prng, 42);
	struct raft_initial init = {hs, f->terms, n_terms, 0};
	err *e = raft_new(c, &init, &f->prng, (struct raft_log_source){f, fix_load}, &f->raft);
	assert(e == NULL);
	(void)e;
}

void fix_free(struct fixture *f)
{
	fix_clear(f);
	raft_free(f->raft);
}

void fix_drain(struct fixture *f)
{
	fix_clear(f);
	f->entries_handed = 0;
	f->reads_handed = 0;
	for (int round = 0; round < 16 && raft_has_ready(f->raft); round++) {
		bool unsynced = f->sync_in_background && !raft_ready_changes_vote(f->raft);
		struct raft_ready rd;
		err *e = raft_ready_get(f->raft, &rd);
		f->entries_handed += rd.n_entries;
		f->reads_handed += rd.n_reads;
		assert(e == NULL);
		for (size_t i = 0; i < rd.n_entries; i++) {
			uint64_t idx = rd.entries[i].index;
			assert(idx >= 1 && idx <= FIX_MAX_LOG);
			f->terms[idx - 1] = rd.entries[i].term;
			f->n_terms = idx;
		}
		for (size_t i = 0; i < rd.n_messages && f->n_out < FIX_MAX_OUT; i++) {
			uint8_t *copy = malloc(rd.messages[i].len);
			assert(copy != NULL);
			memcpy(copy, rd.messages[i].bytes, rd.messages[i].len);
			e = raft_message_decode(copy, rd.messages[i].len, &f->out[f->n_out]);
			assert(e == NULL);
			f->out_early[f->n_out] = rd.messages[i].before_persist;
			f->out_bytes[f->n_out++] = copy;
		}
		e = unsynced && rd.n_entries > 0 ? raft_advance_unsynced(f->raft)
		                                 : raft_advance(f->raft);
		assert(e == NULL);
		(void)e;
	}
}

bool fix_early(const struct fixture *f, const struct raft_message *m)
{
	assert(m >= f->out && m < f->out + f->n_out);
	return f->out_early[m - f->out];
}

int fix_step(struct fixture *f, struct raft_message m)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	err *e = raft_message_encode(&m, &b);
	assert(e == NULL);
	e = raft_receive(f->raft, b.data, b.len);
	buf_free(&b);
	int code = e ? (int)err_code(e) : 0;
	err_free(e);
	fix_drain(f);
	return code;
}

void fix_propose(struct fixture *f, uint64_t id)
{
	err *e = raft_propose(f->raft, id, "x", 1);
	assert(e == NULL);
	(void)e;
	fix_drain(f);
}

void fix_ack_append(struct fixture *f, uint32_t from, uint64_t index)
{
	fix_step(f, (struct raft_message){.type = RAFT_MSG_APPEND_RESP,
	                                  .from = from,
	                                  .to = fix_status(f).id,
	                                  .term = fix_status(f).term,
	                                  .index = index});
}

const struct raft_message *fix_find(const struct fixture *f, uint8_t type, uint32_t to)
{
	for (uint32_t i = 0; i < f->n_out; i++)
		if (f->out[i].type == type && (to == 0 || f->out[i].to == to))
			return &f->out[i];
	return NULL;
}

struct raft_status fix_status(const struct fixture *f)
{
	struct raft_status st;
	raft_status_get(f->raft, &st);
	return st;
}

void fix_make_leader(struct fixture *f)
{
	fix_drain(f);
	for (int t = 0; t < 64 && fix_status(f).role != RAFT_PRE_CANDIDATE; t++) {
		err *e = raft_tick(f->raft);
		assert(e == NULL);
		(void)e;
		fix_drain(f);
	}
	uint32_t me = fix_status(f).id;
	uint64_t term = fix_status(f).term;
	for (uint32_t from = 2; from <= 3; from++)
		fix_step(f, (struct raft_message){.type = RAFT_MSG_PRE_VOTE_RESP,
		                                  .from = from == me ? 1 : from,
		                                  .to = me,
		                                  .term = term + 1});
	for (uint32_t from = 2; from <= 3; from++)
		fix_step(f, (struct raft_message){.type = RAFT_MSG_VOTE_RESP,
		                                  .from = from == me ? 1 : from,
		                                  .to = me,
		                                  .term = term + 1});
	assert(fix_status(f).role == RAFT_LEADER);
}
