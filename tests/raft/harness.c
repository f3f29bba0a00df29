#include "harness.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ---- */

static void h_fail(struct harness *h, const char *fmt, ...)
{
	if (h->failure[0])
		return;
	int n = snprintf(h->failure, sizeof h->failure,
	                 "seed %llu step %llu: ", (unsigned long long)h->seed,
	                 (unsigned long long)h->steps);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->failure + n, sizeof h->failure - (size_t)n, fmt, ap);
	va_end(ap);
}

static uint64_t h_hash_bytes(uint64_t hash, const void *bytes, size_t len)
{
	const uint8_t *p = bytes;
	for (size_t i = 0; i < len; i++)
		hash = (hash ^ p[i]) * 1099511628211ULL;
	return hash;
}

static uint64_t h_entry_hash(const struct raft_entry *e)
{
	uint64_t hash = 14695981039346656037ULL;
	uint64_t fields[4] = {e->term, e->type, e->origin, e->id};
	hash = h_hash_bytes(hash, fields, sizeof fields);
	return h_hash_bytes(hash, e->data, e->len);
}

static void *h_grow(void *ptr, uint64_t *cap, uint64_t need, size_t size)
{
	if (need <= *cap)
		return ptr;
	uint64_t c = *cap ? *cap : 64;
	while (c < need)
		c *= 2;
	uint8_t *p = realloc(ptr, c * size);
	assert(p != NULL);
	memset(p + *cap * size, 0, (c - *cap) * size);
	*cap = c;
	return p;
}

/* ---- the durable "disk" ---- */

static err *h_load(void *impl, uint64_t index, struct raft_entry *out)
{
	struct h_node *node = impl;
	if (index == 0 || index > node->log_len)
		return err_new(ERR_NOT_FOUND, "no entry %llu", (unsigned long long)index);
	node->loads++;
	*out = node->log[index - 1];
	uint8_t *copy = malloc(out->len ? out->len : 1);
	assert(copy != NULL);
	memcpy(copy, node->log[index - 1].data, out->len);
	out->data = copy;
	return NULL;
}

static void h_persist_entries(struct harness *h, struct h_node *node, const struct raft_ready *rd)
{
	if (rd->n_entries == 0)
		return;
	uint64_t first = rd->entries[0].index;
	if (first < 1 || first > node->log_len + 1) {
		h_fail(h, "n%u: ready entries start at %llu after a log of %llu", node->id,
		       (unsigned long long)first, (unsigned long long)node->log_len);
		return;
	}
	while (node->log_len >= first)
		free((void *)node->log[--node->log_len].data);
	node->log =
	    h_grow(node->log, &node->log_cap, node->log_len + rd->n_entries, sizeof *node->log);
	for (size_t i = 0; i < rd->n_entries; i++) {
		struct raft_entry e = rd->entries[i];
		uint8_t *copy = malloc(e.len ? e.len : 1);
		assert(copy != NULL);
		memcpy(copy, e.data, e.len);
		e.data = copy;
		if (e.index != node->log_len + 1)
			h_fail(h, "n%u: ready entry %llu out of order", node->id,
			       (unsigned long long)e.index);
		node->log[node->log_len++] = e;
	}
}

/* ---- checkers ---- */

/* The slot of (index, term) in the open-addressing pair table (empty slots have index 0). */
static struct h_pair *h_pair_slot(struct harness *h, uint64_t index, uint64_t term)
{
	uint64_t mask = h->pairs_cap - 1;
	uint64_t k = (index * 0x9E3779B97F4A7C15ULL ^ term * 0xC2B2AE3D27D4EB4FULL) & mask;
	while (h->pairs[k].index != 0 && (h->pairs[k].index != index || h->pairs[k].term != term))
		k = (k + 1) & mask;
	return &h->pairs[k];
}

static void h_pairs_grow(struct harness *h)
{
	if (h->pairs_cap != 0 && (h->n_pairs + 1) * 2 < h->pairs_cap)
		return;
	struct h_pair *old = h->pairs;
	uint64_t old_cap = h->pairs_cap;
	h->pairs_cap = old_cap ? old_cap * 2 : 1024;
	h->pairs = calloc(h->pairs_cap, sizeof *h->pairs);
	assert(h->pairs != NULL);
	for (uint64_t i = 0; i < old_cap; i++)
		if (old[i].index != 0)
			*h_pair_slot(h, old[i].index, old[i].term) = old[i];
	free(old);
}

/* Log Matching: (index, term) determines the entry and the term before it. */
static void h_check_pairs(struct harness *h, struct h_node *node, uint64_t from)
{
	for (uint64_t i = from; i <= node->log_len; i++) {
		const struct raft_entry *e = &node->log[i - 1];
		uint64_t prev_term = i > 1 ? node->log[i - 2].term : 0;
		uint64_t hash = h_entry_hash(e);
		h_pairs_grow(h);
		struct h_pair *p = h_pair_slot(h, i, e->term);
		if (p->index == 0) {
			*p = (struct h_pair){i, e->term, hash, prev_term};
			h->n_pairs++;
		} else if (p->hash != hash || p->prev_term != prev_term) {
			h_fail(h, "log matching: n%u entry %llu/%llu differs from another log",
			       node->id, (unsigned long long)i, (unsigned long long)e->term);
		}
	}
}

static void h_check_apply(struct harness *h, struct h_node *node, const struct raft_entry *e)
{
	if (e->index != node->applied + 1)
		h_fail(h, "n%u applied %llu after %llu", node->id, (unsigned long long)e->index,
		       (unsigned long long)node->applied);
	node->applied = e->index;
	h->applied = h_grow(h->applied, &h->applied_cap, e->index, sizeof *h->applied);
	struct h_applied *a = &h->applied[e->index - 1];
	uint64_t hash = h_entry_hash(e);
	if (a->term == 0) {
		a->term = e->term;
		a->hash = hash;
		if (e->index > h->max_applied)
			h->max_applied = e->index;
		if (e->index < h->dirty_from)
			h->dirty_from = e->index;
	} else if (a->term != e->term || a->hash != hash) {
		h_fail(h, "state machine safety: n%u applied a different entry at %llu", node->id,
		       (unsigned long long)e->index);
	}
}

/* Records that a leader of `term` committed up to `commit`. */
static void h_note_commit(struct harness *h, uint64_t commit, uint64_t term)
{
	h->applied = h_grow(h->applied, &h->applied_cap, commit, sizeof *h->applied);
	for (uint64_t i = commit; i >= 1; i--) {
		struct h_applied *a = &h->applied[i - 1];
		if (a->commit_term != 0 && a->commit_term <= term)
			break;
		if (a->commit_term == 0 || a->commit_term > term) {
			a->commit_term = term;
			if (i < h->dirty_from)
				h->dirty_from = i;
		}
	}
}

/* Election Safety and Leader Completeness for node id, if it leads. */
static void h_check_leader(struct harness *h, struct h_node *node)
{
	struct raft_status st;
	raft_status_get(node->raft, &st);
	if (st.role != RAFT_LEADER)
		return;
	h->leader_of_term =
	    h_grow(h->leader_of_term, &h->terms_cap, st.term + 1, sizeof *h->leader_of_term);
	uint32_t *who = &h->leader_of_term[st.term];
	if (*who != 0 && *who != node->id)
		h_fail(h, "election safety: n%u and n%u both lead term %llu", *who, node->id,
		       (unsigned long long)st.term);
	*who = node->id;
	h_note_commit(h, st.commit, st.term);
	uint64_t from = node->leader_term_seen == st.term ? h->dirty_from : 1;
	node->leader_term_seen = st.term;
	for (uint64_t i = from; i <= h->max_applied && i <= h->applied_cap; i++) {
		const struct h_applied *a = &h->applied[i - 1];
		if (a->term == 0 || a->commit_term == 0 || a->commit_term >= st.term)
			continue;
		uint64_t t = 0;
		err *e = raft_term_at(node->raft, i, &t);
		err_free(e);
		if (t != a->term)
			h_fail(h, "leader completeness: n%u (term %llu) lacks committed entry %llu",
			       node->id, (unsigned long long)st.term, (unsigned long long)i);
	}
}

/* ---- driving one node ---- */

static void h_queue(struct harness *h, uint32_t from, const struct raft_outgoing *m)
{
	if (h->cut[from][m->to] || h->n_net >= H_MAX_MSGS)
		return;
	uint8_t *copy = malloc(m->len);
	assert(copy != NULL);
	memcpy(copy, m->bytes, m->len);
	h->net[h->n_net++] = (struct h_msg){from, m->to, copy, m->len};
}

static void h_handle_ready(struct harness *h, struct h_node *node, const struct raft_ready *rd)
{
	uint64_t old_len = node->log_len;
	h_persist_entries(h, node, rd);
	if (rd->n_entries > 0) {
		uint64_t first = rd->entries[0].index;
		h_check_pairs(h, node, first < old_len + 1 ? first : old_len + 1);
	}
	if (rd->hard_state_changed)
		node->hs = rd->hard_state;
	for (size_t i = 0; i < rd->n_messages; i++)
		h_queue(h, node->id, &rd->messages[i]);
	for (size_t i = 0; i < rd->n_committed; i++)
		h_check_apply(h, node, &rd->committed[i]);
	for (size_t i = 0; i < rd->n_reads; i++) {
		const struct raft_read *r = &rd->reads[i];
		assert(r->id < H_MAX_RESULTS && node->n_reads < H_MAX_RESULTS);
		uint64_t floor = node->read_floor[r->id];
		if (r->index < floor)
			h_fail(h, "read index: n%u read %llu got %llu below applied %llu", node->id,
			       (unsigned long long)r->id, (unsigned long long)r->index,
			       (unsigned long long)floor);
		node->reads[node->n_reads++] = (struct h_read){r->id, r->index, floor};
	}
	for (size_t i = 0; i < rd->n_failures; i++) {
		assert(node->n_failures < H_MAX_RESULTS);
		node->failures[node->n_failures++] = rd->failures[i];
	}
}

void h_process(struct harness *h, uint32_t id)
{
	struct h_node *node = &h->nodes[id];
	if (!node->raft)
		return;
	for (int round = 0; round < 64 && raft_has_ready(node->raft); round++) {
		struct raft_ready rd;
		err *e = raft_ready_get(node->raft, &rd);
		if (e) {
			h_fail(h, "n%u ready: %s", id, err_msg(e));
			err_free(e);
			return;
		}
		h_handle_ready(h, node, &rd);
		e = raft_advance(node->raft);
		if (e) {
			h_fail(h, "n%u advance: %s", id, err_msg(e));
			err_free(e);
		}
	}
	h_check_leader(h, node);
	h->dirty_from = UINT64_MAX;
	h->steps++;
}

/* ---- setup ---- */

static void h_start(struct harness *h, uint32_t id)
{
	struct h_node *node = &h->nodes[id];
	assert(node->raft == NULL);
	uint64_t *terms = calloc(node->log_len + 1, sizeof *terms);
	assert(terms != NULL);
	for (uint64_t i = 0; i < node->log_len; i++)
		terms[i] = node->log[i].term;
	struct raft_initial init = {node->hs, terms, node->log_len, 0};
	struct raft_config c = h->config;
	c.id = id;
	struct raft_log_source src = {node, h_load};
	node->applied = 0;
	err *e = raft_new(&c, &init, &node->prng, src, &node->raft);
	free(terms);
	if (e) {
		h_fail(h, "n%u restart: %s", id, err_msg(e));
		err_free(e);
	}
}

void h_init(struct harness *h, uint32_t n, uint64_t seed, const struct raft_config *config)
{
	assert(n >= 1 && n <= RAFT_MAX_NODES);
	memset(h, 0, sizeof *h);
	h->n = n;
	h->seed = seed;
	h->config = *config;
	h->config.n_peers = n;
	for (uint32_t i = 0; i < n; i++)
		h->config.peers[i] = i + 1;
	h->dirty_from = UINT64_MAX;
	for (uint32_t id = 1; id <= n; id++) {
		h->nodes[id].id = id;
		prng_seed(&h->nodes[id].prng, prng_subseed(seed, "raft-node", id));
		h_start(h, id);
	}
}

void h_init_logs(struct harness *h, uint32_t n, uint64_t seed, const struct raft_config *config,
                 const uint64_t *const *terms, const uint64_t *lens, uint64_t term)
{
	h_init(h, n, seed, config);
	for (uint32_t id = 1; id <= n; id++) {
		struct h_node *node = &h->nodes[id];
		raft_free(node->raft);
		node->raft = NULL;
		node->hs = (struct raft_hard_state){term, 0, 0};
		node->log = h_grow(node->log, &node->log_cap, lens[id] + 1, sizeof *node->log);
		for (uint64_t i = 0; i < lens[id]; i++) {
			uint8_t *none = malloc(1);
			assert(none != NULL);
			node->log[i] = (struct raft_entry){.term = terms[id][i],
			                                   .index = i + 1,
			                                   .type = RAFT_ENTRY_NORMAL,
			                                   .id = (i + 1) * 1000 + terms[id][i],
			                                   .data = none};
		}
		node->log_len = lens[id];
		h_start(h, id);
	}
}

bool h_make_leader(struct harness *h, uint32_t id)
{
	uint32_t election = h->config.election_ticks;
	for (int attempt = 0; attempt < 10; attempt++) {
		h_drop_all(h);
		for (uint32_t other = 1; other <= h->n; other++)
			for (uint32_t t = 0; other != id && t < 2 * election; t++)
				h_tick(h, other);
		h_drop_all(h);
		for (uint32_t t = 0; t < 2 * election; t++) {
			h_tick(h, id);
			struct raft_status st = h_status(h, id);
			if (st.role == RAFT_PRE_CANDIDATE || st.role == RAFT_LEADER)
				break;
		}
		for (uint32_t i = 0; i < h->n_net;) {
			if (h->net[i].from != id && h->net[i].to != id)
				h_drop(h, i);
			else
				i++;
		}
		/* Stop at the moment it wins: what it sends as leader stays in the network. */
		for (int n = 0; n < 1000 && h->n_net > 0 && h_status(h, id).role != RAFT_LEADER;
		     n++)
			h_deliver(h, 0);
		if (h_status(h, id).role == RAFT_LEADER)
			return true;
	}
	return false;
}

static void h_free_node(struct h_node *node)
{
	raft_free(node->raft);
	node->raft = NULL;
	for (uint64_t i = 0; i < node->log_len; i++)
		free((void *)node->log[i].data);
	free(node->log);
}

void h_free(struct harness *h)
{
	for (uint32_t id = 1; id <= h->n; id++)
		h_free_node(&h->nodes[id]);
	h_drop_all(h);
	free(h->leader_of_term);
	free(h->applied);
	free(h->pairs);
}

/* ---- inputs ---- */

static void h_check_err(struct harness *h, uint32_t id, const char *what, err *e)
{
	if (!e)
		return;
	/* Refused input is fine (stale or hostile messages); internal errors are not. */
	if (err_is(e, ERR_INTERNAL) || err_is(e, ERR_NOMEM) || err_is(e, ERR_CORRUPT))
		h_fail(h, "n%u %s: %s", id, what, err_msg(e));
	err_free(e);
}

void h_tick(struct harness *h, uint32_t id)
{
	if (!h->nodes[id].raft)
		return;
	h_check_err(h, id, "tick", raft_tick(h->nodes[id].raft));
	h_process(h, id);
}

void h_tick_all(struct harness *h)
{
	for (uint32_t id = 1; id <= h->n; id++)
		h_tick(h, id);
}

static void h_remove(struct harness *h, uint32_t i)
{
	assert(i < h->n_net);
	memmove(&h->net[i], &h->net[i + 1], (h->n_net - i - 1) * sizeof h->net[0]);
	h->n_net--;
}

void h_deliver(struct harness *h, uint32_t i)
{
	assert(i < h->n_net);
	struct h_msg m = h->net[i];
	h_remove(h, i);
	struct h_node *node = &h->nodes[m.to];
	if (node->raft && !h->cut[m.from][m.to]) {
		h_check_err(h, m.to, "receive", raft_receive(node->raft, m.bytes, m.len));
		h_process(h, m.to);
	}
	free(m.bytes);
}

uint32_t h_deliver_all(struct harness *h, uint32_t max_msgs)
{
	uint32_t n = 0;
	while (h->n_net > 0 && n < max_msgs) {
		h_deliver(h, 0);
		n++;
	}
	return n;
}

void h_drop(struct harness *h, uint32_t i)
{
	assert(i < h->n_net);
	free(h->net[i].bytes);
	h_remove(h, i);
}

void h_duplicate(struct harness *h, uint32_t i)
{
	assert(i < h->n_net);
	struct h_msg m = h->net[i];
	struct raft_outgoing out = {m.to, m.bytes, m.len};
	h_queue(h, m.from, &out);
}

void h_drop_all(struct harness *h)
{
	while (h->n_net > 0)
		h_drop(h, h->n_net - 1);
}

void h_partition(struct harness *h, uint32_t group)
{
	for (uint32_t a = 1; a <= h->n; a++)
		for (uint32_t b = 1; b <= h->n; b++)
			if (((group >> a) & 1) != ((group >> b) & 1))
				h->cut[a][b] = true;
}

void h_cut(struct harness *h, uint32_t a, uint32_t b)
{
	h->cut[a][b] = h->cut[b][a] = true;
}

void h_heal(struct harness *h)
{
	memset(h->cut, 0, sizeof h->cut);
}

void h_crash(struct harness *h, uint32_t id)
{
	struct h_node *node = &h->nodes[id];
	raft_free(node->raft);
	node->raft = NULL;
	node->leader_term_seen = 0;
}

void h_restart(struct harness *h, uint32_t id)
{
	if (!h->nodes[id].raft)
		h_start(h, id);
	h_process(h, id);
}

void h_run(struct harness *h, uint32_t rounds)
{
	for (uint32_t r = 0; r < rounds; r++) {
		h_tick_all(h);
		h_deliver_all(h, 100000);
	}
}

struct raft_status h_status(const struct harness *h, uint32_t id)
{
	struct raft_status st;
	memset(&st, 0, sizeof st);
	if (h->nodes[id].raft)
		raft_status_get(h->nodes[id].raft, &st);
	return st;
}

uint32_t h_leader(const struct harness *h)
{
	uint32_t best = 0;
	uint64_t best_term = 0;
	for (uint32_t id = 1; id <= h->n; id++) {
		struct raft_status st = h_status(h, id);
		if (h->nodes[id].raft && st.role == RAFT_LEADER && st.term >= best_term) {
			best = id;
			best_term = st.term;
		}
	}
	return best;
}

uint32_t h_elect(struct harness *h, uint32_t max_rounds)
{
	for (uint32_t r = 0; r < max_rounds; r++) {
		uint32_t l = h_leader(h);
		if (l) {
			struct raft_status st = h_status(h, l);
			uint64_t t = h_log_term(h, l, st.commit);
			if (st.commit > 0 && t == st.term)
				return l;
		}
		h_run(h, 1);
	}
	return 0;
}

int h_propose(struct harness *h, uint32_t id, uint64_t pid, const char *text)
{
	struct h_node *node = &h->nodes[id];
	if (!node->raft)
		return ERR_UNAVAILABLE;
	err *e = raft_propose(node->raft, pid, text, strlen(text));
	int code = e ? (int)err_code(e) : 0;
	err_free(e);
	h_process(h, id);
	return code;
}

int h_read(struct harness *h, uint32_t id, uint64_t rid)
{
	struct h_node *node = &h->nodes[id];
	assert(rid < H_MAX_RESULTS);
	if (!node->raft)
		return ERR_UNAVAILABLE;
	node->read_floor[rid] = h->max_applied;
	err *e = raft_read_index(node->raft, rid);
	int code = e ? (int)err_code(e) : 0;
	err_free(e);
	h_process(h, id);
	return code;
}

bool h_applied_id(const struct harness *h, uint32_t id, uint32_t origin, uint64_t pid)
{
	const struct h_node *node = &h->nodes[id];
	for (uint64_t i = 0; i < node->applied && i < node->log_len; i++)
		if (node->log[i].origin == origin && node->log[i].id == pid &&
		    node->log[i].type == RAFT_ENTRY_NORMAL)
			return true;
	return false;
}

uint64_t h_read_result(const struct harness *h, uint32_t id, uint64_t rid)
{
	const struct h_node *node = &h->nodes[id];
	for (uint32_t i = 0; i < node->n_reads; i++)
		if (node->reads[i].id == rid)
			return node->reads[i].index;
	return 0;
}

uint8_t h_failure(const struct harness *h, uint32_t id, uint64_t rid)
{
	const struct h_node *node = &h->nodes[id];
	for (uint32_t i = 0; i < node->n_failures; i++)
		if (node->failures[i].id == rid)
			return node->failures[i].kind;
	return 0;
}

uint64_t h_log_term(const struct harness *h, uint32_t id, uint64_t index)
{
	const struct h_node *node = &h->nodes[id];
	if (index == 0 || index > node->log_len)
		return 0;
	return node->log[index - 1].term;
}
